/*
 * test_strategy.c - small histories replayed through each strategy: which
 * steps hit, and what each build pulls and pushes.
 */
#include "testutil.h"

#include "buf.h"
#include "plan.h"
#include "strategy.h"
#include "synth.h"

#define MAXB 16

/* What one build did, flattened for assertions. */
struct outcome_row {
    char steps[512]; /* "FROM:miss WORKDIR:miss ..." (none/skipped too) */
    char reasons[2048]; /* the strategy's own reasons, "; "-separated */
    uint64_t pulled, pushed;
    uint64_t pulled_layers; /* bytes of layer/cache blobs pulled */
    double seconds; /* the build command's wall time */
    int hits, misses, failed;
    size_t xfers_pull;
};

struct fx {
    char *dir;
    struct outcome_row rows[MAXB];
    size_t nrows;
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
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static const char python_df[] = "FROM python:3.12-slim\n"
                                "WORKDIR /app\n"
                                "COPY requirements.txt .\n"
                                "RUN pip install -r requirements.txt\n"
                                "COPY . .\n"
                                "RUN python -m compileall .\n"
                                "CMD [\"python\", \"app.py\"]\n";

static void python_repo(struct fx *f)
{
    tu_write(f->dir, "Dockerfile", python_df);
    tu_write(f->dir, ".dockerignore", ".git\n");
    tu_write(f->dir, "requirements.txt", "flask==3.0\n");
    tu_write(f->dir, "app.py", "print('v1')\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "app.py", "print('v2')\n");
    tu_commit(f->dir, "code");
    tu_write(f->dir, "app.py", "print('v3')\n");
    tu_commit(f->dir, "code again");
}

/* Replay every commit of HEAD through one strategy with cfg. */
static void replay(struct fx *f, const char *name, const struct sim_config *cfg,
                   const char *target)
{
    struct err err = ERR_INIT;
    struct repo *r = NULL;
    struct ctx_cache *cc = NULL;
    struct oid *ids = NULL;
    size_t n = 0, i, j;
    const struct strategy_ops *ops = strategy_find(name);
    struct strategy *s;
    struct plan_options po;

    assert_non_null(ops);
    memset(&po, 0, sizeof(po));
    po.target = target;
    assert_int_equal(repo_open(&r, f->dir, &err), 0);
    assert_int_equal(ctx_cache_new(&cc, r), 0);
    assert_int_equal(repo_range(r, "HEAD", 1, &ids, &n, &err), 0);
    assert_true(n <= MAXB);
    s = strategy_new(ops, cfg);
    f->nrows = n;
    for (i = 0; i < n; i++) {
        struct plan p;
        struct sim_result res;
        struct outcome_row *row = &f->rows[i];
        struct buf b = BUF_INIT;
        struct sim_build sb = { NULL, 0, 0, NULL, NULL };

        assert_int_equal(plan_make(&p, r, cc, &ids[i], i + 1, &po,
                                   PLAN_LEGACY | PLAN_BUILDKIT, i + 1, &err),
                         0);
        memset(row, 0, sizeof(*row));
        if (p.failed) {
            row->failed = 1;
            plan_release(&p);
            continue;
        }
        sb.kb = p.kb[ops->builder];
        sb.seq = i;
        sb.time = 1700000000 + (int64_t)i * 86400;
        sim_result_init(&res, sb.kb->nsteps);
        strategy_build(s, &sb, &res);
        for (j = 0; j < res.nsteps; j++)
            buf_printf(&b, "%s%s:%s", j ? " " : "",
                       df_kind_name(sb.kb->steps[j].kind),
                       outcome_name(res.steps[j].outcome));
        snprintf(row->steps, sizeof(row->steps), "%s", buf_cstr(&b));
        buf_reset(&b);
        for (j = 0; j < res.nsteps; j++)
            if (res.steps[j].reason[0])
                buf_printf(&b, "%s; ", res.steps[j].reason);
        snprintf(row->reasons, sizeof(row->reasons), "%s", buf_cstr(&b));
        row->pulled = res.bytes_pulled;
        row->seconds = res.seconds;
        row->pushed = res.bytes_pushed;
        row->hits = res.hits;
        row->misses = res.misses;
        row->failed = res.failed;
        for (j = 0; j < res.nxfers; j++)
            if (res.xfers[j].dir == XFER_PULL) {
                row->xfers_pull++;
                if (res.xfers[j].kind == XFER_LAYER ||
                    res.xfers[j].kind == XFER_CACHE)
                    row->pulled_layers += res.xfers[j].bytes;
            }
        buf_release(&b);
        sim_result_release(&res);
        plan_release(&p);
    }
    strategy_free(s);
    free(ids);
    ctx_cache_free(cc);
    repo_free(r);
}

static struct sim_config cfg_default(void)
{
    struct sim_config c;
    sim_config_defaults(&c);
    return c;
}

#define BASE_BYTES (uint64_t)(43.2 * 1000 * 1000) /* python:3.12-slim */

static void strategy__none_misses_every_step_and_pulls_the_base_each_build(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    replay(f, "none", &c, NULL);
    for (size_t i = 0; i < f->nrows; i++) {
        assert_string_equal(f->rows[i].steps,
                            "FROM:miss WORKDIR:miss COPY:miss RUN:miss "
                            "COPY:miss RUN:miss CMD:none");
        assert_true(f->rows[i].pulled >= BASE_BYTES);
        /* re-executed steps give new layers: pushed again every build */
        assert_true(f->rows[i].pushed > 30 * 1024 * 1024);
    }
}

/* --no-cache on a machine that keeps its store: the base is pulled once,
 * every step runs again, except that BuildKit still reuses WORKDIR. */
static void strategy__no_cache_reruns_steps_but_keeps_base_and_workdir(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    replay(f, "no-cache", &c, NULL);
    assert_string_equal(f->rows[0].steps,
                        "FROM:miss WORKDIR:miss COPY:miss RUN:miss "
                        "COPY:miss RUN:miss CMD:none");
    assert_true(f->rows[0].pulled >= BASE_BYTES);
    for (size_t i = 1; i < f->nrows; i++) {
        assert_string_equal(f->rows[i].steps,
                            "FROM:hit WORKDIR:hit COPY:miss RUN:miss "
                            "COPY:miss RUN:miss CMD:none");
        assert_int_equal(f->rows[i].pulled, 0);
        assert_true(f->rows[i].pushed > 30 * 1024 * 1024);
        assert_non_null(strstr(f->rows[i].reasons, "--no-cache"));
    }
    replay(f, "no-cache-legacy", &c, NULL);
    for (size_t i = 1; i < f->nrows; i++) {
        assert_string_equal(f->rows[i].steps,
                            "FROM:hit WORKDIR:miss COPY:miss RUN:miss "
                            "COPY:miss RUN:miss CMD:miss");
        assert_int_equal(f->rows[i].pulled, 0);
    }
}

/* Measured on dockerd 20.10: a WORKDIR below a step that ran again is not
 * taken from the cache, even with the same key as in the last build. */
static void strategy__no_cache_reuses_workdir_only_below_reused_steps(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    tu_write(f->dir, "Dockerfile",
             "FROM alpine:3.19\nWORKDIR /app\nCOPY a.txt .\n"
             "RUN cat a.txt > b.txt\nWORKDIR /app/sub\nWORKDIR /app\n");
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    tu_commit(f->dir, "empty");
    replay(f, "no-cache", &c, NULL);
    assert_string_equal(f->rows[1].steps, "FROM:hit WORKDIR:hit COPY:miss "
                                          "RUN:miss WORKDIR:miss "
                                          "WORKDIR:miss");
}

static void strategy__local_hits_unchanged_steps_and_pulls_nothing_later(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    replay(f, "local", &c, NULL);
    assert_string_equal(f->rows[1].steps,
                        "FROM:hit WORKDIR:hit COPY:hit RUN:hit COPY:miss "
                        "RUN:miss CMD:none");
    assert_int_equal(f->rows[1].pulled, 0);
    /* only the code layers and config/manifest are new */
    assert_true(f->rows[1].pushed < 1024 * 1024);
}

static void strategy__cache_from_legacy_pulls_the_whole_previous_image(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    replay(f, "cache-from-legacy", &c, NULL);
    /* build 0: nothing to pull but the base */
    assert_int_equal(f->rows[0].hits, 0);
    /* build 1: every blob of image 0 (base + pip layer + ...) is pulled,
     * then the legacy chain hits up to the changed COPY */
    assert_true(f->rows[1].pulled_layers >= BASE_BYTES + 30 * 1024 * 1024);
    assert_string_equal(f->rows[1].steps,
                        "FROM:hit WORKDIR:hit COPY:hit RUN:hit COPY:miss "
                        "RUN:miss CMD:miss");
}

static void strategy__cache_from_buildkit_has_no_hits_and_fetches_config(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    replay(f, "cache-from-buildkit", &c, NULL);
    for (size_t i = 1; i < f->nrows; i++) {
        assert_int_equal(f->rows[i].hits, 0);
        /* manifest + config of the previous image, and the base */
        assert_int_equal(f->rows[i].xfers_pull, 3);
        assert_true(f->rows[i].pulled < BASE_BYTES + 64 * 1024);
    }
}

static void strategy__inline_pulls_only_layers_of_matched_steps(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();
    uint64_t pip = (uint64_t)(90.0 * 1000 * 1000 * 0.40);

    python_repo(f);
    replay(f, "inline", &c, NULL);
    assert_string_equal(f->rows[1].steps,
                        "FROM:miss WORKDIR:hit COPY:hit RUN:hit COPY:miss "
                        "RUN:miss CMD:none");
    /* base + the layers below the first miss; never the missed steps' */
    assert_true(f->rows[1].pulled_layers >= BASE_BYTES + pip);
    assert_true(f->rows[1].pulled_layers < BASE_BYTES + pip + 64 * 1024);
}

/* The layers one build pulls are fetched `pull_concurrency` at a time:
 * their requests cost rounds of blob_latency, not one each, while each
 * layer is still extracted on its own. */
static void strategy__pulled_layers_are_fetched_together(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();
    double one[16] = { 0 };
    size_t n;

    python_repo(f);
    c.model.pull_concurrency = 1;
    replay(f, "inline", &c, NULL);
    n = f->nrows;
    assert_true(n > 1 && n <= 16);
    for (size_t i = 0; i < n; i++)
        one[i] = f->rows[i].seconds;
    c.model.pull_concurrency = 8;
    replay(f, "inline", &c, NULL);
    /* the first build pulls the base alone: one request either way */
    assert_float_equal(f->rows[0].seconds, one[0], 1e-9);
    /* the second pulls the base and the layers of its three hits */
    assert_true(one[1] - f->rows[1].seconds > 2.5 * c.model.blob_latency);
    for (size_t i = 0; i < n; i++)
        assert_true(f->rows[i].seconds <= one[i] + 1e-9);
}

static void strategy__inline_full_hit_pulls_every_layer_only_on_dockerd(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();
    uint64_t dockerd_pull, buildkit_pull;

    tu_write(f->dir, "Dockerfile", python_df);
    tu_write(f->dir, ".dockerignore", ".git\n");
    tu_write(f->dir, "requirements.txt", "flask==3.0\n");
    tu_write(f->dir, "app.py", "print('v1')\n");
    tu_commit(f->dir, "one");
    tu_commit(f->dir, "empty");
    c.engine = ENGINE_DOCKER_2010;
    replay(f, "inline", &c, NULL);
    /* every step hits; FROM counts as a miss because the base is pulled */
    assert_string_equal(f->rows[1].steps,
                        "FROM:miss WORKDIR:hit COPY:hit RUN:hit COPY:hit "
                        "RUN:hit CMD:none");
    dockerd_pull = f->rows[1].pulled_layers;
    c.engine = ENGINE_BUILDKIT;
    replay(f, "inline", &c, NULL);
    assert_int_equal(f->rows[1].misses, 0);
    buildkit_pull = f->rows[1].pulled_layers;
    /* dockerd 20.10 assembles the image locally: every layer */
    assert_true(dockerd_pull >= BASE_BYTES);
    /* a standalone BuildKit pushes by reference: nothing to pull */
    assert_int_equal(buildkit_pull, 0);
}

static void strategy__gha_evicts_blobs_beyond_its_size_limit(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    tu_write(f->dir, "requirements.txt", "flask==3.1\n");
    tu_commit(f->dir, "deps");
    tu_write(f->dir, "requirements.txt", "flask==3.0\n");
    tu_commit(f->dir, "deps back");
    replay(f, "gha", &c, NULL);
    /* with 10 GB the reverted requirements hit again */
    assert_string_equal(f->rows[4].steps,
                        "FROM:miss WORKDIR:hit COPY:miss RUN:miss COPY:miss "
                        "RUN:miss CMD:none");
    /* one scope, overwritten by each build: the last export decides */
    c.gha_limit = 20 * 1024 * 1024; /* smaller than the pip layer */
    replay(f, "gha", &c, NULL);
    /* the pip layer is evicted, so its record is key-only: the step that
     * needs it runs again */
    assert_string_equal(f->rows[1].steps,
                        "FROM:miss WORKDIR:hit COPY:hit RUN:miss COPY:miss "
                        "RUN:miss CMD:none");
}

static void strategy__pool_of_four_runners_loses_hits_against_one(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();
    int one = 0, four = 0;

    python_repo(f);
    for (int i = 0; i < 5; i++) {
        char v[64];
        snprintf(v, sizeof(v), "print('w%d')\n", i);
        tu_write(f->dir, "app.py", v);
        tu_commit(f->dir, "more");
    }
    replay(f, "local", &c, NULL);
    for (size_t i = 0; i < f->nrows; i++)
        one += f->rows[i].hits;
    c.runners = 4;
    replay(f, "local", &c, NULL);
    for (size_t i = 0; i < f->nrows; i++)
        four += f->rows[i].hits;
    /* 8 builds: one runner misses only build 0; four runners miss the
     * first build on each runner */
    assert_int_equal(one, 4 * 7);
    assert_int_equal(four, 4 * 4);
}

static void strategy__failed_build_keeps_the_previous_image(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    tu_sh(f->dir, "git rm -q requirements.txt");
    tu_commit(f->dir, "drop requirements");
    tu_write(f->dir, "requirements.txt", "flask==3.0\n");
    tu_commit(f->dir, "restore");
    replay(f, "inline", &c, NULL);
    assert_true(f->rows[3].failed);
    assert_false(f->rows[4].failed);
    /* the image of build 2 is the previous one for build 4; a full hit
     * needs no layer at all on a standalone BuildKit */
    assert_string_equal(f->rows[4].steps,
                        "FROM:hit WORKDIR:hit COPY:hit RUN:hit COPY:hit "
                        "RUN:hit CMD:none");
}

static void strategy__cache_limit_collects_least_recently_used(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    python_repo(f);
    c.cache_limit = 1024 * 1024; /* far below the pip layer */
    replay(f, "local", &c, NULL);
    assert_string_equal(f->rows[1].steps,
                        "FROM:hit WORKDIR:hit COPY:hit RUN:miss COPY:miss "
                        "RUN:miss CMD:none");
    assert_non_null(strstr(f->rows[1].reasons, "removed by garbage collection"));
}

static const char multi_df[] = "FROM golang:1.22 AS builder\n"
                               "WORKDIR /src\n"
                               "COPY go.mod .\n"
                               "RUN go mod download\n"
                               "COPY main.go .\n"
                               "RUN go build -o /app .\n"
                               "FROM alpine:3.20\n"
                               "COPY config.yml /etc/app.yml\n"
                               "COPY --from=builder /app /app\n"
                               "CMD [\"/app\"]\n";

static void multi_repo(struct fx *f)
{
    tu_write(f->dir, "Dockerfile", multi_df);
    tu_write(f->dir, ".dockerignore", ".git\n");
    tu_write(f->dir, "go.mod", "module x\n");
    tu_write(f->dir, "main.go", "package main\n");
    tu_write(f->dir, "config.yml", "a: 1\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "config.yml", "a: 2\n");
    tu_commit(f->dir, "config");
}

static void strategy__inline_reruns_builder_when_final_copy_from_misses(
    void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();

    multi_repo(f);
    replay(f, "inline", &c, NULL);
    /* config.yml changed before COPY --from: the final COPY --from must
     * run, so the builder's files are needed and its key-only records
     * cannot give them: the builder stage runs again */
    assert_string_equal(f->rows[1].steps,
                        "FROM:miss WORKDIR:miss COPY:miss RUN:miss COPY:miss "
                        "RUN:miss FROM:miss COPY:miss COPY:miss CMD:none");
    replay(f, "registry-max", &c, NULL);
    /* mode=max keeps the builder's layers: only the final stage runs;
     * the builder's snapshot (down to its base) is pulled to copy from */
    assert_string_equal(f->rows[1].steps,
                        "FROM:miss WORKDIR:hit COPY:hit RUN:hit COPY:hit "
                        "RUN:hit FROM:miss COPY:miss COPY:miss CMD:none");
}

/*
 * State that must not grow with history a strategy can no longer use.  A
 * 240-commit synthetic history is replayed through every strategy; the
 * most entries each world holds (strategy_entries) over commits 121 to 240
 * must stay within a quarter (plus a little) of the most over commits 1 to
 * 120.  With retention everywhere (registry keeps 2 tags, runner stores
 * and caches collected), every strategy; with the defaults, every one but
 * local-legacy (dockerd keeps every legacy image), and apart from the
 * digest set of a registry that keeps every tag of a strategy whose world
 * cannot list what it refers to (local, local-legacy).  Beside each world
 * runs a twin whose registry forgets nothing: every build must push,
 * pull and store the same blobs in both.
 */
#define BOUNDED_COMMITS 240

static void same_result(const struct sim_result *a, const struct sim_result *b)
{
    assert_int_equal(a->nxfers, b->nxfers);
    for (size_t x = 0; x < a->nxfers; x++) {
        assert_int_equal(a->xfers[x].dir, b->xfers[x].dir);
        assert_int_equal(a->xfers[x].kind, b->xfers[x].kind);
        assert_int_equal(a->xfers[x].bytes, b->xfers[x].bytes);
        assert_memory_equal(a->xfers[x].digest, b->xfers[x].digest, SHA256_LEN);
    }
    assert_int_equal(a->registry_bytes, b->registry_bytes);
    assert_int_equal(a->cache_bytes, b->cache_bytes);
    assert_int_equal(a->hits, b->hits);
    assert_int_equal(a->misses, b->misses);
}

/* A synthetic history of BOUNDED_COMMITS commits over 40 files in dir. */
static struct synth_options bounded_options(const char *dir, unsigned seed)
{
    struct synth_options o;

    synth_options_init(&o);
    o.out = dir;
    o.commits = BOUNDED_COMMITS;
    o.files = 40;
    o.seed = seed;
    return o;
}

static void entries_at(const char *dir, const struct sim_config *cfg,
                       size_t half[], size_t full[])
{
    struct err err = ERR_INIT;
    struct repo *r = NULL;
    struct ctx_cache *cc = NULL;
    struct oid *ids = NULL;
    struct strategy *st[32], *twin[32];
    struct plan_options po;
    size_t n = 0, i, k;

    assert_true(strategy_count <= 32);
    memset(&po, 0, sizeof(po));
    assert_int_equal(repo_open(&r, dir, &err), 0);
    assert_int_equal(ctx_cache_new(&cc, r), 0);
    assert_int_equal(repo_range(r, "HEAD", 1, &ids, &n, &err), 0);
    assert_int_equal(n, BOUNDED_COMMITS);
    for (k = 0; k < strategy_count; k++) {
        st[k] = strategy_new(strategy_table[k], cfg);
        twin[k] = strategy_new(strategy_table[k], cfg);
        registry_set_forgetting(twin[k]->reg, 0);
        half[k] = full[k] = 0;
    }
    for (i = 0; i < n; i++) {
        struct plan p;
        assert_int_equal(plan_make(&p, r, cc, &ids[i], i + 1, &po,
                                   PLAN_LEGACY | PLAN_BUILDKIT, i + 1, &err),
                         0);
        for (k = 0; !p.failed && k < strategy_count; k++) {
            struct sim_build sb = { p.kb[st[k]->ops->builder], i,
                                    1700000000 + (int64_t)i * 4 * 3600, NULL,
                                    NULL };
            struct sim_result res, res2;
            sim_result_init(&res, sb.kb->nsteps);
            sim_result_init(&res2, sb.kb->nsteps);
            strategy_build(st[k], &sb, &res);
            strategy_build(twin[k], &sb, &res2);
            same_result(&res, &res2);
            sim_result_release(&res);
            sim_result_release(&res2);
        }
        plan_release(&p);
        for (k = 0; k < strategy_count; k++) {
            size_t e = strategy_entries(st[k]);
            if (!cfg->keep_tags && !st[k]->ops->nameable)
                e -= registry_blobs(st[k]->reg);
            if (i < n / 2 && e > half[k])
                half[k] = e;
            if (i >= n / 2 && e > full[k])
                full[k] = e;
        }
    }
    for (k = 0; k < strategy_count; k++) {
        strategy_free(st[k]);
        strategy_free(twin[k]);
    }
    free(ids);
    ctx_cache_free(cc);
    repo_free(r);
}

static void
strategy__state_does_not_grow_with_history_it_cannot_use(void **state)
{
    struct synth_options o;
    struct synth_result res;
    struct err err = ERR_INIT;
    char *base = tu_tmpdir(), dir[4200];
    size_t half[32], full[32], k;
    struct sim_config cfg;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/repo", base);
    o = bounded_options(dir, 3);
    o.mix.weight[SYNTH_DEPS] = 25; /* the big layer changes often */
    assert_int_equal(synth_run(&o, &res, &err), 0);

    cfg = cfg_default();
    cfg.keep_tags = 2;
    cfg.cache_limit = 500000000ULL;
    cfg.gha_limit = 500000000ULL;
    entries_at(dir, &cfg, half, full);
    for (k = 0; k < strategy_count; k++) {
        print_message("retention %-20s %6zu -> %6zu\n", strategy_table[k]->name,
                      half[k], full[k]);
        assert_true(half[k] > 0);
        assert_true(full[k] <= half[k] + half[k] / 4 + 16);
    }
    cfg = cfg_default();
    cfg.buildkit_keep = 500000000ULL;
    cfg.runners = 2; /* a runner reuses layers the newest image lacks */
    entries_at(dir, &cfg, half, full);
    for (k = 0; k < strategy_count; k++) {
        print_message("defaults  %-20s %6zu -> %6zu\n", strategy_table[k]->name,
                      half[k], full[k]);
        if (!strcmp(strategy_table[k]->name, "local-legacy"))
            assert_true(full[k] > half[k] + half[k] / 2); /* keeps all */
        else
            assert_true(full[k] <= half[k] + half[k] / 4 + 16);
    }
    tu_rmrf(base);
}

/* Two stages that start from one base wait for the one pull of it: the
 * build takes as long as when each stage pulled a base of its own (of the
 * same size) in parallel, not as if the second stage had its base at
 * once (the second stage's work is the longer). */
static double two_stage_seconds(struct fx *f, const char *base_b)
{
    struct sim_config c = cfg_default();
    char df[512];

    c.model.cores = 4; /* no stage waits for a core */
    snprintf(df, sizeof(df),
             "FROM alpine:3.20 AS a\n"
             "RUN echo a > /a\n"
             "FROM %s AS b\n"
             "RUN apk add --no-cache curl git make gcc musl-dev openssl\n"
             "FROM alpine:3.20\n"
             "COPY --from=a /a /a\n"
             "COPY --from=b /etc/os-release /b\n",
             base_b);
    tu_write(f->dir, "Dockerfile", df);
    tu_write(f->dir, ".dockerignore", ".git\n");
    tu_commit(f->dir, base_b);
    replay(f, "none", &c, NULL);
    return f->rows[f->nrows - 1].seconds;
}

static void strategy__stages_from_one_base_wait_for_its_pull(void **state)
{
    struct fx *f = *state;
    double own = two_stage_seconds(f, "alpine:3.19");
    double shared = two_stage_seconds(f, "alpine:3.20");

    assert_true(own > 0);
    assert_true(shared >= own - 1e-6);
}

/* A runner without the base resolves it before the FROM starts: that
 * start-up (fresh_start) is paid once by every build that pulls its base
 * (every `none` build, the first `no-cache` one), never by a build on a
 * runner that keeps it. */
static void strategy__fresh_start_only_where_the_base_is_pulled(void **state)
{
    struct fx *f = *state;
    struct sim_config c = cfg_default();
    double none0[16] = { 0 }, warm0[16] = { 0 };
    size_t n;

    python_repo(f);
    c.model.b[MODEL_BUILDKIT].fresh_start = 0;
    replay(f, "none", &c, NULL);
    n = f->nrows;
    assert_true(n > 1 && n <= 16);
    for (size_t i = 0; i < n; i++)
        none0[i] = f->rows[i].seconds;
    replay(f, "no-cache", &c, NULL);
    for (size_t i = 0; i < n; i++)
        warm0[i] = f->rows[i].seconds;
    c.model.b[MODEL_BUILDKIT].fresh_start = 0.5;
    replay(f, "none", &c, NULL);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(f->rows[i].seconds, none0[i] + 0.5, 1e-9);
    replay(f, "no-cache", &c, NULL);
    assert_float_equal(f->rows[0].seconds, warm0[0] + 0.5, 1e-9);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(f->rows[i].pulled, 0);
        assert_float_equal(f->rows[i].seconds, warm0[i], 1e-9);
    }
}

/* The twins of entries_at on a history with a builder stage (mode=max
 * exports records of layers no image holds; legacy records name a chain
 * through it) and a Dockerfile that grows, on both engines: forgetting
 * changes no build's pushes, pulls or stored bytes. */
static void
strategy__registry_forgets_only_what_no_later_build_names(void **state)
{
    struct synth_options o;
    struct synth_result res;
    struct err err = ERR_INIT;
    char *base = tu_tmpdir(), dir[4200];
    size_t half[32], full[32];
    struct sim_config cfg;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/repo", base);
    o = bounded_options(dir, 5);
    o.template_id = SYNTH_GO_MULTISTAGE;
    o.label_every = 9;
    assert_int_equal(synth_run(&o, &res, &err), 0);
    cfg = cfg_default();
    entries_at(dir, &cfg, half, full);
    cfg.engine = ENGINE_DOCKER_2010;
    cfg.runners = 2;
    entries_at(dir, &cfg, half, full);
    tu_rmrf(base);
}

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SHA256_LEN);
}

