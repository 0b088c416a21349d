/* Static parsers the fuzz build reaches through expose-*.c. */
#ifndef HUSK_FUZZ_EXPOSE_H
#define HUSK_FUZZ_EXPOSE_H

#include "oci-spec/runtime-spec.h"

/* mounts.c parse_options: the filesystem data (unknown options) into data. */
int fuzz_mount_options(const struct oci_mount *m, char *data, size_t size,
		       struct husk_error *err);
/* namespaces.c format_map: the uid_map text of maps, its length or -E2BIG. */
int fuzz_format_id_map(const oci_id_mappings *maps, char *buf, size_t size);

#endif
