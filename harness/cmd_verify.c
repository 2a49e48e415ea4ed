/*
 * cmd_verify.c - `harness verify`: build sampled commits for real on a
 * Docker engine, compare them step by step with the simulation
 * (--engine docker-20.10), record both, and print how far off it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_model.h"
#include "cmd.h"
#include "record_real.h"
#include "replay.h"
#include "store.h"
#include "verify.h"

struct verify_args {
    struct cli_build b;
    struct cli_model m;
    const char *real;
    const char *range;
    const char *strategy;
    const char *docker_host;
    const char *registry;
    const char *db;
    const char *network;
    const char *format;
    long sample;
    long timeout;
    int quiet;
};

/* The Debian client: a newer one elsewhere on the PATH fails BuildKit
 * builds without buildx (doc/conformance.md). */
static const char *docker_client(void)
{
    return access("/usr/bin/docker", X_OK) == 0 ? "/usr/bin/docker" : "docker";
}

static const char *verify_name_at(const void *table, size_t i)
{
    return ((const struct verify_strategy *)table)[i].name;
}

static int parse_strategies(const char *list,
                            const struct verify_strategy ***out, size_t *n,
                            struct err *err)
{
    size_t *idx = NULL;
    int rc = cli_pick_strategies(
        list, verify_strategies, verify_strategy_count, verify_name_at,
        "verify: strategy", " cannot be run on a Docker 20.10 engine", "",
        &idx, n, err);
    if (rc < 0)
        return rc;
    *out = xcalloc(*n + 1, sizeof(**out));
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = &verify_strategies[idx[i]];
    free(idx);
    return 0;
}

