/*
 * test_buildlog.c - the build log parsers on real Docker 20.10 logs
 * (tests/fixtures/real, with the driver's answers in expected.jsonl) and on
 * hand-written edge cases.
 */
#include "testutil.h"

#include <jansson.h>

#include "buildlog.h"
#include "dockerfile.h"

static struct buildlog *parse_text(const char *text)
{
    struct buildlog *log = NULL;
    struct err err = ERR_INIT;

    assert_int_equal(buildlog_parse(&log, "t.log", text, strlen(text), &err),
                     0);
    assert_non_null(log);
    return log;
}

static void parse_fails(const char *text, const char *msg)
{
    struct buildlog *log = (struct buildlog *)1;
    struct err err = ERR_INIT;

    if (buildlog_parse(&log, "t.log", text, strlen(text), &err) != ERR_PARSE)
        fail_msg("parsed: '%s'", text);
    assert_null(log);
    if (!strstr(err.msg, msg))
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static struct df_file *fixture_df(const char *name)
{
    size_t len;
    char *text = tu_fixture(&len, "real/%s", name);
    struct df_file *df = tu_parse_df(text);

    free(text);
    return df;
}

/* ---- real logs against ci/real-build's records ---- */

struct real_case {
    const char *log;
    const char *dockerfile;
    const char *scenario, *strategy;
    int seq;
    enum buildlog_format format;
};

static const struct real_case real_cases[] = {
    { "buildkit-local-partial.log", "good-order.Dockerfile", "good-order",
      "local", 1, BUILDLOG_BUILDKIT },
    { "buildkit-none-workdir-cached.log", "good-order.Dockerfile", "good-order",
      "none", 1, BUILDLOG_BUILDKIT },
    { "buildkit-cache-from-no-inline.log", "good-order.Dockerfile",
      "good-order", "cache-from-buildkit", 1, BUILDLOG_BUILDKIT },
    { "buildkit-inline-alternating-miss.log", "good-order-label.Dockerfile",
      "good-order", "inline", 5, BUILDLOG_BUILDKIT },
    { "buildkit-inline-multistage-builder-rerun.log", "multistage.Dockerfile",
      "multistage", "inline", 6, BUILDLOG_BUILDKIT },
    { "buildkit-inline-multistage-fullhit.log", "multistage.Dockerfile",
      "multistage", "inline", 2, BUILDLOG_BUILDKIT },
    { "legacy-local-partial.log", "good-order.Dockerfile", "good-order",
      "local-legacy", 1, BUILDLOG_LEGACY },
    { "legacy-cache-from.log", "good-order.Dockerfile", "good-order",
      "cache-from-legacy", 1, BUILDLOG_LEGACY },
    { "legacy-multistage.log", "multistage.Dockerfile", "multistage",
      "local-legacy", 1, BUILDLOG_LEGACY },
};

/* The "steps" array of the expected.jsonl record of a build (new ref). */
static json_t *expected_steps(const struct real_case *c)
{
    char path[4096];
    FILE *f =
        fopen(tu_fixture_path(path, sizeof(path), "real/expected.jsonl"), "r");
    char line[1 << 16];
    json_t *found = NULL;

    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        if (!strcmp(json_string_value(json_object_get(o, "scenario")),
                    c->scenario) &&
            !strcmp(json_string_value(json_object_get(o, "strategy")),
                    c->strategy) &&
            json_integer_value(json_object_get(o, "seq")) == c->seq)
            found = json_incref(json_object_get(o, "steps"));
        json_decref(o);
    }
    fclose(f);
    assert_non_null(found);
    return found;
}

