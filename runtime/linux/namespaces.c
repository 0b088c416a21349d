#include "runtime/linux/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Order matters: the user namespace is joined first so the others are
 * joined with its privileges. */
const struct ns_kind ns_kinds[] = {
	{ "user", "user", CLONE_NEWUSER },  { "pid", "pid", CLONE_NEWPID },
	{ "network", "net", CLONE_NEWNET }, { "ipc", "ipc", CLONE_NEWIPC },
	{ "uts", "uts", CLONE_NEWUTS },     { "mount", "mnt", CLONE_NEWNS },
	{ "cgroup", "cgroup", CLONE_NEWCGROUP }, { "time", "time", CLONE_NEWTIME },
};
const size_t ns_kinds_count = sizeof(ns_kinds) / sizeof(ns_kinds[0]);

const struct ns_kind *ns_kind_by_type(const char *type)
{
	for (size_t i = 0; i < ns_kinds_count; i++)
		if (strcmp(ns_kinds[i].type, type) == 0)
			return &ns_kinds[i];
	return NULL;
}

const struct oci_namespace *config_namespace(const struct oci_linux *lx, const char *type)
{
	for (size_t i = 0; lx && i < lx->namespaces.len; i++)
		if (lx->namespaces.items[i].type && strcmp(lx->namespaces.items[i].type, type) == 0)
			return &lx->namespaces.items[i];
	return NULL;
}

bool config_lists_namespace(const struct oci_config *cfg, const char *type)
{
	return config_namespace(cfg->linux, type) != NULL;
}

bool config_joins_namespace(const struct oci_linux *lx, const char *type)
{
	const struct oci_namespace *ns = config_namespace(lx, type);
	return ns && ns->path && ns->path[0];
}

void ns_plan_close(struct ns_plan *plan)
{
	for (size_t i = 0; i < ns_kinds_count; i++) {
		if (plan->join_fd[i] >= 0)
			close(plan->join_fd[i]);
		plan->join_fd[i] = -1;
	}
}

/* Whether the mount namespace of fd is the runtime's own or the host
 * init's: a "mount" entry whose path names one of them is no namespace of
 * the container's own. */
static bool is_host_mntns(int fd)
{
	static const char *const hosts[] = { "/proc/self/ns/mnt", "/proc/1/ns/mnt" };
	struct stat st, host;
	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (stat(hosts[i], &host) == 0 && host.st_dev == st.st_dev &&
		    host.st_ino == st.st_ino)
			return true;
	return false;
}

int ns_plan_build(const struct oci_config *cfg, struct ns_plan *plan, struct husk_error *err)
{
	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < ns_kinds_count; i++)
		plan->join_fd[i] = -1;
	if (cfg->linux == NULL)
		return 0;

	for (size_t i = 0; i < cfg->linux->namespaces.len; i++) {
		const struct oci_namespace *ns = &cfg->linux->namespaces.items[i];
		const struct ns_kind *kind = ns_kind_by_type(ns->type);
		if (kind == NULL) {
			ns_plan_close(plan);
			return err_set(err, EINVAL, "linux.namespaces[%zu]: unknown namespace type \"%s\"", i,
				       ns->type);
		}
		size_t k = (size_t)(kind - ns_kinds);
		if ((plan->new_flags & kind->flag) || plan->join_fd[k] >= 0) {
			ns_plan_close(plan);
			return err_set(err, EINVAL, "linux.namespaces[%zu]: the %s namespace is listed twice", i,
				       ns->type);
		}
		if (ns->path == NULL || ns->path[0] == '\0') {
			plan->new_flags |= kind->flag;
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			ns_plan_close(plan);
			return err_sys(err, e, "linux.namespaces[%zu]: open %s", i, ns->path);
		}
		int type = ioctl(fd, NS_GET_NSTYPE);
		if (type != kind->flag) {
			close(fd);
			ns_plan_close(plan);
			return err_set(err, EINVAL, "linux.namespaces[%zu]: %s is not a %s namespace", i, ns->path,
				       ns->type);
		}
		if (kind->flag == CLONE_NEWNS && is_host_mntns(fd)) {
			/* joining it would pivot the host's root: it is shared,
			 * as if unlisted (the container is only chrooted) */
			close(fd);
			continue;
		}
		plan->join_fd[k] = fd;
		plan->join_any = true;
	}
	return 0;
}

bool ns_plan_has(const struct ns_plan *plan, int flag)
{
	if (plan->new_flags & flag)
		return true;
	for (size_t i = 0; i < ns_kinds_count; i++)
		if (ns_kinds[i].flag == flag && plan->join_fd[i] >= 0)
			return true;
	return false;
}

int ns_plan_join(const struct ns_plan *plan, struct husk_error *err)
{
	for (size_t i = 0; i < ns_kinds_count; i++) {
		if (plan->join_fd[i] < 0)
			continue;
		if (setns(plan->join_fd[i], ns_kinds[i].flag) < 0)
			return err_sys(err, errno, "join the %s namespace", ns_kinds[i].type);
	}
	return 0;
}

