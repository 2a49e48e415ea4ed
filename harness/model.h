/*
 * model.h - seconds and bytes of every step, transfer and fixed cost of a
 * build, per engine profile, with where each figure comes from.
 *
 * The model knows nothing of git or SQLite: callers describe a step (its
 * kind, its instruction text, the bytes a COPY selects, facts read from
 * the commit's tree) and the model answers what running it costs.  A
 * profile (`docker-20.10`, `buildkit`) holds every parameter; the same
 * values, each with its source, are in scenarios/model/<profile>.json, and
 * a test checks that the two agree.  Calibration records (from a user's
 * build logs, `docker history` and manifests) replace the estimates for
 * the instructions they match.
 *
 * Order of sources for an executed step: calibrated (the instruction's
 * own measured time or size), then a heuristic that reads the commit's
 * tree (packages in a lockfile, packages named on an apt-get/apk line,
 * bytes of sources for a compile), then a default per command family,
 * then a default per instruction.
 *
 * Everything is deterministic: the same inputs give the same figures.
 *
 * Ownership: struct model is a plain value; its calibration table (calib)
 * is borrowed from the caller (struct model_calib, freed with
 * model_calib_free()).
 */
#ifndef HARNESS_MODEL_H
#define HARNESS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Builder index: the same values as enum builder (keys.h). */
enum { MODEL_LEGACY = 0, MODEL_BUILDKIT = 1 };

/* Fixed costs of one builder under one engine. */
struct model_builder {
    double client;        /* s per build no log line shows: client start,
                             session, solver, naming the image */
    double fresh_start;   /* s per build that pulls its base: a runner
                             without it resolves the base (manifest and
                             config from the registry) before the FROM
                             vertex starts; no log line times it */
    double start;         /* s per build: loading the Dockerfile,
                             .dockerignore and base metadata (as logged) */
    double context_base;  /* s per context transfer */
    double context_mbps;  /* MB/s of context sent and checksummed */
    int context_full;     /* 1: the whole context every build (legacy);
                             0: only COPY sources that changed */
    double step_overhead; /* s per executed RUN: container start + commit */
    double copy_overhead; /* s per executed COPY/ADD */
    double copy_file;     /* s per file a COPY/ADD copies */
    double workdir_step;  /* s per executed WORKDIR */
    double meta_step;     /* s per metadata instruction (legacy: a commit) */
    double cached_step;   /* s per cache hit */
    double cache_import;  /* s per imported cache ref (manifest, config) */
    double export_base;   /* s per build: exporting the image */
    double export_layer;  /* s per new layer exported */
    double image_write;   /* s per build: image config, naming */
    int parallel;         /* independent stages run at once (BuildKit) */
    int compress_on_push; /* layers are gzipped by `docker push` (legacy),
                             not by the build's export */
};

/* Ecosystems whose lockfiles count packages. */
enum model_eco {
    MODEL_ECO_PIP,   /* requirements*.txt */
    MODEL_ECO_NPM,   /* package-lock.json */
    MODEL_ECO_GO,    /* go.sum */
    MODEL_ECO_CARGO, /* Cargo.lock */
    MODEL_ECO_NUGET, /* *.csproj PackageReference */
    MODEL_ECO_COUNT
};

/* What the commit's tree says, for heuristics (-1 / 0: unknown). */
struct model_facts {
    long packages[MODEL_ECO_COUNT]; /* -1: no such lockfile */
    uint64_t context_bytes;         /* the whole context */
    size_t context_files;
};

enum model_kind {
    MODEL_FROM,
    MODEL_RUN,
    MODEL_COPY, /* COPY and ADD */
    MODEL_WORKDIR,
    MODEL_META, /* ENV, LABEL, ... */
};

enum model_src {
    MODEL_SRC_DEFAULT,    /* per instruction kind */
    MODEL_SRC_FAMILY,     /* per command family (npm ci, go build, ...) */
    MODEL_SRC_HEURISTIC,  /* from the commit's tree or command text */
    MODEL_SRC_CALIBRATED, /* from the user's logs, history or manifest */
};

