/* husk-image tag SOURCE NAME...: give an image in the store more names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/escape.h"
#include "image/image.h"

static int tag_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;
	while ((c = cmd_getopt(&cmd_tag, argc, argv, opts)) != -1)
		return c;
	if (argc - optind < 2)
		return cmd_usage_error(&cmd_tag, "missing argument: expected SOURCE NAME...");
	char **names = argv + optind + 1;
	size_t n = (size_t)(argc - optind - 1);
	for (size_t i = 0; i < n; i++) {
		if (str_has_ctl(names[i]))
			return cmd_usage_error(&cmd_tag, "\"%s\": a name holds control characters",
					       names[i]);
		if (oci_digest_valid(names[i]))
			return cmd_usage_error(&cmd_tag, "\"%s\": a digest is not a name",
					       names[i]);
		if (strncmp(names[i], "docker://", 9) == 0) {
			/* stored as list shows it: HOST/NAME:TAG */
			struct image_ref r;
			if (ref_parse(names[i], &r, err) < 0)
				return -err->code;
			if (r.digest) {
				ref_free(&r);
				return cmd_usage_error(&cmd_tag, "\"%s\": a digest is not a name",
						       names[i]);
			}
			names[i] = r.name; /* (lives as long as the command) */
			r.name = NULL;
			ref_free(&r);
		}
	}
	struct image_ref ref;
	int r = ref_parse(argv[optind], &ref, err);
	if (r < 0)
		return r;
	struct store s;
	const char *name;
	r = cmd_open_ref_store(g, &ref, &s, &name, err);
	if (r == 0 && ref.kind == REF_OCI) {
		store_close(&s);
		r = err_set(err, EINVAL, "%s: tag works on the store; copy the image in first",
			    argv[optind]);
	}
	if (r < 0) {
		ref_free(&ref);
		return r;
	}
	struct oci_descriptor *d = NULL;
	r = store_lookup(&s, name, &d, err);
	if (r == -ENOENT && ref.kind == REF_NAME)
		r = store_lookup(&s, argv[optind], &d, err);
	if (r == 0) {
		/* the source's own name is not copied over */
		struct oci_descriptor plain = *d;
		plain.annotations = (oci_string_map){ 0 };
		r = store_tag_many(&s, (const char *const *)names, n, &plain, err);
	}
	oci_free(&oci_descriptor_type, d);
	store_close(&s);
	ref_free(&ref);
	return r;
}

const struct image_cmd cmd_tag = {
	.name = "tag",
	.run = tag_run,
	.summary = "give an image in the store more names",
	.usage = "SOURCE NAME...\n\n"
		 "  SOURCE  a name as 'husk-image list' shows it, a docker:// reference or a "
		 "manifest digest\n"
		 "  NAME    a name, or a docker:// reference (kept as HOST/NAME:TAG)",
};
