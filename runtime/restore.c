/* husk restore: bring a checkpointed container back with CRIU, under a
 * (new) id, from its bundle's config. In the foreground husk waits for it
 * and deletes it when it exits, as run does; --detach leaves it running. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "common/strbuf.h"
#include "runtime/checkpoint.h"
#include "runtime/foreground.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/criu.h"

#define CRIU_ROOT "criu-root"

struct restore_opts {
	const struct husk_globals *g;
	struct cr_opts cr;
	const char *state_root; /* --root, absolute */
};

/* Namespaces the config joins by path: net and pid are handed to CRIU
 * (they were external to the dump); another one CRIU would have to join
 * is refused, naming it. */
static int external_namespaces(const struct oci_config *cfg, int fds[2],
			       struct criu_inherit inh[2], size_t *n, struct husk_error *err)
{
	*n = 0;
	for (size_t i = 0; cfg->linux && i < cfg->linux->namespaces.len; i++) {
		const struct oci_namespace *ns = &cfg->linux->namespaces.items[i];
		if (ns->path == NULL || ns->type == NULL)
			continue;
		const char *key = strcmp(ns->type, "network") == 0 ? "extRootNetNS"
				  : strcmp(ns->type, "pid") == 0   ? "extRootPidNS"
								   : NULL;
		if (key == NULL)
			return err_set(err, ENOTSUP, "linux.namespaces[%zu]: restoring into an existing "
						     "%s namespace (%s) is not supported",
				       i, ns->type, ns->path);
		if (*n == 2)
			continue;
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, errno, "linux.namespaces[%zu]: %s", i, ns->path);
		fds[*n] = fd;
		inh[*n] = (struct criu_inherit){ .key = key, .fd = 4 + (int)*n };
		(*n)++;
	}
	return 0;
}

/* CRIU wants the root as a mount point whose parent is not overmounted: a
 * bind of the rootfs at <state dir>/criu-root, made in a mount namespace
 * of husk's own (slave to the host's), so nothing it mounts is ever seen
 * outside or outlives husk. */
static int prepare_root(const struct restore_opts *o, const struct restore_target *t,
			struct strbuf *root, struct husk_error *err)
{
	if (unshare(CLONE_NEWNS) < 0)
		return err_sys(err, errno, "restore: unshare the mount namespace");
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return err_sys(err, errno, "restore: make / a slave");
	sb_addf(root, "%s/%s/%s", o->state_root, t->id, CRIU_ROOT);
	int r = sb_check(root, err, "the restore root");
	if (r < 0)
		return r;
	if (mkdirat(t->dirfd, CRIU_ROOT, 0755) < 0)
		return err_sys(err, errno, "restore: mkdir %s", root->buf);
	if (mount(t->rootfs, root->buf, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;
		unlinkat(t->dirfd, CRIU_ROOT, AT_REMOVEDIR);
		return err_sys(err, e, "restore: bind the rootfs %s", t->rootfs);
	}
	return 0;
}

/* Whether path is below dir (not dir itself). */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

/* The mount points of the config's mounts, as create makes them: CRIU
 * mounts on them but does not make them, and a rootfs copied elsewhere to
 * be restored lacks what create added. Only those on the rootfs itself:
 * below another mount (proc, a tmpfs, a bind) that filesystem has them,
 * or CRIU restores its contents. */
static int make_mount_points(const struct restore_target *t, const char *root,
			     struct husk_error *err)
{
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, "restore: open %s", root);
	for (size_t i = 0; i < t->cfg->mounts.len; i++) {
		const struct oci_mount *m = &t->cfg->mounts.items[i];
		bool nested = false;
		if (m->destination == NULL)
			continue;
		for (size_t k = 0; k < t->cfg->mounts.len && !nested; k++)
			nested = k != i && t->cfg->mounts.items[k].destination &&
				 below(m->destination, t->cfg->mounts.items[k].destination);
		if (nested)
			continue;
		/* a bind of a file is mounted on a file */
		bool dir = true;
		if (m->source && m->type && strcmp(m->type, "bind") == 0) {
			struct stat st;
			_cleanup_free_ char *src = NULL;
			if (m->source[0] != '/' &&
			    str_fmt(&src, PATH_MAX, err, "mounts[].source", "%s/%s", t->bundle, m->source) < 0)
				return -err->code;
			if (stat(src ? src : m->source, &st) == 0 && !S_ISDIR(st.st_mode))
				dir = false;
		}
		int fd = create_in_root(rootfd, m->destination, dir, 0644, err);
		if (fd < 0)
			return err_prefix(err, "restore: mounts[%zu]: mount point %s", i, m->destination);
		close(fd);
	}
	return 0;
}

