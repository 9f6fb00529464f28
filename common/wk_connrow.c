/* wk_connrow.c - a connection row of BROKER_CONN_LIST (wk_connrow.h). */
#include "wk_connrow.h"
#include "wk_msgtypes.h"

void
wk_connrow_put(struct wk_wbuf *b, const struct wk_connrow *c)
{
	wk_put_u64(b, c->id);
	wk_put_str(b, c->uid);
	wk_put_str(b, c->ip);
	wk_put_u16(b, c->port);
	wk_put_u64(b, c->connected_ms);
	wk_put_u64(b, c->last_ms);
	wk_put_u32(b, c->pending);
	for (int i = 0; i < WK_CONN_NCOUNTERS; i++)
		wk_put_u64(b, c->n[i]);
	wk_put_u8(b, c->device_flag);
	wk_put_u8(b, c->device_level);
	wk_put_str(b, c->device_id);
	wk_put_u8(b, c->version);
}

void
wk_connrow_get(struct wk_rbuf *rb, struct wk_connrow *c)
{
	c->id = wk_get_u64(rb);
	wk_get_str(rb, c->uid, sizeof c->uid);
	wk_get_str(rb, c->ip, sizeof c->ip);
	c->port = wk_get_u16(rb);
	c->connected_ms = wk_get_u64(rb);
	c->last_ms = wk_get_u64(rb);
	c->pending = wk_get_u32(rb);
	for (int i = 0; i < WK_CONN_NCOUNTERS; i++)
		c->n[i] = wk_get_u64(rb);
	c->device_flag = wk_get_u8(rb);
	c->device_level = wk_get_u8(rb);
	wk_get_str(rb, c->device_id, sizeof c->device_id);
	c->version = wk_get_u8(rb);
}

uint64_t
wk_connrow_key(const struct wk_connrow *c, int sort)
{
	switch (sort) {
	case WK_CONN_SORT_IN_MSG: return c->n[WK_CONN_IN_MSGS];
	case WK_CONN_SORT_OUT_MSG: return c->n[WK_CONN_OUT_MSGS];
	case WK_CONN_SORT_IN_MSG_BYTES: return c->n[WK_CONN_IN_MSG_BYTES];
	case WK_CONN_SORT_OUT_MSG_BYTES: return c->n[WK_CONN_OUT_MSG_BYTES];
	case WK_CONN_SORT_PENDING_BYTES: return c->pending;
	case WK_CONN_SORT_UPTIME: return c->connected_ms;
	case WK_CONN_SORT_IDLE: return c->last_ms;
	case WK_CONN_SORT_IN_PACKET: return c->n[WK_CONN_IN_PACKETS];
	case WK_CONN_SORT_OUT_PACKET: return c->n[WK_CONN_OUT_PACKETS];
	case WK_CONN_SORT_IN_PACKET_BYTES: return c->n[WK_CONN_IN_PACKET_BYTES];
	case WK_CONN_SORT_OUT_PACKET_BYTES: return c->n[WK_CONN_OUT_PACKET_BYTES];
	case WK_CONN_SORT_PROTO_VERSION: return c->version;
	default: return c->id;
	}
}

int
wk_connrow_cmp(const struct wk_connrow *a, const struct wk_connrow *b, int sort, int desc)
{
	uint64_t ka = wk_connrow_key(a, sort), kb = wk_connrow_key(b, sort);
	int rc = ka < kb ? -1 : ka > kb;

	if (rc == 0)
		rc = a->id < b->id ? -1 : a->id > b->id;
	return desc ? -rc : rc;
}
