#include "runtime/linux/systemd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"

extern char **environ;

#define HELPER "husk-systemd"
#ifndef HUSK_PKGLIBEXECDIR /* builds other than husk's own (the fuzz harnesses) */
#define HUSK_PKGLIBEXECDIR "/usr/local/libexec/husk"
#endif

/* ---- names ---- */

/* systemd's unit name characters, less '@' (templates) and '\\' (escapes). */
static bool unit_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static int bad_part(const char *spec, const char *what, const char *p, size_t n, const char *why,
		    struct husk_error *err)
{
	return err_set(err, EINVAL, "linux.cgroupsPath: \"%.200s%s\": the %s \"%.*s%s\" %s (--systemd-cgroup)",
		       spec, strlen(spec) > 200 ? "..." : "", what, n > 100 ? 100 : (int)n, p,
		       n > 100 ? "..." : "", why);
}

int systemd_unit_names(const char *spec, const char *id, char slice[SYSTEMD_UNIT_MAX],
		       char unit[SYSTEMD_UNIT_MAX], struct husk_error *err)
{
	if (spec == NULL || *spec == '\0')
		spec = ":husk:";
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || strchr(c2 + 1, ':') || strchr(spec, '/'))
		return err_set(err, EINVAL,
			       "linux.cgroupsPath: \"%.200s%s\" is not slice:prefix:name (--systemd-cgroup)",
			       spec, strlen(spec) > 200 ? "..." : "");
	const char *s = spec, *prefix = c1 + 1, *name = c2 + 1;
	size_t slen = (size_t)(c1 - spec), plen = (size_t)(c2 - prefix), nlen = strlen(name);
	if (slen == 0) {
		s = "system.slice";
		slen = strlen(s);
	}
	if (nlen == 0) {
		name = id;
		nlen = strlen(id);
	}
	if (slen >= SYSTEMD_UNIT_MAX)
		return bad_part(spec, "slice", s, slen, "is longer than 255 bytes", err);
	if (!unit_chars(s, slen))
		return bad_part(spec, "slice", s, slen,
				"has a character systemd does not take in a unit name (letters, digits, "
				"'-', '_', '.')",
				err);
	bool root = slen == 7 && strncmp(s, "-.slice", 7) == 0;
	if (slen <= 6 || strncmp(s + slen - 6, ".slice", 6) != 0 ||
	    (!root && (s[0] == '-' || memmem(s, slen, "--", 2) || s[slen - 7] == '-')))
		return bad_part(spec, "slice", s, slen,
				"is not a slice name (NAME.slice, dashes only between words)", err);
	if (!unit_chars(prefix, plen))
		return bad_part(spec, "prefix", prefix, plen,
				"has a character systemd does not take in a unit name", err);
	if (!unit_chars(name, nlen))
		return bad_part(spec, "name", name, nlen,
				"has a character systemd does not take in a unit name", err);
	if (nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0)
		return bad_part(spec, "name", name, nlen,
				"is a slice: runc would start a transient slice for the container, "
				"husk's systemd driver makes a scope per container (name it without "
				"\".slice\")",
				err);
	if (plen + 1 + nlen + 6 >= SYSTEMD_UNIT_MAX)
		return bad_part(spec, "unit name", prefix, plen,
				"with the name and \".scope\" is longer than 255 bytes", err);
	memcpy(slice, s, slen);
	slice[slen] = '\0';
	snprintf(unit, SYSTEMD_UNIT_MAX, "%.*s%s%.*s.scope", (int)plen, prefix, plen ? "-" : "",
		 (int)nlen, name);
	return 0;
}

/* ---- properties ---- */

#define PROP(...) (sb_addf(args, __VA_ARGS__), sb_addc(args, '\0'), ++*n)

/* linux.resources as the properties runc 1.1 gives systemd on v2: the rest
 * is written to the cgroup files by cgroup_apply_resources, as runc's fs
 * manager does after systemd's. */
