/*
 * model.c - the build-time model: profiles, step costs, transfers, fixed
 * costs and scheduling (see model.h).
 *
 * The profile values are repeated, with their sources, in
 * scenarios/model/<profile>.json; tests/test_model.c checks that the file
 * and the compiled profile agree, so that the file is the documentation
 * and `--model FILE` a full replacement.  How the docker-20.10 values were
 * measured is in doc/model.md.
 */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MB (1000.0 * 1000.0)

static const char *const src_names[] = {
    [MODEL_SRC_DEFAULT] = "default",
    [MODEL_SRC_FAMILY] = "family",
    [MODEL_SRC_HEURISTIC] = "heuristic",
    [MODEL_SRC_CALIBRATED] = "calibrated",
};

const char *model_src_name(enum model_src s)
{
    return src_names[s];
}

/* Command families (first match wins: the most specific first).  Default
 * seconds and MB are the public install benchmarks of the project's
 * numbers (pnpm.io/benchmarks: npm clean install 28.6 s; pip 148 s for a
 * real requirements file, alice-biometrics/uv-playground); per-package
 * figures are estimates. */
static const struct model_run_rule default_runs[] = {
    { "npm ci", 28.0, 150.0, MODEL_ECO_NPM, 0, 0, 0.03, 0.15 },
    { "npm install", 30.0, 160.0, MODEL_ECO_NPM, 0, 0, 0.03, 0.15 },
    { "yarn install", 25.0, 150.0, MODEL_ECO_NPM, 0, 0, 0.025, 0.15 },
    { "pnpm install", 8.0, 120.0, MODEL_ECO_NPM, 0, 0, 0.008, 0.12 },
    { "pip install", 40.0, 90.0, MODEL_ECO_PIP, 0, 0, 1.2, 3.0 },
    { "poetry install", 45.0, 95.0, MODEL_ECO_PIP, 0, 0, 1.3, 3.0 },
    { "uv sync", 8.0, 90.0, MODEL_ECO_PIP, 0, 0, 0.25, 3.0 },
    { "apt-get install", 25.0, 70.0, -1, 1, 0, 2.5, 8.0 },
    { "apt install", 25.0, 70.0, -1, 1, 0, 2.5, 8.0 },
    { "apk add", 5.0, 15.0, -1, 1, 0, 0.4, 2.0 },
    { "apt-get update", 8.0, 20.0, -1, 0, 0, 0, 0 },
    { "apk update", 1.5, 2.0, -1, 0, 0, 0, 0 },
    { "go mod download", 12.0, 60.0, MODEL_ECO_GO, 0, 0, 0.08, 0.6 },
    { "go build", 20.0, 15.0, -1, 0, 1, 12.0, 2.0 },
    { "go test", 25.0, 5.0, -1, 0, 1, 15.0, 0.2 },
    { "cargo build", 90.0, 200.0, MODEL_ECO_CARGO, 0, 0, 0.6, 1.5 },
    { "dotnet restore", 20.0, 80.0, MODEL_ECO_NUGET, 0, 0, 0.8, 4.0 },
    { "dotnet publish", 30.0, 60.0, -1, 0, 1, 10.0, 3.0 },
    { "mvn ", 60.0, 120.0, -1, 0, 1, 20.0, 5.0 },
    { "gradle", 60.0, 120.0, -1, 0, 1, 20.0, 5.0 },
    { "npm run build", 20.0, 10.0, -1, 0, 1, 6.0, 1.0 },
    { "git clone", 6.0, 30.0, -1, 0, 0, 0, 0 },
    { "curl ", 3.0, 10.0, -1, 0, 0, 0, 0 },
    { "make", 15.0, 20.0, -1, 0, 1, 10.0, 2.0 },
};

