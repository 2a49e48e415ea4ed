#include "lint_cost.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pricing.h"
#include "replay.h"
#include "store.h"
#include "store_report.h"

/* The Dockerfile's path relative to the repository. */
static int relative_path(char **out, const char *repo, const char *path,
                         struct err *err)
{
    char *r = realpath(repo, NULL), *p = realpath(path, NULL);
    size_t n;
    int rc = 0;

    *out = NULL;
    if (!r || !p) {
        rc = err_set(err, ERR_IO, "cannot resolve '%s': %s", !r ? repo : path,
                     strerror(errno));
        goto out;
    }
    n = strlen(r);
    if (strncmp(p, r, n) || p[n] != '/') {
        rc = err_set(err, ERR_USAGE, "lint: '%s' is not inside --repo '%s'",
                     path, repo);
        goto out;
    }
    *out = xstrdup(p + n + 1);
out:
    free(r);
    free(p);
    return rc;
}

struct line_cost {
    long line;
    int run; /* a RUN step */
    long misses;
    double seconds;
};

struct costs {
    struct line_cost *v;
    size_t n, cap;
    long builds;
};

static struct line_cost *at_line(struct costs *c, long line)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].line == line)
            return &c->v[i];
    return NULL;
}

static int count_build(void *ctx, const struct store_report_build *b)
{
    (void)b;
    ((struct costs *)ctx)->builds++;
    return 0;
}

/* Replay into a temporary database and read the misses per line. */
static int replay_costs(struct costs *c, const char *rel,
                        const struct lint_cost_options *o, struct err *err)
{
    char tmpl[] = "/tmp/harness-lint-XXXXXX";
    char *dir = mkdtemp(tmpl);
    struct buf db = BUF_INIT, ext = BUF_INIT;
    struct repo *repo = NULL;
    struct store *st = NULL;
    struct store_report *sr = NULL;
    struct store_report_run run;
    struct store_report_miss *m = NULL;
    struct plan_options po;
    struct replay_options ro;
    struct replay_stats stats;
    const struct strategy_ops *strats[1] = { o->strategy };
    size_t nm = 0;
    int rc, have_run = 0;

    if (!dir)
        return err_set(err, ERR_IO,
                       "lint: cannot create a temporary folder: "
                       "%s",
                       strerror(errno));
    buf_printf(&db, "%s/lint.db", dir);
    memset(&po, 0, sizeof(po));
    po.dockerfile = rel;
    memset(&ro, 0, sizeof(ro));
    ro.repo_label = o->repo;
    ro.range = o->range;
    ro.plan = &po;
    ro.strategies = strats;
    ro.nstrategies = 1;
    sim_config_defaults(&ro.cfg);
    ro.options_json = "{\"lint\": true}";
    if ((rc = repo_open(&repo, o->repo, err)) < 0 ||
        (rc = store_open(&st, buf_cstr(&db), err)) < 0)
        goto out;
    rc = replay_run(st, repo, &ro, &stats, err);
    store_close(st);
    st = NULL;
    if (rc < 0 || (rc = store_report_open(&sr, buf_cstr(&db), err)) < 0 ||
        (rc = store_report_run_get(sr, 0, &run, err)) < 0)
        goto out;
    have_run = 1;
    if ((rc = store_report_builds(sr, run.id, count_build, c, err)) < 0 ||
        (rc = store_report_misses(sr, run.id, 1000000, &m, &nm, err)) < 0)
        goto out;
    for (size_t i = 0; i < nm; i++) {
        struct line_cost *lc = at_line(c, (long)m[i].line);
        if (!lc) {
            XGROW(c->v, c->cap, c->n + 1);
            lc = &c->v[c->n++];
            memset(lc, 0, sizeof(*lc));
            lc->line = (long)m[i].line;
            lc->run = !strcmp(m[i].instruction, "RUN");
        }
        lc->misses += (long)m[i].count;
        lc->seconds += m[i].seconds;
    }
out:
    store_report_misses_free(m, nm);
    if (have_run)
        store_report_run_release(&run);
    store_report_close(sr);
    store_close(st);
    repo_free(repo);
    for (int i = 0; i < 4; i++) {
        static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
        buf_reset(&ext);
        buf_printf(&ext, "%s%s", buf_cstr(&db), sfx[i]);
        unlink(buf_cstr(&ext));
    }
    rmdir(dir);
    buf_release(&db);
    buf_release(&ext);
    return rc;
}

