/* linux.intelRdt: the container in a resctrl group (Intel RDT / AMD QoS).
 *
 * The group is <resctrl>/<closID>, or <resctrl>/<container id> without a
 * closID. With a schema (l3CacheSchema, memBwSchema, schemata) a missing
 * group is made and the schema written to its schemata file (l3 lines, less
 * its MB: lines when memBwSchema is set, then memBwSchema, then the schemata
 * lines: later lines win); an existing group must already hold the schema
 * asked for. Without one, the group must exist. enableMonitoring (or the
 * 1.2 enableCMT/enableMBM) adds a monitoring group mon_groups/<id> in it.
 * The group named after the container and the monitoring group are made,
 * never taken over: one already there is someone else's, an error.
 * The init's pid goes in the tasks file of each.
 *
 * Every function takes the resctrl mount point as a parameter, so the unit
 * test runs them against a directory tree of its own. */
#ifndef HUSK_LINUX_INTELRDT_H
#define HUSK_LINUX_INTELRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* The most a schemata write may hold: the kernel reads one page of it. */
#define INTELRDT_SCHEMATA_MAX 4095

/* The resctrl mount point from /proc/self/mountinfo: 0, -ENOENT when
 * resctrl is not mounted. */
int intelrdt_find_root(char *root, size_t size);

/* Check the fields (group name, schema lines, sizes); root (NULL: this
 * host's mount) must be a resctrl with what they need. Errors name the
 * field; without resctrl: linux.intelRdt and the reason. */
int intelrdt_validate(const char *root, const struct oci_intel_rdt *rdt, const char *id,
		      struct husk_error *err);

/* The text written to schemata; "" when the config asks for no schema. */
int intelrdt_schemata(const struct oci_intel_rdt *rdt, char *out, size_t size,
		      struct husk_error *err);

/* Put pid in the container's groups, making them as described above.
 * On an error what it made is removed. */
int intelrdt_apply(const char *root, const struct oci_intel_rdt *rdt, const char *id, pid_t pid,
		   struct husk_error *err);

/* exec: put pid in the groups apply put the init in (the container's, and
 * its monitoring group), as runc does, making nothing. */
int intelrdt_join(const char *root, const struct oci_intel_rdt *rdt, const char *id, pid_t pid,
		  struct husk_error *err);

/* Remove what apply makes for the container: its monitoring group, and the
 * group named after it (never a closID group, which others may share). */
void intelrdt_remove(const char *root, const struct oci_intel_rdt *rdt, const char *id);

#endif
