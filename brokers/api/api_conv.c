/* api_conv.c - wk-api's conversation and cmd-mailbox routes (wk-api(8)).
 *
 * Read mode: a conversation is computed when it is asked for.  Round 1
 * asks the user's mailbox shard for its rows (MAILBOX_CONV_ROWS: read
 * cursor, deleted-at); round 2 asks every channel shard concerned, in parallel,
 * for each channel's last seq, the newest messages from the start seq on,
 * and the last seq the user sent there (CHANNEL_CONV_RECENTS); the answer is put
 * together here as semantics.md §10.2 says, with one deliberate difference:
 * a deleted conversation that comes back counts as unread only what came
 * after the deletion.
 *
 * Routes that move a read cursor ask the channel's last seq first
 * (CHANNEL_MSG_MAX_SEQ), then the mailbox (MAILBOX_CONV_SET / _DELETE).
 * Membership changes (api_channel.c) end here too: api_conv_members.
 * /message/sync and /message/syncack are the cmd mailbox's
 * (MAILBOX_CMD_SYNC, MAILBOX_CMD_SYNCACK in mailbox_cmd.c).
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_chmsg.h"
#include "wk_json.h"
#include "wk_log.h"
#include "wk_msgresp.h"
#include "wk_shard.h"
#include "wkproto.h"

#define CMD_SUFFIX "____cmd"
#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 500
#define BYCHANNELS_MSG_COUNT 15

/* A cmd twin ("<id>____cmd"): never a conversation of its own. */
static int
channel_is_cmd(const char *id)
{
	size_t n = strlen(id), sl = sizeof CMD_SUFFIX - 1;

	return n >= sl && strcmp(id + n - sl, CMD_SUFFIX) == 0;
}

/* What a route remembers between rounds (r->ctx). */
struct conv_ctx {
	char *uid;
	char sid[API_STORED_ID_MAX];     /* the stored channel id */
	json_int_t type;
	json_int_t n;                /* unread (setUnread), msg_count (sync) */
	json_t *req;                 /* the request body */
	json_t *items;               /* sync: [[client id, stored id, type, row], ...] */
	json_t *where;               /* sync: per item [part, index] of its answer */
	json_t *uids;                /* membership: the members */
	const char *mode;            /* membership: conv.set mode, or "remove" */
	int by_channels;
};

static void
ctx_free(void *arg)
{
	struct conv_ctx *c = arg;

	if (c == NULL)
		return;
	free(c->uid);
	json_decref(c->req);
	json_decref(c->items);
	json_decref(c->where);
	json_decref(c->uids);
	free(c);
}

static struct conv_ctx *
ctx_new(struct api_req *r)
{
	struct conv_ctx *c = wk_calloc(1, sizeof *c);

	r->ctx = c;
	r->ctx_free = ctx_free;
	return c;
}

/* Round 1 of the conversation routes: the user's rows (conv.rows). */
static void
ask_rows(struct wk_proc *p, struct api_req *r, const char *uid, api_then_fn *then)
{
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	wk_put_str(&b, uid);
	api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_CONV_ROWS, &b, then);
	wk_wbuf_free(&b);
}

/* The rows of round 1 as [[stored id, type, readed_to, deleted_at,
 * updated_ms], ...], newest update first. */
static json_t *
rows_json(const struct api_req *r)
{
	json_t *rows = json_array();
	struct wk_rbuf rb;
	uint32_t n;
	size_t len;
	const char *id;

	api_op_read(r, 0, &rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && !rb.err; i++) {
		id = wk_get_strv(&rb, &len);
		uint8_t type = wk_get_u8(&rb);
		uint32_t readed_to = wk_get_u32(&rb), deleted_at = wk_get_u32(&rb);
		uint64_t updated = wk_get_u64(&rb);
		json_array_append_new(rows, json_pack("[s#,i,I,I,I]", id, len, type,
		    (json_int_t)readed_to, (json_int_t)deleted_at, (json_int_t)updated));
	}
	if (wk_rbuf_done(&rb) < 0)
		wk_fatalx("MAILBOX_CONV_ROWS: malformed answer");
	return rows;
}

/* ---- membership ---- */

