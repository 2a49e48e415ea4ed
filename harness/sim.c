/*
 * sim.c - the executor shared by every strategy, and build results.
 *
 * sim_execute() decides one build in three passes over the steps:
 *  1. tentative outcomes: a vertex hits when the strategy's view has a
 *     record for its key; FROM hits when the base is in the local store;
 *  2. needs, from the last step back: a step that runs needs the results
 *     of its parent (its root file system) and of its source stage; a hit
 *     that is needed needs its own parent in turn.  A needed hit whose
 *     record has no layer (inline cache keeps only final-image layers; the
 *     builder stages' records are key-only) must run after all;
 *  3. costs: pulls of the needed remote layers, run time of the misses,
 *     new layer digests.
 * dockerd 20.10 assembles the image in its own store, so there every layer
 * of the final image is needed too (doc/cache-rules.md section 9: "on a full
 * hit every layer"); a standalone BuildKit pushes the layers it did not need by
 * reference, without pulling them.
 */
#include "strategy.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "facts.h"

static const char *const outcome_names[] = {
    [OUTCOME_HIT] = "hit",
    [OUTCOME_MISS] = "miss",
    [OUTCOME_NONE] = "none",
    [OUTCOME_SKIPPED] = "skipped",
};

const char *outcome_name(enum outcome o)
{
    return outcome_names[o];
}

int outcome_parse(enum outcome *out, const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
        if (!strcmp(s, outcome_names[i])) {
            *out = (enum outcome)i;
            return 0;
        }
    return ERR_NOTFOUND;
}

const char *xfer_dir_name(enum xfer_dir d)
{
    return d == XFER_PULL ? "pull" : "push";
}

const char *xfer_kind_name(enum xfer_kind k)
{
    static const char *const names[] = {
        [XFER_LAYER] = "layer",
        [XFER_CONFIG] = "config",
        [XFER_MANIFEST] = "manifest",
        [XFER_CACHE] = "cache",
    };
    return names[k];
}

void sim_result_init(struct sim_result *r, size_t nsteps)
{
    memset(r, 0, sizeof(*r));
    sim_result_reset(r, nsteps);
}

void sim_result_reset(struct sim_result *r, size_t nsteps)
{
    struct sim_step *steps = r->steps;
    struct sim_transfer *xfers = r->xfers;
    struct arena reasons = r->reasons;
    size_t scap = r->scap, xcap = r->xcap;

    if (nsteps + 1 > scap) {
        free(steps);
        scap = nsteps + 1;
        steps = xmalloc(scap * sizeof(*steps));
    }
    arena_clear(&reasons);
    memset(r, 0, sizeof(*r));
    memset(steps, 0, (nsteps + 1) * sizeof(*steps));
    for (size_t i = 0; i <= nsteps; i++)
        steps[i].reason = "";
    r->steps = steps;
    r->nsteps = nsteps;
    r->scap = scap;
    r->xfers = xfers;
    r->xcap = xcap;
    r->reasons = reasons;
    /* the reasons of a hundred steps that follow a miss fit in 4 KiB */
    r->reasons.first = 1024;
}

void sim_result_release(struct sim_result *r)
{
    free(r->steps);
    free(r->xfers);
    arena_release(&r->reasons);
    memset(r, 0, sizeof(*r));
}

