/* The systemd cgroup driver (--systemd-cgroup): a transient scope per
 * container, made by systemd. husk never loads libsystemd itself (it is a
 * static binary, and the common path must not pay for it): it runs the
 * helper program husk-systemd (runtime/systemd/husk-systemd.c), which
 * speaks D-Bus to systemd, only when a container uses this driver. */
#ifndef HUSK_LINUX_SYSTEMD_H
#define HUSK_LINUX_SYSTEMD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* systemd's unit names are at most 255 bytes. */
#define SYSTEMD_UNIT_MAX 256

/* linux.cgroupsPath "slice:prefix:name" (NULL or "" is ":husk:"): the
 * slice ("" is system.slice, "-.slice" the root slice) and the scope's
 * unit name "prefix-name.scope" ("" name: the container id). Each part is
 * checked for systemd's unit name characters and length; an error names
 * linux.cgroupsPath and what is wrong. */
int systemd_unit_names(const char *spec, const char *id, char slice[SYSTEMD_UNIT_MAX],
		       char unit[SYSTEMD_UNIT_MAX], struct husk_error *err);

/* A scope being started for a create: the helper holds it until
 * systemd_scope_finish. */
struct systemd_scope {
	pid_t helper;
	int to_helper; /* its stdin */
};
#define SYSTEMD_SCOPE_NONE { .helper = -1, .to_helper = -1 }

/* StartTransientUnit for the container's scope (Delegate=yes, in its
 * slice, resource and device properties from cfg, then its
 * org.systemd.property.* annotations), waiting for the job. The helper
 * stays in the scope (so systemd keeps it) until finished; *holder is its
 * pid, the one process the scope's cgroup may hold when husk takes it. */
int systemd_scope_start(const struct oci_config *cfg, const char *id, struct systemd_scope *s,
			pid_t *holder, struct husk_error *err);
/* What systemd_scope_start would give systemd (devices, annotations),
 * checked without running anything: the errors it would fail with. */
int systemd_check_properties(const struct oci_config *cfg, struct husk_error *err);
/* keep: the container's init is in the scope, the helper leaves it
 * to it. Otherwise the helper stops the scope (nothing left behind). */
void systemd_scope_finish(struct systemd_scope *s, bool keep);

/* update: SetUnitProperties (runtime) of the unit the cgroup path ends in,
 * from cfg's linux.resources (devices included); not the annotations,
 * which are for the unit's start (as runc). */
int systemd_set_resources(const char *cgroup_path, const struct oci_config *cfg,
			  struct husk_error *err);
/* delete: StopUnit and wait (a unit already gone is fine). */
int systemd_stop(const char *cgroup_path, struct husk_error *err);

#endif
