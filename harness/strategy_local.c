/*
 * strategy_local.c - persistent runners that keep their own cache between
 * builds: `local` (BuildKit's cache) and `local-legacy` (the legacy image
 * store).  A pool of N runners (--runners N) gives each its own store;
 * builds go to runners round-robin or at random, which is how self-hosted
 * fleets lose hits.  With a size limit, the store is garbage-collected
 * least recently used first, as BuildKit's default GC policy keeps the
 * most recently used records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strategy.h"

struct entry {
    struct image_layer layer;
    uint64_t used; /* seq of the last build that used it, + 1 */
};

struct runner {
    struct dmap store; /* key -> struct entry */
    struct dmap bases; /* base layer digests pulled */
    uint64_t bytes;
};

struct pool {
    struct runner *runners;
    size_t n;
    uint64_t rng;
    struct dmap evicted; /* keys some GC dropped, for reasons */
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

static void pool_init(struct strategy *s)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    size_t i;

    p->n = s->cfg->runners ? s->cfg->runners : 1;
    p->runners = xcalloc(p->n, sizeof(*p->runners));
    for (i = 0; i < p->n; i++) {
        dmap_init(&p->runners[i].store, sizeof(struct entry));
        dmap_init(&p->runners[i].bases, 1);
    }
    dmap_init(&p->evicted, 1);
    p->rng = s->cfg->seed;
    s->priv = p;
}

static void pool_release(struct strategy *s)
{
    struct pool *p = s->priv;
    size_t i;

    for (i = 0; i < p->n; i++) {
        dmap_release(&p->runners[i].store);
        dmap_release(&p->runners[i].bases);
    }
    dmap_release(&p->evicted);
    free(p->runners);
    free(p);
}

static int local_lookup(void *arg, const unsigned char *key,
                        struct sim_rec *rec)
{
    struct runner *r = arg;
    const struct entry *e = dmap_get(&r->store, key);

    if (!e)
        return 0;
    rec->has_layer = 1;
    rec->remote = 0;
    rec->layer = e->layer;
    return 1;
}

static int local_has_base(void *arg, const unsigned char *digest)
{
    struct runner *r = arg;
    return dmap_get(&r->bases, digest) != NULL;
}

/* Drop least recently used entries until the store fits the limit; among
 * entries last used by the same build, the largest goes first. */
static void gc(struct pool *p, struct runner *r, uint64_t limit)
{
    while (limit && r->bytes > limit && r->store.n) {
        size_t pos = 0;
        const unsigned char *key, *best = NULL;
        struct entry *e, *victim = NULL;
        unsigned char k[SHA256_LEN];

        while ((e = dmap_next(&r->store, &pos, &key)))
            if (!victim || e->used < victim->used ||
                (e->used == victim->used &&
                 e->layer.bytes > victim->layer.bytes)) {
                victim = e;
                best = key;
            }
        memcpy(k, best, SHA256_LEN);
        r->bytes -= victim->layer.bytes;
        dmap_del(&r->store, k);
        dmap_put(&p->evicted, k, NULL);
    }
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
                          .arg = r };
    const struct key_build *kb = b->kb;

    sim_execute(s->cfg, b, &v, ri, out);
    for (i = 0; i < kb->nsteps; i++)
        if (out->steps[i].outcome == OUTCOME_MISS &&
            !out->steps[i].reason[0] && kb->steps[i].vertex &&
            dmap_get(&p->evicted, kb->steps[i].key))
            snprintf(out->steps[i].reason, sizeof(out->steps[i].reason),
                     "its cache entry was removed by garbage collection "
                     "(--cache-limit)");
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *st = &kb->steps[i];
        const struct sim_step *o = &out->steps[i];
        struct entry *e;
        int created;

        if (o->outcome == OUTCOME_SKIPPED || o->outcome == OUTCOME_NONE)
            continue;
        if (st->kind == DF_FROM && key_step_part(st, "base")) {
            struct image_layer base;
            sim_base_layer(s->cfg, st, &base);
            dmap_put(&r->bases, base.digest, NULL);
            continue;
        }
        if (kb->failed && (int)i >= kb->failed_step)
            continue;
        e = dmap_put(&r->store, st->key, &created);
        if (created) {
            memcpy(e->layer.digest, o->layer, SHA256_LEN);
            e->layer.bytes = o->layer_bytes;
            r->bytes += o->layer_bytes;
        }
        e->used = b->seq + 1;
    }
    gc(p, r, s->cfg->cache_limit);
    if (p->n > 1)
        snprintf(out->fallback, sizeof(out->fallback),
                 "runner %zu of %zu had not built it (pool assignment)",
                 ri + 1, p->n);
    else
        snprintf(out->fallback, sizeof(out->fallback),
                 "not in the runner's cache");
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
        n += p->runners[i].bytes;
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
};
