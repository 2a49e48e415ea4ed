/*
 * buildlog.c - parsers for real build logs and `docker history` (see
 * buildlog.h).
 *
 * Everything works on (pointer, length) slices of the input, never on C
 * strings, so NUL bytes and a missing final newline are harmless.  A vertex
 * table maps BuildKit's "#N" to a step or another vertex; lookups remember
 * the last vertex because status lines come in runs of the same one.
 */
#include "buildlog.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct slice {
    const char *p;
    size_t n;
};

static const char *const format_names[] = { "buildkit", "legacy" };
static const char *const outcome_names[] = { "hit", "miss", "none" };

const char *buildlog_format_name(enum buildlog_format f)
{
    return (unsigned)f < 2 ? format_names[f] : "?";
}

const char *buildlog_outcome_name(enum buildlog_outcome o)
{
    return (unsigned)o < 3 ? outcome_names[o] : "?";
}

/* ---- slices ---- */

static int next_line(const char *text, size_t len, size_t *pos,
                     struct slice *out)
{
    const char *nl;

    if (*pos >= len)
        return 0;
    out->p = text + *pos;
    nl = memchr(out->p, '\n', len - *pos);
    out->n = nl ? (size_t)(nl - out->p) : len - *pos;
    *pos += out->n + (nl ? 1 : 0);
    if (out->n && out->p[out->n - 1] == '\r')
        out->n--;
    return 1;
}

static int starts(struct slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && !memcmp(s.p, prefix, n);
}

static struct slice skip(struct slice s, size_t n)
{
    if (n > s.n)
        n = s.n;
    s.p += n;
    s.n -= n;
    return s;
}

