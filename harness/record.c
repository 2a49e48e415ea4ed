#include "record.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * Lines of keys.  jansson keeps no positions for values, so once it has
 * accepted the text, a small scanner walks the same text and notes the
 * line of every key of the top level, of its "synth" and "report"
 * objects, and of each "repositories" entry (paths "strategies",
 * "synth.commits", "repositories[2]", "repositories[2].db").  The text is
 * valid JSON by then; the scanner still never reads past its end.
 */
struct lscan {
    const char *p, *end;
    int line;
    struct scenario_key *keys;
    size_t nkeys, cap;
};

static void ls_note(struct lscan *s, const char *path, size_t len, int line)
{
    XGROW(s->keys, s->cap, s->nkeys + 1);
    s->keys[s->nkeys].key = xstrndup(path, len);
    s->keys[s->nkeys++].line = line;
}

static void ls_ws(struct lscan *s)
{
    for (; s->p < s->end; s->p++) {
        if (*s->p == '\n')
            s->line++;
        else if (*s->p != ' ' && *s->p != '\t' && *s->p != '\r')
            return;
    }
}

/* At '"': move past the string; its raw text in [*start, *start+*len). */
static void ls_string(struct lscan *s, const char **start, size_t *len)
{
    s->p++;
    *start = s->p;
    for (; s->p < s->end && *s->p != '"'; s->p++) {
        if (*s->p == '\\' && s->p + 1 < s->end)
            s->p++;
        else if (*s->p == '\n')
            s->line++;
    }
    *len = (size_t)(s->p - *start);
    if (s->p < s->end)
        s->p++;
}

static int ls_delim(char c)
{
    return c == ',' || c == ':' || c == ']' || c == '}' || c == ' ' ||
           c == '\t' || c == '\r' || c == '\n';
}

/* Skip one value of any depth, without recursion. */
static void ls_skip(struct lscan *s)
{
    const char *str;
    size_t len, depth = 0;

    do {
        ls_ws(s);
        if (s->p >= s->end)
            return;
        if (*s->p == '"')
            ls_string(s, &str, &len);
        else if (*s->p == '{' || *s->p == '[') {
            depth++;
            s->p++;
        } else if (*s->p == '}' || *s->p == ']') {
            if (depth)
                depth--;
            s->p++;
        } else if ((*s->p == ',' || *s->p == ':') && depth)
            s->p++;
        else if (*s->p == ',' || *s->p == ':')
            return;
        else /* a number or a literal: at least one byte, NUL included */
            do
                s->p++;
            while (s->p < s->end && !ls_delim(*s->p));
    } while (depth);
}

static void ls_object(struct lscan *s, struct buf *path, int depth);

/* At '[' of "repositories": note each element's line and its keys. */
static void ls_entries(struct lscan *s, struct buf *path)
{
    size_t base = path->len, i = 0;

    s->p++;
    for (;; i++) {
        ls_ws(s);
        if (s->p >= s->end || *s->p == ']')
            break;
        path->len = base;
        buf_printf(path, "[%zu]", i);
        ls_note(s, path->ptr, path->len, s->line);
        if (*s->p == '{') {
            buf_addch(path, '.');
            ls_object(s, path, 1);
        } else
            ls_skip(s);
        ls_ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
        else
            break;
    }
    if (s->p < s->end && *s->p == ']')
        s->p++;
    path->len = base;
}

/* At '{': note the keys as path + key; depth 0 is the top level. */
static void ls_object(struct lscan *s, struct buf *path, int depth)
{
    size_t base = path->len;

    s->p++;
    for (;;) {
        const char *k;
        size_t klen;
        int line;

        ls_ws(s);
        if (s->p >= s->end || *s->p != '"')
            break;
        line = s->line;
        ls_string(s, &k, &klen);
        path->len = base;
        buf_add(path, k, klen);
        ls_note(s, path->ptr, path->len, line);
        ls_ws(s);
        if (s->p < s->end && *s->p == ':')
            s->p++;
        ls_ws(s);
        if (s->p >= s->end)
            break;
        if (*s->p == '{' && depth < 2) {
            buf_addch(path, '.');
            ls_object(s, path, depth + 1);
        } else if (*s->p == '[' && depth == 0 && klen == 12 &&
                   !memcmp(k, "repositories", 12))
            ls_entries(s, path);
        else
            ls_skip(s);
        ls_ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
        else
            break;
    }
    ls_ws(s);
    if (s->p < s->end && *s->p == '}')
        s->p++;
    path->len = base;
}

