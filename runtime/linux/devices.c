/* The container's device nodes: the default ones in a /dev tmpfs and
 * linux.devices, made by mknod (or, in a user namespace, bound from the
 * host's), each acted on only through the fd of what was made. */
#include "runtime/linux/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/resolve.h"
#include "common/strbuf.h"

struct default_device {
	const char *name;
	unsigned major, minor;
};
static const struct default_device default_devices[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 },    { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

/* A device node at path, named name in the directory pfd: mknod
 * (replacing what is there), or a bind of the host's node inside a user
 * namespace (where mknod is not allowed). */
static int make_device_at(struct rootfs_ctx *ctx, int pfd, const char *name, const char *path,
			  mode_t type, unsigned major, unsigned minor, mode_t perm, uid_t uid,
			  gid_t gid, struct husk_error *err)
{
	if (!ctx->userns) {
		/* born with its mode (no umask), so that nothing has to set it
		 * by name afterwards */
		mode_t old_umask = umask(0);
		int r = mknodat(pfd, name, type | perm, makedev(major, minor));
		if (r < 0 && errno == EEXIST) {
			if (unlinkat(pfd, name, 0) == 0)
				r = mknodat(pfd, name, type | perm, makedev(major, minor));
			else
				errno = EEXIST; /* a mount point or a directory stays */
		}
		int e = errno;
		umask(old_umask);
		if (r < 0)
			return err_sys(err, e, "mknod %s", path);
		/* From here on only the node just made, through its fd. The
		 * directory may be shared with another container (a volume)
		 * that swaps the name for a symlink to a host file: a chmod or
		 * chown by name would follow it (issue 11). */
		struct stat st;
		_cleanup_close_ int node = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (node < 0 || fstat(node, &st) < 0)
			return err_sys(err, errno, "open %s after mknod", path);
		if ((st.st_mode & S_IFMT) != type ||
		    (type != S_IFIFO && st.st_rdev != makedev(major, minor)))
			return err_set(err, EEXIST, "%s: replaced by something else while it was created "
						    "(is its directory shared with another container?)",
				       path);
		bool chowned = false;
		if (st.st_uid != uid || st.st_gid != gid) {
			if (fchownat(node, "", uid, gid, AT_EMPTY_PATH) < 0)
				return err_sys(err, errno, "chown %s", path);
			chowned = true;
		}
		/* a default ACL of the directory, or a chown that cleared
		 * set-id bits: set the mode through the fd, by the procfs magic
		 * link of the runtime's own procfs (fchmodat does not take
		 * AT_EMPTY_PATH before Linux 6.6) */
		if ((st.st_mode & 07777) != perm || (chowned && (perm & (S_ISUID | S_ISGID)))) {
			char self_fd[64];
			snprintf(self_fd, sizeof(self_fd), "self/fd/%d", node);
			if (ctx->procfd < 0 || fchmodat(ctx->procfd, self_fd, perm, 0) < 0)
				return err_sys(err, ctx->procfd < 0 ? EBADF : errno, "chmod %s", path);
		}
		return 0;
	}
	/* bind the host's node: find it by number under /dev */
	char host[PATH_MAX];
	struct stat st;
	if (fmt_into(host, sizeof(host), err, path, "/dev/%s",
		     path + (strncmp(path, "/dev/", 5) == 0 ? 5 : 0)) < 0)
		return -err->code;
	_cleanup_close_ int src = open(host, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (src < 0 || fstat(src, &st) < 0 || (st.st_mode & S_IFMT) != type ||
	    st.st_rdev != makedev(major, minor))
		return err_set(err, ENODEV, "%s: cannot create a device in a user namespace and the "
				       "host has no %s with number %u:%u to bind",
			       path, host, major, minor);
	int fd = openat(pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return err_sys(err, errno, "create %s", path);
	if (fd >= 0)
		close(fd);
	_cleanup_close_ int target = resolve_in_root(ctx->rootfd, path, O_PATH | O_NOFOLLOW, NULL);
	if (target < 0)
		return err_sys(err, -target, "%s", path);
	_cleanup_close_ int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0 || move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_sys(err, errno, "bind %s on %s", host, path);
	return 0;
}

static int make_device(struct rootfs_ctx *ctx, const char *path, mode_t type, unsigned major,
		       unsigned minor, mode_t perm, uid_t uid, gid_t gid, struct husk_error *err)
{
	_cleanup_free_ char *alloc = NULL;
	const char *name;
	_cleanup_close_ int pfd = open_parent_in_root(ctx->rootfd, path, true, &alloc, &name, err);
	if (pfd < 0)
		return pfd;
	return make_device_at(ctx, pfd, name, path, type, major, minor, perm, uid, gid, err);
}

/* The default devices and links, in the /dev the mounts left (a tmpfs). */
int rootfs_populate_dev(struct rootfs_ctx *ctx, struct husk_error *err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	char path[64];
	_cleanup_close_ int dev = resolve_in_root(ctx->rootfd, "/dev", O_PATH | O_DIRECTORY, NULL);
	if (dev < 0)
		return err_sys(err, -dev, "/dev");
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		const struct default_device *d = &default_devices[i];
		snprintf(path, sizeof(path), "/dev/%s", d->name);
		int r = make_device_at(ctx, dev, d->name, path, S_IFCHR, d->major, d->minor, 0666, 0,
				       0, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return err_sys(err, errno, "symlink /dev/%s", links[i][1]);
	}
	return 0;
}

/* The node type of linux.devices[i], checked with its path. */
static int device_type(const struct oci_device *d, size_t i, mode_t *type, struct husk_error *err)
{
	if (strcmp(d->type, "c") == 0 || strcmp(d->type, "u") == 0)
		*type = S_IFCHR;
	else if (strcmp(d->type, "b") == 0)
		*type = S_IFBLK;
	else if (strcmp(d->type, "p") == 0)
		*type = S_IFIFO;
	else
		return err_set(err, EINVAL, "linux.devices[%zu].type: \"%s\" is not c, b, u or p", i,
			       d->type);
	if (d->path[0] != '/')
		return err_set(err, EINVAL, "linux.devices[%zu].path: \"%s\" is not absolute", i,
			       d->path);
	return 0;
}

int devices_validate(const struct oci_linux *lx, struct husk_error *err)
{
	mode_t type;
	for (size_t i = 0; lx && i < lx->devices.len; i++) {
		int r = device_type(&lx->devices.items[i], i, &type, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_config_devices(struct rootfs_ctx *ctx, struct husk_error *err)
{
	const struct oci_linux *lx = ctx->cfg->linux;
	for (size_t i = 0; lx && i < lx->devices.len; i++) {
		const struct oci_device *d = &lx->devices.items[i];
		mode_t type;
		int r = device_type(d, i, &type, err);
		if (r < 0)
			return r;
		mode_t perm = d->has_fileMode ? (d->fileMode & 07777) : 0666;
		r = make_device(ctx, d->path, type, (unsigned)d->major, (unsigned)d->minor, perm,
				d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, err);
		if (r < 0)
			return err_prefix(err, "linux.devices[%zu]", i);
	}
	return 0;
}
