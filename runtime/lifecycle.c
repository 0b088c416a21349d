#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/systemd.h"
#include "runtime/linux/hooks.h"
#include "runtime/linux/intelrdt.h"
#include "runtime/linux/lsm.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/netdev.h"
#include "runtime/linux/terminal.h"

int open_root(const struct husk_globals *g, bool create, int *fd, struct husk_error *err)
{
	return state_root_open(g->root, create, fd, err);
}

int open_root_for(const struct husk_globals *g, const char *id, int *fd, struct husk_error *err)
{
	int r = container_check_id(id, err);
	if (r < 0)
		return r;
	r = state_root_open(g->root, false, fd, err);
	/* no root yet: no container has ever been created there */
	if (r == -ENOENT)
		return err_set(err, ENOENT, "container \"%s\" does not exist", id);
	return r;
}

int load_container(const struct husk_globals *g, const char *id, bool lock, struct container **out,
		   struct husk_error *err)
{
	int rootfd;
	int r = open_root_for(g, id, &rootfd, err);
	if (r < 0)
		return r;
	r = container_load(rootfd, id, lock, out, err);
	close(rootfd);
	return r;
}

int write_pid_file(const char *path, pid_t pid, struct husk_error *err)
{
	char abs[PATH_MAX], num[16];
	int n = snprintf(num, sizeof(num), "%d", (int)pid);
	if (fmt_into(abs, sizeof(abs), err, "--pid-file", "%s", path) < 0)
		return -err->code;
	char *slash = strrchr(abs, '/');
	const char *name = slash ? slash + 1 : abs;
	const char *dir = slash ? (slash == abs ? "/" : abs) : ".";
	if (slash)
		*slash = '\0';
	_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_sys(err, errno, "--pid-file %s", path);
	int r = write_file_atomic(dirfd, name, num, (size_t)n, 0644, err);
	return r < 0 ? err_prefix(err, "--pid-file") : 0;
}

/* What create records of a new container: the config as husk read it
 * and the state. */
struct record {
	const struct husk_globals *g;
	const struct oci_config *cfg;
	const char *id, *bundle;
	int dirfd;
	bool rootless;
	struct container_state *creating; /* create.json as written so far */
	struct container_state *st;       /* out */
};

/* Called by container_spawn while the init sets itself up, so the writes
 * overlap its work. The annotations are shared with cfg until create
 * succeeds. */
static int record_container(void *arg, pid_t pid, uint64_t start_time, const char *cgroup_path,
			    const char *cgroup_created, struct husk_error *err)
{
	struct record *rec = arg;
	const struct oci_config *cfg = rec->cfg;
	_cleanup_free_ char *config_json = NULL;
	size_t len;
	int r;

	/* the creating record learns the init first: a create killed from
	 * here on leaves the pid delete --force checks and kills */
	struct container_state now = *rec->creating;
	now.pid = pid;
	now.has_pid = true;
	now.pid_start_time = start_time;
	/* made by now (make_cgroup runs before the init gets SYNC_GO) */
	now.cgroup_path = (char *)cgroup_path;
	now.cgroup_created = (char *)cgroup_created;
	now.cgroup_planned = NULL;
	if ((r = container_save_record(rec->dirfd, &now, err)) < 0)
		return r;
	if ((r = oci_encode(&oci_config_type, cfg, false, &config_json, &len, err)) < 0 ||
	    (r = write_file_atomic(rec->dirfd, CONFIG_COPY, config_json, len, 0600, err)) < 0)
		return r;

	char created[64], rootfs[PATH_MAX];
	log_time_now(created, sizeof(created));
	r = cfg->root->path[0] == '/'
		    ? fmt_into(rootfs, sizeof(rootfs), err, "root.path", "%s", cfg->root->path)
		    : fmt_into(rootfs, sizeof(rootfs), err, "root.path", "%s/%s", rec->bundle,
			       cfg->root->path);
	if (r < 0)
		return r;
	struct container_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return err_sys(err, ENOMEM, "create");
	rec->st = st;
	st->ociVersion = strdup(cfg->ociVersion);
	st->id = strdup(rec->id);
	st->pid = pid;
	st->has_pid = true;
	st->bundle = strdup(rec->bundle);
	st->rootfs = strdup(rootfs);
	st->created = strdup(created);
	st->pid_start_time = start_time;
	st->cgroup_path = cgroup_path ? strdup(cgroup_path) : NULL;
	st->cgroup_created = cgroup_created ? strdup(cgroup_created) : NULL;
	st->rootless = rec->rootless;
	st->systemd_cgroup = rec->g->systemd_cgroup;
	st->annotations = cfg->annotations;
	if (st->ociVersion == NULL || st->id == NULL || st->bundle == NULL || st->rootfs == NULL ||
	    st->created == NULL || (cgroup_path && st->cgroup_path == NULL))
		return err_sys(err, ENOMEM, "create: the state");
	return container_save(rec->dirfd, st, err);
}

