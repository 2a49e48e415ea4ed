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

void dfi_sstate_init(struct sstate *s)
{
    memset(s, 0, sizeof(*s));
    s->workdir = xstrdup("/");
    s->user = xstrdup("");
    strv_push(&s->shell, xstrdup("/bin/sh"));
    strv_push(&s->shell, xstrdup("-c"));
}

void dfi_sstate_release(struct sstate *s)
{
    vlist_release(&s->env);
    vlist_release(&s->args);
    vlist_release(&s->scope);
    free(s->workdir);
    free(s->user);
    strv_free(s->shell.v, s->shell.n);
    memset(s, 0, sizeof(*s));
}

static void sstate_copy(struct sstate *dst, const struct sstate *src)
{
    dfi_sstate_release(dst);
    vlist_copy(&dst->env, &src->env);
    vlist_copy(&dst->args, &src->args);
    vlist_copy(&dst->scope, &src->scope);
    dst->workdir = xstrdup(src->workdir);
    dst->user = xstrdup(src->user);
    dst->shell.v = strv_dup(src->shell.v, src->shell.n);
    dst->shell.n = dst->shell.cap = src->shell.n;
}

static void snapshot(struct df_state *out, const struct sstate *s)
{
    out->env = vars_dup(s->env.v, s->env.n);
    out->nenv = s->env.n;
    out->args = vars_dup(s->args.v, s->args.n);
    out->nargs = s->args.n;
    out->workdir = xstrdup(s->workdir);
    out->user = xstrdup(s->user);
    out->shell = strv_dup(s->shell.v, s->shell.n);
    out->nshell = s->shell.n;
}

