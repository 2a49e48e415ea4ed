/*
 * shlex.c - BuildKit's word lexer.  The scanner walks bytes; every branch
 * mirrors a case of shell/lex.go so that quoting and substitution give the
 * same strings Docker gives.
 */
#include "shlex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define EOF_CH (-1)

struct words {
    char **v;
    size_t n, cap;
    struct buf word;
    int in_word;
};

struct scan {
    const struct shlex *lx;
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    int depth;
};

static int peek(const struct scan *sc)
{
    return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : EOF_CH;
}

static int next(struct scan *sc)
{
    return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos++] : EOF_CH;
}

static int fail(struct scan *sc, const char *msg)
{
    snprintf(sc->err, sc->errlen, "%s", msg);
    return -1;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '_';
}

static void words_push(struct words *w)
{
    XGROW(w->v, w->cap, w->n + 1);
    w->v[w->n++] = buf_detach(&w->word);
    w->in_word = 0;
}

static void words_add_raw_char(struct words *w, int c)
{
    buf_addch(&w->word, (char)c);
    w->in_word = 1;
}

static void words_add_char(struct words *w, int c)
{
    if (is_space(c)) {
        if (w->in_word && w->word.len)
            words_push(w);
    } else {
        words_add_raw_char(w, c);
    }
}

static void words_add_string(struct words *w, const char *s)
{
    for (; *s; s++)
        words_add_char(w, (unsigned char)*s);
}

static void words_add_raw_string(struct words *w, const char *s)
{
    buf_adds(&w->word, s);
    w->in_word = 1;
}

static void words_release(struct words *w)
{
    shlex_words_free(w->v, w->n);
    buf_release(&w->word);
}

static const char *lookup(const struct shlex *lx, const char *name)
{
    size_t i;

    for (i = lx->nenv; i-- > 0;)
        if (!strcmp(lx->env[i].name, name))
            return lx->env[i].value;
    return NULL;
}

static int process_stop_on(struct scan *sc, int stop, struct buf *res,
                           struct words *w);

/* Reads a variable name: letters/digits/_, or all digits, or one special. */
static void process_name(struct scan *sc, struct buf *name)
{
    int c = peek(sc);

    if (is_digit(c)) {
        while (is_digit(peek(sc)))
            buf_addch(name, (char)next(sc));
        return;
    }
    if (c != EOF_CH && strchr("@*#?-$!", c)) {
        buf_addch(name, (char)next(sc));
        return;
    }
    while (is_name_char(peek(sc)))
        buf_addch(name, (char)next(sc));
}

static int process_single_quote(struct scan *sc, struct buf *res)
{
    int c = next(sc);

    if (sc->lx->raw_quotes)
        buf_addch(res, (char)c);
    for (;;) {
        c = next(sc);
        if (c == EOF_CH)
            return fail(sc, "unexpected end of statement while looking for matching single-quote");
        if (c == '\'') {
            if (sc->lx->raw_quotes)
                buf_addch(res, (char)c);
            return 0;
        }
        buf_addch(res, (char)c);
    }
}

static int process_dollar(struct scan *sc, struct buf *res);

static int process_double_quote(struct scan *sc, struct buf *res)
{
    int c = next(sc);

    if (sc->lx->raw_quotes)
        buf_addch(res, (char)c);
    for (;;) {
        c = peek(sc);
        if (c == EOF_CH)
            return fail(sc, "unexpected end of statement while looking for matching double-quote");
        if (c == '"') {
            next(sc);
            if (sc->lx->raw_quotes)
                buf_addch(res, (char)c);
            return 0;
        }
        if (c == '$') {
            if (process_dollar(sc, res) < 0)
                return -1;
            continue;
        }
        c = next(sc);
        if (c == (unsigned char)sc->lx->escape) {
            int p = peek(sc);
            if (p == EOF_CH)
                continue; /* dropped; the loop then reports the quote */
            if (p == '"' || p == '$' || p == (unsigned char)sc->lx->escape) {
                if (sc->lx->raw_escapes)
                    buf_addch(res, (char)c);
                c = next(sc);
            }
        }
        buf_addch(res, (char)c);
    }
}

/* ${name<op>word}: process word up to the closing brace. */
static int brace_word(struct scan *sc, struct buf *word)
{
    if (process_stop_on(sc, '}', word, NULL) < 0) {
        if (peek(sc) == EOF_CH)
            return fail(sc, "syntax error: missing '}'");
        return -1;
    }
    return 0;
}

