/*
 * shcmd.h - the simple commands of a RUN script, as far as a linter needs
 * them: words with quotes removed, split at `&&`, `||`, `;`, `&`, `|`,
 * newlines and parentheses, with redirections (their targets kept apart
 * in `redir`), comments and leading
 * `NAME=value` assignments, `sudo`, `env` and `exec` dropped.  Command
 * substitutions `$(...)` and backquotes stay inside their word, as
 * written.  It is not a shell: no expansion, no functions, no control
 * flow; `if`, `then`, `do`... start a command like any word.
 *
 * Ownership: shcmd_parse() fills a caller's struct shcmd_script;
 * shcmd_script_release() frees it.
 */
#ifndef HARNESS_SHCMD_H
#define HARNESS_SHCMD_H

#include <stddef.h>

#include "buf.h"

struct shcmd {
    char **w; /* words; w[0] is the program */
    size_t n, cap;
    char **redir; /* targets of its redirections (`> out`, `2>> log`,
                     `< in`), as written */
    size_t nredir, redircap;
    int piped;    /* its input is the previous command's output (`a | b`) */
    int and_next; /* `&&` follows it */
};

struct shcmd_script {
    struct shcmd *c;
    size_t n, cap;
};

/* Split text (NUL-terminated) into commands; appends to *s.  Never fails:
 * an unterminated quote ends at the end of the text. */
void shcmd_parse(struct shcmd_script *s, const char *text);

/* Append one command made of the given words (an exec-form RUN). */
void shcmd_add_argv(struct shcmd_script *s, char *const *argv, size_t n);

void shcmd_script_release(struct shcmd_script *s);

/* 1 if the commands of s are one `a && b && c` chain (no pipe, `||`,
 * `;`, `&` or newline between them). */
int shcmd_is_and_chain(const struct shcmd_script *s);

/* Append the words of c to b as shell text, quoting words that need it. */
void shcmd_format(struct buf *b, const struct shcmd *c);

/* The program's base name ("/usr/bin/pip3" -> "pip3"). */
const char *shcmd_prog(const struct shcmd *c);

/* The index of the first word at or after `from` that does not start with
 * '-', or c->n. */
size_t shcmd_next_arg(const struct shcmd *c, size_t from);

/* 1 if some word of c from index `from` on equals one of the
 * NULL-terminated names. */
int shcmd_has_word(const struct shcmd *c, size_t from,
                   const char *const *names);

#endif
