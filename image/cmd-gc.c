/* husk-image gc: delete the blobs no image in the store reaches, the
 * cached layers neither an image nor an overlay bundle uses, and what
 * interrupted pulls left (temp files, partial downloads). */
#include <stdio.h>

#include "common/escape.h"
#include "common/fileutil.h"

#include "image/image.h"

static int gc_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;
	while ((c = cmd_getopt(&cmd_gc, argc, argv, opts)) != -1)
		return c;
	if ((c = cmd_need_args(&cmd_gc, argc, 0, "no arguments")) != 0)
		return c;
	struct store s;
	size_t removed = 0, layers = 0;
	uint64_t bytes = 0;
	int r = cmd_open_store(g, false, true, &s, err);
	if (r < 0)
		return r;
	struct husk_error damage = { 0 };
	r = store_gc(&s, &removed, &bytes, &layers, &damage, err);
	store_close(&s);
	if (damage.code) {
		_cleanup_free_ char *shown = str_escape(damage.msg);
		fprintf(stderr, "husk-image gc: warning: %s; index.json rewritten without them\n",
			shown ? shown : "index.json was damaged");
	}
	if (r == 0)
		printf("removed %zu blobs, %llu bytes, %zu cached layers\n", removed,
		       (unsigned long long)bytes, layers);
	return r;
}

const struct image_cmd cmd_gc = {
	.name = "gc",
	.run = gc_run,
	.summary = "delete blobs and cached layers that no image or overlay bundle uses",
	.usage = "",
};
