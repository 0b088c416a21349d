/* image-spec tables: round trips of the sample documents in
 * tests/unit/data/image-*.json, the decoded value of every field, the
 * media-type helpers and malformed inputs with their exact messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "oci-spec/image-spec.h"
#include "tests/unit/unit.h"

static char datadir[4096];

static const struct oci_type *type_for(const char *name)
{
	if (strncmp(name, "image-index", 11) == 0)
		return &oci_index_type;
	if (strncmp(name, "image-manifest", 14) == 0)
		return &oci_manifest_type;
	if (strncmp(name, "image-layout", 12) == 0)
		return &oci_layout_type;
	return &oci_image_config_type;
}

static int load(const char *name, void **out, struct husk_error *err)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	return oci_decode_file(type_for(name), AT_FDCWD, path, name, out, err);
}

static void round_trip(const char *name)
{
	const struct oci_type *type = type_for(name);
	struct husk_error err = { 0 };
	void *first = NULL, *second = NULL;
	char *json1 = NULL, *json2 = NULL;
	size_t len1 = 0, len2 = 0;

	int r = load(name, &first, &err);
	CHECK(r == 0, "%s: %s", name, err.msg);
	if (r < 0)
		return;
	for (int pretty = 0; pretty <= 1; pretty++) {
		CHECK(oci_encode(type, first, pretty, &json1, &len1, &err) == 0, "%s", err.msg);
		r = oci_decode(type, json1, len1, name, &second, &err);
		CHECK(r == 0, "%s re-decode: %s", name, err.msg);
		if (r == 0) {
			CHECK(oci_encode(type, second, pretty, &json2, &len2, &err) == 0, "%s",
			      err.msg);
			CHECK(len1 == len2 && memcmp(json1, json2, len1) == 0,
			      "%s: re-encoding differs:\n%s\n%s", name, json1, json2);
			free(json2);
			oci_free(type, second);
		}
		free(json1);
	}
	oci_free(type, first);
}

static bool set_has(const oci_strings *set, const char *value)
{
	for (size_t i = 0; i < set->len; i++)
		if (strcmp(set->items[i], value) == 0)
			return true;
	return false;
}

static void index_values(void)
{
	struct husk_error err = { 0 };
	struct oci_index *idx = NULL;
	int r = load("image-index.json", (void **)&idx, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK(idx->schemaVersion == 2, "schemaVersion");
	CHECK_STR(idx->mediaType, OCI_MT_INDEX);
	CHECK(idx->manifests.len == 2, "manifests");
	struct oci_descriptor *a = &idx->manifests.items[0], *b = &idx->manifests.items[1];
	CHECK_STR(a->mediaType, OCI_MT_MANIFEST);
	CHECK_STR(a->digest,
		  "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f");
	CHECK(a->size == 7143, "size");
	CHECK_STR(a->platform->architecture, "ppc64le");
	CHECK_STR(a->platform->os, "linux");
	CHECK(a->platform->variant == NULL && a->annotations.keys == NULL,
	      "absent fields stay NULL");
	CHECK_STR(b->platform->variant, "v7");
	CHECK_STR(b->platform->os_version, "10.0.14393.1066");
	CHECK(b->platform->os_features.len == 1, "os.features");
	CHECK_STR(b->platform->os_features.items[0], "win32k");
	CHECK_STR(b->platform->features.items[0], "sse4");
	CHECK_STR(oci_map_get(&b->annotations, OCI_ANNOTATION_REF_NAME), "v1");
	CHECK_STR(b->urls.items[0], "https://example.com/blob");
	CHECK_STR(b->artifactType, "application/vnd.example+type");
	CHECK_STR(b->data, "e30=");
	CHECK(idx->subject != NULL && idx->subject->size == 1, "subject");
	CHECK_STR(oci_map_get(&idx->annotations, "com.example.key2"), "value2");
	CHECK(oci_index_check(idx, "index", &err) == 0, "%s", err.msg);
	oci_free(&oci_index_type, idx);
}

static void manifest_values(void)
{
	struct husk_error err = { 0 };
	struct oci_manifest *m = NULL;
	int r = load("image-manifest.json", (void **)&m, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK(m->schemaVersion == 2, "schemaVersion");
	CHECK_STR(m->mediaType, OCI_MT_MANIFEST);
	CHECK_STR(m->config->mediaType, OCI_MT_CONFIG);
	CHECK(m->config->size == 7023, "config size");
	CHECK(m->layers.len == 3, "layers");
	CHECK(oci_layer_compression(m->layers.items[0].mediaType) == OCI_LAYER_GZIP, "gzip");
	CHECK(oci_layer_compression(m->layers.items[1].mediaType) == OCI_LAYER_ZSTD, "zstd");
	CHECK(oci_layer_compression(m->layers.items[2].mediaType) == OCI_LAYER_PLAIN, "tar");
	CHECK_STR(m->layers.items[2].digest,
		  "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736");
	CHECK(m->layers.items[2].size == 73109, "layer size");
	CHECK_STR(oci_map_get(&m->annotations, "com.example.key1"), "value1");
	CHECK(oci_manifest_check(m, "manifest", &err) == 0, "%s", err.msg);
	oci_free(&oci_manifest_type, m);

	r = load("image-manifest-docker.json", (void **)&m, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK(oci_media_type_kind(m->mediaType) == OCI_DOC_MANIFEST, "docker manifest kind");
	CHECK(oci_media_type_is_config(m->config->mediaType), "docker config media type");
	CHECK(m->config->size == 1469, "docker config size");
	CHECK(oci_layer_compression(m->layers.items[0].mediaType) == OCI_LAYER_GZIP, "docker gzip");
	oci_free(&oci_manifest_type, m);
}

static void config_values(void)
{
	struct husk_error err = { 0 };
	struct oci_image_config *c = NULL;
	int r = load("image-config.json", (void **)&c, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK_STR(c->created, "2015-10-31T22:22:56.015925234Z");
	CHECK_STR(c->author, "Alyssa P. Hacker <alyspdev@example.com>");
	CHECK_STR(c->architecture, "amd64");
	CHECK_STR(c->os, "linux");
	CHECK_STR(c->variant, "v8");
	CHECK_STR(c->os_version, "6.1");
	CHECK_STR(c->os_features.items[0], "f1");
	struct oci_image_exec *x = c->config;
	CHECK_STR(x->User, "alice:staff");
	CHECK(x->ExposedPorts.len == 2 && set_has(&x->ExposedPorts, "8080/tcp") &&
		      set_has(&x->ExposedPorts, "53/udp"),
	      "ExposedPorts");
	CHECK(x->Env.len == 2, "Env");
	CHECK_STR(x->Env.items[1], "FOO=oci_is_a");
	CHECK(x->Entrypoint.len == 1, "Entrypoint");
	CHECK_STR(x->Entrypoint.items[0], "/bin/my-app-binary");
	CHECK(x->Cmd.len == 3, "Cmd");
	CHECK_STR(x->Cmd.items[2], "/etc/my-app.d/default.cfg");
	CHECK(x->Volumes.len == 2 && set_has(&x->Volumes, "/var/log/my-app-logs"), "Volumes");
	CHECK_STR(x->WorkingDir, "/home/alice");
	CHECK_STR(oci_map_get(&x->Labels, "com.example.project.git.url"),
		  "https://example.com/project.git");
	CHECK_STR(x->StopSignal, "SIGKILL");
	CHECK(x->ArgsEscaped, "ArgsEscaped");
	CHECK_STR(c->rootfs->type, "layers");
	CHECK(c->rootfs->diff_ids.len == 2, "diff_ids");
	CHECK_STR(c->rootfs->diff_ids.items[1],
		  "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
	CHECK(c->history.len == 2, "history");
	CHECK(!c->history.items[0].empty_layer && c->history.items[1].empty_layer, "empty_layer");
	CHECK_STR(c->history.items[1].created_by, "/bin/sh -c #(nop) CMD [\"sh\"]");
	CHECK_STR(c->history.items[1].author, "someone");
	CHECK_STR(c->history.items[1].comment, "a comment");
	oci_free(&oci_image_config_type, c);

	/* Docker writes null for unset lists and maps: they are absent */
	r = load("image-config-docker.json", (void **)&c, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r < 0)
		return;
	CHECK(c->config->Cmd.items == NULL && c->config->Entrypoint.items == NULL,
	      "null Cmd/Entrypoint");
	CHECK(c->config->Volumes.items == NULL && c->config->Labels.keys == NULL,
	      "null Volumes/Labels");
	CHECK_STR(c->config->Env.items[0], "PATH=/bin");
	CHECK_STR(c->config->WorkingDir, "");
	oci_free(&oci_image_config_type, c);

	struct oci_layout *l = NULL;
	r = load("image-layout.json", (void **)&l, &err);
	CHECK(r == 0, "%s", err.msg);
	if (r == 0)
		CHECK_STR(l->imageLayoutVersion, OCI_LAYOUT_VERSION);
	oci_free(&oci_layout_type, l);
}

