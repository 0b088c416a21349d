#include "oci-spec/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct builder {
	struct json_node *root;
	struct json_node *stack[JSON_MAX_DEPTH + 1];
	int depth;
	char *pending_key; /* key read, value not yet */
	bool too_deep, nul_key, no_memory;
};

const char *json_type_phrase(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	}
	return "a value";
}

void json_free(struct json_node *node)
{
	if (node == NULL)
		return;
	switch (node->type) {
	case JSON_NUMBER:
		free(node->number.text);
		break;
	case JSON_STRING:
		free(node->string.s);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < node->object.len; i++) {
			free(node->object.keys[i]);
			json_free(node->object.values[i]);
		}
		free(node->object.keys);
		free(node->object.values);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < node->array.len; i++)
			json_free(node->array.items[i]);
		free(node->array.items);
		break;
	default:
		break;
	}
	free(node);
}

static bool grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*ptr, ncap * elem);
	if (p == NULL)
		return false;
	*ptr = p;
	*cap = ncap;
	return true;
}

/* Attach a new node to the current container; returns 0 to abort parsing. */
static int attach(struct builder *b, struct json_node *node)
{
	if (node == NULL) {
		b->no_memory = true;
		return 0;
	}
	if (b->depth == 0) {
		b->root = node;
		return 1;
	}
	struct json_node *parent = b->stack[b->depth - 1];
	if (parent->type == JSON_OBJECT) {
		size_t cap = parent->object.cap;
		if (!grow((void **)&parent->object.keys, &cap, parent->object.len + 1, sizeof(char *)) ||
		    !grow((void **)&parent->object.values, &parent->object.cap, parent->object.len + 1,
			  sizeof(struct json_node *))) {
			json_free(node);
			b->no_memory = true;
			return 0;
		}
		parent->object.keys[parent->object.len] = b->pending_key;
		parent->object.values[parent->object.len++] = node;
		b->pending_key = NULL;
	} else {
		if (!grow((void **)&parent->array.items, &parent->array.cap, parent->array.len + 1,
			  sizeof(struct json_node *))) {
			json_free(node);
			b->no_memory = true;
			return 0;
		}
		parent->array.items[parent->array.len++] = node;
	}
	return 1;
}

static struct json_node *new_node(enum json_type type)
{
	struct json_node *n = calloc(1, sizeof(*n));
	if (n)
		n->type = type;
	return n;
}

static int on_null(void *ctx)
{
	return attach(ctx, new_node(JSON_NULL));
}

static int on_boolean(void *ctx, int value)
{
	struct json_node *n = new_node(JSON_BOOL);
	if (n)
		n->boolean = value != 0;
	return attach(ctx, n);
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct json_node *n = new_node(JSON_NUMBER);
	if (n && (n->number.text = strndup(s, len)) == NULL) {
		free(n);
		n = NULL;
	}
	return attach(ctx, n);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct json_node *n = new_node(JSON_STRING);
	if (n) {
		n->string.s = malloc(len + 1);
		if (n->string.s == NULL) {
			free(n);
			n = NULL;
		} else {
			memcpy(n->string.s, s, len);
			n->string.s[len] = '\0';
			n->string.len = len;
		}
	}
	return attach(ctx, n);
}

static int open_container(struct builder *b, enum json_type type)
{
	if (b->depth >= JSON_MAX_DEPTH) {
		b->too_deep = true;
		return 0;
	}
	struct json_node *n = new_node(type);
	if (!attach(b, n))
		return 0;
	b->stack[b->depth++] = n;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, JSON_OBJECT);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct builder *b = ctx;
	/* keys are C strings: "a\u0000b" would silently become "a" */
	if (memchr(key, '\0', len)) {
		b->nul_key = true;
		return 0;
	}
	b->pending_key = malloc(len + 1);
	if (b->pending_key == NULL) {
		b->no_memory = true;
		return 0;
	}
	memcpy(b->pending_key, key, len);
	b->pending_key[len] = '\0';
	return 1;
}

static int on_end_container(void *ctx)
{
	struct builder *b = ctx;
	b->depth--;
	return 1;
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, JSON_ARRAY);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_container,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_container,
};

