/*
 * test_cost.c - the cost arithmetic against figures worked out by hand,
 * and the pricing profile reader (well-formed and broken files).
 */
#include "testutil.h"

#include <math.h>

#include "buf.h"
#include "cost.h"
#include "pricing.h"
#include "report.h"

/* A profile with round figures, so that each golden value can be checked
 * on paper.  %s is the billing mode, the rest fixed. */
static const char profile_fmt[] =
    "{\n"
    "  \"name\": \"test\",\n"
    "  \"date\": \"2026-01-01\",\n"
    "  \"compute\": {\n"
    "    \"billing\": \"%s\",\n"
    "    \"runner\": \"std\",\n"
    "    \"runners\": {\"std\": 0.01, \"big\": 0.04},\n"
    "    \"included_minutes\": %s,\n"
    "    \"startup_seconds\": %s,\n"
    "    \"minimum_seconds\": 60,\n"
    "    \"parallel_job_usd_month\": 40,\n"
    "    \"parallel_job_minutes_month\": 1000\n"
    "  },\n"
    "  \"registry\": {\"name\": \"R\", \"storage_usd_per_gb_month\": 0.10,\n"
    "               \"free_storage_gb\": 0.5, \"egress_usd_per_gb\": 0.05},\n"
    "  \"s3\": {\"storage_usd_per_gb_month\": 0.02, \"egress_usd_per_gb\": "
    "0.09,\n"
    "         \"free_egress_gb\": 1, \"put_usd_per_1000\": 5, "
    "\"get_usd_per_1000\": 0.4},\n"
    "  \"sources\": [{\"figures\": [\"compute\", \"registry\", \"s3\"],\n"
    "               \"url\": \"https://example.com/prices\"}]\n"
    "}\n";

