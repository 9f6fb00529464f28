/* api_recents.c - POST /conversation/syncMessages (wk-api(8),
 * http-api.md §2.27): the recent messages of channels given by stored id
 * ("a@b" for a person chat), as the reference's nodes ask each other.
 *
 * Each channel asks its shard, all in one round: CHANNEL_CONV_RECENTS for
 * the seq the user last sent there (and, with order_by_last, the newest
 * msg_count messages at or after last_msg_seq, newest first); without
 * order_by_last, CHANNEL_MSG_SYNC for the first msg_count at or after
 * last_msg_seq, ascending.
 */
#include <stdint.h>
#include <string.h>
#include "api.h"
#include "wk_json.h"
#include "wk_msgtypes.h"
#include "wk_shard.h"

#define RECENTS_MSG_COUNT 15     /* the reference's default msg_count */

/* The messages of an answer (u32 m, m messages) as a JSON array, in the
 * order given; a message that is not valid UTF-8 is left out. */
static json_t *
msgs_read(struct api_req *r, int part, struct wk_rbuf *rb)
{
	json_t *a = json_array(), *m;
	uint32_t n = wk_get_u32(rb);

	for (uint32_t i = 0; i < n && !rb->err; i++)
		if ((m = api_msg_get(rb)) != NULL)
			json_array_append_new(a, m);
		else if (rb->err)
			api_op_malformed(r, part);
	return a;
}

static void
recents_then(struct wk_proc *p, struct api_req *r)
{
	json_t *req = r->ctx, *chs = json_object_get(req, "channels"), *out = json_array(), *ch;
	int by_last = wk_jint(req, "order_by_last") == 1, per = by_last ? 1 : 2;
	struct wk_rbuf rb;
	size_t i;

	(void)p;
	json_array_foreach(chs, i, ch) {
		int k = (int)i * per;
		uint32_t mine;
		json_t *msgs;
		api_op_read(r, k, &rb);
		if (wk_get_u32(&rb) != 1)
			api_op_malformed(r, k);
		wk_get_u32(&rb);             /* the channel's last seq */
		mine = wk_get_u32(&rb);
		msgs = msgs_read(r, k, &rb);
		if (wk_rbuf_done(&rb) < 0)
			api_op_malformed(r, k);
		if (!by_last) {
			json_decref(msgs);
			api_op_read(r, k + 1, &rb);
			wk_get_u8(&rb);          /* more */
			msgs = msgs_read(r, k + 1, &rb);
			wk_get_u32(&rb);         /* where retention left the history */
			if (wk_rbuf_done(&rb) < 0)
				api_op_malformed(r, k + 1);
		}
		json_array_append_new(out, json_pack("{s:O,s:O,s:o,s:I}", "channel_id",
		    json_object_get(ch, "channel_id"), "channel_type", json_object_get(ch, "channel_type"),
		    "messages", msgs, "user_last_msg_seq", (json_int_t)mine));
	}
	api_answer_json(r, 200, out);
}

/* Go's BindJSON of []*channelRecentMessageReq: objects whose members, when
 * present, have the field's type. */
static int
channels_ok(json_t *chs)
{
	size_t i;
	json_t *ch, *v;

	if (chs != NULL && !json_is_array(chs) && !json_is_null(chs))
		return 0;
	json_array_foreach(chs, i, ch) {
		if (json_is_null(ch))
			continue;
		if (!json_is_object(ch))
			return 0;
		if ((v = json_object_get(ch, "channel_id")) && !json_is_string(v) && !json_is_null(v))
			return 0;
		if ((v = json_object_get(ch, "channel_type")) && !json_is_null(v) &&
		    (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255))
			return 0;
		if ((v = json_object_get(ch, "last_msg_seq")) && !json_is_null(v) &&
		    (!json_is_integer(v) || json_integer_value(v) < 0))
			return 0;
	}
	return 1;
}

void
api_route_conversation_sync_messages(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "" };
	json_int_t count, by_last;
	const char *uid;
	json_t *chs, *ch, *norm = json_array();
	size_t i;

	if ((in.o = api_body_json(r, JSON_OBJECT, "")) == NULL)
		goto out;
	chs = api_in_get(&in, "channels");
	if (api_in_str(&in, "uid", &uid) < 0 ||
	    api_in_int(&in, "msg_count", "int", API_GO_INT_MIN, API_GO_INT_MAX, &count) < 0 ||
	    api_in_int(&in, "order_by_last", "int", API_GO_INT_MIN, API_GO_INT_MAX, &by_last) < 0 ||
	    !channels_ok(chs)) {
		api_answer_error(r, 400, API_BAD_DATA);
		goto out;
	}
	if (api_check_len(r, "uid", uid) < 0)
		goto out;
	if (count <= 0)
		count = RECENTS_MSG_COUNT;
	json_array_foreach(chs, i, ch) {
		const char *id = wk_jstr(ch, "channel_id");
		if (api_check_len(r, "channel_id", id ? id : "") < 0)
			goto out;
		json_array_append_new(norm, json_pack("{s:s,s:I,s:I}", "channel_id", id ? id : "",
		    "channel_type", wk_jint(ch, "channel_type"), "last_msg_seq",
		    wk_jint(ch, "last_msg_seq")));
	}
	if (json_array_size(norm) == 0) {
		api_answer_json(r, 200, json_array());
		goto out;
	}
	api_ctx_keep(r, json_pack("{s:O,s:I}", "channels", norm, "order_by_last", by_last));
	json_array_foreach(norm, i, ch) {
		const char *id = wk_jstr(ch, "channel_id");
		json_int_t type = wk_jint(ch, "channel_type"), from = wk_jint(ch, "last_msg_seq");
		struct wk_wbuf w;
		int failed;
		wk_wbuf_init(&w);
		wk_put_str(&w, uid);
		wk_put_u32(&w, by_last == 1 ? (uint32_t)(count > UINT32_MAX ? UINT32_MAX : count) : 0);
		wk_put_u32(&w, 1);
		wk_put_str(&w, id);
		wk_put_u8(&w, (uint8_t)type);
		wk_put_u64(&w, (uint64_t)from);
		failed = api_ask_op_owner(p, r, WK_ROLE_CHANNEL, id, WK_MSG_CHANNEL_CONV_RECENTS, &w,
		    recents_then) < 0;
		wk_wbuf_free(&w);
		if (failed)
			break;
		if (by_last == 1)
			continue;
		/* Up from last_msg_seq (at least 1: start and end 0 would mean
		 * "the newest" to the sync op). */
		wk_wbuf_init(&w);
		api_put_key(&w, id, type);
		wk_put_u64(&w, (uint64_t)(from > 0 ? from : 1));
		wk_put_u64(&w, 0);
		wk_put_u64(&w, (uint64_t)count);
		wk_put_u8(&w, 1);
		failed = api_ask_op_owner(p, r, WK_ROLE_CHANNEL, id, WK_MSG_CHANNEL_MSG_SYNC, &w,
		    recents_then) < 0;
		wk_wbuf_free(&w);
		if (failed)
			break;
	}
out:
	json_decref(norm);
	json_decref(in.o);
}
