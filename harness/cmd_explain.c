/*
 * cmd_explain.c - `harness explain OLD NEW`: for a build of NEW on a
 * persistent runner that built OLD, each step's outcome and, for each
 * miss, the first reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "explain.h"
#include "plan.h"
#include "strategy.h"

static void report(struct buf *out, int json, enum builder b,
                   const struct plan *old, const struct plan *now,
                   const struct sim_config *cfg)
{
    struct sim_result r;
    size_t i;

    explain_build(&r, cfg, old, now, b);
    if (json)
        buf_printf(out, "{\"builder\":\"%s\",\"steps\":[", builder_name(b));
    else
        buf_printf(out, "%s:\n", builder_name(b));
    for (i = 0; i < now->kb[b]->nsteps; i++) {
        const struct key_step *s = &now->kb[b]->steps[i];
        const struct sim_step *o = &r.steps[i];
        char label[64];

        explain_label(label, sizeof(label), now->df, s);
        if (json) {
            buf_printf(out,
                       "%s{\"stage\":%d,\"line\":%d,\"instruction\":\"%s\","
                       "\"outcome\":\"%s\",\"text\":",
                       i ? "," : "", s->stage, s->line,
                       df_kind_name(s->kind), outcome_name(o->outcome));
            buf_add_json_str(out, label);
            buf_adds(out, ",\"reason\":");
            buf_add_json_str(out, o->reason);
            if (s->reads) {
                buf_adds(out, ",\"output\":");
                buf_add_json_str(out, s->reads);
            }
            buf_addch(out, '}');
        } else {
            buf_printf(out, "  %-7s %s (line %d)", outcome_name(o->outcome),
                       label, s->line);
            if (o->reason[0] && o->outcome != OUTCOME_HIT)
                buf_printf(out, ": %s", o->reason);
            buf_addch(out, '\n');
            if (s->reads && s->built)
                buf_printf(out, "          RUN output %s\n", s->reads);
        }
    }
    if (json)
        buf_adds(out, "]}");
    sim_result_release(&r);
}

int cmd_explain(int argc, char **argv)
{
    struct cli_build b;
    const char *builder = NULL, *format = NULL;
    struct repo *repo = NULL;
    struct ctx_cache *cc = NULL;
    struct plan p[2];
    struct oid ids[2];
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;
    struct sim_config cfg;
    char **args = NULL;
    int nargs, rc = 0, i, json, nb = 0;
    enum builder which[2] = { BUILDER_LEGACY, BUILDER_BUILDKIT };
    const struct opt opts[] = {
        CLI_BUILD_OPTS(b),
        { "builder", 0, OPT_STRING, &builder, "NAME",
          "legacy or buildkit (default: both)" },
        { "format", 0, OPT_STRING, &format, "FMT",
          "text or json (default: text)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "explain",
        "--repo DIR OLD NEW [--builder legacy|buildkit] [--dockerfile PATH] "
        "[--context PATH] [--build-arg K=V]... [--target STAGE] "
        "[--format text|json]",
        "For a build of NEW on a runner that built OLD, print each step's "
        "outcome\n(hit, miss, none = no cache entry under this builder, "
        "skipped = stage not\nbuilt), why each miss missed, and for each "
        "RUN the rule that decides\nwhat its output depends on (the files "
        "it names, a toolchain's, or\nconservative: new whenever it runs "
        "again), which a later COPY --from sees.",
        opts, 2, 2,
    };

    memset(&b, 0, sizeof(b));
    memset(p, 0, sizeof(p));
    rc = opt_run(&cmd, argc, argv, &args, &nargs);
    if (rc >= 0)
        return rc;
    rc = 0;
    if (builder) {
        enum builder one;
        if (builder_parse(&one, builder) < 0) {
            err_set(&err, ERR_USAGE, "explain: unknown builder '%s'",
                    builder);
            goto fail;
        }
        which[0] = one;
        nb = 1;
    } else {
        nb = 2;
    }
    if (format && strcmp(format, "text") && strcmp(format, "json")) {
        err_set(&err, ERR_USAGE, "explain: unknown format '%s'", format);
        goto fail;
    }
    json = format && !strcmp(format, "json");
    sim_config_defaults(&cfg);
    if (cli_build_resolve(&b, &err) < 0 || cli_open_repo(&repo, &b, &err) < 0 ||
        ctx_cache_new(&cc, repo) < 0)
        goto fail;
    for (i = 0; i < 2; i++) {
        if (repo_resolve(repo, args[i], &ids[i], &err) < 0)
            goto fail;
        cli_bases_at(&b, &ids[i]);
        if (plan_make(&p[i], repo, cc, &ids[i], (uint64_t)i + 1, &b.plan,
                      PLAN_LEGACY | PLAN_BUILDKIT, (uint64_t)i + 1, &err) < 0)
            goto fail;
    }
    if (p[1].failed) {
        err_set(&err, ERR_BUILD, "the build of %s fails: %s", args[1],
                p[1].error);
        goto fail;
    }
    if (json)
        buf_adds(&out, "[");
    for (i = 0; i < nb; i++) {
        if (json && i)
            buf_addch(&out, ',');
        report(&out, json, which[i], &p[0], &p[1], &cfg);
        if (p[1].kb[which[i]]->failed && !json)
            buf_printf(&out, "  build fails: %s\n",
                       p[1].kb[which[i]]->error);
    }
    if (json)
        buf_adds(&out, "]\n");
    fwrite(buf_cstr(&out), 1, out.len, stdout);
    goto out;
fail:
    err_print(&err);
    rc = err.code == ERR_USAGE ? EXIT_USAGE : err_exit_code(err.code);
out:
    plan_release(&p[0]);
    plan_release(&p[1]);
    buf_release(&out);
    free(args);
    ctx_cache_free(cc);
    repo_free(repo);
    cli_build_release(&b);
    return rc;
}
