/* husk run: create + start; in the foreground it forwards signals, waits,
 * exits with the container's status and deletes it (unless --keep). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/terminal.h"

int create_option(const struct verb *v, int c, struct create_opts *co);

struct tty_proxy {
	int master;
	bool raw;
	struct termios saved;
};

static void copy_some(int from, int to, bool *open)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		*open = false;
		return;
	}
	for (ssize_t done = 0; done < n;) {
		ssize_t w = write(to, buf + done, (size_t)(n - done));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*open = false;
			return;
		}
		done += w;
	}
}

static void resize(struct tty_proxy *t)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
}

/* Wait for the init; forward signals, relay the terminal. Returns the exit
 * status as a shell shows it (128+N for signal N). */
static int wait_container(pid_t pid, int sigfd, int sync_fd, struct tty_proxy *t)
{
	bool stdin_open = t != NULL, master_open = t != NULL, sync_open = sync_fd >= 0;

	for (;;) {
		struct pollfd pfd[4] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = sync_open ? sync_fd : -1, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = master_open ? t->master : -1, .events = POLLIN },
		};
		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 255;
		}
		if (pfd[1].revents) {
			struct sync_msg m;
			if (sync_recv(sync_fd, &m) == 0 && m.type == SYNC_ERROR)
				log_error("%s", m.text);
			else
				sync_open = false;
		}
		if (pfd[2].revents)
			copy_some(STDIN_FILENO, t->master, &stdin_open);
		if (pfd[3].revents)
			copy_some(t->master, STDOUT_FILENO, &master_open);
		if (!(pfd[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGWINCH && t) {
			resize(t);
		} else if (si.ssi_signo != SIGCHLD) {
			kill(pid, (int)si.ssi_signo);
			continue;
		}
		/* reap the init and any orphan we inherited as subreaper */
		int status;
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != pid)
				continue;
			while (master_open && t)
				copy_some(t->master, STDOUT_FILENO, &master_open);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
	}
}

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
	int r = lifecycle_create(g, &co, &ct, &res, err);
	if (pair[1] >= 0)
		close(pair[1]);
	if (r < 0)
		goto out;

	struct tty_proxy tty = { .master = -1 };
	if (pair[0] >= 0) {
		char name[64];
		struct pollfd pfd = { .fd = pair[0], .events = POLLIN };
		/* the pty arrives during create when the config asks for one */
		if (poll(&pfd, 1, 0) > 0 && recv_fd(pair[0], &tty.master, name, sizeof(name)) == 0) {
			if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tty.saved) == 0) {
				struct termios raw = tty.saved;
				cfmakeraw(&raw);
				tty.raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
				resize(&tty);
			}
		}
	}
	r = lifecycle_start(ct, err);
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

	int sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	r = wait_container(ct->state->pid, sigfd, res.sync_fd, tty.master >= 0 ? &tty : NULL);
	close(sigfd);
	if (tty.raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &tty.saved);
	if (!keep) {
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
};
