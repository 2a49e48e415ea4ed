/*
 * store_report.c - read-only queries for reports (see store_report.h).
 *
 * The file is opened with SQLITE_OPEN_READONLY and never migrated: a
 * nightly job may be appending to it, and a report must work on a copy
 * fetched from CI storage whatever schema wrote it.  So every query is
 * written against the columns that schema 3 and later all have, and the
 * schema 6 columns are read only when they exist.
 */
#include "store_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"

struct store_report {
    sqlite3 *db;
    char *path;
    int schema;
    int xfer_seconds; /* builds has pull_seconds and push_seconds */
};

static int db_error(struct store_report *r, struct err *err)
{
    return err_set(err, ERR_DB, "%s: %s", r->path, sqlite3_errmsg(r->db));
}

static int prepare(struct store_report *r, const char *sql, sqlite3_stmt **st,
                   struct err *err)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_error(r, err);
    return 0;
}

static int query_int(struct store_report *r, const char *sql, int64_t *out,
                     struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (prepare(r, sql, &st, err))
        return err->code;
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        db_error(r, err);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : err->code;
}

static char *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return xstrdup(t ? (const char *)t : "");
}

int store_report_open(struct store_report **out, const char *path,
                      struct err *err)
{
    struct store_report *r;
    static const char magic[16] = "SQLite format 3";
    char head[16] = { 0 };
    int64_t app = 0, version = 0, cols = 0;
    struct stat st;
    FILE *f;

    *out = NULL;
    if (stat(path, &st) < 0)
        return err_set(err, ERR_DB, "%s: no such database", path);
    f = fopen(path, "rb");
    if (!f)
        return err_set(err, ERR_DB, "%s: cannot read the database", path);
    if (fread(head, 1, sizeof(head), f) < sizeof(head) ||
        memcmp(head, magic, sizeof(head))) {
        fclose(f);
        return err_set(err, ERR_DB, "%s: not a harness database", path);
    }
    fclose(f);
    r = xcalloc(1, sizeof(*r));
    r->path = xstrdup(path);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        if (r->db)
            db_error(r, err);
        else
            err_set(err, ERR_DB, "%s: cannot open the database", path);
        goto fail;
    }
    sqlite3_busy_timeout(r->db, 10000);
    /* Reports read builds, step lists and items in orders that jump around
     * the file: with SQLite's default 2 MB page cache a 10,000-commit file
     * is read page by page over and over (a minute of pread on the
     * long-Dockerfile bench history).  Map the file and let the cache grow
     * to what the queries touch.  Both are hints: a failure changes speed,
     * never results. */
    sqlite3_exec(r->db, "PRAGMA mmap_size = 4294967296", NULL, NULL, NULL);
    sqlite3_exec(r->db, "PRAGMA cache_size = -262144", NULL, NULL, NULL);
    if (query_int(r, "PRAGMA application_id", &app, err) ||
        query_int(r, "PRAGMA user_version", &version, err))
        goto fail;
    if (app != STORE_APPLICATION_ID || version <= 0) {
        err_set(err, ERR_DB, "%s: not a harness database", path);
        goto fail;
    }
    if (version > STORE_SCHEMA_VERSION) {
        err_set(err, ERR_DB,
                "%s: written by a newer harness (schema %lld, this one knows "
                "%d)",
                path, (long long)version, STORE_SCHEMA_VERSION);
        err_hint(err, "upgrade harness");
        goto fail;
    }
    if (version < 3) {
        err_set(err, ERR_DB,
                "%s: schema %lld is too old for a report (it has no storage "
                "figures)",
                path, (long long)version);
        err_hint(err, "replay into it once with this harness to migrate it");
        goto fail;
    }
    if (query_int(r,
                  "SELECT count(*) FROM pragma_table_info('builds')"
                  " WHERE name IN ('pull_seconds', 'push_seconds')",
                  &cols, err))
        goto fail;
    r->schema = (int)version;
    r->xfer_seconds = cols == 2;
    *out = r;
    return 0;
fail:
    store_report_close(r);
    return err->code;
}

