#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "explain.h"
#include "facts.h"
#include "workers.h"
#include "writer.h"

struct reason_copy {
    const char *from; /* NULL: none yet this commit */
    const char *to;   /* in the packet */
};

struct replay {
    const struct replay_options *o;
    struct repo *repo;
    struct ctx_cache *cc;
    struct facts_cache *fc;
    struct strategy **strats;
    struct plan last_ok; /* the last commit that built, for reasons */
    int have_last_ok;
    /* per builder and step: what explains its miss this commit, shared by
     * the strategies (reasons point into it until the next commit) */
    struct explain_memo *memo[2];
    size_t nmemo[2], memocap[2];
    struct explain_shared shared; /* what both builders' steps share */
    /* per step index, the reason last copied into this commit's packet:
     * the strategies mostly give a step the same text (a memo's, a
     * literal), which the packet then holds once, not once a strategy */
    struct reason_copy *copied; /* builder b's step i at b * stride + i */
    size_t ncopied, stride;
    struct reason_copy last; /* the last text copied */
    int64_t run_id;
    struct writer *writer; /* owns the store while the replay runs */
    struct workers *workers; /* simulate the strategies */
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

/* Why step i of r missed, which the strategy did not say: the text lives
 * until the commit is written (a literal, the memo's, r's own). */
static const char *miss_reason(struct replay *rp, const struct plan *p,
                                enum builder b, struct sim_result *r, size_t i)
{
    struct explain_side before, now;
    const char *why;

    before.kb = rp->have_last_ok ? rp->last_ok.kb[b] : NULL;
    before.df = rp->last_ok.df;
    before.ctx = rp->last_ok.ctx;
    before.shared = NULL;
    now.kb = p->kb[b];
    now.df = p->df;
    now.ctx = p->ctx;
    now.shared = &rp->shared;
    if (i >= rp->nmemo[b]) { /* not expected: the memo has every step */
        struct explain_memo m = { 0 };
        why = explain_miss_memo(before.kb ? &before : NULL, &now, r->steps, i,
                                &m);
        if (why)
            sim_step_reason_copy(r, i, why);
        explain_memo_release(&m);
        if (why)
            return r->steps[i].reason;
    } else {
        /* the memo outlives the build's rows: no copy */
        why = explain_miss_memo(before.kb ? &before : NULL, &now, r->steps, i,
                                &rp->memo[b][i]);
        if (why)
            return why;
    }
    if (now.kb->steps[i].kind == DF_FROM)
        return "the base image is not on the runner: it is pulled";
    return r->fallback[0] ? r->fallback : "not in the cache";
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


/* Ready rp->copied for plan p's builds. */
static void reasons_reset(struct replay *rp, const struct plan *p)
{
    size_t n = 0;

    for (size_t b = 0; b < 2; b++)
        if (p->kb[b] && p->kb[b]->nsteps > n)
            n = p->kb[b]->nsteps;
    rp->stride = n;
    if (2 * n > rp->ncopied) {
        free(rp->copied);
        rp->ncopied = 4 * n;
        rp->copied = xcalloc(rp->ncopied, sizeof(*rp->copied));
    } else {
        memset(rp->copied, 0, 2 * n * sizeof(*rp->copied));
    }
    rp->last.from = rp->last.to = NULL;
}

/* The packet's copy of step i's reason.  A text at the same address is
 * the same text while the commit is written (literals, the memo's texts
 * and each result's own live until then), so it is copied once: per step,
 * and for the steps in a row that give the same text (a strategy's
 * literal). */
static const char *reason_copy(struct replay *rp, struct wpacket *pk,
                               enum builder b, size_t i, const char *why)
{
    struct reason_copy *c = &rp->copied[(size_t)b * rp->stride + i];

