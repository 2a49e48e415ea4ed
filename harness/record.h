/*
 * record.h - JSON files read by harness; the only module that includes
 * <jansson.h>.
 *
 * A scenario file describes a replay so that it can be rerun by name
 * (`harness replay --scenario FILE`), for nightly jobs and the demo:
 *
 *   {
 *     "repo": "repo",                 folder, relative to the scenario file
 *     "synth": {"template": "python", "commits": 200, "files": 150,
 *               "seed": 42},          generate "repo" first if it is missing
 *     "range": "HEAD", "first_parent": true,
 *     "dockerfile": "Dockerfile", "context": "", "target": "app",
 *     "build_args": {"K": "V"}, "bases": {"python:3.12": "sha256:..."},
 *     "strategies": ["local", "inline"] (or "all"),
 *     "engine": "buildkit", "runners": 4, "assign": "random", "seed": 1,
 *     "cache_limit": "20GB", "keep_tags": 10, "reproducible": false,
 *     "no_git_dir": false, "db": "harness.db"
 *   }
 *
 * Every key is optional; an unknown key or a value of the wrong type is an
 * error naming the file and the line of the key.  Options given on the
 * command line win over the file.
 *
 * Ownership: scenario_load() fills a caller's struct scenario whose strings
 * it owns; scenario_release() frees them.
 */
#ifndef HARNESS_RECORD_H
#define HARNESS_RECORD_H

#include <stddef.h>

#include "err.h"

struct scenario {
    char *dir; /* folder of the file: relative paths are resolved here */
    char *repo, *range, *dockerfile, *context, *target, *engine, *assign;
    char *cache_limit, *db, *strategies; /* strategies: "a,b" or "all" */
    char **build_args; /* "K=V" */
    size_t nbuild_args;
    char **bases; /* "IMAGE=DIGEST" */
    size_t nbases;
    long runners, seed, keep_tags; /* -1: not given */
    int first_parent, reproducible, no_git_dir; /* -1: not given */
    /* "synth": generate the repository if missing */
    int has_synth;
    char *synth_template;
    long synth_commits, synth_files, synth_seed; /* -1: not given */
};

/* Read and check a scenario file.  ERR_PARSE "FILE:LINE: ..." for bad
 * JSON, unknown keys and wrong types; ERR_IO if it cannot be read. */
int scenario_load(struct scenario *out, const char *path, struct err *err);
/* Same from memory (path is used in messages only; dir is "."). */
int scenario_parse(struct scenario *out, const char *path, const char *text,
                   size_t len, struct err *err);
void scenario_release(struct scenario *s);

/* The path p resolved against the scenario's folder (caller frees). */
char *scenario_path(const struct scenario *s, const char *p);

#endif
