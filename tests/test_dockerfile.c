/*
 * test_dockerfile.c - the Dockerfile front end, as a specification.
 */
#include "testutil.h"

#include "dockerfile.h"

static struct df_file *parse_ok_opts(const char *text,
                                     const struct df_options *opts)
{
    struct err err = ERR_INIT;
    struct df_file *f = NULL;
    int rc = df_parse(&f, "Dockerfile", text, strlen(text), opts, &err);

    if (rc != 0)
        fail_msg("unexpected error: %s", err.msg);
    assert_non_null(f);
    return f;
}

static struct df_file *parse_ok(const char *text)
{
    return parse_ok_opts(text, NULL);
}

static const char *var(const struct df_var *v, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return v[i].value ? v[i].value : "(null)";
    return "(absent)";
}

/* ---- substitution: the value ENV R gets -------------------------------- */

static const struct {
    const char *env; /* ENV line(s) before */
    const char *word;
    const char *want;
} subst_cases[] = {
    { "ENV S=v E=", "$S", "v" },
    { "ENV S=v E=", "${S}x", "vx" },
    { "ENV S=v E=", "${U:-d}", "d" },
    { "ENV S=v E=", "${E:-d}", "d" },
    { "ENV S=v E=", "${S:-d}", "v" },
    { "ENV S=v E=", "${S:+a}", "a" },
    { "ENV S=v E=", "${E:+a}", "" },
    { "ENV S=v E=", "${U:+a}", "" },
    { "ENV S=v E=", "${E-d}", "" },
    { "ENV S=v E=", "${U-d}", "d" },
    { "ENV S=v E=", "${E+a}", "a" },
    { "ENV S=v E=", "${U+a}", "" },
    { "ENV S=v E=", "\\$S", "$S" },
    { "ENV S=v E=", "'$S'", "$S" },
    { "ENV S=v E=", "\"$S\"", "v" },
    { "ENV S=v E=", "\"a\\\"b\"", "a\"b" },
    { "ENV S=v E=", "$U", "" },
    { "ENV S=v E=", "a$", "a$" },
    { "ENV S=v E=", "${U:-${S}}", "v" },
    { "ENV S=v E=", "$S$S", "vv" },
    { "ENV S=\"a b\"", "x\\ $S", "x a b" },
    /* quotes alone: removed, what they hold kept as it is */
    { "ENV S=v", "\"a b\"", "a b" },
    { "ENV S=v", "'x'\"y\"z", "xyz" },
    { "ENV S=v", "\"it's\"", "it's" },
    { "ENV S=v", "'a\"b'", "a\"b" },
    { "ENV S=v", "x\"\"y", "xy" },
    { "ENV S=v", "plain", "plain" },
    /* trimming and replacement, as BuildKit's frontend (1.7 and later) */
    { "ENV V=v1.2.3-beta", "${V#v}", "1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V#*.}", "2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V##*.}", "3-beta" },
    { "ENV V=v1.2.3-beta", "${V%-*}", "v1.2.3" },
    { "ENV V=v1.2.3-beta", "${V%.*}", "v1.2" },
    { "ENV V=v1.2.3-beta", "${V%%.*}", "v1" },
    { "ENV V=v1.2.3-beta", "${V#x}", "v1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V#}", "v1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V%%}", "v1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V#??}", ".2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V#\\*}", "v1.2.3-beta" },
    { "ENV V=a*b", "${V%\\*b}", "a" },
    { "ENV V=v1.2.3-beta", "${U#v}", "" },
    { "ENV V=v1.2.3-beta", "${V:#v}", "1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V/./_}", "v1_2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V//./_}", "v1_2_3-beta" },
    { "ENV V=v1.2.3-beta", "${V/#v/x}", "v1.2.3-beta" },
    { "ENV V=v1.2.3-beta", "${V/?/X}", "X1.2.3-beta" },
    { "ENV V=abc", "${V//?/X}", "XXX" },
    { "ENV V=abc", "${V//*/X}", "X" },
    { "ENV V=a.b.c", "${V/.*/}", "a" },
    { "ENV V=a/b/c", "${V//\\//-}", "a-b-c" },
    { "ENV V=x-é-y", "${V//?/_}", "_____" },
    { "ENV V=v1", "${V/1/${V}}", "vv1" },
    { "ENV V=abc", "${V//b/$$}", "ac" }, /* $$ is the special parameter $ */
};

