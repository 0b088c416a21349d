#include "runtime/linux/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "runtime/linux/copy-tree.h"
#include "runtime/linux/devices.h"
#include "common/strbuf.h"
#include "runtime/linux/namespaces.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

enum opt_kind { OPT_ATTR, OPT_BIND, OPT_PROPAGATION, OPT_TMPCOPYUP };

/* A mount option: set/clear MOUNT_ATTR_* bits (recursive for the r*
 * forms), select bind, or a propagation type. */
struct mount_opt {
	const char *name;
	enum opt_kind kind;
	unsigned set, clear;
	bool recursive;
	unsigned long propagation;
};

#define ATIME_MASK MOUNT_ATTR__ATIME
static const struct mount_opt mount_opts[] = {
	{ "ro", OPT_ATTR, MOUNT_ATTR_RDONLY, 0, false, 0 },
	{ "rw", OPT_ATTR, 0, MOUNT_ATTR_RDONLY, false, 0 },
	{ "nosuid", OPT_ATTR, MOUNT_ATTR_NOSUID, 0, false, 0 },
	{ "suid", OPT_ATTR, 0, MOUNT_ATTR_NOSUID, false, 0 },
	{ "nodev", OPT_ATTR, MOUNT_ATTR_NODEV, 0, false, 0 },
	{ "dev", OPT_ATTR, 0, MOUNT_ATTR_NODEV, false, 0 },
	{ "noexec", OPT_ATTR, MOUNT_ATTR_NOEXEC, 0, false, 0 },
	{ "exec", OPT_ATTR, 0, MOUNT_ATTR_NOEXEC, false, 0 },
	{ "noatime", OPT_ATTR, MOUNT_ATTR_NOATIME, ATIME_MASK, false, 0 },
	{ "atime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, false, 0 },
	{ "relatime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, false, 0 },
	{ "norelatime", OPT_ATTR, MOUNT_ATTR_STRICTATIME, ATIME_MASK, false, 0 },
	{ "strictatime", OPT_ATTR, MOUNT_ATTR_STRICTATIME, ATIME_MASK, false, 0 },
	{ "nostrictatime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, false, 0 },
	{ "nodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, 0, false, 0 },
	{ "diratime", OPT_ATTR, 0, MOUNT_ATTR_NODIRATIME, false, 0 },
	{ "nosymfollow", OPT_ATTR, MOUNT_ATTR_NOSYMFOLLOW, 0, false, 0 },
	{ "symfollow", OPT_ATTR, 0, MOUNT_ATTR_NOSYMFOLLOW, false, 0 },
	{ "rro", OPT_ATTR, MOUNT_ATTR_RDONLY, 0, true, 0 },
	{ "rrw", OPT_ATTR, 0, MOUNT_ATTR_RDONLY, true, 0 },
	{ "rnosuid", OPT_ATTR, MOUNT_ATTR_NOSUID, 0, true, 0 },
	{ "rsuid", OPT_ATTR, 0, MOUNT_ATTR_NOSUID, true, 0 },
	{ "rnodev", OPT_ATTR, MOUNT_ATTR_NODEV, 0, true, 0 },
	{ "rdev", OPT_ATTR, 0, MOUNT_ATTR_NODEV, true, 0 },
	{ "rnoexec", OPT_ATTR, MOUNT_ATTR_NOEXEC, 0, true, 0 },
	{ "rexec", OPT_ATTR, 0, MOUNT_ATTR_NOEXEC, true, 0 },
	{ "rnoatime", OPT_ATTR, MOUNT_ATTR_NOATIME, ATIME_MASK, true, 0 },
	{ "ratime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, true, 0 },
	{ "rrelatime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, true, 0 },
	{ "rnorelatime", OPT_ATTR, MOUNT_ATTR_STRICTATIME, ATIME_MASK, true, 0 },
	{ "rstrictatime", OPT_ATTR, MOUNT_ATTR_STRICTATIME, ATIME_MASK, true, 0 },
	{ "rnostrictatime", OPT_ATTR, MOUNT_ATTR_RELATIME, ATIME_MASK, true, 0 },
	{ "rnodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, 0, true, 0 },
	{ "rdiratime", OPT_ATTR, 0, MOUNT_ATTR_NODIRATIME, true, 0 },
	{ "rnosymfollow", OPT_ATTR, MOUNT_ATTR_NOSYMFOLLOW, 0, true, 0 },
	{ "rsymfollow", OPT_ATTR, 0, MOUNT_ATTR_NOSYMFOLLOW, true, 0 },
	{ "bind", OPT_BIND, 0, 0, false, 0 },
	{ "rbind", OPT_BIND, 0, 0, true, 0 },
	{ "private", OPT_PROPAGATION, 0, 0, false, MS_PRIVATE },
	{ "rprivate", OPT_PROPAGATION, 0, 0, true, MS_PRIVATE },
	{ "shared", OPT_PROPAGATION, 0, 0, false, MS_SHARED },
	{ "rshared", OPT_PROPAGATION, 0, 0, true, MS_SHARED },
	{ "slave", OPT_PROPAGATION, 0, 0, false, MS_SLAVE },
	{ "rslave", OPT_PROPAGATION, 0, 0, true, MS_SLAVE },
	{ "unbindable", OPT_PROPAGATION, 0, 0, false, MS_UNBINDABLE },
	{ "runbindable", OPT_PROPAGATION, 0, 0, true, MS_UNBINDABLE },
	{ "tmpcopyup", OPT_TMPCOPYUP, 0, 0, false, 0 },
};
#define N_MOUNT_OPTS (sizeof(mount_opts) / sizeof(mount_opts[0]))

/* "sync", "remount" and friends that runc passes as flags are kept as
 * filesystem data here; these names are what features reports. */
const char *const mount_option_names[] = {
	"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "atime",
	"relatime", "norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime",
	"nosymfollow", "symfollow", "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec",
	"rexec", "rnoatime", "ratime", "rrelatime", "rnorelatime", "rstrictatime",
	"rnostrictatime", "rnodiratime", "rdiratime", "rnosymfollow", "rsymfollow", "bind", "rbind",
	"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
	"tmpcopyup",
};
const size_t mount_option_count = sizeof(mount_option_names) / sizeof(mount_option_names[0]);

/* A mount's options sorted into what the kernel needs. */
struct parsed_mount {
	bool bind, rbind;
	unsigned attr_set, attr_clear;        /* for the top mount */
	unsigned rattr_set, rattr_clear;      /* for the whole tree */
	unsigned long propagation;
	bool propagation_recursive;
	bool tmpcopyup;                       /* runc's extension: see do_fs_mount */
	char data[4096];                      /* fs options: "mode=755,size=64k" */
};

static int parse_options(const struct oci_mount *m, size_t index, struct parsed_mount *pm,
			 struct husk_error *err)
{
	size_t data_len = 0;

	memset(pm, 0, sizeof(*pm));
	if (m->type && strcmp(m->type, "bind") == 0)
		pm->bind = true;
	for (size_t i = 0; i < m->options.len; i++) {
		const char *o = m->options.items[i];
		const struct mount_opt *opt = NULL;
		for (size_t k = 0; k < N_MOUNT_OPTS; k++)
			if (strcmp(mount_opts[k].name, o) == 0)
				opt = &mount_opts[k];
		if (opt == NULL) {
			size_t n = strlen(o);
			if (data_len + n + 2 > sizeof(pm->data))
				return err_set(err, E2BIG, "mounts[%zu].options: too long", index);
			if (data_len)
				pm->data[data_len++] = ',';
			memcpy(pm->data + data_len, o, n + 1);
			data_len += n;
			continue;
		}
		switch (opt->kind) {
		case OPT_BIND:
			pm->bind = true;
			pm->rbind |= opt->recursive;
			break;
		case OPT_PROPAGATION:
			pm->propagation = opt->propagation;
			pm->propagation_recursive = opt->recursive;
			break;
		case OPT_TMPCOPYUP:
			pm->tmpcopyup = true;
			break;
		case OPT_ATTR:
			if (opt->recursive) {
				pm->rattr_set = (pm->rattr_set & ~opt->clear) | opt->set;
				pm->rattr_clear = (pm->rattr_clear | opt->clear) & ~opt->set;
				if (opt->clear == ATIME_MASK)
					pm->rattr_clear = (pm->rattr_clear & ~ATIME_MASK) | ATIME_MASK;
			} else {
				pm->attr_set = (pm->attr_set & ~opt->clear) | opt->set;
				pm->attr_clear = (pm->attr_clear | opt->clear) & ~opt->set;
				if (opt->clear == ATIME_MASK)
					pm->attr_clear = (pm->attr_clear & ~ATIME_MASK) | ATIME_MASK;
			}
			break;
		}
	}
	return 0;
}

static int setattr(int fd, unsigned set, unsigned clear, bool recursive, unsigned long propagation)
{
	struct mount_attr attr = { .attr_set = set, .attr_clr = clear, .propagation = propagation };
	if (set == 0 && clear == 0 && propagation == 0)
		return 0;
	/* the atime mode is one field: clearing it means "replace it" */
	if ((set & ATIME_MASK) || (clear & ATIME_MASK))
		attr.attr_clr |= ATIME_MASK;
	return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
			     sizeof(attr));
}

/* Move the detached mount mntfd onto targetfd, then apply the options. */
static int attach(int mntfd, int targetfd, const struct parsed_mount *pm)
{
	if (setattr(mntfd, pm->rattr_set, pm->rattr_clear, true, 0) < 0)
		return -errno;
	if (setattr(mntfd, pm->attr_set, pm->attr_clear, false, 0) < 0)
		return -errno;
	if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	if (pm->propagation && setattr(mntfd, 0, 0, pm->propagation_recursive, pm->propagation) < 0)
		return -errno;
	return 0;
}

/* The fs context's own explanation of a failure ("e Bad value for 'mode'"). */
static void fs_context_message(int fsfd, char *buf, size_t size)
{
	buf[0] = '\0';
	ssize_t n = read(fsfd, buf, size - 1);
	if (n > 2 && (buf[0] == 'e' || buf[0] == 'w') && buf[1] == ' ') {
		memmove(buf, buf + 2, (size_t)n - 2);
		buf[n - 2] = '\0';
		while (n > 2 && buf[strlen(buf) - 1] == '\n')
			buf[strlen(buf) - 1] = '\0';
	} else {
		buf[0] = '\0';
	}
}

/* A new filesystem instance as a detached mount (fsopen/fsconfig/fsmount),
 * with the SELinux context= when one is given (linux.mountLabel); of the
 * fs context given (taken) when fsfd >= 0. */
static int new_fs_mount_in(const char *type, const char *source, const char *data,
			   const char *context, unsigned attrs, int pidns_fd, int fsfd, int *out,
			   char *why, size_t why_size)
{
	int r = 0;

	why[0] = '\0';
	/* a copy to cut at the commas: whole, whatever its length */
	_cleanup_free_ char *opts = strdup(data);
	if (opts == NULL) {
		if (fsfd >= 0)
			close(fsfd);
		return -ENOMEM;
	}
	if (fsfd < 0 && (fsfd = fsopen(type, FSOPEN_CLOEXEC)) < 0)
		return -errno;
	if (pidns_fd >= 0 && fsconfig(fsfd, FSCONFIG_SET_FD, "pidns", NULL, pidns_fd) < 0) {
		r = -errno;
		snprintf(why, why_size, "the pid namespace joined");
	}
	if (source && *source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0 &&
	    errno != EINVAL)
		r = -errno;
	/* as its own option: a context may hold commas (s0:c1,c2) */
	if (r == 0 && context && fsconfig(fsfd, FSCONFIG_SET_STRING, "context", context, 0) < 0) {
		r = -errno;
		snprintf(why, why_size, "linux.mountLabel \"%s\"", context);
	}
	for (char *save = NULL, *o = strtok_r(opts, ",", &save); o && r == 0;
	     o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		int rc;
		if (eq) {
			*eq = '\0';
			rc = fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			rc = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (rc < 0) {
			r = -errno;
			fs_context_message(fsfd, why, why_size);
			if (why[0] == '\0')
				snprintf(why, why_size, "option \"%s\"", o);
		}
	}
	if (r == 0 && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		r = -errno;
		fs_context_message(fsfd, why, why_size);
	}
	if (r == 0) {
		int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
		if (mfd < 0)
			r = -errno;
		else
			*out = mfd;
	}
	close(fsfd);
	return r;
}

static int new_fs_mount(const char *type, const char *source, const char *data,
			const char *context, unsigned attrs, int *out, char *why, size_t why_size)
{
	return new_fs_mount_in(type, source, data, context, attrs, -1, -1, out, why, why_size);
}

/* A bind mount's source as a host path (relative ones are in the bundle);
 * too long fails naming the field instead of binding a truncated path. */
static int bind_source(const char *bundle, const char *source, size_t index, char *out, size_t size,
		       struct husk_error *err)
{
	char what[64];
	snprintf(what, sizeof(what), "mounts[%zu].source", index);
	if (source[0] == '/')
		return fmt_into(out, size, err, what, "%s", source);
	return fmt_into(out, size, err, what, "%s/%s", bundle, source);
}

/* A user namespace holding the mount's mappings, by fd: a child enters a
 * new one and reports how that went over a socket, then waits (until our
 * end closes) while we write its maps and open it. */
static int idmap_userns(const struct oci_mount *m, size_t index, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf uid_map = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf gid_map = STRBUF_INIT;
	struct strbuf *maps[2] = { &uid_map, &gid_map };
	const char *fields[2] = { "uidMappings", "gidMappings" };
	const char *files[2] = { "uid_map", "gid_map" };
	char field[64], path[64];
	int r, sv[2];

	/* both maps first: a refused one leaves nothing to undo */
	for (int k = 0; k < 2; k++) {
		snprintf(field, sizeof(field), "mounts[%zu].%s", index, fields[k]);
		if ((r = id_map_format(k ? &m->gidMappings : &m->uidMappings, field, maps[k], err)) < 0)
			return r;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(err, errno, "mounts[%zu]: socketpair", index);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return err_sys(err, e, "mounts[%zu]: fork the mapping namespace's process", index);
	}
	if (pid == 0) {
		close(sv[0]);
		int e = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
		if (write(sv[1], &e, sizeof(e)) != (ssize_t)sizeof(e) || e)
			_exit(1);
		char c;
		ssize_t unused = read(sv[1], &c, 1);
		(void)unused;
		_exit(0);
	}
	close(sv[1]);
	int fd = -1, child_errno = 0;
	ssize_t n;
	while ((n = read(sv[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	if (n < 0)
		r = err_sys(err, errno, "mounts[%zu]: read from the mapping namespace's process", index);
	else if (n != (ssize_t)sizeof(child_errno))
		r = err_set(err, ECHILD, "mounts[%zu]: the mapping namespace's process died", index);
	else if (child_errno)
		r = err_sys(err, child_errno, "mounts[%zu]: unshare a user namespace for the mapping",
			    index);
	for (int k = 0; k < 2 && r == 0; k++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[k]);
		int mfd = open(path, O_WRONLY | O_CLOEXEC);
		int w = mfd < 0 ? -errno : write_all(mfd, maps[k]->buf, maps[k]->len);
		if (w < 0)
			r = err_sys(err, -w, "mounts[%zu].%s: write %s", index, fields[k], files[k]);
		if (mfd >= 0)
			close(mfd);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = err_sys(err, errno, "mounts[%zu]: open the mapping namespace", index);
	}
	close(sv[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

/* A detached clone of source, made a slave (a clone of a shared mount
 * would otherwise be the host mount's peer, and mounts under it in the
 * container would reach the host). */
static int clone_source(const char *source, bool recursive, size_t index, const char *name,
			struct husk_error *err)
{
	int fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
						     (recursive ? AT_RECURSIVE : 0));
	if (fd < 0)
		return err_sys(err, errno, "mounts[%zu]: source %s", index, name);
	struct mount_attr slave = { .propagation = MS_SLAVE };
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0) {
		int e = errno;
		close(fd);
		return err_sys(err, e, "mounts[%zu]: make the clone of %s a slave", index, name);
	}
	return fd;
}

int mount_sources_prepare(const struct oci_config *cfg, const char *bundle, int **fds,
			  struct husk_error *err)
{
	*fds = NULL;
	/* in a user namespace the init may not reach what the runtime can */
	bool all_binds = config_lists_namespace(cfg, "user") && config_lists_namespace(cfg, "mount");
	bool any = false;
	for (size_t i = 0; i < cfg->mounts.len; i++)
		any |= all_binds || cfg->mounts.items[i].uidMappings.len ||
		       cfg->mounts.items[i].gidMappings.len;
	if (!any)
		return 0;
	int *out = malloc(cfg->mounts.len * sizeof(int));
	if (out == NULL)
		return err_sys(err, ENOMEM, "mount sources");
	for (size_t i = 0; i < cfg->mounts.len; i++)
		out[i] = -1;
	*fds = out;
	for (size_t i = 0; i < cfg->mounts.len; i++) {
		const struct oci_mount *m = &cfg->mounts.items[i];
		struct parsed_mount pm;
		char source[PATH_MAX];
		bool idmap = m->uidMappings.len || m->gidMappings.len;
		if (!idmap && !all_binds)
			continue;
		int r = parse_options(m, i, &pm, err);
		if (r < 0)
			return r;
		if (idmap && (!pm.bind || m->source == NULL))
			return err_set(err, EINVAL, "mounts[%zu]: uidMappings need a bind mount", i);
		if (idmap && (!m->uidMappings.len || !m->gidMappings.len))
			return err_set(err, EINVAL, "mounts[%zu]: give both uidMappings and gidMappings", i);
		if (!pm.bind || m->source == NULL)
			continue; /* not a bind (or no source: do_bind_mount says so) */
		if ((r = bind_source(bundle, m->source, i, source, sizeof(source), err)) < 0)
			return r;
		if ((out[i] = clone_source(source, pm.rbind, i, m->source, err)) < 0) {
			int e = out[i];
			out[i] = -1;
			/* a rootless runtime may not clone mounts, and reaches no
			 * more than its user namespace: the init binds it */
			if (!idmap && e == -EPERM)
				continue;
			return e;
		}
		if (!idmap)
			continue;
		int userns = idmap_userns(m, i, err);
		if (userns < 0)
			return userns;
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
		r = mount_setattr(out[i], "", AT_EMPTY_PATH | (pm.rbind ? AT_RECURSIVE : 0), &attr,
				  sizeof(attr));
		int e = errno;
		close(userns);
		if (r < 0)
			return err_sys(err, e, "mounts[%zu]: idmap %s (does its filesystem support "
					       "idmapped mounts?)",
				       i, m->source);
	}
	return 0;
}

void mount_sources_close(const struct oci_config *cfg, int *fds)
{
	for (size_t i = 0; fds && i < cfg->mounts.len; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static bool is_proc_or_sys(const char *type)
{
	return type && (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0);
}

/* The target must be a real directory for proc and sysfs: a symlink or a
 * file there would let the image redirect where they land. */
static int check_plain_dir(int rootfd, const char *dest, size_t index, struct husk_error *err)
{
	struct stat st;
	int fd = resolve_in_root(rootfd, dest, O_PATH | O_NOFOLLOW, NULL);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return err_sys(err, -fd, "mounts[%zu]: %s", index, dest);
	int r = fstat(fd, &st);
	close(fd);
	if (r < 0)
		return err_sys(err, errno, "mounts[%zu]: %s", index, dest);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, EINVAL, "mounts[%zu]: %s must be a directory, not %s", index, dest,
			       S_ISLNK(st.st_mode) ? "a symlink" : "a file");
	return 0;
}

static int do_bind_mount(struct rootfs_ctx *ctx, const struct oci_mount *m, size_t index,
			 const struct parsed_mount *pm, struct husk_error *err)
{
	char source[PATH_MAX];
	struct stat st;

	if (m->source == NULL)
		return err_set(err, EINVAL, "mounts[%zu]: a bind mount needs a source", index);
	int r = bind_source(ctx->bundle, m->source, index, source, sizeof(source), err);
	if (r < 0)
		return r;
	/* the parent's clone when it made one (the source may be out of the
	 * user namespace's reach); otherwise cloned here */
	_cleanup_close_ int tree = -1;
	if (ctx->source_trees && ctx->source_trees[index] >= 0) {
		tree = fcntl(ctx->source_trees[index], F_DUPFD_CLOEXEC, 0);
		if (tree < 0 || fstat(tree, &st) < 0)
			return err_sys(err, errno, "mounts[%zu]: source %s", index, m->source);
	} else {
		_cleanup_close_ int srcfd = open(source, O_PATH | O_CLOEXEC);
		if (srcfd < 0 || fstat(srcfd, &st) < 0)
			return err_sys(err, errno, "mounts[%zu]: source %s", index, m->source);
		tree = open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
						    (pm->rbind ? AT_RECURSIVE : 0));
		if (tree < 0)
			return err_sys(err, errno, "mounts[%zu]: bind %s", index, m->source);
	}

	_cleanup_close_ int target = -1;
	r = target = create_in_root(ctx->rootfd, m->destination, S_ISDIR(st.st_mode), 0755, err);
	if (r < 0)
		return err_prefix(err, "mounts[%zu]", index);
	r = attach(tree, target, pm);
	if (r < 0)
		return err_sys(err, -r, "mounts[%zu]: bind %s on %s", index, m->source, m->destination);
	return 0;
}

static int do_fs_mount(struct rootfs_ctx *ctx, const struct oci_mount *m, size_t index,
		       const struct parsed_mount *pm, struct husk_error *err)
{
	char why[512];
	int r;

	if (m->type == NULL || m->type[0] == '\0')
		return err_set(err, EINVAL, "mounts[%zu]: %s: no type and not a bind mount", index,
			       m->destination);
	if (is_proc_or_sys(m->type) && (r = check_plain_dir(ctx->rootfd, m->destination, index, err)) < 0)
		return r;
	_cleanup_close_ int target = -1;
	r = target = mkdir_in_root(ctx->rootfd, m->destination, 0755, err);
	if (r < 0)
		return err_prefix(err, "mounts[%zu]", index);
	_cleanup_close_ int mnt = -1;
	const char *label = ctx->cfg->linux ? ctx->cfg->linux->mountLabel : NULL;
	bool labelled = label && *label && (strcmp(m->type, "tmpfs") == 0 || strcmp(m->type, "devpts") == 0);
	bool proc = strcmp(m->type, "proc") == 0;
	int proc_context = proc && ctx->proc_contexts ? ctx->proc_contexts[index] : -1;
	if (proc && ctx->proc_contexts && proc_context < 0)
		return err_set(err, EPROTO, "mounts[%zu]: no procfs of the joined pid namespace", index);
	r = new_fs_mount_in(m->type, m->source, pm->data, labelled ? label : NULL, 0,
			    proc ? ctx->pidns_fd : -1, proc_context, &mnt, why, sizeof(why));
	if (r < 0)
		return err_set(err, -r, "mounts[%zu]: mount %s on %s: %s%s%s", index, m->type,
			       m->destination, strerror(-r), why[0] ? ": " : "", why);
	/* a read-only /dev tmpfs is populated first (its nodes, and the
	 * mount points of /dev/pts, /dev/shm...) and made read-only at the
	 * end, as runc does */
	bool dev_tmpfs = strcmp(m->type, "tmpfs") == 0 && strcmp(m->destination, "/dev") == 0;
	struct parsed_mount writable;
	if (dev_tmpfs && ((pm->attr_set | pm->rattr_set) & MOUNT_ATTR_RDONLY)) {
		ctx->dev_ro = (pm->rattr_set & MOUNT_ATTR_RDONLY) ? 2 : 1;
		writable = *pm;
		writable.attr_set &= ~MOUNT_ATTR_RDONLY;
		writable.rattr_set &= ~MOUNT_ATTR_RDONLY;
		pm = &writable;
	}
	/* tmpcopyup: the new tmpfs starts with what the image has at its
	 * mount point. Filled while still detached (and writable: "ro" is
	 * applied by attach), from the target fd the resolver gave, so
	 * nothing in the image can redirect the copy. Other types ignore
	 * it, as runc does. */
	if (pm->tmpcopyup && strcmp(m->type, "tmpfs") == 0) {
		char what[64];
		snprintf(what, sizeof(what), "mounts[%zu]: tmpcopyup", index);
		r = copy_tree(target, mnt, what, err);
		if (r < 0)
			return r;
	}
	r = attach(mnt, target, pm);
	if (r < 0)
		return err_sys(err, -r, "mounts[%zu]: mount %s on %s", index, m->type, m->destination);
	if (dev_tmpfs)
		ctx->dev_is_tmpfs = true;
	return 0;
}

/* One cgroup v1 hierarchy the init is in, from its /proc/self/cgroup. */
struct v1_hierarchy {
	char name[128];      /* its directory under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd" */
	char data[160];      /* its mount data: "memory", "none,name=systemd" */
	char path[PATH_MAX]; /* the init's cgroup in it */
};

/* Parse one "ID:CONTROLLERS:PATH" line; false for the v2 line and for
 * hierarchies the host does not mount under /sys/fs/cgroup/NAME. */
static bool parse_v1_line(char *line, struct v1_hierarchy *h)
{
	char *ctl = strchr(line, ':');
	char *path = ctl ? strchr(ctl + 1, ':') : NULL;
	if (path == NULL || path == ctl + 1)
		return false;
	*path++ = '\0';
	ctl++;
	bool named = strncmp(ctl, "name=", 5) == 0;
	const char *name = named ? ctl + 5 : ctl;
	if (name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	if ((size_t)snprintf(h->name, sizeof(h->name), "%s", name) >= sizeof(h->name) ||
	    (size_t)snprintf(h->data, sizeof(h->data), "%s%s", named ? "none," : "", ctl) >=
		    sizeof(h->data) ||
	    (size_t)snprintf(h->path, sizeof(h->path), "%s", path) >= sizeof(h->path))
		return false;
	char host[PATH_MAX];
	struct stat st;
	snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", h->name);
	return stat(host, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Without a cgroup namespace a new cgroup mount would show the host's
 * whole hierarchy: bind the init's own cgroup directory instead. The
 * path comes from the kernel, and is resolved beneath the host's
 * hierarchy mount without symlinks or crossing mounts. */
static int bind_own_cgroup(const struct v1_hierarchy *h, int *out)
{
	char host[PATH_MAX];
	snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", h->name);
	_cleanup_close_ int top = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	const char *rel = h->path;
	while (*rel == '/')
		rel++;
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int dir = *rel ? (int)syscall(SYS_openat2, top, rel, &how, sizeof(how))
				       : dup(top);
	if (dir < 0)
		return -errno;
	int tree = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return -errno;
	*out = tree;
	return 0;
}

/* A cgroup v1 mount: a tmpfs with a directory per hierarchy the init is
 * in, as runc lays it out, and a symlink per controller of a combined
 * hierarchy ("cpu" -> "cpu,cpuacct"). In a cgroup namespace each
 * directory is a new cgroup mount (its root is the container's cgroup);
 * without one, a bind of the container's own cgroup directory. The
 * options apply to every mount; "ro" makes the tmpfs read-only too. */
static int do_cgroup_v1_mount(struct rootfs_ctx *ctx, const struct oci_mount *m, size_t index,
			      const struct parsed_mount *pm, bool cgroupns, struct husk_error *err)
{
	struct parsed_mount base = *pm, sub = *pm;
	struct v1_hierarchy h;
	char why[512];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	/* one line per hierarchy, each with the (config-given) cgroup path:
	 * read it all, a fixed buffer would drop the last ones */
	_cleanup_close_ int cgfd = openat(ctx->procfd, "self/cgroup", O_RDONLY | O_CLOEXEC);
	if (cgfd < 0)
		return err_sys(err, errno, "mounts[%zu]: read /proc/self/cgroup", index);
	if ((r = read_fd_all(cgfd, "/proc/self/cgroup", 1 << 20, &buf, &len, err)) < 0)
		return err_prefix(err, "mounts[%zu]", index);

	_cleanup_close_ int target = -1;
	r = target = mkdir_in_root(ctx->rootfd, m->destination, 0755, err);
	if (r < 0)
		return err_prefix(err, "mounts[%zu]", index);
	_cleanup_close_ int tmpfs = -1;
	r = new_fs_mount("tmpfs", "cgroup", "mode=755", NULL, 0, &tmpfs, why, sizeof(why));
	if (r < 0)
		return err_sys(err, -r, "mounts[%zu]: tmpfs for %s", index, m->destination);
	/* the tmpfs itself is writable until its directories exist */
	base.attr_set &= ~MOUNT_ATTR_RDONLY;
	base.rattr_set &= ~MOUNT_ATTR_RDONLY;
	r = attach(tmpfs, target, &base);
	if (r < 0)
		return err_sys(err, -r, "mounts[%zu]: mount tmpfs on %s", index, m->destination);
	/* a bind keeps the host mount's flags: add what a new mount gets */
	sub.attr_set |= MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	sub.attr_clear &= ~(unsigned)(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);

	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!parse_v1_line(line, &h))
			continue;
		/* straight in the new tmpfs: only husk has written to it, and
		 * the name is one component */
		_cleanup_close_ int dir = -1;
		if ((mkdirat(tmpfs, h.name, 0755) < 0 && errno != EEXIST) ||
		    (dir = openat(tmpfs, h.name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return err_sys(err, errno, "mounts[%zu]: mkdir %s/%s", index, m->destination,
				       h.name);
		_cleanup_close_ int mnt = -1;
		if (cgroupns) {
			r = new_fs_mount("cgroup", "cgroup", h.data, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
									  MOUNT_ATTR_NOEXEC,
					 &mnt, why, sizeof(why));
			if (r < 0)
				return err_set(err, -r, "mounts[%zu]: mount cgroup %s: %s %s", index,
					       h.name, strerror(-r), why);
		} else if ((r = bind_own_cgroup(&h, &mnt)) < 0) {
			return err_sys(err, -r, "mounts[%zu]: bind the container's cgroup /sys/fs/cgroup/%s%s",
				       index, h.name, h.path);
		}
		r = attach(mnt, dir, &sub);
		if (r < 0)
			return err_sys(err, -r, "mounts[%zu]: mount cgroup %s on %s/%s", index, h.name,
				       m->destination, h.name);
		if (strchr(h.name, ',') == NULL)
			continue;
		char ctls[sizeof(h.name)];
		snprintf(ctls, sizeof(ctls), "%s", h.name);
		for (char *s2 = NULL, *c = strtok_r(ctls, ",", &s2); c; c = strtok_r(NULL, ",", &s2)) {
			if (symlinkat(h.name, tmpfs, c) < 0 && errno != EEXIST)
				return err_sys(err, errno, "mounts[%zu]: symlink %s/%s", index,
					       m->destination, c);
		}
	}
	if ((pm->attr_set | pm->rattr_set) & MOUNT_ATTR_RDONLY) {
		if (setattr(tmpfs, MOUNT_ATTR_RDONLY, 0, false, 0) < 0)
			return err_sys(err, errno, "mounts[%zu]: make %s read-only", index, m->destination);
	}
	return 0;
}

static bool host_cgroup_v2(void)
{
	struct statfs sfs;
	return statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == 0x63677270; /* CGROUP2 */
}

static int do_mount(struct rootfs_ctx *ctx, const struct oci_mount *m, size_t index,
		    struct husk_error *err)
{
	struct parsed_mount pm;
	int r = parse_options(m, index, &pm, err);
	if (r < 0)
		return r;
	if (pm.bind)
		return do_bind_mount(ctx, m, index, &pm, err);
	if (m->type && strcmp(m->type, "cgroup") == 0) {
		if (host_cgroup_v2()) {
			struct oci_mount v2 = *m;
			v2.type = "cgroup2";
			return do_fs_mount(ctx, &v2, index, &pm, err);
		}
		return do_cgroup_v1_mount(ctx, m, index, &pm, config_lists_namespace(ctx->cfg, "cgroup"), err);
	}
	return do_fs_mount(ctx, m, index, &pm, err);
}

/* ---- the steps ---- */

static unsigned long propagation_flag(const char *name, bool *ok)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} table[] = {
		{ "private", MS_PRIVATE },
		{ "rprivate", MS_PRIVATE | MS_REC },
		{ "shared", MS_SHARED },
		{ "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE },
		{ "rslave", MS_SLAVE | MS_REC },
		{ "unbindable", MS_UNBINDABLE },
		{ "runbindable", MS_UNBINDABLE | MS_REC },
	};
	*ok = true;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].flags;
	*ok = false;
	return 0;
}

static int rootfs_path(struct rootfs_ctx *ctx, struct husk_error *err)
{
	const struct oci_config *cfg = ctx->cfg;
	return cfg->root->path[0] == '/'
		       ? fmt_into(ctx->rootfs, sizeof(ctx->rootfs), err, "root.path", "%s", cfg->root->path)
		       : fmt_into(ctx->rootfs, sizeof(ctx->rootfs), err, "root.path", "%s/%s",
				  ctx->bundle, cfg->root->path);
}

int rootfs_prepare(struct rootfs_ctx *ctx, struct husk_error *err)
{
	const struct oci_config *cfg = ctx->cfg;
	unsigned long prop = MS_SLAVE | MS_REC;
	bool ok;

	if (ctx->host_mntns) {
		/* The mount table is the host's: nothing may be mounted on it
		 * or change its propagation. spawn's checks refused every
		 * field that needs a mount; this one is the last guard. */
		if (cfg->mounts.len || ctx->no_pivot || cfg->root->readonly ||
		    (cfg->linux && (cfg->linux->rootfsPropagation || cfg->linux->devices.len ||
				    cfg->linux->maskedPaths.len || cfg->linux->readonlyPaths.len)))
			return err_set(err, EINVAL, "linux.namespaces: the config needs mounts, and "
						    "has no mount namespace of its own");
		int r = rootfs_path(ctx, err);
		if (r < 0)
			return r;
		ctx->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (ctx->rootfd < 0)
			return err_sys(err, errno, "root.path: %s", ctx->rootfs);
		return 0;
	}
	if (cfg->linux && cfg->linux->rootfsPropagation) {
		prop = propagation_flag(cfg->linux->rootfsPropagation, &ok);
		if (!ok)
			return err_set(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"",
				       cfg->linux->rootfsPropagation);
	}
	/* Nothing done below may propagate back to the host: every mount
	 * becomes a slave first, so a non-recursive rootfsPropagation
	 * ("private", "slave", "unbindable") cannot leave the mounts under
	 * "/" (the rootfs's parent among them) shared with the host, which
	 * would also make pivot_root refuse. A shared rootfsPropagation is
	 * applied to the new root after the pivot; an unbindable one last of
	 * all (rootfs_finish): on "/" it would forbid the rootfs's own bind
	 * below when the bundle lives on the host's root filesystem, and on
	 * the new root the binds of masked and read-only paths. */
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return err_sys(err, errno, "set the propagation of / to rslave");
	if (!(prop & (MS_SHARED | MS_UNBINDABLE)) && prop != (MS_SLAVE | MS_REC) &&
	    mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(err, errno, "linux.rootfsPropagation: set %s on /",
			       cfg->linux->rootfsPropagation);

	int r = rootfs_path(ctx, err);
	if (r < 0)
		return r;
	/* pivot_root needs the rootfs to be a mount point (and refuses a
	 * shared one: a shared rootfsPropagation is applied after it) */
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == EACCES && ctx->userns)
			return err_set(err, EACCES, "root.path: bind %s: permission denied (the "
						    "container's root user must be able to reach it)",
				       ctx->rootfs);
		return err_sys(err, errno, "root.path: bind %s", ctx->rootfs);
	}
	ctx->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0)
		return err_sys(err, errno, "root.path: %s", ctx->rootfs);

	for (; ctx->next_mount < cfg->mounts.len; ctx->next_mount++) {
		const struct oci_mount *m = &cfg->mounts.items[ctx->next_mount];
		if (m->type && strncmp(m->type, "cgroup", 6) == 0)
			break;
		int r = do_mount(ctx, m, ctx->next_mount, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_prepare_rest(struct rootfs_ctx *ctx, struct husk_error *err)
{
	const struct oci_config *cfg = ctx->cfg;
	if (ctx->host_mntns)
		return 0; /* no mounts, no /dev of its own, no devices (rootfs_prepare) */
	for (; ctx->next_mount < cfg->mounts.len; ctx->next_mount++) {
		int r = do_mount(ctx, &cfg->mounts.items[ctx->next_mount], ctx->next_mount, err);
		if (r < 0)
			return r;
	}
	if (ctx->dev_is_tmpfs) {
		int r = rootfs_populate_dev(ctx, err);
		if (r < 0)
			return r;
	}
	return rootfs_config_devices(ctx, err);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_mountinfo(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* --no-pivot leaves the old root under the moved rootfs, in the container's
 * mount namespace. A procfs or sysfs there (the host's, or husk's private
 * procfs) is fully visible, and the kernel lets a process that makes a
 * nested user namespace mount a fresh procfs because of it. Detach every
 * one outside the rootfs first, as runc does; one that will not go is
 * covered by an empty read-only tmpfs. */
static int detach_proc_sys_outside(const char *rootfs, struct husk_error *err)
{
	_cleanup_free_ char *buf = NULL;
	char real[PATH_MAX];
	size_t len, n = 0;
	int r;

	if (realpath(rootfs, real) == NULL)
		return err_sys(err, errno, "--no-pivot: resolve the rootfs %s", rootfs);
	size_t rl = strlen(real);
	if ((r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &buf, &len, err)) < 0)
		return r;
	/* the mount points, newest (deepest) last */
	char **points = calloc(len / 16 + 1, sizeof(char *));
	if (points == NULL)
		return err_sys(err, ENOMEM, "--no-pivot");
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = { 0 }, *sep = strstr(line, " - ");
		char *p = line;
		for (int i = 0; i < 5 && p; i++) {
			f[i] = p;
			p = strchr(p, ' ');
			if (p)
				*p++ = '\0';
		}
		if (sep == NULL || f[4] == NULL)
			continue;
		const char *type = sep + 3;
		if (strncmp(type, "proc ", 5) != 0 && strncmp(type, "sysfs ", 6) != 0)
			continue;
		unescape_mountinfo(f[4]);
		if (strncmp(f[4], real, rl) == 0 && (f[4][rl] == '\0' || f[4][rl] == '/' || rl == 1))
			continue;
		points[n++] = f[4];
	}
	r = 0;
	while (n-- > 0 && r == 0) {
		if (umount2(points[n], MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
			continue;
		int e = errno;
		if (mount("tmpfs", points[n], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0555,size=4k") < 0)
			r = err_sys(err, e, "--no-pivot: detach %s (outside the rootfs)", points[n]);
	}
	free(points);
	return r;
}

int rootfs_pivot(struct rootfs_ctx *ctx, struct husk_error *err)
{
	if (fchdir(ctx->rootfd) < 0)
		return err_sys(err, errno, "chdir to the rootfs");
	if (ctx->host_mntns) {
		/* as runc without a mount namespace: a chroot, the host's mount
		 * table untouched */
		if (chroot(".") < 0)
			return err_sys(err, errno, "chroot to the rootfs");
	} else if (ctx->no_pivot) {
		int r = detach_proc_sys_outside(ctx->rootfs, err);
		if (r < 0)
			return r;
		if (mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return err_sys(err, errno, "move the rootfs to /");
		if (chroot(".") < 0)
			return err_sys(err, errno, "chroot");
	} else {
		_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			return err_sys(err, errno, "open the old root");
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return err_sys(err, errno, "pivot_root");
		/* the old root sits on top of the new one: make sure its
		 * unmount does not propagate, then detach it. Through its fd:
		 * the path "." names the new root, and making that tree a
		 * slave would undo every "shared" mount option. */
		struct mount_attr slave = { .propagation = MS_SLAVE };
		if (mount_setattr(oldroot, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave,
				  sizeof(slave)) < 0)
			return err_sys(err, errno, "make the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return err_sys(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return err_sys(err, errno, "chdir /");
	const char *rootfs_prop = ctx->cfg->linux ? ctx->cfg->linux->rootfsPropagation : NULL;
	bool known;
	unsigned long prop = rootfs_prop ? propagation_flag(rootfs_prop, &known) : 0;
	if ((prop & MS_SHARED) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(err, errno, "linux.rootfsPropagation \"%s\"", rootfs_prop);
	close(ctx->rootfd);
	ctx->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0)
		return err_sys(err, errno, "open the new root");
	return 0;
}

/* /dev/null as the container sees it, checked to be the real null device
 * so a masked path can never become a bind of something else. */
static int open_verified_null(int rootfd, struct husk_error *err)
{
	struct stat st;
	int fd = resolve_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, NULL);
	if (fd < 0)
		return err_sys(err, -fd, "maskedPaths: /dev/null");
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return err_set(err, EPERM, "maskedPaths: /dev/null is not the null device");
	}
	return fd;
}

static int mask_path(int rootfd, int nullfd, const char *path, size_t index, struct husk_error *err)
{
	struct stat st;
	_cleanup_close_ int target = resolve_in_root(rootfd, path, O_PATH | O_NOFOLLOW, NULL);
	if (target == -ENOENT)
		return 0;
	if (target < 0)
		return err_sys(err, -target, "linux.maskedPaths[%zu]: %s", index, path);
	if (fstat(target, &st) < 0)
		return err_sys(err, errno, "linux.maskedPaths[%zu]: %s", index, path);
	_cleanup_close_ int mnt = -1;
	if (S_ISDIR(st.st_mode)) {
		char why[256];
		int r = new_fs_mount("tmpfs", "tmpfs", "size=0,mode=0555", NULL, MOUNT_ATTR_RDONLY, &mnt, why,
				     sizeof(why));
		if (r < 0)
			return err_sys(err, -r, "linux.maskedPaths[%zu]: tmpfs on %s", index, path);
	} else {
		mnt = open_tree(nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (mnt < 0)
			return err_sys(err, errno, "linux.maskedPaths[%zu]: bind /dev/null", index);
	}
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_sys(err, errno, "linux.maskedPaths[%zu]: mask %s", index, path);
	return 0;
}

static int readonly_path(int rootfd, const char *path, size_t index, struct husk_error *err)
{
	_cleanup_close_ int target = resolve_in_root(rootfd, path, O_PATH | O_NOFOLLOW, NULL);
	if (target == -ENOENT)
		return 0;
	if (target < 0)
		return err_sys(err, -target, "linux.readonlyPaths[%zu]: %s", index, path);
	_cleanup_close_ int tree = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
							 AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return err_sys(err, errno, "linux.readonlyPaths[%zu]: bind %s", index, path);
	if (setattr(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		    0, true, 0) < 0)
		return err_sys(err, errno, "linux.readonlyPaths[%zu]: make %s read-only", index, path);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_sys(err, errno, "linux.readonlyPaths[%zu]: %s", index, path);
	return 0;
}

int rootfs_finish(struct rootfs_ctx *ctx, struct husk_error *err)
{
	const struct oci_linux *lx = ctx->cfg->linux;
	int r;

	if (ctx->host_mntns)
		return 0; /* nothing to mask, nothing read-only (rootfs_prepare) */

	if (lx && lx->maskedPaths.len) {
		_cleanup_close_ int nullfd = open_verified_null(ctx->rootfd, err);
		if (nullfd < 0)
			return nullfd;
		for (size_t i = 0; i < lx->maskedPaths.len; i++)
			if ((r = mask_path(ctx->rootfd, nullfd, lx->maskedPaths.items[i], i, err)) < 0)
				return r;
	}
	for (size_t i = 0; lx && i < lx->readonlyPaths.len; i++)
		if ((r = readonly_path(ctx->rootfd, lx->readonlyPaths.items[i], i, err)) < 0)
			return r;
	if (ctx->dev_ro) {
		_cleanup_close_ int dev = resolve_in_root(ctx->rootfd, "/dev", O_PATH | O_DIRECTORY, NULL);
		if (dev < 0 || setattr(dev, MOUNT_ATTR_RDONLY, 0, ctx->dev_ro == 2, 0) < 0)
			return err_sys(err, dev < 0 ? -dev : errno, "mounts: remount /dev read-only");
	}
	if (ctx->cfg->root->readonly && setattr(ctx->rootfd, MOUNT_ATTR_RDONLY, 0, false, 0) < 0)
		return err_sys(err, errno, "root.readonly: remount / read-only");
	bool known;
	unsigned long prop = lx && lx->rootfsPropagation ? propagation_flag(lx->rootfsPropagation, &known) : 0;
	if ((prop & MS_UNBINDABLE) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(err, errno, "linux.rootfsPropagation \"%s\"", lx->rootfsPropagation);
	return 0;
}
