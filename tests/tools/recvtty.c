/* recvtty: a console-socket receiver for the terminal tests.
 *
 *   recvtty SOCKET [INPUT]
 *
 * Listens on the unix socket path SOCKET, accepts one connection, takes the
 * pty master it carries (SCM_RIGHTS), writes INPUT to it when given, and
 * copies everything the pty prints to stdout until the other side closes.
 * An fd that is not a pty makes it exit with status 3.
 * Prints "ready" on stderr once it listens, so a test knows when to go. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
	return 1;
}

static int receive_fd(int conn)
{
	char name[256];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	ssize_t n;
	while ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "recvtty: socket path too long\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return die("socket");
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return die("bind");
	if (listen(sock, 1) < 0)
		return die("listen");
	fprintf(stderr, "ready\n");
	int conn;
	while ((conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (conn < 0)
		return die("accept");
	int master = receive_fd(conn);
	if (master < 0)
		return die("receive the pty master");
	/* what came must be a pty (reach.bats forges other fds): exit 3 */
	if (!isatty(master)) {
		fprintf(stderr, "recvtty: received an fd that is not a pty\n");
		return 3;
	}
	close(conn);
	close(sock);
	unlink(argv[1]);
	if (argc == 3) {
		size_t len = strlen(argv[2]);
		if (write(master, argv[2], len) != (ssize_t)len)
			return die("write the input");
	}
	char buf[4096];
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		/* EIO: every slave fd is closed, the container has exited */
		if (n <= 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return die("write stdout");
		fflush(stdout);
	}
	return 0;
}