static void dockerfile__substitution_follows_docker_rules(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(subst_cases) / sizeof(subst_cases[0]); i++) {
        char text[256];
        struct df_file *f;
        snprintf(text, sizeof(text), "FROM a\n%s\nENV R=%s\n",
                 subst_cases[i].env, subst_cases[i].word);
        f = parse_ok(text);
        if (strcmp(f->instrs[2].vars[0].value, subst_cases[i].want))
            fail_msg("%s: got '%s' want '%s'", subst_cases[i].word,
                     f->instrs[2].vars[0].value, subst_cases[i].want);
        df_file_free(f);
    }
}

/* ---- malformed input: code, file and line ------------------------------- */

static const struct {
    const char *text;
    const char *msg;
} error_cases[] = {
    { "", "Dockerfile: file with no instructions" },
    { "# only\n\n", "Dockerfile: file with no instructions" },
    { "FROM a\nFOO b\n", "Dockerfile:2: unknown instruction 'FOO'" },
    { "RUN x\nFROM a\n", "Dockerfile:1: no build stage in current context for 'RUN'" },
    { "FROM a\nRUN <<EOF\nx\n", "Dockerfile:2: unterminated heredoc 'EOF'" },
    { "FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag '--from'" },
    { "FROM a\nCOPY --nope=1 a b\n", "Dockerfile:2: unknown flag '--nope' for COPY" },
    { "FROM a\nCOPY --link --link a b\n", "Dockerfile:2: duplicate flag specified '--link'" },
    { "FROM a AS 9x\n", "Dockerfile:1: invalid name for build stage '9x'" },
    { "FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name 'x'" },
    { "FROM a\nCMD [\"a\", true]\n", "Dockerfile:2: when using JSON array syntax" },
    { "# escape=a\nFROM a\n", "Dockerfile:1: invalid escape token 'a'" },
    { "# syntax=a\n# SYNTAX=b\nFROM a\n", "Dockerfile:2: only one 'syntax' parser directive" },
    { "FROM a\nENV A\n", "Dockerfile:2: ENV must have two arguments" },
    { "FROM a\nENV =x\n", "Dockerfile:2: ENV names can not be blank" },
    { "FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank" },
    { "FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument" },
    { "FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument" },
    { "FROM a\n\nONBUILD\n", "Dockerfile:3: ONBUILD requires at least one argument" },
    { "FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: ONBUILD isn't allowed" },
    { "FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments" },
    { "FROM a\nHEALTHCHECK --interval=1us CMD x\n", "Dockerfile:2: --interval cannot be less than 1ms" },
    { "FROM a\nHEALTHCHECK --interval=soon CMD x\n", "Dockerfile:2: invalid duration 'soon'" },
    { "FROM a\nRUN --network=bridge x\n", "Dockerfile:2: unsupported network mode 'bridge'" },
    { "FROM a\nRUN --mount=type=cache x\n", "Dockerfile:2: mount type 'cache' requires a target path" },
    { "FROM a\nRUN --mount=target=/x,bogus=1 x\n", "Dockerfile:2: unexpected key 'bogus'" },
    { "FROM a\nUSER ${X\n", "Dockerfile:2: syntax error: missing '}'" },
    { "FROM a\nUSER ${X/a}\n", "Dockerfile:2: syntax error: missing '/' in ${}" },
    { "FROM a\nENV X=a\nUSER ${X#\\a}\n",
      "Dockerfile:3: invalid pattern (\\a) in substitution: invalid escape '\\a'" },
    { "FROM a\nUSER ${X:/a}\n", "Dockerfile:2: unsupported modifier (:/) in substitution" },
    { "FROM a\nVOLUME $EMPTY\n", "Dockerfile:2: VOLUME specified can not be an empty string" },
    { "FROM a AS s\nFROM b\nCOPY --from=s x y\nFROM c AS t\nCOPY --from=t x y\n",
      "Dockerfile:5: circular dependency detected on stage 't'" },
    { "ARG X\n", "Dockerfile: dockerfile contains no stages to build" },
    { "FROM a\nRUN echo \\\n\0\n", "Dockerfile:2: NUL byte in instruction" },
};

