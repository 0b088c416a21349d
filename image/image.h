/* husk-image core: image references, the content store, platform
 * selection, the registry client, the layer unpacker and the image-config
 * to runtime-config conversion. The command files (cmd-*.c) are thin
 * layers over these. */
#ifndef HUSK_IMAGE_H
#define HUSK_IMAGE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/image-spec.h"
#include "oci-spec/runtime-spec.h"

/* Cap for manifests, indexes and configs read from a registry or a store. */
#define IMAGE_JSON_MAX (4u << 20)
#define DIGEST_LEN     (7 + 64) /* "sha256:" + hex */

/* ---- references (ref.c) ---- */
enum ref_kind {
	REF_DOCKER, /* docker://HOST[:PORT]/NAME[:TAG|@DIGEST] */
	REF_OCI,    /* oci:DIR[:TAG] */
	REF_NAME,   /* a name as the store lists it: HOST/NAME:TAG, HOST/NAME@DIGEST */
};

struct image_ref {
	enum ref_kind kind;
	char *host;   /* with :PORT */
	char *repo;   /* the repository path, "library/busybox" */
	char *tag;    /* NULL when pulled by digest */
	char *digest; /* NULL when by tag */
	char *dir;    /* oci: the layout directory */
	char *name;   /* the name in the store's index.json */
};

int ref_parse(const char *text, struct image_ref *ref, struct husk_error *err);
void ref_free(struct image_ref *ref);

/* ---- digests (digest.c) ---- */
struct digester;
struct digester *digester_new(void);
void digester_update(struct digester *d, const void *data, size_t len);
/* Writes "sha256:<hex>" (DIGEST_LEN + 1 bytes) and resets nothing. */
void digester_final(struct digester *d, char out[DIGEST_LEN + 1]);
void digester_free(struct digester *d);
void digest_buffer(const void *data, size_t len, char out[DIGEST_LEN + 1]);

/* ---- platforms (platform.c) ---- */
struct platform {
	char os[32];
	char arch[32];
	char variant[16];
};
/* The running host's platform in Go's GOOS/GOARCH terms. */
void platform_host(struct platform *p);
/* Parse "os/arch[/variant]". */
int platform_parse(const char *text, struct platform *p, struct husk_error *err);
/* Pick the manifest for p from an index; -ENOENT with a message listing
 * what the index offers. */
int platform_select(const struct oci_index *idx, const struct platform *p, const char *source,
		    const struct oci_descriptor **out, struct husk_error *err);

/* ---- content store (store.c) ---- */
struct store {
	int dirfd;   /* the layout directory */
	int blobsfd; /* blobs/sha256 */
	int lockfd;  /* held shared by pulls, exclusively by gc */
	char *path;
	bool layout_damaged; /* oci-layout missing or unreadable (gc rewrites it) */
};

/* The default store: /var/lib/husk-image for root, else
 * $XDG_DATA_HOME/husk-image (~/.local/share/husk-image). */
int store_default_path(char **out, struct husk_error *err);
/* Open (and with create, initialise) an OCI image layout at path. The
 * store is locked shared; exclusive when exclusive is set. */
int store_open(const char *path, bool create, bool exclusive, struct store *s,
	       struct husk_error *err);
void store_close(struct store *s);

bool store_has_blob(struct store *s, const char *digest, int64_t size);
/* Like store_has_blob, and its content hashes to digest; a blob that does
 * not is removed (so that it is fetched again). Reads the whole blob: for
 * the places that would otherwise skip fetching it. */
bool store_has_verified_blob(struct store *s, const char *digest, int64_t size);
/* Hash what fd holds from its offset to the end; -errno on a read error. */
int store_blob_hash(int fd, char out[DIGEST_LEN + 1], int64_t *size);
/* Open a blob read-only; -ENOENT with a message naming it when missing. */
int store_blob_open(struct store *s, const char *digest, struct husk_error *err);
/* Read a small blob, checking its digest (and size when size >= 0). */
int store_read_blob(struct store *s, const char *digest, int64_t size, char **out, size_t *len,
		    struct husk_error *err);
