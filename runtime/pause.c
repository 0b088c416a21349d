/* husk pause / husk resume: freeze and thaw every process of a container. */
#include <errno.h>
#include <unistd.h>

#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"

static int freeze_verb(const struct verb *v, struct husk_globals *g, int argc, char **argv,
		       bool frozen, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;

	while ((c = verb_getopt(v, argc, argv, opts)) != -1)
		return c;
	if ((c = verb_need_args(v, argc, 1, "a container id")) != 0)
		return c;
	struct container *ct = NULL;
	int r = load_container(g, argv[optind], true, &ct, err);
	if (r < 0)
		return r;
	enum container_status want = frozen ? STATUS_RUNNING : STATUS_PAUSED;
	if (ct->status != want)
		r = err_set(err, EINVAL, "cannot %s container \"%s\": it is %s, not %s", v->name, ct->id,
			    status_name(ct->status), status_name(want));
	else
		r = cgroup_freeze(ct->state->cgroup_path, frozen, err);
	container_free(ct);
	return r;
}

static int pause_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	return freeze_verb(&verb_pause, g, argc, argv, true, err);
}

static int resume_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	return freeze_verb(&verb_resume, g, argc, argv, false, err);
}

const struct verb verb_pause = {
	.name = "pause",
	.run = pause_run,
	.summary = "freeze every process of a running container",
	.usage = "ID",
};

const struct verb verb_resume = {
	.name = "resume",
	.run = resume_run,
	.summary = "thaw a paused container",
	.usage = "ID",
};