static void dockerfile__malformed_input_names_file_and_line(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        struct err err = ERR_INIT;
        struct df_file *f = NULL;
        const char *t = error_cases[i].text;
        size_t len = strlen(t);
        int rc;
        if (strstr(t, "\\\n"))
            len += 2; /* the NUL case: include "\0\n" */
        rc = df_parse(&f, "Dockerfile", t, len, NULL, &err);
        if (rc == 0 && f->stages[f->nstages - 1].error) {
            /* reported when the stage is built (it is the target) */
            const char *e = f->stages[f->nstages - 1].error;
            if (strncmp(e, error_cases[i].msg, strlen(error_cases[i].msg)))
                fail_msg("case %zu: got '%s' want '%s'", i, e,
                         error_cases[i].msg);
            df_file_free(f);
            continue;
        }
        if (rc != ERR_PARSE || f)
            fail_msg("case %zu (%s): rc %d", i, error_cases[i].msg, rc);
        if (strncmp(err.msg, error_cases[i].msg, strlen(error_cases[i].msg)))
            fail_msg("case %zu: got '%s' want '%s'", i, err.msg,
                     error_cases[i].msg);
        assert_true(err.hint[0] != '\0');
    }
}

/* ---- heredocs ----------------------------------------------------------- */

static void dockerfile__heredoc_with_quoted_delimiter_is_not_expanded(void **s)
{
    struct df_file *f = parse_ok("FROM a\nRUN <<'EOF' sh\necho $HOME\nEOF\n"
                                 "RUN <<EOF\necho $HOME\nEOF\n");

    (void)s;
    assert_int_equal(f->instrs[1].nheredocs, 1);
    assert_string_equal(f->instrs[1].heredocs[0].name, "EOF");
    assert_int_equal(f->instrs[1].heredocs[0].expand, 0);
    assert_string_equal(f->instrs[1].heredocs[0].content, "echo $HOME\n");
    assert_int_equal(f->instrs[2].heredocs[0].expand, 1);
    assert_int_equal(f->instrs[2].line, 5);
    df_file_free(f);
}

static void dockerfile__heredoc_dash_strips_leading_tabs(void **s)
{
    struct df_file *f = parse_ok("FROM a\nRUN <<-END\n\t\tx\n\ty\n\tEND\n"
                                 "RUN done\n");

    (void)s;
    assert_int_equal(f->instrs[1].heredocs[0].chomp, 1);
    assert_string_equal(f->instrs[1].heredocs[0].content, "x\ny\n");
    assert_int_equal(f->instrs[1].end_line, 5);
    assert_int_equal(f->instrs[2].line, 6);
    df_file_free(f);
}

static void dockerfile__several_heredocs_are_read_in_order(void **s)
{
    struct df_file *f = parse_ok("FROM a\nCOPY <<A <<B /dst/\n1\nA\n2\nB\n");

    (void)s;
    assert_int_equal(f->instrs[1].nheredocs, 2);
    assert_string_equal(f->instrs[1].heredocs[0].content, "1\n");
    assert_string_equal(f->instrs[1].heredocs[1].content, "2\n");
    assert_int_equal(f->instrs[1].nargs, 3);
    assert_string_equal(f->instrs[1].args[0], "<<A");
    df_file_free(f);
}