static void load(struct pricing *p, const char *billing, const char *incl,
                 const char *startup)
{
    char text[4096];
    struct err err = ERR_INIT;
    int rc;

    snprintf(text, sizeof(text), profile_fmt, billing, incl, startup);
    rc = pricing_parse(p, "test.json", text, strlen(text), &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
}

/* u: strategy's usage of n builds of `seconds` each, leaving
 * registry_bytes in the registry and cache_bytes in its cache. */
static void usage(struct cost_usage *u, const struct pricing *p,
                  const char *strategy, int n, double seconds,
                  int64_t registry_bytes, int64_t cache_bytes)
{
    struct cost_build b = {
        0, seconds, 0, 0, 1, 1, registry_bytes, cache_bytes
    };
    int i;

    cost_usage_init(u, strategy);
    for (i = 0; i < n; i++)
        cost_add_build(u, p, &b);
}

#define near(a, b) assert_near((a), (b), 1e-9)

static void cost__per_job_minute_rounds_each_job_up(void **state)
{
    struct pricing p;

    (void)state;
    load(&p, "per-job-minute", "0", "0");
    near(cost_billed_minutes(&p, 1), 1);
    near(cost_billed_minutes(&p, 60), 1);
    near(cost_billed_minutes(&p, 60.5), 2);
    near(cost_billed_minutes(&p, 120.0000001), 2); /* float sums */
    near(cost_billed_minutes(&p, 121), 3);
    near(cost_billed_minutes(&p, 0), 0);
    pricing_release(&p);
}

static void cost__job_is_pull_build_push_and_startup(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_build b = { 0, 50, 5, 4, 0, 0, 0, 0 };

    (void)state;
    load(&p, "per-job-minute", "0", "2");
    cost_usage_init(&u, "none");
    cost_add_build(&u, &p, &b); /* 5 + 50 + 4 + 2 = 61 s: two minutes */
    near(u.job_seconds, 61);
    near(u.billed_minutes, 2);
    near(u.build_seconds, 50);
    pricing_release(&p);
}

static void cost__per_second_billing_has_a_minimum(void **state)
{
    struct pricing p;

    (void)state;
    load(&p, "per-second", "0", "0");
    near(cost_billed_minutes(&p, 90), 1.5);
    near(cost_billed_minutes(&p, 30), 1); /* minimum_seconds 60 */
    pricing_release(&p);
}

static void cost__history_is_list_price_and_month_scales(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_result r;

    (void)state;
    load(&p, "per-job-minute", "0", "0");
    usage(&u, &p, "none", 10, 150, 0, 0); /* 10 jobs of 3 billed minutes */
    cost_finish(&r, &u, &p, 100);
    near(r.billed_minutes, 30);
    near(r.compute_usd, 0.30);
    near(r.per_build_usd, 0.03);
    /* 100 builds a month: 300 minutes at $0.01 */
    near(r.monthly_compute_usd, 3.0);
    near(r.monthly_usd, 3.0);
    near(r.monthly_after_allowance_usd, 3.0); /* no allowance */
    pricing_release(&p);
}

static void cost__included_minutes_are_apart_from_list_price(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_result r;

    (void)state;
    load(&p, "per-job-minute", "250", "0");
    usage(&u, &p, "none", 10, 150, 0, 0);
    cost_finish(&r, &u, &p, 100);     /* 300 minutes, 250 free */
    near(r.monthly_compute_usd, 3.0); /* list: 300 x $0.01 */
    near(r.monthly_usd, 3.0);
    near(r.monthly_after_allowance_usd, 0.5); /* 50 minutes beyond */
    near(r.compute_usd, 0.30);   /* the history stays at list price */
    cost_finish(&r, &u, &p, 50); /* 150 minutes: all free */
    near(r.monthly_usd, 1.5);
    near(r.monthly_after_allowance_usd, 0);
    pricing_release(&p);
}

/* The lead's case: an account-wide allowance that swallows every
 * strategy's minutes must not turn a cache that pays into a negative
 * monthly saving.  The saving and the verdict are at list price, and
 * agree. */
static void cost__monthly_saving_and_verdict_agree_at_list(void **state)
{
    struct pricing p;
    struct cost_usage none, reg;
    struct cost_result rn, rr;

    (void)state;
    load(&p, "per-job-minute", "3000", "0");
    usage(&none, &p, "none", 10, 150, 0, 0); /* 3 minutes each */
    /* 1 minute each, 2 GB left in the registry after each build */
    usage(&reg, &p, "inline", 10, 45, 2000000000, 0);
    cost_finish(&rn, &none, &p, 100);
    cost_finish(&rr, &reg, &p, 100);
    cost_compare(&rn, &rn, 1);
    cost_compare(&rr, &rn, 0);
    /* none: 300 minutes a month = $3.00 list, all within 3,000 free */
    near(rn.monthly_usd, 3.00);
    near(rn.monthly_after_allowance_usd, 0);
    /* inline: 100 minutes = $1.00, and 1.5 GB beyond the free 0.5 GB at
     * $0.10 = $0.15 a month; only the storage is left after the allowance */
    near(rr.monthly_compute_usd, 1.00);
    near(rr.monthly_storage_usd, 0.15);
    near(rr.monthly_usd, 1.15);
    near(rr.monthly_after_allowance_usd, 0.15);
    /* saving at list: 3.00 - 1.15, positive, and the verdict says pays */
    near(rr.monthly_saving_vs_none_usd, 1.85);
    near(rr.compute_saved_usd - rr.cache_cost_usd, 1.85);
    assert_int_equal(rr.verdict, COST_VERDICT_PAYS);
    pricing_release(&p);
}

static void cost__storage_is_integrated_in_gb_months(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_result r;

    (void)state;
    load(&p, "per-job-minute", "0", "0");
    /* 2 GB in the registry after each of 10 builds, 10 builds a month: a
     * month of 2 GB, of which 1.5 GB beyond the free 0.5 GB */
    usage(&u, &p, "none", 10, 60, 2000000000, 0);
    cost_finish(&r, &u, &p, 10);
    near(r.storage_gb_months, 2.0);
    near(r.storage_usd, 1.5 * 0.10);
    near(r.monthly_storage_usd, 1.5 * 0.10);
    near(r.monthly_after_allowance_usd, 0.10 * 1.5 + 0.10); /* + 10 min */
    /* at 20 builds a month the same builds are half a month */
    cost_finish(&r, &u, &p, 20);
    near(r.storage_gb_months, 1.0);
    pricing_release(&p);
}

static void cost__cache_lives_where_the_strategy_keeps_it(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_result r;

    (void)state;
    assert_int_equal(cost_cache_store("s3"), PRICING_S3);
    assert_int_equal(cost_cache_store("gha"), PRICING_GHA);
    assert_int_equal(cost_cache_store("local"), PRICING_DISK);
    assert_int_equal(cost_cache_store("no-cache"), PRICING_DISK);
    assert_int_equal(cost_cache_store("inline"), PRICING_REGISTRY);
    load(&p, "per-job-minute", "0", "0");
    usage(&u, &p, "s3", 10, 60, 0, 1000000000); /* 1 GB in S3 */
    /* 3 GB of cache blobs downloaded in 1000 GETs, 100 PUTs of 0.5 GB,
     * 2 GB of image layers from the registry */
    cost_add_transfers(&u, 0, 1, 1000, 3000000000);
    cost_add_transfers(&u, 1, 1, 100, 500000000);
    cost_add_transfers(&u, 0, 0, 10, 2000000000);
    cost_finish(&r, &u, &p, 10);
    near(r.storage_usd, 1.0 * 0.02);
    /* egress 3 GB x 0.09 + 2 GB x 0.05; 1000 GETs 0.40, 100 PUTs 0.50 */
    near(r.transfer_usd, 0.27 + 0.10 + 0.40 + 0.50);
    /* a month is the same 10 builds, at list price */
    near(r.monthly_transfer_usd, 0.27 + 0.10 + 0.40 + 0.50);
    /* 1 GB of S3 egress a month is free: 1 GB x 0.09 less after it;
     * plus 1 GB-month of S3 at 0.02 and 10 minutes at 0.01 */
    near(r.monthly_after_allowance_usd,
         0.18 + 0.10 + 0.40 + 0.50 + 0.02 + 0.10);
    near(r.transfer_gb, 5.5);
    near(r.requests, 1110);
    pricing_release(&p);
}

static void cost__break_even_weighs_saved_compute_against_cache(void **state)
{
    struct pricing p;
    struct cost_usage none, cheap, dear;
    struct cost_result rn, rc, rd;

    (void)state;
    load(&p, "per-job-minute", "0", "0");
    usage(&none, &p, "none", 10, 600, 0, 0);          /* 10 x 10 min = $1.00 */
    usage(&cheap, &p, "s3", 10, 60, 0, 0);            /* 10 x 1 min = $0.10 */
    cost_add_transfers(&cheap, 0, 1, 10, 5000000000); /* $0.45 + GETs */
    usage(&dear, &p, "s3", 10, 60, 0, 0);
    cost_add_transfers(&dear, 0, 1, 10, 20000000000); /* $1.80 */
    cost_finish(&rn, &none, &p, 10);
    cost_finish(&rc, &cheap, &p, 10);
    cost_finish(&rd, &dear, &p, 10);
    cost_compare(&rn, &rn, 1);
    cost_compare(&rc, &rn, 0);
    cost_compare(&rd, &rn, 0);
    assert_int_equal(rn.verdict, COST_VERDICT_BASELINE);
    assert_int_equal(rc.verdict, COST_VERDICT_PAYS);
    assert_int_equal(rd.verdict, COST_VERDICT_LOSES);
    /* a month is the history (10 builds, 10 a month) */
    near(rc.compute_saved_usd, 0.90);
    near(rc.cache_cost_usd, 0.45 + 0.004);
    near(rc.monthly_saving_vs_none_usd, 0.90 - 0.454);
    assert_true(rd.monthly_saving_vs_none_usd < 0);
    near(rc.saving_vs_none_usd, 1.00 - rc.total_usd);
    assert_true(rd.saving_vs_none_usd < 0);
    assert_string_equal(cost_verdict_name(rd.verdict), "does not pay");
    cost_compare(&rc, NULL, 0);
    assert_int_equal(rc.verdict, COST_VERDICT_NONE);
    pricing_release(&p);
}

static void cost__parallel_jobs_are_bought_whole(void **state)
{
    struct pricing p;
    struct cost_usage u;
    struct cost_result r;

    (void)state;
    load(&p, "parallel-job", "100", "0");
    usage(&u, &p, "none", 10, 600, 0, 0);           /* 100 minutes */
    cost_finish(&r, &u, &p, 15);                    /* 150 minutes a month */
    near(r.monthly_compute_usd, 150 * 40.0 / 1000); /* list: their share */
    near(r.monthly_after_allowance_usd, 40);        /* one whole job */
    cost_finish(&r, &u, &p, 150); /* 1,500 minutes: two jobs */
    near(r.monthly_compute_usd, 60);
    near(r.monthly_after_allowance_usd, 80);
    cost_finish(&r, &u, &p, 10); /* 100 minutes: the free minutes */
    near(r.monthly_compute_usd, 4);
    near(r.monthly_after_allowance_usd, 0);
    near(r.compute_usd, 100 * 40.0 / 1000);
    pricing_release(&p);
}

/* ---- the reader ---- */

static void parse_err(const char *text, const char *want)
{
    struct pricing p;
    struct err err = ERR_INIT;
    int rc = pricing_parse(&p, "p.json", text, strlen(text), &err);

    assert_int_equal(rc, ERR_PARSE);
    if (!strstr(err.msg, want))
        fprintf(stderr, "got: %s\nwant: %s\n", err.msg, want);
    assert_non_null(strstr(err.msg, want));
}

static void pricing__rejects_bad_files_with_file_and_line(void **state)
{
    (void)state;
    parse_err("{\"name\": \"x\",\n \"date\": \"d\",\n \"colour\": 1}",
              "p.json:3: unknown key 'colour'");
    parse_err("{\"name\": \"x\", \"date\": \"d\",\n \"compute\": {\n"
              "  \"runners\": {\"a\": \"cheap\"}}}",
              "p.json:3: 'a' must be a number");
    parse_err("{\"name\": \"x\", \"date\": \"d\",\n \"compute\": {\n"
              "  \"runners\": {\"a\": -1}}}",
              "p.json:3: 'a' must be a number from 0");
    parse_err("{\"name\": \"x\", \"date\": \"d\",\n \"compute\": {\n"
              "  \"runner\": \"b\", \"runners\": {\"a\": 1}},\n"
              " \"sources\": [{\"figures\": [\"compute\"], \"url\": \"u\"}]}",
              "p.json:3: runner 'b' is not in \"runners\"");
    parse_err("{\"name\": \"x\", \"date\": \"d\",\n \"compute\": {\n"
              "  \"runners\": {\"a\": 1}},\n"
              " \"s3\": {\n  \"egress_usd_per_gb\": 0.09},\n"
              " \"sources\": [{\"figures\": [\"compute\"], \"url\": \"u\"}]}",
              "p.json:5: figure 's3.egress_usd_per_gb' has no source");
    parse_err("{\"name\": \"x\",\n \"date\": ", "p.json:2: not valid JSON");
    parse_err("[1]", "p.json:1: a pricing profile must be a JSON object");
    parse_err("{\"name\": \"x\", \"date\": \"d\", \"compute\": {\n"
              "  \"billing\": \"hourly\", \"runners\": {\"a\": 1}}}",
              "p.json:2: 'billing' must be");
}

static void pricing__notes_say_where_each_figure_comes_from(void **state)
{
    struct pricing p;
    int est = -1;
    const char *text =
        "{\"name\": \"x\", \"date\": \"d\",\n"
        " \"compute\": {\"runners\": {\"a\": 1}, \"startup_seconds\": 9},\n"
        " \"sources\": [{\"figures\": [\"compute.runners\"], \"url\": "
        "\"https://a\"}],\n"
        " \"estimates\": [{\"figure\": \"compute.startup_seconds\", \"why\": "
        "\"a guess\"}]}";
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(pricing_parse(&p, "p.json", text, strlen(text), &err), 0);
    assert_string_equal(pricing_figure_note(&p, "compute.usd_per_minute", &est),
                        "https://a");
    assert_int_equal(est, 0);
    assert_string_equal(
        pricing_figure_note(&p, "compute.startup_seconds", &est), "a guess");
    assert_int_equal(est, 1);
    assert_string_equal(p.runner, "a"); /* the first runner by default */
    pricing_release(&p);
}

static void pricing__every_shipped_profile_loads(void **state)
{
    static const char *const names[] = { "github-actions",  "cloud-build",
                                         "codebuild",       "gitlab",
                                         "azure-pipelines", "remote-builder" };
    size_t i;
    char dir[4096];

    (void)state;
    tu_fixture_path(dir, sizeof(dir), "../../scenarios/pricing");
    setenv("HARNESS_PRICING_DIR", dir, 1);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct pricing p;
        struct err err = ERR_INIT;
        int rc = pricing_load(&p, names[i], &err);
        if (rc)
            fprintf(stderr, "%s: %s\n", names[i], err.msg);
        assert_int_equal(rc, 0);
        assert_string_equal(p.name, names[i]);
        assert_true(p.nsources > 0);
        pricing_release(&p);
    }
    {
        struct pricing p;
        struct err err = ERR_INIT;
        assert_int_equal(pricing_load(&p, "nosuch", &err), ERR_NOTFOUND);
    }
}

