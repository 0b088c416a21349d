/* husk create: set up a container and park its init until start. */
#include <stdlib.h>
#include <unistd.h>

#include "runtime/lifecycle.h"

/* Options shared by create and run. */
int create_option(const struct verb *v, int c, struct create_opts *co)
{
	switch (c) {
	case 'b':
		co->bundle = optarg;
		return 0;
	case 'p':
		co->pid_file = optarg;
		return 0;
	case 'c':
		co->console_socket = optarg;
		return 0;
	case 'f': {
		char *end;
		long n = strtol(optarg, &end, 10);
		if (*end || end == optarg || n < 0 || n > 65536)
			return verb_usage_error(v, "--preserve-fds: \"%s\" is not a count of fds", optarg);
		if (preserve_fds_check(v, n) != 0)
			return VERB_USAGE_ERROR;
		co->preserve_fds = (int)n;
		return 0;
	}
	case 'P':
		co->no_pivot = true;
		return 0;
	case 'K':
		co->no_new_keyring = true;
		return 0;
	}
	return c;
}

static int create_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ 0 },
	};
	struct create_opts co = { .console_fd = -1 };
	int c;

	while ((c = verb_getopt(&verb_create, argc, argv, opts)) != -1)
		if ((c = create_option(&verb_create, c, &co)) != 0)
			return c;
	if ((c = verb_need_args(&verb_create, argc, 1, "a container id")) != 0)
		return c;
	co.id = argv[optind];

	struct container *ct = NULL;
	struct spawn_result res;
	int r = lifecycle_create(g, &co, &ct, &res, err);
	if (r < 0)
		return r;
	close(res.sync_fd);
	container_free(ct);
	return 0;
}

const struct verb verb_create = {
	.name = "create",
	.run = create_run,
	.summary = "create a container from a bundle; its process waits for start",
	.usage = "[OPTIONS] ID\n\n"
		 "  -b, --bundle DIR         the bundle (default: the current directory)\n"
		 "  --pid-file FILE          write the init's pid to FILE\n"
		 "  --console-socket SOCK    send the pty master to this unix socket\n"
		 "  --preserve-fds N         pass fds 3..3+N-1 to the container\n"
		 "  --no-pivot               use MS_MOVE + chroot instead of pivot_root\n"
		 "  --no-new-keyring         keep the caller's session keyring",
	.enters_container = true,
};
