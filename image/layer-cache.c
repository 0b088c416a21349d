/* The layer cache: every layer an --overlay bundle stacks is unpacked once
 * into <store>/layers/sha256/<hex of its diff_id>/, a directory tree that
 * overlayfs takes as a lower layer as it stands. The entries go through
 * the same code as a full unpack (unpack.c, so the same safe resolver and
 * digest checks); only whiteouts differ: a .wh.NAME becomes a character
 * device 0:0 named NAME and an opaque marker sets trusted.overlay.opaque=y
 * on its directory, which is how overlayfs spells them.
 *
 * A layer is unpacked into layers/sha256/.tmp-*, checked against its
 * digest and diff_id, then renamed into place with RENAME_NOREPLACE: an
 * entry is whole or absent, and of two unpacks racing on one layer the
 * loser drops its copy and uses the winner's. Unpacks hold the store
 * shared and gc holds it exclusively, so gc never sees a temp dir that is
 * still being filled.
 *
 * Overlay bundles stay mounted long after unpack returns, so each one is
 * registered in layers/bundles/<sha256 of its path> (the file holds the
 * path). gc keeps every layer a registered bundle's overlay/layers file
 * still names, and forgets registrations whose bundle is gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "image/image.h"

#define LAYERS_DIR  "layers/sha256"
#define BUNDLES_DIR "layers/bundles"
/* overlay/layers in a bundle: one diff_id a line, top layer first */
#define BUNDLE_LAYERS_MAX (1u << 20)

