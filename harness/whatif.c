#include "whatif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lint.h"
#include "plan.h"
#include "report.h"
#include "store.h"

/* ===== The "after" Dockerfile ===== */

struct probe {
    struct repo *r;
    const struct oid *commit;
    const char *context;
};

static int commit_has(void *arg, const char *path)
{
    const struct probe *p = arg;
    struct buf full = BUF_INIT;
    struct err quiet = ERR_INIT;
    struct oid blob;
    int rc;

    if (p->context && *p->context)
        buf_printf(&full, "%s/%s", p->context, path);
    else
        buf_adds(&full, path);
    rc = repo_path_blob(p->r, p->commit, buf_cstr(&full), &blob, &quiet);
    buf_release(&full);
    return rc == 0;
}

int whatif_dockerfile(struct buf *out, const struct whatif_options *o,
                      struct repo *r, const struct oid *commit,
                      const char *context, const char *path, const char *text,
                      size_t len, struct err *err)
{
    struct probe pr = { r, commit, context };
    struct lint_context lc;
    struct lint_rewrite_options ro;
    char hex[OID_HEX];

    if (o->alt_text) {
        buf_add(out, o->alt_text, o->alt_len);
        return 1;
    }
    memset(&lc, 0, sizeof(lc));
    lc.ctx_known = 1;
    lc.exists = commit_has;
    lc.arg = &pr;
    lc.ephemeral = -1;
    oid_hex(commit, hex);
    memset(&ro, 0, sizeof(ro));
    ro.fixes = o->fixes;
    ro.bust_line = o->bust_line;
    ro.bust_text = o->bust_text;
    ro.bust_value = hex;
    ro.lc = &lc;
    return lint_rewrite(out, path, text, len, &ro, err);
}

struct after {
    const struct whatif_options *o;
    const struct plan_options *before; /* whose bases move per commit */
    struct plan_options plan;
};

static int rewrite_hook(void *arg, struct repo *r, const struct oid *commit,
                        const char *path, const char *text, size_t len,
                        struct buf *out, struct err *err)
{
    struct after *a = arg;
    int rc = whatif_dockerfile(out, a->o, r, commit, a->plan.context, path,
                               text, len, err);
    return rc < 0 ? rc : 0;
}

static void after_on_commit(void *arg, const struct oid *commit)
{
    struct after *a = arg;
    const struct replay_options *ro = a->o->replay;

    if (ro->on_commit)
        ro->on_commit(ro->on_commit_arg, commit);
    a->plan.bases = a->before->bases;
    a->plan.nbases = a->before->nbases;
}

/* ===== Replays and figures ===== */

static void remove_db(const char *dir, const char *name)
{
    static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
    struct buf p = BUF_INIT;

    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        buf_reset(&p);
        buf_printf(&p, "%s/%s%s", dir, name, ext[i]);
        unlink(buf_cstr(&p));
    }
    buf_release(&p);
}

static int replay_into(const char *db, struct repo *r,
                       const struct replay_options *ro, size_t *commits,
                       struct err *err)
{
    struct store *st = NULL;
    struct replay_stats stats;
    int rc;

    if ((rc = store_open(&st, db, err)) < 0)
        return rc;
    rc = replay_run(st, r, ro, &stats, err);
    store_close(st);
    if (rc == 0 && stats.interrupted)
        rc = err_set(err, ERR_IO, "whatif: interrupted");
    *commits = stats.commits;
    return rc;
}

static int figures(struct report **out, const char *db, const char *pricing,
                   struct err *err)
{
    const char *dbs[1] = { db };
    struct report_opts ro;

    memset(&ro, 0, sizeof(ro));
    ro.dbs = dbs;
    ro.ndbs = 1;
    ro.pricing = pricing;
    ro.format = REPORT_JSON;
    return report_build(out, &ro, err);
}

