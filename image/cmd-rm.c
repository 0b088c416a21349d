/* husk-image rm REF...: drop names from the store (gc frees the blobs).
 * A REF is any name list shows (oci:DIR:TAG included), a docker:// reference
 * or a manifest digest (every name pointing at it goes). */
#include <errno.h>
#include <stdio.h>

#include "image/image.h"

static int rm_one(struct store *s, const char *arg, struct husk_error *err)
{
	if (oci_digest_valid(arg)) {
		size_t dropped = 0;
		return store_untag_digest(s, arg, &dropped, err);
	}
	/* the name exactly as list shows it */
	int r = store_untag(s, arg, err);
	if (r != -ENOENT)
		return r;
	struct image_ref ref;
	if (ref_parse(arg, &ref, err) < 0)
		return store_untag(s, arg, err); /* (names the store, not the syntax) */
	if (ref.kind == REF_DOCKER)
		r = store_untag(s, ref.name, err);
	else
		r = store_untag(s, arg, err);
	ref_free(&ref);
	return r;
}

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
	for (int i = optind; r == 0 && i < argc; i++)
		r = rm_one(&s, argv[i], err);
	store_close(&s);
	return r;
}

const struct image_cmd cmd_rm = {
	.name = "rm",
	.run = rm_run,
	.summary = "remove images from the store (run gc to free their blobs)",
	.usage = "REF...\n\n"
		 "  REF  a name as 'husk-image list' shows it, a docker:// reference, or a "
		 "manifest\n"
		 "       digest (every name pointing at it is removed)",
};