/* The lines a finding is about: [from, to). */
static void finding_lines(const struct lint_finding *f, int *from, int *to)
{
    *from = f->line;
    *to = f->line + 1;
    if (f->rule == LINT_ARG_EARLY) {
        /* "... before line N, the first that uses it" */
        const char *p = strstr(f->message, "before line ");
        if (p)
            *to = atoi(p + 12);
    } else if (f->rule == LINT_INLINE_MULTISTAGE) {
        *to = *from; /* no step of its own */
    }
}

struct ranked {
    struct lint_finding f;
    struct lint_cost c;
};

static int by_cost(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->c.minutes != y->c.minutes)
        return x->c.minutes > y->c.minutes ? -1 : 1;
    if (x->f.line != y->f.line)
        return x->f.line < y->f.line ? -1 : 1;
    return (int)x->f.rule - (int)y->f.rule;
}

int lint_cost_rank(struct lint_cost **out, struct lint_report *rep,
                   const char *dockerfile_path,
                   const struct lint_cost_options *o, struct err *err)
{
    struct costs c = { NULL, 0, 0, 0 };
    struct pricing p;
    struct ranked *v = NULL;
    char *rel = NULL;
    int rc, priced = 0;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    if ((rc = relative_path(&rel, o->repo, dockerfile_path, err)) < 0)
        return rc;
    if (o->pricing) {
        if ((rc = pricing_load(&p, o->pricing, err)) < 0)
            goto out;
        priced = 1;
    }
    if ((rc = replay_costs(&c, rel, o, err)) < 0)
        goto out;
    v = xcalloc(rep->n + 1, sizeof(*v));
    for (size_t i = 0; i < rep->n; i++) {
        int from, to;
        v[i].f = rep->v[i];
        v[i].c.builds = c.builds;
        v[i].c.priced = priced;
        finding_lines(&rep->v[i], &from, &to);
        for (size_t k = 0; k < c.n; k++)
            if (c.v[k].line >= from && c.v[k].line < to &&
                (rep->v[i].rule != LINT_ARG_EARLY || c.v[k].run)) {
                v[i].c.known = 1;
                if (c.v[k].misses > v[i].c.misses)
                    v[i].c.misses = c.v[k].misses;
                v[i].c.minutes += c.v[k].seconds / 60.0;
            }
        if (priced)
            v[i].c.usd = v[i].c.minutes * p.usd_per_minute;
    }
    if (rep->n > 1)
        qsort(v, rep->n, sizeof(*v), by_cost);
    *out = xcalloc(rep->n + 1, sizeof(**out));
    for (size_t i = 0; i < rep->n; i++) {
        rep->v[i] = v[i].f;
        (*out)[i] = v[i].c;
    }
out:
    free(v);
    free(c.v);
    free(rel);
    if (priced)
        pricing_release(&p);
    return rc;
}

void lint_cost_text(struct buf *b, const struct lint_cost *c,
                    const char *strategy)
{
    buf_adds(b, "  cost: ");
    lint_cost_sentence(b, c, strategy);
    buf_addch(b, '\n');
}

void lint_cost_json(struct buf *b, const struct lint_cost *c)
{
    buf_printf(b,
               ", \"cost\": {\"builds\": %ld, \"misses\": %ld, "
               "\"minutes\": %.3f, \"usd\": ",
               c->builds, c->misses, c->minutes);
    if (c->priced)
        buf_printf(b, "%.4f}", c->usd);
    else
        buf_adds(b, "null}");
}

void lint_cost_sentence(struct buf *b, const struct lint_cost *c,
                        const char *strategy)
{
    if (!c->known) {
        buf_printf(b, "no miss of its steps in the %ld builds replayed (%s)",
                   c->builds, strategy);
        return;
    }
    buf_printf(b, "missed in %ld of %ld builds, %.1f minutes (%s)", c->misses,
               c->builds, c->minutes, strategy);
    if (c->priced)
        buf_printf(b, ", $%.2f of runner time", c->usd);
}
