/* husk checkpoint: dump a running container's processes with CRIU into an
 * image directory; the container is deleted unless --leave-running or
 * --pre-dump. */
#include "runtime/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/criu.h"

int cr_option(const struct verb *v, int c, struct cr_opts *o)
{
	switch (c) {
	case 'i':
		o->image_path = optarg;
		return 0;
	case 'w':
		o->work_path = optarg;
		return 0;
	case 'T':
		o->tcp_established = true;
		return 0;
	case 'U':
		o->ext_unix_sk = true;
		return 0;
	case 'J':
		o->shell_job = true;
		return 0;
	case 'L':
		o->file_locks = true;
		return 0;
	case 'D':
		o->auto_dedup = true;
		return 0;
	case 'Z':
		o->lazy_pages = true;
		return 0;
	case 'M':
		if (criu_cg_mode_parse(optarg, &o->cg_mode) < 0)
			return verb_usage_error(v, "--manage-cgroups-mode: \"%s\" is not soft, full, "
						   "strict or ignore", optarg);
		return 0;
	case 'E':
		/* as runc: only the network namespace can be left empty */
		if (strcmp(optarg, "network") != 0)
			return verb_usage_error(v, "--empty-ns: \"%s\" is not supported (only "
						   "\"network\")", optarg);
		o->empty_ns |= CLONE_NEWNET;
		return 0;
	default:
		return c;
	}
}

int cr_open_dirs(const struct cr_opts *o, bool mkdir_images, int *image_fd, int *work_fd,
		 const char **work_path, struct husk_error *err)
{
	const char *images = o->image_path ? o->image_path : "checkpoint";
	*image_fd = *work_fd = -1;
	if (mkdir_images && mkdir(images, 0700) < 0 && errno != EEXIST)
		return err_sys(err, errno, "--image-path %s", images);
	*image_fd = open(images, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*image_fd < 0)
		return err_sys(err, errno, "--image-path %s", images);
	*work_path = o->work_path ? o->work_path : images;
	if (o->work_path && mkdir(o->work_path, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		close(*image_fd);
		*image_fd = -1;
		return err_sys(err, e, "--work-path %s", o->work_path);
	}
	*work_fd = open(*work_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*work_fd < 0) {
		int e = errno;
		close(*image_fd);
		*image_fd = -1;
		return err_sys(err, e, "--work-path %s", *work_path);
	}
	return 0;
}

struct dump_opts {
	struct cr_opts cr;
	const char *parent_path;
	bool leave_running, pre_dump;
};

/* net and pid namespaces the config names by path are external to the
 * dump: CRIU records them as "TYPE[INODE]:extRoot<Type>NS" and expects
 * them at restore (handed over as inherit_fd under that key). */
static int external_namespaces(const struct oci_config *cfg, char ext[2][96], size_t *n,
			       struct husk_error *err)
{
	*n = 0;
	for (size_t i = 0; cfg->linux && i < cfg->linux->namespaces.len; i++) {
		const struct oci_namespace *ns = &cfg->linux->namespaces.items[i];
		if (ns->path == NULL || ns->type == NULL)
			continue;
		const char *key = strcmp(ns->type, "network") == 0 ? "net"
				  : strcmp(ns->type, "pid") == 0   ? "pid"
								   : NULL;
		if (key == NULL)
			continue;
		struct stat st;
		if (stat(ns->path, &st) < 0)
			return err_sys(err, errno, "linux.namespaces: %s", ns->path);
		snprintf(ext[*n], sizeof(ext[0]), "%s[%llu]:extRoot%sNS", key,
			 (unsigned long long)st.st_ino, key[0] == 'n' ? "Net" : "Pid");
		(*n)++;
		if (*n == 2)
			break;
	}
	return 0;
}

/* target as a JSON string: quotes and backslashes escaped; a byte that is
 * not printable ASCII becomes '?' (only pipe names are read back). */
static void add_json_string(struct strbuf *b, const char *target)
{
	sb_addn(b, "\"", 1);
	for (const char *p = target; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			sb_addn(b, "\\", 1);
		sb_addn(b, ch >= 0x20 && ch < 0x7f ? p : "?", 1);
	}
	sb_addn(b, "\"", 1);
}

/* Whether the init's fd is on a mount of the container's own (its
 * mnt_id among those of its mount namespace). */
static bool on_container_mount(pid_t pid, int fd)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (read_small_at(AT_FDCWD, path, O_RDONLY, buf, sizeof(buf)) < 0)
		return true;
	const char *m = strstr(buf, "mnt_id:");
	if (m == NULL)
		return true;
	long id = strtol(m + 7, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	_cleanup_free_ char *info = NULL;
	size_t len;
	struct husk_error ignored;
	if (read_file_at(AT_FDCWD, path, 16 << 20, &info, &len, &ignored) < 0)
		return true;
	for (char *line = info; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strtol(line, NULL, 10) == id)
			return true;
	return false;
}

/* descriptors.json: what the init's fds 0, 1 and 2 are now, as runc
 * records them for its restore: the link's target ("pipe:[N]",
 * "/dev/null", "" for a closed one). With --shell-job, a terminal from
 * outside the container (the shell's) is named as CRIU knows an external
 * one, "tty[RDEV:DEV]", and made external to the dump (ext_tty, one
 * entry per terminal): restore hands its own terminal over in its place. */
static int write_descriptors(int image_fd, pid_t pid, bool shell_job, char ext_tty[3][48],
			     size_t *n_ext_tty, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf json = STRBUF_INIT;
	*n_ext_tty = 0;
	sb_addn(&json, "[", 1);
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		struct stat st;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (shell_job && n > 0 && stat(link, &st) == 0 && S_ISCHR(st.st_mode) &&
		    !on_container_mount(pid, fd)) {
			snprintf(target, sizeof(target), "tty[%llx:%llx]", (unsigned long long)st.st_rdev,
				 (unsigned long long)st.st_dev);
			bool seen = false;
			for (size_t i = 0; i < *n_ext_tty; i++)
				seen |= strcmp(ext_tty[i], target) == 0;
			if (!seen)
				snprintf(ext_tty[(*n_ext_tty)++], 48, "%s", target);
		}
		if (fd)
			sb_addn(&json, ",", 1);
		add_json_string(&json, target);
	}
	sb_addn(&json, "]\n", 2);
	int r = sb_check(&json, err, DESCRIPTORS_FILE);
	if (r < 0)
		return r;
	return write_file_atomic(image_fd, DESCRIPTORS_FILE, json.buf, json.len, 0600, err);
}