/* Compressed transfer sizes (docker-library/repo-info, amd64). */
static const struct model_base default_bases[] = {
    { "alpine", 3.8 },
    { "busybox", 2.2 },
    { "ubuntu", 29.7 },
    { "debian", 48.0 },
    { "python", 43.2 },
    { "node", 408.5 },
    { "golang", 280.0 },
    { "rust", 550.0 },
    { "maven", 300.0 },
    { "eclipse-temurin", 190.0 },
    { "gcr.io/distroless", 20.0 },
    { "scratch", 0.0 },
};

_Static_assert(sizeof(default_runs) / sizeof(default_runs[0]) <=
                   MODEL_RUN_RULES,
               "room for the run rules");
_Static_assert(sizeof(default_bases) / sizeof(default_bases[0]) <=
                   MODEL_BASES,
               "room for the bases");

static void common(struct model *m)
{
    memset(m, 0, sizeof(*m));
    m->scale = 1;
    m->blob_latency = 0.05;
    m->pull_base = 0.5;
    m->push_base = 0.5;
    m->extract_layer = 0.2;
    m->pull_mbps = 60.0;
    m->push_mbps = 30.0;
    m->unpack_mbps = 80.0;
    m->pack_mbps = 35.0;
    m->pull_concurrency = 3;
    m->push_concurrency = 5;
    m->compress_ratio = 0.40;
    m->config_bytes = 1500;
    m->manifest_bytes = 430;
    m->run_seconds = 1.0;
    m->run_mbytes = 0.5;
    m->copy_mbps = 100.0;
    m->git_dir_files = 45;
    m->git_dir_mbytes = 0.18;
    m->unknown_base_mbytes = 50.0;
    m->cores = 2;
    memcpy(m->runs, default_runs, sizeof(default_runs));
    m->nruns = sizeof(default_runs) / sizeof(default_runs[0]);
    memcpy(m->bases, default_bases, sizeof(default_bases));
    m->nbases = sizeof(default_bases) / sizeof(default_bases[0]);
}

/* dockerd 20.10.24 on the conformance machine (doc/model.md says how each
 * was measured). */
static void docker2010(struct model *m)
{
    struct model_builder *l = &m->b[MODEL_LEGACY], *k = &m->b[MODEL_BUILDKIT];

    common(m);
    snprintf(m->name, sizeof(m->name), "docker-20.10");
    m->blob_latency = 0.05;
    m->pull_base = 0.3;
    m->push_base = 0.15;
    m->extract_layer = 0.15;
    m->pull_mbps = 200.0;
    m->push_mbps = 100.0;
    m->unpack_mbps = 20.0;
    m->pack_mbps = 40.0;
    m->compress_ratio = 0.55;
    *l = (struct model_builder){ .client = 0.08,
                                 .start = 0.05,
                                 .context_base = 0.05,
                                 .context_mbps = 50.0,
                                 .context_full = 1,
                                 .step_overhead = 0.27,
                                 .copy_overhead = 0.25,
                                 .copy_file = 0.005,
                                 .workdir_step = 0.25,
                                 .meta_step = 0.27,
                                 .cached_step = 0.02,
                                 .cache_import = 0.0,
                                 .export_base = 0.0,
                                 .export_layer = 0.0,
                                 .image_write = 0.02,
                                 .parallel = 0,
                                 .compress_on_push = 1 };
    *k = (struct model_builder){ .client = 0.15,
                                 .fresh_start = 0.05,
                                 .start = 0.05,
                                 .context_base = 0.02,
                                 .context_mbps = 50.0,
                                 .context_full = 0,
                                 .step_overhead = 0.1,
                                 .copy_overhead = 0.05,
                                 .copy_file = 0.001,
                                 .workdir_step = 0.05,
                                 .meta_step = 0.0,
                                 .cached_step = 0.025,
                                 .cache_import = 0.02,
                                 .export_base = 0.05,
                                 .export_layer = 0.005,
                                 .image_write = 0.0,
                                 .parallel = 1,
                                 .compress_on_push = 0 };
}

/* A current standalone BuildKit on a CI runner (estimates from the public
 * figures in doc/model.md). */
