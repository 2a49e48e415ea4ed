/*
 * context.c - build contexts of commits, COPY/ADD source selection, content
 * checksums, and the first difference between two contexts.
 *
 * Digests (all SHA-256, names sorted bytewise, never mtime, owner 0:0):
 *   file   H("file", mode, uid 0, gid 0, size, blob id)
 *   link   H("link", 0777, uid 0, gid 0, size, target)
 *   folder H("dir", (name, child digest)...); a submodule is an empty folder
 *   .git   H("gitdir", commit, checkout): differs on every checkout
 *
 * Memoization.  The cache holds two open-addressing tables keyed by 32-byte
 * keys.  Folders: key = H(tree id, and only when rules apply: the
 * .dockerignore digest with the folder's context path, the --exclude
 * digest with its source-relative path, in a 96-bit FNV hash);  value = digest,
 * file count, bytes, visible entries.  Without rules the key is the tree id
 * alone, so a folder that did not change between commits, wherever it moved,
 * costs one lookup.  Files: key = blob id + mode; value = digest and size (the
 * size comes from the object header, never from the content).  A commit
 * therefore reads only the trees that changed, as `git log --raw` does.
 */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

/* ===== Memo table ===== */

struct memo_val {
    unsigned char digest[SHA256_LEN];
    unsigned char content[SHA256_LEN]; /* sum of file contents, see below */
    uint64_t bytes;
    uint32_t nfiles;
    uint32_t nentries; /* visible children (folders) */
};

struct memo_slot {
    unsigned char key[SHA256_LEN];
    struct memo_val v;
};

/* One open-addressing table of memoized values.  Probes read the tags (a
 * key's first 8 bytes, low bit set; 0: empty), eight to a cache line,
 * and a slot (112 bytes) only where a tag matches: the tables are many
 * MB, and each line read is a cache miss. */
struct memo_tab {
    uint64_t *tags;
    struct memo_slot *slots;
    size_t n, cap; /* cap is a power of two */
};

/*
 * A memo forgets what it has not used for a while, so that a long replay
 * keeps what the recent commits touch and not every tree and blob the
 * history ever had: values live in two generations, every lookup that
 * finds one in the older moves it to the current one, and every
 * MEMO_GENERATION contexts opened (see ctx_open) the older generation is
 * dropped and the current one becomes older.  What is dropped is only
 * computed again if it comes back.
 */
#define MEMO_GENERATION 1024

struct memo {
    struct memo_tab cur, old;
};

static size_t key_hash(const unsigned char *key)
{
    size_t h;
    memcpy(&h, key, sizeof(h));
    return h;
}

static uint64_t key_tag(const unsigned char *key)
{
    uint64_t t;
    memcpy(&t, key, sizeof(t));
    return t | 1;
}

/* The slot of key, or the empty one where it would go (its tag 0). */
static size_t memo_slot(const struct memo_tab *m, const unsigned char *key)
{
    uint64_t t = key_tag(key);
    size_t i = key_hash(key) & (m->cap - 1);
    while (m->tags[i] &&
           (m->tags[i] != t || memcmp(m->slots[i].key, key, SHA256_LEN)))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static const struct memo_val *tab_get(const struct memo_tab *m,
                                      const unsigned char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = memo_slot(m, key);
    return m->tags[i] ? &m->slots[i].v : NULL;
}

static void tab_put(struct memo_tab *m, const unsigned char *key,
                    const struct memo_val *v)
{
    if (2 * (m->n + 1) > m->cap) {
        struct memo_tab old = *m;
        m->cap = old.cap ? 2 * old.cap : 4096;
        m->tags = xcalloc_table(m->cap, sizeof(*m->tags));
        m->slots = xcalloc_table(m->cap, sizeof(*m->slots));
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.tags[i])
                tab_put(m, old.slots[i].key, &old.slots[i].v);
        free(old.tags);
        free(old.slots);
    }
    size_t i = memo_slot(m, key);
    if (!m->tags[i]) {
        m->tags[i] = key_tag(key);
        memcpy(m->slots[i].key, key, SHA256_LEN);
        m->n++;
    }
    m->slots[i].v = *v;
}

/* The value under key, or NULL; valid until the next memo call. */
static const struct memo_val *memo_get(struct memo *m,
                                       const unsigned char *key)
{
    const struct memo_val *v = tab_get(&m->cur, key);

    if (!v && (v = tab_get(&m->old, key)))
        tab_put(&m->cur, key, v); /* old is not touched: v stays valid */
    return v;
}

static void memo_put(struct memo *m, const unsigned char *key,
                     const struct memo_val *v)
{
    tab_put(&m->cur, key, v);
}

static void memo_age(struct memo *m)
{
    struct memo_tab spare = m->old;

    /* The dropped table, emptied, holds the next generation: it is as
     * large as a generation grew one, so the new one does not grow
     * through every size again, each a rehash into pages not yet
     * touched. */
    if (spare.cap)
        memset(spare.tags, 0, spare.cap * sizeof(*spare.tags));
    spare.n = 0;
    m->old = m->cur;
    m->cur = spare;
}

static void memo_release(struct memo *m)
{
    free(m->cur.tags);
    free(m->cur.slots);
    free(m->old.tags);
    free(m->old.slots);
    memset(m, 0, sizeof(*m));
}

/* ===== Cache and context ===== */

/* Verdicts of rule sets on paths; see rule_vis(). */
struct vis_memo {
    uint64_t *keys; /* two per slot; {0, 0} is empty */
    unsigned char *vals;
    size_t n, cap;
};

/* A parsed .dockerignore, shared by the contexts of every commit that has
 * the same blob. */
struct ignore_ref {
    struct oid blob;
    struct ignore *ig; /* NULL: no patterns */
    unsigned char igd[SHA256_LEN];
    size_t depth; /* ignore_max_depth() */
    int refs;
};

#define IGNORE_CACHE 8

/*
 * Listings of folders by their memo key (dir_key()), kept and forgotten
 * with the same generations as the digests (struct memo).  ctx_diff()
 * compares a commit's folders with those of the last build, whose trees
 * were listed when they were new, often thousands of commits before, and
 * are long gone from the repository's cache of recent trees: reading them
 * again was most of what explaining a miss cost.
 */
struct listing;
struct list_slot {
    unsigned char key[SHA256_LEN];
    unsigned char used;
    struct listing *l; /* in the table's arena */
};
struct list_tab {
    struct list_slot *slots;
    size_t n, cap;      /* cap is a power of two */
    struct arena arena; /* the listings: kept for long, in large chunks */
};
struct list_memo {
    struct list_tab cur, old;
};

/* The last listing of each folder path, with its children's values (see
 * path_find()). */
struct path_entry;
struct path_memo {
    struct path_entry **slots; /* open addressing; NULL: empty */
    size_t n, cap;             /* cap is a power of two */
};

struct ctx_cache {
    struct repo *r;
    struct memo dirs;
    struct list_memo lists; /* listings of dirs' folders */
    struct path_memo paths; /* the last listing of each folder path */
    struct memo files;
    struct memo derived; /* ctx_memo_get/put */
    size_t opened; /* contexts opened, for the memos' generations */
    struct vis_memo vis;
    struct ignore_ref *ignores[IGNORE_CACHE]; /* most recent first */
};

static void ignore_unref(struct ignore_ref *ir)
{
    if (ir && --ir->refs == 0) {
        ignore_free(ir->ig);
        free(ir);
    }
}

static void lmemo_age(struct list_memo *m);
static void lmemo_release(struct list_memo *m);
static void paths_age(struct path_memo *pm, size_t gen);
static void paths_release(struct path_memo *pm);

int ctx_cache_new(struct ctx_cache **out, struct repo *r)
{
    *out = xcalloc(1, sizeof(**out));
    (*out)->r = r;
    return 0;
}

void ctx_cache_free(struct ctx_cache *cc)
{
    if (!cc)
        return;
    memo_release(&cc->dirs);
    lmemo_release(&cc->lists);
    paths_release(&cc->paths);
    memo_release(&cc->files);
    memo_release(&cc->derived);
    free(cc->vis.keys);
    free(cc->vis.vals);
    for (int i = 0; i < IGNORE_CACHE; i++)
        ignore_unref(cc->ignores[i]);
    free(cc);
}

/* The last answers of ctx_diff() against this context: each builder
 * explains its misses, and theirs ask the same questions (one a changed
 * COPY) of the same two contexts, in the same order. */
#define DIFF_MEMO 8