void sim_step_reason(struct sim_result *r, size_t i, const char *fmt, ...)
{
    char text[SIM_REASON_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    r->steps[i].reason =
        arena_memdup(&r->reasons, text,
                     (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
    r->steps[i].reason_static = 0;
}

void sim_step_reason_copy(struct sim_result *r, size_t i, const char *text)
{
    size_t n = strnlen(text, SIM_REASON_MAX - 1);

    r->steps[i].reason = arena_memdup(&r->reasons, text, n);
    r->steps[i].reason_static = 0;
}

void sim_step_reason_static(struct sim_result *r, size_t i, const char *text)
{
    r->steps[i].reason = text;
    r->steps[i].reason_static = 1;
}

void sim_result_fallback(struct sim_result *r, const char *text)
{
    size_t n = strnlen(text, sizeof(r->fallback) - 1);

    memcpy(r->fallback, text, n);
    r->fallback[n] = '\0';
}

void sim_result_xfer(struct sim_result *r, enum xfer_dir dir,
                     enum xfer_kind kind, const unsigned char *digest,
                     uint64_t bytes)
{
    struct sim_transfer *t;

    XGROW(r->xfers, r->xcap, r->nxfers + 1);
    t = &r->xfers[r->nxfers++];
    t->dir = dir;
    t->kind = kind;
    memcpy(t->digest, digest, SHA256_LEN);
    t->bytes = bytes;
    if (dir == XFER_PULL)
        r->bytes_pulled += bytes;
    else
        r->bytes_pushed += bytes;
}

void sim_result_count(struct sim_result *r)
{
    size_t i;

    r->hits = r->misses = 0;
    for (i = 0; i < r->nsteps; i++) {
        if (r->steps[i].outcome == OUTCOME_HIT)
            r->hits++;
        else if (r->steps[i].outcome == OUTCOME_MISS)
            r->misses++;
    }
}

void sim_scratch_release(struct sim_scratch *sc)
{
    free(sc->recs);
    free(sc->need);
    free(sc->exec);
    free(sc->dep_a);
    free(sc->dep_b);
    free(sc->want);
    free(sc->dur);
    free(sc->raw);
    dmap_release(&sc->pulled);
    image_release(&sc->spare);
    for (size_t i = 0; i < sizeof(sc->bases) / sizeof(sc->bases[0]); i++)
        free(sc->bases[i].ref);
    memset(sc, 0, sizeof(*sc));
}

/* Make sc's arrays hold n elements (contents undefined). */
static void scratch_reserve(struct sim_scratch *sc, size_t n)
{
    if (n <= sc->cap)
        return;
    if (!sc->cap)
        dmap_init(&sc->pulled, 1);
    n = n < 2 * sc->cap ? 2 * sc->cap : n;
    sc->recs = xrealloc(sc->recs, n * sizeof(*sc->recs));
    sc->need = xrealloc(sc->need, n * sizeof(*sc->need));
    sc->exec = xrealloc(sc->exec, n * sizeof(*sc->exec));
    sc->dep_a = xrealloc(sc->dep_a, n * sizeof(*sc->dep_a));
    sc->dep_b = xrealloc(sc->dep_b, n * sizeof(*sc->dep_b));
    sc->want = xrealloc(sc->want, n * sizeof(*sc->want));
    sc->dur = xrealloc(sc->dur, n * sizeof(*sc->dur));
    sc->raw = xrealloc(sc->raw, n * sizeof(*sc->raw));
    sc->cap = n;
}

static void mix(unsigned char out[SHA256_LEN], const char *tag,
                const unsigned char *a, uint64_t x, uint64_t y)
{
    struct sha256 h;
    unsigned char n[16];
    int i;

    for (i = 0; i < 8; i++) {
        n[i] = (unsigned char)(x >> (8 * i));
        n[8 + i] = (unsigned char)(y >> (8 * i));
    }
    sha256_init(&h);
    sha256_field(&h, tag);
    if (a)
        sha256_update(&h, a, SHA256_LEN);
    sha256_update(&h, n, sizeof(n));
    sha256_final(&h, out);
}

/*
 * The layer digests a thread made lately.  A step that runs in a build
 * makes the same layer under every strategy that runs it on runner 1 (the
 * digest depends on the key, the build and the runner alone), and a
 * thread simulates the strategies of a batch of commits one after the
 * other: the first works each digest out, the others find it here.  A
 * slot per place, the newest digest wins; 4,096 of them hold the steps of
 * a batch of long builds for both builders.
 */
#define LAYER_MEMO 4096

struct layer_memo {
    unsigned char key[SHA256_LEN];
    uint64_t x, y; /* mix()'s numbers (0 and 0 with --reproducible) */
    int used;      /* 0: empty */
    unsigned char digest[SHA256_LEN];
};

static _Thread_local struct layer_memo layer_memo[LAYER_MEMO];

void sim_layer_digest(const struct sim_config *cfg, const unsigned char *key,
                      uint64_t seq, uint64_t runner,
                      unsigned char out[SHA256_LEN])
{
    uint64_t x = cfg->reproducible ? 0 : seq + 1,
             y = cfg->reproducible ? 0 : runner, h;
    struct layer_memo *m;

    memcpy(&h, key, sizeof(h)); /* a digest: its bits are uniform */
    m = &layer_memo[(h ^ (x * 0x9e3779b97f4a7c15ULL) ^ y) % LAYER_MEMO];
    if (m->used && m->x == x && m->y == y &&
        !memcmp(m->key, key, SHA256_LEN)) {
        memcpy(out, m->digest, SHA256_LEN);
        return;
    }
    mix(out, "layer", key, x, y);
    memcpy(m->key, key, SHA256_LEN);
    m->x = x;
    m->y = y;
    m->used = 1;
    memcpy(m->digest, out, SHA256_LEN);
}

void sim_base_layer_memo(const struct sim_config *cfg,
                         const struct key_step *s, struct sim_scratch *sc,
                         struct image_layer *out)
{
    const struct key_part *base = key_step_part(s, "base");
    const char *ref = base ? base->value : "";
    const size_t nmemo = sizeof(sc->bases) / sizeof(sc->bases[0]);
    struct sim_base_memo *m;
    struct sha256 h;

    for (size_t i = 0; sc && i < nmemo && sc->bases[i].ref; i++)
        if (!strcmp(sc->bases[i].ref, ref)) {
            *out = sc->bases[i].layer;
            return;
        }
    sha256_init(&h);
    sha256_field(&h, "base-layer");
    sha256_field(&h, ref);
    sha256_final(&h, out->digest);
    out->bytes = model_base_bytes(&cfg->model, ref, NULL);
    if (!sc)
        return;
    m = &sc->bases[sc->next_base];
    sc->next_base = (sc->next_base + 1) % nmemo;
    free(m->ref);
    m->ref = xstrdup(ref);
    m->layer = *out;
}

void sim_base_layer(const struct sim_config *cfg, const struct key_step *s,
                    struct image_layer *out)
{
    sim_base_layer_memo(cfg, s, NULL, out);
}

static int is_external_from(const struct key_step *s)
{
    return s->kind == DF_FROM && key_step_part(s, "base") != NULL;
}

/* The model's index (MODEL_LEGACY / MODEL_BUILDKIT) of kb's builder. */
static int builder_model(const struct key_build *kb)
{
    return kb->builder == BUILDER_LEGACY ? MODEL_LEGACY : MODEL_BUILDKIT;
}

/* The model's description of step i (sim_build.costs when the caller
 * worked it out once per commit, else from the keys alone). */
void sim_step_cost(const struct sim_config *cfg, const struct sim_build *b,
                   size_t i, struct model_cost *out)
{
    struct model_step_in in;

    if (b->costs) {
        *out = b->costs[i];
        return;
    }
    facts_step_in(&in, &cfg->model, &b->kb->steps[i], NULL,
                  builder_model(b->kb), b->facts);
    model_step_cost(&cfg->model, &in, out);
}

/* Steps whose lookups are started ahead of the one being decided: about
 * as many cache misses as a core keeps in flight. */
#define LOOKAHEAD 8

/* Start loading the parts of step i that the passes read: a build's
 * steps (a few hundred bytes each) were written by the planning thread and
 * are read by each strategy in turn, mostly after the CPU caches let them
 * go.  The key is near the start, the links after key_hex.  Inlined
 * always: GCC finds a function of prefetches alone free of effects and
 * drops the calls. */
static inline __attribute__((always_inline)) void
prefetch_step(const struct key_build *kb, size_t i)
{
    if (i < kb->nsteps) {
        __builtin_prefetch(&kb->steps[i].kind);
        __builtin_prefetch(&kb->steps[i].key[SHA256_LEN - 1]);
        __builtin_prefetch(&kb->steps[i].parent);
        __builtin_prefetch(&kb->steps[i].bytes);
    }
}

/* Pass 1: what the view says of each step. */
static void tentative(const struct sim_build *b, const struct sim_view *v,
                      const struct sim_config *cfg, struct sim_scratch *sc,
                      struct sim_rec *recs, struct sim_result *out)
{
    const struct key_build *kb = b->kb;
    size_t i, ahead = 0;

    for (i = 0; i < 2 * LOOKAHEAD; i++)
        prefetch_step(kb, i);
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        struct sim_step *o = &out->steps[i];

        prefetch_step(kb, i + 2 * LOOKAHEAD);

        /* keep the lookups of the next steps' keys in flight */
        for (; v->prefetch && ahead < kb->nsteps && ahead < i + LOOKAHEAD;
             ahead++)
            if (kb->steps[ahead].vertex && kb->steps[ahead].kind != DF_FROM)
                v->prefetch(v->arg, kb->steps[ahead].key);
        if (kb->failed && (int)i > kb->failed_step) {
            o->outcome = OUTCOME_SKIPPED;
            sim_step_reason(out, i, "the build failed at line %d",
                            kb->failed_line);
        } else if (kb->failed && (int)i == kb->failed_step) {
            o->outcome = OUTCOME_MISS;
            sim_step_reason_copy(out, i, kb->error);
        } else if (!s->built) {
            o->outcome = OUTCOME_SKIPPED;
            sim_step_reason(out, i, "stage %d is not needed for the target",
                            s->stage);
        } else if (!s->vertex) {
            o->outcome = OUTCOME_NONE;
        } else if (is_external_from(s)) {
            struct image_layer base;
            sim_base_layer_memo(cfg, s, sc, &base);
            recs[i].has_layer = 1;
            recs[i].layer = base;
            recs[i].remote = !v->has_base(v->arg, base.digest);
            o->outcome = OUTCOME_HIT;
        } else if (s->kind == DF_FROM) {
            o->outcome = OUTCOME_HIT; /* FROM <stage>: that stage's result */
            recs[i].has_layer = 1;
        } else if (v->lookup(v->arg, s->key, &recs[i])) {
            o->outcome = OUTCOME_HIT;
        } else {
            o->outcome = OUTCOME_MISS;
            if (v->miss_reason)
                sim_step_reason_copy(out, i, v->miss_reason);
        }
    }
}

/* Pass 2: which results the build needs.  exec[i]: a step that runs reads
 * step i's files, so i must be a hit with a layer or run itself; pull[i]:
 * step i's layer must be present locally (as the lower layer of something
 * used, or to assemble the image in dockerd's store). */
static void needs(const struct sim_config *cfg, const struct key_build *kb,
                  struct sim_rec *recs, struct sim_result *out, int *exec,
                  int *pull)
{
    size_t i = kb->nsteps;

    for (size_t j = 0; j < kb->nsteps; j++) {
        const struct key_step *s = &kb->steps[j];
        if (out->steps[j].outcome == OUTCOME_SKIPPED)
            continue;
        if (kb->builder == BUILDER_LEGACY && is_external_from(s))
            pull[j] = 1; /* legacy always starts a container from it */
        if (cfg->engine == ENGINE_DOCKER_2010 && !kb->failed && s->in_final)
            pull[j] = 1;
    }
    while (i-- > 0) {
        struct sim_step *o = &out->steps[i];
        const struct key_step *s = &kb->steps[i];
        int parent = s->parent;

        if (o->outcome == OUTCOME_SKIPPED)
            continue;
        if (o->outcome == OUTCOME_MISS) {
            if (parent >= 0)
                exec[parent] = 1;
            if (s->source >= 0)
                exec[s->source] = 1;
            continue;
        }
        if (o->outcome == OUTCOME_NONE) {
            if (parent >= 0) {
                exec[parent] |= exec[i];
                pull[parent] |= pull[i];
            }
            continue;
        }
        if (exec[i] && !recs[i].has_layer) {
            o->outcome = OUTCOME_MISS;
            sim_step_reason_static(
                out, i,
                "its cache record has no layer (only final-image layers are "
                "cached) and a later step needs its files");
            if (parent >= 0)
                exec[parent] = 1;
            if (s->source >= 0)
                exec[s->source] = 1;
            continue;
        }
        if (exec[i])
            pull[i] = 1;
        /* a layer is only usable on top of the layers below it */
        if (pull[i] && parent >= 0 && !is_external_from(s))
            pull[parent] = 1;
    }
}

/* Pass 3's time: the build command's wall time from its steps' durations
 * (the legacy builder in order, BuildKit over the graph), its fixed work
 * and the context it sends. */
static double build_seconds(const struct sim_config *cfg,
                            const struct sim_build *b, const struct sim_view *v,
                            const struct sim_result *out, const double *dur,
                            const uint64_t *raw, int *dep_a, int *dep_b)
{
    const struct key_build *kb = b->kb;
    int builder = builder_model(kb);
    uint64_t ctx_bytes = 0, new_raw = 0;
    size_t i, nnew = 0, nblobs = 0;
    int pulls = 0;
    double t;

    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        const struct sim_step *o = &out->steps[i];
        dep_a[i] = s->parent;
        if (is_external_from(s) && o->bytes_pulled)
            pulls = 1;
        if (o->bytes_pulled)
            nblobs++;
        dep_b[i] = s->source;
        if (o->outcome == OUTCOME_SKIPPED)
            continue;
        /* a stage from a base another stage pulls waits for that pull */
        if (is_external_from(s) && s->source < 0)
            dep_b[i] = key_same_base_before(kb, i);
        /* BuildKit sends (and checksums) what its COPY steps select; the
         * legacy builder the whole context, below */
        if ((s->kind == DF_COPY || s->kind == DF_ADD) && s->source < 0)
            ctx_bytes += s->bytes;
        if (o->outcome == OUTCOME_MISS && s->in_final && o->layer_bytes &&
            !is_external_from(s)) {
            nnew++;
            new_raw += raw[i];
        }
    }
    if (builder == MODEL_LEGACY || cfg->model.b[builder].context_full)
        ctx_bytes = b->facts ? b->facts->context_bytes : ctx_bytes;
    t = model_schedule(&cfg->model, builder, dur, dep_a, dep_b, kb->nsteps) +
        model_fixed_seconds(&cfg->model, builder, (size_t)v->imports, nnew,
                            new_raw) +
        model_context_seconds(&cfg->model, builder, ctx_bytes);
    if (pulls) /* a runner without the base resolves it first */
        t += cfg->model.b[builder].fresh_start;
    /* the layers a build pulls are fetched `pull_concurrency` at a time
     * (one vertex's "pulling sha256:..." lines end together), then
     * extracted one by one (each step's own time) */
    t += model_pull_seconds(&cfg->model, 0, nblobs, 0);
    return t;
}

void sim_execute(const struct sim_config *cfg, const struct sim_build *b,
                 const struct sim_view *v, uint64_t runner,
                 struct sim_result *out)
{
    const struct key_build *kb = b->kb;
    const struct model_builder *mb = &cfg->model.b[builder_model(kb)];
    struct sim_scratch own = { 0 }, *sc = v->scratch ? v->scratch : &own;
    size_t n = kb->nsteps + 1, i;
    struct sim_rec *recs;
    int *need, *exec;
    double *dur;
    uint64_t *raw;
    struct dmap *pulled = &sc->pulled;

    scratch_reserve(sc, n);
    recs = memset(sc->recs, 0, n * sizeof(*recs));
    need = memset(sc->need, 0, n * sizeof(*need));
    exec = memset(sc->exec, 0, n * sizeof(*exec));
    dur = memset(sc->dur, 0, n * sizeof(*dur));
    raw = memset(sc->raw, 0, n * sizeof(*raw));
    dmap_clear(pulled);
    tentative(b, v, cfg, sc, recs, out);
    needs(cfg, kb, recs, out, exec, need);
    out->failed = kb->failed;
    if (kb->failed)
        snprintf(out->error, sizeof(out->error), "%s", kb->error);
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        struct sim_step *o = &out->steps[i];
        struct model_cost c;
        int created;

        switch (o->outcome) {
        case OUTCOME_HIT:
            o->layer_bytes = recs[i].layer.bytes;
            memcpy(o->layer, recs[i].layer.digest, SHA256_LEN);
            o->seconds = is_external_from(s) ? 0 : mb->cached_step;
            o->from_layer = recs[i].has_layer != 0;
            if ((need[i] || (v->eager && !is_external_from(s))) &&
                recs[i].remote && recs[i].layer.bytes) {
                dmap_put(pulled, recs[i].layer.digest, &created);
                if (created) {
                    o->bytes_pulled = recs[i].layer.bytes;
                    /* its request is the build's (build_seconds);
                     * the download and extraction are the step's */
                    o->seconds += model_pull_seconds(
                        &cfg->model, recs[i].layer.bytes, 0, 1);
                    sim_result_xfer(out, XFER_PULL,
                                    is_external_from(s) ? XFER_LAYER
                                                        : v->pull_kind,
                                    recs[i].layer.digest,
                                    recs[i].layer.bytes);
                }
                if (is_external_from(s))
                    o->outcome = OUTCOME_MISS; /* pulled, not cached */
            }
            break;
        case OUTCOME_MISS:
            if (kb->failed && (int)i == kb->failed_step)
                break;
            sim_step_cost(cfg, b, i, &c);
            if (s->kind == DF_RUN || s->kind == DF_COPY ||
                s->kind == DF_ADD)
                o->layer_bytes = c.bytes;
            else if (s->kind == DF_WORKDIR)
                o->layer_bytes = s->layer ? 120 : 0;
            raw[i] = c.raw_bytes;
            o->seconds = c.seconds;
            if (s->vertex && !v->no_cache && kb->builder == BUILDER_BUILDKIT)
                o->seconds += mb->cached_step; /* the lookup that missed */
            if (o->layer_bytes)
                sim_layer_digest(cfg, s->key, b->seq, runner, o->layer);
            break;
        default:
            break;
        }
        dur[i] = o->seconds;
    }
    out->seconds += build_seconds(cfg, b, v, out, dur, raw, sc->dep_a,
                                  sc->dep_b);
    if (sc == &own)
        sim_scratch_release(&own);
}

