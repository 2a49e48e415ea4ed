/*
 * strategy_backend.c - BuildKit cache exporters on fresh runners:
 * registry-min and registry-max (a separate cache ref in the image's
 * registry), local-dir (an OCI layout folder), gha (GitHub Actions cache)
 * and s3.  Each build imports the records of the last export, pulls the
 * layers it needs, and exports again, overwriting the one scope.
 *
 * Modes (docs `build/cache/backends`): min exports the final image's
 * layers (and key-only records of what they depend on); max exports a
 * blob for every step of every stage.  local-dir, gha and s3 are modelled
 * with mode=max, the setting CI guides give them.
 *
 * Limits: gha holds 10 GB per repository, evicts least recently used
 * blobs beyond it and blobs unused for 7 days (commit time is the clock);
 * local-dir grows forever unless --cache-limit is set; s3 has no limit.
 * A record whose blob was evicted is key-only: the step runs again if the
 * build needs its files.  local-dir reads are disk reads, recorded as
 * "cache" pulls; the local importer reads every matched blob eagerly
 * (moby/buildkit#6572).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strategy.h"

enum limit { LIMIT_NONE, LIMIT_CACHE, LIMIT_GHA };

struct backend_kind {
    int max;        /* mode=max */
    int in_registry; /* blobs share the image registry */
    int eager;
    enum limit limit;
    int expires;    /* 7-day expiry of unused entries (gha) */
};

struct blob_use {
    uint64_t bytes;
    int64_t used; /* commit time of last use */
};

/* The records a build imported, by key (refilled every build). */
struct view_arg {
    struct dmap recs;
};

struct backend {
    const struct backend_kind *kind;
    struct dmap blobs; /* digest -> struct blob_use (not in_registry) */
    uint64_t bytes;
    struct cache_record *records; /* the scope's current manifest */
    size_t nrecords, reccap;
    /* the manifest before it: the next export's array (as big) */
    struct cache_record *spare;
    size_t sparecap;
    int exported;
    int64_t oldest; /* no entry was last used before this (lower bound) */
    struct view_arg va;
};

static const struct backend_kind kind_registry_min = { 0, 1, 0, LIMIT_NONE, 0 };
static const struct backend_kind kind_registry_max = { 1, 1, 0, LIMIT_NONE, 0 };
static const struct backend_kind kind_local_dir = { 1, 0, 1, LIMIT_CACHE, 0 };
static const struct backend_kind kind_gha = { 1, 0, 0, LIMIT_GHA, 1 };
static const struct backend_kind kind_s3 = { 1, 0, 0, LIMIT_NONE, 0 };

static void backend_init(struct strategy *s, const struct backend_kind *k)
{
    struct backend *be = xcalloc(1, sizeof(*be));

    be->kind = k;
    dmap_init(&be->blobs, sizeof(struct blob_use));
    dmap_init(&be->va.recs, sizeof(struct sim_rec));
    s->priv = be;
}

static void backend_release(struct strategy *s)
{
    struct backend *be = s->priv;

    dmap_release(&be->blobs);
    dmap_release(&be->va.recs);
    free(be->records);
    free(be->spare);
    free(be);
}

static int blob_present(struct strategy *s, struct backend *be,
                        const unsigned char *digest)
{
    if (be->kind->in_registry)
        return registry_has(s->reg, digest);
    return dmap_get(&be->blobs, digest) != NULL;
}

static int be_lookup(void *arg, const unsigned char *key, struct sim_rec *rec)
{
    struct view_arg *va = arg;
    const struct sim_rec *r = dmap_get(&va->recs, key);

    if (!r)
        return 0;
    *rec = *r;
    return 1;
}

static int be_has_base(void *arg, const unsigned char *digest)
{
    (void)arg;
    (void)digest;
    return 0; /* a fresh runner */
}

static uint64_t manifest_bytes(size_t nrecords)
{
    return 600 + 260 * (uint64_t)nrecords;
}

static void evict_one(struct backend *be)
{
    size_t pos = 0;
    const unsigned char *key, *victim_key = NULL;
    struct blob_use *u, *victim = NULL;
    unsigned char k[SHA256_LEN];

    while ((u = dmap_next(&be->blobs, &pos, &key)))
        if (!victim || u->used < victim->used) {
            victim = u;
            victim_key = key;
        }
    if (!victim)
        return;
    memcpy(k, victim_key, SHA256_LEN);
    be->bytes -= victim->bytes;
    dmap_del(&be->blobs, k);
}

/* Expire entries unused for longer than the expiry.  be->oldest is a lower
 * bound of every entry's last use (uses only move forward), so most builds
 * return at once instead of scanning the whole cache. */
