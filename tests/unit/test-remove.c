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
#include <sys/wait.h>
#include <grp.h>
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

/* Without privileges (a rootless unpack as a plain user), an image's
 * read-only directory holding subdirectories, and a directory with no
 * permissions at all, are the caller's own: the remover must still
 * remove them (it may give the owner access back), as rm -rf does. */
static int build_and_remove_locked(int nbfd)
{
	struct husk_error err = { 0 };
	if (mkdirat(nbfd, "ro", 0755) < 0)
		return 10;
	int ro = openat(nbfd, "ro", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ro < 0 || mkdirat(ro, "sub", 0755) < 0 || mkdirat(ro, "locked", 0755) < 0)
		return 11;
	int sub = openat(ro, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lk = openat(ro, "locked", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub < 0 || lk < 0)
		return 12;
	close(openat(sub, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	close(openat(lk, "g", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	if (fchmod(lk, 0) < 0 || fchmod(ro, 0555) < 0)
		return 13;
	close(sub);
	close(lk);
	close(ro);
	int r = remove_tree_at(nbfd, "ro", "ro", &err);
	if (r < 0) {
		fprintf(stderr, "remove ro: %s\n", err.msg);
		return 1;
	}
	struct stat st;
	return fstatat(nbfd, "ro", &st, AT_SYMLINK_NOFOLLOW) == 0 ? 2 : 0;
}

static void read_only_dirs_without_privileges(void)
{
	if (geteuid() != 0) {
		CHECK(mkdirat(tmpfd, "nb", 0755) == 0, "mkdir nb");
		int nb = openat(tmpfd, "nb", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		CHECK(build_and_remove_locked(nb) == 0, "read-only and locked directories removed");
		close(nb);
		remove_all_at(tmpfd, "nb");
		return;
	}
	CHECK(mkdirat(tmpfd, "nb", 0755) == 0 && fchownat(tmpfd, "nb", 65534, 65534, 0) == 0,
	      "mkdir nb");
	int nb = openat(tmpfd, "nb", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(20);
		_exit(build_and_remove_locked(nb));
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "as uid 65534, read-only and locked directories removed (child status %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(nb);
	struct husk_error err = { 0 };
	remove_tree_at(tmpfd, "nb", "nb", &err);
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
	read_only_dirs_without_privileges();
	close(tmpfd);
	rmdir(tmpdir);
	return unit_summary("test-remove");
}
