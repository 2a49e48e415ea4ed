#include "writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "arena.h"
#include "buf.h"

/* Packets waiting at most; each holds one commit's rows (up to a few
 * hundred KiB on a long Dockerfile).  The queue only has to cover the
 * writer's ups and downs: since checkpoints left its thread
 * (store_checkpoints_start), 16 replay the long-Dockerfile history as fast
 * as 64 did, and its peak memory was 163-165 MB instead of 163-179. */
#define QUEUE_MAX 16
/* The writer sleeps until this many commits wait, the replay ends, or a
 * commit has waited WAKE_MS: waking it for every commit cost both threads
 * a futex call each, and the timeout keeps a slow replay's batches
 * committed about every second. */
#define WAKE_AT 8
#define WAKE_MS 200
/* Written packets kept for writer_packet() at most.  A packet's arena is
 * emptied, not freed, and the replay's thread fills it again: freeing on
 * this thread what that thread allocated cost both a lock of malloc's
 * arena each (and futex calls when they met).  The writer usually takes
 * WAKE_AT to twice as many packets at a time; more spares than that would
 * only hold memory (a full queue's worth raised the peak by 10 MB). */
#define SPARE_MAX (2 * WAKE_AT)

struct wpacket {
    struct wpacket *next;
    struct arena arena;
    int has_commit;
    struct store_commit commit;
    struct store_build_rows *builds;
    size_t nbuilds, cap;
};

struct writer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t can_take, can_put;
    struct wpacket *head, *tail;
    size_t queued;
    struct wpacket *spare; /* written, emptied, for writer_packet() */
    size_t nspare;
    struct wpacket *mine; /* spares the producing thread took: its own */
    int closing; /* no more packets will come */
    int taker_waits, putter_waits; /* signal only a thread that waits */
    int failed;  /* err holds why; packets are dropped */
    struct err err;
    struct store *st;
    int resumed;
    size_t written;
};

/* ---- packets ---- */

struct wpacket *wpacket_new(void)
{
    return xcalloc(1, sizeof(struct wpacket));
}

void *wpacket_alloc(struct wpacket *p, size_t size)
{
    return arena_alloc(&p->arena, size);
}

void *wpacket_alloc_uninit(struct wpacket *p, size_t size)
{
    return arena_alloc_uninit(&p->arena, size);
}

char *wpacket_strdup(struct wpacket *p, const char *s)
{
    return arena_strdup(&p->arena, s);
}

void wpacket_commit(struct wpacket *p, const struct store_commit *c)
{
    p->has_commit = 1;
    p->commit.sha = wpacket_strdup(p, c->sha);
    p->commit.parents = wpacket_strdup(p, c->parents);
    p->commit.author_time = c->author_time;
    p->commit.subject = wpacket_strdup(p, c->subject);
}

void wpacket_build(struct wpacket *p, const struct store_build *b,
                   const struct store_step *steps, size_t nsteps,
                   const struct store_transfer *xf, size_t nxf)
{
    XGROW(p->builds, p->cap, p->nbuilds + 1);
    struct store_build_rows *w = &p->builds[p->nbuilds++];
    w->build = *b;
    w->steps = steps;
    w->nsteps = nsteps;
    w->xf = xf;
    w->nxf = nxf;
}

static void wpacket_free(struct wpacket *p)
{
    arena_release(&p->arena);
    free(p->builds);
    free(p);
}

static void wpacket_free_list(struct wpacket *p)
{
    while (p) {
        struct wpacket *next = p->next;
        wpacket_free(p);
        p = next;
    }
}

/* Empty a written packet for writer_packet(), keeping its memory. */
static void wpacket_clear(struct wpacket *p)
{
    arena_clear(&p->arena);
    p->has_commit = 0;
    memset(&p->commit, 0, sizeof(p->commit));
    p->nbuilds = 0;
}

/* ---- the thread ---- */

/* Write one packet: the commit, then its builds not already stored, all
 * in one go. */
