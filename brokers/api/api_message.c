/* api_message.c - the message routes (wk-api(8)): /message/send and
 * sendbatch, /messages, /message, byclientmsgno, /channel/messagesync,
 * max_message_seq, last_message.  Each goes to the stored channel's shard:
 * a person chat is stored under "a@b", made here from the two uids
 * (semantics.md §2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api.h"
#include <openssl/rand.h>
#include "wk_chmsg.h"
#include "wk_channelid.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"

#define SEND_REFUSED "无法处理发送消息请求！"
#define BAD_CHANNEL_ID "频道ID不合法！"

/* The stored id of (id, type) as seen by uid: a person chat's "a@b", else
 * id.  -1 if it is longer than wk-channel stores. */
int
stored_id(const char *uid, const char *id, json_int_t type, char *out)
{
	ssize_t n;

	if (type != 1) {
		snprintf(out, STORED_ID_MAX, "%s", id);
		n = (ssize_t)strlen(id);
	} else
		n = wk_channelid_person(uid, strlen(uid), id, strlen(id), out, STORED_ID_MAX);
	return n < 0 || n > API_CHANNEL_ID_MAX ? -1 : 0;
}

/* Ask the shard of stored id `sid`: body (taken over) gets channel_id = sid
 * and channel_type. */
void
ask_stored(struct wk_proc *p, struct api_req *r, const char *sid, json_int_t type,
    const char *op, json_t *body)
{
	json_object_set_new(body, "channel_id", json_string(sid));
	json_object_set_new(body, "channel_type", json_integer(type));
	ask_owner(p, r, WK_ROLE_CHANNEL, sid, op, body);
}

/* The offset Go's base64 decoder reports for s, or -1 if s is valid
 * (standard alphabet, padded). */
static long
b64_bad_at(const char *s)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i = strspn(s, alpha), pad = 0;

	while (i + pad < n && s[i + pad] == '=')
		pad++;
	if (i + pad < n)
		return (long)(i + pad);              /* a byte outside the alphabet */
	if (n % 4 != 0 || pad > 2 || (pad > 0 && (i + pad) % 4 != 0))
		return (long)(n - n % 4);
	return -1;
}

/* A payload member ([]byte: base64 text); "" when absent or null.  -1
 * after answering 400 as Go does. */
static int
in_payload(struct in *in, const char **out)
{
	char msg[96];
	long at;

	if (in_get(in, "payload") != NULL && !json_is_string(in_get(in, "payload")) &&
	    !json_is_null(in_get(in, "payload")))
		return bad_type(in->r, in_get(in, "payload"), in->type, "payload", "[]uint8");
	if (in_str(in, "payload", out) < 0)
		return -1;
	if ((at = b64_bad_at(*out)) < 0)
		return 0;
	snprintf(msg, sizeof msg, "illegal base64 data at input byte %ld", at);
	api_answer_error(in->r, 400, msg);
	return -1;
}

/* The header object's flags as WKProto header bits; -1 after 400. */
static int
in_header(struct in *in, uint8_t *flags)
{
	static const struct { const char *key; uint8_t bit; } bits[] = {
		{ "no_persist", WKPROTO_FLAG_NOPERSIST }, { "red_dot", WKPROTO_FLAG_REDDOT },
		{ "sync_once", WKPROTO_FLAG_SYNCONCE },
	};
	char type[64];
	struct in h = { in->r, in_get(in, "header"), type };
	json_int_t v;

	*flags = 0;
	if (h.o == NULL || json_is_null(h.o))
		return 0;
	if (!json_is_object(h.o))
		return bad_type(in->r, h.o, in->type, "header", "types.MessageHeader");
	snprintf(type, sizeof type, "%s.header", in->type);
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (in_int(&h, bits[i].key, "int", GO_INT_MIN, GO_INT_MAX, &v) < 0)
			return -1;
		if (v == 1)
			*flags |= bits[i].bit;
	}
	return 0;
}

/* A fresh client_msg_no as the reference makes them: 32 hex digits, "0". */
static void
new_client_msg_no(char out[34])
{
	unsigned char rnd[16];

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		wk_fatalx("RAND_bytes failed");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	snprintf(out + 32, 2, "0");
}

#define ONLINE_CMD_CHANNEL "systemcmdonline"
#define CMD_SUFFIX "____cmd"

