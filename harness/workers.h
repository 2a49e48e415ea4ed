/*
 * workers.h - a few threads that run the tasks of one round at a time.
 *
 * The replay simulates each strategy's world on one thread at a time: a
 * round's tasks are independent (one per strategy), and a round ends when
 * every task has finished, so what a task writes is the caller's to read
 * after workers_wait().  The caller's thread is one of the workers: it
 * runs tasks too while it waits, so n workers start n - 1 threads, and a
 * single worker runs everything on the caller's thread.
 *
 * Tasks are taken in index order by whichever thread is free; results must
 * not depend on which thread ran a task.  Ownership:
 * workers_start()/workers_stop().
 */
#ifndef HARNESS_WORKERS_H
#define HARNESS_WORKERS_H

#include <stddef.h>

#include "err.h"

struct workers;

typedef void workers_fn(void *arg, size_t task);

/* Start n workers (n >= 1: n - 1 threads).  0, or ERR_IO if a thread
 * cannot be started (none are left running). */
int workers_start(struct workers **out, size_t n, struct err *err);

/* Workers started, the caller's thread included. */
size_t workers_count(const struct workers *w);

/*
 * Start a round: fn(arg, i) for every i in [0, ntasks), on any thread, in
 * any order.  Returns at once; the previous round must have been waited
 * for.
 */
void workers_post(struct workers *w, workers_fn *fn, void *arg, size_t ntasks);

/* Run the round's tasks not yet taken on the caller's thread, then wait
 * until every task of the round has finished. */
void workers_wait(struct workers *w);

/* Stop and join the threads (after the last round was waited for); NULL
 * is fine. */
void workers_stop(struct workers *w);

#endif
