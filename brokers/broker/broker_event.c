/* broker_event.c - stream events on wk-broker (wk-broker(8)).
 *
 * BROKER_EVENT from the channel shard that owns a stream carries events
 * (wk_chevent.h), each followed by the connections it is for (frame
 * pairs, at most 128).  Each connection gets an event in
 * the form its protocol version knows (wkproto(7)):
 *   version 5     an EVENT packet: id, type, timestamp, the JSON data;
 *   versions 2-4  a stream RECV of the anchor message: the connection's
 *                 stream form, streamSeq/streamId increasing, flag in
 *                 progress or end, the piece's text as its payload,
 *                 encrypted like any RECV and never re-sent;
 *   version 1     nothing (it has no stream fields).
 * An EVENT is never sent below version 5: the npm SDK (version 2) cannot
 * decode one and reconnects.  The shard sends every event of a stream over
 * the one socket to each broker, so a connection sees them in order. */
#include <string.h>
#include "broker.h"
#include "wk_chevent.h"
#include "wk_chmsg.h"
#include "wk_log.h"

static void
send_event(struct broker_conn *c, const struct wk_chevent *e)
{
	struct wkproto_packet pkt = { .type = WKPROTO_EVENT };

	pkt.event.id = e->event_id;
	pkt.event.type = e->event_type;
	pkt.event.timestamp = e->occurred_at;
	pkt.event.data = e->data;
	if (broker_conn_send(c, &pkt) == 0)
		broker.st.events++;
}

static void
send_piece(struct broker_conn *c, const struct wk_chevent *e)
{
	struct broker_piece piece = { e->stream_seq, e->stream_flag };

	broker_recv_one(c, &e->msg, &piece);
	broker.st.pieces++;
}

void
broker_on_event(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *ef, *tf;
	struct wk_chevent e;
	struct wk_rbuf r, t;

	if (zmsg_size(msg) % 2 != 0)
		wk_fatalx("BROKER_EVENT from channel/%u: odd frames", h->sender_instance);
	for (ef = zmsg_first(msg); ef; ef = zmsg_next(msg)) {
		tf = zmsg_next(msg);
		wk_rbuf_init(&r, zframe_data(ef), zframe_size(ef));
		if (wk_chevent_get(&r, &e) < 0 || wk_rbuf_done(&r) < 0 || zframe_size(tf) % 8 != 0)
			wk_fatalx("BROKER_EVENT from channel/%u: malformed payload", h->sender_instance);
		wk_rbuf_init(&t, zframe_data(tf), zframe_size(tf));
		while (t.off < t.len) {
			struct broker_conn *c = broker_conn_find(wk_get_u64(&t));
			if (c == NULL || c->state != BROKER_CS_READY)
				continue;
			if (c->proto_version >= 5)
				send_event(c, &e);
			else if (wkproto_stream_bit(c->proto_version))
				send_piece(c, &e);
		}
	}
}
