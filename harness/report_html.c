/*
 * report_html.c - the HTML page of a report: DIR/index.html with its
 * charts beside it as SVG files (plot.c).
 *
 * The page is a list of sections (sections[] below): each is a function
 * that appends its HTML to a buffer, or nothing when it has nothing to
 * say.  To add a section, write one function and add one line.
 *
 * Everything that comes from a database (repository paths, commit
 * subjects, strategy names, miss reasons) goes through report_esc_html();
 * the page has no script, and charts are <img> elements, which cannot run
 * any.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cmd.h"
#include "plot.h"
#include "report.h"

/* Per-build charts: at most this many points (see drawn_make). */
#define MEAN_POINTS 60

/* ---- small helpers ---- */

static void esc(struct buf *b, const char *s)
{
    report_esc_html(b, s ? s : "");
}

static void num(struct buf *b, double v, int decimals)
{
    if (!isfinite(v))
        v = 0;
    if (fabs(v) < 0.5 * pow(10, -decimals))
        v = 0;
    buf_printf(b, "%.*f", decimals, v);
}

static void money(struct buf *b, double v)
{
    report_money(b, v, 0, "&minus;");
}

/* A price or a cost per build: sub-cent amounts keep two digits. */
static void money_fine(struct buf *b, double v)
{
    report_money(b, v, 1, "&minus;");
}

static void date(struct buf *b, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[32];

    if (t <= 0 || !gmtime_r(&tt, &tm) ||
        !strftime(s, sizeof(s), "%Y-%m-%d", &tm)) {
        buf_adds(b, "?");
        return;
    }
    buf_adds(b, s);
}

static const char *bpm_words(const char *source)
{
    if (!strcmp(source, "history"))
        return "the history's own rate";
    if (!strcmp(source, "option"))
        return "given with --builds-per-month";
    return "assumed: the history spans less than a day; pass "
           "--builds-per-month";
}

/* ---- sections ---- */