/* A read position or deleted-at as the rows keep it (u32). */
static uint32_t
seq32(json_int_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* The members' rows, one op per mailbox shard: conv.set in c->mode, or
 * conv.remove. */
static void
members_rows(struct wk_proc *p, struct api_req *r, struct conv_ctx *c, json_int_t read_to)
{
	int n = p->cfg.processes_mailbox, remove = strcmp(c->mode, "remove") == 0;
	json_t **per = wk_calloc((size_t)n, sizeof *per), *v;
	struct wk_wbuf b;
	size_t i;
	int failed = 0;

	json_array_foreach(c->uids, i, v) {
		const char *uid = json_string_value(v);
		int s = wk_shard_uid(uid, strlen(uid), n);
		if (per[s] == NULL)
			per[s] = json_array();
		json_array_append(per[s], v);
	}
	wk_wbuf_init(&b);
	for (int s = 0; s < n; s++) {
		if (per[s] && !failed) {
			b.len = 0;
			wk_put_str(&b, c->sid);
			wk_put_u8(&b, (uint8_t)c->type);
			if (!remove) {
				wk_put_u32(&b, seq32(read_to));
				wk_put_u8(&b, strcmp(c->mode, "reset") == 0 ? 0 :
				    strcmp(c->mode, "forward") == 0 ? 1 : 2);
			}
			api_put_strs(&b, per[s]);
			failed = api_ask_op(p, r, WK_ROLE_MAILBOX, s, remove ?
			    WK_MSG_MAILBOX_CONV_REMOVE : WK_MSG_MAILBOX_CONV_SET, &b, api_then_ok) < 0;
		}
		json_decref(per[s]);
	}
	wk_wbuf_free(&b);
	free(per);
	if (r->corr == 0 && !r->answered)
		api_answer_ok(r);    /* no uid at all */
}

/* CHANNEL_MSG_MAX_SEQ of the channel (c->sid, c->type), then `then`. */
static void
ask_max_seq(struct wk_proc *p, struct api_req *r, struct conv_ctx *c, api_then_fn *then)
{
	struct wk_wbuf w;

	wk_wbuf_init(&w);
	api_put_key(&w, c->sid, c->type);
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, c->sid, WK_MSG_CHANNEL_MSG_MAX_SEQ, &w, then);
	wk_wbuf_free(&w);
}

static void
members_then_seq(struct wk_proc *p, struct api_req *r)
{
	members_rows(p, r, r->ctx, api_op_u32(r, 0));
}

/* The channel shard made the membership change (an error answered r). */
static void
members_then(struct wk_proc *p, struct api_req *r)
{
	struct conv_ctx *c = r->ctx;

	/* A live channel (type 9) has no conversations (semantics.md §10.1). */
	if (!p->cfg.conversation_on || json_array_size(c->uids) == 0 ||
	    c->type == WKPROTO_CHANNEL_LIVE)
		api_answer_ok(r);
	else if (strcmp(c->mode, "remove") == 0)
		members_rows(p, r, c, 0);
	else
		ask_max_seq(p, r, c, members_then_seq);
}

void
api_conv_members(struct wk_proc *p, struct api_req *r, int type, const struct wk_wbuf *req,
    const char *sid, json_int_t ctype, json_t *uids, const char *mode)
{
	struct conv_ctx *c = ctx_new(r);

	snprintf(c->sid, sizeof c->sid, "%s", sid);
	c->type = ctype;
	c->uids = uids ? json_incref(uids) : json_array();
	c->mode = mode;
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, c->sid, type, req, members_then);
}

/* ---- reading a conversation request ---- */

/* {uid, channel_id, channel_type (!= 0)} into c; -1 after 400. */
static int
read_target(struct api_req *r, struct api_in *in, struct conv_ctx *c)
{
	const char *uid, *id;

	if (api_in_str(in, "uid", &uid) < 0 || api_in_str(in, "channel_id", &id) < 0 ||
	    api_in_int(in, "channel_type", "uint8", 0, 255, &c->type) < 0)
		return -1;
	if (api_is_blank(uid) || api_is_blank(id) || c->type == 0) {
		api_answer_error(r, 400, api_is_blank(uid) ? "uid不能为空！" : api_is_blank(id) ?
		    "channel_id不能为空！" : "channel_type不能为0！");
		return -1;
	}
	if (api_check_len(r, "uid", uid) < 0 || api_check_len(r, "channel_id", id) < 0)
		return -1;
	if (api_stored_id(uid, id, c->type, c->sid) < 0) {
		api_answer_error(r, 400, "频道ID不合法！");
		return -1;
	}
	c->uid = wk_strdup(uid);
	return 0;
}