/* The temporary channel of a subscribers send (semantics.md §11): the
 * online cmd channel when not stored, else the decimal FNV-1a 64 of the
 * uids joined by ",", as a cmd channel. */
static void
temp_channel(json_t *subs, int persist, char *out, size_t cap)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *u;
	size_t i;
	json_t *v;

	if (!persist) {
		snprintf(out, cap, "%s", ONLINE_CMD_CHANNEL);
		return;
	}
	json_array_foreach(subs, i, v) {
		if (i) {
			h ^= ',';
			h *= 1099511628211ULL;
		}
		for (u = (const unsigned char *)json_string_value(v); *u; u++) {
			h ^= *u;
			h *= 1099511628211ULL;
		}
	}
	snprintf(out, cap, "%llu%s", (unsigned long long)h, CMD_SUFFIX);
}

/* POST /message/send.  Unlike the reference, answered after the commit,
 * with message_seq, and a refusal with its reason (wk-api(8)).  With
 * subscribers (sync_once, no channel_id): to exactly those uids through a
 * temporary channel (type 8), with a fresh client_msg_no, as the reference. */
void
route_message_send(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "messageSendReq" };
	const char *cmn, *from, *id, *payload;
	json_int_t type, expire, stream;
	char gen[34], sid[STORED_ID_MAX];
	json_t *subs;
	uint8_t flags;

	if ((in.o = body_json(r, JSON_OBJECT, "api.messageSendReq")) == NULL)
		return;
	if (in_header(&in, &flags) < 0 || in_str(&in, "client_msg_no", &cmn) < 0 ||
	    in_str(&in, "from_uid", &from) < 0 || in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_int(&in, "expire", "uint32", 0, UINT32_MAX, &expire) < 0 ||
	    in_strs(&in, "subscribers", &subs) < 0 || in_payload(&in, &payload) < 0 ||
	    in_int(&in, "is_stream", "int", GO_INT_MIN, GO_INT_MAX, &stream) < 0)
		goto out;
	if (is_blank(from))
		from = WK_SYSTEM_UID;
	if (is_blank(cmn) || json_array_size(subs) > 0) {
		new_client_msg_no(gen);
		cmn = gen;
	}
	if (*payload == '\0')
		api_answer_error(r, 400, "payload不能为空！");
	else if (json_array_size(subs) > 0 && (!(flags & WKPROTO_FLAG_SYNCONCE) || !is_blank(id)))
		api_answer_error(r, 400, SEND_REFUSED);
	else if (json_array_size(subs) > 0) {
		size_t i;
		json_t *v;
		json_array_foreach(subs, i, v)
			if (check_len(r, "subscriber", json_string_value(v)) < 0)
				goto out;
		temp_channel(subs, !(flags & WKPROTO_FLAG_NOPERSIST), sid, sizeof sid);
		if (check_len(r, "from_uid", from) == 0)
			ask_stored(p, r, sid, WKPROTO_CHANNEL_TEMP, "message.send",
			    json_pack("{s:s,s:s,s:i,s:I,s:i,s:s,s:O}", "from_uid", from,
			    "client_msg_no", cmn, "flags", flags, "expire", expire, "setting", 0,
			    "payload", payload, "subscribers", subs));
	} else if (is_blank(id))
		api_answer_error(r, 400, SEND_REFUSED);
	else if (has_special(id))
		api_answer_error(r, 400, BAD_CHANNEL_ID);
	else if (check_len(r, "from_uid", from) == 0 && check_len(r, "client_msg_no", cmn) == 0) {
		if (stored_id(from, id, type, sid) < 0)
			api_answer_error(r, 400, BAD_CHANNEL_ID);
		else
			ask_stored(p, r, sid, type, "message.send", json_pack("{s:s,s:s,s:i,s:I,s:i,s:s}",
			    "from_uid", from, "client_msg_no", cmn, "flags", flags, "expire", expire,
			    "setting", stream == 1 ? WKPROTO_SETTING_STREAM : 0, "payload", payload));
	}
out:
	json_decref(in.o);
}

/* POST /message/sendbatch: a person message from from_uid to each uid,
 * grouped into one message.sendbatch per channel shard; every shard
 * answers the same {"fail_uids","reason"} (the uids refused here). */
