/*
 * sha1.h - SHA-1 (FIPS 180-4), for the trailer of the pack files that
 * synth.c writes (git object ids come from libgit2, not from here).
 */
#ifndef HARNESS_SHA1_H
#define HARNESS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
    uint32_t h[5];
    uint64_t total;
    unsigned char block[64];
    size_t fill;
};

void sha1_init(struct sha1 *c);
void sha1_update(struct sha1 *c, const void *data, size_t len);
void sha1_final(struct sha1 *c, unsigned char out[SHA1_LEN]);

#endif
