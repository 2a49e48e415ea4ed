/*
 * ignore.c - Docker's .dockerignore rules, written from the documented
 * behaviour of moby/patternmatcher and its ignore-file reader.
 *
 * patternmatcher turns each pattern into one of four match kinds: an exact
 * string, a prefix ("foo**"), a suffix ("**\/foo", or "**"), or a regular
 * expression.  The kind matters: "**foo" is a plain suffix test, so it
 * matches "barfoo", which the regular expression would not.  We keep the
 * same kinds and replace the regular expression with a small token matcher
 * over the same language: '*' = [^/]*, '?' = [^/], "**\/" = (.*\/)?, a
 * trailing "**" = .*, classes as in Go's regexp.
 */
#include "context.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum pat_kind { PAT_EXACT, PAT_PREFIX, PAT_SUFFIX, PAT_REGEXP };
enum tok_kind { T_LIT, T_ANY, T_STAR, T_DSTAR_MID, T_DSTAR_END, T_CLASS };

struct tok {
    enum tok_kind kind;
    unsigned char ch;  /* T_LIT: one byte */
    unsigned char neg; /* T_CLASS: negated */
    uint32_t *ranges;  /* T_CLASS: lo, hi pairs */
    size_t nranges;
};

struct pat {
    char *text; /* cleaned, without '!' */
    int exclusion;
    enum pat_kind kind;
    struct tok *toks;
    size_t ntoks, cap;
};

struct ignore {
    struct pat *pats;
    size_t n, cap;
    int exclusions;
};

/* ===== UTF-8 ===== */

static size_t utf8_decode(const char *s, uint32_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 1;
    uint32_t r = u[0];

    if (u[0] >= 0xf0 && u[0] < 0xf8)
        n = 4, r = u[0] & 0x07;
    else if (u[0] >= 0xe0)
        n = 3, r = u[0] & 0x0f;
    else if (u[0] >= 0xc0)
        n = 2, r = u[0] & 0x1f;
    if (n == 1) {
        *out = r;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *out = u[0]; /* invalid: one byte */
            return 1;
        }
        r = (r << 6) | (u[i] & 0x3f);
    }
    *out = r;
    return n;
}

/* ===== Path cleaning (Go's filepath.Clean) ===== */

char *ignore_clean_path(const char *path)
{
    size_t len = strlen(path);
    int rooted = path[0] == '/';
    char *out = xmalloc(len + 2);
    size_t n = 0, floor = 0; /* floor: where ".." can no longer pop */
    size_t i = 0;

    if (rooted)
        out[n++] = '/', floor = 1;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t clen = j - i;
        const char *c = path + i;
        i = j + 1;
        if (clen == 0 || (clen == 1 && c[0] == '.'))
            continue;
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            if (n > floor) {
                while (n > floor && out[n - 1] != '/')
                    n--;
                if (n > floor)
                    n--; /* the separator */
                else if (!rooted)
                    n = floor;
                continue;
            }
            if (rooted)
                continue;
            if (n)
                out[n++] = '/';
            out[n++] = '.';
            out[n++] = '.';
            floor = n;
            continue;
        }
        if (n > (size_t)rooted)
            out[n++] = '/';
        memcpy(out + n, c, clen);
        n += clen;
    }
    if (n == 0)
        out[n++] = '.';
    out[n] = '\0';
    return out;
}

/* ===== Pattern syntax (Go's filepath.Match errors) ===== */

/* One class item char at *p, escapes resolved; -1 if malformed. */
static int class_char(const char **p, uint32_t *out)
{
    const char *s = *p;
    if (!*s || *s == '-' || *s == ']')
        return -1;
    if (*s == '\\') {
        s++;
        if (!*s)
            return -1;
    }
    s += utf8_decode(s, out);
    *p = s;
    return 0;
}

/*
 * Parse a class starting after '['; on success *p is past ']' and the
 * ranges are appended to the token.  -1 if malformed, as Go rejects it.
 */
