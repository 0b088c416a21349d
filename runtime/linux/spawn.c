#include "runtime/linux/spawn.h"
#include "runtime/linux/systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "runtime/container.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/cloned-exe.h"
#include "runtime/linux/hooks.h"
#include "runtime/linux/intelrdt.h"
#include "runtime/linux/mempolicy.h"
#include "runtime/linux/devices.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/netdev.h"
#include "runtime/linux/pidns-proc.h"
#include "runtime/linux/process.h"
#include "runtime/linux/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int sync_send_fds(int fd, int type, int value, const char *text, const int *fds, size_t n_fds)
{
	struct sync_msg m = { .type = type, .value = value };
	union {
		char buf[CMSG_SPACE(sizeof(int) * CGROUP_MAX_HIERARCHIES)];
		struct cmsghdr align;
	} ctl;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	struct iovec iov = { .iov_base = &m,
			     .iov_len = offsetof(struct sync_msg, text) + strlen(m.text) + 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds > CGROUP_MAX_HIERARCHIES)
		return -EINVAL;
	if (n_fds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	while (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int sync_send(int fd, int type, int value, const char *text)
{
	return sync_send_fds(fd, type, value, text, NULL, 0);
}

int sync_recv_fds(int fd, struct sync_msg *m, int *fds, size_t max_fds, size_t *n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CGROUP_MAX_HIERARCHIES)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;
	if (n_fds)
		*n_fds = 0;
	/* A peer that exits with our message unread resets the connection:
	 * the first read reports that (once), what it sent is still queued. */
	while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0) {
		if (errno != EINTR && errno != ECONNRESET)
			return -errno;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *got = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			if (n_fds && *n_fds < max_fds)
				fds[(*n_fds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < offsetof(struct sync_msg, text) + 1)
		return -EBADMSG;
	m->text[sizeof(m->text) - 1] = '\0';
	return 0;
}

int sync_recv(int fd, struct sync_msg *m)
{
	return sync_recv_fds(fd, m, NULL, 0, NULL);
}

int sync_hand_over(int sync_fd, int type, int fd, struct husk_error *err)
{
	const char *what = type == SYNC_PTY ? "the pty master" : "the seccomp listener fd";
	struct sync_msg m;
	ssize_t n;
	int r = sync_send_fds(sync_fd, type, 0, NULL, &fd, 1);
	if (r < 0)
		return err_sys(err, -r, "hand %s to husk", what);
	while ((n = read(sync_fd, &m, sizeof(m))) < 0 && errno == EINTR)
		;
	if (n < (ssize_t)offsetof(struct sync_msg, text) || m.type != SYNC_HANDED_OVER)
		return err_set(err, EPIPE, "husk did not take %s", what);
	return 0;
}

int handover_forward(int sync_fd, const struct sync_msg *m, int *fds, size_t n,
		     struct handover *h, struct husk_error *err)
{
	int fd = n == 1 ? fds[0] : -1, r = 0;
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	if (m->type == SYNC_PTY) {
		if (fd < 0 || !h->want_pty || h->pty_done || terminal_check_master(fd) < 0)
			r = err_set(err, EPROTO, "the container process handed over %s",
				    !h->want_pty ? "a pty master, having no terminal"
				    : h->pty_done ? "a second pty master"
						  : "something that is not a pty master");
		else if (h->console_fd >= 0 && (r = send_fd(h->console_fd, fd, "/dev/ptmx")) < 0)
			r = err_sys(err, -r, "terminal: send the pty master to the console socket");
		else if (h->console_fd < 0) {
			h->pty_master = fd;
			fd = -1;
		}
		h->pty_done = true;
	} else {
		if (fd < 0 || h->seccomp_done || h->listener_fd < 0 || seccomp_check_notify_fd(fd) < 0)
			r = err_set(err, EPROTO, "the container process handed over %s",
				    h->seccomp_done || h->listener_fd < 0 ? "an unexpected seccomp listener fd"
									  : "something that is not a seccomp listener fd");
		else
			r = seccomp_notify_send_on(h->listener_fd, fd, h->pid, h->listener_metadata,
						   h->state_json, err);
		h->seccomp_done = true;
	}
	if (fd >= 0)
		close(fd);
	if (r == 0 && (r = sync_send(sync_fd, SYNC_HANDED_OVER, 0, NULL)) < 0)
		r = err_sys(err, -r, "answer the container process");
	return r;
}

int close_fds_except(unsigned from, int *keep, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = from;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
			return -errno;
		lo = (unsigned)keep[i] + 1;
	}
	if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
		return -errno;
	return 0;
}

static pid_t clone3_fork(uint64_t flags, int exit_signal)
{
	struct clone_args args = { .flags = flags, .exit_signal = (uint64_t)exit_signal };
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

pid_t clone_into_cgroup(uint64_t flags, const struct cgroup_join *j, bool *placed)
{
	*placed = false;
	if (j->dirfd >= 0) {
		struct clone_args args = { .flags = flags | CLONE_INTO_CGROUP,
					   .exit_signal = SIGCHLD,
					   .cgroup = (uint64_t)j->dirfd };
		*placed = true;
		pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		/* kernels before 5.7 know clone3 but not CLONE_INTO_CGROUP,
		 * and some setups refuse it: the child then joins by itself */
		if (pid >= 0 || (errno != EINVAL && errno != EOPNOTSUPP && errno != E2BIG &&
				 errno != EPERM && errno != EACCES && errno != ENOSYS))
			return pid;
		log_debug("clone3 CLONE_INTO_CGROUP: %s; joining through cgroup.procs",
			  strerror(errno));
		*placed = false;
	}
	return clone3_fork(flags, SIGCHLD);
}

static _Noreturn void child_fail(int sync_fd, struct husk_error *err)
{
	sync_send(sync_fd, SYNC_ERROR, 0, err->msg);
	_exit(1);
}

static int write_time_offsets(const struct oci_linux *lx, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	for (size_t i = 0; i < lx->timeOffsets.len; i++) {
		const char *clock = lx->timeOffsets.keys[i];
		if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0)
			return err_set(err, EINVAL,
				       "linux.timeOffsets: unknown clock \"%s\" (monotonic or boottime)",
				       clock);
		sb_addf(&buf, "%s %lld %u\n", clock, (long long)lx->timeOffsets.values[i].secs,
			lx->timeOffsets.values[i].nanosecs);
	}
	if (sb_check(&buf, err, "linux.timeOffsets") < 0)
		return -err->code;
	if (buf.len == 0)
		return 0;
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : write_all(fd, buf.buf, buf.len);
	if (r < 0)
		return err_sys(err, -r, "linux.timeOffsets: write /proc/self/timens_offsets");
	return 0;
}

/* The slow path's first child: join namespaces by path, unshare the new
 * ones (user first, so the parent can map it), then fork the init into the
 * new pid and time namespaces as a child of husk (CLONE_PARENT). */
static _Noreturn void stage(const struct spawn_opts *o, const struct ns_plan *plan, int sync_fd,
			    int fifo_fd, bool new_cgroupns, int join_pidns_fd, bool proc_helper)
{
	struct husk_error err = { 0 };
	struct sync_msg m;
	bool userns = ns_plan_has(plan, CLONE_NEWUSER);
	struct shared_pidns shared = { .fd = join_pidns_fd, .proc_contexts = NULL, .procfd = -1 };

	/* die with husk while it still waits for us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* from the user namespace joined, the init could not mount procfs
	 * for husk's pid namespace, which it uses until it forks into the
	 * shared one (check_pidns_userns refused a new user namespace) */
	if (join_pidns_fd >= 0 && userns && (shared.procfd = private_procfs()) < 0) {
		err_sys(&err, -shared.procfd, "mount a private procfs");
		child_fail(sync_fd, &err);
	}
	/* a shared pid namespace is joined by the init itself, once rooted
	 * in the container */
	struct ns_plan joins = *plan;
	for (size_t i = 0; i < ns_kinds_count; i++)
		if (join_pidns_fd >= 0 && joins.join_fd[i] == join_pidns_fd)
			joins.join_fd[i] = -1;
	if (ns_plan_join(&joins, &err) < 0)
		child_fail(sync_fd, &err);
	if (plan->new_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0) {
			err_sys(&err, errno, "unshare the user namespace");
			child_fail(sync_fd, &err);
		}
		if (sync_send(sync_fd, SYNC_WRITE_MAPS, 0, NULL) < 0 || sync_recv(sync_fd, &m) < 0 ||
		    m.type != SYNC_GO)
			_exit(1);
	}
	if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		log_debug("root is not mapped in the user namespace");
	if (unshare(plan->new_flags & ~CLONE_NEWUSER) < 0) {
		err_sys(&err, errno, "unshare namespaces");
		child_fail(sync_fd, &err);
	}
	if ((plan->new_flags & CLONE_NEWTIME) && o->cfg->linux &&
	    write_time_offsets(o->cfg->linux, &err) < 0)
		child_fail(sync_fd, &err);
	/* in the container's namespaces (but the pid one), as the init will be */
	int *proc_contexts = NULL;
	if (proc_helper && pidns_proc_contexts(o->cfg, join_pidns_fd, &proc_contexts, &err) < 0)
		child_fail(sync_fd, &err);
	shared.proc_contexts = proc_contexts;
	pid_t init = clone3_fork(CLONE_PARENT, 0);
	if (init < 0) {
		err_sys(&err, errno, "fork the container init");
		child_fail(sync_fd, &err);
	}
	if (init == 0)
		container_init(o, sync_fd, fifo_fd, userns, !ns_plan_has(plan, CLONE_NEWNS), new_cgroupns,
			       join_pidns_fd >= 0 ? &shared : NULL);
	sync_send(sync_fd, SYNC_INIT_PID, init, NULL);
	_exit(0);
}

/* pid names a child of ours other than `except` (unreaped: the init is forked
 * with CLONE_PARENT), not merely what a message says. */
bool is_our_child(long long pid, pid_t except)
{
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	return pid > 0 && pid != except && !cloned_exe_is_helper(pid) &&
	       waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return status;
}

static int hook_state(const struct spawn_opts *o, const char *status, pid_t pid, char **out,
		      struct husk_error *err)
{
	return hook_state_json(o->id, status, pid, o->bundle, &o->cfg->annotations, out, err);
}

/* How many times the OOM killer struck in the container's memory cgroup
 * (0 when unknown): memory.events on v2, memory.oom_control on v1. */
static long oom_kills(const struct spawn_result *res)
{
	if (!res->has_cgroup)
		return 0;
	char path[PATH_MAX];
	struct husk_error ignored;
	bool v2 = cgroup_mode() == CGROUP_V2;
	if (fmt_into(path, sizeof(path), &ignored, "cgroup", "/sys/fs/cgroup%s%s/%s",
		     v2 ? "" : "/memory", res->cgroup_path,
		     v2 ? "memory.events" : "memory.oom_control") < 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_file_at(AT_FDCWD, path, 1 << 16, &text, &len, &ignored) < 0)
		return 0;
	const char *k = strstr(text, "oom_kill ");
	return k ? atol(k + 9) : 0;
}

/* The init went without a word (its sync socket closed): say how, from its
 * exit status (peeked at, not reaped: the caller still kills and waits for
 * it), and name the memory limit when the OOM killer took it. */
static int child_gone(const struct spawn_opts *o, pid_t pid, const char *who,
		      const struct spawn_result *res, struct husk_error *err)
{
	siginfo_t info = { 0 };
	int r;
	/* its end of the socket closes as it exits: give the exit a moment
	 * to complete, but never wait on a process that lives on */
	for (int tries = 0; tries < 100; tries++) {
		info.si_pid = 0;
		r = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT | WNOHANG);
		if ((r < 0 && errno != EINTR) || (r == 0 && info.si_pid == pid))
			break;
		usleep(10000);
	}
	const struct oci_resources *rs = o->cfg->linux ? o->cfg->linux->resources : NULL;
	long kills = oom_kills(res);
	if (kills > 0 && rs && rs->memory && rs->memory->has_limit)
		return err_set(err, ENOMEM,
			       "linux.resources.memory.limit: %s was killed by the OOM killer "
			       "during setup (the limit of %lld bytes is too low)",
			       who, (long long)rs->memory->limit);
	if (kills > 0)
		return err_set(err, ENOMEM,
			       "%s was killed by the OOM killer during setup", who);
	if (r == 0 && info.si_pid == pid && (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED))
		return err_set(err, ECHILD, "%s was killed by signal %d (%s) during setup", who,
			       info.si_status, strsignal(info.si_status));
	if (r == 0 && info.si_pid == pid && info.si_code == CLD_EXITED)
		return err_set(err, ECHILD,
			       "%s exited with status %d during setup without an error", who,
			       info.si_status);
	return err_set(err, EPIPE, "%s exited during setup", who);
}

