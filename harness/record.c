#include "record.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Line of the first occurrence of "key" as an object key, for messages
 * (jansson keeps no positions for values). */
static int key_line(const char *text, size_t len, const char *key)
{
    struct buf pat = BUF_INIT;
    const char *p = text, *end = text + len;
    int line = 1;

    buf_printf(&pat, "\"%s\"", key);
    for (; p + pat.len <= end; p++) {
        if (*p == '\n')
            line++;
        else if (!memcmp(p, pat.ptr, pat.len)) {
            buf_release(&pat);
            return line;
        }
    }
    buf_release(&pat);
    return 1;
}

struct reader {
    const char *path, *text;
    size_t len;
    struct err *err;
};

static int type_error(struct reader *r, const char *key, const char *want)
{
    err_set_at(r->err, ERR_PARSE, r->path, key_line(r->text, r->len, key),
               "'%s' must be %s", key, want);
    err_hint(r->err, "see the scenario format in 'man harness' (FILES)");
    return ERR_PARSE;
}

static int get_str(struct reader *r, json_t *v, const char *key, char **out)
{
    if (!json_is_string(v))
        return type_error(r, key, "a string");
    free(*out);
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_int(struct reader *r, json_t *v, const char *key, long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return type_error(r, key, "a whole number >= 0");
    *out = (long)json_integer_value(v);
    return 0;
}

static int get_bool(struct reader *r, json_t *v, const char *key, int *out)
{
    if (!json_is_boolean(v))
        return type_error(r, key, "true or false");
    *out = json_is_true(v);
    return 0;
}

/* {"K": "V", ...} -> "K=V" strings. */
static int get_pairs(struct reader *r, json_t *v, const char *key,
                     char ***out, size_t *n)
{
    const char *k;
    json_t *val;

    if (!json_is_object(v))
        return type_error(r, key, "an object of strings");
    json_object_foreach(v, k, val)
    {
        struct buf b = BUF_INIT;
        if (!json_is_string(val))
            return type_error(r, key, "an object of strings");
        buf_printf(&b, "%s=%s", k, json_string_value(val));
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = buf_detach(&b);
    }
    return 0;
}

static int get_strategies(struct reader *r, json_t *v, char **out)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return get_str(r, v, "strategies", out);
    if (!json_is_array(v) || !json_array_size(v))
        return type_error(r, "strategies", "\"all\" or a list of names");
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            buf_release(&b);
            return type_error(r, "strategies", "a list of names");
        }
        buf_printf(&b, "%s%s", i ? "," : "", json_string_value(e));
    }
    free(*out);
    *out = buf_detach(&b);
    return 0;
}

