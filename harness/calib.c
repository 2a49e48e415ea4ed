/*
 * calib.c - calibration files into model measurements (see calib.h).
 */
#include "calib.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "buildlog.h"
#include "record.h"

/* ---- cleaning CI job logs ---- */

/* A CI timestamp at the start of a line: "2024-01-01T00:00:00.123Z " (GitHub
 * Actions, GitLab), optionally followed by GitLab's stream marker ("00O ",
 * "00O+", "01E ").  Returns the characters to skip and sets *t. */
static size_t ts_prefix(const char *p, size_t n, double *t)
{
    char tmp[48];
    size_t k = 0;

    if (n < 21 || !isdigit((unsigned char)p[0]) || p[4] != '-' ||
        p[10] != 'T')
        return 0;
    while (k < n && k < sizeof(tmp) - 1 && p[k] != ' ' && p[k] != '\t')
        k++;
    if (k >= n || k >= sizeof(tmp) - 1)
        return 0;
    memcpy(tmp, p, k);
    tmp[k] = '\0';
    if (record_time_parse(tmp, t) < 0)
        return 0;
    k++;
    if (k + 3 <= n && isdigit((unsigned char)p[k]) &&
        isdigit((unsigned char)p[k + 1]) && (p[k + 2] == 'O' || p[k + 2] == 'E')) {
        k += 3;
        if (k < n && (p[k] == '+' || p[k] == ' '))
            k++;
    }
    return k;
}

/* Copy text without ANSI escapes, carriage returns and CI timestamps,
 * line for line; ts[i] gets line i+1's time (-1 when none). */
static char *clean(const char *text, size_t len, size_t *outlen, double **ts,
                   size_t *nlines)
{
    struct buf b = BUF_INIT;
    size_t i = 0, cap = 0;

    *ts = NULL;
    *nlines = 0;
    while (i < len) {
        size_t e = i, j;
        double t = -1;
        while (e < len && text[e] != '\n')
            e++;
        j = i + ts_prefix(text + i, e - i, &t);
        for (; j < e; j++) {
            unsigned char c = (unsigned char)text[j];
            if (c == 0x1b) { /* ESC [ params letter */
                if (j + 1 < e && text[j + 1] == '[') {
                    j += 2;
                    while (j < e && !isalpha((unsigned char)text[j]))
                        j++;
                }
                continue;
            }
            if (c == '\r')
                continue;
            buf_addch(&b, (char)c);
        }
        buf_addch(&b, '\n');
        XGROW(*ts, cap, *nlines + 1);
        (*ts)[(*nlines)++] = t;
        i = e + 1;
    }
    *outlen = b.len;
    return b.ptr ? buf_detach(&b) : xstrdup("");
}

/* Calibration files are text: a NUL byte is a binary file (an image
 * tarball, a binary given by mistake). */
static int binary(const char *path, const char *text, size_t len,
                  const char *what, struct err *err)
{
    const char *z = memchr(text, '\0', len);
    int line = 1;

    if (!z)
        return 0;
    for (const char *q = text; q < z; q++)
        line += *q == '\n';
    return err_set_at(err, ERR_PARSE, path, line,
                      "binary data (a NUL byte), not %s", what);
}

/* Whether a step's text as the log prints it is the instruction's: blanks
 * and line continuations aside, or a prefix of it when the log cut it
 * ("..."). */
static int text_fits(const char *logged, const char *original)
{
    char a[1024], b[1024], tmp[1024];
    size_t la, k = 0;

    model_text_norm(logged, a, sizeof(a));
    for (const char *p = original ? original : ""; *p && k + 1 < sizeof(tmp);
         p++) {
        if (p[0] == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
            p += p[1] == '\r' ? 2 : 1;
            tmp[k++] = ' ';
            continue;
        }
        tmp[k++] = *p;
    }
    tmp[k] = '\0';
    model_text_norm(tmp, b, sizeof(b));
    if (!strcmp(a, b))
        return 1;
    la = strlen(a);
    if (la > 3 && !strcmp(a + la - 3, "...")) {
        a[la - 3] = '\0';
        la -= 3;
        while (la && a[la - 1] == ' ')
            a[--la] = '\0';
        return la > 0 && !strncmp(a, b, la);
    }
    /* a full buffer: long instructions compare on what fits */
    return la + 1 >= sizeof(a) && !strncmp(a, b, la);
}

/* Steps matched by position whose text is another instruction's are not
 * this Dockerfile's: unmatch them, so that they neither calibrate the
 * instruction at that position nor count as matched. */
