/*
 * strategy_local.c - persistent runners that keep their own cache between
 * builds: `local` (BuildKit's cache) and `local-legacy` (the legacy image
 * store).  A pool of N runners (--runners N) gives each its own store;
 * builds go to runners round-robin or at random, which is how self-hosted
 * fleets lose hits.  Over its size limit, the store is garbage-collected
 * least recently used first, as BuildKit's default GC policy keeps the
 * most recently used records.  The limit is --cache-limit, else for
 * `local` on the buildkit engine buildkitd's default (GC is on, keeping
 * cfg->buildkit_keep); dockerd 20.10 collects its build cache only when
 * daemon.json enables builder GC, and never collects the legacy builder's
 * images, so those stores keep everything unless a limit is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lstore.h"
#include "strategy.h"

/* A layer's digest is not kept in the store but made again
 * (sim_layer_digest) from the key and the build that ran the step. */
struct runner {
    struct lstore store;
    struct dmap bases; /* base layer digests pulled */
    size_t index;
    const struct sim_config *cfg;
    char fallback[192]; /* why its misses missed, said once (pool_init) */
};

struct pool {
    struct runner *runners;
    size_t n;
    uint64_t rng;
    struct dset evicted; /* keys some GC dropped, for reasons */
    size_t last;         /* runner of the current build */
};

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t store_limit(const struct strategy *s)
{
    if (s->cfg->cache_limit)
        return s->cfg->cache_limit;
    if (s->ops->builder == BUILDER_BUILDKIT &&
        s->cfg->engine == ENGINE_BUILDKIT)
        return s->cfg->buildkit_keep;
    return 0;
}

static void pool_init(struct strategy *s)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    size_t i;

    p->n = s->cfg->runners ? s->cfg->runners : 1;
    p->runners = xcalloc(p->n, sizeof(*p->runners));
    for (i = 0; i < p->n; i++) {
        lstore_init(&p->runners[i].store, store_limit(s));
        dmap_init(&p->runners[i].bases, 1);
        p->runners[i].index = i;
        p->runners[i].cfg = s->cfg;
        if (p->n > 1)
            snprintf(p->runners[i].fallback, sizeof(p->runners[i].fallback),
                     "runner %zu of %zu had not built it (pool assignment)",
                     i + 1, p->n);
        else
            snprintf(p->runners[i].fallback, sizeof(p->runners[i].fallback),
                     "not in the runner's cache");
    }
    dset_init(&p->evicted);
    p->rng = s->cfg->seed;
    s->priv = p;
}

static void pool_release(struct strategy *s)
{
    struct pool *p = s->priv;
    size_t i;

    for (i = 0; i < p->n; i++) {
        lstore_release(&p->runners[i].store);
        dmap_release(&p->runners[i].bases);
    }
    dset_release(&p->evicted);
    free(p->runners);
    free(p);
}

static int local_lookup(void *arg, const unsigned char *key,
                        struct sim_rec *rec)
{
    struct runner *r = arg;
    const struct lstore_entry *e = lstore_get(&r->store, key);

    if (!e)
        return 0;
    rec->has_layer = 1;
    rec->remote = 0;
    rec->layer.bytes = e->bytes;
    if (e->bytes)
        sim_layer_digest(r->cfg, key, e->origin - 1, r->index,
                         rec->layer.digest);
    else
        memset(rec->layer.digest, 0, SHA256_LEN);
    return 1;
}

static void local_prefetch(void *arg, const unsigned char *key)
{
    struct runner *r = arg;
    dmap_prefetch(&r->store.map, key);
}

static int local_has_base(void *arg, const unsigned char *digest)
{
    struct runner *r = arg;
    return dmap_get(&r->bases, digest) != NULL;
}

static void note_evicted(void *arg, const unsigned char *key)
{
    struct pool *p = arg;
    dset_add(&p->evicted, key);
}

static size_t pick_runner(struct pool *p, const struct strategy *s,
                          const struct sim_build *b)
{
    if (p->n == 1)
        return 0;
    if (s->cfg->assign == ASSIGN_RANDOM)
        return (size_t)(next_random(&p->rng) % p->n);
    return (size_t)(b->seq % p->n);
}

static void local_build(struct strategy *s, const struct sim_build *b,
                        struct sim_result *out)
{
    struct pool *p = s->priv;
    size_t ri = pick_runner(p, s, b), i;
    struct runner *r = &p->runners[ri];
    struct sim_view v = { .lookup = local_lookup,
                          .has_base = local_has_base,
                          .arg = r,
                          .prefetch = local_prefetch,
                          .scratch = &s->scratch };
    const struct key_build *kb = b->kb;

    sim_execute(s->cfg, b, &v, ri, out);
    for (i = 0; i < kb->nsteps; i++)
        if (out->steps[i].outcome == OUTCOME_MISS &&
            !out->steps[i].reason[0] && kb->steps[i].vertex &&
            dset_has(&p->evicted, kb->steps[i].key))
            sim_step_reason_static(
                out, i,
                s->cfg->cache_limit ? "its cache entry was removed by garbage "
                                      "collection (--cache-limit)"
                                    : "its cache entry was removed by garbage "
                                      "collection (BuildKit's default GC "
                                      "policy)");
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *st = &kb->steps[i];
        const struct sim_step *o = &out->steps[i];
        struct lstore_entry *e;
        int created;

        if (o->outcome == OUTCOME_SKIPPED || o->outcome == OUTCOME_NONE)
            continue;
        if (st->kind == DF_FROM && key_step_part(st, "base")) {
            struct image_layer base;
            sim_base_layer_memo(s->cfg, st, &s->scratch, &base);
            dmap_put(&r->bases, base.digest, NULL);
            continue;
        }
        if (kb->failed && (int)i >= kb->failed_step)
            continue;
        e = lstore_use(&r->store, st->key, (uint32_t)(b->seq + 1), &created);
        if (created) {
            /* only steps that ran make entries: their layer is the one
             * sim_execute named after this build */
            e->bytes = o->layer_bytes;
            e->origin = (uint32_t)(b->seq + 1);
            r->store.bytes += o->layer_bytes;
        }
    }
    lstore_gc(&r->store, note_evicted, p);
    sim_result_fallback(out, r->fallback);
    p->last = ri;
    strategy_push(s, b, 0, out);
}

/* Every runner's store: what the fleet keeps on its disks. */
static uint64_t pool_bytes(const struct strategy *s)
{
    const struct pool *p = s->priv;
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < p->n; i++)
        n += p->runners[i].store.bytes;
    return n;
}

static size_t pool_entries(const struct strategy *s)
{
    const struct pool *p = s->priv;
    size_t n = 0, i;

    for (i = 0; i < p->n; i++)
        n += p->runners[i].store.map.n + p->runners[i].bases.n;
    return n;
}

const struct strategy_ops strategy_local = {
    .name = "local",
    .builder = BUILDER_BUILDKIT,
    .summary = "persistent runner(s) keeping BuildKit's local cache",
    .init = pool_init,
    .build = local_build,
    .release = pool_release,
    .cache_bytes = pool_bytes,
    .entries = pool_entries,
};

const struct strategy_ops strategy_local_legacy = {
    .name = "local-legacy",
    .builder = BUILDER_LEGACY,
    .summary = "persistent runner(s) keeping the legacy builder's image "
               "store",
    .init = pool_init,
    .build = local_build,
    .release = pool_release,
    .cache_bytes = pool_bytes,
    .entries = pool_entries,
};
