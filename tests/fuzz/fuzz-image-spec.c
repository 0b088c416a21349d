/* The image-spec documents husk-image reads from registries and from its
 * store: the first byte picks the decoder (i index, m manifest, c image
 * config, l oci-layout, p the manifest probe), the rest is the JSON. The
 * checks the puller runs on a decoded index or manifest run too, and the
 * media-type classifiers on every descriptor. Round trip as in
 * fuzz-config: the store writes what it decoded. */
#include <stdio.h>

#include "oci-spec/image-spec.h"
#include "tests/fuzz/fuzz.h"

static const struct oci_type *const types[] = {
	&oci_index_type, &oci_manifest_type, &oci_image_config_type, &oci_layout_type,
	&oci_manifest_probe_type,
};

static void descriptors(const oci_descriptors *d)
{
	for (size_t i = 0; i < d->len; i++) {
		const char *mt = d->items[i].mediaType;
		if (mt) {
			(void)oci_media_type_kind(mt);
			(void)oci_layer_compression(mt);
			(void)oci_media_type_is_config(mt);
		}
		if (d->items[i].digest)
			(void)oci_digest_valid(d->items[i].digest);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k = fuzz_select(data, size, "imclp");
	const struct oci_type *type = types[k];
	struct husk_error err;
	void *doc = NULL;

	if (size == 0)
		return 0;
	int r = oci_decode(type, (const char *)data + 1, size - 1, "doc.json", &doc, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, &err, "doc.json");
		return 0;
	}
	if (type == &oci_index_type) {
		const struct oci_index *idx = doc;
		if ((r = oci_index_check(idx, "index.json", &err)) < 0)
			FUZZ_CHECK_ERROR(r, &err, "index.json");
		descriptors(&idx->manifests);
	} else if (type == &oci_manifest_type) {
		const struct oci_manifest *m = doc;
		if ((r = oci_manifest_check(m, "manifest.json", &err)) < 0)
			FUZZ_CHECK_ERROR(r, &err, "manifest.json");
		descriptors(&m->layers);
		if (m->config)
			descriptors(&(oci_descriptors){ .items = m->config, .len = 1 });
	} else if (type == &oci_manifest_probe_type) {
		const struct oci_manifest_probe *p = doc;
		if (p->mediaType)
			(void)oci_media_type_kind(p->mediaType);
		descriptors(&p->manifests);
	}

	char *first = NULL, *second = NULL;
	size_t len;
	void *again = NULL;
	FUZZ_ASSERT(oci_encode(type, doc, false, &first, &len, &err) == 0, "%s: encode: %s",
		    type->name, err.msg);
	FUZZ_ASSERT(oci_decode(type, first, len, "doc.json", &again, &err) == 0,
		    "%s: husk's own encoding does not decode: %s\n%s", type->name, err.msg, first);
	FUZZ_ASSERT(oci_encode(type, again, false, &second, &len, &err) == 0, "%s: encode: %s",
		    type->name, err.msg);
	FUZZ_ASSERT(strcmp(first, second) == 0, "%s: encoding changed on a round trip:\n%s\n%s",
		    type->name, first, second);
	free(first);
	free(second);
	oci_free(type, again);
	oci_free(type, doc);
	return 0;
}
