#include "explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmap.h"

static const char *part_value(const struct key_step *s, const char *name)
{
    const struct key_part *p = key_step_part(s, name);
    return p ? p->value : NULL;
}

/* Everything a step is keyed on but its parent: equal signatures mean
 * the same instruction with the same inputs. */
static void step_sig(struct buf *out, const struct key_step *s)
{
    size_t i;

    buf_reset(out);
    buf_printf(out, "%d", (int)s->kind);
    for (i = 0; i < s->nparts; i++)
        if (strcmp(s->parts[i].name, "parent"))
            buf_printf(out, "\n%s=%s", s->parts[i].name, s->parts[i].value);
}

static int same_sig(const struct key_step *a, const struct key_step *b)
{
    struct buf x = BUF_INIT, y = BUF_INIT;
    int same;

    step_sig(&x, a);
    step_sig(&y, b);
    same = !strcmp(buf_cstr(&x), buf_cstr(&y));
    buf_release(&x);
    buf_release(&y);
    return same;
}

/* The step of `before` that `now`'s step i should be compared with. */
static const struct key_step *counterpart(const struct key_build *before,
                                          const struct key_build *now,
                                          size_t i)
{
    const struct key_step *s = &now->steps[i];
    const char *parent = part_value(s, "parent");
    const struct key_step *best = NULL;
    size_t j, ordinal = 0, seen = 0;

    if (parent) {
        for (j = 0; j < before->nsteps; j++) {
            const struct key_step *o = &before->steps[j];
            const char *op = part_value(o, "parent");
            if (!o->vertex || !op || strcmp(op, parent))
                continue;
            if (o->kind == s->kind && (!best || best->kind != s->kind ||
                                       o->line == s->line))
                best = o;
            else if (!best)
                best = o;
        }
        if (best)
            return best;
    }
    for (j = 0; j < i; j++)
        if (now->steps[j].stage == s->stage && now->steps[j].kind == s->kind)
            ordinal++;
    for (j = 0; j < before->nsteps; j++) {
        const struct key_step *o = &before->steps[j];
        if (o->stage == s->stage && o->kind == s->kind && seen++ == ordinal)
            return o;
    }
    return NULL;
}

static void describe_change(char *out, size_t n, const struct ctx_change *c)
{
    switch (c->kind) {
    case CTX_ADDED:
        snprintf(out, n, "%s added", c->path);
        break;
    case CTX_REMOVED:
        snprintf(out, n, "%s removed", c->path);
        break;
    case CTX_CONTENT:
        snprintf(out, n, "%s changed", c->path);
        break;
    case CTX_MODE:
        snprintf(out, n, "mode of %s changed %04o -> %04o", c->path,
                 c->old_mode & 07777, c->new_mode & 07777);
        break;
    case CTX_TYPE:
        snprintf(out, n, "%s changed type", c->path);
        break;
    case CTX_GIT_DIR:
        snprintf(out, n, ".git is in the context and is not in "
                         ".dockerignore");
        break;
    }
}

/* A source reason found for a step of one builder, for the other's. */
struct explain_source {
    size_t instr, old_instr; /* the instructions compared, now and before */
    int git_dir;
    char *text;
};

void explain_shared_reset(struct explain_shared *sh)
{
    for (size_t i = 0; i < sh->n; i++)
        free(sh->v[i].text);
    sh->n = 0;
}

void explain_shared_release(struct explain_shared *sh)
{
    explain_shared_reset(sh);
    free(sh->v);
    memset(sh, 0, sizeof(*sh));
}

/* The file source_reason() names, from the contexts' diff. */
static void source_reason_diff(char *out, size_t n,
                               const struct explain_side *before,
                               const struct explain_side *now,
                               const struct key_step *s,
                               const struct key_step *o)
{
    const struct df_instr *in = &now->df->instrs[s->instr];
    const char **srcs = xcalloc(in->nargs + 1, sizeof(*srcs));
    const char **ex = xcalloc(in->nflags + 1, sizeof(*ex));
    size_t i, ns = 0, nx = 0;
    struct ctx_change c;
    struct err err = ERR_INIT;

    for (i = 0; i + 1 < in->nargs; i++)
        if (strncmp(in->args[i], "<<", 2) && !strstr(in->args[i], "://"))
            srcs[ns++] = in->args[i];
    for (i = 0; i < in->nflags; i++)
        if (!strcmp(in->flags[i].name, "exclude"))
            ex[nx++] = in->flags[i].value;
    if (before->ctx && now->ctx && ns &&
        ctx_diff(before->ctx, now->ctx, srcs, ns, ex, nx,
                 df_instr_flag(in, "parents") != NULL, &c, &err) == 0)
        describe_change(out, n, &c);
    else if (s->git_dir)
        snprintf(out, n, ".git is in the context and is not in "
                         ".dockerignore");
    else if (strcmp(before->df->instrs[o->instr].original, in->original))
        /* same files, other sources named (legacy keys their paths) */
        snprintf(out, n, "%s changed (line %d)", df_kind_name(s->kind),
                 s->line);
    else
        snprintf(out, n, "the files it copies changed");
    free(srcs);
    free(ex);
}

