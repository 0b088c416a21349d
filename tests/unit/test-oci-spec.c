/* oci-spec decoder/encoder tests: round trips of the sample documents,
 * decoded values of every field group, and the malformed-input corpus
 * (tests/unit/malformed/NAME.json must fail with the message in NAME.err). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "oci-spec/json.h"
#include "oci-spec/runtime-spec.h"
#include "tests/unit/unit.h"

static char datadir[4096], corpusdir[4096];

static const struct oci_type *type_for(const char *name)
{
	if (strncmp(name, "state-", 6) == 0)
		return &oci_state_type;
	if (strncmp(name, "features-", 9) == 0)
		return &oci_features_type;
	return &oci_config_type;
}

static int decode_path(const struct oci_type *type, const char *dir, const char *name, void **out,
		       struct husk_error *err)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return oci_decode_file(type, AT_FDCWD, path, name, out, err);
}

/* decode -> encode -> decode -> encode must give the same bytes, for both
 * the pretty and the compact form. */
static void round_trip(const char *name)
{
	const struct oci_type *type = type_for(name);
	struct husk_error err = { 0 };
	void *first = NULL, *second = NULL;
	char *json1 = NULL, *json2 = NULL;
	size_t len1 = 0, len2 = 0;

	int r = decode_path(type, datadir, name, &first, &err);
	CHECK(r == 0, "%s: %s", name, err.msg);
	if (r < 0)
		return;
	for (int pretty = 0; pretty <= 1; pretty++) {
		CHECK(oci_encode(type, first, pretty, &json1, &len1, &err) == 0, "%s", err.msg);
		r = oci_decode(type, json1, len1, name, &second, &err);
		CHECK(r == 0, "%s re-decode: %s", name, err.msg);
		if (r == 0) {
			CHECK(oci_encode(type, second, pretty, &json2, &len2, &err) == 0, "%s", err.msg);
			CHECK(len1 == len2 && memcmp(json1, json2, len1) == 0, "%s: re-encoding differs:\n%s\n%s",
			      name, json1, json2);
			free(json2);
			oci_free(type, second);
		}
		free(json1);
	}
	oci_free(type, first);
}

