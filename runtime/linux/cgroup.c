#include "runtime/linux/cgroup.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "runtime/linux/systemd.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270

/* The v1 controllers husk places a container in, when the host mounts them
 * (and the named systemd hierarchy). */
static const char *const v1_controllers[] = {
	"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
	"pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", "name=systemd",
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

/* ---- the hierarchies, from the mount table ---- */

/* A mounted hierarchy husk uses: every v1 hierarchy under /sys/fs/cgroup
 * with a controller husk knows, and the v2 tree (/sys/fs/cgroup on v2,
 * /sys/fs/cgroup/unified on hybrid). Found in /proc/self/mountinfo, never
 * from directory names: a plain directory on the /sys/fs/cgroup tmpfs named
 * like a controller (other tools leave them behind) is no hierarchy. */
struct hierarchy {
	char *mount;      /* mount point */
	const char *key;  /* its last component: the name in the created record */
	char *options;    /* super options: the controllers (v1) */
	char *dev;        /* major:minor, one entry per hierarchy */
	bool v2;
};
static struct hierarchy hier[CGROUP_MAX_HIERARCHIES];
static size_t n_hier;

static bool has_option(const char *options, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = options; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS" */
static void scan_line(char *line, enum cgroup_mode mode)
{
	char *field[5], *save = NULL;
	for (int i = 0; i < 5; i++)
		if ((field[i] = strtok_r(i ? NULL : line, " ", &save)) == NULL)
			return;
	const char *dev = field[2], *mp = field[4];
	char *fstype = NULL, *options = NULL, *tok;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		if (strcmp(tok, "-") == 0) {
			fstype = strtok_r(NULL, " ", &save);
			if (strtok_r(NULL, " ", &save) != NULL)
				options = strtok_r(NULL, " ", &save);
			break;
		}
	}
	if (fstype == NULL || options == NULL || n_hier == CGROUP_MAX_HIERARCHIES)
		return;
	bool v2 = strcmp(fstype, "cgroup2") == 0;
	if (v2) {
		if (strcmp(mp, mode == CGROUP_V2 ? CGROUP_ROOT : CGROUP_ROOT "/unified") != 0 ||
		    mode == CGROUP_V1)
			return;
	} else {
		if (strcmp(fstype, "cgroup") != 0 || mode == CGROUP_V2 ||
		    strncmp(mp, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1) != 0 ||
		    strchr(mp + strlen(CGROUP_ROOT) + 1, '/') || strchr(mp, '\\'))
			return;
		size_t k = 0;
		while (k < N_V1 && !has_option(options, v1_controllers[k]))
			k++;
		if (k == N_V1)
			return;
	}
	struct hierarchy h = { .mount = strdup(mp), .options = strdup(options), .dev = strdup(dev), .v2 = v2 };
	if (h.mount == NULL || h.options == NULL || h.dev == NULL) {
		free(h.mount);
		free(h.options);
		free(h.dev);
		return;
	}
	h.key = strrchr(h.mount, '/') + 1;
	hier[n_hier++] = h;
}

/* Read once per process: one read of /proc/self/mountinfo. */
static void scan_hierarchies(void)
{
	static bool scanned;
	if (scanned)
		return;
	scanned = true;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct husk_error ignored;
	if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &buf, &len, &ignored) < 0)
		return;
	enum cgroup_mode mode = cgroup_mode();
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		scan_line(line, mode);
	/* A hierarchy counts where its mount point reaches it: a mount over
	 * it (or over /sys/fs/cgroup) hides it, a mount moved there shows it,
	 * whatever the order of the mountinfo lines. The same hierarchy
	 * mounted twice counts once. */
	for (size_t i = 0; i < n_hier;) {
		struct stat st;
		unsigned maj = 0, min = 0;
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(hier[k].dev, hier[i].dev) == 0;
		if (dup || sscanf(hier[i].dev, "%u:%u", &maj, &min) != 2 || stat(hier[i].mount, &st) < 0 ||
		    st.st_dev != makedev(maj, min)) {
			/* keep the order: the first listed wins */
			free(hier[i].mount);
			free(hier[i].options);
			free(hier[i].dev);
			memmove(&hier[i], &hier[i + 1], (n_hier - i - 1) * sizeof(hier[0]));
			n_hier--;
			continue;
		}
		i++;
	}
}

