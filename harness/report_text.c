/*
 * report_text.c - a report as JSON, Markdown or CSV (see report.h).
 *
 * Repository paths and strategy names come from the database and are
 * untrusted: each writer escapes them for its format (Markdown tables
 * lose their pipes, backquotes and HTML; CSV cells are quoted and a
 * leading = + - @ cannot start a spreadsheet formula).
 *
 * The JSON keys are an interface (doc/pricing.md, the man page): add keys,
 * never rename them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "report.h"

/* ---- escaping ---- */

void report_esc_html(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            buf_adds(b, "&lt;");
            break;
        case '>':
            buf_adds(b, "&gt;");
            break;
        case '&':
            buf_adds(b, "&amp;");
            break;
        case '"':
            buf_adds(b, "&quot;");
            break;
        case '\'':
            buf_adds(b, "&#39;");
            break;
        default:
            buf_addch(b, *s);
        }
    }
}

void report_esc_md(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t')
            buf_addch(b, ' ');
        else if (*s == '<')
            buf_adds(b, "&lt;");
        else if (*s == '>')
            buf_adds(b, "&gt;");
        else if (*s == '&')
            buf_adds(b, "&amp;");
        else if (strchr("\\`*_[]|~$", *s)) {
            buf_addch(b, '\\');
            buf_addch(b, *s);
        } else
            buf_addch(b, *s);
    }
}

void report_esc_csv(struct buf *b, const char *s)
{
    buf_addch(b, '"');
    if (strchr("=+-@\t\r", *s) && *s)
        buf_addch(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            buf_addch(b, '"');
        buf_addch(b, *s);
    }
    buf_addch(b, '"');
}

/* ---- numbers ---- */

void report_money(struct buf *b, double v, int fine, const char *minus)
{
    char d[64];
    double a = isfinite(v) ? fabs(v) : 0;
    int dec = 2, n, len, i;

    if (a < 5e-9) /* rounding noise of the arithmetic, not money */
        a = v = 0;
    if (a > 0 && a < 1 && fine) {
        /* two significant digits: 0.0069, 0.012, 0.15 */
        int e = (int)floor(log10(a));
        double unit = pow(10, e - 1);
        if (round(a / unit) * unit >= pow(10, e + 1))
            e++;
        dec = 1 - e;
        if (dec < 2)
            dec = 2;
        if (dec > 8)
            dec = 8;
    } else if (a > 0 && a < 0.005) {
        buf_adds(b, v < 0 ? ">" : "<");
        if (v < 0)
            buf_adds(b, minus);
        buf_adds(b, "$0.01");
        return;
    }
    n = snprintf(d, sizeof(d), "%.*f", dec, a);
    if (n <= 0 || n >= (int)sizeof(d)) {
        buf_adds(b, "$?");
        return;
    }
    if (strspn(d, "0.") == (size_t)n) {
        buf_adds(b, "$0.00"); /* never "-$0.00" */
        return;
    }
    if (v < 0)
        buf_adds(b, minus);
    buf_addch(b, '$');
    len = (int)strcspn(d, ".");
    for (i = 0; i < n; i++) {
        if (i > 0 && i < len && (len - i) % 3 == 0)
            buf_addch(b, ',');
        buf_addch(b, d[i]);
    }
}

static void num(struct buf *b, double v, int decimals)
{
    if (!isfinite(v))
        v = 0;
    if (fabs(v) < 0.5 * pow(10, -decimals))
        v = 0; /* no "-0.0000" */
    buf_printf(b, "%.*f", decimals, v);
}

static int flush(struct buf *b, FILE *fp, struct err *err)
{
    int rc = 0;

    if (fwrite(b->ptr ? b->ptr : "", 1, b->len, fp) != b->len || fflush(fp))
        rc = err_set(err, ERR_IO, "cannot write the report: %s",
                     strerror(errno));
    buf_release(b);
    return rc;
}

/* ---- JSON ---- */

