#include "runtime/linux/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};
#define N_RLIMITS (sizeof(rlimits) / sizeof(rlimits[0]))

const char *const rlimit_names[] = {
	"RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",   "RLIMIT_DATA",   "RLIMIT_FSIZE",
	"RLIMIT_LOCKS",  "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
	"RLIMIT_NPROC",  "RLIMIT_RSS",    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
	"RLIMIT_STACK",
};
const size_t rlimit_count = N_RLIMITS;

static int rlimit_resource(const char *name)
{
	for (size_t i = 0; i < N_RLIMITS; i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].resource;
	return -1;
}

/* A capability number, or -1 for a name this kernel or libcap does not know. */
static int capability_value(const char *name)
{
	cap_value_t v;
	if (cap_from_name(name, &v) < 0)
		return -1;
	if (v > (cap_value_t)cap_max_bits() - 1)
		return -1;
	return (int)v;
}

static const char *const cap_set_names[] = { "bounding", "effective", "inheritable", "permitted",
					     "ambient" };

static const oci_strings *cap_set(const struct oci_capabilities *c, size_t i)
{
	const oci_strings *sets[] = { &c->bounding, &c->effective, &c->inheritable, &c->permitted,
				      &c->ambient };
	return sets[i];
}

int process_validate(const struct oci_process *p, struct husk_error *err)
{
	for (size_t i = 0; i < p->rlimits.len; i++) {
		if (rlimit_resource(p->rlimits.items[i].type) < 0)
			return err_set(err, EINVAL, "process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
				       p->rlimits.items[i].type);
		if (p->rlimits.items[i].soft > p->rlimits.items[i].hard)
			return err_set(err, EINVAL, "process.rlimits[%zu]: soft limit above the hard limit",
				       i);
	}
	if (p->capabilities) {
		for (size_t s = 0; s < 5; s++) {
			const oci_strings *set = cap_set(p->capabilities, s);
			for (size_t i = 0; i < set->len; i++) {
				const char *name = set->items[i];
				/* runc's behaviour: names this kernel lacks are skipped */
				if (strncmp(name, "CAP_", 4) != 0)
					return err_set(err, EINVAL,
						       "process.capabilities.%s[%zu]: \"%s\" is not a "
						       "capability name",
						       cap_set_names[s], i, name);
				if (capability_value(name) < 0)
					log_warn("process.capabilities.%s: ignoring unknown capability %s",
						 cap_set_names[s], name);
			}
		}
	}
	if (p->args.len == 0)
		return err_set(err, EINVAL, "process.args: must have at least one element");
	if (p->cwd[0] != '/')
		return err_set(err, EINVAL, "process.cwd: \"%s\" is not an absolute path", p->cwd);
	return 0;
}

