/*
 * test_store.c - the SQLite results database: schema, resume, batches,
 * refusal of foreign files, concurrency and crash safety.
 *
 * Raw SQLite calls here play "another program" (a foreign file, a second
 * reader); the code under test only talks through store.h.
 */
#include "testdb.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "store.h"

static const char sha_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char sha_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

struct fixture {
    char *dir;
    char path[4200];
};

static int setup_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/h.db", f->dir);
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    struct fixture *f = *state;
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Open, asserting success. */
static struct store *open_ok(const char *path)
{
    struct store *s = NULL;
    struct err err = ERR_INIT;
    int rc = store_open(&s, path, &err);
    if (rc)
        fprintf(stderr, "store_open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static int64_t new_run(struct store *s, const char *options)
{
    struct store_run run = { 1700000000, "/repo", "Dockerfile", options,
                             "0.1.0" };
    struct err err = ERR_INIT;
    int64_t id = 0;
    int resumed = -1;
    assert_int_equal(store_run_find_or_create(s, &run, &id, &resumed, &err), 0);
    assert_true(id > 0);
    return id;
}

/* Make a 40-hex sha from a number. */
static void sha_of(unsigned n, char out[41])
{
    snprintf(out, 41, "%040x", n);
}

/* Put a build with nsteps steps (hits + misses = nsteps) and 2 transfers. */
static int put_build(struct store *s, int64_t run, const char *strategy,
                     const char *sha, int64_t seq, size_t nsteps,
                     struct err *err)
{
    struct store_step steps[16];
    struct store_transfer t[2] = {
        { STORE_PULL, "sha256:1111", 1000, STORE_KIND_LAYER, NULL },
        { STORE_PUSH, "sha256:2222", 500, STORE_KIND_MANIFEST, NULL },
    };
    struct store_build b = { run,      sha,        seq,
                             strategy, "buildkit", STORE_STATUS_OK,
                             12.5,     1000,       500,
                             0,        0,          NULL,
                             -1,       -1,         0,
                             0 };
    size_t i;

    assert_true(nsteps <= 16);
    for (i = 0; i < nsteps; i++) {
        struct store_step st = { (int64_t)i,
                                 0,
                                 (int64_t)i + 1,
                                 "RUN",
                                 i % 2 ? STORE_OUTCOME_MISS : STORE_OUTCOME_HIT,
                                 1.0,
                                 100,
                                 10,
                                 NULL };
        steps[i] = st;
        if (i % 2)
            b.steps_miss++;
        else
            b.steps_hit++;
    }
    return store_build_put(s, &b, steps, nsteps, t, 2, NULL, err);
}

/* Make the schema 7 file at path the schema 6 file of the same rows that
 * an older harness wrote (tests/fixtures/schema/7-to-6.sql). */
static void make_schema_6(const char *path)
{
    size_t len;
    char *sql = tu_fixture(&len, "schema/7-to-6.sql");
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(sql);
}

static void assert_refused_unchanged(const char *path, const char *want)
{
    size_t n0, n1;
    char *before = tu_slurp(path, &n0);
    struct store *s = NULL;
    struct err err = ERR_INIT;
    char *after;

    assert_int_equal(store_open(&s, path, &err), ERR_DB);
    assert_null(s);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, want));
    after = tu_slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static void store__new_database_has_the_current_schema_version(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);

    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(tu_sql_count(f->path, "PRAGMA application_id"),
                     STORE_APPLICATION_ID);
    assert_int_equal(
        tu_sql_count(f->path,
                  "SELECT count(*) FROM sqlite_schema WHERE type IN "
                  "('table', 'view') AND name IN ('runs','commits','builds',"
                  "'steps','transfers')"),
        5);
    /* steps and transfers are views (schema 5) with the documented columns */
    assert_int_equal(
        tu_sql_count(f->path,
                     "SELECT count(*) FROM pragma_table_info('steps') WHERE "
                     "name IN ('build_id', 'step_index', 'stage', 'line', "
                     "'instruction', 'outcome', 'seconds', 'layer_bytes', "
                     "'bytes_pulled', 'reason')"),
        10);
    assert_int_equal(
        tu_sql_count(f->path,
                     "SELECT count(*) FROM pragma_table_info('transfers') "
                     "WHERE name IN ('build_id', 'seq', 'direction', "
                     "'digest', 'bytes', 'kind')"),
        6);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "pragma_journal_mode WHERE "
                                        "journal_mode = 'wal'"),
                     1);
}

static void store__in_memory_database_works(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run;

    (void)state;
    run = new_run(s, "{}");
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 3, &err), 0);
    assert_int_equal(store_build_done(s, run, "local", sha_a, &err), 1);
    store_close(s);
}

static void store__same_run_is_resumed_and_other_options_are_new(void **state)
{
    struct store *s = open_ok(":memory:");
    struct store_run run = { 0, "/repo", "Dockerfile", "{\"a\":1}", "0.1.0" };
    struct err err = ERR_INIT;
    int64_t id1, id2, id3;
    int resumed;

    (void)state;
    assert_int_equal(store_run_find_or_create(s, &run, &id1, &resumed, &err),
                     0);
    assert_int_equal(resumed, 0);
    assert_int_equal(store_run_find_or_create(s, &run, &id2, &resumed, &err),
                     0);
    assert_int_equal(resumed, 1);
    assert_true(id1 == id2);
    run.options = "{\"a\":2}";
    assert_int_equal(store_run_find_or_create(s, &run, &id3, &resumed, &err),
                     0);
    assert_int_equal(resumed, 0);
    assert_true(id3 != id1);
    store_close(s);
}

static void store__build_is_written_with_its_steps_and_transfers(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");

    assert_int_equal(put_build(s, run, "inline", sha_a, 0, 5, &err), 0);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 5);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers"), 2);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps WHERE "
                                        "outcome = 'hit'"),
                     3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers "
                                        "WHERE direction = 'push' AND kind = "
                                        "'manifest'"),
                     1);
}

