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

/* Copy one blob between layouts, re-checking its digest on the way. */
static int copy_blob(struct store *from, struct store *to, const struct oci_descriptor *d,
		     struct husk_error *err)
{
	if (store_has_blob(to, d->digest, d->size))
		return 0;
	_cleanup_close_ int fd = store_blob_open(from, d->digest, err);
	if (fd < 0)
		return fd;
	struct blob_writer w;
	int r = blob_writer_open(to, &w, d->size, err);
	if (r < 0)
		return r;
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		r = blob_writer_write(&w, buf, (size_t)n);
		if (r == -EFBIG)
			break; /* commit reports the size mismatch */
		if (r < 0) {
			blob_writer_abort(to, &w);
			return err_sys(err, -r, "blob %s", d->digest);
		}
	}
	if (n < 0) {
		blob_writer_abort(to, &w);
		return err_sys(err, errno, "blob %s: read", d->digest);
	}
	if (r == -EFBIG)
		w.written = d->size + 1;
	return blob_writer_commit(to, &w, d->digest, d->size, err);
}

static int pull_layout(const struct image_ref *ref, const struct platform *p, struct store *to,
		       char digest[DIGEST_LEN + 1], struct husk_error *err)
{
	struct store from;
	struct image img;
	int r = store_open(ref->dir, false, false, &from, err);
	if (r < 0)
		return r;
	r = image_load(&from, ref->name, p, &img, err);
	for (size_t i = 0; r == 0 && i <= img.manifest->layers.len; i++)
		r = copy_blob(&from, to,
			      i == 0 ? img.manifest->config : &img.manifest->layers.items[i - 1],
			      err);
	if (r == 0)
		r = store_write_blob(to, img.manifest_json, img.manifest_len, digest, err);
	if (r == 0) {
		struct oci_platform plat = { .os = img.config->os,
					     .architecture = img.config->architecture,
					     .variant = img.config->variant };
		const char *mt =
			img.manifest->mediaType ? img.manifest->mediaType : OCI_MT_MANIFEST;
		struct oci_descriptor d = { .mediaType = (char *)mt,
					    .digest = digest,
					    .size = (int64_t)img.manifest_len,
					    .platform = &plat };
		_cleanup_free_ char *name = NULL;
		if (asprintf(&name, "oci:%s:%s", ref->dir, ref->tag) < 0) {
			name = NULL;
			r = err_sys(err, ENOMEM, "pull");
		} else {
			r = store_tag(to, name, &d, err);
		}
	}
	if (img.manifest)
		image_free(&img);
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
		 "  -q, --quiet                   no progress on a terminal",
};
