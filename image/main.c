/* husk-image: pull images from a registry into a content store and unpack
 * them into OCI bundles. Parses the global flags and hands over to one
 * command. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "image/image.h"

static const struct image_cmd *const cmds[] = {
	&cmd_pull,  &cmd_unpack,  &cmd_mount, &cmd_umount, &cmd_list,
	&cmd_inspect, &cmd_rm, &cmd_gc, &cmd_copy, &cmd_tag, &cmd_fsck,
};

static void print_help(FILE *out)
{
	fprintf(out, "Usage: husk-image [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
		     "husk-image pulls OCI images and unpacks them into bundles for husk.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-8s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(out, "\nGlobal options:\n"
		     "  --store DIR    the content store, an OCI image layout (default "
		     "/var/lib/husk-image,\n"
		     "                 $XDG_DATA_HOME/husk-image when not root)\n"
		     "  --debug        log debug messages\n"
		     "  -h, --help     show this help\n"
		     "  -v, --version  show the version\n\n"
		     "Images are named docker://HOST[:PORT]/NAME[:TAG|@DIGEST], oci:DIR[:TAG], or "
		     "by the\n"
		     "name 'husk-image list' shows.\n");
}

int cmd_usage_error(const struct image_cmd *c, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf shown = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&msg, fmt, ap);
	va_end(ap);
	sb_add_escaped(&shown, msg.buf);
	fprintf(stderr, "husk-image %s: %s", c->name, shown.buf);
	fprintf(stderr, "\nRun 'husk-image %s --help' for usage.\n", c->name);
	return IMAGE_USAGE_ERROR;
}

int cmd_getopt(const struct image_cmd *c, int argc, char **argv, const struct option *opts)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("Usage: husk-image %s %s\n\n%s\n", c->name, c->usage, c->summary);
			return IMAGE_HELP_SHOWN;
		}
	}
	char shortopts[32];
	snprintf(shortopts, sizeof(shortopts), "+%s", c->shortopts ? c->shortopts : "");
	opterr = 0;
	int r = getopt_long(argc, argv, shortopts, opts, NULL);
	if (r == '?') {
		if (optopt)
			return cmd_usage_error(c, "option '-%c' is unknown or needs a value",
					       optopt);
		return cmd_usage_error(c, "option '%s' is unknown or needs a value",
				       argv[optind - 1]);
	}
	return r;
}

int cmd_parse_platform_only(const struct image_cmd *c, int argc, char **argv, struct platform *plat,
			    const char *arg_names, int n_args, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ 0 },
	};
	int r;
	platform_host(plat);
	while ((r = cmd_getopt(c, argc, argv, opts)) != -1) {
		if (r != 'p')
			return r;
		if (platform_parse(optarg, plat, err) < 0)
			return cmd_usage_error(c, "%s", err->msg);
	}
	return cmd_need_args(c, argc, n_args, arg_names);
}

int cmd_need_args(const struct image_cmd *c, int argc, int n, const char *names)
{
	if (argc - optind == n)
		return 0;
	if (argc - optind < n)
		return cmd_usage_error(c, "missing argument: expected %s", names);
	return cmd_usage_error(c, "too many arguments: expected %s", names);
}

int cmd_open_store(struct image_globals *g, bool create, bool exclusive, struct store *s,
		   struct husk_error *err)
{
	_cleanup_free_ char *def = NULL;
	const char *path = g->store_path;
	if (path == NULL) {
		int r = store_default_path(&def, err);
		if (r < 0)
			return r;
		path = def;
	}
	return store_open(path, create, exclusive, s, err);
}

int cmd_open_ref_store(struct image_globals *g, const struct image_ref *ref, struct store *s,
		       const char **name, struct husk_error *err)
{
	*name = ref->name;
	if (ref->kind == REF_OCI)
		return store_open(ref->dir, false, false, s, err);
	return cmd_open_store(g, false, false, s, err);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct image_globals g = { 0 };
	struct husk_error err = { 0 };
	const struct image_cmd *cmd = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g.store_path = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'v':
			printf("husk-image version %s\ncommit: %s\nspec: image-spec 1.1\n",
			       PACKAGE_VERSION, HUSK_COMMIT);
			return 0;
		default:
			fprintf(stderr,
				"husk-image: option '%s' is unknown or needs a value\n"
				"Run 'husk-image --help' for usage.\n",
				argv[optind - 1]);
			return 1;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i]->name, argv[optind]) == 0)
			cmd = cmds[i];
	if (cmd == NULL) {
		fprintf(stderr,
			"husk-image: '%s' is not a husk-image command\n"
			"Run 'husk-image --help' for usage.\n",
			argv[optind]);
		return 1;
	}
	int r = log_open(NULL, LOG_FORMAT_TEXT, g.debug);
	if (r < 0) {
		fprintf(stderr, "husk-image: log: %s\n", strerror(-r));
		return 1;
	}
	int cmd_argc = argc - optind;
	char **cmd_argv = argv + optind;
	optind = 0;
	r = cmd->run(&g, cmd_argc, cmd_argv, &err);
	if (r == IMAGE_HELP_SHOWN)
		return 0;
	if (r == IMAGE_USAGE_ERROR)
		return 1;
	if (r < 0) {
		/* messages quote what registries and images say: escaped */
		char *msg = str_escape(err.msg[0] ? err.msg : strerror(-r));
		fprintf(stderr, "husk-image %s: %s\n", cmd->name, msg ? msg : "out of memory");
		free(msg);
		return 1;
	}
	return 0;
}
