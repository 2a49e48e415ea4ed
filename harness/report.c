/*
 * report.c - gather a report's figures from the databases and price them
 * (see report.h); then hand them to a writer.
 *
 * One pass over a run's builds (in replay order) feeds both the cost
 * model and the chart series: a chart of 10,000 commits is drawn from at
 * most REPORT_POINTS buckets of consecutive commits, so the page stays
 * small and readable whatever the history's length.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

#define MONTH_SECONDS            (30.4375 * 86400.0)
#define ASSUMED_BUILDS_PER_MONTH 500.0

static const char *const format_names[] = { "html", "md", "csv", "json" };

const char *report_format_name(enum report_format f)
{
    return (unsigned)f < 4 ? format_names[f] : "?";
}

int report_format_parse(const char *s, enum report_format *out)
{
    unsigned i;

    for (i = 0; i < 4; i++)
        if (!strcmp(s, format_names[i])) {
            *out = (enum report_format)i;
            return 0;
        }
    return ERR_INVALID;
}

/* ---- one repository ---- */

/* Per strategy and bucket, while reading the builds. */
struct bucket_acc {
    double billed, seconds, pulled, pushed;
    int64_t n, hit, miss;
};

struct gather {
    struct report_repo *repo;
    const struct pricing *p;
    int64_t ncommits;
    size_t npoints;
    struct bucket_acc *acc; /* [strategy * npoints + point] */
    size_t last;            /* strategy index of the previous build */
    struct err *err;
};

static int strategy_index(struct report_strategy *v, size_t *n,
                          const char *name, size_t *out)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (!strcmp(v[i].name, name)) {
            *out = i;
            return 0;
        }
    if (*n == REPORT_MAX_STRATEGIES)
        return ERR_INVALID;
    snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
    cost_usage_init(&v[*n].usage, name);
    *out = (*n)++;
    return 0;
}

static int on_build(void *ctx, const struct store_report_build *b)
{
    struct gather *g = ctx;
    struct report_repo *rr = g->repo;
    struct cost_build cb;
    struct bucket_acc *a;
    size_t si = g->last, point;
    double billed_before;

    if (si >= rr->nstrategies || strcmp(rr->strategies[si].name, b->strategy))
        if (strategy_index(rr->strategies, &rr->nstrategies, b->strategy, &si))
            return err_set(g->err, ERR_INVALID,
                           "%s: more than %d strategies in run %lld", rr->db,
                           REPORT_MAX_STRATEGIES, (long long)rr->run.id);
    g->last = si;
    cb.failed = b->failed;
    cb.seconds = b->seconds;
    cb.pull_seconds = b->pull_seconds;
    cb.push_seconds = b->push_seconds;
    cb.steps_hit = b->steps_hit;
    cb.steps_miss = b->steps_miss;
    cb.registry_bytes = b->registry_bytes;
    cb.cache_bytes = b->cache_bytes;
    billed_before = rr->strategies[si].usage.billed_minutes;
    cost_add_build(&rr->strategies[si].usage, g->p, &cb);

    point = g->ncommits > 0 ? (size_t)((double)b->seq * (double)g->npoints /
                                       (double)g->ncommits)
                            : 0;
    if (b->seq < 0)
        point = 0;
    if (point >= g->npoints)
        point = g->npoints - 1;
    a = &g->acc[si * g->npoints + point];
    a->billed += rr->strategies[si].usage.billed_minutes - billed_before;
    a->seconds += b->seconds + b->pull_seconds + b->push_seconds;
    a->pulled += (double)b->bytes_pulled;
    a->pushed += (double)b->bytes_pushed;
    a->n++;
    a->hit += b->steps_hit;
    a->miss += b->steps_miss;
    if (b->seq + 1 > rr->series.seq_end[point])
        rr->series.seq_end[point] = b->seq + 1;
    if (b->author_time > rr->series.time_end[point])
        rr->series.time_end[point] = b->author_time;
    return 0;
}

