/*
 * test_synth.c - generated histories: determinism, size, templates, the
 * commit mix, and refusal to write into a folder in use.
 *
 * The git command line checks what was written, as a user would.
 */
#include "testutil.h"

#include "synth.h"

/* Output of a shell command run in dir (first 64 KB), trailing newline
 * removed; caller frees. */
static char *sh_out(const char *dir, const char *shell)
{
    char cmd[8192], *out = calloc(1, 65536);
    size_t n = 0;
    FILE *p;
    int len = snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);

    snprintf(cmd + len, sizeof(cmd) - (size_t)len, "%s", shell);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, 65535, p);
    pclose(p);
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    return out;
}

static long sh_long(const char *dir, const char *cmd)
{
    char *s = sh_out(dir, cmd);
    long v = strtol(s, NULL, 10);
    free(s);
    return v;
}

/* Generate into a fresh folder (a child of a new temp dir). */
static char *gen(struct synth_options *o, struct synth_result *res)
{
    char *base = tu_tmpdir();
    size_t len = strlen(base) + 8;
    char *out = malloc(len);
    struct err err = ERR_INIT;
    int rc;

    snprintf(out, len, "%s/repo", base);
    free(base);
    o->out = out;
    rc = synth_run(o, res, &err);
    if (rc)
        fprintf(stderr, "synth_run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return out;
}

/* Remove the temp dir holding a generated repo. */
static void rm_gen(char *out)
{
    *strrchr(out, '/') = '\0';
    tu_rmrf(out);
}

static void synth__same_seed_gives_the_same_commit_ids(void **state)
{
    struct synth_options o;
    struct synth_result a, b;
    char *d1, *d2, *h1, *h2;

    (void)state;
    synth_options_init(&o);
    o.commits = 60;
    o.seed = 42;
    d1 = gen(&o, &a);
    d2 = gen(&o, &b);
    assert_string_equal(a.head, b.head);
    h1 = sh_out(d1, "git rev-parse HEAD");
    h2 = sh_out(d2, "git rev-parse HEAD");
    assert_string_equal(h1, a.head);
    assert_string_equal(h2, a.head);
    free(h1);
    free(h2);
    rm_gen(d1);
    rm_gen(d2);
}

static void synth__different_seed_gives_different_commit_ids(void **state)
{
    struct synth_options o;
    struct synth_result a, b;
    char *d1, *d2;

    (void)state;
    synth_options_init(&o);
    o.commits = 20;
    o.seed = 1;
    d1 = gen(&o, &a);
    o.seed = 2;
    d2 = gen(&o, &b);
    assert_string_not_equal(a.head, b.head);
    rm_gen(d1);
    rm_gen(d2);
}

static void synth__writes_the_requested_commits_on_the_branch(void **state)
{
    struct synth_options o;
    struct synth_result r;
    char *d, *branch, *status;

    (void)state;
    synth_options_init(&o);
    o.commits = 137;
    o.branch = "trunk";
    d = gen(&o, &r);
    assert_int_equal(r.commits, 137);
    assert_int_equal(sh_long(d, "git rev-list --count HEAD"), 137);
    assert_int_equal(sh_long(d, "git rev-list --count --merges HEAD"), 0);
    branch = sh_out(d, "git symbolic-ref --short HEAD");
    assert_string_equal(branch, "trunk");
    /* checked out: the work tree matches HEAD */
    status = sh_out(d, "git status --porcelain");
    assert_string_equal(status, "");
    assert_int_equal(sh_long(d, "git fsck --no-dangling >/dev/null 2>&1; "
                                "echo $?"),
                     0);
    free(branch);
    free(status);
    rm_gen(d);
}

static void synth__every_template_has_a_valid_looking_dockerfile(void **state)
{
    static const struct {
        enum synth_template t;
        const char *deps;
        long froms;
        int ignores_git;
    } cases[] = {
        { SYNTH_PYTHON, "requirements.txt", 1, 1 },
        { SYNTH_NODE, "package-lock.json", 1, 1 },
        { SYNTH_GO_MULTISTAGE, "go.sum", 3, 1 },
        { SYNTH_BAD_ORDER, "requirements.txt", 1, 0 },
    };
    char *d;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct synth_options o;
        struct synth_result r;
        char path[4200];
        struct stat st;

        synth_options_init(&o);
        o.commits = 30;
        o.template_id = cases[i].t;
        d = gen(&o, &r);
        assert_int_equal(sh_long(d, "grep -c '^FROM ' Dockerfile"),
                         cases[i].froms);
        assert_int_equal(sh_long(d, "grep -cx '.git' .dockerignore"),
                         cases[i].ignores_git);
        snprintf(path, sizeof(path), "%s/%s", d, cases[i].deps);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 1000); /* deps files are big */
        rm_gen(d);
    }
}