static int apply_scheduler(const struct oci_scheduler *s, struct husk_error *err)
{
	static const struct {
		const char *name;
		unsigned policy;
	} policies[] = {
		{ "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO },
		{ "SCHED_RR", SCHED_RR },       { "SCHED_BATCH", SCHED_BATCH },
		{ "SCHED_ISO", 4 },             { "SCHED_IDLE", SCHED_IDLE },
		{ "SCHED_DEADLINE", 6 },
	};
	static const struct {
		const char *name;
		unsigned long long flag;
	} flags[] = {
		{ "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
		{ "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
		{ "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
		{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
	};
	/* struct sched_attr, SCHED_ATTR_SIZE_VER0 */
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} attr = { .size = 48 };
	bool found = false;

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(policies[i].name, s->policy) == 0) {
			attr.policy = policies[i].policy;
			found = true;
		}
	if (!found)
		return err_set(err, EINVAL, "process.scheduler.policy: unknown policy \"%s\"", s->policy);
	for (size_t i = 0; i < s->flags.len; i++) {
		found = false;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(flags[k].name, s->flags.items[i]) == 0) {
				attr.flags |= flags[k].flag;
				found = true;
			}
		if (!found)
			return err_set(err, EINVAL, "process.scheduler.flags[%zu]: unknown flag \"%s\"", i,
				       s->flags.items[i]);
	}
	attr.nice = s->nice;
	attr.priority = (uint32_t)s->priority;
	attr.runtime = s->runtime;
	attr.deadline = s->deadline;
	attr.period = s->period;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return err_sys(err, errno, "process.scheduler: sched_setattr %s", s->policy);
	return 0;
}

static int apply_ioprio(const struct oci_io_priority *io, struct husk_error *err)
{
	int class;
	if (strcmp(io->class, "IOPRIO_CLASS_RT") == 0)
		class = IOPRIO_CLASS_RT;
	else if (strcmp(io->class, "IOPRIO_CLASS_BE") == 0)
		class = IOPRIO_CLASS_BE;
	else if (strcmp(io->class, "IOPRIO_CLASS_IDLE") == 0)
		class = IOPRIO_CLASS_IDLE;
	else
		return err_set(err, EINVAL, "process.ioPriority.class: unknown class \"%s\"", io->class);
	if (io->priority < 0 || io->priority > 7)
		return err_set(err, EINVAL, "process.ioPriority.priority: %d is not in 0..7", io->priority);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(class, io->priority)) < 0)
		return err_sys(err, errno, "process.ioPriority: ioprio_set");
	return 0;
}

static int apply_personality(const struct oci_personality *pers, struct husk_error *err)
{
	unsigned long persona;
	if (strcmp(pers->domain, "LINUX") == 0)
		persona = PER_LINUX;
	else if (strcmp(pers->domain, "LINUX32") == 0)
		persona = PER_LINUX32;
	else
		return err_set(err, EINVAL, "linux.personality.domain: unknown domain \"%s\"", pers->domain);
	if (pers->flags.len)
		return err_set(err, EINVAL, "linux.personality.flags: no flags are supported");
	if (personality(persona) < 0)
		return err_sys(err, errno, "linux.personality");
	return 0;
}

int process_apply_limits(const struct oci_process *p, const struct oci_linux *lx, int procfd,
			 struct husk_error *err)
{
	for (size_t i = 0; i < p->rlimits.len; i++) {
		const struct oci_rlimit *rl = &p->rlimits.items[i];
		struct rlimit lim = { .rlim_cur = rl->soft, .rlim_max = rl->hard };
		if (setrlimit(rlimit_resource(rl->type), &lim) < 0)
			return err_sys(err, errno, "process.rlimits[%zu]: setrlimit %s", i, rl->type);
	}
	if (p->has_oomScoreAdj) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d", p->oomScoreAdj);
		_cleanup_close_ int fd = openat(procfd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, buf, (size_t)n) < 0)
			return err_sys(err, errno, "process.oomScoreAdj: write %d", p->oomScoreAdj);
	}
	if (p->scheduler) {
		int r = apply_scheduler(p->scheduler, err);
		if (r < 0)
			return r;
	}
	if (p->ioPriority) {
		int r = apply_ioprio(p->ioPriority, err);
		if (r < 0)
			return r;
	}
	if (lx && lx->personality) {
		int r = apply_personality(lx->personality, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_capabilities(const struct oci_capabilities *caps, struct husk_error *err)
{
	cap_t c = cap_init();
	if (c == NULL)
		return err_sys(err, errno, "capabilities");
	static const cap_flag_t flags[] = { 0, CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED };
	for (size_t s = 1; s <= 3; s++) {
		const oci_strings *set = cap_set(caps, s);
		for (size_t i = 0; i < set->len; i++) {
			int v = capability_value(set->items[i]);
			if (v < 0)
				continue;
			cap_value_t value = v;
			cap_set_flag(c, flags[s], 1, &value, CAP_SET);
		}
	}
	int r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	if (r < 0)
		return err_sys(err, e, "process.capabilities: set the effective, permitted and "
				       "inheritable sets");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_sys(err, errno, "clear ambient capabilities");
	for (size_t i = 0; i < caps->ambient.len; i++) {
		int v = capability_value(caps->ambient.items[i]);
		if (v < 0)
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)v, 0, 0) < 0)
			return err_sys(err, errno,
				       "process.capabilities.ambient: raise %s (it must also be "
				       "permitted and inheritable)",
				       caps->ambient.items[i]);
	}
	return 0;
}

