/*
 * fuzz_calib.c - libFuzzer entry for the calibration readers of the build
 * model: build logs (BuildKit plain with CI timestamps and ANSI codes,
 * rawjson, legacy), docker history JSON lines, image manifests and model
 * files.  Every input must be read or refused with ERR_PARSE and a message;
 * a measurement must be finite and its stage one of the Dockerfile's.
 * Anything else (crash, leak, sanitizer report, other code) is a bug.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "dockerfile.h"
#include "model.h"
#include "record.h"

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
    for (size_t i = 0; i < c->nsteps; i++) {
        const struct model_calib_step *s = &c->steps[i];
        if (s->stage < -1 || s->stage > 1 || !s->text || !s->text[0] ||
            !isfinite(s->seconds))
            abort();
    }
    err_clear(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct df_file *df;
    const char *text = (const char *)data;
    struct err err = ERR_INIT;
    struct model_calib c;
    struct calib_ref ref;
    struct record_manifest m;
    struct model model;
    int rc;

    if (!df && df_parse(&df, "Dockerfile", dockerfile, strlen(dockerfile), NULL,
                        &err) < 0)
        abort();
    ref.df = df;
    ref.kb = NULL;
    model_calib_init(&c);
    check(calib_timings(&c, "fuzz", text, size, &ref, NULL, &err), &err, &c);
    check(calib_layers(&c, "fuzz", text, size, &ref, NULL, &err), &err, &c);
    model_calib_free(&c);
    rc = record_manifest_parse(&m, "fuzz", text, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0)
        record_manifest_release(&m);
    err_clear(&err);
    model_profile(&model, "buildkit");
    rc = record_model_parse(&model, "fuzz", text, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0]))
        abort();
    if (rc == 0 && (model.compress_ratio <= 0 || model.nruns > MODEL_RUN_RULES))
        abort();
    return 0;
}