static void dockerfile__heredoc_in_exec_form_is_not_a_heredoc(void **s)
{
    struct df_file *f = parse_ok("FROM a\nRUN [\"cat\", \"<<EOF\"]\nRUN x\n");

    (void)s;
    assert_int_equal(f->instrs[1].nheredocs, 0);
    assert_int_equal(f->ninstrs, 3);
    df_file_free(f);
}

/* ---- lines, directives, forms ------------------------------------------- */

static void dockerfile__escape_backtick_continues_lines(void **s)
{
    struct df_file *f = parse_ok("# escape=`\nFROM a\nRUN dir c:\\ `\n  /b\n");

    (void)s;
    assert_int_equal(f->escape, '`');
    assert_string_equal(f->instrs[1].args[0], "dir c:\\   /b");
    assert_int_equal(f->instrs[1].line, 3);
    assert_int_equal(f->instrs[1].end_line, 4);
    df_file_free(f);
}

static void dockerfile__directive_after_comment_is_a_comment(void **s)
{
    struct df_file *f = parse_ok("# hello\n# escape=`\nFROM a\n");

    (void)s;
    assert_int_equal(f->escape, '\\');
    df_file_free(f);
}

static void dockerfile__crlf_bom_comments_and_empty_continuations(void **s)
{
    struct df_file *f = parse_ok("\xEF\xBB\xBF# syntax=x/y\r\nFROM a\r\n"
                                 "RUN a \\\r\n# note\r\n\r\n  b\r\n");

    (void)s;
    assert_string_equal(f->syntax, "x/y");
    assert_string_equal(f->instrs[0].original, "FROM a");
    assert_string_equal(f->instrs[1].original, "RUN a   b");
    assert_int_equal(f->instrs[1].end_line, 6);
    df_file_free(f);
}

static void dockerfile__invalid_json_falls_back_to_shell_form(void **s)
{
    struct df_file *f = parse_ok("FROM a\nCMD ['a']\nCMD [\"a\",\"b\"]\n");

    (void)s;
    assert_int_equal(f->instrs[1].json, 0);
    assert_int_equal(f->instrs[1].nargs, 1);
    assert_string_equal(f->instrs[1].args[0], "['a']");
    assert_int_equal(f->instrs[2].json, 1);
    assert_int_equal(f->instrs[2].nargs, 2);
    df_file_free(f);
}

static void dockerfile__keywords_are_case_insensitive(void **s)
{
    struct df_file *f = parse_ok("  from a As B\n\trun x\n");
    enum df_kind k;

    (void)s;
    assert_int_equal(f->instrs[1].kind, DF_RUN);
    assert_string_equal(f->stages[0].name, "b");
    assert_int_equal(df_kind_parse(&k, "healthCheck"), 0);
    assert_int_equal(k, DF_HEALTHCHECK);
    assert_int_equal(df_kind_parse(&k, "RUNN"), ERR_NOTFOUND);
    df_file_free(f);
}

/* ---- stages, ARG scope and state ---------------------------------------- */

static void dockerfile__global_arg_needs_redeclaring_in_stage(void **s)
{
    struct df_file *f = parse_ok("ARG V=1\nFROM img:$V\nENV A=x$V\nARG V\n"
                                 "ENV B=x$V\n");

    (void)s;
    assert_string_equal(f->stages[0].base, "img:1");
    assert_int_equal(f->instrs[0].stage, -1);
    assert_string_equal(f->instrs[2].vars[0].value, "x");
    assert_string_equal(f->instrs[4].vars[0].value, "x1");
    assert_string_equal(var(f->instrs[4].state.args, f->instrs[4].state.nargs,
                            "V"),
                        "1");
    df_file_free(f);
}

