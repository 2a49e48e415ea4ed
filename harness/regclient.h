/*
 * regclient.h - read an image's manifest and config blob from a registry
 * over the HTTP API v2 (plain http, no authentication), for
 * `harness doctor --image`.
 *
 * The manifest is asked for with an Accept header naming docker schema 2
 * manifests and manifest lists and OCI manifests and indexes; from a list
 * or index the linux/amd64 entry is followed.  The config blob is checked
 * against its digest.  Redirects to plain-http locations (a storage
 * backend) are followed, three at most.
 *
 * Ownership: regclient_image_release() frees the config text.
 */
#ifndef HARNESS_REGCLIENT_H
#define HARNESS_REGCLIENT_H

#include "buf.h"
#include "err.h"

struct regclient_image {
    char host[256], port[16]; /* the registry */
    char name[256];           /* repository: "team/app" */
    char reference[160];      /* tag or "sha256:..." */
    char manifest_digest[80]; /* of the image manifest (after a list) */
    char list_digest[80];     /* of the manifest list, "" if none */
    char platforms[256];      /* the list's platforms, "" if none */
    char config_digest[80];
    struct buf config; /* the config blob */
};

/*
 * Split REF ("[HOST[:PORT]/]NAME[:TAG][@DIGEST]") against registry
 * ("HOST:PORT", or NULL to take the host from REF).  ERR_USAGE when there
 * is no registry or the reference is empty.
 */
int regclient_parse_ref(struct regclient_image *out, const char *registry,
                        const char *ref, struct err *err);

/*
 * Parse the reference and fetch manifest(s) and config, each request
 * within timeout seconds.  Errors: ERR_USAGE (reference), ERR_ENGINE
 * (unreachable, HTTP errors: "manifest unknown", authentication needed,
 * digest mismatch), ERR_PARSE (a manifest that is not JSON or has no
 * config; the message names "HOST:PORT/NAME@DIGEST").
 */
int regclient_fetch(struct regclient_image *out, const char *registry,
                    const char *ref, double timeout, struct err *err);

void regclient_image_release(struct regclient_image *img);

#endif
