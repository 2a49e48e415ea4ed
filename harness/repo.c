/*
 * repo.c - read access to a git repository through libgit2.
 *
 * Ranges are walked here rather than with git_revwalk because libgit2 1.5
 * does not know shallow histories: its walk fails on the first missing
 * parent.  Our walk reads <gitdir>/shallow and stops at those commits, then
 * sorts the commits oldest first with Kahn's algorithm (a commit comes after
 * all of its parents in the range; among ready commits the oldest committer
 * time first), which is the order of `git log --reverse` on well-dated
 * histories.
 */
#include "repo.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sha256.h"

struct repo {
    git_repository *git;
    git_odb *odb;
    struct oid *shallow; /* sorted */
    size_t nshallow;
    char note[256];
    /* The root tree of the last commit asked for: one build asks for it
     * several times (Dockerfile, context folder, .dockerignore). */
    struct oid last_commit;
    git_tree *last_tree;
    /* The root tree id of the last commit repo_commit_read() read: a
     * replay reads a commit's metadata first, then its tree is looked up
     * without reading the commit again. */
    struct oid read_commit, read_tree;
    int have_read;
};

/* An open tree is libgit2's tree itself: struct repo_tree is never
 * defined, so opening one allocates nothing more. */
static git_tree *gtree(const struct repo_tree *t)
{
    return (git_tree *)(uintptr_t)t;
}

void oid_hex(const struct oid *o, char out[OID_HEX])
{
    hex_bytes(o->id, sizeof(o->id), out);
}

int oid_equal(const struct oid *a, const struct oid *b)
{
    return memcmp(a->id, b->id, 20) == 0;
}

static void to_git(git_oid *g, const struct oid *o)
{
    memcpy(g->id, o->id, 20);
}

static void from_git(struct oid *o, const git_oid *g)
{
    memcpy(o->id, g->id, 20);
}

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

static int oid_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 20);
}

static int is_shallow_commit(const struct repo *r, const struct oid *id)
{
    return r->nshallow && bsearch(id, r->shallow, r->nshallow,
                                  sizeof(*r->shallow), oid_cmp) != NULL;
}

/* Read <gitdir>/shallow: one hex commit id per line. */
static void load_shallow(struct repo *r)
{
    struct buf path = BUF_INIT;
    size_t cap = 0;
    char line[128];

    buf_printf(&path, "%sshallow", git_repository_path(r->git));
    FILE *f = fopen(buf_cstr(&path), "r");
    buf_release(&path);
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        git_oid g;
        if (strlen(line) < 40 || git_oid_fromstrn(&g, line, 40) < 0)
            continue;
        XGROW(r->shallow, cap, r->nshallow + 1);
        from_git(&r->shallow[r->nshallow++], &g);
    }
    fclose(f);
    qsort(r->shallow, r->nshallow, sizeof(*r->shallow), oid_cmp);
}

/* libgit2's options are process-wide; this is the one knob a command may
 * turn before the first repo_open(). */
static size_t mapped_limit;

void repo_set_mapped_limit(size_t bytes)
{
    mapped_limit = bytes;
}

int repo_open(struct repo **out, const char *path, struct err *err)
{
    /* libgit2 counts its initialisations; one per process is enough and
     * its global state is released at exit. */
    static int git_ready;
    struct repo *r = NULL;
    int rc = 0;

    *out = NULL;
    if (!git_ready) {
        if (git_libgit2_init() < 0)
            return err_set(err, ERR_GIT, "cannot initialise libgit2: %s",
                           git_msg());
        /* No object cache: a replay reads each changed tree once, and
         * libgit2's cache cost more to fill and evict than it saved (keys
         * over 10,000 commits: 0.98 s with a 16 MiB cache, 0.69 s without).
         * What is read again is memoized above libgit2 (context.c) or kept
         * here (the last commit's root tree). */
        git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
        /* libgit2 re-hashes every object it reads to check its id, which
         * costs as much as reading it; git does not, and zlib's checksum
         * still catches a damaged object. */
        git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
        /* Pack files are read through mmap windows; by default libgit2
         * keeps gigabytes mapped, which a replay of a large history turns
         * into resident memory.  16 MiB windows, at most 32 MiB mapped
         * unless a command asks for more (repo_set_mapped_limit).  Each
         * window change unmaps and faults in pages again: 8 MiB windows
         * made that 6% of a replay, 16 MiB ones half of it. */
        git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)16 << 20);
        git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
                         mapped_limit ? mapped_limit : (size_t)32 << 20);
        git_ready = 1;
    }
    r = xcalloc(1, sizeof(*r));
    if (git_repository_open_ext(&r->git, path, 0, NULL) < 0) {
        rc = err_set(err, ERR_GIT, "not a git repository '%s': %s", path,
                     git_msg());
        goto out;
    }
    if (git_repository_odb(&r->odb, r->git) < 0) {
        rc = err_set(err, ERR_GIT, "cannot open object database '%s': %s", path,
                     git_msg());
        goto out;
    }
    load_shallow(r);
    *out = r;
    r = NULL;
