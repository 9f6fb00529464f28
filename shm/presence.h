/* presence.h - the presence segment: who is online, on which broker, which
 * connection.  A POSIX shared-memory segment created by wk-master before any
 * child starts and removed when it exits: a versioned header, then one region
 * per mailbox shard.  Only the owning mailbox shard writes its region (one
 * writer, seqlock per slot); anyone reads.  No pointers: offsets only.
 * Each region is a hash table of slots (lookup by uid) and, after it, a
 * dense list of its live slots' indexes (the region's first `used`
 * entries), so that the connections online can be enumerated in
 * O(online), not O(capacity): the channel shards pick a large group's
 * recipients from the users online when they are fewer than its members.
 * The table operations are in presence_table.c; this file owns the
 * segment's layout, versioning and lifetime. */
#ifndef PRESENCE_H
#define PRESENCE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRESENCE_MAGIC 0x574b5052u   /* "WKPR" */
#define PRESENCE_VERSION 2u           /* 2: the dense list of live slots */
#define PRESENCE_UID_MAX 64          /* uid bytes stored in a slot, NUL included */
/* Connections of one uid that a reader looks at (delivery, webhooks,
 * counts): a uid with more is served on this many. */
#define PRESENCE_CONNS_MAX 64

struct presence_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nregions;           /* mailbox shards */
	uint32_t capacity;           /* slots per region */
	uint32_t slot_size;
	uint32_t region_header_size;
	uint64_t region_size;        /* bytes per region, header included */
	uint64_t total_size;
	int64_t created_ms;          /* wall clock */
	int32_t master_pid;
	uint32_t generation;         /* bumped each time the master creates the segment */
};

/* Per region, written only by its mailbox shard (and by the master when it
 * repairs the region of a dead shard). */
struct presence_region {
	int32_t writer_pid;
	uint32_t used;               /* slots in use = entries of the dense list */
	uint64_t churn;              /* inserts + removals since creation */
	uint32_t moves;              /* odd while entries are being shifted (slots
	                              * or dense list): a reader that saw it
	                              * change reads again */
	uint8_t pad[44];
};

/* One connection.  seq is odd while the writer changes the slot; state 0 is
 * empty, 1 used (deletion shifts entries back, so there are no tombstones). */
struct presence_slot {
	uint32_t seq;
	uint8_t state;
	uint8_t device_flag;
	uint8_t device_level;
	uint8_t proto_version;
	uint16_t broker_id;
	uint16_t reserved;
	uint32_t uid_hash;
	uint64_t conn_id;
	int64_t connected_at_ms;
	char uid[PRESENCE_UID_MAX];
	uint32_t dense;              /* this slot's index in the dense list */
	uint8_t pad[28];
};

struct presence {
	struct presence_header *hdr;
	size_t size;
	char name[64];
};

/* The segment name for a run directory ("/wk.<hash>"): every process derives
 * it from the config, so no name has to be passed around. */
void presence_name(const char *run_dir, char *out, size_t len);
/* Master: create (replacing a stale one) and zero the segment. */
int presence_create(struct presence *ps, const char *name, uint32_t nregions,
    uint32_t capacity);
/* Children: map an existing segment (read-write for mailbox shards). */
int presence_open(struct presence *ps, const char *name, int writable);
/* presence_open of the segment that belongs to run_dir. */
int presence_attach(struct presence *ps, const char *run_dir, int writable);
void presence_close(struct presence *ps);
/* Master: unlink the segment name. */
int presence_unlink(const char *name);
struct presence_region *presence_region(const struct presence *ps, uint32_t region);
struct presence_slot *presence_slots(const struct presence *ps, uint32_t region);
/* The region's dense list: capacity u32 slot indexes, the first `used` live. */
uint32_t *presence_dense(const struct presence *ps, uint32_t region);
/* Empty a region (a new segment, tests). */
void presence_region_clear(struct presence *ps, uint32_t region);
/* The region of a mailbox shard that died, possibly in the middle of an
 * update: rebuilt from the slots that read consistently (a torn slot is
 * dropped, an entry a shift left twice is kept once), so the connections
 * stay visible while the shard restarts and the brokers re-assert them.
 * The master calls it when the shard dies, the shard again at start.  The
 * count kept. */
int presence_region_rebuild(struct presence *ps, uint32_t region);

/* ---- the table (presence_table.c) ---- */

/* A connection as callers see it. */
struct presence_conn {
	char uid[PRESENCE_UID_MAX];
	uint8_t device_flag;
	uint8_t device_level;
	uint8_t proto_version;
	uint16_t broker_id;
	uint64_t conn_id;
	int64_t connected_at_ms;
};

enum {
	PRESENCE_EFULL = -1,   /* the region is at its fill limit (presence.capacity) */
	PRESENCE_EUID = -2,    /* empty uid, or longer than PRESENCE_UID_MAX - 1 bytes */
	PRESENCE_EBUSY = -3,   /* the writer kept moving entries; try again */
	PRESENCE_ESPACE = -4,  /* more connections than the caller has room for */
};

/* The region (mailbox shard) that owns uid. */
uint32_t presence_region_of(const struct presence *ps, const char *uid);
/* Writer (the owning mailbox shard) only.  0 or PRESENCE_E*. */
int presence_add(struct presence *ps, uint32_t region, const struct presence_conn *c);
/* Writer only.  1 if the connection was there, 0 if not. */
int presence_remove(struct presence *ps, uint32_t region, const char *uid,
    uint16_t broker_id, uint64_t conn_id);
/* Writer only: drop every connection of a dead broker; returns how many. */
int presence_remove_broker(struct presence *ps, uint32_t region, uint16_t broker_id);
/* Writer only: drop every connection for which drop(c, arg) is true; how many. */
int presence_remove_if(struct presence *ps, uint32_t region,
    int (*drop)(const struct presence_conn *c, void *arg), void *arg);
/* Anyone: 1 if connection c (uid, broker id, conn id) is in the table. */
int presence_has(const struct presence *ps, const struct presence_conn *c);
/* Anyone: the connections of uid (at most max); count or PRESENCE_EBUSY. */
int presence_lookup(const struct presence *ps, const char *uid,
    struct presence_conn *out, int max);
/* Anyone: every connection of the region (at most max), read from its
 * dense list in O(used); a count, PRESENCE_ESPACE, or PRESENCE_EBUSY when
 * the writer kept removing.  A connection that stayed connected during the
 * call is never missed (a removal moves entries inside a `moves` window
 * and the reader starts again); one added or removed meanwhile may or may
 * not be there.  No uid appears twice for one connection. */
int presence_region_conns(const struct presence *ps, uint32_t region,
    struct presence_conn *out, int max);
/* Anyone: connections online in all regions (a moment's sum of `used`). */
uint64_t presence_online(const struct presence *ps);

#endif
