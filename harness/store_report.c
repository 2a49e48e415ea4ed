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

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "buf.h"
#include "idlist.h"
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

/* After a statement's rows: finalize it (*st = NULL) and return 0 when
 * its last step (rc) finished it, else the database's error. */
static int step_done(struct store_report *r, sqlite3_stmt **st, int rc,
                     struct err *err)
{
    int out = rc == SQLITE_DONE ? 0 : db_error(r, err);

    sqlite3_finalize(*st);
    *st = NULL;
    return out;
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

/* ---- schema 5 and later: lists shared by builds ----
 *
 * The steps and transfers views join every build to its list of items, so
 * a query that groups over them reads a list again for each build that
 * shares it and looks each item up again for each row: on the
 * 10,000-commit long-Dockerfile history, 14 million rows for 59,000
 * distinct step lists.  The readers below take the items they want once,
 * read each list the run uses once, in key order, and count each list as
 * often as builds use it.  Their results are the view queries' row for
 * row: the same rows in the same order, floating-point sums added in the
 * order SQLite adds them.  Ids beyond LIST_MAX_ID (no replay writes them)
 * fall back to the view queries.
 *
 * Schema 5 and 6 store a list as a row per position (step_lists,
 * transfer_lists); schema 7 as one row holding its item ids as a JSON
 * array (step_packs, transfer_packs), which is parsed here.  A schema 7
 * list with positions other than 0, 1, 2, ... (no replay writes one) or
 * a text that is not such an array falls back to the views too. */

#define LIST_MAX_ID ((int64_t)1 << 27)

struct list_set {
    int64_t lo, hi;      /* list ids read */
    uint32_t *off, *cnt; /* [id - lo]: its entries */
    int64_t *ent;        /* item ids, each list's in position order */
    size_t n, cap;
};

enum list_kind { LIST_STEPS, LIST_TRANSFERS };

/* The lists of ids in [?1, ?2] in key order: as rows (list, position,
 * item) before schema 7, as rows (list, items, positions) from it on. */
static const char *const list_sql[2][2] = {
    [LIST_STEPS] = { "SELECT list_id, step_index, item_id FROM step_lists"
                     " WHERE list_id BETWEEN ? AND ?"
                     " ORDER BY list_id, step_index",
                     "SELECT id, items, positions FROM step_packs"
                     " WHERE id BETWEEN ? AND ? ORDER BY id" },
    [LIST_TRANSFERS] = { "SELECT list_id, seq, item_id FROM transfer_lists"
                         " WHERE list_id BETWEEN ? AND ?"
                         " ORDER BY list_id, seq",
                         "SELECT id, items, positions FROM transfer_packs"
                         " WHERE id BETWEEN ? AND ? ORDER BY id" },
};

static void list_set_free(struct list_set *ls)
{
    free(ls->off);
    free(ls->cnt);
    free(ls->ent);
    memset(ls, 0, sizeof(*ls));
}

/* min and max of a builds column over the run (where); 1 when the run has
 * none or they are beyond LIST_MAX_ID. */
static int list_range(struct store_report *r, const char *sql, int64_t run_id,
                      int64_t *lo, int64_t *hi, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, none;

    if (prepare(r, sql, &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, run_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_error(r, err);
    }
    none = sqlite3_column_type(st, 0) == SQLITE_NULL;
    *lo = sqlite3_column_int64(st, 0);
    *hi = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return none || *lo < 0 || *hi > LIST_MAX_ID ? 1 : 0;
}

/* Add item to list in ls when it is wanted (want[item], items up to
 * max_item); the entries of a list come one after the other. */
static void list_add(struct list_set *ls, int64_t list, int64_t item,
                     const unsigned char *want, int64_t max_item)
{
    if (item < 0 || item > max_item || !want[item] || list < ls->lo ||
        list > ls->hi)
        return;
    if (!ls->cnt[list - ls->lo])
        ls->off[list - ls->lo] = (uint32_t)ls->n;
    XGROW(ls->ent, ls->cap, ls->n + 1);
    ls->ent[ls->n++] = item;
    ls->cnt[list - ls->lo]++;
}

/* Add the item ids of a list's JSON array t (schema 7's items) to list
 * in ls.  Returns 0, or 1 when t is not an array idlist reads (the caller
 * falls back to the views, where SQLite reads whatever JSON it is). */
static int list_add_pack(struct list_set *ls, int64_t list, const char *t,
                         const unsigned char *want, int64_t max_item)
{
    struct idlist_iter it;
    int64_t item;
    int rc;

    idlist_begin(&it, t);
    while ((rc = idlist_next(&it, &item)) > 0)
        list_add(ls, list, item, want, max_item);
    return rc < 0;
}

/* Read into ls the entries of the lists of a kind in [lo, hi] whose item
 * is wanted (want[item], items up to max_item).  1: read them with the
 * views instead (see above). */
static int list_read(struct store_report *r, enum list_kind kind,
                     struct list_set *ls, int64_t lo, int64_t hi,
                     const unsigned char *want, int64_t max_item,
                     struct err *err)
{
    sqlite3_stmt *st = NULL;
    size_t span = (size_t)(hi - lo + 1);
    int packed = r->schema >= 7;
    int rc;

    ls->lo = lo;
    ls->hi = hi;
    ls->off = xcalloc(span, sizeof(*ls->off));
    ls->cnt = xcalloc(span, sizeof(*ls->cnt));
    if (prepare(r, list_sql[kind][packed], &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, ls->lo);
    sqlite3_bind_int64(st, 2, ls->hi);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t list = sqlite3_column_int64(st, 0);
        if (!packed) {
            list_add(ls, list, sqlite3_column_int64(st, 2), want, max_item);
            continue;
        }
        const unsigned char *t = sqlite3_column_text(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL || !t ||
            list_add_pack(ls, list, (const char *)t, want, max_item)) {
            sqlite3_finalize(st);
            return 1;
        }
    }
    return step_done(r, &st, rc, err);
}

/* The index of name in names (added when new). */
static size_t name_index(char ***names, size_t *n, size_t *cap,
                         const char *name)
{
    size_t i;

    for (i = *n; i-- > 0;)
        if (!strcmp((*names)[i], name))
            return i;
    XGROW(*names, *cap, *n + 1);
    (*names)[*n] = xstrdup(name);
    return (*n)++;
}

static void names_free(char **names, size_t n)
{
    while (n-- > 0)
        free(names[n]);
    free(names);
}

/* -- transfers -- */

/* Transfers of one kind: [list * 4 + push * 2 + cache]. */
struct xfer_bucket {
    int64_t count, bytes;
};

/* The buckets of the lists in [lo, hi] from transfer_packs (schema 7):
 * each item's bucket and size once, then the lists parsed. */
static int xfer_buckets_packed(struct store_report *r, int64_t lo, int64_t hi,
                               struct xfer_bucket *per_list, struct err *err)
{
    struct list_set ls;
    sqlite3_stmt *st = NULL;
    int64_t max_item = 0, list;
    unsigned char *want = NULL, *bucket = NULL;
    int64_t *bytes = NULL;
    int rc;

    memset(&ls, 0, sizeof(ls));
    if ((rc = query_int(r, "SELECT max(id) FROM transfer_items", &max_item,
                        err)))
        return rc;
    if (max_item < 0 || max_item > LIST_MAX_ID)
        return 1;
    want = xcalloc((size_t)max_item + 1, 1);
    bucket = xcalloc((size_t)max_item + 1, 1);
    bytes = xcalloc((size_t)max_item + 1, sizeof(*bytes));
    rc = prepare(r,
                 "SELECT id, (direction = 'push') * 2 + (kind = 'cache'),"
                 " bytes FROM transfer_items",
                 &st, err);
    if (rc)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 0 || id > max_item)
            continue;
        want[id] = 1;
        bucket[id] = (unsigned char)(sqlite3_column_int(st, 1) & 3);
        bytes[id] = sqlite3_column_int64(st, 2);
    }
    if ((rc = step_done(r, &st, rc, err)))
        goto out;
    if ((rc = list_read(r, LIST_TRANSFERS, &ls, lo, hi, want, max_item, err)))
        goto out;
    for (list = lo; list <= hi; list++)
        for (uint32_t k = 0; k < ls.cnt[list - lo]; k++) {
            int64_t item = ls.ent[ls.off[list - lo] + k];
            struct xfer_bucket *b = &per_list[(list - lo) * 4 + bucket[item]];
            b->count++;
            b->bytes += bytes[item];
        }
out:
    list_set_free(&ls);
    free(bytes);
    free(bucket);
    free(want);
    return rc;
}