static void check_real_case(const struct real_case *c)
{
    size_t len, i, j = 0;
    char *text = tu_fixture(&len, "real/%s", c->log);
    struct df_file *df = fixture_df(c->dockerfile);
    struct buildlog *log = NULL;
    struct err err = ERR_INIT;
    json_t *want = expected_steps(c);

    assert_int_equal(buildlog_parse(&log, c->log, text, len, &err), 0);
    assert_int_equal(log->format, c->format);
    assert_true(log->complete);
    buildlog_match(log, df);
    /* the records are sorted by line; so are the steps of these logs */
    for (i = 0; i < log->nsteps; i++) {
        const struct buildlog_step *st = &log->steps[i];
        json_t *w;
        if (st->outcome == BUILDLOG_NONE)
            continue;
        if (j >= json_array_size(want))
            fail_msg("%s: extra step '%s'", c->log, st->text);
        w = json_array_get(want, j++);
        if (st->line != json_integer_value(json_object_get(w, "line")) ||
            strcmp(buildlog_outcome_name(st->outcome),
                   json_string_value(json_object_get(w, "outcome"))))
            fail_msg("%s: step '%s' is line %d %s, want line %lld %s", c->log,
                     st->text, st->line, buildlog_outcome_name(st->outcome),
                     (long long)json_integer_value(json_object_get(w, "line")),
                     json_string_value(json_object_get(w, "outcome")));
        assert_string_equal(
            st->keyword, json_string_value(json_object_get(w, "instruction")));
        if (json_object_get(w, "seconds"))
            assert_float_equal(st->seconds,
                               json_number_value(json_object_get(w, "seconds")),
                               1e-9);
        else
            assert_true(st->seconds < 0);
    }
    assert_int_equal(j, json_array_size(want));
    json_decref(want);
    buildlog_free(log);
    df_file_free(df);
    free(text);
}

static void
buildlog__real_logs_give_the_driver_s_steps_lines_and_outcomes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++)
        check_real_case(&real_cases[i]);
}

static void buildlog__buildkit_keeps_internal_vertices_apart(void **state)
{
    size_t len, i;
    char *text = tu_fixture(&len, "real/buildkit-local-partial.log");
    struct buildlog *log = NULL;
    struct err err = ERR_INIT;
    int seen_export = 0;

    (void)state;
    assert_int_equal(buildlog_parse(&log, "x", text, len, &err), 0);
    assert_int_equal(log->nsteps, 6); /* FROM + 5 */
    assert_string_equal(log->steps[0].keyword, "FROM");
    assert_int_equal(log->steps[0].outcome, BUILDLOG_NONE);
    assert_int_equal(log->nvertices, 5);
    for (i = 0; i < log->nvertices; i++) {
        assert_true(strncmp(log->vertices[i].name, "[2/", 3));
        if (!strcmp(log->vertices[i].name, "exporting to image")) {
            seen_export = 1;
            assert_true(log->vertices[i].done);
            assert_float_equal(log->vertices[i].seconds, 0.0, 1e-9);
        }
    }
    assert_true(seen_export);
    assert_string_equal(log->vertices[0].name,
                        "[internal] load build definition from Dockerfile");
    buildlog_free(log);
    free(text);
}

static void buildlog__buildkit_records_base_and_cache_blob_pulls(void **state)
{
    size_t len, i, cache = 0, base = 0;
    char *text =
        tu_fixture(&len, "real/buildkit-inline-multistage-builder-rerun.log");
    struct buildlog *log = NULL;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(buildlog_parse(&log, "x", text, len, &err), 0);
    for (i = 0; i < log->nblobs; i++) {
        const struct buildlog_blob *b = &log->blobs[i];
        assert_true(b->done);
        if (b->cache) {
            cache++;
            assert_int_equal(b->vertex, 10);
            assert_float_equal(b->seconds, 0.1, 1e-9);
        } else if (!strcmp(b->digest, "sha256:2e12055945d6cc1ab7bf27a53f3b179"
                                      "a5011b18ea024db6bb3a275e54dfc1cfc")) {
            base++;
            assert_int_equal(b->vertex, 4);
            assert_int_equal(b->bytes, 1070000);
        }
    }
    assert_int_equal(cache, 2);
    assert_int_equal(base, 1);
    /* the builder stage's steps carry their labels */
    assert_string_equal(log->steps[0].label, "builder");
    assert_string_equal(log->steps[4].label, "stage-2");
    assert_int_equal(log->steps[4].index, 2);
    assert_int_equal(log->steps[4].total, 3);
    buildlog_free(log);
    free(text);
}

/* ---- hand-written cases ---- */

static const char bk_two_steps[] =
    "#1 [internal] load build definition from Dockerfile\n"
    "#1 DONE 0.0s\n"
    "\n"
    "#2 [1/3] FROM docker.io/library/alpine:3.19\n"
    "#2 DONE 1.5s\n"
    "\n"
    "#3 [2/3] RUN   apk add   curl\n"
    "#3 0.512 fetch https://x\n"
    "#3 CACHED\n"
    "\n"
    "#4 [3/3] COPY . /app\n"
    "#4 DONE 0.2s\n";