/* A COPY/ADD source changed: name the first file that differs.  The text
 * depends on the two instructions and the contexts, not on the builder:
 * the other builder's step of the same instruction gets it from
 * now->shared. */
static void source_reason(char *out, size_t n,
                          const struct explain_side *before,
                          const struct explain_side *now,
                          const struct key_step *s, const struct key_step *o)
{
    struct explain_shared *sh = now->shared;
    struct explain_source *e;

    if (!sh) {
        source_reason_diff(out, n, before, now, s, o);
        return;
    }
    for (size_t i = 0; i < sh->n; i++) {
        e = &sh->v[i];
        if (e->instr == s->instr && e->old_instr == o->instr &&
            e->git_dir == s->git_dir) {
            snprintf(out, n, "%s", e->text);
            return;
        }
    }
    source_reason_diff(out, n, before, now, s, o);
    XGROW(sh->v, sh->cap, sh->n + 1);
    e = &sh->v[sh->n++];
    e->instr = s->instr;
    e->old_instr = o->instr;
    e->git_dir = s->git_dir;
    e->text = xstrdup(out);
}

static const char *var_name(const struct explain_side *side,
                            const struct key_step *s)
{
    const struct df_instr *in = &side->df->instrs[s->instr];
    return in->nvars ? in->vars[0].name : "";
}

/* Whether two steps were written the same way in their Dockerfiles. */
static int same_text(const struct explain_side *before,
                     const struct explain_side *now, const struct key_step *o,
                     const struct key_step *s)
{
    return !strcmp(before->df->instrs[o->instr].original,
                   now->df->instrs[s->instr].original);
}

/* Line of the last SHELL before step s in its stage, or s's own line. */
static int shell_line(const struct explain_side *side,
                      const struct key_step *s)
{
    int line = s->line;
    size_t i;

    for (i = 0; i < s->instr; i++)
        if (side->df->instrs[i].kind == DF_SHELL &&
            side->df->instrs[i].stage == s->stage)
            line = side->df->instrs[i].line;
    return line;
}

/* Name the first part that differs between s (now) and o (before). */
static int part_reason(char *out, size_t n, const struct explain_side *before,
                       const struct explain_side *now,
                       const struct key_step *s, const struct key_step *o)
{
    size_t i;

    for (i = 0; i < s->nparts; i++) {
        const struct key_part *p = &s->parts[i];
        const struct key_part *q = key_step_part(o, p->name);
        const char *name = p->name;

        if (q && !strcmp(q->value, p->value))
            continue;
        if (!strncmp(name, "arg:", 4)) {
            if (!q)
                snprintf(out, n, "ARG %s is now set to '%s' (line %d)",
                         name + 4, p->value, p->line);
            else
                snprintf(out, n, "ARG %s changed '%s' -> '%s' (line %d)",
                         name + 4, q->value, p->value, p->line);
        } else if (!strncmp(name, "env:", 4)) {
            snprintf(out, n, "ENV %s %s (line %d)", name + 4,
                     q ? "changed" : "added", p->line);
        } else if (!strcmp(name, "source")) {
            source_reason(out, n, before, now, s, o);
        } else if (!strcmp(name, "from-content")) {
            snprintf(out, n, "the files it copies from stage '%s' changed",
                     part_value(s, "from") ? part_value(s, "from") : "?");
        } else if (!strcmp(name, "mount-content")) {
            snprintf(out, n, "the files of its bind mount changed");
        } else if (!strcmp(name, "instruction") && s->kind == DF_ARG) {
            snprintf(out, n, "ARG %s default changed (line %d)",
                     var_name(now, s), s->line);
        } else if (!strcmp(name, "instruction") && s->kind == DF_ENV) {
            snprintf(out, n, "ENV %s changed (line %d)", var_name(now, s),
                     s->line);
        } else if (!strcmp(name, "command") && s->kind == DF_RUN &&
                   same_text(before, now, o, s)) {
            /* the text is the same: the SHELL it runs under changed */
            snprintf(out, n, "SHELL changed (line %d)",
                     shell_line(now, s));
        } else if (!strcmp(name, "instruction") ||
                   !strcmp(name, "command")) {
            snprintf(out, n, "%s changed (line %d)", df_kind_name(s->kind),
                     s->line);
        } else if (!strcmp(name, "base")) {
            snprintf(out, n, "base image changed: %s -> %s",
                     q ? q->value : "?", p->value);
        } else if (!strcmp(name, "parent")) {
            snprintf(out, n, "an earlier step changed (line %d)", p->line);
        } else {
            snprintf(out, n, "%s changed: '%s' -> '%s' (line %d)", name,
                     q ? q->value : "", p->value, s->line);
        }
        return 1;
    }
    for (i = 0; i < o->nparts; i++) {
        const struct key_part *q = &o->parts[i];
        if (key_step_part(s, q->name))
            continue;
        if (!strncmp(q->name, "arg:", 4))
            snprintf(out, n, "ARG %s is no longer set", q->name + 4);
        else if (!strncmp(q->name, "env:", 4))
            snprintf(out, n, "ENV %s removed", q->name + 4);
        else
            snprintf(out, n, "%s no longer applies", q->name);
        return 1;
    }
    return 0;
}

