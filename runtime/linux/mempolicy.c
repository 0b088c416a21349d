#include "runtime/linux/mempolicy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"

/* the uapi's numbers (linux/mempolicy.h): older headers lack the newer ones */
enum {
	MODE_DEFAULT = 0,
	MODE_PREFERRED = 1,
	MODE_BIND = 2,
	MODE_INTERLEAVE = 3,
	MODE_LOCAL = 4,
	MODE_PREFERRED_MANY = 5,
	MODE_WEIGHTED_INTERLEAVE = 6,
};
#define FLAG_STATIC_NODES (1 << 15)
#define FLAG_RELATIVE_NODES (1 << 14)
#define FLAG_NUMA_BALANCING (1 << 13)

struct name_value {
	const char *name;
	int value;
};

static const struct name_value modes[] = {
	{ "MPOL_DEFAULT", MODE_DEFAULT },
	{ "MPOL_BIND", MODE_BIND },
	{ "MPOL_INTERLEAVE", MODE_INTERLEAVE },
	{ "MPOL_WEIGHTED_INTERLEAVE", MODE_WEIGHTED_INTERLEAVE },
	{ "MPOL_PREFERRED", MODE_PREFERRED },
	{ "MPOL_PREFERRED_MANY", MODE_PREFERRED_MANY },
	{ "MPOL_LOCAL", MODE_LOCAL },
};
static const struct name_value flags[] = {
	{ "MPOL_F_NUMA_BALANCING", FLAG_NUMA_BALANCING },
	{ "MPOL_F_RELATIVE_NODES", FLAG_RELATIVE_NODES },
	{ "MPOL_F_STATIC_NODES", FLAG_STATIC_NODES },
};
#define LEN(t) (sizeof(t) / sizeof((t)[0]))

const char *const mempolicy_mode_names[] = { "MPOL_DEFAULT",        "MPOL_BIND",
					     "MPOL_INTERLEAVE",     "MPOL_WEIGHTED_INTERLEAVE",
					     "MPOL_PREFERRED",      "MPOL_PREFERRED_MANY",
					     "MPOL_LOCAL",          NULL };
const char *const mempolicy_flag_names[] = { "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
					     "MPOL_F_STATIC_NODES", NULL };

static int lookup(const struct name_value *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

#define BITS (8 * sizeof(unsigned long))

/* "0-3,7" into mask; "" is no node. -1 when malformed or beyond the bound. */
static int parse_nodes(const char *list, unsigned long *mask, bool *any)
{
	const char *s = list;
	*any = false;
	memset(mask, 0, MEMPOLICY_MAX_NODES / 8);
	while (*s) {
		char *end;
		unsigned long first, last;
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		first = strtoul(s, &end, 10);
		last = first;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -1;
			last = strtoul(end + 1, &end, 10);
		}
		if (errno || last < first || last >= MEMPOLICY_MAX_NODES)
			return -1;
		for (unsigned long n = first; n <= last; n++)
			mask[n / BITS] |= 1UL << (n % BITS);
		*any = true;
		if (*end == ',' && end[1] != '\0')
			end++;
		else if (*end == '\n' && end[1] == '\0')
			break; /* the end of a sysfs file's line; nothing may follow */
		else if (*end != '\0')
			return -1;
		s = end;
	}
	return 0;
}

static const char *mode_needs_nodes(int mode)
{
	switch (mode) {
	case MODE_BIND:
	case MODE_INTERLEAVE:
	case MODE_WEIGHTED_INTERLEAVE:
	case MODE_PREFERRED_MANY:
		return "needs";
	case MODE_DEFAULT:
	case MODE_LOCAL:
		return "forbids";
	default:
		return NULL; /* MPOL_PREFERRED: none means the local node */
	}
}

