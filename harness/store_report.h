/*
 * store_report.h - the queries of `harness report`, on a database opened
 * read-only (SQLITE_OPEN_READONLY): a report never writes to the file, and
 * never migrates it.  It reads schema 3 (the storage columns of builds)
 * and later; from schema 6 on, a build's pull and push seconds are
 * columns of their own, before that they are part of builds.seconds.
 *
 * Ownership: strings handed to callbacks are borrowed for the call; the
 * structs filled here own their strings (see each _release/_free).
 */
#ifndef HARNESS_STORE_REPORT_H
#define HARNESS_STORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store_report;

/*
 * Open path read-only.  Errors (ERR_DB): not SQLite or another program's
 * file ("not a harness database"), schema older than 3 or newer than this
 * harness knows, cannot open.  Close with store_report_close (NULL ok).
 */
int store_report_open(struct store_report **out, const char *path,
                      struct err *err);
void store_report_close(struct store_report *r);

/* The file's schema version; whether builds has pull_seconds and
 * push_seconds columns. */
int store_report_schema(const struct store_report *r);
int store_report_has_transfer_seconds(const struct store_report *r);

struct store_report_run {
    int64_t id;
    int64_t started;
    char *repo, *dockerfile, *options, *tool_version;
    int64_t builds;                /* builds recorded */
    int64_t commits;               /* distinct commits among them */
    int64_t first_time, last_time; /* author times of its commits */
};

/*
 * The run to report: run_id, or the last run that has builds when
 * run_id <= 0.  ERR_NOTFOUND (with a message) when there is none.
 * Release with store_report_run_release().
 */
int store_report_run_get(struct store_report *r, int64_t run_id,
                         struct store_report_run *out, struct err *err);
void store_report_run_release(struct store_report_run *run);

/* One build, in replay order (seq, then the order strategies first
 * appear). */
struct store_report_build {
    const char *strategy;
    const char *commit_sha;
    int64_t seq;
    int failed;
    double seconds;      /* builds.seconds */
    double pull_seconds; /* 0 before schema 6 (part of seconds) */
    double push_seconds; /* 0 before schema 6 */
    int64_t bytes_pulled, bytes_pushed;
    int64_t steps_hit, steps_miss;
    int64_t registry_bytes, cache_bytes; /* 0 when NULL */
    int64_t author_time;
};

typedef int store_report_build_fn(void *ctx,
                                  const struct store_report_build *b);

/* Call fn for every build of the run, in order; a non-zero return from
 * fn stops and is returned.  ERR_DB. */
int store_report_builds(struct store_report *r, int64_t run_id,
                        store_report_build_fn *fn, void *ctx, struct err *err);

/* Transfers of a run by strategy, direction and kind. */
struct store_report_xfer {
    char strategy[64];
    int push;  /* 0: pull */
    int cache; /* kind 'cache' (1) or an image blob (0) */
    int64_t count;
    int64_t bytes;
};

/* *out (free()) gets *n rows.  ERR_DB. */
int store_report_transfers(struct store_report *r, int64_t run_id,
                           struct store_report_xfer **out, size_t *n,
                           struct err *err);

/* The steps that cost most when they missed. */
struct store_report_miss {
    char *strategy, *instruction, *reason; /* reason may be "" */
    int64_t line;
    int64_t count;  /* builds in which it missed */
    double seconds; /* their total */
};

/* The top `limit` (strategy, line, instruction, reason) by total seconds
 * missed; *out has *n entries, free with store_report_misses_free. */
int store_report_misses(struct store_report *r, int64_t run_id, size_t limit,
                        struct store_report_miss **out, size_t *n,
                        struct err *err);
void store_report_misses_free(struct store_report_miss *v, size_t n);

/* The commits whose build took longest under a strategy. */
struct store_report_commit {
    char sha[41];
    char *subject;
    int64_t seq;
    double seconds;
    int64_t steps_miss;
};

int store_report_slowest(struct store_report *r, int64_t run_id,
                         const char *strategy, size_t limit,
                         struct store_report_commit **out, size_t *n,
                         struct err *err);
void store_report_commits_free(struct store_report_commit *v, size_t n);

/* One RUN step of a build, for `harness staleness`. */
struct store_report_run_step {
    const char *strategy;   /* borrowed for the callback */
    const char *commit_sha; /* borrowed for the callback */
    int64_t seq;            /* position of the commit in the replay */
    int64_t author_time;    /* commits.author_time */
    int64_t stage, line;    /* 0-based stage, 1-based Dockerfile line */
    int hit;                /* 1: its result came from a cache */
};

/*
 * Call fn for every hit or missed step of the given instruction keyword
 * ("RUN") in the run's successful builds, ordered by strategy, then seq,
 * then step order.  fn returning < 0 stops the walk with that code.
 * ERR_DB.
 */
int store_report_run_steps(
    struct store_report *r, int64_t run_id, const char *instruction,
    int (*fn)(void *ctx, const struct store_report_run_step *s,
              struct err *err),
    void *ctx, struct err *err);

#endif