static void buildkit(struct model *m)
{
    common(m);
    snprintf(m->name, sizeof(m->name), "buildkit");
    m->b[MODEL_LEGACY] = (struct model_builder){ .client = 0.6,
                                                 .start = 0.2,
                                                 .context_base = 0.1,
                                                 .context_mbps = 100.0,
                                                 .context_full = 1,
                                                 .step_overhead = 0.6,
                                                 .copy_overhead = 0.15,
                                                 .copy_file = 0.01,
                                                 .workdir_step = 0.15,
                                                 .meta_step = 0.1,
                                                 .cached_step = 0.05,
                                                 .cache_import = 0.0,
                                                 .export_base = 0.0,
                                                 .export_layer = 0.0,
                                                 .image_write = 0.1,
                                                 .parallel = 0,
                                                 .compress_on_push = 1 };
    m->b[MODEL_BUILDKIT] = (struct model_builder){ .client = 0.5,
                                                   .start = 0.5,
                                                   .context_base = 0.1,
                                                   .context_mbps = 100.0,
                                                   .context_full = 0,
                                                   .step_overhead = 0.4,
                                                   .copy_overhead = 0.1,
                                                   .copy_file = 0.001,
                                                   .workdir_step = 0.05,
                                                   .meta_step = 0.0,
                                                   .cached_step = 0.02,
                                                   .cache_import = 0.3,
                                                   .export_base = 0.3,
                                                   .export_layer = 0.1,
                                                   .image_write = 0.1,
                                                   .parallel = 1,
                                                   .compress_on_push = 0 };
}

int model_profile(struct model *m, const char *name)
{
    if (!strcmp(name, "docker-20.10"))
        docker2010(m);
    else if (!strcmp(name, "buildkit"))
        buildkit(m);
    else
        return ERR_NOTFOUND;
    return 0;
}

void model_defaults(struct model *m)
{
    buildkit(m);
}

void model_scale(struct model *m, double s)
{
    if (!(s > 0))
        return;
    for (int i = 0; i < 2; i++) {
        struct model_builder *b = &m->b[i];
        b->client *= s;
        b->fresh_start *= s;
        b->start *= s;
        b->context_base *= s;
        b->context_mbps /= s;
        b->step_overhead *= s;
        b->copy_overhead *= s;
        b->copy_file *= s;
        b->workdir_step *= s;
        b->meta_step *= s;
        b->cached_step *= s;
        b->cache_import *= s;
        b->export_base *= s;
        b->export_layer *= s;
        b->image_write *= s;
    }
    m->blob_latency *= s;
    m->pull_base *= s;
    m->push_base *= s;
    m->extract_layer *= s;
    m->unpack_mbps /= s;
    m->pack_mbps /= s;
    m->copy_mbps /= s;
    m->scale *= s;
}

/* ---- text ---- */

