/* husk spec: write a starting config.json, as runc users know it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "oci-spec/default-config.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/husk.h"
#include "runtime/linux/cgroup.h"

static int spec_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ 0 },
	};
	const char *bundle = ".";
	bool rootless = false;
	int c;

	while ((c = verb_getopt(&verb_spec, argc, argv, opts)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			rootless = true;
			break;
		default:
			return c;
		}
	}
	if ((c = verb_need_args(&verb_spec, argc, 0, "no arguments")) != 0)
		return c;

	struct oci_config *cfg = NULL;
	int r = oci_default_config(rootless, &cfg, err);
	if (r < 0)
		return r;
	/* as runc: a cgroup namespace only where the host is pure cgroup v2;
	 * on v1 and hybrid hosts the container sees the host's cgroup paths */
	if (cgroup_mode() != CGROUP_V2)
		oci_config_drop_namespace(cfg, "cgroup");
	_cleanup_free_ char *json = NULL;
	size_t len;
	r = oci_encode(&oci_config_type, cfg, true, &json, &len, err);
	oci_free(&oci_config_type, cfg);
	if (r < 0)
		return r;

	_cleanup_close_ int dirfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_sys(err, errno, "bundle %s", bundle);
	_cleanup_close_ int fd = openat(dirfd, "config.json",
					O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(err, EEXIST, "%s/config.json already exists; remove it first",
				       bundle);
		return err_sys(err, errno, "%s/config.json", bundle);
	}
	r = write_all(fd, json, len);
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r < 0) {
		unlinkat(dirfd, "config.json", 0);
		return err_sys(err, -r, "%s/config.json", bundle);
	}
	return 0;
}

const struct verb verb_spec = {
	.name = "spec",
	.run = spec_run,
	.summary = "create a new config.json (refuses to overwrite one)",
	.usage = "[--bundle DIR] [--rootless]\n\n"
		 "  -b, --bundle DIR  write DIR/config.json (default: the current directory)\n"
		 "  --rootless        a config an unprivileged user can run",
};