/* create.json before create makes anything: the cgroup it is about to
 * create (where spawn's make_cgroup will put it). rec->cgroup_planned is
 * malloc'd; the other strings are borrowed. */
static int write_creating_record(const struct husk_globals *g, const struct oci_config *cfg,
				 const char *id, const char *bundle, bool rootless, int dirfd,
				 struct container_state *rec, struct husk_error *err)
{
	rec->id = (char *)id;
	rec->bundle = (char *)bundle;
	rec->rootless = rootless;
	rec->systemd_cgroup = g->systemd_cgroup;
	if (!(rootless && cgroup_mode() != CGROUP_V2)) {
		char path[4096];
		int r = cgroup_path_for(cfg, id, g->systemd_cgroup, path, sizeof(path), err);
		if (r < 0)
			return r;
		if ((rec->cgroup_planned = strdup(path)) == NULL)
			return err_sys(err, ENOMEM, "create");
	}
	return container_save_record(dirfd, rec, err);
}

/* Everything is recorded: tell the init it may outlive us. Until it
 * confirms, it keeps PDEATHSIG, so a create killed before this point takes
 * its init along (and the init never runs without its state). */
static int commit_init(int sync_fd, struct husk_error *err)
{
	struct sync_msg m;
	if (sync_send(sync_fd, SYNC_COMMIT, 0, NULL) < 0 || sync_recv(sync_fd, &m) < 0 ||
	    m.type != SYNC_COMMITTED)
		return err_set(err, EPIPE, "the container init exited before create finished");
	return 0;
}

/* The bundle directory arg names (the current one when NULL), made
 * absolute into bundle, and its config.json. */
static int load_bundle_config(const char *arg, char bundle[PATH_MAX], struct oci_config **cfg,
			      struct husk_error *err)
{
	if (realpath(arg ? arg : ".", bundle) == NULL)
		return err_sys(err, errno, "bundle %s", arg ? arg : ".");
	int bundlefd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bundlefd < 0)
		return err_sys(err, errno, "bundle %s", bundle);
	int r = oci_config_load(bundlefd, cfg, err);
	close(bundlefd);
	return r;
}

int lifecycle_create(const struct husk_globals *g, const struct create_opts *co,
		     struct container **out, struct spawn_result *res, struct husk_error *err)
{
	char bundle[PATH_MAX];
	struct oci_config *cfg = NULL;
	struct container_state *st = NULL;
	struct container_state creating = { 0 };
	/* declared before the first goto (-Wjump-misses-init) */
	struct record rec;
	struct spawn_opts so;
	struct container *c;
	bool rootless = g->rootless == 1 || (g->rootless == -1 && geteuid() != 0);
	int rootfd = -1, dirfd = -1, console_fd = co->console_fd;
	bool dir_created = false, spawned = false;
	struct husk_seccomp *seccomp = NULL;
	int listener_fd = -1;
	int *source_trees = NULL;
	int r;

	res->sync_fd = -1;
	res->start_fifo = -1;
	if ((r = container_check_id(co->id, err)) < 0)
		return r;
	if ((r = load_bundle_config(co->bundle, bundle, &cfg, err)) < 0)
		return r;
	/* before anything exists: a refused label leaves nothing behind */
	if ((r = lsm_check_config(cfg, err)) < 0 || (r = id_maps_check(cfg, err)) < 0)
		goto fail;

	if ((r = open_root(g, true, &rootfd, err)) < 0)
		goto fail;
	if ((r = container_dir_create(rootfd, co->id, &dirfd, err)) < 0)
		goto fail;
	dir_created = true;
	if ((r = write_creating_record(g, cfg, co->id, bundle, rootless, dirfd, &creating, err)) < 0)
		goto fail;
	if (co->console_socket && (r = console_socket_connect(co->console_socket, &console_fd, err)) < 0)
		goto fail;

