/* seccomp_prepare timing: compiled by libseccomp vs loaded from the cache.
 * Usage: seccomp-cache PROFILE.json CACHE_DIR|- ITERATIONS
 * Prints one line per iteration: microseconds, "cache" or "compile". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileutil.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/linux/seccomp.h"

int main(int argc, char **argv)
{
	static const char fmt[] = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
				  "\"linux\":{\"seccomp\":%s}}";
	struct husk_error err = { 0 };
	struct oci_config *cfg = NULL;
	_cleanup_free_ char *profile = NULL, *config = NULL;
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PROFILE.json CACHE_DIR|- ITERATIONS\n", argv[0]);
		return 2;
	}
	if (read_file_at(AT_FDCWD, argv[1], 1 << 20, &profile, &len, &err) < 0)
		goto fail;
	config = malloc(len + sizeof(fmt));
	if (config == NULL)
		return 1;
	snprintf(config, len + sizeof(fmt), fmt, profile);
	if (oci_decode(&oci_config_type, config, strlen(config), "config.json", (void **)&cfg, &err) < 0)
		goto fail;
	const char *cache = strcmp(argv[2], "-") ? argv[2] : NULL;
	for (int i = 0, n = atoi(argv[3]); i < n; i++) {
		struct husk_seccomp *s = NULL;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (seccomp_prepare(cfg->linux->seccomp, cache, &s, &err) < 0)
			goto fail;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%.1f %s %zu\n", (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3,
		       seccomp_from_cache(s) ? "cache" : "compile", seccomp_program_len(s));
		seccomp_free(s);
	}
	oci_free(&oci_config_type, cfg);
	return 0;
fail:
	fprintf(stderr, "%s\n", err.msg);
	return 1;
}