static void json_kv_num(struct buf *b, const char *k, double v, int dec)
{
    buf_printf(b, "\"%s\": ", k);
    num(b, v, dec);
}

static void json_strategy(struct buf *b, const struct report_strategy *s,
                          const char *indent)
{
    const struct cost_result *c = &s->cost;

    buf_printf(b, "%s{\"strategy\": ", indent);
    buf_add_json_str(b, s->name);
    buf_printf(b, ", \"builds\": %lld, \"failed\": %lld, ",
               (long long)s->usage.builds, (long long)s->usage.failed);
    json_kv_num(b, "hit_rate", c->hit_rate, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "build_minutes", c->build_minutes, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "job_minutes", c->job_minutes, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "billed_minutes", c->billed_minutes, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "storage_gb_months", c->storage_gb_months, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "transfer_gb", c->transfer_gb, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "requests", c->requests, 0);
    buf_adds(b, ", ");
    json_kv_num(b, "compute_usd", c->compute_usd, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "storage_usd", c->storage_usd, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "transfer_usd", c->transfer_usd, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "total_usd", c->total_usd, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "per_build_usd", c->per_build_usd, 6);
    buf_adds(b, ", ");
    json_kv_num(b, "monthly_usd", c->monthly_usd, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "monthly_compute_usd", c->monthly_compute_usd, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "monthly_storage_usd", c->monthly_storage_usd, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "monthly_transfer_usd", c->monthly_transfer_usd, 2);
    buf_adds(b, ", ");
    json_kv_num(b, "monthly_after_allowance_usd",
                c->monthly_after_allowance_usd, 2);
    if (c->has_none) {
        buf_adds(b, ", ");
        json_kv_num(b, "saving_vs_none_usd", c->saving_vs_none_usd, 4);
        buf_adds(b, ", ");
        json_kv_num(b, "monthly_saving_vs_none_usd",
                    c->monthly_saving_vs_none_usd, 2);
    } else {
        buf_adds(b, ", \"saving_vs_none_usd\": null,"
                    " \"monthly_saving_vs_none_usd\": null");
    }
    buf_printf(b, ", \"break_even\": \"%s\", \"estimated\": true}",
               cost_verdict_name(c->verdict));
}

static void json_strategies(struct buf *b, const struct report_strategy *v,
                            size_t n, const char *indent)
{
    size_t i;

    buf_adds(b, "[\n");
    for (i = 0; i < n; i++) {
        json_strategy(b, &v[i], indent);
        buf_adds(b, i + 1 < n ? ",\n" : "\n");
    }
    buf_printf(b, "%.*s]", (int)strlen(indent) - 2, indent);
}

static void json_run(struct buf *b, const struct report_repo *rr)
{
    buf_printf(b, "{\"id\": %lld, \"db\": ", (long long)rr->run.id);
    buf_add_json_str(b, rr->db);
    buf_adds(b, ", \"repo\": ");
    buf_add_json_str(b, rr->run.repo);
    buf_adds(b, ", \"dockerfile\": ");
    buf_add_json_str(b, rr->run.dockerfile);
    buf_printf(b,
               ", \"commits\": %lld, \"builds\": %lld, \"first_commit_time\": "
               "%lld, \"last_commit_time\": %lld, \"schema\": %d, ",
               (long long)rr->run.commits, (long long)rr->run.builds,
               (long long)rr->run.first_time, (long long)rr->run.last_time,
               rr->schema);
    json_kv_num(b, "builds_per_month", rr->builds_per_month, 1);
    buf_printf(b, ", \"builds_per_month_from\": \"%s\"", rr->bpm_source);
    buf_printf(b, ", \"job_seconds\": \"%s\"}",
               rr->transfer_seconds ? "pull_seconds + seconds + push_seconds "
                                      "+ startup_seconds"
                                    : "seconds (transfers included) + "
                                      "startup_seconds");
}