static void expire(struct backend *be, int64_t now, int64_t expiry)
{
    size_t pos = 0, n = 0, i;
    const unsigned char *key;
    struct blob_use *u;
    unsigned char (*dead)[SHA256_LEN] = NULL;
    int64_t oldest = now;

    if (now - be->oldest <= expiry)
        return;
    while ((u = dmap_next(&be->blobs, &pos, &key))) {
        if (now - u->used > expiry) {
            dead = xrealloc(dead, (n + 1) * sizeof(*dead));
            memcpy(dead[n++], key, SHA256_LEN);
            be->bytes -= u->bytes;
        } else if (u->used < oldest) {
            oldest = u->used;
        }
    }
    for (i = 0; i < n; i++)
        dmap_del(&be->blobs, dead[i]);
    be->oldest = oldest;
    free(dead);
}

static void import(struct strategy *s, struct backend *be,
                   const struct sim_build *b, struct view_arg *va,
                   struct sim_result *out)
{
    size_t i;
    unsigned char mdigest[SHA256_LEN] = { 0 };

    if (!be->exported)
        return;
    mdigest[0] = 1;
    sim_result_xfer(out, XFER_PULL, XFER_CACHE, mdigest,
                    manifest_bytes(be->nrecords));
    for (i = 0; i < be->nrecords; i++) {
        const struct cache_record *c = &be->records[i];
        struct sim_rec *r = dmap_put(&va->recs, c->key, NULL);
        r->has_layer = c->has_layer &&
                       (!c->layer.bytes ||
                        blob_present(s, be, c->layer.digest));
        r->layer = c->layer;
        r->remote = 1;
    }
    (void)b;
}

/*
 * A cache that never evicts (s3, local-dir without --cache-limit) keeps
 * every blob it was given, but a later build can only name the blobs of
 * the last export's records: a step that runs again makes a layer no
 * earlier build made (its digest names the build), unless --reproducible.
 * So the map keeps those blobs alone; be->bytes still counts them all.
 */
static void forget_unreachable(struct backend *be)
{
    struct dmap keep;
    size_t i;

    dmap_init(&keep, sizeof(struct blob_use));
    for (i = 0; i < be->nrecords; i++) {
        const struct cache_record *c = &be->records[i];
        const struct blob_use *u;
        if (!c->has_layer || !c->layer.bytes ||
            !(u = dmap_get(&be->blobs, c->layer.digest)))
            continue;
        *(struct blob_use *)dmap_put(&keep, c->layer.digest, NULL) = *u;
    }
    dmap_release(&be->blobs);
    be->blobs = keep;
}

static void export(struct strategy *s, struct backend *be,
                   const struct sim_build *b, struct sim_result *out)
{
    const struct key_build *kb = b->kb;
    struct cache_record *recs;
    size_t n = 0, i, nblobs = 0;
    uint64_t pushed0 = out->bytes_pushed, limit = 0;
    unsigned char mdigest[SHA256_LEN] = { 0 };

    /* at most a record a step, in the array of the manifest before the
     * current one (sized once, not grown record by record) */
    if (be->sparecap < kb->nsteps + 1) {
        free(be->spare);
        be->sparecap = kb->nsteps + 1;
        be->spare = xmalloc(be->sparecap * sizeof(*be->spare));
    }
    recs = be->spare;
    if (be->kind->max) {
        for (i = 0; i < kb->nsteps; i++) {
            const struct key_step *st = &kb->steps[i];
            if (st->vertex && st->built && st->kind != DF_FROM)
                sim_record_set(&recs[n++], st, &out->steps[i], 1);
        }
    } else {
        /* min: the same records inline cache would carry */
        for (i = 0; i < kb->nsteps; i++) {
            const struct key_step *st = &kb->steps[i];
            if (st->vertex && st->built && st->kind != DF_FROM &&
                (st->in_final || st->stage == kb->target))
                sim_record_set(&recs[n++], st, &out->steps[i], st->in_final);
        }
    }
    for (i = 0; i < n; i++) {
        struct image_layer *l = &recs[i].layer;
        if (!recs[i].has_layer || !l->bytes)
            continue;
        nblobs++;
        if (be->kind->in_registry) {
            uint64_t up = registry_put(s->reg, l->digest, l->bytes);
            if (up)
                sim_result_xfer(out, XFER_PUSH, XFER_CACHE, l->digest, up);
        } else {
            int created;
            struct blob_use *u = dmap_put(&be->blobs, l->digest, &created);
            if (created) {
                u->bytes = l->bytes;
                be->bytes += l->bytes;
                sim_result_xfer(out, XFER_PUSH, XFER_CACHE, l->digest,
                                l->bytes);
            }
            u->used = b->time;
            if (created && (be->oldest == 0 || b->time < be->oldest))
                be->oldest = b->time;
        }
    }
    mdigest[0] = 2;
    sim_result_xfer(out, XFER_PUSH, XFER_CACHE, mdigest, manifest_bytes(n));
    out->seconds += model_push_seconds(&s->cfg->model, MODEL_BUILDKIT,
                                       out->bytes_pushed - pushed0,
                                       nblobs + 1);
    /* the arrays trade places: the replaced manifest's is the next
     * export's */
    be->spare = be->records;
    be->records = recs;
    be->nrecords = n;
    {
        size_t cap = be->reccap;
        be->reccap = be->sparecap;
        be->sparecap = cap;
    }
    be->exported = 1;
    if (be->kind->limit == LIMIT_GHA)
        limit = s->cfg->gha_limit;
    else if (be->kind->limit == LIMIT_CACHE)
        limit = s->cfg->cache_limit;
    while (limit && be->bytes > limit && be->blobs.n)
        evict_one(be);
    if (!limit && !be->kind->expires && !be->kind->in_registry &&
        !s->cfg->reproducible)
        forget_unreachable(be);
}

