/* Namespace kinds, joining by path, and the user namespace id maps. */
#ifndef HUSK_LINUX_NAMESPACES_H
#define HUSK_LINUX_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "oci-spec/runtime-spec.h"

struct ns_kind {
	const char *type;    /* config name: "network" */
	const char *proc;    /* /proc/PID/ns name: "net" */
	int flag;            /* CLONE_NEWNET */
};

extern const struct ns_kind ns_kinds[];
extern const size_t ns_kinds_count;

const struct ns_kind *ns_kind_by_type(const char *type);
/* linux.namespaces has an entry of this type ("mount"), new or joined. */
bool config_lists_namespace(const struct oci_config *cfg, const char *type);
/* The entry of this type in lx->namespaces, or NULL. */
const struct oci_namespace *config_namespace(const struct oci_linux *lx, const char *type);
/* The entry of this type names an existing namespace (a path): joined. */
bool config_joins_namespace(const struct oci_linux *lx, const char *type);

/* What the config asks for: new namespaces (clone flags) and namespaces to
 * join (fds opened and type-checked up front, so a bad path fails before
 * anything is created). */
struct ns_plan {
	int new_flags;
	int join_fd[8];   /* by ns_kinds index, -1 when not joined */
	bool join_any;
};

int ns_plan_build(const struct oci_config *cfg, struct ns_plan *plan, struct husk_error *err);
void ns_plan_close(struct ns_plan *plan);
/* The config asks for this kind of namespace, new or joined (flag:
 * CLONE_NEW*). */
bool ns_plan_has(const struct ns_plan *plan, int flag);
/* setns into every joined namespace, the user namespace first. */
int ns_plan_join(const struct ns_plan *plan, struct husk_error *err);
/* Write uid_map, gid_map (and setgroups) of pid from the config, using
 * newuidmap/newgidmap when not root. */
int ns_write_id_maps(pid_t pid, const struct oci_config *cfg, struct husk_error *err);

/* The most lines the kernel takes in a uid_map or gid_map. */
#define ID_MAP_MAX_ENTRIES 340
/* maps as uid_map/gid_map text into out (reset first), or an error naming
 * field when there are too many entries or they exceed one write's size. */
int id_map_format(const oci_id_mappings *maps, const char *field, struct strbuf *out,
		  struct husk_error *err);
/* Every id map of the config (linux.*Mappings, mounts[].*Mappings) fits
 * what the kernel takes: checked before anything is created. */
int id_maps_check(const struct oci_config *cfg, struct husk_error *err);

#endif
