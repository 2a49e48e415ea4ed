/*
 * strategy.c - the strategy table and what every strategy shares.
 */
#include "strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

extern const struct strategy_ops strategy_none;
extern const struct strategy_ops strategy_local;
extern const struct strategy_ops strategy_local_legacy;
extern const struct strategy_ops strategy_cache_from_legacy;
extern const struct strategy_ops strategy_cache_from_buildkit;
extern const struct strategy_ops strategy_inline;
extern const struct strategy_ops strategy_no_cache;
extern const struct strategy_ops strategy_no_cache_legacy;
extern const struct strategy_ops strategy_registry_min;
extern const struct strategy_ops strategy_registry_max;
extern const struct strategy_ops strategy_local_dir;
extern const struct strategy_ops strategy_gha;
extern const struct strategy_ops strategy_s3;

const struct strategy_ops *const strategy_table[] = {
    &strategy_none,
    &strategy_local,
    &strategy_local_legacy,
    &strategy_cache_from_legacy,
    &strategy_cache_from_buildkit,
    &strategy_inline,
    &strategy_no_cache,
    &strategy_no_cache_legacy,
    &strategy_registry_min,
    &strategy_registry_max,
    &strategy_local_dir,
    &strategy_gha,
    &strategy_s3,
};

const size_t strategy_count =
    sizeof(strategy_table) / sizeof(strategy_table[0]);

static const char *const engine_names[] = {
    [ENGINE_BUILDKIT] = "buildkit",
    [ENGINE_DOCKER_2010] = "docker-20.10",
};

const char *engine_name(enum engine e)
{
    return engine_names[e];
}

int engine_parse(enum engine *out, const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(engine_names) / sizeof(engine_names[0]); i++)
        if (!strcmp(s, engine_names[i])) {
            *out = (enum engine)i;
            return 0;
        }
    return ERR_NOTFOUND;
}

void sim_config_defaults(struct sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->engine = ENGINE_BUILDKIT;
    c->runners = 1;
    c->assign = ASSIGN_ROUND_ROBIN;
    c->seed = 1;
    c->gha_limit = 10ULL * 1000 * 1000 * 1000;
    c->buildkit_keep = BUILDKIT_DEFAULT_KEEP;
    c->gha_expiry = 7 * 24 * 3600;
    model_defaults(&c->model);
}

const struct strategy_ops *strategy_find(const char *name)
{
    size_t i;

    for (i = 0; i < strategy_count; i++)
        if (!strcmp(strategy_table[i]->name, name))
            return strategy_table[i];
    return NULL;
}

struct strategy *strategy_new(const struct strategy_ops *ops,
                              const struct sim_config *cfg)
{
    struct strategy *s = xcalloc(1, sizeof(*s));

    s->ops = ops;
    s->cfg = cfg;
    s->reg = registry_new(cfg->keep_tags);
    /* with --reproducible a step that runs again makes the same layer as
     * any earlier run of its key: every digest stays nameable */
    registry_set_forgetting(s->reg, ops->nameable && !cfg->reproducible);
    if (ops->init)
        ops->init(s);
    return s;
}

void strategy_free(struct strategy *s)
{
    if (!s)
        return;
    if (s->ops->release)
        s->ops->release(s);
    registry_free(s->reg);
    sim_scratch_release(&s->scratch);
    free(s);
}

void strategy_build(struct strategy *s, const struct sim_build *b,
                    struct sim_result *out)
{
    s->ops->build(s, b, out);
    sim_result_count(out);
    strategy_measure(s, out);
    if (registry_forget_due(s->reg)) {
        registry_forget_begin(s->reg);
        s->ops->nameable(s);
        registry_forget_end(s->reg);
    }
}

void strategy_names_nothing(const struct strategy *s)
{
    (void)s;
}

size_t strategy_entries(const struct strategy *s)
{
    return registry_entries(s->reg) +
           (s->ops->entries ? s->ops->entries(s) : 0);
}

void strategy_measure(const struct strategy *s, struct sim_result *out)
{
    out->registry_bytes = registry_bytes(s->reg);
    out->cache_bytes = s->ops->cache_bytes ? s->ops->cache_bytes(s) : 0;
}

/* "app:SEQ" into tag (a build's image; no printf per build) */
static void tag_name(char tag[32], uint64_t seq)
{
    char digits[24];
    size_t n = 0;

    do
        digits[n++] = (char)('0' + seq % 10);
    while ((seq /= 10) != 0);
    memcpy(tag, "app:", 4);
    for (size_t i = 0; i < n; i++)
        tag[4 + i] = digits[n - 1 - i];
    tag[4 + n] = '\0';
}

/* Push the build's image and make it the previous one (strategies call
 * this at the end of a successful build). */
void strategy_push(struct strategy *s, const struct sim_build *b,
                   int inline_cache, struct sim_result *out)
{
    struct image img;

    if (out->failed)
        return;
    sim_push_image(s->cfg, s->reg, b, inline_cache, out, &img, &s->scratch);
    tag_name(s->prev_tag, b->seq);
    registry_tag(s->reg, s->prev_tag, &img);
    image_release(&s->scratch.spare);
    s->scratch.spare = img; /* the arrays the next push fills */
    s->has_prev = 1;
}

const struct image *strategy_prev(const struct strategy *s)
{
    return s->has_prev ? registry_image(s->reg, s->prev_tag) : NULL;
}