void
route_message_sendbatch(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "struct { Header types.MessageHeader; FromUID string; "
	    "Subscribers []string; Payload []uint8 }" };
	int n = p->cfg.processes_channel, asked = 0;
	const char *from, *payload, *uid;
	char sid[STORED_ID_MAX], cmn[34];
	json_t *subs, *v, *answer, **parts;
	uint8_t flags;
	size_t i;

	if ((in.o = body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (in_header(&in, &flags) < 0 || in_str(&in, "from_uid", &from) < 0 ||
	    in_strs(&in, "subscribers", &subs) < 0 || in_payload(&in, &payload) < 0)
		goto out;
	if (is_blank(from)) {
		api_answer_error(r, 400, "from_uid不能为空！");
		goto out;
	}
	if (json_array_size(subs) == 0) {
		api_answer_error(r, 400, "subscribers不能为空！");
		goto out;
	}
	if (*payload == '\0') {
		api_answer_error(r, 400, "payload不能为空！");
		goto out;
	}
	if (check_len(r, "from_uid", from) < 0)
		goto out;
	answer = json_pack("{s:[],s:[]}", "fail_uids", "reason");
	parts = wk_calloc((size_t)n, sizeof *parts);
	json_array_foreach(subs, i, v) {
		uid = json_string_value(v);
		if (has_special(uid) || stored_id(from, uid, 1, sid) < 0) {
			json_array_append(json_object_get(answer, "fail_uids"), v);
			json_array_append_new(json_object_get(answer, "reason"),
			    json_string(BAD_CHANNEL_ID));
			continue;
		}
		int shard = wk_shard_channel(sid, strlen(sid), n);
		if (parts[shard] == NULL)
			parts[shard] = json_pack("{s:s,s:i,s:s,s:[],s:[]}", "from_uid", from,
			    "flags", flags, "payload", payload, "to", "client_msg_nos");
		new_client_msg_no(cmn);
		json_array_append_new(json_object_get(parts[shard], "to"), json_string(sid));
		json_array_append_new(json_object_get(parts[shard], "client_msg_nos"), json_string(cmn));
	}
	for (int s = 0; s < n; s++) {
		if (parts[s] == NULL)
			continue;
		json_object_set(parts[s], "answer", answer);
		if (asked >= 0 && api_ask_role(p, r, WK_ROLE_CHANNEL, s, 0, "message.sendbatch",
		    parts[s], API_GATHER_ALL) == 0)
			asked++;
		else
			asked = -1;                      /* answered 500 */
		json_decref(parts[s]);
	}
	if (asked == 0)
		api_answer_json(r, 200, json_incref(answer));
	json_decref(answer);
	free(parts);
out:
	json_decref(in.o);
}

/* A message read route's key: channel_id, channel_type, login_uid; the
 * person chat's stored id from login_uid unless `raw_ok` and the id is
 * already "a@b".  -1 after answering 400. */
static int
read_key(struct api_req *r, const char *id, json_int_t type, const char *login, int raw_ok,
    char *sid)
{
	if (is_blank(id)) {
		api_answer_error(r, 400, "channel_id不能为空！");
		return -1;
	}
	if (raw_ok && strchr(id, '@'))
		type = 0;                            /* taken as it is */
	else if (type == 1 && is_blank(login)) {
		api_answer_error(r, 400, "login_uid不能为空！");
		return -1;
	}
	if (check_len(r, "login_uid", login) < 0 || check_len(r, "channel_id", id) < 0)
		return -1;
	if (stored_id(login, id, type, sid) < 0) {
		api_answer_error(r, 400, BAD_CHANNEL_ID);
		return -1;
	}
	return 0;
}

/* POST /channel/messagesync (http-api.md §2.20). */
void
route_channel_messagesync(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "" };
	const char *login, *id;
	json_int_t type, start, end, limit, mode;
	char sid[STORED_ID_MAX];

	if ((in.o = body_json(r, JSON_OBJECT, "struct { LoginUID string; ChannelID string; "
	    "ChannelType uint8; StartMessageSeq uint64; EndMessageSeq uint64; Limit int; "
	    "PullMode api.PullMode }")) == NULL)
		return;
	if (in_str(&in, "login_uid", &login) < 0 || in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_int(&in, "start_message_seq", "uint64", 0, GO_INT_MAX, &start) < 0 ||
	    in_int(&in, "end_message_seq", "uint64", 0, GO_INT_MAX, &end) < 0 ||
	    in_int(&in, "limit", "int", GO_INT_MIN, GO_INT_MAX, &limit) < 0 ||
	    in_int(&in, "pull_mode", "api.PullMode", GO_INT_MIN, GO_INT_MAX, &mode) < 0)
		goto out;
	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (is_blank(login))
		api_answer_error(r, 400, "login_uid不能为空！");
	else if (read_key(r, id, type, login, 0, sid) == 0)
		ask_stored(p, r, sid, type, "message.sync", json_pack("{s:I,s:I,s:I,s:I}",
		    "start_message_seq", start, "end_message_seq", end, "limit", limit,
		    "pull_mode", mode));
out:
	json_decref(in.o);
}

