/*
 * store.h - the SQLite results database; the only module that includes
 * <sqlite3.h>.  The schema is documented in doc/schema.md and is part of
 * the interface: reports and outside scripts read it directly.
 *
 * A database holds runs (one per replay command: repo, Dockerfile and
 * options), the commits they replayed, one row per simulated build (run,
 * strategy, commit), its steps and its blob transfers.
 *
 * Invariants:
 *  - Files are recognised by PRAGMA application_id (STORE_APPLICATION_ID)
 *    and versioned by PRAGMA user_version (STORE_SCHEMA_VERSION); older
 *    versions are migrated on open.  A file that is not SQLite, a SQLite
 *    file of another program, or a file from a newer harness is refused
 *    with an error and never written to.
 *  - WAL mode and a busy timeout (10 s): two processes writing the same
 *    file wait for each other instead of failing.
 *  - Builds are written in batches: one transaction holds many whole
 *    builds (a build, its steps and its transfers, or nothing).
 *    store_builds_put() is atomic inside the batch; store_builds_append()
 *    rolls back the whole batch on error.  An interrupted process (Ctrl-C,
 *    kill -9) therefore leaves only whole builds, and a rerun resumes by
 *    asking store_build_done() for each (run, strategy, commit).
 *  - (run, strategy, commit) is unique: recording it twice is an error.
 *
 * Ownership: strings in the structs below are borrowed from the caller for
 * the duration of the call; the store copies what it keeps.  A struct store
 * is not thread-safe (its connection has no mutex): one thread at a time,
 * as a replay hands it to its writer thread.
 */
#ifndef HARNESS_STORE_H
#define HARNESS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;

/* Schema version written to PRAGMA user_version (doc/schema.md); 2 added
 * real_builds and real_steps, 6 pull_seconds and push_seconds, 7 a list
 * of steps or transfers as one row. */
#define STORE_SCHEMA_VERSION 7
/* PRAGMA application_id of harness databases ("HRNS"). */
#define STORE_APPLICATION_ID 0x48524e53

/* ---- enums stored as text; each has a name/parse pair ---- */

enum store_status {
    STORE_STATUS_OK,
    STORE_STATUS_FAILED,
};

enum store_outcome {
    STORE_OUTCOME_HIT,     /* the step's result came from a cache */
    STORE_OUTCOME_MISS,    /* the step ran */
    STORE_OUTCOME_NONE,    /* no cache lookup (FROM, metadata under BuildKit) */
    STORE_OUTCOME_SKIPPED, /* not needed for the target (unreachable stage) */
};

enum store_direction {
    STORE_PULL,
    STORE_PUSH,
};

enum store_kind {
    STORE_KIND_LAYER,
    STORE_KIND_CONFIG,
    STORE_KIND_MANIFEST,
    STORE_KIND_CACHE,
};

/* "ok" / "failed".  _parse returns 0, or ERR_INVALID for unknown text. */
const char *store_status_name(enum store_status s);
int store_status_parse(const char *s, enum store_status *out);
/* "hit" / "miss" / "none" / "skipped". */
const char *store_outcome_name(enum store_outcome o);
int store_outcome_parse(const char *s, enum store_outcome *out);
/* "pull" / "push". */
const char *store_direction_name(enum store_direction d);
int store_direction_parse(const char *s, enum store_direction *out);
/* "layer" / "config" / "manifest" / "cache". */
const char *store_kind_name(enum store_kind k);
int store_kind_parse(const char *s, enum store_kind *out);

/* ---- rows ---- */

struct store_run {
    int64_t started;          /* seconds since the epoch; 0: now */
    const char *repo;         /* as given on the command line */
    const char *dockerfile;   /* path inside the repository */
    const char *options;      /* JSON text of the replay options */
    const char *tool_version; /* HARNESS_VERSION */
};

struct store_commit {
    const char *sha;     /* 40 lowercase hex digits */
    const char *parents; /* parent shas separated by one space; "" for none */
    int64_t author_time; /* seconds since the epoch */
    const char *subject; /* first line of the message */
};

struct store_build {
    int64_t run_id;
    const char *commit_sha; /* 40 lowercase hex digits */
    int64_t seq;            /* 0-based position in replay order */
    const char *strategy;   /* "local", "inline", ... */
    const char *builder;    /* "legacy", "buildkit" */
    enum store_status status;
    double seconds; /* the `docker build` command alone: context, cache
                       import, steps, export (schema 6) */
    int64_t bytes_pulled;
    int64_t bytes_pushed;
    int64_t steps_hit;
    int64_t steps_miss;
    const char *error; /* why it failed; NULL when ok */
    int64_t registry_bytes; /* registry storage after it; -1: unknown */
    int64_t cache_bytes;    /* cache storage outside the registry; -1 */
    double pull_seconds; /* a `docker pull` before it (legacy --cache-from) */
    double push_seconds; /* the image push after it */
};

