/* husk kill: send a signal to a container's process (or all of them). */
#include <unistd.h>

#include "runtime/lifecycle.h"

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
	int sig = argc - optind == 2 ? signal_parse(argv[optind + 1]) : 15;
	if (sig < 0)
		return verb_usage_error(&verb_kill, "\"%s\" is not a signal", argv[optind + 1]);
	struct container *ct = NULL;
	int r = load_container(g, argv[optind], false, &ct, err);
	if (r == 0)
		r = lifecycle_kill(ct, sig, all, err);
	container_free(ct);
	return r;
}

const struct verb verb_kill = {
	.name = "kill",
	.run = kill_run,
	.summary = "send a signal (default SIGTERM) to a container",
	.usage = "[--all] ID [SIGNAL]\n\n"
		 "  -a, --all   signal every process of the container\n"
		 "  SIGNAL      a name (TERM, SIGTERM, RTMIN+1) or a number",
};
