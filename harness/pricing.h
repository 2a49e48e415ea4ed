/*
 * pricing.h - pricing profiles: what a CI provider, a registry and the
 * cache backends charge, read from dated JSON files that carry their
 * sources (scenarios/pricing/NAME.json; doc/pricing.md).  Reads JSON, so it
 * includes <jansson.h> (in pricing.c only).
 *
 * A profile prices four stores: the registry (images and registry cache
 * refs), the GitHub Actions cache, S3, and a persistent runner's disk.
 * Which strategy keeps its cache where is cost.c's business.
 *
 * Every figure is either covered by a source (URL and date) or listed as
 * an estimate with the reason; pricing_figure_note() says which, so that a
 * report can mark it.  A figure the file does not give is 0 and listed as
 * "not charged by this profile".
 *
 * Ownership: a struct pricing owns all its strings; pricing_release()
 * frees them.
 */
#ifndef HARNESS_PRICING_H
#define HARNESS_PRICING_H

#include <stddef.h>

#include "err.h"

enum pricing_billing {
    PRICING_PER_JOB_MINUTE, /* each job rounded up to whole minutes */
    PRICING_PER_SECOND,     /* per second, with an optional minimum */
    PRICING_PARALLEL_JOB,   /* a monthly fee per concurrent job */
};

/* "per-job-minute" / "per-second" / "parallel-job"; _parse: ERR_INVALID. */
const char *pricing_billing_name(enum pricing_billing b);
int pricing_billing_parse(const char *s, enum pricing_billing *out);

enum pricing_store {
    PRICING_REGISTRY, /* images, registry cache refs */
    PRICING_GHA,      /* GitHub Actions cache */
    PRICING_S3,       /* an S3 bucket */
    PRICING_DISK,     /* a persistent runner's or builder's disk */
    PRICING_NSTORES,
};

/* "registry" / "gha" / "s3" / "disk" (the profile's section names). */
const char *pricing_store_name(enum pricing_store s);

struct pricing_backend {
    char *name; /* what it is, for people: "GHCR" */
    double storage_usd_per_gb_month;
    double free_storage_gb;      /* per month */
    double egress_usd_per_gb;    /* downloads by the runner */
    double free_egress_gb;       /* per month */
    double ingress_usd_per_gb;   /* uploads */
    double get_usd_per_1000;     /* a pulled blob is one request */
    double put_usd_per_1000;     /* a pushed blob is one request */
    double pulls_per_hour_limit; /* 0: none (Docker Hub's limits) */
};

struct pricing_runner {
    char *name;
    double usd_per_minute;
};

struct pricing_source {
    char **figures; /* "compute.runners", "s3.egress_usd_per_gb", ... */
    size_t nfigures;
    char *url, *date, *note;
};

struct pricing_estimate {
    char *figure;
    char *why;
};

struct pricing {
    char *name, *date, *description;
    char *path; /* the file it was read from */
    enum pricing_billing billing;
    char *runner;          /* the runner size priced */
    double usd_per_minute; /* that runner's rate */
    struct pricing_runner *runners;
    size_t nrunners;
    double included_minutes; /* per month, free */
    double startup_seconds;  /* a job's runner start-up, billed */
    double minimum_seconds;  /* per-second billing: the least a job pays */
    double parallel_job_usd_month;     /* parallel-job billing */
    double parallel_job_minutes_month; /* what one parallel job delivers */
    double free_parallel_jobs;
    struct pricing_backend store[PRICING_NSTORES];
    struct pricing_source *sources;
    size_t nsources;
    struct pricing_estimate *estimates;
    size_t nestimates;
    char **notes;
    size_t nnotes;
};

/*
 * Read a profile.  name_or_path is a file path when it contains '/' or
 * ends in ".json", else the name of a profile under the pricing folder:
 * $HARNESS_PRICING_DIR, else scenarios/pricing next to the program's
 * build folder, else PREFIX/share/harness/pricing.  Errors: ERR_NOTFOUND
 * (no such profile, with a hint listing them), ERR_IO, ERR_PARSE
 * "FILE:LINE: ..." for bad JSON, unknown keys, wrong types, negative
 * figures, an unknown runner, a figure neither sourced nor an estimate.
 */
int pricing_load(struct pricing *out, const char *name_or_path,
                 struct err *err);
/* The same from memory; path is used in messages only. */
int pricing_parse(struct pricing *out, const char *path, const char *text,
                  size_t len, struct err *err);
void pricing_release(struct pricing *p);

/* The folder built-in profiles are read from (caller frees); NULL if
 * none is found. */
char *pricing_dir(void);

/*
 * Where a figure ("compute.usd_per_minute", "s3.egress_usd_per_gb") comes
 * from: the URL of a source that covers it (or its section, or
 * "compute.runners" for the runner rate), or "estimate: WHY".  Borrowed
 * from p; NULL when neither.  *estimate is set to 1 for an estimate.
 */
const char *pricing_figure_note(const struct pricing *p, const char *figure,
                                int *estimate);

#endif