static void unmatch_other_text(struct buildlog *log,
                               const struct calib_ref *ref)
{
    for (size_t i = 0; i < log->nsteps; i++) {
        struct buildlog_step *st = &log->steps[i];
        if (st->line <= 0)
            continue;
        for (size_t k = 0; k < ref->df->ninstrs; k++)
            if (ref->df->instrs[k].line == st->line) {
                if (!text_fits(st->text, ref->df->instrs[k].original)) {
                    st->line = 0;
                    st->stage = -1;
                }
                break;
            }
    }
}

/* A log none of whose steps is an instruction of the reference Dockerfile
 * is another build's: refuse it rather than calibrate nothing. */
static int foreign_log(const struct buildlog *log, const struct calib_ref *ref,
                       const char *path, struct err *err)
{
    const struct buildlog_step *first = NULL;
    size_t steps = 0, matched = 0;

    if (!ref || !ref->df)
        return 0;
    for (size_t i = 0; i < log->nsteps; i++) {
        const struct buildlog_step *st = &log->steps[i];
        if (!strncmp(st->keyword, "FROM", 4))
            continue;
        steps++;
        if (st->line > 0)
            matched++;
        else if (!first)
            first = st;
    }
    if (!steps || matched)
        return 0;
    err_set_at(err, ERR_PARSE, path, first->log_line,
               "none of the log's %zu steps is an instruction of the "
               "Dockerfile ('%.60s' is not): a log of another build?",
               steps, first->text ? first->text : "");
    err_hint(err, "calibrate from a build of the Dockerfile at the first "
                  "commit replayed (or --rev)");
    return ERR_PARSE;
}

static int is_rawjson(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)t[i]))
        i++;
    return i < n && t[i] == '{';
}

static void fixed_add(double *slot, double v)
{
    if (v < 0)
        return;
    *slot = *slot < 0 ? v : (*slot + v) / 2;
}

static void vertex_costs(struct model_calib *c, const struct buildlog *log,
                         const char *path)
{
    double start = -1, ctx = -1, exp = -1, imp = -1;
    struct model_calib_fixed *f = &c->fixed[MODEL_BUILDKIT];

    for (size_t i = 0; i < log->nvertices; i++) {
        const struct buildlog_vertex *v = &log->vertices[i];
        double *slot = NULL;
        if (!v->done || v->seconds < 0)
            continue;
        if (!strncmp(v->name, "[internal] load build definition", 32) ||
            !strncmp(v->name, "[internal] load .dockerignore", 29) ||
            !strncmp(v->name, "[internal] load metadata for", 28))
            slot = &start;
        else if (!strncmp(v->name, "[internal] load build context", 29))
            slot = &ctx;
        else if (!strncmp(v->name, "exporting to image", 18))
            slot = &exp;
        else if (!strncmp(v->name, "importing cache manifest from", 29))
            slot = &imp;
        if (slot)
            *slot = (*slot < 0 ? 0 : *slot) + v->seconds;
    }
    if (start < 0 && ctx < 0 && exp < 0 && imp < 0)
        return;
    fixed_add(&f->start, start);
    fixed_add(&f->context, ctx);
    fixed_add(&f->export_total, exp);
    fixed_add(&f->cache_import, imp);
    if (!f->from[0])
        snprintf(f->from, sizeof(f->from), "%s", path);
}

/* The build's wall time when the log's lines carry CI timestamps: from the
 * first stamped line (a CI job log's command line, printed when the
 * command starts) to the last. */
static void log_wall(struct model_calib *c, int builder, const double *ts,
                     size_t nlines, const char *path)
{
    struct model_calib_fixed *f = &c->fixed[builder];
    double first = -1, last = -1;

    for (size_t i = 0; i < nlines; i++)
        if (ts[i] >= 0) {
            if (first < 0)
                first = ts[i];
            last = ts[i];
        }
    if (first < 0 || last <= first)
        return;
    fixed_add(&f->wall, last - first);
    if (!f->from[0])
        snprintf(f->from, sizeof(f->from), "%s", path);
}

/* The step's text and stage as the reference Dockerfile has them. */
static const char *ref_text(const struct calib_ref *ref,
                            const struct buildlog_step *st, int *stage)
{
    if (ref && ref->df && st->line > 0)
        for (size_t i = 0; i < ref->df->ninstrs; i++)
            if (ref->df->instrs[i].line == st->line) {
                *stage = ref->df->instrs[i].stage;
                return ref->df->instrs[i].original;
            }
    *stage = -1;
    return st->text;
}