struct diff_memo {
    const struct ctx *a; /* the context compared with; NULL: none yet */
    struct oid a_commit;
    uint64_t a_checkout;
    struct buf args; /* sources, excludes and --parents, spelled out */
    int rc;          /* 0: out holds the change; ERR_NOTFOUND: equal */
    struct ctx_change out;
};

struct ctx {
    struct ctx_cache *cc;
    struct oid commit;
    struct oid root;   /* tree of the context folder */
    struct ignore_ref *igref;
    struct ignore *ig; /* NULL: no rules (igref's) */
    size_t igdepth;    /* ignore_max_depth(ig) */
    unsigned char igd[SHA256_LEN];
    char *ignore_file;
    int has_git;
    uint64_t checkout;
    struct diff_memo diff[DIFF_MEMO];
    size_t ndiff; /* answers given: the next goes to diff[ndiff % DIFF_MEMO] */
};

int ctx_memo_get(struct ctx *c, const unsigned char key[SHA256_LEN],
                 unsigned char out[SHA256_LEN])
{
    const struct memo_val *v = memo_get(&c->cc->derived, key);

    if (!v)
        return 0;
    memcpy(out, v->digest, SHA256_LEN);
    return 1;
}

void ctx_memo_put(struct ctx *c, const unsigned char key[SHA256_LEN],
                  const unsigned char val[SHA256_LEN])
{
    struct memo_val v;

    memset(&v, 0, sizeof(v));
    memcpy(v.digest, val, SHA256_LEN);
    memo_put(&c->cc->derived, key, &v);
}

int ctx_has_git_dir(const struct ctx *c)
{
    return c->has_git;
}

const char *ctx_ignore_file(const struct ctx *c)
{
    return c->ignore_file;
}

void ctx_free(struct ctx *c)
{
    if (!c)
        return;
    ignore_unref(c->igref);
    free(c->ignore_file);
    for (size_t i = 0; i < DIFF_MEMO; i++)
        buf_release(&c->diff[i].args);
    free(c);
}

/* ===== Nodes of a context ===== */

enum node_kind { N_FILE, N_LINK, N_DIR, N_SUBMODULE, N_GIT };
enum vis { V_SHOW, V_TRANSIT, V_HIDE };

struct node {
    enum node_kind kind;
    enum vis vis;
    struct oid id; /* blob or tree */
    unsigned mode;
    size_t name; /* offset in the listing's names */
};

struct listing {
    struct node *v;
    size_t n, cap;
    struct buf names;
};

static void listing_release(struct listing *l)
{
    free(l->v);
    buf_release(&l->names);
}

static struct list_slot *ltab_slot(const struct list_tab *t,
                                   const unsigned char *key)
{
    size_t i = key_hash(key) & (t->cap - 1);
    while (t->slots[i].used && memcmp(t->slots[i].key, key, SHA256_LEN))
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

/* A copy of l in t's arena, kept under key (which t must not hold). */
static const struct listing *ltab_add(struct list_tab *t,
                                      const unsigned char *key,
                                      const struct listing *l)
{
    if (2 * (t->n + 1) > t->cap) {
        struct list_slot *old = t->slots;
        size_t ocap = t->cap;
        t->cap = ocap ? 2 * ocap : 1024;
        t->slots = xcalloc_table(t->cap, sizeof(*t->slots));
        for (size_t i = 0; i < ocap; i++)
            if (old[i].used)
                *ltab_slot(t, old[i].key) = old[i];
        free(old);
    }
    struct listing *k = arena_alloc(&t->arena, sizeof(*k));
    k->n = k->cap = l->n;
    k->v = l->n ? arena_alloc_uninit(&t->arena, l->n * sizeof(*l->v)) : NULL;
    if (l->n)
        memcpy(k->v, l->v, l->n * sizeof(*l->v));
    k->names.len = l->names.len;
    k->names.cap = l->names.len + 1;
    k->names.ptr = arena_memdup(&t->arena, l->names.ptr ? l->names.ptr : "",
                                l->names.len + 1);
    struct list_slot *s = ltab_slot(t, key);
    s->used = 1;
    memcpy(s->key, key, SHA256_LEN);
    s->l = k;
    t->n++;
    return k;
}

/* The listing kept under key, or NULL; borrowed until the memo ages (the
 * next ctx_open()). */
static const struct listing *lmemo_get(struct list_memo *m,
                                       const unsigned char *key)
{
    struct list_slot *s;

    if (m->cur.cap && (s = ltab_slot(&m->cur, key))->used)
        return s->l;
    if (!m->old.cap || !(s = ltab_slot(&m->old, key))->used)
        return NULL;
    return ltab_add(&m->cur, key, s->l); /* used again: kept longer */
}

/* Keep a copy of l under key; returns what is kept (borrowed, as
 * lmemo_get()). */
static const struct listing *lmemo_put(struct list_memo *m,
                                       const unsigned char *key,
                                       const struct listing *l)
{
    const struct listing *k = lmemo_get(m, key);
    return k ? k : ltab_add(&m->cur, key, l);
}

static void ltab_release(struct list_tab *t)
{
    free(t->slots);
    arena_release(&t->arena);
    memset(t, 0, sizeof(*t));
}

static void lmemo_age(struct list_memo *m)
{
    ltab_release(&m->old);
    m->old = m->cur;
    memset(&m->cur, 0, sizeof(m->cur));
}

static void lmemo_release(struct list_memo *m)
{
    ltab_release(&m->cur);
    ltab_release(&m->old);
}

static const char *node_name(const struct listing *l, const struct node *nd)
{
    return l->names.ptr + nd->name;
}

/* The rules that apply to one selection. */
struct scope {
    struct ctx *c;
    const struct ignore *ex; /* --exclude, relative to the source */
    unsigned char exd[SHA256_LEN];
    size_t exdepth; /* ignore_max_depth(ex) */
    size_t exbase; /* offset in a context path where ex paths begin */
};

/*
 * The visibility memo: a rule set's verdict on a path does not change from
 * one commit to the next, and a replay lists the same folders again and
 * again, so verdicts are kept by a 128-bit hash of (rules digest, path,
 * folder or not).  Two word-at-a-time hashes with different multipliers
 * make the key; a false hit needs both to collide.
 */

static uint64_t mix(uint64_t h, uint64_t w, uint64_t k)
{
    h = (h ^ w) * k;
    return h ^ (h >> 29);
}

static void vis_key(const unsigned char *digest, const char *path, int dir,
                    uint64_t key[2])
{
    const uint64_t k1 = 0x9e3779b97f4a7c15ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
    uint64_t a = 0x243f6a8885a308d3ULL, b = 0x13198a2e03707344ULL, w;
    size_t len = strlen(path), i;

    for (i = 0; i < SHA256_LEN; i += 8) {
        memcpy(&w, digest + i, 8);
        a = mix(a, w, k1);
        b = mix(b, w, k2);
    }
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, path + i, 8);
        a = mix(a, w, k1);
        b = mix(b, w, k2);
    }
    w = 0;
    memcpy(&w, path + i, len - i);
    w ^= (uint64_t)len << 56 ^ (uint64_t)(dir != 0) << 63;
    a = mix(mix(a, w, k1), len, k2);
    b = mix(mix(b, w, k2), len, k1);
    key[0] = a | 1; /* never {0, 0} */
    key[1] = b;
}

static unsigned char *vis_slot(struct vis_memo *m, const uint64_t key[2],
                               int *found)
{
    size_t i = (size_t)(key[0] >> 7) & (m->cap - 1);
    while (m->keys[2 * i]) {
        if (m->keys[2 * i] == key[0] && m->keys[2 * i + 1] == key[1]) {
            *found = 1;
            return &m->vals[i];
        }
        i = (i + 1) & (m->cap - 1);
    }
    *found = 0;
    m->keys[2 * i] = key[0];
    m->keys[2 * i + 1] = key[1];
    m->n++;
    return &m->vals[i];
}

static void vis_grow(struct vis_memo *m)
{
    struct vis_memo old = *m;
    int found;

    m->cap = old.cap ? 2 * old.cap : 4096;
    m->keys = xcalloc_table(2 * m->cap, sizeof(*m->keys));
    m->vals = xcalloc(m->cap, 1);
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[2 * i])
            *vis_slot(m, &old.keys[2 * i], &found) = old.vals[i];
    free(old.keys);
    free(old.vals);
}

static enum vis rule_vis_raw(const struct ignore *ig, const char *path, int dir)
{
    if (!ignore_match(ig, path))
        return V_SHOW;
    return dir && ignore_may_include_under(ig, path) ? V_TRANSIT : V_HIDE;
}

