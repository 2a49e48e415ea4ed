/*
 * test_repo.c - reading tiny repositories: revisions, ranges in git's
 * order, commits, files, trees, shallow and broken repositories.
 */
#include "testutil.h"

#include "repo.h"

struct fx {
    char *dir;
    struct repo *r;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->dir = tu_repo();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    repo_free(f->r);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static void fx_open(struct fx *f)
{
    struct err err = ERR_INIT;
    if (!f->r && repo_open(&f->r, f->dir, &err) < 0)
        fail_msg("open: %s", err.msg);
}

/* Output of a shell command in dir (first 64 KiB). */
static char *sh_out(const char *dir, const char *cmd)
{
    char full[4096];
    snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

/* Our range as one sha per line, to compare with git rev-list. */
static char *range_lines(struct fx *f, const char *range, int first_parent)
{
    struct oid *ids = NULL;
    size_t n = 0;
    struct err err = ERR_INIT;
    fx_open(f);
    if (repo_range(f->r, range, first_parent, &ids, &n, &err) < 0)
        fail_msg("range %s: %s", range, err.msg);
    char *out = calloc(1, n * OID_HEX + 1);
    for (size_t i = 0; i < n; i++) {
        oid_hex(&ids[i], out + i * OID_HEX);
        out[i * OID_HEX + 40] = '\n';
    }
    free(ids);
    return out;
}

/* main: c1..c3, branch side from c1 with s1 s2 (later dates), merged. */
static void make_history(const char *dir)
{
    tu_write(dir, "f", "1\n");
    tu_commit(dir, "c1");
    tu_sh(dir, "git tag v1");
    tu_write(dir, "f", "2\n");
    tu_sh(dir, "git add -A && GIT_COMMITTER_DATE='2026-01-02T00:00:00Z' "
               "git commit -q -m c2");
    tu_sh(dir, "git checkout -q -b side v1");
    tu_write(dir, "g", "1\n");
    tu_sh(dir, "git add -A && GIT_COMMITTER_DATE='2026-01-03T00:00:00Z' "
               "git commit -q -m s1");
    tu_write(dir, "g", "2\n");
    tu_sh(dir, "git add -A && GIT_COMMITTER_DATE='2026-01-04T00:00:00Z' "
               "git commit -q -m s2");
    tu_sh(dir, "git checkout -q main && GIT_COMMITTER_DATE="
               "'2026-01-05T00:00:00Z' git merge -q --no-ff -m merge side");
    tu_write(dir, "f", "3\n");
    tu_sh(dir, "git add -A && GIT_COMMITTER_DATE='2026-01-06T00:00:00Z' "
               "git commit -q -m c3");
}

static void repo__resolves_revisions_like_git(void **state)
{
    struct fx *f = *state;
    struct oid id;
    struct err err = ERR_INIT;
    char hex[OID_HEX];
    make_history(f->dir);
    fx_open(f);
    static const char *const revs[] = { "HEAD",   "main",     "v1",     "side",
                                        "HEAD~1", "HEAD~1^2", "HEAD~2^" };
    for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "git rev-parse '%s^{commit}'", revs[i]);
        char *want = sh_out(f->dir, cmd);
        assert_int_equal(repo_resolve(f->r, revs[i], &id, &err), 0);
        oid_hex(&id, hex);
        assert_memory_equal(hex, want, 40);
        /* a short sha resolves too */
        char shortsha[8];
        memcpy(shortsha, want, 7);
        shortsha[7] = '\0';
        struct oid id2;
        assert_int_equal(repo_resolve(f->r, shortsha, &id2, &err), 0);
        assert_true(oid_equal(&id, &id2));
        free(want);
    }
}

static void repo__unknown_revision_is_not_found(void **state)
{
    struct fx *f = *state;
    struct oid id;
    struct err err = ERR_INIT;
    tu_commit(f->dir, "c1");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "nope", &id, &err), ERR_NOTFOUND);
    assert_string_equal(err.msg, "unknown revision 'nope'");
    struct oid *ids = NULL;
    size_t n = 0;
    assert_int_equal(repo_range(f->r, "nope..HEAD", 0, &ids, &n, &err),
                     ERR_NOTFOUND);
    assert_null(ids);
}

