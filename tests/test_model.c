/*
 * test_model.c - the build-time model: scheduling, calibration from real
 * log formats, heuristics, and the profile files against the compiled
 * profiles.
 */
#include "testutil.h"

#include <math.h>

#include "calib.h"
#include "dockerfile.h"
#include "facts.h"
#include "model.h"
#include "record.h"

/* A multi-stage build: two independent stages of 10 s each, then a final
 * stage copying from both (1 s). */
static void model__buildkit_takes_the_critical_path_and_legacy_the_sum(
    void **state)
{
    struct model m;
    /* 0 FROM a, 1 RUN (10 s) | 2 FROM b, 3 RUN (10 s) | 4 FROM c,
     * 5 COPY --from=0 (0.5 s), 6 COPY --from=1 (0.5 s) */
    const double dur[] = { 0, 10, 0, 10, 0, 0.5, 0.5 };
    const int dep_a[] = { -1, 0, -1, 2, -1, 4, 5 };
    const int dep_b[] = { -1, -1, -1, -1, -1, 1, 3 };
    static const struct {
        int builder, cores;
        double want;
    } cases[] = {
        { MODEL_BUILDKIT, 2, 11.0 },
        { MODEL_BUILDKIT, 0, 11.0 }, /* unbounded */
        { MODEL_BUILDKIT, 1, 21.0 }, /* one core: the sum again */
        { MODEL_LEGACY, 8, 21.0 },
    };

    (void)state;
    model_profile(&m, "buildkit");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m.cores = cases[i].cores;
        assert_near(model_schedule(&m, cases[i].builder, dur, dep_a, dep_b, 7),
                    cases[i].want, 1e-9);
    }
}

static void model__three_stages_on_two_cores_wait_for_a_core(void **state)
{
    struct model m;
    const double dur[] = { 4, 4, 4, 1 };
    const int dep_a[] = { -1, -1, -1, 0 };
    const int dep_b[] = { -1, -1, -1, 1 };

    (void)state;
    model_profile(&m, "docker-20.10");
    m.cores = 2;
    /* two run at once, the third after one of them: 8; the last step
     * waits for 0 and 1 (4) and runs beside the third */
    assert_near(model_schedule(&m, MODEL_BUILDKIT, dur, dep_a, dep_b, 4), 8.0,
                1e-9);
}

static void model__apt_and_apk_count_the_packages_named(void **state)
{
    struct model m;
    struct model_cost a, b;
    struct model_step_in in;

    (void)state;
    model_profile(&m, "buildkit");
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_RUN;
    in.builder = MODEL_BUILDKIT;
    in.command = "apt-get update && apt-get install -y --no-install-recommends "
                 "curl ca-certificates git && rm -rf /var/lib/apt/lists/*";
    model_step_cost(&m, &in, &a);
    in.command = "apt-get install -y curl";
    model_step_cost(&m, &in, &b);
    assert_int_equal(a.seconds_src, MODEL_SRC_HEURISTIC);
    assert_non_null(strstr(a.rule, "3 packages"));
    assert_non_null(strstr(b.rule, "1 packages"));
    assert_true(a.seconds > b.seconds);
    assert_true(a.raw_bytes > b.raw_bytes);
    in.command = "apk add --no-cache bash make";
    model_step_cost(&m, &in, &a);
    assert_non_null(strstr(a.rule, "2 packages"));
}

static void model__lockfiles_count_their_packages(void **state)
{
    const char *req = "# pinned\nflask==3.0\n\nrequests>=2\n-r base.txt\n";
    const char *npm = "{\"packages\": {\"\": {}, \"node_modules/a\": {}, "
                      "\"node_modules/b\": {}, \"node_modules/a/node_modules/"
                      "c\": {}}}";
    const char *gosum = "golang.org/x/mod v0.1.0 h1:x=\n"
                        "golang.org/x/mod v0.1.0/go.mod h1:y=\n"
                        "github.com/a/b v1.0.0 h1:z=\n";
    const char *cargo = "[[package]]\nname = \"a\"\n\n[[package]]\nname = "
                        "\"b\"\n";

    (void)state;
    assert_int_equal(facts_count_packages(MODEL_ECO_PIP, req, strlen(req)), 2);
    assert_int_equal(facts_count_packages(MODEL_ECO_NPM, npm, strlen(npm)), 3);
    assert_int_equal(facts_count_packages(MODEL_ECO_GO, gosum, strlen(gosum)),
                     2);
    assert_int_equal(facts_count_packages(MODEL_ECO_CARGO, cargo,
                                          strlen(cargo)),
                     2);
}

