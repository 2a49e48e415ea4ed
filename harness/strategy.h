/*
 * strategy.h - caching strategies as a table of operations.
 *
 * A strategy is what a CI runner has before each build and what it keeps or
 * exports after it.  Each has a world of its own that lasts the whole
 * replay: its registry, its runners' local stores, its cache backend.  To
 * add one: write strategy_<name>.c with a `const struct strategy_ops`, and
 * add it to strategies[] in strategy.c.
 *
 * The decisions themselves (which step hits, what must be pulled, what a
 * step costs) are taken by sim_execute() in sim.c from the strategy's
 * cache view (struct sim_view), so the strategies differ only in where
 * records live and what they export.
 */
#ifndef HARNESS_STRATEGY_H
#define HARNESS_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"
#include "model.h"
#include "registry.h"
#include "sim.h"

enum engine {
    ENGINE_BUILDKIT,     /* standalone BuildKit (buildx docker-container) */
    ENGINE_DOCKER_2010,  /* dockerd 20.10: legacy builder + embedded BuildKit */
};

const char *engine_name(enum engine e);
int engine_parse(enum engine *out, const char *s);

enum assign { ASSIGN_ROUND_ROBIN, ASSIGN_RANDOM };

/* buildkitd's default GC keeps 10% of the disk, rounded up to whole GB
 * ((10% in GiB + 1) * 1e9): 26 GB on a 256 GiB runner disk, the figure
 * Docker's documentation prints as the default.  Its rules drop records
 * unused for 60 days, then the least recently used, only while the cache
 * is over that size (moby/buildkit cache/manager.go, prune). */
#define BUILDKIT_DEFAULT_KEEP (26ULL * 1000 * 1000 * 1000)

/* Options shared by every strategy of a replay. */
struct sim_config {
    enum engine engine;
    size_t runners;        /* persistent runners in the pool (>= 1) */
    enum assign assign;    /* how builds are assigned to runners */
    uint64_t seed;         /* for ASSIGN_RANDOM */
    uint64_t cache_limit;  /* runner store / local-dir limit, 0 = none */
    /* BuildKit's default GC on a persistent runner (`local` on the
     * buildkit engine) when cache_limit is 0: keep this many bytes */
    uint64_t buildkit_keep;
    uint64_t gha_limit;    /* GitHub Actions cache size, default 10 GB */
    int64_t gha_expiry;    /* seconds unused before eviction, 7 days */
    size_t keep_tags;      /* registry retention, 0 = keep all */
    int reproducible;      /* re-executed steps give identical layers */
    /* The registry images are pushed to ("ghcr.io", "127.0.0.1:5000"): a
     * base image from the same host is mounted there, not uploaded.
     * "": another registry than every base's (the common case). */
    char registry[128];
    struct model model;
};

void sim_config_defaults(struct sim_config *c);

/* One build to simulate. */
struct sim_build {
    const struct key_build *kb; /* keys under the strategy's builder */
    uint64_t seq;               /* 0-based position in the replay */
    int64_t time;               /* commit time, seconds since the epoch */
    /* What each step costs if it runs (model_step_cost, one per kb step),
     * and the commit's tree facts; NULL: worked out from the keys alone. */
    const struct model_cost *costs;
    const struct model_facts *facts;
};

/* Working arrays of sim_execute() and sim_push_image(), sized to the
 * longest build so far: a strategy keeps one so that its builds do not
 * allocate them each time.  Zeroed: empty. */
struct sim_scratch {
    size_t cap; /* elements of each array */
    struct sim_rec *recs;
    int *need, *exec, *dep_a, *dep_b, *want;
    double *dur;
    uint64_t *raw;
    struct dmap pulled; /* layers this build pulled */
    /* The base layers worked out lately (sim_base_layer): a layer's
     * digest is a hash of its reference, asked for several times a build
     * by every strategy, of a handful of bases. */
    struct sim_base_memo {
        char *ref; /* NULL: unused */
        struct image_layer layer;
    } bases[8];
    size_t next_base; /* the entry the next new base replaces */
    /* The arrays of the image the registry let go at the last push
     * (registry_tag), which the next push fills. */
    struct image spare;
};

void sim_scratch_release(struct sim_scratch *sc);

struct strategy;

struct strategy_ops {
    const char *name;
    enum builder builder;
    const char *summary;
    /* Allocate s->priv. */
    void (*init)(struct strategy *s);
    /* Simulate one build into out (already sized to the steps). */
    void (*build)(struct strategy *s, const struct sim_build *b,
                  struct sim_result *out);
    /* Free s->priv. */
    void (*release)(struct strategy *s);
    /* Bytes its cache holds outside the registry (runner stores, a cache
     * folder, gha, s3); NULL: none. */
    uint64_t (*cache_bytes)(const struct strategy *s);
    /* Records, blobs and keys s->priv holds for later builds; NULL: none. */
    size_t (*entries)(const struct strategy *s);
    /* Pass to registry_forget_keep(s->reg, ...) every digest s->priv can
     * still name in a later push beyond the newest image (the records it
     * imports, the layers its runners reuse); strategy_names_nothing when
     * there are none.  NULL: it cannot tell, so its registry remembers
     * every digest (registry.h, forgetting). */
    void (*nameable)(const struct strategy *s);
};

/* A nameable op for a world that refers to nothing but its newest image. */
void strategy_names_nothing(const struct strategy *s);

