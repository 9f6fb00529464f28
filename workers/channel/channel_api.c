/* channel_api.c - a channel shard's HTTP API op rows (wk-channel(8)): their
 * dispatch, and the ops on channel records and lists.
 *
 * wk-api validates a request in the reference's words and sends the shard
 * one op row (WK_MSG_CHANNEL_UPSERT ... CHANNEL_MSG_EVENTSYNC in
 * wk_msgtypes.h, whose descriptions are the payloads); a tool may send them
 * too, as ctl.  Every row lands in channel_on_op: the op decodes its whole
 * payload before it writes anything, works in the iteration's transaction,
 * and its API_ANSWER (wk_answer.h: HTTP status, then binary facts; wk-api
 * makes the JSON) is queued with channel_after_commit, so it leaves only
 * once the commit succeeded and becomes 500 if the commit failed.  A
 * payload that does not decode is fatal from wk-api (a bug there) and 400
 * to a tool (wk_answer_bad).
 *
 * Handled here: CHANNEL_UPSERT, CHANNEL_INFO, CHANNEL_DELETE, CHANNEL_LIST,
 * CHANNEL_LIST_GET, CHANNEL_GET.  The message ops are in channel_msgops.c,
 * CHANNEL_CONV_RECENTS in channel_conv.c, the stream events in
 * channel_stream.c.
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_answer.h"
#include "wk_buf.h"
#include "wk_log.h"

void
channel_answer_storage_error(struct wk_proc *p, struct wk_answer *a)
{
	/* The transaction must not commit half an operation. */
	channel_txn_fail(p);
	wk_answer_error(a, 500, "storage error");
}

void
channel_get_key(struct wk_rbuf *rb, char *id, uint8_t *type)
{
	wk_get_str(rb, id, CHANNEL_ID_MAX + 1);
	*type = wk_get_u8(rb);
}

int
channel_op_decoded(struct wk_proc *p, const struct wk_rbuf *rb, struct wk_answer *a)
{
	if (wk_rbuf_done(rb) == 0)
		return 0;
	wk_answer_bad(p, a, rb->err ? "truncated payload" : "trailing bytes");
	return -1;
}

int
channel_get_uids(struct wk_rbuf *rb, struct wk_rbuf *uids)
{
	char uid[CHANNEL_ID_MAX + 1];
	uint32_t n;

	*uids = *rb;
	n = wk_get_u32(rb);
	/* A huge count stops at the first string that is not there. */
	for (uint32_t i = 0; i < n && !rb->err; i++)
		wk_get_str(rb, uid, sizeof uid);
	return rb->err ? -1 : 0;
}

/* A list byte as the rows carry it ('m', 'b', 'w'): 0, or -1. */
static int
get_list(struct wk_rbuf *rb, enum channel_list *out)
{
	uint8_t c = wk_get_u8(rb);

	*out = (enum channel_list)c;
	return c == CHANNEL_MEMBERS || c == CHANNEL_BLACKLIST || c == CHANNEL_WHITELIST ? 0 : -1;
}

/* The flags byte into info (the key already there). */
static void
get_flags(struct wk_rbuf *rb, struct channel_info *info)
{
	uint8_t f = wk_get_u8(rb);

	info->ban = (f & WK_CHANNEL_BAN) != 0;
	info->send_ban = (f & WK_CHANNEL_SEND_BAN) != 0;
	info->disband = (f & WK_CHANNEL_DISBAND) != 0;
	info->large = (f & WK_CHANNEL_LARGE) != 0;
	info->allow_stranger = (f & WK_CHANNEL_ALLOW_STRANGER) != 0;
}

/* Add (or remove) every uid of the decoded list `uids` that is not blank
 * (the reference skips blank subscribers): 0, -1. */
static int
change_list(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list,
    struct wk_rbuf *uids, int add)
{
	char uid[CHANNEL_ID_MAX + 1];
	uint32_t n = wk_get_u32(uids);

