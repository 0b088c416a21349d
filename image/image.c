/* Images as the store holds them: a name in index.json -> (index ->)
 * manifest -> config and layers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "image/image.h"

int image_parse_manifest(const char *json, size_t len, const char *source,
			 struct oci_manifest **out, struct husk_error *err)
{
	struct oci_manifest *m = NULL;
	int r = oci_decode(&oci_manifest_type, json, len, source, (void **)&m, err);
	if (r < 0)
		return r;
	r = oci_manifest_check(m, source, err);
	if (r == 0 && !oci_media_type_is_config(m->config->mediaType))
		r = err_set(err, EINVAL, "%s: config.mediaType: \"%s\" is not an image config",
			    source, m->config->mediaType);
	if (r < 0) {
		oci_free(&oci_manifest_type, m);
		return r;
	}
	*out = m;
	return 0;
}

static int load_manifest(struct store *s, const struct oci_descriptor *d, struct image *img,
			 struct husk_error *err)
{
	int r = store_read_blob(s, d->digest, d->size, &img->manifest_json, &img->manifest_len,
				err);
	if (r < 0)
		return r;
	memcpy(img->manifest_digest, d->digest, DIGEST_LEN + 1);
	r = image_parse_manifest(img->manifest_json, img->manifest_len, d->digest, &img->manifest,
				 err);
	if (r < 0)
		return r;

	const struct oci_descriptor *c = img->manifest->config;
	_cleanup_free_ char *json = NULL;
	size_t len;
	r = store_read_blob(s, c->digest, c->size, &json, &len, err);
	if (r < 0)
		return r;
	r = oci_decode(&oci_image_config_type, json, len, c->digest, (void **)&img->config, err);
	if (r < 0)
		return r;
	if (img->config->rootfs->diff_ids.len != img->manifest->layers.len)
		return err_set(err, EINVAL,
			       "image %s: the config lists %zu diff_ids for %zu layers", d->digest,
			       img->config->rootfs->diff_ids.len, img->manifest->layers.len);
	return 0;
}

int image_load(struct store *s, const char *name, const struct platform *p, struct image *img,
	       struct husk_error *err)
{
	struct oci_descriptor *d = NULL;
	*img = (struct image){ 0 };
	int r = store_lookup(s, name, &d, err);
	if (r < 0)
		return r;
	enum oci_doc_kind kind = oci_media_type_kind(d->mediaType);
	if (kind == OCI_DOC_INDEX) {
		char *json = NULL;
		size_t len;
		struct oci_index *idx = NULL;
		const struct oci_descriptor *pick = NULL;
		r = store_read_blob(s, d->digest, d->size, &json, &len, err);
		if (r == 0)
			r = oci_decode(&oci_index_type, json, len, d->digest, (void **)&idx, err);
		if (r == 0)
			r = oci_index_check(idx, d->digest, err);
		if (r == 0)
			r = platform_select(idx, p, name, &pick, err);
		if (r == 0)
			r = load_manifest(s, pick, img, err);
		oci_free(&oci_index_type, idx);
		free(json);
	} else if (kind == OCI_DOC_MANIFEST) {
		r = load_manifest(s, d, img, err);
	} else {
		r = err_set(err, EINVAL, "%s: \"%s\" is not an image manifest or index", name,
			    d->mediaType);
	}
	oci_free(&oci_descriptor_type, d);
	if (r < 0)
		image_free(img);
	return r;
}

void image_free(struct image *img)
{
	free(img->manifest_json);
	oci_free(&oci_manifest_type, img->manifest);
	oci_free(&oci_image_config_type, img->config);
	*img = (struct image){ 0 };
}

/* Copy one blob between layouts, re-checking its digest on the way. */
static int copy_blob(struct store *from, struct store *to, const struct oci_descriptor *d,
		     struct husk_error *err)
{
	if (store_has_verified_blob(to, d->digest, d->size))
		return 0;
	_cleanup_close_ int fd = store_blob_open(from, d->digest, err);
	if (fd < 0)
		return fd;
	struct blob_writer w;
	int r = blob_writer_open(to, &w, d->size, err);
	if (r < 0)
		return r;
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		r = blob_writer_write(&w, buf, (size_t)n);
		if (r == -EFBIG)
			break; /* commit reports the size mismatch */
		if (r < 0) {
			blob_writer_abort(to, &w);
			return err_sys(err, -r, "blob %s", d->digest);
		}
	}
	if (n < 0) {
		blob_writer_abort(to, &w);
		return err_sys(err, errno, "blob %s: read", d->digest);
	}
	if (r == -EFBIG)
		w.written = d->size + 1;
	return blob_writer_commit(to, &w, d->digest, d->size, err);
}

int image_copy(struct store *from, const char *name, const struct platform *p, struct store *to,
	       const char *to_name, char digest[DIGEST_LEN + 1], struct husk_error *err)
{
	struct image img = { 0 };
	int r = image_load(from, name, p, &img, err);
	for (size_t i = 0; r == 0 && i <= img.manifest->layers.len; i++)
		r = copy_blob(from, to,
			      i == 0 ? img.manifest->config : &img.manifest->layers.items[i - 1],
			      err);
	if (r == 0)
		r = store_write_blob(to, img.manifest_json, img.manifest_len, digest, err);
	if (r == 0) {
		struct oci_platform plat = { .os = img.config->os,
					     .architecture = img.config->architecture,
					     .variant = img.config->variant };
		const char *mt =
			img.manifest->mediaType ? img.manifest->mediaType : OCI_MT_MANIFEST;
		struct oci_descriptor d = { .mediaType = (char *)mt,
					    .digest = digest,
					    .size = (int64_t)img.manifest_len,
					    .platform = &plat };
		r = store_tag(to, to_name, &d, err);
	}
	image_free(&img);
	return r;
}
