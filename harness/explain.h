/*
 * explain.h - why a step missed, in words a user understands.
 *
 * It compares a step of the new build with its counterpart in the build
 * the runner had (the same stage, the same parent key, else the same
 * position), finds the first input of the key that differs, and names it:
 * "src/app.py changed", "mode of run.sh changed 0644 -> 0755", ".git is in
 * the context and is not in .dockerignore", "ARG FLAVOR default changed
 * (line 3)", "follows a miss at line 5", "LABEL inserted at line 3 changes
 * every later legacy step".
 */
#ifndef HARNESS_EXPLAIN_H
#define HARNESS_EXPLAIN_H

#include <stddef.h>

#include "context.h"
#include "dockerfile.h"
#include "keys.h"
#include "sim.h"

/* One side of a comparison: its keys, its Dockerfile, its context. */
struct explain_side {
    const struct key_build *kb;
    const struct df_file *df;
    struct ctx *ctx; /* may be NULL */
};

/*
 * Write the first reason step i of `now` has a key that `before` did not
 * produce into out.  steps are now's decided outcomes (for "follows a
 * miss").  Returns 1 when a reason was written, 0 when the key is
 * unchanged since `before` (the caller gives the strategy's reason).
 * before.kb may be NULL: "first build".
 */
int explain_miss(char *out, size_t n, const struct explain_side *before,
                 const struct explain_side *now,
                 const struct sim_step *steps, size_t i);

/* "COPY . ." (the instruction as written, shortened to fit n). */
void explain_label(char *out, size_t n, const struct df_file *df,
                   const struct key_step *s);

#endif