/* --label-every 10 over 35 commits: commits 10, 20 and 30 each append a
 * LABEL, and the Dockerfile of commit 25 has two of them. */
static void synth__label_every_grows_the_dockerfile(void **state)
{
    struct synth_options o;
    struct synth_result r;
    char *d;

    (void)state;
    synth_options_init(&o);
    o.commits = 35;
    o.label_every = 10;
    d = gen(&o, &r);
    assert_int_equal(sh_long(d, "grep -c '^LABEL com.example.note' "
                                "Dockerfile"),
                     3);
    assert_int_equal(sh_long(d, "git show HEAD~9:Dockerfile | "
                                "grep -c '^LABEL com.example.note'"),
                     2);
    assert_int_equal(sh_long(d, "git log --format=%b | "
                                "grep -c '^Dockerfile: add LABEL'"),
                     3);
    assert_int_equal(sh_long(d, "git show HEAD~9:Dockerfile | "
                                "grep -c '^FROM '"),
                     1);
    rm_gen(d);
}

static void synth__bad_order_copies_the_source_before_installing(void **state)
{
    struct synth_options o;
    struct synth_result r;
    char *d;

    (void)state;
    synth_options_init(&o);
    o.commits = 5;
    o.template_id = SYNTH_BAD_ORDER;
    d = gen(&o, &r);
    /* line of COPY . . is before the pip install line */
    assert_true(sh_long(d, "grep -n '^COPY \\. \\.' Dockerfile | cut -d: -f1") <
                sh_long(d, "grep -n 'pip install' Dockerfile | cut -d: -f1"));
    rm_gen(d);
}

/* Commits after the first that change the Dockerfile. */
static long dockerfile_commits(const char *d)
{
    return sh_long(d, "git log --format=%H --skip=0 -- Dockerfile | wc -l") - 1;
}

static void synth__mix_decides_what_the_commits_change(void **state)
{
    struct synth_options o;
    struct synth_result r;
    struct err err = ERR_INIT;
    char *d;
    long n;

    (void)state;
    synth_options_init(&o);
    o.commits = 101;
    assert_int_equal(synth_mix_parse("dockerfile=1", &o.mix, &err), 0);
    d = gen(&o, &r);
    assert_int_equal(dockerfile_commits(d), 100);
    assert_int_equal(r.kind_commits[SYNTH_DOCKERFILE], 100);
    rm_gen(d);

    assert_int_equal(synth_mix_parse("code=1", &o.mix, &err), 0);
    d = gen(&o, &r);
    assert_int_equal(dockerfile_commits(d), 0);
    rm_gen(d);

    o.commits = 401;
    assert_int_equal(synth_mix_parse("code=50,dockerfile=50", &o.mix, &err), 0);
    d = gen(&o, &r);
    n = dockerfile_commits(d);
    assert_true(n > 140 && n < 260);
    rm_gen(d);
}

static void synth__long_histories_have_renames_and_mode_changes(void **state)
{
    struct synth_options o;
    struct synth_result r;
    char *d;

    (void)state;
    synth_options_init(&o);
    o.commits = 600;
    d = gen(&o, &r);
    assert_true(r.renames > 0);
    assert_true(r.mode_changes > 0);
    assert_true(sh_long(d, "git log --summary --format= | grep -c "
                           "'mode change'") > 0);
    assert_true(sh_long(d, "git log -M --summary --format= | grep -c "
                           "'^ rename'") > 0);
    rm_gen(d);
}

static void synth__handles_3000_files(void **state)
{
    struct synth_options o;
    struct synth_result r;
    char *d;
    long n;

    (void)state;
    synth_options_init(&o);
    o.commits = 50;
    o.files = 3000;
    d = gen(&o, &r);
    n = sh_long(d, "git ls-files | wc -l");
    assert_int_equal(n, r.files);
    assert_true(n > 2850 && n < 3150);
    /* realistic sizes: from a few hundred bytes to tens of KB */
    assert_true(sh_long(d, "find src -type f -size -1024c | wc -l") > 50);
    assert_true(sh_long(d, "find src -type f -size +12288c | wc -l") > 50);
    rm_gen(d);
}

