/*
 * record.h - JSON files read by harness; the only module that includes
 * <jansson.h>.
 *
 * A scenario file describes a replay, and the report made from it, so
 * that both can be rerun by name (`harness run FILE`, or `harness replay
 * --scenario FILE` for the replay alone), for nightly jobs and the demo:
 *
 *   {
 *     "name": "api",                  a label (default: the repo folder)
 *     "repo": "repo",                 folder, relative to the scenario file
 *     "synth": {"template": "python", "commits": 200, "files": 150,
 *               "seed": 42},          generate "repo" first if it is missing
 *     "range": "HEAD", "first_parent": true,
 *     "dockerfile": "Dockerfile", "context": "", "target": "app",
 *     "build_args": {"K": "V"}, "bases": {"python:3.12": "sha256:..."},
 *     "strategies": ["local", "inline"] (or "all"),
 *     "engine": "buildkit", "runners": 4, "assign": "random", "seed": 1,
 *     "cache_limit": "20GB", "keep_tags": 10, "reproducible": false,
 *     "no_git_dir": false, "db": "harness.db",
 *     "model": "model.json", "timings": ["build.log"],
 *     "layers": ["history.jsonl"], "manifest": ["manifest.json"],
 *     "cores": 4,                     model and calibration (replay --model,
 *                                     --timings, --layers, --manifest, --cores;
 *                                     a calibration key takes a path or a list)
 *     "pricing": "github-actions", "builds_per_month": 600,
 *     "report": {"format": "html", "out": "../reports/demo"}
 *   }
 *
 * A fleet lists its repositories instead of one "repo":
 *
 *   { "strategies": "all", "report": {...},
 *     "repositories": [ {"name": "api", "repo": "api", "db": "api.db"},
 *                       {"name": "web", "repo": "web", "runners": 4} ] }
 *
 * Each entry takes the replay keys it does not set ("range" to
 * "no_git_dir", the model's keys) from the top level; "repo", "synth" and "db" are its own
 * (the database defaults to NAME.db beside the scenario), and "pricing",
 * "builds_per_month" and "report" belong to the top level only.
 *
 * Every key is optional; an unknown key, a value of the wrong type, a
 * report format other than html, md, csv or json, or two repositories with
 * the same name or database is an error naming the file and the line of
 * the key.  Values that other modules judge (strategy names, sizes, synth
 * templates) are checked by cli_scenario_check() with the same lines.
 * Options given on the command line win over the file.
 *
 * Ownership: scenario_load() fills a caller's struct scenario whose strings
 * (and repositories) it owns; scenario_release() frees them.
 */
#ifndef HARNESS_RECORD_H
#define HARNESS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buildlog.h"
#include "err.h"
#include "model.h"

/* Where a key was in the file: "strategies", "synth.commits". */
struct scenario_key {
    char *key;
    int line;
};

struct scenario {
    char *path; /* the file, for messages */
    char *dir;  /* folder of the file: relative paths are resolved here */
    char *name; /* "name"; for a repository without one, its folder name */
    char *repo, *range, *dockerfile, *context, *target, *engine, *assign;
    char *cache_limit, *db, *strategies; /* strategies: "a,b" or "all" */
    char **build_args;                   /* "K=V" */
    size_t nbuild_args;
    char **bases; /* "IMAGE=DIGEST" */
    size_t nbases;
    long runners, seed, keep_tags, cores;       /* -1: not given */
    /* the build-time model: a model file and calibration files (paths as
     * the file spells them, relative to it) */
    char *model;
    char **timings, **layers, **manifests;
    size_t ntimings, nlayers, nmanifests;
    int first_parent, reproducible, no_git_dir; /* -1: not given */
    /* "synth": generate the repository if missing */
    int has_synth;
    char *synth_template;
    long synth_commits, synth_files, synth_seed; /* -1: not given */
    /* the report (top level only) */
    char *pricing, *report_format, *report_out;
    long builds_per_month; /* -1: not given */
    /* "repositories": each a whole scenario with the top level's replay
     * keys filled in (its path and dir are the file's) */
    struct scenario *repos;
    size_t nrepos;
    int has_repos;
    /* the line of each key given (or inherited), and of this object */
    struct scenario_key *keys;
    size_t nkeys;
    int line;
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

/* The line of key ("strategies", "synth.template") in s, else the line
 * where s's object starts. */
int scenario_line(const struct scenario *s, const char *key);

/* ---- the build-time model's files (record_model.c) ---- */

/*
 * A model file (scenarios/model/<profile>.json): "profile" names the
 * built-in profile it starts from; "legacy", "buildkit" (fixed costs) and
 * "parameters" (transfers, steps) hold {"value": N, "source": "..."} per
 * field, "run_families" and "bases" replace those tables.  Every value
 * needs its source (or "estimate").  m is replaced only on success (its
 * calib pointer is kept).  ERR_PARSE "FILE:LINE: ...".
 */
int record_model_parse(struct model *m, const char *path, const char *text,
                       size_t len, struct err *err);

/*
 * `docker history --no-trunc --format '{{json .}}'` output: one JSON
 * object per line, newest layer first (CreatedBy, Size as "1.07MB" or a
 * number with --human=false, Comment, ID).  ERR_PARSE "FILE:LINE: ...".
 * Free with buildlog_history_free().
 */
int record_history_parse(struct buildlog_history **out, const char *path,
                         const char *text, size_t len, struct err *err);

/* An image manifest (schema 2 or OCI): compressed layer sizes in order. */
struct record_manifest {
    int64_t *layers;
    size_t nlayers;
    int64_t config_bytes;
    int64_t bytes; /* the manifest itself */
};

int record_manifest_parse(struct record_manifest *out, const char *path,
                          const char *text, size_t len, struct err *err);
void record_manifest_release(struct record_manifest *m);

/*
 * A BuildKit `--progress=rawjson` log (one SolveStatus object per line)
 * rewritten as `--progress=plain` lines ("#N name", "#N DONE 1.200s",
 * "#N CACHED", "#N ERROR: failed"), one vertex per digest in order of
 * appearance, for buildlog_parse().  *out is the caller's.  ERR_PARSE.
 */
int record_rawjson_to_plain(char **out, size_t *outlen, const char *path,
                            const char *text, size_t len, struct err *err);

/* RFC 3339 time in seconds since the epoch; 0, or -1 if malformed. */
int record_time_parse(const char *s, double *out);

#endif
