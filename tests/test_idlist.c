/*
 * test_idlist.c - id lists as the JSON arrays of schema 7: what the writer
 * writes, what the readers accept, and what they leave to SQLite.
 */
#include "testutil.h"

#include "idlist.h"

/* Walk text; the ids into out (up to 8), their count into *n.  Returns
 * idlist_next's last answer (0 or -1). */
static int walk(const char *text, int64_t *out, size_t *n)
{
    struct idlist_iter it;
    int64_t v;
    int rc;

    *n = 0;
    idlist_begin(&it, text);
    while ((rc = idlist_next(&it, &v)) > 0) {
        assert_true(*n < 8);
        out[(*n)++] = v;
    }
    return rc;
}

static void idlist__written_arrays_read_back_the_same_ids(void **state)
{
    static const int64_t ids[] = { 0, 7, 12, 40, 99999, 123456789012LL, -3 };
    struct buf b = BUF_INIT;
    int64_t got[8];
    size_t n, at0, at1, at2;
    (void)state;

    buf_adds(&b, "x"); /* arrays start anywhere in the buffer */
    at0 = idlist_open(&b);
    for (size_t i = 0; i < 7; i++)
        idlist_add(&b, ids[i]);
    idlist_close(&b);
    at1 = idlist_open(&b);
    idlist_add(&b, 5);
    idlist_close(&b);
    at2 = idlist_open(&b);
    idlist_close(&b);
    assert_int_equal(at0, 1);
    assert_string_equal(b.ptr + at0, "[0,7,12,40,99999,123456789012,-3]");
    assert_string_equal(b.ptr + at1, "[5]");
    assert_string_equal(b.ptr + at2, "[]");
    assert_int_equal(walk(b.ptr + at0, got, &n), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(got, ids, sizeof(ids));
    assert_int_equal(walk(b.ptr + at2, got, &n), 0);
    assert_int_equal(n, 0);
    buf_release(&b);
}

/* Every length of id, the extremes among them, and a buffer grown from
 * nothing one id at a time. */
static void idlist__ids_of_every_length_are_written_exactly(void **state)
{
    static const int64_t ids[] = { 9,
                                   10,
                                   99,
                                   100,
                                   999999,
                                   1000000,
                                   999999999999999999LL,
                                   1000000000000000000LL,
                                   INT64_MAX,
                                   INT64_MIN,
                                   -1,
                                   -10 };
    const int nids = (int)(sizeof(ids) / sizeof(ids[0]));
    struct buf b = BUF_INIT;
    size_t at;
    (void)state;

    for (int k = 0; k < 200; k++) {
        buf_reset(&b);
        at = idlist_open(&b);
        for (int i = 0; i < k; i++)
            idlist_add(&b, ids[i % nids]);
        idlist_close(&b);
        struct buf want = BUF_INIT;
        buf_addch(&want, '[');
        for (int i = 0; i < k; i++)
            buf_printf(&want, "%s%lld", i ? "," : "", (long long)ids[i % nids]);
        buf_addch(&want, ']');
        assert_string_equal(b.ptr + at, want.ptr);
        assert_int_equal(b.len, at + want.len + 1);
        buf_release(&want);
    }
    buf_release(&b);
}

static void
idlist__reads_json_arrays_of_integers_and_refuses_the_rest(void **state)
{
    static const struct {
        const char *text;
        int rc;       /* the walk's end: 0 read whole, -1 malformed */
        size_t n;     /* ids read before the end */
        int64_t last; /* the last of them */
    } cases[] = {
        { "[1,2,3]", 0, 3, 3 },
        { " [ 1 ,\n2\t, 30 ] ", 0, 3, 30 }, /* json_array() or by hand */
        { "[]", 0, 0, 0 },
        { "[ ]", 0, 0, 0 },
        { "[-0]", 0, 1, 0 },
        { "[4611686018427387903]", -1, 0, 0 }, /* 2^62 - 1: too large */
        { "[288230376151711743]", 0, 1, 288230376151711743LL },
        { "", -1, 0, 0 },
        { "1", -1, 0, 0 },
        { "{\"a\":1}", -1, 0, 0 },
        { "[1,2", -1, 2, 2 },
        { "[1,]", -1, 1, 1 },
        { "[,1]", -1, 0, 0 },
        { "[01]", -1, 0, 0 },
        { "[1.5]", -1, 1, 1 },
        { "[1e3]", -1, 1, 1 },
        { "[\"1\"]", -1, 0, 0 },
        { "[1] x", -1, 1, 1 },
        { "[1][2]", -1, 1, 1 },
        { "[null]", -1, 0, 0 },
        { "[-]", -1, 0, 0 },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got[8] = { 0 };
        size_t n;
        int rc = walk(cases[i].text, got, &n);
        if (rc != cases[i].rc || n != cases[i].n ||
            (n && got[n - 1] != cases[i].last))
            fail_msg("'%s': rc %d, %zu ids, last %lld", cases[i].text, rc, n,
                     n ? (long long)got[n - 1] : 0LL);
    }
}

static void idlist__walk_stays_at_its_end(void **state)
{
    struct idlist_iter it;
    int64_t v = 42;
    (void)state;

    idlist_begin(&it, "[9]");
    assert_int_equal(idlist_next(&it, &v), 1);
    assert_int_equal(v, 9);
    assert_int_equal(idlist_next(&it, &v), 0);
    assert_int_equal(idlist_next(&it, &v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idlist__written_arrays_read_back_the_same_ids),
        cmocka_unit_test(idlist__ids_of_every_length_are_written_exactly),
        cmocka_unit_test(
            idlist__reads_json_arrays_of_integers_and_refuses_the_rest),
        cmocka_unit_test(idlist__walk_stays_at_its_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
