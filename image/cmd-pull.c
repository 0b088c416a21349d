/* husk-image pull REF: fetch an image into the store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "image/image.h"

static int parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int pull_layout(const struct image_ref *ref, const struct platform *p, struct store *to,
		       char digest[DIGEST_LEN + 1], struct husk_error *err)
{
	struct store from;
	int r = store_open(ref->dir, false, false, &from, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "oci:%s:%s", ref->dir, ref->tag) < 0) {
		name = NULL;
		r = err_sys(err, ENOMEM, "pull");
	} else {
		r = image_copy(&from, ref->name, p, to, name, digest, err);
	}
	store_close(&from);
	return r;
}

static int pull_run(struct image_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "tls-verify", required_argument, NULL, 't' },
		{ "creds", required_argument, NULL, 'c' },
		{ "authfile", required_argument, NULL, 'a' },
		{ "cert-dir", required_argument, NULL, 'C' },
		{ "parallel", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct registry_opts o = { .tls_verify = true, .parallel = 4, .progress = isatty(2) };
	struct platform plat;
	int c;

	platform_host(&plat);
	while ((c = cmd_getopt(&cmd_pull, argc, argv, opts)) != -1) {
		switch (c) {
		case 'p':
			if (platform_parse(optarg, &plat, err) < 0)
				return cmd_usage_error(&cmd_pull, "%s", err->msg);
			break;
		case 't':
			if (parse_bool(optarg, &o.tls_verify) < 0)
				return cmd_usage_error(&cmd_pull,
						       "--tls-verify: \"%s\" is not true or false",
						       optarg);
			break;
		case 'c':
			o.creds = optarg;
			break;
		case 'a':
			o.authfile = optarg;
			break;
		case 'C':
			o.cert_dir = optarg;
			break;
		case 'j':
			o.parallel = atoi(optarg);
			if (o.parallel < 1 || o.parallel > 64)
				return cmd_usage_error(&cmd_pull, "--parallel: \"%s\" is not 1..64",
						       optarg);
			break;
		case 'q':
			o.progress = false;
			break;
		case 'T': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 7 * 24 * 3600)
				return cmd_usage_error(&cmd_pull,
						       "--timeout: \"%s\" is not 1..604800 seconds",
						       optarg);
			o.timeout = v;
			break;
		}
		default:
			return c;
		}
	}
	if ((c = cmd_need_args(&cmd_pull, argc, 1, "REF")) != 0)
		return c;

	struct image_ref ref;
	int r = ref_parse(argv[optind], &ref, err);
	if (r < 0)
		return r;
	if (ref.kind == REF_NAME) {
		ref_free(&ref);
		return cmd_usage_error(
			&cmd_pull, "\"%s\": pull wants docker://HOST/NAME[:TAG] or oci:DIR[:TAG]",
			argv[optind]);
	}
	struct store s;
	char digest[DIGEST_LEN + 1];
	r = cmd_open_store(g, true, false, &s, err);
	if (r == 0) {
		if (ref.kind == REF_OCI)
			r = pull_layout(&ref, &plat, &s, digest, err);
		else
			r = registry_pull(&ref, &plat, &o, &s, digest, err);
		store_close(&s);
	}
	if (r == 0)
		printf("%s\n", digest);
	ref_free(&ref);
	return r;
}

const struct image_cmd cmd_pull = {
	.name = "pull",
	.run = pull_run,
	.summary = "pull an image into the store and print its manifest digest",
	.shortopts = "q",
	.usage = "[OPTIONS] REF\n\n"
		 "  --platform OS/ARCH[/VARIANT]  the platform to pick from an index (default: the "
		 "host's)\n"
		 "  --tls-verify=false            skip certificate checks and allow plain HTTP\n"
		 "  --creds USER:PASSWORD         credentials for the registry\n"
		 "  --authfile FILE               credentials file (auth.json / docker "
		 "config.json)\n"
		 "  --cert-dir DIR                trust the CA certificates DIR/*.crt (instead of "
		 "the system's)\n"
		 "  --parallel N                  download N blobs at a time (default 4)\n"
		 "  --timeout SECONDS             the most one request may take (default: 300, "
		 "3600 for a blob)\n"
		 "  -q, --quiet                   no progress on a terminal",
};
