/*
 * fuzz_buildlog.c - libFuzzer entry for the build log and docker history
 * parsers.  Every input must either parse or fail with ERR_PARSE and a
 * message; a parsed log is then matched against a small multi-stage
 * Dockerfile, and every matched line must be one of its instruction lines.
 * Anything else (crash, leak, sanitizer report, other code) is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildlog.h"
#include "dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char dockerfile[] = "ARG V=1\n"
                                 "FROM a AS builder\n"
                                 "WORKDIR /src\n"
                                 "COPY . .\n"
                                 "RUN make\n"
                                 "FROM b\n"
                                 "ENV X=1\n"
                                 "COPY --from=builder /out /out\n"
                                 "RUN test\n"
                                 "LABEL z=1\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct df_file *df;
    struct err err = ERR_INIT;
    struct buildlog *log = NULL;
    struct buildlog_history *h = NULL;
    size_t i;
    int rc;

    if (!df && df_parse(&df, "Dockerfile", dockerfile, strlen(dockerfile), NULL,
                        &err) < 0)
        abort();
    rc = buildlog_parse(&log, "fuzz", (const char *)data, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0] || log))
        abort();
    if (rc == 0) {
        buildlog_match(log, df);
        for (i = 0; i < log->nsteps; i++) {
            int line = log->steps[i].line;
            if (line && (line < 1 || line > 10))
                abort();
            if (log->steps[i].outcome > BUILDLOG_NONE)
                abort();
        }
        buildlog_free(log);
    }
    err_clear(&err);
    rc = buildlog_history_parse(&h, "fuzz", (const char *)data, size, &err);
    if (rc < 0 && (rc != ERR_PARSE || !err.msg[0] || h))
        abort();
    buildlog_history_free(h);
    return 0;
}