static struct slice trim(struct slice s)
{
    while (s.n && isspace((unsigned char)s.p[0]))
        s = skip(s, 1);
    while (s.n && isspace((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

static int is_blank(struct slice s)
{
    return trim(s).n == 0;
}

/* Read a decimal number of at most 9 digits; 0 if there is none. */
static int read_uint(struct slice *s, int *out)
{
    size_t i = 0;
    long v = 0;

    while (i < s->n && isdigit((unsigned char)s->p[i])) {
        if (i == 9)
            return 0;
        v = v * 10 + (s->p[i] - '0');
        i++;
    }
    if (!i)
        return 0;
    *out = (int)v;
    *s = skip(*s, i);
    return 1;
}

/* The subject of a message: at most 80 printable characters. */
static void quote(char out[96], struct slice s)
{
    size_t i, n = s.n > 80 ? 80 : s.n;

    for (i = 0; i < n; i++)
        out[i] = isprint((unsigned char)s.p[i]) ? s.p[i] : '?';
    if (n < s.n) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static int fail(struct err *err, const char *path, int line, const char *what,
                struct slice subject)
{
    char q[96];

    quote(q, subject);
    return err_set_at(err, ERR_PARSE, path, line, "%s '%s'", what, q);
}

/* A copy with runs of blanks collapsed to one space, ends trimmed. */
static char *collapse(struct slice s)
{
    struct buf b = BUF_INIT;
    size_t i;
    int space = 0;

    s = trim(s);
    for (i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (isspace(c)) {
            space = 1;
            continue;
        }
        if (space)
            buf_addch(&b, ' ');
        space = 0;
        buf_addch(&b, c ? (char)c : '?');
    }
    return buf_detach(&b);
}

static void keyword_of(char out[16], const char *text)
{
    size_t i;

    for (i = 0; i < 15 && text[i] && text[i] != ' '; i++)
        out[i] = (char)toupper((unsigned char)text[i]);
    out[i] = '\0';
}

/* "1.2s" -> 1.2; 0 on success. */
static int parse_secs(struct slice s, double *out)
{
    char tmp[32], *end;
    double v;

    if (s.n < 2 || s.n >= sizeof(tmp) || s.p[s.n - 1] != 's' ||
        !isdigit((unsigned char)s.p[0]))
        return -1;
    memcpy(tmp, s.p, s.n - 1);
    tmp[s.n - 1] = '\0';
    v = strtod(tmp, &end);
    if (*end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

int buildlog_size_parse(const char *s, size_t len, int64_t *out)
{
    static const char *const units[] = {
        "B", "kB", "MB", "GB", "TB", "PB", "KB"
    };
    static const double mult[] = { 1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e3 };
    char tmp[32], *end;
    double v;
    size_t i;

    if (!len || len >= sizeof(tmp) || !isdigit((unsigned char)s[0]))
        return ERR_PARSE;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    v = strtod(tmp, &end);
    if (end == tmp || !isfinite(v) || v < 0)
        return ERR_PARSE;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(end, units[i])) {
            v *= mult[i];
            if (v >= 9e18)
                return ERR_PARSE;
            *out = (int64_t)llround(v);
            return 0;
        }
    return ERR_PARSE;
}

/* ---- BuildKit ---- */

enum vstatus { VS_NONE, VS_DONE, VS_CACHED, VS_ERROR };

struct vslot {
    int id;
    int is_step;
    size_t idx; /* into steps or vertices */
    enum vstatus status;
    double seconds;
    char *name; /* as first printed, blanks collapsed */
};

struct bkparse {
    struct buildlog *log;
    struct vslot *slots;
    size_t nslots, cap;
    size_t last; /* slot of the last lookup */
    size_t scap, vcap, bcap;
    const char *path;
    struct err *err;
};

static struct vslot *slot_find(struct bkparse *bp, int id)
{
    size_t i;

    if (bp->last < bp->nslots && bp->slots[bp->last].id == id)
        return &bp->slots[bp->last];
    for (i = 0; i < bp->nslots; i++)
        if (bp->slots[i].id == id) {
            bp->last = i;
            return &bp->slots[i];
        }
    return NULL;
}

/* "[label k/n]": split the label's last word k/n from the stage part. */
static int step_label(struct slice label, struct slice *stage, int *k, int *n)
{
    struct slice s = label, num;
    size_t i = label.n;

    while (i && label.p[i - 1] != ' ')
        i--;
    num = skip(label, i);
    if (!read_uint(&num, k) || !num.n || num.p[0] != '/')
        return 0;
    num = skip(num, 1);
    if (!read_uint(&num, n) || num.n)
        return 0;
    s.n = i;
    s = trim(s);
    /* a platform prefix ("linux/amd64 builder") is not the stage name */
    i = s.n;
    while (i && s.p[i - 1] != ' ')
        i--;
    *stage = skip(s, i);
    if (memchr(stage->p, '/', stage->n))
        stage->n = 0;
    return 1;
}

static int bk_name(struct bkparse *bp, int id, struct slice name, int lineno,
                   struct slice line)
{
    struct buildlog *log = bp->log;
    struct vslot *v;
    char *text = collapse(name);
    const char *rb;
    struct slice label, stage = { NULL, 0 };
    int k = 0, n = 0;

    v = slot_find(bp, id);
    if (v) {
        int same = !strcmp(v->name, text);
        free(text);
        if (!same)
            return fail(bp->err, bp->path, lineno,
                        "vertex renamed in this line", line);
        return 0;
    }
    XGROW(bp->slots, bp->cap, bp->nslots + 1);
    v = &bp->slots[bp->nslots];
    memset(v, 0, sizeof(*v));
    v->id = id;
    v->seconds = -1;
    v->name = xstrdup(text);
    if (text[0] == '[') {
        rb = strchr(text, ']');
        if (!rb) {
            free(v->name);
            free(text);
            return fail(bp->err, bp->path, lineno, "malformed vertex line",
                        line);
        }
        label.p = text + 1;
        label.n = (size_t)(rb - text - 1);
        if (step_label(label, &stage, &k, &n)) {
            struct buildlog_step *st;
            if (k < 1 || k > n) {
                free(v->name);
                free(text);
                return fail(bp->err, bp->path, lineno, "step k/n out of range",
                            line);
            }
            while (*++rb == ' ')
                ;
            if (!*rb) {
                free(v->name);
                free(text);
                return fail(bp->err, bp->path, lineno,
                            "step with no instruction", line);
            }
            XGROW(log->steps, bp->scap, log->nsteps + 1);
            st = &log->steps[log->nsteps];
            memset(st, 0, sizeof(*st));
            st->vertex = id;
            st->log_line = lineno;
            st->label = stage.n ? xstrndup(stage.p, stage.n) : NULL;
            st->index = k;
            st->total = n;
            st->text = xstrdup(rb);
            keyword_of(st->keyword, st->text);
            st->seconds = -1;
            st->stage = -1;
            v->is_step = 1;
            v->idx = log->nsteps++;
            bp->last = bp->nslots++;
            free(text);
            return 0;
        }
    }
    XGROW(log->vertices, bp->vcap, log->nvertices + 1);
    memset(&log->vertices[log->nvertices], 0, sizeof(log->vertices[0]));
    log->vertices[log->nvertices].vertex = id;
    log->vertices[log->nvertices].log_line = lineno;
    log->vertices[log->nvertices].name = text;
    log->vertices[log->nvertices].seconds = -1;
    v->idx = log->nvertices++;
    bp->last = bp->nslots++;
    return 0;
}

static int is_hex64(struct slice s)
{
    size_t i;

    if (s.n < 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s.p[i]))
            return 0;
    return s.n == 64 || s.p[64] == ' ';
}

/* "sha256:<hex> 1.07MB / 1.07MB 0.3s done" or "pulling sha256:<hex> ..." */
static void bk_blob(struct bkparse *bp, int id, struct slice s, int cache)
{
    struct buildlog *log = bp->log;
    struct buildlog_blob *b = NULL;
    struct slice hex = skip(s, 7), rest, w[6];
    size_t i, nw = 0;

    rest = trim(skip(hex, 64));
    for (i = log->nblobs; i-- > 0;)
        if (log->blobs[i].vertex == id &&
            !memcmp(log->blobs[i].digest + 7, hex.p, 64)) {
            b = &log->blobs[i];
            break;
        }
    if (!b) {
        XGROW(log->blobs, bp->bcap, log->nblobs + 1);
        b = &log->blobs[log->nblobs++];
        memset(b, 0, sizeof(*b));
        b->vertex = id;
        memcpy(b->digest, "sha256:", 7);
        memcpy(b->digest + 7, hex.p, 64);
        b->bytes = -1;
        b->seconds = -1;
    }
    b->cache = b->cache || cache;
    /* the words after the digest: [CUR / TOTAL] [TIME] [done] */
    while (rest.n && nw < 6) {
        size_t j = 0;
        while (j < rest.n && rest.p[j] != ' ')
            j++;
        w[nw].p = rest.p;
        w[nw++].n = j;
        rest = trim(skip(rest, j));
    }
    for (i = 0; i < nw; i++) {
        double secs;
        if (w[i].n == 4 && !memcmp(w[i].p, "done", 4))
            b->done = 1;
        else if (w[i].n == 1 && w[i].p[0] == '/' && i + 1 < nw)
            buildlog_size_parse(w[i + 1].p, w[i + 1].n, &b->bytes);
        else if (parse_secs(w[i], &secs) == 0)
            b->seconds = secs;
    }
}

static int is_status(struct slice s)
{
    return starts(s, "DONE") || starts(s, "CACHED") || starts(s, "ERROR") ||
           starts(s, "CANCELED") || starts(s, "sha256:") ||
           starts(s, "pulling sha256:");
}

static int bk_status(struct bkparse *bp, struct vslot *v, struct slice s,
                     int lineno, struct slice line)
{
    if (starts(s, "DONE") && (s.n == 4 || s.p[4] == ' ')) {
        struct slice t = trim(skip(s, 4));
        v->status = VS_DONE;
        v->seconds = -1;
        if (t.n && parse_secs(t, &v->seconds) < 0)
            return fail(bp->err, bp->path, lineno, "malformed time", line);
    } else if (s.n == 6 && starts(s, "CACHED")) {
        v->status = VS_CACHED;
        v->seconds = -1;
    } else if (starts(s, "ERROR") || starts(s, "CANCELED")) {
        v->status = VS_ERROR;
    } else if (starts(s, "sha256:") && is_hex64(skip(s, 7))) {
        if (s.n > 7 + 64)
            bk_blob(bp, v->id, s, 0);
    } else if (starts(s, "pulling sha256:") && is_hex64(skip(s, 15))) {
        bk_blob(bp, v->id, skip(s, 8), 1);
    }
    return 0;
}

static int bk_line(struct bkparse *bp, struct slice line, int lineno,
                   int *block_start)
{
    struct slice s = skip(line, 1);
    struct vslot *v;
    int id;

    if (!read_uint(&s, &id) || id < 0)
        return fail(bp->err, bp->path, lineno, "malformed vertex line", line);
    if (s.n && s.p[0] != ' ')
        return fail(bp->err, bp->path, lineno, "malformed vertex line", line);
    s = trim(s);
    if (!s.n)
        return 0;
    v = slot_find(bp, id);
    if (!v && is_status(s))
        return fail(bp->err, bp->path, lineno,
                    "status of a vertex before its name", line);
    if (*block_start && !(v && is_status(s))) {
        *block_start = 0;
        return bk_name(bp, id, s, lineno, line);
    }
    *block_start = 0;
    if (!v)
        return bk_name(bp, id, s, lineno, line);
    return bk_status(bp, v, s, lineno, line);
}

/* Steps without a final status are dropped; outcomes are set. */
static void bk_finish(struct bkparse *bp)
{
    struct buildlog *log = bp->log;
    size_t i, j = 0;
    int complete = 1;
    size_t *newidx = xcalloc(log->nsteps + 1, sizeof(size_t));

    for (i = 0; i < bp->nslots; i++) {
        struct vslot *v = &bp->slots[i];
        if (v->status == VS_NONE || v->status == VS_ERROR)
            complete = 0;
        if (v->is_step) {
            struct buildlog_step *st = &log->steps[v->idx];
            st->seconds = v->status == VS_CACHED ? -1 : v->seconds;
            st->error = v->status == VS_ERROR;
            st->outcome = v->status == VS_CACHED ? BUILDLOG_HIT : BUILDLOG_MISS;
            if (!strcmp(st->keyword, "FROM"))
                st->outcome = BUILDLOG_NONE;
            newidx[v->idx] = v->status == VS_NONE ? (size_t)-1 : 0;
        } else {
            struct buildlog_vertex *vx = &log->vertices[v->idx];
            vx->cached = v->status == VS_CACHED;
            vx->done = v->status == VS_DONE;
            vx->error = v->status == VS_ERROR;
            vx->seconds = v->seconds;
        }
    }
    for (i = 0; i < log->nsteps; i++) {
        if (newidx[i] == (size_t)-1) {
            free(log->steps[i].label);
            free(log->steps[i].text);
            continue;
        }
        log->steps[j++] = log->steps[i];
    }
    log->nsteps = j;
    log->complete = complete && bp->nslots > 0;
    free(newidx);
}

static int parse_buildkit(struct buildlog *log, const char *path,
                          const char *text, size_t len, struct err *err)
{
    struct bkparse bp;
    struct slice line;
    size_t pos = 0;
    int lineno = 0, block_start = 1, rc = 0;

    memset(&bp, 0, sizeof(bp));
    bp.log = log;
    bp.path = path;
    bp.err = err;
    while (next_line(text, len, &pos, &line)) {
        lineno++;
        if (is_blank(line)) {
            block_start = 1;
            continue;
        }
        if (line.n < 2 || line.p[0] != '#' ||
            !isdigit((unsigned char)line.p[1]))
            continue; /* error context, warnings, other output */
        if ((rc = bk_line(&bp, line, lineno, &block_start)) < 0)
            break;
    }
    if (rc == 0)
        bk_finish(&bp);
    for (size_t i = 0; i < bp.nslots; i++)
        free(bp.slots[i].name);
    free(bp.slots);
    return rc;
}

/* ---- legacy builder ---- */

/* "Step i/n : TEXT"; 1 if the line is one. */
static int legacy_step(struct slice line, int *i, int *n, struct slice *text)
{
    struct slice s = skip(line, 5);

    if (!starts(line, "Step ") || !read_uint(&s, i) || !s.n || s.p[0] != '/')
        return 0;
    s = skip(s, 1);
    if (!read_uint(&s, n) || !starts(s, " : "))
        return 0;
    *text = skip(s, 3);
    return 1;
}

static int parse_legacy(struct buildlog *log, const char *path,
                        const char *text, size_t len, struct err *err)
{
    struct slice line, t;
    size_t pos = 0, cap = 0;
    int lineno = 0, i, n, total = 0, prev = 0;
    struct buildlog_step *cur = NULL;

    while (next_line(text, len, &pos, &line)) {
        lineno++;
        if (legacy_step(line, &i, &n, &t)) {
            if (i < 1 || i > n)
                return fail(err, path, lineno, "step i/n out of range", line);
            if (i <= prev || (total && n != total))
                return fail(err, path, lineno, "step i/n out of order", line);
            if (!trim(t).n)
                return fail(err, path, lineno, "step with no instruction",
                            line);
            prev = i;
            total = n;
            XGROW(log->steps, cap, log->nsteps + 1);
            cur = &log->steps[log->nsteps++];
            memset(cur, 0, sizeof(*cur));
            cur->vertex = i;
            cur->log_line = lineno;
            cur->index = i;
            cur->total = n;
            cur->text = collapse(t);
            keyword_of(cur->keyword, cur->text);
            cur->outcome =
                strcmp(cur->keyword, "FROM") ? BUILDLOG_MISS : BUILDLOG_NONE;
            cur->seconds = -1;
            cur->stage = -1;
        } else if (cur && starts(line, " ---> Using cache") &&
                   cur->outcome != BUILDLOG_NONE) {
            cur->outcome = BUILDLOG_HIT;
        } else if (starts(line, "Successfully built ")) {
            log->complete = 1;
        }
    }
    if (!log->complete && cur) {
        cur->error = 1;
        if (cur->outcome == BUILDLOG_HIT)
            cur->outcome = BUILDLOG_MISS;
    }
    return 0;
}

/* ---- entry points ---- */

static int detect(const char *text, size_t len, enum buildlog_format *out)
{
    struct slice line, t;
    size_t pos = 0;
    int i, n;

    while (next_line(text, len, &pos, &line)) {
        if (line.n >= 2 && line.p[0] == '#' &&
            isdigit((unsigned char)line.p[1])) {
            *out = BUILDLOG_BUILDKIT;
            return 1;
        }
        if (legacy_step(line, &i, &n, &t)) {
            *out = BUILDLOG_LEGACY;
            return 1;
        }
    }
    return 0;
}

int buildlog_parse(struct buildlog **out, const char *path, const char *text,
                   size_t len, struct err *err)
{
    struct buildlog *log;
    int rc;

    *out = NULL;
    log = xcalloc(1, sizeof(*log));
    if (!detect(text, len, &log->format)) {
        free(log);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "not a docker build log (no '#N' or 'Step i/n' "
                          "line)");
    }
    rc = log->format == BUILDLOG_BUILDKIT
             ? parse_buildkit(log, path, text, len, err)
             : parse_legacy(log, path, text, len, err);
    if (rc < 0) {
        buildlog_free(log);
        return rc;
    }
    *out = log;
    return 0;
}

void buildlog_free(struct buildlog *log)
{
    size_t i;

    if (!log)
        return;
    for (i = 0; i < log->nsteps; i++) {
        free(log->steps[i].label);
        free(log->steps[i].text);
    }
    for (i = 0; i < log->nvertices; i++)
        free(log->vertices[i].name);
    free(log->steps);
    free(log->vertices);
    free(log->blobs);
    free(log);
}

/* ---- matching to the Dockerfile ---- */

static int makes_vertex(enum df_kind k)
{
    return k == DF_FROM || k == DF_RUN || k == DF_COPY || k == DF_ADD ||
           k == DF_WORKDIR;
}

static int text_equal(const char *a, const char *b)
{
    struct slice s = { b, strlen(b) };
    char *c = collapse(s);
    int eq = !strcmp(a, c);

    free(c);
    return eq;
}

static int stage_of(const struct df_file *df, const char *label)
{
    int i;

    if (!label)
        return df->nstages ? (int)df->nstages - 1 : -1;
    i = df_stage_find(df, label);
    if (i >= 0)
        return i;
    if (!strncmp(label, "stage-", 6) && isdigit((unsigned char)label[6])) {
        char *end;
        long v = strtol(label + 6, &end, 10);
        if (!*end && v >= 0 && (size_t)v < df->nstages)
            return (int)v;
    }
    return -1;
}

static void match_buildkit(struct buildlog_step *st, const struct df_file *df,
                           unsigned char *used)
{
    const struct df_stage *sg;
    size_t i, count = 0, kth = (size_t)-1;
    int s = stage_of(df, st->label);

    if (s < 0)
        return;
    sg = &df->stages[s];
    for (i = sg->first; i < sg->first + sg->count && i < df->ninstrs; i++)
        if (makes_vertex(df->instrs[i].kind) && ++count == (size_t)st->index)
            kth = i;
    if (count == (size_t)st->total && kth != (size_t)-1 && !used[kth] &&
        !strcmp(df_kind_name(df->instrs[kth].kind), st->keyword)) {
        used[kth] = 1;
        st->line = df->instrs[kth].line;
        st->stage = s;
        return;
    }
    for (i = sg->first; i < sg->first + sg->count && i < df->ninstrs; i++)
        if (!used[i] && df->instrs[i].original &&
            text_equal(st->text, df->instrs[i].original)) {
            used[i] = 1;
            st->line = df->instrs[i].line;
            st->stage = s;
            return;
        }
}

static void match_legacy(struct buildlog_step *st, const struct df_file *df)
{
    const struct df_instr *in;

    if (st->index < 1 || (size_t)st->index > df->ninstrs)
        return;
    in = &df->instrs[st->index - 1];
    if (strcmp(df_kind_name(in->kind), st->keyword))
        return;
    st->line = in->line;
    st->stage = in->stage;
}

size_t buildlog_match(struct buildlog *log, const struct df_file *df)
{
    unsigned char *used = xcalloc(df->ninstrs + 1, 1);
    size_t i, matched = 0;

    for (i = 0; i < log->nsteps; i++) {
        struct buildlog_step *st = &log->steps[i];
        st->line = 0;
        st->stage = -1;
        if (log->format == BUILDLOG_LEGACY)
            match_legacy(st, df);
        else
            match_buildkit(st, df, used);
        matched += st->line > 0;
    }
    free(used);
    return matched;
}

/* ---- docker history ---- */

/* Byte offset of the col-th character (UTF-8) of s, or s.n if shorter. */
static size_t byte_at_col(struct slice s, size_t col)
{
    size_t i = 0, c = 0;

    while (i < s.n && c < col) {
        i++;
        while (i < s.n && ((unsigned char)s.p[i] & 0xC0) == 0x80)
            i++;
        c++;
    }
    return i;
}

static char *column(struct slice row, size_t from, size_t to)
{
    size_t a = byte_at_col(row, from), b = byte_at_col(row, to);
    struct slice s = { row.p + a, b > a ? b - a : 0 };

    s = trim(s);
    return xstrndup(s.p, s.n);
}

static const char *find_in(struct slice s, const char *word)
{
    size_t n = strlen(word), i;

    for (i = 0; i + n <= s.n; i++)
        if (!memcmp(s.p + i, word, n))
            return s.p + i;
    return NULL;
}

int buildlog_history_parse(struct buildlog_history **out, const char *path,
                           const char *text, size_t len, struct err *err)
{
    struct buildlog_history *h;
    struct slice line, head = { NULL, 0 };
    size_t pos = 0, cap = 0, c_by, c_size, c_comment;
    const char *p_by, *p_size, *p_comment;
    int lineno = 0, rc = 0;

    *out = NULL;
    while (next_line(text, len, &pos, &line)) {
        lineno++;
        if (!is_blank(line)) {
            head = line;
            break;
        }
    }
    p_by = head.p ? find_in(head, "CREATED BY") : NULL;
    p_size = head.p ? find_in(head, "SIZE") : NULL;
    if (!head.p || !starts(head, "IMAGE") || !p_by || !p_size || p_size < p_by)
        return err_set_at(err, ERR_PARSE, path, lineno ? lineno : 1,
                          "not docker history output");
    p_comment = find_in(head, "COMMENT");
    c_by = (size_t)(p_by - head.p);
    c_size = (size_t)(p_size - head.p);
    c_comment = p_comment && p_comment > p_size ? (size_t)(p_comment - head.p)
                                                : (size_t)-1;
    h = xcalloc(1, sizeof(*h));
    while (next_line(text, len, &pos, &line)) {
        struct buildlog_history_row *r;
        struct slice sz;
        size_t a, b;

        lineno++;
        if (is_blank(line))
            continue;
        a = byte_at_col(line, c_size);
        if (a >= line.n) {
            rc = fail(err, path, lineno, "short row", line);
            break;
        }
        sz.p = line.p + a;
        for (b = a; b < line.n && line.p[b] != ' '; b++)
            ;
        sz.n = b - a;
        XGROW(h->rows, cap, h->nrows + 1);
        r = &h->rows[h->nrows];
        memset(r, 0, sizeof(*r));
        if (buildlog_size_parse(sz.p, sz.n, &r->size) < 0) {
            rc = fail(err, path, lineno, "malformed size", sz);
            break;
        }
        h->nrows++;
        r->image = column(line, 0, c_by);
        {
            char *sp = strchr(r->image, ' ');
            if (sp)
                *sp = '\0';
        }
        r->created_by = column(line, c_by, c_size);
        r->comment = c_comment != (size_t)-1
                         ? column(line, c_comment, (size_t)-1 / 2)
                         : xstrdup("");
    }
    if (rc < 0) {
        buildlog_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void buildlog_history_free(struct buildlog_history *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->nrows; i++) {
        free(h->rows[i].image);
        free(h->rows[i].created_by);
        free(h->rows[i].comment);
    }
    free(h->rows);
    free(h);
}
