/*
 * idlist.h - a list of integer ids as schema 7 of the results database
 * stores one (doc/schema.md): a JSON array of integers, "[12,40,41]", which
 * SQLite's json_each expands.  The writer appends arrays to a buffer; the
 * report's readers walk one without allocating.
 *
 * Writing: idlist_open, idlist_add for each id, idlist_close; the array is
 * NUL-terminated in the buffer at the offset idlist_open returned.
 * Reading: idlist_next accepts the arrays written here and any JSON array
 * of integers with spaces between its tokens; anything else (other JSON
 * values, leading zeros, ids of 2^62 or more) is malformed, and the caller
 * reads the list another way (through SQLite).
 */
#ifndef HARNESS_IDLIST_H
#define HARNESS_IDLIST_H

#include <stdint.h>

#include "buf.h"

/* Start an array in b; returns its offset in b. */
size_t idlist_open(struct buf *b);
/* Append id v to the array (v may be negative). */
void idlist_add(struct buf *b, int64_t v);
/* End the array, and its text with a NUL inside b (b->len counts it). */
void idlist_close(struct buf *b);

/* A walk over the text of an array; p is where the walk stands. */
struct idlist_iter {
    const char *p;
    int state; /* 0: before '[', 1: inside, 2: past ']' */
};

void idlist_begin(struct idlist_iter *it, const char *text);
/* The next id into *out: 1, or 0 at the end of a well-formed array (and
 * nothing after it but spaces; again on every later call), or -1 when the
 * text is malformed (the ids returned so far are the array's, the rest is
 * unknown). */
int idlist_next(struct idlist_iter *it, int64_t *out);

#endif