/* Whether a FROM's base lives in the registry images are pushed to: the
 * push mounts it from the base's repository instead of uploading it. */
static int same_registry(const struct sim_config *cfg,
                         const struct key_step *s)
{
    const struct key_part *base = key_step_part(s, "base");
    const char *ref = base ? base->value : "", *slash = strchr(ref, '/');
    size_t n = strlen(cfg->registry);

    /* a host is the first component when it has a dot, a port or is
     * localhost; else the image is on Docker Hub */
    if (!n || !slash || (size_t)(slash - ref) != n ||
        strncmp(ref, cfg->registry, n))
        return 0;
    return memchr(ref, '.', n) || memchr(ref, ':', n) ||
           !strncmp(ref, "localhost", n);
}

static void put_blob(struct registry *reg, struct sim_result *r,
                     enum xfer_kind kind, const struct image_layer *l)
{
    uint64_t up = registry_put(reg, l->digest, l->bytes);

    if (up)
        sim_result_xfer(r, XFER_PUSH, kind, l->digest, up);
}

void sim_record_set(struct cache_record *c, const struct key_step *s,
                    const struct sim_step *o, int with_layer)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->key, s->key, SHA256_LEN);
    c->has_layer = with_layer;
    /* a key-only record still names the layer the image holds, so that
     * assembling the image can fetch it */
    memcpy(c->layer.digest, o->layer, SHA256_LEN);
    c->layer.bytes = o->layer_bytes;
}

