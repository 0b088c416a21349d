/* The /proc of a pid namespace the container joins, made while the init
 * is still outside it (issue 11: the init joins a shared pid namespace
 * only once rooted in the container and holding nothing of the host).
 * Linux 6.15 mounts procfs for any pid namespace from outside it (its
 * "pidns" option); before that, procfs takes the pid namespace of the
 * process that opens the fs context (fsopen), so a process born in the
 * namespace must open it. That process can be seen by every container of
 * the namespace, and one holding CAP_SYS_PTRACE in husk's user namespace
 * reaches its /proc/PID/root, cwd and fds (PR_SET_DUMPABLE stops only the
 * others): it is rooted in an empty tmpfs that is the only mount of its
 * mount namespace, holds no fd but the contexts it opens, and lives for
 * those fsopen calls. What such an attacker can do is copy a context
 * while it lives and set procfs options on it (hidepid, subset, gid) or
 * create it first (create then fails): nothing of the host is in it (its
 * pid namespace is the joined one, its credentials the set-up's), and
 * that attacker can do as much to the container's processes once they
 * run. It could also ptrace the child, which holds the set-up's
 * capabilities (as it can the container's init until it drops them): the
 * child is born under a seccomp filter that lets it, or code a tracer
 * makes it run, do nothing but what it does (see confine_to_the_rest). */
#ifndef HUSK_LINUX_PIDNS_PROC_H
#define HUSK_LINUX_PIDNS_PROC_H

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* For each mount of type "proc" in cfg, an fs context (fsopen) of procfs
 * for the pid namespace pidns_fd, opened by a short-lived helper born in
 * it: *out gets one entry per config mount (-1 where none), or NULL when
 * cfg mounts no procfs. Called by the set-up process, in the container's
 * namespaces but that one. */
int pidns_proc_contexts(const struct oci_config *cfg, int pidns_fd, int **out,
			struct husk_error *err);

#endif
