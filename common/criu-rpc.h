/* The few messages of CRIU's RPC protocol (criu/rpc.proto, protobuf 2)
 * that husk exchanges with `criu swrk`: a criu_req written, a criu_resp
 * read. Written here rather than generated, so husk links no protobuf
 * library: the encoder writes exactly the fields below; the decoder reads
 * what CRIU answers as untrusted input, bounded by the message length,
 * skipping fields it does not know, allocating nothing. */
#ifndef HUSK_CRIU_RPC_H
#define HUSK_CRIU_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"

/* criu_req_type */
enum criu_req_type {
	CRIU_REQ_EMPTY = 0,
	CRIU_REQ_DUMP = 1,
	CRIU_REQ_RESTORE = 2,
	CRIU_REQ_CHECK = 3,
	CRIU_REQ_PRE_DUMP = 4,
	CRIU_REQ_NOTIFY = 6,
	CRIU_REQ_FEATURE_CHECK = 9,
	CRIU_REQ_VERSION = 10,
};

/* criu_cg_mode; 0 here means "not set" (CRIU's own default) */
enum criu_cg_mode {
	CRIU_CG_UNSET = 0,
	CRIU_CG_IGNORE = 1, /* rpc.proto: IGNORE = 0, offset by one here */
	CRIU_CG_NONE,
	CRIU_CG_PROPS,
	CRIU_CG_SOFT,
	CRIU_CG_FULL,
	CRIU_CG_STRICT,
	CRIU_CG_DEFAULT,
};

struct criu_kv {
	const char *key;
	const char *val;
};

struct criu_inherit {
	const char *key;
	int fd; /* in the criu process */
};

/* criu_opts: what husk sets. -1 fds and NULL strings are left out. */
struct criu_opts {
	int images_dir_fd; /* required: in the requesting process */
	int work_dir_fd;
	int32_t pid; /* 0: not set */
	bool leave_running, ext_unix_sk, tcp_established, evasive_devices, shell_job, file_locks;
	bool notify_scripts, track_mem, auto_dedup, manage_cgroups, rst_sibling, orphan_pts_master;
	bool lazy_pages;
	int32_t log_level; /* 0: not set */
	const char *log_file;
	const char *root;
	const char *parent_img;
	const char *freeze_cgroup;
	const char *config_file;
	const char *cg_root; /* cg_root for every controller: restore below this cgroup */
	uint32_t empty_ns;
	enum criu_cg_mode manage_cgroups_mode;
	const struct criu_kv *ext_mnt;
	size_t n_ext_mnt;
	const char *const *external;
	size_t n_external;
	const struct criu_inherit *inherit_fd;
	size_t n_inherit_fd;
};

/* Encode a criu_req: type, opts when not NULL, notify_success when
 * notify (the answer to a NOTIFY). Fails only when out runs out. */
int criu_req_encode(enum criu_req_type type, const struct criu_opts *opts, bool notify,
		    struct strbuf *out, struct husk_error *err);

/* criu_resp, as far as husk reads it. Strings are copied, NUL-terminated
 * and cut at their buffer's size; the has_ flags say what was present. */
struct criu_resp {
	int32_t type;
	bool success;
	int32_t cr_errno;
	bool has_cr_errno;
	char cr_errmsg[256];
	bool has_cr_errmsg;
	bool dump_restored; /* criu_dump_resp.restored */
	int32_t restore_pid; /* criu_restore_resp.pid */
	bool has_restore_pid;
	char notify_script[64]; /* criu_notify.script */
	int32_t notify_pid;
	bool has_notify;
	int32_t version_major, version_minor, version_sublevel; /* criu_version */
	bool has_version;
};

/* Decode a criu_resp of len bytes. Fails naming what is wrong (truncated
 * field, bad wire type, missing type or success) without reading past
 * data + len. */
int criu_resp_decode(const uint8_t *data, size_t len, struct criu_resp *out,
		     struct husk_error *err);

#endif
