/* api_message.c - the message routes (wk-api(8)): /message/send and
 * sendbatch, /messages, /message, byclientmsgno, /channel/messagesync,
 * max_message_seq, last_message.  Each goes to the stored channel's shard
 * as a CHANNEL_MSG_* op row, and its answer (binary facts: message records,
 * seqs, the send's reason) becomes the reference's JSON here: a person
 * chat is stored under "a@b", made here from the two uids (semantics.md
 * §2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api.h"
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_json.h"
#include "wk_channelid.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"

#define SEND_REFUSED "无法处理发送消息请求！"
#define BAD_CHANNEL_ID "频道ID不合法！"
#define NO_TYPE "channel_type不能为0"   /* the reference's words in /message/byclientmsgno */

/* The stored id of (id, type) as seen by uid: a person chat's "a@b", else
 * id.  -1 if it is longer than wk-channel stores. */
int
api_stored_id(const char *uid, const char *id, json_int_t type, char *out)
{
	ssize_t n;

	if (type != 1) {
		snprintf(out, API_STORED_ID_MAX, "%s", id);
		n = (ssize_t)strlen(id);
	} else
		n = wk_channelid_person(uid, strlen(uid), id, strlen(id), out, API_STORED_ID_MAX);
	return n < 0 || n > API_CHANNEL_ID_MAX ? -1 : 0;
}

/* The stored id of the channel a message from `from` to (id, type) goes to:
 * an agent channel's "from@agent", as a client SEND makes it (semantics.md
 * §5.1), else api_stored_id's.  -1 if it is too long. */
int
api_send_id(const char *from, const char *id, json_int_t type, char *out)
{
	int n;

	if (type != WKPROTO_CHANNEL_AGENT)
		return api_stored_id(from, id, type, out);
	n = snprintf(out, API_STORED_ID_MAX, "%s@%s", from, id);
	return n < 0 || n > API_CHANNEL_ID_MAX ? -1 : 0;
}

/* Send op row `type` (payload w, freed) to the shard of stored id sid. */
static void
ask_stored(struct wk_proc *p, struct api_req *r, const char *sid, int type, struct wk_wbuf *w,
    api_then_fn *then)
{
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, sid, type, w, then);
	wk_wbuf_free(w);
}

/* A new payload starting with the key (sid, type). */
static void
key_row(struct wk_wbuf *w, const char *sid, json_int_t type)
{
	wk_wbuf_init(w);
	api_put_key(w, sid, type);
}