static void dockerfile__build_arg_overrides_defaults(void **s)
{
    const struct df_var ba[] = { { (char *)"V", (char *)"9" },
                                 { (char *)"W", (char *)"w" } };
    const struct df_options o = { ba, 2 };
    struct df_file *f = parse_ok_opts("ARG V=1\nFROM i:$V\nARG W=d\nARG X\n"
                                      "RUN x\n",
                                      &o);

    (void)s;
    assert_string_equal(f->stages[0].base, "i:9");
    assert_string_equal(f->meta_args[0].value, "9");
    assert_string_equal(var(f->instrs[4].state.args, f->instrs[4].state.nargs,
                            "W"),
                        "w");
    assert_string_equal(var(f->instrs[4].state.args, f->instrs[4].state.nargs,
                            "X"),
                        "(null)");
    df_file_free(f);
}

static void dockerfile__state_is_taken_before_the_instruction(void **s)
{
    struct df_file *f = parse_ok("FROM a\nENV A=1\nENV A=2 B=$A\nUSER u\n"
                                 "SHELL [\"bash\",\"-c\"]\nRUN x\n");

    (void)s;
    assert_int_equal(f->instrs[1].state.nenv, 0);
    assert_string_equal(var(f->instrs[3].state.env, f->instrs[3].state.nenv,
                            "B"),
                        "1");
    assert_string_equal(f->instrs[3].state.user, "");
    assert_string_equal(f->instrs[5].state.user, "u");
    assert_int_equal(f->instrs[4].state.nshell, 2);
    assert_string_equal(f->instrs[4].state.shell[0], "/bin/sh");
    assert_string_equal(f->instrs[5].state.shell[0], "bash");
    assert_int_equal(f->instrs[5].state.nenv, 2); /* replaced in place */
    assert_string_equal(f->instrs[5].state.env[0].value, "2");
    df_file_free(f);
}

/* Instructions share the state arrays until an ARG or ENV changes them: a
 * change must never show in the states taken before it, in this stage or
 * in the stages that start from it. */
static void dockerfile__states_keep_their_values_when_later_ones_change(
    void **s)
{
    struct df_file *f = parse_ok("FROM a AS base\nENV A=1\nRUN x\nRUN y\n"
                                 "ENV A=2\nARG A=3\nRUN z\nFROM base\n"
                                 "ENV A=4 B=1\nARG C=c\nWORKDIR w\nRUN w\n"
                                 "FROM base\nRUN v\n");
    const struct df_instr *in = f->instrs;

    (void)s;
    assert_int_equal(in[1].state.nenv, 0);
    assert_int_equal(in[2].state.nenv, 1);
    assert_string_equal(var(in[2].state.env, in[2].state.nenv, "A"), "1");
    assert_string_equal(var(in[3].state.env, in[3].state.nenv, "A"), "1");
    assert_string_equal(var(in[4].state.env, in[4].state.nenv, "A"), "1");
    /* ENV A=2, then the ARG replaces the ENV value in place */
    assert_string_equal(var(in[5].state.env, in[5].state.nenv, "A"), "2");
    assert_int_equal(in[5].state.nargs, 0);
    assert_int_equal(in[6].state.nenv, 1);
    assert_string_equal(var(in[6].state.env, in[6].state.nenv, "A"), "3");
    assert_string_equal(var(in[6].state.args, in[6].state.nargs, "A"), "3");
    /* the next stage starts from base's env and changes it */
    assert_string_equal(var(in[8].state.env, in[8].state.nenv, "A"), "3");
    assert_int_equal(in[8].state.nargs, 0);
    assert_int_equal(in[9].state.nenv, 2);
    assert_string_equal(var(in[9].state.env, in[9].state.nenv, "A"), "4");
    assert_string_equal(var(in[9].state.env, in[9].state.nenv, "B"), "1");
    assert_int_equal(in[9].state.nargs, 0);
    assert_string_equal(var(in[10].state.args, in[10].state.nargs, "C"), "c");
    assert_string_equal(in[10].state.workdir, "/");
    assert_string_equal(in[11].state.workdir, "/w");
    /* base, and a second stage from it, do not see stage 1's changes */
    assert_int_equal(in[13].state.nenv, 1);
    assert_string_equal(var(in[13].state.env, in[13].state.nenv, "A"), "3");
    assert_int_equal(in[13].state.nargs, 0);
    assert_string_equal(in[13].state.workdir, "/");
    assert_int_equal(in[6].state.nenv, 1);
    assert_string_equal(var(in[6].state.env, in[6].state.nenv, "A"), "3");
    assert_string_equal(var(in[2].state.env, in[2].state.nenv, "A"), "1");
    assert_string_equal(var(in[5].state.env, in[5].state.nenv, "A"), "2");
    df_file_free(f);
}