	if (cfg->linux && cfg->linux->seccomp) {
		char cache[PATH_MAX];
		if ((r = fmt_into(cache, sizeof(cache), err, "--root", "%s/.seccomp-cache", g->root)) < 0 ||
		    (r = seccomp_prepare(cfg->linux->seccomp, cache, &seccomp, err)) < 0)
			goto fail;
		if (seccomp_uses_notify(seccomp)) {
			if (cfg->linux->seccomp->listenerPath == NULL) {
				r = err_set(err, EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY needs a listenerPath");
				goto fail;
			}
			r = seccomp_listener_connect(cfg->linux->seccomp->listenerPath, &listener_fd, err);
			if (r < 0)
				goto fail;
		}
	}

	if ((r = mount_sources_prepare(cfg, bundle, &source_trees, err)) < 0)
		goto fail;

	rec = (struct record){ .g = g, .cfg = cfg, .id = co->id, .bundle = bundle, .dirfd = dirfd,
			       .creating = &creating };
	so = (struct spawn_opts){
		.id = co->id,
		.bundle = bundle,
		.cfg = cfg,
		.state_dirfd = dirfd,
		.console_fd = console_fd,
		.preserve_fds = co->preserve_fds,
		.no_pivot = co->no_pivot,
		.no_new_keyring = co->no_new_keyring,
		.rootless = rootless,
		.systemd_cgroup = g->systemd_cgroup,
		.seccomp = seccomp,
		.listener_fd = listener_fd,
		.source_trees = source_trees,
		.on_spawned = record_container,
		.on_spawned_arg = &rec,
	};
	rec.rootless = so.rootless;
	/* nothing for the parent to do between the init's SYNC_GO and its
	 * execve (see spawn_opts) */
	so.commit_early = co->then_start && co->pid_file == NULL && !g->systemd_cgroup &&
			  !(cfg->process && cfg->process->terminal) &&
			  !(cfg->hooks && (cfg->hooks->prestart.len || cfg->hooks->createRuntime.len)) &&
			  !(seccomp && seccomp_uses_notify(seccomp));
	r = container_spawn(&so, res, err);
	st = rec.st;
	/* the init has its own copy of the filter; the notify fd went to
	 * the agent over listener_fd during the spawn */
	seccomp_free(seccomp);
	seccomp = NULL;
	if (listener_fd >= 0)
		close(listener_fd);
	listener_fd = -1;
	mount_sources_close(cfg, source_trees);
	source_trees = NULL;
	if (r < 0)
		goto fail;
	spawned = true;

	/* the state now owns the annotations it shared */
	cfg->annotations = (oci_string_map){ 0 };
	if (co->pid_file && (r = write_pid_file(co->pid_file, res->pid, err)) < 0)
		goto fail;
	if (res->start_fifo >= 0) {
		/* committed by the spawn (commit_early) */
	} else if (co->then_start) {
		/* the reader first, so that the init, once committed, finds it
		 * and goes straight on to its execve */
		res->start_fifo = openat(dirfd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (res->start_fifo < 0) {
			r = err_sys(err, errno, "start \"%s\": open exec.fifo", co->id);
			goto fail;
		}
		if (sync_send(res->sync_fd, SYNC_COMMIT, 0, NULL) < 0) {
			r = err_set(err, EPIPE, "the container init exited before create finished");
			goto fail;
		}
	} else if ((r = commit_init(res->sync_fd, err)) < 0) {
		goto fail;
	}
	netdev_moves_free(&res->moves);
	free(creating.cgroup_planned);
	creating.cgroup_planned = NULL;

	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->id = strdup(co->id)) == NULL) {
		free(c);
		r = err_sys(err, ENOMEM, "create");
		goto fail;
	}
	c->dirfd = dirfd;
	c->state = st;
	c->status = STATUS_CREATED;
	c->config = cfg;
	st->status = strdup("created");
	*out = c;
	if (co->console_socket)
		close(console_fd);
	close(rootfd);
	return 0;

fail:
	free(creating.cgroup_planned);
	if (spawned) {
		struct husk_error ignored;
		/* while its namespace lives: the devices go back where they were
		 * (a virtual one would die with it) */
		netdev_move_back(&res->moves, res->pid);
		kill(res->pid, SIGKILL);
		if (res->has_cgroup)
			cgroup_destroy(res->cgroup_path, res->cgroup_created, &ignored);
		if (cfg->linux && cfg->linux->intelRdt)
			intelrdt_remove(NULL, cfg->linux->intelRdt, co->id);
		close(res->sync_fd);
		res->sync_fd = -1;
	}
	if (res->start_fifo >= 0) {
		close(res->start_fifo);
		res->start_fifo = -1;
	}
	if (co->console_socket && console_fd >= 0)
		close(console_fd);
	seccomp_free(seccomp);
	if (listener_fd >= 0)
		close(listener_fd);
	mount_sources_close(cfg, source_trees);
	if (dir_created) {
		struct husk_error ignored;
		container_dir_remove(rootfd, co->id, dirfd, &ignored);
		close(dirfd);
	}
	if (rootfd >= 0)
		close(rootfd);
	if (st && cfg && st->annotations.keys == cfg->annotations.keys)
		st->annotations = (oci_string_map){ 0 };
	oci_free(&container_state_type, st);
	oci_free(&oci_config_type, cfg);
	return r;
}

