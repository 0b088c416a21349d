/* LSM labels: process.selinuxLabel, linux.mountLabel and
 * process.apparmorProfile.
 *
 * husk does not apply labels yet (features reports selinux and apparmor as
 * disabled, which per features-linux.md is the runtime's implementation
 * status, not the host's). A config or an exec process that asks for one is
 * refused before anything is created, with the field named and why: the
 * host has no such LSM, or husk cannot apply it. Running the container
 * unconfined instead would be a silent security downgrade. */
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

#endif