const char *cgroup_mount(const char *controller)
{
	scan_hierarchies();
	bool want_v2 = cgroup_mode() == CGROUP_V2 || strcmp(controller, "unified") == 0;
	const char *opt = strcmp(controller, "systemd") == 0 ? "name=systemd" : controller;
	for (size_t i = 0; i < n_hier; i++) {
		if (hier[i].v2 ? want_v2 : !want_v2 && has_option(hier[i].options, opt))
			return hier[i].mount;
	}
	return NULL;
}

/* ---- cgroup paths ---- */

/* The container's path as the kernel would resolve it: "//" and "." are
 * dropped; ".." is refused outright (runc-like), and so is a path that is
 * the root of the hierarchy, or too long for the files under it. */
static int normalise(const char *in, const char *what, struct strbuf *out, struct husk_error *err)
{
	sb_reset(out);
	for (const char *p = in; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && strncmp(p, "..", 2) == 0)
			return err_set(err, EINVAL, "%s: \"%.200s\" must not contain a \"..\" component",
				       what, in);
		if (n > NAME_MAX)
			return err_set(err, ENAMETOOLONG,
				       "%s: a component of \"%.200s...\" is longer than %d bytes", what,
				       in, NAME_MAX);
		if (n > 0 && !(n == 1 && *p == '.')) {
			sb_addc(out, '/');
			sb_addn(out, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	if (out->error == 0 && out->len > CGROUP_PATH_MAX)
		return err_set(err, ENAMETOOLONG, "%s: \"%.200s...\" is too long (%zu bytes, at most %d)",
			       what, in, out->len, CGROUP_PATH_MAX);
	int r = sb_check(out, err, what);
	if (r < 0)
		return r;
	if (out->len == 0)
		return err_set(err, EINVAL,
			       "%s: \"%.200s\" is the root cgroup: a container needs a cgroup of its own",
			       what, in);
	return 0;
}

int cgroup_path_check(const char *path, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf norm = STRBUF_INIT;
	if (path == NULL || path[0] != '/')
		return err_set(err, EINVAL, "cgroup path \"%.200s\" (state.json cgroupPath) is not absolute",
			       path ? path : "");
	int r = normalise(path, "state.json cgroupPath", &norm, err);
	if (r < 0)
		return r;
	if (strcmp(norm.buf, path) != 0)
		return err_set(err, EINVAL, "state.json cgroupPath: \"%.200s\" is not a normalised cgroup path",
			       path);
	return 0;
}

/* husk's own cgroup (v2 line "0::/path", or the v1 memory line). */
static int own_cgroup(struct strbuf *out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct husk_error e;
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
			sb_add(out, c2 + 1);
			return 0;
		}
	}
	return 0;
}

/* systemd's cgroup path for "slice:prefix:name" (names checked by
 * systemd_unit_names): each dash of the slice name opens a level
 * ("a-b.slice" is /a.slice/a-b.slice), and the container is the scope
 * "prefix-name.scope" below it. */
static int systemd_path(const char *spec, const char *id, struct strbuf *out,
			struct husk_error *err)
{
	char slice[SYSTEMD_UNIT_MAX], unit[SYSTEMD_UNIT_MAX];
	int r = systemd_unit_names(spec, id, slice, unit, err);
	if (r < 0)
		return r;
	size_t slen = strlen(slice);
	if (strcmp(slice, "-.slice") != 0) {
		for (const char *dash = slice;; dash++) {
			dash = memchr(dash, '-', (size_t)(slice + slen - dash));
			int n = dash ? (int)(dash - slice) : (int)slen - 6;
			sb_addf(out, "/%.*s.slice", n, slice);
			if (dash == NULL)
				break;
		}
	}
	sb_addf(out, "/%s", unit);
	return sb_check(out, err, "linux.cgroupsPath");
}

