/* wk_jw.c - the streaming JSON writer (wk_jw.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wk_jw.h"
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
wk_jw_init(struct wk_jw *w)
{
	memset(w, 0, sizeof *w);
	wk_wbuf_init(&w->b);
}

void
wk_jw_free(struct wk_jw *w)
{
	wk_wbuf_free(&w->b);
}

char *
wk_jw_take(struct wk_jw *w, size_t *len)
{
	char *s;

	put_byte(&w->b, 0);
	*len = w->b.len - 1;
	s = (char *)w->b.p;
	wk_wbuf_init(&w->b);
	w->depth = 0;
	return s;
}

void
wk_jw_reset(struct wk_jw *w)
{
	w->b.len = 0;
	w->depth = 0;
	w->after_key = 0;
}

/* Before a value: the comma of an array member. */
static void
value_begin(struct wk_jw *w)
{
	if (w->after_key)
		w->after_key = 0;
	else if (w->depth > 0 && w->count[w->depth - 1]++ > 0)
		put_byte(&w->b, ',');
}

static void
open_(struct wk_jw *w, char c)
{
	value_begin(w);
	if (w->depth >= WK_JW_DEPTH)
		wk_fatalx("wk_jw: nested deeper than %d", WK_JW_DEPTH);
	w->count[w->depth++] = 0;
	put_byte(&w->b, (uint8_t)c);
}

void wk_jw_array(struct wk_jw *w) { open_(w, '['); }
void wk_jw_object(struct wk_jw *w) { open_(w, '{'); }

void
wk_jw_end(struct wk_jw *w, char close)
{
	w->depth--;
	put_byte(&w->b, (uint8_t)close);
}

void
wk_jw_reserve(struct wk_jw *w, size_t n)
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
wk_jw_keyn(struct wk_jw *w, const char *k, size_t n)
{
	uint8_t *o;

	/* Keys are the callers' literals: nothing to escape (wk_jw.h). */
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
wk_jw_str(struct wk_jw *w, const char *s, size_t n)
{
	value_begin(w);
	put_escaped(&w->b, s ? s : "", s ? n : 0);
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if
 * the bytes there are not one (jansson's rules: no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], len, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
wk_jw_str_lossy(struct wk_jw *w, const char *s, size_t n)
{
	struct wk_wbuf fixed;
	size_t i = 0, k;

	if (s == NULL || wk_jw_is_utf8(s, n)) {
		wk_jw_str(w, s, n);
		return;
	}
	wk_wbuf_init(&fixed);
	while (i < n) {
		if ((k = utf8_seq((const unsigned char *)s + i, n - i)) == 0) {
			put_mem(&fixed, "\xef\xbf\xbd", 3);      /* U+FFFD */
			i++;
		} else {
			put_mem(&fixed, s + i, k);
			i += k;
		}
	}
	wk_jw_str(w, (const char *)fixed.p, fixed.len);
	wk_wbuf_free(&fixed);
}

size_t
wk_jw_itoa(char t[WK_JW_INT_MAX], long long v)
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
wk_jw_int(struct wk_jw *w, long long v)
{
	value_begin(w);
	w->b.len += wk_jw_itoa((char *)reserve(&w->b, WK_JW_INT_MAX), v);
}

void
wk_jw_b64(struct wk_jw *w, const void *p, size_t n)
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
wk_jw_null(struct wk_jw *w)
{
	wk_jw_raw(w, "null", 4);
}

void
wk_jw_raw(struct wk_jw *w, const char *text, size_t n)
{
	value_begin(w);
	put_mem(&w->b, text, n);
}

/* As jansson's utf8 check: no overlong forms, no surrogates, <= U+10FFFF. */
int
wk_jw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	uint64_t eight;
	size_t len;

	while (p < end) {
		/* ASCII eight bytes at a time (ids and client_msg_nos mostly are). */
		if ((size_t)(end - p) >= 8) {
			memcpy(&eight, p, 8);
			if ((eight & 0x8080808080808080ULL) == 0) {
				p += 8;
				continue;
			}
		}
		if ((len = utf8_seq(p, (size_t)(end - p))) == 0)
			return 0;
		p += len;
	}
	return 1;
}

/* ---- wk_jw_is_json: a syntax check, one pass, no tree ---- */

struct scan {
	const unsigned char *p, *end;
	int depth;
};

static void
skip_ws(struct scan *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* A literal word (true, false, null). */
static int
scan_word(struct scan *c, const char *w, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

static int
is_digit(const struct scan *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (!is_digit(c))
		return 0;
	if (*c->p++ != '0')
		while (is_digit(c))
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!is_digit(c))
			return 0;
		while (is_digit(c))
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!is_digit(c))
			return 0;
		while (is_digit(c))
			c->p++;
	}
	return 1;
}

static int
hex4(const unsigned char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'a' && p[i] <= 'f' ?
		    p[i] - 'a' + 10 : p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* A string at the opening quote: escapes checked (a \u surrogate must be
 * a pair, as jansson requires), other bytes UTF-8 and no control. */
static int
scan_string(struct scan *c)
{
	size_t k;

	c->p++;
	while (c->p < c->end) {
		unsigned char ch = *c->p;
		if (ch == '"') {
			c->p++;
			return 1;
		}
		if (ch < 0x20)
			return 0;
		if (ch != '\\') {
			if ((k = utf8_seq(c->p, (size_t)(c->end - c->p))) == 0)
				return 0;
			c->p += k;
			continue;
		}
		if (c->end - c->p < 2)
			return 0;
		ch = c->p[1];
		c->p += 2;
		if (ch == 'u') {
			int u;
			if (c->end - c->p < 4 || (u = hex4(c->p)) < 0)
				return 0;
			c->p += 4;
			if (u >= 0xdc00 && u <= 0xdfff)
				return 0;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
				    (u = hex4(c->p + 2)) < 0xdc00 || u > 0xdfff)
					return 0;
				c->p += 6;
			}
		} else if (!strchr("\"\\/bfnrt", ch) || ch == '\0')
			return 0;
	}
	return 0;
}