static enum vis rule_vis(struct vis_memo *m, const struct ignore *ig,
                         const unsigned char *digest, const char *path, int dir)
{
    uint64_t key[2];
    unsigned char *v;
    int found;

    if (!ig)
        return V_SHOW;
    if (4 * (m->n + 1) > 3 * m->cap)
        vis_grow(m);
    vis_key(digest, path, dir, key);
    v = vis_slot(m, key, &found);
    if (!found)
        *v = (unsigned char)rule_vis_raw(ig, path, dir);
    return (enum vis)*v;
}

/* Visibility of the entry at context path `path` under both rule sets. */
static enum vis scope_vis(const struct scope *sc, const char *path, int dir)
{
    struct vis_memo *m = &sc->c->cc->vis;
    enum vis a = rule_vis(m, sc->c->ig, sc->c->igd, path, dir);
    if (a == V_HIDE || !sc->ex || strlen(path) < sc->exbase)
        return a;
    enum vis b = rule_vis(m, sc->ex, sc->exd, path + sc->exbase, dir);
    return a > b ? a : b;
}

static enum node_kind entry_kind(enum repo_entry_type t)
{
    switch (t) {
    case REPO_LINK:
        return N_LINK;
    case REPO_TREE:
        return N_DIR;
    case REPO_SUBMODULE:
        return N_SUBMODULE;
    default:
        return N_FILE;
    }
}

static void path_push(struct buf *path, const char *name)
{
    if (path->len)
        buf_addch(path, '/');
    buf_adds(path, name);
}

static void path_pop(struct buf *path, size_t len)
{
    path->len = len;
    if (path->ptr)
        path->ptr[len] = '\0';
}

static int node_cmp(const struct listing *l, const struct node *a,
                    const struct node *b)
{
    return strcmp(node_name(l, a), node_name(l, b));
}

/* Path components of a '/'-separated path ("" has none). */
static size_t path_depth(const char *p)
{
    size_t n = *p != '\0';
    for (; *p; p++)
        n += *p == '/';
    return n;
}

/*
 * 1 if every child of the shown folder at `path` (plen bytes) is shown too:
 * the children lie deeper than any pattern of either rule set can reach,
 * so their verdict is the folder's (see ignore_max_depth()).
 */
static int below_rules(const struct scope *sc, const char *path, size_t plen)
{
    size_t depth = path_depth(path) + 1; /* of a child */

    if (sc->c->ig && depth <= sc->c->igdepth)
        return 0;
    if (sc->ex) {
        /* ex paths begin at exbase: the folder must be the source or
         * below it */
        if (plen + 1 < sc->exbase)
            return 0;
        const char *rel = plen >= sc->exbase ? path + sc->exbase : "";
        if (path_depth(rel) + 1 <= sc->exdepth)
            return 0;
    }
    return !plen || scope_vis(sc, path, 1) == V_SHOW;
}

/*
 * The children of a folder that the rules leave visible (or that must be
 * walked for exceptions: V_TRANSIT), sorted by name.  tree NULL: an empty
 * folder.  with_git adds the synthetic .git.
 */
static int list_children(const struct scope *sc, const struct oid *tree,
                         struct buf *path, int with_git, struct listing *out,
                         struct err *err)
{
    struct repo_tree *t = NULL;
    size_t plen = path->len;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (tree && (rc = repo_tree_open(&t, sc->c->cc->r, tree, err)) < 0)
        return rc;
    size_t n = t ? repo_tree_count(t) : 0;
    int shown = below_rules(sc, path->ptr ? path->ptr : "", plen);
    XGROW(out->v, out->cap, n + 1);
    buf_grow(&out->names, 16 * (n + 1));
    for (size_t i = 0; i < n + (with_git ? 1 : 0); i++) {
        struct node nd;
        const char *name;
        memset(&nd, 0, sizeof(nd));
        if (i < n) {
            struct repo_entry e;
            repo_tree_entry(t, i, &e);
            name = e.name;
            nd.kind = entry_kind(e.type);
            nd.id = e.id;
            nd.mode = e.mode;
        } else {
            name = ".git";
            nd.kind = N_GIT;
            nd.mode = 040755;
        }
        if (nd.kind == N_SUBMODULE)
            nd.mode = 040755;
        if (shown && nd.kind != N_GIT) {
            nd.vis = V_SHOW;
        } else {
            path_push(path, name);
            nd.vis = scope_vis(sc, path->ptr,
                               nd.kind == N_DIR || nd.kind == N_SUBMODULE);
            path_pop(path, plen);
        }
        if (nd.vis == V_HIDE || (nd.vis == V_TRANSIT && nd.kind != N_DIR))
            continue;
        nd.name = out->names.len;
        buf_add(&out->names, name, strlen(name) + 1);
        XGROW(out->v, out->cap, out->n + 1);
        out->v[out->n++] = nd;
    }
    /* Git's order is bytewise except that folders sort as "name/":
     * insertion sort fixes the few inversions cheaply. */
    for (size_t i = 1; i < out->n; i++) {
        struct node x = out->v[i];
        size_t j = i;
        while (j > 0 && node_cmp(out, &out->v[j - 1], &x) > 0) {
            out->v[j] = out->v[j - 1];
            j--;
        }
        out->v[j] = x;
    }
    repo_tree_free(t);
    return 0;
}

/* ===== Digests ===== */

static void put_u64(struct sha256 *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    sha256_update(h, b, 8);
}