int cgroup_path_for(const struct oci_config *cfg, const char *id, bool systemd, char *out,
		    size_t size, struct husk_error *err)
{
	const char *p = cfg->linux ? cfg->linux->cgroupsPath : NULL;
	_cleanup_strbuf_ struct strbuf raw = STRBUF_INIT, norm = STRBUF_INIT;
	int r;
	if (systemd)
		r = systemd_path(p, id, &raw, err);
	else if (p == NULL || *p == '\0')
		r = (sb_addf(&raw, "/%s", id), sb_check(&raw, err, "container id"));
	else if ((r = normalise(p, "linux.cgroupsPath", &norm, err)) < 0)
		return r;
	else {
		/* relative: under husk's own cgroup */
		if (p[0] != '/')
			own_cgroup(&raw);
		sb_add(&raw, norm.buf);
		r = sb_check(&raw, err, "linux.cgroupsPath");
	}
	if (r < 0 || (r = normalise(raw.buf, "linux.cgroupsPath", &norm, err)) < 0)
		return r;
	if (norm.len >= size)
		return err_set(err, ENAMETOOLONG, "linux.cgroupsPath: too long (%zu bytes)", norm.len);
	memcpy(out, norm.buf, norm.len + 1);
	return 0;
}

/* mkdir -p of mount+path; *created: how many trailing components of path
 * this call made (0 when the leaf was there). */
static int mkdir_created(const char *mount, const char *path, size_t *created)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	*created = 0;
	sb_addf(&dir, "%s%s", mount, path);
	if (dir.error)
		return -dir.error;
	/* the parents nearly always exist: try the leaf first */
	if (mkdir(dir.buf, 0755) == 0) {
		*created = 1;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* find the deepest existing ancestor, then make each level below it */
	size_t base = strlen(mount), levels = 0;
	char *p = dir.buf + dir.len;
	for (;;) {
		while (p > dir.buf + base && *p != '/')
			p--;
		if (*p != '/')
			return -ENOENT;
		*p = '\0';
		levels++;
		if (p == dir.buf + base || access(dir.buf, F_OK) == 0)
			break;
	}
	for (; levels > 0; levels--) {
		dir.buf[strlen(dir.buf)] = '/';
		if (mkdir(dir.buf, 0755) < 0)
			return -errno;
		(*created)++;
	}
	return 0;
}

/* Remove the created trailing levels of mount+path, leaf first; a parent
 * still in use (a sibling's cgroup) stays. */
static int rmdir_created(const char *mount, const char *path, size_t created)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	sb_addf(&dir, "%s%s", mount, path);
	if (dir.error)
		return -dir.error;
	size_t base = strlen(mount);
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	for (size_t level = 0; level < created && dir.len > base; level++) {
		int attempt = 0;
		while (rmdir(dir.buf) < 0 && errno != ENOENT) {
			/* the leaf's last processes may still be exiting */
			if (errno != EBUSY || level > 0 || ++attempt >= 100)
				return level == 0 ? -errno : 0;
			nanosleep(&pause, NULL);
		}
		char *slash = strrchr(dir.buf, '/');
		if (slash == NULL || (size_t)(slash - dir.buf) < base)
			break;
		*slash = '\0';
		dir.len = (size_t)(slash - dir.buf);
	}
	return 0;
}

/* v1 cpuset starts empty: copy cpus and mems down from the nearest parent
 * that has them, or no task can join. fresh: dir was just made, so it is
 * empty without reading it. */
