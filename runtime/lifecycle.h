/* The container core the verbs share: create, start, delete, signal. */
#ifndef HUSK_RUNTIME_LIFECYCLE_H
#define HUSK_RUNTIME_LIFECYCLE_H

#include "runtime/container.h"
#include "runtime/husk.h"
#include "runtime/linux/spawn.h"

struct create_opts {
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	int console_fd; /* used when console_socket is NULL (run with a tty); -1 otherwise */
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	/* run: start follows at once. The exec.fifo is opened (res->start_fifo)
	 * before the init is told to commit, and create does not wait for its
	 * answer: the init goes on to its execve with no further exchange,
	 * and lifecycle_start_opened confirms it. */
	bool then_start;
};

/* Create a container; on success *out is the locked, created container and
 * res holds the init's pid and the sync socket. On failure nothing is left. */
int lifecycle_create(const struct husk_globals *g, const struct create_opts *co,
		     struct container **out, struct spawn_result *res, struct husk_error *err);
/* Restoring a container from a checkpoint: lifecycle_restore makes the
 * container's record and cgroup as create would, then fn brings its
 * processes back (CRIU) and says the init's pid. */
struct cgroup_join;
struct restore_target {
	const char *id;
	const struct oci_config *cfg;
	const char *bundle;
	const char *rootfs;
	int dirfd;                   /* the container's state directory */
	struct cgroup_join *cgroup;  /* the container's cgroup to restore into, or NULL */
	const char *cgroup_path;     /* its path, or NULL */
};
typedef int (*restore_fn)(void *arg, const struct restore_target *t, pid_t *pid,
			  struct husk_error *err);
/* On success *out is the locked, running container. On failure nothing
 * is left: no record, no cgroup, and a process restored is killed. */
int lifecycle_restore(const struct husk_globals *g, const char *id, const char *bundle,
		      const char *pid_file, restore_fn fn, void *arg, struct container **out,
		      struct husk_error *err);
/* Release a created container's init and run the poststart hooks. */
int lifecycle_start(struct container *c, struct husk_error *err);
/* The same, for a container made by lifecycle_create with then_start:
 * fifo is res->start_fifo (closed here), sync_fd res->sync_fd. */
int lifecycle_start_opened(struct container *c, int fifo, int sync_fd, struct husk_error *err);
/* Remove a container; with force a running one is killed first. */
int lifecycle_delete(int rootfd, struct container *c, bool force, struct husk_error *err);
/* Send sig to the init, or with all to every process of the container. */
int lifecycle_kill(struct container *c, int sig, bool all, struct husk_error *err);

/* "TERM", "SIGTERM", "15", "RTMIN+2" -> the number; -EINVAL otherwise. */
int signal_parse(const char *s);

/* open_root_for + container_load: the container named on a command line. */
int load_container(const struct husk_globals *g, const char *id, bool lock, struct container **out,
		   struct husk_error *err);

/* Write pid to path atomically (--pid-file). */
int write_pid_file(const char *path, pid_t pid, struct husk_error *err);

/* Open the state root named by --root (created when create is true). */
int open_root(const struct husk_globals *g, bool create, int *fd, struct husk_error *err);

/* Open the state root for an operation on container id: the id is checked
 * first, and a missing root means the container does not exist. */
int open_root_for(const struct husk_globals *g, const char *id, int *fd, struct husk_error *err);

#endif
