/* linux.memoryPolicy (runtime-spec 1.3): the NUMA memory policy the
 * container's process starts with, set by set_mempolicy(2) in the init
 * before the exec (the policy survives execve and is inherited by every
 * child), and by each process exec starts, before its exec, as runc 1.4. */
#ifndef HUSK_LINUX_MEMPOLICY_H
#define HUSK_LINUX_MEMPOLICY_H

#include <stdbool.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* Node numbers accepted: the kernel's largest MAX_NUMNODES (NODES_SHIFT 10). */
#define MEMPOLICY_MAX_NODES 1024

struct mempolicy {
	int mode_flags; /* MPOL_* | MPOL_F_*: set_mempolicy's first argument */
	unsigned long nodes[MEMPOLICY_MAX_NODES / (8 * sizeof(unsigned long))];
	bool has_nodes;
};

/* The names features lists (NULL-terminated). */
extern const char *const mempolicy_mode_names[];
extern const char *const mempolicy_flag_names[];

/* Check mp: a known mode, known flags that go together and with the mode,
 * a node list that is well formed and bounded, present when the mode needs
 * nodes and absent when it forbids them. online: the host's online node
 * list (/sys/devices/system/node/online) the nodes must be in unless a
 * flag makes them relative or static; NULL skips that check. Errors name
 * linux.memoryPolicy and the value. */
int mempolicy_parse(const struct oci_memory_policy *mp, const char *online, struct mempolicy *out,
		    struct husk_error *err);
/* mempolicy_parse with the host's online nodes. */
int mempolicy_validate(const struct oci_memory_policy *mp, struct husk_error *err);
/* set_mempolicy for the calling thread. */
int mempolicy_apply(const struct oci_memory_policy *mp, struct husk_error *err);

#endif