/* Read one build's steps or transfers back as text, one row per line
 * (the rows of sql; id is its parameter when it has one). */
static void dump_rows(const char *path, const char *sql, int64_t id,
                      char *out, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t len = 0;

    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_bind_parameter_count(st))
        sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            len += (size_t)snprintf(out + len, n - len, "%s|",
                                    v ? (const char *)v : "NULL");
            assert_true(len < n);
        }
        len += (size_t)snprintf(out + len, n - len, "\n");
        assert_true(len < n);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/*
 * Builds share stored lists of steps and transfers (schema 5), and lists
 * share items; builds that differ in one field only must still read back
 * their own rows: a NULL reason is not an empty one, the same digest
 * pulled is not the same digest pushed, and an item is not its position.
 */
static void store__builds_sharing_lists_read_back_their_own_rows(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), first = 0;
    static const char d1[] = "sha256:"
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    struct store_step a[2] = {
        { 0, 0, 1, "FROM", STORE_OUTCOME_NONE, 0.5, 0, 0, NULL },
        { 1, 0, 2, "RUN", STORE_OUTCOME_MISS, 2.0, 300, 0, "Dockerfile changed" },
    };
    struct store_step b[2] = { a[0], a[1] }, c[2] = { a[0], a[1] };
    struct store_transfer xa[2] = {
        { STORE_PULL, d1, 300, STORE_KIND_LAYER, NULL },
        { STORE_PUSH, d1, 300, STORE_KIND_LAYER, NULL },
    };
    struct store_transfer xb[2] = { xa[1], xa[0] }; /* the same, reordered */
    struct store_transfer xc[2] = { xa[0], { STORE_PULL, d1, 300,
                                             STORE_KIND_CACHE, NULL } };
    struct store_build base = { run, sha_a, 0, "local", "buildkit",
                                STORE_STATUS_OK, 3.0, 300, 300, 0, 1, NULL,
                                -1, -1, 0, 0 };
    struct store_build_rows v[4];
    char want[2048], got[2048];
    const char *steps_sql = "SELECT step_index, stage, line, instruction, "
                            "outcome, seconds, layer_bytes, bytes_pulled, "
                            "reason FROM steps WHERE build_id = ? ORDER BY "
                            "step_index";
    const char *xf_sql = "SELECT seq, direction, digest, bytes, kind FROM "
                         "transfers WHERE build_id = ? ORDER BY seq";

    b[1].reason = "";          /* differs from a in the reason only */
    c[1].seconds = 2.0000001;  /* and c in the seconds only */
    for (int i = 0; i < 4; i++)
        v[i] = (struct store_build_rows){ base, a, 2, xa, 2 };
    v[1].build.strategy = "gha";
    v[1].steps = b;
    v[1].xf = xb;
    v[2].build.strategy = "s3";
    v[2].steps = c;
    v[2].xf = xc;
    v[3].build.strategy = "none"; /* the same lists as the first */
    assert_int_equal(store_builds_put(s, v, 4, &first, &err), 0);
    /* and in a second call, which finds the stored lists */
    base.commit_sha = sha_b;
    base.seq = 1;
    v[0].build = base;
    v[0].steps = b;
    v[0].xf = xc;
    assert_int_equal(store_builds_put(s, v, 1, NULL, &err), 0);
    /* a digest given as its bytes is the same transfer as its text */
    unsigned char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (unsigned char)((i % 16) * 0x11);
    struct store_transfer xr[2] = { { STORE_PULL, NULL, 300, STORE_KIND_LAYER,
                                      raw },
                                    { STORE_PULL, NULL, 300, STORE_KIND_CACHE,
                                      raw } };
    base.seq = 2;
    base.strategy = "inline";
    v[0].build = base;
    v[0].xf = xr;
    assert_int_equal(store_builds_put(s, v, 1, NULL, &err), 0);
    assert_int_equal(store_batch_commit(s, &err), 0);
    store_close(s);

    dump_rows(f->path, steps_sql, first, want, sizeof(want));
    assert_non_null(strstr(want, "1|0|2|RUN|miss|2.0|300|0|Dockerfile changed|"));
    dump_rows(f->path, steps_sql, first + 3, got, sizeof(got));
    assert_string_equal(got, want);
    dump_rows(f->path, steps_sql, first + 1, got, sizeof(got));
    assert_non_null(strstr(got, "|300|0||\n"));  /* empty, not NULL */
    assert_non_null(strstr(want, "|0|0|NULL|\n"));
    dump_rows(f->path, steps_sql, first + 2, got, sizeof(got));
    assert_non_null(strstr(got, "2.0000001"));
    dump_rows(f->path, xf_sql, first + 1, got, sizeof(got));
    assert_non_null(strstr(got, "0|push|"));
    assert_non_null(strstr(got, "1|pull|"));
    dump_rows(f->path, xf_sql, first + 2, got, sizeof(got));
    assert_non_null(strstr(got, "1|pull|sha256:0011"));
    assert_non_null(strstr(got, "|300|cache|"));
    dump_rows(f->path, xf_sql, first + 4, want, sizeof(want));
    assert_string_equal(got, want);
    dump_rows(f->path, xf_sql, first + 5, want, sizeof(want));
    assert_string_equal(got, want);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "transfer_items"),
                     3);
    /* stored once: two step lists of the first batch are the same list */
    assert_int_equal(tu_sql_count(f->path, "SELECT count(DISTINCT step_list) "
                                        "FROM builds WHERE commit_sha = '"
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                        "aaaa'"),
                     3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 12);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers"),
                     12);
}

/* A strategy's next build is compared with its previous one step by step:
 * what changed is stored, what did not is shared, and every build reads
 * back its own rows. */
