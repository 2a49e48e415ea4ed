#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

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
    for (i = 0; i < c->bases.n; i++) {
        const char *a = c->bases.items[i];
        const char *eq = strrchr(a, '=');
        if (!eq || eq == a || !eq[1])
            return err_set(err, ERR_USAGE,
                           "--base needs IMAGE=DIGEST, not '%s'", a);
        c->keybases[i].image = xstrndup(a, (size_t)(eq - a));
        c->keybases[i].digest = eq + 1;
    }
    memset(&c->plan, 0, sizeof(c->plan));
    c->plan.dockerfile = c->dockerfile;
    c->plan.context = c->context;
    c->plan.no_git_dir = c->no_git_dir;
    c->plan.build_args = c->vars;
    c->plan.nbuild_args = c->build_args.n;
    c->plan.target = c->target;
    c->plan.bases = c->keybases;
    c->plan.nbases = c->bases.n;
    c->plan.remote_changes = c->remote_changes;
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
    if (c->keybases)
        for (i = 0; i < c->bases.n; i++)
            free((char *)c->keybases[i].image);
    free(c->vars);
    free(c->keybases);
    opt_list_release(&c->build_args);
    opt_list_release(&c->bases);
}

int cli_open_repo(struct repo **out, const struct cli_build *c,
                  struct err *err)
{
    return repo_open(out, c->repo ? c->repo : ".", err);
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

int cli_is_tty(void)
{
    return isatty(2);
}
