/* runtime/linux/namespaces.c compiled whole into the fuzz build, to reach
 * its static uid_map/gid_map text builder. This object stands in for
 * namespaces.o. */
#include "runtime/linux/namespaces.c"

#include "tests/fuzz/expose.h"

int fuzz_format_id_map(const oci_id_mappings *maps, char *buf, size_t size)
{
	return format_map(maps, buf, size);
}
