/* api_import.c - the routes of wkctl import (wkctl(8), wk-api(8)).
 *
 * Read side, the reference's cluster routes that a source is read with (a
 * wk tree standing in as the source answers them too):
 *   GET /cluster/channels?channel_id=&channel_type=   a channel's info
 *       (one channel: both arguments are required here), CHANNEL_GET
 *   GET /cluster/channels/:id/:type/{subscribers,denylist,allowlist}
 *       a bare array of uids, CHANNEL_LIST_GET
 * Write side, wk's own:
 *   POST /message/import {login_uid (person chats), channel_id, channel_type,
 *       messages: [MessageResp as /channel/messagesync answers]}
 *       stores each message at its own message_seq with its message_id (read
 *       from message_idstr when present: jq, like JavaScript, rounds the
 *       number) and timestamp (CHANNEL_MSG_IMPORT, channel_import.c): the same messages
 *       twice store nothing the second time; a seq held by another message
 *       is 409.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_json.h"
#include "wk_msg.h"
#include "wkproto.h"

#define API_IMPORT_MAX 10000         /* messages per request, as messagesync's limit */

/* CHANNEL_GET answered: the reference's channelInfoRespTotal, with wk's
 * other flags (send_ban, large, allow_stranger) beside. */
static void
info_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	uint8_t flags;
	uint32_t last, members, black, white;
	json_t *ctx = r->ctx;

	api_op_read(r, 0, &rb);
	flags = wk_get_u8(&rb);
	last = wk_get_u32(&rb);
	members = wk_get_u32(&rb);
	black = wk_get_u32(&rb);
	white = wk_get_u32(&rb);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, json_pack("{s:i,s:i,s:[{s:i,s:i,s:O,s:O,s:i,s:i,s:i,s:i,s:i,"
	    "s:I,s:i,s:i,s:i,s:i}]}", "total", 1, "more", 0, "data", "id", 0, "slot", 0,
	    "channel_id", json_object_get(ctx, "channel_id"),
	    "channel_type", json_object_get(ctx, "channel_type"),
	    "ban", (flags & WK_CHANNEL_BAN) != 0, "disband", (flags & WK_CHANNEL_DISBAND) != 0,
	    "subscriber_count", (int)members, "allowlist_count", (int)white,
	    "denylist_count", (int)black, "last_msg_seq", (json_int_t)last,
	    "send_ban", (flags & WK_CHANNEL_SEND_BAN) != 0, "large", (flags & WK_CHANNEL_LARGE) != 0,
	    "allow_stranger", (flags & WK_CHANNEL_ALLOW_STRANGER) != 0, "last_msg_time", 0));
}

/* GET /cluster/channels?channel_id=&channel_type=: one channel's info;
 * 404 when there is no such channel. */
void
api_route_cluster_channels(struct wk_proc *p, struct api_req *r)
{
	const char *id = api_query_str(r, "channel_id");
	json_int_t type = api_query_type(r);
	struct wk_wbuf w;

	if (api_is_blank(id) || type <= 0) {
		api_answer_error(r, 400, "channel_id and channel_type are required");
		return;
	}
	if (api_check_len(r, "channel_id", id) < 0)
		return;
	api_ctx_keep(r, json_pack("{s:s,s:I}", "channel_id", id, "channel_type", type));
	wk_wbuf_init(&w);
	api_put_key(&w, id, type);
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, id, WK_MSG_CHANNEL_GET, &w, info_then);
	wk_wbuf_free(&w);
}

/* CHANNEL_LIST_GET answered: the uids, a bare array. */
static void
uids_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array();
	struct wk_rbuf rb;
	uint32_t n;

	api_op_read(r, 0, &rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && !rb.err; i++) {
		size_t len;
		const char *uid;

		wk_get_u64(&rb);
		uid = wk_get_strv(&rb, &len);
		wk_get_u64(&rb);
		wk_get_u64(&rb);
		if (!rb.err)
			json_array_append_new(out, json_stringn(uid, len));
	}
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, out);
}

/* GET /cluster/channels/:channel_id/:channel_type/{subscribers,denylist,allowlist}. */
void
api_route_cluster_list(struct wk_proc *p, struct api_req *r)
{
	char *path = wk_strdup(r->path + strlen("/cluster/channels/"));
	char *type_s = strchr(path, '/'), *list, *end;
	long type;
	struct wk_wbuf w;

	*type_s++ = '\0';            /* the route matched: three segments */
	list = strchr(type_s, '/');
	*list++ = '\0';
	type = strtol(type_s, &end, 10);
	if (*end != '\0' || type <= 0 || type > 255)
		api_answer_error(r, 400, "channel_type: an integer 1-255");
	else if (api_check_len(r, "channel_id", path) == 0) {
		wk_wbuf_init(&w);
		api_put_key(&w, path, type);
		wk_put_u8(&w, strcmp(list, "subscribers") == 0 ? 'm' :
		    strcmp(list, "denylist") == 0 ? 'b' : 'w');
		api_ask_op_owner(p, r, WK_ROLE_CHANNEL, path, WK_MSG_CHANNEL_LIST_GET, &w, uids_then);
		wk_wbuf_free(&w);
	}
	free(path);
}

