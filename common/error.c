#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int ret_code(int code)
{
	if (code < 0)
		code = -code;
	return code ? -code : -EINVAL;
}

int err_set(struct husk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret_code(code);
}

int err_sys(struct husk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (code < 0)
		code = -code;
	err->code = code ? code : EINVAL;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(err->code));
	return ret_code(code);
}

int err_prefix(struct husk_error *err, const char *fmt, ...)
{
	char prefix[HUSK_ERROR_MAX], old[HUSK_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return ret_code(err->code);
}

void err_clear(struct husk_error *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
