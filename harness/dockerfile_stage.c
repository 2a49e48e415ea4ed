/*
 * dockerfile_stage.c - pass B of phase 2, as BuildKit's
 * dockerfile2llb/convert.go: stage by stage in file order, global (meta)
 * ARGs, ARG/ENV scoping with --build-arg, variable substitution of exactly
 * the fields Docker substitutes, WORKDIR/USER/SHELL state, COPY --from and
 * FROM references to stages and the check for cycles between stages.
 */
#include "dockerfile_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shlex.h"

/* ---- errors and build state -------------------------------------------- */

int dfi_p2_fail(struct p2 *p, int line, const char *hint, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set_at(p->err, ERR_PARSE, p->path, line, "%s", msg);
    err_hint(p->err, "%s",
             hint ? hint : "see https://docs.docker.com/reference/dockerfile/");
    return ERR_PARSE;
}

/* The state's arrays become the snapshot's; the lists copy them before
 * they next change. */
static void snapshot(struct df_state *out, struct sstate *s)
{
    out->env = s->env.v;
    out->nenv = s->env.n;
    s->env.shared = 1;
    out->args = s->args.v;
    out->nargs = s->args.n;
    s->args.shared = 1;
    out->workdir = s->workdir;
    out->user = s->user;
    out->shell = s->shell;
    out->nshell = s->nshell;
}

/* dst becomes a copy of src; they share the arrays until one changes. */
static void sstate_share(struct sstate *dst, struct sstate *src)
{
    vlist_share(&dst->env, &src->env);
    vlist_share(&dst->args, &src->args);
    vlist_share(&dst->scope, &src->scope);
    dst->workdir = src->workdir;
    dst->user = src->user;
    dst->shell = src->shell;
    dst->nshell = src->nshell;
}

/* The --build-arg value for name, or NULL when not given. */
static const char *build_arg(const struct p2 *p, const char *name)
{
    size_t i;

    if (!p->opts)
        return NULL;
    for (i = p->opts->nbuild_args; i-- > 0;)
        if (p->opts->build_args[i].name &&
            !strcmp(p->opts->build_args[i].name, name))
            return p->opts->build_args[i].value;
    return NULL;
}

/*
 * shlex.ProcessWord(word, scope).  A word with no '$' and no escape
 * character only loses its quotes (the lexer then copies every other byte
 * and the quoted text as it is): that is done here, and the word itself is
 * the result when it has no quotes either.  Otherwise, and for an unclosed
 * quote (whose message the lexer gives), the lexer runs.
 */
int dfi_expand(struct p2 *p, char **out, const struct vlist *scope,
               const char *word, int line)
{
    const char esc = p->f->escape;
    const char special[] = { '$', esc, '\'', '"', 0 };
    struct shlex lx = { esc, 0, 0, 0, NULL, 0 };
    const char *s = word + strcspn(word, special), *e;
    char emsg[256], *r, *o;
    size_t i, n;

    if (!*s) {
        *out = (char *)word;
        return 0;
    }
    if (!strchr(s, '$') && !strchr(s, esc)) {
        o = r = arena_alloc_uninit(p->mem, strlen(word) + 1);
        for (s = word;;) {
            n = strcspn(s, "'\"");
            memcpy(o, s, n);
            o += n;
            s += n;
            if (!*s)
                break;
            if (!(e = strchr(s + 1, *s)))
                goto lexer; /* unclosed: the lexer says so */
            memcpy(o, s + 1, (size_t)(e - s - 1));
            o += e - s - 1;
            s = e + 1;
        }
        *o = '\0';
        *out = r;
        return 0;
    }
lexer:
    XGROW(p->env, p->envcap, scope->n + 1);
    for (i = 0; i < scope->n; i++)
        if (scope->v[i].value) {
            p->env[lx.nenv].name = scope->v[i].name;
            p->env[lx.nenv++].value = scope->v[i].value;
        }
    lx.env = p->env;
    if (shlex_word(&r, &lx, word, emsg, sizeof(emsg)) < 0)
        return dfi_p2_fail(p, line,
                           "quote or escape the '$' and quote characters",
                           "%s in '%s'", emsg, word);
    *out = arena_strdup(p->mem, r);
    free(r);
    return 0;
}

int dfi_expand_in_place(struct p2 *p, char **s, const struct vlist *scope,
                        int line)
{
    return dfi_expand(p, s, scope, *s, line);
}

