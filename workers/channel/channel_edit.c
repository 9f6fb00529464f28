/* channel_edit.c - revoke and edit a stored message (wk-channel(8)): the
 * op rows CHANNEL_MSG_REVOKE and CHANNEL_MSG_EDIT (POST /message/revoke,
 * /message/edit; payloads in wk_msgtypes.h), and CHANNEL_RETENTION (POST
 * /channel/retention), which sets a channel's retention.
 *
 * Both rewrite the message's record in messages.db as a version 2 record
 * (channel_msgrec.c) carrying the channel's next edit version
 * (extra_version, counted in the channel's record).  A revoke empties the
 * payload, an edit replaces it; both first overwrite the old record with
 * zeros of its length (channel_msg_replace's scrub), so the page keeps
 * none of the old content.  A revoked message is not edited again (400),
 * and a second revoke changes nothing.  Telling the members is wk-api's
 * next step: a cmd message it sends through CHANNEL_MSG_SEND.
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_answer.h"
#include "wk_buf.h"
#include "wk_time.h"

/* u64 message_id, u32 seq, u32 extra_version, str client_msg_no, str
 * from_uid: the answer of both rows. */
static void
answer(struct wk_answer *a, const struct channel_msg *m)
{
	wk_put_u64(&a->body, (uint64_t)m->message_id);
	wk_put_u32(&a->body, m->seq);
	wk_put_u32(&a->body, m->extra_version);
	wk_put_strn(&a->body, m->client_msg_no, m->client_msg_no_len);
	wk_put_strn(&a->body, m->from_uid, m->from_uid_len);
}

/* Both rows: decode, find, rewrite, answer. */
static int
change(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a, int revoke)
{
	char id[CHANNEL_ID_MAX + 1], *cmn;
	const char *s, *who, *payload = NULL;
	size_t n, who_len, payload_len = 0;
	struct channel_msg m;
	struct wk_wbuf buf;
	int64_t mid;
	uint32_t seq = 0;
	uint8_t type;
	int rc;

	channel_get_key(rb, id, &type);
	mid = (int64_t)wk_get_u64(rb);
	s = wk_get_strv(rb, &n);
	who = wk_get_strv(rb, &who_len);
	if (!revoke)
		payload = wk_get_blob(rb, &payload_len);
	if (who_len > CHANNEL_ID_MAX && !rb->err)
		rb->err = 1;
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	cmn = wk_strndup(s, n);
	wk_wbuf_init(&buf);
	rc = channel_msg_locate(p, id, type, mid, cmn, &seq);
	if (rc == 1)
		rc = channel_msg_get(p, id, type, seq, &m, &buf);
	free(cmn);
	if (rc < 0)
		channel_answer_storage_error(p, a);
	else if (rc == 0)
		wk_answer_error(a, 404, "message not found");
	else if (m.revoked && !revoke)
		wk_answer_error(a, 400, "message revoked");
	else if (m.revoked)
		answer(a, &m);               /* revoked already: as it stands */
	else if ((m.extra_version = channel_extra_next(p, id, type)) == 0)
		channel_answer_storage_error(p, a);
	else {
		if (revoke) {
			m.revoked = 1;
			m.revoker = who;
			m.revoker_len = who_len;
			m.payload = NULL;
			m.payload_len = 0;
		} else {
			m.payload = payload;
			m.payload_len = payload_len;
			m.edited_at = (uint32_t)(wk_wall_ms() / 1000);
		}
		if (channel_msg_replace(p, id, type, &m, 1) < 0)
			channel_answer_storage_error(p, a);
		else
			answer(a, &m);
	}
	wk_wbuf_free(&buf);
	return 0;
}

int
channel_op_msg_revoke(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	return change(p, rb, a, 1);
}

int
channel_op_msg_edit(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	return change(p, rb, a, 0);
}

/* CHANNEL_RETENTION: set the channel's; the answer is where its history
 * starts now (channel_retention.c deletes in the background). */
int
channel_op_retention(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	uint32_t secs, count, first;
	uint8_t type;

	channel_get_key(rb, id, &type);
	secs = wk_get_u32(rb);
	count = wk_get_u32(rb);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (channel_retention_set(p, id, type, secs, count, &first) < 0)
		channel_answer_storage_error(p, a);
	else
		wk_put_u32(&a->body, first);
	return 0;
}
