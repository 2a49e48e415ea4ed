/*
 * keys.c - build graph and cache keys for the legacy builder and BuildKit.
 *
 * The rules and their sources are in doc/cache-rules.md; the header
 * says what each builder keys on.  A key is SHA-256 over the builder's tag
 * and the step's parts, in order, so two steps have equal keys exactly when
 * all their parts are equal.
 */
#include "keys.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "runreads.h"

static const char *const builder_names[] = {
    [BUILDER_LEGACY] = "legacy",
    [BUILDER_BUILDKIT] = "buildkit",
};

const char *builder_name(enum builder b)
{
    return builder_names[b];
}

int builder_parse(enum builder *out, const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(builder_names) / sizeof(builder_names[0]); i++)
        if (!strcmp(s, builder_names[i])) {
            *out = (enum builder)i;
            return 0;
        }
    return ERR_NOTFOUND;
}

/* Working state of one keys_compute() call. */
struct kctx {
    const struct df_file *df;
    struct ctx *ctx;
    const struct keys_options *o;
    struct key_build *kb;
    int *stage_last;  /* last step of each stage */
    int *stage_built; /* stage is built for this target */
    struct err *err;
    size_t nhash;       /* digests begun (struct khash) */
    struct buf scratch; /* text built on its way into the arena */
};

/*
 * A digest whose bytes are kept until it is finished, so that the same
 * bytes at the same place in the previous commit's build (the n-th digest
 * of both) give its result without hashing (key_build.hashes).  A commit
 * that changes one file changes few of a build's digests; the others are
 * the commit before's again.  Bytes beyond KHASH_KEEP are hashed as they
 * come and the digest is then computed as usual.
 */
#define KHASH_KEEP 512

struct khash {
    struct kctx *k;
    size_t ord;  /* index in key_build.hashes */
    size_t fill; /* bytes kept in buf; > KHASH_KEEP: hashing into h */
    unsigned char buf[KHASH_KEEP];
    struct sha256 h;
};

static void kh_init(struct kctx *k, struct khash *h)
{
    struct key_build *kb = k->kb;

    h->k = k;
    h->ord = k->nhash++;
    h->fill = 0;
    if (h->ord >= kb->nhashes) {
        XGROW(kb->hashes, kb->hashcap, h->ord + 1);
        memset(&kb->hashes[kb->nhashes], 0,
               (h->ord + 1 - kb->nhashes) * sizeof(*kb->hashes));
        kb->nhashes = h->ord + 1;
    }
}

static void kh_update(struct khash *h, const void *data, size_t len)
{
    if (h->fill <= KHASH_KEEP && h->fill + len <= KHASH_KEEP) {
        memcpy(h->buf + h->fill, data, len);
        h->fill += len;
        return;
    }
    if (h->fill <= KHASH_KEEP) { /* too long to keep: hash from now on */
        sha256_init(&h->h);
        sha256_update(&h->h, h->buf, h->fill);
        h->fill = KHASH_KEEP + 1;
    }
    sha256_update(&h->h, data, len);
}

