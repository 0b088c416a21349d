/* husk-image list: the images in the store. Names and platforms come from
 * registries and images: printed with control characters escaped. A
 * damaged index.json still lists what can be read, with a warning. */
#include <stdio.h>
#include <string.h>

#include "common/escape.h"
#include "common/fileutil.h"
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
	struct husk_error damage = { 0 };
	int r = cmd_open_store(g, false, false, &s, err);
	if (r < 0)
		return r;
	r = store_index_read(&s, &idx, &damage, err);
	store_close(&s);
	if (r < 0)
		return r;
	if (damage.code) {
		_cleanup_free_ char *shown = str_escape(damage.msg);
		fprintf(stderr,
			"husk-image list: warning: %s; listing what could be read ('husk-image gc' "
			"rewrites it)\n",
			shown ? shown : "index.json is damaged");
	}
	if (!quiet)
		printf("%-50s %-20s %-16s %s\n", "NAME", "DIGEST", "PLATFORM", "SIZE");
	for (size_t i = 0; r == 0 && i < idx->manifests.len; i++) {
		const struct oci_descriptor *d = &idx->manifests.items[i];
		const char *name = oci_map_get(&d->annotations, OCI_ANNOTATION_REF_NAME);
		_cleanup_strbuf_ struct strbuf shown = STRBUF_INIT, plat = STRBUF_INIT;
		sb_add_escaped(&shown, name ? name : quiet ? d->digest : "<none>");
		if (d->platform) {
			sb_add_escaped(&plat, d->platform->os);
			sb_addc(&plat, '/');
			sb_add_escaped(&plat, d->platform->architecture);
			if (d->platform->variant) {
				sb_addc(&plat, '/');
				sb_add_escaped(&plat, d->platform->variant);
			}
		} else {
			sb_add(&plat, "-");
		}
		if ((r = sb_check(&shown, err, "list")) < 0 || (r = sb_check(&plat, err, "list")) < 0)
			break;
		if (quiet)
			printf("%s\n", shown.buf);
		else
			printf("%-50s %-20.19s %-16s %lld\n", shown.buf, d->digest, plat.buf,
			       (long long)d->size);
	}
	oci_free(&oci_index_type, idx);
	return r;
}

const struct image_cmd cmd_list = {
	.name = "list",
	.run = list_run,
	.summary = "list the images in the store",
	.shortopts = "q",
	.usage = "[-q]\n\n  -q, --quiet  names only",
};
