/*
 * fuzz_pricing.c - libFuzzer entry for pricing profiles (pricing.c).  Every
 * input must either load or fail with ERR_PARSE and a "fuzz.json:LINE:"
 * message; anything else is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pricing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pricing p;
    struct err err = ERR_INIT;
    int rc = pricing_parse(&p, "fuzz.json", (const char *)data, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || strncmp(err.msg, "fuzz.json:", 10)))
        abort();
    if (rc == 0) {
        int est;
        (void)pricing_figure_note(&p, "compute.usd_per_minute", &est);
        pricing_release(&p);
    }
    return 0;
}