/* ---- error positions and wording ----
 *
 * yajl reports how many bytes it consumed, which is past the offending
 * token for most errors, at the offending character for some and inside
 * the token for one. To point at the token itself we need token
 * boundaries, so a small tokenizer runs over the input after an error. It
 * never interprets values: parsing stays with yajl, and everything before
 * the error is valid JSON, so the boundaries it finds are yajl's. */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_punct(unsigned char c)
{
	return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

/* The token holding byte at: [*start, *end). At whitespace or past the end,
 * both are at. */
static void token_at(const char *buf, size_t len, size_t at, size_t *start, size_t *end)
{
	size_t i = 0;

	while (i < len && i <= at) {
		unsigned char c = buf[i];
		if (is_space(c)) {
			i++;
			continue;
		}
		size_t s = i;
		if (c == '"') {
			for (i++; i < len && buf[i] != '"'; i++)
				if (buf[i] == '\\' && i + 1 < len)
					i++;
			if (i < len)
				i++;
		} else if (is_punct(c)) {
			i++;
		} else {
			while (i < len && !is_space(buf[i]) && !is_punct(buf[i]) && buf[i] != '"')
				i++;
		}
		if (at < i) {
			*start = s;
			*end = i;
			return;
		}
	}
	*start = *end = at;
}

static void put(char *out, size_t size, size_t *o, const char *text)
{
	for (; *text && *o + 1 < size; text++)
		out[(*o)++] = *text;
	out[*o] = '\0';
}

/* Cut len so that it is at most max and does not split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

void json_quote(const char *s, size_t len, size_t max, char *out, size_t size)
{
	size_t o = 0, shown = utf8_cut(s, len, max);
	char esc[8];

	if (size == 0)
		return;
	out[0] = '\0';
	put(out, size, &o, "\"");
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			snprintf(esc, sizeof(esc), "%c", c);
		put(out, size, &o, esc);
	}
	put(out, size, &o, shown < len ? "...\"" : "\"");
}

/* The token at [start, end) as the user wrote it: punctuation in single
 * quotes, strings, numbers and words as they are (cut when long), any byte
 * that is not printable as \xNN. */
static void show_token(const char *buf, size_t start, size_t end, char *out, size_t size)
{
	size_t o = 0, len = end - start, shown = utf8_cut(buf + start, len, 24);
	bool in_string = buf[start] == '"';
	char byte[8];

	out[0] = '\0';
	if (len == 1 && is_punct(buf[start])) {
		snprintf(out, size, "'%c'", buf[start]);
		return;
	}
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = buf[start + i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !in_string))
			snprintf(byte, sizeof(byte), "\\x%02x", c);
		else
			snprintf(byte, sizeof(byte), "%c", c);
		put(out, size, &o, byte);
	}
	if (shown < len)
		put(out, size, &o, "...");
}

