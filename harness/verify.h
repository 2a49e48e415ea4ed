/*
 * verify.h - build sampled commits for real on a Docker engine and compare
 * them, step by step, with the simulation of the same range (`harness
 * verify`).
 *
 * The real builds are run as ci/real-build runs them (the conformance
 * suite's driver): each from a fresh `git clone` checked out at the commit,
 * BuildKit with `--network=none --progress=plain`, the legacy builder with
 * DOCKER_BUILDKIT=0, an ephemeral runner's full prune (`docker system prune
 * -a -f`, `docker builder prune -a -f`), the image pushed to the registry
 * as the next build's previous image.
 *
 * Which commits are built.  A sample of K commits of the range is taken
 * (evenly spaced, the first of the range always in it).  What a build hits
 * depends on what came before it, so each strategy builds what its
 * simulation had seen before a sampled commit:
 *   - none: only the sampled commits (a full prune before each);
 *   - cache-from-legacy, cache-from-buildkit: each sampled commit right
 *     after its predecessor in the range (both after a full prune; the
 *     predecessor's image is all the state there is);
 *   - local, local-legacy (a persistent runner's cache) and inline (whose
 *     cache records depend on which steps the previous build executed):
 *     every commit from the first of the range to the last sampled one, on
 *     one runner, after one full prune.  This costs builds: sample from a
 *     short range (--range) for these.
 * Only the sampled commits are compared; every real build is recorded.
 *
 * Recorded builds instead (--real FILE, o->recorded): the real builds
 * ci/real-build recorded earlier are compared with the simulation as they
 * are, every one whose commit is in the range, without an engine.
 *
 * Besides the steps, each compared build's figures are compared: the
 * `docker build` seconds and the pull + push seconds (summed per
 * strategy), and the bytes pulled and pushed, each within
 * VERIFY_BYTES_PCT percent or VERIFY_BYTES_SLACK bytes, whichever is more
 * (the bound of doc/conformance.md, "Model accuracy").  Live builds measure
 * bytes pulled from BuildKit logs only (the legacy builder prints no
 * sizes) and no bytes pushed; recorded builds carry both from the
 * registry's access log.
 *
 * Ownership: struct verify_result owns its arrays (verify_result_release).
 * Modules never print: progress lines go to o->note.
 */
#ifndef HARNESS_VERIFY_H
#define HARNESS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record_real.h"
#include "replay.h"
#include "repo.h"
#include "store.h"

/* The bound on a build's bytes pulled and pushed. */
#define VERIFY_BYTES_PCT 5.0
#define VERIFY_BYTES_SLACK 20000

/* What a strategy needs before a sampled commit. */
enum verify_history {
    VERIFY_NOTHING,     /* built alone after a full prune */
    VERIFY_PREDECESSOR, /* its predecessor's image */
    VERIFY_CHAIN,       /* every commit since the start of the range */
};

/* A strategy as the real engine runs it (one table entry each). */
struct verify_strategy {
    const char *name; /* as in `harness replay` */
    int legacy;       /* DOCKER_BUILDKIT=0 */
    int prune_each;   /* full prune before every build (ephemeral runner) */
    enum verify_history history;
    int needs_registry; /* uses the previous image from the registry */
    int pull_prev;      /* `docker pull` the previous image first */
    int cache_from;     /* --cache-from the previous image */
    int inline_cache;   /* --build-arg BUILDKIT_INLINE_CACHE=1 */
    int no_cache;       /* --no-cache */
};

extern const struct verify_strategy verify_strategies[];
extern const size_t verify_strategy_count;

/* Look a strategy up by name; NULL if the real engine cannot run it. */
const struct verify_strategy *verify_strategy_find(const char *name);

/*
 * Pick min(k, n) of n commits, evenly spaced: index round(i (n-1)/(k-1))
 * for i < k, so the first and the last are always in it.  Writes the
 * indexes, increasing, to out (room for min(k, n)) and returns how many.
 */
size_t verify_sample(size_t n, size_t k, size_t *out);

