/* Reading the store's index.json so that no state of it locks the user out.
 *
 * The file is parsed as a stream of JSON events, one manifests[] entry at a
 * time, keeping only what the store uses (mediaType, digest, size,
 * platform, annotations). An entry that breaks a bound (a string longer
 * than the store accepts, too many annotations, no valid digest) is dropped
 * and reported; a file that stops being JSON half-way keeps the entries
 * read before that point. So a hand-edited, truncated or huge index.json
 * still lists, and rm, gc and tag rewrite it from what was readable (the
 * fields a layout entry may carry besides these, urls, data and the
 * platform's feature lists, are not kept), while
 * fsck and list say what was lost. The same bounds are checked when an
 * entry is added (store_entry_check), so an honest store never trips
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "image/image.h"

#define MAX_ANNOTATIONS 32
#define MAX_ENTRIES     1000000

/* Where the parser is: the kind of the container open at each depth. */
enum where { W_TOP, W_MANIFESTS, W_ENTRY, W_ANNOTATIONS, W_PLATFORM, W_OTHER };
#define MAX_TRACKED_DEPTH 5

struct reader {
	struct oci_index *idx;
	size_t cap;
	int depth; /* containers open */
	enum where where[MAX_TRACKED_DEPTH + 1];
	char key[MAX_TRACKED_DEPTH + 1][64]; /* last key at each depth ("" if too long) */
	char *annotation_key;               /* the key of the annotation being read */
	struct oci_descriptor *cur;          /* the entry being read */
	size_t entry_no;                     /* its position in manifests[] */
	bool cur_bad;                        /* a bound broken: drop it */
	size_t dropped;
	struct strbuf first_problem;
	bool oom;
};

