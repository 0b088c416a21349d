/* linux.resources.devices as the container cgroup's device access rules.
 *
 * One rule list serves both cgroup versions: a deny of everything, then the
 * config's rules in order, with the devices every container gets (and the
 * config's linux.devices) allowed. Later rules override earlier ones. An
 * implicit allow sits just before the first config rule naming that device
 * (exactly or by a major/minor wildcard), so the config can narrow it
 * ("deny c 1:3 w" leaves /dev/null readable, not writable); the other
 * implicit allows come last, so a leading "deny all" (type a) does not take
 * them away.
 *
 * v1 follows the kernel's own model, which differs in one place: with an
 * allow-all in force, an allow only removes a deny written the same way, so
 * "deny c 1:* r" then "allow c 1:5 r" leaves /dev/zero unreadable on v1 and
 * readable on v2.
 *
 * v1 writes the list to devices.deny/devices.allow. v2 has no device files:
 * the list becomes a BPF_PROG_TYPE_CGROUP_DEVICE program, attached with
 * BPF_F_ALLOW_MULTI to the cgroup; on update the new program is attached
 * before the old ones are detached, so no moment is unguarded. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileutil.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* Rules from numbers and the cgroup dir (bounded by CGROUP_PATH_MAX): a
 * checked format that never truncates. */
#define CHECKED_FMT(buf, size, ...) \
	fmt_into(buf, size, &(struct husk_error){ 0 }, "device rule", __VA_ARGS__)
#define ANY (-1)

/* access bits are BPF_DEVCG_ACC_* (mknod 1, read 2, write 4) on both versions */
struct dev_rule {
	bool allow;
	char type; /* 'a', 'b' or 'c' */
	int64_t major, minor; /* ANY for a wildcard */
	unsigned access;
};

struct rule_list {
	struct dev_rule *items;
	size_t len, cap;
};

/* The devices every container gets (husk creates the first six in /dev). */
static const struct dev_rule implicit_allows[] = {
	{ true, 'c', 1, 3, 7 },   { true, 'c', 1, 5, 7 }, { true, 'c', 1, 7, 7 },
	{ true, 'c', 1, 8, 7 },   { true, 'c', 1, 9, 7 }, { true, 'c', 5, 0, 7 },
	{ true, 'c', 5, 1, 7 },   { true, 'c', 5, 2, 7 }, { true, 'c', 136, ANY, 7 },
};
#define N_IMPLICIT (sizeof(implicit_allows) / sizeof(implicit_allows[0]))

static int push(struct rule_list *l, const struct dev_rule *r)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct dev_rule *grown = realloc(l->items, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->len++] = *r;
	return 0;
}

static unsigned access_bits(const char *s)
{
	unsigned bits = 0;
	for (; *s; s++)
		bits |= *s == 'm' ? BPF_DEVCG_ACC_MKNOD : *s == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
	return bits;
}

static int parse_rule(const struct oci_device_cgroup *d, size_t i, struct dev_rule *out,
		      struct husk_error *err)
{
	const char *type = d->type && *d->type ? d->type : "a";
	const char *access = d->access && *d->access ? d->access : "rwm";
	/* the config's text is quoted escaped: it may hold control characters */
	if (strcmp(type, "a") != 0 && strcmp(type, "c") != 0 && strcmp(type, "b") != 0) {
		_cleanup_free_ char *shown = str_escape(type);
		return err_set(err, EINVAL, "linux.resources.devices[%zu].type: \"%s\" is not a, c or b",
			       i, shown ? shown : "?");
	}
	if (strspn(access, "rwm") != strlen(access)) {
		_cleanup_free_ char *shown = str_escape(access);
		return err_set(err, EINVAL,
			       "linux.resources.devices[%zu].access: \"%s\" is not made of r, w, m", i,
			       shown ? shown : "?");
	}
	*out = (struct dev_rule){
		.allow = d->allow,
		.type = type[0],
		.major = d->has_major && d->major >= 0 ? d->major : ANY,
		.minor = d->has_minor && d->minor >= 0 ? d->minor : ANY,
		.access = access_bits(access),
	};
	/* type "a" is every device with every access: v1 cannot say less */
	if (out->type == 'a')
		out->major = out->minor = ANY, out->access = 7;
	return 0;
}

