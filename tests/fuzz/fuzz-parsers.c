/* The small parsers of config strings, one per first byte:
 *   o  mount options: the first line is the mount type, each further line
 *      one entry of "options" (runtime/linux/mounts.c)
 *   c  linux.cgroupsPath for the cgroupfs driver (cgroup_path_for)
 *   s  linux.cgroupsPath for the systemd driver, "slice:prefix:name"
 *   k  a signal, as `kill` and the config's stop signals take it
 *   u  uid_map/gid_map text from mappings: 12 bytes per mapping
 *      (containerID, hostID, size, host byte order)
 *   r  an answer of CRIU's (criu_resp, protobuf) as husk decodes it
 * Each checks what its callers rely on, beyond not crashing. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "common/criu-rpc.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup.h"
#include "runtime/linux/mounts.h"
#include "tests/fuzz/expose.h"
#include "tests/fuzz/fuzz.h"

static void mount_options(char *text)
{
	struct oci_mount m = { 0 };
	struct husk_error err;
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	char data[8192];

	m.type = line;
	m.destination = "/mnt";
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (oci_strings_append(&m.options, line) < 0)
			abort();
	if (fuzz_mount_options(&m, data, sizeof(data), &err) == 0) {
		/* the filesystem data is exactly the options that are not
		 * flags (features lists the flags), in order, comma-joined */
		char expect[sizeof(data)] = "";
		size_t pos = 0;
		for (size_t i = 0; i < m.options.len; i++) {
			bool flag = false;
			for (size_t k = 0; k < mount_option_count; k++)
				flag |= strcmp(mount_option_names[k], m.options.items[i]) == 0;
			if (!flag && pos < sizeof(expect))
				pos += (size_t)snprintf(expect + pos, sizeof(expect) - pos, "%s%s",
							pos ? "," : "", m.options.items[i]);
		}
		FUZZ_ASSERT(pos < sizeof(expect) && strcmp(expect, data) == 0,
			    "mount data \"%s\", expected \"%.*s\"", data, (int)sizeof(expect) - 1, expect);
	}
	for (size_t i = 0; i < m.options.len; i++)
		free(m.options.items[i]);
	free(m.options.items);
}

static void cgroups_path(const char *path, bool systemd)
{
	struct oci_linux lx = { .cgroupsPath = (char *)path };
	struct oci_config cfg = { .linux = &lx };
	struct husk_error err;
	char out[4096];

	memset(out, 0x5a, sizeof(out));
	if (cgroup_path_for(&cfg, "fuzz-id", systemd, out, sizeof(out), &err) < 0)
		return;
	FUZZ_ASSERT(memchr(out, '\0', sizeof(out)) != NULL, "cgroup path unterminated for \"%s\"",
		    path);
	FUZZ_ASSERT(out[0] == '/', "cgroup path \"%s\" for \"%s\" is not absolute", out, path);
	for (const char *p = out; (p = strstr(p, "/..")) != NULL; p++)
		FUZZ_ASSERT(p[3] != '/' && p[3] != '\0', "cgroup path \"%s\" for \"%s\" climbs up",
			    out, path);
}

static void signal_name(const char *s)
{
	int sig = signal_parse(s);
	if (sig == -EINVAL)
		return;
	FUZZ_ASSERT(sig > 0 && sig < _NSIG, "signal_parse(\"%s\") = %d", s, sig);
	char num[16];
	snprintf(num, sizeof(num), "%d", sig);
	FUZZ_ASSERT(signal_parse(num) == sig, "\"%s\" is %d, but \"%s\" is %d", s, sig, num,
		    signal_parse(num));
}