static int parse_class(const char **p, struct tok *t)
{
    const char *s = *p;
    size_t cap = 0;

    t->neg = 0;
    if (*s == '^')
        t->neg = 1, s++;
    for (size_t items = 0;; items++) {
        if (*s == ']' && items > 0) {
            s++;
            break;
        }
        uint32_t lo, hi;
        if (class_char(&s, &lo) < 0)
            return -1;
        hi = lo;
        if (*s == '-') {
            s++;
            if (class_char(&s, &hi) < 0)
                return -1;
        }
        XGROW(t->ranges, cap, t->nranges + 2);
        t->ranges[t->nranges++] = lo;
        t->ranges[t->nranges++] = hi;
    }
    *p = s;
    return 0;
}

static int class_has(const struct tok *t, uint32_t r)
{
    int in = 0;
    for (size_t i = 0; i + 1 < t->nranges; i += 2)
        if (r >= t->ranges[i] && r <= t->ranges[i + 1])
            in = 1;
    return in != t->neg;
}

static struct tok *pat_push(struct pat *p, enum tok_kind kind)
{
    XGROW(p->toks, p->cap, p->ntoks + 1);
    struct tok *t = &p->toks[p->ntoks++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    return t;
}

static void pat_release(struct pat *p)
{
    for (size_t i = 0; i < p->ntoks; i++)
        free(p->toks[i].ranges);
    free(p->toks);
    free(p->text);
}

/*
 * Compile p->text.  glob: filepath.Match semantics ("**" is just two
 * stars).  Returns -1 for a syntax error.
 */
static int pat_compile(struct pat *p, int glob)
{
    const char *s = p->text;
    enum pat_kind kind = PAT_EXACT;

    for (int i = 0; *s; i++) {
        char c = *s;
        if (c == '*') {
            s++;
            if (*s == '*' && !glob) {
                s++;
                if (*s == '/')
                    s++;
                if (!*s) {
                    if (kind == PAT_EXACT) {
                        kind = PAT_PREFIX;
                    } else {
                        pat_push(p, T_DSTAR_END);
                        kind = PAT_REGEXP;
                    }
                } else {
                    pat_push(p, T_DSTAR_MID);
                    kind = PAT_REGEXP;
                }
                if (i == 0)
                    kind = PAT_SUFFIX;
            } else {
                pat_push(p, T_STAR);
                kind = PAT_REGEXP;
            }
        } else if (c == '?') {
            s++;
            pat_push(p, T_ANY);
            kind = PAT_REGEXP;
        } else if (c == '\\') {
            s++;
            if (!*s)
                return -1;
            uint32_t r;
            size_t n = utf8_decode(s, &r);
            for (size_t k = 0; k < n; k++)
                pat_push(p, T_LIT)->ch = (unsigned char)s[k];
            s += n;
            kind = PAT_REGEXP;
        } else if (c == '[') {
            s++;
            struct tok *t = pat_push(p, T_CLASS);
            if (parse_class(&s, t) < 0)
                return -1;
            kind = PAT_REGEXP;
        } else {
            /* ']' alone is a literal both for Go's Match and regexp. */
            pat_push(p, T_LIT)->ch = (unsigned char)c;
            s++;
        }
    }
    p->kind = glob ? PAT_REGEXP : kind;
    return 0;
}

/* ===== Matching ===== */

static int toks_match(const struct pat *p, size_t t, const char *s)
{
    for (; t < p->ntoks; t++) {
        const struct tok *k = &p->toks[t];
        uint32_t r;
        switch (k->kind) {
        case T_LIT:
            if ((unsigned char)*s != k->ch)
                return 0;
            s++;
            break;
        case T_ANY:
            if (!*s || *s == '/')
                return 0;
            s += utf8_decode(s, &r);
            break;
        case T_CLASS:
            if (!*s)
                return 0;
            s += utf8_decode(s, &r);
            if (!class_has(k, r))
                return 0;
            break;
        case T_STAR:
            for (;;) {
                if (toks_match(p, t + 1, s))
                    return 1;
                if (!*s || *s == '/')
                    return 0;
                s += utf8_decode(s, &r);
            }
        case T_DSTAR_MID:
            if (toks_match(p, t + 1, s))
                return 1;
            for (; *s; s++)
                if (*s == '/' && toks_match(p, t + 1, s + 1))
                    return 1;
            return 0;
        case T_DSTAR_END:
            return 1;
        }
    }
    return *s == '\0';
}

static int pat_match(const struct pat *p, const char *path)
{
    size_t tl = strlen(p->text), pl;

    switch (p->kind) {
    case PAT_EXACT:
        return strcmp(path, p->text) == 0;
    case PAT_PREFIX:
        return strncmp(path, p->text, tl - 2) == 0;
    case PAT_SUFFIX: {
        const char *suffix = p->text + 2;
        size_t sl = tl - 2;
        pl = strlen(path);
        if (pl >= sl && memcmp(path + pl - sl, suffix, sl) == 0)
            return 1;
        return suffix[0] == '/' && strcmp(path, suffix + 1) == 0;
    }
    case PAT_REGEXP:
        return toks_match(p, 0, path);
    }
    return 0;
}

/* The pattern matches path or one of its parent folders. */
static int pat_match_or_parent(const struct pat *p, const char *path,
                               char *scratch)
{
    if (pat_match(p, path))
        return 1;
    for (const char *q = strchr(path, '/'); q; q = strchr(q + 1, '/')) {
        size_t n = (size_t)(q - path);
        memcpy(scratch, path, n);
        scratch[n] = '\0';
        if (pat_match(p, scratch))
            return 1;
    }
    return 0;
}

int ignore_match(const struct ignore *ig, const char *path)
{
    if (!ig || !ig->n || !*path || strcmp(path, ".") == 0)
        return 0;
    char *scratch = xmalloc(strlen(path) + 1);
    int matched = 0;
    for (size_t i = 0; i < ig->n; i++) {
        const struct pat *p = &ig->pats[i];
        /* An exception only matters once something matched, and a plain
         * pattern only matters while nothing has. */
        if (p->exclusion != matched)
            continue;
        if (pat_match_or_parent(p, path, scratch))
            matched = !p->exclusion;
    }
    free(scratch);
    return matched;
}

/* How many path components a pattern can match; SIZE_MAX if any. */
static size_t pat_depth(const struct pat *p)
{
    size_t depth = 1;

    if (p->kind == PAT_PREFIX || p->kind == PAT_SUFFIX)
        return SIZE_MAX;
    for (size_t t = 0; t < p->ntoks; t++) {
        switch (p->toks[t].kind) {
        case T_LIT:
            depth += p->toks[t].ch == '/';
            break;
        case T_ANY:
        case T_STAR:
            break; /* never '/' */
        case T_CLASS: /* "[^a]" matches '/' */
        case T_DSTAR_MID:
        case T_DSTAR_END:
            return SIZE_MAX;
        }
    }
    return depth;
}

size_t ignore_max_depth(const struct ignore *ig)
{
    size_t max = 0;

    for (size_t i = 0; ig && i < ig->n; i++) {
        size_t d = pat_depth(&ig->pats[i]);
        if (d > max)
            max = d;
    }
    return max;
}

int ignore_may_include_under(const struct ignore *ig, const char *dir)
{
    if (!ig || !ig->exclusions)
        return 0;
    size_t dl = strlen(dir);
    for (size_t i = 0; i < ig->n; i++) {
        const struct pat *p = &ig->pats[i];
        if (!p->exclusion)
            continue;
        size_t tl = strlen(p->text);
        /* strings.HasPrefix(pattern + "/", dir + "/") */
        if (tl + 1 >= dl + 1 && strncmp(p->text, dir, dl) == 0 &&
            (tl == dl || p->text[dl] == '/'))
            return 1;
    }
    return 0;
}

/* ===== Parsing ===== */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

/* Trim ASCII whitespace in place: returns the start, sets *len. */
static const char *trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* patternmatcher.New for one pattern; file and line for messages. */
static int add_pattern(struct ignore *ig, const char *raw, size_t len,
                       const char *file, int line, struct err *err)
{
    struct pat p;
    int rc = 0;

    raw = trim(raw, &len);
    if (!len)
        return 0;
    memset(&p, 0, sizeof(p));
    char *tmp = xstrndup(raw, len);
    char *clean = ignore_clean_path(tmp);
    free(tmp);
    if (clean[0] == '!') {
        if (!clean[1]) {
            rc = err_set_at(err, ERR_PARSE, file, line,
                            "illegal exclusion pattern '!'");
            free(clean);
            return rc;
        }
        p.exclusion = 1;
        p.text = xstrdup(clean + 1);
        free(clean);
    } else {
        p.text = clean;
    }
    if (pat_compile(&p, 0) < 0) {
        rc = err_set_at(err, ERR_PARSE, file, line,
                        "syntax error in pattern '%s'", p.text);
        pat_release(&p);
        return rc;
    }
    if (p.exclusion)
        ig->exclusions = 1;
    XGROW(ig->pats, ig->cap, ig->n + 1);
    ig->pats[ig->n++] = p;
    return 0;
}

int ignore_parse(struct ignore **out, const char *path, const char *text,
                 size_t len, struct err *err)
{
    struct ignore *ig = xcalloc(1, sizeof(*ig));
    struct buf line = BUF_INIT;
    const char *end = text + len;
    int rc = 0, lineno = 0;

    *out = NULL;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
        const char *s = text;
        text += n + (nl ? 1 : 0);
        lineno++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n && s[0] == '#')
            continue;
        s = trim(s, &n);
        if (!n)
            continue;
        /* The reader makes patterns relative to the context: "!" kept,
         * the rest cleaned and a leading "/" dropped. */
        int invert = s[0] == '!';
        if (invert) {
            s++, n--;
            s = trim(s, &n);
        }
        buf_reset(&line);
        if (invert)
            buf_addch(&line, '!');
        if (n) {
            char *tmp = xstrndup(s, n);
            char *clean = ignore_clean_path(tmp);
            buf_adds(&line, clean[0] == '/' && clean[1] ? clean + 1 : clean);
            free(clean);
            free(tmp);
        }
        if ((rc = add_pattern(ig, buf_cstr(&line), line.len, path, lineno,
                              err)) < 0)
            goto out;
    }
    *out = ig;
    ig = NULL;
