/*
 * doctor.c - advice on --cache-from setups from an image's facts (see
 * doctor.h for the rules and where they were measured).
 */
#include <stdio.h>
#include <string.h>

#include "doctor.h"

static struct doctor_advice *add(struct doctor_advice *out, size_t *n,
                                 const char *setup, int hits)
{
    struct doctor_advice *a = &out[(*n)++];

    memset(a, 0, sizeof(*a));
    a->setup = setup;
    a->hits = hits;
    return a;
}

const char *doctor_setup_title(const char *setup)
{
    if (!strcmp(setup, "buildkit-cache-from"))
        return "BuildKit --cache-from";
    if (!strcmp(setup, "legacy-cache-from"))
        return "legacy --cache-from";
    if (!strcmp(setup, "registry-cache"))
        return "registry cache ref";
    return "builder";
}

/* The setup that needs no change to the image: a cache ref of its own,
 * mode=max (message: why, here). */
static void registry_cache(struct doctor_advice *out, size_t *n, int hits,
                           const char *message, const char *ref)
{
    struct doctor_advice *a = add(out, n, "registry-cache", hits);

    snprintf(a->message, sizeof(a->message), "%s", message);
    snprintf(a->fix, sizeof(a->fix),
             "docker buildx build --cache-to type=registry,ref=%s-cache,"
             "mode=max --cache-from type=registry,ref=%s-cache",
             ref, ref);
}

static void buildkit_with_inline(struct doctor_advice *out, size_t *n,
                                 const struct image_facts *f, const char *ref)
{
    struct doctor_advice *a = add(out, n, "buildkit-cache-from", 1);
    char records[64] = "";

    if (f->cache_records >= 0)
        snprintf(records, sizeof(records), " (%d cache records)",
                 f->cache_records);
    snprintf(a->message, sizeof(a->message),
             "the image carries inline cache%s, so BuildKit matches "
             "its steps without a pull first and fetches only the layers of "
             "the steps that hit (dockerd 20.10 fetches every layer on a full "
             "hit); the next image keeps the cache only if it is built the "
             "same way",
             records);
    snprintf(a->fix, sizeof(a->fix),
             "keep --build-arg BUILDKIT_INLINE_CACHE=1 on the build that "
             "pushes %s (with buildx: --cache-to type=inline)",
             ref);
    registry_cache(out, n, -1,
                   "inline cache is mode=min: it records the final stage "
                   "only, so the builder stages of a multi-stage Dockerfile "
                   "run again on a fresh runner; a separate cache ref with "
                   "mode=max keeps them",
                   ref);
}

static void buildkit_without_inline(struct doctor_advice *out, size_t *n,
                                    const char *ref)
{
    struct doctor_advice *a = add(out, n, "buildkit-cache-from", 0);

    snprintf(a->message, sizeof(a->message),
             "the image was built without inline cache (its config "
             "has no moby.buildkit.cache.v0), so BuildKit fetches its "
             "manifest and config, finds nothing to match and runs every "
             "step, without a warning");
    snprintf(a->fix, sizeof(a->fix),
             "add --build-arg BUILDKIT_INLINE_CACHE=1 to the build that "
             "pushes %s (with buildx: --cache-to type=inline)",
             ref);
    registry_cache(out, n, 1,
                   "without changing the image: export the cache to a ref "
                   "of its own (mode=max also keeps the builder stages of a "
                   "multi-stage build)",
                   ref);
}

static void buildkit_unknown_inline(struct doctor_advice *out, size_t *n,
                                    const struct image_facts *f,
                                    const char *ref)
{
    struct doctor_advice *a = add(out, n, "buildkit-cache-from", -1);

    snprintf(a->message, sizeof(a->message),
             "hits only if the image carries inline cache, which %s does "
             "not show (the key moby.buildkit.cache.v0 is in the config "
             "blob of the registry only); without it BuildKit runs every "
             "step",
             f->input == IMAGE_INPUT_INSPECT ? "docker inspect"
                                             : "docker history");
    snprintf(a->fix, sizeof(a->fix),
             "check with 'harness doctor --image %s --registry HOST:PORT'; "
             "to be sure, add --build-arg BUILDKIT_INLINE_CACHE=1 to the "
             "build that pushes it",
             ref);
}

