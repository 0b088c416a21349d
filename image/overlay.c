/* Overlay bundles (unpack --overlay): BUNDLE/rootfs is an overlayfs mount
 * whose lower layers are the image's layers in the store's layer cache
 * (top layer first) and whose upper and work dirs live in the bundle:
 *
 *   BUNDLE/config.json
 *   BUNDLE/rootfs           the overlay mount point
 *   BUNDLE/overlay/upper    what the container changes
 *   BUNDLE/overlay/work     overlayfs's scratch space
 *   BUNDLE/overlay/layers   the ChainIDs of the lower layers, top first
 *
 * The rootfs is mounted by husk-image, not by the runtime, so the bundle
 * is an ordinary one: husk, runc or crun run it as they run any. It stays
 * mounted until `husk-image umount BUNDLE` (--rm also deletes the bundle);
 * after a reboot `husk-image mount BUNDLE` mounts it again from
 * overlay/layers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "common/strbuf.h"
#include "image/image.h"

#define LAYERS_FILE "overlay/layers"
/* mount(2) takes one page of options */
#define MOUNT_OPTIONS_MAX 4095
/* overlayfs's own limit on lower layers */
#define OVERLAY_LAYERS_MAX 500

/* Append ",KEY=PATH" or ":PATH" to *opts. overlayfs splits its options at
 * ',' and lowerdir at ':', so paths with those cannot be passed. */
static int append_path(char **opts, const char *sep, const char *path, struct husk_error *err)
{
	if (strpbrk(path, ",:\\") != NULL)
		return err_set(err, EINVAL, "%s: overlayfs cannot take a path with ',', ':' or '\\'",
			       path);
	char *grown = NULL;
	if (asprintf(&grown, "%s%s%s", *opts ? *opts : "", sep, path) < 0)
		return err_sys(err, ENOMEM, "mount options");
	free(*opts);
	*opts = grown;
	return 0;
}

int overlay_options(char *const *lower, size_t n, const char *upper, const char *work, char **out,
		    struct husk_error *err)
{
	_cleanup_free_ char *opts = NULL;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = append_path(&opts, i ? ":" : "lowerdir=", lower[i], err);
	if (r == 0)
		r = append_path(&opts, ",upperdir=", upper, err);
	if (r == 0)
		r = append_path(&opts, ",workdir=", work, err);
	if (r < 0)
		return r;
	if (strlen(opts) > MOUNT_OPTIONS_MAX)
		return err_set(err, E2BIG,
			       "the overlay mount options (%zu bytes) exceed one page: too many "
			       "layers or too long a store path",
			       strlen(opts));
	*out = opts;
	opts = NULL;
	return 0;
}

