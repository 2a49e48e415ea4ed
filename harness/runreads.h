/*
 * runreads.h - which files a RUN's output depends on (doc/cache-rules.md,
 * section 8).
 *
 * A RUN that runs again does not always write new bytes: `sha256sum a.txt
 * > /out/sum` after a change to b.txt writes the same /out/sum, and a
 * later `COPY --from` of it hits in both builders, which key it by
 * content.  This module reads a RUN's script and says which files its
 * output depends on, with the rule that decided:
 *
 *   - named paths: the file arguments of programs whose output is a
 *     function of the files they name (cat, sha256sum, head, sort, cp,
 *     find, chmod, ...), relative to the working directory (`cd` in the
 *     script moves it); globs stay globs;
 *   - toolchains: `go build`/`go install`/`go vet` read the whole top
 *     folder of the working directory (the module and its neighbours) and
 *     the environment; `go mod download` reads go.mod, go.sum and
 *     go.work;
 *   - programs that write nothing from files (echo, mkdir, rm, ln, ...)
 *     read nothing;
 *   - anything else is conservative: an unknown program, a script run by
 *     a shell or interpreter, a variable or command substitution, an input
 *     redirection, a subshell, a heredoc, `tar` creating an archive (it
 *     stores modification times), `ls -l`, `find -exec`, `xargs`.  The
 *     output is then new whenever the step runs again.
 *
 * The result is an over-approximation of what the script reads: a word
 * that is an option's value is taken as a path too.  It also says where a
 * known RUN writes: the paths its programs name and its redirections, or
 * anywhere for go and tar -x (conservative RUNs write anywhere), so that a
 * COPY --from of one output does not see another RUN's.  Besides the named
 * files, every known RUN also depends on its tools: the base image, the
 * outputs of earlier RUN steps and files copied into system folders
 * (keys.c).
 *
 * Ownership: run_reads_analyze() fills a caller's struct;
 * run_reads_release() frees what it holds.
 */
#ifndef HARNESS_RUNREADS_H
#define HARNESS_RUNREADS_H

#include <stddef.h>

#include "buf.h"

struct rr_read {
    char *path;     /* absolute, cleaned; may hold glob characters */
    char *by;       /* the program (or rule) that reads it */
    int meta;       /* names and modes matter, not only the bytes */
};

struct run_reads {
    int known;      /* 1: the reads below are all; 0: conservative */
    char why[160];  /* conservative: the reason, e.g. "xargs is not a known
                       command" */
    int env;        /* the output depends on the environment variables */
    struct rr_read *r;
    size_t n, cap;
    /* Where a known RUN writes: the paths its programs name (an
     * over-approximation: a source counts too) and its redirections'
     * targets; write_all when a program may write anywhere (go, tar -x). */
    char **w;
    size_t nw, wcap;
    int write_all;
};

/*
 * Analyze a RUN: `text` is the shell form's script (NULL for the exec
 * form, whose words are argv[0..argc)); cwd is the working directory
 * (NULL: "/"); heredocs > 0 makes it conservative.  Never fails.
 */
void run_reads_analyze(struct run_reads *out, const char *text,
                       char *const *argv, size_t argc, const char *cwd,
                       size_t heredocs);

void run_reads_release(struct run_reads *rr);

/* "depends on: /src/a.txt (named by sha256sum), ..." or "is conservative:
 * REASON, so it is new whenever the step runs again" (after "RUN output"). */
void run_reads_describe(struct buf *b, const struct run_reads *rr);

/* 1 if paths a and b (absolute, cleaned) overlap: equal, or one is a
 * folder holding the other.  A glob component overlaps anything at its
 * place. */
int rr_paths_overlap(const char *a, const char *b);

/* 1 if a COPY to `dest` puts files where tools live (/bin, /usr except
 * /usr/src, /etc, /opt, /root, /home, /go, /lib...): such files count as
 * the RUN's tools, not as data it may leave unread. */
int rr_system_path(const char *dest);

#endif
