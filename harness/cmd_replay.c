/*
 * cmd_replay.c - `harness replay`: simulate every commit of a range under
 * each chosen strategy and record it in the database; print a summary.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "cli_model.h"
#include "cmd.h"
#include "record.h"
#include "replay.h"
#include "store.h"
#include "synth.h"

struct replay_args {
    struct cli_build b;
    struct cli_model m;
    const char *range;
    const char *strategy;
    const char *engine;
    const char *assign;
    const char *cache_limit;
    const char *db;
    const char *format;
    const char *scenario;
    long runners;
    long seed;
    long keep_tags;
    long threads;
    int reproducible;
    int quiet;
};

#define UNSET (-1)

/* Take from the scenario every option the command line left unset. */
static void merge_scenario(struct replay_args *a, const struct scenario *sc,
                           char **repo, char **db)
{
    size_t i;

    if (!a->b.repo && sc->repo)
        a->b.repo = *repo = scenario_path(sc, sc->repo);
    if (!a->db && sc->db)
        a->db = *db = scenario_path(sc, sc->db);
#define TAKE(field, from)                                                          if (!(field) && (from))                                                        (field) = (from)
    TAKE(a->range, sc->range);
    TAKE(a->b.dockerfile, sc->dockerfile);
    TAKE(a->b.context, sc->context);
    TAKE(a->b.target, sc->target);
    TAKE(a->strategy, sc->strategies);
    TAKE(a->engine, sc->engine);
    TAKE(a->assign, sc->assign);
    TAKE(a->cache_limit, sc->cache_limit);
#undef TAKE
    if (a->runners == UNSET && sc->runners >= 0)
        a->runners = sc->runners;
    if (a->seed == UNSET && sc->seed >= 0)
        a->seed = sc->seed;
    if (a->keep_tags == UNSET && sc->keep_tags >= 0)
        a->keep_tags = sc->keep_tags;
    if (!a->reproducible && sc->reproducible > 0)
        a->reproducible = 1;
    if (!a->b.no_git_dir && sc->no_git_dir > 0)
        a->b.no_git_dir = 1;
    if (!a->b.first_parent && sc->first_parent > 0)
        a->b.first_parent = 1;
    if (!a->b.build_args.n)
        for (i = 0; i < sc->nbuild_args; i++) {
            XGROW(a->b.build_args.items, a->b.build_args.cap,
                  a->b.build_args.n + 1);
            a->b.build_args.items[a->b.build_args.n++] = sc->build_args[i];
        }
    if (!a->b.bases.n)
        for (i = 0; i < sc->nbases; i++) {
            XGROW(a->b.bases.items, a->b.bases.cap, a->b.bases.n + 1);
            a->b.bases.items[a->b.bases.n++] = sc->bases[i];
        }
}

/* A scenario's "synth": generate the repository if it does not exist. */
static int scenario_synth(const struct scenario *sc, const char *repo,
                          struct err *err)
{
    struct synth_options so;
    struct synth_result res;
    FILE *probe;
    struct buf head = BUF_INIT;
    int rc;