static int wait_pidfd(int pidfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n;
	while ((n = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return n;
}

static int start_through(struct container *c, int pidfd, int fifo, int sync_fd,
			 struct husk_error *err);

int lifecycle_start(struct container *c, struct husk_error *err)
{
	if (c->status != STATUS_CREATED)
		return err_set(err, EINVAL, "cannot start container \"%s\": it is %s, not created", c->id,
			       status_name(c->status));
	/* before the fifo: once that is open, the init may run and go */
	int pidfd = container_pidfd(c);
	if (pidfd < 0)
		return err_set(err, ESRCH, "cannot start container \"%s\": its init has exited", c->id);
	int fifo = openat(c->dirfd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0) {
		int e = errno;
		close(pidfd);
		return err_sys(err, e, "start \"%s\": open exec.fifo", c->id);
	}
	return start_through(c, pidfd, fifo, -1, err);
}

int lifecycle_start_opened(struct container *c, int fifo, int sync_fd, struct husk_error *err)
{
	/* run's init is our child, not yet reaped: its pid cannot have been
	 * reused, and it may have run and exited already (a zombie, which
	 * container_pidfd refuses) */
	int pidfd = pidfd_open(c->state->pid, 0);
	if (pidfd < 0) {
		int e = errno;
		close(fifo);
		return err_sys(err, e, "start \"%s\": pidfd_open of its init", c->id);
	}
	return start_through(c, pidfd, fifo, sync_fd, err);
}

/* pidfd and fifo (the read end of exec.fifo) are closed here. sync_fd:
 * the init's sync socket when it was committed without waiting for its
 * answer (then_start), else -1. */
static int start_through(struct container *c, int pidfd_in, int fifo_in, int sync_fd,
			 struct husk_error *err)
{
	_cleanup_close_ int pidfd = pidfd_in;
	_cleanup_close_ int fifo = fifo_in;

	/* The init opens the write end when we open ours, and it closes on
	 * its execve: end of file means the process runs. Text before that is
	 * the error that stopped it; the init dying unseen means it failed. */
	struct pollfd pfd[2] = { { .fd = fifo, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
	char why[HUSK_ERROR_MAX];
	size_t got = 0;
	bool writer_seen = false;
	for (;;) {
		int n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "start \"%s\": poll", c->id);
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(fifo, why + got, sizeof(why) - 1 - got);
			if (r > 0) {
				got += (size_t)r;
				writer_seen = true;
				if (got < sizeof(why) - 1)
					continue;
			}
			if (r == 0 || got == sizeof(why) - 1)
				break;
		}
		if ((pfd[1].revents & POLLIN) && !(pfd[0].revents & (POLLIN | POLLHUP))) {
			if (writer_seen)
				break;
			unlinkat(c->dirfd, EXEC_FIFO, 0);
			return err_set(err, ESRCH, "cannot start container \"%s\": its init exited", c->id);
		}
	}
	if (got > 0) {
		why[got] = '\0';
		unlinkat(c->dirfd, EXEC_FIFO, 0);
		return err_set(err, ECANCELED, "start \"%s\": %s", c->id, why);
	}
	unlinkat(c->dirfd, EXEC_FIFO, 0);
	if (sync_fd >= 0) {
		/* the init said it before it opened the fifo: waiting for
		 * nothing, and read so no later reader takes it for news */
		struct sync_msg m;
		if (sync_recv(sync_fd, &m) < 0 || m.type != SYNC_COMMITTED)
			return err_set(err, EPROTO, "start \"%s\": the container init did not confirm "
						    "its commit", c->id);
	}
	c->status = STATUS_RUNNING;
	free(c->state->status);
	c->state->status = strdup("running");

	struct oci_config *cfg = NULL;
	struct husk_error cfg_err = { 0 };
	/* the container runs now: a lost config cannot undo that, but the
	 * hooks it held must not be skipped in silence */
	if (container_config(c, &cfg, &cfg_err) < 0)
		log_warn("container \"%s\": poststart hooks not run: the saved config (%s in its "
			 "state directory) cannot be read: %s",
			 c->id, CONFIG_COPY, cfg_err.msg);
	else if (cfg->hooks && cfg->hooks->poststart.len) {
		_cleanup_free_ char *state = NULL;
		int r = hook_state_json(c->id, "running", c->state->pid, c->state->bundle,
					&c->state->annotations, &state, err);
		if (r == 0)
			r = hooks_run("poststart", &cfg->hooks->poststart, state, err);
		if (r < 0) {
			/* runtime-spec 1.3 (as runc 1.2): a failed poststart hook is
			 * an error and stops the container (its init, as runc:
			 * delete removes whatever else its cgroup holds and runs
			 * the poststop hooks) */
			if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) == 0)
				wait_pidfd(pidfd, 10000);
			c->status = STATUS_STOPPED;
			free(c->state->status);
			c->state->status = strdup("stopped");
			return err_prefix(err, "start \"%s\" (the container was stopped)", c->id);
		}
	}
	return 0;
}

