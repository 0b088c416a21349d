/* husk-image mount BUNDLE and umount [--rm] BUNDLE: the overlay mount of a
 * bundle made by unpack --overlay (see overlay.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "image/image.h"

static int mount_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;
	while ((c = cmd_getopt(&cmd_mount, argc, argv, opts)) != -1)
		return c;
	if ((c = cmd_need_args(&cmd_mount, argc, 1, "BUNDLE")) != 0)
		return c;
	const char *bundle = argv[optind];
	_cleanup_close_ int bundlefd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bundlefd < 0)
		return err_sys(err, errno, "bundle %s", bundle);
	_cleanup_free_ char *abs_bundle = realpath(bundle, NULL);
	if (abs_bundle == NULL)
		return err_sys(err, errno, "bundle %s", bundle);
	struct store s;
	int r = cmd_open_store(g, false, false, &s, err);
	if (r < 0)
		return r;
	r = overlay_bundle_mount(&s, bundlefd, abs_bundle, err);
	store_close(&s);
	return r;
}

static int umount_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { "rm", no_argument, NULL, 'r' }, { 0 } };
	bool remove = false;
	int c;
	(void)g;
	while ((c = cmd_getopt(&cmd_umount, argc, argv, opts)) != -1) {
		if (c != 'r')
			return c;
		remove = true;
	}
	if ((c = cmd_need_args(&cmd_umount, argc, 1, "BUNDLE")) != 0)
		return c;
	return overlay_bundle_unmount(argv[optind], remove, err);
}

const struct image_cmd cmd_mount = {
	.name = "mount",
	.run = mount_run,
	.summary = "mount the rootfs of an --overlay bundle again (after a reboot or umount)",
	.usage = "BUNDLE",
};

const struct image_cmd cmd_umount = {
	.name = "umount",
	.run = umount_run,
	.summary = "unmount the rootfs of an --overlay bundle; --rm also deletes the bundle",
	.usage = "[--rm] BUNDLE",
};
