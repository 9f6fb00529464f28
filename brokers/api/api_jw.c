/* api_jw.c - the streaming JSON writer (api_jw.h), used by wk-api's
 * /conversation/sync (api_convsync.c) and message answers (api_msgresp.c).
 *
 * The state is a stack of member counts, one per open array or object: a
 * value or key writes a comma before itself when its container already has
 * a member.  after_key suppresses that comma for the value that follows a
 * key (the key counted it).  Misuse (closing too much, keys outside an
 * object) is a programming error, not input: callers write fixed shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_jw.h"
#include "wk_log.h"

/* Start an empty writer; the buffer grows on demand (wk_wbuf). */
void
api_jw_init(struct api_jw *w)
{
	memset(w, 0, sizeof *w);
	wk_wbuf_init(&w->b);
}

/* Release the buffer of a writer whose text was not taken. */
void
api_jw_free(struct api_jw *w)
{
	wk_wbuf_free(&w->b);
}

/* Hand the text over (NUL-terminated) and leave w empty and reusable. */
char *
api_jw_take(struct api_jw *w, size_t *len)
{
	char *s;

	wk_put_u8(&w->b, 0);
	*len = w->b.len - 1;
	s = (char *)w->b.p;
	wk_wbuf_init(&w->b);
	w->depth = 0;
	return s;
}

/* Before a value: the comma of an array member. */
static void
value_begin(struct api_jw *w)
{
	if (w->after_key)
		w->after_key = 0;
	else if (w->depth > 0 && w->count[w->depth - 1]++ > 0)
		wk_put_u8(&w->b, ',');
}

/* Open an array or object.  API_JW_DEPTH bounds the stack; callers write
 * fixed shapes, so passing it is a bug, hence fatal. */
static void
open_(struct api_jw *w, char c)
{
	value_begin(w);
	if (w->depth >= API_JW_DEPTH)
		wk_fatalx("api_jw: nested deeper than %d", API_JW_DEPTH);
	w->count[w->depth++] = 0;
	wk_put_u8(&w->b, (uint8_t)c);
}

void api_jw_array(struct api_jw *w) { open_(w, '['); }
void api_jw_object(struct api_jw *w) { open_(w, '{'); }

/* Close the innermost container; close is ']' or '}', matching the open. */
void
api_jw_end(struct api_jw *w, char close)
{
	w->depth--;
	wk_put_u8(&w->b, (uint8_t)close);
}

/* A JSON string as jansson escapes it: unescaped runs are copied in one
 * piece, so the common case (nothing to escape) is a single memcpy. */
static void
put_escaped(struct wk_wbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	wk_put_u8(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		char u[7];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		wk_put_mem(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			e = u;
		}
		wk_put_mem(b, e, strlen(e));
	}
	wk_put_mem(b, s + run, n - run);
	wk_put_u8(b, '"');
}

/* An object member's key; the next value call writes its value. */
void
api_jw_key(struct api_jw *w, const char *k)
{
	if (w->count[w->depth - 1]++ > 0)
		wk_put_u8(&w->b, ',');
	put_escaped(&w->b, k, strlen(k));
	wk_put_u8(&w->b, ':');
	w->after_key = 1;
}

/* A string value; NULL writes "" (a missing field of a record). */
void
api_jw_str(struct api_jw *w, const char *s, size_t n)
{
	value_begin(w);
	put_escaped(&w->b, s ? s : "", s ? n : 0);
}

/* An integer value, printed as jansson prints it (%lld). */
void
api_jw_int(struct api_jw *w, long long v)
{
	char t[24];

	value_begin(w);
	wk_put_mem(&w->b, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

/* The JSON null. */
void
api_jw_null(struct api_jw *w)
{
	api_jw_raw(w, "null", 4);
}

/* Splice text that is already JSON; the caller vouches for it. */
void
api_jw_raw(struct api_jw *w, const char *text, size_t n)
{
	value_begin(w);
	wk_put_mem(&w->b, text, n);
}

void
api_jw_kstr(struct api_jw *w, const char *k, const char *s, size_t n)
{
	api_jw_key(w, k);
	api_jw_str(w, s, n);
}

void
api_jw_kint(struct api_jw *w, const char *k, long long v)
{
	api_jw_key(w, k);
	api_jw_int(w, v);
}

/* As jansson's utf8 check: no overlong forms, no surrogates, <= U+10FFFF. */
int
api_jw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, len, cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(end - p) < len)
			return 0;
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += len;
	}
	return 1;
}
