/*
 * lint_deps.h - what lint.c and lint_deps.c share (not for other modules):
 * reading RUN scripts, the whole-context COPY test, ARG uses, and the
 * dependency-order rule and its rewrite.
 */
#ifndef HARNESS_LINT_DEPS_H
#define HARNESS_LINT_DEPS_H

#include "lint.h"
#include "shcmd.h"

/* The commands of a RUN: its shell text, heredoc bodies, or exec argv. */
void lint_run_script(struct shcmd_script *s, const struct df_instr *in);

/* COPY/ADD (not --from) of ".", "./", "*"...: the whole context. */
int lint_copies_whole_context(const struct df_instr *in);

/* The index of the first instruction after idx, in its stage, that
 * references $name; -1 if none.  *runs_between counts the RUNs before it. */
int lint_arg_first_use(const struct df_file *df, size_t idx, const char *name,
                       size_t *runs_between);

void lint_report_add(struct lint_report *r, enum lint_rule_id rule,
                     enum lint_severity sev, int line, const char *message,
                     const char *fix);

/* The copy-before-deps rule. */
void lint_deps_check(struct lint_report *r, const struct df_file *df,
                     const struct lint_context *lc);

#endif
