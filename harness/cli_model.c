/*
 * cli_model.c - model options of replay, verify and model (cli_model.h).
 */
#include "cli_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "context.h"
#include "facts.h"
#include "record.h"
#include "replay.h"

void cli_model_init(struct cli_model *c)
{
    memset(c, 0, sizeof(*c));
    c->cores = -1;
    model_calib_init(&c->calib);
}

void cli_model_release(struct cli_model *c)
{
    opt_list_release(&c->timings);
    opt_list_release(&c->layers);
    opt_list_release(&c->manifests);
    model_calib_free(&c->calib);
}

static int load_model(struct model *m, const char *path, struct err *err)
{
    struct buf b = BUF_INIT;
    int rc = buf_read_file(&b, path, err);

    if (rc == 0)
        rc = record_model_parse(m, path, b.ptr ? b.ptr : "", b.len, err);
    buf_release(&b);
    return rc;
}

int cli_model_check_file(const char *path, struct err *err)
{
    struct model m;

    model_profile(&m, "buildkit");
    return load_model(&m, path, err);
}

static int has_files(const struct cli_model *c)
{
    return c->timings.n || c->layers.n || c->manifests.n;
}

/* How many of the reference build's executed-kind steps are calibrated. */
static void count_calibrated(struct cli_model *c, const struct model *m,
                             const struct plan *p)
{
    const struct key_build *kb = p->kb[BUILDER_BUILDKIT];
    struct model_cost *costs;

    if (!kb)
        return;
    costs = xcalloc(kb->nsteps + 1, sizeof(*costs));
    facts_costs(m, p, MODEL_BUILDKIT, NULL, costs);
    for (size_t i = 0; i < kb->nsteps; i++) {
        enum df_kind k = kb->steps[i].kind;
        if (k != DF_RUN && k != DF_COPY && k != DF_ADD)
            continue;
        c->steps++;
        if (costs[i].seconds_src == MODEL_SRC_CALIBRATED ||
            costs[i].bytes_src == MODEL_SRC_CALIBRATED)
            c->calibrated++;
    }
    free(costs);
}

/* The prediction of the reference build if it ran cold under builder b. */
static double cold(const struct model *m, const struct plan *p, int b,
                   const struct model_facts *facts)
{
    const struct key_build *kb = p->kb[b];
    struct model_cost *costs = xcalloc(kb->nsteps + 1, sizeof(*costs));
    double t;

    facts_costs(m, p, b, facts, costs);
    t = facts_cold_seconds(m, kb, costs, facts, b);
    free(costs);
    return t;
}

/* The machine factor (cli_model.h) from the logs' wall times. */
static void machine_scale(struct cli_model *c, struct model *m,
                          const struct plan *p,
                          const struct model_facts *facts)
{
    double num = 0, den = 0, s;

    for (int b = 0; b < 2; b++) {
        double wall = c->calib.fixed[b].wall, p1, p2, u;
        struct model m2;
        if (wall < 0 || !p->kb[b] || p->kb[b]->failed)
            continue;
        m2 = *m;
        model_scale(&m2, 2);
        p1 = cold(m, p, b, facts);
        p2 = cold(&m2, p, b, facts);
        u = p2 - p1; /* the profile's part at scale 1 */
        num += wall - (p1 - u);
        den += u;
    }
    if (!(den > 0))
        return;
    s = num / den;
    /* a log cut short or a clock step: keep within reason */
    if (s < 0.05)
        s = 0.05;
    if (s > 20)
        s = 20;
    model_scale(m, s);
    c->scale = s;
}

static int read_files(struct cli_model *c, const struct opt_list *l,
                      const char *kind, const struct calib_ref *ref,
                      struct err *err)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t n = 0;
        int rc = calib_load(&c->calib, kind, l->items[i], ref, &n, err);
        if (rc < 0)
            return rc;
        /* read, but nothing in it applies: say so (a malformed or foreign
         * file is an error above) */
        if (!n)
            fprintf(stderr,
                    "harness: %s: warning: 0 steps calibrated (%s); the "
                    "model keeps its figures for them\n",
                    l->items[i],
                    !strcmp(kind, "timings")
                        ? "every step cached or failed, or a legacy log "
                          "without CI timestamps"
                        : "no RUN, COPY or ADD layer in the target stage");
        c->measured += n;
    }
    return 0;
}