static int scan_value(struct scan *c);

/* An object or array at its opening bracket. */
static int
scan_container(struct scan *c, int object)
{
	unsigned char close = object ? '}' : ']';

	if (++c->depth > WK_JW_DEPTH)
		return 0;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return 1;
	}
	for (;;) {
		if (object) {
			if (c->p >= c->end || *c->p != '"' || !scan_string(c))
				return 0;
			skip_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return 0;
		}
		if (!scan_value(c))
			return 0;
		if (c->p >= c->end)
			return 0;
		if (*c->p == close) {
			c->p++;
			c->depth--;
			return 1;
		}
		if (*c->p++ != ',')
			return 0;
		skip_ws(c);
	}
}

/* One value with the white space around it. */
static int
scan_value(struct scan *c)
{
	int ok;

	skip_ws(c);
	if (c->p >= c->end)
		return 0;
	switch (*c->p) {
	case '{': ok = scan_container(c, 1); break;
	case '[': ok = scan_container(c, 0); break;
	case '"': ok = scan_string(c); break;
	case 't': ok = scan_word(c, "true", 4); break;
	case 'f': ok = scan_word(c, "false", 5); break;
	case 'n': ok = scan_word(c, "null", 4); break;
	default: ok = scan_number(c);
	}
	skip_ws(c);
	return ok;
}

int
wk_jw_is_json(const char *s, size_t n)
{
	struct scan c = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	return scan_value(&c) && c.p == c.end;
}

/* The end of a value scanned with the white space after it. */
static const unsigned char *
trim_end(const unsigned char *start, const unsigned char *p)
{
	while (p > start && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
		p--;
	return p;
}

int
wk_jw_member(const char *s, size_t n, const char *key, const char **v, size_t *vn)
{
	struct scan c = { (const unsigned char *)s, (const unsigned char *)s + n, 1 };
	size_t klen = strlen(key);
	int found = 0;

	if (!wk_jw_is_json(s, n))
		return -1;
	/* Valid: every scan below succeeds. */
	skip_ws(&c);
	if (*c.p != '{')
		return 0;
	c.p++;
	skip_ws(&c);
	while (*c.p != '}') {
		const unsigned char *k = c.p + 1, *vs;
		scan_string(&c);
		if (memchr(k, '\\', (size_t)(c.p - 1 - k)) != NULL)
			return -2;           /* an escaped name: jansson's to compare */
		int match = (size_t)(c.p - 1 - k) == klen && memcmp(k, key, klen) == 0;
		skip_ws(&c);
		c.p++;                       /* ':' */
		skip_ws(&c);
		vs = c.p;
		scan_value(&c);
		if (match) {                 /* the last one wins, as in jansson */
			found = 1;
			*v = (const char *)vs;
			*vn = (size_t)(trim_end(vs, c.p) - vs);
		}
		if (*c.p == ',') {
			c.p++;
			skip_ws(&c);
		}
	}
	return found;
}
