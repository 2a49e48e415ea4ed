/*
 * strategy_ephemeral.c - strategies whose runner starts empty every build
 * (a fresh CI machine after a full prune): none, cache-from-legacy,
 * cache-from-buildkit and inline.  They differ in what the previous image
 * gives the next build:
 *  - none: nothing (--no-cache);
 *  - cache-from-legacy: `docker pull` of the whole previous image, then the
 *    legacy builder matches its history chain (doc/cache-rules.md section
 *    9: "all", and the pull fetches every blob);
 *  - cache-from-buildkit: the previous image was built without inline
 *    cache: BuildKit fetches its manifest and config and finds no records;
 *  - inline: the config carries records for the final-image steps (with
 *    layers) and the steps they depend on (key only); layers are pulled
 *    only as far as the build needs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strategy.h"

/* Records imported for one build, by key. */
struct imported {
    struct dmap recs;  /* key -> struct sim_rec */
    struct dmap local; /* blobs in the local store: digest -> (nothing) */
};

static int imp_lookup(void *arg, const unsigned char *key,
                      struct sim_rec *rec)
{
    struct imported *im = arg;
    const struct sim_rec *r = dmap_get(&im->recs, key);

    if (!r)
        return 0;
    *rec = *r;
    return 1;
}

static int imp_has_base(void *arg, const unsigned char *digest)
{
    struct imported *im = arg;
    return dmap_get(&im->local, digest) != NULL;
}

/* A strategy's maps, kept from build to build (refilled by each). */
static void eph_init(struct strategy *s)
{
    struct imported *im = xcalloc(1, sizeof(*im));

    dmap_init(&im->recs, sizeof(struct sim_rec));
    dmap_init(&im->local, 1);
    s->priv = im;
}

static void eph_release(struct strategy *s)
{
    struct imported *im = s->priv;

    dmap_release(&im->recs);
    dmap_release(&im->local);
    free(im);
}

/* The strategy's maps, emptied for a new build. */
static struct imported *imp_begin(struct strategy *s)
{
    struct imported *im = s->priv;

    dmap_clear(&im->recs);
    dmap_clear(&im->local);
    return im;
}

static void imp_records(struct imported *im, const struct image *img,
                        int remote)
{
    size_t i;

    for (i = 0; i < img->nrecords; i++) {
        struct sim_rec *r = dmap_put(&im->recs, img->records[i].key, NULL);
        r->has_layer = img->records[i].has_layer;
        r->layer = img->records[i].layer;
        r->remote = remote;
    }
}

static void run(struct strategy *s, const struct sim_build *b,
                struct imported *im, const char *reason, int inline_cache,
                int imports /* -1: --no-cache */, struct sim_result *out)
{
    struct sim_view v = { .lookup = imp_lookup,
                          .has_base = imp_has_base,
                          .arg = im,
                          .miss_reason = reason,
                          .imports = imports < 0 ? 0 : imports,
                          .no_cache = imports < 0,
                          .scratch = &s->scratch };

    sim_execute(s->cfg, b, &v, 0, out);
    strategy_push(s, b, inline_cache, out);
}

static void fetch_config(const struct image *prev, struct sim_result *out)
{
    sim_result_xfer(out, XFER_PULL, XFER_MANIFEST, prev->manifest.digest,
                    prev->manifest.bytes);
    sim_result_xfer(out, XFER_PULL, XFER_CONFIG, prev->config.digest,
                    prev->config.bytes);
}

static void none_build(struct strategy *s, const struct sim_build *b,
                       struct sim_result *out)
{
    struct imported *im = imp_begin(s);

    run(s, b, im, "--no-cache: no step is looked up", 0, -1, out);
}

static void cfl_build(struct strategy *s, const struct sim_build *b,
                      struct sim_result *out)
{
    const struct image *prev = strategy_prev(s);
    struct imported *im = imp_begin(s);

    if (prev) {
        sim_pull_image(s->cfg, prev, &im->local, out);
        imp_records(im, prev, 0);
        /* the base layers came with the pull */
        sim_result_fallback(out,
                 "not in the history of the pulled previous image");
    }
    run(s, b, im, prev ? NULL : "first build: no previous image to pull",
        0, 0, out);
}

static void cfb_build(struct strategy *s, const struct sim_build *b,
                      struct sim_result *out)
{
    const struct image *prev = strategy_prev(s);
    struct imported *im = imp_begin(s);

    if (prev)
        fetch_config(prev, out);
    run(s, b, im,
        prev ? "the --cache-from image has no inline cache metadata, so "
               "BuildKit imports no records from it"
             : "first build: nothing to import",
        0, prev != NULL, out);
}

static void inline_build(struct strategy *s, const struct sim_build *b,
                         struct sim_result *out)
{
    const struct image *prev = strategy_prev(s);
    struct imported *im = imp_begin(s);

    if (prev) {
        fetch_config(prev, out);
        imp_records(im, prev, 1);
        sim_result_fallback(out,
                 "not among the inline cache records of the previous "
                 "image (only final-image steps are exported)");
    }
    run(s, b, im, prev ? NULL : "first build: nothing to import", 1,
        prev != NULL, out);
}

const struct strategy_ops strategy_none = {
    .name = "none",
    .builder = BUILDER_BUILDKIT,
    .summary = "BuildKit --no-cache on a fresh runner, push the image",
    .init = eph_init,
    .build = none_build,
    .release = eph_release,
    .nameable = strategy_names_nothing,
};

const struct strategy_ops strategy_cache_from_legacy = {
    .name = "cache-from-legacy",
    .builder = BUILDER_LEGACY,
    .summary = "fresh runner; docker pull the previous image, legacy "
               "--cache-from it",
    .init = eph_init,
    .build = cfl_build,
    .release = eph_release,
    .nameable = strategy_names_nothing,
};

const struct strategy_ops strategy_cache_from_buildkit = {
    .name = "cache-from-buildkit",
    .builder = BUILDER_BUILDKIT,
    .summary = "fresh runner; BuildKit --cache-from an image built without "
               "inline cache",
    .init = eph_init,
    .build = cfb_build,
    .release = eph_release,
    .nameable = strategy_names_nothing,
};

const struct strategy_ops strategy_inline = {
    .name = "inline",
    .builder = BUILDER_BUILDKIT,
    .summary = "fresh runner; BuildKit --cache-from the previous image "
               "built with BUILDKIT_INLINE_CACHE=1",
    .init = eph_init,
    .build = inline_build,
    .release = eph_release,
    .nameable = strategy_names_nothing,
};
