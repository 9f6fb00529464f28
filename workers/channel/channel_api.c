/* channel_api.c - a channel shard's HTTP API operations (wk-channel(8)).
 *
 * API_REQ from wk-api: frame 1 the op, frame 2 a JSON object that wk-api
 * has already validated (api_routes.c).  Every op works in the iteration's
 * transaction, and its API_REP ([HTTP status, JSON body] in the reference's
 * shape) is queued with channel_after_commit: it leaves only once the
 * commit succeeded (durable as storage.sync says), and becomes 500 if the
 * commit failed.  Lists are "subscribers", "blacklist" or "whitelist".
 *   channel.upsert      {channel_id, channel_type, <flags>, list, uids, reset}  OK
 *   channel.info        {channel_id, channel_type, <flags>}               OK
 *   channel.delete      {channel_id, channel_type}                        OK
 *   channel.list_add    {channel_id, channel_type, list, uids, reset}     OK
 *   channel.list_set    {channel_id, channel_type, list, uids}            OK
 *   channel.list_remove {channel_id, channel_type, list, uids}            OK
 *   channel.list_clear  {channel_id, channel_type, list}                  OK
 *   channel.list_get    {channel_id, channel_type, list}   [{id, uid, created_at, updated_at}]
 *   channel.get         {channel_id, channel_type}   the record as JSON, or 404
 *                       (for tools and tests: no HTTP route asks it)
 * <flags> are ban, disband, send_ban, large, allow_stranger (1 sets; all
 * are overwritten, as the reference does).  channel.delete disbands the
 * channel and removes its members, lists and messages.
 *
 * The message ops take the stored channel id (a person chat's "a@b"; wk-api
 * converts) and answer MessageResp objects (http-api.md §2):
 *   message.send     {channel_id, channel_type, from_uid, client_msg_no, flags,
 *                    expire, setting, payload (base64), [subscribers: the
 *                    only recipients]}   after the commit:
 *                    {"status":200,"data":{message_id, message_idstr,
 *                    message_seq, client_msg_no, reason_code:1}}; refused:
 *                    the same with "status" and "reason_code" the reason
 *   message.sendbatch {from_uid, flags, payload, to:[stored ids], answer}
 *                    one person message per id; answers `answer`
 *   message.sync     {channel_id, channel_type, start_message_seq,
 *                    end_message_seq, limit, pull_mode}
 *                    {start_message_seq, end_message_seq, more, messages}
 *   message.search   {channel_id, channel_type, message_seqs, message_ids,
 *                    client_msg_nos}   the same shape, start/end/more 0
 *   message.get      {channel_id, channel_type, message_id, client_msg_no}
 *                    a MessageResp, or {"status":404}
 *   message.last     {channel_id, channel_type}   the same
 *   message.max_seq  {channel_id, channel_type}   {"message_seq":n}
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "wk_json.h"
#include "channel.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_chmsg.h"
#include "wk_crypto.h"
#include "wk_log.h"
#include "wk_msgresp.h"

static void
reply_error(struct channel_reply *rep, unsigned status, const char *msg)
{
	rep->status = status;
	rep->body = wk_json_error(msg, (int)status);
}

static void
reply_ok(struct channel_reply *rep)
{
	rep->status = 200;
	rep->body = json_pack("{s:i}", "status", 200);
}

/* A store call failed: the transaction must not commit half an operation. */
static void
reply_storage_error(struct wk_proc *p, struct channel_reply *rep)
{
	channel_txn_fail(p);
	reply_error(rep, 500, "storage error");
}

static uint8_t
jtype(json_t *req)
{
	return (uint8_t)wk_jint(req, "channel_type");
}

/* The list named by the request's "list"; -1 if none. */
static int
jlist(json_t *req, enum channel_list *out)
{
	static const struct { const char *name; enum channel_list list; } lists[] = {
		{ "subscribers", CHANNEL_MEMBERS },
		{ "blacklist", CHANNEL_BLACKLIST },
		{ "whitelist", CHANNEL_WHITELIST },
	};
	const char *name = wk_jstr(req, "list");

	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (strcmp(name, lists[i].name) == 0) {
			*out = lists[i].list;
			return 0;
		}
	return -1;
}

