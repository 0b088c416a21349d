/* Placing containers in cgroups on v1, v2 and hybrid hosts. */
#ifndef HUSK_LINUX_CGROUP_H
#define HUSK_LINUX_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

enum cgroup_mode { CGROUP_V1, CGROUP_HYBRID, CGROUP_V2 };

/* Detected once per process (one statfs, two when not v2). */
enum cgroup_mode cgroup_mode(void);

/* Where a controller's hierarchy is mounted ("unified": the v2 tree of a
 * hybrid host; on v2 every controller is the one tree), from the mount
 * table read once per process; NULL when the host does not mount it. */
const char *cgroup_mount(const char *controller);

/* The longest cgroup path husk accepts: the hierarchy's mount and a file
 * name still fit PATH_MAX. */
#define CGROUP_PATH_MAX 3800

/* The cgroup path of a container: linux.cgroupsPath when absolute, relative
 * to husk's own cgroup when relative, "/<id>" when absent. With systemd
 * (--systemd-cgroup) cgroupsPath is "slice:prefix:name" and the path is
 * the one systemd gives that scope (systemd.h starts it). The path is normalised ("//" and "."
 * dropped); ".." anywhere, a path that is the root, or one over
 * CGROUP_PATH_MAX is refused naming linux.cgroupsPath. */
int cgroup_path_for(const struct oci_config *cfg, const char *id, bool systemd, char *out,
		    size_t size, struct husk_error *err);
/* A path read back (state.json): absolute, normalised, not the root. */
int cgroup_path_check(const char *path, struct husk_error *err);
/* Whether path is still the cgroup create made, per its record (below):
 * a state.json edited to name another cgroup is refused. */
int cgroup_check_owned(const char *path, const char *created, struct husk_error *err);

/* What a new process needs to place itself in a container's cgroup. The
 * parent opens it; the child (single-threaded, before it runs anything of
 * the container) joins. Why not the parent writing the child's pid to
 * cgroup.procs: that takes the kernel's global threadgroup lock for
 * writing, and its first taker waits an RCU grace period (7-36 ms measured
 * on this 6.x kernel, most of a `husk run`). A thread moving itself by
 * writing "0" to a v1 `tasks` file skips that lock (0.03 ms), and on v2
 * CLONE_INTO_CGROUP places the child at birth. */
#define CGROUP_MAX_HIERARCHIES 16
struct cgroup_join {
	int dirfd; /* v2 (or hybrid's v2 tree): the cgroup, for CLONE_INTO_CGROUP */
	int tasks[CGROUP_MAX_HIERARCHIES]; /* v1: each hierarchy's tasks file */
	size_t n_tasks;
};
#define CGROUP_JOIN_NONE { .dirfd = -1, .n_tasks = 0 }
/* Open the join handles of an existing container cgroup (exec). */
int cgroup_join_open(const char *path, struct cgroup_join *j, struct husk_error *err);
/* exec --cgroup [CONTROLLER:]PATH: a sub-cgroup of the container's to
 * join instead. controller "" is every hierarchy (the only form on v2);
 * path is relative, already checked to stay below the container's cgroup. */
#define CGROUP_MAX_SUBS 16
struct cgroup_sub {
	const char *controller;
	const char *path;
};
int cgroup_join_open_sub(const char *path, const struct cgroup_sub *subs, size_t n_subs,
			 struct cgroup_join *j, struct husk_error *err);
/* In the child: move the calling (single-threaded) process into the
 * cgroup, unless clone3 already put it there (placed), then close the
 * handles. */
int cgroup_join_self(struct cgroup_join *j, bool placed, struct husk_error *err);
void cgroup_join_close(struct cgroup_join *j);
/* Create the cgroup in every hierarchy (on hybrid hosts the v2 tree too),
 * apply linux.resources and open its join handles. An existing cgroup is
 * used only when it holds no process and is not frozen. *created: the
 * record of what was made (malloc'd; state.json cgroupCreated), for
 * cgroup_destroy. On failure nothing made is left behind. */
int cgroup_create(const char *path, const struct oci_config *cfg, struct cgroup_join *j,
		  char **created, struct husk_error *err);
/* The systemd driver: the scope systemd made holds its helper process
 * (pid) until the init is in it; cgroup_create may take a cgroup holding
 * only that process. */
void cgroup_allow_holder(pid_t pid);
/* Kill what is left in the cgroup and remove exactly the directories its
 * record says create made (bounded retries on EBUSY); a NULL record
 * removes nothing. */
/* The cgroup a killed create only planned (create.json): its leaf in each
 * hierarchy, removed when it is an empty directory; parents are left, since
 * nothing recorded which levels create made. */
int cgroup_remove_planned(const char *path, struct husk_error *err);
int cgroup_destroy(const char *path, const char *created, struct husk_error *err);
/* Signal every process of the cgroup (v2 SIGKILL: cgroup.kill). */
int cgroup_kill(const char *path, int sig, struct husk_error *err);
/* The pids in the cgroup; *pids is malloc'd. */
int cgroup_pids(const char *path, pid_t **pids, size_t *count, struct husk_error *err);

/* Freeze or thaw every process of the cgroup, waiting until done. */
int cgroup_freeze(const char *path, bool frozen, struct husk_error *err);
bool cgroup_is_frozen(const char *path);
/* Check linux.resources values without touching the host (bad values fail
 * before any cgroup exists). */
int cgroup_check_resources(const struct oci_resources *res, struct husk_error *err);
/* Write linux.resources into the cgroup at path (created, update). On v2 the
 * needed controllers are enabled in every ancestor first. A value the host
 * cannot take is an error naming the JSON field and the file. */
int cgroup_apply_resources(const char *path, const struct oci_resources *res,
			   struct husk_error *err);

/* linux.resources.devices (plus the devices every container gets and
 * linux.devices) as the cgroup's device rules: v1 devices.deny/allow, v2 a
 * BPF_PROG_TYPE_CGROUP_DEVICE program that replaces the ones attached
 * before. Default deny; later rules override earlier ones. A config without
 * device rules leaves the cgroup as it is. */
int cgroup_apply_devices(const char *path, const struct oci_config *cfg, struct husk_error *err);
/* Check the device rules without touching the host. */
int cgroup_check_devices(const struct oci_config *cfg, struct husk_error *err);

/* The device rules as a list of allowed devices only, for an allow list
 * such as systemd's DeviceAllow= (which has no deny). Where the ordered
 * rules cannot be said that way (a deny inside an allowed wildcard, an
 * allow-all with exceptions, a rule for one minor of every major) the list
 * is wider than the rules, never narrower: husk's own device filter
 * enforces the rules exactly, and a second filter made from this list must
 * not take away a device they allow. Each item's access holds the access
 * of every item that covers it (an allow list checks each item alone). */
struct dev_allow {
	char type; /* 'b' or 'c' */
	int64_t major, minor; /* -1: any */
	unsigned access; /* 1 mknod, 2 read, 4 write */
};
struct dev_allow_list {
	bool configured; /* the config has device rules (else: no list at all) */
	bool all; /* every device is allowed: items is empty */
	bool too_long; /* more than the caller's max items: items is empty */
	struct dev_allow *items;
	size_t len;
};
/* A list that would hold more than max items is not made: too_long. */
int cgroup_devices_allow_list(const struct oci_config *cfg, size_t max, struct dev_allow_list *out,
			      struct husk_error *err);

#endif
