/* A small JSON tree built with yajl's event parser. It exists so that the
 * schema decoder can report exact JSON paths, refuse duplicate keys, cap the
 * nesting depth and keep number literals exactly as written. */
#ifndef HUSK_JSON_H
#define HUSK_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define JSON_MAX_DEPTH 64
/* Default cap for any JSON document husk reads (config.json, image JSON). */
#define JSON_MAX_SIZE (4u << 20)

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_OBJECT, JSON_ARRAY };

struct json_node {
	enum json_type type;
	union {
		bool boolean;
		struct {
			char *text; /* the literal as written, NUL-terminated */
		} number;
		struct {
			char *s; /* NUL-terminated; may contain NUL when has_nul */
			size_t len;
		} string;
		struct {
			char **keys;
			struct json_node **values;
			size_t len, cap;
		} object;
		struct {
			struct json_node **items;
			size_t len, cap;
		} array;
	};
};

/* Parse buf (len bytes). source names the document in errors
 * ("config.json: invalid JSON at line 3, column 5: ..."). */
int json_parse(const char *buf, size_t len, const char *source, struct json_node **out,
	       struct husk_error *err);
void json_free(struct json_node *node);
/* "a string", "an object", ... for error messages */
const char *json_type_phrase(enum json_type type);
/* s (len bytes) as a double-quoted JSON string for messages: quotes,
 * backslashes and control characters escaped, cut after max bytes with
 * "..." inside the quotes. out is always NUL-terminated. */
void json_quote(const char *s, size_t len, size_t max, char *out, size_t size);

#endif
