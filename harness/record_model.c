/*
 * record_model.c - the JSON files of the build-time model (see record.h):
 * model files (scenarios/model/<profile>.json), `docker history --format
 * '{{json .}}'` lines, image manifests and BuildKit `--progress=rawjson`
 * logs.  A JSON reader module: it and record.c are the only includers of
 * <jansson.h>.
 */
#include "record.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Line of the first "key" in text (values carry no position). */
static int line_of(const char *text, size_t len, const char *key)
{
    size_t kl = strlen(key), i;
    int line = 1;

    for (i = 0; i + kl + 2 <= len; i++) {
        if (text[i] == '\n')
            line++;
        else if (text[i] == '"' && !memcmp(text + i + 1, key, kl) &&
                 text[i + 1 + kl] == '"')
            return line;
    }
    return 1;
}

struct mreader {
    const char *path, *text;
    size_t len;
    struct err *err;
};

static int bad(struct mreader *r, const char *key, const char *what)
{
    err_set_at(r->err, ERR_PARSE, r->path, line_of(r->text, r->len, key),
               "'%s' %s", key, what);
    err_hint(r->err, "see scenarios/model/docker-20.10.json and doc/model.md");
    return ERR_PARSE;
}

/* {"value": number, "source": "text"} or a bare number. */
static int num(struct mreader *r, json_t *v, const char *key, double *out)
{
    json_t *val = v;

    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        val = NULL;
        json_object_foreach(v, k, x)
        {
            if (!strcmp(k, "value"))
                val = x;
            else if (strcmp(k, "source") && strcmp(k, "unit"))
                return bad(r, key, "takes value, unit and source");
        }
        if (!json_is_string(json_object_get(v, "source")))
            return bad(r, key, "needs a \"source\" (or \"estimate\")");
    }
    if (!val || !json_is_number(val) || json_number_value(val) < 0 ||
        !isfinite(json_number_value(val)))
        return bad(r, key, "must be a number >= 0");
    *out = json_number_value(val);
    return 0;
}

struct field {
    const char *name;
    size_t off;
    int is_int;
};

#define FB(f) { #f, offsetof(struct model_builder, f), 0 }
#define FBI(f) { #f, offsetof(struct model_builder, f), 1 }
static const struct field builder_fields[] = {
    FB(client),        FB(fresh_start),  FB(start),        FB(copy_file),        FB(context_base), FB(context_mbps),
    FBI(context_full), FB(step_overhead), FB(copy_overhead), FB(workdir_step),
    FB(meta_step),     FB(cached_step),  FB(cache_import), FB(export_base),
    FB(export_layer),  FB(image_write),  FBI(parallel),    FBI(compress_on_push),
};

#define FM(f) { #f, offsetof(struct model, f), 0 }
#define FMI(f) { #f, offsetof(struct model, f), 1 }
static const struct field model_fields[] = {
    FM(blob_latency),      FM(pull_base),      FM(push_base),
    FM(extract_layer),     FM(pull_mbps),      FM(push_mbps),
    FM(unpack_mbps),       FM(pack_mbps),      FMI(pull_concurrency),
    FMI(push_concurrency), FM(compress_ratio), FM(config_bytes),
    FM(manifest_bytes),    FM(run_seconds),    FM(run_mbytes),
    FM(copy_mbps),         FM(git_dir_files), FM(git_dir_mbytes),
    FM(unknown_base_mbytes),
    FMI(cores),
};

static int set_fields(struct mreader *r, json_t *obj, const char *what,
                      const struct field *f, size_t nf, void *base)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj))
        return bad(r, what, "must be an object");
    json_object_foreach(obj, k, v)
    {
        size_t i;
        double d;
        for (i = 0; i < nf && strcmp(f[i].name, k); i++)
            ;
        if (i == nf) {
            err_set_at(r->err, ERR_PARSE, r->path,
                       line_of(r->text, r->len, k), "unknown key '%s' in %s",
                       k, what);
            return ERR_PARSE;
        }
        if (num(r, v, k, &d) < 0)
            return ERR_PARSE;
        if (f[i].is_int)
            *(int *)((char *)base + f[i].off) = (int)d;
        else
            *(double *)((char *)base + f[i].off) = d;
    }
    return 0;
}

