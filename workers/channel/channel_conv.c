/* channel_conv.c - what a recent-conversation sync needs of the channels
 * this shard owns (wk-channel(8), read mode).
 *
 * Nothing is written per member when a message arrives: wk-api asks the
 * user's mailbox shard for the user's rows (read cursor, deleted-at), then
 * every channel shard concerned, in parallel, for CHANNEL_CONV_RECENTS
 * (its payload and answer in wk_msgtypes.h): per channel, its last seq,
 * the last seq the user sent there (senders.db), which counts as read, and
 * the newest msg_count messages with seq >= start (start 0: the newest),
 * newest first, one entry per item in the items' order. */
#include <string.h>
#include "channel.h"
#include "channel_store.h"
#include "wk_answer.h"
#include "wk_buf.h"

#define RECENTS_MAX 10000            /* msg_count above this is clamped (as messagesync) */

/* One item into a's answer: 0, or -1 on a storage error. */
static int
conv_item(struct wk_proc *p, const char *uid, const char *id, uint8_t type, uint64_t start,
    uint32_t count, struct wk_answer *a)
{
	struct channel_msgs ms;
	/* The record itself, not channel_get's copy (a kilobyte cleared
	 * per conversation). */
	struct channel_rec *c = channel_rec_get(p, id, type, 0);
	uint32_t mine = 0, last = 0;
	long n = 0;
	int rc = c == NULL ? -1 : c->num != 0;

	channel_msgs_init(&ms, id, type);
	if (rc == 1 && c->last_seq > 0) {
		last = c->last_seq;
		if (start < 1)
			start = 1;
		/* Nothing new since the client's position (the usual incremental
		 * sync): no walk and no read of the sender index. */
		if (start <= last)
			n = channel_msg_range(p, id, type, (uint32_t)start, 0, count, 1,
			    channel_msgs_add, &ms);
		/* A member taken off by a reset, remove_all or a disband still
		 * has its row; it is not shown what came after. */
		if (n > 0 && (rc = channel_is_recipient(p, id, type, uid)) == 0) {
			channel_msgs_free(&ms);
			last = 0;
		}
		if (n > 0 && rc == 1)
			rc = channel_msg_last_sent(p, id, type, uid, &mine);
	}
	if (rc >= 0 && n >= 0) {
		wk_put_u32(&a->body, last);
		wk_put_u32(&a->body, mine);
		channel_msgs_put(&ms, 0, &a->body);
	}
	channel_msgs_free(&ms);
	return rc < 0 || n < 0 ? -1 : 0;
}

/* The items: walked once to check that they decode (a NULL), once to
 * answer.  0, or -1 on a storage error. */
static int
items_walk(struct wk_proc *p, struct wk_rbuf *rb, const char *uid, uint32_t count,
    struct wk_answer *a)
{
	char id[CHANNEL_ID_MAX + 1];
	uint32_t n = wk_get_u32(rb);
	uint64_t start;
	uint8_t type;

	if (a)
		wk_put_u32(&a->body, n);
	for (uint32_t i = 0; i < n && !rb->err; i++) {
		channel_get_key(rb, id, &type);
		start = wk_get_u64(rb);
		if (a && conv_item(p, uid, id, type, start, count, a) < 0)
			return -1;
	}
	return 0;
}

int
channel_op_conv_recents(struct wk_proc *p, struct wk_rbuf *rb, struct wk_answer *a)
{
	char uid[CHANNEL_ID_MAX + 1];
	struct wk_rbuf items;
	uint32_t count;

	wk_get_str(rb, uid, sizeof uid);
	count = wk_get_u32(rb);
	items = *rb;
	items_walk(p, rb, uid, 0, NULL);
	if (channel_op_decoded(p, rb, a) < 0)
		return -1;
	if (count < 1)
		count = 1;
	if (count > RECENTS_MAX)
		count = RECENTS_MAX;
	if (items_walk(p, &items, uid, count, a) < 0)
		channel_answer_storage_error(p, a);
	return 0;
}