static void
buildlog__buildkit_cached_is_hit_and_done_is_miss_with_seconds(void **state)
{
    struct buildlog *log = parse_text(bk_two_steps);

    (void)state;
    assert_int_equal(log->format, BUILDLOG_BUILDKIT);
    assert_int_equal(log->nsteps, 3);
    assert_string_equal(log->steps[1].text, "RUN apk add curl");
    assert_int_equal(log->steps[1].outcome, BUILDLOG_HIT);
    assert_true(log->steps[1].seconds < 0);
    assert_int_equal(log->steps[2].outcome, BUILDLOG_MISS);
    assert_float_equal(log->steps[2].seconds, 0.2, 1e-9);
    assert_int_equal(log->steps[2].log_line, 11);
    assert_true(log->complete);
    buildlog_free(log);
}

static void
buildlog__buildkit_last_status_wins_and_error_is_a_failed_miss(void **state)
{
    struct buildlog *log = parse_text(
        "#5 [1/2] FROM a\n#5 DONE 0.1s\n\n"
        "#6 [2/2] RUN false\n#6 sha256:"
        "0b6bba3df8cfe4aa232d0fe207b05a1a97676640f0486be89e0bdbb221963bf3\n"
        "#6 CACHED\n#6 ERROR: executor failed running [/bin/sh -c false]: "
        "exit code: 1\n------\n > [2/2] RUN false:\n------\n");

    (void)state;
    assert_int_equal(log->nsteps, 2);
    assert_int_equal(log->steps[1].outcome, BUILDLOG_MISS);
    assert_true(log->steps[1].error);
    assert_false(log->complete);
    buildlog_free(log);
}

static void buildlog__buildkit_step_without_status_is_left_out(void **state)
{
    struct buildlog *log = parse_text("#1 [1/3] FROM a\n#1 DONE 0.1s\n\n"
                                      "#2 [2/3] RUN sleep 100\n"
                                      "#2 0.1 still running\n");

    (void)state;
    assert_int_equal(log->nsteps, 1);
    assert_false(log->complete);
    buildlog_free(log);
}

static void buildlog__crlf_and_missing_final_newline_are_fine(void **state)
{
    struct buildlog *log = parse_text("#1 [1/2] FROM a\r\n#1 DONE 0.1s\r\n\r\n"
                                      "#2 [2/2] RUN x\r\n#2 CACHED");

    (void)state;
    assert_int_equal(log->nsteps, 2);
    assert_string_equal(log->steps[1].text, "RUN x");
    assert_int_equal(log->steps[1].outcome, BUILDLOG_HIT);
    buildlog_free(log);
}

struct bad_case {
    const char *text;
    const char *msg;
};