static bool overlap(int64_t a, int64_t b)
{
	return a == ANY || b == ANY || a == b;
}

/* Whether a config rule names (some of) the devices of an implicit allow,
 * exactly or through a major/minor wildcard; type "a" names no device. */
static bool names_device(const struct dev_rule *rule, const struct dev_rule *implicit)
{
	return rule->type == implicit->type && overlap(rule->major, implicit->major) &&
	       overlap(rule->minor, implicit->minor);
}

/* The implicit allows: the table, then linux.devices (pipes have no rule)
 * for mknod only, so that the init can make the node: whether the
 * container may read or write it is for linux.resources.devices alone (as
 * runc and crun, whose defaults allow mknod of every device). */
static int implicit_list(const struct oci_config *cfg, struct rule_list *out)
{
	for (size_t i = 0; i < N_IMPLICIT; i++)
		if (push(out, &implicit_allows[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; cfg->linux && i < cfg->linux->devices.len; i++) {
		const struct oci_device *d = &cfg->linux->devices.items[i];
		if (d->type == NULL || strcmp(d->type, "p") == 0)
			continue;
		struct dev_rule r = { true, d->type[0] == 'u' ? 'c' : d->type[0], d->major, d->minor,
				      BPF_DEVCG_ACC_MKNOD };
		if (push(out, &r) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The ordered rule list after the leading deny-all; items NULL when the
 * config has no device rules (the cgroup is then left as created). */
static int build_rules(const struct oci_config *cfg, struct rule_list *out, struct husk_error *err)
{
	const struct oci_resources *res = cfg->linux ? cfg->linux->resources : NULL;
	struct rule_list implicit = { 0 };
	_cleanup_free_ bool *placed = NULL;
	int r = 0;

	*out = (struct rule_list){ 0 };
	if (res == NULL || res->devices.items == NULL)
		return 0;
	if (implicit_list(cfg, &implicit) < 0 ||
	    (placed = calloc(implicit.len ? implicit.len : 1, sizeof(bool))) == NULL) {
		r = err_sys(err, ENOMEM, "linux.resources.devices");
		goto out;
	}
	for (size_t i = 0; i < res->devices.len; i++) {
		struct dev_rule rule;
		if ((r = parse_rule(&res->devices.items[i], i, &rule, err)) < 0)
			goto out;
		for (size_t k = 0; k < implicit.len; k++) {
			if (placed[k] || !names_device(&rule, &implicit.items[k]))
				continue;
			placed[k] = true;
			if (push(out, &implicit.items[k]) < 0)
				goto oom;
		}
		if (push(out, &rule) < 0)
			goto oom;
	}
	for (size_t k = 0; k < implicit.len; k++)
		if (!placed[k] && push(out, &implicit.items[k]) < 0)
			goto oom;
	goto out;
oom:
	r = err_sys(err, ENOMEM, "linux.resources.devices");
out:
	free(implicit.items);
	if (r < 0) {
		free(out->items);
		*out = (struct rule_list){ 0 };
	}
	return r;
}

/* ---- v1: devices.deny / devices.allow ---- */

static int v1_open(const char *dir, const char *file, struct husk_error *err)
{
	char path[4200];
	CHECKED_FMT(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "linux.resources.devices: open %s", path);
	return fd;
}

static void v1_number(int64_t v, char *out, size_t size)
{
	if (v == ANY)
		CHECKED_FMT(out, size, "*");
	else
		CHECKED_FMT(out, size, "%" PRId64, v);
}

/* Each write to devices.allow or devices.deny is one rule, so one open of
 * each takes the whole list. */
static int v1_apply(const char *path, const struct rule_list *rules, struct husk_error *err)
{
	char dir[4200], rule[128], major[24], minor[24], access[4];
	const char *mount = cgroup_mount("devices");
	if (fmt_into(dir, sizeof(dir), err, "cgroupPath", "%s%s", mount ? mount : CGROUP_ROOT "/devices",
		     path) < 0)
		return -err->code;
	_cleanup_close_ int deny = v1_open(dir, "devices.deny", err);
	if (deny < 0)
		return deny;
	_cleanup_close_ int allow = -1;
	int r = write_all(deny, "a", 1);
	if (r < 0)
		return err_sys(err, -r, "linux.resources.devices: write \"a\" to %s/devices.deny", dir);
	for (size_t i = 0; i < rules->len; i++) {
		const struct dev_rule *d = &rules->items[i];
		if (d->type == 'a') {
			CHECKED_FMT(rule, sizeof(rule), "a");
		} else {
			size_t n = 0;
			if (d->access & BPF_DEVCG_ACC_READ)
				access[n++] = 'r';
			if (d->access & BPF_DEVCG_ACC_WRITE)
				access[n++] = 'w';
			if (d->access & BPF_DEVCG_ACC_MKNOD)
				access[n++] = 'm';
			access[n] = '\0';
			v1_number(d->major, major, sizeof(major));
			v1_number(d->minor, minor, sizeof(minor));
			CHECKED_FMT(rule, sizeof(rule), "%c %s:%s %s", d->type, major, minor, access);
		}
		/* the leading deny-all is written already */
		if (i == 0 && !d->allow && d->type == 'a')
			continue;
		if (d->allow && allow < 0 && (allow = v1_open(dir, "devices.allow", err)) < 0)
			return allow;
		r = write_all(d->allow ? allow : deny, rule, strlen(rule));
		if (r < 0)
			return err_sys(err, -r, "linux.resources.devices: write \"%s\" to %s/%s", rule, dir,
				       d->allow ? "devices.allow" : "devices.deny");
	}
	return 0;
}

/* ---- v2: a BPF_PROG_TYPE_CGROUP_DEVICE program ---- */

struct prog {
	struct bpf_insn *insns;
	size_t len, cap;
	bool oom;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->len == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 128;
		struct bpf_insn *grown = realloc(p->insns, cap * sizeof(*grown));
		if (grown == NULL) {
			p->oom = true;
			return p->len;
		}
		p->insns = grown;
		p->cap = cap;
	}
	p->insns[p->len] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
					      .off = off, .imm = imm };
	return p->len++;
}

/* Point the jump at index `at` to the next instruction to be emitted. */
static void land_here(struct prog *p, size_t at)
{
	if (!p->oom)
		p->insns[at].off = (int16_t)(p->len - at - 1);
}

enum { R_ACCESS = 2, R_TYPE = 3, R_MAJOR = 4, R_MINOR = 5, R_TMP = 6 };

static void emit_return(struct prog *p, int verdict)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* Each requested access bit is decided on its own by the last rule that
 * covers it (type, major, minor and that bit), so later rules override
 * earlier ones bit by bit; a bit no rule covers is denied. The request
 * passes when every bit it asks for is allowed. */
static int build_prog(const struct rule_list *rules, struct prog *p)
{
	static const unsigned bits[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };
	/* ctx: access_type = access << 16 | type, then major, minor (all u32) */
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R_ACCESS, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_TYPE, R_ACCESS, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R_MINOR, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, minor), 0);

	size_t *to_done = calloc(rules->len + 2, sizeof(size_t));
	if (to_done == NULL)
		return -ENOMEM;
	for (size_t b = 0; b < 3; b++) {
		size_t n_done = 0;
		/* bit not requested: nothing to decide */
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_ACCESS, 0, 0);
		emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_TMP, 0, 0, (int32_t)bits[b]);
		to_done[n_done++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K, R_TMP, 0, 0, 0);
		bool catch_all = false;
		for (size_t i = rules->len; i-- > 0 && !catch_all;) {
			const struct dev_rule *d = &rules->items[i];
			if (!(d->access & bits[b]))
				continue;
			size_t skips[3], n_skip = 0;
			if (d->type != 'a')
				skips[n_skip++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R_TYPE, 0, 0,
						       d->type == 'b' ? BPF_DEVCG_DEV_BLOCK
								      : BPF_DEVCG_DEV_CHAR);
			if (d->major != ANY)
				skips[n_skip++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MAJOR, 0, 0,
						       (int32_t)d->major);
			if (d->minor != ANY)
				skips[n_skip++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MINOR, 0, 0,
						       (int32_t)d->minor);
			if (d->allow)
				to_done[n_done++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0, 0);
			else
				emit_return(p, 0);
			for (size_t k = 0; k < n_skip; k++)
				land_here(p, skips[k]);
			/* a rule matching every device ends the chain: what
			 * follows could never run, and the verifier refuses
			 * unreachable code */
			catch_all = n_skip == 0;
		}
		if (!catch_all)
			emit_return(p, 0);
		for (size_t k = 0; k < n_done; k++)
			land_here(p, to_done[k]);
	}
	free(to_done);
	emit_return(p, 1);
	return p->oom ? -ENOMEM : 0;
}

