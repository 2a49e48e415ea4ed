/*
 * verify.c - real builds of sampled commits against the simulation (see
 * verify.h).
 *
 * Every external command goes through proc_run (git and the docker
 * client), with its output in a file under the logs folder, so that a
 * failure can be read afterwards and the build logs stay for calibration.
 * The docker invocations are ci/real-build's, argument for argument.
 */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "buildlog.h"
#include "dockerfile.h"
#include "proc.h"

const struct verify_strategy verify_strategies[] = {
    { .name = "none",
      .prune_each = 1,
      .history = VERIFY_NOTHING,
      .no_cache = 1 },
    { .name = "local", .history = VERIFY_CHAIN },
    { .name = "local-legacy", .legacy = 1, .history = VERIFY_CHAIN },
    { .name = "cache-from-legacy",
      .legacy = 1,
      .prune_each = 1,
      .history = VERIFY_PREDECESSOR,
      .needs_registry = 1,
      .pull_prev = 1,
      .cache_from = 1 },
    { .name = "cache-from-buildkit",
      .prune_each = 1,
      .history = VERIFY_PREDECESSOR,
      .needs_registry = 1,
      .cache_from = 1 },
    { .name = "inline",
      .prune_each = 1,
      .history = VERIFY_CHAIN,
      .needs_registry = 1,
      .cache_from = 1,
      .inline_cache = 1 },
};

const size_t verify_strategy_count =
    sizeof(verify_strategies) / sizeof(verify_strategies[0]);

const struct verify_strategy *verify_strategy_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < verify_strategy_count; i++)
        if (!strcmp(verify_strategies[i].name, name))
            return &verify_strategies[i];
    return NULL;
}

/* ---- sampling and plans ---- */

size_t verify_sample(size_t n, size_t k, size_t *out)
{
    size_t i, m = 0;

    if (!n || !k)
        return 0;
    if (k >= n) {
        for (i = 0; i < n; i++)
            out[i] = i;
        return n;
    }
    if (k == 1) {
        out[0] = 0;
        return 1;
    }
    for (i = 0; i < k; i++) {
        /* round(i (n-1) / (k-1)) in integers */
        size_t idx = (2 * i * (n - 1) + (k - 1)) / (2 * (k - 1));
        if (!m || out[m - 1] != idx)
            out[m++] = idx;
    }
    return m;
}

void verify_plan(const struct verify_strategy *s, const size_t *sample,
                 size_t nsample, struct verify_item **out, size_t *n)
{
    struct verify_item *v;
    size_t i, j, m = 0, last = nsample ? sample[nsample - 1] : 0;

    *n = 0;
    if (s->history == VERIFY_CHAIN) {
        v = xcalloc(nsample ? last + 1 : 1, sizeof(*v));
        for (i = 0, j = 0; nsample && i <= last; i++) {
            v[m].index = i;
            v[m].compare = j < nsample && sample[j] == i;
            j += v[m].compare;
            m++;
        }
    } else {
        v = xcalloc(2 * nsample + 1, sizeof(*v));
        for (i = 0; i < nsample; i++) {
            size_t idx = sample[i];
            if (s->history == VERIFY_PREDECESSOR && idx > 0 &&
                !(m && v[m - 1].index == idx - 1)) {
                v[m].index = idx - 1;
                v[m++].compare = 0;
            }
            v[m].index = idx;
            v[m++].compare = 1;
        }
    }
    *out = v;
    *n = m;
}

/* ---- files ---- */

static int rmrf(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        struct buf child = BUF_INIT;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        buf_printf(&child, "%s/%s", path, e->d_name);
        if (rmrf(buf_cstr(&child)) < 0)
            rc = -1;
        buf_release(&child);
    }
    closedir(d);
    return rmdir(path) < 0 ? -1 : rc;
}