static int do_checkpoint(const struct husk_globals *g, const char *id, const struct dump_opts *o,
			 struct husk_error *err)
{
	int rootfd = -1, image_fd = -1, work_fd = -1;
	struct container *ct = NULL;
	struct oci_config *cfg = NULL;
	struct criu_mounts mounts = { 0 };
	_cleanup_strbuf_ struct strbuf freezer = STRBUF_INIT;
	char ext[2][96], ext_tty[3][48];
	const char *externals[5];
	size_t n_ext = 0, n_ext_tty = 0;
	const char *work_path = NULL;
	struct criu_resp resp;
	struct criu_opts co;
	struct criu_call call;
	int r;

	if ((r = open_root_for(g, id, &rootfd, err)) < 0)
		return r;
	if ((r = container_load(rootfd, id, true, &ct, err)) < 0)
		goto out;
	if (ct->status != STATUS_RUNNING && ct->status != STATUS_PAUSED) {
		r = err_set(err, EINVAL, "cannot checkpoint container \"%s\": it is %s, not running",
			    id, status_name(ct->status));
		goto out;
	}
	if (ct->state->rootless) {
		r = err_set(err, EPERM, "cannot checkpoint container \"%s\": CRIU needs root, and the "
					"container is rootless", id);
		goto out;
	}
	if ((r = container_config(ct, &cfg, err)) < 0)
		goto out;
	if ((r = external_namespaces(cfg, ext, &n_ext, err)) < 0)
		goto out;
	for (size_t i = 0; i < n_ext; i++)
		externals[i] = ext[i];
	/* a pre-dump takes memory only: no mounts (as runc) */
	if (!o->pre_dump &&
	    (r = criu_mounts_for(cfg, ct->state->bundle, ct->state->pid, false, &mounts, err)) < 0)
		goto out;
	if ((r = cr_open_dirs(&o->cr, true, &image_fd, &work_fd, &work_path, err)) < 0)
		goto out;
	if (!o->pre_dump && (r = write_descriptors(image_fd, ct->state->pid, o->cr.shell_job, ext_tty,
						   &n_ext_tty, err)) < 0)
		goto out;
	for (size_t i = 0; i < n_ext_tty; i++)
		externals[n_ext++] = ext_tty[i];
	/* CRIU freezes the cgroup (cgroup v2 freezer since CRIU 3.14) rather
	 * than stopping each task with ptrace */
	if (ct->state->cgroup_path) {
		const char *mnt = cgroup_mount(cgroup_mode() == CGROUP_V2 ? "unified" : "freezer");
		if (mnt) {
			sb_addf(&freezer, "%s%s", mnt, ct->state->cgroup_path);
			if ((r = sb_check(&freezer, err, "the freezer cgroup")) < 0)
				goto out;
		}
	}

