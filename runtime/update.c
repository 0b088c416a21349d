/* husk update: change a running container's linux.resources. The new
 * values go into the cgroup and into the container's config copy, so exec
 * and delete see them. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/systemd.h"

enum {
	OPT_RESOURCES = 'r',
	OPT_MEMORY = 1000,
	OPT_MEMORY_RESERVATION,
	OPT_MEMORY_SWAP,
	OPT_CPU_SHARES,
	OPT_CPU_QUOTA,
	OPT_CPU_PERIOD,
	OPT_CPU_RT_RUNTIME,
	OPT_CPU_RT_PERIOD,
	OPT_CPUSET_CPUS,
	OPT_CPUSET_MEMS,
	OPT_PIDS_LIMIT,
	OPT_BLKIO_WEIGHT,
	OPT_KERNEL_MEMORY_TCP,
};

/* "512M", "1g", "1024", "-1" -> bytes (1024-based units). */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (v == -1 && *end == '\0') {
		*out = -1;
		return 0;
	}
	if (v < 0)
		return -EINVAL;
	int shift = 0;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': shift = 0; break;
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	default: return -EINVAL;
	}
	if (*end != '\0') {
		end++;
		if (shift && (*end == 'b' || *end == 'B'))
			end++;
		if (shift && (*end == 'i' || *end == 'I') && (end[1] == 'b' || end[1] == 'B'))
			end += 2;
	}
	if (*end != '\0' || (shift && v > (INT64_MAX >> shift)))
		return -EINVAL;
	*out = (int64_t)v << shift;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Copy the members the update sets over the container's resources. */
static void merge(struct oci_resources *dst, struct oci_resources *src)
{
#define TAKE_OBJ(member)                                                                           \
	do {                                                                                       \
		if (src->member && dst->member == NULL) {                                          \
			dst->member = src->member;                                                 \
			src->member = NULL;                                                        \
		}                                                                                  \
	} while (0)
#define TAKE(obj, f)                                                                               \
	do {                                                                                       \
		if (src->obj->has_##f) {                                                           \
			dst->obj->f = src->obj->f;                                                 \
			dst->obj->has_##f = true;                                                  \
		}                                                                                  \
	} while (0)
	TAKE_OBJ(memory);
	if (src->memory) {
		TAKE(memory, limit);
		TAKE(memory, reservation);
		TAKE(memory, swap);
		TAKE(memory, swappiness);
		TAKE(memory, disableOOMKiller);
		TAKE(memory, checkBeforeUpdate);
		TAKE(memory, kernelTCP);
	}
	TAKE_OBJ(cpu);
	if (src->cpu) {
		TAKE(cpu, shares);
		TAKE(cpu, quota);
		TAKE(cpu, burst);
		TAKE(cpu, period);
		TAKE(cpu, realtimeRuntime);
		TAKE(cpu, realtimePeriod);
		TAKE(cpu, idle);
		if (src->cpu->cpus) {
			free(dst->cpu->cpus);
			dst->cpu->cpus = src->cpu->cpus;
			src->cpu->cpus = NULL;
		}
		if (src->cpu->mems) {
			free(dst->cpu->mems);
			dst->cpu->mems = src->cpu->mems;
			src->cpu->mems = NULL;
		}
	}
	TAKE_OBJ(pids);
	if (src->pids)
		dst->pids->limit = src->pids->limit;
	TAKE_OBJ(blockIO);
	if (src->blockIO && src->blockIO->has_weight) {
		dst->blockIO->weight = src->blockIO->weight;
		dst->blockIO->has_weight = true;
	}
	if (src->devices.items) {
		/* the update's rules replace the old ones, which src frees */
		__typeof__(dst->devices) old = dst->devices;
		dst->devices = src->devices;
		src->devices = old;
	}
#undef TAKE
#undef TAKE_OBJ
}

static int ensure(void **p, size_t size)
{
	if (*p == NULL)
		*p = calloc(1, size);
	return *p ? 0 : -ENOMEM;
}