static int eco_parse(const char *s)
{
    static const char *const names[] = { "pip", "npm", "go", "cargo",
                                         "nuget" };
    for (int i = 0; i < MODEL_ECO_COUNT; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -2;
}

static int read_runs(struct mreader *r, struct model *m, json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > MODEL_RUN_RULES)
        return bad(r, "run_families", "must be a list of at most 24 rules");
    m->nruns = 0;
    json_array_foreach(v, i, e)
    {
        struct model_run_rule *x = &m->runs[m->nruns++];
        const char *k;
        json_t *f;
        memset(x, 0, sizeof(*x));
        x->eco = -1;
        if (!json_is_object(e))
            return bad(r, "run_families", "must hold objects");
        json_object_foreach(e, k, f)
        {
            double d = 0;
            if (!strcmp(k, "needle") && json_is_string(f) &&
                strlen(json_string_value(f)) < sizeof(x->needle))
                snprintf(x->needle, sizeof(x->needle), "%s",
                         json_string_value(f));
            else if (!strcmp(k, "lockfile") && json_is_string(f) &&
                     (x->eco = eco_parse(json_string_value(f))) >= -1)
                ;
            else if (!strcmp(k, "lockfile") && json_is_null(f))
                x->eco = -1;
            else if (!strcmp(k, "source") && json_is_string(f))
                ;
            else if ((!strcmp(k, "per_word") || !strcmp(k, "per_source")) &&
                     json_is_boolean(f))
                *(k[4] == 'w' ? &x->per_word : &x->per_source) =
                    json_is_true(f);
            else if (!strcmp(k, "seconds") && !num(r, f, k, &d))
                x->seconds = d;
            else if (!strcmp(k, "mbytes") && !num(r, f, k, &d))
                x->mbytes = d;
            else if (!strcmp(k, "pkg_seconds") && !num(r, f, k, &d))
                x->pkg_seconds = d;
            else if (!strcmp(k, "pkg_mbytes") && !num(r, f, k, &d))
                x->pkg_mbytes = d;
            else
                return r->err->code ? r->err->code
                                    : bad(r, k, "is not a valid rule field");
        }
        if (!x->needle[0])
            return bad(r, "run_families", "rules need a \"needle\"");
    }
    return 0;
}

static int read_bases(struct mreader *r, struct model *m, json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > MODEL_BASES)
        return bad(r, "bases", "must be a list of at most 16 images");
    m->nbases = 0;
    json_array_foreach(v, i, e)
    {
        struct model_base *b = &m->bases[m->nbases++];
        json_t *p = json_object_get(e, "prefix");
        double d;
        if (!json_is_string(p) ||
            strlen(json_string_value(p)) >= sizeof(b->prefix) ||
            num(r, json_object_get(e, "mbytes"), "mbytes", &d) < 0)
            return r->err->code ? r->err->code
                                : bad(r, "bases",
                                      "entries need \"prefix\" and "
                                      "\"mbytes\"");
        snprintf(b->prefix, sizeof(b->prefix), "%s", json_string_value(p));
        b->mbytes = d;
    }
    return 0;
}

int record_model_parse(struct model *m, const char *path, const char *text,
                       size_t len, struct err *err)
{
    struct mreader r = { path, text, len, err };
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
    const char *k;
    struct model tmp;
    int rc = 0;

    if (!root)
        return err_set_at(err, ERR_PARSE, path, je.line, "%s", je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "a model file is a JSON object");
    }
    v = json_object_get(root, "profile");
    if (!json_is_string(v) ||
        model_profile(&tmp, json_string_value(v)) < 0) {
        json_decref(root);
        return bad(&r, "profile", "must name a profile: docker-20.10 or "
                                  "buildkit");
    }
    json_object_foreach(root, k, v)
    {
        if (!strcmp(k, "profile") || !strcmp(k, "about"))
            continue;
        if (!strcmp(k, "legacy"))
            rc = set_fields(&r, v, k, builder_fields,
                            sizeof(builder_fields) / sizeof(builder_fields[0]),
                            &tmp.b[MODEL_LEGACY]);
        else if (!strcmp(k, "buildkit"))
            rc = set_fields(&r, v, k, builder_fields,
                            sizeof(builder_fields) / sizeof(builder_fields[0]),
                            &tmp.b[MODEL_BUILDKIT]);
        else if (!strcmp(k, "parameters"))
            rc = set_fields(&r, v, k, model_fields,
                            sizeof(model_fields) / sizeof(model_fields[0]),
                            &tmp);
        else if (!strcmp(k, "run_families"))
            rc = read_runs(&r, &tmp, v);
        else if (!strcmp(k, "bases"))
            rc = read_bases(&r, &tmp, v);
        else
            rc = err_set_at(err, ERR_PARSE, path, line_of(text, len, k),
                            "unknown key '%s'", k);
        if (rc < 0)
            break;
    }
    json_decref(root);
    if (rc < 0)
        return rc;
    if (tmp.compress_ratio <= 0 || tmp.pull_mbps <= 0 || tmp.push_mbps <= 0 ||
        tmp.unpack_mbps <= 0 || tmp.pack_mbps <= 0 || tmp.copy_mbps <= 0 ||
        tmp.b[0].context_mbps <= 0 || tmp.b[1].context_mbps <= 0)
        return err_set_at(err, ERR_PARSE, path, 1,
                          "ratios and rates must be above 0");
    tmp.calib = m->calib;
    *m = tmp;
    return 0;
}

