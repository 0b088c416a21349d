#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/linux/cgroup.h"

#define OCI_CUR struct container_state
#define PUBLIC_FIELDS                                                                              \
	F_STR_REQ("ociVersion", ociVersion), F_STR_REQ("id", id), F_VAL_OPT("pid", pid, OCI_I32),  \
		F_STR("status", status), F_STR_REQ("bundle", bundle), F_STR("rootfs", rootfs),     \
		F_STR("created", created), F_STR("owner", owner),                                  \
		F_MAP("annotations", annotations, OCI_STR)
static const struct oci_field public_fields[] = { PUBLIC_FIELDS };
static const struct oci_field state_fields[] = {
	PUBLIC_FIELDS,
	F_VAL("pidStartTime", pid_start_time, OCI_U64),
	F_STR("cgroupPath", cgroup_path),
	F_STR("cgroupCreated", cgroup_created),
	F_VAL("rootless", rootless, OCI_BOOL),
	F_VAL("systemdCgroup", systemd_cgroup, OCI_BOOL),
};
OCI_TYPE(container_public_state_type, struct container_state, public_fields);
OCI_TYPE(container_state_type, struct container_state, state_fields);
#undef OCI_CUR

static const char *const status_names[] = {
	[STATUS_CREATING] = "creating", [STATUS_CREATED] = "created", [STATUS_RUNNING] = "running",
	[STATUS_PAUSED] = "paused",     [STATUS_STOPPED] = "stopped",
};

const char *status_name(enum container_status s)
{
	return status_names[s];
}

int container_check_id(const char *id, struct husk_error *err)
{
	size_t len = strlen(id);
	static const char extra[] = "_+-.";

	if (len == 0)
		return err_set(err, EINVAL, "container id must not be empty");
	if (len > 1024)
		return err_set(err, EINVAL, "container id is longer than 1024 characters");
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c != '\0' && strchr(extra, c) && !(i == 0 && c == '.'));
		if (!ok)
			return err_set(err, EINVAL,
				       "invalid container id \"%s\": use letters, digits and _+-. "
				       "(not starting with .)",
				       id);
	}
	return 0;
}

int state_root_open(const char *root, bool create, int *out, struct husk_error *err)
{
	if (create && mkdir(root, 0700) < 0 && errno != EEXIST) {
		/* the parent may be missing too (e.g. $XDG_RUNTIME_DIR/husk/sub) */
		char path[4096];
		snprintf(path, sizeof(path), "%s", root);
		for (char *p = path + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				return err_sys(err, errno, "state root %s", path);
			*p = '/';
		}
		if (mkdir(root, 0700) < 0 && errno != EEXIST)
			return err_sys(err, errno, "state root %s", root);
	}
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "state root %s", root);
	*out = fd;
	return 0;
}

int container_dir_create(int rootfd, const char *id, int *dirfd, struct husk_error *err)
{
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return err_set(err, EEXIST, "container \"%s\" already exists", id);
		return err_sys(err, errno, "create state directory for \"%s\"", id);
	}
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		unlinkat(rootfd, id, AT_REMOVEDIR);
		return err_sys(err, e, "lock state directory of \"%s\"", id);
	}
	*dirfd = fd;
	return 0;
}

void container_dir_remove(int rootfd, const char *id)
{
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		static const char *const files[] = { STATE_FILE, CONFIG_COPY, EXEC_FIFO };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			unlinkat(fd, files[i], 0);
		close(fd);
	}
	unlinkat(rootfd, id, AT_REMOVEDIR);
}

uint64_t process_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: start after the last ')' */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p += 2; /* field 3, the state */
	if (*p == 'Z' || *p == 'X')
		return 0; /* a zombie has stopped */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