static int mkdir_one(const char *path, struct err *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return err_set(err, ERR_IO, "cannot create the folder '%s': %s", path,
                       strerror(errno));
    return 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t n;

    *len = 0;
    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    *len = b.len;
    buf_addch(&b, '\0');
    return buf_detach(&b);
}

/* ---- running docker and git ---- */

struct vctx {
    const struct verify_options *o;
    struct store *st;
    int64_t run_id;
    struct oid *commits;
    size_t ncommits;
    char logs[4096];
    char scratch[4096];
    char src[4200];
    char host_env[4200];
    struct err *err;
};

static void note(const struct vctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const struct vctx *c, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    if (!c->o->note)
        return;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->o->note(c->o->note_arg, buf_cstr(&b));
    buf_release(&b);
}

/* Run the docker client with argv (argv[0] is replaced by the client). */
static int docker(const struct vctx *c, int legacy, const char **argv,
                  const char *out_path, int append, struct proc_result *r,
                  struct err *err)
{
    const char *env[3];
    struct proc_options po;
    size_t k = 0;

    env[k++] = legacy ? "DOCKER_BUILDKIT=0" : "DOCKER_BUILDKIT=1";
    if (c->host_env[0])
        env[k++] = c->host_env;
    env[k] = NULL;
    memset(&po, 0, sizeof(po));
    po.env = env;
    po.cwd = c->src[0] ? c->src : NULL;
    po.out_path = out_path;
    po.append = append;
    po.timeout = c->o->timeout;
    argv[0] = c->o->docker;
    return proc_run(argv, &po, r, err);
}

int verify_engine_check(const struct verify_options *o, char *version,
                        size_t size, struct err *err)
{
    const char *argv[] = { o->docker, "version", "--format",
                           "{{.Server.Version}}", NULL };
    const char *env[2] = { NULL, NULL };
    struct buf out = BUF_INIT, host = BUF_INIT;
    struct proc_options po;
    struct proc_result r;
    const char *where;
    int rc;

    memset(&po, 0, sizeof(po));
    if (o->docker_host) {
        buf_printf(&host, "DOCKER_HOST=%s", o->docker_host);
        env[0] = buf_cstr(&host);
        po.env = env;
    }
    po.timeout = o->timeout > 0 && o->timeout < 30 ? o->timeout : 30;
    where = o->docker_host          ? o->docker_host
            : getenv("DOCKER_HOST") ? getenv("DOCKER_HOST")
                                    : "the default socket";
    rc = proc_capture(argv, &po, &out, &r, err);
    if (rc < 0) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        err_set(err, ERR_ENGINE, "no Docker engine at '%s'", where);
        err_hint(err, "%s", why);
    } else if (!proc_ok(&r)) {
        char *line, *nl;
        buf_addch(&out, '\0');
        /* the first line with text: the client starts with a blank one */
        for (line = out.ptr; *line == '\n' || *line == '\r'; line++)
            ;
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        rc = err_set(err, ERR_ENGINE, "no Docker engine at '%s'", where);
        if (r.timed_out)
            err_hint(err, "'%s version' did not answer in %.0f s", o->docker,
                     po.timeout);
        else
            err_hint(err, "%s", *line ? line : "docker version failed");
    } else {
        size_t n = out.len;
        while (n && (out.ptr[n - 1] == '\n' || out.ptr[n - 1] == '\r'))
            n--;
        snprintf(version, size, "%.*s", (int)n, out.ptr ? out.ptr : "");
    }
    buf_release(&out);
    buf_release(&host);
    return rc;
}

static int git(const struct vctx *c, const char *const *argv, const char *log,
               struct err *err)
{
    struct proc_options po;
    struct proc_result r;

    memset(&po, 0, sizeof(po));
    po.out_path = log;
    po.append = 1;
    po.timeout = c->o->timeout;
    if (proc_run(argv, &po, &r, err) < 0)
        return err->code;
    if (!proc_ok(&r))
        return err_set(err, ERR_GIT, "'git %s' failed (exit %d)", argv[1],
                       r.exit_code);
    return 0;
}