/* ---- setUnread, clearUnread, delete: last seq, then the row ---- */

static void
cursor_then(struct wk_proc *p, struct api_req *r)
{
	struct conv_ctx *c = r->ctx;
	json_int_t last = api_op_u32(r, 0), to = last;
	struct wk_wbuf b;

	wk_wbuf_init(&b);
	if (c->mode && strcmp(c->mode, "delete") == 0) {
		wk_put_str(&b, c->uid);
		wk_put_str(&b, c->sid);
		wk_put_u8(&b, (uint8_t)c->type);
		wk_put_u32(&b, seq32(last));
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, c->uid, WK_MSG_MAILBOX_CONV_DELETE, &b,
		    api_then_ok);
	} else {
		/* setUnread: the read position leaves `unread` unread; more than
		 * there are leaves one (the reference's arithmetic, without its
		 * underflow on an empty channel). */
		if (c->n > 0)
			to = c->n <= last ? last - c->n : last - 1;
		wk_put_str(&b, c->sid);
		wk_put_u8(&b, (uint8_t)c->type);
		wk_put_u32(&b, seq32(to));
		wk_put_u8(&b, 1);   /* forward */
		wk_put_u32(&b, 1);
		wk_put_str(&b, c->uid);
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, c->uid, WK_MSG_MAILBOX_CONV_SET, &b,
		    api_then_ok);
	}
	wk_wbuf_free(&b);
}

static void
cursor_route(struct wk_proc *p, struct api_req *r, const char *gotype, const char *mode,
    int with_unread)
{
	struct api_in in = { r, NULL, gotype };
	struct conv_ctx *c;

	if ((in.o = api_body_json(r, JSON_OBJECT, gotype)) == NULL)
		return;
	c = ctx_new(r);
	c->req = in.o;
	c->mode = mode;
	if (read_target(r, &in, c) < 0 ||
	    (with_unread && api_in_int(&in, "unread", "int", API_GO_INT_MIN, API_GO_INT_MAX, &c->n) < 0))
		return;
	ask_max_seq(p, r, c, cursor_then);
}

void
api_route_conversations_set_unread(struct wk_proc *p, struct api_req *r)
{
	cursor_route(p, r, "api.clearConversationUnreadReq", "forward", 1);
}

void
api_route_conversations_clear_unread(struct wk_proc *p, struct api_req *r)
{
	cursor_route(p, r, "api.clearConversationUnreadReq", "forward", 0);
}

void
api_route_conversations_delete(struct wk_proc *p, struct api_req *r)
{
	cursor_route(p, r, "api.deleteChannelReq", "delete", 0);
}

/* ---- /conversation/sync and /conversation/syncByChannels ---- */

/* The id a client knows a stored channel by: a person chat's peer. */
static const char *
client_id(const char *uid, const char *sid, json_int_t type, size_t *len)
{
	const char *peer = sid;

	*len = strlen(sid);
	if (type == WKPROTO_CHANNEL_PERSON &&
	    wk_channelid_person_peer(sid, strlen(sid), uid, strlen(uid), &peer, len) < 0)
		return NULL;
	return peer;
}

/* last_msg_seqs "id:type:seq|...": a map "type:id" -> seq (bad items skipped). */
static json_t *
parse_seqs(const char *s)
{
	json_t *m = json_object();
	char *copy = wk_strdup(s), *save = NULL, *item;

	for (item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
		char *c2 = strrchr(item, ':'), *c1, *end, key[API_STORED_ID_MAX + 8];
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if ((c1 = strrchr(item, ':')) == NULL)
			continue;
		*c1 = '\0';
		long long seq = strtoll(c2 + 1, &end, 10);
		if (*end || end == c2 + 1)
			continue;
		long type = strtol(c1 + 1, &end, 10);
		if (*end || end == c1 + 1 || type < 0 || type > 255)
			continue;
		snprintf(key, sizeof key, "%ld:%s", type, item);
		json_object_set_new(m, key, json_integer(seq));
	}
	free(copy);
	return m;
}

