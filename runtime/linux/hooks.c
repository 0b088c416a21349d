#include "runtime/linux/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

static int run_one(const char *kind, size_t index, const struct oci_hook *h, const char *state,
		   struct husk_error *err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return err_sys(err, errno, "%s hook %zu (%s): pipe", kind, index, h->path);

	char *default_args[] = { h->path, NULL };
	char **argv = h->args.len ? h->args.items : default_args;
	char *empty_env[] = { NULL };
	/* args/env arrays from the decoder have no NULL terminator: copy */
	char **args = calloc(h->args.len + 2, sizeof(char *));
	char **env = calloc(h->env.len + 1, sizeof(char *));
	if (args == NULL || env == NULL) {
		free(args);
		free(env);
		close(in[0]);
		close(in[1]);
		return err_sys(err, ENOMEM, "%s hook %zu (%s)", kind, index, h->path);
	}
	if (h->args.len) {
		memcpy(args, argv, h->args.len * sizeof(char *));
		argv = args;
	}
	memcpy(env, h->env.items ? h->env.items : empty_env, h->env.len * sizeof(char *));

	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		free(args);
		free(env);
		close(in[0]);
		close(in[1]);
		return err_sys(err, e, "%s hook %zu (%s): fork", kind, index, h->path);
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* its own process group, so a timeout kills what it forked too */
		setpgid(0, 0);
		if (dup2(in[0], STDIN_FILENO) < 0)
			_exit(126);
		execve(h->path, argv, env);
		dprintf(STDERR_FILENO, "%s hook %s: exec: %s\n", kind, h->path, strerror(errno));
		_exit(127);
	}
	free(args);
	free(env);
	close(in[0]);
	/* both sides, so the group exists whoever runs first; after the exec
	 * the parent's call fails harmlessly (the child has made it) */
	setpgid(pid, pid);
	int status = 0;
	int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		int e = errno;
		close(in[1]);
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return err_sys(err, e, "%s hook %zu (%s): pidfd_open", kind, index, h->path);
	}
	/* The state goes in while we wait, without blocking: a hook that
	 * never reads a state larger than the pipe holds must still meet its
	 * timeout, and one that exits early must not make us fail. The old
	 * SIGPIPE disposition comes back, since the init's reaches the
	 * container. */
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_pipe;
	sigaction(SIGPIPE, &ignore, &old_pipe);
	int fl = fcntl(in[1], F_GETFL);
	if (fl >= 0)
		fcntl(in[1], F_SETFL, fl | O_NONBLOCK);
	const char *todo = state;
	size_t left = strlen(state);
	struct timespec now, deadline = { 0 };
	bool timed = h->has_timeout && h->timeout > 0, exited = false;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timed ? h->timeout : 0;
	while (!exited) {
		struct pollfd pfd[2] = { { .fd = pidfd, .events = POLLIN },
					 { .fd = in[1], .events = POLLOUT } };
		int wait_ms = -1;
		if (timed) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long ms = (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
				       (deadline.tv_nsec - now.tv_nsec) / 1000000;
			wait_ms = ms > 0 ? (int)(ms > 1 << 30 ? 1 << 30 : ms) : 0;
		}
		int n = poll(pfd, in[1] >= 0 ? 2 : 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			if (in[1] >= 0)
				close(in[1]);
			sigaction(SIGPIPE, &old_pipe, NULL);
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			/* the group is the hook's while it is unreaped: its pid is held */
			kill(-pid, SIGKILL);
			close(pidfd);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return err_sys(err, e, "%s hook %zu (%s): poll", kind, index, h->path);
		}
		if (n == 0) {
			if (in[1] >= 0)
				close(in[1]);
			sigaction(SIGPIPE, &old_pipe, NULL);
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			/* the group is the hook's while it is unreaped: its pid is held */
			kill(-pid, SIGKILL);
			close(pidfd);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return err_set(err, ETIMEDOUT, "%s hook %zu (%s) timed out after %d s", kind, index,
				       h->path, h->timeout);
		}
		if (in[1] >= 0 && pfd[1].revents) {
			ssize_t w = left ? write(in[1], todo, left) : 0;
			if (w > 0) {
				todo += w;
				left -= (size_t)w;
			}
			/* all written, or the hook closed its end (EPIPE) */
			if (left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pfd[0].revents & POLLIN)
			exited = true;
	}
	if (in[1] >= 0)
		close(in[1]);
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(pidfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_sys(err, errno, "%s hook %zu (%s): wait", kind, index, h->path);
	}
	if (WIFSIGNALED(status))
		return err_set(err, ECANCELED, "%s hook %zu (%s) was killed by signal %d", kind, index,
			       h->path, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return err_set(err, ECANCELED, "%s hook %zu (%s) exited with status %d", kind, index,
			       h->path, WEXITSTATUS(status));
	return 0;
}

int hooks_run(const char *kind, const oci_hook_list *hooks, const char *state_json,
	      struct husk_error *err)
{
	for (size_t i = 0; i < hooks->len; i++) {
		int r = run_one(kind, i, &hooks->items[i], state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t hooks_run_all(const char *kind, const oci_hook_list *hooks, const char *state_json)
{
	size_t failed = 0;
	for (size_t i = 0; i < hooks->len; i++) {
		struct husk_error err = { 0 };
		if (run_one(kind, i, &hooks->items[i], state_json, &err) < 0) {
			log_warn("%s", err.msg);
			failed++;
		}
	}
	return failed;
}

int hooks_validate(const struct oci_hooks *hooks, struct husk_error *err)
{
	if (hooks == NULL)
		return 0;
	const struct {
		const char *kind;
		const oci_hook_list *list;
	} kinds[] = {
		{ "prestart", &hooks->prestart },   { "createRuntime", &hooks->createRuntime },
		{ "createContainer", &hooks->createContainer },
		{ "startContainer", &hooks->startContainer },
		{ "poststart", &hooks->poststart }, { "poststop", &hooks->poststop },
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t i = 0; i < kinds[k].list->len; i++) {
			const struct oci_hook *h = &kinds[k].list->items[i];
			if (h->path[0] != '/')
				return err_set(err, EINVAL, "hooks.%s[%zu].path: \"%s\" is not an absolute path",
					       kinds[k].kind, i, h->path);
			if (h->has_timeout && h->timeout <= 0)
				return err_set(err, EINVAL, "hooks.%s[%zu].timeout: %d is not above zero",
					       kinds[k].kind, i, h->timeout);
		}
	}
	return 0;
}