void store_report_close(struct store_report *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

int store_report_schema(const struct store_report *r)
{
    return r->schema;
}

int store_report_has_transfer_seconds(const struct store_report *r)
{
    return r->xfer_seconds;
}

int store_report_run_get(struct store_report *r, int64_t run_id,
                         struct store_report_run *out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (run_id <= 0 &&
        query_int(r, "SELECT max(run_id) FROM builds", &run_id, err))
        return err->code;
    if (prepare(r,
                "SELECT r.id, r.started, r.repo, r.dockerfile, r.options,"
                " r.tool_version,"
                " (SELECT count(*) FROM builds WHERE run_id = r.id),"
                " (SELECT count(DISTINCT commit_sha) FROM builds"
                "  WHERE run_id = r.id),"
                " (SELECT min(c.author_time) FROM commits c WHERE c.sha IN"
                "  (SELECT commit_sha FROM builds WHERE run_id = r.id)),"
                " (SELECT max(c.author_time) FROM commits c WHERE c.sha IN"
                "  (SELECT commit_sha FROM builds WHERE run_id = r.id))"
                " FROM runs r WHERE r.id = ?",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 6) > 0) {
        out->id = sqlite3_column_int64(st, 0);
        out->started = sqlite3_column_int64(st, 1);
        out->repo = col_str(st, 2);
        out->dockerfile = col_str(st, 3);
        out->options = col_str(st, 4);
        out->tool_version = col_str(st, 5);
        out->builds = sqlite3_column_int64(st, 6);
        out->commits = sqlite3_column_int64(st, 7);
        out->first_time = sqlite3_column_int64(st, 8);
        out->last_time = sqlite3_column_int64(st, 9);
        rc = 0;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        if (run_id > 0)
            err_set(err, ERR_NOTFOUND, "%s: no builds in run %lld", r->path,
                    (long long)run_id);
        else
            err_set(err, ERR_NOTFOUND, "%s: no builds recorded", r->path);
        err_hint(err, "replay into it first: harness replay --db %s", r->path);
        rc = ERR_NOTFOUND;
    } else {
        rc = db_error(r, err);
    }
    sqlite3_finalize(st);
    return rc;
}

void store_report_run_release(struct store_report_run *run)
{
    free(run->repo);
    free(run->dockerfile);
    free(run->options);
    free(run->tool_version);
    memset(run, 0, sizeof(*run));
}

int store_report_builds(struct store_report *r, int64_t run_id,
                        store_report_build_fn *fn, void *ctx, struct err *err)
{
    sqlite3_stmt *st = NULL;
    struct buf sql = BUF_INIT;
    int rc;

    buf_printf(&sql,
               "SELECT b.strategy, b.commit_sha, b.seq, b.status = 'failed',"
               " b.seconds, %s, b.bytes_pulled, b.bytes_pushed,"
               " b.steps_hit, b.steps_miss, coalesce(b.registry_bytes, 0),"
               " coalesce(b.cache_bytes, 0), coalesce(c.author_time, 0)"
               " FROM builds b LEFT JOIN commits c ON c.sha = b.commit_sha"
               " WHERE b.run_id = ? ORDER BY b.seq, b.id",
               r->xfer_seconds ? "coalesce(b.pull_seconds, 0),"
                                 " coalesce(b.push_seconds, 0)"
                               : "0, 0");
    rc = prepare(r, sql.ptr, &st, err);
    buf_release(&sql);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_build b;
        const unsigned char *s0 = sqlite3_column_text(st, 0);
        const unsigned char *s1 = sqlite3_column_text(st, 1);

        b.strategy = s0 ? (const char *)s0 : "";
        b.commit_sha = s1 ? (const char *)s1 : "";
        b.seq = sqlite3_column_int64(st, 2);
        b.failed = sqlite3_column_int(st, 3);
        b.seconds = sqlite3_column_double(st, 4);
        b.pull_seconds = sqlite3_column_double(st, 5);
        b.push_seconds = sqlite3_column_double(st, 6);
        b.bytes_pulled = sqlite3_column_int64(st, 7);
        b.bytes_pushed = sqlite3_column_int64(st, 8);
        b.steps_hit = sqlite3_column_int64(st, 9);
        b.steps_miss = sqlite3_column_int64(st, 10);
        b.registry_bytes = sqlite3_column_int64(st, 11);
        b.cache_bytes = sqlite3_column_int64(st, 12);
        b.author_time = sqlite3_column_int64(st, 13);
        if ((rc = fn(ctx, &b)) != 0) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    if (rc != SQLITE_DONE)
        db_error(r, err);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : err->code;
}

int store_report_transfers(struct store_report *r, int64_t run_id,
                           struct store_report_xfer **out, size_t *n,
                           struct err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (prepare(r,
                "SELECT b.strategy, t.direction = 'push', t.kind = 'cache',"
                " count(*), sum(t.bytes)"
                " FROM builds b JOIN transfers t ON t.build_id = b.id"
                " WHERE b.run_id = ? GROUP BY 1, 2, 3",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_xfer *x;
        const unsigned char *s = sqlite3_column_text(st, 0);

        XGROW(*out, cap, *n + 1);
        x = &(*out)[(*n)++];
        snprintf(x->strategy, sizeof(x->strategy), "%s",
                 s ? (const char *)s : "");
        x->push = sqlite3_column_int(st, 1);
        x->cache = sqlite3_column_int(st, 2);
        x->count = sqlite3_column_int64(st, 3);
        x->bytes = sqlite3_column_int64(st, 4);
    }
    if (rc != SQLITE_DONE)
        db_error(r, err);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : err->code;
}

int store_report_misses(struct store_report *r, int64_t run_id, size_t limit,
                        struct store_report_miss **out, size_t *n,
                        struct err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (prepare(r,
                "SELECT b.strategy, s.line, s.instruction,"
                " coalesce(s.reason, ''), count(*), sum(s.seconds)"
                " FROM builds b JOIN steps s ON s.build_id = b.id"
                " WHERE b.run_id = ? AND s.outcome = 'miss'"
                " GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 1, 2 LIMIT ?",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_miss *m;

        XGROW(*out, cap, *n + 1);
        m = &(*out)[(*n)++];
        m->strategy = col_str(st, 0);
        m->line = sqlite3_column_int64(st, 1);
        m->instruction = col_str(st, 2);
        m->reason = col_str(st, 3);
        m->count = sqlite3_column_int64(st, 4);
        m->seconds = sqlite3_column_double(st, 5);
    }
    if (rc != SQLITE_DONE)
        db_error(r, err);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_report_misses_free(*out, *n);
        *out = NULL;
        *n = 0;
        return err->code;
    }
    return 0;
}

void store_report_misses_free(struct store_report_miss *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].strategy);
        free(v[i].instruction);
        free(v[i].reason);
    }
    free(v);
}

