#include "runtime/foreground.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/linux/cloned-exe.h"
#include "runtime/linux/spawn.h"

void tty_proxy_begin(struct tty_proxy *t)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t->saved) == 0) {
		struct termios raw = t->saved;
		cfmakeraw(&raw);
		t->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		tty_resize(t);
	}
}

void tty_proxy_end(struct tty_proxy *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
}

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

void tty_resize(struct tty_proxy *t)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
}

/* Wait for the init; forward signals, relay the terminal. Returns the exit
 * status as a shell shows it (128+N for signal N). */
int wait_container(pid_t pid, int sigfd, int sync_fd, struct tty_proxy *t)
{
	bool stdin_open = t != NULL, master_open = t != NULL, sync_open = sync_fd >= 0;

	cloned_exe_reap(); /* long done: no zombie of ours beside the container */

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
			tty_resize(t);
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