static void
store__next_build_of_a_strategy_shares_its_unchanged_steps(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), first = 0, id;
    struct store_step a[3] = {
        { 0, 0, 1, "FROM", STORE_OUTCOME_NONE, 0.5, 0, 0, NULL },
        { 1, 0, 2, "COPY", STORE_OUTCOME_MISS, 2.0, 300, 0, "files changed" },
        { 2, 0, 3, "RUN", STORE_OUTCOME_HIT, 0.1, 90, 0, NULL },
    };
    struct store_step b[3] = { a[0], a[1], a[2] };
    struct store_step c[2] = { a[0], a[2] }; /* shorter: RUN moved up */
    struct store_build base = {
        run,  sha_a, 0,  "local", "buildkit", STORE_STATUS_OK, 3.0, 0, 0, 1, 1,
        NULL, -1,    -1, 0,       0
    };
    static const char *const shas[] = {
        "1111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222",
        "3333333333333333333333333333333333333333",
        "4444444444444444444444444444444444444444",
    };
    const struct store_step *lists[] = { a, b, a, c };
    const size_t lens[] = { 3, 3, 3, 2 };
    char got[2048];
    const char *steps_sql = "SELECT step_index, stage, line, instruction, "
                            "outcome, seconds, layer_bytes, bytes_pulled, "
                            "reason FROM steps WHERE build_id = ? ORDER BY "
                            "step_index";

    b[1].seconds = 2.5; /* the next commit's COPY takes longer */
    c[1].step_index = 1;
    for (size_t i = 0; i < 4; i++) {
        base.commit_sha = shas[i];
        base.seq = (int64_t)i;
        assert_int_equal(
            store_build_put(s, &base, lists[i], lens[i], NULL, 0, &id, &err),
            0);
        if (!i)
            first = id;
    }
    assert_int_equal(store_batch_commit(s, &err), 0);
    store_close(s);

    dump_rows(f->path, steps_sql, first, got, sizeof(got));
    assert_string_equal(got, "0|0|1|FROM|none|0.5|0|0|NULL|\n"
                             "1|0|2|COPY|miss|2.0|300|0|files changed|\n"
                             "2|0|3|RUN|hit|0.1|90|0|NULL|\n");
    dump_rows(f->path, steps_sql, first + 1, got, sizeof(got));
    assert_string_equal(got, "0|0|1|FROM|none|0.5|0|0|NULL|\n"
                             "1|0|2|COPY|miss|2.5|300|0|files changed|\n"
                             "2|0|3|RUN|hit|0.1|90|0|NULL|\n");
    dump_rows(f->path, steps_sql, first + 3, got, sizeof(got));
    assert_string_equal(got, "0|0|1|FROM|none|0.5|0|0|NULL|\n"
                             "1|0|3|RUN|hit|0.1|90|0|NULL|\n");
    /* four steps in all; the third build's list is the first's */
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM step_items"),
                     4);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(DISTINCT step_list) "
                                           "FROM builds"),
                     3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 11);
}

/* The steps view shows a build's steps as given, whatever their indexes:
 * a list is one row of item ids in its order (schema 7), with its indexes
 * kept beside when they are not 0, 1, 2, ... */
static void store__steps_view_shows_each_step_at_the_index_given(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), id0 = 0, id1 = 0;
    struct store_step a[3] = {
        { 0, 0, 1, "FROM", STORE_OUTCOME_NONE, 0.5, 0, 0, NULL },
        { 1, 1, 4, "COPY", STORE_OUTCOME_MISS, 2.0, 300, 0, "files changed" },
        { 2, 1, 5, "RUN", STORE_OUTCOME_HIT, 0.1, 90, 7, NULL },
    };
    struct store_step b[3] = { a[0], a[1], a[2] };
    struct store_build base = {
        run,  sha_a, 0,  "local", "buildkit", STORE_STATUS_OK, 3.0, 0, 0, 1, 1,
        NULL, -1,    -1, 0,       0
    };
    char got[2048];
    const char *steps_sql = "SELECT step_index, stage, line, instruction, "
                            "outcome, seconds, layer_bytes, bytes_pulled, "
                            "reason FROM steps WHERE build_id = ? ORDER BY "
                            "step_index";

    b[0].step_index = 7; /* given out of order, with gaps */
    b[1].step_index = 3;
    b[2].step_index = 12;
    assert_int_equal(store_build_put(s, &base, a, 3, NULL, 0, &id0, &err), 0);
    base.strategy = "gha";
    assert_int_equal(store_build_put(s, &base, b, 3, NULL, 0, &id1, &err), 0);
    store_close(s);

    dump_rows(f->path, steps_sql, id0, got, sizeof(got));
    assert_string_equal(got, "0|0|1|FROM|none|0.5|0|0|NULL|\n"
                             "1|1|4|COPY|miss|2.0|300|0|files changed|\n"
                             "2|1|5|RUN|hit|0.1|90|7|NULL|\n");
    dump_rows(f->path, steps_sql, id1, got, sizeof(got));
    assert_string_equal(got, "3|1|4|COPY|miss|2.0|300|0|files changed|\n"
                             "7|0|1|FROM|none|0.5|0|0|NULL|\n"
                             "12|1|5|RUN|hit|0.1|90|7|NULL|\n");
    /* one row a list; the items are shared, the indexes kept only where
     * they are not the positions */
    dump_rows(f->path,
              "SELECT items, positions FROM step_packs ORDER BY id", 0, got,
              sizeof(got));
    assert_string_equal(got, "[1,2,3]|NULL|\n[1,2,3]|[7,3,12]|\n");
    dump_rows(f->path,
              "SELECT list_id, step_index, item_id FROM step_lists"
              " ORDER BY list_id, step_index",
              0, got, sizeof(got));
    assert_string_equal(got, "1|0|1|\n1|1|2|\n1|2|3|\n"
                             "2|3|2|\n2|7|1|\n2|12|3|\n");
}

/* The rows of every view of a file, for comparing a file before and after
 * a migration. */