static int cpuset_init(const char *mount, const char *path, bool fresh, struct husk_error *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	size_t base = strlen(mount);
	for (size_t i = 0; i < 2; i++) {
		_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT, file = STRBUF_INIT;
		_cleanup_free_ char *value = NULL;
		struct husk_error ignored;
		size_t len;
		sb_addf(&dir, "%s%s", mount, path);
		int r = sb_check(&dir, err, "linux.cgroupsPath");
		if (r < 0)
			return r;
		/* the nearest ancestor with a value */
		size_t at = dir.len;
		while (value == NULL && at > base) {
			while (at > base && dir.buf[at] != '/')
				at--;
			sb_reset(&file);
			sb_addf(&file, "%.*s/%s", (int)at, dir.buf, files[i]);
			if (file.error == 0 &&
			    read_file_at(AT_FDCWD, file.buf, 4096, &value, &len, &ignored) == 0 && len <= 1) {
				free(value);
				value = NULL;
			}
			if (value != NULL || at == base)
				break;
			at--;
		}
		if (value == NULL)
			continue;
		/* fill each level between that ancestor and the cgroup */
		for (size_t end = at + 1; end <= dir.len; end++) {
			if (end < dir.len && dir.buf[end] != '/')
				continue;
			sb_reset(&file);
			sb_addf(&file, "%.*s/%s", (int)end, dir.buf, files[i]);
			if ((r = sb_check(&file, err, "linux.cgroupsPath")) < 0)
				return r;
			_cleanup_free_ char *cur = NULL;
			size_t clen;
			if ((end == dir.len && fresh) ||
			    (read_file_at(AT_FDCWD, file.buf, 4096, &cur, &clen, &ignored) == 0 && clen <= 1)) {
				int fd = open(file.buf, O_WRONLY | O_CLOEXEC);
				r = fd < 0 ? -errno : write_all(fd, value, len);
				if (fd >= 0)
					close(fd);
				if (r < 0)
					return err_sys(err, -r, "write %s", file.buf);
			}
		}
	}
	return 0;
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
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
	int r;

	j->dirfd = -1;
	j->n_tasks = 0;
	if ((r = cgroup_path_check(path, err)) < 0)
		return r;
	scan_hierarchies();
	if (cgroup_mode() == CGROUP_V2) {
		const char *mount = cgroup_mount("unified");
		sb_addf(&file, "%s%s", mount ? mount : CGROUP_ROOT, path);
		if ((r = sb_check(&file, err, "cgroupPath")) < 0)
			return r;
		j->dirfd = open(file.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (j->dirfd < 0)
			return err_sys(err, errno, "open cgroup %s", file.buf);
		return 0;
	}
	/* v1 hierarchies: their tasks file. The hybrid v2 tree: the
	 * directory, for CLONE_INTO_CGROUP (writing cgroup.procs would take
	 * the lock that a v1 tasks write or clone3 avoid). */
	for (size_t i = 0; i < n_hier; i++) {
		sb_reset(&file);
		sb_addf(&file, "%s%s%s", hier[i].mount, path, hier[i].v2 ? "" : "/tasks");
		if ((r = sb_check(&file, err, "cgroupPath")) < 0) {
			cgroup_join_close(j);
			return r;
		}
		int fd = open(file.buf, hier[i].v2 ? O_RDONLY | O_DIRECTORY | O_CLOEXEC
						    : O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			cgroup_join_close(j);
			return err_sys(err, e, "open %s", file.buf);
		}
		if (hier[i].v2)
			j->dirfd = fd;
		else
			j->tasks[j->n_tasks++] = fd;
	}
	return 0;
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
	if ((r = cgroup_path_check(path, err)) < 0)
		return r;
	scan_hierarchies();
	for (size_t i = 0; i < n_hier && j->n_tasks < CGROUP_MAX_HIERARCHIES; i++) {
		const char *sub = NULL;
		for (size_t k = 0; k < n_subs; k++) {
			const char *ctl = subs[k].controller;
			bool named = ctl[0] && !hier[i].v2 &&
				     has_option(hier[i].options,
						strcmp(ctl, "systemd") == 0 ? "name=systemd" : ctl);
			if (!ctl[0] || named) {
				used[k] = true;
				/* a named controller wins over the path for every one */
				if (sub == NULL || ctl[0])
					sub = subs[k].path;
			}
		}
		sb_reset(&file);
		sb_addf(&file, "%s%s%s%s%s", hier[i].mount, path, sub ? "/" : "", sub ? sub : "",
			hier[i].v2 ? "" : "/tasks");
		if ((r = sb_check(&file, err, "--cgroup")) < 0)
			goto fail;
		/* the hybrid v2 tree: its directory, for CLONE_INTO_CGROUP */
		int fd = hier[i].v2 ? open(file.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				    : open(file.buf, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			r = err_sys(err, errno, "%sopen %s", sub ? "--cgroup: " : "", file.buf);
			goto fail;
		}
		if (hier[i].v2)
			j->dirfd = fd;
		else
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

/* The directory that lists the container's processes. */
static int procs_dir(const char *path, struct strbuf *out, struct husk_error *err)
{
	const char *mount = cgroup_mount(cgroup_mode() == CGROUP_V2 ? "unified" : "pids");
	if (mount == NULL)
		mount = cgroup_mount("memory");
	if (mount == NULL)
		return err_set(err, ENOENT, "no pids or memory cgroup hierarchy is mounted");
	sb_reset(out);
	sb_addf(out, "%s%s", mount, path);
	return sb_check(out, err, "cgroupPath");
}

static pid_t holder_pid = -1;

void cgroup_allow_holder(pid_t pid)
{
	holder_pid = pid;
}

/* Whether cgroup.procs lists nothing, or only the allowed holder. */
static bool only_holder(const char *procs, size_t len)
{
	char want[32];
	if (len == 0)
		return true;
	if (holder_pid <= 0)
		return false;
	int n = snprintf(want, sizeof(want), "%d\n", (int)holder_pid);
	return (size_t)n == len && memcmp(procs, want, len) == 0;
}

/* An existing cgroup is reused only when empty and not frozen (as runc):
 * its processes would be killed with the container, and a frozen one
 * would freeze the init. */
static int check_reusable(const struct hierarchy *h, const char *path, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
	_cleanup_free_ char *buf = NULL;
	struct husk_error ignored;
	size_t len;
	sb_addf(&file, "%s%s/cgroup.procs", h->mount, path);
	int r = sb_check(&file, err, "linux.cgroupsPath");
	if (r < 0)
		return r;
	if (read_file_at(AT_FDCWD, file.buf, 1 << 22, &buf, &len, &ignored) == 0 &&
	    !only_holder(buf, len))
		return err_set(err, EBUSY,
			       "linux.cgroupsPath: the cgroup %s%s already holds processes: refusing to "
			       "share it",
			       h->mount, path);
	bool freezer = h->v2 || has_option(h->options, "freezer");
	if (!freezer)
		return 0;
	free(buf);
	buf = NULL;
	sb_reset(&file);
	sb_addf(&file, "%s%s/%s", h->mount, path, h->v2 ? "cgroup.freeze" : "freezer.state");
	if (file.error == 0 && read_file_at(AT_FDCWD, file.buf, 4096, &buf, &len, &ignored) == 0 &&
	    (h->v2 ? buf[0] == '1' : strncmp(buf, "THAWED", 6) != 0))
		return err_set(err, EBUSY, "linux.cgroupsPath: the cgroup %s%s is frozen", h->mount, path);
	return 0;
}

/* The record of what create made, kept in state.json: "ino=N" (the inode
 * of the cgroup that lists the container's processes, which the kernel
 * never reuses while it exists: a state.json edited to name another cgroup
 * does not match it) and "KEY=LEVELS" per hierarchy (how many trailing
 * components of the path husk created there). Only those are removed. */
struct created {
	size_t levels[CGROUP_MAX_HIERARCHIES];
	unsigned long long ino;
};

static char *encode_created(const struct created *c)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "ino=%llu", c->ino);
	for (size_t i = 0; i < n_hier; i++)
		sb_addf(&sb, " %s=%zu", hier[i].key, c->levels[i]);
	return sb.error ? NULL : sb_take(&sb);
}

static int decode_created(const char *text, struct created *c, struct husk_error *err)
{
	memset(c, 0, sizeof(*c));
	bool have_ino = false;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);
		char *end;
		if (eq == NULL)
			return err_set(err, EINVAL, "state.json cgroupCreated: \"%.200s\" is malformed", text);
		unsigned long long v = strtoull(eq + 1, &end, 10);
		if (end != p + n || end == eq + 1)
			return err_set(err, EINVAL, "state.json cgroupCreated: \"%.200s\" is malformed", text);
		if (eq - p == 3 && strncmp(p, "ino", 3) == 0) {
			c->ino = v;
			have_ino = true;
		}
		for (size_t i = 0; i < n_hier; i++)
			if (strlen(hier[i].key) == (size_t)(eq - p) && strncmp(p, hier[i].key, eq - p) == 0)
				c->levels[i] = (size_t)v;
		p += n;
		while (*p == ' ')
			p++;
	}
	if (!have_ino)
		return err_set(err, EINVAL, "state.json cgroupCreated: \"%.200s\" has no ino", text);
	return 0;
}

