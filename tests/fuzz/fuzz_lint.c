/*
 * fuzz_lint.c - libFuzzer entry for the linter and the whatif rewrites.
 * Every Dockerfile that parses must lint without a crash, every finding
 * must have a message and a fix, and every rewrite of it must parse again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "dockerfile.h"
#include "lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int every_file(void *arg, const char *path)
{
    (void)arg;
    return path[0] != 'x';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lint_context lc = { 1, every_file, NULL, NULL, 0, 1, 1 };
    struct lint_rewrite_options o = { 0, 0, "RUN", "v", &lc };
    struct err err = ERR_INIT;
    struct df_file *f = NULL;
    struct lint_report rep;
    struct buf out = BUF_INIT;

    if (df_parse(&f, "fuzz", (const char *)data, size, NULL, &err) < 0)
        return 0;
    lint_run(&rep, f, &lc);
    for (size_t i = 0; i < rep.n; i++)
        if (!rep.v[i].message[0] || !rep.v[i].fix[0] || rep.v[i].line < 1)
            abort();
    lint_report_release(&rep);
    df_file_free(f);
    o.fixes = (1u << LINT_COPY_BEFORE_DEPS) | (1u << LINT_ARG_EARLY) |
              (1u << LINT_BUST_ONE_LAYER);
    if (lint_rewrite(&out, "fuzz", (const char *)data, size, &o, &err) < 0)
        abort();
    f = NULL;
    if (df_parse(&f, "rewritten", buf_cstr(&out), out.len, NULL, &err) < 0)
        abort();
    df_file_free(f);
    buf_release(&out);
    return 0;
}