/* Line and column (both from 1, columns in characters) of byte off. */
static void position(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* The first byte of the first sequence in [from, to) that yajl's UTF-8
 * check refuses (it checks the lead byte and the count of continuation
 * bytes only); to when there is none. */
static size_t bad_utf8(const char *buf, size_t from, size_t to)
{
	size_t i = from;
	while (i < to) {
		unsigned char c = buf[i];
		size_t more;
		if (c < 0x80)
			more = 0;
		else if ((c >> 5) == 0x6)
			more = 1;
		else if ((c >> 4) == 0xe)
			more = 2;
		else if ((c >> 3) == 0x1e)
			more = 3;
		else
			return i;
		for (size_t k = 1; k <= more; k++)
			if (i + k >= to || ((unsigned char)buf[i + k] & 0xc0) != 0x80)
				return i;
		i += more + 1;
	}
	return to;
}

/* Where an error is, relative to yajl's offset. */
enum error_at {
	AT_OFFSET,	 /* the character at the offset */
	AT_CHAR_BEFORE,	 /* the character before it */
	AT_BAD_UTF8,	 /* the sequence that is not UTF-8 in the string before it */
	AT_TOKEN_BEFORE, /* the token that ends at the offset */
	AT_TOKEN_BACKED, /* yajl backed up over the token: to its start, or 2 bytes
			  * past a string's opening quote */
	AT_END,		 /* the end of the document */
};

enum error_detail {
	SHOW_NOTHING,
	SHOW_TOKEN, /* ", got TOKEN" */
	SHOW_CHAR,  /* " 'c'" or " 0xNN" */
	SHOW_GOT,   /* ", got 'c'" or ", got byte 0xNN" */
};

/* yajl's messages (without "lexical error: " and the final period), the
 * wording husk shows instead, and where the error is. */
static const struct {
	const char *yajl, *says;
	unsigned char at, detail;
} reasons[] = {
	{ "premature EOF", "unexpected end of the document", AT_END, SHOW_NOTHING },
	{ "trailing garbage", "expected the end of the document", AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "invalid char in json text", "unexpected character", AT_CHAR_BEFORE, SHOW_CHAR },
	{ "invalid string in json text", "invalid literal (expected true, false or null)",
	  AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "probable comment found in input text, comments are not enabled",
	  "comments are not allowed in JSON", AT_OFFSET, SHOW_NOTHING },
	{ "invalid bytes in UTF8 string", "a string is not valid UTF-8", AT_BAD_UTF8, SHOW_GOT },
	{ "inside a string, '\\' occurs before a character which it may not",
	  "invalid escape sequence in a string", AT_CHAR_BEFORE, SHOW_NOTHING },
	{ "invalid character inside string", "a control character in a string must be escaped",
	  AT_OFFSET, SHOW_GOT },
	{ "invalid (non-hex) character occurs after '\\u' inside string",
	  "\\u in a string must be followed by four hex digits", AT_OFFSET, SHOW_GOT },
	{ "malformed number, a digit is required after the minus sign",
	  "malformed number (a digit must follow '-')", AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "malformed number, a digit is required after the decimal point",
	  "malformed number (a digit must follow '.')", AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "malformed number, a digit is required after the exponent",
	  "malformed number (a digit must follow the exponent)", AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "unallowed token at this point in JSON text", "expected a value", AT_TOKEN_BEFORE,
	  SHOW_TOKEN },
	{ "invalid object key (must be a string)", "expected an object key (a string)",
	  AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "object key and value must be separated by a colon (':')",
	  "expected ':' after an object key", AT_TOKEN_BEFORE, SHOW_TOKEN },
	{ "after key and value, inside map, I expect ',' or '}'",
	  "expected ',' or '}' after an object member", AT_TOKEN_BACKED, SHOW_TOKEN },
	{ "after array element, I expect ',' or ']'", "expected ',' or ']' after an array element",
	  AT_TOKEN_BEFORE, SHOW_TOKEN },
};

/* The byte offset the error is at; reason gets says plus the detail. */
static size_t locate(const char *buf, size_t len, size_t off, unsigned char rule,
		     unsigned char detail, const char *says, char *reason, size_t size)
{
	size_t at = off, start = 0, end = 0;

	switch (rule) {
	case AT_OFFSET:
		break;
	case AT_CHAR_BEFORE:
		at = off > 0 ? off - 1 : 0;
		break;
	case AT_BAD_UTF8:
		/* yajl stops at or after the first byte that does not fit */
		token_at(buf, len, off > 0 ? off - 1 : 0, &start, &end);
		at = bad_utf8(buf, start, off);
		if (at == off)
			at = off > 0 ? off - 1 : 0;
		break;
	case AT_END:
		at = len;
		while (at > 0 && is_space(buf[at - 1]))
			at--;
		break;
	case AT_TOKEN_BACKED:
		token_at(buf, len, off >= 2 ? off - 2 : 0, &start, &end);
		at = off >= 2 && start == off - 2 && buf[start] == '"' ? start : off;
		break;
	case AT_TOKEN_BEFORE:
		at = off > 0 ? off - 1 : 0;
		token_at(buf, len, at, &start, &end);
		/* yajl stopped at an offending character that follows a space */
		if (start == end)
			at = off;
		break;
	}
	if (at > len)
		at = len;

	/* point at the start of the offending token, as the user wrote it */
	size_t yajl_at = at;
	bool token = rule == AT_TOKEN_BACKED || rule == AT_TOKEN_BEFORE;
	if (token) {
		token_at(buf, len, at, &start, &end);
		token = end > start;
		if (token)
			at = start;
	}

	char shown[128] = "";
	if (detail == SHOW_TOKEN && token) {
		/* yajl reads "012" as 0 then 12 and complains about the 12 */
		const char *digits = buf + start + (buf[start] == '-');
		if (yajl_at > start && digits + 1 < buf + end && digits[0] == '0' && digits[1] >= '0' &&
		    digits[1] <= '9')
			says = "a number must not start with 0";
		show_token(buf, start, end, shown + 6, sizeof(shown) - 6);
		memcpy(shown, ", got ", 6);
	} else if ((detail == SHOW_CHAR || detail == SHOW_GOT) && at < len) {
		unsigned char c = buf[at];
		const char *lead = detail == SHOW_GOT ? ", got" : "";
		if (at == 0 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			says = "a byte order mark (U+FEFF) is not allowed before the JSON document";
		else if (c == '\'')
			snprintf(shown, sizeof(shown), "%s \"'\"", lead);
		else if (c > 0x20 && c < 0x7f)
			snprintf(shown, sizeof(shown), "%s '%c'", lead, c);
		else
			snprintf(shown, sizeof(shown), "%s%s 0x%02x", lead, *lead ? " byte" : "", c);
	}
	snprintf(reason, size, "%s%s", says, shown);
	return at;
}

/* yajl says "lexical error: invalid char in json text.\n"; keep the middle. */
static void yajl_reason(yajl_handle h, char *out, size_t size)
{
	unsigned char *raw = yajl_get_error(h, 0, NULL, 0);
	const char *s = (const char *)raw;
	const char *colon = strstr(s, "error: ");
	if (colon)
		s = colon + strlen("error: ");
	snprintf(out, size, "%s", s);
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '.' || out[n - 1] == ' '))
		out[--n] = '\0';
	yajl_free_error(h, raw);
}