/* A fresh clone of the repository at sha in c->src. */
static int checkout(struct vctx *c, const char *sha, const char *log,
                    struct err *err)
{
    const char *clone[] = {
        "git", "clone", "-q", c->o->repo_path, c->src, NULL
    };
    const char *co[] = { "git", "-C",       c->src, "checkout",
                         "-q",  "--detach", sha,    NULL };
    char saved[sizeof(c->src)];

    /* git runs outside the clone; docker inside it */
    snprintf(saved, sizeof(saved), "%s", c->src);
    c->src[0] = '\0';
    if (rmrf(saved) < 0) {
        snprintf(c->src, sizeof(c->src), "%s", saved);
        return err_set(err, ERR_IO, "cannot remove '%s': %s", saved,
                       strerror(errno));
    }
    snprintf(c->src, sizeof(c->src), "%s", saved);
    clone[4] = co[2] = saved;
    if (git(c, clone, log, err) < 0 || git(c, co, log, err) < 0) {
        err_hint(err, "see %s", log);
        return err->code;
    }
    if (c->o->replay->plan->no_git_dir) {
        struct buf g = BUF_INIT;
        buf_printf(&g, "%s/.git", c->src);
        rmrf(buf_cstr(&g));
        buf_release(&g);
    }
    return 0;
}

static int full_prune(const struct vctx *c, struct err *err)
{
    const char *a[] = { NULL, "system", "prune", "-a", "-f", NULL };
    const char *b[] = { NULL, "builder", "prune", "-a", "-f", NULL };
    struct buf log = BUF_INIT;
    struct proc_result r;
    int rc;

    buf_printf(&log, "%s/prune.log", c->logs);
    rc = docker(c, 0, a, buf_cstr(&log), 1, &r, err);
    if (rc == 0 && !proc_ok(&r))
        rc = err_set(err, ERR_ENGINE, "'docker system prune' failed");
    if (rc == 0)
        rc = docker(c, 0, b, buf_cstr(&log), 1, &r, err);
    if (rc == 0 && !proc_ok(&r))
        rc = err_set(err, ERR_ENGINE, "'docker builder prune' failed");
    if (rc < 0)
        err_hint(err, "see %s", buf_cstr(&log));
    buf_release(&log);
    return rc;
}

/* ---- one real build ---- */

struct real {
    int ok;
    double seconds;      /* the `docker build` command */
    double pull_seconds; /* the `docker pull` before it; -1: none */
    double push_seconds; /* the push after it; -1: none */
    char log_path[4200];
    struct buildlog *log; /* NULL if the log did not parse */
};

/* The `docker build` command line; *out (caller frees) ends with NULL. */
static void build_argv(const struct vctx *c, const struct verify_strategy *s,
                       const char *prev, const char *tag, const char ***out,
                       struct buf *scratch)
{
    const struct plan_options *p = c->o->replay->plan;
    const char **argv = xcalloc(20 + 2 * c->o->nbuild_args, sizeof(*argv));
    size_t k = 0, i;

    argv[k++] = NULL;
    argv[k++] = "build";
    if (s->no_cache)
        argv[k++] = "--no-cache";
    if (s->inline_cache) {
        argv[k++] = "--build-arg";
        argv[k++] = "BUILDKIT_INLINE_CACHE=1";
    }
    if (s->cache_from && prev) {
        argv[k++] = "--cache-from";
        argv[k++] = prev;
    }
    if (!s->legacy) {
        buf_printf(scratch, "--network=%s",
                   c->o->network ? c->o->network : "none");
        argv[k++] = scratch->ptr;
        argv[k++] = "--progress=plain";
    }
    for (i = 0; i < c->o->nbuild_args; i++) {
        argv[k++] = "--build-arg";
        argv[k++] = c->o->build_args[i];
    }
    if (p->target) {
        argv[k++] = "--target";
        argv[k++] = p->target;
    }
    if (p->dockerfile && strcmp(p->dockerfile, "Dockerfile")) {
        argv[k++] = "-f";
        argv[k++] = p->dockerfile;
    }
    argv[k++] = "-t";
    argv[k++] = tag;
    argv[k++] = p->context && p->context[0] ? p->context : ".";
    argv[k] = NULL;
    *out = argv;
}

