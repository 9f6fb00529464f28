/* wk_json.h - small jansson helpers for request bodies: a missing or
 * mistyped member reads as "" or 0 (the handlers validate first). */
#ifndef WK_JSON_H
#define WK_JSON_H
#include <jansson.h>

static inline const char *
wk_jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static inline json_int_t
wk_jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

#endif