/* Parent side of the conversation once the init exists. */
/* What the parent did to the host for the init, undone when create fails. */
struct init_extras {
	struct netdev_moves moves;
	bool rdt; /* in its resctrl groups */
};

/* The init is known by pid: record it (on_spawned), then move the
 * network devices into its namespace and put it in its resctrl group,
 * before any hook runs. */
static int init_spawned(const struct spawn_opts *o, pid_t pid, struct spawn_result *res,
			struct init_extras *x, struct husk_error *err)
{
	const struct oci_linux *lx = o->cfg->linux;
	int r;
	if (o->on_spawned &&
	    (r = o->on_spawned(o->on_spawned_arg, pid, res->start_time,
			       res->has_cgroup ? res->cgroup_path : NULL,
			       res->has_cgroup ? res->cgroup_created : NULL, err)) < 0)
		return r;
	if (lx && lx->netDevices.len && (r = netdev_move_all(lx, pid, &x->moves, err)) < 0)
		return r;
	if (lx && lx->intelRdt) {
		if ((r = intelrdt_apply(NULL, lx->intelRdt, o->id, pid, err)) < 0)
			return r;
		x->rdt = true;
	}
	return 0;
}

/* An init that failed while the parent worked for it (and so made the
 * parent's step fail: its /proc entry gone) said why first: report that. */
