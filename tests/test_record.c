/*
 * test_record.c - scenario files: what they set, and errors that name the
 * file and the line.
 */
#include "testutil.h"

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
    scenario_release(&s);
    assert_int_equal(scenario_load(&s, "/nonexistent/x.json", &err), ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.json"));
    tu_rmrf(dir);
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
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
