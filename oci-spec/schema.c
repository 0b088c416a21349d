#include "oci-spec/schema.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "common/fileutil.h"
#include "oci-spec/json.h"

#define PATH_MAX_LEN 512

struct decoder {
	const char *source;
	char path[PATH_MAX_LEN];
	size_t path_len;
	struct husk_error *err;
};

typedef struct {
	void *items;
	size_t len;
} any_array;

typedef struct {
	char **keys;
	void *values;
	size_t len;
} any_map;

static size_t elem_size(unsigned char kind, const struct oci_type *sub)
{
	switch (kind) {
	case OCI_STR:
		return sizeof(char *);
	case OCI_BOOL:
		return sizeof(bool);
	case OCI_I32:
	case OCI_U32:
		return sizeof(uint32_t);
	case OCI_I64:
	case OCI_U64:
		return sizeof(uint64_t);
	case OCI_U16:
		return sizeof(uint16_t);
	case OCI_OBJ:
		return sub->size;
	}
	return 0;
}

/* ---- path bookkeeping ---- */

static size_t path_push_key(struct decoder *d, const char *key)
{
	size_t saved = d->path_len;
	int n = snprintf(d->path + d->path_len, sizeof(d->path) - d->path_len, "%s%s",
			 d->path_len ? "." : "", key);
	if (n > 0)
		d->path_len = strnlen(d->path, sizeof(d->path) - 1);
	return saved;
}

static size_t path_push_index(struct decoder *d, size_t index)
{
	size_t saved = d->path_len;
	snprintf(d->path + d->path_len, sizeof(d->path) - d->path_len, "[%zu]", index);
	d->path_len = strnlen(d->path, sizeof(d->path) - 1);
	return saved;
}

static size_t path_push_map_key(struct decoder *d, const char *key)
{
	size_t saved = d->path_len;
	char quoted[128];
	json_quote(key, strlen(key), 64, quoted, sizeof(quoted));
	snprintf(d->path + d->path_len, sizeof(d->path) - d->path_len, "[%s]", quoted);
	d->path_len = strnlen(d->path, sizeof(d->path) - 1);
	return saved;
}

static void path_pop(struct decoder *d, size_t saved)
{
	d->path_len = saved;
	d->path[saved] = '\0';
}

__attribute__((format(printf, 2, 3))) static int fail(struct decoder *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->path_len)
		return err_set(d->err, EINVAL, "%s: %s: %s", d->source, d->path, msg);
	return err_set(d->err, EINVAL, "%s: %s", d->source, msg);
}

/* How a wrong value is shown: strings by value, the rest by their kind. */
static void describe(const struct json_node *n, char *buf, size_t size)
{
	if (n->type == JSON_STRING)
		json_quote(n->string.s, n->string.len, 40, buf, size);
	else
		snprintf(buf, size, "%s", json_type_phrase(n->type));
}

static int wrong_type(struct decoder *d, const char *expected, const struct json_node *n)
{
	char got[256];
	describe(n, got, sizeof(got));
	return fail(d, "expected %s, got %s", expected, got);
}

/* ---- decoding ---- */

static int decode_object(struct decoder *d, const struct oci_type *type, const struct json_node *n,
			 void *obj);
static void free_object(const struct oci_type *type, void *obj);

static int decode_integer(struct decoder *d, const struct json_node *n, unsigned char kind, void *out)
{
	static const struct {
		const char *name;
		int64_t min;
		uint64_t max;
	} ranges[] = {
		[OCI_I32] = { "a 32-bit integer", INT32_MIN, INT32_MAX },
		[OCI_U32] = { "a 32-bit unsigned integer", 0, UINT32_MAX },
		[OCI_I64] = { "a 64-bit integer", INT64_MIN, INT64_MAX },
		[OCI_U64] = { "a 64-bit unsigned integer", 0, UINT64_MAX },
		[OCI_U16] = { "a 16-bit unsigned integer", 0, UINT16_MAX },
	};
	if (n->type != JSON_NUMBER)
		return wrong_type(d, "an integer", n);
	const char *text = n->number.text;
	if (strpbrk(text, ".eE"))
		return fail(d, "expected an integer, got %s", text);

	bool negative = text[0] == '-';
	errno = 0;
	if (negative) {
		char *end;
		long long v = strtoll(text, &end, 10);
		if (errno == ERANGE || v < ranges[kind].min)
			return fail(d, "%s is out of range for %s", text, ranges[kind].name);
		switch (kind) {
		case OCI_I32:
			*(int32_t *)out = (int32_t)v;
			break;
		case OCI_I64:
			*(int64_t *)out = v;
			break;
		}
		return 0;
	}
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno == ERANGE || v > ranges[kind].max)
		return fail(d, "%s is out of range for %s", text, ranges[kind].name);
	switch (kind) {
	case OCI_I32:
		*(int32_t *)out = (int32_t)v;
		break;
	case OCI_U32:
		*(uint32_t *)out = (uint32_t)v;
		break;
	case OCI_I64:
		*(int64_t *)out = (int64_t)v;
		break;
	case OCI_U64:
		*(uint64_t *)out = v;
		break;
	case OCI_U16:
		*(uint16_t *)out = (uint16_t)v;
		break;
	}
	return 0;
}

