/*
 * test_verify.c - the parts of `harness verify` that need no engine: the
 * strategy table, sampling and the build plans.
 */
#include "testutil.h"

#include "verify.h"

static void verify__sample_is_evenly_spaced_with_first_and_last(void **state)
{
    static const struct {
        size_t n, k, want[8], m;
    } cases[] = {
        { 12, 5, { 0, 3, 6, 8, 11 }, 5 },
        { 10, 2, { 0, 9 }, 2 },
        { 10, 1, { 0 }, 1 },
        { 3, 5, { 0, 1, 2 }, 3 },
        { 5, 5, { 0, 1, 2, 3, 4 }, 5 },
        { 1, 5, { 0 }, 1 },
        { 100, 4, { 0, 33, 66, 99 }, 4 },
        { 0, 5, { 0 }, 0 },
    };
    size_t i, j, out[8];

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t m = verify_sample(cases[i].n, cases[i].k, out);
        assert_int_equal(m, cases[i].m);
        for (j = 0; j < m; j++)
            assert_int_equal(out[j], cases[i].want[j]);
    }
}

static void verify__sample_never_repeats_an_index(void **state)
{
    size_t n, k, i, out[64];

    (void)state;
    for (n = 1; n < 40; n++)
        for (k = 1; k < 60; k++) {
            size_t m = verify_sample(n, k, out);
            assert_int_equal(m, k < n ? k : n);
            assert_int_equal(out[0], 0);
            for (i = 1; i < m; i++)
                assert_true(out[i] > out[i - 1]);
            assert_true(out[m - 1] < n);
            if (k > 1)
                assert_int_equal(out[m - 1], n - 1);
        }
}

static void verify__only_the_engine_s_six_strategies_exist(void **state)
{
    static const char *const six[] = { "none",
                                       "local",
                                       "local-legacy",
                                       "cache-from-legacy",
                                       "cache-from-buildkit",
                                       "inline" };
    size_t i;

    (void)state;
    assert_int_equal(verify_strategy_count, 6);
    for (i = 0; i < 6; i++)
        assert_non_null(verify_strategy_find(six[i]));
    assert_null(verify_strategy_find("registry-max"));
    assert_null(verify_strategy_find("gha"));
    assert_null(verify_strategy_find(NULL));
    assert_true(verify_strategy_find("cache-from-legacy")->pull_prev);
    assert_true(verify_strategy_find("local-legacy")->legacy);
    assert_true(verify_strategy_find("inline")->needs_registry);
    assert_false(verify_strategy_find("local")->needs_registry);
    assert_false(verify_strategy_find("local")->prune_each);
}

static void check_plan(const char *name, const size_t *sample, size_t ns,
                       const size_t *idx, const int *cmp, size_t want)
{
    struct verify_item *plan = NULL;
    size_t n = 0, i;

    verify_plan(verify_strategy_find(name), sample, ns, &plan, &n);
    assert_int_equal(n, want);
    for (i = 0; i < n; i++) {
        assert_int_equal(plan[i].index, idx[i]);
        assert_int_equal(plan[i].compare, cmp[i]);
    }
    free(plan);
}

static void verify__none_builds_only_the_sampled_commits(void **state)
{
    const size_t sample[] = { 0, 3, 6 };
    const int cmp[] = { 1, 1, 1 };

    (void)state;
    check_plan("none", sample, 3, sample, cmp, 3);
}

static void verify__cache_from_builds_each_predecessor_first(void **state)
{
    const size_t sample[] = { 0, 1, 5, 9 };
    const size_t idx[] = { 0, 1, 4, 5, 8, 9 };
    const int cmp[] = { 1, 1, 0, 1, 0, 1 };

    (void)state;
    check_plan("cache-from-buildkit", sample, 4, idx, cmp, 6);
    check_plan("cache-from-legacy", sample, 4, idx, cmp, 6);
}

static void verify__persistent_and_inline_build_the_whole_chain(void **state)
{
    const size_t sample[] = { 0, 2, 4 };
    const size_t idx[] = { 0, 1, 2, 3, 4 };
    const int cmp[] = { 1, 0, 1, 0, 1 };

    (void)state;
    check_plan("local", sample, 3, idx, cmp, 5);
    check_plan("local-legacy", sample, 3, idx, cmp, 5);
    check_plan("inline", sample, 3, idx, cmp, 5);
    check_plan("inline", sample, 0, idx, cmp, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify__sample_is_evenly_spaced_with_first_and_last),
        cmocka_unit_test(verify__sample_never_repeats_an_index),
        cmocka_unit_test(verify__only_the_engine_s_six_strategies_exist),
        cmocka_unit_test(verify__none_builds_only_the_sampled_commits),
        cmocka_unit_test(verify__cache_from_builds_each_predecessor_first),
        cmocka_unit_test(verify__persistent_and_inline_build_the_whole_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