struct range_case {
    const char *range;
    int first_parent;
    const char *git_args;
};

static const struct range_case range_cases[] = {
    { "HEAD", 0, "--topo-order HEAD" },
    { "HEAD", 1, "--first-parent HEAD" },
    { "v1..HEAD", 0, "--topo-order v1..HEAD" },
    { "v1..HEAD", 1, "--first-parent v1..HEAD" },
    { "main~2...side", 0, "--topo-order main~2...side" },
    { "side..main", 0, "--topo-order side..main" },
    { "..v1", 0, "--topo-order ..v1" },
};

static void repo__ranges_come_oldest_first_like_git_log_reverse(void **state)
{
    struct fx *f = *state;
    make_history(f->dir);
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "git rev-list --reverse %s",
                 range_cases[i].git_args);
        char *want = sh_out(f->dir, cmd);
        char *got =
            range_lines(f, range_cases[i].range, range_cases[i].first_parent);
        if (strcmp(want, got) != 0)
            fail_msg("range %s: want\n%sgot\n%s", range_cases[i].range, want,
                     got);
        free(want);
        free(got);
    }
}

static void repo__reads_commit_metadata(void **state)
{
    struct fx *f = *state;
    struct oid id;
    struct repo_commit c;
    struct err err = ERR_INIT;
    make_history(f->dir);
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD~1", &id, &err), 0);
    assert_int_equal(repo_commit_read(f->r, &id, &c, &err), 0);
    assert_string_equal(c.subject, "merge");
    assert_int_equal(c.nparents, 2);
    assert_int_equal(c.author_time, 1767225600); /* 2026-01-01T00:00:00Z */
    char *want = sh_out(f->dir, "git rev-parse HEAD~1");
    assert_memory_equal(c.sha, want, 40);
    free(want);
    repo_commit_release(&c);
}

static void repo__reads_files_at_a_commit(void **state)
{
    struct fx *f = *state;
    struct oid id;
    struct err err = ERR_INIT;
    char *text = NULL;
    size_t len = 0;
    tu_write(f->dir, "dir/Dockerfile", "FROM alpine\n");
    tu_commit(f->dir, "c1");
    tu_write(f->dir, "dir/Dockerfile", "FROM debian\n");
    tu_commit(f->dir, "c2");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD~1", &id, &err), 0);
    assert_int_equal(
        repo_read_file(f->r, &id, "dir/Dockerfile", &text, &len, &err), 0);
    assert_string_equal(text, "FROM alpine\n");
    assert_int_equal(len, 12);
    free(text);
    assert_int_equal(repo_read_file(f->r, &id, "Dockerfile", &text, &len, &err),
                     ERR_NOTFOUND);
    assert_null(text);
    assert_non_null(strstr(err.msg, "'Dockerfile'"));
    assert_int_equal(repo_read_file(f->r, &id, "dir", &text, &len, &err),
                     ERR_NOTFOUND);
}

struct seen {
    char names[8][32];
    unsigned modes[8];
    enum repo_entry_type types[8];
    size_t n;
};

static int collect(const struct repo_entry *e, void *arg)
{
    struct seen *s = arg;
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
    s->modes[s->n] = e->mode;
    s->types[s->n] = e->type;
    s->n++;
    return 0;
}

