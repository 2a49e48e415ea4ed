#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli_model.h"
#include "record.h"
#include "synth.h"

int cli_build_resolve(struct cli_build *c, struct err *err)
{
    size_t i;

    c->vars = xcalloc(c->build_args.n + 1, sizeof(*c->vars));
    c->keybases = xcalloc(c->bases.n + 1, sizeof(*c->keybases));
    for (i = 0; i < c->build_args.n; i++) {
        const char *a = c->build_args.items[i];
        const char *eq = strchr(a, '=');
        if (eq == a || !*a)
            return err_set(err, ERR_USAGE,
                           "--build-arg needs K=V, not '%s'", a);
        if (eq) {
            c->vars[i].name = xstrndup(a, (size_t)(eq - a));
            c->vars[i].value = xstrdup(eq + 1);
        } else {
            /* docker build --build-arg K takes K from the environment */
            const char *env = getenv(a);
            c->vars[i].name = xstrdup(a);
            c->vars[i].value = env ? xstrdup(env) : NULL;
        }
    }
    c->base_list = xcalloc(c->bases.n + 1, sizeof(*c->base_list));
    for (i = 0; i < c->bases.n; i++) {
        const char *a = c->bases.items[i];
        const char *eq = strrchr(a, '=');
        const char *at;
        struct cli_base *cb = &c->base_list[i];
        if (!eq || eq == a || !eq[1])
            return err_set(err, ERR_USAGE,
                           "--base needs IMAGE=DIGEST[@REV], not '%s'", a);
        cb->image = xstrndup(a, (size_t)(eq - a));
        at = strchr(eq + 1, '@');
        if (at && !at[1])
            return err_set(err, ERR_USAGE,
                           "--base '%s': a revision must follow '@'", a);
        cb->digest = at ? xstrndup(eq + 1, (size_t)(at - eq - 1))
                        : xstrdup(eq + 1);
        cb->since = at ? xstrdup(at + 1) : NULL;
        cb->active = !at;
    }
    memset(&c->plan, 0, sizeof(c->plan));
    c->plan.dockerfile = c->dockerfile;
    c->plan.context = c->context;
    c->plan.no_git_dir = c->no_git_dir;
    c->plan.build_args = c->vars;
    c->plan.nbuild_args = c->build_args.n;
    c->plan.target = c->target;
    c->plan.bases = c->keybases;
    c->plan.nbases = 0;
    cli_bases_at(c, NULL);
    c->plan.remote_changes = c->remote_changes;
    c->plan.cache = plan_cache_new();
    return 0;
}

void cli_build_release(struct cli_build *c)
{
    size_t i;

    if (c->vars)
        for (i = 0; i < c->build_args.n; i++) {
            free(c->vars[i].name);
            free(c->vars[i].value);
        }
    if (c->base_list)
        for (i = 0; i < c->bases.n; i++) {
            free(c->base_list[i].image);
            free(c->base_list[i].digest);
            free(c->base_list[i].since);
        }
    free(c->base_list);
    plan_cache_free(c->plan.cache);
    c->plan.cache = NULL;
    free(c->vars);
    free(c->keybases);
    opt_list_release(&c->build_args);
    opt_list_release(&c->bases);
}

static int bases_resolve(struct cli_build *c, struct repo *r, struct err *err)
{
    size_t i;

    for (i = 0; i < c->bases.n; i++) {
        struct cli_base *cb = &c->base_list[i];
        if (cb->since && repo_resolve(r, cb->since, &cb->since_id, err) < 0) {
            err_hint(err, "--base %s=%s@%s names a revision that is not in "
                          "the repository",
                     cb->image, cb->digest, cb->since);
            return err->code;
        }
    }
    return 0;
}