static int flag_value(struct oci_resources *u, int opt, const char *arg)
{
	int64_t v = 0;
	int r = opt == OPT_MEMORY || opt == OPT_MEMORY_RESERVATION || opt == OPT_MEMORY_SWAP ||
				opt == OPT_KERNEL_MEMORY_TCP
			? parse_bytes(arg, &v)
			: (opt == OPT_CPUSET_CPUS || opt == OPT_CPUSET_MEMS ? 0 : parse_int(arg, &v));
	if (r < 0)
		return r;
	switch (opt) {
	case OPT_MEMORY: case OPT_MEMORY_RESERVATION: case OPT_MEMORY_SWAP: case OPT_KERNEL_MEMORY_TCP:
		if (ensure((void **)&u->memory, sizeof(*u->memory)) < 0)
			return -ENOMEM;
		if (opt == OPT_MEMORY)
			u->memory->limit = v, u->memory->has_limit = true;
		else if (opt == OPT_MEMORY_RESERVATION)
			u->memory->reservation = v, u->memory->has_reservation = true;
		else if (opt == OPT_MEMORY_SWAP)
			u->memory->swap = v, u->memory->has_swap = true;
		else
			u->memory->kernelTCP = v, u->memory->has_kernelTCP = true;
		return 0;
	case OPT_PIDS_LIMIT:
		if (ensure((void **)&u->pids, sizeof(*u->pids)) < 0)
			return -ENOMEM;
		u->pids->limit = v;
		return 0;
	case OPT_BLKIO_WEIGHT:
		if (v < 0 || v > 1000)
			return -EINVAL;
		if (ensure((void **)&u->blockIO, sizeof(*u->blockIO)) < 0)
			return -ENOMEM;
		u->blockIO->weight = (uint16_t)v, u->blockIO->has_weight = true;
		return 0;
	}
	if (ensure((void **)&u->cpu, sizeof(*u->cpu)) < 0)
		return -ENOMEM;
	struct oci_cpu *c = u->cpu;
	switch (opt) {
	case OPT_CPU_SHARES: if (v < 0) return -EINVAL; c->shares = (uint64_t)v, c->has_shares = true; break;
	case OPT_CPU_QUOTA: c->quota = v, c->has_quota = true; break;
	case OPT_CPU_PERIOD: if (v < 0) return -EINVAL; c->period = (uint64_t)v, c->has_period = true; break;
	case OPT_CPU_RT_RUNTIME: c->realtimeRuntime = v, c->has_realtimeRuntime = true; break;
	case OPT_CPU_RT_PERIOD: if (v < 0) return -EINVAL; c->realtimePeriod = (uint64_t)v, c->has_realtimePeriod = true; break;
	case OPT_CPUSET_CPUS: free(c->cpus); c->cpus = strdup(arg); return c->cpus ? 0 : -ENOMEM;
	case OPT_CPUSET_MEMS: free(c->mems); c->mems = strdup(arg); return c->mems ? 0 : -ENOMEM;
	}
	return 0;
}

