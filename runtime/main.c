/* husk: the command line front. Parses the global flags, sets up logging
 * and hands over to one verb. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/husk.h"
#include "runtime/linux/cloned-exe.h"

static const struct verb *const verbs[] = {
	&verb_checkpoint, &verb_create, &verb_delete, &verb_events, &verb_exec,
	&verb_features,   &verb_kill,   &verb_list,   &verb_pause,  &verb_ps,
	&verb_restore,    &verb_resume, &verb_run,    &verb_spec,   &verb_start,
	&verb_state,      &verb_update,
};

static const struct verb *current_verb;

static void print_version(void)
{
	printf("husk version %s\ncommit: %s\nspec: %s\n", PACKAGE_VERSION, HUSK_COMMIT,
	       OCI_RUNTIME_SPEC_VERSION);
	printf("+CAP +YAJL");
#ifdef HAVE_SECCOMP
	printf(" +SECCOMP");
#else
	printf(" -SECCOMP");
#endif
	printf(" +SELINUX");
	printf("\n");
}

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: husk [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"husk is an OCI container runtime.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-10s %s\n", verbs[i]->name, verbs[i]->summary);
	fprintf(out,
		"\n"
		"Global options:\n"
		"  --root DIR              state directory (default /run/husk,\n"
		"                          $XDG_RUNTIME_DIR/husk when rootless)\n"
		"  --log FILE              append log lines to FILE instead of stderr\n"
		"  --log-format text|json  format of log lines (default text)\n"
		"  --debug                 log debug messages\n"
		"  --systemd-cgroup        cgroupsPath is slice:prefix:name (systemd)\n"
		"  --criu PATH             the criu binary (default criu, in PATH)\n"
		"  --rootless true|false|auto  run without privileges (default auto)\n"
		"  -h, --help              show this help\n"
		"  -v, --version           show the version\n"
		"\n"
		"Run 'husk COMMAND --help' for a command's options.\n");
}

int verb_usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "husk %s: ", v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'husk %s --help' for usage.\n", v->name);
	return VERB_USAGE_ERROR;
}

int verb_getopt(const struct verb *v, int argc, char **argv, const struct option *opts)
{
	/* every verb takes --help; find it before getopt reports it unknown */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("Usage: husk %s %s\n\n%s\n", v->name, v->usage, v->summary);
			return VERB_HELP_SHOWN;
		}
	}
	/* As runc's CLI does, options may follow the container id (`update ID
	 * --memory 1M`, `kill ID KILL --all`): getopt moves them in front,
	 * up to a "--". Not for exec and ps, whose arguments after the id
	 * are a command line and ps(1) options. */
	bool in_order = v == &verb_exec || v == &verb_ps;
	char shortopts[64] = "+";
	if (v->shortopts)
		snprintf(shortopts + 1, sizeof(shortopts) - 1, "%s", v->shortopts);
	opterr = 0;
	if (!in_order)
		memmove(shortopts, shortopts + 1, strlen(shortopts));
	int c = getopt_long_only(argc, argv, shortopts, opts, NULL);
	if (c == '?') {
		if (optopt)
			return verb_usage_error(v, "option '-%c' is unknown or needs a value", optopt);
		return verb_usage_error(v, "option '%s' is unknown or needs a value", argv[optind - 1]);
	}
	return c;
}

int verb_need_args(const struct verb *v, int argc, int n, const char *names)
{
	if (argc - optind == n)
		return 0;
	if (argc - optind < n)
		return verb_usage_error(v, "missing argument: expected %s", names);
	return verb_usage_error(v, "too many arguments: expected %s", names);
}

static int parse_bool(const char *s, int *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = 0;
	else if (strcmp(s, "auto") == 0)
		*out = -1;
	else
		return -EINVAL;
	return 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "husk: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'husk --help' for usage.\n");
	return HUSK_EXIT_USAGE;
}

/* Log a failed verb's error; returns husk's exit status for it. */
static int report_failure(int r, const struct husk_error *err)
{
	const char *msg = err->msg[0] ? err->msg : strerror(-r);
	log_error("%s", msg);
	/* engines read the log file; people read stderr */
	if (!log_to_stderr())
		fprintf(stderr, "husk: %s\n", msg);
	return 1;
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD_CGROUP, OPT_ROOTLESS, OPT_CRIU };