static int init_error_first(int sync_fd, int r, struct husk_error *err)
{
	struct pollfd p = { .fd = sync_fd, .events = POLLIN };
	struct sync_msg m;
	if (poll(&p, 1, 0) == 1 && sync_recv(sync_fd, &m) == 0 && m.type == SYNC_ERROR)
		return err_set(err, EINVAL, "%s", m.text);
	return r;
}

static int drive_init(const struct spawn_opts *o, int sync_fd, pid_t *pid, bool split,
		      struct cgroup_join *join, struct spawn_result *res, struct init_extras *x,
		      struct husk_error *err)
{
	struct sync_msg m;
	int r;
	bool pid_reported = false, pty_done = false, seccomp_done = false;
	int fds[CGROUP_MAX_HIERARCHIES] = { 0 };
	size_t n_fds = 0;

	/* an init that failed early said why before it went */
	r = sync_send_fds(sync_fd, SYNC_GO, *pid, NULL, join->tasks, join->n_tasks);
	cgroup_join_close(join);
	if (r < 0)
		return sync_recv(sync_fd, &m) == 0 && m.type == SYNC_ERROR
			       ? err_set(err, EINVAL, "%s", m.text)
			       : child_gone(o, *pid, "the container init", res, err);
	res->start_time = process_start_time(*pid);
	/* split: the state names the init forked into the pid namespace */
	if (!split && (r = init_spawned(o, *pid, res, x, err)) < 0)
		return init_error_first(sync_fd, r, err);
	/* recorded: what commit_init says after SYNC_READY can be said now
	 * (the init reads it after SYNC_READY, keeping PDEATHSIG until then) */
	if (!split && res->start_fifo >= 0) {
		if (sync_send(sync_fd, SYNC_COMMIT, 0, NULL) < 0) {
			r = init_error_first(sync_fd, -EPIPE, err);
			return r == -EPIPE ? err_set(err, EPIPE, "the container init exited during setup")
					   : r;
		}
	}
	for (;;) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		n_fds = 0;
		r = sync_recv_fds(sync_fd, &m, fds, CGROUP_MAX_HIERARCHIES, &n_fds);
		if (r < 0)
			return child_gone(o, *pid, "the container init", res, err);
		if (n_fds && m.type != SYNC_PTY && m.type != SYNC_SECCOMP_FD) {
			for (size_t i = 0; i < n_fds; i++)
				close(fds[i]);
			return err_set(err, EPROTO, "unexpected fds from the container init");
		}
		switch (m.type) {
		case SYNC_ERROR:
			return err_set(err, EINVAL, "%s", m.text);
		case SYNC_INIT_PID:
			if (!split)
				return err_set(err, EPROTO, "unexpected message %d from the container init",
					       m.type);
			/* the set-up process forked the init and exits. The pid is
			 * taken once, and only when it is a child of ours (the init
			 * is forked with CLONE_PARENT): a process of the shared pid
			 * namespace that took over the init must not get another
			 * pid written into state.json. */
			if (pid_reported)
				return err_set(err, EPROTO, "the container init reported its pid twice");
			pid_reported = true;
			/* checked before it is taken: the caller kills *pid on
			 * failure (and the set-up process, still *pid, is reaped
			 * only once the new one is known to be ours) */
			if (!is_our_child(m.value, *pid))
				return err_set(err, EPROTO,
					       "the container init reported pid %lld, which is not a child of "
					       "husk",
					       (long long)m.value);
			wait_child(*pid);
			*pid = m.value;
			res->start_time = process_start_time(*pid);
			if ((r = init_spawned(o, *pid, res, x, err)) < 0)
				return init_error_first(sync_fd, r, err);
			if (sync_send(sync_fd, SYNC_GO, *pid, NULL) < 0)
				return err_set(err, EPIPE, "the container init exited during setup");
			break;
		case SYNC_RUN_HOOKS: {
			_cleanup_free_ char *state = NULL;
			if ((r = hook_state(o, "creating", *pid, &state, err)) < 0)
				return r;
			log_debug("create %s: running the prestart and createRuntime hooks", o->id);
			if (o->cfg->hooks && (r = hooks_run("prestart", &o->cfg->hooks->prestart, state, err)) < 0)
				return r;
			if (o->cfg->hooks &&
			    (r = hooks_run("createRuntime", &o->cfg->hooks->createRuntime, state, err)) < 0)
				return r;
			sync_send(sync_fd, SYNC_HOOKS_DONE, 0, NULL);
			break;
		}
		case SYNC_PTY:
		case SYNC_SECCOMP_FD: {
			/* the agent hears of the init as of an exec'd process */
			_cleanup_free_ char *state = NULL;
			struct handover h = { .want_pty = o->cfg->process->terminal,
					      .console_fd = o->console_fd, .pty_master = -1,
					      .listener_fd = o->listener_fd, .pid = *pid,
					      .listener_metadata = o->cfg->linux && o->cfg->linux->seccomp
									   ? o->cfg->linux->seccomp->listenerMetadata
									   : NULL,
					      .pty_done = pty_done, .seccomp_done = seccomp_done };
			if (m.type == SYNC_SECCOMP_FD && (r = hook_state(o, "creating", *pid, &state, err)) < 0)
				return r;
			h.state_json = state;
			r = handover_forward(sync_fd, &m, fds, n_fds, &h, err);
			n_fds = 0;
			pty_done = h.pty_done;
			seccomp_done = h.seccomp_done;
			if (r < 0)
				return r;
			break;
		}
		case SYNC_READY:
			log_debug("create %s: init %d ready: mounts done, root pivoted, createContainer "
				  "hooks run, process %s prepared; waiting for start", o->id, (int)*pid,
				  o->cfg->process && o->cfg->process->args.len ? o->cfg->process->args.items[0] : "?");
			return 0;
		default:
			return err_set(err, EPROTO, "unexpected message %d from the container init", m.type);
		}
	}
}