/* Write a blob from memory; out gets its digest when not NULL. */
int store_write_blob(struct store *s, const void *data, size_t len, char out[DIGEST_LEN + 1],
		     struct husk_error *err);

/* A blob being streamed in: bytes are hashed as they are written to a
 * temp file; commit checks size and digest and renames it into place. */
struct blob_writer {
	int fd;
	char tmpname[96];
	struct digester *digest;
	int64_t written;
	int64_t limit;   /* refuse more bytes than the descriptor says */
	bool resumable; /* blobs/sha256/.partial-<hex>, kept when a transfer breaks */
};
int blob_writer_open(struct store *s, struct blob_writer *w, int64_t limit, struct husk_error *err);
/* A writer for a download of digest that survives an interrupted pull:
 * what an earlier, interrupted pull left in .partial-<hex> is hashed and
 * kept, and w->written says where to continue. While a pull writes it, the
 * partial file (.partial-<hex>-<hash of source>, so that only a pull
 * from the same source continues it) is flocked; a concurrent pull of the same blob gets a
 * private temp file (written = 0) instead. */
int blob_writer_resume(struct store *s, struct blob_writer *w, const char *digest, int64_t size,
		       const char *source, struct husk_error *err);
/* Start over from byte 0 (the server sent the whole blob). */
int blob_writer_restart(struct blob_writer *w);
/* A broken transfer: keep what a resumable writer has for the next pull
 * (else as abort). */
void blob_writer_suspend(struct store *s, struct blob_writer *w);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len);
int blob_writer_commit(struct store *s, struct blob_writer *w, const char *want_digest,
		       int64_t want_size, struct husk_error *err);
void blob_writer_abort(struct store *s, struct blob_writer *w);

/* Bounds of what index.json keeps: a name (a registry reference, or an
 * oci:DIR:TAG with its path), and every other string of an entry. */
#define STORE_NAME_MAX  4096
#define STORE_FIELD_MAX 255
/* Read index.json, whatever state it is in: *out gets every entry that
 * could be read (an empty index when none), damage is set (code != 0)
 * saying what was dropped. Fails only on I/O errors and out of memory. */
int store_index_read(struct store *s, struct oci_index **out, struct husk_error *damage,
		     struct husk_error *err);
/* The same, for callers that need every entry: damage is an error. */
int store_index_load(struct store *s, struct oci_index **out, struct husk_error *err);
/* Whether an entry for name may go into index.json (every string within
 * the bounds); an error naming the field when not. */
int store_entry_check(const char *name, const struct oci_descriptor *d, struct husk_error *err);
/* Point name at desc in index.json (replacing an earlier entry). */
int store_tag(struct store *s, const char *name, const struct oci_descriptor *desc,
	      struct husk_error *err);
/* The same for n names in one edit of index.json. */
int store_tag_many(struct store *s, const char *const *names, size_t n,
		   const struct oci_descriptor *desc, struct husk_error *err);
int store_untag(struct store *s, const char *name, struct husk_error *err);
/* Drop every name pointing at the manifest (or index) digest. */
int store_untag_digest(struct store *s, const char *digest, size_t *dropped,
		       struct husk_error *err);
/* Find name (or a manifest digest) in index.json; *out is a copy. */
int store_lookup(struct store *s, const char *name, struct oci_descriptor **out,
		 struct husk_error *err);
/* The temp files of interrupted writes of index.json and oci-layout:
 * counted (and printed as "stray: PATH", for fsck) or removed. Only with
 * the store held exclusively. */
int store_stray_temps(struct store *s, bool remove, size_t *count, uint64_t *bytes,
		      struct husk_error *err);
/* Delete every blob index.json does not reach, and every cached layer
 * neither an image nor an overlay bundle uses. Also removes stray temp
 * files, and rewrites a damaged index.json with what could be read
 * (damage says what was dropped). */