int lifecycle_kill(struct container *c, int sig, bool all, struct husk_error *err)
{
	if (c->status == STATUS_STOPPED)
		return err_set(err, ESRCH, "container \"%s\": container not running", c->id);
	if (all && c->state->cgroup_path)
		return cgroup_kill(c->state->cgroup_path, sig, err);
	_cleanup_close_ int pidfd = container_pidfd(c);
	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\": container not running", c->id);
	if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			return err_set(err, ESRCH, "container \"%s\": container not running", c->id);
		return err_sys(err, errno, "kill container \"%s\"", c->id);
	}
	return 0;
}

/* Kill the container's init when its pidfd and recorded start time prove
 * it is the one, and everything in its cgroup. */
static int kill_everything(struct container *c, struct husk_error *err)
{
	struct husk_error ignored;
	const char *cg = c->state->cgroup_path;
	if (cg && cgroup_is_frozen(cg)) {
		/* frozen processes take SIGKILL only once thawed */
		enum container_status was = c->status;
		c->status = STATUS_PAUSED;
		lifecycle_kill(c, SIGKILL, true, &ignored);
		c->status = was;
		cgroup_freeze(cg, false, &ignored);
	}
	_cleanup_close_ int pidfd = container_pidfd(c);
	if (pidfd < 0)
		return 0; /* gone, or never spawned (killed by PDEATHSIG if create died) */
	if (cg)
		cgroup_destroy(cg, c->state->cgroup_created, &ignored);
	if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return err_sys(err, errno, "container \"%s\": kill its init", c->id);
	if (wait_pidfd(pidfd, 10000) == 0)
		return err_set(err, ETIMEDOUT, "container \"%s\": the init did not die", c->id);
	return 0;
}

/* A cgroup create.json names from before the init existed: create may
 * have made it, or died before, and the path may be another tool's. Only
 * once no process is in it (an init of ours dies with its create, by
 * PDEATHSIG) is it removed; processes nothing proves ours are left alone. */
static int remove_planned_cgroup(const char *path, struct husk_error *err)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	for (int attempt = 0; attempt < 100; attempt++) {
		pid_t *pids = NULL;
		size_t n = 0;
		struct husk_error ignored;
		if (cgroup_pids(path, &pids, &n, &ignored) < 0)
			n = 0; /* not there (or not readable): nothing in it to kill */
		free(pids);
		if (n == 0)
			return cgroup_remove_planned(path, err);
		nanosleep(&pause, NULL);
	}
	return err_set(err, EBUSY,
		       "cgroup %s holds processes that nothing recorded proves are the container's: "
		       "left alone",
		       path);
}

