/* seccomp-agent: a seccomp notify agent for seccomp.bats (listenerPath).
 *
 *   seccomp-agent SOCKET OUTDIR [RULE...]
 *
 * Listens on the unix socket path SOCKET. Each connection is one container
 * process state (runtime-spec config-linux.md, "The Container Process
 * State"): JSON payload, the fds named in its "fds" array as SCM_RIGHTS on
 * the first message, then EOF. The agent saves the JSON as
 * OUTDIR/state.N.json and the number of fds it got as OUTDIR/fds.N, then
 * answers the notifications of the fd named "seccompFd". Every
 * notification is logged as "nr=NR pid=PID" in OUTDIR/requests, and
 * answered by the first RULE for its syscall number:
 *
 *   errno:NR:E    the syscall fails with errno E
 *   fake:NR:V     the syscall "succeeds" with return value V, without running
 *   hold:NR       for signal tests: "held" is logged, and the reply (return
 *                 value 0) waits until the agent gets SIGUSR1; then
 *                 "reply-after-signal=OK" when the kernel took it, "=ENOENT"
 *                 when the notification had gone stale (the caller was
 *                 interrupted meanwhile)
 *   otherwise     SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs it
 *
 * Prints "ready" on stderr once it listens; runs until killed. */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_POLL 64
#define STATE_MAX (1 << 20)

enum kind { CONN, NOTIFY };

struct slot {
	enum kind kind;
	char *buf; /* CONN: the state read so far */
	size_t len;
	int fds[8]; /* CONN: the fds of the first message */
	int nfds;
};

static struct pollfd pfds[MAX_POLL];
static struct slot slots[MAX_POLL];
static int npoll = 1; /* [0] is the listening socket */
static int seq;
static const char *outdir;
static char **rules;
static int nrules;
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void logf_out(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_out(const char *file, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	snprintf(path, sizeof(path), "%s/%s", outdir, file);
	FILE *f = fopen(path, "a");
	if (f == NULL)
		die(path);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void add_poll(int fd, enum kind kind)
{
	if (npoll == MAX_POLL) {
		fprintf(stderr, "seccomp-agent: too many fds\n");
		exit(1);
	}
	pfds[npoll] = (struct pollfd){ .fd = fd, .events = POLLIN };
	slots[npoll] = (struct slot){ .kind = kind };
	npoll++;
}

static void drop_poll(int i)
{
	close(pfds[i].fd);
	free(slots[i].buf);
	pfds[i] = pfds[npoll - 1];
	slots[i] = slots[npoll - 1];
	npoll--;
}

/* The index of "seccompFd" in the state's "fds" array. A string search is
 * enough for a test tool: the names are the only strings in that array. */
static int seccomp_fd_index(const char *json)
{
	const char *fds = strstr(json, "\"fds\"");
	if (fds == NULL)
		return -1;
	const char *open = strchr(fds, '['), *close = open ? strchr(open, ']') : NULL;
	const char *name = open ? strstr(open, "\"seccompFd\"") : NULL;
	if (name == NULL || name > close)
		return -1;
	int index = 0;
	for (const char *p = open; p < name; p++)
		index += *p == ',';
	return index;
}

/* Read from a connection; at EOF save the state and take the notify fd. */
static void conn_readable(int i)
{
	struct slot *s = &slots[i];
	char data[65536];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} control;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (s->nfds == 0 && s->len == 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
	}
	ssize_t n = recvmsg(pfds[i].fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		die("recvmsg");
	for (struct cmsghdr *c = msg.msg_controllen ? CMSG_FIRSTHDR(&msg) : NULL; c;
	     c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t j = 0; j < k && s->nfds < 8; j++)
			memcpy(&s->fds[s->nfds++], CMSG_DATA(c) + j * sizeof(int), sizeof(int));
	}
	if (n > 0) {
		if (s->len + (size_t)n > STATE_MAX) {
			fprintf(stderr, "seccomp-agent: state too long\n");
			exit(1);
		}
		s->buf = realloc(s->buf, s->len + (size_t)n + 1);
		if (s->buf == NULL)
			die("realloc");
		memcpy(s->buf + s->len, data, (size_t)n);
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
		return;
	}
	/* EOF: the runtime closed the connection after one state */
	int k = seq++;
	char name[64];
	snprintf(name, sizeof(name), "state.%d.json", k);
	logf_out(name, "%s\n", s->buf ? s->buf : "");
	snprintf(name, sizeof(name), "fds.%d", k);
	logf_out(name, "%d\n", s->nfds);
	int index = s->buf ? seccomp_fd_index(s->buf) : -1;
	int fds[8], nfds = s->nfds;
	memcpy(fds, s->fds, sizeof(fds));
	drop_poll(i);
	for (int j = 0; j < nfds; j++) {
		if (j == index)
			add_poll(fds[j], NOTIFY);
		else
			close(fds[j]);
	}
}

static const char *rule_for(int nr)
{
	for (int i = 0; i < nrules; i++) {
		const char *colon = strchr(rules[i], ':');
		if (colon && atoi(colon + 1) == nr)
			return rules[i];
	}
	return NULL;
}

static void notify_readable(int i)
{
	int fd = pfds[i].fd;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		if (errno == EINTR || errno == ENOENT)
			return; /* the caller went away in between */
		die("SECCOMP_IOCTL_NOTIF_RECV");
	}
	logf_out("requests", "nr=%d pid=%u\n", req.data.nr, req.pid);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	const char *rule = rule_for(req.data.nr);
	const char *value = rule ? strrchr(rule, ':') + 1 : NULL;
	if (rule && strncmp(rule, "errno:", 6) == 0) {
		resp.error = -atoi(value);
	} else if (rule && strncmp(rule, "fake:", 5) == 0) {
		resp.val = atoll(value);
	} else if (rule && strncmp(rule, "hold:", 5) == 0) {
		logf_out("requests", "held\n");
		while (!got_usr1)
			pause();
		got_usr1 = 0;
		/* the test has signalled the caller; give the kernel a moment */
		usleep(200000);
		resp.val = 0;
		int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		logf_out("requests", "reply-after-signal=%s\n",
			 r == 0 ? "OK" : errno == ENOENT ? "ENOENT" : strerror(errno));
		return;
	} else {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		die("SECCOMP_IOCTL_NOTIF_SEND");
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (argc < 3) {
		fprintf(stderr, "usage: seccomp-agent SOCKET OUTDIR [RULE...]\n");
		return 2;
	}
	outdir = argv[2];
	rules = argv + 3;
	nrules = argc - 3;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "seccomp-agent: socket path too long\n");
		return 1;
	}
	strcpy(addr.sun_path, argv[1]);
	int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0)
		die("socket");
	unlink(argv[1]);
	if (bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(lsock, 16) < 0)
		die("listen");
	pfds[0] = (struct pollfd){ .fd = lsock, .events = POLLIN };
	fprintf(stderr, "ready\n");

	for (;;) {
		if (poll(pfds, (nfds_t)npoll, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfds[0].revents & POLLIN) {
			int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				die("accept");
			add_poll(conn, CONN);
		}
		for (int i = npoll - 1; i >= 1; i--) {
			short ev = pfds[i].revents;
			pfds[i].revents = 0;
			if (ev == 0)
				continue;
			if (slots[i].kind == CONN) {
				conn_readable(i);
			} else if (ev & POLLIN) {
				notify_readable(i);
			} else if (ev & (POLLHUP | POLLERR)) {
				/* every task of the filter is gone */
				drop_poll(i);
			}
		}
	}
}
