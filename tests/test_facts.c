/*
 * test_facts.c - lockfile facts read from a history: counts stay right
 * while the counts of blobs seen before are reused, also for a blob that
 * comes back after many others.
 */
#include "testutil.h"

#include "buf.h"
#include "facts.h"
#include "repo.h"

/* Commits 0..n-1 on main, written by one git fast-import: commit i has
 * requirements.txt with lines(i) requirement lines (and a comment), and
 * the same go.sum throughout. */
static void make_history(const char *dir, int n, int (*lines)(int))
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "cd '%s' && git fast-import --quiet", dir);
    FILE *p = popen(cmd, "w");
    assert_non_null(p);
    for (int i = 0; i < n; i++) {
        struct buf req = BUF_INIT;
        buf_printf(&req, "# pinned\n");
        for (int k = 0; k < lines(i); k++)
            buf_printf(&req, "pkg%d==1.%d\n", k, i % 7);
        const char *sum = "a v1 h1:x\na v1/go.mod h1:y\nb v2 h1:z\n";
        fprintf(p, "commit refs/heads/main\n");
        fprintf(p, "committer T <t@x> %d +0000\n", 1700000000 + i);
        fprintf(p, "data 2\nc\n");
        fprintf(p, "M 100644 inline requirements.txt\ndata %zu\n%s\n", req.len,
                buf_cstr(&req));
        fprintf(p, "M 100644 inline go.sum\ndata %zu\n%s\n", strlen(sum), sum);
        buf_release(&req);
    }
    assert_int_equal(pclose(p), 0);
}

/* 300 commits: 1..280 lines, then 1..20 again (blobs counted long ago). */
static int lines_back(int i)
{
    return i < 280 ? i + 1 : i - 279;
}

static void facts__lockfile_counts_over_a_history(void **state)
{
    (void)state;
    char *dir = tu_repo();
    struct repo *r = NULL;
    struct err err = ERR_INIT;
    struct oid *ids = NULL;
    size_t n = 0;
    make_history(dir, 300, lines_back);
    assert_int_equal(repo_open(&r, dir, &err), 0);
    assert_int_equal(repo_range(r, "main", 1, &ids, &n, &err), 0);
    assert_int_equal(n, 300);
    struct facts_cache *fc = facts_cache_new();
    for (size_t i = 0; i < n; i++) {
        /* twice: the second time from what was counted */
        for (int pass = 0; pass < 2; pass++) {
            struct plan p;
            struct model_facts mf;
            memset(&p, 0, sizeof(p));
            p.commit = ids[i];
            assert_int_equal(facts_read(fc, r, &p, "", 0, &mf, &err), 0);
            if (mf.packages[MODEL_ECO_PIP] != lines_back((int)i))
                fail_msg("commit %zu: %ld requirements, want %d", i,
                         mf.packages[MODEL_ECO_PIP], lines_back((int)i));
            assert_int_equal(mf.packages[MODEL_ECO_GO], 2);
            assert_int_equal(mf.packages[MODEL_ECO_NPM], -1);
        }
    }
    facts_cache_free(fc);
    free(ids);
    repo_free(r);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(facts__lockfile_counts_over_a_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
