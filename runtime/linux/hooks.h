/* OCI hooks: each runs with the state JSON on stdin, its own args and env,
 * and its timeout enforced. */
#ifndef HUSK_LINUX_HOOKS_H
#define HUSK_LINUX_HOOKS_H

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* Run the hooks of one kind in order; stop at the first failure with an
 * error naming the kind, index, path and exit status. */
int hooks_run(const char *kind, const oci_hook_list *hooks, const char *state_json,
	      struct husk_error *err);

/* Run every hook of one kind, whatever the others did: each failure is a
 * warning naming the kind, index, path and cause (the spec's rule for
 * poststop). Returns how many failed. */
size_t hooks_run_all(const char *kind, const oci_hook_list *hooks, const char *state_json);

/* The spec's rules for every hook: an absolute path, a timeout above zero. */
int hooks_validate(const struct oci_hooks *hooks, struct husk_error *err);

#endif