static void dump_views(const char *path, char *out, size_t n)
{
    static const char *const sql[] = {
        "SELECT * FROM builds ORDER BY id",
        "SELECT * FROM steps ORDER BY build_id, step_index",
        "SELECT * FROM transfers ORDER BY build_id, seq",
        "SELECT * FROM step_lists ORDER BY list_id, step_index",
        "SELECT * FROM transfer_lists ORDER BY list_id, seq",
    };
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        dump_rows(path, sql[i], 0, out + len, n - len);
        len += strlen(out + len);
    }
}

/* Migration 6 -> 7 packs each list into one row: every row of builds,
 * steps, transfers, step_lists and transfer_lists stays as it was, even a
 * list whose indexes are not its positions; and replays go on in it. */
static void store__version_6_file_keeps_its_rows_in_one_row_a_list(
    void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    static char before[65536], after[65536];
    char sha[41];
    sqlite3 *db;

    for (unsigned i = 0; i < 6; i++) {
        sha_of(i + 1, sha);
        assert_int_equal(put_build(s, run, "local", sha, i, 3 + i % 3, &err),
                         0);
        assert_int_equal(put_build(s, run, "gha", sha, i, 4, &err), 0);
    }
    store_close(s);
    make_schema_6(f->path);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE type = 'table' AND name IN"
                                        " ('step_lists', 'transfer_lists')"),
                     2);
    /* a list as an older writer could leave it: indexes 1 and 5, written
     * out of order, under a build of its own */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO step_lists VALUES (90, 5, 2), (90, 1, 3);"
                     "INSERT INTO transfer_lists VALUES (90, 2, 1), (90, 0, 2);"
                     "INSERT INTO builds (id, run_id, commit_sha, seq,"
                     " strategy, builder, status, seconds, bytes_pulled,"
                     " bytes_pushed, steps_hit, steps_miss, step_list,"
                     " transfer_list) VALUES (90, 1, '"
                     "cccccccccccccccccccccccccccccccccccccccc', 9, 'local',"
                     " 'legacy', 'ok', 1, 0, 0, 1, 1, 90, 90)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    dump_views(f->path, before, sizeof(before));
    assert_non_null(strstr(before, "90|1|0|3|RUN|"));
    assert_non_null(strstr(before, "90|5|0|2|RUN|"));

    s = open_ok(f->path);
    assert_int_equal(store_schema_version(s), 7);
    store_close(s);
    dump_views(f->path, after, sizeof(after));
    assert_string_equal(after, before);
    /* the next build takes ids after the migrated lists */
    s = open_ok(f->path);
    sha_of(100, sha);
    assert_int_equal(put_build(s, run, "s3", sha, 10, 2, &err), 0);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps WHERE"
                                        " build_id = (SELECT id FROM builds"
                                        " WHERE strategy = 's3')"),
                     2);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM sqlite_schema"
                                        " WHERE type = 'view' AND name IN"
                                        " ('step_lists', 'transfer_lists',"
                                        " 'steps', 'transfers')"),
                     4);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM step_packs"
                                        " WHERE id = 90 AND items = '[3,2]'"
                                        " AND positions = '[1,5]'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM"
                                        " transfer_packs WHERE id = 90 AND"
                                        " positions = '[0,2]'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM step_packs"
                                        " WHERE positions IS NOT NULL"),
                     1);
    /* and suggests a page cache that holds a view's items to its readers */
    assert_int_equal(tu_sql_count(f->path, "PRAGMA default_cache_size"), 4096);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "pragma_integrity_check WHERE "
                                        "integrity_check = 'ok'"),
                     1);
}

static void
store__build_recorded_twice_is_refused_without_duplicate(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");

    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err), 0);
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "already recorded"));
    assert_non_null(strstr(err.msg, sha_a));
    /* the same commit under another strategy is another build */
    assert_int_equal(put_build(s, run, "gha", sha_a, 0, 2, &err), 0);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 2);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 4);
}

/* The process's resident memory in bytes (/proc/self/statm). */
static long long resident_bytes(void)
{
    long long size = 0, resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");

    assert_non_null(fp);
    assert_int_equal(fscanf(fp, "%lld %lld", &size, &resident), 2);
    fclose(fp);
    return resident * sysconf(_SC_PAGESIZE);
}

/* A replay's writer holds a bounded page cache, whatever the file suggests
 * to its readers (PRAGMA default_cache_size, 64 MB of 16 KiB pages): on a
 * new file, writing 32 MB of distinct steps grows the process by about the
 * writer's own 8 MB cache, not by the file's size. */
static void store__writer_page_cache_stays_bounded(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct err err = ERR_INIT;
    int64_t run;
    static char reason[16][2048];
    struct store_step steps[16];
    char sha[41];
    unsigned i, j;
    long long before, grown;

#ifdef __SANITIZE_ADDRESS__
    skip(); /* AddressSanitizer keeps freed memory resident (quarantine) */
#endif
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer's shadow of every byte touched is resident */
#endif
    s = open_ok(f->path); /* after the skips: a skip would leak it */
    run = new_run(s, "{}");
    before = resident_bytes();

    for (i = 0; i < 1000; i++) {
        struct store_build b = { run,  sha,  i,   "local", "buildkit",
                                 STORE_STATUS_OK, 1.0,  0,   0,
                                 0,    16,   NULL, -1,  -1,
                                 0,    0 };
        sha_of(i + 1, sha);
        for (j = 0; j < 16; j++) {
            /* every step an item of its own: 2 KB that no other shares */
            memset(reason[j], 'a' + (int)(j % 26), sizeof(reason[j]) - 1);
            snprintf(reason[j], 32, "build %u step %u ", i, j);
            reason[j][strlen(reason[j])] = ' ';
            steps[j] = (struct store_step){ j, 0, j + 1, "RUN",
                                            STORE_OUTCOME_MISS, 1.0, 100, 0,
                                            reason[j] };
        }
        assert_int_equal(
            store_build_put(s, &b, steps, 16, NULL, 0, NULL, &err), 0);
        assert_int_equal(store_batch_maybe_commit(s, &err), 0);
    }
    assert_int_equal(store_batch_commit(s, &err), 0);
    grown = resident_bytes() - before;
    if (grown >= 20 * 1024 * 1024)
        fail_msg("the writer's memory grew by %lld bytes", (long long)grown);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"),
                     16000);
}

