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
 * array; JSON_NOT_STRINGS when valid but holding a non-string.  The strings
 * go to out (emptied when the array is not valid), made in a.
 */
static int parse_json_array(struct strv *out, struct arena *a, const char *rest)
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
                strv_push(out, arena_memdup(a, buf_cstr(&b), b.len));
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
    out->n = 0;
    return JSON_INVALID;
}

/* ---- phase 1: the parser ------------------------------------------------ */

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
        *slot = arena_memdup(&p->f->mem, s + vs, ve - vs);
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
static void split_ws(struct strv *out, struct arena *a, const char *rest)
{
    const char *p = rest, *q;

    for (;;) {
        q = p;
        while (*q && !is_rews((unsigned char)*q))
            q++;
        strv_push(out, arena_memdup(a, p, (size_t)(q - p)));
        if (!*q)
            break;
        while (*q && is_rews((unsigned char)*q))
            q++;
        p = q;
    }
}

/* Room in p->word for a word of up to len bytes. */
static char *word_room(struct p1 *p, size_t len)
{
    buf_reset(&p->word);
    buf_grow(&p->word, len);
    return p->word.ptr;
}

/* parser.parseWords: splits on white space keeping quotes and escapes. */
static void parse_words(struct p1 *p, struct strv *out, const char *rest)
{
    enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
    struct arena *a = &p->f->mem;
    const char escape = p->f->escape;
    size_t len = strlen(rest), pos, wl = 0;
    char *word = word_room(p, len); /* a word is never longer than rest */
    /* what ends a run of bytes copied as they are, in a word / in quotes */
    const char stops[] = { ' ',  '\t', '\n', '\v',   '\f',
                           '\r', '\'', '"',  escape, 0 };
    char qstops[3] = { 0, escape, 0 };
    int blank_ok = 0;
    char quote = 0, ch = 0;
    size_t run;

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
            if (blank_ok || wl)
                strv_push(out, arena_memdup(a, word, wl));
            break;
        }
        if (phase == IN_WORD) {
            if (is_ws((unsigned char)ch)) {
                phase = IN_SPACES;
                if (blank_ok || wl)
                    strv_push(out, arena_memdup(a, word, wl));
                wl = 0;
                blank_ok = 0;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = 1;
                phase = IN_QUOTE;
            } else if (ch != escape) {
                run = strcspn(rest + pos, stops);
                memcpy(word + wl, rest + pos, run);
                wl += run;
                pos += run - 1;
                continue;
            }
            if (ch == escape) {
                if (pos + 1 == len)
                    continue;
                word[wl++] = ch;
                ch = rest[++pos];
            }
            word[wl++] = ch;
            continue;
        }
        /* IN_QUOTE */
        if (ch != quote && (ch != escape || quote == '\'')) {
            qstops[0] = quote;
            qstops[1] = quote == '\'' ? 0 : escape;
            run = strcspn(rest + pos, qstops);
            memcpy(word + wl, rest + pos, run);
            wl += run;
            pos += run - 1;
            continue;
        }
        if (ch == quote)
            phase = IN_WORD;
        if (ch == escape && quote != '\'') {
            if (pos + 1 == len) {
                phase = IN_WORD;
                continue;
            }
            word[wl++] = ch;
            ch = rest[++pos];
        }
        word[wl++] = ch;
    }
}

