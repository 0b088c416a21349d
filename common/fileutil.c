#include "common/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_fd_all(int fd, const char *what, size_t max, char **out, size_t *len,
		struct husk_error *err)
{
	size_t cap = 8192, used = 0;
	char *buf = malloc(cap + 1);

	if (buf == NULL)
		return err_sys(err, ENOMEM, "%s", what);
	for (;;) {
		if (used == cap) {
			if (cap > max) {
				free(buf);
				return err_set(err, EFBIG, "%s: file is too large (the limit is %zu bytes)", what, max);
			}
			cap *= 2;
			char *grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				free(buf);
				return err_sys(err, ENOMEM, "%s", what);
			}
			buf = grown;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return err_sys(err, e, "%s: read", what);
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			free(buf);
			return err_set(err, EFBIG, "%s: file is too large (the limit is %zu bytes)", what, max);
		}
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
		 struct husk_error *err)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return err_sys(err, e, "%s: stat", path);
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		close(fd);
		return err_set(err, EFBIG, "%s: file is too large (%lld bytes, the limit is %zu)", path,
			       (long long)st.st_size, max);
	}
	int r = read_fd_all(fd, path, max, out, len, err);
	close(fd);
	return r;
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      struct husk_error *err)
{
	char tmp[4096];
	int r;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp.%d", name, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "%s: name too long", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_sys(err, errno, "%s: create", tmp);
	/* atomic, not durable: no fsync. Readers never see a partial file;
	 * runtime state lives on /run, gone after a crash anyway, and the
	 * image store checks what it reads by digest. */
	r = write_all(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return err_sys(err, -r, "%s: write", name);
	}
	return 0;
}
