/* api_jw.c - the streaming JSON writer (api_jw.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_jw.h"
#include "wk_log.h"

void
api_jw_init(struct api_jw *w)
{
	memset(w, 0, sizeof *w);
	wk_wbuf_init(&w->b);
}

void
api_jw_free(struct api_jw *w)
{
	wk_wbuf_free(&w->b);
}

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

void
api_jw_end(struct api_jw *w, char close)
{
	w->depth--;
	wk_put_u8(&w->b, (uint8_t)close);
}

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

void
api_jw_key(struct api_jw *w, const char *k)
{
	if (w->count[w->depth - 1]++ > 0)
		wk_put_u8(&w->b, ',');
	put_escaped(&w->b, k, strlen(k));
	wk_put_u8(&w->b, ':');
	w->after_key = 1;
}

void
api_jw_str(struct api_jw *w, const char *s, size_t n)
{
	value_begin(w);
	put_escaped(&w->b, s ? s : "", s ? n : 0);
}

void
api_jw_int(struct api_jw *w, long long v)
{
	char t[24];

	value_begin(w);
	wk_put_mem(&w->b, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

void
api_jw_null(struct api_jw *w)
{
	api_jw_raw(w, "null", 4);
}

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
