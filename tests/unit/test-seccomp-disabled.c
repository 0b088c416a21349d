/* Built with --disable-seccomp: a profile is refused, naming linux.seccomp. */
#include <string.h>

#include "oci-spec/runtime-spec.h"
#include "runtime/linux/seccomp.h"
#include "tests/unit/unit.h"

int main(void)
{
	static const char json[] = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
				   "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}";
	struct husk_error err = { 0 };
	struct oci_config *cfg = NULL;
	struct husk_seccomp *s = NULL;
	const char *flags[8];

	CHECK(oci_decode(&oci_config_type, json, strlen(json), "config.json", (void **)&cfg, &err) == 0,
	      "%s", err.msg);
	CHECK(seccomp_prepare(cfg->linux->seccomp, NULL, &s, &err) < 0 && s == NULL,
	      "a profile must be refused");
	CHECK_STR(err.msg, "linux.seccomp: this husk was built without seccomp support (configure --disable-seccomp)");
	CHECK(seccomp_prepare(NULL, NULL, &s, &err) == 0 && s == NULL, "no profile, nothing to do");
	CHECK(!seccomp_enabled(), "seccomp_enabled");
	CHECK(seccomp_supported_flags(flags, 8) == 0 && flags[0] == NULL, "no supported flags");
	oci_free(&oci_config_type, cfg);
	return unit_summary("test-seccomp-disabled");
}
