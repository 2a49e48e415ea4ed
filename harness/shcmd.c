#include "shcmd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct lexer {
    const char *p;
    struct shcmd_script *s;
    struct shcmd cur;
    struct buf word;
    int in_word;
    int next_piped;
    int skip_next; /* the next word is a redirection target */
    int broken;    /* a separator other than && was seen */
};

static void end_word(struct lexer *lx)
{
    if (!lx->in_word)
        return;
    lx->in_word = 0;
    if (lx->skip_next) {
        lx->skip_next = 0;
        XGROW(lx->cur.redir, lx->cur.redircap, lx->cur.nredir + 1);
        lx->cur.redir[lx->cur.nredir++] = xstrdup(buf_cstr(&lx->word));
        buf_reset(&lx->word);
        return;
    }
    XGROW(lx->cur.w, lx->cur.cap, lx->cur.n + 1);
    lx->cur.w[lx->cur.n++] = xstrdup(buf_cstr(&lx->word));
    buf_reset(&lx->word);
}

/* A word NAME=value (an assignment before the program). */
static int is_assignment(const char *w)
{
    const char *eq = strchr(w, '=');

    if (!eq || eq == w || !(isalpha((unsigned char)*w) || *w == '_'))
        return 0;
    for (const char *q = w; q < eq; q++)
        if (!isalnum((unsigned char)*q) && *q != '_')
            return 0;
    return 1;
}

/* Drop leading assignments and wrappers that run the real program. */
static void strip_prefix(struct shcmd *c)
{
    size_t k = 0;

    if (!c->n)
        return;
    for (;;) {
        if (k < c->n && is_assignment(c->w[k])) {
            k++;
        } else if (k < c->n &&
                   (!strcmp(c->w[k], "sudo") || !strcmp(c->w[k], "env") ||
                    !strcmp(c->w[k], "exec") || !strcmp(c->w[k], "command") ||
                    !strcmp(c->w[k], "time") || !strcmp(c->w[k], "nohup"))) {
            k++;
            while (k < c->n && c->w[k][0] == '-')
                k++;
        } else {
            break;
        }
    }
    for (size_t i = 0; i < k; i++)
        free(c->w[i]);
    memmove(c->w, c->w + k, (c->n - k) * sizeof(*c->w));
    c->n -= k;
}

static void end_cmd(struct lexer *lx, int and_next)
{
    end_word(lx);
    lx->skip_next = 0;
    strip_prefix(&lx->cur);
    if (!lx->cur.n) {
        free(lx->cur.w);
        for (size_t i = 0; i < lx->cur.nredir; i++)
            free(lx->cur.redir[i]);
        free(lx->cur.redir);
        memset(&lx->cur, 0, sizeof(lx->cur));
        lx->next_piped = 0;
        return;
    }
    lx->cur.piped = lx->next_piped;
    lx->cur.and_next = and_next;
    lx->next_piped = 0;
    XGROW(lx->s->c, lx->s->cap, lx->s->n + 1);
    lx->s->c[lx->s->n++] = lx->cur;
    memset(&lx->cur, 0, sizeof(lx->cur));
}

static void add(struct lexer *lx, char c)
{
    lx->in_word = 1;
    buf_addch(&lx->word, c);
}

/* Copy a $(...) or `...` substitution into the word as written. */
static void substitution(struct lexer *lx)
{
    if (*lx->p == '`') {
        add(lx, *lx->p++);
        while (*lx->p && *lx->p != '`')
            add(lx, *lx->p++);
        if (*lx->p)
            add(lx, *lx->p++);
        return;
    }
    int depth = 0;
    do {
        if (*lx->p == '(')
            depth++;
        else if (*lx->p == ')')
            depth--;
        add(lx, *lx->p++);
    } while (*lx->p && depth > 0);
}

static void quoted(struct lexer *lx, char q)
{
    lx->in_word = 1;
    lx->p++;
    while (*lx->p && *lx->p != q) {
        if (q == '"' && *lx->p == '\\' && lx->p[1]) {
            lx->p++;
            if (*lx->p == '\n') {
                lx->p++;
                continue;
            }
        } else if (q == '"' && *lx->p == '$' && lx->p[1] == '(') {
            substitution(lx);
            continue;
        }
        add(lx, *lx->p++);
    }
    if (*lx->p)
        lx->p++;
}