/* fds 3..inherited_fds_end-1 were open when main began: the caller's. */
static int inherited_fds_end = 3;

/* Before husk opens anything: the caller's fds are the open ones from 3
 * up to the first closed one (a gap would take husk's next fd). */
static void note_inherited_fds(void)
{
	while (inherited_fds_end < 65536 + 3 && fcntl(inherited_fds_end, F_GETFD) >= 0)
		inherited_fds_end++;
}

int preserve_fds_check(const struct verb *v, long n)
{
	if (n <= inherited_fds_end - 3)
		return 0;
	if (inherited_fds_end == 3)
		return verb_usage_error(v, "--preserve-fds %ld: fd 3 was not open when husk started "
					   "(the caller passed no fds past stdio)", n);
	return verb_usage_error(v, "--preserve-fds %ld: fd %d was not open when husk started (the "
				   "caller passed fds 3..%d only)", n, inherited_fds_end,
				inherited_fds_end - 1);
}

int main(int argc, char **argv)
{
	note_inherited_fds();
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
		{ "rootless", required_argument, NULL, OPT_ROOTLESS },
		/* the criu binary checkpoint and restore run */
		{ "criu", required_argument, NULL, OPT_CRIU },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct husk_globals g = { .log_format = LOG_FORMAT_TEXT, .rootless = -1, .argv0 = argv[0] };
	struct husk_error err = { 0 };
	int c;

	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			g.root = optarg;
			break;
		case OPT_LOG:
			g.log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") == 0)
				g.log_format = LOG_FORMAT_JSON;
			else if (strcmp(optarg, "text") == 0)
				g.log_format = LOG_FORMAT_TEXT;
			else
				return usage_error("--log-format: \"%s\" is not text or json", optarg);
			break;
		case OPT_DEBUG:
			g.debug = true;
			break;
		case OPT_SYSTEMD_CGROUP:
			g.systemd_cgroup = true;
			break;
		case OPT_ROOTLESS:
			if (parse_bool(optarg, &g.rootless) < 0)
				return usage_error("--rootless: \"%s\" is not true, false or auto", optarg);
			break;
		case OPT_CRIU:
			g.criu = optarg;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'v':
			print_version();
			return 0;
		default:
			if (optopt)
				return usage_error("option '-%c' is unknown or needs a value", optopt);
			return usage_error("option '%s' is unknown or needs a value", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return HUSK_EXIT_USAGE;
	}

	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i]->name, name) == 0)
			current_verb = verbs[i];
	if (current_verb == NULL)
		return usage_error("'%s' is not a husk command", name);

	int r = log_open(g.log_path, g.log_format, g.debug);
	if (r < 0) {
		fprintf(stderr, "husk: --log %s: %s\n", g.log_path, strerror(-r));
		return 1;
	}
	if (current_verb->enters_container && (r = cloned_exe_ensure(argv, &err)) < 0)
		return report_failure(r, &err);
	if (g.root == NULL) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		static char rootless_root[PATH_MAX];
		if (geteuid() != 0 && g.rootless != 0 && xdg && *xdg) {
			if ((r = fmt_into(rootless_root, sizeof(rootless_root), &err, "$XDG_RUNTIME_DIR",
					  "%s/husk", xdg)) < 0)
				return report_failure(r, &err);
			g.root = rootless_root;
		} else {
			g.root = "/run/husk";
		}
	}

	int verb_argc = argc - optind;
	char **verb_argv = argv + optind;
	optind = 0; /* reinitialise getopt for the verb */
	r = current_verb->run(&g, verb_argc, verb_argv, &err);
	cloned_exe_reap();
	if (r == VERB_HELP_SHOWN)
		return 0;
	if (r == VERB_USAGE_ERROR)
		return HUSK_EXIT_USAGE;
	if (r < 0) {
		int code = report_failure(r, &err);
		/* runc: an exec that fails before its process runs exits 255, so
		 * engines tell it from the process's own exit status */
		return current_verb == &verb_exec ? 255 : code;
	}
	return r;
}