static int decode_string(struct decoder *d, const struct json_node *n, char **out)
{
	if (n->type != JSON_STRING)
		return wrong_type(d, "a string", n);
	if (memchr(n->string.s, '\0', n->string.len))
		return fail(d, "the string contains a NUL character (\\u0000)");
	*out = strdup(n->string.s);
	if (*out == NULL)
		return err_sys(d->err, ENOMEM, "%s", d->source);
	return 0;
}

/* Decode one element (array item, map value) stored inline at out. */
static int decode_element(struct decoder *d, unsigned char kind, const struct oci_type *sub,
			  const struct json_node *n, void *out)
{
	switch (kind) {
	case OCI_STR:
		return decode_string(d, n, out);
	case OCI_BOOL:
		if (n->type != JSON_BOOL)
			return wrong_type(d, "a boolean", n);
		*(bool *)out = n->boolean;
		return 0;
	case OCI_OBJ:
		return decode_object(d, sub, n, out);
	default:
		return decode_integer(d, n, kind, out);
	}
}

static int check_duplicate_keys(struct decoder *d, const struct json_node *n);

static int decode_array(struct decoder *d, const struct oci_field *f, const struct json_node *n,
			any_array *arr)
{
	if (n->type != JSON_ARRAY)
		return wrong_type(d, "an array", n);
	size_t size = elem_size(f->elem, f->sub);
	/* calloc(1) for an empty array: present but empty differs from absent */
	arr->items = calloc(n->array.len ? n->array.len : 1, size);
	if (arr->items == NULL)
		return err_sys(d->err, ENOMEM, "%s", d->source);
	arr->len = n->array.len;
	for (size_t i = 0; i < n->array.len; i++) {
		size_t saved = path_push_index(d, i);
		int r = decode_element(d, f->elem, f->sub, n->array.items[i], (char *)arr->items + i * size);
		if (r < 0)
			return r;
		path_pop(d, saved);
	}
	return 0;
}

static int decode_map(struct decoder *d, const struct oci_field *f, const struct json_node *n,
		      any_map *map)
{
	if (n->type != JSON_OBJECT)
		return wrong_type(d, "an object", n);
	int r = check_duplicate_keys(d, n);
	if (r < 0)
		return r;
	size_t count = n->object.len ? n->object.len : 1;
	size_t size = f->kind == OCI_SET ? 0 : elem_size(f->elem, f->sub);
	map->keys = calloc(count, sizeof(char *));
	if (size)
		map->values = calloc(count, size);
	if (map->keys == NULL || (size && map->values == NULL))
		return err_sys(d->err, ENOMEM, "%s", d->source);
	map->len = n->object.len;
	for (size_t i = 0; i < n->object.len; i++) {
		map->keys[i] = strdup(n->object.keys[i]);
		if (map->keys[i] == NULL)
			return err_sys(d->err, ENOMEM, "%s", d->source);
		if (f->kind == OCI_SET)
			continue;
		size_t saved = path_push_map_key(d, n->object.keys[i]);
		r = decode_element(d, f->elem, f->sub, n->object.values[i], (char *)map->values + i * size);
		if (r < 0)
			return r;
		path_pop(d, saved);
	}
	return 0;
}

