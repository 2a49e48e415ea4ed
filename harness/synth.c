/*
 * synth.c - generate a deterministic git history (see synth.h).
 *
 * Includes <git2.h>: this is the module that writes repositories.  It
 * never goes through an index or a work tree while generating: blobs,
 * trees (serialised from an in-memory model in which only the folders a
 * commit touches are rewritten) and raw commit objects are appended to a
 * pack file of our own, which libgit2 indexes (git_odb_write_pack) every
 * PACK_BYTES.  One checkout at the end fills the work tree.
 *
 * All randomness comes from one splitmix64 stream seeded with the seed, and
 * only integer arithmetic is used, so ids do not depend on the C library.
 */
#include "synth.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "buf.h"
#include "sha1.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Objects are held in memory until this many bytes, then written as a
 * pack (see flush_pack). */
#define PACK_BYTES (32u << 20)

/* ---- names ---- */

static const char *const template_names[] = { "python", "node", "go-multistage",
                                              "bad-order" };
static const char *const kind_names[] = { "code", "deps", "dockerfile",
                                          "docs" };

const char *synth_template_name(enum synth_template t)
{
    return (unsigned)t < NELEM(template_names) ? template_names[t] : "?";
}

int synth_template_parse(const char *s, enum synth_template *out)
{
    for (size_t i = 0; i < NELEM(template_names); i++)
        if (!strcmp(s, template_names[i])) {
            *out = (enum synth_template)i;
            return 0;
        }
    return ERR_INVALID;
}

const char *synth_kind_name(enum synth_kind k)
{
    return (unsigned)k < NELEM(kind_names) ? kind_names[k] : "?";
}

int synth_mix_parse(const char *s, struct synth_mix *out, struct err *err)
{
    struct synth_mix m = { { 0 } };
    const char *p = s;
    unsigned total = 0;

    while (*p) {
        const char *eq = strchr(p, '='), *comma = strchr(p, ',');
        size_t klen, k;
        char *end;
        unsigned long v;

        if (!comma)
            comma = p + strlen(p);
        if (!eq || eq > comma)
            return err_set(err, ERR_USAGE,
                           "--mix needs KIND=WEIGHT pairs, not '%.*s'",
                           (int)(comma - p), p);
        klen = (size_t)(eq - p);
        for (k = 0; k < SYNTH_NKINDS; k++)
            if (strlen(kind_names[k]) == klen &&
                !strncmp(p, kind_names[k], klen))
                break;
        if (k == SYNTH_NKINDS)
            return err_set(err, ERR_USAGE,
                           "--mix: unknown kind '%.*s' (code, deps, "
                           "dockerfile, docs)",
                           (int)klen, p);
        errno = 0;
        v = strtoul(eq + 1, &end, 10);
        if (errno || end == eq + 1 || end != comma || v > 1000000)
            return err_set(err, ERR_USAGE, "--mix: bad weight '%.*s'",
                           (int)(comma - eq - 1), eq + 1);
        m.weight[k] = (unsigned)v;
        total += (unsigned)v;
        p = *comma ? comma + 1 : comma;
    }
    if (!total)
        return err_set(err, ERR_USAGE, "--mix: the weights are all 0 '%s'", s);
    *out = m;
    return 0;
}

void synth_options_init(struct synth_options *o)
{
    memset(o, 0, sizeof(*o));
    o->commits = 100;
    o->files = 50;
    o->mix.weight[SYNTH_CODE] = 70;
    o->mix.weight[SYNTH_DEPS] = 10;
    o->mix.weight[SYNTH_DOCKERFILE] = 5;
    o->mix.weight[SYNTH_DOCS] = 15;
    o->seed = 1;
    o->template_id = SYNTH_PYTHON;
    o->branch = "main";
}

/* ---- random numbers: splitmix64 ---- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

static int rng_pct(struct rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[rng_below((r), NELEM(arr))])

/* A file size: a few hundred bytes to tens of KB, most a few KB. */
static size_t rng_size(struct rng *r)
{
    static const unsigned lo[] = { 200, 600, 2000, 5000, 12000, 25000 };
    static const unsigned span[] = { 400, 1400, 3000, 7000, 13000, 15000 };
    unsigned b = rng_below(r, 100);
    size_t k = b < 10   ? 0
               : b < 35 ? 1
               : b < 70 ? 2
               : b < 90 ? 3
               : b < 98 ? 4
                        : 5;
    return lo[k] + rng_below(r, span[k]);
}

/* Bytes that depend only on a string: digests in lock files. */
static void hash_bytes(const char *key, unsigned char *out, size_t n)
{
    struct rng h = { 0xcbf29ce484222325ULL };

    for (const char *p = key; *p; p++)
        h.s = (h.s ^ (unsigned char)*p) * 0x100000001b3ULL;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)rng_next(&h);
}

static void add_hex(struct buf *b, const char *key, size_t nbytes)
{
    unsigned char raw[64];
    hash_bytes(key, raw, nbytes);
    for (size_t i = 0; i < nbytes; i++)
        buf_printf(b, "%02x", raw[i]);
}

static void add_b64(struct buf *b, const char *key, size_t nbytes)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[66] = { 0 };
    size_t i;

    hash_bytes(key, raw, nbytes);
    for (i = 0; i + 2 < nbytes + 2 && i < nbytes; i += 3) {
        unsigned v =
            (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        buf_addch(b, a[v >> 18 & 63]);
        buf_addch(b, a[v >> 12 & 63]);
        buf_addch(b, i + 1 < nbytes ? a[v >> 6 & 63] : '=');
        buf_addch(b, i + 2 < nbytes ? a[v & 63] : '=');
    }
}

/* ---- words ---- */

static const char *const nouns[] = {
    "cache",   "parser",  "config",  "session", "router",  "worker", "queue",
    "client",  "server",  "report",  "index",   "buffer",  "event",  "stream",
    "token",   "account", "invoice", "order",   "profile", "metric", "schema",
    "record",  "batch",   "job",     "layer",   "image",   "user",   "payment",
    "message", "channel", "policy",  "storage", "query",   "filter", "handler",
    "plugin",  "widget",  "ledger",  "tenant",  "upload",
};
static const char *const verbs[] = {
    "load",    "parse",  "build",   "render", "fetch",   "store",
    "update",  "merge",  "resolve", "encode", "decode",  "validate",
    "compute", "sync",   "flush",   "scan",   "collect", "dispatch",
    "prune",   "format", "retry",   "split",  "check",   "apply",
};
static const char *const adjectives[] = {
    "fast",   "simple", "remote",  "local",   "shared", "cached",
    "async",  "secure", "default", "partial", "nested", "stale",
    "unique", "sorted", "legacy",  "public",  "hidden", "atomic",
};
static const char *const dep_prefix[] = {
    "fast",   "py",    "json",  "http",  "async", "data",  "log",
    "yaml",   "cli",   "test",  "micro", "web",   "auth",  "cache",
    "crypto", "strm",  "graph", "task",  "time",  "color", "form",
    "mail",   "queue", "geo",   "sched", "image", "text",  "net",
};
static const char *const dep_suffix[] = {
    "lib", "kit", "core",  "io",     "parse", "util", "x",
    "er",  "ify", "tools", "client", "base",  "wrap", "flow",
    "ql",  "db",  "fmt",   "pack",   "ui",    "js",   "lite",
};
static const char *const doc_topics[] = {
    "install",   "configuration", "deployment",      "architecture",
    "api",       "faq",           "troubleshooting", "contributing",
    "changelog", "security",      "performance",     "testing",
    "release",   "logging",       "metrics",         "upgrade",
};
static const char *const authors[][2] = {
    { "Ada Park", "ada@example.com" },
    { "Bo Lindqvist", "bo@example.com" },
    { "Chidi Okafor", "chidi@example.com" },
    { "Dana Weiss", "dana@example.com" },
    { "Emi Tanaka", "emi@example.com" },
    { "Farid Haddad", "farid@example.com" },
};
static const char *const code_verbs[] = { "Fix",     "Refactor", "Update",
                                          "Improve", "Simplify", "Tidy" };
