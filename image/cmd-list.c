/* husk-image list: the images in the store. */
#include <stdio.h>
#include <string.h>

#include "image/image.h"

static int list_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	bool quiet = false;
	int c;
	while ((c = cmd_getopt(&cmd_list, argc, argv, opts)) != -1) {
		if (c != 'q')
			return c;
		quiet = true;
	}
	if ((c = cmd_need_args(&cmd_list, argc, 0, "no arguments")) != 0)
		return c;

	struct store s;
	struct oci_index *idx = NULL;
	int r = cmd_open_store(g, false, false, &s, err);
	if (r < 0)
		return r;
	r = store_index_load(&s, &idx, err);
	store_close(&s);
	if (r < 0)
		return r;
	if (!quiet)
		printf("%-50s %-20s %-16s %s\n", "NAME", "DIGEST", "PLATFORM", "SIZE");
	for (size_t i = 0; i < idx->manifests.len; i++) {
		const struct oci_descriptor *d = &idx->manifests.items[i];
		const char *name = oci_map_get(&d->annotations, OCI_ANNOTATION_REF_NAME);
		if (quiet) {
			printf("%s\n", name ? name : d->digest);
			continue;
		}
		char plat[96] = "-";
		if (d->platform)
			snprintf(plat, sizeof(plat), "%s/%s%s%s", d->platform->os,
				 d->platform->architecture, d->platform->variant ? "/" : "",
				 d->platform->variant ? d->platform->variant : "");
		printf("%-50s %-20.19s %-16s %lld\n", name ? name : "<none>", d->digest, plat,
		       (long long)d->size);
	}
	oci_free(&oci_index_type, idx);
	return 0;
}

const struct image_cmd cmd_list = {
	.name = "list",
	.run = list_run,
	.summary = "list the images in the store",
	.shortopts = "q",
	.usage = "[-q]\n\n  -q, --quiet  names only",
};
