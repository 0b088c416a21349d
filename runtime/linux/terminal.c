#include "runtime/linux/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/resolve.h"

int console_socket_connect(const char *path, int *out, struct husk_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return err_set(err, ENAMETOOLONG, "--console-socket %s: path too long", path);
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(err, errno, "--console-socket: socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		close(fd);
		return err_sys(err, e, "--console-socket %s: connect", path);
	}
	*out = fd;
	return 0;
}

int send_fd(int sock, int fd, const char *name)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int recv_fd(int sock, int *fd, char *name, size_t name_size)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = name, .iov_len = name_size - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	name[n > 0 ? n : 0] = '\0';
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}

/* The mount point for the console: /dev/console itself, never what it
 * points to (CVE-2025-52565 class: a symlinked /dev/console would move the
 * pty's bind anywhere in the container, e.g. over a masked procfs file).
 * The last component is opened with O_NOFOLLOW on a parent resolved in the
 * root, and the fd is the target, so nothing can be swapped in between. */
static int open_console_target(int rootfd, struct husk_error *err)
{
	char *alloc;
	const char *name;
	struct stat st;
	int parent = open_parent_in_root(rootfd, "/dev/console", true, &alloc, &name, err);
	if (parent < 0)
		return err_prefix(err, "terminal");
	int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 || errno == EEXIST) {
		if (fd >= 0)
			close(fd);
		fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	int e = errno;
	close(parent);
	free(alloc);
	if (fd < 0)
		return err_sys(err, e, "terminal: open /dev/console");
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return err_sys(err, e, "terminal: stat /dev/console");
	}
	if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(err, ELOOP,
			       "terminal: /dev/console in the rootfs is a %s; the console is bound "
			       "only on a file or device there",
			       S_ISDIR(st.st_mode) ? "directory" : "symlink");
	}
	return fd;
}

int terminal_open(int rootfd, const struct oci_box *size, bool bind_console, int *master_out,
		  int *peer_out, struct husk_error *err)
{
	/* the container's own ptmx; opened by fd and the peer by TIOCGPTPEER,
	 * so no path under /dev/pts can be raced (CVE-2025-52565 class) */
	_cleanup_close_ int master = resolve_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, NULL);
	if (master < 0)
		return err_sys(err, -master, "terminal: open /dev/pts/ptmx (is devpts mounted with "
					     "newinstance?)");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return err_sys(err, errno, "terminal: unlock the pty");
	_cleanup_close_ int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		return err_sys(err, errno, "terminal: open the pty peer");
	if (size) {
		struct winsize ws = { .ws_row = (unsigned short)size->height,
				      .ws_col = (unsigned short)size->width };
		if (ioctl(peer, TIOCSWINSZ, &ws) < 0)
			return err_sys(err, errno, "process.consoleSize");
	}

	/* /dev/console is the init's pty, bound by fd */
	if (bind_console) {
		_cleanup_close_ int console = open_console_target(rootfd, err);
		if (console < 0)
			return console;
		_cleanup_close_ int tree =
			open_tree(peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (tree < 0 || move_mount(tree, "", console, "",
					   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return err_sys(err, errno, "terminal: bind the pty on /dev/console");
	}
	*master_out = master;
	*peer_out = peer;
	master = peer = -1;
	return 0;
}

int terminal_attach(int peer, struct husk_error *err)
{
	if (setsid() < 0)
		return err_sys(err, errno, "terminal: setsid");
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		return err_sys(err, errno, "terminal: set the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(peer, i) < 0)
			return err_sys(err, errno, "terminal: dup to fd %d", i);
	return 0;
}

int terminal_check_master(int fd)
{
	unsigned int n;
	struct stat st;
	/* only a master answers TIOCGPTN; its node is ptmx (5:2) */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2 || ioctl(fd, TIOCGPTN, &n) < 0)
		return -EBADF;
	return 0;
}