/* path.Clean of an absolute path. */
char *dfi_clean_abs(struct arena *a, const char *path)
{
    /* "/" and the parts with a '/' before each: at most one byte more */
    char *out = arena_alloc_uninit(a, strlen(path) + 2);
    const char *s = path, *e;
    size_t o = 0;

    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        for (e = s; *e && *e != '/'; e++)
            ;
        if (e - s == 1 && s[0] == '.') {
            /* skip */
        } else if (e - s == 2 && s[0] == '.' && s[1] == '.') {
            while (o && out[o - 1] != '/') /* drop the last part */
                o--;
            if (o)
                o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, s, (size_t)(e - s));
            o += (size_t)(e - s);
        }
        s = e;
    }
    if (!o)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* ---- pass B: dispatch (dockerfile2llb) ---------------------------------- */

static const struct df_var platform_args[] = {
    { (char *)"BUILDPLATFORM", (char *)"linux/amd64" },
    { (char *)"BUILDOS", (char *)"linux" },
    { (char *)"BUILDARCH", (char *)"amd64" },
    { (char *)"BUILDVARIANT", (char *)"" },
    { (char *)"TARGETPLATFORM", (char *)"linux/amd64" },
    { (char *)"TARGETOS", (char *)"linux" },
    { (char *)"TARGETARCH", (char *)"amd64" },
    { (char *)"TARGETVARIANT", (char *)"" },
};

/* ARG: declare each name with its effective value in the current scope. */
static int dispatch_arg(struct p2 *p, struct df_instr *in, int meta)
{
    struct vlist *scope = meta ? &p->global : &p->cur.scope;
    size_t i;
    int rc;

    for (i = 0; i < in->nvars; i++) {
        struct df_var *v = &in->vars[i];
        const char *ba = build_arg(p, v->name);
        const struct df_var *g;
        if (ba) {
            v->value = arena_strdup(p->mem, ba);
        } else if (v->value) {
            if ((rc = dfi_expand_in_place(p, &v->value, scope, in->line)) < 0)
                return rc;
        } else if (!meta && (g = vlist_find(&p->global, v->name)) != NULL) {
            v->value = g->value;
        }
        if (meta) {
            if (v->value)
                vlist_set(p->mem, &p->global, v->name, v->value);
            continue;
        }
        vlist_set(p->mem, &p->cur.args, v->name, v->value);
        if (v->value) {
            vlist_set(p->mem, &p->cur.scope, v->name, v->value);
            /* BuildKit keeps one env list: the ARG replaces an ENV value. */
            if (vlist_find(&p->cur.env, v->name))
                vlist_set(p->mem, &p->cur.env, v->name, v->value);
        }
    }
    return 0;
}

static int dispatch_copy(struct p2 *p, struct df_instr *in, int self)
{
    static const char *const exp_flags[] = { "chown", "chmod", "checksum" };
    struct df_flag *fl;
    size_t i;
    int rc;

    for (i = 0; i < in->nargs; i++) {
        if (!in->json && i + 1 < in->nargs && dfi_is_heredoc_word(in->args[i]))
            continue; /* becomes inline content, not a path */
        if ((rc = dfi_expand_in_place(p, &in->args[i], &p->cur.scope,
                                      in->line)) < 0)
            return rc;
    }
    for (i = 0; i < 3; i++)
        if ((fl = dfi_flag_mut(in, exp_flags[i])) &&
            (rc = dfi_expand_in_place(p, &fl->value, &p->cur.scope, in->line)) <
                0)
            return rc;
    if ((fl = dfi_flag_mut(in, "from")) != NULL) {
        if ((rc = dfi_expand_in_place(p, &fl->value, &p->global, in->line)) < 0)
            return rc;
        in->from_stage = df_stage_find(p->f, fl->value);
        if (in->from_stage < 0) {
            char *end;
            long idx = strtol(fl->value, &end, 10);
            if (fl->value[0] && !*end && idx >= 0)
                return dfi_p2_fail(p, in->line,
                                   "number stages from 0 in FROM order",
                                   "invalid stage index '%s'", fl->value);
        }
        p->fatal = in->from_stage == self;
        if (in->from_stage == self)
            return dfi_p2_fail(p, in->line, "copy from an earlier stage",
                               "circular dependency detected on stage '%s'",
                               fl->value);
    }
    return 0;
}

static int dispatch_run(struct p2 *p, struct df_instr *in)
{
    size_t i;
    int rc;

    for (i = 0; i < in->nflags; i++) {
        if (strcmp(in->flags[i].name, "mount"))
            continue;
        if ((rc = dfi_check_mount(p, &in->flags[i].value, in->flags[i].value,
                                  &p->cur.scope, in->line)) < 0)
            return rc;
    }
    return 0;
}

