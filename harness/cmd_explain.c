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
#include "dmap.h"
#include "explain.h"
#include "plan.h"
#include "strategy.h"

struct runner_view {
    struct dmap keys;  /* keys the runner holds */
    struct dmap bases; /* base layers it has */
};

static int rv_lookup(void *arg, const unsigned char *key, struct sim_rec *rec)
{
    struct runner_view *rv = arg;

    if (!dmap_get(&rv->keys, key))
        return 0;
    memset(rec, 0, sizeof(*rec));
    rec->has_layer = 1;
    return 1;
}

static int rv_has_base(void *arg, const unsigned char *digest)
{
    struct runner_view *rv = arg;
    return dmap_get(&rv->bases, digest) != NULL;
}

/* The runner's store after building `old`. */
static void runner_from(struct runner_view *rv, const struct sim_config *cfg,
                        const struct key_build *old)
{
    size_t i;

    dmap_init(&rv->keys, 1);
    dmap_init(&rv->bases, 1);
    for (i = 0; old && i < old->nsteps; i++) {
        const struct key_step *s = &old->steps[i];
        if (!s->built || !s->vertex)
            continue;
        if (old->failed && (int)i >= old->failed_step)
            break;
        if (s->kind == DF_FROM && key_step_part(s, "base")) {
            struct image_layer l;
            sim_base_layer(cfg, s, &l);
            dmap_put(&rv->bases, l.digest, NULL);
        } else {
            dmap_put(&rv->keys, s->key, NULL);
        }
    }
}

static void report(struct buf *out, int json, enum builder b,
                   const struct plan *old, const struct plan *now,
                   const struct sim_config *cfg)
{
    struct runner_view rv;
    struct sim_view v = { .lookup = rv_lookup, .has_base = rv_has_base,
                          .arg = &rv };
    struct sim_build sb = { now->kb[b], 1, 0 };
    struct sim_result r;
    struct explain_side before = { old->kb[b], old->df, old->ctx };
    struct explain_side after = { now->kb[b], now->df, now->ctx };
    size_t i;

    runner_from(&rv, cfg, old->failed ? NULL : old->kb[b]);
    sim_result_init(&r, now->kb[b]->nsteps);
    sim_execute(cfg, &sb, &v, 0, &r);
    if (json)
        buf_printf(out, "{\"builder\":\"%s\",\"steps\":[", builder_name(b));
    else
        buf_printf(out, "%s:\n", builder_name(b));
    for (i = 0; i < now->kb[b]->nsteps; i++) {
        const struct key_step *s = &now->kb[b]->steps[i];
        struct sim_step *o = &r.steps[i];
        char label[64];

        if (o->outcome == OUTCOME_MISS && !o->reason[0] &&
            !explain_miss(o->reason, sizeof(o->reason),
                          old->failed ? NULL : &before, &after, r.steps, i))
            snprintf(o->reason, sizeof(o->reason),
                     "not in the runner's cache");
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
            buf_addch(out, '}');
        } else {
            buf_printf(out, "  %-7s %s (line %d)", outcome_name(o->outcome),
                       label, s->line);
            if (o->reason[0] && o->outcome != OUTCOME_HIT)
                buf_printf(out, ": %s", o->reason);
            buf_addch(out, '\n');
        }
    }
    if (json)
        buf_adds(out, "]}");
    sim_result_release(&r);
    dmap_release(&rv.keys);
    dmap_release(&rv.bases);
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
        "skipped = stage not\nbuilt) and why each miss missed.",
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
    for (i = 0; i < 2; i++)
        if (repo_resolve(repo, args[i], &ids[i], &err) < 0 ||
            plan_make(&p[i], repo, cc, &ids[i], (uint64_t)i + 1, &b.plan,
                      PLAN_LEGACY | PLAN_BUILDKIT, (uint64_t)i + 1,
                      &err) < 0)
            goto fail;
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
