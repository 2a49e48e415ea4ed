/*
 * cmd_whatif.c - `harness whatif`: what a Dockerfile fix (or the user's
 * alternative Dockerfile) would have saved over a repository's history,
 * per strategy; --write leaves the fixed Dockerfile of the last commit.
 *
 * Exit: 0 ok, 2 usage, 3 runtime failure, 4 malformed --dockerfile-alt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "context.h"
#include "dockerfile.h"
#include "lint.h"
#include "whatif.h"

struct whatif_args {
    struct cli_build b;
    const char *range, *fix, *alt, *strategy, *engine, *pricing, *format;
    const char *write;
};

enum whatif_format { FMT_TEXT, FMT_JSON, FMT_MD };

static int write_file(const char *path, const char *text, size_t len,
                      struct err *err)
{
    FILE *fp = fopen(path, "wb");

    if (!fp)
        return err_set(err, ERR_IO, "cannot write '%s': %s", path,
                       strerror(errno));
    if (fwrite(text, 1, len, fp) != len || fclose(fp) != 0)
        return err_set(err, ERR_IO, "cannot write '%s': %s", path,
                       strerror(errno));
    return 0;
}

/* --fix copy-before-deps,arg-early,dockerignore-git,bust-one-layer=X */
static int parse_fixes(struct whatif_options *o, const char *list,
                       struct err *err)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;

    for (char *t = strtok_r(copy, ",", &save); t && !rc;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        enum lint_rule_id id;
        if (eq)
            *eq++ = 0;
        if (lint_rule_parse(&id, t) < 0) {
            rc = err_set(err, ERR_USAGE, "whatif: unknown rule '%s'", t);
            break;
        }
        switch (id) {
        case LINT_COPY_BEFORE_DEPS:
        case LINT_ARG_EARLY:
            o->fixes |= 1u << id;
            break;
        case LINT_DOCKERIGNORE_GIT:
        case LINT_DOCKERIGNORE_MISSING:
            o->fix_git = 1;
            break;
        case LINT_BUST_ONE_LAYER:
            if (!eq || !*eq) {
                rc = err_set(err, ERR_USAGE,
                             "whatif: name the layer to bust: "
                             "bust-one-layer=LINE or bust-one-layer=TEXT");
                break;
            }
            o->fixes |= 1u << id;
            if (strspn(eq, "0123456789") == strlen(eq))
                o->bust_line = atoi(eq);
            else
                o->bust_text = list + (eq - copy);
            break;
        default:
            rc = err_set(err, ERR_USAGE, "whatif: no rewrite for rule '%s'", t);
        }
    }
    if (rc < 0)
        err_hint(err, "rewrites: copy-before-deps, dockerignore-git, "
                      "arg-early, bust-one-layer=LINE|TEXT");
    free(copy);
    return rc;
}

/* ===== Output ===== */

static void print_json(struct buf *b, const struct whatif_result *res)
{
    buf_adds(b, "{\"strategies\": [");
    for (size_t i = 0; i < res->n; i++) {
        const struct whatif_row *w = &res->rows[i];
        buf_adds(b, i ? ",\n  " : "\n  ");
        buf_adds(b, "{\"strategy\": ");
        buf_add_json_str(b, w->strategy);
        buf_printf(b, ", \"before_minutes\": %.3f, \"after_minutes\": %.3f",
                   w->before_minutes, w->after_minutes);
        if (res->priced)
            buf_printf(b, ", \"before_usd\": %.4f, \"after_usd\": %.4f",
                       w->before_usd, w->after_usd);
        else
            buf_adds(b, ", \"before_usd\": null, \"after_usd\": null");
        buf_printf(b, ", \"before_hit_rate\": %.4f, \"after_hit_rate\": %.4f}",
                   w->before_hit_rate, w->after_hit_rate);
    }
    buf_adds(b, res->n ? "\n]}\n" : "]}\n");
}

static void headline(struct buf *b, const struct whatif_args *a,
                     const struct whatif_result *res, const char *pfx)
{
    buf_printf(b,
               "%swhatif: %s over %zu commits; minutes: pull, build and "
               "push of every build",
               pfx, a->alt ? a->alt : a->fix, res->commits);
    if (res->priced)
        buf_printf(b, "; money: %s at list price\n", res->pricing);
    else
        buf_adds(b, "; money: give --pricing NAME\n");
    for (size_t i = 0; i < res->n; i++)
        if (res->rows[i].after_failed > res->rows[i].before_failed) {
            buf_printf(b,
                       "%swarning: %ld more builds fail after the change "
                       "(%s)\n",
                       pfx,
                       res->rows[i].after_failed - res->rows[i].before_failed,
                       res->rows[i].strategy);
            break;
        }
}

