#include "common/criu-rpc.h"

#include <errno.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

/* Field numbers of rpc.proto */
enum {
	OPT_IMAGES_DIR_FD = 1,
	OPT_PID = 2,
	OPT_LEAVE_RUNNING = 3,
	OPT_EXT_UNIX_SK = 4,
	OPT_TCP_ESTABLISHED = 5,
	OPT_EVASIVE_DEVICES = 6,
	OPT_SHELL_JOB = 7,
	OPT_FILE_LOCKS = 8,
	OPT_LOG_LEVEL = 9,
	OPT_LOG_FILE = 10,
	OPT_NOTIFY_SCRIPTS = 12,
	OPT_ROOT = 13,
	OPT_PARENT_IMG = 14,
	OPT_TRACK_MEM = 15,
	OPT_AUTO_DEDUP = 16,
	OPT_WORK_DIR_FD = 17,
	OPT_EXT_MNT = 23,
	OPT_MANAGE_CGROUPS = 24,
	OPT_CG_ROOT = 25,
	OPT_RST_SIBLING = 26,
	OPT_INHERIT_FD = 27,
	OPT_MANAGE_CGROUPS_MODE = 34,
	OPT_EXTERNAL = 37,
	OPT_EMPTY_NS = 38,
	OPT_FREEZE_CGROUP = 44,
	OPT_LAZY_PAGES = 48,
	OPT_ORPHAN_PTS_MASTER = 50,
	OPT_CONFIG_FILE = 51,
};

static void put_varint(struct strbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	sb_addn(b, tmp, n);
}