/* Append step s's record to img, whose records array has room. */
static void image_record(struct image *img, const struct key_step *s,
                         const struct sim_step *o, int with_layer)
{
    sim_record_set(&img->records[img->nrecords++], s, o, with_layer);
}

/* The last vertex of the target stage: "the build's last step". */
static int last_vertex(const struct key_build *kb)
{
    size_t i = kb->nsteps;

    while (i-- > 0)
        if (kb->steps[i].stage == kb->target && kb->steps[i].vertex &&
            kb->steps[i].built)
            return (int)i;
    return -1;
}

/* Whether an inline record of final-image step i carries its layer.
 * BuildKit exports every final-image layer.  The BuildKit embedded in
 * dockerd 20.10 links layers only to the steps it executed in this build,
 * unless the build's last step was a hit, in which case the records keep
 * what was imported (doc/conformance.md, moby/buildkit#3730, #2274): the
 * cache "works every second time". */
static int inline_with_layer(const struct sim_config *cfg,
                             const struct key_build *kb,
                             const struct sim_result *r, size_t i)
{
    int last = last_vertex(kb);

    if (!kb->steps[i].in_final)
        return 0;
    if (cfg->engine != ENGINE_DOCKER_2010)
        return 1;
    if (last >= 0 && r->steps[last].outcome == OUTCOME_HIT)
        return r->steps[i].outcome == OUTCOME_MISS || r->steps[i].from_layer;
    return r->steps[i].outcome == OUTCOME_MISS;
}

