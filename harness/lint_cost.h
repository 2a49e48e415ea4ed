/*
 * lint_cost.h - what each lint finding cost over a repository's history
 * (`harness lint --repo`): the history is replayed under one strategy into
 * a temporary database, and each finding gets the misses and minutes of
 * the steps it is about, matched by line in the replayed Dockerfile:
 *  - a RUN, COPY, ADD or FROM finding: the step on its line;
 *  - an early ARG: the RUN steps from the ARG down to its first use (the
 *    ones a new value busts);
 *  - others (no step of their own): nothing.
 * Money is those minutes at the pricing profile's runner rate.
 *
 * Ownership: lint_cost_rank() returns an array the caller frees.
 */
#ifndef HARNESS_LINT_COST_H
#define HARNESS_LINT_COST_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "lint.h"
#include "strategy.h"

struct lint_cost {
    int known;      /* the finding has steps to price */
    long builds;    /* builds replayed */
    long misses;    /* builds in which its steps missed */
    double minutes; /* the seconds of those misses, in minutes */
    double usd;     /* at the profile's rate (priced only) */
    int priced;
};

struct lint_cost_options {
    const char *repo;  /* repository folder */
    const char *range; /* NULL: HEAD and its ancestors */
    const struct strategy_ops *strategy;
    const char *pricing; /* profile, or NULL */
};

/*
 * Replay the history and price every finding of rep (about the Dockerfile
 * at dockerfile_path, which must be inside o->repo); then sort rep's
 * findings, and the costs with them, by minutes, the dearest first.
 * *out has rep->n entries.  Errors: ERR_USAGE (file outside the
 * repository), ERR_GIT, ERR_DB, ERR_IO, pricing errors.
 */
int lint_cost_rank(struct lint_cost **out, struct lint_report *rep,
                   const char *dockerfile_path,
                   const struct lint_cost_options *o, struct err *err);

/* "  cost: ..." line for text output. */
void lint_cost_text(struct buf *b, const struct lint_cost *c,
                    const char *strategy);
/* ', "cost": {...}' for a JSON finding. */
void lint_cost_json(struct buf *b, const struct lint_cost *c);
/* " Cost over the history: ..." for a SARIF message. */
void lint_cost_sentence(struct buf *b, const struct lint_cost *c,
                        const char *strategy);

#endif
