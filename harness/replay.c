#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "explain.h"
#include "facts.h"
#include "writer.h"

struct replay {
    const struct replay_options *o;
    struct repo *repo;
    struct ctx_cache *cc;
    struct facts_cache *fc;
    struct strategy **strats;
    struct plan last_ok; /* the last commit that built, for reasons */
    int have_last_ok;
    char **memo[2]; /* per builder and step: why its key changed, this
                       commit (shared by the strategies) */
    size_t nmemo[2];
    int64_t run_id;
    struct writer *writer; /* owns the store while the replay runs */
    struct replay_stats *stats;
    struct err *err;
};

static unsigned builder_mask(const struct replay_options *o)
{
    unsigned mask = 0;
    size_t i;

    for (i = 0; i < o->nstrategies; i++)
        mask |= 1u << o->strategies[i]->builder;
    return mask;
}

/* Fill the reason of every miss the strategy left unexplained. */
static void explain_misses(struct replay *rp, const struct plan *p,
                           enum builder b, struct sim_result *r)
{
    struct explain_side before, now;
    size_t i;

    before.kb = rp->have_last_ok ? rp->last_ok.kb[b] : NULL;
    before.df = rp->last_ok.df;
    before.ctx = rp->last_ok.ctx;
    now.kb = p->kb[b];
    now.df = p->df;
    now.ctx = p->ctx;
    for (i = 0; i < r->nsteps; i++) {
        struct sim_step *s = &r->steps[i];
        if (s->outcome != OUTCOME_MISS || s->reason[0])
            continue;
        if (!explain_miss_memo(s->reason, sizeof(s->reason),
                               before.kb ? &before : NULL, &now, r->steps, i,
                               i < rp->nmemo[b] ? &rp->memo[b][i] : NULL))
            snprintf(s->reason, sizeof(s->reason), "%s",
                     now.kb->steps[i].kind == DF_FROM
                         ? "the base image is not on the runner: it is pulled"
                     : r->fallback[0] ? r->fallback
                                      : "not in the cache");
    }
}

/* The simulator's enums as the store spells them (a table, not a string
 * round trip: this runs for every step of every build). */
static const enum store_outcome store_outcome_of[] = {
    [OUTCOME_HIT] = STORE_OUTCOME_HIT,
    [OUTCOME_MISS] = STORE_OUTCOME_MISS,
    [OUTCOME_NONE] = STORE_OUTCOME_NONE,
    [OUTCOME_SKIPPED] = STORE_OUTCOME_SKIPPED,
};

static const enum store_kind store_kind_of[] = {
    [XFER_LAYER] = STORE_KIND_LAYER,
    [XFER_CONFIG] = STORE_KIND_CONFIG,
    [XFER_MANIFEST] = STORE_KIND_MANIFEST,
    [XFER_CACHE] = STORE_KIND_CACHE,
};