static void model__install_scales_with_the_lockfile(void **state)
{
    struct model m;
    struct model_facts f;
    struct model_cost small, big, none;
    struct model_step_in in;

    (void)state;
    model_profile(&m, "buildkit");
    memset(&f, 0, sizeof(f));
    for (int i = 0; i < MODEL_ECO_COUNT; i++)
        f.packages[i] = -1;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_RUN;
    in.builder = MODEL_BUILDKIT;
    in.command = "npm ci --omit=dev";
    model_step_cost(&m, &in, &none);
    assert_int_equal(none.seconds_src, MODEL_SRC_FAMILY);
    in.facts = &f;
    f.packages[MODEL_ECO_NPM] = 50;
    model_step_cost(&m, &in, &small);
    f.packages[MODEL_ECO_NPM] = 1500;
    model_step_cost(&m, &in, &big);
    assert_int_equal(big.seconds_src, MODEL_SRC_HEURISTIC);
    assert_non_null(strstr(big.rule, "package-lock.json"));
    assert_true(big.seconds > small.seconds);
    assert_true(big.raw_bytes > 10 * small.raw_bytes / 2);
}

static void model__calibrated_step_wins_and_says_where_from(void **state)
{
    struct model m;
    struct model_calib c;
    struct model_cost out;
    struct model_step_in in;

    (void)state;
    model_profile(&m, "docker-20.10");
    model_calib_init(&c);
    model_calib_add(&c, 0, "RUN  npm   ci", MODEL_BUILDKIT, 42.5, -1, 123456,
                    "ci.log:17");
    m.calib = &c;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_RUN;
    in.builder = MODEL_BUILDKIT;
    in.stage = 0;
    in.text = "RUN npm ci";
    in.command = "npm ci";
    model_step_cost(&m, &in, &out);
    assert_int_equal(out.seconds_src, MODEL_SRC_CALIBRATED);
    assert_int_equal(out.bytes_src, MODEL_SRC_CALIBRATED);
    assert_near(out.seconds, 42.5, 1e-9);
    assert_int_equal(out.bytes, 123456);
    assert_string_equal(out.rule, "ci.log:17");
    /* under the legacy builder: the measured work, legacy's overhead */
    in.builder = MODEL_LEGACY;
    model_step_cost(&m, &in, &out);
    assert_near(out.seconds,
                42.5 - m.b[MODEL_BUILDKIT].step_overhead +
                    m.b[MODEL_LEGACY].step_overhead,
                1e-9);
    /* another instruction: not calibrated */
    in.text = "RUN npm test";
    in.command = "npm test";
    model_step_cost(&m, &in, &out);
    assert_int_not_equal(out.seconds_src, MODEL_SRC_CALIBRATED);
    model_calib_free(&c);
}

static const struct model_calib_step *find_step(const struct model_calib *c,
                                                const char *prefix)
{
    for (size_t i = 0; i < c->nsteps; i++)
        if (!strncmp(c->steps[i].text, prefix, strlen(prefix)))
            return &c->steps[i];
    return NULL;
}

/* Calibrate c (initialised here) from the build log text named path, as
 * a log of df's build (may be NULL); the number of steps it measured. */
static size_t timed(struct model_calib *c, const char *path, const char *log,
                    const struct df_file *df)
{
    struct calib_ref ref = { df, NULL };
    struct err err = ERR_INIT;
    size_t n = 0;

    model_calib_init(c);
    if (calib_timings(c, path, log, strlen(log), df ? &ref : NULL, &n, &err) <
        0)
        fail_msg("%s", err.msg);
    return n;
}

