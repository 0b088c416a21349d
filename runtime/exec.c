/* husk exec: run a new process in a running container. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "runtime/foreground.h"
#include "runtime/lifecycle.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/enter.h"
#include "runtime/linux/lsm.h"
#include "runtime/linux/terminal.h"

struct exec_flags {
	const char *process_file, *console_socket, *pid_file, *cwd, *user, *process_label, *apparmor;
	bool tty, detach, no_new_privs, ignore_paused;
	int preserve_fds;
	/* --cgroup: controller and path strings owned here */
	struct cgroup_sub subs[CGROUP_MAX_SUBS];
	size_t n_subs;
	int n_cgroup_args;
	oci_strings env, caps, gids;
};

/* The option lists exec_run collects: freed on every return. */
static void exec_flags_free(struct exec_flags *f)
{
	oci_strings *lists[] = { &f->env, &f->caps, &f->gids };
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		for (size_t i = 0; i < lists[k]->len; i++)
			free(lists[k]->items[i]);
		free(lists[k]->items);
	}
	for (size_t i = 0; i < f->n_subs; i++) {
		free((char *)f->subs[i].controller);
		free((char *)f->subs[i].path);
	}
}

static int set_env(oci_strings *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->items[i], kv, klen) == 0 && env->items[i][klen] == '=') {
			char *copy = strdup(kv);
			if (copy == NULL)
				return -ENOMEM;
			free(env->items[i]);
			env->items[i] = copy;
			return 0;
		}
	}
	return oci_strings_append(env, kv);
}

