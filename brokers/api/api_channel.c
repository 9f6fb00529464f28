/* api_channel.c - the /channel routes (wk-api(8)): validated here in the
 * reference's words, then answered by the channel's shard (the op rows
 * CHANNEL_UPSERT, CHANNEL_INFO, CHANNEL_DELETE, CHANNEL_LIST,
 * CHANNEL_LIST_GET), except the flags of a person channel, which are its
 * user's and live in the user's mailbox shard.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_log.h"


/* What a channel request body may carry besides channel_id, channel_type. */
enum {
	CR_FLAGS = 0x01,             /* ban, send_ban, disband, large, allow_stranger */
	CR_RESET = 0x02,
	CR_TEMP = 0x04,              /* temp_subscriber */
	CR_SUBSCRIBERS = 0x08,
	CR_UIDS = 0x10,
};
#define CR_NFLAGS 5
static const char *const channel_flags[CR_NFLAGS] = {
	"ban", "send_ban", "disband", "large", "allow_stranger",
};

/* How the reference answers a body that does not decode: with Go's error,
 * with it wrapped as API_BAD_DATA ": " error, or with API_BAD_DATA alone. */
enum decode_err { ERR_RAW, ERR_WRAP, ERR_FIXED };

/* A channel request as the reference's Go struct holds it. */
struct chan_req {
	json_t *o;                   /* the body */
	const char *id;
	json_int_t type, reset, temp;
	json_int_t flags[CR_NFLAGS];
	json_t *list;                /* subscribers or uids; NULL when absent */
};

/* Re-answer a decode error (already answered with Go's text) as `mode` says. */
static void
decode_failed(struct api_req *r, enum decode_err mode)
{
	const char *err;
	json_t *j;
	char *msg;

	if (mode == ERR_FIXED)
		api_answer_error(r, 400, API_BAD_DATA);
	if (mode != ERR_WRAP)
		return;
	j = json_loadb(r->resp, r->resp_len, 0, NULL);
	err = json_string_value(json_object_get(j, "msg"));
	msg = wk_asprintf("%s: %s", API_BAD_DATA, err ? err : "");
	api_answer_error(r, 400, msg);
	free(msg);
	json_decref(j);
}

/* A longer channel id or uid than wk-channel stores: 400; returns -1. */
int
api_check_len(struct api_req *r, const char *what, const char *s)
{
	char msg[128];

	if (strlen(s) <= API_CHANNEL_ID_MAX)
		return 0;
	snprintf(msg, sizeof msg, "%s is longer than %d bytes", what, API_CHANNEL_ID_MAX);
	api_answer_error(r, 400, msg);
	return -1;
}

/* Read the body of a channel route as Go type `type` with the `fields`
 * asked for: 0 (chan_done frees it), or -1 after answering 400. */
static int
chan_read(struct api_req *r, const char *type, unsigned fields, enum decode_err mode,
    struct chan_req *cr)
{
	struct api_in in = { r, NULL, type };
	char gotype[64];
	size_t i;
	json_t *v;
	int rc = 0;

	memset(cr, 0, sizeof *cr);
	snprintf(gotype, sizeof gotype, "api.%s", type);
	if ((cr->o = in.o = api_body_json(r, JSON_OBJECT, gotype)) == NULL)
		rc = -1;
	else if (api_in_str(&in, "channel_id", &cr->id) < 0 ||
	    api_in_int(&in, "channel_type", "uint8", 0, 255, &cr->type) < 0 ||
	    ((fields & CR_RESET) && api_in_int(&in, "reset", "int", API_GO_INT_MIN, API_GO_INT_MAX,
	    &cr->reset) < 0) ||
	    ((fields & CR_TEMP) && api_in_int(&in, "temp_subscriber", "int", API_GO_INT_MIN, API_GO_INT_MAX,
	    &cr->temp) < 0) ||
	    ((fields & CR_SUBSCRIBERS) && api_in_strs(&in, "subscribers", &cr->list) < 0) ||
	    ((fields & CR_UIDS) && api_in_strs(&in, "uids", &cr->list) < 0))
		rc = -1;
	for (i = 0; rc == 0 && (fields & CR_FLAGS) && i < CR_NFLAGS; i++)
		rc = api_in_int(&in, channel_flags[i], "int", API_GO_INT_MIN, API_GO_INT_MAX, &cr->flags[i]);
	if (rc < 0)
		decode_failed(r, mode);
	else if (api_check_len(r, "channel_id", cr->id) < 0)
		rc = -1;
	json_array_foreach(cr->list, i, v)
		if (rc == 0 && api_check_len(r, "uid", json_string_value(v)) < 0)
			rc = -1;
	if (rc < 0)
		json_decref(cr->o);
	return rc;
}