/* parser.extractBuilderFlags: leading --words; returns the rest. */
static char *extract_flags(struct p1 *p, struct strv *flags, char *line)
{
    enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
    struct arena *a = &p->f->mem;
    size_t len = strlen(line), pos, wl = 0;
    char *word = word_room(p, len);
    int blank_ok = 0;
    char quote = 0, ch = 0;

#define DASHES(w, n) ((n) == 2 && (w)[0] == '-' && (w)[1] == '-')
    for (pos = 0; pos <= len; pos++) {
        if (pos != len)
            ch = line[pos];
        if (phase == IN_SPACES) {
            if (pos == len)
                break;
            if (is_ws((unsigned char)ch))
                continue;
            if (ch != '-' || pos + 1 == len || line[pos + 1] != '-')
                return line + pos;
            phase = IN_WORD;
        }
        if (pos == len) {
            if (!DASHES(word, wl) && (blank_ok || wl))
                strv_push(flags, arena_memdup(a, word, wl));
            break;
        }
        if (phase == IN_WORD) {
            if (is_ws((unsigned char)ch)) {
                phase = IN_SPACES;
                if (DASHES(word, wl))
                    return line + pos;
                if (blank_ok || wl)
                    strv_push(flags, arena_memdup(a, word, wl));
                wl = 0;
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
            word[wl++] = ch;
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
        word[wl++] = ch;
    }
#undef DASHES
    return line + len;
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
    rc = parse_json_array(&p->sv, &p->f->mem, rest);
    if (rc == JSON_OK) {
        n->json = 1;
        return 0;
    }
    if (rc == JSON_NOT_STRINGS) {
        p->sv.n = 0;
        return p1_fail(
            p, n->line, "write every element of the exec form as a string",
            "when using JSON array syntax, arrays must be comprised of strings only");
    }
    if (list)
        split_ws(&p->sv, &p->f->mem, rest);
    else
        strv_push(&p->sv, arena_strdup(&p->f->mem, rest));
    return 0;
}

/* parseNameVal for ENV and LABEL: "K V" (legacy) or K=V... */
static int name_val(struct p1 *p, struct node *n, const char *rest)
{
    struct arena *a = &p->f->mem;
    char **words;
    const char *q;
    size_t i, nw;
    int rc = 0;

    parse_words(p, &p->sv, rest);
    words = p->sv.v;
    nw = p->sv.n;
    if (!nw) {
        rc = p1_fail(p, n->line, "write it as NAME=VALUE",
                     "%s must have two arguments", n->cmd);
        goto out;
    }
    if (!strchr(words[0], '=')) {
        q = rest;
        while (*q && !is_rews((unsigned char)*q))
            q++;
        if (!*q) {
            rc = p1_fail(p, n->line, "write it as NAME=VALUE",
                         "%s must have two arguments", n->cmd);
            goto out;
        }
        n->kv = arena_alloc_uninit(a, sizeof(*n->kv));
        n->kv[0].name = arena_memdup(a, rest, (size_t)(q - rest));
        while (*q && is_rews((unsigned char)*q))
            q++;
        n->kv[0].value = arena_strdup(a, q);
        n->nkv = 1;
        goto out;
    }
    n->kv = arena_alloc_uninit(a, nw * sizeof(*n->kv));
    for (i = 0; i < nw; i++) {
        char *eq = strchr(words[i], '=');
        if (!eq) {
            rc = p1_fail(
                p, n->line, "write each pair as NAME=VALUE",
                "syntax error - can't find = in '%s'. Must be of the form: name=value",
                words[i]);
            goto out;
        }
        n->kv[n->nkv].name = arena_memdup(a, words[i], (size_t)(eq - words[i]));
        n->kv[n->nkv++].value = eq + 1; /* the word's tail: never written */
    }
out:
    p->sv.n = 0;
    return rc;
}

static int node_from_line(struct p1 *p, struct node *n, char *line, int lineno);

/* The per-keyword argument split of the parser's dispatch table, into
 * p->sv. */
static int node_args(struct p1 *p, struct node *n, char *rest)
{
    size_t sep, nx;

    if (!n->known)
        return 0; /* parseIgnore: reported in phase 2 */
    switch (n->kind) {
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
        parse_words(p, &p->sv, rest);
        return 0;
    case DF_ENV:
    case DF_LABEL:
        return name_val(p, n, rest);
    case DF_EXPOSE:
    case DF_FROM:
        if (*rest)
            split_ws(&p->sv, &p->f->mem, rest);
        return 0;
    case DF_HEALTHCHECK:
        for (sep = 0; rest[sep] && !is_ws((unsigned char)rest[sep]); sep++)
            ;
        for (nx = sep; rest[nx] && is_ws((unsigned char)rest[nx]); nx++)
            ;
        if (!sep)
            return 0;
        strv_push(&p->sv, arena_memdup(&p->f->mem, rest, sep));
        return maybe_json(p, n, rest + nx, 0);
    case DF_ONBUILD:
        if (!*rest)
            return 0;
        n->inner = arena_alloc(&p->f->mem, sizeof(*n->inner));
        return node_from_line(p, n->inner, rest, n->line);
    default: /* MAINTAINER USER WORKDIR STOPSIGNAL: parseString */
        if (*rest)
            strv_push(&p->sv, arena_strdup(&p->f->mem, rest));
        return 0;
    }
}

/* newNodeFromLine: keyword, flags, arguments.  n is zeroed; line is the
 * caller's and is trimmed in place. */
static int node_from_line(struct p1 *p, struct node *n, char *line, int lineno)
{
    struct arena *a = &p->f->mem;
    char *t = line, *e, *q, *rest = NULL;
    int rc;

    n->line = n->end_line = lineno;
    n->original = arena_strdup(a, line);
    while (*t && is_ws((unsigned char)*t))
        t++;
    e = t + strlen(t);
    while (e > t && is_ws((unsigned char)e[-1]))
        e--;
    *e = '\0';
    q = t;
    while (*q && !is_rews((unsigned char)*q))
        q++;
    n->cmd = arena_memdup(a, t, (size_t)(q - t));
    n->known = df_kind_parse(&n->kind, n->cmd) == 0;
    while (*q && is_rews((unsigned char)*q))
        q++;
    if (*q) {
        /* the line has no white space at its end: only the start to trim */
        rest = extract_flags(p, &p->sv, q);
        while (*rest && is_ws((unsigned char)*rest))
            rest++;
        if (p->sv.n) {
            n->nflags = p->sv.n;
            n->flags = strv_freeze(a, &p->sv);
        }
    }
    rc = node_args(p, n, rest ? rest : (char *)"");
    n->nargs = p->sv.n;
    n->args = strv_freeze(a, &p->sv);
    return rc;
}

/* canContainHeredoc: RUN, COPY, ADD in shell form. */
static int node_can_heredoc(const struct node *n)
{
    return n->known &&
           (n->kind == DF_RUN || n->kind == DF_COPY || n->kind == DF_ADD) &&
           n->nargs && !n->json;
}

/*
 * ParseHeredoc: ^(\d*)<<(-?)([^<]*)$.  The delimiter is lexed with and
 * without quotes; if they differ, part of it was quoted: no expansion.
 */
static int heredoc_from_word(struct arena *a, struct df_heredoc *h,
                             const char *w, int *is_doc)
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
    h->name = arena_strdup(a, words[0]);
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
    size_t nw = 0, i;
    int is_doc;

    if (shlex_words(&words, &nw, &lx, line, emsg, sizeof(emsg)) < 0)
        return 0; /* Docker ignores the lexer error here: no heredocs */
    for (i = 0; i < nw; i++) {
        struct df_heredoc h = { NULL, NULL, 1, 0 };
        if (heredoc_from_word(&p->f->mem, &h, words[i], &is_doc) < 0) {
            int rc = p1_fail(p, n->line, "quote the heredoc delimiter properly",
                             "invalid heredoc delimiter '%s'", words[i]);
            shlex_words_free(words, nw);
            return rc;
        }
        if (!is_doc)
            continue;
        if (!n->heredocs) /* at most one a word */
            n->heredocs = arena_alloc(&p->f->mem, nw * sizeof(*n->heredocs));
        n->heredocs[n->nheredocs++] = h;
    }
    shlex_words_free(words, nw);
    return 0;
}

/* ChompHeredocContent: strip leading tabs of every line. */
static char *chomp_tabs(struct arena *a, const char *s, size_t len)
{
    char *out = arena_alloc_uninit(a, len + 1), *o = out;
    int bol = 1;

    for (; *s; s++) {
        if (bol && *s == '\t')
            continue;
        bol = *s == '\n';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static int read_heredoc_bodies(struct p1 *p, struct lines *ls, struct node *n)
{
    struct buf *body = &p->word;
    const char *l;
    size_t ln, i;

    for (i = 0; i < n->nheredocs; i++) {
        struct df_heredoc *h = &n->heredocs[i];
        size_t namelen = strlen(h->name);
        int done = 0;
        buf_reset(body);
        while (next_line(ls, &l, &ln)) {
            size_t tn = trim_newline(l, ln), off = 0;
            if (h->chomp)
                while (off < tn && l[off] == '\t')
                    off++;
            if (tn - off == namelen && !memcmp(l + off, h->name, tn - off)) {
                done = 1;
                break;
            }
            if (memchr(l, '\0', ln))
                return p1_fail(p, ls->lineno, "remove the NUL byte",
                               "NUL byte in heredoc '%s'", h->name);
            buf_add(body, l, ln);
        }
        if (!done)
            return p1_fail(
                p, n->line,
                "end the heredoc with a line holding only its delimiter",
                "unterminated heredoc '%s'", h->name);
        h->content = h->chomp
                         ? chomp_tabs(&p->f->mem, buf_cstr(body), body->len)
                         : arena_memdup(&p->f->mem, buf_cstr(body), body->len);
    }
    n->end_line = ls->lineno;
    return 0;
}

void dfi_p1_release(struct p1 *p, struct nodes *ns)
{
    free(ns->v);
    memset(ns, 0, sizeof(*ns));
    free(p->sv.v);
    memset(&p->sv, 0, sizeof(p->sv));
    buf_release(&p->word);
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
        struct node *n;

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
        XGROW(ns->v, ns->cap, ns->n + 1);
        n = &ns->v[ns->n];
        memset(n, 0, sizeof(*n));
        if ((rc = node_from_line(p, n, line.ptr, start)) < 0)
            goto out;
        ns->n++;
        n->end_line = ls.lineno;
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
