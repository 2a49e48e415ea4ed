/*
 * buf.h - growable byte buffers and checked allocation.
 *
 * Invariant: a struct buf's ptr is always NUL-terminated once anything was
 * added (len excludes the NUL).  BUF_INIT is an empty buffer that owns no
 * memory; buf_release() frees and reinitialises.  buf_detach() hands the
 * string to the caller, who frees it with free().
 *
 * x*alloc() exit the process on out-of-memory: that is the only place a
 * module may exit.
 */
#ifndef HARNESS_BUF_H
#define HARNESS_BUF_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* xcalloc for a big table touched at random (huge pages where offered). */
void *xcalloc_table(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow *arr (of *cap elements of size elem) to hold at least want. */
void xgrow(void **arr, size_t *cap, size_t want, size_t elem);
#define XGROW(arr, cap, want)                                                  \
    xgrow((void **)&(arr), &(cap), (want), sizeof(*(arr)))

struct buf {
    char *ptr;
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                               \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
struct err;
/* Append the whole of the file at `path`; ERR_IO (negative) with the path
 * and the system's reason when it cannot be opened or read. */
int buf_read_file(struct buf *out, const char *path, struct err *err);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included. */
void buf_add_json_str(struct buf *b, const char *s);
/* Always a valid C string ("" when empty). */
const char *buf_cstr(const struct buf *b);
/* Caller owns the result (free()); b is reset to empty. */
char *buf_detach(struct buf *b);

#endif