/* The same from transfer_lists (schema 5 and 6), grouped by SQLite. */
static int xfer_buckets_rows(struct store_report *r, int64_t lo, int64_t hi,
                             struct xfer_bucket *per_list, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (prepare(r,
                "SELECT l.list_id, i.direction = 'push', i.kind = 'cache',"
                " count(*), sum(i.bytes)"
                " FROM transfer_lists l JOIN transfer_items i"
                " ON i.id = l.item_id WHERE l.list_id BETWEEN ? AND ?"
                " GROUP BY 1, 2, 3",
                &st, err))
        return err->code;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct xfer_bucket *p =
            &per_list[(sqlite3_column_int64(st, 0) - lo) * 4 +
                      sqlite3_column_int(st, 1) * 2 + sqlite3_column_int(st, 2)];
        p->count = sqlite3_column_int64(st, 3);
        p->bytes = sqlite3_column_int64(st, 4);
    }
    return step_done(r, &st, rc, err);
}

static int transfers_lists(struct store_report *r, int64_t run_id,
                           struct store_report_xfer **out, size_t *n,
                           struct err *err)
{
    struct xfer_bucket *per_list = NULL, *acc = NULL;
    sqlite3_stmt *st = NULL;
    char **names = NULL;
    unsigned char *taken = NULL;
    size_t nnames = 0, cap = 0, ocap = 0, xcap = 0, i;
    int64_t lo, hi;
    int rc, b;

