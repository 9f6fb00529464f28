/* api_msgops.c - what the reference leaves to the business server (wk-api(8)):
 * POST /message/revoke, /message/edit and /channel/retention.
 *
 * A revoke or an edit is two rounds: CHANNEL_MSG_REVOKE / _EDIT to the
 * channel's shard rewrites the stored message (its payload scrubbed, or
 * replaced) with the channel's next edit version; then a cmd message
 * (sync_once, from the system uid) through CHANNEL_MSG_SEND tells every
 * member, online at once and offline through /message/sync:
 *   {"type":99,"cmd":"messageRevoke"|"messageEdit","param":{"message_id":
 *    "<id>","message_seq":N,"client_msg_no":"...","channel_id":"...",
 *    "channel_type":N,"extra_version":N, revoke: "revoker"; edit:
 *    "edited_at", "content_edit" (the new payload, when it is JSON)}}
 * "messageRevoke" and its param are what the WuKongIM SDKs' cmd handlers
 * read; "messageEdit" is wk's.  A person chat's param has no channel_id:
 * the client takes the cmd's own channel, which shows each side its peer.
 * The answer waits for both rounds: the revoke is durable, and so is the
 * notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_json.h"
#include "wkproto.h"

#define RETENTION_DEFAULT UINT32_MAX    /* the channel follows channel.retention* */

/* The cmd (round 2) is stored: the answer. */
static void
notice_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	uint8_t reason;

	(void)p;
	api_op_read(r, 0, &rb);
	reason = wk_get_u8(&rb);
	if (reason != WKPROTO_REASON_SUCCESS) {
		api_answer_error(r, 500, "stored, but the members' notice was refused");
		return;
	}
	api_answer_json(r, 200, json_pack("{s:i,s:O}", "status", 200, "data",
	    json_object_get(r->ctx, "data")));
}

/* The cmd payload of the notice, base64 for CHANNEL_MSG_SEND's blob. */
static char *
notice_payload(json_t *ctx, json_t *param)
{
	json_t *cmd = json_pack("{s:i,s:s,s:O}", "type", 99, "cmd",
	    json_is_true(json_object_get(ctx, "revoke")) ? "messageRevoke" : "messageEdit",
	    "param", param);
	char *text = json_dumps(cmd, JSON_COMPACT);
	size_t n = strlen(text);
	char *b64 = wk_malloc(WK_B64_ENCODED_LEN(n) + 1);

	b64[wk_b64_encode(text, n, b64)] = '\0';
	free(text);
	json_decref(cmd);
	return b64;
}

