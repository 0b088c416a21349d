#include "runtime/linux/enter.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HUSK_SANITIZERS
#include <sanitizer/lsan_interface.h>
#endif

#include "common/fileutil.h"
#include "common/log.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/lsm.h"
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

/* The namespaces the init is in: every kind the config lists. */
static int namespace_flags(const struct oci_config *cfg)
{
	int flags = 0;
	for (size_t i = 0; cfg->linux && i < cfg->linux->namespaces.len; i++) {
		const struct ns_kind *k = ns_kind_by_type(cfg->linux->namespaces.items[i].type);
		if (k)
			flags |= k->flag;
	}
	return flags;
}

static _Noreturn void enter_child(const struct enter_opts *eo, int pidfd, int flags, int procfd,
				  int sync_fd, bool in_userns)
{
	const struct oci_process *p = eo->proc;
	struct husk_error err = { 0 };
	struct sync_msg m;
	char exe[4096];
	char *process_state = NULL;
	size_t process_state_len = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* husk inside the container until execve: see container_init */
	prctl(PR_SET_DUMPABLE, 0);
	if (sync_recv(sync_fd, &m) < 0 || m.type != SYNC_GO)
		_exit(1);
	/* the agent's copy of the state names this process by its host pid */
	if (eo->listener_fd >= 0 &&
	    seccomp_process_state((pid_t)m.value, eo->listener_metadata, eo->state_json,
				  &process_state, &process_state_len, &err) < 0)
		goto fail;
	int join = flags & ~(CLONE_NEWPID | CLONE_NEWTIME);
	/* joining the user namespace one is already in is EINVAL */
	if (in_userns)
		join &= ~CLONE_NEWUSER;
	if (join && setns(pidfd, join) < 0) {
		err_sys(&err, errno, "join the container's namespaces");
		goto fail;
	}
	close(pidfd);
	if ((flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		log_debug("root is not mapped in the user namespace");
	/* in the container's cgroup now: the final CPUs (or the cgroup's) */
	if (p->execCPUAffinity && process_set_affinity(0, p->execCPUAffinity->final,
						       "process.execCPUAffinity.final", &err) < 0)
		goto fail;
	if (p->terminal) {
		_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (terminal_setup(eo->console_fd, rootfd, p->consoleSize, false, &err) < 0)
			goto fail;
	}
	if (eo->console_fd >= 0)
		close(eo->console_fd);
	if (process_apply_limits(p, eo->cfg->linux, procfd, &err) < 0 ||
	    lsm_set_exec_labels(procfd, p, &err) < 0)
		goto fail;
	close(procfd);
	umask(p->user && p->user->has_umask ? p->user->umask : 022);
	if (process_chdir(p, &err) < 0 || process_find_executable(p, exe, sizeof(exe), &err) < 0)
		goto fail;
	unsigned first = 3u + (unsigned)eo->preserve_fds;
	for (unsigned fd = 3; fd < first; fd++) {
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0)
			fcntl((int)fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		err_sys(&err, errno, "close_range");
		goto fail;
	}
	if (eo->seccomp && !p->noNewPrivileges &&
	    seccomp_install_and_send(eo->seccomp, eo->listener_fd, process_state, process_state_len,
				     &err) < 0)
		goto fail;
	if (process_drop_privileges(p, &err) < 0)
		goto fail;
	if (eo->seccomp && p->noNewPrivileges &&
	    seccomp_install_and_send(eo->seccomp, eo->listener_fd, process_state, process_state_len,
				     &err) < 0)
		goto fail;
	if (eo->listener_fd >= 0)
		close(eo->listener_fd);

	char **argv = calloc(p->args.len + 1, sizeof(char *));
	char **envp = calloc(p->env.len + 1, sizeof(char *));
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

int container_enter(const struct enter_opts *eo, pid_t *pid, struct husk_error *err)
{
	struct statfs sfs;
	int sv[2] = { -1, -1 }, r;
	pid_t child = -1;
	struct cgroup_join join = CGROUP_JOIN_NONE;
	bool placed;

	if (eo->proc->terminal && eo->console_fd < 0)
		return err_set(err, EINVAL, "exec: a terminal needs --console-socket (or run in the "
					    "foreground)");
	if ((r = process_validate(eo->proc, eo->cfg->linux, err)) < 0)
		return r;
	_cleanup_close_ int pidfd = container_pidfd(eo->c);
	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\": container not running", eo->c->id);
	/* the host's procfs, checked, for the writes about the new process */
	_cleanup_close_ int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0 || fstatfs(procfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return err_set(err, EPERM, "exec: /proc is not procfs");
	int flags = namespace_flags(eo->cfg);
	int born_in = flags & (CLONE_NEWPID | CLONE_NEWTIME);
	bool in_userns = false;
#ifdef HUSK_SANITIZERS
	/* LeakSanitizer's check at exit stops the process with a helper it
	 * forks, which, born in the container's pid namespace, cannot see us:
	 * exit would hang. Check now instead (it then skips the one at exit). */
	if (born_in)
		__lsan_do_leak_check();
#endif
	/* the pid and time namespaces apply to children: enter them here so
	 * the new process is born in them */
	if (born_in && setns(pidfd, born_in) < 0) {
		/* Without privilege over the container's user namespace (husk
		 * run by its owner, rootless) they can be joined only from
		 * inside it: join it too, in the same call. husk keeps its
		 * uid (mapped to the container's root), which is all the rest
		 * needs: no host cgroup to enter without privilege. */
		if (errno != EPERM || !(flags & CLONE_NEWUSER) ||
		    setns(pidfd, born_in | CLONE_NEWUSER) < 0)
			return err_sys(err, errno, "exec: join the pid namespace");
		in_userns = true;
	}
	if (eo->c->state->cgroup_path && (r = cgroup_join_open(eo->c->state->cgroup_path, &join, err)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_sys(err, errno, "socketpair");
		goto out;
	}
	child = clone_into_cgroup(0, &join, &placed);
	if (child < 0) {
		r = err_sys(err, errno, "fork");
		goto out;
	}
	if (child == 0) {
		close(sv[0]);
		/* the CPUs to run on until the process is in the container's
		 * cgroup (clone3 may have placed it there already) */
		const struct oci_cpu_affinity *aff = eo->proc->execCPUAffinity;
		if ((aff && aff->initial && aff->initial[0] &&
		     process_set_affinity(0, aff->initial, "process.execCPUAffinity.initial", err) < 0) ||
		    cgroup_join_self(&join, placed, err) < 0) {
			sync_send(sv[1], SYNC_ERROR, 0, err->msg);
			_exit(127);
		}
		enter_child(eo, pidfd, flags, procfd, sv[1], in_userns);
	}
	close(sv[1]);
	sv[1] = -1;
	cgroup_join_close(&join);
	if (sync_send(sv[0], SYNC_GO, child, NULL) < 0) {
		r = err_set(err, EPIPE, "exec: the new process died");
		goto out;
	}
	/* EOF: the socket closed on exec. A message: it failed. */
	struct sync_msg m;
	r = sync_recv(sv[0], &m);
	if (r == 0 && m.type == SYNC_ERROR) {
		r = err_set(err, EINVAL, "%s", m.text);
		goto out;
	}
	r = 0;
	*pid = child;
out:
	if (r < 0 && child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	cgroup_join_close(&join);
	return r;
}
