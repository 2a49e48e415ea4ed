/*
 * cmd_lint.c - `harness lint`: cache hazards in Dockerfiles, as text, JSON
 * or SARIF 2.1.0 (GitHub code scanning).  With --repo, each finding also
 * gets what its step cost over the replayed history (lint_cost.c).
 *
 * Exit: 0 no warning or error, 1 findings, 2 usage, 3 I/O, 4 malformed
 * Dockerfile or .dockerignore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cmd.h"
#include "context.h"
#include "dockerfile.h"
#include "err.h"
#include "lint.h"
#include "lint_cost.h"
#include "opt.h"
#include "strategy.h"

enum lint_format { FMT_TEXT, FMT_JSON, FMT_SARIF };

struct lint_file {
    const char *path;
    struct lint_report rep;
    struct lint_cost *cost; /* per finding, with --repo; else NULL */
};

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

static int file_exists(void *arg, const char *rel)
{
    struct buf p = BUF_INIT;
    struct stat st;
    int ok;

    buf_printf(&p, "%s/%s", (const char *)arg, rel);
    ok = stat(buf_cstr(&p), &st) == 0;
    buf_release(&p);
    return ok;
}

/* The .dockerignore that applies: <Dockerfile>.dockerignore next to the
 * Dockerfile wins over the context's (BuildKit's rule).  Fills lc. */
static int load_ignore(struct lint_context *lc, char **ignore_path,
                       const char *dockerfile, const char *ctxdir,
                       struct err *err)
{
    struct buf cand[2] = { BUF_INIT, BUF_INIT };
    int rc = 0;

    buf_printf(&cand[0], "%s.dockerignore", dockerfile);
    buf_printf(&cand[1], "%s/.dockerignore", ctxdir);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        struct buf text = BUF_INIT;
        struct ignore *ig = NULL;
        if (stat(buf_cstr(&cand[i]), &st) < 0)
            continue;
        if ((rc = buf_read_file(&text, buf_cstr(&cand[i]), err)) == 0 &&
            (rc = ignore_parse(&ig, buf_cstr(&cand[i]),
                               text.ptr ? text.ptr : "", text.len, err)) == 0) {
            *ignore_path = buf_detach(&cand[i]);
            lc->ignore_file = *ignore_path;
            lc->ignore_excludes_git = ignore_match(ig, ".git");
        }
        ignore_free(ig);
        buf_release(&text);
        break;
    }
    buf_release(&cand[0]);
    buf_release(&cand[1]);
    return rc;
}

static int lint_one(struct lint_file *lf, const char *context,
                    const struct strategy_ops *strategy, struct err *err)
{
    struct buf text = BUF_INIT;
    struct df_file *df = NULL;
    struct lint_context lc;
    char *ctxdir = context ? xstrdup(context) : dir_of(lf->path);
    char *ignore_path = NULL;
    struct stat st;
    int rc;

    memset(&lc, 0, sizeof(lc));
    lc.ephemeral = -1;
    if (strategy) {
        lc.ephemeral = strcmp(strategy->name, "local") &&
                       strcmp(strategy->name, "local-legacy");
        lc.inline_cache = !strcmp(strategy->name, "inline");
    }
    if ((rc = buf_read_file(&text, lf->path, err)) < 0 ||
        (rc = df_parse(&df, lf->path, text.ptr ? text.ptr : "", text.len, NULL,
                       err)) < 0)
        goto out;
    if (stat(ctxdir, &st) == 0 && S_ISDIR(st.st_mode)) {
        lc.ctx_known = 1;
        lc.exists = file_exists;
        lc.arg = ctxdir;
        if ((rc = load_ignore(&lc, &ignore_path, lf->path, ctxdir, err)) < 0)
            goto out;
    } else if (context) {
        rc = err_set(err, ERR_USAGE, "lint: no such context folder '%s'",
                     context);
        goto out;
    }
    lint_run(&lf->rep, df, &lc);
out:
    df_file_free(df);
    buf_release(&text);
    free(ignore_path);
    free(ctxdir);
    return rc;
}

/* ===== Output ===== */

static void print_text(struct buf *b, const struct lint_file *lf,
                       const char *with_cost)
{
    for (size_t i = 0; i < lf->rep.n; i++) {
        const struct lint_finding *f = &lf->rep.v[i];
        buf_printf(b, "%s:%d: %s: %s [%s]\n", lf->path, f->line,
                   lint_severity_name(f->severity), f->message,
                   lint_rules[f->rule].id);
        if (with_cost && lf->cost)
            lint_cost_text(b, &lf->cost[i], with_cost);
        buf_printf(b, "  fix: %s\n", f->fix);
    }
}