	co = (struct criu_opts){
		.images_dir_fd = image_fd,
		.work_dir_fd = work_fd,
		.pid = ct->state->pid,
		.leave_running = o->leave_running,
		.ext_unix_sk = o->cr.ext_unix_sk,
		.tcp_established = o->cr.tcp_established,
		.shell_job = o->cr.shell_job,
		.file_locks = o->cr.file_locks,
		.auto_dedup = o->cr.auto_dedup,
		.lazy_pages = o->cr.lazy_pages,
		.empty_ns = o->cr.empty_ns,
		/* a pty slave whose master is outside (the console socket's
		 * receiver) is dumped; the restore makes a new master */
		.orphan_pts_master = true,
		.manage_cgroups = true,
		.manage_cgroups_mode = o->cr.cg_mode,
		.log_level = 4,
		.log_file = o->pre_dump ? "pre-dump.log" : "dump.log",
		.root = ct->state->rootfs,
		.parent_img = o->parent_path,
		.track_mem = o->parent_path != NULL || o->pre_dump,
		.freeze_cgroup = freezer.len ? freezer.buf : NULL,
		.ext_mnt = mounts.kv,
		.n_ext_mnt = mounts.n,
		.external = externals,
		.n_external = n_ext,
	};
	call = (struct criu_call){
		.criu = g->criu ? g->criu : "criu",
		.type = o->pre_dump ? CRIU_REQ_PRE_DUMP : CRIU_REQ_DUMP,
		.opts = &co,
		.work_dir = work_path,
	};
	if ((r = criu_call(&call, &resp, err)) < 0) {
		err_prefix(err, "checkpoint \"%s\"", id);
		goto out;
	}
	if (o->pre_dump || o->leave_running)
		goto out;
	/* the dump ended the container's processes: the container goes, as
	 * with runc */
	container_refresh_status(ct);
	r = lifecycle_delete(rootfd, ct, true, err);
out:
	criu_mounts_free(&mounts);
	if (image_fd >= 0)
		close(image_fd);
	if (work_fd >= 0)
		close(work_fd);
	container_free(ct);
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

static int checkpoint_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		CR_COMMON_OPTIONS,
		{ "leave-running", no_argument, NULL, 'R' },
		{ "pre-dump", no_argument, NULL, 'P' },
		{ "parent-path", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct dump_opts o = { 0 };
	int c;

	while ((c = verb_getopt(&verb_checkpoint, argc, argv, opts)) != -1) {
		if ((c = cr_option(&verb_checkpoint, c, &o.cr)) == 0)
			continue;
		if (c == 'R')
			o.leave_running = true;
		else if (c == 'P')
			o.pre_dump = true;
		else if (c == 'p')
			o.parent_path = optarg;
		else
			return c;
	}
	if ((c = verb_need_args(&verb_checkpoint, argc, 1, "a container id")) != 0)
		return c;
	return do_checkpoint(g, argv[optind], &o, err);
}

const struct verb verb_checkpoint = {
	.name = "checkpoint",
	.run = checkpoint_run,
	.summary = "checkpoint a running container with CRIU",
	.usage = "[OPTIONS] ID\n\n" CR_COMMON_USAGE
		 "  --leave-running        keep the container running after the checkpoint\n"
		 "  --pre-dump             dump memory only, the container keeps running\n"
		 "  --parent-path DIR      a previous (pre-)dump, relative to the image path",
};