static void strategy_table(struct buf *b, const struct report_strategy *v,
                           size_t n)
{
    size_t i;

    buf_adds(b, "<table class=\"num\"><thead><tr><th>strategy</th>"
                "<th>builds</th><th>hit rate</th><th>billed min</th>"
                "<th>compute</th><th>storage</th><th>transfer</th>"
                "<th>total</th><th>per build</th><th>per month</th>"
                "<th>saves vs none / month</th><th>cache pays?</th>"
                "<th>per month after free allowance</th>"
                "</tr></thead><tbody>\n");
    for (i = 0; i < n; i++) {
        const struct cost_result *c = &v[i].cost;
        const char *cls = c->verdict == COST_VERDICT_PAYS    ? "pays"
                          : c->verdict == COST_VERDICT_LOSES ? "loses"
                                                             : "";
        buf_adds(b, "<tr><th>");
        esc(b, v[i].name);
        buf_printf(b, "</th><td>%lld", (long long)v[i].usage.builds);
        if (v[i].usage.failed)
            buf_printf(b, " <small>(%lld failed)</small>",
                       (long long)v[i].usage.failed);
        buf_adds(b, "</td><td>");
        num(b, c->hit_rate * 100, 1);
        buf_adds(b, "%</td><td>");
        num(b, c->billed_minutes, 0);
        buf_adds(b, "</td><td>~");
        money(b, c->compute_usd);
        buf_adds(b, "</td><td>~");
        money(b, c->storage_usd);
        buf_adds(b, "</td><td>~");
        money(b, c->transfer_usd);
        buf_adds(b, "</td><td><b>~");
        money(b, c->total_usd);
        buf_adds(b, "</b></td><td>~");
        money_fine(b, c->per_build_usd);
        buf_adds(b, "</td><td>~");
        money(b, c->monthly_usd);
        buf_adds(b, "</td><td>");
        if (c->has_none) {
            buf_adds(b, "~");
            money(b, c->monthly_saving_vs_none_usd);
        } else {
            buf_adds(b, "n/a");
        }
        buf_printf(b, "</td><td class=\"%s\">%s</td><td class=\"allow\">~", cls,
                   cost_verdict_name(c->verdict));
        money(b, c->monthly_after_allowance_usd);
        buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</tbody></table>\n");
}

static void run_line(struct buf *b, const struct report_repo *rr)
{
    buf_adds(b, "<code>");
    esc(b, rr->run.repo);
    buf_adds(b, "</code>, ");
    esc(b, rr->run.dockerfile);
    buf_printf(b, ", run %lld of <code>", (long long)rr->run.id);
    esc(b, rr->db);
    buf_printf(b, "</code>: %lld commits from ", (long long)rr->run.commits);
    date(b, rr->run.first_time);
    buf_adds(b, " to ");
    date(b, rr->run.last_time);
    buf_adds(b, ", ");
    num(b, rr->builds_per_month, 0);
    buf_printf(b, " builds a month (%s)", bpm_words(rr->bpm_source));
}

static void sec_summary(struct buf *b, const struct report *r)
{
    const struct pricing *p = &r->pricing;
    const struct report_strategy *best;
    size_t i, ties = 0;

    buf_adds(b, "<p>");
    if (r->nrepos == 1) {
        run_line(b, &r->repos[0]);
        buf_adds(b, ".");
    } else {
        buf_printf(b, "A fleet of %zu repositories, ", r->nrepos);
        num(b, r->builds_per_month, 0);
        buf_adds(b, " builds a month in all.");
    }
    buf_adds(b, " Prices: <b>");
    esc(b, p->name);
    buf_adds(b, "</b> as of ");
    esc(b, p->date);
    buf_adds(b, ", runner ");
    esc(b, p->runner);
    buf_adds(b, " at ");
    money_fine(b, p->usd_per_minute);
    buf_printf(b, "/min (%s).</p>\n", pricing_billing_name(p->billing));
    best = report_cheapest(r->total, r->ntotal, 0, &ties);
    if (best) {
        buf_adds(b, "<p class=\"lead\">Cheapest: <b>");
        esc(b, best->name);
        buf_adds(b, "</b>");
        if (ties) {
            size_t k = 0;
            buf_adds(b, " (as cheap: ");
            for (i = 0; i < r->ntotal; i++)
                if (&r->total[i] != best &&
                    report_same_cost(&r->total[i], best)) {
                    if (k++)
                        buf_adds(b, ", ");
                    esc(b, r->total[i].name);
                }
            buf_adds(b, ")");
        }
        buf_adds(b, " at ~");
        money_fine(b, best->cost.per_build_usd);
        buf_adds(b, " a build, ~");
        money(b, best->cost.monthly_usd);
        buf_adds(b, " a month at list price");
        if (best->cost.has_none &&
            best->cost.verdict != COST_VERDICT_BASELINE) {
            buf_adds(b, ", ~");
            money(b, best->cost.monthly_saving_vs_none_usd);
            buf_adds(b, " a month less than no cache");
        }
        buf_adds(b, ".</p>\n");
    }
    strategy_table(b, r->total, r->ntotal);
    buf_adds(b, "<p class=\"note\">~ marks an estimate: every figure here "
                "comes from simulated builds at list prices. Totals are "
                "the replayed history; \"per month\" scales it to the "
                "builds a month above, at list price too: what these builds "
                "cost the account. <i>Cache pays?</i>: whether the compute a "
                "strategy saves a month against <code>none</code> is worth "
                "more than the storage and transfers it adds, which is "
                "whether its monthly saving is positive.</p>\n");
    buf_adds(b, "<p class=\"note\">Free allowances are shown apart: ");
    esc(b, p->name);
    if (p->included_minutes > 0)
        buf_printf(b, " includes %.0f minutes a month", p->included_minutes);
    else
        buf_adds(b, " includes no free minutes");
    if (p->billing == PRICING_PARALLEL_JOB)
        buf_printf(b,
                   " and %.0f free parallel jobs (beyond them, whole "
                   "parallel jobs are bought)",
                   p->free_parallel_jobs);
    buf_adds(b, ", and some stores some free egress, for the whole account, "
                "shared with everything else it runs. The last column is "
                "what a month would cost if these builds were all the "
                "account ran.</p>\n");
}

static void sec_compare(struct buf *b, const struct report *r)
{
    size_t i;

    if (!r->compared)
        return;
    buf_adds(b, "<h2 id=\"compare\">Against an earlier run</h2>\n<p><code>");
    esc(b, r->compare_db);
    buf_printf(b, "</code>, run %lld, threshold ", (long long)r->compare_run);
    num(b, r->threshold_pct, 1);
    buf_printf(b, "%%: %s.</p>\n",
               r->regressed ? "<b class=\"loses\">a strategy regressed</b>"
                            : "no regression");
    buf_adds(b, "<table class=\"num\"><thead><tr><th>strategy</th>"
                "<th>per build before</th><th>now</th><th>change</th>"
                "<th>hit rate before</th><th>now</th><th>change</th>"
                "<th></th></tr></thead><tbody>\n");
    for (i = 0; i < r->ndeltas; i++) {
        const struct report_delta *d = &r->deltas[i];
        buf_adds(b, "<tr><th>");
        esc(b, d->name);
        buf_adds(b, "</th>");
        if (!(d->has_old && d->has_new)) {
            buf_printf(b, "<td colspan=\"7\">only in the %s run</td></tr>\n",
                       d->has_new ? "new" : "old");
            continue;
        }
        buf_adds(b, "<td>~");
        money_fine(b, d->old_per_build_usd);
        buf_adds(b, "</td><td>~");
        money_fine(b, d->new_per_build_usd);
        buf_adds(b, "</td><td>");
        num(b, d->per_build_change_pct, 1);
        buf_adds(b, "%</td><td>");
        num(b, d->old_hit_rate * 100, 1);
        buf_adds(b, "%</td><td>");
        num(b, d->new_hit_rate * 100, 1);
        buf_adds(b, "%</td><td>");
        num(b, d->hit_rate_change_pct, 1);
        buf_printf(b, "%%</td><td class=\"%s\">%s</td></tr>\n",
                   d->regressed ? "loses" : "",
                   d->regressed ? "regressed" : "ok");
    }
    buf_adds(b, "</tbody></table>\n");
}

static void sec_repositories(struct buf *b, const struct report *r)
{
    size_t i;

    if (r->nrepos < 2)
        return;
    buf_adds(b, "<h2 id=\"repositories\">Per repository</h2>\n");
    for (i = 0; i < r->nrepos; i++) {
        buf_adds(b, "<h3>");
        esc(b, r->repos[i].run.repo);
        buf_adds(b, "</h3>\n<p>");
        run_line(b, &r->repos[i]);
        buf_adds(b, ".</p>\n");
        strategy_table(b, r->repos[i].strategies, r->repos[i].nstrategies);
    }
}

/* The charts of the report's first repository (the fleet's cost
 * breakdown is the total's); drawn by render_charts() before the page. */
/* The five line charts of one repository; file names "NAME.svg" for a
 * single repository, "rN-NAME.svg" for the Nth of a fleet. */
static const struct {
    const char *name, *title, *xlabel, *ylabel, *alt;
} line_charts[] = {
    { "billed", "Cumulative billed minutes (estimated)", "commits replayed",
      "billed minutes",
      "Cumulative billed minutes per strategy over the commits" },
    { "seconds", "Job seconds per build: pull + build + push", "commit",
      "seconds per build (mean)", "Job seconds per build over the commits" },
    { "hits", "Cache hit rate over time", "commit",
      "steps from a cache, percent", "Cache hit rate over the commits" },
    { "pulled", "Bytes pulled per build", "commit", "MB pulled per build (mean)",
      "MB pulled per build over the commits" },
    { "pushed", "Bytes pushed per build", "commit", "MB pushed per build (mean)",
      "MB pushed per build over the commits" },
};
#define NLINE_CHARTS (sizeof(line_charts) / sizeof(line_charts[0]))

static void chart_file(struct buf *b, const struct report *r, size_t repo,
                       const char *name)
{
    if (r->nrepos > 1)
        buf_printf(b, "r%zu-", repo + 1);
    buf_printf(b, "%s.svg", name);
}

static void repo_heading(struct buf *b, const struct report *r,
                         const struct report_repo *rr);

static void sec_charts(struct buf *b, const struct report *r)
{
    size_t i, j;
    struct buf f = BUF_INIT;

    buf_adds(b, "<h2 id=\"charts\">Charts</h2>\n");
    if (r->charts_note[0]) {
        buf_adds(b, "<p class=\"note\">No charts: ");
        esc(b, r->charts_note);
        buf_adds(b, ".</p>\n");
        return;
    }
    buf_adds(b, "<figure><img src=\"cost.svg\" alt=\"Cost per strategy over "
                "the history, by compute, storage and transfer\" "
                "width=\"960\" height=\"480\"></figure>\n");
    if (r->nrepos > 1)
        buf_adds(b, "<figure><img src=\"repos.svg\" alt=\"Cost per strategy "
                    "over the histories, by repository\" width=\"960\" "
                    "height=\"480\"></figure>\n"
                    "<p class=\"note\">The cost charts are the fleet's "
                    "(each repository by its folder name); the charts over "
                    "the commits follow, per repository.</p>\n");
    for (j = 0; j < r->nrepos; j++) {
        const struct report_repo *rr = &r->repos[j];
        if (!rr->nstrategies || !rr->series.npoints)
            continue;
        repo_heading(b, r, rr);
        if (rr->run.commits > MEAN_POINTS)
            buf_printf(b,
                       "<p class=\"note\">%lld commits: per-build charts "
                       "show means over runs of consecutive commits (at most "
                       "%d points), billed minutes a running total; "
                       "strategies with identical figures share a line, "
                       "named a+b.</p>\n",
                       (long long)rr->run.commits, MEAN_POINTS);
        for (i = 0; i < NLINE_CHARTS; i++) {
            buf_reset(&f);
            chart_file(&f, r, j, line_charts[i].name);
            buf_printf(b, "<figure><img src=\"%s\" alt=\"", f.ptr);
            if (r->nrepos > 1) {
                esc(b, rr->run.repo);
                buf_adds(b, ": ");
            }
            buf_printf(b, "%s\" width=\"960\" height=\"480\"></figure>\n",
                       line_charts[i].alt);
        }
    }
    buf_release(&f);
}

static void repo_heading(struct buf *b, const struct report *r,
                         const struct report_repo *rr)
{
    if (r->nrepos < 2)
        return;
    buf_adds(b, "<h3>");
    esc(b, rr->run.repo);
    buf_adds(b, " <small>(<code>");
    esc(b, rr->db);
    buf_adds(b, "</code>)</small></h3>\n");
}

static void misses_of(struct buf *b, const struct report *r,
                      const struct report_repo *rr);

static void sec_misses(struct buf *b, const struct report *r)
{
    size_t i, any = 0;

    for (i = 0; i < r->nrepos; i++)
        any += r->repos[i].nmisses;
    if (!any)
        return;
    buf_adds(b, "<h2 id=\"misses\">The most expensive misses</h2>\n<p>Steps "
                "that ran instead of coming from a cache, by the simulated "
                "seconds they cost over the history, among the caching "
                "strategies: <code>none</code> builds with "
                "<code>--no-cache</code> and misses every step by "
                "construction, as do the RUN steps of <code>no-cache</code> "
                "and <code>no-cache-legacy</code>, so they are left out; a "
                "strategy marked "
                "<i>never hit</i> missed every step of this run");
    buf_adds(b, r->nrepos > 1 ? "; for each repository.</p>\n" : ".</p>\n");
    for (i = 0; i < r->nrepos; i++)
        misses_of(b, r, &r->repos[i]);
}

static void misses_of(struct buf *b, const struct report *r,
                      const struct report_repo *rr)
{
    size_t i;

    if (!rr->nmisses)
        return;
    repo_heading(b, r, rr);
    buf_adds(b, "<table><thead><tr><th>strategy</th><th>step</th>"
                "<th>builds</th><th>seconds (est.)</th><th>why it missed</th>"
                "</tr></thead><tbody>\n");
    for (i = 0; i < rr->nmisses; i++) {
        const struct store_report_miss *m = &rr->misses[i];
        size_t k;

        buf_adds(b, "<tr><td>");
        esc(b, m->strategy);
        for (k = 0; k < rr->nstrategies; k++)
            if (!strcmp(rr->strategies[k].name, m->strategy) &&
                rr->strategies[k].usage.steps_hit == 0)
                buf_adds(b, " <small>(never hit)</small>");
        buf_adds(b, "</td><td><code>");
        esc(b, m->instruction);
        buf_printf(b,
                   "</code> line %lld</td><td class=\"n\">%lld</td>"
                   "<td class=\"n\">",
                   (long long)m->line, (long long)m->count);
        num(b, m->seconds, 0);
        buf_adds(b, "</td><td>");
        esc(b, m->reason[0] ? m->reason : "-");
        buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</tbody></table>\n");
}

static void sec_staleness(struct buf *b, const struct report *r)
{
    const struct report_repo *rr = &r->repos[0];
    const struct staleness *st = &rr->stale;

    buf_adds(b, "<h2 id=\"staleness\">The price of a fast cache: stale "
                "fetches</h2>\n<p>RUN steps that fetch from the network are "
                "keyed on their text, not on what they fetch: while they hit, "
                "the image keeps the packages of the build that last ran "
                "them. For each such step, how long each strategy reused it "
                "(commits, and days of author time since it last ran).</p>\n");
    if (rr->stale_note[0]) {
        buf_adds(b, "<p>");
        esc(b, rr->stale_note);
        buf_adds(b, "</p>\n");
        return;
    }
    if (!st->n) {
        buf_adds(b, "<p>No RUN step of this run fetches from the "
                    "network.</p>\n");
        return;
    }
    buf_adds(b, "<table><thead><tr><th>strategy</th><th>step</th>"
                "<th>fetch</th><th>runs / builds</th><th>longest reuse "
                "(commits)</th><th>longest reuse (days)</th><th>at the last "
                "commit (commits / days)</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < st->n; i++) {
        const struct staleness_entry *e = &st->entries[i];
        buf_adds(b, "<tr><td>");
        esc(b, e->strategy);
        buf_adds(b, "</td><td><code>");
        esc(b, e->text);
        buf_printf(b, "</code> line %lld</td><td>", (long long)e->line);
        esc(b, e->kind);
        buf_printf(b,
                   "</td><td class=\"n\">%lld / %lld</td><td class=\"n\">"
                   "%lld</td><td class=\"n\">",
                   (long long)e->runs, (long long)e->builds,
                   (long long)e->max_commits);
        num(b, e->max_days, 1);
        buf_printf(b, "</td><td class=\"n\">%lld / ",
                   (long long)e->last_commits);
        num(b, e->last_days, 1);
        buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</tbody></table>\n");
}

static void slowest_of(struct buf *b, const struct report *r,
                       const struct report_repo *rr);

static void sec_slowest(struct buf *b, const struct report *r)
{
    size_t i, any = 0;

    for (i = 0; i < r->nrepos; i++)
        any += r->repos[i].nslowest;
    if (!any)
        return;
    buf_adds(b, "<h2 id=\"slowest\">The slowest commits</h2>\n<p>The commits "
                "whose build took longest with the cheapest cache (a month "
                "at list price, <code>none</code> aside), and how many steps "
                "missed.</p>\n");
    for (i = 0; i < r->nrepos; i++)
        slowest_of(b, r, &r->repos[i]);
}

static void slowest_of(struct buf *b, const struct report *r,
                       const struct report_repo *rr)
{
    size_t i;

    if (!rr->nslowest)
        return;
    repo_heading(b, r, rr);
    buf_adds(b, "<p>Under <b>");
    esc(b, rr->slowest_strategy);
    buf_adds(
        b,
        "</b>:</p>\n<table><thead><tr><th>#</th><th>commit</th><th>subject</th>"
        "<th>build seconds (est.)</th><th>steps missed</th>"
        "</tr></thead><tbody>\n");
    for (i = 0; i < rr->nslowest; i++) {
        const struct store_report_commit *c = &rr->slowest[i];
        buf_printf(b, "<tr><td class=\"n\">%lld</td><td><code>",
                   (long long)c->seq + 1);
        buf_add(b, c->sha, strlen(c->sha) > 10 ? 10 : strlen(c->sha));
        buf_adds(b, "</code></td><td>");
        esc(b, c->subject);
        buf_adds(b, "</td><td class=\"n\">");
        num(b, c->seconds, 1);
        buf_printf(b, "</td><td class=\"n\">%lld</td></tr>\n",
                   (long long)c->steps_miss);
    }
    buf_adds(b, "</tbody></table>\n");
}

static void figure_row(struct buf *b, const struct pricing *p,
                       const char *figure, const char *what, double v,
                       const char *unit)
{
    int est = 0;
    const char *note = pricing_figure_note(p, figure, &est);

    buf_adds(b, "<tr><td>");
    buf_adds(b, what);
    buf_adds(b, "</td><td class=\"n\">");
    buf_printf(b, "%g", v);
    buf_printf(b, " %s</td><td>", unit);
    if (!note) {
        buf_adds(b, "not charged by this profile");
    } else if (est) {
        buf_adds(b, "<b>estimate</b>: ");
        esc(b, note);
    } else {
        buf_adds(b, "<a href=\"");
        esc(b, note);
        buf_adds(b, "\">");
        esc(b, note);
        buf_adds(b, "</a>");
    }
    buf_adds(b, "</td></tr>\n");
}

static void sec_assumptions(struct buf *b, const struct report *r)
{
    const struct pricing *p = &r->pricing;
    const struct report_repo *rr = &r->repos[0];
    size_t i;

    buf_adds(b, "<h2 id=\"assumptions\">Assumptions and sources</h2>\n<ul>\n"
                "<li>A job is ");
    buf_adds(b, rr->transfer_seconds
                    ? "the pull before the build + the build + the push "
                      "after it"
                    : "the build's simulated seconds (this database's "
                      "schema counts the pull and the push in them)");
    buf_adds(b, " + the runner's start-up; ");
    buf_adds(b, p->billing == PRICING_PER_JOB_MINUTE
                    ? "each job is rounded up to whole minutes."
                : p->billing == PRICING_PER_SECOND
                    ? "billed per second."
                    : "billed as parallel jobs bought by the month.");
    buf_adds(
        b,
        "</li>\n<li>Seconds and bytes come from harness's build model "
        "(doc/model.md): they are simulated, not measured.</li>\n"
        "<li>Images live in the registry; the cache of the persistent "
        "runners (local, local-legacy, no-cache) on their disk, of gha and local-dir in "
        "the GitHub Actions cache, of s3 in S3, of the registry "
        "strategies in the registry. A pulled blob is one GET, a "
        "pushed blob one PUT.</li>\n"
        "<li>Storage is kept from one build to the next, at ");
    num(b, r->builds_per_month, 0);
    buf_adds(b, " builds a month; a month's storage is what is stored after "
                "the last build.</li>\n");
    for (i = 0; i < p->nnotes; i++) {
        buf_adds(b, "<li>");
        esc(b, p->notes[i]);
        buf_adds(b, "</li>\n");
    }
    buf_adds(b, "</ul>\n<h3>Prices of ");
    esc(b, p->name);
    buf_adds(b, " (");
    esc(b, p->date);
    buf_adds(b, ")</h3>\n");
    if (p->description) {
        buf_adds(b, "<p>");
        esc(b, p->description);
        buf_adds(b, "</p>\n");
    }
    buf_adds(b, "<table><thead><tr><th>figure</th><th>value</th>"
                "<th>source</th></tr></thead><tbody>\n");
    figure_row(b, p, "compute.usd_per_minute", "compute, USD per minute",
               p->usd_per_minute, "");
    figure_row(b, p, "compute.startup_seconds", "runner start-up per job",
               p->startup_seconds, "s");
    figure_row(b, p, "compute.included_minutes", "included minutes a month",
               p->included_minutes, "min");
    if (p->billing == PRICING_PARALLEL_JOB) {
        figure_row(b, p, "compute.parallel_job_usd_month",
                   "a parallel job, USD a month", p->parallel_job_usd_month,
                   "");
        figure_row(b, p, "compute.parallel_job_minutes_month",
                   "minutes one parallel job delivers a month",
                   p->parallel_job_minutes_month, "min");
    }
    for (i = 0; i < PRICING_NSTORES; i++) {
        const struct pricing_backend *be = &p->store[i];
        char f1[64], f2[64];
        struct buf what = BUF_INIT;

        snprintf(f1, sizeof(f1), "%s.storage_usd_per_gb_month",
                 pricing_store_name((enum pricing_store)i));
        snprintf(f2, sizeof(f2), "%s.egress_usd_per_gb",
                 pricing_store_name((enum pricing_store)i));
        esc(&what,
            be->name ? be->name : pricing_store_name((enum pricing_store)i));
        buf_adds(&what, ": storage, USD per GB-month");
        figure_row(b, p, f1, what.ptr, be->storage_usd_per_gb_month, "");
        buf_reset(&what);
        esc(&what,
            be->name ? be->name : pricing_store_name((enum pricing_store)i));
        buf_adds(&what, ": egress, USD per GB");
        figure_row(b, p, f2, what.ptr, be->egress_usd_per_gb, "");
        buf_release(&what);
    }
    buf_adds(b, "</tbody></table>\n<h3>Sources</h3>\n<ul>\n");
    for (i = 0; i < p->nsources; i++) {
        const struct pricing_source *s = &p->sources[i];
        buf_adds(b, "<li><a href=\"");
        esc(b, s->url);
        buf_adds(b, "\">");
        esc(b, s->url);
        buf_adds(b, "</a>");
        if (s->date) {
            buf_adds(b, " (");
            esc(b, s->date);
            buf_adds(b, ")");
        }
        if (s->note) {
            buf_adds(b, ": ");
            esc(b, s->note);
        }
        buf_adds(b, "</li>\n");
    }
    buf_adds(b, "</ul>\n<h3>Estimates</h3>\n<ul>\n");
    for (i = 0; i < p->nestimates; i++) {
        buf_adds(b, "<li><code>");
        esc(b, p->estimates[i].figure);
        buf_adds(b, "</code>: ");
        esc(b, p->estimates[i].why);
        buf_adds(b, "</li>\n");
    }
    buf_adds(b, "</ul>\n");
}

/* The page, in order.  Add a section here. */
static const struct {
    const char *name;
    void (*write)(struct buf *b, const struct report *r);
} sections[] = {
    { "summary", sec_summary }, { "compare", sec_compare },
    { "charts", sec_charts },   { "repositories", sec_repositories },
    { "misses", sec_misses },   { "staleness", sec_staleness },
    { "slowest", sec_slowest }, { "assumptions", sec_assumptions },
};

/* ---- charts ---- */

/* Chart series as drawn: strategies whose points are all equal share one
 * line ("inline+gha+s3"), and mean charts are smoothed to at most
 * MEAN_POINTS points so that a line per strategy stays readable. */

struct drawn {
    size_t n, np;
    const char *names[REPORT_MAX_STRATEGIES];
    struct buf labels[REPORT_MAX_STRATEGIES];
    double *x, *y; /* [series * np + point] */
};

static void drawn_make(struct drawn *d, const struct report_repo *rr,
                       const double *src, double scale, int smooth)
{
    const struct report_series *s = &rr->series;
    size_t ns = rr->nstrategies, np = s->npoints, group = 1, i, j, k;
    double *y;
    int used[REPORT_MAX_STRATEGIES] = { 0 };

    memset(d, 0, sizeof(*d));
    if (smooth && np > MEAN_POINTS)
        group = (np + MEAN_POINTS - 1) / MEAN_POINTS;
    d->np = (np + group - 1) / group;
    d->x = xcalloc(d->np + 1, sizeof(double));
    y = xcalloc(ns * d->np + 1, sizeof(double));
    for (k = 0; k < d->np; k++) {
        size_t last = (k + 1) * group < np ? (k + 1) * group : np;
        d->x[k] = (double)s->seq_end[last - 1];
        for (i = 0; i < ns; i++) {
            double sum = 0;
            for (j = k * group; j < last; j++)
                sum += src[i * np + j];
            y[i * d->np + k] = sum / (double)(last - k * group) * scale;
        }
    }
    d->y = xcalloc(ns * d->np + 1, sizeof(double));
    for (i = 0; i < ns; i++) {
        if (used[i])
            continue;
        buf_init(&d->labels[d->n]);
        buf_adds(&d->labels[d->n], rr->strategies[i].name);
        memcpy(d->y + d->n * d->np, y + i * d->np, d->np * sizeof(double));
        for (j = i + 1; j < ns; j++) {
            for (k = 0; k < d->np; k++)
                if (fabs(y[i * d->np + k] - y[j * d->np + k]) >
                    1e-9 * (fabs(y[i * d->np + k]) + 1))
                    break;
            if (k == d->np) {
                used[j] = 1;
                buf_addch(&d->labels[d->n], '+');
                buf_adds(&d->labels[d->n], rr->strategies[j].name);
            }
        }
        d->names[d->n] = d->labels[d->n].ptr;
        d->n++;
    }
    free(y);
}

static void drawn_release(struct drawn *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        buf_release(&d->labels[i]);
    free(d->x);
    free(d->y);
}

/* A chart title naming a fleet's repository: the characters gnuplot's
 * titles may hold (plot.c refuses the rest), at most 60 of its last. */
static void chart_title(struct buf *b, const struct report *r,
                        const struct report_repo *rr, const char *title)
{
    const char *s = rr->run.repo;
    size_t n = strlen(s);

    if (r->nrepos > 1) {
        if (n > 60)
            s += n - 60;
        for (; *s; s++)
            buf_addch(b, (unsigned char)*s < 0x20 || strchr("\"\\`@$", *s)
                             ? '_'
                             : *s);
        buf_adds(b, ": ");
    }
    buf_adds(b, title);
}

/* The last folder name of a repository's path ("api" for ../org/api/),
 * in n bytes at *s. */
static void repo_base(const char *path, const char **s, size_t *n)
{
    size_t len = strlen(path);
    const char *p;

    while (len > 1 && path[len - 1] == '/')
        len--;
    for (p = path + len; p > path && p[-1] != '/'; p--)
        ;
    *s = p;
    *n = (size_t)(path + len - p);
}

/* A fleet's repository in a legend: its folder name, with its place in the
 * fleet when another repository has the same folder name. */
static void repo_label(struct buf *b, const struct report *r, size_t j)
{
    const char *s, *t;
    size_t n, m, k;
    int twin = 0;

    repo_base(r->repos[j].run.repo, &s, &n);
    for (k = 0; k < r->nrepos; k++) {
        repo_base(r->repos[k].run.repo, &t, &m);
        if (k != j && m == n && !memcmp(s, t, n))
            twin = 1;
    }
    buf_add(b, s, n);
    if (twin || !n)
        buf_printf(b, "-%zu", j + 1);
}

static void render_charts(struct report *r, const char *dir)
{
    size_t nt = r->ntotal, nr = r->nrepos, i, j, k, nc = 0;
    const char *tnames[REPORT_MAX_STRATEGIES];
    double *cost = xcalloc(3 * nt + 1, sizeof(double));
    double *per_repo = xcalloc(nr * nt + 1, sizeof(double));
    static const char *const parts[] = { "compute", "storage", "transfer" };
    const char **rnames = xcalloc(nr + 1, sizeof(*rnames));
    struct drawn *d = xcalloc(nr * NLINE_CHARTS + 1, sizeof(*d));
    struct buf *names = xcalloc(2 * nr * NLINE_CHARTS + 1, sizeof(*names));
    struct buf *rlabels = xcalloc(nr + 1, sizeof(*rlabels));
    struct plot_chart *charts =
        xcalloc(2 + nr * NLINE_CHARTS, sizeof(*charts));
    struct err err = ERR_INIT;
    int drawable = 0;

    for (i = 0; i < nt; i++) {
        tnames[i] = r->total[i].name;
        cost[0 * nt + i] = r->total[i].cost.compute_usd;
        cost[1 * nt + i] = r->total[i].cost.storage_usd;
        cost[2 * nt + i] = r->total[i].cost.transfer_usd;
    }
    charts[nc++] = (struct plot_chart){
        .file = "cost.svg",
        .title = nr > 1 ? "Estimated cost over the replayed histories, the "
                          "fleet's total"
                        : "Estimated cost over the replayed history",
        .xlabel = "",
        .ylabel = "USD (list price)",
        .kind = PLOT_STACKED,
        .npoints = nt,
        .x_labels = tnames,
        .nseries = 3,
        .names = parts,
        .y = cost,
        .money_y = 1,
    };
    if (nr > 1) {
        /* each strategy's bar split by repository */
        for (j = 0; j < nr; j++) {
            const struct report_repo *rr = &r->repos[j];
            buf_init(&rlabels[j]);
            repo_label(&rlabels[j], r, j);
            rnames[j] = rlabels[j].ptr;
            for (i = 0; i < nt; i++)
                for (k = 0; k < rr->nstrategies; k++)
                    if (!strcmp(rr->strategies[k].name, r->total[i].name))
                        per_repo[j * nt + i] = rr->strategies[k].cost.total_usd;
        }
        charts[nc++] = (struct plot_chart){
            .file = "repos.svg",
            .title = "Estimated cost over the replayed histories, by "
                     "repository",
            .xlabel = "",
            .ylabel = "USD (list price)",
            .kind = PLOT_STACKED,
            .npoints = nt,
            .x_labels = tnames,
            .nseries = nr,
            .names = rnames,
            .y = per_repo,
            .money_y = 1,
        };
    }
    for (j = 0; j < nr; j++) {
        const struct report_repo *rr = &r->repos[j];
        const struct report_series *s = &rr->series;
        const double *src[NLINE_CHARTS] = { s->cum_billed_minutes,
                                            s->build_seconds, s->hit_rate,
                                            s->mb_pulled, s->mb_pushed };
        if (!rr->nstrategies || !s->npoints)
            continue;
        drawable = 1;
        for (k = 0; k < NLINE_CHARTS; k++) {
            struct drawn *dd = &d[j * NLINE_CHARTS + k];
            struct buf *file = &names[2 * (j * NLINE_CHARTS + k)];
            struct buf *title = file + 1;
            drawn_make(dd, rr, src[k], k == 2 ? 100 : 1, k != 0);
            buf_init(file);
            buf_init(title);
            chart_file(file, r, j, line_charts[k].name);
            chart_title(title, r, rr, line_charts[k].title);
            charts[nc++] = (struct plot_chart){
                .file = file->ptr,
                .title = title->ptr,
                .xlabel = line_charts[k].xlabel,
                .ylabel = line_charts[k].ylabel,
                .kind = PLOT_LINES,
                .npoints = dd->np,
                .x = dd->x,
                .nseries = dd->n,
                .names = dd->names,
                .y = dd->y,
                .percent_y = k == 2,
            };
        }
    }
    if (!drawable)
        snprintf(r->charts_note, sizeof(r->charts_note),
                 "the run has no builds to draw");
    else if (plot_render(dir, charts, nc, &err))
        snprintf(r->charts_note, sizeof(r->charts_note), "%.500s%s%.300s",
                 err.msg, err.hint[0] ? "; " : "", err.hint);
    for (j = 0; j < nr * NLINE_CHARTS; j++)
        if (d[j].x)
            drawn_release(&d[j]);
    for (j = 0; j < 2 * nr * NLINE_CHARTS; j++)
        buf_release(&names[j]);
    for (j = 0; j < nr; j++)
        buf_release(&rlabels[j]);
    free(charts);
    free(rlabels);
    free(names);
    free(d);
    free(rnames);
    free(per_repo);
    free(cost);
}

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "margin:2em auto;max-width:1100px;padding:0 1em;color:#1b1b1b}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;"
    "border-bottom:1px solid #ddd;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.92em}"
    "th,td{padding:.3em .6em;border-bottom:1px solid #e5e5e5;"
    "text-align:left;vertical-align:top}thead th{background:#f4f4f4}"
    "table.num td,td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tbody th,td.pays,td.loses,td.n{white-space:nowrap}"
    "td.allow{color:#555}td.pays{color:#1a7f37;font-weight:600}td.loses,b.loses{color:#c62828;"
    "font-weight:600}p.note{color:#555;font-size:.9em}"
    "p.lead{font-size:1.1em}figure{margin:1em 0}"
    "img{max-width:100%;height:auto;border:1px solid #eee}"
    "code{font-size:.92em}nav a{margin-right:1em}";

int report_write_html(struct report *r, const char *dir, struct err *err)
{
    struct buf b = BUF_INIT, path = BUF_INIT;
    FILE *fp;
    size_t i;
    int rc = 0, ok;

    render_charts(r, dir);
    buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                 "charset=\"utf-8\">\n<meta name=\"viewport\" "
                 "content=\"width=device-width,initial-scale=1\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" "
                 "content=\"default-src 'none'; img-src 'self'; "
                 "style-src 'unsafe-inline'\">\n<title>Build cache cost: ");
    esc(&b, r->nrepos == 1 ? r->repos[0].run.repo : "fleet");
    buf_printf(&b, "</title>\n<style>%s</style></head><body>\n", css);
    buf_adds(&b, "<h1>What each caching strategy costs</h1>\n<nav>");
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strcmp(sections[i].name, "summary") &&
            (strcmp(sections[i].name, "compare") || r->compared) &&
            (strcmp(sections[i].name, "repositories") || r->nrepos > 1))
            buf_printf(&b, "<a href=\"#%s\">%s</a>", sections[i].name,
                       sections[i].name);
    buf_adds(&b, "</nav>\n");
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        sections[i].write(&b, r);
    buf_adds(&b, "<p class=\"note\">Made by harness " HARNESS_VERSION
                 " (harness report).</p>\n</body></html>\n");
    buf_printf(&path, "%s/index.html", dir);
    fp = fopen(path.ptr, "w");
    if (!fp) {
        rc = err_set(err, ERR_IO, "cannot write '%s': %s", path.ptr,
                     strerror(errno));
        goto out;
    }
    ok = fwrite(b.ptr, 1, b.len, fp) == b.len;
    if (fclose(fp) || !ok)
        rc = err_set(err, ERR_IO, "cannot write '%s': %s", path.ptr,
                     strerror(errno));
out:
    buf_release(&b);
    buf_release(&path);
    return rc;
}