static void store__resumed_run_skips_builds_already_done(void **state)
{
    struct fixture *f = *state;
    struct err err = ERR_INIT;
    struct store *s = open_ok(f->path);
    int64_t run = new_run(s, "{\"strategy\":\"local\"}"), run2;
    char sha[41];
    unsigned i, written = 0;

    for (i = 0; i < 5; i++) {
        sha_of(i, sha);
        assert_int_equal(put_build(s, run, "local", sha, i, 2, &err), 0);
    }
    store_close(s);

    /* the rerun asks before each build and writes only the missing ones */
    s = open_ok(f->path);
    run2 = new_run(s, "{\"strategy\":\"local\"}");
    assert_true(run2 == run);
    for (i = 0; i < 8; i++) {
        sha_of(i, sha);
        int done = store_build_done(s, run, "local", sha, &err);
        assert_true(done == (i < 5));
        if (!done) {
            assert_int_equal(put_build(s, run, "local", sha, i, 2, &err), 0);
            written++;
        }
    }
    store_close(s);
    assert_int_equal(written, 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 8);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(DISTINCT commit_sha) "
                                        "FROM builds"),
                     8);
}

static void store__batch_is_visible_to_others_only_once_committed(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");

    store_batch_interval(s, 3600);
    assert_int_equal(store_batch_begin(s, &err), 0);
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err), 0);
    assert_int_equal(store_batch_maybe_commit(s, &err), 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 0);
    assert_int_equal(store_batch_commit(s, &err), 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 1);
    store_close(s);
}

static void store__batch_commits_once_the_interval_has_passed(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    struct timespec ts = { 0, 60 * 1000 * 1000 };

    store_batch_interval(s, 0.05);
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err), 0);
    nanosleep(&ts, NULL);
    assert_int_equal(store_batch_maybe_commit(s, &err), 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 1);
    store_close(s);
}

static void store__failed_build_leaves_the_rest_of_the_batch(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    struct store_step dup[2] = {
        { 0, 0, 1, "FROM", STORE_OUTCOME_NONE, 0, 0, 0, NULL },
        { 0, 0, 2, "RUN", STORE_OUTCOME_MISS, 1, 5, 0, NULL },
    };
    struct store_build b = { run,     sha_b,      1,
                             "local", "buildkit", STORE_STATUS_FAILED,
                             0,       0,          0,
                             0,       1,          "boom",
                             -1,      -1,         0,
                             0 };

    (void)state;
    store_batch_interval(s, 3600);
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 3, &err), 0);
    /* two steps with the same index: the build is rejected whole */
    assert_int_equal(store_build_put(s, &b, dup, 2, NULL, 0, NULL, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "step index 0 appears twice"));
    assert_int_equal(store_batch_commit(s, &err), 0);
    assert_int_equal(store_build_done(s, run, "local", sha_a, &err), 1);
    assert_int_equal(store_build_done(s, run, "local", sha_b, &err), 0);
    store_close(s);
}

static void store__malformed_commit_id_is_refused(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    struct store_commit c = { "abc123", "", 0, "short" };

    (void)state;
    assert_int_equal(put_build(s, run, "local", "ABCD", 0, 1, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "malformed commit id 'ABCD'"));
    assert_int_equal(store_commit_put(s, &c, &err), ERR_INVALID);
    c.sha = sha_a;
    assert_int_equal(store_commit_put(s, &c, &err), 0);
    assert_int_equal(store_commit_put(s, &c, &err), 0); /* ignored */
    store_close(s);
}

static void store__summary_totals_each_strategy_in_order(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), other = new_run(s, "{\"x\":1}");
    struct store_summary *sum = NULL;
    struct store_build failed = {
        run, sha_b, 1, "gha", "buildkit", STORE_STATUS_FAILED,
        2.0, 7,     0, 0,     0,          "COPY failed: file not found 'x'",
        -1,  -1,    0, 0
    };
    size_t n = 0;

    (void)state;
    assert_int_equal(put_build(s, run, "gha", sha_a, 0, 4, &err), 0);
    assert_int_equal(put_build(s, run, "local", sha_a, 0, 3, &err), 0);
    assert_int_equal(put_build(s, run, "local", sha_b, 1, 3, &err), 0);
    assert_int_equal(store_build_put(s, &failed, NULL, 0, NULL, 0, NULL, &err),
                     0);
    assert_int_equal(put_build(s, other, "gha", sha_b, 0, 4, &err), 0);

    assert_int_equal(store_summary(s, run, &sum, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(sum[0].strategy, "gha");
    assert_int_equal(sum[0].builds, 2);
    assert_int_equal(sum[0].builds_ok, 1);
    assert_int_equal(sum[0].steps_hit, 2);
    assert_int_equal(sum[0].steps_miss, 2);
    assert_int_equal(sum[0].bytes_pulled, 1007);
    assert_true(sum[0].seconds > 14.4 && sum[0].seconds < 14.6);
    assert_string_equal(sum[1].strategy, "local");
    assert_int_equal(sum[1].builds, 2);
    assert_int_equal(sum[1].steps_hit, 4);
    assert_int_equal(sum[1].steps_miss, 2);
    assert_int_equal(sum[1].bytes_pushed, 1000);
    free(sum);
    assert_int_equal(store_summary(s, 9999, &sum, &n, &err), 0);
    assert_int_equal(n, 0);
    free(sum);
    store_close(s);
}

static void store__enum_names_and_parsers_agree(void **state)
{
    static const struct {
        const char *name;
        int value;
    } outcomes[] = { { "hit", STORE_OUTCOME_HIT },
                     { "miss", STORE_OUTCOME_MISS },
                     { "none", STORE_OUTCOME_NONE },
                     { "skipped", STORE_OUTCOME_SKIPPED } },
      kinds[] = { { "layer", STORE_KIND_LAYER },
                  { "config", STORE_KIND_CONFIG },
                  { "manifest", STORE_KIND_MANIFEST },
                  { "cache", STORE_KIND_CACHE } };
    enum store_outcome o;
    enum store_kind k;
    enum store_status st;
    enum store_direction d;
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        assert_string_equal(store_outcome_name(outcomes[i].value),
                            outcomes[i].name);
        assert_int_equal(store_outcome_parse(outcomes[i].name, &o), 0);
        assert_int_equal(o, outcomes[i].value);
        assert_string_equal(store_kind_name(kinds[i].value), kinds[i].name);
        assert_int_equal(store_kind_parse(kinds[i].name, &k), 0);
        assert_int_equal(k, kinds[i].value);
    }
    assert_int_equal(store_status_parse("failed", &st), 0);
    assert_int_equal(st, STORE_STATUS_FAILED);
    assert_string_equal(store_status_name(STORE_STATUS_OK), "ok");
    assert_int_equal(store_direction_parse("push", &d), 0);
    assert_int_equal(d, STORE_PUSH);
    assert_int_equal(store_outcome_parse("HIT", &o), ERR_INVALID);
    assert_int_equal(store_status_parse("", &st), ERR_INVALID);
}

