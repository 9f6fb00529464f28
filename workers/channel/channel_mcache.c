/* channel_mcache.c - the shard's hot lists in memory (wk-channel(8)): the
 * members, blacklist and whitelist of the channels it used lately, each a
 * channel_mset (channel_mset.h), so that a message to a large group walks no
 * members.db rows and its permission checks touch no btree.
 *
 * Keyed by (channel number, list).  Bounded by channel.memberCacheMax uids
 * in all: past it, the least recently used sets are dropped; a list longer
 * than the bound is never cached (its readers walk members.db as before).
 * A miss builds the set from members.db, through the iteration's
 * transaction.  The shard is the only writer of its lists, and every write
 * (channel_list.c, channel_delete) updates or drops the cached set in the
 * same call, so a set is what the transaction sees.  A set that was built
 * or changed in a transaction that then aborts may hold what was never
 * committed: those are dropped when it ends (channel_mcache_ended, from the
 * store's wk_txn end hook) and rebuilt on the next miss.  As a last guard,
 * a set whose size is not the record's count is rebuilt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel_mset.h"
#include "channel_store.h"
#include "wk_alloc.h"
#include "wk_log.h"
#include "wk_map.h"
#include "wk_time.h"

struct mentry {
	uint64_t num;
	uint8_t list;
	struct channel_mset set;
	struct mentry *prev, *next;  /* LRU: head the most recent */
	int touched;                 /* built or changed in the open transaction */
	struct mentry *touched_next;
	int pinned;                  /* being walked: not evicted */
	int stale;                   /* changed under a walk: rebuilt at the next get */
};

static struct {
	struct wk_map map;           /* (num, list) -> struct mentry */
	struct mentry *head, *tail, *touched;
	uint64_t total;              /* uids cached */
	uint64_t max;                /* channel.memberCacheMax */
	int configured;              /* max set: caching on */
	uint64_t hits, misses, builds_ms, evictions;
} mc;

/* The map key of (channel number, list): the number's bytes, the list's. */
#define KEY_LEN 9

static void
mkkey(char k[KEY_LEN], uint64_t num, enum channel_list list)
{
	memcpy(k, &num, 8);
	k[8] = (char)list;
}

/* Take e out of the LRU list (head: most recently used). */
static void
lru_unlink(struct mentry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		mc.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		mc.tail = e->prev;
	e->prev = e->next = NULL;
}

/* Put e at the LRU head: used now, evicted last. */
static void
lru_front(struct mentry *e)
{
	e->next = mc.head;
	e->prev = NULL;
	if (mc.head)
		mc.head->prev = e;
	mc.head = e;
	if (mc.tail == NULL)
		mc.tail = e;
}

/* Unlinked from the touched list by the caller (or never on it). */
static void
entry_drop(struct mentry *e)
{
	if (e->touched) {
		struct mentry **pp;
		for (pp = &mc.touched; *pp != e; pp = &(*pp)->touched_next)
			;
		*pp = e->touched_next;
	}
	lru_unlink(e);
	mc.total -= e->set.n;
	char k[KEY_LEN];

	mkkey(k, e->num, (enum channel_list)e->list);
	wk_map_del(&mc.map, k, sizeof k);
	channel_mset_free(&e->set);
	free(e);
}

/* Remember that e was built or changed in the open transaction, so an
 * abort can drop it (channel_mcache_ended). */
static void
touch(struct mentry *e)
{
	if (!e->touched) {
		e->touched = 1;
		e->touched_next = mc.touched;
		mc.touched = e;
	}
}

/* Set the bound (at start) and evict least recently used
 * sets down to it; a set being walked is skipped, evicted later. */
void
channel_mcache_configure(uint64_t max)
{
	mc.max = max;
	mc.configured = 1;
	for (struct mentry *e = mc.tail, *prev; e && mc.total > mc.max; e = prev) {
		prev = e->prev;
		if (!e->pinned)
			entry_drop(e);
	}
}

/* At stop: free every cached set. */
void
channel_mcache_close(void)
{
	while (mc.head)
		entry_drop(mc.head);
	wk_map_free(&mc.map, NULL);
	mc.configured = 0;
}

/* The cached entry of (num, list), or NULL. */
static struct mentry *
lookup(uint64_t num, enum channel_list list)
{
	char k[KEY_LEN];

	mkkey(k, num, list);
	return wk_map_get(&mc.map, k, sizeof k);
}

/* channel_list_foreach callback while building a set from members.db. */
static int
build_one(const struct channel_entry *ce, void *arg)
{
	return channel_mset_add(arg, ce->uid, ce->len) < 0 ? -1 : 0;
}

/* The set of c's list, built on a miss; NULL when the list is longer than
 * the whole bound, or cannot be built now: callers then walk members.db.
 * A cached set whose size is not the record's count is rebuilt (logged
 * unless it was marked stale on purpose). */