void model_text_norm(const char *text, char *out, size_t size)
{
    size_t n = 0;
    int blank = 0;

    if (!size)
        return;
    for (const char *p = text ? text : ""; *p && n + 1 < size; p++) {
        if (*p == '\033') { /* ESC [ ... letter */
            if (p[1] == '[') {
                p += 2;
                while (*p && !isalpha((unsigned char)*p))
                    p++;
                if (!*p)
                    break;
            }
            continue;
        }
        if (isspace((unsigned char)*p)) {
            blank = n > 0;
            continue;
        }
        if (blank && n + 2 < size)
            out[n++] = ' ';
        blank = 0;
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* ---- calibration ---- */

void model_calib_init(struct model_calib *c)
{
    memset(c, 0, sizeof(*c));
    for (int b = 0; b < 2; b++)
        c->fixed[b].start = c->fixed[b].context = c->fixed[b].export_total =
            c->fixed[b].cache_import = c->fixed[b].wall = -1;
}

void model_calib_free(struct model_calib *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->nsteps; i++) {
        free(c->steps[i].text);
        free(c->steps[i].from);
    }
    free(c->steps);
    for (i = 0; i < c->nbases; i++) {
        free(c->bases[i].image);
        free(c->bases[i].from);
    }
    free(c->bases);
    model_calib_init(c);
}

static double merge_d(double old, double v)
{
    if (v < 0)
        return old;
    return old < 0 ? v : (old + v) / 2;
}

static int64_t merge_i(int64_t old, int64_t v)
{
    if (v < 0)
        return old;
    return old < 0 ? v : (old + v) / 2;
}

void model_calib_add(struct model_calib *c, int stage, const char *text,
                     int builder, double seconds, int64_t raw_bytes,
                     int64_t bytes, const char *from)
{
    char norm[1024];
    struct model_calib_step *s;
    size_t i;

    model_text_norm(text, norm, sizeof(norm));
    if (!norm[0])
        return;
    for (i = 0; i < c->nsteps; i++) {
        s = &c->steps[i];
        if (s->stage == stage && !strcmp(s->text, norm) &&
            (seconds < 0 || s->seconds < 0 || s->builder == builder)) {
            if (seconds >= 0)
                s->builder = builder;
            s->seconds = merge_d(s->seconds, seconds);
            s->raw_bytes = merge_i(s->raw_bytes, raw_bytes);
            s->bytes = merge_i(s->bytes, bytes);
            return;
        }
    }
    XGROW(c->steps, c->cap, c->nsteps + 1);
    s = &c->steps[c->nsteps++];
    s->stage = stage;
    s->text = xstrdup(norm);
    s->builder = seconds >= 0 ? builder : -1;
    s->seconds = seconds;
    s->raw_bytes = raw_bytes;
    s->bytes = bytes;
    s->from = xstrdup(from ? from : "");
}

void model_calib_base(struct model_calib *c, const char *image, int64_t bytes,
                      size_t layers, const char *from)
{
    struct model_calib_base *b;

    for (size_t i = 0; i < c->nbases; i++)
        if (!strcmp(c->bases[i].image, image)) {
            c->bases[i].bytes = bytes;
            c->bases[i].layers = layers;
            return;
        }
    c->bases = xrealloc(c->bases, (c->nbases + 1) * sizeof(*c->bases));
    b = &c->bases[c->nbases++];
    b->image = xstrdup(image);
    b->bytes = bytes;
    b->layers = layers;
    b->from = xstrdup(from ? from : "");
}

/* A calibration text ending in "..." (a truncated log name) matches by
 * prefix. */
static int text_match(const char *calib, const char *norm)
{
    size_t n = strlen(calib);

    if (n > 3 && !strcmp(calib + n - 3, "..."))
        return !strncmp(calib, norm, n - 3);
    return !strcmp(calib, norm);
}

/* The best measurement for (stage, text, builder): the same stage and
 * builder score highest; 0: none matches. */
static int calib_score(const struct model_calib_step *s, int stage,
                       int builder, int want_seconds)
{
    int score = 1;

    if (want_seconds && s->seconds < 0)
        return 0;
    if (!want_seconds && s->raw_bytes < 0 && s->bytes < 0)
        return 0;
    if (s->stage == stage)
        score += 2;
    if (want_seconds && s->builder == builder)
        score += 4;
    return score;
}

static const struct model_calib_step *calib_find(const struct model_calib *c,
                                                 int stage, const char *text,
                                                 int builder, int want_seconds)
{
    const struct model_calib_step *best = NULL;
    int best_score = 0;
    char norm[1024];

    if (!c || !c->nsteps || !text)
        return NULL;
    model_text_norm(text, norm, sizeof(norm));
    for (size_t i = 0; i < c->nsteps; i++) {
        const struct model_calib_step *s = &c->steps[i];
        int sc;
        if (!text_match(s->text, norm))
            continue;
        sc = calib_score(s, stage, builder, want_seconds);
        if (sc > best_score) {
            best = s;
            best_score = sc;
        }
    }
    return best;
}

/* A builder's own cost of a step, beside the work it does: what differs
 * when a step measured under one builder runs under the other. */
static double kind_overhead(const struct model_builder *b,
                            const struct model_step_in *in)
{
    switch (in->kind) {
    case MODEL_RUN:
        return b->step_overhead;
    case MODEL_COPY:
        return b->copy_overhead + b->copy_file * (double)in->copy_files;
    case MODEL_WORKDIR:
        return b->workdir_step;
    case MODEL_META:
        return b->meta_step;
    default:
        return 0;
    }
}

/* ---- heuristics ---- */

/* Package words after an install verb: not options, not shell syntax. */
static long count_words(const char *cmd, const char *needle)
{
    const char *p = strstr(cmd, needle);
    long n = 0;

    if (!p)
        return -1;
    p += strlen(needle);
    for (;;) {
        const char *w;
        size_t len;

        while (*p == ' ' || *p == '\t' || *p == '\\' || *p == '\n')
            p++;
        if (!*p || strchr("&|;)><", *p))
            break;
        w = p;
        while (*p && !isspace((unsigned char)*p) && !strchr("&|;)<>", *p))
            p++;
        len = (size_t)(p - w);
        if (w[0] == '-' || (len == 1 && w[0] == '\\'))
            continue;
        n++;
    }
    return n;
}

static const struct model_run_rule *run_rule(const struct model *m,
                                             const char *command)
{
    for (size_t i = 0; i < m->nruns; i++)
        if (strstr(command, m->runs[i].needle))
            return &m->runs[i];
    return NULL;
}

static const char *const eco_files[] = {
    [MODEL_ECO_PIP] = "requirements*.txt",
    [MODEL_ECO_NPM] = "package-lock.json",
    [MODEL_ECO_GO] = "go.sum",
    [MODEL_ECO_CARGO] = "Cargo.lock",
    [MODEL_ECO_NUGET] = "*.csproj",
};

static void run_cost(const struct model *m, const struct model_step_in *in,
                     struct model_cost *out)
{
    const char *cmd = in->command ? in->command : "";
    const struct model_run_rule *r = run_rule(m, cmd);
    const struct model_builder *b = &m->b[in->builder];
    double secs = m->run_seconds, mb = m->run_mbytes;

    out->seconds_src = out->bytes_src = MODEL_SRC_DEFAULT;
    snprintf(out->rule, sizeof(out->rule), "RUN default");
    if (r) {
        long n = -1;
        secs = r->seconds;
        mb = r->mbytes;
        out->seconds_src = out->bytes_src = MODEL_SRC_FAMILY;
        snprintf(out->rule, sizeof(out->rule), "'%s' family", r->needle);
        if (r->per_word)
            n = count_words(cmd, r->needle);
        else if (r->eco >= 0 && in->facts)
            n = in->facts->packages[r->eco];
        if (n >= 0 && (r->per_word || r->eco >= 0)) {
            secs = m->run_seconds + r->pkg_seconds * (double)n;
            mb = m->run_mbytes + r->pkg_mbytes * (double)n;
            out->seconds_src = out->bytes_src = MODEL_SRC_HEURISTIC;
            snprintf(out->rule, sizeof(out->rule), "%ld packages (%s)", n,
                     r->per_word ? "named on the command line"
                                 : eco_files[r->eco]);
        } else if (r->per_source && in->source_bytes > 0) {
            double smb = (double)in->source_bytes / MB;
            secs = m->run_seconds + r->pkg_seconds * smb;
            mb = m->run_mbytes + r->pkg_mbytes * smb;
            out->seconds_src = out->bytes_src = MODEL_SRC_HEURISTIC;
            snprintf(out->rule, sizeof(out->rule),
                     "%.2f MB of sources ('%s')", smb, r->needle);
        }
    }
    out->seconds = b->step_overhead + secs;
    out->raw_bytes = (uint64_t)(mb * MB);
}

void model_step_cost(const struct model *m, const struct model_step_in *in,
                     struct model_cost *out)
{
    const struct model_builder *b = &m->b[in->builder ? 1 : 0];
    const struct model_calib_step *c;

    memset(out, 0, sizeof(*out));
    switch (in->kind) {
    case MODEL_RUN:
        run_cost(m, in, out);
        break;
    case MODEL_COPY:
        out->seconds = b->copy_overhead +
                       (double)in->copy_bytes / MB / m->copy_mbps +
                       b->copy_file * (double)in->copy_files;
        out->raw_bytes = in->copy_bytes + 512 * (uint64_t)in->copy_files;
        out->seconds_src = out->bytes_src = MODEL_SRC_HEURISTIC;
        snprintf(out->rule, sizeof(out->rule), "%zu files, %llu bytes selected",
                 in->copy_files, (unsigned long long)in->copy_bytes);
        break;
    case MODEL_WORKDIR:
        out->seconds = b->workdir_step;
        out->raw_bytes = 0;
        snprintf(out->rule, sizeof(out->rule), "WORKDIR default");
        break;
    case MODEL_FROM:
        out->seconds = 0;
        out->bytes = model_base_bytes(m, in->image ? in->image : "",
                                      &out->bytes_src);
        out->raw_bytes = (uint64_t)((double)out->bytes / m->compress_ratio);
        snprintf(out->rule, sizeof(out->rule), "base image");
        return;
    case MODEL_META:
        out->seconds = b->meta_step;
        snprintf(out->rule, sizeof(out->rule), "metadata default");
        break;
    }
    out->bytes = model_compressed(m, out->raw_bytes);
    c = calib_find(m->calib, in->stage, in->text, in->builder, 1);
    if (c) {
        double s = c->seconds;
        /* measured under the other builder: its work, our overhead */
        if (c->builder >= 0 && c->builder != (in->builder ? 1 : 0)) {
            s -= kind_overhead(&m->b[c->builder], in);
            s = (s > 0 ? s : 0) + kind_overhead(b, in);
        }
        out->seconds = s;
        out->seconds_src = MODEL_SRC_CALIBRATED;
        snprintf(out->rule, sizeof(out->rule), "%s", c->from);
    }
    c = calib_find(m->calib, in->stage, in->text, in->builder, 0);
    if (c) {
        out->raw_bytes = c->raw_bytes >= 0
                             ? (uint64_t)c->raw_bytes
                             : (uint64_t)((double)c->bytes /
                                          m->compress_ratio);
        out->bytes = c->bytes >= 0 ? (uint64_t)c->bytes
                                   : model_compressed(m, out->raw_bytes);
        out->bytes_src = MODEL_SRC_CALIBRATED;
        if (out->seconds_src != MODEL_SRC_CALIBRATED)
            snprintf(out->rule, sizeof(out->rule), "%s", c->from);
    }
}

uint64_t model_base_bytes(const struct model *m, const char *image,
                          enum model_src *src)
{
    const char *name = image, *slash;
    size_t i;

    if (src)
        *src = MODEL_SRC_CALIBRATED;
    for (i = 0; m->calib && i < m->calib->nbases; i++) {
        size_t n = strlen(m->calib->bases[i].image);
        /* "image" or "image@digest" (a --base identity) */
        if (!strncmp(m->calib->bases[i].image, image, n) &&
            (image[n] == '\0' || image[n] == '@'))
            return (uint64_t)m->calib->bases[i].bytes;
    }
    if (src)
        *src = MODEL_SRC_FAMILY;
    /* strip a registry host: "127.0.0.1:5000/base:1" -> "base:1" */
    slash = strrchr(image, '/');
    if (slash && strncmp(image, "gcr.io/", 7))
        name = slash + 1;
    for (i = 0; i < m->nbases; i++)
        if (!strncmp(name, m->bases[i].prefix, strlen(m->bases[i].prefix)))
            return (uint64_t)(m->bases[i].mbytes * MB);
    if (src)
        *src = MODEL_SRC_DEFAULT;
    return (uint64_t)(m->unknown_base_mbytes * MB);
}

uint64_t model_compressed(const struct model *m, uint64_t raw)
{
    return (uint64_t)((double)raw * m->compress_ratio);
}

/* ---- transfers and fixed costs ---- */

static double rounds(size_t n, int conc)
{
    size_t c = conc > 0 ? (size_t)conc : 1;
    return (double)((n + c - 1) / c);
}

double model_pull_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs, size_t nlayers)
{
    double mb = (double)bytes / MB;

    return m->blob_latency * rounds(nblobs, m->pull_concurrency) +
           mb / m->pull_mbps + m->extract_layer * (double)nlayers +
           mb / m->compress_ratio / m->unpack_mbps;
}