static int write_packet(struct writer *w, struct wpacket *p, struct err *err)
{
    size_t i, n = 0;
    int rc;

    if (p->has_commit && (rc = store_commit_put(w->st, &p->commit, err)) < 0)
        return rc;
    for (i = 0; i < p->nbuilds; i++) {
        const struct store_build *b = &p->builds[i].build;
        if (w->resumed) {
            int done = store_build_done(w->st, b->run_id, b->strategy,
                                        b->commit_sha, err);
            if (done < 0)
                return done;
            if (done)
                continue;
        }
        p->builds[n++] = p->builds[i];
    }
    if ((rc = store_builds_append(w->st, p->builds, n, err)) < 0)
        return rc;
    w->written += n;
    return store_batch_maybe_commit(w->st, err);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct err err = ERR_INIT;
    int failed = 0;
    struct wpacket *done = NULL; /* written, to go back as spares */

    for (;;) {
        /* Take everything queued at once: one wake-up per batch, not per
         * packet, keeps the two threads from ping-ponging. */
        pthread_mutex_lock(&w->mu);
        /* the packets just written go back as spares in the same lock */
        while (done && w->nspare < SPARE_MAX) {
            struct wpacket *next = done->next;
            done->next = w->spare;
            w->spare = done;
            w->nspare++;
            done = next;
        }
        while (w->queued < WAKE_AT && !w->closing) {
            struct timespec until;
            int rc;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += WAKE_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            w->taker_waits = 1;
            rc = pthread_cond_timedwait(&w->can_take, &w->mu, &until);
            w->taker_waits = 0;
            if (rc == ETIMEDOUT && w->queued)
                break;
        }
        struct wpacket *p = w->head;
        w->head = w->tail = NULL;
        w->queued = 0;
        if (w->putter_waits)
            pthread_cond_signal(&w->can_put);
        pthread_mutex_unlock(&w->mu);
        wpacket_free_list(done); /* more than the spares kept */
        done = NULL;
        if (!p)
            break; /* closing and drained */
        while (p) {
            struct wpacket *next = p->next;
            if (!failed && write_packet(w, p, &err) < 0) {
                failed = 1;
                pthread_mutex_lock(&w->mu);
                w->failed = 1;
                w->err = err;
                pthread_cond_broadcast(&w->can_put);
                pthread_mutex_unlock(&w->mu);
            }
            if (failed) {
                wpacket_free(p);
            } else {
                wpacket_clear(p);
                p->next = done;
                done = p;
            }
            p = next;
        }
    }
    /* A failure rolled back its batch; what earlier batches committed is
     * whole and is kept (the first error stays the one reported). */
    struct err late = ERR_INIT;
    if (store_batch_commit(w->st, &late) < 0 && !failed) {
        err = late;
        w->failed = 1;
        w->err = err;
    }
    return NULL;
}

int writer_start(struct writer **out, struct store *st, int resumed,
                 struct err *err)
{
    struct writer *w = xcalloc(1, sizeof(*w));
    int rc;

    *out = NULL;
    w->st = st;
    w->resumed = resumed;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->can_take, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&w->can_put, NULL);
    store_checkpoints_start(st, STORE_CHECKPOINT_PAGES);
    if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
        store_checkpoints_stop(st);
        pthread_cond_destroy(&w->can_put);
        pthread_cond_destroy(&w->can_take);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return err_set(err, ERR_IO, "cannot start the database writer: %s",
                       strerror(rc));
    }
    *out = w;
    return 0;
}

struct wpacket *writer_packet(struct writer *w)
{
    struct wpacket *p;

    if (!w->mine) { /* take every spare at once: one lock for many */
        pthread_mutex_lock(&w->mu);
        w->mine = w->spare;
        w->spare = NULL;
        w->nspare = 0;
        pthread_mutex_unlock(&w->mu);
    }
    if (!(p = w->mine))
        return wpacket_new();
    w->mine = p->next;
    p->next = NULL;
    return p;
}

void writer_unused(struct writer *w, struct wpacket *p)
{
    wpacket_clear(p);
    p->next = w->mine;
    w->mine = p;
}

int writer_push(struct writer *w, struct wpacket *p)
{
    int code;

    pthread_mutex_lock(&w->mu);
    while (w->queued >= QUEUE_MAX && !w->failed) {
        w->putter_waits = 1;
        pthread_cond_wait(&w->can_put, &w->mu);
        w->putter_waits = 0;
    }
    code = w->failed ? w->err.code : 0;
    if (!code) {
        p->next = NULL;
        if (w->tail)
            w->tail->next = p;
        else
            w->head = p;
        w->tail = p;
        w->queued++;
        if (w->taker_waits && w->queued >= WAKE_AT)
            pthread_cond_signal(&w->can_take);
    }
    pthread_mutex_unlock(&w->mu);
    if (code)
        wpacket_free(p);
    return code;
}

int writer_finish(struct writer *w, size_t *written, struct err *err)
{
    int rc = 0;

    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_signal(&w->can_take);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    store_checkpoints_stop(w->st);
    if (w->failed) {
        *err = w->err;
        rc = err->code ? err->code : ERR_DB;
    }
    if (written)
        *written = w->written;
    wpacket_free_list(w->spare);
    wpacket_free_list(w->mine);
    pthread_cond_destroy(&w->can_put);
    pthread_cond_destroy(&w->can_take);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