static void legacy_from_buildkit(struct doctor_advice *out, size_t *n,
                                 const char *ref)
{
    struct doctor_advice *a = add(out, n, "legacy-cache-from", 0);

    snprintf(a->message, sizeof(a->message),
             "the legacy builder (DOCKER_BUILDKIT=0) matches only "
             "images it built itself, pulled or not; this one was built by "
             "BuildKit");
    snprintf(a->fix, sizeof(a->fix),
             "build with BuildKit: DOCKER_BUILDKIT=1 docker build "
             "--cache-from %s",
             ref);
}

static void legacy_image(struct doctor_advice *out, size_t *n, const char *ref)
{
    struct doctor_advice *a = add(out, n, "legacy-cache-from", 1);

    snprintf(a->message, sizeof(a->message),
             "only after a pull: --cache-from alone gives no hits "
             "and no warning; the pull fetches every layer of the image "
             "before the build starts");
    snprintf(a->fix, sizeof(a->fix),
             "docker pull %s || true, then DOCKER_BUILDKIT=0 docker build "
             "--cache-from %s",
             ref, ref);
    a = add(out, n, "buildkit-cache-from", 0);
    snprintf(a->message, sizeof(a->message),
             "a legacy-built image has no inline cache; BuildKit "
             "fetches its manifest and config and runs every step");
    snprintf(a->fix, sizeof(a->fix),
             "build the image that is pushed as %s with BuildKit and "
             "inline cache: DOCKER_BUILDKIT=1 docker build --build-arg "
             "BUILDKIT_INLINE_CACHE=1",
             ref);
}

static void unknown_builder(struct doctor_advice *out, size_t *n,
                            const struct image_facts *f, const char *ref)
{
    struct doctor_advice *a = add(out, n, "builder", -1);

    snprintf(a->message, sizeof(a->message),
             "cannot tell which builder made the image: %s (an imported "
             "image, or another builder such as kaniko or buildah)",
             f->history ? "no history entry carries a BuildKit or legacy "
                          "marker"
                        : "it has no history and no builder fields");
    snprintf(a->fix, sizeof(a->fix),
             "read its config blob or history: 'harness doctor --image %s "
             "--registry HOST:PORT' or docker history --no-trunc --format "
             "'{{json .}}' %s",
             ref, ref);
    if (f->inline_cache == 1) {
        buildkit_with_inline(out, n, f, ref);
    } else if (f->inline_cache == 0) {
        a = add(out, n, "buildkit-cache-from", 0);
        snprintf(a->message, sizeof(a->message),
                 "the config has no inline cache "
                 "(moby.buildkit.cache.v0)");
        snprintf(a->fix, sizeof(a->fix),
                 "build the image that is pushed as %s with BuildKit and "
                 "--build-arg BUILDKIT_INLINE_CACHE=1",
                 ref);
    }
}

size_t doctor_advise(const struct image_facts *f, const char *ref,
                     struct doctor_advice out[DOCTOR_MAX_ADVICE])
{
    size_t n = 0;

    if (!ref || !*ref)
        ref = "IMAGE";
    switch (f->builder) {
    case IMAGE_BUILDER_BUILDKIT:
        if (f->inline_cache == 1)
            buildkit_with_inline(out, &n, f, ref);
        else if (f->inline_cache == 0)
            buildkit_without_inline(out, &n, ref);
        else
            buildkit_unknown_inline(out, &n, f, ref);
        legacy_from_buildkit(out, &n, ref);
        break;
    case IMAGE_BUILDER_LEGACY:
        legacy_image(out, &n, ref);
        break;
    case IMAGE_BUILDER_UNKNOWN:
        unknown_builder(out, &n, f, ref);
        break;
    }
    return n;
}
