/*
 * dockerfile_lex.c - phase 1 of the Dockerfile front end, as BuildKit's
 * frontend/dockerfile/parser: physical lines -> logical lines (parser
 * directives, comments, escape character, continuations, heredoc bodies) ->
 * nodes with flags and the per-keyword argument split (JSON exec form with
 * fallback to shell form, name=value pairs, words).
 */
#include "dockerfile_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shlex.h"

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

void dfi_heredocs_free(struct df_heredoc *h, size_t n)
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

void dfi_node_free(struct node *n)
{
    if (!n)
        return;
    free(n->cmd);
    free(n->original);
    strv_free(n->flags.v, n->flags.n);
    strv_free(n->args.v, n->args.n);
    vlist_release(&n->kv);
    dfi_heredocs_free(n->heredocs, n->nheredocs);
    dfi_node_free(n->inner);
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

/*
 * DirectiveParser.ParseLine: ^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[
 * \t]*$ Only lines before anything else count; the first other line ends them.
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

static int p1_fail(struct p1 *p, int line, const char *hint, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static int p1_fail(struct p1 *p, int line, const char *hint, const char *fmt,
                   ...)
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
        return p1_fail(
            p, n->line, "write every element of the exec form as a string",
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
            rc = p1_fail(
                p, n->line, "write each pair as NAME=VALUE",
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
        dfi_node_free(n);
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
            return p1_fail(
                p, n->line,
                "end the heredoc with a line holding only its delimiter",
                "unterminated heredoc '%s'", h->name);
        }
        h->content =
            h->chomp ? chomp_tabs(buf_cstr(&body)) : xstrdup(buf_cstr(&body));
        buf_release(&body);
    }
    n->end_line = ls->lineno;
    return 0;
}

void dfi_nodes_release(struct nodes *ns)
{
    size_t i;

    for (i = 0; i < ns->n; i++)
        dfi_node_free(ns->v[i]);
    free(ns->v);
}

/* parser.Parse: the whole text to nodes. */
int dfi_parse_nodes(struct p1 *p, struct nodes *ns, const char *text,
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