double model_push_seconds(const struct model *m, int builder, uint64_t bytes,
                          size_t nblobs)
{
    double mb = (double)bytes / MB;
    double s = m->push_base +
               m->blob_latency * rounds(nblobs, m->push_concurrency) +
               mb / m->push_mbps;

    if (m->b[builder ? 1 : 0].compress_on_push)
        s += mb / m->compress_ratio / m->pack_mbps;
    return s;
}

/* A fixed cost the user's logs measured for this builder, or -1. */
static double measured(const struct model *m, int builder, size_t off)
{
    if (!m->calib)
        return -1;
    return *(const double *)((const char *)&m->calib->fixed[builder ? 1 : 0] +
                             off);
}

double model_context_seconds(const struct model *m, int builder,
                             uint64_t bytes)
{
    const struct model_builder *b = &m->b[builder ? 1 : 0];
    double c = measured(m, builder, offsetof(struct model_calib_fixed,
                                             context));

    if (c >= 0)
        return c;
    return b->context_base + (double)bytes / MB / b->context_mbps;
}

double model_fixed_seconds(const struct model *m, int builder,
                           size_t nimports, size_t nlayers, uint64_t raw)
{
    const struct model_builder *b = &m->b[builder ? 1 : 0];
    double start = measured(m, builder,
                            offsetof(struct model_calib_fixed, start));
    double imp = measured(m, builder,
                          offsetof(struct model_calib_fixed, cache_import));
    double exp = measured(m, builder,
                          offsetof(struct model_calib_fixed, export_total));
    double s = b->client + (start >= 0 ? start : b->start) +
               (imp >= 0 ? imp : b->cache_import) * (double)nimports;

    if (exp >= 0 && !b->compress_on_push)
        return s + exp; /* the log's "exporting to image", naming included */
    s += b->image_write;
    if (!b->compress_on_push)
        s += b->export_base + b->export_layer * (double)nlayers +
             (double)raw / MB / m->pack_mbps;
    return s;
}