static void store__foreign_sqlite_file_is_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE notes (id INTEGER, body "
                                  "TEXT); INSERT INTO notes VALUES (1, 'x')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused_unchanged(f->path, "not a harness database");
}

static void store__text_file_is_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;

    tu_write(f->dir, "h.db", "these are my notes, not a database\n");
    assert_refused_unchanged(f->path, "not a harness database");
}

static void store__newer_schema_is_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;

    store_close(open_ok(f->path));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    /* fold the WAL back so the main file holds everything */
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_refused_unchanged(f->path, "written by a newer harness");
}

static void store__data_survives_close_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");

    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err), 0);
    store_close(s);
    s = open_ok(f->path);
    assert_int_equal(store_build_done(s, run, "local", sha_a, &err), 1);
    assert_int_equal(store_build_done(s, run, "local", sha_b, &err), 0);
    store_close(s);
}

/* Child process body: write n builds of one strategy, commit each time. */
static void write_builds_child(const char *path, const char *strategy,
                               unsigned n, double interval)
{
    struct store *s = NULL;
    struct err err = ERR_INIT;
    struct store_run run = { 1, "/repo", "Dockerfile", "{}", "0.1.0" };
    int64_t run_id;
    int resumed;
    char sha[41];
    unsigned i;

    if (store_open(&s, path, &err) ||
        store_run_find_or_create(s, &run, &run_id, &resumed, &err))
        goto fail;
    store_batch_interval(s, interval);
    for (i = 0; i < n; i++) {
        sha_of(i, sha);
        if (put_build(s, run_id, strategy, sha, i, 1 + i % 7, &err) ||
            store_batch_maybe_commit(s, &err))
            goto fail;
    }
    if (store_batch_commit(s, &err))
        goto fail;
    store_close(s);
    _exit(0);
fail:
    fprintf(stderr, "child %s: %s\n", strategy, err.msg);
    _exit(1);
}

static void store__two_processes_writing_one_file_both_succeed(void **state)
{
    struct fixture *f = *state;
    pid_t a, b;
    int sa = -1, sb = -1;

    a = fork();
    assert_true(a >= 0);
    if (a == 0)
        write_builds_child(f->path, "local", 300, 0);
    b = fork();
    assert_true(b >= 0);
    if (b == 0)
        write_builds_child(f->path, "gha", 300, 0.01);
    assert_int_equal(waitpid(a, &sa, 0), a);
    assert_int_equal(waitpid(b, &sb, 0), b);
    assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
    assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 600);
}