static void helpers(void)
{
	CHECK(oci_media_type_kind(OCI_MT_INDEX) == OCI_DOC_INDEX, "oci index");
	CHECK(oci_media_type_kind(DOCKER_MT_MANIFEST_LIST) == OCI_DOC_INDEX, "docker list");
	CHECK(oci_media_type_kind(OCI_MT_MANIFEST) == OCI_DOC_MANIFEST, "oci manifest");
	CHECK(oci_media_type_kind("text/plain") == OCI_DOC_UNKNOWN, "unknown");
	CHECK(oci_media_type_kind(NULL) == OCI_DOC_UNKNOWN, "NULL");
	CHECK(oci_layer_compression(DOCKER_MT_LAYER_FOREIGN_GZIP) == OCI_LAYER_GZIP, "foreign");
	CHECK(oci_layer_compression(OCI_MT_CONFIG) == OCI_LAYER_UNKNOWN, "config is no layer");
	CHECK(oci_media_type_is_config(OCI_MT_CONFIG) && !oci_media_type_is_config(OCI_MT_MANIFEST),
	      "config");
	CHECK(oci_digest_valid(
		      "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"),
	      "valid");
	CHECK(!oci_digest_valid(
		      "sha256:5F70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"),
	      "uppercase");
	CHECK(!oci_digest_valid("sha256:5f70"), "short");
	CHECK(!oci_digest_valid(
		      "sha512:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"),
	      "sha512");
	CHECK(!oci_digest_valid(
		      "sha256:../../../../etc/passwd000000000000000000000000000000000000000000"),
	      "path");
}