static long bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_prog(const struct prog *p, struct husk_error *err)
{
	static char log[16384];
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p->insns;
	attr.insn_cnt = (uint32_t)p->len;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	int fd = (int)bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e != EINVAL && e != EACCES)
		return err_sys(err, e, "linux.resources.devices: load the device BPF program");
	/* load again with the verifier's log, for the message */
	log[0] = '\0';
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = (int)bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	return err_sys(err, e, "linux.resources.devices: the kernel refused the device BPF program "
		       "(%zu instructions): %.300s", p->len, log);
}

/* The ids of the device programs attached to the cgroup itself. */
static int query_attached(int cgfd, uint32_t *ids, uint32_t *count, struct husk_error *err)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = *count;
	if (bpf(BPF_PROG_QUERY, &attr) < 0)
		return err_sys(err, errno, "linux.resources.devices: query the cgroup's device programs");
	*count = attr.query.prog_cnt;
	return 0;
}

static int detach_id(int cgfd, uint32_t id, struct husk_error *err)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	int progfd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (progfd < 0)
		return errno == ENOENT ? 0 : err_sys(err, errno, "linux.resources.devices: "
						     "open device program %u", id);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	int r = bpf(BPF_PROG_DETACH, &attr) < 0 ? -errno : 0;
	close(progfd);
	if (r < 0 && r != -ENOENT)
		return err_sys(err, -r, "linux.resources.devices: detach device program %u", id);
	return 0;
}