int layer_cache_whiteout(int rootfd, const char *dir, const char *base, struct husk_error *err)
{
	bool opaque = strcmp(base, OPAQUE_MARKER) == 0;
	const char *name = base + strlen(WHITEOUT_PREFIX);
	if (!opaque && strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return 0; /* other .wh..wh.* markers (aufs metadata) mean nothing here */
	if (!opaque && (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return err_set(err, EINVAL, "invalid whiteout name");
	_cleanup_close_ int dirfd = mkdir_in_root(rootfd, *dir ? dir : ".", 0755, err);
	if (dirfd < 0)
		return dirfd;
	if (opaque) {
		_cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, errno, "open");
		if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return err_sys(err, errno, "mark the directory opaque");
		return 0;
	}
	/* a whiteout hides only lower layers: what this layer made stays */
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(dirfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return err_sys(err, errno, "make the whiteout");
	return 0;
}

/* "sha256:<64 lowercase hex>" -> the hex, NULL for anything else, so a
 * digest never names a path outside the cache. */
static const char *diff_id_hex(const char *diff_id)
{
	if (strncmp(diff_id, "sha256:", 7) != 0 || strlen(diff_id) != DIGEST_LEN)
		return NULL;
	for (const char *p = diff_id + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return NULL;
	return diff_id + 7;
}

/* An fd on the store's dir rel ("layers/sha256", "layers/bundles"),
 * created when asked. */
static int open_cache_dir(struct store *s, const char *rel, bool create, struct husk_error *err)
{
	if (create && ((mkdirat(s->dirfd, "layers", 0700) < 0 && errno != EEXIST) ||
		       (mkdirat(s->dirfd, rel, 0700) < 0 && errno != EEXIST)))
		return err_sys(err, errno, "store %s: %s", s->path, rel);
	int fd = openat(s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "store %s: %s", s->path, rel);
	return fd;
}

int layer_cache_path(struct store *s, const char *diff_id, char **path, struct husk_error *err)
{
	const char *hex = diff_id_hex(diff_id);
	if (hex == NULL)
		return err_set(err, EINVAL, "\"%s\" is not a sha256 diff_id", diff_id);
	_cleanup_free_ char *real = realpath(s->path, NULL);
	if (real == NULL)
		return err_sys(err, errno, "store %s", s->path);
	if (asprintf(path, "%s/%s/%s", real, LAYERS_DIR, hex) < 0)
		return err_sys(err, ENOMEM, "layer cache");
	return 0;
}

/* A fresh, empty temp directory in the cache. */
static int make_temp_dir(int layersfd, char name[32], struct husk_error *err)
{
	for (int tries = 0; tries < 16; tries++) {
		unsigned long long rnd;
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return err_sys(err, errno, "getrandom");
		snprintf(name, 32, ".tmp-%016llx", rnd);
		if (mkdirat(layersfd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return err_sys(err, errno, "layer cache: mkdir");
	}
	return err_set(err, EEXIST, "layer cache: no free temp name");
}

int layer_cache_get(struct store *s, const struct image *img, size_t i, char **path,
		    struct husk_error *err)
{
	const char *diff_id = img->config->rootfs->diff_ids.items[i];
	int r = layer_cache_path(s, diff_id, path, err);
	if (r < 0)
		return r;
	const char *hex = diff_id_hex(diff_id);
	_cleanup_close_ int layersfd = open_cache_dir(s, LAYERS_DIR, true, err);
	if (layersfd < 0)
		return layersfd;
	struct stat st;
	if (fstatat(layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		log_debug("layer cache: %s is cached", diff_id);
		return 0;
	}

	log_debug("layer cache: unpacking %s", diff_id);
	char tmp[32];
	r = make_temp_dir(layersfd, tmp, err);
	if (r < 0)
		return r;
	_cleanup_close_ int tmpfd = openat(layersfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmpfd < 0) {
		r = err_sys(err, errno, "layer cache: open %s", tmp);
		goto fail;
	}
	/* owners and device nodes as in the image: --overlay runs as root */
	struct unpack_opts o = { .privileged = true, .overlay_whiteouts = true };
	r = unpack_one_layer(s, img, i, tmpfd, &o, err);
	if (r < 0)
		goto fail;
	if (fchmodat(layersfd, tmp, 0755, 0) < 0) {
		r = err_sys(err, errno, "layer cache: chmod %s", tmp);
		goto fail;
	}
	if (renameat2(layersfd, tmp, layersfd, hex, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST) {
			r = err_sys(err, errno, "layer cache: rename %s", tmp);
			goto fail;
		}
		/* another unpack cached it first: theirs is as good */
		log_debug("layer cache: %s was cached meanwhile", diff_id);
		remove_all_at(layersfd, tmp);
	}
	return 0;
fail:
	remove_all_at(layersfd, tmp);
	free(*path);
	*path = NULL;
	return r;
}

int layer_cache_register(struct store *s, const char *bundle, struct husk_error *err)
{
	char id[DIGEST_LEN + 1];
	digest_buffer(bundle, strlen(bundle), id);
	_cleanup_close_ int fd = open_cache_dir(s, BUNDLES_DIR, true, err);
	if (fd < 0)
		return fd;
	int r = write_file_atomic(fd, id + 7, bundle, strlen(bundle), 0644, err);
	return r < 0 ? err_prefix(err, "store %s: register the bundle", s->path) : 0;
}

/* Add the layers a registered bundle uses to live; forget the
 * registration when the bundle is gone. */
static int keep_bundle_layers(int bundlesfd, const char *name, struct digest_set *live)
{
	struct husk_error ignored = { 0 };
	_cleanup_free_ char *bundle = NULL, *layers = NULL, *list = NULL;
	size_t len;
	if (read_file_at(bundlesfd, name, PATH_MAX, &bundle, &len, &ignored) < 0)
		return 0;
	if (asprintf(&layers, "%s/overlay/layers", bundle) < 0)
		return -ENOMEM;
	/* the bundle is the user's: a fifo or a symlink there must not
	 * stall or steer gc */
	_cleanup_close_ int fd = open(layers, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		log_debug("layer cache: bundle %s is gone", bundle);
		return unlinkat(bundlesfd, name, 0) < 0 ? -errno : 0;
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    read_fd_all(fd, layers, BUNDLE_LAYERS_MAX, &list, &len, &ignored) < 0)
		return 0;
	int r = 0;
	char *save = NULL;
	for (char *line = strtok_r(list, "\n", &save); r == 0 && line;
	     line = strtok_r(NULL, "\n", &save))
		r = digest_set_add(live, line);
	return r;
}

/* Call fn for every entry of the store's dir rel; a missing dir has none. */
static int each_entry(struct store *s, const char *rel,
		      int (*fn)(int dirfd, const char *name, void *ctx), void *ctx,
		      struct husk_error *err)
{
	struct husk_error ignored = { 0 };
	int fd = open_cache_dir(s, rel, false, &ignored);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return err_sys(err, -fd, "store %s: %s", s->path, rel);
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return err_sys(err, errno, "store %s: %s", s->path, rel);
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = fn(dirfd(d), de->d_name, ctx);
		if (r < 0)
			err_sys(err, -r, "store %s: %s/%s", s->path, rel, de->d_name);
	}
	closedir(d);
	return r;
}

static int gc_registration(int dirfd, const char *name, void *live)
{
	/* gc holds the store exclusively: a temp file is a dead writer's */
	if (name[0] == '.')
		return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
	return keep_bundle_layers(dirfd, name, live);
}

struct layer_sweep {
	struct digest_set *live;
	size_t removed;
};

static int gc_layer(int dirfd, const char *name, void *ctx)
{
	struct layer_sweep *sweep = ctx;
	char diff_id[DIGEST_LEN + 8];
	snprintf(diff_id, sizeof(diff_id), "sha256:%s", name);
	if (name[0] != '.' && digest_set_has(sweep->live, diff_id))
		return 0;
	log_debug("layer cache: removing %s", name);
	int r = remove_all_at(dirfd, name);
	if (r == 0 && name[0] != '.')
		sweep->removed++;
	return r;
}

int layer_cache_gc(struct store *s, struct digest_set *live, size_t *removed,
		   struct husk_error *err)
{
	struct layer_sweep sweep = { .live = live };
	int r = each_entry(s, BUNDLES_DIR, gc_registration, live, err);
	if (r == 0)
		r = each_entry(s, LAYERS_DIR, gc_layer, &sweep, err);
	*removed = sweep.removed;
	return r;
}