static void repo__lists_trees_with_git_modes(void **state)
{
    struct fx *f = *state;
    struct oid id, tree;
    struct err err = ERR_INIT;
    struct seen s;
    memset(&s, 0, sizeof(s));
    tu_write(f->dir, "a.txt", "hello\n");
    tu_write(f->dir, "run.sh", "echo\n");
    tu_write(f->dir, "d/x", "x\n");
    tu_sh(f->dir, "chmod +x run.sh && ln -s a.txt link && git add -A && "
                  "git update-index --add --cacheinfo "
                  "160000,1111111111111111111111111111111111111111,sub");
    tu_sh(f->dir, "git commit -q -m c1");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD", &id, &err), 0);
    assert_int_equal(repo_commit_tree(f->r, &id, &tree, &err), 0);
    assert_int_equal(repo_tree_foreach(f->r, &tree, collect, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.names[0], "a.txt");
    assert_int_equal(s.modes[0], 0644);
    assert_string_equal(s.names[1], "d");
    assert_int_equal(s.types[1], REPO_TREE);
    assert_string_equal(s.names[2], "link");
    assert_int_equal(s.types[2], REPO_LINK);
    assert_int_equal(s.modes[2], 0777);
    assert_string_equal(s.names[3], "run.sh");
    assert_int_equal(s.modes[3], 0755);
    assert_string_equal(s.names[4], "sub");
    assert_int_equal(s.types[4], REPO_SUBMODULE);

    struct repo_tree *t = NULL;
    struct repo_entry e;
    assert_int_equal(repo_tree_open(&t, f->r, &tree, &err), 0);
    assert_int_equal(repo_tree_find(t, "a.txt", &e), 0);
    uint64_t size = 0;
    assert_int_equal(repo_blob_size(f->r, &e.id, &size, &err), 0);
    assert_int_equal(size, 6);
    assert_int_equal(repo_tree_find(t, "nope", &e), ERR_NOTFOUND);
    assert_int_equal(repo_tree_find(t, "link", &e), 0);
    char *target = NULL;
    size_t len = 0;
    assert_int_equal(repo_blob_read(f->r, &e.id, &target, &len, &err), 0);
    assert_string_equal(target, "a.txt");
    free(target);
    repo_tree_free(t);
}

static void repo__shallow_range_stops_at_the_boundary(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    for (int i = 0; i < 4; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "c%d", i);
        tu_write(f->dir, "f", msg);
        tu_commit(f->dir, msg);
    }
    char *clone = tu_tmpdir();
    tu_sh(clone, "git clone -q --depth 2 file://%s s", f->dir);
    char path[4200];
    snprintf(path, sizeof(path), "%s/s", clone);
    struct repo *r = NULL;
    assert_int_equal(repo_open(&r, path, &err), 0);
    assert_true(repo_is_shallow(r));
    struct oid *ids = NULL;
    size_t n = 0;
    assert_int_equal(repo_range(r, "HEAD", 0, &ids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_non_null(strstr(repo_note(r), "shallow"));
    free(ids);
    repo_free(r);
    fx_open(f);
    assert_false(repo_is_shallow(f->r));
    tu_rmrf(clone);
}

static void repo__missing_objects_give_a_git_error(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    tu_write(f->dir, "f", "1\n");
    tu_commit(f->dir, "c1");
    tu_write(f->dir, "f", "2\n");
    tu_commit(f->dir, "c2");
    /* delete the first commit object */
    char *sha = sh_out(f->dir, "git rev-parse HEAD~1");
    tu_sh(f->dir, "rm -f .git/objects/%.2s/%.38s", sha, sha + 2);
    free(sha);
    fx_open(f);
    struct oid *ids = NULL;
    size_t n = 0;
    assert_int_equal(repo_range(f->r, "HEAD", 0, &ids, &n, &err), ERR_GIT);
    assert_non_null(strstr(err.msg, "corrupt repository"));
    assert_null(ids);
}

/* A commit object written as is (git would refuse it): returns its sha. */
static char *write_raw_commit(const char *dir, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "printf '%s' | git hash-object --literally -t commit -w --stdin",
             text);
    char *sha = sh_out(dir, cmd);
    sha[strcspn(sha, "\n")] = '\0';
    return sha;
}

static void repo__malformed_commits_give_a_git_error(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    struct oid *ids = NULL;
    size_t n = 0;
    tu_write(f->dir, "f", "1\n");
    tu_commit(f->dir, "c1");
    char *tree = sh_out(f->dir, "git rev-parse HEAD^{tree}");
    char *blob = sh_out(f->dir, "git rev-parse HEAD:f");
    blob[40] = '\0';
    char text[512];
    /* a parent that is a blob */
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent %.40s\\nauthor A <a@x> 1 +0000\\n"
             "committer A <a@x> 1 +0000\\n\\nbad parent\\n",
             tree, blob);
    char *sha = write_raw_commit(f->dir, text);
    fx_open(f);
    assert_int_equal(repo_range(f->r, sha, 0, &ids, &n, &err), ERR_GIT);
    assert_non_null(strstr(err.msg, "corrupt repository: cannot read commit"));
    assert_non_null(strstr(err.msg, blob));
    assert_non_null(strstr(err.msg, "not a commit"));
    assert_null(ids);
    free(sha);
    /* a parent line that is not an id */
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent 12345\\nauthor A <a@x> 1 +0000\\n"
             "committer A <a@x> 1 +0000\\n\\nbad id\\n",
             tree);
    char *bad = write_raw_commit(f->dir, text);
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent %s\\nauthor A <a@x> 1 +0000\\n"
             "committer A <a@x> 1 +0000\\n\\nchild\\n",
             tree, bad);
    sha = write_raw_commit(f->dir, text);
    err_clear(&err);
    assert_int_equal(repo_range(f->r, sha, 0, &ids, &n, &err), ERR_GIT);
    assert_non_null(strstr(err.msg, "corrupt repository: cannot read commit"));
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "malformed commit"));
    free(bad);
    free(sha);
    free(tree);
    free(blob);
}