static void put_key(struct strbuf *b, uint32_t field, int wire)
{
	put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

/* int32 is sign-extended to 64 bits on the wire (10 bytes when negative) */
static void put_int32(struct strbuf *b, uint32_t field, int32_t v)
{
	put_key(b, field, WIRE_VARINT);
	put_varint(b, (uint64_t)(int64_t)v);
}

static void put_uint(struct strbuf *b, uint32_t field, uint64_t v)
{
	put_key(b, field, WIRE_VARINT);
	put_varint(b, v);
}

static void put_bool(struct strbuf *b, uint32_t field, bool set)
{
	if (set)
		put_uint(b, field, 1);
}

static void put_bytes(struct strbuf *b, uint32_t field, const void *data, size_t n)
{
	put_key(b, field, WIRE_LEN);
	put_varint(b, n);
	sb_addn(b, data, n);
}

static void put_string(struct strbuf *b, uint32_t field, const char *s)
{
	if (s)
		put_bytes(b, field, s, strlen(s));
}

/* a submessage built in sub, appended as a length-delimited field */
static void put_sub(struct strbuf *b, uint32_t field, struct strbuf *sub)
{
	if (sub->error) {
		if (!b->error)
			b->error = sub->error;
		return;
	}
	put_bytes(b, field, sub->buf, sub->len);
}

static void encode_opts(const struct criu_opts *o, struct strbuf *b)
{
	struct strbuf sub = STRBUF_INIT;

	put_int32(b, OPT_IMAGES_DIR_FD, o->images_dir_fd);
	if (o->pid > 0)
		put_int32(b, OPT_PID, o->pid);
	put_bool(b, OPT_LEAVE_RUNNING, o->leave_running);
	put_bool(b, OPT_EXT_UNIX_SK, o->ext_unix_sk);
	put_bool(b, OPT_TCP_ESTABLISHED, o->tcp_established);
	put_bool(b, OPT_EVASIVE_DEVICES, o->evasive_devices);
	put_bool(b, OPT_SHELL_JOB, o->shell_job);
	put_bool(b, OPT_FILE_LOCKS, o->file_locks);
	if (o->log_level)
		put_int32(b, OPT_LOG_LEVEL, o->log_level);
	put_string(b, OPT_LOG_FILE, o->log_file);
	put_bool(b, OPT_NOTIFY_SCRIPTS, o->notify_scripts);
	put_string(b, OPT_ROOT, o->root);
	put_string(b, OPT_PARENT_IMG, o->parent_img);
	put_bool(b, OPT_TRACK_MEM, o->track_mem);
	put_bool(b, OPT_AUTO_DEDUP, o->auto_dedup);
	if (o->work_dir_fd >= 0)
		put_int32(b, OPT_WORK_DIR_FD, o->work_dir_fd);
	for (size_t i = 0; i < o->n_ext_mnt; i++) {
		sb_reset(&sub);
		put_string(&sub, 1, o->ext_mnt[i].key);
		put_string(&sub, 2, o->ext_mnt[i].val);
		put_sub(b, OPT_EXT_MNT, &sub);
	}
	put_bool(b, OPT_MANAGE_CGROUPS, o->manage_cgroups);
	if (o->cg_root) {
		sb_reset(&sub);
		put_string(&sub, 2, o->cg_root); /* no ctrl: every controller */
		put_sub(b, OPT_CG_ROOT, &sub);
	}
	put_bool(b, OPT_RST_SIBLING, o->rst_sibling);
	for (size_t i = 0; i < o->n_inherit_fd; i++) {
		sb_reset(&sub);
		put_string(&sub, 1, o->inherit_fd[i].key);
		put_int32(&sub, 2, o->inherit_fd[i].fd);
		put_sub(b, OPT_INHERIT_FD, &sub);
	}
	if (o->manage_cgroups_mode != CRIU_CG_UNSET)
		put_uint(b, OPT_MANAGE_CGROUPS_MODE, (uint64_t)o->manage_cgroups_mode - 1);
	for (size_t i = 0; i < o->n_external; i++)
		put_string(b, OPT_EXTERNAL, o->external[i]);
	if (o->empty_ns)
		put_uint(b, OPT_EMPTY_NS, o->empty_ns);
	put_string(b, OPT_FREEZE_CGROUP, o->freeze_cgroup);
	put_bool(b, OPT_LAZY_PAGES, o->lazy_pages);
	put_bool(b, OPT_ORPHAN_PTS_MASTER, o->orphan_pts_master);
	put_string(b, OPT_CONFIG_FILE, o->config_file);
	sb_release(&sub);
}

int criu_req_encode(enum criu_req_type type, const struct criu_opts *opts, bool notify,
		    struct strbuf *out, struct husk_error *err)
{
	put_uint(out, 1, (uint64_t)type);
	if (opts) {
		struct strbuf sub = STRBUF_INIT;
		encode_opts(opts, &sub);
		put_sub(out, 2, &sub);
		sb_release(&sub);
	}
	if (notify)
		put_uint(out, 3, 1);
	return sb_check(out, err, "the CRIU request");
}

/* Decoding: a cursor over [p, end). */
struct cursor {
	const uint8_t *p, *end;
};

static int get_varint(struct cursor *c, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end)
			return -1;
		uint8_t byte = *c->p++;
		r |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1; /* more than 10 bytes */
}

/* One field: its number and wire type; a varint's value in *v, a
 * length-delimited field's bytes in *sub. Others are skipped. */
