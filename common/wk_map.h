/* wk_map.h - a hash map from byte-string keys to pointers, in memory, for
 * one thread: the caches a shard reads for every conversation of a sync
 * (channel records, cached member lists, last sent seqs).
 *
 * czmq's zhashx, used before, walks a chain comparing every key with
 * strcmp and wants NUL-terminated keys built with printf; here a slot
 * keeps the key's full 64-bit hash, so a probe compares bytes only when
 * the hashes match.  Open addressing with linear probing over a power of
 * two (load at most 1/2), backward-shift deletion (no tombstones).  The
 * map copies each key (one allocation per entry, freed with it); values
 * are the caller's. */
#ifndef WK_MAP_H
#define WK_MAP_H
#include <stddef.h>
#include <stdint.h>

struct wk_map_slot {
	uint64_t hash;
	char *key;                   /* NULL: empty; NUL-terminated copy */
	size_t len;
	void *val;
};

struct wk_map {
	struct wk_map_slot *slots;
	size_t cap;                  /* a power of two, or 0 before the first set */
	size_t n;
};

typedef void wk_map_free_fn(void *val);

/* A fast in-memory hash of n bytes (not stable across versions: never
 * store it or use it to pick a shard). */
uint64_t wk_map_hash(const void *key, size_t n);

void wk_map_init(struct wk_map *m);
/* Empty the map; fn (if not NULL) is called on every value. */
void wk_map_clear(struct wk_map *m, wk_map_free_fn *fn);
void wk_map_free(struct wk_map *m, wk_map_free_fn *fn);
size_t wk_map_size(const struct wk_map *m);
/* The value of key, or NULL. */
void *wk_map_get(const struct wk_map *m, const void *key, size_t n);
/* Set key's value (added or replaced); the old value, or NULL. */
void *wk_map_set(struct wk_map *m, const void *key, size_t n, void *val);
/* Remove key: its value, or NULL if it was not there. */
void *wk_map_del(struct wk_map *m, const void *key, size_t n);

#endif