/* A GitHub Actions job log: timestamps and colour codes before BuildKit's
 * plain progress. */
static void calib__ci_timestamps_and_ansi_codes_are_stripped(void **state)
{
    const char *log =
        "2026-01-05T10:00:00.1000000Z \033[36;1m#1 [internal] load build "
        "definition from Dockerfile\033[0m\n"
        "2026-01-05T10:00:00.2000000Z #1 DONE 0.1s\n"
        "2026-01-05T10:00:00.3000000Z \n"
        "2026-01-05T10:00:00.4000000Z #5 [2/3] RUN pip install -r "
        "requirements.txt\n"
        "2026-01-05T10:00:40.4000000Z #5 DONE 40.0s\n"
        "2026-01-05T10:00:40.5000000Z #6 [3/3] COPY . /app\n"
        "2026-01-05T10:00:40.9000000Z #6 DONE 0.4s\n"
        "2026-01-05T10:00:41.0000000Z #7 exporting to image\n"
        "2026-01-05T10:00:42.0000000Z #7 DONE 1.0s\n";
    struct df_file *df = tu_parse_df("FROM python:3.12\nRUN pip install -r "
                                     "requirements.txt\nCOPY . /app\n");
    struct model_calib c;
    const struct model_calib_step *s;

    (void)state;
    assert_int_equal(timed(&c, "job.log", log, df), 2);
    s = find_step(&c, "RUN pip");
    assert_non_null(s);
    assert_near(s->seconds, 40.0, 1e-9);
    assert_int_equal(s->stage, 0);
    assert_int_equal(s->builder, MODEL_BUILDKIT);
    assert_near(c.fixed[MODEL_BUILDKIT].export_total, 1.0, 1e-9);
    assert_near(c.fixed[MODEL_BUILDKIT].start, 0.1, 1e-9);
    /* the build's wall time: first stamped line to the last */
    assert_near(c.fixed[MODEL_BUILDKIT].wall, 41.9, 1e-6);
    assert_true(c.fixed[MODEL_LEGACY].wall < 0);
    model_calib_free(&c);
    df_file_free(df);
}

/* Legacy logs print no times: with CI timestamps a step lasts until the
 * next step's line. */
static void calib__legacy_log_with_timestamps_times_each_step(void **state)
{
    const char *log =
        "2026-01-05T10:00:00.000Z Sending build context to Docker daemon  "
        "3.072kB\n"
        "2026-01-05T10:00:00.500Z Step 1/3 : FROM alpine:3.19\n"
        "2026-01-05T10:00:00.600Z  ---> 05455a08881e\n"
        "2026-01-05T10:00:01.000Z Step 2/3 : RUN apk add --no-cache git\n"
        "2026-01-05T10:00:01.100Z  ---> Running in 1a2b3c4d5e6f\n"
        "2026-01-05T10:00:07.000Z Removing intermediate container "
        "1a2b3c4d5e6f\n"
        "2026-01-05T10:00:07.250Z  ---> 9f8e7d6c5b4a\n"
        "2026-01-05T10:00:07.250Z Step 3/3 : CMD [\"git\"]\n"
        "2026-01-05T10:00:07.300Z  ---> Running in 0a0b0c0d0e0f\n"
        "2026-01-05T10:00:08.250Z Removing intermediate container "
        "0a0b0c0d0e0f\n"
        "2026-01-05T10:00:08.250Z  ---> 11aa22bb33cc\n"
        "2026-01-05T10:00:08.300Z Successfully built 11aa22bb33cc\n";
    struct df_file *df = tu_parse_df("FROM alpine:3.19\nRUN apk add --no-cache "
                                     "git\nCMD [\"git\"]\n");
    struct model_calib c;
    const struct model_calib_step *s;

    (void)state;
    timed(&c, "legacy.log", log, df);
    s = find_step(&c, "RUN apk");
    assert_non_null(s);
    assert_near(s->seconds, 6.25, 1e-6);
    assert_int_equal(s->builder, MODEL_LEGACY);
    assert_near(c.fixed[MODEL_LEGACY].wall, 8.3, 1e-6);
    assert_true(c.fixed[MODEL_BUILDKIT].wall < 0);
    s = find_step(&c, "CMD");
    assert_non_null(s);
    assert_near(s->seconds, 1.05, 1e-6);
    model_calib_free(&c);
    df_file_free(df);
}

