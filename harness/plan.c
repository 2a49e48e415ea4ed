#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* A parsed Dockerfile shared by the plans of consecutive commits whose
 * Dockerfile blob is the same (most commits do not touch it). */
struct plan_df {
    struct df_file *df;
    int refs;
};

struct plan_cache {
    struct oid blob;
    struct plan_df *pd;
    /* The last build of each builder, whose keys the next commit's steps
     * take where their parts did not change (keys_options.prev). */
    struct key_build *last[2];
};

struct plan_cache *plan_cache_new(void)
{
    return xcalloc(1, sizeof(struct plan_cache));
}

static void plan_df_unref(struct plan_df *pd)
{
    if (pd && --pd->refs == 0) {
        df_file_free(pd->df);
        free(pd);
    }
}

void plan_cache_free(struct plan_cache *pc)
{
    if (!pc)
        return;
    plan_df_unref(pc->pd);
    key_build_free(pc->last[0]);
    key_build_free(pc->last[1]);
    free(pc);
}

/* Read and parse the Dockerfile of a commit into p (sharing it through
 * o->cache when the blob did not change).  ERR_NOTFOUND / ERR_PARSE with
 * err set, or another error. */
static int read_dockerfile(struct plan *p, struct repo *r,
                           const struct oid *commit,
                           const struct plan_options *o, const char *path,
                           struct err *err)
{
    struct df_options dfo = { o->build_args, o->nbuild_args };
    struct plan_cache *pc = o->cache;
    struct oid blob;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = repo_path_blob(r, commit, path, &blob, err)) < 0)
        return rc;
    if (o->rewrite)
        pc = NULL; /* the text now depends on more than the blob */
    if (pc && pc->pd && oid_equal(&pc->blob, &blob)) {
        p->dfref = pc->pd;
        pc->pd->refs++;
        p->df = pc->pd->df;
        return 0;
    }
    if ((rc = repo_blob_read(r, &blob, &text, &len, err)) < 0)
        return rc;
    if (o->rewrite) {
        struct buf nb = BUF_INIT;
        rc = o->rewrite(o->rewrite_arg, r, commit, path, text, len, &nb, err);
        free(text);
        len = nb.len;
        text = buf_detach(&nb);
        if (rc < 0) {
            free(text);
            return rc;
        }
    }
    rc = df_parse(&p->df, path, text ? text : "", len, &dfo, err);
    free(text);
    if (rc < 0)
        return rc;
    p->dfref = xcalloc(1, sizeof(*p->dfref));
    p->dfref->df = p->df;
    p->dfref->refs = 1;
    if (pc) {
        plan_df_unref(pc->pd);
        pc->pd = p->dfref;
        pc->pd->refs++;
        pc->blob = blob;
    }
    return 0;
}

int plan_make(struct plan *p, struct repo *r, struct ctx_cache *cc,
              const struct oid *commit, uint64_t checkout,
              const struct plan_options *o, unsigned mask, uint64_t nonce,
              struct err *err)
{
    const char *dockerfile = o->dockerfile ? o->dockerfile : "Dockerfile";
    struct ctx_options co;
    int rc, b;

    memset(p, 0, sizeof(*p));
    p->commit = *commit;
    rc = read_dockerfile(p, r, commit, o, dockerfile, err);
    if (rc == ERR_NOTFOUND) {
        char hex[OID_HEX];
        oid_hex(commit, hex);
        p->failed = 1;
        snprintf(p->error, sizeof(p->error),
                 "%s: no such file in commit %.12s", dockerfile, hex);
        err_clear(err);
        return 0;
    }
    if (rc == ERR_PARSE) {
        p->failed = 1;
        snprintf(p->error, sizeof(p->error), "%s", err->msg);
        err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    memset(&co, 0, sizeof(co));
    co.context = o->context;
    co.dockerfile = dockerfile;
    co.no_git_dir = o->no_git_dir;
    co.checkout = checkout;
    rc = ctx_open(&p->ctx, cc, commit, &co, err);
    if (rc == ERR_NOTFOUND || rc == ERR_BUILD) {
        p->failed = 1;
        snprintf(p->error, sizeof(p->error), "%s", err->msg);
        err_clear(err);
        return 0;
    }
    if (rc < 0)
        goto fail;
    for (b = 0; b < 2; b++) {
        struct keys_options ko;
        if (!(mask & (1u << b)))
            continue;
        memset(&ko, 0, sizeof(ko));
        ko.builder = (enum builder)b;
        ko.target = o->target;
        ko.bases = o->bases;
        ko.nbases = o->nbases;
        ko.remote_changes = o->remote_changes;
        ko.build_nonce = nonce;
        ko.frontend_2010 = o->frontend_2010;
        ko.prev = o->cache ? o->cache->last[b] : NULL;
        rc = keys_compute(&p->kb[b], p->df, p->ctx, &ko, err);
        if (rc < 0)
            goto fail;
        if (o->cache) {
            key_build_free(o->cache->last[b]);
            o->cache->last[b] = key_build_ref(p->kb[b]);
        }
    }
    return 0;
fail:
    plan_release(p);
    return rc;
}

void plan_release(struct plan *p)
{
    key_build_free(p->kb[0]);
    key_build_free(p->kb[1]);
    ctx_free(p->ctx);
    plan_df_unref(p->dfref);
    memset(p, 0, sizeof(*p));
}
