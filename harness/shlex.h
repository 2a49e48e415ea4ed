/*
 * shlex.h - the word lexer BuildKit applies to Dockerfile arguments
 * (frontend/dockerfile/shell/lex.go): quotes, the escape character and
 * variable substitution ($V ${V} ${V:-x} ${V:+x} ${V-x} ${V+x} ${V?x}
 * ${V:?x}, and the trimming and replacement forms ${V#p} ${V##p} ${V%p}
 * ${V%%p} ${V/p/r} ${V//p/r} of Dockerfile frontend 1.7: in p, '*' and '?'
 * are wildcards that never match a newline and a backslash escapes '*',
 * '?', '\', '}' or '/'; '#' and '%' inside ${V/p/r} are literal).  No
 * command substitution, globbing or arithmetic.
 *
 * The environment is a flat list of name=value pairs (names compared
 * case-sensitively); a name absent from it is unset.
 *
 * Ownership: results are heap strings the caller frees (free(), and
 * shlex_words_free() for a word list).
 */
#ifndef HARNESS_SHLEX_H
#define HARNESS_SHLEX_H

#include <stddef.h>

struct shlex_var {
    const char *name;
    const char *value;
};

struct shlex {
    char escape;              /* '\\' or '`' */
    int raw_quotes;           /* keep quote characters in the output */
    int raw_escapes;          /* keep escape characters in the output */
    int skip_unset;           /* leave unset variables as written */
    const struct shlex_var *env;
    size_t nenv;
};

/*
 * ProcessWord: the whole input as one string, quotes removed and variables
 * substituted.  Returns 0, or -1 with a message in errmsg (size errlen) for
 * an unmatched quote or a bad substitution.  *out is set only on success.
 */
int shlex_word(char **out, const struct shlex *lx, const char *in,
               char *errmsg, size_t errlen);

/*
 * ProcessWords: the input split into words on unquoted white space (words
 * produced by an unquoted substitution are split too; empty words dropped).
 */
int shlex_words(char ***out, size_t *nout, const struct shlex *lx,
                const char *in, char *errmsg, size_t errlen);

void shlex_words_free(char **w, size_t n);

#endif
