/*
 * test_proc.c - running external programs: exit status, output file,
 * environment, working folder, timeout, a missing program.
 */
#include "testutil.h"

#include <signal.h>

#include "proc.h"

static void proc__exit_status_and_output_reach_the_caller(void **state)
{
    const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
    struct proc_result r;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;

    (void)state;
    assert_int_equal(proc_capture(argv, NULL, &out, &r, &err), 0);
    assert_int_equal(r.exit_code, 7);
    assert_false(proc_ok(&r));
    buf_addch(&out, '\0');
    assert_string_equal(out.ptr, "out\nerr\n");
    buf_release(&out);
}

static void proc__output_file_is_truncated_or_appended(void **state)
{
    char *dir = tu_tmpdir();
    char path[4200];
    const char *argv[] = { "echo", "hello", NULL };
    struct proc_options o = { NULL, NULL, path, 0, 0 };
    struct proc_result r;
    struct err err = ERR_INIT;
    char buf[64] = "";
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/out.log", dir);
    assert_int_equal(proc_run(argv, &o, &r, &err), 0);
    assert_true(proc_ok(&r));
    o.append = 1;
    assert_int_equal(proc_run(argv, &o, &r, &err), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 12);
    fclose(f);
    assert_string_equal(buf, "hello\nhello\n");
    o.append = 0;
    assert_int_equal(proc_run(argv, &o, &r, &err), 0);
    f = fopen(path, "r");
    memset(buf, 0, sizeof(buf));
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 6);
    fclose(f);
    tu_rmrf(dir);
}

static void proc__environment_is_set_and_unset_and_cwd_applies(void **state)
{
    const char *argv[] = { "sh", "-c", "echo \"$HARNESS_A-${HOME:-none}\"; pwd",
                           NULL };
    const char *env[] = { "HARNESS_A=1", "HOME", NULL };
    struct proc_options o = { "/tmp", env, NULL, 0, 0 };
    struct proc_result r;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT;

    (void)state;
    assert_int_equal(proc_capture(argv, &o, &out, &r, &err), 0);
    buf_addch(&out, '\0');
    assert_string_equal(out.ptr, "1-none\n/tmp\n");
    buf_release(&out);
}

static void proc__timeout_kills_the_process_group(void **state)
{
    const char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
    struct proc_options o = { NULL, NULL, NULL, 0, 0.2 };
    struct proc_result r;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(proc_run(argv, &o, &r, &err), 0);
    assert_true(r.timed_out);
    assert_false(proc_ok(&r));
    assert_int_equal(r.signal, SIGTERM);
    assert_true(r.seconds < 5);
}

static void proc__missing_program_is_notfound_with_its_name(void **state)
{
    const char *argv[] = { "/nonexistent/harness-no-such-program", NULL };
    struct proc_result r;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(proc_run(argv, NULL, &r, &err), ERR_NOTFOUND);
    assert_non_null(
        strstr(err.msg, "cannot run '/nonexistent/harness-no-such-program'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proc__exit_status_and_output_reach_the_caller),
        cmocka_unit_test(proc__output_file_is_truncated_or_appended),
        cmocka_unit_test(proc__environment_is_set_and_unset_and_cwd_applies),
        cmocka_unit_test(proc__timeout_kills_the_process_group),
        cmocka_unit_test(proc__missing_program_is_notfound_with_its_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
