/* The container's init, from clone to execve. Everything before SYNC_READY
 * is part of `create` (its errors fail create); after exec.fifo is opened
 * by `start`, only the last privilege drop and the exec remain. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "runtime/container.h"
#include "runtime/linux/enter.h"
#include "runtime/linux/hooks.h"
#include "runtime/linux/lsm.h"
#include "runtime/linux/mempolicy.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/process.h"
#include "runtime/linux/spawn.h"
#include "runtime/linux/terminal.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct init {
	const struct spawn_opts *o;
	int sync_fd;
	int fifo_fd;
	int procfd;
	int given_procfd; /* see open_private_procfs */
	int start_fd; /* exec.fifo's write end once start opened it; closes on exec */
	pid_t host_pid;
	struct rootfs_ctx rootfs;
	struct husk_error err;
};

static _Noreturn void fail(struct init *in)
{
	sync_send(in->sync_fd, SYNC_ERROR, 0, in->err.msg);
	_exit(1);
}

int private_procfs(void)
{
	struct statfs sfs;
	int fsfd = fsopen("proc", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	int r = fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int mnt = r < 0 ? -1 : fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
								       MOUNT_ATTR_NOEXEC);
	int e = errno;
	close(fsfd);
	if (mnt < 0)
		return -e;
	if (fstatfs(mnt, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		close(mnt);
		return -EMEDIUMTYPE;
	}
	return mnt;
}

/* A procfs instance of the container's pid namespace that only the runtime
 * holds (never attached to a path), checked to really be procfs: label,
 * sysctl and oom writes cannot be redirected through the container's /proc.
 * Until an init set up outside a shared pid namespace forks into it, it is
 * of husk's pid namespace; one that joined a user namespace cannot mount
 * that, and takes the one made before (in->given_procfd). */
static int open_private_procfs(struct init *in)
{
	int mnt = in->given_procfd;
	in->given_procfd = -1;
	if (mnt < 0 && (mnt = private_procfs()) < 0)
		return mnt == -EMEDIUMTYPE ? err_set(&in->err, EPERM, "the private procfs is not procfs")
				     : err_sys(&in->err, -mnt, "mount a private procfs");
	in->procfd = mnt;
	/* the cgroup mounts read the init's own cgroups through it */
	in->rootfs.procfd = mnt;
	return 0;
}

/* Attach the private procfs over the old root's /proc, once nothing in
 * the old root needs the host's (the createContainer hooks have run), so
 * that pivot_root's detach of the old root takes it along. Closed while
 * never attached, a mount dissolves a namespace of its own and waits out an
 * RCU grace period (35 us here, on `start`'s path); one detach pays for
 * both. Its fd works as before. */
static void park_private_procfs(struct init *in)
{
	/* in the runtime's mount namespace "/proc" is the host's */
	if (in->o->no_pivot || in->rootfs.host_mntns ||
	    move_mount(in->procfd, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH) == 0)
		return;
	log_debug("attach the private procfs over the old root's /proc: %s", strerror(errno));
}

static int write_sysctls(struct init *in)
{
	const struct oci_linux *lx = in->o->cfg->linux;
	char path[512];

	for (size_t i = 0; lx && i < lx->sysctl.len; i++) {
		const char *key = lx->sysctl.keys[i], *value = lx->sysctl.values[i];
		if (key[0] == '\0' || key[0] == '.' || key[0] == '/' || strstr(key, ".."))
			return err_set(&in->err, EINVAL, "linux.sysctl: invalid name \"%s\"", key);
		int n = snprintf(path, sizeof(path), "sys/%s", key);
		for (char *p = path + 4; *p; p++)
			if (*p == '.')
				*p = '/';
		if (n >= (int)sizeof(path))
			return err_set(&in->err, ENAMETOOLONG, "linux.sysctl: \"%s\" too long", key);
		struct open_how how = {
			.flags = O_WRONLY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				   RESOLVE_NO_XDEV,
		};
		int fd = (int)syscall(SYS_openat2, in->procfd, path, &how, sizeof(how));
		if (fd < 0)
			return err_sys(&in->err, errno, "linux.sysctl[\"%s\"]", key);
		int r = write_all(fd, value, strlen(value));
		close(fd);
		if (r < 0)
			return err_sys(&in->err, -r, "linux.sysctl[\"%s\"]: write \"%s\"", key, value);
	}
	return 0;
}

static int set_names(struct init *in)
{
	const struct oci_config *cfg = in->o->cfg;
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return err_sys(&in->err, errno, "hostname: set \"%s\"", cfg->hostname);
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return err_sys(&in->err, errno, "domainname: set \"%s\"", cfg->domainname);
	return 0;
}

/* A network namespace the container gets new has its loopback down: bring
 * it up, as runc and crun do (before the prestart hooks, which may set up
 * the rest of the network). One it joins is left as its owner set it. */
static int loopback_up(struct init *in)
{
	const struct oci_linux *lx = in->o->cfg->linux;
	if (!config_namespace(lx, "network") || config_joins_namespace(lx, "network"))
		return 0;
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ? -errno : 0;
	if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return err_sys(&in->err, -r, "linux.namespaces: bring up lo in the new network namespace");
	return 0;
}

static int run_container_hooks(struct init *in, const char *kind, const oci_hook_list *list,
			       const char *status)
{
	if (list->len == 0)
		return 0;
	_cleanup_free_ char *state = NULL;
	int r = hook_state_json(in->o->id, status, in->host_pid, in->o->bundle,
				&in->o->cfg->annotations, &state, &in->err);
	if (r < 0)
		return r;
	/* createContainer hooks run with the container's root as their
	 * working directory, as in runc (their path is the host's) */
	_cleanup_close_ int back = -1;
	if (strcmp(kind, "createContainer") == 0 && in->rootfs.rootfd >= 0) {
		back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (back < 0 || fchdir(in->rootfs.rootfd) < 0)
			return err_sys(&in->err, errno, "%s hooks: chdir to the rootfs", kind);
	}
	r = hooks_run(kind, list, state, &in->err);
	if (back >= 0 && fchdir(back) < 0 && r == 0)
		r = err_sys(&in->err, errno, "%s hooks: chdir back", kind);
	return r;
}

/* Mark every fd past stdio and the preserved ones close-on-exec, and make
 * sure the preserved ones are not. */
static int prepare_fds(struct init *in)
{
	unsigned first = 3u + (unsigned)in->o->preserve_fds;
	for (unsigned fd = 3; fd < first; fd++) {
		int flags = fcntl((int)fd, F_GETFD);
		if (flags >= 0 && fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
			return err_sys(&in->err, errno, "--preserve-fds: fd %u", fd);
	}
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return err_sys(&in->err, errno, "close_range");
	return 0;
}

/* The pty, its master handed to create, which sends it to the console
 * socket: the init never holds that connection (issue 11). */
static int setup_terminal(struct init *in)
{
	const struct oci_process *p = in->o->cfg->process;
	int master = -1, peer = -1;
	if (terminal_open(in->rootfs.rootfd, p->consoleSize, true, &master, &peer, &in->err) < 0)
		return -1;
	int r = sync_hand_over(in->sync_fd, SYNC_PTY, master, &in->err);
	close(master);
	if (r == 0)
		r = terminal_attach(peer, &in->err);
	close(peer);
	return r;
}

/* As runc's init does: a stdio fd on the host's /dev/null (conmon gives
 * one to a container without stdin) is reopened on the container's own
 * /dev/null, so CRIU, which dumps only files on the container's mounts,
 * can checkpoint it. Done only where the container's /dev/null is the
 * null device: anything else (missing, a link, another file) leaves the
 * fds as they were. */
static void reopen_dev_null(int procfd)
{
	struct stat st, null_st;
	int null_fd = -1;
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
			continue;
		if (null_fd < 0) {
			/* the container's /dev/null may be anything its image or
			 * mounts made it: looked at before it is opened (opening
			 * some devices does something), then opened through it */
			int path_fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (path_fd < 0)
				return;
			if (fstat(path_fd, &null_st) < 0 || !S_ISCHR(null_st.st_mode) ||
			    null_st.st_rdev != makedev(1, 3)) {
				close(path_fd);
				return;
			}
			char path[32];
			snprintf(path, sizeof(path), "self/fd/%d", path_fd);
			null_fd = openat(procfd, path, O_RDWR | O_NOCTTY | O_CLOEXEC);
			close(path_fd);
			if (null_fd < 0)
				return;
		}
		/* also when it is the same inode (a bind of the host's): the
		 * mount is what CRIU looks at */
		dup3(null_fd, fd, 0);
	}
	if (null_fd >= 0)
		close(null_fd);
}

/* Block until `start` opens exec.fifo for reading. The write end stays open
 * (close-on-exec): `start` returns when it closes at our execve, or reads
 * the error that stopped us before it. */
static int wait_for_start(struct init *in)
{
	char path[64];
	snprintf(path, sizeof(path), "self/fd/%d", in->fifo_fd);
	int fd;
	while ((fd = openat(in->procfd, path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (fd < 0)
		return err_sys(&in->err, errno, "open exec.fifo");
	close(in->fifo_fd);
	in->start_fd = fd;
	return 0;
}

/* The filter of a profile with SCMP_ACT_NOTIFY goes in while create
 * still drives the init: the notify fd is handed to it (sync_hand_over),
 * and create, which holds the agent's connection, sends it with the state.
 * The init never holds that connection (issue 11: parked, it is seen by
 * the container's exec'd processes, and by every container of a shared
 * pid namespace). runc installs every filter before its init parks; husk
 * does so for these only, with the capabilities still there, and the
 * steps after it (parking, the privilege drop, startContainer hooks) pass
 * the filter. */
static int install_notify_filter(struct init *in)
{
	int notify_fd = -1;
	int r = seccomp_install(in->o->seccomp, &notify_fd, &in->err);
	if (r < 0 || notify_fd < 0)
		return r < 0 ? r : err_set(&in->err, EPROTO, "linux.seccomp: no notify fd");
	r = sync_hand_over(in->sync_fd, SYNC_SECCOMP_FD, notify_fd, &in->err);
	close(notify_fd);
	return r;
}

/* The container joins an existing pid namespace that other containers
 * share, and this process set it up from outside it (issue 11: until the
 * pivot its root was the host's, and a container in that namespace holding
 * CAP_SYS_PTRACE read host files through /proc/PID/root; runc's init has
 * the same gap). Now rooted in the container, it drops every fd of the
 * host (its procfs, of husk's pid namespace; the log; idmapped trees) and
 * forks the init into the pid namespace. The init tells the parent its
 * pid through this one (SYNC_INIT_PID), waits for SYNC_GO with its host
 * pid, and opens a private procfs of its own namespace; from there on it
 * is the init of the fast path.
 *
 * Who in the pid namespace can reach the init (/proc/PID/root, cwd, fd:
 * ptrace_may_access, PTRACE_MODE_READ): a caller with the init's uids and
 * gids, or holding CAP_SYS_PTRACE in the user namespace of the init's
 * credentials; and, as the init is not dumpable, also holding
 * CAP_SYS_PTRACE in the user namespace of its mm, which is husk's (where
 * husk was executed; neither setns nor fork changes it). So:
 *  - no user namespace in the config: any container of the namespace
 *    without a user namespace of its own that holds CAP_SYS_PTRACE (or
 *    root on the host). Hence the setup outside it;
 *  - a user namespace joined with the pid namespace (a pod): containers
 *    in that user namespace (or below it) fail the dumpable check, even
 *    with CAP_SYS_PTRACE there; one without a user namespace that joined
 *    the pod's pid namespace does not. Hence the setup outside it too;
 *  - a new user namespace: refused (check_pidns_userns in spawn.c).
 * PTRACE_MODE_ATTACH follows the same rules: whoever reaches the init's
 * root can also attach to it and run code with its capabilities before
 * it drops them, as in runc. That is not closed here: a Yama
 * ptrace_scope of 3 or an LSM rule stops the attach, not these reads. */
static void fork_into_pidns(struct init *in, int pidns_fd)
{
	struct sync_msg m;
	if (in->procfd >= 0)
		close(in->procfd);
	in->procfd = in->rootfs.procfd = -1;
	log_close();
	int keep[] = { in->sync_fd, in->fifo_fd, in->rootfs.rootfd, pidns_fd };
	int r = close_fds_except(3u + (unsigned)in->o->preserve_fds, keep,
				 sizeof(keep) / sizeof(keep[0]));
	if (r < 0) {
		err_sys(&in->err, -r, "close the set-up's fds");
		fail(in);
	}
	if (setns(pidns_fd, CLONE_NEWPID) < 0) {
		err_sys(&in->err, errno, "linux.namespaces: join the pid namespace");
		fail(in);
	}
	close(pidns_fd);
	struct clone_args args = { .flags = CLONE_PARENT };
	pid_t init = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (init < 0) {
		err_sys(&in->err, errno, "fork the container init into its pid namespace");
		fail(in);
	}
	if (init > 0) {
		sync_send(in->sync_fd, SYNC_INIT_PID, init, NULL);
		_exit(0);
	}
	/* a child of husk (CLONE_PARENT): die with it until create is done */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sync_recv(in->sync_fd, &m) < 0 || m.type != SYNC_GO)
		_exit(1);
	in->host_pid = m.value;
	if (open_private_procfs(in) < 0)
		fail(in);
}

_Noreturn void container_init(const struct spawn_opts *o, int sync_fd, int fifo_fd, bool userns,
			      bool host_mntns, bool new_cgroupns, const struct shared_pidns *shared)
{
	const struct oci_config *cfg = o->cfg;
	const struct oci_process *p = cfg->process;
	struct init in = { .o = o,
			   .sync_fd = sync_fd,
			   .fifo_fd = fifo_fd,
			   .procfd = -1,
			   .given_procfd = shared ? shared->procfd : -1,
			   .start_fd = -1 };
	struct sync_msg m;
	char exe[4096];
	bool notify;

	/* until create returns, the init must not outlive husk */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Until the exec this process is the husk binary inside the
	 * container: not dumpable, so container processes without
	 * CAP_SYS_PTRACE cannot reach /proc/<pid>/exe or its fds. This is
	 * defence in depth: the CVE-2019-5736 protection is that the binary
	 * here is a sealed memfd copy (cloned-exe.c). execve of the
	 * container's program makes it dumpable again. */
	prctl(PR_SET_DUMPABLE, 0);
	/* `run` blocks every signal to read them from a signalfd; the mask
	 * survives execve, and the container must start with none blocked */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	in.rootfs.cfg = cfg;
	in.rootfs.bundle = o->bundle;
	in.rootfs.userns = userns;
	in.rootfs.no_pivot = o->no_pivot;
	in.rootfs.host_mntns = host_mntns;
	in.rootfs.rootfd = -1;
	in.rootfs.procfd = -1;
	in.rootfs.pidns_fd = shared && !shared->proc_contexts ? shared->fd : -1;
	in.rootfs.proc_contexts = shared ? shared->proc_contexts : NULL;
	in.rootfs.source_trees = o->source_trees;
	/* Without a user namespace the first mounts need nothing from the
	 * parent: do them while it creates the cgroup. In one, they wait for
	 * the id maps. */
	if (!userns && (open_private_procfs(&in) < 0 || rootfs_prepare(&in.rootfs, &in.err) < 0))
		fail(&in);

	struct cgroup_join join = CGROUP_JOIN_NONE;
	if (sync_recv_fds(sync_fd, &m, join.tasks, CGROUP_MAX_HIERARCHIES, &join.n_tasks) < 0 ||
	    m.type != SYNC_GO)
		_exit(1);
	in.host_pid = m.value;
	if (cgroup_join_self(&join, true, &in.err) < 0)
		fail(&in);
	if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		log_debug("root is not mapped in the user namespace");
	if (new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
		err_sys(&in.err, errno, "unshare the cgroup namespace");
		fail(&in);
	}
	/* A session keyring of its own, named after the container, so keys
	 * never leak between the caller and the container. A kernel
	 * without keyrings has nothing to leak. */
	if (!o->no_new_keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, o->id) < 0 &&
	    errno != ENOSYS) {
		err_sys(&in.err, errno, "join a new session keyring (--no-new-keyring keeps the "
					"caller's)");
		fail(&in);
	}

	if (userns && (open_private_procfs(&in) < 0 || rootfs_prepare(&in.rootfs, &in.err) < 0))
		fail(&in);
	if (rootfs_prepare_rest(&in.rootfs, &in.err) < 0)
		fail(&in);

	if (loopback_up(&in) < 0)
		fail(&in);
	if (cfg->hooks && (cfg->hooks->prestart.len || cfg->hooks->createRuntime.len)) {
		if (sync_send(sync_fd, SYNC_RUN_HOOKS, 0, NULL) < 0 || sync_recv(sync_fd, &m) < 0 ||
		    m.type != SYNC_HOOKS_DONE)
			_exit(1);
	}
	if (cfg->hooks &&
	    run_container_hooks(&in, "createContainer", &cfg->hooks->createContainer, "creating") < 0)
		fail(&in);
	if (set_names(&in) < 0 || write_sysctls(&in) < 0)
		fail(&in);
	park_private_procfs(&in);
	if (rootfs_pivot(&in.rootfs, &in.err) < 0)
		fail(&in);
	if (shared)
		fork_into_pidns(&in, shared->fd);
	if (p->terminal && setup_terminal(&in) < 0)
		fail(&in);
	/* as runc's init: the container's process leads a session of its
	 * own (terminal_attach made one), never the caller's: CRIU refuses to
	 * checkpoint a tree whose session leader is outside its pid namespace,
	 * and a signal to the caller's process group stays the caller's */
	if (!p->terminal && setsid() < 0) {
		err_sys(&in.err, errno, "setsid");
		fail(&in);
	}
	if (!p->terminal)
		reopen_dev_null(in.procfd);
	if (rootfs_finish(&in.rootfs, &in.err) < 0 ||
	    process_apply_limits(p, cfg->linux, in.procfd, &in.err) < 0)
		fail(&in);
	/* last of the setup: the policy also places what the init allocates */
	if (cfg->linux && cfg->linux->memoryPolicy &&
	    mempolicy_apply(cfg->linux->memoryPolicy, &in.err) < 0)
		fail(&in);
	umask(p->user && p->user->has_umask ? p->user->umask : 022);
	if (process_chdir(p, &in.err) < 0 || process_find_executable(p, exe, sizeof(exe), &in.err) < 0)
		fail(&in);
	if (prepare_fds(&in) < 0)
		fail(&in);
	notify = o->seccomp && seccomp_uses_notify(o->seccomp);
	if (notify && install_notify_filter(&in) < 0)
		fail(&in);

	/* Keep PDEATHSIG until create has recorded everything and says so:
	 * a create killed before that takes us along. Then confirm, so it
	 * never exits while we might still die with it. */
	if (sync_send(sync_fd, SYNC_READY, 0, NULL) < 0 || sync_recv(sync_fd, &m) < 0 ||
	    m.type != SYNC_COMMIT)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	if (sync_send(sync_fd, SYNC_COMMITTED, 0, NULL) < 0)
		_exit(1);
	if (wait_for_start(&in) < 0)
		goto exec_failed;
	/* the hooks below inherit the exec label, as in runc: they run
	 * confined like the process */
	if (lsm_set_exec_labels(in.procfd, p, &in.err) < 0)
		goto exec_failed;
	close(in.procfd);
	/* without no_new_privs the kernel takes a filter only from a task with
	 * CAP_SYS_ADMIN: install it before the capabilities go */
	if (o->seccomp && !notify && !p->noNewPrivileges && seccomp_install(o->seccomp, NULL, &in.err) < 0)
		goto exec_failed;
	if (process_drop_privileges(p, &in.err) < 0)
		goto exec_failed;
	if (o->seccomp && !notify && p->noNewPrivileges && seccomp_install(o->seccomp, NULL, &in.err) < 0)
		goto exec_failed;
	/* startContainer hooks last, as runc runs them: under the seccomp
	 * filter, with the process's user and capabilities, so a hook from
	 * the image cannot do what the process could not */
	if (cfg->hooks &&
	    run_container_hooks(&in, "startContainer", &cfg->hooks->startContainer, "created") < 0)
		goto exec_failed;

	{
		/* a block: the gotos above jump past it to exec_failed */
		char **argv = calloc(p->args.len + 1, sizeof(char *));
		char **envp = calloc(p->env.len + 1, sizeof(char *));
		if (argv == NULL || envp == NULL)
			_exit(127);
		memcpy(argv, p->args.items, p->args.len * sizeof(char *));
		if (p->env.len)
			memcpy(envp, p->env.items, p->env.len * sizeof(char *));
		reset_signals();
		execve(exe, argv, envp);
		err_sys(&in.err, errno, "exec %s", exe);
	}
exec_failed:
	/* tell `start` why (it waits on the fifo); `run` also listens on the
	 * sync socket */
	if (in.start_fd >= 0)
		write_all(in.start_fd, in.err.msg, strlen(in.err.msg));
	sync_send(sync_fd, SYNC_ERROR, 0, in.err.msg);
	dprintf(STDERR_FILENO, "husk: %s\n", in.err.msg);
	_exit(127);
}