int cli_model_resolve(struct cli_model *c, struct sim_config *cfg,
                      struct repo *r, const struct plan_options *po,
                      const struct oid *ref, struct err *err)
{
    struct ctx_cache *cc = NULL;
    struct plan p;
    struct calib_ref cr = { NULL, NULL };
    int rc = 0, planned = 0;

    model_profile(&cfg->model, engine_name(cfg->engine));
    if (c->model_file && (rc = load_model(&cfg->model, c->model_file, err)) < 0)
        return rc;
    if (c->cores != -1) {
        if (c->cores < 0 || c->cores > 1024)
            return err_set(err, ERR_USAGE,
                           "--cores must be between 0 (unbounded) and 1024");
        cfg->model.cores = (int)c->cores;
    }
    if (c->registry)
        snprintf(cfg->registry, sizeof(cfg->registry), "%s", c->registry);
    if (!has_files(c))
        return 0;
    if (r && ref) {
        if ((rc = ctx_cache_new(&cc, r)) < 0)
            return rc;
        rc = plan_make(&p, r, cc, ref, 1, po, PLAN_BUILDKIT | PLAN_LEGACY, 1,
                       err);
        if (rc < 0)
            goto out;
        planned = 1;
        if (!p.failed) {
            cr.df = p.df;
            cr.kb = p.kb[BUILDER_BUILDKIT];
        }
    }
    if ((rc = read_files(c, &c->timings, "timings", &cr, err)) < 0 ||
        (rc = read_files(c, &c->layers, "layers", &cr, err)) < 0 ||
        (rc = read_files(c, &c->manifests, "manifest", &cr, err)) < 0)
        goto out;
    cfg->model.calib = &c->calib;
    if (planned && !p.failed) {
        if (c->calib.fixed[0].wall >= 0 || c->calib.fixed[1].wall >= 0) {
            struct facts_cache *fc = facts_cache_new();
            struct model_facts facts;
            rc = facts_read(fc, r, &p, po ? po->context : NULL, 1, &facts,
                            err);
            facts_cache_free(fc);
            if (rc < 0)
                goto out;
            machine_scale(c, &cfg->model, &p, &facts);
        }
        count_calibrated(c, &cfg->model, &p);
    }
out:
    if (planned)
        plan_release(&p);
    ctx_cache_free(cc);
    return rc;
}

int cli_model_setup(struct cli_model *c, struct replay_options *o,
                    struct repo *r, struct err *err)
{
    struct oid *commits = NULL;
    size_t n = 0;
    int rc;

    if (has_files(c) && (rc = repo_range(r, o->range ? o->range : "HEAD",
                                         o->first_parent, &commits, &n,
                                         err)) < 0)
        return rc;
    rc = cli_model_resolve(c, &o->cfg, r, o->plan, n ? &commits[0] : NULL,
                           err);
    free(commits);
    return rc;
}

static void list_json(struct buf *j, const char *name,
                      const struct opt_list *l)
{
    if (!l->n)
        return;
    buf_printf(j, ",\"%s\":[", name);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_addch(j, ',');
        buf_add_json_str(j, l->items[i]);
    }
    buf_addch(j, ']');
}

void cli_model_json(struct buf *j, const struct cli_model *c)
{
    if (!c->model_file && !has_files(c) && c->cores == -1 && !c->registry)
        return;
    if (j->len && j->ptr[j->len - 1] == '}')
        j->len--;
    buf_adds(j, ",\"model\":{\"file\":");
    buf_add_json_str(j, c->model_file ? c->model_file : "");
    buf_printf(j, ",\"cores\":%ld,\"registry\":", c->cores);
    buf_add_json_str(j, c->registry ? c->registry : "");
    list_json(j, "timings", &c->timings);
    list_json(j, "layers", &c->layers);
    list_json(j, "manifests", &c->manifests);
    buf_adds(j, "}}");
}

void cli_model_note(const struct cli_model *c, char *out, size_t size)
{
    if (!has_files(c)) {
        if (size)
            out[0] = '\0';
        return;
    }
    snprintf(out, size,
             "calibrated %zu of %zu RUN/COPY/ADD steps of the reference "
             "build (%zu measurements)",
             c->calibrated, c->steps, c->measured);
    if (c->scale > 0) {
        size_t n = strlen(out);
        snprintf(out + n, size > n ? size - n : 0,
                 "; machine factor %.2f from the logs' wall times", c->scale);
    }
}