int cgroup_check_owned(const char *path, const char *created, struct husk_error *err)
{
	struct created c;
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	struct stat st;
	int r;
	if ((r = cgroup_path_check(path, err)) < 0)
		return r;
	if (created == NULL)
		return err_set(err, EINVAL,
			       "state.json: cgroupPath \"%.200s\" without the record of the cgroup husk "
			       "created (cgroupCreated)",
			       path);
	scan_hierarchies();
	if ((r = decode_created(created, &c, err)) < 0 || (r = procs_dir(path, &dir, err)) < 0)
		return r;
	if (stat(dir.buf, &st) < 0)
		return errno == ENOENT ? 0 : err_sys(err, errno, "cgroup %s", dir.buf);
	if ((unsigned long long)st.st_ino != c.ino)
		return err_set(err, EPERM,
			       "state.json cgroupPath: %s is not the cgroup husk created for this "
			       "container: refusing to act on it",
			       dir.buf);
	return 0;
}

static void remove_created(const char *path, const struct created *c)
{
	for (size_t i = n_hier; i-- > 0;)
		rmdir_created(hier[i].mount, path, c->levels[i]);
}

int cgroup_create(const char *path, const struct oci_config *cfg, struct cgroup_join *j,
		  char **created_out, struct husk_error *err)
{
	struct created c = { 0 };
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	int r;

	j->dirfd = -1;
	j->n_tasks = 0;
	*created_out = NULL;
	if (cfg->linux && ((r = cgroup_check_resources(cfg->linux->resources, err)) < 0 ||
			   (r = cgroup_check_devices(cfg, err)) < 0))
		return r;
	if ((r = cgroup_path_check(path, err)) < 0)
		return r;
	scan_hierarchies();
	if (n_hier == 0)
		return err_set(err, ENOENT, "no cgroup hierarchy is mounted under " CGROUP_ROOT);
	bool v2 = cgroup_mode() == CGROUP_V2;
	for (size_t i = 0; i < n_hier; i++) {
		r = mkdir_created(hier[i].mount, path, &c.levels[i]);
		if (r < 0 && r != -EEXIST) {
			err_sys(err, -r, "create cgroup %s%s", hier[i].mount, path);
			goto fail;
		}
		if (r == -EEXIST && (r = check_reusable(&hier[i], path, err)) < 0)
			goto fail;
		if (!hier[i].v2 && has_option(hier[i].options, "cpuset") &&
		    (r = cpuset_init(hier[i].mount, path, c.levels[i] > 0, err)) < 0)
			goto fail;
	}
	struct stat st;
	if ((r = procs_dir(path, &dir, err)) < 0)
		goto fail;
	if (stat(dir.buf, &st) < 0) {
		r = err_sys(err, errno, "cgroup %s", dir.buf);
		goto fail;
	}
	c.ino = st.st_ino;
	/* Limits are in place before the first process can allocate or fork,
	 * and before it joins: v1 device rules are written deny-all first, then
	 * the allows one by one, and an init that joined midway would have its
	 * mknod of /dev/null refused. */
	if ((r = cgroup_apply_resources(path, cfg->linux ? cfg->linux->resources : NULL, err)) < 0 ||
	    ((v2 || cgroup_mount("devices")) && (r = cgroup_apply_devices(path, cfg, err)) < 0) ||
	    (r = cgroup_join_open(path, j, err)) < 0)
		goto fail;
	if ((*created_out = encode_created(&c)) == NULL) {
		cgroup_join_close(j);
		r = err_sys(err, ENOMEM, "cgroup record");
		goto fail;
	}
	return 0;
fail:
	remove_created(path, &c);
	return r;
}