/* One build's rows into the commit's packet. */
static void write_build(struct replay *rp, struct wpacket *pk,
                        const struct plan *p, const struct strategy *s,
                        const char *sha, size_t seq,
                        const struct sim_result *r)
{
    const struct key_build *kb = p->kb[s->ops->builder];
    struct store_build b;
    size_t i, nsteps = p->failed ? 0 : r->nsteps;
    struct store_step *steps = wpacket_alloc(pk, nsteps * sizeof(*steps));
    struct store_transfer *xf = wpacket_alloc(pk, r->nxfers * sizeof(*xf));

    memset(&b, 0, sizeof(b));
    b.run_id = rp->run_id;
    b.commit_sha = sha;
    b.seq = (int64_t)seq;
    b.strategy = s->ops->name;
    b.builder = builder_name(s->ops->builder);
    b.status = p->failed || r->failed ? STORE_STATUS_FAILED : STORE_STATUS_OK;
    b.seconds = r->seconds;
    b.pull_seconds = r->pull_seconds;
    b.push_seconds = r->push_seconds;
    b.bytes_pulled = (int64_t)r->bytes_pulled;
    b.bytes_pushed = (int64_t)r->bytes_pushed;
    b.steps_hit = r->hits;
    b.steps_miss = r->misses;
    b.error = wpacket_strdup(pk, p->failed  ? p->error
                                 : r->failed ? r->error
                                             : NULL);
    b.registry_bytes = (int64_t)r->registry_bytes;
    b.cache_bytes = (int64_t)r->cache_bytes;
    for (i = 0; i < nsteps; i++) {
        const struct key_step *k = &kb->steps[i];
        const struct sim_step *o = &r->steps[i];
        steps[i].step_index = (int64_t)i;
        steps[i].stage = k->stage;
        steps[i].line = k->line;
        steps[i].instruction = df_kind_name(k->kind);
        steps[i].outcome = store_outcome_of[o->outcome];
        steps[i].seconds = o->seconds;
        steps[i].layer_bytes = (int64_t)o->layer_bytes;
        steps[i].bytes_pulled = (int64_t)o->bytes_pulled;
        steps[i].reason = o->reason[0] ? wpacket_strdup(pk, o->reason) : NULL;
    }
    for (i = 0; i < r->nxfers; i++) {
        unsigned char *digest = wpacket_alloc(pk, SHA256_LEN);
        xf[i].direction = r->xfers[i].dir == XFER_PULL ? STORE_PULL
                                                       : STORE_PUSH;
        memcpy(digest, r->xfers[i].digest, SHA256_LEN);
        xf[i].sha256 = digest;
        xf[i].digest = NULL;
        xf[i].bytes = (int64_t)r->xfers[i].bytes;
        xf[i].kind = store_kind_of[r->xfers[i].kind];
    }
    wpacket_build(pk, &b, steps, nsteps, xf, r->nxfers);
}

static void commit_put(struct wpacket *pk, const struct repo_commit *c,
                       const char *sha)
{
    struct store_commit sc;
    struct buf parents = BUF_INIT;
    size_t i;

    for (i = 0; i < c->nparents; i++) {
        char hex[OID_HEX];
        oid_hex(&c->parents[i], hex);
        buf_printf(&parents, "%s%s", i ? " " : "", hex);
    }
    sc.sha = sha;
    sc.parents = buf_cstr(&parents);
    sc.author_time = c->author_time;
    sc.subject = c->subject ? c->subject : "";
    wpacket_commit(pk, &sc);
    buf_release(&parents);
}

static void memo_reset(struct replay *rp, const struct plan *p)
{
    size_t b, i;

    for (b = 0; b < 2; b++) {
        for (i = 0; i < rp->nmemo[b]; i++)
            free(rp->memo[b][i]);
        free(rp->memo[b]);
        rp->nmemo[b] = p && p->kb[b] ? p->kb[b]->nsteps : 0;
        rp->memo[b] = xcalloc(rp->nmemo[b] + 1, sizeof(char *));
    }
}

