/* linux.resources -> cgroup files, on v1 (per-controller hierarchies) and
 * v2 (one tree). Every value is validated before the first write so a bad
 * config fails before anything changed; a value the host cannot take is an
 * error naming the JSON field and the file, never skipped. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

struct target {
	const char *path;
	bool v2;
};

/* The file in the hierarchy that holds ctrl (as the mount table says); a
 * controller the host does not mount gets the path it would have, which
 * does not exist. */
static int file_path(const struct target *t, const char *ctrl, const char *file,
		     struct strbuf *out, struct husk_error *err)
{
	const char *mount = cgroup_mount(ctrl);
	sb_reset(out);
	if (mount)
		sb_addf(out, "%s%s/%s", mount, t->path, file);
	else
		sb_addf(out, CGROUP_ROOT "/%s%s/%s", ctrl, t->path, file);
	return sb_check(out, err, "cgroupPath");
}

static int put(const struct target *t, const char *ctrl, const char *file, const char *value,
	       const char *field, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf pathb = STRBUF_INIT;
	int r = file_path(t, ctrl, file, &pathb, err);
	if (r < 0)
		return r;
	const char *path = pathb.buf;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return err_set(err, ENOTSUP, "linux.resources.%s: %s does not exist (no %s controller on "
			       "this host?)", field, path, ctrl);
	if (fd < 0)
		return err_sys(err, errno, "linux.resources.%s: open %s", field, path);
	r = write_all(fd, value, strlen(value));
	close(fd);
	if (r < 0)
		return err_sys(err, -r, "linux.resources.%s: write \"%.200s\" to %s", field, value, path);
	return 0;
}

static int put_num(const struct target *t, const char *ctrl, const char *file, int64_t v,
		   const char *field, struct husk_error *err)
{
	char buf[32];
	if (t->v2 && v == -1)
		return put(t, ctrl, file, "max", field, err);
	int r = fmt_into(buf, sizeof(buf), err, field, "%" PRId64, v);
	return r < 0 ? r : put(t, ctrl, file, buf, field, err);
}

static bool file_exists(const struct target *t, const char *ctrl, const char *file)
{
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	struct husk_error ignored;
	return file_path(t, ctrl, file, &path, &ignored) == 0 && access(path.buf, F_OK) == 0;
}

/* "0-3,5,7-8": numbers and ascending ranges, comma separated. */
static bool cpu_list_valid(const char *s)
{
	if (*s == '\0')
		return true;
	for (;;) {
		char *end;
		if (!isdigit((unsigned char)*s))
			return false;
		unsigned long a = strtoul(s, &end, 10);
		s = end;
		if (*s == '-') {
			if (!isdigit((unsigned char)s[1]))
				return false;
			unsigned long b = strtoul(s + 1, &end, 10);
			if (b < a)
				return false;
			s = end;
		}
		if (*s == '\0')
			return true;
		if (*s != ',')
			return false;
		s++;
	}
}

static bool pagesize_valid(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 20 && (s[n] == 'K' || s[n] == 'M' || s[n] == 'G') && strcmp(s + n + 1, "B") == 0;
}