/* Round 1 answered: the message as it now stands; round 2 sends the notice. */
static void
changed_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	int64_t mid;
	uint32_t seq, ver;
	const char *cmn, *sid = wk_jstr(r->ctx, "sid");
	size_t cmn_len, from_len;
	json_int_t type = wk_jint(r->ctx, "channel_type");
	char idstr[32], notice_cmn[64], *b64;
	json_t *param, *edit;
	struct wk_wbuf w;

	api_op_read(r, 0, &rb);
	mid = (int64_t)wk_get_u64(&rb);
	seq = wk_get_u32(&rb);
	ver = wk_get_u32(&rb);
	cmn = wk_get_strv(&rb, &cmn_len);
	wk_get_strv(&rb, &from_len);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	snprintf(idstr, sizeof idstr, "%lld", (long long)mid);
	param = json_pack("{s:s,s:I,s:s#,s:I,s:I}", "message_id", idstr, "message_seq",
	    (json_int_t)seq, "client_msg_no", cmn ? cmn : "", cmn_len, "channel_type", type,
	    "extra_version", (json_int_t)ver);
	if (param == NULL)                   /* a client_msg_no that is not UTF-8 */
		param = json_pack("{s:s,s:I,s:I,s:I}", "message_id", idstr, "message_seq",
		    (json_int_t)seq, "channel_type", type, "extra_version", (json_int_t)ver);
	if (type != WKPROTO_CHANNEL_PERSON)
		json_object_set(param, "channel_id", json_object_get(r->ctx, "channel_id"));
	if (json_is_true(json_object_get(r->ctx, "revoke")))
		json_object_set(param, "revoker", json_object_get(r->ctx, "operator"));
	else {
		json_object_set_new(param, "edited_at", json_integer(time(NULL)));
		if ((edit = json_object_get(r->ctx, "content_edit")) != NULL)
			json_object_set(param, "content_edit", edit);
	}
	json_object_set_new(r->ctx, "data", json_pack("{s:I,s:s,s:I,s:I}", "message_id",
	    (json_int_t)mid, "message_idstr", idstr, "message_seq", (json_int_t)seq,
	    "extra_version", (json_int_t)ver));
	/* One notice per version: a retry of round 2 is stored once. */
	snprintf(notice_cmn, sizeof notice_cmn, "wk-%s-%s-v%u",
	    json_is_true(json_object_get(r->ctx, "revoke")) ? "revoke" : "edit", idstr, ver);
	b64 = notice_payload(r->ctx, param);
	json_decref(param);
	wk_wbuf_init(&w);
	api_put_key(&w, sid, type);
	wk_put_str(&w, WK_SYSTEM_UID);
	wk_put_str(&w, notice_cmn);
	wk_put_u8(&w, WKPROTO_FLAG_SYNCONCE);
	wk_put_u32(&w, 0);
	wk_put_u8(&w, 0);
	api_put_payload(&w, b64);
	wk_put_u32(&w, 0);                   /* the channel's recipients */
	free(b64);
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, WK_MSG_CHANNEL_MSG_SEND, &w, notice_then);
	wk_wbuf_free(&w);
}

/* message_id: an integer, or its decimal text (JavaScript loses int64s);
 * 0 when absent.  -1 after answering 400. */
static int
in_message_id(struct api_in *in, int64_t *out)
{
	json_t *v = api_in_get(in, "message_id");
	char *end;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && *json_string_value(v)) {
		*out = strtoll(json_string_value(v), &end, 10);
		if (*end == '\0')
			return 0;
	}
	api_answer_error(in->r, 400, "message_id must be an integer");
	return -1;
}

/* The payload (checked base64) as JSON, or NULL if it is not JSON: the
 * notice's content_edit. */
static json_t *
payload_json(const char *b64)
{
	size_t n = strlen(b64);
	uint8_t *buf = wk_malloc(WK_B64_DECODED_MAX(n) + 1);
	ssize_t len = wk_b64_decode(b64, n, buf, WK_B64_DECODED_MAX(n) + 1);
	json_t *o = len > 0 ? json_loadb((const char *)buf, (size_t)len, 0, NULL) : NULL;

	free(buf);
	return o;
}

/* POST /message/revoke and /message/edit. */
static void
change(struct wk_proc *p, struct api_req *r, int revoke)
{
	struct api_in in = { r, NULL, revoke ? "messageRevokeReq" : "messageEditReq" };
	const char *id, *cmn, *from, *op, *payload = "";
	char sid[API_STORED_ID_MAX];
	json_int_t type;
	int64_t mid;
	struct wk_wbuf w;
	json_t *ctx, *edit = NULL;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_message_id(&in, &mid) < 0 || api_in_str(&in, "client_msg_no", &cmn) < 0 ||
	    api_in_str(&in, "from_uid", &from) < 0 || api_in_str(&in, "operator", &op) < 0 ||
	    (!revoke && api_in_payload(&in, &payload) < 0))
		goto out;
	if (api_is_blank(op))
		op = from;                   /* who did it: operator, else from_uid */
	if (api_is_blank(id) || type == 0)
		api_answer_error(r, 400, "channel_id and channel_type are required");
	else if (mid <= 0 && api_is_blank(cmn))
		api_answer_error(r, 400, "message_id or client_msg_no is required");
	else if (type == WKPROTO_CHANNEL_PERSON && api_is_blank(from))
		api_answer_error(r, 400, "from_uid is required in a person chat");
	else if (!revoke && *payload == '\0')
		api_answer_error(r, 400, "payload不能为空！");
	else if (api_check_len(r, "channel_id", id) < 0 || api_check_len(r, "from_uid", from) < 0 ||
	    api_check_len(r, "operator", op) < 0 || api_check_len(r, "client_msg_no", cmn) < 0)
		;
	else if (api_stored_id(from, id, type, sid) < 0)
		api_answer_error(r, 400, "频道ID不合法！");
	else {
		wk_wbuf_init(&w);
		api_put_key(&w, sid, type);
		wk_put_u64(&w, (uint64_t)(mid > 0 ? mid : 0));
		wk_put_str(&w, cmn);
		wk_put_str(&w, op);
		if (!revoke) {
			api_put_payload(&w, payload);
			edit = payload_json(payload);
		}
		ctx = json_pack("{s:s,s:s,s:I,s:b,s:s}", "sid", sid, "channel_id", id,
		    "channel_type", type, "revoke", revoke, "operator", op);
		if (edit)
			json_object_set_new(ctx, "content_edit", edit);
		api_ctx_keep(r, ctx);
		api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid,
		    revoke ? WK_MSG_CHANNEL_MSG_REVOKE : WK_MSG_CHANNEL_MSG_EDIT, &w, changed_then);
		wk_wbuf_free(&w);
	}