/* The walk orders by committer time, also for odd but valid headers. */
static void repo__range_orders_by_committer_time(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    struct oid *ids = NULL;
    size_t n = 0;
    char text[1024], hex[OID_HEX];
    tu_commit(f->dir, "c1");
    char *tree = sh_out(f->dir, "git rev-parse HEAD^{tree}");
    char *root = sh_out(f->dir, "git rev-parse HEAD");
    /* two children of root: x is older by its committer line (its author
     * line says otherwise), y has an extra header and a negative zone */
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent %.40s\\nauthor A <a@x> 9000000000 +0000\\n"
             "committer C <c@x> 2000000000 +0100\\n\\nx\\n",
             tree, root);
    char *x = write_raw_commit(f->dir, text);
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent %.40s\\nauthor A <a@x> 1 +0000\\n"
             "committer C <c@x> 2000000001 -0230\\nencoding UTF-8\\n\\ny\\n",
             tree, root);
    char *y = write_raw_commit(f->dir, text);
    snprintf(text, sizeof(text),
             "tree %.40s\\nparent %.40s\\nparent %.40s\\n"
             "author A <a@x> 1 +0000\\ncommitter C <c@x> 2000000002 +0000\\n"
             "\\nmerge\\n",
             tree, y, x);
    char *m = write_raw_commit(f->dir, text);
    fx_open(f);
    assert_int_equal(repo_range(f->r, m, 0, &ids, &n, &err), 0);
    assert_int_equal(n, 4);
    oid_hex(&ids[1], hex);
    assert_memory_equal(hex, x, 40);
    oid_hex(&ids[2], hex);
    assert_memory_equal(hex, y, 40);
    free(ids);
    /* first parent only: root, y, merge */
    assert_int_equal(repo_range(f->r, m, 1, &ids, &n, &err), 0);
    assert_int_equal(n, 3);
    oid_hex(&ids[1], hex);
    assert_memory_equal(hex, y, 40);
    free(ids);
    free(tree);
    free(root);
    free(x);
    free(y);
    free(m);
}

/* repo_commit_read() keeps the commit's tree id for repo_commit_tree():
 * asking for another commit must not get it. */
