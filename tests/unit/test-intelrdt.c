/* runtime/linux/intelrdt.c against a resctrl tree of the test's own (this
 * host may have no resctrl): which group a config puts the pid in, what it
 * writes to schemata, what it refuses, what it makes and removes. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/linux/intelrdt.h"
#include "tests/unit/unit.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL, "create %s: %s", path, strerror(errno));
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void dir(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* the file's text, "" when it does not exist */
static const char *get(const char *rel)
{
	static char buf[8192];
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	buf[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	return buf;
}

static bool exists(const char *rel)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0;
}

static void rm(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
}

static struct oci_intel_rdt rdt_of(const char *clos, const char *l3, const char *mb)
{
	return (struct oci_intel_rdt){ .closID = (char *)clos, .l3CacheSchema = (char *)l3,
				       .memBwSchema = (char *)mb };
}

static void schemata_text(void)
{
	struct husk_error err = { 0 };
	char out[INTELRDT_SCHEMATA_MAX + 2];
	const char *volatile out_p = out;
	char *lines[] = { "L2:0=f", "MB:0=70" };
	struct oci_intel_rdt r = rdt_of(NULL, "L3:0=7f0;1=1f\nMB:0=10", "MB:0=20");
	/* l3's MB: line gives way to memBwSchema, and the schemata lines come last */
	r.schemata = (oci_strings){ lines, 2 };
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) == 0, "%s", err.msg);
	CHECK_STR((const char *)out_p, "L3:0=7f0;1=1f\nMB:0=20\nL2:0=f\nMB:0=70\n");
	/* without memBwSchema the MB: line of l3CacheSchema stays */
	r = rdt_of(NULL, "L3:0=7f0\nMB:0=10", NULL);
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) == 0, "%s", err.msg);
	CHECK_STR((const char *)out_p, "L3:0=7f0\nMB:0=10\n");
	r = rdt_of(NULL, NULL, "L3:0=1");
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) < 0, "memBwSchema without MB:");
	CHECK(strstr(err.msg, "linux.intelRdt.memBwSchema: \"L3:0=1\" must be one line starting with "
			      "\"MB:\"") != NULL, "%s", err.msg);
	r = rdt_of(NULL, NULL, "MB:0=1\nL3:0=1");
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) < 0, "memBwSchema of two lines");
	char *bad[] = { "L3:0=1\nMB:0=2" };
	r = rdt_of(NULL, NULL, NULL);
	r.schemata = (oci_strings){ bad, 1 };
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) < 0, "a schemata line with a newline");
	CHECK(strstr(err.msg, "linux.intelRdt.schemata[0]") != NULL, "%s", err.msg);
	/* hostile: more than the kernel reads in one write */
	static char big[INTELRDT_SCHEMATA_MAX + 100];
	memset(big, 'f', sizeof(big) - 1);
	memcpy(big, "L3:0=", 5);
	r = rdt_of(NULL, big, NULL);
	CHECK(intelrdt_schemata(&r, out, sizeof(out), &err) < 0, "a schema beyond one page");
	CHECK(strstr(err.msg, "more than the 4095 bytes") != NULL, "%s", err.msg);
}

static void no_resctrl(void)
{
	struct husk_error err = { 0 };
	struct oci_intel_rdt r = rdt_of(NULL, "L3:0=f", NULL);
	char empty[] = "/tmp/husk-rdt-empty.XXXXXX";
	CHECK(mkdtemp(empty) != NULL, "mkdtemp");
	CHECK(intelrdt_validate(empty, &r, "c1", &err) < 0, "a tree without info/");
	CHECK(strstr(err.msg, "linux.intelRdt: ") && strstr(err.msg, "is not a resctrl filesystem"),
	      "%s", err.msg);
	rmdir(empty);
	/* this host's mount: the error names the field when there is none */
	char found[4096];
	if (intelrdt_find_root(found, sizeof(found)) == -ENOENT) {
		CHECK(intelrdt_validate(NULL, &r, "c1", &err) < 0, "no resctrl mounted");
		CHECK_STR(err.msg, "linux.intelRdt: no resctrl filesystem is mounted on this host (Intel "
				   "RDT is not supported or not enabled)");
	}
}

