/*
 * model.c - default time and size estimates.
 *
 * RUN steps cannot be known from the repository; they are estimated from
 * the command text with the public install benchmarks in doc/model.md
 * (npm ci ~28 s cold, pip ~114-148 s for a real requirements file, etc.),
 * scaled down to the small synthetic projects harness generates.  They are
 * estimates, and reports say so.
 */
#include "model.h"

#include <string.h>

#define MB (1024.0 * 1024.0)

void model_defaults(struct model *m)
{
    m->pull_mbps = 60.0;
    m->push_mbps = 30.0;
    m->unpack_mbps = 80.0;
    m->pack_mbps = 35.0;
    m->blob_latency = 0.15;
    m->cached_step = 0.05;
    m->build_overhead = 2.0;
    m->context_mbps = 100.0;
    m->compress_ratio = 0.40;
    m->meta_step = 0.10;
}

struct run_rule {
    const char *needle;
    double seconds;
    double mbytes;
};

/* First match wins; the most specific commands come first. */
static const struct run_rule run_rules[] = {
    { "npm ci", 28.0, 150.0 },
    { "npm install", 30.0, 160.0 },
    { "yarn install", 25.0, 150.0 },
    { "pnpm install", 8.0, 120.0 },
    { "pip install", 40.0, 90.0 },
    { "poetry install", 45.0, 95.0 },
    { "uv sync", 8.0, 90.0 },
    { "apt-get install", 25.0, 70.0 },
    { "apt-get update", 8.0, 20.0 },
    { "apk add", 5.0, 15.0 },
    { "go mod download", 12.0, 60.0 },
    { "go build", 20.0, 15.0 },
    { "go test", 25.0, 5.0 },
    { "cargo build", 90.0, 200.0 },
    { "mvn ", 60.0, 120.0 },
    { "gradle", 60.0, 120.0 },
    { "git clone", 6.0, 30.0 },
    { "curl ", 3.0, 10.0 },
    { "wget ", 3.0, 10.0 },
    { "make", 15.0, 20.0 },
};

static const struct run_rule *run_rule(const char *command)
{
    size_t i;

    for (i = 0; i < sizeof(run_rules) / sizeof(run_rules[0]); i++)
        if (strstr(command, run_rules[i].needle))
            return &run_rules[i];
    return NULL;
}

double model_run_seconds(const struct model *m, const char *command)
{
    const struct run_rule *r = run_rule(command);

    (void)m;
    return r ? r->seconds : 1.0;
}

uint64_t model_run_bytes(const struct model *m, const char *command)
{
    const struct run_rule *r = run_rule(command);

    (void)m;
    return (uint64_t)((r ? r->mbytes : 0.5) * MB);
}

struct base_size {
    const char *prefix;
    double mbytes; /* compressed transfer, docker-library/repo-info */
};

static const struct base_size base_sizes[] = {
    { "alpine", 3.8 },
    { "busybox", 2.2 },
    { "ubuntu", 29.7 },
    { "debian", 48.0 },
    { "python:3.12-slim", 43.2 },
    { "python", 43.2 },
    { "node", 408.5 },
    { "golang", 280.0 },
    { "rust", 550.0 },
    { "maven", 300.0 },
    { "eclipse-temurin", 190.0 },
    { "gcr.io/distroless", 20.0 },
    { "scratch", 0.0 },
};

uint64_t model_base_bytes(const struct model *m, const char *image)
{
    size_t i;
    const char *slash;

    (void)m;
    /* strip a registry host: "127.0.0.1:5000/base:1" -> "base:1" */
    slash = strrchr(image, '/');
    if (slash && strncmp(image, "gcr.io/", 7))
        image = slash + 1;
    for (i = 0; i < sizeof(base_sizes) / sizeof(base_sizes[0]); i++)
        if (!strncmp(image, base_sizes[i].prefix,
                     strlen(base_sizes[i].prefix)))
            return (uint64_t)(base_sizes[i].mbytes * MB);
    return (uint64_t)(50.0 * MB);
}

double model_copy_seconds(const struct model *m, uint64_t bytes,
                          size_t nfiles)
{
    return 0.1 + (double)bytes / MB / m->context_mbps + 0.0002 * nfiles;
}

double model_pull_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs)
{
    double mb = (double)bytes / MB;

    return mb / m->pull_mbps + mb / m->compress_ratio / m->unpack_mbps +
           m->blob_latency * (double)nblobs;
}

double model_push_seconds(const struct model *m, uint64_t bytes,
                          size_t nblobs)
{
    double mb = (double)bytes / MB;

    return mb / m->push_mbps + mb / m->compress_ratio / m->pack_mbps +
           m->blob_latency * (double)nblobs;
}

uint64_t model_compressed(const struct model *m, uint64_t raw)
{
    return (uint64_t)((double)raw * m->compress_ratio);
}
