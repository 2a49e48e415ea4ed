/*
 * fuzz_lint.c - libFuzzer entry for the linter, the whatif rewrites and
 * the RUN reader of the output model (runreads.c).  Every Dockerfile that
 * parses must lint without a crash, every finding must have a message and
 * a fix, every rewrite of it must parse again, and every RUN's reads must
 * be absolute paths (or a reason when conservative).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "dockerfile.h"
#include "lint.h"
#include "runreads.h"

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
    for (size_t i = 0; i < f->ninstrs; i++) {
        const struct df_instr *in = &f->instrs[i];
        struct run_reads rr;
        struct buf text = BUF_INIT;
        if (in->kind != DF_RUN)
            continue;
        for (size_t j = 0; !in->json && j < in->nargs; j++)
            buf_printf(&text, "%s%s", j ? " " : "", in->args[j]);
        run_reads_analyze(&rr, in->json ? NULL : buf_cstr(&text),
                          in->json ? in->args : NULL,
                          in->json ? in->nargs : 0, in->state.workdir,
                          in->nheredocs);
        if (!rr.known && !rr.why[0])
            abort();
        for (size_t j = 0; j < rr.n; j++)
            if (rr.r[j].path[0] != '/')
                abort();
        for (size_t j = 0; j < rr.nw; j++)
            if (rr.w[j][0] != '/')
                abort();
        buf_reset(&text);
        run_reads_describe(&text, &rr);
        run_reads_release(&rr);
        buf_release(&text);
    }
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