static void empty_dir_digest(unsigned char out[SHA256_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_field(&h, "dir");
    sha256_final(&h, out);
}

static void git_dir_digest(const struct ctx *c, unsigned char out[SHA256_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_field(&h, "gitdir");
    sha256_update(&h, c->commit.id, 20);
    put_u64(&h, c->checkout);
    sha256_final(&h, out);
}

/* Digest and size of a file or link, memoized by (blob id, mode). */
/*
 * The content sum: the files' contents as a multiset, blind to names,
 * modes and layout.  Each file adds H(content) as a 256-bit number; a
 * folder is the sum of its children.  A rename or a chmod keeps it, which
 * is what lets the cache model assume that a RUN over the same contents
 * produces the same output (keys.h, "content model").
 */
static void content_add(unsigned char acc[SHA256_LEN],
                        const unsigned char v[SHA256_LEN])
{
    unsigned carry = 0;
    for (int i = 0; i < SHA256_LEN; i++) {
        carry += (unsigned)acc[i] + v[i];
        acc[i] = (unsigned char)carry;
        carry >>= 8;
    }
}

static void content_of(unsigned char out[SHA256_LEN], const char *what,
                       const void *data, size_t len)
{
    struct sha256 h;
    sha256_init(&h);
    sha256_field(&h, what);
    sha256_update(&h, data, len);
    sha256_final(&h, out);
}

static int file_val(struct ctx_cache *cc, const struct node *nd,
                    struct memo_val *out, struct err *err)
{
    unsigned char key[SHA256_LEN];
    struct sha256 h;
    int rc;

    memset(key, 0, sizeof(key));
    memcpy(key, nd->id.id, 20);
    key[20] = (unsigned char)(nd->mode >> 8);
    key[21] = (unsigned char)nd->mode;
    key[22] = nd->kind == N_LINK ? 'l' : 'f';
    const struct memo_val *m = memo_get(&cc->files, key);
    if (m) {
        *out = *m;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    sha256_init(&h);
    if (nd->kind == N_LINK) {
        char *target = NULL;
        size_t len = 0;
        if ((rc = repo_blob_read(cc->r, &nd->id, &target, &len, err)) < 0)
            return rc;
        sha256_field(&h, "link");
        put_u64(&h, 0777);
        put_u64(&h, 0);
        put_u64(&h, 0);
        put_u64(&h, len);
        sha256_update(&h, target, len);
        content_of(out->content, "link", target, len);
        free(target);
        out->bytes = len;
    } else {
        uint64_t size;
        if ((rc = repo_blob_size(cc->r, &nd->id, &size, err)) < 0)
            return rc;
        sha256_field(&h, "file");
        put_u64(&h, nd->mode);
        put_u64(&h, 0);
        put_u64(&h, 0);
        put_u64(&h, size);
        sha256_update(&h, nd->id.id, 20);
        content_of(out->content, "file", nd->id.id, 20);
        out->bytes = size;
    }
    sha256_final(&h, out->digest);
    out->nfiles = 1;
    memo_put(&cc->files, key, out);
    return 0;
}

/* FNV-1a, 64 bits, continuing from h. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/*
 * The memo key of a folder: its tree id, then 96 bits hashing the rules
 * and paths that apply (zero without rules).  This runs on every folder of
 * every commit, so it avoids SHA-256; a collision needs the same tree id.
 */
static void dir_key(const struct scope *sc, const struct oid *tree,
                    const char *path, unsigned char key[SHA256_LEN])
{
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    memset(key, 0, SHA256_LEN);
    memcpy(key, tree->id, 20);
    if (!sc->c->ig && !sc->ex)
        return;
    if (sc->c->ig) {
        a = fnv(a, sc->c->igd, SHA256_LEN);
        a = fnv(a, path, strlen(path) + 1);
        b = fnv(b, path, strlen(path) + 1);
        b = fnv(b, sc->c->igd, SHA256_LEN);
    }
    if (sc->ex) {
        const char *rel = strlen(path) >= sc->exbase ? path + sc->exbase : "";
        a = fnv(a, sc->exd, SHA256_LEN);
        a = fnv(a, rel, strlen(rel) + 1);
        b = fnv(b, rel, strlen(rel) + 1);
        b = fnv(b, sc->exd, SHA256_LEN);
    }
    b ^= 1; /* never all zero: keys without rules end in zeros */
    memcpy(key + 20, &a, 8);
    memcpy(key + 28, &b, 4);
}

static int dir_val(const struct scope *sc, const struct oid *tree,
                   struct buf *path, int with_git, struct memo_val *out,
                   struct err *err);

/* The value of any node (folders recurse through the memo). */
static int node_val(const struct scope *sc, const struct node *nd,
                    struct buf *path, struct memo_val *out, struct err *err)
{
    switch (nd->kind) {
    case N_FILE:
    case N_LINK:
        return file_val(sc->c->cc, nd, out, err);
    case N_DIR:
        return dir_val(sc, &nd->id, path, 0, out, err);
    case N_SUBMODULE:
        memset(out, 0, sizeof(*out));
        empty_dir_digest(out->digest);
        return 0;
    case N_GIT:
        memset(out, 0, sizeof(*out));
        git_dir_digest(sc->c, out->digest);
        memcpy(out->content, out->digest, SHA256_LEN);
        return 0;
    }
    return 0;
}

/*
 * The path memo.  A commit changes a few files: the folders on their
 * paths get new trees and are listed again, but of their children only
 * those whose entry changed need a value; the others keep the value they
 * had in the folder's last listing, which is kept here by the folder's
 * path and rules (not its tree), without a memo lookup each (a cache miss
 * each, in tables of many MB).  An entry holds one listing per path, so
 * this memory follows the tree, not the history; entries not used for a
 * memo generation are dropped at the next one.
 */
struct path_entry {
    uint64_t hash;
    size_t gen; /* the generation that used it last */
    char *path; /* context path of the folder */
    int with_git, has_ig, has_ex;
    unsigned char igd[SHA256_LEN], exd[SHA256_LEN];
    size_t exbase;
    struct oid tree;     /* listed last */
    struct memo_val v;   /* its value then */
    struct listing l;    /* its children then */
    struct memo_val *cv; /* and theirs, l.n of them */
};

static uint64_t path_hash(const struct scope *sc, const char *path,
                          int with_git)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, path, strlen(path));

    h = fnv(h, &with_git, sizeof(with_git));
    if (sc->c->ig)
        h = fnv(h, sc->c->igd, 8);
    if (sc->ex) {
        h = fnv(h, sc->exd, 8);
        h = fnv(h, &sc->exbase, sizeof(sc->exbase));
    }
    return h;
}

/* 1 if e is the entry of this folder under these rules. */
static int path_is(const struct path_entry *e, uint64_t hash,
                   const struct scope *sc, const char *path, int with_git)
{
    return e->hash == hash && e->with_git == with_git &&
           e->has_ig == (sc->c->ig != NULL) && e->has_ex == (sc->ex != NULL) &&
           (!e->has_ig || !memcmp(e->igd, sc->c->igd, SHA256_LEN)) &&
           (!e->has_ex || (e->exbase == sc->exbase &&
                           !memcmp(e->exd, sc->exd, SHA256_LEN))) &&
           !strcmp(e->path, path);
}

/* The slot of the entry, or the empty slot where it would go. */
static struct path_entry **path_slot(const struct path_memo *pm, uint64_t hash,
                                     const struct scope *sc, const char *path,
                                     int with_git)
{
    size_t i = (size_t)(hash ^ hash >> 32) & (pm->cap - 1);

    while (pm->slots[i] && !path_is(pm->slots[i], hash, sc, path, with_git))
        i = (i + 1) & (pm->cap - 1);
    return &pm->slots[i];
}

static void path_entry_free(struct path_entry *e)
{
    free(e->path);
    listing_release(&e->l);
    free(e->cv);
    free(e);
}

/* Insert e, whose key the table does not hold. */
static void path_insert(struct path_memo *pm, struct path_entry *e)
{
    size_t i;

    if (2 * (pm->n + 1) > pm->cap) {
        struct path_entry **old = pm->slots;
        size_t ocap = pm->cap;
        pm->cap = ocap ? 2 * ocap : 256;
        pm->slots = xcalloc(pm->cap, sizeof(*pm->slots));
        pm->n = 0;
        for (i = 0; i < ocap; i++)
            if (old[i])
                path_insert(pm, old[i]);
        free(old);
    }
    for (i = (size_t)(e->hash ^ e->hash >> 32) & (pm->cap - 1); pm->slots[i];
         i = (i + 1) & (pm->cap - 1))
        ;
    pm->slots[i] = e;
    pm->n++;
}

/* Drop the entries that no lookup used in the generation that ends (gen:
 * the one that begins), as memo_age() drops values. */
static void paths_age(struct path_memo *pm, size_t gen)
{
    struct path_entry **old = pm->slots;
    size_t ocap = pm->cap;

    pm->slots = NULL;
    pm->n = pm->cap = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i])
            continue;
        if (old[i]->gen + 1 < gen)
            path_entry_free(old[i]);
        else
            path_insert(pm, old[i]);
    }
    free(old);
}

static void paths_release(struct path_memo *pm)
{
    for (size_t i = 0; i < pm->cap; i++)
        if (pm->slots[i])
            path_entry_free(pm->slots[i]);
    free(pm->slots);
    memset(pm, 0, sizeof(*pm));
}

/* The folder's entry (used now), or NULL. */
static struct path_entry *path_find(const struct scope *sc, const char *path,
                                    int with_git)
{
    struct ctx_cache *cc = sc->c->cc;
    struct path_entry *e;

    if (!cc->paths.cap)
        return NULL;
    e = *path_slot(&cc->paths, path_hash(sc, path, with_git), sc, path,
                   with_git);
    if (e)
        e->gen = cc->opened / MEMO_GENERATION;
    return e;
}

/* Keep l and cv (taken) as the folder's last listing, in e if it is its
 * entry already. */
static void path_keep(const struct scope *sc, struct path_entry *e,
                      const char *path, int with_git, const struct oid *tree,
                      const struct memo_val *v, struct listing *l,
                      struct memo_val *cv)
{
    struct ctx_cache *cc = sc->c->cc;

    if (e) {
        listing_release(&e->l);
        free(e->cv);
    } else {
        e = xcalloc(1, sizeof(*e));
        e->hash = path_hash(sc, path, with_git);
        e->path = xstrdup(path);
        e->with_git = with_git;
        e->has_ig = sc->c->ig != NULL;
        e->has_ex = sc->ex != NULL;
        if (e->has_ig)
            memcpy(e->igd, sc->c->igd, SHA256_LEN);
        if (e->has_ex) {
            memcpy(e->exd, sc->exd, SHA256_LEN);
            e->exbase = sc->exbase;
        }
        path_insert(&cc->paths, e);
    }
    e->gen = cc->opened / MEMO_GENERATION;
    e->tree = *tree;
    e->v = *v;
    e->l = *l;
    e->cv = cv;
    memset(l, 0, sizeof(*l));
}

/* 1 if a child listed again is the entry it was, so has the same value:
 * a file's is its blob and mode's, a folder's its tree's under the same
 * rules at the same path; .git differs on every checkout. */
static int same_child(const struct node *a, const struct node *b)
{
    return a->kind == b->kind && a->kind != N_GIT && a->vis == b->vis &&
           a->mode == b->mode && oid_equal(&a->id, &b->id);
}

static int dir_val(const struct scope *sc, const struct oid *tree,
                   struct buf *path, int with_git, struct memo_val *out,
                   struct err *err)
{
    struct listing l;
    struct memo_val *cv = NULL;
    struct path_entry *pe;
    unsigned char key[SHA256_LEN];
    struct sha256 h;
    size_t plen = path->len, j = 0;
    int rc;

