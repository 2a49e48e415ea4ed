/*
 * cost.h - money from usage: what a strategy's builds, storage and
 * transfers cost under a pricing profile.  Pure arithmetic: no database,
 * no files, so the golden tests can check every rule by hand.
 *
 * The model (doc/pricing.md):
 *  - A job is pull + build + push + the runner's start-up.  Files of
 *    schema 5 and older have no pull and push seconds of their own: their
 *    builds.seconds already includes the transfers.
 *  - Billed minutes per job: rounded up to whole minutes (per-job-minute),
 *    or seconds / 60 with the profile's minimum (per-second, parallel-job).
 *  - Each strategy keeps its image in the registry and its cache where
 *    cost_cache_store() says; a pulled blob is one GET request of its
 *    store and egress, a pushed blob one PUT and ingress.
 *  - History figures (compute_usd, storage_usd, transfer_usd, total_usd)
 *    are the replayed builds at list price, free allowances aside except
 *    free storage (a level, not a monthly quota).  Storage is integrated
 *    over the builds: after each build its stored bytes are kept for
 *    1 / builds_per_month months (GB-months).
 *  - Monthly figures (monthly_usd and its parts) scale the history's
 *    per-build usage to builds_per_month at list price, like the history:
 *    what a month of these builds costs the account.  Storage per month is
 *    what is stored after the last build, beyond the free storage.
 *  - The monthly allowances (included minutes, free egress, free parallel
 *    jobs) are account-wide, shared with everything else the account
 *    runs: they are shown apart, as monthly_after_allowance_usd (what the
 *    month would cost if these builds were all the account ran; whole
 *    parallel jobs may cost more than list).  Parallel-job billing: at
 *    list price the minutes pay their share of a parallel job; after the
 *    allowance, whole parallel jobs are bought.
 *  - The saving against `none` and the break-even verdict are per month at
 *    list price: the cache pays when the compute it saves a month is worth
 *    more than the storage and transfers it adds, i.e. exactly when
 *    monthly_saving_vs_none_usd > 0.
 */
#ifndef HARNESS_COST_H
#define HARNESS_COST_H

#include <stdint.h>

#include "pricing.h"

/* Where a strategy's cache (cache_bytes, transfers of kind 'cache') lives:
 * local, local-legacy, no-cache, no-cache-legacy (persistent runners):
 * PRICING_DISK; local-dir, gha: PRICING_GHA; s3:
 * PRICING_S3; every other: PRICING_REGISTRY. */
enum pricing_store cost_cache_store(const char *strategy);

/* The minutes a job of job_seconds is billed. */
double cost_billed_minutes(const struct pricing *p, double job_seconds);

/* One build, as cost_add_build() needs it. */
struct cost_build {
    int failed;
    double seconds;      /* the docker build command */
    double pull_seconds; /* before it (0 when part of seconds) */
    double push_seconds; /* after it (0 when part of seconds) */
    int64_t steps_hit, steps_miss;
    int64_t registry_bytes; /* stored after the build */
    int64_t cache_bytes;
};

struct cost_usage {
    enum pricing_store cache_store;
    int64_t builds, failed, steps_hit, steps_miss;
    double build_seconds;              /* sum of builds.seconds */
    double job_seconds;                /* sum of jobs, start-up included */
    double billed_minutes;             /* sum of billed minutes per job */
    double gb_builds[PRICING_NSTORES]; /* sum over builds of the GB stored */
    double billable_gb_builds[PRICING_NSTORES]; /* the same beyond the free
                                                   storage */
    double last_gb[PRICING_NSTORES]; /* stored after the last build */
    double egress_gb[PRICING_NSTORES], ingress_gb[PRICING_NSTORES];
    double gets[PRICING_NSTORES], puts[PRICING_NSTORES];
    int64_t bytes_pulled, bytes_pushed;
};

/* Empty usage of a strategy. */
void cost_usage_init(struct cost_usage *u, const char *strategy);
void cost_add_build(struct cost_usage *u, const struct pricing *p,
                    const struct cost_build *b);
/* n transfers of bytes in total, pushed (push=1) or pulled, of kind cache
 * (cache=1) or image blobs. */
void cost_add_transfers(struct cost_usage *u, int push, int cache, int64_t n,
                        int64_t bytes);
/* Add b's usage to a (a fleet total).  Last-build storage adds up. */
void cost_usage_merge(struct cost_usage *a, const struct cost_usage *b);

enum cost_verdict {
    COST_VERDICT_NONE,     /* no `none` to compare with */
    COST_VERDICT_BASELINE, /* it is `none` */
    COST_VERDICT_PAYS,     /* saves more compute than it costs */
    COST_VERDICT_LOSES,    /* costs more than the compute it saves */
};

/* "n/a" / "baseline" / "pays" / "does not pay". */
const char *cost_verdict_name(enum cost_verdict v);

struct cost_result {
    double builds_per_month;
    double hit_rate; /* steps hit / (hit + miss), 0..1 */
    double build_minutes, job_minutes, billed_minutes;
    double storage_gb_months; /* all stores, free storage included */
    double transfer_gb, requests;
    double compute_usd, storage_usd, transfer_usd, total_usd;
    double per_build_usd;
    double monthly_compute_usd, monthly_storage_usd, monthly_transfer_usd;
    double monthly_usd; /* list price, the sum of the three above */
    double monthly_after_allowance_usd; /* the free allowances used */
    /* Against `none` (valid when has_none): positive is a saving. */
    int has_none;
    double saving_vs_none_usd, monthly_saving_vs_none_usd;
    /* a month at list price: compute saved, storage and transfers added */
    double compute_saved_usd, cache_cost_usd;
    enum cost_verdict verdict;
};

/* Money of usage u at builds_per_month (> 0). */
void cost_finish(struct cost_result *out, const struct cost_usage *u,
                 const struct pricing *p, double builds_per_month);
/* Fill r's comparison with `none`'s result (r may be none itself). */
void cost_compare(struct cost_result *r, const struct cost_result *none,
                  int is_none);

#endif