static int dispatch_env(struct p2 *p, struct df_instr *in, int is_env)
{
    size_t i;
    int rc;

    /* All pairs of one instruction see the env from before it. */
    for (i = 0; i < in->nvars; i++)
        if ((rc = dfi_expand_in_place(p, &in->vars[i].name, &p->cur.scope,
                                      in->line)) < 0 ||
            (rc = dfi_expand_in_place(p, &in->vars[i].value, &p->cur.scope,
                                      in->line)) < 0)
            return rc;
    for (i = 0; is_env && i < in->nvars; i++) {
        vlist_set(p->mem, &p->cur.env, in->vars[i].name, in->vars[i].value);
        vlist_set(p->mem, &p->cur.scope, in->vars[i].name, in->vars[i].value);
    }
    return 0;
}

static int dispatch_workdir(struct p2 *p, struct df_instr *in)
{
    struct buf b = BUF_INIT;
    int rc;

    if ((rc = dfi_expand_in_place(p, &in->args[0], &p->cur.scope, in->line)) <
        0)
        return rc;
    if (!in->args[0][0])
        return dfi_p2_fail(p, in->line, NULL, "cannot normalize nothing");
    if (in->args[0][0] == '/') {
        p->cur.workdir = dfi_clean_abs(p->mem, in->args[0]);
        return 0;
    }
    buf_printf(&b, "%s/%s", p->cur.workdir, in->args[0]);
    p->cur.workdir = dfi_clean_abs(p->mem, buf_cstr(&b));
    buf_release(&b);
    return 0;
}

static int dispatch(struct p2 *p, struct df_instr *in, int self)
{
    size_t i;
    int rc;

    switch (in->kind) {
    case DF_ARG:
        return dispatch_arg(p, in, 0);
    case DF_ENV:
    case DF_LABEL:
        return dispatch_env(p, in, in->kind == DF_ENV);
    case DF_COPY:
    case DF_ADD:
        return dispatch_copy(p, in, self);
    case DF_RUN:
        return dispatch_run(p, in);
    case DF_WORKDIR:
        return dispatch_workdir(p, in);
    case DF_USER:
    case DF_STOPSIGNAL:
    case DF_EXPOSE:
    case DF_VOLUME:
        for (i = 0; i < in->nargs; i++)
            if ((rc = dfi_expand_in_place(p, &in->args[i], &p->cur.scope,
                                          in->line)) < 0)
                return rc;
        for (i = 0; in->kind == DF_VOLUME && i < in->nargs; i++)
            if (!in->args[i][0])
                return dfi_p2_fail(
                    p, in->line, NULL,
                    "VOLUME specified can not be an empty string");
        if (in->kind == DF_USER)
            p->cur.user = in->args[0];
        return 0;
    case DF_SHELL:
        p->cur.shell = in->args;
        p->cur.nshell = in->nargs;
        return 0;
    default:
        return 0;
    }
}

/* FROM: a new stage; its base may be an earlier stage (name or index). */
static int dispatch_from(struct p2 *p, struct df_instr *in, int si)
{
    struct df_stage *st = &p->f->stages[si];
    const struct df_flag *pl = df_instr_flag(in, "platform");
    char *end;
    long idx;
    int j, rc;

    if ((rc = dfi_expand(p, &st->base, &p->global, in->args[0], in->line)) < 0)
        return rc;
    if (!st->base[0])
        return dfi_p2_fail(
            p, in->line, "give FROM an image or pass the ARG with --build-arg",
            "base name '%s' should not be blank", in->args[0]);
    if (pl) {
        if ((rc = dfi_expand(p, &st->platform, &p->global, pl->value,
                             in->line)) < 0)
            return rc;
        dfi_flag_mut(in, "platform")->value = st->platform;
    }
    for (j = 0; st->name && j < si; j++)
        if (p->f->stages[j].name && !strcmp(p->f->stages[j].name, st->name))
            return dfi_p2_fail(p, in->line, "give each stage its own name",
                               "duplicate stage name '%s'", st->name);
    st->base_stage = -1;
    for (j = 0; j < si; j++)
        if (p->f->stages[j].name && !strcasecmp(p->f->stages[j].name, st->base))
            st->base_stage = j;
    idx = strtol(st->base, &end, 10);
    if (st->base_stage < 0 && isdigit((unsigned char)st->base[0]) && !*end &&
        idx < si)
        st->base_stage = (int)idx;
    in->args[0] = st->base; /* the node's array, FROM's alone */
    in->nargs = 1;
    sstate_share(&p->cur, &p->init);
    if (st->base_stage >= 0) {
        /* The image config carries over: env, workdir, user, shell. */
        struct sstate *b = &p->finals[st->base_stage];
        vlist_share(&p->cur.env, &b->env);
        vlist_share(&p->cur.scope, &b->env);
        p->cur.workdir = b->workdir;
        p->cur.user = b->user;
        p->cur.shell = b->shell;
        p->cur.nshell = b->nshell;
    }
    return 0;
}

