/* LSM labels: process.selinuxLabel, linux.mountLabel and
 * process.apparmorProfile.
 *
 * On a host that runs the LSM, the process label is written to the
 * thread's attr/exec (SELinux) or attr/apparmor/exec (AppArmor) right
 * before the container's program is executed, through a procfs the runtime
 * opened itself and checked with fstatfs; the mount label becomes the
 * context= of the tmpfs and devpts mounts. libselinux is used for queries
 * only (is it enabled, is the label valid).
 *
 * On a host without the LSM, a config or an exec process that asks for a
 * label is refused before anything is created, naming the field: running
 * the container unconfined instead would be a silent security downgrade.
 * husk features reports each LSM as enabled only where it can apply it. */
#ifndef HUSK_LINUX_LSM_H
#define HUSK_LINUX_LSM_H

#include <stdbool.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* The host runs SELinux / AppArmor. */
bool lsm_selinux_enabled(void);
bool lsm_apparmor_enabled(void);

/* Refuse the labels of a process (exec --process FILE, or the config's). */
int lsm_check_process(const struct oci_process *p, struct husk_error *err);
/* Refuse the labels of a config: its process's and linux.mountLabel. */
int lsm_check_config(const struct oci_config *cfg, struct husk_error *err);
/* In the process about to execute the container's program: its labels,
 * through procfd (a verified procfs of the process's pid namespace). */
int lsm_set_exec_labels(int procfd, const struct oci_process *p, struct husk_error *err);

#endif
