/*
 * test_runreads.c - which files a RUN's output depends on: the paths its
 * programs name, the toolchain rules, and the conservative cases
 * (doc/cache-rules.md section 8).  Scripts are real Dockerfile RUN lines.
 */
#include "testutil.h"

#include "runreads.h"

/* The reads of a shell-form script run in cwd, as "path:by:meta;..." or
 * "conservative: REASON". */
static char *reads_of(const char *script, const char *cwd)
{
    struct run_reads rr;
    struct buf b = BUF_INIT;
    char *out;

    run_reads_analyze(&rr, script, NULL, 0, cwd, 0);
    if (!rr.known) {
        buf_printf(&b, "conservative: %s", rr.why);
    } else {
        for (size_t i = 0; i < rr.n; i++)
            buf_printf(&b, "%s%s:%s:%d", i ? ";" : "", rr.r[i].path,
                       rr.r[i].by, rr.r[i].meta);
        if (rr.env)
            buf_adds(&b, ";env");
    }
    out = xstrdup(buf_cstr(&b));
    buf_release(&b);
    run_reads_release(&rr);
    return out;
}

#define EXPECT(script, cwd, want)                                              \
    do {                                                                       \
        char *got_ = reads_of(script, cwd);                                    \
        if (strcmp(got_, want))                                                \
            print_error("%s\n  got:  %s\n  want: %s\n", script, got_, want);   \
        assert_string_equal(got_, want);                                       \
        free(got_);                                                            \
    } while (0)

static void runreads__checksum_of_a_named_file(void **state)
{
    (void)state;
    EXPECT("mkdir -p /out && sha256sum a.txt > /out/a.sum", "/src",
           "/src/a.txt:sha256sum:0");
    EXPECT("sha256sum /etc/os-release ./b.txt", "/app",
           "/etc/os-release:sha256sum:0;/app/b.txt:sha256sum:0");
    EXPECT("md5sum -b x", "/", "/x:md5sum:0");
}

static void runreads__checksum_check_mode_is_conservative(void **state)
{
    (void)state;
    /* -c reads the files its list names, which harness cannot see */
    EXPECT("sha256sum -c SHA256SUMS", "/src",
           "conservative: sha256sum -c reads the files its list names");
    EXPECT("sha256sum --check sums", "/",
           "conservative: sha256sum -c reads the files its list names");
}

static void runreads__cat_of_named_files_and_globs(void **state)
{
    (void)state;
    EXPECT("cat a.txt b.txt > /out/ab.txt", "/src",
           "/src/a.txt:cat:0;/src/b.txt:cat:0");
    EXPECT("mkdir -p /out && cat /src/*.c > /out/app.bin", "/src",
           "/src/*.c:cat:0");
    /* a pipe reads what the previous command wrote */
    EXPECT("cat a | sort | uniq -c > /out", "/w", "/w/a:cat:0");
    /* an option's value is taken as a path too: over, never under */
    EXPECT("head -n 5 log.txt > /first", "/w",
           "/w/5:head:0;/w/log.txt:head:0");
}

static void runreads__cp_and_find_carry_names_and_modes(void **state)
{
    (void)state;
    EXPECT("cp -r conf /etc/app", "/src", "/src/conf:cp:1;/etc/app:cp:1");
    EXPECT("find /src -type f -name '*.c' | sort > /list", "/",
           "/src:find:1");
    EXPECT("find . -type f > /list", "/app", "/app:find:1");
    /* "+x" is a word like a path: an input that never exists */
    EXPECT("chmod +x /app/run.sh", "/", "/+x:chmod:1;/app/run.sh:chmod:1");
    EXPECT("find /src -newer /stamp", "/",
           "conservative: find -newer runs commands or reads times");
    EXPECT("find /src -name '*.o' -exec rm -f \\;", "/",
           "conservative: find -exec runs commands or reads times");
}

static void runreads__tar_of_a_named_dir(void **state)
{
    (void)state;
    /* an archive stores mtimes, which every checkout sets anew */
    EXPECT("tar -cf /out/src.tar src", "/",
           "conservative: tar stores each file's modification time in the "
           "archive");
    EXPECT("tar czf /out/src.tgz --mtime=@0 src", "/",
           "conservative: tar stores each file's modification time in the "
           "archive");
    EXPECT("tar --mtime=@0 --sort=name -cf /out/src.tar src", "/build",
           "/out/src.tar:tar:1;/build/src:tar:1");
    EXPECT("tar -xzf /tmp/app.tgz -C /opt", "/",
           "/tmp/app.tgz:tar:1;/opt:tar:1");
    EXPECT("tar xf vendor.tar", "/app", "/app/vendor.tar:tar:1");
}

