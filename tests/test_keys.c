/*
 * test_keys.c - the cache model, table-driven: each case is a repository
 * with two commits and the outcome `harness explain OLD NEW` computes for
 * every step of the new build under both builders, on a runner that built
 * the old commit.
 *
 * Outcomes are written one letter per step (global ARGs excluded):
 *   H hit, M miss, N none (no cache entry under this builder), S skipped.
 * The expected letters come from doc/cache-rules.md (sections 2-4, and
 * section 9: what a real engine did, which wins).
 */
#include "testutil.h"

#include "buf.h"
#include "explain.h"
#include "plan.h"
#include "repo.h"
#include "strategy.h"

#define FAIL_LEGACY 1
#define FAIL_BUILDKIT 2

struct why {
    int line;         /* Dockerfile line (of the new commit) of the step */
    const char *text; /* substring of its miss reason */
};

struct kcase {
    const char *df0;   /* Dockerfile at the old commit */
    const char *sh0;   /* shell run before the old commit (other files) */
    const char *df1;   /* Dockerfile at the new commit; NULL: unchanged */
    const char *sh1;   /* shell run before the new commit; NULL: none */
    const char *args0; /* --build-arg for the old build: "K=V K2=V2" */
    const char *args1; /* --build-arg for the new build */
    const char *base0; /* --base IMAGE=DIGEST for the old build */
    const char *base1; /* --base IMAGE=DIGEST for the new build */
    int no_git_dir;    /* --no-git-dir */
    int remote_changes;
    const char *target;
    const char *legacy; /* expected letters */
    const char *buildkit;
    struct why why_legacy, why_buildkit;
    int fails;            /* FAIL_LEGACY | FAIL_BUILDKIT: kb->failed */
    const char *fail_why; /* substring of kb->error when it fails */
    const char *plan_fails; /* the new plan fails: substring of p.error */
};

/* ---- running a case ---- */

struct side_opts {
    struct df_var vars[8];
    char *arena[8];
    struct key_base base;
    char *base_buf;
    struct plan_options o;
};

static void side_init(struct side_opts *s, const struct kcase *c,
                      const char *args, const char *base)
{
    size_t n = 0;

    memset(s, 0, sizeof(*s));
    if (args) {
        char *copy = strdup(args), *save = NULL, *tok;
        for (tok = strtok_r(copy, " ", &save); tok && n < 8;
             tok = strtok_r(NULL, " ", &save)) {
            char *eq;
            s->arena[n] = strdup(tok);
            eq = strchr(s->arena[n], '=');
            assert_non_null(eq);
            *eq = '\0';
            s->vars[n].name = s->arena[n];
            s->vars[n].value = eq + 1;
            n++;
        }
        free(copy);
    }
    s->o.build_args = s->vars;
    s->o.nbuild_args = n;
    if (base) {
        char *eq;
        s->base_buf = strdup(base);
        eq = strchr(s->base_buf, '=');
        assert_non_null(eq);
        *eq = '\0';
        s->base.image = s->base_buf;
        s->base.digest = eq + 1;
        s->o.bases = &s->base;
        s->o.nbases = 1;
    }
    s->o.no_git_dir = c->no_git_dir;
    s->o.remote_changes = c->remote_changes;
    s->o.target = c->target;
}

static void side_release(struct side_opts *s)
{
    for (size_t i = 0; i < 8; i++)
        free(s->arena[i]);
    free(s->base_buf);
}

static char letter(enum outcome o)
{
    switch (o) {
    case OUTCOME_HIT:
        return 'H';
    case OUTCOME_MISS:
        return 'M';
    case OUTCOME_NONE:
        return 'N';
    case OUTCOME_SKIPPED:
        return 'S';
    }
    return '?';
}

/* Check one builder's outcomes, reason and failure flag; 0 if all hold. */
static int check_builder(const struct kcase *c, const struct plan *old,
                         const struct plan *now, enum builder b)
{
    const struct key_build *kb = now->kb[b];
    const char *want = b == BUILDER_LEGACY ? c->legacy : c->buildkit;
    const struct why *why =
        b == BUILDER_LEGACY ? &c->why_legacy : &c->why_buildkit;
    int want_fail =
        (c->fails & (b == BUILDER_LEGACY ? FAIL_LEGACY : FAIL_BUILDKIT)) != 0;
    struct sim_config cfg;
    struct sim_result r;
    char got[128];
    int bad = 0, found = !why->line;
    size_t i;

    sim_config_defaults(&cfg);
    explain_build(&r, &cfg, old, now, b);
    for (i = 0; i < kb->nsteps && i + 1 < sizeof(got); i++)
        got[i] = letter(r.steps[i].outcome);
    got[i] = '\0';
    if (strcmp(got, want)) {
        fprintf(stderr, "%s: outcomes %s, expected %s\n", builder_name(b),
                got, want);
        bad = 1;
    }
    for (i = 0; i < kb->nsteps && why->line; i++) {
        if (kb->steps[i].line != why->line)
            continue;
        found = 1;
        if (!strstr(r.steps[i].reason, why->text)) {
            fprintf(stderr, "%s: line %d reason '%s', expected '%s'\n",
                    builder_name(b), why->line, r.steps[i].reason,
                    why->text);
            bad = 1;
        }
        break;
    }
    if (!found) {
        fprintf(stderr, "%s: no step at line %d\n", builder_name(b),
                why->line);
        bad = 1;
    }
    if (!!kb->failed != want_fail) {
        fprintf(stderr, "%s: failed=%d, expected %d (%s)\n", builder_name(b),
                kb->failed, want_fail, kb->error);
        bad = 1;
    } else if (want_fail && c->fail_why && !strstr(kb->error, c->fail_why)) {
        fprintf(stderr, "%s: error '%s', expected '%s'\n", builder_name(b),
                kb->error, c->fail_why);
        bad = 1;
    }
    if (bad)
        for (i = 0; i < kb->nsteps; i++)
            fprintf(stderr, "  line %-3d %-10s %-7s %s\n", kb->steps[i].line,
                    df_kind_name(kb->steps[i].kind),
                    outcome_name(r.steps[i].outcome), r.steps[i].reason);
    sim_result_release(&r);
    return bad;
}

/*
 * The new commit planned again through a plan cache that planned the old
 * one first (as a replay does: keys_options.prev is the old build; with
 * the new options, as a cache holds one set) must give every step the key
 * and the content digests it has when planned alone.  1 if not.
 */
static int check_reused_keys(struct repo *repo, struct ctx_cache *cc,
                             const struct oid ids[2], struct side_opts so[2],
                             const struct plan p[2])
{
    struct plan_cache *pc = plan_cache_new();
    struct plan q[2];
    struct err err = ERR_INIT;
    int bad = 0;

    for (int i = 0; i < 2; i++) {
        /* the new options for both: a plan cache holds one set */
        struct plan_options o = so[1].o;
        o.cache = pc;
        assert_int_equal(plan_make(&q[i], repo, cc, &ids[i], (uint64_t)i + 1,
                                   &o, PLAN_LEGACY | PLAN_BUILDKIT,
                                   (uint64_t)i + 1, &err),
                         0);
    }
    for (int b = 0; b < 2 && !q[1].failed; b++) {
        const struct key_build *x = p[1].kb[b], *y = q[1].kb[b];
        assert_int_equal(x->nsteps, y->nsteps);
        for (size_t i = 0; i < x->nsteps; i++)
            if (memcmp(x->steps[i].key, y->steps[i].key, SHA256_LEN) ||
                strcmp(x->steps[i].key_hex, y->steps[i].key_hex) ||
                memcmp(x->steps[i].content, y->steps[i].content,
                       SHA256_LEN) ||
                memcmp(x->steps[i].out, y->steps[i].out, SHA256_LEN) ||
                memcmp(x->steps[i].outm, y->steps[i].outm, SHA256_LEN) ||
                memcmp(x->steps[i].envc, y->steps[i].envc, SHA256_LEN)) {
                fprintf(stderr, "%s: step %zu (line %d): key %s (or its "
                                "content digests) planned after the old "
                                "commit, %s alone\n",
                        builder_name((enum builder)b), i, x->steps[i].line,
                        y->steps[i].key_hex, x->steps[i].key_hex);
                bad = 1;
            }
    }
    plan_release(&q[0]);
    plan_release(&q[1]);
    plan_cache_free(pc);
    return bad;
}

