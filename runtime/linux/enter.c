#include "runtime/linux/enter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/intelrdt.h"
#include "runtime/linux/lsm.h"
#include "runtime/linux/mempolicy.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/process.h"
#include "runtime/linux/spawn.h"
#include "runtime/linux/terminal.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < _NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The namespaces to enter: every kind the config lists, but the mount
 * namespace when the init's is ours (a "mount" entry naming the runtime's
 * own, see ns_plan_build): that container is only its init's chroot. */
static int namespace_flags(const struct oci_config *cfg, int procfd, pid_t pid)
{
	int flags = 0;
	for (size_t i = 0; cfg->linux && i < cfg->linux->namespaces.len; i++) {
		const struct ns_kind *k = ns_kind_by_type(cfg->linux->namespaces.items[i].type);
		if (k)
			flags |= k->flag;
	}
	char path[32];
	struct stat init_ns, own_ns;
	snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
	if ((flags & CLONE_NEWNS) && fstatat(procfd, path, &init_ns, 0) == 0 &&
	    stat("/proc/self/ns/mnt", &own_ns) == 0 && init_ns.st_dev == own_ns.st_dev &&
	    init_ns.st_ino == own_ns.st_ino)
		flags &= ~CLONE_NEWNS;
	return flags;
}

/* Load the filter; a notify fd goes to husk outside, which sends it to
 * the agent (sync_hand_over). */
static int install_filter(const struct husk_seccomp *s, int sync_fd, struct husk_error *err)
{
	int notify_fd = -1;
	int r = seccomp_install(s, seccomp_uses_notify(s) ? &notify_fd : NULL, err);
	if (r < 0 || notify_fd < 0)
		return r;
	r = sync_hand_over(sync_fd, SYNC_SECCOMP_FD, notify_fd, err);
	close(notify_fd);
	return r;
}

/* The process that runs the container's program. It is born in the
 * container's pid namespace, so processes of the container can see it: by
 * then it holds nothing of the host (enter_stage closed it all; the
 * console socket and the seccomp agent's connection stay with husk, which
 * gets the pty master and the notify fd from it) and its root and cwd are
 * the container's. Its fds: stdio, the preserved ones, the sync socket. */
static _Noreturn void enter_child(const struct enter_opts *eo, int sync_fd)
{
	const struct oci_process *p = eo->proc;
	struct husk_error err = { 0 };
	struct sync_msg m;
	char exe[4096];
	char **argv, **envp;
	unsigned first;
	struct oci_process rest;

	/* its parent is husk (CLONE_PARENT) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* husk inside the container until execve: see container_init */
	prctl(PR_SET_DUMPABLE, 0);
	if (sync_recv(sync_fd, &m) < 0 || m.type != SYNC_GO)
		_exit(1);
	if (p->terminal) {
		int master = -1, peer = -1, r;
		_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (terminal_open(rootfd, p->consoleSize, false, &master, &peer, &err) < 0)
			goto fail;
		r = sync_hand_over(sync_fd, SYNC_PTY, master, &err);
		close(master);
		if (r == 0)
			r = terminal_attach(peer, &err);
		close(peer);
		if (r < 0)
			goto fail;
	}
	/* oomScoreAdj went in before the fork (it needs the host's procfs) */
	rest = *p;
	rest.has_oomScoreAdj = false;
	if (process_apply_limits(&rest, eo->cfg->linux, -1, &err) < 0)
		goto fail;
	/* the container's memory policy, as the init has it (runc 1.4 gives it
	 * to exec'd processes too); a policy is per task and this one was
	 * forked from husk, which has the host's */
	if (eo->cfg->linux && eo->cfg->linux->memoryPolicy &&
	    mempolicy_apply(eo->cfg->linux->memoryPolicy, &err) < 0)
		goto fail;
	umask(p->user && p->user->has_umask ? p->user->umask : 022);
	if (process_chdir(p, &err) < 0 || process_find_executable(p, exe, sizeof(exe), &err) < 0)
		goto fail;
	first = 3u + (unsigned)eo->preserve_fds;
	for (unsigned fd = 3; fd < first; fd++) {
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0)
			fcntl((int)fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		err_sys(&err, errno, "close_range");
		goto fail;
	}
	if (eo->seccomp && !p->noNewPrivileges && install_filter(eo->seccomp, sync_fd, &err) < 0)
		goto fail;
	if (process_drop_privileges(p, &err) < 0)
		goto fail;
	if (eo->seccomp && p->noNewPrivileges && install_filter(eo->seccomp, sync_fd, &err) < 0)
		goto fail;

	argv = calloc(p->args.len + 1, sizeof(char *));
	envp = calloc(p->env.len + 1, sizeof(char *));
	if (argv == NULL || envp == NULL)
		_exit(127);
	memcpy(argv, p->args.items, p->args.len * sizeof(char *));
	if (p->env.len)
		memcpy(envp, p->env.items, p->env.len * sizeof(char *));
	prctl(PR_SET_PDEATHSIG, 0);
	reset_signals();
	execve(exe, argv, envp);
	err_sys(&err, errno, "exec %s", exe);
fail:
	sync_send(sync_fd, SYNC_ERROR, 0, err.msg);
	_exit(127);
}

