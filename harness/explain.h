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
#include "plan.h"
#include "sim.h"
#include "strategy.h"

/*
 * What the builds of one pair of commits find alike, whatever the builder:
 * a COPY's changed file is the same for both builders' steps of that
 * instruction, and finding it diffs the contexts.  Zero it; reset it for
 * another pair of commits; release it with explain_shared_release().
 */
struct explain_source;
struct explain_shared {
    struct explain_source *v;
    size_t n, cap;
};
void explain_shared_reset(struct explain_shared *sh);
void explain_shared_release(struct explain_shared *sh);

/* One side of a comparison: its keys, its Dockerfile, its context. */
struct explain_side {
    const struct key_build *kb;
    const struct df_file *df;
    struct ctx *ctx; /* may be NULL */
    /* the now side's: texts kept for the other builder (may be NULL) */
    struct explain_shared *shared;
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

/*
 * Decide a build of `now` under builder b on a persistent runner that
 * built `old` and kept everything: its store holds every key the build of
 * old produced (up to a failure) and its base images.  Each step of
 * now->kb[b] gets its outcome in out->steps[i] and, for a miss, the first
 * reason (explain_miss(), else "not in the runner's cache").  An old plan
 * that failed leaves the runner empty ("first build").  This is what
 * `harness explain OLD NEW` prints.
 *
 * Preconditions: now is not failed and now->kb[b] is set.  out is
 * initialised here (sim_result_init); the caller releases it with
 * sim_result_release().
 */
void explain_build(struct sim_result *out, const struct sim_config *cfg,
                   const struct plan *old, const struct plan *now,
                   enum builder b);

/*
 * What explain_miss() finds out about one step of `now` that does not
 * depend on a strategy's outcomes, kept for the strategies building the
 * same pair of commits.  Zero it before the first use; release it with
 * explain_memo_release().
 */
struct explain_follow;
struct explain_memo {
    int known;       /* unchanged and chained are set */
    int unchanged;   /* the key is one `before` produced */
    int chained;     /* keyed on its parent: "follows a miss" applies */
    struct explain_follow *follow; /* "follows a miss at line N" texts */
    char *why;       /* the step's own change, once asked */
};

/*
 * The same as explain_miss(), for many strategies building the same pair
 * of commits: returns the reason, or NULL when the key is unchanged.  The
 * text is static or owned by memo (valid until explain_memo_release()),
 * at most SIM_REASON_MAX - 1 bytes.
 */
const char *explain_miss_memo(const struct explain_side *before,
                              const struct explain_side *now,
                              const struct sim_step *steps, size_t i,
                              struct explain_memo *memo);
void explain_memo_release(struct explain_memo *memo);
/* Ready memo for another pair of commits.  The "follows a miss" texts are
 * kept (a text names a line and nothing else): the same step of the next
 * commit mostly gives the same one. */
void explain_memo_reset(struct explain_memo *memo);

/* "COPY . ." (the instruction as written, shortened to fit n). */
void explain_label(char *out, size_t n, const struct df_file *df,
                   const struct key_step *s);

#endif
