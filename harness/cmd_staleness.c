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
#include "dockerfile.h"
#include "opt.h"
#include "repo.h"
#include "staleness.h"
#include "store_report.h"

/* A Dockerfile version, parsed once per blob. */
struct df_version {
    struct oid blob;
    struct df_file *df; /* NULL: did not parse */
};

struct stale_ctx {
    struct repo *repo;
    const char *dockerfile;
    struct df_version *versions;
    size_t nversions, cap_versions;
    const struct df_file **by_seq; /* the Dockerfile of each commit */
    unsigned char *seq_done;
    size_t nseq;
    struct staleness st;
    int64_t unresolved; /* steps whose text could not be found */
};

static const struct df_file *dockerfile_of(struct stale_ctx *c, const char *sha,
                                           int64_t seq)
{
    struct oid commit, blob;
    struct err err = ERR_INIT;
    const struct df_file *df = NULL;
    char *text = NULL;
    size_t len, i;

    if (seq < 0)
        return NULL;
    if ((size_t)seq >= c->nseq) {
        size_t n = (size_t)seq * 2 + 16;
        c->by_seq = xrealloc(c->by_seq, n * sizeof(*c->by_seq));
        c->seq_done = xrealloc(c->seq_done, n);
        memset(c->by_seq + c->nseq, 0, (n - c->nseq) * sizeof(*c->by_seq));
        memset(c->seq_done + c->nseq, 0, n - c->nseq);
        c->nseq = n;
    }
    if (c->seq_done[seq])
        return c->by_seq[seq];
    c->seq_done[seq] = 1;
    if (repo_resolve(c->repo, sha, &commit, &err) < 0 ||
        repo_path_blob(c->repo, &commit, c->dockerfile, &blob, &err) < 0)
        return NULL;
    for (i = 0; i < c->nversions; i++)
        if (oid_equal(&c->versions[i].blob, &blob))
            return c->by_seq[seq] = c->versions[i].df;
    xgrow((void **)&c->versions, &c->cap_versions, c->nversions + 1,
          sizeof(*c->versions));
    c->versions[c->nversions].blob = blob;
    c->versions[c->nversions].df = NULL;
    if (repo_blob_read(c->repo, &blob, &text, &len, &err) == 0) {
        struct df_file *f = NULL;
        if (df_parse(&f, c->dockerfile, text, len, NULL, &err) == 0)
            c->versions[c->nversions].df = f;
        df = f;
    }
    free(text);
    c->nversions++;
    return c->by_seq[seq] = df;
}

static int on_step(void *ctx, const struct store_report_run_step *s,
                   struct err *err)
{
    struct stale_ctx *c = ctx;
    const struct df_file *df = dockerfile_of(c, s->commit_sha, s->seq);

    (void)err;
    for (size_t i = 0; df && i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind == DF_RUN && in->line == s->line) {
            staleness_add(&c->st, s->strategy, s->seq, s->author_time, s->stage,
                          s->line, in->original, s->hit);
            return 0;
        }
    }
    c->unresolved++;
    return 0;
}

/* The repository of the run: --repo, else the path recorded, as given or
 * relative to the database's folder. */
static int open_repo(struct repo **out, const char *given, const char *db,
                     struct err *err)
{
    struct buf p = BUF_INIT;
    const char *slash = strrchr(db, '/');
    int rc;

    if (given[0] == '/' || access(given, F_OK) == 0 || !slash)
        return repo_open(out, given, err);
    buf_printf(&p, "%.*s/%s", (int)(slash - db), db, given);
    rc = repo_open(out, buf_cstr(&p), err);
    buf_release(&p);
    return rc;
}

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
    struct stale_ctx c;
    struct store_report *sr = NULL;
    struct store_report_run info;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;
    char **args = NULL;
    int nargs = 0, ret, rc;

    memset(&c, 0, sizeof(c));
    memset(&info, 0, sizeof(info));
    staleness_init(&c.st);
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
    if ((rc = open_repo(&c.repo, repo_dir ? repo_dir : info.repo, db, &err)) <
        0) {
        err_hint(&err, "give the replayed repository with --repo DIR");
        goto fail;
    }
    c.dockerfile = info.dockerfile ? info.dockerfile : "Dockerfile";
    if ((rc = store_report_run_steps(sr, info.id, "RUN", on_step, &c, &err)) <
        0)
        goto fail;
    if (!strcmp(format, "json"))
        print_json(&out, &c.st, info.id, c.unresolved);
    else if (!strcmp(format, "csv"))
        print_csv(&out, &c.st);
    else
        print_text(&out, &c.st);
    fwrite(out.ptr, 1, out.len, stdout);
    ret = EXIT_OK;
    goto out;
fail:
    err_print(&err);
    ret = err_exit_code(rc);
out:
    for (size_t i = 0; i < c.nversions; i++)
        df_file_free(c.versions[i].df);
    free(c.versions);
    free(c.by_seq);
    free(c.seq_done);
    staleness_release(&c.st);
    repo_free(c.repo);
    store_report_run_release(&info);
    store_report_close(sr);
    buf_release(&out);
    free(args);
    return ret;
}