static void add_resource_props(struct strbuf *args, size_t *n, const struct oci_resources *res)
{
	if (res == NULL)
		return;
	const struct oci_memory *m = res->memory;
	if (m && m->has_limit && m->limit != 0) {
		if (m->limit < 0)
			PROP("MemoryMax=infinity");
		else
			PROP("MemoryMax=%" PRId64, m->limit);
	}
	if (m && m->has_reservation && m->reservation > 0)
		PROP("MemoryLow=%" PRId64, m->reservation);
	if (m && m->has_swap && m->swap != 0) {
		/* v2's swap is what is over the memory limit */
		if (m->swap < 0)
			PROP("MemorySwapMax=infinity");
		else if (m->has_limit && m->limit > 0 && m->swap >= m->limit)
			PROP("MemorySwapMax=%" PRId64, m->swap - m->limit);
	}
	const struct oci_cpu *c = res->cpu;
	if (c && c->has_shares && c->shares >= 2 && c->shares <= 262144)
		PROP("CPUWeight=%" PRIu64, 1 + ((c->shares - 2) * 9999) / 262142);
	if (c && c->has_period && c->period != 0)
		PROP("CPUQuotaPeriodUSec=%" PRIu64, c->period);
	if (c && ((c->has_quota && c->quota != 0) || (c->has_period && c->period != 0))) {
		if (c->has_quota && c->quota > 0) {
			uint64_t period = c->has_period && c->period ? c->period : 100000;
			uint64_t per_sec = (uint64_t)c->quota * 1000000 / period;
			/* systemd keeps CPUQuota in 10 ms steps: round up, as runc */
			if (per_sec % 10000)
				per_sec = (per_sec / 10000 + 1) * 10000;
			PROP("CPUQuotaPerSecUSec=%" PRIu64, per_sec);
		} else
			PROP("CPUQuotaPerSecUSec=infinity");
	}
	if (c && c->cpus && *c->cpus)
		PROP("AllowedCPUs=%s", c->cpus);
	if (c && c->mems && *c->mems)
		PROP("AllowedMemoryNodes=%s", c->mems);
	if (res->pids && (res->pids->limit > 0 || res->pids->limit == -1)) {
		if (res->pids->limit < 0)
			PROP("TasksMax=infinity");
		else
			PROP("TasksMax=%" PRId64, res->pids->limit);
	}
	/* linux.resources.unified: the keys systemd has a property for
	 * (after the fields above, so they win, as the files do) */
	static const struct {
		const char *key, *prop;
	} unified[] = {
		{ "memory.max", "MemoryMax" },	   { "memory.high", "MemoryHigh" },
		{ "memory.low", "MemoryLow" },	   { "memory.min", "MemoryMin" },
		{ "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
		{ "cpu.weight", "CPUWeight" },	   { "cpuset.cpus", "AllowedCPUs" },
		{ "cpuset.mems", "AllowedMemoryNodes" },
	};
	for (size_t i = 0; i < res->unified.len; i++)
		for (size_t k = 0; k < sizeof(unified) / sizeof(unified[0]); k++) {
			const char *v = res->unified.values[i];
			if (strcmp(res->unified.keys[i], unified[k].key) != 0)
				continue;
			bool set = strncmp(unified[k].key, "cpuset.", 7) == 0;
			size_t vlen = strlen(v);
			/* only a clean value: anything else is for the file alone */
			if (vlen == 0 || vlen > 4000 ||
			    strspn(v, set ? "0123456789,-" : "0123456789") != vlen) {
				if (!set && strcmp(v, "max") == 0)
					PROP("%s=infinity", unified[k].prop);
				continue;
			}
			PROP("%s=%s", unified[k].prop, v);
		}
}

/* The DeviceAllow= entries husk gives systemd, at most (a config may allow
 * any number of single devices; the helper's command line is bounded). */
#define DEVICE_ALLOW_MAX 1024

/* linux.resources.devices as systemd's device policy, as runc gives it:
 * DevicePolicy=strict and a DeviceAllow= list emptied first, then one entry
 * per allowed device or group ("/dev/char/1:3", "char-136", "char-*"; both
 * parsed by systemd from the string, no node needed, since v240); an
 * allow-all is DevicePolicy=auto with no entries. husk's own device filter
 * stays on the cgroup (systemd's is in addition), and where systemd's list
 * cannot say the rules it allows more, never less (cgroup.h). */
static int add_device_props(struct strbuf *args, size_t *n, const struct oci_config *cfg,
			    struct husk_error *err)
{
	struct dev_allow_list l;
	int r = cgroup_devices_allow_list(cfg, DEVICE_ALLOW_MAX, &l, err);
	if (r < 0 || !l.configured)
		return r;
	if (l.too_long)
		return err_set(err, E2BIG,
			       "linux.resources.devices: the rules allow more than %d devices or "
			       "groups one by one, the most DeviceAllow= entries husk gives systemd "
			       "(--systemd-cgroup)",
			       DEVICE_ALLOW_MAX);
	PROP("DevicePolicy=%s", l.all ? "auto" : "strict");
	PROP("DeviceAllow=");
	for (size_t i = 0; i < l.len; i++) {
		const struct dev_allow *d = &l.items[i];
		const char *group = d->type == 'b' ? "block" : "char";
		char access[4];
		size_t k = 0;
		if (d->access & 2)
			access[k++] = 'r';
		if (d->access & 4)
			access[k++] = 'w';
		if (d->access & 1)
			access[k++] = 'm';
		access[k] = '\0';
		if (d->major < 0)
			PROP("DeviceAllow=%s-* %s", group, access);
		else if (d->minor < 0)
			PROP("DeviceAllow=%s-%" PRId64 " %s", group, d->major, access);
		else
			PROP("DeviceAllow=/dev/%s/%" PRId64 ":%" PRId64 " %s", group, d->major,
			     d->minor, access);
	}
	free(l.items);
	return 0;
}

/* ---- annotations org.systemd.property.NAME ---- */

#define ANNOTATION_PREFIX "org.systemd.property."
/* Bounds on what a config may hand systemd this way. */
#define ANNOTATION_PROPS_MAX 64
#define ANNOTATION_VALUE_MAX 4096

/* A value in the GVariant text form runc takes, in the subset husk reads:
 * true/false, a number with an optional type word (uint64 5; a bare
 * integer is int32, one with '.' or 'e' a double, as in GVariant), or a
 * quoted string ('...' or "...", with \\ \' \" escapes). */
struct prop_value {
	char type; /* D-Bus signature: b y n q i u x t d s */
	int64_t i;
	uint64_t u;
	double d;
	struct strbuf s;
};

static const struct {
	const char *word;
	char type;
	int64_t min;
	uint64_t max;
} int_types[] = {
	{ "byte", 'y', 0, UINT8_MAX },		 { "int16", 'n', INT16_MIN, INT16_MAX },
	{ "uint16", 'q', 0, UINT16_MAX },	 { "int32", 'i', INT32_MIN, INT32_MAX },
	{ "uint32", 'u', 0, UINT32_MAX },	 { "int64", 'x', INT64_MIN, INT64_MAX },
	{ "uint64", 't', 0, UINT64_MAX },
};

static bool parse_quoted(const char *v, struct strbuf *out)
{
	char q = *v++;
	for (; *v && *v != q; v++) {
		unsigned char c = (unsigned char)*v;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '\\') {
			/* no escape makes a control character: the value ends
			 * up in systemctl's output */
			if (*++v != '\\' && *v != '\'' && *v != '"')
				return false;
			c = (unsigned char)*v;
		}
		sb_addc(out, (char)c);
	}
	return *v == q && v[1] == '\0' && out->error == 0;
}