static void series_finish(struct report_repo *rr, struct gather *g)
{
    struct report_series *s = &rr->series;
    size_t n = g->npoints, i, k, used = 0;

    /* drop empty buckets (a history shorter than REPORT_POINTS commits,
     * or gaps), keeping the strategies aligned */
    for (k = 0; k < n; k++) {
        int any = 0;
        for (i = 0; i < rr->nstrategies; i++)
            any |= g->acc[i * n + k].n > 0;
        if (!any)
            continue;
        s->seq_end[used] = s->seq_end[k];
        s->time_end[used] = s->time_end[k];
        for (i = 0; i < rr->nstrategies; i++)
            g->acc[i * n + used] = g->acc[i * n + k];
        used++;
    }
    s->npoints = used;
    s->cum_billed_minutes = xcalloc(rr->nstrategies * used + 1, sizeof(double));
    s->build_seconds = xcalloc(rr->nstrategies * used + 1, sizeof(double));
    s->hit_rate = xcalloc(rr->nstrategies * used + 1, sizeof(double));
    s->mb_pulled = xcalloc(rr->nstrategies * used + 1, sizeof(double));
    s->mb_pushed = xcalloc(rr->nstrategies * used + 1, sizeof(double));
    for (i = 0; i < rr->nstrategies; i++) {
        double cum = 0;
        for (k = 0; k < used; k++) {
            const struct bucket_acc *a = &g->acc[i * n + k];
            size_t at = i * used + k;
            double nb = a->n > 0 ? (double)a->n : 1;

            cum += a->billed;
            s->cum_billed_minutes[at] = cum;
            s->build_seconds[at] = a->seconds / nb;
            s->hit_rate[at] = a->hit + a->miss > 0
                                  ? (double)a->hit / (double)(a->hit + a->miss)
                                  : 0;
            s->mb_pulled[at] = a->pulled / 1e6 / nb;
            s->mb_pushed[at] = a->pushed / 1e6 / nb;
        }
    }
}

static double history_rate(const struct store_report_run *run,
                           const char **source)
{
    double span = (double)(run->last_time - run->first_time);

    if (run->commits >= 2 && span >= 86400.0) {
        *source = "history";
        /* n commits span n - 1 intervals */
        return (double)(run->commits - 1) * MONTH_SECONDS / span;
    }
    *source = "assumed";
    return ASSUMED_BUILDS_PER_MONTH;
}

static void finish_costs(struct report_strategy *v, size_t n,
                         const struct pricing *p, double bpm)
{
    const struct cost_result *none = NULL;
    size_t i;

    for (i = 0; i < n; i++)
        cost_finish(&v[i].cost, &v[i].usage, p, bpm);
    for (i = 0; i < n; i++)
        if (!strcmp(v[i].name, "none"))
            none = &v[i].cost;
    for (i = 0; i < n; i++)
        cost_compare(&v[i].cost, none, &v[i].cost == none);
}

int report_same_cost(const struct report_strategy *a,
                     const struct report_strategy *b)
{
    double x = a->cost.monthly_usd, y = b->cost.monthly_usd;

    return fabs(x - y) <= 1e-6 + 0.001 * fmax(fabs(x), fabs(y));
}

const struct report_strategy *report_cheapest(const struct report_strategy *v,
                                              size_t n, int skip_none,
                                              size_t *ties)
{
    const struct report_strategy *best = NULL;
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (skip_none && !strcmp(v[i].name, "none") && n > 1)
            continue;
        if (!best || v[i].cost.monthly_usd < best->cost.monthly_usd)
            best = &v[i];
    }
    for (i = 0; best && i < n; i++)
        if (&v[i] != best && report_same_cost(&v[i], best) &&
            !(skip_none && !strcmp(v[i].name, "none")))
            k++;
    if (ties)
        *ties = k;
    return best;
}

/* `none` builds with --no-cache: every step of it misses by construction,
 * and so do the RUN steps of no-cache and no-cache-legacy (reason
 * "--no-cache: ..."); their rows would crowd out the misses a cache could
 * avoid.  Keep the first `keep` other rows. */
