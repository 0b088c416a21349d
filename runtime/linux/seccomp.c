/* linux.seccomp: profile -> BPF program (libseccomp or the cache) -> seccomp(2).
 *
 * The program is always installed with seccomp(2) directly, never with
 * seccomp_load(): one install path whether the program was just compiled
 * or read from the cache, the listener flags (NEW_LISTENER, TSYNC_ESRCH,
 * WAIT_KILLABLE_RECV) under our control even where the installed
 * libseccomp predates them (2.5 has no WAIT_KILLABLE_RECV), no allocation
 * in the container process, and room to prepend the ENOSYS stub below.
 * Profiles with SCMP_ACT_NOTIFY are cached like any other: the listener is
 * a property of the install (a flag), not of the program. */
#include "runtime/linux/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "oci-spec/schema.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SECCOMP_ACTION_LIST(X)                                                                     \
	X(KILL) X(KILL_PROCESS) X(KILL_THREAD) X(TRAP) X(ERRNO) X(TRACE) X(ALLOW) X(LOG) X(NOTIFY)
#define SECCOMP_OPERATOR_LIST(X) X(NE) X(LT) X(LE) X(EQ) X(GE) X(GT) X(MASKED_EQ)
#define SECCOMP_ARCH_LIST(X)                                                                       \
	X(X86) X(X86_64) X(X32) X(ARM) X(AARCH64) X(MIPS) X(MIPS64) X(MIPS64N32) X(MIPSEL)         \
	X(MIPSEL64) X(MIPSEL64N32) X(PPC) X(PPC64) X(PPC64LE) X(S390) X(S390X) X(PARISC)           \
	X(PARISC64) X(RISCV64)
#define SECCOMP_FLAG_LIST(X) X(TSYNC) X(LOG) X(SPEC_ALLOW) X(WAIT_KILLABLE_RECV)

#define ACTION_NAME(n) "SCMP_ACT_" #n,
#define OPERATOR_NAME(n) "SCMP_CMP_" #n,
#define ARCH_NAME(n) "SCMP_ARCH_" #n,
#define FLAG_NAME(n) "SECCOMP_FILTER_FLAG_" #n,
const char *const husk_seccomp_actions[] = { SECCOMP_ACTION_LIST(ACTION_NAME) NULL };
const char *const husk_seccomp_operators[] = { SECCOMP_OPERATOR_LIST(OPERATOR_NAME) NULL };
const char *const husk_seccomp_archs[] = { SECCOMP_ARCH_LIST(ARCH_NAME) NULL };
const char *const husk_seccomp_flags[] = { SECCOMP_FLAG_LIST(FLAG_NAME) NULL };

#define FLAG_BIT(n) SECCOMP_FILTER_FLAG_##n,
static const unsigned long flag_bits[] = { SECCOMP_FLAG_LIST(FLAG_BIT) };

/* 1: the kernel takes flag, 0: it does not, -1: cannot tell (no seccomp(2),
 * or valgrind, which does not know it). Asked with a NULL program: EFAULT
 * means the kernel got past its flag checks. */
static int kernel_flag_support(unsigned long flag)
{
	if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* refused on its own */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) == 0)
		return -1;
	return errno == EFAULT ? 1 : errno == EINVAL ? 0 : -1;
}

size_t seccomp_supported_flags(const char **out, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	for (size_t i = 0; husk_seccomp_flags[i] != NULL && n + 1 < max; i++)
		if (seccomp_enabled() && kernel_flag_support(flag_bits[i]) == 1)
			out[n++] = husk_seccomp_flags[i];
	out[n] = NULL;
	return n;
}

/* The container process state of runtime-spec config-linux.md. */
struct process_state {
	char *ociVersion;
	oci_strings fds;
	int32_t pid;
	char *metadata;
	struct oci_state *state;
};

#define OCI_CUR struct process_state
static const struct oci_field process_state_fields[] = {
	F_STR_REQ("ociVersion", ociVersion),
	F_ARR("fds", fds, OCI_STR),
	F_VAL_REQ("pid", pid, OCI_I32),
	F_STR("metadata", metadata),
	F_OBJ_REQ("state", state, oci_state_type),
};
static OCI_TYPE(process_state_type, struct process_state, process_state_fields);
#undef OCI_CUR