static const char *const doc_verbs[] = { "clarify", "expand", "update",
                                         "fix typos in", "reword" };
static const char *const log_levels[] = { "info", "debug", "warning", "error" };
static const char *const npm_levels[] = { "warn", "error", "notice", "http" };
static const char *const header_comments[] = {
    "Container image for the service",
    "Production image; see docs/deployment.md",
    "Keep dependency installation before the source copy",
    "Image built by CI on every push",
    "Runtime image for the API server",
};

static void add_sentence(struct buf *b, struct rng *r)
{
    const char *v = PICK(r, verbs);
    buf_printf(b, "The %s %s %ss the %s %s before each %s.",
               PICK(r, adjectives), PICK(r, nouns), v, PICK(r, adjectives),
               PICK(r, nouns), PICK(r, nouns));
}

/* ---- the in-memory tree ---- */

struct dir;

struct ent {
    char *name;
    git_oid oid;
    unsigned mode;   /* 0100644, 0100755; 0 for a folder */
    struct dir *sub; /* folders only */
};

struct dir {
    struct dir *parent;
    struct ent *ents;
    size_t n, cap;
    git_oid oid;
    int dirty;
    int empty; /* nothing but empty folders, as of the last write */
};

static struct ent *dir_find(struct dir *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->ents[i].name) == len &&
            !memcmp(d->ents[i].name, name, len))
            return &d->ents[i];
    return NULL;
}

static struct ent *dir_add(struct dir *d, const char *name, size_t len)
{
    struct ent *e;

    XGROW(d->ents, d->cap, d->n + 1);
    e = &d->ents[d->n++];
    memset(e, 0, sizeof(*e));
    e->name = xstrndup(name, len);
    return e;
}

static void dir_mark(struct dir *d)
{
    for (; d && !d->dirty; d = d->parent)
        d->dirty = 1;
}

/* The folder holding path, created as needed; *base is the last part. */
static struct dir *dir_walk(struct dir *root, const char *path,
                            const char **base)
{
    struct dir *d = root;
    const char *p = path, *slash;

    while ((slash = strchr(p, '/'))) {
        struct ent *e = dir_find(d, p, (size_t)(slash - p));
        if (!e) {
            e = dir_add(d, p, (size_t)(slash - p));
            e->sub = xcalloc(1, sizeof(*e->sub));
            e->sub->parent = d;
            e->sub->empty = 1; /* not dirty: dir_mark() must reach up */
        }
        if (!e->sub)
            break; /* a file where a folder should be: callers avoid it */
        d = e->sub;
        p = slash + 1;
    }
    *base = p;
    return d;
}

static void dir_free(struct dir *d)
{
    for (size_t i = 0; d && i < d->n; i++) {
        free(d->ents[i].name);
        dir_free(d->ents[i].sub);
        free(d->ents[i].sub);
    }
    if (d)
        free(d->ents);
}

/* ---- the generator's state ---- */

enum lang {
    LANG_PY,
    LANG_JS,
    LANG_GO,
    LANG_MD,
};

enum fkind { F_CODE, F_DOC, F_SCRIPT, F_OTHER, F_NKINDS };

struct file {
    char *path;
    struct buf data;
    unsigned mode; /* 0100644 or 0100755 */
    enum fkind kind;
};

struct dep {
    char name[64];
    unsigned major, minor, patch;
};

/* What the Dockerfile says; each edit bumps one field. */
struct dstate {
    unsigned comment, label, env, arg;
    unsigned grown; /* LABELs appended (label_every) */
};

struct synth;

/* A template: everything that differs between python, node, go, ... */
struct tmpl {
    enum lang lang;
    const char *ext;      /* of source files */
    const char *src_root; /* where source folders go */
    const char *main_path;
    const char *dockerignore;
    const char *deps_paths[2]; /* second may be NULL */
    unsigned deps_min, deps_span;
    void (*render_deps)(struct synth *s, struct buf *out[2]);
    void (*render_dockerfile)(struct synth *s, struct buf *out);
};

struct synth {
    const struct synth_options *o;
    const struct tmpl *t;
    struct rng rng;
    git_repository *repo;
    git_odb *odb;
    struct buf pack; /* pack file being built: header, objects */
    uint32_t pack_count;
    git_oid *oidset; /* ids in the pack, open addressing (zero: free) */
    size_t oidset_cap, oidset_n;
    struct dir root;
    struct file *files;
    size_t nfiles, capfiles;
    /* indexes into files[] by kind, for picking one at random */
    size_t *bykind[F_NKINDS];
    size_t nbykind[F_NKINDS], capbykind[F_NKINDS];
    size_t dockerfile, deps_file[2];
    struct dep *deps;
    size_t ndeps, capdeps;
    struct dstate ds;
    char project[64];
    char **code_dirs;
    size_t ncode_dirs;
    size_t target_code;
    struct buf subject, body, scratch;
    git_oid head;
    int has_head;
    int64_t when;
    long renames, mode_changes;
};

static int git_fail(struct err *err, const char *what)
{
    const git_error *e = git_error_last();
    return err_set(err, ERR_GIT, "%s: %s", what,
                   e && e->message ? e->message : "unknown libgit2 error");
}

/* ---- writing objects ---- */