static void repo__commit_tree_after_reading_commits(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    struct oid a, b, tree;
    struct repo_commit c;
    char hex[OID_HEX];
    tu_write(f->dir, "f", "1\n");
    tu_commit(f->dir, "c1");
    tu_write(f->dir, "f", "2\n");
    tu_commit(f->dir, "c2");
    char *ta = sh_out(f->dir, "git rev-parse HEAD~1^{tree}");
    char *tb = sh_out(f->dir, "git rev-parse HEAD^{tree}");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD~1", &a, &err), 0);
    assert_int_equal(repo_resolve(f->r, "HEAD", &b, &err), 0);
    assert_int_equal(repo_commit_read(f->r, &a, &c, &err), 0);
    repo_commit_release(&c);
    assert_int_equal(repo_commit_tree(f->r, &b, &tree, &err), 0);
    oid_hex(&tree, hex);
    assert_memory_equal(hex, tb, 40);
    assert_int_equal(repo_commit_tree(f->r, &a, &tree, &err), 0);
    oid_hex(&tree, hex);
    assert_memory_equal(hex, ta, 40);
    assert_int_equal(repo_commit_read(f->r, &b, &c, &err), 0);
    repo_commit_release(&c);
    assert_int_equal(repo_commit_tree(f->r, &b, &tree, &err), 0);
    oid_hex(&tree, hex);
    assert_memory_equal(hex, tb, 40);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(repo_read_file(f->r, &a, "f", &text, &len, &err), 0);
    assert_string_equal(text, "1\n");
    free(text);
    free(ta);
    free(tb);
}

/* A commit whose tree is missing: the tree's error, after the commit read
 * that primed the tree id. */
static void repo__missing_tree_is_a_git_error(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    struct oid id, tree;
    struct repo_commit c;
    tu_write(f->dir, "f", "1\n");
    tu_commit(f->dir, "c1");
    char *t = sh_out(f->dir, "git rev-parse HEAD^{tree}");
    tu_sh(f->dir, "rm -f .git/objects/%.2s/%.38s", t, t + 2);
    free(t);
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD", &id, &err), 0);
    assert_int_equal(repo_commit_read(f->r, &id, &c, &err), 0);
    repo_commit_release(&c);
    assert_int_equal(repo_commit_tree(f->r, &id, &tree, &err), ERR_GIT);
    assert_non_null(strstr(err.msg, "cannot read the tree of commit"));
}

static void repo__opening_a_plain_folder_fails(void **state)
{
    (void)state;
    struct err err = ERR_INIT;
    struct repo *r = NULL;
    char *d = tu_tmpdir();
    assert_int_equal(repo_open(&r, d, &err), ERR_GIT);
    assert_null(r);
    assert_non_null(strstr(err.msg, "not a git repository"));
    tu_rmrf(d);
}

static void repo__opens_a_bare_repository(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    struct oid *ids = NULL;
    size_t n = 0;
    tu_commit(f->dir, "c1");
    tu_commit(f->dir, "c2");
    char *d = tu_tmpdir();
    tu_sh(d, "git clone -q --bare '%s' b.git", f->dir);
    char path[4200];
    snprintf(path, sizeof(path), "%s/b.git", d);
    struct repo *r = NULL;
    assert_int_equal(repo_open(&r, path, &err), 0);
    assert_int_equal(repo_range(r, "HEAD", 0, &ids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(repo_note(r), "");
    free(ids);
    repo_free(r);
    tu_rmrf(d);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(repo__resolves_revisions_like_git),
        T(repo__unknown_revision_is_not_found),
        T(repo__ranges_come_oldest_first_like_git_log_reverse),
        T(repo__reads_commit_metadata),
        T(repo__reads_files_at_a_commit),
        T(repo__lists_trees_with_git_modes),
        T(repo__shallow_range_stops_at_the_boundary),
        T(repo__missing_objects_give_a_git_error),
        T(repo__malformed_commits_give_a_git_error),
        T(repo__range_orders_by_committer_time),
        T(repo__commit_tree_after_reading_commits),
        T(repo__missing_tree_is_a_git_error),
        T(repo__opening_a_plain_folder_fails),
        T(repo__opens_a_bare_repository),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
