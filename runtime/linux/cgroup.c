#include "runtime/linux/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "common/log.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270

/* The v1 hierarchies husk places a container in, when the host has them. */
static const char *const v1_controllers[] = {
	"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
	"pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", "systemd",
};
#define N_V1 (sizeof(v1_controllers) / sizeof(v1_controllers[0]))

enum cgroup_mode cgroup_mode(void)
{
	static int mode = -1;
	struct statfs sfs;

	if (mode >= 0)
		return (enum cgroup_mode)mode;
	if (statfs(CGROUP_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_MAGIC)
		mode = CGROUP_V2;
	else if (statfs(CGROUP_ROOT "/unified", &sfs) == 0 && sfs.f_type == CGROUP2_MAGIC)
		mode = CGROUP_HYBRID;
	else
		mode = CGROUP_V1;
	return (enum cgroup_mode)mode;
}

/* husk's own cgroup (v2 line "0::/path", or the v1 memory/pids line). */
static int own_cgroup(char *out, size_t size)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct husk_error e;
	snprintf(out, size, "/");
	if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &buf, &len, &e) < 0)
		return -1;
	const char *want = cgroup_mode() == CGROUP_V2 ? "0::" : NULL;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		if (want ? strncmp(line, want, 3) == 0 : strstr(c1, ":memory:") == c1) {
			snprintf(out, size, "%s", c2 + 1);
			return 0;
		}
	}
	snprintf(out, size, "/");
	return 0;
}

/* systemd's cgroup path for "slice:prefix:name": each dash of the slice
 * name opens a level ("a-b.slice" is /a.slice/a-b.slice), and the
 * container is the scope "prefix-name.scope" (or a slice, if name is one). */
static int systemd_path(const char *spec, const char *id, char *out, size_t size,
			struct husk_error *err)
{
	char slice[256], prefix[256], name[256];
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || strchr(c2 + 1, ':') || strchr(spec, '/') ||
	    (size_t)(c1 - spec) >= sizeof(slice) || (size_t)(c2 - c1 - 1) >= sizeof(prefix) ||
	    strlen(c2 + 1) >= sizeof(name))
		return err_set(err, EINVAL,
			       "linux.cgroupsPath: \"%s\" is not slice:prefix:name (--systemd-cgroup)",
			       spec);
	snprintf(slice, sizeof(slice), "%.*s", (int)(c1 - spec), spec);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	snprintf(name, sizeof(name), "%s", *(c2 + 1) ? c2 + 1 : id);
	if (slice[0] == '\0')
		snprintf(slice, sizeof(slice), "system.slice");
	size_t len = strlen(slice);
	if (len <= 6 || strcmp(slice + len - 6, ".slice") != 0 || slice[0] == '-' ||
	    strstr(slice, "--") || slice[len - 7] == '-')
		return err_set(err, EINVAL, "linux.cgroupsPath: \"%s\": \"%s\" is not a slice name", spec,
			       slice);
	size_t pos = 0;
	out[0] = '\0';
	if (strcmp(slice, "-.slice") != 0) {
		for (const char *dash = slice;; dash++) {
			dash = strchr(dash, '-');
			size_t n = dash ? (size_t)(dash - slice) : len - 6;
			pos += (size_t)snprintf(out + pos, size - pos, "/%.*s.slice", (int)n, slice);
			if (dash == NULL || pos >= size)
				break;
		}
	}
	size_t nlen = strlen(name);
	if (nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0)
		snprintf(out + pos, size - pos, "/%s", name);
	else
		snprintf(out + pos, size - pos, "/%s%s%s.scope", prefix, *prefix ? "-" : "", name);
	return 0;
}

int cgroup_path_for(const struct oci_config *cfg, const char *id, bool systemd, char *out,
		    size_t size, struct husk_error *err)
{
	const char *p = cfg->linux ? cfg->linux->cgroupsPath : NULL;
	if (systemd)
		return systemd_path(p && *p ? p : "system.slice:husk:", id, out, size, err);
	if (p == NULL || *p == '\0') {
		snprintf(out, size, "/%s", id);
		return 0;
	}
	if (strstr(p, "..") != NULL)
		return err_set(err, EINVAL, "linux.cgroupsPath: \"%s\" must not contain \"..\"", p);
	if (p[0] == '/') {
		snprintf(out, size, "%s", p);
		return 0;
	}
	char own[4096];
	own_cgroup(own, sizeof(own));
	snprintf(out, size, "%s%s%s", own, own[strlen(own) - 1] == '/' ? "" : "/", p);
	return 0;
}