/* ---- reading ---- */

struct reader {
    const char *path;
    struct lscan lines; /* every key's path and line */
    const char *prefix; /* "" or "repositories[N]." */
    struct err *err;
};

static int path_line(const struct reader *r, const char *key)
{
    struct buf b = BUF_INIT;
    size_t i, cut;
    int line = 0;

    buf_printf(&b, "%s%s", r->prefix, key);
    /* the key itself, else the object around it */
    for (;;) {
        for (i = 0; i < r->lines.nkeys && !line; i++)
            if (!strcmp(r->lines.keys[i].key, buf_cstr(&b)))
                line = r->lines.keys[i].line;
        if (line || !b.len)
            break;
        cut = b.len;
        while (cut && b.ptr[cut - 1] != '.')
            cut--;
        b.len = cut ? cut - 1 : 0;
        b.ptr[b.len] = '\0';
    }
    buf_release(&b);
    return line ? line : 1;
}

static int fail(struct reader *r, const char *key, const char *hint,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct reader *r, const char *key, const char *hint,
                const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    err_set_at(r->err, ERR_PARSE, r->path, path_line(r, key), "%s",
               buf_cstr(&msg));
    buf_release(&msg);
    err_hint(r->err, "%s",
             hint ? hint : "see the scenario format in 'man harness' (FILES)");
    return ERR_PARSE;
}