int store_gc(struct store *s, size_t *removed, uint64_t *bytes, size_t *layers_removed,
	     struct husk_error *damage, struct husk_error *err);

/* ---- images in a store (image.c) ---- */
struct image {
	char manifest_digest[DIGEST_LEN + 1];
	char *manifest_json;
	size_t manifest_len;
	struct oci_manifest *manifest;
	struct oci_image_config *config;
};
/* Load the image a store name or digest points at, choosing p from an
 * index. */
int image_load(struct store *s, const char *name, const struct platform *p, struct image *img,
	       struct husk_error *err);
void image_free(struct image *img);
/* Copy the image name points at (p chosen from an index) into another
 * layout, with its config and layers, and name it to_name there; digest
 * gets the manifest's. Blobs to already has are not copied again. */
int image_copy(struct store *from, const char *name, const struct platform *p, struct store *to,
	       const char *to_name, char digest[DIGEST_LEN + 1], struct husk_error *err);
/* Parse a manifest document and check it. */
int image_parse_manifest(const char *json, size_t len, const char *source,
			 struct oci_manifest **out, struct husk_error *err);

/* ---- registry client (registry.c) ---- */
struct registry_opts {
	const char *creds;    /* USER:PASS or NULL */
	const char *authfile; /* NULL: the usual places */
	bool tls_verify;      /* false: skip verification and allow plain HTTP */
	const char *cert_dir; /* its *.crt files are the trusted CAs; NULL: the system's */
	int parallel;         /* concurrent blob downloads */
	long timeout;         /* seconds one request may take; 0: the defaults */
	bool progress;
};
/* Pull ref into the store; digest_out gets the manifest digest. */
int registry_pull(const struct image_ref *ref, const struct platform *p,
		  const struct registry_opts *o, struct store *s, char digest_out[DIGEST_LEN + 1],
		  struct husk_error *err);

/* ---- unpacking (unpack.c) ---- */
struct unpack_opts {
	bool privileged; /* owners and device nodes; without it, owners other
			  * than root are recorded in user.rootlesscontainers */
	uint64_t max_layer_size; /* uncompressed bytes per layer; 0: the default */
	bool for_overlay; /* the layer cache: refuse what overlayfs cannot hold */
	bool ignore_xattr_errors; /* an xattr the filesystem refuses is skipped, not fatal */
	/* When set, an opaque marker in dir is first offered to it: 1 when it
	 * made dir opaque, 0 to hide the lower entries one by one. */
	int (*make_opaque)(void *ctx, int rootfd, const char *dir, struct husk_error *err);
	void *make_opaque_ctx;
};
#define UNPACK_DEFAULT_MAX_LAYER_SIZE (32ull << 30)
/* Apply the image's layers in order to rootfd, checking rootfs.diff_ids. */
int unpack_layers(struct store *s, const struct image *img, int rootfd, const struct unpack_opts *o,
		  struct husk_error *err);
/* Apply layer i alone to rootfd, checking its digest and diff_id. */
int unpack_one_layer(struct store *s, const struct image *img, size_t i, int rootfd,
		     const struct unpack_opts *o, struct husk_error *err);

/* ---- the layer cache and overlay bundles (layer-cache.c, overlay.c) ---- */
/* A set of digests (gc's marks). */
/* A set of digests (or any strings): a balanced tree (tsearch), so gc's
 * marking and sweeping stay O(n log n) in the blobs of the store, whatever
 * digests a manifest lists. */
struct digest_set {
	void *root;
	size_t len;
};
bool digest_set_has(const struct digest_set *set, const char *digest);
int digest_set_add(struct digest_set *set, const char *digest);
void digest_set_free(struct digest_set *set);

