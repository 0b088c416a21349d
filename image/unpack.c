/* The layer unpacker. Two threads share the work: a decompressor
 * (layer-stream.c) reads each layer blob (hashing it against the layer
 * digest) and decompresses it with libarchive's raw format, handing the
 * tar stream over in chunks through a bounded queue; the calling thread hashes the stream against
 * the config's diff_id, parses it as tar and applies every entry. The
 * decompressor runs ahead into the next layer while the current one is
 * applied, but layer N+1 is applied only after layer N is complete.
 *
 * Every entry goes through common/resolve: its parent directory is
 * resolved inside the rootfs with RESOLVE_IN_ROOT (or created component
 * by component), and the last component is acted on with *at() calls that
 * never follow it. The last parent directory resolved (or made) is kept
 * open for the entries after it: a tar lists a directory's files together,
 * and an fd on a directory verified to be inside the root stays so — only
 * removing something can make a later lookup of the same path land
 * elsewhere, so every removal forgets it. Whiteouts (.wh.NAME) and opaque
 * directories (.wh..wh..opq) hide only what lower layers made. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "image/layer-stream.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER   ".wh..wh..opq"
/* rootless owners, as umoci and the rootlesscontainers.org spec record them */
#define ROOTLESS_XATTR "user.rootlesscontainers"

/* ---- what a layer wrote: a set of paths and of their ancestors ---- */

struct pathset {
	char **slots;
	size_t cap, len; /* cap: a power of two */
};