struct channel_mset *
channel_mcache_get(struct wk_proc *p, const struct channel_rec *c, enum channel_list list)
{
	uint32_t count = c->count[list == CHANNEL_MEMBERS ? CHANNEL_L_MEMBERS :
	    list == CHANNEL_BLACKLIST ? CHANNEL_L_BLACKLIST : CHANNEL_L_WHITELIST];
	struct mentry *e;

	if (!mc.configured || c->num == 0 || count > mc.max)
		return NULL;
	if ((e = lookup(c->num, list)) != NULL) {
		if (e->set.n == count && !e->stale) {
			mc.hits++;
			lru_unlink(e);
			lru_front(e);
			return &e->set;
		}
		if (e->pinned)
			return NULL;     /* under a walk of its own: members.db for now */
		if (!e->stale)
			wk_log_warnx("channel %s/%u: cached list '%c' holds %u, the record %u; "
			    "rebuilt", c->id, c->type, (char)list, e->set.n, count);
		entry_drop(e);
	}
	mc.misses++;
	uint64_t t0 = wk_now_ms();
	e = wk_calloc(1, sizeof *e);
	e->num = c->num;
	e->list = (uint8_t)list;
	channel_mset_init(&e->set);
	if (channel_list_foreach(p, c->id, c->type, list, build_one, &e->set) != 0) {
		channel_mset_free(&e->set);
		free(e);
		return NULL;
	}
	channel_mset_trim(&e->set);
	mc.builds_ms += wk_now_ms() - t0;
	char k[KEY_LEN];
	mkkey(k, c->num, list);
	wk_map_set(&mc.map, k, sizeof k, e);
	lru_front(e);
	touch(e);
	mc.total += e->set.n;
	channel_mcache_configure(mc.max);   /* evict down to the bound */
	return (e = lookup(c->num, list)) ? &e->set : NULL;
}

/* A list row was added or removed in the open transaction: apply it to the
 * cached set, if any, so the set stays what the transaction sees. */
void
channel_mcache_changed(const struct channel_rec *c, enum channel_list list, const char *uid,
    size_t len, int added)
{
	struct mentry *e = lookup(c->num, list);

	if (e == NULL)
		return;
	if (e->pinned) {             /* changed under a walk: rebuilt later */
		e->stale = 1;
		return;
	}
	uint32_t n = e->set.n;
	if ((added ? channel_mset_add(&e->set, uid, len) : channel_mset_remove(&e->set, uid, len)) < 0) {
		entry_drop(e);
		return;
	}
	mc.total += e->set.n;
	mc.total -= n;
	touch(e);
	if (mc.total > mc.max)
		channel_mcache_configure(mc.max);
}

/* Forget a channel's cached lists (list 0: all three), e.g. on delete. */
void
channel_mcache_drop(uint64_t num, int list)
{
	static const enum channel_list all[] = { CHANNEL_MEMBERS, CHANNEL_BLACKLIST,
	    CHANNEL_WHITELIST };
	struct mentry *e;

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if ((list == 0 || (int)all[i] == list) && (e = lookup(num, all[i])) != NULL) {
			if (e->pinned)
				e->stale = 1;    /* dropped when the walk ends */
			else
				entry_drop(e);
		}
}

/* The store's transaction ended with rc: on an abort, sets it touched may
 * hold uncommitted changes and are dropped (or marked stale if walked). */
void
channel_mcache_ended(int rc)
{
	struct mentry *e, *next;

	for (e = mc.touched, mc.touched = NULL; e; e = next) {
		next = e->touched_next;
		e->touched = 0;
		e->touched_next = NULL;
		if (rc < 0 && e->pinned)
			e->stale = 1;
		else if (rc < 0)
			entry_drop(e);
	}
}

/* Walk a cached list: 1 and *rc = fn's result, or 0 if the list is not
 * cacheable (walk members.db instead).  The set is pinned during the walk:
 * a change to the list meanwhile only marks it stale, so it is never
 * freed or rehashed under fn. */
int
channel_mcache_foreach(struct wk_proc *p, const struct channel_rec *c, enum channel_list list,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg, int *rc)
{
	struct channel_mset *s = channel_mcache_get(p, c, list);
	struct mentry *e;

	if (s == NULL)
		return 0;
	e = lookup(c->num, list);
	e->pinned++;
	*rc = channel_mset_foreach(s, fn, arg);
	if (--e->pinned == 0 && e->stale)
		entry_drop(e);
	return 1;
}

/* Cache counters for `wkctl status` (wk-channel(8) lists them). */
int
channel_mcache_status(char *buf, size_t len)
{
	size_t bytes = 0;

	for (struct mentry *e = mc.head; e; e = e->next)
		bytes += channel_mset_bytes(&e->set) + sizeof *e;
	return snprintf(buf, len, " member_cache=%llu member_cache_bytes=%zu member_cache_hits=%llu"
	    " member_cache_misses=%llu member_cache_build_ms=%llu",
	    (unsigned long long)mc.total, bytes, (unsigned long long)mc.hits,
	    (unsigned long long)mc.misses, (unsigned long long)mc.builds_ms);
}