static int type_error(struct reader *r, const char *key, const char *want)
{
    return fail(r, key, NULL, "'%s' must be %s", key, want);
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
static int get_pairs(struct reader *r, json_t *v, const char *key, char ***out,
                     size_t *n)
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

/* A path or a list of them (calibration files): appended to *out. */
static int get_paths(struct reader *r, json_t *v, const char *key,
                     char ***out, size_t *n)
{
    size_t i;
    json_t *e;

    if (json_is_string(v)) {
        if (!*json_string_value(v))
            return type_error(r, key, "a file name or a list of them");
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = xstrdup(json_string_value(v));
        return 0;
    }
    if (!json_is_array(v) || !json_array_size(v))
        return type_error(r, key, "a file name or a list of them");
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || !*json_string_value(e))
            return type_error(r, key, "a file name or a list of them");
    }
    json_array_foreach(v, i, e)
    {
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = xstrdup(json_string_value(e));
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

/* Names become file names (NAME.db): letters, digits, '.', '_', '-'. */
static int name_ok(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
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
        struct buf key = BUF_INIT;

        buf_printf(&key, "synth.%s", k);
        if (!strcmp(k, "template"))
            rc = get_str(r, val, buf_cstr(&key), &s->synth_template);
        else if (!strcmp(k, "commits"))
            rc = get_int(r, val, buf_cstr(&key), &s->synth_commits);
        else if (!strcmp(k, "files"))
            rc = get_int(r, val, buf_cstr(&key), &s->synth_files);
        else if (!strcmp(k, "seed"))
            rc = get_int(r, val, buf_cstr(&key), &s->synth_seed);
        else
            rc = fail(r, buf_cstr(&key),
                      "synth takes template, commits, files, seed",
                      "unknown key '%s' in \"synth\"", k);
        buf_release(&key);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_report(struct reader *r, struct scenario *s, json_t *v)
{
    static const char *const formats[] = { "html", "md", "csv", "json" };
    const char *k;
    json_t *val;
    size_t i;
    int rc = 0;

    if (!json_is_object(v))
        return type_error(r, "report", "an object");
    json_object_foreach(v, k, val)
    {
        if (!strcmp(k, "format")) {
            rc = get_str(r, val, "report.format", &s->report_format);
            for (i = 0; !rc && i < sizeof(formats) / sizeof(formats[0]); i++)
                if (!strcmp(s->report_format, formats[i]))
                    break;
            if (!rc && i == sizeof(formats) / sizeof(formats[0]))
                rc = fail(r, "report.format", "formats: html, md, csv, json",
                          "unknown report format '%s'", s->report_format);
        } else if (!strcmp(k, "out"))
            rc = get_str(r, val, "report.out", &s->report_out);
        else {
            struct buf key = BUF_INIT;
            buf_printf(&key, "report.%s", k);
            rc = fail(r, buf_cstr(&key), "report takes format and out",
                      "unknown key '%s' in \"report\"", k);
            buf_release(&key);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The replay keys, which a repository of a fleet inherits (in this
 * order), by the kind of their field in struct scenario. */
enum key_kind {
    KEY_STR,        /* char * */
    KEY_STRATEGIES, /* char *: a name list, or "all" */
    KEY_INT,        /* long, -1 unset */
    KEY_BOOL,       /* int, -1 unset */
    KEY_PAIRS,      /* char ** of "K=V", its count at noff */
    KEY_PATHS,      /* char ** of file names, its count at noff */
};
#define OFF(field) offsetof(struct scenario, field)
static const struct replay_key {
    const char *name;
    enum key_kind kind;
    size_t off, noff;
} replay_keys[] = {
    { "range", KEY_STR, OFF(range), 0 },
    { "dockerfile", KEY_STR, OFF(dockerfile), 0 },
    { "context", KEY_STR, OFF(context), 0 },
    { "target", KEY_STR, OFF(target), 0 },
    { "engine", KEY_STR, OFF(engine), 0 },
    { "assign", KEY_STR, OFF(assign), 0 },
    { "cache_limit", KEY_STR, OFF(cache_limit), 0 },
    { "strategies", KEY_STRATEGIES, OFF(strategies), 0 },
    { "model", KEY_STR, OFF(model), 0 },
    { "runners", KEY_INT, OFF(runners), 0 },
    { "seed", KEY_INT, OFF(seed), 0 },
    { "keep_tags", KEY_INT, OFF(keep_tags), 0 },
    { "cores", KEY_INT, OFF(cores), 0 },
    { "first_parent", KEY_BOOL, OFF(first_parent), 0 },
    { "reproducible", KEY_BOOL, OFF(reproducible), 0 },
    { "no_git_dir", KEY_BOOL, OFF(no_git_dir), 0 },
    { "build_args", KEY_PAIRS, OFF(build_args), OFF(nbuild_args) },
    { "timings", KEY_PATHS, OFF(timings), OFF(ntimings) },
    { "layers", KEY_PATHS, OFF(layers), OFF(nlayers) },
    { "manifest", KEY_PATHS, OFF(manifests), OFF(nmanifests) },
    { "bases", KEY_PAIRS, OFF(bases), OFF(nbases) },
};
#undef OFF
#define NKEYS(t)            (sizeof(t) / sizeof((t)[0]))
#define FIELD(s, type, off) ((type *)(void *)((char *)(s) + (off)))

static int is_list(enum key_kind kind)
{
    return kind == KEY_PAIRS || kind == KEY_PATHS;
}

/* Read replay key rk into s. */
static int read_replay_key(struct reader *r, struct scenario *s,
                           const struct replay_key *rk, json_t *v)
{
    const char *k = rk->name;

    switch (rk->kind) {
    case KEY_STR:
        return get_str(r, v, k, FIELD(s, char *, rk->off));
    case KEY_STRATEGIES:
        return get_strategies(r, v, FIELD(s, char *, rk->off));
    case KEY_INT:
        return get_int(r, v, k, FIELD(s, long, rk->off));
    case KEY_BOOL:
        return get_bool(r, v, k, FIELD(s, int, rk->off));
    case KEY_PAIRS:
        return get_pairs(r, v, k, FIELD(s, char **, rk->off),
                         FIELD(s, size_t, rk->noff));
    case KEY_PATHS:
        return get_paths(r, v, k, FIELD(s, char **, rk->off),
                         FIELD(s, size_t, rk->noff));
    }
    return 0;
}

static int read_entries(struct reader *r, struct scenario *top, json_t *v);

/* One key of the top level (top) or of a repository entry. */
static int read_key(struct reader *r, struct scenario *s, const char *k,
                    json_t *v, int top)
{
    size_t i;
    int rc;

    for (i = 0; i < NKEYS(replay_keys); i++)
        if (!strcmp(k, replay_keys[i].name))
            return read_replay_key(r, s, &replay_keys[i], v);
    if (!strcmp(k, "repo"))
        return get_str(r, v, k, &s->repo);
    if (!strcmp(k, "db"))
        return get_str(r, v, k, &s->db);
    if (!strcmp(k, "synth"))
        return read_synth(r, s, v);
    if (!strcmp(k, "name")) {
        if ((rc = get_str(r, v, k, &s->name)) < 0)
            return rc;
        if (!name_ok(s->name))
            return fail(r, k,
                        "it names files (NAME.db): keep to a-z, 0-9, "
                        "'.', '_' and '-'",
                        "bad name '%s'", s->name);
        return 0;
    }
    if (!strcmp(k, "description"))
        return 0;
    if (!strcmp(k, "pricing") || !strcmp(k, "builds_per_month") ||
        !strcmp(k, "report") || !strcmp(k, "repositories")) {
        if (!top)
            return fail(r, k,
                        "the report and the list of repositories are "
                        "one per scenario",
                        "'%s' belongs at the top level of the scenario, not "
                        "in a repository",
                        k);
        if (!strcmp(k, "pricing"))
            return get_str(r, v, k, &s->pricing);
        if (!strcmp(k, "report"))
            return read_report(r, s, v);
        if (!strcmp(k, "repositories"))
            return read_entries(r, s, v);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return type_error(r, k, "a whole number >= 1");
        s->builds_per_month = (long)json_integer_value(v);
        return 0;
    }
    return fail(r, k, NULL, "unknown key '%s'", k);
}

static void scenario_init(struct scenario *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->runners = s->seed = s->keep_tags = s->cores = -1;
    s->first_parent = s->reproducible = s->no_git_dir = -1;
    s->synth_commits = s->synth_files = s->synth_seed = -1;
    s->builds_per_month = -1;
    s->path = xstrdup(path);
    s->dir = xstrdup(".");
    s->line = 1;
}

static void add_key(struct scenario *s, const char *key, int line)
{
    s->keys = xrealloc(s->keys, (s->nkeys + 1) * sizeof(*s->keys));
    s->keys[s->nkeys].key = xstrdup(key);
    s->keys[s->nkeys++].line = line;
}

/* Copy the lines of the keys under prefix (stripped) into s->keys. */
static void take_lines(struct reader *r, struct scenario *s, const char *prefix)
{
    size_t i, n = strlen(prefix);

    for (i = 0; i < r->lines.nkeys; i++) {
        const char *k = r->lines.keys[i].key;
        if (!strncmp(k, prefix, n) && k[n] && !strchr(k + n, '['))
            add_key(s, k + n, r->lines.keys[i].line);
    }
}

/* Copy replay key rk from top into e if e left it unset and top has it;
 * 1 copied, 0 not. */
static int inherit_key(struct scenario *e, const struct scenario *top,
                       const struct replay_key *rk)
{
    switch (rk->kind) {
    case KEY_STR:
    case KEY_STRATEGIES: {
        char **to = FIELD(e, char *, rk->off);
        char *const *from = FIELD(top, char *, rk->off);
        if (*to || !*from)
            return 0;
        *to = xstrdup(*from);
        return 1;
    }
    case KEY_INT: {
        long *to = FIELD(e, long, rk->off);
        const long *from = FIELD(top, long, rk->off);
        if (*to >= 0 || *from < 0)
            return 0;
        *to = *from;
        return 1;
    }
    case KEY_BOOL: {
        int *to = FIELD(e, int, rk->off);
        const int *from = FIELD(top, int, rk->off);
        if (*to >= 0 || *from < 0)
            return 0;
        *to = *from;
        return 1;
    }
    case KEY_PAIRS:
    case KEY_PATHS: {
        char ***to = FIELD(e, char **, rk->off);
        size_t *nto = FIELD(e, size_t, rk->noff);
        char **const *from = FIELD(top, char **, rk->off);
        const size_t *nfrom = FIELD(top, size_t, rk->noff);
        if (*nto || !*nfrom)
            return 0;
        *to = xcalloc(*nfrom, sizeof(char *));
        for (size_t j = 0; j < *nfrom; j++)
            (*to)[j] = xstrdup((*from)[j]);
        *nto = *nfrom;
        return 1;
    }
    }
    return 0;
}

/* A repository entry takes the replay keys it left unset from top, and
 * their lines. */
static void inherit(struct scenario *e, const struct scenario *top)
{
    for (size_t i = 0; i < NKEYS(replay_keys); i++)
        if (inherit_key(e, top, &replay_keys[i]))
            add_key(e, replay_keys[i].name,
                    scenario_line(top, replay_keys[i].name));
}

/* "repo": "../x/api/" -> "api", with other characters made '-'. */
static char *name_from_repo(const char *repo)
{
    size_t len = strlen(repo), start;
    char *name, *p;

    while (len > 1 && repo[len - 1] == '/')
        len--;
    start = len;
    while (start && repo[start - 1] != '/')
        start--;
    name = xstrndup(repo + start, len - start);
    for (p = name; *p; p++)
        if (!strchr("._-", *p) && !(*p >= 'a' && *p <= 'z') &&
            !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
            *p = '-';
    if (!name_ok(name)) {
        free(name);
        name = xstrdup("repo");
    }
    return name;
}

static int read_entries(struct reader *r, struct scenario *top, json_t *v)
{
    json_t *e;
    size_t i, j;
    int rc = 0;

    if (!json_is_array(v) || !json_array_size(v))
        return type_error(r, "repositories", "a list of objects");
    if (top->has_repos)
        return fail(r, "repositories", NULL, "'repositories' given twice");
    top->has_repos = 1;
    top->repos = xcalloc(json_array_size(v), sizeof(*top->repos));
    json_array_foreach(v, i, e)
    {
        struct scenario *s = &top->repos[i];
        struct buf prefix = BUF_INIT;
        const char *k;
        json_t *val;

        scenario_init(s, r->path);
        top->nrepos = i + 1;
        buf_printf(&prefix, "repositories[%zu]", i);
        s->line = path_line(r, buf_cstr(&prefix));
        buf_addch(&prefix, '.');
        take_lines(r, s, buf_cstr(&prefix));
        r->prefix = buf_cstr(&prefix);
        if (!json_is_object(e))
            rc = fail(r, "", NULL,
                      "each entry of 'repositories' must be an object");
        else
            json_object_foreach(e, k, val)
            {
                if ((rc = read_key(r, s, k, val, 0)) < 0)
                    break;
            }
        if (!rc && !s->repo)
            rc = fail(r, "", "give each repository its folder: \"repo\"",
                      "this repository has no 'repo'");
        if (!rc && !s->name)
            s->name = name_from_repo(s->repo);
        if (!rc && !s->db) {
            struct buf db = BUF_INIT;
            buf_printf(&db, "%s.db", s->name);
            s->db = buf_detach(&db);
        }
        for (j = 0; !rc && j < i; j++) {
            if (!strcmp(top->repos[j].name, s->name))
                rc = fail(r, "name", "give each repository its own \"name\"",
                          "two repositories are named '%s'", s->name);
            else if (!strcmp(top->repos[j].db, s->db))
                rc = fail(r, "db", "give each repository its own \"db\"",
                          "repositories '%s' and '%s' write the same database",
                          top->repos[j].name, s->name);
        }
        r->prefix = "";
        buf_release(&prefix);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int scenario_parse(struct scenario *s, const char *path, const char *text,
                   size_t len, struct err *err)
{
    struct reader r;
    struct buf lpath = BUF_INIT;
    json_error_t je;
    json_t *root;
    const char *k;
    json_t *v;
    size_t i;
    int rc = 0;

    scenario_init(s, path);
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
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.prefix = "";
    r.err = err;
    r.lines.p = text;
    r.lines.end = text + len;
    r.lines.line = 1;
    ls_ws(&r.lines);
    if (r.lines.p < r.lines.end && *r.lines.p == '{')
        ls_object(&r.lines, &lpath, 0);
    buf_release(&lpath);
    take_lines(&r, s, "");
    json_object_foreach(root, k, v)
    {
        if ((rc = read_key(&r, s, k, v, 1)) < 0)
            break;
    }
    if (!rc && s->has_repos) {
        const char *own = s->repo        ? "repo"
                          : s->has_synth ? "synth"
                          : s->db        ? "db"
                                         : NULL;
        if (own)
            rc = fail(&r, own, "put it in each entry of \"repositories\"",
                      "'%s' cannot stand beside 'repositories': each "
                      "repository has its own",
                      own);
        for (i = 0; !rc && i < s->nrepos; i++)
            inherit(&s->repos[i], s);
    }
    if (!rc && !s->has_repos && s->repo && !s->name)
        s->name = name_from_repo(s->repo);
    json_decref(root);
    for (i = 0; i < r.lines.nkeys; i++)
        free(r.lines.keys[i].key);
    free(r.lines.keys);
    if (rc < 0)
        scenario_release(s);
    return rc;
}

int scenario_load(struct scenario *s, const char *path, struct err *err)
{
    FILE *fp = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t n, i;
    int rc;
    const char *slash;
    char *dir;

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
    dir = slash ? xstrndup(path, (size_t)(slash - path + (slash == path)))
                : xstrdup(".");
    free(s->dir);
    s->dir = dir;
    for (i = 0; i < s->nrepos; i++) {
        free(s->repos[i].dir);
        s->repos[i].dir = xstrdup(dir);
    }
    return 0;
}

void scenario_release(struct scenario *s)
{
    size_t i;
    char **strs[] = { &s->path,        &s->dir,
                      &s->name,        &s->repo,
                      &s->range,       &s->dockerfile,
                      &s->context,     &s->target,
                      &s->engine,      &s->assign,
                      &s->cache_limit, &s->db,
                      &s->strategies,  &s->synth_template,
                      &s->pricing,     &s->report_format,
                      &s->report_out,  &s->model };

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    for (i = 0; i < NKEYS(replay_keys); i++) {
        if (!is_list(replay_keys[i].kind))
            continue;
        char ***l = FIELD(s, char **, replay_keys[i].off);
        size_t *n = FIELD(s, size_t, replay_keys[i].noff), j;
        for (j = 0; j < *n; j++)
            free((*l)[j]);
        free(*l);
        *l = NULL;
        *n = 0;
    }
    for (i = 0; i < s->nrepos; i++)
        scenario_release(&s->repos[i]);
    free(s->repos);
    s->repos = NULL;
    s->nrepos = 0;
    for (i = 0; i < s->nkeys; i++)
        free(s->keys[i].key);
    free(s->keys);
    s->keys = NULL;
    s->nkeys = 0;
}

/* "scenarios/../demo/repo" -> "demo/repo": drop a folder followed by
 * "..", so that messages show the path a user would type. */
static void tidy_path(char *path)
{
    char *p = path;

    while (*p) {
        char *slash = strchr(p, '/');
        size_t n;
        if (!slash)
            break;
        n = (size_t)(slash - p);
        if (!strncmp(slash, "/../", 4) && n &&
            !(n == 2 && !strncmp(p, "..", 2)) && !(n == 1 && *p == '.')) {
            memmove(p, slash + 4, strlen(slash + 4) + 1);
            p = path; /* start over: a/b/../../c */
            continue;
        }
        p = slash + 1;
    }
}

char *scenario_path(const struct scenario *s, const char *p)
{
    struct buf b = BUF_INIT;
    char *out;

    if (p[0] == '/' || !s->dir || !strcmp(s->dir, "."))
        return xstrdup(p);
    buf_printf(&b, "%s/%s", s->dir, p);
    out = buf_detach(&b);
    tidy_path(out);
    return out;
}

int scenario_line(const struct scenario *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++)
        if (!strcmp(s->keys[i].key, key))
            return s->keys[i].line;
    return s->line > 0 ? s->line : 1;
}