/* Parse the log and match it to the commit's Dockerfile in the clone. */
static void read_log(const struct vctx *c, struct real *rb)
{
    const struct plan_options *p = c->o->replay->plan;
    struct df_options dfo = { p->build_args, p->nbuild_args };
    struct buf path = BUF_INIT;
    struct df_file *df = NULL;
    struct err e = ERR_INIT;
    size_t len;
    char *text = read_all(rb->log_path, &len);

    if (!text || buildlog_parse(&rb->log, rb->log_path, text, len, &e) < 0) {
        note(c, "verify: %s", text ? e.msg : "cannot read the build log");
        free(text);
        return;
    }
    free(text);
    buf_printf(&path, "%s/%s", c->src,
               p->dockerfile ? p->dockerfile : "Dockerfile");
    text = read_all(buf_cstr(&path), &len);
    if (text && df_parse(&df, buf_cstr(&path), text, len, &dfo, &e) == 0)
        buildlog_match(rb->log, df);
    else if (text)
        note(c, "verify: %s", e.msg);
    df_file_free(df);
    free(text);
    buf_release(&path);
}

/* Bytes a BuildKit log shows fetched (each blob once, even when two
 * vertices fetched it); -1 for a legacy log, which prints no sizes. */
static int64_t log_bytes_pulled(const struct buildlog *log)
{
    int64_t pulled = 0;
    size_t i, j;

    if (!log || log->format != BUILDLOG_BUILDKIT)
        return -1;
    for (i = 0; i < log->nblobs; i++) {
        for (j = 0; j < i; j++)
            if (!strcmp(log->blobs[j].digest, log->blobs[i].digest))
                break;
        if (j == i && log->blobs[i].bytes > 0)
            pulled += log->blobs[i].bytes;
    }
    return pulled;
}

static enum store_outcome store_outcome_of(enum buildlog_outcome o)
{
    return o == BUILDLOG_HIT    ? STORE_OUTCOME_HIT
           : o == BUILDLOG_MISS ? STORE_OUTCOME_MISS
                                : STORE_OUTCOME_NONE;
}

/* A real build as compare() and record() read it, live or recorded. */
struct vstep {
    int line;
    const char *keyword;
    enum buildlog_outcome outcome;
    double seconds;
};

struct vreal {
    int ok;
    double seconds, pull_seconds, push_seconds; /* < 0: none */
    int64_t bytes_pulled, bytes_pushed;         /* -1: not measured */
    struct vstep *steps;
    size_t nsteps;
    const char *log_path;
};

static void vreal_from_live(struct vreal *v, const struct real *rb)
{
    size_t i, n = rb->log ? rb->log->nsteps : 0;

    memset(v, 0, sizeof(*v));
    v->ok = rb->ok;
    v->seconds = rb->seconds;
    v->pull_seconds = rb->pull_seconds;
    v->push_seconds = rb->push_seconds;
    v->bytes_pulled = log_bytes_pulled(rb->log);
    v->bytes_pushed = -1;
    v->log_path = rb->log_path;
    v->steps = xcalloc(n + 1, sizeof(*v->steps));
    for (i = 0; i < n; i++) {
        const struct buildlog_step *st = &rb->log->steps[i];
        v->steps[i].line = st->line;
        v->steps[i].keyword = st->keyword;
        v->steps[i].outcome = st->outcome;
        v->steps[i].seconds = st->seconds;
    }
    v->nsteps = n;
}