static int v2_apply(const char *path, const struct rule_list *rules, struct husk_error *err)
{
	char dir[4200];
	uint32_t old[64], n_old = 64;
	struct prog p = { 0 };
	int r;

	const char *mount = cgroup_mount("unified");
	if (fmt_into(dir, sizeof(dir), err, "cgroupPath", "%s%s", mount ? mount : CGROUP_ROOT,
		     path) < 0)
		return -err->code;
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return err_sys(err, errno, "linux.resources.devices: open %s", dir);
	if ((r = query_attached(cgfd, old, &n_old, err)) < 0)
		return r;
	if (build_prog(rules, &p) < 0) {
		free(p.insns);
		return err_sys(err, ENOMEM, "linux.resources.devices");
	}
	int progfd = load_prog(&p, err);
	free(p.insns);
	if (progfd < 0)
		return progfd;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	r = bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
	/* the cgroup holds the program now; our fd is not needed */
	close(progfd);
	if (r < 0)
		return err_sys(err, -r, "linux.resources.devices: attach the device program to %s", dir);
	for (uint32_t i = 0; i < n_old; i++)
		if ((r = detach_id(cgfd, old[i], err)) < 0)
			return r;
	return 0;
}

int cgroup_apply_devices(const char *path, const struct oci_config *cfg, struct husk_error *err)
{
	struct rule_list rules;
	int r = build_rules(cfg, &rules, err);
	if (r < 0 || rules.items == NULL)
		return r;
	if (cgroup_mode() == CGROUP_V2)
		r = v2_apply(path, &rules, err);
	else
		r = v1_apply(path, &rules, err);
	free(rules.items);
	return r;
}