void dfi_state_release(struct df_state *s)
{
    vars_free(s->env, s->nenv);
    vars_free(s->args, s->nargs);
    free(s->workdir);
    free(s->user);
    strv_free(s->shell, s->nshell);
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

/* shlex.ProcessWord(word, scope); ERR_PARSE at line on a lexer error. */
int dfi_expand(struct p2 *p, char **out, const struct vlist *scope,
               const char *word, int line)
{
    struct shlex_var *env = xcalloc(scope->n ? scope->n : 1, sizeof(*env));
    struct shlex lx = { p->f->escape, 0, 0, 0, env, 0 };
    char emsg[256];
    size_t i;
    int rc = 0;

    for (i = 0; i < scope->n; i++)
        if (scope->v[i].value) {
            env[lx.nenv].name = scope->v[i].name;
            env[lx.nenv++].value = scope->v[i].value;
        }
    if (shlex_word(out, &lx, word, emsg, sizeof(emsg)) < 0)
        rc =
            dfi_p2_fail(p, line, "quote or escape the '$' and quote characters",
                        "%s in '%s'", emsg, word);
    free(env);
    return rc;
}

int dfi_expand_in_place(struct p2 *p, char **s, const struct vlist *scope,
                        int line)
{
    char *x;
    int rc = dfi_expand(p, &x, scope, *s, line);

    if (rc < 0)
        return rc;
    free(*s);
    *s = x;
    return 0;
}

/* path.Clean of an absolute path. */
char *dfi_clean_abs(const char *path)
{
    struct strv parts = { NULL, 0, 0 };
    struct buf b = BUF_INIT;
    const char *s = path, *e;
    size_t i;

    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        e = strchr(s, '/');
        if (!e)
            e = s + strlen(s);
        if (e - s == 1 && s[0] == '.') {
            /* skip */
        } else if (e - s == 2 && s[0] == '.' && s[1] == '.') {
            if (parts.n)
                free(parts.v[--parts.n]);
        } else {
            strv_push(&parts, xstrndup(s, (size_t)(e - s)));
        }
        s = e;
    }
    for (i = 0; i < parts.n; i++)
        buf_printf(&b, "/%s", parts.v[i]);
    if (!b.len)
        buf_addch(&b, '/');
    strv_free(parts.v, parts.n);
    return buf_detach(&b);
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
            free(v->value);
            v->value = xstrdup(ba);
        } else if (v->value) {
            if ((rc = dfi_expand_in_place(p, &v->value, scope, in->line)) < 0)
                return rc;
        } else if (!meta && (g = vlist_find(&p->global, v->name)) != NULL) {
            v->value = g->value ? xstrdup(g->value) : NULL;
        }
        if (meta) {
            if (v->value)
                vlist_set(&p->global, v->name, v->value);
            continue;
        }
        vlist_set(&p->cur.args, v->name, v->value);
        if (v->value) {
            vlist_set(&p->cur.scope, v->name, v->value);
            /* BuildKit keeps one env list: the ARG replaces an ENV value. */
            if (vlist_find(&p->cur.env, v->name))
                vlist_set(&p->cur.env, v->name, v->value);
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
        char *x;
        if (strcmp(in->flags[i].name, "mount"))
            continue;
        if ((rc = dfi_check_mount(p, &x, in->flags[i].value, &p->cur.scope,
                                  in->line)) < 0)
            return rc;
        free(in->flags[i].value);
        in->flags[i].value = x;
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
        vlist_set(&p->cur.env, in->vars[i].name, in->vars[i].value);
        vlist_set(&p->cur.scope, in->vars[i].name, in->vars[i].value);
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
    if (in->args[0][0] != '/')
        buf_printf(&b, "%s/", p->cur.workdir);
    buf_adds(&b, in->args[0]);
    free(p->cur.workdir);
    p->cur.workdir = dfi_clean_abs(buf_cstr(&b));
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
        if (in->kind == DF_USER) {
            free(p->cur.user);
            p->cur.user = xstrdup(in->args[0]);
        }
        return 0;
    case DF_SHELL:
        strv_free(p->cur.shell.v, p->cur.shell.n);
        p->cur.shell.v = strv_dup(in->args, in->nargs);
        p->cur.shell.n = p->cur.shell.cap = in->nargs;
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
        free(dfi_flag_mut(in, "platform")->value);
        dfi_flag_mut(in, "platform")->value = xstrdup(st->platform);
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
    strv_free(in->args, in->nargs);
    in->args = xcalloc(1, sizeof(char *));
    in->args[0] = xstrdup(st->base);
    in->nargs = 1;
    dfi_sstate_release(&p->cur);
    dfi_sstate_init(&p->cur);
    if (st->base_stage >= 0) {
        /* The image config carries over: env, workdir, user, shell. */
        const struct sstate *b = &p->finals[st->base_stage];
        vlist_copy(&p->cur.env, &b->env);
        vlist_copy(&p->cur.scope, &b->env);
        free(p->cur.workdir);
        p->cur.workdir = xstrdup(b->workdir);
        free(p->cur.user);
        p->cur.user = xstrdup(b->user);
        strv_free(p->cur.shell.v, p->cur.shell.n);
        p->cur.shell.v = strv_dup(b->shell.v, b->shell.n);
        p->cur.shell.n = p->cur.shell.cap = b->shell.n;
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

/* Pass B: expansion and state, in file order. */
int dfi_dispatch_all(struct p2 *p)
{
    struct df_file *f = p->f;
    struct sstate meta;
    size_t i, k, cap = 0;
    int rc;

    for (k = 0; k < sizeof(platform_args) / sizeof(platform_args[0]); k++)
        vlist_set(&p->global, platform_args[k].name, platform_args[k].value);
    p->finals = xcalloc(f->nstages, sizeof(*p->finals));
    dfi_sstate_init(&meta);
    dfi_sstate_init(&p->cur);
    for (i = 0; i < f->ninstrs; i++) {
        struct df_instr *in = &f->instrs[i];
        if (in->stage < 0) {
            snapshot(&in->state, &meta);
            if ((rc = dispatch_arg(p, in, 1)) < 0)
                goto out;
            for (k = 0; k < in->nvars; k++) {
                XGROW(f->meta_args, cap, f->nmeta_args + 1);
                f->meta_args[f->nmeta_args].name = xstrdup(in->vars[k].name);
                f->meta_args[f->nmeta_args++].value =
                    in->vars[k].value ? xstrdup(in->vars[k].value) : NULL;
            }
            continue;
        }
        if (in->kind == DF_FROM) {
            if (in->stage > 0)
                sstate_copy(&p->finals[in->stage - 1], &p->cur);
            if ((rc = dispatch_from(p, in, in->stage)) < 0)
                goto out;
        }
        snapshot(&in->state, &p->cur);
        if (in->inner) {
            in->inner->stage = in->stage;
            snapshot(&in->inner->state, &p->cur);
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
                st->error = xstrdup(p->err->msg);
                st->error_line = in->line;
            }
            err_clear(p->err);
            rc = 0;
        }
    }
    sstate_copy(&p->finals[f->nstages - 1], &p->cur);
    rc = check_cycles(p);
out:
    dfi_sstate_release(&meta);
    return rc;
}