out:
	json_decref(in.o);
}

void
api_route_message_revoke(struct wk_proc *p, struct api_req *r)
{
	change(p, r, 1);
}

void
api_route_message_edit(struct wk_proc *p, struct api_req *r)
{
	change(p, r, 0);
}

static void
retention_then(struct wk_proc *p, struct api_req *r)
{
	(void)p;
	uint32_t first = api_op_u32(r, 0);

	api_answer_json(r, 200, json_pack("{s:i,s:I}", "status", 200, "history_start_seq",
	    (json_int_t)first));
}

/* A retention member: absent or null is the default, else 0 (no limit)
 * up to max.  -1 after answering 400. */
static int
in_retention(struct api_in *in, const char *key, json_int_t max, uint32_t *out)
{
	json_int_t v;
	json_t *o = api_in_get(in, key);

	*out = RETENTION_DEFAULT;
	if (o == NULL || json_is_null(o))
		return 0;
	if (api_in_int(in, key, "int64", -1, max, &v) < 0)
		return -1;
	*out = v < 0 ? RETENTION_DEFAULT : (uint32_t)v;
	return 0;
}

/* POST /channel/retention: {channel_id, channel_type, retention_days,
 * retention_seconds, retention_count}; a limit absent, null or -1 follows
 * the configured default, 0 is none; seconds win over days. */
void
api_route_channel_retention(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "channelRetentionReq" };
	const char *id, *from;
	char sid[API_STORED_ID_MAX];
	uint32_t days, secs, count;
	json_int_t type;
	struct wk_wbuf w;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (api_in_str(&in, "channel_id", &id) < 0 || api_in_str(&in, "from_uid", &from) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_retention(&in, "retention_days", 36500, &days) < 0 ||
	    in_retention(&in, "retention_seconds", UINT32_MAX - 1, &secs) < 0 ||
	    in_retention(&in, "retention_count", UINT32_MAX - 1, &count) < 0)
		goto out;
	if (secs == RETENTION_DEFAULT && days != RETENTION_DEFAULT)
		secs = days * 86400u;
	if (api_is_blank(id) || type == 0)
		api_answer_error(r, 400, "channel_id and channel_type are required");
	else if (type == WKPROTO_CHANNEL_PERSON && api_is_blank(from))
		api_answer_error(r, 400, "from_uid is required in a person chat");
	else if (api_check_len(r, "channel_id", id) < 0 || api_check_len(r, "from_uid", from) < 0)
		;
	else if (api_stored_id(from, id, type, sid) < 0)
		api_answer_error(r, 400, "频道ID不合法！");
	else {
		wk_wbuf_init(&w);
		api_put_key(&w, sid, type);
		wk_put_u32(&w, secs);
		wk_put_u32(&w, count);
		api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, WK_MSG_CHANNEL_RETENTION, &w,
		    retention_then);
		wk_wbuf_free(&w);
	}
out:
	json_decref(in.o);
}
