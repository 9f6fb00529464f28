/* lastmsg.h - the last-message table: each channel's newest message (its
 * seq, message id, time, sender's hash), so that /conversation/sync can
 * tell which conversations changed without asking the channel shards
 * (wk(7), lastmsg(3) section).  A POSIX shared-memory segment created by
 * wk-master next to the presence segment and removed when it exits: a
 * versioned header, then one region per channel shard.  Only the owning
 * channel shard writes its region (one writer, a seqlock per row), after
 * each commit and before anything of that commit is acknowledged; anyone
 * reads, lock-free.  Rows are never removed (a channel's seqs are never
 * reused), so a reader's probe cannot step over a moved row.
 *
 * A region is rebuilt from Berkeley DB by its shard at start: while that
 * runs, its generation is odd and every lookup answers LASTMSG_UNKNOWN
 * (ask the shard).  A full region (conversation.lastMsgSlots, filled to
 * 90%) or a channel id longer than LASTMSG_ID_MAX refuses the new row and
 * marks the region overflowed: a channel missing from it is then
 * LASTMSG_UNKNOWN instead of "no message".  No pointers: offsets only. */
#ifndef LASTMSG_H
#define LASTMSG_H
#include <stddef.h>
#include <stdint.h>

#define LASTMSG_MAGIC 0x574b4c4du    /* "WKLM" */
#define LASTMSG_VERSION 1u
#define LASTMSG_ID_MAX 96            /* channel id bytes a row holds */

struct lastmsg_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nregions;           /* channel shards */
	uint32_t capacity;           /* rows per region */
	uint32_t slot_size;
	uint32_t region_header_size;
	uint64_t region_size;        /* bytes per region, header included */
	uint64_t total_size;
	int64_t created_ms;
	int32_t master_pid;
	uint32_t pad;
};

/* Per region, written only by its channel shard. */
struct lastmsg_region {
	uint32_t gen;                /* 0 never built; odd while being rebuilt */
	uint32_t used;               /* rows in use */
	uint32_t overflow;           /* a row was refused since the rebuild */
	int32_t writer_pid;
	uint64_t updates;            /* rows written since the rebuild */
	uint8_t pad[40];
};

/* One channel.  seq is odd while the writer changes the row; state 0
 * empty, 1 used. */
struct lastmsg_slot {
	uint32_t seq;
	uint8_t state;
	uint8_t type;
	uint16_t id_len;
	uint32_t hash;               /* wk_shard_hash of the id, then the type */
	uint32_t last_seq;
	int64_t message_id;
	int32_t timestamp;           /* server seconds */
	uint32_t from_hash;          /* wk_shard_hash of the sender's uid */
	char id[LASTMSG_ID_MAX];
};

/* What a row says of its channel. */
struct lastmsg_row {
	uint32_t last_seq;           /* 0: no message */
	int64_t message_id;
	int32_t timestamp;
	uint32_t from_hash;
};

struct lastmsg {
	struct lastmsg_header *hdr;
	size_t size;
	char name[64];
};

enum {
	LASTMSG_HIT = 1,             /* the row is in *out */
	LASTMSG_NONE = 0,            /* the channel has no message */
	LASTMSG_UNKNOWN = -1,        /* the table cannot tell: ask the channel shard */
};
enum {
	LASTMSG_EFULL = -1,          /* the region is at its fill limit */
	LASTMSG_EID = -2,            /* empty id, or longer than LASTMSG_ID_MAX */
};

/* The segment name for a run directory ("/wk.<hash>.last"). */
void lastmsg_name(const char *run_dir, char *out, size_t len);
/* Master: create (replacing a stale one) and zero the segment. */
int lastmsg_create(struct lastmsg *t, const char *name, uint32_t nregions, uint32_t capacity);
/* Children: map the segment of run_dir (read-write for channel shards). */
int lastmsg_attach(struct lastmsg *t, const char *run_dir, int writable);
int lastmsg_open(struct lastmsg *t, const char *name, int writable);
void lastmsg_close(struct lastmsg *t);
int lastmsg_unlink(const char *name);
struct lastmsg_region *lastmsg_region(const struct lastmsg *t, uint32_t region);

/* The region (channel shard) that owns a stored channel id. */
uint32_t lastmsg_region_of(const struct lastmsg *t, const char *id, size_t len);
/* Writer: start rebuilding the region (empties it; lookups answer
 * LASTMSG_UNKNOWN until lastmsg_rebuilt). */
void lastmsg_rebuild(struct lastmsg *t, uint32_t region);
void lastmsg_rebuilt(struct lastmsg *t, uint32_t region);
/* Writer: set the row of (id, type), adding it if missing: 0 or LASTMSG_E*. */
int lastmsg_put(struct lastmsg *t, uint32_t region, const char *id, size_t len, uint8_t type,
    const struct lastmsg_row *row);
/* Anyone: the row of (id, type): LASTMSG_HIT, _NONE or _UNKNOWN. */
int lastmsg_get(const struct lastmsg *t, const char *id, size_t len, uint8_t type,
    struct lastmsg_row *out);

/* Where a row was found: a row keeps its slot until its region is rebuilt
 * (rows are never removed or moved), so while the region's generation is
 * the same the slot can be read again without hashing or comparing the
 * id.  A reader that asks about the same channels often (the mailbox
 * shard's cached conversation rows) keeps one per channel. */
struct lastmsg_hint {
	uint32_t gen;                /* 0: none */
	uint32_t region;
	uint32_t slot;
};

/* As lastmsg_get, through *hint when it is still good; *hint is set when
 * the row is found, cleared otherwise. */
int lastmsg_get_hinted(const struct lastmsg *t, const char *id, size_t len, uint8_t type,
    struct lastmsg_row *out, struct lastmsg_hint *hint);

#endif
