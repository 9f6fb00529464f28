/* stats.c - the statistics segment (stats.h): layout, lifetime, and the
 * few operations that are not one store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "shm_seg.h"
#include "stats.h"
#include "wk_log.h"
#include "wk_shard.h"
#include "wk_time.h"

#define STATS_HEADER_PAGE 4096u

static const struct stats_info infos[STATS_NVALUES] = {
#define X(name, kind, scale, owner, prom, help) { prom, help, STATS_##kind, scale, owner },
	STATS_VALUES(X)
#undef X
};

void
stats_name(const char *run_dir, char *out, size_t len)
{
	snprintf(out, len, "/wk.%08x.stats", wk_shard_hash(run_dir, strlen(run_dir)));
}

int
stats_create(struct stats *s, const char *name, uint32_t nrows, const uint8_t *roles,
    const uint16_t *instances)
{
	uint64_t total = STATS_HEADER_PAGE + (uint64_t)nrows * STATS_ROW_SIZE;

	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	if ((s->hdr = shm_seg_create(name, total)) == NULL)
		return -1;
	s->size = total;
	*s->hdr = (struct stats_header){
		.magic = STATS_MAGIC, .version = STATS_VERSION, .nrows = nrows,
		.row_size = STATS_ROW_SIZE, .total_size = total, .created_ms = wk_wall_ms(),
		.master_pid = getpid(), .nvalues = STATS_NVALUES,
	};
	for (uint32_t i = 0; i < nrows; i++) {
		struct stats_row *r = (struct stats_row *)stats_row_at(s, i);
		r->role = roles[i];
		r->instance = instances[i];
		r->used = 1;
	}
	return 0;
}

/* Map and check the layout (magic, version, sizes) before a row is read. */
int
stats_open(struct stats *s, const char *name, int writable)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	if ((s->hdr = shm_seg_open(name, writable, &s->size)) == NULL)
		return -1;
	if (s->size < STATS_HEADER_PAGE || s->hdr->magic != STATS_MAGIC ||
	    s->hdr->version != STATS_VERSION || s->hdr->row_size != STATS_ROW_SIZE ||
	    s->hdr->total_size != (uint64_t)s->size ||
	    STATS_HEADER_PAGE + (uint64_t)s->hdr->nrows * STATS_ROW_SIZE != s->size) {
		wk_log_warnx("stats segment %s: wrong magic, version or size", name);
		stats_close(s);
		return -1;
	}
	return 0;
}

int
stats_attach(struct stats *s, const char *run_dir, int writable)
{
	char name[64];

	stats_name(run_dir, name, sizeof name);
	return stats_open(s, name, writable);
}

void
stats_close(struct stats *s)
{
	if (s->hdr)
		munmap(s->hdr, s->size);
	s->hdr = NULL;
}

int
stats_unlink(const char *name)
{
	return shm_unlink(name) < 0 && errno != ENOENT ? -1 : 0;
}

const struct stats_row *
stats_row_at(const struct stats *s, uint32_t i)
{
	if (s->hdr == NULL || i >= s->hdr->nrows)
		return NULL;
	return (const struct stats_row *)((const char *)s->hdr + STATS_HEADER_PAGE +
	    (uint64_t)i * STATS_ROW_SIZE);
}

const struct stats_info *
stats_info(enum stats_id id)
{
	return (unsigned)id < STATS_NVALUES ? &infos[id] : NULL;
}

int
stats_owned(enum stats_id id, const char *role)
{
	const char *o = infos[id].owner;

	if (strcmp(o, "db") == 0)   /* the roles that declare databases */
		return strcmp(role, "channel") == 0 || strcmp(role, "mailbox") == 0 ||
		    strcmp(role, "hook") == 0;
	return strcmp(o, "*") == 0 || strcmp(o, role) == 0;
}

struct stats_row *
stats_row_find(struct stats *s, int role, int instance)
{
	for (uint32_t i = 0; i < stats_nrows(s); i++) {
		struct stats_row *r = (struct stats_row *)stats_row_at(s, i);
		if (r->used && r->role == role && r->instance == instance)
			return r;
	}
	return NULL;
}

/* A new process takes the row: what it counts starts from zero (the last
 * process's values would otherwise be added to its own), starts goes on. */
void
stats_row_claim(struct stats_row *r, int32_t pid, int64_t now_ms)
{
	if (r == NULL)
		return;
	for (int i = 0; i < STATS_NVALUES_MAX; i++)
		stats_store(&r->v[i], 0);
	for (int t = 0; t < STATS_NTYPED; t++)
		for (int i = 0; i < STATS_CHTYPES; i++)
			stats_store(&r->typed[t][i], 0);
	for (int h = 0; h < STATS_NHIST_MAX; h++) {
		for (int i = 0; i <= STATS_HIST_BUCKETS; i++)
			stats_store(&r->h[h].bucket[i], 0);
		stats_store(&r->h[h].sum_us, 0);
	}
	stats_store(&r->starts, r->starts + 1);
	__atomic_store_n(&r->started_ms, now_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&r->pid, pid, __ATOMIC_RELEASE);
}

/* Bucket i holds latencies in (2^(i-1), 2^i] microseconds (bucket 0: at
 * most 1 us); longer than 2^23 us (8.4 s) goes to +Inf. */
void
stats_observe(struct stats_row *r, int h, uint64_t us)
{
	int i = 0;

	if (r == NULL)
		return;
	if (us > 1)
		i = 64 - __builtin_clzll(us - 1);
	if (i > STATS_HIST_BUCKETS)
		i = STATS_HIST_BUCKETS;
	stats_store(&r->h[h].bucket[i], r->h[h].bucket[i] + 1);
	stats_store(&r->h[h].sum_us, r->h[h].sum_us + us);
}

void
stats_hist_read(const struct stats_row *r, int h, struct stats_hist_view *out)
{
	out->count = 0;
	for (int i = 0; i <= STATS_HIST_BUCKETS; i++) {
		out->bucket[i] = __atomic_load_n(&r->h[h].bucket[i], __ATOMIC_RELAXED);
		out->count += out->bucket[i];
	}
	out->sum_us = __atomic_load_n(&r->h[h].sum_us, __ATOMIC_RELAXED);
}