	for (uint32_t i = 0; i < n; i++) {
		wk_get_str(uids, uid, sizeof uid);
		if (uid[strspn(uid, " \t\r\n")] == '\0')
			continue;
		if ((add ? channel_list_add(p, id, type, list, uid) :
		    channel_list_remove(p, id, type, list, uid)) < 0)
			return -1;
	}
	return 0;
}

/* Apply a list action to (id, type): 0, or -1 (storage). */
static int
list_apply(struct wk_proc *p, const char *id, uint8_t type, enum channel_list list, int action,
    struct wk_rbuf *uids)
{
	int clear = action == WK_CHANNEL_LIST_SET || action == WK_CHANNEL_LIST_CLEAR;

	if (clear && channel_list_clear(p, id, type, list) < 0)
		return -1;
	if (action == WK_CHANNEL_LIST_CLEAR)
		return 0;
	return change_list(p, id, type, list, uids, action != WK_CHANNEL_LIST_REMOVE);
}

/* CHANNEL_INFO: the flags, all overwritten. */
static int
op_info(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct channel_info info;

	memset(&info, 0, sizeof info);
	channel_get_key(rb, info.id, &info.type);
	get_flags(rb, &info);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (channel_put(p, &info) < 0)
		channel_answer_storage_error(p, a);
	return 0;
}

/* CHANNEL_UPSERT: the flags, then the subscribers as CHANNEL_LIST adds
 * them (reset: the list is cleared first). */
static int
op_upsert(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct channel_info info;
	struct wk_rbuf uids;
	int reset;

	memset(&info, 0, sizeof info);
	channel_get_key(rb, info.id, &info.type);
	get_flags(rb, &info);
	reset = wk_get_u8(rb) == 1;
	channel_get_uids(rb, &uids);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (channel_put(p, &info) < 0 || list_apply(p, info.id, info.type, CHANNEL_MEMBERS,
	    reset ? WK_CHANNEL_LIST_SET : WK_CHANNEL_LIST_ADD, &uids) < 0)
		channel_answer_storage_error(p, a);
	return 0;
}

/* CHANNEL_DELETE: nothing to do for a channel that never existed. */
static int
op_delete(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	uint8_t type;

	channel_get_key(rb, id, &type);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (channel_delete(p, id, type) < 0)
		channel_answer_storage_error(p, a);
	return 0;
}

/* CHANNEL_LIST: add, set (clear, then add), remove, clear. */
static int
op_list(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	enum channel_list list;
	struct wk_rbuf uids;
	uint8_t type, action;
	int bad;

	channel_get_key(rb, id, &type);
	bad = get_list(rb, &list) < 0;
	action = wk_get_u8(rb);
	channel_get_uids(rb, &uids);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (bad || action < WK_CHANNEL_LIST_ADD || action > WK_CHANNEL_LIST_CLEAR) {
		wk_answer_bad(p, a, "unknown list or action");
		return -1;
	}
	if (list_apply(p, id, type, list, action, &uids) < 0)
		channel_answer_storage_error(p, a);
	return 0;
}

/* CHANNEL_LIST_GET's entries, counted as they are written. */
struct entries {
	struct wk_wbuf *b;
	uint32_t n;
};

static int
put_entry(const struct channel_entry *e, void *arg)
{
	struct entries *es = arg;

	wk_put_u64(es->b, e->id);
	wk_put_strn(es->b, e->uid, e->len);
	wk_put_u64(es->b, e->created_ms);
	wk_put_u64(es->b, e->updated_ms);
	es->n++;
	return 0;
}

/* CHANNEL_LIST_GET: the entries in uid order. */
static int
op_list_get(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct entries es = { &a->body, 0 };
	char id[CHANNEL_ID_MAX + 1];
	enum channel_list list;
	uint8_t type;
	int bad;

	channel_get_key(rb, id, &type);
	bad = get_list(rb, &list) < 0;
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (bad) {
		wk_answer_bad(p, a, "unknown list");
		return -1;
	}
	wk_put_u32(&a->body, 0);     /* the count, once known */
	if (channel_list_foreach(p, id, type, list, put_entry, &es) < 0)
		channel_answer_storage_error(p, a);
	else
		wk_be32_put(a->body.p, es.n);
	return 0;
}