int store_report_slowest(struct store_report *r, int64_t run_id,
                         const char *strategy, size_t limit,
                         struct store_report_commit **out, size_t *n,
                         struct err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (prepare(r,
                "SELECT b.commit_sha, coalesce(c.subject, ''), b.seq,"
                " b.seconds, b.steps_miss"
                " FROM builds b LEFT JOIN commits c ON c.sha = b.commit_sha"
                " WHERE b.run_id = ? AND b.strategy = ?"
                " ORDER BY b.seconds DESC, b.seq LIMIT ?",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, strategy, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_commit *c;
        const unsigned char *sha = sqlite3_column_text(st, 0);

        XGROW(*out, cap, *n + 1);
        c = &(*out)[(*n)++];
        snprintf(c->sha, sizeof(c->sha), "%s", sha ? (const char *)sha : "");
        c->subject = col_str(st, 1);
        c->seq = sqlite3_column_int64(st, 2);
        c->seconds = sqlite3_column_double(st, 3);
        c->steps_miss = sqlite3_column_int64(st, 4);
    }
    if (rc != SQLITE_DONE)
        db_error(r, err);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_report_commits_free(*out, *n);
        *out = NULL;
        *n = 0;
        return err->code;
    }
    return 0;
}

void store_report_commits_free(struct store_report_commit *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].subject);
    free(v);
}

int store_report_run_steps(
    struct store_report *r, int64_t run_id, const char *instruction,
    int (*fn)(void *ctx, const struct store_report_run_step *s,
              struct err *err),
    void *ctx, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (prepare(r,
                "SELECT b.strategy, b.commit_sha, b.seq,"
                " coalesce(c.author_time, 0), s.stage, s.line, s.outcome"
                " FROM builds b JOIN steps s ON s.build_id = b.id"
                " LEFT JOIN commits c ON c.sha = b.commit_sha"
                " WHERE b.run_id = ? AND b.status = 'ok'"
                " AND s.instruction = ? AND s.outcome IN ('hit', 'miss')"
                " ORDER BY b.strategy, b.seq, s.step_index",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, instruction, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_run_step row;
        const unsigned char *outcome = sqlite3_column_text(st, 6);

        row.strategy = (const char *)sqlite3_column_text(st, 0);
        row.commit_sha = (const char *)sqlite3_column_text(st, 1);
        row.seq = sqlite3_column_int64(st, 2);
        row.author_time = sqlite3_column_int64(st, 3);
        row.stage = sqlite3_column_int64(st, 4);
        row.line = sqlite3_column_int64(st, 5);
        row.hit = outcome && !strcmp((const char *)outcome, "hit");
        if (!row.strategy || !row.commit_sha)
            continue;
        if ((rc = fn(ctx, &row, err)) < 0) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(r, err);
    sqlite3_finalize(st);
    return rc;
}
