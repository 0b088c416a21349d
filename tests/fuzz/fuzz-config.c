/* config.json, as `husk create` reads it: the runtime-spec decoder, the
 * version check, and the checks that run before anything exists on the
 * host (resources, device rules, linux.devices, the memory policy, the
 * resctrl schemata text, network device names). Then the property husk
 * relies on when it saves the config in the state directory and reads it
 * back at exec and delete: whatever decodes, encodes to something that
 * decodes again to the same encoding. */
#include <stdio.h>

#include "oci-spec/runtime-spec.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/systemd.h"
#include "runtime/linux/intelrdt.h"
#include "runtime/linux/mempolicy.h"
#include "runtime/linux/devices.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/netdev.h"
#include "tests/fuzz/fuzz.h"

static char *encode(const struct oci_config *cfg, bool pretty)
{
	struct husk_error err;
	char *out = NULL;
	size_t len;
	int r = oci_encode(&oci_config_type, cfg, pretty, &out, &len, &err);
	FUZZ_ASSERT(r == 0, "encoding a decoded config failed: %s", err.msg);
	FUZZ_ASSERT(strlen(out) == len, "encoded length %zu, string length %zu", len, strlen(out));
	return out;
}

/* the 1.3 fields' decoders: an error names its field; what is accepted
 * holds what the kernel takes */
static void check_spec13(const struct oci_linux *lx)
{
	struct husk_error err;
	if (lx->memoryPolicy) {
		struct mempolicy pol;
		int r = mempolicy_parse(lx->memoryPolicy, "0-3", &pol, &err);
		FUZZ_ASSERT(r == 0 || (err.code > 0 && strncmp(err.msg, "linux.memoryPolicy", 18) == 0),
			    "memoryPolicy error: %s", err.msg);
	}
	if (lx->intelRdt) {
		char text[INTELRDT_SCHEMATA_MAX + 2];
		int r = intelrdt_schemata(lx->intelRdt, text, sizeof(text), &err);
		FUZZ_ASSERT(r == 0 ? strlen(text) <= INTELRDT_SCHEMATA_MAX
				   : err.code > 0 && strncmp(err.msg, "linux.intelRdt", 14) == 0,
			    "intelRdt schemata: %d %s", r, r ? err.msg : text);
	}
	for (size_t i = 0; i < lx->netDevices.len; i++) {
		const char *names[] = { lx->netDevices.keys[i], lx->netDevices.values[i].name };
		for (int k = 0; k < 2; k++)
			if (names[k] && netdev_name_ok(names[k], k))
				FUZZ_ASSERT(strlen(names[k]) >= 1 && strlen(names[k]) <= 15 &&
						    !strpbrk(names[k], "/: \n"),
					    "network device name \"%s\" accepted", names[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct husk_error err;
	struct oci_config *cfg = NULL;

	int r = oci_decode(&oci_config_type, (const char *)data, size, "config.json", (void **)&cfg,
			   &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, &err, "config.json");
		return 0;
	}
	if (cfg->ociVersion && (r = oci_check_version("config.json", cfg->ociVersion, &err)) < 0)
		FUZZ_CHECK_ERROR(r, &err, "config.json");
	if (cfg->linux) {
		(void)cgroup_check_resources(cfg->linux->resources, &err);
		(void)devices_validate(cfg->linux, &err);
		check_spec13(cfg->linux);
	}
	(void)cgroup_check_devices(cfg, &err);
	/* the device list and annotations --systemd-cgroup gives systemd */
	if ((r = systemd_check_properties(cfg, &err)) < 0) {
		FUZZ_ASSERT(err.code > 0, "systemd properties: failure %d with error code %d", r,
			    err.code);
		for (const char *c = err.msg; *c; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f,
				    "control character %#x in the error: %s", (unsigned char)*c,
				    err.msg);
	}

	for (int pretty = 0; pretty <= 1; pretty++) {
		char *first = encode(cfg, pretty);
		struct oci_config *again = NULL;
		int r = oci_decode(&oci_config_type, first, strlen(first), "config.json",
				   (void **)&again, &err);
		FUZZ_ASSERT(r == 0, "husk's own encoding does not decode: %s\n%s", err.msg, first);
		char *second = encode(again, pretty);
		FUZZ_ASSERT(strcmp(first, second) == 0, "encoding changed on a round trip:\n%s\n%s",
			    first, second);
		free(second);
		oci_free(&oci_config_type, again);
		free(first);
	}
	oci_free(&oci_config_type, cfg);
	return 0;
}
