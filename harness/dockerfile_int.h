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

#include "buf.h"
#include "dockerfile.h"

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

static inline char *trim_dup(const char *s)
{
    const char *e;

    while (*s && is_ws((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && is_ws((unsigned char)e[-1]))
        e--;
    return xstrndup(s, (size_t)(e - s));
}

struct strv {
    char **v;
    size_t n, cap;
};

static inline void strv_push(struct strv *sv, char *s)
{
    XGROW(sv->v, sv->cap, sv->n + 1);
    sv->v[sv->n++] = s;
}

static inline void strv_free(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static inline char **strv_dup(char *const *v, size_t n)
{
    char **r = xcalloc(n ? n : 1, sizeof(*r));
    size_t i;

    for (i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

/* An ordered name=value list with replace-in-place (BuildKit AddOrReplace). */
struct vlist {
    struct df_var *v;
    size_t n, cap;
};

static inline struct df_var *vlist_find(const struct vlist *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return &l->v[i];
    return NULL;
}

static inline void vlist_set(struct vlist *l, const char *name,
                             const char *value)
{
    struct df_var *v = vlist_find(l, name);

    if (!v) {
        XGROW(l->v, l->cap, l->n + 1);
        v = &l->v[l->n++];
        v->name = xstrdup(name);
        v->value = NULL;
    }
    free(v->value);
    v->value = value ? xstrdup(value) : NULL;
}

static inline void vars_free(struct df_var *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static inline void vlist_release(struct vlist *l)
{
    vars_free(l->v, l->n);
    memset(l, 0, sizeof(*l));
}

static inline struct df_var *vars_dup(const struct df_var *v, size_t n)
{
    struct df_var *r = xcalloc(n ? n : 1, sizeof(*r));
    size_t i;

    for (i = 0; i < n; i++) {
        r[i].name = xstrdup(v[i].name);
        r[i].value = v[i].value ? xstrdup(v[i].value) : NULL;
    }
    return r;
}

static inline void vlist_copy(struct vlist *dst, const struct vlist *src)
{
    vlist_release(dst);
    dst->v = vars_dup(src->v, src->n);
    dst->n = dst->cap = src->n;
}

/* ---- phase 1: the parser (dockerfile_lex.c) ----------------------------- */

/* One logical line: what parser.Node holds. */
struct node {
    int line, end_line;
    char *cmd; /* keyword as written */
    char *original;
    struct strv flags; /* raw flag words, "--name=value" */
    struct strv args;  /* per-keyword split (see node_args) */
    int json;
    struct vlist kv; /* ENV and LABEL pairs, unexpanded */
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
};

struct nodes {
    struct node **v;
    size_t n, cap;
};

/* parser.Parse: the whole text to nodes; errors as ERR_PARSE in p->err. */
int dfi_parse_nodes(struct p1 *p, struct nodes *ns, const char *text,
                    size_t len);
void dfi_nodes_release(struct nodes *ns);
void dfi_node_free(struct node *n);
void dfi_heredocs_free(struct df_heredoc *h, size_t n);

/* ---- phase 2: instructions (dockerfile_instr.c) and dispatch
 *      (dockerfile_stage.c) ----------------------------------------------- */

struct sstate {
    struct vlist env;   /* ENV */
    struct vlist args;  /* ARGs of the stage with effective values */
    struct vlist scope; /* what substitution and RUN see (BuildKit's env) */
    char *workdir;
    char *user;
    struct strv shell;
};

struct p2 {
    const char *path;
    struct err *err;
    const struct df_options *opts;
    struct df_file *f;
    struct vlist global; /* meta ARGs plus the automatic platform ARGs */
    struct sstate cur;
    struct sstate *finals; /* per stage, its state after its last instr */
    int *copy_from;        /* per instr: COPY --from stage or -1 */
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
void dfi_instr_release(struct df_instr *in);

/* Pass B: expansion and state, in file order. */
int dfi_dispatch_all(struct p2 *p);
void dfi_sstate_init(struct sstate *s);
void dfi_sstate_release(struct sstate *s);
void dfi_state_release(struct df_state *s);
/* shlex.ProcessWord(word, scope); ERR_PARSE at line on a lexer error. */
int dfi_expand(struct p2 *p, char **out, const struct vlist *scope,
               const char *word, int line);
int dfi_expand_in_place(struct p2 *p, char **s, const struct vlist *scope,
                        int line);
/* path.Clean of an absolute path. */
char *dfi_clean_abs(const char *path);

#endif
