#include "dmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * A slot is [value | key | used flag], padded to a multiple of 8 bytes so
 * that every value is aligned for the integers and pointers it holds.  A
 * replay keeps millions of slots: every byte here counts.
 */
static size_t value_size(const struct dmap *m)
{
    return (m->vsize + 7) & ~(size_t)7;
}

static size_t slot_size(const struct dmap *m)
{
    return value_size(m) + DMAP_KEY + 8;
}

static unsigned char *slot(const struct dmap *m, size_t i)
{
    return m->slots + i * slot_size(m);
}

static unsigned char *slot_key(const struct dmap *m, unsigned char *s)
{
    return s + value_size(m);
}

static int slot_used(const struct dmap *m, unsigned char *s)
{
    return s[value_size(m) + DMAP_KEY];
}

static void slot_set_used(const struct dmap *m, unsigned char *s, int used)
{
    s[value_size(m) + DMAP_KEY] = (unsigned char)used;
}

static size_t home(const struct dmap *m, const unsigned char *key)
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (m->cap - 1));
}

void dmap_init(struct dmap *m, size_t vsize)
{
    m->slots = NULL;
    m->cap = m->n = 0;
    m->vsize = vsize;
}

void dmap_release(struct dmap *m)
{
    free(m->slots);
    dmap_init(m, m->vsize);
}

void *dmap_get(const struct dmap *m, const unsigned char *key)
{
    size_t i;

    if (!m->cap)
        return NULL;
    for (i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        unsigned char *s = slot(m, i);
        if (!slot_used(m, s))
            return NULL;
        if (!memcmp(slot_key(m, s), key, DMAP_KEY))
            return s;
    }
}

static void grow(struct dmap *m)
{
    struct dmap old = *m;
    size_t i;

    m->cap = old.cap ? old.cap * 2 : 64;
    m->n = 0;
    m->slots = xcalloc_table(m->cap, slot_size(m));
    for (i = 0; i < old.cap; i++) {
        unsigned char *s = slot(&old, i);
        int created;
        if (slot_used(&old, s))
            memcpy(dmap_put(m, slot_key(&old, s), &created), s, m->vsize);
    }
    free(old.slots);
}

void *dmap_put(struct dmap *m, const unsigned char *key, int *created)
{
    size_t i;

    if ((m->n + 1) * 8 > m->cap * 7) /* load up to 7/8 */
        grow(m);
    for (i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        unsigned char *s = slot(m, i);
        if (!slot_used(m, s)) {
            slot_set_used(m, s, 1);
            memcpy(slot_key(m, s), key, DMAP_KEY);
            memset(s, 0, m->vsize);
            m->n++;
            if (created)
                *created = 1;
            return s;
        }
        if (!memcmp(slot_key(m, s), key, DMAP_KEY)) {
            if (created)
                *created = 0;
            return s;
        }
    }
}

int dmap_del(struct dmap *m, const unsigned char *key)
{
    size_t i, j, mask = m->cap - 1;

    if (!dmap_get(m, key))
        return 0;
    for (i = home(m, key); memcmp(slot_key(m, slot(m, i)), key, DMAP_KEY);
         i = (i + 1) & mask)
        ;
    /* Backward shift: move later entries of the cluster into the hole
     * when their home position allows it. */
    for (j = (i + 1) & mask; slot_used(m, slot(m, j)); j = (j + 1) & mask) {
        size_t h = home(m, slot_key(m, slot(m, j)));
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            memcpy(slot(m, i), slot(m, j), slot_size(m));
            i = j;
        }
    }
    slot_set_used(m, slot(m, i), 0);
    m->n--;
    return 1;
}

void *dmap_next(const struct dmap *m, size_t *pos, const unsigned char **key)
{
    for (; *pos < m->cap; (*pos)++) {
        unsigned char *s = slot(m, *pos);
        if (slot_used(m, s)) {
            (*pos)++;
            if (key)
                *key = slot_key(m, s);
            return s;
        }
    }
    return NULL;
}