static bool parse_number(const char *v, const char *word, struct prop_value *pv)
{
	char *end;
	bool is_double = strcmp(word, "double") == 0 ||
			 (*word == '\0' && strpbrk(v, ".eE") != NULL && strspn(v, "0123456789+-.eE") == strlen(v));
	if (*v == '\0' || !(isdigit((unsigned char)*v) || *v == '-' || *v == '+' || *v == '.'))
		return false;
	errno = 0;
	if (is_double) {
		pv->type = 'd';
		pv->d = strtod(v, &end);
		return *end == '\0' && errno == 0 && isfinite(pv->d);
	}
	size_t k = 0;
	const size_t n_types = sizeof(int_types) / sizeof(int_types[0]);
	if (*word == '\0')
		k = 3; /* int32, as GVariant reads a bare integer */
	else
		while (k < n_types && strcmp(int_types[k].word, word) != 0)
			k++;
	if (k == n_types)
		return false;
	pv->type = int_types[k].type;
	if (int_types[k].min < 0) {
		pv->i = strtoll(v, &end, 10);
		return *end == '\0' && errno == 0 && pv->i >= int_types[k].min &&
		       pv->i <= (int64_t)int_types[k].max;
	}
	if (*v == '-')
		return false;
	pv->u = strtoull(v, &end, 10);
	return *end == '\0' && errno == 0 && pv->u <= int_types[k].max;
}