static int replace_str(char **field, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* --cgroup [CONTROLLER[,CONTROLLER...]:]PATH, runc's syntax: PATH is
 * below the container's cgroup (a leading '/' is that cgroup, as in runc);
 * '..' is refused, so no spelling leaves it. */
static int add_cgroup_arg(struct exec_flags *f, const char *arg, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	const char *colon = strchr(arg, ':');
	const char *p = colon ? colon + 1 : arg;
	int r;

	if (colon && strchr(p, ':'))
		return err_set(err, EINVAL, "--cgroup: \"%s\" is not [CONTROLLER:]PATH", arg);
	if (strlen(arg) > 4096)
		return err_set(err, ENAMETOOLONG, "--cgroup: longer than 4096 bytes");
	for (const char *c = p; *c;) {
		size_t l = strcspn(c, "/");
		if (l == 2 && strncmp(c, "..", 2) == 0)
			return err_set(err, EINVAL,
				       "--cgroup: \"%s\": '..' would leave the container's cgroup", arg);
		if (l && !(l == 1 && c[0] == '.')) {
			if (path.len)
				sb_addc(&path, '/');
			sb_addn(&path, c, l);
		}
		c += l + (c[l] == '/');
	}
	if ((r = sb_check(&path, err, "--cgroup")) < 0)
		return r;
	if (path.len == 0)
		return err_set(err, EINVAL, "--cgroup: \"%s\" names no sub-cgroup", arg);
	char *controllers = colon ? strndup(arg, (size_t)(colon - arg)) : strdup("");
	char *owned = sb_take(&path);
	if (controllers == NULL || owned == NULL) {
		free(controllers);
		free(owned);
		return err_sys(err, ENOMEM, "--cgroup");
	}
	f->n_cgroup_args++;
	r = 0;
	for (char *save = NULL, *c = colon ? strtok_r(controllers, ",", &save) : controllers; c;
	     c = colon ? strtok_r(NULL, ",", &save) : NULL) {
		for (const char *q = c; *q; q++)
			if (!(*q >= 'a' && *q <= 'z') && !(*q >= '0' && *q <= '9') && *q != '_' && *q != '=') {
				r = err_set(err, EINVAL, "--cgroup: \"%s\": \"%s\" is not a controller", arg, c);
				goto out;
			}
		for (size_t i = 0; i < f->n_subs; i++)
			if (strcmp(f->subs[i].controller, c) == 0) {
				r = err_set(err, EINVAL, "--cgroup: controller \"%s\" given twice", c);
				goto out;
			}
		if (f->n_subs == CGROUP_MAX_SUBS) {
			r = err_set(err, E2BIG, "--cgroup: more than %d controllers", CGROUP_MAX_SUBS);
			goto out;
		}
		char *cc = strdup(c), *pc = strdup(owned);
		if (cc == NULL || pc == NULL) {
			free(cc);
			free(pc);
			r = err_sys(err, ENOMEM, "--cgroup");
			goto out;
		}
		f->subs[f->n_subs++] = (struct cgroup_sub){ .controller = cc, .path = pc };
	}
	if (colon && f->n_subs == 0)
		r = err_set(err, EINVAL, "--cgroup: \"%s\": empty controller list", arg);
out:
	free(controllers);
	free(owned);
	return r;
}

/* The process to run: --process FILE, or the container's own process with
 * the command line's changes. --cap adds to the bounding, effective and
 * permitted sets only: never to the inheritable one. */
static int build_process(struct oci_config *cfg, const struct exec_flags *f, int argc, char **argv,
			 struct oci_process **out, struct husk_error *err)
{
	struct oci_process *p = NULL;
	int r;

	if (f->process_file) {
		r = oci_decode_file(&oci_process_type, AT_FDCWD, f->process_file, f->process_file,
				    (void **)&p, err);
		if (r < 0)
			return r;
		/* a process.json without labels stays in the container's
		 * confinement (as runc does), never outside it */
		const struct oci_process *init = cfg->process;
		if (init && (!p->selinuxLabel || !p->selinuxLabel[0]) && init->selinuxLabel &&
		    replace_str(&p->selinuxLabel, init->selinuxLabel) < 0)
			goto nomem;
		if (init && (!p->apparmorProfile || !p->apparmorProfile[0]) &&
		    init->apparmorProfile && replace_str(&p->apparmorProfile, init->apparmorProfile) < 0)
			goto nomem;
	} else {
		if (argc == 0)
			return err_set(err, EINVAL, "exec: no command given (ARGS or --process)");
		p = cfg->process;
		cfg->process = NULL;
		for (size_t i = 0; i < p->args.len; i++)
			free(p->args.items[i]);
		p->args.len = 0;
		for (int i = 0; i < argc; i++)
			if (oci_strings_append(&p->args, argv[i]) < 0)
				goto nomem;
	}
	for (size_t i = 0; i < f->env.len; i++)
		if (set_env(&p->env, f->env.items[i]) < 0)
			goto nomem;
	if (f->cwd && replace_str(&p->cwd, f->cwd) < 0)
		goto nomem;
	if ((f->process_label && (r = replace_str(&p->selinuxLabel, f->process_label)) < 0) ||
	    (f->apparmor && (r = replace_str(&p->apparmorProfile, f->apparmor)) < 0))
		goto nomem;
	/* runc: without --process only --tty gives a terminal, whatever
	 * config.json's process.terminal says */
	if (f->tty)
		p->terminal = true;
	else if (!f->process_file)
		p->terminal = false;
	if (f->no_new_privs)
		p->noNewPrivileges = true;
	if (f->user || f->gids.len) {
		if (p->user == NULL && (p->user = calloc(1, sizeof(*p->user))) == NULL)
			goto nomem;
	}
	if (f->user) {
		/* the whole string: a fixed copy would cut a long one into another id */
		_cleanup_free_ char *buf = strdup(f->user);
		if (buf == NULL)
			goto nomem;
		char *colon = strchr(buf, ':');
		if (colon)
			*colon = '\0';
		if (parse_id(buf, &p->user->uid) < 0 || (colon && parse_id(colon + 1, &p->user->gid) < 0)) {
			oci_free(&oci_process_type, p);
			return err_set(err, EINVAL, "--user: \"%s\" is not UID[:GID]", f->user);
		}
	}
	for (size_t i = 0; i < f->gids.len; i++) {
		uint32_t gid;
		if (parse_id(f->gids.items[i], &gid) < 0) {
			oci_free(&oci_process_type, p);
			return err_set(err, EINVAL, "--additional-gids: \"%s\" is not a gid", f->gids.items[i]);
		}
		uint32_t *grown = realloc(p->user->additionalGids.items,
					  (p->user->additionalGids.len + 1) * sizeof(uint32_t));
		if (grown == NULL)
			goto nomem;
		grown[p->user->additionalGids.len++] = gid;
		p->user->additionalGids.items = grown;
	}
	if (f->caps.len) {
		if (p->capabilities == NULL && (p->capabilities = calloc(1, sizeof(*p->capabilities))) == NULL)
			goto nomem;
		for (size_t i = 0; i < f->caps.len; i++) {
			if (oci_strings_append(&p->capabilities->bounding, f->caps.items[i]) < 0 ||
			    oci_strings_append(&p->capabilities->effective, f->caps.items[i]) < 0 ||
			    oci_strings_append(&p->capabilities->permitted, f->caps.items[i]) < 0)
				goto nomem;
		}
	}
	*out = p;
	return 0;
nomem:
	oci_free(&oci_process_type, p);
	return err_sys(err, ENOMEM, "exec");
}

enum { OPT_PROCESS = 256, OPT_CONSOLE, OPT_PIDFILE, OPT_PRESERVE, OPT_CWD, OPT_ENV, OPT_USER, OPT_GIDS,
       OPT_CAP, OPT_NNP, OPT_LABEL, OPT_APPARMOR, OPT_IGNORE_PAUSED, OPT_CGROUP };

static int exec_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, OPT_NNP },
		{ "process-label", required_argument, NULL, OPT_LABEL },
		{ "apparmor", required_argument, NULL, OPT_APPARMOR },
		{ "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ 0 },
	};
	struct exec_flags f __attribute__((cleanup(exec_flags_free))) = { 0 };
	int c, r;

	while ((c = verb_getopt(&verb_exec, argc, argv, opts)) != -1) {
		switch (c) {
		case 'p': f.process_file = optarg; break;
		case 't': f.tty = true; break;
		case OPT_CONSOLE: f.console_socket = optarg; break;
		case 'd': f.detach = true; break;
		case OPT_PIDFILE: f.pid_file = optarg; break;
		case OPT_PRESERVE: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 || n > 65536)
				return verb_usage_error(&verb_exec, "--preserve-fds: \"%s\" is not a count of fds",
							optarg);
			if (preserve_fds_check(&verb_exec, n) != 0)
				return VERB_USAGE_ERROR;
			f.preserve_fds = (int)n;
			break;
		}
		case OPT_CWD: f.cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '='))
				return verb_usage_error(&verb_exec, "--env: \"%s\" is not KEY=VALUE", optarg);
			if (oci_strings_append(&f.env, optarg) < 0)
				return err_sys(err, ENOMEM, "exec");
			break;
		case 'u': f.user = optarg; break;
		case 'g':
			if (oci_strings_append(&f.gids, optarg) < 0)
				return err_sys(err, ENOMEM, "exec");
			break;
		case 'c':
			if (oci_strings_append(&f.caps, optarg) < 0)
				return err_sys(err, ENOMEM, "exec");
			break;
		case OPT_NNP: f.no_new_privs = true; break;
		case OPT_LABEL: f.process_label = optarg; break;
		case OPT_APPARMOR: f.apparmor = optarg; break;
		case OPT_IGNORE_PAUSED: f.ignore_paused = true; break;
		case OPT_CGROUP:
			if ((r = add_cgroup_arg(&f, optarg, err)) < 0)
				return r;
			break;
		default:
			return c;
		}
	}
	if (argc - optind < 1)
		return verb_usage_error(&verb_exec, "missing argument: expected a container id");
	/* a bare PATH is for every controller: alone, as in runc */
	for (size_t i = 0; i < f.n_subs; i++)
		if (!f.subs[i].controller[0] && f.n_cgroup_args > 1) {
			r = verb_usage_error(&verb_exec, "--cgroup: \"%s\" without CONTROLLER: must be the only --cgroup",
					     f.subs[i].path);
			return VERB_USAGE_ERROR;
		}
	const char *id = argv[optind];

	int rootfd;
	if ((r = open_root(g, false, &rootfd, err)) < 0)
		return r;
	struct container *ct = NULL;
	struct oci_config *cfg = NULL;
	struct oci_process *proc = NULL;
	struct husk_seccomp *seccomp = NULL;
	int console_fd = -1, listener_fd = -1;
	char *state_json = NULL;
	pid_t pid = -1;
	struct tty_proxy tty = { .master = -1 };
	struct enter_opts eo;
	int sigfd;
	sigset_t all, old, entering;
	sigfillset(&all);

	r = container_load(rootfd, id, false, &ct, err);
	close(rootfd);
	if (r < 0)
		return r;
	if (ct->status == STATUS_STOPPED) {
		r = err_set(err, ESRCH, "container \"%s\": container not running", id);
		goto out;
	}
	/* the entering process would freeze in the cgroup at once; runc's
	 * words and option */
	if (ct->status == STATUS_PAUSED && !f.ignore_paused) {
		r = err_set(err, EBUSY, "container \"%s\": cannot exec in a paused container "
					 "(use --ignore-paused to wait for resume)", id);
		goto out;
	}
	if ((r = container_config(ct, &cfg, err)) < 0 ||
	    (r = build_process(cfg, &f, argc - optind - 1, argv + optind + 1, &proc, err)) < 0)
		goto out;
	if ((r = lsm_check_process(proc, err)) < 0) {
		/* the SELinux label is checked first */
		bool selinux = proc->selinuxLabel && proc->selinuxLabel[0];
		if (selinux ? f.process_label != NULL : f.apparmor != NULL)
			err_prefix(err, "%s", selinux ? "--process-label" : "--apparmor");
		goto out;
	}
	if (cfg->linux && cfg->linux->seccomp) {
		char cache[PATH_MAX];
		if ((r = fmt_into(cache, sizeof(cache), err, "--root", "%s/.seccomp-cache", g->root)) < 0 ||
		    (r = seccomp_prepare(cfg->linux->seccomp, cache, &seccomp, err)) < 0)
			goto out;
		/* the new process gets a listener fd of its own: the agent
		 * hears of it like of the init */
		if (seccomp_uses_notify(seccomp) &&
		    ((r = seccomp_listener_connect(cfg->linux->seccomp->listenerPath, &listener_fd,
						   err)) < 0 ||
		     (r = hook_state_json(ct->id, "running", ct->state->pid, ct->state->bundle,
					  &ct->state->annotations, &state_json, err)) < 0))
			goto out;
	}
	/* a terminal's master goes to the console socket, or in the
	 * foreground stays with husk, which relays it */
	if (proc->terminal && !f.console_socket && f.detach) {
		r = err_set(err, EINVAL, "exec: a terminal needs --console-socket (or run in the "
					 "foreground)");
		goto out;
	}
	if (proc->terminal && f.console_socket &&
	    (r = console_socket_connect(f.console_socket, &console_fd, err)) < 0)
		goto out;
	/* Until the process runs, SIGINT, SIGTERM and SIGHUP end husk (the
	 * half-made process dies with it: PR_SET_PDEATHSIG): entering a
	 * paused container (--ignore-paused) waits for resume, and must not
	 * be unkillable meanwhile. Once it runs, they are forwarded. */
	entering = all;
	sigdelset(&entering, SIGINT);
	sigdelset(&entering, SIGTERM);
	sigdelset(&entering, SIGHUP);
	sigprocmask(SIG_BLOCK, &entering, &old);
	eo = (struct enter_opts){
		.c = ct,
		.cfg = cfg,
		.proc = proc,
		.console_fd = console_fd,
		.preserve_fds = f.preserve_fds,
		.seccomp = seccomp,
		.listener_fd = listener_fd,
		.state_json = state_json,
		.listener_metadata = cfg->linux && cfg->linux->seccomp ? cfg->linux->seccomp->listenerMetadata : NULL,
		.cgroup_subs = f.subs,
		.n_cgroup_subs = f.n_subs,
	};
	r = container_enter(&eo, &pid, &tty.master, err);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* the agent has the state: it waits for the connection to close
	 * (one state per connection); so does the console socket's receiver */
	if (listener_fd >= 0)
		close(listener_fd);
	listener_fd = -1;
	if (console_fd >= 0)
		close(console_fd);
	console_fd = -1;
	if (r < 0)
		goto out_mask;
	if (f.pid_file) {
		if ((r = write_pid_file(f.pid_file, pid, err)) < 0)
			goto out_mask;
	}
	if (f.detach) {
		r = 0;
		goto out_mask;
	}
	if (tty.master >= 0)
		tty_proxy_begin(&tty);
	sigfd = signalfd(-1, &all, SFD_CLOEXEC);
	r = wait_container(pid, sigfd, -1, tty.master >= 0 ? &tty : NULL);
	close(sigfd);
	tty_proxy_end(&tty);
