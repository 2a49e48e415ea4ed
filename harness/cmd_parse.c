/*
 * cmd_parse.c - `harness parse`: print what the Dockerfile front end read
 * (stages, instructions, flags, expanded arguments, heredocs, state).
 *
 * Exit: 0 parsed, 2 usage, 3 file unreadable, 4 malformed Dockerfile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "dockerfile.h"
#include "err.h"
#include "opt.h"

enum parse_format { FMT_JSON, FMT_TEXT };

static void nl(struct buf *b, int indent)
{
    buf_addch(b, '\n');
    while (indent-- > 0)
        buf_adds(b, "  ");
}

static void json_str_or_null(struct buf *b, const char *s)
{
    if (s)
        buf_add_json_str(b, s);
    else
        buf_adds(b, "null");
}

static void json_strs(struct buf *b, char *const *v, size_t n)
{
    size_t i;

    buf_addch(b, '[');
    for (i = 0; i < n; i++) {
        if (i)
            buf_adds(b, ", ");
        buf_add_json_str(b, v[i]);
    }
    buf_addch(b, ']');
}

static void json_vars(struct buf *b, const struct df_var *v, size_t n)
{
    size_t i;

    buf_addch(b, '[');
    for (i = 0; i < n; i++) {
        if (i)
            buf_adds(b, ", ");
        buf_adds(b, "{\"name\": ");
        buf_add_json_str(b, v[i].name);
        buf_adds(b, ", \"value\": ");
        json_str_or_null(b, v[i].value);
        buf_addch(b, '}');
    }
    buf_addch(b, ']');
}

static void json_instr(struct buf *b, const struct df_instr *in, int ind)
{
    size_t i;

    buf_addch(b, '{');
    nl(b, ind + 1);
    buf_printf(b, "\"line\": %d, \"end_line\": %d, \"stage\": %d,", in->line,
               in->end_line, in->stage);
    nl(b, ind + 1);
    buf_printf(b, "\"keyword\": \"%s\", \"json\": %s,", df_kind_name(in->kind),
               in->json ? "true" : "false");
    nl(b, ind + 1);
    buf_adds(b, "\"original\": ");
    buf_add_json_str(b, in->original);
    buf_addch(b, ',');
    nl(b, ind + 1);
    buf_adds(b, "\"flags\": [");
    for (i = 0; i < in->nflags; i++) {
        buf_adds(b, i ? ", {\"name\": " : "{\"name\": ");
        buf_add_json_str(b, in->flags[i].name);
        buf_adds(b, ", \"value\": ");
        buf_add_json_str(b, in->flags[i].value);
        buf_adds(b, ", \"raw\": ");
        buf_add_json_str(b, in->flags[i].raw);
        buf_addch(b, '}');
    }
    buf_adds(b, "],");
    if (in->from_stage >= 0) {
        nl(b, ind + 1);
        buf_printf(b, "\"from_stage\": %d,", in->from_stage);
    }
    nl(b, ind + 1);
    buf_adds(b, "\"args\": ");
    json_strs(b, in->args, in->nargs);
    buf_addch(b, ',');
    if (in->nvars) {
        nl(b, ind + 1);
        buf_adds(b, "\"vars\": ");
        json_vars(b, in->vars, in->nvars);
        buf_addch(b, ',');
    }
    for (i = 0; i < in->nheredocs; i++) {
        const struct df_heredoc *h = &in->heredocs[i];
        nl(b, ind + 1);
        buf_adds(b, i ? "  {\"name\": " : "\"heredocs\": [{\"name\": ");
        buf_add_json_str(b, h->name);
        buf_printf(b, ", \"expand\": %s, \"chomp\": %s, \"content\": ",
                   h->expand ? "true" : "false", h->chomp ? "true" : "false");
        buf_add_json_str(b, h->content);
        buf_adds(b, i + 1 < in->nheredocs ? "}," : "}],");
    }
    if (in->inner) {
        nl(b, ind + 1);
        buf_adds(b, "\"inner\": ");
        json_instr(b, in->inner, ind + 1);
        buf_addch(b, ',');
    }
    nl(b, ind + 1);
    buf_adds(b, "\"state\": {\"env\": ");
    json_vars(b, in->state.env, in->state.nenv);
    buf_adds(b, ", \"args\": ");
    json_vars(b, in->state.args, in->state.nargs);
    buf_adds(b, ", \"workdir\": ");
    buf_add_json_str(b, in->state.workdir);
    buf_adds(b, ", \"user\": ");
    buf_add_json_str(b, in->state.user);
    buf_adds(b, ", \"shell\": ");
    json_strs(b, in->state.shell, in->state.nshell);
    buf_addch(b, '}');
    nl(b, ind);
    buf_addch(b, '}');
}

static void print_json(struct buf *b, const struct df_file *f)
{
    char esc[2] = { f->escape, 0 };
    size_t i;

    buf_adds(b, "{");
    nl(b, 1);
    buf_adds(b, "\"file\": ");
    buf_add_json_str(b, f->path);
    buf_adds(b, ",");
    nl(b, 1);
    buf_adds(b, "\"escape\": ");
    buf_add_json_str(b, esc);
    buf_adds(b, ", \"syntax\": ");
    json_str_or_null(b, f->syntax);
    buf_adds(b, ", \"check\": ");
    json_str_or_null(b, f->check);
    buf_adds(b, ",");
    nl(b, 1);
    buf_adds(b, "\"meta_args\": ");
    json_vars(b, f->meta_args, f->nmeta_args);
    buf_adds(b, ",");
    nl(b, 1);
    buf_adds(b, "\"stages\": [");
    for (i = 0; i < f->nstages; i++) {
        const struct df_stage *s = &f->stages[i];
        nl(b, 2);
        buf_printf(b, "{\"index\": %zu, \"name\": ", i);
        json_str_or_null(b, s->name);
        buf_adds(b, ", \"base\": ");
        buf_add_json_str(b, s->base);
        buf_adds(b, ", \"platform\": ");
        json_str_or_null(b, s->platform);
        buf_printf(b, ", \"base_stage\": %d, \"first\": %zu, \"count\": %zu}%s",
                   s->base_stage, s->first, s->count,
                   i + 1 < f->nstages ? "," : "");
    }
    nl(b, 1);
    buf_adds(b, "],");
    nl(b, 1);
    buf_adds(b, "\"instructions\": [");
    for (i = 0; i < f->ninstrs; i++) {
        nl(b, 2);
        json_instr(b, &f->instrs[i], 2);
        if (i + 1 < f->ninstrs)
            buf_addch(b, ',');
    }
    nl(b, 1);
    buf_adds(b, "]");
    nl(b, 0);
    buf_adds(b, "}\n");
}

static void text_instr(struct buf *b, const struct df_instr *in,
                       const char *pfx)
{
    size_t i;

    buf_printf(b, "%s%d", pfx, in->line);
    if (in->end_line != in->line)
        buf_printf(b, "-%d", in->end_line);
    buf_printf(b, " [%d] %s%s\n", in->stage, df_kind_name(in->kind),
               in->json ? " (exec form)" : "");
    buf_printf(b, "%s    original: %s\n", pfx, in->original);
    for (i = 0; i < in->nflags; i++)
        buf_printf(b, "%s    flag %s = %s\n", pfx, in->flags[i].name,
                   in->flags[i].value);
    for (i = 0; i < in->nargs; i++)
        buf_printf(b, "%s    arg %s\n", pfx, in->args[i]);
    for (i = 0; i < in->nvars; i++)
        buf_printf(b, "%s    var %s%s%s\n", pfx, in->vars[i].name,
                   in->vars[i].value ? "=" : "",
                   in->vars[i].value ? in->vars[i].value : "");
    for (i = 0; i < in->nheredocs; i++)
        buf_printf(b, "%s    heredoc %s%s%s (%zu bytes)\n", pfx,
                   in->heredocs[i].name,
                   in->heredocs[i].expand ? "" : " quoted",
                   in->heredocs[i].chomp ? " chomp" : "",
                   strlen(in->heredocs[i].content));
    if (in->from_stage >= 0)
        buf_printf(b, "%s    from stage %d\n", pfx, in->from_stage);
    buf_printf(b, "%s    workdir %s user '%s' env %zu args %zu\n", pfx,
               in->state.workdir, in->state.user, in->state.nenv,
               in->state.nargs);
    if (in->inner)
        text_instr(b, in->inner, "    ONBUILD ");
}

static void print_text(struct buf *b, const struct df_file *f)
{
    size_t i;

    buf_printf(b, "file %s escape %c", f->path, f->escape);
    if (f->syntax)
        buf_printf(b, " syntax %s", f->syntax);
    if (f->check)
        buf_printf(b, " check %s", f->check);
    buf_addch(b, '\n');
    for (i = 0; i < f->nmeta_args; i++)
        buf_printf(b, "global arg %s%s%s\n", f->meta_args[i].name,
                   f->meta_args[i].value ? "=" : "",
                   f->meta_args[i].value ? f->meta_args[i].value : "");
    for (i = 0; i < f->nstages; i++) {
        const struct df_stage *s = &f->stages[i];
        buf_printf(b, "stage %zu %s base %s", i, s->name ? s->name : "-",
                   s->base);
        if (s->base_stage >= 0)
            buf_printf(b, " (stage %d)", s->base_stage);
        if (s->platform)
            buf_printf(b, " platform %s", s->platform);
        buf_printf(b, ", %zu instructions\n", s->count);
    }
    for (i = 0; i < f->ninstrs; i++)
        text_instr(b, &f->instrs[i], "");
}

int cmd_parse(int argc, char **argv)
{
    const char *format = "json";
    struct opt_list bargs = { NULL, 0, 0 };
    const struct opt opts[] = {
        { "format", 'f', OPT_STRING, &format, "FORMAT",
          "json (default) or text" },
        { "build-arg", 0, OPT_LIST, &bargs, "K=V",
          "value of a build argument (repeatable)" },
        OPT_END_ENTRY,
    };
    const struct opt_cmd cmd = {
        "parse", "[--format json|text] [--build-arg K=V]... DOCKERFILE",
        "Parse a Dockerfile as Docker does and print its stages and "
        "instructions.",
        opts, 1, 1,
    };
    struct err err = ERR_INIT;
    struct buf text = BUF_INIT, out = BUF_INIT;
    struct df_file *f = NULL;
    struct df_var *ba = NULL;
    struct df_options dopts = { NULL, 0 };
    enum parse_format fmt;
    char **args = NULL;
    int nargs = 0, rc, ret;
    size_t i;

    if ((ret = opt_run(&cmd, argc, argv, &args, &nargs)) >= 0)
        goto out;
    if (!strcmp(format, "json")) {
        fmt = FMT_JSON;
    } else if (!strcmp(format, "text")) {
        fmt = FMT_TEXT;
    } else {
        fprintf(stderr, "harness: parse: unknown format '%s'\n", format);
        opt_print_usage(&cmd);
        ret = EXIT_USAGE;
        goto out;
    }
    ba = xcalloc(bargs.n ? bargs.n : 1, sizeof(*ba));
    for (i = 0; i < bargs.n; i++) {
        const char *eq = strchr(bargs.items[i], '=');
        ba[i].name = eq ? xstrndup(bargs.items[i],
                                   (size_t)(eq - bargs.items[i]))
                        : xstrdup(bargs.items[i]);
        /* --build-arg NAME alone takes the value from the environment. */
        ba[i].value = xstrdup(eq ? eq + 1 : "");
        if (!eq) {
            const char *env = getenv(bargs.items[i]);
            free(ba[i].value);
            ba[i].value = env ? xstrdup(env) : NULL;
        }
    }
    dopts.build_args = ba;
    dopts.nbuild_args = bargs.n;
    if ((rc = buf_read_file(&text, args[0], &err)) < 0 ||
        (rc = df_parse(&f, args[0], buf_cstr(&text), text.len, &dopts,
                       &err)) < 0) {
        err_print(&err);
        ret = err_exit_code(rc);
        goto out;
    }
    /* Errors Docker reports only when it builds the stage: one in the
     * last stage (the default target) fails every build; elsewhere only
     * builds that need that stage (and every legacy build). */
    for (i = 0; i < f->nstages; i++) {
        if (!f->stages[i].error)
            continue;
        if (i + 1 == f->nstages) {
            err_set(&err, ERR_PARSE, "%s", f->stages[i].error);
            err_hint(&err, "a build of this stage fails here");
            err_print(&err);
            ret = EXIT_BADINPUT;
            goto out;
        }
        fprintf(stderr,
                "harness: warning: %s (only builds that need stage %zu "
                "fail: BuildKit when the target needs it, the legacy "
                "builder always)\n",
                f->stages[i].error, i);
    }
    if (fmt == FMT_JSON)
        print_json(&out, f);
    else
        print_text(&out, f);
    fwrite(out.ptr, 1, out.len, stdout);
    ret = EXIT_OK;
out:
    for (i = 0; ba && i < bargs.n; i++) {
        free(ba[i].name);
        free(ba[i].value);
    }
    free(ba);
    df_file_free(f);
    buf_release(&text);
    buf_release(&out);
    opt_list_release(&bargs);
    free(args);
    return ret;
}
