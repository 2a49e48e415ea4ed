/*
 * cmd.h - the subcommands.  Each lives in cmd_<name>.c with the same shape:
 * option table -> parse -> validate -> call modules -> print -> exit code.
 * To add a command: write cmd_<name>.c, declare it here, add one line to
 * commands[] in main.c, document it in doc/harness.1.md.
 */
#ifndef HARNESS_CMD_H
#define HARNESS_CMD_H

#include <stdint.h>

#define HARNESS_VERSION "0.1.0"

struct cmd_spec {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

int cmd_parse(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_staleness(int argc, char **argv);
int cmd_whatif(int argc, char **argv);

/* Replay one repository of a checked scenario (record.h), as `harness
 * replay --scenario` would, with one line of news on stderr instead of
 * the summary; quiet: 0 progress line and news, 1 news only, 2 nothing.
 * *run_id (may be NULL) gets the
 * run's id.  Returns an exit code. */
struct scenario;
int cmd_replay_scenario(const struct scenario *sc, int quiet,
                        int64_t *run_id);
int cmd_model(int argc, char **argv);

#endif
