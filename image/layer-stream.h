/* The decompressor of the layer unpacker (unpack.c): a thread that reads
 * each layer blob of a range (hashing it against the layer digest),
 * decompresses it with libarchive's raw format, and hands the tar stream
 * to the applying thread in chunks through a bounded ring. */
#ifndef HUSK_IMAGE_LAYER_STREAM_H
#define HUSK_IMAGE_LAYER_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "image/image.h"

#define CHUNK_SIZE (256 * 1024)
#define NCHUNKS    32

enum chunk_kind { CHUNK_DATA, CHUNK_END, CHUNK_ERROR };

struct chunk {
	enum chunk_kind kind;
	size_t len;
	char *data;
};

/* A ring of NCHUNKS slots: the applier holds the one at head while it
 * parses it, the decompressor fills the free ones after the last queued. */
struct stream {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct chunk slots[NCHUNKS];
	size_t head, count;
	bool held; /* the applier is reading slots[head] */
	bool cancel;
	bool started;
	pthread_t thread;
	struct store *store;
	const struct oci_manifest *manifest;
	size_t first, end; /* the layers to decompress, [first, end) */
	uint64_t max_layer_size;
	struct husk_error err; /* the decompressor's, when it queued CHUNK_ERROR */
	/* the decompressor's current blob */
	int blobfd;
	struct digester *compressed;
	char in[65536];
};

/* Start decompressing layers [first, end) of m from the store s; a layer
 * larger than max_layer_size once decompressed is an error in the stream. */
int stream_start(struct stream *st, struct store *s, const struct oci_manifest *m,
		 size_t first, size_t end, uint64_t max_layer_size, struct husk_error *err);
/* The next chunk for the applier (the previous one is given back): data,
 * the end of the current layer, or an error (st->err says which). */
struct chunk *stream_next(struct stream *st);
/* Stop the decompressor (wherever it is) and free the queue. */
void stream_stop(struct stream *st);
/* n as "64M" when a whole number of K, M, G or T, else "N bytes". */
int format_size(char *buf, size_t cap, uint64_t n);

#endif
