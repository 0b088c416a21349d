/* The one checked string builder (DESIGN.md: no string is built into a
 * fixed buffer by unchecked snprintf chains). A strbuf grows on the heap up
 * to a cap; the first failure (out of memory, or over the cap) is sticky, so
 * a chain of appends is checked once, at the end, by sb_check, which fails
 * naming what was being built.
 *
 *	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
 *	sb_addf(&path, "%s/%s/tasks", mount, cgroup);
 *	if (sb_check(&path, err, "linux.cgroupsPath") < 0)
 *		return -err->code;
 *	fd = open(path.buf, ...);
 */
#ifndef HUSK_STRBUF_H
#define HUSK_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/error.h"

/* Default cap: longer than any path (PATH_MAX) or line husk builds. */
#define STRBUF_DEFAULT_MAX (1024 * 1024)

struct strbuf {
	char *buf;  /* NUL-terminated; "" (static) until something is added */
	size_t len; /* bytes before the NUL */
	size_t cap; /* allocated bytes */
	size_t max; /* most bytes len may reach; 0 means STRBUF_DEFAULT_MAX */
	int error;  /* first failure as a positive errno (ENOMEM, ENAMETOOLONG) */
};

#define STRBUF_INIT { .buf = (char *)"", .len = 0, .cap = 0, .max = 0, .error = 0 }
/* A builder whose contents may not exceed max bytes (e.g. PATH_MAX - 1). */
#define STRBUF_INIT_MAX(m) { .buf = (char *)"", .len = 0, .cap = 0, .max = (m), .error = 0 }

void sb_add(struct strbuf *sb, const char *s);
void sb_addn(struct strbuf *sb, const void *data, size_t n);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drop the contents (keeps the allocation and clears the error). */
void sb_reset(struct strbuf *sb);
/* Drop the contents after byte len (len <= sb->len). */
void sb_truncate(struct strbuf *sb, size_t len);
/* 0 when every append so far fit; otherwise fills err ("WHAT: too long
 * (over N bytes)" or "WHAT: out of memory") and returns -errno. */
int sb_check(const struct strbuf *sb, struct husk_error *err, const char *what);
/* The heap string (caller frees; never NULL unless out of memory) and an
 * empty builder. Check first: a failed builder hands out what it has. */
char *sb_take(struct strbuf *sb);
void sb_release(struct strbuf *sb);
static inline void sb_releasep(struct strbuf *sb)
{
	sb_release(sb);
}
#define _cleanup_strbuf_ __attribute__((cleanup(sb_releasep)))

/* One-shot: *out = a heap string made from fmt, at most max bytes (0:
 * STRBUF_DEFAULT_MAX). Fails naming what, leaving *out NULL. */
int str_fmt(char **out, size_t max, struct husk_error *err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* For the few fixed buffers that stay (stack arrays in async-signal-safe or
 * hot code): format into buf[size] or fail naming what, never truncating. */
int fmt_into(char *buf, size_t size, struct husk_error *err, const char *what, const char *fmt,
	     ...) __attribute__((format(printf, 5, 6)));

#endif