int cgroup_check_devices(const struct oci_config *cfg, struct husk_error *err)
{
	struct rule_list rules;
	int r = build_rules(cfg, &rules, err);
	free(rules.items);
	return r;
}

/* ---- as an allow list (systemd's DeviceAllow=) ---- */

static bool covers(int64_t wide, int64_t narrow)
{
	return wide == ANY || wide == narrow;
}

static int allow_add(struct dev_allow_list *l, size_t *cap, char type, int64_t major, int64_t minor,
		     unsigned access)
{
	for (size_t i = 0; i < l->len; i++) {
		struct dev_allow *e = &l->items[i];
		if (e->type == type && e->major == major && e->minor == minor) {
			e->access |= access;
			return 0;
		}
	}
	if (l->len == *cap) {
		size_t n = *cap ? *cap * 2 : 32;
		struct dev_allow *grown = realloc(l->items, n * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		l->items = grown;
		*cap = n;
	}
	l->items[l->len++] = (struct dev_allow){ type, major, minor, access };
	return 0;
}

/* The rules replayed into an allow list, as build_prog decides them: an
 * allow adds its access to its item; a deny takes its access from the
 * items it covers whole, and is dropped where it would have to punch a
 * hole in a wider item (which then allows more than the rules); an
 * allow-all is the whole list, a deny-all empties it. */
int cgroup_devices_allow_list(const struct oci_config *cfg, size_t max, struct dev_allow_list *out,
			      struct husk_error *err)
{
	struct rule_list rules;
	size_t cap = 0;
	*out = (struct dev_allow_list){ 0 };
	int r = build_rules(cfg, &rules, err);
	if (r < 0 || rules.items == NULL)
		return r;
	out->configured = true;
	for (size_t i = 0; i < rules.len && r == 0; i++) {
		const struct dev_rule *d = &rules.items[i];
		if (d->type == 'a') {
			out->all = d->allow;
			out->len = 0;
			out->too_long = false;
		} else if (out->all || out->too_long) {
			continue; /* an exception to allow-all: wider */
		} else if (d->allow) {
			/* one minor of every major: only "all of the type" says it */
			int64_t minor = d->major == ANY ? ANY : d->minor;
			r = allow_add(out, &cap, d->type, d->major, minor, d->access);
			/* sticky until an allow-all or deny-all: a later deny
			 * must not shrink a cut list into one that looks whole */
			out->too_long = out->len > max;
		} else {
			size_t kept = 0;
			for (size_t k = 0; k < out->len; k++) {
				struct dev_allow *e = &out->items[k];
				if (e->type == d->type && covers(d->major, e->major) &&
				    covers(d->minor, e->minor))
					e->access &= ~d->access;
				if (e->access)
					out->items[kept++] = *e;
			}
			out->len = kept;
		}
	}
	free(rules.items);
	if (r < 0) {
		free(out->items);
		*out = (struct dev_allow_list){ 0 };
		return err_sys(err, ENOMEM, "linux.resources.devices");
	}
	/* an allow list checks each item alone: an item gets the access of
	 * the wider items that cover it (covering is transitive, one pass);
	 * quadratic, so not for a list the caller refuses anyway */
	for (size_t i = 0; !out->too_long && i < out->len; i++)
		for (size_t k = 0; k < out->len; k++) {
			const struct dev_allow *w = &out->items[k];
			struct dev_allow *e = &out->items[i];
			if (k != i && w->type == e->type && covers(w->major, e->major) &&
			    covers(w->minor, e->minor))
				e->access |= w->access;
		}
	if (out->all || out->too_long) {
		free(out->items);
		out->items = NULL;
		out->len = 0;
	}
	return 0;
}