/* One build of a strategy's plan. */
struct verify_item {
    size_t index; /* position of the commit in the range */
    int compare;  /* a sampled commit (else it only prepares one) */
};

/*
 * The builds a strategy runs for a sample (see the file comment), in
 * order.  *out (caller frees) gets *n items.
 */
void verify_plan(const struct verify_strategy *s, const size_t *sample,
                 size_t nsample, struct verify_item **out, size_t *n);

struct verify_options {
    const char *repo_path;   /* the repository to clone from */
    const char *docker;      /* the client, e.g. /usr/bin/docker */
    const char *docker_host; /* DOCKER_HOST; NULL: the environment's */
    const char *registry;    /* HOST:PORT; NULL: none */
    const char *db_path;     /* logs go to <db_path>.logs/ */
    const char *network;     /* BuildKit --network (ci/real-build: none) */
    const char *const *build_args; /* "K=V" for docker build */
    size_t nbuild_args;
    double timeout; /* seconds per docker or git command */
    size_t sample;  /* K */
    const struct verify_strategy **strategies;
    size_t nstrategies;
    /* The simulation: range, Dockerfile, context, target, --no-git-dir
     * and the strategies (the same names) are taken from here. */
    const struct replay_options *replay;
    /* Recorded real builds (--real): compared instead of building. */
    const struct record_real *recorded;
    size_t nrecorded;
    const char *recorded_path;
    void (*note)(void *arg, const char *line);
    void *note_arg;
};

/* A compared step (or build) on which the engine and the simulation
 * differ. */
struct verify_disagreement {
    char sha[OID_HEX];
    size_t index; /* position in the range */
    int line;     /* 0: the build as a whole */
    char instruction[16];
    char real[16]; /* "hit", "miss", "failed", ... */
    char sim[16];  /* "hit", "miss", "none", "skipped", "absent", ... */
};

struct verify_strategy_result {
    const struct verify_strategy *s;
    int skipped;     /* not run (e.g. no registry) */
    char note[160];  /* why it was skipped */
    size_t builds;   /* real builds run */
    size_t failed;   /* of which failed */
    size_t compared; /* sampled builds compared */
    size_t steps;    /* compared steps */
    size_t agree;
    double real_seconds; /* `docker build`, over the compared builds */
    double sim_seconds;
    size_t pp_builds;       /* compared builds with a pull or push timed */
    double real_pp_seconds; /* their pull + push seconds */
    double sim_pp_seconds;
    size_t bytes_builds; /* compared builds whose bytes were measured */
    size_t bytes_within; /* of which pulled and pushed are within the bound */
    int64_t bytes_worst; /* largest |simulated - real| bytes among them */
    struct verify_disagreement *dis;
    size_t ndis;
};

struct verify_result {
    int64_t run_id; /* the simulation's run */
    int recorded;   /* compared recorded builds (--real) */
    size_t commits; /* in the range */
    size_t *sample; /* indexes of the sampled commits */
    size_t nsample;
    char logs_dir[4096];
    struct verify_strategy_result *per; /* one per o->strategies */
    size_t nper;
};

/*
 * Whether the engine answers `docker version` (with o->docker_host).
 * Fills version (the server's, e.g. "20.10.24").  ERR_ENGINE: "no Docker
 * engine at 'HOST'" with the client's first line of output as the hint.
 */
int verify_engine_check(const struct verify_options *o, char *version,
                        size_t size, struct err *err);

/*
 * Simulate the range (replay_run into st), build the plan of every
 * strategy for real (or take o->recorded), record the real builds, and
 * compare.  Errors:
 * anything replay_run returns, ERR_IO (logs folder), ERR_ENGINE (git clone
 * or the engine failing as a whole), ERR_DB.  A build that fails is not an
 * error: it is recorded as failed (and is a disagreement if the simulation
 * built it).
 */
int verify_run(struct store *st, struct repo *r, const struct verify_options *o,
               struct verify_result *out, struct err *err);

void verify_result_release(struct verify_result *res);

#endif
