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
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "wk_json.h"
#include "channel.h"
#include "wk_alloc.h"
#include "wk_log.h"

/* A reply waiting for the commit. */
struct reply {
	struct wk_msg_hdr h;
	unsigned status;
	json_t *body;
};

static void
reply_error(struct reply *rep, unsigned status, const char *msg)
{
	rep->status = status;
	rep->body = json_pack("{s:s,s:i}", "msg", msg, "status", (int)status);
}

static void
reply_ok(struct reply *rep)
{
	rep->status = 200;
	rep->body = json_pack("{s:i}", "status", 200);
}

/* A store call failed: the transaction must not commit half an operation. */
static void
reply_storage_error(struct wk_proc *p, struct reply *rep)
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
op_info(struct wk_proc *p, json_t *req, struct reply *rep, int arg)
{
	if (put_info(p, req) < 0)
		reply_storage_error(p, rep);
	else
		reply_ok(rep);
}

/* channel.delete: nothing to do for a channel that never existed. */
static void
op_delete(struct wk_proc *p, json_t *req, struct reply *rep, int arg)
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
op_list(struct wk_proc *p, json_t *req, struct reply *rep, int action)
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
op_upsert(struct wk_proc *p, json_t *req, struct reply *rep, int arg)
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
op_list_get(struct wk_proc *p, json_t *req, struct reply *rep, int arg)
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
op_get(struct wk_proc *p, json_t *req, struct reply *rep, int arg)
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

/* The ops: name, handler, and the argument it is given. */
static const struct {
	const char *name;
	void (*fn)(struct wk_proc *p, json_t *req, struct reply *rep, int arg);
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
};

/* Send the reply once the transaction has ended: as made if it committed,
 * 500 if it did not. */
static void
reply_send(struct wk_proc *p, int rc, void *arg)
{
	struct reply *rep = arg;
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
	struct reply *rep = wk_calloc(1, sizeof *rep);
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
	if (channel_after_commit(p, reply_send, rep) < 0)
		reply_send(p, -1, rep);
}
