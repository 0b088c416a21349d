/* husk-image copy SRC oci:DIR[:TAG]: write an image into an OCI image
 * layout that skopeo, umoci and other OCI tools read. */
#include <stdio.h>

#include "image/image.h"

static int copy_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	struct platform plat;
	int c = cmd_parse_platform_only(&cmd_copy, argc, argv, &plat, "SRC and oci:DIR[:TAG]", 2, err);
	if (c != 0)
		return c;

	struct image_ref src, dst;
	int r = ref_parse(argv[optind], &src, err);
	if (r < 0)
		return r;
	r = ref_parse(argv[optind + 1], &dst, err);
	if (r < 0) {
		ref_free(&src);
		return r;
	}
	if (dst.kind != REF_OCI) {
		r = cmd_usage_error(&cmd_copy, "\"%s\": the destination must be oci:DIR[:TAG]",
				    argv[optind + 1]);
		goto out;
	}
	struct store from, to;
	const char *name;
	char digest[DIGEST_LEN + 1];
	if ((r = cmd_open_ref_store(g, &src, &from, &name, err)) < 0)
		goto out;
	if ((r = store_open(dst.dir, true, false, &to, err)) == 0) {
		r = image_copy(&from, name, &plat, &to, dst.tag, digest, err);
		store_close(&to);
	}
	store_close(&from);
	if (r == 0)
		printf("%s\n", digest);
out:
	ref_free(&src);
	ref_free(&dst);
	return r;
}

const struct image_cmd cmd_copy = {
	.name = "copy",
	.run = copy_run,
	.summary = "copy an image into an OCI image layout directory and print its digest",
	.usage = "[--platform OS/ARCH[/VARIANT]] SRC oci:DIR[:TAG]\n\n"
		 "  SRC is an image of the store (as 'list' names it) or oci:DIR[:TAG]; the\n"
		 "  layout at DIR is created when missing, and TAG (default latest) names the\n"
		 "  image in its index.json",
};
