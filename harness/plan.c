#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int plan_make(struct plan *p, struct repo *r, struct ctx_cache *cc,
              const struct oid *commit, uint64_t checkout,
              const struct plan_options *o, unsigned mask, uint64_t nonce,
              struct err *err)
{
    const char *dockerfile = o->dockerfile ? o->dockerfile : "Dockerfile";
    struct df_options dfo = { o->build_args, o->nbuild_args };
    struct ctx_options co;
    char *text = NULL;
    size_t len = 0;
    int rc, b;

    memset(p, 0, sizeof(*p));
    p->commit = *commit;
    rc = repo_read_file(r, commit, dockerfile, &text, &len, err);
    if (rc == ERR_NOTFOUND) {
        char hex[OID_HEX];
        oid_hex(commit, hex);
        p->failed = 1;
        snprintf(p->error, sizeof(p->error),
                 "%s: no such file in commit %.12s", dockerfile, hex);
        err_clear(err);
        return 0;
    }
    if (rc < 0)
        return rc;
    rc = df_parse(&p->df, dockerfile, text, len, &dfo, err);
    free(text);
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
    if (rc == ERR_NOTFOUND) {
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
        rc = keys_compute(&p->kb[b], p->df, p->ctx, &ko, err);
        if (rc < 0)
            goto fail;
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
    df_file_free(p->df);
    memset(p, 0, sizeof(*p));
}