static json_int_t
client_seq(json_t *seqs, const char *id, size_t len, json_int_t type, int *present)
{
	char key[API_STORED_ID_MAX + 8];
	json_t *v;

	snprintf(key, sizeof key, "%lld:%.*s", (long long)type, (int)len, id);
	v = json_object_get(seqs, key);
	*present = v != NULL;
	return json_integer_value(v);
}

/* Round 2: items grouped by channel shard, one CHANNEL_CONV_RECENTS per
 * shard. */
static void
ask_recents(struct wk_proc *p, struct api_req *r, struct conv_ctx *c, api_then_fn *then)
{
	int n = p->cfg.processes_channel, part = 0;
	struct wk_wbuf *per = wk_calloc((size_t)n, sizeof *per);
	uint32_t *count = wk_calloc((size_t)n, sizeof *count);
	int *part_of = wk_calloc((size_t)n, sizeof *part_of);
	uint32_t msg_count = c->n > UINT32_MAX ? UINT32_MAX : (uint32_t)c->n;
	json_int_t start;
	size_t i;
	json_t *it;

	c->where = json_array();
	json_array_foreach(c->items, i, it) {
		const char *sid = json_string_value(json_array_get(it, 1));
		int s = wk_shard_channel(sid, strlen(sid), n);
		json_array_append_new(c->where, json_pack("[i,i]", s, (int)count[s]++));
		start = json_integer_value(json_array_get(it, 4));
		api_put_key(&per[s], sid, json_integer_value(json_array_get(it, 2)));
		wk_put_u64(&per[s], start > 0 ? (uint64_t)start : 0);
	}
	for (int s = 0; s < n; s++) {
		struct wk_wbuf w;
		if (count[s] == 0)
			continue;
		wk_wbuf_init(&w);
		wk_put_str(&w, c->uid);
		wk_put_u32(&w, msg_count);
		wk_put_u32(&w, count[s]);
		wk_put_mem(&w, per[s].p, per[s].len);
		part_of[s] = part++;
		if (!r->answered && api_ask_op(p, r, WK_ROLE_CHANNEL, s, WK_MSG_CHANNEL_CONV_RECENTS,
		    &w, then) < 0)
			part = -n;               /* answered 500: ask no more */
		wk_wbuf_free(&w);
	}
	/* where[i] = [part, index]: the shard's part number, once known. */
	json_array_foreach(c->where, i, it)
		json_array_set_new(it, 0, json_integer(part_of[json_integer_value(json_array_get(it, 0))]));
	for (int s = 0; s < n; s++)
		wk_wbuf_free(&per[s]);
	free(per);
	free(count);
	free(part_of);
	if (part == 0 && !r->answered)
		api_answer_json(r, 200, json_array());
}

/* A CHANNEL_CONV_RECENTS answer: per item [last_seq, user_last_seq,
 * [MessageResp newest first]]. */
static json_t *
recents_of(struct api_req *r, int part)
{
	json_t *out = json_array(), *msgs;
	struct wk_rbuf rb;
	uint32_t n, last, mine;

	api_op_read(r, part, &rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && !rb.err; i++) {
		last = wk_get_u32(&rb);
		mine = wk_get_u32(&rb);
		if ((msgs = api_msgs_get(&rb)) != NULL)
			json_array_append_new(out, json_pack("[I,I,o]", (json_int_t)last,
			    (json_int_t)mine, msgs));
	}
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, part);
	return out;
}

