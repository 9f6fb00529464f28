/* wk_map.c - see wk_map.h. */
#include <stdlib.h>
#include <string.h>
#include "wk_alloc.h"
#include "wk_map.h"
#include "wk_shard.h"

#define MIN_CAP 16

/* Eight bytes at a time, each mixed with a multiply; murmur3's fmix64 at
 * the end so every bit of the key reaches the low bits a probe uses. */
uint64_t
wk_map_hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull), w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0x94d049bb133111ebull;
	}
	return wk_fmix64(h);
}

void
wk_map_init(struct wk_map *m)
{
	m->slots = NULL;
	m->cap = m->n = 0;
}

size_t
wk_map_size(const struct wk_map *m)
{
	return m->n;
}

void
wk_map_clear(struct wk_map *m, wk_map_free_fn *fn)
{
	for (size_t i = 0; i < m->cap && m->n; i++)
		if (m->slots[i].key) {
			if (fn)
				fn(m->slots[i].val);
			free(m->slots[i].key);
			m->slots[i].key = NULL;
			m->n--;
		}
	m->n = 0;
}

void
wk_map_free(struct wk_map *m, wk_map_free_fn *fn)
{
	wk_map_clear(m, fn);
	free(m->slots);
	wk_map_init(m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
find(const struct wk_map *m, const void *key, size_t n, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	const struct wk_map_slot *s;

	for (;; i = (i + 1) & mask) {
		s = &m->slots[i];
		if (s->key == NULL ||
		    (s->hash == h && s->len == n && memcmp(s->key, key, n) == 0))
			return i;
	}
}

static void
resize(struct wk_map *m, size_t cap)
{
	struct wk_map_slot *old = m->slots;
	size_t ocap = m->cap;

	m->slots = wk_calloc(cap, sizeof *m->slots);
	m->cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key) {
			size_t j = (size_t)old[i].hash & (cap - 1);
			while (m->slots[j].key)
				j = (j + 1) & (cap - 1);
			m->slots[j] = old[i];
		}
	free(old);
}

void *
wk_map_get(const struct wk_map *m, const void *key, size_t n)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	i = find(m, key, n, wk_map_hash(key, n));
	return m->slots[i].key ? m->slots[i].val : NULL;
}

void *
wk_map_set(struct wk_map *m, const void *key, size_t n, void *val)
{
	uint64_t h = wk_map_hash(key, n);
	struct wk_map_slot *s;
	void *old;

	if ((m->n + 1) * 2 > m->cap)
		resize(m, m->cap ? m->cap * 2 : MIN_CAP);
	s = &m->slots[find(m, key, n, h)];
	if (s->key) {
		old = s->val;
		s->val = val;
		return old;
	}
	s->key = wk_malloc(n + 1);
	memcpy(s->key, key, n);
	s->key[n] = '\0';
	s->hash = h;
	s->len = n;
	s->val = val;
	m->n++;
	return NULL;
}

void *
wk_map_del(struct wk_map *m, const void *key, size_t n)
{
	size_t mask, i, j;
	void *val;

	if (m->n == 0)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, n, wk_map_hash(key, n));
	if (m->slots[i].key == NULL)
		return NULL;
	val = m->slots[i].val;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->n--;
	/* Backward shift: pull later entries of the run into the hole when
	 * their home slot is not between the hole and them. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)m->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return val;
}
