/* Path resolution confined to a root directory. Every lookup of a path
 * inside a container rootfs goes through here: openat2(2) with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS relative to a dirfd on the root,
 * so "..", absolute symlinks and symlinks planted by a previous writer
 * resolve as if the root were "/" and can never leave it. Missing
 * directories are created one component at a time with mkdirat on an fd
 * that was itself resolved inside the root. */
#ifndef HUSK_RESOLVE_H
#define HUSK_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Open path (relative or absolute; both mean "inside root") with the given
 * open(2) flags, O_CLOEXEC added. Returns the fd or -errno; err may be NULL
 * when the caller only wants the errno. */
int resolve_in_root(int rootfd, const char *path, int flags, struct husk_error *err);

/* The same, failing with -ELOOP when any component of path is a symlink:
 * for a path recorded earlier, which must still name what it named then. */
int resolve_in_root_nosymlinks(int rootfd, const char *path, int flags, struct husk_error *err);

/* Make sure path is a directory inside root, creating missing components
 * with mode (before umask). Returns an O_PATH directory fd or -errno. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode, struct husk_error *err);

/* Split path into its parent directory and last component, resolve the
 * parent inside root (creating it when create is set) and return an O_PATH
 * fd on it. *base points into a malloc'd copy the caller frees with
 * free(*base_alloc). The last component is never followed: the caller acts
 * on it with *at() calls and AT_SYMLINK_NOFOLLOW / O_NOFOLLOW. Fails with
 * -EINVAL when the path has no last component ("/", "", "a/.."). */
int open_parent_in_root(int rootfd, const char *path, bool create, char **base_alloc,
			const char **base, struct husk_error *err);

/* An O_PATH fd on path, created when missing: a directory when dir is
 * set, else an empty regular file of mode (parents made as directories). */
int create_in_root(int rootfd, const char *path, bool dir, mode_t mode, struct husk_error *err);

#endif