static void dockerfile__unclosed_quote_is_the_stage_error(void **s)
{
    struct df_file *f = parse_ok("FROM a\nENV A=\"x\nFROM b\nENV B='y\n"
                                 "ENV C='ok'\n");

    (void)s;
    assert_non_null(f->stages[0].error);
    assert_non_null(strstr(f->stages[0].error, "matching double-quote"));
    assert_int_equal(f->stages[0].error_line, 2);
    assert_non_null(strstr(f->stages[1].error, "matching single-quote"));
    assert_string_equal(f->instrs[4].vars[0].value, "ok");
    df_file_free(f);
}

static void dockerfile__workdir_resolves_to_an_absolute_path(void **s)
{
    struct df_file *f = parse_ok("FROM a\nWORKDIR app\nWORKDIR ../b/./c/\n"
                                 "RUN x\n");

    (void)s;
    assert_string_equal(f->instrs[2].state.workdir, "/app");
    assert_string_equal(f->instrs[3].state.workdir, "/b/c");
    df_file_free(f);
}

static void dockerfile__stage_based_on_stage_inherits_env_and_workdir(void **s)
{
    struct df_file *f = parse_ok("FROM a AS base\nENV E=1\nWORKDIR /w\n"
                                 "ARG A=1\nFROM base\nRUN x\n");

    (void)s;
    assert_int_equal(f->stages[1].base_stage, 0);
    assert_string_equal(f->instrs[5].state.workdir, "/w");
    assert_string_equal(var(f->instrs[5].state.env, f->instrs[5].state.nenv,
                            "E"),
                        "1");
    assert_int_equal(f->instrs[5].state.nargs, 0);
    df_file_free(f);
}

static void dockerfile__copy_from_resolves_names_and_indexes(void **s)
{
    struct df_file *f = parse_ok("ARG S=Build\nFROM a AS build\nFROM b\n"
                                 "COPY --from=0 x y\nCOPY --from=$S x y\n"
                                 "COPY --from=img:1 x y\n");

    (void)s;
    assert_int_equal(f->instrs[3].from_stage, 0);
    assert_int_equal(f->instrs[4].from_stage, 0);
    assert_string_equal(df_instr_flag(&f->instrs[4], "from")->value, "Build");
    assert_int_equal(f->instrs[5].from_stage, -1);
    assert_int_equal(df_stage_find(f, "BUILD"), 0);
    assert_int_equal(df_stage_find(f, "1"), 1);
    assert_int_equal(df_stage_find(f, "2"), -1);
    assert_null(df_instr_flag(&f->instrs[3], "chown"));
    df_file_free(f);
}