/* ---- writing objects: our own pack files ----
 *
 * libgit2 would write one loose file per object (slow: 100,000 files for
 * a big history) or, through its pack builder, spend most of the time
 * compressing and searching deltas.  We append objects to a pack of our
 * own, stored without compression (zlib "stored" blocks), and hand it to
 * git_odb_write_pack(), which indexes it.  `git gc` compresses it later
 * if the user wants.
 */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t adler32(const unsigned char *p, size_t len)
{
    uint32_t a = 1, b = 0;

    while (len) {
        size_t n = len < 5552 ? len : 5552; /* no overflow before % */
        len -= n;
        while (n--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

/* A zlib stream of stored (uncompressed) deflate blocks. */
static void add_zstored(struct buf *b, const unsigned char *p, size_t len)
{
    unsigned char tail[4];
    uint32_t sum = adler32(p, len);

    buf_add(b, "\x78\x01", 2);
    do {
        size_t n = len > 65535 ? 65535 : len;
        unsigned char h[5] = { n == len, (unsigned char)(n & 0xff),
                               (unsigned char)(n >> 8),
                               (unsigned char)(~n & 0xff),
                               (unsigned char)((~n >> 8) & 0xff) };
        buf_add(b, h, 5);
        buf_add(b, p, n);
        p += n;
        len -= n;
    } while (len);
    put_be32(tail, sum);
    buf_add(b, tail, 4);
}

/* Insert id into the set of ids in the pack; 0 if it was there. */
static int oidset_add(struct synth *s, const git_oid *id)
{
    size_t i, mask;
    uint64_t h;

    if (2 * (s->oidset_n + 1) > s->oidset_cap) {
        git_oid *old = s->oidset;
        size_t oldcap = s->oidset_cap;
        s->oidset_cap = oldcap ? 2 * oldcap : 4096;
        s->oidset = xcalloc(s->oidset_cap, sizeof(*s->oidset));
        s->oidset_n = 0;
        for (i = 0; i < oldcap; i++)
            if (!git_oid_is_zero(&old[i]))
                oidset_add(s, &old[i]);
        free(old);
    }
    mask = s->oidset_cap - 1;
    memcpy(&h, id->id, sizeof(h));
    for (i = (size_t)h & mask; !git_oid_is_zero(&s->oidset[i]);
         i = (i + 1) & mask)
        if (git_oid_equal(&s->oidset[i], id))
            return 0;
    s->oidset[i] = *id;
    s->oidset_n++;
    return 1;
}

static int obj_write(struct synth *s, git_oid *out, git_object_t type,
                     const void *data, size_t len, struct err *err)
{
    unsigned char hdr[16];
    size_t n = 0, rest = len >> 4;

    if (git_odb_hash(out, data, len, type) < 0)
        return git_fail(err, "cannot hash an object");
    if (!oidset_add(s, out))
        return 0;
    if (!s->pack.len)
        buf_add(&s->pack, "PACK\0\0\0\2\0\0\0\0", 12);
    hdr[n++] = (unsigned char)((unsigned)type << 4 | (len & 15));
    while (rest) {
        hdr[n - 1] |= 0x80;
        hdr[n++] = (unsigned char)(rest & 0x7f);
        rest >>= 7;
    }
    buf_add(&s->pack, hdr, n);
    add_zstored(&s->pack, data, len);
    s->pack_count++;
    return 0;
}

/* Finish the pack (count, SHA-1 trailer) and add it with its index. */
static int flush_pack(struct synth *s, struct err *err)
{
    git_odb_writepack *wp = NULL;
    git_indexer_progress stats;
    unsigned char sum[SHA1_LEN];
    struct sha1 c;
    int rc = 0;

    if (!s->pack_count)
        return 0;
    put_be32((unsigned char *)s->pack.ptr + 8, s->pack_count);
    sha1_init(&c);
    sha1_update(&c, s->pack.ptr, s->pack.len);
    sha1_final(&c, sum);
    buf_add(&s->pack, sum, sizeof(sum));
    if (git_odb_write_pack(&wp, s->odb, NULL, NULL) < 0 ||
        wp->append(wp, s->pack.ptr, s->pack.len, &stats) < 0 ||
        wp->commit(wp, &stats) < 0)
        rc = git_fail(err, "cannot write a pack");
    if (wp)
        wp->free(wp);
    buf_reset(&s->pack);
    s->pack_count = 0;
    memset(s->oidset, 0, s->oidset_cap * sizeof(*s->oidset));
    s->oidset_n = 0;
    return rc;
}

/* Git's tree order: names compare as if folders ended in '/'. */
static int ent_cmp(const void *pa, const void *pb)
{
    const struct ent *a = *(const struct ent *const *)pa;
    const struct ent *b = *(const struct ent *const *)pb;
    size_t la = strlen(a->name), lb = strlen(b->name);
    size_t n = la < lb ? la : lb;
    int c = memcmp(a->name, b->name, n);
    unsigned char ca, cb;

    if (c)
        return c;
    ca = la > n ? (unsigned char)a->name[n] : a->sub ? '/' : 0;
    cb = lb > n ? (unsigned char)b->name[n] : b->sub ? '/' : 0;
    return ca - cb;
}

static int write_dir(struct synth *s, struct dir *d, struct err *err)
{
    struct ent **v;
    struct buf tree = BUF_INIT;
    size_t i;
    int rc = 0;

    if (!d->dirty)
        return 0;
    v = xcalloc(d->n + 1, sizeof(*v));
    for (i = 0; i < d->n; i++)
        v[i] = &d->ents[i];
    qsort(v, d->n, sizeof(*v), ent_cmp);
    for (i = 0; i < d->n && !rc; i++) {
        const git_oid *id = &v[i]->oid;
        if (v[i]->sub) {
            rc = write_dir(s, v[i]->sub, err);
            if (rc || v[i]->sub->empty)
                continue;
            id = &v[i]->sub->oid;
        }
        buf_printf(&tree, "%o %s", v[i]->sub ? 040000 : v[i]->mode, v[i]->name);
        buf_addch(&tree, '\0');
        buf_add(&tree, id->id, GIT_OID_RAWSZ);
    }
    d->empty = tree.len == 0;
    if (!rc && !d->empty)
        rc = obj_write(s, &d->oid, GIT_OBJECT_TREE, tree.ptr, tree.len, err);
    free(v);
    buf_release(&tree);
    if (!rc)
        d->dirty = 0;
    return rc;
}

/* Write file f's content as a blob and put it in the tree model. */
static int put_blob(struct synth *s, struct file *f, struct err *err)
{
    const char *base;
    struct dir *d = dir_walk(&s->root, f->path, &base);
    struct ent *e = dir_find(d, base, strlen(base));
    git_oid oid;

    if (obj_write(s, &oid, GIT_OBJECT_BLOB, buf_cstr(&f->data), f->data.len,
                  err))
        return err->code;
    if (!e)
        e = dir_add(d, base, strlen(base));
    e->oid = oid;
    e->mode = f->mode;
    dir_mark(d);
    return 0;
}

static void unput(struct synth *s, const char *path)
{
    const char *base;
    struct dir *d = dir_walk(&s->root, path, &base);
    struct ent *e = dir_find(d, base, strlen(base));

    if (!e)
        return;
    free(e->name);
    *e = d->ents[--d->n];
    dir_mark(d);
}

/* Claim a path in the tree model before its blob exists (put_blob()
 * follows), so that the next new file cannot take the same name. */
static void reserve_path(struct synth *s, const char *path)
{
    const char *base;
    struct dir *d = dir_walk(&s->root, path, &base);

    if (!dir_find(d, base, strlen(base)))
        dir_add(d, base, strlen(base))->mode = 0100644;
}

static int path_exists(struct synth *s, const char *path)
{
    const char *base;
    struct dir *d = dir_walk(&s->root, path, &base);
    return dir_find(d, base, strlen(base)) != NULL;
}

/* ---- the file table ---- */

static size_t file_new(struct synth *s, const char *path, enum fkind kind,
                       unsigned mode)
{
    struct file *f;

    XGROW(s->files, s->capfiles, s->nfiles + 1);
    f = &s->files[s->nfiles];
    f->path = xstrdup(path);
    buf_init(&f->data);
    f->mode = mode;
    f->kind = kind;
    XGROW(s->bykind[kind], s->capbykind[kind], s->nbykind[kind] + 1);
    s->bykind[kind][s->nbykind[kind]++] = s->nfiles;
    return s->nfiles++;
}

/* The file at idx; a function so that idx is computed (and files[]
 * possibly moved) before files[] is read. */
static struct file *file_at(struct synth *s, size_t idx)
{
    return &s->files[idx];
}

static struct file *pick_file(struct synth *s, enum fkind kind)
{
    if (!s->nbykind[kind])
        return NULL;
    return &s->files[s->bykind[kind]
                              [rng_below(&s->rng, (unsigned)s->nbykind[kind])]];
}

/* Drop a file: out of the tree and the by-kind index (slot kept). */
static void file_delete(struct synth *s, size_t idx)
{
    struct file *f = &s->files[idx];
    size_t *v = s->bykind[f->kind], i;

    for (i = 0; i < s->nbykind[f->kind]; i++)
        if (v[i] == idx) {
            v[i] = v[--s->nbykind[f->kind]];
            break;
        }
    unput(s, f->path);
    free(f->path);
    f->path = NULL;
    buf_release(&f->data);
}

static size_t live_files(const struct synth *s)
{
    size_t n = 0;
    for (size_t k = 0; k < F_NKINDS; k++)
        n += s->nbykind[k];
    return n;
}

/* ---- source, docs and scripts ---- */

static void camel(struct buf *b, const char *a, const char *c)
{
    buf_adds(b, a);
    buf_addch(b, (char)(c[0] - 'a' + 'A'));
    buf_adds(b, c + 1);
}

/* One top-level block (a function or a paragraph), ending in "\n". */
static void gen_block(struct buf *b, struct rng *r, enum lang lang)
{
    const char *v = PICK(r, verbs), *n = PICK(r, nouns);
    unsigned lines = 2 + rng_below(r, 7), i;

    switch (lang) {
    case LANG_PY:
        buf_printf(b, "def %s_%s(value, factor=%u):\n", v, n,
                   rng_below(r, 100));
        buf_printf(b, "    \"\"\"%c%s the %s of a %s %s.\"\"\"\n",
                   v[0] - 'a' + 'A', v + 1, n, PICK(r, adjectives),
                   PICK(r, nouns));
        buf_adds(b, "    result = value\n");
        for (i = 0; i < lines; i++)
            if (rng_pct(r, 30))
                buf_printf(b, "    if result > %u:\n        result -= %u\n",
                           rng_below(r, 5000), rng_below(r, 500));
            else
                buf_printf(b, "    result = result * %u + factor\n",
                           1 + rng_below(r, 97));
        buf_adds(b, "    return result\n");
        break;
    case LANG_JS:
        buf_adds(b, "export function ");
        camel(b, v, n);
        buf_printf(b, "(value, factor = %u) {\n", rng_below(r, 100));
        buf_printf(b, "  // %s the %s of a %s %s.\n  let result = value;\n", v,
                   n, PICK(r, adjectives), PICK(r, nouns));
        for (i = 0; i < lines; i++)
            if (rng_pct(r, 30))
                buf_printf(b, "  if (result > %u) {\n    result -= %u;\n  }\n",
                           rng_below(r, 5000), rng_below(r, 500));
            else
                buf_printf(b, "  result = result * %u + factor;\n",
                           1 + rng_below(r, 97));
        buf_adds(b, "  return result;\n}\n");
        break;
    case LANG_GO:
        buf_printf(b, "// %c%s%c%s %ss the %s of a %s %s.\nfunc ",
                   v[0] - 'a' + 'A', v + 1, n[0] - 'a' + 'A', n + 1, v, n,
                   PICK(r, adjectives), PICK(r, nouns));
        buf_printf(b, "%c%s", v[0] - 'a' + 'A', v + 1);
        buf_printf(b, "%c%s(value, factor int) int {\n\tresult := value\n",
                   n[0] - 'a' + 'A', n + 1);
        for (i = 0; i < lines; i++)
            if (rng_pct(r, 30))
                buf_printf(b, "\tif result > %u {\n\t\tresult -= %u\n\t}\n",
                           rng_below(r, 5000), rng_below(r, 500));
            else
                buf_printf(b, "\tresult = result*%u + factor\n",
                           1 + rng_below(r, 97));
        buf_adds(b, "\treturn result\n}\n");
        break;
    case LANG_MD:
        for (i = 0; i < 2 + lines / 2; i++) {
            add_sentence(b, r);
            buf_addch(b, i % 2 ? '\n' : ' ');
        }
        if (b->ptr[b->len - 1] != '\n')
            buf_addch(b, '\n');
        break;
    }
}

static void gen_header(struct buf *b, struct rng *r, enum lang lang,
                       const char *name)
{
    const char *a = PICK(r, adjectives), *n = PICK(r, nouns);

    switch (lang) {
    case LANG_PY:
        buf_printf(b,
                   "\"\"\"%s: %s %s helpers.\"\"\"\n\nimport logging\n\n"
                   "log = logging.getLogger(__name__)\n",
                   name, a, n);
        break;
    case LANG_JS:
        buf_printf(b, "// %s: %s %s helpers.\n'use strict';\n", name, a, n);
        break;
    case LANG_GO:
        buf_printf(b, "// Package %s holds %s %s helpers.\npackage %s\n", name,
                   a, n, name);
        break;
    case LANG_MD:
        buf_printf(b, "# %c%s\n",
                   name[0] >= 'a' && name[0] <= 'z' ? name[0] - 'a' + 'A'
                                                    : name[0],
                   name + 1);
        break;
    }
}

/* A whole file: a header, then blocks separated by blank lines. */
static void gen_file(struct buf *b, struct rng *r, enum lang lang,
                     const char *name, size_t size)
{
    gen_header(b, r, lang, name);
    do {
        buf_addch(b, '\n');
        gen_block(b, r, lang);
    } while (b->len < size);
}

/* Offsets just after each "\n\n" (block starts after the header). */
static size_t block_starts(const struct buf *b, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 1; i < b->len && n < max; i++)
        if (b->ptr[i] == '\n' && b->ptr[i - 1] == '\n')
            out[n++] = i + 1;
    return n;
}

/* Change a number somewhere after a random offset. */
static int tweak_number(struct buf *b, struct rng *r)
{
    size_t i = rng_below(r, (unsigned)b->len), j, k;
    char num[16];
    int len;

    for (k = 0; k < b->len; k++, i = (i + 1) % b->len)
        if (b->ptr[i] >= '0' && b->ptr[i] <= '9' &&
            (i == 0 || !(b->ptr[i - 1] >= '0' && b->ptr[i - 1] <= '9')))
            break;
    if (k == b->len)
        return -1;
    for (j = i; j < b->len && b->ptr[j] >= '0' && b->ptr[j] <= '9'; j++)
        ;
    len = snprintf(num, sizeof(num), "%u", 1000 + rng_below(r, 9000));
    buf_grow(b, (size_t)len);
    memmove(b->ptr + i + len, b->ptr + j, b->len - j + 1);
    memcpy(b->ptr + i, num, (size_t)len);
    b->len = b->len - (j - i) + (size_t)len;
    return 0;
}

/*
 * Edit a file the way people do: add a block (at a block boundary, so the
 * code stays well-formed), change a number, or drop a block; big files
 * tend to shrink and small ones to grow.
 */
static void edit_text(struct buf *b, struct rng *r, enum lang lang)
{
    size_t starts[1024];
    size_t n = block_starts(b, starts, NELEM(starts));
    unsigned op = rng_below(r, 100);

    if (n >= 3 && (b->len > 40000 || op < 12)) {
        size_t at = starts[1 + rng_below(r, (unsigned)(n - 1))], end;
        char *nx = strstr(b->ptr + at, "\n\n");
        end = nx ? (size_t)(nx - b->ptr) + 2 : b->len;
        memmove(b->ptr + at, b->ptr + end, b->len - end + 1);
        b->len -= end - at;
    } else if (op < 50 || !n || tweak_number(b, r) < 0) {
        struct buf blk = BUF_INIT;
        size_t at = n ? starts[rng_below(r, (unsigned)n)] : b->len;

        gen_block(&blk, r, lang);
        if (at == b->len) {
            buf_addch(b, '\n');
            buf_add(b, blk.ptr, blk.len);
        } else {
            buf_addch(&blk, '\n');
            buf_grow(b, blk.len);
            memmove(b->ptr + at + blk.len, b->ptr + at, b->len - at + 1);
            memcpy(b->ptr + at, blk.ptr, blk.len);
            b->len += blk.len;
        }
        buf_release(&blk);
    }
}

/* ---- dependencies ---- */

static int dep_cmp(const void *a, const void *b)
{
    return strcmp(((const struct dep *)a)->name, ((const struct dep *)b)->name);
}

/* Add a dependency with a fresh name; returns it (NULL if none found). */
static struct dep *dep_add(struct synth *s)
{
    char name[64];
    size_t i;
    int tries;

    for (tries = 0; tries < 50; tries++) {
        snprintf(name, sizeof(name), "%s%s", PICK(&s->rng, dep_prefix),
                 PICK(&s->rng, dep_suffix));
        for (i = 0; i < s->ndeps && strcmp(s->deps[i].name, name); i++)
            ;
        if (i == s->ndeps)
            break;
    }
    if (tries == 50)
        return NULL;
    XGROW(s->deps, s->capdeps, s->ndeps + 1);
    memset(&s->deps[s->ndeps], 0, sizeof(s->deps[0]));
    memcpy(s->deps[s->ndeps].name, name, strlen(name) + 1);
    s->deps[s->ndeps].major = rng_below(&s->rng, 4);
    s->deps[s->ndeps].minor = rng_below(&s->rng, 30);
    s->deps[s->ndeps].patch = rng_below(&s->rng, 20);
    s->ndeps++;
    qsort(s->deps, s->ndeps, sizeof(s->deps[0]), dep_cmp);
    for (i = 0; strcmp(s->deps[i].name, name); i++)
        ;
    return &s->deps[i];
}

/* Indirect dependencies of d: names and versions follow from d alone. */
static unsigned dep_indirect(const struct dep *d, unsigned i, char *name,
                             size_t size, unsigned ver[3])
{
    unsigned char h[8];
    char key[96];

    snprintf(key, sizeof(key), "%s@%u.%u.%u#%u", d->name, d->major, d->minor,
             d->patch, i);
    hash_bytes(key, h, sizeof(h));
    snprintf(name, size, "%s-%s", d->name,
             dep_suffix[h[0] % NELEM(dep_suffix)]);
    ver[0] = h[1] % 3;
    ver[1] = h[2] % 40;
    ver[2] = h[3] % 25;
    hash_bytes(d->name, h, 1);
    return h[0] % 5; /* how many d has */
}

static void render_requirements(struct synth *s, struct buf *out[2])
{
    struct buf *b = out[0];
    char key[96];

    buf_adds(b,
             "#\n# This file is autogenerated by pip-compile\n"
             "# To update, run:\n#\n#    pip-compile --generate-hashes\n#\n");
    for (size_t i = 0; i < s->ndeps; i++) {
        const struct dep *d = &s->deps[i];
        buf_printf(b, "%s==%u.%u.%u \\\n", d->name, d->major, d->minor,
                   d->patch);
        for (unsigned h = 0; h < 2; h++) {
            snprintf(key, sizeof(key), "%s%u%u%u%u", d->name, d->major,
                     d->minor, d->patch, h);
            buf_adds(b, "    --hash=sha256:");
            add_hex(b, key, 32);
            buf_adds(b, h ? "\n" : " \\\n");
        }
        buf_adds(b, "    # via -r requirements.in\n");
    }
}

static void lock_entry(struct buf *b, const char *name, const unsigned v[3],
                       int last)
{
    char key[96];

    snprintf(key, sizeof(key), "%s-%u.%u.%u", name, v[0], v[1], v[2]);
    buf_printf(
        b,
        "    \"node_modules/%s\": {\n      \"version\": \"%u.%u.%u\",\n"
        "      \"resolved\": \"https://registry.npmjs.org/%s/-/%s.tgz\",\n"
        "      \"integrity\": \"sha512-",
        name, v[0], v[1], v[2], name, key);
    add_b64(b, key, 64);
    buf_printf(b, "\",\n      \"license\": \"MIT\"\n    }%s\n",
               last ? "" : ",");
}

static void render_npm(struct synth *s, struct buf *out[2])
{
    struct buf *pj = out[0], *lock = out[1];
    size_t i;

    buf_printf(pj,
               "{\n  \"name\": \"%s\",\n  \"version\": \"1.0.0\",\n"
               "  \"private\": true,\n  \"type\": \"module\",\n"
               "  \"scripts\": {\n    \"start\": \"node src/index.js\"\n"
               "  },\n  \"dependencies\": {\n",
               s->project);
    buf_printf(lock,
               "{\n  \"name\": \"%s\",\n  \"version\": \"1.0.0\",\n"
               "  \"lockfileVersion\": 3,\n  \"requires\": true,\n"
               "  \"packages\": {\n    \"\": {\n      \"name\": \"%s\",\n"
               "      \"version\": \"1.0.0\",\n      \"dependencies\": {\n",
               s->project, s->project);
    for (i = 0; i < s->ndeps; i++) {
        const struct dep *d = &s->deps[i];
        const char *sep = i + 1 < s->ndeps ? "," : "";
        buf_printf(pj, "    \"%s\": \"^%u.%u.%u\"%s\n", d->name, d->major,
                   d->minor, d->patch, sep);
        buf_printf(lock, "        \"%s\": \"^%u.%u.%u\"%s\n", d->name, d->major,
                   d->minor, d->patch, sep);
    }
    buf_adds(pj, "  }\n}\n");
    buf_adds(lock, "      }\n    },\n");
    for (i = 0; i < s->ndeps; i++) {
        const struct dep *d = &s->deps[i];
        unsigned v[3] = { d->major, d->minor, d->patch }, iv[3], k, n;
        char name[96];

        n = dep_indirect(d, 0, name, sizeof(name), iv);
        for (k = 0; k < n; k++) {
            dep_indirect(d, k, name, sizeof(name), iv);
            lock_entry(lock, name, iv, 0);
        }
        lock_entry(lock, d->name, v, i + 1 == s->ndeps);
    }
    buf_adds(lock, "  }\n}\n");
}

static void go_sum_lines(struct buf *b, const char *path, const unsigned v[3])
{
    char key[160];

    snprintf(key, sizeof(key), "%s v%u.%u.%u", path, v[0], v[1], v[2]);
    buf_printf(b, "%s h1:", key);
    add_b64(b, key, 32);
    buf_printf(b, "\n%s/go.mod h1:", key);
    snprintf(key + strlen(key), sizeof(key) - strlen(key), "/go.mod");
    add_b64(b, key, 32);
    buf_addch(b, '\n');
}

static void render_gomod(struct synth *s, struct buf *out[2])
{
    struct buf *mod = out[0], *sum = out[1];
    struct buf ind = BUF_INIT;
    char path[160], name[96];
    size_t i;

    buf_printf(mod, "module example.com/%s\n\ngo 1.22\n\nrequire (\n",
               s->project);
    for (i = 0; i < s->ndeps; i++) {
        const struct dep *d = &s->deps[i];
        unsigned v[3] = { d->major % 2, d->minor, d->patch }, iv[3], k, n;

        snprintf(path, sizeof(path), "github.com/%s/%s",
                 dep_prefix[d->name[0] % NELEM(dep_prefix)], d->name);
        buf_printf(mod, "\t%s v%u.%u.%u\n", path, v[0], v[1], v[2]);
        go_sum_lines(sum, path, v);
        n = dep_indirect(d, 0, name, sizeof(name), iv);
        for (k = 0; k < n; k++) {
            dep_indirect(d, k, name, sizeof(name), iv);
            iv[0] %= 2;
            snprintf(path, sizeof(path), "github.com/%s/%s",
                     dep_prefix[name[0] % NELEM(dep_prefix)], name);
            buf_printf(&ind, "\t%s v%u.%u.%u // indirect\n", path, iv[0], iv[1],
                       iv[2]);
            go_sum_lines(sum, path, iv);
        }
    }
    buf_adds(mod, ")\n");
    if (ind.len)
        buf_printf(mod, "\nrequire (\n%s)\n", buf_cstr(&ind));
    buf_release(&ind);
}

/* ---- Dockerfiles ---- */

static void add_comment(struct synth *s, struct buf *b)
{
    buf_printf(b, "# %s (rev %u)\n",
               header_comments[s->ds.comment % NELEM(header_comments)],
               s->ds.comment + 1);
}

static void add_label(struct synth *s, struct buf *b)
{
    buf_printf(b,
               "LABEL org.opencontainers.image.title=\"%s\" "
               "org.opencontainers.image.version=\"1.%u.0\"\n",
               s->project, s->ds.label);
}

static void render_python(struct synth *s, struct buf *b)
{
    add_comment(s, b);
    buf_printf(b,
               "FROM python:3.12-slim\n"
               "ARG PIP_DEFAULT_TIMEOUT=%u\n"
               "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
               "WORKDIR /app\n"
               "COPY requirements.txt .\n"
               "RUN pip install --no-cache-dir -r requirements.txt\n"
               "ENV LOG_LEVEL=%s\n"
               "COPY . .\n",
               60 + 15 * s->ds.arg, log_levels[s->ds.env % 4]);
    add_label(s, b);
    buf_adds(b, "EXPOSE 8000\nCMD [\"python\", \"src/main.py\"]\n");
}

static void render_bad_order(struct synth *s, struct buf *b)
{
    add_comment(s, b);
    buf_printf(b,
               "FROM python:3.12-slim\n"
               "ARG PIP_DEFAULT_TIMEOUT=%u\n"
               "WORKDIR /app\n"
               "COPY . .\n"
               "RUN pip install --no-cache-dir -r requirements.txt\n"
               "ENV LOG_LEVEL=%s\n",
               60 + 15 * s->ds.arg, log_levels[s->ds.env % 4]);
    add_label(s, b);
    buf_adds(b, "CMD [\"python\", \"src/main.py\"]\n");
}

static void render_node(struct synth *s, struct buf *b)
{
    add_comment(s, b);
    buf_printf(b,
               "FROM node:20-slim\n"
               "ARG NPM_CONFIG_LOGLEVEL=%s\n"
               "ENV NODE_ENV=production\n"
               "WORKDIR /app\n"
               "COPY package.json package-lock.json ./\n"
               "RUN npm ci --omit=dev\n"
               "ENV LOG_LEVEL=%s\n"
               "COPY . .\n",
               npm_levels[s->ds.arg % 4], log_levels[s->ds.env % 4]);
    add_label(s, b);
    buf_adds(b, "EXPOSE 3000\nCMD [\"node\", \"src/index.js\"]\n");
}

static void render_go(struct synth *s, struct buf *b)
{
    add_comment(s, b);
    buf_printf(
        b,
        "FROM golang:1.22 AS builder\n"
        "ARG VERSION=0.%u.0\n"
        "WORKDIR /src\n"
        "COPY go.mod go.sum ./\n"
        "RUN go mod download\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 go build -ldflags \"-X main.version=${VERSION}\" "
        "-o /out/app ./cmd/app\n"
        "\n"
        "FROM builder AS test\n"
        "RUN go test ./...\n"
        "\n"
        "FROM gcr.io/distroless/static-debian12\n"
        "ENV LOG_LEVEL=%s\n"
        "COPY --from=builder /out/app /app\n",
        s->ds.arg, log_levels[s->ds.env % 4]);
    add_label(s, b);
    buf_adds(b, "USER nonroot:nonroot\nENTRYPOINT [\"/app\"]\n");
}

static const struct tmpl templates[] = {
    [SYNTH_PYTHON] = {
        .lang = LANG_PY, .ext = ".py", .src_root = "src",
        .main_path = "src/main.py",
        .dockerignore = ".git\n.gitignore\ndocs/\n*.md\n__pycache__/\n"
                        "*.pyc\n.venv/\n",
        .deps_paths = { "requirements.txt", NULL },
        .deps_min = 20, .deps_span = 30,
        .render_deps = render_requirements,
        .render_dockerfile = render_python,
    },
    [SYNTH_NODE] = {
        .lang = LANG_JS, .ext = ".js", .src_root = "src",
        .main_path = "src/index.js",
        .dockerignore = ".git\n.gitignore\nnode_modules/\ndocs/\n*.md\n"
                        "npm-debug.log\n",
        .deps_paths = { "package.json", "package-lock.json" },
        .deps_min = 12, .deps_span = 20,
        .render_deps = render_npm,
        .render_dockerfile = render_node,
    },
    [SYNTH_GO_MULTISTAGE] = {
        .lang = LANG_GO, .ext = ".go", .src_root = "internal",
        .main_path = "cmd/app/main.go",
        .dockerignore = ".git\n.gitignore\ndocs/\n*.md\nbin/\n",
        .deps_paths = { "go.mod", "go.sum" },
        .deps_min = 8, .deps_span = 15,
        .render_deps = render_gomod,
        .render_dockerfile = render_go,
    },
    [SYNTH_BAD_ORDER] = {
        .lang = LANG_PY, .ext = ".py", .src_root = "src",
        .main_path = "src/main.py",
        /* no .git, no docs: everything enters the context */
        .dockerignore = "__pycache__/\n*.pyc\n",
        .deps_paths = { "requirements.txt", NULL },
        .deps_min = 20, .deps_span = 30,
        .render_deps = render_requirements,
        .render_dockerfile = render_bad_order,
    },
};

/* ---- building the tree ---- */

static int render_deps(struct synth *s, struct err *err)
{
    struct buf *out[2] = { &s->files[s->deps_file[0]].data, NULL };
    struct buf unused = BUF_INIT;

    out[1] = s->t->deps_paths[1] ? &s->files[s->deps_file[1]].data : &unused;
    buf_reset(out[0]);
    buf_reset(out[1]);
    s->t->render_deps(s, out);
    buf_release(&unused);
    if (put_blob(s, &s->files[s->deps_file[0]], err))
        return err->code;
    if (s->t->deps_paths[1] && put_blob(s, &s->files[s->deps_file[1]], err))
        return err->code;
    return 0;
}

/* The template's Dockerfile, then the LABELs label_every appended. */
static void render_df(struct synth *s, struct buf *b)
{
    s->t->render_dockerfile(s, b);
    for (unsigned k = 1; k <= s->ds.grown; k++)
        buf_printf(b, "LABEL com.example.note%u=\"added in step %u\"\n", k,
                   k);
}

static int render_dockerfile(struct synth *s, struct err *err)
{
    struct file *f = &s->files[s->dockerfile];

    buf_reset(&f->data);
    render_df(s, &f->data);
    return put_blob(s, f, err);
}

/* A new source file in a random source folder; returns its index. */
static size_t code_file_new(struct synth *s)
{
    const char *dir = s->code_dirs[rng_below(&s->rng, (unsigned)s->ncode_dirs)];
    const char *pkg = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    struct buf path = BUF_INIT;
    size_t idx;

    for (unsigned n = 0;; n++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s%c%s", dir, PICK(&s->rng, verbs),
                   s->t->lang == LANG_JS ? '-' : '_', PICK(&s->rng, nouns));
        if (n >= 8)
            buf_printf(&path, "%u", n);
        buf_adds(&path, s->t->ext);
        if (!path_exists(s, buf_cstr(&path)))
            break;
    }
    reserve_path(s, buf_cstr(&path));
    idx = file_new(s, buf_cstr(&path), F_CODE, 0100644);
    gen_file(&s->files[idx].data, &s->rng, s->t->lang, pkg, rng_size(&s->rng));
    buf_release(&path);
    return idx;
}

static size_t doc_file_new(struct synth *s, unsigned n)
{
    char path[96];
    const char *topic = doc_topics[n % NELEM(doc_topics)];
    size_t idx;

    if (n < NELEM(doc_topics))
        snprintf(path, sizeof(path), "docs/%s.md", topic);
    else
        snprintf(path, sizeof(path), "docs/%s-%u.md", topic,
                 n / (unsigned)NELEM(doc_topics) + 1);
    idx = file_new(s, path, F_DOC, 0100644);
    gen_file(&s->files[idx].data, &s->rng, LANG_MD, topic,
             1000 + rng_below(&s->rng, 6000));
    return idx;
}

static void plan_code_dirs(struct synth *s)
{
    size_t n = (s->target_code + 24) / 25, i;

    s->ncode_dirs = n ? n : 1;
    s->code_dirs = xcalloc(s->ncode_dirs, sizeof(*s->code_dirs));
    for (i = 0; i < s->ncode_dirs; i++) {
        struct buf b = BUF_INIT;
        buf_printf(&b, "%s/", s->t->src_root);
        if (s->ncode_dirs > 12)
            buf_printf(&b, "%s%.0u/", adjectives[i / 10 % NELEM(adjectives)],
                       (unsigned)(i / 10 / NELEM(adjectives)));
        buf_printf(&b, "%s%.0u", nouns[i % NELEM(nouns)],
                   (unsigned)(i / NELEM(nouns)));
        s->code_dirs[i] = buf_detach(&b);
    }
}

/* Every file of the first commit except the source files. */
static void initial_fixed_files(struct synth *s)
{
    static const char *const scripts[] = { "scripts/entrypoint.sh",
                                           "scripts/migrate.sh",
                                           "scripts/lint.sh" };
    size_t i, ndocs = s->o->files / 50;
    struct file *f;

    ndocs = ndocs < 2 ? 2 : ndocs > 60 ? 60 : ndocs;
    f = file_at(s, file_new(s, ".gitignore", F_OTHER, 0100644));
    buf_adds(&f->data, "__pycache__/\n*.pyc\nnode_modules/\nbin/\n.env\n");
    f = file_at(s, file_new(s, ".dockerignore", F_OTHER, 0100644));
    buf_adds(&f->data, s->t->dockerignore);
    s->dockerfile = file_new(s, "Dockerfile", F_OTHER, 0100644);
    s->deps_file[0] = file_new(s, s->t->deps_paths[0], F_OTHER, 0100644);
    s->deps_file[1] = SIZE_MAX;
    if (s->t->deps_paths[1])
        s->deps_file[1] = file_new(s, s->t->deps_paths[1], F_OTHER, 0100644);
    f = file_at(s, file_new(s, "README.md", F_DOC, 0100644));
    gen_file(&f->data, &s->rng, LANG_MD, s->project, 1500);
    for (i = 0; i < ndocs; i++)
        doc_file_new(s, (unsigned)i);
    for (i = 0; i < NELEM(scripts); i++) {
        f = file_at(
            s, file_new(s, scripts[i], F_SCRIPT, i == 0 ? 0100755 : 0100644));
        buf_printf(&f->data, "#!/bin/sh\n# %s\nset -eu\n", scripts[i] + 8);
        gen_block(&f->data, &s->rng, LANG_MD);
        buf_adds(&f->data, "exec \"$@\"\n");
    }
    f = file_at(s, file_new(s, s->t->main_path, F_CODE, 0100644));
    gen_file(&f->data, &s->rng, s->t->lang, "main", 800);
}

static int initial_commit(struct synth *s, struct err *err)
{
    size_t i, nfixed, ndeps;

    snprintf(s->project, sizeof(s->project), "%s-%s", PICK(&s->rng, adjectives),
             PICK(&s->rng, nouns));
    ndeps = s->t->deps_min + rng_below(&s->rng, s->t->deps_span);
    for (i = 0; i < ndeps; i++)
        dep_add(s);
    initial_fixed_files(s);
    nfixed = s->nfiles;
    s->target_code =
        (size_t)s->o->files > nfixed + 2 ? (size_t)s->o->files - nfixed + 1 : 3;
    plan_code_dirs(s);
    for (i = 1; i < s->target_code; i++)
        code_file_new(s);
    render_df(s, &s->files[s->dockerfile].data);
    for (i = 0; i < s->nfiles; i++)
        if (i != s->deps_file[0] && i != s->deps_file[1] &&
            put_blob(s, &s->files[i], err))
            return err->code;
    buf_adds(&s->subject, "Initial commit");
    return render_deps(s, err);
}

/* ---- one commit of each kind ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int commit_code(struct synth *s, struct err *err)
{
    unsigned n = 1 + rng_below(&s->rng, 3), i;
    size_t ncode = s->nbykind[F_CODE];
    struct file *f = NULL;

    if (rng_pct(&s->rng, ncode < s->target_code ? 6 : 2)) {
        f = file_at(s, code_file_new(s));
        buf_printf(&s->subject, "Add %s", base_name(f->path));
        return put_blob(s, f, err);
    }
    if (ncode > 3 && rng_pct(&s->rng, ncode > s->target_code ? 6 : 2)) {
        size_t idx = s->bykind[F_CODE][rng_below(&s->rng, (unsigned)ncode)];
        buf_printf(&s->subject, "Remove unused %s",
                   base_name(s->files[idx].path));
        file_delete(s, idx);
        return 0;
    }
    for (i = 0; i < n; i++) {
        f = pick_file(s, F_CODE);
        edit_text(&f->data, &s->rng, s->t->lang);
        if (put_blob(s, f, err))
            return err->code;
        buf_printf(&s->body, "- %s\n", f->path);
    }
    buf_printf(&s->subject, "%s %s handling in %s", PICK(&s->rng, code_verbs),
               PICK(&s->rng, nouns), base_name(f->path));
    return 0;
}

static int commit_deps(struct synth *s, struct err *err)
{
    unsigned op = rng_below(&s->rng, 100);
    struct dep *d;

    if (op < 15 && s->ndeps > s->t->deps_min / 2) {
        size_t i = rng_below(&s->rng, (unsigned)s->ndeps);
        buf_printf(&s->subject, "Remove dependency %s", s->deps[i].name);
        s->deps[i] = s->deps[--s->ndeps];
        qsort(s->deps, s->ndeps, sizeof(s->deps[0]), dep_cmp);
    } else if (op < 35 && (d = dep_add(s))) {
        buf_printf(&s->subject, "Add dependency %s %u.%u.%u", d->name, d->major,
                   d->minor, d->patch);
    } else {
        struct dep old;
        d = &s->deps[rng_below(&s->rng, (unsigned)s->ndeps)];
        old = *d;
        op = rng_below(&s->rng, 100);
        if (op < 5)
            d->major++, d->minor = d->patch = 0;
        else if (op < 30)
            d->minor++, d->patch = 0;
        else
            d->patch++;
        buf_printf(&s->subject, "Bump %s from %u.%u.%u to %u.%u.%u", d->name,
                   old.major, old.minor, old.patch, d->major, d->minor,
                   d->patch);
    }
    return render_deps(s, err);
}

static int commit_dockerfile(struct synth *s, struct err *err)
{
    switch (rng_below(&s->rng, 4)) {
    case 0:
        s->ds.comment++;
        buf_adds(&s->subject, "Dockerfile: reword the header comment");
        break;
    case 1:
        s->ds.label++;
        buf_printf(&s->subject, "Dockerfile: set image version label to 1.%u.0",
                   s->ds.label);
        break;
    case 2:
        s->ds.env++;
        buf_printf(&s->subject, "Dockerfile: set LOG_LEVEL=%s",
                   log_levels[s->ds.env % 4]);
        break;
    default:
        s->ds.arg++;
        buf_adds(&s->subject, "Dockerfile: change a build argument default");
        break;
    }
    return render_dockerfile(s, err);
}

static int commit_docs(struct synth *s, struct err *err)
{
    struct file *f;

    if (rng_pct(&s->rng, 3)) {
        f = file_at(s, doc_file_new(s, (unsigned)s->nbykind[F_DOC] + 7));
        buf_printf(&s->subject, "docs: add %s", base_name(f->path));
        return put_blob(s, f, err);
    }
    f = pick_file(s, F_DOC);
    edit_text(&f->data, &s->rng, LANG_MD);
    buf_printf(&s->subject, "docs: %s %s", PICK(&s->rng, doc_verbs),
               base_name(f->path));
    return put_blob(s, f, err);
}

/* Now and then: a rename of a source file, or chmod of a script. */
static int commit_extras(struct synth *s, struct err *err)
{
    if (s->nbykind[F_CODE] > 1 && rng_pct(&s->rng, 2)) {
        size_t from = (size_t)(pick_file(s, F_CODE) - s->files);
        size_t idx = code_file_new(s); /* files[] may move */
        struct file *to = &s->files[idx], *f = &s->files[from];

        buf_reset(&to->data);
        buf_add(&to->data, f->data.ptr, f->data.len);
        buf_printf(&s->body, "rename %s -> %s\n", f->path, to->path);
        file_delete(s, (size_t)(f - s->files));
        s->renames++;
        if (put_blob(s, to, err))
            return err->code;
    }
    if (s->nbykind[F_SCRIPT] && rng_pct(&s->rng, 2)) {
        struct file *f = pick_file(s, F_SCRIPT);
        f->mode = f->mode == 0100755 ? 0100644 : 0100755;
        buf_printf(&s->body, "chmod %cx %s\n", f->mode == 0100755 ? '+' : '-',
                   f->path);
        s->mode_changes++;
        if (put_blob(s, f, err))
            return err->code;
    }
    return 0;
}

/* ---- commits and the run ---- */

static enum synth_kind pick_kind(struct synth *s)
{
    unsigned total = 0, k, x;

    for (k = 0; k < SYNTH_NKINDS; k++)
        total += s->o->mix.weight[k];
    x = rng_below(&s->rng, total);
    for (k = 0; k + 1 < SYNTH_NKINDS && x >= s->o->mix.weight[k]; k++)
        x -= s->o->mix.weight[k];
    return (enum synth_kind)k;
}

static int write_commit(struct synth *s, struct err *err)
{
    const char *const *who = authors[rng_below(&s->rng, NELEM(authors))];
    char hex[GIT_OID_HEXSZ + 1];
    struct buf *c = &s->scratch;

    if (write_dir(s, &s->root, err))
        return err->code;
    s->when += 300 + rng_below(&s->rng, 8 * 3600);
    buf_reset(c);
    buf_printf(c, "tree %s\n", git_oid_tostr(hex, sizeof(hex), &s->root.oid));
    if (s->has_head)
        buf_printf(c, "parent %s\n", git_oid_tostr(hex, sizeof(hex), &s->head));
    buf_printf(c, "author %s <%s> %lld +0000\ncommitter %s <%s> %lld +0000\n\n",
               who[0], who[1], (long long)s->when, who[0], who[1],
               (long long)s->when);
    buf_printf(c, "%s\n", buf_cstr(&s->subject));
    if (s->body.len)
        buf_printf(c, "\n%s", buf_cstr(&s->body));
    if (obj_write(s, &s->head, GIT_OBJECT_COMMIT, c->ptr, c->len, err))
        return err->code;
    s->has_head = 1;
    return 0;
}

static int one_commit(struct synth *s, long i, struct synth_result *res,
                      struct err *err)
{
    static int (*const kinds[])(struct synth *, struct err *) = {
        [SYNTH_CODE] = commit_code,
        [SYNTH_DEPS] = commit_deps,
        [SYNTH_DOCKERFILE] = commit_dockerfile,
        [SYNTH_DOCS] = commit_docs,
    };
    enum synth_kind k;

    buf_reset(&s->subject);
    buf_reset(&s->body);
    if (i == 0) {
        if (initial_commit(s, err))
            return err->code;
    } else {
        int grow = s->o->label_every > 0 && i % s->o->label_every == 0;
        k = pick_kind(s);
        res->kind_commits[k]++;
        if (grow) {
            s->ds.grown++;
            buf_printf(&s->body, "Dockerfile: add LABEL com.example.note%u\n",
                       s->ds.grown);
        }
        if (kinds[k](s, err) || commit_extras(s, err))
            return err->code;
        if (grow && k != SYNTH_DOCKERFILE && render_dockerfile(s, err))
            return err->code;
    }
    return write_commit(s, err);
}

static int check_out_dir(const char *path, struct err *err)
{
    struct dirent *de;
    DIR *d = opendir(path);
    int nonempty = 0;

    if (!d) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, ERR_IO, "cannot use the output folder '%s': %s",
                       path, strerror(errno));
    }
    while (!nonempty && (de = readdir(d)))
        nonempty = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    if (nonempty) {
        err_set(err, ERR_IO, "output folder exists and is not empty '%s'",
                path);
        err_hint(err, "give a new folder to --out, or remove this one");
        return err->code;
    }
    return 0;
}