static int validate(const struct oci_resources *res, bool v2, struct husk_error *err)
{
	const struct oci_memory *m = res->memory;
	if (m) {
		const struct { const char *name; bool has; int64_t v; } vals[] = {
			{ "limit", m->has_limit, m->limit },
			{ "reservation", m->has_reservation, m->reservation },
			{ "swap", m->has_swap, m->swap },
		};
		for (size_t i = 0; i < 3; i++)
			if (vals[i].has && vals[i].v < -1)
				return err_set(err, EINVAL, "linux.resources.memory.%s: %" PRId64
					       " is negative (only -1, unlimited, is allowed)",
					       vals[i].name, vals[i].v);
		if (m->has_swappiness && m->swappiness > 100)
			return err_set(err, EINVAL, "linux.resources.memory.swappiness: %" PRIu64
				       " is above 100", m->swappiness);
		if (m->has_swap && m->swap > 0 && m->has_limit && m->limit > 0 && m->swap < m->limit)
			return err_set(err, EINVAL, "linux.resources.memory.swap: %" PRId64
				       " is below memory.limit %" PRId64 " (swap counts memory+swap)",
				       m->swap, m->limit);
	}
	const struct oci_cpu *c = res->cpu;
	if (c) {
		if (c->cpus && !cpu_list_valid(c->cpus))
			return err_set(err, EINVAL, "linux.resources.cpu.cpus: \"%s\" is not a CPU list",
				       c->cpus);
		if (c->mems && !cpu_list_valid(c->mems))
			return err_set(err, EINVAL, "linux.resources.cpu.mems: \"%s\" is not a node list",
				       c->mems);
		if (c->has_quota && c->quota < -1)
			return err_set(err, EINVAL, "linux.resources.cpu.quota: %" PRId64
				       " is negative (only -1, unlimited, is allowed)", c->quota);
		if (c->has_idle && c->idle != 0 && c->idle != 1)
			return err_set(err, EINVAL, "linux.resources.cpu.idle: %" PRId64
				       " is not 0 or 1", c->idle);
		if (c->has_shares && v2 && c->shares != 0 && (c->shares < 2 || c->shares > 262144))
			return err_set(err, EINVAL, "linux.resources.cpu.shares: %" PRIu64
				       " is outside 2..262144", c->shares);
	}
	const struct oci_block_io *b = res->blockIO;
	if (b) {
		/* the v1 range, which the v2 io.weight conversion maps */
		if (b->has_weight && b->weight != 0 && (b->weight < 10 || b->weight > 1000))
			return err_set(err, EINVAL, "linux.resources.blockIO.weight: %u is outside "
				       "10..1000", b->weight);
		if (b->has_leafWeight && b->leafWeight != 0 &&
		    (b->leafWeight < 10 || b->leafWeight > 1000))
			return err_set(err, EINVAL, "linux.resources.blockIO.leafWeight: %u is outside "
				       "10..1000", b->leafWeight);
		for (size_t i = 0; i < b->weightDevice.len; i++) {
			const struct oci_weight_device *d = &b->weightDevice.items[i];
			if (d->has_weight && (d->weight < 10 || d->weight > 1000))
				return err_set(err, EINVAL, "linux.resources.blockIO.weightDevice[%zu]"
					       ".weight: %u is outside 10..1000", i, d->weight);
		}
	}
	for (size_t i = 0; i < res->hugepageLimits.len; i++) {
		const char *ps = res->hugepageLimits.items[i].pageSize;
		if (ps == NULL || !pagesize_valid(ps))
			return err_set(err, EINVAL, "linux.resources.hugepageLimits[%zu].pageSize: \"%s\" is "
				       "not a size like 2MB", i, ps ? ps : "");
	}
	for (size_t i = 0; i < res->rdma.len; i++) {
		/* a device name: the kernel's IB_DEVICE_NAME_MAX is 64 */
		const char *k = res->rdma.keys[i];
		if (*k == '\0' || strlen(k) > 64 || strpbrk(k, " \n"))
			return err_set(err, EINVAL, "linux.resources.rdma: \"%.80s%s\" is not an RDMA "
				       "device name (at most 64 bytes, no spaces)", k,
				       strlen(k) > 80 ? "..." : "");
	}
	if (res->network) {
		for (size_t i = 0; i < res->network->priorities.len; i++) {
			const char *n = res->network->priorities.items[i].name;
			if (n == NULL || *n == '\0' || strlen(n) >= 16 || strpbrk(n, " \n/"))
				return err_set(err, EINVAL, "linux.resources.network.priorities[%zu].name: "
					       "\"%.80s\" is not an interface name", i, n ? n : "");
		}
	}
	if (res->unified.len > 0 && !v2)
		return err_set(err, ENOTSUP, "linux.resources.unified: needs cgroup v2");
	for (size_t i = 0; i < res->unified.len; i++) {
		const char *k = res->unified.keys[i];
		if (*k == '\0' || strchr(k, '/') || strstr(k, "..") || strchr(k, '.') == NULL ||
		    strlen(k) > NAME_MAX)
			return err_set(err, EINVAL, "linux.resources.unified: \"%.200s\" is not a cgroup "
				       "file name", k);
	}
	return 0;
}

