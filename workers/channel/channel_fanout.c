/* channel_fanout.c - who receives a channel's messages, and the fan-out
 * to their online connections (wk-channel(8)).
 *
 * The recipients of a channel by its type (channel_recipients_foreach,
 * semantics.md §8.2) serve the fan-out of chat messages (channel_append.c)
 * and stream events (channel_stream.c), the cmd hand-over to the mailbox
 * shards (channel_cmd.c), /conversation/sync's visibility check
 * (channel_conv.c) and msg.offline (channel_webhook.c).  The fan-out itself
 * (presence lookup, busy rows, the per-uid cap, one message per broker) is
 * wk_fanout.h's, shared with the mailbox shards' cmd delivery; this file
 * maps the presence table for the shard and counts the targets.
 *
 * The smaller side.  A group's recipients are its members; their online
 * connections are found either by walking the members (the cached set,
 * channel_mcache.c) and looking each up in the presence table, or by
 * reading the connections online (each region's dense list, O(online)) and
 * keeping those whose uid is a member (a lookup in the cached set).  The
 * fan-out takes the second when fewer connections are online than the
 * group has members, so a message to a million members with twenty online
 * costs twenty lookups.  A region whose writer kept moving entries
 * (PRESENCE_EBUSY) sends the message back to the member walk.  Unlike the
 * member walk, the online side does not cap a uid at PRESENCE_CONNS_MAX
 * connections.
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_fanout.h"
#include "wkproto.h"

/* The shard's read-only view of the presence table, and its counters.
 * online_buf grows to the largest online population seen and is reused,
 * so the online side allocates nothing per message. */
static struct presence presence;
static uint64_t delivered_to, online_side, member_side, online_fallbacks;
static struct presence_conn *online_buf;   /* the connections online, reused */
static size_t online_cap;

/* At start: attach the presence segment (wk-master created it) read-only. */
int
channel_fanout_open(struct wk_proc *p)
{
	return presence_attach(&presence, p->cfg.runDir, 0);
}

/* At stop: detach and free the reused buffer. */
void
channel_fanout_close(struct wk_proc *p)
{
	presence_close(&presence);
	free(online_buf);
	online_buf = NULL;
	online_cap = 0;
}

/* The presence view, for the other files of the shard (msg.offline). */
const struct presence *
channel_presence(void)
{
	return &presence;
}

/* Fan-out counters for `wkctl status`: targets, busy rows, which side. */
int
channel_fanout_status(struct wk_proc *p, char *buf, size_t len)
{
	return snprintf(buf, len, " delivered_to=%llu presence_busy=%llu fanout_online_side=%llu"
	    " fanout_member_side=%llu fanout_online_fallbacks=%llu",
	    (unsigned long long)delivered_to, (unsigned long long)wk_fanout_busy(),
	    (unsigned long long)online_side, (unsigned long long)member_side,
	    (unsigned long long)online_fallbacks);
}

/* uid is one side of the "a@b" id (an agent channel's two parties). */
int
channel_is_party(const char *id, const char *uid)
{
	const char *at = strchr(id, '@');
	size_t n = strlen(uid);

	return at && (((size_t)(at - id) == n && memcmp(id, uid, n) == 0) || strcmp(at + 1, uid) == 0);
}

/* The members, after `first` (a uid that is a recipient whatever the
 * list says): the customer-service visitor, the visitors channel's own. */
struct with_first {
	const char *first;
	size_t first_len;
	channel_uid_fn *fn;
	void *arg;
};

static int
member_not_first(const char *uid, size_t len, void *arg)
{
	struct with_first *w = arg;

	if (len == w->first_len && memcmp(uid, w->first, len) == 0)
		return 0;
	return w->fn(uid, len, w->arg);
}

/* The two uids of "a@b" (a person chat's stored id, an agent channel). */
static int
pair_foreach(const char *id, channel_uid_fn *fn, void *arg)
{
	const char *at = strchr(id, '@');
	size_t l, rl;
	int rc;

	if (at == NULL)
		return 0;
	l = (size_t)(at - id);
	rl = strlen(at + 1);
	rc = fn(id, l, arg);
	if (rc == 0 && (l != rl || memcmp(id, at + 1, l) != 0))   /* not self-chat */
		rc = fn(at + 1, rl, arg);
	return rc;
}

/* Would uid receive the channel's messages: a party of a person or agent
 * chat, the visitor of a customer-service or visitors channel, or else a
 * member.  The same rules as channel_recipients_foreach, for one uid. */
int
channel_is_recipient(struct wk_proc *p, const char *id, uint8_t type, const char *uid)
{
	switch (type) {
	case WKPROTO_CHANNEL_PERSON:
	case WKPROTO_CHANNEL_AGENT:
		return channel_is_party(id, uid);
	case WKPROTO_CHANNEL_CUSTOMER_SERVICE:
		if (strcspn(id, "|") == strlen(uid) && strncmp(id, uid, strlen(uid)) == 0)
			return 1;
		break;
	case WKPROTO_CHANNEL_VISITORS:
		if (strcmp(id, uid) == 0)
			return 1;
		break;
	}
	return channel_is_member(p, id, type, uid);
}

/* fn for each recipient of a message: the explicit `to` list (NUL-separated
 * uids) when given, else by channel type (semantics.md §8.2); a non-zero
 * return stops the walk and is returned. */