int cgroup_pids(const char *path, pid_t **pids, size_t *count, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if ((r = cgroup_path_check(path, err)) < 0 || (r = procs_dir(path, &dir, err)) < 0)
		return r;
	sb_add(&dir, "/cgroup.procs");
	if ((r = sb_check(&dir, err, "cgroupPath")) < 0 ||
	    (r = read_file_at(AT_FDCWD, dir.buf, 1 << 22, &buf, &len, err)) < 0)
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
		int pid = atoi(line);
		if (pid > 0)
			out[n++] = (pid_t)pid;
	}
	*pids = out;
	*count = n;
	return 0;
}

int cgroup_kill(const char *path, int sig, struct husk_error *err)
{
	int r;
	if ((r = cgroup_path_check(path, err)) < 0)
		return r;
	if (sig == SIGKILL && cgroup_mode() == CGROUP_V2) {
		/* cgroup.kill: the kernel kills every process, forks in flight too */
		_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
		if ((r = procs_dir(path, &file, err)) < 0)
			return r;
		sb_add(&file, "/cgroup.kill");
		if ((r = sb_check(&file, err, "cgroupPath")) < 0)
			return r;
		int fd = open(file.buf, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			r = write_all(fd, "1", 1);
			close(fd);
			return r < 0 ? err_sys(err, -r, "write %s", file.buf) : 0;
		}
	}
	pid_t *pids = NULL;
	size_t n = 0;
	if ((r = cgroup_pids(path, &pids, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return 0;
}

int cgroup_remove_planned(const char *path, struct husk_error *err)
{
	int r = cgroup_path_check(path, err);
	if (r < 0)
		return r;
	scan_hierarchies();
	int result = 0;
	for (size_t i = n_hier; i-- > 0;) {
		r = rmdir_created(hier[i].mount, path, 1);
		if (r < 0 && result == 0)
			result = err_sys(err, -r, "remove cgroup %s%s", hier[i].mount, path);
	}
	return result;
}

int cgroup_destroy(const char *path, const char *created, struct husk_error *err)
{
	struct created c;
	struct husk_error ignored;
	int r;

	if (path == NULL || created == NULL)
		return 0; /* nothing husk made */
	if ((r = cgroup_check_owned(path, created, err)) < 0 ||
	    (r = decode_created(created, &c, err)) < 0)
		return r;
	cgroup_kill(path, SIGKILL, &ignored);
	int result = 0;
	for (size_t i = n_hier; i-- > 0;) {
		r = rmdir_created(hier[i].mount, path, c.levels[i]);
		if (r < 0 && result == 0)
			result = err_sys(err, -r, "remove cgroup %s%s", hier[i].mount, path);
	}
	return result;
}