static void drop_none_misses(struct report_repo *rr, size_t keep)
{
    size_t i, n = 0;

    for (i = 0; i < rr->nmisses; i++) {
        struct store_report_miss *m = &rr->misses[i];
        if (!strcmp(m->strategy, "none") ||
            !strncmp(m->reason, "--no-cache", 10) || n == keep) {
            free(m->strategy);
            free(m->instruction);
            free(m->reason);
            continue;
        }
        rr->misses[n++] = *m;
    }
    rr->nmisses = n;
}

static int gather_repo(struct report_repo *rr, const char *db,
                       const struct report_opts *o, const struct pricing *p,
                       int details, struct err *err)
{
    struct store_report *sr = NULL;
    struct store_report_xfer *x = NULL;
    struct gather g;
    size_t nx = 0, i;
    int rc;

    memset(&g, 0, sizeof(g));
    rr->db = xstrdup(db);
    if ((rc = store_report_open(&sr, db, err)))
        return rc;
    rr->schema = store_report_schema(sr);
    rr->transfer_seconds = store_report_has_transfer_seconds(sr);
    if ((rc = store_report_run_get(sr, o->run_id, &rr->run, err)))
        goto out;
    if (o->builds_per_month > 0) {
        rr->builds_per_month = o->builds_per_month;
        rr->bpm_source = "option";
    } else {
        rr->builds_per_month = history_rate(&rr->run, &rr->bpm_source);
    }
    g.repo = rr;
    g.p = p;
    g.err = err;
    g.ncommits = rr->run.commits;
    g.npoints = rr->run.commits < REPORT_POINTS ? (size_t)rr->run.commits
                                                : REPORT_POINTS;
    if (g.npoints == 0)
        g.npoints = 1;
    g.acc = xcalloc(REPORT_MAX_STRATEGIES * g.npoints, sizeof(*g.acc));
    rr->series.seq_end = xcalloc(g.npoints, sizeof(int64_t));
    rr->series.time_end = xcalloc(g.npoints, sizeof(int64_t));
    if ((rc = store_report_builds(sr, rr->run.id, on_build, &g, err)))
        goto out;
    series_finish(rr, &g);
    if ((rc = store_report_transfers(sr, rr->run.id, &x, &nx, err)))
        goto out;
    for (i = 0; i < nx; i++) {
        size_t si;
        if (strategy_index(rr->strategies, &rr->nstrategies, x[i].strategy,
                           &si))
            continue;
        cost_add_transfers(&rr->strategies[si].usage, x[i].push, x[i].cache,
                           x[i].count, x[i].bytes);
    }
    finish_costs(rr->strategies, rr->nstrategies, p, rr->builds_per_month);
    if (details || o->format == REPORT_JSON) {
        /* The price of a fast cache, beside its cost.  It needs the
         * replayed repository for the steps' text: without it the report
         * still stands, with a note. */
        struct err serr = ERR_INIT;
        if (staleness_read(&rr->stale, sr, &rr->run, NULL, db, &serr) < 0) {
            staleness_release(&rr->stale);
            snprintf(rr->stale_note, sizeof(rr->stale_note), "not computed: %s",
                     serr.msg);
        }
    }
    if (details) {
        const struct report_strategy *best;
        if ((rc = store_report_misses(sr, rr->run.id, 12 + 64, &rr->misses,
                                      &rr->nmisses, err)))
            goto out;
        drop_none_misses(rr, 12);
        best = report_cheapest(rr->strategies, rr->nstrategies, 1, NULL);
        if (best) {
            memcpy(rr->slowest_strategy, best->name,
                   sizeof(rr->slowest_strategy));
            if ((rc = store_report_slowest(sr, rr->run.id, best->name, 10,
                                           &rr->slowest, &rr->nslowest, err)))
                goto out;
        }
    }
out:
    free(g.acc);
    free(x);
    store_report_close(sr);
    return rc;
}

static void repo_release(struct report_repo *rr)
{
    free(rr->db);
    store_report_run_release(&rr->run);
    free(rr->series.seq_end);
    free(rr->series.time_end);
    free(rr->series.cum_billed_minutes);
    free(rr->series.build_seconds);
    free(rr->series.hit_rate);
    free(rr->series.mb_pulled);
    free(rr->series.mb_pushed);
    store_report_misses_free(rr->misses, rr->nmisses);
    store_report_commits_free(rr->slowest, rr->nslowest);
    staleness_release(&rr->stale);
}