static void dockerfile__only_some_instructions_are_expanded(void **s)
{
    struct df_file *f = parse_ok("FROM a\nENV V=v\nRUN echo $V\nCMD $V\n"
                                 "COPY --chown=$V $V /$V\nLABEL l=$V\n"
                                 "MAINTAINER $V\nEXPOSE $V\nUSER $V\n"
                                 "RUN --mount=type=cache,target=/$V x\n"
                                 "ONBUILD RUN $V\n");

    (void)s;
    assert_string_equal(f->instrs[2].args[0], "echo $V");
    assert_string_equal(f->instrs[3].args[0], "$V");
    assert_string_equal(f->instrs[4].args[0], "v");
    assert_string_equal(f->instrs[4].args[1], "/v");
    assert_string_equal(f->instrs[4].flags[0].value, "v");
    assert_string_equal(f->instrs[5].vars[0].value, "v");
    assert_string_equal(f->instrs[6].args[0], "$V");
    assert_string_equal(f->instrs[7].args[0], "v");
    assert_string_equal(f->instrs[8].args[0], "v");
    assert_string_equal(f->instrs[9].flags[0].value, "type=cache,target=/v");
    assert_string_equal(f->instrs[9].flags[0].raw,
                        "--mount=type=cache,target=/$V");
    assert_non_null(f->instrs[10].inner);
    assert_string_equal(f->instrs[10].inner->args[0], "$V");
    df_file_free(f);
}

static void dockerfile__env_legacy_form_takes_the_rest_of_the_line(void **s)
{
    struct df_file *f = parse_ok("FROM a\nENV K  two  words\n");

    (void)s;
    assert_string_equal(f->instrs[1].vars[0].name, "K");
    assert_string_equal(f->instrs[1].vars[0].value, "two  words");
    df_file_free(f);
}

static void dockerfile__healthcheck_and_flags_are_kept(void **s)
{
    struct df_file *f = parse_ok("FROM a\nHEALTHCHECK --interval=1m30s "
                                 "--retries=3 CMD curl -f x || exit 1\n"
                                 "HEALTHCHECK none\n");

    (void)s;
    assert_int_equal(f->instrs[1].nflags, 2);
    assert_string_equal(df_instr_flag(&f->instrs[1], "interval")->value,
                        "1m30s");
    assert_string_equal(f->instrs[1].args[0], "CMD");
    assert_string_equal(f->instrs[1].args[1], "curl -f x || exit 1");
    assert_string_equal(f->instrs[2].args[0], "NONE");
    df_file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dockerfile__substitution_follows_docker_rules),
        cmocka_unit_test(dockerfile__malformed_input_names_file_and_line),
        cmocka_unit_test(dockerfile__heredoc_with_quoted_delimiter_is_not_expanded),
        cmocka_unit_test(dockerfile__heredoc_dash_strips_leading_tabs),
        cmocka_unit_test(dockerfile__several_heredocs_are_read_in_order),
        cmocka_unit_test(dockerfile__heredoc_in_exec_form_is_not_a_heredoc),
        cmocka_unit_test(dockerfile__escape_backtick_continues_lines),
        cmocka_unit_test(dockerfile__directive_after_comment_is_a_comment),
        cmocka_unit_test(dockerfile__crlf_bom_comments_and_empty_continuations),
        cmocka_unit_test(dockerfile__invalid_json_falls_back_to_shell_form),
        cmocka_unit_test(dockerfile__keywords_are_case_insensitive),
        cmocka_unit_test(dockerfile__global_arg_needs_redeclaring_in_stage),
        cmocka_unit_test(dockerfile__build_arg_overrides_defaults),
        cmocka_unit_test(dockerfile__state_is_taken_before_the_instruction),
        cmocka_unit_test(
            dockerfile__states_keep_their_values_when_later_ones_change),
        cmocka_unit_test(dockerfile__unclosed_quote_is_the_stage_error),
        cmocka_unit_test(dockerfile__workdir_resolves_to_an_absolute_path),
        cmocka_unit_test(dockerfile__stage_based_on_stage_inherits_env_and_workdir),
        cmocka_unit_test(dockerfile__copy_from_resolves_names_and_indexes),
        cmocka_unit_test(dockerfile__only_some_instructions_are_expanded),
        cmocka_unit_test(dockerfile__env_legacy_form_takes_the_rest_of_the_line),
        cmocka_unit_test(dockerfile__healthcheck_and_flags_are_kept),
    };
    return cmocka_run_group_tests_name("dockerfile", tests, NULL, NULL);
}