/* CHANNEL_MSG_IMPORT answered: how many were stored, how many were there. */
static void
import_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	uint32_t stored, there;

	api_op_read(r, 0, &rb);
	stored = wk_get_u32(&rb);
	there = wk_get_u32(&rb);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, json_pack("{s:i,s:{s:I,s:I}}", "status", 200, "data",
	    "stored", (json_int_t)stored, "skipped", (json_int_t)there));
}

static int
header_flag(json_t *m, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(m, "header"), k)) != 0;
}

/* One MessageResp into the batch (its bytes copied); an error text or NULL. */
static const char *
put_message(struct wk_wbuf *w, json_t *o, const char *sid, uint8_t type, json_int_t *last_seq)
{
	json_t *id = json_object_get(o, "message_id"), *seq = json_object_get(o, "message_seq");
	const char *idstr = json_string_value(json_object_get(o, "message_idstr"));
	const char *b64 = json_string_value(json_object_get(o, "payload"));
	const char *from = wk_jstr(o, "from_uid");
	size_t blen = b64 ? strlen(b64) : 0;
	uint8_t *payload = wk_malloc(WK_B64_DECODED_MAX(blen) + 1);
	ssize_t plen = b64 ? wk_b64_decode(b64, blen, payload, WK_B64_DECODED_MAX(blen) + 1) : 0;
	struct wk_chmsg m = { 0 };

	char *end = NULL;
	long long idv = idstr ? strtoll(idstr, &end, 10) : json_integer_value(id);

	if (!json_is_object(o) || (idstr ? *idstr == '\0' || *end != '\0' : !json_is_integer(id)) ||
	    !json_is_integer(seq) ||
	    json_integer_value(seq) <= *last_seq || json_integer_value(seq) > UINT32_MAX ||
	    !json_is_integer(json_object_get(o, "timestamp")) || plen < 0) {
		free(payload);
		return "messages: each needs message_id or message_idstr, message_seq (ascending), "
		    "timestamp and a base64 payload";
	}
	*last_seq = json_integer_value(seq);
	m.message_id = idv;
	m.seq = (uint32_t)*last_seq;
	m.timestamp = (int32_t)wk_jint(o, "timestamp");
	m.flags = (header_flag(o, "no_persist") ? WKPROTO_FLAG_NOPERSIST : 0) |
	    (header_flag(o, "red_dot") ? WKPROTO_FLAG_REDDOT : 0) |
	    (header_flag(o, "sync_once") ? WKPROTO_FLAG_SYNCONCE : 0);
	m.setting = (uint8_t)wk_jint(o, "setting");
	m.expire = (uint32_t)wk_jint(o, "expire");
	m.channel_type = type;
	/* The answer shows the system uid as "". */
	m.from_uid = wk_str_n(*from ? from : WK_SYSTEM_UID, strlen(*from ? from : WK_SYSTEM_UID));
	m.channel_id = wk_str_n(sid, strlen(sid));
	m.client_msg_no = wk_str_n(wk_jstr(o, "client_msg_no"), strlen(wk_jstr(o, "client_msg_no")));
	m.topic = wk_str_n(wk_jstr(o, "topic"), strlen(wk_jstr(o, "topic")));
	m.stream_no = wk_str_n(wk_jstr(o, "stream_no"), strlen(wk_jstr(o, "stream_no")));
	m.payload.p = payload;
	m.payload.len = (size_t)plen;
	wk_chmsg_put(w, &m);
	free(payload);
	return NULL;
}

/* POST /message/import: a channel's history, ids, seqs and timestamps kept. */
void
api_route_message_import(struct wk_proc *p, struct api_req *r)
{
	json_t *o = api_body_json(r, JSON_OBJECT, "api.importReq"), *msgs, *m;
	const char *id, *login, *err = NULL;
	json_int_t type, last = 0;
	char sid[API_STORED_ID_MAX];
	struct wk_wbuf w;
	size_t i;

	if (o == NULL)
		return;
	id = wk_jstr(o, "channel_id");
	login = wk_jstr(o, "login_uid");
	type = wk_jint(o, "channel_type");
	msgs = json_object_get(o, "messages");
	if (api_is_blank(id) || type <= 0 || type > 255)
		api_answer_error(r, 400, "channel_id and channel_type (1-255) are required");
	else if (!json_is_array(msgs) || json_array_size(msgs) > API_IMPORT_MAX)
		api_answer_error(r, 400, "messages: an array of at most 10000 messages");
	else if (type == WKPROTO_CHANNEL_PERSON && api_is_blank(login))
		api_answer_error(r, 400, "login_uid不能为空！");
	else if (api_check_len(r, "login_uid", login) == 0 && api_check_len(r, "channel_id", id) == 0) {
		if (api_stored_id(login, id, type, sid) < 0) {
			api_answer_error(r, 400, "channel_id: not a valid channel id");
			goto out;
		}
		wk_wbuf_init(&w);
		api_put_key(&w, sid, type);
		wk_put_u32(&w, (uint32_t)json_array_size(msgs));
		json_array_foreach(msgs, i, m)
			if (err == NULL)
				err = put_message(&w, m, sid, (uint8_t)type, &last);
		if (err)
			api_answer_error(r, 400, err);
		else
			api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, WK_MSG_CHANNEL_MSG_IMPORT, &w,
			    import_then);
		wk_wbuf_free(&w);
	}
out:
	json_decref(o);
}
