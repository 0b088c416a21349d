/* husk kill: send a signal to a container's process (or all of them). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"

/* runc: with --all, a stopped container is not an error; whatever is
 * still in its cgroup (processes the init left behind) gets the signal. */
static int kill_leftovers(struct container *ct, int sig)
{
	pid_t *pids = NULL;
	size_t n = 0;
	struct husk_error ignored;
	if (ct->state->cgroup_path && cgroup_pids(ct->state->cgroup_path, &pids, &n, &ignored) == 0)
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
	free(pids);
	return 0;
}

static int kill_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
	bool all = false;
	int c;

	while ((c = verb_getopt(&verb_kill, argc, argv, opts)) != -1) {
		if (c != 'a')
			return c;
		all = true;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return verb_usage_error(&verb_kill, "expected a container id and an optional signal");
	const char *name = argc - optind == 2 ? argv[optind + 1] : "15";
	/* signal 0 checks that the container's process is there (runc takes it) */
	int sig = strspn(name, "0") == strlen(name) && *name ? 0 : signal_parse(name);
	if (sig < 0)
		return verb_usage_error(&verb_kill, "\"%s\" is not a signal", argv[optind + 1]);
	struct container *ct = NULL;
	int r = load_container(g, argv[optind], false, &ct, err);
	if (r == 0 && all && ct->status == STATUS_STOPPED)
		r = kill_leftovers(ct, sig);
	else if (r == 0)
		r = lifecycle_kill(ct, sig, all, err);
	container_free(ct);
	return r;
}

const struct verb verb_kill = {
	.name = "kill",
	.run = kill_run,
	.summary = "send a signal (default SIGTERM) to a container",
	.usage = "[--all] ID [SIGNAL]\n\n"
		 "  -a, --all   signal every process of the container (a stopped container\n"
		 "              is not an error)\n"
		 "  SIGNAL      a name (TERM, SIGTERM, RTMIN+1) or a number; 0 only checks\n"
		 "              that the container's process exists",
};