static void print_json_file(struct buf *b, const struct lint_file *lf,
                            int with_cost)
{
    buf_adds(b, "{\"file\": ");
    buf_add_json_str(b, lf->path);
    buf_adds(b, ", \"findings\": [");
    for (size_t i = 0; i < lf->rep.n; i++) {
        const struct lint_finding *f = &lf->rep.v[i];
        buf_adds(b, i ? ",\n  " : "\n  ");
        buf_adds(b, "{\"rule\": ");
        buf_add_json_str(b, lint_rules[f->rule].id);
        buf_printf(b, ", \"line\": %d, \"severity\": \"%s\", \"message\": ",
                   f->line, lint_severity_name(f->severity));
        buf_add_json_str(b, f->message);
        buf_adds(b, ", \"fix\": ");
        buf_add_json_str(b, f->fix);
        if (with_cost && lf->cost)
            lint_cost_json(b, &lf->cost[i]);
        buf_addch(b, '}');
    }
    buf_adds(b, lf->rep.n ? "\n]}" : "]}");
}

static const char *sarif_level(enum lint_severity s)
{
    return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "note";
}

/* A URI reference: relative paths stay relative ("./" dropped, as code
 * scanning resolves them against the repository root), absolute ones get
 * file://; characters outside RFC 3986's unreserved set and '/' are
 * percent-encoded. */
static void sarif_uri(struct buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";

    while (!strncmp(path, "./", 2))
        path += 2;
    buf_addch(b, '"');
    if (path[0] == '/')
        buf_adds(b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
            buf_addch(b, (char)*p);
        } else {
            buf_addch(b, '%');
            buf_addch(b, hex[*p >> 4]);
            buf_addch(b, hex[*p & 15]);
        }
    }
    buf_addch(b, '"');
}

static void print_sarif(struct buf *b, const struct lint_file *files, size_t n,
                        const char *with_cost)
{
    int first = 1;

    buf_adds(b, "{\n  \"$schema\": "
                "\"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                "  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
                "    \"tool\": {\"driver\": {\"name\": \"harness\", "
                "\"version\": \"" HARNESS_VERSION "\", "
                "\"informationUri\": \"https://github.com/harness-cache/"
                "harness\",\n      \"rules\": [");
    for (int r = 0; r < LINT_NRULES; r++) {
        const struct lint_rule *lr = &lint_rules[r];
        buf_adds(b, r ? ",\n        " : "\n        ");
        buf_adds(b, "{\"id\": ");
        buf_add_json_str(b, lr->id);
        buf_adds(b, ", \"name\": ");
        buf_add_json_str(b, lr->id);
        buf_adds(b, ", \"shortDescription\": {\"text\": ");
        buf_add_json_str(b, lr->summary);
        buf_adds(b, "}, \"fullDescription\": {\"text\": ");
        buf_add_json_str(b, lr->help);
        buf_adds(b, "}, \"help\": {\"text\": ");
        buf_add_json_str(b, lr->help);
        buf_printf(b,
                   "}, \"defaultConfiguration\": {\"level\": \"%s\"}, "
                   "\"properties\": {\"tags\": [\"docker\", \"cache\"]}}",
                   sarif_level(lr->severity));
    }
    buf_adds(b, "]}},\n    \"results\": [");
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < files[k].rep.n; i++) {
            const struct lint_finding *f = &files[k].rep.v[i];
            struct buf text = BUF_INIT;
            buf_printf(&text, "%s. Fix: %s.", f->message, f->fix);
            if (with_cost && files[k].cost) {
                buf_adds(&text, " Cost over the history: ");
                lint_cost_sentence(&text, &files[k].cost[i], with_cost);
                buf_addch(&text, '.');
            }
            buf_adds(b, first ? "\n      " : ",\n      ");
            first = 0;
            buf_adds(b, "{\"ruleId\": ");
            buf_add_json_str(b, lint_rules[f->rule].id);
            buf_printf(b,
                       ", \"ruleIndex\": %d, \"level\": \"%s\", "
                       "\"message\": {\"text\": ",
                       (int)f->rule, sarif_level(f->severity));
            buf_add_json_str(b, buf_cstr(&text));
            buf_adds(b, "}, \"locations\": [{\"physicalLocation\": "
                        "{\"artifactLocation\": {\"uri\": ");
            sarif_uri(b, files[k].path);
            buf_printf(b, "}, \"region\": {\"startLine\": %d}}}]}",
                       f->line > 0 ? f->line : 1);
            buf_release(&text);
        }
    buf_adds(b, first ? "]\n  }]\n}\n" : "\n    ]\n  }]\n}\n");
}

