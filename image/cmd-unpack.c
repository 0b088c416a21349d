/* husk-image unpack REF BUNDLE: make an OCI bundle (rootfs/ and
 * config.json) from an image in the store. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/resolve.h"
#include "image/image.h"

static int write_config(int bundlefd, const struct oci_config *cfg, bool *made,
			struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&oci_config_type, cfg, true, &json, &len, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(bundlefd, "config.json",
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(err, errno, "config.json");
	*made = true;
	r = write_all(fd, json, len);
	if (r == 0)
		r = write_all(fd, "\n", 1);
	return r < 0 ? err_sys(err, -r, "config.json") : 0;
}

/* "16G", "512M", "1000000": K, M, G and T are powers of 1024 */
static int parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (errno || end == text || *text == '-' || n == 0)
		return -EINVAL;
	int shift = 0;
	const char *unit = *end ? strchr(units, *end) : NULL;
	if (unit) {
		shift = 10 * (int)(unit - units + 1);
		end++;
	}
	if (*end != '\0' || (shift && n > (~0ull >> shift)))
		return -EINVAL;
	*out = n << shift;
	return 0;
}

/* What unpack made in the bundle: a failed unpack removes only that. */
struct made {
	bool rootfs, config;
};

/* rootfs/ (a full unpack, or with overlay a mount over the layer cache),
 * then config.json converted against it. */
