/* The husk binary a container can reach is a view of it no one can write
 * (CVE-2019-5736 class); see cloned-exe.c. */
#ifndef HUSK_CLONED_EXE_H
#define HUSK_CLONED_EXE_H

#include "common/error.h"

/* Unless husk already runs from a binary no one can write (a read-only
 * mount, or a sealed copy), re-execute it with the same argv and
 * environment from a detached read-only bind of its binary, or where the
 * kernel cannot make one, from a copy in a sealed memfd. Returns 0 when
 * already safe; on success of the re-exec it never returns; a negative
 * errno (with err set) when neither view can be made. */
int cloned_exe_ensure(char **argv, struct husk_error *err);

#endif