/* Overwrite the channel's flags from the request: 0, -1. */
static int
put_info(struct wk_proc *p, json_t *req)
{
	struct channel_info info;

	memset(&info, 0, sizeof info);
	snprintf(info.id, sizeof info.id, "%s", wk_jstr(req, "channel_id"));
	info.type = jtype(req);
	info.ban = wk_jint(req, "ban") == 1;
	info.disband = wk_jint(req, "disband") == 1;
	info.send_ban = wk_jint(req, "send_ban") == 1;
	info.large = wk_jint(req, "large") == 1;
	info.allow_stranger = wk_jint(req, "allow_stranger") == 1;
	return channel_put(p, &info);
}

/* Add (or remove) every uid of the request's "uids" that is not blank
 * (the reference skips blank subscribers): 0, -1. */
static int
change_list(struct wk_proc *p, json_t *req, enum channel_list list, int add)
{
	const char *id = wk_jstr(req, "channel_id"), *uid;
	uint8_t type = jtype(req);
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(req, "uids"), i, v) {
		uid = json_string_value(v);
		if (uid == NULL || uid[strspn(uid, " \t\r\n")] == '\0')
			continue;
		if ((add ? channel_list_add(p, id, type, list, uid) :
		    channel_list_remove(p, id, type, list, uid)) < 0)
			return -1;
	}
	return 0;
}

static void
op_info(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	if (put_info(p, req) < 0)
		reply_storage_error(p, rep);
	else
		reply_ok(rep);
}

/* channel.delete: nothing to do for a channel that never existed. */
static void
op_delete(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	if (channel_delete(p, wk_jstr(req, "channel_id"), jtype(req)) < 0)
		reply_storage_error(p, rep);
	else
		reply_ok(rep);
}

/* The list ops: add (reset: clear first), set (clear, then add), remove,
 * clear. */
enum list_action { LIST_ADD, LIST_SET, LIST_REMOVE, LIST_CLEAR };

static void
op_list(struct wk_proc *p, json_t *req, struct channel_reply *rep, int action)
{
	const char *id = wk_jstr(req, "channel_id");
	uint8_t type = jtype(req);
	enum channel_list list;
	int clear = action == LIST_SET || action == LIST_CLEAR ||
	    (action == LIST_ADD && wk_jint(req, "reset") == 1);

	if (jlist(req, &list) < 0) {
		reply_error(rep, 400, "unknown list");
		return;
	}
	if ((clear && channel_list_clear(p, id, type, list) < 0) ||
	    (action != LIST_CLEAR &&
	    change_list(p, req, list, action != LIST_REMOVE) < 0))
		reply_storage_error(p, rep);
	else
		reply_ok(rep);
}

/* channel.upsert: the flags, then the subscribers as channel.list_add does. */
static void
op_upsert(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	enum channel_list list;

	if (jlist(req, &list) < 0)
		reply_error(rep, 400, "unknown list");
	else if (put_info(p, req) < 0)
		reply_storage_error(p, rep);
	else
		op_list(p, req, rep, LIST_ADD);
}

/* Go's time.Time in JSON (RFC 3339, fraction without trailing zeros), UTC. */
static json_t *
json_time(uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	unsigned frac = (unsigned)(ms % 1000);
	char buf[64], f[8] = "";
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		snprintf(f, sizeof f, ".%03u", frac);
		while (f[strlen(f) - 1] == '0')
			f[strlen(f) - 1] = '\0';
	}
	snprintf(buf + n, sizeof buf - n, "%sZ", f);
	return json_string(buf);
}

