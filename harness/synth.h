/*
 * synth.h - generate a realistic, deterministic git history for tests,
 * benchmarks and the demo (`harness synth`).
 *
 * synth.c includes <git2.h>: it is the one module that *writes*
 * repositories (repo.c reads them).  Objects go into uncompressed pack
 * files written directly (no index, no work tree while generating); the
 * work tree is checked out once at the end.  Run `git gc` on the result
 * to compress it (about 150 MB for 10,000 commits of 3,000 files).
 *
 * Determinism: the same options (seed included) give the same commit ids,
 * on any machine.  Author, committer and timestamps come from the seed and
 * the commit number; nothing reads the clock or the environment.
 *
 * Each commit after the first has one primary kind, drawn with the weights
 * of the mix:
 *   code        edit 1-3 source files; sometimes add or delete one
 *   deps        bump, add or drop a dependency (requirements.txt,
 *               package.json + package-lock.json, go.mod + go.sum)
 *   dockerfile  a cache-relevant Dockerfile edit that keeps it valid: the
 *               header comment, a LABEL, an ENV value or an ARG default
 *   docs        README.md or a page under docs/ (ignored by .dockerignore,
 * except in the bad-order template) and now and then also a rename of a source
 * file or a chmod +x of a script.  The first commit creates the whole tree.
 */
#ifndef HARNESS_SYNTH_H
#define HARNESS_SYNTH_H

#include <stdint.h>

#include "err.h"

enum synth_template {
    SYNTH_PYTHON,        /* deps first, then COPY . . */
    SYNTH_NODE,          /* package*.json, npm ci, COPY . . */
    SYNTH_GO_MULTISTAGE, /* builder, an unreachable test stage, final */
    SYNTH_BAD_ORDER,     /* COPY . . before pip install; .git not ignored */
};

/* "python", "node", "go-multistage", "bad-order"; _parse: 0 or
 * ERR_INVALID. */
const char *synth_template_name(enum synth_template t);
int synth_template_parse(const char *s, enum synth_template *out);

enum synth_kind {
    SYNTH_CODE,
    SYNTH_DEPS,
    SYNTH_DOCKERFILE,
    SYNTH_DOCS,
    SYNTH_NKINDS
};

/* "code", "deps", "dockerfile", "docs". */
const char *synth_kind_name(enum synth_kind k);

/* Relative weights of the commit kinds, indexed by enum synth_kind. */
struct synth_mix {
    unsigned weight[SYNTH_NKINDS];
};

/*
 * Parse "code=70,deps=10,dockerfile=5,docs=15".  Kinds left out weigh 0;
 * the weights need not add up to 100 but must not all be 0.  ERR_USAGE
 * with a message naming the bad part.
 */
int synth_mix_parse(const char *s, struct synth_mix *out, struct err *err);

struct synth_options {
    const char *out;      /* folder to create; must not exist or be empty */
    long commits;         /* >= 1; default 100 */
    long files;           /* approximate files in the tree; default 50 */
    struct synth_mix mix; /* default 70/10/5/15 */
    uint64_t seed;        /* default 1 */
    enum synth_template template_id; /* default SYNTH_PYTHON */
    const char *branch;              /* default "main" */
    /* 0: off; N: every Nth commit also appends a LABEL to the end of the
     * Dockerfile (a Dockerfile that grows with the history) */
    long label_every;
    /* Called every few hundred commits and at the end; may be NULL. */
    void (*progress)(void *arg, long done, long total);
    void *progress_arg;
};

/* Fill *o with the defaults above (out = NULL). */
void synth_options_init(struct synth_options *o);

struct synth_result {
    char head[41];                   /* hex id of the last commit */
    long commits;                    /* commits written */
    long files;                      /* files in the last tree */
    long kind_commits[SYNTH_NKINDS]; /* commits per primary kind */
    long renames;
    long mode_changes;
};

/*
 * Write the history into a new repository at o->out (a normal repository
 * whose branch o->branch is checked out).  Errors: ERR_INVALID (bad
 * option values), ERR_IO (o->out exists and is not empty, cannot be
 * created), ERR_GIT.  On error a partly written folder may remain.
 */
int synth_run(const struct synth_options *o, struct synth_result *out,
              struct err *err);

#endif
