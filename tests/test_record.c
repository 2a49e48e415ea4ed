/*
 * test_record.c - scenario files: what they set, and errors that name the
 * file and the line.
 */
#include "testutil.h"

#include "cli.h"
#include "record.h"

static int parse(struct scenario *s, const char *text, struct err *err)
{
    return scenario_parse(s, "demo.json", text, strlen(text), err);
}

static void record__scenario_sets_every_option(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(
        parse(&s,
              "{\n"
              "  \"repo\": \"repo\", \"range\": \"v1..main\",\n"
              "  \"strategies\": [\"local\", \"inline\"],\n"
              "  \"runners\": 4, \"assign\": \"random\", \"seed\": 9,\n"
              "  \"build_args\": {\"FLAVOR\": \"slim\"},\n"
              "  \"bases\": {\"python:3.12\": \"sha256:ab\"},\n"
              "  \"cache_limit\": \"20GB\", \"first_parent\": true,\n"
              "  \"synth\": {\"template\": \"node\", \"commits\": 50}\n"
              "}\n",
              &err),
        0);
    assert_string_equal(s.repo, "repo");
    assert_string_equal(s.range, "v1..main");
    assert_string_equal(s.strategies, "local,inline");
    assert_int_equal(s.runners, 4);
    assert_int_equal(s.seed, 9);
    assert_int_equal(s.nbuild_args, 1);
    assert_string_equal(s.build_args[0], "FLAVOR=slim");
    assert_string_equal(s.bases[0], "python:3.12=sha256:ab");
    assert_int_equal(s.first_parent, 1);
    assert_int_equal(s.reproducible, -1);
    assert_true(s.has_synth);
    assert_string_equal(s.synth_template, "node");
    assert_int_equal(s.synth_commits, 50);
    assert_int_equal(s.synth_files, -1);
    scenario_release(&s);
}

static void record__unknown_key_names_its_line(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, "{\n  \"repo\": \"x\",\n  \"runers\": 4\n}",
                           &err),
                     ERR_PARSE);
    assert_string_equal(err.msg, "demo.json:3: unknown key 'runers'");
}

static void record__wrong_type_names_key_and_line(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, "{\"repo\": \"x\",\n\"runners\": \"four\"}",
                           &err),
                     ERR_PARSE);
    assert_string_equal(err.msg,
                        "demo.json:2: 'runners' must be a whole number >= 0");
}

static void record__invalid_json_gives_the_parser_line(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, "{\n\"repo\": \"x\"\n\"db\": 1}", &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "demo.json:3: not valid JSON"));
}

static void record__duplicate_keys_are_rejected(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, "{\"db\": \"a\",\n \"db\": \"b\"}", &err),
                     ERR_PARSE);
    assert_non_null(strstr(err.msg, "duplicate"));
}

static void record__top_level_must_be_an_object(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, "[1, 2]", &err), ERR_PARSE);
    assert_string_equal(err.msg,
                        "demo.json:1: a scenario must be a JSON object");
}

static void record__paths_resolve_next_to_the_file(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    char *dir = tu_tmpdir(), path[4096], *p;
    (void)state;

    snprintf(path, sizeof(path), "%s/s.json", dir);
    tu_write(dir, "s.json", "{\"repo\": \"r\", \"db\": \"/abs.db\"}");
    assert_int_equal(scenario_load(&s, path, &err), 0);
    p = scenario_path(&s, s.repo);
    snprintf(path, sizeof(path), "%s/r", dir);
    assert_string_equal(p, path);
    free(p);
    p = scenario_path(&s, s.db);
    assert_string_equal(p, "/abs.db");
    free(p);
    /* a folder followed by ".." is dropped: the path a user would type */
    {
        static const char *const cases[][3] = {
            { "scenarios", "../demo/repo", "demo/repo" },
            { "a/b", "../../c", "c" },
            { "/abs/scen", "../x", "/abs/x" },
            { "../up", "../x", "../x" },
            { "./s", "r", "./s/r" },
        };
        size_t i;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            free(s.dir);
            s.dir = strdup(cases[i][0]);
            p = scenario_path(&s, cases[i][1]);
            assert_string_equal(p, cases[i][2]);
            free(p);
        }
    }
    scenario_release(&s);
    assert_int_equal(scenario_load(&s, "/nonexistent/x.json", &err), ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.json"));
    tu_rmrf(dir);
}