    if (!with_git) {
        dir_key(sc, tree, buf_cstr(path), key);
        const struct memo_val *m = memo_get(&sc->c->cc->dirs, key);
        if (m) {
            *out = *m;
            return 0;
        }
    }
    pe = path_find(sc, buf_cstr(path), with_git);
    if (pe && !with_git && oid_equal(&pe->tree, tree)) {
        *out = pe->v;
        memo_put(&sc->c->cc->dirs, key, out);
        return 0;
    }
    if ((rc = list_children(sc, tree, path, with_git, &l, err)) < 0)
        return rc;
    cv = xmalloc((l.n ? l.n : 1) * sizeof(*cv));
    memset(out, 0, sizeof(*out));
    sha256_init(&h);
    sha256_field(&h, "dir");
    for (size_t i = 0; i < l.n; i++) {
        const struct node *nd = &l.v[i];
        const char *name = node_name(&l, nd);
        int cmp = 1;
        /* both listings are sorted by name */
        while (pe && j < pe->l.n &&
               (cmp = strcmp(node_name(&pe->l, &pe->l.v[j]), name)) < 0)
            j++;
        if (pe && j < pe->l.n && cmp == 0 && same_child(&pe->l.v[j], nd)) {
            cv[i] = pe->cv[j];
        } else {
            path_push(path, name);
            rc = node_val(sc, nd, path, &cv[i], err);
            path_pop(path, plen);
            if (rc < 0)
                goto out;
        }
        /* An excluded folder walked for its exceptions only exists if
         * something in it came back. */
        if (nd->vis == V_TRANSIT && cv[i].nentries == 0)
            continue;
        sha256_field(&h, name);
        sha256_update(&h, cv[i].digest, SHA256_LEN);
        content_add(out->content, cv[i].content);
        out->nfiles += cv[i].nfiles;
        out->bytes += cv[i].bytes;
        out->nentries++;
    }
    sha256_final(&h, out->digest);
    if (!with_git) {
        memo_put(&sc->c->cc->dirs, key, out);
        lmemo_put(&sc->c->cc->lists, key, &l);
    }
    path_keep(sc, pe, buf_cstr(path), with_git, tree, out, &l, cv);
    cv = NULL;
out:
    free(cv);
    listing_release(&l);
    return rc;
}

/* ===== Opening a context ===== */

/* Walk a '/'-separated folder path from a tree; ERR_NOTFOUND if absent. */
static int find_path(struct repo *r, const struct oid *root, const char *path,
                     struct repo_entry *out, struct err *err)
{
    struct oid cur = *root;
    char *copy = xstrdup(path), *save = NULL;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->type = REPO_TREE;
    out->id = *root;
    for (char *comp = strtok_r(copy, "/", &save); comp;
         comp = strtok_r(NULL, "/", &save)) {
        struct repo_tree *t = NULL;
        if (out->type != REPO_TREE) {
            rc = ERR_NOTFOUND;
            break;
        }
        if ((rc = repo_tree_open(&t, r, &cur, err)) < 0)
            break;
        rc = repo_tree_find(t, comp, out);
        out->name = NULL;
        repo_tree_free(t);
        if (rc < 0)
            break;
        cur = out->id;
    }
    free(copy);
    return rc;
}

static char *join(const char *dir, const char *name)
{
    struct buf b = BUF_INIT;
    if (dir && *dir) {
        buf_adds(&b, dir);
        buf_addch(&b, '/');
    }
    buf_adds(&b, name);
    return buf_detach(&b);
}

/* Rules worth applying: with their digest and reach; NULL (and freed)
 * when there are no patterns. */
static struct ignore *rules_keep(struct ignore *ig,
                                 unsigned char digest[SHA256_LEN],
                                 size_t *depth)
{
    if (!ignore_count(ig)) {
        ignore_free(ig);
        return NULL;
    }
    ignore_digest(ig, digest);
    *depth = ignore_max_depth(ig);
    return ig;
}

/* The parsed rules of a .dockerignore blob, from the cache or parsed now
 * (path is for messages).  ERR_BUILD if they do not parse. */
static int ignore_get(struct ctx_cache *cc, const struct oid *blob,
                      const char *path, struct ignore_ref **out,
                      struct err *err)
{
    struct ignore_ref *ir = NULL;
    struct ignore *ig = NULL;
    char *text = NULL;
    size_t len = 0;
    int i, rc;

    for (i = 0; i < IGNORE_CACHE && cc->ignores[i]; i++)
        if (oid_equal(&cc->ignores[i]->blob, blob))
            break;
    if (i < IGNORE_CACHE && cc->ignores[i]) {
        ir = cc->ignores[i];
    } else {
        if ((rc = repo_blob_read(cc->r, blob, &text, &len, err)) < 0)
            return rc;
        rc = ignore_parse(&ig, path, text, len, err);
        free(text);
        if (rc < 0)
            return err->code = ERR_BUILD;
        ir = xcalloc(1, sizeof(*ir));
        ir->blob = *blob;
        ir->refs = 1;
        ir->ig = rules_keep(ig, ir->igd, &ir->depth);
        i = IGNORE_CACHE - 1;
        ignore_unref(cc->ignores[i]);
        cc->ignores[i] = ir;
    }
    memmove(&cc->ignores[1], &cc->ignores[0], (size_t)i * sizeof(ir));
    cc->ignores[0] = ir;
    ir->refs++;
    *out = ir;
    return 0;
}

/* <Dockerfile>.dockerignore next to the Dockerfile wins over the context's
 * .dockerignore (BuildKit's rule). */
static int load_ignore(struct ctx *c, const char *ctxdir,
                       const char *dockerfile, struct err *err)
{
    char *df = dockerfile && *dockerfile ? xstrdup(dockerfile)
                                         : join(ctxdir, "Dockerfile");
    char *cand[2];
    int rc = ERR_NOTFOUND;

    {
        struct buf b = BUF_INIT;
        buf_adds(&b, df);
        buf_adds(&b, ".dockerignore");
        cand[0] = buf_detach(&b);
    }
    cand[1] = join(ctxdir, ".dockerignore");
    for (int i = 0; i < 2 && rc == ERR_NOTFOUND; i++) {
        struct err quiet = ERR_INIT;
        struct oid blob;
        rc = repo_path_blob(c->cc->r, &c->commit, cand[i], &blob, &quiet);
        if (rc < 0) {
            if (rc != ERR_NOTFOUND)
                *err = quiet;
            continue;
        }
        c->ignore_file = xstrdup(cand[i]);
        if ((rc = ignore_get(c->cc, &blob, cand[i], &c->igref, err)) < 0)
            break;
        c->ig = c->igref->ig;
        c->igdepth = c->igref->depth;
        memcpy(c->igd, c->igref->igd, SHA256_LEN);
    }
    if (rc == ERR_NOTFOUND)
        rc = 0;
    if (!c->ignore_file)
        c->ignore_file = xstrdup("");
    free(cand[0]);
    free(cand[1]);
    free(df);
    return rc;
}

int ctx_open(struct ctx **out, struct ctx_cache *cc, const struct oid *commit,
             const struct ctx_options *opts, struct err *err)
{
    struct ctx *c = xcalloc(1, sizeof(*c));
    struct oid tree;
    char *ctxdir = NULL;
    int rc;

    *out = NULL;
    if (++cc->opened % MEMO_GENERATION == 0) {
        memo_age(&cc->dirs);
        lmemo_age(&cc->lists);
        paths_age(&cc->paths, cc->opened / MEMO_GENERATION);
        memo_age(&cc->files);
        memo_age(&cc->derived);
    }
    c->cc = cc;
    c->commit = *commit;
    c->checkout = opts ? opts->checkout : 0;
    if ((rc = repo_commit_tree(cc->r, commit, &tree, err)) < 0)
        goto out;
    {
        char *tmp = join("", opts && opts->context ? opts->context : "");
        char *rooted = join("/", tmp);
        char *clean = ignore_clean_path(rooted);
        ctxdir = xstrdup(clean + 1);
        free(clean);
        free(rooted);
        free(tmp);
    }
    struct repo_entry e;
    rc = find_path(cc->r, &tree, ctxdir, &e, err);
    if (rc == ERR_NOTFOUND || (rc == 0 && e.type != REPO_TREE)) {
        char hex[OID_HEX];
        oid_hex(commit, hex);
        rc = err_set(err, ERR_BUILD,
                     "context folder not found at commit %.12s '%s'", hex,
                     ctxdir);
        goto out;
    }
    if (rc < 0)
        goto out;
    c->root = e.id;
    if ((rc = load_ignore(c, ctxdir, opts ? opts->dockerfile : NULL, err)) < 0)
        goto out;
    c->has_git =
        !(opts && opts->no_git_dir) && !*ctxdir && !ignore_match(c->ig, ".git");
    *out = c;
    c = NULL;
out:
    free(ctxdir);
    ctx_free(c);
    return rc;
}

