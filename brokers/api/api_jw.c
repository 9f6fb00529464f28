/* api_jw.c - the streaming JSON writer (api_jw.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_jw.h"
#include "wk_alloc.h"
#include "wk_crypto.h"
#include "wk_log.h"

/* Room for n more bytes at b->p + b->len (the writer fills them and moves
 * len itself: one size check per token, not per byte). */
static inline uint8_t *
reserve(struct wk_wbuf *b, size_t n)
{
	if (b->len + n > b->cap)
		wk_grow(&b->p, &b->cap, b->len + n);
	return b->p + b->len;
}

static inline void
put_byte(struct wk_wbuf *b, uint8_t c)
{
	*reserve(b, 1) = c;
	b->len++;
}

static inline void
put_mem(struct wk_wbuf *b, const void *p, size_t n)
{
	if (n) {
		memcpy(reserve(b, n), p, n);
		b->len += n;
	}
}

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

	put_byte(&w->b, 0);
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
		put_byte(&w->b, ',');
}

static void
open_(struct api_jw *w, char c)
{
	value_begin(w);
	if (w->depth >= API_JW_DEPTH)
		wk_fatalx("api_jw: nested deeper than %d", API_JW_DEPTH);
	w->count[w->depth++] = 0;
	put_byte(&w->b, (uint8_t)c);
}

void api_jw_array(struct api_jw *w) { open_(w, '['); }
void api_jw_object(struct api_jw *w) { open_(w, '{'); }

void
api_jw_end(struct api_jw *w, char close)
{
	w->depth--;
	put_byte(&w->b, (uint8_t)close);
}

void
api_jw_reserve(struct api_jw *w, size_t n)
{
	reserve(&w->b, n);
}

/* 1 for the bytes a JSON string must escape. */
static const uint8_t must_escape[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* s quoted and escaped, written in place: each run without escapes is
 * copied at once; room for the rest unescaped is made at the start and
 * again at each (rare) escape. */
static void
put_escaped(struct wk_wbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	uint8_t *o = reserve(b, n + 2);
	size_t i = 0, run;

	*o++ = '"';
	for (;;) {
		for (run = i; run < n && !must_escape[u[run]]; run++)
			;
		memcpy(o, s + i, run - i);
		o += run - i;
		if ((i = run) == n)
			break;
		unsigned char c = u[i++];
		b->len = (size_t)(o - b->p);
		/* The escape (at most 6), the rest unescaped, the quote. */
		o = reserve(b, n - i + 7);
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = (uint8_t)hex[c >> 4];
			o[4] = (uint8_t)hex[c & 15];
			o += 5;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

void
api_jw_keyn(struct api_jw *w, const char *k, size_t n)
{
	uint8_t *o;

	/* Keys are the callers' literals: nothing to escape (api_jw.h). */
	o = reserve(&w->b, n + 4);
	if (w->count[w->depth - 1]++ > 0)
		*o++ = ',';
	*o++ = '"';
	memcpy(o, k, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	w->b.len = (size_t)(o - w->b.p);
	w->after_key = 1;
}

void
api_jw_str(struct api_jw *w, const char *s, size_t n)
{
	value_begin(w);
	put_escaped(&w->b, s ? s : "", s ? n : 0);
}

size_t
api_jw_itoa(char t[API_JW_INT_MAX], long long v)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	    "8081828384858687888990919293949596979899";
	static const unsigned long long p10[] = { 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
	    1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	    100000000000ULL, 1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
	    1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
	    1000000000000000000ULL, 10000000000000000000ULL };
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	size_t n = v < 0, len = 1;
	char *q;

	if (v >= 0 && v < 10) {          /* flags, types, zeros: most of them */
		t[0] = (char)('0' + v);
		return 1;
	}
	/* The digits counted by compares (ids and times are 10 to 19 of
	 * them), then written in place from the end, two a division. */
	while (len < 20 && u >= p10[len - 1])
		len++;
	if (v < 0)
		t[0] = '-';
	q = t + n + len;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		q -= 2;
		q[0] = pairs[2 * r];
		q[1] = pairs[2 * r + 1];
	}
	if (u >= 10) {
		q[-2] = pairs[2 * u];
		q[-1] = pairs[2 * u + 1];
	} else
		q[-1] = (char)('0' + u);
	return n + len;
}

void
api_jw_int(struct api_jw *w, long long v)
{
	value_begin(w);
	w->b.len += api_jw_itoa((char *)reserve(&w->b, API_JW_INT_MAX), v);
}

void
api_jw_b64(struct api_jw *w, const void *p, size_t n)
{
	uint8_t *o;

	value_begin(w);
	o = reserve(&w->b, WK_B64_ENCODED_LEN(n) + 2);
	*o++ = '"';
	o += wk_b64_encode(p, n, (char *)o);
	*o++ = '"';
	w->b.len = (size_t)(o - w->b.p);
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
	put_mem(&w->b, text, n);
}

/* As jansson's utf8 check: no overlong forms, no surrogates, <= U+10FFFF. */
int
api_jw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, len, cp;
		uint64_t eight;
		/* ASCII eight bytes at a time (ids and client_msg_nos mostly are). */
		if ((size_t)(end - p) >= 8) {
			memcpy(&eight, p, 8);
			if ((eight & 0x8080808080808080ULL) == 0) {
				p += 8;
				continue;
			}
		}
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