/* A fleet: entries take the top level's replay keys and their lines. */
static const char fleet[] =
    "{\n"                                                         /* 1 */
    "  \"name\": \"org\",\n"                                     /* 2 */
    "  \"strategies\": [\"none\", \"inline\"],\n"                 /* 3 */
    "  \"runners\": 2, \"first_parent\": true,\n"                 /* 4 */
    "  \"pricing\": \"github-actions\", \"builds_per_month\": 900,\n" /* 5 */
    "  \"report\": {\"format\": \"md\", \"out\": \"../reports\"},\n" /* 6 */
    "  \"repositories\": [\n"                                     /* 7 */
    "    {\"name\": \"api\", \"repo\": \"src/api\",\n"             /* 8 */
    "     \"runners\": 4},\n"                                       /* 9 */
    "    {\"repo\": \"../web/\", \"db\": \"w.db\",\n"               /* 10 */
    "     \"synth\": {\"template\": \"node\", \"commits\": 9},\n"    /* 11 */
    "     \"strategies\": \"all\"}\n"                               /* 12 */
    "  ]\n"
    "}\n";

static void record__fleet_entries_inherit_the_top_level(void **state)
{
    struct scenario s;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(parse(&s, fleet, &err), 0);
    assert_true(s.has_repos);
    assert_int_equal(s.nrepos, 2);
    assert_string_equal(s.name, "org");
    assert_string_equal(s.pricing, "github-actions");
    assert_int_equal(s.builds_per_month, 900);
    assert_string_equal(s.report_format, "md");
    assert_string_equal(s.report_out, "../reports");
    /* the first sets runners, inherits strategies and first_parent */
    assert_string_equal(s.repos[0].name, "api");
    assert_string_equal(s.repos[0].repo, "src/api");
    assert_string_equal(s.repos[0].db, "api.db");
    assert_int_equal(s.repos[0].runners, 4);
    assert_string_equal(s.repos[0].strategies, "none,inline");
    assert_int_equal(s.repos[0].first_parent, 1);
    assert_int_equal(scenario_line(&s.repos[0], "runners"), 9);
    assert_int_equal(scenario_line(&s.repos[0], "strategies"), 3);
    assert_int_equal(scenario_line(&s.repos[0], "nothing"), 8);
    /* the second is named after its folder and sets its own strategies */
    assert_string_equal(s.repos[1].name, "web");
    assert_string_equal(s.repos[1].db, "w.db");
    assert_string_equal(s.repos[1].strategies, "all");
    assert_int_equal(s.repos[1].runners, 2);
    assert_true(s.repos[1].has_synth);
    assert_int_equal(s.repos[1].synth_commits, 9);
    assert_int_equal(scenario_line(&s.repos[1], "strategies"), 12);
    assert_int_equal(scenario_line(&s.repos[1], "synth.commits"), 11);
    assert_int_equal(scenario_line(&s.repos[1], "runners"), 4);
    /* the report keys stay at the top */
    assert_null(s.repos[1].pricing);
    assert_int_equal(s.repos[1].builds_per_month, -1);
    scenario_release(&s);
}

static void expect_error(const char *text, const char *msg)
{
    struct scenario s;
    struct err err = ERR_INIT;

    assert_int_equal(parse(&s, text, &err), ERR_PARSE);
    assert_string_equal(err.msg, msg);
}