static int send_with_fd(int sock, const char *data, size_t len, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;

	memset(&control, 0, sizeof(control));
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* The spec allows more sendmsg calls, the fds only in the first. */
	for (size_t sent = (size_t)n; sent < len; sent += (size_t)n) {
		do
			n = send(sock, data + sent, len - sent, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	}
	return 0;
}

int seccomp_listener_connect(const char *listener_path, int *out, struct husk_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	if (strlen(listener_path) >= sizeof(addr.sun_path))
		return err_set(err, ENAMETOOLONG,
			       "linux.seccomp.listenerPath: \"%s\" is too long for a unix socket (at most %zu bytes)",
			       listener_path, sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, listener_path);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return err_sys(err, errno, "linux.seccomp.listenerPath: socket");
	do
		r = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(sock);
		return err_sys(err, e, "linux.seccomp.listenerPath: connect to %s", listener_path);
	}
	*out = sock;
	return 0;
}

static int process_state_json(pid_t pid, const char *metadata, const char *state_json, char **out,
			      size_t *len, struct husk_error *err)
{
	struct oci_state *state = NULL;
	char *fd_names[] = { "seccompFd" };

	int r = oci_decode(&oci_state_type, state_json, strlen(state_json), "container state",
			   (void **)&state, err);
	if (r < 0)
		return r;
	struct process_state ps = {
		.ociVersion = OCI_RUNTIME_SPEC_VERSION,
		.fds = { fd_names, 1 },
		.pid = (int32_t)pid,
		.metadata = (char *)metadata,
		.state = state,
	};
	r = oci_encode(&process_state_type, &ps, false, out, len, err);
	oci_free(&oci_state_type, state);
	return r;
}

int seccomp_notify_send_on(int sock, int notify_fd, pid_t pid, const char *metadata,
			   const char *state_json, struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	int r = process_state_json(pid, metadata, state_json, &json, &len, err);
	if (r < 0)
		return r;
	r = send_with_fd(sock, json, len, notify_fd);
	if (r < 0)
		return err_sys(err, -r, "linux.seccomp.listenerPath: send the seccomp state");
	return 0;
}

int seccomp_check_notify_fd(int fd)
{
	/* only a listener knows SECCOMP_IOCTL_NOTIF_ID_VALID; no notification
	 * has id 0 pending, so a listener answers ENOENT */
	uint64_t id = 0;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno == ENOENT)
		return 0;
	return -EBADF;
}

int seccomp_notify_send(const char *listener_path, int notify_fd, pid_t pid, const char *metadata,
			const char *state_json, struct husk_error *err)
{
	_cleanup_close_ int sock = -1;
	int r = seccomp_listener_connect(listener_path, &sock, err);
	if (r < 0)
		return r;
	return seccomp_notify_send_on(sock, notify_fd, pid, metadata, state_json, err);
}

#ifdef HAVE_SECCOMP

#include <seccomp.h>

#include "common/sha256.h"

#define ACTION_ENUM(n) ACTION_##n,
enum { SECCOMP_ACTION_LIST(ACTION_ENUM) };
#define OPERATOR_VALUE(n) SCMP_CMP_##n,
static const enum scmp_compare operator_values[] = { SECCOMP_OPERATOR_LIST(OPERATOR_VALUE) };
#define ARCH_VALUE(n) SCMP_ARCH_##n,
static const uint32_t arch_values[] = { SECCOMP_ARCH_LIST(ARCH_VALUE) };

static int name_index(const char *const *names, const char *name)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

#define ARCHES_MAX (sizeof(arch_values) / sizeof(arch_values[0]) + 1)
#define MAX_ERRNO 4095
/* Bumped whenever the program generated for the same profile changes. */
#define CACHE_FORMAT "husk-seccomp-bpf-1"
#define CACHE_MAGIC "HUSKBPF1"
#define CACHE_ENTRIES_MAX 128
#define CACHE_FILE_MAX (sizeof(struct cache_header) + BPF_MAXINSNS * sizeof(struct sock_filter))

struct husk_seccomp {
	struct sock_filter *program;
	unsigned short len;
	unsigned int install_flags; /* for seccomp(2), listener flags included */
	bool notify;
	bool from_cache;
};

struct cache_header {
	char magic[8];
	uint32_t len; /* instructions */
	uint32_t reserved;
	unsigned char digest[SHA256_DIGEST_SIZE]; /* of the instructions */
};

/* The profile with every name resolved. */
struct profile {
	const struct oci_seccomp *sc;
	uint32_t default_action;
	uint32_t *actions; /* per syscalls[] entry */
	uint32_t arches[ARCHES_MAX];
	size_t n_arches;
	unsigned int install_flags;
	bool notify;
};

