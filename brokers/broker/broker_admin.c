/* broker_admin.c - the operator's view of a broker's connections
 * (wk-broker(8)): BROKER_CONN_LIST and BROKER_CONN_CLOSE from wk-api
 * (/connz, /varz?show=conn, /conn/kick, /conn/remove), each answered by one
 * API_ANSWER.  Payloads: wk_msgtypes.h; a row: wk_connrow.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "broker.h"
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_connrow.h"
#include "wk_time.h"

#define KICK_DELAY_MS 2000
#define UID_ARG_MAX 1025     /* wk-api passes uids of up to 1024 bytes (API_CHANNEL_ID_MAX) */   /* /conn/kick: the reference closes 2 s after its DISCONNECT */

/* c as a row (the strings only when `full`); the peer is the client's
 * address as accepted, or as its PROXY header gave it. */
static void
conn_row(const struct broker_conn *c, struct wk_connrow *row, int full)
{
	uint64_t now = wk_now_ms(), wall = (uint64_t)wk_wall_ms();

	row->id = c->id;
	row->connected_ms = wall - (now - c->accepted_ms);
	row->last_ms = wall - (now - c->last_in_ms);
	row->pending = (uint32_t)c->outlen;
	memcpy(row->n, &c->cs, sizeof row->n);
	row->version = c->proto_version;
	if (!full)
		return;
	const struct sockaddr_storage *ss = &c->peer;
	row->ip[0] = '\0';
	row->port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, row->ip, sizeof row->ip);
		row->port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, row->ip, sizeof row->ip);
		row->port = ntohs(a->sin6_port);
	}
	snprintf(row->uid, sizeof row->uid, "%s", c->uid);
	snprintf(row->device_id, sizeof row->device_id, "%s", c->device_id);
	row->device_flag = c->device_flag;
	row->device_level = c->device_level;
}

_Static_assert(sizeof(struct broker_conn_stats) == WK_CONN_NCOUNTERS * sizeof(uint64_t),
    "broker_conn_stats is a row's counters, in their order");

struct entry {
	uint64_t key, id;
	struct broker_conn *c;
};

static int sort_desc;

static int
entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int rc = a->key < b->key ? -1 : a->key > b->key;

	if (rc == 0)
		rc = a->id < b->id ? -1 : a->id > b->id;
	return sort_desc ? -rc : rc;
}

/* BROKER_CONN_LIST: the authenticated connections whose uid contains the
 * filter, sorted, the first max of them. */
static int
op_conn_list(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char filter[UID_ARG_MAX];
	struct entry *v;
	uint32_t max, n = 0;
	uint8_t sort, desc;

	wk_get_str(req, filter, sizeof filter);
	sort = wk_get_u8(req);
	desc = wk_get_u8(req);
	max = wk_get_u32(req);
	if (wk_rbuf_done(req) < 0 || sort >= WK_CONN_SORT_COUNT)
		return -1;
	v = wk_calloc(broker.nconns + 1, sizeof *v);
	for (int fd = 0; fd < broker.nconns_cap; fd++) {
		struct broker_conn *c = broker.conns[fd];
		struct wk_connrow row;
		if (c == NULL || c->state != BROKER_CS_READY || (filter[0] && !strstr(c->uid, filter)))
			continue;
		conn_row(c, &row, 0);
		v[n++] = (struct entry){ wk_connrow_key(&row, sort), c->id, c };
	}
	sort_desc = desc;
	qsort(v, n, sizeof *v, entry_cmp);
	wk_put_u32(&a->body, (uint32_t)broker.nconns);
	wk_put_u32(&a->body, n);
	if (max > n)
		max = n;
	wk_put_u32(&a->body, max);
	for (uint32_t i = 0; i < max; i++) {
		struct wk_connrow row;
		conn_row(v[i].c, &row, 1);
		wk_connrow_put(&a->body, &row);
	}
	free(v);
	return 0;
}

/* BROKER_CONN_CLOSE: kick (DISCONNECT, then close) or remove (close now)
 * one connection, if it is ours and its uid matches. */
static int
op_conn_close(struct wk_proc *p, struct wk_rbuf *req, struct wk_answer *a)
{
	char uid[UID_ARG_MAX];
	struct broker_conn *c;
	uint64_t id;
	uint8_t kick;

	id = wk_get_u64(req);
	wk_get_str(req, uid, sizeof uid);
	kick = wk_get_u8(req);
	if (wk_rbuf_done(req) < 0)
		return -1;
	c = broker_conn_find(id);
	if (c && uid[0] && strcmp(uid, c->uid) != 0)
		c = NULL;
	wk_put_u8(&a->body, c != NULL);
	if (c && kick)
		broker_conn_kick(c, WKPROTO_REASON_CONNECT_KICK, "server kick", 1, KICK_DELAY_MS);
	else if (c)
		broker_conn_close(c, "removed by /conn/remove");
	return 0;
}

static const struct wk_op ops[] = {
	{ WK_MSG_BROKER_CONN_LIST, op_conn_list },
	{ WK_MSG_BROKER_CONN_CLOSE, op_conn_close },
};

void
broker_on_admin(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	int rc;
	struct wk_answer *a = wk_answer_op(p, ops, sizeof ops / sizeof ops[0], h, msg, &rc);

	if (rc < 0)
		wk_answer_bad(p, a, "malformed payload");
	else
		wk_answer_send(p, 0, a);
}
