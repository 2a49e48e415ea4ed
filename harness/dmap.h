/*
 * dmap.h - a hash map keyed by 32-byte digests (open addressing, linear
 * probing, backward-shift deletion).  Values are fixed-size records stored
 * inline; pointers returned by dmap_get/dmap_put stay valid until the next
 * dmap_put or dmap_del on the same map.
 *
 * Digests are already uniformly distributed, so the first 8 bytes are the
 * hash.  Ownership: dmap_init()/dmap_release() on an embedded struct.
 */
#ifndef HARNESS_DMAP_H
#define HARNESS_DMAP_H

#include <stddef.h>
#include <stdint.h>

#define DMAP_KEY 32

struct dmap {
    unsigned char *slots; /* cap * (vsize rounded up to 8 + klen) */
    uint64_t *tags;       /* cap; 0: the slot is empty */
    size_t cap, n, vsize;
    size_t klen;          /* bytes of each key kept: DMAP_KEY or 16 */
};

void dmap_init(struct dmap *m, size_t vsize);
/* A map that keeps only the first klen (16 to DMAP_KEY) bytes of each
 * digest it is given: for maps as large as a long replay (see struct dset
 * for the odds of two digests sharing 16 bytes). */
void dmap_init_keyed(struct dmap *m, size_t vsize, size_t klen);
/* The position of a value in the map's table (for ties broken by it). */
size_t dmap_pos(const struct dmap *m, const void *value);
void dmap_release(struct dmap *m);
/* Empty the map and keep its table: for a map refilled to about the same
 * size over and over, which then neither allocates nor grows. */
void dmap_clear(struct dmap *m);
/* The value stored under key, or NULL. */
void *dmap_get(const struct dmap *m, const unsigned char *key);
/* Start loading where key would be: lookups of several keys issued after
 * their prefetches wait for memory once, not once each. */
void dmap_prefetch(const struct dmap *m, const unsigned char *key);
/* The value under key, inserted zeroed if absent (*created = 1). */
void *dmap_put(struct dmap *m, const unsigned char *key, int *created);
/* Remove key; returns 1 if it was there. */
int dmap_del(struct dmap *m, const unsigned char *key);
/* Iterate: start with *pos = 0; returns the next value and sets *key,
 * or NULL at the end.  Do not modify the map while iterating. */
void *dmap_next(const struct dmap *m, size_t *pos, const unsigned char **key);

/*
 * A set of digests that is only ever added to, for what must be known for
 * the whole of a long replay (a registry that keeps every tag): each is
 * kept as its first 12 bytes, 12 bytes a slot (a word and a half-word in
 * two arrays) where a dmap takes 40.  Two SHA-256 digests share 96 leading
 * bits with odds of about n^2 / 2^97: under 10^-15 for ten million.
 */
struct dset {
    uint64_t *words; /* cap; 0: empty (a key's word has its low bit set) */
    uint32_t *tails; /* cap: bytes 8 to 11 of the key */
    size_t cap, n;
};

void dset_init(struct dset *s);
void dset_release(struct dset *s);
int dset_has(const struct dset *s, const unsigned char *key);
void dset_prefetch(const struct dset *s, const unsigned char *key);
/* Add key; returns 1 if it was new, 0 if it was there. */
int dset_add(struct dset *s, const unsigned char *key);
/* Iterate: start with *pos = 0; fills key with DSET_KEY bytes that
 * dset_has and dset_add take as the key they came from (the low bit of its
 * first byte is always set), or returns 0 at the end.  Do not modify the
 * set while iterating. */
#define DSET_KEY 12
int dset_next(const struct dset *s, size_t *pos, unsigned char key[DSET_KEY]);

#endif
