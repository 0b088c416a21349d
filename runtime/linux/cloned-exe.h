/* The husk binary a container can reach is a view of it no one can write
 * (CVE-2019-5736 class); see cloned-exe.c. */
#ifndef HUSK_CLONED_EXE_H
#define HUSK_CLONED_EXE_H

#include <stdbool.h>

#include "common/error.h"

/* Unless husk already runs from a binary no one can write (a read-only
 * mount, or a sealed copy), move this process onto a detached read-only
 * bind of its binary (its mappings and /proc/self/exe: no execve) and
 * return 0; where that fails, re-execute it with the same argv and
 * environment from that bind, or where the kernel cannot make one, from a
 * copy in a sealed memfd (on success of a re-exec it never returns).
 * Returns 0 when safe, a negative errno (with err set) when no safe view
 * can be had. */
int cloned_exe_ensure(char **argv, struct husk_error *err);

/* Collect the short-lived helper cloned_exe_ensure may leave behind (it
 * waits out the unmount of the view's detached mount for us); blocks only
 * if that wait is not over yet. Called before exiting, and before waiting
 * for a container in the foreground so that no zombie sits beside it. */
void cloned_exe_reap(void);

/* Whether pid is that helper: a child of ours that is no container
 * process, whatever a message from a container says. */
bool cloned_exe_is_helper(long long pid);

#endif