static int kind_reason(char *out, size_t n, const struct key_build *before,
                       const struct key_build *now, size_t i,
                       const struct key_step *o)
{
    const struct key_step *s = &now->steps[i];
    const char *legacy = now->builder == BUILDER_LEGACY
                             ? " changes every later legacy step"
                             : "";
    size_t oi = (size_t)(o - before->steps);

    if (i + 1 < now->nsteps && same_sig(&now->steps[i + 1], o))
        snprintf(out, n, "%s inserted at line %d%s", df_kind_name(s->kind),
                 s->line, legacy);
    else if (oi + 1 < before->nsteps && same_sig(&before->steps[oi + 1], s))
        snprintf(out, n, "%s removed before line %d%s",
                 df_kind_name(o->kind), s->line, legacy);
    else
        snprintf(out, n, "line %d is now %s instead of %s", s->line,
                 df_kind_name(s->kind), df_kind_name(o->kind));
    return 1;
}

/* Why step i's own inputs differ from its counterpart in `before`: this
 * depends only on the two builds, not on the outcomes.  Not inlined: the
 * texts are cut to n on purpose (paths can be long), which the compiler
 * would warn about once it knew n. */
static void why_changed(char *out, size_t n, const struct explain_side *before,
                        const struct explain_side *now, size_t i)
    __attribute__((noipa));
static void why_changed(char *out, size_t n, const struct explain_side *before,
                        const struct explain_side *now, size_t i)
{
    const struct key_step *s = &now->kb->steps[i];
    const struct key_step *o = counterpart(before->kb, now->kb, i);

    if (!o)
        snprintf(out, n, "%s at line %d is new", df_kind_name(s->kind),
                 s->line);
    else if (o->kind != s->kind)
        kind_reason(out, n, before->kb, now->kb, i, o);
    else if (!part_reason(out, n, before, now, s, o))
        snprintf(out, n, "its cache key changed");
}

/* A text per line, kept: strategies mostly name the same line, and the
 * texts given out stay valid until the memo is released. */
struct explain_follow {
    struct explain_follow *next;
    int line;
    char text[40];
};

static const char *follow_text(struct explain_memo *memo, int line)
{
    struct explain_follow *f;

    for (f = memo->follow; f; f = f->next)
        if (f->line == line)
            return f->text;
    f = xcalloc(1, sizeof(*f));
    f->line = line;
    snprintf(f->text, sizeof(f->text), "follows a miss at line %d", line);
    f->next = memo->follow;
    memo->follow = f;
    return f->text;
}

const char *explain_miss_memo(const struct explain_side *before,
                              const struct explain_side *now,
                              const struct sim_step *steps, size_t i,
                              struct explain_memo *memo)
{
    const struct key_step *s = &now->kb->steps[i];

    if (!before || !before->kb)
        return "first build: nothing cached";
    if (!memo->known) {
        /* what does not depend on the strategy's outcomes */
        memo->known = 1;
        memo->unchanged = key_build_find(before->kb, s->key) >= 0;
        memo->chained = s->parent >= 0 && key_step_part(s, "parent");
    }
    if (memo->unchanged)
        return NULL;
    if (memo->chained) {
        int p = s->parent;
        /* A COPY --link that hit still merges onto the state before it,
         * and FROM <stage> is that stage's result: look through both for
         * the miss that changed the state. */
        while ((now->kb->steps[p].link || now->kb->steps[p].kind == DF_FROM) &&
               now->kb->steps[p].parent >= 0 &&
               steps[p].outcome != OUTCOME_MISS)
            p = now->kb->steps[p].parent;
        if (steps[p].outcome == OUTCOME_MISS)
            return follow_text(memo, now->kb->steps[p].line);
    }
    if (!memo->why) {
        char text[SIM_REASON_MAX];
        why_changed(text, sizeof(text), before, now, i);
        memo->why = xstrdup(text);
    }
    return memo->why;
}

