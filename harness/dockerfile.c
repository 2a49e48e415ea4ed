/*
 * dockerfile.c - Dockerfile text -> stages and instructions: the keywords,
 * df_parse() driving the two phases, freeing and the accessors.
 *
 * The front end is split along its seams (see dockerfile_int.h):
 * dockerfile_lex.c (lexing and directives), dockerfile_instr.c
 * (instructions and flags), dockerfile_stage.c (stages and substitution).
 */
#include "dockerfile_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- keywords and flags ------------------------------------------------ */

static const char *const kind_names[DF_KIND_COUNT] = {
    [DF_FROM] = "FROM",
    [DF_RUN] = "RUN",
    [DF_CMD] = "CMD",
    [DF_LABEL] = "LABEL",
    [DF_MAINTAINER] = "MAINTAINER",
    [DF_EXPOSE] = "EXPOSE",
    [DF_ENV] = "ENV",
    [DF_ADD] = "ADD",
    [DF_COPY] = "COPY",
    [DF_ENTRYPOINT] = "ENTRYPOINT",
    [DF_VOLUME] = "VOLUME",
    [DF_USER] = "USER",
    [DF_WORKDIR] = "WORKDIR",
    [DF_ARG] = "ARG",
    [DF_ONBUILD] = "ONBUILD",
    [DF_STOPSIGNAL] = "STOPSIGNAL",
    [DF_HEALTHCHECK] = "HEALTHCHECK",
    [DF_SHELL] = "SHELL",
};

const char *df_kind_name(enum df_kind k)
{
    return (unsigned)k < DF_KIND_COUNT ? kind_names[k] : "?";
}

int df_kind_parse(enum df_kind *out, const char *word)
{
    /* the names are capitals: those whose first letter differs are not it */
    int c = word[0] >= 'a' && word[0] <= 'z' ? word[0] - 'a' + 'A' : word[0];
    int k;

    for (k = 0; k < DF_KIND_COUNT; k++)
        if (kind_names[k][0] == c && !strcasecmp(kind_names[k], word)) {
            *out = (enum df_kind)k;
            return 0;
        }
    return ERR_NOTFOUND;
}
int df_parse(struct df_file **out, const char *path, const char *text,
             size_t len, const struct df_options *opts, struct err *err)
{
    struct df_file *f = xcalloc(1, sizeof(*f));
    struct nodes ns = { NULL, 0, 0 };
    struct p1 p;
    struct p2 q;
    int rc;

    /* about what a Dockerfile of len bytes takes, in chunks that double */
    f->mem.first = len < 1024 ? 4096 : len < 16384 ? 4 * len : 65536;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.err = err;
    p.f = f;
    memset(&q, 0, sizeof(q));
    q.path = path;
    q.err = err;
    q.opts = opts;
    q.f = f;
    q.mem = &f->mem;
    f->path = arena_strdup(&f->mem, path);
    f->escape = '\\';
    *out = NULL;
    if ((rc = dfi_parse_nodes(&p, &ns, text, len)) < 0)
        goto out;
    if ((rc = dfi_build_instrs(&q, &ns)) < 0)
        goto out;
    rc = dfi_dispatch_all(&q);
out:
    dfi_p1_release(&p, &ns);
    dfi_p2_release(&q);
    if (rc < 0) {
        df_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void df_file_free(struct df_file *f)
{
    if (!f)
        return;
    arena_release(&f->mem);
    free(f);
}

int df_stage_find(const struct df_file *f, const char *name_or_index)
{
    size_t i;
    char *end;
    long idx;

    if (!name_or_index || !*name_or_index)
        return -1;
    for (i = 0; i < f->nstages; i++)
        if (f->stages[i].name && !strcasecmp(f->stages[i].name, name_or_index))
            return (int)i;
    idx = strtol(name_or_index, &end, 10);
    if (isdigit((unsigned char)name_or_index[0]) && !*end && idx >= 0 &&
        (size_t)idx < f->nstages)
        return (int)idx;
    return -1;
}

const struct df_flag *df_instr_flag(const struct df_instr *in, const char *name)
{
    size_t i;

    for (i = 0; i < in->nflags; i++)
        if (!strcmp(in->flags[i].name, name))
            return &in->flags[i];
    return NULL;
}