static const struct report_strategy *find(const struct report *rep,
                                          const char *name)
{
    const struct report_repo *rr = &rep->repos[0];

    for (size_t i = 0; i < rr->nstrategies; i++)
        if (!strcmp(rr->strategies[i].name, name))
            return &rr->strategies[i];
    return NULL;
}

/* Pull + build + push minutes: the job without the runner's start-up,
 * which the profile adds to every build alike. */
static double minutes(const struct report_strategy *s, const struct report *r)
{
    double job = s->usage.job_seconds -
                 (double)s->usage.builds * r->pricing.startup_seconds;
    return job / 60.0;
}

static void fill(struct whatif_result *out, const struct replay_options *ro,
                 const struct report *before, const struct report *after)
{
    out->rows = xcalloc(ro->nstrategies + 1, sizeof(*out->rows));
    for (size_t i = 0; i < ro->nstrategies; i++) {
        const char *name = ro->strategies[i]->name;
        const struct report_strategy *b = find(before, name);
        const struct report_strategy *a = find(after, name);
        struct whatif_row *w = &out->rows[out->n];
        if (!b || !a)
            continue;
        snprintf(w->strategy, sizeof(w->strategy), "%s", name);
        w->before_minutes = minutes(b, before);
        w->after_minutes = minutes(a, after);
        w->before_usd = b->cost.total_usd;
        w->after_usd = a->cost.total_usd;
        w->before_hit_rate = b->cost.hit_rate;
        w->after_hit_rate = a->cost.hit_rate;
        w->before_failed = (long)b->usage.failed;
        w->after_failed = (long)a->usage.failed;
        out->n++;
    }
}

int whatif_run(struct whatif_result *out, struct repo *r,
               const struct whatif_options *o, struct err *err)
{
    char tmpl[] = "/tmp/harness-whatif-XXXXXX";
    char *dir = NULL;
    struct buf before_db = BUF_INIT, after_db = BUF_INIT;
    struct replay_options ro;
    struct after a;
    struct report *rb = NULL, *ra = NULL;
    size_t commits = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!(dir = mkdtemp(tmpl)))
        return err_set(err, ERR_IO,
                       "whatif: cannot create a temporary "
                       "folder: %s",
                       strerror(errno));
    buf_printf(&before_db, "%s/before.db", dir);
    buf_printf(&after_db, "%s/after.db", dir);
    if ((rc = replay_into(buf_cstr(&before_db), r, o->replay, &commits, err)) <
        0)
        goto out;
    out->commits = commits;
    memset(&a, 0, sizeof(a));
    a.o = o;
    a.before = o->replay->plan;
    a.plan = *o->replay->plan;
    a.plan.cache = NULL;
    if (o->fixes || o->alt_text) {
        a.plan.rewrite = rewrite_hook;
        a.plan.rewrite_arg = &a;
    }
    if (o->fix_git)
        a.plan.no_git_dir = 1;
    ro = *o->replay;
    ro.plan = &a.plan;
    ro.on_commit = after_on_commit;
    ro.on_commit_arg = &a;
    ro.progress = NULL;
    if ((rc = replay_into(buf_cstr(&after_db), r, &ro, &commits, err)) < 0)
        goto out;
    if ((rc = figures(&rb, buf_cstr(&before_db), o->pricing, err)) < 0 ||
        (rc = figures(&ra, buf_cstr(&after_db), o->pricing, err)) < 0)
        goto out;
    fill(out, o->replay, rb, ra);
    out->priced = o->pricing != NULL;
    if (out->priced)
        snprintf(out->pricing, sizeof(out->pricing), "%s",
                 rb->pricing.name ? rb->pricing.name : o->pricing);
out:
    report_free(rb);
    report_free(ra);
    remove_db(dir, "before.db");
    remove_db(dir, "after.db");
    rmdir(dir);
    buf_release(&before_db);
    buf_release(&after_db);
    return rc;
}

void whatif_result_release(struct whatif_result *res)
{
    free(res->rows);
    memset(res, 0, sizeof(*res));
}
