/*
 * facts.c - tree facts and step descriptions for the model (see facts.h).
 */
#include "facts.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "context.h"
#include "keys.h"

static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (h[i] == n[0] && !memcmp(h + i, n, nl))
            return h + i;
    return NULL;
}

struct seen {
    struct oid id;
    int eco;
    long count;
};

/* Package counts of the manifests counted last, a ring searched newest
 * first: a commit's manifests are most often the ones the commit before
 * had.  The count depends on the blob alone, so what falls out of the
 * ring is only counted again. */
#define SEEN_RING 256

struct facts_cache {
    struct seen v[SEEN_RING];
    size_t n; /* counted so far; the newest is v[(n - 1) % SEEN_RING] */
};

struct facts_cache *facts_cache_new(void)
{
    return xcalloc(1, sizeof(struct facts_cache));
}

void facts_cache_free(struct facts_cache *fc)
{
    if (!fc)
        return;
    free(fc);
}

/* Count of lines that start with `word` (after blanks). */
static long count_lines(const char *t, size_t len, const char *word,
                        int skip_comments, const char *not_suffix)
{
    long n = 0;
    size_t i = 0, wl = strlen(word);

    while (i < len) {
        size_t j = i, e;
        while (j < len && (t[j] == ' ' || t[j] == '\t'))
            j++;
        e = j;
        while (e < len && t[e] != '\n')
            e++;
        if (e > j && (!skip_comments || (t[j] != '#' && t[j] != '-' &&
                                         t[j] != '\r')) &&
            (!wl || (e - j >= wl && !memcmp(t + j, word, wl)))) {
            size_t sl = not_suffix ? strlen(not_suffix) : 0;
            size_t end = e;
            while (end > j && (t[end - 1] == '\r' || t[end - 1] == ' '))
                end--;
            /* go.sum: "mod v1.2.3/go.mod h1:..." lines are duplicates */
            if (!sl || !find(t + j, end - j, not_suffix, sl))
                n++;
        }
        i = e + 1;
    }
    return n;
}

static long count_str(const char *t, size_t len, const char *s)
{
    size_t sl = strlen(s);
    long n = 0;
    const char *p = t, *end = t + len;

    while (p < end) {
        const char *q = find(p, (size_t)(end - p), s, sl);
        if (!q)
            break;
        n++;
        p = q + sl;
    }
    return n;
}

long facts_count_packages(int eco, const char *text, size_t len)
{
    long n;

    switch (eco) {
    case MODEL_ECO_PIP:
        return count_lines(text, len, "", 1, NULL);
    case MODEL_ECO_NPM:
        /* lockfile v2/v3: "node_modules/x" keys; v1: "resolved" per entry */
        n = count_str(text, len, "\"node_modules/");
        return n ? n : count_str(text, len, "\"resolved\"");
    case MODEL_ECO_GO:
        return count_lines(text, len, "", 0, "/go.mod ");
    case MODEL_ECO_CARGO:
        return count_str(text, len, "[[package]]");
    case MODEL_ECO_NUGET:
        return count_str(text, len, "<PackageReference");
    default:
        return -1;
    }
}

static int eco_of(const char *name)
{
    size_t n = strlen(name);

    if (!strncmp(name, "requirements", 12) && n >= 16 &&
        !strcmp(name + n - 4, ".txt"))
        return MODEL_ECO_PIP;
    if (!strcmp(name, "package-lock.json"))
        return MODEL_ECO_NPM;
    if (!strcmp(name, "go.sum"))
        return MODEL_ECO_GO;
    if (!strcmp(name, "Cargo.lock"))
        return MODEL_ECO_CARGO;
    if (n > 7 && !strcmp(name + n - 7, ".csproj"))
        return MODEL_ECO_NUGET;
    return -1;
}

static int count_blob(struct facts_cache *fc, struct repo *r,
                      const struct repo_entry *e, int eco, long *out,
                      struct err *err)
{
    char *text = NULL;
    size_t len = 0, i;
    int rc;

    for (i = 0; i < fc->n && i < SEEN_RING; i++) {
        const struct seen *v = &fc->v[(fc->n - 1 - i) % SEEN_RING];
        if (v->eco == eco && oid_equal(&v->id, &e->id)) {
            *out = v->count;
            return 0;
        }
    }
    if ((rc = repo_blob_read(r, &e->id, &text, &len, err)) < 0)
        return rc;
    *out = facts_count_packages(eco, text, len);
    free(text);
    fc->v[fc->n++ % SEEN_RING] = (struct seen){ e->id, eco, *out };
    return 0;
}

