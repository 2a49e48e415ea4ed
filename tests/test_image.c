/*
 * test_image.c - the image metadata readers (image.c) on real Docker 20.10
 * output (tests/fixtures/doctor, recorded by ci/record-doctor-fixtures),
 * the advice drawn from them (doctor.c), and the registry client's pieces
 * that need no network (http.c response parsing, regclient references).
 */
#include "testutil.h"

#include "doctor.h"
#include "http.h"
#include "image.h"
#include "regclient.h"

struct fixture_case {
    const char *dir, *name;
    enum image_input input;
    enum image_builder builder;
    int inline_cache;
};

/* What each real output must give: BuildKit with and without inline
 * cache, legacy; as config blob, docker inspect and docker history. */
static const struct fixture_case cases[] = {
    { "doctor", "buildkit-config.json", IMAGE_INPUT_CONFIG,
      IMAGE_BUILDER_BUILDKIT, 0 },
    { "doctor", "buildkit-inline-config.json", IMAGE_INPUT_CONFIG,
      IMAGE_BUILDER_BUILDKIT, 1 },
    { "doctor", "legacy-config.json", IMAGE_INPUT_CONFIG, IMAGE_BUILDER_LEGACY,
      0 },
    { "doctor", "buildkit-inspect.json", IMAGE_INPUT_INSPECT,
      IMAGE_BUILDER_BUILDKIT, -1 },
    { "doctor", "buildkit-inline-inspect.json", IMAGE_INPUT_INSPECT,
      IMAGE_BUILDER_BUILDKIT, -1 },
    { "doctor", "legacy-inspect.json", IMAGE_INPUT_INSPECT,
      IMAGE_BUILDER_LEGACY, 0 },
    { "doctor", "buildkit-history.jsonl", IMAGE_INPUT_HISTORY,
      IMAGE_BUILDER_BUILDKIT, -1 },
    { "doctor", "buildkit-inline-history.jsonl", IMAGE_INPUT_HISTORY,
      IMAGE_BUILDER_BUILDKIT, -1 },
    { "doctor", "legacy-history.jsonl", IMAGE_INPUT_HISTORY,
      IMAGE_BUILDER_LEGACY, 0 },
    { "real", "buildkit-inline-history.txt", IMAGE_INPUT_HISTORY,
      IMAGE_BUILDER_BUILDKIT, -1 },
    { "real", "legacy-history.txt", IMAGE_INPUT_HISTORY, IMAGE_BUILDER_LEGACY,
      0 },
    { "real", "buildkit-inline-config.json", IMAGE_INPUT_CONFIG,
      IMAGE_BUILDER_BUILDKIT, 1 },
    { "real", "legacy-config.json", IMAGE_INPUT_CONFIG, IMAGE_BUILDER_LEGACY,
      0 },
};

static void image__reads_builder_and_inline_cache_of_real_outputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = ERR_INIT;
        struct image_facts *f = NULL;
        size_t len, n = 0;
        char *text = tu_fixture(&len, "%s/%s", cases[i].dir, cases[i].name);
        int rc = image_read(&f, &n, cases[i].name, text, len, &err);

        if (rc != 0 || f->builder != cases[i].builder ||
            f->inline_cache != cases[i].inline_cache ||
            f->input != cases[i].input)
            print_error("%s/%s: rc %d builder %s inline %d input %s %s\n",
                        cases[i].dir, cases[i].name, rc,
                        f ? image_builder_name(f->builder) : "-",
                        f ? f->inline_cache : 9,
                        f ? image_input_name(f->input) : "-", err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(n, 1);
        assert_int_equal(f->input, cases[i].input);
        assert_int_equal(f->builder, cases[i].builder);
        assert_int_equal(f->inline_cache, cases[i].inline_cache);
        free(f);
        free(text);
    }
}

static void image__counts_inline_cache_records(void **state)
{
    struct err err = ERR_INIT;
    struct image_facts *f = NULL;
    size_t len, n;
    char *text = tu_fixture(&len, "doctor/buildkit-inline-config.json");

    (void)state;
    assert_int_equal(image_read(&f, &n, "c.json", text, len, &err), 0);
    /* the base64 JSON list in moby.buildkit.cache.v0 holds 8 records; the
     * history has the imported base layer and 7 BuildKit entries (ARG,
     * WORKDIR, COPY, RUN, COPY, RUN, CMD) */
    assert_int_equal(f->cache_records, 8);
    assert_int_equal(f->history, 8);
    assert_int_equal(f->buildkit_entries, 7);
    free(f);
    free(text);
}

