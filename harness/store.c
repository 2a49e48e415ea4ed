/*
 * store.c - the SQLite results database (see store.h, doc/schema.md).
 *
 * Opening is careful not to write anything before the file is known to be
 * ours: the header is checked by hand, then application_id, user_version
 * and the table list are read, and only then is WAL mode set and the
 * schema created or migrated (inside BEGIN IMMEDIATE, re-checking the
 * version, so two processes creating the same file do not both migrate).
 */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "dmap.h"
#include "idlist.h"
#include "sha256.h"

#define BUSY_TIMEOUT_MS 10000

/* Migration i brings the schema from version i to i + 1 and sets
 * user_version to i + 1.  Append only: never edit a released entry. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " started INTEGER NOT NULL,"
    " repo TEXT NOT NULL,"
    " dockerfile TEXT NOT NULL,"
    " options TEXT NOT NULL,"
    " tool_version TEXT NOT NULL,"
    " UNIQUE (repo, dockerfile, options));"
    "CREATE TABLE commits ("
    " sha TEXT PRIMARY KEY CHECK (length(sha) = 40),"
    " parents TEXT NOT NULL,"
    " author_time INTEGER NOT NULL,"
    " subject TEXT NOT NULL);"
    "CREATE TABLE builds ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " commit_sha TEXT NOT NULL CHECK (length(commit_sha) = 40),"
    " seq INTEGER NOT NULL,"
    " strategy TEXT NOT NULL,"
    " builder TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),"
    " seconds REAL NOT NULL,"
    " bytes_pulled INTEGER NOT NULL,"
    " bytes_pushed INTEGER NOT NULL,"
    " steps_hit INTEGER NOT NULL,"
    " steps_miss INTEGER NOT NULL,"
    " error TEXT,"
    " UNIQUE (run_id, strategy, commit_sha));"
    "CREATE TABLE steps ("
    " build_id INTEGER NOT NULL REFERENCES builds(id),"
    " step_index INTEGER NOT NULL,"
    " stage INTEGER NOT NULL,"
    " line INTEGER NOT NULL,"
    " instruction TEXT NOT NULL,"
    " outcome TEXT NOT NULL"
    "  CHECK (outcome IN ('hit', 'miss', 'none', 'skipped')),"
    " seconds REAL NOT NULL,"
    " layer_bytes INTEGER NOT NULL,"
    " bytes_pulled INTEGER NOT NULL,"
    " reason TEXT,"
    " key TEXT,"
    " PRIMARY KEY (build_id, step_index)) WITHOUT ROWID;"
    "CREATE TABLE transfers ("
    " build_id INTEGER NOT NULL REFERENCES builds(id),"
    " direction TEXT NOT NULL CHECK (direction IN ('pull', 'push')),"
    " digest TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " kind TEXT NOT NULL"
    "  CHECK (kind IN ('layer', 'config', 'manifest', 'cache')));"
    "CREATE INDEX transfers_build ON transfers (build_id);"
    "CREATE INDEX builds_run_seq ON builds (run_id, seq);"
    "PRAGMA application_id = 1213353555;" /* STORE_APPLICATION_ID */
    "PRAGMA user_version = 1;",
    /* 1 -> 2: real builds recorded by `harness verify` */
    "CREATE TABLE real_builds ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " commit_sha TEXT NOT NULL CHECK (length(commit_sha) = 40),"
    " strategy TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),"
    " seconds REAL NOT NULL,"
    " bytes_pulled INTEGER,"
    " bytes_pushed INTEGER,"
    " log_path TEXT NOT NULL);"
    "CREATE TABLE real_steps ("
    " real_build_id INTEGER NOT NULL REFERENCES real_builds(id),"
    " line INTEGER,"
    " instruction TEXT NOT NULL,"
    " outcome TEXT NOT NULL CHECK (outcome IN ('hit', 'miss', 'none')),"
    " seconds REAL);"
    "CREATE INDEX real_builds_run ON real_builds (run_id, strategy,"
    " commit_sha);"
    "CREATE INDEX real_steps_build ON real_steps (real_build_id);"
    "PRAGMA user_version = 2;",
    /* 2 -> 3: what each strategy stores after each build */
    "ALTER TABLE builds ADD COLUMN registry_bytes INTEGER;"
    "ALTER TABLE builds ADD COLUMN cache_bytes INTEGER;"
    "PRAGMA user_version = 3;",
    /* 3 -> 4: a replay writes a million rows; make each one cheaper.  Keys
     * leave steps (`harness keys` prints them); transfers get their order
     * as part of a clustered key instead of a rowid and a second index. */
    "CREATE TABLE transfers_v4 ("
    " build_id INTEGER NOT NULL REFERENCES builds(id),"
    " seq INTEGER NOT NULL,"
    " direction TEXT NOT NULL CHECK (direction IN ('pull', 'push')),"
    " digest TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " kind TEXT NOT NULL"
    "  CHECK (kind IN ('layer', 'config', 'manifest', 'cache')),"
    " PRIMARY KEY (build_id, seq)) WITHOUT ROWID;"
    "INSERT INTO transfers_v4 SELECT build_id,"
    " row_number() OVER (PARTITION BY build_id ORDER BY rowid) - 1,"
    " direction, digest, bytes, kind FROM transfers;"
    "DROP TABLE transfers;"
    "ALTER TABLE transfers_v4 RENAME TO transfers;"
    "ALTER TABLE steps DROP COLUMN key;"
    "PRAGMA user_version = 4;",
    /* 4 -> 5: a replay writes the same steps and transfers over and over:
     * the builds of one commit mostly take the same steps, a step's row
     * recurs across commits, and a blob is moved by many builds.  Each
     * distinct step and transfer is stored once as an item, each distinct
     * list of them once as a list of item ids, and a build points at its
     * two lists.  steps and transfers become views with the columns they
     * had.  A converted build keeps lists and items of its own (list id =
     * build id).  builds is rebuilt to lead its unique key with the
     * commit, so that a commit's builds insert side by side. */
    "CREATE TABLE step_items ("
    " id INTEGER PRIMARY KEY,"
    " stage INTEGER NOT NULL,"
    " line INTEGER NOT NULL,"
    " instruction TEXT NOT NULL,"
    " outcome TEXT NOT NULL CHECK (outcome = 'hit' OR outcome = 'miss'"
    "  OR outcome = 'none' OR outcome = 'skipped'),"
    " seconds REAL NOT NULL,"
    " layer_bytes INTEGER NOT NULL,"
    " bytes_pulled INTEGER NOT NULL,"
    " reason TEXT);"
    "CREATE TABLE step_lists ("
    " list_id INTEGER NOT NULL,"
    " step_index INTEGER NOT NULL,"
    " item_id INTEGER NOT NULL REFERENCES step_items(id),"
    " PRIMARY KEY (list_id, step_index)) WITHOUT ROWID;"
    "CREATE TABLE transfer_items ("
    " id INTEGER PRIMARY KEY,"
    " direction TEXT NOT NULL CHECK (direction IN ('pull', 'push')),"
    " digest TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind = 'layer' OR kind = 'config'"
    "  OR kind = 'manifest' OR kind = 'cache'));"
    "CREATE TABLE transfer_lists ("
    " list_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " item_id INTEGER NOT NULL REFERENCES transfer_items(id),"
    " PRIMARY KEY (list_id, seq)) WITHOUT ROWID;"
    /* item ids from the old keys, so that nothing is buffered (a step
     * index or transfer number is below 65536) */
    "INSERT INTO step_items SELECT build_id * 65536 + step_index, stage,"
    " line, instruction, outcome, seconds, layer_bytes, bytes_pulled, reason"
    " FROM steps;"
    "INSERT INTO step_lists SELECT build_id, step_index,"
    " build_id * 65536 + step_index FROM steps;"
    "INSERT INTO transfer_items SELECT build_id * 65536 + seq, direction,"
    " digest, bytes, kind FROM transfers;"
    "INSERT INTO transfer_lists SELECT build_id, seq, build_id * 65536 + seq"
    " FROM transfers;"
    "CREATE TABLE builds_v5 ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " commit_sha TEXT NOT NULL CHECK (length(commit_sha) = 40),"
    " seq INTEGER NOT NULL,"
    " strategy TEXT NOT NULL,"
    " builder TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),"
    " seconds REAL NOT NULL,"
    " bytes_pulled INTEGER NOT NULL,"
    " bytes_pushed INTEGER NOT NULL,"
    " steps_hit INTEGER NOT NULL,"
    " steps_miss INTEGER NOT NULL,"
    " error TEXT,"
    " registry_bytes INTEGER,"
    " cache_bytes INTEGER,"
    " step_list INTEGER,"
    " transfer_list INTEGER,"
    " UNIQUE (run_id, commit_sha, strategy));"
    "INSERT INTO builds_v5 SELECT id, run_id, commit_sha, seq, strategy,"
    " builder, status, seconds, bytes_pulled, bytes_pushed, steps_hit,"
    " steps_miss, error, registry_bytes, cache_bytes,"
    " CASE WHEN EXISTS (SELECT 1 FROM step_lists WHERE list_id = b.id)"
    "  THEN id END,"
    " CASE WHEN EXISTS (SELECT 1 FROM transfer_lists WHERE list_id = b.id)"
    "  THEN id END"
    " FROM builds b;"
    "DROP TABLE steps;"
    "DROP TABLE transfers;"
    "DROP TABLE builds;"
    "ALTER TABLE builds_v5 RENAME TO builds;"
    "CREATE INDEX builds_run_seq ON builds (run_id, seq);"
    "CREATE VIEW steps (build_id, step_index, stage, line, instruction,"
    " outcome, seconds, layer_bytes, bytes_pulled, reason) AS"
    " SELECT b.id, l.step_index, i.stage, i.line, i.instruction, i.outcome,"
    " i.seconds, i.layer_bytes, i.bytes_pulled, i.reason"
    " FROM builds b JOIN step_lists l ON l.list_id = b.step_list"
    " JOIN step_items i ON i.id = l.item_id;"
    "CREATE VIEW transfers (build_id, seq, direction, digest, bytes, kind) AS"
    " SELECT b.id, l.seq, i.direction, i.digest, i.bytes, i.kind"
    " FROM builds b JOIN transfer_lists l ON l.list_id = b.transfer_list"
    " JOIN transfer_items i ON i.id = l.item_id;"
    "PRAGMA user_version = 5;",
    /* 5 -> 6: seconds becomes the `docker build` command alone; the pull
     * before it and the push after it get columns of their own, so that a
     * CI job's time is their sum.  Older rows cannot be split: their
     * seconds keep the whole (they included both) and the new columns 0.
     * real_builds likewise; NULL there means not measured. */
    "ALTER TABLE builds ADD COLUMN pull_seconds REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE builds ADD COLUMN push_seconds REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE real_builds ADD COLUMN pull_seconds REAL;"
    "ALTER TABLE real_builds ADD COLUMN push_seconds REAL;"
    "PRAGMA user_version = 6;",
    /* 6 -> 7: a list was a row per position, millions of B-tree inserts
     * for a long replay (110 steps a list on a long Dockerfile); it
     * becomes one row holding its item ids as a JSON array, in position
     * order, and its positions when they are not 0, 1, 2, ...  The
     * tables step_lists and transfer_lists become views with their
     * columns and rows.  GROUP BY list_id reads the old tables in key
     * order (list_id, position), so each array is in position order. */
    "CREATE TABLE step_packs ("
    " id INTEGER PRIMARY KEY,"
    " items TEXT NOT NULL,"
    " positions TEXT);"
    "CREATE TABLE transfer_packs ("
    " id INTEGER PRIMARY KEY,"
    " items TEXT NOT NULL,"
    " positions TEXT);"
    "INSERT INTO step_packs SELECT list_id, json_group_array(item_id),"
    " CASE WHEN min(step_index) = 0 AND max(step_index) = count(*) - 1"
    "  THEN NULL ELSE json_group_array(step_index) END"
    " FROM step_lists GROUP BY list_id;"
    "INSERT INTO transfer_packs SELECT list_id, json_group_array(item_id),"
    " CASE WHEN min(seq) = 0 AND max(seq) = count(*) - 1"
    "  THEN NULL ELSE json_group_array(seq) END"
    " FROM transfer_lists GROUP BY list_id;"
    "DROP VIEW steps;"
    "DROP VIEW transfers;"
    "DROP TABLE step_lists;"
    "DROP TABLE transfer_lists;"
    "CREATE VIEW step_lists (list_id, step_index, item_id) AS"
    " SELECT p.id, CASE WHEN p.positions IS NULL THEN j.key"
    "  ELSE json_extract(p.positions, '$[' || j.key || ']') END, j.value"
    " FROM step_packs p JOIN json_each(p.items) j;"
    "CREATE VIEW transfer_lists (list_id, seq, item_id) AS"
    " SELECT p.id, CASE WHEN p.positions IS NULL THEN j.key"
    "  ELSE json_extract(p.positions, '$[' || j.key || ']') END, j.value"
    " FROM transfer_packs p JOIN json_each(p.items) j;"
    "CREATE VIEW steps (build_id, step_index, stage, line, instruction,"
    " outcome, seconds, layer_bytes, bytes_pulled, reason) AS"
    " SELECT b.id, CASE WHEN p.positions IS NULL THEN j.key"
    "  ELSE json_extract(p.positions, '$[' || j.key || ']') END,"
    " i.stage, i.line, i.instruction, i.outcome, i.seconds, i.layer_bytes,"
    " i.bytes_pulled, i.reason"
    " FROM builds b JOIN step_packs p ON p.id = b.step_list"
    " JOIN json_each(p.items) j JOIN step_items i ON i.id = j.value;"
    "CREATE VIEW transfers (build_id, seq, direction, digest, bytes, kind) AS"
    " SELECT b.id, CASE WHEN p.positions IS NULL THEN j.key"
    "  ELSE json_extract(p.positions, '$[' || j.key || ']') END,"
    " i.direction, i.digest, i.bytes, i.kind"
    " FROM builds b JOIN transfer_packs p ON p.id = b.transfer_list"
    " JOIN json_each(p.items) j JOIN transfer_items i ON i.id = j.value;"
    /* A view reads a build's list, then each of its items: with a client's
     * default 2 MB page cache, a query over every build of a long replay
     * reads the items' pages from the file again and again (47 s instead
     * of 5 s for the long-Dockerfile bench file).  The file suggests 4096
     * pages to every client that sets no cache size of its own. */
    "PRAGMA default_cache_size = 4096;"
    "PRAGMA user_version = 7;",
};

