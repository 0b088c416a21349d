#include "runtime/linux/copy-tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"

/* Files with more than one link whose first copy is remembered, so the
 * others become links to it; past this many they are copied apart. */
#define MAX_HARDLINKS 4096
#define XATTR_BUF 65536

struct link_entry {
	dev_t dev;
	ino_t ino;
	char *dst; /* path of the first copy, relative to the destination */
};

struct copy_ctx {
	int dstroot;
	const char *what;
	struct husk_error *err;
	struct strbuf path; /* of the entry being copied, relative to the source */
	struct link_entry *links;
	size_t nlinks;
	char *buf; /* XATTR_BUF bytes: xattr names, values, file data */
	char *names;
};

/* name, one component, beneath dirfd: no symlink followed, no "..". */
static int open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int fail(struct copy_ctx *c, int code, const char *step)
{
	return err_set(c->err, code, "%s: %s %s: %s", c->what, step,
		       c->path.len ? c->path.buf : ".", strerror(code));
}

/* Extended attributes (security.capability, user.*, ...): kept where the
 * tmpfs and our privileges allow; an attribute the kernel refuses to set
 * here (trusted.* inside a user namespace) is left out. */
static int copy_xattrs(struct copy_ctx *c, int src, int dst)
{
	ssize_t n = flistxattr(src, c->names, XATTR_BUF);
	if (n < 0)
		return errno == ENOTSUP ? 0 : fail(c, errno, "list the attributes of");
	for (ssize_t off = 0; off < n; off += (ssize_t)strlen(c->names + off) + 1) {
		const char *name = c->names + off;
		ssize_t v = fgetxattr(src, name, c->buf, XATTR_BUF);
		if (v < 0) {
			if (errno == ENODATA || errno == ENOTSUP)
				continue;
			return fail(c, errno, "read an attribute of");
		}
		if (fsetxattr(dst, name, c->buf, (size_t)v, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM)
			return fail(c, errno, "set an attribute on the copy of");
	}
	return 0;
}

/* Owner first (a chown clears setuid bits and file capabilities), then the
 * attributes, the mode and the times. An owner the user namespace does not
 * map (shown as the overflow id) cannot be given: the copy keeps root's. */
static int copy_meta(struct copy_ctx *c, int src, int dst, const struct stat *st)
{
	if (fchown(dst, st->st_uid, st->st_gid) < 0 && errno != EINVAL)
		return fail(c, errno, "chown the copy of");
	int r = copy_xattrs(c, src, dst);
	if (r < 0)
		return r;
	if (fchmod(dst, st->st_mode & 07777) < 0)
		return fail(c, errno, "chmod the copy of");
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	if (futimens(dst, times) < 0)
		return fail(c, errno, "set the times of the copy of");
	return 0;
}

static int copy_data(struct copy_ctx *c, int src, int dst)
{
	for (;;) {
		ssize_t n = sendfile(dst, src, NULL, 1 << 20);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return fail(c, errno, "copy");
		break;
	}
	for (;;) {
		ssize_t n = read(src, c->buf, XATTR_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(c, errno, "read");
		if (n == 0)
			return 0;
		if (write_all(dst, c->buf, (size_t)n) < 0)
			return fail(c, errno, "copy");
	}
}

/* The first copy of a multiply-linked file, or NULL. */
static const struct link_entry *find_link(struct copy_ctx *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return &c->links[i];
	return NULL;
}

static int link_to_first(struct copy_ctx *c, const struct link_entry *l, int dstdir,
			 const char *name)
{
	/* only directories this copy made lie on the way: no symlink to follow */
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int first = (int)syscall(SYS_openat2, c->dstroot, l->dst, &how, sizeof(how));
	if (first < 0 || linkat(first, "", dstdir, name, AT_EMPTY_PATH) < 0)
		return fail(c, errno, "link");
	return 0;
}

static void remember_link(struct copy_ctx *c, const struct stat *st)
{
	if (c->nlinks == MAX_HARDLINKS)
		return;
	if (c->links == NULL && (c->links = calloc(MAX_HARDLINKS, sizeof(*c->links))) == NULL)
		return;
	char *dst = strdup(c->path.buf);
	if (dst == NULL)
		return;
	c->links[c->nlinks++] = (struct link_entry){ st->st_dev, st->st_ino, dst };
}

static int copy_dir(struct copy_ctx *c, int src, int dst, int depth);

static int copy_entry(struct copy_ctx *c, int srcdir, int dstdir, const char *name,
		      const struct stat *st, int depth)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int r;

	switch (st->st_mode & S_IFMT) {
	case S_IFDIR: {
		if (depth >= COPY_TREE_MAX_DEPTH)
			return err_set(c->err, ELOOP, "%s: %s: directories nested deeper than %d", c->what,
				       c->path.buf, COPY_TREE_MAX_DEPTH);
		if (mkdirat(dstdir, name, 0700) < 0)
			return fail(c, errno, "mkdir");
		_cleanup_close_ int s = open_beneath(srcdir, name, O_RDONLY | O_DIRECTORY);
		if (s < 0)
			return fail(c, -s, "open");
		_cleanup_close_ int d = open_beneath(dstdir, name, O_RDONLY | O_DIRECTORY);
		if (d < 0)
			return fail(c, -d, "open the copy of");
		r = copy_dir(c, s, d, depth + 1);
		return r < 0 ? r : copy_meta(c, s, d, st);
	}
	case S_IFREG: {
		const struct link_entry *l = st->st_nlink > 1 ? find_link(c, st) : NULL;
		if (l)
			return link_to_first(c, l, dstdir, name);
		_cleanup_close_ int s = open_beneath(srcdir, name, O_RDONLY | O_NONBLOCK);
		if (s < 0)
			return fail(c, -s, "open");
		struct stat now;
		/* the entry listed is the file opened, not one swapped in since */
		if (fstat(s, &now) < 0 || now.st_ino != st->st_ino || !S_ISREG(now.st_mode))
			return fail(c, EAGAIN, "open");
		_cleanup_close_ int d =
			openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0)
			return fail(c, errno, "create the copy of");
		if ((r = copy_data(c, s, d)) < 0 || (r = copy_meta(c, s, d, st)) < 0)
			return r;
		if (st->st_nlink > 1)
			remember_link(c, st);
		return 0;
	}
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t n = readlinkat(srcdir, name, target, sizeof(target));
		if (n < 0)
			return fail(c, errno, "readlink");
		if ((size_t)n >= sizeof(target))
			return fail(c, ENAMETOOLONG, "readlink");
		target[n] = '\0';
		if (symlinkat(target, dstdir, name) < 0)
			return fail(c, errno, "symlink");
		if (fchownat(dstdir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EINVAL)
			return fail(c, errno, "chown the copy of");
		if (utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(c, errno, "set the times of the copy of");
		return 0;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (mknodat(dstdir, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
			return fail(c, errno, "mknod the copy of");
		if (fchownat(dstdir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EINVAL)
			return fail(c, errno, "chown the copy of");
		if (fchmodat(dstdir, name, st->st_mode & 07777, 0) < 0)
			return fail(c, errno, "chmod the copy of");
		if (utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(c, errno, "set the times of the copy of");
		return 0;
	default:
		/* a socket means nothing without the process bound to it */
		return 0;
	}
}

static int copy_dir(struct copy_ctx *c, int src, int dst, int depth)
{
	int fd = open_beneath(src, ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fail(c, -fd, "open");
	DIR *dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return fail(c, errno, "list");
	}
	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (de == NULL) {
			if (errno)
				r = fail(c, errno, "list");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		size_t len = c->path.len;
		sb_addf(&c->path, "%s%s", len ? "/" : "", de->d_name);
		if ((r = sb_check(&c->path, c->err, c->what)) < 0)
			break;
		struct stat st;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = fail(c, errno, "stat");
		else
			r = copy_entry(c, dirfd(dir), dst, de->d_name, &st, depth);
		sb_truncate(&c->path, len);
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

int copy_tree(int srcdir, int dstdir, const char *what, struct husk_error *err)
{
	struct copy_ctx c = {
		.dstroot = dstdir,
		.what = what,
		.err = err,
		.path = STRBUF_INIT_MAX(PATH_MAX - 1),
	};
	c.buf = malloc(XATTR_BUF);
	c.names = malloc(XATTR_BUF);
	int r = c.buf && c.names ? copy_dir(&c, srcdir, dstdir, 0)
				 : err_set(err, ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].dst);
	free(c.links);
	free(c.buf);
	free(c.names);
	sb_release(&c.path);
	return r;
}