static int
entry_to_json(const struct channel_entry *e, void *arg)
{
	json_array_append_new(arg, json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)e->id,
	    "uid", e->uid, "created_at", json_time(e->created_ms),
	    "updated_at", json_time(e->updated_ms)));
	return 0;
}

/* channel.list_get: the entries in uid order, a bare array. */
static void
op_list_get(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	enum channel_list list;
	json_t *out;

	if (jlist(req, &list) < 0) {
		reply_error(rep, 400, "unknown list");
		return;
	}
	out = json_array();
	if (channel_list_foreach(p, wk_jstr(req, "channel_id"), jtype(req), list, entry_to_json,
	    out) < 0) {
		json_decref(out);
		reply_storage_error(p, rep);
		return;
	}
	rep->status = 200;
	rep->body = out;
}

/* channel.get (tools and tests; no route): the record, or 404. */
static void
op_get(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	struct channel_info info;
	int rc = channel_get(p, wk_jstr(req, "channel_id"), jtype(req), &info);

	if (rc < 0) {
		reply_storage_error(p, rep);
		return;
	}
	if (rc == 0) {
		reply_error(rep, 404, "no such channel");
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I}",
	    "channel_id", info.id, "channel_type", info.type, "ban", info.ban,
	    "disband", info.disband, "send_ban", info.send_ban, "large", info.large,
	    "allow_stranger", info.allow_stranger, "last_seq", (json_int_t)info.last_seq,
	    "members", (json_int_t)info.nmembers, "blacklist", (json_int_t)info.nblacklist,
	    "whitelist", (json_int_t)info.nwhitelist);
}

/* ---- messages ---- */

#define SYNC_LIMIT_MAX 10000     /* the reference caps a sync's limit here */

/* A stored message as the reference's MessageResp (wk_msgresp.h). */
json_t *
channel_msg_json(const char *id, uint8_t type, const struct channel_msg *m)
{
	struct wk_chmsg c = {
		.message_id = m->message_id, .seq = m->seq, .timestamp = m->timestamp,
		.flags = m->flags, .setting = m->setting, .channel_type = type, .expire = m->expire,
		.from_uid = wk_str_n(m->from_uid, m->from_uid_len),
		.channel_id = wk_str_n(id, strlen(id)),
		.client_msg_no = wk_str_n(m->client_msg_no, m->client_msg_no_len),
		.topic = wk_str_n(m->topic, m->topic_len),
		.stream_no = wk_str_n(m->stream_no, m->stream_no_len),
		.payload = { m->payload, m->payload_len },
	};
	json_t *o = wk_msgresp(&c);

	if (m->setting & WKPROTO_SETTING_STREAM)
		channel_stream_json(id, type, m->client_msg_no ? m->client_msg_no : "", o);
	return o;
}

/* Messages collected for an answer. */
struct msgs {
	const char *id;
	uint8_t type;
	json_t *list;
	int64_t want_id;             /* find_id: the message sought */
};

static int
collect(const struct channel_msg *m, void *arg)
{
	struct msgs *ms = arg;

	json_array_append_new(ms->list, channel_msg_json(ms->id, ms->type, m));
	return 0;
}

static int
collect_id(const struct channel_msg *m, void *arg)
{
	struct msgs *ms = arg;

	if (m->message_id != ms->want_id)
		return 0;
	json_array_append_new(ms->list, channel_msg_json(ms->id, ms->type, m));
	return 1;
}

/* Append the message with `seq` to ms->list if there is one: 0, or -1. */
static int
add_seq(struct wk_proc *p, struct msgs *ms, uint32_t seq)
{
	return channel_msg_range(p, ms->id, ms->type, seq, seq, 1, 0, collect, ms) < 0 ? -1 : 0;
}

static uint64_t id_walks;           /* lookups by id that fell back to the walk */

/* The first message at or after seq: its id and seq. */
struct first_at {
	int64_t id;
	uint32_t seq;
};

static int
first_at(const struct channel_msg *m, void *arg)
{
	struct first_at *f = arg;

	f->id = m->message_id;
	f->seq = m->seq;
	return 1;
}

