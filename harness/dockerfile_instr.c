/*
 * dockerfile_instr.c - pass A of phase 2, as BuildKit's
 * frontend/dockerfile/instructions: each node becomes an instruction; the
 * flags each keyword accepts are checked (--mount fields, HEALTHCHECK
 * durations), the argument shape is validated and stages are counted.
 * Nothing is expanded here.
 */
#include "dockerfile_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shlex.h"

enum flag_type { FT_STRING, FT_STRINGS, FT_BOOL };

struct flag_spec {
    enum df_kind kind;
    const char *name;
    enum flag_type type;
};

/* The flags each instruction accepts (instructions/parse.go). */
static const struct flag_spec flag_specs[] = {
    { DF_FROM, "platform", FT_STRING },
    { DF_RUN, "mount", FT_STRINGS },
    { DF_RUN, "network", FT_STRING },
    { DF_RUN, "security", FT_STRING },
    { DF_COPY, "chown", FT_STRING },
    { DF_COPY, "chmod", FT_STRING },
    { DF_COPY, "from", FT_STRING },
    { DF_COPY, "link", FT_BOOL },
    { DF_COPY, "parents", FT_BOOL },
    { DF_COPY, "exclude", FT_STRINGS },
    { DF_ADD, "chown", FT_STRING },
    { DF_ADD, "chmod", FT_STRING },
    { DF_ADD, "link", FT_BOOL },
    { DF_ADD, "keep-git-dir", FT_BOOL },
    { DF_ADD, "checksum", FT_STRING },
    { DF_ADD, "exclude", FT_STRINGS },
    { DF_ADD, "unpack", FT_BOOL },
    { DF_HEALTHCHECK, "interval", FT_STRING },
    { DF_HEALTHCHECK, "timeout", FT_STRING },
    { DF_HEALTHCHECK, "start-period", FT_STRING },
    { DF_HEALTHCHECK, "start-interval", FT_STRING },
    { DF_HEALTHCHECK, "retries", FT_STRING },
};

static const struct flag_spec *flag_spec_find(enum df_kind k, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(flag_specs) / sizeof(flag_specs[0]); i++)
        if (flag_specs[i].kind == k && !strcmp(flag_specs[i].name, name))
            return &flag_specs[i];
    return NULL;
}

/* Go time.ParseDuration, in nanoseconds (as a double). */
static int parse_duration(double *out, const char *s)
{
    static const struct {
        const char *u;
        double ns;
    } units[] = { { "ns", 1 },          { "us", 1e3 },  { "\xC2\xB5s", 1e3 },
                  { "\xCE\xBCs", 1e3 }, { "ms", 1e6 },  { "s", 1e9 },
                  { "m", 60e9 },        { "h", 3600e9 } };
    double total = 0;
    int neg = 0;

    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!strcmp(s, "0")) {
        *out = 0;
        return 0;
    }
    if (!*s)
        return -1;
    while (*s) {
        double v = 0, frac = 0, scale = 1;
        int digits = 0;
        size_t i, best = 0, bi = 0;
        while (isdigit((unsigned char)*s))
            v = v * 10 + (*s++ - '0'), digits++;
        if (*s == '.') {
            s++;
            while (isdigit((unsigned char)*s))
                frac = frac * 10 + (*s++ - '0'), scale *= 10, digits++;
        }
        if (!digits)
            return -1;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].u);
            if (!strncmp(s, units[i].u, n) && n > best)
                best = n, bi = i;
        }
        if (!best)
            return -1;
        total += (v + frac / scale) * units[bi].ns;
        s += best;
    }
    *out = neg ? -total : total;
    return 0;
}