struct malformed {
	const struct oci_type *type;
	const char *json;
	const char *want;
};

static void malformed_inputs(void)
{
	static const struct malformed cases[] = {
		{ &oci_manifest_type, "{\"schemaVersion\":2,\"layers\":[]}",
		  "doc: config: required field is missing" },
		{ &oci_manifest_type,
		  "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:a\","
		  "\"size\":\"1\"},"
		  "\"layers\":[]}",
		  "doc: config.size: expected an integer, got \"1\"" },
		{ &oci_index_type,
		  "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"size\":1}]}",
		  "doc: manifests[0].digest: required field is missing" },
		{ &oci_index_type, "{\"schemaVersion\":2,\"manifests\":{}}",
		  "doc: manifests: expected an array, got an object" },
		{ &oci_image_config_type,
		  "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		  "\"diff_ids\":[1]}}",
		  "doc: rootfs.diff_ids[0]: expected a string, got a number" },
		{ &oci_image_config_type,
		  "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":\"sh\"},"
		  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		  "doc: config.Cmd: expected an array, got \"sh\"" },
		{ &oci_image_config_type, "{\"architecture\":\"amd64\",\"os\":\"linux\"}",
		  "doc: rootfs: required field is missing" },
		{ &oci_layout_type, "{}", "doc: imageLayoutVersion: required field is missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_error err = { 0 };
		void *out = NULL;
		int r = oci_decode(cases[i].type, cases[i].json, strlen(cases[i].json), "doc", &out,
				   &err);
		oci_free(cases[i].type, out);
		CHECK(r < 0, "case %zu decoded without an error", i);
		if (r < 0)
			CHECK(strcmp(err.msg, cases[i].want) == 0,
			      "case %zu:\n  got  %s\n  want %s", i, err.msg, cases[i].want);
	}
}

static void semantic_checks(void)
{
	struct husk_error err = { 0 };
	struct oci_manifest *m = NULL;
	static const char bad_digest[] =
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" OCI_MT_CONFIG "\","
		"\"digest\":\"sha256:"
		"5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\","
		"\"size\":3},\"layers\":[{\"mediaType\":\"" OCI_MT_LAYER_TAR "\","
		"\"digest\":\"sha256:../x\",\"size\":3}]}";
	int r = oci_decode(&oci_manifest_type, bad_digest, strlen(bad_digest), "m", (void **)&m,
			   &err);
	CHECK(r == 0, "%s", err.msg);
	if (r == 0) {
		CHECK(oci_manifest_check(m, "m", &err) == -EINVAL, "bad layer digest");
		CHECK_STR(err.msg, "m: layers[0].digest: \"sha256:../x\" is not a sha256 digest");
		m->layers.items[0].digest[7] = '\0';
		m->schemaVersion = 1;
		CHECK(oci_manifest_check(m, "m", &err) == -EINVAL, "schema 1");
		CHECK_STR(err.msg, "m: schemaVersion: 1 is not supported (only 2)");
		m->schemaVersion = 2;
		m->config->size = -1;
		CHECK(oci_manifest_check(m, "m", &err) == -EINVAL, "negative size");
		CHECK_STR(err.msg, "m: config.size: -1 is negative");
		/* a registry's control characters (a terminal escape, DEL)
		 * reach the message escaped, and a long digest is cut */
		m->config->size = 3;
		free(m->layers.items[0].digest);
		m->layers.items[0].digest = strdup("sha256:\x1b[2J\x7f");
		CHECK(oci_manifest_check(m, "m", &err) == -EINVAL, "digest with control characters");
		CHECK_STR(err.msg, "m: layers[0].digest: \"sha256:\\u001b[2J\\u007f\" is not a sha256 digest");
		free(m->layers.items[0].digest);
		m->layers.items[0].digest = malloc(5001);
		if (m->layers.items[0].digest) {
			memset(m->layers.items[0].digest, 'a', 5000);
			m->layers.items[0].digest[5000] = '\0';
			CHECK(oci_manifest_check(m, "m", &err) == -EINVAL, "a 5000-byte digest");
			CHECK(strstr(err.msg, "aaa...\" is not a sha256 digest") != NULL &&
				      strlen(err.msg) < 200,
			      "a 5000-byte digest cut in the message: %s", err.msg);
		}
	}
	oci_free(&oci_manifest_type, m);
}

int main(void)
{
	unit_data_dir(datadir, sizeof(datadir), "data");
	UNIT_EACH_SAMPLE(round_trip, "image-index.json", "image-manifest.json",
			 "image-manifest-docker.json", "image-config.json", "image-config-docker.json",
			 "image-layout.json");
	index_values();
	manifest_values();
	config_values();
	helpers();
	malformed_inputs();
	semantic_checks();
	return unit_summary("test-image-spec");
}
