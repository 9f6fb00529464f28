/* wk_buf.c - internal payload writer and bounds-checked reader. */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_buf.h"

/* The writer: big-endian integers, strings with a u16 length, blobs with a
 * u32 length. It grows as needed (allocation never fails: wk_alloc). */
void wk_wbuf_init(struct wk_wbuf *b) { b->p = NULL; b->len = b->cap = 0; }
void wk_wbuf_free(struct wk_wbuf *b) { wk_free(&b->p); b->len = b->cap = 0; }

/* Make room for n more bytes; the returned pointer is where they go. */
static inline uint8_t *
grow(struct wk_wbuf *b, size_t n)
{
	if (b->len + n > b->cap)
		wk_grow(&b->p, &b->cap, b->len + n);
	b->len += n;
	return b->p + b->len - n;
}

/* Fixed widths, each its own function: a loop over n bytes was a call
 * and a loop per integer on the hot decoders (conversation sync). */
void wk_put_u8(struct wk_wbuf *b, uint8_t v) { *grow(b, 1) = v; }
void wk_put_u16(struct wk_wbuf *b, uint16_t v) { wk_be16_put(grow(b, 2), v); }
void wk_put_u32(struct wk_wbuf *b, uint32_t v) { wk_be32_put(grow(b, 4), v); }
void wk_put_u64(struct wk_wbuf *b, uint64_t v) { wk_be64_put(grow(b, 8), v); }

void
wk_put_mem(struct wk_wbuf *b, const void *p, size_t n)
{
	if (n)
		memcpy(grow(b, n), p, n);
}

/* A string: u16 length, then the bytes, no NUL; cut at 65535 bytes, what
 * the length can say. */
void
wk_put_strn(struct wk_wbuf *b, const char *s, size_t n)
{
	if (n > 0xffff)
		n = 0xffff;
	wk_put_u16(b, (uint16_t)n);
	wk_put_mem(b, s, n);
}

void wk_put_str(struct wk_wbuf *b, const char *s) { wk_put_strn(b, s, s ? strlen(s) : 0); }

/* A blob: u32 length, then the bytes. */
void
wk_put_blob(struct wk_wbuf *b, const void *p, size_t n)
{
	wk_put_u32(b, (uint32_t)n);
	wk_put_mem(b, p, n);
}

/* The reader: every get checks the bounds. A get past the end sets err and
 * returns zero or an empty string, so a decoder reads all its fields and
 * checks once, with wk_rbuf_done, that nothing was short and nothing left. */
void
wk_rbuf_init(struct wk_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* n bytes at the cursor, or NULL (and err) if there are fewer. */
static inline const uint8_t *
take(struct wk_rbuf *r, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return NULL;
	}
	r->off += n;
	return r->p + r->off - n;
}

/* Big-endian integers; 0 if they are not there. */
uint8_t
wk_get_u8(struct wk_rbuf *r)
{
	const uint8_t *p = take(r, 1);
	return p ? *p : 0;
}

uint16_t
wk_get_u16(struct wk_rbuf *r)
{
	const uint8_t *p = take(r, 2);
	return p ? wk_be16_get(p) : 0;
}

uint32_t
wk_get_u32(struct wk_rbuf *r)
{
	const uint8_t *p = take(r, 4);
	return p ? wk_be32_get(p) : 0;
}

uint64_t
wk_get_u64(struct wk_rbuf *r)
{
	const uint8_t *p = take(r, 8);
	return p ? wk_be64_get(p) : 0;
}

/* A string in place (not NUL-terminated): its bytes and *n; "" if short. */
const char *
wk_get_strv(struct wk_rbuf *r, size_t *n)
{
	size_t len = wk_get_u16(r);
	const uint8_t *p = take(r, len);

	*n = p ? len : 0;
	return p ? (const char *)p : "";
}

/* A string copied into out (cap bytes with the NUL); one that does not fit
 * is a decoding error (err), never silently cut. */
void
wk_get_str(struct wk_rbuf *r, char *out, size_t cap)
{
	size_t n;
	const char *s = wk_get_strv(r, &n);

	if (n >= cap) {
		r->err = 1;
		n = 0;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* A blob in place: its bytes and *n; NULL if short. */
const void *
wk_get_blob(struct wk_rbuf *r, size_t *n)
{
	size_t len = wk_get_u32(r);
	const uint8_t *p = take(r, len);

	*n = p ? len : 0;
	return p;
}

/* 0 when everything was read and nothing was short: a decoder's last
 * check. */
int wk_rbuf_done(const struct wk_rbuf *r) { return r->err || r->off != r->len ? -1 : 0; }

/* A u32 count, then that many strings: a NULL-terminated array (free with
 * wk_strs_free), *n = 0 and err if the payload is malformed. */
char **
wk_get_strs(struct wk_rbuf *r, uint32_t *n)
{
	uint32_t count = wk_get_u32(r), i;
	char **v;
	const char *s;
	size_t len;

	/* Each string takes at least its 2-byte length: a count the payload
	 * cannot hold is malformed, and allocates nothing. */
	if (r->err || count > (r->len - r->off) / 2) {
		r->err = 1;
		count = 0;
	}
	v = wk_calloc((size_t)count + 1, sizeof *v);
	for (i = 0; i < count && !r->err; i++) {
		s = wk_get_strv(r, &len);
		v[i] = wk_strndup(s, len);
	}
	*n = r->err ? 0 : count;
	return v;
}

/* Free an array from wk_get_strs and set *v to NULL. */
void
wk_strs_free(char ***v)
{
	if (*v == NULL)
		return;
	for (char **s = *v; *s; s++)
		free(*s);
	wk_free(v);
}
