/*
 * registry.h - the simulated registry: blobs by digest, images by tag.
 *
 * A push uploads only blobs the registry lacks; storage grows with every
 * pushed tag unless a retention of the last K tags is set, in which case
 * the oldest tag is dropped and blobs no tag references any more are
 * deleted (as a registry garbage collection would).
 *
 * An image records what later builds need to know of it: its layers, its
 * config and manifest blobs, the builder that made it, and the cache keys
 * its metadata carries (legacy history chain, or BuildKit inline records).
 *
 * Ownership: registry_new()/registry_free(); images stored in a registry
 * are owned by it, and registry_image() returns a borrowed pointer.
 */
#ifndef HARNESS_REGISTRY_H
#define HARNESS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "dmap.h"
#include "sha256.h"

struct image_layer {
    unsigned char digest[SHA256_LEN];
    uint64_t bytes;
};

/* A cache record carried by an image or a cache manifest: a step key and,
 * when the record has a result, the layer holding it. */
struct cache_record {
    unsigned char key[SHA256_LEN];
    int has_layer;
    struct image_layer layer;
};

struct image {
    struct image_layer *layers; /* base layers first */
    size_t nlayers;
    struct image_layer config;
    struct image_layer manifest;
    int builder;                   /* enum builder */
    struct cache_record *records;  /* legacy chain / inline / cache ref */
    size_t nrecords;
    /* elements allocated, for a later image to reuse (0: as many as
     * there are) */
    size_t layercap, reccap;
};

void image_release(struct image *img);

struct registry;

/* keep_tags: 0 keeps every tag; K keeps the last K. */
struct registry *registry_new(size_t keep_tags);
void registry_free(struct registry *r);

int registry_has(const struct registry *r, const unsigned char *digest);
/* Start loading where digest would be (see dmap_prefetch). */
void registry_prefetch(const struct registry *r, const unsigned char *digest);
/* Store a blob; returns the bytes uploaded (0 if it was already there). */
uint64_t registry_put(struct registry *r, const unsigned char *digest,
                      uint64_t bytes);
/* Tag an image (takes ownership of *img).  Its blobs must have been put
 * first.  Replaces an earlier image of the same tag.  *img is left with no
 * layers and no records but, when the registry keeps only the newest image
 * (no retention), with the arrays of the image it let go, for the next
 * push to fill (image_release() them when not). */
void registry_tag(struct registry *r, const char *tag, struct image *img);
/* The image under tag, or NULL.  Only the newest tag keeps its cache
 * records; without retention only the newest image is kept at all (older
 * ones are never read back), with retention the older ones keep their
 * blob references for garbage collection. */
const struct image *registry_image(const struct registry *r, const char *tag);
/* What it holds for later pushes: blobs (or digests) known, tags, and the
 * layers and records of the images it keeps. */
size_t registry_entries(const struct registry *r);
/* Bytes stored, and number of blobs (forgotten digests included). */
uint64_t registry_bytes(const struct registry *r);
size_t registry_blobs(const struct registry *r);

/*
 * Forgetting digests no later push can name.  A registry that keeps every
 * tag holds every blob of the replay, but whether a push uploads a blob
 * only matters for blobs a later build can name again: a base image's
 * layers, and what the strategy's world still refers to (its newest image,
 * the records it imports, the layers a runner reuses).  Any other layer
 * was made by a step that ran in an earlier build and named after that
 * build (sim_layer_digest), so no later step makes it again, and a config
 * or manifest hashes its layers.  Without --reproducible and retention,
 * a strategy whose world can list what it refers to turns forgetting on,
 * and from time to time (registry_forget_due) keeps only those digests:
 * the answers of registry_put and registry_has for every digest a later
 * build can name, registry_bytes and registry_blobs stay what they were.
 */
/* Turn forgetting on (ignored with retention). */
void registry_set_forgetting(struct registry *r, int on);
/* digest (put before) may be named by any later push: never forget it. */
void registry_pin(struct registry *r, const unsigned char *digest);
/* 1 when the set of digests has doubled since it was last rebuilt. */
int registry_forget_due(const struct registry *r);
/* Rebuild the set: begin (keeps the newest image's blobs and the layers
 * its records name), keep each digest the strategy's world can still name
 * (a digest never stored stays unknown), end (keeps the pinned digests
 * and the config and manifest of each image whose layer is kept, and
 * drops the rest). */
void registry_forget_begin(struct registry *r);
void registry_forget_keep(struct registry *r, const unsigned char *digest);
void registry_forget_end(struct registry *r);

#endif