static int read_synth(struct reader *r, struct scenario *s, json_t *v)
{
    const char *k;
    json_t *val;
    int rc = 0;

    if (!json_is_object(v))
        return type_error(r, "synth", "an object");
    s->has_synth = 1;
    json_object_foreach(v, k, val)
    {
        if (!strcmp(k, "template"))
            rc = get_str(r, val, k, &s->synth_template);
        else if (!strcmp(k, "commits"))
            rc = get_int(r, val, k, &s->synth_commits);
        else if (!strcmp(k, "files"))
            rc = get_int(r, val, k, &s->synth_files);
        else if (!strcmp(k, "seed"))
            rc = get_int(r, val, k, &s->synth_seed);
        else {
            err_set_at(r->err, ERR_PARSE, r->path,
                       key_line(r->text, r->len, k),
                       "unknown key '%s' in \"synth\"", k);
            err_hint(r->err, "synth takes template, commits, files, seed");
            return ERR_PARSE;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_key(struct reader *r, struct scenario *s, const char *k,
                    json_t *v)
{
    struct {
        const char *name;
        char **field;
    } strs[] = {
        { "repo", &s->repo },         { "range", &s->range },
        { "dockerfile", &s->dockerfile }, { "context", &s->context },
        { "target", &s->target },     { "engine", &s->engine },
        { "assign", &s->assign },     { "cache_limit", &s->cache_limit },
        { "db", &s->db },
    };
    struct {
        const char *name;
        long *field;
    } ints[] = {
        { "runners", &s->runners },
        { "seed", &s->seed },
        { "keep_tags", &s->keep_tags },
    };
    struct {
        const char *name;
        int *field;
    } bools[] = {
        { "first_parent", &s->first_parent },
        { "reproducible", &s->reproducible },
        { "no_git_dir", &s->no_git_dir },
    };
    size_t i;

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (!strcmp(k, strs[i].name))
            return get_str(r, v, k, strs[i].field);
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (!strcmp(k, ints[i].name))
            return get_int(r, v, k, ints[i].field);
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
        if (!strcmp(k, bools[i].name))
            return get_bool(r, v, k, bools[i].field);
    if (!strcmp(k, "strategies"))
        return get_strategies(r, v, &s->strategies);
    if (!strcmp(k, "build_args"))
        return get_pairs(r, v, k, &s->build_args, &s->nbuild_args);
    if (!strcmp(k, "bases"))
        return get_pairs(r, v, k, &s->bases, &s->nbases);
    if (!strcmp(k, "synth"))
        return read_synth(r, s, v);
    if (!strcmp(k, "name") || !strcmp(k, "description"))
        return 0;
    err_set_at(r->err, ERR_PARSE, r->path, key_line(r->text, r->len, k),
               "unknown key '%s'", k);
    err_hint(r->err, "see the scenario format in 'man harness' (FILES)");
    return ERR_PARSE;
}

int scenario_parse(struct scenario *s, const char *path, const char *text,
                   size_t len, struct err *err)
{
    struct reader r = { path, text, len, err };
    json_error_t je;
    json_t *root;
    const char *k;
    json_t *v;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    s->runners = s->seed = s->keep_tags = -1;
    s->first_parent = s->reproducible = s->no_git_dir = -1;
    s->synth_commits = s->synth_files = s->synth_seed = -1;
    s->dir = xstrdup(".");
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        err_set_at(err, ERR_PARSE, path, je.line > 0 ? je.line : 1,
                   "not valid JSON: %s", je.text);
        scenario_release(s);
        return ERR_PARSE;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        scenario_release(s);
        return err_set_at(err, ERR_PARSE, path, 1,
                          "a scenario must be a JSON object");
    }
    json_object_foreach(root, k, v)
    {
        if ((rc = read_key(&r, s, k, v)) < 0)
            break;
    }
    json_decref(root);
    if (rc < 0)
        scenario_release(s);
    return rc;
}

int scenario_load(struct scenario *s, const char *path, struct err *err)
{
    FILE *fp = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t n;
    int rc;
    const char *slash;

    memset(s, 0, sizeof(*s));
    if (!fp)
        return err_set(err, ERR_IO, "cannot read scenario '%s': %s", path,
                       strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(&b, chunk, n);
    fclose(fp);
    rc = scenario_parse(s, path, buf_cstr(&b), b.len, err);
    buf_release(&b);
    if (rc < 0)
        return rc;
    slash = strrchr(path, '/');
    free(s->dir);
    s->dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    return 0;
}

void scenario_release(struct scenario *s)
{
    size_t i;
    char **strs[] = { &s->dir,        &s->repo,       &s->range,
                      &s->dockerfile, &s->context,    &s->target,
                      &s->engine,     &s->assign,     &s->cache_limit,
                      &s->db,         &s->strategies, &s->synth_template };

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    for (i = 0; i < s->nbuild_args; i++)
        free(s->build_args[i]);
    for (i = 0; i < s->nbases; i++)
        free(s->bases[i]);
    free(s->build_args);
    free(s->bases);
    s->build_args = s->bases = NULL;
    s->nbuild_args = s->nbases = 0;
}

char *scenario_path(const struct scenario *s, const char *p)
{
    struct buf b = BUF_INIT;

    if (p[0] == '/' || !s->dir || !strcmp(s->dir, "."))
        return xstrdup(p);
    buf_printf(&b, "%s/%s", s->dir, p);
    return buf_detach(&b);
}
