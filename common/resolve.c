#include "common/resolve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long resolve)
{
	struct open_how how = { .flags = (unsigned long)flags | O_CLOEXEC,
				.mode = mode,
				.resolve = resolve };
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd < 0 ? -errno : (int)fd;
}

static int resolve_error(struct husk_error *err, int code, const char *path)
{
	if (err == NULL)
		return -code;
	if (code == ENOSYS)
		return err_set(err, ENOSYS,
			       "%s: openat2(2) is not available (Linux 5.6 or later is needed)",
			       path);
	return err_sys(err, code, "%s", path);
}

/* openat2 rejects an empty path; the root itself is "." */
static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int resolve_in_root(int rootfd, const char *path, int flags, struct husk_error *err)
{
	int fd = sys_openat2(rootfd, relative(path), flags, 0, IN_ROOT);
	if (fd < 0)
		return resolve_error(err, -fd, path);
	return fd;
}

int resolve_in_root_nosymlinks(int rootfd, const char *path, int flags, struct husk_error *err)
{
	int fd = sys_openat2(rootfd, relative(path), flags, 0, IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return resolve_error(err, -fd, path);
	return fd;
}

/* A dangling symlink in the way: continue with its target (inside the
 * root, as the kernel would resolve it) followed by the rest of the path. */
static int follow_dangling(int cur, const char *prefix, const char *name, const char *rest,
			   char **out)
{
	char target[4096];
	ssize_t n = readlinkat(cur, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	size_t dirlen = strlen(prefix) - strlen(name);
	int r;
	if (target[0] == '/')
		r = asprintf(out, "%s/%s", target, rest);
	else
		r = asprintf(out, "%.*s%s/%s", (int)dirlen, prefix, target, rest);
	return r < 0 ? -ENOMEM : 0;
}

static int mkdir_walk(int rootfd, const char *orig, const char *path, mode_t mode, int depth,
		      struct husk_error *err)
{
	const char *rel = relative(path);
	int fd = sys_openat2(rootfd, rel, O_PATH | O_DIRECTORY, 0, IN_ROOT);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT)
		return resolve_error(err, -fd, orig);
	if (depth > 40)
		return err_set(err, ELOOP, "%s: too many levels of symbolic links", orig);

	/* Walk: resolve each prefix inside the root, and create the next
	 * component in the directory that prefix resolved to. Mostly only the
	 * last component is missing, so the walk starts at its parent when
	 * that resolves; otherwise at the root. */
	_cleanup_free_ char *copy = strdup(rel);
	if (copy == NULL)
		return err_sys(err, ENOMEM, "%s", orig);
	char *p = copy;
	int cur = -ENOENT;
	char *last = strrchr(copy, '/');
	if (last && last[1] != '\0' && strcmp(last + 1, ".") != 0 && strcmp(last + 1, "..") != 0) {
		*last = '\0';
		cur = sys_openat2(rootfd, copy, O_PATH | O_DIRECTORY, 0, IN_ROOT);
		*last = '/';
		if (cur >= 0)
			p = last + 1;
	}
	if (cur < 0)
		cur = sys_openat2(rootfd, ".", O_PATH | O_DIRECTORY, 0, IN_ROOT);
	if (cur < 0)
		return err_sys(err, -cur, "%s: open root", orig);
	while (*p) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p && strcmp(p, ".") != 0) {
			int next = sys_openat2(rootfd, copy, O_PATH | O_DIRECTORY, 0, IN_ROOT);
			if (next == -ENOENT && strcmp(p, "..") != 0) {
				if (mkdirat(cur, p, mode) < 0 && errno != EEXIST) {
					int e = errno;
					close(cur);
					return err_sys(err, e, "%s: mkdir %s", orig, copy);
				}
				struct stat st;
				if (fstatat(cur, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode)) {
					_cleanup_free_ char *redirected = NULL;
					int r = follow_dangling(
						cur, copy, p, slash ? slash + 1 : "", &redirected);
					close(cur);
					if (r < 0)
						return err_sys(err, -r, "%s: %s", orig, copy);
					return mkdir_walk(rootfd, orig, redirected, mode, depth + 1,
							  err);
				}
				/* just made by us: take it only if it is still a plain directory */
				next = sys_openat2(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0,
						   RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
			}
			if (next < 0) {
				close(cur);
				return err_sys(err, -next, "%s: %s", orig, copy);
			}
			close(cur);
			cur = next;
		}
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
	return cur;
}

int mkdir_in_root(int rootfd, const char *path, mode_t mode, struct husk_error *err)
{
	return mkdir_walk(rootfd, path, path, mode, 0, err);
}

int open_parent_in_root(int rootfd, const char *path, bool create, char **base_alloc,
			const char **base, struct husk_error *err)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return err_sys(err, ENOMEM, "%s", path);
	size_t len = strlen(copy);
	while (len > 0 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	char *name = slash ? slash + 1 : copy;
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		free(copy);
		return err_set(err, EINVAL, "%s: the path names no file", path);
	}
	const char *dir = ".";
	if (slash) {
		*slash = '\0';
		dir = copy;
	}
	int fd = create ? mkdir_in_root(rootfd, dir, 0755, err)
			: resolve_in_root(rootfd, dir, O_PATH | O_DIRECTORY, err);
	if (fd < 0) {
		free(copy);
		return fd;
	}
	*base_alloc = copy;
	*base = name;
	return fd;
}

int create_in_root(int rootfd, const char *path, bool dir, mode_t mode, struct husk_error *err)
{
	if (dir)
		return mkdir_in_root(rootfd, path, mode, err);
	int fd = resolve_in_root(rootfd, path, O_PATH, NULL);
	if (fd != -ENOENT)
		return fd >= 0 ? fd : resolve_error(err, -fd, path);

	char *alloc;
	const char *name;
	int parent = open_parent_in_root(rootfd, path, true, &alloc, &name, err);
	if (parent < 0)
		return parent;
	/* O_EXCL|O_NOFOLLOW: a symlink raced in at the last step is never followed */
	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	int e = errno;
	close(parent);
	free(alloc);
	if (fd < 0 && e != EEXIST)
		return err_sys(err, e, "%s: create", path);
	if (fd >= 0)
		close(fd);
	return resolve_in_root(rootfd, path, O_PATH, err);
}