static bool parse_value(const char *v, struct prop_value *pv)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		pv->type = 'b';
		pv->u = v[0] == 't';
		return true;
	}
	if (*v == '\'' || *v == '"') {
		pv->type = 's';
		return parse_quoted(v, &pv->s);
	}
	/* "uint64 5": a type word, one space, the number */
	char word[8] = "";
	const char *sp = strchr(v, ' ');
	if (sp) {
		if ((size_t)(sp - v) >= sizeof(word))
			return false;
		memcpy(word, v, (size_t)(sp - v));
		word[sp - v] = '\0';
		v = sp + 1;
	}
	return parse_number(v, word, pv);
}

/* runc's conversion: a property documented as NAMESec (TimeoutStopSec)
 * takes seconds, and goes to systemd as NAMEUSec in microseconds. */
static bool sec_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && strcmp(name + n - 3, "Sec") == 0 && name[n - 4] >= 'a' && name[n - 4] <= 'z';
}

static int to_usec(struct prop_value *pv)
{
	uint64_t sec;
	switch (pv->type) {
	case 'd':
		if (!(pv->d >= 0) || pv->d * 1e6 >= 18446744073709551616.0)
			return -1;
		pv->u = (uint64_t)(pv->d * 1e6);
		pv->type = 't';
		return 0;
	case 'y': case 'q': case 'u': case 't':
		sec = pv->u;
		break;
	case 'n': case 'i': case 'x':
		if (pv->i < 0)
			return -1;
		sec = (uint64_t)pv->i;
		break;
	default:
		return -1;
	}
	if (sec > UINT64_MAX / 1000000)
		return -1;
	pv->u = sec * 1000000;
	pv->type = 't';
	return 0;
}

/* s for an error message: at most max bytes of it, control characters
 * escaped ("..." when cut); NULL when out of memory. */
static char *shown(const char *s, size_t max)
{
	_cleanup_strbuf_ struct strbuf cut = STRBUF_INIT;
	size_t n = strnlen(s, max + 1);
	sb_addn(&cut, s, n > max ? max : n);
	if (cut.error)
		return NULL;
	_cleanup_free_ char *e = str_escape(cut.buf);
	char *out = NULL;
	if (e && asprintf(&out, "%s%s", e, n > max ? "..." : "") < 0)
		out = NULL;
	return out;
}

static int annotation_error(struct husk_error *err, int code, const char *key, const char *value,
			    const char *why)
{
	_cleanup_free_ char *k = shown(key, 100), *v = value ? shown(value, 100) : NULL;
	if (k == NULL || (value && v == NULL))
		return err_sys(err, ENOMEM, "annotations");
	if (value)
		return err_set(err, code, "annotations: \"%s\": value \"%s\" %s (--systemd-cgroup)", k, v,
			       why);
	return err_set(err, code, "annotations: \"%s\": %s (--systemd-cgroup)", k, why);
}

/* The config's org.systemd.property.NAME annotations as unit properties
 * ("@NAME=TYPE:VALUE" for the helper), after husk's own so that they win,
 * as in runc. NAME is letters and digits; NAME as husk places the unit
 * (Slice, PIDs) is refused: husk finds the container's cgroup from them. */
