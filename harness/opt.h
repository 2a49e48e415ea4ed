/*
 * opt.h - a table-driven long-option parser that also writes --help.
 *
 * Each command declares `const struct opt opts[]` ending with OPT_END_ENTRY
 * and a synopsis string.  opt_parse() fills the values the entries point
 * at, collects positional arguments, and handles --help itself (it prints
 * the help on stdout and returns OPT_HELP, so the command returns 0).
 *
 * Forms accepted: --name VALUE, --name=VALUE, -x VALUE, and "--" to end
 * options.  OPT_LIST entries may repeat; their values are appended to a
 * struct opt_list.
 */
#ifndef HARNESS_OPT_H
#define HARNESS_OPT_H

#include <stddef.h>

#include "err.h"

enum opt_type {
    OPT_END = 0,
    OPT_BOOL,   /* int *: set to 1 */
    OPT_STRING, /* const char **: last one wins */
    OPT_INT,    /* long *: decimal, checked */
    OPT_LIST,   /* struct opt_list *: repeatable */
};

struct opt_list {
    const char **items;
    size_t n;
    size_t cap;
};

struct opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 for none */
    enum opt_type type;
    void *value;
    const char *arg_name; /* e.g. "FILE"; NULL for OPT_BOOL */
    const char *help;
};

#define OPT_END_ENTRY {NULL, 0, OPT_END, NULL, NULL, NULL}

struct opt_cmd {
    const char *name;     /* "keys" */
    const char *synopsis; /* after "harness keys " */
    const char *summary;  /* one line */
    const struct opt *opts;
    int min_args; /* positional arguments */
    int max_args; /* -1: unlimited */
};

enum { OPT_HELP = 1 };

/*
 * Parse argv[1..argc-1] (argv[0] is the command name).  Positional arguments
 * are stored in *args (argv pointers, caller frees the array only) and
 * *nargs.  Returns 0, OPT_HELP after printing help, or ERR_USAGE with err
 * set (the caller prints it and the usage line).
 */
int opt_parse(const struct opt_cmd *cmd, int argc, char **argv, char ***args,
              int *nargs, struct err *err);

void opt_print_help(const struct opt_cmd *cmd);
/* "usage: harness NAME SYNOPSIS" and the --help pointer, on stderr. */
void opt_print_usage(const struct opt_cmd *cmd);

void opt_list_release(struct opt_list *l);

/*
 * Convenience for commands: run opt_parse, print errors, and turn the result
 * into an exit status.  Returns -1 to continue, or the exit code to return.
 */
int opt_run(const struct opt_cmd *cmd, int argc, char **argv, char ***args,
            int *nargs);

#endif