/* bflag.Parse: check the raw flag words against the instruction's table. */
static int check_flags(struct p2 *p, struct df_instr *in, char **raw,
                       size_t nraw)
{
    size_t i, j;

    if (!nraw)
        return 0;
    in->flags = arena_alloc_uninit(p->mem, nraw * sizeof(*in->flags));
    for (i = 0; i < nraw; i++) {
        const char *w = raw[i], *eq;
        const struct flag_spec *fs;
        char *name;
        struct df_flag *fl;

        if (strncmp(w, "--", 2))
            return dfi_p2_fail(p, in->line, NULL,
                               "flag should start with -- '%s'", w);
        w += 2;
        eq = strchr(w, '=');
        name = eq ? arena_memdup(p->mem, w, (size_t)(eq - w))
                  : arena_strdup(p->mem, w);
        fs = flag_spec_find(in->kind, name);
        if (!fs)
            return dfi_p2_fail(
                p, in->line,
                "see the Dockerfile reference for the flags each instruction takes",
                "unknown flag '--%s' for %s", name, df_kind_name(in->kind));
        for (j = 0; fs->type != FT_STRINGS && j < in->nflags; j++)
            if (!strcmp(in->flags[j].name, name))
                return dfi_p2_fail(p, in->line, "give the flag once",
                                   "duplicate flag specified '--%s'", name);
        if (fs->type == FT_BOOL && eq && !eq[1])
            return dfi_p2_fail(p, in->line, "write --NAME or --NAME=true|false",
                               "missing a value on flag '--%s'", name);
        if (fs->type == FT_BOOL && eq && strcasecmp(eq + 1, "true") &&
            strcasecmp(eq + 1, "false"))
            return dfi_p2_fail(
                p, in->line, "write --NAME or --NAME=true|false",
                "expecting boolean value for flag '--%s', not '%s'", name,
                eq + 1);
        if (fs->type != FT_BOOL && !eq)
            return dfi_p2_fail(p, in->line, "write it as --NAME=VALUE",
                               "missing a value on flag '--%s'", name);
        fl = &in->flags[in->nflags++];
        fl->name = name;
        fl->value = eq ? (char *)eq + 1 : arena_strdup(p->mem, "");
        fl->raw = raw[i];
    }
    return 0;
}

struct df_flag *dfi_flag_mut(struct df_instr *in, const char *name)
{
    return (struct df_flag *)df_instr_flag(in, name);
}

/* Split a --mount value as encoding/csv does (one record). */
static int csv_fields(struct strv *out, struct arena *a, const char *s)
{
    struct buf f = BUF_INIT;

    for (;;) {
        buf_reset(&f);
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    goto bad;
                if (*s == '"' && s[1] == '"') {
                    buf_addch(&f, '"');
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    buf_addch(&f, *s++);
                }
            }
            if (*s && *s != ',')
                goto bad;
        } else {
            while (*s && *s != ',') {
                if (*s == '"')
                    goto bad;
                buf_addch(&f, *s++);
            }
        }
        strv_push(out, arena_memdup(a, buf_cstr(&f), f.len));
        if (!*s)
            break;
        s++;
    }
    buf_release(&f);
    return 0;
bad:
    buf_release(&f);
    return -1;
}

static const char *const mount_keys[] = {
    "type",     "from", "source",    "src",  "target", "dst",     "destination",
    "readonly", "ro",   "readwrite", "rw",   "id",     "sharing", "required",
    "mode",     "uid",  "gid",       "size", "env",
};

static int is_mount_key(const char *k)
{
    size_t i;

    for (i = 0; i < sizeof(mount_keys) / sizeof(mount_keys[0]); i++)
        if (!strcmp(mount_keys[i], k))
            return 1;
    return 0;
}

/*
 * runmount.go parseMount: check the fields of one --mount and, when scope
 * is given, expand the values; *out gets "key=value,..." rebuilt.
 */
