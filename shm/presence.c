/* presence.c - lifetime and layout of the presence segment (see presence.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "presence.h"
#include "shm_seg.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

/* Processes built separately map the same bytes: a layout change must bump
 * PRESENCE_VERSION, and these make the compiler say so. */
_Static_assert(sizeof(struct presence_slot) == 128, "slot layout is part of the segment version");
_Static_assert(sizeof(struct presence_region) == 64, "region layout is part of the segment version");

/* The segment's name, one per run directory: two trees on one machine (the
 * tests run many) never share a segment. */
void
presence_name(const char *run_dir, char *out, size_t len)
{
	snprintf(out, len, "/wk.%08x", wk_shard_hash(run_dir, strlen(run_dir)));
}

/* Master: create the segment afresh, sized for nregions regions of
 * capacity slots each, after a 4096-byte page for the header. */
int
presence_create(struct presence *ps, const char *name, uint32_t nregions, uint32_t capacity)
{
	/* Rounded to 64 bytes, so that every region and slot stays aligned. */
	uint64_t region_size = (sizeof(struct presence_region) +
	    (uint64_t)capacity * (sizeof(struct presence_slot) + sizeof(uint32_t)) + 63) & ~63ull;
	uint64_t total = 4096 + region_size * nregions;

	memset(ps, 0, sizeof *ps);
	snprintf(ps->name, sizeof ps->name, "%s", name);
	if ((ps->hdr = shm_seg_create(name, total)) == NULL)
		return -1;
	ps->size = total;
	/* ftruncate gave zeroed pages: every slot is empty. */
	*ps->hdr = (struct presence_header){
		.magic = PRESENCE_MAGIC, .version = PRESENCE_VERSION,
		.nregions = nregions, .capacity = capacity,
		.slot_size = sizeof(struct presence_slot),
		.region_header_size = sizeof(struct presence_region),
		.region_size = region_size, .total_size = total,
		.created_ms = wk_wall_ms(), .master_pid = getpid(), .generation = 1,
	};
	return 0;
}

/* Map an existing segment, read-only or writable, and check that it is the
 * layout we were built for (magic, version, size) before anyone reads a
 * slot. */
int
presence_open(struct presence *ps, const char *name, int writable)
{
	memset(ps, 0, sizeof *ps);
	snprintf(ps->name, sizeof ps->name, "%s", name);
	if ((ps->hdr = shm_seg_open(name, writable, &ps->size)) == NULL)
		return -1;
	if (ps->size < sizeof(struct presence_header)) {
		wk_log_warnx("presence segment %s is too small", name);
		presence_close(ps);
		return -1;
	}
	if (ps->hdr->magic != PRESENCE_MAGIC || ps->hdr->version != PRESENCE_VERSION ||
	    ps->hdr->total_size != (uint64_t)ps->size) {
		wk_log_warnx("presence segment %s: wrong magic, version or size", name);
		presence_close(ps);
		return -1;
	}
	return 0;
}

/* Map the segment of this run directory (what every process but the master
 * does). */
int
presence_attach(struct presence *ps, const char *run_dir, int writable)
{
	char name[64];

	presence_name(run_dir, name, sizeof name);
	return presence_open(ps, name, writable);
}

void
presence_close(struct presence *ps)
{
	if (ps->hdr)
		munmap(ps->hdr, ps->size);
	ps->hdr = NULL;
}

/* Remove the segment's name; one already gone is no error. */
int
presence_unlink(const char *name)
{
	return shm_unlink(name) < 0 && errno != ENOENT ? -1 : 0;
}

/* Region i: after the 4096-byte header page, regions of region_size bytes. */
struct presence_region *
presence_region(const struct presence *ps, uint32_t region)
{
	return (struct presence_region *)((char *)ps->hdr + 4096 +
	    ps->hdr->region_size * region);
}

struct presence_slot *
presence_slots(const struct presence *ps, uint32_t region)
{
	return (struct presence_slot *)(presence_region(ps, region) + 1);
}

uint32_t *
presence_dense(const struct presence *ps, uint32_t region)
{
	return (uint32_t *)(presence_slots(ps, region) + ps->hdr->capacity);
}

void
presence_region_clear(struct presence *ps, uint32_t region)
{
	if (region >= ps->hdr->nregions)
		return;
	memset(presence_region(ps, region), 0, ps->hdr->region_size);
}
