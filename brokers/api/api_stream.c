/* api_stream.c - wk-api's stream message routes (wk-api(8), http-api.md
 * §2.28-2.29, semantics.md §13): read and check the body as the reference
 * does, make the stored channel id, and ask the channel's shard
 * (channel_stream.c) with the event type and key normalised:
 *   POST /message/event      message.event
 *   POST /message/eventsync  message.eventsync
 * The anchor is any stored message with setting bit 0x02 (/message/send
 * with is_stream 1).  A person chat's stored id is made from from_uid and
 * channel_id as for /message/send (no from_uid: the system uid), or is the
 * channel_id itself when that is already a stored "a@b" id. */
#include <ctype.h>
#include <string.h>
#include "api.h"
#include "wk_chmsg.h"
#include "wkproto.h"

#define EVENTSYNC_LIMIT_DEFAULT 200
#define EVENTSYNC_LIMIT_MAX 2000

/* The stored id of a stream's channel: 0, or -1 after answering 400. */
static int
stream_channel(struct api_req *r, const char *id, json_int_t type, const char *from,
    char sid[STORED_ID_MAX])
{
	if (check_len(r, "channel_id", id) < 0 || check_len(r, "from_uid", from) < 0)
		return -1;
	if (type == WKPROTO_CHANNEL_PERSON && strchr(id, '@') != NULL) {
		snprintf(sid, STORED_ID_MAX, "%s", id);
		return 0;
	}
	if (stored_id(from, id, type, sid) == 0)
		return 0;
	api_answer_error(r, 400, "频道ID不合法！");
	return -1;
}

/* A map[string]string member: -1 after answering 400 as Go does. */
static int
in_headers(struct in *in, const char *key)
{
	json_t *h = in_get(in, key), *v;
	const char *k;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return bad_type(in->r, h, in->type, key, "map[string]string");
	json_object_foreach(h, k, v)
		if (!json_is_string(v))
			return bad_type(in->r, v, in->type, key, "string");
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

/* POST /message/event. */
void
route_message_event(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "eventAppendReq" };
	const char *id, *from, *cmn, *eid, *etype, *ekey, *vis;
	json_int_t type, mid, occurred;
	char sid[STORED_ID_MAX], t[API_CHANNEL_ID_MAX + 1], k[API_CHANNEL_ID_MAX + 1];
	json_t *body, *payload;

	if ((in.o = body_json(r, JSON_OBJECT, "api.eventAppendReq")) == NULL)
		return;
	if (in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_str(&in, "from_uid", &from) < 0 ||
	    in_int(&in, "message_id", "int64", INT64_MIN, INT64_MAX, &mid) < 0 ||
	    in_str(&in, "client_msg_no", &cmn) < 0 || in_str(&in, "event_id", &eid) < 0 ||
	    in_str(&in, "event_type", &etype) < 0 || in_str(&in, "event_key", &ekey) < 0 ||
	    in_str(&in, "visibility", &vis) < 0 ||
	    in_int(&in, "occurred_at", "int64", INT64_MIN, INT64_MAX, &occurred) < 0 ||
	    in_headers(&in, "headers") < 0)
		goto out;
	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空！");
	else if (is_blank(eid))
		api_answer_error(r, 400, "event_id不能为空！");
	else if (is_blank(etype))
		api_answer_error(r, 400, "event_type不能为空！");
	else if (check_len(r, "client_msg_no", cmn) == 0 && check_len(r, "event_id", eid) == 0 &&
	    check_len(r, "event_type", etype) == 0 && check_len(r, "event_key", ekey) == 0 &&
	    check_len(r, "visibility", vis) == 0 &&
	    stream_channel(r, id, type, is_blank(from) ? WK_SYSTEM_UID : from, sid) == 0) {
		trim(etype, 1, t, sizeof t);
		trim(ekey, 0, k, sizeof k);
		if (strcmp(t, "stream.finish") == 0)
			snprintf(k, sizeof k, "__finish__");
		else if (k[0] == '\0')
			snprintf(k, sizeof k, "main");
		body = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I}", "channel", id,
		    "from_uid", is_blank(from) ? "" : from, "message_id", mid, "client_msg_no", cmn,
		    "event_id", eid, "event_type", t, "event_key", k, "visibility", vis,
		    "occurred_at", occurred);
		if ((payload = in_get(&in, "payload")) != NULL && !json_is_null(payload))
			json_object_set(body, "payload", payload);
		ask_stored(p, r, sid, type, "message.event", body);
	}
out:
	json_decref(in.o);
}

/* POST /message/eventsync. */
void
route_message_eventsync(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "eventSyncReq" };
	const char *id, *from, *cmn, *ekey;
	json_int_t type, seq, limit, priv;
	char sid[STORED_ID_MAX];

	if ((in.o = body_json(r, JSON_OBJECT, "api.eventSyncReq")) == NULL)
		return;
	if (in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_str(&in, "from_uid", &from) < 0 || in_str(&in, "client_msg_no", &cmn) < 0 ||
	    in_str(&in, "event_key", &ekey) < 0 ||
	    in_int(&in, "from_msg_event_seq", "uint64", 0, INT64_MAX, &seq) < 0 ||
	    in_int(&in, "limit", "int", INT64_MIN, INT64_MAX, &limit) < 0 ||
	    in_int(&in, "include_private", "uint8", 0, 255, &priv) < 0)
		goto out;
	if (limit == 0)
		limit = EVENTSYNC_LIMIT_DEFAULT;
	if (limit > EVENTSYNC_LIMIT_MAX)
		limit = EVENTSYNC_LIMIT_MAX;
	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空！");
	else if (limit < 0)
		api_answer_error(r, 400, "limit不能为负数！");
	else if (check_len(r, "client_msg_no", cmn) == 0 && check_len(r, "event_key", ekey) == 0 &&
	    (type != WKPROTO_CHANNEL_PERSON || !is_blank(from) ?
	    stream_channel(r, id, type, from, sid) :
	    stream_channel(r, id, 0, "", sid)) == 0)
		ask_stored(p, r, sid, type, "message.eventsync", json_pack("{s:s,s:s,s:I,s:I,s:I}",
		    "client_msg_no", cmn, "event_key", ekey, "from_msg_event_seq", seq,
		    "limit", limit, "include_private", priv));
out:
	json_decref(in.o);
}