static int replay_commit(struct replay *rp, const struct oid *id, size_t seq)
{
    const struct replay_options *o = rp->o;
    struct plan p;
    struct repo_commit c;
    struct wpacket *pk;
    struct model_facts facts;
    struct model_cost *costs[2] = { NULL, NULL };
    char hex[OID_HEX], *sha;
    size_t i, b;
    int rc;

    memset(&facts, 0, sizeof(facts));
    oid_hex(id, hex);
    if (o->on_commit)
        o->on_commit(o->on_commit_arg, id);
    rc = plan_make(&p, rp->repo, rp->cc, id, seq + 1, o->plan,
                   builder_mask(o), seq + 1, rp->err);
    if (rc < 0)
        return rc;
    if ((rc = repo_commit_read(rp->repo, id, &c, rp->err)) < 0)
        goto out;
    memo_reset(rp, &p);
    if (!p.failed) {
        unsigned mask = builder_mask(o);
        if ((rc = facts_read(rp->fc, rp->repo, &p, o->plan->context,
                             (mask & PLAN_LEGACY) != 0, &facts, rp->err)) < 0) {
            repo_commit_release(&c);
            goto out;
        }
        for (b = 0; b < 2; b++)
            if (p.kb[b]) {
                costs[b] = xcalloc(p.kb[b]->nsteps + 1, sizeof(*costs[b]));
                facts_costs(&o->cfg.model, &p, (int)b, &facts, costs[b]);
            }
    }
    pk = wpacket_new();
    sha = wpacket_strdup(pk, hex);
    commit_put(pk, &c, sha);
    for (i = 0; i < o->nstrategies; i++) {
        struct strategy *s = rp->strats[i];
        const struct key_build *kb = p.kb[s->ops->builder];
        struct sim_build sb = { kb, seq, c.author_time,
                                costs[s->ops->builder], &facts };
        struct sim_result r;

        sim_result_init(&r, kb ? kb->nsteps : 0);
        if (!p.failed) {
            strategy_build(s, &sb, &r);
            explain_misses(rp, &p, s->ops->builder, &r);
        } else {
            strategy_measure(s, &r);
        }
        if (p.failed || r.failed)
            rp->stats->failed++;
        write_build(rp, pk, &p, s, sha, seq, &r);
        sim_result_release(&r);
    }
    repo_commit_release(&c);
    rc = writer_push(rp->writer, pk);
out:
    free(costs[0]);
    free(costs[1]);
    if (rc == 0 && !p.failed && !(p.kb[0] && p.kb[0]->failed) &&
        !(p.kb[1] && p.kb[1]->failed)) {
        if (rp->have_last_ok)
            plan_release(&rp->last_ok);
        rp->last_ok = p;
        rp->have_last_ok = 1;
    } else {
        plan_release(&p);
    }
    return rc;
}

int replay_run(struct store *st, struct repo *r,
               const struct replay_options *o, struct replay_stats *stats,
               struct err *err)
{
    struct replay rp;
    struct store_run run;
    struct oid *commits = NULL;
    size_t n = 0, i;
    int rc;

    memset(&rp, 0, sizeof(rp));
    memset(stats, 0, sizeof(*stats));
    rp.o = o;
    rp.repo = r;
    rp.stats = stats;
    rp.err = err;
    rc = repo_range(r, o->range ? o->range : "HEAD", o->first_parent,
                    &commits, &n, err);
    if (rc < 0)
        return rc;
    memset(&run, 0, sizeof(run));
    run.repo = o->repo_label;
    run.dockerfile = o->plan->dockerfile ? o->plan->dockerfile : "Dockerfile";
    run.options = o->options_json;
    run.tool_version = HARNESS_VERSION;
    if ((rc = store_run_find_or_create(st, &run, &rp.run_id, &stats->resumed,
                                       err)) < 0)
        goto out;
    stats->run_id = rp.run_id;
    stats->total = n;
    if ((rc = ctx_cache_new(&rp.cc, r)) < 0)
        goto out;
    rp.fc = facts_cache_new();
    rp.strats = xcalloc(o->nstrategies + 1, sizeof(*rp.strats));
    for (i = 0; i < o->nstrategies; i++)
        rp.strats[i] = strategy_new(o->strategies[i], &o->cfg);
    if ((rc = writer_start(&rp.writer, st, stats->resumed, err)) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (o->stop && *o->stop) {
            stats->interrupted = 1;
            break;
        }
        if ((rc = replay_commit(&rp, &commits[i], i)) < 0)
            break;
        stats->commits++;
        if (o->progress)
            o->progress(o->progress_arg, i + 1, n);
    }
    {
        /* The writer's error wins when it is what stopped the loop (a
         * refused push leaves err unset). */
        struct err werr = ERR_INIT;
        int wrc = writer_finish(rp.writer, &stats->written, &werr);
        if (wrc < 0 && (rc == 0 || !err->code)) {
            *err = werr;
            rc = wrc;
        }
    }
out:
    for (i = 0; rp.strats && i < o->nstrategies; i++)
        strategy_free(rp.strats[i]);
    free(rp.strats);
    if (rp.have_last_ok)
        plan_release(&rp.last_ok);
    memo_reset(&rp, NULL);
    free(rp.memo[0]);
    free(rp.memo[1]);
    ctx_cache_free(rp.cc);
    facts_cache_free(rp.fc);
    free(commits);
    return rc;
}
