/*
 * replay.h - walk a range of commits oldest first and simulate a build of
 * each under every chosen strategy, into the store.
 *
 * Each strategy keeps its world (runner stores, registry, cache backend)
 * across the whole replay.  A commit whose Dockerfile is missing or does
 * not parse, or whose COPY source is missing, is recorded as a failed
 * build and the replay goes on; the previous image stays the last
 * successful one.
 *
 * The strategies' worlds are independent: they are simulated on
 * o->threads threads (workers.h), each world by one thread at a time, a
 * batch of commits at once, while the caller's thread plans the next
 * batch (Dockerfile, context, keys: read-only for the strategies) and
 * explains and hands over the previous one.  The store belongs to a
 * writer thread while the replay runs (writer.h): each commit's builds
 * are handed over as one packet, in commit and strategy order, and
 * written while the next commits are simulated.  The rows are the same
 * for any number of threads.
 *
 * Resuming: a replay with the same repo, Dockerfile and options finds its
 * run again; every commit is simulated again (the worlds must be rebuilt,
 * and simulating is cheap) but builds already in the store are not written
 * twice.
 */
#ifndef HARNESS_REPLAY_H
#define HARNESS_REPLAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "plan.h"
#include "repo.h"
#include "store.h"
#include "strategy.h"

struct replay_options {
    const char *repo_label; /* runs.repo */
    const char *range;      /* NULL: HEAD and its ancestors */
    int first_parent;
    const struct plan_options *plan; /* may change between commits */
    /* Called before each commit is planned (may be NULL): e.g. to put the
     * --base digests in force from that commit on into *plan. */
    void (*on_commit)(void *arg, const struct oid *commit);
    void *on_commit_arg;
    const struct strategy_ops **strategies;
    size_t nstrategies;
    struct sim_config cfg;
    const char *options_json; /* runs.options: identifies the run */
    void (*progress)(void *arg, size_t done, size_t total);
    void *progress_arg;
    volatile sig_atomic_t *stop; /* set asynchronously: stop after a commit */
    /* Threads simulating the strategies (0 or 1: the caller's alone); the
     * rows are the same for any number. */
    size_t threads;
};

struct replay_stats {
    int64_t run_id;
    int resumed;
    size_t commits;     /* commits simulated */
    size_t total;       /* commits in the range */
    size_t written;     /* builds written (not already in the store) */
    size_t failed;      /* failed builds */
    int interrupted;
};

int replay_run(struct store *st, struct repo *r,
               const struct replay_options *o, struct replay_stats *stats,
               struct err *err);

#endif
