#include "dmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * Two arrays of cap entries.  tags[i] is 0 for an empty slot, else the
 * first 8 bytes of the key with the low bit set; slots[i] is [value | key],
 * the value padded to a multiple of 8 bytes so that it is aligned for the
 * integers and pointers it holds.  A probe walks the dense tags (8 to a
 * cache line) and reads a slot only when its tag matches: at 7/8 load a
 * miss passes about 30 slots, which would be 30 cache lines of slots but
 * is 4 of tags.  The 8 bytes a tag takes are the 8 a used flag took in
 * each slot before, so a map is no larger.  Keys are digests, already
 * uniform: the tag bits above the low one are the hash.
 */
static size_t value_size(const struct dmap *m)
{
    return (m->vsize + 7) & ~(size_t)7;
}

static size_t slot_size(const struct dmap *m)
{
    return value_size(m) + m->klen;
}

static unsigned char *slot(const struct dmap *m, size_t i)
{
    return m->slots + i * slot_size(m);
}

static unsigned char *slot_key(const struct dmap *m, unsigned char *s)
{
    return s + value_size(m);
}

static uint64_t tag_of(const unsigned char *key)
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return h | 1;
}

static size_t home(const struct dmap *m, uint64_t tag)
{
    return (size_t)(tag >> 1) & (m->cap - 1);
}

void dmap_init_keyed(struct dmap *m, size_t vsize, size_t klen)
{
    m->slots = NULL;
    m->tags = NULL;
    m->cap = m->n = 0;
    m->vsize = vsize;
    m->klen = klen;
}

void dmap_init(struct dmap *m, size_t vsize)
{
    dmap_init_keyed(m, vsize, DMAP_KEY);
}

void dmap_release(struct dmap *m)
{
    free(m->slots);
    free(m->tags);
    dmap_init_keyed(m, m->vsize, m->klen);
}

void dmap_clear(struct dmap *m)
{
    if (m->n)
        memset(m->tags, 0, m->cap * sizeof(*m->tags));
    m->n = 0;
}

size_t dmap_pos(const struct dmap *m, const void *value)
{
    return (size_t)((const unsigned char *)value - m->slots) / slot_size(m);
}

/* The index of key, or of the empty slot where it would go. */
static size_t find(const struct dmap *m, const unsigned char *key,
                   uint64_t tag)
{
    size_t i, mask = m->cap - 1;

    for (i = home(m, tag);; i = (i + 1) & mask) {
        uint64_t t = m->tags[i];
        if (!t || (t == tag && !memcmp(slot_key(m, slot(m, i)), key,
                                       m->klen)))
            return i;
    }
}

void *dmap_get(const struct dmap *m, const unsigned char *key)
{
    size_t i;

    if (!m->cap)
        return NULL;
    i = find(m, key, tag_of(key));
    return m->tags[i] ? slot(m, i) : NULL;
}

static void grow(struct dmap *m)
{
    struct dmap old = *m;
    size_t i, j, mask;

    m->cap = old.cap ? old.cap * 2 : 64;
    mask = m->cap - 1;
    m->slots = xcalloc_table(m->cap, slot_size(m));
    m->tags = xcalloc_table(m->cap, sizeof(*m->tags));
    /* Keys are distinct: each goes to the first empty slot from home. */
    for (i = 0; i < old.cap; i++) {
        if (!old.tags[i])
            continue;
        for (j = home(m, old.tags[i]); m->tags[j]; j = (j + 1) & mask)
            ;
        m->tags[j] = old.tags[i];
        memcpy(slot(m, j), slot(&old, i), slot_size(m));
    }
    free(old.slots);
    free(old.tags);
}

void dmap_prefetch(const struct dmap *m, const unsigned char *key)
{
    size_t i;

    if (!m->cap)
        return;
    i = home(m, tag_of(key));
    __builtin_prefetch(&m->tags[i]);
    __builtin_prefetch(slot(m, i));
}

