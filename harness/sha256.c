/*
 * SHA-256 written from FIPS 180-4, section 6.2, with a second compressor for
 * the x86 SHA extensions (SHA-NI).  The compressor is chosen once, on first
 * use, from cpuid; HARNESS_SHA256=portable in the environment forces the
 * portable one.  Both give the same digests, which tests/test_sha256.c checks.
 */
#include "sha256.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_X86 1
#else
#define SHA256_X86 0
#endif

/* Compress n consecutive 64-byte blocks at p into the state h. */
typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);

/* Aligned so that the SHA-NI compressor reads four constants at a time. */
static _Alignas(16) const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/*
 * The message schedule is kept as a rolling window of 16 words instead of
 * all 64: the same arithmetic, a quarter of the stack traffic.
 */
static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
    for (; n; n--, p += 64) {
        uint32_t w[16], a, b, c, d, e, f, g, k, t1, t2;

        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                   (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        a = h[0], b = h[1], c = h[2], d = h[3];
        e = h[4], f = h[5], g = h[6], k = h[7];
        for (int i = 0; i < 64; i++) {
            if (i >= 16) {
                uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
                uint32_t s0 = ROTR(w15, 7) ^ ROTR(w15, 18) ^ (w15 >> 3);
                uint32_t s1 = ROTR(w2, 17) ^ ROTR(w2, 19) ^ (w2 >> 10);
                w[i & 15] += s0 + w[(i - 7) & 15] + s1;
            }
            t1 = k + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) +
                 ((e & f) ^ (~e & g)) + K[i] + w[i & 15];
            t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) +
                 ((a & b) ^ (a & c) ^ (b & c));
            k = g, g = f, f = e, e = d + t1;
            d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d;
        h[4] += e, h[5] += f, h[6] += g, h[7] += k;
    }
}

#if SHA256_X86
/*
 * SHA-NI, after the Intel SHA extensions reference.  SHA256RNDS2 does two
 * rounds: it takes the state as two registers, {A,B,E,F} and {C,D,G,H}
 * (A and C in the top lane, F and H in the bottom one), plus W[i]+K[i] for
 * the two rounds in the low 64 bits of a third, and returns the new
 * {A,B,E,F}.  Two rounds later the new {C,D,G,H} is the old {A,B,E,F}, so
 * the two registers simply swap roles every call.
 *
 * The schedule works on groups of four words, W[4g..4g+3] in lanes 0..3:
 * SHA256MSG1 gives W[i-16] + s0(W[i-15]), adding W[i-7] (the previous two
 * groups shifted by one word with PALIGNR) leaves only s1(W[i-2]), which
 * SHA256MSG2 adds, taking W[i-2] from the previous group and from its own
 * first results.
 */
__attribute__((target("sha,ssse3,sse4.1"))) static void
blocks_sha_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
    /* big-endian words: reverse the bytes within each 32-bit lane */
    const __m128i bswap =
        _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    /* h[0..3] = A,B,C,D and h[4..7] = E,F,G,H, A and E in lane 0 */
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const void *)h), 0x1b);
    __m128i efgh =
        _mm_shuffle_epi32(_mm_loadu_si128((const void *)(h + 4)), 0x1b);
    __m128i abef = _mm_unpackhi_epi64(efgh, abcd); /* lanes F,E,B,A */
    __m128i cdgh = _mm_unpacklo_epi64(efgh, abcd); /* lanes H,G,D,C */

    for (; n; n--, p += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i m0 = _mm_loadu_si128((const void *)p);
        __m128i m1 = _mm_loadu_si128((const void *)(p + 16));
        __m128i m2 = _mm_loadu_si128((const void *)(p + 32));
        __m128i m3 = _mm_loadu_si128((const void *)(p + 48));

        m0 = _mm_shuffle_epi8(m0, bswap);
        m1 = _mm_shuffle_epi8(m1, bswap);
        m2 = _mm_shuffle_epi8(m2, bswap);
        m3 = _mm_shuffle_epi8(m3, bswap);
        for (int g = 0; g < 16; g++) {
            __m128i wk =
                _mm_add_epi32(m0, _mm_load_si128((const void *)(K + 4 * g)));

            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef =
                _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
            if (g < 12) {
                __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1),
                                          _mm_alignr_epi8(m3, m2, 4));
                x = _mm_sha256msg2_epu32(x, m3);
                m0 = m1, m1 = m2, m2 = m3, m3 = x;
            } else {
                m0 = m1, m1 = m2, m2 = m3;
            }
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    abcd = _mm_shuffle_epi32(_mm_unpackhi_epi64(cdgh, abef), 0x1b);
    efgh = _mm_shuffle_epi32(_mm_unpacklo_epi64(cdgh, abef), 0x1b);
    _mm_storeu_si128((void *)h, abcd);
    _mm_storeu_si128((void *)(h + 4), efgh);
}

