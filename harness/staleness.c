/*
 * staleness.c - network fetches whose cached result is reused, and for how
 * long (see staleness.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dockerfile.h"
#include "repo.h"
#include "staleness.h"
#include "store_report.h"

/* Word sequences that fetch from the network, matched on word boundaries
 * in the lower-cased command; the first match names the kind. */
static const struct {
    const char *words, *kind;
} fetchers[] = {
    { "apt-get install", "apt-get" },
    { "apt-get update", "apt-get" },
    { "apt-get upgrade", "apt-get" },
    { "apt-get dist-upgrade", "apt-get" },
    { "apt install", "apt" },
    { "apt update", "apt" },
    { "apk add", "apk" },
    { "apk update", "apk" },
    { "apk upgrade", "apk" },
    { "yum install", "yum" },
    { "dnf install", "dnf" },
    { "microdnf install", "dnf" },
    { "zypper install", "zypper" },
    { "pip install", "pip" },
    { "pip3 install", "pip" },
    { "pipenv install", "pip" },
    { "poetry install", "poetry" },
    { "uv pip install", "uv" },
    { "uv sync", "uv" },
    { "conda install", "conda" },
    { "npm install", "npm" },
    { "npm ci", "npm" },
    { "npm i", "npm" },
    { "yarn install", "yarn" },
    { "pnpm install", "pnpm" },
    { "go get", "go" },
    { "go mod download", "go" },
    { "go install", "go" },
    { "cargo install", "cargo" },
    { "cargo fetch", "cargo" },
    { "cargo build", "cargo" },
    { "gem install", "gem" },
    { "bundle install", "bundler" },
    { "composer install", "composer" },
    { "composer require", "composer" },
    { "dotnet restore", "dotnet" },
    { "mvn", "maven" },
    { "gradle", "gradle" },
    { "./gradlew", "gradle" },
    { "git clone", "git clone" },
    { "git fetch", "git clone" },
    { "git pull", "git clone" },
    { "curl", "curl" },
    { "wget", "wget" },
};

static int boundary(int c)
{
    return c == 0 || isspace(c) || c == ';' || c == '&' || c == '|' ||
           c == '(' || c == ')' || c == '`' || c == '"' || c == '\'' ||
           c == '\\';
}

/* Whether words occur in text (lower case) at word boundaries, with any
 * run of blanks between them. */
static int has_words(const char *text, const char *words)
{
    for (const char *p = text; *p; p++) {
        const char *t = p, *w = words;
        if (p != text && !boundary((unsigned char)p[-1]))
            continue;
        while (*w) {
            if (*w == ' ') {
                if (!isspace((unsigned char)*t))
                    break;
                while (isspace((unsigned char)*t))
                    t++;
                w++;
            } else if (*w == *t) {
                w++;
                t++;
            } else {
                break;
            }
        }
        if (!*w && boundary((unsigned char)*t))
            return 1;
    }
    return 0;
}

const char *staleness_fetch_kind(const char *run_text)
{
    char *low = xstrdup(run_text);
    const char *kind = NULL;

    for (char *p = low; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < sizeof(fetchers) / sizeof(fetchers[0]); i++)
        if (has_words(low, fetchers[i].words)) {
            kind = fetchers[i].kind;
            break;
        }
    free(low);
    return kind;
}

void staleness_init(struct staleness *s)
{
    memset(s, 0, sizeof(*s));
}

void staleness_release(struct staleness *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].strategy);
        free(s->entries[i].text);
    }
    free(s->entries);
    memset(s, 0, sizeof(*s));
}

static struct staleness_entry *entry(struct staleness *s, const char *strategy,
                                     int64_t stage, const char *text,
                                     const char *kind)
{
    struct staleness_entry *e;

    if (s->strategy_start < s->n &&
        strcmp(s->entries[s->strategy_start].strategy, strategy))
        s->strategy_start = s->n;
    for (size_t i = s->strategy_start; i < s->n; i++)
        if (s->entries[i].stage == stage && !strcmp(s->entries[i].text, text))
            return &s->entries[i];
    xgrow((void **)&s->entries, &s->cap, s->n + 1, sizeof(*s->entries));
    e = &s->entries[s->n++];
    memset(e, 0, sizeof(*e));
    e->strategy = xstrdup(strategy);
    e->stage = stage;
    e->text = xstrdup(text);
    e->kind = kind;
    return e;
}