static void id_map(const uint8_t *data, size_t size)
{
	oci_id_mappings maps = { 0 };
	char buf[4096];

	maps.len = size / sizeof(struct oci_id_mapping);
	maps.items = maps.len ? malloc(maps.len * sizeof(*maps.items)) : NULL;
	if (maps.len && maps.items == NULL)
		abort();
	for (size_t i = 0; i < maps.len; i++)
		memcpy(&maps.items[i], data + i * sizeof(maps.items[0]), sizeof(maps.items[0]));
	memset(buf, 0x5a, sizeof(buf));
	int n = fuzz_format_id_map(&maps, buf, sizeof(buf));
	if (n < 0) {
		FUZZ_ASSERT(n == -E2BIG, "format_map: %d", n);
		/* refused only when the text really does not fit */
		size_t need = 0;
		for (size_t i = 0; i < maps.len; i++)
			need += (size_t)snprintf(NULL, 0, "%u %u %u\n", maps.items[i].containerID,
						 maps.items[i].hostID, maps.items[i].size);
		FUZZ_ASSERT(need >= sizeof(buf) || maps.len > ID_MAP_MAX_ENTRIES,
			    "format_map refused %zu bytes in %zu entries", need, maps.len);
	} else {
		/* the text reads back as the same mappings, one line each */
		FUZZ_ASSERT((size_t)n < sizeof(buf), "format_map: %d bytes in %zu", n, sizeof(buf));
		const char *p = buf;
		for (size_t i = 0; i < maps.len; i++) {
			unsigned a, b, c;
			int used = 0;
			FUZZ_ASSERT(sscanf(p, "%u %u %u\n%n", &a, &b, &c, &used) == 3 && used > 0,
				    "line %zu unreadable", i);
			FUZZ_ASSERT(a == maps.items[i].containerID && b == maps.items[i].hostID &&
					    c == maps.items[i].size,
				    "line %zu reads back differently", i);
			p += used;
		}
		FUZZ_ASSERT(p == buf + n, "format_map: %d bytes, %td read back", n, p - buf);
	}
	free(maps.items);
}

/* criu_resp from criu swrk: never read past the message, strings always
 * terminated within their buffers, an error always says what it was
 * reading; a request encoded from what was decoded is well formed. */
static void criu_answer(const uint8_t *data, size_t size)
{
	struct criu_resp resp;
	struct husk_error err = { 0 };
	/* a copy of exactly size bytes: ASan sees any read past it */
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	int r = criu_resp_decode(copy, size, &resp, &err);
	free(copy);
	if (r < 0) {
		FUZZ_ASSERT(strncmp(err.msg, "CRIU's answer: ", 15) == 0, "error \"%s\"", err.msg);
		return;
	}
	FUZZ_ASSERT(memchr(resp.cr_errmsg, 0, sizeof(resp.cr_errmsg)) != NULL, "cr_errmsg unterminated");
	FUZZ_ASSERT(memchr(resp.notify_script, 0, sizeof(resp.notify_script)) != NULL,
		    "notify script unterminated");
	/* what husk sends back with it: a notify ack, and a request naming
	 * the strings just read */
	struct criu_kv kv = { resp.notify_script, resp.cr_errmsg };
	struct criu_opts o = { .images_dir_fd = resp.restore_pid, .work_dir_fd = -1,
			       .pid = resp.notify_pid, .log_file = resp.cr_errmsg,
			       .ext_mnt = &kv, .n_ext_mnt = 1 };
	struct strbuf req = STRBUF_INIT;
	FUZZ_ASSERT(criu_req_encode(CRIU_REQ_NOTIFY, &o, true, &req, &err) == 0, "encode: %s",
		    err.msg);
	FUZZ_ASSERT(req.len >= 2 + strlen(resp.cr_errmsg) + strlen(resp.notify_script),
		    "request of %zu bytes", req.len);
	sb_release(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 65536)
		return 0;
	size_t k = fuzz_select(data, size, "ocskur");
	if (k == 4) {
		id_map(data + 1, size - 1);
		return 0;
	}
	if (k == 5) {
		criu_answer(data + 1, size - 1);
		return 0;
	}
	char *s = fuzz_strndup(data + 1, size - 1);
	switch (k) {
	case 0:
		mount_options(s);
		break;
	case 1:
	case 2:
		cgroups_path(s, k == 2);
		break;
	case 3:
		signal_name(s);
		break;
	}
	free(s);
	return 0;
}