static int check_options(const struct synth_options *o, struct err *err)
{
    char ref[512];
    int valid = 0;
    unsigned total = 0;

    if (!o->out || !*o->out)
        return err_set(err, ERR_INVALID, "no output folder");
    if (o->commits < 1 || o->commits > 10000000)
        return err_set(err, ERR_INVALID,
                       "commits out of range 1..10000000 "
                       "'%ld'",
                       o->commits);
    if (o->files < 1 || o->files > 1000000)
        return err_set(err, ERR_INVALID, "files out of range 1..1000000 '%ld'",
                       o->files);
    if (o->label_every < 0)
        return err_set(err, ERR_INVALID, "label-every must not be negative "
                       "'%ld'", o->label_every);
    if ((unsigned)o->template_id >= NELEM(templates))
        return err_set(err, ERR_INVALID, "unknown template");
    for (int k = 0; k < SYNTH_NKINDS; k++)
        total += o->mix.weight[k];
    if (!total)
        return err_set(err, ERR_INVALID, "the mix weights are all 0");
    snprintf(ref, sizeof(ref), "refs/heads/%s", o->branch ? o->branch : "");
    if (!o->branch || git_reference_name_is_valid(&valid, ref) < 0 || !valid)
        return err_set(err, ERR_INVALID, "invalid branch name '%s'",
                       o->branch ? o->branch : "");
    return check_out_dir(o->out, err);
}

