/* husk-image fsck: check the store. Every blob is hashed against its name,
 * every name in index.json must reach the manifests, configs and layers it
 * needs, and nothing else may lie in the store (temp files and partial
 * downloads of interrupted pulls, unknown files). One line per problem on
 * stdout; exit 0 only when there is none. (The temp directories of the
 * layer cache count as stray too; the cached layers themselves are not
 * checked: they are trees, not blobs.) gc repairs what is stray; a
 * corrupt or missing blob is fetched again by the next pull. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileutil.h"
#include "image/image.h"

struct fsck {
	struct store *s;
	size_t problems;
	size_t blobs;
};

static void problem(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct fsck *f, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf line = STRBUF_INIT, shown = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&line, fmt, ap);
	va_end(ap);
	sb_add_escaped(&shown, line.buf);
	printf("%s\n", shown.error ? "(a problem too long to show)" : shown.buf);
	f->problems++;
}

static bool is_hex64(const char *name)
{
	return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

static int check_blobs(struct fsck *f, struct husk_error *err)
{
	int fd = openat(f->s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return err_sys(err, errno, "store %s: blobs/sha256", f->s->path);
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		const char *n = de->d_name;
		struct stat st;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(f->s->blobsfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			problem(f, "unreadable: blobs/sha256/%s: %s", n, strerror(errno));
			continue;
		}
		if (strncmp(n, ".tmp-", 5) == 0 || strncmp(n, ".partial-", 9) == 0) {
			problem(f, "stray: blobs/sha256/%s (%lld bytes, left by an interrupted pull)",
				n, (long long)st.st_size);
			continue;
		}
		if (!is_hex64(n) || !S_ISREG(st.st_mode)) {
			problem(f, "stray: blobs/sha256/%s (%s, not a blob)", n,
				S_ISREG(st.st_mode) ? "a file" : "not a regular file");
			continue;
		}
		_cleanup_close_ int bfd = openat(f->s->blobsfd, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		char got[DIGEST_LEN + 1];
		int r = bfd < 0 ? -errno : store_blob_hash(bfd, got, NULL);
		f->blobs++;
		if (r < 0)
			problem(f, "unreadable: blob sha256:%s: %s", n, strerror(-r));
		else if (strcmp(got + 7, n) != 0)
			problem(f, "corrupt: blob sha256:%s: its content hashes to %s", n, got);
	}
	closedir(dir);
	return 0;
}

/* What a killed unpack --overlay leaves in the layer cache: its temp
 * directories (and registrations' temp files); gc removes them. */
static void check_cache_temps(struct fsck *f, const char *rel)
{
	int fd = openat(f->s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return; /* no cache */
	}
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			problem(f, "stray: %s/%s (left by an interrupted unpack)", rel, de->d_name);
	closedir(dir);
}

static void need_blob(struct fsck *f, const struct oci_descriptor *d, const char *what,
		      const char *name)
{
	if (!store_has_blob(f->s, d->digest, -1))
		problem(f, "missing: %s %s of %s", what, d->digest, name);
	else if (!store_has_blob(f->s, d->digest, d->size))
		problem(f, "size: %s %s of %s is not %lld bytes", what, d->digest, name,
			(long long)d->size);
}

/* A manifest that is present must have its config and layers. */
static void check_manifest(struct fsck *f, const struct oci_descriptor *d, const char *name)
{
	struct husk_error e = { 0 };
	char *json = NULL;
	size_t len;
	struct oci_manifest *m = NULL;
	if (store_read_blob(f->s, d->digest, -1, &json, &len, &e) < 0)
		return; /* (reported by the blob walk) */
	if (image_parse_manifest(json, len, d->digest, &m, &e) < 0) {
		problem(f, "invalid: manifest %s of %s: %s", d->digest, name, e.msg);
	} else {
		need_blob(f, m->config, "config", name);
		for (size_t i = 0; i < m->layers.len; i++)
			need_blob(f, &m->layers.items[i], "layer", name);
	}
	oci_free(&oci_manifest_type, m);
	free(json);
}