static size_t path_hash(const char *p, size_t len)
{
	size_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The slot for p (len bytes): where it is, or the empty one to put it. */
static char **pathset_slot(const struct pathset *set, const char *p, size_t len)
{
	size_t i = path_hash(p, len) & (set->cap - 1);
	while (set->slots[i] &&
	       !(strncmp(set->slots[i], p, len) == 0 && set->slots[i][len] == '\0'))
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

static bool pathset_has(const struct pathset *set, const char *p, size_t len)
{
	return set->cap && *pathset_slot(set, p, len) != NULL;
}

/* 1: added, 0: was there, -ENOMEM */
static int pathset_add(struct pathset *set, const char *p, size_t len)
{
	if (2 * (set->len + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		struct pathset grown = { .slots = calloc(cap, sizeof(char *)), .cap = cap };
		if (grown.slots == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i])
				*pathset_slot(&grown, set->slots[i], strlen(set->slots[i])) =
					set->slots[i];
		free(set->slots);
		set->slots = grown.slots;
		set->cap = cap;
	}
	char **slot = pathset_slot(set, p, len);
	if (*slot)
		return 0;
	if ((*slot = strndup(p, len)) == NULL)
		return -ENOMEM;
	set->len++;
	return 1;
}

static void pathset_free(struct pathset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	*set = (struct pathset){ 0 };
}

/* A directory's mode and times as the last layer that listed it gave
 * them, applied once every layer is in: writing into a directory moves
 * its mtime, and without privileges a directory the image makes
 * read-only (0555) could not be filled before. */
struct dir_meta {
	char *path;
	uint64_t seq; /* when it was noted: a removal after it wins */
	struct timespec times[2];
	mode_t mode;
	bool set_mode; /* only without privileges: with, mkdir gave it */
};
/* Paths removed, each with when (the same clock as the notes). */
struct removals {
	struct removal {
		char *path;
		uint64_t seq;
	} *slots;
	size_t cap, len; /* cap: a power of two */
};
struct dir_metas {
	struct dir_meta *items;
	size_t len, cap;
	uint64_t seq;
	struct removals removed;
};

struct layer {
	int rootfd;
	bool root_sgid;
	uid_t euid;
	gid_t egid;
	struct dir_metas *dirs;
	const struct unpack_opts *o;
	struct stream *st;
	bool ended; /* the stream reached this layer's CHUNK_END */
	bool stream_failed;
	/* the tar stream, checked against rootfs.diff_ids[i]: hashed here,
	 * as the decompressor has more to do */
	struct digester *diff;
	const char *entry_path; /* the entry being applied */
	/* the last parent directory resolved: path and an fd on it */
	char *cached_dir;
	int cached_fd;
	bool cached_sgid;
	/* what this layer wrote (whiteouts do not hide it) and every
	 * directory something was written beneath */
	struct pathset written, beneath;
	/* directories an opaque marker already emptied of lower content:
	 * the same marker again (or one below) has nothing left to hide */
	struct pathset purged;
};

static struct removal *removal_slot(const struct removals *set, const char *p, size_t len)
{
	size_t i = path_hash(p, len) & (set->cap - 1);
	while (set->slots[i].path &&
	       !(strncmp(set->slots[i].path, p, len) == 0 && set->slots[i].path[len] == '\0'))
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

/* path (and everything beneath it) is being removed now. */
static int note_removal(struct dir_metas *m, const char *path)
{
	struct removals *set = &m->removed;
	if (2 * (set->len + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct removals grown = { .slots = calloc(cap, sizeof(struct removal)), .cap = cap };
		if (grown.slots == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i].path)
				*removal_slot(&grown, set->slots[i].path,
					      strlen(set->slots[i].path)) = set->slots[i];
		free(set->slots);
		set->slots = grown.slots;
		set->cap = cap;
	}
	struct removal *slot = removal_slot(set, path, strlen(path));
	if (slot->path == NULL) {
		if ((slot->path = strdup(path)) == NULL)
			return -ENOMEM;
		set->len++;
	}
	slot->seq = ++m->seq;
	return 0;
}

/* Was path, or a directory above it, removed after seq? */
static bool removed_since(const struct dir_metas *m, const char *path, uint64_t seq)
{
	if (m->removed.len == 0)
		return false;
	for (size_t len = 0;; len++) {
		if (path[len] == '/' || path[len] == '\0') {
			const struct removal *r = removal_slot(&m->removed, path, len);
			if (r->path && r->seq > seq)
				return true;
		}
		if (path[len] == '\0')
			return false;
	}
}

static ssize_t tar_read(struct archive *a, void *opaque, const void **buf)
{
	struct layer *L = opaque;
	if (L->ended)
		return 0;
	/* the decompressor has stopped: nothing more will come */
	if (L->stream_failed) {
		archive_set_error(a, EIO, "%s", L->st->err.msg);
		return -1;
	}
	struct chunk *c = stream_next(L->st);
	switch (c->kind) {
	case CHUNK_DATA:
		digester_update(L->diff, c->data, c->len);
		*buf = c->data;
		return (ssize_t)c->len;
	case CHUNK_END:
		L->ended = true;
		return 0;
	default:
		L->stream_failed = true;
		archive_set_error(a, L->st->err.code ? L->st->err.code : EIO, "%s",
				  L->st->err.msg);
		return -1;
	}
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

/* Note path as written by this layer, and every directory above it. */
static int remember(struct layer *L, const char *path)
{
	if (pathset_add(&L->written, path, strlen(path)) < 0)
		return -ENOMEM;
	for (const char *slash = strrchr(path, '/'); slash; ) {
		size_t len = (size_t)(slash - path);
		int r = pathset_add(&L->beneath, path, len);
		if (r <= 0)
			return r; /* already there: so are the ones above */
		slash = len ? memrchr(path, '/', len) : NULL;
	}
	return 0;
}

/* 2: path itself was written; 1: something beneath it; 0: neither */
static int written_state(const struct layer *L, const char *path)
{
	size_t len = strlen(path);
	if (pathset_has(&L->written, path, len))
		return 2;
	return pathset_has(&L->beneath, path, len) ? 1 : 0;
}

/* Every removal forgets the cached parent: the path may now resolve
 * elsewhere (through a symlink put in place of a directory). */
static void forget_parent(struct layer *L)
{
	if (L->cached_fd >= 0)
		close(L->cached_fd);
	L->cached_fd = -1;
	free(L->cached_dir);
	L->cached_dir = NULL;
}

/* Keep fd (a directory verified to be inside the root) as dir's. */
static void cache_parent(struct layer *L, const char *dir, size_t len, int fd)
{
	struct stat st;
	forget_parent(L);
	L->cached_dir = strndup(dir, len);
	if (L->cached_dir == NULL || fstat(fd, &st) < 0) {
		free(L->cached_dir);
		L->cached_dir = NULL;
		close(fd);
		return;
	}
	L->cached_fd = fd;
	L->cached_sgid = (st.st_mode & S_ISGID) != 0;
}

/* An fd on the parent directory of path (borrowed: valid until the next
 * call or removal), made when missing; *base is the last component. */
static int parent_fd(struct layer *L, const char *path, const char **base, bool *sgid,
		     struct husk_error *err)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (slash == NULL) {
		*sgid = L->root_sgid;
		return L->rootfd;
	}
	size_t len = (size_t)(slash - path);
	if (L->cached_dir && strncmp(L->cached_dir, path, len) == 0 &&
	    L->cached_dir[len] == '\0') {
		*sgid = L->cached_sgid;
		return L->cached_fd;
	}
	_cleanup_free_ char *dir = strndup(path, len);
	if (dir == NULL)
		return err_sys(err, ENOMEM, "unpack");
	int fd = mkdir_in_root(L->rootfd, dir, 0755, err);
	if (fd < 0)
		return fd;
	cache_parent(L, dir, len, fd);
	if (L->cached_fd < 0)
		return err_sys(err, ENOMEM, "unpack");
	*sgid = L->cached_sgid;
	return L->cached_fd;
}

/* Opaque directory: remove what lower layers put in dirfd (path), keeping
 * what this layer wrote. Each directory is purged once per layer: after
 * that it holds only this layer's entries, so markers repeated (a hostile
 * layer's thousands of them) cost nothing more. */
static int purge_lower(struct layer *L, int dirfd, const char *path)
{
	if (pathset_add(&L->purged, path, strlen(path)) < 0)
		return -ENOMEM;
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
		if (state != 0 && pathset_has(&L->purged, child, strlen(child)))
			continue; /* holds this layer's entries only */
		if (state == 0) {
			r = note_removal(L->dirs, child);
			if (r == 0)
				r = remove_all_at(dirfd, de->d_name);
		} else if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISDIR(st.st_mode)) {
			/* a directory this layer (re)made or wrote into: what lower
			 * layers put inside it is hidden too */
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
	forget_parent(L);
	if (strcmp(base, OPAQUE_MARKER) == 0) {
		/* hidden already: what is in it now is this layer's */
		if (pathset_has(&L->purged, dir, strlen(dir)))
			return 0;
		int done = L->o->make_opaque && *dir
				   ? L->o->make_opaque(L->o->make_opaque_ctx, L->rootfd, dir, err)
				   : 0;
		if (done < 0)
			return done;
		if (done > 0)
			return pathset_add(&L->purged, dir, strlen(dir)) < 0
				       ? err_sys(err, ENOMEM, "unpack")
				       : 0;
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
	if (note_removal(L->dirs, target) < 0)
		return err_sys(err, ENOMEM, "whiteout");
	int r = remove_all_at(fd, name);
	return r < 0 ? err_sys(err, -r, "remove %s", target) : 0;
}

/* The entry's xattrs. One the filesystem (or the kernel) refuses fails
 * the unpack, naming it, unless the user opted out. */
static int set_xattrs(struct layer *L, struct archive_entry *e, int fd, const char *path,
		      struct husk_error *err)
{
	const char *name;
	const void *value;
	size_t size;
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* overlayfs's own metadata (whiteouts, opaque dirs, redirects) is
		 * never image content: in a cached layer it would steer the mount */
		if (strncmp(name, "trusted.overlay.", 16) == 0 ||
		    strncmp(name, "user.overlay.", 13) == 0) {
			log_debug("%s: xattr %s ignored", path, name);
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (L->o->ignore_xattr_errors) {
			log_warn("%s: xattr %s not set: %s", path, name, strerror(errno));
			continue;
		}
		return err_sys(err, errno,
			       "xattr \"%s\" could not be set (--ignore-xattr-errors skips "
			       "the xattrs the filesystem refuses)",
			       name);
	}
	return 0;
}

static size_t put_varint(unsigned char *p, uint32_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Without privileges every file is the caller's (root in a rootless
 * container); another owner is kept in user.rootlesscontainers, the
 * protobuf message { uint32 uid = 1; uint32 gid = 2; } of the
 * rootlesscontainers.org spec, where NoopUser (2^32 - 1) means "the
 * caller's". As umoci writes it (byte for byte): no record for 0:0 (an
 * earlier one removed), else both fields, a 0 written as NoopUser. A file
 * type that takes no user.* xattr (fifo, symlink) keeps no record, as with
 * umoci. */
#define NOOP_USER 0xffffffffu
static void record_owner(struct archive_entry *e, int fd, const char *path)
{
	uint32_t uid = (uint32_t)archive_entry_uid(e), gid = (uint32_t)archive_entry_gid(e);
	/* a directory a lower layer gave another owner is root's again */
	if (uid == 0 && gid == 0) {
		if (fremovexattr(fd, ROOTLESS_XATTR) < 0 && errno != ENODATA)
			log_debug("%s: owner record not removed: %s", path, strerror(errno));
		return;
	}
	unsigned char buf[12];
	size_t n = 0;
	buf[n++] = 0x08;
	n += put_varint(buf + n, uid ? uid : NOOP_USER);
	buf[n++] = 0x10;
	n += put_varint(buf + n, gid ? gid : NOOP_USER);
	if (fsetxattr(fd, ROOTLESS_XATTR, buf, n, 0) < 0)
		log_debug("%s: owner %u:%u not recorded: %s", path, uid, gid, strerror(errno));
}

/* The data of a regular file; the holes of a sparse one stay holes. */
static int write_data(struct archive *a, int fd, int64_t size, struct husk_error *err)
{
	const void *buf;
	size_t len;
	la_int64_t offset;
	int64_t end = 0;
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
		if (offset > end)
			end = offset;
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, EIO, "read: %s", archive_error_string(a));
	/* a sparse file may end in a hole */
	if (end < size && ftruncate(fd, size) < 0)
		return err_sys(err, errno, "truncate");
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1] = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
	ts[0] = archive_entry_atime_is_set(e)
			? (struct timespec){ archive_entry_atime(e), archive_entry_atime_nsec(e) }
			: ts[1];
}

/* Does a file made in a directory (setgid or not) need a chown to get the
 * entry's owner? Without privileges owners are recorded, never set. */
static bool needs_chown(const struct layer *L, struct archive_entry *e, bool parent_sgid)
{
	return L->o->privileged && (parent_sgid || (uid_t)archive_entry_uid(e) != L->euid ||
				    (gid_t)archive_entry_gid(e) != L->egid);
}

/* Owner (privileged) or its record, then mode when creation could not
 * give it (chown clears set-id bits), xattrs, times. */
static int set_meta_fd(struct layer *L, struct archive_entry *e, int fd, const char *path,
		       bool chown, mode_t mode, bool chmod, bool times, struct husk_error *err)
{
	if (chown && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return err_sys(err, errno, "chown");
	if (!L->o->privileged)
		record_owner(e, fd, path);
	if (chmod && fchmod(fd, mode) < 0)
		return err_sys(err, errno, "chmod");
	int r = set_xattrs(L, e, fd, path, err);
	if (r < 0)
		return r;
	if (times) {
		struct timespec ts[2];
		entry_times(e, ts);
		if (futimens(fd, ts) < 0)
			return err_sys(err, errno, "set times");
	}
	return 0;
}

/* Note a directory entry's mode and times (the last note of a path wins). */
static int remember_dir(struct layer *L, const char *path, struct archive_entry *e, mode_t mode)
{
	struct dir_metas *m = L->dirs;

	if (m->len == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct dir_meta *grown = realloc(m->items, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		m->items = grown;
		m->cap = cap;
	}
	struct dir_meta *d = &m->items[m->len];
	if ((d->path = strdup(path)) == NULL)
		return -ENOMEM;
	d->seq = ++m->seq;
	entry_times(e, d->times);
	d->mode = mode;
	d->set_mode = !L->o->privileged;
	m->len++;
	return 0;
}

/* Once every layer is in: each directory gets the mode and times of its
 * last note. A path is resolved again, but with no symlink anywhere on
 * it, and only when nothing removed it (or a directory above it) since:
 * a directory replaced later (by a symlink to another directory, beneath
 * one, or by a directory made again as a parent) is not there any more,
 * and nothing lands on what the symlink points to or on the new one.
 * Without apply (a failed unpack), only frees. */
static void apply_dirs(int rootfd, struct dir_metas *m, bool apply)
{
	struct pathset done = { 0 };
	for (size_t i = m->len; apply && i-- > 0;) {
		const struct dir_meta *d = &m->items[i];
		int added = pathset_add(&done, d->path, strlen(d->path));
		/* removed since (with what was above it), and what is there now
		 * no layer listed: it keeps what it was made with, as umoci's */
		if (added != 0 && removed_since(m, d->path, d->seq))
			added = 0;
		int fd = added == 0 ? -1 :
				      resolve_in_root_nosymlinks(rootfd, d->path,
								 O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
								 NULL);
		if (fd < 0)
			continue;
		if (d->set_mode && fchmod(fd, d->mode) < 0)
			log_warn("%s: chmod: %s", d->path, strerror(errno));
		if (futimens(fd, d->times) < 0)
			log_warn("%s: set times: %s", d->path, strerror(errno));
		close(fd);
	}
	pathset_free(&done);
	for (size_t i = 0; i < m->len; i++)
		free(m->items[i].path);
	free(m->items);
	for (size_t i = 0; i < m->removed.cap; i++)
		free(m->removed.slots[i].path);
	free(m->removed.slots);
	*m = (struct dir_metas){ 0 };
}

/* Something is where an entry goes: remove it so the entry can be made.
 * The cached parent stays valid when it is this entry's parent (base is
 * below it, not above); any other may have been under base. */
static int make_room(struct layer *L, int parent, const char *base, struct husk_error *err)
{
	if (parent != L->cached_fd)
		forget_parent(L);
	if (note_removal(L->dirs, L->entry_path) < 0)
		return err_sys(err, ENOMEM, "unpack");
	int r = remove_all_at(parent, base);
	return r < 0 ? err_sys(err, -r, "replace") : 0;
}

static int make_node(struct layer *L, struct archive_entry *e, int parent, const char *base,
		     const char *path, mode_t type, bool sgid, struct husk_error *err)
{
	mode_t perm = archive_entry_perm(e) & 07777;
	if (type == S_IFSOCK) {
		log_debug("%s: socket skipped", path);
		return 0;
	}
	dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	if (L->o->for_overlay && type == S_IFCHR && dev == makedev(0, 0))
		return err_set(err, ENOTSUP, "a 0:0 character device is a whiteout to overlayfs: "
					     "unpack this image without --overlay");
	int r = mknodat(parent, base, type | 0600, type == S_IFIFO ? 0 : dev);
	if (r < 0 && errno == EEXIST) {
		if ((r = make_room(L, parent, base, err)) < 0)
			return r;
		r = mknodat(parent, base, type | 0600, type == S_IFIFO ? 0 : dev);
	}
	if (r < 0) {
		if (errno == EPERM && type != S_IFIFO) {
			log_warn("%s: device node skipped: %s", path, strerror(errno));
			return 0;
		}
		return err_sys(err, errno, "mknod");
	}
	if (needs_chown(L, e, sgid) &&
	    fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) < 0)
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

static int make_hardlink(struct layer *L, const char *hardlink, int parent, const char *base,
			 const char *path, struct husk_error *err)
{
	_cleanup_free_ char *target = NULL, *talloc = NULL;
	const char *tbase;
	int r = clean_path(hardlink, &target, "hardlink target", err);
	if (r < 0)
		return r;
	if (strcmp(target, path) == 0)
		return 0;
	_cleanup_close_ int tparent =
		open_parent_in_root(L->rootfd, target, false, &talloc, &tbase, err);
	if (tparent < 0)
		return err_prefix(err, "hardlink target");
	r = linkat(tparent, tbase, parent, base, 0);
	if (r < 0 && errno == EEXIST) {
		if ((r = make_room(L, parent, base, err)) < 0)
			return r;
		r = linkat(tparent, tbase, parent, base, 0);
	}
	if (r < 0)
		return err_sys(err, errno, "hardlink to \"%s\"", target);
	return 0;
}

static int make_dir(struct layer *L, struct archive_entry *e, int parent, const char *base,
		    const char *path, bool sgid, struct husk_error *err)
{
	mode_t perm = archive_entry_perm(e) & 07777;
	/* without privileges the owner keeps write access until the end */
	mode_t now = L->o->privileged ? perm : perm | 0700;
	bool existed = false;
	if (mkdirat(parent, base, now & 01777) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return err_sys(err, errno, "mkdir");
		existed = fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			  S_ISDIR(st.st_mode);
		if (!existed) {
			int r = make_room(L, parent, base, err);
			if (r < 0)
				return r;
			if (mkdirat(parent, base, now & 01777) < 0)
				return err_sys(err, errno, "mkdir");
		}
	}
	int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open");
	bool chown = needs_chown(L, e, sgid) || (existed && L->o->privileged);
	/* mkdir gives the permission bits; set-id bits (also the one a
	 * setgid parent passes on) and an existing directory's mode need a
	 * chmod */
	int r = set_meta_fd(L, e, fd, path, chown, now, existed || chown || sgid || (now & 06000),
			    false, err);
	if (r == 0 && remember_dir(L, path, e, perm) < 0)
		r = err_sys(err, ENOMEM, "unpack");
	if (r < 0) {
		close(fd);
		return r;
	}
	/* its entries are likely next: keep it as their parent */
	cache_parent(L, path, strlen(path), fd);
	return 0;
}

static int make_file(struct layer *L, struct archive *a, struct archive_entry *e, int parent,
		     const char *base, const char *path, bool sgid, struct husk_error *err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	mode_t perm = archive_entry_perm(e) & 07777;
	/* an owner record (a user.* xattr) needs write access to the file */
	mode_t create = perm & 0777;
	if (!L->o->privileged && (archive_entry_uid(e) || archive_entry_gid(e)))
		create |= 0200;
	_cleanup_close_ int fd = openat(parent, base, flags, create);
	if (fd < 0 && errno == EEXIST) {
		int r = make_room(L, parent, base, err);
		if (r < 0)
			return r;
		fd = openat(parent, base, flags, create);
	}
	if (fd < 0)
		return err_sys(err, errno, "create");
	int r = write_data(a, fd, archive_entry_size(e), err);
	bool chown = needs_chown(L, e, sgid);
	/* set-id bits are set after the data (a write clears them) and the
	 * owner (so does chown) */
	if (r == 0)
		r = set_meta_fd(L, e, fd, path, chown, perm, chown || create != perm, true, err);
	return r;
}

static int make_symlink(struct layer *L, struct archive_entry *e, int parent, const char *base,
			bool sgid, struct husk_error *err)
{
	const char *target = archive_entry_symlink(e);
	if (target == NULL)
		return err_set(err, EINVAL, "symlink without a target");
	int r = symlinkat(target, parent, base);
	if (r < 0 && errno == EEXIST) {
		if ((r = make_room(L, parent, base, err)) < 0)
			return r;
		r = symlinkat(target, parent, base);
	}
	if (r < 0)
		return err_sys(err, errno, "symlink");
	if (needs_chown(L, e, sgid) &&
	    fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, errno, "chown");
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, errno, "set times");
	return 0;
}

static int apply_entry(struct layer *L, struct archive *a, struct archive_entry *e,
		       const char *path, struct husk_error *err)
{
	const char *base;
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	bool sgid = false;
	int r;

	L->entry_path = path;
	int parent = parent_fd(L, path, &base, &sgid, err);
	if (parent < 0)
		return parent;
	/* a sparse file can claim any size: it counts against the limit too */
	if (archive_entry_size(e) > 0 && (uint64_t)archive_entry_size(e) > L->st->max_layer_size) {
		char limit[32];
		format_size(limit, sizeof(limit), L->st->max_layer_size);
		return err_set(err, EFBIG,
			       "a file of %lld bytes is larger than the limit of %s "
			       "(--max-layer-size raises it)",
			       (long long)archive_entry_size(e), limit);
	}

	if (hardlink) {
		r = make_hardlink(L, hardlink, parent, base, path, err);
	} else {
		switch (type) {
		case AE_IFDIR:
			r = make_dir(L, e, parent, base, path, sgid, err);
			break;
		case AE_IFREG:
			r = make_file(L, a, e, parent, base, path, sgid, err);
			break;
		case AE_IFLNK:
			r = make_symlink(L, e, parent, base, sgid, err);
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			/* without privileges, as umoci: an empty file in its place
			 * (with its mode, times and owner record) */
			if (!L->o->privileged) {
				log_debug("%s: device node made an empty file (not privileged)",
					  path);
				r = make_file(L, a, e, parent, base, path, sgid, err);
				break;
			}
			r = make_node(L, e, parent, base, path, type, sgid, err);
			break;
		case AE_IFIFO:
		case AE_IFSOCK:
			r = make_node(L, e, parent, base, path, type, sgid, err);
			break;
		default:
			return err_set(err, EINVAL, "unsupported file type 0%o", (unsigned)type);
		}
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
	/* tar headers carry 64-bit owners; uid_t has 32 bits and (uid_t)-1
	 * means "leave unchanged" to chown: a cast would make them root */
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || uid >= (la_int64_t)NOOP_USER || gid < 0 || gid >= (la_int64_t)NOOP_USER)
		return err_set(err, ERANGE,
			       "entry \"%s\": owner %lld:%lld is out of range (0 to %u)", raw,
			       (long long)uid, (long long)gid, NOOP_USER - 1);
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

static void layer_free(struct layer *L)
{
	forget_parent(L);
	digester_free(L->diff);
	pathset_free(&L->written);
	pathset_free(&L->beneath);
	pathset_free(&L->purged);
}

/* A tar reader failed: when the stream under it broke, that is the cause
 * (the decompressor's own message); else what libarchive says. */
static int tar_error(struct layer *L, struct archive *tar, const char *what,
		     struct husk_error *err)
{
	if (L->stream_failed)
		return err_set(err, L->st->err.code ? L->st->err.code : EIO, "%s", L->st->err.msg);
	return err_set(err, EIO, "%s: %s", what, archive_error_string(tar));
}

/* Apply the next layer of the stream. */
static int unpack_layer(struct layer *L, const char *diff_id, struct husk_error *err)
{
	struct archive_entry *e;
	struct archive *tar = archive_read_new();
	int r;
	L->diff = digester_new();
	if (tar == NULL || L->diff == NULL) {
		archive_read_free(tar);
		return err_sys(err, ENOMEM, "unpack");
	}
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, L, NULL, tar_read, NULL) != ARCHIVE_OK) {
		r = tar_error(L, tar, "not a tar archive", err);
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			r = tar_error(L, tar, "tar", err);
			goto out;
		}
		r = process_entry(L, tar, e, err);
		if (r < 0) {
			if (L->stream_failed)
				tar_error(L, tar, "tar", err);
			goto out;
		}
	}
	/* the diff_id covers the whole stream, padding after the end marker too */
	const void *rest;
	while ((r = (int)tar_read(tar, L, &rest)) > 0)
		;
	if (r < 0) {
		r = tar_error(L, tar, "tar", err);
		goto out;
	}
	char got[DIGEST_LEN + 1];
	digester_final(L->diff, got);
	if (strcmp(got, diff_id) != 0) {
		r = err_set(err, EIO, "diff_id mismatch: expected %s, got %s", diff_id, got);
		goto out;
	}
	forget_parent(L);
	r = 0;
out:
	archive_read_free(tar);
	return r;
}