static int add_annotation_props(struct strbuf *args, size_t *n, const struct oci_config *cfg,
				struct husk_error *err)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t count = 0;
	int r = 0;
	for (size_t i = 0; i < cfg->annotations.len && r == 0; i++) {
		const char *key = cfg->annotations.keys[i], *v = cfg->annotations.values[i];
		if (strncmp(key, ANNOTATION_PREFIX, strlen(ANNOTATION_PREFIX)) != 0)
			continue;
		const char *name = key + strlen(ANNOTATION_PREFIX);
		size_t len = strlen(name);
		if (len < 3 || len > 60 || strspn(name, alnum) != len)
			return annotation_error(err, EINVAL, key, NULL,
						"a systemd property name is 3 to 60 letters and digits");
		if (strcmp(name, "Slice") == 0 || strcmp(name, "PIDs") == 0)
			return annotation_error(err, EINVAL, key, NULL,
						"husk sets this property itself (the slice comes "
						"from linux.cgroupsPath)");
		if (++count > ANNOTATION_PROPS_MAX)
			return err_set(err, E2BIG,
				       "annotations: more than %d org.systemd.property.* (--systemd-cgroup)",
				       ANNOTATION_PROPS_MAX);
		struct prop_value pv = { .s = STRBUF_INIT_MAX(ANNOTATION_VALUE_MAX) };
		bool ok = strlen(v) <= ANNOTATION_VALUE_MAX && parse_value(v, &pv);
		bool usec = ok && sec_suffix(name);
		if (!ok)
			r = annotation_error(err, EINVAL, key, v,
					     "is not one husk passes to systemd: true or false, a number "
					     "with an optional type word (\"uint64 123\"; a bare integer is "
					     "an int32), or a quoted string (\"'text'\")");
		else if (usec && to_usec(&pv) < 0)
			r = annotation_error(err, EINVAL, key, v,
					     "is not a number of seconds (NAMESec goes to systemd as "
					     "NAMEUSec)");
		else if (usec)
			PROP("@%.*sUSec=t:%" PRIu64, (int)(len - 3), name, pv.u);
		else if (pv.type == 's')
			PROP("@%s=s:%s", name, pv.s.buf);
		else if (pv.type == 'd')
			PROP("@%s=d:%.17g", name, pv.d);
		else if (pv.type == 'b' || pv.type == 'y' || pv.type == 'q' || pv.type == 'u' ||
			 pv.type == 't')
			PROP("@%s=%c:%" PRIu64, name, pv.type, pv.u);
		else
			PROP("@%s=%c:%" PRId64, name, pv.type, pv.i);
		sb_release(&pv.s);
	}
	return r;
}

/* Everything husk asks of the unit: resources, devices, then (at start)
 * the annotations. */
static int add_props(struct strbuf *args, size_t *n, const struct oci_config *cfg,
		     bool annotations, struct husk_error *err)
{
	add_resource_props(args, n, cfg->linux ? cfg->linux->resources : NULL);
	int r = add_device_props(args, n, cfg, err);
	if (r == 0 && annotations)
		r = add_annotation_props(args, n, cfg, err);
	return r;
}
#undef PROP

/* The properties a create would give systemd, checked and thrown away. */
int systemd_check_properties(const struct oci_config *cfg, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf args = STRBUF_INIT;
	size_t n = 0;
	int r = add_props(&args, &n, cfg, true, err);
	if (r == 0)
		r = sb_check(&args, err, "--systemd-cgroup");
	return r;
}

/* ---- the helper ---- */

/* $HUSK_SYSTEMD_HELPER (an absolute path: a build tree's tests), next to
 * the running husk (when it is not its sealed copy, see cloned-exe.h),
 * else where make install puts it. */