static void synth_release(struct synth *s)
{
    size_t i;

    for (i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        buf_release(&s->files[i].data);
    }
    free(s->files);
    for (i = 0; i < F_NKINDS; i++)
        free(s->bykind[i]);
    for (i = 0; i < s->ncode_dirs; i++)
        free(s->code_dirs[i]);
    free(s->code_dirs);
    free(s->deps);
    dir_free(&s->root);
    buf_release(&s->subject);
    buf_release(&s->body);
    buf_release(&s->scratch);
    buf_release(&s->pack);
    free(s->oidset);
    git_odb_free(s->odb);
    git_repository_free(s->repo);
}

/* Point the branch at the last commit and check it out. */
static int finish(struct synth *s, struct err *err)
{
    git_checkout_options co;
    git_reference *ref = NULL;
    char name[512];

    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    snprintf(name, sizeof(name), "refs/heads/%s", s->o->branch);
    if (git_reference_create(&ref, s->repo, name, &s->head, 1,
                             "harness synth") < 0)
        return git_fail(err, name);
    git_reference_free(ref);
    if (git_repository_set_head(s->repo, name) < 0)
        return git_fail(err, name);
    co.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (git_checkout_head(s->repo, &co) < 0)
        return git_fail(err, "cannot check out the work tree");
    return 0;
}

