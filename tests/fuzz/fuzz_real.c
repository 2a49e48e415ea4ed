/*
 * fuzz_real.c - libFuzzer entry for the reader of ci/real-build's recorded
 * builds (harness verify --real).  Every input must be read or refused
 * with ERR_PARSE and a message; a record read must have a 40-hex commit,
 * a strategy, and figures that are >= 0 or -1 (not recorded).  Anything
 * else (crash, leak, sanitizer report, other code) is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_real.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err err = ERR_INIT;
    struct record_real *r = NULL;
    size_t n = 0;
    int rc = record_real_parse(&r, &n, "fuzz", (const char *)data, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0] || r || n))
        abort();
    for (size_t i = 0; i < n; i++) {
        if (strlen(r[i].commit) != 40 || !r[i].strategy[0] ||
            r[i].seconds < 0 || r[i].bytes_pulled < -1 ||
            r[i].bytes_pushed < -1 || r[i].src_line < 1)
            abort();
        for (size_t j = 0; j < r[i].nsteps; j++)
            if (r[i].steps[j].line < 0 || r[i].steps[j].outcome < 0 ||
                r[i].steps[j].outcome > 2)
                abort();
    }
    record_real_free(r, n);
    return 0;
}
