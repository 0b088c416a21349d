#include "runtime/linux/cgroup-stats.h"

#include "common/strbuf.h"

/* Kernel file names and the cgroup dir (bounded by CGROUP_PATH_MAX): a
 * checked format that never truncates (an unfitting result reads nothing). */
#define CHECKED_FMT(buf, ...) \
	fmt_into(buf, sizeof(buf), &(struct husk_error){ 0 }, "cgroup file", __VA_ARGS__)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/linux/cgroup.h"

#define OCI_CUR struct stats_cpu_usage
static const struct oci_field cpu_usage_fields[] = {
	F_VAL_REQ("total", total, OCI_U64),
	F_ARR("percpu", percpu, OCI_U64),
	F_VAL_REQ("kernel", kernel, OCI_U64),
	F_VAL_REQ("user", user, OCI_U64),
};
static OCI_TYPE(cpu_usage_type, struct stats_cpu_usage, cpu_usage_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_throttling
static const struct oci_field throttling_fields[] = {
	F_VAL_REQ("periods", periods, OCI_U64),
	F_VAL_REQ("throttledPeriods", throttledPeriods, OCI_U64),
	F_VAL_REQ("throttledTime", throttledTime, OCI_U64),
};
static OCI_TYPE(throttling_type, struct stats_throttling, throttling_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_cpu
static const struct oci_field cpu_fields[] = {
	F_OBJ("usage", usage, cpu_usage_type),
	F_OBJ("throttling", throttling, throttling_type),
};
static OCI_TYPE(cpu_type, struct stats_cpu, cpu_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_memory_entry
static const struct oci_field memory_entry_fields[] = {
	F_VAL_REQ("limit", limit, OCI_U64),
	F_VAL_REQ("usage", usage, OCI_U64),
	F_VAL_REQ("max", max, OCI_U64),
	F_VAL_REQ("failcnt", failcnt, OCI_U64),
};
static OCI_TYPE(memory_entry_type, struct stats_memory_entry, memory_entry_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_memory
static const struct oci_field memory_fields[] = {
	F_OBJ("usage", usage, memory_entry_type),
	F_OBJ("swap", swap, memory_entry_type),
};
static OCI_TYPE(memory_type, struct stats_memory, memory_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_pids
static const struct oci_field pids_fields[] = {
	F_VAL_REQ("current", current, OCI_U64),
	F_VAL_REQ("limit", limit, OCI_U64),
};
static OCI_TYPE(pids_type, struct stats_pids, pids_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_blkio_entry
static const struct oci_field blkio_entry_fields[] = {
	F_VAL("major", major, OCI_U64),
	F_VAL("minor", minor, OCI_U64),
	F_STR("op", op),
	F_VAL("value", value, OCI_U64),
};
static OCI_TYPE(blkio_entry_type, struct stats_blkio_entry, blkio_entry_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_blkio
static const struct oci_field blkio_fields[] = {
	F_ARR_OBJ("ioServiceBytesRecursive", ioServiceBytesRecursive, blkio_entry_type),
	F_ARR_OBJ("ioServicedRecursive", ioServicedRecursive, blkio_entry_type),
	F_ARR_OBJ("ioQueueRecursive", ioQueueRecursive, blkio_entry_type),
	F_ARR_OBJ("ioServiceTimeRecursive", ioServiceTimeRecursive, blkio_entry_type),
	F_ARR_OBJ("ioWaitTimeRecursive", ioWaitTimeRecursive, blkio_entry_type),
	F_ARR_OBJ("ioMergedRecursive", ioMergedRecursive, blkio_entry_type),
	F_ARR_OBJ("ioTimeRecursive", ioTimeRecursive, blkio_entry_type),
	F_ARR_OBJ("sectorsRecursive", sectorsRecursive, blkio_entry_type),
};
static OCI_TYPE(blkio_type, struct stats_blkio, blkio_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_hugetlb
static const struct oci_field hugetlb_fields[] = {
	F_VAL("usage", usage, OCI_U64),
	F_VAL("max", max, OCI_U64),
	F_VAL_REQ("failcnt", failcnt, OCI_U64),
};
static OCI_TYPE(hugetlb_type, struct stats_hugetlb, hugetlb_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_data
static const struct oci_field data_fields[] = {
	F_OBJ("cpu", cpu, cpu_type),
	F_OBJ("memory", memory, memory_type),
	F_OBJ("pids", pids, pids_type),
	F_OBJ("blkio", blkio, blkio_type),
	F_MAP_OBJ("hugetlb", hugetlb, hugetlb_type),
};
static OCI_TYPE(data_type, struct stats_data, data_fields);
#undef OCI_CUR

#define OCI_CUR struct stats_event
static const struct oci_field event_fields[] = {
	F_STR_REQ("type", type),
	F_STR_REQ("id", id),
	F_OBJ("data", data, data_type),
};
OCI_TYPE(stats_event_type, struct stats_event, event_fields);
#undef OCI_CUR

/* A file of the cgroup as text; -errno when missing. */
static int read_text(const char *dir, const char *file, char *buf, size_t size)
{
	char path[4200];
	struct husk_error ignored;
	if (fmt_into(path, sizeof(path), &ignored, "cgroupPath", "%s/%s", dir, file) < 0)
		return -ENAMETOOLONG;
	return read_small_at(AT_FDCWD, path, 0, buf, size);
}

/* A single number; "max" reads as UINT64_MAX. */
static int read_u64(const char *dir, const char *file, uint64_t *out)
{
	char buf[64];
	int r = read_text(dir, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	*out = strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
	return 0;
}

/* "key value" lines (cpu.stat, cpuacct.stat). */
static bool read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char buf[4096];
	if (read_text(dir, file, buf, sizeof(buf)) < 0)
		return false;
	size_t klen = strlen(key);
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*out = strtoull(line + klen + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static void read_percpu(const char *dir, struct stats_cpu_usage *u)
{
	char buf[8192];
	if (read_text(dir, "cpuacct.usage_percpu", buf, sizeof(buf)) < 0)
		return;
	size_t n = 0;
	uint64_t values[1024];
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w && n < 1024;
	     w = strtok_r(NULL, " \n", &save))
		values[n++] = strtoull(w, NULL, 10);
	u->percpu.items = calloc(n ? n : 1, sizeof(uint64_t));
	if (u->percpu.items) {
		memcpy(u->percpu.items, values, n * sizeof(uint64_t));
		u->percpu.len = n;
	}
}

/* ---- blkio (v1) and io (v2) ---- */

static const char *const blkio_ops[] = { "Read", "Write", "Sync", "Async", "Discard", "Total" };

static char *op_name(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(blkio_ops) / sizeof(blkio_ops[0]); i++)
		if (strlen(blkio_ops[i]) == len && strncmp(s, blkio_ops[i], len) == 0)
			return (char *)blkio_ops[i];
	return NULL;
}

static int push_entry(stats_blkio_entries *a, uint64_t major, uint64_t minor, char *op,
		      uint64_t value)
{
	struct stats_blkio_entry *grown = realloc(a->items, (a->len + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	a->items = grown;
	a->items[a->len++] = (struct stats_blkio_entry){ major, minor, op, value };
	return 0;
}

/* A whole cgroup file, malloc'd; NULL when missing. */
static char *read_all(const char *dir, const char *file)
{
	char path[4300];
	char *buf = NULL;
	size_t len;
	struct husk_error ignored;
	if (fmt_into(path, sizeof(path), &ignored, "cgroupPath", "%s/%s", dir, file) < 0 ||
	    read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, &ignored) < 0)
		return NULL;
	return buf;
}

/* v1 lines: "MAJ:MIN Op VALUE", or "MAJ:MIN VALUE" (time, sectors); the
 * "Total N" summary is left out, as runc does. Unknown ops are skipped. */
static void parse_v1_blkio(char *text, stats_blkio_entries *out)
{
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long major, minor, value;
		char op[16];
		int n;
		if (sscanf(line, "%llu:%llu %15s %llu%n", &major, &minor, op, &value, &n) == 4) {
			char *name = op_name(op, strlen(op));
			if (name)
				push_entry(out, major, minor, name, value);
		} else if (sscanf(line, "%llu:%llu %llu%n", &major, &minor, &value, &n) == 3) {
			push_entry(out, major, minor, NULL, value);
		}
	}
}

static bool has_device_line(const char *text)
{
	unsigned a, b;
	return text && sscanf(text, "%u:%u", &a, &b) == 2;
}

/* CFQ's files (blkio.*), else BFQ's (blkio.bfq.*), else the throttling
 * layer's (blkio.throttle.*, always there): the first that counted any
 * device, or the first present. */
static bool blkio_v1(const char *dir, struct stats_blkio *b)
{
	static const char *const prefixes[] = { "blkio.", "blkio.bfq.", "blkio.throttle." };
	const struct { const char *file; stats_blkio_entries *to; } files[] = {
		{ "io_service_bytes_recursive", &b->ioServiceBytesRecursive },
		{ "io_serviced_recursive", &b->ioServicedRecursive },
		{ "io_queued_recursive", &b->ioQueueRecursive },
		{ "io_service_time_recursive", &b->ioServiceTimeRecursive },
		{ "io_wait_time_recursive", &b->ioWaitTimeRecursive },
		{ "io_merged_recursive", &b->ioMergedRecursive },
		{ "time_recursive", &b->ioTimeRecursive },
		{ "sectors_recursive", &b->sectorsRecursive },
	};
	const char *use = NULL;
	char file[128];
	for (size_t p = 0; p < 3; p++) {
		CHECKED_FMT(file, "%sio_service_bytes_recursive", prefixes[p]);
		_cleanup_free_ char *text = read_all(dir, file);
		if (text && use == NULL)
			use = prefixes[p];
		if (has_device_line(text)) {
			use = prefixes[p];
			break;
		}
	}
	if (use == NULL)
		return false;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		CHECKED_FMT(file, "%s%s", use, files[i].file);
		_cleanup_free_ char *text = read_all(dir, file);
		if (text)
			parse_v1_blkio(text, files[i].to);
	}
	return true;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static bool blkio_v2(const char *dir, struct stats_blkio *b)
{
	const struct { const char *key; stats_blkio_entries *to; const char *op; } keys[] = {
		{ "rbytes", &b->ioServiceBytesRecursive, "Read" },
		{ "wbytes", &b->ioServiceBytesRecursive, "Write" },
		{ "dbytes", &b->ioServiceBytesRecursive, "Discard" },
		{ "rios", &b->ioServicedRecursive, "Read" },
		{ "wios", &b->ioServicedRecursive, "Write" },
		{ "dios", &b->ioServicedRecursive, "Discard" },
	};
	_cleanup_free_ char *text = read_all(dir, "io.stat");
	if (text == NULL)
		return false;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long major, minor;
		int n;
		if (sscanf(line, "%llu:%llu%n", &major, &minor, &n) != 2)
			continue;
		for (char *s2 = NULL, *kv = strtok_r(line + n, " ", &s2); kv;
		     kv = strtok_r(NULL, " ", &s2)) {
			char *eq = strchr(kv, '=');
			if (eq == NULL)
				continue;
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if ((size_t)(eq - kv) == strlen(keys[k].key) &&
				    strncmp(kv, keys[k].key, (size_t)(eq - kv)) == 0)
					push_entry(keys[k].to, major, minor,
						   op_name(keys[k].op, strlen(keys[k].op)),
						   strtoull(eq + 1, NULL, 10));
		}
	}
	return true;
}

/* ---- hugetlb ---- */

static int push_hugetlb(struct stats_data *d, const char *size, const struct stats_hugetlb *h)
{
	size_t i = d->hugetlb.len;
	char **keys = realloc(d->hugetlb.keys, (i + 1) * sizeof(char *));
	if (keys == NULL)
		return -ENOMEM;
	d->hugetlb.keys = keys;
	struct stats_hugetlb *values = realloc(d->hugetlb.values, (i + 1) * sizeof(*values));
	if (values == NULL)
		return -ENOMEM;
	d->hugetlb.values = values;
	if ((keys[i] = strdup(size)) == NULL)
		return -ENOMEM;
	values[i] = *h;
	d->hugetlb.len = i + 1;
	return 0;
}

/* Every page size the cgroup has files for: hugetlb.<size>.<suffix>. */
static void hugetlb_stats(const char *dir, bool v2, struct stats_data *d)
{
	const char *suffix = v2 ? ".current" : ".usage_in_bytes";
	DIR *dh = opendir(dir);
	if (dh == NULL)
		return;
	for (struct dirent *e; (e = readdir(dh)) != NULL;) {
		const char *name = e->d_name;
		size_t len = strlen(name), slen = strlen(suffix);
		if (strncmp(name, "hugetlb.", 8) != 0 || len <= 8 + slen ||
		    strcmp(name + len - slen, suffix) != 0)
			continue;
		/* the size is what lies between: "2MB", not "2MB.rsvd" */
		char size[32], file[128];
		int n = (int)(len - 8 - slen);
		CHECKED_FMT(size, "%.*s", n, name + 8);
		if (strchr(size, '.'))
			continue;
		struct stats_hugetlb h = { 0 };
		read_u64(dir, name, &h.usage);
		if (v2) {
			CHECKED_FMT(file, "hugetlb.%s.events", size);
			read_key(dir, file, "max", &h.failcnt);
		} else {
			CHECKED_FMT(file, "hugetlb.%s.max_usage_in_bytes", size);
			read_u64(dir, file, &h.max);
			CHECKED_FMT(file, "hugetlb.%s.failcnt", size);
			read_u64(dir, file, &h.failcnt);
		}
		if (push_hugetlb(d, size, &h) < 0)
			break;
	}
	closedir(dh);
}

/* The cgroup's directory in ctrl's hierarchy (as the mount table says); a
 * path that does not exist when the host does not mount it. */
static void ctrl_dir(const char *ctrl, const char *path, char *dir, size_t size)
{
	const char *mount = cgroup_mount(ctrl);
	struct husk_error ignored;
	if (mount == NULL || fmt_into(dir, size, &ignored, "cgroupPath", "%s%s", mount, path) < 0)
		fmt_into(dir, size, &ignored, "cgroupPath", "/nonexistent");
}

static void stats_v1(const char *path, struct stats_data *d)
{
	char dir[4200];
	struct stats_cpu_usage *u = &d->cpu_.usage_;

	ctrl_dir("cpuacct", path, dir, sizeof(dir));
	if (read_u64(dir, "cpuacct.usage", &u->total) == 0) {
		read_u64(dir, "cpuacct.usage_sys", &u->kernel);
		read_u64(dir, "cpuacct.usage_user", &u->user);
		read_percpu(dir, u);
		d->cpu_.usage = u;
		d->cpu = &d->cpu_;
	}
	ctrl_dir("cpu", path, dir, sizeof(dir));
	struct stats_throttling *t = &d->cpu_.throttling_;
	if (read_key(dir, "cpu.stat", "nr_periods", &t->periods)) {
		read_key(dir, "cpu.stat", "nr_throttled", &t->throttledPeriods);
		read_key(dir, "cpu.stat", "throttled_time", &t->throttledTime);
		d->cpu_.throttling = t;
		d->cpu = &d->cpu_;
	}
	ctrl_dir("memory", path, dir, sizeof(dir));
	struct stats_memory_entry *m = &d->memory_.usage_;
	if (read_u64(dir, "memory.usage_in_bytes", &m->usage) == 0) {
		read_u64(dir, "memory.limit_in_bytes", &m->limit);
		read_u64(dir, "memory.max_usage_in_bytes", &m->max);
		read_u64(dir, "memory.failcnt", &m->failcnt);
		d->memory_.usage = m;
		d->memory = &d->memory_;
		struct stats_memory_entry *s = &d->memory_.swap_;
		if (read_u64(dir, "memory.memsw.usage_in_bytes", &s->usage) == 0) {
			read_u64(dir, "memory.memsw.limit_in_bytes", &s->limit);
			read_u64(dir, "memory.memsw.max_usage_in_bytes", &s->max);
			read_u64(dir, "memory.memsw.failcnt", &s->failcnt);
			d->memory_.swap = s;
		}
	}
	ctrl_dir("pids", path, dir, sizeof(dir));
	if (read_u64(dir, "pids.current", &d->pids_.current) == 0) {
		if (read_u64(dir, "pids.max", &d->pids_.limit) == 0 && d->pids_.limit == UINT64_MAX)
			d->pids_.limit = 0; /* runc reports "max" as 0 */
		d->pids = &d->pids_;
	}
	ctrl_dir("blkio", path, dir, sizeof(dir));
	if (blkio_v1(dir, &d->blkio_))
		d->blkio = &d->blkio_;
	ctrl_dir("hugetlb", path, dir, sizeof(dir));
	hugetlb_stats(dir, false, d);
}

static void stats_v2(const char *path, struct stats_data *d)
{
	char dir[4200];
	uint64_t usec;

	ctrl_dir("unified", path, dir, sizeof(dir));
	struct stats_cpu_usage *u = &d->cpu_.usage_;
	if (read_key(dir, "cpu.stat", "usage_usec", &usec)) {
		u->total = usec * 1000;
		if (read_key(dir, "cpu.stat", "system_usec", &usec))
			u->kernel = usec * 1000;
		if (read_key(dir, "cpu.stat", "user_usec", &usec))
			u->user = usec * 1000;
		d->cpu_.usage = u;
		d->cpu = &d->cpu_;
		struct stats_throttling *t = &d->cpu_.throttling_;
		if (read_key(dir, "cpu.stat", "nr_periods", &t->periods)) {
			read_key(dir, "cpu.stat", "nr_throttled", &t->throttledPeriods);
			if (read_key(dir, "cpu.stat", "throttled_usec", &usec))
				t->throttledTime = usec * 1000;
			d->cpu_.throttling = t;
		}
	}
	struct stats_memory_entry *m = &d->memory_.usage_;
	if (read_u64(dir, "memory.current", &m->usage) == 0) {
		read_u64(dir, "memory.max", &m->limit);
		read_u64(dir, "memory.peak", &m->max);
		read_key(dir, "memory.events", "max", &m->failcnt);
		d->memory_.usage = m;
		d->memory = &d->memory_;
		struct stats_memory_entry *s = &d->memory_.swap_;
		if (read_u64(dir, "memory.swap.current", &s->usage) == 0) {
			read_u64(dir, "memory.swap.max", &s->limit);
			d->memory_.swap = s;
		}
	}
	if (read_u64(dir, "pids.current", &d->pids_.current) == 0) {
		if (read_u64(dir, "pids.max", &d->pids_.limit) == 0 && d->pids_.limit == UINT64_MAX)
			d->pids_.limit = 0;
		d->pids = &d->pids_;
	}
	if (blkio_v2(dir, &d->blkio_))
		d->blkio = &d->blkio_;
	hugetlb_stats(dir, true, d);
}

int cgroup_stats(const char *path, struct stats_data *data, struct husk_error *err)
{
	if (path == NULL)
		return err_set(err, ENOTSUP, "the container has no cgroup: no statistics");
	int r = cgroup_path_check(path, err);
	if (r < 0)
		return r;
	if (cgroup_mode() == CGROUP_V2)
		stats_v2(path, data);
	else
		stats_v1(path, data);
	return 0;
}

void stats_release(struct stats_data *data)
{
	struct stats_blkio *b = &data->blkio_;
	stats_blkio_entries *lists[] = {
		&b->ioServiceBytesRecursive, &b->ioServicedRecursive, &b->ioQueueRecursive,
		&b->ioServiceTimeRecursive,  &b->ioWaitTimeRecursive, &b->ioMergedRecursive,
		&b->ioTimeRecursive,	     &b->sectorsRecursive,
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		free(lists[i]->items);
		*lists[i] = (stats_blkio_entries){ 0 };
	}
	for (size_t i = 0; i < data->hugetlb.len; i++)
		free(data->hugetlb.keys[i]);
	free(data->hugetlb.keys);
	free(data->hugetlb.values);
	data->hugetlb.keys = NULL;
	data->hugetlb.values = NULL;
	data->hugetlb.len = 0;
	free(data->cpu_.usage_.percpu.items);
	data->cpu_.usage_.percpu.items = NULL;
}

/* ---- OOM kills ---- */

/* The cgroup's OOM-kill count: oom_kill in memory.events (v2) or in
 * memory.oom_control (v1, kernel 4.13 and later). */
static bool oom_count(const struct oom_watch *w, uint64_t *out)
{
	return read_key(w->dir, w->v2 ? "memory.events" : "memory.oom_control", "oom_kill", out);
}

int oom_watch_open(const char *path, struct oom_watch *w, struct husk_error *err)
{
	*w = (struct oom_watch){ .fd = -1, .control_fd = -1, .v2 = cgroup_mode() == CGROUP_V2 };
	if (path == NULL)
		return err_set(err, ENOTSUP, "the container has no cgroup: no OOM events");
	int r = cgroup_path_check(path, err);
	if (r < 0)
		return r;
	const char *mount = cgroup_mount(w->v2 ? "unified" : "memory");
	if (mount == NULL)
		return err_set(err, ENOTSUP, "no memory cgroup hierarchy is mounted: no OOM events");
	if ((r = fmt_into(w->dir, sizeof(w->dir), err, "cgroupPath", "%s%s", mount, path)) < 0)
		return r;
	w->counted = oom_count(w, &w->seen);
	char file[4300];
	if (w->v2) {
		/* the kernel signals a modification of memory.events on every
		 * event it counts */
		CHECKED_FMT(file, "%s/memory.events", w->dir);
		w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->fd < 0)
			return err_sys(err, errno, "inotify for %s", file);
		if (inotify_add_watch(w->fd, file, IN_MODIFY) < 0) {
			int e = errno;
			oom_watch_close(w);
			return err_sys(err, e, "watch %s", file);
		}
		return 0;
	}
	/* v1: an eventfd the memory controller signals on OOM, registered
	 * as "<eventfd> <memory.oom_control fd>" in cgroup.event_control */
	CHECKED_FMT(file, "%s/memory.oom_control", w->dir);
	w->control_fd = open(file, O_RDONLY | O_CLOEXEC);
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->control_fd < 0 || w->fd < 0) {
		int e = errno;
		oom_watch_close(w);
		return err_sys(err, e, "open %s and an eventfd", file);
	}
	char reg[64], ctl[4300];
	CHECKED_FMT(reg, "%d %d", w->fd, w->control_fd);
	CHECKED_FMT(ctl, "%s/cgroup.event_control", w->dir);
	int cfd = open(ctl, O_WRONLY | O_CLOEXEC);
	r = cfd < 0 ? -errno : write_all(cfd, reg, strlen(reg));
	if (cfd >= 0)
		close(cfd);
	if (r < 0) {
		oom_watch_close(w);
		return err_sys(err, -r, "register for OOM notification in %s", ctl);
	}
	return 0;
}

unsigned oom_watch_check(struct oom_watch *w, bool signalled)
{
	uint64_t now;
	if (!w->counted) {
		/* v1 without the counter: the eventfd says it, unless it fired
		 * because the cgroup went away */
		return signalled && !w->v2 && access(w->dir, F_OK) == 0 ? 1 : 0;
	}
	if (!oom_count(w, &now))
		return 0;
	unsigned kills = now > w->seen ? (unsigned)(now - w->seen) : 0;
	w->seen = now;
	return kills;
}

unsigned oom_watch_wait(struct oom_watch *w, const struct timespec *timeout)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout->tv_sec;
	end.tv_nsec += timeout->tv_nsec;
	if (end.tv_nsec >= 1000000000L)
		end.tv_sec++, end.tv_nsec -= 1000000000L;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return oom_watch_check(w, false);
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		int n = poll(&pfd, 1, (int)ms);
		if (n <= 0)
			continue; /* timeout or EINTR: the deadline decides */
		char drain[4096];
		while (read(w->fd, drain, sizeof(drain)) > 0)
			;
		unsigned kills = oom_watch_check(w, true);
		if (kills > 0)
			return kills;
	}
}

void oom_watch_close(struct oom_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->control_fd >= 0)
		close(w->control_fd);
	w->fd = w->control_fd = -1;
}