/* Texts kept per step by explain_memo_reset(): a few lines at most. */
#define FOLLOW_KEEP 4

void explain_memo_reset(struct explain_memo *memo)
{
    struct explain_follow *f;
    size_t n = 0;

    for (f = memo->follow; f; f = f->next)
        n++;
    if (n > FOLLOW_KEEP) {
        while (memo->follow) {
            f = memo->follow;
            memo->follow = f->next;
            free(f);
        }
    }
    free(memo->why);
    memo->why = NULL;
    memo->known = memo->unchanged = memo->chained = 0;
}

void explain_memo_release(struct explain_memo *memo)
{
    if (!memo)
        return;
    while (memo->follow) {
        struct explain_follow *f = memo->follow;
        memo->follow = f->next;
        free(f);
    }
    free(memo->why);
    memset(memo, 0, sizeof(*memo));
}

int explain_miss(char *out, size_t n, const struct explain_side *before,
                 const struct explain_side *now,
                 const struct sim_step *steps, size_t i)
{
    struct explain_memo memo = { 0 };
    const char *why = explain_miss_memo(before, now, steps, i, &memo);

    if (why)
        snprintf(out, n, "%s", why);
    explain_memo_release(&memo);
    return why != NULL;
}

void explain_label(char *out, size_t n, const struct df_file *df,
                   const struct key_step *s)
{
    const char *text = df->instrs[s->instr].original;
    size_t len = strlen(text);

    if (len + 1 <= n || n < 8) {
        snprintf(out, n, "%s", text);
        return;
    }
    snprintf(out, n, "%.*s...", (int)(n - 4), text);
}

/* ---- a runner that built the old commit ---- */

struct runner_view {
    struct dmap keys;  /* keys the runner holds */
    struct dmap bases; /* base layers it has */
};

static int rv_lookup(void *arg, const unsigned char *key, struct sim_rec *rec)
{
    struct runner_view *rv = arg;

    if (!dmap_get(&rv->keys, key))
        return 0;
    memset(rec, 0, sizeof(*rec));
    rec->has_layer = 1;
    return 1;
}

static int rv_has_base(void *arg, const unsigned char *digest)
{
    struct runner_view *rv = arg;
    return dmap_get(&rv->bases, digest) != NULL;
}

/* The runner's store after building `old` (NULL: nothing built). */
static void runner_from(struct runner_view *rv, const struct sim_config *cfg,
                        const struct key_build *old)
{
    size_t i;

    dmap_init(&rv->keys, 1);
    dmap_init(&rv->bases, 1);
    for (i = 0; old && i < old->nsteps; i++) {
        const struct key_step *s = &old->steps[i];
        if (old->failed && (int)i >= old->failed_step)
            break;
        if (!s->built || !s->vertex)
            continue;
        if (s->kind == DF_FROM && key_step_part(s, "base")) {
            struct image_layer l;
            sim_base_layer(cfg, s, &l);
            dmap_put(&rv->bases, l.digest, NULL);
        } else {
            dmap_put(&rv->keys, s->key, NULL);
        }
    }
}

void explain_build(struct sim_result *out, const struct sim_config *cfg,
                   const struct plan *old, const struct plan *now,
                   enum builder b)
{
    const struct key_build *kb = now->kb[b];
    const struct key_build *okb = old->failed ? NULL : old->kb[b];
    struct runner_view rv;
    struct sim_view v = { .lookup = rv_lookup, .has_base = rv_has_base,
                          .arg = &rv };
    struct sim_build sb = { kb, 1, 0, NULL, NULL };
    struct explain_side before = { okb, old->df, old->ctx, NULL };
    struct explain_side after = { kb, now->df, now->ctx, NULL };
    size_t i;

    runner_from(&rv, cfg, okb);
    sim_result_init(out, kb->nsteps);
    sim_execute(cfg, &sb, &v, 0, out);
    for (i = 0; i < kb->nsteps; i++) {
        struct sim_step *o = &out->steps[i];
        char why[SIM_REASON_MAX];
        if (o->outcome != OUTCOME_MISS || o->reason[0])
            continue;
        if (explain_miss(why, sizeof(why), okb ? &before : NULL, &after,
                         out->steps, i))
            sim_step_reason_copy(out, i, why);
        else
            sim_step_reason_static(out, i, "not in the runner's cache");
    }
    sim_result_count(out);
    dmap_release(&rv.keys);
    dmap_release(&rv.bases);
}
