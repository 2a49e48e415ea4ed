/*
 * test_ignore.c - .dockerignore rules as Docker applies them.  Each row is
 * a .dockerignore text, a path of the context, and whether Docker leaves it
 * out of the context.
 */
#include "testutil.h"

#include <stdint.h>

#include "context.h"

struct match_case {
    const char *rules;
    const char *path;
    int excluded;
};

static const struct match_case match_cases[] = {
    /* plain names match at the root only, and everything under them */
    { "*.md", "README.md", 1 },
    { "*.md", "docs/guide.md", 0 },
    { "docs", "docs", 1 },
    { "docs", "docs/a/b.txt", 1 },
    { "docs", "docsite/index.html", 0 },
    { "docs", "src/docs", 0 },
    /* cleaning: trailing slash, leading slash, "./", "..", double slash */
    { "docs/", "docs/x", 1 },
    { "/docs", "docs/x", 1 },
    { "./docs", "docs", 1 },
    { "a/../b", "b", 1 },
    { "a/../b", "a", 0 },
    { "a//b", "a/b", 1 },
    /* '*' and '?' stay inside one folder */
    { "*/*.txt", "a/b.txt", 1 },
    { "*/*.txt", "b.txt", 0 },
    { "*/*.txt", "a/b/c.txt", 0 },
    { "?.txt", "a.txt", 1 },
    { "?.txt", "ab.txt", 0 },
    { "temp?", "temp1", 1 },
    { "temp?", "temp", 0 },
    { "a?b", "a/b", 0 },
    { "*", "anything", 1 },
    { "*", "src/main.c", 1 },
    { ".*", ".env", 1 },
    { ".*", ".git/HEAD", 1 },
    { ".*", "a/.env", 0 },
    /* '**' matches any number of folders, including none */
    { "**/*.md", "README.md", 1 },
    { "**/*.md", "a/b/c.md", 1 },
    { "**/.env", ".env", 1 },
    { "**/.env", "x/y/.env", 1 },
    { "a/**/b", "a/b", 1 },
    { "a/**/b", "a/x/y/b", 1 },
    { "a/**/b", "a/xb", 0 },
    { "a/**", "a/x/y", 1 },
    { "a/**", "ab", 0 },
    { "**", "deep/ly/nested", 1 },
    { "**/temp*", "a/b/temporary", 1 },
    { "**/node_modules", "web/node_modules/x/index.js", 1 },
    /* "**" at the edges is a plain prefix or suffix test, as in moby */
    { "foo**", "foobar", 1 },
    { "foo**", "foo/x", 1 },
    { "**foo", "barfoo", 1 },
    { "**/foo", "barfoo", 0 },
    /* classes, negation with '^' (not '!'), escapes */
    { "[a-c].txt", "b.txt", 1 },
    { "[a-c].txt", "d.txt", 0 },
    { "[^a].txt", "b.txt", 1 },
    { "[^a].txt", "a.txt", 0 },
    { "[!a].txt", "!.txt", 1 },
    { "[!a].txt", "b.txt", 0 },
    { "*.py[co]", "x.pyc", 1 },
    { "*.py[co]", "x.py", 0 },
    { "\\*.txt", "*.txt", 1 },
    { "\\*.txt", "a.txt", 0 },
    /* escapes as dockerd 20.10 applied them (measured, both builders) */
    { "\\#hash.txt", "#hash.txt", 1 },
    { "star\\*name.txt", "star*name.txt", 1 },
    { "star\\*name.txt", "starXname.txt", 0 },
    { "\\!bang.txt", "!bang.txt", 1 },
    { "\\[x\\].txt", "[x].txt", 1 },
    { "\\[x\\].txt", "x.txt", 0 },
    { "q\\?.txt", "q?.txt", 1 },
    { "q\\?.txt", "qa.txt", 0 },
    { "back\\\\slash.txt", "back\\slash.txt", 1 },
    { "file(1).txt", "file(1).txt", 1 },
    { "a+b", "a+b", 1 },
    /* comments, blank lines, whitespace, CRLF, BOM */
    { "# comment\n", "# comment", 0 },
    { " # not a comment", "# not a comment", 1 },
    { "\n\n  *.log  \n", "x.log", 1 },
    { "a.txt\r\nb.txt\r\n", "b.txt", 1 },
    { "\xef\xbb\xbf*.md", "x.md", 1 },
    /* exceptions: last match wins */
    { "*\n!README.md", "README.md", 0 },
    { "*\n!README.md", "src/a.c", 1 },
    { "*\n!README.md", "docs/README.md", 1 },
    { "!README.md\n*", "README.md", 1 },
    { "*.md\n!README*.md\nREADME-secret.md", "README.md", 0 },
    { "*.md\n!README*.md\nREADME-secret.md", "README-secret.md", 1 },
    { "*.md\n!README*.md\nREADME-secret.md", "CHANGES.md", 1 },
    { "node_modules\n!node_modules/keep", "node_modules/x.js", 1 },
    { "node_modules\n!node_modules/keep", "node_modules/keep", 0 },
    { "node_modules\n!node_modules/keep", "node_modules/keep/y.js", 0 },
    { "docs\n!docs/api\ndocs/api/internal", "docs/api/x.md", 0 },
    { "docs\n!docs/api\ndocs/api/internal", "docs/api/internal/y", 1 },
    { "docs\n!docs/api\ndocs/api/internal", "docs/guide.md", 1 },
    { "! /docs/keep\ndocs", "docs/keep", 1 },
    { "docs\n! /docs/keep", "docs/keep", 0 },
    { ".git\n.gitignore", ".git/objects/ab", 1 },
    { ".git\n.gitignore", ".github/workflows/ci.yml", 0 },
    { "**/*.log\n!important/*.log", "important/a.log", 0 },
    { "**/*.log\n!important/*.log", "other/a.log", 1 },
    { "Dockerfile\n.dockerignore", "Dockerfile", 1 },
};