static int cpu_has_sha_ni(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 9)) || !(c & (1u << 19))) /* SSSE3, SSE4.1 */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 29) & 1; /* SHA */
}
#endif

static blocks_fn *choose(void)
{
    const char *env = getenv("HARNESS_SHA256");

    if (env && strcmp(env, "portable") == 0)
        return blocks_portable;
#if SHA256_X86
    if (cpu_has_sha_ni())
        return blocks_sha_ni;
#endif
    return blocks_portable;
}

/*
 * Set on first use.  Threads that race here all store the same value; the
 * atomic only keeps that race defined.
 */
static _Atomic(blocks_fn *) chosen;

static blocks_fn *compressor(void)
{
    blocks_fn *f = atomic_load_explicit(&chosen, memory_order_relaxed);

    if (!f) {
        f = choose();
        atomic_store_explicit(&chosen, f, memory_order_relaxed);
    }
    return f;
}

int sha256_force_portable(int on)
{
    blocks_fn *f = on ? blocks_portable : choose();

    atomic_store_explicit(&chosen, f, memory_order_relaxed);
    return f != blocks_portable;
}

void sha256_init(struct sha256 *c)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                    0xa54ff53a, 0x510e527f, 0x9b05688c,
                                    0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, iv, sizeof(iv));
    c->total = 0;
    c->fill = 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    blocks_fn *compress = compressor();

    if (!len)
        return;
    c->total += len;
    if (c->fill) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < 64)
            return;
        compress(c->h, c->block, 1);
        c->fill = 0;
    }
    if (len >= 64) {
        compress(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(c->block, p, len);
    c->fill = len;
}

void sha256_field(struct sha256 *c, const char *s)
{
    sha256_update(c, s ? s : "", (s ? strlen(s) : 0) + 1);
}

/* Pads in place (0x80, zeros, 64-bit bit count) rather than byte by byte. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN])
{
    blocks_fn *compress = compressor();
    uint64_t bits = c->total * 8;
    size_t fill = c->fill;

    c->block[fill++] = 0x80;
    if (fill > 56) {
        memset(c->block + fill, 0, 64 - fill);
        compress(c->h, c->block, 1);
        fill = 0;
    }
    memset(c->block + fill, 0, 56 - fill);
    for (int i = 0; i < 8; i++)
        c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    compress(c->h, c->block, 1);
    c->fill = 0;
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

/* Two hex digits per byte value: one load a byte of the digest. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void hex_bytes(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, hex_pairs + 2 * d[i], 2);
    out[2 * n] = '\0';
}

void sha256_hex(const unsigned char d[SHA256_LEN], char out[SHA256_HEX])
{
    hex_bytes(d, SHA256_LEN, out);
}

static int hex_nibble(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int sha256_from_hex(const char *s, unsigned char d[SHA256_LEN])
{
    for (int i = 0; i < SHA256_LEN; i++) {
        int hi = hex_nibble(s[2 * i]), lo;
        if (hi < 0 || (lo = hex_nibble(s[2 * i + 1])) < 0)
            return -1;
        d[i] = (unsigned char)(hi << 4 | lo);
    }
    return s[2 * SHA256_LEN] ? -1 : 0;
}
