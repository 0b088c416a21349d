#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ret_code(int code)
{
	if (code < 0)
		code = -code;
	return code ? -code : -EINVAL;
}

/* Keep a message that does not fit whole: its start (what was wrong, the
 * field) and its end (the cause: ": No such file or directory") are what
 * matter, a long path or value in between is what gets cut. */
static void set_msg(struct husk_error *err, const char *s, size_t len)
{
	static const char cut[] = "[...]";
	if (len < sizeof(err->msg)) {
		memcpy(err->msg, s, len + 1);
		return;
	}
	size_t tail = sizeof(err->msg) / 2, head = sizeof(err->msg) - 1 - tail - (sizeof(cut) - 1);
	memcpy(err->msg, s, head);
	memcpy(err->msg + head, cut, sizeof(cut) - 1);
	memcpy(err->msg + head + sizeof(cut) - 1, s + len - tail, tail + 1);
}

/* fmt and its arguments, then suffix (may be empty), into err->msg. */
__attribute__((format(printf, 2, 0))) static void vset(struct husk_error *err, const char *fmt,
						       va_list ap, const char *suffix)
{
	char small[4 * HUSK_ERROR_MAX];
	size_t slen = strlen(suffix);
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0) {
		snprintf(err->msg, sizeof(err->msg), "(unformattable message)%s", suffix);
		return;
	}
	if ((size_t)n + slen < sizeof(small)) {
		memcpy(small + n, suffix, slen + 1);
		set_msg(err, small, (size_t)n + slen);
		return;
	}
	/* longer than the stack copy: on the heap, or cut at its end */
	char *big = malloc((size_t)n + slen + 1);
	if (big == NULL) {
		set_msg(err, small, strlen(small));
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	memcpy(big + n, suffix, slen + 1);
	set_msg(err, big, (size_t)n + slen);
	free(big);
}

int err_set(struct husk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	va_start(ap, fmt);
	vset(err, fmt, ap, "");
	va_end(ap);
	return ret_code(code);
}

int err_sys(struct husk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	char suffix[256];

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	snprintf(suffix, sizeof(suffix), ": %s", strerror(err->code));
	va_start(ap, fmt);
	vset(err, fmt, ap, suffix);
	va_end(ap);
	return ret_code(code);
}

int err_prefix(struct husk_error *err, const char *fmt, ...)
{
	char old[HUSK_ERROR_MAX];
	char prefix[HUSK_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* ": OLD" as the suffix: the old message's end (its cause) is kept */
	char both[2 * HUSK_ERROR_MAX + 2];
	int n = snprintf(both, sizeof(both), "%s: %s", prefix, old);
	set_msg(err, both, n < 0 ? 0 : strnlen(both, sizeof(both) - 1));
	return ret_code(err->code);
}

void err_clear(struct husk_error *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