static void print_text(struct buf *b, const struct whatif_args *a,
                       const struct whatif_result *res)
{
    headline(b, a, res, "");
    buf_printf(b, "%-20s %10s %10s %10s %9s %9s", "strategy", "min before",
               "min after", "min saved", "hit before", "hit after");
    if (res->priced)
        buf_printf(b, " %10s %10s %10s", "$ before", "$ after", "$ saved");
    buf_addch(b, '\n');
    for (size_t i = 0; i < res->n; i++) {
        const struct whatif_row *w = &res->rows[i];
        buf_printf(b, "%-20s %10.1f %10.1f %10.1f %9.1f%% %9.1f%%", w->strategy,
                   w->before_minutes, w->after_minutes,
                   w->before_minutes - w->after_minutes,
                   100 * w->before_hit_rate, 100 * w->after_hit_rate);
        if (res->priced)
            buf_printf(b, " %10.2f %10.2f %10.2f", w->before_usd, w->after_usd,
                       w->before_usd - w->after_usd);
        buf_addch(b, '\n');
    }
}

static void print_md(struct buf *b, const struct whatif_args *a,
                     const struct whatif_result *res)
{
    headline(b, a, res, "");
    buf_adds(b, "\n| strategy | minutes before | minutes after | saved | "
                "hit rate before | hit rate after |");
    if (res->priced)
        buf_adds(b, " $ before | $ after | $ saved |");
    buf_adds(b, "\n|---|---:|---:|---:|---:|---:|");
    if (res->priced)
        buf_adds(b, "---:|---:|---:|");
    buf_addch(b, '\n');
    for (size_t i = 0; i < res->n; i++) {
        const struct whatif_row *w = &res->rows[i];
        buf_printf(b, "| `%s` | %.1f | %.1f | %.1f | %.1f%% | %.1f%% |",
                   w->strategy, w->before_minutes, w->after_minutes,
                   w->before_minutes - w->after_minutes,
                   100 * w->before_hit_rate, 100 * w->after_hit_rate);
        if (res->priced)
            buf_printf(b, " %.2f | %.2f | %.2f |", w->before_usd, w->after_usd,
                       w->before_usd - w->after_usd);
        buf_addch(b, '\n');
    }
}

/* ===== --write ===== */

/* The .dockerignore of the last commit with .git added, next to the
 * written Dockerfile as PATH.dockerignore (BuildKit reads it first). */
static int write_ignore(struct repo *r, const struct oid *last,
                        const struct whatif_args *a, const char *dfpath,
                        struct err *err)
{
    const char *ctx = a->b.context ? a->b.context : "";
    struct buf p = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
    char *body = NULL;
    size_t len = 0;
    int rc;

    buf_printf(&p, "%s.dockerignore", dfpath);
    if (repo_read_file(r, last, buf_cstr(&p), &body, &len, err) < 0) {
        err_clear(err);
        buf_reset(&p);
        buf_printf(&p, "%s%s.dockerignore", ctx, *ctx ? "/" : "");
        if (repo_read_file(r, last, buf_cstr(&p), &body, &len, err) < 0) {
            err_clear(err);
            body = NULL;
            len = 0;
        }
    }
    if (body)
        buf_add(&text, body, len);
    if (text.len && text.ptr[text.len - 1] != '\n')
        buf_addch(&text, '\n');
    buf_adds(&text, ".git\n");
    buf_printf(&out, "%s.dockerignore", a->write);
    rc = write_file(buf_cstr(&out), buf_cstr(&text), text.len, err);
    free(body);
    buf_release(&p);
    buf_release(&text);
    buf_release(&out);
    return rc;
}

static int write_fixed(struct repo *r, const struct whatif_args *a,
                       const struct whatif_options *o, struct err *err)
{
    const char *dfpath = a->b.dockerfile ? a->b.dockerfile : "Dockerfile";
    struct oid *commits = NULL;
    size_t n = 0, len = 0;
    char *text = NULL;
    struct buf out = BUF_INIT;
    int rc;

    if ((rc = repo_range(r, a->range ? a->range : "HEAD", a->b.first_parent,
                         &commits, &n, err)) < 0)
        return rc;
    if (!n) {
        rc = err_set(err, ERR_INVALID, "whatif: the range has no commit");
        goto out;
    }
    if ((rc = repo_read_file(r, &commits[n - 1], dfpath, &text, &len, err)) <
            0 ||
        (rc = whatif_dockerfile(&out, o, r, &commits[n - 1], a->b.context,
                                dfpath, text, len, err)) < 0 ||
        (rc = write_file(a->write, buf_cstr(&out), out.len, err)) < 0)
        goto out;
    if (o->fix_git)
        rc = write_ignore(r, &commits[n - 1], a, dfpath, err);
out:
    free(commits);
    free(text);
    buf_release(&out);
    return rc;
}

