#include "opt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const struct opt *find_long(const struct opt *o, const char *name,
                                   size_t len)
{
    for (; o->type != OPT_END; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    return NULL;
}

static const struct opt *find_short(const struct opt *o, char c)
{
    for (; o->type != OPT_END; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static int set_value(const struct opt_cmd *cmd, const struct opt *o,
                     const char *v, struct err *err)
{
    char *end;
    long n;
    struct opt_list *l;

    switch (o->type) {
    case OPT_STRING:
        *(const char **)o->value = v;
        return 0;
    case OPT_INT:
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || end == v || *end)
            return err_set(err, ERR_USAGE,
                           "%s: option '--%s' needs a whole number, not '%s'",
                           cmd->name, o->name, v);
        *(long *)o->value = n;
        return 0;
    case OPT_LIST:
        l = o->value;
        XGROW(l->items, l->cap, l->n + 1);
        l->items[l->n++] = v;
        return 0;
    default:
        return 0;
    }
}

int opt_parse(const struct opt_cmd *cmd, int argc, char **argv, char ***args,
              int *nargs, struct err *err)
{
    char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
    int np = 0, i, only_pos = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *o = NULL;
        const char *val = NULL;

        if (only_pos || a[0] != '-' || !a[1]) {
            pos[np++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            opt_print_help(cmd);
            free(pos);
            return OPT_HELP;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = find_long(cmd->opts, a + 2, len);
            if (eq)
                val = eq + 1;
        } else if (!a[2]) {
            o = find_short(cmd->opts, a[1]);
        }
        if (!o) {
            free(pos);
            return err_set(err, ERR_USAGE, "%s: unknown option '%s'",
                           cmd->name, a);
        }
        if (o->type == OPT_BOOL) {
            if (val) {
                free(pos);
                return err_set(err, ERR_USAGE,
                               "%s: option '--%s' takes no value", cmd->name,
                               o->name);
            }
            *(int *)o->value = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                free(pos);
                return err_set(err, ERR_USAGE,
                               "%s: option '--%s' needs a value (%s)",
                               cmd->name, o->name, o->arg_name);
            }
            val = argv[++i];
        }
        if (set_value(cmd, o, val, err) < 0) {
            free(pos);
            return err->code;
        }
    }
    if (np < cmd->min_args || (cmd->max_args >= 0 && np > cmd->max_args)) {
        free(pos);
        if (np < cmd->min_args)
            return err_set(err, ERR_USAGE, "%s: missing argument",
                           cmd->name);
        return err_set(err, ERR_USAGE, "%s: too many arguments ('%s')",
                       cmd->name, argv[argc - 1]);
    }
    *args = pos;
    *nargs = np;
    return 0;
}

void opt_print_help(const struct opt_cmd *cmd)
{
    const struct opt *o;

    printf("usage: harness %s %s\n\n%s\n", cmd->name, cmd->synopsis,
           cmd->summary);
    if (cmd->opts && cmd->opts->type != OPT_END)
        printf("\noptions:\n");
    for (o = cmd->opts; o && o->type != OPT_END; o++) {
        struct buf b = BUF_INIT;
        if (o->short_name)
            buf_printf(&b, "  -%c, --%s", o->short_name, o->name);
        else
            buf_printf(&b, "      --%s", o->name);
        if (o->arg_name)
            buf_printf(&b, " %s", o->arg_name);
        if (b.len < 30)
            printf("%-30s %s\n", buf_cstr(&b), o->help);
        else
            printf("%s\n%-30s %s\n", buf_cstr(&b), "", o->help);
        buf_release(&b);
    }
    printf("      --help                   show this help and exit\n");
}

void opt_print_usage(const struct opt_cmd *cmd)
{
    fprintf(stderr, "usage: harness %s %s\n", cmd->name, cmd->synopsis);
    fprintf(stderr, "see 'harness %s --help'\n", cmd->name);
}

void opt_list_release(struct opt_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

int opt_run(const struct opt_cmd *cmd, int argc, char **argv, char ***args,
            int *nargs)
{
    struct err err = ERR_INIT;
    int rc = opt_parse(cmd, argc, argv, args, nargs, &err);

    if (rc == OPT_HELP)
        return EXIT_OK;
    if (rc < 0) {
        err_print(&err);
        opt_print_usage(cmd);
        return EXIT_USAGE;
    }
    return -1;
}
