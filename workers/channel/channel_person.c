/* channel_person.c - who may write to whom in a person chat (wk-channel(8),
 * wk(7) "Who owns a person chat", semantics.md §6).
 *
 * A person chat "a@b" is stored on the shard of hash("a@b"), but the lists
 * that decide whether a may write to b are b's: the blacklist and whitelist
 * of (b, 1), on the shard of hash(b), the owner.  The shard of the chat
 * asks the owner once (CHANNEL_PERSON_CHECK, channel_append.c parks the
 * append meanwhile) and keeps the answer per (b, a) in memory; later
 * messages are checked from that cache without a round trip.
 *
 * The cache stays right because the owner tells: when a person blacklist
 * or whitelist changes, the owner sends CHANNEL_PERSON_CHANGED (the uids
 * whose lists changed) to every other channel shard as soon as the
 * transaction has ended, before the reply to the change is sent (both are
 * after-commit work, queued in that order).  The answers it gave before
 * leave on the same socket ahead of it, so a stale answer in flight is
 * dropped by the CHANGED that follows it.  A shard that starts sends
 * CHANNEL_PERSON_FLUSH: it may have died between a commit and its CHANGED,
 * so every other shard drops the answers it gave.  An answer also expires
 * after PERSON_TTL_MS, which bounds the harm of a CHANGED lost to a full
 * socket.  While an ask for b is outstanding, b's cached answers are not
 * used: the ask and the answers come back in order, so one sender's
 * messages keep their order.
 *
 * Messages handled: CHANNEL_PERSON_CHECK (as the owner),
 * CHANNEL_PERSON_CHANGED and CHANNEL_PERSON_FLUSH (as a cache).
 */
#include <stdlib.h>
#include <string.h>
#include "channel.h"
#include "wk_alloc.h"
#include "wk_buf.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"
#include "wkproto.h"

#define PERSON_CACHE_MAX 65536          /* cached answers before the cache is emptied */
#define PERSON_TTL_MS (60 * 1000)       /* an answer is asked again after this */

/* A recipient: its outstanding asks and the answers about its senders. */
struct peer {
	unsigned asked;                  /* CHECKs sent, not answered or timed out */
	zhashx_t *answers;               /* from uid -> struct answer */
};

struct answer {
	uint8_t reason;                  /* 1, 4 or 13 */
	uint8_t need_white;              /* asked with whitelistOffOfPerson false */
	uint64_t expires_ms;
};

static struct {
	zhashx_t *peers;                 /* to uid -> struct peer */
	size_t nanswers;
	char **changed;                  /* uids whose lists this transaction changed */
	size_t nchanged;
	uint64_t hits, misses, changes, flushes;
} pc;

static void
answer_free(void **item)
{
	free(*item);
	*item = NULL;
}

static void
peer_free(void **item)
{
	struct peer *pe = *item;

	if (pe) {
		if (pe->answers)
			pc.nanswers -= zhashx_size(pe->answers);
		zhashx_destroy(&pe->answers);
		free(pe);
		*item = NULL;
	}
}

static struct peer *
peer_get(const char *to, int create)
{
	struct peer *pe = zhashx_lookup(pc.peers, to);

	if (pe == NULL && create) {
		pe = wk_calloc(1, sizeof *pe);
		pe->answers = zhashx_new();
		zhashx_set_destructor(pe->answers, answer_free);
		zhashx_insert(pc.peers, to, pe);
	}
	return pe;
}

/* Forget the answers about writing to `to` (its asks stay counted). */
static void
peer_drop(const char *to)
{
	struct peer *pe = zhashx_lookup(pc.peers, to);

	if (pe == NULL)
		return;
	if (pe->asked == 0)
		zhashx_delete(pc.peers, to);
	else {
		pc.nanswers -= zhashx_size(pe->answers);
		zhashx_purge(pe->answers);
	}
}

/* Forget the answers about the recipients `owner` owns (-1: every one). */
static void
drop_owned_by(struct wk_proc *p, int owner)
{
	zlistx_t *keys = zhashx_keys(pc.peers);

	for (const char *to = zlistx_first(keys); to; to = zlistx_next(keys))
		if (owner < 0 || wk_shard_channel(to, strlen(to), p->cfg.processes_channel) == owner)
			peer_drop(to);
	zlistx_destroy(&keys);
}