static int update_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, OPT_RESOURCES },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
		{ "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
		{ "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
		{ "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
		{ "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
		{ "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
		{ "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
		{ "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
		{ "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
		{ "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
		{ "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
		{ 0 },
	};
	const char *resources_file = NULL;
	struct oci_resources *flags = calloc(1, sizeof(*flags)), *upd = NULL;
	/* declared before the first goto: a jump past an initialisation would
	 * leave the cleanups below with garbage (-Wjump-misses-init) */
	int c, r, rootfd = -1;
	const char *id;
	struct container *ct = NULL;
	struct oci_config *cfg = NULL;
	_cleanup_free_ char *json = NULL;
	size_t len;
	bool new_devices;

	if (flags == NULL)
		return err_sys(err, ENOMEM, "update");
	while ((c = verb_getopt(&verb_update, argc, argv, opts)) != -1) {
		if (c == OPT_RESOURCES) {
			resources_file = optarg;
			continue;
		}
		if (c < OPT_MEMORY || c > OPT_KERNEL_MEMORY_TCP) {
			oci_free(&oci_resources_type, flags);
			return c;
		}
		const char *name = opts[c - OPT_MEMORY + 1].name;
		if ((r = flag_value(flags, c, optarg)) < 0) {
			oci_free(&oci_resources_type, flags);
			return verb_usage_error(&verb_update, "--%s: \"%s\" is not a valid value", name,
						optarg);
		}
	}
	if ((r = verb_need_args(&verb_update, argc, 1, "a container id")) != 0)
		goto out_flags;
	id = argv[optind];
	if (resources_file) {
		_cleanup_free_ char *buf = NULL;
		r = strcmp(resources_file, "-") == 0
			    ? read_fd_all(STDIN_FILENO, "stdin", 1 << 20, &buf, &len, err)
			    : read_file_at(AT_FDCWD, resources_file, 1 << 20, &buf, &len, err);
		if (r < 0 || (r = oci_decode(&oci_resources_type, buf, len, "resources", (void **)&upd,
					     err)) < 0)
			goto out_flags;
	} else {
		upd = calloc(1, sizeof(*upd));
		if (upd == NULL) {
			r = err_sys(err, ENOMEM, "update");
			goto out_flags;
		}
	}
	/* flags win over the file */
	merge(upd, flags);

	if ((r = open_root_for(g, id, &rootfd, err)) < 0)
		goto out_upd;
	if ((r = container_load(rootfd, id, true, &ct, err)) < 0)
		goto out;
	if (ct->status == STATUS_STOPPED) {
		r = err_set(err, EINVAL, "container %s is stopped", id);
		goto out;
	}
	if (ct->state->cgroup_path == NULL || *ct->state->cgroup_path == '\0') {
		r = err_set(err, ENOTSUP, "container %s has no cgroup to update", id);
		goto out;
	}
	if ((r = container_config(ct, &cfg, err)) < 0)
		goto out;
	if (cfg->linux == NULL && (cfg->linux = calloc(1, sizeof(*cfg->linux))) == NULL) {
		r = err_sys(err, ENOMEM, "update");
		goto out;
	}
	if (cfg->linux->resources == NULL &&
	    (cfg->linux->resources = calloc(1, sizeof(*cfg->linux->resources))) == NULL) {
		r = err_sys(err, ENOMEM, "update");
		goto out;
	}
	new_devices = upd->devices.items != NULL;
	merge(cfg->linux->resources, upd);
	/* systemd's unit first (runc's order): systemd writes the files it
	 * owns, husk then writes all of them */
	if (ct->state->systemd_cgroup &&
	    (r = systemd_set_resources(ct->state->cgroup_path, cfg, err)) < 0)
		goto out;
	if ((r = cgroup_apply_resources(ct->state->cgroup_path, cfg->linux->resources, err)) < 0 ||
	    (new_devices && (r = cgroup_apply_devices(ct->state->cgroup_path, cfg, err)) < 0))
		goto out;
	if ((r = oci_encode(&oci_config_type, cfg, true, &json, &len, err)) < 0 ||
	    (r = write_file_atomic(ct->dirfd, CONFIG_COPY, json, len, 0600, err)) < 0)
		goto out;
out:
	container_free(ct);
	close(rootfd);
out_upd:
	oci_free(&oci_resources_type, upd);
out_flags:
	oci_free(&oci_resources_type, flags);
	return r;
}

const struct verb verb_update = {
	.name = "update",
	.run = update_run,
	.summary = "change the resource limits of a running container",
	.usage = "[--resources FILE|-] [FLAGS] ID\n\n"
		 "  -r, --resources FILE   linux.resources JSON (- reads stdin)\n"
		 "  --memory BYTES, --memory-reservation BYTES, --memory-swap BYTES\n"
		 "                         sizes like 512M or 1g; -1 is unlimited\n"
		 "  --cpu-shares N, --cpu-quota N, --cpu-period N\n"
		 "  --cpu-rt-runtime N, --cpu-rt-period N\n"
		 "  --cpuset-cpus LIST, --cpuset-mems LIST\n"
		 "  --pids-limit N         0 or less is unlimited\n"
		 "  --blkio-weight N\n"
		 "  --kernel-memory-tcp BYTES  TCP buffer limit (cgroup v1 kernels that have it)",
};
