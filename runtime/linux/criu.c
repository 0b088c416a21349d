#include "runtime/linux/criu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"

/* CRIU's answers are small (the largest is a notify with a script name);
 * one bigger than this is refused, never cut. */
#define CRIU_RESP_MAX 65536
/* How much of the end of CRIU's log an error quotes. */
#define LOG_TAIL_BYTES 480
#define LOG_TAIL_LINES 3

static const char *req_name(enum criu_req_type t)
{
	switch (t) {
	case CRIU_REQ_DUMP:
		return "dump";
	case CRIU_REQ_PRE_DUMP:
		return "pre-dump";
	case CRIU_REQ_RESTORE:
		return "restore";
	case CRIU_REQ_VERSION:
		return "version";
	case CRIU_REQ_FEATURE_CHECK:
		return "feature check";
	default:
		return "request";
	}
}

/* Append line [p, e) to out, printable ASCII only, " | " between lines. */
static void append_line(char *out, size_t size, size_t *o, const char *p, const char *e)
{
	if (*o && *o + 4 < size)
		*o += (size_t)snprintf(out + *o, size - *o, " | ");
	for (; p < e && *o + 1 < size; p++) {
		unsigned char ch = (unsigned char)*p;
		out[(*o)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[*o] = '\0';
}

/* What CRIU's log (workdir/logfile) says at its end, on one line: its
 * last "Error" lines when it has some (the cause, where the tail is often
 * CRIU undoing its work), else its last lines; "" when it cannot be read. */
static void log_tail(const struct criu_call *call, char *out, size_t size)
{
	out[0] = '\0';
	if (call->opts == NULL || call->opts->log_file == NULL || call->opts->work_dir_fd < 0)
		return;
	_cleanup_close_ int fd =
		openat(call->opts->work_dir_fd, call->opts->log_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return;
	static char buf[16384];
	off_t from = end > (off_t)(sizeof(buf) - 1) ? end - (off_t)(sizeof(buf) - 1) : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* the lines, last first: up to LOG_TAIL_LINES error lines, or the
	 * last LOG_TAIL_LINES lines when there is none */
	const char *starts[LOG_TAIL_LINES], *ends[LOG_TAIL_LINES];
	size_t found = 0;
	for (int want_errors = 1; want_errors >= 0 && found == 0; want_errors--) {
		char *e = buf + n;
		while (e > buf && found < LOG_TAIL_LINES) {
			while (e > buf && (e[-1] == '\n' || e[-1] == '\0'))
				e--;
			char *b = e;
			while (b > buf && b[-1] != '\n')
				b--;
			if (b == e)
				break;
			/* a line cut by the start of the buffer is not quoted */
			if (b == buf && from > 0)
				break;
			if (!want_errors || memmem(b, (size_t)(e - b), "Error (", 7)) {
				starts[found] = b;
				ends[found] = e;
				found++;
			}
			e = b;
		}
	}
	size_t o = 0;
	while (found-- > 0 && o < LOG_TAIL_BYTES)
		append_line(out, size, &o, starts[found], ends[found]);
}

static int criu_failed(const struct criu_call *call, int code, const char *what,
		       struct husk_error *err)
{
	char tail[LOG_TAIL_BYTES + 64];
	log_tail(call, tail, sizeof(tail));
	const char *log = call->opts ? call->opts->log_file : NULL;
	if (log && call->work_dir)
		return err_set(err, code, "criu %s failed: %s; log %s/%s%s%s", req_name(call->type),
			       what, call->work_dir, log, tail[0] ? ": " : "", tail);
	return err_set(err, code, "criu %s failed: %s", req_name(call->type), what);
}

/* In the child: the socket as fd 3, the passed fds as 4.., then exec. */
static void exec_criu(const struct criu_call *call, int sock)
{
	struct husk_error err = { 0 };
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* move everything out of the way of 3.. first */
	int base = 3 + 1 + (int)call->n_pass_fds;
	int s = fcntl(sock, F_DUPFD, base);
	int moved[64];
	size_t n = call->n_pass_fds < 64 ? call->n_pass_fds : 64;
	for (size_t i = 0; i < n; i++)
		moved[i] = fcntl(call->pass_fds[i], F_DUPFD, base);
	if (s < 0 || dup2(s, 3) < 0)
		_exit(126);
	for (size_t i = 0; i < n; i++)
		if (moved[i] < 0 || dup2(moved[i], 4 + (int)i) < 0)
			_exit(126);
	if (call->cgroup && cgroup_join_self(call->cgroup, false, &err) < 0) {
		fprintf(stderr, "husk: %s\n", err.msg);
		_exit(126);
	}
	/* nothing else of husk's stays open in criu */
	close_range((unsigned)(4 + n), ~0U, 0);
	execlp(call->criu, call->criu, "swrk", "3", (char *)NULL);
	fprintf(stderr, "husk: exec %s: %s\n", call->criu, strerror(errno));
	_exit(127);
}

/* One answer; the first fd passed along with it (orphan-pts-master) in
 * *fd (-1: none), any other closed. */
static ssize_t recv_answer(int sock, uint8_t *buf, size_t size, bool *truncated, int *fd_out)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			      .msg_controllen = sizeof(ctl) };
	ssize_t n;
	*fd_out = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd_out < 0)
				*fd_out = fd;
			else
				close(fd);
		}
	}
	*truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return n;
}