static void touch_used(struct backend *be, const struct sim_build *b,
                       const struct sim_result *out)
{
    size_t i;

    if (be->kind->in_registry)
        return;
    for (i = 0; i < out->nsteps; i++) {
        struct blob_use *u;
        if (out->steps[i].outcome != OUTCOME_HIT)
            continue;
        u = dmap_get(&be->blobs, out->steps[i].layer);
        if (u)
            u->used = b->time;
    }
}

static void backend_build(struct strategy *s, const struct sim_build *b,
                          struct sim_result *out)
{
    struct backend *be = s->priv;
    struct view_arg *va = &be->va;
    struct sim_view v = { be_lookup,       be_has_base, va, NULL,
                          be->kind->eager, XFER_CACHE,  0,   0,
                          &s->scratch,     NULL };

    dmap_clear(&va->recs);
    if (be->kind->expires)
        expire(be, b->time, s->cfg->gha_expiry);
    import(s, be, b, va, out);
    if (!be->exported)
        v.miss_reason = "first build: the cache is empty";
    else
        v.imports = 1;
    if (be->exported)
        sim_result_fallback(out,
                 be->kind->limit == LIMIT_GHA
                     ? "its blob was evicted from the GitHub Actions cache "
                       "(10 GB limit or 7 days unused)"
                     : "not among the exported cache records");
    sim_execute(s->cfg, b, &v, 0, out);
    touch_used(be, b, out);
    strategy_push(s, b, 0, out);
    if (!out->failed)
        export(s, be, b, out);
}

/* The layers the last export's records name (key-only records too: a
 * step they match that no later step needs keeps its layer in the image). */
static void backend_nameable(const struct strategy *s)
{
    const struct backend *be = s->priv;
    size_t i;

    for (i = 0; i < be->nrecords; i++)
        registry_forget_keep(s->reg, be->records[i].layer.digest);
}

/* A registry cache ref is counted in the registry; the others here. */
static uint64_t backend_bytes(const struct strategy *s)
{
    const struct backend *be = s->priv;
    return be->bytes;
}

#define BACKEND(ident, str, kindvar, text)                                     \
    static void ident##_init(struct strategy *s)                               \
    {                                                                          \
        backend_init(s, &kindvar);                                             \
    }                                                                          \
    const struct strategy_ops strategy_##ident = {                             \
        .name = str,                                                           \
        .builder = BUILDER_BUILDKIT,                                           \
        .summary = text,                                                       \
        .init = ident##_init,                                                  \
        .build = backend_build,                                                \
        .release = backend_release,                                            \
        .cache_bytes = backend_bytes,                                          \
        .nameable = backend_nameable,                                          \
    }

BACKEND(registry_min, "registry-min", kind_registry_min,
        "fresh runner; --cache-to/--cache-from type=registry,mode=min");
BACKEND(registry_max, "registry-max", kind_registry_max,
        "fresh runner; --cache-to/--cache-from type=registry,mode=max");
BACKEND(local_dir, "local-dir", kind_local_dir,
        "runner with a type=local cache folder (OCI layout), mode=max");
BACKEND(gha, "gha", kind_gha,
        "GitHub Actions cache: 10 GB, LRU, 7-day expiry, mode=max");
BACKEND(s3, "s3", kind_s3, "an S3 bucket cache (blobs + manifests), mode=max");
