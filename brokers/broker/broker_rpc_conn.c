/* broker_rpc_conn.c - a WebSocket connection of wk-broker that speaks
 * JSON-RPC (WuKongEasySDK; wk-broker(8)): chosen when its first message is
 * a text frame.  Each text message is decoded (broker_rpc.c) into the
 * packet a binary client would have sent and handled the same way; what
 * goes back is encoded as JSON-RPC text, the answers naming the request
 * they answer: the connect id for CONNACK, the send's id for its SENDACK
 * (found by the client_seq the broker gives each send), the ping's for
 * PONG.  No encryption: the reference has none on JSON-RPC connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "broker.h"
#include "broker_rpc.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_time.h"

#define PENDING_MAX 1024   /* sends awaiting their SENDACK, per connection */

struct pending {
	uint32_t client_seq;
	char id[BROKER_RPC_ID_MAX];
};

struct broker_rpc_conn {
	char connect_id[BROKER_RPC_ID_MAX];
	uint32_t next_seq;
	struct pending *pending;
	size_t npending, cap;
};

static struct wk_ratelimit rl_rpc = WK_RATELIMIT_INIT(10);

/* Queue a text for c as one text message (*len is read after the text
 * was made: send_text(c, encode(..., &len), &len)). */
static int
send_text(struct broker_conn *c, char *text, const size_t *len)
{
	int rc = text ? broker_conn_send_bytes(c, (const uint8_t *)text, *len) : -1;

	free(text);
	return rc;
}

/* An error response to request id, and the connection stays. */
static void
answer_error(struct broker_conn *c, const char *id, int code, const char *why)
{
	size_t len = 0;

	send_text(c, broker_rpc_error(id, code, why, &len), &len);
}

/* An error response, then a Close with ws_code. */
static void
refuse(struct broker_conn *c, const char *id, int code, const char *why, uint16_t ws_code)
{
	wk_log_limited(&rl_rpc, WK_LOG_INFO, "%s conn %llx from %s: JSON-RPC: %s; closing",
	    c->uid[0] ? c->uid : "-", (unsigned long long)c->id, c->addr, why);
	broker.st.proto_errors++;
	answer_error(c, id, code, why);
	broker_conn_refuse(c, ws_code, "bad JSON-RPC");
}

/* Remember which request a send is: its SENDACK answers that id. */
static int
pending_add(struct broker_rpc_conn *r, uint32_t client_seq, const char *id)
{
	if (r->npending == PENDING_MAX)
		return -1;
	if (r->npending == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->pending = wk_realloc(r->pending, r->cap * sizeof *r->pending);
	}
	r->pending[r->npending].client_seq = client_seq;
	snprintf(r->pending[r->npending++].id, BROKER_RPC_ID_MAX, "%s", id);
	return 0;
}

/* The id of the send client_seq, forgotten as it is answered ("" if unknown). */
static void
pending_take(struct broker_rpc_conn *r, uint32_t client_seq, char *id)
{
	id[0] = '\0';
	for (size_t i = 0; i < r->npending; i++)
		if (r->pending[i].client_seq == client_seq) {
			memcpy(id, r->pending[i].id, BROKER_RPC_ID_MAX);
			r->pending[i] = r->pending[--r->npending];
			return;
		}
}

/* A send: the client_seq and, when the client gave none, a client_msg_no
 * unique to the connection (de-duplication keys on it). */
static void
on_send(struct broker_conn *c, struct wkproto_packet *pkt, const char *id)
{
	struct broker_rpc_conn *r = c->rpc;
	char msgno[40];

	pkt->send.client_seq = ++r->next_seq;
	if (pkt->send.client_msg_no.len == 0) {
		snprintf(msgno, sizeof msgno, "%016llx%08x", (unsigned long long)c->id, r->next_seq);
		pkt->send.client_msg_no = wk_str_of(msgno);
	}
	if (pending_add(r, pkt->send.client_seq, id) < 0) {
		answer_error(c, id, BROKER_RPC_SERVER_ERROR, "too many sends awaiting their answer");
		return;
	}
	broker_conn_packet(c, pkt);
}

void
broker_rpc_input(struct broker_conn *c, const uint8_t *p, size_t n)
{
	struct wkproto_packet pkt, pong = { .type = WKPROTO_PONG };
	struct broker_rpc_in in;
	size_t len = 0;

	if (c->rpc == NULL)
		c->rpc = wk_calloc(1, sizeof *c->rpc);
	c->last_in_ms = wk_now_ms();
	broker.st.packets_in++;
	if (broker_rpc_decode((const char *)p, n, (size_t)broker.proc->cfg.limits_maxPacketSize,
	    &pkt, &in) < 0)
		refuse(c, in.id, in.error, in.why, WSLAY_CODE_PROTOCOL_ERROR);
	else if (c->state == BROKER_CS_CONNECT && pkt.type != WKPROTO_CONNECT)
		refuse(c, in.id, BROKER_RPC_INVALID_REQUEST, "connect first", WSLAY_CODE_POLICY_VIOLATION);
	else if (c->state == BROKER_CS_CONNECT) {
		memcpy(c->rpc->connect_id, in.id, sizeof in.id);
		broker_conn_packet(c, &pkt);
	} else if (c->state != BROKER_CS_READY || pkt.type == WKPROTO_CONNECT)
		refuse(c, in.id, BROKER_RPC_INVALID_REQUEST, c->state == BROKER_CS_AUTH ?
		    "wait for the connect answer" : "already connected", WSLAY_CODE_POLICY_VIOLATION);
	else if (pkt.type == WKPROTO_PING)
		send_text(c, broker_rpc_encode(&pong, in.id, &len), &len);
	else if (pkt.type == WKPROTO_SEND)
		on_send(c, &pkt, in.id);
	else
		broker_conn_packet(c, &pkt);
	broker_rpc_in_free(&in);
}

int
broker_rpc_send(struct broker_conn *c, const struct wkproto_packet *pkt)
{
	char id[BROKER_RPC_ID_MAX] = "";
	size_t len = 0;

	if (c->rpc && pkt->type == WKPROTO_CONNACK)
		memcpy(id, c->rpc->connect_id, sizeof id);
	else if (c->rpc && pkt->type == WKPROTO_SENDACK)
		pending_take(c->rpc, pkt->sendack.client_seq, id);
	return send_text(c, broker_rpc_encode(pkt, id, &len), &len);
}

void
broker_rpc_free(struct broker_conn *c)
{
	if (c->rpc)
		free(c->rpc->pending);
	free(c->rpc);
	c->rpc = NULL;
}