/* A base64 payload wk-api checked (b64_bad_at) as the bytes it stands for. */
void
api_put_payload(struct wk_wbuf *w, const char *b64)
{
	size_t n = strlen(b64);
	uint8_t *buf = wk_malloc(WK_B64_DECODED_MAX(n) + 1);
	ssize_t len = wk_b64_decode(b64, n, buf, WK_B64_DECODED_MAX(n) + 1);

	wk_put_blob(w, buf, len < 0 ? 0 : (size_t)len);
	free(buf);
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
int
api_in_payload(struct api_in *in, const char **out)
{
	char msg[96];
	long at;

	if (api_in_get(in, "payload") != NULL && !json_is_string(api_in_get(in, "payload")) &&
	    !json_is_null(api_in_get(in, "payload")))
		return api_bad_type(in->r, api_in_get(in, "payload"), in->type, "payload", "[]uint8");
	if (api_in_str(in, "payload", out) < 0)
		return -1;
	if ((at = b64_bad_at(*out)) < 0)
		return 0;
	snprintf(msg, sizeof msg, "illegal base64 data at input byte %ld", at);
	api_answer_error(in->r, 400, msg);
	return -1;
}

/* The header object's flags as WKProto header bits; -1 after 400. */
static int
in_header(struct api_in *in, uint8_t *flags)
{
	static const struct { const char *key; uint8_t bit; } bits[] = {
		{ "no_persist", WKPROTO_FLAG_NOPERSIST }, { "red_dot", WKPROTO_FLAG_REDDOT },
		{ "sync_once", WKPROTO_FLAG_SYNCONCE },
	};
	char type[64];
	struct api_in h = { in->r, api_in_get(in, "header"), type };
	json_int_t v;

	*flags = 0;
	if (h.o == NULL || json_is_null(h.o))
		return 0;
	if (!json_is_object(h.o))
		return api_bad_type(in->r, h.o, in->type, "header", "types.MessageHeader");
	snprintf(type, sizeof type, "%s.header", in->type);
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (api_in_int(&h, bits[i].key, "int", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0)
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

/* The client_msg_no of a send whose body names none: from its
 * Idempotency-Key header when it has one, so that a retry of the same
 * request (same key, sender and channel) is stored once: 32 hex digits of
 * SHA-256 over the key, then "k" (never what new_client_msg_no makes).
 * Without the header a fresh random one, returned in the answer for the
 * client to retry with.  Never derived from the content and the time: two
 * identical messages sent on purpose are two messages (wk-api(8)). */
static void
send_client_msg_no(struct api_req *r, char out[34])
{
	const char *key = api_header(r, "Idempotency-Key");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (key == NULL || api_is_blank(key)) {
		new_client_msg_no(out);
		return;
	}
	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16)
		wk_fatalx("EVP_Digest sha256 failed");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	snprintf(out + 32, 2, "k");
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

/* CHANNEL_MSG_SEND answered (after the commit, or refused): the
 * reference's answer, with message_seq, and a refusal's reason as the
 * body's "status" (as the reference's {"status":19}). */
static void
send_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	uint8_t reason;
	int64_t mid;
	uint32_t seq;
	char idstr[32];

	(void)p;
	api_op_read(r, 0, &rb);
	reason = wk_get_u8(&rb);
	mid = (int64_t)wk_get_u64(&rb);
	seq = wk_get_u32(&rb);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	snprintf(idstr, sizeof idstr, "%lld", (long long)mid);
	api_answer_json(r, 200, json_pack("{s:i,s:{s:I,s:s,s:I,s:O,s:i}}", "status",
	    reason == WKPROTO_REASON_SUCCESS ? 200 : reason, "data", "message_id", (json_int_t)mid,
	    "message_idstr", idstr, "message_seq", (json_int_t)seq, "client_msg_no",
	    json_object_get(r->ctx, "client_msg_no"), "reason_code", reason));
}

/* Ask CHANNEL_MSG_SEND of the shard of stored id sid. */
static void
ask_send(struct wk_proc *p, struct api_req *r, const char *sid, json_int_t type, const char *from,
    const char *cmn, uint8_t flags, json_int_t expire, uint8_t setting, const char *payload,
    json_t *subs)
{
	struct wk_wbuf w;

	key_row(&w, sid, type);
	wk_put_str(&w, from);
	wk_put_str(&w, cmn);
	wk_put_u8(&w, flags);
	wk_put_u32(&w, (uint32_t)expire);
	wk_put_u8(&w, setting);
	api_put_payload(&w, payload);
	api_put_strs(&w, subs);
	api_ctx_keep(r, json_pack("{s:s}", "client_msg_no", cmn));
	/* Stored: asked twice, it is stored once (its client_msg_no). */
	r->resendable = !(flags & WKPROTO_FLAG_NOPERSIST);
	ask_stored(p, r, sid, WK_MSG_CHANNEL_MSG_SEND, &w, send_then);
}

/* POST /message/send.  Unlike the reference, answered after the commit,
 * with message_seq, and a refusal with its reason (wk-api(8)).  With
 * subscribers (sync_once, no channel_id): to exactly those uids through a
 * temporary channel (type 8), with a fresh client_msg_no, as the reference. */
void
api_route_message_send(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "messageSendReq" };
	const char *cmn, *from, *id, *payload;
	json_int_t type, expire, stream;
	char gen[34], sid[API_STORED_ID_MAX];
	json_t *subs;
	uint8_t flags;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.messageSendReq")) == NULL)
		return;
	if (in_header(&in, &flags) < 0 || api_in_str(&in, "client_msg_no", &cmn) < 0 ||
	    api_in_str(&in, "from_uid", &from) < 0 || api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_int(&in, "expire", "uint32", 0, UINT32_MAX, &expire) < 0 ||
	    api_in_strs(&in, "subscribers", &subs) < 0 || api_in_payload(&in, &payload) < 0 ||
	    api_in_int(&in, "is_stream", "int", API_GO_INT_MIN, API_GO_INT_MAX, &stream) < 0)
		goto out;
	if (api_is_blank(from))
		from = WK_SYSTEM_UID;
	if (json_array_size(subs) > 0) {
		new_client_msg_no(gen);
		cmn = gen;
	} else if (api_is_blank(cmn)) {
		send_client_msg_no(r, gen);
		cmn = gen;
	}
	if (*payload == '\0')
		api_answer_error(r, 400, "payload不能为空！");
	else if (json_array_size(subs) > 0 && (!(flags & WKPROTO_FLAG_SYNCONCE) || !api_is_blank(id)))
		api_answer_error(r, 400, SEND_REFUSED);
	else if (json_array_size(subs) > 0) {
		size_t i;
		json_t *v;
		json_array_foreach(subs, i, v)
			if (api_check_len(r, "subscriber", json_string_value(v)) < 0)
				goto out;
		temp_channel(subs, !(flags & WKPROTO_FLAG_NOPERSIST), sid, sizeof sid);
		if (api_check_len(r, "from_uid", from) == 0)
			ask_send(p, r, sid, WKPROTO_CHANNEL_TEMP, from, cmn, flags, expire, 0, payload,
			    subs);
	} else if (api_is_blank(id))
		api_answer_error(r, 400, SEND_REFUSED);
	else if (api_has_special(id))
		api_answer_error(r, 400, BAD_CHANNEL_ID);
	else if (api_check_len(r, "from_uid", from) == 0 && api_check_len(r, "client_msg_no", cmn) == 0) {
		if (api_send_id(from, id, type, sid) < 0)
			api_answer_error(r, 400, BAD_CHANNEL_ID);
		else
			ask_send(p, r, sid, type, from, cmn, flags, expire,
			    stream == 1 ? WKPROTO_SETTING_STREAM : 0, payload, NULL);
	}
out:
	json_decref(in.o);
}

static void
sendbatch_then(struct wk_proc *p, struct api_req *r)
{
	(void)p;
	api_answer_json(r, 200, json_incref(r->ctx));
}

/* POST /message/sendbatch: a person message from from_uid to each uid,
 * grouped into one CHANNEL_MSG_SENDBATCH per channel shard; answered
 * {"fail_uids","reason"} (the uids refused here) once every shard has
 * its messages durable. */
void
api_route_message_sendbatch(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "struct { Header types.MessageHeader; FromUID string; "
	    "Subscribers []string; Payload []uint8 }" };
	int n = p->cfg.processes_channel, asked = 0;
	const char *from, *payload, *uid;
	char sid[API_STORED_ID_MAX], cmn[34];
	json_t *subs, *v, *answer;
	struct wk_wbuf *per;
	uint32_t *count;
	uint8_t flags;
	size_t i;

	if ((in.o = api_body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (in_header(&in, &flags) < 0 || api_in_str(&in, "from_uid", &from) < 0 ||
	    api_in_strs(&in, "subscribers", &subs) < 0 || api_in_payload(&in, &payload) < 0)
		goto out;
	if (api_is_blank(from)) {
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
	if (api_check_len(r, "from_uid", from) < 0)
		goto out;
	answer = json_pack("{s:[],s:[]}", "fail_uids", "reason");
	per = wk_calloc((size_t)n, sizeof *per);
	count = wk_calloc((size_t)n, sizeof *count);
	json_array_foreach(subs, i, v) {
		uid = json_string_value(v);
		if (api_has_special(uid) || api_stored_id(from, uid, 1, sid) < 0) {
			json_array_append(json_object_get(answer, "fail_uids"), v);
			json_array_append_new(json_object_get(answer, "reason"),
			    json_string(BAD_CHANNEL_ID));
			continue;
		}
		int shard = wk_shard_channel(sid, strlen(sid), n);
		new_client_msg_no(cmn);
		wk_put_str(&per[shard], sid);
		wk_put_str(&per[shard], cmn);
		count[shard]++;
	}
	/* Every shard answers once its messages are durable; the answer is
	 * the uids refused here. */
	api_ctx_keep(r, answer);
	for (int s = 0; s < n; s++) {
		struct wk_wbuf w;
		if (count[s] == 0)
			continue;
		wk_wbuf_init(&w);
		wk_put_str(&w, from);
		wk_put_u8(&w, flags);
		api_put_payload(&w, payload);
		wk_put_u32(&w, count[s]);
		wk_put_mem(&w, per[s].p, per[s].len);
		if (asked >= 0 && api_ask_op(p, r, WK_ROLE_CHANNEL, s, WK_MSG_CHANNEL_MSG_SENDBATCH, &w,
		    sendbatch_then) == 0)
			asked++;
		else
			asked = -1;                      /* answered 500 */
		wk_wbuf_free(&w);
	}
	if (asked == 0)
		api_answer_json(r, 200, json_incref(answer));
	for (int s = 0; s < n; s++)
		wk_wbuf_free(&per[s]);
	free(per);
	free(count);
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
	if (api_is_blank(id)) {
		api_answer_error(r, 400, "channel_id不能为空！");
		return -1;
	}
	if (raw_ok && strchr(id, '@'))
		type = 0;                            /* taken as it is */
	else if (type == 1 && api_is_blank(login)) {
		api_answer_error(r, 400, "login_uid不能为空！");
		return -1;
	}
	if (api_check_len(r, "login_uid", login) < 0 || api_check_len(r, "channel_id", id) < 0)
		return -1;
	if (api_stored_id(login, id, type, sid) < 0) {
		api_answer_error(r, 400, BAD_CHANNEL_ID);
		return -1;
	}
	return 0;
}

/* event_summary_mode "basic": the events of each stream message's
 * event_meta without their snapshots (the reference's summary; stream_data
 * stays). */
static void
drop_snapshots(json_t *msgs)
{
	json_t *m, *e;
	size_t i, j;

	json_array_foreach(msgs, i, m)
		json_array_foreach(json_object_get(json_object_get(m, "event_meta"), "events"), j, e)
			json_object_del(e, "snapshot");
}

/* event_summary_mode as the reference reads it: trimmed, any case. */
static int
is_basic(const char *s)
{
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	return n == 5 && strncasecmp(s, "basic", 5) == 0;
}

/* A sync's answer: the request's bounds (r->ctx, none for a search),
 * more, the messages; for a sync (sync 1) then where the channel's history
 * starts, when retention cut it: history_start_seq (wk-api(8)); and with
 * event_summary_mode basic, no snapshots. */
static void
msgs_answer(struct api_req *r, json_int_t start, json_int_t end, int more, struct wk_rbuf *rb,
    int sync)
{
	json_t *msgs = api_msgs_get(rb), *o;
	uint32_t first = sync ? wk_get_u32(rb) : 0;

	if (msgs == NULL || wk_rbuf_done(rb) < 0)
		api_op_malformed(r, 0);
	if (sync && json_is_true(json_object_get(r->ctx, "basic")))
		drop_snapshots(msgs);
	o = json_pack("{s:I,s:I,s:i,s:o}", "start_message_seq", start, "end_message_seq", end,
	    "more", more, "messages", msgs);
	if (first > 0)
		json_object_set_new(o, "history_start_seq", json_integer(first));
	api_answer_json(r, 200, o);
}

static void
sync_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	int more;

	(void)p;
	api_op_read(r, 0, &rb);
	more = wk_get_u8(&rb);
	msgs_answer(r, wk_jint(r->ctx, "start_message_seq"), wk_jint(r->ctx, "end_message_seq"),
	    more, &rb, 1);
}

static void
search_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;

	(void)p;
	api_op_read(r, 0, &rb);
	msgs_answer(r, 0, 0, 0, &rb, 0);
}

/* POST /channel/messagesync (http-api.md §2.20). */
void
api_route_channel_messagesync(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "" };
	const char *login, *id, *summary;
	json_int_t type, start, end, limit, mode;
	char sid[API_STORED_ID_MAX];

	if ((in.o = api_body_json(r, JSON_OBJECT, "struct { LoginUID string; ChannelID string; "
	    "ChannelType uint8; StartMessageSeq uint64; EndMessageSeq uint64; Limit int; "
	    "PullMode api.PullMode; EventSummaryMode string }")) == NULL)
		return;
	if (api_in_str(&in, "event_summary_mode", &summary) < 0)
		goto out;

	if (api_in_str(&in, "login_uid", &login) < 0 || api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_int(&in, "start_message_seq", "uint64", 0, API_GO_INT_MAX, &start) < 0 ||
	    api_in_int(&in, "end_message_seq", "uint64", 0, API_GO_INT_MAX, &end) < 0 ||
	    api_in_int(&in, "limit", "int", API_GO_INT_MIN, API_GO_INT_MAX, &limit) < 0 ||
	    api_in_int(&in, "pull_mode", "api.PullMode", API_GO_INT_MIN, API_GO_INT_MAX, &mode) < 0)
		goto out;
	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (api_is_blank(login))
		api_answer_error(r, 400, "login_uid不能为空！");
	else if (read_key(r, id, type, login, 0, sid) == 0) {
		struct wk_wbuf w;
		key_row(&w, sid, type);
		wk_put_u64(&w, (uint64_t)start);
		wk_put_u64(&w, (uint64_t)end);
		wk_put_u64(&w, (uint64_t)limit);
		wk_put_u8(&w, mode == 0 ? 0 : mode == 1 ? 1 : 2);
		api_ctx_keep(r, json_pack("{s:I,s:I,s:b}", "start_message_seq", start,
		    "end_message_seq", end, "basic", is_basic(summary)));
		ask_stored(p, r, sid, WK_MSG_CHANNEL_MSG_SYNC, &w, sync_then);
	}
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
api_route_messages(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "" };
	const char *login, *id;
	json_int_t type;
	json_t *cmns;
	char sid[API_STORED_ID_MAX];

	if ((in.o = api_body_json(r, JSON_OBJECT, "")) == NULL ||
	    api_in_str(&in, "login_uid", &login) < 0 || api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_strs(&in, "client_msg_nos", &cmns) < 0 ||
	    ints_in(api_in_get(&in, "message_seqs"), 0, UINT32_MAX) < 0 ||
	    ints_in(api_in_get(&in, "message_ids"), API_GO_INT_MIN, API_GO_INT_MAX) < 0) {
		api_answer_error(r, 400, API_BAD_DATA);
		goto out;
	}
	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (type == 0)   /* the reference searches a channel that cannot exist */
		api_answer_error(r, 400, NO_TYPE);
	else if (read_key(r, id, type, login, 0, sid) == 0) {
		json_t *seqs = api_in_get(&in, "message_seqs"), *ids = api_in_get(&in, "message_ids"), *v;
		struct wk_wbuf w;
		size_t i;
		key_row(&w, sid, type);
		wk_put_u32(&w, (uint32_t)json_array_size(seqs));
		json_array_foreach(seqs, i, v)
			wk_put_u32(&w, (uint32_t)json_integer_value(v));
		wk_put_u32(&w, (uint32_t)json_array_size(ids));
		json_array_foreach(ids, i, v)
			wk_put_u64(&w, (uint64_t)json_integer_value(v));
		api_put_strs(&w, cmns);
		ask_stored(p, r, sid, WK_MSG_CHANNEL_MSG_SEARCH, &w, search_then);
	}
out:
	json_decref(in.o);
}

