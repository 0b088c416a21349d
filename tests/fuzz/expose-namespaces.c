/* runtime/linux/namespaces.c compiled whole into the fuzz build (this
 * object stands in for namespaces.o), and its uid_map/gid_map text builder
 * as the harness calls it: the text in buf, its length, or -E2BIG. */
#include "runtime/linux/namespaces.c"

#include "tests/fuzz/expose.h"

int fuzz_format_id_map(const oci_id_mappings *maps, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	struct husk_error err;
	int r = id_map_format(maps, "fuzz", &sb, &err);
	if (r == 0 && sb.len >= size)
		r = -E2BIG;
	if (r == 0) {
		memcpy(buf, sb.buf, sb.len + 1);
		r = (int)sb.len;
	}
	sb_release(&sb);
	return r;
}