_Static_assert(STORE_APPLICATION_ID == 1213353555, "migrations[0] sets it");
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
                   STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* Prepared statements, indexes into struct store's stmt[]. */
enum {
    Q_RUN_INSERT,
    Q_RUN_FIND,
    Q_COMMIT_PUT,
    Q_BUILD_DONE,
    Q_BUILD_PUT,
    Q_NEXT_IDS,
    Q_STEP_ITEM_PUT,
    Q_STEP_PACK_PUT,
    Q_XFER_ITEM_PUT,
    Q_XFER_PACK_PUT,
    Q_SUMMARY,
    Q_BEGIN,
    Q_COMMIT,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_REAL_BUILD_PUT,
    Q_REAL_STEP_PUT,
    Q_SIM_BUILD_GET,
    Q_SIM_STEPS_GET,
    Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    [Q_RUN_INSERT] = "INSERT INTO runs (started, repo, dockerfile, options,"
                     " tool_version) VALUES (?, ?, ?, ?, ?)"
                     " ON CONFLICT DO NOTHING",
    [Q_RUN_FIND] = "SELECT id FROM runs WHERE repo = ? AND dockerfile = ?"
                   " AND options = ?",
    [Q_COMMIT_PUT] = "INSERT OR IGNORE INTO commits (sha, parents,"
                     " author_time, subject) VALUES (?, ?, ?, ?)",
    [Q_BUILD_DONE] = "SELECT 1 FROM builds WHERE run_id = ? AND strategy = ?"
                     " AND commit_sha = ?",
    [Q_BUILD_PUT] = "INSERT OR FAIL INTO builds (id, run_id, commit_sha, seq,"
                    " strategy, builder, status, seconds, bytes_pulled,"
                    " bytes_pushed, steps_hit, steps_miss, error,"
                    " registry_bytes, cache_bytes, step_list, transfer_list,"
                    " pull_seconds, push_seconds)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?, ?, ?, ?)",
    /* Inside the write transaction, so no other writer takes these. */
    [Q_NEXT_IDS] = "SELECT (SELECT coalesce(max(id), 0) + 1 FROM builds),"
                   " (SELECT coalesce(max(id), 0) + 1 FROM step_packs),"
                   " (SELECT coalesce(max(id), 0) + 1 FROM step_items),"
                   " (SELECT coalesce(max(id), 0) + 1 FROM transfer_packs),"
                   " (SELECT coalesce(max(id), 0) + 1 FROM transfer_items)",
    [Q_STEP_ITEM_PUT] = "INSERT OR FAIL INTO step_items (id, stage, line,"
                        " instruction, outcome, seconds, layer_bytes,"
                        " bytes_pulled, reason)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [Q_STEP_PACK_PUT] = "INSERT OR FAIL INTO step_packs (id, items, positions)"
                        " VALUES (?, ?, ?)",
    [Q_XFER_ITEM_PUT] =
        "INSERT OR FAIL INTO transfer_items (id, direction, digest,"
        " bytes, kind) VALUES (?, ?, ?, ?, ?)",
    [Q_XFER_PACK_PUT] =
        "INSERT OR FAIL INTO transfer_packs (id, items, positions)"
        " VALUES (?, ?, ?)",
    [Q_SUMMARY] = "SELECT strategy, count(*), sum(status = 'ok'),"
                  " sum(steps_hit), sum(steps_miss), total(seconds),"
                  " sum(bytes_pulled), sum(bytes_pushed),"
                  " total(pull_seconds), total(push_seconds),"
                  " (SELECT registry_bytes FROM builds l WHERE l.run_id ="
                  "  b.run_id AND l.strategy = b.strategy ORDER BY seq DESC"
                  "  LIMIT 1),"
                  " (SELECT cache_bytes FROM builds l WHERE l.run_id ="
                  "  b.run_id AND l.strategy = b.strategy ORDER BY seq DESC"
                  "  LIMIT 1)"
                  " FROM builds b WHERE run_id = ?"
                  " GROUP BY strategy ORDER BY min(id)",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_SAVEPOINT] = "SAVEPOINT build",
    [Q_RELEASE] = "RELEASE build",
    [Q_ROLLBACK_TO] = "ROLLBACK TO build",
    [Q_REAL_BUILD_PUT] = "INSERT INTO real_builds (run_id, commit_sha,"
                         " strategy, status, seconds, bytes_pulled,"
                         " bytes_pushed, log_path, pull_seconds,"
                         " push_seconds)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [Q_REAL_STEP_PUT] = "INSERT INTO real_steps (real_build_id, line,"
                        " instruction, outcome, seconds)"
                        " VALUES (?, ?, ?, ?, ?)",
    [Q_SIM_BUILD_GET] = "SELECT id, seq, status, seconds, bytes_pulled,"
                        " bytes_pushed, pull_seconds, push_seconds"
                        " FROM builds WHERE run_id = ?"
                        " AND strategy = ? AND commit_sha = ?",
    [Q_SIM_STEPS_GET] = "SELECT line, stage, instruction, outcome, seconds"
                        " FROM steps WHERE build_id = ? ORDER BY step_index",
};

