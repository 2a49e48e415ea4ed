#include "buf.h"
#include "err.h"

#include <errno.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void oom(size_t n)
{
    fprintf(stderr, "harness: out of memory allocating %zu bytes\n", n);
    exit(3);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *xcalloc_table(size_t nmemb, size_t size)
{
    void *p = xcalloc(nmemb, size);
#ifdef MADV_HUGEPAGE
    /* A big hash table is touched at random: with 4 KiB pages every first
     * touch is a page fault, which dominated filling one under a VM.  Ask
     * for 2 MiB pages for the aligned part. */
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + nmemb * size) & ~(huge - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#endif
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void xgrow(void **arr, size_t *cap, size_t want, size_t elem)
{
    size_t n;

    if (want <= *cap)
        return;
    n = *cap ? *cap : 8;
    while (n < want)
        n *= 2;
    *arr = xrealloc(*arr, n * elem);
    *cap = n;
}

void buf_init(struct buf *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_release(struct buf *b)
{
    free(b->ptr);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
    size_t want = b->len + extra + 1;
    size_t n;

    if (want <= b->cap)
        return;
    n = b->cap ? b->cap : 64;
    while (n < want)
        n *= 2;
    b->ptr = xrealloc(b->ptr, n);
    b->cap = n;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
    buf_grow(b, len);
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    /* Format into the spare room first; only text that does not fit is
     * formatted twice. */
    buf_grow(b, 64);
    va_copy(cp, ap);
    n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        b->ptr[b->len] = '\0';
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_add_json_str(struct buf *b, const char *s)
{
    const unsigned char *p;

    buf_addch(b, '"');
    for (p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            buf_adds(b, "\\\"");
            break;
        case '\\':
            buf_adds(b, "\\\\");
            break;
        case '\n':
            buf_adds(b, "\\n");
            break;
        case '\r':
            buf_adds(b, "\\r");
            break;
        case '\t':
            buf_adds(b, "\\t");
            break;
        default:
            if (*p < 0x20)
                buf_printf(b, "\\u%04x", *p);
            else
                buf_addch(b, (char)*p);
        }
    }
    buf_addch(b, '"');
}

const char *buf_cstr(const struct buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *buf_detach(struct buf *b)
{
    char *p = b->ptr ? b->ptr : xstrdup("");
    buf_init(b);
    return p;
}

int buf_read_file(struct buf *out, const char *path, struct err *err)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = 0;

    if (!fp)
        return err_set(err, ERR_IO, "cannot open '%s': %s", path,
                       strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(out, chunk, n);
    if (ferror(fp))
        rc =
            err_set(err, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    fclose(fp);
    return rc;
}