static int send_req(int sock, const struct strbuf *req)
{
	ssize_t n;
	while ((n = send(sock, req->buf, req->len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)req->len ? 0 : -1;
}

static int kept_error(const struct husk_error *err)
{
	return err->code > 0 ? -err->code : -EIO;
}

/* Read answers until the final one, acknowledging notifications (or
 * failing them when the callback fails: *notify_failed then holds its
 * error, which the final answer does not replace). */
static int converse(const struct criu_call *call, int sock, struct criu_resp *resp,
		    bool *notify_failed, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf req = STRBUF_INIT;
	int r = criu_req_encode(call->type, call->opts, false, &req, err);
	if (r < 0)
		return r;
	if (send_req(sock, &req) < 0)
		return err_sys(err, errno, "send the request to criu");
	_cleanup_free_ uint8_t *buf = malloc(CRIU_RESP_MAX);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "criu");
	for (;;) {
		bool truncated = false;
		int fd = -1;
		/* once a callback failed, its error is the one kept */
		struct husk_error later;
		struct husk_error *e = *notify_failed ? &later : err;
		ssize_t n = recv_answer(sock, buf, CRIU_RESP_MAX, &truncated, &fd);
		if (n < 0 && errno != ECONNRESET)
			r = err_sys(e, errno, "read criu's answer");
		else if (n <= 0)
			r = -EPIPE; /* criu exited without answering */
		else if (truncated)
			r = err_set(e, EPROTO, "criu's answer is over %d bytes", CRIU_RESP_MAX);
		else
			r = criu_resp_decode(buf, (size_t)n, resp, e);
		if (r < 0 || resp->type != CRIU_REQ_NOTIFY || !resp->success) {
			if (fd >= 0)
				close(fd);
			return *notify_failed ? kept_error(err) : r;
		}
		log_debug("criu notify: %s (pid %d)", resp->notify_script, resp->notify_pid);
		bool ok = true;
		if (call->notify && !*notify_failed) {
			ok = call->notify(call->notify_arg, resp, fd, err) == 0;
			*notify_failed = !ok;
			e = ok ? err : &later;
		} else if (fd >= 0) {
			close(fd);
		}
		sb_reset(&req);
		if ((r = criu_req_encode(CRIU_REQ_NOTIFY, NULL, ok, &req, e)) < 0 ||
		    (send_req(sock, &req) < 0 &&
		     (r = err_sys(e, errno, "acknowledge criu's notification")) < 0))
			return *notify_failed ? kept_error(err) : r;
	}
}

int criu_call(const struct criu_call *call, struct criu_resp *resp, struct husk_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(err, errno, "socketpair for criu");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return err_sys(err, e, "fork criu");
	}
	if (pid == 0) {
		close(sv[0]);
		exec_criu(call, sv[1]);
	}
	close(sv[1]);
	memset(resp, 0, sizeof(*resp));
	bool notify_failed = false;
	int r = converse(call, sv[0], resp, &notify_failed, err);
	/* closing our end ends criu's service loop */
	close(sv[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (notify_failed) {
		/* ours is the cause; CRIU's log has the rest */
		const char *log = call->opts ? call->opts->log_file : NULL;
		if (log && call->work_dir)
			return err_prefix(err, "criu %s failed (log %s/%s)", req_name(call->type),
					  call->work_dir, log);
		return err_prefix(err, "criu %s failed", req_name(call->type));
	}
	if (r == -EPIPE) {
		char what[128];
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(what, sizeof(what), "%s could not be run (is CRIU installed?)",
				 call->criu);
		else if (WIFEXITED(status))
			snprintf(what, sizeof(what), "criu exited with status %d without answering",
				 WEXITSTATUS(status));
		else
			snprintf(what, sizeof(what), "criu was killed by signal %d without answering",
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return criu_failed(call, EPIPE, what, err);
	}
	if (r < 0)
		return r;
	if (!resp->success) {
		char what[400];
		int e = resp->cr_errno > 0 && resp->cr_errno < 4096 ? resp->cr_errno : EIO;
		size_t len = strlen(resp->cr_errmsg);
		while (len && (resp->cr_errmsg[len - 1] == '\n' || resp->cr_errmsg[len - 1] == ' '))
			resp->cr_errmsg[--len] = '\0';
		if (resp->has_cr_errmsg && resp->cr_errmsg[0])
			snprintf(what, sizeof(what), "%s (errno %d)", resp->cr_errmsg, resp->cr_errno);
		else
			snprintf(what, sizeof(what), "errno %d (%s)", resp->cr_errno,
				 resp->cr_errno > 0 ? strerror(resp->cr_errno) : "none given");
		return criu_failed(call, e, what, err);
	}
	if ((int32_t)call->type != resp->type)
		return criu_failed(call, EPROTO, "it answered another request type", err);
	return 0;
}

int criu_version(const char *criu, int *version, struct husk_error *err)
{
	struct criu_call call = { .criu = criu, .type = CRIU_REQ_VERSION };
	struct criu_resp resp;
	int r = criu_call(&call, &resp, err);
	if (r < 0)
		return r;
	if (!resp.has_version)
		return err_set(err, EPROTO, "criu did not say its version");
	*version = resp.version_major * 10000 + resp.version_minor * 100 + resp.version_sublevel;
	return 0;
}

static bool is_bind(const struct oci_mount *m)
{
	if (m->type && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; i < m->options.len; i++)
		if (strcmp(m->options.items[i], "bind") == 0 || strcmp(m->options.items[i], "rbind") == 0)
			return true;
	return false;
}

static int mounts_add(struct criu_mounts *m, const char *key, const char *val, char *owned,
		      struct husk_error *err)
{
	struct criu_kv *kv = realloc(m->kv, (m->n + 1) * sizeof(*kv));
	if (kv == NULL) {
		free(owned);
		return err_sys(err, ENOMEM, "criu mounts");
	}
	m->kv = kv;
	if (owned) {
		char **o = realloc(m->owned, (m->n_owned + 1) * sizeof(*o));
		if (o == NULL) {
			free(owned);
			return err_sys(err, ENOMEM, "criu mounts");
		}
		m->owned = o;
		m->owned[m->n_owned++] = owned;
	}
	m->kv[m->n++] = (struct criu_kv){ key, val };
	return 0;
}

int criu_mounts_for(const struct oci_config *cfg, const char *bundle, pid_t pid, bool restore,
		    struct criu_mounts *out, struct husk_error *err)
{
	int r = 0;
	*out = (struct criu_mounts){ 0 };
	for (size_t i = 0; i < cfg->mounts.len && r == 0; i++) {
		const struct oci_mount *m = &cfg->mounts.items[i];
		if (!is_bind(m) || m->destination == NULL)
			continue;
		if (!restore) {
			r = mounts_add(out, m->destination, m->destination, NULL, err);
		} else if (m->source && m->source[0] == '/') {
			r = mounts_add(out, m->destination, m->source, NULL, err);
		} else {
			char *src = NULL;
			if ((r = str_fmt(&src, PATH_MAX, err, "mounts[].source", "%s/%s", bundle,
					 m->source ? m->source : "")) == 0)
				r = mounts_add(out, m->destination, src, src, err);
		}
	}
	const struct oci_linux *lx = cfg->linux;
	bool masked_file = false;
	for (size_t i = 0; lx && i < lx->maskedPaths.len && r == 0; i++) {
		const char *path = lx->maskedPaths.items[i];
		if (restore) {
			masked_file = true;
			break;
		}
		char proc[PATH_MAX];
		struct stat st;
		/* through the init's root: the path as the container sees it */
		if (snprintf(proc, sizeof(proc), "/proc/%d/root%s%s", (int)pid, path[0] == '/' ? "" : "/",
			     path) >= (int)sizeof(proc) ||
		    stat(proc, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		r = mounts_add(out, path, "/dev/null", NULL, err);
	}
	if (masked_file && r == 0)
		r = mounts_add(out, "/dev/null", "/dev/null", NULL, err);
	for (size_t i = 0; lx && i < lx->devices.len && r == 0; i++)
		if (lx->devices.items[i].path)
			r = mounts_add(out, lx->devices.items[i].path, lx->devices.items[i].path, NULL,
				       err);
	if (r < 0)
		criu_mounts_free(out);
	return r;
}

void criu_mounts_free(struct criu_mounts *m)
{
	for (size_t i = 0; i < m->n_owned; i++)
		free(m->owned[i]);
	free(m->owned);
	free(m->kv);
	*m = (struct criu_mounts){ 0 };
}

int criu_cg_mode_parse(const char *s, enum criu_cg_mode *out)
{
	static const struct {
		const char *name;
		enum criu_cg_mode mode;
	} modes[] = { { "soft", CRIU_CG_SOFT },
		      { "full", CRIU_CG_FULL },
		      { "strict", CRIU_CG_STRICT },
		      { "ignore", CRIU_CG_IGNORE } };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i].name) == 0) {
			*out = modes[i].mode;
			return 0;
		}
	return -EINVAL;
}
