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

#include "arena.h"
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

/* A step's reason is cut to this many bytes, its terminator included. */
#define SIM_REASON_MAX 512

/* A replay holds a hundred builds of a hundred steps each at a time: a
 * step keeps its reason, which most steps do not have, as a pointer. */
struct sim_step {
    enum outcome outcome;
    unsigned char from_layer; /* a hit whose record carried its layer */
    /* its reason is static (sim_step_reason_static): it outlives r, and a
     * replay's rows point to it as it is */
    unsigned char reason_static;
    double seconds;
    uint64_t layer_bytes; /* size of the layer it produced or reused */
    uint64_t bytes_pulled;
    unsigned char layer[SHA256_LEN]; /* layer digest, zero if none */
    /* Why it missed, "" if not said: set with sim_step_reason*(), never
     * NULL; the result's (or a string literal), valid until
     * sim_result_release(). */
    const char *reason;
};

struct sim_result {
    int failed;
    char error[512];
    struct sim_step *steps;
    size_t nsteps, scap; /* scap: steps allocated (nsteps + 1 at least) */
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
    struct arena reasons; /* the steps' reasons */
};

void sim_result_init(struct sim_result *r, size_t nsteps);
/* The same for a result initialised (or reset) before, or zeroed: what
 * it held is dropped, its memory kept for the new build (a replay fills
 * the same results commit after commit). */
void sim_result_reset(struct sim_result *r, size_t nsteps);
void sim_result_release(struct sim_result *r);
/* Record a transfer and add its bytes to the build's totals. */
void sim_result_xfer(struct sim_result *r, enum xfer_dir dir,
                     enum xfer_kind kind, const unsigned char *digest,
                     uint64_t bytes);
/* Set step i's reason, printf-style, cut to SIM_REASON_MAX - 1 bytes, in
 * r's storage. */
void sim_step_reason(struct sim_result *r, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set step i's reason to a copy of text (cut as above). */
void sim_step_reason_copy(struct sim_result *r, size_t i, const char *text);
/* Set step i's reason to text itself, which must outlive r (a string
 * literal shorter than SIM_REASON_MAX). */
void sim_step_reason_static(struct sim_result *r, size_t i, const char *text);
/* Set the build's fallback reason to a copy of text (cut to fit). */
void sim_result_fallback(struct sim_result *r, const char *text);
/* Sum hits/misses over the steps. */
void sim_result_count(struct sim_result *r);

#endif