bool seccomp_enabled(void)
{
	return true;
}

/* where: "linux.seccomp" or "linux.seccomp.syscalls[N]"; action_key and
 * errno_key: the JSON keys, for the error messages. */
static int resolve_action(const char *where, const char *action_key, const char *errno_key,
			  const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out,
			  bool *notify, struct husk_error *err)
{
	int i = name_index(husk_seccomp_actions, name);
	uint32_t ret = has_errno ? errno_ret : EPERM;

	if (i < 0)
		return err_set(err, EINVAL, "%s.%s: unknown action \"%s\"", where, action_key, name);
	if (has_errno && i != ACTION_ERRNO && i != ACTION_TRACE)
		return err_set(err, EINVAL,
			       "%s.%s: %s takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
			       where, errno_key, name);
	if (ret > MAX_ERRNO)
		return err_set(err, ERANGE, "%s.%s: %u is out of range (errno values go up to %d)",
			       where, errno_key, ret, MAX_ERRNO);
	switch (i) {
	case ACTION_KILL:
		*out = SCMP_ACT_KILL;
		break;
	case ACTION_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		break;
	case ACTION_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		break;
	case ACTION_TRAP:
		*out = SCMP_ACT_TRAP;
		break;
	case ACTION_ERRNO:
		*out = SCMP_ACT_ERRNO(ret);
		break;
	case ACTION_TRACE:
		*out = SCMP_ACT_TRACE(ret);
		break;
	case ACTION_ALLOW:
		*out = SCMP_ACT_ALLOW;
		break;
	case ACTION_LOG:
		*out = SCMP_ACT_LOG;
		break;
	case ACTION_NOTIFY:
		*out = SCMP_ACT_NOTIFY;
		*notify = true;
		break;
	}
	return 0;
}

static int unsupported_flag(unsigned int install_flags, struct husk_error *err)
{
	for (size_t i = 0; husk_seccomp_flags[i] != NULL; i++)
		if ((install_flags & flag_bits[i]) && kernel_flag_support(flag_bits[i]) == 0)
			return err_set(err, EOPNOTSUPP, "linux.seccomp.flags: %s is not supported by this kernel",
				       husk_seccomp_flags[i]);
	return 0;
}

