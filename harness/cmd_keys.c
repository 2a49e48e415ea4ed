/*
 * cmd_keys.c - `harness keys`: the cache key of every step of a commit (or
 * of every commit of a range) under one builder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "keys.h"
#include "plan.h"
#include "repo.h"

struct keys_args {
    struct cli_build b;
    const char *rev;
    const char *range;
    const char *builder;
    const char *format;
};

static void print_json(struct buf *out, const char *sha,
                       const struct plan *p, enum builder builder)
{
    const struct key_build *kb = p->kb[builder];
    size_t i;

    buf_printf(out, "{\"commit\":\"%s\",\"builder\":\"%s\",", sha,
               builder_name(builder));
    if (p->failed || (kb && kb->failed)) {
        buf_adds(out, "\"status\":\"failed\",\"error\":");
        buf_add_json_str(out, p->failed ? p->error : kb->error);
        buf_addch(out, ',');
    } else {
        buf_adds(out, "\"status\":\"ok\",");
    }
    buf_adds(out, "\"steps\":[");
    for (i = 0; kb && i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        buf_printf(out,
                   "%s{\"stage\":%d,\"line\":%d,\"instruction\":\"%s\","
                   "\"key\":",
                   i ? "," : "", s->stage, s->line, df_kind_name(s->kind));
        if (s->vertex)
            buf_add_json_str(out, s->key_hex);
        else
            buf_adds(out, "null");
        buf_printf(out, ",\"built\":%s", s->built ? "true" : "false");
        if (s->kind == DF_COPY || s->kind == DF_ADD)
            buf_printf(out, ",\"files\":%zu,\"bytes\":%llu", s->nfiles,
                       (unsigned long long)s->bytes);
        buf_addch(out, '}');
    }
    buf_adds(out, "]}\n");
}

static void print_text(struct buf *out, const char *sha, const struct plan *p,
                       enum builder builder)
{
    const struct key_build *kb = p->kb[builder];
    size_t i;

    buf_printf(out, "commit %s (%s)\n", sha, builder_name(builder));
    if (p->failed) {
        buf_printf(out, "  build fails: %s\n", p->error);
        return;
    }
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        buf_printf(out, "  stage %d line %-4d %-11s %s", s->stage, s->line,
                   df_kind_name(s->kind),
                   !s->built ? "(stage not built)"
                   : s->vertex ? s->key_hex
                               : "(no cache key)");
        if (s->kind == DF_COPY || s->kind == DF_ADD)
            buf_printf(out, "  %zu files, %llu bytes", s->nfiles,
                       (unsigned long long)s->bytes);
        buf_addch(out, '\n');
    }
    if (kb->failed)
        buf_printf(out, "  build fails: %s\n", kb->error);
}

int cmd_keys(int argc, char **argv)
{
    struct keys_args a;
    struct repo *repo = NULL;
    struct ctx_cache *cc = NULL;
    struct oid *commits = NULL;
    size_t ncommits = 0, i;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;
    enum builder builder = BUILDER_BUILDKIT;
    char **args = NULL;
    int nargs, rc = 0, json;

    memset(&a, 0, sizeof(a));
    {
        const struct opt opts[] = {
            CLI_BUILD_OPTS(a.b),
            { "rev", 0, OPT_STRING, &a.rev, "REV",
              "one commit (sha, branch, tag, HEAD~2)" },
            { "range", 0, OPT_STRING, &a.range, "RANGE",
              "commits A..B, A...B or REV (all ancestors); JSON lines" },
            { "builder", 0, OPT_STRING, &a.builder, "NAME",
              "legacy or buildkit (default: buildkit)" },
            { "format", 0, OPT_STRING, &a.format, "FMT",
              "text or json (default: text; json for --range)" },
            OPT_END_ENTRY,
        };
        const struct opt_cmd cmd = {
            "keys",
            "--repo DIR (--rev REV | --range RANGE) [--builder "
            "legacy|buildkit] [--dockerfile PATH] [--context PATH] "
            "[--build-arg K=V]... [--target STAGE] [--format text|json]",
            "Print the cache key of every Dockerfile step of a commit, as "
            "the builder\nwould compute it, with the files each COPY/ADD "
            "selects.",
            opts, 0, 0,
        };
        int r = opt_run(&cmd, argc, argv, &args, &nargs);
        if (r >= 0)
            return r;
        if (!a.rev == !a.range) {
            err_set(&err, ERR_USAGE, "keys: give one of --rev or --range");
            err_print(&err);
            opt_print_usage(&cmd);
            rc = EXIT_USAGE;
            goto out;
        }
        if (a.builder && builder_parse(&builder, a.builder) < 0) {
            err_set(&err, ERR_USAGE,
                    "keys: unknown builder '%s' (legacy or buildkit)",
                    a.builder);
            err_print(&err);
            rc = EXIT_USAGE;
            goto out;
        }
        if (a.format && strcmp(a.format, "json") && strcmp(a.format, "text")) {
            err_set(&err, ERR_USAGE, "keys: unknown format '%s'", a.format);
            err_print(&err);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    json = a.format ? !strcmp(a.format, "json") : a.range != NULL;
    /* keys holds nothing else in memory: let a long range map whole
     * packs instead of remapping windows */
    repo_set_mapped_limit((size_t)1 << 30);
    if (cli_build_resolve(&a.b, &err) < 0 ||
        cli_open_repo(&repo, &a.b, &err) < 0 ||
        ctx_cache_new(&cc, repo) < 0)
        goto fail;
    if (a.rev) {
        commits = xcalloc(1, sizeof(*commits));
        ncommits = 1;
        if (repo_resolve(repo, a.rev, &commits[0], &err) < 0)
            goto fail;
    } else if (repo_range(repo, a.range, a.b.first_parent, &commits,
                          &ncommits, &err) < 0) {
        goto fail;
    }
    for (i = 0; i < ncommits; i++) {
        struct plan p;
        char sha[OID_HEX];

        cli_bases_at(&a.b, &commits[i]);
        if (plan_make(&p, repo, cc, &commits[i], i + 1, &a.b.plan,
                      1u << builder, i + 1, &err) < 0)
            goto fail;
        oid_hex(&commits[i], sha);
        if (json)
            print_json(&out, sha, &p, builder);
        else
            print_text(&out, sha, &p, builder);
        plan_release(&p);
        if (out.len > 65536) {
            fwrite(out.ptr, 1, out.len, stdout);
            buf_reset(&out);
        }
    }
    fwrite(buf_cstr(&out), 1, out.len, stdout);
    goto out;
fail:
    err_print(&err);
    rc = err_exit_code(err.code);
out:
    buf_release(&out);
    free(commits);
    free(args);
    ctx_cache_free(cc);
    repo_free(repo);
    cli_build_release(&a.b);
    return rc;
}