static int restore_with_criu(void *arg, const struct restore_target *t, pid_t *pid,
			     struct husk_error *err)
{
	const struct restore_opts *o = arg;
	_cleanup_strbuf_ struct strbuf root = STRBUF_INIT;
	struct criu_mounts mounts = { 0 };
	int ns_fds[2] = { -1, -1 };
	struct criu_inherit inherit[2];
	size_t n_ns = 0;
	int image_fd = -1, work_fd = -1;
	const char *work_path = NULL;
	bool root_made = false;
	struct criu_resp resp;
	struct criu_opts co;
	struct criu_call call;
	int r;

	if ((r = external_namespaces(t->cfg, ns_fds, inherit, &n_ns, err)) < 0 ||
	    (r = criu_mounts_for(t->cfg, t->bundle, 0, true, &mounts, err)) < 0)
		goto out;
	if ((r = prepare_root(o, t, &root, err)) < 0)
		goto out;
	root_made = true;
	if ((r = make_mount_points(t, root.buf, err)) < 0)
		goto out;
	/* opened in husk's mount namespace, not before it: CRIU works in the
	 * directory of this fd and mounts there (its cgroup yard), which
	 * must be in its own namespace */
	if ((r = cr_open_dirs(&o->cr, false, &image_fd, &work_fd, &work_path, err)) < 0)
		goto out;
	co = (struct criu_opts){
		.images_dir_fd = image_fd,
		.work_dir_fd = work_fd,
		.ext_unix_sk = o->cr.ext_unix_sk,
		.tcp_established = o->cr.tcp_established,
		.shell_job = o->cr.shell_job,
		.file_locks = o->cr.file_locks,
		.auto_dedup = o->cr.auto_dedup,
		.lazy_pages = o->cr.lazy_pages,
		.empty_ns = o->cr.empty_ns,
		.evasive_devices = true,
		.rst_sibling = true,
		.manage_cgroups = true,
		.manage_cgroups_mode = o->cr.cg_mode,
		/* the dumped cgroup maps to the new container's, whatever the
		 * old one was called (and even while it still exists) */
		.cg_root = t->cgroup_path,
		.log_level = 4,
		.log_file = "restore.log",
		.root = root.buf,
		.ext_mnt = mounts.kv,
		.n_ext_mnt = mounts.n,
		.inherit_fd = inherit,
		.n_inherit_fd = n_ns,
	};
	call = (struct criu_call){
		.criu = o->g->criu ? o->g->criu : "criu",
		.type = CRIU_REQ_RESTORE,
		.opts = &co,
		.work_dir = work_path,
		.cgroup = t->cgroup,
		.pass_fds = ns_fds,
		.n_pass_fds = n_ns,
	};
	if ((r = criu_call(&call, &resp, err)) < 0) {
		err_prefix(err, "restore \"%s\"", t->id);
		goto out;
	}
	if (!resp.has_restore_pid || resp.restore_pid <= 0) {
		r = err_set(err, EPROTO, "restore \"%s\": CRIU did not say the restored pid", t->id);
		goto out;
	}
	*pid = resp.restore_pid;
out:
	if (root_made) {
		umount2(root.buf, MNT_DETACH);
		unlinkat(t->dirfd, CRIU_ROOT, AT_REMOVEDIR);
	}
	for (size_t i = 0; i < n_ns; i++)
		close(ns_fds[i]);
	criu_mounts_free(&mounts);
	if (image_fd >= 0)
		close(image_fd);
	if (work_fd >= 0)
		close(work_fd);
	return r;
}