/* ---- docker history --format '{{json .}}' ---- */

int record_history_parse(struct buildlog_history **out, const char *path,
                         const char *text, size_t len, struct err *err)
{
    struct buildlog_history *h = xcalloc(1, sizeof(*h));
    size_t i = 0, cap = 0;
    int line = 0, rc = 0;

    *out = NULL;
    while (i < len) {
        size_t e = i;
        json_error_t je;
        json_t *o, *cb, *sz, *cm, *id;
        struct buildlog_history_row *row;
        int64_t size;

        while (e < len && text[e] != '\n')
            e++;
        line++;
        if (e == i || (e - i == 1 && text[i] == '\r')) {
            i = e + 1;
            continue;
        }
        o = json_loadb(text + i, e - i, JSON_REJECT_DUPLICATES, &je);
        i = e + 1;
        if (!o || !json_is_object(o)) {
            json_decref(o);
            rc = err_set_at(err, ERR_PARSE, path, line,
                            "not a JSON line of 'docker history --format "
                            "{{json .}}'");
            break;
        }
        cb = json_object_get(o, "CreatedBy");
        sz = json_object_get(o, "Size");
        cm = json_object_get(o, "Comment");
        id = json_object_get(o, "ID");
        if (!json_is_string(cb) || !json_is_string(sz)) {
            json_decref(o);
            rc = err_set_at(err, ERR_PARSE, path, line,
                            "a history line needs \"CreatedBy\" and "
                            "\"Size\"");
            break;
        }
        {
            const char *s = json_string_value(sz);
            char *end;
            long long raw = strtoll(s, &end, 10);
            if (*s && !*end && raw >= 0)
                size = raw; /* --human=false */
            else if (buildlog_size_parse(s, strlen(s), &size) < 0) {
                rc = err_set_at(err, ERR_PARSE, path, line,
                                "malformed size '%.40s'", s);
                json_decref(o); /* s is the object's */
                break;
            }
        }
        XGROW(h->rows, cap, h->nrows + 1);
        row = &h->rows[h->nrows++];
        row->image = xstrdup(json_is_string(id) ? json_string_value(id) : "");
        row->created_by = xstrdup(json_string_value(cb));
        row->size = size;
        row->comment =
            xstrdup(json_is_string(cm) ? json_string_value(cm) : "");
        json_decref(o);
    }
    if (rc == 0 && !h->nrows)
        rc = err_set_at(err, ERR_PARSE, path, 1,
                        "no history lines (run docker history --no-trunc "
                        "--format '{{json .}}' IMAGE)");
    if (rc < 0) {
        buildlog_history_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

/* ---- image manifest ---- */

int record_manifest_parse(struct record_manifest *out, const char *path,
                          const char *text, size_t len, struct err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *ls, *e;
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!root)
        return err_set_at(err, ERR_PARSE, path, je.line, "%s", je.text);
    ls = json_object_get(root, "layers");
    if (!json_is_object(root) || !json_is_array(ls) ||
        !json_is_object(json_object_get(root, "config"))) {
        json_decref(root);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "not an image manifest (no \"config\" and "
                          "\"layers\"; an index? pick the platform's "
                          "manifest)");
    }
    out->config_bytes =
        json_integer_value(json_object_get(json_object_get(root, "config"),
                                           "size"));
    out->layers = xcalloc(json_array_size(ls) + 1, sizeof(*out->layers));
    json_array_foreach(ls, i, e)
    {
        json_t *sz = json_object_get(e, "size");
        if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
            rc = err_set_at(err, ERR_PARSE, path,
                            line_of(text, len, "layers"),
                            "layer %zu has no \"size\"", i + 1);
            break;
        }
        out->layers[out->nlayers++] = json_integer_value(sz);
    }
    out->bytes = (int64_t)len;
    json_decref(root);
    if (rc < 0)
        record_manifest_release(out);
    return rc;
}

void record_manifest_release(struct record_manifest *m)
{
    free(m->layers);
    memset(m, 0, sizeof(*m));
}

/* ---- BuildKit --progress=rawjson ---- */