out:
    repo_free(r);
    return rc;
}

void repo_free(struct repo *r)
{
    if (!r)
        return;
    git_tree_free(r->last_tree);
    git_odb_free(r->odb);
    git_repository_free(r->git);
    free(r->shallow);
    free(r);
}

int repo_is_shallow(struct repo *r)
{
    return r->nshallow > 0 || git_repository_is_shallow(r->git) == 1;
}

const char *repo_note(const struct repo *r)
{
    return r->note;
}

int repo_resolve(struct repo *r, const char *rev, struct oid *out,
                 struct err *err)
{
    git_object *obj = NULL, *peeled = NULL;
    int rc = 0, grc;

    grc = git_revparse_single(&obj, r->git, rev);
    if (grc == GIT_ENOTFOUND) {
        rc = err_set(err, ERR_NOTFOUND, "unknown revision '%s'", rev);
        err_hint(err, "check the name with 'git rev-parse %s'", rev);
        goto out;
    }
    if (grc < 0) {
        rc = err_set(err, ERR_GIT, "cannot resolve revision '%s': %s", rev,
                     git_msg());
        goto out;
    }
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        rc = err_set(err, ERR_INVALID, "revision is not a commit '%s': %s", rev,
                     git_msg());
        goto out;
    }
    from_git(out, git_object_id(peeled));
out:
    git_object_free(peeled);
    git_object_free(obj);
    return rc;
}

/* ===== Range walk ===== */

struct wnode {
    struct oid id;
    int64_t time;
    uint32_t *par; /* indices of parents followed in the walk */
    uint32_t npar;
    uint32_t indeg;
    uint32_t *kids;
    uint32_t nkids, capkids;
    unsigned char hidden, included, expanded_hidden, expanded_incl;
};

struct walk {
    struct repo *r;
    struct wnode *nodes;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
    int first_parent;
    int cut; /* reached a shallow boundary */
    struct oid cut_at;
};

static size_t oid_hash(const struct oid *o)
{
    size_t h;
    memcpy(&h, o->id, sizeof(h));
    return h;
}

static void walk_rehash(struct walk *w)
{
    size_t nslots = w->nslots ? w->nslots * 2 : 1024;
    uint32_t *slots = xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < w->n; i++) {
        size_t s = oid_hash(&w->nodes[i].id) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(w->slots);
    w->slots = slots;
    w->nslots = nslots;
}

/* The node of a commit, created (unread) if new. */
static uint32_t walk_node(struct walk *w, const struct oid *id)
{
    if (2 * (w->n + 1) > w->nslots)
        walk_rehash(w);
    size_t s = oid_hash(id) & (w->nslots - 1);
    while (w->slots[s]) {
        uint32_t i = w->slots[s] - 1;
        if (oid_equal(&w->nodes[i].id, id))
            return i;
        s = (s + 1) & (w->nslots - 1);
    }
    XGROW(w->nodes, w->cap, w->n + 1);
    struct wnode *nd = &w->nodes[w->n];
    memset(nd, 0, sizeof(*nd));
    nd->id = *id;
    w->slots[s] = (uint32_t)w->n + 1;
    return (uint32_t)w->n++;
}