static void check_entry(struct fsck *f, const struct oci_descriptor *d)
{
	const char *name = oci_map_get(&d->annotations, OCI_ANNOTATION_REF_NAME);
	if (name == NULL)
		name = d->digest;
	need_blob(f, d, "manifest", name);
	if (!store_has_blob(f->s, d->digest, -1))
		return;
	enum oci_doc_kind kind = oci_media_type_kind(d->mediaType);
	if (kind == OCI_DOC_MANIFEST) {
		check_manifest(f, d, name);
		return;
	}
	if (kind != OCI_DOC_INDEX) {
		problem(f, "invalid: %s: media type \"%s\" is not a manifest or an index", name,
			d->mediaType);
		return;
	}
	struct husk_error e = { 0 };
	char *json = NULL;
	size_t len;
	struct oci_index *idx = NULL;
	if (store_read_blob(f->s, d->digest, -1, &json, &len, &e) < 0)
		return;
	if (oci_decode(&oci_index_type, json, len, d->digest, (void **)&idx, &e) < 0)
		problem(f, "invalid: index %s of %s: %s", d->digest, name, e.msg);
	/* a store may hold only some platforms of an index: the ones it has
	 * must be whole */
	for (size_t i = 0; idx && i < idx->manifests.len; i++) {
		const struct oci_descriptor *m = &idx->manifests.items[i];
		if (store_has_blob(f->s, m->digest, -1) &&
		    oci_media_type_kind(m->mediaType) == OCI_DOC_MANIFEST)
			check_manifest(f, m, name);
	}
	oci_free(&oci_index_type, idx);
	free(json);
}

static int fsck_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = { { 0 } };
	int c;
	while ((c = cmd_getopt(&cmd_fsck, argc, argv, opts)) != -1)
		return c;
	if ((c = cmd_need_args(&cmd_fsck, argc, 0, "no arguments")) != 0)
		return c;
	struct store s;
	/* exclusively: a running pull's temp files are not stray */
	int r = cmd_open_store(g, false, true, &s, err);
	if (r < 0)
		return r;
	struct fsck f = { .s = &s };
	if (s.layout_damaged)
		problem(&f, "damaged: oci-layout is missing or not a valid OCI layout file");
	size_t temps = 0;
	uint64_t temp_bytes = 0;
	r = store_stray_temps(&s, false, &temps, &temp_bytes, err);
	f.problems += temps;
	if (r == 0)
		r = check_blobs(&f, err);
	if (r == 0) {
		check_cache_temps(&f, "layers/sha256");
		check_cache_temps(&f, "layers/bundles");
	}
	struct oci_index *idx = NULL;
	struct husk_error damage = { 0 };
	if (r == 0)
		r = store_index_read(&s, &idx, &damage, err);
	if (r == 0 && damage.code)
		problem(&f, "damaged: %s", damage.msg);
	for (size_t i = 0; r == 0 && i < idx->manifests.len; i++)
		check_entry(&f, &idx->manifests.items[i]);
	size_t images = idx ? idx->manifests.len : 0;
	oci_free(&oci_index_type, idx);
	if (r == 0 && f.problems > 0)
		r = err_set(err, EIO,
			    "store %s: %zu problems (%zu blobs, %zu names checked); 'husk-image gc' "
			    "removes stray files, a pull fetches missing or corrupt blobs again",
			    s.path, f.problems, f.blobs, images);
	else if (r == 0)
		printf("store %s: %zu blobs and %zu names checked, no problems\n", s.path, f.blobs,
		       images);
	store_close(&s);
	return r;
}

const struct image_cmd cmd_fsck = {
	.name = "fsck",
	.run = fsck_run,
	.summary = "verify every blob's digest and that every name's image is whole",
	.usage = "",
};
