/* common/ tests: the UTC timestamps of log lines and state files, checked
 * against the C library's gmtime_r over the dates where calendars go wrong
 * (leap days, century years, before 1970, far ahead). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/criu-rpc.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "tests/unit/unit.h"

static void same(const char *got, const char *want)
{
	CHECK_STR(got, want);
}

/* Whether log_time_format agrees with gmtime_r at t; a mismatch is printed. */
static bool agrees_with_gmtime(time_t t, long nsec)
{
	struct timespec ts = { .tv_sec = t, .tv_nsec = nsec };
	struct tm tm;
	char got[64], want[64];
	log_time_format(&ts, got, sizeof(got));
	gmtime_r(&t, &tm);
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
	if (strcmp(got, want) == 0)
		return true;
	fprintf(stderr, "at %lld: got %s, want %s\n", (long long)t, got, want);
	return false;
}

static void timestamps(void)
{
	char buf[64];
	struct timespec epoch = { 0, 0 }, leap = { 951782400 + 86399, 5 };
	log_time_format(&epoch, buf, sizeof(buf));
	same(buf, "1970-01-01T00:00:00.000000000Z");
	/* 2000 is a leap year (divisible by 400) */
	log_time_format(&leap, buf, sizeof(buf));
	same(buf, "2000-02-29T23:59:59.000000005Z");

	static const time_t days[] = {
		-2208988800LL, /* 1900-01-01: not a leap year */
		-86401,         /* 1969-12-30 23:59:59 */
		-1,             /* 1969-12-31 23:59:59 */
		951868800,      /* 2000-03-01 */
		1709164800,     /* 2024-02-29 */
		4107456000LL,   /* 2100-02-28: 2100 is not a leap year */
		4107542400LL,   /* 2100-03-01 */
		253402300799LL, /* 9999-12-31 23:59:59 */
	};
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		CHECK(agrees_with_gmtime(days[i], 123456789), "at %lld", (long long)days[i]);
	/* every day of four centuries, at a time of day that moves */
	size_t wrong = 0;
	for (int64_t d = -36524 * 2; d < 36524 * 2; d++)
		wrong += !agrees_with_gmtime((time_t)(d * 86400 + (d * 7919) % 86400), 0);
	CHECK(wrong == 0, "%zu days of 1770-2170 differ from gmtime_r", wrong);
}

/* The checked builder: grows, caps, and names the field when it fails. */
static void strbuf_builds_and_fails_closed(void)
{
	struct husk_error err = { 0 };
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	CHECK_STR(sb.buf, "");
	CHECK(sb_check(&sb, &err, "x") == 0, "empty builder fails");
	sb_addf(&sb, "%s/%d", "/sys/fs/cgroup/memory", 42);
	sb_add(&sb, "/tasks");
	sb_addc(&sb, '!');
	CHECK_STR(sb.buf, "/sys/fs/cgroup/memory/42/tasks!");
	CHECK(sb.len == strlen(sb.buf), "len %zu", sb.len);
	/* grows far past its first allocation, one formatted piece at a time */
	for (int i = 0; i < 10000; i++)
		sb_addf(&sb, "%04d", i % 10000);
	CHECK(sb.len == 31 + 40000, "len %zu", sb.len);
	CHECK(sb_check(&sb, &err, "x") == 0, "a long string within the cap fails");
	sb_truncate(&sb, 5);
	CHECK_STR(sb.buf, "/sys/");

	/* a cap: the first append over it fails, and so does every later one */
	struct strbuf capped = STRBUF_INIT_MAX(8);
	sb_add(&capped, "12345678");
	CHECK(sb_check(&capped, &err, "x") == 0, "exactly the cap fails");
	sb_add(&capped, "9");
	sb_add(&capped, "");
	CHECK(sb_check(&capped, &err, "linux.resources.rdma") == -ENAMETOOLONG, "over the cap passes");
	CHECK_STR(err.msg, "linux.resources.rdma: too long (over 8 bytes)");
	CHECK_STR(capped.buf, "12345678");
	sb_release(&capped);
	struct strbuf capped_fmt = STRBUF_INIT_MAX(8);
	sb_addf(&capped_fmt, "%s", "abc");
	sb_addf(&capped_fmt, "%s", "defghi");
	CHECK(capped_fmt.error == ENAMETOOLONG, "formatted append over the cap passes");
	CHECK_STR(capped_fmt.buf, "abc");
	sb_release(&capped_fmt);

	char *s = NULL;
	CHECK(str_fmt(&s, 0, &err, "x", "%s-%u", "id", 7u) == 0, "str_fmt fails");
	CHECK_STR(s, "id-7");
	free(s);
	CHECK(str_fmt(&s, 4, &err, "process.cwd", "%s", "/long") == -ENAMETOOLONG && s == NULL,
	      "str_fmt over its cap");
	CHECK_STR(err.msg, "process.cwd: too long (over 4 bytes)");

	char fixed[8];
	CHECK(fmt_into(fixed, sizeof(fixed), &err, "f", "%d", 1234567) == 0, "fits");
	same(fixed, "1234567");
	CHECK(fmt_into(fixed, sizeof(fixed), &err, "uid_map", "%d", 12345678) == -ENAMETOOLONG,
	      "fmt_into truncates");
	same(fixed, "");
	CHECK_STR(err.msg, "uid_map: too long (over 7 bytes)");
	char *taken = sb_take(&sb);
	CHECK_STR(taken, "/sys/");
	free(taken);
	CHECK_STR(sb.buf, "");
}

