/*
 * pricing.c - pricing profiles (see pricing.h).  The reader is a table of
 * figures: each known "section.key" names a double in struct pricing, so
 * that an unknown key, a wrong type and a figure without a source are all
 * found by the same walk.
 */
#include "pricing.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

static const char *const billing_names[] = { "per-job-minute", "per-second",
                                             "parallel-job" };
static const char *const store_names[] = { "registry", "gha", "s3", "disk" };

const char *pricing_billing_name(enum pricing_billing b)
{
    return (unsigned)b < 3 ? billing_names[b] : "?";
}

int pricing_billing_parse(const char *s, enum pricing_billing *out)
{
    unsigned i;

    for (i = 0; i < 3; i++)
        if (!strcmp(s, billing_names[i])) {
            *out = (enum pricing_billing)i;
            return 0;
        }
    return ERR_INVALID;
}

const char *pricing_store_name(enum pricing_store s)
{
    return (unsigned)s < PRICING_NSTORES ? store_names[s] : "?";
}

/* ---- where figures live ---- */

struct figure {
    const char *key; /* inside its section */
    size_t off;      /* offsetof a double in struct pricing_backend, or in
                        struct pricing for "compute" */
};

#define CF(k, f)                                                               \
    {                                                                          \
        k, offsetof(struct pricing, f)                                         \
    }
static const struct figure compute_figures[] = {
    CF("included_minutes", included_minutes),
    CF("startup_seconds", startup_seconds),
    CF("minimum_seconds", minimum_seconds),
    CF("parallel_job_usd_month", parallel_job_usd_month),
    CF("parallel_job_minutes_month", parallel_job_minutes_month),
    CF("free_parallel_jobs", free_parallel_jobs),
};
#undef CF

#define BF(k)                                                                  \
    {                                                                          \
#k, offsetof(struct pricing_backend, k)                                \
    }
static const struct figure store_figures[] = {
    BF(storage_usd_per_gb_month), BF(free_storage_gb),
    BF(egress_usd_per_gb),        BF(free_egress_gb),
    BF(ingress_usd_per_gb),       BF(get_usd_per_1000),
    BF(put_usd_per_1000),         BF(pulls_per_hour_limit),
};
#undef BF

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct reader {
    const char *path, *text;
    size_t len;
    struct err *err;
    struct pricing *p;
    char **given; /* "section.key" of every figure the file gives */
    size_t ngiven;
};

/* Line of the first `"key"` at or after line `from`, for messages
 * (jansson keeps no positions for values); `from` if none. */
static int key_line(const struct reader *r, int from, const char *key)
{
    size_t klen = strlen(key), i;
    int line = 1;

    for (i = 0; i + klen + 2 <= r->len; i++) {
        if (r->text[i] == '\n') {
            line++;
            continue;
        }
        if (line >= from && r->text[i] == '"' &&
            !memcmp(r->text + i + 1, key, klen) && r->text[i + 1 + klen] == '"')
            return line;
    }
    return from;
}

static int bad(struct reader *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct reader *r, int line, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    err_set_at(r->err, ERR_PARSE, r->path, line, "%s", buf_cstr(&b));
    buf_release(&b);
    err_hint(r->err, "see the pricing profile format in doc/pricing.md");
    return ERR_PARSE;
}