out:
    buf_release(&line);
    ignore_free(ig);
    return rc;
}

int ignore_from_patterns(struct ignore **out, const char *const *pats, size_t n,
                         struct err *err)
{
    struct ignore *ig = xcalloc(1, sizeof(*ig));
    int rc;

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if ((rc = add_pattern(ig, pats[i], strlen(pats[i]), "--exclude", 0,
                              err)) < 0) {
            ignore_free(ig);
            return rc;
        }
    }
    *out = ig;
    return 0;
}

void ignore_free(struct ignore *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->n; i++)
        pat_release(&ig->pats[i]);
    free(ig->pats);
    free(ig);
}

size_t ignore_count(const struct ignore *ig)
{
    return ig ? ig->n : 0;
}

void ignore_digest(const struct ignore *ig, unsigned char out[SHA256_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_field(&h, "dockerignore-v1");
    for (size_t i = 0; ig && i < ig->n; i++) {
        sha256_field(&h, ig->pats[i].exclusion ? "!" : "");
        sha256_field(&h, ig->pats[i].text);
    }
    sha256_final(&h, out);
}

int ignore_has_glob(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '*' || *s == '?' || *s == '[')
            return 1;
    }
    return 0;
}

int ignore_glob_match(const char *pattern, const char *name)
{
    struct pat p;
    memset(&p, 0, sizeof(p));
    p.text = xstrdup(pattern);
    int rc = pat_compile(&p, 1) < 0 ? ERR_PARSE : toks_match(&p, 0, name);
    pat_release(&p);
    return rc;
}
