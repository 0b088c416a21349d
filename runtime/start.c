/* husk start: let a created container's process run. */
#include <unistd.h>

#include "runtime/lifecycle.h"

static int start_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;

	while ((c = verb_getopt(&verb_start, argc, argv, opts)) != -1)
		return c;
	if ((c = verb_need_args(&verb_start, argc, 1, "a container id")) != 0)
		return c;
	struct container *ct = NULL;
	int r = load_container(g, argv[optind], true, &ct, err);
	if (r == 0)
		r = lifecycle_start(ct, err);
	container_free(ct);
	return r;
}

const struct verb verb_start = {
	.name = "start",
	.run = start_run,
	.summary = "start a created container",
	.usage = "ID",
};
