/*
 * calib.h - calibration of the build-time model from what users already
 * have: build logs (`--timings`), `docker history` (`--layers`) and image
 * manifests (`--manifest`).
 *
 * Build logs: BuildKit `--progress=plain` (also with the timestamps CI job
 * logs put before each line, and with ANSI colour codes), BuildKit
 * `--progress=rawjson`, and legacy builder logs (timed only when the lines
 * carry timestamps: a step lasts until the next step's first line).  Each
 * executed step (DONE) becomes a measurement of its instruction, matched to
 * the reference Dockerfile by stage and position (buildlog_match()), else
 * kept by its own text for any stage.  Cached, errored and cancelled
 * steps, and steps that match nothing, measure nothing.  BuildKit's own
 * vertices give fixed costs: loading the definition, .dockerignore and
 * metadata (start), the build context, exporting, importing cache.
 *
 * History and manifests are matched to the reference Dockerfile's target
 * stage: history rows newest first against its instructions from the last
 * one back (raw layer sizes), manifest layers in order against its
 * layer-making steps from the last one back (compressed sizes; the layers
 * left before them are the base image's).
 *
 * Malformed or foreign input is an error (ERR_PARSE "FILE:LINE: ..."),
 * never a silent fallback.  The model module stays free of files: this
 * one reads them.
 */
#ifndef HARNESS_CALIB_H
#define HARNESS_CALIB_H

#include <stddef.h>

#include "dockerfile.h"
#include "err.h"
#include "keys.h"
#include "model.h"

/* The Dockerfile (and its keys under the builder of the files) that the
 * calibration files were produced from; either may be NULL. */
struct calib_ref {
    const struct df_file *df;
    const struct key_build *kb;
};

/* Read a build log from len bytes of text.  *nsteps (may be NULL) gets
 * the number of steps measured.  ERR_PARSE. */
int calib_timings(struct model_calib *c, const char *path, const char *text,
                  size_t len, const struct calib_ref *ref, size_t *nsteps,
                  struct err *err);
/* `docker history --no-trunc --format '{{json .}}'` lines.  ERR_PARSE,
 * also when ref has no Dockerfile. */
int calib_layers(struct model_calib *c, const char *path, const char *text,
                 size_t len, const struct calib_ref *ref, size_t *nsteps,
                 struct err *err);
/* An image manifest.  ERR_PARSE, also when it has fewer layers than the
 * target stage makes, or ref has no keys. */
int calib_manifest(struct model_calib *c, const char *path, const char *text,
                   size_t len, const struct calib_ref *ref, size_t *nsteps,
                   struct err *err);

/* The same from files (ERR_IO if unreadable). */
int calib_load(struct model_calib *c, const char *kind, const char *path,
               const struct calib_ref *ref, size_t *nsteps, struct err *err);

#endif
