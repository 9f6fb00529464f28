/* channel_mset.h - a set of uids in memory: one cached list (members,
 * blacklist or whitelist) of one channel (wk-channel(8), channel_mcache.c).
 *
 * Compact on purpose: a channel of a million members is one of these.  Open
 * addressing over the uids' FNV-1a hashes (8 bytes a slot: the hash and the
 * uid's offset in the arena, load at most 3/4), backward-shift deletion (no
 * tombstones), and one arena holding every uid as u16 length, bytes, NUL.  A
 * removed uid leaves its bytes in the arena until the dead bytes pass half
 * of it; then the arena is compacted.  No allocation per uid.
 */
#ifndef CHANNEL_MSET_H
#define CHANNEL_MSET_H
#include <stddef.h>
#include <stdint.h>

struct channel_mset_slot {
	uint32_t hash;
	uint32_t off;                /* arena offset + 1; 0: empty */
};

struct channel_mset {
	uint32_t n;                  /* uids in the set */
	uint32_t cap;                /* slots, a power of two (0 before the first add) */
	struct channel_mset_slot *slots;
	char *arena;                 /* u16 length (host order), bytes, NUL, per uid */
	size_t alen, acap, dead;     /* arena bytes used, allocated, of removed uids */
};

#define CHANNEL_MSET_UID_MAX 65535

void channel_mset_init(struct channel_mset *s);
void channel_mset_free(struct channel_mset *s);
/* 1 added, 0 already there, -1 a uid longer than CHANNEL_MSET_UID_MAX or
 * the set at its 2^31 / 4 GiB bound. */
int channel_mset_add(struct channel_mset *s, const char *uid, size_t len);
/* 1 removed, 0 was not there. */
int channel_mset_remove(struct channel_mset *s, const char *uid, size_t len);
int channel_mset_has(const struct channel_mset *s, const char *uid, size_t len);
/* fn(uid, len, arg) per uid, in slot order (not sorted); a non-zero return
 * stops the walk and is returned.  The uid is NUL-terminated.  fn must
 * not change the set. */
int channel_mset_foreach(const struct channel_mset *s,
    int (*fn)(const char *uid, size_t len, void *arg), void *arg);
/* Give back the arena's spare room (after a set was built). */
void channel_mset_trim(struct channel_mset *s);
/* Bytes allocated (slots and arena), for the memory figure in STATUS. */
size_t channel_mset_bytes(const struct channel_mset *s);

#endif
