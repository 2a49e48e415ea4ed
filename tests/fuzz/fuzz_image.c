/*
 * fuzz_image.c - libFuzzer entry for the readers of `harness doctor`:
 * image configs, docker inspect output and docker history lines
 * (image_read), registry manifests and indexes (image_manifest_parse) and
 * raw HTTP responses (http_parse_response).  Every input must be read or
 * fail with the documented error code and a message naming the input;
 * anything else is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct image_facts *f = NULL;
    struct image_manifest m;
    struct http_response r;
    struct err err = ERR_INIT;
    size_t n = 0;
    int rc = image_read(&f, &n, "fuzz", text, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || strncmp(err.msg, "fuzz:", 5) || f))
        abort();
    if (rc == 0 && (!f || !n))
        abort();
    for (size_t i = 0; i < n; i++)
        if (f[i].inline_cache < -1 || f[i].inline_cache > 1 ||
            memchr(f[i].evidence, 0, sizeof(f[i].evidence)) == NULL)
            abort();
    free(f);
    err_clear(&err);
    rc = image_manifest_parse(&m, "fuzz", text, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || strncmp(err.msg, "fuzz:", 5)))
        abort();
    err_clear(&err);
    rc = http_parse_response(text, size, "fuzz", 4096, &r, &err);
    if (rc < 0 && (rc != ERR_ENGINE || !strstr(err.msg, "'fuzz'")))
        abort();
    if (rc == 0 && r.body.len > 4096 + size)
        abort();
    http_response_release(&r);
    return 0;
}
