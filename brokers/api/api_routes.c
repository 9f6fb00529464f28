/* api_routes.c - wk-api's routes: validation in the reference's words and
 * shapes, answered here or by the owning shards (wk-api(8)).
 *
 * Request bodies are read the way Go's encoding/json reads them into the
 * reference's structs: unknown fields ignored, null and absent fields are
 * zero, keys matched exactly or else case-insensitively, a value of the
 * wrong JSON type is a 400 naming it.
 *
 * Shard operations (API_REQ op names, JSON bodies; see mailbox_users.c
 * and channel_api.c):
 *   user.token, user.device_quit, user.flags   to the uid's mailbox shard
 *   user.sysuid_add, user.sysuid_remove        to every mailbox shard
 *   user.sysuid_list                           to every mailbox shard (union)
 *   channel.upsert, channel.info, channel.delete, channel.list_add,
 *   channel.list_set, channel.list_remove, channel.list_clear,
 *   channel.list_get                           to the channel's channel shard
 *   message.send, message.sync, message.search, message.get, message.last,
 *   message.max_seq                            to the stored channel's shard
 *   message.sendbatch                          to each recipient chat's shard
 * Message ops carry the stored channel id: a person chat's "a@b" made here
 * from the two uids (semantics.md §2).
 * The flags of a person channel (type 1) are its user's: user.flags.
 * Every mailbox shard keeps the whole system uid set, so that each can
 * answer "is this uid a system account" for any sender or recipient.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/rand.h>
#include "api.h"
#include "wk_chmsg.h"
#include "wk_alloc.h"
#include "wk_channelid.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wkproto.h"


/* The member `key` of o: an exact match first, then a case-insensitive one. */
json_t *
in_get(const struct in *in, const char *key)
{
	const char *k;
	json_t *v = json_object_get(in->o, key);

	if (v != NULL)
		return v;
	json_object_foreach(in->o, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

/* Go's wording for the kind of a JSON value in an unmarshal error. */
static const char *
json_kind(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
		snprintf(buf, len, "number %" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "number %g", json_real_value(v));
		return buf;
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

/* Answer 400 as Go does for a value of the wrong type; returns -1. */
int
bad_type(struct api_req *r, const json_t *v, const char *type, const char *field,
    const char *gotype)
{
	char msg[320], num[64];

	if (field)
		snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
		    json_kind(v, num, sizeof num), type, field, gotype);
	else
		snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go value of type %s",
		    json_kind(v, num, sizeof num), gotype);
	api_answer_error(r, 400, msg);
	return -1;
}

int
is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Parse the body as a JSON value of kind `want` (null counts as empty);
 * NULL after answering 400. */
json_t *
body_json(struct api_req *r, json_type want, const char *gotype)
{
	json_error_t e;
	json_t *j;

	/* Go's decoder reads one value and ignores what follows it. */
	if (is_blank(r->body)) {
		api_answer_error(r, 400, "EOF");
		return NULL;
	}
	if ((j = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e)) == NULL) {
		api_answer_error(r, 400, e.text);
		return NULL;
	}
	if (json_is_null(j)) {
		json_decref(j);
		return want == JSON_OBJECT ? json_object() : json_array();
	}
	if (json_typeof(j) != want) {
		bad_type(r, j, NULL, NULL, gotype);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A string member ("" when absent or null); -1 after answering 400. */
int
in_str(struct in *in, const char *key, const char **out)
{
	json_t *v = in_get(in, key);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad_type(in->r, v, in->type, key, "string");
	*out = json_string_value(v);
	return 0;
}

/* An integer member in [min, max] (0 when absent or null). */
int
in_int(struct in *in, const char *key, const char *gotype, json_int_t min, json_int_t max,
    json_int_t *out)
{
	json_t *v = in_get(in, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bad_type(in->r, v, in->type, key, gotype);
	*out = json_integer_value(v);
	return 0;
}

/* Every element of array a is a string; -1 after answering 400. */
static int
all_strings(struct api_req *r, json_t *a, const char *type, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return bad_type(r, v, type, field, "string");
	return 0;
}

/* An array-of-strings member (NULL when absent or null). */
int
in_strs(struct in *in, const char *key, json_t **out)
{
	json_t *v = in_get(in, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad_type(in->r, v, in->type, key, "[]string");
	if (all_strings(in->r, v, in->type, key) < 0)
		return -1;
	*out = v;
	return 0;
}

/* Send op/body (reference taken over) to the shard of `role` owning key: a
 * uid's mailbox shard or a channel id's channel shard. */
void
ask_owner(struct wk_proc *p, struct api_req *r, int role, const char *key, const char *op,
    json_t *body)
{
	size_t len = strlen(key);
	int shard = role == WK_ROLE_CHANNEL ?
	    wk_shard_channel(key, len, p->cfg.processes_channel) :
	    wk_shard_uid(key, len, p->cfg.processes_mailbox);

	api_ask_role(p, r, role, shard, wk_shard_hash(key, len), op, body, API_GATHER_ALL);
	json_decref(body);
}

void
ask_uid(struct wk_proc *p, struct api_req *r, const char *uid, const char *op, json_t *body)
{
	ask_owner(p, r, WK_ROLE_MAILBOX, uid, op, body);
}

/* Send op/body (reference taken over) to every mailbox shard. */
static void
ask_every_mailbox(struct wk_proc *p, struct api_req *r, const char *op, json_t *body,
    enum api_gather gather)
{
	for (int i = 0; i < p->cfg.processes_mailbox; i++)
		if (api_ask(p, r, i, 0, op, body, gather) < 0)
			break;
	json_decref(body);
}

static void
route_health(struct wk_proc *p, struct api_req *r)
{
	api_answer_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* The port after the last ':' of a listen address, 0 if none (Go's ParseInt). */
static long
addr_port(const char *addr)
{
	const char *s = strrchr(addr, ':');
	char *end;
	long v;

	s = s ? s + 1 : addr;
	v = strtol(s, &end, 10);
	return *s && *end == '\0' ? v : 0;
}

/* A client-facing address: the configured one, or scheme://ip:port derived
 * from the listen address (scheme NULL: ip:port) as the reference does. */
static json_t *
external_addr(const char *configured, const char *listen, int with_scheme, const char *ip)
{
	char buf[512];

	if (!is_blank(configured))
		return json_string(configured);
	if (with_scheme)
		snprintf(buf, sizeof buf, "%.*s://%s:%ld", (int)strcspn(listen, ":"), listen, ip,
		    addr_port(listen));
	else
		snprintf(buf, sizeof buf, "%s:%ld", ip, addr_port(listen));
	return json_string(buf);
}

/* {"tcp_addr","ws_addr","wss_addr"} for /route and /route/batch. */
static json_t *
route_addrs(struct wk_proc *p, struct api_req *r)
{
	const struct wk_config *c = &p->cfg;
	const char *q = api_query(r, "intranet"), *ip;

	if (q && atoi(q) == 1)
		return json_pack("{s:s,s:s,s:s}", "tcp_addr", c->intranet_tcpAddr,
		    "ws_addr", "", "wss_addr", "");
	ip = is_blank(c->external_ip) ? "127.0.0.1" : c->external_ip;
	return json_pack("{s:o,s:o,s:o}",
	    "tcp_addr", external_addr(c->external_tcpAddr, c->addr, 0, ip),
	    "ws_addr", external_addr(c->external_wsAddr, c->wsAddr, 1, ip),
	    "wss_addr", is_blank(c->wssAddr) ? json_string(c->external_wssAddr) :
	    external_addr(c->external_wssAddr, c->wssAddr, 1, ip));
}

static void
route_route(struct wk_proc *p, struct api_req *r)
{
	api_answer_json(r, 200, route_addrs(p, r));
}

/* Body: an array of uids; answer [{"tcp_addr",..,"uids":[...]}]. */
static void
route_route_batch(struct wk_proc *p, struct api_req *r)
{
	json_t *uids = json_loadb(r->body, r->len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	json_t *one;
	size_t i;
	json_t *v;

	if (uids == NULL || !(json_is_array(uids) || json_is_null(uids)))
		goto bad;
	json_array_foreach(uids, i, v)
		if (!json_is_string(v))
			goto bad;
	one = route_addrs(p, r);
	json_object_set_new(one, "uids", uids);
	api_answer_json(r, 200, json_pack("[o]", one));
	return;
bad:
	json_decref(uids);
	api_answer_error(r, 400, "数据格式有误！");
}

/* Validate as the reference does; the user's mailbox shard checks the ban,
 * stores the token and kicks. */
static void
route_user_token(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "UpdateTokenReq" };
	const char *uid, *token;
	json_int_t flag, level;

	if ((in.o = body_json(r, JSON_OBJECT, "api.UpdateTokenReq")) == NULL)
		return;
	if (in_str(&in, "uid", &uid) < 0 || in_str(&in, "token", &token) < 0 ||
	    in_int(&in, "device_flag", "wkproto.DeviceFlag", 0, 255, &flag) < 0 ||
	    in_int(&in, "device_level", "wkproto.DeviceLevel", 0, 255, &level) < 0)
		goto out;
	if (*uid == '\0')
		api_answer_error(r, 400, "uid不能为空！");
	else if (*token == '\0')
		api_answer_error(r, 400, "token不能为空！");
	else if (strpbrk(uid, "@#&") != NULL)
		api_answer_error(r, 400, "uid不能包含特殊字符！");
	else if (strcmp(uid, WK_SYSTEM_UID) == 0)
		api_answer_error(r, 400, "系统账号不允许更新token！");
	else
		ask_uid(p, r, uid, "user.token", json_pack("{s:s,s:s,s:I,s:I}", "uid", uid,
		    "token", token, "device_flag", flag, "device_level", level));
out:
	json_decref(in.o);
}

/* No validation in the reference either: the shard clears and kicks. */
static void
route_user_device_quit(struct wk_proc *p, struct api_req *r)
{
	struct in in = { r, NULL, "struct { UID string; DeviceFlag int }" };
	const char *uid;
	json_int_t flag;

	if ((in.o = body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (in_str(&in, "uid", &uid) == 0 &&
	    in_int(&in, "device_flag", "int", GO_INT_MIN, GO_INT_MAX, &flag) == 0)
		ask_uid(p, r, uid, "user.device_quit", json_pack("{s:s,s:I}", "uid", uid,
		    "device_flag", flag));
	json_decref(in.o);
}

/* Body: an array of uids; one entry per live connection, read from the
 * presence table (no shard is asked). */
static void
route_user_onlinestatus(struct wk_proc *p, struct api_req *r)
{
	static struct wk_ratelimit rl = WK_RATELIMIT_INIT(5);
	struct presence_conn conns[256];
	json_t *uids, *out, *v;
	size_t i;
	int n;

	if ((uids = body_json(r, JSON_ARRAY, "[]string")) == NULL)
		return;
	if (all_strings(r, uids, NULL, NULL) < 0)
		goto done;
	if (json_array_size(uids) == 0) {
		api_answer_ok(r);
		goto done;
	}
	out = json_array();
	json_array_foreach(uids, i, v) {
		n = PRESENCE_EBUSY;
		for (int attempt = 0; attempt < 3 && n == PRESENCE_EBUSY; attempt++)
			n = presence_lookup(&api_state(p)->presence, json_string_value(v), conns,
			    (int)(sizeof conns / sizeof conns[0]));
		if (n == PRESENCE_EBUSY)
			wk_log_limited(&rl, WK_LOG_WARN, "onlinestatus %s: presence busy",
			    json_string_value(v));
		for (int k = 0; k < n; k++)
			json_array_append_new(out, json_pack("{s:s,s:i,s:i}", "uid", conns[k].uid,
			    "device_flag", conns[k].device_flag, "online", 1));
	}
	api_answer_json(r, 200, out);
done:
	json_decref(uids);
}

/* /user/systemuids_add and _remove: {"uids":[...]} to every mailbox shard. */
static void
sysuids_change(struct wk_proc *p, struct api_req *r, const char *op)
{
	struct in in = { r, NULL, "struct { UIDs []string }" };
	json_t *uids, *keep, *v;
	size_t i;

	if ((in.o = body_json(r, JSON_OBJECT, in.type)) == NULL)
		return;
	if (in_strs(&in, "uids", &uids) == 0) {
		keep = json_array();
		json_array_foreach(uids, i, v)
			if (json_string_length(v) > 0)
				json_array_append(keep, v);
		if (json_array_size(keep) == 0) {
			json_decref(keep);
			api_answer_ok(r);
		} else {
			/* The channel shards keep their own copy (the members of the
			 * pseudo channel WK_SYSUID_CHANNEL/0) for their permission
			 * checks; the answer waits for every shard of both kinds. */
			json_t *list = json_pack("{s:s,s:i,s:s,s:O}", "channel_id", WK_SYSUID_CHANNEL,
			    "channel_type", 0, "list", "subscribers", "uids", keep);
			const char *chop = strcmp(op, "user.sysuid_add") == 0 ? "channel.list_add" :
			    "channel.list_remove";
			int failed = 0;
			for (int sh = 0; sh < p->cfg.processes_channel && !failed; sh++)
				failed = api_ask_role(p, r, WK_ROLE_CHANNEL, sh, 0, chop, list,
				    API_GATHER_ALL) < 0;
			json_decref(list);
			if (failed)
				json_decref(keep);   /* r was answered 500 */
			else
				ask_every_mailbox(p, r, op, json_pack("{s:o}", "uids", keep),
				    API_GATHER_ALL);
		}
	}
	json_decref(in.o);
}

static void
route_sysuids_add(struct wk_proc *p, struct api_req *r)
{
	sysuids_change(p, r, "user.sysuid_add");
}

static void
route_sysuids_remove(struct wk_proc *p, struct api_req *r)
{
	sysuids_change(p, r, "user.sysuid_remove");
}

static void
route_sysuids(struct wk_proc *p, struct api_req *r)
{
	ask_every_mailbox(p, r, "user.sysuid_list", json_object(), API_GATHER_UNION);
}

/* ---- The /channel routes: the channel shards (workers/channel_api.c),
 * except the flags of a person channel, which are its user's and live in
 * the user's mailbox shard (user.flags). ---- */

#define BAD_DATA "数据格式有误！"

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
 * with it wrapped as BAD_DATA ": " error, or with BAD_DATA alone. */
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
		api_answer_error(r, 400, BAD_DATA);
	if (mode != ERR_WRAP)
		return;
	j = json_loadb(r->resp, r->resp_len, 0, NULL);
	err = json_string_value(json_object_get(j, "msg"));
	msg = wk_asprintf("%s: %s", BAD_DATA, err ? err : "");
	api_answer_error(r, 400, msg);
	free(msg);
	json_decref(j);
}

/* A longer channel id or uid than wk-channel stores: 400; returns -1. */
int
check_len(struct api_req *r, const char *what, const char *s)
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
	struct in in = { r, NULL, type };
	char gotype[64];
	size_t i;
	json_t *v;
	int rc = 0;

	memset(cr, 0, sizeof *cr);
	snprintf(gotype, sizeof gotype, "api.%s", type);
	if ((cr->o = in.o = body_json(r, JSON_OBJECT, gotype)) == NULL)
		rc = -1;
	else if (in_str(&in, "channel_id", &cr->id) < 0 ||
	    in_int(&in, "channel_type", "uint8", 0, 255, &cr->type) < 0 ||
	    ((fields & CR_RESET) && in_int(&in, "reset", "int", GO_INT_MIN, GO_INT_MAX,
	    &cr->reset) < 0) ||
	    ((fields & CR_TEMP) && in_int(&in, "temp_subscriber", "int", GO_INT_MIN, GO_INT_MAX,
	    &cr->temp) < 0) ||
	    ((fields & CR_SUBSCRIBERS) && in_strs(&in, "subscribers", &cr->list) < 0) ||
	    ((fields & CR_UIDS) && in_strs(&in, "uids", &cr->list) < 0))
		rc = -1;
	for (i = 0; rc == 0 && (fields & CR_FLAGS) && i < CR_NFLAGS; i++)
		rc = in_int(&in, channel_flags[i], "int", GO_INT_MIN, GO_INT_MAX, &cr->flags[i]);
	if (rc < 0)
		decode_failed(r, mode);
	else if (check_len(r, "channel_id", cr->id) < 0)
		rc = -1;
	json_array_foreach(cr->list, i, v)
		if (rc == 0 && check_len(r, "uid", json_string_value(v)) < 0)
			rc = -1;
	if (rc < 0)
		json_decref(cr->o);
	return rc;
}

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
		if (!is_blank(json_string_value(v)))
			return 0;
	return 1;
}

int
has_special(const char *id)
{
	return strpbrk(id, "@#&") != NULL;
}

/* The channel shard's request: the key, the flags, reset, a list op's
 * list name and uids. */
static json_t *
chan_body(const struct chan_req *cr, const char *list)
{
	json_t *b = json_pack("{s:s,s:I,s:I}", "channel_id", cr->id, "channel_type", cr->type,
	    "reset", cr->reset);

	for (int i = 0; i < CR_NFLAGS; i++)
		json_object_set_new(b, channel_flags[i], json_integer(cr->flags[i]));
	if (list)
		json_object_set_new(b, "list", json_string(list));
	if (cr->list)
		json_object_set(b, "uids", cr->list);
	return b;
}

/* Send op to the channel shard of cr's channel. */
static void
ask_channel(struct wk_proc *p, struct api_req *r, const struct chan_req *cr, const char *op,
    const char *list)
{
	ask_owner(p, r, WK_ROLE_CHANNEL, cr->id, op, chan_body(cr, list));
}

/* A person channel's flags are its user's: the mailbox shard keeps them. */
static void
ask_user_flags(struct wk_proc *p, struct api_req *r, const struct chan_req *cr)
{
	json_t *body = json_pack("{s:s}", "uid", cr->id);

	for (int i = 0; i < CR_NFLAGS; i++)
		json_object_set_new(body, channel_flags[i], json_integer(cr->flags[i] == 1));
	ask_uid(p, r, cr->id, "user.flags", body);
}

/* POST /channel: upsert the flags (all overwritten), then the subscribers
 * as /channel/subscriber_add does (reset first if asked). */
static void
route_channel(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;
	const char *err = NULL;

	if (chan_read(r, "channelCreateReq", CR_FLAGS | CR_RESET | CR_SUBSCRIBERS, ERR_WRAP,
	    &cr) < 0)
		return;
	if (is_blank(cr.id))
		err = "频道ID不能为空！";
	else if (cr.type == 0)
		err = "频道类型错误！";
	else if (has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if (cr.type == 1 && json_array_size(cr.list) > 0)
		err = "不支持个人频道添加订阅者！";
	if (err)
		api_answer_error(r, 400, err);
	else if (cr.type == 1)
		ask_user_flags(p, r, &cr);
	else
		api_conv_members(p, r, "channel.upsert", chan_body(&cr, "subscribers"), cr.list,
		    "reset");
	chan_done(&cr);
}

/* POST /channel/info: the flags, all overwritten; no validation. */
static void
route_channel_info(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;

	if (chan_read(r, "channelInfoReq", CR_FLAGS, ERR_FIXED, &cr) < 0)
		return;
	if (cr.type == 1)
		ask_user_flags(p, r, &cr);
	else
		ask_channel(p, r, &cr, "channel.info", NULL);
	chan_done(&cr);
}

/* POST /channel/delete: disband, and (unlike the reference) remove the
 * members, lists and messages.  A channel that does not exist is OK. */
static void
route_channel_delete(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr;

	if (chan_read(r, "channelDeleteReq", 0, ERR_WRAP, &cr) < 0)
		return;
	if (cr.type == 1)
		api_answer_error(r, 400, "个人频道不支持添加订阅者！");
	else
		ask_channel(p, r, &cr, "channel.delete", NULL);
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
	if (is_blank(cr.id))
		err = "频道ID不能为空！";
	else if (has_special(cr.id))
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
		/* Only add defaults the type to group, as the reference does. */
		if (add && cr.type == 0)
			cr.type = 2;
		api_conv_members(p, r, add ? "channel.list_add" : "channel.list_remove",
		    chan_body(&cr, "subscribers"), cr.list, add ? "reset" : "remove");
	}
	chan_done(&cr);
}

static void
route_subscriber_add(struct wk_proc *p, struct api_req *r)
{
	subscriber_change(p, r, 1);
}

static void
route_subscriber_remove(struct wk_proc *p, struct api_req *r)
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

static void
route_subscriber_remove_all(struct wk_proc *p, struct api_req *r)
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
	else
		ask_channel(p, r, &cr, "channel.list_clear", "subscribers");
	chan_done(&cr);
}

/* The blacklist and whitelist routes.  The whitelist's add and remove also
 * refuse special characters in the channel id and blank uid lists. */
static void
list_route(struct wk_proc *p, struct api_req *r, const char *list, enum list_route what)
{
	static const char *const ops[] = {
		[LR_ADD] = "channel.list_add", [LR_SET] = "channel.list_set",
		[LR_REMOVE] = "channel.list_remove", [LR_REMOVE_ALL] = "channel.list_clear",
	};
	int white = strcmp(list, "whitelist") == 0;
	struct chan_req cr;
	const char *err;

	if (chan_read(r, white ? "whitelistReq" : "blacklistReq",
	    what == LR_REMOVE_ALL ? 0 : CR_UIDS, ERR_RAW, &cr) < 0)
		return;
	if (what == LR_SET)
		err = is_blank(cr.id) ? "频道ID不能为空！" : NULL;
	else if (what == LR_REMOVE_ALL)
		err = key_error(&cr);
	else if (*cr.id != '\0' && white && has_special(cr.id))
		err = "频道ID不能包含特殊字符！";
	else if ((err = key_error(&cr)) == NULL &&
	    (white ? strings_blank(cr.list) : json_array_size(cr.list) == 0))
		err = "uids不能为空！";
	if (err)
		api_answer_error(r, 400, err);
	else if (!white && (what == LR_ADD || what == LR_REMOVE))
		/* A blacklisted member has no conversation; taken off, it has. */
		api_conv_members(p, r, ops[what], chan_body(&cr, list), cr.list,
		    what == LR_ADD ? "remove" : "missing");
	else
		ask_channel(p, r, &cr, ops[what], list);
	chan_done(&cr);
}

/* POST /channel/{blacklist,whitelist}_{add,set,remove,remove_all}: the
 * list and what to do with it are read from the route's path. */
static void
route_list(struct wk_proc *p, struct api_req *r)
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

/* GET /channel/whitelist?channel_id=&channel_type=: the entries, a bare
 * array.  A channel_type that is not a uint8 reads as 0, as Go's
 * ParseUint8 does. */
static json_int_t
query_type(struct api_req *r)
{
	const char *t = api_query(r, "channel_type");
	char *end;
	long v;

	if (t == NULL || *t == '\0')
		return 0;
	v = strtol(t, &end, 10);
	return *end == '\0' && v >= 0 && v <= 255 ? v : 0;
}

/* A query argument, "" when absent. */
static const char *
query_str(struct api_req *r, const char *name)
{
	const char *v = api_query(r, name);

	return v ? v : "";
}

static void
route_whitelist_get(struct wk_proc *p, struct api_req *r)
{
	struct chan_req cr = { .id = query_str(r, "channel_id"), .type = query_type(r) };

	if (check_len(r, "channel_id", cr.id) == 0)
		ask_channel(p, r, &cr, "channel.list_get", "whitelist");
}

/* ---- The message routes: the stored channel's shard (workers/channel_api.c,
 * message.* ops). ---- */

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
static void
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
static void
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
static void
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
static void
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
static void
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
static void
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

static void
route_max_message_seq(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, "message.max_seq");
}

static void
route_last_message(struct wk_proc *p, struct api_req *r)
{
	channel_query(p, r, "message.last");
}

static const struct api_route api_routes[] = {
	{ "GET", "/health", route_health },
	{ "GET", "/route", route_route },
	{ "POST", "/route/batch", route_route_batch },
	{ "POST", "/user/token", route_user_token },
	{ "POST", "/user/device_quit", route_user_device_quit },
	{ "POST", "/user/onlinestatus", route_user_onlinestatus },
	{ "POST", "/user/systemuids_add", route_sysuids_add },
	{ "POST", "/user/systemuids_remove", route_sysuids_remove },
	{ "GET", "/user/systemuids", route_sysuids },
	{ "POST", "/channel", route_channel },
	{ "POST", "/channel/info", route_channel_info },
	{ "POST", "/channel/delete", route_channel_delete },
	{ "POST", "/channel/subscriber_add", route_subscriber_add },
	{ "POST", "/channel/subscriber_remove", route_subscriber_remove },
	{ "POST", "/channel/subscriber_remove_all", route_subscriber_remove_all },
	{ "POST", "/channel/blacklist_add", route_list },
	{ "POST", "/channel/blacklist_set", route_list },
	{ "POST", "/channel/blacklist_remove", route_list },
	{ "POST", "/channel/blacklist_remove_all", route_list },
	{ "POST", "/channel/whitelist_add", route_list },
	{ "POST", "/channel/whitelist_set", route_list },
	{ "POST", "/channel/whitelist_remove", route_list },
	{ "POST", "/channel/whitelist_remove_all", route_list },
	{ "GET", "/channel/whitelist", route_whitelist_get },
	{ "POST", "/message/send", route_message_send },
	{ "POST", "/message/sendbatch", route_message_sendbatch },
	{ "POST", "/messages", route_messages },
	{ "POST", "/message", route_message },
	{ "GET", "/message/byclientmsgno", route_message_byclientmsgno },
	{ "POST", "/channel/messagesync", route_channel_messagesync },
	{ "GET", "/channel/max_message_seq", route_max_message_seq },
	{ "GET", "/channel/last_message", route_last_message },
	{ "POST", "/message/event", route_message_event },
	{ "POST", "/message/eventsync", route_message_eventsync },
	{ "POST", "/conversation/sync", route_conversation_sync },
	{ "POST", "/conversation/syncByChannels", route_conversation_sync_by_channels },
	{ "POST", "/conversation/channels", route_conversation_channels },
	{ "POST", "/conversations/setUnread", route_conversations_set_unread },
	{ "POST", "/conversations/clearUnread", route_conversations_clear_unread },
	{ "POST", "/conversations/delete", route_conversations_delete },
	{ "POST", "/message/sync", route_message_sync },
	{ "POST", "/message/syncack", route_message_syncack },
};

const struct api_route *
api_route_find(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (strcmp(api_routes[i].path, path) == 0 && strcmp(api_routes[i].method, method) == 0)
			return &api_routes[i];
	return NULL;
}