int
channel_op_record(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a,
    struct channel_info *info)
{
	char id[CHANNEL_ID_MAX + 1];
	uint8_t type;
	int rc;

	channel_get_key(rb, id, &type);
	if (channel_op_decoded(p, rb, a) < 0)
		return -2;
	if ((rc = channel_get(p, id, type, info)) < 0)
		channel_answer_storage_error(p, a);
	return rc;
}

/* CHANNEL_GET (tools and tests; no route): the record, or 404. */
static int
op_get(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	struct channel_info info;
	int rc = channel_op_record(p, rb, a, &info);

	if (rc == 0)
		wk_answer_error(a, 404, "no such channel");
	else if (rc == 1) {
		wk_put_u8(&a->body, (uint8_t)((info.ban ? WK_CHANNEL_BAN : 0) |
		    (info.send_ban ? WK_CHANNEL_SEND_BAN : 0) |
		    (info.disband ? WK_CHANNEL_DISBAND : 0) | (info.large ? WK_CHANNEL_LARGE : 0) |
		    (info.allow_stranger ? WK_CHANNEL_ALLOW_STRANGER : 0)));
		wk_put_u32(&a->body, info.last_seq);
		wk_put_u32(&a->body, info.nmembers);
		wk_put_u32(&a->body, info.nblacklist);
		wk_put_u32(&a->body, info.nwhitelist);
	}
	return rc == -2 ? -1 : 0;
}

/* The op rows and their handlers. */
static const struct wk_op ops[] = {
	{ WK_MSG_CHANNEL_UPSERT, op_upsert },
	{ WK_MSG_CHANNEL_INFO, op_info },
	{ WK_MSG_CHANNEL_DELETE, op_delete },
	{ WK_MSG_CHANNEL_LIST, op_list },
	{ WK_MSG_CHANNEL_LIST_GET, op_list_get },
	{ WK_MSG_CHANNEL_GET, op_get },
	{ WK_MSG_CHANNEL_MSG_SEND, channel_op_msg_send },
	{ WK_MSG_CHANNEL_MSG_SENDBATCH, channel_op_msg_sendbatch },
	{ WK_MSG_CHANNEL_MSG_SYNC, channel_op_msg_sync },
	{ WK_MSG_CHANNEL_MSG_SEARCH, channel_op_msg_search },
	{ WK_MSG_CHANNEL_MSG_GET, channel_op_msg_get },
	{ WK_MSG_CHANNEL_MSG_LAST, channel_op_msg_last },
	{ WK_MSG_CHANNEL_MSG_MAX_SEQ, channel_op_msg_max_seq },
	{ WK_MSG_CHANNEL_CONV_RECENTS, channel_op_conv_recents },
	{ WK_MSG_CHANNEL_MSG_EVENT, channel_op_event },
	{ WK_MSG_CHANNEL_MSG_EVENTSYNC, channel_op_eventsync },
	{ WK_MSG_CHANNEL_MSG_REVOKE, channel_op_msg_revoke },
	{ WK_MSG_CHANNEL_MSG_EDIT, channel_op_msg_edit },
	{ WK_MSG_CHANNEL_RETENTION, channel_op_retention },
	{ WK_MSG_CHANNEL_MSG_IMPORT, channel_op_msg_import },
};

void
channel_on_op(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	int rc;
	struct wk_answer *a = wk_answer_op(p, ops, sizeof ops / sizeof ops[0], h, msg, &rc);

	if (rc < 0)
		return;                  /* answered already: it did not decode */
	if (rc > 0)
		return;                  /* the op answers by itself, later */
	if (a->now)
		wk_answer_send(p, 0, a); /* it wrote nothing that needs the commit */
	else if (channel_after_commit(p, wk_answer_send, a) < 0)
		wk_answer_send(p, -1, a);
}