static int get_str(struct reader *r, int line, json_t *v, const char *key,
                   char **out)
{
    if (!json_is_string(v))
        return bad(r, line, "'%s' must be a string%s", key, "");
    free(*out);
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_num(struct reader *r, int line, json_t *v, const char *key,
                   double *out)
{
    double d;

    if (!json_is_number(v))
        return bad(r, line, "'%s' must be a number%s", key, "");
    d = json_number_value(v);
    if (!(d >= 0) || !isfinite(d) || d > 1e12)
        return bad(r, line, "'%s' must be a number from 0 to 1e12%s", key, "");
    *out = d;
    return 0;
}

static void given_add(struct reader *r, const char *section, const char *key)
{
    struct buf b = BUF_INIT;

    buf_printf(&b, "%s.%s", section, key);
    r->given = xrealloc(r->given, (r->ngiven + 1) * sizeof(*r->given));
    r->given[r->ngiven++] = buf_detach(&b);
}

static int read_runners(struct reader *r, int line, json_t *v)
{
    const char *k;
    json_t *val;

    if (!json_is_object(v) || !json_object_size(v))
        return bad(r, line, "'%s' must be an object of rates per minute%s",
                   "runners", "");
    json_object_foreach(v, k, val)
    {
        struct pricing_runner *pr;
        int kl = key_line(r, line, k);

        r->p->runners = xrealloc(r->p->runners,
                                 (r->p->nrunners + 1) * sizeof(*r->p->runners));
        pr = &r->p->runners[r->p->nrunners++];
        pr->name = xstrdup(k);
        pr->usd_per_minute = 0;
        if (get_num(r, kl, val, k, &pr->usd_per_minute))
            return ERR_PARSE;
    }
    return 0;
}

static int read_compute(struct reader *r, int line, json_t *v)
{
    const char *k;
    json_t *val;
    size_t i;

    if (!json_is_object(v))
        return bad(r, line, "'%s' must be an object%s", "compute", "");
    json_object_foreach(v, k, val)
    {
        int kl = key_line(r, line, k);
        int rc = 0;

        if (!strcmp(k, "billing")) {
            if (!json_is_string(val) ||
                pricing_billing_parse(json_string_value(val), &r->p->billing))
                return bad(r, kl, "'%s' must be %s", k,
                           "\"per-job-minute\", \"per-second\" or "
                           "\"parallel-job\"");
            given_add(r, "compute", k);
            continue;
        }
        if (!strcmp(k, "runner")) {
            rc = get_str(r, kl, val, k, &r->p->runner);
        } else if (!strcmp(k, "runners")) {
            rc = read_runners(r, kl, val);
            given_add(r, "compute", k);
        } else {
            for (i = 0; i < NELEM(compute_figures); i++)
                if (!strcmp(k, compute_figures[i].key))
                    break;
            if (i == NELEM(compute_figures))
                return bad(r, kl, "unknown key '%s' in \"%s\"", k, "compute");
            rc = get_num(r, kl, val, k,
                         (double *)((char *)r->p + compute_figures[i].off));
            given_add(r, "compute", k);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int read_store(struct reader *r, int line, enum pricing_store s,
                      json_t *v)
{
    struct pricing_backend *be = &r->p->store[s];
    const char *k;
    json_t *val;
    size_t i;

    if (!json_is_object(v))
        return bad(r, line, "'%s' must be an object%s", store_names[s], "");
    json_object_foreach(v, k, val)
    {
        int kl = key_line(r, line, k);

        if (!strcmp(k, "name")) {
            if (get_str(r, kl, val, k, &be->name))
                return ERR_PARSE;
            continue;
        }
        for (i = 0; i < NELEM(store_figures); i++)
            if (!strcmp(k, store_figures[i].key))
                break;
        if (i == NELEM(store_figures))
            return bad(r, kl, "unknown key '%s' in \"%s\"", k, store_names[s]);
        if (get_num(r, kl, val, k,
                    (double *)((char *)be + store_figures[i].off)))
            return ERR_PARSE;
        given_add(r, store_names[s], k);
    }
    return 0;
}

static int read_strings(struct reader *r, int line, json_t *v, const char *key,
                        char ***out, size_t *n)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return bad(r, line, "'%s' must be a list of strings%s", key, "");
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            return bad(r, line, "'%s' must be a list of strings%s", key, "");
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = xstrdup(json_string_value(e));
    }
    return 0;
}

static int read_sources(struct reader *r, int line, json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || !json_array_size(v))
        return bad(r, line, "'%s' must be a non-empty list of %s", "sources",
                   "{\"figures\", \"url\", \"date\", \"note\"}");
    json_array_foreach(v, i, e)
    {
        struct pricing_source *s;
        const char *k;
        json_t *val;

        if (!json_is_object(e))
            return bad(r, line, "'%s' must be a list of %s", "sources",
                       "objects");
        r->p->sources = xrealloc(r->p->sources,
                                 (r->p->nsources + 1) * sizeof(*r->p->sources));
        s = &r->p->sources[r->p->nsources++];
        memset(s, 0, sizeof(*s));
        json_object_foreach(e, k, val)
        {
            int kl = key_line(r, line, k);
            int rc;

            if (!strcmp(k, "figures"))
                rc = read_strings(r, kl, val, k, &s->figures, &s->nfigures);
            else if (!strcmp(k, "url"))
                rc = get_str(r, kl, val, k, &s->url);
            else if (!strcmp(k, "date"))
                rc = get_str(r, kl, val, k, &s->date);
            else if (!strcmp(k, "note"))
                rc = get_str(r, kl, val, k, &s->note);
            else
                return bad(r, kl, "unknown key '%s' in \"%s\"", k, "sources");
            if (rc)
                return rc;
        }
        if (!s->url || !s->nfigures)
            return bad(r, line, "each of '%s' needs %s", "sources",
                       "\"url\" and \"figures\"");
    }
    return 0;
}

static int read_estimates(struct reader *r, int line, json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return bad(r, line, "'%s' must be a list of %s", "estimates",
                   "{\"figure\", \"why\"}");
    json_array_foreach(v, i, e)
    {
        struct pricing_estimate *pe;
        json_t *f = json_object_get(e, "figure");
        json_t *w = json_object_get(e, "why");

        if (!json_is_object(e) || !json_is_string(f) || !json_is_string(w) ||
            json_object_size(e) != 2)
            return bad(r, line, "each of '%s' must be %s", "estimates",
                       "{\"figure\": \"section.key\", \"why\": \"...\"}");
        r->p->estimates = xrealloc(
            r->p->estimates, (r->p->nestimates + 1) * sizeof(*r->p->estimates));
        pe = &r->p->estimates[r->p->nestimates++];
        pe->figure = xstrdup(json_string_value(f));
        pe->why = xstrdup(json_string_value(w));
    }
    return 0;
}

static int read_key(struct reader *r, const char *k, json_t *v)
{
    int line = key_line(r, 1, k);
    size_t i;

    if (!strcmp(k, "name"))
        return get_str(r, line, v, k, &r->p->name);
    if (!strcmp(k, "date"))
        return get_str(r, line, v, k, &r->p->date);
    if (!strcmp(k, "description"))
        return get_str(r, line, v, k, &r->p->description);
    if (!strcmp(k, "compute"))
        return read_compute(r, line, v);
    if (!strcmp(k, "sources"))
        return read_sources(r, line, v);
    if (!strcmp(k, "estimates"))
        return read_estimates(r, line, v);
    if (!strcmp(k, "notes"))
        return read_strings(r, line, v, k, &r->p->notes, &r->p->nnotes);
    for (i = 0; i < PRICING_NSTORES; i++)
        if (!strcmp(k, store_names[i]))
            return read_store(r, line, (enum pricing_store)i, v);
    return bad(r, line, "unknown key '%s'%s", k, "");
}

/* Whether figure f ("s3.egress_usd_per_gb") is named by name: exactly, or
 * by its section ("s3"). */
static int covers(const char *name, const char *f)
{
    size_t n = strlen(name);

    return !strcmp(name, f) || (!strncmp(name, f, n) && f[n] == '.');
}

const char *pricing_figure_note(const struct pricing *p, const char *figure,
                                int *estimate)
{
    size_t i, j;
    const char *f = figure;

    *estimate = 0;
    if (!strcmp(figure, "compute.usd_per_minute"))
        f = "compute.runners";
    for (i = 0; i < p->nestimates; i++)
        if (covers(p->estimates[i].figure, f)) {
            *estimate = 1;
            return p->estimates[i].why;
        }
    for (i = 0; i < p->nsources; i++)
        for (j = 0; j < p->sources[i].nfigures; j++)
            if (covers(p->sources[i].figures[j], f))
                return p->sources[i].url;
    return NULL;
}

/* After the walk: required keys, the runner, every figure accounted for. */
static int check(struct reader *r)
{
    struct pricing *p = r->p;
    size_t i;
    int est;

    if (!p->name || !p->date)
        return bad(r, 1, "a pricing profile needs %s%s",
                   "\"name\" and \"date\" (when its figures were read)", "");
    if (!p->nrunners)
        return bad(r, key_line(r, 1, "compute"), "'%s' needs %s", "compute",
                   "\"runners\": {\"NAME\": USD_PER_MINUTE, ...}");
    if (!p->runner)
        p->runner = xstrdup(p->runners[0].name);
    for (i = 0; i < p->nrunners; i++)
        if (!strcmp(p->runners[i].name, p->runner))
            break;
    if (i == p->nrunners)
        return bad(r, key_line(r, 1, "runner"),
                   "runner '%s' is not in \"runners\"%s", p->runner, "");
    p->usd_per_minute = p->runners[i].usd_per_minute;
    if (p->billing == PRICING_PARALLEL_JOB &&
        p->parallel_job_minutes_month <= 0)
        return bad(r, key_line(r, 1, "billing"), "'%s' billing needs %s",
                   "parallel-job", "\"parallel_job_minutes_month\" > 0");
    for (i = 0; i < r->ngiven; i++)
        if (!pricing_figure_note(p, r->given[i], &est)) {
            const char *dot = strchr(r->given[i], '.');
            return bad(r, key_line(r, 1, dot ? dot + 1 : r->given[i]),
                       "figure '%s' has no source%s", r->given[i],
                       ": list it in a source's \"figures\" or in "
                       "\"estimates\"");
        }
    for (i = 0; i < p->nestimates; i++) {
        size_t j;
        for (j = 0; j < r->ngiven; j++)
            if (covers(p->estimates[i].figure, r->given[j]))
                break;
        if (j == r->ngiven)
            return bad(r, key_line(r, 1, p->estimates[i].figure),
                       "estimate of '%s' names no figure of the file%s",
                       p->estimates[i].figure, "");
    }
    return 0;
}

int pricing_parse(struct pricing *p, const char *path, const char *text,
                  size_t len, struct err *err)
{
    struct reader r = { path, text, len, err, p, NULL, 0 };
    json_error_t je;
    json_t *root;
    const char *k;
    json_t *v;
    int rc = 0;
    size_t i;

    memset(p, 0, sizeof(*p));
    p->path = xstrdup(path);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        err_set_at(err, ERR_PARSE, path, je.line > 0 ? je.line : 1,
                   "not valid JSON: %s", je.text);
        rc = ERR_PARSE;
        goto out;
    }
    if (!json_is_object(root)) {
        rc = bad(&r, 1, "a pricing profile must be a JSON object%s%s", "", "");
        goto out;
    }
    json_object_foreach(root, k, v)
    {
        if ((rc = read_key(&r, k, v)) < 0)
            goto out;
    }
    rc = check(&r);
out:
    json_decref(root);
    for (i = 0; i < r.ngiven; i++)
        free(r.given[i]);
    free(r.given);
    if (rc)
        pricing_release(p);
    return rc;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

char *pricing_dir(void)
{
    const char *env = getenv("HARNESS_PRICING_DIR");
    char exe[PATH_MAX];
    ssize_t n;
    struct buf b = BUF_INIT;
    static const char *const rel[] = { "/../scenarios/pricing",
                                       "/../share/harness/pricing" };
    size_t i;

    if (env && *env)
        return xstrdup(env);
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;
        exe[n] = 0;
        slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        for (i = 0; i < NELEM(rel); i++) {
            buf_reset(&b);
            buf_printf(&b, "%s%s", exe, rel[i]);
            if (exists(b.ptr))
                return buf_detach(&b);
        }
    }
    buf_release(&b);
    return NULL;
}

