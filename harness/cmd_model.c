/*
 * cmd_model.c - `harness model`: what the build-time model predicts for
 * every step of one commit if it ran (seconds, layer bytes raw and
 * compressed) and where each figure comes from, with the build's fixed
 * costs and its cold-build total under the builder's scheduling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cli_model.h"
#include "cmd.h"
#include "facts.h"
#include "keys.h"
#include "plan.h"
#include "repo.h"

struct model_args {
    struct cli_build b;
    struct cli_model m;
    const char *rev;
    const char *builder;
    const char *engine;
    const char *format;
};

static void print_text(const struct model *m, const struct plan *p,
                       const struct key_build *kb,
                       const struct model_cost *c, int builder, double cold)
{
    const struct model_builder *b = &m->b[builder];

    printf("model %s, %s builder, %d cores%s\n", m->name,
           builder ? "BuildKit" : "legacy", m->cores,
           b->parallel ? " (independent stages in parallel)"
                       : " (stages in order)");
    printf("%-5s %-6s %-8s %9s %-10s %12s %12s %-10s %s\n", "line", "stage",
           "instr", "seconds", "from", "raw bytes", "bytes", "from", "how");
    for (size_t i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        if (!s->built || (builder == MODEL_BUILDKIT && !s->vertex))
            continue;
        printf("%-5d %-6d %-8s %9.2f %-10s %12llu %12llu %-10s %s\n",
               s->line, s->stage, df_kind_name(s->kind), c[i].seconds,
               s->kind == DF_FROM ? "-" : model_src_name(c[i].seconds_src),
               (unsigned long long)c[i].raw_bytes,
               (unsigned long long)c[i].bytes,
               model_src_name(c[i].bytes_src), c[i].rule);
    }
    (void)p;
    printf("fixed: client %.2f s, fresh runner %.2f s, start %.2f s, context "
           "%.2f s + %.0f MB/s, cache import %.2f s per ref, export %.2f s + "
           "%.2f s per layer, image %.2f s\n",
           b->client, b->fresh_start, b->start, b->context_base,
           b->context_mbps,
           b->cache_import, b->export_base, b->export_layer, b->image_write);
    printf("transfers: %.3f s per blob, pull %.0f MB/s (%d at a time), push "
           "%.0f MB/s (%d at a time), extract %.0f MB/s, gzip %.0f MB/s, "
           "compressed %.0f%% of raw\n",
           m->blob_latency, m->pull_mbps, m->pull_concurrency, m->push_mbps,
           m->push_concurrency, m->unpack_mbps, m->pack_mbps,
           100 * m->compress_ratio);
    printf("cold build (every step runs, base pulled): %.2f s\n", cold);
}

static void print_json(const struct model *m, const struct key_build *kb,
                       const struct model_cost *c, int builder, double cold,
                       const char *sha)
{
    struct buf out = BUF_INIT;

    buf_printf(&out,
               "{\"commit\":\"%s\",\"profile\":\"%s\",\"builder\":\"%s\","
               "\"cores\":%d,\"cold_seconds\":%.3f,\"steps\":[",
               sha, m->name, builder ? "buildkit" : "legacy", m->cores, cold);
    for (size_t i = 0, n = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        if (!s->built || (builder == MODEL_BUILDKIT && !s->vertex))
            continue;
        buf_printf(&out,
                   "%s{\"line\":%d,\"stage\":%d,\"instruction\":\"%s\","
                   "\"seconds\":%.3f,\"seconds_source\":\"%s\","
                   "\"raw_bytes\":%llu,\"bytes\":%llu,"
                   "\"bytes_source\":\"%s\",\"how\":",
                   n++ ? "," : "", s->line, s->stage, df_kind_name(s->kind),
                   c[i].seconds, model_src_name(c[i].seconds_src),
                   (unsigned long long)c[i].raw_bytes,
                   (unsigned long long)c[i].bytes,
                   model_src_name(c[i].bytes_src));
        buf_add_json_str(&out, c[i].rule);
        buf_addch(&out, '}');
    }
    buf_adds(&out, "]}\n");
    fwrite(out.ptr, 1, out.len, stdout);
    buf_release(&out);
}

int cmd_model(int argc, char **argv)
{
    struct model_args a;
    struct repo *repo = NULL;
    struct ctx_cache *cc = NULL;
    struct facts_cache *fc = NULL;
    struct sim_config cfg;
    struct model_facts facts;
    struct model_cost *costs = NULL;
    struct err err = ERR_INIT;
    struct oid commit;
    struct plan p;
    enum builder builder = BUILDER_BUILDKIT;
    char **args = NULL, sha[OID_HEX];
    int nargs, rc = 0, planned = 0;

    memset(&a, 0, sizeof(a));
    cli_model_init(&a.m);
    sim_config_defaults(&cfg);
    {
        const struct opt opts[] = {
            CLI_BUILD_OPTS(a.b),
            { "rev", 0, OPT_STRING, &a.rev, "REV",
              "the commit (default: HEAD)" },
            { "builder", 0, OPT_STRING, &a.builder, "NAME",
              "legacy or buildkit (default: buildkit)" },
            CLI_ENGINE_OPT(a.engine),
            { "format", 0, OPT_STRING, &a.format, "FMT",
              "text or json (default: text)" },
            CLI_MODEL_OPTS(a.m),
            OPT_END_ENTRY,
        };
        const struct opt_cmd cmd = {
            "model",
            "--repo DIR [--rev REV] [--builder legacy|buildkit] [--engine "
            "PROFILE] [--timings FILE]... [--layers FILE] [--manifest FILE] "
            "[--model FILE] [--cores N] [--format text|json]",
            "Print, for every step of a commit's build, the seconds and "
            "layer bytes the\nmodel predicts if it runs and where each "
            "figure comes from (calibrated from\nthe --timings, --layers "
            "and --manifest files, a heuristic reading the\ncommit's "
            "tree, a command family's default, or the instruction's "
            "default),\nthen the fixed costs and a cold build's total.  "
            "Exit 4 for a malformed\ncalibration or model file.",
            opts, 0, 0,
        };
        int r = opt_run(&cmd, argc, argv, &args, &nargs);
        if (r >= 0)
            return r;
        if ((a.builder && builder_parse(&builder, a.builder) < 0) ||
            (a.engine && engine_parse(&cfg.engine, a.engine) < 0) ||
            (a.format && strcmp(a.format, "json") &&
             strcmp(a.format, "text"))) {
            err_set(&err, ERR_USAGE,
                    "model: --builder is legacy or buildkit, --engine "
                    "buildkit or docker-20.10, --format text or json");
            err_print(&err);
            opt_print_usage(&cmd);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (cli_build_resolve(&a.b, &err) < 0 ||
        cli_open_repo(&repo, &a.b, &err) < 0 ||
        repo_resolve(repo, a.rev ? a.rev : "HEAD", &commit, &err) < 0)
        goto fail;
    cli_bases_at(&a.b, &commit);
    if (cli_model_resolve(&a.m, &cfg, repo, &a.b.plan, &commit, &err) < 0 ||
        ctx_cache_new(&cc, repo) < 0 ||
        plan_make(&p, repo, cc, &commit, 1, &a.b.plan, 1u << builder, 1,
                  &err) < 0)
        goto fail;
    planned = 1;
    oid_hex(&commit, sha);
    if (p.failed) {
        err_set(&err, ERR_BUILD, "model: %s", p.error);
        goto fail;
    }
    fc = facts_cache_new();
    if (facts_read(fc, repo, &p, a.b.plan.context, 1, &facts, &err) < 0)
        goto fail;
    costs = xcalloc(p.kb[builder]->nsteps + 1, sizeof(*costs));
    facts_costs(&cfg.model, &p, (int)builder, &facts, costs);
    {
        double cold = facts_cold_seconds(&cfg.model, p.kb[builder], costs,
                                         &facts, (int)builder);
        char note[200];
        if (a.format && !strcmp(a.format, "json")) {
            print_json(&cfg.model, p.kb[builder], costs, (int)builder, cold,
                       sha);
        } else {
            printf("commit %s\n", sha);
            cli_model_note(&a.m, note, sizeof(note));
            if (note[0])
                printf("%s\n", note);
            print_text(&cfg.model, &p, p.kb[builder], costs, (int)builder,
                       cold);
        }
    }
    goto out;
fail:
    err_print(&err);
    rc = err_exit_code(err.code);
out:
    if (planned)
        plan_release(&p);
    free(costs);
    facts_cache_free(fc);
    ctx_cache_free(cc);
    repo_free(repo);
    free(args);
    cli_build_release(&a.b);
    cli_model_release(&a.m);
    return rc;
}
