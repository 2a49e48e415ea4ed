/*
 * dockerfile.c - Dockerfile text -> stages and instructions.
 *
 * Two phases, as in BuildKit:
 *  1. the parser (frontend/dockerfile/parser): physical lines -> logical
 *     lines (directives, comments, continuations, heredoc bodies) -> nodes
 *     with flags and per-keyword argument splitting (JSON or shell form);
 *  2. instructions + dispatch (frontend/dockerfile/instructions and
 *     dockerfile2llb/convert.go): per-keyword validation, flag checking,
 *     stage bookkeeping, ARG/ENV scoping and variable substitution.
 * Errors of phase 1 are reported before those of phase 2, as Docker does.
 */
#include "dockerfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "shlex.h"

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
    int k;

    for (k = 0; k < DF_KIND_COUNT; k++)
        if (!strcasecmp(kind_names[k], word)) {
            *out = (enum df_kind)k;
            return 0;
        }
    return ERR_NOTFOUND;
}

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

/* ---- small helpers ------------------------------------------------------ */

/* Go's unicode.IsSpace restricted to ASCII. */
static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

/* reWhitespace: [\t\v\f\r ]+ */
static int is_rews(int c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static char *trim_dup(const char *s)
{
    const char *e;

    while (*s && is_ws((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && is_ws((unsigned char)e[-1]))
        e--;
    return xstrndup(s, (size_t)(e - s));
}

struct strv {
    char **v;
    size_t n, cap;
};

static void strv_push(struct strv *sv, char *s)
{
    XGROW(sv->v, sv->cap, sv->n + 1);
    sv->v[sv->n++] = s;
}

static void strv_free(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **strv_dup(char *const *v, size_t n)
{
    char **r = xcalloc(n ? n : 1, sizeof(*r));
    size_t i;

    for (i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

/* An ordered name=value list with replace-in-place (BuildKit AddOrReplace). */
struct vlist {
    struct df_var *v;
    size_t n, cap;
};

static struct df_var *vlist_find(const struct vlist *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return &l->v[i];
    return NULL;
}

static void vlist_set(struct vlist *l, const char *name, const char *value)
{
    struct df_var *v = vlist_find(l, name);

    if (!v) {
        XGROW(l->v, l->cap, l->n + 1);
        v = &l->v[l->n++];
        v->name = xstrdup(name);
        v->value = NULL;
    }
    free(v->value);
    v->value = value ? xstrdup(value) : NULL;
}

static void vars_free(struct df_var *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static void vlist_release(struct vlist *l)
{
    vars_free(l->v, l->n);
    memset(l, 0, sizeof(*l));
}

static struct df_var *vars_dup(const struct df_var *v, size_t n)
{
    struct df_var *r = xcalloc(n ? n : 1, sizeof(*r));
    size_t i;

    for (i = 0; i < n; i++) {
        r[i].name = xstrdup(v[i].name);
        r[i].value = v[i].value ? xstrdup(v[i].value) : NULL;
    }
    return r;
}

static void vlist_copy(struct vlist *dst, const struct vlist *src)
{
    vlist_release(dst);
    dst->v = vars_dup(src->v, src->n);
    dst->n = dst->cap = src->n;
}

/* ---- JSON arrays (parser.parseJSON) ------------------------------------- */

enum { JSON_OK = 0, JSON_INVALID = 1, JSON_NOT_STRINGS = 2 };

struct jscan {
    const char *s;
    size_t pos, len;
    int depth;
};

static void js_ws(struct jscan *j)
{
    while (j->pos < j->len && strchr(" \t\n\r", j->s[j->pos]))
        j->pos++;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void utf8_put(struct buf *b, unsigned long cp)
{
    if (cp < 0x80) {
        buf_addch(b, (char)cp);
    } else if (cp < 0x800) {
        buf_addch(b, (char)(0xC0 | (cp >> 6)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_addch(b, (char)(0xE0 | (cp >> 12)));
        buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_addch(b, (char)(0xF0 | (cp >> 18)));
        buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static long js_hex4(struct jscan *j)
{
    long v = 0;
    int i, h;

    if (j->len - j->pos < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        if ((h = hexval((unsigned char)j->s[j->pos + (size_t)i])) < 0)
            return -1;
        v = v * 16 + h;
    }
    j->pos += 4;
    return v;
}

/* A JSON string at j->pos (the opening quote); out may be NULL. */
static int js_string(struct jscan *j, struct buf *out)
{
    j->pos++;
    while (j->pos < j->len) {
        unsigned char c = (unsigned char)j->s[j->pos++];
        long cp, lo;

        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            if (out)
                buf_addch(out, (char)c);
            continue;
        }
        if (j->pos >= j->len)
            return -1;
        c = (unsigned char)j->s[j->pos++];
        switch (c) {
        case '"':
        case '\\':
        case '/':
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u':
            if ((cp = js_hex4(j)) < 0)
                return -1;
            if (cp >= 0xD800 && cp < 0xDC00 && j->len - j->pos >= 6 &&
                j->s[j->pos] == '\\' && j->s[j->pos + 1] == 'u') {
                size_t save = j->pos;
                j->pos += 2;
                lo = js_hex4(j);
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    j->pos = save, cp = 0xFFFD;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            if (out) {
                if (cp == 0)
                    return -1; /* a NUL cannot live in a C string */
                utf8_put(out, (unsigned long)cp);
            }
            continue;
        default:
            return -1;
        }
        if (out)
            buf_addch(out, (char)c);
    }
    return -1;
}

static int js_value(struct jscan *j);

static int js_literal(struct jscan *j, const char *lit)
{
    size_t n = strlen(lit);

    if (j->len - j->pos < n || memcmp(j->s + j->pos, lit, n))
        return -1;
    j->pos += n;
    return 0;
}

static int js_number(struct jscan *j)
{
    size_t start;

    if (j->pos < j->len && j->s[j->pos] == '-')
        j->pos++;
    if (j->pos >= j->len || !isdigit((unsigned char)j->s[j->pos]))
        return -1;
    if (j->s[j->pos] == '0')
        j->pos++;
    else
        while (j->pos < j->len && isdigit((unsigned char)j->s[j->pos]))
            j->pos++;
    if (j->pos < j->len && j->s[j->pos] == '.') {
        start = ++j->pos;
        while (j->pos < j->len && isdigit((unsigned char)j->s[j->pos]))
            j->pos++;
        if (j->pos == start)
            return -1;
    }
    if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
            j->pos++;
        start = j->pos;
        while (j->pos < j->len && isdigit((unsigned char)j->s[j->pos]))
            j->pos++;
        if (j->pos == start)
            return -1;
    }
    return 0;
}

static int js_container(struct jscan *j, char open)
{
    char close = open == '[' ? ']' : '}';
    int first = 1;

    if (++j->depth > 10000)
        return -1; /* Go's decoder gives up at this depth too */
    j->pos++;
    js_ws(j);
    if (j->pos < j->len && j->s[j->pos] == close) {
        j->pos++;
        j->depth--;
        return 0;
    }
    for (;;) {
        if (!first) {
            js_ws(j);
            if (j->pos >= j->len)
                return -1;
            if (j->s[j->pos] == close) {
                j->pos++;
                j->depth--;
                return 0;
            }
            if (j->s[j->pos++] != ',')
                return -1;
        }
        first = 0;
        js_ws(j);
        if (open == '{') {
            if (j->pos >= j->len || j->s[j->pos] != '"' ||
                js_string(j, NULL) < 0)
                return -1;
            js_ws(j);
            if (j->pos >= j->len || j->s[j->pos++] != ':')
                return -1;
            js_ws(j);
        }
        if (js_value(j) < 0)
            return -1;
    }
}

static int js_value(struct jscan *j)
{
    if (j->pos >= j->len)
        return -1;
    switch (j->s[j->pos]) {
    case '"':
        return js_string(j, NULL);
    case '[':
    case '{':
        return js_container(j, j->s[j->pos]);
    case 't':
        return js_literal(j, "true");
    case 'f':
        return js_literal(j, "false");
    case 'n':
        return js_literal(j, "null");
    default:
        return js_number(j);
    }
}

/*
 * rest must start (after white space) with '[' and be one valid JSON
 * array; JSON_NOT_STRINGS when valid but holding a non-string.
 */
static int parse_json_array(struct strv *out, const char *rest)
{
    struct jscan j = { rest, 0, strlen(rest), 0 };
    struct buf b = BUF_INIT;
    int nonstring = 0;

    while (j.pos < j.len && is_ws((unsigned char)rest[j.pos]))
        j.pos++;
    if (j.pos >= j.len || rest[j.pos] != '[')
        return JSON_INVALID;
    j.pos++;
    j.depth = 1;
    js_ws(&j);
    if (j.pos < j.len && rest[j.pos] == ']') {
        j.pos++;
    } else {
        for (;;) {
            js_ws(&j);
            if (j.pos < j.len && rest[j.pos] == '"') {
                buf_reset(&b);
                if (js_string(&j, &b) < 0)
                    goto bad;
                strv_push(out, xstrdup(buf_cstr(&b)));
            } else {
                if (js_value(&j) < 0)
                    goto bad;
                nonstring = 1;
            }
            js_ws(&j);
            if (j.pos >= j.len)
                goto bad;
            if (rest[j.pos] == ']') {
                j.pos++;
                break;
            }
            if (rest[j.pos++] != ',')
                goto bad;
        }
    }
    js_ws(&j);
    if (j.pos != j.len)
        goto bad;
    buf_release(&b);
    return nonstring ? JSON_NOT_STRINGS : JSON_OK;
bad:
    buf_release(&b);
    strv_free(out->v, out->n);
    memset(out, 0, sizeof(*out));
    return JSON_INVALID;
}

/* ---- phase 1: the parser ------------------------------------------------ */

/* One logical line: what parser.Node holds. */
struct node {
    int line, end_line;
    char *cmd; /* keyword as written */
    char *original;
    struct strv flags; /* raw flag words, "--name=value" */
    struct strv args;  /* per-keyword split (see node_args) */
    int json;
    struct vlist kv; /* ENV and LABEL pairs, unexpanded */
    struct df_heredoc *heredocs;
    size_t nheredocs;
    struct node *inner; /* ONBUILD */
};

static void heredocs_free(struct df_heredoc *h, size_t n)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].content);
    }
    free(h);
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    free(n->cmd);
    free(n->original);
    strv_free(n->flags.v, n->flags.n);
    strv_free(n->args.v, n->args.n);
    vlist_release(&n->kv);
    heredocs_free(n->heredocs, n->nheredocs);
    node_free(n->inner);
    free(n);
}

struct lines {
    const char *text;
    size_t len, pos;
    int lineno;
};

/* bufio.Scanner with scanLines: the next line, newline included. */
static int next_line(struct lines *ls, const char **p, size_t *n)
{
    const char *nl;

    if (ls->pos >= ls->len)
        return 0;
    *p = ls->text + ls->pos;
    nl = memchr(*p, '\n', ls->len - ls->pos);
    *n = nl ? (size_t)(nl - *p) + 1 : ls->len - ls->pos;
    ls->pos += *n;
    ls->lineno++;
    return 1;
}

/* trimNewline: drop trailing \r and \n. */
static size_t trim_newline(const char *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    return n;
}

static size_t skip_lead_ws(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && is_ws((unsigned char)p[i]))
        i++;
    return i;
}

static int is_comment(const char *p, size_t n)
{
    size_t i;

    n = trim_newline(p, n);
    i = skip_lead_ws(p, n);
    return i < n && p[i] == '#';
}

struct directives {
    int done;
    int seen_escape, seen_syntax, seen_check;
};

struct p1 {
    const char *path;
    struct err *err;
    struct df_file *f;
    struct directives d;
};

/*
 * DirectiveParser.ParseLine: ^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$
 * Only lines before anything else count; the first other line ends them.
 */
static int directive_line(struct p1 *p, const char *s, size_t n, int lineno)
{
    size_t i = 0, ks, ke, vs, ve;
    char key[16];
    int *seen;
    char **slot = NULL;

    if (p->d.done)
        return 0;
    if (i >= n || s[i] != '#')
        goto done;
    i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    ks = i;
    if (i >= n || !isalpha((unsigned char)s[i]))
        goto done;
    while (i < n && isalnum((unsigned char)s[i]))
        i++;
    ke = i;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= n || s[i] != '=')
        goto done;
    i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    vs = i;
    ve = n;
    while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
        ve--;
    if (ve == vs || memchr(s + vs, '\n', ve - vs))
        goto done;
    if (ke - ks >= sizeof(key))
        goto done;
    for (i = 0; i < ke - ks; i++)
        key[i] = (char)tolower((unsigned char)s[ks + i]);
    key[ke - ks] = '\0';
    if (!strcmp(key, "escape"))
        seen = &p->d.seen_escape;
    else if (!strcmp(key, "syntax"))
        seen = &p->d.seen_syntax, slot = &p->f->syntax;
    else if (!strcmp(key, "check"))
        seen = &p->d.seen_check, slot = &p->f->check;
    else
        goto done; /* unknown directives are comments and end the block */
    if (*seen) {
        err_set_at(p->err, ERR_PARSE, p->path, lineno,
                   "only one '%s' parser directive can be used", key);
        err_hint(p->err, "remove the repeated '# %s=' line", key);
        return ERR_PARSE;
    }
    *seen = 1;
    if (slot) {
        *slot = xstrndup(s + vs, ve - vs);
        return 0;
    }
    if (ve - vs != 1 || (s[vs] != '\\' && s[vs] != '`')) {
        err_set_at(p->err, ERR_PARSE, p->path, lineno,
                   "invalid escape token '%.*s' does not match ` or \\",
                   (int)(ve - vs), s + vs);
        err_hint(p->err, "use '# escape=\\' or '# escape=`'");
        return ERR_PARSE;
    }
    p->f->escape = s[vs];
    return 0;
done:
    p->d.done = 1;
    return 0;
}

/* trimContinuationCharacter: ESCAPE[ \t]*$ removed; returns 1 if found. */
static int trim_continuation(const char *s, size_t *n, char escape)
{
    size_t e = *n;

    while (e && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    if (e && s[e - 1] == escape) {
        *n = e - 1;
        return 1;
    }
    return 0;
}

/* reWhitespace.Split(rest, -1), rest already non-empty. */
static void split_ws(struct strv *out, const char *rest)
{
    const char *p = rest, *q;

    for (;;) {
        q = p;
        while (*q && !is_rews((unsigned char)*q))
            q++;
        strv_push(out, xstrndup(p, (size_t)(q - p)));
        if (!*q)
            break;
        while (*q && is_rews((unsigned char)*q))
            q++;
        p = q;
    }
}

/* parser.parseWords: splits on white space keeping quotes and escapes. */
static void parse_words(struct strv *out, const char *rest, char escape)
{
    enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
    struct buf word = BUF_INIT;
    size_t len = strlen(rest), pos;
    int blank_ok = 0;
    char quote = 0, ch = 0;

    for (pos = 0; pos <= len; pos++) {
        if (pos != len)
            ch = rest[pos];
        if (phase == IN_SPACES) {
            if (pos == len)
                break;
            if (is_ws((unsigned char)ch))
                continue;
            phase = IN_WORD;
        }
        if (pos == len) {
            if (blank_ok || word.len)
                strv_push(out, buf_detach(&word));
            break;
        }
        if (phase == IN_WORD) {
            if (is_ws((unsigned char)ch)) {
                phase = IN_SPACES;
                if (blank_ok || word.len)
                    strv_push(out, buf_detach(&word));
                buf_reset(&word);
                blank_ok = 0;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = 1;
                phase = IN_QUOTE;
            }
            if (ch == escape) {
                if (pos + 1 == len)
                    continue;
                buf_addch(&word, ch);
                ch = rest[++pos];
            }
            buf_addch(&word, ch);
            continue;
        }
        /* IN_QUOTE */
        if (ch == quote)
            phase = IN_WORD;
        if (ch == escape && quote != '\'') {
            if (pos + 1 == len) {
                phase = IN_WORD;
                continue;
            }
            buf_addch(&word, ch);
            ch = rest[++pos];
        }
        buf_addch(&word, ch);
    }
    buf_release(&word);
}

/* parser.extractBuilderFlags: leading --words; returns the rest. */
static const char *extract_flags(struct strv *flags, const char *line)
{
    enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
    struct buf word = BUF_INIT;
    size_t len = strlen(line), pos;
    int blank_ok = 0;
    char quote = 0, ch = 0;
    const char *rest = "";

    for (pos = 0; pos <= len; pos++) {
        if (pos != len)
            ch = line[pos];
        if (phase == IN_SPACES) {
            if (pos == len)
                break;
            if (is_ws((unsigned char)ch))
                continue;
            if (ch != '-' || pos + 1 == len || line[pos + 1] != '-') {
                rest = line + pos;
                goto out;
            }
            phase = IN_WORD;
        }
        if (pos == len) {
            if (strcmp(buf_cstr(&word), "--") && (blank_ok || word.len))
                strv_push(flags, xstrdup(buf_cstr(&word)));
            break;
        }
        if (phase == IN_WORD) {
            if (is_ws((unsigned char)ch)) {
                phase = IN_SPACES;
                if (!strcmp(buf_cstr(&word), "--")) {
                    rest = line + pos;
                    goto out;
                }
                if (blank_ok || word.len)
                    strv_push(flags, xstrdup(buf_cstr(&word)));
                buf_reset(&word);
                blank_ok = 0;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = 1;
                phase = IN_QUOTE;
                continue;
            }
            if (ch == '\\') {
                if (pos + 1 == len)
                    continue;
                ch = line[++pos];
            }
            buf_addch(&word, ch);
            continue;
        }
        if (ch == quote) {
            phase = IN_WORD;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == len) {
                phase = IN_WORD;
                continue;
            }
            ch = line[++pos];
        }
        buf_addch(&word, ch);
    }
out:
    buf_release(&word);
    return rest;
}

static int p1_fail(struct p1 *p, int line, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int p1_fail(struct p1 *p, int line, const char *hint,
                   const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set_at(p->err, ERR_PARSE, p->path, line, "%s", msg);
    if (hint)
        err_hint(p->err, "%s", hint);
    return ERR_PARSE;
}

/* parseMaybeJSON: exec form when rest is a JSON array of strings. */
static int maybe_json(struct p1 *p, struct node *n, const char *rest, int list)
{
    int rc;

    if (!*rest)
        return 0;
    rc = parse_json_array(&n->args, rest);
    if (rc == JSON_OK) {
        n->json = 1;
        return 0;
    }
    if (rc == JSON_NOT_STRINGS) {
        strv_free(n->args.v, n->args.n);
        memset(&n->args, 0, sizeof(n->args));
        return p1_fail(p, n->line,
                       "write every element of the exec form as a string",
                       "when using JSON array syntax, arrays must be comprised of strings only");
    }
    if (list)
        split_ws(&n->args, rest);
    else
        strv_push(&n->args, xstrdup(rest));
    return 0;
}

/* parseNameVal for ENV and LABEL: "K V" (legacy) or K=V... */
static int name_val(struct p1 *p, struct node *n, const char *rest)
{
    struct strv words = { NULL, 0, 0 };
    const char *q;
    size_t i;
    int rc = 0;

    parse_words(&words, rest, p->f->escape);
    if (!words.n) {
        rc = p1_fail(p, n->line, "write it as NAME=VALUE",
                     "%s must have two arguments", n->cmd);
        goto out;
    }
    if (!strchr(words.v[0], '=')) {
        q = rest;
        while (*q && !is_rews((unsigned char)*q))
            q++;
        if (!*q) {
            rc = p1_fail(p, n->line, "write it as NAME=VALUE",
                         "%s must have two arguments", n->cmd);
            goto out;
        }
        XGROW(n->kv.v, n->kv.cap, n->kv.n + 1);
        n->kv.v[n->kv.n].name = xstrndup(rest, (size_t)(q - rest));
        while (*q && is_rews((unsigned char)*q))
            q++;
        n->kv.v[n->kv.n++].value = xstrdup(q);
        goto out;
    }
    for (i = 0; i < words.n; i++) {
        char *eq = strchr(words.v[i], '=');
        if (!eq) {
            rc = p1_fail(p, n->line, "write each pair as NAME=VALUE",
                         "syntax error - can't find = in '%s'. Must be of the form: name=value",
                         words.v[i]);
            goto out;
        }
        XGROW(n->kv.v, n->kv.cap, n->kv.n + 1);
        n->kv.v[n->kv.n].name = xstrndup(words.v[i], (size_t)(eq - words.v[i]));
        n->kv.v[n->kv.n++].value = xstrdup(eq + 1);
    }
out:
    strv_free(words.v, words.n);
    return rc;
}

static int node_from_line(struct p1 *p, struct node **out, const char *line,
                          int lineno);

/* The per-keyword argument split of the parser's dispatch table. */
static int node_args(struct p1 *p, struct node *n, const char *rest)
{
    enum df_kind k;
    size_t sep, nx;

    if (df_kind_parse(&k, n->cmd) < 0)
        return 0; /* parseIgnore: reported in phase 2 */
    switch (k) {
    case DF_ADD:
    case DF_COPY:
    case DF_VOLUME:
        return maybe_json(p, n, rest, 1);
    case DF_RUN:
    case DF_CMD:
    case DF_ENTRYPOINT:
    case DF_SHELL:
        return maybe_json(p, n, rest, 0);
    case DF_ARG:
        parse_words(&n->args, rest, p->f->escape);
        return 0;
    case DF_ENV:
    case DF_LABEL:
        return name_val(p, n, rest);
    case DF_EXPOSE:
    case DF_FROM:
        if (*rest)
            split_ws(&n->args, rest);
        return 0;
    case DF_HEALTHCHECK:
        for (sep = 0; rest[sep] && !is_ws((unsigned char)rest[sep]); sep++)
            ;
        for (nx = sep; rest[nx] && is_ws((unsigned char)rest[nx]); nx++)
            ;
        if (!sep)
            return 0;
        strv_push(&n->args, xstrndup(rest, sep));
        return maybe_json(p, n, rest + nx, 0);
    case DF_ONBUILD:
        if (!*rest)
            return 0;
        return node_from_line(p, &n->inner, rest, n->line);
    default: /* MAINTAINER USER WORKDIR STOPSIGNAL: parseString */
        if (*rest)
            strv_push(&n->args, xstrdup(rest));
        return 0;
    }
}

/* newNodeFromLine: keyword, flags, arguments. */
static int node_from_line(struct p1 *p, struct node **out, const char *line,
                          int lineno)
{
    struct node *n = xcalloc(1, sizeof(*n));
    char *t = trim_dup(line), *rest = NULL;
    const char *q = t;
    int rc;

    n->line = n->end_line = lineno;
    n->original = xstrdup(line);
    while (*q && !is_rews((unsigned char)*q))
        q++;
    n->cmd = xstrndup(t, (size_t)(q - t));
    while (*q && is_rews((unsigned char)*q))
        q++;
    if (*q)
        rest = trim_dup(extract_flags(&n->flags, q));
    rc = node_args(p, n, rest ? rest : "");
    free(rest);
    free(t);
    if (rc < 0) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

/* canContainHeredoc: RUN, COPY, ADD in shell form. */
static int node_can_heredoc(const struct node *n)
{
    return (!strcasecmp(n->cmd, "run") || !strcasecmp(n->cmd, "copy") ||
            !strcasecmp(n->cmd, "add")) &&
           n->args.n && !n->json;
}

/*
 * ParseHeredoc: ^(\d*)<<(-?)([^<]*)$.  The delimiter is lexed with and
 * without quotes; if they differ, part of it was quoted: no expansion.
 */
static int heredoc_from_word(struct df_heredoc *h, const char *w, int *is_doc)
{
    struct shlex lx = { '\\', 0, 0, 1, NULL, 0 };
    char **words = NULL, **raw = NULL, emsg[160];
    size_t nw = 0, nr = 0, i, qa = 0, qb = 0;
    const char *rest;
    int rc = 0;

    *is_doc = 0;
    while (isdigit((unsigned char)*w))
        w++;
    if (strncmp(w, "<<", 2))
        return 0;
    w += 2;
    if (*w == '-') {
        h->chomp = 1;
        w++;
    } else {
        h->chomp = 0;
    }
    rest = w;
    if (!*rest || strchr(rest, '<'))
        return 0;
    if (shlex_words(&words, &nw, &lx, rest, emsg, sizeof(emsg)) < 0)
        return -1;
    if (nw != 1)
        goto out;
    lx.raw_quotes = 1;
    if (shlex_words(&raw, &nr, &lx, rest, emsg, sizeof(emsg)) < 0 || nr != 1) {
        rc = -1;
        goto out;
    }
    for (i = 0; words[0][i]; i++)
        qa += words[0][i] == '\'' || words[0][i] == '"';
    for (i = 0; raw[0][i]; i++)
        qb += raw[0][i] == '\'' || raw[0][i] == '"';
    h->name = xstrdup(words[0]);
    h->expand = qa == qb;
    *is_doc = 1;
out:
    shlex_words_free(words, nw);
    shlex_words_free(raw, nr);
    return rc;
}

/* heredocsFromLine: every <<WORD of the line, in order. */
static int heredocs_of_line(struct p1 *p, struct node *n, const char *line)
{
    struct shlex lx = { '\\', 1, 1, 0, NULL, 0 };
    char **words = NULL, emsg[160];
    size_t nw = 0, i, cap = 0;
    int is_doc;

    if (shlex_words(&words, &nw, &lx, line, emsg, sizeof(emsg)) < 0)
        return 0; /* Docker ignores the lexer error here: no heredocs */
    for (i = 0; i < nw; i++) {
        struct df_heredoc h = { NULL, NULL, 1, 0 };
        if (heredoc_from_word(&h, words[i], &is_doc) < 0) {
            shlex_words_free(words, nw);
            return p1_fail(p, n->line, "quote the heredoc delimiter properly",
                           "invalid heredoc delimiter '%s'", words[i]);
        }
        if (!is_doc)
            continue;
        XGROW(n->heredocs, cap, n->nheredocs + 1);
        n->heredocs[n->nheredocs++] = h;
    }
    shlex_words_free(words, nw);
    return 0;
}

/* ChompHeredocContent: strip leading tabs of every line. */
static char *chomp_tabs(const char *s)
{
    struct buf b = BUF_INIT;
    int bol = 1;

    for (; *s; s++) {
        if (bol && *s == '\t')
            continue;
        bol = *s == '\n';
        buf_addch(&b, *s);
    }
    return buf_detach(&b);
}

static int read_heredoc_bodies(struct p1 *p, struct lines *ls, struct node *n)
{
    const char *l;
    size_t ln, i;

    for (i = 0; i < n->nheredocs; i++) {
        struct df_heredoc *h = &n->heredocs[i];
        struct buf body = BUF_INIT;
        int done = 0;
        while (next_line(ls, &l, &ln)) {
            size_t tn = trim_newline(l, ln), off = 0;
            if (h->chomp)
                while (off < tn && l[off] == '\t')
                    off++;
            if (tn - off == strlen(h->name) &&
                !memcmp(l + off, h->name, tn - off)) {
                done = 1;
                break;
            }
            if (memchr(l, '\0', ln)) {
                buf_release(&body);
                return p1_fail(p, ls->lineno, "remove the NUL byte",
                               "NUL byte in heredoc '%s'", h->name);
            }
            buf_add(&body, l, ln);
        }
        if (!done) {
            buf_release(&body);
            return p1_fail(p, n->line,
                           "end the heredoc with a line holding only its delimiter",
                           "unterminated heredoc '%s'", h->name);
        }
        h->content = h->chomp ? chomp_tabs(buf_cstr(&body))
                              : xstrdup(buf_cstr(&body));
        buf_release(&body);
    }
    n->end_line = ls->lineno;
    return 0;
}

struct nodes {
    struct node **v;
    size_t n, cap;
};

static void nodes_release(struct nodes *ns)
{
    size_t i;

    for (i = 0; i < ns->n; i++)
        node_free(ns->v[i]);
    free(ns->v);
}

/* parser.Parse: the whole text to nodes. */
static int parse_nodes(struct p1 *p, struct nodes *ns, const char *text,
                       size_t len)
{
    struct lines ls = { text, len, 0, 0 };
    struct buf line = BUF_INIT;
    const char *l;
    size_t ln;
    int rc = 0;

    while (next_line(&ls, &l, &ln)) {
        size_t tn, off;
        int start, cont;
        struct node *n = NULL;

        if (ls.lineno == 1 && ln >= 3 && !memcmp(l, "\xEF\xBB\xBF", 3))
            l += 3, ln -= 3;
        tn = trim_newline(l, ln);
        off = skip_lead_ws(l, tn);
        if ((rc = directive_line(p, l + off, tn - off, ls.lineno)) < 0)
            goto out;
        if (is_comment(l, ln))
            continue;
        start = ls.lineno;
        buf_reset(&line);
        tn -= off;
        cont = trim_continuation(l + off, &tn, p->f->escape);
        if (!cont && tn == 0)
            continue;
        buf_add(&line, l + off, tn);
        while (cont && next_line(&ls, &l, &ln)) {
            size_t cn = trim_newline(l, ln);
            directive_line(p, l, cn, ls.lineno);
            if (is_comment(l, ln))
                continue;
            if (skip_lead_ws(l, cn) == cn)
                continue; /* empty continuation line */
            cont = trim_continuation(l, &cn, p->f->escape);
            buf_add(&line, l, cn);
        }
        if (!line.len || skip_lead_ws(line.ptr, line.len) == line.len)
            continue;
        if (memchr(line.ptr, '\0', line.len)) {
            rc = p1_fail(p, start, "remove the NUL byte",
                         "NUL byte in instruction");
            goto out;
        }
        if ((rc = node_from_line(p, &n, buf_cstr(&line), start)) < 0)
            goto out;
        n->end_line = ls.lineno;
        XGROW(ns->v, ns->cap, ns->n + 1);
        ns->v[ns->n++] = n;
        if (node_can_heredoc(n) && strstr(n->original, "<<")) {
            if ((rc = heredocs_of_line(p, n, n->original)) < 0 ||
                (rc = read_heredoc_bodies(p, &ls, n)) < 0)
                goto out;
        }
    }
    if (!ns->n) {
        rc = err_set_at(p->err, ERR_PARSE, p->path, 0,
                        "file with no instructions");
        err_hint(p->err, "a Dockerfile needs at least a FROM instruction");
    }
out:
    buf_release(&line);
    return rc;
}

/* ---- phase 2: instructions and dispatch --------------------------------- */

struct sstate {
    struct vlist env;   /* ENV */
    struct vlist args;  /* ARGs of the stage with effective values */
    struct vlist scope; /* what substitution and RUN see (BuildKit's env) */
    char *workdir;
    char *user;
    struct strv shell;
};

struct p2 {
    const char *path;
    struct err *err;
    const struct df_options *opts;
    struct df_file *f;
    struct vlist global; /* meta ARGs plus the automatic platform ARGs */
    struct sstate cur;
    struct sstate *finals; /* per stage, its state after its last instr */
    int *copy_from;        /* per instr: COPY --from stage or -1 */
};

static int p2_fail(struct p2 *p, int line, const char *hint, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static int p2_fail(struct p2 *p, int line, const char *hint, const char *fmt,
                   ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set_at(p->err, ERR_PARSE, p->path, line, "%s", msg);
    err_hint(p->err, "%s",
             hint ? hint
                  : "see https://docs.docker.com/reference/dockerfile/");
    return ERR_PARSE;
}

static void sstate_init(struct sstate *s)
{
    memset(s, 0, sizeof(*s));
    s->workdir = xstrdup("/");
    s->user = xstrdup("");
    strv_push(&s->shell, xstrdup("/bin/sh"));
    strv_push(&s->shell, xstrdup("-c"));
}

static void sstate_release(struct sstate *s)
{
    vlist_release(&s->env);
    vlist_release(&s->args);
    vlist_release(&s->scope);
    free(s->workdir);
    free(s->user);
    strv_free(s->shell.v, s->shell.n);
    memset(s, 0, sizeof(*s));
}

static void sstate_copy(struct sstate *dst, const struct sstate *src)
{
    sstate_release(dst);
    vlist_copy(&dst->env, &src->env);
    vlist_copy(&dst->args, &src->args);
    vlist_copy(&dst->scope, &src->scope);
    dst->workdir = xstrdup(src->workdir);
    dst->user = xstrdup(src->user);
    dst->shell.v = strv_dup(src->shell.v, src->shell.n);
    dst->shell.n = dst->shell.cap = src->shell.n;
}

static void snapshot(struct df_state *out, const struct sstate *s)
{
    out->env = vars_dup(s->env.v, s->env.n);
    out->nenv = s->env.n;
    out->args = vars_dup(s->args.v, s->args.n);
    out->nargs = s->args.n;
    out->workdir = xstrdup(s->workdir);
    out->user = xstrdup(s->user);
    out->shell = strv_dup(s->shell.v, s->shell.n);
    out->nshell = s->shell.n;
}

static void state_release(struct df_state *s)
{
    vars_free(s->env, s->nenv);
    vars_free(s->args, s->nargs);
    free(s->workdir);
    free(s->user);
    strv_free(s->shell, s->nshell);
}

/* The --build-arg value for name, or NULL when not given. */
static const char *build_arg(const struct p2 *p, const char *name)
{
    size_t i;

    if (!p->opts)
        return NULL;
    for (i = p->opts->nbuild_args; i-- > 0;)
        if (p->opts->build_args[i].name &&
            !strcmp(p->opts->build_args[i].name, name))
            return p->opts->build_args[i].value;
    return NULL;
}

/* shlex.ProcessWord(word, scope); ERR_PARSE at line on a lexer error. */
static int expand(struct p2 *p, char **out, const struct vlist *scope,
                  const char *word, int line)
{
    struct shlex_var *env = xcalloc(scope->n ? scope->n : 1, sizeof(*env));
    struct shlex lx = { p->f->escape, 0, 0, 0, env, 0 };
    char emsg[256];
    size_t i;
    int rc = 0;

    for (i = 0; i < scope->n; i++)
        if (scope->v[i].value) {
            env[lx.nenv].name = scope->v[i].name;
            env[lx.nenv++].value = scope->v[i].value;
        }
    if (shlex_word(out, &lx, word, emsg, sizeof(emsg)) < 0)
        rc = p2_fail(p, line, "quote or escape the '$' and quote characters",
                     "%s in '%s'", emsg, word);
    free(env);
    return rc;
}

static int expand_in_place(struct p2 *p, char **s, const struct vlist *scope,
                           int line)
{
    char *x;
    int rc = expand(p, &x, scope, *s, line);

    if (rc < 0)
        return rc;
    free(*s);
    *s = x;
    return 0;
}

/* path.Clean of an absolute path. */
static char *clean_abs(const char *path)
{
    struct strv parts = { NULL, 0, 0 };
    struct buf b = BUF_INIT;
    const char *s = path, *e;
    size_t i;

    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        e = strchr(s, '/');
        if (!e)
            e = s + strlen(s);
        if (e - s == 1 && s[0] == '.') {
            /* skip */
        } else if (e - s == 2 && s[0] == '.' && s[1] == '.') {
            if (parts.n)
                free(parts.v[--parts.n]);
        } else {
            strv_push(&parts, xstrndup(s, (size_t)(e - s)));
        }
        s = e;
    }
    for (i = 0; i < parts.n; i++)
        buf_printf(&b, "/%s", parts.v[i]);
    if (!b.len)
        buf_addch(&b, '/');
    strv_free(parts.v, parts.n);
    return buf_detach(&b);
}

/* Go time.ParseDuration, in nanoseconds (as a double). */
static int parse_duration(double *out, const char *s)
{
    static const struct {
        const char *u;
        double ns;
    } units[] = { { "ns", 1 },       { "us", 1e3 },     { "\xC2\xB5s", 1e3 },
                  { "\xCE\xBCs", 1e3 }, { "ms", 1e6 },  { "s", 1e9 },
                  { "m", 60e9 },     { "h", 3600e9 } };
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
static int check_flags(struct p2 *p, struct df_instr *in, const struct strv *raw)
{
    size_t i, j, cap = 0;

    for (i = 0; i < raw->n; i++) {
        const char *w = raw->v[i], *eq;
        const struct flag_spec *fs;
        char *name;
        struct df_flag *fl;

        if (strncmp(w, "--", 2))
            return p2_fail(p, in->line, NULL, "flag should start with -- '%s'",
                           w);
        w += 2;
        eq = strchr(w, '=');
        name = eq ? xstrndup(w, (size_t)(eq - w)) : xstrdup(w);
        fs = flag_spec_find(in->kind, name);
        if (!fs) {
            p2_fail(p, in->line, "see the Dockerfile reference for the flags each instruction takes",
                    "unknown flag '--%s' for %s", name, df_kind_name(in->kind));
            free(name);
            return ERR_PARSE;
        }
        for (j = 0; fs->type != FT_STRINGS && j < in->nflags; j++)
            if (!strcmp(in->flags[j].name, name)) {
                p2_fail(p, in->line, "give the flag once",
                        "duplicate flag specified '--%s'", name);
                free(name);
                return ERR_PARSE;
            }
        if (fs->type == FT_BOOL && eq && !eq[1]) {
            p2_fail(p, in->line, "write --NAME or --NAME=true|false",
                    "missing a value on flag '--%s'", name);
            free(name);
            return ERR_PARSE;
        }
        if (fs->type == FT_BOOL && eq && strcasecmp(eq + 1, "true") &&
            strcasecmp(eq + 1, "false")) {
            p2_fail(p, in->line, "write --NAME or --NAME=true|false",
                    "expecting boolean value for flag '--%s', not '%s'", name,
                    eq + 1);
            free(name);
            return ERR_PARSE;
        }
        if (fs->type != FT_BOOL && !eq) {
            p2_fail(p, in->line, "write it as --NAME=VALUE",
                    "missing a value on flag '--%s'", name);
            free(name);
            return ERR_PARSE;
        }
        XGROW(in->flags, cap, in->nflags + 1);
        fl = &in->flags[in->nflags++];
        fl->name = name;
        fl->value = xstrdup(eq ? eq + 1 : "");
        fl->raw = xstrdup(raw->v[i]);
    }
    return 0;
}

static struct df_flag *flag_mut(struct df_instr *in, const char *name)
{
    return (struct df_flag *)df_instr_flag(in, name);
}

/* Split a --mount value as encoding/csv does (one record). */
static int csv_fields(struct strv *out, const char *s)
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
        strv_push(out, xstrdup(buf_cstr(&f)));
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
    "type", "from",  "source", "src",  "target", "dst",  "destination",
    "readonly", "ro", "readwrite", "rw", "id",   "sharing", "required",
    "mode", "uid",   "gid",    "size", "env",
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
static int check_mount(struct p2 *p, char **out, const char *val,
                       const struct vlist *scope, int line)
{
    struct strv fields = { NULL, 0, 0 };
    struct buf b = BUF_INIT;
    char type[8] = "bind";
    int has_target = 0, rc = 0;
    size_t i;

    if (csv_fields(&fields, val) < 0) {
        rc = p2_fail(p, line, "quote whole fields: \"key=value\"",
                     "malformed quoting in --mount '%s'", val);
        goto out;
    }
    for (i = 0; i < fields.n; i++) {
        char *f = fields.v[i], *eq = strchr(f, '='), *key, *v;
        size_t k;
        key = eq ? xstrndup(f, (size_t)(eq - f)) : xstrdup(f);
        for (k = 0; key[k]; k++)
            key[k] = (char)tolower((unsigned char)key[k]);
        if (!is_mount_key(key)) {
            rc = p2_fail(p, line, "keys: type, from, source, target, id, sharing, mode, uid, gid, size, readonly, required, env",
                         "unexpected key '%s' in '%s'", key, f);
            free(key);
            goto out;
        }
        if (!eq && strcmp(key, "readonly") && strcmp(key, "ro") &&
            strcmp(key, "readwrite") && strcmp(key, "rw") &&
            strcmp(key, "required")) {
            rc = p2_fail(p, line, "write it as key=value",
                         "invalid field '%s' must be a key=value pair", f);
            free(key);
            goto out;
        }
        v = xstrdup(eq ? eq + 1 : "");
        if (scope && eq && strcmp(key, "type") &&
            (rc = expand_in_place(p, &v, scope, line)) < 0) {
            free(key);
            free(v);
            goto out;
        }
        if (!strcmp(key, "type")) {
            if (strcmp(v, "bind") && strcmp(v, "cache") && strcmp(v, "tmpfs") &&
                strcmp(v, "secret") && strcmp(v, "ssh")) {
                rc = p2_fail(p, line, "types: bind, cache, tmpfs, secret, ssh",
                             "unsupported mount type '%s'", v);
                free(key);
                free(v);
                goto out;
            }
            snprintf(type, sizeof(type), "%s", v);
        }
        if (!strcmp(key, "sharing") && strcmp(v, "shared") &&
            strcmp(v, "private") && strcmp(v, "locked")) {
            rc = p2_fail(p, line, "sharing is shared, private or locked",
                         "unsupported sharing value '%s'", v);
            free(key);
            free(v);
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
        free(key);
        free(v);
    }
    if (!has_target && strcmp(type, "secret") && strcmp(type, "ssh")) {
        rc = p2_fail(p, line, "add target=PATH to the --mount",
                     "mount type '%s' requires a target path", type);
        goto out;
    }
    if (out)
        *out = buf_detach(&b);
out:
    buf_release(&b);
    strv_free(fields.v, fields.n);
    return rc;
}

static int args_exact(struct p2 *p, const struct df_instr *in, size_t want)
{
    if (in->nargs == want)
        return 0;
    return p2_fail(p, in->line, NULL, "%s requires exactly one argument",
                   df_kind_name(in->kind));
}

static int args_least(struct p2 *p, const struct df_instr *in)
{
    if (in->nargs)
        return 0;
    return p2_fail(p, in->line, NULL, "%s requires at least one argument",
                   df_kind_name(in->kind));
}

/* validStageName: ^[a-z][a-z0-9-_\.]*$ */
static int valid_stage_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || isdigit((unsigned char)*s) ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static char *join_words(char *const *v, size_t n)
{
    struct buf b = BUF_INIT;
    size_t i;

    for (i = 0; i < n; i++) {
        if (i)
            buf_addch(&b, ' ');
        buf_adds(&b, v[i]);
    }
    return buf_detach(&b);
}

static int is_heredoc_word(const char *w)
{
    while (isdigit((unsigned char)*w))
        w++;
    return !strncmp(w, "<<", 2) && w[2 + (w[2] == '-')] &&
           !strchr(w + 2, '<');
}

static int validate_healthcheck(struct p2 *p, struct df_instr *in)
{
    static const char *const durs[] = { "interval", "timeout", "start-period",
                                        "start-interval" };
    size_t i;

    if (!in->nargs)
        return p2_fail(p, in->line, "write HEALTHCHECK CMD ... or HEALTHCHECK NONE",
                       "HEALTHCHECK requires at least one argument");
    if (!strcasecmp(in->args[0], "NONE")) {
        if (in->nargs > 1)
            return p2_fail(p, in->line, NULL,
                           "HEALTHCHECK NONE takes no arguments");
        if (in->nflags)
            return p2_fail(p, in->line, NULL,
                           "options cannot be specified with HEALTHCHECK NONE");
        return 0;
    }
    if (strcasecmp(in->args[0], "CMD"))
        return p2_fail(p, in->line, "write HEALTHCHECK CMD ... or HEALTHCHECK NONE",
                       "unknown type '%s' in HEALTHCHECK (try CMD)",
                       in->args[0]);
    if (in->nargs < 2 || (!in->json && !in->args[1][0]))
        return p2_fail(p, in->line, NULL, "missing command after HEALTHCHECK CMD");
    for (i = 0; i < 4; i++) {
        const struct df_flag *fl = df_instr_flag(in, durs[i]);
        double ns;
        if (!fl || !fl->value[0])
            continue;
        if (parse_duration(&ns, fl->value) < 0)
            return p2_fail(p, in->line, "durations look like 30s, 1m30s, 500ms",
                           "invalid duration '%s' for --%s", fl->value,
                           durs[i]);
        if (ns < 0)
            return p2_fail(p, in->line, NULL, "--%s cannot be negative '%s'",
                           durs[i], fl->value);
        if (ns > 0 && ns < 1e6)
            return p2_fail(p, in->line, NULL,
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
                return p2_fail(p, in->line, NULL, "invalid --retries '%s'",
                               fl->value);
            if (r < 0)
                return p2_fail(p, in->line, NULL,
                               "--retries cannot be negative '%s'", fl->value);
        }
    }
    return 0;
}

static void instr_release(struct df_instr *in);

/*
 * Pass A (instructions.ParseInstruction): fill in from the node, check the
 * flags and the argument shape.  Nothing is expanded yet.
 */
static int instr_from_node(struct p2 *p, struct df_instr *in, struct node *n)
{
    size_t i;
    int rc;

    in->from_stage = -1;
    in->line = n->line;
    in->end_line = n->end_line;
    in->original = xstrdup(n->original);
    in->json = n->json;
    in->heredocs = n->heredocs;
    in->nheredocs = n->nheredocs;
    n->heredocs = NULL;
    n->nheredocs = 0;
    if (df_kind_parse(&in->kind, n->cmd) < 0)
        return p2_fail(p, n->line, "see the Dockerfile reference for the instructions",
                       "unknown instruction '%s'", n->cmd);
    if ((rc = check_flags(p, in, &n->flags)) < 0)
        return rc;
    switch (in->kind) {
    case DF_RUN:
    case DF_CMD:
    case DF_ENTRYPOINT:
        if (in->json) {
            in->args = strv_dup(n->args.v, n->args.n);
            in->nargs = n->args.n;
        } else {
            in->args = xcalloc(1, sizeof(char *));
            in->args[0] = join_words(n->args.v, n->args.n);
            in->nargs = 1;
        }
        for (i = 0; in->kind == DF_RUN && i < in->nflags; i++) {
            const char *v = in->flags[i].value;
            if (!strcmp(in->flags[i].name, "mount") &&
                (rc = check_mount(p, NULL, v, NULL, in->line)) < 0)
                return rc;
            if (!strcmp(in->flags[i].name, "network") && strcmp(v, "default") &&
                strcmp(v, "none") && strcmp(v, "host"))
                return p2_fail(p, in->line, "use default, none or host",
                               "unsupported network mode '%s'", v);
            if (!strcmp(in->flags[i].name, "security") &&
                strcmp(v, "sandbox") && strcmp(v, "insecure"))
                return p2_fail(p, in->line, "use sandbox or insecure",
                               "unsupported security mode '%s'", v);
        }
        return 0;
    case DF_SHELL:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if (!in->json)
            return p2_fail(p, in->line, "write it as SHELL [\"executable\", \"parameters\"]",
                           "SHELL requires the arguments to be in JSON form");
        return args_least(p, in);
    case DF_ENV:
    case DF_LABEL:
        in->vars = vars_dup(n->kv.v, n->kv.n);
        in->nvars = n->kv.n;
        in->args = xcalloc(n->kv.n ? n->kv.n : 1, sizeof(char *));
        for (i = 0; i < n->kv.n; i++) {
            struct buf b = BUF_INIT;
            if (!n->kv.v[i].name[0])
                return p2_fail(p, in->line, "write it as NAME=VALUE",
                               "%s names can not be blank",
                               df_kind_name(in->kind));
            buf_printf(&b, "%s=%s", n->kv.v[i].name, n->kv.v[i].value);
            in->args[in->nargs++] = buf_detach(&b);
        }
        return in->nvars ? 0 : args_least(p, in);
    case DF_ARG:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if ((rc = args_least(p, in)) < 0)
            return rc;
        in->vars = xcalloc(in->nargs, sizeof(*in->vars));
        for (i = 0; i < in->nargs; i++) {
            char *eq = strchr(in->args[i], '=');
            if (eq == in->args[i])
                return p2_fail(p, in->line, "write it as ARG NAME[=DEFAULT]",
                               "ARG names can not be blank");
            in->vars[i].name = eq ? xstrndup(in->args[i],
                                              (size_t)(eq - in->args[i]))
                                  : xstrdup(in->args[i]);
            in->vars[i].value = eq ? xstrdup(eq + 1) : NULL;
            in->nvars++;
        }
        return 0;
    case DF_COPY:
    case DF_ADD:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if (in->nargs < 2)
            return p2_fail(p, in->line, "name the sources and then the destination",
                           "%s requires at least two arguments, but only one was provided. Destination could not be determined",
                           df_kind_name(in->kind));
        if (!in->json && is_heredoc_word(in->args[in->nargs - 1]))
            return p2_fail(p, in->line, NULL,
                           "%s cannot accept a heredoc as a destination",
                           df_kind_name(in->kind));
        return 0;
    case DF_FROM:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if (in->nargs == 3 && !strcasecmp(in->args[1], "as")) {
            char *name = xstrdup(in->args[2]);
            for (i = 0; name[i]; i++)
                name[i] = (char)tolower((unsigned char)name[i]);
            rc = valid_stage_name(name) ? 0 : ERR_PARSE;
            free(name);
            if (rc < 0)
                return p2_fail(p, in->line, "stage names start with a letter and hold only letters, digits, '-', '_' and '.'",
                               "invalid name for build stage '%s', name can't start with a number or contain symbols",
                               in->args[2]);
        } else if (in->nargs != 1) {
            return p2_fail(p, in->line, "write FROM IMAGE [AS NAME]",
                           "FROM requires either one or three arguments");
        }
        return 0;
    case DF_HEALTHCHECK:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if (in->nargs > 1 && !in->json) {
            char *cmd = join_words(in->args + 1, in->nargs - 1);
            strv_free(in->args, in->nargs);
            in->args = xcalloc(2, sizeof(char *));
            in->args[0] = xstrdup(n->args.v[0]);
            in->args[1] = cmd;
            in->nargs = 2;
        }
        if (in->nargs)
            for (i = 0; in->args[0][i]; i++)
                in->args[0][i] = (char)toupper((unsigned char)in->args[0][i]);
        return validate_healthcheck(p, in);
    case DF_ONBUILD:
        if (!n->inner)
            return p2_fail(p, in->line, NULL,
                           "ONBUILD requires at least one argument");
        in->args = xcalloc(1, sizeof(char *));
        in->args[0] = xstrdup(n->inner->original);
        in->nargs = 1;
        in->inner = xcalloc(1, sizeof(*in->inner));
        in->inner->stage = in->stage;
        if ((rc = instr_from_node(p, in->inner, n->inner)) < 0)
            return rc;
        if (in->inner->kind == DF_ONBUILD || in->inner->kind == DF_FROM ||
            in->inner->kind == DF_MAINTAINER)
            return p2_fail(p, in->line, NULL,
                           "%s isn't allowed as an ONBUILD trigger",
                           df_kind_name(in->inner->kind));
        return 0;
    case DF_EXPOSE:
    case DF_VOLUME:
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        if ((rc = args_least(p, in)) < 0)
            return rc;
        for (i = 0; in->kind == DF_VOLUME && i < in->nargs; i++) {
            char *t = trim_dup(in->args[i]);
            int empty = !*t;
            free(t);
            if (empty)
                return p2_fail(p, in->line, NULL,
                               "VOLUME specified can not be an empty string");
        }
        return 0;
    default: /* MAINTAINER USER WORKDIR STOPSIGNAL */
        in->args = strv_dup(n->args.v, n->args.n);
        in->nargs = n->args.n;
        return args_exact(p, in, 1);
    }
}

/* ---- pass B: dispatch (dockerfile2llb) ---------------------------------- */

static const struct df_var platform_args[] = {
    { (char *)"BUILDPLATFORM", (char *)"linux/amd64" },
    { (char *)"BUILDOS", (char *)"linux" },
    { (char *)"BUILDARCH", (char *)"amd64" },
    { (char *)"BUILDVARIANT", (char *)"" },
    { (char *)"TARGETPLATFORM", (char *)"linux/amd64" },
    { (char *)"TARGETOS", (char *)"linux" },
    { (char *)"TARGETARCH", (char *)"amd64" },
    { (char *)"TARGETVARIANT", (char *)"" },
};

/* ARG: declare each name with its effective value in the current scope. */
static int dispatch_arg(struct p2 *p, struct df_instr *in, int meta)
{
    struct vlist *scope = meta ? &p->global : &p->cur.scope;
    size_t i;
    int rc;

    for (i = 0; i < in->nvars; i++) {
        struct df_var *v = &in->vars[i];
        const char *ba = build_arg(p, v->name);
        const struct df_var *g;
        if (ba) {
            free(v->value);
            v->value = xstrdup(ba);
        } else if (v->value) {
            if ((rc = expand_in_place(p, &v->value, scope, in->line)) < 0)
                return rc;
        } else if (!meta && (g = vlist_find(&p->global, v->name)) != NULL) {
            v->value = g->value ? xstrdup(g->value) : NULL;
        }
        if (meta) {
            if (v->value)
                vlist_set(&p->global, v->name, v->value);
            continue;
        }
        vlist_set(&p->cur.args, v->name, v->value);
        if (v->value) {
            vlist_set(&p->cur.scope, v->name, v->value);
            /* BuildKit keeps one env list: the ARG replaces an ENV value. */
            if (vlist_find(&p->cur.env, v->name))
                vlist_set(&p->cur.env, v->name, v->value);
        }
    }
    return 0;
}

static int dispatch_copy(struct p2 *p, struct df_instr *in, int self)
{
    static const char *const exp_flags[] = { "chown", "chmod", "checksum" };
    struct df_flag *fl;
    size_t i;
    int rc;

    for (i = 0; i < in->nargs; i++) {
        if (!in->json && i + 1 < in->nargs && is_heredoc_word(in->args[i]))
            continue; /* becomes inline content, not a path */
        if ((rc = expand_in_place(p, &in->args[i], &p->cur.scope, in->line)) <
            0)
            return rc;
    }
    for (i = 0; i < 3; i++)
        if ((fl = flag_mut(in, exp_flags[i])) &&
            (rc = expand_in_place(p, &fl->value, &p->cur.scope, in->line)) < 0)
            return rc;
    if ((fl = flag_mut(in, "from")) != NULL) {
        if ((rc = expand_in_place(p, &fl->value, &p->global, in->line)) < 0)
            return rc;
        in->from_stage = df_stage_find(p->f, fl->value);
        if (in->from_stage < 0) {
            char *end;
            long idx = strtol(fl->value, &end, 10);
            if (fl->value[0] && !*end && idx >= 0)
                return p2_fail(p, in->line, "number stages from 0 in FROM order",
                               "invalid stage index '%s'", fl->value);
        }
        if (in->from_stage == self)
            return p2_fail(p, in->line, "copy from an earlier stage",
                           "circular dependency detected on stage '%s'",
                           fl->value);
    }
    return 0;
}

static int dispatch_run(struct p2 *p, struct df_instr *in)
{
    size_t i;
    int rc;

    for (i = 0; i < in->nflags; i++) {
        char *x;
        if (strcmp(in->flags[i].name, "mount"))
            continue;
        if ((rc = check_mount(p, &x, in->flags[i].value, &p->cur.scope,
                              in->line)) < 0)
            return rc;
        free(in->flags[i].value);
        in->flags[i].value = x;
    }
    return 0;
}

static int dispatch_env(struct p2 *p, struct df_instr *in, int is_env)
{
    size_t i;
    int rc;

    /* All pairs of one instruction see the env from before it. */
    for (i = 0; i < in->nvars; i++)
        if ((rc = expand_in_place(p, &in->vars[i].name, &p->cur.scope,
                                  in->line)) < 0 ||
            (rc = expand_in_place(p, &in->vars[i].value, &p->cur.scope,
                                  in->line)) < 0)
            return rc;
    for (i = 0; is_env && i < in->nvars; i++) {
        vlist_set(&p->cur.env, in->vars[i].name, in->vars[i].value);
        vlist_set(&p->cur.scope, in->vars[i].name, in->vars[i].value);
    }
    return 0;
}

static int dispatch_workdir(struct p2 *p, struct df_instr *in)
{
    struct buf b = BUF_INIT;
    int rc;

    if ((rc = expand_in_place(p, &in->args[0], &p->cur.scope, in->line)) < 0)
        return rc;
    if (!in->args[0][0])
        return p2_fail(p, in->line, NULL, "cannot normalize nothing");
    if (in->args[0][0] != '/')
        buf_printf(&b, "%s/", p->cur.workdir);
    buf_adds(&b, in->args[0]);
    free(p->cur.workdir);
    p->cur.workdir = clean_abs(buf_cstr(&b));
    buf_release(&b);
    return 0;
}

static int dispatch(struct p2 *p, struct df_instr *in, int self)
{
    size_t i;
    int rc;

    switch (in->kind) {
    case DF_ARG:
        return dispatch_arg(p, in, 0);
    case DF_ENV:
    case DF_LABEL:
        return dispatch_env(p, in, in->kind == DF_ENV);
    case DF_COPY:
    case DF_ADD:
        return dispatch_copy(p, in, self);
    case DF_RUN:
        return dispatch_run(p, in);
    case DF_WORKDIR:
        return dispatch_workdir(p, in);
    case DF_USER:
    case DF_STOPSIGNAL:
    case DF_EXPOSE:
    case DF_VOLUME:
        for (i = 0; i < in->nargs; i++)
            if ((rc = expand_in_place(p, &in->args[i], &p->cur.scope,
                                      in->line)) < 0)
                return rc;
        for (i = 0; in->kind == DF_VOLUME && i < in->nargs; i++)
            if (!in->args[i][0])
                return p2_fail(p, in->line, NULL,
                               "VOLUME specified can not be an empty string");
        if (in->kind == DF_USER) {
            free(p->cur.user);
            p->cur.user = xstrdup(in->args[0]);
        }
        return 0;
    case DF_SHELL:
        strv_free(p->cur.shell.v, p->cur.shell.n);
        p->cur.shell.v = strv_dup(in->args, in->nargs);
        p->cur.shell.n = p->cur.shell.cap = in->nargs;
        return 0;
    default:
        return 0;
    }
}

/* FROM: a new stage; its base may be an earlier stage (name or index). */
static int dispatch_from(struct p2 *p, struct df_instr *in, int si)
{
    struct df_stage *st = &p->f->stages[si];
    const struct df_flag *pl = df_instr_flag(in, "platform");
    char *end;
    long idx;
    int j, rc;

    if ((rc = expand(p, &st->base, &p->global, in->args[0], in->line)) < 0)
        return rc;
    if (!st->base[0])
        return p2_fail(p, in->line, "give FROM an image or pass the ARG with --build-arg",
                       "base name '%s' should not be blank", in->args[0]);
    if (pl) {
        if ((rc = expand(p, &st->platform, &p->global, pl->value, in->line)) <
            0)
            return rc;
        free(flag_mut(in, "platform")->value);
        flag_mut(in, "platform")->value = xstrdup(st->platform);
    }
    for (j = 0; st->name && j < si; j++)
        if (p->f->stages[j].name && !strcmp(p->f->stages[j].name, st->name))
            return p2_fail(p, in->line, "give each stage its own name",
                           "duplicate stage name '%s'", st->name);
    st->base_stage = -1;
    for (j = 0; j < si; j++)
        if (p->f->stages[j].name && !strcasecmp(p->f->stages[j].name, st->base))
            st->base_stage = j;
    idx = strtol(st->base, &end, 10);
    if (st->base_stage < 0 && isdigit((unsigned char)st->base[0]) && !*end &&
        idx < si)
        st->base_stage = (int)idx;
    strv_free(in->args, in->nargs);
    in->args = xcalloc(1, sizeof(char *));
    in->args[0] = xstrdup(st->base);
    in->nargs = 1;
    sstate_release(&p->cur);
    sstate_init(&p->cur);
    if (st->base_stage >= 0) {
        /* The image config carries over: env, workdir, user, shell. */
        const struct sstate *b = &p->finals[st->base_stage];
        vlist_copy(&p->cur.env, &b->env);
        vlist_copy(&p->cur.scope, &b->env);
        free(p->cur.workdir);
        p->cur.workdir = xstrdup(b->workdir);
        free(p->cur.user);
        p->cur.user = xstrdup(b->user);
        strv_free(p->cur.shell.v, p->cur.shell.n);
        p->cur.shell.v = strv_dup(b->shell.v, b->shell.n);
        p->cur.shell.n = p->cur.shell.cap = b->shell.n;
    }
    return 0;
}

/* Depth-first search for a cycle through COPY --from edges and bases. */
static int stage_cycle(const struct df_file *f, int s, int *mark)
{
    size_t i;
    int d;

    if (mark[s] == 1)
        return 1;
    if (mark[s] == 2)
        return 0;
    mark[s] = 1;
    if (f->stages[s].base_stage >= 0 &&
        stage_cycle(f, f->stages[s].base_stage, mark))
        return 1;
    for (i = f->stages[s].first; i < f->stages[s].first + f->stages[s].count;
         i++) {
        d = f->instrs[i].from_stage;
        if (d >= 0 && stage_cycle(f, d, mark))
            return 1;
    }
    mark[s] = 2;
    return 0;
}

static int check_cycles(struct p2 *p)
{
    int *mark = xcalloc(p->f->nstages ? p->f->nstages : 1, sizeof(int));
    size_t s;
    int rc = 0;

    for (s = 0; s < p->f->nstages && !rc; s++)
        if (stage_cycle(p->f, (int)s, mark)) {
            const struct df_stage *st = &p->f->stages[s];
            rc = p2_fail(p, p->f->instrs[st->first].line,
                         "break the loop of COPY --from between stages",
                         "circular dependency detected on stage '%s'",
                         st->name ? st->name : "?");
        }
    free(mark);
    return rc;
}

/* Pass A over all nodes: instructions, stages, meta ARGs. */
static int build_instrs(struct p2 *p, const struct nodes *ns)
{
    struct df_file *f = p->f;
    size_t i, scap = 0, j;
    int rc;

    f->instrs = xcalloc(ns->n, sizeof(*f->instrs));
    for (i = 0; i < ns->n; i++) {
        struct df_instr *in = &f->instrs[f->ninstrs++];
        in->stage = (int)f->nstages - 1;
        in->from_stage = -1;
        if ((rc = instr_from_node(p, in, ns->v[i])) < 0)
            return rc;
        if (in->kind == DF_FROM) {
            struct df_stage *st;
            XGROW(f->stages, scap, f->nstages + 1);
            st = &f->stages[f->nstages++];
            memset(st, 0, sizeof(*st));
            st->base_stage = -1;
            st->first = i;
            in->stage = (int)f->nstages - 1;
            if (in->nargs == 3) {
                st->name = xstrdup(in->args[2]);
                for (j = 0; st->name[j]; j++)
                    st->name[j] = (char)tolower((unsigned char)st->name[j]);
            }
        } else if (in->stage < 0 && in->kind != DF_ARG) {
            return p2_fail(p, in->line, "start the Dockerfile with FROM (only ARG may come before it)",
                           "no build stage in current context for '%s'",
                           df_kind_name(in->kind));
        }
        if (in->stage >= 0)
            f->stages[in->stage].count++;
    }
    if (!f->nstages)
        return p2_fail(p, 0, "add a FROM instruction",
                       "dockerfile contains no stages to build");
    return 0;
}

/* Pass B: expansion and state, in file order. */
static int dispatch_all(struct p2 *p)
{
    struct df_file *f = p->f;
    struct sstate meta;
    size_t i, k, cap = 0;
    int rc;

    for (k = 0; k < sizeof(platform_args) / sizeof(platform_args[0]); k++)
        vlist_set(&p->global, platform_args[k].name, platform_args[k].value);
    p->finals = xcalloc(f->nstages, sizeof(*p->finals));
    sstate_init(&meta);
    sstate_init(&p->cur);
    for (i = 0; i < f->ninstrs; i++) {
        struct df_instr *in = &f->instrs[i];
        if (in->stage < 0) {
            snapshot(&in->state, &meta);
            if ((rc = dispatch_arg(p, in, 1)) < 0)
                goto out;
            for (k = 0; k < in->nvars; k++) {
                XGROW(f->meta_args, cap, f->nmeta_args + 1);
                f->meta_args[f->nmeta_args].name = xstrdup(in->vars[k].name);
                f->meta_args[f->nmeta_args++].value =
                    in->vars[k].value ? xstrdup(in->vars[k].value) : NULL;
            }
            continue;
        }
        if (in->kind == DF_FROM) {
            if (in->stage > 0)
                sstate_copy(&p->finals[in->stage - 1], &p->cur);
            if ((rc = dispatch_from(p, in, in->stage)) < 0)
                goto out;
        }
        snapshot(&in->state, &p->cur);
        if (in->inner) {
            in->inner->stage = in->stage;
            snapshot(&in->inner->state, &p->cur);
        }
        if ((rc = dispatch(p, in, in->stage)) < 0)
            goto out;
    }
    sstate_copy(&p->finals[f->nstages - 1], &p->cur);
    rc = check_cycles(p);
out:
    sstate_release(&meta);
    return rc;
}

int df_parse(struct df_file **out, const char *path, const char *text,
             size_t len, const struct df_options *opts, struct err *err)
{
    struct df_file *f = xcalloc(1, sizeof(*f));
    struct nodes ns = { NULL, 0, 0 };
    struct p1 p = { path, err, f, { 0, 0, 0, 0 } };
    struct p2 q;
    size_t i;
    int rc;

    memset(&q, 0, sizeof(q));
    q.path = path;
    q.err = err;
    q.opts = opts;
    q.f = f;
    f->path = xstrdup(path);
    f->escape = '\\';
    *out = NULL;
    if ((rc = parse_nodes(&p, &ns, text, len)) < 0)
        goto out;
    if ((rc = build_instrs(&q, &ns)) < 0)
        goto out;
    rc = dispatch_all(&q);
out:
    nodes_release(&ns);
    vlist_release(&q.global);
    sstate_release(&q.cur);
    for (i = 0; q.finals && i < f->nstages; i++)
        sstate_release(&q.finals[i]);
    free(q.finals);
    if (rc < 0) {
        df_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

static void instr_release(struct df_instr *in)
{
    size_t i;

    free(in->original);
    for (i = 0; i < in->nflags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
        free(in->flags[i].raw);
    }
    free(in->flags);
    strv_free(in->args, in->nargs);
    vars_free(in->vars, in->nvars);
    heredocs_free(in->heredocs, in->nheredocs);
    state_release(&in->state);
    if (in->inner) {
        instr_release(in->inner);
        free(in->inner);
    }
}

void df_file_free(struct df_file *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->ninstrs; i++)
        instr_release(&f->instrs[i]);
    free(f->instrs);
    for (i = 0; i < f->nstages; i++) {
        free(f->stages[i].name);
        free(f->stages[i].base);
        free(f->stages[i].platform);
    }
    free(f->stages);
    vars_free(f->meta_args, f->nmeta_args);
    free(f->path);
    free(f->syntax);
    free(f->check);
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

const struct df_flag *df_instr_flag(const struct df_instr *in,
                                    const char *name)
{
    size_t i;

    for (i = 0; i < in->nflags; i++)
        if (!strcmp(in->flags[i].name, name))
            return &in->flags[i];
    return NULL;
}
