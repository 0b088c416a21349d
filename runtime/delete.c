/* husk delete: remove a created or stopped container (--force: any). */
#include <errno.h>
#include <unistd.h>

#include "runtime/lifecycle.h"

static int delete_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	bool force = false;
	int c;

	while ((c = verb_getopt(&verb_delete, argc, argv, opts)) != -1) {
		if (c != 'f')
			return c;
		force = true;
	}
	if ((c = verb_need_args(&verb_delete, argc, 1, "a container id")) != 0)
		return c;
	int rootfd;
	int r = open_root_for(g, argv[optind], &rootfd, err);
	if (r == -ENOENT && force)
		return 0;
	if (r < 0)
		return r;
	struct container *ct = NULL;
	/* any directory loads: a create or delete cut short, or a damaged
	 * state.json, is what --force is there to clear */
	r = container_load_any(rootfd, argv[optind], true, &ct, err);
	if (r == 0)
		r = lifecycle_delete(rootfd, ct, force, err);
	else if (r == -ENOENT && force)
		r = 0; /* as runc: deleting a missing container with --force succeeds */
	container_free(ct);
	close(rootfd);
	return r;
}

const struct verb verb_delete = {
	.name = "delete",
	.run = delete_run,
	.summary = "delete a container and everything create made for it",
	.usage = "[--force] ID\n\n"
		 "  -f, --force   kill a running container first",
};