/* The tree of the context folder (the root when ""); ERR_NOTFOUND. */
static int context_tree(struct repo *r, const struct oid *commit,
                        const char *context, struct oid *out, struct err *err)
{
    char *path = xstrdup(context ? context : ""), *save = NULL, *part;
    int rc;

    if ((rc = repo_commit_tree(r, commit, out, err)) < 0)
        goto out;
    for (part = strtok_r(path, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        struct repo_tree *t = NULL;
        struct repo_entry e;
        if (!strcmp(part, "."))
            continue;
        if ((rc = repo_tree_open(&t, r, out, err)) < 0)
            goto out;
        rc = repo_tree_find(t, part, &e);
        if (rc == 0 && e.type == REPO_TREE)
            *out = e.id;
        else
            rc = ERR_NOTFOUND;
        repo_tree_free(t);
        if (rc < 0)
            goto out;
    }
out:
    free(path);
    return rc;
}

int facts_read(struct facts_cache *fc, struct repo *r, const struct plan *p,
               const char *context, int with_context, struct model_facts *out,
               struct err *err)
{
    struct repo_tree *t = NULL;
    struct oid tree;
    size_t i, n;
    int rc, eco;

    memset(out, 0, sizeof(*out));
    for (eco = 0; eco < MODEL_ECO_COUNT; eco++)
        out->packages[eco] = -1;
    rc = context_tree(r, &p->commit, context, &tree, err);
    if (rc == ERR_NOTFOUND) {
        err_clear(err);
        return 0;
    }
    if (rc < 0 || (rc = repo_tree_open(&t, r, &tree, err)) < 0)
        return rc;
    n = repo_tree_count(t);
    for (i = 0; i < n; i++) {
        struct repo_entry e;
        long c;
        repo_tree_entry(t, i, &e);
        if (e.type != REPO_BLOB || (eco = eco_of(e.name)) < 0)
            continue;
        if ((rc = count_blob(fc, r, &e, eco, &c, err)) < 0)
            break;
        out->packages[eco] = (out->packages[eco] < 0 ? 0
                                                     : out->packages[eco]) +
                             c;
    }
    repo_tree_free(t);
    if (rc < 0)
        return rc;
    if (with_context && p->ctx) {
        const char *all[] = { "." };
        struct ctx_selection sel;
        if (ctx_select(p->ctx, all, 1, NULL, 0, 0, &sel, err) == 0) {
            out->context_bytes = sel.bytes;
            out->context_files = sel.nfiles;
        } else {
            err_clear(err);
        }
    }
    return 0;
}

void facts_step_in(struct model_step_in *out, const struct model *m,
                   const struct key_step *s, const struct df_instr *di,
                   int builder, const struct model_facts *facts)
{
    const struct key_part *part;

    memset(out, 0, sizeof(*out));
    out->builder = builder;
    out->stage = s->stage;
    out->text = di ? di->original : NULL;
    out->facts = facts;
    switch (s->kind) {
    case DF_FROM:
        out->kind = MODEL_FROM;
        part = key_step_part(s, "base");
        if (part)
            out->image = part->value;
        else
            out->image = di && di->nargs ? di->args[0] : "";
        break;
    case DF_RUN:
        out->kind = MODEL_RUN;
        part = key_step_part(s, "command");
        out->command = part ? part->value : "";
        break;
    case DF_COPY:
    case DF_ADD:
        out->kind = MODEL_COPY;
        out->copy_bytes = s->bytes;
        out->copy_files = s->nfiles;
        if (s->git_dir) { /* the checkout's .git: one entry here */
            out->copy_files += (size_t)m->git_dir_files;
            out->copy_bytes += (uint64_t)(m->git_dir_mbytes * 1e6);
        }
        break;
    case DF_WORKDIR:
        out->kind = MODEL_WORKDIR;
        break;
    default:
        out->kind = MODEL_META;
        break;
    }
}

void facts_costs(const struct model *m, const struct plan *p, int builder,
                 const struct model_facts *facts, struct model_cost *out)
{
    const struct key_build *kb = p->kb[builder];
    uint64_t copied = 0;
    int stage = -1;

    for (size_t i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        struct model_step_in in;

        if (s->stage != stage) {
            stage = s->stage;
            copied = 0;
        }
        facts_step_in(&in, m, s, &p->df->instrs[s->instr], builder, facts);
        if (s->kind == DF_RUN)
            in.source_bytes = copied;
        else if ((s->kind == DF_COPY || s->kind == DF_ADD) && s->source < 0)
            copied += s->bytes;
        model_step_cost(m, &in, &out[i]);
    }
}

double facts_cold_seconds(const struct model *m, const struct key_build *kb,
                          const struct model_cost *costs,
                          const struct model_facts *facts, int builder)
{
    double *dur = xcalloc(kb->nsteps + 1, sizeof(double));
    int *da = xcalloc(kb->nsteps + 1, sizeof(int));
    int *db = xcalloc(kb->nsteps + 1, sizeof(int));
    uint64_t raw = 0, ctx = 0;
    size_t nlayers = 0, i;
    int pulls = 0;
    double t;

    for (i = 0; i < kb->nsteps; i++) {
        const struct key_step *s = &kb->steps[i];
        da[i] = s->parent;
        db[i] = s->source;
        if (!s->built || (builder == MODEL_BUILDKIT && !s->vertex))
            continue;
        if (s->kind == DF_FROM) {
            /* each base is pulled once; a later stage from it waits */
            int first = key_same_base_before(kb, i);
            if (first >= 0)
                db[i] = first;
            else if (key_step_part(s, "base")) {
                dur[i] = model_pull_seconds(m, costs[i].bytes, 1, 1);
                pulls = 1;
            }
            continue;
        }
        dur[i] = costs[i].seconds;
        if (s->kind == DF_COPY || s->kind == DF_ADD) {
            if (s->source < 0)
                ctx += s->bytes;
        }
        if (s->in_final && s->layer) {
            nlayers++;
            raw += costs[i].raw_bytes;
        }
    }
    if (builder == MODEL_LEGACY || m->b[builder].context_full)
        ctx = facts && facts->context_bytes ? facts->context_bytes : ctx;
    t = model_schedule(m, builder, dur, da, db, kb->nsteps) +
        model_fixed_seconds(m, builder, 0, nlayers, raw) +
        model_context_seconds(m, builder, ctx);
    if (pulls) /* a runner without the base resolves it first */
        t += m->b[builder].fresh_start;
    free(dur);
    free(da);
    free(db);
    return t;
}
