/*
 * buildlog.h - what a real `docker build` printed, as per-step records.
 *
 * Two formats are read, and told apart by their first recognised line:
 *
 *  - BuildKit `--progress=plain`: blocks of "#N NAME" followed by status
 *    lines of the same vertex ("#N DONE 1.2s", "#N CACHED", "#N ERROR: ..",
 *    "#N CANCELED", blob progress "#N sha256:.. 1.07MB / 1.07MB 0.3s done",
 *    cache pulls "#N pulling sha256:.. 0.1s done").  A vertex named
 *    "[stage k/n] INSTR" or "[k/n] INSTR" is a Dockerfile step; every other
 *    vertex ("[internal] load ..", "importing cache manifest from ..",
 *    "exporting to image", ...) is kept apart in buildlog.vertices.  A step
 *    is a hit when its last status is CACHED, a miss when DONE or ERROR;
 *    a step that never got a status (the log was cut) is left out.
 *  - The legacy builder: "Step i/n : INSTR", then " ---> Using cache" on
 *    a hit.  There are no timings.  When the log lacks "Successfully
 *    built", its last step is the one that failed (error set).
 *
 * FROM steps are recorded with outcome BUILDLOG_NONE: what they print is a
 * pull, not a cache decision.
 *
 * Lines are not tied to the Dockerfile until buildlog_match(), which fills
 * each step's 1-based line and stage: legacy step i is the i-th instruction
 * of the file (global ARGs first, as the legacy builder counts them);
 * BuildKit step k/n of a stage is the k-th vertex-making instruction of that
 * stage (FROM, RUN, COPY, ADD, WORKDIR), checked by keyword, else the first
 * unused instruction of the stage with the same text (ci/real-build's rule).
 *
 * `docker history --no-trunc` output is read by buildlog_history_parse()
 * (created-by text, size, comment of each layer), for calibration.
 *
 * Errors: malformed input gives ERR_PARSE with "PATH:LINE: what is wrong";
 * the parsers never abort on any input.
 *
 * Ownership: buildlog_parse() returns a struct buildlog that owns every
 * string in it; free it with buildlog_free().  Same for the history.
 */
#ifndef HARNESS_BUILDLOG_H
#define HARNESS_BUILDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "dockerfile.h"
#include "err.h"

enum buildlog_format {
    BUILDLOG_BUILDKIT,
    BUILDLOG_LEGACY,
};

enum buildlog_outcome {
    BUILDLOG_HIT,  /* CACHED / "Using cache" */
    BUILDLOG_MISS, /* DONE, ERROR, CANCELED / no "Using cache" */
    BUILDLOG_NONE, /* FROM: no cache decision */
};

/* "buildkit" / "legacy". */
const char *buildlog_format_name(enum buildlog_format f);
/* "hit" / "miss" / "none". */
const char *buildlog_outcome_name(enum buildlog_outcome o);

struct buildlog_step {
    int vertex;       /* BuildKit #N; legacy step number i */
    int log_line;     /* 1-based line of the log that first names the step */
    char *label;      /* BuildKit stage label ("builder", "stage-2"); or NULL */
    int index;        /* k of [k/n] or i of Step i/n (1-based) */
    int total;        /* n */
    char *text;       /* "RUN make -j2" as printed, blanks collapsed */
    char keyword[16]; /* "RUN" (capitals, first word of text) */
    enum buildlog_outcome outcome;
    int error;      /* the step failed (ERROR, CANCELED, legacy failure) */
    double seconds; /* BuildKit DONE/ERROR time; -1 when not printed */
    /* filled by buildlog_match() */
    int line;  /* 1-based Dockerfile line; 0 if it matched none */
    int stage; /* 0-based stage; -1 if unknown (or a global ARG) */
};

/* A BuildKit vertex that is not a Dockerfile step. */
struct buildlog_vertex {
    int vertex;
    int log_line;
    char *name; /* "[internal] load build context", "exporting to image" */
    int cached;
    int done;
    int error;
    double seconds; /* -1 when not printed */
};

/* A blob BuildKit fetched while running a vertex. */
struct buildlog_blob {
    int vertex;
    char digest[7 + 64 + 1]; /* "sha256:<hex>" */
    int64_t bytes;           /* total size as printed (rounded); -1 unknown */
    double seconds;          /* -1 when not printed */
    int done;
    int cache; /* "pulling sha256:.." (a layer of an imported cache) */
};

struct buildlog {
    enum buildlog_format format;
    struct buildlog_step *steps; /* in the order the log first names them */
    size_t nsteps;
    struct buildlog_vertex *vertices; /* BuildKit only */
    size_t nvertices;
    struct buildlog_blob *blobs; /* BuildKit only; one per vertex+digest */
    size_t nblobs;
    int complete; /* BuildKit: every vertex got a final status and none
                     failed; legacy: "Successfully built" */
};

/*
 * Parse len bytes of text (need not be NUL-terminated; NUL bytes are
 * treated as ordinary characters).  path names the log in messages.
 * Errors (ERR_PARSE, *out NULL):
 *   "PATH: not a docker build log (no '#N' or 'Step i/n' line)"
 *   "PATH:LINE: malformed vertex line '...'"      "#12x ..."
 *   "PATH:LINE: step k/n out of range '...'"
 *   "PATH:LINE: status of vertex #N before its name"
 *   "PATH:LINE: malformed time '...'"              "#3 DONE 1.x"
 *   "PATH:LINE: vertex #N renamed '...'"
 *   "PATH:LINE: step i/n out of order '...'"      legacy
 */
int buildlog_parse(struct buildlog **out, const char *path, const char *text,
                   size_t len, struct err *err);

void buildlog_free(struct buildlog *log);

/*
 * Fill line and stage of every step from the parsed Dockerfile the build
 * used (see the file comment for the rules).  Steps that match nothing keep
 * line 0.  Returns the number of steps matched (never fails).
 */
size_t buildlog_match(struct buildlog *log, const struct df_file *df);

/* One row of `docker history --no-trunc`, newest layer first. */
struct buildlog_history_row {
    char *image;      /* "sha256:..." or "<missing>" */
    char *created_by; /* "RUN |1 A=1 /bin/sh -c make # buildkit", may be "" */
    int64_t size;     /* bytes, from "462B" / "1.98MB" (decimal units) */
    char *comment;    /* "buildkit.dockerfile.v0", may be "" */
};

struct buildlog_history {
    struct buildlog_history_row *rows;
    size_t nrows;
};

/*
 * Parse `docker history --no-trunc` output (columns located from the
 * header line).  ERR_PARSE: "PATH:1: not docker history output" (no
 * header), "PATH:LINE: malformed size '...'", "PATH:LINE: short row".
 */
int buildlog_history_parse(struct buildlog_history **out, const char *path,
                           const char *text, size_t len, struct err *err);
void buildlog_history_free(struct buildlog_history *h);

/*
 * A size as Docker prints it ("0B", "462B", "1.07kB", "1.98MB", "2GB";
 * decimal units as go-units HumanSize) in bytes, rounded.  ERR_PARSE
 * (without a message) for anything else.
 */
int buildlog_size_parse(const char *s, size_t len, int64_t *out);

#endif
