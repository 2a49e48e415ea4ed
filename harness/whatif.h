/*
 * whatif.h - `harness whatif`: replay a history twice, as it is and with
 * the Dockerfile of every commit rewritten (lint_rewrite: manifests before
 * the context, an early ARG moved down, one layer busted every build) or
 * replaced by the user's alternative, or with .git kept out of the
 * context; then compare the strategies' minutes, money and hit rates.
 *
 * Both replays run in this process through the replay module, into two
 * databases in a temporary folder that is removed afterwards; the figures
 * come from the report module (cost.h), so that they match `harness
 * report` on the same replay.
 *
 * Ownership: whatif_run() fills a caller's struct whatif_result;
 * whatif_result_release() frees it.
 */
#ifndef HARNESS_WHATIF_H
#define HARNESS_WHATIF_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "replay.h"
#include "repo.h"

struct whatif_options {
    /* The "before" replay as `harness replay` would run it (plan, range,
     * strategies, simulation options). */
    const struct replay_options *replay;
    unsigned fixes;        /* lint_rewrite mask (1u << LINT_...) */
    int bust_line;         /* bust-one-layer: the RUN at this line, */
    const char *bust_text; /* or the first RUN containing this text */
    int fix_git;           /* keep .git out of the context */
    const char *alt_path;  /* --dockerfile-alt: its name, for messages */
    const char *alt_text;  /* its text (used for every commit), or NULL */
    size_t alt_len;
    const char *pricing; /* profile name or file; NULL: no money */
};

struct whatif_row {
    char strategy[64];
    /* pull + build + push, every build of the range, in minutes */
    double before_minutes, after_minutes;
    /* at the profile's list price (valid with a pricing profile) */
    double before_usd, after_usd;
    double before_hit_rate, after_hit_rate; /* steps hit / steps, 0..1 */
    long before_failed, after_failed;       /* failed builds */
};

struct whatif_result {
    struct whatif_row *rows; /* in the order of the strategies asked */
    size_t n;
    size_t commits;
    int priced;
    char pricing[128]; /* the profile's name when priced */
};

/*
 * Run both replays of repository r and fill out.  Errors: those of the
 * replay and report modules (ERR_GIT, ERR_DB, ERR_IO, pricing's
 * ERR_NOTFOUND/ERR_PARSE).
 */
int whatif_run(struct whatif_result *out, struct repo *r,
               const struct whatif_options *o, struct err *err);

void whatif_result_release(struct whatif_result *res);

/*
 * The Dockerfile of one commit as the "after" replay sees it: the
 * alternative, or text rewritten by the fixes (manifests and lock files
 * probed in the commit's context folder; the busted layer's value is the
 * commit id).  context is the build context folder in the repository.
 * Returns the number of edits, or ERR_PARSE for text that does not parse.
 */
int whatif_dockerfile(struct buf *out, const struct whatif_options *o,
                      struct repo *r, const struct oid *commit,
                      const char *context, const char *path, const char *text,
                      size_t len, struct err *err);

#endif
