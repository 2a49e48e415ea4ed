/*
 * fuzz_calib.c - libFuzzer entry for the calibration readers of the build
 * model: build logs (BuildKit plain with CI timestamps and ANSI codes,
 * rawjson, legacy), docker history JSON lines, image manifests and model
 * files.  Every input must be read or refused with ERR_PARSE and a message;
 * a measurement must be finite and its stage one of the Dockerfile's; a
 * wall time from CI timestamps finite and positive, or unknown (-1).
 * Anything else (crash, leak, sanitizer report, other code) is a bug.
 *
 * CALIB_READER picks the readers an input goes to (tests/fuzz/run.sh
 * builds one binary per reader, so that each gets its whole time budget):
 * 0 every reader (target calib), 1 build logs seeded with BuildKit plain
 * logs (calib-plain), 2 rawjson logs (calib-rawjson), 3 legacy logs
 * (calib-legacy), 4 docker history (calib-history), 5 manifests matched
 * to the Dockerfile's layers (calib-manifest), 6 model files (calib-model).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "dockerfile.h"
#include "keys.h"
#include "model.h"
#include "record.h"

#ifndef CALIB_READER
#define CALIB_READER 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char dockerfile[] = "FROM a AS builder\n"
                                 "WORKDIR /src\n"
                                 "COPY . .\n"
                                 "RUN make\n"
                                 "FROM b\n"
                                 "ENV X=1\n"
                                 "COPY --from=builder /out /out\n"
                                 "RUN test\n"
                                 "LABEL z=1\n";

static void check(int rc, struct err *err, const struct model_calib *c)
{
    if (rc < 0 && (rc != ERR_PARSE || !err->msg[0]))
        abort();
    for (int b = 0; b < 2; b++)
        if (!isfinite(c->fixed[b].wall) ||
            (c->fixed[b].wall < 0 && c->fixed[b].wall != -1))
            abort();
    for (size_t i = 0; i < c->nsteps; i++) {
        const struct model_calib_step *s = &c->steps[i];
        if (s->stage < -1 || s->stage > 1 || !s->text || !s->text[0] ||
            !isfinite(s->seconds))
            abort();
    }
    err_clear(err);
}

/* The BuildKit steps of the Dockerfile as keys_compute lays them out (the
 * fields calib_manifest reads), without a build context. */
static struct key_build *fake_keys(const struct df_file *df)
{
    struct key_build *kb = calloc(1, sizeof(*kb));
    if (!kb)
        abort();
    kb->steps = calloc(df->ninstrs + 1, sizeof(*kb->steps));
    if (!kb->steps)
        abort();
    for (size_t i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        struct key_step *s = &kb->steps[kb->nsteps++];
        s->instr = i;
        s->stage = in->stage;
        s->line = in->line;
        s->kind = in->kind;
        s->layer = in->kind == DF_RUN || in->kind == DF_COPY ||
                   in->kind == DF_ADD || in->kind == DF_WORKDIR;
        s->built = 1;
    }
    kb->target = (int)df->nstages - 1;
    return kb;
}

static void timings(const char *text, size_t size, const struct calib_ref *ref)
{
    struct err err = ERR_INIT;
    struct model_calib c;

    model_calib_init(&c);
    check(calib_timings(&c, "fuzz", text, size, ref, NULL, &err), &err, &c);
    model_calib_free(&c);
}

static void rawjson(const char *text, size_t size)
{
    struct err err = ERR_INIT;
    char *plain = NULL;
    size_t len = 0;
    int rc = record_rawjson_to_plain(&plain, &len, "fuzz", text, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0 && (!plain || strlen(plain) != len))
        abort();
    free(plain);
}

static void history(const char *text, size_t size, const struct calib_ref *ref)
{
    struct err err = ERR_INIT;
    struct model_calib c;

    model_calib_init(&c);
    check(calib_layers(&c, "fuzz", text, size, ref, NULL, &err), &err, &c);
    model_calib_free(&c);
}

static void manifest(const char *text, size_t size, const struct calib_ref *ref)
{
    struct err err = ERR_INIT;
    struct record_manifest m;
    struct model_calib c;
    int rc = record_manifest_parse(&m, "fuzz", text, size, &err);

    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0) {
        for (size_t i = 0; i < m.nlayers; i++)
            if (m.layers[i] < 0)
                abort();
        record_manifest_release(&m);
    }
    err_clear(&err);
    model_calib_init(&c);
    check(calib_manifest(&c, "fuzz", text, size, ref, NULL, &err), &err, &c);
    for (size_t i = 0; i < c.nbases; i++)
        if (c.bases[i].bytes < 0)
            abort();
    model_calib_free(&c);
}

static void model_file(const char *text, size_t size)
{
    struct err err = ERR_INIT;
    struct model model;
    int rc;

    model_profile(&model, "buildkit");
    rc = record_model_parse(&model, "fuzz", text, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0 && (model.compress_ratio <= 0 || model.nruns > MODEL_RUN_RULES))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct df_file *df;
    static struct key_build *kb;
    const char *text = (const char *)data;
    struct err err = ERR_INIT;
    struct calib_ref ref;

    if (!df) {
        if (df_parse(&df, "Dockerfile", dockerfile, strlen(dockerfile), NULL,
                     &err) < 0)
            abort();
        kb = fake_keys(df);
    }
    ref.df = df;
    ref.kb = kb;
    switch (CALIB_READER) {
    case 1:
    case 3:
        timings(text, size, &ref);
        break;
    case 2:
        rawjson(text, size);
        timings(text, size, &ref);
        break;
    case 4:
        history(text, size, &ref);
        break;
    case 5:
        manifest(text, size, &ref);
        break;
    case 6:
        model_file(text, size);
        break;
    default:
        timings(text, size, &ref);
        history(text, size, &ref);
        manifest(text, size, &ref);
        model_file(text, size);
    }
    return 0;
}
