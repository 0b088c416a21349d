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
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

/* A config name and the kernel value it stands for. */
struct named_value {
	const char *name;
	unsigned long value;
};
#define TABLE_LEN(t) (sizeof(t) / sizeof((t)[0]))

/* The value of name in table, or -1 when the table has no such name. */
static long lookup_name(const struct named_value *table, size_t len, const char *name)
{
	for (size_t i = 0; i < len; i++)
		if (strcmp(table[i].name, name) == 0)
			return (long)table[i].value;
	return -1;
}

static const struct named_value rlimits[] = {
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

const char *const rlimit_names[] = {
	"RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",   "RLIMIT_DATA",   "RLIMIT_FSIZE",
	"RLIMIT_LOCKS",  "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
	"RLIMIT_NPROC",  "RLIMIT_RSS",    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
	"RLIMIT_STACK",
};
const size_t rlimit_count = TABLE_LEN(rlimits);

static int rlimit_resource(const char *name)
{
	return (int)lookup_name(rlimits, TABLE_LEN(rlimits), name);
}

/* SCHED_ISO is reserved by the kernel and SCHED_DEADLINE has no glibc
 * name: their numbers are the uapi's. */
static const struct named_value sched_policies[] = {
	{ "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO },
	{ "SCHED_RR", SCHED_RR },       { "SCHED_BATCH", SCHED_BATCH },
	{ "SCHED_ISO", 4 },             { "SCHED_IDLE", SCHED_IDLE },
	{ "SCHED_DEADLINE", 6 },
};
static const struct named_value sched_flags[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
	{ "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
	{ "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};
static const struct named_value io_classes[] = {
	{ "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
	{ "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
	{ "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
};
static const struct named_value personality_domains[] = {
	{ "LINUX", PER_LINUX },
	{ "LINUX32", PER_LINUX32 },
};
/* the flag bits of personality(2) */
static const struct named_value personality_flags[] = {
	{ "UNAME26", UNAME26 },
	{ "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
	{ "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
	{ "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
	{ "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
	{ "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
	{ "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
	{ "SHORT_INODE", SHORT_INODE },
	{ "WHOLE_SECONDS", WHOLE_SECONDS },
	{ "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
	{ "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
};

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

/* OR of the values of every name in names; field names the array in errors. */
static int flags_value(const struct named_value *table, size_t len, const oci_strings *names,
		       const char *field, unsigned long *out, struct husk_error *err)
{
	*out = 0;
	for (size_t i = 0; i < names->len; i++) {
		long v = lookup_name(table, len, names->items[i]);
		if (v < 0)
			return err_set(err, EINVAL, "%s[%zu]: unknown flag \"%s\"", field, i,
				       names->items[i]);
		*out |= (unsigned long)v;
	}
	return 0;
}

int cpu_list_parse(const char *list, cpu_set_t *set, const char *field, struct husk_error *err)
{
	const char *s = list;
	CPU_ZERO(set);
	while (*s) {
		char *end;
		unsigned long first, last;
		if (*s < '0' || *s > '9')
			goto bad;
		first = strtoul(s, &end, 10);
		last = first;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			last = strtoul(end + 1, &end, 10);
		}
		if (last < first || last >= CPU_SETSIZE)
			goto bad;
		for (unsigned long cpu = first; cpu <= last; cpu++)
			CPU_SET(cpu, set);
		if (*end == ',' && end[1] != '\0')
			end++;
		else if (*end != '\0')
			goto bad;
		s = end;
	}
	return 0;
bad:
	return err_set(err, EINVAL, "%s: \"%s\" is not a CPU list (like 0-3,7, CPUs below %d)", field,
		       list, CPU_SETSIZE);
}

static int validate_rlimits(const struct oci_process *p, struct husk_error *err)
{
	for (size_t i = 0; i < p->rlimits.len; i++) {
		const struct oci_rlimit *rl = &p->rlimits.items[i];
		if (rlimit_resource(rl->type) < 0)
			return err_set(err, EINVAL, "process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
				       rl->type);
		if (rl->soft > rl->hard)
			return err_set(err, EINVAL, "process.rlimits[%zu]: soft limit above the hard limit",
				       i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->rlimits.items[k].type, rl->type) == 0)
				return err_set(err, EINVAL,
					       "process.rlimits[%zu].type: %s is already set by "
					       "process.rlimits[%zu]",
					       i, rl->type, k);
	}
	return 0;
}

static int validate_capabilities(const struct oci_capabilities *caps, struct husk_error *err)
{
	for (size_t s = 0; caps && s < 5; s++) {
		const oci_strings *set = cap_set(caps, s);
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
	return 0;
}

/* Names and ranges are checked here, before anything runs; what only the
 * kernel can judge (privilege, deadline parameters) fails at sched_setattr. */
static int validate_scheduler(const struct oci_scheduler *s, struct husk_error *err)
{
	unsigned long flags;
	long policy = lookup_name(sched_policies, TABLE_LEN(sched_policies), s->policy);
	if (policy < 0)
		return err_set(err, EINVAL, "process.scheduler.policy: unknown policy \"%s\"", s->policy);
	if (flags_value(sched_flags, TABLE_LEN(sched_flags), &s->flags, "process.scheduler.flags",
			&flags, err) < 0)
		return -EINVAL;
	if (s->nice < -20 || s->nice > 19)
		return err_set(err, EINVAL, "process.scheduler.nice: %d is not in -20..19", s->nice);
	bool realtime = policy == SCHED_FIFO || policy == SCHED_RR;
	if (realtime && (s->priority < 1 || s->priority > 99))
		return err_set(err, EINVAL, "process.scheduler.priority: %s needs a priority in 1..99, "
					    "not %d",
			       s->policy, s->priority);
	if (!realtime && s->priority != 0)
		return err_set(err, EINVAL, "process.scheduler.priority: %s takes no priority (only "
					    "SCHED_FIFO and SCHED_RR do), got %d",
			       s->policy, s->priority);
	/* sched(7): a period of 0 stands for the deadline */
	if (policy == 6 && (s->runtime == 0 || s->deadline < s->runtime ||
			    (s->period != 0 && s->period < s->deadline)))
		return err_set(err, EINVAL, "process.scheduler: SCHED_DEADLINE needs 0 < runtime <= "
					    "deadline <= period (or period 0), got runtime %llu, "
					    "deadline %llu, period %llu",
			       (unsigned long long)s->runtime, (unsigned long long)s->deadline,
			       (unsigned long long)s->period);
	return 0;
}

static int validate_io_priority(const struct oci_io_priority *io, struct husk_error *err)
{
	if (lookup_name(io_classes, TABLE_LEN(io_classes), io->class) < 0)
		return err_set(err, EINVAL, "process.ioPriority.class: unknown class \"%s\"", io->class);
	if (io->priority < 0 || io->priority > 7)
		return err_set(err, EINVAL, "process.ioPriority.priority: %d is not in 0..7", io->priority);
	return 0;
}

/* The persona linux.personality asks for (domain | flags). */
static int personality_value(const struct oci_personality *pers, unsigned long *persona,
			     struct husk_error *err)
{
	unsigned long flags;
	long domain = lookup_name(personality_domains, TABLE_LEN(personality_domains), pers->domain);
	if (domain < 0)
		return err_set(err, EINVAL, "linux.personality.domain: unknown domain \"%s\" (LINUX "
					    "or LINUX32)",
			       pers->domain);
	if (flags_value(personality_flags, TABLE_LEN(personality_flags), &pers->flags,
			"linux.personality.flags", &flags, err) < 0)
		return -EINVAL;
	*persona = (unsigned long)domain | flags;
	return 0;
}

int process_validate(const struct oci_process *p, const struct oci_linux *lx,
		     struct husk_error *err)
{
	int r;
	if ((r = validate_rlimits(p, err)) < 0 || (r = validate_capabilities(p->capabilities, err)) < 0)
		return r;
	if (p->scheduler && (r = validate_scheduler(p->scheduler, err)) < 0)
		return r;
	if (p->ioPriority && (r = validate_io_priority(p->ioPriority, err)) < 0)
		return r;
	if (p->execCPUAffinity) {
		cpu_set_t set;
		const struct oci_cpu_affinity *a = p->execCPUAffinity;
		if (a->initial && (r = cpu_list_parse(a->initial, &set,
						      "process.execCPUAffinity.initial", err)) < 0)
			return r;
		if (a->final &&
		    (r = cpu_list_parse(a->final, &set, "process.execCPUAffinity.final", err)) < 0)
			return r;
	}
	unsigned long persona;
	if (lx && lx->personality && (r = personality_value(lx->personality, &persona, err)) < 0)
		return r;
	if (p->args.len == 0)
		return err_set(err, EINVAL, "process.args: must have at least one element");
	if (p->cwd[0] != '/')
		return err_set(err, EINVAL, "process.cwd: \"%s\" is not an absolute path", p->cwd);
	return 0;
}

static int apply_scheduler(const struct oci_scheduler *s, struct husk_error *err)
{
	/* struct sched_attr, SCHED_ATTR_SIZE_VER0 */
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} attr = { .size = 48 };
	unsigned long flags;

	/* validated by process_validate */
	attr.policy = (uint32_t)lookup_name(sched_policies, TABLE_LEN(sched_policies), s->policy);
	if (flags_value(sched_flags, TABLE_LEN(sched_flags), &s->flags, "process.scheduler.flags",
			&flags, err) < 0)
		return -EINVAL;
	attr.flags = flags;
	attr.nice = s->nice;
	attr.priority = (uint32_t)s->priority;
	attr.runtime = s->runtime;
	attr.deadline = s->deadline;
	attr.period = s->period;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) {
		int e = errno;
		/* with CONFIG_RT_GROUP_SCHED a new cpu cgroup has no realtime
		 * time at all: say where to give it some */
		if (e == EPERM && (attr.policy == SCHED_FIFO || attr.policy == SCHED_RR))
			return err_sys(err, e, "process.scheduler: sched_setattr %s (a realtime "
					       "policy needs CAP_SYS_NICE and, with cgroup v1 cpu, "
					       "linux.resources.cpu.realtimeRuntime)",
				       s->policy);
		return err_sys(err, e, "process.scheduler: sched_setattr %s", s->policy);
	}
	return 0;
}

static int apply_ioprio(const struct oci_io_priority *io, struct husk_error *err)
{
	/* validated by process_validate */
	int class = (int)lookup_name(io_classes, TABLE_LEN(io_classes), io->class);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(class, io->priority)) < 0)
		return err_sys(err, errno, "process.ioPriority: ioprio_set %s %d", io->class,
			       io->priority);
	return 0;
}

static int apply_personality(const struct oci_personality *pers, struct husk_error *err)
{
	unsigned long persona;
	int r = personality_value(pers, &persona, err);
	if (r < 0)
		return r;
	if (personality(persona) < 0)
		return err_sys(err, errno, "linux.personality: set %s", pers->domain);
	return 0;
}

int process_set_affinity(pid_t pid, const char *list, const char *field, struct husk_error *err)
{
	cpu_set_t set;
	if (list == NULL || list[0] == '\0') {
		/* every CPU: the kernel keeps those the cpuset allows */
		memset(&set, 0xff, sizeof(set));
	} else if (cpu_list_parse(list, &set, field, err) < 0) {
		return -EINVAL;
	}
	if (sched_setaffinity(pid, sizeof(set), &set) < 0)
		return err_sys(err, errno, "%s: set the CPU affinity to \"%s\"", field,
			       list && list[0] ? list : "the container's CPUs");
	return 0;
}

int process_apply_limits(const struct oci_process *p, const struct oci_linux *lx, int procfd,
			 struct husk_error *err)
{
	for (size_t i = 0; i < p->rlimits.len; i++) {
		const struct oci_rlimit *rl = &p->rlimits.items[i];
		struct rlimit lim = { .rlim_cur = rl->soft, .rlim_max = rl->hard };
		if (setrlimit(rlimit_resource(rl->type), &lim) < 0)
			return err_sys(err, errno, "process.rlimits[%zu]: setrlimit %s soft %llu hard %llu%s",
				       i, rl->type, (unsigned long long)rl->soft,
				       (unsigned long long)rl->hard,
				       errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE; "
							"RLIMIT_NOFILE stops at fs.nr_open)"
						      : "");
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
		/* as runc and crun: bundles made by `runc spec` list ambient
		 * capabilities without inheritable ones, which the kernel refuses
		 * to raise; that is a warning, not a failed container */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)v, 0, 0) < 0)
			log_warn("process.capabilities.ambient: cannot raise %s (it must also be "
				 "permitted and inheritable): %s",
				 caps->ambient.items[i], strerror(errno));
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

/* fchown the pty on stdin/stdout/stderr to uid, keeping its group. */
static int own_pty(uid_t uid, struct husk_error *err)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return err_sys(err, errno, "process.terminal: stat fd %d", fd);
		/* Unix98 pty peers: majors 136-143 */
		if (!S_ISCHR(st.st_mode) || major(st.st_rdev) < 136 || major(st.st_rdev) > 143 ||
		    st.st_uid == uid)
			continue;
		if (fchown(fd, uid, (gid_t)-1) < 0)
			return err_sys(err, errno, "process.terminal: give the pty to uid %u", uid);
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
	/* the process's own pty belongs to its user (the group stays the
	 * devpts gid=), as runc leaves it: a non-root shell can then chmod it
	 * and mesg works. Only the pty husk made (terminal: true) is changed;
	 * plain stdio may be a host file or the host's terminal. */
	if (p->terminal && uid != 0 && (r = own_pty(uid, err)) < 0)
		return r;
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