/*
 * Rows are inserted many per statement: per-statement work, not row work,
 * dominated a replay's writes.  An inserter repeats a one-row INSERT's
 * value tuple; st[k] inserts 1 << k rows and is prepared when first used,
 * so n rows take n / 64 statements of 64 rows and one per bit set in
 * n % 64.  Their INSERTs say OR FAIL: a statement of many rows that may
 * abort keeps a journal of every page it changes, to undo its own rows
 * (a seventh of a long replay's time), while the caller already rolls
 * back the whole savepoint or batch on any error.
 */
#define ROW_SIZES 7 /* 1 to 64 rows per statement */
/* Room for a row's text that must live until its statement has run: a
 * digest formatted from its bytes. */
#define ROW_SCRATCH (7 + SHA256_HEX)

struct inserter {
    int query; /* the one-row INSERT in queries[] */
    int cols;
    /*
     * Rows per statement at most, as 1 << max_k.  builds takes one: its
     * CHECK (length(commit_sha) = 40) calls a function, which SQLite
     * assumes may fail, so a statement writing several rows of it opened
     * a statement journal and copied every page it touched there (an
     * eighth of the writer's instructions), whatever the OR FAIL.  A
     * one-row statement needs none: it cannot fail halfway.
     */
    int max_k;
    sqlite3_stmt *st[ROW_SIZES];
};

enum {
    INS_BUILDS,
    INS_STEP_ITEMS,
    INS_STEP_PACKS,
    INS_XFER_ITEMS,
    INS_XFER_PACKS,
    INS_COUNT
};

/* What a store shares between builds (schema 5): lists and their items. */
enum { SH_STEP_LIST, SH_STEP_ITEM, SH_XFER_LIST, SH_XFER_ITEM, SH_COUNT };

/* The next free ids, read inside the write transaction. */
struct next_ids {
    int64_t build, step_list, step_item, xfer_list, xfer_item;
};

struct store {
    sqlite3 *db;
    struct inserter ins[INS_COUNT];
    char scratch[1 << (ROW_SIZES - 1)][ROW_SCRATCH]; /* see bind_row_fn */
    /* key -> int64_t id of what this process stored (see share_forget) */
    struct dmap share[SH_COUNT];
    struct dmap share_old[SH_COUNT]; /* the older generation */
    /* the last step list stored for each (run, strategy): see step_slot */
    struct step_slot *slots;
    size_t nslots;
    /* next free ids, known from the first put of a batch on: nobody else
     * writes inside our transaction */
    struct next_ids next;
    int next_known;
    unsigned char (*xkeys)[DMAP_KEY]; /* a transfer list's item keys */
    size_t xkcap;
    char *path;
    sqlite3_stmt *stmt[Q_COUNT];
    int in_batch;
    double batch_started; /* CLOCK_MONOTONIC seconds */
    double interval;
    struct checkpointer *ck; /* NULL: SQLite checkpoints on commit */
};

/* ---- enum tables ---- */

static void share_forget(struct store *s);

static const char *const status_names[] = { "ok", "failed" };
static const char *const outcome_names[] = { "hit", "miss", "none", "skipped" };
static const char *const direction_names[] = { "pull", "push" };
static const char *const kind_names[] = { "layer", "config", "manifest",
                                          "cache" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : "?";
}

static int parse_of(const char *const *names, size_t n, const char *s,
                    unsigned *out)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(names[i], s)) {
            *out = (unsigned)i;
            return 0;
        }
    return ERR_INVALID;
}

const char *store_status_name(enum store_status s)
{
    return name_of(status_names, NELEM(status_names), s);
}

int store_status_parse(const char *s, enum store_status *out)
{
    unsigned v;
    int rc = parse_of(status_names, NELEM(status_names), s, &v);
    if (!rc)
        *out = (enum store_status)v;
    return rc;
}

const char *store_outcome_name(enum store_outcome o)
{
    return name_of(outcome_names, NELEM(outcome_names), o);
}

int store_outcome_parse(const char *s, enum store_outcome *out)
{
    unsigned v;
    int rc = parse_of(outcome_names, NELEM(outcome_names), s, &v);
    if (!rc)
        *out = (enum store_outcome)v;
    return rc;
}

const char *store_direction_name(enum store_direction d)
{
    return name_of(direction_names, NELEM(direction_names), d);
}

int store_direction_parse(const char *s, enum store_direction *out)
{
    unsigned v;
    int rc = parse_of(direction_names, NELEM(direction_names), s, &v);
    if (!rc)
        *out = (enum store_direction)v;
    return rc;
}

const char *store_kind_name(enum store_kind k)
{
    return name_of(kind_names, NELEM(kind_names), k);
}

int store_kind_parse(const char *s, enum store_kind *out)
{
    unsigned v;
    int rc = parse_of(kind_names, NELEM(kind_names), s, &v);
    if (!rc)
        *out = (enum store_kind)v;
    return rc;
}

/* ---- helpers ---- */

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int db_error(struct store *s, struct err *err)
{
    return err_set(err, ERR_DB, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

/* Run st to its end and reset it, keeping its bindings (for a caller that
 * binds every parameter before each run). */
static int step_run(struct store *s, sqlite3_stmt *st, struct err *err)
{
    int rc = sqlite3_step(st);
    int ret = 0;

    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = db_error(s, err);
    sqlite3_reset(st);
    return ret;
}

/* Run a statement that returns no rows we need; reset it after. */
static int step_done(struct store *s, sqlite3_stmt *st, struct err *err)
{
    int ret = step_run(s, st, err);

    sqlite3_clear_bindings(st);
    return ret;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int is_sha(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < 40; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[40] == '\0';
}

/* Read one integer from a PRAGMA or query without parameters. */
static int query_int(struct store *s, const char *sql, int64_t *out,
                     struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *out = 0;
    else {
        db_error(s, err);
        sqlite3_finalize(st);
        return err->code;
    }
    sqlite3_finalize(st);
    return 0;
}

static int exec(struct store *s, const char *sql, struct err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, err);
    return 0;
}

/*
 * exec(), retried while another process holds a lock that SQLite will not
 * wait for.  Switching a fresh file to WAL and creating the schema need
 * the lock beyond a read transaction; when two processes open a new file
 * at once, SQLite returns SQLITE_BUSY at once to one of them (waiting
 * could deadlock), so the busy timeout alone does not cover it.
 */
static int exec_retry(struct store *s, const char *sql, struct err *err)
{
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    int waited_ms = 0, rc;

    for (;;) {
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
            waited_ms >= BUSY_TIMEOUT_MS)
            return db_error(s, err);
        nanosleep(&pause, NULL);
        waited_ms += 20;
    }
}

/* ---- open ---- */

/*
 * Refuse a non-empty file that does not start with the SQLite header
 * before SQLite sees it: SQLite would only say "file is not a database"
 * later, and this gives the same message for every foreign file.
 */
static int check_header(const char *path, struct err *err)
{
    static const char magic[16] = "SQLite format 3";
    char head[16];
    struct stat st;
    FILE *f;
    size_t n;

    if (!strcmp(path, ":memory:") || stat(path, &st) < 0 || st.st_size == 0)
        return 0;
    f = fopen(path, "rb");
    if (!f)
        return err_set(err, ERR_DB, "%s: cannot read the database", path);
    n = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (n < sizeof(head) || memcmp(head, magic, sizeof(head)))
        return err_set(err, ERR_DB, "%s: not a harness database", path);
    return 0;
}

/*
 * Decide from application_id, user_version and the number of schema
 * objects whether the file is ours.  Sets *version (0 for an empty file).
 */
static int check_identity(struct store *s, int64_t *version, struct err *err)
{
    int64_t app, objects;
    int own_txn = sqlite3_get_autocommit(s->db);

    /* One read transaction, so the three answers come from one snapshot
     * even while another process is creating the schema. */
    if (own_txn && exec(s, "BEGIN", err))
        return err->code;
    if (query_int(s, "PRAGMA application_id", &app, err) ||
        query_int(s, "PRAGMA user_version", version, err) ||
        query_int(s, "SELECT count(*) FROM sqlite_schema", &objects, err)) {
        if (own_txn)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err->code;
    }
    if (own_txn && exec(s, "COMMIT", err))
        return err->code;
    if (app == 0 && *version == 0 && objects == 0)
        return 0; /* a new, empty database */
    if (app != STORE_APPLICATION_ID || *version <= 0) {
        err_set(err, ERR_DB, "%s: not a harness database", s->path);
        err_hint(err, "give another file with --db");
        return err->code;
    }
    if (*version > STORE_SCHEMA_VERSION) {
        err_set(err, ERR_DB,
                "%s: written by a newer harness (schema %lld, this one knows "
                "%d)",
                s->path, (long long)*version, STORE_SCHEMA_VERSION);
        err_hint(err, "upgrade harness or give another file with --db");
        return err->code;
    }
    return 0;
}

static int migrate(struct store *s, struct err *err)
{
    int64_t version;

    if (exec_retry(s, "BEGIN IMMEDIATE", err))
        return err->code;
    /* Again, now that we hold the write lock: another process may have
     * created the schema meanwhile. */
    if (check_identity(s, &version, err))
        goto fail;
    for (; version < STORE_SCHEMA_VERSION; version++) {
        if (exec(s, migrations[version], err))
            goto fail;
    }
    return exec(s, "COMMIT", err);
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err->code;
}

int store_open(struct store **out, const char *path, struct err *err)
{
    struct store *s = NULL;
    int64_t version;
    struct stat st;
    /* A store is used by one thread at a time (a replay hands it to its
     * writer thread), so neither the connection nor SQLite's allocator
     * need a mutex on every call. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    static int configured;
    size_t i;

    *out = NULL;
    if (!configured) {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* before first use */
        configured = 1;
    }
    if (check_header(path, err))
        return err->code;
    if (strcmp(path, ":memory:") && stat(path, &st) < 0)
        flags |= SQLITE_OPEN_CREATE;
    s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    s->interval = 1.0;
    for (i = 0; i < SH_COUNT; i++) {
        dmap_init(&s->share[i], sizeof(int64_t));
        dmap_init(&s->share_old[i], sizeof(int64_t));
    }
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        if (!s->db) {
            err_set(err, ERR_DB, "%s: cannot open the database", path);
            goto fail;
        }
        db_error(s, err);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* Read-only checks first: nothing is written to a foreign file. */
    if (check_identity(s, &version, err))
        goto fail;
    /* 16 KiB pages (for a new file; an existing one keeps its own): a
     * replay writes every page to the WAL and again at each checkpoint,
     * one system call per page, and 4 KiB pages made that 95,000 calls. */
    if (exec_retry(s,
             "PRAGMA page_size = 16384;"
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
             "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY",
             err))
        goto fail;
    if (version < STORE_SCHEMA_VERSION && migrate(s, err))
        goto fail;
    /* The writer's own page cache, after the migrations: migration 7 sets
     * the file's default for readers (64 MB), which would be this
     * connection's too and raise a replay's peak memory by as much.  16 MB,
     * not 8: a commit's builds and its commits row land on random leaves
     * of two indexes (the key leads with the sha), which an 8 MB cache
     * dropped and read again (19,000 reads and 37,000 writes of 16 KiB
     * pages on the long-Dockerfile replay; 15,000 and 31,000 with 16 MB). */
    if (exec_retry(s, "PRAGMA cache_size = -16384", err))
        goto fail;
    for (i = 0; i < Q_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->stmt[i], NULL) != SQLITE_OK) {
            db_error(s, err);
            goto fail;
        }
    s->ins[INS_BUILDS] = (struct inserter){ Q_BUILD_PUT, 19, 0, { NULL } };
    s->ins[INS_STEP_ITEMS] =
        (struct inserter){ Q_STEP_ITEM_PUT, 9, ROW_SIZES - 1, { NULL } };
    s->ins[INS_STEP_PACKS] =
        (struct inserter){ Q_STEP_PACK_PUT, 3, ROW_SIZES - 1, { NULL } };
    s->ins[INS_XFER_ITEMS] =
        (struct inserter){ Q_XFER_ITEM_PUT, 5, ROW_SIZES - 1, { NULL } };
    s->ins[INS_XFER_PACKS] =
        (struct inserter){ Q_XFER_PACK_PUT, 3, ROW_SIZES - 1, { NULL } };
    *out = s;
    return 0;
