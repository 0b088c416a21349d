/* LSM labels: process.selinuxLabel, linux.mountLabel and
 * process.apparmorProfile.
 *
 * On a host that runs the LSM, the process label is written to the
 * thread's attr/exec (SELinux) or attr/apparmor/exec (AppArmor) right
 * before the container's program is executed, through a procfs the runtime
 * opened itself and checked with fstatfs; the mount label becomes the
 * context= of the tmpfs and devpts mounts. Whether SELinux runs and
 * whether a label is valid is asked of selinuxfs directly.
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

#define SELINUXFS_MOUNT "/sys/fs/selinux"

/* SELinux through selinuxfs mounted at mnt (SELINUXFS_MOUNT; the unit
 * tests pass a directory of their own). selinuxfs_enabled: 1 when SELinux
 * runs (mnt holds its enforce file), 0 when it does not (no mnt, or an
 * empty one: SELinux built in but disabled), a negative errno with err set
 * when that cannot be told (mnt or enforce unreadable, not selinuxfs):
 * never reported as "not running". selinuxfs_check_context: 0 when the
 * kernel takes context, -EINVAL when it refuses it, another negative errno
 * when it cannot be asked. */
int selinuxfs_enabled(const char *mnt, struct husk_error *err);
int selinuxfs_check_context(const char *mnt, const char *context, struct husk_error *err);

/* The host runs SELinux / AppArmor (for husk features: a failure to tell
 * is logged as a warning and counts as no). */
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