void cli_bases_at(struct cli_build *c, const struct oid *id)
{
    size_t i, j, n = 0;

    for (i = 0; i < c->bases.n; i++)
        if (id && c->base_list[i].since &&
            oid_equal(&c->base_list[i].since_id, id))
            c->base_list[i].active = 1;
    /* per image, the last active entry wins */
    for (i = c->bases.n; i-- > 0;) {
        const struct cli_base *cb = &c->base_list[i];
        int seen = 0;
        if (!cb->active)
            continue;
        for (j = 0; j < n; j++)
            if (!strcmp(c->keybases[j].image, cb->image))
                seen = 1;
        if (seen)
            continue;
        c->keybases[n].image = cb->image;
        c->keybases[n].digest = cb->digest;
        n++;
    }
    c->plan.bases = c->keybases;
    c->plan.nbases = n;
}

void cli_run_options_json(struct buf *j, const struct cli_build *c,
                          const char *range, const struct sim_config *cfg,
                          const struct strategy_ops *const *strategies,
                          size_t nstrategies)
{
    size_t i;

    buf_adds(j, "{\"range\":");
    buf_add_json_str(j, range ? range : "HEAD");
    buf_printf(j, ",\"first_parent\":%s,\"dockerfile\":",
               c->first_parent ? "true" : "false");
    buf_add_json_str(j, c->dockerfile ? c->dockerfile : "Dockerfile");
    buf_adds(j, ",\"context\":");
    buf_add_json_str(j, c->context ? c->context : "");
    buf_adds(j, ",\"build_args\":[");
    for (i = 0; i < c->build_args.n; i++) {
        buf_addch(j, i ? ',' : ' ');
        buf_add_json_str(j, c->build_args.items[i]);
    }
    buf_adds(j, "],\"bases\":[");
    for (i = 0; i < c->bases.n; i++) {
        buf_addch(j, i ? ',' : ' ');
        buf_add_json_str(j, c->bases.items[i]);
    }
    buf_adds(j, "],\"target\":");
    buf_add_json_str(j, c->target ? c->target : "");
    buf_printf(j,
               ",\"no_git_dir\":%s,\"remote_changes\":%s,\"engine\":\"%s\","
               "\"runners\":%zu,\"assign\":\"%s\",\"seed\":%llu,"
               "\"cache_limit\":%llu,\"keep_tags\":%zu,\"reproducible\":%s,"
               "\"strategies\":[",
               c->no_git_dir ? "true" : "false",
               c->remote_changes ? "true" : "false", engine_name(cfg->engine),
               cfg->runners,
               cfg->assign == ASSIGN_RANDOM ? "random" : "round-robin",
               (unsigned long long)cfg->seed,
               (unsigned long long)cfg->cache_limit, cfg->keep_tags,
               cfg->reproducible ? "true" : "false");
    for (i = 0; i < nstrategies; i++)
        buf_printf(j, "%s\"%s\"", i ? "," : "", strategies[i]->name);
    buf_adds(j, "]}");
}

static void bases_at(void *arg, const struct oid *commit)
{
    cli_bases_at(arg, commit);
}

void cli_replay_options(struct replay_options *o, struct cli_build *c,
                        const char *range, struct buf *json)
{
    o->repo_label = c->repo ? c->repo : ".";
    o->range = range;
    o->first_parent = c->first_parent;
    c->plan.frontend_2010 = o->cfg.engine == ENGINE_DOCKER_2010;
    o->plan = &c->plan;
    o->on_commit = bases_at;
    o->on_commit_arg = c;
    cli_run_options_json(json, c, range, &o->cfg, o->strategies,
                         o->nstrategies);
    o->options_json = buf_cstr(json);
}

int cli_open_repo(struct repo **out, struct cli_build *c, struct err *err)
{
    int rc;

    if ((rc = repo_open(out, c->repo ? c->repo : ".", err)) < 0)
        return rc;
    if ((rc = bases_resolve(c, *out, err)) < 0) {
        repo_free(*out);
        *out = NULL;
    }
    return rc;
}

static const char *table_strategy_name(const void *table, size_t i)
{
    return ((const struct strategy_ops *const *)table)[i]->name;
}