int
channel_person_lists(struct wk_proc *p, const char *to, const char *from, int need_white)
{
	int rc = channel_list_has(p, to, WKPROTO_CHANNEL_PERSON, CHANNEL_BLACKLIST, from);

	if (rc != 0)
		return rc < 0 ? WKPROTO_REASON_SYSTEM_ERROR : WKPROTO_REASON_IN_BLACKLIST;
	if (!need_white)
		return WKPROTO_REASON_SUCCESS;
	rc = channel_list_has(p, to, WKPROTO_CHANNEL_PERSON, CHANNEL_WHITELIST, from);
	return rc < 0 ? WKPROTO_REASON_SYSTEM_ERROR : rc ? WKPROTO_REASON_SUCCESS :
	    WKPROTO_REASON_NOT_IN_WHITELIST;
}

int
channel_person_cached(struct wk_proc *p, const char *to, const char *from, int need_white)
{
	struct peer *pe = peer_get(to, 0);
	struct answer *a;

	if (pe && pe->asked == 0 && (a = zhashx_lookup(pe->answers, from)) != NULL &&
	    a->need_white == need_white && a->expires_ms > wk_now_ms()) {
		pc.hits++;
		return a->reason;
	}
	pc.misses++;
	return 0;
}

void
channel_person_asked(const char *to)
{
	peer_get(to, 1)->asked++;
}

void
channel_person_answered(const char *to, const char *from, int need_white, int reason)
{
	struct peer *pe = peer_get(to, 1);
	struct answer *a;

	if (pe->asked > 0)
		pe->asked--;
	if (reason < 0 || (reason != WKPROTO_REASON_SUCCESS && reason != WKPROTO_REASON_IN_BLACKLIST &&
	    reason != WKPROTO_REASON_NOT_IN_WHITELIST)) {
		if (pe->asked == 0 && zhashx_size(pe->answers) == 0)
			zhashx_delete(pc.peers, to);
		return;   /* timed out, or the owner could not read: ask again next time */
	}
	if (pc.nanswers >= PERSON_CACHE_MAX) {
		wk_log_info("person cache: %zu answers, emptied", pc.nanswers);
		zlistx_t *keys = zhashx_keys(pc.peers);
		for (const char *k = zlistx_first(keys); k; k = zlistx_next(keys))
			if (strcmp(k, to) != 0)
				peer_drop(k);
		zlistx_destroy(&keys);
		pc.nanswers -= zhashx_size(pe->answers);
		zhashx_purge(pe->answers);
	}
	a = wk_calloc(1, sizeof *a);
	a->reason = (uint8_t)reason;
	a->need_white = (uint8_t)need_white;
	a->expires_ms = wk_now_ms() + PERSON_TTL_MS;
	if (zhashx_lookup(pe->answers, from) == NULL)
		pc.nanswers++;
	zhashx_update(pe->answers, from, a);
}

/* Once the transaction that changed lists has ended (committed or not:
 * a rolled-back change may have been answered from already): tell the
 * other shards, one CHANGED each carrying every uid. */
static void
changed_send(struct wk_proc *p, int rc, void *arg)
{
	struct wk_wbuf b;

	(void)rc;
	(void)arg;
	wk_wbuf_init(&b);
	for (size_t i = 0; i < pc.nchanged; i++) {
		wk_put_str(&b, pc.changed[i]);
		free(pc.changed[i]);
	}
	pc.nchanged = 0;
	for (int i = 0; i < p->cfg.processes_channel; i++)
		if (i != p->instance)
			wk_proc_send_buf(p, WK_ROLE_CHANNEL, i, WK_MSG_CHANNEL_PERSON_CHANGED, 0, &b);
	wk_wbuf_free(&b);
}

/* The store's watch (channel_list.c): a person list of uid changed in the
 * current transaction. */
