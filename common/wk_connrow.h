/* wk_connrow.h - one client connection as the operator sees it: a row of
 * BROKER_CONN_LIST's answer (wk_msgtypes.h), written by wk-broker and read
 * by wk-api for /connz and /varz?show=conn, and the sort order both use
 * (a broker sorts its own, wk-api merges the brokers' answers). */
#ifndef WK_CONNROW_H
#define WK_CONNROW_H
#include <stdint.h>
#include "wk_buf.h"

enum wk_connrow_counter {
	WK_CONN_IN_MSGS, WK_CONN_OUT_MSGS, WK_CONN_IN_MSG_BYTES, WK_CONN_OUT_MSG_BYTES,
	WK_CONN_IN_PACKETS, WK_CONN_OUT_PACKETS, WK_CONN_IN_PACKET_BYTES, WK_CONN_OUT_PACKET_BYTES,
	WK_CONN_NCOUNTERS
};

struct wk_connrow {
	uint64_t id;
	char uid[65];
	char ip[64];
	uint16_t port;
	uint64_t connected_ms, last_ms;   /* wall clock */
	uint32_t pending;                  /* output bytes not yet written */
	uint64_t n[WK_CONN_NCOUNTERS];
	uint8_t device_flag, device_level;
	char device_id[129];
	uint8_t version;
};

void wk_connrow_put(struct wk_wbuf *b, const struct wk_connrow *c);
/* Sets rb->err when the row does not decode. */
void wk_connrow_get(struct wk_rbuf *rb, struct wk_connrow *c);
/* The value sort (WK_CONN_SORT_*) orders by. */
uint64_t wk_connrow_key(const struct wk_connrow *c, int sort);
/* qsort order of a and b: by key, descending if desc, ties by id. */
int wk_connrow_cmp(const struct wk_connrow *a, const struct wk_connrow *b, int sort, int desc);

#endif