int overlay_bundle_mount(struct store *s, int bundlefd, const char *bundle,
			 struct husk_error *err)
{
	_cleanup_free_ char *list = NULL, *opts = NULL, *upper = NULL, *work = NULL;
	_cleanup_close_ int overlayfd = -1, upperfd = -1, workfd = -1;
	char *lower[OVERLAY_LAYERS_MAX];
	size_t n = 0, len;
	int r = read_file_at(bundlefd, LAYERS_FILE, 1u << 20, &list, &len, err);
	if (r < 0)
		return r == -ENOENT ? err_set(err, ENOENT,
					      "%s is not an overlay bundle (no %s)", bundle,
					      LAYERS_FILE)
				    : r;
	char *save = NULL;
	for (char *line = strtok_r(list, "\n", &save); r == 0 && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == OVERLAY_LAYERS_MAX) {
			r = err_set(err, E2BIG, "%s/%s: more than %d layers", bundle, LAYERS_FILE,
				    OVERLAY_LAYERS_MAX);
			break;
		}
		r = layer_cache_path(s, line, &lower[n], err);
		if (r < 0) {
			err_prefix(err, "%s/%s", bundle, LAYERS_FILE);
			break;
		}
		n++;
		if (access(lower[n - 1], F_OK) < 0)
			r = err_sys(err, errno,
				    "layer %s is not in the layer cache of the store %s "
				    "(removed by gc?)",
				    line, s->path);
	}
	if (r == 0 && n == 0)
		r = err_set(err, EINVAL, "%s/%s lists no layers", bundle, LAYERS_FILE);
	/* upper and work named through fds opened from the bundle's: a
	 * directory on the bundle's path swapped for a symlink would
	 * otherwise send the container's writes to a directory of the
	 * swapper's choosing; no component followed as a symlink (overlay
	 * itself neither: pointed at another bundle's, it would share its
	 * upper) */
	if (r == 0 && (overlayfd = openat(bundlefd, "overlay",
					  O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = err_sys(err, errno, "%s/overlay", bundle);
	if (r == 0 && ((upperfd = openat(overlayfd, "upper",
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
		       (workfd = openat(overlayfd, "work",
					O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
		r = err_sys(err, errno, "%s/overlay/%s", bundle, upperfd < 0 ? "upper" : "work");
	if (r == 0 && (asprintf(&upper, "/proc/self/fd/%d", upperfd) < 0 ||
		       asprintf(&work, "/proc/self/fd/%d", workfd) < 0))
		r = err_sys(err, ENOMEM, "mount options");
	if (r == 0)
		r = overlay_options(lower, n, upper, work, &opts, err);
	for (size_t i = 0; i < n; i++)
		free(lower[i]);
	if (r < 0)
		return r;

	/* mount on the fd, not on a path someone could swap meanwhile */
	_cleanup_close_ int rootfd =
		openat(bundlefd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, "%s/rootfs", bundle);
	char target[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", rootfd);
	log_debug("mount overlay on %s/rootfs: %s", bundle, opts);
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return err_sys(err, errno, "mount overlayfs on %s/rootfs", bundle);
	return 0;
}

static int write_layers_file(const chain_id_t *chains, size_t n, int bundlefd,
			     struct husk_error *err)
{
	size_t size = n * (DIGEST_LEN + 1) + 1, used = 0;
	_cleanup_free_ char *text = malloc(size);
	if (text == NULL)
		return err_sys(err, ENOMEM, LAYERS_FILE);
	for (size_t i = n; i-- > 0;)
		used += (size_t)snprintf(text + used, size - used, "%s\n", chains[i]);
	_cleanup_close_ int fd =
		openat(bundlefd, "overlay", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "overlay");
	return write_file_atomic(fd, "layers", text, used, 0644, err);
}

int overlay_bundle_create(struct store *s, const struct image *img, int bundlefd,
			  const char *bundle, bool *made, struct husk_error *err)
{
	size_t n = img->manifest->layers.len;
	if (n == 0)
		return err_set(err, EINVAL, "the image has no layers to stack");
	if (n > OVERLAY_LAYERS_MAX)
		return err_set(err, E2BIG, "the image has %zu layers, overlayfs stacks at most %d",
			       n, OVERLAY_LAYERS_MAX);
	_cleanup_free_ chain_id_t *chains = calloc(n, sizeof(*chains));
	if (chains == NULL)
		return err_sys(err, ENOMEM, "overlay");
	int r = layer_cache_image(s, img, chains, err);
	if (r < 0)
		return r;
	if (mkdirat(bundlefd, "rootfs", 0755) < 0)
		return errno == EEXIST ? err_set(err, EEXIST, "bundle %s already has a rootfs", bundle)
				       : err_sys(err, errno, "%s/rootfs", bundle);
	*made = true;
	if (mkdirat(bundlefd, "overlay", 0700) < 0 ||
	    mkdirat(bundlefd, "overlay/upper", 0755) < 0 ||
	    mkdirat(bundlefd, "overlay/work", 0700) < 0)
		return err_sys(err, errno, "%s: make the overlay directories", bundle);
	r = write_layers_file(chains, n, bundlefd, err);
	if (r == 0)
		r = layer_cache_register(s, bundle, err);
	if (r == 0)
		r = overlay_bundle_mount(s, bundlefd, bundle, err);
	return r;
}

/* Unmount BUNDLE/rootfs when an overlay is mounted there; *mounted says
 * whether one was. */
static int unmount_rootfs(int bundlefd, const char *bundle, bool *mounted,
			  struct husk_error *err)
{
	/* through the bundle's fd, not its path: a directory on the path
	 * swapped for a symlink after the checks below would otherwise aim
	 * the unmount at another rootfs */
	char rootfs[64];
	snprintf(rootfs, sizeof(rootfs), "/proc/self/fd/%d/rootfs", bundlefd);
	/* mounted: rootfs is an overlay on another device than the bundle
	 * (the bundle itself may sit on an overlayfs) */
	struct stat bst, rst;
	struct statfs sf;
	*mounted = fstat(bundlefd, &bst) == 0 &&
		   fstatat(bundlefd, "rootfs", &rst, AT_SYMLINK_NOFOLLOW) == 0 &&
		   S_ISDIR(rst.st_mode) && rst.st_dev != bst.st_dev && statfs(rootfs, &sf) == 0 &&
		   sf.f_type == OVERLAYFS_SUPER_MAGIC;
	if (*mounted && umount2(rootfs, UMOUNT_NOFOLLOW) < 0) {
		if (errno == EBUSY)
			return err_set(err, EBUSY, "%s/rootfs is busy: a container still uses it",
				       bundle);
		return err_sys(err, errno, "umount %s/rootfs", bundle);
	}
	return 0;
}

static int remove_part(int dirfd, const char *dir, const char *name, struct husk_error *err)
{
	_cleanup_free_ char *what = NULL;
	int r = str_fmt(&what, 0, err, "bundle", "%s/%s", dir, name);
	return r < 0 ? r : remove_tree_at(dirfd, name, what, err);
}

/* Remove everything in dirfd (dir) but keep. */
static int remove_entries_but(int dirfd, const char *dir, const char *keep,
			      struct husk_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(err, errno, "%s", dir);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, keep) != 0)
			r = remove_part(dirfd, dir, de->d_name, err);
	closedir(d);
	return r;
}

int overlay_bundle_discard(int bundlefd, const char *bundle, struct husk_error *err)
{
	bool mounted;
	int r = unmount_rootfs(bundlefd, bundle, &mounted, err);
	if (r < 0)
		return r;
	/* overlay/layers goes last: when something cannot be removed (a
	 * filesystem mounted in the bundle), the bundle is still one that
	 * umount --rm can finish once it is unmounted */
	if ((r = remove_part(bundlefd, bundle, "rootfs", err)) < 0)
		return r;
	_cleanup_close_ int ovfd =
		openat(bundlefd, "overlay", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ovfd < 0 && errno != ENOENT)
		return err_sys(err, errno, "%s/overlay", bundle);
	if (ovfd >= 0) {
		_cleanup_free_ char *dir = NULL;
		if ((r = str_fmt(&dir, 0, err, "bundle", "%s/overlay", bundle)) < 0 ||
		    (r = remove_entries_but(ovfd, dir, "layers", err)) < 0)
			return r;
	}
	if ((r = remove_part(bundlefd, bundle, "config.json", err)) < 0 ||
	    (r = remove_part(bundlefd, bundle, LAYERS_FILE, err)) < 0 ||
	    (r = remove_part(bundlefd, bundle, "overlay", err)) < 0)
		return r;
	return 0;
}

int overlay_bundle_unmount(const char *bundle, bool remove, struct husk_error *err)
{
	_cleanup_close_ int bundlefd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bundlefd < 0)
		return err_sys(err, errno, "bundle %s", bundle);
	if (faccessat(bundlefd, LAYERS_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, EINVAL, "%s is not an overlay bundle (no %s)", bundle,
			       LAYERS_FILE);
	if (remove) {
		/* not while an unpack (which holds this lock) is filling it */
		if (flock(bundlefd, LOCK_EX | LOCK_NB) < 0)
			return errno == EWOULDBLOCK
				       ? err_set(err, EBUSY,
						 "bundle %s is being unpacked by another process",
						 bundle)
				       : err_sys(err, errno, "bundle %s: lock", bundle);
		int r = overlay_bundle_discard(bundlefd, bundle, err);
		if (r < 0)
			return r;
		/* the directory goes too unless it holds something of the user's */
		if (rmdir(bundle) < 0 && errno != ENOTEMPTY && errno != EEXIST)
			return err_sys(err, errno, "remove %s", bundle);
		return 0;
	}
	bool mounted;
	int r = unmount_rootfs(bundlefd, bundle, &mounted, err);
	if (r == 0 && !mounted)
		r = err_set(err, EINVAL, "%s/rootfs is not mounted", bundle);
	return r;
}
