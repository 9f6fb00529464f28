/* wk_jw.h - a streaming JSON writer (wk-api's answers, the channel shards'
 * stream events): JSON written as it is produced into one buffer, instead
 * of a jansson tree built and then printed.  Its output is byte for byte what json_dumps(JSON_COMPACT)
 * prints for the same values in the same order: strings escaped per
 * RFC 8259 as jansson does (", \, \b \f \n \r \t, other controls as
 * \u00XX in upper case; "/" and non-ASCII as they are). */
#ifndef WK_JW_H
#define WK_JW_H
#include <stddef.h>
#include <stdint.h>
#include "wk_buf.h"

#define WK_JW_DEPTH 32
#define WK_JW_INT_MAX 24           /* bytes of the longest long long */

struct wk_jw {
	struct wk_wbuf b;
	int depth;
	int after_key;               /* a key was written: its value comes next */
	uint32_t count[WK_JW_DEPTH];   /* members written at each depth */
};

void wk_jw_init(struct wk_jw *w);
void wk_jw_free(struct wk_jw *w);
/* The text (malloc'd, NUL-terminated) and its length; w is emptied. */
char *wk_jw_take(struct wk_jw *w, size_t *len);
/* Empty w for the next text, keeping its memory (a writer used per event
 * allocates nothing once warm). */
void wk_jw_reset(struct wk_jw *w);

void wk_jw_array(struct wk_jw *w);
void wk_jw_object(struct wk_jw *w);
/* Closes the innermost array or object. */
void wk_jw_end(struct wk_jw *w, char close);
/* k is written as it is: a name that needs no escaping (a literal). */
void wk_jw_keyn(struct wk_jw *w, const char *k, size_t n);
void wk_jw_str(struct wk_jw *w, const char *s, size_t n);
/* The same for bytes that may not be UTF-8 (a binary client's ids): each
 * byte that does not start a valid sequence is written as U+FFFD, as Go's
 * encoding/json writes it. */
void wk_jw_str_lossy(struct wk_jw *w, const char *s, size_t n);
void wk_jw_int(struct wk_jw *w, long long v);
void wk_jw_null(struct wk_jw *w);
/* n bytes as a base64 string (jansson's output for the encoded text). */
void wk_jw_b64(struct wk_jw *w, const void *p, size_t n);
/* v in decimal into t, no NUL: its length. */
size_t wk_jw_itoa(char t[WK_JW_INT_MAX], long long v);
/* Make room for n more bytes (an estimate of the answer: fewer copies). */
void wk_jw_reserve(struct wk_jw *w, size_t n);
/* A value already in JSON (json_dumps output, say). */
void wk_jw_raw(struct wk_jw *w, const char *text, size_t n);
/* Inline so that strlen of a literal key is folded to a constant. */
static inline void
wk_jw_key(struct wk_jw *w, const char *k)
{
	wk_jw_keyn(w, k, __builtin_strlen(k));
}

/* Shorthands: key then value. */
static inline void
wk_jw_kstr(struct wk_jw *w, const char *k, const char *s, size_t n)
{
	wk_jw_key(w, k);
	wk_jw_str(w, s, n);
}

static inline void
wk_jw_kint(struct wk_jw *w, const char *k, long long v)
{
	wk_jw_key(w, k);
	wk_jw_int(w, v);
}

/* 1 if s[0..n) is valid UTF-8 (jansson refuses a string that is not). */
int wk_jw_is_utf8(const char *s, size_t n);
/* 1 if s[0..n) is exactly one JSON value (RFC 8259, white space around it
 * allowed, strings UTF-8 without raw control characters, nesting at most
 * WK_JW_DEPTH): what wk_jw_raw may embed.  It builds nothing. */
int wk_jw_is_json(const char *s, size_t n);
/* The raw text of member `key` of the JSON object s[0..n) (the last one
 * of that name, as jansson keeps): 1 and *v, *vn; 0 if s is JSON but not
 * an object with it; -1 if s is not JSON; -2 if a member's name has an
 * escape (compare with a parser).  Nothing is allocated. */
int wk_jw_member(const char *s, size_t n, const char *key, const char **v, size_t *vn);

#endif