static void image__inspect_names_the_image_by_its_tag(void **state)
{
    struct err err = ERR_INIT;
    struct image_facts *f = NULL;
    size_t len, n;
    char *text = tu_fixture(&len, "doctor/legacy-inspect.json");

    (void)state;
    assert_int_equal(image_read(&f, &n, "i.json", text, len, &err), 0);
    assert_string_equal(f->ref, "127.0.0.1:5000/doctor-fixture:legacy");
    free(f);
    free(text);
}

static void image__inspect_of_several_images_gives_one_each(void **state)
{
    const char *text =
        "[{\"Id\": \"sha256:1\", \"Comment\": \"buildkit.dockerfile.v0\"},\n"
        " {\"Id\": \"sha256:2\", \"Container\": \"abc\"}]";
    struct err err = ERR_INIT;
    struct image_facts *f = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(image_read(&f, &n, "i.json", text, strlen(text), &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].builder, IMAGE_BUILDER_BUILDKIT);
    assert_int_equal(f[1].builder, IMAGE_BUILDER_LEGACY);
    free(f);
}

/* The newest marked entry decides: a legacy build on a BuildKit base. */
static void image__newest_marked_entry_decides_the_builder(void **state)
{
    const char *lines =
        "{\"CreatedBy\":\"/bin/sh -c #(nop)  CMD [\\\"app\\\"]\",\"Comment\":\"\"}\n"
        "{\"CreatedBy\":\"|1 V=1 /bin/sh -c make\",\"Comment\":\"\"}\n"
        "{\"CreatedBy\":\"RUN /bin/sh -c apt-get update # buildkit\",\"Comment\":\"buildkit.dockerfile.v0\"}\n"
        "{\"CreatedBy\":\"\",\"Comment\":\"Imported from -\"}\n";
    const char *imported =
        "{\"CreatedBy\":\"\",\"Comment\":\"Imported from -\"}\n";
    struct err err = ERR_INIT;
    struct image_facts *f = NULL;
    size_t n;

    (void)state;
    assert_int_equal(image_read(&f, &n, "h", lines, strlen(lines), &err), 0);
    assert_int_equal(f->builder, IMAGE_BUILDER_LEGACY);
    assert_int_equal(f->legacy_entries, 2);
    assert_int_equal(f->buildkit_entries, 1);
    free(f);
    assert_int_equal(image_read(&f, &n, "h", imported, strlen(imported), &err),
                     0);
    assert_int_equal(f->builder, IMAGE_BUILDER_UNKNOWN);
    assert_int_equal(f->inline_cache, -1);
    free(f);
}

struct bad_case {
    const char *text;
    const char *msg; /* expected err.msg prefix */
};

static void image__malformed_input_names_file_and_line(void **state)
{
    static const struct bad_case bad[] = {
        { "", "f:1: empty file" },
        { "  \n\n", "f:1: empty file" },
        { "hello", "f:1: not an image config" },
        { "{\"CreatedBy\":\"a\"}\n{\"CreatedBy\":\"b\"}\n{\"CreatedBy\":",
          "f:3: malformed JSON" },
        { "{\"CreatedBy\":\"a\"}\n[1]\n", "f:2: not a docker history line" },
        { "{\"CreatedBy\":\"a\"}\n{\"CreatedBy\":7}\n",
          "f:2: not a docker history line" },
        { "[\n{\"Id\": \"x\",\n\"Config\": }\n]", "f:3: malformed JSON" },
        { "[]", "f:1: empty array" },
        { "[1]", "f:1: element 1 is not an image" },
        { "{\"rootfs\": {},\n \"history\": 3}",
          "f:2: 'history' is not an array" },
        { "{\"rootfs\": {},\n \"history\": [1]}", "f:2: history entry 1" },
        { "{\"schemaVersion\": 2, \"layers\": []}",
          "f:1: a registry manifest, not an image config" },
        { "{\"foo\": 1}", "f:1: not an image config" },
        { "IMAGE   CREATED\nxyz", "f:" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = ERR_INIT;
        struct image_facts *f = NULL;
        size_t n = 7;
        int rc =
            image_read(&f, &n, "f", bad[i].text, strlen(bad[i].text), &err);
        if (rc != ERR_PARSE || strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
            print_error("case %zu: rc %d msg '%s'\n", i, rc, err.msg);
        assert_int_equal(rc, ERR_PARSE);
        assert_null(f);
        assert_int_equal(n, 0);
        assert_true(!strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)));
    }
}