static void groups(void)
{
	struct husk_error err = { 0 };
	struct oci_intel_rdt r;

	/* no closID: a group named after the container, made, schema written */
	r = rdt_of(NULL, "L3:0=7f0", "MB:0=20");
	CHECK(intelrdt_validate(root, &r, "c1", &err) == 0, "%s", err.msg);
	CHECK(intelrdt_apply(root, &r, "c1", 4242, &err) == 0, "%s", err.msg);
	CHECK_STR(get("c1/schemata"), "L3:0=7f0\nMB:0=20\n");
	CHECK_STR(get("c1/tasks"), "4242\n");
	/* remove takes it (resctrl's rmdir ignores its files; a plain tree's does not) */
	rm("c1/schemata");
	rm("c1/tasks");
	intelrdt_remove(root, &r, "c1");
	CHECK(!exists("c1"), "the container's group is removed");

	/* no closID, no schema: the group is still the container's own */
	r = rdt_of(NULL, NULL, NULL);
	CHECK(intelrdt_apply(root, &r, "c2", 7, &err) == 0, "%s", err.msg);
	CHECK_STR(get("c2/tasks"), "7\n");
	CHECK(!exists("c2/schemata"), "no schema, no schemata write");

	/* a closID group that exists with the same schema (as the kernel
	 * prints it: padded, zero-led): joined, its schemata untouched */
	dir("shared");
	dir("shared/mon_groups");
	put("shared/schemata", "    L3:0=07f0;1=1f\n    MB:0= 20;1= 70\n");
	r = rdt_of("shared", "L3:0=7F0", "MB:0=20");
	r.enableMonitoring = true;
	CHECK(intelrdt_validate(root, &r, "c3", &err) == 0, "%s", err.msg);
	CHECK(intelrdt_apply(root, &r, "c3", 99, &err) == 0, "%s", err.msg);
	CHECK_STR(get("shared/tasks"), "99\n");
	CHECK_STR(get("shared/schemata"), "    L3:0=07f0;1=1f\n    MB:0= 20;1= 70\n");
	CHECK_STR(get("shared/mon_groups/c3/tasks"), "99\n");
	/* remove: the monitoring group goes, the shared group stays */
	rm("shared/mon_groups/c3/tasks");
	intelrdt_remove(root, &r, "c3");
	CHECK(!exists("shared/mon_groups/c3"), "the monitoring group is removed");
	CHECK(exists("shared"), "a closID group is never removed");

	/* ... and with another schema: refused, naming it, nothing written */
	put("shared/tasks", "");
	r = rdt_of("shared", "L3:0=3", NULL);
	CHECK(intelrdt_apply(root, &r, "c4", 5, &err) < 0, "a mismatching schema");
	CHECK(strstr(err.msg, "resctrl group \"shared\" exists with another schema: \"L3:0=3\" asked, "
			      "its schemata file has 7f0") != NULL, "%s", err.msg);
	CHECK_STR(get("shared/tasks"), "");
	char *lines[] = { "L2:0=f" };
	r = rdt_of("shared", NULL, NULL);
	r.schemata = (oci_strings){ lines, 1 };
	CHECK(intelrdt_apply(root, &r, "c4", 5, &err) < 0, "a resource the group lacks");
	CHECK(strstr(err.msg, "no such domain") != NULL, "%s", err.msg);

	/* a closID without a schema must exist */
	r = rdt_of("nosuch", NULL, NULL);
	CHECK(intelrdt_validate(root, &r, "c5", &err) < 0, "missing pre-configured group");
	CHECK(strstr(err.msg, "linux.intelRdt.closID: no resctrl group \"nosuch\" exists") != NULL,
	      "%s", err.msg);
	/* closIDs that are not a group of the root */
	const char *bad[] = { "", "..", "a/b", "info", "mon_groups", "mon_data" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = rdt_of(bad[i], "L3:0=1", NULL);
		CHECK(intelrdt_validate(root, &r, "c6", &err) < 0, "closID \"%s\"", bad[i]);
		CHECK(strstr(err.msg, "linux.intelRdt.closID: ") != NULL, "%s", err.msg);
	}
	/* monitoring needs info/L3_MON */
	r = rdt_of(NULL, NULL, NULL);
	r.enableCMT = true; /* the 1.2 spelling counts */
	rmdir(strcat(strcpy((char[128]){ 0 }, root), "/info/L3_MON"));
	CHECK(intelrdt_validate(root, &r, "c7", &err) < 0, "monitoring without L3_MON");
	CHECK(strstr(err.msg, "linux.intelRdt.enableMonitoring: this host's resctrl has no "
			      "monitoring") != NULL, "%s", err.msg);
	/* monitoring in a group without mon_groups: an error naming the field */
	dir("info/L3_MON");
	r = rdt_of("fresh", "L3:0=1", NULL);
	r.enableMonitoring = true;
	CHECK(intelrdt_apply(root, &r, "c8", 5, &err) < 0, "a new group without mon_groups");
	CHECK(strstr(err.msg, "linux.intelRdt.enableMonitoring: open") != NULL, "%s", err.msg);
}

