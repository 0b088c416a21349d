#include "common/fileutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/strbuf.h"

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

int read_small_at(int dirfd, const char *name, int open_flags, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | open_flags);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
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

/* ---- the recursive remover ---- */

/* The mount a file is on: its mount id, or (before Linux 5.8) its device
 * with the top bit set so the two kinds never compare equal by chance. */
static int mount_of(int fd, uint64_t *id)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
		return -errno;
	if (sx.stx_mask & STATX_MNT_ID)
		*id = sx.stx_mnt_id;
	else
		*id = (1ull << 63) | makedev(sx.stx_dev_major, sx.stx_dev_minor);
	return 0;
}

/* One directory on the way down: who it is (to check the climb back
 * through ".."), where its name starts in the path, and its
 * subdirectories still to remove. No fd is kept per level. */
struct rm_level {
	dev_t dev;
	ino_t ino;
	size_t name_at; /* its name is path.buf + name_at (0: the top) */
	char **subdirs;
	size_t nsub, capsub, next;
};

static void rm_level_free(struct rm_level *l)
{
	for (size_t i = 0; i < l->nsub; i++)
		free(l->subdirs[i]);
	free(l->subdirs);
}

static int rm_add_subdir(struct rm_level *l, const char *name)
{
	if (l->nsub == l->capsub) {
		size_t cap = l->capsub ? 2 * l->capsub : 8;
		char **grown = realloc(l->subdirs, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		l->subdirs = grown;
		l->capsub = cap;
	}
	if ((l->subdirs[l->nsub] = strdup(name)) == NULL)
		return -ENOMEM;
	l->nsub++;
	return 0;
}

/* Unlink everything in the directory fd that is not a directory and list
 * its subdirectories in l. path names fd in messages. */
static int rm_scan(int fd, struct rm_level *l, const char *path, struct husk_error *err)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return err_sys(err, e, "remove %s: read the directory", path);
	}
	bool made_writable = false;
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (de->d_type == DT_DIR) {
			if (rm_add_subdir(l, n) < 0)
				r = err_sys(err, ENOMEM, "remove %s", path);
			continue;
		}
		int q = unlinkat(fd, n, 0);
		/* a directory the image made read-only (unpacked without privileges) */
		if (q < 0 && errno == EACCES && !made_writable) {
			struct stat st;
			made_writable = true;
			if (fstat(fd, &st) == 0 && fchmod(fd, (st.st_mode & 07777) | S_IRWXU) == 0)
				q = unlinkat(fd, n, 0);
		}
		if (q == 0 || errno == ENOENT)
			continue;
		if (errno == EISDIR) {
			if (rm_add_subdir(l, n) < 0)
				r = err_sys(err, ENOMEM, "remove %s", path);
			continue;
		}
		r = err_sys(err, errno, "remove %s/%s", path, n);
	}
	if (r == 0 && de == NULL && errno != 0)
		r = err_sys(err, errno, "remove %s: read the directory", path);
	closedir(d);
	return r;
}

/* Room for n levels. */
static int rm_reserve(struct rm_level **levels, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	size_t ncap = *cap ? 2 * *cap : 64;
	struct rm_level *grown = realloc(*levels, ncap * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	*levels = grown;
	*cap = ncap;
	return 0;
}

/* Open the directory name in fd to remove what it holds. Without
 * privileges, a directory the image left without read or search access
 * for its owner (the caller, or the open fails for another reason) is
 * given it back first, through an O_PATH fd that never follows a
 * symlink, and only if it is still the same directory then. */
static int rm_open_dir(int fd, const char *name)
{
	int child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (child >= 0 || errno != EACCES)
		return child;
	int p = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st, again;
	if (p < 0)
		return -1;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p);
	if (fstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    chmod(proc, (st.st_mode & 07777) | S_IRWXU) < 0) {
		close(p);
		errno = EACCES;
		return -1;
	}
	child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (child >= 0 && (fstat(child, &again) < 0 || again.st_dev != st.st_dev ||
			   again.st_ino != st.st_ino)) {
		close(child);
		child = -1;
		errno = EBUSY;
	}
	close(p);
	return child;
}

