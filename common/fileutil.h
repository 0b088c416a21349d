/* Small safe file helpers shared by husk and husk-image. */
#ifndef HUSK_FILEUTIL_H
#define HUSK_FILEUTIL_H

#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"

/* cleanup helpers: __attribute__((cleanup(...))) */
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Read a whole regular file relative to dirfd (AT_FDCWD for cwd) into a
 * NUL-terminated buffer, refusing files larger than max bytes. */
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
		 struct husk_error *err);
/* One read of a small kernel file (cgroupfs, resctrl) at dirfd/name
 * (AT_FDCWD: a path) into buf, NUL-terminated; open_flags adds to
 * O_RDONLY | O_CLOEXEC (O_NOFOLLOW, say). 0 or -errno. */
int read_small_at(int dirfd, const char *name, int open_flags, char *buf, size_t size);
/* Read an open fd to the end (same cap). */
int read_fd_all(int fd, const char *what, size_t max, char **out, size_t *len,
		struct husk_error *err);
/* Write data to dirfd/name through a temp file + rename (atomic, no fsync). */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      struct husk_error *err);
/* write(2) until done; -errno on failure. */
int write_all(int fd, const void *data, size_t len);

/* Remove name (a file, or a directory with everything under it) from
 * dirfd without following symlinks; a missing name is not an error. It
 * works at any depth with two fds open at a time (it climbs back through
 * "..", checked against the directory it came from), and it never crosses
 * a mount point: a filesystem mounted anywhere below name fails it with
 * EXDEV, naming the mount point, and nothing of that filesystem is
 * touched. what names name in messages (e.g. "BUNDLE/rootfs"). */
int remove_tree_at(int dirfd, const char *name, const char *what, struct husk_error *err);
/* The same, for callers that only want -errno. */
int remove_all_at(int dirfd, const char *name);

#endif