/* With --systemd-cgroup, systemd makes the cgroup: a transient scope
 * started first (its helper holds it until the init is in), which
 * cgroup_create then takes as it finds it, to apply what systemd has no
 * property for. */
static int make_cgroup(const struct spawn_opts *o, struct spawn_result *res, struct cgroup_join *join,
		       struct systemd_scope *scope, struct husk_error *err)
{
	if (o->rootless && cgroup_mode() != CGROUP_V2)
		return 0;
	int r = cgroup_path_for(o->cfg, o->id, o->systemd_cgroup, res->cgroup_path,
				 sizeof(res->cgroup_path), err);
	if (r < 0)
		return r;
	if (o->systemd_cgroup) {
		pid_t holder;
		if ((r = systemd_scope_start(o->cfg, o->id, scope, &holder, err)) < 0)
			return r;
		cgroup_allow_holder(holder);
	}
	_cleanup_free_ char *created = NULL;
	r = cgroup_create(res->cgroup_path, o->cfg, join, &created, err);
	cgroup_allow_holder(-1);
	if (r == 0 && (r = fmt_into(res->cgroup_created, sizeof(res->cgroup_created), err,
				    "the record of the cgroups created", "%s", created)) < 0) {
		struct husk_error ignored;
		cgroup_join_close(join);
		cgroup_destroy(res->cgroup_path, created, &ignored);
	}
	if (r == 0)
		log_debug("create %s: cgroup %s", o->id, res->cgroup_path);
	/* rootless: a v2 tree that is not delegated to us just means no cgroup */
	res->has_cgroup = r == 0;
	if (r < 0)
		systemd_scope_finish(scope, false);
	return o->rootless ? 0 : r;
}