int remove_tree_at(int dirfd, const char *name, const char *what, struct husk_error *err)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return err_sys(err, errno, "remove %s", what);
	int first = errno;
	int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(err, errno == ENOTDIR || errno == ELOOP ? first : errno, "remove %s",
			       what);
	}
	uint64_t mnt, here;
	struct stat st;
	if (mount_of(dirfd, &mnt) < 0 || mount_of(cur, &here) < 0 || fstat(cur, &st) < 0) {
		int e = errno;
		close(cur);
		return err_sys(err, e, "remove %s: stat", what);
	}
	if (here != mnt) {
		close(cur);
		return err_set(err, EXDEV,
			       "remove %s: %s is a mount point; unmount it first (nothing on it "
			       "was removed)",
			       what, what);
	}

	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	sb_add(&path, what);
	struct rm_level *levels = NULL;
	size_t depth = 0, cap = 0;
	int r = 0;
	/* levels[depth] is the directory cur is open on */
	if ((r = rm_reserve(&levels, &cap, 1)) < 0)
		err_sys(err, ENOMEM, "remove %s", what);
	if (r == 0) {
		levels[0] = (struct rm_level){ .dev = st.st_dev, .ino = st.st_ino };
		r = rm_scan(cur, &levels[0], path.buf, err);
	}
	while (r == 0) {
		struct rm_level *l = &levels[depth];
		if (l->next < l->nsub) {
			const char *sub = l->subdirs[l->next++];
			int child = rm_open_dir(cur, sub);
			if (child < 0) {
				if (errno == ENOENT)
					continue;
				/* no longer a directory: remove what it is now */
				if ((errno == ENOTDIR || errno == ELOOP) &&
				    (unlinkat(cur, sub, 0) == 0 || errno == ENOENT))
					continue;
				r = err_sys(err, errno, "remove %s/%s", path.buf, sub);
				break;
			}
			size_t at = path.len + 1;
			sb_addc(&path, '/');
			sb_add(&path, sub);
			if ((r = sb_check(&path, err, what)) < 0 ||
			    (r = mount_of(child, &here)) < 0 || fstat(child, &st) < 0) {
				if (r == 0)
					r = -errno;
				if (err->code == 0)
					err_sys(err, -r, "remove %s: stat", path.buf);
				close(child);
				break;
			}
			if (here != mnt) {
				r = err_set(err, EXDEV,
					    "remove %s: %s is a mount point; unmount it first "
					    "(nothing on it was removed)",
					    what, path.buf);
				close(child);
				break;
			}
			if ((r = rm_reserve(&levels, &cap, depth + 2)) < 0) {
				err_sys(err, ENOMEM, "remove %s", what);
				close(child);
				break;
			}
			close(cur);
			cur = child;
			depth++;
			levels[depth] = (struct rm_level){ .dev = st.st_dev, .ino = st.st_ino,
							   .name_at = at };
			r = rm_scan(cur, &levels[depth], path.buf, err);
			continue;
		}
		/* everything below is gone: remove the directory itself */
		if (depth == 0) {
			close(cur);
			cur = -1;
			if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				r = err_sys(err, errno, "remove %s", what);
			break;
		}
		int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &st) < 0) {
			r = err_sys(err, errno, "remove %s: open its parent", path.buf);
			if (parent >= 0)
				close(parent);
			break;
		}
		if (st.st_dev != levels[depth - 1].dev || st.st_ino != levels[depth - 1].ino) {
			r = err_set(err, EBUSY, "remove %s: it was moved while being removed",
				    path.buf);
			close(parent);
			break;
		}
		close(cur);
		cur = parent;
		const char *base = path.buf + l->name_at;
		int q = unlinkat(cur, base, AT_REMOVEDIR);
		/* a read-only directory (unpacked without privileges) that held
		 * only directories: rm_scan had no file to make it writable for */
		if (q < 0 && errno == EACCES && fstat(cur, &st) == 0 &&
		    fchmod(cur, (st.st_mode & 07777) | S_IRWXU) == 0)
			q = unlinkat(cur, base, AT_REMOVEDIR);
		if (q < 0 && errno != ENOENT) {
			r = err_sys(err, errno, "remove %s", path.buf);
			break;
		}
		sb_truncate(&path, l->name_at - 1);
		rm_level_free(l);
		depth--;
	}
	if (cur >= 0)
		close(cur);
	for (size_t i = 0; levels && i <= depth; i++)
		rm_level_free(&levels[i]);
	free(levels);
	return r;
}

int remove_all_at(int dirfd, const char *name)
{
	struct husk_error err = { 0 };
	int r = remove_tree_at(dirfd, name, name, &err);
	return r < 0 ? -err.code : 0;
}
