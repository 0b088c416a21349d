/* common/fileutil: remove_tree_at, the recursive remover. It must work at
 * any depth with a handful of fds, remove wide directories, never follow a
 * symlink, and never cross a mount point (that part needs root for a
 * private mount namespace and a tmpfs, and is skipped without it). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "tests/unit/unit.h"

static int tmpfd = -1;
static char tmpdir[64];

static void touch(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create %s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static bool exists(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* name/d/d/d/... depth levels, a file at each level */
static void make_chain(const char *name, int depth)
{
	CHECK(mkdirat(tmpfd, name, 0755) == 0, "mkdir %s", name);
	int fd = openat(tmpfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < depth; i++) {
		touch(fd, "f");
		if (mkdirat(fd, "d", 0755) < 0)
			break;
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	CHECK(fd >= 0, "chain %s", name);
	if (fd >= 0)
		close(fd);
}

static void deep_with_few_fds(void)
{
	make_chain("deep", 5000);
	struct rlimit was, low = { 32, 32 };
	getrlimit(RLIMIT_NOFILE, &was);
	low.rlim_max = was.rlim_max;
	setrlimit(RLIMIT_NOFILE, &low);
	struct husk_error err = { 0 };
	int r = remove_tree_at(tmpfd, "deep", "deep", &err);
	setrlimit(RLIMIT_NOFILE, &was);
	CHECK(r == 0, "remove a 5000-deep tree: %s", err.msg);
	CHECK(!exists(tmpfd, "deep"), "deep is gone");
}

static void wide(void)
{
	CHECK(mkdirat(tmpfd, "wide", 0755) == 0, "mkdir wide");
	int fd = openat(tmpfd, "wide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char name[32];
	for (int i = 0; fd >= 0 && i < 3000; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		if (i % 2 == 0) {
			touch(fd, name);
			continue;
		}
		mkdirat(fd, name, 0755);
		int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0) {
			touch(sub, "x");
			mkdirat(sub, "empty", 0700);
			close(sub);
		}
	}
	if (fd >= 0)
		close(fd);
	struct husk_error err = { 0 };
	CHECK(remove_tree_at(tmpfd, "wide", "wide", &err) == 0, "remove wide: %s", err.msg);
	CHECK(!exists(tmpfd, "wide"), "wide is gone");
}

static void files_links_and_missing(void)
{
	struct husk_error err = { 0 };
	CHECK(remove_tree_at(tmpfd, "missing", "missing", &err) == 0, "missing: %s", err.msg);
	touch(tmpfd, "file");
	CHECK(remove_tree_at(tmpfd, "file", "file", &err) == 0, "file: %s", err.msg);
	CHECK(!exists(tmpfd, "file"), "file is gone");
	/* a symlink to a directory: the link goes, what it points to stays */
	mkdirat(tmpfd, "target", 0755);
	int t = openat(tmpfd, "target", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	touch(t, "keep");
	mkdirat(tmpfd, "holder", 0755);
	int h = openat(tmpfd, "holder", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(symlinkat("../target", h, "link") == 0, "symlink");
	CHECK(remove_tree_at(tmpfd, "holder", "holder", &err) == 0, "holder: %s", err.msg);
	CHECK(exists(t, "keep"), "the symlink's target is untouched");
	CHECK(remove_tree_at(tmpfd, "target", "target", &err) == 0, "target: %s", err.msg);
	CHECK(remove_all_at(tmpfd, "target") == 0, "remove_all_at of a missing name");
	close(t);
	close(h);
}

static bool own_mount_ns;

static void never_crosses_a_mount(void)
{
	if (!own_mount_ns) {
		printf("skip: the mount point checks need root (a private mount namespace)\n");
		return;
	}
	make_chain("m", 3);
	char at[128];
	snprintf(at, sizeof(at), "%s/m/d/mnt", tmpdir);
	CHECK(mkdir(at, 0755) == 0, "mkdir %s", at);
	CHECK(mount("husk-test", at, "tmpfs", 0, NULL) == 0, "mount tmpfs: %s", strerror(errno));
	int mfd = open(at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	touch(mfd, "marker");
	struct husk_error err = { 0 };
	int r = remove_tree_at(tmpfd, "m", "TOP", &err);
	CHECK(r == -EXDEV, "a mount below: %d", r);
	CHECK(strstr(err.msg, "TOP/d/mnt is a mount point") != NULL, "message: %s", err.msg);
	CHECK(exists(mfd, "marker"), "the mounted filesystem keeps its files");
	/* the mount point itself */
	snprintf(at, sizeof(at), "%s/m/d", tmpdir);
	int dfd = open(at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = (struct husk_error){ 0 };
	CHECK(remove_tree_at(dfd, "mnt", "MNT", &err) == -EXDEV, "the mount point itself");
	CHECK(strstr(err.msg, "MNT is a mount point") != NULL, "message: %s", err.msg);
	CHECK(exists(mfd, "marker"), "still there");
	close(mfd);
	close(dfd);
	snprintf(at, sizeof(at), "%s/m/d/mnt", tmpdir);
	CHECK(umount(at) == 0, "umount");
	err = (struct husk_error){ 0 };
	CHECK(remove_tree_at(tmpfd, "m", "m", &err) == 0, "once unmounted: %s", err.msg);
	CHECK(!exists(tmpfd, "m"), "m is gone");
}

int main(void)
{
	/* first: fds opened before unshare see the old namespace's mounts */
	own_mount_ns = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
		       mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/husk-test-remove.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	deep_with_few_fds();
	wide();
	files_links_and_missing();
	never_crosses_a_mount();
	close(tmpfd);
	rmdir(tmpdir);
	return unit_summary("test-remove");
}