void staleness_add(struct staleness *s, const char *strategy, int64_t seq,
                   int64_t author_time, int64_t stage, int64_t line,
                   const char *text, int hit)
{
    const char *kind = staleness_fetch_kind(text);
    struct staleness_entry *e;

    if (!kind)
        return;
    e = entry(s, strategy, stage, text, kind);
    if (!e->builds) {
        e->run_seq = seq;
        e->run_time = author_time;
    }
    e->builds++;
    e->line = line;
    e->last_seq = seq;
    if (!hit) {
        e->runs++;
        e->seen_run = 1;
        e->run_seq = seq;
        e->run_time = author_time;
        e->last_commits = 0;
        e->last_days = 0;
        return;
    }
    e->hits++;
    e->last_commits = seq - e->run_seq;
    e->last_days = author_time > e->run_time
                       ? (double)(author_time - e->run_time) / 86400.0
                       : 0;
    if (e->last_commits > e->max_commits)
        e->max_commits = e->last_commits;
    if (e->last_days > e->max_days)
        e->max_days = e->last_days;
}

/* A Dockerfile version, parsed once per blob. */
struct df_version {
    struct oid blob;
    struct df_file *df; /* NULL: did not parse */
};

struct stale_ctx {
    struct repo *repo;
    const char *dockerfile;
    struct df_version *versions;
    size_t nversions, cap_versions;
    const struct df_file **by_seq; /* the Dockerfile of each commit */
    unsigned char *seq_done;
    size_t nseq;
    struct staleness *st;
};

static const struct df_file *dockerfile_of(struct stale_ctx *c, const char *sha,
                                           int64_t seq)
{
    struct oid commit, blob;
    struct err err = ERR_INIT;
    const struct df_file *df = NULL;
    char *text = NULL;
    size_t len, i;

    if (seq < 0)
        return NULL;
    if ((size_t)seq >= c->nseq) {
        size_t n = (size_t)seq * 2 + 16;
        c->by_seq = xrealloc(c->by_seq, n * sizeof(*c->by_seq));
        c->seq_done = xrealloc(c->seq_done, n);
        memset(c->by_seq + c->nseq, 0, (n - c->nseq) * sizeof(*c->by_seq));
        memset(c->seq_done + c->nseq, 0, n - c->nseq);
        c->nseq = n;
    }
    if (c->seq_done[seq])
        return c->by_seq[seq];
    c->seq_done[seq] = 1;
    if (repo_resolve(c->repo, sha, &commit, &err) < 0 ||
        repo_path_blob(c->repo, &commit, c->dockerfile, &blob, &err) < 0)
        return NULL;
    for (i = 0; i < c->nversions; i++)
        if (oid_equal(&c->versions[i].blob, &blob))
            return c->by_seq[seq] = c->versions[i].df;
    xgrow((void **)&c->versions, &c->cap_versions, c->nversions + 1,
          sizeof(*c->versions));
    c->versions[c->nversions].blob = blob;
    c->versions[c->nversions].df = NULL;
    if (repo_blob_read(c->repo, &blob, &text, &len, &err) == 0) {
        struct df_file *f = NULL;
        if (df_parse(&f, c->dockerfile, text, len, NULL, &err) == 0)
            c->versions[c->nversions].df = f;
        df = f;
    }
    free(text);
    c->nversions++;
    return c->by_seq[seq] = df;
}

static int on_step(void *ctx, const struct store_report_run_step *s,
                   struct err *err)
{
    struct stale_ctx *c = ctx;
    const struct df_file *df = dockerfile_of(c, s->commit_sha, s->seq);

    (void)err;
    for (size_t i = 0; df && i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind == DF_RUN && in->line == s->line) {
            staleness_add(c->st, s->strategy, s->seq, s->author_time, s->stage,
                          s->line, in->original, s->hit);
            return 0;
        }
    }
    c->st->unresolved++;
    return 0;
}

/* The repository of the run: --repo, else the path recorded, as given or
 * relative to the database's folder. */
static int open_repo(struct repo **out, const char *given, const char *db,
                     struct err *err)
{
    struct buf p = BUF_INIT;
    const char *slash = strrchr(db, '/');
    int rc;

    if (given[0] == '/' || access(given, F_OK) == 0 || !slash)
        return repo_open(out, given, err);
    buf_printf(&p, "%.*s/%s", (int)(slash - db), db, given);
    rc = repo_open(out, buf_cstr(&p), err);
    buf_release(&p);
    return rc;
}

int staleness_read(struct staleness *s, struct store_report *sr,
                   const struct store_report_run *run, const char *repo_dir,
                   const char *db, struct err *err)
{
    struct stale_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.st = s;
    c.dockerfile = run->dockerfile ? run->dockerfile : "Dockerfile";
    if ((rc = open_repo(&c.repo, repo_dir ? repo_dir : run->repo, db, err)) <
        0) {
        err_hint(err, "give the replayed repository with --repo DIR");
        return rc;
    }
    rc = store_report_run_steps(sr, run->id, "RUN", on_step, &c, err);
    for (size_t i = 0; i < c.nversions; i++)
        df_file_free(c.versions[i].df);
    free(c.versions);
    free(c.by_seq);
    free(c.seq_done);
    repo_free(c.repo);
    return rc;
}
