/* api_stream.c - wk-api's stream message routes (wk-api(8), http-api.md
 * §2.28-2.29, semantics.md §13): read and check the body as the reference
 * does, make the stored channel id, and ask the channel's shard
 * (channel_stream.c) with the event type and key normalised:
 *   POST /message/event      CHANNEL_MSG_EVENT
 *   POST /message/eventsync  CHANNEL_MSG_EVENTSYNC
 * and make the reference's JSON of the shard's answer.
 * The anchor is any stored message with setting bit 0x02 (/message/send
 * with is_stream 1).  A person chat's stored id is made from from_uid and
 * channel_id as for /message/send (no from_uid: the system uid), or is the
 * channel_id itself when that is already a stored "a@b" id; an agent
 * channel's (type 11) is "from_uid@channel_id", as /message/send makes it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_jw.h"
#include "wkproto.h"

#define EVENTSYNC_LIMIT_DEFAULT 200
#define EVENTSYNC_LIMIT_MAX 2000

/* The stored id of a stream's channel: 0, or -1 after answering 400. */
static int
stream_channel(struct api_req *r, const char *id, json_int_t type, const char *from,
    char sid[API_STORED_ID_MAX])
{
	if (api_check_len(r, "channel_id", id) < 0 || api_check_len(r, "from_uid", from) < 0)
		return -1;
	if ((type == WKPROTO_CHANNEL_PERSON || type == WKPROTO_CHANNEL_AGENT) &&
	    strchr(id, '@') != NULL) {
		snprintf(sid, API_STORED_ID_MAX, "%s", id);
		return 0;
	}
	if (api_send_id(from, id, type, sid) == 0)
		return 0;
	api_answer_error(r, 400, "频道ID不合法！");
	return -1;
}

/* A map[string]string member: -1 after answering 400 as Go does. */
static int
in_headers(struct api_in *in, const char *key)
{
	json_t *h = api_in_get(in, key), *v;
	const char *k;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return api_bad_type(in->r, h, in->type, key, "map[string]string");
	json_object_foreach(h, k, v)
		if (!json_is_string(v))
			return api_bad_type(in->r, v, in->type, key, "string");
	return 0;
}

/* s without surrounding white space, lower-cased if `lower`, into out. */
static void
trim(const char *s, int lower, char *out, size_t cap)
{
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	out[n] = '\0';
}

static const char *const lane_status[] = { "open", "closed", "error", "cancelled" };

/* What event_then needs of the request: its channel as the client named it. */
struct event_ctx {
	json_int_t type;
	char id[];                   /* channel_id, NUL-terminated */
};

/* CHANNEL_MSG_EVENT answered: the reference's OK with the event's state,
 * written in place (wk_jw.h; the strings the shard echoes may come from a
 * SEND's anchor, so not necessarily UTF-8). */
static void
event_then(struct wk_proc *p, struct api_req *r)
{
	const struct event_ctx *c = r->ctx;
	const char *cmn, *key, *eid, *from;
	size_t cmn_len, key_len, eid_len, from_len, len;
	struct wk_rbuf rb;
	struct wk_jw w;
	char *text;
	uint64_t seq;
	uint8_t status;

	(void)p;
	api_op_read(r, 0, &rb);
	cmn = wk_get_strv(&rb, &cmn_len);
	key = wk_get_strv(&rb, &key_len);
	eid = wk_get_strv(&rb, &eid_len);
	seq = wk_get_u64(&rb);
	status = wk_get_u8(&rb);
	from = wk_get_strv(&rb, &from_len);
	if (wk_rbuf_done(&rb) < 0 || status >= sizeof lane_status / sizeof lane_status[0])
		api_op_malformed(r, 0);
	wk_jw_init(&w);
	wk_jw_reserve(&w, 256 + cmn_len + key_len + eid_len + from_len + strlen(c->id));
	wk_jw_object(&w);
	wk_jw_kint(&w, "status", 200);
	wk_jw_key(&w, "data");
	wk_jw_object(&w);
	wk_jw_key(&w, "client_msg_no");
	wk_jw_str_lossy(&w, cmn, cmn_len);
	wk_jw_key(&w, "event_key");
	wk_jw_str_lossy(&w, key, key_len);
	wk_jw_key(&w, "event_id");
	wk_jw_str_lossy(&w, eid, eid_len);
	wk_jw_kint(&w, "msg_event_seq", (long long)seq);
	wk_jw_kstr(&w, "stream_status", lane_status[status], strlen(lane_status[status]));
	wk_jw_kstr(&w, "channel_id", c->id, strlen(c->id));
	wk_jw_kint(&w, "channel_type", c->type);
	wk_jw_key(&w, "from_uid");
	wk_jw_str_lossy(&w, from, from_len);
	wk_jw_end(&w, '}');
	wk_jw_end(&w, '}');
	text = wk_jw_take(&w, &len);
	api_answer(r, 200, API_JSON, text, len);
}

