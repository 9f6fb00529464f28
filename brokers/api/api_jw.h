/* api_jw.h - a streaming JSON writer (wk-api(8)): an answer written as it
 * is produced into one buffer, instead of a jansson tree built and then
 * printed.  Its output is byte for byte what json_dumps(JSON_COMPACT)
 * prints for the same values in the same order: strings escaped per
 * RFC 8259 as jansson does (", \, \b \f \n \r \t, other controls as
 * \u00XX in upper case; "/" and non-ASCII as they are). */
#ifndef API_JW_H
#define API_JW_H
#include <stddef.h>
#include <stdint.h>
#include "wk_buf.h"

#define API_JW_DEPTH 32
#define API_JW_INT_MAX 24           /* bytes of the longest long long */

struct api_jw {
	struct wk_wbuf b;
	int depth;
	int after_key;               /* a key was written: its value comes next */
	uint32_t count[API_JW_DEPTH];   /* members written at each depth */
};

void api_jw_init(struct api_jw *w);
void api_jw_free(struct api_jw *w);
/* The text (malloc'd, NUL-terminated) and its length; w is emptied. */
char *api_jw_take(struct api_jw *w, size_t *len);

void api_jw_array(struct api_jw *w);
void api_jw_object(struct api_jw *w);
/* Closes the innermost array or object. */
void api_jw_end(struct api_jw *w, char close);
/* k is written as it is: a name that needs no escaping (a literal). */
void api_jw_keyn(struct api_jw *w, const char *k, size_t n);
void api_jw_str(struct api_jw *w, const char *s, size_t n);
void api_jw_int(struct api_jw *w, long long v);
void api_jw_null(struct api_jw *w);
/* n bytes as a base64 string (jansson's output for the encoded text). */
void api_jw_b64(struct api_jw *w, const void *p, size_t n);
/* v in decimal into t, no NUL: its length. */
size_t api_jw_itoa(char t[API_JW_INT_MAX], long long v);
/* Make room for n more bytes (an estimate of the answer: fewer copies). */
void api_jw_reserve(struct api_jw *w, size_t n);
/* A value already in JSON (json_dumps output, say). */
void api_jw_raw(struct api_jw *w, const char *text, size_t n);
/* Inline so that strlen of a literal key is folded to a constant. */
static inline void
api_jw_key(struct api_jw *w, const char *k)
{
	api_jw_keyn(w, k, __builtin_strlen(k));
}

/* Shorthands: key then value. */
static inline void
api_jw_kstr(struct api_jw *w, const char *k, const char *s, size_t n)
{
	api_jw_key(w, k);
	api_jw_str(w, s, n);
}

static inline void
api_jw_kint(struct api_jw *w, const char *k, long long v)
{
	api_jw_key(w, k);
	api_jw_int(w, v);
}

/* 1 if s[0..n) is valid UTF-8 (jansson refuses a string that is not). */
int api_jw_is_utf8(const char *s, size_t n);

#endif
