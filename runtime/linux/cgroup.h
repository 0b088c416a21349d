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

/* The cgroup path of a container: linux.cgroupsPath when absolute, relative
 * to husk's own cgroup when relative, "/<id>" when absent. */
int cgroup_path_for(const struct oci_config *cfg, const char *id, char *out, size_t size,
		    struct husk_error *err);
/* Create the cgroup, apply linux.resources and move pid into it. On
 * failure nothing is left behind. */
int cgroup_create(const char *path, const struct oci_config *cfg, pid_t pid, struct husk_error *err);
/* v2: create the cgroup and apply linux.resources before any process of
 * the container exists; *dirfd is the cgroup's directory, for clone3's
 * CLONE_INTO_CGROUP. On failure nothing is left behind. */
int cgroup_prepare(const char *path, const struct oci_config *cfg, int *dirfd,
		   struct husk_error *err);
/* Move pid into an existing container cgroup (exec). */
int cgroup_enter(const char *path, pid_t pid, struct husk_error *err);
/* Kill what is left and remove the cgroup (bounded retries on EBUSY). */
int cgroup_destroy(const char *path, struct husk_error *err);
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

#endif
