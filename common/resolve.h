/* Paths inside a root directory (a container rootfs, an image bundle),
 * resolved by the kernel with openat2(RESOLVE_IN_ROOT): symlinks and ".."
 * can never lead outside the root, whatever the tree holds. */
#ifndef HUSK_RESOLVE_H
#define HUSK_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* openat2 under rootfd with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS.
 * Returns the fd or -errno (no error message: callers decide). */
int resolve_openat(int rootfd, const char *path, int flags, mode_t mode);

/* Open path as an O_PATH directory fd, creating missing components one by
 * one with mkdirat (mode) under rootfd. what names the path in errors. */
int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, int *out, struct husk_error *err);

/* Open path as an O_PATH fd, creating it when missing: a directory when
 * want_dir, else an empty regular file (parents created as directories). */
int resolve_create(int rootfd, const char *path, bool want_dir, mode_t mode, int *out,
		   struct husk_error *err);

/* Split path into its parent (opened O_PATH|O_DIRECTORY under rootfd,
 * parents created when create_parents) and its last component (a pointer
 * into a buffer the caller supplies). */
int resolve_parent(int rootfd, const char *path, bool create_parents, int *parent_fd, char *name,
		   size_t name_size, struct husk_error *err);

#endif