/* Depth-first search for a cycle through COPY --from edges and bases. */
static int stage_cycle(const struct df_file *f, int s, int *mark)
{
    size_t i;
    int d;

    if (mark[s] == 1)
        return 1;
    if (mark[s] == 2)
        return 0;
    mark[s] = 1;
    if (f->stages[s].base_stage >= 0 &&
        stage_cycle(f, f->stages[s].base_stage, mark))
        return 1;
    for (i = f->stages[s].first; i < f->stages[s].first + f->stages[s].count;
         i++) {
        d = f->instrs[i].from_stage;
        if (d >= 0 && stage_cycle(f, d, mark))
            return 1;
    }
    mark[s] = 2;
    return 0;
}

static int check_cycles(struct p2 *p)
{
    int *mark = xcalloc(p->f->nstages ? p->f->nstages : 1, sizeof(int));
    size_t s;
    int rc = 0;

    for (s = 0; s < p->f->nstages && !rc; s++)
        if (stage_cycle(p->f, (int)s, mark)) {
            const struct df_stage *st = &p->f->stages[s];
            rc = dfi_p2_fail(p, p->f->instrs[st->first].line,
                             "break the loop of COPY --from between stages",
                             "circular dependency detected on stage '%s'",
                             st->name ? st->name : "?");
        }
    free(mark);
    return rc;
}

/* The state of a stage before its FROM image's, and of the global ARGs. */
static void init_state(struct p2 *p, struct sstate *s)
{
    static const char *const shell[] = { "/bin/sh", "-c" };
    struct df_var *none = arena_alloc(p->mem, sizeof(*none));
    size_t i;

    memset(s, 0, sizeof(*s));
    /* empty lists, shared: the first name set copies them */
    s->env.v = s->args.v = s->scope.v = none;
    s->env.shared = s->args.shared = s->scope.shared = 1;
    s->workdir = arena_strdup(p->mem, "/");
    s->user = arena_strdup(p->mem, "");
    s->nshell = sizeof(shell) / sizeof(shell[0]);
    s->shell = arena_alloc_uninit(p->mem, s->nshell * sizeof(*s->shell));
    for (i = 0; i < s->nshell; i++)
        s->shell[i] = arena_strdup(p->mem, shell[i]);
}

/* Pass B: expansion and state, in file order. */
int dfi_dispatch_all(struct p2 *p)
{
    struct df_file *f = p->f;
    size_t i, k;
    int rc;

    for (k = 0; k < sizeof(platform_args) / sizeof(platform_args[0]); k++)
        vlist_set(p->mem, &p->global, platform_args[k].name,
                  platform_args[k].value);
    p->finals = xcalloc(f->nstages, sizeof(*p->finals));
    init_state(p, &p->init);
    sstate_share(&p->cur, &p->init);
    for (i = k = 0; i < f->ninstrs && f->instrs[i].stage < 0; i++)
        k += f->instrs[i].nvars;
    f->meta_args = arena_alloc(p->mem, (k ? k : 1) * sizeof(*f->meta_args));
    for (i = 0; i < f->ninstrs; i++) {
        struct df_instr *in = &f->instrs[i];
        if (in->stage < 0) {
            snapshot(&in->state, &p->init);
            if ((rc = dispatch_arg(p, in, 1)) < 0)
                goto out;
            for (k = 0; k < in->nvars; k++)
                f->meta_args[f->nmeta_args++] = in->vars[k];
            continue;
        }
        if (in->kind == DF_FROM) {
            if (in->stage > 0)
                sstate_share(&p->finals[in->stage - 1], &p->cur);
            if ((rc = dispatch_from(p, in, in->stage)) < 0)
                goto out;
        }
        snapshot(&in->state, &p->cur);
        if (in->inner) {
            in->inner->stage = in->stage;
            in->inner->state = in->state;
        }
        p->fatal = 0;
        if ((rc = dispatch(p, in, in->stage)) < 0) {
            struct df_stage *st = &f->stages[in->stage];
            if (p->fatal)
                goto out;
            /* dockerfile2llb expands while it dispatches, and dispatches
             * only the stages the target needs: the error belongs to the
             * stage */
            if (!st->error) {
                st->error = arena_strdup(p->mem, p->err->msg);
                st->error_line = in->line;
            }
            err_clear(p->err);
            rc = 0;
        }
    }
    sstate_share(&p->finals[f->nstages - 1], &p->cur);
    rc = check_cycles(p);
out:
    return rc;
}

void dfi_p2_release(struct p2 *p)
{
    free(p->finals);
    free(p->env);
}