static void run_case(const struct kcase *c)
{
    char *dir = tu_repo();
    struct repo *repo = NULL;
    struct ctx_cache *cc = NULL;
    struct err err = ERR_INIT;
    struct side_opts so[2];
    struct plan p[2];
    struct oid ids[2];
    const char *revs[2] = { "HEAD~1", "HEAD" };
    int bad = 0;

    tu_write(dir, "Dockerfile", c->df0);
    if (c->sh0)
        tu_sh(dir, "%s", c->sh0);
    tu_commit(dir, "old");
    if (c->df1)
        tu_write(dir, "Dockerfile", c->df1);
    if (c->sh1)
        tu_sh(dir, "%s", c->sh1);
    tu_commit(dir, "new");

    memset(p, 0, sizeof(p));
    side_init(&so[0], c, c->args0, c->base0);
    side_init(&so[1], c, c->args1, c->base1);
    assert_int_equal(repo_open(&repo, dir, &err), 0);
    assert_int_equal(ctx_cache_new(&cc, repo), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(repo_resolve(repo, revs[i], &ids[i], &err), 0);
        /* checkouts 1 and 2, nonces 1 and 2: as `harness explain` */
        int rc = plan_make(&p[i], repo, cc, &ids[i], (uint64_t)i + 1,
                           &so[i].o, PLAN_LEGACY | PLAN_BUILDKIT,
                           (uint64_t)i + 1, &err);
        if (rc < 0)
            fprintf(stderr, "plan_make: %s\n", err.msg);
        assert_int_equal(rc, 0);
    }
    if (!c->plan_fails)
        bad |= check_reused_keys(repo, cc, ids, so, p);
    if (c->plan_fails) {
        if (!p[1].failed || !strstr(p[1].error, c->plan_fails)) {
            fprintf(stderr, "plan failed=%d '%s', expected failure '%s'\n",
                    p[1].failed, p[1].error, c->plan_fails);
            bad = 1;
        }
    } else {
        assert_false(p[0].failed);
        assert_false(p[1].failed);
        bad |= check_builder(c, &p[0], &p[1], BUILDER_LEGACY);
        bad |= check_builder(c, &p[0], &p[1], BUILDER_BUILDKIT);
    }
    plan_release(&p[0]);
    plan_release(&p[1]);
    side_release(&so[0]);
    side_release(&so[1]);
    ctx_cache_free(cc);
    repo_free(repo);
    tu_rmrf(dir);
    if (bad)
        fail_msg("case failed (see above)");
}

#define CASE(...)                                                              \
    do {                                                                       \
        const struct kcase c_ = { __VA_ARGS__ };                               \
        run_case(&c_);                                                         \
    } while (0)

/* ==== The seven real-engine rows (doc/cache-rules.md section 9) ====
 * FROM, RUN A, ARG X=1, COPY . /app, RUN C, RUN D; the context is a plain
 * folder (no .git), notes.md is in .dockerignore. */

#define REAL_DF                                                                \
    "FROM alpine\n"                                                            \
    "RUN echo A\n"                                                             \
    "ARG X=1\n"                                                                \
    "COPY . /app\n"                                                            \
    "RUN echo C\n"                                                             \
    "RUN echo D\n"
#define REAL_FILES                                                             \
    "echo one > app.py && echo doc > notes.md && "                             \
    "printf 'notes.md\\n' > .dockerignore"

static void keys__real_engine_nothing_changed_hits_everything(void **state)
{
    (void)state;
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .legacy = "HHHHHH", .buildkit = "HHNHHH");
}

static void keys__real_engine_copied_file_content_misses_from_the_copy(
    void **state)
{
    (void)state;
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .sh1 = "echo two > app.py", .legacy = "HHHMMM",
         .buildkit = "HHNMMM", .why_legacy = { 4, "app.py changed" },
         .why_buildkit = { 5, "follows a miss at line 4" });
}

static void keys__real_engine_build_arg_change_misses_every_run_after_the_arg(
    void **state)
{
    (void)state;
    /* RUN C and RUN D do not use $X; the COPY between ARG and RUN hits */
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .args1 = "X=2", .legacy = "HHHHMM", .buildkit = "HHNHMM",
         .why_legacy = { 5, "ARG X changed '1' -> '2'" },
         .why_buildkit = { 5, "ARG X" });
}

static void keys__real_engine_build_arg_equal_to_default_hits_everything(
    void **state)
{
    (void)state;
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .args1 = "X=1", .legacy = "HHHHHH", .buildkit = "HHNHHH");
}

static void keys__real_engine_touch_only_hits_everything(void **state)
{
    (void)state;
    /* git keeps no mtime: the new commit is empty, the mtime is new */
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .sh1 = "touch -d '2030-01-01' app.py", .legacy = "HHHHHH",
         .buildkit = "HHNHHH");
}

static void keys__real_engine_chmod_misses_from_the_copy(void **state)
{
    (void)state;
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .sh1 = "chmod +x app.py", .legacy = "HHHMMM", .buildkit = "HHNMMM",
         .why_legacy = { 4, "mode of app.py changed 0644 -> 0755" },
         .why_buildkit = { 4, "mode of app.py changed 0644 -> 0755" });
}

static void keys__real_engine_dockerignored_file_change_hits_everything(
    void **state)
{
    (void)state;
    CASE(.df0 = REAL_DF, .sh0 = REAL_FILES, .no_git_dir = 1,
         .sh1 = "echo more >> notes.md", .legacy = "HHHHHH",
         .buildkit = "HHNHHH");
}

/* ==== Rules table rows ==== */

static void keys__base_digest_change_misses_every_step(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\nLABEL x=y\n",
         .sh0 = "echo a > app.py", .no_git_dir = 1,
         .base0 = "alpine=sha256:1111", .base1 = "alpine=sha256:2222",
         .legacy = "MMMM", .buildkit = "MMMN",
         .why_legacy = { 1, "base image changed" },
         .why_buildkit = { 1, "sha256:2222" });
}

static void keys__base_digest_unchanged_hits(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\n",
         .sh0 = "echo a > app.py", .sh1 = "echo b > other.txt",
         .base0 = "alpine=sha256:1111", .base1 = "alpine=sha256:1111",
         .legacy = "HHH", .buildkit = "HHH");
}

static void keys__run_text_change_misses_from_that_run(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\nRUN echo b\n"
                "CMD [\"x\"]\n",
         .df1 = "FROM alpine\nRUN echo A\nCOPY app.py /app/\nRUN echo b\n"
                "CMD [\"x\"]\n",
         .sh0 = "echo a > app.py", .legacy = "HMMMM", .buildkit = "HMMMN",
         .why_legacy = { 2, "RUN changed (line 2)" },
         .why_buildkit = { 3, "follows a miss at line 2" });
}

static void keys__second_copy_change_misses_it_and_the_run_after(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY a.txt /a/\nCOPY b.txt /b/\nRUN cat /b/b.txt\n",
         .sh0 = "echo a > a.txt && echo b > b.txt",
         .sh1 = "echo B > b.txt", .legacy = "HHMM", .buildkit = "HHMM",
         .why_legacy = { 3, "b.txt changed" },
         .why_buildkit = { 4, "follows a miss at line 3" });
}

static void keys__copy_of_one_file_hits_when_another_file_changes(void **state)
{
    (void)state;
    /* .git is in the context, but COPY app.py does not select it */
    CASE(.df0 = "FROM alpine\nCOPY app.py /app/\nRUN python /app/app.py\n",
         .sh0 = "echo a > app.py && echo x > other.txt",
         .sh1 = "echo y > other.txt", .legacy = "HHH", .buildkit = "HHH");
}

static void keys__copy_mode_change_names_the_mode(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY run.sh /usr/local/bin/\nRUN run.sh\n",
         .sh0 = "echo 'echo hi' > run.sh", .sh1 = "chmod 0755 run.sh",
         .legacy = "HMM", .buildkit = "HMM",
         .why_legacy = { 2, "mode of run.sh changed 0644 -> 0755" },
         .why_buildkit = { 2, "mode of run.sh changed 0644 -> 0755" });
}

static void keys__ignored_folder_change_hits_copy_dot(void **state)
{
    (void)state;
    /* .git and logs/ both in .dockerignore; the context has a .git */
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls /app\n",
         .sh0 = "printf '.git\\nlogs/\\n' > .dockerignore && "
                "mkdir logs && echo 1 > logs/a.log && echo a > app.py",
         .sh1 = "echo 2 > logs/a.log && echo 1 > logs/b.log",
         .legacy = "HHH", .buildkit = "HHH");
}