/* "default" / "family" / "heuristic" / "calibrated". */
const char *model_src_name(enum model_src s);

/* One calibrated instruction. */
struct model_calib_step {
    int stage;         /* 0-based stage; -1: any */
    char *text;        /* instruction text, blanks collapsed ("RUN make") */
    int builder;       /* whose log measured seconds; -1: unknown */
    double seconds;    /* measured; < 0: unknown */
    int64_t raw_bytes; /* layer size uncompressed; < 0: unknown */
    int64_t bytes;     /* compressed; < 0: unknown */
    char *from;        /* "FILE:LINE" of the measurement */
};

/* A base image's measured size (from a manifest). */
struct model_calib_base {
    char *image;   /* reference as in FROM */
    int64_t bytes; /* compressed layers */
    size_t layers;
    char *from;
};

/* Fixed costs measured in a log; < 0: not measured.  wall: the build
 * command's wall time, from the first to the last line of a log whose
 * lines carry CI timestamps (the first line being the command's start,
 * as CI job logs print it). */
struct model_calib_fixed {
    double start, context, export_total, cache_import;
    double wall;
    char from[300];
};

struct model_calib {
    struct model_calib_step *steps;
    size_t nsteps, cap;
    struct model_calib_base *bases;
    size_t nbases;
    struct model_calib_fixed fixed[2]; /* per builder */
};

#define MODEL_RUN_RULES 24
#define MODEL_BASES 16

/* A command family: a RUN whose text contains needle. */
struct model_run_rule {
    char needle[32];
    double seconds;     /* fixed part */
    double mbytes;      /* fixed part, uncompressed MB */
    int eco;            /* -1, or enum model_eco to count packages */
    int per_word;       /* 1: count the package words on the line
                           (apt-get install, apk add) */
    int per_source;     /* 1: scale with source bytes (compilers) */
    double pkg_seconds; /* per package (or per MB of sources) */
    double pkg_mbytes;  /* per package (or per MB of sources) */
};

struct model_base {
    char prefix[48];
    double mbytes; /* compressed */
};

struct model {
    char name[32]; /* "docker-20.10", "buildkit" */
    struct model_builder b[2];
    /* transfers */
    double blob_latency;  /* s per blob request (HEAD/GET/PUT round trip) */
    double pull_base;     /* s per `docker pull` command: client, auth,
                             manifest */
    double push_base;     /* s per `docker push` command */
    double extract_layer; /* s per layer extracted (snapshot, mount) */
    double pull_mbps;     /* download, MB/s */
    double push_mbps;     /* upload, MB/s */
    double unpack_mbps;   /* gunzip + extract, MB/s of raw layer */
    double pack_mbps;     /* gzip, MB/s of raw layer */
    int pull_concurrency; /* parallel downloads (dockerd: 3) */
    int push_concurrency; /* parallel uploads (dockerd: 5) */
    double compress_ratio; /* compressed / raw */
    double config_bytes;   /* image config: fixed part */
    double manifest_bytes; /* image manifest: fixed part */
    /* executed steps */
    double run_seconds;   /* RUN of no known family */
    double run_mbytes;
    double copy_mbps;     /* COPY/ADD of context files */
    double git_dir_files; /* files of a CI checkout's .git folder */
    double git_dir_mbytes; /* and their size */
    double unknown_base_mbytes;
    int cores;            /* the runner's cores; 0: unbounded */
    struct model_run_rule runs[MODEL_RUN_RULES];
    size_t nruns;
    struct model_base bases[MODEL_BASES];
    size_t nbases;
    double scale; /* the machine factor model_scale() applied; 1: the
                     profile as measured */
    const struct model_calib *calib; /* borrowed; NULL: none */
};

/* The built-in profile `name` ("docker-20.10" or "buildkit"); ERR_NOTFOUND
 * for another name (m unchanged). */
int model_profile(struct model *m, const char *name);
/* The `buildkit` profile. */
void model_defaults(struct model *m);