static int resolve_profile(const struct oci_seccomp *sc, struct profile *p, struct husk_error *err)
{
	char where[64];
	int r;

	p->sc = sc;
	r = resolve_action("linux.seccomp", "defaultAction", "defaultErrnoRet", sc->defaultAction,
			   sc->has_defaultErrnoRet, sc->defaultErrnoRet, &p->default_action,
			   &p->notify, err);
	if (r < 0)
		return r;
	if (p->notify)
		return err_set(err, EINVAL,
			       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

	p->arches[p->n_arches++] = seccomp_arch_native();
	for (size_t i = 0; i < sc->architectures.len; i++) {
		int a = name_index(husk_seccomp_archs, sc->architectures.items[i]);
		if (a < 0)
			return err_set(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
				       i, sc->architectures.items[i]);
		bool seen = false;
		for (size_t k = 0; k < p->n_arches; k++)
			seen |= p->arches[k] == arch_values[a];
		if (!seen)
			p->arches[p->n_arches++] = arch_values[a];
	}

	for (size_t i = 0; i < sc->flags.len; i++) {
		int f = name_index(husk_seccomp_flags, sc->flags.items[i]);
		if (f < 0)
			return err_set(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
				       sc->flags.items[i]);
		p->install_flags |= (unsigned int)flag_bits[f];
	}

	p->actions = calloc(sc->syscalls.len ? sc->syscalls.len : 1, sizeof(*p->actions));
	if (p->actions == NULL)
		return err_sys(err, ENOMEM, "linux.seccomp");
	for (size_t i = 0; i < sc->syscalls.len; i++) {
		const struct oci_seccomp_syscall *sys = &sc->syscalls.items[i];
		if (sys->names.len == 0)
			return err_set(err, EINVAL,
				       "linux.seccomp.syscalls[%zu].names: must name at least one syscall", i);
		snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", i);
		r = resolve_action(where, "action", "errnoRet", sys->action, sys->has_errnoRet,
				   sys->errnoRet, &p->actions[i], &p->notify, err);
		if (r < 0)
			return r;
		for (size_t j = 0; j < sys->args.len; j++) {
			const struct oci_seccomp_arg *arg = &sys->args.items[j];
			if (arg->index > 5)
				return err_set(err, EINVAL,
					       "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of range (syscalls have arguments 0 to 5)",
					       i, j, arg->index);
			if (name_index(husk_seccomp_operators, arg->op) < 0)
				return err_set(err, EINVAL,
					       "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"",
					       i, j, arg->op);
		}
	}

	if (sc->listenerMetadata != NULL && sc->listenerPath == NULL)
		return err_set(err, EINVAL,
			       "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath");
	if (p->notify) {
		if (sc->listenerPath == NULL || sc->listenerPath[0] == '\0')
			return err_set(err, EINVAL,
				       "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
		p->install_flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* With a listener, seccomp(2) returns the fd, so a TSYNC failure
		 * must come back as ESRCH rather than as a thread id. */
		if (p->install_flags & SECCOMP_FILTER_FLAG_TSYNC)
			p->install_flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	if ((p->install_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !p->notify) {
		/* It changes how the listener waits; without one the kernel refuses it. */
		log_debug("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: "
			  "no SCMP_ACT_NOTIFY rule");
		p->install_flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	/* Fail here, before the container exists, rather than at the install.
	 * When the kernel cannot be asked, the install has the last word. */
	return unsupported_flag(p->install_flags, err);
}

static void hash_u64(struct sha256 *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sha256_update(h, b, sizeof(b));
}

/* Length-prefixed so that no two different profiles feed the same bytes. */
static void hash_str(struct sha256 *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	hash_u64(h, s ? n + 1 : 0);
	sha256_update(h, s ? s : "", n);
}

static void hash_strings(struct sha256 *h, const oci_strings *a)
{
	hash_u64(h, a->len);
	for (size_t i = 0; i < a->len; i++)
		hash_str(h, a->items[i]);
}

/* The key covers everything the program depends on: the profile's fields
 * that reach the compiler, the libseccomp that compiles it, the native
 * architecture and the kernel (for the caches that outlive a reboot). */
static void cache_key(const struct oci_seccomp *sc, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
	const struct scmp_version *v = seccomp_version();
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct utsname uts;
	struct sha256 h;

	sha256_init(&h);
	hash_str(&h, CACHE_FORMAT);
	hash_u64(&h, (uint64_t)v->major << 32 | v->minor << 16 | v->micro);
	hash_u64(&h, seccomp_arch_native());
	if (uname(&uts) == 0) {
		hash_str(&h, uts.release);
		hash_str(&h, uts.machine);
	}
	hash_str(&h, sc->defaultAction);
	hash_u64(&h, sc->has_defaultErrnoRet);
	hash_u64(&h, sc->defaultErrnoRet);
	hash_strings(&h, &sc->architectures);
	hash_strings(&h, &sc->flags);
	hash_u64(&h, sc->syscalls.len);
	for (size_t i = 0; i < sc->syscalls.len; i++) {
		const struct oci_seccomp_syscall *sys = &sc->syscalls.items[i];
		hash_strings(&h, &sys->names);
		hash_str(&h, sys->action);
		hash_u64(&h, sys->has_errnoRet);
		hash_u64(&h, sys->errnoRet);
		hash_u64(&h, sys->args.len);
		for (size_t j = 0; j < sys->args.len; j++) {
			hash_u64(&h, sys->args.items[j].index);
			hash_u64(&h, sys->args.items[j].value);
			hash_u64(&h, sys->args.items[j].valueTwo);
			hash_str(&h, sys->args.items[j].op);
		}
	}
	sha256_final(&h, digest);
	sha256_hex(digest, hex);
}

static void program_digest(const struct sock_filter *prog, size_t len,
			   unsigned char digest[SHA256_DIGEST_SIZE])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, prog, len * sizeof(*prog));
	sha256_final(&h, digest);
}

/* A cache someone else can write to could hand us a permissive filter. */
static bool owned_and_private(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *slash = strchr(path + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash != NULL)
			*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (slash == NULL)
			return 0;
		*slash = '/';
	}
}

static int open_cache_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		int r = mkdir_parents(dir);
		if (r < 0)
			return r;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (!owned_and_private(fd)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* 0 and s->program set on a hit; -errno on a miss (never fatal). */
static int cache_load(int dirfd, const char *name, struct husk_seccomp *s)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct husk_error ignored;
	struct cache_header hdr;
	size_t len;

	if (fd < 0)
		return -errno;
	if (!owned_and_private(fd))
		return -EPERM;
	if (read_fd_all(fd, name, CACHE_FILE_MAX, &buf, &len, &ignored) < 0)
		return -ignored.code;
	if (len < sizeof(hdr))
		return -EBADMSG;
	memcpy(&hdr, buf, sizeof(hdr));
	if (memcmp(hdr.magic, CACHE_MAGIC, sizeof(hdr.magic)) != 0 || hdr.len == 0 ||
	    hdr.len > BPF_MAXINSNS || len != sizeof(hdr) + hdr.len * sizeof(struct sock_filter))
		return -EBADMSG;
	struct sock_filter *prog = malloc(hdr.len * sizeof(*prog));
	if (prog == NULL)
		return -ENOMEM;
	memcpy(prog, buf + sizeof(hdr), hdr.len * sizeof(*prog));
	program_digest(prog, hdr.len, digest);
	if (memcmp(digest, hdr.digest, sizeof(digest)) != 0) {
		free(prog);
		return -EBADMSG;
	}
	s->program = prog;
	s->len = (unsigned short)hdr.len;
	return 0;
}

struct cache_entry {
	char name[2 * SHA256_DIGEST_SIZE + 1];
	struct timespec written;
};

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cache_entry *)a)->written;
	const struct timespec *y = &((const struct cache_entry *)b)->written;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Keep at most CACHE_ENTRIES_MAX programs: profiles come and go, and a
 * libseccomp or kernel update orphans every key. The oldest written go
 * first; a profile still in use costs one more compile. Runs on misses
 * only, which pay for a compile anyway. */