    rc = list_range(r,
                    "SELECT min(transfer_list), max(transfer_list)"
                    " FROM builds WHERE run_id = ?",
                    run_id, &lo, &hi, err);
    if (rc)
        return rc;
    per_list = xcalloc((size_t)(hi - lo + 1) * 4, sizeof(*per_list));
    rc = r->schema >= 7 ? xfer_buckets_packed(r, lo, hi, per_list, err)
                        : xfer_buckets_rows(r, lo, hi, per_list, err);
    if (rc)
        goto out;
    rc = prepare(r,
                 "SELECT strategy, transfer_list, count(*) FROM builds"
                 " WHERE run_id = ? AND transfer_list IS NOT NULL"
                 " GROUP BY 1, 2",
                 &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(st, 0);
        int64_t list = sqlite3_column_int64(st, 1);
        int64_t k = sqlite3_column_int64(st, 2);
        size_t si = name_index(&names, &nnames, &cap, s ? (const char *)s : "");
        if (nnames * 4 > ocap) {
            acc = xrealloc(acc, nnames * 4 * sizeof(*acc));
            memset(acc + ocap, 0, (nnames * 4 - ocap) * sizeof(*acc));
            ocap = nnames * 4;
        }
        for (b = 0; b < 4; b++) {
            acc[si * 4 + b].count += k * per_list[(list - lo) * 4 + b].count;
            acc[si * 4 + b].bytes += k * per_list[(list - lo) * 4 + b].bytes;
        }
    }
    if ((rc = step_done(r, &st, rc, err)))
        goto out;
    rc = 0;
    /* GROUP BY strategy, push, cache: in that order */
    taken = xcalloc(nnames + 1, 1);
    for (;;) {
        size_t best = nnames;
        for (i = 0; i < nnames; i++)
            if (!taken[i] &&
                (best == nnames || strcmp(names[i], names[best]) < 0))
                best = i;
        if (best == nnames)
            break;
        for (b = 0; b < 4; b++) {
            struct store_report_xfer *x;
            if (!acc[best * 4 + b].count)
                continue;
            XGROW(*out, xcap, *n + 1);
            x = &(*out)[(*n)++];
            snprintf(x->strategy, sizeof(x->strategy), "%s", names[best]);
            x->push = b / 2;
            x->cache = b % 2;
            x->count = acc[best * 4 + b].count;
            x->bytes = acc[best * 4 + b].bytes;
        }
        taken[best] = 1;
    }
out:
    free(taken);
    names_free(names, nnames);
    free(acc);
    free(per_list);
    return rc;
}

