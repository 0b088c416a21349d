#include "oci-spec/image-spec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "oci-spec/json.h"

#define OCI_CUR struct oci_platform
static const struct oci_field platform_fields[] = {
	F_STR_REQ("architecture", architecture),
	F_STR_REQ("os", os),
	F_STR("os.version", os_version),
	F_ARR("os.features", os_features, OCI_STR),
	F_STR("variant", variant),
	F_ARR("features", features, OCI_STR),
};
OCI_TYPE(oci_platform_type, struct oci_platform, platform_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_descriptor
static const struct oci_field descriptor_fields[] = {
	F_STR_REQ("mediaType", mediaType),
	F_STR_REQ("digest", digest),
	F_VAL_REQ("size", size, OCI_I64),
	F_ARR("urls", urls, OCI_STR),
	F_MAP("annotations", annotations, OCI_STR),
	F_STR("data", data),
	F_OBJ("platform", platform, oci_platform_type),
	F_STR("artifactType", artifactType),
};
OCI_TYPE(oci_descriptor_type, struct oci_descriptor, descriptor_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_index
static const struct oci_field index_fields[] = {
	F_VAL_REQ("schemaVersion", schemaVersion, OCI_I32),
	F_STR("mediaType", mediaType),
	F_STR("artifactType", artifactType),
	OCI_FIELD("manifests", manifests, OCI_ARR, OCI_OBJ, OCI_REQUIRED, &oci_descriptor_type),
	F_OBJ("subject", subject, oci_descriptor_type),
	F_MAP("annotations", annotations, OCI_STR),
};
OCI_TYPE(oci_index_type, struct oci_index, index_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_manifest
static const struct oci_field manifest_fields[] = {
	F_VAL_REQ("schemaVersion", schemaVersion, OCI_I32),
	F_STR("mediaType", mediaType),
	F_STR("artifactType", artifactType),
	F_OBJ_REQ("config", config, oci_descriptor_type),
	OCI_FIELD("layers", layers, OCI_ARR, OCI_OBJ, OCI_REQUIRED, &oci_descriptor_type),
	F_OBJ("subject", subject, oci_descriptor_type),
	F_MAP("annotations", annotations, OCI_STR),
};
OCI_TYPE(oci_manifest_type, struct oci_manifest, manifest_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_image_exec
static const struct oci_field image_exec_fields[] = {
	F_STR("User", User),
	F_SET("ExposedPorts", ExposedPorts),
	F_ARR("Env", Env, OCI_STR),
	F_ARR("Entrypoint", Entrypoint, OCI_STR),
	F_ARR("Cmd", Cmd, OCI_STR),
	F_SET("Volumes", Volumes),
	F_STR("WorkingDir", WorkingDir),
	F_MAP("Labels", Labels, OCI_STR),
	F_STR("StopSignal", StopSignal),
	F_VAL("ArgsEscaped", ArgsEscaped, OCI_BOOL),
};
static OCI_TYPE(image_exec_type, struct oci_image_exec, image_exec_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_rootfs
static const struct oci_field rootfs_fields[] = {
	F_STR_REQ("type", type),
	F_ARR_REQ("diff_ids", diff_ids, OCI_STR),
};
static OCI_TYPE(rootfs_type, struct oci_rootfs, rootfs_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_history
static const struct oci_field history_fields[] = {
	F_STR("created", created),
	F_STR("created_by", created_by),
	F_STR("author", author),
	F_STR("comment", comment),
	F_VAL("empty_layer", empty_layer, OCI_BOOL),
};
static OCI_TYPE(history_type, struct oci_history, history_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_image_config
static const struct oci_field image_config_fields[] = {
	F_STR("created", created),
	F_STR("author", author),
	F_STR_REQ("architecture", architecture),
	F_STR_REQ("os", os),
	F_STR("os.version", os_version),
	F_ARR("os.features", os_features, OCI_STR),
	F_STR("variant", variant),
	F_OBJ("config", config, image_exec_type),
	F_OBJ_REQ("rootfs", rootfs, rootfs_type),
	F_ARR_OBJ("history", history, history_type),
};
OCI_TYPE(oci_image_config_type, struct oci_image_config, image_config_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_layout
static const struct oci_field layout_fields[] = {
	F_STR_REQ("imageLayoutVersion", imageLayoutVersion),
};
OCI_TYPE(oci_layout_type, struct oci_layout, layout_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_manifest_probe
static const struct oci_field manifest_probe_fields[] = {
	F_VAL_REQ("schemaVersion", schemaVersion, OCI_I32),
	F_STR("mediaType", mediaType),
	F_ARR_OBJ("manifests", manifests, oci_descriptor_type),
	F_OBJ("config", config, oci_descriptor_type),
};
OCI_TYPE(oci_manifest_probe_type, struct oci_manifest_probe, manifest_probe_fields);
#undef OCI_CUR

static bool eq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

enum oci_doc_kind oci_media_type_kind(const char *mt)
{
	if (eq(mt, OCI_MT_INDEX) || eq(mt, DOCKER_MT_MANIFEST_LIST))
		return OCI_DOC_INDEX;
	if (eq(mt, OCI_MT_MANIFEST) || eq(mt, DOCKER_MT_MANIFEST))
		return OCI_DOC_MANIFEST;
	return OCI_DOC_UNKNOWN;
}

enum oci_layer_compression oci_layer_compression(const char *mt)
{
	if (eq(mt, OCI_MT_LAYER_TAR) || eq(mt, OCI_MT_LAYER_ND_TAR))
		return OCI_LAYER_PLAIN;
	if (eq(mt, OCI_MT_LAYER_GZIP) || eq(mt, OCI_MT_LAYER_ND_GZIP) ||
	    eq(mt, DOCKER_MT_LAYER_GZIP) || eq(mt, DOCKER_MT_LAYER_FOREIGN_GZIP))
		return OCI_LAYER_GZIP;
	if (eq(mt, OCI_MT_LAYER_ZSTD) || eq(mt, OCI_MT_LAYER_ND_ZSTD))
		return OCI_LAYER_ZSTD;
	return OCI_LAYER_UNKNOWN;
}

bool oci_media_type_is_config(const char *mt)
{
	return eq(mt, OCI_MT_CONFIG) || eq(mt, DOCKER_MT_CONFIG);
}

bool oci_digest_valid(const char *digest)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
		return false;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int check_descriptor(const struct oci_descriptor *d, const char *source, const char *where,
			    struct husk_error *err)
{
	if (!oci_digest_valid(d->digest)) {
		/* quoted: the digest comes from a registry or a hand-edited store */
		char quoted[6 * 100 + 8]; /* every byte may become \u00XX */
		json_quote(d->digest, strlen(d->digest), 100, quoted, sizeof(quoted));
		return err_set(err, EINVAL, "%s: %s.digest: %s is not a sha256 digest", source, where,
			       quoted);
	}
	if (d->size < 0)
		return err_set(err, EINVAL, "%s: %s.size: %lld is negative", source, where,
			       (long long)d->size);
	return 0;
}

static int check_schema_version(int32_t v, const char *source, struct husk_error *err)
{
	if (v != 2)
		return err_set(err, EINVAL, "%s: schemaVersion: %d is not supported (only 2)",
			       source, (int)v);
	return 0;
}

int oci_index_check(const struct oci_index *idx, const char *source, struct husk_error *err)
{
	char where[64];
	int r = check_schema_version(idx->schemaVersion, source, err);
	for (size_t i = 0; r == 0 && i < idx->manifests.len; i++) {
		snprintf(where, sizeof(where), "manifests[%zu]", i);
		r = check_descriptor(&idx->manifests.items[i], source, where, err);
	}
	return r;
}

int oci_manifest_check(const struct oci_manifest *m, const char *source, struct husk_error *err)
{
	char where[64];
	int r = check_schema_version(m->schemaVersion, source, err);
	if (r == 0)
		r = check_descriptor(m->config, source, "config", err);
	for (size_t i = 0; r == 0 && i < m->layers.len; i++) {
		snprintf(where, sizeof(where), "layers[%zu]", i);
		r = check_descriptor(&m->layers.items[i], source, where, err);
	}
	return r;
}