static void vreal_from_record(struct vreal *v, const struct record_real *r,
                              const char *path)
{
    memset(v, 0, sizeof(*v));
    v->ok = r->ok;
    v->seconds = r->seconds;
    v->pull_seconds = r->pull_seconds;
    v->push_seconds = r->push_seconds;
    v->bytes_pulled = r->bytes_pulled;
    v->bytes_pushed = r->bytes_pushed;
    v->log_path = path;
    v->steps = xcalloc(r->nsteps + 1, sizeof(*v->steps));
    for (size_t i = 0; i < r->nsteps; i++) {
        v->steps[i].line = r->steps[i].line;
        v->steps[i].keyword = r->steps[i].instruction;
        v->steps[i].outcome = r->steps[i].outcome == 1   ? BUILDLOG_HIT
                              : r->steps[i].outcome == 2 ? BUILDLOG_MISS
                                                         : BUILDLOG_NONE;
        v->steps[i].seconds = -1;
    }
    v->nsteps = r->nsteps;
}

static int record(const struct vctx *c, const struct verify_strategy *s,
                  const char *sha, const struct vreal *v, struct err *err)
{
    struct store_real_build b;
    struct store_real_step *steps = NULL;
    size_t i;
    int rc;

    steps = xcalloc(v->nsteps + 1, sizeof(*steps));
    for (i = 0; i < v->nsteps; i++) {
        steps[i].line = v->steps[i].line;
        steps[i].instruction = v->steps[i].keyword;
        steps[i].outcome = store_outcome_of(v->steps[i].outcome);
        steps[i].seconds = v->steps[i].seconds;
    }
    memset(&b, 0, sizeof(b));
    b.run_id = c->run_id;
    b.commit_sha = sha;
    b.strategy = s->name;
    b.status = v->ok ? STORE_STATUS_OK : STORE_STATUS_FAILED;
    b.seconds = v->seconds;
    b.pull_seconds = v->pull_seconds;
    b.push_seconds = v->push_seconds;
    b.bytes_pulled = v->bytes_pulled;
    b.bytes_pushed = v->bytes_pushed;
    b.log_path = v->log_path;
    rc = store_real_build_put(c->st, &b, steps, v->nsteps, NULL, err);
    free(steps);
    return rc;
}

static int build_one(struct vctx *c, const struct verify_strategy *s,
                     size_t index, int first, char *prev, size_t prev_size,
                     struct real *rb, struct err *err)
{
    const char **argv = NULL;
    struct buf base = BUF_INIT, tag = BUF_INIT, path = BUF_INIT,
               scratch = BUF_INIT;
    struct proc_result r;
    char sha[OID_HEX];
    int rc = 0;

    memset(rb, 0, sizeof(*rb));
    rb->pull_seconds = rb->push_seconds = -1;
    oid_hex(&c->commits[index], sha);
    buf_printf(&base, "%s/%s-%zu-%.7s", c->logs, s->name, index, sha);
    buf_printf(&path, "%s.git.log", buf_cstr(&base));
    if ((rc = checkout(c, sha, buf_cstr(&path), err)) < 0)
        goto out;
    if ((s->prune_each || first) && (rc = full_prune(c, err)) < 0)
        goto out;
    if (c->o->registry)
        buf_printf(&tag, "%s/harness-verify-%s:%zu-%.7s", c->o->registry,
                   s->name, index, sha);
    else
        buf_printf(&tag, "harness-verify-%s:%zu-%.7s", s->name, index, sha);
    if (s->pull_prev && prev[0]) {
        const char *pull[] = { NULL, "pull", prev, NULL };
        buf_reset(&path);
        buf_printf(&path, "%s.pull.log", buf_cstr(&base));
        if ((rc = docker(c, s->legacy, pull, buf_cstr(&path), 0, &r, err)) < 0)
            goto out;
        rb->pull_seconds = r.seconds;
    }
    build_argv(c, s, prev[0] ? prev : NULL, buf_cstr(&tag), &argv, &scratch);
    snprintf(rb->log_path, sizeof(rb->log_path), "%s.log", buf_cstr(&base));
    if ((rc = docker(c, s->legacy, argv, rb->log_path, 0, &r, err)) < 0)
        goto out;
    rb->seconds += r.seconds;
    rb->ok = proc_ok(&r);
    if (rb->ok && c->o->registry) {
        const char *push[] = { NULL, "push", buf_cstr(&tag), NULL };
        buf_reset(&path);
        buf_printf(&path, "%s.push.log", buf_cstr(&base));
        if ((rc = docker(c, s->legacy, push, buf_cstr(&path), 0, &r, err)) < 0)
            goto out;
        rb->push_seconds = r.seconds;
        rb->ok = proc_ok(&r);
    }
    read_log(c, rb);
    {
        struct vreal v;
        vreal_from_live(&v, rb);
        rc = record(c, s, sha, &v, err);
        free(v.steps);
        if (rc < 0)
            goto out;
    }
    if (rb->ok)
        snprintf(prev, prev_size, "%s", buf_cstr(&tag));
out:
    free(argv);
    buf_release(&base);
    buf_release(&tag);
    buf_release(&path);
    buf_release(&scratch);
    return rc;
}