static int write_file(const char *dir, const char *file, const char *value, struct husk_error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	int r = write_all(fd, value, strlen(value));
	close(fd);
	if (r < 0)
		return err_sys(err, -r, "write \"%s\" to %s", value, path);
	return 0;
}

static int mkdir_p(const char *path)
{
	/* the parents nearly always exist: try the leaf first */
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + strlen(CGROUP_ROOT) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0)
		return -errno;
	return 0;
}

/* v1 cpuset starts empty: copy cpus and mems down from the nearest parent
 * that has them, or no task can join. fresh: dir was just made, so it is
 * empty without reading it. */
static int cpuset_init(const char *dir, bool fresh, struct husk_error *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < 2; i++) {
		char parent[4096], *buf = NULL;
		size_t len;
		struct husk_error ignored;
		snprintf(parent, sizeof(parent), "%s", dir);
		for (;;) {
			char *slash = strrchr(parent, '/');
			if (slash == NULL || slash == parent)
				break;
			*slash = '\0';
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
			if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, &ignored) == 0 && len > 1)
				break;
			free(buf);
			buf = NULL;
		}
		if (buf == NULL)
			continue;
		/* fill each level between that parent and dir */
		char level[4096];
		size_t base = strlen(parent);
		snprintf(level, sizeof(level), "%s", dir);
		for (char *p = level + base + 1;; p++) {
			bool end = *p == '\0';
			if (*p == '/' || end) {
				char saved = *p;
				*p = '\0';
				char path[4200];
				snprintf(path, sizeof(path), "%s/%s", level, files[i]);
				_cleanup_free_ char *cur = NULL;
				size_t clen;
				if ((end && fresh) ||
				    (read_file_at(AT_FDCWD, path, 4096, &cur, &clen, &ignored) == 0 && clen <= 1)) {
					int r = write_file(level, files[i], buf, err);
					if (r < 0) {
						free(buf);
						return r;
					}
				}
				*p = saved;
			}
			if (end)
				break;
		}
		free(buf);
	}
	return 0;
}

static void v1_dir(const char *controller, const char *path, char *out, size_t size)
{
	snprintf(out, size, CGROUP_ROOT "/%s%s", controller, path);
}

/* Whether the host mounts this v1 hierarchy; looked up once per process
 * (run asks for every controller on create, join and delete), from one
 * listing of /sys/fs/cgroup: a directory is there, a symlink ("cpu" ->
 * "cpu,cpuacct") is followed. */
static bool v1_has(const char *controller)
{
	static signed char known[N_V1]; /* 0 unknown, 1 present, -1 absent */
	static bool listed;
	size_t i = 0;
	while (i < N_V1 && strcmp(v1_controllers[i], controller) != 0)
		i++;
	if (i < N_V1 && !listed) {
		listed = true;
		DIR *d = opendir(CGROUP_ROOT);
		if (d) {
			bool seen[N_V1] = { false };
			for (struct dirent *e; (e = readdir(d)) != NULL;) {
				for (size_t k = 0; k < N_V1; k++) {
					if (strcmp(e->d_name, v1_controllers[k]) != 0)
						continue;
					seen[k] = true;
					/* a symlink, or a file system without d_type: stat below */
					if (e->d_type == DT_DIR)
						known[k] = 1;
				}
			}
			closedir(d);
			for (size_t k = 0; k < N_V1; k++)
				if (!seen[k])
					known[k] = -1;
		}
	}
	if (i < N_V1 && known[i])
		return known[i] > 0;
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), CGROUP_ROOT "/%s", controller);
	bool has = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (i < N_V1)
		known[i] = has ? 1 : -1;
	return has;
}

void cgroup_join_close(struct cgroup_join *j)
{
	if (j->dirfd >= 0)
		close(j->dirfd);
	for (size_t i = 0; i < j->n_tasks; i++)
		close(j->tasks[i]);
	j->dirfd = -1;
	j->n_tasks = 0;
}

int cgroup_join_open(const char *path, struct cgroup_join *j, struct husk_error *err)
{
	char dir[4096], file[4200];

	j->dirfd = -1;
	j->n_tasks = 0;
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(dir, sizeof(dir), CGROUP_ROOT "%s", path);
		j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (j->dirfd < 0)
			return err_sys(err, errno, "open cgroup %s", dir);
		return 0;
	}
	for (size_t i = 0; i < N_V1 && j->n_tasks < CGROUP_MAX_HIERARCHIES; i++) {
		if (!v1_has(v1_controllers[i]))
			continue;
		v1_dir(v1_controllers[i], path, dir, sizeof(dir));
		snprintf(file, sizeof(file), "%s/tasks", dir);
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			cgroup_join_close(j);
			return err_sys(err, e, "open %s", file);
		}
		j->tasks[j->n_tasks++] = fd;
	}
	return 0;
}