/* A container without a mount namespace of its own (it has the runtime's)
 * is its init's chroot: the entering process takes the same root, through
 * the host's procfs, while the pidfd proves the pid is still the init's. */
static int enter_init_root(int procfd, int pidfd, pid_t pid, struct husk_error *err)
{
	char path[32];
	snprintf(path, sizeof(path), "%d/root", (int)pid);
	_cleanup_close_ int root = openat(procfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return err_sys(err, errno, "exec: open the root of init %d", (int)pid);
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
		return err_sys(err, errno, "exec: the container's init");
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return err_sys(err, errno, "exec: chroot to the container's root");
	return 0;
}

/* The first child, in husk's pid namespace: processes of the container
 * cannot see it (issue 11: a container holding CAP_SYS_PTRACE, which
 * PR_SET_DUMPABLE does not stop, read host files through the fds of an
 * entering process in its pid namespace). It joins the cgroup and every
 * namespace (pid and time for its children), does what needs the host's
 * procfs, closes every fd the process must not have (host procfs, the
 * state directory, the container's pidfd, the log, the cgroup handles,
 * the console socket's and the seccomp agent's connections), and only then
 * forks the process into the container's pid namespace. */
static _Noreturn void enter_stage(const struct enter_opts *eo, struct cgroup_join *join,
				  bool placed, int pidfd, int flags, int procfd, int sync_fd)
{
	const struct oci_process *p = eo->proc;
	const struct oci_cpu_affinity *aff = p->execCPUAffinity;
	struct husk_error err = { 0 };
	struct oci_process oom_only = { .has_oomScoreAdj = p->has_oomScoreAdj,
					.oomScoreAdj = p->oomScoreAdj };
	int keep[] = { sync_fd };
	struct clone_args args = { .flags = CLONE_PARENT };
	pid_t child;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	/* the CPUs to run on until the process is in the container's cgroup
	 * (clone3 may have placed it there already) */
	if ((aff && aff->initial && aff->initial[0] &&
	     process_set_affinity(0, aff->initial, "process.execCPUAffinity.initial", &err) < 0) ||
	    cgroup_join_self(join, placed, &err) < 0)
		goto fail;
	if (!(flags & CLONE_NEWNS) && enter_init_root(procfd, pidfd, eo->c->state->pid, &err) < 0)
		goto fail;
	/* one call: the user namespace first, then the rest with its
	 * privileges; the pid and time namespaces apply to the children */
	if (flags && setns(pidfd, flags) < 0) {
		/* joining the user namespace one is already in is EINVAL */
		if (errno != EINVAL || !(flags & CLONE_NEWUSER) ||
		    setns(pidfd, flags & ~CLONE_NEWUSER) < 0) {
			err_sys(&err, errno, "exec: join the container's namespaces");
			goto fail;
		}
	}
	if ((flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		log_debug("root is not mapped in the user namespace");
	/* in the container's cgroup now: the final CPUs (or the cgroup's) */
	if (p->execCPUAffinity && process_set_affinity(0, p->execCPUAffinity->final,
						       "process.execCPUAffinity.final", &err) < 0)
		goto fail;
	/* the writes through the host's procfs: oom_score_adj and the LSM
	 * exec labels are inherited by the child */
	if (process_apply_limits(&oom_only, NULL, procfd, &err) < 0 ||
	    lsm_set_exec_labels(procfd, p, &err) < 0)
		goto fail;
	log_close();
	r = close_fds_except(3u + (unsigned)eo->preserve_fds, keep, sizeof(keep) / sizeof(keep[0]));
	if (r < 0) {
		err_sys(&err, -r, "exec: close husk's fds");
		goto fail;
	}
	child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0) {
		err_sys(&err, errno, "exec: fork into the container");
		goto fail;
	}
	if (child == 0)
		enter_child(eo, sync_fd);
	sync_send(sync_fd, SYNC_INIT_PID, child, NULL);
	_exit(0);
fail:
	sync_send(sync_fd, SYNC_ERROR, 0, err.msg);
	_exit(127);
}

int container_enter(const struct enter_opts *eo, pid_t *pid, int *pty_master, struct husk_error *err)
{
	struct statfs sfs;
	int sv[2] = { -1, -1 }, r;
	pid_t stage = -1, child = -1;
	struct cgroup_join join = CGROUP_JOIN_NONE;
	bool placed;
	struct handover h = { .want_pty = eo->proc->terminal, .console_fd = eo->console_fd,
			      .pty_master = -1,
			      .listener_fd = eo->listener_fd, .state_json = eo->state_json,
			      .listener_metadata = eo->listener_metadata };
	int fds[CGROUP_MAX_HIERARCHIES];
	size_t n_fds;

	*pty_master = -1;
	if ((r = process_validate(eo->proc, eo->cfg->linux, err)) < 0)
		return r;
	_cleanup_close_ int pidfd = container_pidfd(eo->c);
	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\": container not running", eo->c->id);
	/* the host's procfs, checked, for the writes about the new process */
	_cleanup_close_ int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0 || fstatfs(procfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return err_set(err, EPERM, "exec: /proc is not procfs");
	int flags = namespace_flags(eo->cfg, procfd, eo->c->state->pid);
	if (eo->n_cgroup_subs && !eo->c->state->cgroup_path)
		return err_set(err, ENOENT, "--cgroup: the container has no cgroup");
	if (eo->c->state->cgroup_path &&
	    (r = eo->n_cgroup_subs ? cgroup_join_open_sub(eo->c->state->cgroup_path, eo->cgroup_subs,
							   eo->n_cgroup_subs, &join, err)
				   : cgroup_join_open(eo->c->state->cgroup_path, &join, err)) < 0)
		return r;
	log_debug("exec %s: joining cgroup %s%s and namespaces 0x%x of init %d", eo->c->id,
		  eo->c->state->cgroup_path ? eo->c->state->cgroup_path : "(none)",
		  eo->n_cgroup_subs ? " (a sub-cgroup of it)" : "", (unsigned)flags, (int)eo->c->state->pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_sys(err, errno, "socketpair");
		goto out;
	}
	stage = clone_into_cgroup(0, &join, &placed);
	if (stage < 0) {
		r = err_sys(err, errno, "fork");
		goto out;
	}
	if (stage == 0) {
		close(sv[0]);
		enter_stage(eo, &join, placed, pidfd, flags, procfd, sv[1]);
	}
	close(sv[1]);
	sv[1] = -1;
	cgroup_join_close(&join);
	struct sync_msg m;
	r = sync_recv(sv[0], &m);
	if (r < 0 || m.type != SYNC_INIT_PID) {
		r = r < 0 ? err_set(err, EPIPE, "exec: the new process died")
		    : m.type == SYNC_ERROR
			? err_set(err, EINVAL, "%s", m.text)
			: err_set(err, EPROTO, "exec: unexpected message %d from the new process", m.type);
		goto out;
	}
	/* The process can be seen (and its socket taken) from the moment it
	 * exists: a pid is taken only when it names a child of ours (the
	 * process is forked with CLONE_PARENT), never any pid a message says,
	 * which husk would write to --pid-file and kill on failure. */
	if (!is_our_child(m.value, stage)) {
		r = err_set(err, EPROTO, "exec: the new process was reported as pid %d, which is not a "
					 "child of husk", m.value);
		goto out;
	}
	child = m.value;
	waitpid(stage, NULL, 0);
	stage = -1;
	/* in the container's resctrl groups before it runs, as runc's exec */
	if (eo->cfg->linux && eo->cfg->linux->intelRdt &&
	    (r = intelrdt_join(NULL, eo->cfg->linux->intelRdt, eo->c->id, child, err)) < 0)
		goto out;
	if (sync_send(sv[0], SYNC_GO, child, NULL) < 0) {
		r = err_set(err, EPIPE, "exec: the new process died");
		goto out;
	}
	/* Until EOF (the socket closed on exec): the pty master and the
	 * notify fd to send on, or the error that stopped it. */
	h.pid = child;
	for (;;) {
		r = sync_recv_fds(sv[0], &m, fds, CGROUP_MAX_HIERARCHIES, &n_fds);
		if (r < 0)
			break;
		if (m.type == SYNC_ERROR) {
			for (size_t i = 0; i < n_fds; i++)
				close(fds[i]);
			r = err_set(err, EINVAL, "%s", m.text);
			goto out;
		}
		if (m.type != SYNC_PTY && m.type != SYNC_SECCOMP_FD) {
			for (size_t i = 0; i < n_fds; i++)
				close(fds[i]);
			r = err_set(err, EPROTO, "exec: unexpected message %d from the new process", m.type);
			goto out;
		}
		if ((r = handover_forward(sv[0], &m, fds, n_fds, &h, err)) < 0)
			goto out;
	}
	r = 0;
	*pid = child;
	*pty_master = h.pty_master;
	h.pty_master = -1;
	log_debug("exec %s: process %d runs %s", eo->c->id, (int)child,
		  eo->proc->args.len ? eo->proc->args.items[0] : "?");
out:
	if (r < 0 && stage > 0) {
		kill(stage, SIGKILL);
		waitpid(stage, NULL, 0);
	}
	if (r < 0 && child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (h.pty_master >= 0)
		close(h.pty_master);
	cgroup_join_close(&join);
	return r;
}