/* ---- comparison ---- */

static void disagree(struct verify_strategy_result *res, const char *sha,
                     size_t index, int line, const char *instruction,
                     const char *real, const char *sim)
{
    struct verify_disagreement *d;

    res->dis = xrealloc(res->dis, (res->ndis + 1) * sizeof(*res->dis));
    d = &res->dis[res->ndis++];
    memset(d, 0, sizeof(*d));
    snprintf(d->sha, sizeof(d->sha), "%s", sha);
    d->index = index;
    d->line = line;
    snprintf(d->instruction, sizeof(d->instruction), "%s",
             instruction ? instruction : "");
    snprintf(d->real, sizeof(d->real), "%s", real);
    snprintf(d->sim, sizeof(d->sim), "%s", sim);
}

/* Whether simulated bytes are within the bound of real ones. */
static int bytes_within(int64_t sim, int64_t real, int64_t *worst)
{
    int64_t d = sim > real ? sim - real : real - sim;
    double bound = real * VERIFY_BYTES_PCT / 100.0;

    if (bound < VERIFY_BYTES_SLACK)
        bound = VERIFY_BYTES_SLACK;
    if (d > *worst)
        *worst = d;
    return (double)d <= bound;
}

static void compare_figures(struct verify_strategy_result *res,
                            const struct vreal *v,
                            const struct store_sim_build *sb)
{
    int measured = 0, ok = 1;

    res->real_seconds += v->seconds;
    res->sim_seconds += sb->seconds;
    if (v->pull_seconds >= 0 || v->push_seconds >= 0) {
        res->pp_builds++;
        res->real_pp_seconds += (v->pull_seconds > 0 ? v->pull_seconds : 0) +
                                (v->push_seconds > 0 ? v->push_seconds : 0);
        res->sim_pp_seconds += (sb->pull_seconds > 0 ? sb->pull_seconds : 0) +
                               (sb->push_seconds > 0 ? sb->push_seconds : 0);
    }
    if (v->bytes_pulled >= 0 && sb->bytes_pulled >= 0) {
        measured = 1;
        ok &= bytes_within(sb->bytes_pulled, v->bytes_pulled,
                           &res->bytes_worst);
    }
    if (v->bytes_pushed >= 0 && sb->bytes_pushed >= 0) {
        measured = 1;
        ok &= bytes_within(sb->bytes_pushed, v->bytes_pushed,
                           &res->bytes_worst);
    }
    res->bytes_builds += measured;
    res->bytes_within += measured && ok;
}