    buf_printf(&head, "%s/.git/HEAD", repo);
    probe = fopen(buf_cstr(&head), "r");
    buf_release(&head);
    if (probe) {
        fclose(probe);
        return 0;
    }
    synth_options_init(&so);
    so.out = repo;
    if (sc->synth_commits >= 0)
        so.commits = sc->synth_commits;
    if (sc->synth_files >= 0)
        so.files = sc->synth_files;
    if (sc->synth_seed >= 0)
        so.seed = (uint64_t)sc->synth_seed;
    if (sc->synth_template &&
        synth_template_parse(sc->synth_template, &so.template_id) < 0)
        return err_set(err, ERR_INVALID,
                       "scenario: unknown synth template '%s'",
                       sc->synth_template);
    fprintf(stderr, "replay: generating %ld commits into %s\n", so.commits,
            repo);
    rc = synth_run(&so, &res, err);
    return rc;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

struct progress {
    struct timespec start;
};

static double elapsed(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void show_progress(void *arg, size_t done, size_t total)
{
    struct progress *p = arg;
    double s = elapsed(&p->start);
    double rate = s > 0 ? (double)done / s : 0;

    if (done != total && done % 16)
        return;
    fprintf(stderr, "\rreplay: %zu/%zu commits, %.0f/s, ETA %.0fs   ", done,
            total, rate, rate > 0 ? (double)(total - done) / rate : 0.0);
    if (done == total)
        fputc('\n', stderr);
}

static void print_summary(const struct store_summary *s, size_t n,
                          const char *format)
{
    size_t i;

    if (format && !strcmp(format, "json")) {
        printf("[");
        for (i = 0; i < n; i++)
            printf("%s{\"strategy\":\"%s\",\"builds\":%lld,\"ok\":%lld,"
                   "\"steps_hit\":%lld,\"steps_miss\":%lld,"
                   "\"seconds\":%.1f,\"pull_seconds\":%.1f,"
                   "\"push_seconds\":%.1f,\"bytes_pulled\":%lld,"
                   "\"bytes_pushed\":%lld,\"registry_bytes\":%lld,"
                   "\"cache_bytes\":%lld}",
                   i ? "," : "", s[i].strategy, (long long)s[i].builds,
                   (long long)s[i].builds_ok, (long long)s[i].steps_hit,
                   (long long)s[i].steps_miss, s[i].seconds,
                   s[i].pull_seconds, s[i].push_seconds,
                   (long long)s[i].bytes_pulled,
                   (long long)s[i].bytes_pushed,
                   (long long)s[i].registry_bytes,
                   (long long)s[i].cache_bytes);
        printf("]\n");
        return;
    }
    if (format && !strcmp(format, "csv")) {
        printf("strategy,builds,ok,steps_hit,steps_miss,seconds,"
               "pull_seconds,push_seconds,bytes_pulled,bytes_pushed,"
               "registry_bytes,cache_bytes\n");
        for (i = 0; i < n; i++)
            printf("%s,%lld,%lld,%lld,%lld,%.1f,%.1f,%.1f,%lld,%lld,%lld,"
                   "%lld\n",
                   s[i].strategy, (long long)s[i].builds,
                   (long long)s[i].builds_ok, (long long)s[i].steps_hit,
                   (long long)s[i].steps_miss, s[i].seconds,
                   s[i].pull_seconds, s[i].push_seconds,
                   (long long)s[i].bytes_pulled, (long long)s[i].bytes_pushed,
                   (long long)s[i].registry_bytes,
                   (long long)s[i].cache_bytes);
        return;
    }
    printf("%-20s %7s %7s %9s %11s %10s %10s %10s\n", "strategy", "builds",
           "failed", "hit rate", "sim. min", "GB pulled", "GB pushed",
           "GB stored");
    for (i = 0; i < n; i++) {
        int64_t steps = s[i].steps_hit + s[i].steps_miss;
        printf("%-20s %7lld %7lld %8.1f%% %11.1f %10.3f %10.3f %10.3f\n",
               s[i].strategy, (long long)s[i].builds,
               (long long)(s[i].builds - s[i].builds_ok),
               steps ? 100.0 * (double)s[i].steps_hit / (double)steps : 0.0,
               (s[i].seconds + s[i].pull_seconds + s[i].push_seconds) / 60.0,
               (double)s[i].bytes_pulled / 1e9,
               (double)s[i].bytes_pushed / 1e9,
               (double)(s[i].registry_bytes + s[i].cache_bytes) / 1e9);
    }
}

static int check_args(struct replay_args *a, struct replay_options *o,
                      struct err *err)
{
    if (cli_replay_pick(o, a->strategy, a->engine, "replay", err) < 0)
        return ERR_USAGE;
    if (a->runners < 1 || a->runners > 10000)
        return err_set(err, ERR_USAGE,
                       "replay: --runners must be between 1 and 10000");
    o->cfg.runners = (size_t)a->runners;
    if (a->assign && !strcmp(a->assign, "random"))
        o->cfg.assign = ASSIGN_RANDOM;
    else if (a->assign && strcmp(a->assign, "round-robin"))
        return err_set(err, ERR_USAGE,
                       "replay: --assign is round-robin or random");
    o->cfg.seed = (uint64_t)a->seed;
    if (a->keep_tags < 0)
        return err_set(err, ERR_USAGE, "replay: --keep-tags must be >= 0");
    o->cfg.keep_tags = (size_t)a->keep_tags;
    o->cfg.reproducible = a->reproducible;
    if (a->threads == UNSET)
        a->threads = cli_cores();
    if (a->threads < 1 || a->threads > 256)
        return err_set(err, ERR_USAGE,
                       "replay: --threads must be between 1 and 256");
    o->threads = (size_t)a->threads;
    if (a->cache_limit &&
        cli_parse_size(a->cache_limit, &o->cfg.cache_limit, err) < 0)
        return ERR_USAGE;
    if (a->format && strcmp(a->format, "text") && strcmp(a->format, "json") &&
        strcmp(a->format, "csv"))
        return err_set(err, ERR_USAGE, "replay: unknown format '%s'",
                       a->format);
    return cli_build_resolve(&a->b, err);
}
/* A scenario's model keys, for those the command line left unset: paths
 * resolved against the scenario's folder into a->m (the strings kept in
 * owned), and as the file spells them into jm, which the run records so
 * that the same scenario resumes its run from any working folder. */
static void merge_model(struct replay_args *a, const struct scenario *sc,
                        struct opt_list *owned, struct cli_model *jm)
{
    static const struct {
        size_t lo, so, no;
    } lists[] = {
        { offsetof(struct cli_model, timings), offsetof(struct scenario, timings),
          offsetof(struct scenario, ntimings) },
        { offsetof(struct cli_model, layers), offsetof(struct scenario, layers),
          offsetof(struct scenario, nlayers) },
        { offsetof(struct cli_model, manifests),
          offsetof(struct scenario, manifests),
          offsetof(struct scenario, nmanifests) },
    };
    size_t i, j;

    *jm = a->m;
    if (!a->m.model_file && sc->model) {
        char *p = scenario_path(sc, sc->model);
        XGROW(owned->items, owned->cap, owned->n + 1);
        owned->items[owned->n++] = p;
        a->m.model_file = p;
        jm->model_file = sc->model;
    }
    if (a->m.cores == UNSET && sc->cores >= 0)
        a->m.cores = jm->cores = sc->cores;
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct opt_list *to = (struct opt_list *)(void *)((char *)&a->m +
                                                          lists[i].lo);
        struct opt_list *spelled = (struct opt_list *)(void *)((char *)jm +
                                                               lists[i].lo);
        char *const *from = *(char **const *)(const void *)((const char *)sc +
                                                            lists[i].so);
        size_t n = *(const size_t *)(const void *)((const char *)sc +
                                                   lists[i].no);
        if (to->n || !n)
            continue;
        /* jm's list points at the scenario's strings: an array of its own */
        spelled->items = xcalloc(n, sizeof(*spelled->items));
        spelled->n = spelled->cap = n;
        XGROW(owned->items, owned->cap, owned->n + 1);
        owned->items[owned->n++] = (const char *)spelled->items;
        for (j = 0; j < n; j++) {
            char *p = scenario_path(sc, from[j]);
            XGROW(owned->items, owned->cap, owned->n + 1);
            owned->items[owned->n++] = p;
            XGROW(to->items, to->cap, to->n + 1);
            to->items[to->n++] = p;
            spelled->items[j] = from[j];
        }
    }
}

/*
 * Everything after the command line: take what the scenario sets (sc may
 * be NULL), generate its repository, check, replay, print.  label: the
 * repository's name when `harness run` calls (one line of news instead of
 * the summary).  cmd: for the usage line on errors (may be NULL).
 */
static int replay_exec(struct replay_args *a, const struct scenario *sc,
                       const char *label, const struct opt_cmd *cmd,
                       int64_t *run_id)
{
    struct replay_options o;
    struct replay_stats stats;
    struct store *st = NULL;
    struct repo *repo = NULL;
    struct store_summary *sum = NULL;
    size_t nsum = 0;
    struct err err = ERR_INIT;
    struct buf json = BUF_INIT;
    struct progress prog;
    char *sc_repo = NULL, *sc_db = NULL;
    struct opt_list owned = { NULL, 0, 0 };
    struct cli_model jm = a->m;
    size_t i;
    int rc;

    memset(&o, 0, sizeof(o));
    sim_config_defaults(&o.cfg);
    if (sc) {
        merge_scenario(a, sc, &sc_repo, &sc_db);
        merge_model(a, sc, &owned, &jm);
        if (sc->has_synth && a->b.repo &&
            scenario_synth(sc, a->b.repo, &err) < 0) {
            err_print(&err);
            rc = err_exit_code(err.code);
            goto out;
        }
    }
    if (a->runners == UNSET)
        a->runners = 1;
    if (a->seed == UNSET)
        a->seed = 1;
    if (a->keep_tags == UNSET)
        a->keep_tags = 0;
    if (check_args(a, &o, &err) < 0) {
        err_print(&err);
        if (cmd)
            opt_print_usage(cmd);
        rc = EXIT_USAGE;
        goto out;
    }
    cli_replay_options(&o, &a->b, a->range, &json);
    cli_model_json(&json, &jm);
    o.options_json = buf_cstr(&json);
    /* runs.repo is the folder as the scenario spells it, so that the same
     * scenario finds its run from any working folder */
    if (sc && sc->repo && sc_repo && a->b.repo == sc_repo)
        o.repo_label = sc->repo;
    o.stop = &stop_flag;
    if (!a->quiet && cli_is_tty()) {
        clock_gettime(CLOCK_MONOTONIC, &prog.start);
        o.progress = show_progress;
        o.progress_arg = &prog;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (cli_open_repo(&repo, &a->b, &err) < 0 ||
        cli_model_setup(&a->m, &o, repo, &err) < 0 ||
        store_open(&st, a->db ? a->db : "harness.db", &err) < 0 ||
        replay_run(st, repo, &o, &stats, &err) < 0 ||
        /* the summary reads every build of the run: only when printed */
        (!a->quiet && !label &&
         store_summary(st, stats.run_id, &sum, &nsum, &err) < 0)) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    if (run_id)
        *run_id = stats.run_id;
    if (stats.interrupted)
        fprintf(stderr,
                "harness: interrupted after %zu of %zu commits; run the "
                "same command again to resume\n",
                stats.commits, stats.total);
    else if (label && a->quiet < 2)
        fprintf(stderr, "run: %s: %zu commits, %zu builds written to %s%s\n",
                label, stats.total, stats.written, a->db ? a->db : "harness.db",
                stats.resumed ? " (the rest were there)" : "");
    if (!a->quiet && !label) {
        char note[200];
        cli_model_note(&a->m, note, sizeof(note));
        if (note[0])
            fprintf(stderr, "replay: model %s, %s\n", o.cfg.model.name,
                    note);
        print_summary(sum, nsum, a->format);
    }
    rc = stats.interrupted ? EXIT_RUNTIME : EXIT_OK;
out:
    free(sum);
    store_close(st);
    repo_free(repo);
    free(o.strategies);
    buf_release(&json);
    free(sc_repo);
    free(sc_db);
    for (i = 0; i < owned.n; i++)
        free((void *)owned.items[i]);
    free(owned.items);
    return rc;
}

/* Nothing given yet: a scenario or the defaults fill what stays UNSET. */
static void replay_args_init(struct replay_args *a)
{
    memset(a, 0, sizeof(*a));
    cli_model_init(&a->m);
    a->runners = UNSET;
    a->seed = UNSET;
    a->keep_tags = UNSET;
    a->threads = UNSET;
}

int cmd_replay_scenario(const struct scenario *sc, int quiet,
                        int64_t *run_id)
{
    struct replay_args a;
    int rc;

    replay_args_init(&a);
    a.quiet = quiet;
    rc = replay_exec(&a, sc, sc->name ? sc->name : "repository", NULL,
                     run_id);
    cli_build_release(&a.b);
    cli_model_release(&a.m);
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    struct replay_args a;
    struct err err = ERR_INIT;
    char **args = NULL;
    struct scenario sc;
    int nargs, rc, have_sc = 0;

    memset(&sc, 0, sizeof(sc));
    replay_args_init(&a);
    {
        const struct opt opts[] = {
            CLI_BUILD_OPTS(a.b),
            CLI_RANGE_OPT(a.range),
            CLI_STRATEGY_OPT(a.strategy),
            CLI_ENGINE_OPT(a.engine),
            { "runners", 0, OPT_INT, &a.runners, "N",
              "persistent runners in the pool (default: 1)" },
            { "assign", 0, OPT_STRING, &a.assign, "HOW",
              "round-robin (default) or random assignment to runners" },
            { "seed", 0, OPT_INT, &a.seed, "S",
              "seed for random assignment (default: 1)" },
            { "cache-limit", 0, OPT_STRING, &a.cache_limit, "SIZE",
              "size limit of a runner's cache / local-dir (e.g. 20GB; "
              "default: none, but local on the buildkit engine keeps "
              "BuildKit's default GC, 26 GB)" },
            { "keep-tags", 0, OPT_INT, &a.keep_tags, "K",
              "registry keeps only the last K image tags (default: all)" },
            { "reproducible", 0, OPT_BOOL, &a.reproducible, NULL,
              "re-executed steps give identical layers (SOURCE_DATE_EPOCH)" },
            { "db", 0, OPT_STRING, &a.db, "FILE",
              "SQLite database to write (default: harness.db)" },
            { "threads", 'j', OPT_INT, &a.threads, "N",
              "threads simulating the strategies (default: the number of "
              "cores; the rows are the same for any N)" },
            { "format", 0, OPT_STRING, &a.format, "FMT",
              "summary as text, json or csv (default: text)" },
            { "quiet", 'q', OPT_BOOL, &a.quiet, NULL,
              "no progress line and no summary" },
            { "scenario", 0, OPT_STRING, &a.scenario, "FILE",
              "read options from a scenario file (the command line wins)" },
            CLI_MODEL_OPTS(a.m),
            OPT_END_ENTRY,
        };
        const struct opt_cmd cmd = {
            "replay",
            "--repo DIR [--range RANGE] [--dockerfile PATH] [--context PATH] "
            "[--strategy LIST] [--engine PROFILE] [--runners N] "
            "[--build-arg K=V]... [--target STAGE] [--no-git-dir] "
            "[--db FILE]",
            "Replay a range of commits, oldest first, simulating a docker "
            "build of each\nunder every chosen caching strategy, and record "
            "builds, steps and transfers\nin a SQLite database.  Rerunning "
            "the same command resumes an interrupted replay.",
            opts,
            0,
            0,
        };
        rc = opt_run(&cmd, argc, argv, &args, &nargs);
        if (rc >= 0)
            return rc;
        if (a.scenario) {
            if (scenario_load(&sc, a.scenario, &err) < 0) {
                err_print(&err);
                rc = err_exit_code(err.code);
                goto out;
            }
            have_sc = 1;
            if (cli_scenario_check(&sc, &err) < 0) {
                err_print(&err);
                rc = err_exit_code(err.code);
                goto out;
            }
            if (sc.has_repos) {
                err_set(&err, ERR_USAGE,
                        "replay: %s lists %zu repositories; 'harness run' "
                        "replays a fleet",
                        a.scenario, sc.nrepos);
                err_hint(&err, "harness run %s [--jobs N]", a.scenario);
                err_print(&err);
                rc = EXIT_USAGE;
                goto out;
            }
        }
        rc = replay_exec(&a, have_sc ? &sc : NULL, NULL, &cmd, NULL);
    }
out:
    free(args);
    cli_build_release(&a.b);
    cli_model_release(&a.m);
    if (have_sc)
        scenario_release(&sc);
    return rc;
}
