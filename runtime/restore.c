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
#include "runtime/linux/hooks.h"
#include "runtime/linux/terminal.h"
#include "oci-spec/json.h"

#define CRIU_ROOT "criu-root"

struct restore_opts {
	const struct husk_globals *g;
	struct cr_opts cr;
	const char *state_root; /* --root, absolute */
	const char *console_socket;
	bool detach;
	int tty_master; /* out: the restored pty's master, kept for the foreground */
};

/* What the notifications CRIU sends during a restore act on. */
struct restore_notify {
	struct restore_opts *o;
	const struct restore_target *t;
	int console_fd; /* connected --console-socket, or -1 */
};

/* CRIU's notifications during a restore, as runc handles them:
 * setup-namespaces (the restored init exists, its namespaces are made)
 * runs the prestart and createRuntime hooks; orphan-pts-master carries
 * the master of the pty CRIU made for the container's terminal, which
 * goes to the console socket (or stays with husk in the foreground). */
static int restore_notify(void *arg, const struct criu_resp *note, int fd, struct husk_error *err)
{
	struct restore_notify *n = arg;
	const struct oci_config *cfg = n->t->cfg;

	if (strcmp(note->notify_script, "orphan-pts-master") == 0) {
		if (fd < 0)
			return err_set(err, EPROTO, "restore: CRIU sent no pty master with "
						    "orphan-pts-master");
		if (terminal_check_master(fd) < 0) {
			close(fd);
			return err_set(err, EPROTO, "restore: what CRIU sent as the pty master is not one");
		}
		if (n->console_fd >= 0) {
			int r = send_fd(n->console_fd, fd, "/dev/ptmx");
			close(fd);
			if (r < 0)
				return err_sys(err, -r, "--console-socket %s: send the pty master",
					       n->o->console_socket);
			return 0;
		}
		if (n->o->tty_master >= 0)
			close(n->o->tty_master);
		n->o->tty_master = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (strcmp(note->notify_script, "setup-namespaces") == 0 && cfg->hooks &&
	    (cfg->hooks->prestart.len || cfg->hooks->createRuntime.len)) {
		_cleanup_free_ char *state = NULL;
		int r = hook_state_json(n->t->id, "creating", note->notify_pid, n->t->bundle,
					&cfg->annotations, &state, err);
		if (r < 0)
			return r;
		log_debug("restore %s: running the prestart and createRuntime hooks", n->t->id);
		if ((r = hooks_run("prestart", &cfg->hooks->prestart, state, err)) < 0 ||
		    (r = hooks_run("createRuntime", &cfg->hooks->createRuntime, state, err)) < 0)
			return r;
	}
	return 0;
}

/* descriptors.json (written by checkpoint, as runc does): what the init's
 * stdin, stdout and stderr were. Those that were pipes (a caller such as
 * conmon holding their other ends) are handed to CRIU as husk's own
 * stdio: the restored process writes to whoever runs the restore. An
 * image without the file restores the stdio CRIU saved. */
static int stdio_pipes(int image_fd, char keys[3][64], struct criu_inherit *inh, size_t *n,
		       int *pass_fds, size_t *n_pass, struct husk_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct json_node *root = NULL;
	struct stat st;
	size_t len;
	int r;
	/* the images may come from elsewhere (a checkpoint archive): a
	 * regular file only, never a link, a fifo or a device */
	_cleanup_close_ int fd = openat(image_fd, DESCRIPTORS_FILE,
					O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_sys(err, errno, "%s", DESCRIPTORS_FILE);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "%s", DESCRIPTORS_FILE);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", DESCRIPTORS_FILE);
	if ((r = read_fd_all(fd, DESCRIPTORS_FILE, 64 * 1024, &buf, &len, err)) < 0)
		return r;
	if ((r = json_parse(buf, len, DESCRIPTORS_FILE, &root, err)) < 0)
		return r;
	if (root->type != JSON_ARRAY) {
		r = err_set(err, EINVAL, "%s: is %s, not an array of the stdio fds' targets",
			    DESCRIPTORS_FILE, json_type_phrase(root->type));
		goto out;
	}
	for (size_t i = 0; i < root->array.len && i < 3; i++) {
		const struct json_node *e = root->array.items[i];
		if (e->type != JSON_STRING) {
			r = err_set(err, EINVAL, "%s[%zu]: is %s, not a string", DESCRIPTORS_FILE, i,
				    json_type_phrase(e->type));
			goto out;
		}
		/* pipe:[INODE], as the kernel names it, and tty[RDEV:DEV], a
		 * terminal outside the container (checkpoint --shell-job);
		 * nothing else is used */
		bool pipe = strncmp(e->string.s, "pipe:[", 6) == 0;
		bool tty = strncmp(e->string.s, "tty[", 4) == 0;
		if ((!pipe && !tty) || e->string.len >= sizeof(keys[0]) ||
		    strlen(e->string.s) != e->string.len)
			continue;
		/* one terminal is one file to CRIU, handed over once */
		bool seen = false;
		for (size_t k = 0; k < *n; k++)
			seen |= strcmp(inh[k].key, e->string.s) == 0;
		if (seen)
			continue;
		if (tty && !isatty((int)i)) {
			r = err_set(err, ENOTTY, "%s[%zu]: the checkpoint's %s was a terminal outside the "
						 "container (%s): husk restore's must be a terminal too",
				    DESCRIPTORS_FILE, i, i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr",
				    e->string.s);
			goto out;
		}
		memcpy(keys[i], e->string.s, e->string.len + 1);
		inh[*n] = (struct criu_inherit){ .key = keys[i], .fd = (int)i };
		if (tty) {
			/* a copy, passed as one of criu's own fds: CRIU moves an
			 * inherited fd away, and with --shell-job it wants its
			 * stdin (a terminal) left where it is */
			int copy = fcntl((int)i, F_DUPFD_CLOEXEC, 3);
			if (copy < 0) {
				r = err_sys(err, errno, "%s[%zu]: dup", DESCRIPTORS_FILE, i);
				goto out;
			}
			inh[*n].fd = 4 + (int)*n_pass;
			pass_fds[(*n_pass)++] = copy;
		}
		(*n)++;
	}
out:
	json_free(root);
	return r;
}

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
	struct restore_opts *o = arg;
	_cleanup_strbuf_ struct strbuf root = STRBUF_INIT;
	struct criu_mounts mounts = { 0 };
	int ns_fds[5] = { -1, -1, -1, -1, -1 }; /* namespaces, then terminals */
	struct criu_inherit inherit[5];
	char stdio_keys[3][64];
	size_t n_ns = 0, n_inherit, n_pass;
	struct restore_notify notify = { .o = o, .t = t, .console_fd = -1 };
	int image_fd = -1, work_fd = -1;
	const char *work_path = NULL;
	bool root_made = false;
	struct criu_resp resp;
	struct criu_opts co;
	struct criu_call call;
	int r;

	/* as runc: detached, the pty master needs somewhere to go */
	if (t->cfg->process && t->cfg->process->terminal && o->detach && !o->console_socket &&
	    !o->cr.shell_job)
		return err_set(err, EINVAL, "restore \"%s\": process.terminal is set: --detach needs "
					    "--console-socket to send the pty master to", t->id);
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
	n_inherit = n_pass = n_ns;
	r = stdio_pipes(image_fd, stdio_keys, inherit, &n_inherit, ns_fds, &n_pass, err);
	n_ns = n_pass; /* the fds to close */
	if (r < 0) {
		err_prefix(err, "restore \"%s\": --image-path %s", t->id,
			   o->cr.image_path ? o->cr.image_path : "checkpoint");
		goto out;
	}
	/* connected before CRIU runs: a socket nobody listens on fails here,
	 * with nothing restored yet */
	if (t->cfg->process && t->cfg->process->terminal && o->console_socket &&
	    (r = console_socket_connect(o->console_socket, &notify.console_fd, err)) < 0)
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
		/* a pty whose master was outside (the console) comes back with
		 * a new master, sent to us (orphan-pts-master) */
		.orphan_pts_master = true,
		.notify_scripts = true,
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
		.n_inherit_fd = n_inherit,
	};
	call = (struct criu_call){
		.criu = o->g->criu ? o->g->criu : "criu",
		.type = CRIU_REQ_RESTORE,
		.opts = &co,
		.work_dir = work_path,
		.cgroup = t->cgroup,
		.pass_fds = ns_fds,
		.n_pass_fds = n_pass,
		.notify = restore_notify,
		.notify_arg = &notify,
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
	if (notify.console_fd >= 0)
		close(notify.console_fd);
	if (r < 0 && o->tty_master >= 0) {
		close(o->tty_master);
		o->tty_master = -1;
	}
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
	struct restore_opts o = { .g = g, .tty_master = -1 };
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
			o.console_socket = optarg;
			break;
		default:
			return c;
		}
	}
	if ((c = verb_need_args(&verb_restore, argc, 1, "a container id")) != 0)
		return c;
	const char *id = argv[optind];
	o.detach = detach;

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
		if (o.tty_master >= 0)
			close(o.tty_master);
		container_free(ct);
		return r;
	}
	/* the restored terminal, relayed to ours as run does */
	struct tty_proxy tty = { .master = o.tty_master };
	if (tty.master >= 0)
		tty_proxy_begin(&tty);
	/* foreground: wait as run does, then delete the container */
	int sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sigfd < 0) {
		r = err_sys(err, errno, "signalfd");
		sigprocmask(SIG_SETMASK, &old, NULL);
		tty_proxy_end(&tty);
		if (tty.master >= 0)
			close(tty.master);
		container_free(ct);
		return r;
	}
	/* while we wait, other husk commands (delete --force) may act on it */
	flock(ct->dirfd, LOCK_UN);
	int status = wait_container(ct->state->pid, sigfd, -1, tty.master >= 0 ? &tty : NULL);
	close(sigfd);
	tty_proxy_end(&tty);
	if (tty.master >= 0)
		close(tty.master);
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
		 "  --console-socket SOCK  send the restored terminal's pty master to this socket\n"
		 "  --no-subreaper         do not become the subreaper of the container\n"
		 "  --no-pivot             accepted for runc compatibility (no effect)",
};
