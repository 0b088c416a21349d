/* The content store: an OCI image layout (oci-layout, index.json,
 * blobs/sha256/<hex>). Blobs are written to a temp file and renamed into
 * place once their digest checks out, so a reader never sees a partial
 * blob and two concurrent pulls of the same blob both succeed. A download
 * goes to .partial-<hex>, which an interrupted pull leaves for the next one
 * to continue from (gc removes it). Pulls hold
 * the layout directory's flock shared, gc holds it exclusively; edits of
 * index.json are serialised with a flock on blobs/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <search.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/escape.h"
#include "common/log.h"
#include "image/image.h"

int store_default_path(char **out, struct husk_error *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int r;
	if (geteuid() == 0)
		r = asprintf(out, "/var/lib/husk-image");
	else if (xdg && *xdg)
		r = asprintf(out, "%s/husk-image", xdg);
	else if (home && *home)
		r = asprintf(out, "%s/.local/share/husk-image", home);
	else
		return err_set(err, ENOENT, "no default store: set --store, XDG_DATA_HOME or HOME");
	if (r < 0)
		return err_sys(err, ENOMEM, "store path");
	return 0;
}

static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(path);
	if (copy == NULL)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int init_layout(struct store *s, struct husk_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"" OCI_LAYOUT_VERSION "\"}";
	static const char empty_index[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":[]}";
	int r;
	if (faccessat(s->dirfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		r = write_file_atomic(s->dirfd, "oci-layout", layout, strlen(layout), 0644, err);
		if (r < 0)
			return err_prefix(err, "store %s", s->path);
	}
	if (faccessat(s->dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		/* two first pulls may race here: only one creates it */
		_cleanup_close_ int fd =
			openat(s->dirfd, "index.json",
			       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0) {
			r = write_all(fd, empty_index, strlen(empty_index));
			if (r < 0)
				return err_sys(err, -r, "store %s: index.json", s->path);
		} else if (errno != EEXIST) {
			return err_sys(err, errno, "store %s: index.json", s->path);
		}
	}
	return 0;
}