static void keys__workdir_change_misses_from_the_workdir(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nWORKDIR /app\nCOPY app.py .\nRUN ls\n",
         .df1 = "FROM alpine\nRUN echo a\nWORKDIR /srv\nCOPY app.py .\nRUN ls\n",
         .sh0 = "echo a > app.py", .legacy = "HHMMM", .buildkit = "HHMMM",
         .why_legacy = { 3, "/srv" }, .why_buildkit = { 3, "/srv" });
}

static void keys__env_before_copy_buildkit_copy_hits_next_run_misses(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nENV A=1\nCOPY app.py /app/\nRUN echo x\n",
         .df1 = "FROM alpine\nENV A=2\nCOPY app.py /app/\nRUN echo x\n",
         .sh0 = "echo a > app.py", .legacy = "HMMM", .buildkit = "HNHM",
         .why_legacy = { 2, "ENV A changed (line 2)" },
         .why_buildkit = { 4, "ENV A changed (line 2)" });
}

static void keys__arg_default_change_busts_legacy_at_the_arg_line(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nARG X=1\nCOPY app.py /app/\n"
                "RUN echo c\n",
         .df1 = "FROM alpine\nRUN echo a\nARG X=2\nCOPY app.py /app/\n"
                "RUN echo c\n",
         .sh0 = "echo a > app.py", .legacy = "HHMMM", .buildkit = "HHNHM",
         .why_legacy = { 3, "ARG X default changed (line 3)" },
         .why_buildkit = { 5, "ARG X changed '1' -> '2' (line 3)" });
}

static void keys__build_arg_change_misses_every_run_after_the_arg(void **state)
{
    (void)state;
    /* both builds set X; neither RUN mentions it */
    CASE(.df0 = "FROM alpine\nRUN echo before\nARG X\nCOPY app.py /app/\n"
                "RUN echo unrelated\nCOPY b.txt /b/\nRUN echo again\n",
         .sh0 = "echo a > app.py && echo b > b.txt", .args0 = "X=3",
         .args1 = "X=4", .legacy = "HHHHMMM", .buildkit = "HHNHMMM",
         .why_legacy = { 5, "ARG X changed '3' -> '4'" },
         .why_buildkit = { 5, "ARG X changed '3' -> '4'" });
}

static void keys__undeclared_and_proxy_build_args_change_nothing(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\nRUN echo b\n",
         .sh0 = "echo a > app.py", .args0 = "HTTP_PROXY=http://a:3128",
         .args1 = "HTTP_PROXY=http://b:3128 https_proxy=http://b:1 UNUSED=1",
         .legacy = "HHHH", .buildkit = "HHHH");
}

static void keys__declared_proxy_arg_is_keyed(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nARG HTTP_PROXY\nRUN echo a\n",
         .args0 = "HTTP_PROXY=http://a:3128", .args1 = "HTTP_PROXY=http://b:3128",
         .legacy = "HHM", .buildkit = "HNM",
         .why_legacy = { 3, "ARG HTTP_PROXY" },
         .why_buildkit = { 3, "ARG HTTP_PROXY" });
}

static void keys__global_arg_not_redeclared_reaches_no_run(void **state)
{
    (void)state;
    CASE(.df0 = "ARG V=1\nFROM alpine\nRUN echo $V\n", .args1 = "V=2",
         .legacy = "HH", .buildkit = "HH");
}

static void keys__global_arg_redeclared_in_the_stage_reaches_its_runs(
    void **state)
{
    (void)state;
    CASE(.df0 = "ARG V=1\nFROM alpine\nARG V\nRUN echo $V\n", .args1 = "V=2",
         .legacy = "HHM", .buildkit = "HNM",
         .why_legacy = { 4, "ARG V changed '1' -> '2'" },
         .why_buildkit = { 4, "ARG V changed '1' -> '2'" });
}

static void keys__env_expanding_an_arg_busts_legacy_at_the_env_line(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nARG V=1\nENV W=$V\nCOPY app.py /app/\n"
                "RUN echo x\n",
         .sh0 = "echo a > app.py", .args1 = "V=2", .legacy = "HHMMM",
         .buildkit = "HNNHM", .why_legacy = { 3, "ENV W changed (line 3)" });
}

static void keys__user_change_buildkit_copy_hits_run_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nUSER app\nCOPY app.py /app/\nRUN id\n",
         .df1 = "FROM alpine\nUSER web\nCOPY app.py /app/\nRUN id\n",
         .sh0 = "echo a > app.py", .legacy = "HMMM", .buildkit = "HNHM",
         .why_legacy = { 2, "USER changed (line 2)" },
         .why_buildkit = { 4, "user changed: 'app' -> 'web'" });
}

static void keys__shell_change_misses_only_shell_form_runs_under_buildkit(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nSHELL [\"/bin/sh\", \"-c\"]\nCOPY app.py /app/\n"
                "RUN [\"echo\", \"exec\"]\nRUN echo shell\n",
         .df1 = "FROM alpine\nSHELL [\"/bin/ash\", \"-c\"]\nCOPY app.py /app/\n"
                "RUN [\"echo\", \"exec\"]\nRUN echo shell\n",
         .sh0 = "echo a > app.py", .legacy = "HMMMM", .buildkit = "HNHHM",
         .why_legacy = { 2, "SHELL changed (line 2)" },
         .why_buildkit = { 5, "SHELL changed (line 2)" });
}

/* A metadata instruction at line 3 changes: legacy misses from it on,
 * BuildKit keeps every key. */
static void meta_case(const char *before, const char *after, const char *kind)
{
    char df0[256], df1[256], why[64];

    snprintf(df0, sizeof(df0),
             "FROM alpine\nRUN echo a\n%s\nCOPY app.py /app/\nRUN echo b\n",
             before);
    snprintf(df1, sizeof(df1),
             "FROM alpine\nRUN echo a\n%s\nCOPY app.py /app/\nRUN echo b\n",
             after);
    snprintf(why, sizeof(why), "%s changed (line 3)", kind);
    CASE(.df0 = df0, .df1 = df1, .sh0 = "echo a > app.py", .legacy = "HHMMM",
         .buildkit = "HHNHH", .why_legacy = { 3, why },
         .why_buildkit = { 0, NULL });
}

static void keys__label_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("LABEL version=1", "LABEL version=2", "LABEL");
}

static void keys__expose_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("EXPOSE 80", "EXPOSE 8080", "EXPOSE");
}

static void keys__cmd_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("CMD [\"serve\"]", "CMD [\"serve\", \"--debug\"]", "CMD");
}

static void keys__entrypoint_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("ENTRYPOINT [\"/a\"]", "ENTRYPOINT [\"/b\"]", "ENTRYPOINT");
}

static void keys__healthcheck_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("HEALTHCHECK CMD true", "HEALTHCHECK --interval=5s CMD true",
              "HEALTHCHECK");
}

static void keys__volume_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("VOLUME /data", "VOLUME /cache", "VOLUME");
}

static void keys__stopsignal_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGINT", "STOPSIGNAL");
}

static void keys__maintainer_change_misses_legacy_only(void **state)
{
    (void)state;
    meta_case("MAINTAINER a@example.com", "MAINTAINER b@example.com",
              "MAINTAINER");
}

static void keys__label_inserted_changes_every_later_legacy_step(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\nRUN echo b\n",
         .df1 = "FROM alpine\nRUN echo a\nLABEL team=web\nCOPY app.py /app/\n"
                "RUN echo b\n",
         .sh0 = "echo a > app.py", .legacy = "HHMMM", .buildkit = "HHNHH",
         .why_legacy = { 3, "LABEL inserted at line 3 changes every later "
                            "legacy step" });
}

static void keys__env_after_an_arg_of_the_same_name_shadows_the_build_arg(
    void **state)
{
    (void)state;
    /* legacy leaves shadowed ARGs out of |N; BuildKit's ENV replaces the
     * ARG's value in the one env list of the state */
    CASE(.df0 = "FROM alpine\nARG X=1\nENV X=5\nRUN echo $X\n",
         .args1 = "X=2", .legacy = "HHHH", .buildkit = "HNNH");
}