/* A layer's digest is a function of the key, the build and the runner
 * (all three with --reproducible off), however often and in whichever
 * order it is asked for: the digests a thread remembers (sim.c) never
 * stand in for another's. */
static void strategy__layer_digests_depend_on_key_build_and_runner(void **state)
{
    struct sim_config cfg;
    enum { N = 6000 }; /* more than the thread remembers */
    static unsigned char first[N][SHA256_LEN], sorted[N][SHA256_LEN];
    unsigned char key[SHA256_LEN], d[SHA256_LEN];
    (void)state;

    sim_config_defaults(&cfg);
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < N; k++) {
            /* pass 1 in reverse; 12 builds and runners of each key, keys
             * that share their first bytes */
            size_t j = pass ? N - 1 - k : k;
            memset(key, 0, sizeof(key));
            key[0] = (unsigned char)(j / 12 % 3);
            key[31] = (unsigned char)(j / 36);
            key[30] = (unsigned char)(j / 36 / 256);
            sim_layer_digest(&cfg, key, j % 4, j / 4 % 3, d);
            if (!pass)
                memcpy(first[j], d, SHA256_LEN);
            else
                assert_memory_equal(first[j], d, SHA256_LEN);
        }
    /* N different questions, N different answers */
    memcpy(sorted, first, sizeof(sorted));
    qsort(sorted, N, SHA256_LEN, digest_cmp);
    for (size_t j = 1; j < N; j++)
        assert_memory_not_equal(sorted[j - 1], sorted[j], SHA256_LEN);
    /* --reproducible: the key alone */
    cfg.reproducible = 1;
    memset(key, 7, sizeof(key));
    sim_layer_digest(&cfg, key, 1, 0, first[0]);
    sim_layer_digest(&cfg, key, 5, 2, d);
    assert_memory_equal(first[0], d, SHA256_LEN);
    cfg.reproducible = 0;
    sim_layer_digest(&cfg, key, 5, 2, d);
    assert_memory_not_equal(first[0], d, SHA256_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strategy__layer_digests_depend_on_key_build_and_runner),
        cmocka_unit_test_setup_teardown(
            strategy__none_misses_every_step_and_pulls_the_base_each_build,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__no_cache_reruns_steps_but_keeps_base_and_workdir, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__no_cache_reuses_workdir_only_below_reused_steps, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__local_hits_unchanged_steps_and_pulls_nothing_later,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__cache_from_legacy_pulls_the_whole_previous_image, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__cache_from_buildkit_has_no_hits_and_fetches_config,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__inline_pulls_only_layers_of_matched_steps, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__inline_full_hit_pulls_every_layer_only_on_dockerd,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__pulled_layers_are_fetched_together, setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__gha_evicts_blobs_beyond_its_size_limit, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__pool_of_four_runners_loses_hits_against_one, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__failed_build_keeps_the_previous_image, setup, teardown),
        cmocka_unit_test_setup_teardown(
            strategy__cache_limit_collects_least_recently_used, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__stages_from_one_base_wait_for_its_pull, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__fresh_start_only_where_the_base_is_pulled, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            strategy__inline_reruns_builder_when_final_copy_from_misses,
            setup, teardown),
        cmocka_unit_test(
            strategy__state_does_not_grow_with_history_it_cannot_use),
        cmocka_unit_test(
            strategy__registry_forgets_only_what_no_later_build_names),
    };
    return cmocka_run_group_tests_name("strategy", tests, NULL, NULL);
}