static void
person_changed(struct wk_proc *p, const char *uid)
{
	for (size_t i = 0; i < pc.nchanged; i++)
		if (strcmp(pc.changed[i], uid) == 0)
			return;
	pc.changes++;
	peer_drop(uid);   /* this shard's own cache (answers about uid it asked for) */
	if (pc.nchanged == 0 && channel_after_commit(p, changed_send, NULL) < 0)
		return;   /* no transaction: nothing was written */
	pc.changed = wk_realloc(pc.changed, (pc.nchanged + 1) * sizeof *pc.changed);
	pc.changed[pc.nchanged++] = wk_strdup(uid);
}

int
channel_person_open(struct wk_proc *p)
{
	struct wk_wbuf b;

	pc.peers = zhashx_new();
	zhashx_set_destructor(pc.peers, peer_free);
	channel_list_watch(person_changed);
	/* A previous instance may have died between a commit and its CHANGED:
	 * the others drop what it told them. */
	wk_wbuf_init(&b);
	wk_put_u16(&b, (uint16_t)p->instance);
	for (int i = 0; i < p->cfg.processes_channel; i++)
		if (i != p->instance)
			wk_proc_send_buf(p, WK_ROLE_CHANNEL, i, WK_MSG_CHANNEL_PERSON_FLUSH, 0, &b);
	wk_wbuf_free(&b);
	return 0;
}

void
channel_person_close(struct wk_proc *p)
{
	(void)p;
	channel_list_watch(NULL);
	zhashx_destroy(&pc.peers);
	for (size_t i = 0; i < pc.nchanged; i++)
		free(pc.changed[i]);
	free(pc.changed);
	pc.changed = NULL;
	pc.nchanged = pc.nanswers = 0;
}

int
channel_person_status(struct wk_proc *p, char *buf, size_t len)
{
	(void)p;
	return snprintf(buf, len, " person_hits=%llu person_misses=%llu person_cached=%zu"
	    " person_changes=%llu person_flushes=%llu", (unsigned long long)pc.hits,
	    (unsigned long long)pc.misses, pc.nanswers, (unsigned long long)pc.changes,
	    (unsigned long long)pc.flushes);
}

/* Another shard asks: may `from` write to `to`, whose lists we own? */
void
channel_on_person_check(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	char to[CHANNEL_ID_MAX + 1], from[CHANNEL_ID_MAX + 1];
	struct wk_rbuf r;
	struct wk_wbuf b;
	uint64_t corr;
	int rc, need_white;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	corr = wk_get_u64(&r);
	wk_get_str(&r, to, sizeof to);
	wk_get_str(&r, from, sizeof from);
	need_white = wk_get_u8(&r);
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("CHANNEL_PERSON_CHECK from channel/%u: malformed payload", h->sender_instance);
	rc = channel_person_lists(p, to, from, need_white);
	wk_wbuf_init(&b);
	wk_put_u64(&b, corr);
	wk_put_u8(&b, (uint8_t)rc);
	wk_proc_send_buf(p, WK_ROLE_CHANNEL, h->sender_instance, WK_MSG_CHANNEL_PERSON_CHECK_REP,
	    corr, &b);
	wk_wbuf_free(&b);
}

/* The owner of some recipients' lists changed them: drop our answers. */
void
channel_on_person_changed(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	char uid[CHANNEL_ID_MAX + 1];
	struct wk_rbuf r;

	(void)p;
	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	while (r.len > r.off) {
		wk_get_str(&r, uid, sizeof uid);
		if (r.err)
			break;
		peer_drop(uid);
	}
	if (wk_rbuf_done(&r) < 0)
		wk_fatalx("CHANNEL_PERSON_CHANGED from channel/%u: malformed payload",
		    h->sender_instance);
}

/* A shard (re)started: drop every answer it gave. */
void
channel_on_person_flush(struct wk_proc *p, const struct wk_msg_hdr *h, zmsg_t *msg)
{
	zframe_t *f = zmsg_first(msg);
	struct wk_rbuf r;
	uint16_t shard;

	wk_rbuf_init(&r, zframe_data(f), zframe_size(f));
	shard = wk_get_u16(&r);
	if (wk_rbuf_done(&r) < 0 || shard != h->sender_instance)
		wk_fatalx("CHANNEL_PERSON_FLUSH from channel/%u: malformed payload",
		    h->sender_instance);
	pc.flushes++;
	drop_owned_by(p, shard);
}