/* Two stages built at once: their lines interleave; errored and cancelled
 * steps measure nothing. */
static void calib__parallel_stages_interleave_and_failures_measure_nothing(
    void **state)
{
    const char *log =
        "#1 [internal] load build definition from Dockerfile\n"
        "#1 DONE 0.0s\n"
        "#4 [web 1/3] FROM docker.io/library/node:22\n"
        "#5 [api 1/3] FROM docker.io/library/golang:1.23\n"
        "#6 [web 2/3] RUN npm ci\n"
        "#7 [api 2/3] RUN go mod download\n"
        "#7 DONE 12.5s\n"
        "#8 [api 3/3] RUN go build -o /app ./...\n"
        "#6 DONE 30.2s\n"
        "#9 [web 3/3] RUN npm run build\n"
        "#8 ERROR: process \"/bin/sh -c go build -o /app ./...\" did not "
        "complete successfully: exit code: 1\n"
        "#9 CANCELED\n";
    struct df_file *df = tu_parse_df(
        "FROM golang:1.23 AS api\nRUN go mod download\nRUN go build -o /app "
        "./...\n\nFROM node:22 AS web\nRUN npm ci\nRUN npm run build\n");
    struct model_calib c;
    const struct model_calib_step *s;

    (void)state;
    assert_int_equal(timed(&c, "par.log", log, df), 2);
    s = find_step(&c, "RUN npm ci");
    assert_non_null(s);
    assert_int_equal(s->stage, 1);
    assert_near(s->seconds, 30.2, 1e-9);
    s = find_step(&c, "RUN go mod");
    assert_non_null(s);
    assert_int_equal(s->stage, 0);
    assert_null(find_step(&c, "RUN go build"));
    assert_null(find_step(&c, "RUN npm run"));
    model_calib_free(&c);
    df_file_free(df);
}

static void calib__rawjson_vertexes_give_their_durations(void **state)
{
    const char *log =
        "{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[1/2] FROM "
        "docker.io/library/alpine:3.19\"}]}\n"
        "{\"vertexes\":[{\"digest\":\"sha256:b\",\"inputs\":[\"sha256:a\"],"
        "\"name\":\"[2/2] RUN apk add git\",\"started\":\"2026-01-05T10:00:"
        "01.25Z\"}]}\n"
        "{\"vertexes\":[{\"digest\":\"sha256:b\",\"inputs\":[\"sha256:a\"],"
        "\"name\":\"[2/2] RUN apk add git\",\"started\":\"2026-01-05T10:00:"
        "01.25Z\",\"completed\":\"2026-01-05T10:00:04.75Z\"}],\"logs\":"
        "[{\"vertex\":\"sha256:b\",\"data\":\"T0sK\"}]}\n";
    struct model_calib c;
    const struct model_calib_step *s;

    (void)state;
    timed(&c, "raw.json", log, NULL);
    s = find_step(&c, "RUN apk add git");
    assert_non_null(s);
    assert_near(s->seconds, 3.5, 1e-6);
    assert_int_equal(s->stage, -1);
    model_calib_free(&c);
}

static void calib__malformed_files_name_file_and_line(void **state)
{
    struct model_calib c;
    struct err err = ERR_INIT;
    const char *notlog = "hello\nworld\n";
    const char *badtime = "#1 [1/2] RUN x\n#1 DONE 1.x\n";
    const char *hist = "{\"CreatedBy\":\"RUN x\",\"Size\":\"1kB\"}\n{oops\n";
    const char *man = "{\"schemaVersion\":2,\"manifests\":[]}";
    struct df_file *df = tu_parse_df("FROM a\nRUN x\n");
    struct calib_ref ref = { df, NULL };

    (void)state;
    model_calib_init(&c);
    assert_int_equal(calib_timings(&c, "a.log", notlog, strlen(notlog), NULL,
                                   NULL, &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "a.log"));
    assert_int_equal(calib_timings(&c, "b.log", badtime, strlen(badtime), NULL,
                                   NULL, &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "b.log:2:"));
    assert_int_equal(calib_layers(&c, "h.jsonl", hist, strlen(hist), &ref,
                                  NULL, &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "h.jsonl:2:"));
    assert_int_equal(calib_manifest(&c, "m.json", man, strlen(man), &ref,
                                    NULL, &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "m.json:1:"));
    assert_int_equal(c.nsteps, 0);
    model_calib_free(&c);
    df_file_free(df);
}