/* root.path must name a directory of the container's own: the host's "/"
 * (however spelled: "/.", "/..", a symlink) would fail only at pivot_root,
 * as "Device or resource busy". */
static int check_root_path(const struct spawn_opts *o, struct husk_error *err)
{
	const struct oci_config *cfg = o->cfg;
	if (cfg->root == NULL || cfg->root->path == NULL)
		return err_set(err, EINVAL, "config.json: root.path is required");
	const char *rp = cfg->root->path;
	char path[PATH_MAX];
	int r = rp[0] == '/' ? fmt_into(path, sizeof(path), err, "root.path", "%s", rp)
			     : fmt_into(path, sizeof(path), err, "root.path", "%s/%s", o->bundle, rp);
	if (r < 0)
		return r;
	struct stat st, host;
	if (stat(path, &st) < 0)
		return err_sys(err, errno, "root.path: %s", rp);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "root.path: %s is not a directory", rp);
	if (stat("/", &host) == 0 && st.st_dev == host.st_dev && st.st_ino == host.st_ino)
		return err_set(err, EINVAL,
			       "root.path: \"%s\" is the host's root directory; a container needs "
			       "a root filesystem of its own",
			       rp);
	return 0;
}

/* linux.sysctl: only keys of a namespace the container has its own copy
 * of (as runc); any other is the host kernel's value. */
static int check_sysctls(const struct oci_linux *lx, const struct ns_plan *plan,
			 struct husk_error *err)
{
	static const char *const ipc_prefixes[] = { "kernel.msg", "kernel.shm", "fs.mqueue." };
	for (size_t i = 0; lx && i < lx->sysctl.len; i++) {
		const char *key = lx->sysctl.keys[i];
		char name[256];
		size_t n = strlen(key);
		if (n >= sizeof(name))
			return err_set(err, ENAMETOOLONG, "linux.sysctl: \"%.64s...\" (%zu bytes) is too long",
				       key, n);
		if (n == 0 || key[0] == '.' || key[0] == '/' || strstr(key, ".."))
			return err_set(err, EINVAL, "linux.sysctl: invalid name \"%.200s\"", key);
		/* "net/ipv4/ip_forward" is "net.ipv4.ip_forward" */
		for (size_t k = 0; k <= n; k++)
			name[k] = key[k] == '/' ? '.' : key[k];
		int need = 0;
		if (strcmp(name, "kernel.sem") == 0)
			need = CLONE_NEWIPC;
		for (size_t k = 0; k < sizeof(ipc_prefixes) / sizeof(ipc_prefixes[0]); k++)
			if (strncmp(name, ipc_prefixes[k], strlen(ipc_prefixes[k])) == 0)
				need = CLONE_NEWIPC;
		if (strncmp(name, "net.", 4) == 0)
			need = CLONE_NEWNET;
		if (strcmp(name, "kernel.hostname") == 0 || strcmp(name, "kernel.domainname") == 0)
			need = CLONE_NEWUTS;
		if (need == 0)
			return err_set(err, EPERM,
				       "linux.sysctl: \"%s\" is not namespaced: setting it would change "
				       "the host's kernel",
				       key);
		if (!ns_plan_has(plan, need))
			return err_set(err, EPERM, "linux.sysctl: \"%s\" needs the container's own %s "
				       "namespace", key,
				       need == CLONE_NEWIPC ? "ipc" : need == CLONE_NEWNET ? "network" : "uts");
	}
	return 0;
}