/* RFC 3339 ("2024-01-01T00:00:01.5Z", offsets too) in seconds since the
 * epoch; 0 on success. */
int record_time_parse(const char *s, double *out)
{
    int y, mo, d, h, mi, ss;
    double sec, frac = 0;
    long days;

    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' ||
        sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &ss) !=
            6)
        return -1;
    sec = ss;
    s += 19;
    if (*s == '.') {
        double scale = 0.1;
        for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
            frac += (*s - '0') * scale;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 60 || y < 1970 || y > 9999)
        return -1;
    /* days from civil (H. Hinnant's algorithm, public domain) */
    y -= mo <= 2;
    {
        long era = (y >= 0 ? y : y - 399) / 400;
        long yoe = y - era * 400;
        long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days = era * 146097 + doe - 719468;
    }
    *out = (double)days * 86400 + h * 3600 + mi * 60 + sec + frac;
    if (*s == '+' || *s == '-') {
        int oh = 0, om = 0;
        if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
            return -1;
        *out -= (*s == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else if (*s != 'Z' && *s != 'z') {
        return -1;
    }
    return 0;
}

struct rvertex {
    char *digest, *name;
    double started, completed; /* < 0: unknown */
    int cached, error;
};

int record_rawjson_to_plain(char **out, size_t *outlen, const char *path,
                            const char *text, size_t len, struct err *err)
{
    struct rvertex *v = NULL;
    size_t nv = 0, cap = 0, i = 0, k;
    struct buf b = BUF_INIT;
    int line = 0, rc = 0;

    *out = NULL;
    while (i < len && rc == 0) {
        size_t e = i, j;
        json_error_t je;
        json_t *o, *vs, *x;

        while (e < len && text[e] != '\n')
            e++;
        line++;
        if (e == i || (e - i == 1 && text[i] == '\r')) {
            i = e + 1;
            continue;
        }
        o = json_loadb(text + i, e - i, 0, &je);
        i = e + 1;
        if (!o || !json_is_object(o)) {
            json_decref(o);
            rc = err_set_at(err, ERR_PARSE, path, line,
                            "not a JSON line of --progress=rawjson");
            break;
        }
        vs = json_object_get(o, "vertexes");
        json_array_foreach(vs, j, x)
        {
            json_t *dg = json_object_get(x, "digest"),
                   *nm = json_object_get(x, "name"), *t;
            struct rvertex *r = NULL;
            double tv;
            if (!json_is_string(dg))
                continue;
            for (k = 0; k < nv; k++)
                if (!strcmp(v[k].digest, json_string_value(dg)))
                    r = &v[k];
            if (!r) {
                if (!json_is_string(nm))
                    continue;
                XGROW(v, cap, nv + 1);
                r = &v[nv++];
                memset(r, 0, sizeof(*r));
                r->digest = xstrdup(json_string_value(dg));
                r->name = xstrdup(json_string_value(nm));
                r->started = r->completed = -1;
            }
            t = json_object_get(x, "started");
            if (json_is_string(t) && !record_time_parse(json_string_value(t), &tv))
                r->started = tv;
            t = json_object_get(x, "completed");
            if (json_is_string(t) && !record_time_parse(json_string_value(t), &tv))
                r->completed = tv;
            if (json_is_true(json_object_get(x, "cached")))
                r->cached = 1;
            if (json_is_string(json_object_get(x, "error")))
                r->error = 1;
        }
        json_decref(o);
    }
    if (rc == 0 && !nv)
        rc = err_set_at(err, ERR_PARSE, path, 1,
                        "no vertexes in this --progress=rawjson log");
    for (k = 0; rc == 0 && k < nv; k++) {
        char *p;
        /* one line per vertex: a name with a newline would break it */
        for (p = v[k].name; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        buf_printf(&b, "#%zu %s\n", k + 1, v[k].name);
        if (v[k].cached)
            buf_printf(&b, "#%zu CACHED\n", k + 1);
        else if (v[k].error)
            buf_printf(&b, "#%zu ERROR: failed\n", k + 1);
        else if (v[k].completed >= 0)
            buf_printf(&b, "#%zu DONE %.3fs\n", k + 1,
                       v[k].started >= 0 && v[k].completed >= v[k].started
                           ? v[k].completed - v[k].started
                           : 0.0);
    }
    for (k = 0; k < nv; k++) {
        free(v[k].digest);
        free(v[k].name);
    }
    free(v);
    if (rc < 0) {
        buf_release(&b);
        return rc;
    }
    *outlen = b.len;
    *out = buf_detach(&b);
    return 0;
}