static void record__fleet_errors_name_the_entry_line(void **state)
{
    (void)state;
    /* the same key in an earlier entry does not take the line */
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\", \"runners\": 1},\n"
                 "  {\"repo\": \"b\",\n"
                 "   \"runners\": -1}]}",
                 "demo.json:4: 'runners' must be a whole number >= 0");
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\", \"synth\": {\"commits\": 1}},\n"
                 "  {\"repo\": \"b\", \"synth\":\n"
                 "    {\"comits\": 2}}]}",
                 "demo.json:4: unknown key 'comits' in \"synth\"");
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\"},\n"
                 "  {\"repo\": \"b\",\n"
                 "   \"pricing\": \"gitlab\"}]}",
                 "demo.json:4: 'pricing' belongs at the top level of the "
                 "scenario, not in a repository");
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"x/api\"},\n"
                 "  {\"repo\": \"y/api\"}]}",
                 "demo.json:3: two repositories are named 'api'");
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\", \"db\": \"x.db\"},\n"
                 "  {\"repo\": \"b\",\n"
                 "   \"db\": \"x.db\"}]}",
                 "demo.json:4: repositories 'a' and 'b' write the same "
                 "database");
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\"},\n"
                 "  {\"name\": \"b\"}]}",
                 "demo.json:3: this repository has no 'repo'");
    expect_error("{\"db\": \"one.db\",\n"
                 " \"repositories\": [{\"repo\": \"a\"}]}",
                 "demo.json:1: 'db' cannot stand beside 'repositories': each "
                 "repository has its own");
    expect_error("{\"repositories\": []}",
                 "demo.json:1: 'repositories' must be a list of objects");
    expect_error("{\"repo\": \"a\",\n \"name\": \"a/b\"}",
                 "demo.json:2: bad name 'a/b'");
    expect_error("{\"repo\": \"a\",\n \"report\": {\"format\": \"pdf\"}}",
                 "demo.json:2: unknown report format 'pdf'");
    expect_error("{\"repo\": \"a\",\n \"builds_per_month\": 0}",
                 "demo.json:2: 'builds_per_month' must be a whole number >= 1");
}

static void record__keys_with_escapes_still_get_a_line(void **state)
{
    (void)state;
    /* the scanner sees the raw text: an escaped key falls back to its
     * object's line rather than to a wrong one */
    expect_error("{\"repositories\": [\n"
                 "  {\"repo\": \"a\"},\n"
                 "  {\"repo\": \"b\",\n"
                 "   \"r\\u0075nners\": \"x\"}]}",
                 "demo.json:3: 'runners' must be a whole number >= 0");
}

/* Every scenario shipped in scenarios/ loads and passes the value checks. */
static void record__shipped_scenarios_are_valid(void **state)
{
    static const char *const names[] = {
        "demo", "fleet", "org", "python", "node", "go-multistage", "bad-order",
    };
    char path[4096];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct scenario s;
        struct err err = ERR_INIT;
        tu_fixture_path(path, sizeof(path), "../../scenarios/%s.json",
                        names[i]);
        if (scenario_load(&s, path, &err) < 0 ||
            cli_scenario_check(&s, &err) < 0)
            fail_msg("%s: %s", path, err.msg);
        assert_true(s.has_repos || s.repo);
        assert_true(s.has_repos || s.synth_template);
        scenario_release(&s);
    }
}

/* A NUL byte after a number (jansson stops there) once looped the line
 * scanner forever; the file must load or fail, with a line. */
static void record__nul_after_a_number_ends(void **state)
{
    static const char text[] = "{\"repositories\": [\n"
                               "  {\"repo\": \"a\", \"runners\": 15\0},\n"
                               "  {\"repo\": \"b\"}]}";
    struct scenario s;
    struct err err = ERR_INIT;
    int rc;
    (void)state;

    rc = scenario_parse(&s, "demo.json", text, sizeof(text) - 1, &err);
    if (rc == 0)
        scenario_release(&s);
    else
        assert_int_equal(strncmp(err.msg, "demo.json:", 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record__scenario_sets_every_option),
        cmocka_unit_test(record__unknown_key_names_its_line),
        cmocka_unit_test(record__wrong_type_names_key_and_line),
        cmocka_unit_test(record__invalid_json_gives_the_parser_line),
        cmocka_unit_test(record__duplicate_keys_are_rejected),
        cmocka_unit_test(record__top_level_must_be_an_object),
        cmocka_unit_test(record__paths_resolve_next_to_the_file),
        cmocka_unit_test(record__fleet_entries_inherit_the_top_level),
        cmocka_unit_test(record__fleet_errors_name_the_entry_line),
        cmocka_unit_test(record__keys_with_escapes_still_get_a_line),
        cmocka_unit_test(record__shipped_scenarios_are_valid),
        cmocka_unit_test(record__nul_after_a_number_ends),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