int store_open(const char *path, bool create, bool exclusive, struct store *s,
	       struct husk_error *err)
{
	*s = (struct store){ .dirfd = -1, .blobsfd = -1, .lockfd = -1 };
	s->path = strdup(path);
	if (s->path == NULL)
		return err_sys(err, ENOMEM, "store");
	int r;
	struct oci_layout *layout = NULL;
	struct stat blobs;
	bool supported;
	if (create && (r = mkdir_parents(path, 0700)) < 0) {
		err_sys(err, -r, "store %s", path);
		goto fail;
	}
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = err_sys(err, errno, "store %s", path);
		goto fail;
	}
	if (flock(s->dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		r = err_sys(err, errno, "store %s: lock", path);
		goto fail;
	}
	if (create) {
		if ((mkdirat(s->dirfd, "blobs", 0755) < 0 && errno != EEXIST) ||
		    (mkdirat(s->dirfd, "blobs/sha256", 0755) < 0 && errno != EEXIST)) {
			r = err_sys(err, errno, "store %s: blobs/sha256", path);
			goto fail;
		}
		if ((r = init_layout(s, err)) < 0)
			goto fail;
	}
	r = oci_decode_file(&oci_layout_type, s->dirfd, "oci-layout", "oci-layout",
			    (void **)&layout, err);
	if (r < 0 && fstatat(s->dirfd, "blobs/sha256", &blobs, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(blobs.st_mode)) {
		/* a layout with blobs is one, whatever became of its oci-layout
		 * file: rm, gc and fsck must still reach it */
		_cleanup_free_ char *shown = str_escape(err->msg);
		log_warn("store %s: %s; 'husk-image gc' rewrites it", path,
			 shown ? shown : "oci-layout is damaged");
		err_clear(err);
		s->layout_damaged = true;
	} else if (r < 0) {
		if (r == -ENOENT)
			err_set(err, ENOENT, "%s is not an OCI image layout (no oci-layout file)",
				path);
		else
			err_prefix(err, "store %s", path);
		goto fail;
	}
	supported = layout == NULL || strncmp(layout->imageLayoutVersion, "1.", 2) == 0;
	oci_free(&oci_layout_type, layout);
	if (!supported) {
		r = err_set(err, EINVAL, "store %s: unsupported imageLayoutVersion", path);
		goto fail;
	}
	s->blobsfd =
		openat(s->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->blobsfd < 0 && errno == ENOENT && exclusive && !s->layout_damaged) {
		/* deleted by hand: gc and fsck still work (the images are gone,
		 * fsck says which; a pull fetches them again) */
		log_warn("store %s: blobs/sha256 is missing; made again, empty", path);
		if ((mkdirat(s->dirfd, "blobs", 0755) == 0 || errno == EEXIST) &&
		    mkdirat(s->dirfd, "blobs/sha256", 0755) == 0)
			s->blobsfd = openat(s->dirfd, "blobs/sha256",
					    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (s->blobsfd < 0) {
		if (errno == ENOENT)
			r = err_set(err, ENOENT,
				    "store %s: blobs/sha256 is missing ('husk-image gc' makes it again)",
				    path);
		else
			r = err_sys(err, errno, "store %s: blobs/sha256", path);
		goto fail;
	}
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (s->blobsfd >= 0)
		close(s->blobsfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->path);
	*s = (struct store){ .dirfd = -1, .blobsfd = -1, .lockfd = -1 };
}

static const char *hex_of(const char *digest)
{
	return digest + 7;
}

bool store_has_blob(struct store *s, const char *digest, int64_t size)
{
	struct stat st;
	if (!oci_digest_valid(digest) ||
	    fstatat(s->blobsfd, hex_of(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return S_ISREG(st.st_mode) && (size < 0 || st.st_size == size);
}

int store_blob_hash(int fd, char out[DIGEST_LEN + 1], int64_t *size)
{
	struct digester *d = digester_new();
	if (d == NULL)
		return -ENOMEM;
	size_t cap = 1 << 20;
	_cleanup_free_ char *buf = malloc(cap);
	if (buf == NULL) {
		digester_free(d);
		return -ENOMEM;
	}
	int64_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, cap)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			digester_free(d);
			return -e;
		}
		digester_update(d, buf, (size_t)n);
		total += n;
	}
	digester_final(d, out);
	digester_free(d);
	if (size)
		*size = total;
	return 0;
}

bool store_has_verified_blob(struct store *s, const char *digest, int64_t size)
{
	if (!store_has_blob(s, digest, size))
		return false;
	_cleanup_close_ int fd =
		openat(s->blobsfd, hex_of(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char got[DIGEST_LEN + 1];
	int64_t len;
	if (fd < 0 || store_blob_hash(fd, got, &len) < 0)
		return false;
	if (strcmp(got, digest) == 0 && (size < 0 || len == size))
		return true;
	/* corrupt: out of the way, so that the fetched copy can take its
	 * place (a rename over it would do too, but an unpack must not pick it
	 * up meanwhile) */
	log_warn("blob %s in the store %s is corrupt (its content hashes to %s): fetching it again",
		 digest, s->path, got);
	/* only the file hashed: a concurrent pull may have put a good copy in
	 * its place meanwhile */
	struct stat hashed, named;
	if (fstat(fd, &hashed) == 0 &&
	    fstatat(s->blobsfd, hex_of(digest), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    hashed.st_ino == named.st_ino && hashed.st_dev == named.st_dev)
		unlinkat(s->blobsfd, hex_of(digest), 0);
	return false;
}

int store_blob_open(struct store *s, const char *digest, struct husk_error *err)
{
	if (!oci_digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\" is not a sha256 digest", digest);
	int fd = openat(s->blobsfd, hex_of(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(err, ENOENT, "blob %s is not in the store %s", digest,
				       s->path);
		return err_sys(err, errno, "blob %s", digest);
	}
	return fd;
}

int store_read_blob(struct store *s, const char *digest, int64_t size, char **out, size_t *len,
		    struct husk_error *err)
{
	_cleanup_close_ int fd = store_blob_open(s, digest, err);
	if (fd < 0)
		return fd;
	char *buf = NULL;
	int r = read_fd_all(fd, digest, IMAGE_JSON_MAX, &buf, len, err);
	if (r < 0)
		return r;
	char got[DIGEST_LEN + 1];
	digest_buffer(buf, *len, got);
	if (strcmp(got, digest) != 0 || (size >= 0 && (int64_t)*len != size)) {
		free(buf);
		return err_set(err, EIO,
			       "blob %s in the store is corrupt: its content hashes to %s", digest,
			       got);
	}
	*out = buf;
	return 0;
}

int blob_writer_open(struct store *s, struct blob_writer *w, int64_t limit, struct husk_error *err)
{
	static unsigned counter;
	*w = (struct blob_writer){ .fd = -1, .limit = limit };
	snprintf(w->tmpname, sizeof(w->tmpname), ".tmp-%d-%u-%lx", (int)getpid(), counter++,
		 (unsigned long)random());
	w->digest = digester_new();
	if (w->digest == NULL)
		return err_sys(err, ENOMEM, "blob");
	w->fd = openat(s->blobsfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		       0644);
	if (w->fd < 0) {
		int e = errno;
		digester_free(w->digest);
		w->digest = NULL;
		return err_sys(err, e, "store %s: create a blob", s->path);
	}
	return 0;
}

/* Hash what the partial file already holds; on a read error start over. */
static int hash_existing(struct blob_writer *w)
{
	char buf[65536];
	ssize_t n;
	if (lseek(w->fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		digester_update(w->digest, buf, (size_t)n);
		w->written += n;
	}
	if (n < 0)
		return blob_writer_restart(w);
	return 0;
}

int blob_writer_resume(struct store *s, struct blob_writer *w, const char *digest, int64_t size,
		       const char *source, struct husk_error *err)
{
	/* the name says where the part came from: only a pull from the same
	 * registry and repository continues it (another's part may be
	 * anything; gc removes it) */
	char name[sizeof(w->tmpname)], from[DIGEST_LEN + 1];
	digest_buffer(source, strlen(source), from);
	int n = snprintf(name, sizeof(name), ".partial-%s-%.16s", hex_of(digest), hex_of(from));
	if (n < 0 || (size_t)n >= sizeof(name))
		return err_set(err, ENAMETOOLONG, "blob %s: partial file name", digest);
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = openat(s->blobsfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return err_sys(err, errno, "store %s: %s", s->path, name);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				break; /* another pull is fetching it */
			return err_sys(err, e, "store %s: lock %s", s->path, name);
		}
		/* the last holder may have committed it (renamed it away) after we
		 * opened it: only the file still under the name is ours */
		struct stat mine, named;
		if (fstat(fd, &mine) < 0 ||
		    fstatat(s->blobsfd, name, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
		    mine.st_ino != named.st_ino || mine.st_dev != named.st_dev) {
			close(fd);
			continue;
		}
		*w = (struct blob_writer){ .fd = fd, .limit = size, .resumable = true };
		snprintf(w->tmpname, sizeof(w->tmpname), "%s", name);
		w->digest = digester_new();
		if (w->digest == NULL) {
			blob_writer_abort(s, w);
			return err_sys(err, ENOMEM, "blob");
		}
		/* as long as the blob or longer: it was wrong, fetch it whole */
		int r = size >= 0 && mine.st_size >= size ? blob_writer_restart(w)
							  : hash_existing(w);
		if (r < 0) {
			blob_writer_abort(s, w);
			return err_sys(err, -r, "store %s: %s", s->path, name);
		}
		return 0;
	}
	return blob_writer_open(s, w, size, err);
}

int blob_writer_restart(struct blob_writer *w)
{
	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
		return -errno;
	struct digester *fresh = digester_new();
	if (fresh == NULL)
		return -ENOMEM;
	digester_free(w->digest);
	w->digest = fresh;
	w->written = 0;
	return 0;
}

void blob_writer_suspend(struct store *s, struct blob_writer *w)
{
	if (!w->resumable) {
		blob_writer_abort(s, w);
		return;
	}
	if (w->fd >= 0)
		close(w->fd);
	digester_free(w->digest);
	*w = (struct blob_writer){ .fd = -1 };
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len)
{
	if (w->limit >= 0 && w->written + (int64_t)len > w->limit)
		return -EFBIG;
	int r = write_all(w->fd, data, len);
	if (r < 0)
		return r;
	digester_update(w->digest, data, len);
	w->written += (int64_t)len;
	return 0;
}

void blob_writer_abort(struct store *s, struct blob_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(s->blobsfd, w->tmpname, 0);
	}
	digester_free(w->digest);
	*w = (struct blob_writer){ .fd = -1 };
}

int blob_writer_commit(struct store *s, struct blob_writer *w, const char *want_digest,
		       int64_t want_size, struct husk_error *err)
{
	char got[DIGEST_LEN + 1];
	int r = 0;

	digester_final(w->digest, got);
	if (want_size >= 0 && w->written != want_size)
		r = err_set(err, EIO,
			    "blob %s: size mismatch: expected %lld bytes, got %lld (digest %s)",
			    want_digest ? want_digest : got, (long long)want_size,
			    (long long)w->written, got);
	else if (want_digest && strcmp(got, want_digest) != 0)
		r = err_set(err, EIO, "blob %s: digest mismatch: expected %s, got %s", want_digest,
			    want_digest, got);
	else if (fsync(w->fd) < 0)
		r = err_sys(err, errno, "blob %s: fsync", got);
	else if (renameat(s->blobsfd, w->tmpname, s->blobsfd, hex_of(got)) < 0)
		r = err_sys(err, errno, "blob %s: rename", got);
	if (r < 0) {
		blob_writer_abort(s, w);
		return r;
	}
	close(w->fd);
	digester_free(w->digest);
	*w = (struct blob_writer){ .fd = -1 };
	return 0;
}

int store_write_blob(struct store *s, const void *data, size_t len, char out[DIGEST_LEN + 1],
		     struct husk_error *err)
{
	char digest[DIGEST_LEN + 1];
	digest_buffer(data, len, digest);
	if (out)
		memcpy(out, digest, sizeof(digest));
	if (store_has_verified_blob(s, digest, (int64_t)len))
		return 0;
	struct blob_writer w;
	int r = blob_writer_open(s, &w, -1, err);
	if (r < 0)
		return r;
	r = blob_writer_write(&w, data, len);
	if (r < 0) {
		blob_writer_abort(s, &w);
		return err_sys(err, -r, "blob %s", digest);
	}
	return blob_writer_commit(s, &w, digest, (int64_t)len, err);
}

static const char *ref_name(const struct oci_descriptor *d)
{
	return oci_map_get(&d->annotations, OCI_ANNOTATION_REF_NAME);
}

/* Free what an inline entry owns (oci_free frees the struct too: a heap
 * copy of it goes). */
static void free_entry(struct oci_descriptor *d)
{
	struct oci_descriptor *heap = malloc(sizeof(*heap));
	if (heap) {
		*heap = *d;
		oci_free(&oci_descriptor_type, heap);
	}
	*d = (struct oci_descriptor){ 0 };
}

/* A deep copy through the schema tables, so ownership stays simple. */
static int descriptor_clone(const struct oci_descriptor *d, struct oci_descriptor **out,
			    struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&oci_descriptor_type, d, false, &json, &len, err);
	if (r < 0)
		return r;
	return oci_decode(&oci_descriptor_type, json, len, "descriptor", (void **)out, err);
}

static int index_save(struct store *s, struct oci_index *idx, struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&oci_index_type, idx, false, &json, &len, err);
	if (r < 0)
		return r;
	r = write_file_atomic(s->dirfd, "index.json", json, len, 0644, err);
	if (r < 0)
		return err_prefix(err, "store %s", s->path);
	return 0;
}

/* Read index.json for an edit: what a damaged file still holds is kept,
 * the rest is reported once and dropped when the edit saves it. */
static int index_read_for_edit(struct store *s, struct oci_index **idx, struct husk_error *err)
{
	struct husk_error damage = { 0 };
	int r = store_index_read(s, idx, &damage, err);
	if (r == 0 && damage.code) {
		_cleanup_free_ char *shown = str_escape(damage.msg);
		log_warn("%s; rewriting it with the entries that could be read",
			 shown ? shown : "index.json is damaged");
	}
	return r;
}

/* Load, edit and save index.json under the index lock: drop the entries
 * named one of names (and, with digest, every entry pointing at it), then
 * add one entry per name pointing at add. *dropped counts what went. */
static int index_edit(struct store *s, const char *const *names, size_t n, const char *digest,
		      const struct oci_descriptor *add, size_t *dropped, struct husk_error *err)
{
	if (flock(s->blobsfd, LOCK_EX) < 0)
		return err_sys(err, errno, "store %s: lock index.json", s->path);
	struct oci_index *idx = NULL;
	size_t gone = 0, kept = 0;
	int r = index_read_for_edit(s, &idx, err);
	if (r < 0)
		goto out;
	/* one pass, keeping the order: linear in the entries however many go */
	for (size_t i = 0; i < idx->manifests.len; i++) {
		struct oci_descriptor *d = &idx->manifests.items[i];
		const char *have = ref_name(d);
		bool match = digest && strcmp(d->digest, digest) == 0;
		for (size_t k = 0; !match && have && k < n; k++)
			match = strcmp(have, names[k]) == 0;
		if (match) {
			free_entry(d);
			gone++;
		} else {
			idx->manifests.items[kept++] = *d;
		}
	}
	idx->manifests.len = kept;
	if (add && n > 0) {
		struct oci_descriptor *grown =
			realloc(idx->manifests.items, (idx->manifests.len + n) * sizeof(*grown));
		if (grown == NULL) {
			r = err_sys(err, ENOMEM, "index.json");
			goto out;
		}
		idx->manifests.items = grown;
		for (size_t k = 0; k < n; k++) {
			struct oci_descriptor *copy = NULL;
			r = descriptor_clone(add, &copy, err);
			if (r < 0)
				goto out;
			if (oci_map_set(&copy->annotations, OCI_ANNOTATION_REF_NAME, names[k]) < 0) {
				oci_free(&oci_descriptor_type, copy);
				r = err_sys(err, ENOMEM, "index.json");
				goto out;
			}
			idx->manifests.items[idx->manifests.len++] = *copy;
			free(copy);
		}
	}
	/* nothing to change (a name that is not there): the file stays as it
	 * is, damaged or not */
	if (gone > 0 || (add && n > 0))
		r = index_save(s, idx, err);
out:
	oci_free(&oci_index_type, idx);
	flock(s->blobsfd, LOCK_UN);
	if (dropped)
		*dropped = gone;
	return r;
}

int store_tag_many(struct store *s, const char *const *names, size_t n,
		   const struct oci_descriptor *desc, struct husk_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = store_entry_check(names[i], desc, err);
		if (r < 0)
			return r;
	}
	return index_edit(s, names, n, NULL, desc, NULL, err);
}

int store_tag(struct store *s, const char *name, const struct oci_descriptor *desc,
	      struct husk_error *err)
{
	return store_tag_many(s, &name, 1, desc, err);
}

int store_untag(struct store *s, const char *name, struct husk_error *err)
{
	size_t gone = 0;
	int r = index_edit(s, &name, 1, NULL, NULL, &gone, err);
	if (r == 0 && gone == 0)
		return err_set(err, ENOENT, "%s: no such image in the store %s", name, s->path);
	return r;
}

int store_untag_digest(struct store *s, const char *digest, size_t *dropped,
		       struct husk_error *err)
{
	int r = index_edit(s, NULL, 0, digest, NULL, dropped, err);
	if (r == 0 && *dropped == 0)
		return err_set(err, ENOENT, "%s: no image in the store %s has this digest", digest,
			       s->path);
	return r;
}

int store_lookup(struct store *s, const char *name, struct oci_descriptor **out,
		 struct husk_error *err)
{
	struct oci_index *idx = NULL;
	struct husk_error damage = { 0 };
	int r = store_index_read(s, &idx, &damage, err);
	if (r < 0)
		return r;
	const struct oci_descriptor *hit = NULL;
	for (size_t i = 0; i < idx->manifests.len && hit == NULL; i++) {
		const struct oci_descriptor *d = &idx->manifests.items[i];
		const char *n = ref_name(d);
		if ((n && strcmp(n, name) == 0) || strcmp(d->digest, name) == 0)
			hit = d;
	}
	if (hit)
		r = descriptor_clone(hit, out, err);
	else if (damage.code)
		r = err_set(err, ENOENT, "%s: no such image in the store (%s)", name, damage.msg);
	else
		r = err_set(err, ENOENT, "%s: no such image in the store %s", name, s->path);
	oci_free(&oci_index_type, idx);
	return r;
}

static int digest_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

bool digest_set_has(const struct digest_set *set, const char *digest)
{
	return tfind(digest, &set->root, digest_cmp) != NULL;
}

int digest_set_add(struct digest_set *set, const char *digest)
{
	if (digest_set_has(set, digest))
		return 0;
	char *copy = strdup(digest);
	if (copy == NULL)
		return -ENOMEM;
	if (tsearch(copy, &set->root, digest_cmp) == NULL) {
		free(copy);
		return -ENOMEM;
	}
	set->len++;
	return 0;
}

void digest_set_free(struct digest_set *set)
{
	if (set->root)
		tdestroy(set->root, free);
	*set = (struct digest_set){ 0 };
}

/* The ChainIDs of the config's layers: the cached layers the image keeps. */
static int mark_layers(struct store *s, const struct oci_descriptor *config,
			 struct digest_set *layers)
{
	struct husk_error ignored = { 0 };
	struct oci_image_config *ic = NULL;
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = 0;
	if (store_read_blob(s, config->digest, -1, &json, &len, &ignored) < 0 ||
	    oci_decode(&oci_image_config_type, json, len, config->digest, (void **)&ic,
		       &ignored) < 0)
		return 0;
	size_t n = ic->rootfs ? ic->rootfs->diff_ids.len : 0;
	chain_id_t *chains = calloc(n ? n : 1, sizeof(*chains));
	if (chains == NULL)
		r = -ENOMEM;
	else if (n > 0)
		chain_ids(&ic->rootfs->diff_ids, chains);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = digest_set_add(layers, chains[i]);
	free(chains);
	oci_free(&oci_image_config_type, ic);
	return r;
}

/* Mark d and everything it reaches; missing or unreadable blobs end the
 * walk there (a store may hold one platform of an index). */
static int mark_reachable(struct store *s, const struct oci_descriptor *d, struct digest_set *m,
			  struct digest_set *layers, int depth)
{
	if (!oci_digest_valid(d->digest) || digest_set_has(m, d->digest))
		return 0;
	int r = digest_set_add(m, d->digest);
	if (r < 0 || depth > 8)
		return r;
	enum oci_doc_kind kind = oci_media_type_kind(d->mediaType);
	if (kind == OCI_DOC_UNKNOWN)
		return 0;
	struct husk_error ignored = { 0 };
	char *json = NULL;
	size_t len;
	if (store_read_blob(s, d->digest, -1, &json, &len, &ignored) < 0)
		return 0;
	if (kind == OCI_DOC_INDEX) {
		struct oci_index *idx = NULL;
		if (oci_decode(&oci_index_type, json, len, d->digest, (void **)&idx, &ignored) == 0)
			for (size_t i = 0; r == 0 && i < idx->manifests.len; i++)
				r = mark_reachable(s, &idx->manifests.items[i], m, layers,
						   depth + 1);
		oci_free(&oci_index_type, idx);
	} else {
		struct oci_manifest *man = NULL;
		if (oci_decode(&oci_manifest_type, json, len, d->digest, (void **)&man, &ignored) ==
		    0) {
			r = digest_set_add(m, man->config->digest);
			for (size_t i = 0; r == 0 && i < man->layers.len; i++)
				r = digest_set_add(m, man->layers.items[i].digest);
			if (r == 0)
				r = mark_layers(s, man->config, layers);
		}
		oci_free(&oci_manifest_type, man);
	}
	free(json);
	return r;
}

/* Whether a file in the layout directory is a temp file of an atomic
 * write (write_file_atomic's ".NAME.tmp.PID"). */
static bool is_layout_temp(const char *name)
{
	return strncmp(name, ".index.json.tmp.", 16) == 0 ||
	       strncmp(name, ".oci-layout.tmp.", 16) == 0;
}

int store_stray_temps(struct store *s, bool remove, size_t *count, uint64_t *bytes,
		      struct husk_error *err)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(err, errno, "store %s", s->path);
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		if (!is_layout_temp(de->d_name) ||
		    fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!remove) {
			printf("stray: %s (%lld bytes, a temp file of an interrupted write)\n",
			       de->d_name, (long long)st.st_size);
		} else if (unlinkat(s->dirfd, de->d_name, 0) < 0) {
			r = err_sys(err, errno, "store %s: remove %s", s->path, de->d_name);
			break;
		}
		(*count)++;
		*bytes += (uint64_t)st.st_size;
	}
	closedir(dir);
	return r;
}

int store_gc(struct store *s, size_t *removed, uint64_t *bytes, size_t *layers_removed,
	     struct husk_error *damage, struct husk_error *err)
{
	struct oci_index *idx = NULL;
	struct digest_set m = { 0 }, layers = { 0 };
	int fd;
	DIR *dir;
	*removed = 0;
	*bytes = 0;
	*layers_removed = 0;
	/* gc holds the store exclusively: no pull, rm or tag is writing */
	int r = store_stray_temps(s, true, removed, bytes, err);
	if (r < 0)
		return r;
	if (s->layout_damaged) {
		static const char layout[] = "{\"imageLayoutVersion\":\"" OCI_LAYOUT_VERSION "\"}";
		r = write_file_atomic(s->dirfd, "oci-layout", layout, strlen(layout), 0644, err);
		if (r < 0)
			return err_prefix(err, "store %s", s->path);
		s->layout_damaged = false;
	}
	r = store_index_read(s, &idx, damage, err);
	if (r < 0)
		return r;
	if (damage->code) {
		/* what could not be read is lost anyway; an index that parses
		 * again is what the next commands need */
		struct husk_error save = { 0 };
		if (index_save(s, idx, &save) < 0) {
			/* (a full disk, say): collect anyway, from what could be
			 * read, so that the space comes back; the next gc rewrites */
			_cleanup_free_ char *shown = str_escape(save.msg);
			log_warn("index.json could not be rewritten (%s): collecting from what could be "
				 "read all the same",
				 shown ? shown : "?");
		}
	}
	for (size_t i = 0; r == 0 && i < idx->manifests.len; i++)
		r = mark_reachable(s, &idx->manifests.items[i], &m, &layers, 0);
	oci_free(&oci_index_type, idx);
	if (r < 0) {
		err_sys(err, -r, "gc");
		goto out;
	}
	fd = openat(s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		r = err_sys(err, errno, "store %s: blobs/sha256", s->path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		char digest[DIGEST_LEN + 8];
		struct stat st;
		if (de->d_name[0] == '.' && strncmp(de->d_name, ".tmp-", 5) != 0 &&
		    strncmp(de->d_name, ".partial-", 9) != 0)
			continue;
		if (fstatat(s->blobsfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode))
			continue; /* (fsck reports a directory here) */
		/* gc holds the store exclusively: no pull is writing temp files */
		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
		if (de->d_name[0] != '.' && digest_set_has(&m, digest))
			continue;
		if (unlinkat(s->blobsfd, de->d_name, 0) < 0) {
			r = err_sys(err, errno, "store %s: remove %s", s->path, digest);
			break;
		}
		(*removed)++;
		*bytes += (uint64_t)st.st_size;
	}
	closedir(dir);
	if (r == 0)
		r = layer_cache_gc(s, &layers, layers_removed, err);
out:
	digest_set_free(&m);
	digest_set_free(&layers);
	return r;
}