/* -- misses -- */

/* A (line, instruction, reason) of missed steps, and the items that are it. */
struct miss_group {
    int64_t line;
    char *instruction, *reason;
};

struct miss_acc {
    int64_t count;
    double seconds;
};

static uint64_t group_hash(int64_t line, const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)line;

    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 1099511628211ULL;
    return h;
}

struct miss_row {
    size_t strategy, group;
    int64_t count;
    double seconds;
};

static char **sort_names;
static struct miss_group *sort_groups;

/* ORDER BY seconds DESC, strategy, line; then the GROUP BY order. */
static int miss_row_cmp(const void *pa, const void *pb)
{
    const struct miss_row *a = pa, *b = pb;
    const struct miss_group *ga = &sort_groups[a->group],
                            *gb = &sort_groups[b->group];
    int c;

    if (a->seconds != b->seconds)
        return a->seconds > b->seconds ? -1 : 1;
    if ((c = strcmp(sort_names[a->strategy], sort_names[b->strategy])))
        return c;
    if (ga->line != gb->line)
        return ga->line < gb->line ? -1 : 1;
    if ((c = strcmp(ga->instruction, gb->instruction)))
        return c;
    return strcmp(ga->reason, gb->reason);
}

/* The step lists of a run's builds (range_sql selects their min and max
 * list id) and the largest step item id, for the per-item arrays of the
 * list readers below.  1 when the items are past what they index. */
static int step_item_bounds(struct store_report *r, const char *range_sql,
                            int64_t run_id, int64_t *lo, int64_t *hi,
                            int64_t *max_item, struct err *err)
{
    int rc = list_range(r, range_sql, run_id, lo, hi, err);
    if (rc)
        return rc;
    if ((rc = query_int(r, "SELECT max(id) FROM step_items", max_item, err)))
        return rc;
    return *max_item < 0 || *max_item > LIST_MAX_ID;
}

static int misses_lists(struct store_report *r, int64_t run_id, size_t limit,
                        struct store_report_miss **out, size_t *n,
                        struct err *err)
{
    struct list_set ls;
    sqlite3_stmt *st = NULL;
    int64_t max_item = 0, lo, hi;
    unsigned char *want = NULL;
    size_t *item_group = NULL, ngroups = 0, gcap = 0, hcap, i, j;
    size_t *slots = NULL; /* group index + 1, open addressing */
    double *item_secs = NULL;
    struct miss_group *groups = NULL;
    struct miss_acc **acc = NULL;
    struct miss_row *rows = NULL;
    char **names = NULL;
    size_t nnames = 0, ncap = 0, accn = 0, nrows = 0, rcap = 0, ocap = 0;
    int rc;

