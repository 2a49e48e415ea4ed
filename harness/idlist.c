/*
 * idlist.c - integer id lists as JSON arrays (see idlist.h).
 *
 * Written by hand, not with jansson: a long replay writes millions of ids
 * and a report reads them back, and neither needs a tree of values.
 */
#include "idlist.h"

#include <string.h>

size_t idlist_open(struct buf *b)
{
    size_t at = b->len;

    buf_addch(b, '[');
    return at;
}

/* "00" to "99": two digits a step, half the divisions of one at a time. */
static const char digit_pairs[201] = "0001020304050607080910111213141516171819"
                                     "2021222324252627282930313233343536373839"
                                     "4041424344454647484950515253545556575859"
                                     "6061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* The number of decimal digits of u (1 to 20). */
static size_t digits_of(uint64_t u)
{
    size_t d = 1;

    /* 10^19 is the largest power of ten below 2^64 */
    for (uint64_t p = 10; u >= p && d < 20; p *= 10)
        if (++d == 20)
            break;
    return d;
}

void idlist_add(struct buf *b, int64_t v)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    size_t len = digits_of(u) + 1 + (v < 0); /* the comma, the sign */
    char *p;

    /* written in place, not through a copy: a long replay writes tens of
     * millions of ids */
    if (b->len + len >= b->cap)
        buf_grow(b, len);
    p = b->ptr + b->len + len;
    *p = '\0';
    /* the comma after each id; idlist_close turns the last into ']' */
    *--p = ',';
    while (u >= 100) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
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