static int get_field(struct cursor *c, uint32_t *field, int *wire, uint64_t *v, struct cursor *sub)
{
	uint64_t key, n;
	if (get_varint(c, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return -1;
	*field = (uint32_t)(key >> 3);
	*wire = (int)(key & 7);
	switch (*wire) {
	case WIRE_VARINT:
		return get_varint(c, v);
	case WIRE_FIXED64:
		n = 8;
		break;
	case WIRE_FIXED32:
		n = 4;
		break;
	case WIRE_LEN:
		if (get_varint(c, &n) < 0)
			return -1;
		break;
	default: /* groups (3, 4) are not in rpc.proto; 6 and 7 do not exist */
		return -1;
	}
	if (n > (uint64_t)(c->end - c->p))
		return -1;
	sub->p = c->p;
	sub->end = c->p + n;
	c->p += n;
	return 0;
}

static void copy_string(char *dst, size_t size, const struct cursor *s)
{
	size_t n = (size_t)(s->end - s->p);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s->p, n);
	dst[n] = '\0';
	/* a NUL inside would hide the rest: make it visible */
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0')
			dst[i] = '?';
}

/* A submessage whose varint fields (numbers 1..nmax) are read into vals;
 * with str_field, that length-delimited field into str. */
static int decode_sub(struct cursor c, uint64_t *vals, bool *seen, uint32_t nmax, uint32_t str_field,
		      char *str, size_t str_size)
{
	while (c.p < c.end) {
		uint32_t field;
		int wire;
		uint64_t v = 0;
		struct cursor sub = { c.p, c.p };
		if (get_field(&c, &field, &wire, &v, &sub) < 0)
			return -1;
		if (wire == WIRE_VARINT && field <= nmax) {
			vals[field - 1] = v;
			seen[field - 1] = true;
		} else if (wire == WIRE_LEN && str_field && field == str_field) {
			copy_string(str, str_size, &sub);
		}
	}
	return 0;
}

int criu_resp_decode(const uint8_t *data, size_t len, struct criu_resp *out, struct husk_error *err)
{
	struct cursor c = { data, data + len };
	bool has_type = false, has_success = false;

	memset(out, 0, sizeof(*out));
	while (c.p < c.end) {
		uint32_t field;
		int wire;
		uint64_t v = 0;
		struct cursor sub = { data, data };
		size_t at = (size_t)(c.p - data);
		if (get_field(&c, &field, &wire, &v, &sub) < 0)
			return err_set(err, EPROTO, "CRIU's answer: malformed field at byte %zu of %zu",
				       at, len);
		uint64_t vals[5] = { 0 };
		bool seen[5] = { false };
		int r = 0;
		/* a field with another wire type than rpc.proto's is skipped */
		bool varint = wire == WIRE_VARINT, bytes = wire == WIRE_LEN;
		if (field == 1 && varint) {
			out->type = (int32_t)v;
			has_type = true;
		} else if (field == 2 && varint) {
			out->success = v != 0;
			has_success = true;
		} else if (field == 7 && varint) {
			out->cr_errno = (int32_t)v;
			out->has_cr_errno = true;
		} else if (field == 3 && bytes) { /* criu_dump_resp */
			r = decode_sub(sub, vals, seen, 1, 0, NULL, 0);
			out->dump_restored = vals[0] != 0;
		} else if (field == 4 && bytes) { /* criu_restore_resp */
			r = decode_sub(sub, vals, seen, 1, 0, NULL, 0);
			out->restore_pid = (int32_t)vals[0];
			out->has_restore_pid = seen[0];
		} else if (field == 5 && bytes) { /* criu_notify */
			r = decode_sub(sub, vals, seen, 2, 1, out->notify_script,
				       sizeof(out->notify_script));
			out->notify_pid = (int32_t)vals[1];
			out->has_notify = true;
		} else if (field == 9 && bytes) {
			copy_string(out->cr_errmsg, sizeof(out->cr_errmsg), &sub);
			out->has_cr_errmsg = true;
		} else if (field == 10 && bytes) { /* criu_version: major 1, minor 2, sublevel 4 */
			r = decode_sub(sub, vals, seen, 4, 0, NULL, 0);
			out->version_major = (int32_t)vals[0];
			out->version_minor = (int32_t)vals[1];
			out->version_sublevel = (int32_t)vals[3];
			out->has_version = seen[0] && seen[1];
		}
		if (r < 0)
			return err_set(err, EPROTO, "CRIU's answer: malformed field %u at byte %zu of %zu",
				       field, at, len);
	}
	if (!has_type || !has_success)
		return err_set(err, EPROTO, "CRIU's answer: no %s field (%zu bytes)",
			       has_type ? "success" : "type", len);
	return 0;
}