/* The message with this id.  There is no index by id: ids are handed out
 * in the order messages are appended, so they grow with seq, and a binary
 * search finds one in O(log n) reads.  Should that ever not hold (a clock
 * set back across a restart), a miss falls back to the walk from the newest,
 * which is always right.  0, or -1. */
static int
add_id(struct wk_proc *p, struct msgs *ms, int64_t message_id)
{
	struct channel_info ci;
	uint32_t lo = 1, hi;
	int rc = channel_get(p, ms->id, ms->type, &ci);

	if (rc <= 0)
		return rc;
	for (hi = ci.last_seq; lo <= hi && hi > 0;) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct first_at f = { 0, 0 };
		long n = channel_msg_range(p, ms->id, ms->type, mid, hi, 1, 0, first_at, &f);
		if (n < 0)
			return -1;
		if (n == 0 || f.id > message_id)
			hi = mid - 1;        /* nothing in [mid, hi], or past it */
		else if (f.id < message_id)
			lo = f.seq + 1;
		else
			return channel_msg_range(p, ms->id, ms->type, f.seq, f.seq, 1, 0, collect,
			    ms) < 0 ? -1 : 0;
	}
	ms->want_id = message_id;
	id_walks++;
	return channel_msg_range(p, ms->id, ms->type, 1, 0, 0, 1, collect_id, ms) < 0 ? -1 : 0;
}

int
channel_api_status(struct wk_proc *p, char *buf, size_t len)
{
	(void)p;
	return snprintf(buf, len, " msgid_walks=%llu", (unsigned long long)id_walks);
}

/* The newest message with this client_msg_no: 0, or -1. */
static int
add_client_msg_no(struct wk_proc *p, struct msgs *ms, const char *cmn)
{
	int64_t mid;
	uint32_t seq;
	int rc = channel_msg_find_client_msg_no(p, ms->id, ms->type, NULL, cmn, &mid, &seq);

	return rc < 0 ? -1 : rc == 0 ? 0 : add_seq(p, ms, seq);
}

static void
msgs_init(struct msgs *ms, json_t *req)
{
	memset(ms, 0, sizeof *ms);
	ms->id = wk_jstr(req, "channel_id");
	ms->type = jtype(req);
	ms->list = json_array();
}

/* A sync's answer: the request's bounds echoed, more, the messages. */
static void
reply_msgs(struct channel_reply *rep, json_int_t start, json_int_t end, int more, json_t *list)
{
	rep->status = 200;
	rep->body = json_pack("{s:I,s:I,s:i,s:o}", "start_message_seq", start,
	    "end_message_seq", end, "more", more, "messages", list);
}