/* An error about a long input keeps its start (the field) and its end (the
 * cause), whatever the length. */
static void long_errors_keep_field_and_cause(void)
{
	struct husk_error err = { 0 };
	size_t sizes[] = { 10, HUSK_ERROR_MAX - 40, HUSK_ERROR_MAX, 5000, 3 * HUSK_ERROR_MAX, 100000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *path = malloc(sizes[i] + 1);
		memset(path, 'a', sizes[i]);
		path[sizes[i]] = '\0';
		CHECK(err_sys(&err, ENAMETOOLONG, "process.cwd: chdir %s", path) == -ENAMETOOLONG,
		      "return value");
		size_t len = strlen(err.msg);
		CHECK(len < HUSK_ERROR_MAX, "length %zu", len);
		CHECK(strncmp(err.msg, "process.cwd: chdir aaa", 22) == 0, "start: %.40s", err.msg);
		const char *cause = ": File name too long";
		CHECK(len > strlen(cause) && strcmp(err.msg + len - strlen(cause), cause) == 0,
		      "%zu bytes: end: %s", sizes[i], err.msg + (len > 40 ? len - 40 : 0));
		bool whole = strlen("process.cwd: chdir ") + sizes[i] + strlen(cause) < HUSK_ERROR_MAX;
		CHECK(whole == (strstr(err.msg, "[...]") == NULL), "%zu bytes: cut marker", sizes[i]);
		err_prefix(&err, "mounts[%d]", 3);
		len = strlen(err.msg);
		CHECK(strncmp(err.msg, "mounts[3]: process.cwd", 22) == 0, "prefix: %.40s", err.msg);
		CHECK(strcmp(err.msg + len - strlen(cause), cause) == 0, "prefixed end");
		err_set(&err, EINVAL, "%s: bad", path);
		len = strlen(err.msg);
		CHECK(len >= 5 && strcmp(err.msg + len - 5, ": bad") == 0, "err_set end");
		free(path);
	}
}

/* Control characters (C0, DEL, C1, bidi and line separators) and invalid
 * UTF-8 come out escaped, a backslash doubled, printable text (UTF-8
 * included) as it is. */
static void escapes_control_characters(void)
{
	static const struct {
		const char *in, *want;
		bool ctl;
	} cases[] = {
		{ "plain text", "plain text", false },
		{ "", "", false },
		{ "a\033]0;title\007b", "a\\x1b]0;title\\x07b", true },
		{ "line\r\nfake\tx", "line\\r\\nfake\\tx", true },
		{ "del\177", "del\\x7f", true },
		{ "c1 \xc2\x9b csi", "c1 \\u009b csi", true },
		{ "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", false },
		{ "bad \xff\xc3", "bad \\xff\\xc3", true },
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf", true },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80", true },
		/* "evil\u202egpj.exe" shows as "evilexe.jpg" */
		{ "evil\xe2\x80\xaegpj.exe", "evil\\u202egpj.exe", true },
		{ "iso\xe2\x81\xa6late\xe2\x81\xa9", "iso\\u2066late\\u2069", true },
		{ "ls\xe2\x80\xa8x", "ls\\u2028x", true },
		{ "zw\xe2\x80\x8bsp\xef\xbb\xbf", "zw\\u200bsp\\ufeff", true },
		/* an emoji's zero-width joiner is text */
		{ "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", false },
		/* a literal "\x1b" must not read as an escaped ESC */
		{ "back\\x1b", "back\\\\x1b", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = str_escape(cases[i].in);
		same(got, cases[i].want);
		CHECK(str_has_ctl(cases[i].in) == cases[i].ctl, "str_has_ctl(case %zu)", i);
		free(got);
	}
	/* a builder's cap still holds */
	struct strbuf sb = STRBUF_INIT_MAX(8);
	sb_add_escaped(&sb, "\033\033\033");
	CHECK(sb.error == ENAMETOOLONG, "escaped text over the cap: error %d", sb.error);
	sb_release(&sb);
}

/* criu_req as protobuf 2 writes it (field << 3 | wire type, varints,
 * int32 sign-extended to ten bytes), and criu_resp read back within its
 * length, whatever CRIU sends. */