void shcmd_parse(struct shcmd_script *s, const char *text)
{
    struct lexer lx;

    memset(&lx, 0, sizeof(lx));
    lx.p = text;
    lx.s = s;
    while (*lx.p) {
        char c = *lx.p;
        if (c == '\\') {
            if (lx.p[1] == '\n' || (lx.p[1] == '\r' && lx.p[2] == '\n')) {
                lx.p += lx.p[1] == '\n' ? 2 : 3;
                continue;
            }
            if (lx.p[1])
                add(&lx, lx.p[1]), lx.p += 2;
            else
                lx.p++;
        } else if (c == '\'' || c == '"') {
            quoted(&lx, c);
        } else if (c == '$' && lx.p[1] == '(') {
            substitution(&lx);
        } else if (c == '`') {
            substitution(&lx);
        } else if (c == '#' && !lx.in_word) {
            while (*lx.p && *lx.p != '\n')
                lx.p++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            end_word(&lx);
            lx.p++;
        } else if (c == '>' || c == '<') {
            /* 2>&1, >/dev/null, < file: drop the operator and target */
            int dup = 0;
            if (lx.in_word && isdigit((unsigned char)lx.word.ptr[0]) &&
                lx.word.len == 1) {
                buf_reset(&lx.word);
                lx.in_word = 0;
            }
            end_word(&lx);
            while (*lx.p == '>' || *lx.p == '<' || *lx.p == '|')
                lx.p++;
            if (*lx.p == '&') {
                dup = 1;
                lx.p++;
            }
            while (*lx.p == ' ' || *lx.p == '\t')
                lx.p++;
            if (dup) {
                while (*lx.p && !isspace((unsigned char)*lx.p) &&
                       !strchr(";&|()", *lx.p))
                    lx.p++;
            } else {
                lx.skip_next = 1;
            }
        } else if (c == '|' || c == '&' || c == ';' || c == '\n' || c == '(' ||
                   c == ')') {
            int pipe = c == '|' && lx.p[1] != '|';
            end_cmd(&lx, c == '&' && lx.p[1] == '&');
            lx.p += (c == '|' || c == '&') && lx.p[1] == c ? 2 : 1;
            lx.next_piped = pipe;
        } else {
            add(&lx, c);
            lx.p++;
        }
    }
    end_cmd(&lx, 0);
    free(lx.cur.w);
    free(lx.cur.redir);
    buf_release(&lx.word);
}

void shcmd_add_argv(struct shcmd_script *s, char *const *argv, size_t n)
{
    struct shcmd c;

    memset(&c, 0, sizeof(c));
    for (size_t i = 0; i < n; i++) {
        XGROW(c.w, c.cap, c.n + 1);
        c.w[c.n++] = xstrdup(argv[i]);
    }
    strip_prefix(&c);
    if (!c.n) {
        free(c.w);
        return;
    }
    XGROW(s->c, s->cap, s->n + 1);
    s->c[s->n++] = c;
}

void shcmd_script_release(struct shcmd_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->c[i].n; j++)
            free(s->c[i].w[j]);
        free(s->c[i].w);
        for (size_t j = 0; j < s->c[i].nredir; j++)
            free(s->c[i].redir[j]);
        free(s->c[i].redir);
    }
    free(s->c);
    memset(s, 0, sizeof(*s));
}

const char *shcmd_prog(const struct shcmd *c)
{
    const char *slash;

    if (!c->n)
        return "";
    slash = strrchr(c->w[0], '/');
    return slash ? slash + 1 : c->w[0];
}

size_t shcmd_next_arg(const struct shcmd *c, size_t from)
{
    while (from < c->n && c->w[from][0] == '-')
        from++;
    return from;
}

int shcmd_has_word(const struct shcmd *c, size_t from, const char *const *names)
{
    for (size_t i = from; i < c->n; i++)
        for (size_t k = 0; names[k]; k++)
            if (!strcmp(c->w[i], names[k]))
                return 1;
    return 0;
}

int shcmd_is_and_chain(const struct shcmd_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->c[i].piped)
            return 0;
        if (i + 1 < s->n && !s->c[i].and_next)
            return 0;
    }
    return 1;
}

static int plain_char(char c)
{
    return isalnum((unsigned char)c) || strchr("_./:=@%+,-${}", c);
}

void shcmd_format(struct buf *b, const struct shcmd *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *w = c->w[i];
        int plain = *w != 0;
        if (i)
            buf_addch(b, ' ');
        for (const char *q = w; *q && plain; q++)
            plain = plain_char(*q);
        if (plain) {
            buf_adds(b, w);
            continue;
        }
        buf_addch(b, '\'');
        for (const char *q = w; *q; q++) {
            if (*q == '\'')
                buf_adds(b, "'\\''");
            else
                buf_addch(b, *q);
        }
        buf_addch(b, '\'');
    }
}
