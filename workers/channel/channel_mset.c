/* channel_mset.c - a compact set of uids (channel_mset.h). */
#include <stdlib.h>
#include <string.h>
#include "channel_mset.h"
#include "wk_alloc.h"
#include "wk_shard.h"

/* Slots of a set's first table; it doubles at 3/4 load, never shrinks. */
#define MIN_CAP 16u

/* An empty set: no slots or arena until the first add. */
void
channel_mset_init(struct channel_mset *s)
{
	memset(s, 0, sizeof *s);
}

/* Free both arrays and leave the set empty and reusable. */
void
channel_mset_free(struct channel_mset *s)
{
	free(s->slots);
	free(s->arena);
	channel_mset_init(s);
}

/* The u16 length stored before the uid at arena offset off (slot off is
 * offset + 1, so off - 1 is the entry's first byte). */
static uint16_t
entry_len(const struct channel_mset *s, uint32_t off)
{
	uint16_t n;

	memcpy(&n, s->arena + off - 1, sizeof n);
	return n;
}

/* The NUL-terminated uid of the entry at slot offset off. */
static const char *
entry_uid(const struct channel_mset *s, uint32_t off)
{
	return s->arena + off - 1 + sizeof(uint16_t);
}

/* The slot holding uid, or the empty slot where it would go. */
static uint32_t
find(const struct channel_mset *s, const char *uid, size_t len, uint32_t h)
{
	uint32_t mask = s->cap - 1, i;

	for (i = h & mask; s->slots[i].off; i = (i + 1) & mask)
		if (s->slots[i].hash == h && entry_len(s, s->slots[i].off) == len &&
		    memcmp(entry_uid(s, s->slots[i].off), uid, len) == 0)
			break;
	return i;
}

/* Put an entry whose uid is known to be absent (rehash, compaction). */
static void
place(struct channel_mset_slot *slots, uint32_t cap, struct channel_mset_slot e)
{
	uint32_t i;

	for (i = e.hash & (cap - 1); slots[i].off; i = (i + 1) & (cap - 1))
		;
	slots[i] = e;
}

/* Rehash every slot into a table of cap slots (a power of two); the arena
 * does not move, only the slots. */
static void
resize(struct channel_mset *s, uint32_t cap)
{
	struct channel_mset_slot *old = s->slots;
	uint32_t ocap = s->cap;

	s->slots = wk_calloc(cap, sizeof *s->slots);
	s->cap = cap;
	for (uint32_t i = 0; i < ocap; i++)
		if (old[i].off)
			place(s->slots, cap, old[i]);
	free(old);
}

/* Copy the live uids into a fresh arena, re-pointing their slots. */
static void
compact(struct channel_mset *s)
{
	size_t live = s->alen - s->dead;
	char *arena = wk_malloc(live + 1);
	size_t at = 0;

	for (uint32_t i = 0; i < s->cap; i++) {
		if (!s->slots[i].off)
			continue;
		size_t n = sizeof(uint16_t) + entry_len(s, s->slots[i].off) + 1;
		memcpy(arena + at, s->arena + s->slots[i].off - 1, n);
		s->slots[i].off = (uint32_t)at + 1;
		at += n;
	}
	free(s->arena);
	s->arena = arena;
	s->alen = at;
	s->acap = live + 1;
	s->dead = 0;
}

/* Insert uid: grow the table before passing 3/4 load, append the uid to the
 * arena (doubling it), point the slot at it.  The bounds keep offsets in
 * 32 bits; a larger set is refused, never corrupted. */
int
channel_mset_add(struct channel_mset *s, const char *uid, size_t len)
{
	uint32_t h = wk_shard_hash(uid, len), i;
	uint16_t n = (uint16_t)len;

	if (len > CHANNEL_MSET_UID_MAX || s->n >= (1u << 31) ||
	    s->alen + sizeof n + len + 1 >= UINT32_MAX)
		return -1;
	if (s->cap == 0)
		resize(s, MIN_CAP);
	if (s->slots[i = find(s, uid, len, h)].off)
		return 0;
	if ((uint64_t)(s->n + 1) * 4 > (uint64_t)s->cap * 3) {
		resize(s, s->cap * 2);
		i = find(s, uid, len, h);
	}
	if (s->alen + sizeof n + len + 1 > s->acap) {
		s->acap = (s->acap ? s->acap * 2 : 256) + sizeof n + len + 1;
		s->arena = wk_realloc(s->arena, s->acap);
	}
	memcpy(s->arena + s->alen, &n, sizeof n);
	memcpy(s->arena + s->alen + sizeof n, uid, len);
	s->arena[s->alen + sizeof n + len] = '\0';
	s->slots[i] = (struct channel_mset_slot){ h, (uint32_t)s->alen + 1 };
	s->alen += sizeof n + len + 1;
	s->n++;
	return 1;
}

/* Remove uid with backward-shift deletion, so lookups never meet a
 * tombstone; its arena bytes count as dead until compaction (past 4 KiB
 * and half the arena, so small sets never pay for it). */
int
channel_mset_remove(struct channel_mset *s, const char *uid, size_t len)
{
	uint32_t mask = s->cap - 1, i, j;

	if (s->cap == 0 || len > CHANNEL_MSET_UID_MAX)
		return 0;
	i = find(s, uid, len, wk_shard_hash(uid, len));
	if (!s->slots[i].off)
		return 0;
	s->dead += sizeof(uint16_t) + len + 1;
	/* Backward shift: pull later entries of the run into the hole when
	 * the hole lies cyclically in [their home, their slot). */
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!s->slots[j].off)
			break;
		uint32_t home = s->slots[j].hash & mask;
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].off = 0;
	s->n--;
	if (s->dead > 4096 && s->dead * 2 > s->alen)
		compact(s);
	return 1;
}

/* Membership test: hash, then probe only the run from its home slot. */
int
channel_mset_has(const struct channel_mset *s, const char *uid, size_t len)
{
	if (s->cap == 0 || len > CHANNEL_MSET_UID_MAX)
		return 0;
	return s->slots[find(s, uid, len, wk_shard_hash(uid, len))].off != 0;
}

/* Walk the slots (hash order); the uids are read in place from the arena. */
int
channel_mset_foreach(const struct channel_mset *s,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg)
{
	int rc;

	for (uint32_t i = 0; i < s->cap; i++)
		if (s->slots[i].off &&
		    (rc = fn(entry_uid(s, s->slots[i].off), entry_len(s, s->slots[i].off), arg)) != 0)
			return rc;
	return 0;
}

/* Shrink the arena to its use, once a set is built from the database. */
void
channel_mset_trim(struct channel_mset *s)
{
	if (s->acap > s->alen + 1) {
		s->acap = s->alen + 1;
		s->arena = wk_realloc(s->arena, s->acap);
	}
}

/* Memory the set holds (slots and arena), for the cache's status line. */
size_t
channel_mset_bytes(const struct channel_mset *s)
{
	return (size_t)s->cap * sizeof *s->slots + s->acap;
}