int
channel_recipients_foreach(struct wk_proc *p, const char *to, size_t to_len, const char *id,
    uint8_t type, channel_uid_fn *fn, void *arg)
{
	struct with_first w = { id, strlen(id), fn, arg };
	int rc = 0;

	if (to) {
		for (size_t off = 0; off < to_len && rc == 0; off += strlen(to + off) + 1)
			rc = fn(to + off, strlen(to + off), arg);
		return rc;
	}
	switch (type) {
	case WKPROTO_CHANNEL_PERSON:
	case WKPROTO_CHANNEL_AGENT:
		return pair_foreach(id, fn, arg);
	case WKPROTO_CHANNEL_CUSTOMER_SERVICE:
		/* "visitor|...": the visitor, then the agents (the members). */
		w.first_len = strcspn(id, "|");
		break;
	case WKPROTO_CHANNEL_VISITORS:
		break;               /* the channel id is the visitor's uid */
	default:
		return channel_members_foreach(p, id, type, fn, arg);
	}
	if (w.first_len > 0 && (rc = fn(w.first, w.first_len, arg)) != 0)
		return rc;
	return channel_members_foreach(p, id, type, member_not_first, &w);
}

/* A recipient's connections (the system uid has none worth a lookup). */
static int
fanout_uid(const char *uid, size_t len, void *arg)
{
	if (len != sizeof WK_SYSTEM_UID - 1 || memcmp(uid, WK_SYSTEM_UID, len) != 0)
		wk_fanout_uid(arg, uid, len);
	return 0;
}

/* Types whose recipients are exactly the members (no parties named by the
 * channel id): the ones the online side can serve. */
int
channel_type_is_group(uint8_t type)
{
	return type != WKPROTO_CHANNEL_PERSON && type != WKPROTO_CHANNEL_AGENT &&
	    type != WKPROTO_CHANNEL_CUSTOMER_SERVICE && type != WKPROTO_CHANNEL_VISITORS;
}

/* Every connection online, from each region's dense list, into online_buf:
 * how many, or -1 when a region stayed busy. */
static long
online_read(void)
{
	size_t n = 0;

	for (uint32_t r = 0; r < presence.hdr->nregions; r++) {
		int got = PRESENCE_ESPACE;
		for (int tries = 0; tries < WK_FANOUT_BUSY_TRIES && got < 0; tries++) {
			size_t want = n + presence_region(&presence, r)->used + 64;
			if (want > online_cap) {
				online_cap = want * 2;
				online_buf = wk_realloc(online_buf, online_cap * sizeof *online_buf);
			}
			got = presence_region_conns(&presence, r, online_buf + n, (int)(online_cap - n));
		}
		if (got < 0)
			return -1;
		n += (size_t)got;
	}
	return (long)n;
}

/* The members' connections read from the users online, when those are the
 * smaller side: 1 done, 0 take the member walk. */
static int
fanout_online(struct wk_proc *p, const char *id, uint8_t type, struct wk_fanout *f)
{
	long members = channel_member_count(p, id, type), n;

	if (members <= 0 || presence_online(&presence) >= (uint64_t)members)
		return 0;
	if ((n = online_read()) < 0) {
		online_fallbacks++;
		return 0;
	}
	for (long k = 0; k < n; k++) {
		const struct presence_conn *c = &online_buf[k];
		if (strcmp(c->uid, WK_SYSTEM_UID) != 0 && channel_is_member(p, id, type, c->uid) == 1)
			wk_fanout_conn(f, c);
	}
	online_side++;
	return 1;
}

/* One message's targets into f (begun here; the caller ends it): the
 * online side for a group when it is smaller, else the recipients one by
 * one.  The sending connection is skipped (it gets SENDACK). */
static void
targets(struct wk_proc *p, struct wk_fanout *f, int type, const char *id, uint8_t channel_type,
    const char *to, size_t to_len, uint16_t skip_broker, uint64_t skip_conn)
{
	wk_fanout_begin(f, p, &presence, skip_broker, skip_conn);
	if (to || !channel_type_is_group(channel_type) || !fanout_online(p, id, channel_type, f)) {
		member_side += to == NULL && channel_type_is_group(channel_type);
		channel_recipients_foreach(p, to, to_len, id, channel_type, fanout_uid, f);
	}
	delivered_to += f->targets;
	if (type == WK_MSG_BROKER_DELIVER)
		stats_add_typed(p->stats, STATS_MSGS_OUT, channel_type, f->targets);
}

/* Add one message's targets to the per-broker batch. */
void
channel_fanout_add(struct wk_proc *p, zmsg_t **batch, int type, const void *frame, size_t len,
    const char *id, uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker,
    uint64_t skip_conn)
{
	struct wk_fanout f;

	targets(p, &f, type, id, channel_type, to, to_len, skip_broker, skip_conn);
	wk_fanout_add(&f, batch, type, frame, len);
	wk_fanout_end(&f);
}

/* Send the per-broker batches built with channel_fanout_add. */
void
channel_fanout_send(struct wk_proc *p, zmsg_t **batch)
{
	wk_fanout_send(p, batch);
}

/* One message to its recipients' connections, now: straight into each
 * broker's batch (wk_fanout_deliver). */
void
channel_fanout(struct wk_proc *p, int type, const void *frame, size_t len, const char *id,
    uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker, uint64_t skip_conn)
{
	struct wk_fanout f;

	targets(p, &f, type, id, channel_type, to, to_len, skip_broker, skip_conn);
	wk_fanout_deliver(&f, type, frame, len);
	wk_fanout_end(&f);
}