int id_map_format(const oci_id_mappings *maps, const char *field, struct strbuf *out,
		  struct husk_error *err)
{
	if (maps->len > ID_MAP_MAX_ENTRIES)
		return err_set(err, E2BIG, "%s: %zu entries, at most %d", field, maps->len,
			       ID_MAP_MAX_ENTRIES);
	/* the kernel takes one write of less than a page */
	long page = sysconf(_SC_PAGESIZE);
	size_t max = page > 0 ? (size_t)page - 1 : 4095;
	sb_reset(out);
	out->max = max;
	for (size_t i = 0; i < maps->len; i++)
		sb_addf(out, "%u %u %u\n", maps->items[i].containerID, maps->items[i].hostID,
			maps->items[i].size);
	if (out->error == ENAMETOOLONG)
		return err_set(err, E2BIG, "%s: %zu entries take more than the %zu bytes the kernel "
					   "takes in one map",
			       field, maps->len, max);
	return sb_check(out, err, field);
}

int id_maps_check(const struct oci_config *cfg, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = 0;
	if (cfg->linux) {
		if ((r = id_map_format(&cfg->linux->uidMappings, "linux.uidMappings", &sb, err)) < 0 ||
		    (r = id_map_format(&cfg->linux->gidMappings, "linux.gidMappings", &sb, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < cfg->mounts.len; i++) {
		const struct oci_mount *m = &cfg->mounts.items[i];
		char field[64];
		snprintf(field, sizeof(field), "mounts[%zu].uidMappings", i);
		if ((r = id_map_format(&m->uidMappings, field, &sb, err)) < 0)
			return r;
		snprintf(field, sizeof(field), "mounts[%zu].gidMappings", i);
		if ((r = id_map_format(&m->gidMappings, field, &sb, err)) < 0)
			return r;
	}
	return 0;
}

/* Run newuidmap/newgidmap PID (containerID hostID size)... */
static int run_id_helper(const char *helper, const char *field, pid_t pid,
			 const oci_id_mappings *maps, struct husk_error *err)
{
	if (maps->len > ID_MAP_MAX_ENTRIES)
		return err_set(err, E2BIG, "%s: %zu entries, at most %d", field, maps->len,
			       ID_MAP_MAX_ENTRIES);
	/* a pid and 3 numbers per entry, each at most 10 digits and a NUL */
	size_t argc = 0, nargs = 2 + 3 * maps->len;
	_cleanup_free_ char **argv = calloc(nargs + 1, sizeof(char *));
	_cleanup_free_ char *nums = malloc(nargs * 12);
	if (argv == NULL || nums == NULL)
		return err_sys(err, ENOMEM, "%s", field);
	argv[argc++] = (char *)helper;
	char *num = nums;
	num += snprintf(num, 12, "%d", (int)pid) + 1;
	argv[argc++] = nums;
	for (size_t i = 0; i < maps->len; i++) {
		uint32_t v[3] = { maps->items[i].containerID, maps->items[i].hostID, maps->items[i].size };
		for (int j = 0; j < 3; j++) {
			argv[argc++] = num;
			num += snprintf(num, 12, "%u", v[j]) + 1;
		}
	}
	argv[argc] = NULL;
	pid_t child = fork();
	if (child < 0)
		return err_sys(err, errno, "%s: fork %s", field, helper);
	if (child == 0) {
		execvp(helper, argv);
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(err, errno, "%s: wait for %s", field, helper);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(err, ENOENT, "%s: cannot run %s (is it installed?)", field, helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, EPERM,
			       "%s: %s failed (status %d): is the mapping allowed by /etc/sub%cid?",
			       field, helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			       helper[3] == 'u' ? 'u' : 'g');
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *data, size_t len,
			   struct husk_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	int r = write_all(fd, data, len);
	if (r < 0)
		return err_sys(err, -r, "write %s", path);
	return 0;
}

int ns_write_id_maps(pid_t pid, const struct oci_config *cfg, struct husk_error *err)
{
	const struct oci_linux *lx = cfg->linux;
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	int r;

	if (lx == NULL || lx->uidMappings.len == 0 || lx->gidMappings.len == 0)
		return err_set(err, EINVAL,
			       "linux: a user namespace needs uidMappings and gidMappings");
	if (geteuid() != 0) {
		r = run_id_helper("newuidmap", "linux.uidMappings", pid, &lx->uidMappings, err);
		if (r == 0)
			r = run_id_helper("newgidmap", "linux.gidMappings", pid, &lx->gidMappings, err);
		return r;
	}
	if ((r = id_map_format(&lx->uidMappings, "linux.uidMappings", &buf, err)) < 0)
		return r;
	r = write_proc_file(pid, "uid_map", buf.buf, buf.len, err);
	if (r < 0)
		return err_prefix(err, "linux.uidMappings");
	if ((r = id_map_format(&lx->gidMappings, "linux.gidMappings", &buf, err)) < 0)
		return r;
	r = write_proc_file(pid, "gid_map", buf.buf, buf.len, err);
	if (r < 0)
		return err_prefix(err, "linux.gidMappings");
	return 0;
}