/* The text of a text delta's payload ({"delta": a string, and no "kind" or
 * kind "text", as wk-channel appends it}), or NULL. */
static const char *
text_delta(json_t *payload, size_t *n)
{
	json_t *d = json_object_get(payload, "delta");
	const char *kind = json_string_value(json_object_get(payload, "kind"));

	if (!json_is_string(d) || (kind != NULL && strcmp(kind, "text") != 0))
		return NULL;
	*n = json_string_length(d);
	return json_string_value(d);
}

/* POST /message/event. */
void
api_route_message_event(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "eventAppendReq" };
	const char *id, *from, *cmn, *eid, *etype, *ekey, *vis;
	json_int_t type, mid, occurred;
	char sid[API_STORED_ID_MAX], t[API_CHANNEL_ID_MAX + 1], k[API_CHANNEL_ID_MAX + 1];
	char small[1024];
	json_t *payload;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.eventAppendReq")) == NULL)
		return;
	if (api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_str(&in, "from_uid", &from) < 0 ||
	    api_in_int(&in, "message_id", "int64", INT64_MIN, INT64_MAX, &mid) < 0 ||
	    api_in_str(&in, "client_msg_no", &cmn) < 0 || api_in_str(&in, "event_id", &eid) < 0 ||
	    api_in_str(&in, "event_type", &etype) < 0 || api_in_str(&in, "event_key", &ekey) < 0 ||
	    api_in_str(&in, "visibility", &vis) < 0 ||
	    api_in_int(&in, "occurred_at", "int64", INT64_MIN, INT64_MAX, &occurred) < 0 ||
	    in_headers(&in, "headers") < 0)
		goto out;
	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (api_is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空！");
	else if (api_is_blank(eid))
		api_answer_error(r, 400, "event_id不能为空！");
	else if (api_is_blank(etype))
		api_answer_error(r, 400, "event_type不能为空！");
	else if (api_check_len(r, "client_msg_no", cmn) == 0 && api_check_len(r, "event_id", eid) == 0 &&
	    api_check_len(r, "event_type", etype) == 0 && api_check_len(r, "event_key", ekey) == 0 &&
	    api_check_len(r, "visibility", vis) == 0 &&
	    stream_channel(r, id, type, api_is_blank(from) ? WK_SYSTEM_UID : from, sid) == 0) {
		trim(etype, 1, t, sizeof t);
		trim(ekey, 0, k, sizeof k);
		if (strcmp(t, "stream.finish") == 0)
			snprintf(k, sizeof k, "__finish__");
		else if (k[0] == '\0')
			snprintf(k, sizeof k, "main");
		struct wk_wbuf w;
		struct event_ctx *c;
		const char *delta = NULL;
		char *text = NULL;
		size_t tlen = 0, dlen = 0, idlen = strlen(id);
		wk_wbuf_init(&w);
		api_put_key(&w, sid, type);
		wk_put_str(&w, api_is_blank(from) ? "" : from);
		wk_put_u64(&w, (uint64_t)mid);
		wk_put_str(&w, cmn);
		wk_put_str(&w, eid);
		wk_put_str(&w, t);
		wk_put_str(&w, k);
		wk_put_str(&w, vis);
		wk_put_u64(&w, (uint64_t)occurred);
		/* The client's payload is data to the shard, as a message's is:
		 * compact text (on the stack when it is small, as a piece is), and
		 * a text delta's text beside it, so the shard parses nothing. */
		if ((payload = api_in_get(&in, "payload")) != NULL && !json_is_null(payload)) {
			tlen = json_dumpb(payload, small, sizeof small, JSON_COMPACT | JSON_ENCODE_ANY);
			if (tlen > sizeof small) {
				text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
				tlen = text ? strlen(text) : 0;
			}
			if (strcmp(t, "stream.delta") == 0)
				delta = text_delta(payload, &dlen);
		}
		wk_put_blob(&w, text ? text : small, tlen);
		wk_put_u8(&w, delta != NULL);
		if (delta)
			wk_put_blob(&w, delta, dlen);
		free(text);
		c = wk_malloc(sizeof *c + idlen + 1);
		c->type = type;
		memcpy(c->id, id, idlen + 1);
		r->ctx = c;
		r->ctx_free = free;
		api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, WK_MSG_CHANNEL_MSG_EVENT, &w, event_then);
		wk_wbuf_free(&w);
	}
