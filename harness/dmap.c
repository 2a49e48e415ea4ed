#include "dmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static size_t slot_size(const struct dmap *m)
{
    return 1 + DMAP_KEY + m->vsize;
}

static unsigned char *slot(const struct dmap *m, size_t i)
{
    return m->slots + i * slot_size(m);
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
        if (!s[0])
            return NULL;
        if (!memcmp(s + 1, key, DMAP_KEY))
            return s + 1 + DMAP_KEY;
    }
}

static void grow(struct dmap *m)
{
    struct dmap old = *m;
    size_t i;

    m->cap = old.cap ? old.cap * 2 : 64;
    m->n = 0;
    m->slots = xcalloc(m->cap, slot_size(m));
    for (i = 0; i < old.cap; i++) {
        unsigned char *s = slot(&old, i);
        int created;
        if (s[0])
            memcpy(dmap_put(m, s + 1, &created), s + 1 + DMAP_KEY,
                   m->vsize);
    }
    free(old.slots);
}

void *dmap_put(struct dmap *m, const unsigned char *key, int *created)
{
    size_t i;

    if ((m->n + 1) * 4 > m->cap * 3)
        grow(m);
    for (i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        unsigned char *s = slot(m, i);
        if (!s[0]) {
            s[0] = 1;
            memcpy(s + 1, key, DMAP_KEY);
            memset(s + 1 + DMAP_KEY, 0, m->vsize);
            m->n++;
            if (created)
                *created = 1;
            return s + 1 + DMAP_KEY;
        }
        if (!memcmp(s + 1, key, DMAP_KEY)) {
            if (created)
                *created = 0;
            return s + 1 + DMAP_KEY;
        }
    }
}

int dmap_del(struct dmap *m, const unsigned char *key)
{
    size_t i, j, mask = m->cap - 1;

    if (!dmap_get(m, key))
        return 0;
    for (i = home(m, key); memcmp(slot(m, i) + 1, key, DMAP_KEY);
         i = (i + 1) & mask)
        ;
    /* Backward shift: move later entries of the cluster into the hole
     * when their home position allows it. */
    for (j = (i + 1) & mask; slot(m, j)[0]; j = (j + 1) & mask) {
        size_t h = home(m, slot(m, j) + 1);
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            memcpy(slot(m, i), slot(m, j), slot_size(m));
            i = j;
        }
    }
    slot(m, i)[0] = 0;
    m->n--;
    return 1;
}

void *dmap_next(const struct dmap *m, size_t *pos, const unsigned char **key)
{
    for (; *pos < m->cap; (*pos)++) {
        unsigned char *s = slot(m, *pos);
        if (s[0]) {
            (*pos)++;
            if (key)
                *key = s + 1;
            return s + 1 + DMAP_KEY;
        }
    }
    return NULL;
}