int container_pidfd(const struct container *c)
{
	if (!c->state->has_pid || c->state->pid <= 0)
		return -ESRCH;
	int fd = pidfd_open(c->state->pid, 0);
	if (fd < 0)
		return -errno;
	/* checked after opening: the pidfd pins the process we verified */
	if (process_start_time(c->state->pid) != c->state->pid_start_time) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

void container_refresh_status(struct container *c)
{
	struct stat st;

	if (!c->state->has_pid || process_start_time(c->state->pid) != c->state->pid_start_time ||
	    c->state->pid_start_time == 0)
		c->status = STATUS_STOPPED;
	else if (fstatat(c->dirfd, EXEC_FIFO, &st, AT_SYMLINK_NOFOLLOW) == 0)
		c->status = STATUS_CREATED;
	else if (cgroup_is_frozen(c->state->cgroup_path))
		c->status = STATUS_PAUSED;
	else
		c->status = STATUS_RUNNING;
	free(c->state->status);
	c->state->status = strdup(status_name(c->status));
}

int container_load(int rootfd, const char *id, bool lock, struct container **out,
		   struct husk_error *err)
{
	int r = container_check_id(id, err);
	if (r < 0)
		return r;
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(err, ENOENT, "container \"%s\" does not exist", id);
		return err_sys(err, errno, "container \"%s\"", id);
	}
	if (lock && flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return err_sys(err, e, "lock container \"%s\"", id);
	}
	struct container_state *state = NULL;
	r = oci_decode_file(&container_state_type, fd, STATE_FILE, "state.json", (void **)&state, err);
	if (r < 0) {
		close(fd);
		/* a create still in progress (or one that died) has no state yet */
		if (r == -ENOENT)
			return err_set(err, ENOENT, "container \"%s\" does not exist", id);
		return err_prefix(err, "container \"%s\"", id);
	}
	/* a cgroupPath edited to name another cgroup is never acted on */
	if (state->cgroup_path &&
	    (r = cgroup_check_owned(state->cgroup_path, state->cgroup_created, err)) < 0) {
		oci_free(&container_state_type, state);
		close(fd);
		return err_prefix(err, "container \"%s\"", id);
	}
	struct container *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->id = strdup(id)) == NULL) {
		free(c);
		oci_free(&container_state_type, state);
		close(fd);
		return err_sys(err, ENOMEM, "load container");
	}
	c->dirfd = fd;
	c->state = state;
	container_refresh_status(c);
	*out = c;
	return 0;
}

int container_save(int dirfd, struct container_state *state, struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&container_state_type, state, false, &json, &len, err);
	if (r < 0)
		return r;
	return write_file_atomic(dirfd, STATE_FILE, json, len, 0600, err);
}

int container_config(struct container *c, struct oci_config **out, struct husk_error *err)
{
	int r = 0;
	if (c->config == NULL)
		r = oci_decode_file(&oci_config_type, c->dirfd, CONFIG_COPY, "config.json",
				    (void **)&c->config, err);
	*out = c->config;
	return r;
}

void container_free(struct container *c)
{
	if (c == NULL)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->id);
	oci_free(&container_state_type, c->state);
	oci_free(&oci_config_type, c->config);
	free(c);
}

int hook_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		    const oci_string_map *annotations, char **out, struct husk_error *err)
{
	struct oci_state st = {
		.ociVersion = OCI_RUNTIME_SPEC_VERSION,
		.id = (char *)id,
		.status = (char *)status,
		.pid = pid,
		.has_pid = pid > 0,
		.bundle = (char *)bundle,
	};
	if (annotations)
		st.annotations = *annotations;
	size_t len;
	return oci_encode(&oci_state_type, &st, false, out, &len, err);
}

/* The name /etc/passwd gives uid, as runc's list looks it up. husk is a
 * static program and does not load NSS modules for a column of `list`. */
static char *passwd_name(uid_t uid)
{
	_cleanup_free_ char *passwd = NULL;
	size_t len;
	struct husk_error ignored;
	if (read_file_at(AT_FDCWD, "/etc/passwd", 16 << 20, &passwd, &len, &ignored) < 0)
		return NULL;
	for (char *save = NULL, *line = strtok_r(passwd, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* name:password:uid:... */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL || c1 == line)
			continue;
		char *end;
		unsigned long id = strtoul(c2 + 1, &end, 10);
		if (end != c2 + 1 && *end == ':' && id == uid)
			return strndup(line, (size_t)(c1 - line));
	}
	return NULL;
}

void container_fill_owner(struct container *ct)
{
	struct stat st;
	char num[16];
	if (ct->state->owner || fstat(ct->dirfd, &st) < 0)
		return;
	ct->state->owner = passwd_name(st.st_uid);
	if (ct->state->owner == NULL) {
		snprintf(num, sizeof(num), "%u", (unsigned)st.st_uid);
		ct->state->owner = strdup(num);
	}
}