/* Whether a v1 hierarchy (the directory a controller's name leads to:
 * "cpu" -> "cpu,cpuacct") holds the controller a --cgroup names. */
static bool v1_hierarchy_has(const char *controller, const char *want)
{
	char link[256], name[256];
	struct husk_error ignored;
	if (fmt_into(link, sizeof(link), &ignored, "cgroup", CGROUP_ROOT "/%s", controller) < 0)
		return false;
	ssize_t n = readlink(link, name, sizeof(name) - 1);
	if (n < 0)
		fmt_into(name, sizeof(name), &ignored, "cgroup", "%s", controller);
	else
		name[n] = '\0';
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (strncmp(want, "name=", 5) == 0)
		want += 5;
	size_t wl = strlen(want);
	for (const char *c = base; *c;) {
		size_t l = strcspn(c, ",");
		if (l == wl && strncmp(c, want, wl) == 0)
			return true;
		c += l + (c[l] == ',');
	}
	return false;
}

int cgroup_join_open_sub(const char *path, const struct cgroup_sub *subs, size_t n_subs,
			 struct cgroup_join *j, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
	bool used[CGROUP_MAX_SUBS] = { false };
	int r;

	j->dirfd = -1;
	j->n_tasks = 0;
	if (n_subs > CGROUP_MAX_SUBS)
		return err_set(err, E2BIG, "--cgroup: more than %d given", CGROUP_MAX_SUBS);
	if (cgroup_mode() == CGROUP_V2) {
		if (n_subs != 1 || subs[0].controller[0])
			return err_set(err, EINVAL, "--cgroup: on cgroup v2 give one PATH, no CONTROLLER:");
		sb_addf(&file, CGROUP_ROOT "%s/%s", path, subs[0].path);
		if ((r = sb_check(&file, err, "--cgroup")) < 0)
			return r;
		j->dirfd = open(file.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (j->dirfd < 0)
			return err_sys(err, errno, "--cgroup: open %s", file.buf);
		return 0;
	}
	for (size_t i = 0; i < N_V1 && j->n_tasks < CGROUP_MAX_HIERARCHIES; i++) {
		if (!v1_has(v1_controllers[i]))
			continue;
		const char *sub = NULL;
		for (size_t k = 0; k < n_subs; k++) {
			if (!subs[k].controller[0] || v1_hierarchy_has(v1_controllers[i], subs[k].controller)) {
				used[k] = true;
				/* a named controller wins over the path for every one */
				if (sub == NULL || subs[k].controller[0])
					sub = subs[k].path;
			}
		}
		sb_reset(&file);
		sb_addf(&file, CGROUP_ROOT "/%s%s%s%s/tasks", v1_controllers[i], path, sub ? "/" : "",
			sub ? sub : "");
		if ((r = sb_check(&file, err, "--cgroup")) < 0)
			goto fail;
		int fd = open(file.buf, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			r = err_sys(err, errno, "%sopen %s", sub ? "--cgroup: " : "", file.buf);
			goto fail;
		}
		j->tasks[j->n_tasks++] = fd;
	}
	for (size_t k = 0; k < n_subs; k++) {
		if (!used[k]) {
			r = err_set(err, ENOENT, "--cgroup: no cgroup hierarchy of the container has controller \"%s\"",
				    subs[k].controller);
			goto fail;
		}
	}
	return 0;
fail:
	cgroup_join_close(j);
	return r;
}

int cgroup_join_self(struct cgroup_join *j, bool placed, struct husk_error *err)
{
	int r = 0;
	for (size_t i = 0; i < j->n_tasks && r == 0; i++) {
		if (write(j->tasks[i], "0", 1) != 1)
			r = err_sys(err, errno, "join the container's cgroup (v1 tasks)");
	}
	if (r == 0 && j->dirfd >= 0 && !placed) {
		/* clone3 could not place us (kernel before 5.7) */
		_cleanup_close_ int fd = openat(j->dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			r = err_sys(err, errno, "join the container's cgroup (cgroup.procs)");
	}
	cgroup_join_close(j);
	return r;
}

int cgroup_create(const char *path, const struct oci_config *cfg, struct cgroup_join *j,
		  struct husk_error *err)
{
	char dir[4096];
	int r;

	j->dirfd = -1;
	j->n_tasks = 0;
	if (cfg->linux && ((r = cgroup_check_resources(cfg->linux->resources, err)) < 0 ||
			   (r = cgroup_check_devices(cfg, err)) < 0))
		return r;
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(dir, sizeof(dir), CGROUP_ROOT "%s", path);
		r = mkdir_p(dir);
		if (r < 0 && r != -EEXIST)
			return err_sys(err, -r, "create cgroup %s", dir);
		const struct oci_resources *res = cfg->linux ? cfg->linux->resources : NULL;
		if ((r = cgroup_apply_resources(path, res, err)) < 0 ||
		    (r = cgroup_apply_devices(path, cfg, err)) < 0 ||
		    (r = cgroup_join_open(path, j, err)) < 0) {
			rmdir(dir);
			return r;
		}
		return 0;
	}
	for (size_t i = 0; i < N_V1; i++) {
		if (!v1_has(v1_controllers[i]))
			continue;
		v1_dir(v1_controllers[i], path, dir, sizeof(dir));
		r = mkdir_p(dir);
		if (r < 0 && r != -EEXIST) {
			err_sys(err, -r, "create cgroup %s", dir);
			goto fail;
		}
		if (strcmp(v1_controllers[i], "cpuset") == 0 && (r = cpuset_init(dir, r == 0, err)) < 0)
			goto fail;
	}
	/* Limits are in place before the first process can allocate or fork,
	 * and before it joins: v1 device rules are written deny-all first, then
	 * the allows one by one, and an init that joined midway would have its
	 * mknod of /dev/null refused. */
	if ((r = cgroup_apply_resources(path, cfg->linux ? cfg->linux->resources : NULL, err)) < 0 ||
	    (v1_has("devices") && (r = cgroup_apply_devices(path, cfg, err)) < 0) ||
	    (r = cgroup_join_open(path, j, err)) < 0)
		goto fail;
	return 0;
fail: {
	struct husk_error ignored;
	cgroup_destroy(path, &ignored);
}
	return r;
}

/* The directory that lists the container's processes. */
static void procs_dir(const char *path, char *out, size_t size)
{
	if (cgroup_mode() == CGROUP_V2)
		snprintf(out, size, CGROUP_ROOT "%s", path);
	else if (v1_has("pids"))
		v1_dir("pids", path, out, size);
	else
		v1_dir("memory", path, out, size);
}

int cgroup_pids(const char *path, pid_t **pids, size_t *count, struct husk_error *err)
{
	char dir[4096], file[4200];
	_cleanup_free_ char *buf = NULL;
	size_t len;

	procs_dir(path, dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	int r = read_file_at(AT_FDCWD, file, 1 << 22, &buf, &len, err);
	if (r < 0)
		return r;
	size_t n = 0, cap = 16;
	pid_t *out = malloc(cap * sizeof(pid_t));
	if (out == NULL)
		return err_sys(err, ENOMEM, "cgroup pids");
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			pid_t *grown = realloc(out, (cap *= 2) * sizeof(pid_t));
			if (grown == NULL) {
				free(out);
				return err_sys(err, ENOMEM, "cgroup pids");
			}
			out = grown;
		}
		out[n++] = (pid_t)atoi(line);
	}
	*pids = out;
	*count = n;
	return 0;
}

static void kill_all(const char *path)
{
	pid_t *pids = NULL;
	size_t n = 0;
	struct husk_error ignored;
	if (cgroup_pids(path, &pids, &n, &ignored) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
}

static int remove_dir(const char *dir)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	for (int attempt = 0; attempt < 100; attempt++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&pause, NULL);
	}
	return -EBUSY;
}

int cgroup_destroy(const char *path, struct husk_error *err)
{
	char dir[4096];
	int result = 0;

	if (path == NULL || *path == '\0' || strcmp(path, "/") == 0)
		return 0;
	kill_all(path);
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(dir, sizeof(dir), CGROUP_ROOT "%s", path);
		int r = remove_dir(dir);
		return r < 0 ? err_sys(err, -r, "remove cgroup %s", dir) : 0;
	}
	for (size_t i = 0; i < N_V1; i++) {
		if (!v1_has(v1_controllers[i]))
			continue;
		v1_dir(v1_controllers[i], path, dir, sizeof(dir));
		int r = remove_dir(dir);
		if (r < 0 && result == 0)
			result = err_sys(err, -r, "remove cgroup %s", dir);
	}
	return result;
}
