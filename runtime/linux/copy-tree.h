/* A copy of a directory's contents into another directory, by fd: the
 * tmpcopyup mount extension (runc's) fills a new tmpfs with what the image
 * had at its mount point. */
#ifndef HUSK_LINUX_COPY_TREE_H
#define HUSK_LINUX_COPY_TREE_H

#include "common/error.h"

/* The deepest directory nesting copied; deeper trees fail. */
#define COPY_TREE_MAX_DEPTH 128

/* Copy everything under the directory srcdir into dstdir (both open
 * directory fds; srcdir may be O_PATH): directories, regular files (hard
 * links kept), symlinks (copied as links, never followed), fifos and device
 * nodes, with owners, modes, timestamps and extended attributes. Every
 * entry is opened one component at a time beneath its parent's fd, without
 * following symlinks, so nothing outside srcdir is read whatever the tree
 * holds. what names the copy in errors ("mounts[2]: tmpcopyup /run"). */
int copy_tree(int srcdir, int dstdir, const char *what, struct husk_error *err);

#endif