/* A seq from a request (uint64 there, uint32 stored): clamped. */
static uint32_t
seq32(json_int_t v)
{
	return v <= 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* message.sync: http-api.md §2.20's selection, always ascending. */
static void
op_sync(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	json_int_t start = wk_jint(req, "start_message_seq"), end = wk_jint(req, "end_message_seq");
	json_int_t limit = wk_jint(req, "limit"), mode = wk_jint(req, "pull_mode");
	uint32_t s32 = seq32(start), e32 = seq32(end), lo = 0, hi = 0;
	int reverse = 0, none = 0, more;
	long n = 0;
	struct msgs ms;

	if (limit > SYNC_LIMIT_MAX)
		limit = SYNC_LIMIT_MAX;
	msgs_init(&ms, req);
	if (start == 0 && end == 0) {
		lo = 1;                              /* the newest `limit` */
		reverse = 1;
	} else if (mode == 1) {                      /* up: [start, end) */
		lo = s32 ? s32 : 1;
		hi = e32 ? e32 - 1 : 0;
		none = e32 && hi < lo;
	} else if (end <= start) {                   /* down: (end, start], the newest */
		lo = e32 + 1;
		hi = s32;
		reverse = 1;
	} else
		none = 1;
	if (limit > 0 && !none)
		n = channel_msg_range(p, ms.id, ms.type, lo, hi, (uint32_t)limit, reverse, collect,
		    &ms);
	if (n < 0) {
		json_decref(ms.list);
		reply_storage_error(p, rep);
		return;
	}
	if (reverse) {                               /* collected newest first */
		json_t *asc = json_array();
		for (size_t i = json_array_size(ms.list); i-- > 0;)
			json_array_append(asc, json_array_get(ms.list, i));
		json_decref(ms.list);
		ms.list = asc;
	}
	more = (json_int_t)json_array_size(ms.list) >= limit;
	if (json_array_size(ms.list) > 0 && end != 0) {
		/* The boundary message: the first one going down, the last going up. */
		json_t *b = json_array_get(ms.list, mode == 0 ? 0 : json_array_size(ms.list) - 1);
		if (wk_jint(b, "message_seq") == end)
			more = 0;
	}
	reply_msgs(rep, start, end, more, ms.list);
}

/* message.search: by seqs, then ids, then client_msg_nos; missing skipped. */
static void
op_search(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	struct msgs ms;
	json_t *v;
	size_t i;
	int rc = 0;

	msgs_init(&ms, req);
	json_array_foreach(json_object_get(req, "message_seqs"), i, v)
		if (rc == 0)
			rc = add_seq(p, &ms, seq32(json_integer_value(v)));
	json_array_foreach(json_object_get(req, "message_ids"), i, v)
		if (rc == 0)
			rc = add_id(p, &ms, json_integer_value(v));
	json_array_foreach(json_object_get(req, "client_msg_nos"), i, v)
		if (rc == 0)
			rc = add_client_msg_no(p, &ms, json_string_value(v));
	if (rc < 0) {
		json_decref(ms.list);
		reply_storage_error(p, rep);
	} else
		reply_msgs(rep, 0, 0, 0, ms.list);
}

/* One message or {"status":404}, from ms->list; a storage error if rc < 0. */
static void
reply_one(struct wk_proc *p, struct channel_reply *rep, struct msgs *ms, int rc)
{
	if (rc < 0) {
		json_decref(ms->list);
		reply_storage_error(p, rep);
		return;
	}
	rep->status = 200;
	if (json_array_size(ms->list) > 0)
		rep->body = json_incref(json_array_get(ms->list, 0));
	else
		rep->body = json_pack("{s:i}", "status", 404);
	json_decref(ms->list);
}

/* message.get: by message_id if given, else by client_msg_no; both given:
 * the message must match both. */
static void
op_get_msg(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	const char *cmn = wk_jstr(req, "client_msg_no");
	json_int_t mid = wk_jint(req, "message_id");
	struct msgs ms;
	int rc = 0;

	msgs_init(&ms, req);
	if (mid != 0)
		rc = add_id(p, &ms, mid);
	else if (*cmn)
		rc = add_client_msg_no(p, &ms, cmn);
	if (rc == 0 && mid != 0 && *cmn && json_array_size(ms.list) > 0 &&
	    strcmp(wk_jstr(json_array_get(ms.list, 0), "client_msg_no"), cmn) != 0)
		json_array_clear(ms.list);
	reply_one(p, rep, &ms, rc);
}

/* message.last: the newest message, or {"status":404}. */
static void
op_last(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	struct msgs ms;

	msgs_init(&ms, req);
	reply_one(p, rep, &ms, channel_msg_range(p, ms.id, ms.type, 1, 0, 1, 1, collect, &ms) < 0 ?
	    -1 : 0);
}

/* message.max_seq: the channel's last seq, 0 for an unknown channel. */
static void
op_max_seq(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	struct channel_info info;
	int rc = channel_get(p, wk_jstr(req, "channel_id"), jtype(req), &info);

	if (rc < 0) {
		reply_storage_error(p, rep);
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:I}", "message_seq", (json_int_t)(rc == 1 ? info.last_seq : 0));
}

/* The outcome of one send: data's id, seq and reason; a refusal also
 * becomes the body's "status" (as the reference's {"status":19}). */
static void
send_done(struct wk_proc *p, void *arg, int reason, int64_t message_id, uint32_t seq)
{
	struct channel_reply *rep = arg;
	json_t *data = json_object_get(rep->body, "data");
	char idstr[32];

	if (data == NULL)
		return;   /* sendbatch: the answer was made by wk-api */
	snprintf(idstr, sizeof idstr, "%lld", (long long)message_id);
	json_object_set_new(data, "message_id", json_integer(message_id));
	json_object_set_new(data, "message_idstr", json_string(idstr));
	json_object_set_new(data, "message_seq", json_integer(seq));
	json_object_set_new(data, "reason_code", json_integer(reason));
	if (reason != WKPROTO_REASON_SUCCESS)
		json_object_set_new(rep->body, "status", json_integer(reason));
}

/* Hand one message to channel_append_api; payload is the decoded bytes.
 * The request's "subscribers", if any, are the only recipients. */
static void
send_one(struct wk_proc *p, json_t *req, const char *id, uint8_t type, const char *cmn,
    const struct wk_bytes *payload, struct channel_reply *rep)
{
	struct wk_wbuf to;
	struct wk_chmsg m;
	json_t *v;
	size_t i;

	memset(&m, 0, sizeof m);
	m.flags = (uint8_t)wk_jint(req, "flags");
	m.setting = (uint8_t)wk_jint(req, "setting");
	m.expire = (uint32_t)wk_jint(req, "expire");
	m.channel_type = type;
	m.from_uid = wk_str_n(wk_jstr(req, "from_uid"), strlen(wk_jstr(req, "from_uid")));
	m.channel_id = wk_str_n(id, strlen(id));
	m.client_msg_no = wk_str_n(cmn, strlen(cmn));
	m.payload = *payload;
	wk_wbuf_init(&to);
	json_array_foreach(json_object_get(req, "subscribers"), i, v)
		wk_put_mem(&to, json_string_value(v), json_string_length(v) + 1);
	channel_append_api(p, &m, json_object_get(req, "subscribers") ? (const char *)to.p : NULL,
	    to.len, send_done, rep);
	wk_wbuf_free(&to);
}

/* The request's base64 payload decoded (wk-api checked it); free .p. */
static int
payload_of(json_t *req, struct wk_bytes *out)
{
	const char *b64 = wk_jstr(req, "payload");
	size_t n = strlen(b64);
	uint8_t *buf = wk_malloc(WK_B64_DECODED_MAX(n) + 1);
	ssize_t len = wk_b64_decode(b64, n, buf, WK_B64_DECODED_MAX(n) + 1);

	out->p = buf;
	out->len = len < 0 ? 0 : (size_t)len;
	return len < 0 ? -1 : 0;
}

/* message.send: the answer is completed by send_done (after the commit). */
static void
op_send(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	const char *cmn = wk_jstr(req, "client_msg_no");
	struct wk_bytes payload;

	if (payload_of(req, &payload) < 0) {
		free((void *)payload.p);
		reply_error(rep, 400, "bad payload");
		return;
	}
	rep->status = 200;
	rep->body = json_pack("{s:i,s:{s:i,s:s,s:i,s:s,s:i}}", "status", 200, "data",
	    "message_id", 0, "message_idstr", "0", "message_seq", 0, "client_msg_no", cmn,
	    "reason_code", 0);
	send_one(p, req, wk_jstr(req, "channel_id"), jtype(req), cmn, &payload, rep);
	free((void *)payload.p);
}

/* message.sendbatch: one person message per stored id in "to", each with
 * its own client_msg_no; answers wk-api's "answer" once committed. */
static void
op_sendbatch(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	struct wk_bytes payload;
	json_t *v, *cmns = json_object_get(req, "client_msg_nos");
	size_t i;

	if (payload_of(req, &payload) < 0) {
		free((void *)payload.p);
		reply_error(rep, 400, "bad payload");
		return;
	}
	rep->status = 200;
	rep->body = json_incref(json_object_get(req, "answer"));
	json_array_foreach(json_object_get(req, "to"), i, v)
		send_one(p, req, json_string_value(v), WKPROTO_CHANNEL_PERSON,
		    json_string_value(json_array_get(cmns, i)) ?
		    json_string_value(json_array_get(cmns, i)) : "", &payload, rep);
	free((void *)payload.p);
}

/* The ops: name, handler, and the argument it is given. */
static const struct {
	const char *name;
	void (*fn)(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg);
	int arg;
} ops[] = {
	{ "channel.upsert", op_upsert, 0 },
	{ "channel.info", op_info, 0 },
	{ "channel.delete", op_delete, 0 },
	{ "channel.list_add", op_list, LIST_ADD },
	{ "channel.list_set", op_list, LIST_SET },
	{ "channel.list_remove", op_list, LIST_REMOVE },
	{ "channel.list_clear", op_list, LIST_CLEAR },
	{ "channel.list_get", op_list_get, 0 },
	{ "channel.get", op_get, 0 },
	{ "message.send", op_send, 0 },
	{ "message.sendbatch", op_sendbatch, 0 },
	{ "message.sync", op_sync, 0 },
	{ "message.search", op_search, 0 },
	{ "message.get", op_get_msg, 0 },
	{ "message.last", op_last, 0 },
	{ "message.max_seq", op_max_seq, 0 },
	{ "conv.recents", channel_op_conv_recents, 0 },
	{ "message.event", channel_op_event, 0 },
	{ "message.eventsync", channel_op_eventsync, 0 },
};

/* Send the reply once the transaction has ended: as made if it committed,
 * 500 if it did not. */
static void
reply_send(struct wk_proc *p, int rc, void *arg)
{
	struct channel_reply *rep = arg;
	zmsg_t *out;
	char *text;

	if (rc < 0) {
		json_decref(rep->body);
		reply_error(rep, 500, "storage error");
	}
	text = json_dumps(rep->body, JSON_COMPACT | JSON_ENCODE_ANY);
	out = zmsg_new();
	zmsg_addstrf(out, "%u", rep->status);
	zmsg_addmem(out, text, strlen(text));
	free(text);
	wk_proc_reply(p, &rep->h, WK_MSG_API_REP, &out);
	json_decref(rep->body);
	free(rep);
}

/* API_REQ.  A malformed request from wk-api is a bug there (exit, as for
 * any bad internal message); from a tool it is answered 400. */
void
channel_on_api(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *fop = zmsg_first(msg), *fbody = zmsg_next(msg);
	struct channel_reply *rep = wk_calloc(1, sizeof *rep);
	size_t i, n = sizeof ops / sizeof ops[0];
	const char *err = NULL;
	json_t *req;

	rep->h = *h;
	for (i = 0; i < n; i++)
		if (zframe_streq(fop, ops[i].name))
			break;
	req = json_loadb((const char *)zframe_data(fbody), zframe_size(fbody), 0, NULL);
	if (i == n)
		err = "unknown op";
	else if (!json_is_object(req))
		err = "body is not a JSON object";
	else if (strlen(wk_jstr(req, "channel_id")) > CHANNEL_ID_MAX)
		err = "channel_id is too long";
	if (err && h->sender_role == WK_ROLE_API)
		wk_fatalx("API_REQ from api/%u: %s", h->sender_instance, err);
	if (err)
		reply_error(rep, 400, err);
	else
		ops[i].fn(p, req, rep, ops[i].arg);
	json_decref(req);
	if (rep->now)
		reply_send(p, 0, rep);   /* it wrote nothing that needs the commit */
	else if (channel_after_commit(p, reply_send, rep) < 0)
		reply_send(p, -1, rep);
}
