/* channel_import.c - CHANNEL_MSG_IMPORT (wk-channel(8)): a channel's history
 * copied from another server by wkctl import (wkctl(8)), through wk-api's
 * POST /message/import.  Each message is stored at its own seq with its own
 * id and timestamp, so that a client sees exactly what it saw before; a
 * message already there with the same id is skipped (running the import
 * twice changes nothing), and a seq held by another message refuses the
 * whole batch (409) before anything of it is written.  Nothing is
 * delivered, no webhook is raised and msg.before_send is not asked:
 * history is not news.  The payload row is in wk_msgtypes.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_chmsg.h"

/* A batch's messages, decoded (views into the request). */
struct batch {
	char id[CHANNEL_ID_MAX + 1];
	uint8_t type;
	uint32_t n;
	struct wk_chmsg *m;
};

static struct channel_msg
to_store(const struct wk_chmsg *m)
{
	struct channel_msg cm = {
		.message_id = m->message_id, .seq = m->seq, .timestamp = m->timestamp,
		.flags = m->flags, .setting = m->setting, .expire = m->expire,
		.from_uid = m->from_uid.p, .from_uid_len = m->from_uid.len,
		.client_msg_no = m->client_msg_no.p, .client_msg_no_len = m->client_msg_no.len,
		.topic = m->topic.p, .topic_len = m->topic.len,
		.stream_no = m->stream_no.p, .stream_no_len = m->stream_no.len,
		.payload = m->payload.p, .payload_len = m->payload.len,
	};
	return cm;
}

/* The first seq of the batch held by another message, or 0. */
static uint32_t
conflict(struct wk_proc *p, const struct batch *b)
{
	struct channel_info ci;
	struct channel_msg old;
	struct wk_wbuf buf;
	uint32_t bad = 0;
	int rc;

	if (channel_get(p, b->id, b->type, &ci) < 0)
		return UINT32_MAX;
	wk_wbuf_init(&buf);
	for (uint32_t i = 0; i < b->n && !bad && b->m[i].seq <= ci.last_seq; i++) {
		rc = channel_msg_get(p, b->id, b->type, b->m[i].seq, &old, &buf);
		if (rc != 1 || old.message_id != b->m[i].message_id)
			bad = b->m[i].seq;
	}
	wk_wbuf_free(&buf);
	return bad;
}

int
channel_op_msg_import(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct batch b = { 0 };
	uint32_t stored = 0, there = 0, bad;
	char msg[96];
	int rc = 0;

	channel_get_key(rb, b.id, &b.type);
	b.n = wk_get_u32(rb);
	if (b.n > rb->len - rb->off) {   /* every message takes bytes: no huge allocation */
		rb->err = 1;
		b.n = 0;
	}
	b.m = wk_calloc(b.n ? b.n : 1, sizeof *b.m);
	for (uint32_t i = 0; i < b.n && !rb->err; i++)
		if (wk_chmsg_get(rb, &b.m[i]) < 0 || b.m[i].seq == 0 ||
		    (i > 0 && b.m[i].seq <= b.m[i - 1].seq))
			rb->err = 1;
	if (channel_op_decoded(p, rb, a) < 0) {
		free(b.m);
		return -1;
	}
	if ((bad = conflict(p, &b)) == UINT32_MAX)
		channel_answer_storage_error(p, a);
	else if (bad) {
		snprintf(msg, sizeof msg, "message_seq %u holds another message", bad);
		wk_answer_error(a, 409, msg);
	} else {
		for (uint32_t i = 0; i < b.n && rc >= 0; i++) {
			struct channel_msg cm = to_store(&b.m[i]);
			if ((rc = channel_msg_put_at(p, b.id, b.type, &cm)) == 1)
				stored++;
			else if (rc == 0)
				there++;
		}
		if (rc < 0)
			channel_answer_storage_error(p, a);
		else {
			wk_put_u32(&a->body, stored);
			wk_put_u32(&a->body, there);
		}
	}
	free(b.m);
	return 0;
}