static void walk_release(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->nodes[i].par);
        free(w->nodes[i].kids);
    }
    free(w->nodes);
    free(w->slots);
}

/* A 40-digit hex id at p (of n bytes) followed by a newline. */
static const char *scan_id(const char *p, const char *end, struct oid *out)
{
    git_oid g;
    if (end - p < 41 || p[40] != '\n' || git_oid_fromstrn(&g, p, 40) < 0)
        return NULL;
    from_git(out, &g);
    return p + 41;
}

/*
 * The parents and committer time of a raw commit object.  The walk reads
 * every commit of a range before anything else starts, and needs only
 * these: a full git_commit parse copies the signatures, the header and
 * the message.  -1 if the object is not a well-formed commit.
 */
static int scan_commit(const char *p, size_t len, struct oid **par,
                       size_t *npar, int64_t *time)
{
    const char *end = p + len, *nl;
    struct oid id;
    size_t cap = 0;

    *par = NULL;
    *npar = 0;
    *time = 0;
    if (len < 5 || memcmp(p, "tree ", 5) || !(p = scan_id(p + 5, end, &id)))
        goto bad;
    while (end - p >= 7 && !memcmp(p, "parent ", 7)) {
        if (!(p = scan_id(p + 7, end, &id)))
            goto bad;
        XGROW(*par, cap, *npar + 1);
        (*par)[(*npar)++] = id;
    }
    /* The other header lines, up to the blank line before the message. */
    for (; p < end && *p != '\n'; p = nl + 1) {
        if (!(nl = memchr(p, '\n', (size_t)(end - p))))
            goto bad;
        if (nl - p < 10 || memcmp(p, "committer ", 10))
            continue;
        /* "committer NAME <EMAIL> TIME ZONE": the time follows the last
         * '>' of the line. */
        const char *gt = NULL;
        for (const char *q = p; q < nl; q++)
            if (*q == '>')
                gt = q;
        if (!gt)
            goto bad;
        int64_t t = 0;
        const char *q = gt + 1;
        while (q < nl && *q == ' ')
            q++;
        int neg = q < nl && *q == '-';
        if (neg)
            q++;
        if (q == nl || *q < '0' || *q > '9')
            goto bad;
        for (; q < nl && *q >= '0' && *q <= '9'; q++)
            t = t * 10 + (*q - '0');
        *time = neg ? -t : t;
        break; /* the first committer line is the commit's, as for git */
    }
    return 0;
bad:
    free(*par);
    *par = NULL;
    *npar = 0;
    return -1;
}

/*
 * Read the parents of node i.  In a shallow repository the boundary
 * commits have no parents for us.  all: follow every parent even with
 * first_parent (used to mark what a range excludes).
 */
static int walk_parents(struct walk *w, uint32_t i, int all, struct oid **out,
                        size_t *n, struct err *err)
{
    git_odb_object *obj = NULL;
    git_oid g;
    char hex[OID_HEX];
    const char *why = NULL;
    int64_t time;

    *out = NULL;
    *n = 0;
    to_git(&g, &w->nodes[i].id);
    if (git_odb_read(&obj, w->r->odb, &g) < 0)
        why = git_msg();
    else if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT)
        why = "the object is not a commit";
    else if (scan_commit(git_odb_object_data(obj), git_odb_object_size(obj),
                         out, n, &time) < 0)
        why = "malformed commit object";
    if (why) {
        oid_hex(&w->nodes[i].id, hex);
        err_set(err, ERR_GIT, "corrupt repository: cannot read commit '%s': %s",
                hex, why);
        if (!repo_is_shallow(w->r))
            err_hint(err, "run 'git fsck' in the repository");
        git_odb_object_free(obj);
        return ERR_GIT;
    }
    git_odb_object_free(obj);
    w->nodes[i].time = time;
    if (is_shallow_commit(w->r, &w->nodes[i].id)) {
        if (!w->cut) {
            w->cut = 1;
            w->cut_at = w->nodes[i].id;
        }
        free(*out);
        *out = NULL;
        *n = 0;
        return 0;
    }
    if (w->first_parent && !all && *n > 1)
        *n = 1;
    return 0;
}