typedef char chain_id_t[DIGEST_LEN + 1];
/* The image-spec's ChainIDs of diff_ids: the layer stack up to each. */
void chain_ids(const oci_strings *diff_ids, chain_id_t *out);
/* Make sure every layer of img is in the cache (unpacking each once);
 * chains (one per layer) gets their ChainIDs, the cache's keys. */
int layer_cache_image(struct store *s, const struct image *img, chain_id_t *chains,
		      struct husk_error *err);
/* The absolute directory of a cached layer (which may not exist). */
int layer_cache_path(struct store *s, const char *chain_id, char **path, struct husk_error *err);
/* Note that the overlay bundle at the absolute path bundle uses cached
 * layers (its overlay/layers file lists them) so gc keeps them. */
int layer_cache_register(struct store *s, const char *bundle, struct husk_error *err);
/* Delete cached layers that neither live (ChainIDs of the store's images)
 * nor a registered bundle that still exists uses. */
int layer_cache_gc(struct store *s, struct digest_set *live, size_t *removed,
		   struct husk_error *err);

/* overlayfs mount options: lowerdir (top first), upperdir, workdir. */
int overlay_options(char *const *lower, size_t n, const char *upper, const char *work, char **out,
		    struct husk_error *err);
/* Make the overlay bundle's parts in bundlefd (bundle: its absolute
 * path) over img's cached layers and mount BUNDLE/rootfs. */
int overlay_bundle_create(struct store *s, const struct image *img, int bundlefd,
			  const char *bundle, bool *made, struct husk_error *err);
/* Mount BUNDLE/rootfs again (after a reboot or an umount). */
int overlay_bundle_mount(struct store *s, int bundlefd, const char *bundle,
			 struct husk_error *err);
/* Unmount BUNDLE/rootfs if mounted and delete what unpack --overlay made
 * in bundlefd (the failure path of unpack). */
int overlay_bundle_discard(int bundlefd, const char *bundle, struct husk_error *err);
/* Unmount BUNDLE/rootfs; with remove, also delete what unpack --overlay
 * made (and the bundle directory once empty). */
int overlay_bundle_unmount(const char *bundle, bool remove, struct husk_error *err);

/* ---- config conversion (convert.c) ---- */
/* The runtime config for an image unpacked at rootfd. */
int convert_config(const struct oci_image_config *ic, int rootfd, bool rootless,
		   struct oci_config **out, struct husk_error *err);

/* ---- commands ---- */
struct image_globals {
	const char *store_path; /* --store */
	bool debug;
};
struct image_cmd {
	const char *name;
	int (*run)(struct image_globals *g, int argc, char **argv, struct husk_error *err);
	const char *summary;
	const char *usage;
	const char *shortopts; /* getopt's short options ("q"), NULL for none */
};
#define IMAGE_USAGE_ERROR 1001
#define IMAGE_HELP_SHOWN  1002
int cmd_getopt(const struct image_cmd *c, int argc, char **argv, const struct option *opts);
int cmd_usage_error(const struct image_cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cmd_need_args(const struct image_cmd *c, int argc, int n, const char *names);
/* Options of a command whose only option is --platform (default the host's),
 * then exactly n_args arguments; 0, or what cmd_getopt/cmd_need_args return. */
int cmd_parse_platform_only(const struct image_cmd *c, int argc, char **argv, struct platform *plat,
			    const char *arg_names, int n_args, struct husk_error *err);
/* Open the store --store names (or the default). */
int cmd_open_store(struct image_globals *g, bool create, bool exclusive, struct store *s,
		   struct husk_error *err);
/* Open the store a reference lives in: oci:DIR, else the --store one;
 * *name gets the name to look up in it. */
int cmd_open_ref_store(struct image_globals *g, const struct image_ref *ref, struct store *s,
		       const char **name, struct husk_error *err);

extern const struct image_cmd cmd_pull, cmd_unpack, cmd_list, cmd_inspect, cmd_rm, cmd_gc,
	cmd_copy, cmd_mount, cmd_umount, cmd_fsck, cmd_tag;

#endif