static int open_repo(struct synth *s, struct err *err)
{
    git_repository_init_options io;

    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_MKPATH;
    io.initial_head = s->o->branch;
    if (git_repository_init_ext(&s->repo, s->o->out, &io) < 0)
        return git_fail(err, s->o->out);
    if (git_repository_odb(&s->odb, s->repo) < 0)
        return git_fail(err, s->o->out);
    return 0;
}

int synth_run(const struct synth_options *o, struct synth_result *out,
              struct err *err)
{
    struct synth s;
    long i;
    int rc;

    memset(out, 0, sizeof(*out));
    git_libgit2_init();
    if ((rc = check_options(o, err))) {
        git_libgit2_shutdown();
        return rc;
    }
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.t = &templates[o->template_id];
    s.rng.s = o->seed ^ 0x6861726e657373ULL;                 /* "harness" */
    s.when = 1577836800 + (int64_t)(o->seed % 1000) * 86400; /* 2020 + */
    rc = open_repo(&s, err);
    for (i = 0; !rc && i < o->commits; i++) {
        rc = one_commit(&s, i, out, err);
        if (!rc && (s.pack.len >= PACK_BYTES || i + 1 == o->commits))
            rc = flush_pack(&s, err);
        if (o->progress && (i % 256 == 255 || i + 1 == o->commits))
            o->progress(o->progress_arg, i + 1, o->commits);
    }
    if (!rc)
        rc = finish(&s, err);
    if (!rc) {
        git_oid_tostr(out->head, sizeof(out->head), &s.head);
        out->commits = o->commits;
        out->files = (long)live_files(&s);
        out->renames = s.renames;
        out->mode_changes = s.mode_changes;
    }
    synth_release(&s);
    git_libgit2_shutdown();
    return rc;
}
