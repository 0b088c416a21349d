/* husk run: create + start; in the foreground it forwards signals, waits,
 * exits with the container's status and deletes it (unless --keep). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/lifecycle.h"
#include "runtime/foreground.h"
#include "runtime/linux/terminal.h"

int create_option(const struct verb *v, int c, struct create_opts *co);

static int run_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 },
	};
	struct create_opts co = { .console_fd = -1 };
	bool detach = false, keep = false;
	int c;

	while ((c = verb_getopt(&verb_run, argc, argv, opts)) != -1) {
		if (c == 'd')
			detach = true;
		else if (c == 'k')
			keep = true;
		else if ((c = create_option(&verb_run, c, &co)) != 0)
			return c;
	}
	if ((c = verb_need_args(&verb_run, argc, 1, "a container id")) != 0)
		return c;
	co.id = argv[optind];
	co.then_start = true;

	/* In the foreground with no console socket, husk holds the pty
	 * itself (the config decides whether there is one). */
	int pair[2] = { -1, -1 };
	if (!detach && co.console_socket == NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
			return err_sys(err, errno, "socketpair");
		co.console_fd = pair[1];
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (!detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);

	struct container *ct = NULL;
	struct spawn_result res;
	struct tty_proxy tty = { .master = -1 };
	int sigfd;
	int r = lifecycle_create(g, &co, &ct, &res, err);
	if (pair[1] >= 0)
		close(pair[1]);
	if (r < 0)
		goto out;

	if (pair[0] >= 0) {
		char name[64];
		struct pollfd pfd = { .fd = pair[0], .events = POLLIN };
		/* the pty arrives during create when the config asks for one */
		if (poll(&pfd, 1, 0) > 0 && recv_fd(pair[0], &tty.master, name, sizeof(name)) == 0)
			tty_proxy_begin(&tty);
	}
	r = lifecycle_start_opened(ct, res.start_fifo, res.sync_fd, err);
	res.start_fifo = -1;
	if (r < 0) {
		struct husk_error ignored;
		int rootfd;
		if (open_root(g, false, &rootfd, &ignored) == 0) {
			ct->status = STATUS_CREATED;
			lifecycle_delete(rootfd, ct, true, &ignored);
			close(rootfd);
		}
		goto out_container;
	}
	if (detach) {
		r = 0;
		goto out_container;
	}
	/* while we wait, other husk commands (delete --force) may act on it */
	flock(ct->dirfd, LOCK_UN);

	sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	r = wait_container(ct->state->pid, sigfd, res.sync_fd, tty.master >= 0 ? &tty : NULL);
	close(sigfd);
	tty_proxy_end(&tty);
	if (!keep && flock(ct->dirfd, LOCK_EX) == 0 && faccessat(ct->dirfd, STATE_FILE, F_OK, 0) == 0) {
		/* still there: nobody deleted it while we waited */
		struct husk_error del_err = { 0 };
		int rootfd;
		container_refresh_status(ct);
		if (open_root(g, false, &rootfd, &del_err) == 0) {
			if (lifecycle_delete(rootfd, ct, true, &del_err) < 0)
				log_warn("delete %s: %s", ct->id, del_err.msg);
			close(rootfd);
		}
	}
out_container:
	if (tty.master >= 0)
		close(tty.master);
	if (res.sync_fd >= 0)
		close(res.sync_fd);
	container_free(ct);
out:
	if (pair[0] >= 0)
		close(pair[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

const struct verb verb_run = {
	.name = "run",
	.run = run_run,
	.summary = "create and start a container; wait for it unless --detach",
	.usage = "[OPTIONS] ID\n\n"
		 "  -b, --bundle DIR         the bundle (default: the current directory)\n"
		 "  -d, --detach             return once the container runs\n"
		 "  --keep                   do not delete the container when it exits\n"
		 "  --pid-file FILE          write the init's pid to FILE\n"
		 "  --console-socket SOCK    send the pty master to this unix socket\n"
		 "  --preserve-fds N         pass fds 3..3+N-1 to the container\n"
		 "  --no-pivot               use MS_MOVE + chroot instead of pivot_root\n"
		 "  --no-new-keyring         keep the caller's session keyring",
	.enters_container = true,
};
