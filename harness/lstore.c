#include "lstore.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

void lstore_init(struct lstore *s, uint64_t limit)
{
    memset(s, 0, sizeof(*s));
    dmap_init_keyed(&s->map, sizeof(struct lstore_entry), LSTORE_KEY);
    s->limit = limit;
}

void lstore_release(struct lstore *s)
{
    dmap_release(&s->map);
    free(s->log);
    free(s->group);
    memset(s, 0, sizeof(*s));
}

const struct lstore_entry *lstore_get(const struct lstore *s,
                                      const unsigned char *key)
{
    return dmap_get(&s->map, key);
}

/* Whether u is its entry's latest use.  A use that is not stays so: an
 * entry's `used` only grows, and one dropped comes back only in a later
 * build. */
static int use_current(const struct lstore *s, const struct lstore_use *u)
{
    const struct lstore_entry *e = dmap_get(&s->map, u->key);
    return e && e->used == u->used;
}

/* Drop the uses that are no longer current, in place, keeping the order;
 * after it the log holds one use per entry. */
static void compact(struct lstore *s)
{
    size_t i, n = 0;

    for (i = s->head; i < s->nlog; i++)
        if (use_current(s, &s->log[i]))
            s->log[n++] = s->log[i];
    s->head = 0;
    s->nlog = n;
}

struct lstore_entry *lstore_use(struct lstore *s, const unsigned char *key,
                                uint32_t used, int *created)
{
    struct lstore_entry *e = dmap_put(&s->map, key, created);

    if (e->used == used)
        return e;
    e->used = used;
    if (!s->limit)
        return e;
    /* The log holds the current uses (one per entry) and those replaced
     * since the last compaction: at most about twice as many. */
    if (s->nlog - s->head >= 2 * s->map.n + 1024)
        compact(s); /* reads the map only: e stays valid */
    if (s->nlog == s->logcap && s->head) {
        memmove(s->log, s->log + s->head,
                (s->nlog - s->head) * sizeof(*s->log));
        s->nlog -= s->head;
        s->head = 0;
    }
    XGROW(s->log, s->logcap, s->nlog + 1);
    memcpy(s->log[s->nlog].key, key, LSTORE_KEY);
    s->log[s->nlog].used = used;
    s->nlog++;
    return e;
}

void lstore_gc(struct lstore *s,
               void (*evicted)(void *arg, const unsigned char *key),
               void *arg)
{
    while (s->limit && s->bytes > s->limit && s->map.n) {
        size_t n = 0, i;
        uint32_t oldest;

        /* The first current use is the oldest (the log is in build
         * order): the entries of that build's uses are the least
         * recently used. */
        while (s->head < s->nlog && !use_current(s, &s->log[s->head]))
            s->head++;
        if (s->head == s->nlog)
            return; /* not expected: every entry has a current use */
        oldest = s->log[s->head].used;
        for (i = s->head; i < s->nlog && s->log[i].used == oldest; i++)
            if (use_current(s, &s->log[i])) {
                XGROW(s->group, s->gcap, n + 1);
                memcpy(s->group[n++], s->log[i].key, LSTORE_KEY);
            }
        /* Among them, the largest first, then the first in the table:
         * positions are read again after each removal, which moves later
         * entries of its cluster back. */
        while (n && s->bytes > s->limit) {
            unsigned char k[DMAP_KEY] = { 0 };
            size_t best = 0, best_pos = 0;
            const struct lstore_entry *v = NULL;
            for (i = 0; i < n; i++) {
                const struct lstore_entry *e =
                    dmap_get(&s->map, s->group[i]);
                size_t at = dmap_pos(&s->map, e);
                if (!v || e->bytes > v->bytes ||
                    (e->bytes == v->bytes && at < best_pos)) {
                    v = e;
                    best = i;
                    best_pos = at;
                }
            }
            memcpy(k, s->group[best], LSTORE_KEY);
            s->bytes -= v->bytes;
            dmap_del(&s->map, k);
            if (evicted)
                evicted(arg, k);
            memmove(s->group[best], s->group[n - 1], LSTORE_KEY);
            n--;
        }
    }
}
