#include "runtime/linux/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

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

void ns_plan_close(struct ns_plan *plan)
{
	for (size_t i = 0; i < ns_kinds_count; i++) {
		if (plan->join_fd[i] >= 0)
			close(plan->join_fd[i]);
		plan->join_fd[i] = -1;
	}
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

static int format_map(const oci_id_mappings *maps, char *buf, size_t size)
{
	size_t pos = 0;
	for (size_t i = 0; i < maps->len; i++) {
		int n = snprintf(buf + pos, size - pos, "%u %u %u\n", maps->items[i].containerID,
				 maps->items[i].hostID, maps->items[i].size);
		if (n < 0 || (size_t)n >= size - pos)
			return -E2BIG;
		pos += (size_t)n;
	}
	return (int)pos;
}

/* Run newuidmap/newgidmap PID (containerID hostID size)... */
static int run_id_helper(const char *helper, pid_t pid, const oci_id_mappings *maps,
			 struct husk_error *err)
{
	char *argv[3 + 3 * 64 + 1];
	char nums[3 * 64 + 1][16];
	size_t argc = 0;

	if (maps->len > 64)
		return err_set(err, E2BIG, "%s: too many mappings", helper);
	argv[argc++] = (char *)helper;
	snprintf(nums[0], sizeof(nums[0]), "%d", (int)pid);
	argv[argc++] = nums[0];
	for (size_t i = 0; i < maps->len; i++) {
		uint32_t v[3] = { maps->items[i].containerID, maps->items[i].hostID, maps->items[i].size };
		for (int j = 0; j < 3; j++) {
			snprintf(nums[1 + i * 3 + j], sizeof(nums[0]), "%u", v[j]);
			argv[argc++] = nums[1 + i * 3 + j];
		}
	}
	argv[argc] = NULL;
	pid_t child = fork();
	if (child < 0)
		return err_sys(err, errno, "fork %s", helper);
	if (child == 0) {
		execvp(helper, argv);
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, EPERM, "%s failed (status %d): is the mapping allowed by /etc/sub%cid?",
			       helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
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
	char buf[4096];
	int r;

	if (lx == NULL || lx->uidMappings.len == 0 || lx->gidMappings.len == 0)
		return err_set(err, EINVAL,
			       "linux: a user namespace needs uidMappings and gidMappings");
	if (geteuid() != 0) {
		r = run_id_helper("newuidmap", pid, &lx->uidMappings, err);
		if (r == 0)
			r = run_id_helper("newgidmap", pid, &lx->gidMappings, err);
		return r;
	}
	int n = format_map(&lx->uidMappings, buf, sizeof(buf));
	if (n < 0)
		return err_set(err, E2BIG, "linux.uidMappings: too many mappings");
	r = write_proc_file(pid, "uid_map", buf, (size_t)n, err);
	if (r < 0)
		return err_prefix(err, "linux.uidMappings");
	n = format_map(&lx->gidMappings, buf, sizeof(buf));
	if (n < 0)
		return err_set(err, E2BIG, "linux.gidMappings: too many mappings");
	r = write_proc_file(pid, "gid_map", buf, (size_t)n, err);
	if (r < 0)
		return err_prefix(err, "linux.gidMappings");
	return 0;
}
