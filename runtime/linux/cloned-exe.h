/* The husk binary a container can reach is a sealed in-memory copy
 * (CVE-2019-5736 class); see cloned-exe.c. */
#ifndef HUSK_CLONED_EXE_H
#define HUSK_CLONED_EXE_H

#include "common/error.h"

/* Unless husk already runs from a sealed copy of itself, copy the binary
 * into a sealed memfd and re-execute it with the same argv and environment.
 * Returns 0 when already sealed; on success of the re-exec it never
 * returns; a negative errno (with err set) when the copy cannot be made. */
int cloned_exe_ensure(char **argv, struct husk_error *err);

#endif