/* Release what chan_read kept of the request body (its JSON object). */
static void
chan_done(struct chan_req *cr)
{
	json_decref(cr->o);
}

/* Go's stringArrayIsEmpty: no element, or only blank ones. */
static int
strings_blank(json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!api_is_blank(json_string_value(v)))
			return 0;
	return 1;
}

/* Does a channel id hold '@', '#' or '&': POST /channel and the subscriber
 * routes refuse those ('@' joins the two uids of a person chat's stored id). */
int
api_has_special(const char *id)
{
	return strpbrk(id, "@#&") != NULL;
}

/* The start of CHANNEL_UPSERT and CHANNEL_INFO rows: cr's key, then the
 * flags byte, in which a flag is set by 1. */
static void
flags_row(struct wk_wbuf *w, const struct chan_req *cr)
{
	static const uint8_t bits[CR_NFLAGS] = {
		WK_CHANNEL_BAN, WK_CHANNEL_SEND_BAN, WK_CHANNEL_DISBAND, WK_CHANNEL_LARGE,
		WK_CHANNEL_ALLOW_STRANGER,
	};
	uint8_t f = 0;

	for (int i = 0; i < CR_NFLAGS; i++)
		if (cr->flags[i] == 1)
			f |= bits[i];
	wk_wbuf_init(w);
	api_put_key(w, cr->id, cr->type);
	wk_put_u8(w, f);
}

/* The CHANNEL_LIST row of cr: list 'm', 'b' or 'w', an action, cr's uids. */
static void
list_row(struct wk_wbuf *w, const struct chan_req *cr, char list, int action)
{
	wk_wbuf_init(w);
	api_put_key(w, cr->id, cr->type);
	wk_put_u8(w, (uint8_t)list);
	wk_put_u8(w, (uint8_t)action);
	api_put_strs(w, action == WK_CHANNEL_LIST_CLEAR ? NULL : cr->list);
}

/* Send op row `type` (payload w, freed) to the shard of cr's channel;
 * its empty answer is {"status":200}. */
static void
ask_channel(struct wk_proc *p, struct api_req *r, const struct chan_req *cr, int type,
    struct wk_wbuf *w)
{
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, cr->id, type, w, api_then_ok);
	wk_wbuf_free(w);
}

/* A membership change: row `type` (payload w, freed), then the members'
 * conversation rows (api_conv_members). */
static void
ask_members(struct wk_proc *p, struct api_req *r, const struct chan_req *cr, int type,
    struct wk_wbuf *w, const char *mode)
{
	api_conv_members(p, r, type, w, cr->id, cr->type, cr->list, mode);
	wk_wbuf_free(w);
}

/* A person channel's flags are its user's: the mailbox shard keeps them. */
static void
ask_user_flags(struct wk_proc *p, struct api_req *r, const struct chan_req *cr)
{
	struct wk_wbuf b;

	if (api_check_len(r, "channel_id", cr->id) < 0)
		return;
	wk_wbuf_init(&b);
	wk_put_str(&b, cr->id);
	for (int i = 0; i < CR_NFLAGS; i++)   /* in MAILBOX_USER_FLAGS' order */
		wk_put_u8(&b, cr->flags[i] == 1);
	api_ask_op_owner(p, r, WK_ROLE_MAILBOX, cr->id, WK_MSG_MAILBOX_USER_FLAGS, &b, api_then_ok);
	wk_wbuf_free(&b);
}

/* POST /channel: upsert the flags (all overwritten), then the subscribers
 * as /channel/subscriber_add does (reset first if asked). */
