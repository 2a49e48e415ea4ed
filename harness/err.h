/*
 * err.h - error reporting for modules.
 *
 * Modules never print and never exit.  A fallible function takes a
 * `struct err *` last, fills it with a code and a message, and returns the
 * (negative) code.  Only cmd_*.c and main.c print, with err_print().
 *
 * Message format: "FILE:LINE: what is wrong 'subject'" when the error comes
 * from parsed input, else "what is wrong 'subject'".  No trailing period.
 * An optional hint (how to fix it) is printed on its own line.
 */
#ifndef HARNESS_ERR_H
#define HARNESS_ERR_H

enum err_code {
    ERR_OK = 0,
    ERR_USAGE = -2,    /* bad command line */
    ERR_NOTFOUND = -3, /* a lookup missed */
    ERR_PARSE = -4,    /* malformed input file (Dockerfile, scenario, log) */
    ERR_IO = -5,       /* file system */
    ERR_GIT = -6,      /* libgit2 */
    ERR_DB = -7,       /* SQLite */
    ERR_INVALID = -8,  /* a value that cannot be used */
    ERR_BUILD = -9,    /* the simulated build fails (missing COPY source) */
    ERR_ENGINE = -10,  /* a real Docker engine or registry failed */
};

/* Process exit codes, documented in doc/harness.1.md. */
enum exit_code {
    EXIT_OK = 0,
    EXIT_FINDINGS = 1,
    EXIT_USAGE = 2,
    EXIT_RUNTIME = 3,
    EXIT_BADINPUT = 4,
};

struct err {
    int code;
    char msg[512];
    char hint[256];
};

#define ERR_INIT {0, {0}, {0}}

/* Set code and message (printf-style); returns code. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, prefixed with "FILE:LINE: " (line 0 omits the line). */
int err_set_at(struct err *e, int code, const char *file, int line,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Attach a hint line to an error already set. */
void err_hint(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to no error. */
void err_clear(struct err *e);

/* The process exit code for an error code. */
int err_exit_code(int code);

/* Print "harness: MSG" (and "hint: HINT") on stderr. */
void err_print(const struct err *e);

#endif