static int restore_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		CR_COMMON_OPTIONS,
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'f' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		{ "no-pivot", no_argument, NULL, 'N' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct restore_opts o = { .g = g };
	const char *bundle = NULL, *pid_file = NULL;
	bool detach = false, subreaper = true;
	char state_root[PATH_MAX];
	int c;

	while ((c = verb_getopt(&verb_restore, argc, argv, opts)) != -1) {
		if ((c = cr_option(&verb_restore, c, &o.cr)) == 0)
			continue;
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'f':
			pid_file = optarg;
			break;
		case 'S':
			subreaper = false;
			break;
		case 'N':
			break; /* CRIU restores the mount tree itself: nothing to pivot */
		case 'c':
			return verb_usage_error(&verb_restore, "--console-socket: restoring a "
							       "container with a terminal is not "
							       "supported yet");
		default:
			return c;
		}
	}
	if ((c = verb_need_args(&verb_restore, argc, 1, "a container id")) != 0)
		return c;
	const char *id = argv[optind];

	/* the state directory, as CRIU will see it (an absolute path) */
	int rootfd;
	int r = open_root(g, true, &rootfd, err);
	if (r < 0)
		return r;
	close(rootfd);
	if (realpath(g->root, state_root) == NULL)
		return err_sys(err, errno, "--root %s", g->root);
	o.state_root = state_root;

	sigset_t all, old;
	sigfillset(&all);
	if (!detach) {
		sigprocmask(SIG_BLOCK, &all, &old);
		if (subreaper)
			prctl(PR_SET_CHILD_SUBREAPER, 1);
	}
	struct container *ct = NULL;
	r = lifecycle_restore(g, id, bundle, pid_file, restore_with_criu, &o, &ct, err);
	if (r < 0 || detach) {
		if (!detach)
			sigprocmask(SIG_SETMASK, &old, NULL);
		container_free(ct);
		return r;
	}
	/* foreground: wait as run does, then delete the container */
	int sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sigfd < 0) {
		r = err_sys(err, errno, "signalfd");
		sigprocmask(SIG_SETMASK, &old, NULL);
		container_free(ct);
		return r;
	}
	/* while we wait, other husk commands (delete --force) may act on it */
	flock(ct->dirfd, LOCK_UN);
	int status = wait_container(ct->state->pid, sigfd, -1, NULL);
	close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (flock(ct->dirfd, LOCK_EX) == 0 && faccessat(ct->dirfd, STATE_FILE, F_OK, 0) == 0) {
		/* still there: nobody deleted it while we waited */
		struct husk_error del_err = { 0 };
		container_refresh_status(ct);
		if (open_root(g, false, &rootfd, &del_err) == 0) {
			if (lifecycle_delete(rootfd, ct, true, &del_err) < 0)
				log_warn("delete %s: %s", ct->id, del_err.msg);
			close(rootfd);
		}
	}
	container_free(ct);
	return status;
}

const struct verb verb_restore = {
	.name = "restore",
	.run = restore_run,
	.summary = "restore a container from a CRIU checkpoint",
	.usage = "[OPTIONS] ID\n\n" CR_COMMON_USAGE
		 "  -b, --bundle DIR       the bundle whose config.json the container has\n"
		 "  -d, --detach           leave the restored container running and exit\n"
		 "  --pid-file FILE        write the restored init's pid to FILE\n"
		 "  --no-subreaper         do not become the subreaper of the container\n"
		 "  --no-pivot             accepted for runc compatibility (no effect)",
};
