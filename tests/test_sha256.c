/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 / NIST vectors, and the
 * SHA-NI compressor against the portable one on every short length fed in
 * random chunks.  On a machine without SHA-NI both sides are portable and the
 * comparisons still run.
 */
#include "testutil.h"

#include "sha256.h"

/* Compressor to use for one pass: forced portable, or the automatic choice. */
enum path { PATH_PORTABLE, PATH_AUTO };

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void use_path(enum path p)
{
    sha256_force_portable(p == PATH_PORTABLE);
}

/* Digest of data fed in chunks of 0..max bytes (one call when max is 0). */
static void digest_chunked(unsigned char out[SHA256_LEN], const void *data,
                           size_t len, size_t max, uint64_t *rng)
{
    const unsigned char *p = data;
    struct sha256 c;

    sha256_init(&c);
    if (!max) {
        sha256_update(&c, p, len);
    } else {
        while (len) {
            size_t n = (size_t)(rng_next(rng) % (max + 1));
            if (n > len)
                n = len;
            sha256_update(&c, p, n);
            p += n;
            len -= n;
        }
    }
    sha256_final(&c, out);
}

static void hex_of(char out[SHA256_HEX], const void *data, size_t len)
{
    unsigned char d[SHA256_LEN];

    digest_chunked(d, data, len, 0, NULL);
    sha256_hex(d, out);
}

static int reset_path(void **state)
{
    (void)state;
    sha256_force_portable(0);
    return 0;
}