static void full_config_values(void)
{
	struct husk_error err = { 0 };
	struct oci_config *c = NULL;

	int r = decode_path(&oci_config_type, datadir, "config-full.json", (void **)&c, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK_STR(c->ociVersion, "1.2.0");
	CHECK(c->root->readonly, "root.readonly");
	struct oci_process *p = c->process;
	CHECK(p->terminal && p->consoleSize->height == 25 && p->consoleSize->width == 80, "consoleSize");
	CHECK(p->user->uid == 1000 && p->user->gid == 1001, "uid/gid");
	CHECK(p->user->has_umask && p->user->umask == 18, "umask");
	CHECK(p->user->additionalGids.len == 2 && p->user->additionalGids.items[1] == 6, "additionalGids");
	CHECK(p->args.len == 3, "args");
	CHECK_STR(p->args.items[2], "echo hi");
	CHECK(p->capabilities->inheritable.items != NULL && p->capabilities->inheritable.len == 0,
	      "an empty array is present");
	CHECK(p->capabilities->ambient.len == 1, "ambient");
	CHECK(p->rlimits.items[0].hard == UINT64_MAX && p->rlimits.items[0].soft == 1024, "rlimits");
	CHECK(p->has_oomScoreAdj && p->oomScoreAdj == -500, "oomScoreAdj");
	CHECK_STR(p->scheduler->policy, "SCHED_DEADLINE");
	CHECK(p->scheduler->nice == -5 && p->scheduler->period == 3000, "scheduler");
	CHECK_STR(p->ioPriority->class, "IOPRIO_CLASS_BE");
	CHECK_STR(p->execCPUAffinity->final, "0-1");
	CHECK_STR(c->domainname, "example.org");
	CHECK(c->mounts.len == 2 && c->mounts.items[1].uidMappings.items[0].hostID == 100000, "mount idmap");
	CHECK(c->hooks->createRuntime.items[0].has_timeout && c->hooks->createRuntime.items[0].timeout == 5,
	      "hook timeout");
	CHECK(c->hooks->poststop.items[0].has_timeout && c->hooks->poststop.items[0].timeout == 0,
	      "a zero timeout is present");
	CHECK_STR(oci_map_get(&c->annotations, "org.example.key"), "value");
	CHECK_STR(oci_map_get(&c->annotations, "empty"), "");

	struct oci_linux *lx = c->linux;
	CHECK_STR(oci_map_get(&lx->sysctl, "net.ipv4.ip_forward"), "1");
	struct oci_resources *res = lx->resources;
	CHECK(res->devices.len == 2 && !res->devices.items[0].allow && !res->devices.items[0].has_major,
	      "device rule 0");
	CHECK(res->devices.items[1].has_minor && res->devices.items[1].minor == 3, "device rule 1");
	CHECK(res->memory->has_limit && res->memory->limit == 536870912, "memory.limit");
	CHECK(res->memory->has_swap && res->memory->swap == -1, "memory.swap");
	CHECK(res->memory->has_swappiness && res->memory->swappiness == 0, "swappiness 0 is present");
	CHECK(res->memory->has_disableOOMKiller && !res->memory->disableOOMKiller, "disableOOMKiller");
	CHECK(res->cpu->has_quota && res->cpu->quota == -1 && res->cpu->shares == 1024, "cpu");
	CHECK(res->cpu->has_idle && res->cpu->idle == 0, "cpu.idle");
	CHECK_STR(res->cpu->cpus, "0-1");
	CHECK(res->pids->limit == 32, "pids");
	CHECK(res->blockIO->weight == 500 && res->blockIO->weightDevice.items[0].leafWeight == 300, "blkio");
	CHECK(res->blockIO->throttleWriteIOPSDevice.items[0].rate == 500, "throttle");
	CHECK(res->hugepageLimits.items[0].limit == 209715200, "hugetlb");
	CHECK(res->network->classID == 1048577 && res->network->priorities.items[0].priority == 500, "net");
	CHECK(res->rdma.len == 1 && res->rdma.values[0].hcaObjects == 10000, "rdma");
	CHECK_STR(oci_map_get(&res->unified, "io.weight"), "default 100");
	CHECK_STR(lx->cgroupsPath, "/husk/box");
	CHECK(lx->namespaces.len == 8, "namespaces");
	CHECK_STR(lx->namespaces.items[1].path, "/var/run/netns/x");
	CHECK(lx->devices.items[0].fileMode == 438 && lx->devices.items[0].has_uid, "devices");
	struct oci_seccomp *sc = lx->seccomp;
	CHECK(sc->has_defaultErrnoRet && sc->defaultErrnoRet == 38, "defaultErrnoRet");
	CHECK(sc->syscalls.items[1].args.items[0].value == UINT64_MAX, "seccomp arg value");
	CHECK(sc->syscalls.items[2].has_errnoRet && sc->syscalls.items[2].errnoRet == 1, "errnoRet");
	CHECK_STR(sc->listenerPath, "/run/agent.sock");
	CHECK_STR(lx->rootfsPropagation, "rslave");
	CHECK_STR(lx->intelRdt->memBwSchema, "MB:0=20");
	CHECK_STR(lx->personality->domain, "LINUX32");
	CHECK(lx->timeOffsets.len == 2 && lx->timeOffsets.values[1].secs == -3600 &&
		      lx->timeOffsets.values[1].nanosecs == 5,
	      "timeOffsets");
	CHECK_STR(lx->netDevices.values[0].name, "ctr1");
	CHECK(lx->intelRdt->schemata.len == 2 && lx->intelRdt->enableMonitoring, "intelRdt 1.3");
	CHECK_STR(lx->intelRdt->schemata.items[1], "MB:0=70");
	CHECK_STR(lx->memoryPolicy->mode, "MPOL_BIND");
	CHECK_STR(lx->memoryPolicy->nodes, "0-3,7");
	CHECK(lx->memoryPolicy->flags.len == 1, "memoryPolicy.flags");
	oci_free(&oci_config_type, c);
}

static void unknown_fields_ignored(void)
{
	struct husk_error err = { 0 };
	struct oci_config *c = NULL;
	int r = decode_path(&oci_config_type, datadir, "config-unknown-fields.json", (void **)&c, &err);
	CHECK(r == 0, "unknown fields must be ignored: %s", err.msg);
	if (r == 0) {
		CHECK_STR(c->root->path, "rootfs");
		CHECK(c->process->args.len == 1, "args");
	}
	oci_free(&oci_config_type, c);
}

static void version_check(void)
{
	struct husk_error err = { 0 };
	CHECK(oci_check_version("config.json", "1.0.0", &err) == 0, "1.0.0");
	CHECK(oci_check_version("config.json", "1.2.1-dev", &err) == 0, "1.2.1-dev");
	CHECK(oci_check_version("config.json", "2.0.0", &err) == -EINVAL, "2.0.0 refused");
	CHECK_STR(err.msg, "config.json: ociVersion: unsupported version \"2.0.0\" (husk supports 1.x)");
	CHECK(oci_check_version("config.json", "1", &err) == -EINVAL, "\"1\" refused");
}

static void oversize_refused(void)
{
	size_t len = JSON_MAX_SIZE + 1;
	char *big = malloc(len);
	struct husk_error err = { 0 };
	void *out = NULL;

	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	CHECK(oci_decode(&oci_config_type, big, len, "config.json", &out, &err) == -EFBIG, "oversize");
	CHECK_STR(err.msg, "config.json: file is too large (4194305 bytes, the limit is 4194304)");
	free(big);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void malformed_corpus(void)
{
	DIR *d = opendir(corpusdir);
	char *names[256];
	size_t n = 0;
	struct dirent *de;

	CHECK(d != NULL, "%s: %s", corpusdir, strerror(errno));
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), compare_names);
	CHECK(n >= 40, "the corpus has %zu inputs, want at least 40", n);

	for (size_t i = 0; i < n; i++) {
		char errname[4096], *want = NULL;
		size_t wlen;
		struct husk_error err = { 0 };
		void *out = NULL;

		snprintf(errname, sizeof(errname), "%s/%.*s.err", corpusdir, (int)(strlen(names[i]) - 5),
			 names[i]);
		if (read_file_at(AT_FDCWD, errname, 65536, &want, &wlen, &err) < 0) {
			CHECK(0, "%s", err.msg);
			free(names[i]);
			continue;
		}
		while (wlen > 0 && want[wlen - 1] == '\n')
			want[--wlen] = '\0';
		int r = decode_path(type_for(names[i]), corpusdir, names[i], &out, &err);
		if (r == 0 && type_for(names[i]) == &oci_config_type) {
			r = oci_check_version(names[i], ((struct oci_config *)out)->ociVersion, &err);
		}
		oci_free(type_for(names[i]), out);
		CHECK(r < 0, "%s: decoded without an error", names[i]);
		if (r < 0)
			CHECK(strcmp(err.msg, want) == 0, "%s:\n  got  %s\n  want %s", names[i], err.msg, want);
		free(want);
		free(names[i]);
	}
}

int main(void)
{
	unit_data_dir(datadir, sizeof(datadir), "data");
	unit_data_dir(corpusdir, sizeof(corpusdir), "malformed");
	UNIT_EACH_SAMPLE(round_trip, "config-full.json", "config-minimal.json",
			 "config-runtime-tools.json", "config-unknown-fields.json", "state-running.json",
			 "features-sample.json");
	full_config_values();
	unknown_fields_ignored();
	version_check();
	oversize_refused();
	malformed_corpus();
	return unit_summary("test-oci-spec");
}