static void money_is(double v, int fine, const char *want)
{
    struct buf b = BUF_INIT;

    report_money(&b, v, fine, "-");
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, want);
    buf_release(&b);
}

/* How the report writes money in Markdown and HTML: cents with thousands
 * separators; sub-cent amounts neither vanish nor spill four decimals. */
static void report__money_reads_as_a_user_expects(void **state)
{
    (void)state;
    money_is(1234.5678, 0, "$1,234.57");
    money_is(1234567.891, 0, "$1,234,567.89");
    money_is(100, 0, "$100.00");
    money_is(999.999, 0, "$1,000.00");
    money_is(0.9183, 0, "$0.92");
    money_is(0.0477, 0, "$0.05");
    money_is(0.003, 0, "<$0.01");
    money_is(-0.0001, 0, ">-$0.01");
    money_is(-9.46, 0, "-$9.46");
    money_is(0, 0, "$0.00");
    money_is(-1e-12, 0, "$0.00");
    money_is(NAN, 0, "$0.00");
    /* prices and costs per build: two significant digits under a dollar */
    money_is(0.0069284, 1, "$0.0069");
    money_is(0.012, 1, "$0.012");
    money_is(0.006, 1, "$0.0060");
    money_is(0.00999, 1, "$0.010");
    money_is(0.9999, 1, "$1.00");
    money_is(0.15, 1, "$0.15");
    money_is(12.345, 1, "$12.35");
    money_is(-0.0042, 1, "-$0.0042");
    money_is(0, 1, "$0.00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cost__per_job_minute_rounds_each_job_up),
        cmocka_unit_test(cost__job_is_pull_build_push_and_startup),
        cmocka_unit_test(cost__per_second_billing_has_a_minimum),
        cmocka_unit_test(cost__history_is_list_price_and_month_scales),
        cmocka_unit_test(cost__included_minutes_are_apart_from_list_price),
        cmocka_unit_test(cost__monthly_saving_and_verdict_agree_at_list),
        cmocka_unit_test(cost__storage_is_integrated_in_gb_months),
        cmocka_unit_test(cost__cache_lives_where_the_strategy_keeps_it),
        cmocka_unit_test(cost__break_even_weighs_saved_compute_against_cache),
        cmocka_unit_test(cost__parallel_jobs_are_bought_whole),
        cmocka_unit_test(pricing__rejects_bad_files_with_file_and_line),
        cmocka_unit_test(pricing__notes_say_where_each_figure_comes_from),
        cmocka_unit_test(pricing__every_shipped_profile_loads),
        cmocka_unit_test(report__money_reads_as_a_user_expects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
