/* husk ps: the processes of a container (the pids of its cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* pids is sorted: every line of ps -ef (the whole host) is looked up */
static bool has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	return n > 0 && bsearch(&pid, pids, n, sizeof(*pids), pid_cmp) != NULL;
}

/* The col-th whitespace-separated word of line (NULL when it has fewer),
 * its length in *len; line is left as it is. */
static const char *word_at(const char *line, int col, size_t *len)
{
	const char *p = line;
	for (int i = 0;; i++) {
		p += strspn(p, " \t");
		if (*p == '\0')
			return NULL;
		size_t n = strcspn(p, " \t");
		if (i == col) {
			*len = n;
			return p;
		}
		p += n;
	}
}

/* Run ps(1) with the given options and keep the header and the lines of
 * our pids, found by the PID column of the header. */
static int ps_table(char **ps_args, int nargs, pid_t *pids, size_t n, struct husk_error *err)
{
	/* "ps", -ef or the caller's options, NULL: built before the fork */
	_cleanup_free_ char **argv = calloc((size_t)nargs + 3, sizeof(char *));
	if (argv == NULL)
		return err_sys(err, ENOMEM, "ps");
	int argc = 0;
	argv[argc++] = "ps";
	if (nargs == 0)
		argv[argc++] = "-ef";
	for (int i = 0; i < nargs; i++)
		argv[argc++] = ps_args[i];
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_sys(err, errno, "ps: pipe");
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return err_sys(err, e, "ps: fork");
	}
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp("ps", argv);
		_exit(127);
	}
	close(fds[1]);
	_cleanup_free_ char *out = NULL;
	size_t len;
	int r = read_fd_all(fds[0], "ps output", 1 << 24, &out, &len, err);
	close(fds[0]);
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(err, errno, "ps: wait");
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(err, ENOENT, "ps: cannot run ps (is procps installed?)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, EINVAL, "ps failed (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	char *save = NULL, *line = strtok_r(out, "\n", &save);
	if (line == NULL)
		return 0;
	int column = -1;
	size_t wlen;
	const char *w;
	for (int col = 0; (w = word_at(line, col, &wlen)) != NULL; col++)
		if (wlen == 3 && strncmp(w, "PID", 3) == 0) {
			column = col;
			break;
		}
	if (column < 0)
		return err_set(err, EINVAL, "ps: its output has no PID column");
	printf("%s\n", line);
	qsort(pids, n, sizeof(*pids), pid_cmp);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		w = word_at(line, column, &wlen);
		if (w && has_pid(pids, n, (pid_t)atoi(w)))
			printf("%s\n", line);
	}
	return 0;
}

static int ps_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { 0 } };
	bool json = false;
	int c;

	while ((c = verb_getopt(&verb_ps, argc, argv, opts)) != -1) {
		if (c != 'f')
			return c;
		if (strcmp(optarg, "json") == 0)
			json = true;
		else if (strcmp(optarg, "table") != 0)
			return verb_usage_error(&verb_ps, "--format: \"%s\" is not table or json", optarg);
	}
	if (argc - optind < 1)
		return verb_usage_error(&verb_ps, "missing argument: expected a container id");
	struct container *ct = NULL;
	int r = load_container(g, argv[optind], false, &ct, err);
	if (r < 0)
		return r;
	pid_t *pids = NULL;
	size_t n = 0;
	if (ct->status == STATUS_STOPPED)
		; /* no processes: the header alone (or []), as runc shows it */
	else if (ct->state->cgroup_path == NULL)
		r = err_set(err, ENOTSUP, "container \"%s\" has no cgroup (rootless?)", ct->id);
	else
		r = cgroup_pids(ct->state->cgroup_path, &pids, &n, err);
	if (r == 0 && json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
	} else if (r == 0) {
		r = ps_table(argv + optind + 1, argc - optind - 1, pids, n, err);
	}
	free(pids);
	container_free(ct);
	return r;
}

const struct verb verb_ps = {
	.name = "ps",
	.run = ps_run,
	.summary = "list the processes of a container",
	.usage = "[--format table|json] ID [PS OPTIONS]\n\n"
		 "  -f, --format table|json   ps(1) lines (default: ps -ef) or a JSON array of pids",
};