int lifecycle_delete(int rootfd, struct container *c, bool force, struct husk_error *err)
{
	int r;
	if (!force && c->status == STATUS_DAMAGED)
		return err_set(err, EUCLEAN, "cannot delete container \"%s\": %s (use --force)", c->id,
			       c->damage);
	if (!force && c->status != STATUS_STOPPED && c->status != STATUS_CREATED)
		return err_set(err, EBUSY,
			       "cannot delete container \"%s\": it is %s (use --force to kill it)", c->id,
			       status_name(c->status));
	if (c->damage)
		log_warn("container \"%s\": %s; removing what create.json records", c->id, c->damage);
	if ((r = kill_everything(c, err)) < 0)
		return r;
	if (c->state->cgroup_path &&
	    (r = cgroup_destroy(c->state->cgroup_path, c->state->cgroup_created, err)) < 0)
		return err_prefix(err, "delete \"%s\"", c->id);
	if (c->state->cgroup_path && c->state->systemd_cgroup) {
		/* its scope, empty now: systemd may have dropped it already */
		struct husk_error stop_err = { 0 };
		if (systemd_stop(c->state->cgroup_path, &stop_err) < 0)
			log_warn("delete \"%s\": %s", c->id, stop_err.msg);
	}
	if (c->state->cgroup_planned && (r = remove_planned_cgroup(c->state->cgroup_planned, err)) < 0)
		return err_prefix(err, "delete \"%s\"", c->id);
	struct oci_config *cfg = NULL;
	struct husk_error cfg_err = { 0 };
	/* the container is gone: refusing to delete it would block its id */
	if (container_config(c, &cfg, &cfg_err) < 0)
		log_warn("container \"%s\": poststop hooks not run: the saved config (%s in its "
			 "state directory) cannot be read: %s",
			 c->id, CONFIG_COPY, cfg_err.msg);
	/* the resctrl groups made for it (the init is dead: they are empty) */
	if (cfg && cfg->linux && cfg->linux->intelRdt)
		intelrdt_remove(NULL, cfg->linux->intelRdt, c->id);
	if (cfg && cfg->hooks && cfg->hooks->poststop.len) {
		_cleanup_free_ char *state = NULL;
		struct husk_error hook_err = { 0 };
		/* every one runs, each failure a warning (runtime-spec) */
		if (hook_state_json(c->id, "stopped", 0, c->state->bundle, &c->state->annotations, &state,
				    &hook_err) < 0)
			log_warn("poststop hooks not run: %s", hook_err.msg);
		else
			hooks_run_all("poststop", &cfg->hooks->poststop, state);
	}
	/* Neither record is readable, yet create got as far as config.json:
	 * whatever init and cgroup it made cannot be proven ours. Clear the
	 * id, but do not claim success. */
	bool unproven = c->from_record && !c->state->has_pid && c->state->cgroup_path == NULL &&
			c->state->cgroup_planned == NULL &&
			faccessat(c->dirfd, CONFIG_COPY, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	/* last: until the records go, delete --force can do all this again */
	if ((r = container_dir_remove(rootfd, c->id, c->dirfd, err)) < 0)
		return r;
	if (unproven)
		return err_set(err, EUCLEAN,
			       "container \"%s\": neither %s nor %s says which init and cgroup were its: "
			       "removed its state directory only; its processes and cgroups, if any, "
			       "are left",
			       c->id, STATE_FILE, CREATE_RECORD);
	return 0;
}

static const struct {
	const char *name;
	int number;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
	{ "FPE", SIGFPE },   { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD },    { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
	{ "URG", SIGURG },   { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },
	{ "PWR", SIGPWR },   { "SYS", SIGSYS },
};

int signal_parse(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && *end == '\0')
		return n > 0 && n < _NSIG ? (int)n : -EINVAL;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcmp(signals[i].name, s) == 0)
			return signals[i].number;
	if (strncmp(s, "RTMIN", 5) == 0 || strncmp(s, "RTMAX", 5) == 0) {
		int base = s[2] == 'M' && s[3] == 'I' ? SIGRTMIN : SIGRTMAX;
		long off = 0;
		if (s[5] == '+' || s[5] == '-') {
			off = strtol(s + 5, &end, 10);
			/* bounded before the sum: strtol saturates at LONG_MAX */
			if (*end || off < -(SIGRTMAX - SIGRTMIN) || off > SIGRTMAX - SIGRTMIN)
				return -EINVAL;
		} else if (s[5]) {
			return -EINVAL;
		}
		long v = base + off;
		return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -EINVAL;
	}
	return -EINVAL;
}

