/*
 * lstore.h - a persistent runner's local cache store (strategy_local.c)
 * and its garbage collection.
 *
 * An entry is 16 bytes of value under the first 16 bytes of a step key:
 * a persistent runner keeps every layer it built until GC, and the legacy
 * image store one entry per instruction of every build.
 *
 * GC drops least recently used entries until the store fits its limit;
 * among entries last used by the same build, the largest goes first, and
 * among those of one size the one first in the table.  The oldest use is
 * found from a log of uses in build order, not by scanning the store,
 * which on a long replay holds a million entries and is collected after
 * every build once it is full.
 *
 * Ownership: lstore_init()/lstore_release() on an embedded struct.
 */
#ifndef HARNESS_LSTORE_H
#define HARNESS_LSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "dmap.h"

#define LSTORE_KEY 16

struct lstore_entry {
    uint64_t bytes;  /* the layer's size; 0: no layer (digest zero) */
    uint32_t origin; /* seq + 1 of the build that ran it */
    uint32_t used;   /* seq + 1 of the last build that used it */
};

/* A change of an entry's `used`: the log is in build order, and the use
 * is current while the entry is there with that `used` still. */
struct lstore_use {
    unsigned char key[LSTORE_KEY];
    uint32_t used;
};

struct lstore {
    struct dmap map; /* key -> struct lstore_entry */
    uint64_t bytes;  /* the entries' layers */
    uint64_t limit;  /* GC keeps bytes at or below it; 0: no GC */
    /* limit only: every use since the oldest current one, and some that
     * are no longer current (dropped by compaction) */
    struct lstore_use *log;
    size_t head, nlog, logcap;
    unsigned char (*group)[LSTORE_KEY]; /* GC's working array */
    size_t gcap;
};

void lstore_init(struct lstore *s, uint64_t limit);
void lstore_release(struct lstore *s);

/* The entry under key (a digest; its first LSTORE_KEY bytes), or NULL. */
const struct lstore_entry *lstore_get(const struct lstore *s,
                                      const unsigned char *key);

/* The entry under key, inserted zeroed if absent (*created = 1; the caller
 * sets its bytes and origin and adds them to s->bytes), marked as used by
 * build used (seq + 1).  Valid until the next lstore_use or lstore_gc. */
struct lstore_entry *lstore_use(struct lstore *s, const unsigned char *key,
                                uint32_t used, int *created);

/* Collect garbage until the store fits its limit, calling evicted(arg,
 * key) for each entry dropped, in order (key: DMAP_KEY bytes, the first
 * LSTORE_KEY the entry's, zeros after). */
void lstore_gc(struct lstore *s,
               void (*evicted)(void *arg, const unsigned char *key),
               void *arg);

#endif
