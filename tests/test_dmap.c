/*
 * test_dmap.c - the digest-keyed hash map against a plain array model.
 */
#include "testutil.h"

#include "dmap.h"

static void key_of(unsigned char k[DMAP_KEY], unsigned n)
{
    memset(k, 0, DMAP_KEY);
    /* few distinct low bytes: many collisions in the home slot */
    k[0] = (unsigned char)(n % 7);
    k[1] = (unsigned char)(n % 3);
    memcpy(k + 8, &n, sizeof(n));
}

static void dmap__random_puts_and_deletes_match_a_model(void **state)
{
    struct dmap m;
    unsigned model[512] = { 0 }; /* value+1 when present */
    uint64_t rng = 42;
    (void)state;

    dmap_init(&m, sizeof(uint64_t));
    for (int step = 0; step < 20000; step++) {
        unsigned char k[DMAP_KEY];
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned n = (unsigned)(rng >> 33) % 512;
        key_of(k, n);
        if ((rng >> 20) & 1) {
            int created;
            uint64_t *v = dmap_put(&m, k, &created);
            assert_int_equal(created, model[n] == 0);
            *v = n * 3;
            model[n] = n * 3 + 1;
        } else {
            assert_int_equal(dmap_del(&m, k), model[n] != 0);
            model[n] = 0;
        }
        if (step % 997 == 0) {
            size_t count = 0;
            for (unsigned i = 0; i < 512; i++) {
                unsigned char kk[DMAP_KEY];
                key_of(kk, i);
                uint64_t *v = dmap_get(&m, kk);
                if (model[i]) {
                    assert_non_null(v);
                    assert_int_equal(*v, model[i] - 1);
                    count++;
                } else {
                    assert_null(v);
                }
            }
            assert_int_equal(m.n, count);
        }
    }
    size_t pos = 0, seen = 0;
    const unsigned char *key;
    while (dmap_next(&m, &pos, &key))
        seen++;
    assert_int_equal(seen, m.n);
    dmap_release(&m);
}

static void dmap__values_are_aligned(void **state)
{
    struct dmap m;
    unsigned char k[DMAP_KEY];
    (void)state;

    dmap_init(&m, 1); /* odd value size */
    for (unsigned i = 0; i < 100; i++) {
        key_of(k, i);
        assert_int_equal((uintptr_t)dmap_put(&m, k, NULL) % 8, 0);
    }
    dmap_release(&m);
}

/* A cleared map keeps its table, knows none of the keys it had, and
 * takes them again as new ones. */
static void dmap__clear_forgets_keys_and_keeps_the_table(void **state)
{
    struct dmap m;
    unsigned char k[DMAP_KEY];
    int created;
    (void)state;

    dmap_init(&m, sizeof(uint64_t));
    for (unsigned i = 0; i < 300; i++) {
        key_of(k, i);
        *(uint64_t *)dmap_put(&m, k, NULL) = i;
    }
    size_t cap = m.cap;
    dmap_clear(&m);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.cap, cap);
    size_t pos = 0;
    assert_null(dmap_next(&m, &pos, NULL));
    for (unsigned i = 0; i < 300; i++) {
        key_of(k, i);
        assert_null(dmap_get(&m, k));
    }
    for (unsigned i = 0; i < 300; i++) {
        key_of(k, i);
        uint64_t *v = dmap_put(&m, k, &created);
        assert_int_equal(created, 1);
        assert_int_equal(*v, 0);
        *v = i + 1;
    }
    assert_int_equal(m.cap, cap); /* refilled without growing */
    key_of(k, 299);
    assert_int_equal(*(uint64_t *)dmap_get(&m, k), 300);
    dmap_release(&m);
}

/* A dset finds every digest added and no other, through many growths;
 * digests that differ only past byte 12 are the same to it. */
static void dset__adds_and_finds_what_was_added(void **state)
{
    struct dset s;
    unsigned char k[DMAP_KEY];
    (void)state;

    dset_init(&s);
    key_of(k, 1);
    assert_false(dset_has(&s, k));
    for (unsigned n = 0; n < 5000; n++) {
        key_of(k, n);
        assert_int_equal(dset_add(&s, k), 1);
        assert_int_equal(dset_add(&s, k), 0);
    }
    assert_int_equal(s.n, 5000);
    for (unsigned n = 0; n < 6000; n++) {
        key_of(k, n);
        assert_int_equal(dset_has(&s, k), n < 5000);
    }
    key_of(k, 7);
    k[20] ^= 0xff; /* past the 12 bytes kept */
    assert_true(dset_has(&s, k));
    dset_release(&s);
    assert_int_equal(s.n, 0);
}

/* dset_next gives each key once, as a key the set (and another set)
 * takes for the one that was added. */
static void dset__next_lists_every_key_once(void **state)
{
    struct dset s, copy;
    unsigned char k[DMAP_KEY], got[DSET_KEY];
    size_t pos = 0, seen = 0;
    (void)state;

    dset_init(&s);
    dset_init(&copy);
    for (unsigned n = 0; n < 3000; n++) {
        key_of(k, n);
        dset_add(&s, k);
    }
    while (dset_next(&s, &pos, got)) {
        assert_true(dset_has(&s, got));
        assert_int_equal(dset_add(&copy, got), 1);
        seen++;
    }
    assert_int_equal(seen, 3000);
    for (unsigned n = 0; n < 4000; n++) {
        key_of(k, n);
        assert_int_equal(dset_has(&copy, k), n < 3000);
    }
    dset_release(&s);
    dset_release(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dmap__random_puts_and_deletes_match_a_model),
        cmocka_unit_test(dmap__values_are_aligned),
        cmocka_unit_test(dmap__clear_forgets_keys_and_keeps_the_table),
        cmocka_unit_test(dset__adds_and_finds_what_was_added),
        cmocka_unit_test(dset__next_lists_every_key_once),
    };
    return cmocka_run_group_tests_name("dmap", tests, NULL, NULL);
}