static void keys__user_change_misses_a_later_workdir_under_buildkit(
    void **state)
{
    (void)state;
    /* BuildKit's WORKDIR mkdir is owned by the current USER */
    CASE(.df0 = "FROM alpine\nUSER app\nWORKDIR /srv\nRUN ls\n",
         .df1 = "FROM alpine\nUSER web\nWORKDIR /srv\nRUN ls\n",
         .legacy = "HMMM", .buildkit = "HNMM",
         .why_buildkit = { 3, "user changed: 'app' -> 'web'" });
}

static void keys__heredoc_body_change_misses_the_run(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN <<EOF\necho a\nEOF\nRUN echo after\n",
         .df1 = "FROM alpine\nRUN <<EOF\necho b\nEOF\nRUN echo after\n",
         .legacy = "HMM", .buildkit = "HMM");
}

static void keys__copy_chmod_still_misses_when_the_host_mode_changes(
    void **state)
{
    (void)state;
    /* the source mode is in the content checksum (docker/buildx#1311);
     * legacy does not know --chmod */
    CASE(.df0 = "FROM alpine\nCOPY --chmod=755 run.sh /bin/\n",
         .sh0 = "echo 'echo hi' > run.sh", .sh1 = "chmod +x run.sh",
         .legacy = "HM", .buildkit = "HM",
         .why_buildkit = { 2, "mode of run.sh changed 0644 -> 0755" },
         .fails = FAIL_LEGACY, .fail_why = "--chmod flag requires BuildKit");
}

static void keys__copy_exclude_ignores_changes_to_excluded_files(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY --exclude=*.log . /app\n",
         .sh0 = "echo a > app.py && echo 1 > x.log", .sh1 = "echo 2 > x.log",
         .no_git_dir = 1, .legacy = "HM", .buildkit = "HH",
         .fails = FAIL_LEGACY, .fail_why = "--exclude flag requires BuildKit");
}

static void keys__copy_same_name_from_another_folder(void **state)
{
    (void)state;
    /* legacy's tarsum names the file by its context path; BuildKit keeps
     * only the basename of the source and checksums the content */
    CASE(.df0 = "FROM alpine\nCOPY a/conf.ini /etc/\nRUN cat /etc/conf.ini\n",
         .df1 = "FROM alpine\nCOPY b/conf.ini /etc/\nRUN cat /etc/conf.ini\n",
         .sh0 = "mkdir a b && echo same > a/conf.ini && "
                "echo same > b/conf.ini",
         .legacy = "HMM", .buildkit = "HHH",
         .why_legacy = { 2, "COPY changed (line 2)" });
}

/* ==== Dockerfile-only edits and the Dockerfile in the context ==== */

static void keys__comment_only_edit_hits_everything(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY app.py /app/\nRUN echo b\n",
         .df1 = "# build the app\nFROM alpine\nRUN echo a\n# copy it\n"
                "COPY app.py /app/\nRUN echo b\n",
         .sh0 = "echo a > app.py", .legacy = "HHHH", .buildkit = "HHHH");
}

static void keys__comment_edit_misses_copy_dot_that_copies_the_dockerfile(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .df1 = "# a comment\nFROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > app.py", .no_git_dir = 1, .legacy = "HMM",
         .buildkit = "HMM", .why_legacy = { 3, "Dockerfile changed" },
         .why_buildkit = { 3, "Dockerfile changed" });
}

static void keys__dockerignored_dockerfile_edit_hits_copy_dot(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .df1 = "# a comment\nFROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > app.py && printf 'Dockerfile\\n' > .dockerignore",
         .no_git_dir = 1, .legacy = "HHH", .buildkit = "HHH");
}

/* ==== .dockerignore edge cases ==== */

static void keys__dockerignore_exception_reincludes_a_file(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "printf '*.md\\n!README.md\\n' > .dockerignore && "
                "echo r > README.md && echo c > CHANGES.md",
         .sh1 = "echo r2 > README.md", .no_git_dir = 1, .legacy = "HMM",
         .buildkit = "HMM", .why_legacy = { 2, "README.md changed" },
         .why_buildkit = { 2, "README.md changed" });
}

static void keys__dockerignore_excluded_sibling_of_an_exception_hits(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "printf '*.md\\n!README.md\\n' > .dockerignore && "
                "echo r > README.md && echo c > CHANGES.md",
         .sh1 = "echo c2 > CHANGES.md && echo n > NEW.md", .no_git_dir = 1,
         .legacy = "HHH", .buildkit = "HHH");
}

static void keys__dockerignore_edit_misses_copy_dot(void **state)
{
    (void)state;
    /* .dockerignore itself is in the context, and build/ leaves it */
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "printf 'secret.txt\\n' > .dockerignore && mkdir build && "
                "echo o > build/out.o && echo s > secret.txt",
         .sh1 = "printf 'secret.txt\\nbuild/\\n' > .dockerignore",
         .no_git_dir = 1, .legacy = "HMM", .buildkit = "HMM",
         .why_legacy = { 2, ".dockerignore changed" },
         .why_buildkit = { 2, ".dockerignore changed" });
}

static void keys__dockerignore_that_ignores_itself_changes_without_a_miss(
    void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "printf '.dockerignore\\n.git\\nDockerfile\\n' > .dockerignore"
                " && echo a > app.py",
         .sh1 = "printf '.dockerignore\\n.git\\nDockerfile\\ntmp/\\n' > "
                ".dockerignore",
         .legacy = "HHH", .buildkit = "HHH");
}

/* ==== Renames, modes, symlinks, submodules ==== */

static void keys__rename_misses_copy_dot(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > a.txt", .sh1 = "git mv a.txt b.txt",
         .no_git_dir = 1, .legacy = "HMM", .buildkit = "HMM",
         .why_legacy = { 2, "a.txt removed" },
         .why_buildkit = { 2, "a.txt removed" });
}

static void keys__rename_inside_a_copied_folder_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY src /app/src\nRUN ls\n",
         .sh0 = "mkdir src && echo x > src/x.py && echo o > other.txt",
         .sh1 = "git mv src/x.py src/y.py", .legacy = "HMM",
         .buildkit = "HMM", .why_legacy = { 2, "x.py removed" },
         .why_buildkit = { 2, "x.py removed" });
}

static void keys__mode_back_to_0644_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY tools/ /tools/\n",
         .sh0 = "mkdir tools && echo t > tools/run.sh && chmod 755 "
                "tools/run.sh",
         .sh1 = "chmod 644 tools/run.sh", .legacy = "HM", .buildkit = "HM",
         .why_legacy = { 2, "run.sh changed 0755 -> 0644" },
         .why_buildkit = { 2, "run.sh changed 0755 -> 0644" });
}

static void keys__symlink_target_change_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\n",
         .sh0 = "echo a > a.txt && echo b > b.txt && ln -s a.txt current",
         .sh1 = "rm current && ln -s b.txt current", .no_git_dir = 1,
         .legacy = "HM", .buildkit = "HM",
         .why_legacy = { 2, "current changed" },
         .why_buildkit = { 2, "current changed" });
}

static void keys__symlink_change_hits_a_copy_that_skips_it(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY a.txt /app/\n",
         .sh0 = "echo a > a.txt && echo b > b.txt && ln -s a.txt current",
         .sh1 = "rm current && ln -s b.txt current", .legacy = "HH",
         .buildkit = "HH");
}

static void keys__file_replaced_by_a_symlink_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\n",
         .sh0 = "echo a > a.txt && echo a > conf",
         .sh1 = "rm conf && ln -s a.txt conf", .no_git_dir = 1,
         .legacy = "HM", .buildkit = "HM",
         .why_legacy = { 2, "conf changed type" },
         .why_buildkit = { 2, "conf changed type" });
}

#define SUB1 "1111111111111111111111111111111111111111"
#define SUB2 "2222222222222222222222222222222222222222"

static void keys__submodule_commit_change_hits_copy_dot(void **state)
{
    (void)state;
    /* a CI checkout without submodules has an empty folder either way */
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > a.txt && mkdir -p vendor/lib && "
                "git update-index --add --cacheinfo 160000," SUB1
                ",vendor/lib",
         .sh1 = "git update-index --cacheinfo 160000," SUB2 ",vendor/lib",
         .no_git_dir = 1, .legacy = "HHH", .buildkit = "HHH");
}

