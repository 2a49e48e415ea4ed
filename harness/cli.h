/*
 * cli.h - what the commands that read a repository share: the options
 * that describe a build (--dockerfile, --context, --build-arg, --target,
 * --base, --no-git-dir, ...), their help texts, and their conversion into
 * plan options.  One table entry list, so `keys`, `explain`, `replay` and
 * `verify` spell and document them identically.
 */
#ifndef HARNESS_CLI_H
#define HARNESS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "keys.h"
#include "opt.h"
#include "plan.h"
#include "replay.h"
#include "strategy.h"

struct cli_build {
    const char *repo;
    const char *dockerfile;
    const char *context;
    const char *target;
    struct opt_list build_args; /* K=V */
    struct opt_list bases;      /* IMAGE=DIGEST */
    int no_git_dir;
    int remote_changes;
    int first_parent;
    /* filled by cli_build_resolve() */
    struct df_var *vars;
    struct cli_base *base_list; /* every --base, in the order given */
    struct key_base *keybases;  /* those in force at the current commit */
    struct plan_options plan;
};

/* One --base IMAGE=DIGEST[@REV]: from REV on (in replay order), or from
 * the start without @REV. */
struct cli_base {
    char *image;
    char *digest;
    char *since; /* REV or NULL */
    struct oid since_id;
    int active;
};

/* Option table entries for struct cli_build c (no terminator). */
#define CLI_BUILD_OPTS(c)                                                      \
    { "repo", 'C', OPT_STRING, &(c).repo, "DIR",                               \
      "git repository (work tree or bare); default: current folder" },         \
    { "dockerfile", 'f', OPT_STRING, &(c).dockerfile, "PATH",                  \
      "Dockerfile path in the repository (default: Dockerfile)" },             \
    { "context", 0, OPT_STRING, &(c).context, "PATH",                          \
      "build context folder in the repository (default: its root)" },          \
    { "build-arg", 0, OPT_LIST, &(c).build_args, "K=V",                        \
      "a build argument, as docker build --build-arg (repeatable)" },          \
    { "target", 0, OPT_STRING, &(c).target, "STAGE",                           \
      "build this stage (default: the last)" },                                \
    { "base", 0, OPT_LIST, &(c).bases, "IMAGE=DIGEST",                         \
      "base image identity IMAGE=DIGEST[@REV]: from REV on (repeatable)" },  \
    { "no-git-dir", 0, OPT_BOOL, &(c).no_git_dir, NULL,                        \
      "the checkout has no .git folder (default: CI checkouts have one)" },    \
    { "remote-changes", 0, OPT_BOOL, &(c).remote_changes, NULL,               \
      "assume ADD <url>/<git> content changes every build (default: not)" },   \
    { "first-parent", 0, OPT_BOOL, &(c).first_parent, NULL,                    \
      "follow only first parents in ranges, as git log --first-parent" }

/* Parse build args and bases into c->plan.  ERR_USAGE with a message. */
int cli_build_resolve(struct cli_build *c, struct err *err);
void cli_build_release(struct cli_build *c);

/* Move to commit id (commits must come in replay order): bases whose REV
 * is this commit take effect, and c->plan.bases lists, per image, the one
 * in force. */
void cli_bases_at(struct cli_build *c, const struct oid *id);

/*
 * The JSON text that identifies a replay run (runs.options): the range,
 * the build options and the simulation options.  `replay` and `verify`
 * both use it, so that the same options find the same run.
 */
void cli_run_options_json(struct buf *j, const struct cli_build *c,
                          const char *range, const struct sim_config *cfg,
                          const struct strategy_ops *const *strategies,
                          size_t nstrategies);

/*
 * Fill what a replay takes from the build options: repository label,
 * range, Dockerfile plan, per-commit --base digests, and the options JSON
 * (written into json, which must outlive o) that identifies the run.
 * o->strategies and o->cfg must be set first.  `replay` and `verify` both
 * call it, so that the same options find the same run.
 */
void cli_replay_options(struct replay_options *o, struct cli_build *c,
                        const char *range, struct buf *json);

/* Open c->repo (or "."), with a clear error, and resolve the @REV of
 * every --base in it.  *out is NULL on error.  Errors: ERR_GIT. */
int cli_open_repo(struct repo **out, struct cli_build *c, struct err *err);

/* Option table entries of the simulation a replay runs, shared by the
 * commands that replay (no terminator). */
#define CLI_RANGE_OPT(v)                                                       \
    { "range", 0, OPT_STRING, &(v), "RANGE",                                   \
      "commits to replay: A..B, A...B or REV (default: HEAD)" }
#define CLI_STRATEGY_OPT(v)                                                    \
    { "strategy", 's', OPT_STRING, &(v), "LIST",                               \
      "comma-separated strategies, or all (default: all)" }
#define CLI_ENGINE_OPT(v)                                                      \
    { "engine", 0, OPT_STRING, &(v), "PROFILE",                                \
      "buildkit (default) or docker-20.10" }

/*
 * The strategies and the engine of a replay into o: the strategies of
 * list (NULL or "all": every one; o->strategies is the caller's to free)
 * and the engine profile (NULL: o->cfg.engine stays).  cmd names the
 * command in messages.  Errors: ERR_USAGE "CMD: unknown strategy 'x'"
 * (with the names as the hint), "CMD: unknown engine 'x' (...)".
 */
int cli_replay_pick(struct replay_options *o, const char *strategies,
                    const char *engine, const char *cmd, struct err *err);

/* Parse a size such as "10GB", "512MB", "1.5G", "2048" (bytes; K/M/G/T
 * are powers of 1000, KiB/MiB/GiB/TiB of 1024).  ERR_USAGE. */
int cli_parse_size(const char *s, uint64_t *out, struct err *err);

/*
 * Pick strategies from a table by a comma-separated list of their names
 * (name_of(table, i) for i < count); NULL or "all" picks every entry, a
 * name given twice counts once.  *out gets their indexes in the order
 * given (caller frees).  An unknown name is ERR_USAGE, "<before> '<name>'
 * <after>", with the known names as the hint followed by hint_tail.
 */
int cli_pick_strategies(const char *list, const void *table, size_t count,
                        const char *(*name_of)(const void *table, size_t i),
                        const char *before, const char *after,
                        const char *hint_tail, size_t **out, size_t *n,
                        struct err *err);

/*
 * Check the values of a scenario (record.h) that harness's modules judge:
 * strategy names, engine, assignment, cache limit, runners, synth
 * template, in every repository of a fleet.  ERR_PARSE "FILE:LINE: ..."
 * at the line of the key.
 */
struct scenario;
int cli_scenario_check(const struct scenario *s, struct err *err);

/* 1 if stderr is a terminal (progress lines are shown). */
int cli_is_tty(void);

/* The cores this process may run on (1 if unknown). */
long cli_cores(void);

#endif
