/*
 * idlist.c - integer id lists as JSON arrays (see idlist.h).
 *
 * Written by hand, not with jansson: a long replay writes millions of ids
 * and a report reads them back, and neither needs a tree of values.
 */
#include "idlist.h"

size_t idlist_open(struct buf *b)
{
    size_t at = b->len;

    buf_addch(b, '[');
    return at;
}

void idlist_add(struct buf *b, int64_t v)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    size_t len = 2 + (v < 0); /* a digit, the comma, the sign */
    char *p;

    for (uint64_t t = u; t >= 10; t /= 10)
        len++;
    /* written in place, not through a copy: a long replay writes tens of
     * millions of ids */
    if (b->len + len >= b->cap)
        buf_grow(b, len);
    p = b->ptr + b->len + len;
    *p = '\0';
    /* the comma after each id; idlist_close turns the last into ']' */
    *--p = ',';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    b->len += len;
}

void idlist_close(struct buf *b)
{
    if (b->len && b->ptr[b->len - 1] == ',')
        b->ptr[b->len - 1] = ']';
    else
        buf_addch(b, ']');
    buf_addch(b, '\0');
}

void idlist_begin(struct idlist_iter *it, const char *text)
{
    it->p = text;
    it->state = 0;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The end of a well-formed array: nothing but spaces after it. */
static int at_end(struct idlist_iter *it, const char *after)
{
    it->p = skip_space(after);
    if (*it->p)
        return -1;
    it->state = 2;
    return 0;
}

int idlist_next(struct idlist_iter *it, int64_t *out)
{
    const char *p = skip_space(it->p);
    int64_t v = 0;
    int neg, digits = 0;

    if (it->state == 2)
        return 0;
    if (it->state == 0) {
        if (*p != '[')
            return -1;
        it->state = 1;
        p = skip_space(p + 1);
        if (*p == ']')
            return at_end(it, p + 1);
    } else {
        if (*p == ']')
            return at_end(it, p + 1);
        if (*p != ',')
            return -1;
        p = skip_space(p + 1);
    }
    neg = *p == '-';
    if (neg)
        p++;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return -1; /* JSON has no leading zeros */
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (v >= (int64_t)1 << 58) /* v * 10 + 9 stays below 2^62 */
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (!digits)
        return -1;
    it->p = p;
    *out = neg ? -v : v;
    return 1;
}