/* Inline records: final-image steps with their layers, and the vertices
 * they depend on through COPY --from / FROM <stage>, key only. */
static void inline_records(const struct sim_config *cfg,
                           const struct key_build *kb,
                           const struct sim_result *r, struct image *img,
                           int *want)
{
    size_t i = kb->nsteps;

    memset(want, 0, (kb->nsteps + 1) * sizeof(*want));
    for (size_t j = 0; j < kb->nsteps; j++)
        if (kb->steps[j].stage == kb->target ||
            kb->steps[j].in_final)
            want[j] = 1;
    while (i-- > 0) {
        const struct key_step *s = &kb->steps[i];
        if (!want[i])
            continue;
        if (s->parent >= 0)
            want[s->parent] = 1;
        if (s->source >= 0)
            want[s->source] = 1;
    }
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        if (!want[i] || !s->vertex || !s->built || is_external_from(s))
            continue;
        image_record(img, s, &r->steps[i], inline_with_layer(cfg, kb, r, i));
    }
}

/*
 * The config and manifest digests a thread made lately, by what they hash.
 * Strategies that ran the same steps push the same image (none, no-cache
 * and cache-from-buildkit when nothing hits; more than half of the pushes
 * of the long-Dockerfile history repeat another strategy's image), and a
 * config hashes every layer and record: the first strategy hashes it, the
 * others of the thread compare it.  Images of more than IMAGE_MEMO_DIGESTS
 * layers and records are not remembered.
 */