/* One conversation from its row and its channel's answer (§10.2 step 8). */
static json_t *
conv_item(const struct conv_ctx *c, json_t *it, json_t *ans)
{
	const char *cid = json_string_value(json_array_get(it, 0));
	json_t *row = json_array_get(it, 3), *recents = json_array_get(ans, 2), *last;
	json_int_t R = json_integer_value(json_array_get(row, 0));
	json_int_t del = json_integer_value(json_array_get(row, 1));
	json_int_t U = json_integer_value(json_array_get(ans, 1)), unread = 0, ls;
	json_t *o;

	/* What was deleted is not unread (the reference counts it). */
	if (!c->by_channels && del > R)
		R = del;
	o = json_pack("{s:s,s:I,s:i,s:i,s:i,s:s,s:i,s:I,s:I,s:O}", "channel_id", cid,
	    "channel_type", json_integer_value(json_array_get(it, 2)), "unread", 0,
	    "timestamp", 0, "last_msg_seq", 0, "last_client_msg_no", "", "offset_msg_seq", 0,
	    "readed_to_msg_seq", R, "version",
	    json_integer_value(json_array_get(row, 2)) * (json_int_t)1000000, "recents", recents);
	if ((last = json_array_get(recents, 0)) == NULL)
		return o;
	ls = wk_jint(last, "message_seq");
	json_object_set_new(o, "last_msg_seq", json_integer(ls));
	json_object_set(o, "last_client_msg_no", json_object_get(last, "client_msg_no"));
	json_object_set(o, "timestamp", json_object_get(last, "timestamp"));
	json_object_set_new(o, "version", json_integer(wk_jint(last, "timestamp") * 1000000000LL));
	if (ls > R)
		unread = ls - R;
	/* What the user sent counts as read. */
	if (U > R && ls >= R && ls - U < unread) {
		unread = ls - U;
		json_object_set_new(o, "readed_to_msg_seq", json_integer(U));
	}
	if (strcmp(wk_jstr(last, "from_uid"), c->uid) == 0) {
		unread = 0;
		json_object_set_new(o, "readed_to_msg_seq", json_integer(ls));
	}
	json_object_set_new(o, "unread", json_integer(unread));
	return o;
}

/* Round 2 is in: the answer, in the rows' order. */
static void
sync_then_recents(struct wk_proc *p, struct api_req *r)
{
	struct conv_ctx *c = r->ctx;
	json_t *out = json_array(), *parts = json_array(), *it, *w, *ans, *o;
	size_t i;

	for (int k = 0; k < r->nparts; k++)
		json_array_append_new(parts, recents_of(r, k));
	json_array_foreach(c->items, i, it) {
		w = json_array_get(c->where, i);
		ans = json_array_get(json_array_get(parts,
		    (size_t)json_integer_value(json_array_get(w, 0))),
		    (size_t)json_integer_value(json_array_get(w, 1)));
		o = conv_item(c, it, ans);
		if (c->by_channels || json_array_size(json_object_get(o, "recents")) > 0)
			json_array_append(out, o);
		json_decref(o);
	}
	json_decref(parts);
	api_answer_json(r, 200, out);
}

static int
type_excluded(json_t *types, json_int_t type)
{
	size_t i;
	json_t *v;

	json_array_foreach(types, i, v)
		if (json_integer_value(v) == type)
			return 1;
	return 0;
}

/* Round 1 is in (the rows): which conversations, from which seq. */
static void
sync_then_rows(struct wk_proc *p, struct api_req *r)
{
	struct conv_ctx *c = r->ctx;
	json_t *rows = rows_json(r), *row, *seqs, *l = json_array();
	json_int_t version = wk_jint(c->req, "version"), page = wk_jint(c->req, "page");
	json_int_t size = wk_jint(c->req, "page_size");
	int only_unread = wk_jint(c->req, "only_unread") == 1, present;
	size_t i, len;

	seqs = parse_seqs(wk_jstr(c->req, "last_msg_seqs"));
	c->items = json_array();
	json_array_foreach(rows, i, row) {
		const char *sid = json_string_value(json_array_get(row, 0)), *cid;
		json_int_t type = json_integer_value(json_array_get(row, 1)), k, start;
		json_int_t R = json_integer_value(json_array_get(row, 2));
		json_int_t del = json_integer_value(json_array_get(row, 3));

		if (channel_is_cmd(sid) || (cid = client_id(c->uid, sid, type, &len)) == NULL)
			continue;
		if (type == WKPROTO_CHANNEL_PERSON && len == sizeof WK_SYSTEM_UID - 1 &&
		    memcmp(cid, WK_SYSTEM_UID, len) == 0)
			continue;
		k = client_seq(seqs, cid, len, type, &present);
		if (type_excluded(json_object_get(c->req, "exclude_channel_types"), type) && !present)
			continue;
		start = k != 0 ? k + 1 : version > 0 || only_unread ? R + 1 : 0;
		if (del > 0 && del >= start)
			start = del + 1;
		json_array_append_new(l, json_pack("[s#,s,I,[I,I,O],I]", cid, len, sid, type, R, del,
		    json_array_get(row, 4), start));
	}
	json_decref(seqs);
	json_decref(rows);
	if (page > 0) {
		size_t from;
		if (size <= 0)
			size = PAGE_SIZE_DEFAULT;
		if (size > PAGE_SIZE_MAX)
			size = PAGE_SIZE_MAX;
		from = (size_t)((page - 1) * size);
		for (i = from; i < json_array_size(l) && i < from + (size_t)size; i++)
			json_array_append(c->items, json_array_get(l, i));
	} else
		json_array_extend(c->items, l);
	json_decref(l);
	ask_recents(p, r, c, sync_then_recents);
}