fail:
    store_close(s);
    return err->code;
}

void store_close(struct store *s)
{
    size_t i;

    if (!s)
        return;
    if (s->in_batch)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    store_checkpoints_stop(s);
    for (i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (i = 0; i < sizeof(s->ins) / sizeof(s->ins[0]); i++)
        for (int k = 0; k < ROW_SIZES; k++)
            sqlite3_finalize(s->ins[i].st[k]);
    sqlite3_close(s->db);
    share_forget(s);
    free(s->xkeys);
    free(s->path);
    free(s);
}

int store_schema_version(struct store *s)
{
    int64_t v = 0;
    struct err err = ERR_INIT;

    if (query_int(s, "PRAGMA user_version", &v, &err))
        return err.code;
    return (int)v;
}

/* ---- runs and commits ---- */

int store_run_find_or_create(struct store *s, const struct store_run *run,
                             int64_t *run_id, int *resumed, struct err *err)
{
    sqlite3_stmt *ins = s->stmt[Q_RUN_INSERT];
    sqlite3_stmt *find = s->stmt[Q_RUN_FIND];
    int created, rc;

    sqlite3_bind_int64(ins, 1, run->started ? run->started : time(NULL));
    bind_text(ins, 2, run->repo ? run->repo : "");
    bind_text(ins, 3, run->dockerfile ? run->dockerfile : "");
    bind_text(ins, 4, run->options ? run->options : "{}");
    bind_text(ins, 5, run->tool_version ? run->tool_version : "");
    if (step_done(s, ins, err))
        return err->code;
    created = sqlite3_changes(s->db) > 0;

    bind_text(find, 1, run->repo ? run->repo : "");
    bind_text(find, 2, run->dockerfile ? run->dockerfile : "");
    bind_text(find, 3, run->options ? run->options : "{}");
    rc = sqlite3_step(find);
    if (rc == SQLITE_ROW)
        *run_id = sqlite3_column_int64(find, 0);
    else
        db_error(s, err);
    sqlite3_reset(find);
    sqlite3_clear_bindings(find);
    if (rc != SQLITE_ROW)
        return err->code ? err->code : ERR_DB;
    *resumed = !created;
    return 0;
}

int store_commit_put(struct store *s, const struct store_commit *c,
                     struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_COMMIT_PUT];

    if (!is_sha(c->sha))
        return err_set(err, ERR_INVALID, "%s: malformed commit id '%s'",
                       s->path, c->sha ? c->sha : "");
    bind_text(st, 1, c->sha);
    bind_text(st, 2, c->parents ? c->parents : "");
    sqlite3_bind_int64(st, 3, c->author_time);
    bind_text(st, 4, c->subject ? c->subject : "");
    return step_done(s, st, err);
}

/* ---- builds ---- */

int store_build_done(struct store *s, int64_t run_id, const char *strategy,
                     const char *commit_sha, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_BUILD_DONE];
    int rc;

    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, strategy);
    bind_text(st, 3, commit_sha);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        db_error(s, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : err->code;
}

int store_batch_begin(struct store *s, struct err *err)
{
    if (s->in_batch)
        return 0;
    if (step_done(s, s->stmt[Q_BEGIN], err))
        return err->code;
    s->in_batch = 1;
    s->next_known = 0; /* other writers may have taken ids since */
    s->batch_started = now_monotonic();
    return 0;
}

int store_batch_commit(struct store *s, struct err *err)
{
    if (!s->in_batch)
        return 0;
    if (step_done(s, s->stmt[Q_COMMIT], err))
        return err->code; /* still in the batch; the caller may retry */
    s->in_batch = 0;
    return 0;
}

int store_batch_maybe_commit(struct store *s, struct err *err)
{
    if (!s->in_batch || now_monotonic() - s->batch_started < s->interval)
        return 0;
    return store_batch_commit(s, err);
}

void store_batch_interval(struct store *s, double seconds)
{
    s->interval = seconds < 0 ? 0 : seconds;
}

/* ---- checkpoints in the background ---- */

struct checkpointer {
    sqlite3 *db; /* its own connection: used by its thread alone */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int pages; /* in the log after a commit, to start one */
    int due, stop;
};

/* The writing connection's hook after each commit, on its thread. */
static int checkpoint_hook(void *arg, sqlite3 *db, const char *name,
                           int pages)
{
    struct checkpointer *ck = arg;

    (void)db;
    (void)name;
    if (pages >= ck->pages) {
        pthread_mutex_lock(&ck->mu);
        ck->due = 1;
        pthread_cond_signal(&ck->wake);
        pthread_mutex_unlock(&ck->mu);
    }
    return SQLITE_OK;
}

/*
 * A passive checkpoint copies what is committed and never blocks the
 * writer, which goes on appending to the log meanwhile; the log starts
 * over once a checkpoint has copied all of it.  A checkpoint that fails
 * (another process reading, say) leaves the log longer, as SQLite's own
 * would: the next one or the last connection's close copies it.
 */
static void *checkpoint_main(void *arg)
{
    struct checkpointer *ck = arg;

    pthread_mutex_lock(&ck->mu);
    for (;;) {
        while (!ck->due && !ck->stop)
            pthread_cond_wait(&ck->wake, &ck->mu);
        if (ck->stop)
            break; /* what is left, store_close() checkpoints */
        ck->due = 0;
        pthread_mutex_unlock(&ck->mu);
        sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                  NULL, NULL);
        pthread_mutex_lock(&ck->mu);
    }
    pthread_mutex_unlock(&ck->mu);
    return NULL;
}

void store_checkpoints_start(struct store *s, int pages)
{
    struct checkpointer *ck;

    if (s->ck || !strcmp(s->path, ":memory:"))
        return;
    ck = xcalloc(1, sizeof(*ck));
    ck->pages = pages > 0 ? pages : 1;
    if (sqlite3_open_v2(s->path, &ck->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sqlite3_close(ck->db);
        free(ck);
        return;
    }
    sqlite3_busy_timeout(ck->db, BUSY_TIMEOUT_MS);
    /* A connection learns that the file is in WAL mode when it first
     * reads it; until then a checkpoint does nothing. */
    if (sqlite3_exec(ck->db, "PRAGMA schema_version", NULL, NULL, NULL) !=
        SQLITE_OK) {
        sqlite3_close(ck->db);
        free(ck);
        return;
    }
    pthread_mutex_init(&ck->mu, NULL);
    pthread_cond_init(&ck->wake, NULL);
    if (pthread_create(&ck->thread, NULL, checkpoint_main, ck) != 0) {
        pthread_cond_destroy(&ck->wake);
        pthread_mutex_destroy(&ck->mu);
        sqlite3_close(ck->db);
        free(ck);
        return;
    }
    /* replaces SQLite's hook that checkpoints on commit */
    sqlite3_wal_hook(s->db, checkpoint_hook, ck);
    s->ck = ck;
}

void store_checkpoints_stop(struct store *s)
{
    struct checkpointer *ck = s->ck;

    if (!ck)
        return;
    pthread_mutex_lock(&ck->mu);
    ck->stop = 1;
    pthread_cond_signal(&ck->wake);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->thread, NULL);
    sqlite3_wal_autocheckpoint(s->db, STORE_CHECKPOINT_PAGES);
    sqlite3_close(ck->db);
    pthread_cond_destroy(&ck->wake);
    pthread_mutex_destroy(&ck->mu);
    free(ck);
    s->ck = NULL;
}