#define IMAGE_MEMO 32
#define IMAGE_MEMO_DIGESTS 256

struct image_memo {
    uint64_t print; /* image_print() */
    size_t nlayers, nrecords; /* 0 and 0: empty */
    unsigned char config[SHA256_LEN], manifest[SHA256_LEN];
    unsigned char in[IMAGE_MEMO_DIGESTS][SHA256_LEN]; /* what was hashed */
};

static _Thread_local struct image_memo image_memo[IMAGE_MEMO];

/* A fingerprint of what an image's config hashes (uniform digests: a
 * word of each, mixed, tells images apart; image_same() decides). */
static uint64_t image_print(const struct image *img)
{
    uint64_t h = img->nlayers * 0x9e3779b97f4a7c15ULL ^ img->nrecords, w;

    for (size_t i = 0; i < img->nlayers; i++) {
        memcpy(&w, img->layers[i].digest, sizeof(w));
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
    }
    for (size_t i = 0; i < img->nrecords; i++) {
        memcpy(&w, img->records[i].key, sizeof(w));
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
    }
    return h ^ (h >> 29);
}

static int image_same(const struct image_memo *m, const struct image *img,
                      uint64_t print)
{
    if (m->print != print || m->nlayers != img->nlayers ||
        m->nrecords != img->nrecords || !(m->nlayers + m->nrecords))
        return 0;
    for (size_t i = 0; i < img->nlayers; i++)
        if (memcmp(m->in[i], img->layers[i].digest, SHA256_LEN))
            return 0;
    for (size_t i = 0; i < img->nrecords; i++)
        if (memcmp(m->in[img->nlayers + i], img->records[i].key, SHA256_LEN))
            return 0;
    return 1;
}