static void cache_evict(int dirfd)
{
	struct cache_entry *entries = NULL;
	size_t n = 0, cap = 0;
	int fd = dup(dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		struct stat st;
		if (strlen(e->d_name) != 2 * SHA256_DIGEST_SIZE ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : CACHE_ENTRIES_MAX + 1;
			struct cache_entry *grown = realloc(entries, cap * sizeof(*entries));
			if (grown == NULL)
				break;
			entries = grown;
		}
		memcpy(entries[n].name, e->d_name, sizeof(entries[n].name));
		entries[n++].written = st.st_mtim;
	}
	closedir(dir);
	if (n > CACHE_ENTRIES_MAX) {
		qsort(entries, n, sizeof(*entries), older_first);
		for (size_t i = 0; i < n - CACHE_ENTRIES_MAX; i++)
			unlinkat(dirfd, entries[i].name, 0);
	}
	free(entries);
}

static void cache_store(int dirfd, const char *name, const struct husk_seccomp *s)
{
	size_t size = sizeof(struct cache_header) + s->len * sizeof(*s->program);
	_cleanup_free_ char *buf = malloc(size);
	struct cache_header hdr = { .magic = CACHE_MAGIC, .len = s->len };
	struct husk_error err;

	if (buf == NULL)
		return;
	program_digest(s->program, s->len, hdr.digest);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), s->program, s->len * sizeof(*s->program));
	if (write_file_atomic(dirfd, name, buf, size, 0600, &err) < 0)
		log_debug("seccomp cache: %s", err.msg);
	cache_evict(dirfd);
}

static bool same_index_twice(const struct oci_seccomp_syscall *sys)
{
	unsigned seen = 0;
	for (size_t j = 0; j < sys->args.len; j++) {
		if (seen & (1u << sys->args.items[j].index))
			return true;
		seen |= 1u << sys->args.items[j].index;
	}
	return false;
}

static struct scmp_arg_cmp arg_cmp(const struct oci_seccomp_arg *arg)
{
	/* MASKED_EQ reads (arg & value) == valueTwo; the others ignore valueTwo. */
	return (struct scmp_arg_cmp){
		.arg = arg->index,
		.op = operator_values[name_index(husk_seccomp_operators, arg->op)],
		.datum_a = arg->value,
		.datum_b = arg->valueTwo,
	};
}