static bool all_space(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space(buf[i]))
			return false;
	return true;
}

/* The message for a failed parse: what is wrong and at which line and
 * column. off is where yajl stopped. */
static int parse_error(yajl_handle h, const struct builder *b, const char *buf, size_t len,
		       size_t off, const char *source, struct husk_error *err)
{
	char yajl_says[256], reason[320];
	size_t at, line, col;

	if (b->no_memory)
		return err_sys(err, ENOMEM, "%s", source);
	if (off > len)
		off = len;
	if (b->too_deep || b->nul_key) {
		/* our callback refused the token that ends at off */
		const char *says = b->too_deep ? "nesting deeper than " STRINGIFY(JSON_MAX_DEPTH) " levels"
					       : "an object key contains a NUL character (\\u0000)";
		at = locate(buf, len, off, AT_TOKEN_BEFORE, SHOW_NOTHING, says, reason, sizeof(reason));
	} else {
		yajl_reason(h, yajl_says, sizeof(yajl_says));
		size_t i = 0, n = sizeof(reasons) / sizeof(reasons[0]);
		while (i < n && strcmp(reasons[i].yajl, yajl_says) != 0)
			i++;
		if (i < n)
			at = locate(buf, len, off, reasons[i].at, reasons[i].detail, reasons[i].says,
				    reason, sizeof(reason));
		else /* a yajl we do not know: its words, our best guess at the place */
			at = locate(buf, len, off, AT_TOKEN_BEFORE, SHOW_NOTHING, yajl_says, reason,
				    sizeof(reason));
	}
	position(buf, at, &line, &col);
	return err_set(err, EINVAL, "%s: invalid JSON at line %zu, column %zu: %s", source, line, col,
		       reason);
}

int json_parse(const char *buf, size_t len, const char *source, struct json_node **out,
	       struct husk_error *err)
{
	struct builder b = { 0 };

	if (all_space(buf, len))
		return err_set(err, EINVAL, "%s: invalid JSON: the document is empty", source);
	yajl_handle h = yajl_alloc(&callbacks, NULL, &b);
	if (h == NULL)
		return err_sys(err, ENOMEM, "%s", source);

	/* An error found only by yajl_complete_parse (in the last token, or a
	 * premature end) is at the end of the input. */
	size_t off = len;
	yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
	if (st != yajl_status_ok)
		off = yajl_get_bytes_consumed(h);
	else
		st = yajl_complete_parse(h);
	if (st == yajl_status_ok) {
		*out = b.root;
		yajl_free(h);
		return 0;
	}
	int r = parse_error(h, &b, buf, len, off, source, err);
	json_free(b.root);
	free(b.pending_key);
	yajl_free(h);
	return r;
}
