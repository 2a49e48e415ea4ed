/*
 * lint.h - cache hazards in a Dockerfile: steps whose cached result goes
 * stale (network fetches the cache keeps forever, floating base tags),
 * layer orders and contexts that throw the cache away, ARGs that bust
 * every later RUN, cache setups that cannot work on the chosen runners,
 * and how to bust exactly one layer on purpose.
 *
 * The rules read the parsed Dockerfile (dockerfile.h) and, when the build
 * context is known, its .dockerignore and which files exist.  Each rule is
 * a line of lint_rules[] (id, default severity, summary, help); a finding
 * names its rule, the line of the instruction, a message (what happens)
 * and a fix.  A Dockerfile that follows the advice gets no finding.
 *
 * The same analysis drives the rewrites of `harness whatif`
 * (lint_rewrite): manifests copied and dependencies installed before the
 * whole context, early ARGs moved down, one layer busted every build.
 *
 * Ownership: lint_run() fills a caller's struct lint_report, which owns
 * its strings; lint_report_release() frees them.
 */
#ifndef HARNESS_LINT_H
#define HARNESS_LINT_H

#include <stddef.h>

#include "buf.h"
#include "dockerfile.h"
#include "err.h"

enum lint_severity { LINT_INFO, LINT_WARNING, LINT_ERROR };

/* "info", "warning", "error". */
const char *lint_severity_name(enum lint_severity s);

enum lint_rule_id {
    LINT_PIP_UPGRADE,
    LINT_APT_UPDATE_ALONE,
    LINT_GIT_CLONE,
    LINT_CURL_PIPE_SH,
    LINT_ADD_URL,
    LINT_UNPINNED_INSTALL,
    LINT_FLOATING_BASE,
    LINT_COPY_BEFORE_DEPS,
    LINT_DOCKERIGNORE_MISSING,
    LINT_DOCKERIGNORE_GIT,
    LINT_ARG_EARLY,
    LINT_CACHE_MOUNT,
    LINT_INLINE_MULTISTAGE,
    LINT_BUST_ONE_LAYER,
    LINT_NRULES
};

struct lint_rule {
    const char *id; /* "pip-upgrade" */
    enum lint_severity severity;
    const char *summary; /* one line */
    const char *help;    /* what happens and what to do, a few sentences */
};

extern const struct lint_rule lint_rules[LINT_NRULES];

/* The rule whose id is s; ERR_NOTFOUND if none. */
int lint_rule_parse(enum lint_rule_id *out, const char *s);

struct lint_finding {
    enum lint_rule_id rule;
    enum lint_severity severity;
    int line;      /* the instruction's first line */
    char *message; /* what happens */
    char *fix;     /* what to change */
};

struct lint_report {
    struct lint_finding *v;
    size_t n, cap;
};

/*
 * What the linter knows of the build context.  With ctx_known 0 the
 * .dockerignore rules are skipped and manifests are named by pattern.
 */
struct lint_context {
    int ctx_known;
    /* 1 if the file exists in the context (path relative to it); may be
     * NULL when ctx_known is 0. */
    int (*exists)(void *arg, const char *path);
    void *arg;
    const char *ignore_file; /* the .dockerignore that applies, or NULL */
    /* 1 if that .dockerignore excludes .git (0 without one) */
    int ignore_excludes_git;
    /* The runners are ephemeral (their cache mounts are never exported):
     * 1 yes, 0 no, -1 unknown. */
    int ephemeral;
    int inline_cache; /* the build is exported with inline cache */
};

/* Run every rule on df; findings in line order.  Never fails. */
void lint_run(struct lint_report *out, const struct df_file *df,
              const struct lint_context *lc);

void lint_report_release(struct lint_report *r);

/* 1 if the report has a warning or error (the linter's exit 1). */
int lint_report_failing(const struct lint_report *r);

/*
 * Rewrites for `harness whatif`, applied to the text of one Dockerfile:
 *  - LINT_COPY_BEFORE_DEPS: copy the dependency manifests and install the
 *    dependencies before the whole context is copied;
 *  - LINT_ARG_EARLY: move each early ARG down to just before its first
 *    use;
 *  - LINT_BUST_ONE_LAYER: give the RUN at bust_line (or, with bust_line 0,
 *    the first RUN whose text contains bust_text) a fresh
 *    `ARG HARNESS_BUST=<bust_value>` just before it, as
 *    `--build-arg HARNESS_BUST=$(git rev-parse HEAD)` would.
 * fixes is a mask of (1u << rule).  Rules without a rewrite are ignored.
 * Returns the number of edits made (0: the text is copied unchanged), or
 * ERR_PARSE with "PATH:LINE: ..." when the text does not parse.
 */
struct lint_rewrite_options {
    unsigned fixes;
    int bust_line;
    const char *bust_text;
    const char *bust_value;
    const struct lint_context *lc;
};

int lint_rewrite(struct buf *out, const char *path, const char *text,
                 size_t len, const struct lint_rewrite_options *o,
                 struct err *err);

#endif
