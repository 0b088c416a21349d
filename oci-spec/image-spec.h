/* image-spec 1.1: descriptor, image index, image manifest, image config and
 * the image layout's oci-layout file. Docker's schema2 manifest and manifest
 * list have the same shapes; only their media types differ. */
#ifndef HUSK_OCI_IMAGE_SPEC_H
#define HUSK_OCI_IMAGE_SPEC_H

#include "oci-spec/schema.h"

#define OCI_MT_INDEX                 "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST              "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG                "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TAR             "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP            "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD            "application/vnd.oci.image.layer.v1.tar+zstd"
#define OCI_MT_LAYER_ND_TAR          "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define OCI_MT_LAYER_ND_GZIP         "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define OCI_MT_LAYER_ND_ZSTD         "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define DOCKER_MT_MANIFEST_LIST      "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_MANIFEST           "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_CONFIG             "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_LAYER_GZIP         "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MT_LAYER_FOREIGN_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define OCI_LAYOUT_VERSION      "1.0.0"
#define OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

struct oci_platform {
	char *architecture;
	char *os;
	char *os_version;        /* "os.version" */
	oci_strings os_features; /* "os.features" */
	char *variant;
	oci_strings features;
};

struct oci_descriptor {
	char *mediaType;
	char *digest;
	int64_t size;
	oci_strings urls;
	oci_string_map annotations;
	char *data;
	struct oci_platform *platform;
	char *artifactType;
};
typedef OCI_ARRAY(struct oci_descriptor) oci_descriptors;

struct oci_index {
	int32_t schemaVersion;
	char *mediaType;
	char *artifactType;
	oci_descriptors manifests;
	struct oci_descriptor *subject;
	oci_string_map annotations;
};

struct oci_manifest {
	int32_t schemaVersion;
	char *mediaType;
	char *artifactType;
	struct oci_descriptor *config;
	oci_descriptors layers;
	struct oci_descriptor *subject;
	oci_string_map annotations;
};

/* The execution parameters of an image config ("config"). */
struct oci_image_exec {
	char *User;
	oci_strings ExposedPorts; /* a set: {"80/tcp": {}} */
	oci_strings Env;
	oci_strings Entrypoint;
	oci_strings Cmd;
	oci_strings Volumes; /* a set */
	char *WorkingDir;
	oci_string_map Labels;
	char *StopSignal;
	bool ArgsEscaped;
};

struct oci_rootfs {
	char *type;
	oci_strings diff_ids;
};

struct oci_history {
	char *created;
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct oci_image_config {
	char *created;
	char *author;
	char *architecture;
	char *os;
	char *os_version;
	oci_strings os_features;
	char *variant;
	struct oci_image_exec *config;
	struct oci_rootfs *rootfs;
	OCI_ARRAY(struct oci_history) history;
};

struct oci_layout {
	char *imageLayoutVersion;
};

/* Enough of a manifest or index to tell which one it is when the registry
 * or the document does not say (mediaType is optional in both). */
struct oci_manifest_probe {
	int32_t schemaVersion;
	char *mediaType;
	oci_descriptors manifests;
	struct oci_descriptor *config;
};

extern const struct oci_type oci_platform_type;
extern const struct oci_type oci_descriptor_type;
extern const struct oci_type oci_index_type;
extern const struct oci_type oci_manifest_type;
extern const struct oci_type oci_image_config_type;
extern const struct oci_type oci_layout_type;
extern const struct oci_type oci_manifest_probe_type;

enum oci_doc_kind { OCI_DOC_UNKNOWN, OCI_DOC_INDEX, OCI_DOC_MANIFEST };
enum oci_layer_compression { OCI_LAYER_UNKNOWN, OCI_LAYER_PLAIN, OCI_LAYER_GZIP, OCI_LAYER_ZSTD };

/* Classify a manifest media type (OCI or Docker). */
enum oci_doc_kind oci_media_type_kind(const char *media_type);
/* The compression a layer media type implies; UNKNOWN for non-layers. */
enum oci_layer_compression oci_layer_compression(const char *media_type);
/* Whether media_type is an image config (OCI or Docker). */
bool oci_media_type_is_config(const char *media_type);
/* "sha256:" followed by 64 lowercase hex digits. */
bool oci_digest_valid(const char *digest);
/* Check a decoded manifest/index: schemaVersion 2, a valid digest in every
 * descriptor, non-negative sizes. source prefixes errors. */
int oci_index_check(const struct oci_index *idx, const char *source, struct husk_error *err);
int oci_manifest_check(const struct oci_manifest *m, const char *source, struct husk_error *err);

#endif