/* Without a mount namespace of its own the container shares the runtime's
 * mount table (runtime-spec: an unlisted namespace is inherited), and is
 * only chrooted into its rootfs, as runc's is. runc refuses masked and
 * read-only paths there; everything else that needs a mount husk refuses
 * too (runc 1.1 would mount it onto the host's table). */
static int check_host_mntns(const struct spawn_opts *o, const struct ns_plan *plan,
			    struct husk_error *err)
{
	const struct oci_config *cfg = o->cfg;
	const struct oci_linux *lx = cfg->linux;
	const char *field = NULL;
	if (ns_plan_has(plan, CLONE_NEWNS))
		return 0;
	if (lx && (lx->maskedPaths.len || lx->readonlyPaths.len))
		return err_set(err, EINVAL, "%s: unable to restrict sys entries without a private "
			       "mount namespace (linux.namespaces has no \"mount\" entry)",
			       lx->maskedPaths.len ? "linux.maskedPaths" : "linux.readonlyPaths");
	if (cfg->mounts.len)
		field = "mounts";
	else if (cfg->root && cfg->root->readonly)
		field = "root.readonly";
	else if (lx && lx->rootfsPropagation)
		field = "linux.rootfsPropagation";
	else if (lx && lx->devices.len)
		field = "linux.devices";
	else if (cfg->process && cfg->process->terminal)
		field = "process.terminal (the console is a mount)";
	else if (o->no_pivot)
		field = "--no-pivot";
	else if (ns_plan_has(plan, CLONE_NEWUSER))
		field = "linux.namespaces: a user namespace";
	if (field)
		return err_set(err, EINVAL, "%s: needs a mount namespace of the container's own "
			       "(linux.namespaces has no \"mount\" entry, and husk never mounts "
			       "onto the host's mount table)", field);
	return 0;
}

/* A new user namespace and an existing pid namespace: a process of the new
 * one may not join a pid namespace that belongs to another (setns needs
 * CAP_SYS_ADMIN over the pid namespace's user namespace, which a new one
 * never owns), and, born in it, may not mount its procfs (the same rule).
 * husk could only have the init born in the pid namespace, sitting in the
 * host's root until its private procfs failed (issue 11): refused before
 * anything is made. runc lets its init be born there (its /proc mount
 * meets the same rule). A pid namespace of a user namespace the container
 * joins works (the split path). */
static int check_pidns_userns(const struct oci_config *cfg, const struct ns_plan *plan,
			      struct husk_error *err)
{
	const struct ns_kind *pid = ns_kind_by_type("pid");
	if (!(plan->new_flags & CLONE_NEWUSER) || plan->join_fd[pid - ns_kinds] < 0)
		return 0;
	const struct oci_namespace *ns = config_namespace(cfg->linux, "pid");
	const char *path = ns && ns->path ? ns->path : "";
	return err_set(err, EINVAL,
		       "linux.namespaces: a new user namespace cannot join the pid namespace \"%s\" "
		       "(it belongs to another user namespace, and its /proc cannot be mounted from "
		       "the new one): join the user namespace that owns it, or use a new pid namespace",
		       path);
}

static int check_config(const struct spawn_opts *o, const struct ns_plan *plan,
			struct husk_error *err)
{
	const struct oci_config *cfg = o->cfg;
	if (cfg->process == NULL)
		return err_set(err, EINVAL, "config.json: process is required to create a container");
	if (cfg->process->terminal && o->console_fd < 0)
		return err_set(err, EINVAL,
			       "process.terminal is true but no --console-socket was given");
	int r;
	if ((r = check_host_mntns(o, plan, err)) < 0)
		return r;
	if ((r = check_pidns_userns(cfg, plan, err)) < 0)
		return r;
	if ((cfg->hostname || cfg->domainname) && !ns_plan_has(plan, CLONE_NEWUTS))
		return err_set(err, EINVAL, "%s: setting it needs a uts namespace",
			       cfg->hostname ? "hostname" : "domainname");
	if (cfg->linux && cfg->linux->timeOffsets.len && !(plan->new_flags & CLONE_NEWTIME))
		return err_set(err, EINVAL, "linux.timeOffsets: needs a new time namespace");
	if ((r = check_root_path(o, err)) < 0 || (r = hooks_validate(cfg->hooks, err)) < 0 ||
	    (r = devices_validate(cfg->linux, err)) < 0 || (r = check_sysctls(cfg->linux, plan, err)) < 0)
		return r;
	if (cfg->linux && cfg->linux->memoryPolicy &&
	    (r = mempolicy_validate(cfg->linux->memoryPolicy, err)) < 0)
		return r;
	if ((r = netdev_validate(cfg->linux, plan, err)) < 0)
		return r;
	if (cfg->linux && cfg->linux->intelRdt &&
	    (r = intelrdt_validate(NULL, cfg->linux->intelRdt, o->id, err)) < 0)
		return r;
	return process_validate(cfg->process, cfg->linux, err);
}