static int helper_path(char *out, size_t size, struct husk_error *err)
{
	char self[PATH_MAX];
	const char *env = getenv("HUSK_SYSTEMD_HELPER");
	if (env && *env) {
		if (env[0] != '/' || strlen(env) >= size)
			return err_set(err, EINVAL, "HUSK_SYSTEMD_HELPER: \"%.200s\" is not an absolute path",
				       env);
		if (access(env, X_OK) < 0)
			return err_sys(err, errno, "--systemd-cgroup: the helper $HUSK_SYSTEMD_HELPER %s", env);
		snprintf(out, size, "%s", env);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash && (size_t)(slash - self) + sizeof("/" HELPER) <= size) {
			snprintf(out, size, "%.*s/" HELPER, (int)(slash - self), self);
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, size, "%s", HUSK_PKGLIBEXECDIR "/" HELPER);
	if (access(out, X_OK) == 0)
		return 0;
	return err_set(err, ENOENT,
		       "--systemd-cgroup: the helper " HELPER " is not installed (looked next to husk "
		       "and in " HUSK_PKGLIBEXECDIR ")");
}

/* Arguments to one helper: the resource properties, DEVICE_ALLOW_MAX
 * device entries and ANNOTATION_PROPS_MAX annotations fit. */
#define HELPER_ARGS_MAX 1200

/* Run the helper with args (NUL-separated in a): stdin from a pipe
 * (*to_helper, or closed at once when to_helper is NULL), its stdout and
 * stderr into one pipe read until "ok\n" (until_ok) or its end. */
static int helper_run(const struct strbuf *a, size_t n, int *to_helper, bool until_ok, pid_t *pid,
		      struct strbuf *out, struct husk_error *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char **argv = NULL;
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, r;
	posix_spawn_file_actions_t fa;
	if ((r = helper_path(path, sizeof(path), err)) < 0)
		return r;
	if (n > HELPER_ARGS_MAX)
		return err_set(err, E2BIG, "--systemd-cgroup: %zu properties for one unit (at most %d)",
			       n, HELPER_ARGS_MAX);
	if ((argv = calloc(n + 2, sizeof(*argv))) == NULL)
		return err_sys(err, ENOMEM, "--systemd-cgroup");
	argv[0] = path;
	size_t k = 1;
	for (size_t off = 0; k <= n && off < a->len; off += strlen(a->buf + off) + 1)
		argv[k++] = a->buf + off;
	argv[k] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0) {
		r = err_sys(err, errno, "--systemd-cgroup: pipe");
		goto close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, o[1], 2);
	r = posix_spawn(pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		*pid = -1;
		r = err_sys(err, r, "--systemd-cgroup: run %s", path);
		goto close;
	}
	close(in[0]);
	close(o[1]);
	in[0] = o[1] = -1;
	if (to_helper) {
		*to_helper = in[1];
		in[1] = -1;
	} else {
		close(in[1]);
		in[1] = -1;
	}
	/* its answer: bounded, it is ours but its text comes from systemd */
	char buf[512];
	ssize_t got;
	while (out->len < 4096 && (got = read(o[0], buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		sb_addn(out, buf, (size_t)got);
		if (until_ok && out->len >= 3 && strcmp(out->buf + out->len - 3, "ok\n") == 0)
			break;
	}
	r = 0;
close:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
	}
	return r;
}