int cmd_whatif(int argc, char **argv)
{
    struct whatif_args a;
    struct whatif_options wo;
    struct whatif_result res;
    struct replay_options o;
    struct err err = ERR_INIT;
    struct buf json = BUF_INIT, alt = BUF_INIT, out = BUF_INIT;
    struct repo *repo = NULL;
    enum whatif_format fmt = FMT_TEXT;
    char **args = NULL;
    int nargs = 0, rc;

    memset(&a, 0, sizeof(a));
    memset(&wo, 0, sizeof(wo));
    memset(&res, 0, sizeof(res));
    memset(&o, 0, sizeof(o));
    const struct opt opts[] = {
        CLI_BUILD_OPTS(a.b),
        CLI_RANGE_OPT(a.range),
        { "fix", 0, OPT_STRING, &a.fix, "RULES",
          "rewrite every commit's Dockerfile: copy-before-deps, "
          "dockerignore-git, arg-early, bust-one-layer=LINE|TEXT "
          "(comma-separated)" },
        { "dockerfile-alt", 0, OPT_STRING, &a.alt, "PATH",
          "replay with this Dockerfile in every commit instead" },
        CLI_STRATEGY_OPT(a.strategy),
        CLI_ENGINE_OPT(a.engine),
        { "pricing", 0, OPT_STRING, &a.pricing, "NAME",
          "price the minutes and storage with this profile (default: "
          "minutes only)" },
        { "format", 0, OPT_STRING, &a.format, "FMT",
          "text (default), json or md" },
        { "write", 0, OPT_STRING, &a.write, "PATH",
          "write the fixed Dockerfile of the last commit (and "
          "PATH.dockerignore for dockerignore-git)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "whatif",
        "--repo DIR [--range R] (--fix RULE[,RULE...] | --dockerfile-alt "
        "PATH) [--strategy LIST] [--pricing NAME] [--format text|json|md] "
        "[--write PATH]",
        "Replay a history twice, as it is and with every commit's "
        "Dockerfile fixed\n(dependency manifests before the rest of the "
        "context, .git kept out of the\ncontext, an early ARG moved down, "
        "one named layer busted every build) or\nreplaced by an alternative "
        "Dockerfile, and compare minutes, money and hit\nrates per "
        "strategy.",
        opts,
        0,
        0,
    };
    if ((rc = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        return rc;
    sim_config_defaults(&o.cfg);
    if (!a.fix == !a.alt) {
        err_set(&err, ERR_USAGE,
                "whatif: give exactly one of --fix and --dockerfile-alt");
        goto usage;
    }
    if (a.fix && parse_fixes(&wo, a.fix, &err) < 0)
        goto usage;
    if (a.format && !strcmp(a.format, "json"))
        fmt = FMT_JSON;
    else if (a.format && !strcmp(a.format, "md"))
        fmt = FMT_MD;
    else if (a.format && strcmp(a.format, "text")) {
        err_set(&err, ERR_USAGE, "whatif: unknown format '%s'", a.format);
        goto usage;
    }
    if (cli_replay_pick(&o, a.strategy, a.engine, "whatif", &err) < 0 ||
        cli_build_resolve(&a.b, &err) < 0)
        goto usage;
    if (a.alt) {
        struct df_file *df = NULL;
        if (buf_read_file(&alt, a.alt, &err) < 0 ||
            df_parse(&df, a.alt, buf_cstr(&alt), alt.len, NULL, &err) < 0) {
            err_print(&err);
            rc = err_exit_code(err.code);
            goto out;
        }
        df_file_free(df);
        wo.alt_path = a.alt;
        wo.alt_text = buf_cstr(&alt);
        wo.alt_len = alt.len;
    }
    wo.pricing = a.pricing;
    cli_replay_options(&o, &a.b, a.range, &json);
    wo.replay = &o;
    if (cli_open_repo(&repo, &a.b, &err) < 0 ||
        whatif_run(&res, repo, &wo, &err) < 0 ||
        (a.write && write_fixed(repo, &a, &wo, &err) < 0)) {
        err_print(&err);
        rc = err_exit_code(err.code);
        goto out;
    }
    if (fmt == FMT_JSON)
        print_json(&out, &res);
    else if (fmt == FMT_MD)
        print_md(&out, &a, &res);
    else
        print_text(&out, &a, &res);
    fwrite(buf_cstr(&out), 1, out.len, stdout);
    rc = EXIT_OK;
    goto out;
usage:
    err_print(&err);
    opt_print_usage(&cmd);
    rc = EXIT_USAGE;
out:
    whatif_result_release(&res);
    free(o.strategies);
    repo_free(repo);
    buf_release(&json);
    buf_release(&alt);
    buf_release(&out);
    free(args);
    cli_build_release(&a.b);
    return rc;
}