/* ---- the fleet and the comparison ---- */

static void fleet_total(struct report *r)
{
    size_t i, j, k;

    r->ntotal = 0;
    r->builds_per_month = 0;
    for (i = 0; i < r->nrepos; i++) {
        r->builds_per_month += r->repos[i].builds_per_month;
        for (j = 0; j < r->repos[i].nstrategies; j++) {
            const struct report_strategy *s = &r->repos[i].strategies[j];
            if (strategy_index(r->total, &r->ntotal, s->name, &k))
                continue;
            cost_usage_merge(&r->total[k].usage, &s->usage);
        }
    }
    /* Each repository builds its own commits: a month of the fleet is the
     * sum of their months.  Per build usage is scaled by the fleet's
     * builds over its builds, which weighs each repository by its rate
     * only approximately when rates differ; one repository is exact. */
    finish_costs(r->total, r->ntotal, &r->pricing, r->builds_per_month);
}

/* "OLD.db:RUN" -> path and run; a path that exists wins over a colon. */
static void split_compare(const char *spec, char **path, int64_t *run)
{
    const char *colon = strrchr(spec, ':');
    struct stat st;
    char *end;
    long long v;

    *run = 0;
    if (colon && stat(spec, &st) < 0 && colon[1]) {
        errno = 0;
        v = strtoll(colon + 1, &end, 10);
        if (!*end && !errno && v > 0) {
            *path = xstrndup(spec, (size_t)(colon - spec));
            *run = v;
            return;
        }
    }
    *path = xstrdup(spec);
}

static double change_pct(double old, double now)
{
    if (old == 0)
        return now == 0 ? 0 : 100.0;
    return (now - old) / fabs(old) * 100.0;
}

static int compare(struct report *r, const struct report_opts *o,
                   struct err *err)
{
    struct report_repo old;
    struct report_opts oo = *o;
    size_t i, j;
    int rc;

    memset(&old, 0, sizeof(old));
    split_compare(o->compare, &r->compare_db, &r->compare_run);
    oo.run_id = r->compare_run;
    /* the same prices and the same month: only usage may differ */
    oo.builds_per_month = r->builds_per_month;
    rc = gather_repo(&old, r->compare_db, &oo, &r->pricing, 0, err);
    if (rc)
        goto out;
    r->compared = 1;
    r->compare_run = old.run.id;
    r->threshold_pct = o->threshold_pct;
    for (i = 0; i < r->ntotal; i++) {
        struct report_delta *d = &r->deltas[r->ndeltas++];
        const struct cost_result *c = &r->total[i].cost;

        snprintf(d->name, sizeof(d->name), "%s", r->total[i].name);
        d->has_new = 1;
        d->new_per_build_usd = c->per_build_usd;
        d->new_hit_rate = c->hit_rate;
        d->new_monthly_usd = c->monthly_usd;
        for (j = 0; j < old.nstrategies; j++)
            if (!strcmp(old.strategies[j].name, d->name))
                break;
        if (j == old.nstrategies)
            continue;
        d->has_old = 1;
        d->old_per_build_usd = old.strategies[j].cost.per_build_usd;
        d->old_hit_rate = old.strategies[j].cost.hit_rate;
        d->old_monthly_usd = old.strategies[j].cost.monthly_usd;
        d->per_build_change_pct =
            change_pct(d->old_per_build_usd, d->new_per_build_usd);
        d->hit_rate_change_pct = change_pct(d->old_hit_rate, d->new_hit_rate);
        d->regressed = d->per_build_change_pct > o->threshold_pct ||
                       d->hit_rate_change_pct < -o->threshold_pct;
        r->regressed |= d->regressed;
    }
    for (j = 0; j < old.nstrategies && r->ndeltas < REPORT_MAX_STRATEGIES;
         j++) {
        struct report_delta *d;
        for (i = 0; i < r->ntotal; i++)
            if (!strcmp(old.strategies[j].name, r->total[i].name))
                break;
        if (i < r->ntotal)
            continue;
        d = &r->deltas[r->ndeltas++];
        snprintf(d->name, sizeof(d->name), "%s", old.strategies[j].name);
        d->has_old = 1;
        d->old_per_build_usd = old.strategies[j].cost.per_build_usd;
        d->old_hit_rate = old.strategies[j].cost.hit_rate;
        d->old_monthly_usd = old.strategies[j].cost.monthly_usd;
    }
out:
    repo_release(&old);
    return rc;
}