static void runreads__go_toolchain(void **state)
{
    (void)state;
    /* go build reads the module, wherever it sits under the top folder,
     * and the environment (GOOS, CGO_ENABLED, GOFLAGS...) */
    EXPECT("CGO_ENABLED=0 go build -o /out/app ./cmd/app", "/app",
           "/app:go: the module's top folder:1;env");
    EXPECT("go build -trimpath -o /bin/svc .", "/go/src/svc",
           "/go:go: the module's top folder:1;env");
    EXPECT("go vet ./...", "/", "/:go: the module's top folder:1;env");
    EXPECT("go mod download", "/app",
           "/app/go.mod:go mod download:0;/app/go.sum:go mod download:0;"
           "/app/go.work:go mod download:0;"
           "/app/go.work.sum:go mod download:0");
    EXPECT("go install golang.org/x/tools/cmd/goimports@latest", "/",
           "conservative: go install golang.org/x/tools/cmd/goimports@latest "
           "fetches a module");
    EXPECT("go test ./...", "/app",
           "conservative: go test is not a known go command");
    EXPECT("go -C sub build", "/app",
           "conservative: go -C is not a known go command");
}

static void runreads__cd_moves_the_working_directory(void **state)
{
    (void)state;
    EXPECT("cd /src && sha256sum a.txt > /sum", "/",
           "/src/a.txt:sha256sum:0");
    EXPECT("cd sub && cat ../x y", "/app", "/app/x:cat:0;/app/sub/y:cat:0");
    EXPECT("cd && cat x", "/", "conservative: cd without a folder");
}

static void runreads__programs_that_read_nothing(void **state)
{
    (void)state;
    EXPECT("mkdir -p /out && echo built > /out/built.txt", "/", "");
    EXPECT("printf 'a\\n' > /x; rm -f /tmp/y; ln -s /x /y", "/", "");
    /* the shell expands a glob into names: echo * lists a folder */
    EXPECT("echo * > /names", "/app", "/app/*:echo:1");
    EXPECT("/bin/echo hi > /x", "/", "");
    EXPECT("busybox sha256sum a > /s", "/w", "/w/a:sha256sum:0");
}

static void runreads__conservative_cases(void **state)
{
    (void)state;
    EXPECT("sh /app/build.sh > /build.log", "/",
           "conservative: sh runs a script harness does not read");
    EXPECT("./configure && make", "/src",
           "conservative: it runs ./configure, a program of the build");
    EXPECT("apt-get update && apt-get install -y curl", "/",
           "conservative: apt-get is not a known command");
    EXPECT("pip install -r requirements.txt", "/app",
           "conservative: pip is not a known command");
    EXPECT("cat $FILE > /out", "/",
           "conservative: it expands a variable or substitutes a command");
    EXPECT("sha256sum `ls` > /out", "/",
           "conservative: it expands a variable or substitutes a command");
    EXPECT("sort < list.txt > /sorted", "/",
           "conservative: it redirects its input");
    EXPECT("(cd sub && cat x) > /y", "/",
           "conservative: it runs a subshell or a function");
    EXPECT("cat a{1,2} > /y", "/",
           "conservative: it has a brace group or expansion");
    EXPECT("find /src -type f | sort | xargs cat >> /all.txt", "/",
           "conservative: xargs is not a known command");
    EXPECT("ls -l /src > /list", "/",
           "conservative: ls with -l, -t or the like prints or sorts by "
           "modification times");
    EXPECT("for f in *.txt; do cat $f; done", "/",
           "conservative: it expands a variable or substitutes a command");
    EXPECT("true && > /out/empty", "/",
           "conservative: it has a redirection without a command");
    EXPECT("if true; then cat a; fi", "/",
           "conservative: if is not a known command");
}

static void runreads__exec_form_and_heredoc(void **state)
{
    (void)state;
    char w0[] = "sha256sum", w1[] = "/src/a.txt";
    char *argv[] = { w0, w1 };
    struct run_reads rr;

    /* exec form: no shell, so '$' and globs are literal words */
    run_reads_analyze(&rr, NULL, argv, 2, "/", 0);
    assert_true(rr.known);
    assert_int_equal(rr.n, 1);
    assert_string_equal(rr.r[0].path, "/src/a.txt");
    run_reads_release(&rr);
    run_reads_analyze(&rr, "cat a", NULL, 0, "/", 1);
    assert_false(rr.known);
    assert_string_equal(rr.why, "its script is a heredoc");
    run_reads_release(&rr);
}