int calib_timings(struct model_calib *c, const char *path, const char *text,
                  size_t len, const struct calib_ref *ref, size_t *nsteps,
                  struct err *err)
{
    struct buildlog *log = NULL;
    char *plain = NULL, *conv = NULL;
    double *ts = NULL;
    size_t plen, nlines, n = 0, i;
    struct buf from = BUF_INIT;
    int rc;

    if ((rc = binary(path, text, len, "a docker build log", err)) < 0)
        return rc;
    plain = clean(text, len, &plen, &ts, &nlines);
    if (is_rawjson(plain, plen)) {
        size_t clen;
        if ((rc = record_rawjson_to_plain(&conv, &clen, path, plain, plen,
                                          err)) < 0)
            goto out;
        free(plain);
        plain = conv;
        plen = clen;
        conv = NULL;
        free(ts);
        ts = NULL;
        nlines = 0;
    }
    if ((rc = buildlog_parse(&log, path, plain, plen, err)) < 0)
        goto out;
    if (ref && ref->df) {
        buildlog_match(log, ref->df);
        unmatch_other_text(log, ref);
    }
    if ((rc = foreign_log(log, ref, path, err)) < 0)
        goto out;
    for (i = 0; i < log->nsteps; i++) {
        const struct buildlog_step *st = &log->steps[i];
        double secs = st->seconds;
        const char *t;
        int stage;
        if (st->outcome != BUILDLOG_MISS || st->error)
            continue;
        if (log->format == BUILDLOG_LEGACY) {
            /* until the next step's line, or the log's last timed line */
            int a = st->log_line, z = -1;
            secs = -1;
            if (i + 1 < log->nsteps)
                z = log->steps[i + 1].log_line;
            else
                for (size_t k = nlines; k > 0 && z < 0; k--)
                    if (ts[k - 1] >= 0)
                        z = (int)k;
            if (a > 0 && z > a && (size_t)z <= nlines && ts[a - 1] >= 0 &&
                ts[z - 1] >= ts[a - 1])
                secs = ts[z - 1] - ts[a - 1];
        }
        if (secs < 0)
            continue;
        t = ref_text(ref, st, &stage);
        if (!strncmp(st->keyword, "FROM", 4))
            continue; /* a pull: the transfer model's */
        buf_reset(&from);
        buf_printf(&from, "%s:%d", path, st->log_line);
        model_calib_add(c, stage, t,
                        log->format == BUILDLOG_LEGACY ? MODEL_LEGACY
                                                       : MODEL_BUILDKIT,
                        secs, -1, -1, buf_cstr(&from));
        n++;
    }
    if (log->format == BUILDLOG_BUILDKIT)
        vertex_costs(c, log, path);
    log_wall(c, log->format == BUILDLOG_LEGACY ? MODEL_LEGACY : MODEL_BUILDKIT,
             ts, nlines, path);
    if (nsteps)
        *nsteps = n;
    rc = 0;
out:
    buildlog_free(log);
    free(plain);
    free(conv);
    free(ts);
    buf_release(&from);
    return rc;
}

/* The target stage of the reference (its keys' target, else the last). */
static int target_stage(const struct calib_ref *ref)
{
    if (ref->kb)
        return ref->kb->target;
    return (int)ref->df->nstages - 1;
}

/* Whether a history row's created-by text can be instruction in. */
static int row_fits(const char *created_by, const struct df_instr *in)
{
    const char *kw = df_kind_name(in->kind);
    size_t kl = strlen(kw);

    if (!strncmp(created_by, kw, kl))
        return 1; /* BuildKit: "RUN ...", "COPY ... # buildkit" */
    if (strstr(created_by, "#(nop)")) /* legacy metadata and COPY */
        return in->kind != DF_RUN && strstr(created_by, kw) != NULL;
    return in->kind == DF_RUN; /* legacy RUN: "/bin/sh -c ..." */
}

int calib_layers(struct model_calib *c, const char *path, const char *text,
                 size_t len, const struct calib_ref *ref, size_t *nsteps,
                 struct err *err)
{
    struct buildlog_history *h = NULL;
    const struct df_stage *st;
    size_t n = 0, r = 0, k;
    int rc;