static int64_t read_num(const struct target *t, const char *ctrl, const char *file)
{
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct husk_error ignored;
	if (file_path(t, ctrl, file, &path, &ignored) < 0 ||
	    read_file_at(AT_FDCWD, path.buf, 64, &buf, &len, &ignored) < 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static int apply_memory(const struct target *t, const struct oci_memory *m, struct husk_error *err)
{
	int r;
	/* checkBeforeUpdate: a limit below what the cgroup already uses is
	 * refused, rather than reclaimed down to or OOM-killed */
	if (m->has_checkBeforeUpdate && m->checkBeforeUpdate && m->has_limit && m->limit > 0) {
		const char *usage = t->v2 ? "memory.current" : "memory.usage_in_bytes";
		int64_t used = read_num(t, "memory", usage);
		if (used < 0)
			return err_set(err, ENOTSUP, "linux.resources.memory.checkBeforeUpdate: cannot "
				       "read the cgroup's %s", usage);
		if (used > m->limit)
			return err_set(err, EBUSY, "linux.resources.memory.limit: %" PRId64 " is below "
				       "the container's current memory usage %" PRId64
				       " (checkBeforeUpdate)", m->limit, used);
	}
	if (m->has_kernel)
		log_debug("linux.resources.memory.kernel: ignored (deprecated by the kernel)");
	/* kernelTCP: v1 only, and only where the kernel still has the file
	 * (as runc 1.1, 0 leaves it alone); elsewhere a warning, not an error */
	bool kernel_tcp = m->has_kernelTCP && m->kernelTCP != 0;
	if (kernel_tcp && (t->v2 || !file_exists(t, "memory", "memory.kmem.tcp.limit_in_bytes"))) {
		log_warn("linux.resources.memory.kernelTCP: ignored: %s",
			 t->v2 ? "cgroup v2 has no TCP memory limit"
			       : "this kernel has no memory.kmem.tcp.limit_in_bytes");
		kernel_tcp = false;
	}
	if (m->has_reservation &&
	    (r = put_num(t, "memory", t->v2 ? "memory.low" : "memory.soft_limit_in_bytes",
			 m->reservation, "memory.reservation", err)) < 0)
		return r;
	if (t->v2) {
		if (m->has_limit && (r = put_num(t, "memory", "memory.max", m->limit,
						 "memory.limit", err)) < 0)
			return r;
		if (m->has_swap) {
			int64_t sw = m->swap;
			if (sw > 0 && m->has_limit && m->limit > 0)
				sw = m->swap - m->limit;
			else if (sw > 0)
				return err_set(err, EINVAL, "linux.resources.memory.swap: needs "
					       "memory.limit on cgroup v2 (swap counts memory+swap)");
			if ((r = put_num(t, "memory", "memory.swap.max", sw, "memory.swap", err)) < 0)
				return r;
		}
		if (m->has_swappiness)
			return err_set(err, ENOTSUP, "linux.resources.memory.swappiness: cgroup v2 has no "
				       "per-cgroup swappiness");
		if (m->has_disableOOMKiller && m->disableOOMKiller)
			return err_set(err, ENOTSUP, "linux.resources.memory.disableOOMKiller: cgroup v2 "
				       "cannot disable the OOM killer");
		return 0;
	}
	/* memory.limit <= memsw.limit at every step: raise memsw first, lower it last */
	if (m->has_swap && !file_exists(t, "memory", "memory.memsw.limit_in_bytes"))
		return put(t, "memory", "memory.memsw.limit_in_bytes", "", "memory.swap", err);
	bool swap_first = false;
	if (m->has_swap && m->has_limit) {
		int64_t cur = read_num(t, "memory", "memory.memsw.limit_in_bytes");
		swap_first = m->limit == -1 || (cur >= 0 && m->limit > cur);
	} else if (m->has_swap) {
		swap_first = true;
	}
	if (swap_first && (r = put_num(t, "memory", "memory.memsw.limit_in_bytes", m->swap,
				       "memory.swap", err)) < 0)
		return r;
	if (m->has_limit && (r = put_num(t, "memory", "memory.limit_in_bytes", m->limit,
					 "memory.limit", err)) < 0)
		return r;
	if (m->has_swap && !swap_first &&
	    (r = put_num(t, "memory", "memory.memsw.limit_in_bytes", m->swap, "memory.swap", err)) < 0)
		return r;
	if (kernel_tcp && (r = put_num(t, "memory", "memory.kmem.tcp.limit_in_bytes", m->kernelTCP,
				       "memory.kernelTCP", err)) < 0)
		return r;
	if (m->has_swappiness && (r = put_num(t, "memory", "memory.swappiness",
					      (int64_t)m->swappiness, "memory.swappiness", err)) < 0)
		return r;
	if (m->has_disableOOMKiller && m->disableOOMKiller &&
	    (r = put(t, "memory", "memory.oom_control", "1", "memory.disableOOMKiller", err)) < 0)
		return r;
	return 0;
}

static int apply_cpu(const struct target *t, const struct oci_cpu *c, struct husk_error *err)
{
	int r;
	char buf[64];
	if (t->v2) {
		if (c->has_shares && c->shares != 0) {
			uint64_t weight = 1 + ((c->shares - 2) * 9999) / 262142;
			if ((r = put_num(t, "cpu", "cpu.weight", (int64_t)weight, "cpu.shares", err)) < 0)
				return r;
		}
		if ((c->has_quota && c->quota != 0) || (c->has_period && c->period != 0)) {
			uint64_t period = c->has_period && c->period ? c->period : 100000;
			if (c->has_quota && c->quota > 0)
				r = fmt_into(buf, sizeof(buf), err, "linux.resources.cpu.quota",
					     "%" PRId64 " %" PRIu64, c->quota, period);
			else
				r = fmt_into(buf, sizeof(buf), err, "linux.resources.cpu.period",
					     "max %" PRIu64, period);
			if (r < 0 || (r = put(t, "cpu", "cpu.max", buf, c->has_quota ? "cpu.quota" : "cpu.period",
				     err)) < 0)
				return r;
		}
		if (c->has_burst && (r = put_num(t, "cpu", "cpu.max.burst", (int64_t)c->burst,
						 "cpu.burst", err)) < 0)
			return r;
		if ((c->has_realtimeRuntime && c->realtimeRuntime != 0) ||
		    (c->has_realtimePeriod && c->realtimePeriod != 0))
			return err_set(err, ENOTSUP, "linux.resources.cpu.realtimeRuntime: cgroup v2 has "
				       "no realtime CPU controller");
	} else {
		if (c->has_shares && c->shares != 0 &&
		    (r = put_num(t, "cpu", "cpu.shares", (int64_t)c->shares, "cpu.shares", err)) < 0)
			return r;
		/* The kernel judges each write against the other value as it is:
		 * a shorter period with the old quota can exceed what the parent
		 * allows (EINVAL) where the new pair would not. Then the quota
		 * goes first and the period after it, as runc does. */
		bool period_again = false;
		bool set_quota = c->has_quota && c->quota != 0;
		if (c->has_period && c->period != 0 &&
		    (r = put_num(t, "cpu", "cpu.cfs_period_us", (int64_t)c->period, "cpu.period",
				 err)) < 0) {
			if (r != -EINVAL || !set_quota)
				return r;
			period_again = true;
		}
		if (set_quota &&
		    (r = put_num(t, "cpu", "cpu.cfs_quota_us", c->quota, "cpu.quota", err)) < 0)
			return r;
		if (period_again &&
		    (r = put_num(t, "cpu", "cpu.cfs_period_us", (int64_t)c->period, "cpu.period",
				 err)) < 0)
			return r;
		if (c->has_burst && (r = put_num(t, "cpu", "cpu.cfs_burst_us", (int64_t)c->burst,
						 "cpu.burst", err)) < 0)
			return r;
		if (c->has_realtimePeriod && c->realtimePeriod != 0 &&
		    (r = put_num(t, "cpu", "cpu.rt_period_us", (int64_t)c->realtimePeriod,
				 "cpu.realtimePeriod", err)) < 0)
			return r;
		if (c->has_realtimeRuntime && c->realtimeRuntime != 0 &&
		    (r = put_num(t, "cpu", "cpu.rt_runtime_us", c->realtimeRuntime,
				 "cpu.realtimeRuntime", err)) < 0)
			return r;
	}
	if (c->has_idle && (r = put_num(t, "cpu", "cpu.idle", c->idle, "cpu.idle", err)) < 0)
		return r;
	if (c->cpus && *c->cpus && (r = put(t, "cpuset", "cpuset.cpus", c->cpus, "cpu.cpus", err)) < 0)
		return r;
	if (c->mems && *c->mems && (r = put(t, "cpuset", "cpuset.mems", c->mems, "cpu.mems", err)) < 0)
		return r;
	return 0;
}

static int apply_throttles(const struct target *t, const oci_throttle_devices *devs,
			   const char *v1file, const char *v2key, const char *field,
			   struct husk_error *err)
{
	char buf[128], name[96];
	for (size_t i = 0; i < devs->len; i++) {
		const struct oci_throttle_device *d = &devs->items[i];
		int r = fmt_into(name, sizeof(name), err, "linux.resources.blockIO", "blockIO.%s[%zu]",
				 field, i);
		if (r < 0)
			return r;
		if (t->v2)
			r = fmt_into(buf, sizeof(buf), err, name, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
				     d->major, d->minor, v2key, d->rate);
		else
			r = fmt_into(buf, sizeof(buf), err, name, "%" PRId64 ":%" PRId64 " %" PRIu64,
				     d->major, d->minor, d->rate);
		if (r < 0)
			return r;
		r = put(t, t->v2 ? "io" : "blkio", t->v2 ? "io.max" : v1file, buf, name, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* v2's io.weight spans 1..10000: the v1 10..1000 maps onto it as the
 * ecosystem (runc, crun) maps it; the BFQ files keep the v1 range. */
static int64_t weight_value(bool to_io_weight, uint16_t w)
{
	return to_io_weight ? 1 + ((int64_t)w - 10) * 9999 / 990 : (int64_t)w;
}

static int apply_blkio(const struct target *t, const struct oci_block_io *b, struct husk_error *err)
{
	const char *ctrl = t->v2 ? "io" : "blkio";
	const char *weight_file = t->v2 ? "io.weight" : "blkio.weight";
	const char *bfq_file = t->v2 ? "io.bfq.weight" : "blkio.bfq.weight";
	/* without CFQ the weight lives in the BFQ file only */
	if (!file_exists(t, ctrl, weight_file) && file_exists(t, ctrl, bfq_file))
		weight_file = bfq_file;
	bool convert = t->v2 && strcmp(weight_file, "io.weight") == 0;
	char buf[128], name[96];
	int r;
	if (b->has_weight && b->weight != 0 &&
	    (r = put_num(t, ctrl, weight_file, weight_value(convert, b->weight), "blockIO.weight", err)) < 0)
		return r;
	if (b->has_leafWeight && b->leafWeight != 0) {
		if (t->v2)
			return err_set(err, ENOTSUP, "linux.resources.blockIO.leafWeight: cgroup v2 has "
				       "no leaf weight");
		if ((r = put_num(t, ctrl, "blkio.leaf_weight", b->leafWeight, "blockIO.leafWeight",
				 err)) < 0)
			return r;
	}
	/* per-device weights: v2 takes them in the weight file; v1 has its
	 * own file, the BFQ one where only BFQ is there */
	const char *dev_file = weight_file;
	if (!t->v2) {
		dev_file = "blkio.weight_device";
		if (!file_exists(t, ctrl, dev_file) && file_exists(t, ctrl, "blkio.bfq.weight_device"))
			dev_file = "blkio.bfq.weight_device";
	}
	for (size_t i = 0; i < b->weightDevice.len; i++) {
		const struct oci_weight_device *d = &b->weightDevice.items[i];
		if ((r = fmt_into(name, sizeof(name), err, "linux.resources.blockIO",
				  "blockIO.weightDevice[%zu]", i)) < 0)
			return r;
		if (d->has_weight) {
			if ((r = fmt_into(buf, sizeof(buf), err, name, "%" PRId64 ":%" PRId64 " %" PRId64,
					  d->major, d->minor, weight_value(convert, d->weight))) < 0 ||
			    (r = put(t, ctrl, dev_file, buf, name, err)) < 0)
				return r;
		}
		if (d->has_leafWeight) {
			if (t->v2)
				return err_set(err, ENOTSUP, "linux.resources.%s.leafWeight: cgroup v2 "
					       "has no leaf weight", name);
			if ((r = fmt_into(buf, sizeof(buf), err, name, "%" PRId64 ":%" PRId64 " %u",
					  d->major, d->minor, d->leafWeight)) < 0 ||
			    (r = put(t, ctrl, "blkio.leaf_weight_device", buf, name, err)) < 0)
				return r;
		}
	}
	if ((r = apply_throttles(t, &b->throttleReadBpsDevice, "blkio.throttle.read_bps_device",
				 "rbps", "throttleReadBpsDevice", err)) < 0 ||
	    (r = apply_throttles(t, &b->throttleWriteBpsDevice, "blkio.throttle.write_bps_device",
				 "wbps", "throttleWriteBpsDevice", err)) < 0 ||
	    (r = apply_throttles(t, &b->throttleReadIOPSDevice, "blkio.throttle.read_iops_device",
				 "riops", "throttleReadIOPSDevice", err)) < 0 ||
	    (r = apply_throttles(t, &b->throttleWriteIOPSDevice, "blkio.throttle.write_iops_device",
				 "wiops", "throttleWriteIOPSDevice", err)) < 0)
		return r;
	return 0;
}

static int apply_rest(const struct target *t, const struct oci_resources *res,
		      struct husk_error *err)
{
	char file[128], name[96], buf[256];
	int r;
	if (res->pids) {
		if ((r = fmt_into(buf, sizeof(buf), err, "linux.resources.pids.limit", "%" PRId64,
				  res->pids->limit)) < 0)
			return r;
		if ((r = put(t, "pids", "pids.max", res->pids->limit > 0 ? buf : "max", "pids.limit",
			       err)) < 0)
			return r;
	}
	for (size_t i = 0; i < res->hugepageLimits.len; i++) {
		const struct oci_hugepage_limit *h = &res->hugepageLimits.items[i];
		if ((r = fmt_into(name, sizeof(name), err, "linux.resources.hugepageLimits",
				  "hugepageLimits[%zu]", i)) < 0 ||
		    (r = fmt_into(file, sizeof(file), err, name, "hugetlb.%s.%s", h->pageSize,
				  t->v2 ? "max" : "limit_in_bytes")) < 0 ||
		    (r = put_num(t, "hugetlb", file, (int64_t)h->limit, name, err)) < 0)
			return r;
	}
	if (res->network) {
		if (res->network->has_classID) {
			if (t->v2)
				return err_set(err, ENOTSUP, "linux.resources.network.classID: cgroup v2 "
					       "has no net_cls controller");
			if ((r = put_num(t, "net_cls", "net_cls.classid", res->network->classID,
					 "network.classID", err)) < 0)
				return r;
		}
		for (size_t i = 0; i < res->network->priorities.len; i++) {
			const struct oci_interface_priority *p = &res->network->priorities.items[i];
			if ((r = fmt_into(name, sizeof(name), err, "linux.resources.network",
					  "network.priorities[%zu]", i)) < 0)
				return r;
			if (t->v2)
				return err_set(err, ENOTSUP, "linux.resources.%s: cgroup v2 has no "
					       "net_prio controller", name);
			if ((r = fmt_into(buf, sizeof(buf), err, name, "%s %u", p->name ? p->name : "",
					  p->priority)) < 0 ||
			    (r = put(t, "net_prio", "net_prio.ifpriomap", buf, name, err)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < res->rdma.len; i++) {
		const struct oci_rdma *d = &res->rdma.values[i];
		_cleanup_strbuf_ struct strbuf line = STRBUF_INIT, field = STRBUF_INIT;
		sb_add(&line, res->rdma.keys[i]);
		if (d->has_hcaHandles)
			sb_addf(&line, " hca_handle=%u", d->hcaHandles);
		if (d->has_hcaObjects)
			sb_addf(&line, " hca_object=%u", d->hcaObjects);
		sb_addf(&field, "rdma.%s", res->rdma.keys[i]);
		if ((r = sb_check(&line, err, "linux.resources.rdma")) < 0 ||
		    (r = sb_check(&field, err, "linux.resources.rdma")) < 0 ||
		    (r = put(t, "rdma", "rdma.max", line.buf, field.buf, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < res->unified.len; i++) {
		_cleanup_strbuf_ struct strbuf field = STRBUF_INIT;
		sb_addf(&field, "unified.%s", res->unified.keys[i]);
		if ((r = sb_check(&field, err, "linux.resources.unified")) < 0)
			return r;
		if ((r = put(t, "", res->unified.keys[i], res->unified.values[i], field.buf, err)) < 0)
			return r;
	}
	return 0;
}

/* Enable ctrl in cgroup.subtree_control of every ancestor of path. */
static int v2_enable(const char *path, const char *ctrl, const char *field, struct husk_error *err)
{
	const char *mount = cgroup_mount(ctrl);
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT, value = STRBUF_INIT;
	sb_addf(&value, "+%s", ctrl);
	int r = sb_check(&value, err, field);
	if (r < 0)
		return r;
	/* each ancestor: the mount, then path up to (not including) its last component */
	const char *last = strrchr(path, '/');
	for (const char *p = path;; p = strchr(p + 1, '/')) {
		sb_reset(&file);
		sb_addf(&file, "%s%.*s/cgroup.subtree_control", mount ? mount : CGROUP_ROOT,
			(int)(p - path), path);
		if ((r = sb_check(&file, err, "cgroupPath")) < 0)
			return r;
		int fd = open(file.buf, O_WRONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : write_all(fd, value.buf, value.len);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			return err_sys(err, -r, "linux.resources.%s: enable the %s controller in %s",
				       field, ctrl, file.buf);
		if (p == last || last == NULL)
			break;
	}
	return 0;
}

static int v2_enable_needed(const char *path, const struct oci_resources *res,
			    struct husk_error *err)
{
	struct { bool need; const char *ctrl, *field; } want[] = {
		{ res->memory != NULL, "memory", "memory" },
		{ res->cpu != NULL, "cpu", "cpu" },
		{ res->cpu && ((res->cpu->cpus && *res->cpu->cpus) || (res->cpu->mems && *res->cpu->mems)),
		  "cpuset", "cpu.cpus" },
		{ res->pids != NULL, "pids", "pids" },
		{ res->blockIO != NULL, "io", "blockIO" },
		{ res->hugepageLimits.len > 0, "hugetlb", "hugepageLimits" },
		{ res->rdma.len > 0, "rdma", "rdma" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!want[i].need)
			continue;
		int r = v2_enable(path, want[i].ctrl, want[i].field, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < res->unified.len; i++) {
		char ctrl[64];
		const char *k = res->unified.keys[i];
		_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
		sb_addf(&name, "unified.%s", k);
		int r = sb_check(&name, err, "linux.resources.unified");
		if (r < 0 || (r = fmt_into(ctrl, sizeof(ctrl), err, name.buf, "%.*s",
					   (int)strcspn(k, "."), k)) < 0)
			return r;
		if (strcmp(ctrl, "cgroup") == 0)
			continue;
		if ((r = v2_enable(path, ctrl, name.buf, err)) < 0)
			return r;
	}
	return 0;
}

int cgroup_check_resources(const struct oci_resources *res, struct husk_error *err)
{
	return res ? validate(res, cgroup_mode() == CGROUP_V2, err) : 0;
}

int cgroup_apply_resources(const char *path, const struct oci_resources *res,
			   struct husk_error *err)
{
	if (res == NULL)
		return 0;
	struct target t = { .path = path, .v2 = cgroup_mode() == CGROUP_V2 };
	int r = cgroup_path_check(path, err);
	if (r < 0 || (r = validate(res, t.v2, err)) < 0)
		return r;
	if (r < 0)
		return r;
	if (t.v2 && (r = v2_enable_needed(path, res, err)) < 0)
		return r;
	if (res->memory && (r = apply_memory(&t, res->memory, err)) < 0)
		return r;
	if (res->cpu && (r = apply_cpu(&t, res->cpu, err)) < 0)
		return r;
	if (res->blockIO && (r = apply_blkio(&t, res->blockIO, err)) < 0)
		return r;
	return apply_rest(&t, res, err);
}