struct store_step {
    int64_t step_index;      /* 0-based order within the build */
    int64_t stage;           /* 0-based stage index in the Dockerfile */
    int64_t line;            /* 1-based line in that commit's Dockerfile */
    const char *instruction; /* keyword in capitals: "RUN" */
    enum store_outcome outcome;
    double seconds;
    int64_t layer_bytes;
    int64_t bytes_pulled;
    const char *reason; /* why it missed or was skipped; may be NULL */
};

struct store_transfer {
    enum store_direction direction;
    const char *digest; /* "sha256:...", or NULL with sha256 set */
    int64_t bytes;
    enum store_kind kind;
    /* The digest as its 32 bytes: stored as "sha256:" and their hex, which
     * the store then writes only for a transfer it has not stored before
     * (a replay moves the same blobs over and over).  NULL: use digest. */
    const unsigned char *sha256;
};

/* Per-strategy totals of one run, for the replay summary. */
struct store_summary {
    char strategy[64];
    int64_t builds;
    int64_t builds_ok;
    int64_t steps_hit;
    int64_t steps_miss;
    double seconds; /* the build commands alone */
    int64_t bytes_pulled;
    int64_t bytes_pushed;
    int64_t registry_bytes; /* after the strategy's last build */
    int64_t cache_bytes;
    double pull_seconds; /* the pulls before them */
    double push_seconds; /* the pushes after them */
};

/* ---- lifecycle ---- */

/*
 * Open or create the database at path (":memory:" for a private in-memory
 * one), migrating an older schema.  *out is the caller's; close it with
 * store_close().  Errors (ERR_DB, file untouched):
 *   "PATH: not a harness database"   not SQLite, or another program's
 *   "PATH: written by a newer harness (schema N, this one knows M)"
 *   "PATH: <sqlite message>"         cannot open, locked for 10 s, corrupt
 */
int store_open(struct store **out, const char *path, struct err *err);

/*
 * Commit an open batch (errors are lost: call store_batch_commit() first
 * to see them), finalize statements and close.  NULL is fine.
 */
void store_close(struct store *s);

/* ---- runs and commits ---- */

/*
 * Find the run with the same repo, dockerfile and options text, or create
 * it.  Sets *run_id and *resumed (1: it existed, 0: created).  ERR_DB.
 */
int store_run_find_or_create(struct store *s, const struct store_run *run,
                             int64_t *run_id, int *resumed, struct err *err);

/* Record a commit; a sha already present is left as it is.  ERR_INVALID
 * for a malformed sha, ERR_DB. */
int store_commit_put(struct store *s, const struct store_commit *c,
                     struct err *err);

/* ---- builds ---- */

/*
 * Whether the build (run, strategy, commit) is already recorded and
 * committed or in the current batch.  Returns 1 or 0, or ERR_DB.
 */
int store_build_done(struct store *s, int64_t run_id, const char *strategy,
                     const char *commit_sha, struct err *err);

/*
 * Start a batch (a transaction) if none is open; its clock starts now.
 * Waits up to the busy timeout for another writer.  ERR_DB.
 */
int store_batch_begin(struct store *s, struct err *err);

/* A build with its rows, for store_builds_put(). */
struct store_build_rows {
    struct store_build build;
    const struct store_step *steps;
    size_t nsteps;
    const struct store_transfer *xf;
    size_t nxf;
};

/*
 * Record several builds with their steps and transfers, atomically, in the
 * current batch (begun if needed), many rows per statement.  first_id:
 * the id of v[0]; the others follow in order (may be NULL).  On error
 * nothing of these builds is written and the batch stays usable.
 */
int store_builds_put(struct store *s, const struct store_build_rows *v,
                     size_t n, int64_t *first_id, struct err *err);
/*
 * The same without a savepoint of its own (a savepoint copies every page
 * it first touches, 7% of a replay): on error the whole batch is rolled
 * back, everything since the last commit, and the caller must stop
 * writing in it.  For a writer that can redo its batch, as a resumed
 * replay does.
 */
int store_builds_append(struct store *s, const struct store_build_rows *v,
                        size_t n, struct err *err);