/* Mark everything reachable from tips as hidden (all parents). */
static int walk_hide(struct walk *w, const struct oid *tips, size_t ntips,
                     struct err *err)
{
    uint32_t *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    for (size_t t = 0; t < ntips; t++) {
        XGROW(stack, cap, n + 1);
        stack[n++] = walk_node(w, &tips[t]);
    }
    while (n) {
        uint32_t i = stack[--n];
        if (w->nodes[i].expanded_hidden)
            continue;
        w->nodes[i].expanded_hidden = 1;
        w->nodes[i].hidden = 1;
        struct oid *par;
        size_t np;
        if ((rc = walk_parents(w, i, 1, &par, &np, err)) < 0)
            goto out;
        for (size_t k = 0; k < np; k++) {
            XGROW(stack, cap, n + 1);
            stack[n++] = walk_node(w, &par[k]);
        }
        free(par);
    }
out:
    free(stack);
    return rc;
}

/* Collect everything reachable from tips that is not hidden. */
static int walk_include(struct walk *w, const struct oid *tips, size_t ntips,
                        uint32_t **order, size_t *norder, struct err *err)
{
    uint32_t *queue = NULL;
    size_t head = 0, n = 0, cap = 0;
    int rc = 0;

    for (size_t t = 0; t < ntips; t++) {
        XGROW(queue, cap, n + 1);
        queue[n++] = walk_node(w, &tips[t]);
    }
    while (head < n) {
        uint32_t i = queue[head++];
        if (w->nodes[i].hidden || w->nodes[i].expanded_incl)
            continue;
        w->nodes[i].expanded_incl = 1;
        w->nodes[i].included = 1;
        struct oid *par;
        size_t np;
        if ((rc = walk_parents(w, i, 0, &par, &np, err)) < 0)
            goto out;
        uint32_t *pidx = np ? xmalloc(np * sizeof(*pidx)) : NULL;
        for (size_t k = 0; k < np; k++) {
            pidx[k] = walk_node(w, &par[k]);
            XGROW(queue, cap, n + 1);
            queue[n++] = pidx[k];
        }
        free(par);
        w->nodes[i].par = pidx;
        w->nodes[i].npar = (uint32_t)np;
    }
out:
    *order = queue;
    *norder = n;
    return rc;
}

/* Ready commits: a min-heap on (time, -discovery). */
struct heap {
    uint32_t *v;
    size_t n, cap;
    const struct wnode *nodes;
    const uint32_t *seq;
};

static int heap_less(const struct heap *h, uint32_t a, uint32_t b)
{
    if (h->nodes[a].time != h->nodes[b].time)
        return h->nodes[a].time < h->nodes[b].time;
    return h->seq[a] > h->seq[b];
}

