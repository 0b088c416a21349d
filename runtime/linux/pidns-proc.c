/* The /proc of a pid namespace the container joins, made while the init
 * is still outside it, on kernels whose procfs takes no "pidns" option
 * (before Linux 6.15). See pidns-proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/linux/pidns-proc.h"
#include "runtime/linux/spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static size_t count_proc_mounts(const struct oci_config *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->mounts.len; i++)
		if (cfg->mounts.items[i].type && strcmp(cfg->mounts.items[i].type, "proc") == 0)
			n++;
	return n;
}

/* Root this process in an empty read-only tmpfs that is the only mount of
 * a mount namespace of its own: /proc/PID/root of a child leads there,
 * and its ".." stays there (a directory that is not a mount root, or a
 * mount over another, would let ".." walk out into the tree below). */
static int root_in_nothing(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	int mnt = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
			  ? -1
			  : fsmount(fs, FSMOUNT_CLOEXEC,
				    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					    MOUNT_ATTR_NOEXEC);
	int e = errno;
	close(fs);
	if (mnt < 0)
		return -e;
	/* over "/", then pivot into it with the old root stacked on top
	 * (put_old "."), and detach that */
	int r = move_mount(mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 || fchdir(mnt) < 0
			? -errno
			: 0;
	close(mnt);
	if (r < 0)
		return r;
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

#if defined(__x86_64__)
#define HELPER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HELPER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* A process of the namespace holding CAP_SYS_PTRACE in husk's user
 * namespace can attach to the helper's child while it lives, and that
 * child has the set-up's capabilities (the host's, without a user
 * namespace): code it injects would run with them. So before the child is
 * born, the helper confines itself, and the child with it, to the calls
 * the two make from then on (a seccomp filter also judges the calls a
 * tracer makes its tracee run): the fork, fsopen, waiting, raising
 * SIGSTOP, prctl, exit. Kernels without seccomp filters go on without. */
static int confine_to_the_rest(void)
{
#ifdef HELPER_AUDIT_ARCH
	static const unsigned allowed[] = {
		SYS_clone3, SYS_fsopen,	       SYS_wait4,  SYS_prctl,  SYS_rt_sigprocmask,
		SYS_getpid, SYS_gettid,	       SYS_tgkill, SYS_exit,   SYS_exit_group,
		SYS_restart_syscall,
	};
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter prog[4 + 2 * N + 1];
	size_t k = 0;
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HELPER_AUDIT_ARCH, 1, 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < N; i++) {
		prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i], 0, 1);
		prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	struct sock_fprog fprog = { .len = (unsigned short)k, .filter = prog };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0 && errno != EINVAL &&
	    errno != ENOSYS)
		return -errno;
#endif
	return 0;
}

/* The helper, a child of the set-up process and never in the pid
 * namespace itself. It holds nothing but the pid namespace's fd, roots
 * itself in nothing, joins the namespace for its children and forks one
 * that shares its (empty) fd table: that child, born in the namespace,
 * opens n procfs contexts (fds 0..n-1 of the table; procfs takes the pid
 * namespace of the process that opens the context) and exits. The helper
 * then stops, for the set-up process to copy them with pidfd_getfd. Its
 * exit status is the errno of a step that failed. */
static _Noreturn void helper(int pidns_fd, size_t n)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the child is born with it (the container's processes without
	 * CAP_SYS_PTRACE in husk's user namespace cannot reach it) */
	prctl(PR_SET_DUMPABLE, 0);
	int keep = pidns_fd;
	int r = close_fds_except(0, &keep, 1);
	if (r == 0)
		r = root_in_nothing();
	if (r == 0 && setns(pidns_fd, CLONE_NEWPID) < 0)
		r = -errno;
	if (r < 0)
		_exit(-r);
	close(pidns_fd);
	if ((r = confine_to_the_rest()) < 0)
		_exit(-r);
	/* no fd left: nothing of the host or of the set-up for a process of
	 * the namespace to copy out of the child, no socket to send us one */
	struct clone_args args = { .flags = CLONE_FILES | CLONE_VFORK, .exit_signal = SIGCHLD };
	pid_t child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0)
		_exit(errno);
	if (child == 0) {
		for (size_t i = 0; i < n; i++) {
			int fd = fsopen("proc", FSOPEN_CLOEXEC);
			if (fd != (int)i)
				_exit(fd < 0 ? errno : EBADF);
		}
		_exit(0);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			_exit(errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : EINTR);
	/* pidfd_getfd needs it from a set-up process in a user namespace */
	prctl(PR_SET_DUMPABLE, 1);
	raise(SIGSTOP);
	_exit(0);
}

/* pidfd_getfd is a ptrace attach: Yama's ptrace_scope 3 refuses every
 * one, and this way (kernels before 6.15) has no other */
static int getfd_failed(int e, size_t i, struct husk_error *err)
{
	char scope[4] = "";
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, scope, sizeof(scope) - 1);
		scope[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (e == EPERM && scope[0] == '3')
		return err_set(err, EPERM,
			       "mounts[%zu]: the procfs of the joined pid namespace cannot be taken "
			       "from the helper that opened it: kernel.yama.ptrace_scope is 3, which "
			       "refuses pidfd_getfd (needed where procfs takes no \"pidns\" option, "
			       "before Linux 6.15)",
			       i);
	return err_sys(err, e, "mounts[%zu]: take the procfs of the joined pid namespace from its helper",
		       i);
}

int pidns_proc_contexts(const struct oci_config *cfg, int pidns_fd, int **out,
			struct husk_error *err)
{
	*out = NULL;
	size_t n = count_proc_mounts(cfg);
	if (n == 0)
		return 0;
	int *fds = malloc(cfg->mounts.len * sizeof(int));
	if (fds == NULL)
		return err_set(err, ENOMEM, "mounts: procfs of the joined pid namespace");
	for (size_t i = 0; i < cfg->mounts.len; i++)
		fds[i] = -1;
	int pidfd = -1, r = 0;
	struct clone_args args = { .flags = CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)&pidfd,
				   .exit_signal = SIGCHLD };
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		free(fds);
		return err_sys(err, errno, "fork the helper for the joined pid namespace's /proc");
	}
	if (pid == 0)
		helper(pidns_fd, n);

	siginfo_t info;
	memset(&info, 0, sizeof(info));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WSTOPPED) < 0) {
		if (errno != EINTR) {
			r = err_sys(err, errno, "wait for the helper for the joined pid namespace's /proc");
			break;
		}
	}
	if (r == 0 && info.si_code == CLD_STOPPED) {
		size_t k = 0;
		for (size_t i = 0; i < cfg->mounts.len && r == 0; i++) {
			if (cfg->mounts.items[i].type == NULL || strcmp(cfg->mounts.items[i].type, "proc"))
				continue;
			fds[i] = (int)syscall(SYS_pidfd_getfd, pidfd, (int)k++, 0);
			if (fds[i] < 0)
				r = getfd_failed(errno, i, err);
		}
	} else if (r == 0) {
		r = err_set(err, info.si_code == CLD_EXITED && info.si_status > 0 ? info.si_status : EIO,
			    "linux.namespaces: prepare /proc of the joined pid namespace (a helper "
			    "born in it opens it): %s",
			    info.si_code == CLD_EXITED ? strerror(info.si_status) : "the helper was killed");
	}
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (r < 0) {
		for (size_t i = 0; i < cfg->mounts.len; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		free(fds);
		return r;
	}
	log_debug("mounts: %zu procfs of the joined pid namespace, opened by a helper born in it", n);
	*out = fds;
	return 0;
}
