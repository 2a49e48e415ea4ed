/*
 * arena.h - allocate many small objects that die together.
 *
 * A replay makes hundreds of short strings per commit (key parts, reasons,
 * digests); one malloc and free each dominated the profile.  An arena
 * hands out memory from 64 KiB chunks and frees them all at once.  An
 * arena that usually holds a few short strings can start smaller: its
 * chunks then double from `first` bytes up to 64 KiB.  An arena that is
 * filled and emptied over and over (a writer's packets) keeps its chunks
 * with arena_clear() and then stops calling malloc.
 */
#ifndef HARNESS_ARENA_H
#define HARNESS_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *chunks; /* newest first */
    size_t first;               /* the first chunk's size; 0: 64 KiB */
    struct arena_chunk *spare;  /* emptied by arena_clear, used again */
};

#define ARENA_INIT                                                             \
    {                                                                          \
        NULL, 0, NULL                                                          \
    }

/* size bytes, zeroed, aligned for any type; never NULL (dies on OOM). */
void *arena_alloc(struct arena *a, size_t size);
/* The same, not zeroed: for arrays whose every field the caller sets. */
void *arena_alloc_uninit(struct arena *a, size_t size);
/* Copies; arena_strdup(NULL) is NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_memdup(struct arena *a, const void *p, size_t len);
/* Free everything; the arena is empty and usable again. */
void arena_release(struct arena *a);
/* Empty the arena but keep its chunks for what it allocates next (what
 * was allocated is invalid); arena_release() frees them. */
void arena_clear(struct arena *a);

#endif
