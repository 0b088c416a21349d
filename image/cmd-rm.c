/* husk-image rm REF...: drop names from the store (gc frees the blobs). */
#include <errno.h>
#include <stdio.h>

#include "image/image.h"

static int rm_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;
	while ((c = cmd_getopt(&cmd_rm, argc, argv, opts)) != -1)
		return c;
	if (argc - optind < 1)
		return cmd_usage_error(&cmd_rm, "missing argument: expected REF...");

	struct store s;
	int r = cmd_open_store(g, false, false, &s, err);
	if (r < 0)
		return r;
	for (int i = optind; r == 0 && i < argc; i++) {
		struct image_ref ref;
		r = ref_parse(argv[i], &ref, err);
		if (r == 0 && ref.kind == REF_OCI)
			r = err_set(
				err, EINVAL,
				"%s: rm works on the store; remove the layout directory instead",
				argv[i]);
		if (r == 0)
			r = store_untag(&s, ref.name, err);
		ref_free(&ref);
	}
	store_close(&s);
	return r;
}

const struct image_cmd cmd_rm = {
	.name = "rm",
	.run = rm_run,
	.summary = "remove images from the store (run gc to free their blobs)",
	.usage = "REF...",
};