static void store__kill_during_batches_leaves_only_whole_builds(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct err err = ERR_INIT;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    long long n = 0;
    int status, tries;
    pid_t pid;

    store_close(open_ok(f->path)); /* create the schema first */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        write_builds_child(f->path, "local", 1000000, 0.05);
    /* wait until a few batches are committed, then kill mid-batch */
    for (tries = 0; tries < 500 && n < 200; tries++) {
        nanosleep(&ts, NULL);
        n = tu_sql_count(f->path, "SELECT count(*) FROM builds");
    }
    ts.tv_nsec = 37 * 1000 * 1000;
    nanosleep(&ts, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    s = open_ok(f->path); /* recovers the WAL */
    store_close(s);
    n = tu_sql_count(f->path, "SELECT count(*) FROM builds");
    assert_true(n >= 200);
    /* every build has all of its steps and transfers */
    assert_int_equal(tu_sql_count(f->path,
                               "SELECT count(*) FROM builds b WHERE "
                               "steps_hit + steps_miss != (SELECT count(*) "
                               "FROM steps WHERE build_id = b.id) OR 2 != "
                               "(SELECT count(*) FROM transfers WHERE "
                               "build_id = b.id)"),
                     0);
    /* and the builds are a prefix of the replay: resume continues there */
    assert_int_equal(tu_sql_count(f->path, "SELECT max(seq) + 1 FROM builds"), n);
    (void)err;
}

static void store__version_1_file_gains_the_real_build_tables(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    sqlite3 *db;

    new_run(s, "{}");
    store_close(s);
    /* make it a version-1 file, as an older harness wrote it: two builds,
     * steps with keys, transfers with a rowid */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP VIEW steps; DROP VIEW transfers; "
                                  "DROP VIEW step_lists; DROP VIEW "
                                  "transfer_lists; DROP TABLE step_packs; "
                                  "DROP TABLE transfer_packs; "
                                  "DROP TABLE step_items; "
                                  "DROP TABLE transfer_items; "
                                  "DROP TABLE real_steps; DROP TABLE "
                                  "real_builds; ALTER TABLE builds DROP "
                                  "COLUMN registry_bytes; ALTER TABLE "
                                  "builds DROP COLUMN cache_bytes; "
                                  "ALTER TABLE builds DROP COLUMN "
                                  "step_list; ALTER TABLE builds DROP "
                                  "COLUMN transfer_list; "
                                  "ALTER TABLE builds DROP COLUMN "
                                  "pull_seconds; ALTER TABLE builds DROP "
                                  "COLUMN push_seconds; "
                                  "INSERT INTO builds VALUES (7, 1, '"
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                  "', 0, 'local', 'buildkit', 'ok', 2.5, "
                                  "10, 20, 1, 1, NULL), (8, 1, '"
                                  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                                  "', 1, 'local', 'buildkit', 'failed', 0, "
                                  "30, 0, 0, 0, 'no Dockerfile'); "
                                  "CREATE TABLE steps (build_id INTEGER NOT "
                                  "NULL, step_index INTEGER NOT NULL, stage "
                                  "INTEGER NOT NULL, line INTEGER NOT NULL, "
                                  "instruction TEXT NOT NULL, outcome TEXT "
                                  "NOT NULL, seconds REAL NOT NULL, "
                                  "layer_bytes INTEGER NOT NULL, "
                                  "bytes_pulled INTEGER NOT NULL, reason "
                                  "TEXT, key TEXT, PRIMARY KEY (build_id, "
                                  "step_index)) WITHOUT ROWID; "
                                  "INSERT INTO steps VALUES (7, 0, 0, 1, "
                                  "'FROM', 'none', 0, 0, 0, NULL, 'k0'), "
                                  "(7, 1, 0, 2, 'RUN', 'miss', 2.5, 100, 0, "
                                  "'Dockerfile changed', 'k1'); "
                                  "CREATE TABLE transfers (build_id INTEGER "
                                  "NOT NULL, direction TEXT NOT NULL, "
                                  "digest TEXT NOT NULL, bytes INTEGER NOT "
                                  "NULL, kind TEXT NOT NULL); "
                                  "CREATE INDEX transfers_build ON "
                                  "transfers (build_id); "
                                  "INSERT INTO transfers VALUES (7, 'pull', "
                                  "'sha256:aa', 10, 'layer'), (7, 'push', "
                                  "'sha256:bb', 20, 'layer'), (8, 'pull', "
                                  "'sha256:aa', 30, 'config'); "
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_ok(f->path);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "pragma_table_info('builds') WHERE "
                                        "name IN ('registry_bytes', "
                                        "'cache_bytes')"),
                     2);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM sqlite_schema "
                                        "WHERE name IN ('real_builds', "
                                        "'real_steps')"),
                     2);
    /* version 4: transfers keep their rows, numbered per build in the
     * order written; steps lose the key column */
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers"), 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT sum(seq * bytes) FROM "
                                        "transfers"),
                     20);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "pragma_table_info('steps') WHERE "
                                        "name = 'key'"),
                     0);
    /* version 5: the same rows through the views */
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers "
                                        "WHERE build_id = 8 AND digest = "
                                        "'sha256:aa' AND kind = 'config'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "transfer_items"),
                     3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 2);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps WHERE "
                                        "build_id = 7 AND step_index = 1 AND "
                                        "line = 2 AND outcome = 'miss' AND "
                                        "layer_bytes = 100 AND reason = "
                                        "'Dockerfile changed'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds WHERE "
                                        "id = 8 AND status = 'failed' AND "
                                        "error = 'no Dockerfile' AND "
                                        "step_list IS NULL"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM "
                                        "pragma_integrity_check WHERE "
                                        "integrity_check = 'ok'"),
                     1);
}

static void store__version_5_file_keeps_whole_seconds_and_zero_pull_push(
    void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    const struct store_real_build rb = { run, sha_a, "local", STORE_STATUS_OK,
                                         9.5, -1, -1, "x.log", 1.5, 2.0 };
    sqlite3 *db;

    assert_int_equal(put_build(s, run, "local", sha_a, 0, 2, &err), 0);
    assert_int_equal(store_real_build_put(s, &rb, NULL, 0, NULL, &err), 0);
    store_close(s);
    /* as schema 5 wrote it: seconds held the pull and push too */
    make_schema_6(f->path);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE builds DROP COLUMN "
                                  "pull_seconds; ALTER TABLE builds DROP "
                                  "COLUMN push_seconds; ALTER TABLE "
                                  "real_builds DROP COLUMN pull_seconds; "
                                  "ALTER TABLE real_builds DROP COLUMN "
                                  "push_seconds; PRAGMA user_version = 5",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_ok(f->path);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds WHERE "
                                        "seconds = 12.5 AND pull_seconds = 0 "
                                        "AND push_seconds = 0"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM real_builds "
                                        "WHERE seconds = 9.5 AND pull_seconds "
                                        "IS NULL AND push_seconds IS NULL"),
                     1);
}

