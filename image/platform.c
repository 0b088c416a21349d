/* Platforms in the terms image indexes use (Go's GOOS/GOARCH/GOARM). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "image/image.h"

void platform_host(struct platform *p)
{
	static const struct {
		const char *machine, *arch, *variant;
	} table[] = {
		{ "x86_64", "amd64", "" },
		{ "aarch64", "arm64", "v8" },
		{ "armv7l", "arm", "v7" },
		{ "armv6l", "arm", "v6" },
		{ "i686", "386", "" },
		{ "i386", "386", "" },
		{ "ppc64le", "ppc64le", "" },
		{ "s390x", "s390x", "" },
		{ "riscv64", "riscv64", "" },
		{ "mips64", "mips64", "" },
		{ "loongarch64", "loong64", "" },
	};
	struct utsname u;

	snprintf(p->os, sizeof(p->os), "linux");
	p->variant[0] = '\0';
	if (uname(&u) < 0)
		u.machine[0] = '\0';
	snprintf(p->arch, sizeof(p->arch), "%s", u.machine);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(u.machine, table[i].machine) == 0) {
			snprintf(p->arch, sizeof(p->arch), "%s", table[i].arch);
			snprintf(p->variant, sizeof(p->variant), "%s", table[i].variant);
		}
	}
}

int platform_parse(const char *text, struct platform *p, struct husk_error *err)
{
	char os[64] = "", arch[64] = "", variant[64] = "";
	const char *s1 = strchr(text, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

	if (s1 == NULL || s1 == text || s1[1] == '\0' || s1[1] == '/' ||
	    (s2 && (s2[1] == '\0' || strchr(s2 + 1, '/'))))
		return err_set(err, EINVAL, "--platform \"%s\": expected OS/ARCH[/VARIANT]", text);
	snprintf(os, sizeof(os), "%.*s", (int)(s1 - text), text);
	if (s2) {
		snprintf(arch, sizeof(arch), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
		snprintf(variant, sizeof(variant), "%s", s2 + 1);
	} else {
		snprintf(arch, sizeof(arch), "%s", s1 + 1);
	}
	if (strlen(os) >= sizeof(p->os) || strlen(arch) >= sizeof(p->arch) ||
	    strlen(variant) >= sizeof(p->variant))
		return err_set(err, EINVAL, "--platform \"%s\": a part is too long", text);
	strcpy(p->os, os);
	strcpy(p->arch, arch);
	strcpy(p->variant, variant);
	return 0;
}

/* arm64 images often omit the variant: "" matches v8 there. */
static bool variant_matches(const struct platform *want, const char *have)
{
	if (want->variant[0] == '\0')
		return true;
	if (have == NULL || *have == '\0')
		return strcmp(want->arch, "arm64") == 0 && strcmp(want->variant, "v8") == 0;
	return strcmp(want->variant, have) == 0;
}

int platform_select(const struct oci_index *idx, const struct platform *p, const char *source,
		    const struct oci_descriptor **out, struct husk_error *err)
{
	const struct oci_descriptor *best = NULL;
	char offered[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < idx->manifests.len; i++) {
		const struct oci_descriptor *d = &idx->manifests.items[i];
		const struct oci_platform *dp = d->platform;
		if (oci_media_type_kind(d->mediaType) != OCI_DOC_MANIFEST || dp == NULL)
			continue;
		if (used < sizeof(offered))
			used += (size_t)snprintf(offered + used, sizeof(offered) - used,
						 "%s%s/%s%s%s", used ? ", " : "", dp->os,
						 dp->architecture, dp->variant ? "/" : "",
						 dp->variant ? dp->variant : "");
		if (strcmp(dp->os, p->os) != 0 || strcmp(dp->architecture, p->arch) != 0 ||
		    !variant_matches(p, dp->variant))
			continue;
		/* an exact variant beats a match by default */
		if (best == NULL || (dp->variant && strcmp(dp->variant, p->variant) == 0))
			best = d;
	}
	if (best == NULL)
		return err_set(err, ENOENT,
			       "%s: no manifest for platform %s/%s%s%s (the index has: %s)", source,
			       p->os, p->arch, p->variant[0] ? "/" : "", p->variant,
			       used ? offered : "none");
	*out = best;
	return 0;
}
