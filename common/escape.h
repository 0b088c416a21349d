/* Printing strings that came from outside (a registry, an image, a config):
 * raw control characters would let them move the cursor, retitle the
 * terminal or forge lines of output, so they are shown escaped. */
#ifndef HUSK_ESCAPE_H
#define HUSK_ESCAPE_H

#include <stdbool.h>

#include "common/strbuf.h"

/* Append s with every control character (C0, DEL, C1, the bidi, line
 * separator and zero-width characters) and every byte that is not valid
 * UTF-8 written as \n, \r, \t, \xHH or \uHHHH, and a backslash doubled. */
void sb_add_escaped(struct strbuf *sb, const char *s);
/* The same into a new heap string; NULL when out of memory. */
char *str_escape(const char *s);
/* Whether s holds a character sb_add_escaped would escape (a backslash
 * aside: it is text, only doubled). */
bool str_has_ctl(const char *s);

#endif