/* Returns libseccomp's answer (0 or -errno). */
static int add_rules(scmp_filter_ctx ctx, uint32_t action, int nr,
		     const struct oci_seccomp_syscall *sys)
{
	struct scmp_arg_cmp cmps[6];
	int r = 0;

	/* Conditions are AND-ed within one rule, and a rule cannot test one
	 * argument twice. When an entry does, the reference behaviour (which
	 * profiles in the wild are written against) is one rule per
	 * condition: every condition of the entry is OR-ed. */
	if (same_index_twice(sys)) {
		for (size_t j = 0; j < sys->args.len && r == 0; j++) {
			cmps[0] = arg_cmp(&sys->args.items[j]);
			r = seccomp_rule_add_array(ctx, action, nr, 1, cmps);
		}
		return r;
	}
	/* distinct indexes 0-5: at most six conditions */
	for (size_t j = 0; j < sys->args.len; j++)
		cmps[j] = arg_cmp(&sys->args.items[j]);
	return seccomp_rule_add_array(ctx, action, nr, (unsigned)sys->args.len, cmps);
}

/*
 * ENOSYS for syscalls newer than the profile.
 *
 * With an errno default action, a syscall the profile's author never heard
 * of fails with that errno (EPERM), and libc takes EPERM as a verdict
 * instead of falling back (clone3 -> clone, faccessat2 -> faccessat, ...).
 * So for every architecture of the filter, syscall numbers above the
 * highest one the profile names return ENOSYS, as if the kernel lacked them.
 *
 * This is a stub prepended to libseccomp's program rather than libseccomp
 * rules for the syscalls above the highest: those rules could only cover
 * syscalls libseccomp knows, and the ones that matter most are the ones
 * newer than the installed libseccomp (Debian 12's knows nothing past
 * Linux 6.7: statmount, mseal, setxattrat... are numbers to it, not names);
 * a range check also costs two instructions instead of one rule per
 * syscall. Prepending is safe because BPF jumps are relative and forward
 * only, and libseccomp's program loads what it needs from seccomp_data
 * itself.
 *
 * Numbers are compared within a segment of an architecture's number
 * space: x86_64 [0, 0x40000000) and x32 [0x40000000, 0x40000200) share an
 * audit arch (x32's 512+ compat range keeps its own numbering), and ARM's
 * private syscalls (0xf0000+) sit far above the regular ones. Numbers
 * outside every segment go to libseccomp's program untouched.
 */
struct segment {
	uint32_t audit_arch;
	uint32_t lo, hi; /* hi == 0: no upper bound */
	bool known;
	uint32_t max;
};

static void arch_segment(uint32_t token, struct segment *seg)
{
	*seg = (struct segment){ .audit_arch = token };
	if (token == SCMP_ARCH_X86_64) {
		seg->hi = 0x40000000;
	} else if (token == SCMP_ARCH_X32) {
		seg->audit_arch = SCMP_ARCH_X86_64;
		seg->lo = 0x40000000;
		seg->hi = 0x40000200;
	} else if (token == SCMP_ARCH_ARM) {
		seg->hi = 0xf0000;
	}
}

static void segment_add(struct segment *seg, int nr)
{
	if (nr < 0 || (uint32_t)nr < seg->lo || (seg->hi && (uint32_t)nr >= seg->hi))
		return;
	if (!seg->known || (uint32_t)nr > seg->max)
		seg->max = (uint32_t)nr;
	seg->known = true;
}

#define STUB_MAX 256
#define LOAD(field) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,                        \
						  offsetof(struct seccomp_data, field)))
#define JUMP(op, k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (jt), (jf)))

static int enosys_stub(const struct profile *p, struct sock_filter *stub, size_t *stub_len,
		       struct husk_error *err)
{
	struct segment segs[ARCHES_MAX];
	size_t enosys_jumps[ARCHES_MAX * 2], main_jumps[ARCHES_MAX + 1];
	size_t n = 0, n_jumps = 0, n_main = 0;
	bool done[ARCHES_MAX] = { false };

	for (size_t a = 0; a < p->n_arches; a++) {
		arch_segment(p->arches[a], &segs[a]);
		for (size_t i = 0; i < p->sc->syscalls.len; i++) {
			const oci_strings *names = &p->sc->syscalls.items[i].names;
			for (size_t j = 0; j < names->len; j++) {
				const char *name = names->items[j];
				segment_add(&segs[a], seccomp_syscall_resolve_name_arch(p->arches[a], name));
			}
		}
	}