int cmd_lint(int argc, char **argv)
{
    const char *format = "text", *context = NULL, *strategy_name = NULL;
    const char *repo = NULL, *range = NULL, *pricing = NULL;
    const struct opt opts[] = {
        { "format", 0, OPT_STRING, &format, "FMT",
          "text (default), json or sarif (SARIF 2.1.0, for code scanning)" },
        { "context", 0, OPT_STRING, &context, "DIR",
          "build context folder (default: the Dockerfile's folder)" },
        { "repo", 'C', OPT_STRING, &repo, "DIR",
          "rank findings by what their steps cost over this repository's "
          "history" },
        { "range", 0, OPT_STRING, &range, "RANGE",
          "commits to replay with --repo: A..B or REV (default: HEAD)" },
        { "strategy", 's', OPT_STRING, &strategy_name, "NAME",
          "the CI's caching strategy (default: unknown; with --repo: local)" },
        { "pricing", 0, OPT_STRING, &pricing, "NAME",
          "with --repo, price the minutes at this profile's runner rate" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "lint",
        "[--format text|json|sarif] [--context DIR] [--repo DIR [--range R]] "
        "DOCKERFILE...",
        "Report cache hazards in Dockerfiles: network fetches the cache keeps "
        "forever,\nfloating base tags, layer orders and contexts that throw "
        "the cache away,\nearly ARGs, cache setups that cannot work on the "
        "runners, and how to bust\nexactly one layer.  Each finding has a "
        "rule id, file:line, severity, what\nhappens and the fix.  Exit 1 "
        "when there is a warning or error.",
        opts,
        1,
        -1,
    };
    struct err err = ERR_INIT;
    struct lint_file *files = NULL;
    const struct strategy_ops *strategy = NULL;
    const char *cost_strategy = NULL;
    enum lint_format fmt;
    struct buf out = BUF_INIT;
    char **args = NULL;
    int nargs = 0, ret, failing = 0;

    if ((ret = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        return ret;
    if (!strcmp(format, "text")) {
        fmt = FMT_TEXT;
    } else if (!strcmp(format, "json")) {
        fmt = FMT_JSON;
    } else if (!strcmp(format, "sarif")) {
        fmt = FMT_SARIF;
    } else {
        err_set(&err, ERR_USAGE, "lint: unknown format '%s'", format);
        goto usage;
    }
    if (strategy_name && !(strategy = strategy_find(strategy_name))) {
        err_set(&err, ERR_USAGE, "lint: unknown strategy '%s'", strategy_name);
        goto usage;
    }
    if ((range || pricing) && !repo) {
        err_set(&err, ERR_USAGE, "lint: --range and --pricing need --repo");
        goto usage;
    }
    files = xcalloc((size_t)nargs, sizeof(*files));
    for (int i = 0; i < nargs; i++) {
        files[i].path = args[i];
        if (lint_one(&files[i], context, strategy, &err) < 0) {
            err_print(&err);
            ret = err.code == ERR_USAGE ? EXIT_USAGE : err_exit_code(err.code);
            goto out;
        }
        failing |= lint_report_failing(&files[i].rep);
    }
    if (repo) {
        struct lint_cost_options co;
        memset(&co, 0, sizeof(co));
        co.repo = repo;
        co.range = range;
        co.strategy = strategy ? strategy : strategy_find("local");
        co.pricing = pricing;
        cost_strategy = co.strategy->name;
        for (int i = 0; i < nargs; i++)
            if (lint_cost_rank(&files[i].cost, &files[i].rep, files[i].path,
                               &co, &err) < 0) {
                err_print(&err);
                ret = err.code == ERR_USAGE ? EXIT_USAGE
                                            : err_exit_code(err.code);
                goto out;
            }
    }
    if (fmt == FMT_TEXT) {
        for (int i = 0; i < nargs; i++)
            print_text(&out, &files[i], cost_strategy);
    } else if (fmt == FMT_JSON) {
        if (nargs > 1)
            buf_adds(&out, "[");
        for (int i = 0; i < nargs; i++) {
            if (i)
                buf_adds(&out, ",\n");
            print_json_file(&out, &files[i], repo != NULL);
        }
        buf_adds(&out, nargs > 1 ? "]\n" : "\n");
    } else {
        print_sarif(&out, files, (size_t)nargs, cost_strategy);
    }
    fwrite(buf_cstr(&out), 1, out.len, stdout);
    ret = failing ? EXIT_FINDINGS : EXIT_OK;
    goto out;
usage:
    err_print(&err);
    opt_print_usage(&cmd);
    ret = EXIT_USAGE;
out:
    for (int i = 0; files && i < nargs; i++) {
        lint_report_release(&files[i].rep);
        free(files[i].cost);
    }
    free(files);
    buf_release(&out);
    free(args);
    return ret;
}