static int decode_field(struct decoder *d, const struct oci_field *f, const struct json_node *n,
			char *obj)
{
	void *p = obj + f->offset;
	int r;

	switch (f->kind) {
	case OCI_OBJ: {
		void *child = calloc(1, f->sub->size);
		if (child == NULL)
			return err_sys(d->err, ENOMEM, "%s", d->source);
		*(void **)p = child; /* owned by obj from here, freed with it */
		r = decode_object(d, f->sub, n, child);
		break;
	}
	case OCI_ARR:
		r = decode_array(d, f, n, p);
		break;
	case OCI_MAP:
	case OCI_SET:
		/* a set is stored as a string array: same layout as a map's keys */
		if (f->kind == OCI_SET) {
			any_map tmp = { 0 };
			r = decode_map(d, f, n, &tmp);
			((any_array *)p)->items = tmp.keys;
			((any_array *)p)->len = tmp.len;
		} else {
			r = decode_map(d, f, n, p);
		}
		break;
	default:
		r = decode_element(d, f->kind, NULL, n, p);
	}
	if (r == 0 && f->presence == OCI_HAS_FLAG)
		*(bool *)(obj + f->has_offset) = true;
	return r;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_duplicate_keys(struct decoder *d, const struct json_node *n)
{
	if (n->object.len < 2)
		return 0;
	char **sorted = malloc(n->object.len * sizeof(char *));
	if (sorted == NULL)
		return err_sys(d->err, ENOMEM, "%s", d->source);
	memcpy(sorted, n->object.keys, n->object.len * sizeof(char *));
	qsort(sorted, n->object.len, sizeof(char *), compare_keys);
	int r = 0;
	for (size_t i = 1; i < n->object.len && r == 0; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			char quoted[128];
			json_quote(sorted[i], strlen(sorted[i]), 64, quoted, sizeof(quoted));
			r = fail(d, "duplicate key %s", quoted);
		}
	}
	free(sorted);
	return r;
}

static int decode_object(struct decoder *d, const struct oci_type *type, const struct json_node *n,
			 void *obj)
{
	if (n->type != JSON_OBJECT)
		return wrong_type(d, "an object", n);
	int r = check_duplicate_keys(d, n);
	if (r < 0)
		return r;

	bool seen[type->nfields], null[type->nfields];
	memset(seen, 0, sizeof(seen));
	memset(null, 0, sizeof(null));
	for (size_t i = 0; i < n->object.len; i++) {
		const char *key = n->object.keys[i];
		for (size_t j = 0; j < type->nfields; j++) {
			const struct oci_field *f = &type->fields[j];
			if (strcmp(f->name, key) != 0)
				continue;
			/* null means absent, as Go's decoder treats it */
			if (n->object.values[i]->type == JSON_NULL) {
				null[j] = true;
				break;
			}
			size_t saved = path_push_key(d, key);
			r = decode_field(d, f, n->object.values[i], obj);
			if (r < 0)
				return r;
			path_pop(d, saved);
			seen[j] = true;
			break;
		}
	}
	for (size_t j = 0; j < type->nfields; j++) {
		if (type->fields[j].presence == OCI_REQUIRED && !seen[j]) {
			size_t saved = path_push_key(d, type->fields[j].name);
			r = fail(d, null[j] ? "required field is null" : "required field is missing");
			path_pop(d, saved);
			return r;
		}
	}
	return 0;
}

int oci_decode(const struct oci_type *type, const char *buf, size_t len, const char *source,
	       void **out, struct husk_error *err)
{
	struct json_node *root = NULL;
	struct decoder d = { .source = source, .err = err };

	if (len > JSON_MAX_SIZE)
		return err_set(err, EFBIG, "%s: file is too large (%zu bytes, the limit is %u)", source,
			       len, JSON_MAX_SIZE);
	int r = json_parse(buf, len, source, &root, err);
	if (r < 0)
		return r;
	void *obj = calloc(1, type->size);
	if (obj == NULL) {
		json_free(root);
		return err_sys(err, ENOMEM, "%s", source);
	}
	r = decode_object(&d, type, root, obj);
	json_free(root);
	if (r < 0) {
		oci_free(type, obj);
		return r;
	}
	*out = obj;
	return 0;
}

