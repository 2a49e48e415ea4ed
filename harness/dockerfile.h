/*
 * dockerfile.h - the Dockerfile front end: text -> stages and instructions.
 *
 * It parses as Docker's own parser (moby/buildkit frontend/dockerfile/parser)
 * and the BuildKit frontend (dockerfile2llb) do: parser directives, escape
 * character, line continuations, heredocs, JSON (exec) form with fallback to
 * shell form, flags, and variable substitution applied to exactly the
 * instructions and fields Docker applies it to, with ARG/ENV scoping per
 * stage and global (meta) ARGs before the first FROM.
 *
 * Ownership: df_parse() returns a struct df_file that owns every string and
 * array in it (all in its arena, freed at once by df_file_free()).  Every
 * pointer inside is borrowed from it and read-only: instructions share
 * what did not change between them (an instruction's state arrays with the
 * previous instruction's while no ARG/ENV/WORKDIR/USER/SHELL changed them,
 * a string with the word it was expanded from when nothing was expanded).
 *
 * The cache model reads:
 *  - df_instr.original: the instruction's text as written (continuations
 *    joined with the escape+newline removed, heredoc bodies excluded), which
 *    the legacy builder keys on;
 *  - df_instr.args: the expanded arguments;
 *  - df_instr.state: the build state *before* the instruction runs (env,
 *    valued ARGs, workdir, user, shell), which BuildKit's RUN keys read.
 */
#ifndef HARNESS_DOCKERFILE_H
#define HARNESS_DOCKERFILE_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

enum df_kind {
    DF_FROM,
    DF_RUN,
    DF_CMD,
    DF_LABEL,
    DF_MAINTAINER,
    DF_EXPOSE,
    DF_ENV,
    DF_ADD,
    DF_COPY,
    DF_ENTRYPOINT,
    DF_VOLUME,
    DF_USER,
    DF_WORKDIR,
    DF_ARG,
    DF_ONBUILD,
    DF_STOPSIGNAL,
    DF_HEALTHCHECK,
    DF_SHELL,
    DF_KIND_COUNT
};

/* "FROM", "RUN", ... (capitals). */
const char *df_kind_name(enum df_kind k);
/* Case-insensitive keyword -> kind; ERR_NOTFOUND for an unknown word. */
int df_kind_parse(enum df_kind *out, const char *word);

/* A name=value pair.  value is NULL for an ARG declared without a value. */
struct df_var {
    char *name;
    char *value;
};

/* A flag such as --from=builder or --mount=type=cache,target=/root/.cache. */
struct df_flag {
    char *name;  /* "from" (without dashes) */
    char *value; /* expanded where Docker expands it; "" for a bare flag */
    char *raw;   /* as written */
};

struct df_heredoc {
    char *name;    /* delimiter word, without quotes or '-' */
    char *content; /* body, lines joined with \n, final \n included */
    int expand;    /* 0 when the delimiter was quoted */
    int chomp;     /* 1 for <<-: leading tabs were removed */
};

/*
 * Build state before an instruction runs, in its stage.  env holds ENV
 * values in declaration order (later ENV of the same name replaces the value
 * in place); args holds the ARGs declared in this stage so far (including
 * redeclared global ARGs) with their effective values: --build-arg, else
 * default, else the global default for a redeclared meta ARG, else NULL.
 */
struct df_state {
    struct df_var *env;
    size_t nenv;
    struct df_var *args;
    size_t nargs;
    char *workdir;  /* absolute, "/" when unset */
    char *user;     /* "" when unset */
    char **shell;   /* SHELL argv, default {"/bin/sh", "-c"} */
    size_t nshell;
};

struct df_instr {
    enum df_kind kind;
    int line;     /* 1-based line of the keyword */
    int end_line; /* last line, heredoc bodies included */
    int stage;    /* index in df_file.stages; -1 for global ARGs */
    char *original; /* "RUN apt-get update && ..." as written, one line */
    struct df_flag *flags;
    size_t nflags;
    int json; /* exec form (valid JSON array) */
    /*
     * Arguments after the flags, expanded where Docker expands:
     *  - RUN/CMD/ENTRYPOINT shell form: one element, the command text
     *    (not expanded; the shell does that); exec form: the argv.
     *  - COPY/ADD: sources... destination (expanded).
     *  - FROM: one element, the image after expansion with the global ARGs
     *    (the stage name is in df_stage).
     *  - ENV/LABEL/ARG: see vars instead; args holds the raw words.
     *    ARG vars carry the effective value (--build-arg, else the
     *    expanded default, else the global ARG's value, else NULL).
     *  - others: the words (expanded where Docker expands).
     */
    char **args;
    size_t nargs;
    struct df_var *vars; /* ENV, LABEL, ARG pairs (expanded) */
    size_t nvars;
    struct df_heredoc *heredocs;
    size_t nheredocs;
    struct df_state state;  /* before this instruction */
    struct df_instr *inner; /* ONBUILD's instruction, HEALTHCHECK none */
    int from_stage; /* COPY --from resolved to a stage index, else -1 */
};

struct df_stage {
    char *name;     /* "AS name" lower-cased, or NULL */
    char *base;     /* FROM image after expansion, e.g. "python:3.12-slim" */
    char *platform; /* --platform value or NULL */
    int base_stage; /* index of an earlier stage FROM names, else -1 */
    size_t first;   /* index of its FROM in df_file.instrs */
    size_t count;   /* instructions in the stage, FROM included */
    /*
     * The first error of this stage that Docker reports only when it builds
     * the stage ("PATH:LINE: what is wrong"), or NULL: a substitution
     * error, an empty VOLUME.  BuildKit never builds a stage the target
     * does not need, so such an error there does not fail the build; the
     * legacy builder builds every stage up to the target.
     */
    char *error;
    int error_line;
};

struct df_file {
    char *path;
    char escape;  /* '\\' or '`' */
    char *syntax; /* "# syntax=" directive or NULL */
    char *check;  /* "# check=" directive or NULL */
    struct df_var *meta_args; /* ARGs before the first FROM (effective) */
    size_t nmeta_args;
    struct df_instr *instrs; /* every instruction, global ARGs first */
    size_t ninstrs;
    struct df_stage *stages;
    size_t nstages;
    struct arena mem; /* holds everything above */
};

struct df_options {
    const struct df_var *build_args; /* --build-arg K=V; value NULL: unset */
    size_t nbuild_args;
};

/*
 * Parse `len` bytes of `text` (need not be NUL-terminated).  `path` is used
 * in error messages only.  On failure returns ERR_PARSE with
 * "PATH:LINE: what is wrong" in err.  opts may be NULL.
 */
int df_parse(struct df_file **out, const char *path, const char *text,
             size_t len, const struct df_options *opts, struct err *err);

void df_file_free(struct df_file *f);

/* Look a stage up by name (case-insensitive) or decimal index; -1 if none. */
int df_stage_find(const struct df_file *f, const char *name_or_index);

/* The flag named `name` on an instruction, or NULL. */
const struct df_flag *df_instr_flag(const struct df_instr *in,
                                    const char *name);

#endif