out:
	json_decref(in.o);
}

/* One projected lane of CHANNEL_MSG_EVENTSYNC's answer; NULL if malformed. */
static json_t *
event_get(struct wk_rbuf *rb)
{
	const char *eid, *key, *type, *vis;
	size_t eid_len, key_len, type_len, vis_len, plen;
	uint64_t seq, occurred;
	const void *payload;
	json_t *o;

	seq = wk_get_u64(rb);
	eid = wk_get_strv(rb, &eid_len);
	key = wk_get_strv(rb, &key_len);
	type = wk_get_strv(rb, &type_len);
	vis = wk_get_strv(rb, &vis_len);
	occurred = wk_get_u64(rb);
	payload = wk_get_blob(rb, &plen);
	if (rb->err)
		return NULL;
	o = json_pack("{s:I,s:s#,s:s#,s:s#,s:s#,s:I}", "msg_event_seq", (json_int_t)seq,
	    "event_id", eid, eid_len, "event_key", key, key_len, "event_type", type, type_len,
	    "visibility", vis, vis_len, "occurred_at", (json_int_t)occurred);
	if (plen)
		json_object_set_new(o, "payload", json_loadb(payload, plen, JSON_DECODE_ANY, NULL));
	return o;
}

/* CHANNEL_MSG_EVENTSYNC answered (http-api.md §2.29). */
static void
eventsync_then(struct wk_proc *p, struct api_req *r)
{
	json_t *events = json_array(), *e;
	struct wk_rbuf rb;
	uint64_t next;
	uint32_t n;
	int more;

	(void)p;
	api_op_read(r, 0, &rb);
	more = wk_get_u8(&rb);
	next = wk_get_u64(&rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && !rb.err; i++)
		if ((e = event_get(&rb)) != NULL)
			json_array_append_new(events, e);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, json_pack("{s:i,s:{s:O,s:O,s:I,s:i,s:o,s:O}}", "status", 200,
	    "data", "client_msg_no", json_object_get(r->ctx, "client_msg_no"),
	    "from_msg_event_seq", json_object_get(r->ctx, "from_msg_event_seq"),
	    "next_msg_event_seq", (json_int_t)next, "more", more, "events", events,
	    "filtered_by_event_key", json_object_get(r->ctx, "event_key")));
}

/* POST /message/eventsync. */
void
api_route_message_eventsync(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "eventSyncReq" };
	const char *id, *from, *cmn, *ekey;
	json_int_t type, seq, limit, priv;
	char sid[API_STORED_ID_MAX];

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.eventSyncReq")) == NULL)
		return;
	if (api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_str(&in, "from_uid", &from) < 0 || api_in_str(&in, "client_msg_no", &cmn) < 0 ||
	    api_in_str(&in, "event_key", &ekey) < 0 ||
	    api_in_int(&in, "from_msg_event_seq", "uint64", 0, INT64_MAX, &seq) < 0 ||
	    api_in_int(&in, "limit", "int", INT64_MIN, INT64_MAX, &limit) < 0 ||
	    api_in_int(&in, "include_private", "uint8", 0, 255, &priv) < 0)
		goto out;
	if (limit == 0)
		limit = EVENTSYNC_LIMIT_DEFAULT;
	if (limit > EVENTSYNC_LIMIT_MAX)
		limit = EVENTSYNC_LIMIT_MAX;
	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (api_is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空！");
	else if (limit < 0)
		api_answer_error(r, 400, "limit不能为负数！");
	else if (api_check_len(r, "client_msg_no", cmn) == 0 && api_check_len(r, "event_key", ekey) == 0 &&
	    (type != WKPROTO_CHANNEL_PERSON || !api_is_blank(from) ?
	    stream_channel(r, id, type, from, sid) :
	    stream_channel(r, id, 0, "", sid)) == 0) {
		struct wk_wbuf w;
		wk_wbuf_init(&w);
		api_put_key(&w, sid, type);
		wk_put_str(&w, cmn);
		wk_put_str(&w, ekey);
		wk_put_u64(&w, (uint64_t)seq);
		wk_put_u32(&w, (uint32_t)limit);
		wk_put_u8(&w, (uint8_t)priv);
		api_ctx_keep(r, json_pack("{s:s,s:I,s:s}", "client_msg_no", cmn,
		    "from_msg_event_seq", seq, "event_key", ekey));
		api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, WK_MSG_CHANNEL_MSG_EVENTSYNC, &w,
		    eventsync_then);
		wk_wbuf_free(&w);
	}
out:
	json_decref(in.o);
}
