/*
 * fuzz_scenario.c - libFuzzer entry for scenario files (record.c).  Every
 * input must either load or fail with ERR_PARSE and a "fuzz.json:LINE:"
 * message; anything else is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario s;
    struct err err = ERR_INIT;
    int rc = scenario_parse(&s, "fuzz.json", (const char *)data, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || strncmp(err.msg, "fuzz.json:", 10)))
        abort();
    if (rc == 0)
        scenario_release(&s);
    return 0;
}