    memset(&ls, 0, sizeof(ls));
    rc = step_item_bounds(r,
                          "SELECT min(step_list), max(step_list) FROM builds"
                          " WHERE run_id = ?",
                          run_id, &lo, &hi, &max_item, err);
    if (rc)
        return rc;
    want = xcalloc((size_t)max_item + 1, 1);
    item_group = xcalloc((size_t)max_item + 1, sizeof(*item_group));
    item_secs = xcalloc((size_t)max_item + 1, sizeof(*item_secs));
    hcap = 1024;
    slots = xcalloc(hcap, sizeof(*slots));
    rc = prepare(r,
                 "SELECT id, line, instruction, coalesce(reason, ''), seconds"
                 " FROM step_items WHERE outcome = 'miss'",
                 &st, err);
    if (rc)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int64_t line = sqlite3_column_int64(st, 1);
        const unsigned char *ti = sqlite3_column_text(st, 2);
        const unsigned char *tr = sqlite3_column_text(st, 3);
        const char *ins = ti ? (const char *)ti : "";
        const char *why = tr ? (const char *)tr : "";
        size_t h;
        if (id < 0 || id > max_item)
            continue;
        if (ngroups * 2 >= hcap) { /* grow and rehash */
            size_t *ns = xcalloc(hcap * 2, sizeof(*ns));
            for (j = 0; j < ngroups; j++) {
                h = group_hash(groups[j].line, groups[j].instruction,
                               groups[j].reason) &
                    (hcap * 2 - 1);
                while (ns[h])
                    h = (h + 1) & (hcap * 2 - 1);
                ns[h] = j + 1;
            }
            free(slots);
            slots = ns;
            hcap *= 2;
        }
        h = group_hash(line, ins, why) & (hcap - 1);
        while (slots[h] &&
               !(groups[slots[h] - 1].line == line &&
                 !strcmp(groups[slots[h] - 1].instruction, ins) &&
                 !strcmp(groups[slots[h] - 1].reason, why)))
            h = (h + 1) & (hcap - 1);
        if (!slots[h]) {
            XGROW(groups, gcap, ngroups + 1);
            groups[ngroups].line = line;
            groups[ngroups].instruction = xstrdup(ins);
            groups[ngroups].reason = xstrdup(why);
            slots[h] = ++ngroups;
        }
        want[id] = 1;
        item_group[id] = slots[h] - 1;
        item_secs[id] = sqlite3_column_double(st, 4);
    }
    if ((rc = step_done(r, &st, rc, err)))
        goto out;
    if ((rc = list_read(r, LIST_STEPS, &ls, lo, hi, want, max_item, err)))
        goto out;
    /* the builds in the order the view query reads them (the run's
     * (run_id, commit_sha, strategy) index), each list's steps in order:
     * the sums come out as SQLite adds them */
    rc = prepare(r,
                 "SELECT strategy, step_list FROM builds WHERE run_id = ?"
                 " ORDER BY commit_sha, strategy",
                 &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(st, 0);
        int64_t list = sqlite3_column_int64(st, 1);
        size_t si, k;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL || list < lo ||
            list > hi)
            continue;
        si = name_index(&names, &nnames, &ncap, s ? (const char *)s : "");
        if (nnames > accn) {
            acc = xrealloc(acc, nnames * sizeof(*acc));
            acc[accn++] = xcalloc(ngroups + 1, sizeof(**acc));
        }
        for (k = 0; k < ls.cnt[list - lo]; k++) {
            int64_t item = ls.ent[ls.off[list - lo] + k];
            struct miss_acc *a = &acc[si][item_group[item]];
            a->count++;
            a->seconds += item_secs[item];
        }
    }
    if ((rc = step_done(r, &st, rc, err)))
        goto out;
    rc = 0;
    for (i = 0; i < nnames; i++)
        for (j = 0; j < ngroups; j++)
            if (acc[i][j].count) {
                XGROW(rows, rcap, nrows + 1);
                rows[nrows].strategy = i;
                rows[nrows].group = j;
                rows[nrows].count = acc[i][j].count;
                rows[nrows++].seconds = acc[i][j].seconds;
            }
    sort_names = names;
    sort_groups = groups;
    if (nrows)
        qsort(rows, nrows, sizeof(*rows), miss_row_cmp);
    for (i = 0; i < nrows && i < limit; i++) {
        struct store_report_miss *m;
        XGROW(*out, ocap, *n + 1);
        m = &(*out)[(*n)++];
        m->strategy = xstrdup(names[rows[i].strategy]);
        m->line = groups[rows[i].group].line;
        m->instruction = xstrdup(groups[rows[i].group].instruction);
        m->reason = xstrdup(groups[rows[i].group].reason);
        m->count = rows[i].count;
        m->seconds = rows[i].seconds;
    }
