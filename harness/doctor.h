/*
 * doctor.h - what to change so that `--cache-from` hits, from what an
 * existing image shows (struct image_facts, read by image.c).
 *
 * For each way of importing cache from the image (BuildKit --cache-from,
 * legacy --cache-from, a separate registry cache ref) it says whether the
 * next build will hit, why, and the exact flag or command to add.  The
 * rules are the ones measured on Docker 20.10 (doc/conformance.md):
 *   - legacy --cache-from hits only from an image the legacy builder
 *     made, and only after a `docker pull` of it (no pull: no hits and no
 *     warning; the pull fetches every layer);
 *   - BuildKit --cache-from hits only from an image carrying inline cache
 *     (the config's moby.buildkit.cache.v0 key, written when the image was
 *     built with --build-arg BUILDKIT_INLINE_CACHE=1); otherwise it
 *     fetches the manifest and config and runs every step;
 *   - a legacy-built image never gives BuildKit hits, a BuildKit-built one
 *     never gives the legacy builder hits;
 *   - inline cache is mode=min: builder stages of a multi-stage build are
 *     not in it.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef HARNESS_DOCTOR_H
#define HARNESS_DOCTOR_H

#include <stddef.h>

#include "image.h"

#define DOCTOR_MAX_ADVICE 4

struct doctor_advice {
    const char *setup; /* "buildkit-cache-from", "legacy-cache-from",
                          "registry-cache", "builder" */
    int hits;          /* 1 will hit, 0 will not, -1 cannot tell */
    char message[512];
    char fix[320]; /* the flag or command to add; "" when none */
};

/*
 * Fill out[0..n) and return n (at most DOCTOR_MAX_ADVICE).  ref names the
 * image in the commands (e.g. "registry.example.com/app:main"); NULL or ""
 * writes IMAGE.
 */
size_t doctor_advise(const struct image_facts *f, const char *ref,
                     struct doctor_advice out[DOCTOR_MAX_ADVICE]);

/* "BuildKit --cache-from", "legacy --cache-from", ... for text output. */
const char *doctor_setup_title(const char *setup);

#endif