int lifecycle_restore(const struct husk_globals *g, const char *id, const char *bundle_arg,
		      const char *pid_file, restore_fn fn, void *arg, struct container **out,
		      struct husk_error *err)
{
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	struct oci_config *cfg = NULL;
	struct container_state creating = { 0 };
	struct cgroup_join join = CGROUP_JOIN_NONE;
	struct record rec = { 0 };
	struct restore_target t;
	struct container *c;
	char *cgroup_created = NULL;
	int rootfd = -1, dirfd = -1;
	bool dir_created = false, has_cgroup = false;
	pid_t pid = 0;
	int r;

	if ((r = container_check_id(id, err)) < 0)
		return r;
	if (g->rootless == 1 || (g->rootless == -1 && geteuid() != 0))
		return err_set(err, EPERM, "restore \"%s\": CRIU needs root; rootless containers "
					   "cannot be restored", id);
	if ((r = load_bundle_config(bundle_arg, bundle, &cfg, err)) < 0)
		return r;
	r = cfg->root->path[0] == '/'
		    ? fmt_into(rootfs, sizeof(rootfs), err, "root.path", "%s", cfg->root->path)
		    : fmt_into(rootfs, sizeof(rootfs), err, "root.path", "%s/%s", bundle,
			       cfg->root->path);
	if (r < 0)
		goto fail;
	if ((r = open_root(g, true, &rootfd, err)) < 0)
		goto fail;
	if ((r = container_dir_create(rootfd, id, &dirfd, err)) < 0)
		goto fail;
	dir_created = true;
	if ((r = write_creating_record(g, cfg, id, bundle, false, dirfd, &creating, err)) < 0)
		goto fail;
	if (creating.cgroup_planned) {
		if ((r = cgroup_create(creating.cgroup_planned, cfg, &join, &cgroup_created, err)) < 0)
			goto fail;
		has_cgroup = true;
	}

	t = (struct restore_target){ .id = id, .cfg = cfg, .bundle = bundle, .rootfs = rootfs,
				     .dirfd = dirfd, .cgroup = has_cgroup ? &join : NULL,
				     .cgroup_path = has_cgroup ? creating.cgroup_planned : NULL };
	r = fn(arg, &t, &pid, err);
	cgroup_join_close(&join);
	if (r < 0)
		goto fail;

	rec = (struct record){ .g = g, .cfg = cfg, .id = id, .bundle = bundle, .dirfd = dirfd,
			       .creating = &creating };
	if ((r = record_container(&rec, pid, process_start_time(pid), creating.cgroup_planned, cgroup_created,
				  err)) < 0)
		goto fail;
	cfg->annotations = (oci_string_map){ 0 }; /* the state owns them now */
	if (pid_file && (r = write_pid_file(pid_file, pid, err)) < 0)
		goto fail;

	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->id = strdup(id)) == NULL) {
		free(c);
		r = err_sys(err, ENOMEM, "restore");
		goto fail;
	}
	c->dirfd = dirfd;
	c->state = rec.st;
	c->status = STATUS_RUNNING;
	c->config = cfg;
	c->state->status = strdup("running");
	free(creating.cgroup_planned);
	free(cgroup_created);
	close(rootfd);
	*out = c;
	return 0;

fail:
	if (pid > 0) {
		/* restored as our child (CRIU's rst_sibling) */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (has_cgroup) {
		struct husk_error ignored;
		cgroup_join_close(&join);
		cgroup_destroy(creating.cgroup_planned, cgroup_created, &ignored);
	}
	free(creating.cgroup_planned);
	free(cgroup_created);
	if (dir_created) {
		struct husk_error ignored;
		container_dir_remove(rootfd, id, dirfd, &ignored);
		close(dirfd);
	}
	if (rootfd >= 0)
		close(rootfd);
	if (rec.st && rec.st->annotations.keys == cfg->annotations.keys)
		rec.st->annotations = (oci_string_map){ 0 };
	oci_free(&container_state_type, rec.st);
	oci_free(&oci_config_type, cfg);
	return r;
}
