/* Creating a container's init: clone3 with the namespace flags (or, when
 * namespaces are joined by path or a time namespace is asked for, a short
 * stage that joins and unshares first), then the parent and the child step
 * through the setup over a socketpair until the init is parked on
 * exec.fifo. */
#ifndef HUSK_LINUX_SPAWN_H
#define HUSK_LINUX_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/netdev.h"
#include "runtime/linux/seccomp.h"

struct spawn_opts {
	const char *id;
	const char *bundle; /* absolute */
	const struct oci_config *cfg;
	int state_dirfd;
	int console_fd; /* connected console socket or -1 */
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool rootless;
	bool systemd_cgroup; /* cgroupsPath is slice:prefix:name */
	const struct husk_seccomp *seccomp; /* compiled linux.seccomp, or NULL */
	int listener_fd; /* connected to linux.seccomp.listenerPath, or -1 */
	const int *source_trees; /* see mount_sources_prepare */
	/* Called once the init has all it needs from the parent, while it
	 * sets itself up (cgroup_path NULL when none; cgroup_created the
	 * record of what husk made, see cgroup_create); an error fails the
	 * create. */
	int (*on_spawned)(void *arg, pid_t pid, uint64_t start_time, const char *cgroup_path,
			  const char *cgroup_created, struct husk_error *err);
	void *on_spawned_arg;
	/* run, when nothing but SYNC_GO goes from the parent to the init
	 * before it is ready (no hooks the parent runs, no pty or seccomp fd
	 * to hand over, no pid file, no systemd scope, a single init): open
	 * the read end of exec.fifo right after the clone and send SYNC_COMMIT
	 * as soon as the init is recorded (on_spawned), so that the init goes
	 * from SYNC_GO to its execve without waiting for the parent again.
	 * Done when res->start_fifo >= 0 after the spawn. */
	bool commit_early;
};

struct spawn_result {
	pid_t pid;
	uint64_t start_time;
	char cgroup_path[4096];
	char cgroup_created[1024]; /* cgroup_create's record */
	bool has_cgroup;
	int sync_fd; /* open until the init execs: errors after start arrive here */
	int start_fifo; /* run: the read end of exec.fifo, or -1; from the spawn
			 * (commit_early), SYNC_COMMIT went with it */
	/* the network devices moved into the init's namespace: create moves
	 * them back if it fails after the spawn, and frees them */
	struct netdev_moves moves;
};

int container_spawn(const struct spawn_opts *o, struct spawn_result *res, struct husk_error *err);

/* clone3 with flags and SIGCHLD, born in j's cgroup when the kernel can
 * (CLONE_INTO_CGROUP, v2); *placed says whether it was. */
pid_t clone_into_cgroup(uint64_t flags, const struct cgroup_join *j, bool *placed);

/* The messages parent and child exchange. */
enum sync_type {
	SYNC_GO = 1,      /* parent: maps written (value: init pid; fds: v1 cgroup join) */
	SYNC_WRITE_MAPS,  /* stage: I unshared the user namespace, map me */
	SYNC_INIT_PID,    /* stage: the init's pid (value); again from the
			   * init when it forks into a joined pid namespace */
	SYNC_RUN_HOOKS,   /* init: run prestart and createRuntime hooks now */
	SYNC_HOOKS_DONE,  /* parent: done */
	SYNC_READY,       /* init: set up, about to wait on exec.fifo */
	SYNC_ERROR,       /* either: text */
	SYNC_COMMIT,      /* parent: create recorded everything, drop PDEATHSIG */
	SYNC_COMMITTED,   /* init: dropped, parking on exec.fifo */
	SYNC_PTY,         /* process: its pty master (fd), for the console socket */
	SYNC_SECCOMP_FD,  /* process: its seccomp listener (fd), for the agent */
	SYNC_HANDED_OVER, /* parent: sent on where it goes */
};

struct sync_msg {
	int type;
	int value;
	char text[HUSK_ERROR_MAX];
};

int sync_send(int fd, int type, int value, const char *text);
/* Receive one message; -EPIPE when the other side closed. */
int sync_recv(int fd, struct sync_msg *m);
/* The same, passing up to CGROUP_MAX_HIERARCHIES fds along (SCM_RIGHTS);
 * received fds are close-on-exec, extra ones are closed. */
int sync_send_fds(int fd, int type, int value, const char *text, const int *fds, size_t n_fds);
int sync_recv_fds(int fd, struct sync_msg *m, int *fds, size_t max_fds, size_t *n_fds);

/* Handing over (issue 11): a process in the container never holds the
 * console socket's connection or the seccomp agent's, where a container
 * process holding CAP_SYS_PTRACE could take them (pidfd_getfd). It sends
 * the pty master or the notify fd to husk outside over its sync socket and
 * waits for husk to have sent it on. The wait is a read(2), the call a
 * seccomp profile is least likely to refuse once the filter is in. 0, or
 * -1 with err set. */
int sync_hand_over(int sync_fd, int type, int fd, struct husk_error *err);

/* Where husk outside sends what a process hands over. */
struct handover {
	bool want_pty;    /* the process has a terminal */
	int console_fd;   /* the console socket's connection; -1: keep the master */
	int pty_master;   /* the master kept (console_fd -1), or -1 */
	int listener_fd;  /* connected to linux.seccomp.listenerPath, or -1 */
	pid_t pid;        /* the process's host pid, for the agent's state */
	const char *state_json, *listener_metadata;
	bool pty_done, seccomp_done;
};

/* husk's side of sync_hand_over for message m, which carried fds[0..n):
 * checks the fd is what m says (a pty master, a seccomp listener) and
 * expected (asked for, and once), sends it on, answers SYNC_HANDED_OVER.
 * Takes the fds (closes them, or keeps the master in h->pty_master). */
int handover_forward(int sync_fd, const struct sync_msg *m, int *fds, size_t n,
		     struct handover *h, struct husk_error *err);

/* The container side, entered in the child after clone. */
/* new_cgroupns: unshare the cgroup namespace once the parent has put us in
 * the container's cgroup, so that cgroup is the namespace's root. */
/* The container joins an existing pid namespace, shared with other
 * containers. The process sets up outside it, and is already rooted in the
 * container (pivoted) and holds nothing of the host when it forks the init
 * into it (issue 11): see container_init. */
struct shared_pidns {
	int fd;                   /* the pid namespace */
	const int *proc_contexts; /* by mount index, the procfs fs contexts of
				   * it that proc mounts take (pidns-proc.h), or
				   * NULL: Linux 6.15 mounts them with "pidns" */
	int procfd;               /* a procfs of husk's pid namespace, made before
				   * the user namespace was joined (the private
				   * one until the fork), or -1 */
};

/* host_mntns: the container has no mount namespace of its own (none
 * listed, or the one listed is the runtime's or the host's): only chroot.
 * shared: NULL, or the shared pid namespace it joins. */
_Noreturn void container_init(const struct spawn_opts *o, int sync_fd, int fifo_fd, bool userns,
			      bool host_mntns, bool new_cgroupns, const struct shared_pidns *shared);

/* A procfs of the caller's pid namespace as a detached mount (nosuid,
 * nodev, noexec), checked to be procfs: its fd, or -errno (-EMEDIUMTYPE: not procfs). */
int private_procfs(void);

/* pid (from a message of a process the container can reach) names an
 * unreaped child of ours other than `except`. */
bool is_our_child(long long pid, pid_t except);

/* Close every fd from `from` up except those in keep (reordered; -1
 * entries and fds below `from` are ignored). Returns 0 or -errno. */
int close_fds_except(unsigned from, int *keep, size_t n);

#endif
