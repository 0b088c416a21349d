/* The layer decompressor and its queue: see layer-stream.h. */
#include "image/layer-stream.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

/* A free slot for the decompressor, or NULL once the applier gave up. */
static struct chunk *stream_free_slot(struct stream *st)
{
	pthread_mutex_lock(&st->lock);
	while (st->count == NCHUNKS && !st->cancel)
		pthread_cond_wait(&st->changed, &st->lock);
	struct chunk *c = st->cancel ? NULL : &st->slots[(st->head + st->count) % NCHUNKS];
	pthread_mutex_unlock(&st->lock);
	return c;
}

static void stream_publish(struct stream *st)
{
	pthread_mutex_lock(&st->lock);
	st->count++;
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->lock);
}

/* The next chunk for the applier; the one it held is given back. */
struct chunk *stream_next(struct stream *st)
{
	pthread_mutex_lock(&st->lock);
	if (st->held) {
		st->head = (st->head + 1) % NCHUNKS;
		st->count--;
		st->held = false;
		pthread_cond_broadcast(&st->changed);
	}
	while (st->count == 0)
		pthread_cond_wait(&st->changed, &st->lock);
	st->held = true;
	struct chunk *c = &st->slots[st->head];
	pthread_mutex_unlock(&st->lock);
	return c;
}

static ssize_t blob_read(struct archive *a, void *opaque, const void **buf)
{
	struct stream *st = opaque;
	for (;;) {
		ssize_t n = read(st->blobfd, st->in, sizeof(st->in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read layer blob");
			return -1;
		}
		digester_update(st->compressed, st->in, (size_t)n);
		*buf = st->in;
		return n;
	}
}

int format_size(char *buf, size_t cap, uint64_t n)
{
	static const char units[] = "KMGT";
	for (int i = 4; i > 0; i--) {
		uint64_t unit = 1ull << (10 * i);
		if (n >= unit && n % unit == 0)
			return snprintf(buf, cap, "%llu%c", (unsigned long long)(n / unit),
					units[i - 1]);
	}
	return snprintf(buf, cap, "%llu bytes", (unsigned long long)n);
}

/* Decompress one layer into the queue. 1 when the applier gave up. */
static int decompress_layer(struct stream *st, const struct oci_descriptor *d)
{
	struct husk_error *err = &st->err;
	enum oci_layer_compression comp = oci_layer_compression(d->mediaType);
	if (comp == OCI_LAYER_UNKNOWN)
		return err_set(err, ENOTSUP, "unsupported layer media type \"%s\"", d->mediaType);
	int r = store_blob_open(st->store, d->digest, err);
	if (r < 0)
		return r;
	st->blobfd = r;
	st->compressed = digester_new();
	struct archive *raw = archive_read_new();
	struct archive_entry *e;
	uint64_t total = 0;
	struct chunk *c;
	if (st->compressed == NULL || raw == NULL) {
		r = err_sys(err, ENOMEM, "unpack");
		goto out;
	}
	/* the media type says which decompressor; nothing else is tried */
	if (comp == OCI_LAYER_GZIP)
		r = archive_read_support_filter_gzip(raw);
	else if (comp == OCI_LAYER_ZSTD)
		r = archive_read_support_filter_zstd(raw);
	else
		r = archive_read_support_filter_none(raw);
	if (r != ARCHIVE_OK || archive_read_support_format_raw(raw) != ARCHIVE_OK) {
		r = err_set(err, ENOTSUP, "libarchive: %s", archive_error_string(raw));
		goto out;
	}
	if (archive_read_open(raw, st, NULL, blob_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(raw, &e) != ARCHIVE_OK) {
		r = err_set(err, EIO, "decompress: %s", archive_error_string(raw));
		goto out;
	}
	for (;;) {
		c = stream_free_slot(st);
		if (c == NULL) {
			r = 1;
			goto out;
		}
		la_ssize_t n = archive_read_data(raw, c->data, CHUNK_SIZE);
		if (n < 0) {
			r = err_set(err, EIO, "decompress: %s", archive_error_string(raw));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		/* a decompression bomb stops here, not when the disk is full */
		if (total > st->max_layer_size) {
			char limit[32];
			format_size(limit, sizeof(limit), st->max_layer_size);
			r = err_set(err, EFBIG,
				    "the uncompressed layer is larger than the limit of %s "
				    "(--max-layer-size raises it)",
				    limit);
			goto out;
		}
		c->kind = CHUNK_DATA;
		c->len = (size_t)n;
		stream_publish(st);
	}
	/* the raw reader may stop before the blob's end */
	ssize_t n;
	while ((n = read(st->blobfd, st->in, sizeof(st->in))) > 0)
		digester_update(st->compressed, st->in, (size_t)n);
	char got[DIGEST_LEN + 1];
	digester_final(st->compressed, got);
	if (strcmp(got, d->digest) != 0) {
		r = err_set(err, EIO, "blob digest mismatch: expected %s, got %s", d->digest, got);
		goto out;
	}
	c = stream_free_slot(st);
	if (c == NULL) {
		r = 1;
		goto out;
	}
	c->kind = CHUNK_END;
	c->len = 0;
	stream_publish(st);
	r = 0;
out:
	if (raw)
		archive_read_free(raw);
	digester_free(st->compressed);
	st->compressed = NULL;
	close(st->blobfd);
	st->blobfd = -1;
	return r;
}

static void *decompressor_main(void *opaque)
{
	struct stream *st = opaque;
	for (size_t i = st->first; i < st->end; i++) {
		int r = decompress_layer(st, &st->manifest->layers.items[i]);
		if (r == 1)
			break;
		if (r < 0) {
			struct chunk *c = stream_free_slot(st);
			if (c) {
				c->kind = CHUNK_ERROR;
				stream_publish(st);
			}
			break;
		}
	}
	return NULL;
}

int stream_start(struct stream *st, struct store *s, const struct oci_manifest *m,
			size_t first, size_t end, uint64_t max_layer_size, struct husk_error *err)
{
	*st = (struct stream){ .store = s, .manifest = m, .first = first, .end = end,
			       .max_layer_size = max_layer_size, .blobfd = -1 };
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->changed, NULL);
	for (size_t i = 0; i < NCHUNKS; i++)
		if ((st->slots[i].data = malloc(CHUNK_SIZE)) == NULL)
			return err_sys(err, ENOMEM, "unpack");
	int r = pthread_create(&st->thread, NULL, decompressor_main, st);
	if (r != 0)
		return err_sys(err, r, "start the decompressor thread");
	st->started = true;
	return 0;
}

/* Stop the decompressor (wherever it is) and free the queue. */
void stream_stop(struct stream *st)
{
	if (st->started) {
		pthread_mutex_lock(&st->lock);
		st->cancel = true;
		pthread_cond_broadcast(&st->changed);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->thread, NULL);
	}
	for (size_t i = 0; i < NCHUNKS; i++)
		free(st->slots[i].data);
	pthread_cond_destroy(&st->changed);
	pthread_mutex_destroy(&st->lock);
}