static void keys__submodule_added_misses_copy_dot(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > a.txt",
         .sh1 = "mkdir -p vendor/lib && "
                "git update-index --add --cacheinfo 160000," SUB1
                ",vendor/lib",
         .no_git_dir = 1, .legacy = "HMM", .buildkit = "HMM",
         .why_legacy = { 2, "vendor" }, .why_buildkit = { 2, "vendor" });
}

/* ==== Empty commits and the per-checkout .git ==== */

static void keys__empty_commit_with_git_dir_misses_copy_dot(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > app.py", .legacy = "HHMM", .buildkit = "HHMM",
         .why_legacy = { 3, ".git is in the context and is not in "
                            ".dockerignore" },
         .why_buildkit = { 3, ".git is in the context and is not in "
                              ".dockerignore" });
}

static void keys__empty_commit_without_git_dir_hits(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > app.py", .no_git_dir = 1, .legacy = "HHHH",
         .buildkit = "HHHH");
}

static void keys__empty_commit_with_git_in_dockerignore_hits(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY . /app\nRUN ls\n",
         .sh0 = "echo a > app.py && printf '.git\\n' > .dockerignore",
         .legacy = "HHHH", .buildkit = "HHHH");
}

/* ==== Multi-stage ==== */

#define STAGES_DF(u)                                                           \
    "FROM alpine AS build\n"                                                   \
    "RUN echo built > /out\n"                                                  \
    "FROM alpine AS unused\n"                                                  \
    "RUN echo " u "\n"                                                         \
    "FROM alpine\n"                                                            \
    "COPY --from=build /out /out\n"                                            \
    "RUN cat /out\n"

static void keys__unreachable_stage_skipped_by_buildkit_built_by_legacy(
    void **state)
{
    (void)state;
    CASE(.df0 = STAGES_DF("u1"), .df1 = STAGES_DF("u2"), .legacy = "HHHMHHH",
         .buildkit = "HHSSHHH", .why_legacy = { 4, "RUN changed (line 4)" });
}

static void keys__target_stage_skips_the_stages_after_it(void **state)
{
    (void)state;
    CASE(.df0 = STAGES_DF("u1"), .df1 = STAGES_DF("u2"), .target = "build",
         .legacy = "HHSSSSS", .buildkit = "HHSSSSS");
}

#define BUILDER_RUN_DF(mode, run)                                              \
    "FROM alpine AS b\n"                                                       \
    "ENV MODE=" mode "\n"                                                      \
    "COPY main.c /src/\n"                                                      \
    "RUN " run "\n"                                                            \
    "FROM alpine\n"                                                            \
    "COPY --from=b /out /usr/bin/app\n"                                        \
    "RUN app --version\n"
#define BUILDER_DF(mode) BUILDER_RUN_DF(mode, "sha256sum /src/main.c > /out")

static void keys__copy_from_identical_output_still_hits(void **state)
{
    (void)state;
    /* the builder's RUN re-runs (its env changed) but reads only the file
     * it names, so it makes the same files: the final COPY --from is keyed
     * by their content */
    CASE(.df0 = BUILDER_DF("1"), .df1 = BUILDER_DF("2"),
         .sh0 = "echo 'int main(){}' > main.c", .legacy = "HMMMHHH",
         .buildkit = "HNHMHHH",
         .why_buildkit = { 4, "ENV MODE changed (line 2)" });
}

static void keys__copy_from_conservative_run_misses_when_it_reruns(
    void **state)
{
    (void)state;
    /* cc reads the headers its sources include: harness cannot name its
     * inputs, so its output is new whenever it runs again */
    CASE(.df0 = BUILDER_RUN_DF("1", "cc /src/main.c -o /out"),
         .df1 = BUILDER_RUN_DF("2", "cc /src/main.c -o /out"),
         .sh0 = "echo 'int main(){}' > main.c", .legacy = "HMMMHMM",
         .buildkit = "HNHMHMM",
         .why_legacy = { 6, "the files it copies from stage 'b' changed" },
         .why_buildkit = { 6, "the files it copies from stage 'b' changed" });
}

static void keys__copy_from_changed_output_misses(void **state)
{
    (void)state;
    CASE(.df0 = BUILDER_DF("1"), .sh0 = "echo 'int main(){}' > main.c",
         .sh1 = "echo 'int main(){return 1;}' > main.c",
         .legacy = "HHMMHMM", .buildkit = "HNMMHMM",
         .why_legacy = { 6, "the files it copies from stage 'b' changed" },
         .why_buildkit = { 6, "the files it copies from stage 'b' changed" });
}

#define NAMED_DF(run)                                                          \
    "FROM alpine AS b\n"                                                       \
    "WORKDIR /src\n"                                                           \
    "COPY src/ /src/\n"                                                        \
    "RUN mkdir -p /out && " run "\n"                                           \
    "FROM alpine\n"                                                            \
    "COPY --from=b /out/sum /sum\n"                                            \
    "RUN cat /sum\n"

