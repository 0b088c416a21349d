/* A container's record under --root: <root>/<id>/ holds state.json (written
 * atomically), config.json (the config the container was created with, for
 * exec and delete), exec.fifo while the container is created, and a lock
 * (flock on the directory) that every operation takes.
 *
 * create.json is the creating record: create writes it before it makes
 * anything else (the cgroup path it is about to create), again once the
 * init exists (its pid and start time), and delete removes it last. So a
 * create or delete killed at any point, or a state.json damaged later,
 * leaves a record from which `delete --force` finds everything to remove. */
#ifndef HUSK_RUNTIME_CONTAINER_H
#define HUSK_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

#define STATE_FILE "state.json"
#define CONFIG_COPY "config.json"
#define EXEC_FIFO "exec.fifo"
#define CREATE_RECORD "create.json"
/* state.json and create.json are refused beyond this size */
#define STATE_MAX_SIZE (4u << 20)

enum container_status {
	STATUS_CREATING,
	STATUS_CREATED,
	STATUS_RUNNING,
	STATUS_PAUSED,
	STATUS_STOPPED,
	STATUS_DAMAGED, /* state.json unusable: only delete --force acts on it */
};

/* state.json. The public fields are what `husk state` prints (the OCI
 * state plus runc's extra rootfs/created/owner); the rest is private. */
struct container_state {
	char *ociVersion;
	char *id;
	int32_t pid;
	bool has_pid;
	char *status; /* derived when loaded, never trusted from the file */
	char *bundle;
	char *rootfs;
	char *created;
	char *owner;
	oci_string_map annotations;
	/* private */
	uint64_t pid_start_time; /* /proc/PID/stat starttime: guards pid reuse */
	char *cgroup_path;
	/* create.json before the init exists: the cgroup create is about to
	 * make, which may yet be someone else's (see lifecycle_delete) */
	char *cgroup_planned;
	char *cgroup_created; /* what husk made there: see cgroup_create */
	bool rootless;
	bool systemd_cgroup;
};

extern const struct oci_type container_state_type;        /* state.json */
extern const struct oci_type container_public_state_type; /* husk state */
extern const struct oci_type container_record_type;       /* create.json */

struct container {
	int dirfd; /* <root>/<id>, locked */
	char *id;
	struct container_state *state;
	enum container_status status;
	/* the config copy, once container_config read it; in the process that
	 * created the container, the one it ran with (its annotations moved
	 * to state) */
	struct oci_config *config;
	/* Set by container_load_any only. damage: why state.json cannot be
	 * used (NULL when it can); from_record: state holds what create.json
	 * says (no usable state.json: a create in progress, killed, or a
	 * damaged state.json); locked: this process holds the lock. */
	char *damage;
	bool from_record;
	bool locked;
};

const char *status_name(enum container_status s);

/* Ids match [A-Za-z0-9_+-][A-Za-z0-9_+.-]* and are at most 1024 bytes. */
int container_check_id(const char *id, struct husk_error *err);
/* Open (creating when asked) the state root. */
int state_root_open(const char *root, bool create, int *out, struct husk_error *err);
/* Create <root>/<id> exclusively and lock it; fails when it exists. */
int container_dir_create(int rootfd, const char *id, int *dirfd, struct husk_error *err);
/* Remove <root>/<id> and every file in it, state.json then create.json
 * last, so that a removal cut short can be done again. Fails, naming what
 * is left, unless the directory is gone. dirfd: the directory when the
 * caller has it open, or -1. */
int container_dir_remove(int rootfd, const char *id, int dirfd, struct husk_error *err);
/* Load a container, locked when lock is set (every operation that changes
 * it); the error says "does not exist" when missing and names the file
 * and the damage when state.json cannot be read. */
int container_load(int rootfd, const char *id, bool lock, struct container **out,
		   struct husk_error *err);
/* The same for delete, state and list: a directory without a usable
 * state.json still loads, from create.json when that is readable
 * (from_record), with damage saying what is wrong with state.json. */
int container_load_any(int rootfd, const char *id, bool lock, struct container **out,
		       struct husk_error *err);
/* Write create.json atomically (the fields container_record_type holds). */
int container_save_record(int dirfd, const struct container_state *rec, struct husk_error *err);
/* Fill state->owner, for state and list: the user owning the state
 * directory (its creator), as a name when the user database has one. Looked
 * up here rather than at create, which would pay for NSS on every run. */
void container_fill_owner(struct container *ct);
/* Write state.json atomically. */
int container_save(int dirfd, struct container_state *state, struct husk_error *err);
/* Re-derive c->status from the process and exec.fifo. */
void container_refresh_status(struct container *c);
void container_free(struct container *c);
/* The config the container was created with (from its state dir, read
 * once); it belongs to c. */
int container_config(struct container *c, struct oci_config **out, struct husk_error *err);

/* /proc/PID/stat field 22, 0 when the process is gone. */
uint64_t process_start_time(pid_t pid);
/* A pidfd for the container's init, or -ESRCH when it is gone or the pid
 * was reused. */
int container_pidfd(const struct container *c);



/* The OCI state document hooks read on stdin. */
int hook_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		    const oci_string_map *annotations, char **out, struct husk_error *err);
#endif
