#include "runtime/container.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
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
/* create.json: what delete --force needs when state.json is missing or
 * damaged, small enough to write twice on create's path */
static const struct oci_field record_fields[] = {
	F_STR_REQ("id", id),
	F_STR("bundle", bundle),
	F_VAL_OPT("pid", pid, OCI_I32),
	F_VAL("pidStartTime", pid_start_time, OCI_U64),
	F_STR("cgroupPath", cgroup_path),
	F_STR("cgroupCreated", cgroup_created),
	F_STR("plannedCgroupPath", cgroup_planned),
	F_VAL("rootless", rootless, OCI_BOOL),
	F_VAL("systemdCgroup", systemd_cgroup, OCI_BOOL),
};
OCI_TYPE(container_public_state_type, struct container_state, public_fields);
OCI_TYPE(container_state_type, struct container_state, state_fields);
OCI_TYPE(container_record_type, struct container_state, record_fields);
#undef OCI_CUR

static const char *const status_names[] = {
	[STATUS_CREATING] = "creating", [STATUS_CREATED] = "created", [STATUS_RUNNING] = "running",
	[STATUS_PAUSED] = "paused",     [STATUS_STOPPED] = "stopped",   [STATUS_DAMAGED] = "damaged",
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
		char path[PATH_MAX];
		if (fmt_into(path, sizeof(path), err, "--root", "%s", root) < 0)
			return -err->code;
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
	/* Until the lock is ours the directory is empty, which delete takes
	 * for a create that died: one that got in first removed it. */
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
		close(fd);
		return err_set(err, EEXIST, "container \"%s\" was deleted while it was being created",
			       id);
	}
	*dirfd = fd;
	return 0;
}

/* The path of an open directory, for messages ("?" when unknown). */
static void fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, size - 1);
	if (n < 0)
		n = snprintf(buf, size, "?");
	buf[n] = '\0';
}

int container_dir_remove(int rootfd, const char *id, int dirfd, struct husk_error *err)
{
	char where[4096];
	/* the caller's fd when it has one: no new fd needed (EMFILE) */
	int fd = dirfd >= 0 ? dirfd
			    : openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		fd_path(rootfd, where, sizeof(where));
		return err_sys(err, errno, "remove state directory %s/%s", where, id);
	}
	/* Everything but the two records first (config.json, exec.fifo, temp
	 * files of a write cut short, whatever else is there), then
	 * state.json, then create.json: until the last goes, delete --force
	 * still knows what the container had. */
	DIR *d = fdopendir(dup(fd));
	struct dirent *de;
	int r = 0;
	if (d == NULL) {
		/* no fd to list it with: what husk itself puts there */
		static const char *const known[] = { CONFIG_COPY, EXEC_FIFO };
		char tmp[64];
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			unlinkat(fd, known[i], 0);
		for (size_t i = 0; i < 3; i++) {
			static const char *const written[] = { CONFIG_COPY, STATE_FILE, CREATE_RECORD };
			/* write_file_atomic's temp names, should this process have left one */
			snprintf(tmp, sizeof(tmp), ".%s.tmp.%d", written[i], (int)getpid());
			unlinkat(fd, tmp, 0);
		}
	} else {
		while ((de = readdir(d)) != NULL) {
			const char *n = de->d_name;
			if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, STATE_FILE) == 0 ||
			    strcmp(n, CREATE_RECORD) == 0)
				continue;
			/* an empty directory may go; anything inside one is not ours */
			if (unlinkat(fd, n, 0) < 0 && errno != ENOENT &&
			    (errno != EISDIR || unlinkat(fd, n, AT_REMOVEDIR) < 0) && r == 0)
				r = -errno;
		}
		closedir(d);
	}
	if (unlinkat(fd, STATE_FILE, 0) < 0 && errno != ENOENT && r == 0 &&
	    (errno != EISDIR || unlinkat(fd, STATE_FILE, AT_REMOVEDIR) < 0))
		r = -errno;
	if (unlinkat(fd, CREATE_RECORD, 0) < 0 && errno != ENOENT && r == 0 &&
	    (errno != EISDIR || unlinkat(fd, CREATE_RECORD, AT_REMOVEDIR) < 0))
		r = -errno;
	if (fd != dirfd)
		close(fd);
	if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		int e = r < 0 ? -r : errno;
		fd_path(rootfd, where, sizeof(where));
		return err_sys(err, e, "remove state directory %s/%s (left in place)", where, id);
	}
	return 0;
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
	/* a start time of 0 is what an unreadable /proc/PID/stat gives: it
	 * proves nothing */
	if (!c->state->has_pid || c->state->pid <= 0 || c->state->pid_start_time == 0)
		return -ESRCH;
	int fd = pidfd_open(c->state->pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after opening, and the pidfd's process still alive after
	 * the check: the pid was not reused in between, so the start time
	 * read is the pidfd's process's. Destructive verbs act on nothing
	 * else. */
	if (process_start_time(c->state->pid) != c->state->pid_start_time ||
	    pidfd_send_signal(fd, 0, NULL, 0) < 0) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* The init is proven alive: its pid runs with the recorded start time. */
static bool init_alive(const struct container_state *st)
{
	return st->has_pid && st->pid > 0 && st->pid_start_time != 0 &&
	       process_start_time(st->pid) == st->pid_start_time;
}

/* Whether a created container's init still waits for start. It holds
 * exec.fifo by an O_PATH fd while it waits, by a write fd once start
 * released it, and by none after its execve; exec.fifo itself stays until
 * start removes it, which a start killed midway never does. 1: parked, 0:
 * released, -1: cannot tell (its fds are not ours to read). */
static int init_parked(pid_t pid, const struct stat *fifo)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return -1;
	}
	int parked = 0;
	struct dirent *de;
	while (!parked && (de = readdir(d)) != NULL) {
		struct stat link, target;
		/* the link's mode carries the open mode: none for O_PATH; only
		 * those can be the waiting init's hold on the fifo */
		if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &link, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (link.st_mode & (S_IRUSR | S_IWUSR)) != 0)
			continue;
		if (fstatat(dfd, de->d_name, &target, 0) == 0 && target.st_dev == fifo->st_dev &&
		    target.st_ino == fifo->st_ino)
			parked = 1;
	}
	closedir(d);
	return parked;
}

