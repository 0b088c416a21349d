/* The layer cache: every layer an --overlay bundle stacks is unpacked once
 * into <store>/layers/sha256/<hex of its ChainID>/, a directory that
 * overlayfs takes as a lower layer as it stands. The key is the ChainID
 * (the image-spec's digest of the layer stack up to it), not the diff_id,
 * because a layer's overlay form depends on what is below it: a hardlink
 * to a lower file needs a copy of that file, a whiteout needs something
 * to hide.
 *
 * The first layer is unpacked into an empty directory. Every later layer
 * is applied, with the same code as a full unpack (unpack.c: the safe
 * resolver, the digest checks), to an overlay mount whose lower layers are
 * the cached ones below it and whose upper is the new cache entry: the
 * kernel turns the deletions of whiteouts and opaque directories into its
 * own whiteouts (0:0 character devices) and opaque markers, and copies up
 * what hardlinks and changed directories need. That mount lives in a
 * child process's private mount namespace, so it goes away with the child
 * whatever happens.
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
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "image/image.h"

#define LAYERS_DIR  "layers/sha256"
#define BUNDLES_DIR "layers/bundles"
/* overlay/layers in a bundle: one diff_id a line, top layer first */
#define BUNDLE_LAYERS_MAX (1u << 20)

void chain_ids(const oci_strings *diff_ids, chain_id_t *out)
{
	for (size_t i = 0; i < diff_ids->len; i++) {
		if (i == 0) {
			snprintf(out[0], sizeof(out[0]), "%s", diff_ids->items[0]);
			continue;
		}
		char text[2 * DIGEST_LEN + 2];
		snprintf(text, sizeof(text), "%s %s", out[i - 1], diff_ids->items[i]);
		digest_buffer(text, strlen(text), out[i]);
	}
}

/* "sha256:<64 lowercase hex>" -> the hex, NULL for anything else, so a
 * digest never names a path outside the cache. */
static const char *digest_hex(const char *digest)
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != DIGEST_LEN)
		return NULL;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return NULL;
	return digest + 7;
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

/* The absolute path of name in the cache directory. */
static int cache_entry_path(struct store *s, const char *name, char **path,
			    struct husk_error *err)
{
	_cleanup_free_ char *real = realpath(s->path, NULL);
	if (real == NULL)
		return err_sys(err, errno, "store %s", s->path);
	if (asprintf(path, "%s/%s/%s", real, LAYERS_DIR, name) < 0)
		return err_sys(err, ENOMEM, "layer cache");
	return 0;
}

