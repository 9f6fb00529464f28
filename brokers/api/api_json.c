/* api_json.c - reading request bodies the way Go's encoding/json reads them
 * into the reference's structs (wk-api(8)): unknown fields ignored, null and
 * absent fields are zero, keys matched exactly or else case-insensitively, a
 * value of the wrong JSON type is a 400 naming it in Go's words.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api.h"


/* The member `key` of o: an exact match first, then a case-insensitive one. */
json_t *
api_in_get(const struct api_in *in, const char *key)
{
	const char *k;
	json_t *v = json_object_get(in->o, key);

	if (v != NULL)
		return v;
	json_object_foreach(in->o, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

/* Go's wording for the kind of a JSON value in an unmarshal error. */
static const char *
json_kind(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
		snprintf(buf, len, "number %" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "number %g", json_real_value(v));
		return buf;
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

/* Answer 400 as Go does for a value of the wrong type; returns -1. */
int
api_bad_type(struct api_req *r, const json_t *v, const char *type, const char *field,
    const char *gotype)
{
	char msg[320], num[64];

	if (field)
		snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
		    json_kind(v, num, sizeof num), type, field, gotype);
	else
		snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go value of type %s",
		    json_kind(v, num, sizeof num), gotype);
	api_answer_error(r, 400, msg);
	return -1;
}

int
api_is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Parse the body as a JSON value of kind `want` (null counts as empty);
 * NULL after answering 400. */
json_t *
api_body_json(struct api_req *r, json_type want, const char *gotype)
{
	json_error_t e;
	json_t *j;

	/* Go's decoder reads one value and ignores what follows it. */
	if (api_is_blank(r->body)) {
		api_answer_error(r, 400, "EOF");
		return NULL;
	}
	if ((j = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e)) == NULL) {
		api_answer_error(r, 400, e.text);
		return NULL;
	}
	if (json_is_null(j)) {
		json_decref(j);
		return want == JSON_OBJECT ? json_object() : json_array();
	}
	if (json_typeof(j) != want) {
		api_bad_type(r, j, NULL, NULL, gotype);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A string member ("" when absent or null); -1 after answering 400. */
int
api_in_str(struct api_in *in, const char *key, const char **out)
{
	json_t *v = api_in_get(in, key);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return api_bad_type(in->r, v, in->type, key, "string");
	*out = json_string_value(v);
	return 0;
}

/* An integer member in [min, max] (0 when absent or null). */
int
api_in_int(struct api_in *in, const char *key, const char *gotype, json_int_t min, json_int_t max,
    json_int_t *out)
{
	json_t *v = api_in_get(in, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return api_bad_type(in->r, v, in->type, key, gotype);
	*out = json_integer_value(v);
	return 0;
}

/* Every element of array a is a string; -1 after answering 400. */
int
api_all_strings(struct api_req *r, json_t *a, const char *type, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return api_bad_type(r, v, type, field, "string");
	return 0;
}

/* An array-of-strings member (NULL when absent or null). */
int
api_in_strs(struct api_in *in, const char *key, json_t **out)
{
	json_t *v = api_in_get(in, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return api_bad_type(in->r, v, in->type, key, "[]string");
	if (api_all_strings(in->r, v, in->type, key) < 0)
		return -1;
	*out = v;
	return 0;
}

/* channel_type from the query: a value that is not a uint8 reads as 0, as
 * Go's ParseUint8 does. */
json_int_t
api_query_type(struct api_req *r)
{
	const char *t = api_query(r, "channel_type");
	char *end;
	long v;

	if (t == NULL || *t == '\0')
		return 0;
	v = strtol(t, &end, 10);
	return *end == '\0' && v >= 0 && v <= 255 ? v : 0;
}

/* A query argument, "" when absent. */
const char *
api_query_str(struct api_req *r, const char *name)
{
	const char *v = api_query(r, name);

	return v ? v : "";
}