/*
 * Sharing (schema 5).  Each distinct step and transfer is stored once as
 * an item, each distinct list of them once as a row of item ids, and every
 * build that has the same list points at it.  Items are known by the
 * SHA-256 of their contents (a transfer of a sha256 digest by the digest's
 * own bytes, see xfer_item_key), step lists by their items' ids and
 * transfer lists by their contents.  The maps hold what this process
 * has stored, and are only a cache of the file: what they do not know is
 * stored again under a new id, which costs space and never changes what
 * the views show.  So they are emptied whenever a batch rolls back, and
 * hold two generations: when the current one reaches SHARE_GENERATION
 * entries it becomes the older one, the older one is dropped, and a key
 * found in the older one moves to the current one.  What recent commits
 * stored stays known, and a long replay's maps stay bounded.  Another
 * process writing the same file takes its ids after
 * ours (ids are read inside each write transaction) and never changes
 * stored rows.
 */
#define SHARE_GENERATION ((size_t)1 << 11)

/* Items are keyed, their map slots prefetched, then looked up, this many
 * at a time: the lookups of one list then wait for memory once. */
#define KEY_CHUNK 16

/* Slots kept at most (a replay needs one per strategy). */
#define SLOT_MAX 64

/*
 * A strategy's builds of consecutive commits mostly repeat each other's
 * steps: a slot keeps the last list stored for one (run, strategy), its
 * steps and their item ids, so that only the steps that changed are
 * hashed, and a list is known by its item ids (a few bytes a step, not
 * the step's text).  Like the maps, slots only name what is in the file,
 * and are emptied when a batch rolls back.
 */
struct step_slot {
    int64_t run_id;
    char *strategy;
    struct store_step *steps; /* texts owned (xstrdup) */
    int64_t *items;
    size_t n, cap;
    int64_t list; /* 0: none yet */
};

static void slot_clear(struct step_slot *sl)
{
    for (size_t j = 0; j < sl->n; j++) {
        free((char *)sl->steps[j].instruction);
        free((char *)sl->steps[j].reason);
    }
    sl->n = 0;
    sl->list = 0;
}

static void share_forget(struct store *s)
{
    for (int i = 0; i < SH_COUNT; i++) {
        dmap_release(&s->share[i]);
        dmap_release(&s->share_old[i]);
    }
    for (size_t i = 0; i < s->nslots; i++) {
        slot_clear(&s->slots[i]);
        free(s->slots[i].strategy);
        free(s->slots[i].steps);
        free(s->slots[i].items);
    }
    free(s->slots);
    s->slots = NULL;
    s->nslots = 0;
    s->next_known = 0;
}

/* The current generation becomes the older one; the new current one
 * takes the dropped one's table (emptied), which has the size a
 * generation grows to: a fresh one grew from 64 slots each time, which
 * with its page faults cost a long replay's writer 6% of its time. */
static void share_trim(struct store *s)
{
    for (int i = 0; i < SH_COUNT; i++)
        if (s->share[i].n >= SHARE_GENERATION) {
            struct dmap dropped = s->share_old[i];
            s->share_old[i] = s->share[i];
            dmap_clear(&dropped);
            s->share[i] = dropped;
        }
}

/* A string field: present or NULL, then its bytes and a terminator. */
static void hash_text(struct sha256 *c, const char *v)
{
    unsigned char present = v != NULL;

    sha256_update(c, &present, 1);
    if (v)
        sha256_field(c, v);
}

/* Append a string field as hash_text() hashes it; 0 if it does not fit. */
static size_t put_text(unsigned char *buf, size_t at, size_t cap,
                       const char *v)
{
    size_t len = v ? strlen(v) + 1 : 0;

    if (at + 1 + len > cap)
        return 0;
    buf[at++] = v != NULL;
    memcpy(buf + at, v ? v : "", len);
    return at + len;
}

/* A step without its position: what a step item holds.  Serialized into
 * one buffer when it fits: a call per field cost as much as the hashing. */
static void hash_step(struct sha256 *c, const struct store_step *p)
{
    int64_t f[6] = { p->stage, p->line, p->outcome, 0, p->layer_bytes,
                     p->bytes_pulled };
    unsigned char buf[512];
    size_t at;

    memcpy(&f[3], &p->seconds, sizeof(p->seconds));
    memcpy(buf, f, sizeof(f));
    at = put_text(buf, sizeof(f), sizeof(buf), p->instruction);
    if (at)
        at = put_text(buf, at, sizeof(buf), p->reason);
    if (at) {
        sha256_update(c, buf, at);
        return;
    }
    sha256_update(c, f, sizeof(f));
    hash_text(c, p->instruction);
    hash_text(c, p->reason);
}

static void hash_transfer(struct sha256 *c, const struct store_transfer *t)
{
    int64_t f[4] = { t->direction, t->bytes, t->kind, t->sha256 != NULL };

    sha256_update(c, f, sizeof(f));
    if (t->sha256)
        sha256_update(c, t->sha256, SHA256_LEN);
    else
        hash_text(c, t->digest ? t->digest : "");
}

/* The digest text of a transfer, formatted into buf when given as bytes. */
static const char *xfer_digest(const struct store_transfer *t,
                               char buf[7 + SHA256_HEX])
{
    if (!t->sha256)
        return t->digest ? t->digest : "";
    memcpy(buf, "sha256:", 7);
    sha256_hex(t->sha256, buf + 7);
    return buf;
}

/*
 * The key of a transfer whose digest is given as its 32 bytes, or as
 * "sha256:" and 64 lowercase hex digits, without hashing: those bytes with
 * direction, kind and size packed into the first 8 (size < 2^60).
 * Distinct transfers get distinct keys: for one digest the packing is
 * one-to-one, and two digests would have to agree in their other 24
 * bytes.  Returns 0 for any other transfer, which is hashed instead (a
 * SHA-256 never equals one of these keys in practice).
 */
static int xfer_item_key(const struct store_transfer *t,
                         unsigned char key[DMAP_KEY])
{
    const char *d = t->digest;
    uint64_t head, pack;

    if (t->bytes < 0 || (uint64_t)t->bytes >> 60 ||
        (unsigned)t->direction > 1 || (unsigned)t->kind > 3)
        return 0;
    if (t->sha256)
        memcpy(key, t->sha256, DMAP_KEY);
    else if (!d || strncmp(d, "sha256:", 7) || sha256_from_hex(d + 7, key))
        return 0;
    pack = (uint64_t)t->bytes << 3 | (uint64_t)t->kind << 1 |
           (uint64_t)t->direction;
    memcpy(&head, key, sizeof(head));
    head ^= pack;
    memcpy(key, &head, sizeof(head));
    return 1;
}

/* Whether n steps p stand at positions 0, 1, 2, ... (a replay's always
 * do): then a list needs only its item ids. */
static int positions_implied(const struct store_step *p, size_t n)
{
    size_t j;

    for (j = 0; j < n && p[j].step_index == (int64_t)j; j++)
        ;
    return j == n;
}

/* A list of steps by its items: their ids when the positions are implied
 * (implied, see positions_implied), else each step's position and item id; a
 * first byte tells the two apart.  Half the bytes to hash of pairs. */
static void step_list_key(const struct store_step *p, const int64_t *items,
                          size_t n, int implied, unsigned char key[DMAP_KEY])
{
    int64_t pair[2 * KEY_CHUNK];
    struct sha256 c;
    unsigned char form = implied != 0;

    sha256_init(&c);
    sha256_update(&c, &form, 1);
    if (form) {
        sha256_update(&c, items, n * sizeof(*items));
        sha256_final(&c, key);
        return;
    }
    for (size_t j0 = 0; j0 < n; j0 += KEY_CHUNK) {
        size_t k, nk = n - j0 < KEY_CHUNK ? n - j0 : KEY_CHUNK;
        for (k = 0; k < nk; k++) {
            pair[2 * k] = p[j0 + k].step_index;
            pair[2 * k + 1] = items[j0 + k];
        }
        sha256_update(&c, pair, nk * 2 * sizeof(pair[0]));
    }
    sha256_final(&c, key);
}

/* A transfer's item key: see xfer_item_key, else the hash of it. */
static void xfer_key(const struct store_transfer *t,
                     unsigned char key[DMAP_KEY])
{
    struct sha256 c;

    if (xfer_item_key(t, key))
        return;
    sha256_init(&c);
    hash_transfer(&c, t);
    sha256_final(&c, key);
}

/* A list of transfers by its items' keys (into keys, for the list's
 * items if it is new): 32 bytes a transfer to hash, not 64. */
static void xfer_list_key(const struct store_transfer *t, size_t n,
                          unsigned char (*keys)[DMAP_KEY],
                          unsigned char key[DMAP_KEY])
{
    struct sha256 c;

    for (size_t i = 0; i < n; i++)
        xfer_key(&t[i], keys[i]);
    sha256_init(&c);
    sha256_update(&c, keys, n * sizeof(*keys));
    sha256_final(&c, key);
}

/* One row to insert: its id (a build's, a list's or an item's), the
 * item, and the ids it points at (a list's row: see bind_pack). */
struct row_ref {
    int64_t id;
    int64_t seq;
    const void *item;
    int64_t a, b; /* builds: step and transfer list */
};

/* Bind row r as the row whose first parameter follows base; scratch
 * (ROW_SCRATCH bytes) is the row's own until its statement has run. */
typedef void bind_row_fn(sqlite3_stmt *st, int base, const struct row_ref *r,
                         char *scratch);

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

