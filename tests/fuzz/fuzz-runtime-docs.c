/* The other runtime-spec JSON husk reads: the first byte picks the decoder
 * (s the OCI state document, as hooks and engines pass it; h husk's own
 * state.json under --root, which a damaged or hostile file may replace;
 * f features.json; p a process, as `exec --process` reads it; r
 * resources, as `update -r` reads them), the rest is the JSON. Round trip
 * as in fuzz-config: state.json is written from what was decoded. */
#include <stdio.h>

#include "oci-spec/runtime-spec.h"
#include "runtime/container.h"
#include "runtime/linux/cgroup.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct oci_type *const types[] = {
		&oci_state_type,   &container_state_type, &oci_features_type,
		&oci_process_type, &oci_resources_type,
	};
	size_t k = fuzz_select(data, size, "shfpr");
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
	if (type == &oci_resources_type)
		(void)cgroup_check_resources(doc, &err);
	if (type == &oci_state_type && ((struct oci_state *)doc)->ociVersion)
		(void)oci_check_version("state", ((struct oci_state *)doc)->ociVersion, &err);

	char *first = NULL, *second = NULL;
	size_t len;
	void *again = NULL;
	FUZZ_ASSERT(oci_encode(type, doc, true, &first, &len, &err) == 0, "%s: encode: %s",
		    type->name, err.msg);
	FUZZ_ASSERT(oci_decode(type, first, len, "doc.json", &again, &err) == 0,
		    "%s: husk's own encoding does not decode: %s\n%s", type->name, err.msg, first);
	FUZZ_ASSERT(oci_encode(type, again, true, &second, &len, &err) == 0, "%s: encode: %s",
		    type->name, err.msg);
	FUZZ_ASSERT(strcmp(first, second) == 0, "%s: encoding changed on a round trip:\n%s\n%s",
		    type->name, first, second);
	free(first);
	free(second);
	oci_free(type, again);
	oci_free(type, doc);
	return 0;
}