void
api_route_channel(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;
	const char *err = NULL;

	if (chan_read(r, "channelCreateReq", CR_FLAGS | CR_RESET | CR_SUBSCRIBERS, ERR_WRAP,
	    &cr) < 0)
		return;
	if (api_is_blank(cr.id))
		err = "频道ID不能为空！";
	else if (cr.type == 0)
		err = "频道类型错误！";
	else if (api_has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if (cr.type == 1 && json_array_size(cr.list) > 0)
		err = "不支持个人频道添加订阅者！";
	if (err)
		api_answer_error(r, 400, err);
	else if (cr.type == 1)
		ask_user_flags(p, r, &cr);
	else {
		struct wk_wbuf w;
		flags_row(&w, &cr);
		wk_put_u8(&w, cr.reset == 1);
		api_put_strs(&w, cr.list);
		ask_members(p, r, &cr, WK_MSG_CHANNEL_UPSERT, &w, "reset");
	}
	chan_done(&cr);
}

/* POST /channel/info: the flags, all overwritten; no validation. */
void
api_route_channel_info(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;

	if (chan_read(r, "channelInfoReq", CR_FLAGS, ERR_FIXED, &cr) < 0)
		return;
	if (cr.type == 1)
		ask_user_flags(p, r, &cr);
	else {
		struct wk_wbuf w;
		flags_row(&w, &cr);
		ask_channel(p, r, &cr, WK_MSG_CHANNEL_INFO, &w);
	}
	chan_done(&cr);
}

/* POST /channel/delete: disband, and (unlike the reference) remove the
 * members, lists and messages.  A channel that does not exist is OK. */
void
api_route_channel_delete(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;

	if (chan_read(r, "channelDeleteReq", 0, ERR_WRAP, &cr) < 0)
		return;
	if (cr.type == 1)
		api_answer_error(r, 400, "个人频道不支持添加订阅者！");
	else {
		struct wk_wbuf w;
		wk_wbuf_init(&w);
		api_put_key(&w, cr.id, cr.type);
		ask_channel(p, r, &cr, WK_MSG_CHANNEL_DELETE, &w);
	}
	chan_done(&cr);
}

/* /channel/subscriber_add and _remove: the reference's Check, then its
 * person-channel and temp_subscriber refusals. */
static void
subscriber_change(struct wk_proc *p, struct api_req *r, int add)
{
	struct chan_req cr;
	const char *err = NULL;

	if (chan_read(r, add ? "subscriberAddReq" : "subscriberRemoveReq",
	    CR_SUBSCRIBERS | CR_TEMP | (add ? CR_RESET : 0), ERR_WRAP, &cr) < 0)
		return;
	if (api_is_blank(cr.id))
		err = "频道ID不能为空！";
	else if (api_has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if (strings_blank(cr.list))
		err = "订阅者不能为空！";
	else if (cr.type == 1)
		err = "个人频道不支持添加订阅者！";
	else if (add && cr.temp == 1)
		err = "新版本临时订阅者已不支持！";
	if (err)
		api_answer_error(r, 400, err);
	else {
		struct wk_wbuf w;
		/* Only add defaults the type to group, as the reference does. */
		if (add && cr.type == 0)
			cr.type = 2;
		list_row(&w, &cr, 'm', !add ? WK_CHANNEL_LIST_REMOVE : cr.reset == 1 ?
		    WK_CHANNEL_LIST_SET : WK_CHANNEL_LIST_ADD);
		ask_members(p, r, &cr, WK_MSG_CHANNEL_LIST, &w, add ? "reset" : "remove");
	}
	chan_done(&cr);
}

/* POST /channel/subscriber_add: the uids join the channel's members. */
void
api_route_subscriber_add(struct wk_proc *p, struct api_req *r)
{
	subscriber_change(p, r, 1);
}

/* POST /channel/subscriber_remove: the uids leave the members. */
void
api_route_subscriber_remove(struct wk_proc *p, struct api_req *r)
{
	subscriber_change(p, r, 0);
}

/* The list routes: what the request does with the list. */
enum list_route { LR_ADD, LR_SET, LR_REMOVE, LR_REMOVE_ALL };

/* The reference's check of channel_id and channel_type in the list and
 * *_remove_all routes: the error, or NULL if they pass. */
static const char *
key_error(const struct chan_req *cr)
{
	if (*cr->id == '\0')
		return "channel_id不能为空！";
	if (cr->type == 0)
		return "频道类型不能为0！";
	return NULL;
}

/* POST /channel/subscriber_remove_all: empty the member list in one prefix
 * delete on the channel's shard; a person channel (type 1) is refused with
 * the reference's message. */
void
api_route_subscriber_remove_all(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;
	const char *err;

	if (chan_read(r, "subscriberRemoveReq", 0, ERR_WRAP, &cr) < 0)
		return;
	err = key_error(&cr);
	if (err == NULL && cr.type == 1)
		err = "个人频道不支持此操作！";
	if (err)
		api_answer_error(r, 400, err);
	else {
		struct wk_wbuf w;
		list_row(&w, &cr, 'm', WK_CHANNEL_LIST_CLEAR);
		ask_channel(p, r, &cr, WK_MSG_CHANNEL_LIST, &w);
	}
	chan_done(&cr);
}

/* POST /tmpchannel/subscriber_set: the members of temporary channel
 * (channel_id, 8) become exactly uids.  The reference keeps them as a tag in
 * memory; wk stores them as the channel's members, so a later
 * /message/send to (channel_id, 8) reaches them, after a restart too.  A
 * temporary channel makes no conversation rows (semantics.md §1). */
void
api_route_tmp_subscriber_set(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;
	const char *err = NULL;

	if (chan_read(r, "tmpSubscriberSetReq", CR_UIDS, ERR_WRAP, &cr) < 0)
		return;
	if (*cr.id == '\0')
		err = "channel_id不能为空！";
	else if (api_has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if (json_array_size(cr.list) == 0)
		err = "uids不能为空！";
	if (err)
		api_answer_error(r, 400, err);
	else {
		struct wk_wbuf w;
		cr.type = WKPROTO_CHANNEL_TEMP;
		list_row(&w, &cr, 'm', WK_CHANNEL_LIST_SET);
		ask_channel(p, r, &cr, WK_MSG_CHANNEL_LIST, &w);
	}
	chan_done(&cr);
}

/* The blacklist and whitelist routes.  The whitelist's add and remove also
 * refuse special characters in the channel id and blank uid lists. */
static void
list_route(struct wk_proc *p, struct api_req *r, const char *list, enum list_route what)
{
	static const int actions[] = {
		[LR_ADD] = WK_CHANNEL_LIST_ADD, [LR_SET] = WK_CHANNEL_LIST_SET,
		[LR_REMOVE] = WK_CHANNEL_LIST_REMOVE, [LR_REMOVE_ALL] = WK_CHANNEL_LIST_CLEAR,
	};
	int white = strcmp(list, "whitelist") == 0;
	struct chan_req cr;
	struct wk_wbuf w;
	const char *err;

	if (chan_read(r, white ? "whitelistReq" : "blacklistReq",
	    what == LR_REMOVE_ALL ? 0 : CR_UIDS, ERR_RAW, &cr) < 0)
		return;
	if (what == LR_SET)
		err = api_is_blank(cr.id) ? "频道ID不能为空！" : NULL;
	else if (what == LR_REMOVE_ALL)
		err = key_error(&cr);
	else if (*cr.id != '\0' && white && api_has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if ((err = key_error(&cr)) == NULL &&
	    (white ? strings_blank(cr.list) : json_array_size(cr.list) == 0))
		err = "uids不能为空！";
	if (err) {
		api_answer_error(r, 400, err);
		chan_done(&cr);
		return;
	}
	list_row(&w, &cr, white ? 'w' : 'b', actions[what]);
	if (!white && (what == LR_ADD || what == LR_REMOVE))
		/* A blacklisted member has no conversation; taken off, it has. */
		ask_members(p, r, &cr, WK_MSG_CHANNEL_LIST, &w, what == LR_ADD ? "remove" : "missing");
	else
		ask_channel(p, r, &cr, WK_MSG_CHANNEL_LIST, &w);
	chan_done(&cr);
}

/* POST /channel/{blacklist,whitelist}_{add,set,remove,remove_all}: the
 * list and what to do with it are read from the route's path. */
void
api_route_list(struct wk_proc *p, struct api_req *r)
{
	static const char *const actions[] = {
		[LR_ADD] = "add", [LR_SET] = "set", [LR_REMOVE] = "remove",
		[LR_REMOVE_ALL] = "remove_all",
	};
	const char *name = r->route->path + strlen("/channel/"), *action = strchr(name, '_');
	char list[16];

	snprintf(list, sizeof list, "%.*s", (int)(action - name), name);
	for (int i = 0; i < (int)(sizeof actions / sizeof actions[0]); i++)
		if (strcmp(action + 1, actions[i]) == 0)
			list_route(p, r, list, (enum list_route)i);
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

/* CHANNEL_LIST_GET answered: the entries, a bare array. */
static void
whitelist_then(struct wk_proc *p, struct api_req *r)
{
	json_t *out = json_array();
	struct wk_rbuf rb;
	uint32_t n;

	(void)p;
	api_op_read(r, 0, &rb);
	n = wk_get_u32(&rb);
	for (uint32_t i = 0; i < n && !rb.err; i++) {
		uint64_t id = wk_get_u64(&rb), created, updated;
		size_t len;
		const char *uid = wk_get_strv(&rb, &len);
		created = wk_get_u64(&rb);
		updated = wk_get_u64(&rb);
		json_array_append_new(out, json_pack("{s:I,s:s#,s:o,s:o}", "id", (json_int_t)id,
		    "uid", uid, len, "created_at", json_time(created), "updated_at",
		    json_time(updated)));
	}
	if (wk_rbuf_done(&rb) < 0)
		api_op_malformed(r, 0);
	api_answer_json(r, 200, out);
}

/* GET /channel/whitelist?channel_id=&channel_type=: the entries, a bare
 * array. */
void
api_route_whitelist_get(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr = { .id = api_query_str(r, "channel_id"), .type = api_query_type(r) };
	struct wk_wbuf w;

	if (api_check_len(r, "channel_id", cr.id) < 0)
		return;
	wk_wbuf_init(&w);
	api_put_key(&w, cr.id, cr.type);
	wk_put_u8(&w, 'w');
	api_ask_op_owner(p, r, WK_ROLE_CHANNEL, cr.id, WK_MSG_CHANNEL_LIST_GET, &w, whitelist_then);
	wk_wbuf_free(&w);
}
