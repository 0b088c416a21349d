/* husk state: the state of a container as JSON. */
#include <errno.h>
#include <stdio.h>

#include "common/fileutil.h"
#include <unistd.h>

#include "runtime/lifecycle.h"

static int state_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;

	while ((c = verb_getopt(&verb_state, argc, argv, opts)) != -1)
		return c;
	if ((c = verb_need_args(&verb_state, argc, 1, "a container id")) != 0)
		return c;
	struct container *ct = NULL;
	int rootfd;
	int r = open_root_for(g, argv[optind], &rootfd, err);
	if (r < 0)
		return r;
	/* a create in progress (or killed) shows as creating (or stopped) */
	r = container_load_any(rootfd, argv[optind], false, &ct, err);
	close(rootfd);
	if (r < 0)
		return r;
	if (ct->damage) {
		r = err_set(err, EUCLEAN, "container \"%s\": %s (delete --force removes it)", ct->id,
			    ct->damage);
		container_free(ct);
		return r;
	}
	if (ct->status == STATUS_STOPPED)
		ct->state->pid = 0;
	container_fill_owner(ct);
	_cleanup_free_ char *json = NULL;
	size_t len;
	r = oci_encode(&container_public_state_type, ct->state, true, &json, &len, err);
	if (r == 0)
		printf("%s\n", json);
	container_free(ct);
	return r;
}

const struct verb verb_state = {
	.name = "state",
	.run = state_run,
	.summary = "print the state of a container (JSON)",
	.usage = "ID",
};
