#include "common/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int resolve_openat(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	for (;;) {
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* the kernel asks for a retry when a rename raced the lookup */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

/* Copy the first n bytes of path (a prefix ending at a component) */
static void prefix_of(const char *path, size_t n, char *out, size_t size)
{
	if (n >= size)
		n = size - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, int *out, struct husk_error *err)
{
	char prefix[4096];
	int fd = resolve_openat(rootfd, path, O_PATH | O_DIRECTORY, 0);

	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (fd != -ENOENT)
		return err_sys(err, -fd, "%s", path);
	if (strlen(path) >= sizeof(prefix))
		return err_set(err, ENAMETOOLONG, "%s: path too long", path);

	/* Walk the components; each prefix is resolved from the root again so
	 * a symlink planted in a new component still cannot point outside. */
	int parent = resolve_openat(rootfd, "/", O_PATH | O_DIRECTORY, 0);
	if (parent < 0)
		return err_sys(err, -parent, "%s: open root", path);
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		const char *end = strchrnul(p, '/');
		char name[256];
		if ((size_t)(end - p) >= sizeof(name)) {
			close(parent);
			return err_set(err, ENAMETOOLONG, "%s: a component is too long", path);
		}
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		prefix_of(path, (size_t)(end - path), prefix, sizeof(prefix));

		fd = resolve_openat(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
				int e = errno;
				close(parent);
				return err_sys(err, e, "%s: mkdir %s", path, prefix);
			}
			fd = resolve_openat(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
		}
		close(parent);
		if (fd < 0)
			return err_sys(err, -fd, "%s: %s", path, prefix);
		parent = fd;
		p = end;
	}
	*out = parent;
	return 0;
}

int resolve_parent(int rootfd, const char *path, bool create_parents, int *parent_fd, char *name,
		   size_t name_size, struct husk_error *err)
{
	char dir[4096];
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(dir))
		return err_set(err, ENAMETOOLONG, "%s: path too long", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return err_set(err, EINVAL, "%s: not a path to a file or directory", path);
	if (strlen(base) >= name_size)
		return err_set(err, ENAMETOOLONG, "%s: name too long", path);
	strcpy(name, base);
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, "/");
	if (dir[0] == '\0')
		strcpy(dir, "/");

	if (create_parents)
		return resolve_mkdir_p(rootfd, dir, 0755, parent_fd, err);
	int fd = resolve_openat(rootfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return err_sys(err, -fd, "%s", dir);
	*parent_fd = fd;
	return 0;
}

int resolve_create(int rootfd, const char *path, bool want_dir, mode_t mode, int *out,
		   struct husk_error *err)
{
	if (want_dir)
		return resolve_mkdir_p(rootfd, path, mode, out, err);

	int fd = resolve_openat(rootfd, path, O_PATH, 0);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (fd != -ENOENT)
		return err_sys(err, -fd, "%s", path);

	int parent;
	char name[256];
	int r = resolve_parent(rootfd, path, true, &parent, name, sizeof(name), err);
	if (r < 0)
		return r;
	/* O_EXCL|O_NOFOLLOW: never follow a symlink raced in at the last step */
	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno != EEXIST) {
		int e = errno;
		close(parent);
		return err_sys(err, e, "%s: create", path);
	}
	if (fd >= 0)
		close(fd);
	close(parent);
	fd = resolve_openat(rootfd, path, O_PATH, 0);
	if (fd < 0)
		return err_sys(err, -fd, "%s", path);
	*out = fd;
	return 0;
}