static int wait_helper(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The helper's own message (its last line), as the error. */
static int helper_failed(const struct strbuf *out, const char *what, struct husk_error *err)
{
	const char *text = out->len ? out->buf : "";
	size_t n = out->len;
	while (n && text[n - 1] == '\n')
		n--;
	const char *line = text + n;
	while (line > text && line[-1] != '\n')
		line--;
	if (n == 0)
		return err_set(err, EIO, "--systemd-cgroup: %s: " HELPER " failed without a message",
			       what);
	/* "start: ..." / "set: ..." : the helper names the verb */
	return err_set(err, EIO, "--systemd-cgroup: %s: %.*s", what, (int)(text + n - line), line);
}

int systemd_scope_start(const struct oci_config *cfg, const char *id, struct systemd_scope *s,
			pid_t *holder, struct husk_error *err)
{
	char slice[SYSTEMD_UNIT_MAX], unit[SYSTEMD_UNIT_MAX];
	const char *spec = cfg->linux ? cfg->linux->cgroupsPath : NULL;
	_cleanup_strbuf_ struct strbuf args = STRBUF_INIT, out = STRBUF_INIT;
	size_t n = 0;
	int r = systemd_unit_names(spec, id, slice, unit, err);
	if (r < 0)
		return r;
	sb_addf(&args, "start%c%s%c%s%chusk container %s%c", 0, unit, 0, slice, 0, id, 0);
	n = 4;
	if ((r = add_props(&args, &n, cfg, true, err)) < 0 ||
	    (r = sb_check(&args, err, "--systemd-cgroup")) < 0)
		return r;
	if ((r = helper_run(&args, n, &s->to_helper, true, &s->helper, &out, err)) < 0)
		return r;
	if (out.len >= 3 && strcmp(out.buf + out.len - 3, "ok\n") == 0) {
		*holder = s->helper;
		log_debug("systemd: started %s in %s", unit, slice);
		return 0;
	}
	systemd_scope_finish(s, false);
	return helper_failed(&out, unit, err);
}

void systemd_scope_finish(struct systemd_scope *s, bool keep)
{
	if (s->to_helper >= 0) {
		if (keep) {
			/* a helper that died must not take husk along (SIGPIPE) */
			struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
			sigaction(SIGPIPE, &ignore, &old);
			if (write(s->to_helper, "keep\n", 5) != 5)
				log_warn("systemd: the scope's helper is gone");
			sigaction(SIGPIPE, &old, NULL);
		}
		close(s->to_helper);
		s->to_helper = -1;
	}
	if (s->helper > 0) {
		if (wait_helper(s->helper) < 0 && keep)
			log_warn("systemd: the scope's helper failed");
		s->helper = -1;
	}
}

static int unit_of(const char *cgroup_path, char unit[SYSTEMD_UNIT_MAX], struct husk_error *err)
{
	const char *base = strrchr(cgroup_path, '/');
	base = base ? base + 1 : cgroup_path;
	size_t n = strlen(base);
	if (n < 7 || n >= SYSTEMD_UNIT_MAX || strcmp(base + n - 6, ".scope") != 0 || !unit_chars(base, n))
		return err_set(err, EINVAL, "state.json cgroupPath \"%.200s\" does not end in a scope unit",
			       cgroup_path);
	memcpy(unit, base, n + 1);
	return 0;
}

static int helper_call(const struct strbuf *args, size_t n, const char *what, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	pid_t pid = -1;
	int r = helper_run(args, n, NULL, false, &pid, &out, err);
	if (r < 0)
		return r;
	if (wait_helper(pid) < 0)
		return helper_failed(&out, what, err);
	return 0;
}

int systemd_set_resources(const char *cgroup_path, const struct oci_config *cfg,
			  struct husk_error *err)
{
	char unit[SYSTEMD_UNIT_MAX];
	_cleanup_strbuf_ struct strbuf args = STRBUF_INIT;
	size_t n = 2;
	int r = unit_of(cgroup_path, unit, err);
	if (r < 0)
		return r;
	sb_addf(&args, "set%c%s%c", 0, unit, 0);
	if ((r = add_props(&args, &n, cfg, false, err)) < 0)
		return r;
	if (n == 2)
		return 0;
	if ((r = sb_check(&args, err, "--systemd-cgroup")) < 0)
		return r;
	return helper_call(&args, n, unit, err);
}

int systemd_stop(const char *cgroup_path, struct husk_error *err)
{
	char unit[SYSTEMD_UNIT_MAX];
	_cleanup_strbuf_ struct strbuf args = STRBUF_INIT;
	int r = unit_of(cgroup_path, unit, err);
	if (r < 0)
		return r;
	sb_addf(&args, "stop%c%s%c", 0, unit, 0);
	if ((r = sb_check(&args, err, "--systemd-cgroup")) < 0)
		return r;
	return helper_call(&args, 2, unit, err);
}