	stub[n++] = LOAD(arch);
	for (size_t a = 0; a < p->n_arches; a++) {
		if (done[a] || !segs[a].known)
			continue;
		size_t check = n++;
		stub[n++] = LOAD(nr);
		for (size_t b = a; b < p->n_arches; b++) {
			if (segs[b].audit_arch != segs[a].audit_arch || !segs[b].known)
				continue;
			done[b] = true;
			if (segs[b].hi)
				stub[n++] = JUMP(BPF_JGE, segs[b].hi, 1, 0);
			enosys_jumps[n_jumps++] = n;
			stub[n++] = JUMP(BPF_JGT, segs[b].max, 0, 0); /* jt set below */
		}
		main_jumps[n_main++] = n;
		stub[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
		stub[check] = JUMP(BPF_JEQ, segs[a].audit_arch, 0, (unsigned char)(n - check - 1));
	}
	if (n_main == 0) { /* the profile names nothing this filter can number */
		*stub_len = 0;
		return 0;
	}
	main_jumps[n_main++] = n;
	stub[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
	size_t enosys = n;
	stub[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	if (n > UCHAR_MAX)
		return err_set(err, E2BIG, "linux.seccomp: too many architectures");
	for (size_t k = 0; k < n_jumps; k++)
		stub[enosys_jumps[k]].jt = (unsigned char)(enosys - enosys_jumps[k] - 1);
	for (size_t k = 0; k < n_main; k++)
		stub[main_jumps[k]].k = (uint32_t)(n - main_jumps[k] - 1);
	*stub_len = n;
	return 0;
}

/* libseccomp 2.5 exports only to an fd. */
static int export_program(scmp_filter_ctx ctx, struct sock_filter **out, size_t *len)
{
	_cleanup_close_ int fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0)
		return -EBADMSG;
	*out = malloc((size_t)st.st_size);
	if (*out == NULL)
		return -ENOMEM;
	if (pread(fd, *out, (size_t)st.st_size, 0) != st.st_size) {
		r = errno ? -errno : -EIO;
		free(*out);
		*out = NULL;
		return r;
	}
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	return 0;
}

static int compile(const struct profile *p, struct husk_seccomp *s, struct husk_error *err)
{
	const struct oci_seccomp *sc = p->sc;
	struct sock_filter stub[STUB_MAX], *body = NULL;
	size_t stub_len = 0, body_len = 0;
	int r = 0;

	scmp_filter_ctx ctx = seccomp_init(p->default_action);
	if (ctx == NULL)
		return err_set(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused %s",
			       sc->defaultAction);
	/* A binary tree over the syscall numbers: fewer instructions run per
	 * syscall with profiles of hundreds of rules. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		log_debug("seccomp: libseccomp cannot build a binary tree; using a linear filter");
	for (size_t a = 1; a < p->n_arches && r >= 0; a++) {
		r = seccomp_arch_add(ctx, p->arches[a]);
		if (r < 0 && r != -EEXIST) {
			err_sys(err, -r, "linux.seccomp.architectures: cannot add architecture %#x",
				p->arches[a]);
			goto out;
		}
		r = 0;
	}
	for (size_t i = 0; i < sc->syscalls.len; i++) {
		const struct oci_seccomp_syscall *sys = &sc->syscalls.items[i];
		for (size_t j = 0; j < sys->names.len; j++) {
			int nr = seccomp_syscall_resolve_name(sys->names.items[j]);
			if (nr == __NR_SCMP_ERROR) {
				log_debug("linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall \"%s\" skipped",
					  i, j, sys->names.items[j]);
				continue;
			}
			if (p->actions[i] == p->default_action)
				continue; /* libseccomp refuses a rule that changes nothing */
			r = add_rules(ctx, p->actions[i], nr, sys);
			if (r < 0) {
				err_sys(err, -r, "linux.seccomp.syscalls[%zu]: cannot add a rule for \"%s\"",
					i, sys->names.items[j]);
				goto out;
			}
		}
	}
	r = export_program(ctx, &body, &body_len);
	if (r < 0) {
		err_sys(err, -r, "linux.seccomp: export the BPF program");
		goto out;
	}
	if ((p->default_action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO &&
	    (p->default_action & SECCOMP_RET_DATA) != ENOSYS) {
		r = enosys_stub(p, stub, &stub_len, err);
		if (r < 0)
			goto out;
	}
	if (stub_len + body_len > BPF_MAXINSNS) {
		r = err_set(err, E2BIG,
			    "linux.seccomp: the filter has %zu instructions, more than the kernel's %d",
			    stub_len + body_len, BPF_MAXINSNS);
		goto out;
	}
	s->program = malloc((stub_len + body_len) * sizeof(*s->program));
	if (s->program == NULL) {
		r = err_sys(err, ENOMEM, "linux.seccomp");
		goto out;
	}
	memcpy(s->program, stub, stub_len * sizeof(*stub));
	memcpy(s->program + stub_len, body, body_len * sizeof(*body));
	s->len = (unsigned short)(stub_len + body_len);
	r = 0;
out:
	free(body);
	seccomp_release(ctx);
	return r;
}

int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir, struct husk_seccomp **out,
		    struct husk_error *err)
{
	struct profile p = { 0 };
	char key[2 * SHA256_DIGEST_SIZE + 1];
	_cleanup_close_ int dirfd = -1;
	int r;

