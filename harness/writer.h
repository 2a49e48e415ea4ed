/*
 * writer.h - a thread that writes a replay's results into the store while
 * the next commits are simulated.
 *
 * A replay produces about a hundred rows per commit (a build per strategy,
 * its steps and transfers); writing them costs as much as simulating them.
 * The replay fills one packet per commit and hands it over; the writer
 * thread owns the store until writer_finish() and writes each packet's
 * builds: commit row first, then its builds, in batches committed about
 * every second.  A batch is atomic: an error rolls it back whole, so the
 * file only ever holds whole builds and a rerun redoes the rest.  The
 * queue is bounded, so memory stays flat when the disk is the slower side.
 *
 * Everything a packet's rows point to lives in the packet's arena
 * (wpacket_alloc / wpacket_strdup) or is static (strategy names, keywords).
 */
#ifndef HARNESS_WRITER_H
#define HARNESS_WRITER_H

#include <stddef.h>

#include "err.h"
#include "store.h"

struct writer;
struct wpacket;

/* Start the thread.  resumed: skip builds the store already holds. */
int writer_start(struct writer **out, struct store *st, int resumed,
                 struct err *err);

/* A new, empty packet for one commit. */
struct wpacket *wpacket_new(void);
void *wpacket_alloc(struct wpacket *p, size_t size); /* zeroed, aligned */
/* Not zeroed: for rows whose every field the caller sets. */
void *wpacket_alloc_uninit(struct wpacket *p, size_t size);
char *wpacket_strdup(struct wpacket *p, const char *s); /* NULL stays NULL */
/* The commit row; its strings are copied. */
void wpacket_commit(struct wpacket *p, const struct store_commit *c);
/* One build; b, steps and xf must point into the arena or to static data. */
void wpacket_build(struct wpacket *p, const struct store_build *b,
                   const struct store_step *steps, size_t nsteps,
                   const struct store_transfer *xf, size_t nxf);

/*
 * A packet for the next commit: one the writer has written and emptied,
 * or a new one.  Call it from the one thread that pushes.
 */
struct wpacket *writer_packet(struct writer *w);

/* Give back a packet from writer_packet() that is not to be pushed (its
 * rows are dropped).  From the thread that pushes. */
void writer_unused(struct writer *w, struct wpacket *p);

/*
 * Queue a packet (the writer takes it, even on failure).  Blocks while
 * the queue is full.  0, or the writer's error code once it has failed:
 * the caller should stop producing and call writer_finish().
 */
int writer_push(struct writer *w, struct wpacket *p);

/* Drain the queue, commit, join, free.  written: builds written.  0 or
 * the first error (in err). */
int writer_finish(struct writer *w, size_t *written, struct err *err);

#endif
