/* husk list: the containers under --root. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "runtime/lifecycle.h"

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int list_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	bool json = false, quiet = false;
	int c;

	while ((c = verb_getopt(&verb_list, argc, argv, opts)) != -1) {
		if (c == 'q') {
			quiet = true;
		} else if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") != 0)
				return verb_usage_error(&verb_list, "--format: \"%s\" is not table or json",
							optarg);
		} else {
			return c;
		}
	}
	if ((c = verb_need_args(&verb_list, argc, 0, "no arguments")) != 0)
		return c;

	int rootfd;
	int r = open_root(g, false, &rootfd, err);
	if (r == -ENOENT) {
		printf(json ? "[]\n" : quiet ? "" : "ID    PID   STATUS   BUNDLE   CREATED   OWNER\n");
		return 0;
	}
	if (r < 0)
		return r;
	/* sorted by id, as runc lists them */
	struct dirent **names = NULL;
	int count = scandirat(rootfd, ".", &names, NULL, by_name);
	if (count < 0) {
		int e = errno;
		close(rootfd);
		return err_sys(err, e, "list %s", g->root);
	}
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
		       "OWNER");
	bool first = true;
	for (int i = 0; i < count; i++) {
		const struct dirent *de = names[i];
		if (de->d_name[0] == '.')
			continue;
		struct container *ct = NULL;
		struct husk_error ignored = { 0 };
		/* a create in progress or killed is listed (creating, stopped),
		 * a damaged state.json too, so that delete --force of what -q
		 * prints clears everything */
		if (container_load_any(rootfd, de->d_name, false, &ct, &ignored) < 0) {
			/* gone meanwhile, or out of fds or memory: not silently */
			if (ignored.code != ENOENT)
				log_warn("%s", ignored.msg);
			continue;
		}
		if (ct->damage) {
			log_warn("container \"%s\": %s (delete --force removes it)", ct->id, ct->damage);
			if (quiet)
				printf("%s\n", ct->id);
			else if (!json)
				printf("%-12s %-8d %-10s %-40s %-31s %s\n", ct->id, 0, "damaged", "", "", "");
			container_free(ct);
			continue;
		}
		if (ct->status == STATUS_STOPPED)
			ct->state->pid = 0;
		container_fill_owner(ct);
		if (quiet) {
			printf("%s\n", ct->id);
		} else if (json) {
			_cleanup_free_ char *one = NULL;
			size_t len;
			if (oci_encode(&container_public_state_type, ct->state, false, &one, &len, err) == 0)
				printf("%s%s", first ? "" : ",", one);
		} else {
			printf("%-12s %-8d %-10s %-40s %-31s %s\n", ct->id, ct->state->pid, ct->state->status,
			       ct->state->bundle, ct->state->created ? ct->state->created : "",
			       ct->state->owner ? ct->state->owner : "");
		}
		first = false;
		container_free(ct);
	}
	if (json)
		printf("]\n");
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	close(rootfd);
	return 0;
}

const struct verb verb_list = {
	.name = "list",
	.run = list_run,
	.summary = "list containers",
	.usage = "[--format table|json] [-q]\n\n"
		 "  -f, --format table|json   output format (default table)\n"
		 "  -q, --quiet               only the ids",
};
