/* The layer unpacker. Each layer blob is decompressed once (libarchive's
 * raw format gives the tar stream, which is hashed against the config's
 * diff_id while a second libarchive reader parses it as tar), and every
 * entry is applied through common/resolve: the parent directory is
 * resolved inside the rootfs with RESOLVE_IN_ROOT, the last component is
 * acted on with *at() calls that never follow it. Whiteouts (.wh.NAME) and
 * opaque directories (.wh..wh..opq) hide only what lower layers made. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "image/image.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER   ".wh..wh..opq"

struct dir_time {
	char *path;
	struct timespec times[2];
};

/* Without privileges a directory the image makes read-only (0555) could
 * not be filled: it stays owner-writable until every layer is in. */
struct dir_mode {
	char *path;
	mode_t mode;
};
struct dir_modes {
	struct dir_mode *items;
	size_t len, cap;
};

struct layer {
	int rootfd;
	struct dir_modes *modes;
	const struct unpack_opts *o;
	size_t index;
	const char *digest;
	int blobfd;
	struct digester *compressed; /* checked against the layer digest */
	struct digester *diff;       /* checked against rootfs.diff_ids[index] */
	struct archive *raw;
	char in[65536];
	char tarbuf[65536];
	/* what this layer wrote: whiteouts do not hide it */
	char **written;
	size_t nwritten, capwritten;
	struct dir_time *dirs;
	size_t ndirs, capdirs;
};

static ssize_t blob_read(struct archive *a, void *opaque, const void **buf)
{
	struct layer *L = opaque;
	for (;;) {
		ssize_t n = read(L->blobfd, L->in, sizeof(L->in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read layer blob");
			return -1;
		}
		digester_update(L->compressed, L->in, (size_t)n);
		*buf = L->in;
		return n;
	}
}

static ssize_t tar_read(struct archive *a, void *opaque, const void **buf)
{
	struct layer *L = opaque;
	la_ssize_t n = archive_read_data(L->raw, L->tarbuf, sizeof(L->tarbuf));
	if (n < 0) {
		archive_set_error(a, archive_errno(L->raw) ? archive_errno(L->raw) : EIO, "%s",
				  archive_error_string(L->raw));
		return -1;
	}
	digester_update(L->diff, L->tarbuf, (size_t)n);
	*buf = L->tarbuf;
	return n;
}

/* An entry path as a clean relative path: "./a//b/" -> "a/b". Absolute
 * paths and ".." are refused outright; the resolver would keep them inside
 * the root anyway, but no honest layer has them. */
static int clean_path(const char *raw, char **out, const char *what, struct husk_error *err)
{
	if (raw == NULL)
		return err_set(err, EINVAL, "%s has no path (or one not in the archive's charset)",
			       what);
	if (raw[0] == '/')
		return err_set(err, EINVAL, "%s \"%s\": absolute paths are not allowed", what, raw);
	char *clean = malloc(strlen(raw) + 1);
	if (clean == NULL)
		return err_sys(err, ENOMEM, "%s", raw);
	size_t used = 0;
	const char *p = raw;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(clean);
			return err_set(err, EINVAL, "%s \"%s\": \"..\" would leave the root", what,
				       raw);
		}
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (used)
				clean[used++] = '/';
			memcpy(clean + used, p, len);
			used += len;
		}
		p = *end ? end + 1 : end;
	}
	clean[used] = '\0';
	*out = clean;
	return 0;
}

static int remember(struct layer *L, const char *path)
{
	if (L->nwritten == L->capwritten) {
		size_t cap = L->capwritten ? L->capwritten * 2 : 256;
		char **grown = realloc(L->written, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		L->written = grown;
		L->capwritten = cap;
	}
	if ((L->written[L->nwritten] = strdup(path)) == NULL)
		return -ENOMEM;
	L->nwritten++;
	return 0;
}

/* 2: path itself was written; 1: something beneath it; 0: neither */
static int written_state(const struct layer *L, const char *path)
{
	size_t len = strlen(path);
	int state = 0;
	for (size_t i = 0; i < L->nwritten; i++) {
		const char *w = L->written[i];
		if (strncmp(w, path, len) != 0)
			continue;
		if (w[len] == '\0')
			return 2;
		if (w[len] == '/')
			state = 1;
	}
	return state;
}

/* Opaque directory: remove what lower layers put in dirfd (path), keeping
 * what this layer wrote. */
static int purge_lower(struct layer *L, int dirfd, const char *path)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0) {
			child = NULL;
			r = -ENOMEM;
			break;
		}
		int state = written_state(L, child);
		struct stat st;
		if (state == 0) {
			r = remove_all_at(dirfd, de->d_name);
		} else if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub = openat(
				dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = sub < 0 ? -errno : purge_lower(L, sub, child);
		}
	}
	closedir(d);
	return r;
}