/* "staleness": network fetches reused from a cache, per strategy. */
static void json_staleness(struct buf *b, const struct report_repo *rr)
{
    const struct staleness *st = &rr->stale;

    buf_adds(b, "{\"note\": ");
    if (rr->stale_note[0])
        buf_add_json_str(b, rr->stale_note);
    else
        buf_adds(b, "null");
    buf_adds(b, ", \"steps\": [");
    for (size_t i = 0; i < st->n; i++) {
        const struct staleness_entry *e = &st->entries[i];
        buf_adds(b, i ? ",\n    {\"strategy\": " : "\n    {\"strategy\": ");
        buf_add_json_str(b, e->strategy);
        buf_printf(b, ", \"line\": %lld, \"fetch\": ", (long long)e->line);
        buf_add_json_str(b, e->kind);
        buf_adds(b, ", \"instruction\": ");
        buf_add_json_str(b, e->text);
        buf_printf(b,
                   ", \"builds\": %lld, \"runs\": %lld, \"hits\": %lld, "
                   "\"max_commits\": %lld, \"max_days\": %.2f, "
                   "\"last_commits\": %lld, \"last_days\": %.2f}",
                   (long long)e->builds, (long long)e->runs, (long long)e->hits,
                   (long long)e->max_commits, e->max_days,
                   (long long)e->last_commits, e->last_days);
    }
    buf_adds(b, st->n ? "\n  ]}" : "]}");
}

static void json_pricing(struct buf *b, const struct pricing *p)
{
    size_t i, j;

    buf_adds(b, "{\"name\": ");
    buf_add_json_str(b, p->name);
    buf_adds(b, ", \"date\": ");
    buf_add_json_str(b, p->date);
    buf_adds(b, ", \"file\": ");
    buf_add_json_str(b, p->path);
    buf_printf(b, ", \"billing\": \"%s\", \"runner\": ",
               pricing_billing_name(p->billing));
    buf_add_json_str(b, p->runner);
    buf_adds(b, ", ");
    json_kv_num(b, "usd_per_minute", p->usd_per_minute, 4);
    buf_adds(b, ", ");
    json_kv_num(b, "startup_seconds", p->startup_seconds, 1);
    buf_adds(b, ", ");
    json_kv_num(b, "included_minutes", p->included_minutes, 0);
    buf_adds(b, ",\n    \"sources\": [");
    for (i = 0; i < p->nsources; i++) {
        const struct pricing_source *s = &p->sources[i];
        buf_adds(b, i ? ",\n      {\"url\": " : "\n      {\"url\": ");
        buf_add_json_str(b, s->url);
        buf_adds(b, ", \"date\": ");
        buf_add_json_str(b, s->date ? s->date : "");
        buf_adds(b, ", \"note\": ");
        buf_add_json_str(b, s->note ? s->note : "");
        buf_adds(b, ", \"figures\": [");
        for (j = 0; j < s->nfigures; j++) {
            if (j)
                buf_adds(b, ", ");
            buf_add_json_str(b, s->figures[j]);
        }
        buf_adds(b, "]}");
    }
    buf_adds(b, "],\n    \"estimates\": [");
    for (i = 0; i < p->nestimates; i++) {
        buf_adds(b, i ? ",\n      {\"figure\": " : "\n      {\"figure\": ");
        buf_add_json_str(b, p->estimates[i].figure);
        buf_adds(b, ", \"why\": ");
        buf_add_json_str(b, p->estimates[i].why);
        buf_adds(b, "}");
    }
    buf_adds(b, "]}");
}