/* ===== Resolving COPY sources ===== */

struct match {
    char *path; /* relative to the context */
    struct node nd;
};

struct matches {
    struct match *v;
    size_t n, cap;
};

static void matches_release(struct matches *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static int is_dirlike(enum node_kind k)
{
    return k == N_DIR || k == N_SUBMODULE || k == N_GIT;
}

struct resolve {
    const struct scope *sc;
    char **comps;
    size_t ncomps;
    struct matches *out;
};

static int resolve_at(struct resolve *rs, const struct node *cur, size_t i,
                      struct buf *path, struct err *err);

static int resolve_child(struct resolve *rs, struct node *nd, const char *name,
                         size_t i, struct buf *path, struct err *err)
{
    size_t plen = path->len;
    path_push(path, name);
    int rc = resolve_at(rs, nd, i + 1, path, err);
    path_pop(path, plen);
    return rc;
}

/* The context's root folder, where every source path starts. */
static struct node root_node(const struct ctx *c)
{
    struct node nd;
    memset(&nd, 0, sizeof(nd));
    nd.kind = N_DIR;
    nd.id = c->root;
    nd.mode = 040755;
    return nd;
}

/* The node named `name` in folder cur (path: cur's path), visibility
 * included; 1 found and visible, 0 not, < 0 error. */
static int child_node(const struct scope *sc, const struct node *cur,
                      struct buf *path, const char *name, struct node *nd,
                      struct err *err)
{
    size_t plen = path->len;
    int rc;

    memset(nd, 0, sizeof(*nd));
    if (!path->len && sc->c->has_git && strcmp(name, ".git") == 0) {
        nd->kind = N_GIT;
        nd->mode = 040755;
    } else {
        struct repo_tree *t = NULL;
        struct repo_entry e;
        if ((rc = repo_tree_open(&t, sc->c->cc->r, &cur->id, err)) < 0)
            return rc;
        rc = repo_tree_find(t, name, &e);
        repo_tree_free(t);
        if (rc < 0)
            return 0;
        nd->kind = entry_kind(e.type);
        nd->id = e.id;
        nd->mode = e.type == REPO_SUBMODULE ? 040755 : e.mode;
    }
    path_push(path, name);
    nd->vis = scope_vis(sc, path->ptr, is_dirlike(nd->kind));
    path_pop(path, plen);
    return !(nd->vis == V_HIDE || (nd->vis == V_TRANSIT && nd->kind != N_DIR));
}

/*
 * A symbolic link met on the way to a COPY source (in the middle of the
 * path or as its last component): both builders follow it, resolved inside
 * the context (an absolute target starts at the context root, ".." stops
 * there), as the kernel would with the context as root; 40 links at most.
 * dir is the folder that holds the link.  *nd becomes what it points to;
 * 1 found, 0 dangling or outside what the context sends, < 0 error.
 */
static int follow_link(const struct scope *sc, const char *dir,
                       struct node *nd, int depth, struct err *err)
{
    char *target = NULL, *joined, *clean, *save = NULL;
    size_t len = 0;
    struct node cur;
    struct buf path = BUF_INIT;
    int rc = 1;

    if (depth > 40)
        return 0;
    if ((rc = repo_blob_read(sc->c->cc->r, &nd->id, &target, &len, err)) < 0)
        return rc;
    joined = target[0] == '/' ? join("/", target)
                              : join(*dir ? dir : "/", target);
    if (joined[0] != '/') {
        char *r = join("/", joined);
        free(joined);
        joined = r;
    }
    clean = ignore_clean_path(joined);
    cur = root_node(sc->c);
    rc = 1;
    for (char *comp = strtok_r(clean, "/", &save); comp && rc == 1;
         comp = strtok_r(NULL, "/", &save)) {
        struct node next;
        if (cur.kind != N_DIR) {
            rc = 0;
            break;
        }
        rc = child_node(sc, &cur, &path, comp, &next, err);
        if (rc == 1 && next.kind == N_LINK)
            rc = follow_link(sc, buf_cstr(&path), &next, depth + 1, err);
        path_push(&path, comp);
        cur = next;
    }
    if (rc == 1)
        *nd = cur;
    buf_release(&path);
    free(clean);
    free(joined);
    free(target);
    return rc;
}

/* Resolve the literal component name in folder cur. */
static int resolve_literal(struct resolve *rs, const struct node *cur,
                           const char *name, size_t i, struct buf *path,
                           struct err *err)
{
    struct node nd;
    int rc;

    if ((rc = child_node(rs->sc, cur, path, name, &nd, err)) <= 0)
        return rc;
    if (nd.kind == N_LINK &&
        (rc = follow_link(rs->sc, buf_cstr(path), &nd, 0, err)) <= 0)
        return rc;
    return resolve_child(rs, &nd, name, i, path, err);
}

static int resolve_at(struct resolve *rs, const struct node *cur, size_t i,
                      struct buf *path, struct err *err)
{
    struct listing l;
    int rc = 0;

    if (i == rs->ncomps) {
        XGROW(rs->out->v, rs->out->cap, rs->out->n + 1);
        struct match *m = &rs->out->v[rs->out->n++];
        m->path = xstrdup(buf_cstr(path));
        m->nd = *cur;
        return 0;
    }
    if (cur->kind != N_DIR)
        return 0;
    const char *comp = rs->comps[i];
    if (!strchr(comp, '\\') && !ignore_has_glob(comp))
        return resolve_literal(rs, cur, comp, i, path, err);
    int with_git = !path->len && rs->sc->c->has_git;
    if ((rc = list_children(rs->sc, &cur->id, path, with_git, &l, err)) < 0)
        return rc;
    for (size_t k = 0; k < l.n && rc == 0; k++) {
        const char *name = node_name(&l, &l.v[k]);
        int m = ignore_glob_match(comp, name);
        if (m < 0) {
            rc = err_set(err, ERR_BUILD, "syntax error in source pattern '%s'",
                         comp);
            break;
        }
        if (m)
            rc = resolve_child(rs, &l.v[k], name, i, path, err);
    }
    listing_release(&l);
    return rc;
}

static int match_cmp(const void *a, const void *b)
{
    return strcmp(((const struct match *)a)->path,
                  ((const struct match *)b)->path);
}

/*
 * The nodes a source names, sorted by path.  Paths are cleaned against
 * the context root, so "../x" is "x" as in Docker.
 */
static int resolve_src(struct ctx *c, const char *src, struct matches *out,
                       struct err *err)
{
    struct scope sc;
    struct resolve rs;
    struct buf path = BUF_INIT;
    struct node root;
    char *rooted = join("/", src), *clean = ignore_clean_path(rooted);
    char *save = NULL;
    size_t cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&sc, 0, sizeof(sc));
    memset(&rs, 0, sizeof(rs));
    sc.c = c;
    rs.sc = &sc;
    rs.out = out;
    for (char *comp = strtok_r(clean, "/", &save); comp;
         comp = strtok_r(NULL, "/", &save)) {
        XGROW(rs.comps, cap, rs.ncomps + 1);
        rs.comps[rs.ncomps++] = comp;
    }
    root = root_node(c);
    rc = resolve_at(&rs, &root, 0, &path, err);
    if (rc == 0 && out->n)
        qsort(out->v, out->n, sizeof(*out->v), match_cmp);
    else
        matches_release(out);
    free(rs.comps);
    free(clean);
    free(rooted);
    buf_release(&path);
    return rc;
}

/* ===== Selection ===== */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/*
 * The scope of a match: --exclude patterns are relative to a folder source
 * and, for a file, to the folder that holds it.
 */
static void match_scope(const struct scope *base, const struct match *m,
                        struct scope *out)
{
    *out = *base;
    if (is_dirlike(m->nd.kind))
        out->exbase = *m->path ? strlen(m->path) + 1 : 0;
    else
        out->exbase = (size_t)(base_name(m->path) - m->path);
}

/*
 * The value of what a match contributes; *present = 0 if the rules leave
 * nothing of it (an excluded file, an excluded folder with no exception
 * inside).
 */
static int match_val(const struct scope *sc, const struct match *m,
                     struct memo_val *v, int *present, int *with_git,
                     struct err *err)
{
    struct buf path = BUF_INIT;
    int rc = 0;

