#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define CHUNK (64 * 1024)

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

void *arena_alloc_uninit(struct arena *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    struct arena_chunk *c = a->chunks;
    size_t need = (size + align - 1) / align * align;
    void *out;

    if (!need)
        need = align;
    if (!c || c->cap - c->used < need) {
        size_t cap = !c                   ? (a->first ? a->first : CHUNK)
                     : c->cap < CHUNK / 2 ? 2 * c->cap
                                          : CHUNK;
        if (cap < need)
            cap = need;
        if (a->spare && a->spare->cap >= need) {
            c = a->spare; /* kept by arena_clear: no malloc */
            a->spare = c->next;
        } else {
            c = xmalloc(sizeof(*c) + cap);
            c->cap = cap;
        }
        c->used = 0;
        c->next = a->chunks;
        a->chunks = c;
    }
    out = (char *)c->data + c->used;
    c->used += need;
    return out;
}

void *arena_alloc(struct arena *a, size_t size)
{
    void *out = arena_alloc_uninit(a, size);

    memset(out, 0, size);
    return out;
}

char *arena_memdup(struct arena *a, const void *p, size_t len)
{
    char *out = arena_alloc_uninit(a, len + 1);

    memcpy(out, p, len);
    out[len] = '\0';
    return out;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_memdup(a, s, strlen(s)) : NULL;
}

static void free_chunks(struct arena_chunk *c)
{
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void arena_release(struct arena *a)
{
    free_chunks(a->chunks);
    free_chunks(a->spare);
    a->chunks = a->spare = NULL;
}

void arena_clear(struct arena *a)
{
    /* the chunks go to the spare list oldest first: an arena filled the
     * same way again takes them back in the order it grew them */
    while (a->chunks) {
        struct arena_chunk *c = a->chunks;
        a->chunks = c->next;
        c->next = a->spare;
        a->spare = c;
    }
}