static void heap_push(struct heap *h, uint32_t x)
{
    XGROW(h->v, h->cap, h->n + 1);
    size_t i = h->n++;
    while (i && heap_less(h, x, h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

static uint32_t heap_pop(struct heap *h)
{
    uint32_t top = h->v[0], x = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && heap_less(h, h->v[c + 1], h->v[c]))
            c++;
        if (!heap_less(h, h->v[c], x))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = x;
    return top;
}

/* Kahn's algorithm over the included commits, parents first. */
static void walk_sort(struct walk *w, struct oid **out, size_t *nout)
{
    uint32_t *seq = xcalloc(w->n ? w->n : 1, sizeof(*seq));
    struct heap h = { NULL, 0, 0, w->nodes, seq };
    size_t count = 0;

    for (size_t i = 0; i < w->n; i++) {
        struct wnode *nd = &w->nodes[i];
        seq[i] = (uint32_t)i;
        if (!nd->included)
            continue;
        count++;
        for (uint32_t k = 0; k < nd->npar; k++) {
            struct wnode *p = &w->nodes[nd->par[k]];
            if (!p->included)
                continue;
            nd->indeg++;
            if (p->nkids == p->capkids) {
                p->capkids = p->capkids ? 2 * p->capkids : 2;
                p->kids = xrealloc(p->kids, p->capkids * sizeof(*p->kids));
            }
            p->kids[p->nkids++] = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < w->n; i++)
        if (w->nodes[i].included && !w->nodes[i].indeg)
            heap_push(&h, (uint32_t)i);
    *out = xmalloc((count ? count : 1) * sizeof(**out));
    *nout = 0;
    while (h.n) {
        uint32_t i = heap_pop(&h);
        (*out)[(*nout)++] = w->nodes[i].id;
        for (uint32_t k = 0; k < w->nodes[i].nkids; k++) {
            uint32_t c = w->nodes[i].kids[k];
            if (--w->nodes[c].indeg == 0)
                heap_push(&h, c);
        }
    }
    free(h.v);
    free(seq);
}

/* Split "A..B" / "A...B"; empty sides mean HEAD. */
static int parse_range(struct repo *r, const char *range, struct oid *a,
                       struct oid *b, int *kind, struct err *err)
{
    const char *dots = strstr(range, "..");
    int rc;

    if (!dots) {
        *kind = 0;
        return repo_resolve(r, range, b, err);
    }
    size_t ndots = dots[2] == '.' ? 3 : 2;
    char *left = xstrndup(range, (size_t)(dots - range));
    const char *right = dots + ndots;
    *kind = (int)ndots;
    rc = repo_resolve(r, *left ? left : "HEAD", a, err);
    if (rc == 0)
        rc = repo_resolve(r, *right ? right : "HEAD", b, err);
    free(left);
    return rc;
}

int repo_range(struct repo *r, const char *range, int first_parent,
               struct oid **out, size_t *n, struct err *err)
{
    struct walk w;
    struct oid a, b, *bases = NULL, incl[2];
    size_t nbases = 0, nincl = 0, norder = 0;
    uint32_t *order = NULL;
    git_oidarray mb = { NULL, 0 };
    int kind, rc;

    *out = NULL;
    *n = 0;
    r->note[0] = '\0';
    memset(&w, 0, sizeof(w));
    w.r = r;
    w.first_parent = first_parent;
    if ((rc = parse_range(r, range, &a, &b, &kind, err)) < 0)
        goto out;
    incl[nincl++] = b;
    if (kind == 2) {
        bases = xmalloc(sizeof(*bases));
        bases[nbases++] = a;
    } else if (kind == 3) {
        git_oid ga, gb;
        to_git(&ga, &a);
        to_git(&gb, &b);
        incl[nincl++] = a;
        int grc = git_merge_bases(&mb, r->git, &ga, &gb);
        if (grc < 0 && grc != GIT_ENOTFOUND) {
            rc = err_set(err, ERR_GIT, "cannot find merge base of '%s': %s",
                         range, git_msg());
            goto out;
        }
        bases = xmalloc((mb.count ? mb.count : 1) * sizeof(*bases));
        for (size_t i = 0; i < mb.count; i++)
            from_git(&bases[nbases++], &mb.ids[i]);
    }
    if ((rc = walk_hide(&w, bases, nbases, err)) < 0)
        goto out;
    if ((rc = walk_include(&w, incl, nincl, &order, &norder, err)) < 0)
        goto out;
    walk_sort(&w, out, n);
    if (w.cut) {
        char hex[OID_HEX];
        oid_hex(&w.cut_at, hex);
        snprintf(r->note, sizeof(r->note),
                 "history is shallow: the range stops at commit '%.12s'", hex);
    }
out:
    git_oidarray_dispose(&mb);
    free(order);
    free(bases);
    walk_release(&w);
    return rc;
}

/* ===== Commits, trees, blobs ===== */

int repo_commit_read(struct repo *r, const struct oid *id,
                     struct repo_commit *out, struct err *err)
{
    git_commit *c = NULL;
    git_oid g;

    memset(out, 0, sizeof(*out));
    to_git(&g, id);
    if (git_commit_lookup(&c, r->git, &g) < 0) {
        char hex[OID_HEX];
        oid_hex(id, hex);
        return err_set(err, ERR_GIT, "cannot read commit '%s': %s", hex,
                       git_msg());
    }
    out->id = *id;
    oid_hex(id, out->sha);
    out->nparents = git_commit_parentcount(c);
    if (out->nparents) {
        out->parents = xmalloc(out->nparents * sizeof(*out->parents));
        for (size_t k = 0; k < out->nparents; k++)
            from_git(&out->parents[k], git_commit_parent_id(c, (unsigned)k));
    }
    r->read_commit = *id;
    from_git(&r->read_tree, git_commit_tree_id(c));
    r->have_read = 1;
    const git_signature *author = git_commit_author(c);
    out->author_time = author ? (int64_t)author->when.time : 0;
    const char *summary = git_commit_summary(c);
    out->subject = xstrdup(summary ? summary : "");
    git_commit_free(c);
    return 0;
}

void repo_commit_release(struct repo_commit *c)
{
    if (!c)
        return;
    free(c->parents);
    free(c->subject);
    c->parents = NULL;
    c->subject = NULL;
}

/* The root tree of a commit, owned by the repository (valid until the
 * next call). */
static int commit_tree(struct repo *r, const struct oid *commit, git_tree **out,
                       struct err *err)
{
    git_commit *c = NULL;
    git_tree *t = NULL;
    git_oid g;
    char hex[OID_HEX];
    int rc = 0, grc;

    if (r->last_tree && oid_equal(&r->last_commit, commit)) {
        *out = r->last_tree;
        return 0;
    }
    if (r->have_read && oid_equal(&r->read_commit, commit)) {
        to_git(&g, &r->read_tree);
        grc = git_tree_lookup(&t, r->git, &g);
    } else {
        to_git(&g, commit);
        grc = git_commit_lookup(&c, r->git, &g);
        if (grc == 0)
            grc = git_commit_tree(&t, c);
    }
    if (grc < 0) {
        oid_hex(commit, hex);
        rc = err_set(err, ERR_GIT, "cannot read the tree of commit '%s': %s",
                     hex, git_msg());
    } else {
        git_tree_free(r->last_tree);
        r->last_tree = t;
        r->last_commit = *commit;
        *out = t;
    }
    git_commit_free(c);
    return rc;
}

int repo_commit_tree(struct repo *r, const struct oid *commit, struct oid *tree,
                     struct err *err)
{
    git_tree *t = NULL;
    int rc = commit_tree(r, commit, &t, err);
    if (rc == 0)
        from_git(tree, git_tree_id(t));
    return rc;
}

static int blob_content(struct repo *r, const git_oid *g, char **out,
                        size_t *len, struct err *err)
{
    git_blob *b = NULL;
    char hex[OID_HEX];
    struct oid o;

    if (git_blob_lookup(&b, r->git, g) < 0) {
        from_git(&o, g);
        oid_hex(&o, hex);
        return err_set(err, ERR_GIT, "cannot read blob '%s': %s", hex,
                       git_msg());
    }
    size_t n = (size_t)git_blob_rawsize(b);
    *out = xmalloc(n + 1);
    memcpy(*out, git_blob_rawcontent(b), n);
    (*out)[n] = '\0';
    *len = n;
    git_blob_free(b);
    return 0;
}

int repo_path_blob(struct repo *r, const struct oid *commit, const char *path,
                   struct oid *out, struct err *err)
{
    git_tree *t = NULL;
    git_tree_entry *e = NULL;
    char hex[OID_HEX];
    int rc;

    if ((rc = commit_tree(r, commit, &t, err)) < 0)
        goto out;
    oid_hex(commit, hex);
    int grc = git_tree_entry_bypath(&e, t, path);
    if (grc == GIT_ENOTFOUND ||
        (grc == 0 && git_tree_entry_type(e) != GIT_OBJECT_BLOB)) {
        rc = err_set(err, ERR_NOTFOUND, "no file at commit %.12s '%s'", hex,
                     path);
        goto out;
    }
    if (grc < 0) {
        rc = err_set(err, ERR_GIT, "cannot read '%s' at commit %.12s: %s", path,
                     hex, git_msg());
        goto out;
    }
    memcpy(out->id, git_tree_entry_id(e)->id, sizeof(out->id));
out:
    git_tree_entry_free(e);
    return rc;
}

int repo_read_file(struct repo *r, const struct oid *commit, const char *path,
                   char **out, size_t *len, struct err *err)
{
    struct oid blob;
    int rc;

    *out = NULL;
    *len = 0;
    if ((rc = repo_path_blob(r, commit, path, &blob, err)) < 0)
        return rc;
    return repo_blob_read(r, &blob, out, len, err);
}

int repo_blob_read(struct repo *r, const struct oid *blob, char **out,
                   size_t *len, struct err *err)
{
    git_oid g;
    to_git(&g, blob);
    *out = NULL;
    *len = 0;
    return blob_content(r, &g, out, len, err);
}

static void entry_fill(const git_tree_entry *ge, struct repo_entry *out)
{
    out->name = git_tree_entry_name(ge);
    from_git(&out->id, git_tree_entry_id(ge));
    switch (git_tree_entry_filemode(ge)) {
    case GIT_FILEMODE_BLOB_EXECUTABLE:
        out->type = REPO_BLOB;
        out->mode = 0755;
        break;
    case GIT_FILEMODE_LINK:
        out->type = REPO_LINK;
        out->mode = 0777;
        break;
    case GIT_FILEMODE_TREE:
        out->type = REPO_TREE;
        out->mode = 040755;
        break;
    case GIT_FILEMODE_COMMIT:
        out->type = REPO_SUBMODULE;
        out->mode = 0;
        break;
    default: /* GIT_FILEMODE_BLOB and legacy 0664 blobs */
        out->type = REPO_BLOB;
        out->mode = 0644;
        break;
    }
}

int repo_tree_open(struct repo_tree **out, struct repo *r,
                   const struct oid *tree, struct err *err)
{
    git_tree *t = NULL;
    git_oid g;

    *out = NULL;
    to_git(&g, tree);
    /* Other trees are read once each: context.c keeps what it lists by
     * tree id (a cache of recent trees here was hit 101 times in 36,000
     * reads of a replay). */
    if (r->last_tree && git_oid_equal(git_tree_id(r->last_tree), &g)) {
        if (git_object_dup((git_object **)&t, (git_object *)r->last_tree) < 0)
            t = NULL;
    }
    if (!t && git_tree_lookup(&t, r->git, &g) < 0) {
        char hex[OID_HEX];
        oid_hex(tree, hex);
        return err_set(err, ERR_GIT, "cannot read tree '%s': %s", hex,
                       git_msg());
    }
    *out = (struct repo_tree *)t;
    return 0;
}

void repo_tree_free(struct repo_tree *t)
{
    if (!t)
        return;
    git_tree_free(gtree(t));
}

size_t repo_tree_count(const struct repo_tree *t)
{
    return git_tree_entrycount(gtree(t));
}

void repo_tree_entry(const struct repo_tree *t, size_t i,
                     struct repo_entry *out)
{
    entry_fill(git_tree_entry_byindex(gtree(t), i), out);
}

int repo_tree_find(const struct repo_tree *t, const char *name,
                   struct repo_entry *out)
{
    const git_tree_entry *ge = git_tree_entry_byname(gtree(t), name);
    if (!ge)
        return ERR_NOTFOUND;
    entry_fill(ge, out);
    return 0;
}

int repo_tree_foreach(struct repo *r, const struct oid *tree,
                      int (*fn)(const struct repo_entry *e, void *arg),
                      void *arg, struct err *err)
{
    struct repo_tree *t = NULL;
    int rc = repo_tree_open(&t, r, tree, err);
    if (rc < 0)
        return rc;
    size_t n = repo_tree_count(t);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct repo_entry e;
        repo_tree_entry(t, i, &e);
        rc = fn(&e, arg);
    }
    repo_tree_free(t);
    return rc;
}

int repo_blob_size(struct repo *r, const struct oid *blob, uint64_t *out,
                   struct err *err)
{
    size_t len;
    git_object_t type;
    git_oid g;

    to_git(&g, blob);
    if (git_odb_read_header(&len, &type, r->odb, &g) < 0) {
        char hex[OID_HEX];
        oid_hex(blob, hex);
        return err_set(err, ERR_GIT, "cannot read blob header '%s': %s", hex,
                       git_msg());
    }
    *out = (uint64_t)len;
    return 0;
}