int dfi_check_mount(struct p2 *p, char **out, const char *val,
                    const struct vlist *scope, int line)
{
    struct strv fields = { NULL, 0, 0 };
    struct buf b = BUF_INIT;
    char type[8] = "bind";
    int has_target = 0, rc = 0;
    size_t i;

    if (csv_fields(&fields, p->mem, val) < 0) {
        rc = dfi_p2_fail(p, line, "quote whole fields: \"key=value\"",
                         "malformed quoting in --mount '%s'", val);
        goto out;
    }
    for (i = 0; i < fields.n; i++) {
        char *f = fields.v[i], *eq = strchr(f, '='), *key, *v;
        size_t k;
        key = eq ? arena_memdup(p->mem, f, (size_t)(eq - f))
                 : arena_strdup(p->mem, f);
        for (k = 0; key[k]; k++)
            key[k] = (char)tolower((unsigned char)key[k]);
        if (!is_mount_key(key)) {
            rc = dfi_p2_fail(
                p, line,
                "keys: type, from, source, target, id, sharing, mode, uid, gid, size, readonly, required, env",
                "unexpected key '%s' in '%s'", key, f);
            goto out;
        }
        if (!eq && strcmp(key, "readonly") && strcmp(key, "ro") &&
            strcmp(key, "readwrite") && strcmp(key, "rw") &&
            strcmp(key, "required")) {
            rc = dfi_p2_fail(p, line, "write it as key=value",
                             "invalid field '%s' must be a key=value pair", f);
            goto out;
        }
        v = eq ? eq + 1 : f + strlen(f);
        if (scope && eq && strcmp(key, "type") &&
            (rc = dfi_expand_in_place(p, &v, scope, line)) < 0)
            goto out;
        if (!strcmp(key, "type")) {
            if (strcmp(v, "bind") && strcmp(v, "cache") && strcmp(v, "tmpfs") &&
                strcmp(v, "secret") && strcmp(v, "ssh")) {
                rc = dfi_p2_fail(p, line,
                                 "types: bind, cache, tmpfs, secret, ssh",
                                 "unsupported mount type '%s'", v);
                goto out;
            }
            snprintf(type, sizeof(type), "%s", v);
        }
        if (!strcmp(key, "sharing") && strcmp(v, "shared") &&
            strcmp(v, "private") && strcmp(v, "locked")) {
            rc = dfi_p2_fail(p, line, "sharing is shared, private or locked",
                             "unsupported sharing value '%s'", v);
            goto out;
        }
        if (!strcmp(key, "target") || !strcmp(key, "dst") ||
            !strcmp(key, "destination"))
            has_target = 1;
        if (b.len)
            buf_addch(&b, ',');
        buf_adds(&b, key);
        if (eq)
            buf_printf(&b, "=%s", v);
    }
    if (!has_target && strcmp(type, "secret") && strcmp(type, "ssh")) {
        rc = dfi_p2_fail(p, line, "add target=PATH to the --mount",
                         "mount type '%s' requires a target path", type);
        goto out;
    }
    if (out)
        *out = arena_memdup(p->mem, buf_cstr(&b), b.len);
out:
    buf_release(&b);
    free(fields.v);
    return rc;
}

static int args_exact(struct p2 *p, const struct df_instr *in, size_t want)
{
    if (in->nargs == want)
        return 0;
    return dfi_p2_fail(p, in->line, NULL, "%s requires exactly one argument",
                       df_kind_name(in->kind));
}

static int args_least(struct p2 *p, const struct df_instr *in)
{
    if (in->nargs)
        return 0;
    return dfi_p2_fail(p, in->line, NULL, "%s requires at least one argument",
                       df_kind_name(in->kind));
}

/* validStageName of s lower-cased: ^[a-z][a-z0-9-_\.]*$ */
static int valid_stage_name(const char *s)
{
    int c = tolower((unsigned char)*s);

    if (!(c >= 'a' && c <= 'z'))
        return 0;
    for (s++; *s; s++) {
        c = tolower((unsigned char)*s);
        if (!((c >= 'a' && c <= 'z') || isdigit(c) || c == '-' || c == '_' ||
              c == '.'))
            return 0;
    }
    return 1;
}

