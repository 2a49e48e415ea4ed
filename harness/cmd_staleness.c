/*
 * cmd_staleness.c - `harness staleness`: for each RUN step of a replay that
 * fetches from the network, how long each strategy reused its cached
 * result (commits and author days).  Reads the database (read-only) for
 * hits and misses, and the replayed repository for the steps' text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "opt.h"
#include "staleness.h"
#include "store_report.h"

static const char *csv_field(struct buf *tmp, const char *s)
{
    buf_reset(tmp);
    buf_addch(tmp, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_addch(tmp, '"');
        buf_addch(tmp, *s);
    }
    buf_addch(tmp, '"');
    return buf_cstr(tmp);
}

static void print_text(struct buf *o, const struct staleness *st)
{
    const char *prev = NULL;

    if (!st->n) {
        buf_adds(o, "no RUN step of this run fetches from the network\n");
        return;
    }
    for (size_t i = 0; i < st->n; i++) {
        const struct staleness_entry *e = &st->entries[i];
        if (!prev || strcmp(prev, e->strategy)) {
            buf_printf(o, "%s%s\n", prev ? "\n" : "", e->strategy);
            buf_printf(o, "  %-5s %-9s %6s %5s %5s %13s %12s  %s\n", "line",
                       "fetch", "builds", "runs", "hits", "max commits",
                       "max days", "step (at the last commit: commits/days)");
            prev = e->strategy;
        }
        buf_printf(o, "  %-5lld %-9s %6lld %5lld %5lld %13lld %12.1f  ",
                   (long long)e->line, e->kind, (long long)e->builds,
                   (long long)e->runs, (long long)e->hits,
                   (long long)e->max_commits, e->max_days);
        buf_printf(o, "%.60s%s (%lld/%.1f)\n", e->text,
                   strlen(e->text) > 60 ? "..." : "",
                   (long long)e->last_commits, e->last_days);
    }
}

static void print_json(struct buf *o, const struct staleness *st,
                       int64_t run_id, int64_t unresolved)
{
    buf_printf(o, "{\"run\": %lld, \"unresolved_steps\": %lld, \"steps\": [",
               (long long)run_id, (long long)unresolved);
    for (size_t i = 0; i < st->n; i++) {
        const struct staleness_entry *e = &st->entries[i];
        buf_adds(o, i ? ",\n  {\"strategy\": " : "\n  {\"strategy\": ");
        buf_add_json_str(o, e->strategy);
        buf_printf(o, ", \"stage\": %lld, \"line\": %lld, \"fetch\": ",
                   (long long)e->stage, (long long)e->line);
        buf_add_json_str(o, e->kind);
        buf_adds(o, ", \"instruction\": ");
        buf_add_json_str(o, e->text);
        buf_printf(o,
                   ", \"builds\": %lld, \"runs\": %lld, \"hits\": %lld, "
                   "\"max_commits\": %lld, \"max_days\": %.2f, "
                   "\"last_commits\": %lld, \"last_days\": %.2f}",
                   (long long)e->builds, (long long)e->runs, (long long)e->hits,
                   (long long)e->max_commits, e->max_days,
                   (long long)e->last_commits, e->last_days);
    }
    buf_adds(o, st->n ? "\n]}\n" : "]}\n");
}

static void print_csv(struct buf *o, const struct staleness *st)
{
    struct buf tmp = BUF_INIT;

    buf_adds(o, "strategy,stage,line,fetch,instruction,builds,runs,hits,"
                "max_commits,max_days,last_commits,last_days\n");
    for (size_t i = 0; i < st->n; i++) {
        const struct staleness_entry *e = &st->entries[i];
        buf_printf(o, "%s,%lld,%lld,%s,", e->strategy, (long long)e->stage,
                   (long long)e->line, e->kind);
        buf_adds(o, csv_field(&tmp, e->text));
        buf_printf(o, ",%lld,%lld,%lld,%lld,%.2f,%lld,%.2f\n",
                   (long long)e->builds, (long long)e->runs, (long long)e->hits,
                   (long long)e->max_commits, e->max_days,
                   (long long)e->last_commits, e->last_days);
    }
    buf_release(&tmp);
}

int cmd_staleness(int argc, char **argv)
{
    const char *db = NULL, *format = "text", *repo_dir = NULL;
    long run = 0;
    const struct opt opts[] = {
        { "db", 0, OPT_STRING, &db, "FILE", "the database of the replay" },
        { "run", 0, OPT_INT, &run, "ID",
          "the run to read (default: the last one with builds)" },
        { "repo", 0, OPT_STRING, &repo_dir, "DIR",
          "the replayed repository (default: the path the run recorded)" },
        { "format", 'f', OPT_STRING, &format, "FORMAT",
          "text (default), json or csv" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "staleness",
        "--db FILE [--run ID] [--repo DIR] [--format text|json|csv]",
        "For each RUN step of a replay that fetches from the network "
        "(apt-get, apk, pip, npm, curl, wget, git clone, go get, ...), how "
        "long each strategy reused its cached result: the most commits and "
        "author days since the step last ran, and the same at the last "
        "commit.  The database is only read; the steps' text comes from the "
        "replayed repository.",
        opts,
        0,
        0,
    };
    struct staleness st;
    struct store_report *sr = NULL;
    struct store_report_run info;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;
    char **args = NULL;
    int nargs = 0, ret, rc;

    memset(&info, 0, sizeof(info));
    staleness_init(&st);
    if ((ret = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        goto out;
    if (!db || (strcmp(format, "text") && strcmp(format, "json") &&
                strcmp(format, "csv"))) {
        fprintf(stderr, "harness: staleness: %s\n",
                !db ? "--db FILE is required" : "unknown format");
        opt_print_usage(&cmd);
        ret = EXIT_USAGE;
        goto out;
    }
    if (access(db, F_OK) != 0) {
        err_set(&err, ERR_IO, "no database '%s'", db);
        rc = err.code;
        goto fail;
    }
    if ((rc = store_report_open(&sr, db, &err)) < 0 ||
        (rc = store_report_run_get(sr, run, &info, &err)) < 0)
        goto fail;
    if ((rc = staleness_read(&st, sr, &info, repo_dir, db, &err)) < 0)
        goto fail;
    if (!strcmp(format, "json"))
        print_json(&out, &st, info.id, st.unresolved);
    else if (!strcmp(format, "csv"))
        print_csv(&out, &st);
    else
        print_text(&out, &st);
    fwrite(out.ptr, 1, out.len, stdout);
    ret = EXIT_OK;
    goto out;
fail:
    err_print(&err);
    ret = err_exit_code(rc);
out:
    staleness_release(&st);
    store_report_run_release(&info);
    store_report_close(sr);
    buf_release(&out);
    free(args);
    return ret;
}
