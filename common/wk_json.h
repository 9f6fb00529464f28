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

/* The reference's error body {"msg":..., "status":...} and {"status":n}. */
static inline json_t *
wk_json_error(const char *msg, int status)
{
	return json_pack("{s:s,s:i}", "msg", msg, "status", status);
}

static inline json_t *
wk_json_status(int status)
{
	return json_pack("{s:i}", "status", status);
}

#endif
