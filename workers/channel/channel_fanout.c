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
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_chmsg.h"
#include "wk_fanout.h"
#include "wkproto.h"

static struct presence presence;
static uint64_t delivered_to;

int
channel_fanout_open(struct wk_proc *p)
{
	return presence_attach(&presence, p->cfg.runDir, 0);
}

void
channel_fanout_close(struct wk_proc *p)
{
	presence_close(&presence);
}

const struct presence *
channel_presence(void)
{
	return &presence;
}

int
channel_fanout_status(struct wk_proc *p, char *buf, size_t len)
{
	return snprintf(buf, len, " delivered_to=%llu presence_busy=%llu",
	    (unsigned long long)delivered_to, (unsigned long long)wk_fanout_busy());
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

void
channel_fanout_add(struct wk_proc *p, zmsg_t **batch, int type, const void *frame, size_t len,
    const char *id, uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker,
    uint64_t skip_conn)
{
	struct wk_fanout f;

	wk_fanout_begin(&f, p, &presence, skip_broker, skip_conn);
	channel_recipients_foreach(p, to, to_len, id, channel_type, fanout_uid, &f);
	delivered_to += f.targets;
	wk_fanout_add(&f, batch, type, frame, len);
	wk_fanout_end(&f);
}

void
channel_fanout_send(struct wk_proc *p, zmsg_t **batch)
{
	wk_fanout_send(p, batch);
}

void
channel_fanout(struct wk_proc *p, int type, const void *frame, size_t len, const char *id,
    uint8_t channel_type, const char *to, size_t to_len, uint16_t skip_broker, uint64_t skip_conn)
{
	zmsg_t **batch = wk_calloc(p->cfg.processes_broker, sizeof *batch);

	channel_fanout_add(p, batch, type, frame, len, id, channel_type, to, to_len, skip_broker,
	    skip_conn);
	wk_fanout_send(p, batch);
	free(batch);
}