static void bind_build(sqlite3_stmt *st, int base, const struct row_ref *r,
                       char *scratch)
{
    const struct store_build *b = r->item;

    (void)scratch;
    sqlite3_bind_int64(st, base + 1, r->id);
    sqlite3_bind_int64(st, base + 2, b->run_id);
    bind_text(st, base + 3, b->commit_sha);
    sqlite3_bind_int64(st, base + 4, b->seq);
    bind_text(st, base + 5, b->strategy ? b->strategy : "");
    bind_text(st, base + 6, b->builder ? b->builder : "");
    bind_text(st, base + 7, store_status_name(b->status));
    sqlite3_bind_double(st, base + 8, b->seconds);
    sqlite3_bind_int64(st, base + 9, b->bytes_pulled);
    sqlite3_bind_int64(st, base + 10, b->bytes_pushed);
    sqlite3_bind_int64(st, base + 11, b->steps_hit);
    sqlite3_bind_int64(st, base + 12, b->steps_miss);
    bind_text(st, base + 13, b->error);
    if (b->registry_bytes >= 0)
        sqlite3_bind_int64(st, base + 14, b->registry_bytes);
    else
        sqlite3_bind_null(st, base + 14);
    if (b->cache_bytes >= 0)
        sqlite3_bind_int64(st, base + 15, b->cache_bytes);
    else
        sqlite3_bind_null(st, base + 15);
    bind_id(st, base + 16, r->a);
    bind_id(st, base + 17, r->b);
    sqlite3_bind_double(st, base + 18, b->pull_seconds);
    sqlite3_bind_double(st, base + 19, b->push_seconds);
}

static void bind_step_item(sqlite3_stmt *st, int base, const struct row_ref *r,
                           char *scratch)
{
    const struct store_step *p = r->item;

    (void)scratch;
    sqlite3_bind_int64(st, base + 1, r->id);
    sqlite3_bind_int64(st, base + 2, p->stage);
    sqlite3_bind_int64(st, base + 3, p->line);
    bind_text(st, base + 4, p->instruction ? p->instruction : "");
    bind_text(st, base + 5, store_outcome_name(p->outcome));
    sqlite3_bind_double(st, base + 6, p->seconds);
    sqlite3_bind_int64(st, base + 7, p->layer_bytes);
    sqlite3_bind_int64(st, base + 8, p->bytes_pulled);
    bind_text(st, base + 9, p->reason);
}

/* The digest goes in the row's scratch, not copied by SQLite (a malloc
 * and a free for each new transfer). */
static void bind_xfer_item(sqlite3_stmt *st, int base, const struct row_ref *r,
                           char *scratch)
{
    const struct store_transfer *t = r->item;

    sqlite3_bind_int64(st, base + 1, r->id);
    bind_text(st, base + 2, store_direction_name(t->direction));
    sqlite3_bind_text(st, base + 3, xfer_digest(t, scratch), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 4, t->bytes);
    bind_text(st, base + 5, store_kind_name(t->kind));
}

/*
 * A row of step_packs or transfer_packs (schema 7): the list's id, its
 * item ids as a JSON array, and its positions as one when they are not
 * 0, 1, 2, ...  The texts are NUL-terminated in one buffer of the caller's
 * (r->item, set once the buffer no longer moves) at offsets r->seq and
 * r->a (-1: no positions, NULL).
 */
static void bind_pack(sqlite3_stmt *st, int base, const struct row_ref *r,
                      char *scratch)
{
    const char *texts = r->item;

    (void)scratch;
    sqlite3_bind_int64(st, base + 1, r->id);
    sqlite3_bind_text(st, base + 2, texts + r->seq, -1, SQLITE_STATIC);
    if (r->a >= 0)
        sqlite3_bind_text(st, base + 3, texts + r->a, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, base + 3);
}

/* The statement of an inserter that inserts 1 << k rows: the one-row
 * INSERT with its value tuple repeated, and what follows the tuple (an
 * ON CONFLICT clause) kept at the end. */
static sqlite3_stmt *inserter_stmt(struct store *s, struct inserter *in, int k,
                                   struct err *err)
{
    const char *one = queries[in->query];
    const char *values = strstr(one, " VALUES ");
    const char *rest = strchr(values, ')') + 1;
    struct buf sql = BUF_INIT;

    if (in->st[k])
        return in->st[k];
    buf_add(&sql, one, (size_t)(values - one));
    buf_adds(&sql, " VALUES ");
    for (int i = 0; i < 1 << k; i++) {
        buf_adds(&sql, i ? ", (?" : "(?");
        for (int j = 1; j < in->cols; j++)
            buf_adds(&sql, ", ?");
        buf_addch(&sql, ')');
    }
    buf_adds(&sql, rest);
    if (sqlite3_prepare_v3(s->db, buf_cstr(&sql), -1,
                           SQLITE_PREPARE_PERSISTENT, &in->st[k],
                           NULL) != SQLITE_OK) {
        db_error(s, err);
        in->st[k] = NULL;
    }
    buf_release(&sql);
    return in->st[k];
}

/* Insert n rows, the largest statements first. */
static int insert_rows(struct store *s, struct inserter *in, bind_row_fn *bind,
                       const struct row_ref *rows, size_t n, struct err *err)
{
    size_t i = 0;

    while (i < n) {
        int k = in->max_k;
        while (((size_t)1 << k) > n - i)
            k--;
        sqlite3_stmt *st = inserter_stmt(s, in, k, err);
        if (!st)
            return err->code;
        for (size_t j = 0; j < (size_t)1 << k; j++)
            bind(st, (int)j * in->cols, &rows[i + j], s->scratch[j]);
        /* every parameter is bound for every row: no clear_bindings */
        if (step_run(s, st, err))
            return err->code;
        i += (size_t)1 << k;
    }
    return 0;
}

/* The id of what key names in map m: known (*created = 0), or the next
 * one (*created = 1). */
static int64_t share_id(struct dmap *m, const struct dmap *old,
                        const unsigned char *key, int64_t *next, int *created)
{
    int64_t *v = dmap_put(m, key, created);

    if (*created) {
        const int64_t *o = old->n ? dmap_get(old, key) : NULL;
        if (o) {
            *v = *o;
            *created = 0;
        } else {
            *v = (*next)++;
        }
    }
    return *v;
}

static int same_text(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Whether two steps are the same item (their positions aside). */
static int same_step_item(const struct store_step *a,
                          const struct store_step *b)
{
    return a->stage == b->stage && a->line == b->line &&
           a->outcome == b->outcome &&
           !memcmp(&a->seconds, &b->seconds, sizeof(a->seconds)) &&
           a->layer_bytes == b->layer_bytes &&
           a->bytes_pulled == b->bytes_pulled &&
           same_text(a->instruction, b->instruction) &&
           same_text(a->reason, b->reason);
}

static int same_steps(const struct store_step *a, const struct store_step *b,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].step_index != b[i].step_index || !same_step_item(&a[i], &b[i]))
            return 0;
    return 1;
}

/* The slot of a build's run and strategy; a new one is empty. */
static struct step_slot *slot_of(struct store *s, const struct store_build *b)
{
    const char *name = b->strategy ? b->strategy : "";
    struct step_slot *sl;

    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].run_id == b->run_id &&
            !strcmp(s->slots[i].strategy, name))
            return &s->slots[i];
    if (s->nslots < SLOT_MAX) {
        s->slots = xrealloc(s->slots, (s->nslots + 1) * sizeof(*s->slots));
        sl = &s->slots[s->nslots++];
        memset(sl, 0, sizeof(*sl));
    } else { /* more strategies than slots: take the oldest's */
        memmove(s->slots, s->slots + 1, (SLOT_MAX - 1) * sizeof(*s->slots));
        sl = &s->slots[SLOT_MAX - 1];
        memset(sl, 0, sizeof(*sl));
    }
    sl->run_id = b->run_id;
    sl->strategy = xstrdup(name);
    return sl;
}

static char *text_dup(const char *v)
{
    return v ? xstrdup(v) : NULL;
}

/* Make sl hold list (n steps p, their items). */
static void slot_set(struct step_slot *sl, const struct store_step *p, size_t n,
                     const int64_t *items, int64_t list)
{
    size_t j;

    if (n > sl->cap) {
        sl->steps = xrealloc(sl->steps, n * sizeof(*sl->steps));
        sl->items = xrealloc(sl->items, n * sizeof(*sl->items));
        sl->cap = n;
    }
    for (j = 0; j < n; j++) {
        struct store_step *q = &sl->steps[j];
        /* an item id names one content: the slot's step is that already */
        if (j < sl->n && sl->items[j] == items[j]) {
            q->step_index = p[j].step_index;
            continue;
        }
        if (j >= sl->n) {
            *q = p[j];
            q->instruction = text_dup(p[j].instruction);
            q->reason = text_dup(p[j].reason);
            continue;
        }
        const char *instruction = q->instruction, *reason = q->reason;
        if (!same_text(instruction, p[j].instruction)) {
            free((char *)instruction);
            instruction = text_dup(p[j].instruction);
        }
        if (!same_text(reason, p[j].reason)) {
            free((char *)reason);
            reason = text_dup(p[j].reason);
        }
        *q = p[j];
        q->instruction = instruction;
        q->reason = reason;
    }
    for (; j < sl->n; j++) {
        free((char *)sl->steps[j].instruction);
        free((char *)sl->steps[j].reason);
    }
    sl->n = n;
    if (items != sl->items)
        memcpy(sl->items, items, n * sizeof(*items));
    sl->list = list;
}

static int same_transfers(const struct store_transfer *a,
                          const struct store_transfer *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].direction != b[i].direction || a[i].bytes != b[i].bytes ||
            a[i].kind != b[i].kind || !a[i].sha256 != !b[i].sha256 ||
            (a[i].sha256 ? memcmp(a[i].sha256, b[i].sha256, SHA256_LEN)
                         : !same_text(a[i].digest, b[i].digest)))
            return 0;
    return 1;
}

/* Rows to insert, grown as needed. */
struct rows {
    struct row_ref *v;
    size_t n, cap;
};

static void rows_add(struct rows *r, struct row_ref ref)
{
    XGROW(r->v, r->cap, r->n + 1);
    r->v[r->n++] = ref;
}