double model_schedule(const struct model *m, int builder, const double *dur,
                      const int *dep_a, const int *dep_b, size_t n)
{
    double *fin, wall = 0, freeat[64];
    size_t cores = m->cores > 0 ? (size_t)m->cores : 64, i, c;

    if (!m->b[builder ? 1 : 0].parallel || cores == 1) {
        for (i = 0; i < n; i++)
            wall += dur[i];
        return wall;
    }
    if (cores > 64)
        cores = 64;
    for (c = 0; c < cores; c++)
        freeat[c] = 0;
    fin = xcalloc(n + 1, sizeof(*fin));
    for (i = 0; i < n; i++) {
        double ready = 0, start;
        size_t best = 0;
        if (dep_a[i] >= 0 && (size_t)dep_a[i] < i && fin[dep_a[i]] > ready)
            ready = fin[dep_a[i]];
        if (dep_b[i] >= 0 && (size_t)dep_b[i] < i && fin[dep_b[i]] > ready)
            ready = fin[dep_b[i]];
        if (dur[i] <= 0) { /* nothing to run: no core taken */
            fin[i] = ready;
            continue;
        }
        /* the core free soonest; ties go to the lowest index */
        for (c = 1; c < cores; c++)
            if (freeat[c] < freeat[best])
                best = c;
        start = ready > freeat[best] ? ready : freeat[best];
        fin[i] = start + dur[i];
        freeat[best] = fin[i];
        if (fin[i] > wall)
            wall = fin[i];
    }
    free(fin);
    return wall;
}