/* The fd of an existing pid namespace the config joins, or -1. The init
 * is set up outside it and forks into it once rooted in the container
 * (see container_init), so that it never shows the host's root to the
 * containers sharing it (issue 11; runc's init is born in it). Its /proc
 * is mounted for that namespace from outside: with procfs's "pidns"
 * option (Linux 6.15), or else with fs contexts a helper born in the
 * namespace opens (*proc_helper; pidns-proc.h).
 * HUSK_TEST_PROCFS_NO_PIDNS=1 in husk's environment takes the helper's
 * way on any kernel: a test knob (tests/bats/reach.bats), which only
 * chooses between two sound ways. */
static int split_pidns_fd(const struct ns_plan *plan, bool *proc_helper)
{
	const struct ns_kind *pid = ns_kind_by_type("pid");
	int fd = plan->join_fd[pid - ns_kinds];
	*proc_helper = false;
	if (fd < 0)
		return -1;
	const char *knob = getenv("HUSK_TEST_PROCFS_NO_PIDNS");
	if (knob && strcmp(knob, "1") == 0) {
		*proc_helper = true;
		return fd;
	}
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	int r = fs < 0 ? -1 : fsconfig(fs, FSCONFIG_SET_FD, "pidns", NULL, fd);
	int e = errno;
	if (fs >= 0)
		close(fs);
	if (r < 0) {
		log_debug("procfs takes no pidns option (%s): a helper born in the shared pid "
			  "namespace opens its /proc", strerror(e));
		*proc_helper = true;
	}
	return fd;
}