static void ignore__matches_like_docker(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *c = &match_cases[i];
        struct ignore *ig = NULL;
        struct err err = ERR_INIT;
        assert_int_equal(ignore_parse(&ig, ".dockerignore", c->rules,
                                      strlen(c->rules), &err),
                         0);
        int got = ignore_match(ig, c->path);
        if (got != c->excluded) {
            fprintf(stderr, "case %zu: rules '%s' path '%s': got %d\n", i,
                    c->rules, c->path, got);
            failures++;
        }
        ignore_free(ig);
    }
    assert_int_equal(failures, 0);
}

struct under_case {
    const char *rules;
    const char *dir;
    int descend;
};

static const struct under_case under_cases[] = {
    { "docs\n!docs/api/keep.txt", "docs", 1 },
    { "docs\n!docs/api/keep.txt", "docs/api", 1 },
    { "docs\n!docs/api/keep.txt", "docs/other", 0 },
    { "docs\n!docs/api/keep.txt", "src", 0 },
    { "docs\n!docs", "docs", 1 },
    { "docs", "docs", 0 },
    { "docs\n!docsite/a", "docs", 0 },
    /* Docker compares the text: a wildcard exception does not reach into
     * an excluded folder */
    { "docs\n!*/keep.txt", "docs", 0 },
    { "docs\n!**/keep.txt", "docs", 0 },
    { "docs\n!docs/*.md", "docs", 1 },
};

static void
ignore__descends_into_excluded_folders_only_for_exceptions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(under_cases) / sizeof(under_cases[0]); i++) {
        const struct under_case *c = &under_cases[i];
        struct ignore *ig = NULL;
        struct err err = ERR_INIT;
        assert_int_equal(ignore_parse(&ig, ".dockerignore", c->rules,
                                      strlen(c->rules), &err),
                         0);
        if (ignore_may_include_under(ig, c->dir) != c->descend)
            fail_msg("case %zu: rules '%s' dir '%s'", i, c->rules, c->dir);
        ignore_free(ig);
    }
}

struct bad_case {
    const char *rules;
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    { "!", ".dockerignore:1: illegal exclusion pattern '!'" },
    { "ok\n  !  \n", ".dockerignore:2: illegal exclusion pattern '!'" },
    { "a\n[", ".dockerignore:2: syntax error in pattern '['" },
    { "[]a]", ".dockerignore:1: syntax error in pattern '[]a]'" },
    { "[a-]", ".dockerignore:1: syntax error in pattern '[a-]'" },
    { "x\\", ".dockerignore:1: syntax error in pattern 'x\\'" },
    /* the line is trimmed first: an escaped trailing space is a lone '\' */
    { "ok\nsp.txt\\ \n", ".dockerignore:2: syntax error in pattern 'sp.txt\\'" },
};

static void ignore__rejects_bad_patterns_with_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct ignore *ig = NULL;
        struct err err = ERR_INIT;
        int rc = ignore_parse(&ig, ".dockerignore", bad_cases[i].rules,
                              strlen(bad_cases[i].rules), &err);
        assert_int_equal(rc, ERR_PARSE);
        assert_null(ig);
        assert_string_equal(err.msg, bad_cases[i].msg);
    }
}