int mempolicy_parse(const struct oci_memory_policy *mp, const char *online, struct mempolicy *out,
		    struct husk_error *err)
{
	memset(out, 0, sizeof(*out));
	int mode = lookup(modes, LEN(modes), mp->mode);
	if (mode < 0)
		return err_set(err, EINVAL,
			       "linux.memoryPolicy.mode: unknown mode \"%.64s\" (MPOL_DEFAULT, MPOL_BIND, "
			       "MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, "
			       "MPOL_PREFERRED_MANY or MPOL_LOCAL)",
			       mp->mode);
	int fl = 0;
	for (size_t i = 0; i < mp->flags.len; i++) {
		int f = lookup(flags, LEN(flags), mp->flags.items[i]);
		if (f < 0)
			return err_set(err, EINVAL,
				       "linux.memoryPolicy.flags[%zu]: unknown flag \"%.64s\" "
				       "(MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES or "
				       "MPOL_F_STATIC_NODES)",
				       i, mp->flags.items[i]);
		fl |= f;
	}
	if ((fl & FLAG_STATIC_NODES) && (fl & FLAG_RELATIVE_NODES))
		return err_set(err, EINVAL, "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and "
					    "MPOL_F_RELATIVE_NODES exclude each other");
	if ((fl & FLAG_NUMA_BALANCING) && mode != MODE_BIND)
		return err_set(err, EINVAL,
			       "linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING goes only with MPOL_BIND, "
			       "not %s", mp->mode);
	if ((mode == MODE_DEFAULT || mode == MODE_LOCAL) && fl)
		return err_set(err, EINVAL, "linux.memoryPolicy.flags: %s takes no flags", mp->mode);
	const char *nodes = mp->nodes ? mp->nodes : "";
	if (parse_nodes(nodes, out->nodes, &out->has_nodes) < 0)
		return err_set(err, EINVAL,
			       "linux.memoryPolicy.nodes: \"%.64s\" is not a node list (like 0-3,7, "
			       "nodes below %d)",
			       nodes, MEMPOLICY_MAX_NODES);
	const char *need = mode_needs_nodes(mode);
	if (need && need[0] == 'n' && !out->has_nodes)
		return err_set(err, EINVAL, "linux.memoryPolicy.nodes: %s needs at least one node",
			       mp->mode);
	if (need && need[0] == 'f' && out->has_nodes)
		return err_set(err, EINVAL, "linux.memoryPolicy.nodes: %s takes no nodes (got \"%.64s\")",
			       mp->mode, nodes);
	if (mode == MODE_PREFERRED && !out->has_nodes && (fl & (FLAG_STATIC_NODES | FLAG_RELATIVE_NODES)))
		return err_set(err, EINVAL, "linux.memoryPolicy.flags: %s without nodes takes no "
					    "MPOL_F_STATIC_NODES or MPOL_F_RELATIVE_NODES", mp->mode);
	/* relative and static node numbers need not name nodes that are online */
	if (online && out->has_nodes && !(fl & (FLAG_STATIC_NODES | FLAG_RELATIVE_NODES))) {
		unsigned long on[MEMPOLICY_MAX_NODES / BITS];
		bool any;
		if (parse_nodes(online, on, &any) == 0)
			for (unsigned n = 0; n < MEMPOLICY_MAX_NODES; n++)
				if ((out->nodes[n / BITS] >> (n % BITS) & 1) && !(on[n / BITS] >> (n % BITS) & 1))
					return err_set(err, EINVAL,
						       "linux.memoryPolicy.nodes: node %u is not online "
						       "on this host (online: %.64s)",
						       n, online);
	}
	out->mode_flags = mode | fl;
	return 0;
}

/* /sys/devices/system/node/online, or NULL (a kernel without NUMA) */
static char *online_nodes(char *buf, size_t size)
{
	int fd = open("/sys/devices/system/node/online", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

int mempolicy_validate(const struct oci_memory_policy *mp, struct husk_error *err)
{
	struct mempolicy pol;
	char online[512];
	return mempolicy_parse(mp, online_nodes(online, sizeof(online)), &pol, err);
}

int mempolicy_apply(const struct oci_memory_policy *mp, struct husk_error *err)
{
	struct mempolicy pol;
	int r = mempolicy_parse(mp, NULL, &pol, err);
	if (r < 0)
		return r;
	/* the kernel reads maxnode - 1 bits */
	if (syscall(SYS_set_mempolicy, pol.mode_flags, pol.has_nodes ? pol.nodes : NULL,
		    pol.has_nodes ? (unsigned long)MEMPOLICY_MAX_NODES + 1 : 0UL) < 0) {
		int e = errno;
		if (e == ENOSYS)
			return err_sys(err, e, "linux.memoryPolicy: this kernel has no NUMA support");
		return err_sys(err, e, "linux.memoryPolicy: set_mempolicy(%s, nodes \"%.64s\")",
			       mp->mode, mp->nodes ? mp->nodes : "");
	}
	return 0;
}