int cli_replay_pick(struct replay_options *o, const char *strategies,
                    const char *engine, const char *cmd, struct err *err)
{
    char before[64];
    size_t *idx = NULL, n = 0;
    int rc;

    snprintf(before, sizeof(before), "%s: unknown strategy", cmd);
    if ((rc = cli_pick_strategies(strategies, strategy_table, strategy_count,
                                  table_strategy_name, before, "", ", or all",
                                  &idx, &n, err)) < 0)
        return rc;
    o->strategies = xcalloc(n + 1, sizeof(*o->strategies));
    for (size_t i = 0; i < n; i++)
        o->strategies[i] = strategy_table[idx[i]];
    o->nstrategies = n;
    free(idx);
    if (engine && engine_parse(&o->cfg.engine, engine) < 0)
        return err_set(err, ERR_USAGE,
                       "%s: unknown engine '%s' (buildkit or docker-20.10)",
                       cmd, engine);
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out, struct err *err)
{
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {
        { "", 1 },          { "b", 1 },           { "k", 1e3 },
        { "kb", 1e3 },      { "m", 1e6 },         { "mb", 1e6 },
        { "g", 1e9 },       { "gb", 1e9 },        { "t", 1e12 },
        { "tb", 1e12 },     { "kib", 1024.0 },    { "mib", 1048576.0 },
        { "gib", 1073741824.0 }, { "tib", 1099511627776.0 },
    };
    char *end;
    double v = strtod(s, &end);
    size_t i;

    if (end == s || v < 0)
        goto bad;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcasecmp(end, units[i].suffix)) {
            *out = (uint64_t)(v * units[i].mult);
            return 0;
        }
bad:
    return err_set(err, ERR_USAGE,
                   "not a size: '%s' (examples: 10GB, 512MB, 2GiB)", s);
}

int cli_pick_strategies(const char *list, const void *table, size_t count,
                        const char *(*name_of)(const void *table, size_t i),
                        const char *before, const char *after,
                        const char *hint_tail, size_t **out, size_t *n,
                        struct err *err)
{
    size_t *v = xcalloc(count + 1, sizeof(*v)), i;
    char *copy, *tok, *save = NULL;

    *n = 0;
    *out = NULL;
    if (!list || !strcmp(list, "all")) {
        for (i = 0; i < count; i++)
            v[i] = i;
        *n = count;
        *out = v;
        return 0;
    }
    copy = xstrdup(list);
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t k, j;
        for (k = 0; k < count; k++)
            if (!strcmp(name_of(table, k), tok))
                break;
        if (k == count) {
            struct buf names = BUF_INIT;
            for (j = 0; j < count; j++)
                buf_printf(&names, "%s%s", j ? ", " : "", name_of(table, j));
            err_set(err, ERR_USAGE, "%s '%s'%s", before, tok, after);
            err_hint(err, "strategies: %s%s", buf_cstr(&names), hint_tail);
            buf_release(&names);
            free(copy);
            free(v);
            return ERR_USAGE;
        }
        for (j = 0; j < *n; j++)
            if (v[j] == k)
                break;
        if (j == *n)
            v[(*n)++] = k;
    }
    free(copy);
    *out = v;
    return 0;
}

int cli_is_tty(void)
{
    return isatty(2);
}

long cli_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* err (set by another check) moved to FILE:LINE of key, as ERR_PARSE. */
static int at_key(const struct scenario *s, const char *key, struct err *err)
{
    char msg[sizeof(err->msg)], hint[sizeof(err->hint)];

    memcpy(msg, err->msg, sizeof(msg));
    memcpy(hint, err->hint, sizeof(hint));
    err_set_at(err, ERR_PARSE, s->path, scenario_line(s, key), "%s", msg);
    if (hint[0])
        err_hint(err, "%s", hint);
    return ERR_PARSE;
}

/* A file a key names must be a readable file: "cannot read timings file
 * 'x': No such file or directory" at the key's line. */
static int check_readable(const struct scenario *s, const char *key,
                          const char *name, struct err *err)
{
    char *p = scenario_path(s, name);
    struct stat st;
    int rc = 0;

    if (access(p, R_OK) < 0 || stat(p, &st) < 0) {
        err_set(err, ERR_PARSE, "cannot read %s file '%s': %s", key, name,
                strerror(errno));
        rc = -1;
    } else if (!S_ISREG(st.st_mode)) {
        err_set(err, ERR_PARSE, "%s file '%s' is not a file", key, name);
        rc = -1;
    }
    if (rc < 0) {
        err_hint(err, "paths are relative to the scenario file (%s)", p);
        at_key(s, key, err);
    }
    free(p);
    return rc;
}

