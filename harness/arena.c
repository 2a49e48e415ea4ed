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
        c = xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
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

void arena_release(struct arena *a)
{
    while (a->chunks) {
        struct arena_chunk *c = a->chunks;
        a->chunks = c->next;
        free(c);
    }
}