/* The item ids of n steps p into items: the slot's where a step is the
 * same as the slot's at its position, else by hash (the rows of items new
 * to the map go to rows).  Returns 1 if the list is the slot's list. */
static int step_items(struct store *s, const struct step_slot *sl,
                      const struct store_step *p, size_t n,
                      struct next_ids *ids, int64_t *items, struct rows *rows)
{
    unsigned char key[KEY_CHUNK][DMAP_KEY];
    int hashed[KEY_CHUNK];
    struct dmap *m = &s->share[SH_STEP_ITEM];
    struct sha256 c;
    int created, same = sl->list && sl->n == n;

    for (size_t j0 = 0; j0 < n; j0 += KEY_CHUNK) {
        size_t k, nk = n - j0 < KEY_CHUNK ? n - j0 : KEY_CHUNK;
        for (k = 0; k < nk; k++) {
            size_t j = j0 + k;
            hashed[k] = 0;
            if (j < sl->n && same_step_item(&sl->steps[j], &p[j])) {
                items[j] = sl->items[j];
                same = same && sl->steps[j].step_index == p[j].step_index;
                continue;
            }
            same = 0;
            hashed[k] = 1;
            sha256_init(&c);
            hash_step(&c, &p[j]);
            sha256_final(&c, key[k]);
            dmap_prefetch(m, key[k]);
        }
        for (k = 0; k < nk; k++) {
            if (!hashed[k])
                continue;
            items[j0 + k] = share_id(m, &s->share_old[SH_STEP_ITEM], key[k],
                                     &ids->step_item, &created);
            if (created)
                rows_add(rows, (struct row_ref){ items[j0 + k], 0, &p[j0 + k],
                                                 0, 0 });
        }
    }
    return same;
}

/* The list id of n steps p whose items are known; a new list's row goes
 * to packs, its texts to texts. */
static int64_t step_list(struct store *s, const struct store_step *p,
                         const int64_t *items, size_t n, struct next_ids *ids,
                         struct rows *packs, struct buf *texts)
{
    unsigned char key[DMAP_KEY];
    int created, implied = positions_implied(p, n);
    int64_t list;
    size_t j;

    step_list_key(p, items, n, implied, key);
    list = share_id(&s->share[SH_STEP_LIST], &s->share_old[SH_STEP_LIST], key,
                    &ids->step_list, &created);
    if (!created)
        return list;
    struct row_ref pack = { list, (int64_t)idlist_open(texts), NULL, -1, 0 };
    for (j = 0; j < n; j++)
        idlist_add(texts, items[j]);
    idlist_close(texts);
    if (!implied) {
        pack.a = (int64_t)idlist_open(texts);
        for (j = 0; j < n; j++)
            idlist_add(texts, p[j].step_index);
        idlist_close(texts);
    }
    rows_add(packs, pack);
    return list;
}

/* A new list of n transfers t whose item keys are keys: its new items go
 * to items, its row to packs and its text to texts. */
static void add_xfer_list(struct store *s, int64_t list,
                          const struct store_transfer *t,
                          unsigned char (*keys)[DMAP_KEY], size_t n,
                          struct next_ids *ids, struct rows *items,
                          struct rows *packs, struct buf *texts)
{
    struct row_ref pack = { list, (int64_t)idlist_open(texts), NULL, -1, 0 };
    struct dmap *m = &s->share[SH_XFER_ITEM];
    int created;

    for (size_t j0 = 0; j0 < n; j0 += KEY_CHUNK) {
        size_t k, nk = n - j0 < KEY_CHUNK ? n - j0 : KEY_CHUNK;
        for (k = 0; k < nk; k++)
            dmap_prefetch(m, keys[j0 + k]);
        for (k = 0; k < nk; k++) {
            int64_t item = share_id(m, &s->share_old[SH_XFER_ITEM],
                                    keys[j0 + k], &ids->xfer_item, &created);
            if (created)
                rows_add(items, (struct row_ref){ item, 0, &t[j0 + k], 0, 0 });
            idlist_add(texts, item);
        }
    }
    idlist_close(texts);
    rows_add(packs, pack);
}

/* Insert the builds with ids from s->next, which they advance. */
static int put_builds(struct store *s, const struct store_build_rows *v,
                      size_t n, struct err *err)
{
    struct next_ids *ids = &s->next;
    struct rows r[INS_COUNT] = { { NULL, 0, 0 } };
    static bind_row_fn *const bind[INS_COUNT] = {
        [INS_BUILDS] = bind_build,
        [INS_STEP_ITEMS] = bind_step_item,
        [INS_STEP_PACKS] = bind_pack,
        [INS_XFER_ITEMS] = bind_xfer_item,
        [INS_XFER_PACKS] = bind_pack,
    };
    struct buf texts = BUF_INIT; /* of the packs */
    unsigned char key[DMAP_KEY];
    int rc = 0, created;
    size_t i;

    size_t total = 0, *at = xcalloc(n + 1, sizeof(*at));
    for (i = 0; i < n; i++) {
        at[i] = total;
        total += v[i].nsteps;
    }
    int64_t *items = xcalloc(total + 1, sizeof(*items));

    share_trim(s);
    for (i = 0; i < n; i++) {
        struct row_ref b = { ids->build + (int64_t)i, 0, &v[i].build, 0, 0 };
        size_t k;
        /* The builds of one commit mostly share lists: compare with the
         * earlier builds here before anything else. */
        for (k = 0; k < i; k++) {
            if (!b.a && v[k].nsteps == v[i].nsteps &&
                same_steps(v[k].steps, v[i].steps, v[i].nsteps)) {
                b.a = r[INS_BUILDS].v[k].a;
                memcpy(items + at[i], items + at[k],
                       v[i].nsteps * sizeof(*items));
            }
            if (!b.b && v[k].nxf == v[i].nxf &&
                same_transfers(v[k].xf, v[i].xf, v[i].nxf))
                b.b = r[INS_BUILDS].v[k].b;
        }
        if (v[i].nsteps) {
            struct step_slot *sl = slot_of(s, &v[i].build);
            if (!b.a) {
                if (step_items(s, sl, v[i].steps, v[i].nsteps, ids,
                               items + at[i], &r[INS_STEP_ITEMS]))
                    b.a = sl->list;
                else
                    b.a = step_list(s, v[i].steps, items + at[i], v[i].nsteps,
                                    ids, &r[INS_STEP_PACKS], &texts);
            }
            slot_set(sl, v[i].steps, v[i].nsteps, items + at[i], b.a);
        }
        if (v[i].nxf && !b.b) {
            if (v[i].nxf > s->xkcap) {
                free(s->xkeys);
                s->xkcap = v[i].nxf * 2;
                s->xkeys = xmalloc(s->xkcap * sizeof(*s->xkeys));
            }
            xfer_list_key(v[i].xf, v[i].nxf, s->xkeys, key);
            b.b = share_id(&s->share[SH_XFER_LIST],
                           &s->share_old[SH_XFER_LIST], key, &ids->xfer_list,
                           &created);
            if (created)
                add_xfer_list(s, b.b, v[i].xf, s->xkeys, v[i].nxf, ids,
                              &r[INS_XFER_ITEMS], &r[INS_XFER_PACKS], &texts);
        }
        rows_add(&r[INS_BUILDS], b);
    }
    free(items);
    free(at);
    for (i = 0; i < r[INS_STEP_PACKS].n; i++)
        r[INS_STEP_PACKS].v[i].item = texts.ptr;
    for (i = 0; i < r[INS_XFER_PACKS].n; i++)
        r[INS_XFER_PACKS].v[i].item = texts.ptr;
    for (i = 0; i < INS_COUNT && !rc; i++) {
        rc = insert_rows(s, &s->ins[i], bind[i], r[i].v, r[i].n, err);
        if (i == INS_BUILDS && rc == ERR_DB &&
            sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE) {
            const struct store_build *b = &v[0].build;
            rc = err_set(err, ERR_INVALID,
                         "%s: build already recorded for run %lld, strategy "
                         "'%s', commit '%s'",
                         s->path, (long long)b->run_id, b->strategy,
                         b->commit_sha);
        }
    }
    for (i = 0; i < INS_COUNT; i++)
        free(r[i].v);
    buf_release(&texts);
    if (rc < 0)
        return rc;
    ids->build += (int64_t)n;
    return 0;
}

/* Read the next free ids into s->next, once per batch. */
static int next_ids(struct store *s, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_NEXT_IDS];
    int rc;

    if (s->next_known)
        return 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->next.build = sqlite3_column_int64(st, 0);
        s->next.step_list = sqlite3_column_int64(st, 1);
        s->next.step_item = sqlite3_column_int64(st, 2);
        s->next.xfer_list = sqlite3_column_int64(st, 3);
        s->next.xfer_item = sqlite3_column_int64(st, 4);
        s->next_known = 1;
    } else {
        db_error(s, err);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : err->code;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Whether n steps p repeat a step index (*out); at once when they are
 * 0, 1, 2, ... */
static int step_index_repeated(const struct store_step *p, size_t n,
                               int64_t *out)
{
    int64_t *v;
    size_t j;
    int found = 0;

    if (positions_implied(p, n))
        return 0;
    v = xmalloc(n * sizeof(*v));
    for (j = 0; j < n; j++)
        v[j] = p[j].step_index;
    qsort(v, n, sizeof(*v), cmp_int64);
    for (j = 1; j < n && !found; j++)
        if (v[j] == v[j - 1]) {
            *out = v[j];
            found = 1;
        }
    free(v);
    return found;
}

/* Refuse malformed commit ids and builds whose steps repeat an index
 * ((build_id, step_index) is the key of steps) before anything is
 * written. */
static int check_builds(struct store *s, const struct store_build_rows *v,
                        size_t n, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct store_build *b = &v[i].build;
        int64_t rep = 0;
        if (!is_sha(b->commit_sha))
            return err_set(err, ERR_INVALID, "%s: malformed commit id '%s'",
                           s->path, b->commit_sha ? b->commit_sha : "");
        if (step_index_repeated(v[i].steps, v[i].nsteps, &rep))
            return err_set(err, ERR_INVALID,
                           "%s: step index %lld appears twice in the build "
                           "of strategy '%s', commit '%s'",
                           s->path, (long long)rep,
                           b->strategy ? b->strategy : "", b->commit_sha);
    }
    return 0;
}

