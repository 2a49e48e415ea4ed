/*
 * proc.h - run an external program (git, docker) and wait for it, with its
 * output in a file and a time limit.  posix_spawnp only: no shell, so no
 * quoting problems and nothing is interpreted.
 *
 * The child runs in a process group of its own; on timeout the whole group
 * gets SIGTERM, then SIGKILL 5 seconds later, so helpers it started (the
 * docker client's plugins, git's subprocesses) go too.
 *
 * Ownership: every pointer in struct proc_options is borrowed for the call.
 */
#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H

#include "buf.h"
#include "err.h"

struct proc_options {
    const char *cwd;        /* NULL: the current folder */
    const char *const *env; /* NULL-terminated: "K=V" sets, "K" unsets */
    const char *out_path;   /* stdout+stderr (created/truncated); NULL:
                               /dev/null */
    int append;             /* append to out_path instead of truncating */
    double timeout;         /* seconds; <= 0: none */
};

struct proc_result {
    int exit_code;  /* 0..255 if it exited, else -1 */
    int signal;     /* the signal that ended it, 0 if none */
    int timed_out;  /* it was killed after the timeout */
    double seconds; /* wall time */
};

/*
 * Run argv (argv[0] looked up in PATH when it has no '/') and wait.
 * Returns 0 when the program ran, whatever its exit status (read it in
 * *out).  Errors: ERR_NOTFOUND "cannot run 'PROG': No such file or
 * directory", ERR_IO (output file, spawn, wait).  o may be NULL.
 */
int proc_run(const char *const argv[], const struct proc_options *o,
             struct proc_result *out, struct err *err);

/*
 * The same, with the output appended to *text instead of a file (through a
 * temporary file; at most 1 MiB is kept).  o->out_path is ignored.
 */
int proc_capture(const char *const argv[], const struct proc_options *o,
                 struct buf *text, struct proc_result *out, struct err *err);

/* 1 if the run exited with status 0. */
int proc_ok(const struct proc_result *r);

#endif
