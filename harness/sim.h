/*
 * sim.h - what one simulated `docker build` did: per-step outcomes, bytes,
 * seconds and blob transfers.  Strategies fill a struct sim_result; replay
 * writes it to the store.
 *
 * Ownership: sim_result_init()/sim_result_release() around each build.
 */
#ifndef HARNESS_SIM_H
#define HARNESS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

enum outcome {
    OUTCOME_HIT,
    OUTCOME_MISS,
    OUTCOME_NONE,    /* no cache entry under this builder (metadata) */
    OUTCOME_SKIPPED, /* its stage is not built */
};

const char *outcome_name(enum outcome o);
int outcome_parse(enum outcome *out, const char *s);

enum xfer_dir { XFER_PULL, XFER_PUSH };
enum xfer_kind { XFER_LAYER, XFER_CONFIG, XFER_MANIFEST, XFER_CACHE };

const char *xfer_dir_name(enum xfer_dir d);
const char *xfer_kind_name(enum xfer_kind k);

struct sim_transfer {
    enum xfer_dir dir;
    enum xfer_kind kind;
    unsigned char digest[SHA256_LEN];
    uint64_t bytes;
};

struct sim_step {
    enum outcome outcome;
    double seconds;
    uint64_t layer_bytes; /* size of the layer it produced or reused */
    uint64_t bytes_pulled;
    unsigned char layer[SHA256_LEN]; /* layer digest, zero if none */
    int from_layer; /* a hit whose record carried its layer */
    char reason[512];                /* why it missed (or "") */
};

struct sim_result {
    int failed;
    char error[512];
    struct sim_step *steps;
    size_t nsteps;
    struct sim_transfer *xfers;
    size_t nxfers, xcap;
    double seconds;      /* the `docker build` command alone */
    double pull_seconds; /* a `docker pull` before it */
    double push_seconds; /* the image push after it */
    uint64_t bytes_pulled, bytes_pushed;
    int hits, misses;
    uint64_t registry_bytes; /* what the registry stores after the build */
    uint64_t cache_bytes;    /* what the cache stores outside it */
    /* Why a step missed when its key did not change since the previous
     * build (set by the strategy, e.g. "runner 2 of 4 had not built it"). */
    char fallback[192];
};

void sim_result_init(struct sim_result *r, size_t nsteps);
void sim_result_release(struct sim_result *r);
/* Record a transfer and add its bytes to the build's totals. */
void sim_result_xfer(struct sim_result *r, enum xfer_dir dir,
                     enum xfer_kind kind, const unsigned char *digest,
                     uint64_t bytes);
/* Sum hits/misses over the steps. */
void sim_result_count(struct sim_result *r);

#endif