static int compare(const struct vctx *c, struct verify_strategy_result *res,
                   size_t index, const struct vreal *v, struct err *err)
{
    struct store_sim_build sb;
    struct store_sim_step *sim = NULL;
    size_t nsim = 0, i, j;
    char sha[OID_HEX];
    int rc;

    oid_hex(&c->commits[index], sha);
    rc = store_sim_build_get(c->st, c->run_id, res->s->name, sha, &sb, &sim,
                             &nsim, err);
    if (rc == ERR_NOTFOUND) {
        err_clear(err);
        disagree(res, sha, index, 0, "", v->ok ? "ok" : "failed", "absent");
        return 0;
    }
    if (rc < 0)
        return rc;
    res->compared++;
    compare_figures(res, v, &sb);
    if ((sb.status == STORE_STATUS_OK) != v->ok)
        disagree(res, sha, index, 0, "", v->ok ? "ok" : "failed",
                 store_status_name(sb.status));
    for (i = 0; i < v->nsteps; i++) {
        const struct vstep *st = &v->steps[i];
        const char *real = buildlog_outcome_name(st->outcome);
        const char *simo = "absent";
        if (st->outcome == BUILDLOG_NONE)
            continue;
        res->steps++;
        for (j = 0; st->line && j < nsim; j++)
            if (sim[j].line == st->line) {
                simo = store_outcome_name(sim[j].outcome);
                break;
            }
        if (!st->line)
            simo = "no line";
        if (!strcmp(real, simo))
            res->agree++;
        else
            disagree(res, sha, index, st->line, st->keyword, real, simo);
    }
    free(sim);
    return 0;
}

/* ---- the whole run ---- */

static int run_strategy(struct vctx *c, const struct verify_strategy *s,
                        const size_t *sample, size_t nsample,
                        struct verify_strategy_result *res, struct err *err)
{
    struct verify_item *plan = NULL;
    size_t n = 0, i;
    char prev[512] = "";
    int rc = 0;

    res->s = s;
    if (s->needs_registry && !c->o->registry) {
        res->skipped = 1;
        snprintf(res->note, sizeof(res->note),
                 "skipped: needs a registry (--registry HOST:PORT)");
        note(c, "verify: %s %s", s->name, res->note);
        return 0;
    }
    verify_plan(s, sample, nsample, &plan, &n);
    note(c, "verify: %s: %zu builds (%zu compared)", s->name, n, nsample);
    for (i = 0; i < n; i++) {
        struct real rb;
        char sha[OID_HEX];
        size_t hits = 0, misses = 0, k;

        rc = build_one(c, s, plan[i].index, i == 0, prev, sizeof(prev), &rb,
                       err);
        if (rc < 0) {
            buildlog_free(rb.log);
            break;
        }
        res->builds++;
        res->failed += !rb.ok;
        for (k = 0; rb.log && k < rb.log->nsteps; k++) {
            hits += rb.log->steps[k].outcome == BUILDLOG_HIT;
            misses += rb.log->steps[k].outcome == BUILDLOG_MISS;
        }
        oid_hex(&c->commits[plan[i].index], sha);
        note(c, "verify: %-19s %3zu %.7s %-6s %6.1fs  hit %zu miss %zu%s",
             s->name, plan[i].index, sha, rb.ok ? "ok" : "failed", rb.seconds,
             hits, misses, plan[i].compare ? "" : "  (prepares)");
        if (plan[i].compare) {
            struct vreal v;
            vreal_from_live(&v, &rb);
            rc = compare(c, res, plan[i].index, &v, err);
            free(v.steps);
        }
        buildlog_free(rb.log);
        if (rc < 0)
            break;
    }
    free(plan);
    return rc;
}

/* --real: every recorded build of the strategy whose commit is in the
 * range, in the file's order. */
static int run_recorded(struct vctx *c, const struct verify_strategy *s,
                        struct verify_strategy_result *res, struct err *err)
{
    const struct verify_options *o = c->o;
    size_t i, k;
    int rc = 0;