struct strategy {
    const struct strategy_ops *ops;
    const struct sim_config *cfg;
    struct registry *reg; /* the registry its images are pushed to */
    char prev_tag[32];    /* the last successful build's image */
    int has_prev;
    void *priv;
    struct sim_scratch scratch; /* its builds' working arrays */
};

/* The strategies, in the order `--strategy all` runs them. */
extern const struct strategy_ops *const strategy_table[];
extern const size_t strategy_count;

/* Look a strategy up by name; NULL if unknown. */
const struct strategy_ops *strategy_find(const char *name);

/* Create / free a strategy's world. */
struct strategy *strategy_new(const struct strategy_ops *ops,
                              const struct sim_config *cfg);
void strategy_free(struct strategy *s);

/* Simulate a build, then (if it succeeded) remember its image as the
 * previous one.  A failed build (kb->failed) is recorded with no steps
 * run past the failure.  Then, when it is due, the registry forgets the
 * digests no later push can name. */
void strategy_build(struct strategy *s, const struct sim_build *b,
                    struct sim_result *out);

/* How much the strategy's world holds for later builds: entries of its
 * maps and images (registry included), the figure that must follow what
 * the simulated caches keep, not how many commits were replayed.  Keys
 * garbage collection removed, kept only to say why a later step missed,
 * are not counted. */
size_t strategy_entries(const struct strategy *s);

/* Fill out's storage figures from the strategy's world as it is now. */
void strategy_measure(const struct strategy *s, struct sim_result *out);

/* Push the build's image to s->reg (unless the build failed) and make it
 * the previous image.  inline_cache: carry BuildKit inline cache records. */
void strategy_push(struct strategy *s, const struct sim_build *b,
                   int inline_cache, struct sim_result *out);
/* The previous successful build's image, or NULL. */
const struct image *strategy_prev(const struct strategy *s);

/* ---- the shared executor (sim.c) ---- */

/* Where a key's cached result lives, as a strategy's view reports it. */
struct sim_rec {
    int has_layer;          /* 0: key-only record (must re-run if needed) */
    int remote;             /* the layer has to be pulled to be used */
    struct image_layer layer;
};

struct sim_view {
    /* 1 and *rec filled if the key has a record, else 0. */
    int (*lookup)(void *arg, const unsigned char *key, struct sim_rec *rec);
    /* 1 if the base image (its layer digest) is in the local store. */
    int (*has_base)(void *arg, const unsigned char *digest);
    void *arg;
    const char *miss_reason; /* every miss gets this reason when set */
    int eager;               /* pull every hit's layer (local importer) */
    enum xfer_kind pull_kind; /* XFER_LAYER, or XFER_CACHE for backends */
    int imports; /* cache refs imported before the build (manifest and
                    config fetched for each) */
    int no_cache; /* --no-cache: no step is looked up (BuildKit's lookup
                     cost, cached_step, is paid by every other vertex) */
    struct sim_scratch *scratch; /* the strategy's; NULL: allocate */
    /* Start loading what lookup(arg, key) will read (a view over a map
     * far bigger than the CPU caches); NULL: nothing to do. */
    void (*prefetch)(void *arg, const unsigned char *key);
};

/* Decide every step, pull what is needed, run the rest (sim.c). */
void sim_execute(const struct sim_config *cfg, const struct sim_build *b,
                 const struct sim_view *v, uint64_t runner,
                 struct sim_result *out);

/* The digest of the layer a step with this key makes when it runs in build
 * seq on runner (the same for every run with --reproducible). */
void sim_layer_digest(const struct sim_config *cfg, const unsigned char *key,
                      uint64_t seq, uint64_t runner,
                      unsigned char out[SHA256_LEN]);

/* What step i of b costs if it runs (b->costs[i], or the model asked
 * from the keys alone). */
void sim_step_cost(const struct sim_config *cfg, const struct sim_build *b,
                   size_t i, struct model_cost *out);

/* The base image layer of a FROM step (digest and compressed size). */
void sim_base_layer(const struct sim_config *cfg, const struct key_step *s,
                    struct image_layer *out);
/* The same, remembered in sc (NULL: worked out each time). */
void sim_base_layer_memo(const struct sim_config *cfg,
                         const struct key_step *s, struct sim_scratch *sc,
                         struct image_layer *out);

/*
 * Push the target's image to reg: base layers, final-image layers, config
 * and manifest; only blobs the registry lacks are uploaded (and recorded).
 * With inline, the config carries cache records for every final-image
 * step and the vertices they depend on (key-only for layers not in the
 * image).  The image is returned in *img for registry_tag().
 */
void sim_push_image(const struct sim_config *cfg, struct registry *reg,
                    const struct sim_build *b, int inline_cache,
                    struct sim_result *r, struct image *img,
                    struct sim_scratch *scratch /* NULL: allocate */);

/* Set *c to the cache record of step s (result o); with_layer: the record
 * can give the step's files, else it is key-only (the layer digest is kept
 * either way, for assembling an image). */
void sim_record_set(struct cache_record *c, const struct key_step *s,
                    const struct sim_step *o, int with_layer);

/* Pull every blob of an image that is not in the local set (legacy
 * `docker pull`), recording transfers; returns the bytes pulled. */
uint64_t sim_pull_image(const struct sim_config *cfg, const struct image *img,
                        struct dmap *local, struct sim_result *r);

#endif