int oci_decode_file(const struct oci_type *type, int dirfd, const char *path, const char *source,
		    void **out, struct husk_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_at(dirfd, path, JSON_MAX_SIZE, &buf, &len, err);
	if (r < 0)
		return r;
	return oci_decode(type, buf, len, source, out, err);
}

/* ---- freeing ---- */

static void free_element(unsigned char kind, const struct oci_type *sub, void *p)
{
	if (kind == OCI_STR)
		free(*(char **)p);
	else if (kind == OCI_OBJ)
		free_object(sub, p);
}

static void free_object(const struct oci_type *type, void *obj)
{
	for (size_t j = 0; j < type->nfields; j++) {
		const struct oci_field *f = &type->fields[j];
		void *p = (char *)obj + f->offset;
		switch (f->kind) {
		case OCI_STR:
			free(*(char **)p);
			break;
		case OCI_OBJ:
			if (*(void **)p) {
				free_object(f->sub, *(void **)p);
				free(*(void **)p);
			}
			break;
		case OCI_ARR: {
			any_array *a = p;
			size_t size = elem_size(f->elem, f->sub);
			for (size_t i = 0; a->items && i < a->len; i++)
				free_element(f->elem, f->sub, (char *)a->items + i * size);
			free(a->items);
			break;
		}
		case OCI_SET: {
			any_array *a = p;
			for (size_t i = 0; a->items && i < a->len; i++)
				free(((char **)a->items)[i]);
			free(a->items);
			break;
		}
		case OCI_MAP: {
			any_map *m = p;
			size_t size = elem_size(f->elem, f->sub);
			for (size_t i = 0; m->keys && i < m->len; i++) {
				free(m->keys[i]);
				if (m->values)
					free_element(f->elem, f->sub, (char *)m->values + i * size);
			}
			free(m->keys);
			free(m->values);
			break;
		}
		}
	}
}

void oci_free(const struct oci_type *type, void *obj)
{
	if (obj == NULL)
		return;
	free_object(type, obj);
	free(obj);
}

/* ---- encoding ---- */

static int gen_string(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok ? 0 : -EINVAL;
}

static int encode_object(yajl_gen g, const struct oci_type *type, const void *obj);

static int encode_scalar(yajl_gen g, unsigned char kind, const struct oci_type *sub, const void *p)
{
	char num[32];

	switch (kind) {
	case OCI_STR:
		return gen_string(g, *(char *const *)p ? *(char *const *)p : "");
	case OCI_BOOL:
		return yajl_gen_bool(g, *(const bool *)p) == yajl_gen_status_ok ? 0 : -EINVAL;
	case OCI_OBJ:
		return encode_object(g, sub, p);
	case OCI_I32:
		snprintf(num, sizeof(num), "%" PRId32, *(const int32_t *)p);
		break;
	case OCI_U32:
		snprintf(num, sizeof(num), "%" PRIu32, *(const uint32_t *)p);
		break;
	case OCI_I64:
		snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)p);
		break;
	case OCI_U64:
		snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)p);
		break;
	case OCI_U16:
		snprintf(num, sizeof(num), "%" PRIu16, *(const uint16_t *)p);
		break;
	default:
		return -EINVAL;
	}
	return yajl_gen_number(g, num, strlen(num)) == yajl_gen_status_ok ? 0 : -EINVAL;
}

static bool is_zero(const void *p, size_t size)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < size; i++)
		if (b[i])
			return false;
	return true;
}

static bool field_present(const struct oci_field *f, const char *obj)
{
	const void *p = obj + f->offset;
	switch (f->kind) {
	case OCI_STR:
	case OCI_OBJ:
		return *(void *const *)p != NULL || (f->kind == OCI_STR && f->presence == OCI_REQUIRED);
	case OCI_ARR:
	case OCI_SET:
		return ((const any_array *)p)->items != NULL;
	case OCI_MAP:
		return ((const any_map *)p)->keys != NULL;
	}
	if (f->presence == OCI_REQUIRED)
		return true;
	if (f->presence == OCI_HAS_FLAG)
		return *(const bool *)(obj + f->has_offset);
	return !is_zero(p, elem_size(f->kind, NULL));
}