static void keys__named_file_unchanged_other_file_changed_hits(void **state)
{
    (void)state;
    /* b.txt changes: the COPY and the RUN run again, the RUN reads only
     * a.txt, so /out/sum is the same and the COPY --from hits */
    CASE(.df0 = NAMED_DF("sha256sum a.txt > /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt && echo b > src/b.txt",
         .sh1 = "echo b2 > src/b.txt", .legacy = "HHMMHHH",
         .buildkit = "HHMMHHH",
         .why_buildkit = { 3, "src/b.txt changed" });
}

static void keys__named_file_changed_misses(void **state)
{
    (void)state;
    CASE(.df0 = NAMED_DF("sha256sum a.txt > /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt && echo b > src/b.txt",
         .sh1 = "echo a2 > src/a.txt", .legacy = "HHMMHMM",
         .buildkit = "HHMMHMM",
         .why_buildkit = { 6, "the files it copies from stage 'b' changed" });
}

static void keys__named_glob_sees_a_new_match(void **state)
{
    (void)state;
    /* cat *.txt: a new .txt file is a new input; a .md file is not */
    CASE(.df0 = NAMED_DF("cat *.txt > /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt",
         .sh1 = "echo c > src/c.txt", .legacy = "HHMMHMM",
         .buildkit = "HHMMHMM");
    CASE(.df0 = NAMED_DF("cat *.txt > /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt",
         .sh1 = "echo c > src/c.md", .legacy = "HHMMHHH",
         .buildkit = "HHMMHHH");
}

static void keys__cp_output_carries_the_mode(void **state)
{
    (void)state;
    /* cp keeps the source's mode: chmod changes its output; cat's not */
    CASE(.df0 = NAMED_DF("cp a.txt /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt",
         .sh1 = "chmod +x src/a.txt", .legacy = "HHMMHMM",
         .buildkit = "HHMMHMM");
    CASE(.df0 = NAMED_DF("cat a.txt > /out/sum"),
         .sh0 = "mkdir -p src && echo a > src/a.txt",
         .sh1 = "chmod +x src/a.txt", .legacy = "HHMMHHH",
         .buildkit = "HHMMHHH");
}

static void keys__earlier_unknown_run_makes_named_output_new(void **state)
{
    (void)state;
    /* an unknown RUN before may have changed the tools: when it runs
     * again, every known RUN after it has a new output too */
    CASE(.df0 = "FROM alpine AS b\nWORKDIR /src\nCOPY src/ /src/\n"
                "RUN ./setup.sh\nRUN mkdir -p /out && sha256sum a.txt > "
                "/out/sum\nFROM alpine\nCOPY --from=b /out/sum /sum\n",
         .sh0 = "mkdir -p src && echo a > src/a.txt && echo b > src/b.txt",
         .sh1 = "echo b2 > src/b.txt", .legacy = "HHMMMHM",
         .buildkit = "HHMMMHM");
}

static void keys__unknown_run_after_named_run_leaves_it_alone(void **state)
{
    (void)state;
    /* a file copied into system folders counts as a tool; data files
     * copied elsewhere after the named RUN do not reach its output */
    CASE(.df0 = "FROM alpine AS b\nCOPY a.txt /src/\nRUN mkdir -p /out && "
                "sha256sum /src/a.txt > /out/sum\nCOPY b.txt /srv/\n"
                "RUN ./build.sh\nFROM alpine\nCOPY --from=b /out/sum "
                "/sum\n",
         .sh0 = "echo a > a.txt && echo b > b.txt",
         .sh1 = "echo b2 > b.txt", .legacy = "HHHMMHM",
         .buildkit = "HHHMMHM");
    CASE(.df0 = "FROM alpine AS b\nCOPY tool /usr/local/bin/\nCOPY a.txt "
                "/src/\nRUN mkdir -p /out && sha256sum /src/a.txt > "
                "/out/sum\nFROM alpine\nCOPY --from=b /out/sum /sum\n",
         .sh0 = "echo a > a.txt && echo t > tool",
         .sh1 = "echo t2 > tool", .legacy = "HMMMHM",
         .buildkit = "HMMMHM");
}

#define GO_DF                                                                  \
    "FROM golang AS b\n"                                                       \
    "WORKDIR /app\n"                                                           \
    "COPY go.mod main.go ./\n"                                                 \
    "COPY docs/ /docs/\n"                                                      \
    "RUN go build -o /out/app .\n"                                             \
    "FROM alpine\n"                                                            \
    "COPY --from=b /out/app /app\n"

static void keys__go_build_reads_its_module_folder(void **state)
{
    (void)state;
    const char *init = "mkdir -p docs && echo 'module x' > go.mod && "
                       "echo 'package main' > main.go && echo d > docs/d";
    /* a file outside /app: the build runs again with the same output */
    CASE(.df0 = GO_DF, .sh0 = init, .sh1 = "echo d2 > docs/d",
         .legacy = "HHHMMHH", .buildkit = "HHHMMHH");
    /* its source changed: a new binary */
    CASE(.df0 = GO_DF, .sh0 = init, .sh1 = "echo 'package main //' > main.go",
         .legacy = "HHMMMHM", .buildkit = "HHMMMHM");
}

/* ==== BuildKit-only features ==== */

static void keys__from_an_earlier_stage_follows_its_changes(void **state)
{
    (void)state;
    /* FROM <stage> looks nothing up: it is that stage's result (legacy
     * reuses the image, BuildKit has no vertex for it) */
    CASE(.df0 = "FROM alpine AS base\nRUN echo a\nFROM base\nRUN echo b\n",
         .df1 = "FROM alpine AS base\nRUN echo A\nFROM base\nRUN echo b\n",
         .legacy = "HMHM", .buildkit = "HMNM",
         .why_legacy = { 4, "follows a miss at line 2" },
         .why_buildkit = { 4, "follows a miss at line 2" });
}

static void keys__global_arg_in_from_changes_the_base(void **state)
{
    (void)state;
    CASE(.df0 = "ARG TAG=3.18\nFROM alpine:$TAG\nRUN echo a\n",
         .args1 = "TAG=3.19", .legacy = "MM", .buildkit = "MM",
         .why_legacy = { 2, "alpine:3.19" },
         .why_buildkit = { 2, "alpine:3.19" });
}

static void keys__cache_mount_id_and_sharing_are_not_in_the_key(void **state)
{
    (void)state;
    /* BuildKit clears non-default cache-mount id/sharing from the key */
    CASE(.df0 = "FROM alpine\n"
                "RUN --mount=type=cache,target=/root/.cache,id=a pip install\n",
         .df1 = "FROM alpine\n"
                "RUN --mount=type=cache,target=/root/.cache,id=b,"
                "sharing=locked pip install\n",
         .legacy = "HM", .buildkit = "HH", .fails = FAIL_LEGACY,
         .fail_why = "--mount flag requires BuildKit");
}

static void keys__cache_mount_target_is_in_the_key(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\n"
                "RUN --mount=type=cache,target=/root/.cache pip install\n",
         .df1 = "FROM alpine\n"
                "RUN --mount=type=cache,target=/var/cache pip install\n",
         .legacy = "HM", .buildkit = "HM", .fails = FAIL_LEGACY,
         .why_buildkit = { 2, "/var/cache" });
}

static void keys__copy_link_does_not_depend_on_earlier_steps(void **state)
{
    (void)state;
    /* the RUN after the merge still misses: its root file system holds
     * the changed RUN's output (doc/cache-rules.md section 7) */
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY --link app.py /app/\n"
                "RUN echo b\n",
         .df1 = "FROM alpine\nRUN echo A\nCOPY --link app.py /app/\n"
                "RUN echo b\n",
         .sh0 = "echo a > app.py", .legacy = "HMMM", .buildkit = "HMHM",
         .why_buildkit = { 4, "follows a miss at line 2" });
}

static void keys__copy_link_change_misses_it_and_later_runs(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY --link app.py /app/\n"
                "RUN echo b\n",
         .sh0 = "echo a > app.py", .sh1 = "echo b > app.py",
         .legacy = "HHMM", .buildkit = "HHMM",
         .why_buildkit = { 3, "app.py changed" });
}

static void keys__run_mount_bind_content_change_misses_the_run(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nCOPY app.py /app/\n"
                "RUN --mount=type=bind,source=req.txt,target=/r cat /r\n",
         .sh0 = "echo a > app.py && echo flask > req.txt",
         .sh1 = "echo django > req.txt", .legacy = "HHM", .buildkit = "HHM",
         .why_buildkit = { 3, "bind mount changed" }, .fails = FAIL_LEGACY,
         .fail_why = "requires BuildKit");
}

static void keys__run_mount_bind_unrelated_change_hits(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\n"
                "RUN --mount=type=bind,source=req.txt,target=/r cat /r\n",
         .sh0 = "echo flask > req.txt && echo a > app.py",
         .sh1 = "echo b > app.py", .legacy = "HM", .buildkit = "HH",
         .fails = FAIL_LEGACY, .fail_why = "requires BuildKit");
}

static void keys__run_network_change_misses_under_buildkit(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN --network=none echo a\n",
         .df1 = "FROM alpine\nRUN --network=host echo a\n", .legacy = "HM",
         .buildkit = "HM", .why_buildkit = { 2, "network" },
         .fails = FAIL_LEGACY, .fail_why = "--network flag requires BuildKit");
}

static void keys__add_url_is_assumed_unchanged(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nADD https://example.com/a.tgz /a.tgz\n"
                "RUN tar xzf /a.tgz\n",
         .sh0 = "echo a > app.py", .sh1 = "echo b > app.py",
         .legacy = "HHH", .buildkit = "HHH");
}

static void keys__add_url_assumed_changing_misses(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nADD https://example.com/a.tgz /a.tgz\n"
                "RUN tar xzf /a.tgz\n",
         .remote_changes = 1, .legacy = "HMM", .buildkit = "HMM");
}

/* ==== Failures ==== */

static void keys__copy_source_missing_fails_the_build(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY data.txt /d/\nRUN cat /d/*\n"
                "LABEL x=y\n",
         .sh0 = "echo d > data.txt", .sh1 = "git rm -q data.txt",
         .legacy = "HHMSS", .buildkit = "HHMSS",
         .why_legacy = { 3, "data.txt" }, .why_buildkit = { 3, "data.txt" },
         .fails = FAIL_LEGACY | FAIL_BUILDKIT,
         .fail_why = "file not found in build context");
}

static void keys__build_fixed_after_a_failure_reuses_steps_before_it(
    void **state)
{
    (void)state;
    /* the old build failed at the COPY; the runner kept FROM and RUN */
    CASE(.df0 = "FROM alpine\nRUN echo a\nCOPY data.txt /d/\nRUN cat /d/*\n",
         .sh1 = "echo d > data.txt", .legacy = "HHMM", .buildkit = "HHMM");
}

static void keys__dockerfile_that_does_not_parse_fails_the_plan(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\n",
         .df1 = "FROM alpine\nRUNN echo a\n", .plan_fails = "Dockerfile:2");
}

static void keys__dockerfile_removed_fails_the_plan(void **state)
{
    (void)state;
    CASE(.df0 = "FROM alpine\nRUN echo a\n", .sh1 = "git rm -q Dockerfile",
         .plan_fails = "no such file");
}

/* ==== dockerd 20.10's Dockerfile frontend (doc/cache-rules.md section 6):
 * each Dockerfile below was built on Docker 20.10.24 with
 * DOCKER_BUILDKIT=1; the engine's message is the expected one. */

/* The BuildKit keys of `df` (a.txt and d/e/f.txt beside it) with or without the
 * old frontend; the caller frees the plan. */
