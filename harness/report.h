/*
 * report.h - `harness report`: what each strategy costs, read from one or
 * more results databases (read-only) and a pricing profile, written as
 * JSON, Markdown, CSV or an HTML page with charts.
 *
 * report_run() is the whole command behind its option parsing, so that
 * `harness run` can end a scenario with a report in the same process.
 * The pieces: report.c gathers the figures (struct report), report_text.c
 * writes JSON, Markdown and CSV, report_html.c the page, plot.c the
 * charts (gnuplot).
 *
 * Ownership: report_opts is borrowed for the call.  A struct report owns
 * everything in it; report_free() releases it.
 */
#ifndef HARNESS_REPORT_H
#define HARNESS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cost.h"
#include "err.h"
#include "pricing.h"
#include "staleness.h"
#include "store_report.h"

enum report_format {
    REPORT_HTML,
    REPORT_MD,
    REPORT_CSV,
    REPORT_JSON,
};

/* "html" / "md" / "csv" / "json"; _parse: ERR_INVALID. */
const char *report_format_name(enum report_format f);
int report_format_parse(const char *s, enum report_format *out);

struct report_opts {
    const char *const *dbs; /* one or more results databases */
    size_t ndbs;
    int64_t run_id;      /* <= 0: each database's last run */
    const char *pricing; /* profile name or file; NULL: github-actions */
    enum report_format format;
    const char *out_dir;     /* NULL: print to out (html needs a folder) */
    const char *compare;     /* OLD.db[:RUN], or NULL */
    double threshold_pct;    /* --compare: regression beyond this, 5 */
    double builds_per_month; /* <= 0: the history's own rate */
    FILE *out;               /* where md/csv/json go without out_dir, and
                                the line naming the written file */
};

/*
 * Build the report and write it.  Sets *regressed to 1 when --compare
 * found a strategy whose cost per build rose, or whose hit rate fell, by
 * more than the threshold.  Errors: ERR_USAGE (bad combination),
 * ERR_NOTFOUND/ERR_PARSE (pricing), ERR_DB, ERR_IO.
 */
int report_run(const struct report_opts *o, int *regressed, struct err *err);

/* ---- the gathered figures ---- */

#define REPORT_MAX_STRATEGIES 32
#define REPORT_POINTS         400 /* chart points per series, at most */

/* One strategy's figures (in a repository, or over the fleet). */
struct report_strategy {
    char name[64];
    struct cost_usage usage;
    struct cost_result cost;
};

/* Chart data of one repository: commits in REPORT_POINTS buckets or
 * fewer, per strategy. */
struct report_series {
    size_t npoints;
    int64_t *seq_end;  /* last commit position of each bucket (1-based) */
    int64_t *time_end; /* author time of that commit */
    /* [strategy * npoints + point] */
    double *cum_billed_minutes;    /* cumulative at the bucket's end */
    double *build_seconds;         /* mean per build in the bucket */
    double *hit_rate;              /* in the bucket, 0..1 */
    double *mb_pulled, *mb_pushed; /* per build in the bucket */
};

struct report_repo {
    char *db;
    struct store_report_run run;
    int schema;
    int transfer_seconds; /* pull/push seconds are columns (schema 6) */
    struct report_strategy strategies[REPORT_MAX_STRATEGIES];
    size_t nstrategies;
    double builds_per_month;
    const char *bpm_source; /* "option", "history", "assumed" */
    struct report_series series;
    struct store_report_miss *misses;
    size_t nmisses;
    struct store_report_commit *slowest; /* under the cheapest strategy */
    size_t nslowest;
    char slowest_strategy[64];
    /* network fetches reused from a cache (html and json); when the
     * replayed repository cannot be read, no entries and a note why */
    struct staleness stale;
    char stale_note[600];
};

/* A strategy against the --compare file. */
struct report_delta {
    char name[64];
    int has_old, has_new;
    double old_per_build_usd, new_per_build_usd, per_build_change_pct;
    double old_hit_rate, new_hit_rate, hit_rate_change_pct;
    double old_monthly_usd, new_monthly_usd;
    int regressed;
};

struct report {
    struct pricing pricing;
    struct report_repo *repos;
    size_t nrepos;
    /* the fleet: every repository's usage added up (== repos[0] for one) */
    struct report_strategy total[REPORT_MAX_STRATEGIES];
    size_t ntotal;
    double builds_per_month; /* the fleet's */
    /* --compare */
    int compared;
    char *compare_db;
    int64_t compare_run;
    double threshold_pct;
    struct report_delta deltas[REPORT_MAX_STRATEGIES];
    size_t ndeltas;
    int regressed;
    /* what the HTML says about charts when it has none */
    char charts_note[1024];
};

/* The strategy of v with the lowest monthly_usd (list price), `none`
 * left out when skip_none and another exists; NULL when n is 0.  *ties
 * (may be NULL) gets how many others cost the same within 0.1%. */
const struct report_strategy *report_cheapest(const struct report_strategy *v,
                                              size_t n, int skip_none,
                                              size_t *ties);
/* Whether a and b cost the same a month within 0.1%. */
int report_same_cost(const struct report_strategy *a,
                     const struct report_strategy *b);

/* Gather a report without writing it (the tests use this). */
int report_build(struct report **out, const struct report_opts *o,
                 struct err *err);
void report_free(struct report *r);

/* Writers (report_text.c, report_html.c).  Errors: ERR_IO. */
int report_write_json(const struct report *r, FILE *fp, struct err *err);
int report_write_md(const struct report *r, FILE *fp, struct err *err);
int report_write_csv(const struct report *r, FILE *fp, struct err *err);
/* Writes DIR/index.html and its charts beside it (gnuplot permitting). */
int report_write_html(struct report *r, const char *dir, struct err *err);

/* Money as a reader expects it, appended to b: "$1,234.56"; an amount
 * under half a cent reads "<$0.01" (it is not zero).  With fine (a price or
 * a cost per build), an amount under a dollar keeps two significant digits
 * instead: "$0.0069", "$0.012".  A negative amount starts with minus ("-",
 * "&minus;").  CSV and JSON keep the exact figures. */
struct buf;
void report_money(struct buf *b, double v, int fine, const char *minus);

/* Escapers shared by the writers: append s to b. */
struct buf;
void report_esc_html(struct buf *b, const char *s);
void report_esc_md(struct buf *b, const char *s);
void report_esc_csv(struct buf *b, const char *s);

#endif