/* docker history of a real BuildKit image (ci/real-build): raw sizes by
 * instruction, newest first. */
static void calib__history_lines_give_raw_layer_sizes(void **state)
{
    size_t len, dlen, n = 0;
    char *text =
        tu_fixture(&len, "accuracy/logs/good-order-local-0.history.jsonl");
    char *dtext = tu_fixture(&dlen, "real/good-order.Dockerfile");
    struct df_file *df = NULL;
    struct err err = ERR_INIT;
    struct model_calib c;
    struct calib_ref ref;
    const struct model_calib_step *s;

    (void)state;
    assert_int_equal(df_parse(&df, "Dockerfile", dtext, dlen, NULL, &err), 0);
    ref.df = df;
    ref.kb = NULL;
    model_calib_init(&c);
    assert_int_equal(calib_layers(&c, "h.jsonl", text, len, &ref, &n, &err),
                     0);
    assert_int_equal(n, 4); /* 2 COPY, 2 RUN */
    s = find_step(&c, "COPY . /app");
    assert_non_null(s);
    assert_int_equal(s->raw_bytes, 462);
    assert_true(s->seconds < 0);
    model_calib_free(&c);
    df_file_free(df);
    free(text);
    free(dtext);
}

static void model__profile_files_match_the_compiled_profiles(void **state)
{
    const char *names[] = { "docker-20.10", "buildkit" };

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        struct model file, built;
        struct err err = ERR_INIT;
        size_t len;
        char *text;

        snprintf(path, sizeof(path), "scenarios/model/%s.json", names[i]);
        text = tu_slurp(path, &len);
        memset(&file, 0, sizeof(file));
        memset(&built, 0, sizeof(built));
        if (record_model_parse(&file, path, text, len, &err) < 0)
            fail_msg("%s", err.msg);
        model_profile(&built, names[i]);
        assert_string_equal(file.name, built.name);
        assert_memory_equal(&file.b, &built.b, sizeof(built.b));
        assert_true(file.blob_latency == built.blob_latency &&
                    file.pull_base == built.pull_base &&
                    file.push_base == built.push_base &&
                    file.extract_layer == built.extract_layer &&
                    file.pull_mbps == built.pull_mbps &&
                    file.push_mbps == built.push_mbps &&
                    file.unpack_mbps == built.unpack_mbps &&
                    file.pack_mbps == built.pack_mbps &&
                    file.pull_concurrency == built.pull_concurrency &&
                    file.push_concurrency == built.push_concurrency &&
                    file.compress_ratio == built.compress_ratio &&
                    file.run_seconds == built.run_seconds &&
                    file.run_mbytes == built.run_mbytes &&
                    file.copy_mbps == built.copy_mbps &&
                    file.unknown_base_mbytes == built.unknown_base_mbytes &&
                    file.cores == built.cores);
        assert_int_equal(file.nruns, built.nruns);
        assert_memory_equal(file.runs, built.runs,
                            built.nruns * sizeof(built.runs[0]));
        assert_int_equal(file.nbases, built.nbases);
        assert_memory_equal(file.bases, built.bases,
                            built.nbases * sizeof(built.bases[0]));
        free(text);
    }
}

static void model__model_file_without_sources_is_refused(void **state)
{
    const char *text = "{\n  \"profile\": \"buildkit\",\n  \"parameters\": {\n"
                       "    \"pull_mbps\": {\"value\": 10}\n  }\n}\n";
    struct model m;
    struct err err = ERR_INIT;

    (void)state;
    model_profile(&m, "buildkit");
    assert_int_equal(record_model_parse(&m, "m.json", text, strlen(text),
                                        &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "m.json:4:"));
    assert_non_null(strstr(err.msg, "source"));
}

