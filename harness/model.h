/*
 * model.h - seconds and bytes for every executed step and every transfer.
 *
 * The model knows nothing of git or SQLite: it turns step descriptions into
 * estimates.  Defaults come from the public figures in doc/model.md and
 * are estimates until calibrated from a user's own logs; every figure here
 * says where it comes from.
 */
#ifndef HARNESS_MODEL_H
#define HARNESS_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct model {
    double pull_mbps;       /* registry download, MB/s */
    double push_mbps;       /* registry upload, MB/s */
    double unpack_mbps;     /* gunzip + extract, MB/s (pulls are often
                               extraction-bound: moby/moby#21814) */
    double pack_mbps;       /* gzip level 6 per layer, MB/s (estimate
                               20-50 MB/s on CI vCPUs: doc/model.md) */
    double blob_latency;    /* seconds per blob request */
    double cached_step;     /* seconds to resolve a cached step */
    double build_overhead;  /* seconds per build: client, solver, export */
    double context_mbps;    /* context send + checksum, MB/s */
    double compress_ratio;  /* compressed / uncompressed layer size */
    double meta_step;       /* legacy metadata step: container commit */
};

void model_defaults(struct model *m);

/* Estimated seconds and (uncompressed) layer bytes of a RUN command. */
double model_run_seconds(const struct model *m, const char *command);
uint64_t model_run_bytes(const struct model *m, const char *command);
/* Compressed transfer size of a base image by reference (known images from
 * doc/model.md, else 50 MB). */
uint64_t model_base_bytes(const struct model *m, const char *image);
/* Seconds for a COPY of `bytes` in `nfiles` files. */
double model_copy_seconds(const struct model *m, uint64_t bytes,
                          size_t nfiles);
/* Seconds to pull / push `bytes` (compressed) in `nblobs` blobs. */
double model_pull_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs);
double model_push_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs);
/* Compressed size of a layer of `raw` bytes. */
uint64_t model_compressed(const struct model *m, uint64_t raw);

#endif