static int drop_bounding(const struct oci_capabilities *caps, struct husk_error *err)
{
	int last = cap_max_bits() - 1;
	for (int v = 0; v <= last; v++) {
		bool keep = false;
		for (size_t i = 0; caps && i < caps->bounding.len && !keep; i++)
			keep = capability_value(caps->bounding.items[i]) == v;
		if (!keep && prctl(PR_CAPBSET_DROP, (unsigned long)v, 0, 0, 0) < 0 && errno != EINVAL)
			return err_sys(err, errno, "process.capabilities.bounding: drop %s",
				       cap_to_name(v));
	}
	return 0;
}

int process_drop_privileges(const struct oci_process *p, struct husk_error *err)
{
	uid_t uid = p->user ? p->user->uid : 0;
	gid_t gid = p->user ? p->user->gid : 0;
	int r;

	/* the bounding set needs CAP_SETPCAP: drop it while still root */
	if ((r = drop_bounding(p->capabilities, err)) < 0)
		return r;
	if (p->user && p->user->additionalGids.len) {
		if (setgroups(p->user->additionalGids.len, p->user->additionalGids.items) < 0)
			return err_sys(err, errno, "process.user.additionalGids: setgroups");
	} else if (setgroups(0, NULL) < 0 && errno != EPERM) {
		return err_sys(err, errno, "setgroups");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_sys(err, errno, "keep capabilities across setuid");
	if (setresgid(gid, gid, gid) < 0)
		return err_sys(err, errno, "process.user.gid: setgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		return err_sys(err, errno, "process.user.uid: setuid %u", uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_sys(err, errno, "reset keep-capabilities");
	struct oci_capabilities none = { 0 };
	if ((r = set_capabilities(p->capabilities ? p->capabilities : &none, err)) < 0)
		return r;
	if (p->noNewPrivileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(err, errno, "process.noNewPrivileges");
	return 0;
}

static const char *env_path(const struct oci_process *p)
{
	for (size_t i = 0; i < p->env.len; i++)
		if (strncmp(p->env.items[i], "PATH=", 5) == 0)
			return p->env.items[i] + 5;
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int process_find_executable(const struct oci_process *p, char *path, size_t size,
			    struct husk_error *err)
{
	const char *name = p->args.items[0];
	if (strchr(name, '/')) {
		struct stat st;
		snprintf(path, size, "%s", name);
		if (stat(path, &st) < 0)
			return err_sys(err, errno, "exec: \"%s\"", name);
		if (S_ISDIR(st.st_mode))
			return err_set(err, EACCES, "exec: \"%s\": is a directory", name);
		return 0;
	}
	const char *dirs = env_path(p);
	while (*dirs) {
		const char *end = strchrnul(dirs, ':');
		int n = (int)(end - dirs);
		snprintf(path, size, "%.*s%s%s", n, dirs, n ? "/" : "./", name);
		if (is_executable_file(path))
			return 0;
		dirs = *end ? end + 1 : end;
	}
	return err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

int process_chdir(const struct oci_process *p, struct husk_error *err)
{
	char cwd[4096];
	if (chdir(p->cwd) < 0)
		return err_sys(err, errno, "process.cwd: chdir %s", p->cwd);
	/* A cwd reached through a leaked fd or a path outside the root shows
	 * as "(unreachable)..." (CVE-2024-21626): refuse it. */
	if (getcwd(cwd, sizeof(cwd)) == NULL || cwd[0] != '/')
		return err_set(err, EPERM, "process.cwd: %s is outside the container's root", p->cwd);
	return 0;
}