/* A log without timestamps gives no wall time; a machine twice as slow
 * doubles the engine's own costs but neither the commands' work, the
 * network, nor what the user's logs measured. */
static void model__machine_factor_scales_the_profile_not_the_logs(
    void **state)
{
    const char *log = "#1 [internal] load build definition from Dockerfile\n"
                      "#1 DONE 0.1s\n"
                      "#2 [2/2] RUN make\n"
                      "#2 DONE 3.0s\n";
    struct df_file *df = tu_parse_df("FROM alpine\nRUN make\n");
    struct model_calib c;
    struct model m, m2;
    struct model_step_in in = { 0 };
    struct model_cost cost;

    (void)state;
    timed(&c, "plain.log", log, df);
    assert_true(c.fixed[MODEL_BUILDKIT].wall < 0);
    assert_int_equal(model_profile(&m, "docker-20.10"), 0);
    m2 = m;
    model_scale(&m2, 2);
    assert_near(m2.scale, 2, 1e-12);
    assert_near(m2.b[MODEL_BUILDKIT].cached_step,
                2 * m.b[MODEL_BUILDKIT].cached_step, 1e-12);
    assert_near(m2.b[MODEL_LEGACY].meta_step, 2 * m.b[MODEL_LEGACY].meta_step,
                1e-12);
    assert_near(m2.extract_layer, 2 * m.extract_layer, 1e-12);
    assert_near(m2.pack_mbps, m.pack_mbps / 2, 1e-12);
    assert_near(m2.pull_mbps, m.pull_mbps, 1e-12);
    assert_near(m2.run_seconds, m.run_seconds, 1e-12);
    assert_near(m2.runs[0].seconds, m.runs[0].seconds, 1e-12);
    /* an uncalibrated RUN: overhead scaled, work not */
    in.kind = MODEL_RUN;
    in.builder = MODEL_BUILDKIT;
    in.text = "RUN ./configure";
    in.command = "./configure";
    model_step_cost(&m2, &in, &cost);
    assert_near(cost.seconds,
                2 * m.b[MODEL_BUILDKIT].step_overhead + m.run_seconds, 1e-9);
    /* the logged step keeps its measured time */
    m2.calib = &c;
    in.stage = 0;
    in.text = "RUN make";
    in.command = "make";
    model_step_cost(&m2, &in, &cost);
    assert_int_equal(cost.seconds_src, MODEL_SRC_CALIBRATED);
    assert_near(cost.seconds, 3.0, 1e-9);
    model_scale(&m2, 0); /* ignored */
    assert_near(m2.scale, 2, 1e-12);
    model_calib_free(&c);
    df_file_free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            model__buildkit_takes_the_critical_path_and_legacy_the_sum),
        cmocka_unit_test(model__three_stages_on_two_cores_wait_for_a_core),
        cmocka_unit_test(model__apt_and_apk_count_the_packages_named),
        cmocka_unit_test(model__lockfiles_count_their_packages),
        cmocka_unit_test(model__install_scales_with_the_lockfile),
        cmocka_unit_test(model__calibrated_step_wins_and_says_where_from),
        cmocka_unit_test(calib__ci_timestamps_and_ansi_codes_are_stripped),
        cmocka_unit_test(calib__legacy_log_with_timestamps_times_each_step),
        cmocka_unit_test(
            calib__parallel_stages_interleave_and_failures_measure_nothing),
        cmocka_unit_test(calib__rawjson_vertexes_give_their_durations),
        cmocka_unit_test(calib__malformed_files_name_file_and_line),
        cmocka_unit_test(calib__history_lines_give_raw_layer_sizes),
        cmocka_unit_test(
            model__machine_factor_scales_the_profile_not_the_logs),
        cmocka_unit_test(model__profile_files_match_the_compiled_profiles),
        cmocka_unit_test(model__model_file_without_sources_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
