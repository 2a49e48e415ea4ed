/*
 * test_writer.c - the replay's database writer thread: packets land in
 * order with all their rows, a resumed run skips what is stored, and a
 * failure in the thread reaches the producer with its message.
 */
#include "testdb.h"

#include <sys/stat.h>
#include <time.h>

#include "store.h"
#include "writer.h"

struct fixture {
    char *dir;
    char path[4200];
    struct store *st;
    int64_t run;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct err err = ERR_INIT;
    struct store_run run = { 1700000000, "/repo", "Dockerfile", "{}", "t" };
    int resumed;

    f->dir = tu_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/w.db", f->dir);
    assert_int_equal(store_open(&f->st, f->path, &err), 0);
    assert_int_equal(
        store_run_find_or_create(f->st, &run, &f->run, &resumed, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Fill p as a commit's packet: one build per strategy name, each with
 * nsteps steps (a miss's reason names the commit) and two transfers, all
 * strings in the packet's arena. */
static struct wpacket *fill(struct fixture *f, struct wpacket *p, int commit,
                            size_t seq, const char *const *strategies,
                            size_t n, size_t nsteps)
{
    char sha[41], digest[80], why[64];
    struct store_commit c;

    snprintf(sha, sizeof(sha), "%040x", (unsigned)commit);
    snprintf(why, sizeof(why), "follows a miss in %s", sha);
    c.sha = sha;
    c.parents = "";
    c.author_time = 1700000000 + commit;
    c.subject = "subject";
    wpacket_commit(p, &c);
    for (size_t i = 0; i < n; i++) {
        struct store_build b;
        struct store_step *steps = wpacket_alloc(p, nsteps * sizeof(*steps));
        struct store_transfer *xf = wpacket_alloc(p, 2 * sizeof(*xf));
        memset(&b, 0, sizeof(b));
        b.run_id = f->run;
        b.commit_sha = wpacket_strdup(p, sha);
        b.seq = (int64_t)seq;
        b.strategy = strategies[i];
        b.builder = "buildkit";
        b.seconds = 1.5;
        b.registry_bytes = -1;
        b.cache_bytes = 100;
        for (size_t j = 0; j < nsteps; j++) {
            steps[j].step_index = (int64_t)j;
            steps[j].line = (int64_t)j + 1;
            steps[j].instruction = "RUN";
            steps[j].outcome = j % 2 ? STORE_OUTCOME_MISS : STORE_OUTCOME_HIT;
            steps[j].reason = j % 2 ? wpacket_strdup(p, why) : NULL;
        }
        for (size_t j = 0; j < 2; j++) {
            snprintf(digest, sizeof(digest), "sha256:%064zu", 10 * i + j);
            xf[j].direction = j ? STORE_PUSH : STORE_PULL;
            xf[j].digest = wpacket_strdup(p, digest);
            xf[j].bytes = 1000 + (int64_t)j;
            xf[j].kind = STORE_KIND_LAYER;
        }
        wpacket_build(p, &b, steps, nsteps, xf, 2);
    }
    return p;
}

static struct wpacket *packet(struct fixture *f, int commit, size_t seq,
                              const char *const *strategies, size_t n,
                              size_t nsteps)
{
    return fill(f, wpacket_new(), commit, seq, strategies, n, nsteps);
}

static const char *const strategies[] = { "none", "local", "inline" };

static void writer__packets_land_in_order_with_every_row(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0;

    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    /* more packets than the queue holds, so the producer waits too; 70
     * steps take statements of 64, 4 and 2 rows */
    for (int c = 0; c < 200; c++)
        assert_int_equal(
            writer_push(w, packet(f, c, (size_t)c, strategies, 3, 70)), 0);
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, 600);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 600);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM commits"), 200);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 600 * 70);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers"), 1200);
    /* ids follow the push order; steps and transfers keep theirs */
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds b1 JOIN "
                                    "builds b2 ON b2.id = b1.id + 1 WHERE "
                                    "b2.seq < b1.seq"),
                     0);
    assert_int_equal(tu_sql_count(f->path, "SELECT sum(step_index = line - 1) FROM "
                                    "steps"),
                     600 * 70);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps WHERE "
                                    "(reason IS NULL) != (outcome = 'hit')"),
                     0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM transfers WHERE "
                                    "(seq = 0) != (direction = 'pull')"),
                     0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds WHERE "
                                    "registry_bytes IS NULL AND "
                                    "cache_bytes = 100"),
                     600);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* While the writer runs, what it commits is copied from the log into the
 * database file by the checkpoint thread (a checkpoint that did nothing
 * would leave it all in the log until the store is closed). */
static void writer__log_is_checkpointed_while_the_writer_runs(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    long long before;
    int waited;

    store_batch_interval(f->st, 0); /* a commit after every packet */
    store_checkpoints_start(f->st, 1); /* kept by writer_start */
    before = file_size(f->path);
    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    for (int c = 0; c < 40; c++)
        assert_int_equal(
            writer_push(w, packet(f, c, (size_t)c, strategies, 3, 70)), 0);
    for (waited = 0; waited < 1000 && file_size(f->path) <= before; waited++)
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    assert_true(file_size(f->path) > before);
    assert_int_equal(writer_finish(w, NULL, &err), 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 120);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"),
                     120 * 70);
}

/* Packets come back emptied to be filled again (writer_packet): each
 * commit's rows are its own, whatever the packet held before. */