    res->s = s;
    for (i = 0; i < o->nrecorded && rc == 0; i++) {
        const struct record_real *r = &o->recorded[i];
        char sha[OID_HEX], from[4200];
        struct vreal v;
        if (strcmp(r->strategy, s->name))
            continue;
        for (k = 0; k < c->ncommits; k++) {
            oid_hex(&c->commits[k], sha);
            if (!strcmp(sha, r->commit))
                break;
        }
        if (k == c->ncommits)
            continue;
        snprintf(from, sizeof(from), "%s:%d", o->recorded_path, r->src_line);
        vreal_from_record(&v, r, from);
        res->builds++;
        res->failed += !v.ok;
        rc = record(c, s, sha, &v, err);
        if (rc == 0)
            rc = compare(c, res, k, &v, err);
        free(v.steps);
    }
    if (rc == 0 && !res->builds) {
        res->skipped = 1;
        snprintf(res->note, sizeof(res->note),
                 "skipped: no recorded build of a commit in the range");
    }
    return rc;
}

static int make_dirs(struct vctx *c, struct verify_result *out, struct err *err)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(c->scratch, sizeof(c->scratch), "%s.logs", c->o->db_path);
    if (mkdir_one(c->scratch, err) < 0)
        return err->code;
    snprintf(c->logs, sizeof(c->logs), "%s.logs/%s-%ld", c->o->db_path, stamp,
             (long)getpid());
    if (mkdir_one(c->logs, err) < 0)
        return err->code;
    snprintf(out->logs_dir, sizeof(out->logs_dir), "%s", c->logs);
    snprintf(c->scratch, sizeof(c->scratch), "%s.scratch", c->o->db_path);
    if (mkdir_one(c->scratch, err) < 0)
        return err->code;
    snprintf(c->src, sizeof(c->src), "%s/src", c->scratch);
    return 0;
}

int verify_run(struct store *st, struct repo *r, const struct verify_options *o,
               struct verify_result *out, struct err *err)
{
    struct vctx c;
    struct replay_stats stats;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.o = o;
    c.st = st;
    c.err = err;
    if (o->docker_host)
        snprintf(c.host_env, sizeof(c.host_env), "DOCKER_HOST=%s",
                 o->docker_host);
    rc = repo_range(r, o->replay->range ? o->replay->range : "HEAD",
                    o->replay->first_parent, &c.commits, &c.ncommits, err);
    if (rc < 0)
        return rc;
    out->commits = c.ncommits;
    note(&c, "verify: simulating %zu commits (--engine docker-20.10)",
         c.ncommits);
    if ((rc = replay_run(st, r, o->replay, &stats, err)) < 0)
        goto out;
    c.run_id = out->run_id = stats.run_id;
    out->sample = xcalloc(c.ncommits + 1, sizeof(size_t));
    if (o->recorded) {
        out->recorded = 1;
        out->per = xcalloc(o->nstrategies + 1, sizeof(*out->per));
        for (i = 0; i < o->nstrategies && rc == 0; i++) {
            out->nper++;
            rc = run_recorded(&c, o->strategies[i], &out->per[i], err);
        }
        goto out;
    }
    out->nsample = verify_sample(c.ncommits, o->sample, out->sample);
    if ((rc = make_dirs(&c, out, err)) < 0)
        goto out;
    out->per = xcalloc(o->nstrategies + 1, sizeof(*out->per));
    for (i = 0; i < o->nstrategies; i++) {
        out->nper++;
        rc = run_strategy(&c, o->strategies[i], out->sample, out->nsample,
                          &out->per[i], err);
        if (rc < 0)
            break;
    }
    c.src[0] = '\0';
    rmrf(c.scratch);
out:
    free(c.commits);
    return rc;
}

void verify_result_release(struct verify_result *res)
{
    size_t i;

    for (i = 0; i < res->nper; i++)
        free(res->per[i].dis);
    free(res->per);
    free(res->sample);
    memset(res, 0, sizeof(*res));
}
