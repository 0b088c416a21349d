/* runtime/linux/lsm.c's SELinux questions, asked of a fake selinuxfs (a
 * temp directory standing for /sys/fs/selinux): whether SELinux runs, and
 * whether a context is valid. What matters is that "cannot tell" is never
 * answered as "not running", and that each error names the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/linux/lsm.h"
#include "tests/unit/unit.h"

static char root[64];

/* mnt: a fresh directory path under root (not created) */
static void fresh(char *mnt, size_t size, const char *name)
{
	snprintf(mnt, size, "%s/%s", root, name);
}

static void write_file(const char *dir, const char *name, const char *content, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, content, len) == (ssize_t)len, "write %s: %s", path,
	      strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int enabled(const char *mnt, struct husk_error *err)
{
	err_clear(err);
	return selinuxfs_enabled(mnt, err);
}

static void test_enabled(void)
{
	struct husk_error err;
	char mnt[128];

	/* a kernel without SELinux: no mount point */
	fresh(mnt, sizeof(mnt), "absent");
	CHECK(enabled(mnt, &err) == 0 && err.code == 0, "absent: %s", err.msg);

	/* SELinux built in but disabled: the mount point, empty */
	fresh(mnt, sizeof(mnt), "empty");
	mkdir(mnt, 0755);
	CHECK(enabled(mnt, &err) == 0 && err.code == 0, "empty: %s", err.msg);

	/* selinuxfs, enforcing and permissive */
	fresh(mnt, sizeof(mnt), "enforcing");
	mkdir(mnt, 0755);
	write_file(mnt, "enforce", "1", 1);
	CHECK(enabled(mnt, &err) == 1, "enforcing: %s", err.msg);
	fresh(mnt, sizeof(mnt), "permissive");
	mkdir(mnt, 0755);
	write_file(mnt, "enforce", "0", 1);
	CHECK(enabled(mnt, &err) == 1, "permissive: %s", err.msg);

	/* cannot tell: errors naming the file, never "not running" */
	char want[256];
	fresh(mnt, sizeof(mnt), "enforce-dir");
	mkdir(mnt, 0755);
	snprintf(want, sizeof(want), "%s/enforce", mnt);
	mkdir(want, 0755);
	int r = enabled(mnt, &err);
	snprintf(want, sizeof(want), "cannot reach SELinux: read %s/enforce: Is a directory", mnt);
	CHECK(r == -EISDIR, "enforce a directory: %d", r);
	CHECK_STR(err.msg, want);

	fresh(mnt, sizeof(mnt), "not-a-dir");
	write_file(root, "not-a-dir", "x", 1);
	r = enabled(mnt, &err);
	snprintf(want, sizeof(want), "cannot reach SELinux: open %s: Not a directory", mnt);
	CHECK(r == -ENOTDIR, "mount point a file: %d", r);
	CHECK_STR(err.msg, want);

	fresh(mnt, sizeof(mnt), "not-selinuxfs");
	mkdir(mnt, 0755);
	write_file(mnt, "enforce", "", 0);
	r = enabled(mnt, &err);
	snprintf(want, sizeof(want),
		 "cannot reach SELinux: %s/enforce holds no mode (0 or 1): is %s selinuxfs?", mnt,
		 mnt);
	CHECK(r == -EIO, "empty enforce: %d", r);
	CHECK_STR(err.msg, want);

	/* a directory the caller may not search: only without CAP_DAC_OVERRIDE */
	if (geteuid() != 0) {
		fresh(mnt, sizeof(mnt), "unreadable");
		mkdir(mnt, 0755);
		write_file(mnt, "enforce", "1", 1);
		chmod(mnt, 0);
		CHECK(enabled(mnt, &err) == -EACCES, "unreadable: %s", err.msg);
		chmod(mnt, 0755);
	}
}

static void test_check_context(void)
{
	struct husk_error err;
	char mnt[128], want[512], path[256];
	const char *ctx = "system_u:system_r:container_t:s0:c1,c2";

	/* the kernel takes it: the context is written whole, NUL included */
	fresh(mnt, sizeof(mnt), "ctx-ok");
	mkdir(mnt, 0755);
	write_file(mnt, "context", "", 0);
	err_clear(&err);
	CHECK(selinuxfs_check_context(mnt, ctx, &err) == 0, "valid: %s", err.msg);
	char got[128] = "";
	snprintf(path, sizeof(path), "%s/context", mnt);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, got, sizeof(got)) : -1;
	if (fd >= 0)
		close(fd);
	CHECK(n == (ssize_t)strlen(ctx) + 1 && memcmp(got, ctx, (size_t)n) == 0,
	      "written: %zd bytes", n);

	/* the kernel refuses it (EINVAL): here attr/exec stands in, which
	 * refuses what is no label of any LSM with EINVAL as well */
	fresh(mnt, sizeof(mnt), "ctx-invalid");
	mkdir(mnt, 0755);
	snprintf(path, sizeof(path), "%s/context", mnt);
	CHECK(symlink("/proc/thread-self/attr/exec", path) == 0, "symlink: %s", strerror(errno));
	err_clear(&err);
	int r = selinuxfs_check_context(mnt, "husk-test-invalid", &err);
	CHECK(r == -EINVAL, "invalid: %d %s", r, err.msg);
	CHECK_STR(err.msg, "\"husk-test-invalid\" is not a valid SELinux context here");

	/* it cannot be asked: the error says so, not "invalid" */
	fresh(mnt, sizeof(mnt), "ctx-missing");
	mkdir(mnt, 0755);
	err_clear(&err);
	r = selinuxfs_check_context(mnt, ctx, &err);
	snprintf(want, sizeof(want),
		 "cannot ask SELinux whether \"%s\" is valid: open %s/context: No such file or "
		 "directory",
		 ctx, mnt);
	CHECK(r == -ENOENT, "missing: %d", r);
	CHECK_STR(err.msg, want);

	fresh(mnt, sizeof(mnt), "ctx-full");
	mkdir(mnt, 0755);
	snprintf(path, sizeof(path), "%s/context", mnt);
	CHECK(symlink("/dev/full", path) == 0, "symlink: %s", strerror(errno));
	err_clear(&err);
	r = selinuxfs_check_context(mnt, ctx, &err);
	snprintf(want, sizeof(want),
		 "cannot ask SELinux whether \"%s\" is valid: write %s/context: No space left on "
		 "device",
		 ctx, mnt);
	CHECK(r == -ENOSPC, "full: %d", r);
	CHECK_STR(err.msg, want);

	/* a mount point whose path does not fit */
	char longmnt[5000];
	memset(longmnt, 'a', sizeof(longmnt) - 1);
	longmnt[0] = '/';
	longmnt[sizeof(longmnt) - 1] = '\0';
	err_clear(&err);
	r = selinuxfs_check_context(longmnt, ctx, &err);
	CHECK(r < 0 && strstr(err.msg, "selinuxfs") != NULL, "long path: %d %s", r, err.msg);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/husk-test-lsm.XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_enabled();
	test_check_context();
	CHECK(remove_all_at(AT_FDCWD, root) == 0, "remove %s", root);
	return unit_summary("test-lsm");
}
