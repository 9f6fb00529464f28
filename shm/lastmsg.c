/* lastmsg.c - the last-message table (lastmsg.h): the segment's lifetime
 * and one open-addressing table per channel-shard region, keyed by
 * (channel id, type), one row per channel.
 *
 * Consistency: a row has a seqlock (odd while written); the region has a
 * generation, odd while the shard rebuilds it, which a reader reads before
 * and after the row: a rebuild zeroes rows without their seqlock, and the
 * generation is what tells a reader it raced with that.  Inserts only fill
 * empty rows and rows are never removed, so a probe that meets an empty
 * row has seen every row the key could be in. */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lastmsg.h"
#include "shm_seq.h"
#include "shm_seg.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

#define HEADER_SIZE 4096
#define MAX_LOAD_PCT 90   /* refuse new rows past this fill: probes get long */

_Static_assert(sizeof(struct lastmsg_slot) == 128, "row layout is part of the segment version");
_Static_assert(sizeof(struct lastmsg_region) == 64, "region layout is part of the segment version");


void
lastmsg_name(const char *run_dir, char *out, size_t len)
{
	snprintf(out, len, "/wk.%08x.last", wk_shard_hash(run_dir, strlen(run_dir)));
}

int
lastmsg_create(struct lastmsg *t, const char *name, uint32_t nregions, uint32_t capacity)
{
	uint64_t region_size = sizeof(struct lastmsg_region) +
	    (uint64_t)capacity * sizeof(struct lastmsg_slot);
	uint64_t total = HEADER_SIZE + region_size * nregions;

	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	if (capacity == 0 || (t->hdr = shm_seg_create(name, total)) == NULL)
		return -1;
	t->size = total;
	*t->hdr = (struct lastmsg_header){
		.magic = LASTMSG_MAGIC, .version = LASTMSG_VERSION,
		.nregions = nregions, .capacity = capacity,
		.slot_size = sizeof(struct lastmsg_slot),
		.region_header_size = sizeof(struct lastmsg_region),
		.region_size = region_size, .total_size = total,
		.created_ms = wk_wall_ms(), .master_pid = getpid(),
	};
	return 0;
}

int
lastmsg_open(struct lastmsg *t, const char *name, int writable)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	if ((t->hdr = shm_seg_open(name, writable, &t->size)) == NULL)
		return -1;
	if (t->size < sizeof *t->hdr || t->hdr->magic != LASTMSG_MAGIC ||
	    t->hdr->version != LASTMSG_VERSION || t->hdr->total_size != t->size ||
	    t->hdr->capacity == 0) {
		wk_log_warnx("last-message segment %s: wrong magic, version or size", name);
		lastmsg_close(t);
		return -1;
	}
	return 0;
}

int
lastmsg_attach(struct lastmsg *t, const char *run_dir, int writable)
{
	char name[64];

	lastmsg_name(run_dir, name, sizeof name);
	return lastmsg_open(t, name, writable);
}

void
lastmsg_close(struct lastmsg *t)
{
	if (t->hdr)
		munmap(t->hdr, t->size);
	t->hdr = NULL;
}

int
lastmsg_unlink(const char *name)
{
	return shm_unlink(name) < 0 && errno != ENOENT ? -1 : 0;
}

struct lastmsg_region *
lastmsg_region(const struct lastmsg *t, uint32_t region)
{
	return (struct lastmsg_region *)((char *)t->hdr + HEADER_SIZE +
	    t->hdr->region_size * region);
}

static struct lastmsg_slot *
slots(const struct lastmsg *t, uint32_t region)
{
	return (struct lastmsg_slot *)(lastmsg_region(t, region) + 1);
}

uint32_t
lastmsg_region_of(const struct lastmsg *t, const char *id, size_t len)
{
	return (uint32_t)wk_shard_channel(id, len, (int)t->hdr->nregions);
}

/* The row key's hash: the id's, then the type. */
static uint32_t
key_hash(const char *id, size_t len, uint8_t type)
{
	return (wk_shard_hash(id, len) ^ type) * 0x9e3779b1u;
}

