/* husk features: the runtime-spec features document. It lists only what
 * this build implements; each list grows with the code behind it. */

#include <stdio.h>

#include "common/fileutil.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/husk.h"

#define STRINGS(arr) { (char **)(arr), sizeof(arr) / sizeof((arr)[0]) }

static int features_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;

	while ((c = verb_getopt(&verb_features, argc, argv, opts)) != -1)
		return c;
	if ((c = verb_need_args(&verb_features, argc, 0, "no arguments")) != 0)
		return c;

	struct oci_features_linux lx = { 0 };
	struct oci_features f = {
		.ociVersionMin = "1.0.0",
		.ociVersionMax = OCI_RUNTIME_SPEC_VERSION,
		.linux = &lx,
	};
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&oci_features_type, &f, true, &json, &len, err);
	if (r < 0)
		return r;
	printf("%s\n", json);
	return 0;
}

const struct verb verb_features = {
	.name = "features",
	.run = features_run,
	.summary = "show what this build of husk supports (runtime-spec features.md)",
	.usage = "",
};
