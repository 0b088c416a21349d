/* Declarative JSON <-> C struct mapping. Each JSON object is described by a
 * table of fields (JSON key, C type, offset, required/optional, nested type);
 * one generic decoder, encoder and destructor walk those tables.
 *
 * Storage conventions:
 *   string            char *                NULL when absent
 *   object            struct T *            NULL when absent
 *   array             OCI_ARRAY(T)          items == NULL when absent
 *   map               OCI_MAP(T)            keys == NULL when absent
 *   set ({"k":{}})    OCI_ARRAY(char *)     items == NULL when absent
 *   scalar, optional  T x; bool has_x;      (OPT fields)
 *   scalar, omitempty T x;                  zero means absent
 * Arrays and maps hold their elements inline (objects too). */
#ifndef HUSK_OCI_SCHEMA_H
#define HUSK_OCI_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define OCI_ARRAY(T)                                                                               \
	struct {                                                                                   \
		T *items;                                                                          \
		size_t len;                                                                        \
	}
#define OCI_MAP(T)                                                                                 \
	struct {                                                                                   \
		char **keys;                                                                       \
		T *values;                                                                         \
		size_t len;                                                                        \
	}

typedef OCI_ARRAY(char *) oci_strings;
typedef OCI_MAP(char *) oci_string_map;

enum oci_kind {
	OCI_STR = 1,
	OCI_BOOL,
	OCI_I32,
	OCI_U32,
	OCI_I64,
	OCI_U64,
	OCI_U16,
	OCI_OBJ, /* field: pointer; element: inline */
	OCI_ARR,
	OCI_MAP,
	OCI_SET,
};

enum oci_presence {
	OCI_OMITEMPTY = 0, /* absent when NULL / zero */
	OCI_REQUIRED,      /* decoding fails without it; always encoded */
	OCI_HAS_FLAG,      /* has_offset names the bool that says it is present */
};

struct oci_type;

struct oci_field {
	const char *name;
	size_t offset;
	size_t has_offset;
	unsigned char kind;
	unsigned char elem; /* element kind of OCI_ARR / OCI_MAP */
	unsigned char presence;
	const struct oci_type *sub; /* for OCI_OBJ fields and elements */
};

struct oci_type {
	const char *name;
	size_t size;
	const struct oci_field *fields;
	size_t nfields;
};

/* Table-building helpers; define OCI_CUR as the struct being described. */
#define OCI_FIELD(json, member, k, el, pres, subtype)                                              \
	{ .name = (json), .offset = offsetof(OCI_CUR, member), .kind = (k), .elem = (el),          \
	  .presence = (pres), .sub = (subtype) }
#define F_STR(json, member) OCI_FIELD(json, member, OCI_STR, 0, OCI_OMITEMPTY, NULL)
#define F_STR_REQ(json, member) OCI_FIELD(json, member, OCI_STR, 0, OCI_REQUIRED, NULL)
#define F_VAL(json, member, k) OCI_FIELD(json, member, k, 0, OCI_OMITEMPTY, NULL)
#define F_VAL_REQ(json, member, k) OCI_FIELD(json, member, k, 0, OCI_REQUIRED, NULL)
#define F_VAL_OPT(json, member, k)                                                                 \
	{ .name = (json), .offset = offsetof(OCI_CUR, member),                                     \
	  .has_offset = offsetof(OCI_CUR, has_##member), .kind = (k), .presence = OCI_HAS_FLAG }
#define F_OBJ(json, member, type) OCI_FIELD(json, member, OCI_OBJ, 0, OCI_OMITEMPTY, &(type))
#define F_OBJ_REQ(json, member, type) OCI_FIELD(json, member, OCI_OBJ, 0, OCI_REQUIRED, &(type))
#define F_ARR(json, member, el) OCI_FIELD(json, member, OCI_ARR, el, OCI_OMITEMPTY, NULL)
#define F_ARR_REQ(json, member, el) OCI_FIELD(json, member, OCI_ARR, el, OCI_REQUIRED, NULL)
#define F_ARR_OBJ(json, member, type) OCI_FIELD(json, member, OCI_ARR, OCI_OBJ, OCI_OMITEMPTY, &(type))
#define F_MAP(json, member, el) OCI_FIELD(json, member, OCI_MAP, el, OCI_OMITEMPTY, NULL)
#define F_MAP_OBJ(json, member, type) OCI_FIELD(json, member, OCI_MAP, OCI_OBJ, OCI_OMITEMPTY, &(type))
#define F_SET(json, member) OCI_FIELD(json, member, OCI_SET, 0, OCI_OMITEMPTY, NULL)

#define OCI_TYPE(var, ctype, table)                                                                \
	const struct oci_type var = { #ctype, sizeof(ctype), table, sizeof(table) / sizeof(table[0]) }

/* Decode a JSON document into a newly allocated struct of the given type.
 * source ("config.json") prefixes every error, followed by the JSON path. */
int oci_decode(const struct oci_type *type, const char *buf, size_t len, const char *source,
	       void **out, struct husk_error *err);
/* Read (size-capped) and decode a file relative to dirfd. */
int oci_decode_file(const struct oci_type *type, int dirfd, const char *path, const char *source,
		    void **out, struct husk_error *err);
/* Encode; pretty uses tab indentation and newlines as runc does. *out is
 * NUL-terminated and malloc'd. */
int oci_encode(const struct oci_type *type, const void *obj, bool pretty, char **out, size_t *len,
	       struct husk_error *err);
void oci_free(const struct oci_type *type, void *obj);

/* Map lookup helper for string maps; NULL when missing. */
const char *oci_map_get(const oci_string_map *map, const char *key);
/* Append to a string array / string map (copies). -ENOMEM on failure. */
int oci_strings_append(oci_strings *arr, const char *value);
int oci_map_set(oci_string_map *map, const char *key, const char *value);

#endif