/* Layers [first, end) of the image onto rootfd, in order. */
static int unpack_range(struct store *s, const struct image *img, size_t first, size_t end,
			int rootfd, const struct unpack_opts *o, struct husk_error *err)
{
	const struct oci_manifest *m = img->manifest;
	struct dir_metas dirs = { 0 };
	struct stream st;
	struct stat root;
	if (fstat(rootfd, &root) < 0)
		return err_sys(err, errno, "rootfs");
	uint64_t limit = o->max_layer_size ? o->max_layer_size : UNPACK_DEFAULT_MAX_LAYER_SIZE;
	/* modes are given at creation, exactly */
	mode_t umask_was = umask(0);
	int r = stream_start(&st, s, m, first, end, limit, err);
	for (size_t i = first; r == 0 && i < end; i++) {
		const struct oci_descriptor *d = &m->layers.items[i];
		struct layer L = { .rootfd = rootfd, .root_sgid = (root.st_mode & S_ISGID) != 0,
				   .euid = geteuid(), .egid = getegid(), .dirs = &dirs,
				   .o = o, .st = &st, .cached_fd = -1 };
		r = unpack_layer(&L, img->config->rootfs->diff_ids.items[i], err);
		layer_free(&L);
		if (r < 0)
			err_prefix(err, "layer %zu (%s)", i, d->digest);
	}
	stream_stop(&st);
	umask(umask_was);
	/* after a failure the rootfs is removed: leave it removable */
	apply_dirs(rootfd, &dirs, r == 0);
	return r;
}

int unpack_layers(struct store *s, const struct image *img, int rootfd, const struct unpack_opts *o,
		  struct husk_error *err)
{
	return unpack_range(s, img, 0, img->manifest->layers.len, rootfd, o, err);
}

int unpack_one_layer(struct store *s, const struct image *img, size_t i, int rootfd,
		     const struct unpack_opts *o, struct husk_error *err)
{
	return unpack_range(s, img, i, i + 1, rootfd, o, err);
}