static int process_dollar_brace(struct scan *sc, struct buf *res)
{
    struct buf name = BUF_INIT, word = BUF_INIT;
    const char *val;
    int c, mod, rc = -1;

    next(sc); /* '{' */
    c = peek(sc);
    if (c == EOF_CH) {
        fail(sc, "syntax error: missing '}'");
        goto out;
    }
    if (c == '{' || c == '}' || c == ':') {
        fail(sc, "syntax error: bad substitution");
        goto out;
    }
    process_name(sc, &name);
    val = lookup(sc->lx, buf_cstr(&name));
    c = next(sc);
    switch (c) {
    case '}':
        if (!val && sc->lx->skip_unset)
            buf_printf(res, "${%s}", buf_cstr(&name));
        else if (val)
            buf_adds(res, val);
        rc = 0;
        break;
    case ':':
        mod = next(sc);
        if (brace_word(sc, &word) < 0)
            goto out;
        if (!val && sc->lx->skip_unset) {
            buf_printf(res, "${%s:%c%s}", buf_cstr(&name), mod,
                       buf_cstr(&word));
            rc = 0;
            break;
        }
        if (mod == '+') {
            buf_adds(res, val && *val ? buf_cstr(&word) : "");
        } else if (mod == '-') {
            buf_adds(res, val && *val ? val : buf_cstr(&word));
        } else if (mod == '?') {
            if (!val || !*val) {
                snprintf(sc->err, sc->errlen, "%s: %s", buf_cstr(&name),
                         word.len ? buf_cstr(&word)
                         : val    ? "is not allowed to be empty"
                                  : "is not allowed to be unset");
                goto out;
            }
            buf_adds(res, val);
        } else {
            snprintf(sc->err, sc->errlen,
                     "unsupported modifier (%c) in substitution", mod);
            goto out;
        }
        rc = 0;
        break;
    case '+':
    case '-':
    case '?':
        if (brace_word(sc, &word) < 0)
            goto out;
        if (!val && sc->lx->skip_unset) {
            buf_printf(res, "${%s%c%s}", buf_cstr(&name), c, buf_cstr(&word));
        } else if (c == '+') {
            buf_adds(res, val ? buf_cstr(&word) : "");
        } else if (c == '-') {
            buf_adds(res, val ? val : buf_cstr(&word));
        } else if (!val) {
            snprintf(sc->err, sc->errlen, "%s: %s", buf_cstr(&name),
                     word.len ? buf_cstr(&word) : "is not allowed to be unset");
            goto out;
        } else {
            buf_adds(res, val);
        }
        rc = 0;
        break;
    case EOF_CH:
        fail(sc, "syntax error: missing '}'");
        break;
    default:
        if (!name.len)
            fail(sc, "syntax error: bad substitution");
        else
            snprintf(sc->err, sc->errlen,
                     "unsupported modifier (%c) in substitution", c);
        break;
    }
out:
    buf_release(&name);
    buf_release(&word);
    return rc;
}

static int process_dollar(struct scan *sc, struct buf *res)
{
    struct buf name = BUF_INIT;
    const char *val;
    int rc;

    /* Nesting ${a:-${b:-${c...}}} recurses; bound it for hostile input. */
    if (++sc->depth > 1000) {
        sc->depth--;
        return fail(sc, "syntax error: substitution nested too deeply");
    }
    next(sc); /* '$' */
    if (peek(sc) == '{') {
        rc = process_dollar_brace(sc, res);
        sc->depth--;
        return rc;
    }
    process_name(sc, &name);
    if (!name.len) {
        buf_addch(res, '$');
    } else {
        val = lookup(sc->lx, buf_cstr(&name));
        if (val)
            buf_adds(res, val);
        else if (sc->lx->skip_unset)
            buf_printf(res, "$%s", buf_cstr(&name));
    }
    buf_release(&name);
    sc->depth--;
    return 0;
}

/* The main loop; w may be NULL when words are not wanted. */
static int process_stop_on(struct scan *sc, int stop, struct buf *res,
                           struct words *w)
{
    struct buf tmp = BUF_INIT;
    int c, rc;

    while ((c = peek(sc)) != EOF_CH) {
        if (stop != EOF_CH && c == stop) {
            next(sc);
            buf_release(&tmp);
            return 0;
        }
        if (c == '\'' || c == '"' || c == '$') {
            buf_reset(&tmp);
            if (c == '\'')
                rc = process_single_quote(sc, &tmp);
            else if (c == '"')
                rc = process_double_quote(sc, &tmp);
            else
                rc = process_dollar(sc, &tmp);
            if (rc < 0) {
                buf_release(&tmp);
                return -1;
            }
            buf_add(res, buf_cstr(&tmp), tmp.len);
            if (w && c == '$')
                words_add_string(w, buf_cstr(&tmp));
            else if (w)
                words_add_raw_string(w, buf_cstr(&tmp));
            continue;
        }
        c = next(sc);
        if (c == (unsigned char)sc->lx->escape) {
            if (sc->lx->raw_escapes) {
                if (w)
                    words_add_raw_char(w, c);
                buf_addch(res, (char)c);
            }
            c = next(sc);
            if (c == EOF_CH)
                break;
            if (w)
                words_add_raw_char(w, c);
        } else if (w) {
            words_add_char(w, c);
        }
        buf_addch(res, (char)c);
    }
    buf_release(&tmp);
    if (stop != EOF_CH) {
        snprintf(sc->err, sc->errlen,
                 "unexpected end of statement while looking for matching %c",
                 stop);
        return -1;
    }
    return 0;
}

static int run(struct buf *res, struct words *w, const struct shlex *lx,
               const char *in, char *errmsg, size_t errlen)
{
    struct scan sc = { lx, in, strlen(in), 0, errmsg, errlen, 0 };

    return process_stop_on(&sc, EOF_CH, res, w);
}

int shlex_word(char **out, const struct shlex *lx, const char *in,
               char *errmsg, size_t errlen)
{
    struct buf res = BUF_INIT;

    if (run(&res, NULL, lx, in, errmsg, errlen) < 0) {
        buf_release(&res);
        return -1;
    }
    *out = buf_detach(&res);
    return 0;
}

int shlex_words(char ***out, size_t *nout, const struct shlex *lx,
                const char *in, char *errmsg, size_t errlen)
{
    struct buf res = BUF_INIT;
    struct words w = { NULL, 0, 0, BUF_INIT, 0 };
    int rc = run(&res, &w, lx, in, errmsg, errlen);

    buf_release(&res);
    if (rc < 0) {
        words_release(&w);
        return -1;
    }
    if (w.word.len)
        words_push(&w);
    buf_release(&w.word);
    *out = w.v;
    *nout = w.n;
    return 0;
}

void shlex_words_free(char **w, size_t n)
{
    size_t i;

    if (!w)
        return;
    for (i = 0; i < n; i++)
        free(w[i]);
    free(w);
}