static int apply_whiteout(struct layer *L, const char *dir, const char *base,
			  struct husk_error *err)
{
	if (strcmp(base, OPAQUE_MARKER) == 0) {
		int done = L->o->make_opaque && *dir
				   ? L->o->make_opaque(L->o->make_opaque_ctx, L->rootfd, dir, err)
				   : 0;
		if (done != 0)
			return done < 0 ? done : 0;
		_cleanup_close_ int fd = mkdir_in_root(L->rootfd, *dir ? dir : ".", 0755, err);
		if (fd < 0)
			return fd;
		_cleanup_close_ int rd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rd < 0)
			return err_sys(err, errno, "open");
		int r = purge_lower(L, rd, dir);
		return r < 0 ? err_sys(err, -r, "opaque directory") : 0;
	}
	const char *name = base + strlen(WHITEOUT_PREFIX);
	if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return 0; /* other .wh..wh.* markers (aufs metadata) mean nothing here */
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return err_set(err, EINVAL, "invalid whiteout name");
	_cleanup_free_ char *target = NULL;
	if (asprintf(&target, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		return err_sys(err, ENOMEM, "whiteout");
	if (written_state(L, target) == 2)
		return 0;
	struct husk_error ignored = { 0 };
	_cleanup_close_ int fd =
		resolve_in_root(L->rootfd, *dir ? dir : ".", O_PATH | O_DIRECTORY, &ignored);
	if (fd < 0)
		return 0; /* nothing below to hide */
	int r = remove_all_at(fd, name);
	return r < 0 ? err_sys(err, -r, "remove %s", target) : 0;
}

static void set_xattrs(struct archive_entry *e, int fd, const char *path)
{
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* overlayfs's own metadata (whiteouts, opaque dirs, redirects) is
		 * never image content: in a cached layer it would steer the mount */
		if (strncmp(name, "trusted.overlay.", 16) == 0 ||
		    strncmp(name, "user.overlay.", 13) == 0) {
			log_debug("%s: xattr %s ignored", path, name);
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) < 0)
			log_debug("%s: xattr %s not set: %s", path, name, strerror(errno));
	}
}

static int write_data(struct archive *a, int fd, int64_t size, struct husk_error *err)
{
	const void *buf;
	size_t len;
	la_int64_t offset;
	int r;
	while ((r = archive_read_data_block(a, &buf, &len, &offset)) == ARCHIVE_OK) {
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, offset);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return err_sys(err, errno, "write");
			}
			p += n;
			len -= (size_t)n;
			offset += n;
		}
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, EIO, "read: %s", archive_error_string(a));
	/* a sparse file may end in a hole */
	if (ftruncate(fd, size) < 0)
		return err_sys(err, errno, "truncate");
	return 0;
}