int report_write_json(const struct report *r, FILE *fp, struct err *err)
{
    struct buf b = BUF_INIT;
    size_t i;

    buf_adds(&b, "{\n  \"run\": ");
    json_run(&b, &r->repos[0]);
    buf_adds(&b, ",\n  \"pricing\": ");
    json_pricing(&b, &r->pricing);
    buf_adds(&b, ",\n  \"estimated\": true,\n  ");
    json_kv_num(&b, "builds_per_month", r->builds_per_month, 1);
    buf_adds(&b, ",\n  \"strategies\": ");
    json_strategies(&b, r->total, r->ntotal, "    ");
    buf_adds(&b, ",\n  \"staleness\": ");
    json_staleness(&b, &r->repos[0]);
    if (r->nrepos > 1) {
        buf_adds(&b, ",\n  \"repositories\": [\n");
        for (i = 0; i < r->nrepos; i++) {
            buf_adds(&b, "    {\"run\": ");
            json_run(&b, &r->repos[i]);
            buf_adds(&b, ",\n     \"strategies\": ");
            json_strategies(&b, r->repos[i].strategies, r->repos[i].nstrategies,
                            "        ");
            buf_adds(&b, i + 1 < r->nrepos ? "},\n" : "}\n");
        }
        buf_adds(&b, "  ]");
    }
    if (r->compared) {
        buf_adds(&b, ",\n  \"compare\": {\"db\": ");
        buf_add_json_str(&b, r->compare_db);
        buf_printf(&b, ", \"run\": %lld, ", (long long)r->compare_run);
        json_kv_num(&b, "threshold_pct", r->threshold_pct, 2);
        buf_printf(&b, ", \"regressed\": %s, \"strategies\": [\n",
                   r->regressed ? "true" : "false");
        for (i = 0; i < r->ndeltas; i++) {
            const struct report_delta *d = &r->deltas[i];
            buf_adds(&b, "    {\"strategy\": ");
            buf_add_json_str(&b, d->name);
            if (d->has_old && d->has_new) {
                buf_adds(&b, ", ");
                json_kv_num(&b, "old_per_build_usd", d->old_per_build_usd, 6);
                buf_adds(&b, ", ");
                json_kv_num(&b, "new_per_build_usd", d->new_per_build_usd, 6);
                buf_adds(&b, ", ");
                json_kv_num(&b, "per_build_change_pct", d->per_build_change_pct,
                            2);
                buf_adds(&b, ", ");
                json_kv_num(&b, "old_hit_rate", d->old_hit_rate, 4);
                buf_adds(&b, ", ");
                json_kv_num(&b, "new_hit_rate", d->new_hit_rate, 4);
                buf_adds(&b, ", ");
                json_kv_num(&b, "hit_rate_change_pct", d->hit_rate_change_pct,
                            2);
            }
            buf_printf(&b, ", \"only_in\": %s, \"regressed\": %s}%s\n",
                       d->has_old && d->has_new ? "null"
                       : d->has_new             ? "\"new\""
                                                : "\"old\"",
                       d->regressed ? "true" : "false",
                       i + 1 < r->ndeltas ? "," : "");
        }
        buf_adds(&b, "  ]}");
    }
    buf_adds(&b, "\n}\n");
    return flush(&b, fp, err);
}

/* ---- Markdown ---- */

static void md_money(struct buf *b, double v)
{
    report_money(b, v, 0, "-");
}