/* Groups made by someone else: a group already named after the container
 * (no closID), or a monitoring group already named after it, is neither
 * joined nor, on delete or a failed create, removed. */
static void not_ours(void)
{
	struct husk_error err = { 0 };
	struct oci_intel_rdt r;

	dir("theirs");
	put("theirs/tasks", "1\n");
	put("theirs/schemata", "L3:0=f\n");
	r = rdt_of(NULL, NULL, NULL);
	CHECK(intelrdt_apply(root, &r, "theirs", 77, &err) < 0, "a group named after the id exists");
	CHECK(strstr(err.msg, "linux.intelRdt: a resctrl group named \"theirs\" exists already") !=
		      NULL,
	      "%s", err.msg);
	CHECK_STR(get("theirs/tasks"), "1\n");
	r = rdt_of(NULL, "L3:0=f", NULL);
	CHECK(intelrdt_apply(root, &r, "theirs", 77, &err) < 0, "... with the same schema");
	CHECK_STR(get("theirs/tasks"), "1\n");
	CHECK(exists("theirs"), "someone else's group stays");
	/* a container named like one of the root's own entries */
	r = rdt_of(NULL, NULL, NULL);
	CHECK(intelrdt_apply(root, &r, "info", 77, &err) < 0, "a container named info");
	CHECK(!exists("info/tasks"), "nothing written in info/");

	/* a monitoring group of that name in the closID group */
	dir("pool");
	dir("pool/mon_groups");
	dir("pool/mon_groups/c9");
	put("pool/mon_groups/c9/tasks", "1\n");
	r = rdt_of("pool", NULL, NULL);
	r.enableMonitoring = true;
	CHECK(intelrdt_apply(root, &r, "c9", 77, &err) < 0, "a monitoring group named after the id");
	CHECK(strstr(err.msg, "linux.intelRdt.enableMonitoring: a monitoring group named \"c9\" "
			      "exists already") != NULL,
	      "%s", err.msg);
	CHECK_STR(get("pool/mon_groups/c9/tasks"), "1\n");
}

/* exec: a process entering the container joins its groups (as runc's exec
 * does), making nothing */
static void join_exec(void)
{
	struct husk_error err = { 0 };
	struct oci_intel_rdt r = rdt_of(NULL, "L3:0=f", NULL);
	r.enableMonitoring = true;
	dir("cx");
	dir("cx/mon_groups");
	dir("cx/mon_groups/cx");
	put("cx/tasks", "");
	put("cx/mon_groups/cx/tasks", "");
	CHECK(intelrdt_join(root, &r, "cx", 4343, &err) == 0, "%s", err.msg);
	CHECK_STR(get("cx/tasks"), "4343\n");
	CHECK_STR(get("cx/mon_groups/cx/tasks"), "4343\n");
	CHECK_STR(get("cx/schemata"), ""); /* no schema written by exec */
	/* a closID group */
	r = rdt_of("pool2", NULL, NULL);
	dir("pool2");
	put("pool2/tasks", "");
	CHECK(intelrdt_join(root, &r, "cy", 55, &err) == 0, "%s", err.msg);
	CHECK_STR(get("pool2/tasks"), "55\n");
	/* the group gone meanwhile: an error naming it, nothing made */
	r = rdt_of(NULL, NULL, NULL);
	CHECK(intelrdt_join(root, &r, "gone", 5, &err) < 0, "a group that is not there");
	CHECK(strstr(err.msg, "linux.intelRdt: open the resctrl group") != NULL, "%s", err.msg);
	CHECK(!exists("gone"), "exec makes no group");
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/husk-rdt.XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	dir("info");
	dir("info/L3_MON");
	schemata_text();
	no_resctrl();
	groups();
	not_ours();
	join_exec();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return unit_summary("test-intelrdt");
}