static void store__build_keeps_pull_and_push_seconds_apart(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), id = 0;
    struct store_build b = { run,  sha_a, 0,    "cache-from-legacy",
                             "legacy", STORE_STATUS_OK, 20.0, 5000, 700, 3,
                             1, NULL, -1, -1, 4.25, 1.75 };
    struct store_sim_build sb;
    struct store_sim_step *steps = NULL;
    struct store_summary *sum = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(store_build_put(s, &b, NULL, 0, NULL, 0, &id, &err), 0);
    assert_int_equal(store_sim_build_get(s, run, "cache-from-legacy", sha_a,
                                         &sb, &steps, &n, &err),
                     0);
    assert_true(sb.seconds == 20.0);
    assert_true(sb.pull_seconds == 4.25);
    assert_true(sb.push_seconds == 1.75);
    free(steps);
    assert_int_equal(store_summary(s, run, &sum, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(sum[0].seconds == 20.0 && sum[0].pull_seconds == 4.25 &&
                sum[0].push_seconds == 1.75);
    free(sum);
    store_close(s);
}

static void store__real_build_is_written_with_nulls_for_unknowns(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->path);
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}"), id = 0;
    const struct store_real_step steps[] = {
        { 2, "FROM", STORE_OUTCOME_NONE, 0.5 },
        { 3, "RUN", STORE_OUTCOME_HIT, -1 },
        { 0, "COPY", STORE_OUTCOME_MISS, 0.25 },
    };
    const struct store_real_build b = { run, sha_a, "inline",
                                        STORE_STATUS_OK, 3.5, 1070000, -1,
                                        "h.db.logs/x.log", -1, -1 };

    assert_int_equal(store_real_build_put(s, &b, steps, 3, &id, &err), 0);
    assert_true(id > 0);
    store_close(s);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM real_builds "
                                        "WHERE bytes_pushed IS NULL AND "
                                        "pull_seconds IS NULL AND "
                                        "bytes_pulled = 1070000 AND "
                                        "strategy = 'inline'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM real_steps"), 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM real_steps "
                                        "WHERE line IS NULL AND "
                                        "outcome = 'miss'"),
                     1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM real_steps "
                                        "WHERE seconds IS NULL AND line = 3"),
                     1);
}

static void store__real_build_with_bad_sha_or_skipped_step_is_refused(
    void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    const struct store_real_step skipped = { 3, "RUN", STORE_OUTCOME_SKIPPED,
                                             -1 };
    struct store_real_build b = { run, "abc", "local", STORE_STATUS_OK, 1, -1,
                                  -1, "x", -1, -1 };

    (void)state;
    assert_int_equal(store_real_build_put(s, &b, NULL, 0, NULL, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "malformed commit id 'abc'"));
    b.commit_sha = sha_a;
    assert_int_equal(store_real_build_put(s, &b, &skipped, 1, NULL, &err),
                     ERR_INVALID);
    store_close(s);
}

static void store__simulated_build_is_read_back_with_its_steps(void **state)
{
    struct store *s = open_ok(":memory:");
    struct err err = ERR_INIT;
    int64_t run = new_run(s, "{}");
    struct store_sim_build b;
    struct store_sim_step *steps = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(put_build(s, run, "local", sha_a, 4, 3, &err), 0);
    assert_int_equal(store_batch_commit(s, &err), 0);
    assert_int_equal(
        store_sim_build_get(s, run, "local", sha_a, &b, &steps, &n, &err), 0);
    assert_int_equal(b.seq, 4);
    assert_int_equal(b.status, STORE_STATUS_OK);
    assert_float_equal(b.seconds, 12.5, 1e-9);
    assert_int_equal(n, 3);
    assert_int_equal(steps[1].line, 2);
    assert_string_equal(steps[1].instruction, "RUN");
    assert_int_equal(steps[0].outcome, STORE_OUTCOME_HIT);
    assert_int_equal(steps[1].outcome, STORE_OUTCOME_MISS);
    free(steps);
    assert_int_equal(
        store_sim_build_get(s, run, "inline", sha_a, &b, &steps, &n, &err),
        ERR_NOTFOUND);
    assert_null(steps);
    assert_non_null(strstr(err.msg, "no simulated build"));
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            store__new_database_has_the_current_schema_version, setup_dir, teardown_dir),
        cmocka_unit_test(store__in_memory_database_works),
        cmocka_unit_test_setup_teardown(
            store__builds_sharing_lists_read_back_their_own_rows, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__version_1_file_gains_the_real_build_tables, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__version_5_file_keeps_whole_seconds_and_zero_pull_push,
            setup_dir, teardown_dir),
        cmocka_unit_test(store__build_keeps_pull_and_push_seconds_apart),
        cmocka_unit_test_setup_teardown(
            store__next_build_of_a_strategy_shares_its_unchanged_steps,
            setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__steps_view_shows_each_step_at_the_index_given, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__version_6_file_keeps_its_rows_in_one_row_a_list, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__real_build_is_written_with_nulls_for_unknowns, setup_dir,
            teardown_dir),
        cmocka_unit_test(
            store__real_build_with_bad_sha_or_skipped_step_is_refused),
        cmocka_unit_test(store__simulated_build_is_read_back_with_its_steps),
        cmocka_unit_test(store__same_run_is_resumed_and_other_options_are_new),
        cmocka_unit_test_setup_teardown(
            store__build_is_written_with_its_steps_and_transfers, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__build_recorded_twice_is_refused_without_duplicate, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__resumed_run_skips_builds_already_done, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__batch_is_visible_to_others_only_once_committed, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__batch_commits_once_the_interval_has_passed, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(store__writer_page_cache_stays_bounded,
                                        setup_dir, teardown_dir),
        cmocka_unit_test(store__failed_build_leaves_the_rest_of_the_batch),
        cmocka_unit_test(store__malformed_commit_id_is_refused),
        cmocka_unit_test(store__summary_totals_each_strategy_in_order),
        cmocka_unit_test(store__enum_names_and_parsers_agree),
        cmocka_unit_test_setup_teardown(
            store__foreign_sqlite_file_is_refused_and_unchanged, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__text_file_is_refused_and_unchanged, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__newer_schema_is_refused_and_unchanged, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(store__data_survives_close_and_reopen,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__two_processes_writing_one_file_both_succeed, setup_dir,
            teardown_dir),
        cmocka_unit_test_setup_teardown(
            store__kill_during_batches_leaves_only_whole_builds, setup_dir,
            teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
