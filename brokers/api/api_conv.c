/* api_conv.c - wk-api's conversation and cmd-mailbox routes (wk-api(8)),
 * but /conversation/sync and syncByChannels (api_convsync.c).
 *
 * Read mode: a conversation is computed when it is asked for, from the
 * user's rows in its mailbox shard (MAILBOX_CONV_ROWS: read cursor,
 * deleted-at) and the channels' messages.  Routes that move a read cursor
 * ask the channel's last seq first (CHANNEL_MSG_MAX_SEQ), then the mailbox
 * (MAILBOX_CONV_SET / _DELETE).  Membership changes (api_channel.c) end
 * here too: api_conv_members.  /conversation/channels lists the rows.
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

/* A cmd twin ("<id>____cmd"): never a conversation of its own. */
int
api_conv_is_cmd(const char *id, size_t n)
{
	size_t sl = sizeof CMD_SUFFIX - 1;

	return n >= sl && memcmp(id + n - sl, CMD_SUFFIX, sl) == 0;
}

/* What a route remembers between rounds (r->ctx). */
struct conv_ctx {
	char *uid;
	char sid[API_STORED_ID_MAX];     /* the stored channel id */
	json_int_t type;
	json_int_t n;                /* unread (setUnread) */
	json_t *req;                 /* the request body */
	json_t *uids;                /* membership: the members */
	const char *mode;            /* membership: conv.set mode, or "remove" */
};

static void
ctx_free(void *arg)
{
	struct conv_ctx *c = arg;

	if (c == NULL)
		return;
	free(c->uid);
	json_decref(c->req);
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
	wk_get_u8(&rb);                  /* filtered: never asked here */
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

/* /conversation/channels: the rows' channels (person chats as stored ids,
 * as the reference answers them). */
static void
channels_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array(), *rows = rows_json(r), *row;
	size_t i;

	json_array_foreach(rows, i, row)
		if (!api_conv_is_cmd(json_string_value(json_array_get(row, 0)),
		    json_string_length(json_array_get(row, 0))))
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
			api_conv_ask_rows(p, r, uid, (uint32_t)p->cfg.conversation_userMaxCount,
			    0, 0, channels_then);
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