static void buildlog__malformed_logs_fail_with_file_and_line(void **state)
{
    static const struct bad_case bad[] = {
        { "", "t.log:1: not a docker build log" },
        { "hello\nworld\n", "t.log:1: not a docker build log" },
        { "#1 [1/2] FROM a\n#1 DONE 1.xs\n",
          "t.log:2: malformed time '#1 DONE 1.xs'" },
        { "#1 [1/2] FROM a\n#1 DONE fast\n", "t.log:2: malformed time" },
        { "#4 CACHED\n", "t.log:1: status of a vertex before its name" },
        { "#1 [3/2] RUN x\n", "t.log:1: step k/n out of range" },
        { "#1 [0/2] RUN x\n", "t.log:1: step k/n out of range" },
        { "\n\n#12x [1/2] RUN x\n", "t.log:3: malformed vertex line" },
        { "#1 [1/2 RUN x\n", "t.log:1: malformed vertex line" },
        { "#1 [1/2]   \n", "t.log:1: step with no instruction" },
        { "#1 [1/2] FROM a\n\n#1 [2/2] RUN b\n",
          "t.log:3: vertex renamed in this line" },
        { "#99999999999 [1/2] FROM a\n", "t.log:1: malformed vertex line" },
        { "Step 1/2 : FROM a\nStep 1/2 : RUN b\n",
          "t.log:2: step i/n out of order" },
        { "Step 1/2 : FROM a\nStep 2/3 : RUN b\n",
          "t.log:2: step i/n out of order" },
        { "Step 3/2 : FROM a\n", "t.log:1: step i/n out of range" },
        { "Step 1/2 :  \n", "t.log:1: step with no instruction" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_fails(bad[i].text, bad[i].msg);
}

static void
buildlog__nul_bytes_and_long_lines_do_not_break_the_parser(void **state)
{
    static const char with_nul[] = "#1 [1/2] FROM a\n#1 DONE 0.1s\n\n"
                                   "#2 [2/2] RUN a\0b\n#2 DONE 0.3s\n";
    struct buildlog *log = NULL;
    struct err err = ERR_INIT;
    char *big = malloc(100000);
    size_t i;

    (void)state;
    assert_int_equal(
        buildlog_parse(&log, "t", with_nul, sizeof(with_nul) - 1, &err), 0);
    assert_int_equal(log->nsteps, 2);
    assert_string_equal(log->steps[1].text, "RUN a?b");
    buildlog_free(log);
    memcpy(big, "#1 [1/2] RUN ", 13);
    for (i = 13; i < 99999; i++)
        big[i] = 'x';
    big[99999] = '\0';
    log = parse_text(big);
    assert_int_equal(log->nsteps, 0); /* no status: left out */
    buildlog_free(log);
    free(big);
}

static void
buildlog__legacy_using_cache_is_hit_and_failure_marks_last_step(void **state)
{
    struct buildlog *log = parse_text(
        "Sending build context to Docker daemon  2.048kB\n"
        "Step 1/3 : FROM alpine\n ---> abc\n"
        "Step 2/3 : RUN echo  hi\n ---> Using cache\n ---> def\n"
        "Step 3/3 : RUN false\n ---> Running in 123\n"
        "The command '/bin/sh -c false' returned a non-zero code: 1\n");

    (void)state;
    assert_int_equal(log->format, BUILDLOG_LEGACY);
    assert_int_equal(log->nsteps, 3);
    assert_int_equal(log->steps[0].outcome, BUILDLOG_NONE);
    assert_int_equal(log->steps[1].outcome, BUILDLOG_HIT);
    assert_string_equal(log->steps[1].text, "RUN echo hi");
    assert_int_equal(log->steps[2].outcome, BUILDLOG_MISS);
    assert_true(log->steps[2].error);
    assert_false(log->steps[1].error);
    assert_false(log->complete);
    buildlog_free(log);
}

static void buildlog__legacy_steps_match_instructions_by_position(void **state)
{
    struct df_file *df = tu_parse_df("ARG V=1\nFROM a\n\nRUN x \\\n  y\n"
                                     "ENV A=1\nLABEL z=1\n");
    struct buildlog *log = parse_text("Step 1/5 : ARG V=1\nStep 2/5 : FROM a\n"
                                      "Step 3/5 : RUN x   y\n"
                                      " ---> Using cache\n"
                                      "Step 4/5 : ENV A=2\n"
                                      "Step 5/5 : CMD z\n"
                                      "Successfully built 123\n");

    (void)state;
    assert_int_equal(buildlog_match(log, df), 4);
    assert_int_equal(log->steps[0].line, 1);
    assert_int_equal(log->steps[0].stage, -1);
    assert_int_equal(log->steps[2].line, 4);
    assert_int_equal(log->steps[2].stage, 0);
    /* the text may differ (another revision): the position decides */
    assert_int_equal(log->steps[3].line, 6);
    /* a keyword that differs matches nothing */
    assert_int_equal(log->steps[4].line, 0);
    buildlog_free(log);
    df_file_free(df);
}

static void
buildlog__buildkit_falls_back_to_text_when_positions_differ(void **state)
{
    /* the log is of a Dockerfile without "RUN b": 3 vertex steps, not 4 */
    struct df_file *df = tu_parse_df("FROM a AS one\nRUN b\nRUN  c\nCOPY . /d\n"
                                     "FROM one\nWORKDIR /w\n");
    struct buildlog *log = parse_text(
        "#1 [one 1/3] FROM docker.io/library/a@sha256:12\n#1 DONE 0.1s\n\n"
        "#2 [one 2/3] RUN c\n#2 DONE 0.1s\n\n"
        "#3 [one 3/3] COPY . /d\n#3 CACHED\n\n"
        "#4 [stage-1 2/2] WORKDIR /w\n#4 CACHED\n\n"
        "#5 [nosuch 2/2] RUN c\n#5 CACHED\n");

    (void)state;
    assert_int_equal(buildlog_match(log, df), 3);
    assert_int_equal(log->steps[0].line, 0); /* FROM text has a digest */
    assert_int_equal(log->steps[1].line, 3);
    assert_int_equal(log->steps[2].line, 4);
    assert_int_equal(log->steps[3].line, 6);
    assert_int_equal(log->steps[3].stage, 1);
    assert_int_equal(log->steps[4].line, 0);
    buildlog_free(log);
    df_file_free(df);
}

static void
buildlog__history_rows_give_created_by_size_and_comment(void **state)
{
    size_t len;
    char *text = tu_fixture(&len, "real/legacy-history.txt");
    struct buildlog_history *h = NULL;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(buildlog_history_parse(&h, "h", text, len, &err), 0);
    assert_int_equal(h->nrows, 10);
    assert_string_equal(h->rows[0].created_by,
                        "/bin/sh -c #(nop)  CMD [\"sh\" \"/app/main.sh\"]");
    assert_string_equal(
        h->rows[2].created_by,
        "|1 APP_VERSION=1 /bin/sh -c sh /app/build.sh > /build.log");
    assert_int_equal(h->rows[2].size, 11);
    assert_int_equal(h->rows[3].size, 462);
    assert_string_equal(h->rows[9].image,
                        "sha256:f5180bad04ffe60dbbc0c6b8b6091c6848db6c4f"
                        "a208c7913c277448fabb3c75");
    assert_int_equal(h->rows[9].size, 1980000);
    assert_string_equal(h->rows[9].comment, "Imported from -");
    assert_string_equal(h->rows[9].created_by, "");
    buildlog_history_free(h);
    free(text);

    text = tu_fixture(&len, "real/buildkit-inline-history.txt");
    assert_int_equal(buildlog_history_parse(&h, "h", text, len, &err), 0);
    assert_int_equal(h->nrows, 10);
    assert_string_equal(h->rows[1].image, "<missing>");
    assert_string_equal(h->rows[3].created_by, "COPY . /app # buildkit");
    assert_string_equal(h->rows[3].comment, "buildkit.dockerfile.v0");
    assert_int_equal(h->rows[4].size, 26);
    buildlog_history_free(h);
    free(text);
}

static void buildlog__history_errors_name_the_line(void **state)
{
    static const char bad_size[] = "IMAGE  CREATED BY  SIZE  COMMENT\n"
                                   "abc    RUN x       12QB  \n";
    struct buildlog_history *h = (struct buildlog_history *)1;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(buildlog_history_parse(&h, "h", "#1 x\n", 5, &err),
                     ERR_PARSE);
    assert_null(h);
    assert_string_equal(err.msg, "h:1: not docker history output");
    assert_int_equal(
        buildlog_history_parse(&h, "h", bad_size, sizeof(bad_size) - 1, &err),
        ERR_PARSE);
    assert_string_equal(err.msg, "h:2: malformed size '12QB'");
    assert_int_equal(
        buildlog_history_parse(&h, "h", "IMAGE CREATED BY SIZE\nx\n", 23, &err),
        ERR_PARSE);
    assert_string_equal(err.msg, "h:2: short row 'x'");
}

static void buildlog__sizes_use_decimal_units(void **state)
{
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = { { "0B", 0 },           { "462B", 462 },       { "1.07kB", 1070 },
               { "1.98MB", 1980000 }, { "2GB", 2000000000 }, { "3KB", 3000 } };
    static const char *const bad[] = { "",    "B",      "1.5", "1.5XB",
                                       "-1B", "1e400B", "12 B" };
    size_t i;
    int64_t v;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(buildlog_size_parse(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(buildlog_size_parse(bad[i], strlen(bad[i]), &v),
                         ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            buildlog__real_logs_give_the_driver_s_steps_lines_and_outcomes),
        cmocka_unit_test(buildlog__buildkit_keeps_internal_vertices_apart),
        cmocka_unit_test(buildlog__buildkit_records_base_and_cache_blob_pulls),
        cmocka_unit_test(
            buildlog__buildkit_cached_is_hit_and_done_is_miss_with_seconds),
        cmocka_unit_test(
            buildlog__buildkit_last_status_wins_and_error_is_a_failed_miss),
        cmocka_unit_test(buildlog__buildkit_step_without_status_is_left_out),
        cmocka_unit_test(buildlog__crlf_and_missing_final_newline_are_fine),
        cmocka_unit_test(buildlog__malformed_logs_fail_with_file_and_line),
        cmocka_unit_test(
            buildlog__nul_bytes_and_long_lines_do_not_break_the_parser),
        cmocka_unit_test(
            buildlog__legacy_using_cache_is_hit_and_failure_marks_last_step),
        cmocka_unit_test(buildlog__legacy_steps_match_instructions_by_position),
        cmocka_unit_test(
            buildlog__buildkit_falls_back_to_text_when_positions_differ),
        cmocka_unit_test(
            buildlog__history_rows_give_created_by_size_and_comment),
        cmocka_unit_test(buildlog__history_errors_name_the_line),
        cmocka_unit_test(buildlog__sizes_use_decimal_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