static void runreads__describe_says_which_rule(void **state)
{
    (void)state;
    struct run_reads rr;
    struct buf b = BUF_INIT;

    run_reads_analyze(&rr, "sha256sum a.txt > /out/sum", NULL, 0, "/src", 0);
    run_reads_describe(&b, &rr);
    assert_string_equal(buf_cstr(&b),
                        "depends on: /src/a.txt (named by sha256sum)");
    run_reads_release(&rr);
    buf_reset(&b);
    run_reads_analyze(&rr, "go build -o /app .", NULL, 0, "/src", 0);
    run_reads_describe(&b, &rr);
    assert_string_equal(buf_cstr(&b), "depends on: /src (go: the module's "
                                      "top folder), the environment");
    run_reads_release(&rr);
    buf_reset(&b);
    run_reads_analyze(&rr, "npm run build", NULL, 0, "/", 0);
    run_reads_describe(&b, &rr);
    assert_string_equal(buf_cstr(&b),
                        "is conservative: npm is not a known command, so it "
                        "is new whenever the step runs again");
    run_reads_release(&rr);
    buf_reset(&b);
    run_reads_analyze(&rr, "echo hi > /x", NULL, 0, "/", 0);
    run_reads_describe(&b, &rr);
    assert_string_equal(buf_cstr(&b),
                        "depends on: no file (its command and tools only)");
    run_reads_release(&rr);
    buf_release(&b);
}

/* Where a known RUN writes, "a;b;c", or "anywhere". */
static char *writes_of(const char *script, const char *cwd)
{
    struct run_reads rr;
    struct buf b = BUF_INIT;
    char *out;

    run_reads_analyze(&rr, script, NULL, 0, cwd, 0);
    if (rr.write_all)
        buf_adds(&b, "anywhere");
    for (size_t i = 0; !rr.write_all && i < rr.nw; i++)
        buf_printf(&b, "%s%s", i ? ";" : "", rr.w[i]);
    out = xstrdup(buf_cstr(&b));
    buf_release(&b);
    run_reads_release(&rr);
    return out;
}

static void runreads__writes_are_named_paths_and_redirections(void **state)
{
    (void)state;
    char *w = writes_of("mkdir -p /out && sha256sum a.txt > /out/a.sum 2>/dev/null",
                        "/src");
    assert_string_equal(w, "/out;/out/a.sum;/src/a.txt");
    free(w);
    w = writes_of("cat a b >> log", "/w");
    assert_string_equal(w, "/w/log;/w/a;/w/b");
    free(w);
    w = writes_of("go build -o /app/bin .", "/app");
    assert_string_equal(w, "anywhere");
    free(w);
    w = writes_of("tar -xf /t.tar", "/");
    assert_string_equal(w, "anywhere");
    free(w);
    w = writes_of("./build.sh", "/");
    assert_string_equal(w, "anywhere");
    free(w);
}

static void runreads__paths_overlap(void **state)
{
    (void)state;
    assert_true(rr_paths_overlap("/src", "/src/a.txt"));
    assert_true(rr_paths_overlap("/src/a.txt", "/src"));
    assert_true(rr_paths_overlap("/", "/anything"));
    assert_true(rr_paths_overlap("/src/*.c", "/src/main.c"));
    assert_true(rr_paths_overlap("/s*", "/src/x"));
    assert_false(rr_paths_overlap("/src/*.c", "/src/a.txt"));
    assert_false(rr_paths_overlap("/out/a.sum", "/src"));
    assert_false(rr_paths_overlap("/srcs", "/src"));
    assert_true(rr_paths_overlap("//usr//lib/", "/usr/lib/x"));
    assert_true(rr_paths_overlap("/src/ma?n.c", "/src/main.c"));
    assert_false(rr_paths_overlap("/src/[ab].c", "/src/c.c"));
    assert_true(rr_paths_overlap("/src/[ab].c", "/src/b.c"));
    assert_true(rr_paths_overlap("/a\\*b", "/a*b"));
    assert_false(rr_paths_overlap("/a\\*b", "/axb"));
    assert_true(rr_paths_overlap("/x/*", "/x/[y]"));
    assert_true(rr_system_path("/usr/local/bin/tool"));
    assert_true(rr_system_path("/"));
    assert_true(rr_system_path("/usr"));
    assert_false(rr_system_path("/usr/src/app"));
    assert_false(rr_system_path("/app"));
    assert_false(rr_system_path("/src/extra"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runreads__checksum_of_a_named_file),
        cmocka_unit_test(runreads__checksum_check_mode_is_conservative),
        cmocka_unit_test(runreads__cat_of_named_files_and_globs),
        cmocka_unit_test(runreads__cp_and_find_carry_names_and_modes),
        cmocka_unit_test(runreads__tar_of_a_named_dir),
        cmocka_unit_test(runreads__go_toolchain),
        cmocka_unit_test(runreads__cd_moves_the_working_directory),
        cmocka_unit_test(runreads__programs_that_read_nothing),
        cmocka_unit_test(runreads__conservative_cases),
        cmocka_unit_test(runreads__exec_form_and_heredoc),
        cmocka_unit_test(runreads__describe_says_which_rule),
        cmocka_unit_test(runreads__writes_are_named_paths_and_redirections),
        cmocka_unit_test(runreads__paths_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