/*
 * Record one whole build with its steps and transfers, atomically, in the
 * current batch (one is begun if none is open).  Sets *build_id (may be
 * NULL).  On error nothing of this build is written and the batch stays
 * usable.  Errors: ERR_INVALID (malformed sha, build already recorded for
 * this run, strategy and commit), ERR_DB.
 */
int store_build_put(struct store *s, const struct store_build *b,
                    const struct store_step *steps, size_t nsteps,
                    const struct store_transfer *t, size_t nt,
                    int64_t *build_id, struct err *err);

/*
 * Call after each whole build: commits the batch when at least the batch
 * interval (default 1 s, CLOCK_MONOTONIC) has passed since it began, so a
 * crash loses at most about that much work.  No-op without a batch.
 */
int store_batch_maybe_commit(struct store *s, struct err *err);

/* Commit the batch now (no-op without one).  ERR_DB. */
int store_batch_commit(struct store *s, struct err *err);

/* Set the batch interval in seconds (0: every maybe_commit commits). */
void store_batch_interval(struct store *s, double seconds);

/*
 * Checkpoint the write-ahead log on a thread of its own, with its own
 * connection, once a commit leaves at least pages pages in it, until
 * store_checkpoints_stop(): the thread that writes then does not wait
 * while committed pages are copied into the file and synced (on a replay
 * that was a quarter of a second a checkpoint, every 16 MB of log).
 * Without it, SQLite checkpoints in the committing thread at
 * STORE_CHECKPOINT_PAGES.  Call both from the thread that owns s, while no
 * statement runs; a second start keeps the first.  Nothing to do for an
 * in-memory database; if the thread or connection cannot be had, commits
 * checkpoint as before.
 */
#define STORE_CHECKPOINT_PAGES 1000
void store_checkpoints_start(struct store *s, int pages);
void store_checkpoints_stop(struct store *s);

/* ---- queries ---- */

/*
 * Per-strategy totals of a run, in the order strategies first appear.
 * *out (caller frees with free()) has *n entries; an unknown run gives
 * zero entries.  ERR_DB.
 */
int store_summary(struct store *s, int64_t run_id, struct store_summary **out,
                  size_t *n, struct err *err);

/* Schema version of the open database (PRAGMA user_version). */
int store_schema_version(struct store *s);

/* ---- real builds (harness verify) ---- */

/* A build run for real on a Docker engine, next to the simulated ones. */
struct store_real_build {
    int64_t run_id;         /* the run whose simulation it is compared to */
    const char *commit_sha; /* 40 lowercase hex digits */
    const char *strategy;
    enum store_status status;
    double seconds;       /* wall time of the `docker build` command */
    int64_t bytes_pulled; /* -1: not measured (stored as NULL) */
    int64_t bytes_pushed; /* -1: not measured (stored as NULL) */
    const char *log_path; /* the build log kept next to the database */
    double pull_seconds;  /* of the `docker pull` before it; < 0: none */
    double push_seconds;  /* of the push after it; < 0: none */
};

struct store_real_step {
    int64_t line;            /* 1-based Dockerfile line; 0: none (NULL) */
    const char *instruction; /* keyword in capitals: "RUN" */
    enum store_outcome outcome; /* hit, miss or none (FROM) */
    double seconds;             /* < 0: the log shows none (NULL) */
};

/*
 * Record a real build and its steps atomically, and commit (real builds
 * take minutes: nothing is left waiting in a batch).  Sets *id (may be
 * NULL).  Errors: ERR_INVALID (malformed sha, a 'skipped' step), ERR_DB.
 */
int store_real_build_put(struct store *s, const struct store_real_build *b,
                         const struct store_real_step *steps, size_t n,
                         int64_t *id, struct err *err);

/* A simulated build and its steps, read back for a comparison. */
struct store_sim_build {
    int64_t id;
    int64_t seq;
    enum store_status status;
    double seconds;
    int64_t bytes_pulled;
    int64_t bytes_pushed;
    double pull_seconds;
    double push_seconds;
};

struct store_sim_step {
    int64_t line;
    int64_t stage;
    char instruction[16];
    enum store_outcome outcome;
    double seconds;
};

/*
 * The simulated build (run, strategy, commit) and its steps in step order.
 * *out (caller frees with free()) has *n entries.  ERR_NOTFOUND (with a
 * message) if the build is not recorded, ERR_DB.
 */
int store_sim_build_get(struct store *s, int64_t run_id, const char *strategy,
                        const char *commit_sha, struct store_sim_build *b,
                        struct store_sim_step **out, size_t *n,
                        struct err *err);

#endif
