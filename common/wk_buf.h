/* wk_buf.h - building and reading internal message payloads: big-endian
 * integers and u16-length strings in one frame.  The reader never reads past
 * the end: a short or malformed payload sets `err`, and every later get
 * returns zero/empty, so a handler checks once at the end. */
#ifndef WK_BUF_H
#define WK_BUF_H
#include <stddef.h>
#include <stdint.h>

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
/* 0 if everything was read and nothing is left over, else -1. */
int wk_rbuf_done(const struct wk_rbuf *r);

#endif
