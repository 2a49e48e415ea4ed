/*
 * dockerfile_int.h - what the parts of the Dockerfile front end share.
 * Not part of the public API (that is dockerfile.h); only dockerfile*.c
 * include it.
 *
 * The front end works in two phases, as BuildKit does:
 *  1. dockerfile_lex.c (frontend/dockerfile/parser): physical lines ->
 *     logical lines (directives, comments, continuations, heredoc bodies)
 *     -> nodes with flags and per-keyword argument splitting (JSON or shell
 *     form);
 *  2. dockerfile_instr.c (frontend/dockerfile/instructions): per-keyword
 *     validation, flag checking and stage bookkeeping (pass A), then
 *     dockerfile_stage.c (dockerfile2llb/convert.go): ARG/ENV scoping,
 *     variable substitution and the build state per instruction (pass B).
 * dockerfile.c holds the keywords, df_parse() which drives the phases, and
 * the accessors.  Errors of phase 1 are reported before those of phase 2,
 * as Docker does.
 */
#ifndef HARNESS_DOCKERFILE_INT_H
#define HARNESS_DOCKERFILE_INT_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "dockerfile.h"
#include "shlex.h"

/* ---- small helpers shared by the parts ---------------------------------- */

/* Go's unicode.IsSpace restricted to ASCII. */
static inline int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

/* reWhitespace: [\t\v\f\r ]+ */
static inline int is_rews(int c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Only white space (is_ws) in s. */
static inline int all_ws(const char *s)
{
    while (*s && is_ws((unsigned char)*s))
        s++;
    return !*s;
}

/*
 * Every string and array the front end makes lives in the file's arena
 * (df_file.mem) and is never written once made: instructions, their states
 * and the lists below share them freely.  Arrays being built grow in the
 * heap and are copied into the arena when complete.
 */
struct strv {
    char **v;
    size_t n, cap;
};

static inline void strv_push(struct strv *sv, char *s)
{
    XGROW(sv->v, sv->cap, sv->n + 1);
    sv->v[sv->n++] = s;
}

/* The array of sv in the arena (never NULL); sv is emptied for reuse. */
static inline char **strv_freeze(struct arena *a, struct strv *sv)
{
    char **r = arena_alloc_uninit(a, (sv->n ? sv->n : 1) * sizeof(*r));

    if (sv->n)
        memcpy(r, sv->v, sv->n * sizeof(*r));
    else
        r[0] = NULL;
    sv->n = 0;
    return r;
}

/*
 * An ordered name=value list with replace-in-place (BuildKit AddOrReplace)
 * whose array may be shared: a state snapshot or another list points to it
 * (shared set), and the list copies it before its next change.
 */
struct vlist {
    struct df_var *v;
    size_t n, cap;
    int shared;
};

static inline struct df_var *vlist_find(const struct vlist *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return &l->v[i];
    return NULL;
}

/* name and value (may be NULL) are kept, not copied: arena or static. */
static inline void vlist_set(struct arena *a, struct vlist *l, char *name,
                             char *value)
{
    struct df_var *v = vlist_find(l, name);

    if (l->shared || (!v && l->n == l->cap)) {
        size_t cap = l->n < 4 ? 8 : 2 * l->n;
        struct df_var *nv = arena_alloc_uninit(a, cap * sizeof(*nv));
        if (l->n)
            memcpy(nv, l->v, l->n * sizeof(*nv));
        if (v)
            v = nv + (v - l->v);
        l->v = nv;
        l->cap = cap;
        l->shared = 0;
    }
    if (!v) {
        v = &l->v[l->n++];
        v->name = name;
    }
    v->value = value;
}

/* dst takes src's array; both copy it before they change. */
static inline void vlist_share(struct vlist *dst, struct vlist *src)
{
    *dst = *src;
    dst->shared = src->shared = 1;
}

/* ---- phase 1: the parser (dockerfile_lex.c) ----------------------------- */

/* One logical line: what parser.Node holds (strings in the arena). */
struct node {
    int line, end_line;
    int known; /* cmd is a keyword: kind is set */
    enum df_kind kind;
    char *cmd; /* keyword as written */
    char *original;
    char **flags; /* raw flag words, "--name=value" */
    size_t nflags;
    char **args; /* per-keyword split (see node_args) */
    size_t nargs;
    int json;
    struct df_var *kv; /* ENV and LABEL pairs, unexpanded */
    size_t nkv;
    struct df_heredoc *heredocs;
    size_t nheredocs;
    struct node *inner; /* ONBUILD */
};

struct directives {
    int done;
    int seen_escape, seen_syntax, seen_check;
};

struct p1 {
    const char *path;
    struct err *err;
    struct df_file *f;
    struct directives d;
    struct strv sv;  /* scratch: the words of the node being split */
    struct buf word; /* scratch: the word being split */
};

struct nodes {
    struct node *v;
    size_t n, cap;
};

/* parser.Parse: the whole text to nodes; errors as ERR_PARSE in p->err. */
int dfi_parse_nodes(struct p1 *p, struct nodes *ns, const char *text,
                    size_t len);
/* The scratch of p and the array of ns (their strings are the file's). */
void dfi_p1_release(struct p1 *p, struct nodes *ns);

/* ---- phase 2: instructions (dockerfile_instr.c) and dispatch
 *      (dockerfile_stage.c) ----------------------------------------------- */

struct sstate {
    struct vlist env;   /* ENV */
    struct vlist args;  /* ARGs of the stage with effective values */
    struct vlist scope; /* what substitution and RUN see (BuildKit's env) */
    char *workdir;
    char *user;
    char **shell;
    size_t nshell;
};

struct p2 {
    const char *path;
    struct err *err;
    const struct df_options *opts;
    struct df_file *f;
    struct arena *mem;   /* &f->mem */
    struct vlist global; /* meta ARGs plus the automatic platform ARGs */
    struct sstate init;  /* a stage's state before its FROM image's */
    struct sstate cur;
    struct sstate *finals; /* per stage, its state after its last instr */
    struct shlex_var *env; /* scratch: a scope as shlex reads it */
    size_t envcap;
    int fatal; /* the last error fails the whole file, not only its stage */
};

int dfi_p2_fail(struct p2 *p, int line, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Pass A over all nodes: instructions, stages, meta ARGs. */
int dfi_build_instrs(struct p2 *p, const struct nodes *ns);
/* The flag named `name`, writable. */
struct df_flag *dfi_flag_mut(struct df_instr *in, const char *name);
/* Check an expanded RUN --mount value; *out is its normalized form. */
int dfi_check_mount(struct p2 *p, char **out, const char *val,
                    const struct vlist *scope, int line);
int dfi_is_heredoc_word(const char *w);

/* Pass B: expansion and state, in file order. */
int dfi_dispatch_all(struct p2 *p);
/* The scratch of p. */
void dfi_p2_release(struct p2 *p);
/*
 * shlex.ProcessWord(word, scope) into the arena; ERR_PARSE at line on a
 * lexer error.  *out may be word itself when there was nothing to do.
 */
int dfi_expand(struct p2 *p, char **out, const struct vlist *scope,
               const char *word, int line);
int dfi_expand_in_place(struct p2 *p, char **s, const struct vlist *scope,
                        int line);
/* path.Clean of an absolute path, into the arena. */
char *dfi_clean_abs(struct arena *a, const char *path);

#endif