int container_spawn(const struct spawn_opts *o, struct spawn_result *res, struct husk_error *err)
{
	struct ns_plan plan;
	int sv[2] = { -1, -1 }, fifo_fd = -1, r;
	pid_t pid = -1, stage_pid = -1;
	struct cgroup_join join = CGROUP_JOIN_NONE;
	struct systemd_scope scope = SYSTEMD_SCOPE_NONE;
	struct sync_msg m = { 0 };
	struct init_extras extras = { 0 };
	bool placed, userns, new_cgroupns, slow, cgroup_first;
	int join_pidns_fd = -1;
	bool proc_helper = false;
	pid_t child;
	int clone_errno;

	memset(res, 0, sizeof(*res));
	res->sync_fd = -1;
	res->start_fifo = -1;
	r = ns_plan_build(o->cfg, &plan, err);
	if (r < 0)
		return r;
	if ((r = check_config(o, &plan, err)) < 0)
		goto out;
	log_debug("create %s: config loaded; new namespaces 0x%llx, joined %s", o->id,
		  (unsigned long long)plan.new_flags, plan.join_any ? "some" : "none");
	userns = ns_plan_has(&plan, CLONE_NEWUSER);
	/* the init unshares it itself, after joining the container's cgroup */
	new_cgroupns = plan.new_flags & CLONE_NEWCGROUP;
	plan.new_flags &= ~CLONE_NEWCGROUP;

	if (mkfifoat(o->state_dirfd, EXEC_FIFO, 0622) < 0) {
		r = err_sys(err, errno, "create exec.fifo");
		goto out;
	}
	/* mkfifo honours the umask; the init may not be root when it opens it */
	if (fchmodat(o->state_dirfd, EXEC_FIFO, 0622, 0) < 0 ||
	    (fifo_fd = openat(o->state_dirfd, EXEC_FIFO, O_PATH | O_CLOEXEC)) < 0) {
		r = err_sys(err, errno, "open exec.fifo");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_sys(err, errno, "socketpair");
		goto out;
	}

	/* The container's processes join the cgroup, with its limits in
	 * place, before any of them runs container code. On v2 (and a hybrid host's v2 tree) clone3 places
	 * the child at birth, and the slow path's stage joins before it forks
	 * the init: both need the cgroup first. Otherwise (v1) the parent
	 * creates it while the init mounts what does not depend on it, and
	 * hands over the join handles with SYNC_GO. */
	slow = plan.join_any || (plan.new_flags & CLONE_NEWTIME);
	join_pidns_fd = split_pidns_fd(&plan, &proc_helper);
	cgroup_first = slow || cgroup_mode() != CGROUP_V1; /* hybrid: its v2 tree too */
	if (cgroup_first && (r = make_cgroup(o, res, &join, &scope, err)) < 0)
		goto out;
	child = clone_into_cgroup(slow ? 0 : (uint64_t)plan.new_flags, &join, &placed);
	clone_errno = errno;
	if (child < 0) {
		r = err_sys(err, clone_errno, "clone the container init");
		goto out;
	}
	if (child == 0) {
		/* the state dir fd carries the container lock: the parent keeps it;
		 * and the console socket's connection (the init hands over the
		 * pty master) */
		close(sv[0]);
		close(o->state_dirfd);
		if (o->console_fd >= 0)
			close(o->console_fd);
		if (o->listener_fd >= 0)
			close(o->listener_fd);
		struct husk_error join_err = { 0 };
		if (cgroup_join_self(&join, placed, &join_err) < 0)
			child_fail(sv[1], &join_err);
		if (slow)
			stage(o, &plan, sv[1], fifo_fd, new_cgroupns, join_pidns_fd, proc_helper);
		container_init(o, sv[1], fifo_fd, userns, !ns_plan_has(&plan, CLONE_NEWNS), new_cgroupns,
			       NULL);
	}
	close(sv[1]);
	sv[1] = -1;
	cgroup_join_close(&join);
	log_debug("create %s: cloned %s %d", o->id, slow ? "the set-up process" : "the init", (int)child);

	if (slow) {
		stage_pid = child;
		if (plan.new_flags & CLONE_NEWUSER) {
			if (sync_recv(sv[0], &m) < 0 || m.type != SYNC_WRITE_MAPS) {
				r = m.type == SYNC_ERROR
					    ? err_set(err, EINVAL, "%s", m.text)
					    : child_gone(o, stage_pid, "the namespace setup process", res, err);
				goto out;
			}
			if ((r = ns_write_id_maps(stage_pid, o->cfg, err)) < 0)
				goto out;
			sync_send(sv[0], SYNC_GO, 0, NULL);
		}
		if (sync_recv(sv[0], &m) < 0 || m.type != SYNC_INIT_PID) {
			r = m.type == SYNC_ERROR
				    ? err_set(err, EINVAL, "%s", m.text)
				    : child_gone(o, stage_pid, "the namespace setup process", res, err);
			goto out;
		}
		/* only a child of ours is recorded (and killed on failure): the
		 * sync socket ends up in processes other containers may see (the
		 * init of a shared pid namespace), so no message on it is
		 * trusted further than that */
		if (!is_our_child(m.value, stage_pid)) {
			r = err_set(err, EPROTO,
				    "the container init was reported as pid %lld, which is not a child "
				    "of husk", (long long)m.value);
			goto out;
		}
		pid = m.value;
		wait_child(stage_pid);
		stage_pid = -1;
	} else {
		pid = child;
		if ((plan.new_flags & CLONE_NEWUSER) && (r = ns_write_id_maps(pid, o->cfg, err)) < 0)
			goto out;
	}

	if (!cgroup_first && (r = make_cgroup(o, res, &join, &scope, err)) < 0)
		goto out;
	/* opened after the clone: the init never holds the read end */
	if (o->commit_early && !slow && join_pidns_fd < 0 &&
	    (res->start_fifo = openat(o->state_dirfd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		r = err_sys(err, errno, "open exec.fifo");
		goto out;
	}
	r = drive_init(o, sv[0], &pid, join_pidns_fd >= 0, &join, res, &extras, err);
	if (r < 0)
		goto out;
	res->pid = pid;
	res->sync_fd = sv[0];
	sv[0] = -1;
	res->moves = extras.moves;
	extras.moves = (struct netdev_moves){ 0 };
out:
	if (r < 0) {
		if (stage_pid > 0) {
			kill(stage_pid, SIGKILL);
			wait_child(stage_pid);
		}
		if (pid > 0) {
			/* while its namespace lives: the devices go back where they were */
			netdev_move_back(&extras.moves, pid);
			kill(pid, SIGKILL);
			wait_child(pid);
		}
		if (extras.rdt)
			intelrdt_remove(NULL, o->cfg->linux->intelRdt, o->id);
		/* the helper steps out of the scope and stops it */
		systemd_scope_finish(&scope, false);
		if (res->has_cgroup) {
			struct husk_error ignored;
			cgroup_destroy(res->cgroup_path, res->cgroup_created, &ignored);
			res->has_cgroup = false;
		}
		unlinkat(o->state_dirfd, EXEC_FIFO, 0);
		if (res->start_fifo >= 0) {
			close(res->start_fifo);
			res->start_fifo = -1;
		}
	}
	/* the init is in the scope now: the helper leaves it to it */
	systemd_scope_finish(&scope, r == 0);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (fifo_fd >= 0)
		close(fifo_fd);
	cgroup_join_close(&join);
	ns_plan_close(&plan);
	netdev_moves_free(&extras.moves);
	return r;
}
