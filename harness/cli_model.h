/*
 * cli_model.h - the build-time model options shared by replay, verify and
 * model: the engine profile's values, a model file, the runner's cores,
 * the destination registry, and calibration files.
 *
 * Calibration files are matched against the Dockerfile of a reference
 * commit (the first commit of the range for replay and verify, --rev for
 * model): the build that produced the logs, history and manifest.
 *
 * Logs whose lines carry CI timestamps also give that build's wall time.
 * The model then predicts the same cold build (facts_cold_seconds) and
 * splits its prediction into what the logs measured (C) and what comes
 * from the profile (U, linear in model_scale()'s factor): the machine
 * factor s = sum(wall - C) / sum(U) over the timed logs makes the model
 * reproduce those first builds, and scales every machine-bound cost the
 * logs could not measure (cache lookups, fixed costs, overheads of steps
 * whose text changed later).
 *
 * Ownership: cli_model_release() frees what cli_model_resolve() made; the
 * resolved sim_config's model borrows c->calib until then.
 */
#ifndef HARNESS_CLI_MODEL_H
#define HARNESS_CLI_MODEL_H

#include <stddef.h>

#include "buf.h"
#include "model.h"
#include "opt.h"
#include "plan.h"
#include "repo.h"
#include "strategy.h"

struct cli_model {
    const char *model_file;
    struct opt_list timings;
    struct opt_list layers;
    struct opt_list manifests;
    long cores; /* -1: the profile's */
    const char *registry;
    /* filled by cli_model_resolve() */
    struct model_calib calib;
    size_t measured; /* calibration measurements read */
    size_t steps;    /* executed-kind steps of the reference build */
    size_t calibrated; /* of which took a calibrated figure */
    double scale;      /* machine factor from the logs' wall times; 0:
                          none measured */
};

/* The calibration options alone (verify has its own --registry). */
#define CLI_MODEL_CALIB_OPTS(c)                                                \
    { "model", 0, OPT_STRING, &(c).model_file, "FILE",                         \
      "model parameters (scenarios/model/*.json; default: the engine's)" },    \
    { "timings", 0, OPT_LIST, &(c).timings, "FILE",                            \
      "calibrate from a build log: BuildKit plain or rawjson, legacy "         \
      "(repeatable)" },                                                        \
    { "layers", 0, OPT_LIST, &(c).layers, "FILE",                              \
      "calibrate layer sizes from docker history --format '{{json .}}'" },     \
    { "manifest", 0, OPT_LIST, &(c).manifests, "FILE",                         \
      "calibrate compressed sizes from an image manifest (repeatable)" },      \
    { "cores", 0, OPT_INT, &(c).cores, "N",                                    \
      "the runner's cores for BuildKit's parallel stages (default: 2)" }

#define CLI_MODEL_OPTS(c)                                                      \
    CLI_MODEL_CALIB_OPTS(c),                                                   \
    { "registry", 0, OPT_STRING, &(c).registry, "HOST",                        \
      "registry the images are pushed to: same-host bases are mounted" }

void cli_model_init(struct cli_model *c);
void cli_model_release(struct cli_model *c);

/*
 * Put the options into cfg: the profile of cfg->engine, the model file,
 * --cores, --registry; then read the calibration files against the
 * Dockerfile of commit ref (r and po as for plan_make) and point
 * cfg->model.calib at c->calib.  Errors: ERR_USAGE (bad --cores), ERR_IO,
 * ERR_PARSE (a malformed file: "FILE:LINE: ..."), ERR_GIT.
 */
int cli_model_resolve(struct cli_model *c, struct sim_config *cfg,
                      struct repo *r, const struct plan_options *po,
                      const struct oid *ref, struct err *err);

/* cli_model_resolve() for a replay: into o->cfg, the reference being the
 * first commit of o's range. */
struct replay_options;
int cli_model_setup(struct cli_model *c, struct replay_options *o,
                    struct repo *r, struct err *err);

/* Read a model file as a replay will (before anything runs).  ERR_IO,
 * ERR_PARSE "FILE:LINE: ...". */
int cli_model_check_file(const char *path, struct err *err);

/* Append the options to a run's options JSON object (nothing when none is
 * given, so that older runs resume). */
void cli_model_json(struct buf *j, const struct cli_model *c);

/* "calibrated 5 of 6 steps (12 measurements)" or "" without files. */
void cli_model_note(const struct cli_model *c, char *out, size_t size);

#endif