static void criu_rpc_wire_format(void)
{
	struct husk_error err = { 0 };
	struct strbuf req = STRBUF_INIT;
	struct criu_kv mnt = { "/out", "/srv/out" };
	struct criu_opts o = { .images_dir_fd = 5, .work_dir_fd = -1, .pid = 300,
			       .leave_running = true, .log_file = "d", .ext_mnt = &mnt, .n_ext_mnt = 1,
			       .manage_cgroups_mode = CRIU_CG_IGNORE, .cg_root = "/c" };
	CHECK(criu_req_encode(CRIU_REQ_DUMP, &o, false, &req, &err) == 0, "encode: %s", err.msg);
	static const uint8_t want[] = {
		0x08, 0x01,                   /* type = DUMP */
		0x12, 39,                     /* opts, 39 bytes: */
		0x08, 0x05,                   /* images_dir_fd = 5 */
		0x10, 0xac, 0x02,             /* pid = 300 */
		0x18, 0x01,                   /* leave_running */
		0x52, 0x01, 'd',              /* log_file = "d" */
		0xba, 0x01, 0x10,             /* ext_mnt (23), 16 bytes: */
		0x0a, 0x04, '/', 'o', 'u', 't',                 /* key */
		0x12, 0x08, '/', 's', 'r', 'v', '/', 'o', 'u', 't', /* val */
		0xca, 0x01, 0x04, 0x12, 0x02, '/', 'c', /* cg_root (25) { path = "/c" } */
		0x90, 0x02, 0x00,             /* manage_cgroups_mode (34) = IGNORE (0) */
	};
	CHECK(req.len == sizeof(want) && memcmp(req.buf, want, sizeof(want)) == 0,
	      "criu_req: %zu bytes, want %zu", req.len, sizeof(want));
	/* a negative int32 takes ten bytes */
	sb_reset(&req);
	struct criu_opts neg = { .images_dir_fd = -1, .work_dir_fd = -1 };
	CHECK(criu_req_encode(CRIU_REQ_RESTORE, &neg, true, &req, &err) == 0, "encode -1");
	static const uint8_t want_neg[] = { 0x08, 0x02, 0x12, 11, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0x01, 0x18, 0x01 };
	CHECK(req.len == sizeof(want_neg) && memcmp(req.buf, want_neg, sizeof(want_neg)) == 0,
	      "negative fd: %zu bytes", req.len);
	sb_release(&req);

	/* RESTORE, success, restore { pid = 42 }, an unknown fixed64 field 15 */
	static const uint8_t ok[] = { 0x08, 0x02, 0x10, 0x01, 0x22, 0x02, 0x08, 0x2a,
				      0x79, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct criu_resp r;
	CHECK(criu_resp_decode(ok, sizeof(ok), &r, &err) == 0, "decode: %s", err.msg);
	CHECK(r.type == CRIU_REQ_RESTORE && r.success && r.has_restore_pid && r.restore_pid == 42,
	      "restore answer: type %d pid %d", r.type, r.restore_pid);
	/* every cut of it is refused, unless it ends between fields (after
	 * success, after the restore answer), and never read past */
	for (size_t n = 0; n < sizeof(ok); n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, ok, n);
		int rc = criu_resp_decode(cut, n, &r, &err);
		CHECK(rc == (n == 4 || n == 8 ? 0 : -EPROTO), "%zu of %zu bytes: %d", n, sizeof(ok), rc);
		free(cut);
	}
	/* a failure with its message; a field 3 sent as a varint is skipped,
	 * not read as the dump answer */
	static const uint8_t failed[] = { 0x08, 0x01, 0x10, 0x00, 0x38, 0x0d, 0x18, 0x05,
					  0x4a, 0x03, 'b', 0x00, 'd' };
	CHECK(criu_resp_decode(failed, sizeof(failed), &r, &err) == 0, "decode failure: %s", err.msg);
	CHECK(!r.success && r.cr_errno == 13 && !r.dump_restored, "failure answer");
	CHECK_STR(r.cr_errmsg, "b?d");
	/* a length past the end, a group, an eleven-byte varint */
	static const uint8_t past[] = { 0x08, 0x01, 0x10, 0x01, 0x4a, 0x7f, 'x' };
	static const uint8_t group[] = { 0x08, 0x01, 0x10, 0x01, 0x0b };
	static const uint8_t long_varint[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x01 };
	CHECK(criu_resp_decode(past, sizeof(past), &r, &err) == -EPROTO &&
		      strstr(err.msg, "CRIU's answer: malformed field at byte 4 of 7") != NULL,
	      "past the end: %s", err.msg);
	CHECK(criu_resp_decode(group, sizeof(group), &r, &err) == -EPROTO, "group");
	CHECK(criu_resp_decode(long_varint, sizeof(long_varint), &r, &err) == -EPROTO, "varint");
}

int main(void)
{
	criu_rpc_wire_format();
	timestamps();
	strbuf_builds_and_fails_closed();
	long_errors_keep_field_and_cause();
	escapes_control_characters();
	return unit_summary("test-common");
}