	*out = NULL;
	if (sc == NULL)
		return 0;
	struct husk_seccomp *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_sys(err, ENOMEM, "linux.seccomp");
	r = resolve_profile(sc, &p, err);
	if (r < 0)
		goto fail;
	s->install_flags = p.install_flags;
	s->notify = p.notify;

	if (cache_dir != NULL) {
		cache_key(sc, key);
		dirfd = open_cache_dir(cache_dir);
		if (dirfd < 0)
			log_debug("seccomp cache %s: %s", cache_dir, strerror(-dirfd));
		else if (cache_load(dirfd, key, s) == 0)
			s->from_cache = true;
	}
	if (!s->from_cache) {
		r = compile(&p, s, err);
		if (r < 0)
			goto fail;
		if (dirfd >= 0)
			cache_store(dirfd, key, s);
	}
	free(p.actions);
	*out = s;
	return 0;
fail:
	free(p.actions);
	seccomp_free(s);
	return r;
}

int seccomp_install(const struct husk_seccomp *s, int *notify_fd, struct husk_error *err)
{
	if (notify_fd != NULL)
		*notify_fd = -1;
	if (s == NULL)
		return 0;
	if (s->notify && notify_fd == NULL)
		return err_set(err, EINVAL,
			       "seccomp: the profile uses SCMP_ACT_NOTIFY: the listener fd has nowhere to go");
	struct sock_fprog prog = { .len = s->len, .filter = s->program };
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->install_flags, &prog);
	if (r < 0) {
		int e = errno;
		if (e == EACCES)
			return err_sys(err, e, "seccomp: load the filter (it needs no_new_privs or CAP_SYS_ADMIN)");
		if (e == EINVAL && unsupported_flag(s->install_flags, err) < 0)
			return -err->code;
		if (e == ESRCH && (s->install_flags & SECCOMP_FILTER_FLAG_TSYNC))
			return err_sys(err, e,
				       "seccomp: SECCOMP_FILTER_FLAG_TSYNC: another thread cannot take the filter");
		return err_sys(err, e, "seccomp: load the filter");
	}
	if (s->notify) {
		*notify_fd = (int)r;
	} else if (r > 0) {
		/* TSYNC without a listener reports the thread that failed. */
		return err_set(err, ESRCH,
			       "seccomp: SECCOMP_FILTER_FLAG_TSYNC: thread %ld cannot take the filter", r);
	}
	return 0;
}

void seccomp_free(struct husk_seccomp *s)
{
	if (s == NULL)
		return;
	free(s->program);
	free(s);
}

bool seccomp_uses_notify(const struct husk_seccomp *s)
{
	return s != NULL && s->notify;
}

bool seccomp_from_cache(const struct husk_seccomp *s)
{
	return s != NULL && s->from_cache;
}

size_t seccomp_program_len(const struct husk_seccomp *s)
{
	return s != NULL ? s->len : 0;
}

#else /* !HAVE_SECCOMP */

bool seccomp_enabled(void)
{
	return false;
}

int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir, struct husk_seccomp **out,
		    struct husk_error *err)
{
	*out = NULL;
	if (sc == NULL)
		return 0;
	return err_set(err, EOPNOTSUPP,
		       "linux.seccomp: this husk was built without seccomp support (configure --disable-seccomp)");
}

int seccomp_install(const struct husk_seccomp *s, int *notify_fd, struct husk_error *err)
{
	if (notify_fd != NULL)
		*notify_fd = -1;
	return 0;
}

void seccomp_free(struct husk_seccomp *s)
{
}

bool seccomp_uses_notify(const struct husk_seccomp *s)
{
	return false;
}

bool seccomp_from_cache(const struct husk_seccomp *s)
{
	return false;
}

size_t seccomp_program_len(const struct husk_seccomp *s)
{
	return 0;
}

#endif
