/*
 * fuzz_dockerfile.c - libFuzzer entry for the Dockerfile front end.  Every
 * input must either parse or fail with ERR_PARSE and a message; anything
 * else (crash, leak, sanitizer report, other code) is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct df_var bargs[] = { { (char *)"V", (char *)"x y" } };
    const struct df_options opts = { bargs, 1 };
    struct err err = ERR_INIT;
    struct df_file *f = NULL;
    int rc = df_parse(&f, "fuzz", (const char *)data, size, &opts, &err);

    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0 && (!f || !f->nstages))
        abort();
    df_file_free(f);
    return 0;
}
