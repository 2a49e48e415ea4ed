/*
 * image.h - what an existing image's metadata says about how it was built;
 * a JSON reader (one of the modules that include <jansson.h>).
 *
 * Inputs, told apart by their content:
 *   - `docker inspect IMAGE` output: a JSON array of image objects ("Id",
 *     "Config", "Container", "DockerVersion", "Comment"); a single such
 *     object is accepted too.  It has no history and never shows inline
 *     cache (the daemon drops that key).
 *   - the image config blob from a registry: an object with "rootfs",
 *     "history", "config", and, for an image built with inline cache, the
 *     top-level key "moby.buildkit.cache.v0".
 *   - `docker history --no-trunc --format '{{json .}}'`: one object per
 *     line with "CreatedBy" and "Comment", newest layer first.
 *   - `docker history --no-trunc` as a table (through buildlog.c).
 *
 * Markers (checked on Docker 20.10; tests/fixtures/doctor holds real ones):
 * BuildKit writes history comments "buildkit.dockerfile.v0" and created-by
 * strings ending in "# buildkit"; the legacy builder writes "/bin/sh -c #(nop)
 * ..." and bare "/bin/sh -c ..." (or "|N A=1 /bin/sh -c ...") created-by
 * strings and fills "container"/"docker_version" of the config.  The builder of
 * an image is the one that marked its newest history entry that carries a
 * marker: the base image's own layers may come from another builder.
 *
 * A registry manifest (schema 2 or OCI) and a manifest list / OCI index
 * are read by image_manifest_parse(), for `harness doctor --image`.
 *
 * Errors: ERR_PARSE "PATH:LINE: what is wrong" for malformed input; the
 * readers never abort on any input.
 */
#ifndef HARNESS_IMAGE_H
#define HARNESS_IMAGE_H

#include <stddef.h>

#include "err.h"

enum image_builder {
    IMAGE_BUILDER_UNKNOWN = 0,
    IMAGE_BUILDER_BUILDKIT,
    IMAGE_BUILDER_LEGACY,
};

/* "unknown" / "buildkit" / "legacy". */
const char *image_builder_name(enum image_builder b);

enum image_input {
    IMAGE_INPUT_INSPECT, /* docker inspect */
    IMAGE_INPUT_CONFIG,  /* config blob */
    IMAGE_INPUT_HISTORY, /* docker history lines (JSON or table) */
};

/* "inspect" / "config" / "history". */
const char *image_input_name(enum image_input k);

/* What one image's metadata shows. */
struct image_facts {
    enum image_input input;
    enum image_builder builder;
    int inline_cache;     /* 1 yes, 0 no, -1 the input cannot tell */
    int cache_records;    /* inline cache records; -1 unknown */
    int history;          /* history entries read (0 for inspect) */
    int buildkit_entries; /* entries carrying a BuildKit marker */
    int legacy_entries;   /* entries carrying a legacy marker */
    char ref[256];        /* first RepoTags entry (inspect), else "" */
    char evidence[160];   /* the marker that decided the builder */
};

/*
 * Read one file's worth of image metadata.  `docker inspect` of several
 * images gives several facts: *out is a malloc'ed array of *n entries that
 * the caller frees with free().  ERR_PARSE for malformed JSON ("PATH:LINE:
 * ..."), for a manifest given where a config was expected, and for text
 * that is none of the inputs above.
 */
int image_read(struct image_facts **out, size_t *n, const char *path,
               const char *text, size_t len, struct err *err);

/* The media types harness asks a registry for, for an Accept header. */
extern const char *const image_manifest_types[];

enum image_manifest_kind {
    IMAGE_MANIFEST,      /* docker schema 2 or OCI image manifest */
    IMAGE_MANIFEST_LIST, /* docker manifest list or OCI index */
};

struct image_manifest {
    enum image_manifest_kind kind;
    char config[72]; /* IMAGE_MANIFEST: "sha256:<hex>" of the config */
    long long config_size;
    char platform[72];   /* IMAGE_MANIFEST_LIST: "sha256:<hex>" of the
                            linux/amd64 entry ("" when there is none) */
    char platforms[256]; /* the platforms listed, "linux/arm64 ..." */
};

/*
 * Read a manifest or an index.  ERR_PARSE "PATH:LINE: ..." for malformed
 * JSON, an unknown schema or a missing config digest.
 */
int image_manifest_parse(struct image_manifest *out, const char *path,
                         const char *text, size_t len, struct err *err);

#endif