out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	if (tty.master >= 0)
		close(tty.master);
	if (console_fd >= 0)
		close(console_fd);
	if (listener_fd >= 0)
		close(listener_fd);
	free(state_json);
	seccomp_free(seccomp);
	oci_free(&oci_process_type, proc);
	container_free(ct);
	return r;
}

const struct verb verb_exec = {
	.name = "exec",
	.run = exec_run,
	.summary = "run a new process in a running container",
	.usage = "[OPTIONS] ID [COMMAND [ARGS...]]\n\n"
		 "  -p, --process FILE       the process (process.json), instead of COMMAND\n"
		 "  -t, --tty                give the process a terminal\n"
		 "  --console-socket SOCK    send the pty master to this unix socket\n"
		 "  -d, --detach             return once the process runs\n"
		 "  --pid-file FILE          write the process's pid to FILE\n"
		 "  --preserve-fds N         pass fds 3..3+N-1 to the process\n"
		 "  --cwd DIR                working directory\n"
		 "  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
		 "  -u, --user UID[:GID]     run as this user\n"
		 "  -g, --additional-gids G  add a supplementary group (repeatable)\n"
		 "  -c, --cap CAP            add a capability (repeatable; never inheritable)\n"
		 "  --no-new-privs           set no_new_privs\n"
		 "  --process-label L, --apparmor P   LSM labels (refused when the host has none)\n"
		 "  --ignore-paused          exec in a paused container (waits until it is resumed)\n"
		 "  --cgroup [CTRL[,CTRL]:]PATH  join this sub-cgroup of the container's (repeatable)",
	/* -p (process, pid-file, preserve-fds, process-label) and -c (cap, console-socket,
	 * cwd) are ambiguous as long-option prefixes */
	.shortopts = "p:c:",
	.enters_container = true,
};
