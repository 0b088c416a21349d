/* The checked string builder: see strbuf.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

static size_t sb_max(const struct strbuf *sb)
{
	return sb->max ? sb->max : STRBUF_DEFAULT_MAX;
}

/* Room for n more bytes and the NUL; false (error set) when not. */
static int sb_grow(struct strbuf *sb, size_t n)
{
	if (sb->error)
		return 0;
	if (n > sb_max(sb) || sb->len > sb_max(sb) - n) {
		sb->error = ENAMETOOLONG;
		return 0;
	}
	size_t need = sb->len + n + 1;
	if (need <= sb->cap)
		return 1;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(sb->cap ? sb->buf : NULL, cap);
	if (p == NULL) {
		sb->error = ENOMEM;
		return 0;
	}
	if (sb->cap == 0)
		p[0] = '\0';
	sb->buf = p;
	sb->cap = cap;
	return 1;
}

void sb_addn(struct strbuf *sb, const void *data, size_t n)
{
	if (!sb_grow(sb, n))
		return;
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_add(struct strbuf *sb, const char *s)
{
	sb_addn(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_addn(sb, &c, 1);
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	if (sb->error)
		return;
	va_copy(copy, ap);
	char dummy;
	int n = vsnprintf(sb->cap ? sb->buf + sb->len : &dummy, sb->cap ? sb->cap - sb->len : 1, fmt,
			  copy);
	va_end(copy);
	if (n < 0) {
		sb->error = EINVAL;
		return;
	}
	if (sb->cap && (size_t)n < sb->cap - sb->len) {
		/* it fit the first time; still enforce the cap */
		if ((size_t)n > sb_max(sb) || sb->len > sb_max(sb) - (size_t)n) {
			sb->buf[sb->len] = '\0';
			sb->error = ENAMETOOLONG;
			return;
		}
		sb->len += (size_t)n;
		return;
	}
	if (sb->cap)
		sb->buf[sb->len] = '\0';
	if (!sb_grow(sb, (size_t)n))
		return;
	vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_reset(struct strbuf *sb)
{
	sb_truncate(sb, 0);
	sb->error = 0;
}

void sb_truncate(struct strbuf *sb, size_t len)
{
	if (len >= sb->len)
		return;
	sb->len = len;
	if (sb->cap)
		sb->buf[len] = '\0';
}

int sb_check(const struct strbuf *sb, struct husk_error *err, const char *what)
{
	if (sb->error == 0)
		return 0;
	if (sb->error == ENOMEM)
		return err_set(err, ENOMEM, "%s: out of memory", what);
	if (sb->error == ENAMETOOLONG)
		return err_set(err, ENAMETOOLONG, "%s: too long (over %zu bytes)", what, sb_max(sb));
	return err_set(err, sb->error, "%s: cannot be formatted", what);
}

char *sb_take(struct strbuf *sb)
{
	char *s = sb->cap ? sb->buf : strdup("");
	sb->buf = (char *)"";
	sb->len = sb->cap = 0;
	sb->error = 0;
	return s;
}

void sb_release(struct strbuf *sb)
{
	if (sb->cap)
		free(sb->buf);
	sb->buf = (char *)"";
	sb->len = sb->cap = 0;
	sb->error = 0;
}

int str_fmt(char **out, size_t max, struct husk_error *err, const char *what, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT_MAX(max);
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	*out = NULL;
	int r = sb_check(&sb, err, what);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	*out = sb_take(&sb);
	if (*out == NULL)
		return err_set(err, ENOMEM, "%s: out of memory", what);
	return 0;
}

int fmt_into(char *buf, size_t size, struct husk_error *err, const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(err, EINVAL, "%s: cannot be formatted", what);
	if ((size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return err_set(err, ENAMETOOLONG, "%s: too long (over %zu bytes)", what, size - 1);
	}
	return 0;
}
