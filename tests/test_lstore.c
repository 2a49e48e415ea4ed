/*
 * test_lstore.c - a persistent runner's store: its garbage collection
 * drops entries in exactly the order of the rule it implements (least
 * recently used build first; in it, the largest; among one size, the
 * first in the table), checked against that rule applied by scanning a
 * copy of the store before every collection.  Which entries go, and in
 * which order, decides later hits and the table's layout: a replay's rows
 * depend on it.
 */
#include "testutil.h"

#include "lstore.h"

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Key n of a small key space: few distinct home slots, so that clusters
 * form, wrap around the table's end and move back on deletion. */
static void key_of(unsigned char k[DMAP_KEY], unsigned n)
{
    memset(k, 0, DMAP_KEY);
    k[0] = (unsigned char)(n * 37);
    k[1] = (unsigned char)(n % 5);
    memcpy(k + 8, &n, sizeof(n));
}

struct evictions {
    unsigned char (*keys)[DMAP_KEY];
    size_t n, cap;
};

static void record(void *arg, const unsigned char *key)
{
    struct evictions *ev = arg;
    if (ev->n == ev->cap) {
        ev->cap = ev->cap ? 2 * ev->cap : 64;
        ev->keys = realloc(ev->keys, ev->cap * sizeof(*ev->keys));
        assert_non_null(ev->keys);
    }
    memcpy(ev->keys[ev->n++], key, DMAP_KEY);
}

/* The rule by a scan of the whole table (the store's map, the same
 * inserts and deletions in the same order: the same layout). */
static void reference_gc(struct dmap *m, uint64_t *bytes, uint64_t limit,
                         struct evictions *ev)
{
    while (*bytes > limit && m->n) {
        unsigned char (*group)[DMAP_KEY] = calloc(m->n, DMAP_KEY);
        size_t pos = 0, n = 0;
        const unsigned char *key;
        struct lstore_entry *e;
        uint32_t oldest = UINT32_MAX;

        while ((e = dmap_next(m, &pos, &key))) {
            if (e->used > oldest)
                continue;
            if (e->used < oldest) {
                oldest = e->used;
                n = 0;
            }
            memset(group[n], 0, DMAP_KEY);
            memcpy(group[n++], key, LSTORE_KEY);
        }
        while (n && *bytes > limit) {
            size_t best = 0, best_pos = 0;
            const struct lstore_entry *v = NULL;
            for (size_t i = 0; i < n; i++) {
                e = dmap_get(m, group[i]);
                size_t at = dmap_pos(m, e);
                if (!v || e->bytes > v->bytes ||
                    (e->bytes == v->bytes && at < best_pos)) {
                    v = e;
                    best = i;
                    best_pos = at;
                }
            }
            *bytes -= v->bytes;
            record(ev, group[best]);
            dmap_del(m, group[best]);
            memmove(group[best], group[n - 1], DMAP_KEY);
            n--;
        }
        free(group);
    }
}

static void lstore__gc_drops_entries_in_the_order_of_its_rule(void **state)
{
    /* sizes with many ties, zero (no layer) among them */
    static const uint64_t sizes[] = { 0, 0, 100, 100, 100, 250, 1000 };
    const uint64_t limit = 20000;
    struct lstore s;
    struct dmap ref;
    struct evictions got = { 0 }, want = { 0 };
    uint64_t rng = 7, ref_bytes = 0;
    size_t evicted_total = 0;
    (void)state;

    lstore_init(&s, limit);
    dmap_init_keyed(&ref, sizeof(struct lstore_entry), LSTORE_KEY);
    for (uint32_t build = 1; build <= 3000; build++) {
        /* a build uses some keys again and makes new ones */
        size_t steps = 5 + rng_next(&rng) % 40;
        for (size_t i = 0; i < steps; i++) {
            unsigned char k[DMAP_KEY];
            unsigned n = (unsigned)(rng_next(&rng) % 600);
            uint64_t bytes = sizes[rng_next(&rng) % 7];
            int created, rcreated;
            struct lstore_entry *e, *r;

            key_of(k, n);
            e = lstore_use(&s, k, build, &created);
            r = dmap_put(&ref, k, &rcreated);
            assert_int_equal(created, rcreated);
            if (created) {
                e->bytes = r->bytes = bytes;
                e->origin = r->origin = build;
                s.bytes += bytes;
                ref_bytes += bytes;
            }
            r->used = build;
        }
        got.n = want.n = 0;
        lstore_gc(&s, record, &got);
        reference_gc(&ref, &ref_bytes, limit, &want);
        assert_int_equal(got.n, want.n);
        for (size_t i = 0; i < got.n; i++)
            assert_memory_equal(got.keys[i], want.keys[i], DMAP_KEY);
        assert_int_equal(s.bytes, ref_bytes);
        assert_int_equal(s.map.n, ref.n);
        evicted_total += got.n;
    }
    /* the store was over its limit most of the time, and its log stays
     * within a few times its entries */
    assert_true(evicted_total > 10000);
    assert_true(s.logcap <= 4 * s.map.n + 4096);
    lstore_release(&s);
    dmap_release(&ref);
    free(got.keys);
    free(want.keys);
}

static void lstore__no_limit_keeps_everything_and_no_log(void **state)
{
    struct lstore s;
    (void)state;

    lstore_init(&s, 0);
    for (unsigned n = 0; n < 1000; n++) {
        unsigned char k[DMAP_KEY];
        int created;
        key_of(k, n);
        lstore_use(&s, k, n + 1, &created)->bytes = 1000;
        s.bytes += 1000;
    }
    lstore_gc(&s, NULL, NULL);
    assert_int_equal(s.map.n, 1000);
    assert_int_equal(s.nlog, 0);
    lstore_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lstore__gc_drops_entries_in_the_order_of_its_rule),
        cmocka_unit_test(lstore__no_limit_keeps_everything_and_no_log),
    };
    return cmocka_run_group_tests_name("lstore", tests, NULL, NULL);
}