/* POST /conversation/sync (§10.2). */
void
api_route_conversation_sync(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncUserConversationReq" };
	const char *uid, *seqs;
	json_int_t v;
	json_t *ex;
	struct conv_ctx *c;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncUserConversationReq")) == NULL)
		return;
	c = ctx_new(r);
	c->req = in.o;
	if (api_in_str(&in, "uid", &uid) < 0 || api_in_str(&in, "last_msg_seqs", &seqs) < 0 ||
	    api_in_int(&in, "version", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0 ||
	    api_in_int(&in, "msg_count", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &c->n) < 0 ||
	    api_in_int(&in, "only_unread", "uint8", 0, 255, &v) < 0 ||
	    api_in_int(&in, "page", "int", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0 ||
	    api_in_int(&in, "page_size", "int", API_GO_INT_MIN, API_GO_INT_MAX, &v) < 0)
		return;
	ex = api_in_get(&in, "exclude_channel_types");
	if (ex && !json_is_null(ex) && !json_is_array(ex)) {
		api_bad_type(r, ex, in.type, "exclude_channel_types", "[]uint8");
		return;
	}
	if (api_is_blank(uid)) {
		api_answer_error(r, 400, "uid不能为空！");
		return;
	}
	/* QUIRK kept: no recent messages asked, no conversations answered. */
	if (c->n <= 0 || api_check_len(r, "uid", uid) < 0) {
		if (!r->answered)
			api_answer_json(r, 200, json_array());
		return;
	}
	c->uid = wk_strdup(uid);
	ask_rows(p, r, uid, sync_then_rows);
}

/* syncByChannels: every requested channel, from its newest messages. */
static void
by_channels_then_rows(struct wk_proc *p, struct api_req *r)
{
	struct conv_ctx *c = r->ctx;
	json_t *rows = rows_json(r), *row, *ch;
	size_t i, j, len;
	char sid[API_STORED_ID_MAX];

	c->items = json_array();
	json_array_foreach(json_object_get(c->req, "channels"), i, ch) {
		const char *id = wk_jstr(ch, "channel_id"), *cid;
		json_int_t type = wk_jint(ch, "channel_type"), R = 0;
		if (api_stored_id(c->uid, id, type, sid) < 0 ||
		    (cid = client_id(c->uid, sid, type, &len)) == NULL)
			continue;
		json_array_foreach(rows, j, row)
			if (json_integer_value(json_array_get(row, 1)) == type &&
			    strcmp(json_string_value(json_array_get(row, 0)), sid) == 0)
				R = json_integer_value(json_array_get(row, 2));
		json_array_append_new(c->items, json_pack("[s#,s,I,[I,i,i],i]", cid, len, sid, type,
		    R, 0, 0, 0));
	}
	json_decref(rows);
	ask_recents(p, r, c, sync_then_recents);
}

void
api_route_conversation_sync_by_channels(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncUserConversationByChannelsReq" };
	const char *uid;
	json_t *chs, *ch;
	struct conv_ctx *c;
	size_t i;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncUserConversationByChannelsReq")) == NULL)
		return;
	c = ctx_new(r);
	c->req = in.o;
	c->by_channels = 1;
	if (api_in_str(&in, "uid", &uid) < 0 ||
	    api_in_int(&in, "msg_count", "int64", API_GO_INT_MIN, API_GO_INT_MAX, &c->n) < 0)
		return;
	chs = api_in_get(&in, "channels");
	if (chs && !json_is_null(chs) && !json_is_array(chs)) {
		api_bad_type(r, chs, in.type, "channels", "[]api.channelReq");
		return;
	}
	json_array_foreach(chs, i, ch)
		if (!json_is_object(ch) || !json_is_string(json_object_get(ch, "channel_id")) ||
		    !json_is_integer(json_object_get(ch, "channel_type"))) {
			api_answer_error(r, 400, "channels: channel_id and channel_type are required");
			return;
		}
	if (api_is_blank(uid)) {
		api_answer_error(r, 400, "uid不能为空！");
		return;
	}
	if (api_check_len(r, "uid", uid) < 0)
		return;
	if (c->n <= 0)
		c->n = BYCHANNELS_MSG_COUNT;
	json_object_set_new(c->req, "channels", chs ? json_incref(chs) : json_array());
	c->uid = wk_strdup(uid);
	ask_rows(p, r, uid, by_channels_then_rows);
}

/* /conversation/channels: the rows' channels (person chats as stored ids,
 * as the reference answers them). */
static void
channels_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array(), *rows = rows_json(r), *row;
	size_t i;

	json_array_foreach(rows, i, row)
		if (!channel_is_cmd(json_string_value(json_array_get(row, 0))))
			json_array_append_new(out, json_pack("{s:O,s:O}", "channel_id",
			    json_array_get(row, 0), "channel_type", json_array_get(row, 1)));
	json_decref(rows);
	api_answer_json(r, 200, out);
}

void
api_route_conversation_channels(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "conversationChannelReq" };
	const char *uid;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.conversationChannelReq")) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) == 0) {
		if (api_is_blank(uid))
			api_answer_error(r, 400, "uid不能为空！");
		else if (api_check_len(r, "uid", uid) == 0)
			ask_rows(p, r, uid, channels_then);
	}
	json_decref(in.o);
}

