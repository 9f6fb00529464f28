/* presence_table.c - the presence table: one open-addressing table per
 * mailbox-shard region, keyed by uid, one slot per connection.
 *
 * Writers: only the owning mailbox shard (single writer per region).
 * Readers: anyone, lock-free.  Each slot has a seqlock: odd while the writer
 * changes it.  Removal uses backward-shift deletion (no tombstones, so
 * lookups stay short under churn); a shift moves an entry to an earlier slot,
 * which a concurrent reader could step over, so the region's `moves` counter
 * is bumped around every shift and a reader that sees it change scans again.
 *
 * The dense list (presence.h) holds the index of every used slot in its
 * first `used` entries.  An insert writes the slot, then the next entry,
 * then publishes `used` (release).  A removal swaps the last entry into
 * the removed one's place, and each shifted slot's entry follows it; all of
 * it inside the same `moves` window, so a reader of the list (which could
 * otherwise step over the entry moved backwards) scans again.
 */
#include <stdlib.h>
#include <string.h>
#include "presence.h"
#include "shm_seq.h"
#include "wk_shard.h"

#define MAX_LOAD_PCT 90   /* refuse inserts past this fill: probes get long */


static void
write_begin(struct presence_slot *s)
{
	shm_store_rel(&s->seq, s->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
write_end(struct presence_slot *s)
{
	shm_store_rel(&s->seq, s->seq + 1);
}

/* Copy a slot consistently; 0 if it is empty, 1 if used, -1 if it never
 * settled (a writer died inside it). */
static int
slot_read(const struct presence_slot *s, struct presence_slot *out)
{
	for (int i = 0; i < SHM_SEQ_READ_RETRIES; i++) {
		uint32_t s1 = shm_load_acq(&s->seq);
		if (s1 & 1)
			continue;
		memcpy(out, s, sizeof *out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == s1)
			return out->state == 1;
	}
	return -1;
}

/* A slot read by slot_read, as callers see a connection. */
static void
conn_of(const struct presence_slot *s, struct presence_conn *c)
{
	memcpy(c->uid, s->uid, sizeof c->uid);
	c->uid[sizeof c->uid - 1] = '\0';
	c->device_flag = s->device_flag;
	c->device_level = s->device_level;
	c->proto_version = s->proto_version;
	c->broker_id = s->broker_id;
	c->conn_id = s->conn_id;
	c->connected_at_ms = s->connected_at_ms;
}

uint32_t
presence_region_of(const struct presence *ps, const char *uid)
{
	return (uint32_t)wk_shard_uid(uid, strlen(uid), (int)ps->hdr->nregions);
}

int
presence_add(struct presence *ps, uint32_t region, const struct presence_conn *c)
{
	struct presence_region *r = presence_region(ps, region);
	struct presence_slot *slots = presence_slots(ps, region);
	uint32_t cap = ps->hdr->capacity, len = (uint32_t)strnlen(c->uid, PRESENCE_UID_MAX);
	uint32_t h, i;

	if (len == 0 || len >= PRESENCE_UID_MAX)
		return PRESENCE_EUID;
	h = wk_shard_hash(c->uid, len);
	if ((uint64_t)(r->used + 1) * 100 > (uint64_t)cap * MAX_LOAD_PCT)
		return PRESENCE_EFULL;
	for (i = h % cap; slots[i].state == 1; i = (i + 1) % cap)
		;
	struct presence_slot *s = &slots[i];
	write_begin(s);
	s->device_flag = c->device_flag;
	s->device_level = c->device_level;
	s->proto_version = c->proto_version;
	s->broker_id = c->broker_id;
	s->uid_hash = h;
	s->conn_id = c->conn_id;
	s->connected_at_ms = c->connected_at_ms;
	memcpy(s->uid, c->uid, len + 1);
	s->dense = r->used;
	s->state = 1;
	write_end(s);
	presence_dense(ps, region)[r->used] = i;
	shm_store_rel(&r->used, r->used + 1);
	r->churn++;
	return 0;
}

/* Backward-shift deletion of slot i. */
static void
delete_at(struct presence *ps, uint32_t region, uint32_t i)
{
	struct presence_region *r = presence_region(ps, region);
	struct presence_slot *slots = presence_slots(ps, region);
	uint32_t *dense = presence_dense(ps, region);
	uint32_t cap = ps->hdr->capacity, j = i, last = r->used - 1, d = slots[i].dense;

	shm_store_rel(&r->moves, r->moves + 1);   /* odd: a shift is under way */
	/* The dense list: the last entry takes the removed one's place. */
	if (d != last && d < cap && last < cap) {
		uint32_t moved = dense[last];
		dense[d] = moved;
		write_begin(&slots[moved]);
		slots[moved].dense = d;
		write_end(&slots[moved]);
	}
	shm_store_rel(&r->used, last);
	for (;;) {
		j = (j + 1) % cap;
		if (slots[j].state != 1)
			break;
		uint32_t home = slots[j].uid_hash % cap;
		/* Entry j may move to i only if i lies cyclically in [home, j). */
		int can = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (!can)
			continue;
		struct presence_slot copy = slots[j];
		write_begin(&slots[i]);
		uint32_t seq = slots[i].seq;
		slots[i] = copy;
		slots[i].seq = seq;
		write_end(&slots[i]);
		if (copy.dense < cap)
			dense[copy.dense] = i;
		i = j;
	}
	write_begin(&slots[i]);
	slots[i].state = 0;
	slots[i].uid[0] = '\0';
	write_end(&slots[i]);
	shm_store_rel(&r->moves, r->moves + 1);
	r->churn++;
}

int
presence_remove(struct presence *ps, uint32_t region, const char *uid,
    uint16_t broker_id, uint64_t conn_id)
{
	struct presence_slot *slots = presence_slots(ps, region);
	uint32_t cap = ps->hdr->capacity, h = wk_shard_hash(uid, strlen(uid));

	for (uint32_t n = 0, i = h % cap; n < cap && slots[i].state == 1; n++, i = (i + 1) % cap)
		if (slots[i].conn_id == conn_id && slots[i].broker_id == broker_id &&
		    strcmp(slots[i].uid, uid) == 0) {
			delete_at(ps, region, i);
			return 1;
		}
	return 0;
}

int
presence_remove_if(struct presence *ps, uint32_t region,
    int (*drop)(const struct presence_conn *c, void *arg), void *arg)
{
	struct presence_slot *slots = presence_slots(ps, region);
	struct presence_conn c;
	int removed = 0;

	/* A shift can move a selected entry into a slot already passed:
	 * repeat until a full pass removes nothing. */
	for (int again = 1; again;) {
		again = 0;
		for (uint32_t i = 0; i < ps->hdr->capacity; i++) {
			if (slots[i].state != 1)
				continue;
			conn_of(&slots[i], &c);
			if (drop(&c, arg)) {
				delete_at(ps, region, i);
				removed++;
				again = 1;
			}
		}
	}
	return removed;
}

static int
of_broker(const struct presence_conn *c, void *arg)
{
	return c->broker_id == *(const uint16_t *)arg;
}

int
presence_remove_broker(struct presence *ps, uint32_t region, uint16_t broker_id)
{
	return presence_remove_if(ps, region, of_broker, &broker_id);
}

/* Is connection c (uid, broker, conn id) in the table. */
int
presence_has(const struct presence *ps, const struct presence_conn *c)
{
	struct presence_conn v[PRESENCE_CONNS_MAX];
	int n = presence_lookup(ps, c->uid, v, PRESENCE_CONNS_MAX);

	for (int i = 0; i < n; i++)
		if (v[i].conn_id == c->conn_id && v[i].broker_id == c->broker_id)
			return 1;
	return 0;
}

int
presence_region_rebuild(struct presence *ps, uint32_t region)
{
	struct presence_slot *slots = presence_slots(ps, region), s;
	struct presence_conn *keep;
	uint32_t cap = ps->hdr->capacity, n = 0, got = 0, kept = 0;

	if (region >= ps->hdr->nregions)
		return 0;
	for (uint32_t i = 0; i < cap; i++)
		n += slots[i].state == 1;
	keep = n ? malloc(n * sizeof *keep) : NULL;
	n = keep ? n : 0;
	for (uint32_t i = 0; i < cap && got < n; i++)
		if (slot_read(&slots[i], &s) == 1)   /* a torn slot (-1) is dropped */
			conn_of(&s, &keep[got++]);
	presence_region_clear(ps, region);
	for (uint32_t k = 0; k < got; k++) {
		if (keep[k].uid[0] == '\0' || presence_region_of(ps, keep[k].uid) != region ||
		    presence_has(ps, &keep[k]))
			continue;                     /* a half-shifted duplicate, or garbage */
		if (presence_add(ps, region, &keep[k]) == 0)
			kept++;
	}
	free(keep);
	return (int)kept;
}

int
presence_lookup(const struct presence *ps, const char *uid, struct presence_conn *out, int max)
{
	uint32_t region = presence_region_of(ps, uid);
	const struct presence_region *r = presence_region(ps, region);
	const struct presence_slot *slots = presence_slots(ps, region);
	uint32_t cap = ps->hdr->capacity, len = (uint32_t)strlen(uid);
	uint32_t h = wk_shard_hash(uid, len);
	struct presence_slot s;

	for (int attempt = 0; attempt < SHM_SEQ_READ_RETRIES; attempt++) {
		uint32_t m1 = shm_load_acq(&r->moves);
		int n = 0, rc;
		if (m1 & 1)
			continue;
		for (uint32_t k = 0, i = h % cap; k < cap; k++, i = (i + 1) % cap) {
			rc = slot_read(&slots[i], &s);
			if (rc == 0)
				break;
			if (rc < 0)
				continue;   /* a dead writer's slot: skip; the master repairs it */
			if (s.uid_hash == h && strcmp(s.uid, uid) == 0 && n < max)
				conn_of(&s, &out[n++]);
		}
		if (shm_load_acq(&r->moves) == m1)
			return n;
	}
	return PRESENCE_EBUSY;
}

int
presence_region_conns(const struct presence *ps, uint32_t region, struct presence_conn *out,
    int max)
{
	const struct presence_region *r = presence_region(ps, region);
	const struct presence_slot *slots = presence_slots(ps, region);
	const uint32_t *dense = presence_dense(ps, region);
	uint32_t cap = ps->hdr->capacity;
	struct presence_slot s;

	for (int attempt = 0; attempt < SHM_SEQ_READ_RETRIES; attempt++) {
		uint32_t m1 = shm_load_acq(&r->moves), n = shm_load_acq(&r->used);
		int got = 0;
		if (m1 & 1)
			continue;
		if (n > cap)
			n = cap;
		if (n > (uint32_t)max)
			return PRESENCE_ESPACE;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = __atomic_load_n(&dense[k], __ATOMIC_RELAXED);
			if (i >= cap || slot_read(&slots[i], &s) != 1)
				continue;   /* moved (the check below) or a dead writer's */
			conn_of(&s, &out[got++]);
		}
		if (shm_load_acq(&r->moves) == m1)
			return got;
	}
	return PRESENCE_EBUSY;
}

uint64_t
presence_online(const struct presence *ps)
{
	uint64_t n = 0;

	for (uint32_t r = 0; r < ps->hdr->nregions; r++)
		n += shm_load_acq(&presence_region(ps, r)->used);
	return n;
}