    *present = 1;
    *with_git = 0;
    memset(v, 0, sizeof(*v));
    if (!is_dirlike(m->nd.kind) && sc->ex &&
        ignore_match(sc->ex, m->path + sc->exbase)) {
        *present = 0;
        return 0;
    }
    buf_adds(&path, m->path);
    if (m->nd.kind == N_DIR) {
        *with_git =
            !*m->path && sc->c->has_git && scope_vis(sc, ".git", 1) == V_SHOW;
        rc = dir_val(sc, &m->nd.id, &path, !*m->path && sc->c->has_git, v, err);
        if (rc == 0 && m->nd.vis == V_TRANSIT && v->nentries == 0)
            *present = 0;
    } else {
        rc = node_val(sc, &m->nd, &path, v, err);
        *with_git = m->nd.kind == N_GIT;
    }
    buf_release(&path);
    return rc;
}

int ctx_src_matches(struct ctx *c, const char *src, struct err *err)
{
    struct matches ms = { NULL, 0, 0 };
    int rc = resolve_src(c, src, &ms, err);
    size_t n = ms.n;

    matches_release(&ms);
    if (rc < 0)
        return rc;
    return n > 1000000 ? 1000000 : (int)n;
}

static int not_found(struct err *err, const char *src)
{
    return err_set(err, ERR_BUILD, "file not found in build context: '%s'",
                   src);
}

static int make_scope(struct ctx *c, const char *const *excludes,
                      size_t nexcludes, struct scope *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    out->c = c;
    if (!nexcludes)
        return 0;
    struct ignore *ex = NULL;
    int rc = ignore_from_patterns(&ex, excludes, nexcludes, err);
    if (rc < 0) {
        err->code = ERR_BUILD;
        return ERR_BUILD;
    }
    out->ex = rules_keep(ex, out->exd, &out->exdepth);
    return 0;
}

/* COPY --parents keeps each match's path from the context root, or, when
 * the source has a "/./" pivot, its path below the pivot: `x/./y/a.txt`
 * lands as y/a.txt.  The number of leading components to drop. */
static size_t pivot_depth(const char *src)
{
    const char *p = strstr(src, "/./");
    size_t n = 0;
    if (!p)
        return 0;
    char *prefix = xstrndup(src, (size_t)(p - src));
    char *rooted = join("/", prefix), *clean = ignore_clean_path(rooted);
    for (const char *q = clean; *q; q++)
        if (*q != '/' && (q == clean || q[-1] == '/'))
            n++;
    free(clean);
    free(rooted);
    free(prefix);
    return n;
}

static const char *below_pivot(const char *path, size_t depth)
{
    for (; depth && *path; depth--) {
        const char *slash = strchr(path, '/');
        path = slash ? slash + 1 : path + strlen(path);
    }
    return path;
}

int ctx_select(struct ctx *c, const char *const *srcs, size_t nsrcs,
               const char *const *excludes, size_t nexcludes, int parents,
               struct ctx_selection *out, struct err *err)
{
    struct scope base;
    struct matches ms = { NULL, 0, 0 };
    struct sha256 h;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = make_scope(c, excludes, nexcludes, &base, err)) < 0)
        return rc;
    sha256_init(&h);
    sha256_field(&h, "selection");
    put_u64(&h, (uint64_t)(parents != 0));
    for (size_t s = 0; s < nsrcs; s++) {
        if ((rc = resolve_src(c, srcs[s], &ms, err)) < 0)
            goto out;
        size_t kept = 0, dropped_by_rules = 0;
        size_t pivot = parents ? pivot_depth(srcs[s]) : 0;
        for (size_t i = 0; i < ms.n; i++) {
            const struct match *m = &ms.v[i];
            struct scope sc;
            struct memo_val v;
            int present, with_git;
            match_scope(&base, m, &sc);
            if ((rc = match_val(&sc, m, &v, &present, &with_git, err)) < 0)
                goto out;
            if (!present) {
                if (m->nd.kind == N_DIR)
                    dropped_by_rules++;
                continue;
            }
            kept++;
            int dir = is_dirlike(m->nd.kind);
            sha256_field(&h,
                         parents ? below_pivot(m->path, pivot)
                                 : (dir ? "" : base_name(m->path)));
            sha256_field(&h, dir ? "d" : m->nd.kind == N_LINK ? "l" : "f");
            sha256_update(&h, v.digest, SHA256_LEN);
            content_add(out->content, v.content);
            out->nfiles += v.nfiles;
            out->bytes += v.bytes;
            out->has_git_dir |= with_git;
        }
        sha256_field(&h, "");
        if (!ms.n || (!kept && dropped_by_rules == ms.n)) {
            rc = not_found(err, srcs[s]);
            goto out;
        }
        matches_release(&ms);
    }
    sha256_final(&h, out->digest);
out:
    matches_release(&ms);
    ignore_free((struct ignore *)base.ex);
    return rc;
}

/* ===== Differences ===== */

struct differ {
    struct scope sa, sb;
    struct buf path;
    int gitdiff;
    struct ctx_change *out;
};

static int report(struct differ *d, enum ctx_change_kind kind,
                  unsigned old_mode, unsigned new_mode)
{
    d->out->kind = kind;
    snprintf(d->out->path, sizeof(d->out->path), "%s", buf_cstr(&d->path));
    d->out->old_mode = old_mode;
    d->out->new_mode = new_mode;
    return 1;
}

static int node_class(enum node_kind k)
{
    return k == N_LINK ? 1 : is_dirlike(k) ? 2 : 0;
}

static int diff_nodes(struct differ *d, const struct node *a,
                      const struct node *b, struct err *err);

/* Drop an excluded folder kept only for exceptions if it came back empty. */
static int keep_node(const struct scope *sc, const struct node *nd,
                     struct buf *path, int *keep, struct err *err)
{
    struct memo_val v;
    *keep = 1;
    if (nd->vis != V_TRANSIT)
        return 0;
    int rc = node_val(sc, nd, path, &v, err);
    if (rc == 0 && v.nentries == 0)
        *keep = 0;
    return rc;
}

/*
 * The children of folder node nd at path for a diff: the listing kept
 * from when dir_val() (or an earlier diff) listed that tree under the
 * same rules, else listed now and kept.  *out points to it, or to own
 * (to release) for an empty or a root folder with .git, which are not
 * kept.
 */
static int diff_listing(const struct scope *sc, const struct node *nd,
                        struct buf *path, int with_git, struct listing *own,
                        const struct listing **out, struct err *err)
{
    struct list_memo *m = &sc->c->cc->lists;
    unsigned char key[SHA256_LEN];
    int rc;

    *out = own;
    if (nd->kind != N_DIR || with_git)
        return list_children(sc, nd->kind == N_DIR ? &nd->id : NULL, path,
                             with_git, own, err);
    dir_key(sc, &nd->id, buf_cstr(path), key);
    if ((*out = lmemo_get(m, key)))
        return 0;
    *out = own;
    if ((rc = list_children(sc, &nd->id, path, 0, own, err)) < 0)
        return rc;
    *out = lmemo_put(m, key, own); /* own is still released by the caller */
    return 0;
}

/* 1 if two scopes apply the same rules (a folder's key in the memo is
 * the same in both, see dir_key()). */
static int same_rules(const struct scope *a, const struct scope *b)
{
    if ((a->c->ig != NULL) != (b->c->ig != NULL) || a->ex != b->ex)
        return 0;
    if (a->c->ig && memcmp(a->c->igd, b->c->igd, SHA256_LEN))
        return 0;
    return !a->ex || a->exbase == b->exbase;
}