void container_refresh_status(struct container *c)
{
	struct stat st;
	bool alive = init_alive(c->state);

	if (c->damage)
		c->status = STATUS_DAMAGED;
	else if (c->from_record)
		/* no state.json yet: a create holds the lock while it works;
		 * without one, it died (only test when the lock is not ours:
		 * flock on our own fd would convert it) */
		c->status = alive || (!c->locked && flock(c->dirfd, LOCK_SH | LOCK_NB) < 0 &&
				      errno == EWOULDBLOCK)
				    ? STATUS_CREATING
				    : STATUS_STOPPED;
	else if (!alive)
		c->status = STATUS_STOPPED;
	else if (fstatat(c->dirfd, EXEC_FIFO, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		 init_parked(c->state->pid, &st) != 0)
		c->status = STATUS_CREATED;
	else if (cgroup_is_frozen(c->state->cgroup_path))
		c->status = STATUS_PAUSED;
	else
		c->status = STATUS_RUNNING;
	if (!c->locked && c->from_record)
		flock(c->dirfd, LOCK_UN);
	free(c->state->status);
	c->state->status = strdup(status_name(c->status));
}

/* Read state.json or create.json without trusting what is there: a fifo
 * must not hang us, a symlink must not lead us to a host file, a huge file
 * must not fill memory. *why says what is wrong (for the damage message);
 * -ENOENT when the file is missing. */
static int read_record(int dirfd, const char *name, char **buf, size_t *len, char **why)
{
	struct husk_error e = { 0 };
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int errnum = errno;
		if (errnum == ENOENT)
			return -ENOENT;
		if (errnum == ELOOP)
			*why = strdup("it is a symbolic link (not followed)");
		else
			str_fmt(why, 4096, &e, name, "cannot open it: %s", strerror(errnum));
		return -errnum;
	}
	if (fstat(fd, &st) < 0) {
		int errnum = errno;
		close(fd);
		str_fmt(why, 4096, &e, name, "cannot stat it: %s", strerror(errnum));
		return -errnum;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*why = strdup(S_ISFIFO(st.st_mode)  ? "it is a fifo, not a regular file"
			      : S_ISDIR(st.st_mode) ? "it is a directory, not a regular file"
			      : S_ISSOCK(st.st_mode) ? "it is a socket, not a regular file"
						     : "it is a device, not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > STATE_MAX_SIZE) {
		close(fd);
		str_fmt(why, 4096, &e, name, "it is %lld bytes, more than the %u allowed",
			(long long)st.st_size, STATE_MAX_SIZE);
		return -EFBIG;
	}
	int r = read_fd_all(fd, name, STATE_MAX_SIZE, buf, len, &e);
	close(fd);
	if (r < 0)
		*why = strdup(e.msg);
	return r;
}

static int decode_record(int dirfd, const char *name, const struct oci_type *type,
			 struct container_state **out, char **why)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_record(dirfd, name, &buf, &len, why);
	if (r < 0)
		return r;
	struct husk_error e = { 0 };
	if (len == 0) {
		*why = strdup("it is empty");
		return -EINVAL;
	}
	r = oci_decode(type, buf, len, name, (void **)out, &e);
	if (r < 0) {
		*why = strdup(e.msg);
		return r;
	}
	return 0;
}