static void frontend_plan(struct plan *p, char **dir, const char *df,
                          int frontend_2010)
{
    struct repo *repo = NULL;
    struct ctx_cache *cc = NULL;
    struct err err = ERR_INIT;
    struct plan_options o;
    struct oid id;

    *dir = tu_repo();
    tu_write(*dir, "Dockerfile", df);
    tu_write(*dir, "a.txt", "hello\n");
    tu_sh(*dir, "mkdir -p d/e && echo x > d/e/f.txt");
    tu_commit(*dir, "one");
    memset(&o, 0, sizeof(o));
    o.frontend_2010 = frontend_2010;
    assert_int_equal(repo_open(&repo, *dir, &err), 0);
    assert_int_equal(ctx_cache_new(&cc, repo), 0);
    assert_int_equal(repo_resolve(repo, "HEAD", &id, &err), 0);
    assert_int_equal(plan_make(p, repo, cc, &id, 1, &o, PLAN_BUILDKIT, 1, &err),
                     0);
    if (p->failed)
        fail_msg("%s: the plan fails: %s", df, p->error);
    ctx_cache_free(cc);
    repo_free(repo);
}

/* Fails under the old frontend with `why`, at its first step (nothing
 * runs), and builds under the current one. */
static void refused_by_2010(const char *df, const char *why)
{
    for (int old = 0; old < 2; old++) {
        struct plan p;
        char *dir;
        frontend_plan(&p, &dir, df, old);
        const struct key_build *kb = p.kb[BUILDER_BUILDKIT];
        if (old) {
            if (!kb->failed || !strstr(kb->error, why))
                fail_msg("%s: failed=%d '%s', expected '%s'", df, kb->failed,
                         kb->error, why);
            assert_int_equal(kb->failed_step, 0);
        } else if (kb->failed) {
            fail_msg("%s: the current frontend fails: %s", df, kb->error);
        }
        plan_release(&p);
        tu_rmrf(dir);
    }
}