int store_builds_put(struct store *s, const struct store_build_rows *v,
                     size_t n, int64_t *first_id, struct err *err)
{
    if (check_builds(s, v, n, err))
        return err->code;
    if (!n)
        return 0;
    if (store_batch_begin(s, err))
        return err->code;
    /* A savepoint makes the builds atomic inside the batch: on any error
     * their rows are rolled back and earlier builds in the batch stay.
     * Ids are given here, inside the write transaction, so that all rows
     * can be inserted many per statement. */
    if (step_done(s, s->stmt[Q_SAVEPOINT], err))
        return err->code;
    if (next_ids(s, err))
        goto fail;
    if (first_id)
        *first_id = s->next.build;
    if (put_builds(s, v, n, err) || step_done(s, s->stmt[Q_RELEASE], err))
        goto fail;
    return 0;
fail:
    share_forget(s);
    sqlite3_step(s->stmt[Q_ROLLBACK_TO]);
    sqlite3_reset(s->stmt[Q_ROLLBACK_TO]);
    sqlite3_step(s->stmt[Q_RELEASE]);
    sqlite3_reset(s->stmt[Q_RELEASE]);
    return err->code;
}

int store_builds_append(struct store *s, const struct store_build_rows *v,
                        size_t n, struct err *err)
{
    if (check_builds(s, v, n, err))
        return err->code;
    if (!n)
        return 0;
    if (store_batch_begin(s, err))
        return err->code;
    if (next_ids(s, err) == 0 && put_builds(s, v, n, err) == 0)
        return 0;
    share_forget(s);
    /* No savepoint to go back to: drop the whole batch, which leaves
     * the file as the last commit left it. */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_batch = 0;
    return err->code;
}

int store_build_put(struct store *s, const struct store_build *b,
                    const struct store_step *steps, size_t nsteps,
                    const struct store_transfer *t, size_t nt,
                    int64_t *build_id, struct err *err)
{
    struct store_build_rows v = { *b, steps, nsteps, t, nt };
    return store_builds_put(s, &v, 1, build_id, err);
}

/* ---- queries ---- */

int store_summary(struct store *s, int64_t run_id, struct store_summary **out,
                  size_t *n, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_SUMMARY];
    struct store_summary *arr = NULL;
    size_t len = 0, cap = 0;
    int rc, spill = sqlite3_get_autocommit(s->db);

    /* The GROUP BY sorts every build of the run, and a sorter whose
     * temporary files are in memory holds them all (42 MB for 40,000
     * commits of 13 strategies): outside a transaction (where SQLite lets
     * it change), this one spills to a file past the page cache's size. */
    if (spill && (rc = exec(s, "PRAGMA temp_store = FILE", err)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_summary *e;
        const unsigned char *name = sqlite3_column_text(st, 0);

        XGROW(arr, cap, len + 1);
        e = &arr[len++];
        memset(e, 0, sizeof(*e));
        snprintf(e->strategy, sizeof(e->strategy), "%s",
                 name ? (const char *)name : "");
        e->builds = sqlite3_column_int64(st, 1);
        e->builds_ok = sqlite3_column_int64(st, 2);
        e->steps_hit = sqlite3_column_int64(st, 3);
        e->steps_miss = sqlite3_column_int64(st, 4);
        e->seconds = sqlite3_column_double(st, 5);
        e->bytes_pulled = sqlite3_column_int64(st, 6);
        e->bytes_pushed = sqlite3_column_int64(st, 7);
        e->pull_seconds = sqlite3_column_double(st, 8);
        e->push_seconds = sqlite3_column_double(st, 9);
        e->registry_bytes = sqlite3_column_int64(st, 10);
        e->cache_bytes = sqlite3_column_int64(st, 11);
    }
    if (rc != SQLITE_DONE)
        db_error(s, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (spill && rc == SQLITE_DONE &&
        exec(s, "PRAGMA temp_store = MEMORY", err) < 0)
        rc = SQLITE_ERROR;
    if (rc != SQLITE_DONE) {
        free(arr);
        return err->code;
    }
    *out = arr;
    *n = len;
    return 0;
}

/* ---- real builds (harness verify) ---- */

static int put_real_step(struct store *s, int64_t id,
                         const struct store_real_step *p, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_REAL_STEP_PUT];

    sqlite3_bind_int64(st, 1, id);
    if (p->line > 0)
        sqlite3_bind_int64(st, 2, p->line);
    else
        sqlite3_bind_null(st, 2);
    bind_text(st, 3, p->instruction ? p->instruction : "");
    bind_text(st, 4, store_outcome_name(p->outcome));
    if (p->seconds >= 0)
        sqlite3_bind_double(st, 5, p->seconds);
    else
        sqlite3_bind_null(st, 5);
    return step_done(s, st, err);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_double(sqlite3_stmt *st, int i, double v)
{
    if (v >= 0)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int store_real_build_put(struct store *s, const struct store_real_build *b,
                         const struct store_real_step *steps, size_t n,
                         int64_t *id, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_REAL_BUILD_PUT];
    int64_t rid;
    size_t i;

    if (!is_sha(b->commit_sha))
        return err_set(err, ERR_INVALID, "%s: malformed commit id '%s'",
                       s->path, b->commit_sha ? b->commit_sha : "");
    for (i = 0; i < n; i++)
        if (steps[i].outcome == STORE_OUTCOME_SKIPPED)
            return err_set(err, ERR_INVALID,
                           "%s: a real step cannot be 'skipped'", s->path);
    if (store_batch_begin(s, err))
        return err->code;
    if (step_done(s, s->stmt[Q_SAVEPOINT], err))
        return err->code;
    sqlite3_bind_int64(st, 1, b->run_id);
    bind_text(st, 2, b->commit_sha);
    bind_text(st, 3, b->strategy ? b->strategy : "");
    bind_text(st, 4, store_status_name(b->status));
    sqlite3_bind_double(st, 5, b->seconds);
    bind_opt_int(st, 6, b->bytes_pulled);
    bind_opt_int(st, 7, b->bytes_pushed);
    bind_text(st, 8, b->log_path ? b->log_path : "");
    bind_opt_double(st, 9, b->pull_seconds);
    bind_opt_double(st, 10, b->push_seconds);
    if (step_done(s, st, err))
        goto fail;
    rid = sqlite3_last_insert_rowid(s->db);
    for (i = 0; i < n; i++)
        if (put_real_step(s, rid, &steps[i], err))
            goto fail;
    if (step_done(s, s->stmt[Q_RELEASE], err))
        goto fail;
    if (id)
        *id = rid;
    return store_batch_commit(s, err);
fail:
    sqlite3_step(s->stmt[Q_ROLLBACK_TO]);
    sqlite3_reset(s->stmt[Q_ROLLBACK_TO]);
    sqlite3_step(s->stmt[Q_RELEASE]);
    sqlite3_reset(s->stmt[Q_RELEASE]);
    return err->code;
}

static int sim_build_row(struct store *s, int64_t run_id,
                         const char *strategy, const char *sha,
                         struct store_sim_build *b, struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_SIM_BUILD_GET];
    int rc;

    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, strategy);
    bind_text(st, 3, sha);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *status = sqlite3_column_text(st, 2);
        b->id = sqlite3_column_int64(st, 0);
        b->seq = sqlite3_column_int64(st, 1);
        b->status = STORE_STATUS_OK;
        store_status_parse((const char *)status, &b->status);
        b->seconds = sqlite3_column_double(st, 3);
        b->bytes_pulled = sqlite3_column_int64(st, 4);
        b->bytes_pushed = sqlite3_column_int64(st, 5);
        b->pull_seconds = sqlite3_column_double(st, 6);
        b->push_seconds = sqlite3_column_double(st, 7);
    } else if (rc == SQLITE_DONE) {
        err_set(err, ERR_NOTFOUND,
                "%s: no simulated build of run %lld, strategy '%s', commit "
                "'%s'",
                s->path, (long long)run_id, strategy ? strategy : "",
                sha ? sha : "");
    } else {
        db_error(s, err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : err->code;
}

int store_sim_build_get(struct store *s, int64_t run_id, const char *strategy,
                        const char *commit_sha, struct store_sim_build *b,
                        struct store_sim_step **out, size_t *n,
                        struct err *err)
{
    sqlite3_stmt *st = s->stmt[Q_SIM_STEPS_GET];
    struct store_sim_step *arr = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    memset(b, 0, sizeof(*b));
    if (sim_build_row(s, run_id, strategy, commit_sha, b, err))
        return err->code;
    sqlite3_bind_int64(st, 1, b->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_sim_step *e;
        const unsigned char *ins = sqlite3_column_text(st, 2);
        const unsigned char *oc = sqlite3_column_text(st, 3);

        XGROW(arr, cap, len + 1);
        e = &arr[len++];
        memset(e, 0, sizeof(*e));
        e->line = sqlite3_column_int64(st, 0);
        e->stage = sqlite3_column_int64(st, 1);
        snprintf(e->instruction, sizeof(e->instruction), "%s",
                 ins ? (const char *)ins : "");
        e->outcome = STORE_OUTCOME_NONE;
        store_outcome_parse((const char *)oc, &e->outcome);
        e->seconds = sqlite3_column_double(st, 4);
    }
    if (rc != SQLITE_DONE)
        db_error(s, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(arr);
        return err->code;
    }
    *out = arr;
    *n = len;
    return 0;
}
