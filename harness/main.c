/*
 * main.c - global options, the command table, exit.  Nothing else.
 */
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "cmd.h"
#include "err.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("harness %s\n", HARNESS_VERSION);
    return EXIT_OK;
}

static const struct cmd_spec commands[] = {
    /* one line per command, kept in the order of `harness --help` */
    { "parse", cmd_parse, "parse a Dockerfile and print its instructions" },
    { "keys", cmd_keys, "print the cache key of every step of a commit" },
    { "explain", cmd_explain, "say why each step of NEW hits or misses after OLD" },
    { "replay", cmd_replay, "simulate a commit range under caching strategies" },
    { "run", cmd_run, "run a scenario file: replay its repositories, then report" },
    { "model", cmd_model, "print each step's predicted seconds and bytes and their source" },
    { "verify", cmd_verify, "build sampled commits for real and compare with the simulation" },
    { "report", cmd_report, "price each strategy of a replay: JSON, Markdown, CSV or HTML with charts" },
    { "lint", cmd_lint, "report cache hazards in Dockerfiles, with the fix" },
    { "staleness", cmd_staleness, "how long each strategy reuses cached network fetches" },
    { "doctor", cmd_doctor, "say which --cache-from setups hit from an existing image" },
    { "whatif", cmd_whatif, "replay a history with a Dockerfile fix and compare the cost" },
    { "synth", cmd_synth, "write a generated git history for tests and demos" },
    { "version", cmd_version, "print the version" },
};

static void usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "usage: harness [--version] [--help] <command> [<args>]\n\n"
                "commands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\nsee 'harness <command> --help' and man harness(1)\n");
}

/*
 * Hash tables double as a replay grows (registries, memos, the store's
 * shared lists): by default glibc gives each large table its own mapping
 * and unmaps it when freed, so every doubling faults in fresh zeroed
 * pages, which on these VMs cost more than the copying.  Keeping freed
 * memory in the heap lets the next table reuse it (5% of a replay).
 */
static void tune_malloc(void)
{
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int main(int argc, char **argv)
{
    size_t i;

    tune_malloc();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("harness %s\n", HARNESS_VERSION);
        return EXIT_OK;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "harness: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "see 'harness --help'\n");
    return EXIT_USAGE;
}
