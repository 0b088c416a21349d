#include "oci-spec/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

struct builder {
	struct json_node *root;
	struct json_node *stack[JSON_MAX_DEPTH + 1];
	int depth;
	char *pending_key; /* key read, value not yet */
	bool too_deep, no_memory;
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

/* Line and column (both from 1) of byte offset off in buf. */
static void position(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
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

int json_parse(const char *buf, size_t len, const char *source, struct json_node **out,
	       struct husk_error *err)
{
	struct builder b = { 0 };
	char reason[256];
	size_t line, col;
	int r = 0;

	yajl_handle h = yajl_alloc(&callbacks, NULL, &b);
	if (h == NULL)
		return err_sys(err, ENOMEM, "%s", source);

	/* The error offset is where yajl stopped; an error found only at the
	 * end (premature EOF) is at the end of the input. */
	size_t off = len;
	yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
	if (st != yajl_status_ok)
		off = yajl_get_bytes_consumed(h);
	else
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		position(buf, off > len ? len : off, &line, &col);
		if (b.too_deep)
			r = err_set(err, EINVAL, "%s: invalid JSON at line %zu, column %zu: nesting deeper than %d levels",
				    source, line, col, JSON_MAX_DEPTH);
		else if (b.no_memory)
			r = err_sys(err, ENOMEM, "%s", source);
		else {
			yajl_reason(h, reason, sizeof(reason));
			r = err_set(err, EINVAL, "%s: invalid JSON at line %zu, column %zu: %s", source, line,
				    col, reason);
		}
		json_free(b.root);
		free(b.pending_key);
	} else if (b.root == NULL) {
		r = err_set(err, EINVAL, "%s: invalid JSON: the document is empty", source);
	} else {
		*out = b.root;
	}
	yajl_free(h);
	return r;
}
