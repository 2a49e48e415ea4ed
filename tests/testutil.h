/*
 * testutil.h - shared helpers for the cmocka suites: temporary folders,
 * tiny git repositories made with the git command line, fixture files
 * (under $FIXTURES, else tests/fixtures) and Dockerfiles parsed from text.
 */
#ifndef HARNESS_TESTUTIL_H
#define HARNESS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dockerfile.h"
#include "err.h"

/* Assert that a and b (doubles) differ by less than eps, naming both. */
#define assert_near(a, b, eps)                                                 \
    do {                                                                       \
        double tu_a_ = (a), tu_b_ = (b);                                       \
        if (!(fabs(tu_a_ - tu_b_) < (eps)))                                    \
            fail_msg("%s is %.12g, want %.12g", #a, tu_a_, tu_b_);             \
    } while (0)

/* mkdtemp a folder under /tmp; caller frees the string. */
static inline char *tu_tmpdir(void)
{
    char tmpl[] = "/tmp/harness-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

/* Run a shell command inside dir; asserts it succeeds. */
static inline void tu_sh(const char *dir, const char *fmt, ...)
{
    char cmd[8192];
    int n = snprintf(cmd, sizeof(cmd),
                     "cd '%s' && { export GIT_AUTHOR_NAME=t "
                     "GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
                     "GIT_COMMITTER_EMAIL=t@t "
                     "GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' "
                     "GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'; ",
                     dir);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
    va_end(ap);
    snprintf(cmd + n, sizeof(cmd) - (size_t)n, "; } >/dev/null 2>&1");
    assert_int_equal(system(cmd), 0);
}

/* Write a file (creating parent folders) under dir. */
static inline void tu_write(const char *dir, const char *path,
                            const char *content)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", dir, path);
    for (char *p = full + strlen(dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(full, 0755);
            *p = '/';
        }
    FILE *f = fopen(full, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* A fresh repository with `git init -q` in a new temp dir. */
static inline char *tu_repo(void)
{
    char *d = tu_tmpdir();
    tu_sh(d, "git init -q -b main .");
    return d;
}

/* Stage everything and commit with message msg (allow empty). */
static inline void tu_commit(const char *dir, const char *msg)
{
    tu_sh(dir, "git add -A && git commit -q --allow-empty -m '%s'", msg);
}

static inline void tu_rmrf(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    free(dir);
}

/* The whole of file path, NUL-terminated (caller frees); *len its size.
 * Asserts that it reads. */
static inline char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (!f)
        fail_msg("cannot read '%s'", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return data;
}

/* The path of a fixture named by fmt (printf) into out. */
static inline const char *tu_fixture_path(char *out, size_t size,
                                          const char *fmt, ...)
{
    const char *dir = getenv("FIXTURES");
    int n = snprintf(out, size, "%s/", dir ? dir : "tests/fixtures");
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out + n, size - (size_t)n, fmt, ap);
    va_end(ap);
    return out;
}

/* tu_slurp() of the fixture named by fmt (printf). */
static inline char *tu_fixture(size_t *len, const char *fmt, ...)
{
    char name[4096], path[4096 + 256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    return tu_slurp(tu_fixture_path(path, sizeof(path), "%s", name), len);
}

/* A Dockerfile parsed from text (named "Dockerfile"); asserts it parses.
 * Free with df_file_free(). */
static inline struct df_file *tu_parse_df(const char *text)
{
    struct df_file *df = NULL;
    struct err err = ERR_INIT;

    if (df_parse(&df, "Dockerfile", text, strlen(text), NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return df;
}

#endif