static void note_problem(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_problem(struct reader *rd, const char *fmt, ...)
{
	if (rd->first_problem.len > 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&rd->first_problem, fmt, ap);
	va_end(ap);
}

static void entry_bad(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void entry_bad(struct reader *rd, const char *fmt, ...)
{
	if (rd->cur_bad)
		return;
	rd->cur_bad = true;
	if (rd->first_problem.len > 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	sb_addf(&rd->first_problem, "manifests[%zu]: ", rd->entry_no);
	sb_vaddf(&rd->first_problem, fmt, ap);
	va_end(ap);
}

/* The bound of a string field of an entry; 0 for fields the store drops. */
static size_t field_limit(enum where w, const char *key)
{
	if (w == W_ENTRY)
		return strcmp(key, "mediaType") == 0 || strcmp(key, "artifactType") == 0
			       ? STORE_FIELD_MAX
		       : strcmp(key, "digest") == 0 ? DIGEST_LEN
						    : 0;
	if (w == W_PLATFORM)
		return strcmp(key, "os") == 0 || strcmp(key, "architecture") == 0 ||
				       strcmp(key, "variant") == 0 || strcmp(key, "os.version") == 0
			       ? STORE_FIELD_MAX
			       : 0;
	return 0;
}

static char **field_slot(struct oci_descriptor *d, enum where w, const char *key)
{
	if (w == W_ENTRY)
		return strcmp(key, "mediaType") == 0	  ? &d->mediaType
		       : strcmp(key, "artifactType") == 0 ? &d->artifactType
		       : strcmp(key, "digest") == 0	  ? &d->digest
							  : NULL;
	if (d->platform == NULL)
		return NULL;
	return strcmp(key, "os") == 0		? &d->platform->os
	       : strcmp(key, "architecture") == 0 ? &d->platform->architecture
	       : strcmp(key, "variant") == 0	? &d->platform->variant
	       : strcmp(key, "os.version") == 0	? &d->platform->os_version
						: NULL;
}

static void set_string(struct reader *rd, const unsigned char *s, size_t len)
{
	enum where w = rd->where[rd->depth];
	const char *key = rd->key[rd->depth];
	if (rd->cur == NULL || rd->cur_bad || rd->depth > MAX_TRACKED_DEPTH)
		return;
	if (w == W_ANNOTATIONS) {
		const char *k = rd->annotation_key;
		size_t max = k && strcmp(k, OCI_ANNOTATION_REF_NAME) == 0 ? STORE_NAME_MAX
									 : STORE_FIELD_MAX * 16;
		if (k == NULL)
			return;
		if (len > max) {
			entry_bad(rd, "annotations[\"%.64s\"] is %zu bytes long (the limit is %zu)", k,
				  len, max);
			return;
		}
		if (memchr(s, '\0', len)) {
			entry_bad(rd, "annotations[\"%.64s\"] holds a NUL byte", k);
			return;
		}
		if (rd->cur->annotations.len >= MAX_ANNOTATIONS) {
			entry_bad(rd, "more than %d annotations", MAX_ANNOTATIONS);
			return;
		}
		char *v = strndup((const char *)s, len);
		if (v == NULL || oci_map_set(&rd->cur->annotations, k, v) < 0)
			rd->oom = true;
		free(v);
		return;
	}
	size_t max = field_limit(w, key);
	char **slot = max ? field_slot(rd->cur, w, key) : NULL;
	if (slot == NULL)
		return;
	if (len > max) {
		entry_bad(rd, "%s%s is %zu bytes long (the limit is %zu)",
			  w == W_PLATFORM ? "platform." : "", key, len, max);
		return;
	}
	free(*slot);
	if ((*slot = strndup((const char *)s, len)) == NULL)
		rd->oom = true;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	set_string(ctx, s, len);
	return 1;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct reader *rd = ctx;
	if (rd->cur && rd->depth == 3 && rd->where[3] == W_ENTRY &&
	    strcmp(rd->key[3], "size") == 0) {
		char buf[32];
		char *end;
		if (len >= sizeof(buf)) {
			entry_bad(rd, "size is not a number");
			return 1;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		errno = 0;
		long long v = strtoll(buf, &end, 10);
		if (errno || *end || v < 0)
			entry_bad(rd, "size \"%s\" is not a byte count", buf);
		else
			rd->cur->size = v;
	}
	return 1;
}

static int on_scalar(void *ctx)
{
	(void)ctx;
	return 1;
}

static int on_bool(void *ctx, int b)
{
	(void)b;
	return on_scalar(ctx);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct reader *rd = ctx;
	if (rd->depth > MAX_TRACKED_DEPTH)
		return 1;
	if (len < sizeof(rd->key[0]) && memchr(s, '\0', len) == NULL) {
		memcpy(rd->key[rd->depth], s, len);
		rd->key[rd->depth][len] = '\0';
	} else {
		rd->key[rd->depth][0] = '\0';
	}
	if (rd->where[rd->depth] == W_ANNOTATIONS && rd->cur && !rd->cur_bad) {
		free(rd->annotation_key);
		rd->annotation_key = NULL;
		if (len > STORE_FIELD_MAX)
			entry_bad(rd, "an annotation key is %zu bytes long (the limit is %d)", len,
				  STORE_FIELD_MAX);
		else if (memchr(s, '\0', len))
			entry_bad(rd, "an annotation key holds a NUL byte");
		else if ((rd->annotation_key = strndup((const char *)s, len)) == NULL)
			rd->oom = true;
	}
	return 1;
}

/* A container opens at depth+1 inside where[depth] under key[depth]. */
static enum where child_of(struct reader *rd, bool is_map)
{
	enum where w = rd->where[rd->depth];
	const char *key = rd->key[rd->depth];
	if (rd->depth == 0)
		return is_map ? W_TOP : W_OTHER;
	if (w == W_TOP && !is_map && strcmp(key, "manifests") == 0)
		return W_MANIFESTS;
	if (w == W_MANIFESTS && is_map)
		return W_ENTRY;
	if (w == W_ENTRY && is_map && strcmp(key, "annotations") == 0)
		return W_ANNOTATIONS;
	if (w == W_ENTRY && is_map && strcmp(key, "platform") == 0)
		return W_PLATFORM;
	return W_OTHER;
}

static int open_container(struct reader *rd, bool is_map)
{
	enum where w = rd->depth < MAX_TRACKED_DEPTH ? child_of(rd, is_map) : W_OTHER;
	if (rd->depth == 0 && !is_map)
		note_problem(rd, "the top level is not an object");
	rd->depth++;
	if (rd->depth > MAX_TRACKED_DEPTH)
		return 1;
	rd->where[rd->depth] = w;
	rd->key[rd->depth][0] = '\0';
	if (w == W_ENTRY) {
		rd->cur = calloc(1, sizeof(*rd->cur));
		rd->cur_bad = false;
		if (rd->cur == NULL)
			rd->oom = true;
	} else if (w == W_PLATFORM && rd->cur && rd->cur->platform == NULL) {
		if ((rd->cur->platform = calloc(1, sizeof(*rd->cur->platform))) == NULL)
			rd->oom = true;
	}
	return rd->oom ? 0 : 1;
}

static void drop_cur(struct reader *rd)
{
	oci_free(&oci_descriptor_type, rd->cur);
	rd->cur = NULL;
	rd->dropped++;
}

static void finish_entry(struct reader *rd)
{
	struct oci_descriptor *d = rd->cur;
	if (!rd->cur_bad && (d->digest == NULL || !oci_digest_valid(d->digest)))
		entry_bad(rd, "no valid digest");
	else if (!rd->cur_bad && (d->mediaType == NULL || d->mediaType[0] == '\0'))
		entry_bad(rd, "no mediaType");
	else if (!rd->cur_bad && d->platform &&
		 (d->platform->os == NULL || d->platform->architecture == NULL))
		entry_bad(rd, "platform without os or architecture");
	else if (!rd->cur_bad && rd->idx->manifests.len >= MAX_ENTRIES)
		entry_bad(rd, "more than %d entries", MAX_ENTRIES);
	if (rd->cur_bad) {
		drop_cur(rd);
		return;
	}
	if (rd->idx->manifests.len == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 64;
		struct oci_descriptor *grown =
			realloc(rd->idx->manifests.items, cap * sizeof(*grown));
		if (grown == NULL) {
			rd->oom = true;
			drop_cur(rd);
			return;
		}
		rd->idx->manifests.items = grown;
		rd->cap = cap;
	}
	rd->idx->manifests.items[rd->idx->manifests.len++] = *d;
	free(d);
	rd->cur = NULL;
}

static int close_container(struct reader *rd)
{
	if (rd->depth <= MAX_TRACKED_DEPTH) {
		enum where w = rd->where[rd->depth];
		if (w == W_ENTRY && rd->cur) {
			finish_entry(rd);
			rd->entry_no++;
		} else if (w == W_ANNOTATIONS) {
			free(rd->annotation_key);
			rd->annotation_key = NULL;
		}
	}
	rd->depth--;
	return rd->oom ? 0 : 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int on_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks index_callbacks = {
	.yajl_null = on_scalar,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

int store_index_read(struct store *s, struct oci_index **out, struct husk_error *damage,
		     struct husk_error *err)
{
	struct reader rd = { .first_problem = STRBUF_INIT_MAX(HUSK_ERROR_MAX / 2) };
	int r = 0;
	*out = NULL;
	err_clear(damage);
	rd.idx = calloc(1, sizeof(*rd.idx));
	if (rd.idx == NULL)
		return err_sys(err, ENOMEM, "index.json");
	rd.idx->schemaVersion = 2;

	yajl_handle h = NULL;
	yajl_status st = yajl_status_ok;
	uint64_t offset = 0;
	_cleanup_close_ int fd = openat(s->dirfd, "index.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat fst;
	if (fd < 0) {
		err_sys(damage, errno, "store %s: index.json cannot be opened", s->path);
		goto done;
	}
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
		err_set(damage, EINVAL, "store %s: index.json is not a regular file", s->path);
		goto done;
	}
	h = yajl_alloc(&index_callbacks, NULL, &rd);
	if (h == NULL) {
		r = err_sys(err, ENOMEM, "index.json");
		goto done;
	}
	yajl_config(h, yajl_dont_validate_strings, 1);
	unsigned char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_sys(err, errno, "store %s: index.json: read", s->path);
			break;
		}
		st = n == 0 ? yajl_complete_parse(h) : yajl_parse(h, buf, (size_t)n);
		if (st != yajl_status_ok || n == 0)
			break;
		offset += (uint64_t)n;
	}
	if (r == 0 && rd.oom)
		r = err_sys(err, ENOMEM, "store %s: index.json", s->path);
	if (r == 0 && st != yajl_status_ok) {
		/* keep what was read before the break, drop the entry it cut */
		size_t at = yajl_get_bytes_consumed(h);
		if (rd.cur)
			drop_cur(&rd);
		err_set(damage, EINVAL,
			"store %s: index.json is not valid JSON after byte %llu (%zu entries read "
			"before that)",
			s->path, (unsigned long long)(offset + at), rd.idx->manifests.len);
	}
	yajl_free(h);
	if (r == 0 && damage->code == 0 && (rd.dropped > 0 || rd.first_problem.len > 0))
		err_set(damage, EINVAL, "store %s: index.json: %zu unreadable entries dropped (%s)",
			s->path, rd.dropped, rd.first_problem.buf);
done:
	free(rd.annotation_key);
	oci_free(&oci_descriptor_type, rd.cur);
	sb_release(&rd.first_problem);
	if (r < 0) {
		oci_free(&oci_index_type, rd.idx);
		return r;
	}
	if (rd.idx->manifests.items == NULL &&
	    (rd.idx->manifests.items = calloc(1, sizeof(*rd.idx->manifests.items))) == NULL) {
		oci_free(&oci_index_type, rd.idx);
		return err_sys(err, ENOMEM, "index.json"); /* (saved as "manifests":[]) */
	}
	if (rd.idx->mediaType == NULL && (rd.idx->mediaType = strdup(OCI_MT_INDEX)) == NULL) {
		oci_free(&oci_index_type, rd.idx);
		return err_sys(err, ENOMEM, "index.json");
	}
	*out = rd.idx;
	return 0;
}

int store_index_load(struct store *s, struct oci_index **out, struct husk_error *err)
{
	struct husk_error damage = { 0 };
	int r = store_index_read(s, out, &damage, err);
	if (r == 0 && damage.code) {
		oci_free(&oci_index_type, *out);
		*out = NULL;
		*err = damage;
		return -damage.code;
	}
	return r;
}

static int check_len(const char *name, const char *field, const char *v, size_t max,
		     struct husk_error *err)
{
	size_t len = v ? strlen(v) : 0;
	if (len <= max)
		return 0;
	return err_set(err, EINVAL,
		       "%.200s: %s is %zu bytes long (the store keeps at most %zu): refused", name,
		       field, len, max);
}

int store_entry_check(const char *name, const struct oci_descriptor *d, struct husk_error *err)
{
	int r = check_len("a name", "the name", name, STORE_NAME_MAX, err);
	if (r == 0 && *name == '\0')
		r = err_set(err, EINVAL, "an empty name: refused");
	if (r == 0)
		r = check_len(name, "mediaType", d->mediaType, STORE_FIELD_MAX, err);
	if (r == 0)
		r = check_len(name, "artifactType", d->artifactType, STORE_FIELD_MAX, err);
	if (r == 0 && d->platform) {
		const struct oci_platform *p = d->platform;
		r = check_len(name, "platform.os", p->os, STORE_FIELD_MAX, err);
		if (r == 0)
			r = check_len(name, "platform.architecture", p->architecture,
				      STORE_FIELD_MAX, err);
		if (r == 0)
			r = check_len(name, "platform.variant", p->variant, STORE_FIELD_MAX, err);
		if (r == 0)
			r = check_len(name, "platform.os.version", p->os_version, STORE_FIELD_MAX,
				      err);
	}
	if (r == 0 && d->annotations.len > MAX_ANNOTATIONS - 1)
		r = err_set(err, EINVAL, "%.200s: more than %d annotations: refused", name,
			    MAX_ANNOTATIONS - 1);
	for (size_t i = 0; r == 0 && i < d->annotations.len; i++) {
		r = check_len(name, "an annotation key", d->annotations.keys[i], STORE_FIELD_MAX,
			      err);
		if (r == 0)
			r = check_len(name, "an annotation", d->annotations.values[i],
				      STORE_FIELD_MAX * 16, err);
	}
	return r;
}