int layer_cache_path(struct store *s, const char *chain_id, char **path, struct husk_error *err)
{
	const char *hex = digest_hex(chain_id);
	if (hex == NULL)
		return err_set(err, EINVAL, "\"%s\" is not a sha256 digest", chain_id);
	return cache_entry_path(s, hex, path, err);
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

static bool dir_is_empty(int fd)
{
	int dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (d == NULL) {
		if (dup >= 0)
			close(dup);
		return false;
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* Through the overlay, a directory removed and made again is opaque
 * (trusted.overlay.opaque=y in the upper layer): one marker instead of a
 * whiteout per hidden entry. Only while this layer has put nothing in the
 * directory (its copy in the upper, ctx, is missing or empty); the
 * directory keeps its owner, mode and times. */
static int make_opaque(void *ctx, int rootfd, const char *dir, struct husk_error *err)
{
	struct husk_error ignored = { 0 };
	_cleanup_close_ int up =
		resolve_in_root(*(int *)ctx, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &ignored);
	if (up >= 0 && !dir_is_empty(up))
		return 0;
	_cleanup_free_ char *alloc = NULL;
	const char *base;
	_cleanup_close_ int parent = open_parent_in_root(rootfd, dir, false, &alloc, &base, &ignored);
	struct stat st;
	if (parent < 0 || fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	int r = remove_all_at(parent, base);
	if (r < 0)
		return err_sys(err, -r, "opaque directory");
	if (mkdirat(parent, base, 0700) < 0)
		return err_sys(err, errno, "opaque directory");
	_cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0 ||
	    futimens(fd, ts) < 0)
		return err_sys(err, errno, "opaque directory");
	return 1;
}

/* Apply layer i to an overlay of the cached layers below it (chains[0..i-1])
 * with dir/diff as the upper, in a child with its own mount namespace. */
static int apply_over_lower(struct store *s, const struct image *img, size_t i,
			    const chain_id_t *chains, const char *dir, int tmpfd,
			    struct husk_error *err)
{
	_cleanup_free_ char *opts = NULL, *upper = NULL, *work = NULL;
	char **lower = calloc(i, sizeof(*lower));
	int r = lower ? 0 : err_sys(err, ENOMEM, "layer cache");
	for (size_t k = 0; r == 0 && k < i; k++)
		r = layer_cache_path(s, chains[i - 1 - k], &lower[k], err);
	if (r == 0 && (asprintf(&upper, "%s/diff", dir) < 0 || asprintf(&work, "%s/work", dir) < 0))
		r = err_sys(err, ENOMEM, "layer cache");
	if (r == 0)
		r = overlay_options(lower, i, upper, work, &opts, err);
	/* the entry must stand alone as a lower layer: no file whose data stays
	 * below (metacopy), no renamed directory (redirect), no index */
	char *full = NULL;
	if (r == 0 && asprintf(&full, "%s,metacopy=off,redirect_dir=off,index=off", opts) < 0)
		r = err_sys(err, ENOMEM, "layer cache");
	if (r == 0) {
		free(opts);
		opts = full;
	}
	for (size_t k = 0; lower && k < i; k++)
		free(lower[k]);
	free(lower);
	if (r < 0)
		return r;
	if (mkdirat(tmpfd, "work", 0700) < 0 || mkdirat(tmpfd, "merged", 0700) < 0)
		return err_sys(err, errno, "layer cache: mkdir in %s", dir);

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_sys(err, errno, "pipe");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		r = err_sys(err, errno, "fork");
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		struct husk_error cerr = { 0 };
		close(pipefd[0]);
		/* a killed unpack takes its child along: nothing keeps writing
		 * into a temp dir that gc may remove */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(3);
		int mergedfd = -1, rootfd = -1;
		char merged[PATH_MAX + 16];
		snprintf(merged, sizeof(merged), "%s/merged", dir);
		/* private: the mount must not propagate back to the host. fds
		 * opened before unshare point into the old namespace, where this
		 * process cannot mount: merged is opened anew by its path, which
		 * is the store's own (the store is the caller's, held locked). */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			r = err_sys(&cerr, errno, "layer cache: a private mount namespace");
		else if ((mergedfd = open(merged, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			r = err_sys(&cerr, errno, "layer cache: open %s", merged);
		if (r == 0) {
			char target[64];
			snprintf(target, sizeof(target), "/proc/self/fd/%d", mergedfd);
			if (mount("overlay", target, "overlay", 0, opts) < 0)
				r = err_sys(&cerr, errno, "layer cache: mount overlayfs (%s)", opts);
		}
		if (r == 0 &&
		    (rootfd = open(merged, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			r = err_sys(&cerr, errno, "layer cache: open the overlay");
		/* the upper is only read, to see what this layer wrote */
		int upperfd = r == 0 ? open(upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (r == 0 && upperfd < 0)
			r = err_sys(&cerr, errno, "layer cache: open %s", upper);
		struct unpack_opts o = { .privileged = true,
					 .for_overlay = true,
					 .make_opaque = make_opaque,
					 .make_opaque_ctx = &upperfd };
		if (r == 0)
			r = unpack_one_layer(s, img, i, rootfd, &o, &cerr);
		if (r < 0 && write_all(pipefd[1], &cerr, sizeof(cerr)) < 0)
			_exit(2);
		_exit(r < 0 ? 1 : 0);
	}
	close(pipefd[1]);
	ssize_t n;
	do
		n = read(pipefd[0], err, sizeof(*err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(err, errno, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (n == (ssize_t)sizeof(*err))
		return -(err->code ? err->code : EIO);
	return err_set(err, EIO, "layer cache: the unpacking process died (status 0x%x)", status);
}

/* Cache layer i (the ones below are cached already). */
static int cache_layer(struct store *s, const struct image *img, size_t i, const chain_id_t *chains,
		       int layersfd, struct husk_error *err)
{
	const char *hex = digest_hex(chains[i]);
	struct stat st;
	if (fstatat(layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		log_debug("layer cache: %s is cached", chains[i]);
		return 0;
	}
	log_debug("layer cache: unpacking %s (layer %zu)", chains[i], i);
	char tmp[32];
	int r = make_temp_dir(layersfd, tmp, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int tmpfd = openat(layersfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmpfd < 0) {
		r = err_sys(err, errno, "layer cache: open %s", tmp);
		goto out;
	}
	if (mkdirat(tmpfd, "diff", 0755) < 0) {
		r = err_sys(err, errno, "layer cache: mkdir %s/diff", tmp);
		goto out;
	}
	if (i == 0) {
		/* nothing below: the layer goes straight into the directory */
		_cleanup_close_ int difffd =
			openat(tmpfd, "diff", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct unpack_opts o = { .privileged = true, .for_overlay = true };
		r = difffd < 0 ? err_sys(err, errno, "layer cache: open %s/diff", tmp)
			       : unpack_one_layer(s, img, 0, difffd, &o, err);
	} else {
		r = cache_entry_path(s, tmp, &dir, err);
		if (r == 0)
			r = apply_over_lower(s, img, i, chains, dir, tmpfd, err);
	}
	if (r < 0)
		goto out;
	if (renameat2(tmpfd, "diff", layersfd, hex, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			r = err_sys(err, errno, "layer cache: rename %s/diff", tmp);
			goto out;
		}
		/* another unpack cached it first: theirs is as good */
		log_debug("layer cache: %s was cached meanwhile", chains[i]);
	}
out:
	remove_all_at(layersfd, tmp);
	return r;
}

int layer_cache_image(struct store *s, const struct image *img, chain_id_t *chains,
		      struct husk_error *err)
{
	const oci_strings *diff_ids = &img->config->rootfs->diff_ids;
	for (size_t i = 0; i < diff_ids->len; i++)
		if (digest_hex(diff_ids->items[i]) == NULL)
			return err_set(err, EINVAL, "diff_id \"%s\" is not a sha256 digest",
				       diff_ids->items[i]);
	chain_ids(diff_ids, chains);
	_cleanup_close_ int layersfd = open_cache_dir(s, LAYERS_DIR, true, err);
	if (layersfd < 0)
		return layersfd;
	for (size_t i = 0; i < diff_ids->len; i++) {
		int r = cache_layer(s, img, i, chains, layersfd, err);
		if (r < 0)
			return r;
	}
	return 0;
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