static void sha256__matches_the_nist_short_message_vectors(void **state)
{
    static const struct {
        const char *msg;
        const char *hex;
    } cases[] = {
        /* NIST FIPS 180 examples: one block, two blocks, 896 bits */
        { "",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
          "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    };
    (void)state;

    for (int p = PATH_PORTABLE; p <= PATH_AUTO; p++) {
        use_path((enum path)p);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char hex[SHA256_HEX];
            hex_of(hex, cases[i].msg, strlen(cases[i].msg));
            assert_string_equal(hex, cases[i].hex);
        }
    }
}

static void sha256__matches_the_nist_million_a_vector(void **state)
{
    char a[1000], hex[SHA256_HEX];
    unsigned char d[SHA256_LEN];
    (void)state;

    memset(a, 'a', sizeof(a));
    for (int p = PATH_PORTABLE; p <= PATH_AUTO; p++) {
        struct sha256 c;
        use_path((enum path)p);
        sha256_init(&c);
        for (int i = 0; i < 1000; i++)
            sha256_update(&c, a, sizeof(a));
        sha256_final(&c, d);
        sha256_hex(d, hex);
        assert_string_equal(
            hex,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

/* Lengths around the padding boundaries (reference: coreutils sha256sum). */
static void sha256__pads_correctly_around_block_boundaries(void **state)
{
    static const struct {
        size_t len;
        const char *hex;
    } cases[] = {
        { 55,
          "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56,
          "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 63,
          "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
        { 64,
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        { 119,
          "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
        { 120,
          "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
        { 128,
          "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
    };
    char a[128];
    (void)state;

    memset(a, 'a', sizeof(a));
    for (int p = PATH_PORTABLE; p <= PATH_AUTO; p++) {
        use_path((enum path)p);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char hex[SHA256_HEX];
            hex_of(hex, a, cases[i].len);
            assert_string_equal(hex, cases[i].hex);
        }
    }
}

static void
sha256__every_length_to_300_in_random_chunks_agrees_between_compressors(
    void **state)
{
    unsigned char data[300];
    uint64_t rng = 7;
    (void)state;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)rng_next(&rng);
    for (size_t len = 0; len <= sizeof(data); len++) {
        unsigned char want[SHA256_LEN], got[SHA256_LEN];
        use_path(PATH_PORTABLE);
        digest_chunked(want, data, len, 0, NULL);
        for (int round = 0; round < 4; round++) {
            /* chunks up to 8 bytes, then up to 200 (several blocks a call) */
            size_t max = round < 2 ? 8 : 200;
            use_path(round & 1 ? PATH_PORTABLE : PATH_AUTO);
            digest_chunked(got, data, len, max, &rng);
            assert_memory_equal(got, want, SHA256_LEN);
        }
    }
}

static void sha256__long_input_agrees_between_compressors(void **state)
{
    size_t len = 1 << 20;
    unsigned char *data = malloc(len);
    unsigned char want[SHA256_LEN], got[SHA256_LEN];
    uint64_t rng = 11;
    (void)state;

    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)rng_next(&rng);
    use_path(PATH_PORTABLE);
    digest_chunked(want, data, len, 0, NULL);
    use_path(PATH_AUTO);
    digest_chunked(got, data, len, 0, NULL);
    assert_memory_equal(got, want, SHA256_LEN);
    digest_chunked(got, data, len, 5000, &rng);
    assert_memory_equal(got, want, SHA256_LEN);
    free(data);
}

static void sha256__env_portable_forces_the_portable_compressor(void **state)
{
    const char *old = getenv("HARNESS_SHA256");
    char *saved = old ? strdup(old) : NULL;
    (void)state;

    assert_int_equal(setenv("HARNESS_SHA256", "portable", 1), 0);
    assert_int_equal(sha256_force_portable(0), 0);
    if (saved)
        setenv("HARNESS_SHA256", saved, 1);
    else
        unsetenv("HARNESS_SHA256");
    free(saved);
    /* and forcing always wins, whatever the CPU */
    assert_int_equal(sha256_force_portable(1), 0);
}

static void sha256__field_hashes_the_string_and_a_nul_separator(void **state)
{
    unsigned char field[SHA256_LEN], plain[SHA256_LEN];
    struct sha256 c;
    (void)state;

    sha256_init(&c);
    sha256_field(&c, "ab");
    sha256_field(&c, "cd");
    sha256_final(&c, field);
    digest_chunked(plain, "ab\0cd", 6, 0, NULL);
    assert_memory_equal(field, plain, SHA256_LEN);
}

static void sha256__field_treats_null_as_the_empty_string(void **state)
{
    unsigned char d[SHA256_LEN];
    char hex[SHA256_HEX];
    struct sha256 c;
    (void)state;

    sha256_init(&c);
    sha256_field(&c, NULL);
    sha256_final(&c, d);
    sha256_hex(d, hex);
    /* SHA-256 of the single byte 0x00 */
    assert_string_equal(
        hex,
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    sha256_init(&c);
    sha256_field(&c, "");
    sha256_final(&c, d);
    sha256_hex(d, hex);
    assert_string_equal(
        hex,
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

static void sha256__hex_is_lower_case_and_nul_terminated(void **state)
{
    unsigned char d[SHA256_LEN];
    char hex[SHA256_HEX + 1];
    (void)state;

    for (int i = 0; i < SHA256_LEN; i++)
        d[i] = (unsigned char)(i * 8 + 7);
    memset(hex, 'X', sizeof(hex));
    sha256_hex(d, hex);
    assert_string_equal(
        hex,
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
    assert_int_equal(hex[SHA256_HEX - 1], '\0');
    assert_int_equal(hex[SHA256_HEX], 'X'); /* nothing written past it */
}

static void sha256__from_hex_reads_back_what_hex_wrote_and_nothing_else(
    void **state)
{
    unsigned char d[SHA256_LEN], back[SHA256_LEN];
    char hex[SHA256_HEX], bad[SHA256_HEX + 1];
    (void)state;

    for (int i = 0; i < SHA256_LEN; i++)
        d[i] = (unsigned char)(i * 37 + 11);
    sha256_hex(d, hex);
    assert_int_equal(sha256_from_hex(hex, back), 0);
    assert_memory_equal(back, d, SHA256_LEN);
    memcpy(bad, hex, sizeof(hex));
    bad[5] = 'A'; /* upper case is another text for the same digest */
    assert_int_equal(sha256_from_hex(bad, back), -1);
    bad[5] = 'g';
    assert_int_equal(sha256_from_hex(bad, back), -1);
    memcpy(bad, hex, sizeof(hex));
    bad[63] = '\0'; /* too short */
    assert_int_equal(sha256_from_hex(bad, back), -1);
    memcpy(bad, hex, sizeof(hex));
    bad[64] = '0';
    bad[65] = '\0'; /* too long */
    assert_int_equal(sha256_from_hex(bad, back), -1);
    assert_int_equal(sha256_from_hex("", back), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            sha256__matches_the_nist_short_message_vectors, reset_path),
        cmocka_unit_test_teardown(sha256__matches_the_nist_million_a_vector,
                                  reset_path),
        cmocka_unit_test_teardown(
            sha256__pads_correctly_around_block_boundaries, reset_path),
        cmocka_unit_test_teardown(
            sha256__every_length_to_300_in_random_chunks_agrees_between_compressors,
            reset_path),
        cmocka_unit_test_teardown(sha256__long_input_agrees_between_compressors,
                                  reset_path),
        cmocka_unit_test_teardown(
            sha256__env_portable_forces_the_portable_compressor, reset_path),
        cmocka_unit_test(sha256__field_hashes_the_string_and_a_nul_separator),
        cmocka_unit_test(sha256__field_treats_null_as_the_empty_string),
        cmocka_unit_test(sha256__hex_is_lower_case_and_nul_terminated),
        cmocka_unit_test(
            sha256__from_hex_reads_back_what_hex_wrote_and_nothing_else),
    };
    if (sha256_force_portable(0))
        print_message("sha256: comparing SHA-NI with portable\n");
    else
        print_message("sha256: no SHA-NI here; both sides are portable\n");
    return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