static void image__manifest_list_picks_linux_amd64(void **state)
{
    struct err err = ERR_INIT;
    struct image_manifest m;
    size_t len;
    char *text = tu_fixture(&len, "doctor/multi-manifest-list.json");

    (void)state;
    assert_int_equal(image_manifest_parse(&m, "m", text, len, &err), 0);
    assert_int_equal(m.kind, IMAGE_MANIFEST_LIST);
    assert_string_equal(m.platform, "sha256:4ec496e772f259ef3587e228c553de45"
                                    "ace22881fc30d3f6c8e8226d9d72a2bc");
    assert_string_equal(m.platforms, "linux/amd64 linux/arm64");
    free(text);
}

static void image__manifest_gives_config_digest(void **state)
{
    struct err err = ERR_INIT;
    struct image_manifest m;
    size_t len;
    char *text = tu_fixture(&len, "doctor/legacy-manifest.json");
    const char *oci_index =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}";

    (void)state;
    assert_int_equal(image_manifest_parse(&m, "m", text, len, &err), 0);
    assert_int_equal(m.kind, IMAGE_MANIFEST);
    assert_string_equal(m.config, "sha256:b9e64863be1263f0f155dd9eed5a2a2279a"
                                  "8dd3a117506d21518317ee880d642");
    assert_int_equal(
        image_manifest_parse(&m, "m", oci_index, strlen(oci_index), &err), 0);
    assert_int_equal(m.kind, IMAGE_MANIFEST_LIST);
    assert_string_equal(m.platform, ""); /* no linux/amd64 entry */
    assert_int_equal(
        image_manifest_parse(&m, "m", "{\"schemaVersion\": 1}", 20, &err),
        ERR_PARSE);
    assert_non_null(strstr(err.msg, "schema 1"));
    assert_int_equal(
        image_manifest_parse(&m, "m", "{\"config\": {}}", 14, &err), ERR_PARSE);
    free(text);
}

static const struct doctor_advice *find(const struct doctor_advice *a, size_t n,
                                        const char *setup)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(a[i].setup, setup))
            return &a[i];
    return NULL;
}

static void doctor__advice_follows_builder_and_inline_cache(void **state)
{
    struct image_facts f;
    struct doctor_advice a[DOCTOR_MAX_ADVICE];
    const struct doctor_advice *x;
    size_t n;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.cache_records = -1;
    /* BuildKit without inline cache: BuildKit --cache-from misses, and the
     * fix is the inline cache build arg */
    f.builder = IMAGE_BUILDER_BUILDKIT;
    f.inline_cache = 0;
    n = doctor_advise(&f, "reg/app:main", a);
    x = find(a, n, "buildkit-cache-from");
    assert_non_null(x);
    assert_int_equal(x->hits, 0);
    assert_non_null(strstr(x->fix, "--build-arg BUILDKIT_INLINE_CACHE=1"));
    assert_non_null(strstr(x->fix, "reg/app:main"));
    assert_int_equal(find(a, n, "legacy-cache-from")->hits, 0);
    /* with inline cache it hits */
    f.inline_cache = 1;
    n = doctor_advise(&f, "reg/app:main", a);
    assert_int_equal(find(a, n, "buildkit-cache-from")->hits, 1);
    assert_non_null(strstr(find(a, n, "registry-cache")->fix, "mode=max"));
    /* inspect cannot tell */
    f.inline_cache = -1;
    n = doctor_advise(&f, NULL, a);
    assert_int_equal(find(a, n, "buildkit-cache-from")->hits, -1);
    assert_non_null(strstr(find(a, n, "buildkit-cache-from")->fix,
                           "harness doctor --image IMAGE"));
    /* legacy: hits after a pull only; BuildKit gets nothing */
    f.builder = IMAGE_BUILDER_LEGACY;
    f.inline_cache = 0;
    n = doctor_advise(&f, "app", a);
    x = find(a, n, "legacy-cache-from");
    assert_int_equal(x->hits, 1);
    assert_non_null(strstr(x->fix, "docker pull app"));
    assert_int_equal(find(a, n, "buildkit-cache-from")->hits, 0);
    /* unknown builder */
    f.builder = IMAGE_BUILDER_UNKNOWN;
    f.inline_cache = -1;
    n = doctor_advise(&f, "app", a);
    assert_int_equal(find(a, n, "builder")->hits, -1);
    assert_null(find(a, n, "buildkit-cache-from"));
}

