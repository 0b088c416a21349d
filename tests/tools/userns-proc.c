/* The attack of runc-compat.bats's --no-pivot test, run inside a
 * container: make a user and mount namespace of our own, map ourselves to
 * its root and mount a fresh procfs at DIR. The kernel allows that only
 * when the mount namespace holds a procfs that is fully visible (no
 * masked submounts): the host's /proc left behind by --no-pivot would be
 * one. Prints "mounted" and exits 0, or prints the error and exits 1;
 * exit 2 when the namespace itself cannot be made. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char map[64];
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

	if (argc != 2) {
		fprintf(stderr, "usage: userns-proc DIR\n");
		return 2;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		printf("unshare: %s\n", strerror(errno));
		return 2;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", uid);
	if (write_file("/proc/self/uid_map", map) < 0) {
		printf("uid_map: %s\n", strerror(errno));
		return 2;
	}
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) {
		printf("setgroups: %s\n", strerror(errno));
		return 2;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", gid);
	if (write_file("/proc/self/gid_map", map) < 0) {
		printf("gid_map: %s\n", strerror(errno));
		return 2;
	}
	if (mount("proc", argv[1], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		printf("mount proc: %s\n", strerror(errno));
		return 1;
	}
	printf("mounted\n");
	return 0;
}