    if (c->from != why) {
        c->from = why;
        c->to = rp->last.from == why ? rp->last.to : wpacket_strdup(pk, why);
        rp->last = *c;
    }
    return c->to;
}

/*
 * A build's step rows, packed into the commit's packet by the thread that
 * simulated the build (simulate()), which touches its steps while they are
 * in its cache: the replay's thread then reads only the steps that have a
 * reason to copy into the packet or a miss to explain, listed in `said`.
 * The replay's thread allocates both before the workers start, so that
 * only it touches the packet's arena and the heap.
 */
struct pack {
    struct store_step *steps; /* nsteps rows in the packet, or NULL */
    size_t nsteps;
    size_t *said; /* the steps with a reason or a miss, in order */
    size_t nsaid, cap;
};

/* Ready pa for a build of nsteps rows in packet pk (replay's thread). */
static void pack_ready(struct pack *pa, struct wpacket *pk, size_t nsteps)
{
    /* every field of every row is set by pack_steps(): not zeroed first (a
     * commit of the long-Dockerfile bench writes about 1,400 step rows) */
    pa->steps = wpacket_alloc_uninit(pk, nsteps * sizeof(*pa->steps));
    pa->nsteps = nsteps;
    pa->nsaid = 0;
    if (nsteps > pa->cap) {
        free(pa->said);
        pa->cap = 2 * nsteps;
        pa->said = xmalloc(pa->cap * sizeof(*pa->said));
    }
}

/* Pack build r of kb's steps into pa (on the thread that simulated it): a
 * reason is the result's text until the replay's thread copies it, but a
 * literal, which outlives the packet (writer.h). */
static void pack_steps(struct pack *pa, const struct key_build *kb,
                       const struct sim_result *r)
{
    struct store_step *steps = pa->steps;
    size_t n = 0;

    for (size_t i = 0; i < pa->nsteps; i++) {
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
        steps[i].reason = o->reason[0] ? o->reason : NULL;
        /* a literal is kept as it is: the others are copied (or said)
         * on the replay's thread */
        if (o->reason[0] ? !o->reason_static : o->outcome == OUTCOME_MISS)
            pa->said[n++] = i;
    }
    pa->nsaid = n;
}

/* The reasons of a packed build: the packet's copies of the strategy's,
 * and why the other misses missed (replay's thread). */
static void pack_reasons(struct replay *rp, struct wpacket *pk,
                         const struct plan *p, enum builder b,
                         struct sim_result *r, struct pack *pa)
{
    for (size_t n = 0; n < pa->nsaid; n++) {
        size_t i = pa->said[n];
        const char *why = pa->steps[i].reason;
        if (!why)
            why = miss_reason(rp, p, b, r, i);
        pa->steps[i].reason = why[0] ? reason_copy(rp, pk, b, i, why) : NULL;
    }
}

/* One build's row with its packed steps and its transfers into the
 * commit's packet. */
static void write_build(struct replay *rp, struct wpacket *pk,
                        const struct plan *p, const struct strategy *s,
                        const char *sha, size_t seq,
                        const struct sim_result *r, const struct pack *pa)
{
    struct store_build b;
    size_t i;
    struct store_transfer *xf =
        wpacket_alloc_uninit(pk, r->nxfers * sizeof(*xf));

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
    for (i = 0; i < r->nxfers; i++) {
        unsigned char *digest = wpacket_alloc_uninit(pk, SHA256_LEN);
        xf[i].direction = r->xfers[i].dir == XFER_PULL ? STORE_PULL
                                                       : STORE_PUSH;
        memcpy(digest, r->xfers[i].digest, SHA256_LEN);
        xf[i].sha256 = digest;
        xf[i].digest = NULL;
        xf[i].bytes = (int64_t)r->xfers[i].bytes;
        xf[i].kind = store_kind_of[r->xfers[i].kind];
    }
    wpacket_build(pk, &b, pa->steps, pa->nsteps, xf, r->nxfers);
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

/* Ready the memo for plan p's steps (NULL: free it), and the texts both
 * builders share.  A step's memo is reset, not released: its "follows a
 * miss" texts serve the next commit. */
static void memo_reset(struct replay *rp, const struct plan *p)
{
    size_t b, i;

    for (b = 0; b < 2; b++) {
        size_t n = p && p->kb[b] ? p->kb[b]->nsteps : 0;
        if (!p || n > rp->memocap[b]) {
            for (i = 0; i < rp->memocap[b]; i++)
                explain_memo_release(&rp->memo[b][i]);
            free(rp->memo[b]);
            rp->memo[b] = NULL;
            rp->memocap[b] = 0;
            if (n) {
                rp->memocap[b] = 2 * n;
                rp->memo[b] = xcalloc(rp->memocap[b], sizeof(*rp->memo[b]));
            }
        } else {
            for (i = 0; i < rp->nmemo[b]; i++)
                explain_memo_reset(&rp->memo[b][i]);
        }
        rp->nmemo[b] = n;
    }
    if (p)
        explain_shared_reset(&rp->shared);
    else
        explain_shared_release(&rp->shared);
}

/* One commit of a batch: planned on the replay's thread, its builds
 * simulated by the workers (one task per strategy), then explained and
 * written in order on the replay's thread again. */
struct job {
    size_t seq;
    struct plan p;
    struct repo_commit c;
    struct model_facts facts;
    struct model_cost *costs[2];
    /* one per strategy: kept by the job's slot from commit to commit (its
     * memory reused, not freed here and allocated again on a worker) */
    struct sim_result *r;
    struct pack *packs; /* one per strategy, kept by the slot too */
    struct wpacket *pk; /* the commit's rows, from planned to written */
};

struct batch {
    struct replay *rp;
    struct job *jobs;
    size_t n;
};

/* Commits in a batch: a round of the workers simulates every strategy
 * over a batch, so they meet once a batch, not once a commit. */
#define BATCH 8

/* Empty j but for what its slot keeps from commit to commit: its
 * results and packs. */
static void job_clear(struct job *j)
{
    struct sim_result *r = j->r;
    struct pack *packs = j->packs;

    memset(j, 0, sizeof(*j));
    j->r = r;
    j->packs = packs;
}

/* Release what the job holds but its results and packs (the slot keeps
 * them); a packet not pushed goes back to the writer's spares. */
static void job_release(struct replay *rp, struct job *j)
{
    if (j->pk)
        writer_unused(rp->writer, j->pk);
    free(j->costs[0]);
    free(j->costs[1]);
    repo_commit_release(&j->c);
    job_clear(j);
}

/* Free a job slot's results and packs, at the end. */
static void job_free_results(struct job *j, size_t nstrategies)
{
    for (size_t i = 0; j->r && i < nstrategies; i++)
        sim_result_release(&j->r[i]);
    for (size_t i = 0; j->packs && i < nstrategies; i++)
        free(j->packs[i].said);
    free(j->r);
    free(j->packs);
    j->r = NULL;
    j->packs = NULL;
}

/* Take the packet of planned job j and ready its rows for the workers. */
static void job_pack_ready(struct replay *rp, struct job *j)
{
    j->pk = writer_packet(rp->writer);
    for (size_t i = 0; i < rp->o->nstrategies; i++) {
        const struct key_build *kb = j->p.kb[rp->strats[i]->ops->builder];
        pack_ready(&j->packs[i], j->pk, j->p.failed || !kb ? 0 : kb->nsteps);
    }
}

/* Read and plan one commit into j (nothing to release on error). */
static int plan_job(struct replay *rp, struct job *j, const struct oid *id,
                    size_t seq)
{
    const struct replay_options *o = rp->o;
    unsigned mask = builder_mask(o);
    int rc;

    job_clear(j); /* the slot's results and packs stay, from its last commit */
    if (!j->r)
        j->r = xcalloc(o->nstrategies + 1, sizeof(*j->r));
    if (!j->packs)
        j->packs = xcalloc(o->nstrategies + 1, sizeof(*j->packs));
    j->seq = seq;
    if (o->on_commit)
        o->on_commit(o->on_commit_arg, id);
    /* The commit first: plan_make then finds its tree without reading it
     * again. */
    if ((rc = repo_commit_read(rp->repo, id, &j->c, rp->err)) < 0)
        return rc;
    rc = plan_make(&j->p, rp->repo, rp->cc, id, seq + 1, o->plan, mask, seq + 1,
                   rp->err);
    if (rc < 0) {
        repo_commit_release(&j->c);
        return rc;
    }
    if (!j->p.failed) {
        if ((rc = facts_read(rp->fc, rp->repo, &j->p, o->plan->context,
                             (mask & PLAN_LEGACY) != 0, &j->facts, rp->err)) <
            0) {
            repo_commit_release(&j->c);
            plan_release(&j->p);
            return rc;
        }
        for (size_t b = 0; b < 2; b++)
            if (j->p.kb[b]) {
                j->costs[b] =
                    xcalloc(j->p.kb[b]->nsteps + 1, sizeof(*j->costs[b]));
                facts_costs(&o->cfg.model, &j->p, (int)b, &j->facts,
                            j->costs[b]);
            }
    }
    return 0;
}

/* A worker's task: strategy i builds every commit of the batch, in order
 * (its world is touched by this task alone). */
static void simulate(void *arg, size_t i)
{
    struct batch *bt = arg;
    struct strategy *s = bt->rp->strats[i];

    for (size_t k = 0; k < bt->n; k++) {
        struct job *j = &bt->jobs[k];
        const struct key_build *kb = j->p.kb[s->ops->builder];
        struct sim_build sb = { kb, j->seq, j->c.author_time,
                                j->costs[s->ops->builder], &j->facts };

        sim_result_reset(&j->r[i], kb ? kb->nsteps : 0);
        if (!j->p.failed)
            strategy_build(s, &sb, &j->r[i]);
        else
            strategy_measure(s, &j->r[i]);
        pack_steps(&j->packs[i], kb, &j->r[i]);
    }
}

/* Explain and write one simulated commit; keep its plan as the last that
 * built, or release it. */
static int finish_job(struct replay *rp, struct job *j)
{
    const struct replay_options *o = rp->o;
    struct wpacket *pk;
    char hex[OID_HEX], *sha;
    int rc;

    oid_hex(&j->c.id, hex);
    memo_reset(rp, &j->p);
    reasons_reset(rp, &j->p);
    pk = j->pk;
    j->pk = NULL; /* the writer's from here on */
    sha = wpacket_strdup(pk, hex);
    commit_put(pk, &j->c, sha);
    for (size_t i = 0; i < o->nstrategies; i++) {
        struct strategy *s = rp->strats[i];
        struct sim_result *r = &j->r[i];

        pack_reasons(rp, pk, &j->p, s->ops->builder, r, &j->packs[i]);
        if (j->p.failed || r->failed)
            rp->stats->failed++;
        write_build(rp, pk, &j->p, s, sha, j->seq, r, &j->packs[i]);
    }
    rc = writer_push(rp->writer, pk);
    if (rc == 0 && !j->p.failed && !(j->p.kb[0] && j->p.kb[0]->failed) &&
        !(j->p.kb[1] && j->p.kb[1]->failed)) {
        if (rp->have_last_ok)
            plan_release(&rp->last_ok);
        rp->last_ok = j->p;
        rp->have_last_ok = 1;
    } else {
        plan_release(&j->p);
    }
    job_release(rp, j);
    return rc;
}

/* Plan the next commits into bt, up to BATCH, from *next on; stops early
 * at a stop request (*stopped) or an error (returned; the commits planned
 * before it stay in bt). */
static int plan_batch(struct replay *rp, struct batch *bt,
                      const struct oid *commits, size_t total, size_t *next,
                      int *stopped)
{
    const struct replay_options *o = rp->o;
    int rc = 0;

    bt->n = 0;
    while (bt->n < BATCH && *next < total) {
        if (o->stop && *o->stop) {
            *stopped = 1;
            break;
        }
        if ((rc = plan_job(rp, &bt->jobs[bt->n], &commits[*next], *next)) < 0)
            break;
        job_pack_ready(rp, &bt->jobs[bt->n]);
        bt->n++;
        (*next)++;
    }
    return rc;
}

/*
 * The loop: while the workers simulate one batch, this thread plans the
 * next; then it explains and writes the simulated one while the workers
 * go on with the next.  Each strategy builds the commits in order on one
 * thread at a time, and the rows are written in commit and strategy
 * order, so the results do not depend on the number of threads.
 */
static int replay_loop(struct replay *rp, const struct oid *commits, size_t n)
{
    const struct replay_options *o = rp->o;
    struct batch bt[2];
    size_t next = 0, cur = 0;
    int rc, rc2 = 0, stopped = 0;

    for (size_t k = 0; k < 2; k++) {
        bt[k].rp = rp;
        bt[k].jobs = xcalloc(BATCH, sizeof(*bt[k].jobs));
        bt[k].n = 0;
    }
    rc = plan_batch(rp, &bt[0], commits, n, &next, &stopped);
    if (bt[0].n)
        workers_post(rp->workers, simulate, &bt[0], o->nstrategies);
    while (bt[cur].n) {
        struct batch *now = &bt[cur], *later = &bt[1 - cur];
        if (rc == 0 && rc2 == 0 && !stopped)
            rc = plan_batch(rp, later, commits, n, &next, &stopped);
        workers_wait(rp->workers);
        if (later->n)
            workers_post(rp->workers, simulate, later, o->nstrategies);
        for (size_t k = 0; k < now->n; k++) {
            if (rc2 == 0 && (rc2 = finish_job(rp, &now->jobs[k])) == 0) {
                rp->stats->commits++;
                if (o->progress)
                    o->progress(o->progress_arg, now->jobs[k].seq + 1, n);
                continue;
            }
            /* the writer failed: what is left is dropped */
            plan_release(&now->jobs[k].p);
            job_release(rp, &now->jobs[k]);
        }
        now->n = 0;
        cur = 1 - cur;
    }
    if (stopped && rc == 0 && rc2 == 0)
        rp->stats->interrupted = 1;
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < BATCH; i++)
            job_free_results(&bt[k].jobs[i], o->nstrategies);
        free(bt[k].jobs);
    }
    return rc < 0 ? rc : rc2;
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
    if ((rc = workers_start(&rp.workers, o->threads ? o->threads : 1, err)) < 0)
        goto out;
    if ((rc = writer_start(&rp.writer, st, stats->resumed, err)) < 0)
        goto out;
    rc = replay_loop(&rp, commits, n);
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
    workers_stop(rp.workers);
    for (i = 0; rp.strats && i < o->nstrategies; i++)
        strategy_free(rp.strats[i]);
    free(rp.strats);
    if (rp.have_last_ok)
        plan_release(&rp.last_ok);
    memo_reset(&rp, NULL);
    free(rp.copied);
    ctx_cache_free(rp.cc);
    facts_cache_free(rp.fc);
    free(commits);
    return rc;
}
