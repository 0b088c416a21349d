/* Driving CRIU through its RPC: `criu swrk 3` as a child, one criu_req
 * over a SOCK_SEQPACKET socketpair, its notifications acknowledged, the
 * final criu_resp read (common/criu-rpc.h). No text output of CRIU's is
 * parsed: failures are reported from the answer, with the path of CRIU's
 * log and its last lines for the person reading the error. */
#ifndef HUSK_LINUX_CRIU_H
#define HUSK_LINUX_CRIU_H

#include <sys/types.h>

#include "common/criu-rpc.h"
#include "runtime/linux/cgroup.h"

struct criu_call {
	const char *criu;       /* the criu binary (--criu), looked up in PATH */
	enum criu_req_type type;
	const struct criu_opts *opts;
	const char *work_dir;   /* path of opts->work_dir_fd, for messages */
	/* restore: criu joins the container's cgroup before it runs, so what
	 * it restores starts there (NULL: stays in husk's) */
	struct cgroup_join *cgroup;
	/* fds handed to criu as its fds 4, 5, ... (inherit_fd) */
	const int *pass_fds;
	size_t n_pass_fds;
	/* called for each notification CRIU sends (notify_scripts), with the
	 * fd it passed along (orphan-pts-master) or -1; the callee owns the
	 * fd. A failure is answered to CRIU as one (it aborts) and is the
	 * call's error. NULL: every notification is acknowledged. */
	int (*notify)(void *arg, const struct criu_resp *note, int fd, struct husk_error *err);
	void *notify_arg;
};

/* Run one request to its final answer. Succeeds only when CRIU says it
 * did; otherwise the error names the request, CRIU's errno and message,
 * its log file and the log's last lines. resp holds the final answer. */
int criu_call(const struct criu_call *call, struct criu_resp *resp, struct husk_error *err);

/* The version of the criu binary (major*10000 + minor*100 + sublevel). */
int criu_version(const char *criu, int *version, struct husk_error *err);

#endif

/* What CRIU must be told of a container's mounts that come from outside
 * it (as runc does): each bind mount is an external mount keyed by its
 * destination, masked files (binds of /dev/null) by "/dev/null", device
 * nodes by their path. For a dump the value is the key (the name kept in
 * the image); for a restore, the host path to bind there. */
struct criu_mounts {
	struct criu_kv *kv;
	size_t n;
	char **owned; /* strings kv points into that are ours */
	size_t n_owned;
};
/* pid: the running init (dump: masked paths that are files there), 0 for
 * a restore; bundle: for relative bind sources. */
int criu_mounts_for(const struct oci_config *cfg, const char *bundle, pid_t pid, bool restore,
		    struct criu_mounts *out, struct husk_error *err);
void criu_mounts_free(struct criu_mounts *m);
/* CRIU's --manage-cgroups-mode names; -EINVAL for another. */
int criu_cg_mode_parse(const char *s, enum criu_cg_mode *out);
