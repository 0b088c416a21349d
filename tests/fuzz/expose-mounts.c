/* runtime/linux/mounts.c compiled whole into the fuzz build, to reach its
 * static option parser without changing its interface. This object stands
 * in for mounts.o: it defines every symbol that file exports. */
#include "runtime/linux/mounts.c"

#include "tests/fuzz/expose.h"

int fuzz_mount_options(const struct oci_mount *m, char *data, size_t size,
		       struct husk_error *err)
{
	struct parsed_mount pm;
	int r = parse_options(m, 0, &pm, err);
	if (r < 0)
		return r;
	size_t n = strnlen(pm.data, sizeof(pm.data));
	if (n == sizeof(pm.data))
		abort(); /* the parser left its data unterminated */
	if (n >= size)
		return -E2BIG;
	memcpy(data, pm.data, n + 1);
	return 0;
}
