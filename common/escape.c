/* Escaping of control characters for output: see escape.h. */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"

/* Length of the valid UTF-8 sequence at p (1 for ASCII), 0 when invalid;
 * *cp gets the code point. */
static size_t utf8_seq(const unsigned char *p, unsigned *cp)
{
	unsigned c = p[0];
	size_t n;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF are not text */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* C0, DEL, C1, and the invisible characters that reorder, split or hide
 * in what a terminal shows (bidi marks, embeddings, overrides and isolates;
 * line and paragraph separators; zero-width space, word joiner, BOM): a
 * name holding U+202E or U+200B can print as another name. The zero-width
 * joiners (U+200C, U+200D) stay: emoji sequences are made of them. */
static bool is_ctl(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200b ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || cp == 0x2060 ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

void sb_add_escaped(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp;
		size_t n = utf8_seq(p, &cp);
		if (n == 0) {
			sb_addf(sb, "\\x%02x", *p);
			p++;
			continue;
		}
		if (cp == '\\') {
			/* doubled, so that an escape in the output always
			 * stands for a character that was escaped */
			sb_add(sb, "\\\\");
		} else if (!is_ctl(cp)) {
			sb_addn(sb, p, n);
		} else if (cp == '\n') {
			sb_add(sb, "\\n");
		} else if (cp == '\r') {
			sb_add(sb, "\\r");
		} else if (cp == '\t') {
			sb_add(sb, "\\t");
		} else if (cp < 0x80) {
			sb_addf(sb, "\\x%02x", cp);
		} else {
			sb_addf(sb, "\\u%04x", cp);
		}
		p += n;
	}
}

char *str_escape(const char *s)
{
	struct strbuf sb = STRBUF_INIT_MAX(4 * strlen(s) + 16);
	sb_add_escaped(&sb, s);
	if (sb.error) {
		sb_release(&sb);
		return NULL;
	}
	return sb_take(&sb);
}

bool str_has_ctl(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp;
		size_t n = utf8_seq(p, &cp);
		if (n == 0 || is_ctl(cp))
			return true;
		p += n;
	}
	return false;
}
