/* wk_buf.h - building and reading internal message payloads: big-endian
 * integers and u16-length strings in one frame.  The reader never reads past
 * the end: a short or malformed payload sets `err`, and every later get
 * returns zero/empty, so a handler checks once at the end. */
#ifndef WK_BUF_H
#define WK_BUF_H
#include <stddef.h>
#include <stdint.h>

/* Big-endian integers at a pointer (keys, fixed headers). */
static inline void
wk_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wk_be32_put(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline void
wk_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint16_t wk_be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint32_t
wk_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
wk_be64_get(const uint8_t *p)
{
	return (uint64_t)wk_be32_get(p) << 32 | wk_be32_get(p + 4);
}

struct wk_wbuf {
	uint8_t *p;
	size_t len, cap;
};

void wk_wbuf_init(struct wk_wbuf *b);
void wk_wbuf_free(struct wk_wbuf *b);
void wk_put_u8(struct wk_wbuf *b, uint8_t v);
void wk_put_u16(struct wk_wbuf *b, uint16_t v);
void wk_put_u32(struct wk_wbuf *b, uint32_t v);
void wk_put_u64(struct wk_wbuf *b, uint64_t v);
void wk_put_mem(struct wk_wbuf *b, const void *p, size_t n);
/* u16 length then the bytes (strings longer than 65535 are cut). */
void wk_put_strn(struct wk_wbuf *b, const char *s, size_t n);
void wk_put_str(struct wk_wbuf *b, const char *s);
/* u32 length then the bytes. */
void wk_put_blob(struct wk_wbuf *b, const void *p, size_t n);

struct wk_rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

void wk_rbuf_init(struct wk_rbuf *r, const void *p, size_t len);
uint8_t wk_get_u8(struct wk_rbuf *r);
uint16_t wk_get_u16(struct wk_rbuf *r);
uint32_t wk_get_u32(struct wk_rbuf *r);
uint64_t wk_get_u64(struct wk_rbuf *r);
/* Copy a string into out (NUL-terminated); err if it does not fit. */
void wk_get_str(struct wk_rbuf *r, char *out, size_t cap);
/* A view of a string or blob (not terminated). */
const char *wk_get_strv(struct wk_rbuf *r, size_t *n);
const void *wk_get_blob(struct wk_rbuf *r, size_t *n);
/* A list of strings (u32 n, then n strings): copies, NUL-terminated, in a
 * NULL-terminated array that wk_strs_free frees; *n its length.  A
 * malformed list sets err and gives an empty array. */
char **wk_get_strs(struct wk_rbuf *r, uint32_t *n);
void wk_strs_free(char ***v);
/* 0 if everything was read and nothing is left over, else -1. */
int wk_rbuf_done(const struct wk_rbuf *r);

#endif