/* The config digest (its layers, then its records' keys) and the
 * manifest's (the config and the number of layers). */
static void image_digests(struct image *img)
{
    uint64_t print = image_print(img);
    struct image_memo *m = &image_memo[print % IMAGE_MEMO];
    size_t i, n = img->nlayers + img->nrecords;
    struct sha256 h;

    if (image_same(m, img, print)) {
        memcpy(img->config.digest, m->config, SHA256_LEN);
        memcpy(img->manifest.digest, m->manifest, SHA256_LEN);
        return;
    }
    sha256_init(&h);
    for (i = 0; i < img->nlayers; i++)
        sha256_update(&h, img->layers[i].digest, SHA256_LEN);
    for (i = 0; i < img->nrecords; i++)
        sha256_update(&h, img->records[i].key, SHA256_LEN);
    sha256_field(&h, "config");
    sha256_final(&h, img->config.digest);
    mix(img->manifest.digest, "manifest", img->config.digest, img->nlayers,
        0);
    if (!n || n > IMAGE_MEMO_DIGESTS)
        return;
    m->print = print;
    m->nlayers = img->nlayers;
    m->nrecords = img->nrecords;
    memcpy(m->config, img->config.digest, SHA256_LEN);
    memcpy(m->manifest, img->manifest.digest, SHA256_LEN);
    for (i = 0; i < img->nlayers; i++)
        memcpy(m->in[i], img->layers[i].digest, SHA256_LEN);
    for (i = 0; i < img->nrecords; i++)
        memcpy(m->in[img->nlayers + i], img->records[i].key, SHA256_LEN);
}

void sim_push_image(const struct sim_config *cfg, struct registry *reg,
                    const struct sim_build *b, int inline_cache,
                    struct sim_result *r, struct image *img,
                    struct sim_scratch *scratch)
{
    const struct key_build *kb = b->kb;
    size_t i, nhist = 0, mounted = SIZE_MAX;
    uint64_t pushed0 = r->bytes_pushed;