static void keys__frontend_2010_refuses_the_flags_it_does_not_know(void **state)
{
    static const char *const cases[][2] = {
        { "FROM alpine\nCOPY --parents d/e/f.txt /out/\n",
          "Dockerfile:2: Unknown flag: parents" },
        { "FROM alpine\nCOPY --link a.txt /a.txt\n",
          "Dockerfile:2: Unknown flag: link" },
        { "FROM alpine\nCOPY --link --chmod=644 a.txt /a.txt\n",
          "Dockerfile:2: Unknown flag: link" },
        { "FROM alpine\nCOPY --exclude=*.md . /src/\n",
          "Dockerfile:2: Unknown flag: exclude" },
        { "FROM alpine\nADD --link a.txt /a.txt\n",
          "Dockerfile:2: Unknown flag: link" },
        { "FROM alpine\nADD --exclude=*.md . /src/\n",
          "Dockerfile:2: Unknown flag: exclude" },
        { "FROM alpine\nADD --checksum=sha256:5891b5b522d5df086d0ff0b110fbd9d2"
          "1bb4fc7163af34d08286a2e846f6be03 a.txt /a.txt\n",
          "Dockerfile:2: Unknown flag: checksum" },
        { "FROM alpine\nADD --keep-git-dir=true a.txt /a.txt\n",
          "Dockerfile:2: Unknown flag: keep-git-dir" },
        { "FROM alpine\nRUN --network=none true\n",
          "Dockerfile:2: Unknown flag: network" },
        { "FROM alpine\nRUN --security=insecure true\n",
          "Dockerfile:2: Unknown flag: security" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        refused_by_2010(cases[i][0], cases[i][1]);
}

static void
keys__frontend_2010_refuses_a_flag_before_anything_runs(void **state)
{
    (void)state;
    /* the engine printed no step: not even the RUN before the COPY ran */
    refused_by_2010("FROM alpine\nRUN echo first-step-runs\n"
                    "COPY --link a.txt /a.txt\n",
                    "Dockerfile:3: Unknown flag: link");
}

static void
keys__frontend_2010_refuses_a_flag_in_a_stage_it_does_not_build(void **state)
{
    (void)state;
    refused_by_2010("FROM alpine AS unused\nCOPY --link a.txt /a.txt\n"
                    "FROM alpine\nCOPY a.txt /b.txt\n",
                    "Dockerfile:2: Unknown flag: link");
}

static void
keys__frontend_2010_reads_heredoc_bodies_as_instructions(void **state)
{
    (void)state;
    refused_by_2010("FROM alpine\nRUN <<EOF\ntrue\nEOF\n",
                    "Dockerfile:3: unknown instruction: TRUE");
    refused_by_2010("FROM alpine\nCOPY <<EOF /x.txt\nhi\nEOF\n",
                    "Dockerfile:3: unknown instruction: HI");
    /* empty and comment lines are skipped, a keyword line is read as an
     * instruction; the delimiter is the first line that is not one */
    refused_by_2010("FROM alpine\nRUN \\\n  <<EOF\n\n# note\nenv\nEOF\n",
                    "Dockerfile:7: unknown instruction: EOF");
}

static void keys__frontend_2010_builds_the_flags_it_knows(void **state)
{
    static const char *const ok[] = {
        "FROM alpine\nCOPY --chmod=644 a.txt /a.txt\n",
        "FROM alpine\nRUN --mount=type=cache,target=/c true\n",
        "FROM alpine\nRUN --mount=type=bind,source=a.txt,target=/a.txt "
        "cat /a.txt\n",
        "FROM alpine\nRUN --mount=type=secret,id=x true\n",
        /* a syntax directive makes the engine pull that frontend image */
        "# syntax=docker/dockerfile:1.7\nFROM alpine\nRUN <<EOF\ntrue\nEOF\n"
        "COPY --link a.txt /a.txt\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct plan p;
        char *dir;
        frontend_plan(&p, &dir, ok[i], 1);
        if (p.kb[BUILDER_BUILDKIT]->failed)
            fail_msg("%s: %s", ok[i], p.kb[BUILDER_BUILDKIT]->error);
        plan_release(&p);
        tu_rmrf(dir);
    }
}

/* ---- finding a step by its key ---- */

/* A legacy chain of n LABELs after FROM (one inserted after label `extra`
 * when extra >= 0), keyed. */
static struct key_build *label_chain(size_t n, int extra,
                                     struct df_file **df_out)
{
    struct keys_options o = { .builder = BUILDER_LEGACY };
    struct key_build *kb = NULL;
    struct df_file *df = NULL;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT;

    buf_adds(&b, "FROM alpine:3.19\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "LABEL step%zu=\"%zu\"\n", i, i);
        if ((int)i == extra)
            buf_adds(&b, "LABEL inserted=yes\n");
    }
    assert_int_equal(
        df_parse(&df, "Dockerfile", buf_cstr(&b), b.len, NULL, &err), 0);
    assert_int_equal(keys_compute(&kb, df, NULL, &o, &err), 0);
    buf_release(&b);
    *df_out = df;
    return kb;
}

static void keys__find_on_a_200_step_legacy_chain_gives_each_step(void **state)
{
    struct df_file *df, *df2;
    struct key_build *kb = label_chain(200, -1, &df);
    struct key_build *now = label_chain(200, 99, &df2);
    size_t i;

    (void)state;
    assert_int_equal(kb->nsteps, 201);
    assert_non_null(kb->index);
    for (i = 0; i < kb->nsteps; i++)
        assert_int_equal(key_build_find(kb, kb->steps[i].key), (int)i);
    /* a LABEL inserted after the 100th: the steps before it are found
     * where they were, every legacy step from it on has a new key */
    for (i = 0; i < now->nsteps; i++)
        assert_int_equal(key_build_find(kb, now->steps[i].key),
                         i <= 100 ? (int)i : -1);
    key_build_free(kb);
    key_build_free(now);
    df_file_free(df);
    df_file_free(df2);
}

static void
keys__find_gives_the_first_of_two_stages_with_the_same_steps(void **state)
{
    const char *text = "FROM alpine:3.19 AS a\nRUN make\n"
                       "FROM alpine:3.19 AS b\nRUN make\n"
                       "FROM alpine:3.19\nCOPY --from=a /x /x\n"
                       "COPY --from=b /x /y\n";
    struct keys_options o = { .builder = BUILDER_BUILDKIT };
    struct key_build *kb = NULL;
    struct df_file *df = NULL;
    struct err err = ERR_INIT;
    unsigned char none[SHA256_LEN];

    (void)state;
    assert_int_equal(
        df_parse(&df, "Dockerfile", text, strlen(text), NULL, &err), 0);
    assert_int_equal(keys_compute(&kb, df, NULL, &o, &err), 0);
    assert_memory_equal(kb->steps[1].key, kb->steps[3].key, SHA256_LEN);
    assert_int_equal(key_build_find(kb, kb->steps[3].key), 1);
    memset(none, 0x5a, sizeof(none));
    assert_int_equal(key_build_find(kb, none), -1);
    key_build_free(kb);
    df_file_free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys__real_engine_nothing_changed_hits_everything),
        cmocka_unit_test(
            keys__real_engine_copied_file_content_misses_from_the_copy),
        cmocka_unit_test(
            keys__real_engine_build_arg_change_misses_every_run_after_the_arg),
        cmocka_unit_test(
            keys__real_engine_build_arg_equal_to_default_hits_everything),
        cmocka_unit_test(keys__real_engine_touch_only_hits_everything),
        cmocka_unit_test(keys__real_engine_chmod_misses_from_the_copy),
        cmocka_unit_test(
            keys__real_engine_dockerignored_file_change_hits_everything),
        cmocka_unit_test(keys__base_digest_change_misses_every_step),
        cmocka_unit_test(keys__base_digest_unchanged_hits),
        cmocka_unit_test(keys__run_text_change_misses_from_that_run),
        cmocka_unit_test(keys__second_copy_change_misses_it_and_the_run_after),
        cmocka_unit_test(keys__copy_of_one_file_hits_when_another_file_changes),
        cmocka_unit_test(keys__copy_mode_change_names_the_mode),
        cmocka_unit_test(keys__ignored_folder_change_hits_copy_dot),
        cmocka_unit_test(keys__workdir_change_misses_from_the_workdir),
        cmocka_unit_test(
            keys__env_before_copy_buildkit_copy_hits_next_run_misses),
        cmocka_unit_test(keys__arg_default_change_busts_legacy_at_the_arg_line),
        cmocka_unit_test(keys__build_arg_change_misses_every_run_after_the_arg),
        cmocka_unit_test(keys__undeclared_and_proxy_build_args_change_nothing),
        cmocka_unit_test(keys__declared_proxy_arg_is_keyed),
        cmocka_unit_test(keys__global_arg_not_redeclared_reaches_no_run),
        cmocka_unit_test(
            keys__global_arg_redeclared_in_the_stage_reaches_its_runs),
        cmocka_unit_test(
            keys__env_expanding_an_arg_busts_legacy_at_the_env_line),
        cmocka_unit_test(keys__user_change_buildkit_copy_hits_run_misses),
        cmocka_unit_test(
            keys__shell_change_misses_only_shell_form_runs_under_buildkit),
        cmocka_unit_test(keys__label_change_misses_legacy_only),
        cmocka_unit_test(keys__expose_change_misses_legacy_only),
        cmocka_unit_test(keys__cmd_change_misses_legacy_only),
        cmocka_unit_test(keys__entrypoint_change_misses_legacy_only),
        cmocka_unit_test(keys__healthcheck_change_misses_legacy_only),
        cmocka_unit_test(keys__volume_change_misses_legacy_only),
        cmocka_unit_test(keys__stopsignal_change_misses_legacy_only),
        cmocka_unit_test(keys__maintainer_change_misses_legacy_only),
        cmocka_unit_test(keys__label_inserted_changes_every_later_legacy_step),
        cmocka_unit_test(
            keys__env_after_an_arg_of_the_same_name_shadows_the_build_arg),
        cmocka_unit_test(
            keys__user_change_misses_a_later_workdir_under_buildkit),
        cmocka_unit_test(keys__heredoc_body_change_misses_the_run),
        cmocka_unit_test(
            keys__copy_chmod_still_misses_when_the_host_mode_changes),
        cmocka_unit_test(keys__copy_exclude_ignores_changes_to_excluded_files),
        cmocka_unit_test(keys__copy_same_name_from_another_folder),
        cmocka_unit_test(keys__comment_only_edit_hits_everything),
        cmocka_unit_test(
            keys__comment_edit_misses_copy_dot_that_copies_the_dockerfile),
        cmocka_unit_test(keys__dockerignored_dockerfile_edit_hits_copy_dot),
        cmocka_unit_test(keys__dockerignore_exception_reincludes_a_file),
        cmocka_unit_test(
            keys__dockerignore_excluded_sibling_of_an_exception_hits),
        cmocka_unit_test(keys__dockerignore_edit_misses_copy_dot),
        cmocka_unit_test(
            keys__dockerignore_that_ignores_itself_changes_without_a_miss),
        cmocka_unit_test(keys__rename_misses_copy_dot),
        cmocka_unit_test(keys__rename_inside_a_copied_folder_misses),
        cmocka_unit_test(keys__mode_back_to_0644_misses),
        cmocka_unit_test(keys__symlink_target_change_misses),
        cmocka_unit_test(keys__symlink_change_hits_a_copy_that_skips_it),
        cmocka_unit_test(keys__file_replaced_by_a_symlink_misses),
        cmocka_unit_test(keys__submodule_commit_change_hits_copy_dot),
        cmocka_unit_test(keys__submodule_added_misses_copy_dot),
        cmocka_unit_test(keys__empty_commit_with_git_dir_misses_copy_dot),
        cmocka_unit_test(keys__empty_commit_without_git_dir_hits),
        cmocka_unit_test(keys__empty_commit_with_git_in_dockerignore_hits),
        cmocka_unit_test(
            keys__unreachable_stage_skipped_by_buildkit_built_by_legacy),
        cmocka_unit_test(keys__target_stage_skips_the_stages_after_it),
        cmocka_unit_test(keys__copy_from_identical_output_still_hits),
        cmocka_unit_test(keys__copy_from_changed_output_misses),
        cmocka_unit_test(
            keys__copy_from_conservative_run_misses_when_it_reruns),
        cmocka_unit_test(keys__named_file_unchanged_other_file_changed_hits),
        cmocka_unit_test(keys__named_file_changed_misses),
        cmocka_unit_test(keys__named_glob_sees_a_new_match),
        cmocka_unit_test(keys__cp_output_carries_the_mode),
        cmocka_unit_test(keys__earlier_unknown_run_makes_named_output_new),
        cmocka_unit_test(keys__unknown_run_after_named_run_leaves_it_alone),
        cmocka_unit_test(keys__go_build_reads_its_module_folder),
        cmocka_unit_test(keys__from_an_earlier_stage_follows_its_changes),
        cmocka_unit_test(keys__global_arg_in_from_changes_the_base),
        cmocka_unit_test(keys__cache_mount_id_and_sharing_are_not_in_the_key),
        cmocka_unit_test(keys__cache_mount_target_is_in_the_key),
        cmocka_unit_test(keys__copy_link_does_not_depend_on_earlier_steps),
        cmocka_unit_test(keys__copy_link_change_misses_it_and_later_runs),
        cmocka_unit_test(keys__run_mount_bind_content_change_misses_the_run),
        cmocka_unit_test(keys__run_mount_bind_unrelated_change_hits),
        cmocka_unit_test(keys__run_network_change_misses_under_buildkit),
        cmocka_unit_test(keys__add_url_is_assumed_unchanged),
        cmocka_unit_test(keys__add_url_assumed_changing_misses),
        cmocka_unit_test(keys__copy_source_missing_fails_the_build),
        cmocka_unit_test(
            keys__build_fixed_after_a_failure_reuses_steps_before_it),
        cmocka_unit_test(keys__dockerfile_that_does_not_parse_fails_the_plan),
        cmocka_unit_test(keys__dockerfile_removed_fails_the_plan),
        cmocka_unit_test(keys__frontend_2010_refuses_the_flags_it_does_not_know),
        cmocka_unit_test(
            keys__frontend_2010_refuses_a_flag_before_anything_runs),
        cmocka_unit_test(
            keys__frontend_2010_refuses_a_flag_in_a_stage_it_does_not_build),
        cmocka_unit_test(
            keys__frontend_2010_reads_heredoc_bodies_as_instructions),
        cmocka_unit_test(keys__frontend_2010_builds_the_flags_it_knows),
        cmocka_unit_test(keys__find_on_a_200_step_legacy_chain_gives_each_step),
        cmocka_unit_test(
            keys__find_gives_the_first_of_two_stages_with_the_same_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