/* Owner, then mode (chown clears set-id bits), xattrs, times. */
static int set_meta_fd(struct layer *L, struct archive_entry *e, int fd, const char *path,
		       bool times, struct husk_error *err)
{
	if (L->o->privileged &&
	    fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return err_sys(err, errno, "chown");
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return err_sys(err, errno, "chmod");
	set_xattrs(e, fd, path);
	if (times) {
		struct timespec ts[2] = {
			{ archive_entry_atime(e), archive_entry_atime_nsec(e) },
			{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
		};
		if (!archive_entry_atime_is_set(e))
			ts[0] = ts[1];
		if (futimens(fd, ts) < 0)
			return err_sys(err, errno, "set times");
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1] = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
	ts[0] = archive_entry_atime_is_set(e)
			? (struct timespec){ archive_entry_atime(e), archive_entry_atime_nsec(e) }
			: ts[1];
}

static int remember_mode(struct dir_modes *m, const char *path, mode_t mode)
{
	if (m->len == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct dir_mode *grown = realloc(m->items, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		m->items = grown;
		m->cap = cap;
	}
	if ((m->items[m->len].path = strdup(path)) == NULL)
		return -ENOMEM;
	m->items[m->len++].mode = mode;
	return 0;
}

/* Last entries first (children follow their parents in a tar), and only
 * the last mode a path was given. Without apply, only frees. */
static void apply_dir_modes(int rootfd, struct dir_modes *m, bool apply)
{
	for (size_t i = m->len; apply && i-- > 0;) {
		bool later = false;
		for (size_t k = i + 1; k < m->len && !later; k++)
			later = strcmp(m->items[k].path, m->items[i].path) == 0;
		struct husk_error ignored = { 0 };
		int fd = later ? -1 :
				 resolve_in_root(rootfd, m->items[i].path,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &ignored);
		if (fd >= 0) {
			if (fchmod(fd, m->items[i].mode) < 0)
				log_warn("%s: chmod: %s", m->items[i].path, strerror(errno));
			close(fd);
		}
	}
	for (size_t i = 0; i < m->len; i++)
		free(m->items[i].path);
	free(m->items);
}

static int add_dir_time(struct layer *L, const char *path, struct archive_entry *e)
{
	if (L->ndirs == L->capdirs) {
		size_t cap = L->capdirs ? L->capdirs * 2 : 64;
		struct dir_time *grown = realloc(L->dirs, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		L->dirs = grown;
		L->capdirs = cap;
	}
	if ((L->dirs[L->ndirs].path = strdup(path)) == NULL)
		return -ENOMEM;
	entry_times(e, L->dirs[L->ndirs].times);
	L->ndirs++;
	return 0;
}

static int make_node(struct layer *L, struct archive_entry *e, int parent, const char *base,
		     const char *path, mode_t type, struct husk_error *err)
{
	mode_t perm = archive_entry_perm(e) & 07777;
	if (type == S_IFSOCK) {
		log_debug("%s: socket skipped", path);
		return 0;
	}
	if ((type == S_IFCHR || type == S_IFBLK) && !L->o->privileged) {
		log_debug("%s: device node skipped (not privileged)", path);
		return 0;
	}
	dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	if (L->o->for_overlay && type == S_IFCHR && dev == makedev(0, 0))
		return err_set(err, ENOTSUP, "a 0:0 character device is a whiteout to overlayfs: "
					     "unpack this image without --overlay");
	if (mknodat(parent, base, type | 0600, type == S_IFIFO ? 0 : dev) < 0) {
		if (errno == EPERM && type != S_IFIFO) {
			log_warn("%s: device node skipped: %s", path, strerror(errno));
			return 0;
		}
		return err_sys(err, errno, "mknod");
	}
	if (L->o->privileged && fchownat(parent, base, (uid_t)archive_entry_uid(e),
					 (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, errno, "chown");
	/* just created by mknodat: not a symlink, so following is moot */
	if (fchmodat(parent, base, perm, 0) < 0)
		return err_sys(err, errno, "chmod");
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, errno, "set times");
	return 0;
}

static int apply_entry(struct layer *L, struct archive *a, struct archive_entry *e,
		       const char *path, struct husk_error *err)
{
	_cleanup_free_ char *alloc = NULL;
	const char *base;
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	int r;

	_cleanup_close_ int parent = open_parent_in_root(L->rootfd, path, true, &alloc, &base, err);
	if (parent < 0)
		return parent;

	struct stat st;
	bool exists = fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !(type == AE_IFDIR && hardlink == NULL && S_ISDIR(st.st_mode))) {
		r = remove_all_at(parent, base);
		if (r < 0)
			return err_sys(err, -r, "replace");
	}

	if (hardlink) {
		_cleanup_free_ char *target = NULL, *talloc = NULL;
		const char *tbase;
		r = clean_path(hardlink, &target, "hardlink target", err);
		if (r < 0)
			return r;
		if (strcmp(target, path) == 0)
			return 0;
		_cleanup_close_ int tparent =
			open_parent_in_root(L->rootfd, target, false, &talloc, &tbase, err);
		if (tparent < 0)
			return err_prefix(err, "hardlink target");
		if (linkat(tparent, tbase, parent, base, 0) < 0)
			return err_sys(err, errno, "hardlink to \"%s\"", target);
		return remember(L, path) < 0 ? err_sys(err, ENOMEM, "unpack") : 0;
	}

	switch (type) {
	case AE_IFDIR: {
		if (!(exists && S_ISDIR(st.st_mode)) && mkdirat(parent, base, 0700) < 0)
			return err_sys(err, errno, "mkdir");
		_cleanup_close_ int fd =
			openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, errno, "open");
		r = set_meta_fd(L, e, fd, path, false, err);
		mode_t perm = archive_entry_perm(e) & 07777;
		if (r == 0 && !L->o->privileged && (perm & 0700) != 0700) {
			if (fchmod(fd, perm | 0700) < 0)
				r = err_sys(err, errno, "chmod");
			else if (remember_mode(L->modes, path, perm) < 0)
				r = err_sys(err, ENOMEM, "unpack");
		}
		if (r == 0 && add_dir_time(L, path, e) < 0)
			r = err_sys(err, ENOMEM, "unpack");
		break;
	}
	case AE_IFREG: {
		_cleanup_close_ int fd = openat(
			parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(err, errno, "create");
		r = write_data(a, fd, archive_entry_size(e), err);
		if (r == 0)
			r = set_meta_fd(L, e, fd, path, true, err);
		break;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (target == NULL)
			return err_set(err, EINVAL, "symlink without a target");
		if (symlinkat(target, parent, base) < 0)
			return err_sys(err, errno, "symlink");
		if (L->o->privileged &&
		    fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
			     AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(err, errno, "chown");
		struct timespec ts[2];
		entry_times(e, ts);
		if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(err, errno, "set times");
		r = 0;
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
	case AE_IFSOCK:
		r = make_node(L, e, parent, base, path, type, err);
		break;
	default:
		return err_set(err, EINVAL, "unsupported file type 0%o", (unsigned)type);
	}
	if (r == 0 && remember(L, path) < 0)
		r = err_sys(err, ENOMEM, "unpack");
	return r;
}

static int process_entry(struct layer *L, struct archive *a, struct archive_entry *e,
			 struct husk_error *err)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *path = NULL;
	int r = clean_path(raw, &path, "entry", err);
	if (r < 0)
		return r;
	if (*path == '\0')
		return 0; /* the root itself: its mode is the bundle's business */
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
		_cleanup_free_ char *dir = strndup(path, slash ? (size_t)(slash - path) : 0);
		if (dir == NULL)
			return err_sys(err, ENOMEM, "unpack");
		r = apply_whiteout(L, dir, base, err);
	} else {
		r = apply_entry(L, a, e, path, err);
	}
	if (r < 0)
		err_prefix(err, "entry \"%s\"", raw);
	return r;
}

/* Directory times last, deepest first: writing into a directory moves its
 * mtime. */
static void apply_dir_times(struct layer *L)
{
	for (size_t i = L->ndirs; i-- > 0;) {
		struct husk_error ignored = { 0 };
		int fd = resolve_in_root(L->rootfd, L->dirs[i].path,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &ignored);
		if (fd >= 0) {
			futimens(fd, L->dirs[i].times);
			close(fd);
		}
	}
}

static void layer_free(struct layer *L)
{
	for (size_t i = 0; i < L->nwritten; i++)
		free(L->written[i]);
	free(L->written);
	for (size_t i = 0; i < L->ndirs; i++)
		free(L->dirs[i].path);
	free(L->dirs);
	digester_free(L->compressed);
	digester_free(L->diff);
	if (L->raw)
		archive_read_free(L->raw);
	if (L->blobfd >= 0)
		close(L->blobfd);
}

static int unpack_layer(struct layer *L, const struct oci_descriptor *d, const char *diff_id,
			struct husk_error *err)
{
	struct archive *tar = NULL;
	int r;
	enum oci_layer_compression comp = oci_layer_compression(d->mediaType);
	if (comp == OCI_LAYER_UNKNOWN)
		return err_set(err, ENOTSUP, "unsupported layer media type \"%s\"", d->mediaType);

	L->compressed = digester_new();
	L->diff = digester_new();
	L->raw = archive_read_new();
	if (L->compressed == NULL || L->diff == NULL || L->raw == NULL)
		return err_sys(err, ENOMEM, "unpack");
	/* the media type says which decompressor; nothing else is tried */
	if (comp == OCI_LAYER_GZIP)
		r = archive_read_support_filter_gzip(L->raw);
	else if (comp == OCI_LAYER_ZSTD)
		r = archive_read_support_filter_zstd(L->raw);
	else
		r = archive_read_support_filter_none(L->raw);
	if (r != ARCHIVE_OK || archive_read_support_format_raw(L->raw) != ARCHIVE_OK)
		return err_set(err, ENOTSUP, "libarchive: %s", archive_error_string(L->raw));
	if (archive_read_open(L->raw, L, NULL, blob_read, NULL) != ARCHIVE_OK)
		return err_set(err, EIO, "%s", archive_error_string(L->raw));
	struct archive_entry *e;
	if (archive_read_next_header(L->raw, &e) != ARCHIVE_OK)
		return err_set(err, EIO, "decompress: %s", archive_error_string(L->raw));

	tar = archive_read_new();
	if (tar == NULL)
		return err_sys(err, ENOMEM, "unpack");
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, L, NULL, tar_read, NULL) != ARCHIVE_OK) {
		r = err_set(err, EIO, "not a tar archive: %s", archive_error_string(tar));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(tar, &e);
		if (r == ARCHIVE_EOF) {
			r = 0;
			break;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			r = err_set(err, EIO, "tar: %s", archive_error_string(tar));
			goto out;
		}
		r = process_entry(L, tar, e, err);
		if (r < 0)
			goto out;
	}
	/* the diff_id covers the whole stream, padding after the end marker too */
	const void *rest;
	while ((r = (int)tar_read(L->raw, L, &rest)) > 0)
		;
	if (r < 0) {
		r = err_set(err, EIO, "decompress: %s", archive_error_string(L->raw));
		goto out;
	}
	char got[DIGEST_LEN + 1];
	digester_final(L->diff, got);
	if (strcmp(got, diff_id) != 0) {
		r = err_set(err, EIO, "diff_id mismatch: expected %s, got %s", diff_id, got);
		goto out;
	}
	/* the raw reader may stop before the blob's end */
	ssize_t n;
	while ((n = read(L->blobfd, L->in, sizeof(L->in))) > 0)
		digester_update(L->compressed, L->in, (size_t)n);
	digester_final(L->compressed, got);
	if (strcmp(got, d->digest) != 0) {
		r = err_set(err, EIO, "blob digest mismatch: expected %s, got %s", d->digest, got);
		goto out;
	}
	apply_dir_times(L);
	r = 0;
out:
	archive_read_free(tar);
	return r;
}

static int unpack_blob(struct store *s, const struct oci_descriptor *d, size_t i,
		       const char *diff_id, int rootfd, struct dir_modes *modes,
		       const struct unpack_opts *o, struct husk_error *err)
{
	struct layer L = { .rootfd = rootfd, .modes = modes, .o = o, .index = i,
			   .digest = d->digest, .blobfd = -1 };
	int r = store_blob_open(s, d->digest, err);
	if (r >= 0) {
		L.blobfd = r;
		r = unpack_layer(&L, d, diff_id, err);
	}
	layer_free(&L);
	if (r < 0)
		err_prefix(err, "layer %zu (%s)", i, d->digest);
	return r;
}

int unpack_layers(struct store *s, const struct image *img, int rootfd, const struct unpack_opts *o,
		  struct husk_error *err)
{
	const struct oci_manifest *m = img->manifest;
	struct dir_modes modes = { 0 };
	int r = 0;
	for (size_t i = 0; r == 0 && i < m->layers.len; i++)
		r = unpack_blob(s, &m->layers.items[i], i, img->config->rootfs->diff_ids.items[i],
				rootfd, &modes, o, err);
	/* after a failure the rootfs is removed: leave it removable */
	apply_dir_modes(rootfd, &modes, r == 0);
	return r;
}

int unpack_one_layer(struct store *s, const struct image *img, size_t i, int rootfd,
		     const struct unpack_opts *o, struct husk_error *err)
{
	struct dir_modes modes = { 0 };
	int r = unpack_blob(s, &img->manifest->layers.items[i], i,
			    img->config->rootfs->diff_ids.items[i], rootfd, &modes, o, err);
	apply_dir_modes(rootfd, &modes, r == 0);
	return r;
}
