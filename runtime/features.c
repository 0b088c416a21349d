/* husk features: the runtime-spec features document. It lists only what
 * this build implements; each list grows with the code behind it. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/capability.h>

#include "common/fileutil.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/husk.h"
#include "runtime/linux/lsm.h"
#include "runtime/linux/mempolicy.h"
#include "runtime/linux/mounts.h"
#include "runtime/linux/namespaces.h"
#include "runtime/linux/seccomp.h"

static const char *const hook_names[] = { "prestart",       "createRuntime", "createContainer",
					  "startContainer", "poststart",     "poststop" };

/* Every capability libcap and this kernel know. */
static int known_capabilities(oci_strings *out)
{
	for (int v = 0; v < (int)cap_max_bits(); v++) {
		char *name = cap_to_name(v);
		if (name == NULL)
			return -1;
		/* libcap prints "cap_chown"; the spec spells CAP_CHOWN */
		char upper[64];
		size_t i = 0;
		for (; name[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
		upper[i] = '\0';
		cap_free(name);
		if (oci_strings_append(out, upper) < 0)
			return -1;
	}
	return 0;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

static void free_strings(oci_strings *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->items[i]);
	free(s->items);
}

static int features_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;

	while ((c = verb_getopt(&verb_features, argc, argv, opts)) != -1)
		return c;
	if ((c = verb_need_args(&verb_features, argc, 0, "no arguments")) != 0)
		return c;

	const char *namespaces[8];
	for (size_t i = 0; i < ns_kinds_count; i++)
		namespaces[i] = ns_kinds[i].type;
	struct oci_features_cgroup cgroup = {
		.v1 = true, .has_v1 = true, .v2 = true, .has_v2 = true,
		/* --systemd-cgroup: when its helper is built (husk-systemd) */
		.systemd = HUSK_HAVE_SYSTEMD_DRIVER, .has_systemd = true, .systemdUser = false, .has_systemdUser = true,
		.rdma = false, .has_rdma = true,
	};
	struct oci_features_enabled disabled = { .enabled = false, .has_enabled = true };
	struct oci_features_enabled enabled = { .enabled = true, .has_enabled = true };
	struct oci_features_mount_ext mount_ext = { .idmap = &enabled };
	/* what husk implements, as features.md asks, whatever this host has:
	 * create says what the host lacks (no resctrl, a node not online) */
	struct oci_features_intel_rdt rdt = {
		.enabled = true, .has_enabled = true, .schemata = true, .has_schemata = true,
		.monitoring = true, .has_monitoring = true,
	};
	/* NULL-terminated name lists -> arrays */
#define NAMES(list) { (char **)(list), count_names(list) }
	const char *supported[16];
	size_t nsupported = seccomp_supported_flags(supported, 16);
	struct oci_features_seccomp seccomp = {
		.enabled = seccomp_enabled(),
		.has_enabled = true,
	};
	if (seccomp.enabled) {
		seccomp.actions = (oci_strings)NAMES(husk_seccomp_actions);
		seccomp.operators = (oci_strings)NAMES(husk_seccomp_operators);
		seccomp.archs = (oci_strings)NAMES(husk_seccomp_archs);
		seccomp.knownFlags = (oci_strings)NAMES(husk_seccomp_flags);
		seccomp.supportedFlags = (oci_strings){ (char **)supported, nsupported };
	}
	struct oci_features_memory_policy mempolicy = {
		.modes = NAMES(mempolicy_mode_names),
		.flags = NAMES(mempolicy_flag_names),
	};
	struct oci_features_linux lx = {
		.seccomp = &seccomp,
		.namespaces = { (char **)namespaces, ns_kinds_count },
		.cgroup = &cgroup,
		/* enabled where husk can apply the labels: on this host */
		.apparmor = lsm_apparmor_enabled() ? &enabled : &disabled,
		.selinux = lsm_selinux_enabled() ? &enabled : &disabled,
		.intelRdt = &rdt,
		.memoryPolicy = &mempolicy,
		.mountExtensions = &mount_ext,
		.netDevices = &enabled,
	};
	/* runc's annotation: this build has checkpoint and restore (with
	 * CRIU, which engines check for themselves) */
	static const char *const annotation_keys[] = { "org.opencontainers.runc.checkpoint.enabled" };
	static const char *const annotation_values[] = { "true" };
	/* config annotations that change what husk does (features.md: a
	 * trailing "." is a prefix): with --systemd-cgroup, unit properties */
	static const char *const unsafe[] = { "org.systemd.property." };
	struct oci_features f = {
		.annotations = { (char **)annotation_keys, (char **)annotation_values, 1 },
		.potentiallyUnsafeConfigAnnotations = { (char **)unsafe, HUSK_HAVE_SYSTEMD_DRIVER ? 1 : 0 },
		.ociVersionMin = "1.0.0",
		.ociVersionMax = OCI_RUNTIME_SPEC_VERSION,
		.hooks = { (char **)hook_names, sizeof(hook_names) / sizeof(hook_names[0]) },
		.mountOptions = { (char **)mount_option_names, mount_option_count },
		.linux = &lx,
	};
	if (known_capabilities(&lx.capabilities) < 0) {
		free_strings(&lx.capabilities);
		return err_sys(err, ENOMEM, "features");
	}
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&oci_features_type, &f, true, &json, &len, err);
	free_strings(&lx.capabilities);
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