/* CHANNEL_MSG_GET or _LAST answered: the message, or {"status":404}. */
static void
one_then(struct wk_proc *p, struct api_req *r)
{
	struct wk_rbuf rb;
	json_t *o = NULL;

	(void)p;
	api_op_read(r, 0, &rb);
	if (wk_get_u8(&rb) == 1 && (o = api_msg_get(&rb)) == NULL)
		api_op_malformed(r, 0);
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, o ? o : json_pack("{s:i}", "status", 404));
}

/* Ask CHANNEL_MSG_GET of the shard of stored id sid. */
static void
ask_get(struct wk_proc *p, struct api_req *r, const char *sid, json_int_t type, json_int_t mid,
    const char *cmn)
{
	struct wk_wbuf w;

	key_row(&w, sid, type);
	wk_put_u64(&w, (uint64_t)mid);
	wk_put_str(&w, cmn);
	ask_stored(p, r, sid, WK_MSG_CHANNEL_MSG_GET, &w, one_then);
}

/* POST /message: one message by message_id or client_msg_no. */
void
api_route_message(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "" };
	const char *login, *id, *cmn;
	json_int_t type, mid;
	char sid[API_STORED_ID_MAX];

	if ((in.o = api_body_json(r, JSON_OBJECT, "")) == NULL ||
	    api_in_str(&in, "login_uid", &login) < 0 || api_in_str(&in, "channel_id", &id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &type) < 0 ||
	    api_in_int(&in, "message_id", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &mid) < 0 ||
	    api_in_str(&in, "client_msg_no", &cmn) < 0) {
		api_answer_error(r, 400, API_BAD_DATA);
		goto out;
	}
	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空！");
	else if (type == 0)
		api_answer_error(r, 400, "channel_type不能为0");
	else if (read_key(r, id, type, login, 0, sid) == 0)
		ask_get(p, r, sid, type, mid, cmn);