void *dmap_put(struct dmap *m, const unsigned char *key, int *created)
{
    uint64_t tag = tag_of(key);
    size_t i;
    unsigned char *s;

    if ((m->n + 1) * 8 > m->cap * 7) /* load up to 7/8 */
        grow(m);
    i = find(m, key, tag);
    s = slot(m, i);
    if (m->tags[i]) {
        if (created)
            *created = 0;
        return s;
    }
    m->tags[i] = tag;
    memcpy(slot_key(m, s), key, m->klen);
    memset(s, 0, m->vsize);
    m->n++;
    if (created)
        *created = 1;
    return s;
}

int dmap_del(struct dmap *m, const unsigned char *key)
{
    size_t i, j, mask = m->cap - 1;

    if (!m->cap)
        return 0;
    i = find(m, key, tag_of(key));
    if (!m->tags[i])
        return 0;
    /* Backward shift: move later entries of the cluster into the hole
     * when their home position allows it. */
    for (j = (i + 1) & mask; m->tags[j]; j = (j + 1) & mask) {
        size_t h = home(m, m->tags[j]);
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            m->tags[i] = m->tags[j];
            memcpy(slot(m, i), slot(m, j), slot_size(m));
            i = j;
        }
    }
    m->tags[i] = 0;
    m->n--;
    return 1;
}

void *dmap_next(const struct dmap *m, size_t *pos, const unsigned char **key)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->tags[*pos]) {
            unsigned char *s = slot(m, (*pos)++);
            if (key)
                *key = slot_key(m, s);
            return s;
        }
    }
    return NULL;
}

/* ---- struct dset ---- */

void dset_init(struct dset *s)
{
    s->words = NULL;
    s->tails = NULL;
    s->cap = s->n = 0;
}

void dset_release(struct dset *s)
{
    free(s->words);
    free(s->tails);
    dset_init(s);
}

/* A key's word (low bit set, so that no key is an empty slot) and tail. */
static uint64_t dset_word(const unsigned char *key, uint32_t *tail)
{
    uint64_t w;

    memcpy(&w, key, sizeof(w));
    memcpy(tail, key + 8, sizeof(*tail));
    return w | 1;
}

static size_t dset_find(const struct dset *s, uint64_t w, uint32_t tail)
{
    size_t i, mask = s->cap - 1;

    for (i = (size_t)(w >> 1) & mask;; i = (i + 1) & mask)
        if (!s->words[i] || (s->words[i] == w && s->tails[i] == tail))
            return i;
}

int dset_has(const struct dset *s, const unsigned char *key)
{
    uint32_t tail;
    uint64_t w;

    if (!s->cap)
        return 0;
    w = dset_word(key, &tail);
    return s->words[dset_find(s, w, tail)] != 0;
}

void dset_prefetch(const struct dset *s, const unsigned char *key)
{
    uint32_t tail;
    uint64_t w;

    if (!s->cap)
        return;
    w = dset_word(key, &tail);
    __builtin_prefetch(&s->words[(size_t)(w >> 1) & (s->cap - 1)]);
}

int dset_add(struct dset *s, const unsigned char *key)
{
    uint32_t tail;
    uint64_t w;
    size_t i;

    if ((s->n + 1) * 8 > s->cap * 7) { /* load up to 7/8, as dmap */
        struct dset old = *s;
        s->cap = old.cap ? 2 * old.cap : 64;
        s->words = xcalloc_table(s->cap, sizeof(*s->words));
        s->tails = xcalloc_table(s->cap, sizeof(*s->tails));
        for (i = 0; i < old.cap; i++)
            if (old.words[i]) {
                size_t j = dset_find(s, old.words[i], old.tails[i]);
                s->words[j] = old.words[i];
                s->tails[j] = old.tails[i];
            }
        free(old.words);
        free(old.tails);
    }
    w = dset_word(key, &tail);
    i = dset_find(s, w, tail);
    if (s->words[i])
        return 0;
    s->words[i] = w;
    s->tails[i] = tail;
    s->n++;
    return 1;
}

int dset_next(const struct dset *s, size_t *pos, unsigned char key[DSET_KEY])
{
    for (; *pos < s->cap; (*pos)++)
        if (s->words[*pos]) {
            memcpy(key, &s->words[*pos], sizeof(s->words[0]));
            memcpy(key + 8, &s->tails[*pos], sizeof(s->tails[0]));
            (*pos)++;
            return 1;
        }
    return 0;
}
