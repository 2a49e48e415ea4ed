/*
 * record_real.h - real builds recorded earlier by ci/real-build (the
 * driver of `make conformance`): its real.jsonl, one JSON object per build,
 * read for `harness verify --real FILE`.
 *
 * Each line: {"strategy", "commit" (40 hex), "status" ("ok"|"failed"),
 * "seconds_build", "seconds_pull", "seconds_push" (wall seconds),
 * "bytes_pulled", "bytes_pushed" (from the registry's access log), "steps":
 * [{"line", "instruction", "outcome": "hit"|"miss"|"none"}]}; other keys
 * (scenario, seq, subject, transfers, ...) are ignored.  Blank lines are
 * skipped.
 *
 * Ownership: record_real_free() frees the array and everything in it.
 */
#ifndef HARNESS_RECORD_REAL_H
#define HARNESS_RECORD_REAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct record_real_step {
    int line;            /* 1-based Dockerfile line; 0: none */
    char instruction[16]; /* "RUN" */
    int outcome;         /* 0 none, 1 hit, 2 miss */
};

struct record_real {
    char strategy[40];
    char commit[41];
    int ok;
    double seconds;      /* `docker build` */
    double pull_seconds; /* -1: not recorded */
    double push_seconds; /* -1: not recorded */
    int64_t bytes_pulled; /* -1: not recorded */
    int64_t bytes_pushed;
    int src_line; /* line of the file */
    struct record_real_step *steps;
    size_t nsteps;
};

/* Parse len bytes of real.jsonl.  ERR_PARSE "FILE:LINE: ..." for a line
 * that is not such an object (also: no line at all). */
int record_real_parse(struct record_real **out, size_t *n, const char *path,
                      const char *text, size_t len, struct err *err);
void record_real_free(struct record_real *r, size_t n);

#endif