    if ((rc = binary(path, text, len, "docker history JSON lines", err)) < 0 ||
        (rc = record_history_parse(&h, path, text, len, err)) < 0)
        return rc;
    if (!ref || !ref->df || !ref->df->nstages) {
        buildlog_history_free(h);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "no Dockerfile to match the history against");
    }
    st = &ref->df->stages[target_stage(ref)];
    /* instructions of the stage from its last back to the one after FROM,
     * against rows from the newest */
    for (k = st->count; k > 1 && r < h->nrows; k--, r++) {
        const struct df_instr *in = &ref->df->instrs[st->first + k - 1];
        const struct buildlog_history_row *row = &h->rows[r];
        char from[600];
        if (!row_fits(row->created_by, in)) {
            err_set_at(err, ERR_PARSE, path, (int)r + 1,
                       "history row '%.60s' does not match line %d of the "
                       "Dockerfile ('%.40s')",
                       row->created_by, in->line, in->original);
            buildlog_history_free(h);
            return ERR_PARSE;
        }
        if (in->kind != DF_RUN && in->kind != DF_COPY && in->kind != DF_ADD)
            continue;
        snprintf(from, sizeof(from), "%s:%zu", path, r + 1);
        model_calib_add(c, in->stage, in->original, -1, -1, row->size, -1,
                        from);
        n++;
    }
    buildlog_history_free(h);
    if (nsteps)
        *nsteps = n;
    return 0;
}

int calib_manifest(struct model_calib *c, const char *path, const char *text,
                   size_t len, const struct calib_ref *ref, size_t *nsteps,
                   struct err *err)
{
    struct record_manifest m;
    const struct key_build *kb = ref ? ref->kb : NULL;
    size_t nmake = 0, nbase = 0, i, l, n = 0;
    int rc, target;
    char from[600];

    if ((rc = binary(path, text, len, "an image manifest", err)) < 0 ||
        (rc = record_manifest_parse(&m, path, text, len, err)) < 0)
        return rc;
    if (!kb || !ref->df) {
        record_manifest_release(&m);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "no Dockerfile to match the manifest against");
    }
    target = kb->target;
    for (i = 0; i < kb->nsteps; i++)
        if (kb->steps[i].stage == target && kb->steps[i].layer &&
            kb->steps[i].kind != DF_FROM)
            nmake++;
    {
        /* a base image (not scratch, not a stage) has a layer at least */
        const struct df_stage *ts = &ref->df->stages[target];
        if (ts->base_stage < 0 && ts->base && strcmp(ts->base, "scratch"))
            nbase = 1;
    }
    if (m.nlayers < nmake + nbase) {
        err_set_at(err, ERR_PARSE, path, 1,
                   "%zu layers, but the target stage makes %zu%s: not this "
                   "Dockerfile's image",
                   m.nlayers, nmake,
                   nbase ? " and its base image has one at least" : "");
        record_manifest_release(&m);
        return ERR_PARSE;
    }
    /* layer-making steps from the last back, against layers from the
     * last */
    l = m.nlayers;
    for (i = kb->nsteps; i > 0 && l > m.nlayers - nmake; i--) {
        const struct key_step *s = &kb->steps[i - 1];
        const struct df_instr *in = &ref->df->instrs[s->instr];
        if (s->stage != target || !s->layer || s->kind == DF_FROM)
            continue;
        l--;
        snprintf(from, sizeof(from), "%s: layer %zu", path, l + 1);
        if (s->kind == DF_RUN || s->kind == DF_COPY || s->kind == DF_ADD) {
            model_calib_add(c, in->stage, in->original, -1, -1, -1, m.layers[l],
                            from);
            n++;
        }
    }
    {
        const struct df_stage *st = &ref->df->stages[target];
        int64_t base = 0;
        for (i = 0; i < m.nlayers - nmake; i++)
            base += m.layers[i];
        if (st->base_stage < 0 && st->base) {
            snprintf(from, sizeof(from), "%s: layers 1-%zu", path,
                     m.nlayers - nmake);
            model_calib_base(c, st->base, base, m.nlayers - nmake, from);
        }
    }
    record_manifest_release(&m);
    if (nsteps)
        *nsteps = n;
    return 0;
}

int calib_load(struct model_calib *c, const char *kind, const char *path,
               const struct calib_ref *ref, size_t *nsteps, struct err *err)
{
    struct buf b = BUF_INIT;
    int rc;

    if ((rc = buf_read_file(&b, path, err)) < 0) {
        buf_release(&b);
        return rc;
    }
    if (!strcmp(kind, "timings"))
        rc = calib_timings(c, path, b.ptr ? b.ptr : "", b.len, ref, nsteps,
                           err);
    else if (!strcmp(kind, "layers"))
        rc = calib_layers(c, path, b.ptr ? b.ptr : "", b.len, ref, nsteps,
                          err);
    else
        rc = calib_manifest(c, path, b.ptr ? b.ptr : "", b.len, ref, nsteps,
                            err);
    buf_release(&b);
    return rc;
}
