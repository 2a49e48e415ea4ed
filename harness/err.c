#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    e->hint[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

int err_set_at(struct err *e, int code, const char *file, int line,
               const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!e)
        return code;
    e->code = code;
    e->hint[0] = '\0';
    if (line > 0)
        n = snprintf(e->msg, sizeof(e->msg), "%s:%d: ", file, line);
    else
        n = snprintf(e->msg, sizeof(e->msg), "%s: ", file);
    if (n < 0 || (size_t)n >= sizeof(e->msg))
        return code;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

void err_hint(struct err *e, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
    va_end(ap);
}

void err_clear(struct err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
    e->hint[0] = '\0';
}

int err_exit_code(int code)
{
    switch (code) {
    case ERR_OK:
        return EXIT_OK;
    case ERR_USAGE:
        return EXIT_USAGE;
    case ERR_PARSE:
    case ERR_INVALID:
        return EXIT_BADINPUT;
    default:
        return EXIT_RUNTIME;
    }
}

void err_print(const struct err *e)
{
    fprintf(stderr, "harness: %s\n", e->msg[0] ? e->msg : "unknown error");
    if (e->hint[0])
        fprintf(stderr, "hint: %s\n", e->hint);
}
