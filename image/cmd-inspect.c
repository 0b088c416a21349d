/* husk-image inspect REF: the manifest and config of an image, as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "image/image.h"

struct inspect_doc {
	char *name;
	char *digest;
	struct oci_manifest *manifest;
	struct oci_image_config *config;
};

#define OCI_CUR struct inspect_doc
static const struct oci_field inspect_fields[] = {
	F_STR("name", name),
	F_STR("digest", digest),
	F_OBJ("manifest", manifest, oci_manifest_type),
	F_OBJ("config", config, oci_image_config_type),
};
static OCI_TYPE(inspect_type, struct inspect_doc, inspect_fields);
#undef OCI_CUR

/* The JSON encoder escapes C0 controls but writes DEL and the C1 controls
 * (U+0080..U+009F, e.g. U+009B, a CSI) as they are: from a hostile config
 * they would reach the terminal. They can only be inside strings, where
 * \u00XX means the same. */
static int print_json_safe(const char *json, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)json; *p; p++) {
		if (*p == 0x7f) {
			sb_add(&out, "\\u007f");
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			sb_addf(&out, "\\u%04x", p[1]);
			p++;
		} else {
			sb_addc(&out, (char)*p);
		}
	}
	int r = sb_check(&out, err, "inspect");
	if (r == 0)
		printf("%s\n", out.buf);
	return r;
}

static int inspect_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	struct platform plat;
	int c = cmd_parse_platform_only(&cmd_inspect, argc, argv, &plat, "REF", 1, err);
	if (c != 0)
		return c;

	struct image_ref ref;
	struct store s;
	struct image img = { 0 };
	const char *name;
	int r = ref_parse(argv[optind], &ref, err);
	if (r < 0)
		return r;
	r = cmd_open_ref_store(g, &ref, &s, &name, err);
	if (r == 0) {
		r = image_load(&s, name, &plat, &img, err);
		store_close(&s);
	}
	if (r == 0) {
		struct inspect_doc doc = { .name = (char *)name,
					   .digest = img.manifest_digest,
					   .manifest = img.manifest,
					   .config = img.config };
		_cleanup_free_ char *json = NULL;
		size_t len;
		r = oci_encode(&inspect_type, &doc, true, &json, &len, err);
		if (r == 0)
			r = print_json_safe(json, err);
	}
	image_free(&img);
	ref_free(&ref);
	return r;
}

const struct image_cmd cmd_inspect = {
	.name = "inspect",
	.run = inspect_run,
	.summary = "print an image's manifest and config as JSON",
	.usage = "[--platform OS/ARCH[/VARIANT]] REF",
};