static void print_note(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

static void pct(char *out, size_t size, double sim, double real)
{
    if (real > 0)
        snprintf(out, size, "%+.1f%%", 100.0 * (sim - real) / real);
    else
        snprintf(out, size, "-");
}

static int print_result(const struct verify_result *res, const char *model)
{
    size_t i, j, total = 0;

    if (res->recorded)
        printf("%zu commits in the range; recorded builds compared", res->commits);
    else {
        printf("%zu commits in the range, %zu sampled:", res->commits,
               res->nsample);
        for (i = 0; i < res->nsample; i++)
            printf(" %zu", res->sample[i]);
    }
    printf("  (simulation: run %lld)\n", (long long)res->run_id);
    printf("model: %s\n\n", model);
    printf("%-20s %6s %6s %8s %11s | %8s %8s %7s | %8s %8s %7s | %s\n",
           "strategy", "builds", "failed", "compared", "steps agree",
           "build s", "model s", "error", "pull+push", "model s", "error",
           "bytes within bound (worst)");
    for (i = 0; i < res->nper; i++) {
        const struct verify_strategy_result *r = &res->per[i];
        char agree[32], e1[16], e2[16], rpp[16], spp[16], bytes[64];
        if (r->skipped) {
            printf("%-20s %s\n", r->s->name, r->note);
            continue;
        }
        snprintf(agree, sizeof(agree), "%zu/%zu", r->agree, r->steps);
        pct(e1, sizeof(e1), r->sim_seconds, r->real_seconds);
        if (r->pp_builds) {
            snprintf(rpp, sizeof(rpp), "%.1f", r->real_pp_seconds);
            snprintf(spp, sizeof(spp), "%.1f", r->sim_pp_seconds);
            pct(e2, sizeof(e2), r->sim_pp_seconds, r->real_pp_seconds);
        } else {
            snprintf(rpp, sizeof(rpp), "-");
            snprintf(spp, sizeof(spp), "-");
            snprintf(e2, sizeof(e2), "-");
        }
        if (r->bytes_builds)
            snprintf(bytes, sizeof(bytes), "%zu/%zu (%lld B)", r->bytes_within,
                     r->bytes_builds, (long long)r->bytes_worst);
        else
            snprintf(bytes, sizeof(bytes), "- (not measured)");
        printf("%-20s %6zu %6zu %8zu %11s | %8.1f %8.1f %7s | %8s %8s %7s | "
               "%s\n",
               r->s->name, r->builds, r->failed, r->compared, agree,
               r->real_seconds, r->sim_seconds, e1, rpp, spp, e2, bytes);
        total += r->ndis;
    }
    if (total) {
        printf("\ndisagreements (real vs simulated):\n");
        for (i = 0; i < res->nper; i++)
            for (j = 0; j < res->per[i].ndis; j++) {
                const struct verify_disagreement *d = &res->per[i].dis[j];
                if (d->line)
                    printf("  %-20s commit %zu %.7s line %d %s: real %s, "
                           "simulated %s\n",
                           res->per[i].s->name, d->index, d->sha, d->line,
                           d->instruction, d->real, d->sim);
                else
                    printf("  %-20s commit %zu %.7s build: real %s, "
                           "simulated %s\n",
                           res->per[i].s->name, d->index, d->sha, d->real,
                           d->sim);
            }
    }
    if (!res->recorded)
        printf("\nreal build logs: %s\n", res->logs_dir);
    return total ? EXIT_FINDINGS : EXIT_OK;
}

static void json_num(struct buf *j, double v)
{
    if (v < 0)
        buf_adds(j, "null");
    else
        buf_printf(j, "%.3f", v);
}

static void json_pct(struct buf *j, double sim, double real)
{
    if (real > 0)
        buf_printf(j, "%.1f", 100.0 * (sim - real) / real);
    else
        buf_adds(j, "null");
}

/* The same figures as print_result, as one JSON object. */
static int print_json(const struct verify_result *res, const char *model)
{
    struct buf j = BUF_INIT;
    size_t i, k, total = 0;

    buf_printf(&j, "{\"commits\":%zu,\"recorded\":%s,\"sample\":",
               res->commits, res->recorded ? "true" : "false");
    if (res->recorded)
        buf_adds(&j, "null");
    else {
        buf_addch(&j, '[');
        for (i = 0; i < res->nsample; i++)
            buf_printf(&j, "%s%zu", i ? "," : "", res->sample[i]);
        buf_addch(&j, ']');
    }
    buf_printf(&j, ",\"run\":%lld,\"model\":", (long long)res->run_id);
    buf_add_json_str(&j, model);
    buf_adds(&j, ",\"strategies\":[");
    for (i = 0; i < res->nper; i++) {
        const struct verify_strategy_result *r = &res->per[i];
        buf_adds(&j, i ? ",{\"strategy\":" : "{\"strategy\":");
        buf_add_json_str(&j, r->s->name);
        if (r->skipped) {
            buf_adds(&j, ",\"skipped\":");
            buf_add_json_str(&j, r->note);
            buf_addch(&j, '}');
            continue;
        }
        buf_printf(&j,
                   ",\"skipped\":null,\"builds\":%zu,\"failed\":%zu,"
                   "\"compared\":%zu,\"steps\":%zu,\"steps_agree\":%zu,"
                   "\"build_seconds\":{\"real\":",
                   r->builds, r->failed, r->compared, r->steps, r->agree);
        json_num(&j, r->real_seconds);
        buf_adds(&j, ",\"model\":");
        json_num(&j, r->sim_seconds);
        buf_adds(&j, ",\"error_pct\":");
        json_pct(&j, r->sim_seconds, r->real_seconds);
        buf_adds(&j, "},\"pull_push_seconds\":");
        if (r->pp_builds) {
            buf_printf(&j, "{\"builds\":%zu,\"real\":", r->pp_builds);
            json_num(&j, r->real_pp_seconds);
            buf_adds(&j, ",\"model\":");
            json_num(&j, r->sim_pp_seconds);
            buf_adds(&j, ",\"error_pct\":");
            json_pct(&j, r->sim_pp_seconds, r->real_pp_seconds);
            buf_addch(&j, '}');
        } else
            buf_adds(&j, "null");
        buf_adds(&j, ",\"bytes\":");
        if (r->bytes_builds)
            buf_printf(&j,
                       "{\"builds\":%zu,\"within_bound\":%zu,"
                       "\"worst_bytes\":%lld}",
                       r->bytes_builds, r->bytes_within,
                       (long long)r->bytes_worst);
        else
            buf_adds(&j, "null");
        buf_adds(&j, ",\"disagreements\":[");
        for (k = 0; k < r->ndis; k++) {
            const struct verify_disagreement *d = &r->dis[k];
            buf_adds(&j, k ? ",{\"commit\":" : "{\"commit\":");
            buf_add_json_str(&j, d->sha);
            buf_printf(&j, ",\"index\":%zu,\"line\":", d->index);
            if (d->line)
                buf_printf(&j, "%d", d->line);
            else
                buf_adds(&j, "null");
            buf_adds(&j, ",\"instruction\":");
            buf_add_json_str(&j, d->instruction);
            buf_adds(&j, ",\"real\":");
            buf_add_json_str(&j, d->real);
            buf_adds(&j, ",\"simulated\":");
            buf_add_json_str(&j, d->sim);
            buf_addch(&j, '}');
        }
        buf_adds(&j, "]}");
        total += r->ndis;
    }
    buf_adds(&j, "],\"logs\":");
    if (res->recorded)
        buf_adds(&j, "null");
    else
        buf_add_json_str(&j, res->logs_dir);
    buf_adds(&j, "}\n");
    fputs(buf_cstr(&j), stdout);
    buf_release(&j);
    return total ? EXIT_FINDINGS : EXIT_OK;
}

static int check_args(struct verify_args *a, struct verify_options *v,
                      struct replay_options *o, struct err *err)
{
    size_t i;

    if (a->sample < 1 || a->sample > 100000)
        return err_set(err, ERR_USAGE,
                       "verify: --sample must be between 1 and 100000");
    if (a->timeout < 1)
        return err_set(err, ERR_USAGE, "verify: --timeout must be >= 1");
    if (strcmp(a->format, "text") && strcmp(a->format, "json"))
        return err_set(err, ERR_USAGE,
                       "verify: --format must be text or json, not '%s'",
                       a->format);
    if (parse_strategies(a->strategy, &v->strategies, &v->nstrategies, err) < 0)
        return ERR_USAGE;
    if (cli_build_resolve(&a->b, err) < 0)
        return ERR_USAGE;

    o->strategies = xcalloc(v->nstrategies + 1, sizeof(*o->strategies));
    for (i = 0; i < v->nstrategies; i++) {
        o->strategies[i] = strategy_find(v->strategies[i]->name);
        if (!o->strategies[i])
            return err_set(err, ERR_USAGE,
                           "verify: the simulator lacks strategy '%s'",
                           v->strategies[i]->name);
    }
    o->nstrategies = v->nstrategies;
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    struct verify_args a;
    struct verify_options v;
    struct replay_options o;
    struct verify_result res;
    struct store *st = NULL;
    struct repo *repo = NULL;
    struct err err = ERR_INIT;
    struct buf json = BUF_INIT, realtext = BUF_INIT;
    struct record_real *recorded = NULL;
    size_t nrecorded = 0;
    char **args = NULL;
    char version[64] = "", model[300];
    int nargs, rc;

    memset(&a, 0, sizeof(a));
    memset(&v, 0, sizeof(v));
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    cli_model_init(&a.m);
    a.sample = 5;
    a.timeout = 3600;
    a.format = "text";
    {
        const struct opt opts[] = {
            CLI_BUILD_OPTS(a.b),
            { "range", 0, OPT_STRING, &a.range, "RANGE",
              "commits to simulate and sample from (default: HEAD)" },
            { "sample", 'k', OPT_INT, &a.sample, "K",
              "build K commits, evenly spaced, the first included "
              "(default: 5)" },
            { "strategy", 's', OPT_STRING, &a.strategy, "LIST",
              "comma-separated: none, local, local-legacy, "
              "cache-from-legacy, cache-from-buildkit, inline (default: "
              "all six)" },
            { "docker-host", 0, OPT_STRING, &a.docker_host, "URL",
              "the engine, as DOCKER_HOST (default: the environment's)" },
            { "registry", 0, OPT_STRING, &a.registry, "HOST:PORT",
              "registry to push to; without it the cache-from and inline "
              "strategies are skipped" },
            { "network", 0, OPT_STRING, &a.network, "MODE",
              "BuildKit RUN network, docker build --network (default: "
              "none)" },
            { "timeout", 0, OPT_INT, &a.timeout, "SECONDS",
              "limit for each docker or git command (default: 3600)" },
            { "db", 0, OPT_STRING, &a.db, "FILE",
              "SQLite database; logs go to FILE.logs/ (default: harness.db)" },
            { "real", 0, OPT_STRING, &a.real, "FILE",
              "compare the real builds recorded in FILE (ci/real-build's "
              "real.jsonl) instead of building: no engine needed" },
            CLI_MODEL_CALIB_OPTS(a.m),
            { "format", 0, OPT_STRING, &a.format, "FORMAT",
              "text (default) or json: the same figures as one object" },
            { "quiet", 'q', OPT_BOOL, &a.quiet, NULL, "no progress lines" },
            OPT_END_ENTRY,
        };
        const struct opt_cmd cmd = {
            "verify",
            "--repo DIR [--range RANGE] [--sample K] [--strategy LIST] "
            "[--docker-host URL] [--registry HOST:PORT] [--db FILE] "
            "[--real FILE] [--timings FILE]... [--layers FILE] "
            "[--manifest FILE] [--format text|json]",
            "Build K sampled commits for real on a Docker 20.10 engine, each "
            "from a fresh\nclone as CI would, under each strategy; compare "
            "every step with the\nsimulation (replay --engine docker-20.10) "
            "and record both in the database.\nEach strategy's row also "
            "gives the real and modelled seconds of docker build\nand of "
            "pull + push, and how many builds' bytes pulled and pushed are "
            "within\n5% or 20 kB of the real ones (live: bytes pulled from "
            "BuildKit logs only;\n--real: both, from the registry).  "
            "--timings, --layers and --manifest calibrate\nthe model as in "
            "replay, from files of the range's first commit's build.\nEphemeral strategies run "
            "'docker system prune -a -f' before each build: use\nan engine "
            "of its own (--docker-host).  Persistent strategies and inline "
            "build\nevery commit up to the last sampled one.  Exit status: "
            "0 every compared\nstep agrees, 1 a disagreement, 3 no engine, 4 a "
            "malformed calibration or\n--real file.",
            opts,
            0,
            0,
        };
        rc = opt_run(&cmd, argc, argv, &args, &nargs);
        if (rc >= 0)
            return rc;
        sim_config_defaults(&o.cfg);
        engine_parse(&o.cfg.engine, "docker-20.10");
        o.cfg.runners = 1;
        if (check_args(&a, &v, &o, &err) < 0) {
            err_print(&err);
            opt_print_usage(&cmd);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    cli_replay_options(&o, &a.b, a.range, &json);
    a.m.registry = a.registry;
    cli_model_json(&json, &a.m);
    o.options_json = buf_cstr(&json);
    v.repo_path = a.b.repo ? a.b.repo : ".";
    v.docker = docker_client();
    v.docker_host = a.docker_host;
    v.registry = a.registry;
    v.db_path = a.db ? a.db : "harness.db";
    v.network = a.network;
    v.build_args = a.b.build_args.items;
    v.nbuild_args = a.b.build_args.n;
    v.timeout = (double)a.timeout;
    v.sample = (size_t)a.sample;
    v.replay = &o;
    if (!a.quiet)
        v.note = print_note;
    if (cli_open_repo(&repo, &a.b, &err) < 0 ||
        cli_model_setup(&a.m, &o, repo, &err) < 0) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    {
        char note[200];
        cli_model_note(&a.m, note, sizeof(note));
        snprintf(model, sizeof(model), "%s, %s", o.cfg.model.name,
                 note[0] ? note : "not calibrated");
    }
    if (a.real) {
        if (buf_read_file(&realtext, a.real, &err) < 0 ||
            record_real_parse(&recorded, &nrecorded, a.real,
                              realtext.ptr ? realtext.ptr : "", realtext.len,
                              &err) < 0) {
            err_print(&err);
            rc = err_exit_code(err.code);
            goto out;
        }
        v.recorded = recorded;
        v.nrecorded = nrecorded;
        v.recorded_path = a.real;
    } else if (verify_engine_check(&v, version, sizeof(version), &err) < 0) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    if (!a.quiet && !a.real)
        fprintf(stderr, "verify: engine %s (client %s)\n", version, v.docker);
    if (store_open(&st, v.db_path, &err) < 0 ||
        verify_run(st, repo, &v, &res, &err) < 0) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    rc = !strcmp(a.format, "json") ? print_json(&res, model)
                                   : print_result(&res, model);
out:
    record_real_free(recorded, nrecorded);
    buf_release(&realtext);
    cli_model_release(&a.m);
    verify_result_release(&res);
    store_close(st);
    repo_free(repo);
    free(o.strategies);
    free(v.strategies);
    buf_release(&json);
    free(args);
    cli_build_release(&a.b);
    return rc;
}
