/* channel_conv.c - what a recent-conversation sync needs of the channels
 * this shard owns (wk-channel(8), read mode).
 *
 * Nothing is written per member when a message arrives: wk-api asks the
 * user's mailbox shard for the user's rows (read cursor, deleted-at), then
 * every channel shard concerned, in parallel, for this op:
 *   conv.recents {uid, msg_count, items: [[stored id, type, start seq], ...]}
 *     -> [[last_seq, user_last_seq, [MessageResp newest first]], ...]
 * one entry per item, in the items' order.  recents are the newest
 * msg_count messages with seq >= start (start 0: the newest); user_last_seq
 * is the last message uid sent there (senders.db), which counts as read. */
#include <string.h>
#include "channel.h"
#include "wk_json.h"
#include "wk_log.h"

#define RECENTS_MAX 10000            /* msg_count above this is clamped (as messagesync) */

struct recents {
	const char *id;
	uint8_t type;
	json_t *list;
};

static int
recent(const struct channel_msg *m, void *arg)
{
	struct recents *r = arg;

	json_array_append_new(r->list, channel_msg_json(r->id, r->type, m));
	return 0;
}

/* One item: 0, or -1 on a storage error. */
static int
conv_item(struct wk_proc *p, const char *uid, json_t *item, json_int_t count, json_t *out)
{
	struct recents r = { json_string_value(json_array_get(item, 0)),
	    (uint8_t)json_integer_value(json_array_get(item, 1)), json_array() };
	json_int_t start = json_integer_value(json_array_get(item, 2));
	struct channel_info ci;
	uint32_t mine = 0, last = 0;
	long n = 0;
	int rc = 0;

	/* wk-api validated the ids: nothing is stored under a longer one. */
	if (r.id != NULL && strlen(r.id) <= CHANNEL_ID_MAX &&
	    (rc = channel_get(p, r.id, r.type, &ci)) == 1 && ci.last_seq > 0) {
		last = ci.last_seq;
		if (start < 1)
			start = 1;
		/* Nothing new since the client's position (the usual incremental
		 * sync): no walk and no read of the sender index. */
		if (start <= ci.last_seq)
			n = channel_msg_range(p, r.id, r.type, (uint32_t)start, 0, (uint32_t)count, 1,
			    recent, &r);
		/* A member taken off by a reset, remove_all or a disband still
		 * has its row; it is not shown what came after. */
		if (n > 0 && (rc = channel_is_recipient(p, r.id, r.type, uid)) == 0) {
			json_array_clear(r.list);
			last = 0;
		}
		if (n > 0 && rc == 1)
			rc = channel_msg_last_sent(p, r.id, r.type, uid, &mine);
	}
	if (rc < 0 || n < 0) {
		json_decref(r.list);
		return -1;
	}
	json_array_append_new(out, json_pack("[I,I,o]", (json_int_t)last,
	    (json_int_t)mine, r.list));
	return 0;
}

void
channel_op_conv_recents(struct wk_proc *p, json_t *req, struct channel_reply *rep, int arg)
{
	json_int_t count = wk_jint(req, "msg_count");
	const char *uid = wk_jstr(req, "uid");
	json_t *items = json_object_get(req, "items"), *item, *out = json_array();
	size_t i;

	if (count < 1)
		count = 1;
	if (count > RECENTS_MAX)
		count = RECENTS_MAX;
	json_array_foreach(items, i, item)
		if (conv_item(p, uid, item, count, out) < 0) {
			json_decref(out);
			rep->status = 500;
			rep->body = wk_json_error("storage error", 500);
			return;
		}
	rep->status = 200;
	rep->body = out;
}