static int load(int rootfd, const char *id, bool lock, bool any, struct container **out,
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
	char *why = NULL;
	r = decode_record(fd, STATE_FILE, &container_state_type, &state, &why);
	if (r == -EMFILE || r == -ENFILE || r == -ENOMEM || r == -EINTR || r == -EAGAIN) {
		/* out of fds or memory: nothing is wrong with the file */
		free(why);
		close(fd);
		return err_sys(err, -r, "container \"%s\": read %s", id, STATE_FILE);
	}
	if (r < 0 && !any) {
		close(fd);
		/* a create still in progress (or one that died) has no state yet */
		if (r == -ENOENT)
			return err_set(err, ENOENT, "container \"%s\" does not exist", id);
		char dir[4096];
		fd_path(rootfd, dir, sizeof(dir));
		r = err_set(err, EUCLEAN, "container \"%s\": %s/%s/%s is damaged: %s (delete --force removes it)",
			    id, dir, id, STATE_FILE, why ? why : "?");
		free(why);
		return r;
	}
	bool from_record = r < 0;
	if (from_record) {
		char *record_why = NULL;
		if (decode_record(fd, CREATE_RECORD, &container_record_type, &state, &record_why) < 0)
			state = calloc(1, sizeof(*state));
		free(record_why);
	}
	/* a cgroupPath edited to name another cgroup is never acted on */
	if (state->cgroup_path &&
	    (r = cgroup_check_owned(state->cgroup_path, state->cgroup_created, err)) < 0) {
		oci_free(&container_state_type, state);
		close(fd);
		return err_prefix(err, "container \"%s\"", id);
	}
	struct container *c = calloc(1, sizeof(*c));
	if (c == NULL || state == NULL || (c->id = strdup(id)) == NULL) {
		free(c);
		free(why);
		oci_free(&container_state_type, state);
		close(fd);
		return err_sys(err, ENOMEM, "load container");
	}
	c->dirfd = fd;
	c->state = state;
	c->locked = lock;
	c->from_record = from_record;
	if (from_record && r != -ENOENT) {
		char dir[4096];
		fd_path(rootfd, dir, sizeof(dir));
		str_fmt(&c->damage, 8192, err, "damage", "%s/%s/%s is damaged: %s", dir, id, STATE_FILE,
			why ? why : "?");
		if (c->damage == NULL) {
			free(why);
			container_free(c);
			return -ENOMEM;
		}
	}
	free(why);
	if (from_record) {
		/* what `state` prints must have these */
		if (state->ociVersion == NULL)
			state->ociVersion = strdup(OCI_RUNTIME_SPEC_VERSION);
		if (state->id == NULL)
			state->id = strdup(id);
		if (state->bundle == NULL)
			state->bundle = strdup("");
	}
	container_refresh_status(c);
	*out = c;
	return 0;
}

int container_load(int rootfd, const char *id, bool lock, struct container **out,
		   struct husk_error *err)
{
	return load(rootfd, id, lock, false, out, err);
}

int container_load_any(int rootfd, const char *id, bool lock, struct container **out,
		       struct husk_error *err)
{
	return load(rootfd, id, lock, true, out, err);
}

int container_save_record(int dirfd, const struct container_state *rec, struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&container_record_type, rec, false, &json, &len, err);
	if (r < 0)
		return r;
	return write_file_atomic(dirfd, CREATE_RECORD, json, len, 0600, err);
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
	if (c->config == NULL) {
		/* as state.json: a fifo or symlink in its place must not hang or
		 * mislead us */
		_cleanup_free_ char *buf = NULL, *why = NULL;
		size_t len;
		int r = read_record(c->dirfd, CONFIG_COPY, &buf, &len, &why);
		if (r < 0)
			return r == -ENOENT ? err_set(err, ENOENT, "%s: missing", CONFIG_COPY)
					    : err_set(err, -r, "%s: %s", CONFIG_COPY, why ? why : "?");
		r = oci_decode(&oci_config_type, buf, len, CONFIG_COPY, (void **)&c->config, err);
		if (r < 0)
			return r;
	}
	*out = c->config;
	return 0;
}

void container_free(struct container *c)
{
	if (c == NULL)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->id);
	free(c->damage);
	/* plannedCgroupPath comes only from create.json: state_fields does
	 * not hold it, so oci_free would not free it */
	if (c->state)
		free(c->state->cgroup_planned);
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
static char *passwd_lookup(uid_t uid)
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

/* The same, remembering the last answer: list asks once per container,
 * mostly for the same uid, and /etc/passwd may be long. */
static char *passwd_name(uid_t uid)
{
	static uid_t last_uid;
	static char *last_name; /* NULL: none yet, or uid has no name */
	static bool known;
	if (!known || last_uid != uid) {
		free(last_name);
		last_name = passwd_lookup(uid);
		last_uid = uid;
		known = true;
	}
	return last_name ? strdup(last_name) : NULL;
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
