/* linux.seccomp, from the JSON object to the BPF program, without loading
 * it: the input is the value of "seccomp", decoded inside a config the way
 * create decodes it, then resolved (actions, errnos, architectures, flags,
 * argument operators) and compiled through libseccomp into the program
 * seccomp_install would load, without the cache. */
#include <stdio.h>

#include "oci-spec/runtime-spec.h"
#include "runtime/linux/seccomp.h"
#include "tests/fuzz/fuzz.h"

#define PREFIX "{\"ociVersion\":\"1.2.0\",\"linux\":{\"seccomp\":"
#define SUFFIX "}}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct husk_error err;
	struct oci_config *cfg = NULL;
	size_t len = strlen(PREFIX) + size + strlen(SUFFIX);
	char *doc = malloc(len);
	if (doc == NULL)
		abort();
	memcpy(doc, PREFIX, strlen(PREFIX));
	memcpy(doc + strlen(PREFIX), data, size);
	memcpy(doc + strlen(PREFIX) + size, SUFFIX, strlen(SUFFIX));
	int r = oci_decode(&oci_config_type, doc, len, "config.json", (void **)&cfg, &err);
	free(doc);
	if (r < 0)
		return 0;

	struct husk_seccomp *s = NULL;
	r = seccomp_prepare(cfg->linux ? cfg->linux->seccomp : NULL, NULL, &s, &err);
	if (r == 0 && s) {
		FUZZ_ASSERT(seccomp_program_len(s) > 0, "an empty program for a profile");
		(void)seccomp_uses_notify(s);
	}
	FUZZ_ASSERT(r == 0 || s == NULL, "seccomp_prepare failed and left a filter");
	seccomp_free(s);
	oci_free(&oci_config_type, cfg);
	return 0;
}