static void md_table(struct buf *b, const struct report_strategy *v, size_t n)
{
    size_t i;

    buf_adds(
        b, "| strategy | builds | hit rate | billed min | compute | "
           "storage | transfer | total | per build | per month "
           "| saves vs none, per month | cache pays? | per month after free "
           "allowance |\n"
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|\n");
    for (i = 0; i < n; i++) {
        const struct cost_result *c = &v[i].cost;
        buf_adds(b, "| ");
        report_esc_md(b, v[i].name);
        buf_printf(b, " | %lld", (long long)v[i].usage.builds);
        if (v[i].usage.failed)
            buf_printf(b, " (%lld failed)", (long long)v[i].usage.failed);
        buf_adds(b, " | ");
        num(b, c->hit_rate * 100, 1);
        buf_adds(b, "% | ");
        num(b, c->billed_minutes, 0);
        buf_adds(b, " | ");
        md_money(b, c->compute_usd);
        buf_adds(b, " | ");
        md_money(b, c->storage_usd);
        buf_adds(b, " | ");
        md_money(b, c->transfer_usd);
        buf_adds(b, " | **");
        md_money(b, c->total_usd);
        buf_adds(b, "** | ");
        report_money(b, c->per_build_usd, 1, "-");
        buf_adds(b, " | ");
        md_money(b, c->monthly_usd);
        buf_adds(b, " | ");
        if (c->has_none)
            md_money(b, c->monthly_saving_vs_none_usd);
        else
            buf_adds(b, "n/a");
        buf_printf(b, " | %s | ", cost_verdict_name(c->verdict));
        md_money(b, c->monthly_after_allowance_usd);
        buf_adds(b, " |\n");
    }
}

/* What the last column means, with the profile's allowances. */
static void md_allowance(struct buf *b, const struct pricing *p)
{
    buf_adds(b, " the last column subtracts the account's monthly free "
                "allowance (");
    if (p->included_minutes > 0)
        buf_printf(b, "%.0f included minutes, ", p->included_minutes);
    if (p->billing == PRICING_PARALLEL_JOB)
        buf_printf(b, "%.0f free parallel jobs, whole jobs bought, ",
                   p->free_parallel_jobs);
    buf_adds(b, "free egress) as if these builds were all the account "
                "ran.");
}

static void md_run_line(struct buf *b, const struct report_repo *rr)
{
    report_esc_md(b, rr->run.repo);
    buf_adds(b, " (");
    report_esc_md(b, rr->run.dockerfile);
    buf_printf(b, ", run %lld): %lld commits, ", (long long)rr->run.id,
               (long long)rr->run.commits);
    num(b, rr->builds_per_month, 0);
    buf_printf(b, " builds per month (%s)",
               !strcmp(rr->bpm_source, "history")  ? "the history's rate"
               : !strcmp(rr->bpm_source, "option") ? "--builds-per-month"
                                                   : "assumed");
}

int report_write_md(const struct report *r, FILE *fp, struct err *err)
{
    struct buf b = BUF_INIT;
    const struct pricing *p = &r->pricing;
    size_t i;

    buf_adds(&b, "## What each caching strategy costs (estimated)\n\n");
    if (r->nrepos == 1) {
        md_run_line(&b, &r->repos[0]);
        buf_adds(&b, ".\n");
    } else {
        buf_printf(&b, "%zu repositories, ", r->nrepos);
        num(&b, r->builds_per_month, 0);
        buf_adds(&b, " builds per month in total.\n");
    }
    buf_adds(&b, "Prices: ");
    report_esc_md(&b, p->name);
    buf_adds(&b, " as of ");
    report_esc_md(&b, p->date);
    buf_adds(&b, ", runner ");
    report_esc_md(&b, p->runner);
    buf_printf(&b,
               " (%s). Every figure is an estimate: simulated builds "
               "at list prices. Per month is at list price too, and so are "
               "the saving and the verdict;",
               pricing_billing_name(p->billing));
    md_allowance(&b, p);
    buf_adds(&b, "\n\n");
    md_table(&b, r->total, r->ntotal);
    if (r->nrepos > 1) {
        for (i = 0; i < r->nrepos; i++) {
            buf_adds(&b, "\n### ");
            md_run_line(&b, &r->repos[i]);
            buf_adds(&b, "\n\n");
            md_table(&b, r->repos[i].strategies, r->repos[i].nstrategies);
        }
    }
    if (r->compared) {
        buf_adds(&b, "\n### Against ");
        report_esc_md(&b, r->compare_db);
        buf_printf(&b, " (run %lld, threshold ", (long long)r->compare_run);
        num(&b, r->threshold_pct, 1);
        buf_adds(&b, "%)\n\n| strategy | per build before | now | change "
                     "| hit rate before | now | change | |\n"
                     "|---|--:|--:|--:|--:|--:|--:|---|\n");
        for (i = 0; i < r->ndeltas; i++) {
            const struct report_delta *d = &r->deltas[i];
            buf_adds(&b, "| ");
            report_esc_md(&b, d->name);
            if (!(d->has_old && d->has_new)) {
                buf_printf(&b, " | | | | | | | only in the %s run |\n",
                           d->has_new ? "new" : "old");
                continue;
            }
            buf_adds(&b, " | ");
            report_money(&b, d->old_per_build_usd, 1, "-");
            buf_adds(&b, " | ");
            report_money(&b, d->new_per_build_usd, 1, "-");
            buf_adds(&b, " | ");
            num(&b, d->per_build_change_pct, 1);
            buf_adds(&b, "% | ");
            num(&b, d->old_hit_rate * 100, 1);
            buf_adds(&b, "% | ");
            num(&b, d->new_hit_rate * 100, 1);
            buf_adds(&b, "% | ");
            num(&b, d->hit_rate_change_pct, 1);
            buf_printf(&b, "%% | %s |\n",
                       d->regressed ? "**regressed**" : "ok");
        }
    }
    return flush(&b, fp, err);
}

/* ---- CSV ---- */

/* Money in CSV: the exact figure to a ten-billionth of a dollar, without
 * trailing zeros (a spreadsheet does its own rounding). */
static void csv_usd(struct buf *b, double v)
{
    char d[64];
    int n;

    if (!isfinite(v) || fabs(v) < 0.5e-10)
        v = 0;
    n = snprintf(d, sizeof(d), "%.10f", v);
    if (n <= 0 || n >= (int)sizeof(d)) {
        buf_adds(b, "0");
        return;
    }
    while (n > 1 && d[n - 1] == '0')
        n--;
    if (d[n - 1] == '.')
        n--;
    buf_add(b, d, (size_t)n);
}

static void csv_rows(struct buf *b, const char *repo, int64_t run,
                     const struct report_strategy *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct cost_result *c = &v[i].cost;
        double f[] = { c->hit_rate,
                       c->build_minutes,
                       c->billed_minutes,
                       c->storage_gb_months,
                       c->transfer_gb,
                       c->compute_usd,
                       c->storage_usd,
                       c->transfer_usd,
                       c->total_usd,
                       c->per_build_usd,
                       c->monthly_usd,
                       c->saving_vs_none_usd,
                       c->monthly_saving_vs_none_usd,
                       c->monthly_after_allowance_usd };
        int dec[] = { 4, 2, 2, 4, 4 };
        size_t k;

        report_esc_csv(b, repo);
        buf_printf(b, ",%lld,", (long long)run);
        report_esc_csv(b, v[i].name);
        buf_printf(b, ",%lld,%lld", (long long)v[i].usage.builds,
                   (long long)v[i].usage.failed);
        for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
            buf_addch(b, ',');
            if ((k == 11 || k == 12) && !c->has_none)
                continue;
            if (k >= 5)
                csv_usd(b, f[k]);
            else
                num(b, f[k], dec[k]);
        }
        buf_printf(b, ",%s,estimate\r\n", cost_verdict_name(c->verdict));
    }
}

int report_write_csv(const struct report *r, FILE *fp, struct err *err)
{
    struct buf b = BUF_INIT;
    size_t i;

    buf_adds(&b, "repository,run,strategy,builds,failed,hit_rate,"
                 "build_minutes,billed_minutes,storage_gb_months,transfer_gb,"
                 "compute_usd,storage_usd,transfer_usd,total_usd,"
                 "per_build_usd,monthly_usd,saving_vs_none_usd,"
                 "monthly_saving_vs_none_usd,monthly_after_allowance_usd,"
                 "break_even,figures\r\n");
    for (i = 0; i < r->nrepos; i++)
        csv_rows(&b, r->repos[i].run.repo, r->repos[i].run.id,
                 r->repos[i].strategies, r->repos[i].nstrategies);
    if (r->nrepos > 1)
        csv_rows(&b, "(total)", 0, r->total, r->ntotal);
    return flush(&b, fp, err);
}