static void http__parses_length_and_chunked_bodies(void **state)
{
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Docker-Content-Digest: sha256:ab\r\n"
                     "Content-Length: 5\r\n\r\nhello";
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
    const char *redirect = "HTTP/1.1 307 Temporary Redirect\r\n"
                           "location: http://127.0.0.1:9/blob\r\n\r\n";
    struct http_response r;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(http_parse_response(cl, strlen(cl), "r", 1024, &r, &err),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.digest, "sha256:ab");
    assert_int_equal(r.body.len, 5);
    assert_memory_equal(r.body.ptr, "hello", 5);
    http_response_release(&r);
    assert_int_equal(http_parse_response(ch, strlen(ch), "r", 1024, &r, &err),
                     0);
    assert_int_equal(r.body.len, 5);
    assert_memory_equal(r.body.ptr, "hello", 5);
    http_response_release(&r);
    assert_int_equal(
        http_parse_response(redirect, strlen(redirect), "r", 1024, &r, &err),
        0);
    assert_int_equal(r.status, 307);
    assert_string_equal(r.location, "http://127.0.0.1:9/blob");
    http_response_release(&r);
}

static void http__rejects_cut_and_oversized_responses(void **state)
{
    static const char *const bad[] = {
        "",
        "SSH-2.0-OpenSSH\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_response r;
        struct err err = ERR_INIT;
        int rc = http_parse_response(bad[i], strlen(bad[i]), "reg:1", 1024, &r,
                                     &err);
        if (rc != ERR_ENGINE)
            print_error("case %zu: rc %d\n", i, rc);
        assert_int_equal(rc, ERR_ENGINE);
        assert_non_null(strstr(err.msg, "'reg:1'"));
        http_response_release(&r);
    }
}

static void regclient__splits_references(void **state)
{
    struct regclient_image img;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(regclient_parse_ref(&img, "127.0.0.1:5000",
                                         "127.0.0.1:5000/team/app:v1", &err),
                     0);
    assert_string_equal(img.host, "127.0.0.1");
    assert_string_equal(img.port, "5000");
    assert_string_equal(img.name, "team/app");
    assert_string_equal(img.reference, "v1");
    assert_int_equal(regclient_parse_ref(&img, NULL, "localhost/app", &err), 0);
    assert_string_equal(img.host, "localhost");
    assert_string_equal(img.port, "80");
    assert_string_equal(img.reference, "latest");
    assert_int_equal(
        regclient_parse_ref(&img, "reg:5000", "app:v2@sha256:abc", &err), 0);
    assert_string_equal(img.name, "app");
    assert_string_equal(img.reference, "sha256:abc");
    assert_int_equal(regclient_parse_ref(&img, NULL, "app:1", &err), ERR_USAGE);
    assert_non_null(strstr(err.msg, "--registry"));
    assert_int_equal(regclient_parse_ref(&img, "reg:x", "app", &err),
                     ERR_USAGE);
    assert_int_equal(regclient_parse_ref(&img, "reg:1", ":tag", &err),
                     ERR_USAGE);
}

/* Nothing listens on port 1 of the loopback: a clear error, quickly. */
static void regclient__unreachable_registry_is_an_engine_error(void **state)
{
    struct regclient_image img;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(regclient_fetch(&img, "127.0.0.1:1", "app:1", 5, &err),
                     ERR_ENGINE);
    assert_non_null(strstr(err.msg, "registry: cannot reach '127.0.0.1:1'"));
    regclient_image_release(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(image__reads_builder_and_inline_cache_of_real_outputs),
        cmocka_unit_test(image__counts_inline_cache_records),
        cmocka_unit_test(image__inspect_names_the_image_by_its_tag),
        cmocka_unit_test(image__inspect_of_several_images_gives_one_each),
        cmocka_unit_test(image__newest_marked_entry_decides_the_builder),
        cmocka_unit_test(image__malformed_input_names_file_and_line),
        cmocka_unit_test(image__manifest_list_picks_linux_amd64),
        cmocka_unit_test(image__manifest_gives_config_digest),
        cmocka_unit_test(doctor__advice_follows_builder_and_inline_cache),
        cmocka_unit_test(http__parses_length_and_chunked_bodies),
        cmocka_unit_test(http__rejects_cut_and_oversized_responses),
        cmocka_unit_test(regclient__splits_references),
        cmocka_unit_test(regclient__unreachable_registry_is_an_engine_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