static int check_files(const struct scenario *s, const char *key,
                       char *const *names, size_t n, struct err *err)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (check_readable(s, key, names[i], err) < 0)
            return -1;
    return 0;
}

/* The model file is read now, so that a malformed one stops the scenario
 * before anything runs (its own FILE:LINE). */
static int check_model_file(const struct scenario *s, struct err *err)
{
    char *p;
    int rc;

    if (check_readable(s, "model", s->model, err) < 0)
        return -1;
    p = scenario_path(s, s->model);
    rc = cli_model_check_file(p, err);
    free(p);
    if (rc < 0 && err->code != ERR_PARSE) {
        err->code = ERR_PARSE;
        at_key(s, "model", err);
    } else if (rc < 0 && !err->hint[0]) {
        err_hint(err, "the model file of %s:%d", s->path,
                 scenario_line(s, "model"));
    }
    return rc < 0 ? -1 : 0;
}

static int check_entry(const struct scenario *s, struct err *err)
{
    enum engine engine;
    enum synth_template t;
    uint64_t size;
    size_t *idx = NULL, n;

    if (s->strategies) {
        if (cli_pick_strategies(s->strategies, strategy_table, strategy_count,
                                table_strategy_name, "unknown strategy", "",
                                ", or all", &idx, &n, err) < 0)
            return at_key(s, "strategies", err);
        free(idx);
    }
    if (s->engine && engine_parse(&engine, s->engine) < 0) {
        err_set(err, ERR_PARSE, "unknown engine '%s'", s->engine);
        err_hint(err, "engines: buildkit, docker-20.10");
        return at_key(s, "engine", err);
    }
    if (s->assign && strcmp(s->assign, "round-robin") &&
        strcmp(s->assign, "random")) {
        err_set(err, ERR_PARSE, "unknown assignment '%s'", s->assign);
        err_hint(err, "assign is round-robin or random");
        return at_key(s, "assign", err);
    }
    if (s->cache_limit && cli_parse_size(s->cache_limit, &size, err) < 0)
        return at_key(s, "cache_limit", err);
    if (s->runners == 0 || s->runners > 10000) {
        err_set(err, ERR_PARSE, "'runners' must be between 1 and 10000");
        return at_key(s, "runners", err);
    }
    if (s->synth_template && synth_template_parse(s->synth_template, &t) < 0) {
        err_set(err, ERR_PARSE, "unknown synth template '%s'",
                s->synth_template);
        err_hint(err, "templates: see 'harness synth --help'");
        return at_key(s, "synth.template", err);
    }
    if (s->synth_commits == 0) {
        err_set(err, ERR_PARSE, "'commits' must be at least 1");
        return at_key(s, "synth.commits", err);
    }
    if (s->cores > 1024) {
        err_set(err, ERR_PARSE, "'cores' must be between 0 (unbounded) and "
                                "1024");
        return at_key(s, "cores", err);
    }
    if (s->model && check_model_file(s, err) < 0)
        return ERR_PARSE;
    if (check_files(s, "timings", s->timings, s->ntimings, err) < 0 ||
        check_files(s, "layers", s->layers, s->nlayers, err) < 0 ||
        check_files(s, "manifest", s->manifests, s->nmanifests, err) < 0)
        return ERR_PARSE;
    if (s->has_synth && !s->repo) {
        err_set(err, ERR_PARSE, "'synth' needs a 'repo' folder to write");
        return at_key(s, "synth", err);
    }
    return 0;
}

int cli_scenario_check(const struct scenario *s, struct err *err)
{
    size_t i;
    int rc;

    if (!s->has_repos)
        return check_entry(s, err);
    for (i = 0; i < s->nrepos; i++)
        if ((rc = check_entry(&s->repos[i], err)) < 0)
            return rc;
    return 0;
}