out:
    if (st)
        sqlite3_finalize(st);
    for (i = 0; i < accn; i++)
        free(acc[i]);
    free(acc);
    for (i = 0; i < ngroups; i++) {
        free(groups[i].instruction);
        free(groups[i].reason);
    }
    free(groups);
    free(rows);
    names_free(names, nnames);
    free(slots);
    free(item_secs);
    free(item_group);
    free(want);
    list_set_free(&ls);
    return rc;
}

/* -- the steps of one instruction (staleness) -- */

static int run_steps_lists(
    struct store_report *r, int64_t run_id, const char *instruction,
    int (*fn)(void *ctx, const struct store_report_run_step *s,
              struct err *err),
    void *ctx, struct err *err)
{
    struct list_set ls;
    sqlite3_stmt *st = NULL;
    int64_t max_item = 0, lo, hi;
    unsigned char *want = NULL;
    struct item {
        int64_t stage, line;
        int hit;
    } *items = NULL;
    int rc;

    memset(&ls, 0, sizeof(ls));
    rc = step_item_bounds(r,
                          "SELECT min(step_list), max(step_list) FROM builds"
                          " WHERE run_id = ? AND status = 'ok'",
                          run_id, &lo, &hi, &max_item, err);
    if (rc)
        return rc;
    want = xcalloc((size_t)max_item + 1, 1);
    items = xcalloc((size_t)max_item + 1, sizeof(*items));
    rc = prepare(r,
                 "SELECT id, stage, line, outcome = 'hit' FROM step_items"
                 " WHERE instruction = ? AND outcome IN ('hit', 'miss')",
                 &st, err);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, instruction, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 0 || id > max_item)
            continue;
        want[id] = 1;
        items[id].stage = sqlite3_column_int64(st, 1);
        items[id].line = sqlite3_column_int64(st, 2);
        items[id].hit = sqlite3_column_int(st, 3);
    }
    if ((rc = step_done(r, &st, rc, err)))
        goto out;
    if ((rc = list_read(r, LIST_STEPS, &ls, lo, hi, want, max_item, err)))
        goto out;
    rc = prepare(r,
                 "SELECT b.strategy, b.commit_sha, b.seq,"
                 " coalesce(c.author_time, 0), b.step_list"
                 " FROM builds b LEFT JOIN commits c ON c.sha = b.commit_sha"
                 " WHERE b.run_id = ? AND b.status = 'ok'"
                 " AND b.step_list IS NOT NULL ORDER BY b.strategy, b.seq",
                 &st, err);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_run_step row;
        int64_t list = sqlite3_column_int64(st, 4);
        size_t k;
        row.strategy = (const char *)sqlite3_column_text(st, 0);
        row.commit_sha = (const char *)sqlite3_column_text(st, 1);
        row.seq = sqlite3_column_int64(st, 2);
        row.author_time = sqlite3_column_int64(st, 3);
        if (!row.strategy || !row.commit_sha || list < lo || list > hi)
            continue;
        for (k = 0; k < ls.cnt[list - lo]; k++) {
            const struct item *it = &items[ls.ent[ls.off[list - lo] + k]];
            row.stage = it->stage;
            row.line = it->line;
            row.hit = it->hit;
            if ((rc = fn(ctx, &row, err)) < 0)
                goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(r, err);
out:
    if (st)
        sqlite3_finalize(st);
    free(items);
    free(want);
    list_set_free(&ls);
    return rc;
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
    return step_done(r, &st, rc, err);
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
    if (r->schema >= 5) {
        rc = transfers_lists(r, run_id, out, n, err);
        if (rc <= 0)
            return rc;
        free(*out);
        *out = NULL;
        *n = 0;
    }
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
    return step_done(r, &st, rc, err);
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
    if (r->schema >= 5) {
        rc = misses_lists(r, run_id, limit, out, n, err);
        if (rc <= 0)
            return rc;
        store_report_misses_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
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

    if (r->schema >= 5 &&
        (rc = run_steps_lists(r, run_id, instruction, fn, ctx, err)) <= 0)
        return rc;
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
    return step_done(r, &st, rc, err);
}