static void ignore__digest_changes_with_the_rules_only(void **state)
{
    (void)state;
    struct ignore *a = NULL, *b = NULL, *c = NULL;
    struct err err = ERR_INIT;
    unsigned char da[SHA256_LEN], db[SHA256_LEN], dc[SHA256_LEN];
    const char *ta = "# deps\nnode_modules\n", *tb = "/node_modules/\n\n";
    const char *tc = "node_modules\n!node_modules/x\n";
    assert_int_equal(ignore_parse(&a, "i", ta, strlen(ta), &err), 0);
    assert_int_equal(ignore_parse(&b, "i", tb, strlen(tb), &err), 0);
    assert_int_equal(ignore_parse(&c, "i", tc, strlen(tc), &err), 0);
    ignore_digest(a, da);
    ignore_digest(b, db);
    ignore_digest(c, dc);
    assert_memory_equal(da, db, SHA256_LEN);
    assert_memory_not_equal(da, dc, SHA256_LEN);
    assert_int_equal(ignore_count(a), 1);
    assert_int_equal(ignore_count(c), 2);
    ignore_free(a);
    ignore_free(b);
    ignore_free(c);
}

/* How deep a rule set can reach decides which entries skip matching. */
static void ignore__max_depth_counts_components_a_pattern_can_match(
    void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t depth;
    } cases[] = {
        { "*.md\n", 1 },
        { "a/b\n", 2 },
        { "/a/b/\n", 2 },
        { "a/?/c\n*.log\n", 3 },
        { "a/*\n!a/keep\n", 2 },
        { "**/x\n", SIZE_MAX },      /* any depth */
        { "docs/**\n", SIZE_MAX },   /* a prefix */
        { "a/[^b]\n", SIZE_MAX },    /* a class matches '/' */
        { "a/b/c/d\nx**\n", SIZE_MAX },
        { "# only a comment\n", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ignore *ig = NULL;
        struct err err = ERR_INIT;
        assert_int_equal(ignore_parse(&ig, ".dockerignore", cases[i].text,
                                      strlen(cases[i].text), &err),
                         0);
        if (ignore_max_depth(ig) != cases[i].depth)
            fail_msg("'%s': depth %zu, want %zu", cases[i].text,
                     ignore_max_depth(ig), cases[i].depth);
        ignore_free(ig);
    }
    assert_int_equal(ignore_max_depth(NULL), 0);
}

static void ignore__cleans_paths_like_go(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "a//b/./c/..", "a/b" },
        { "/../x", "/x" },
        { "../x", "../x" },
        { "", "." },
        { "./", "." },
        { "a/../..", ".." },
        { "/", "/" },
        { "x/", "x" },
        { "../../a/../b", "../../b" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = ignore_clean_path(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void ignore__globs_one_component_like_filepath_match(void **state)
{
    (void)state;
    assert_int_equal(ignore_glob_match("*.go", "main.go"), 1);
    assert_int_equal(ignore_glob_match("*.go", ".go"), 1);
    assert_int_equal(ignore_glob_match("*.go", "main.c"), 0);
    assert_int_equal(ignore_glob_match("a?c", "abc"), 1);
    assert_int_equal(ignore_glob_match("[0-9]*", "7up"), 1);
    assert_int_equal(ignore_glob_match("[^0-9]*", "7up"), 0);
    assert_int_equal(ignore_glob_match("**", "abc"), 1);
    assert_int_equal(ignore_glob_match("[", "x"), ERR_PARSE);
    assert_int_equal(ignore_has_glob("src/*.c"), 1);
    assert_int_equal(ignore_has_glob("src/a\\*.c"), 0);
    assert_int_equal(ignore_has_glob("src/main.c"), 0);
}

static void ignore__exclude_patterns_skip_comment_handling(void **state)
{
    (void)state;
    const char *const pats[] = { "*.txt", "#notes" };
    struct ignore *ig = NULL;
    struct err err = ERR_INIT;
    assert_int_equal(ignore_from_patterns(&ig, pats, 2, &err), 0);
    assert_int_equal(ignore_match(ig, "a.txt"), 1);
    assert_int_equal(ignore_match(ig, "#notes"), 1);
    assert_int_equal(ignore_match(ig, "a.md"), 0);
    ignore_free(ig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ignore__matches_like_docker),
        cmocka_unit_test(
            ignore__descends_into_excluded_folders_only_for_exceptions),
        cmocka_unit_test(ignore__rejects_bad_patterns_with_file_and_line),
        cmocka_unit_test(ignore__digest_changes_with_the_rules_only),
        cmocka_unit_test(
            ignore__max_depth_counts_components_a_pattern_can_match),
        cmocka_unit_test(ignore__cleans_paths_like_go),
        cmocka_unit_test(ignore__globs_one_component_like_filepath_match),
        cmocka_unit_test(ignore__exclude_patterns_skip_comment_handling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
