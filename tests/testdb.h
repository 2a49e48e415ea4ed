/*
 * testdb.h - read a results database as another program would, for the
 * store and writer suites.
 */
#ifndef HARNESS_TESTDB_H
#define HARNESS_TESTDB_H

#include <sqlite3.h>

#include "testutil.h"

/* The first column of the first row of sql, read through a fresh
 * read-only connection; -1 without a row. */
static inline long long tu_sql_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#endif
