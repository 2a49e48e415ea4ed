/*
 * staleness.h - how long a cached network fetch is reused.
 *
 * A RUN step that fetches from the network (apt-get, apk, pip, npm, curl,
 * wget, git clone, go get, ...) is keyed on its text, never on what it
 * fetches: while it hits the cache, the image keeps the packages of the
 * build that last ran it.  For each such step and strategy of a replay,
 * staleness says for how many commits, and how many days of author time,
 * its cached result was reused: at worst, and at the last commit (what the
 * newest image carries).  ADD <url> is left out: Docker downloads or
 * revalidates it on every build (doc/model.md).
 *
 * staleness_read() fills it from a replay's database and repository;
 * or feed steps with staleness_add() in replay order within each strategy
 * (strategies one after the other).  Read staleness.entries.
 *
 * Ownership: struct staleness owns its entries and their strings;
 * staleness_release() frees them.
 */
#ifndef HARNESS_STALENESS_H
#define HARNESS_STALENESS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What a RUN command fetches from, e.g. "apt-get", "pip", "git clone";
 * NULL when it fetches nothing that harness knows of. */
const char *staleness_fetch_kind(const char *run_text);

struct staleness_entry {
    char *strategy;
    int64_t stage;
    int64_t line; /* at the last build that had the step */
    char *text;   /* "RUN apt-get update && ..." */
    const char *kind;
    int64_t builds, runs, hits;
    int64_t max_commits;  /* longest reuse: commits since it last ran */
    double max_days;      /* and author days (the two maxima may come from
                             different hits) */
    int64_t last_commits; /* at the last build of the strategy that had
                             the step: 0 when it ran there */
    double last_days;
    /* state */
    int64_t run_seq, run_time, last_seq;
    int seen_run; /* it ran at least once (else ages count from the
                     first build that had it) */
};

struct staleness {
    struct staleness_entry *entries;
    size_t n, cap;
    size_t strategy_start; /* entries of the current strategy */
    int64_t unresolved;    /* steps whose text was not found (read) */
};

void staleness_init(struct staleness *s);
void staleness_release(struct staleness *s);

/*
 * One RUN step of a build: its strategy, the commit's position in the
 * replay and author time, the step's stage, line and text, and whether it
 * hit.  Steps that fetch nothing are ignored.
 */
void staleness_add(struct staleness *s, const char *strategy, int64_t seq,
                   int64_t author_time, int64_t stage, int64_t line,
                   const char *text, int hit);

/*
 * Fill s from a replay: the RUN steps of the run's builds from the
 * database (sr, read-only), their text from the Dockerfile of each commit
 * in the replayed repository: repo_dir, else the path the run recorded
 * (as given, or relative to the database's folder db).  Errors: ERR_GIT
 * or ERR_IO (the repository cannot be opened, with a hint), ERR_DB.
 */
struct store_report;
struct store_report_run;
int staleness_read(struct staleness *s, struct store_report *sr,
                   const struct store_report_run *run, const char *repo_dir,
                   const char *db, struct err *err);

#endif