out:
	json_decref(in.o);
}

/* GET /message/byclientmsgno: channel_id is the stored id ("a@b" for a
 * person chat), as the reference expects. */
void
api_route_message_byclientmsgno(struct wk_proc *p, struct api_req *r)
{
	const char *id = api_query_str(r, "channel_id"), *cmn = api_query_str(r, "client_msg_no");

	if (api_is_blank(id))
		api_answer_error(r, 400, "channel_id不能为空");
	else if (api_query_type(r) == 0)
		api_answer_error(r, 400, NO_TYPE);
	else if (api_is_blank(cmn))
		api_answer_error(r, 400, "client_msg_no不能为空");
	else if (api_check_len(r, "channel_id", id) == 0 && api_check_len(r, "client_msg_no", cmn) == 0)
		ask_get(p, r, id, api_query_type(r), 0, cmn);
}

/* CHANNEL_MSG_MAX_SEQ answered. */
static void
max_seq_then(struct wk_proc *p, struct api_req *r)
{
	(void)p;
	api_answer_json(r, 200, json_pack("{s:I}", "message_seq", (json_int_t)api_op_u32(r, 0)));
}

/* GET /channel/max_message_seq and /channel/last_message: a person chat
 * by its stored id ("a@b") or by peer uid and login_uid. */
static void
channel_query(struct wk_proc *p, struct api_req *r, int op, api_then_fn *then)
{
	json_int_t type = api_query_type(r);
	char sid[API_STORED_ID_MAX];
	struct wk_wbuf w;

	if (read_key(r, api_query_str(r, "channel_id"), type, api_query_str(r, "login_uid"), 1, sid) == 0) {
		key_row(&w, sid, type);
		ask_stored(p, r, sid, op, &w, then);
	}
}

void
api_route_max_message_seq(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, WK_MSG_CHANNEL_MSG_MAX_SEQ, max_seq_then);
}

void
api_route_last_message(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, WK_MSG_CHANNEL_MSG_LAST, one_then);
}