static int diff_dirs(struct differ *d, const struct node *a,
                     const struct node *b, struct err *err)
{
    struct listing la, lb;
    struct memo_val va, vb;
    int root = d->path.len == 0, rc;
    int ga = root && d->sa.c->has_git, gb = root && d->sb.c->has_git;

    if (a->kind == N_DIR && b->kind == N_DIR) {
        /* the same tree under the same rules at the same path: the same
         * digest, whose value the memo may no longer hold (dir_val() takes
         * an unchanged child's value from its folder's last listing) */
        if (!ga && !gb && oid_equal(&a->id, &b->id) &&
            same_rules(&d->sa, &d->sb))
            return 0;
        if ((rc = dir_val(&d->sa, &a->id, &d->path, ga, &va, err)) < 0 ||
            (rc = dir_val(&d->sb, &b->id, &d->path, gb, &vb, err)) < 0)
            return rc;
        if (!memcmp(va.digest, vb.digest, SHA256_LEN))
            return 0;
    }
    memset(&la, 0, sizeof(la));
    memset(&lb, 0, sizeof(lb));
    const struct listing *pa, *pb;
    if ((rc = diff_listing(&d->sa, a, &d->path, ga, &la, &pa, err)) < 0)
        return rc;
    if ((rc = diff_listing(&d->sb, b, &d->path, gb, &lb, &pb, err)) < 0) {
        listing_release(&la);
        return rc;
    }
    size_t i = 0, j = 0, plen = d->path.len;
    while (rc == 0 && (i < pa->n || j < pb->n)) {
        const struct node *x = i < pa->n ? &pa->v[i] : NULL;
        const struct node *y = j < pb->n ? &pb->v[j] : NULL;
        int cmp = !x   ? 1
                  : !y ? -1
                       : strcmp(node_name(pa, x), node_name(pb, y));
        if (cmp < 0)
            y = NULL, i++;
        else if (cmp > 0)
            x = NULL, j++;
        else
            i++, j++;
        path_push(&d->path, x ? node_name(pa, x) : node_name(pb, y));
        int kx = 1, ky = 1;
        if (x)
            rc = keep_node(&d->sa, x, &d->path, &kx, err);
        if (rc == 0 && y)
            rc = keep_node(&d->sb, y, &d->path, &ky, err);
        if (rc == 0 && ((x && kx) || (y && ky)))
            rc = diff_nodes(d, x && kx ? x : NULL, y && ky ? y : NULL, err);
        path_pop(&d->path, plen);
    }
    listing_release(&la);
    listing_release(&lb);
    return rc;
}

/* 1 and d->out filled at the first difference, 0 if none, or an error. */
static int diff_nodes(struct differ *d, const struct node *a,
                      const struct node *b, struct err *err)
{
    if ((a && a->kind == N_GIT) || (b && b->kind == N_GIT)) {
        unsigned char da[SHA256_LEN], db[SHA256_LEN];
        if (a && b && a->kind == b->kind) {
            git_dir_digest(d->sa.c, da);
            git_dir_digest(d->sb.c, db);
            d->gitdiff |= memcmp(da, db, SHA256_LEN) != 0;
        } else {
            d->gitdiff = 1;
        }
        return 0;
    }
    if (!b)
        return report(d, CTX_REMOVED, a->mode, 0);
    if (!a)
        return report(d, CTX_ADDED, 0, b->mode);
    if (node_class(a->kind) != node_class(b->kind))
        return report(d, CTX_TYPE, a->mode, b->mode);
    if (node_class(a->kind) == 2)
        return diff_dirs(d, a, b, err);
    if (!oid_equal(&a->id, &b->id))
        return report(d, CTX_CONTENT, a->mode, b->mode);
    if (a->mode != b->mode)
        return report(d, CTX_MODE, a->mode, b->mode);
    return 0;
}

/* A match as diff_nodes sees it: NULL if the rules leave nothing. */
static int match_node(const struct scope *base, const struct match *m,
                      struct scope *sc, const struct node **out,
                      struct err *err)
{
    struct memo_val v;
    int present, with_git;
    match_scope(base, m, sc);
    int rc = match_val(sc, m, &v, &present, &with_git, err);
    *out = rc == 0 && present ? &m->nd : NULL;
    return rc;
}

static int diff_source(struct differ *d, const struct scope *ba,
                       const struct scope *bb, const char *src, struct err *err)
{
    struct matches ma, mb;
    struct err quiet = ERR_INIT;
    int rc;

    if ((rc = resolve_src(ba->c, src, &ma, &quiet)) < 0) {
        *err = quiet;
        return rc;
    }
    if ((rc = resolve_src(bb->c, src, &mb, &quiet)) < 0) {
        *err = quiet;
        matches_release(&ma);
        return rc;
    }
    size_t i = 0, j = 0;
    while (rc == 0 && (i < ma.n || j < mb.n)) {
        const struct match *x = i < ma.n ? &ma.v[i] : NULL;
        const struct match *y = j < mb.n ? &mb.v[j] : NULL;
        int cmp = !x ? 1 : !y ? -1 : strcmp(x->path, y->path);
        if (cmp < 0)
            y = NULL, i++;
        else if (cmp > 0)
            x = NULL, j++;
        else
            i++, j++;
        const struct node *nx = NULL, *ny = NULL;
        if (x)
            rc = match_node(ba, x, &d->sa, &nx, err);
        if (rc == 0 && y)
            rc = match_node(bb, y, &d->sb, &ny, err);
        if (rc < 0 || (!nx && !ny))
            continue;
        buf_reset(&d->path);
        buf_adds(&d->path, x ? x->path : y->path);
        rc = diff_nodes(d, nx, ny, err);
    }
    matches_release(&ma);
    matches_release(&mb);
    return rc;
}

/* The arguments of a ctx_diff() call as one string: each source and
 * exclude with its terminator, lists told apart by their counts. */
static void diff_args(struct buf *b, const char *const *srcs, size_t nsrcs,
                      const char *const *excludes, size_t nexcludes,
                      int parents)
{
    buf_reset(b);
    buf_printf(b, "%zu %zu %d:", nsrcs, nexcludes, parents != 0);
    for (size_t i = 0; i < nsrcs; i++)
        buf_add(b, srcs[i], strlen(srcs[i]) + 1);
    for (size_t i = 0; i < nexcludes; i++)
        buf_add(b, excludes[i], strlen(excludes[i]) + 1);
}

/* The answer b's memo holds to this very question, or NULL. */
static const struct diff_memo *diff_memo_find(const struct ctx *a,
                                              const struct ctx *b,
                                              const struct buf *args)
{
    for (size_t i = 0; i < DIFF_MEMO; i++) {
        const struct diff_memo *m = &b->diff[i];
        if (m->a == a && oid_equal(&m->a_commit, &a->commit) &&
            m->a_checkout == a->checkout && m->args.len == args->len &&
            !memcmp(m->args.ptr, args->ptr, args->len))
            return m;
    }
    return NULL;
}

static int ctx_diff_walk(struct ctx *a, struct ctx *b,
                         const char *const *srcs, size_t nsrcs,
                         const char *const *excludes, size_t nexcludes,
                         struct ctx_change *out, struct err *err);

int ctx_diff(struct ctx *a, struct ctx *b, const char *const *srcs,
             size_t nsrcs, const char *const *excludes, size_t nexcludes,
             int parents, struct ctx_change *out, struct err *err)
{
    struct buf args = BUF_INIT;
    int rc;

    /* the same paths are compared whatever parents says, but it stays in
     * the memo's key: answers are only reused for the same question */
    diff_args(&args, srcs, nsrcs, excludes, nexcludes, parents);
    const struct diff_memo *known = diff_memo_find(a, b, &args);
    if (known) {
        rc = known->rc;
        *out = known->out;
        buf_release(&args);
        if (rc == ERR_NOTFOUND)
            return err_set(err, ERR_NOTFOUND, "the selections are equal");
        return 0;
    }
    rc = ctx_diff_walk(a, b, srcs, nsrcs, excludes, nexcludes, out, err);
    if (rc == 0 || rc == ERR_NOTFOUND) {
        struct diff_memo *m = &b->diff[b->ndiff++ % DIFF_MEMO];
        m->a = a;
        m->a_commit = a->commit;
        m->a_checkout = a->checkout;
        buf_release(&m->args);
        m->args = args;
        m->rc = rc;
        m->out = *out;
    } else {
        buf_release(&args);
    }
    return rc;
}

static int ctx_diff_walk(struct ctx *a, struct ctx *b,
                         const char *const *srcs, size_t nsrcs,
                         const char *const *excludes, size_t nexcludes,
                         struct ctx_change *out, struct err *err)
{
    struct differ d;
    struct scope ba, bb;
    int rc = 0;

    memset(&d, 0, sizeof(d));
    memset(out, 0, sizeof(*out));
    d.out = out;
    if ((rc = make_scope(a, excludes, nexcludes, &ba, err)) < 0)
        return rc;
    bb = ba;
    bb.c = b;
    for (size_t s = 0; s < nsrcs && rc == 0; s++)
        rc = diff_source(&d, &ba, &bb, srcs[s], err);
    if (rc == 0 && d.gitdiff) {
        rc = 1;
        out->kind = CTX_GIT_DIR;
        snprintf(out->path, sizeof(out->path), ".git");
        out->old_mode = a->has_git ? 040755 : 0;
        out->new_mode = b->has_git ? 040755 : 0;
    }
    if (rc == 0)
        rc = err_set(err, ERR_NOTFOUND, "the selections are equal");
    else if (rc == 1)
        rc = 0;
    buf_release(&d.path);
    ignore_free((struct ignore *)ba.ex);
    return rc;
}
