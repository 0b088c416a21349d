/* The process settings of config.json applied to the calling process:
 * rlimits, scheduling, I/O priority, personality, oom_score_adj, user and
 * groups, capabilities, no_new_privs; and the exec itself. */
#ifndef HUSK_LINUX_PROCESS_H
#define HUSK_LINUX_PROCESS_H

#include <sched.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* Settings that need privilege and may fail on bad values: called before
 * the container is reported created. procfd is the runtime's own procfs. */
int process_apply_limits(const struct oci_process *p, const struct oci_linux *lx, int procfd,
			 struct husk_error *err);
/* Check every name and range of the process settings and of lx's
 * personality (clear errors naming the field before anything runs). */
int process_validate(const struct oci_process *p, const struct oci_linux *lx,
		     struct husk_error *err);
/* Parse a CPU list like "0-3,7" into set; field names it in errors. */
int cpu_list_parse(const char *list, cpu_set_t *set, const char *field, struct husk_error *err);
/* Set pid's CPU affinity to list; NULL or "" means every CPU the cpuset
 * allows. */
int process_set_affinity(pid_t pid, const char *list, const char *field, struct husk_error *err);
/* Groups, uid/gid, capabilities, no_new_privs: the last steps before exec. */
int process_drop_privileges(const struct oci_process *p, struct husk_error *err);
/* Find args[0] in the container's PATH (from env). path receives the
 * result. Errors read like runc's: exec: "x": executable file not found in $PATH */
int process_find_executable(const struct oci_process *p, char *path, size_t size,
			    struct husk_error *err);
/* chdir to cwd and check the result is a real directory inside the root. */
int process_chdir(const struct oci_process *p, struct husk_error *err);

extern const char *const rlimit_names[];
extern const size_t rlimit_count;

#endif