static int unpack_into(struct store *s, const struct image *img, int bundlefd,
		       const char *bundle, bool overlay, const struct unpack_opts *o,
		       struct made *made, struct husk_error *err)
{
	int r;
	if (overlay) {
		r = overlay_bundle_create(s, img, bundlefd, bundle, &made->rootfs, err);
	} else if (mkdirat(bundlefd, "rootfs", 0755) < 0) {
		r = errno == EEXIST ? err_set(err, EEXIST, "bundle %s already has a rootfs", bundle)
				    : err_sys(err, errno, "%s/rootfs", bundle);
	} else {
		made->rootfs = true;
		_cleanup_close_ int fd =
			openat(bundlefd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? err_sys(err, errno, "rootfs") : unpack_layers(s, img, fd, o, err);
	}
	if (r < 0)
		return r;
	_cleanup_close_ int rootfd =
		openat(bundlefd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, "rootfs");
	struct oci_config *cfg = NULL;
	r = convert_config(img->config, rootfd, !o->privileged, &cfg, err);
	if (r < 0)
		return r;
	r = write_config(bundlefd, cfg, &made->config, err);
	oci_free(&oci_config_type, cfg);
	return r;
}

/* An --overlay bundle is removed whole by umount --rm, so it must start
 * empty: nothing of the user's can be taken with it. */
static int check_empty(int bundlefd, const char *bundle, struct husk_error *err)
{
	int fd = openat(bundlefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(err, errno, "bundle %s", bundle);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = err_set(err, EEXIST, "bundle %s is not empty (it has \"%s\")", bundle,
				    de->d_name);
	closedir(d);
	return r;
}

static void discard(int bundlefd, const char *bundle, bool overlay, const struct made *made)
{
	struct husk_error e = { 0 };
	_cleanup_free_ char *what = NULL;
	int r = 0;
	if (made->rootfs && overlay)
		r = overlay_bundle_discard(bundlefd, bundle, &e);
	else if (made->rootfs && str_fmt(&what, 0, &e, "bundle", "%s/rootfs", bundle) == 0)
		r = remove_tree_at(bundlefd, "rootfs", what, &e);
	if (r < 0 || e.code)
		log_warn("%s", e.msg);
	if (made->config && unlinkat(bundlefd, "config.json", 0) < 0 && errno != ENOENT)
		log_warn("could not remove %s/config.json: %s", bundle, strerror(errno));
}

static int unpack_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "overlay", no_argument, NULL, 'o' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "max-layer-size", required_argument, NULL, 'm' },
		{ "ignore-xattr-errors", no_argument, NULL, 'x' },
		{ 0 },
	};
	struct platform plat;
	bool overlay = false;
	/* root unpacks with owners and devices unless told --rootless */
	struct unpack_opts o = { .privileged = geteuid() == 0 };
	int c;

	platform_host(&plat);
	while ((c = cmd_getopt(&cmd_unpack, argc, argv, opts)) != -1) {
		switch (c) {
		case 'p':
			if (platform_parse(optarg, &plat, err) < 0)
				return cmd_usage_error(&cmd_unpack, "%s", err->msg);
			break;
		case 'o':
			overlay = true;
			break;
		case 'r':
			o.privileged = false;
			break;
		case 'x':
			o.ignore_xattr_errors = true;
			break;
		case 'm':
			if (parse_size(optarg, &o.max_layer_size) < 0)
				return cmd_usage_error(&cmd_unpack,
						       "--max-layer-size: \"%s\" is not a size (like "
						       "512M or 16G)",
						       optarg);
			break;
		default:
			return c;
		}
	}
	if ((c = cmd_need_args(&cmd_unpack, argc, 2, "REF BUNDLE")) != 0)
		return c;
	const char *bundle = argv[optind + 1];
	if (overlay && geteuid() != 0)
		return err_set(err, EPERM,
			       "--overlay mounts overlayfs, which needs root; unpack without it");
	if (overlay && !o.privileged)
		return cmd_usage_error(&cmd_unpack, "--overlay and --rootless do not go together");
	/* a cached layer is shared by every overlay bundle: it is whole */
	if (overlay && o.ignore_xattr_errors)
		return cmd_usage_error(&cmd_unpack, "--overlay and --ignore-xattr-errors do not go "
						    "together (the cached layers are shared)");

	struct image_ref ref;
	struct store s;
	struct image img = { 0 };
	const char *name;
	int r = ref_parse(argv[optind], &ref, err);
	if (r < 0)
		return r;
	r = cmd_open_ref_store(g, &ref, &s, &name, err);
	if (r < 0) {
		ref_free(&ref);
		return r;
	}
	r = image_load(&s, name, &plat, &img, err);
	bool created = false;
	struct made made = { 0 };
	_cleanup_close_ int bundlefd = -1;
	_cleanup_free_ char *abs_bundle = NULL;
	if (r == 0) {
		/* 0700, as umoci: others must not reach the image's setuid
		 * binaries and device nodes through BUNDLE/rootfs */
		if (mkdir(bundle, 0700) == 0)
			created = true;
		else if (errno != EEXIST)
			r = err_sys(err, errno, "bundle %s", bundle);
	}
	if (r == 0) {
		bundlefd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* overlay options and the bundle registration want its real path */
		abs_bundle = bundlefd < 0 ? NULL : realpath(bundle, NULL);
		if (bundlefd < 0 || abs_bundle == NULL)
			r = err_sys(err, errno, "bundle %s", bundle);
	}
	/* one unpack at a time into a bundle: the lock is held until exit */
	if (r == 0 && flock(bundlefd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK
			    ? err_set(err, EBUSY, "bundle %s is being unpacked by another process",
				      bundle)
			    : err_sys(err, errno, "bundle %s: lock", bundle);
		/* the other process may be using the directory we made */
		created = false;
	}
	if (r == 0) {
		if (overlay)
			r = check_empty(bundlefd, bundle, err);
		else if (faccessat(bundlefd, "rootfs", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
			 faccessat(bundlefd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			r = err_set(err, EEXIST, "bundle %s already has a rootfs or config.json",
				    bundle);
		if (r == 0)
			r = unpack_into(&s, &img, bundlefd, abs_bundle, overlay, &o, &made, err);
		/* a failed unpack leaves nothing half-made behind, and removes
		 * only what it made */
		if (r < 0)
			discard(bundlefd, abs_bundle, overlay, &made);
		if (r < 0 && created && rmdir(bundle) < 0 && errno != ENOENT)
			log_warn("could not remove the bundle %s: %s", bundle, strerror(errno));
	}
	if (r < 0)
		err_prefix(err, "%s", argv[optind]);
	image_free(&img);
	store_close(&s);
	ref_free(&ref);
	return r;
}

const struct image_cmd cmd_unpack = {
	.name = "unpack",
	.run = unpack_run,
	.summary = "unpack an image into an OCI bundle (BUNDLE/rootfs and BUNDLE/config.json)",
	.usage = "[OPTIONS] REF BUNDLE\n\n"
		 "  --platform OS/ARCH[/VARIANT]  the platform to pick from an index (default: the "
		 "host's)\n"
		 "  --rootless                    no owners, devices become empty files (the "
		 "default when not root);\n"
		 "                                owners are kept in the user.rootlesscontainers "
		 "xattr\n"
		 "  --max-layer-size SIZE         refuse a layer larger than SIZE uncompressed "
		 "(default 32G)\n"
		 "  --ignore-xattr-errors         skip (with a warning) the xattrs the filesystem "
		 "refuses;\n"
		 "                                without it they fail the unpack\n"
		 "  --overlay                     mount BUNDLE/rootfs as an overlay over the store's "
		 "layer\n"
		 "                                cache (each layer is unpacked once); "
		 "'husk-image umount\n"
		 "                                [--rm] BUNDLE' undoes it",
};
