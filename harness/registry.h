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
/* Tag an image (takes ownership of *img, which is zeroed).  Its blobs must
 * have been put first.  Replaces an earlier image of the same tag. */
void registry_tag(struct registry *r, const char *tag, struct image *img);
/* The image under tag, or NULL.  Only the newest tag keeps its cache
 * records; without retention only the newest image is kept at all (older
 * ones are never read back), with retention the older ones keep their
 * blob references for garbage collection. */
const struct image *registry_image(const struct registry *r, const char *tag);
/* What it holds for later pushes: blobs (or digests) known, tags, and the
 * layers and records of the images it keeps. */
size_t registry_entries(const struct registry *r);
/* Bytes stored, and number of blobs. */
uint64_t registry_bytes(const struct registry *r);
size_t registry_blobs(const struct registry *r);

#endif