static void synth__refuses_a_folder_that_is_not_empty(void **state)
{
    struct synth_options o;
    struct synth_result r;
    struct err err = ERR_INIT;
    char *d = tu_tmpdir();
    char *listing;

    (void)state;
    tu_write(d, "notes.txt", "keep me\n");
    synth_options_init(&o);
    o.out = d;
    assert_int_equal(synth_run(&o, &r, &err), ERR_IO);
    assert_non_null(strstr(err.msg, "not empty"));
    assert_non_null(strstr(err.msg, d));
    listing = sh_out(d, "ls -A");
    assert_string_equal(listing, "notes.txt");
    free(listing);
    tu_rmrf(d);
}

static void synth__rejects_bad_options(void **state)
{
    struct synth_options o;
    struct synth_result r;
    struct err err = ERR_INIT;

    (void)state;
    synth_options_init(&o);
    o.out = "/tmp/harness-synth-never-created";
    o.branch = "bad..name";
    assert_int_equal(synth_run(&o, &r, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "invalid branch name 'bad..name'"));
    o.branch = "main";
    o.commits = 0;
    assert_int_equal(synth_run(&o, &r, &err), ERR_INVALID);
    assert_int_equal(access(o.out, F_OK), -1);
}

static void synth__mix_parser_accepts_and_rejects(void **state)
{
    static const struct {
        const char *in;
        int rc;
        unsigned code, deps, dockerfile, docs;
        const char *msg;
    } cases[] = {
        { "code=70,deps=10,dockerfile=5,docs=15", 0, 70, 10, 5, 15, NULL },
        { "docs=3", 0, 0, 0, 0, 3, NULL },
        { "deps=2,code=1", 0, 1, 2, 0, 0, NULL },
        { "code=0", ERR_USAGE, 0, 0, 0, 0, "all 0" },
        { "tests=5", ERR_USAGE, 0, 0, 0, 0, "unknown kind 'tests'" },
        { "code=x", ERR_USAGE, 0, 0, 0, 0, "bad weight 'x'" },
        { "code", ERR_USAGE, 0, 0, 0, 0, "KIND=WEIGHT" },
        { "code=-1", ERR_USAGE, 0, 0, 0, 0, "bad weight" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct synth_mix m;
        struct err err = ERR_INIT;
        int rc = synth_mix_parse(cases[i].in, &m, &err);

        assert_int_equal(rc, cases[i].rc);
        if (rc) {
            assert_non_null(strstr(err.msg, cases[i].msg));
            continue;
        }
        assert_int_equal(m.weight[SYNTH_CODE], cases[i].code);
        assert_int_equal(m.weight[SYNTH_DEPS], cases[i].deps);
        assert_int_equal(m.weight[SYNTH_DOCKERFILE], cases[i].dockerfile);
        assert_int_equal(m.weight[SYNTH_DOCS], cases[i].docs);
    }
}

static void synth__template_names_round_trip(void **state)
{
    enum synth_template t;

    (void)state;
    assert_int_equal(synth_template_parse("go-multistage", &t), 0);
    assert_int_equal(t, SYNTH_GO_MULTISTAGE);
    assert_string_equal(synth_template_name(SYNTH_BAD_ORDER), "bad-order");
    assert_int_equal(synth_template_parse("rust", &t), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synth__same_seed_gives_the_same_commit_ids),
        cmocka_unit_test(synth__different_seed_gives_different_commit_ids),
        cmocka_unit_test(synth__writes_the_requested_commits_on_the_branch),
        cmocka_unit_test(synth__every_template_has_a_valid_looking_dockerfile),
        cmocka_unit_test(synth__label_every_grows_the_dockerfile),
        cmocka_unit_test(synth__bad_order_copies_the_source_before_installing),
        cmocka_unit_test(synth__mix_decides_what_the_commits_change),
        cmocka_unit_test(synth__long_histories_have_renames_and_mode_changes),
        cmocka_unit_test(synth__handles_3000_files),
        cmocka_unit_test(synth__refuses_a_folder_that_is_not_empty),
        cmocka_unit_test(synth__rejects_bad_options),
        cmocka_unit_test(synth__mix_parser_accepts_and_rejects),
        cmocka_unit_test(synth__template_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
