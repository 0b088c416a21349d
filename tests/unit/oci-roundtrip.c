/* Test-only: decode FILE with the oci-spec decoder and print its pretty
 * encoding plus a newline (what `husk spec` writes), so shell tests can
 * check that a document survives decode -> encode byte for byte.
 *
 *   oci-roundtrip [--type config|state|features] FILE
 *
 * A decoding error is printed on stderr (as husk would word it, with FILE
 * as the source) and the exit status is 1; a usage error exits with 2. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/fileutil.h"
#include "oci-spec/runtime-spec.h"

static const struct {
	const char *name;
	const struct oci_type *type;
} types[] = {
	{ "config", &oci_config_type },
	{ "state", &oci_state_type },
	{ "features", &oci_features_type },
};

static int usage(void)
{
	fprintf(stderr, "usage: oci-roundtrip [--type config|state|features] FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct oci_type *type = &oci_config_type;
	struct husk_error err = { 0 };
	int argi = 1;

	if (argc == 4 && strcmp(argv[1], "--type") == 0) {
		type = NULL;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(argv[2], types[i].name) == 0)
				type = types[i].type;
		if (type == NULL)
			return usage();
		argi = 3;
	} else if (argc != 2 || argv[1][0] == '-') {
		return usage();
	}
	const char *path = argv[argi];

	void *obj = NULL;
	int r = oci_decode_file(type, AT_FDCWD, path, path, &obj, &err);
	if (r == 0 && type == &oci_config_type)
		r = oci_check_version(path, ((struct oci_config *)obj)->ociVersion, &err);
	_cleanup_free_ char *json = NULL;
	size_t len = 0;
	if (r == 0)
		r = oci_encode(type, obj, true, &json, &len, &err);
	oci_free(type, obj);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF || fflush(stdout) != 0) {
		perror("oci-roundtrip: stdout");
		return 1;
	}
	return 0;
}