static int encode_object(yajl_gen g, const struct oci_type *type, const void *obj)
{
	int r = 0;

	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -EINVAL;
	for (size_t j = 0; j < type->nfields && r == 0; j++) {
		const struct oci_field *f = &type->fields[j];
		const char *p = (const char *)obj + f->offset;
		if (!field_present(f, obj))
			continue;
		r = gen_string(g, f->name);
		if (r < 0)
			break;
		switch (f->kind) {
		case OCI_OBJ:
			r = encode_object(g, f->sub, *(void *const *)p);
			break;
		case OCI_ARR: {
			const any_array *a = (const any_array *)p;
			size_t size = elem_size(f->elem, f->sub);
			yajl_gen_array_open(g);
			for (size_t i = 0; i < a->len && r == 0; i++)
				r = encode_scalar(g, f->elem, f->sub, (const char *)a->items + i * size);
			yajl_gen_array_close(g);
			break;
		}
		case OCI_SET: {
			const any_array *a = (const any_array *)p;
			yajl_gen_map_open(g);
			for (size_t i = 0; i < a->len && r == 0; i++) {
				r = gen_string(g, ((char *const *)a->items)[i]);
				yajl_gen_map_open(g);
				yajl_gen_map_close(g);
			}
			yajl_gen_map_close(g);
			break;
		}
		case OCI_MAP: {
			const any_map *m = (const any_map *)p;
			size_t size = elem_size(f->elem, f->sub);
			yajl_gen_map_open(g);
			for (size_t i = 0; i < m->len && r == 0; i++) {
				r = gen_string(g, m->keys[i]);
				if (r == 0)
					r = encode_scalar(g, f->elem, f->sub, (const char *)m->values + i * size);
			}
			yajl_gen_map_close(g);
			break;
		}
		default:
			r = encode_scalar(g, f->kind, NULL, p);
		}
	}
	if (yajl_gen_map_close(g) != yajl_gen_status_ok && r == 0)
		r = -EINVAL;
	return r;
}

int oci_encode(const struct oci_type *type, const void *obj, bool pretty, char **out, size_t *len,
	       struct husk_error *err)
{
	const unsigned char *buf;
	size_t blen;

	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		return err_sys(err, ENOMEM, "encoding %s", type->name);
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "\t");
	}
	int r = encode_object(g, type, obj);
	if (r == 0 && yajl_gen_get_buf(g, &buf, &blen) == yajl_gen_status_ok) {
		*out = malloc(blen + 1);
		if (*out == NULL) {
			r = -ENOMEM;
		} else {
			memcpy(*out, buf, blen);
			(*out)[blen] = '\0';
			*len = blen;
		}
	} else if (r == 0) {
		r = -EINVAL;
	}
	yajl_gen_free(g);
	if (r < 0)
		return err_set(err, -r, "encoding %s: %s", type->name,
			       r == -ENOMEM ? "out of memory" : "invalid value (not UTF-8?)");
	return 0;
}

/* ---- small helpers ---- */

const char *oci_map_get(const oci_string_map *map, const char *key)
{
	for (size_t i = 0; i < map->len; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->values[i];
	return NULL;
}

int oci_strings_append(oci_strings *arr, const char *value)
{
	char *copy = strdup(value);
	char **items = realloc(arr->items, (arr->len + 1) * sizeof(char *));
	if (copy == NULL || items == NULL) {
		free(copy);
		if (items)
			arr->items = items;
		return -ENOMEM;
	}
	items[arr->len++] = copy;
	arr->items = items;
	return 0;
}

int oci_map_set(oci_string_map *map, const char *key, const char *value)
{
	for (size_t i = 0; i < map->len; i++) {
		if (strcmp(map->keys[i], key) == 0) {
			char *copy = strdup(value);
			if (copy == NULL)
				return -ENOMEM;
			free(map->values[i]);
			map->values[i] = copy;
			return 0;
		}
	}
	char **keys = realloc(map->keys, (map->len + 1) * sizeof(char *));
	if (keys == NULL)
		return -ENOMEM;
	map->keys = keys;
	char **values = realloc(map->values, (map->len + 1) * sizeof(char *));
	if (values == NULL)
		return -ENOMEM;
	map->values = values;
	keys[map->len] = strdup(key);
	values[map->len] = strdup(value);
	if (keys[map->len] == NULL || values[map->len] == NULL) {
		free(keys[map->len]);
		free(values[map->len]);
		return -ENOMEM;
	}
	map->len++;
	return 0;
}