static int read_file(const char *path, struct buf *b, struct err *err)
{
    FILE *fp = fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (!fp)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
                       "cannot read pricing profile '%s': %s", path,
                       strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(b, chunk, n);
    fclose(fp);
    return 0;
}

int pricing_load(struct pricing *p, const char *name, struct err *err)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    size_t len = strlen(name);
    int rc;

    memset(p, 0, sizeof(*p));
    if (strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".json"))) {
        buf_adds(&path, name);
    } else {
        char *dir = pricing_dir();
        if (!dir) {
            err_set(err, ERR_NOTFOUND, "no pricing folder for profile '%s'",
                    name);
            err_hint(err, "set HARNESS_PRICING_DIR or pass --pricing FILE");
            return ERR_NOTFOUND;
        }
        buf_printf(&path, "%s/%s.json", dir, name);
        if (!exists(path.ptr)) {
            err_set(err, ERR_NOTFOUND, "unknown pricing profile '%s'", name);
            err_hint(err,
                     "profiles: github-actions, cloud-build, codebuild, "
                     "gitlab, azure-pipelines, remote-builder (in %s), or a "
                     "FILE",
                     dir);
            free(dir);
            buf_release(&path);
            return ERR_NOTFOUND;
        }
        free(dir);
    }
    rc = read_file(path.ptr, &text, err);
    if (!rc)
        rc = pricing_parse(p, path.ptr, buf_cstr(&text), text.len, err);
    buf_release(&path);
    buf_release(&text);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void pricing_release(struct pricing *p)
{
    size_t i;

    if (!p)
        return;
    free(p->name);
    free(p->date);
    free(p->description);
    free(p->path);
    free(p->runner);
    for (i = 0; i < p->nrunners; i++)
        free(p->runners[i].name);
    free(p->runners);
    for (i = 0; i < PRICING_NSTORES; i++)
        free(p->store[i].name);
    for (i = 0; i < p->nsources; i++) {
        free_strings(p->sources[i].figures, p->sources[i].nfigures);
        free(p->sources[i].url);
        free(p->sources[i].date);
        free(p->sources[i].note);
    }
    free(p->sources);
    for (i = 0; i < p->nestimates; i++) {
        free(p->estimates[i].figure);
        free(p->estimates[i].why);
    }
    free(p->estimates);
    free_strings(p->notes, p->nnotes);
    memset(p, 0, sizeof(*p));
}
