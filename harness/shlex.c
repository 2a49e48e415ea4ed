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
    int raw_escapes; /* sw.rawEscapes: lx's, or forced on for patterns */
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
                if (sc->raw_escapes)
                    buf_addch(res, (char)c);
                c = next(sc);
            }
        }
        buf_addch(res, (char)c);
    }
}

/* processStopOn(stop, rawEscapes): escapes kept as written while the word
 * of a pattern is read (the pattern compiler reads them). */
static int stop_on_raw(struct scan *sc, int stop, struct buf *word, int raw)
{
    int saved = sc->raw_escapes, rc;

    sc->raw_escapes = raw;
    rc = process_stop_on(sc, stop, word, NULL);
    sc->raw_escapes = saved;
    return rc;
}

/* ${name<op>word}: process word up to the closing brace. */
static int brace_word(struct scan *sc, struct buf *word, int raw)
{
    if (stop_on_raw(sc, '}', word, raw) < 0) {
        if (peek(sc) == EOF_CH)
            return fail(sc, "syntax error: missing '}'");
        return -1;
    }
    return 0;
}

/* ---- ${V#p} ${V##p} ${V%p} ${V%%p} ${V/p/r} ${V//p/r} ----
 *
 * BuildKit compiles the shell pattern to a Go regular expression: '*' is
 * ".*?" (".*" when greedy), '?' is '.', "\*" "\?" "\\" are the literal
 * characters, "\}" and "\/" the brace and slash, any other escape an
 * error; no bracket expressions.  Go's '.' matches one UTF-8 character but
 * not a newline.  We match the same language with a small NFA over the
 * tokens. */
enum { PT_LIT, PT_ANY, PT_STAR };

struct ptok {
    int kind;
    unsigned char ch;
};

struct pattern {
    struct ptok *t;
    size_t n;
};

static int pattern_compile(struct scan *sc, struct pattern *p, const char *s)
{
    size_t i, len = strlen(s);

    p->t = xcalloc(len ? len : 1, sizeof(*p->t));
    p->n = 0;
    for (i = 0; i < len; i++) {
        struct ptok *t = &p->t[p->n];
        if (s[i] == '*') {
            t->kind = PT_STAR;
        } else if (s[i] == '?') {
            t->kind = PT_ANY;
        } else if (s[i] == '\\') {
            if (s[i + 1] == '}' || s[i + 1] == '/')
                continue; /* the escape is not part of the pattern */
            if (s[i + 1] != '*' && s[i + 1] != '?' && s[i + 1] != '\\') {
                snprintf(sc->err, sc->errlen,
                         "invalid pattern (%s) in substitution: invalid "
                         "escape '\\%c'",
                         s, s[i + 1] ? s[i + 1] : ' ');
                free(p->t);
                p->t = NULL;
                return -1;
            }
            t->kind = PT_LIT;
            t->ch = (unsigned char)s[++i];
        } else {
            t->kind = PT_LIT;
            t->ch = (unsigned char)s[i];
        }
        p->n++;
    }
    return 0;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s, size_t left)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    size_t i;

    if (n > left)
        return 1;
    for (i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            return 1;
    return n;
}

/*
 * Matches of the pattern starting at s[from]: ends[j] = 1 when
 * s[from..from+j) matches the whole pattern (j up to len - from).  A
 * literal consumes one byte, '?' and '*' one character.
 */
static void pattern_ends(const struct pattern *p, const char *s, size_t len,
                         size_t from, unsigned char *ends)
{
    size_t L = len - from, w = p->n + 1, pos, i;
    unsigned char *reach = xcalloc((L + 1) * w, 1);

    reach[0] = 1;
    for (pos = 0; pos <= L; pos++) {
        unsigned char *r = reach + pos * w;
        size_t cl = pos < L ? char_len(s + from + pos, L - pos) : 0;
        for (i = 0; i < p->n; i++)
            if (r[i] && p->t[i].kind == PT_STAR)
                r[i + 1] = 1;
        ends[pos] = r[p->n];
        if (pos == L)
            break;
        for (i = 0; i < p->n; i++) {
            const struct ptok *t = &p->t[i];
            if (!r[i])
                continue;
            if (t->kind == PT_LIT) {
                if ((unsigned char)s[from + pos] == t->ch)
                    reach[(pos + 1) * w + i + 1] = 1;
            } else if (s[from + pos] != '\n') {
                reach[(pos + cl) * w + (t->kind == PT_STAR ? i : i + 1)] = 1;
            }
        }
    }
    free(reach);
}

/* Longest (greedy) or shortest match at s[from], as a length; -1 if none. */
static long pattern_at(const struct pattern *p, const char *s, size_t len,
                       size_t from, int greedy)
{
    unsigned char *ends = xcalloc(len - from + 1, 1);
    long r = -1;
    size_t j;

    pattern_ends(p, s, len, from, ends);
    for (j = 0; j <= len - from; j++)
        if (ends[j]) {
            r = (long)j;
            if (!greedy)
                break;
        }
    free(ends);
    return r;
}