/* As sha256_field(). */
static void kh_field(struct khash *h, const char *s)
{
    kh_update(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

static void kh_final(struct khash *h, unsigned char out[SHA256_LEN])
{
    const struct key_build *prev = h->k->o->prev;
    struct key_build *kb = h->k->kb;
    struct key_hash *e = &kb->hashes[h->ord];

    if (h->fill > KHASH_KEEP) {
        sha256_final(&h->h, out);
        return; /* e stays empty: nothing to compare with */
    }
    if (prev && h->ord < prev->nhashes && prev->hashes[h->ord].in &&
        prev->hashes[h->ord].len == h->fill &&
        !memcmp(prev->hashes[h->ord].in, h->buf, h->fill)) {
        memcpy(out, prev->hashes[h->ord].out, SHA256_LEN);
    } else {
        struct sha256 c;
        sha256_init(&c);
        sha256_update(&c, h->buf, h->fill);
        sha256_final(&c, out);
    }
    e->in = (unsigned char *)arena_memdup(&kb->arena, h->buf, h->fill);
    e->len = h->fill;
    memcpy(e->out, out, SHA256_LEN);
}

static void env_chain(struct kctx *k, struct key_step *s, int tool);

static void digest_hex(const unsigned char *d, char *out)
{
    memcpy(out, "sha256:", 7);
    sha256_hex(d, out + 7);
}

/* Append a part: name static or in the build's arena, value (len bytes
 * and a NUL) in the build's arena or a key_hex of its steps.  Inlined, so
 * that the length of a literal name is known when compiled. */
static inline __attribute__((always_inline)) void
part_put(struct key_step *s, const char *name, int line, char *value,
         size_t len)
{
    struct key_part *p;

    if (s->nparts == s->partcap) {
        struct key_part *old = s->parts;
        s->partcap = s->partcap ? 2 * s->partcap : 4;
        s->parts = arena_alloc_uninit(s->arena, s->partcap * sizeof(*s->parts));
        if (s->nparts)
            memcpy(s->parts, old, s->nparts * sizeof(*s->parts));
    }
    p = &s->parts[s->nparts++];
    p->name = name;
    p->value = value;
    p->line = line;
    p->nlen = (unsigned)strlen(name);
    p->len = len;
}

/* name: a string literal (a built name goes through the arena first). */
static void part_add(struct key_step *s, const char *name, int line,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void part_add(struct key_step *s, const char *name, int line,
                     const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    char *value;
    va_list ap;

    size_t len;

    va_start(ap, fmt);
    if (!strcmp(fmt, "%s")) { /* most parts: no formatting needed */
        const char *v = va_arg(ap, const char *);
        if (!v)
            v = "(null)"; /* as printf */
        len = strlen(v);
        value = arena_memdup(s->arena, v, len);
    } else {
        buf_vprintf(&b, fmt, ap);
        len = b.len;
        value = arena_memdup(s->arena, b.ptr ? b.ptr : "", b.len);
        buf_release(&b);
    }
    va_end(ap);
    part_put(s, name, line, value, len);
}

static void part_digest(struct key_step *s, const char *name, int line,
                        const unsigned char *d)
{
    char *hex = arena_alloc_uninit(s->arena, 7 + SHA256_HEX);

    digest_hex(d, hex);
    part_put(s, name, line, hex, 7 + SHA256_HEX - 1);
}

/* 1 if a and b have the same parts (names and values; lines do not reach
 * the key), so the same key under the same builder. */
static int parts_equal(const struct key_step *a, const struct key_step *b)
{
    if (a->nparts != b->nparts)
        return 0;
    for (size_t i = 0; i < a->nparts; i++) {
        const struct key_part *x = &a->parts[i], *y = &b->parts[i];
        if (x->len != y->len || x->nlen != y->nlen ||
            (x->name != y->name && memcmp(x->name, y->name, x->nlen)) ||
            memcmp(x->value, y->value, x->len))
            return 0;
    }
    return 1;
}

/* The key of step s (index i of the build) from its parts.  Most steps of
 * a commit have the parts they had at the commit before (the Dockerfile
 * and the files they read did not change): their key is taken from the
 * previous build instead of being hashed again. */
#define SEAL_BUF 1024

static void step_seal(const struct kctx *k, struct key_step *s)
{
    const struct key_build *prev = k->o->prev;
    size_t i = (size_t)(s - k->kb->steps);
    enum builder b = k->o->builder;
    struct sha256 h;

    s->sealed = 1;
    if (prev && prev->builder == b && i < prev->nsteps &&
        prev->steps[i].sealed && parts_equal(&prev->steps[i], s)) {
        memcpy(s->key, prev->steps[i].key, SHA256_LEN);
        memcpy(s->key_hex, prev->steps[i].key_hex, sizeof(s->key_hex));
        return;
    }
    /* the fields as sha256_field() adds them, gathered so that they are
     * hashed in one call: most keys are a few hundred bytes */
    const char *bname = builder_name(b);
    size_t at = strlen(bname) + 1, need = at;
    for (i = 0; i < s->nparts; i++)
        need += s->parts[i].nlen + s->parts[i].len + 2;
    sha256_init(&h);
    if (need <= SEAL_BUF) {
        unsigned char msg[SEAL_BUF];
        memcpy(msg, bname, at);
        for (i = 0; i < s->nparts; i++) {
            const struct key_part *p = &s->parts[i];
            memcpy(msg + at, p->name, p->nlen + 1);
            at += p->nlen + 1;
            memcpy(msg + at, p->value, p->len);
            at += p->len;
            msg[at++] = '\0';
        }
        sha256_update(&h, msg, at);
    } else {
        sha256_field(&h, bname);
        for (i = 0; i < s->nparts; i++) {
            sha256_update(&h, s->parts[i].name, s->parts[i].nlen + 1);
            sha256_update(&h, s->parts[i].value, s->parts[i].len + 1);
        }
    }
    sha256_final(&h, s->key);
    digest_hex(s->key, s->key_hex);
}

static void content_mix(struct kctx *k, unsigned char out[SHA256_LEN],
                        const unsigned char *prev, const char *what,
                        const char *value, const unsigned char *extra)
{
    struct khash h;

    kh_init(k, &h);
    if (prev)
        kh_update(&h, prev, SHA256_LEN);
    kh_field(&h, what);
    kh_field(&h, value);
    if (extra)
        kh_update(&h, extra, SHA256_LEN);
    kh_final(&h, out);
}

static void digest_str(struct kctx *k, unsigned char out[SHA256_LEN],
                       const char *a, const char *b)
{
    content_mix(k, out, NULL, a, b, NULL);
}

/* ---- reading instructions ---- */

static const char *flag_value(const struct df_instr *in, const char *name)
{
    const struct df_flag *f = df_instr_flag(in, name);
    return f ? f->value : NULL;
}

static int flag_present(const struct df_instr *in, const char *name)
{
    return df_instr_flag(in, name) != NULL;
}

static int is_remote_src(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) ||
           !strncmp(s, "git@", 4) || !strncmp(s, "git://", 6) ||
           !strncmp(s, "ssh://", 6);
}

static const struct df_heredoc *heredoc_src(const struct df_instr *in,
                                            const char *src)
{
    size_t i;
    const char *name;

    if (strncmp(src, "<<", 2))
        return NULL;
    name = src + 2;
    if (*name == '-')
        name++;
    for (i = 0; i < in->nheredocs; i++) {
        const char *hn = in->heredocs[i].name;
        size_t n = strlen(hn);
        /* the word may still carry quotes: <<"EOF" */
        if (!strcmp(name, hn) ||
            ((name[0] == '"' || name[0] == '\'') && !strncmp(name + 1, hn, n)))
            return &in->heredocs[i];
    }
    return NULL;
}

/* The command a RUN executes, as one string: SHELL + text, or the argv. */
static void run_command(struct buf *b, const struct df_instr *in)
{
    size_t i;

    if (in->json) {
        for (i = 0; i < in->nargs; i++)
            buf_printf(b, "%s%s", i ? " " : "", in->args[i]);
    } else {
        for (i = 0; i < in->state.nshell; i++)
            buf_printf(b, "%s ", in->state.shell[i]);
        for (i = 0; i < in->nargs; i++)
            buf_printf(b, "%s%s", i ? " " : "", in->args[i]);
    }
    for (i = 0; i < in->nheredocs; i++)
        buf_printf(b, "\n<<%s\n%s", in->heredocs[i].name,
                   in->heredocs[i].content);
}

/* Line of the ARG (or ENV) instruction in stage `stage` before `upto` that
 * declared `name`, or 0. */
static int decl_line(const struct df_file *df, size_t upto, int stage,
                     enum df_kind kind, const char *name)
{
    int line = 0;
    size_t i, j;

    for (i = 0; i < upto; i++) {
        const struct df_instr *in = &df->instrs[i];
        if (in->kind != kind || (in->stage != stage && in->stage != -1))
            continue;
        for (j = 0; j < in->nvars; j++)
            if (!strcmp(in->vars[j].name, name))
                line = in->line;
    }
    return line;
}

static int env_has(const struct df_state *st, const char *name)
{
    size_t i;

    for (i = 0; i < st->nenv; i++)
        if (!strcmp(st->env[i].name, name))
            return 1;
    return 0;
}

/* BuildKit: 1 if a valued ARG `name` of the stage was declared after the
 * last ENV of that name (0 if either is missing), so its value, not the
 * ENV's, is what the state's env holds.  An ENV inherited from a parent
 * stage counts as declared before every ARG of this stage. */
static int arg_after_env(const struct kctx *k, size_t upto, int stage,
                         const char *name)
{
    const struct df_state *st = &k->df->instrs[upto].state;
    size_t i;
    int valued = 0;

    for (i = 0; i < st->nargs; i++)
        if (!strcmp(st->args[i].name, name) && st->args[i].value)
            valued = 1;
    if (!valued || !env_has(st, name))
        return 0;
    return decl_line(k->df, upto, stage, DF_ARG, name) >
           decl_line(k->df, upto, stage, DF_ENV, name);
}

static int cmp_var(const void *a, const void *b)
{
    const struct df_var *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Resolve a --from / FROM reference: a stage index, or -1 for an image. */
static int stage_ref(const struct df_file *df, const char *ref, int before)
{
    int s;

    if (!ref || !*ref)
        return -1;
    s = df_stage_find(df, ref);
    return s >= 0 && s < before ? s : -1;
}

/* Find a key=value field in a --mount spec such as
 * "type=bind,source=x,target=/y". Returns a malloc'd value or NULL. */
static char *mount_field(const char *spec, const char *key)
{
    size_t klen = strlen(key);
    const char *p = spec;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=')
            return xstrndup(p + klen + 1, len - klen - 1);
        if (len == klen && !strncmp(p, key, klen))
            return xstrdup("");
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* The mount spec as the ExecOp key sees it: a cache mount's id= and
 * sharing= are cleared from the key (doc/cache-rules.md section 2), so they
 * are left out; every other field stays. */
static void mount_part(struct key_step *s, int line, const char *spec,
                       const char *type)
{
    struct buf b = BUF_INIT;
    const char *p = spec;

    if (!type || strcmp(type, "cache")) {
        part_add(s, "mount", line, "%s", spec);
        return;
    }
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, "id=", 3) && strncmp(p, "sharing=", 8))
            buf_printf(&b, "%s%.*s", b.len ? "," : "", (int)len, p);
        p = end ? end + 1 : NULL;
    }
    part_add(s, "mount", line, "%s", buf_cstr(&b));
    buf_release(&b);
}

static const char *base_digest(const struct kctx *k, const char *image)
{
    size_t i;

    for (i = 0; i < k->o->nbases; i++)
        if (!strcmp(k->o->bases[i].image, image))
            return k->o->bases[i].digest;
    return NULL;
}

/* ---- stage reachability ---- */

static void mark_stage_deps(struct kctx *k, int s)
{
    const struct df_file *df = k->df;
    const struct df_stage *st = &df->stages[s];
    size_t i, j;

    if (st->base_stage >= 0)
        k->stage_built[st->base_stage] = 1;
    for (i = st->first; i < st->first + st->count; i++) {
        const struct df_instr *in = &df->instrs[i];
        for (j = 0; j < in->nflags; j++) {
            int dep = -1;
            if (!strcmp(in->flags[j].name, "from") &&
                (in->kind == DF_COPY || in->kind == DF_ADD)) {
                dep = stage_ref(df, in->flags[j].value, s);
            } else if (!strcmp(in->flags[j].name, "mount") &&
                       in->kind == DF_RUN) {
                char *from = mount_field(in->flags[j].value, "from");
                dep = stage_ref(df, from, s);
                free(from);
            }
            if (dep >= 0)
                k->stage_built[dep] = 1;
        }
    }
}

static void mark_built(struct kctx *k, int target)
{
    int s;

    if (k->o->builder == BUILDER_LEGACY) {
        for (s = 0; s <= target; s++)
            k->stage_built[s] = 1;
        return;
    }
    k->stage_built[target] = 1;
    for (s = target; s >= 0; s--)
        if (k->stage_built[s])
            mark_stage_deps(k, s);
}

/* ---- per-instruction keys ---- */

static void fail_step(struct kctx *k, int idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_step(struct kctx *k, int idx, const char *fmt, ...)
{
    va_list ap;

    if (k->kb->failed || !k->kb->steps[idx].built)
        return; /* an error in a stage that is not built fails nothing */
    k->kb->failed = 1;
    k->kb->failed_step = idx;
    k->kb->failed_line = k->kb->steps[idx].line;
    va_start(ap, fmt);
    vsnprintf(k->kb->error, sizeof(k->kb->error), fmt, ap);
    va_end(ap);
}

/*
 * The key of the state a step leaves for the steps after it.  Usually its
 * own key; for a BuildKit COPY --link it is the merge op of the copy (keyed
 * on its source only) with the state before it, so a change before the
 * copy still reaches every later step (a later RUN still misses if
 * anything before it changed: BuildKit's COPY --link documentation).
 */
static void result_key_hex(const struct kctx *k, int i,
                           char out[7 + SHA256_HEX])
{
    const struct key_step *s = &k->kb->steps[i];
    unsigned char d[SHA256_LEN];
    char below[7 + SHA256_HEX];
    struct sha256 h;

    if (!s->link || s->parent < 0) {
        memcpy(out, s->key_hex, sizeof(s->key_hex));
        return;
    }
    result_key_hex(k, s->parent, below);
    sha256_init(&h);
    sha256_field(&h, "merge");
    sha256_field(&h, below);
    sha256_field(&h, s->key_hex);
    sha256_final(&h, d);
    digest_hex(d, out);
}

static void key_from(struct kctx *k, struct key_step *s,
                     const struct df_instr *in)
{
    const struct df_stage *st = &k->df->stages[in->stage];
    const char *digest;

    if (st->base_stage >= 0) {
        /* FROM <stage>: starts from that stage's result. */
        const struct key_step *src =
            &k->kb->steps[k->stage_last[st->base_stage]];
        char hex[7 + SHA256_HEX];
        s->parent = k->stage_last[st->base_stage];
        s->vertex = k->o->builder == BUILDER_LEGACY;
        result_key_hex(k, k->stage_last[st->base_stage], hex);
        part_add(s, "stage", in->line, "%s", hex);
        memcpy(s->content, src->content, SHA256_LEN);
        step_seal(k, s);
        env_chain(k, s, 0);
        return;
    }
    digest = base_digest(k, st->base);
    s->vertex = 1;
    if (digest)
        part_add(s, "base", in->line, "%s@%s", st->base, digest);
    else
        part_add(s, "base", in->line, "%s", st->base);
    part_add(s, "platform", in->line, "%s",
             st->platform ? st->platform : "");
    step_seal(k, s);
    digest_str(k, s->content, "image", s->parts[0].value);
    memcpy(s->out, s->content, SHA256_LEN);
    memcpy(s->outm, s->content, SHA256_LEN);
    s->wpath = "/";
    env_chain(k, s, 1);
}

static void add_parent(struct kctx *k, struct key_step *s)
{
    struct key_step *p;
    char *hex;

    if (s->parent < 0)
        return;
    p = &k->kb->steps[s->parent];
    if (!p->link) {
        /* the parent's own key, sealed before: its key_hex, shared */
        hex = p->key_hex;
    } else {
        hex = arena_alloc_uninit(s->arena, 7 + SHA256_HEX);
        result_key_hex(k, s->parent, hex);
    }
    part_put(s, "parent", p->line, hex, *hex ? 7 + SHA256_HEX - 1 : 0);
}

static void parent_content(struct kctx *k, const struct key_step *s,
                           unsigned char out[SHA256_LEN])
{
    if (s->parent >= 0)
        memcpy(out, k->kb->steps[s->parent].content, SHA256_LEN);
    else
        memset(out, 0, SHA256_LEN);
}

/* ---- the output model (doc/cache-rules.md section 8) ---- */

/* envc: the tools a later RUN runs with.  tool: this step's layer is one
 * of them (mixed in), else the parent's envc is kept. */
static void env_chain(struct kctx *k, struct key_step *s, int tool)
{
    unsigned char prev[SHA256_LEN];

    if (s->parent >= 0)
        memcpy(prev, k->kb->steps[s->parent].envc, SHA256_LEN);
    else
        memset(prev, 0, SHA256_LEN);
    if (tool && (s->wpath || s->nwpaths))
        content_mix(k, s->envc, prev, "tool", s->wpath ? s->wpath : "run",
                    s->outm);
    else
        memcpy(s->envc, prev, SHA256_LEN);
}

static void set_wpath(struct key_step *s, const char *path)
{
    char *clean = ignore_clean_path(path[0] == '/' ? path : "/");

    s->wpath = arena_strdup(s->arena, clean);
    free(clean);
}

static int has_glob(const char *s)
{
    return strpbrk(s, "*?[\\") != NULL;
}

/* Select one context path for copy_part(); 0 found (hashed into h), 1
 * nothing there, -1 unreadable (the caller takes the whole layer). */
static int sub_select(struct kctx *k, const char *src, int meta,
                      struct khash *h)
{
    struct ctx_selection sel;

    if (ctx_select(k->ctx, &src, 1, NULL, 0, 1, &sel, k->err) < 0) {
        int code = k->err->code;
        err_clear(k->err);
        return code == ERR_BUILD ? 1 : -1;
    }
    kh_field(h, src);
    kh_update(h, meta ? sel.digest : sel.content, SHA256_LEN);
    return 0;
}

/*
 * What the plain context COPY t puts at path p (under its destination):
 * for each source, the folder case (SRC/REL) and the file case (a source
 * whose name is REL), selected again from the context.  Anything it
 * cannot trace (p is the destination or holds it, a glob across the
 * destination, an unreadable source) takes the whole layer.
 */
static void copy_part(struct kctx *k, const struct key_step *t, const char *p,
                      int meta, struct khash *h)
{
    const struct df_instr *in = &k->df->instrs[t->instr];
    const char *d = t->wpath, *rel;
    size_t dl = strlen(d), i;
    int whole = 0;
    struct khash mh, ph;
    unsigned char mkey[SHA256_LEN], part[SHA256_LEN];

    if (!strcmp(d, "/"))
        rel = p + 1;
    else if (!strncmp(p, d, dl) && p[dl] == '/')
        rel = p + dl + 1;
    else
        rel = NULL;
    if (!rel || !*rel || has_glob(d)) {
        kh_update(h, meta ? t->outm : t->out, SHA256_LEN);
        return;
    }
    /* the same selection (outm: destination, names, modes and bytes of
     * what the COPY took) and the same sources give the same part */
    kh_init(k, &mh);
    kh_field(&mh, "copy-part");
    kh_update(&mh, t->outm, SHA256_LEN);
    for (i = 0; i + 1 < in->nargs; i++)
        kh_field(&mh, in->args[i]);
    kh_field(&mh, p);
    kh_field(&mh, meta ? "m" : "c");
    kh_final(&mh, mkey);
    if (ctx_memo_get(k->ctx, mkey, part)) {
        kh_update(h, part, SHA256_LEN);
        return;
    }
    kh_init(k, &ph);
    kh_field(&ph, "part");
    for (i = 0; i + 1 < in->nargs && !whole; i++) {
        char *src = ignore_clean_path(in->args[i]);
        const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
        struct buf c = BUF_INIT;
        int gb, gr;

        if (!strcmp(src, ".") || !strcmp(src, "/") || !*src)
            buf_adds(&c, rel);
        else
            buf_printf(&c, "%s/%s", src, rel);
        whole |= sub_select(k, buf_cstr(&c), meta, &ph) < 0;
        buf_reset(&c);
        gb = has_glob(base);
        gr = has_glob(rel);
        if (!strchr(rel, '/') && *base && strcmp(base, ".") &&
            (gb && gr   ? 1
             : gb       ? ignore_glob_match(base, rel) != 0
             : gr       ? ignore_glob_match(rel, base) != 0
                        : !strcmp(base, rel))) {
            if (gb && !gr)
                buf_printf(&c, "%.*s%s", (int)(base - src), src, rel);
            else
                buf_adds(&c, src);
            whole |= sub_select(k, buf_cstr(&c), meta, &ph) < 0;
        }
        buf_release(&c);
        free(src);
    }
    if (whole)
        kh_update(&ph, meta ? t->outm : t->out, SHA256_LEN);
    kh_final(&ph, part);
    ctx_memo_put(k->ctx, mkey, part);
    kh_update(h, part, SHA256_LEN);
}

/* What the state after step j holds at path p: the layers of its chain
 * that overlap p, newest first. */
static void state_at(struct kctx *k, int j, const char *p, int meta,
                     unsigned char out[SHA256_LEN])
{
    struct khash h;

    kh_init(k, &h);
    kh_field(&h, p);
    for (; j >= 0; j = k->kb->steps[j].parent) {
        const struct key_step *t = &k->kb->steps[j];
        size_t i;
        int hit = t->wpath && rr_paths_overlap(t->wpath, p);
        for (i = 0; !hit && i < t->nwpaths; i++)
            hit = rr_paths_overlap(t->wpaths[i], p);
        if (!hit)
            continue;
        if (t->ctxcopy && k->ctx)
            copy_part(k, t, p, meta, &h);
        else
            kh_update(&h, meta ? t->outm : t->out, SHA256_LEN);
    }
    kh_final(&h, out);
}

static void add_env(struct khash *h, const struct df_state *st)
{
    size_t i;

    for (i = 0; i < st->nargs; i++)
        if (st->args[i].value) {
            kh_field(h, st->args[i].name);
            kh_field(h, st->args[i].value);
        }
    for (i = 0; i < st->nenv; i++) {
        kh_field(h, st->env[i].name);
        kh_field(h, st->env[i].value ? st->env[i].value : "");
    }
}

/* The rule for a RUN's output: what runreads.c finds in its script, or
 * conservative for a mount or a shell harness does not read. */
static void run_rule(const struct df_instr *in, struct run_reads *rr)
{
    const struct df_state *st = &in->state;
    struct buf text = BUF_INIT;
    const char *why = NULL;
    size_t i;

    for (i = 0; i < in->nflags && !why; i++) {
        char *type;
        if (strcmp(in->flags[i].name, "mount"))
            continue;
        type = mount_field(in->flags[i].value, "type");
        if (type && (!strcmp(type, "cache") || !strcmp(type, "tmpfs"))) {
            free(type);
            continue;
        }
        why = "it mounts files (--mount)";
        free(type);
    }
    if (!why && !in->json && st->nshell) {
        const char *sh = strrchr(st->shell[0], '/');
        sh = sh ? sh + 1 : st->shell[0];
        if (strcmp(sh, "sh") && strcmp(sh, "bash") && strcmp(sh, "dash") &&
            strcmp(sh, "ash"))
            why = "its SHELL is not a POSIX shell";
    }
    if (why) {
        memset(rr, 0, sizeof(*rr));
        snprintf(rr->why, sizeof(rr->why), "%s", why);
        return;
    }
    for (i = 0; !in->json && i < in->nargs; i++)
        buf_printf(&text, "%s%s", i ? " " : "", in->args[i]);
    run_reads_analyze(rr, in->json ? NULL : buf_cstr(&text),
                      in->json ? in->args : NULL, in->json ? in->nargs : 0,
                      st->workdir, in->nheredocs);
    buf_release(&text);
}

/* out/outm/envc/reads of a RUN (s->content and s->key already set). */
static void run_output(struct kctx *k, struct key_step *s,
                       const struct df_instr *in, const char *cmd)
{
    const struct df_state *st = &in->state;
    struct run_reads rr;
    struct buf d = BUF_INIT;
    struct khash h;
    size_t i;

    run_rule(in, &rr);
    if (!rr.known || rr.write_all) {
        s->wpath = "/";
    } else {
        s->wpaths = arena_alloc(s->arena, (rr.nw + 1) * sizeof(char *));
        for (i = 0; i < rr.nw; i++)
            s->wpaths[i] = arena_strdup(s->arena, rr.w[i]);
        s->nwpaths = rr.nw;
    }
    if (rr.known) {
        unsigned char at[SHA256_LEN];
        kh_init(k, &h);
        kh_field(&h, "run-reads");
        kh_field(&h, cmd);
        kh_field(&h, st->user ? st->user : "");
        kh_field(&h, st->workdir ? st->workdir : "/");
        if (s->parent >= 0)
            kh_update(&h, k->kb->steps[s->parent].envc, SHA256_LEN);
        if (rr.env)
            add_env(&h, st);
        for (i = 0; i < rr.n; i++) {
            state_at(k, s->parent, rr.r[i].path, rr.r[i].meta, at);
            kh_update(&h, at, SHA256_LEN);
        }
        kh_final(&h, s->out);
    } else {
        /* new whenever it runs again: whenever its key changes */
        content_mix(k, s->out, s->content, "rerun", s->key_hex, NULL);
    }
    memcpy(s->outm, s->out, SHA256_LEN);
    env_chain(k, s, 1);
    run_reads_describe(&d, &rr);
    s->reads = arena_strdup(s->arena, buf_cstr(&d));
    buf_release(&d);
    run_reads_release(&rr);
}

static void key_run(struct kctx *k, struct key_step *s,
                    const struct df_instr *in, size_t idx)
{
    const struct df_state *st = &in->state;
    struct buf cmd = BUF_INIT;
    unsigned char prev[SHA256_LEN], mounts[SHA256_LEN];
    struct khash mh;
    struct df_var *vars;
    size_t i, n = 0;

    run_command(&cmd, in);
    s->vertex = 1;
    s->layer = 1;
    add_parent(k, s);
    part_add(s, "command", in->line, "%s", buf_cstr(&cmd));
    kh_init(k, &mh);

    /* Valued ARGs (legacy: those not shadowed by ENV, as "|N K=V";
     * BuildKit: ARG and ENV both set the state's one env list, so of an
     * ARG and an ENV of the same name the later declaration wins). */
    vars = xcalloc(st->nargs + st->nenv + 1, sizeof(*vars));
    for (i = 0; i < st->nargs; i++)
        if (st->args[i].value && !env_has(st, st->args[i].name))
            vars[n++] = st->args[i];
        else if (st->args[i].value && k->o->builder == BUILDER_BUILDKIT &&
                 arg_after_env(k, idx, in->stage, st->args[i].name))
            vars[n++] = st->args[i];
    qsort(vars, n, sizeof(*vars), cmp_var);
    for (i = 0; i < n; i++) {
        struct buf name = BUF_INIT;
        buf_printf(&name, "arg:%s", vars[i].name);
        part_add(s, arena_memdup(s->arena, name.ptr, name.len),
                 decl_line(k->df, idx, in->stage, DF_ARG, vars[i].name),
                 "%s", vars[i].value);
        buf_release(&name);
    }
    free(vars);

    if (k->o->builder == BUILDER_BUILDKIT) {
        for (i = 0; i < st->nenv; i++) {
            struct buf name = BUF_INIT;
            if (arg_after_env(k, idx, in->stage, st->env[i].name))
                continue; /* a later ARG replaced it (keyed as arg:) */
            buf_printf(&name, "env:%s", st->env[i].name);
            part_add(s, arena_memdup(s->arena, name.ptr, name.len),
                     decl_line(k->df, idx, in->stage, DF_ENV,
                               st->env[i].name),
                     "%s", st->env[i].value ? st->env[i].value : "");
            buf_release(&name);
        }
        part_add(s, "cwd", 0, "%s", st->workdir ? st->workdir : "/");
        part_add(s, "user", 0, "%s", st->user ? st->user : "");
        part_add(s, "network", in->line, "%s",
                 flag_value(in, "network") ? flag_value(in, "network")
                                           : "default");
        part_add(s, "security", in->line, "%s",
                 flag_value(in, "security") ? flag_value(in, "security")
                                            : "sandbox");
        for (i = 0; i < in->nflags; i++) {
            const char *spec = in->flags[i].value;
            char *type, *from, *source;
            if (strcmp(in->flags[i].name, "mount"))
                continue;
            type = mount_field(spec, "type");
            mount_part(s, in->line, spec, type);
            from = mount_field(spec, "from");
            source = mount_field(spec, "source");
            if (!source)
                source = mount_field(spec, "src");
            if (!type || !strcmp(type, "bind")) {
                int fs = stage_ref(k->df, from, in->stage);
                if (fs >= 0) {
                    const struct key_step *src =
                        &k->kb->steps[k->stage_last[fs]];
                    s->source = k->stage_last[fs];
                    content_mix(k, mounts, src->content, "mount",
                                source ? source : "/", NULL);
                    part_digest(s, "mount-content", in->line, mounts);
                    kh_update(&mh, mounts, SHA256_LEN);
                } else if (!from && k->ctx) {
                    struct ctx_selection sel;
                    const char *src = source && *source ? source : ".";
                    if (ctx_select(k->ctx, &src, 1, NULL, 0, 0, &sel,
                                   k->err) == 0) {
                        part_digest(s, "mount-content", in->line,
                                    sel.digest);
                        kh_update(&mh, sel.digest, SHA256_LEN);
                    } else if (k->err->code == ERR_BUILD) {
                        fail_step(k, (int)(s - k->kb->steps), "%s:%d: %s",
                                  k->df->path, in->line, k->err->msg);
                        err_clear(k->err);
                    }
                }
            }
            free(type);
            free(from);
            free(source);
        }
    } else if (in->nflags) {
        for (i = 0; i < in->nflags; i++)
            if (!strcmp(in->flags[i].name, "mount") ||
                !strcmp(in->flags[i].name, "network") ||
                !strcmp(in->flags[i].name, "security"))
                fail_step(k, (int)(s - k->kb->steps),
                          "%s:%d: the --%s flag requires BuildKit",
                          k->df->path, in->line, in->flags[i].name);
    }
    step_seal(k, s);
    parent_content(k, s, prev);
    kh_final(&mh, mounts);
    content_mix(k, s->content, prev, "run", buf_cstr(&cmd), mounts);
    run_output(k, s, in, buf_cstr(&cmd));
    buf_release(&cmd);
}

/* Content checksum of the sources of a COPY/ADD into sel. */
static int copy_sources(struct kctx *k, struct key_step *s,
                        const struct df_instr *in, int from_stage,
                        struct ctx_selection *sel)
{
    size_t nsrc = in->nargs ? in->nargs - 1 : 0, i, nctx = 0, nex = 0;
    const char **ctxsrc = xcalloc(nsrc + 1, sizeof(*ctxsrc));
    const char **ex = xcalloc(in->nflags + 1, sizeof(*ex));
    struct khash h, hc; /* the key's checksum; the content identity */
    int rc = 0;

    memset(sel, 0, sizeof(*sel));
    kh_init(k, &h);
    kh_init(k, &hc);
    for (i = 0; i < in->nflags; i++)
        if (!strcmp(in->flags[i].name, "exclude"))
            ex[nex++] = in->flags[i].value;
    for (i = 0; i < nsrc; i++) {
        const char *src = in->args[i];
        const struct df_heredoc *hd = heredoc_src(in, src);
        unsigned char d[SHA256_LEN];

        if (hd) {
            digest_str(k, d, hd->name, hd->content);
            sel->nfiles++;
            sel->bytes += strlen(hd->content);
        } else if (from_stage >= 0) {
            /* the layers of that stage under the path it copies: a
             * re-run with identical output keeps them (section 8) */
            unsigned char at[SHA256_LEN];
            struct buf abs = BUF_INIT;
            char *clean;
            buf_printf(&abs, "/%s", src);
            clean = ignore_clean_path(buf_cstr(&abs));
            state_at(k, k->stage_last[from_stage], clean, 1, at);
            content_mix(k, d, at, "path", src, NULL);
            free(clean);
            buf_release(&abs);
        } else if (in->kind == DF_ADD && is_remote_src(src)) {
            const char *sum = flag_value(in, "checksum");
            if (sum)
                digest_str(k, d, "checksum", sum);
            else if (k->o->remote_changes) {
                char nonce[32];
                snprintf(nonce, sizeof(nonce), "%llu",
                         (unsigned long long)k->o->build_nonce);
                content_mix(k, d, NULL, src, nonce, NULL);
            } else {
                digest_str(k, d, "remote", src);
            }
            part_add(s, "remote", in->line, "%s (%s)", src,
                     sum ? "pinned by --checksum"
                         : k->o->remote_changes
                               ? "assumed to change on every build"
                               : "assumed unchanged between builds");
        } else if (flag_value(in, "from")) {
            /* --from=<image>: the image's files, named by the reference */
            digest_str(k, d, flag_value(in, "from"), src);
        } else {
            ctxsrc[nctx++] = src;
            continue;
        }
        kh_update(&h, d, SHA256_LEN);
        kh_update(&hc, d, SHA256_LEN);
    }
    if (nctx && k->ctx) {
        /* A wildcard source that matches nothing: BuildKit's Dockerfile
         * frontend copies the other sources (or nothing); the legacy
         * builder fails only when no source matched at all
         * (doc/cache-rules.md, "COPY sources"). */
        size_t kept = 0, empty = 0, j;
        for (j = 0; j < nctx; j++) {
            int m = 1;
            if (ignore_has_glob(ctxsrc[j]) &&
                (m = ctx_src_matches(k->ctx, ctxsrc[j], k->err)) < 0) {
                rc = m;
                goto out;
            }
            if (m == 0)
                empty++;
            else
                ctxsrc[kept++] = ctxsrc[j];
        }
        if (empty && !kept && k->o->builder == BUILDER_LEGACY) {
            rc = err_set(k->err, ERR_BUILD,
                         "COPY failed: no source files were specified");
            goto out;
        }
        nctx = kept;
    }
    if (nctx) {
        if (!k->ctx) {
            rc = err_set(k->err, ERR_INVALID,
                         "%s:%d: COPY reads the build context but none was given",
                         k->df->path, in->line);
            goto out;
        }
        /* Legacy tarsums name each file by its path in the context, so
         * COPY a/x and COPY b/x with equal content differ; BuildKit keeps
         * only the basename of a source (and paths under a folder
         * source).  ctx_select() names matches by their context path when
         * asked for --parents, which is the legacy naming. */
        rc = ctx_select(k->ctx, ctxsrc, nctx, ex, nex,
                        flag_present(in, "parents") ||
                            k->o->builder == BUILDER_LEGACY,
                        sel, k->err);
        if (rc < 0)
            goto out;
        kh_update(&h, sel->digest, SHA256_LEN);
        kh_update(&hc, sel->content, SHA256_LEN);
    }
    kh_final(&h, sel->digest);
    kh_final(&hc, sel->content);
out:
    free(ctxsrc);
    free(ex);
    return rc;
}

static void dest_path(struct buf *b, const struct df_instr *in)
{
    const char *dest = in->nargs ? in->args[in->nargs - 1] : "";
    const char *wd = in->state.workdir ? in->state.workdir : "/";

    if (dest[0] == '/')
        buf_adds(b, dest);
    else
        buf_printf(b, "%s%s%s", wd,
                   wd[strlen(wd) - 1] == '/' ? "" : "/", dest);
}

static int key_copy(struct kctx *k, struct key_step *s,
                    const struct df_instr *in)
{
    const char *from = flag_value(in, "from");
    int from_stage = stage_ref(k->df, from, in->stage);
    int link = k->o->builder == BUILDER_BUILDKIT && flag_present(in, "link");
    struct ctx_selection sel;
    struct buf dest = BUF_INIT;
    unsigned char prev[SHA256_LEN];
    int rc;

    s->vertex = 1;
    s->layer = 1;
    if (from_stage >= 0)
        s->source = k->stage_last[from_stage];
    if (k->o->builder == BUILDER_LEGACY) {
        const char *bad[] = { "chmod", "parents", "exclude" };
        size_t i;
        for (i = 0; i < 3; i++)
            if (flag_present(in, bad[i]))
                fail_step(k, (int)(s - k->kb->steps),
                          "%s:%d: the --%s flag requires BuildKit",
                          k->df->path, in->line, bad[i]);
    }
    if (link && flag_present(in, "chmod"))
        link = 0; /* the frontend drops --link when --chmod is set */
    s->link = link;
    if (!link)
        add_parent(k, s);
    dest_path(&dest, in);
    part_add(s, "dest", in->line, "%s", buf_cstr(&dest));
    part_add(s, "chown", in->line, "%s",
             flag_value(in, "chown") ? flag_value(in, "chown") : "");
    if (k->o->builder == BUILDER_BUILDKIT)
        part_add(s, "chmod", in->line, "%s",
                 flag_value(in, "chmod") ? flag_value(in, "chmod") : "");
    if (from)
        part_add(s, "from", in->line, "%s", from);

    rc = copy_sources(k, s, in, from_stage, &sel);
    if (rc == ERR_BUILD) {
        fail_step(k, (int)(s - k->kb->steps), "%s:%d: %s", k->df->path,
                  in->line, k->err->msg);
        err_clear(k->err);
        memset(&sel, 0, sizeof(sel));
    } else if (rc < 0) {
        buf_release(&dest);
        return rc;
    }
    s->nfiles = sel.nfiles;
    s->bytes = sel.bytes;
    s->git_dir = sel.has_git_dir;
    part_digest(s, from_stage >= 0 ? "from-content" : "source", in->line,
                sel.digest);
    step_seal(k, s);
    if (link)
        memset(prev, 0, sizeof(prev));
    else
        parent_content(k, s, prev);
    if (link && s->parent >= 0) {
        unsigned char base[SHA256_LEN];
        parent_content(k, s, base);
        content_mix(k, prev, base, "merge", "", NULL);
    }
    /* the files it adds, as contents: a rename or chmod in the sources
     * keeps what a later RUN would produce (see "content model") */
    content_mix(k, s->content, prev, buf_cstr(&dest), "copy", sel.content);
    content_mix(k, s->out, NULL, buf_cstr(&dest), "copy", sel.content);
    content_mix(k, s->outm, NULL, buf_cstr(&dest), "copy", sel.digest);
    set_wpath(s, buf_cstr(&dest));
    {
        /* files from the context are data a RUN reads only by name,
         * unless they land where tools live */
        int local = !from, i;
        for (i = 0; local && i + 1 < (int)in->nargs; i++)
            if (heredoc_src(in, in->args[i]) ||
                (in->kind == DF_ADD && is_remote_src(in->args[i])))
                local = 0;
        s->ctxcopy = local && in->kind == DF_COPY &&
                     !flag_present(in, "exclude") &&
                     !flag_present(in, "parents");
        env_chain(k, s, !local || rr_system_path(s->wpath));
    }
    buf_release(&dest);
    return 0;
}

static void key_workdir(struct kctx *k, struct key_step *s,
                        const struct df_instr *in)
{
    const char *path = in->nargs ? in->args[0] : "/";
    unsigned char prev[SHA256_LEN];
    const struct key_part *p;

    s->vertex = 1;
    s->layer = 1;
    add_parent(k, s);
    if (path[0] == '/' || !in->state.workdir)
        part_add(s, "path", in->line, "%s", path);
    else
        part_add(s, "path", in->line, "%s/%s", in->state.workdir, path);
    if (k->o->builder == BUILDER_BUILDKIT) {
        part_add(s, "user", 0, "%s", in->state.user ? in->state.user : "");
        if (!strcmp(path, "/"))
            s->vertex = 0, s->layer = 0;
    } else {
        s->layer = 0; /* legacy: empty unless the folder is new */
    }
    if (s->vertex)
        step_seal(k, s);
    else if (s->parent >= 0)
        memcpy(s->key, k->kb->steps[s->parent].key, SHA256_LEN);
    parent_content(k, s, prev);
    p = key_step_part(s, "path");
    content_mix(k, s->content, prev, "mkdir", p ? p->value : path, NULL);
    if (s->vertex) {
        digest_str(k, s->out, "mkdir", p ? p->value : path);
        memcpy(s->outm, s->out, SHA256_LEN);
        set_wpath(s, p ? p->value : path);
    }
    env_chain(k, s, 1);
}

/* Legacy: every other instruction commits an image keyed on its text. */
static void key_meta_legacy(struct kctx *k, struct key_step *s,
                            const struct df_instr *in)
{
    char *text;
    size_t i, len;

    s->vertex = 1;
    add_parent(k, s);
    if (in->kind == DF_ENV || in->kind == DF_LABEL) {
        /* "KIND name=value ...", gathered in the scratch buffer, then
         * into the arena (every legacy ENV and LABEL of every commit
         * comes here: each string is measured once) */
        struct buf *b = &k->scratch;
        buf_reset(b);
        buf_adds(b, df_kind_name(in->kind));
        for (i = 0; i < in->nvars; i++) {
            size_t n = strlen(in->vars[i].name);
            size_t v = in->vars[i].value ? strlen(in->vars[i].value) : 0;
            buf_grow(b, n + v + 2);
            b->ptr[b->len++] = ' ';
            memcpy(b->ptr + b->len, in->vars[i].name, n);
            b->len += n;
            b->ptr[b->len++] = '=';
            memcpy(b->ptr + b->len, in->vars[i].value ? in->vars[i].value : "",
                   v);
            b->len += v;
        }
        len = b->len;
        text = arena_memdup(s->arena, b->ptr, len);
    } else {
        len = strlen(in->original);
        text = arena_memdup(s->arena, in->original, len);
    }
    part_put(s, "instruction", in->line, text, len);
    step_seal(k, s);
    parent_content(k, s, s->content);
    env_chain(k, s, 0);
}

static int key_step(struct kctx *k, size_t stepi, size_t instr, int parent)
{
    const struct df_instr *in = &k->df->instrs[instr];
    struct key_step *s = &k->kb->steps[stepi];

    s->instr = instr;
    s->stage = in->stage;
    s->line = in->line;
    s->kind = in->kind;
    s->parent = parent;
    s->source = -1;
    s->built = k->stage_built[in->stage];
    if (k->df->stages[in->stage].error &&
        k->df->stages[in->stage].error_line == in->line)
        fail_step(k, (int)stepi, "%s", k->df->stages[in->stage].error);
    switch (in->kind) {
    case DF_FROM:
        s->parent = -1;
        key_from(k, s, in);
        return 0;
    case DF_RUN:
        key_run(k, s, in, instr);
        return 0;
    case DF_COPY:
    case DF_ADD:
        return key_copy(k, s, in);
    case DF_WORKDIR:
        key_workdir(k, s, in);
        return 0;
    default:
        break;
    }
    if (k->o->builder == BUILDER_LEGACY) {
        key_meta_legacy(k, s, in);
        return 0;
    }
    /* BuildKit: no vertex; the state keeps the last vertex's result. */
    s->vertex = 0;
    if (parent >= 0) {
        memcpy(s->key, k->kb->steps[parent].key, SHA256_LEN);
        memcpy(s->content, k->kb->steps[parent].content, SHA256_LEN);
    }
    env_chain(k, s, 0);
    return 0;
}

/* Layers of the target's image: its stage chain through FROM <stage>. */
static void mark_final(struct kctx *k)
{
    int s = k->kb->target;
    size_t i;

    while (s >= 0) {
        for (i = 0; i < k->kb->nsteps; i++) {
            struct key_step *st = &k->kb->steps[i];
            if (st->stage == s &&
                (st->layer || (st->kind == DF_FROM &&
                               k->df->stages[s].base_stage < 0)))
                st->in_final = 1;
        }
        s = k->df->stages[s].base_stage;
    }
}

/* The slot a key starts probing at: keys are SHA-256, so any 8 of their
 * bytes are as good as a hash. */
static size_t index_slot(const struct key_build *kb, const unsigned char *key)
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (size_t)h & kb->index_mask;
}

/* Index the vertices by key; the first step of a key keeps the slot, as
 * the scan of key_build_find() would find it first. */
static void index_steps(struct key_build *kb)
{
    size_t cap = 16;

    if (kb->nsteps > UINT32_MAX / 4)
        return; /* key_build_find() scans */
    while (cap < 2 * kb->nsteps)
        cap *= 2;
    kb->index = arena_alloc(&kb->arena, cap * sizeof(*kb->index));
    kb->index_mask = cap - 1;
    for (size_t i = 0; i < kb->nsteps; i++) {
        const unsigned char *key = kb->steps[i].key;
        size_t at = index_slot(kb, key);
        if (!kb->steps[i].vertex)
            continue;
        while (kb->index[at] &&
               memcmp(kb->steps[kb->index[at] - 1].key, key, SHA256_LEN))
            at = (at + 1) & kb->index_mask;
        if (!kb->index[at])
            kb->index[at] = (uint32_t)i + 1;
    }
}

/*
 * dockerd 20.10 embeds BuildKit with a Dockerfile frontend older than the
 * current one.  It parses every instruction of the file before it builds
 * anything, so a flag it does not know stops the build before any step
 * runs, whichever stage the flag is in ("Unknown flag: link").  Measured
 * on Docker 20.10.24 (doc/cache-rules.md section 6); flags it accepts,
 * such as COPY --chmod and RUN --mount, are not listed.
 */
static const struct {
    enum df_kind kind;
    const char *flag;
} frontend_2010_unknown[] = {
    { DF_COPY, "parents" },     { DF_COPY, "link" },   { DF_COPY, "exclude" },
    { DF_ADD, "link" },         { DF_ADD, "exclude" }, { DF_ADD, "checksum" },
    { DF_ADD, "keep-git-dir" }, { DF_RUN, "network" }, { DF_RUN, "security" },
};

/* The message with which dockerd 20.10's frontend refuses in, or NULL. */
static const char *frontend_2010_refusal(const struct df_instr *in)
{
    size_t i, j;

    for (i = 0; i < in->nflags; i++)
        for (j = 0; j < sizeof(frontend_2010_unknown) /
                            sizeof(frontend_2010_unknown[0]);
             j++)
            if (frontend_2010_unknown[j].kind == in->kind &&
                !strcmp(frontend_2010_unknown[j].flag, in->flags[i].name))
                return in->flags[i].name;
    return NULL;
}

/*
 * The old frontend has no heredocs: it reads `RUN <<EOF` as a shell
 * command and each line of the body, and the delimiter, as an instruction
 * of its own, so the first of them that does not start with an instruction
 * keyword stops the build ("unknown instruction: TRUE"; empty and comment
 * lines are skipped).  Its line and word go into line and word (upper
 * case, as the engine prints it); 0 if every line reads as an instruction.
 */
static int heredoc_2010_refusal(const struct df_instr *in, int *line,
                                char *word, size_t wordsz)
{
    int nlines = 0, at;
    size_t h;

    for (h = 0; h < in->nheredocs; h++) {
        const char *c;
        for (c = in->heredocs[h].content; *c; c++)
            nlines += *c == '\n';
        nlines++; /* the delimiter */
    }
    at = in->end_line - nlines + 1;
    for (h = 0; h < in->nheredocs; h++) {
        const char *c = in->heredocs[h].content, *end;
        for (;;) {
            const char *l;
            enum df_kind kind;
            size_t n = 0;
            int last = !*c;
            if (last)
                c = in->heredocs[h].name;
            end = last ? c + strlen(c) : strchr(c, '\n');
            if (!end)
                end = c + strlen(c);
            for (l = c; l < end && (*l == ' ' || *l == '\t'); l++)
                ;
            while (l + n < end && l[n] != ' ' && l[n] != '\t' && n + 1 < wordsz)
                n++;
            if (n && *l != '#') {
                memcpy(word, l, n);
                word[n] = '\0';
                if (df_kind_parse(&kind, word) < 0) {
                    for (size_t i = 0; i < n; i++)
                        word[i] = (char)toupper((unsigned char)word[i]);
                    *line = at;
                    return 1;
                }
            }
            at++;
            if (last)
                break;
            c = *end ? end + 1 : end;
        }
    }
    return 0;
}

/* Under frontend_2010, fail the build at its first step (the engine parses
 * the whole file before it runs anything, stages it does not build
 * included) with the first thing the old frontend refuses, in file
 * order. */
static void frontend_2010_check(struct kctx *k)
{
    size_t i;

    if (!k->o->frontend_2010 || k->o->builder != BUILDER_BUILDKIT ||
        !k->kb->nsteps)
        return;
    if (k->df->syntax && *k->df->syntax)
        return; /* `# syntax=`: the engine runs that frontend image instead */
    for (i = 0; i < k->df->ninstrs; i++) {
        const struct df_instr *in = &k->df->instrs[i];
        const char *flag = frontend_2010_refusal(in);
        char word[64];
        int line = in->line;
        if (flag) {
            snprintf(k->kb->error, sizeof(k->kb->error),
                     "%s:%d: Unknown flag: %s (dockerd 20.10's Dockerfile "
                     "frontend)",
                     k->df->path, in->line, flag);
        } else if (heredoc_2010_refusal(in, &line, word, sizeof(word))) {
            snprintf(k->kb->error, sizeof(k->kb->error),
                     "%s:%d: unknown instruction: %s (dockerd 20.10's "
                     "Dockerfile frontend has no heredocs)",
                     k->df->path, line, word);
        } else {
            continue;
        }
        k->kb->failed = 1;
        k->kb->failed_step = 0;
        k->kb->failed_line = line;
        return;
    }
}

int keys_compute(struct key_build **out, const struct df_file *df,
                 struct ctx *ctx, const struct keys_options *opts,
                 struct err *err)
{
    struct kctx k;
    struct key_build *kb = NULL;
    size_t i, n = 0;
    int rc = 0, target, last_vertex = -1, stage = -1;

    *out = NULL;
    if (!df->nstages)
        return err_set(err, ERR_INVALID, "%s: no FROM instruction",
                       df->path);
    if (opts->target) {
        target = df_stage_find(df, opts->target);
        if (target < 0)
            return err_set(err, ERR_INVALID,
                           "%s: target stage '%s' not found", df->path,
                           opts->target);
    } else {
        target = (int)df->nstages - 1;
    }
    kb = xcalloc(1, sizeof(*kb));
    kb->refs = 1;
    kb->builder = opts->builder;
    kb->target = target;
    kb->failed_step = -1;
    kb->steps = xcalloc(df->ninstrs + 1, sizeof(*kb->steps));
    for (i = 0; i <= df->ninstrs; i++)
        kb->steps[i].arena = &kb->arena;
    memset(&k, 0, sizeof(k));
    k.df = df;
    k.ctx = ctx;
    k.o = opts;
    k.kb = kb;
    k.err = err;
    k.stage_last = xcalloc(df->nstages, sizeof(int));
    k.stage_built = xcalloc(df->nstages, sizeof(int));
    mark_built(&k, target);

    for (i = 0; i < df->ninstrs; i++) {
        const struct df_instr *in = &df->instrs[i];
        int parent;
        if (in->stage < 0)
            continue; /* global ARGs only feed FROM lines */
        if (in->stage != stage) {
            stage = in->stage;
            last_vertex = -1;
        }
        parent = n > 0 && kb->steps[n - 1].stage == stage ? (int)n - 1 : -1;
        if (opts->builder == BUILDER_BUILDKIT)
            parent = last_vertex;
        kb->nsteps = n + 1;
        rc = key_step(&k, n, i, parent);
        if (rc < 0)
            goto out;
        if (kb->steps[n].vertex || in->kind == DF_FROM)
            last_vertex = (int)n;
        k.stage_last[stage] = last_vertex >= 0 ? last_vertex : (int)n;
        n++;
    }
    kb->nsteps = n;
    frontend_2010_check(&k);
    mark_final(&k);
    index_steps(kb);
out:
    free(k.stage_last);
    free(k.stage_built);
    buf_release(&k.scratch);
    if (rc < 0) {
        key_build_free(kb);
        return rc;
    }
    *out = kb;
    return 0;
}

void key_build_free(struct key_build *kb)
{
    if (!kb || --kb->refs > 0)
        return;
    arena_release(&kb->arena);
    free(kb->hashes);
    free(kb->steps);
    free(kb);
}

struct key_build *key_build_ref(struct key_build *kb)
{
    kb->refs++;
    return kb;
}

int key_build_find(const struct key_build *kb, const unsigned char *key)
{
    size_t i;

    if (kb->index) {
        for (i = index_slot(kb, key); kb->index[i];
             i = (i + 1) & kb->index_mask)
            if (!memcmp(kb->steps[kb->index[i] - 1].key, key, SHA256_LEN))
                return (int)kb->index[i] - 1;
        return -1;
    }
    for (i = 0; i < kb->nsteps; i++)
        if (kb->steps[i].vertex && !memcmp(kb->steps[i].key, key, SHA256_LEN))
            return (int)i;
    return -1;
}

int key_same_base_before(const struct key_build *kb, size_t i)
{
    const struct key_part *a = key_step_part(&kb->steps[i], "base"), *b;

    if (kb->steps[i].kind != DF_FROM || !a)
        return -1;
    for (size_t j = 0; j < i; j++) {
        if (kb->steps[j].kind != DF_FROM || !kb->steps[j].built)
            continue;
        b = key_step_part(&kb->steps[j], "base");
        if (b && !strcmp(a->value, b->value))
            return (int)j;
    }
    return -1;
}

const struct key_part *key_step_part(const struct key_step *s,
                                     const char *name)
{
    size_t i;

    for (i = 0; i < s->nparts; i++)
        if (!strcmp(s->parts[i].name, name))
            return &s->parts[i];
    return NULL;
}
