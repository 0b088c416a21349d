/* exec: a new process inside a running container. It joins the init's
 * namespaces through its pidfd (one setns call), its cgroup, and gets the
 * process settings (user, capabilities, rlimits, no_new_privs, seccomp). */
#ifndef HUSK_LINUX_ENTER_H
#define HUSK_LINUX_ENTER_H

#include "common/error.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/container.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/seccomp.h"

struct enter_opts {
	const struct container *c;
	const struct oci_config *cfg; /* the config the container was created with */
	const struct oci_process *proc;
	/* with a terminal: the console socket's connection, to which husk
	 * sends the pty master the process hands it; -1: the master is the
	 * caller's (*pty_master). The process itself never holds it. */
	int console_fd;
	int preserve_fds;
	const struct husk_seccomp *seccomp;
	/* SCMP_ACT_NOTIFY: connected to linux.seccomp.listenerPath (else -1),
	 * the container's state (JSON) and listenerMetadata for the agent;
	 * husk sends the notify fd the process hands it */
	int listener_fd;
	const char *state_json;
	const char *listener_metadata;
	/* exec --cgroup: sub-cgroups to join instead of the container's */
	const struct cgroup_sub *cgroup_subs;
	size_t n_cgroup_subs;
};

/* Start the process; returns once it has exec'd (or failed to: the error
 * then says why). *pid is its pid, a child of the caller; *pty_master the
 * pty master of its terminal when console_fd is -1, else -1. */
int container_enter(const struct enter_opts *eo, pid_t *pid, int *pty_master,
		    struct husk_error *err);

/* Signal mask and dispositions as a fresh program expects them. */
void reset_signals(void);

#endif
