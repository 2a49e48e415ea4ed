/*
 * sha256.h - SHA-256 (FIPS 180-4), used for every simulated cache key and
 * content checksum so that keys look and behave like Docker's digests.
 */
#ifndef HARNESS_SHA256_H
#define HARNESS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX (SHA256_LEN * 2 + 1)

struct sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t fill;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Add a NUL-terminated string followed by a 0 separator byte. */
void sha256_field(struct sha256 *c, const char *s);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* Lower-case hex of n bytes d into out (2 * n digits and a NUL). */
void hex_bytes(const unsigned char *d, size_t n, char *out);

/* Lower-case hex of a digest into out (SHA256_HEX bytes with NUL). */
void sha256_hex(const unsigned char d[SHA256_LEN], char out[SHA256_HEX]);
/* The inverse: 0 and the digest in d if s is exactly 64 lower-case hex
 * digits (what sha256_hex writes), else -1 (d is then unspecified). */
int sha256_from_hex(const char *s, unsigned char d[SHA256_LEN]);

/*
 * For tests and measurements only.  Digests never depend on it: the
 * compressor (portable C, or the x86 SHA extensions when cpuid reports them)
 * is chosen on first use, and HARNESS_SHA256=portable in the environment
 * forces the portable one.  With on != 0 this forces the portable compressor;
 * with on == 0 it repeats the automatic choice.  Returns 1 if the SHA
 * extensions are in use afterwards, else 0.  Not meant to be called while
 * other threads are hashing (harmless, but they may use either compressor).
 */
int sha256_force_portable(int on);

#endif
