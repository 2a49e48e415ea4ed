/*
 * fuzz_idlist.c - libFuzzer entry for the id lists of schema 7 (idlist.c),
 * which the report reads from a database file it did not write.  Every
 * input must walk to 0 or -1 without reading past its end; a well-formed
 * array written again by idlist must walk to the same ids.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct idlist_iter it, again;
    struct buf b = BUF_INIT;
    int64_t v, w;
    int rc, rc2;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    idlist_begin(&it, text);
    idlist_open(&b);
    while ((rc = idlist_next(&it, &v)) > 0) {
        if (it.p < text || it.p > text + size)
            abort();
        idlist_add(&b, v);
    }
    if (rc != 0 && rc != -1)
        abort();
    idlist_close(&b);
    if (rc == 0) {
        idlist_begin(&again, b.ptr);
        idlist_begin(&it, text);
        while ((rc = idlist_next(&it, &v)) > 0) {
            if (idlist_next(&again, &w) != 1 || w != v)
                abort();
        }
        rc2 = idlist_next(&again, &w);
        if (rc != 0 || rc2 != 0)
            abort();
    }
    buf_release(&b);
    free(text);
    return 0;
}