void
lastmsg_rebuild(struct lastmsg *t, uint32_t region)
{
	struct lastmsg_region *r = lastmsg_region(t, region);

	if ((r->gen & 1) == 0)
		shm_store_rel(&r->gen, r->gen + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memset(slots(t, region), 0, t->hdr->region_size - sizeof *r);
	r->used = 0;
	r->overflow = 0;
	r->updates = 0;
	r->writer_pid = getpid();
}

void
lastmsg_rebuilt(struct lastmsg *t, uint32_t region)
{
	struct lastmsg_region *r = lastmsg_region(t, region);

	shm_store_rel(&r->gen, r->gen + 1);
}

static int
is_key(const struct lastmsg_slot *s, uint32_t h, const char *id, size_t len, uint8_t type)
{
	return s->hash == h && s->type == type && s->id_len == len && memcmp(s->id, id, len) == 0;
}

int
lastmsg_put(struct lastmsg *t, uint32_t region, const char *id, size_t len, uint8_t type,
    const struct lastmsg_row *row)
{
	struct lastmsg_region *r = lastmsg_region(t, region);
	struct lastmsg_slot *sl = slots(t, region), *s;
	uint32_t cap = t->hdr->capacity, h, i;

	if (len == 0 || len > LASTMSG_ID_MAX) {
		r->overflow = 1;
		return LASTMSG_EID;
	}
	h = key_hash(id, len, type);
	for (i = h % cap; sl[i].state == 1 && !is_key(&sl[i], h, id, len, type); i = (i + 1) % cap)
		;
	s = &sl[i];
	if (s->state == 0 && (uint64_t)(r->used + 1) * 100 > (uint64_t)cap * MAX_LOAD_PCT) {
		shm_store_rel(&r->overflow, 1);
		return LASTMSG_EFULL;
	}
	shm_store_rel(&s->seq, s->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (s->state == 0) {
		s->type = type;
		s->id_len = (uint16_t)len;
		s->hash = h;
		memcpy(s->id, id, len);
		r->used++;
	}
	s->last_seq = row->last_seq;
	s->message_id = row->message_id;
	s->timestamp = row->timestamp;
	s->from_hash = row->from_hash;
	__atomic_store_n(&s->state, 1, __ATOMIC_RELAXED);
	shm_store_rel(&s->seq, s->seq + 1);
	r->updates++;
	return 0;
}

/* Copy a row consistently: 0 empty, 1 used, -1 it never settled.  The id
 * is copied only when the row's hash, type and length are the key's (len
 * 0: never; a reader through a hint does not compare ids): a probe that
 * steps over other channels' rows reads 32 bytes of each, not 128. */
static int
slot_read(const struct lastmsg_slot *s, struct lastmsg_slot *out, uint32_t h, size_t len,
    uint8_t type)
{
	for (int i = 0; i < SHM_SEQ_READ_RETRIES; i++) {
		uint32_t s1 = shm_load_acq(&s->seq);
		if (s1 & 1)
			continue;
		memcpy(out, s, offsetof(struct lastmsg_slot, id));
		if (len > 0 && out->hash == h && out->type == type && out->id_len == len)
			memcpy(out->id, s->id, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == s1)
			return out->state == 1;
	}
	return -1;
}

/* The lookup: rc, and in *where the slot of a row found (else gen 0). */
static int
get_slot(const struct lastmsg *t, const char *id, size_t len, uint8_t type,
    struct lastmsg_row *out, struct lastmsg_hint *where)
{
	uint32_t region = lastmsg_region_of(t, id, len), cap = t->hdr->capacity;
	const struct lastmsg_region *r = lastmsg_region(t, region);
	const struct lastmsg_slot *sl = slots(t, region);
	struct lastmsg_slot s;
	uint32_t gen = shm_load_acq(&r->gen), h, i, n;
	int rc = LASTMSG_UNKNOWN, st;

	memset(out, 0, sizeof *out);
	where->gen = 0;
	if (gen == 0 || (gen & 1) || len == 0 || len > LASTMSG_ID_MAX)
		return LASTMSG_UNKNOWN;
	h = key_hash(id, len, type);
	for (i = h % cap, n = 0; n < cap; i = (i + 1) % cap, n++) {
		if ((st = slot_read(&sl[i], &s, h, len, type)) < 0)
			return LASTMSG_UNKNOWN;
		if (st == 0) {
			rc = shm_load_acq(&r->overflow) ? LASTMSG_UNKNOWN : LASTMSG_NONE;
			break;
		}
		if (is_key(&s, h, id, len, type)) {
			out->last_seq = s.last_seq;
			out->message_id = s.message_id;
			out->timestamp = s.timestamp;
			out->from_hash = s.from_hash;
			rc = s.last_seq ? LASTMSG_HIT : LASTMSG_NONE;
			*where = (struct lastmsg_hint){ gen, region, i };
			break;
		}
	}
	/* A rebuild began while we read: what we read may be half zeroed. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&r->gen, __ATOMIC_RELAXED) != gen) {
		where->gen = 0;
		return LASTMSG_UNKNOWN;
	}
	if (rc != LASTMSG_HIT)
		memset(out, 0, sizeof *out);
	return rc;
}

int
lastmsg_get(const struct lastmsg *t, const char *id, size_t len, uint8_t type,
    struct lastmsg_row *out)
{
	struct lastmsg_hint where;

	return get_slot(t, id, len, type, out, &where);
}

int
lastmsg_get_hinted(const struct lastmsg *t, const char *id, size_t len, uint8_t type,
    struct lastmsg_row *out, struct lastmsg_hint *hint)
{
	const struct lastmsg_region *r;
	struct lastmsg_slot s;
	int st;

	if (hint->gen == 0 || hint->region >= t->hdr->nregions || hint->slot >= t->hdr->capacity)
		return get_slot(t, id, len, type, out, hint);
	r = lastmsg_region(t, hint->region);
	if (shm_load_acq(&r->gen) != hint->gen)
		return get_slot(t, id, len, type, out, hint);
	/* The slot is still this channel's: only its values can have moved. */
	st = slot_read(&slots(t, hint->region)[hint->slot], &s, 0, 0, 0);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (st != 1 || __atomic_load_n(&r->gen, __ATOMIC_RELAXED) != hint->gen)
		return get_slot(t, id, len, type, out, hint);
	out->last_seq = s.last_seq;
	out->message_id = s.message_id;
	out->timestamp = s.timestamp;
	out->from_hash = s.from_hash;
	if (s.last_seq == 0) {
		memset(out, 0, sizeof *out);
		return LASTMSG_NONE;
	}
	return LASTMSG_HIT;
}