/* An array member whose elements are integers in [min, max]; -1 if not. */
static int
ints_in(json_t *a, json_int_t min, json_int_t max)
{
	size_t i;
	json_t *v;

	if (a != NULL && !json_is_array(a) && !json_is_null(a))
		return -1;
	json_array_foreach(a, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
			return -1;
	return 0;
}

/* POST /messages: by seqs, ids and client_msg_nos.  Any decoding error is
 * the one message, as the reference answers. */
void
route_messages(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "" };
	const char *login, *id;
	json_int_t type;
	json_t *cmns;
	char sid[STORED_ID_MAX];

	if ((in.o = body_json(r, JSON_OBJECT, "")) == NULL ||
	    in_str(&in, "login_uid", &login) < 0 || in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_strs(&in, "client_msg_nos", &cmns) < 0 ||
	    ints_in(in_get(&in, "message_seqs"), 0, UINT32_MAX) < 0 ||
	    ints_in(in_get(&in, "message_ids"), GO_INT_MIN, GO_INT_MAX) < 0) {
		api_answer_error(r, 400, BAD_DATA);
		goto out;
	}
	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (read_key(r, id, type, login, 0, sid) == 0) {
		json_t *b = json_object(), *v;
		if ((v = in_get(&in, "message_seqs")) && json_is_array(v))
			json_object_set(b, "message_seqs", v);
		if ((v = in_get(&in, "message_ids")) && json_is_array(v))
			json_object_set(b, "message_ids", v);
		if (cmns)
			json_object_set(b, "client_msg_nos", cmns);
		ask_stored(p, r, sid, type, "message.search", b);
	}
out:
	json_decref(in.o);
}

/* POST /message: one message by message_id or client_msg_no. */
void
route_message(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "" };
	const char *login, *id, *cmn;
	json_int_t type, mid;
	char sid[STORED_ID_MAX];

	if ((in.o = body_json(r, JSON_OBJECT, "")) == NULL ||
	    in_str(&in, "login_uid", &login) < 0 || in_str(&in, "channel_id", &id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    in_int(&in, "message_id", "int64", GO_INT_MIN, GO_INT_MAX, &mid) < 0 ||
	    in_str(&in, "client_msg_no", &cmn) < 0) {
		api_answer_error(r, 400, BAD_DATA);
		goto out;
	}
	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (type == 0)
		api_answer_error(r, 400, "channel_type不能为0");
	else if (read_key(r, id, type, login, 0, sid) == 0)
		ask_stored(p, r, sid, type, "message.get", json_pack("{s:I,s:s}", "message_id", mid,
		    "client_msg_no", cmn));
out:
	json_decref(in.o);
}

/* GET /message/byclientmsgno: channel_id is the stored id ("a@b" for a
 * person chat), as the reference expects. */
void
route_message_byclientmsgno(struct wk_proc *p, struct api_req *r)
{
	const char *id = query_str(r, "channel_id"), *cmn = query_str(r, "client_msg_no");

	if (is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空！");
	else if (check_len(r, "channel_id", id) == 0 && check_len(r, "client_msg_no", cmn) == 0)
		ask_stored(p, r, id, query_type(r), "message.get", json_pack("{s:s}",
		    "client_msg_no", cmn));
}

/* GET /channel/max_message_seq and /channel/last_message: a person chat
 * by its stored id ("a@b") or by peer uid and login_uid. */
static void
channel_query(struct wk_proc *p, struct api_req *r, const char *op)
{
	json_int_t type = query_type(r);
	char sid[STORED_ID_MAX];

	if (read_key(r, query_str(r, "channel_id"), type, query_str(r, "login_uid"), 1, sid) == 0)
		ask_stored(p, r, sid, type, op, json_object());
}

void
route_max_message_seq(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, "message.max_seq");
}

void
route_last_message(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, "message.last");
}