/* The words joined by single spaces, in the arena. */
static char *join_words(struct arena *a, char *const *v, size_t n)
{
    size_t i, len = 0, k;
    char *out, *o;

    for (i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    o = out = arena_alloc_uninit(a, len ? len : 1);
    for (i = 0; i < n; i++) {
        if (i)
            *o++ = ' ';
        k = strlen(v[i]);
        memcpy(o, v[i], k);
        o += k;
    }
    *o = '\0';
    return out;
}

/* "name=value" in the arena. */
static char *join_pair(struct arena *a, const struct df_var *v)
{
    size_t n = strlen(v->name), m = strlen(v->value);
    char *out = arena_alloc_uninit(a, n + m + 2);

    memcpy(out, v->name, n);
    out[n] = '=';
    memcpy(out + n + 1, v->value, m + 1);
    return out;
}

int dfi_is_heredoc_word(const char *w)
{
    while (isdigit((unsigned char)*w))
        w++;
    return !strncmp(w, "<<", 2) && w[2 + (w[2] == '-')] && !strchr(w + 2, '<');
}

static int validate_healthcheck(struct p2 *p, struct df_instr *in)
{
    static const char *const durs[] = { "interval", "timeout", "start-period",
                                        "start-interval" };
    size_t i;

    if (!in->nargs)
        return dfi_p2_fail(p, in->line,
                           "write HEALTHCHECK CMD ... or HEALTHCHECK NONE",
                           "HEALTHCHECK requires at least one argument");
    if (!strcasecmp(in->args[0], "NONE")) {
        if (in->nargs > 1)
            return dfi_p2_fail(p, in->line, NULL,
                               "HEALTHCHECK NONE takes no arguments");
        if (in->nflags)
            return dfi_p2_fail(
                p, in->line, NULL,
                "options cannot be specified with HEALTHCHECK NONE");
        return 0;
    }
    if (strcasecmp(in->args[0], "CMD"))
        return dfi_p2_fail(
            p, in->line, "write HEALTHCHECK CMD ... or HEALTHCHECK NONE",
            "unknown type '%s' in HEALTHCHECK (try CMD)", in->args[0]);
    if (in->nargs < 2 || (!in->json && !in->args[1][0]))
        return dfi_p2_fail(p, in->line, NULL,
                           "missing command after HEALTHCHECK CMD");
    for (i = 0; i < 4; i++) {
        const struct df_flag *fl = df_instr_flag(in, durs[i]);
        double ns;
        if (!fl || !fl->value[0])
            continue;
        if (parse_duration(&ns, fl->value) < 0)
            return dfi_p2_fail(
                p, in->line, "durations look like 30s, 1m30s, 500ms",
                "invalid duration '%s' for --%s", fl->value, durs[i]);
        if (ns < 0)
            return dfi_p2_fail(p, in->line, NULL,
                               "--%s cannot be negative '%s'", durs[i],
                               fl->value);
        if (ns > 0 && ns < 1e6)
            return dfi_p2_fail(p, in->line, NULL,
                               "--%s cannot be less than 1ms '%s'", durs[i],
                               fl->value);
    }
    {
        const struct df_flag *fl = df_instr_flag(in, "retries");
        char *end;
        long r;
        if (fl && fl->value[0]) {
            r = strtol(fl->value, &end, 10);
            if (*end)
                return dfi_p2_fail(p, in->line, NULL, "invalid --retries '%s'",
                                   fl->value);
            if (r < 0)
                return dfi_p2_fail(p, in->line, NULL,
                                   "--retries cannot be negative '%s'",
                                   fl->value);
        }
    }
    return 0;
}

/*
 * Pass A (instructions.ParseInstruction): fill in from the node, check the
 * flags and the argument shape.  Nothing is expanded yet.  The node's
 * arrays and strings become the instruction's: the node is dropped after.
 */
static int instr_from_node(struct p2 *p, struct df_instr *in, struct node *n)
{
    size_t i;
    int rc;

    in->from_stage = -1;
    in->line = n->line;
    in->end_line = n->end_line;
    in->original = n->original;
    in->json = n->json;
    in->heredocs = n->heredocs;
    in->nheredocs = n->nheredocs;
    if (!n->known)
        return dfi_p2_fail(p, n->line,
                           "see the Dockerfile reference for the instructions",
                           "unknown instruction '%s'", n->cmd);
    in->kind = n->kind;
    if ((rc = check_flags(p, in, n->flags, n->nflags)) < 0)
        return rc;
    switch (in->kind) {
    case DF_RUN:
    case DF_CMD:
    case DF_ENTRYPOINT:
        if (in->json) {
            in->args = n->args;
            in->nargs = n->nargs;
        } else {
            in->args = arena_alloc_uninit(p->mem, sizeof(char *));
            in->args[0] = join_words(p->mem, n->args, n->nargs);
            in->nargs = 1;
        }
        for (i = 0; in->kind == DF_RUN && i < in->nflags; i++) {
            const char *v = in->flags[i].value;
            if (!strcmp(in->flags[i].name, "mount") &&
                (rc = dfi_check_mount(p, NULL, v, NULL, in->line)) < 0)
                return rc;
            if (!strcmp(in->flags[i].name, "network") && strcmp(v, "default") &&
                strcmp(v, "none") && strcmp(v, "host"))
                return dfi_p2_fail(p, in->line, "use default, none or host",
                                   "unsupported network mode '%s'", v);
            if (!strcmp(in->flags[i].name, "security") &&
                strcmp(v, "sandbox") && strcmp(v, "insecure"))
                return dfi_p2_fail(p, in->line, "use sandbox or insecure",
                                   "unsupported security mode '%s'", v);
        }
        return 0;
    case DF_SHELL:
        in->args = n->args;
        in->nargs = n->nargs;
        if (!in->json)
            return dfi_p2_fail(
                p, in->line,
                "write it as SHELL [\"executable\", \"parameters\"]",
                "SHELL requires the arguments to be in JSON form");
        return args_least(p, in);
    case DF_ENV:
    case DF_LABEL:
        in->vars = n->kv;
        in->nvars = n->nkv;
        in->args =
            arena_alloc_uninit(p->mem, (n->nkv ? n->nkv : 1) * sizeof(char *));
        for (i = 0; i < n->nkv; i++) {
            if (!n->kv[i].name[0])
                return dfi_p2_fail(p, in->line, "write it as NAME=VALUE",
                                   "%s names can not be blank",
                                   df_kind_name(in->kind));
            in->args[in->nargs++] = join_pair(p->mem, &n->kv[i]);
        }
        return in->nvars ? 0 : args_least(p, in);
    case DF_ARG:
        in->args = n->args;
        in->nargs = n->nargs;
        if ((rc = args_least(p, in)) < 0)
            return rc;
        in->vars = arena_alloc(p->mem, in->nargs * sizeof(*in->vars));
        for (i = 0; i < in->nargs; i++) {
            char *eq = strchr(in->args[i], '=');
            if (eq == in->args[i])
                return dfi_p2_fail(p, in->line,
                                   "write it as ARG NAME[=DEFAULT]",
                                   "ARG names can not be blank");
            in->vars[i].name = eq ? arena_memdup(p->mem, in->args[i],
                                                 (size_t)(eq - in->args[i]))
                                  : in->args[i];
            in->vars[i].value = eq ? eq + 1 : NULL;
            in->nvars++;
        }
        return 0;
    case DF_COPY:
    case DF_ADD:
        in->args = n->args;
        in->nargs = n->nargs;
        if (in->nargs < 2)
            return dfi_p2_fail(
                p, in->line, "name the sources and then the destination",
                "%s requires at least two arguments, but only one was provided. Destination could not be determined",
                df_kind_name(in->kind));
        if (!in->json && dfi_is_heredoc_word(in->args[in->nargs - 1]))
            return dfi_p2_fail(p, in->line, NULL,
                               "%s cannot accept a heredoc as a destination",
                               df_kind_name(in->kind));
        return 0;
    case DF_FROM:
        in->args = n->args;
        in->nargs = n->nargs;
        if (in->nargs == 3 && !strcasecmp(in->args[1], "as")) {
            if (!valid_stage_name(in->args[2]))
                return dfi_p2_fail(
                    p, in->line,
                    "stage names start with a letter and hold only letters, digits, '-', '_' and '.'",
                    "invalid name for build stage '%s', name can't start with a number or contain symbols",
                    in->args[2]);
        } else if (in->nargs != 1) {
            return dfi_p2_fail(p, in->line, "write FROM IMAGE [AS NAME]",
                               "FROM requires either one or three arguments");
        }
        return 0;
    case DF_HEALTHCHECK:
        in->args = n->args;
        in->nargs = n->nargs;
        if (in->nargs > 1 && !in->json) {
            char *cmd = join_words(p->mem, in->args + 1, in->nargs - 1);
            in->args[1] = cmd; /* the node's array: its own now */
            in->nargs = 2;
        }
        if (in->nargs)
            for (i = 0; in->args[0][i]; i++)
                in->args[0][i] = (char)toupper((unsigned char)in->args[0][i]);
        return validate_healthcheck(p, in);
    case DF_ONBUILD:
        if (!n->inner)
            return dfi_p2_fail(p, in->line, NULL,
                               "ONBUILD requires at least one argument");
        in->args = arena_alloc_uninit(p->mem, sizeof(char *));
        in->args[0] = n->inner->original;
        in->nargs = 1;
        in->inner = arena_alloc(p->mem, sizeof(*in->inner));
        in->inner->stage = in->stage;
        if ((rc = instr_from_node(p, in->inner, n->inner)) < 0)
            return rc;
        if (in->inner->kind == DF_ONBUILD || in->inner->kind == DF_FROM ||
            in->inner->kind == DF_MAINTAINER)
            return dfi_p2_fail(p, in->line, NULL,
                               "%s isn't allowed as an ONBUILD trigger",
                               df_kind_name(in->inner->kind));
        return 0;
    case DF_EXPOSE:
    case DF_VOLUME:
        in->args = n->args;
        in->nargs = n->nargs;
        if ((rc = args_least(p, in)) < 0)
            return rc;
        for (i = 0; in->kind == DF_VOLUME && i < in->nargs; i++)
            if (all_ws(in->args[i]))
                return dfi_p2_fail(
                    p, in->line, NULL,
                    "VOLUME specified can not be an empty string");
        return 0;
    default: /* MAINTAINER USER WORKDIR STOPSIGNAL */
        in->args = n->args;
        in->nargs = n->nargs;
        return args_exact(p, in, 1);
    }
}

/* Pass A over all nodes: instructions, stages, meta ARGs. */
int dfi_build_instrs(struct p2 *p, const struct nodes *ns)
{
    struct df_file *f = p->f;
    size_t i, nfrom = 0, j;
    int rc;

    for (i = 0; i < ns->n; i++)
        nfrom += ns->v[i].known && ns->v[i].kind == DF_FROM;
    f->instrs = arena_alloc(&f->mem, ns->n * sizeof(*f->instrs));
    f->stages = arena_alloc(&f->mem, (nfrom ? nfrom : 1) * sizeof(*f->stages));
    for (i = 0; i < ns->n; i++) {
        struct df_instr *in = &f->instrs[f->ninstrs++];
        in->stage = (int)f->nstages - 1;
        in->from_stage = -1;
        if ((rc = instr_from_node(p, in, &ns->v[i])) < 0)
            return rc;
        if (in->kind == DF_FROM) {
            struct df_stage *st = &f->stages[f->nstages++];
            st->base_stage = -1;
            st->first = i;
            in->stage = (int)f->nstages - 1;
            if (in->nargs == 3) {
                st->name = arena_strdup(&f->mem, in->args[2]);
                for (j = 0; st->name[j]; j++)
                    st->name[j] = (char)tolower((unsigned char)st->name[j]);
            }
        } else if (in->stage < 0 && in->kind != DF_ARG) {
            return dfi_p2_fail(
                p, in->line,
                "start the Dockerfile with FROM (only ARG may come before it)",
                "no build stage in current context for '%s'",
                df_kind_name(in->kind));
        }
        if (in->stage >= 0)
            f->stages[in->stage].count++;
    }
    if (!f->nstages)
        return dfi_p2_fail(p, 0, "add a FROM instruction",
                           "dockerfile contains no stages to build");
    return 0;
}