int report_build(struct report **out, const struct report_opts *o,
                 struct err *err)
{
    struct report *r = xcalloc(1, sizeof(*r));
    size_t i;
    int rc, details = o->format == REPORT_HTML;

    *out = NULL;
    if (!o->ndbs) {
        free(r);
        return err_set(err, ERR_USAGE, "report needs --db FILE");
    }
    if (o->ndbs > 1 && o->run_id > 0) {
        free(r);
        return err_set(err, ERR_USAGE,
                       "--run takes one --db (each database has its runs)");
    }
    if ((rc = pricing_load(&r->pricing,
                           o->pricing ? o->pricing : "github-actions", err))) {
        free(r);
        if (rc == ERR_NOTFOUND)
            err->code = rc = ERR_USAGE; /* a name or file that is not */
        return rc;
    }
    r->repos = xcalloc(o->ndbs, sizeof(*r->repos));
    for (i = 0; i < o->ndbs; i++) {
        r->nrepos++;
        /* the page shows the misses and slowest commits of each */
        if ((rc = gather_repo(&r->repos[i], o->dbs[i], o, &r->pricing,
                              details, err)))
            goto fail;
    }
    fleet_total(r);
    if (o->compare && (rc = compare(r, o, err)))
        goto fail;
    *out = r;
    return 0;
fail:
    report_free(r);
    return rc;
}

void report_free(struct report *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->nrepos; i++)
        repo_release(&r->repos[i]);
    free(r->repos);
    free(r->compare_db);
    pricing_release(&r->pricing);
    free(r);
}

static int write_file(const struct report *r, const char *dir,
                      enum report_format f, FILE *announce, struct err *err)
{
    struct buf path = BUF_INIT;
    FILE *fp;
    int rc;

    buf_printf(&path, "%s/report.%s", dir, report_format_name(f));
    fp = fopen(path.ptr, "w");
    if (!fp) {
        rc = err_set(err, ERR_IO, "cannot write '%s': %s", path.ptr,
                     strerror(errno));
        buf_release(&path);
        return rc;
    }
    rc = f == REPORT_JSON  ? report_write_json(r, fp, err)
         : f == REPORT_CSV ? report_write_csv(r, fp, err)
                           : report_write_md(r, fp, err);
    if (fclose(fp) && !rc)
        rc = err_set(err, ERR_IO, "cannot write '%s': %s", path.ptr,
                     strerror(errno));
    if (!rc && announce)
        fprintf(announce, "%s\n", path.ptr);
    buf_release(&path);
    return rc;
}

int report_run(const struct report_opts *o, int *regressed, struct err *err)
{
    struct report *r = NULL;
    FILE *out = o->out ? o->out : stdout;
    int rc;

    *regressed = 0;
    if (o->format == REPORT_HTML && !o->out_dir)
        return err_set(err, ERR_USAGE, "--format html needs --out DIR");
    if ((rc = report_build(&r, o, err)))
        return rc;
    if (o->out_dir && mkdir(o->out_dir, 0777) < 0 && errno != EEXIST) {
        rc = err_set(err, ERR_IO, "cannot create '%s': %s", o->out_dir,
                     strerror(errno));
        goto out;
    }
    if (o->format == REPORT_HTML) {
        rc = report_write_html(r, o->out_dir, err);
        if (!rc)
            fprintf(out, "%s/index.html\n", o->out_dir);
    } else if (o->out_dir) {
        rc = write_file(r, o->out_dir, o->format, out, err);
    } else {
        rc = o->format == REPORT_JSON  ? report_write_json(r, out, err)
             : o->format == REPORT_CSV ? report_write_csv(r, out, err)
                                       : report_write_md(r, out, err);
    }
    if (!rc)
        *regressed = r->regressed;
out:
    report_free(r);
    return rc;
}