/* trimPrefix / trimSuffix. */
static void pattern_trim(const struct pattern *p, const char *val, int suffix,
                         int greedy, struct buf *res)
{
    size_t len = strlen(val), k;
    long m;

    if (!suffix) {
        m = pattern_at(p, val, len, 0, greedy);
        buf_adds(res, m < 0 ? val : val + m);
        return;
    }
    /* the match that ends at the end: the longest suffix (greedy) is the
     * smallest start, the shortest the largest start */
    for (k = 0; k <= len; k++) {
        size_t from = greedy ? k : len - k;
        unsigned char *ends = xcalloc(len - from + 1, 1);
        int hit;
        pattern_ends(p, val, len, from, ends);
        hit = ends[len - from];
        free(ends);
        if (hit) {
            buf_add(res, val, from);
            return;
        }
    }
    buf_adds(res, val);
}

/* Go's Regexp.Expand of a ReplaceAllString template without groups: $$ is
 * '$', $0 / ${0} the match, any other $name / ${name} empty, a '$' not
 * followed by a name itself. */
static void expand_template(struct buf *res, const char *tpl, const char *m,
                            size_t mlen)
{
    const char *s = tpl;

    while (*s) {
        const char *q = s + 1, *name;
        size_t nlen = 0;
        int brace = 0;

        if (*s != '$') {
            buf_addch(res, *s++);
            continue;
        }
        if (*q == '$') {
            buf_addch(res, '$');
            s = q + 1;
            continue;
        }
        if (*q == '{')
            brace = 1, q++;
        name = q;
        while (is_name_char((unsigned char)q[nlen]))
            nlen++;
        if (!nlen || (brace && q[nlen] != '}')) {
            buf_addch(res, '$');
            s++;
            continue;
        }
        if (nlen == 1 && name[0] == '0')
            buf_add(res, m, mlen);
        s = q + nlen + brace;
    }
}

/* ${V/p/r} (first match) and ${V//p/r} (every match, as Go's
 * ReplaceAllString: non-overlapping, an empty match right after a match
 * skipped). */
static void pattern_replace(const struct pattern *p, const char *val,
                            const char *repl, int all, struct buf *res)
{
    size_t len = strlen(val), search = 0, last = 0, start;

    while (search <= len) {
        long m = -1;
        for (start = search; start <= len; start++)
            if ((m = pattern_at(p, val, len, start, 1)) >= 0)
                break;
        if (m < 0)
            break;
        buf_add(res, val + last, start - last);
        if (!all) {
            buf_adds(res, repl);
            last = start + (size_t)m;
            break;
        }
        if (start + (size_t)m > last || start == 0)
            expand_template(res, repl, val + start, (size_t)m);
        last = start + (size_t)m;
        {
            size_t w = search < len ? char_len(val + search, len - search) : 1;
            if (search + w > last)
                search += w;
            else
                search = last;
        }
    }
    buf_adds(res, val + last);
}

/* ${name#word} ${name%word} (and the doubled forms). */
static int trim_op(struct scan *sc, struct buf *res, const char *val, int op,
                   const char *word)
{
    struct pattern p;
    int greedy = word[0] == op;

    if (pattern_compile(sc, &p, word + greedy) < 0)
        return -1;
    pattern_trim(&p, val ? val : "", op == '%', greedy, res);
    free(p.t);
    return 0;
}

/* ${name/pattern/replacement}, ${name//pattern/replacement}. */
static int replace_op(struct scan *sc, struct buf *res, const char *name,
                      const char *val)
{
    struct buf pat = BUF_INIT, repl = BUF_INIT;
    struct pattern p;
    int all = 0, rc = -1;

    if (peek(sc) == '/')
        next(sc), all = 1;
    if (stop_on_raw(sc, '/', &pat, 1) < 0) {
        if (peek(sc) == EOF_CH)
            fail(sc, "syntax error: missing '/' in ${}");
        goto out;
    }
    if (brace_word(sc, &repl, 1) < 0)
        goto out;
    if (!val && sc->lx->skip_unset) {
        buf_printf(res, "${%s/%s/%s}", name, buf_cstr(&pat), buf_cstr(&repl));
        rc = 0;
        goto out;
    }
    if (pattern_compile(sc, &p, buf_cstr(&pat)) < 0)
        goto out;
    pattern_replace(&p, val ? val : "", buf_cstr(&repl), all, res);
    free(p.t);
    rc = 0;
out:
    buf_release(&pat);
    buf_release(&repl);
    return rc;
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
        if (brace_word(sc, &word, mod == '#' || mod == '%') < 0)
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
        } else if (mod == '#' || mod == '%') {
            if (trim_op(sc, res, val, mod, buf_cstr(&word)) < 0)
                goto out;
        } else {
            snprintf(sc->err, sc->errlen,
                     "unsupported modifier (:%c) in substitution", mod);
            goto out;
        }
        rc = 0;
        break;
    case '#':
    case '%':
        if (brace_word(sc, &word, 1) < 0)
            goto out;
        if (!val && sc->lx->skip_unset)
            buf_printf(res, "${%s%c%s}", buf_cstr(&name), c, buf_cstr(&word));
        else if (trim_op(sc, res, val, c, buf_cstr(&word)) < 0)
            goto out;
        rc = 0;
        break;
    case '/':
        if ((rc = replace_op(sc, res, buf_cstr(&name), val)) < 0)
            goto out;
        break;
    case '+':
    case '-':
    case '?':
        if (brace_word(sc, &word, 0) < 0)
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
            if (sc->raw_escapes) {
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
    struct scan sc = { lx, in, strlen(in), 0, errmsg, errlen, 0,
                       lx->raw_escapes };

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
