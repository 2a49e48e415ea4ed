/*
 * strategy_nocache.c - `docker build --no-cache` on a machine that keeps its
 * image store between builds (a developer's machine, a persistent runner):
 * `no-cache` (BuildKit) and `no-cache-legacy` (the legacy builder).
 *
 * The base image stays in the store, so it is pulled once per runner.
 * Every step runs again, with the exceptions the real engine makes (Docker
 * 20.10, measured in doc/conformance.md): BuildKit's --no-cache marks RUN,
 * COPY and ADD to ignore the cache but not WORKDIR, whose mkdir is looked
 * up as usual: it hits when the runner built the same key before and every
 * step below it was itself taken from the cache (a WORKDIR straight after
 * FROM, or after such a WORKDIR); one after a step that ran again misses,
 * since the solver does not match a result it has just recomputed.  The
 * legacy builder's --no-cache looks nothing up.
 *
 * `none` is the same build on a fresh runner (strategy_ephemeral.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strategy.h"

struct nc_runner {
    struct dmap kept;  /* key -> struct image_layer (steps the engine reuses) */
    struct dmap bases; /* base layer digests in the store */
};

struct nc_pool {
    struct nc_runner *runners;
    size_t n;
    uint64_t rng;
};

static void nc_init(struct strategy *s)
{
    struct nc_pool *p = xcalloc(1, sizeof(*p));
    size_t i;

    p->n = s->cfg->runners ? s->cfg->runners : 1;
    p->runners = xcalloc(p->n, sizeof(*p->runners));
    for (i = 0; i < p->n; i++) {
        dmap_init(&p->runners[i].kept, sizeof(struct image_layer));
        dmap_init(&p->runners[i].bases, 1);
    }
    p->rng = s->cfg->seed;
    s->priv = p;
}

static void nc_release(struct strategy *s)
{
    struct nc_pool *p = s->priv;
    size_t i;

    for (i = 0; i < p->n; i++) {
        dmap_release(&p->runners[i].kept);
        dmap_release(&p->runners[i].bases);
    }
    free(p->runners);
    free(p);
}

static int nc_lookup(void *arg, const unsigned char *key, struct sim_rec *rec)
{
    struct nc_runner *r = arg;
    const struct image_layer *l = dmap_get(&r->kept, key);

    if (!l)
        return 0;
    rec->has_layer = 1;
    rec->remote = 0;
    rec->layer = *l;
    return 1;
}

static int nc_has_base(void *arg, const unsigned char *digest)
{
    struct nc_runner *r = arg;
    return dmap_get(&r->bases, digest) != NULL;
}

/* Whether the engine can take step i from its cache despite --no-cache:
 * a BuildKit WORKDIR whose chain down to the base ran nothing again. */
static int reused_under_no_cache(const struct strategy *s,
                                 const struct key_build *kb, size_t i)
{
    const struct key_step *st = &kb->steps[i];

    if (s->ops->builder != BUILDER_BUILDKIT)
        return 0;
    if (st->kind == DF_FROM)
        return st->parent < 0 ||
               reused_under_no_cache(s, kb, (size_t)st->parent);
    if (st->kind != DF_WORKDIR)
        return 0;
    return st->parent < 0 || reused_under_no_cache(s, kb, (size_t)st->parent);
}

static size_t nc_pick(struct nc_pool *p, const struct strategy *s,
                      const struct sim_build *b)
{
    uint64_t z;

    if (p->n == 1)
        return 0;
    if (s->cfg->assign != ASSIGN_RANDOM)
        return (size_t)(b->seq % p->n);
    /* splitmix64, as the local pool draws */
    z = (p->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (size_t)((z ^ (z >> 31)) % p->n);
}

static void nc_build(struct strategy *s, const struct sim_build *b,
                     struct sim_result *out)
{
    struct nc_pool *p = s->priv;
    size_t ri = nc_pick(p, s, b), i;
    struct nc_runner *r = &p->runners[ri];
    struct sim_view v = { .lookup = nc_lookup,
                          .has_base = nc_has_base,
                          .arg = r,
                          .scratch = &s->scratch };
    const struct key_build *kb = b->kb;

    sim_execute(s->cfg, b, &v, ri, out);
    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *st = &kb->steps[i];
        struct sim_step *o = &out->steps[i];

        if (o->outcome == OUTCOME_SKIPPED || o->outcome == OUTCOME_NONE)
            continue;
        if (st->kind == DF_FROM && key_step_part(st, "base")) {
            struct image_layer base;
            sim_base_layer_memo(s->cfg, st, &s->scratch, &base);
            dmap_put(&r->bases, base.digest, NULL);
            continue;
        }
        if (o->outcome == OUTCOME_MISS && !o->reason[0] && st->vertex)
            sim_step_reason_static(out, i,
                                   reused_under_no_cache(s, kb, i)
                                       ? "not built before on this runner"
                                       : "--no-cache: the step runs again");
        if (kb->failed && (int)i >= kb->failed_step)
            continue;
        if (reused_under_no_cache(s, kb, i)) {
            struct image_layer *l = dmap_put(&r->kept, st->key, NULL);
            memcpy(l->digest, o->layer, SHA256_LEN);
            l->bytes = o->layer_bytes;
        }
    }
    sim_result_fallback(out,
             "--no-cache: the step runs again");
    strategy_push(s, b, 0, out);
}

/* The layers a runner reuses (the only ones a later push names again,
 * beyond the newest image's). */
static void nc_nameable(const struct strategy *s)
{
    const struct nc_pool *p = s->priv;
    size_t i;

    for (i = 0; i < p->n; i++) {
        size_t pos = 0;
        const struct image_layer *l;
        while ((l = dmap_next(&p->runners[i].kept, &pos, NULL)))
            registry_forget_keep(s->reg, l->digest);
    }
}

const struct strategy_ops strategy_no_cache = {
    .name = "no-cache",
    .builder = BUILDER_BUILDKIT,
    .summary = "BuildKit --no-cache on a persistent runner that keeps its "
               "image store (WORKDIR is still reused), push the image",
    .init = nc_init,
    .build = nc_build,
    .release = nc_release,
    .nameable = nc_nameable,
};

const struct strategy_ops strategy_no_cache_legacy = {
    .name = "no-cache-legacy",
    .builder = BUILDER_LEGACY,
    .summary = "legacy builder --no-cache on a persistent runner that keeps "
               "its image store, push the image",
    .init = nc_init,
    .build = nc_build,
    .release = nc_release,
    .nameable = nc_nameable,
};