/* What a step would cost if it ran. */
struct model_step_in {
    enum model_kind kind;
    int builder; /* MODEL_LEGACY / MODEL_BUILDKIT */
    int stage;
    const char *text;    /* instruction as written, keyword first */
    const char *command; /* RUN: the command (shell form text) */
    const char *image;   /* FROM: the base reference */
    uint64_t copy_bytes; /* COPY/ADD: bytes selected */
    size_t copy_files;
    uint64_t source_bytes; /* RUN: bytes its stage copied from the context
                              before it (what a compiler reads) */
    const struct model_facts *facts; /* may be NULL */
};

struct model_cost {
    double seconds;     /* executed, its builder's overhead included */
    uint64_t raw_bytes; /* layer uncompressed */
    uint64_t bytes;     /* layer compressed (as pushed and pulled) */
    enum model_src seconds_src, bytes_src;
    char rule[96]; /* which rule or measurement, for `harness model` */
};

void model_step_cost(const struct model *m, const struct model_step_in *in,
                     struct model_cost *out);

/* Compressed size of a base image by reference: calibrated, else the
 * profile's table of known images, else unknown_base_mbytes.  *src (may
 * be NULL) says which. */
uint64_t model_base_bytes(const struct model *m, const char *image,
                          enum model_src *src);
/* Compressed size of a layer of `raw` bytes. */
uint64_t model_compressed(const struct model *m, uint64_t raw);

/* Seconds to pull `bytes` (compressed) in `nblobs` blobs of which
 * `nlayers` are layers: one request per blob, `pull_concurrency` at a
 * time, download, then extraction (serial: a fixed cost per layer and
 * the raw size). */
double model_pull_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs, size_t nlayers);
/* Seconds of a `docker push`: the command's fixed cost, a request per
 * blob checked (`nblobs`), upload of `bytes`, and gzip when the builder
 * compresses at push time. */
double model_push_seconds(const struct model *m, int builder, uint64_t bytes,
                          size_t nblobs);
/* Seconds to send the context (`bytes` of it, `full` or changed only). */
double model_context_seconds(const struct model *m, int builder,
                             uint64_t bytes);
/* Seconds of a build's fixed work: start, `nimports` cache refs imported,
 * export of `nlayers` new layers of `raw` bytes, image write. */
double model_fixed_seconds(const struct model *m, int builder,
                           size_t nimports, size_t nlayers, uint64_t raw);

/*
 * The build's wall time over its steps: task i takes dur[i] and starts
 * after dep_a[i] and dep_b[i] (-1: none) are done.  The legacy builder
 * runs them in order (the sum); BuildKit runs ready tasks at once, at most
 * `cores` at a time (0: unbounded), in index order (the critical path when
 * cores suffice).  O(n^2) worst case for small n, O(n) when in order.
 */
double model_schedule(const struct model *m, int builder, const double *dur,
                      const int *dep_a, const int *dep_b, size_t n);

/*
 * Scale the profile's machine-bound times by s (a machine s times slower
 * than the one the profile was measured on): every builder's fixed and
 * per-step costs, cache lookups, exports, per-blob and per-command
 * transfer costs and extraction are multiplied by s, the local rates
 * (context, copy, gzip, extraction) divided by it.  Network bandwidths and
 * the work of RUN commands (families, run_seconds) are not the machine's
 * and stay.  Calibrated figures (the calib table) are not touched.  s <= 0
 * is ignored.
 */
void model_scale(struct model *m, double s);

/* ---- calibration ---- */

void model_calib_init(struct model_calib *c);
void model_calib_free(struct model_calib *c);
/* Add (or refine) an instruction's measurement; strings are copied.  A
 * later figure for the same stage and text replaces an unknown one and
 * averages with a known one. */
void model_calib_add(struct model_calib *c, int stage, const char *text,
                     int builder, double seconds, int64_t raw_bytes,
                     int64_t bytes, const char *from);
void model_calib_base(struct model_calib *c, const char *image, int64_t bytes,
                      size_t layers, const char *from);
/* Text with blanks collapsed and trimmed, ANSI escapes removed, into out. */
void model_text_norm(const char *text, char *out, size_t size);

#endif