/* ---- the cmd mailbox ---- */

/* The mailbox's messages as MessageResp objects. */
static void
message_sync_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array();
	struct wk_rbuf rb;
	struct wk_chmsg m;
	uint32_t n;

	api_op_read(r, 0, &rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && wk_chmsg_get(&rb, &m) == 0; i++)
		json_array_append_new(out, wk_msgresp(&m));
	if (wk_rbuf_done(&rb) < 0)
		wk_fatalx("MAILBOX_CMD_SYNC: malformed answer");
	api_answer_json(r, 200, out);
}

/* POST /message/sync {uid, limit (default 200)}: the oldest unacknowledged
 * cmd messages; message_seq is the mailbox's. */
void
api_route_message_sync(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncReq" };
	const char *uid;
	json_int_t limit, seq;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncReq")) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) < 0 ||
	    api_in_int(&in, "message_seq", "uint64", 0, API_GO_INT_MAX, &seq) < 0 ||
	    api_in_int(&in, "limit", "int", API_GO_INT_MIN, API_GO_INT_MAX, &limit) < 0)
		goto out;
	if (api_is_blank(uid))
		api_answer_error(r, 400, "uid不能为空！");
	else if (limit < 0)
		api_answer_error(r, 400, "limit不能小于0！");
	else if (api_check_len(r, "uid", uid) == 0) {
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_str(&b, uid);
		wk_put_u32(&b, limit == 0 ? 200 : limit > 10000 ? 10000 : (uint32_t)limit);
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_CMD_SYNC, &b,
		    message_sync_then);
		wk_wbuf_free(&b);
	}
out:
	json_decref(in.o);
}

/* POST /message/syncack {uid, last_message_seq}: everything up to it. */
void
api_route_message_syncack(struct wk_proc *p, struct api_req *r)
{
	struct api_in in = { r, NULL, "syncackReq" };
	const char *uid;
	json_int_t seq;

	if ((in.o = api_body_json(r, JSON_OBJECT, "api.syncackReq")) == NULL)
		return;
	if (api_in_str(&in, "uid", &uid) < 0 ||
	    api_in_int(&in, "last_message_seq", "uint64", 0, API_GO_INT_MAX, &seq) < 0)
		goto out;
	if (api_is_blank(uid))
		api_answer_error(r, 400, "uid不能为空！");
	else if (api_check_len(r, "uid", uid) == 0) {
		struct wk_wbuf b;
		wk_wbuf_init(&b);
		wk_put_str(&b, uid);
		wk_put_u64(&b, (uint64_t)seq);
		api_ask_op_owner(p, r, WK_ROLE_MAILBOX, uid, WK_MSG_MAILBOX_CMD_SYNCACK, &b,
		    api_then_ok);
		wk_wbuf_free(&b);
	}
out:
	json_decref(in.o);
}
