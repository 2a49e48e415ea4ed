/*
 * cost.c - money from usage (see cost.h for the model).
 */
#include "cost.h"

#include <math.h>
#include <string.h>

#define GB 1e9

enum pricing_store cost_cache_store(const char *strategy)
{
    static const struct {
        const char *strategy;
        enum pricing_store store;
    } table[] = {
        { "local", PRICING_DISK },    { "local-legacy", PRICING_DISK },
        { "no-cache", PRICING_DISK }, { "no-cache-legacy", PRICING_DISK },
        { "local-dir", PRICING_GHA }, { "gha", PRICING_GHA },
        { "s3", PRICING_S3 },
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (!strcmp(strategy, table[i].strategy))
            return table[i].store;
    return PRICING_REGISTRY;
}

double cost_billed_minutes(const struct pricing *p, double job_seconds)
{
    double s = job_seconds > 0 ? job_seconds : 0;

    if (p->billing == PRICING_PER_JOB_MINUTE)
        /* a millisecond's tolerance: 120.0004 s of floating point sums is
         * two minutes, not three */
        return ceil(s / 60.0 - 1e-5 / 60.0);
    if (s < p->minimum_seconds)
        s = p->minimum_seconds;
    return s / 60.0;
}

void cost_usage_init(struct cost_usage *u, const char *strategy)
{
    memset(u, 0, sizeof(*u));
    u->cache_store = cost_cache_store(strategy);
}

static double above(double gb, double free_gb)
{
    return gb > free_gb ? gb - free_gb : 0;
}

void cost_add_build(struct cost_usage *u, const struct pricing *p,
                    const struct cost_build *b)
{
    double job =
        b->pull_seconds + b->seconds + b->push_seconds + p->startup_seconds;
    double gb[PRICING_NSTORES] = { 0 };
    int i;

    u->builds++;
    u->failed += b->failed != 0;
    u->steps_hit += b->steps_hit;
    u->steps_miss += b->steps_miss;
    u->build_seconds += b->seconds;
    u->job_seconds += job;
    u->billed_minutes += cost_billed_minutes(p, job);
    gb[PRICING_REGISTRY] = (double)b->registry_bytes / GB;
    gb[u->cache_store] += (double)b->cache_bytes / GB;
    for (i = 0; i < PRICING_NSTORES; i++) {
        u->gb_builds[i] += gb[i];
        u->billable_gb_builds[i] += above(gb[i], p->store[i].free_storage_gb);
        u->last_gb[i] = gb[i];
    }
}

void cost_add_transfers(struct cost_usage *u, int push, int cache, int64_t n,
                        int64_t bytes)
{
    enum pricing_store s = cache ? u->cache_store : PRICING_REGISTRY;

    if (push) {
        u->ingress_gb[s] += (double)bytes / GB;
        u->puts[s] += (double)n;
        u->bytes_pushed += bytes;
    } else {
        u->egress_gb[s] += (double)bytes / GB;
        u->gets[s] += (double)n;
        u->bytes_pulled += bytes;
    }
}

void cost_usage_merge(struct cost_usage *a, const struct cost_usage *b)
{
    int i;

    a->builds += b->builds;
    a->failed += b->failed;
    a->steps_hit += b->steps_hit;
    a->steps_miss += b->steps_miss;
    a->build_seconds += b->build_seconds;
    a->job_seconds += b->job_seconds;
    a->billed_minutes += b->billed_minutes;
    a->bytes_pulled += b->bytes_pulled;
    a->bytes_pushed += b->bytes_pushed;
    for (i = 0; i < PRICING_NSTORES; i++) {
        a->gb_builds[i] += b->gb_builds[i];
        a->billable_gb_builds[i] += b->billable_gb_builds[i];
        a->last_gb[i] += b->last_gb[i];
        a->egress_gb[i] += b->egress_gb[i];
        a->ingress_gb[i] += b->ingress_gb[i];
        a->gets[i] += b->gets[i];
        a->puts[i] += b->puts[i];
    }
}

const char *cost_verdict_name(enum cost_verdict v)
{
    static const char *const names[] = { "n/a", "baseline", "pays",
                                         "does not pay" };
    return (unsigned)v < 4 ? names[v] : "?";
}

/* Compute for a month of `minutes` billed minutes. */
static double monthly_compute(const struct pricing *p, double minutes)
{
    double jobs;

    if (p->billing == PRICING_PARALLEL_JOB) {
        if (minutes <= p->included_minutes)
            return 0;
        jobs = ceil(minutes / p->parallel_job_minutes_month - 1e-9);
        jobs -= p->free_parallel_jobs;
        return jobs > 0 ? jobs * p->parallel_job_usd_month : 0;
    }
    return above(minutes, p->included_minutes) * p->usd_per_minute;
}

void cost_finish(struct cost_result *r, const struct cost_usage *u,
                 const struct pricing *p, double builds_per_month)
{
    double m, rate = p->usd_per_minute, after_compute, after_transfer = 0;
    int i;

    memset(r, 0, sizeof(*r));
    r->builds_per_month = builds_per_month;
    if (u->steps_hit + u->steps_miss > 0)
        r->hit_rate =
            (double)u->steps_hit / (double)(u->steps_hit + u->steps_miss);
    r->build_minutes = u->build_seconds / 60.0;
    r->job_minutes = u->job_seconds / 60.0;
    r->billed_minutes = u->billed_minutes;
    if (p->billing == PRICING_PARALLEL_JOB)
        rate = p->parallel_job_usd_month / p->parallel_job_minutes_month;
    r->compute_usd = u->billed_minutes * rate;
    /* the history's builds, scaled to a month of builds */
    m = u->builds > 0 && builds_per_month > 0
            ? builds_per_month / (double)u->builds
            : 0;
    r->monthly_compute_usd = u->billed_minutes * m * rate;
    after_compute = monthly_compute(p, u->billed_minutes * m);
    for (i = 0; i < PRICING_NSTORES; i++) {
        const struct pricing_backend *be = &p->store[i];
        double gbm =
            builds_per_month > 0 ? u->gb_builds[i] / builds_per_month : 0;
        double billable = builds_per_month > 0
                              ? u->billable_gb_builds[i] / builds_per_month
                              : 0;
        double xfer = u->egress_gb[i] * be->egress_usd_per_gb +
                      u->ingress_gb[i] * be->ingress_usd_per_gb;
        double reqs = u->gets[i] / 1000.0 * be->get_usd_per_1000 +
                      u->puts[i] / 1000.0 * be->put_usd_per_1000;

        r->storage_gb_months += gbm;
        r->storage_usd += billable * be->storage_usd_per_gb_month;
        r->transfer_gb += u->egress_gb[i] + u->ingress_gb[i];
        r->requests += u->gets[i] + u->puts[i];
        r->transfer_usd += xfer + reqs;
        r->monthly_storage_usd += above(u->last_gb[i], be->free_storage_gb) *
                                  be->storage_usd_per_gb_month;
        r->monthly_transfer_usd += (xfer + reqs) * m;
        after_transfer += above(u->egress_gb[i] * m, be->free_egress_gb) *
                              be->egress_usd_per_gb +
                          u->ingress_gb[i] * m * be->ingress_usd_per_gb +
                          reqs * m;
    }
    r->total_usd = r->compute_usd + r->storage_usd + r->transfer_usd;
    r->per_build_usd = u->builds > 0 ? r->total_usd / (double)u->builds : 0;
    r->monthly_usd = r->monthly_compute_usd + r->monthly_storage_usd +
                     r->monthly_transfer_usd;
    r->monthly_after_allowance_usd =
        after_compute + r->monthly_storage_usd + after_transfer;
}

void cost_compare(struct cost_result *r, const struct cost_result *none,
                  int is_none)
{
    double saved, cache;

    if (!none) {
        r->has_none = 0;
        r->verdict = COST_VERDICT_NONE;
        return;
    }
    r->has_none = 1;
    r->saving_vs_none_usd = none->total_usd - r->total_usd;
    r->monthly_saving_vs_none_usd = none->monthly_usd - r->monthly_usd;
    /* A month at list price: free allowances are shared by everything else
     * the account runs, so the question is what the builds cost.  saved -
     * cache is the monthly saving, so the verdict and that column agree. */
    saved = none->monthly_compute_usd - r->monthly_compute_usd;
    cache = r->monthly_storage_usd + r->monthly_transfer_usd -
            none->monthly_storage_usd - none->monthly_transfer_usd;
    r->compute_saved_usd = saved;
    r->cache_cost_usd = cache;
    if (is_none)
        r->verdict = COST_VERDICT_BASELINE;
    else
        r->verdict = saved > cache ? COST_VERDICT_PAYS : COST_VERDICT_LOSES;
}