static void writer__reused_packets_hold_only_their_commits_rows(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0, builds = 0, steps = 0;

    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    for (int c = 0; c < 300; c++) {
        /* 1 to 3 builds of 1 to 130 steps: a packet that held many rows
         * is filled with few and the other way round */
        size_t n = (size_t)c % 3 + 1, nsteps = (size_t)(c * 37) % 130 + 1;
        builds += n;
        steps += n * nsteps;
        assert_int_equal(writer_push(w, fill(f, writer_packet(w), c, (size_t)c,
                                             strategies, n, nsteps)),
                         0);
    }
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, builds);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"),
                     (int)builds);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM commits"), 300);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"),
                     (int)steps);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps s JOIN "
                                    "builds b ON b.id = s.build_id WHERE "
                                    "s.reason IS NOT NULL AND s.reason != "
                                    "'follows a miss in ' || b.commit_sha"),
                     0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds b "
                                    "JOIN commits c ON c.sha = b.commit_sha "
                                    "WHERE c.author_time != 1700000000 + b.seq"),
                     0);
}

/* A producer takes packets ahead (a replay takes one when it plans a
 * commit) and gives back those it drops (writer_unused): nothing of a
 * dropped packet is written, not even when it is taken again and filled
 * with another commit. */
static void writer__packets_given_back_unused_write_nothing(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0;

    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    for (int c = 0; c < 120; c++) {
        struct wpacket *ahead[3];
        for (size_t k = 0; k < 3; k++)
            ahead[k] = writer_packet(w);
        /* the first is written; the others are filled, then dropped */
        fill(f, ahead[1], 1000 + c, 0, strategies, 3, 50);
        fill(f, ahead[2], 2000 + c, 0, strategies, 2, 9);
        writer_unused(w, ahead[2]);
        writer_unused(w, ahead[1]);
        assert_int_equal(writer_push(w, fill(f, ahead[0], c, (size_t)c,
                                             strategies, 1, 7)),
                         0);
    }
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, 120);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM commits"), 120);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM commits WHERE "
                                    "author_time >= 1700001000"),
                     0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds WHERE "
                                    "strategy = 'none'"),
                     120);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"),
                     120 * 7);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds b "
                                    "JOIN commits c ON c.sha = b.commit_sha "
                                    "WHERE c.author_time != 1700000000 + b.seq"),
                     0);
}

static void writer__resumed_run_skips_stored_builds(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0;

    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    assert_int_equal(writer_push(w, packet(f, 0, 0, strategies, 2, 3)), 0);
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, 2);
    /* a rerun simulates everything again; only the third strategy is new */
    assert_int_equal(writer_start(&w, f->st, 1, &err), 0);
    assert_int_equal(writer_push(w, packet(f, 0, 0, strategies, 3, 3)), 0);
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, 1);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 9);
}

static void writer__failure_reaches_the_producer_and_keeps_earlier_builds(
    void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0;
    int rc = 0, pushed = 0;

    store_batch_interval(f->st, 0); /* every packet is its own batch */
    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    assert_int_equal(writer_push(w, packet(f, 0, 0, strategies, 3, 4)), 0);
    /* not resumed: the same builds again break the store's uniqueness */
    while (rc == 0 && pushed < 10000) {
        rc = writer_push(w, packet(f, 0, 0, strategies, 3, 4));
        pushed++;
    }
    assert_int_equal(rc, ERR_INVALID);
    assert_int_equal(writer_finish(w, &written, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "build already recorded"));
    assert_int_equal(written, 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 3);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 12);
}

/* In one batch, a failure rolls back the batch whole: no build is left
 * without its steps, and a resumed run writes them all. */
static void writer__failure_rolls_back_its_batch_whole(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;
    struct err err = ERR_INIT;
    size_t written = 0;

    store_batch_interval(f->st, 3600);
    assert_int_equal(writer_start(&w, f->st, 0, &err), 0);
    assert_int_equal(writer_push(w, packet(f, 1, 0, strategies, 3, 4)), 0);
    assert_int_equal(writer_push(w, packet(f, 2, 1, strategies, 3, 4)), 0);
    /* a duplicate of commit 1 fails the batch holding commits 1 and 2 */
    (void)writer_push(w, packet(f, 1, 0, strategies, 3, 4));
    assert_int_equal(writer_finish(w, &written, &err), ERR_INVALID);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM builds"), 0);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 0);
    assert_int_equal(writer_start(&w, f->st, 1, &err), 0);
    assert_int_equal(writer_push(w, packet(f, 1, 0, strategies, 3, 4)), 0);
    assert_int_equal(writer_push(w, packet(f, 2, 1, strategies, 3, 4)), 0);
    assert_int_equal(writer_finish(w, &written, &err), 0);
    assert_int_equal(written, 6);
    assert_int_equal(tu_sql_count(f->path, "SELECT count(*) FROM steps"), 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            writer__packets_land_in_order_with_every_row, setup, teardown),
        cmocka_unit_test_setup_teardown(
            writer__reused_packets_hold_only_their_commits_rows, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            writer__packets_given_back_unused_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            writer__log_is_checkpointed_while_the_writer_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(writer__resumed_run_skips_stored_builds,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            writer__failure_reaches_the_producer_and_keeps_earlier_builds,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            writer__failure_rolls_back_its_batch_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