    /* Every array holds at most one element a step: sized once, from the
     * arrays of the image the last push replaced when there are any. */
    if (scratch) {
        *img = scratch->spare;
        memset(&scratch->spare, 0, sizeof(scratch->spare));
    } else {
        memset(img, 0, sizeof(*img));
    }
    img->nlayers = img->nrecords = 0;
    if (img->layercap < kb->nsteps + 1) {
        free(img->layers);
        img->layercap = kb->nsteps + 1;
        img->layers = xmalloc(img->layercap * sizeof(*img->layers));
    }
    if (img->reccap < kb->nsteps + 1) {
        free(img->records);
        img->reccap = kb->nsteps + 1;
        img->records = xmalloc(img->reccap * sizeof(*img->records));
    }
    memset(&img->config, 0, sizeof(img->config));
    memset(&img->manifest, 0, sizeof(img->manifest));
    img->builder = kb->builder;
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        const struct sim_step *o = &r->steps[i];
        struct image_layer l;

        if (is_external_from(s) && s->in_final) {
            /* the root of the target's chain */
            sim_base_layer_memo(cfg, s, scratch, &l);
            registry_pin(reg, l.digest); /* any later build may name it */
            if (same_registry(cfg, s))
                mounted = img->nlayers;
        } else if (s->in_final && o->layer_bytes &&
                   o->outcome != OUTCOME_SKIPPED) {
            memcpy(l.digest, o->layer, SHA256_LEN);
            l.bytes = o->layer_bytes;
        } else {
            if (s->stage == kb->target && s->built)
                nhist++;
            continue;
        }
        nhist++;
        img->layers[img->nlayers++] = l;
        registry_prefetch(reg, l.digest);
    }
    /* A registry holds every blob of the replay: look its layers up
     * together (prefetched above), in image order. */
    for (i = 0; i < img->nlayers; i++)
        if (i == mounted) /* a cross-repository mount: no upload */
            registry_put(reg, img->layers[i].digest, img->layers[i].bytes);
        else
            put_blob(reg, r, XFER_LAYER, &img->layers[i]);
    if (inline_cache) {
        struct sim_scratch own = { 0 }, *sc = scratch ? scratch : &own;
        scratch_reserve(sc, kb->nsteps + 1);
        inline_records(cfg, kb, r, img, sc->want);
        if (sc == &own)
            sim_scratch_release(&own);
    }
    else if (kb->builder == BUILDER_LEGACY)
        for (i = 0; i < kb->nsteps; i++)
            if (kb->steps[i].stage == kb->target && kb->steps[i].vertex)
                image_record(img, &kb->steps[i], &r->steps[i], 1);
    image_digests(img);
    img->config.bytes = 1500 + 220 * nhist +
                        (inline_cache ? 160 * img->nrecords : 0);
    put_blob(reg, r, XFER_CONFIG, &img->config);
    img->manifest.bytes = 430 + 160 * img->nlayers;
    put_blob(reg, r, XFER_MANIFEST, &img->manifest);
    r->push_seconds += model_push_seconds(&cfg->model, builder_model(kb),
                                          r->bytes_pushed - pushed0,
                                          img->nlayers + 2);
}

uint64_t sim_pull_image(const struct sim_config *cfg, const struct image *img,
                        struct dmap *local, struct sim_result *r)
{
    uint64_t bytes = 0;
    size_t i, n = 0;
    int created;

    sim_result_xfer(r, XFER_PULL, XFER_MANIFEST, img->manifest.digest,
                    img->manifest.bytes);
    sim_result_xfer(r, XFER_PULL, XFER_CONFIG, img->config.digest,
                    img->config.bytes);
    bytes += img->manifest.bytes + img->config.bytes;
    for (i = 0; i < img->nlayers; i++) {
        dmap_put(local, img->layers[i].digest, &created);
        if (!created)
            continue;
        sim_result_xfer(r, XFER_PULL, XFER_LAYER, img->layers[i].digest,
                        img->layers[i].bytes);
        bytes += img->layers[i].bytes;
        n++;
    }
    r->pull_seconds += cfg->model.pull_base +
                       model_pull_seconds(&cfg->model, bytes, n + 2, n);
    return bytes;
}
