/*
 * test_context.c - build contexts of tiny repositories: what COPY sees and
 * when its content checksum changes.
 */
#include "testutil.h"

#include "context.h"
#include "repo.h"

struct fx {
    char *dir;
    struct repo *r;
    struct ctx_cache *cc;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->dir = tu_repo();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ctx_cache_free(f->cc);
    repo_free(f->r);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Open the repository (after the commits are made). */
static void fx_open(struct fx *f)
{
    struct err err = ERR_INIT;
    if (!f->r) {
        assert_int_equal(repo_open(&f->r, f->dir, &err), 0);
        assert_int_equal(ctx_cache_new(&f->cc, f->r), 0);
    }
}

static const struct ctx_options plain = { NULL, NULL, 1, 0 };

/* Select srcs (NULL-terminated in a string, '|'-separated) at rev. */
static int fx_select(struct fx *f, const char *rev, const struct ctx_options *o,
                     const char *src, const char *exclude,
                     struct ctx_selection *out, struct err *err)
{
    struct oid id;
    struct ctx *c = NULL;
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, rev, &id, err), 0);
    int rc = ctx_open(&c, f->cc, &id, o, err);
    if (rc < 0)
        return rc;
    const char *srcs[1] = { src };
    const char *ex[1] = { exclude };
    rc = ctx_select(c, srcs, 1, ex, exclude ? 1 : 0, 0, out, err);
    ctx_free(c);
    return rc;
}

static void digest_of(struct fx *f, const char *rev, const char *src,
                      unsigned char out[SHA256_LEN])
{
    struct ctx_selection s;
    struct err err = ERR_INIT;
    int rc = fx_select(f, rev, &plain, src, NULL, &s, &err);
    if (rc < 0)
        fail_msg("select %s at %s: %s", src, rev, err.msg);
    memcpy(out, s.digest, SHA256_LEN);
}

/* The first difference of src between two revisions; rc of ctx_diff. */
static int fx_diff(struct fx *f, const char *ra, const char *rb,
                   const struct ctx_options *oa, const struct ctx_options *ob,
                   const char *src, struct ctx_change *out)
{
    struct oid a, b;
    struct ctx *ca = NULL, *cb = NULL;
    struct err err = ERR_INIT;
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, ra, &a, &err), 0);
    assert_int_equal(repo_resolve(f->r, rb, &b, &err), 0);
    assert_int_equal(ctx_open(&ca, f->cc, &a, oa, &err), 0);
    assert_int_equal(ctx_open(&cb, f->cc, &b, ob, &err), 0);
    const char *srcs[1] = { src };
    int rc = ctx_diff(ca, cb, srcs, 1, NULL, 0, 0, out, &err);
    ctx_free(ca);
    ctx_free(cb);
    return rc;
}

static void context__mode_change_changes_the_digest(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_change ch;
    tu_write(f->dir, "run.sh", "echo hi\n");
    tu_commit(f->dir, "one");
    tu_sh(f->dir, "chmod +x run.sh");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", "run.sh", d1);
    digest_of(f, "HEAD", "run.sh", d2);
    assert_memory_not_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_MODE);
    assert_string_equal(ch.path, "run.sh");
    assert_int_equal(ch.old_mode, 0644);
    assert_int_equal(ch.new_mode, 0755);
}

static void context__touching_a_file_keeps_the_digest(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_change ch;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    tu_sh(f->dir, "sleep 1; touch a.txt");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", ".", d1);
    digest_of(f, "HEAD", ".", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch),
                     ERR_NOTFOUND);
}

static void context__content_change_is_reported_with_its_path(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_change ch;
    tu_write(f->dir, "src/app.py", "print(1)\n");
    tu_write(f->dir, "src/util.py", "x = 1\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "src/app.py", "print(2)\n");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", "src/util.py", d1);
    digest_of(f, "HEAD", "src/util.py", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    digest_of(f, "HEAD~1", "src", d1);
    digest_of(f, "HEAD", "src", d2);
    assert_memory_not_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_CONTENT);
    assert_string_equal(ch.path, "src/app.py");
}

static void context__rename_changes_the_digest_and_shows_removal(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_change ch;
    tu_write(f->dir, "a.txt", "same\n");
    tu_commit(f->dir, "one");
    tu_sh(f->dir, "git mv a.txt b.txt");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", ".", d1);
    digest_of(f, "HEAD", ".", d2);
    assert_memory_not_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_REMOVED);
    assert_string_equal(ch.path, "a.txt");
    assert_int_equal(ch.old_mode, 0644);
}

static void context__added_file_is_reported(void **state)
{
    struct fx *f = *state;
    struct ctx_change ch;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "lib/new.c", "int x;\n");
    tu_commit(f->dir, "two");
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_ADDED);
    assert_string_equal(ch.path, "lib");
    assert_int_equal(ch.new_mode, 040755);
}

/* A source that is itself a link is followed, as both builders of dockerd
 * 20.10 do (measured: doc/conformance.md); a link inside a copied folder
 * is copied as a link, hashed by its target text. */
static void context__symlink_is_hashed_by_its_target(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN], d3[SHA256_LEN];
    struct ctx_change ch;
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, "x", "1\n");
    tu_sh(f->dir, "ln -s x link && mkdir d && ln -s ../x d/inner");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "x", "2\n");
    tu_commit(f->dir, "two");
    tu_write(f->dir, "y", "33\n");
    tu_sh(f->dir, "rm link && ln -s y link");
    tu_commit(f->dir, "three");
    digest_of(f, "HEAD~2", "link", d1);
    digest_of(f, "HEAD~1", "link", d2);
    digest_of(f, "HEAD", "link", d3);
    assert_memory_not_equal(d1, d2, SHA256_LEN); /* x's content changed */
    assert_memory_not_equal(d2, d3, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &plain, "link", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 1);
    assert_int_equal(s.bytes, 3); /* y's content */
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, "link", &ch),
                     0);
    assert_int_equal(ch.kind, CTX_CONTENT);
    /* the link inside d stays a link: its text did not change */
    digest_of(f, "HEAD~2", "d", d1);
    digest_of(f, "HEAD~1", "d", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &plain, "d", NULL, &s, &err), 0);
    assert_int_equal(s.bytes, 4); /* "../x" */
}

static void context__file_becoming_a_link_is_a_type_change(void **state)
{
    struct fx *f = *state;
    struct ctx_change ch;
    tu_write(f->dir, "conf", "a\n");
    tu_commit(f->dir, "one");
    tu_sh(f->dir, "rm conf && ln -s elsewhere conf");
    tu_commit(f->dir, "two");
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_TYPE);
    assert_int_equal(ch.old_mode, 0644);
    assert_int_equal(ch.new_mode, 0777);
}

static void context__submodule_is_an_empty_folder(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, "a.txt", "a\n");
    tu_sh(f->dir, "git add a.txt && git update-index --add --cacheinfo "
                  "160000,1111111111111111111111111111111111111111,sub");
    tu_sh(f->dir, "git commit -q -m one");
    tu_sh(f->dir, "git update-index --cacheinfo "
                  "160000,2222222222222222222222222222222222222222,sub");
    tu_sh(f->dir, "git commit -q -m two");
    /* the pinned commit moved, but a checkout shows an empty folder */
    digest_of(f, "HEAD~1", ".", d1);
    digest_of(f, "HEAD", ".", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &plain, "sub", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 0);
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 1);
}

static void context__ignored_file_change_keeps_copy_all(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_change ch;
    tu_write(f->dir, ".dockerignore", "*.log\n");
    tu_write(f->dir, "app.c", "int main;\n");
    tu_write(f->dir, "build.log", "one\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "build.log", "two\n");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", ".", d1);
    digest_of(f, "HEAD", ".", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD~1", "HEAD", &plain, &plain, ".", &ch),
                     ERR_NOTFOUND);
}

static void
context__exception_reincludes_a_file_in_an_excluded_folder(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN], d3[SHA256_LEN];
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, ".dockerignore", "docs\n!docs/keep.md\n");
    tu_write(f->dir, "docs/keep.md", "k1\n");
    tu_write(f->dir, "docs/other.md", "o1\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "docs/other.md", "o2\n");
    tu_commit(f->dir, "two");
    tu_write(f->dir, "docs/keep.md", "k2\n");
    tu_commit(f->dir, "three");
    assert_int_equal(fx_select(f, "HEAD", &plain, "docs", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 1);
    digest_of(f, "HEAD~2", ".", d1);
    digest_of(f, "HEAD~1", ".", d2);
    digest_of(f, "HEAD", ".", d3);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_memory_not_equal(d2, d3, SHA256_LEN);
    assert_int_equal(
        fx_select(f, "HEAD", &plain, "docs/other.md", NULL, &s, &err),
        ERR_BUILD);
}

static void context__git_dir_is_included_and_differs_per_checkout(void **state)
{
    struct fx *f = *state;
    struct ctx_options o1 = { NULL, NULL, 0, 1 }, o2 = { NULL, NULL, 0, 2 };
    struct ctx_selection s1, s2;
    struct ctx_change ch;
    struct err err = ERR_INIT;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &o1, ".", NULL, &s1, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &o2, ".", NULL, &s2, &err), 0);
    assert_true(s1.has_git_dir);
    assert_memory_not_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(fx_diff(f, "HEAD", "HEAD", &o1, &o2, ".", &ch), 0);
    assert_int_equal(ch.kind, CTX_GIT_DIR);
    assert_string_equal(ch.path, ".git");
    /* a COPY of one file does not see .git */
    assert_int_equal(fx_select(f, "HEAD", &o1, "a.txt", NULL, &s1, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &o2, "a.txt", NULL, &s2, &err), 0);
    assert_false(s1.has_git_dir);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
}

static void context__git_dir_excluded_by_dockerignore_or_option(void **state)
{
    struct fx *f = *state;
    struct ctx_options o1 = { NULL, NULL, 0, 1 }, o2 = { NULL, NULL, 0, 2 };
    struct ctx_options none = { NULL, NULL, 1, 3 };
    struct ctx_selection s1, s2, s3;
    struct err err = ERR_INIT;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, ".dockerignore", ".git\n");
    tu_commit(f->dir, "two");
    assert_int_equal(fx_select(f, "HEAD", &o1, ".", NULL, &s1, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &o2, ".", NULL, &s2, &err), 0);
    assert_false(s1.has_git_dir);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD~1", &none, ".", NULL, &s3, &err), 0);
    assert_false(s3.has_git_dir);
    assert_int_equal(fx_select(f, "HEAD~1", &o1, ".", NULL, &s1, &err), 0);
    assert_true(s1.has_git_dir);
    assert_memory_not_equal(s1.digest, s3.digest, SHA256_LEN);
}

static void context__git_dir_only_when_context_is_the_root(void **state)
{
    struct fx *f = *state;
    struct ctx_options o1 = { "app", NULL, 0, 1 }, o2 = { "app", NULL, 0, 2 };
    struct ctx_selection s1, s2;
    struct err err = ERR_INIT;
    tu_write(f->dir, "app/main.c", "int main;\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &o1, ".", NULL, &s1, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &o2, ".", NULL, &s2, &err), 0);
    assert_false(s1.has_git_dir);
    assert_int_equal(s1.nfiles, 1);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &o1, "main.c", NULL, &s1, &err), 0);
}

static void context__dockerfile_ignore_file_takes_precedence(void **state)
{
    struct fx *f = *state;
    struct ctx_options o = { NULL, "docker/app.Dockerfile", 1, 0 };
    struct ctx_selection s;
    struct err err = ERR_INIT;
    struct oid id;
    struct ctx *c = NULL;
    tu_write(f->dir, ".dockerignore", "a.txt\n");
    tu_write(f->dir, "docker/app.Dockerfile", "FROM x\n");
    tu_write(f->dir, "docker/app.Dockerfile.dockerignore", "b.txt\n");
    tu_write(f->dir, "a.txt", "a\n");
    tu_write(f->dir, "b.txt", "b\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &o, "a.txt", NULL, &s, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &o, "b.txt", NULL, &s, &err),
                     ERR_BUILD);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a.txt", NULL, &s, &err),
                     ERR_BUILD);
    assert_int_equal(repo_resolve(f->r, "HEAD", &id, &err), 0);
    assert_int_equal(ctx_open(&c, f->cc, &id, &o, &err), 0);
    assert_string_equal(ctx_ignore_file(c),
                        "docker/app.Dockerfile.dockerignore");
    ctx_free(c);
    assert_int_equal(ctx_open(&c, f->cc, &id, &plain, &err), 0);
    assert_string_equal(ctx_ignore_file(c), ".dockerignore");
    ctx_free(c);
}

static void context__ignored_dockerfile_is_not_copied(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, ".dockerignore", "Dockerfile\n.dockerignore\n");
    tu_write(f->dir, "Dockerfile", "FROM x\n");
    tu_write(f->dir, "app.c", "int x;\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 1);
    assert_int_equal(s.bytes, 7);
}

static void context__glob_selects_matching_files_only(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN];
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, "src/a.c", "a\n");
    tu_write(f->dir, "src/b.c", "bb\n");
    tu_write(f->dir, "src/a.h", "h\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "src/a.h", "h2\n");
    tu_commit(f->dir, "two");
    assert_int_equal(fx_select(f, "HEAD", &plain, "src/*.c", NULL, &s, &err),
                     0);
    assert_int_equal(s.nfiles, 2);
    assert_int_equal(s.bytes, 5);
    digest_of(f, "HEAD~1", "src/*.c", d1);
    digest_of(f, "HEAD", "src/*.c", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &plain, "*/a.?", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 2);
    assert_int_equal(fx_select(f, "HEAD", &plain, "src/*.go", NULL, &s, &err),
                     ERR_BUILD);
}

static void context__several_sources_and_order_matter(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s1, s2;
    struct err err = ERR_INIT;
    struct oid id;
    struct ctx *c = NULL;
    tu_write(f->dir, "a.txt", "a\n");
    tu_write(f->dir, "b.txt", "b\n");
    tu_commit(f->dir, "one");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD", &id, &err), 0);
    assert_int_equal(ctx_open(&c, f->cc, &id, &plain, &err), 0);
    const char *ab[2] = { "a.txt", "b.txt" }, *ba[2] = { "b.txt", "a.txt" };
    const char *am[2] = { "a.txt", "missing" };
    assert_int_equal(ctx_select(c, ab, 2, NULL, 0, 0, &s1, &err), 0);
    assert_int_equal(s1.nfiles, 2);
    assert_int_equal(ctx_select(c, ba, 2, NULL, 0, 0, &s2, &err), 0);
    assert_memory_not_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(ctx_select(c, am, 2, NULL, 0, 0, &s2, &err), ERR_BUILD);
    assert_string_equal(err.msg, "file not found in build context: 'missing'");
    ctx_free(c);
}

/* COPY --parents with a "/./" pivot keeps the path below it: x/./y/a.txt
 * and z/./y/a.txt land as the same y/a.txt, so their selections agree;
 * without the pivot they keep x/ and z/ and differ. */
static void context__parents_pivot_keeps_the_path_below_it(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s1, s2;
    struct err err = ERR_INIT;
    struct oid id;
    struct ctx *c = NULL;
    tu_write(f->dir, "x/y/a.txt", "same\n");
    tu_write(f->dir, "z/y/a.txt", "same\n");
    tu_commit(f->dir, "one");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD", &id, &err), 0);
    assert_int_equal(ctx_open(&c, f->cc, &id, &plain, &err), 0);
    const char *xp[1] = { "x/./y/a.txt" }, *zp[1] = { "./z/./y/*.txt" };
    const char *x[1] = { "x/y/a.txt" }, *z[1] = { "z/y/a.txt" };
    assert_int_equal(ctx_select(c, xp, 1, NULL, 0, 1, &s1, &err), 0);
    assert_int_equal(ctx_select(c, zp, 1, NULL, 0, 1, &s2, &err), 0);
    assert_int_equal(s1.nfiles, 1);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(ctx_select(c, x, 1, NULL, 0, 1, &s1, &err), 0);
    assert_int_equal(ctx_select(c, z, 1, NULL, 0, 1, &s2, &err), 0);
    assert_memory_not_equal(s1.digest, s2.digest, SHA256_LEN);
    /* without --parents only the base name counts */
    assert_int_equal(ctx_select(c, x, 1, NULL, 0, 0, &s1, &err), 0);
    assert_int_equal(ctx_select(c, z, 1, NULL, 0, 0, &s2, &err), 0);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
    ctx_free(c);
}

static void context__exclude_option_drops_files(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s1, s2, s3, s4;
    struct err err = ERR_INIT;
    tu_write(f->dir, "app.c", "a\n");
    tu_write(f->dir, "README.md", "r1\n");
    tu_write(f->dir, "doc/x.md", "x\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "README.md", "r2\n");
    tu_commit(f->dir, "two");
    assert_int_equal(fx_select(f, "HEAD~1", &plain, ".", "*.md", &s1, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", "*.md", &s2, &err), 0);
    assert_memory_equal(s1.digest, s2.digest, SHA256_LEN);
    assert_int_equal(s1.nfiles, 2); /* app.c and doc/x.md */
    assert_int_equal(fx_select(f, "HEAD~1", &plain, ".", NULL, &s3, &err), 0);
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s4, &err), 0);
    assert_memory_not_equal(s3.digest, s4.digest, SHA256_LEN);
    assert_memory_not_equal(s1.digest, s3.digest, SHA256_LEN);
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", "**/*.md", &s2, &err),
                     0);
    assert_int_equal(s2.nfiles, 1);
}

/* Entries deeper than any pattern reaches take their folder's verdict
 * without a match of their own; exceptions and --exclude still apply. */
static void context__rules_apply_at_every_depth(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, ".dockerignore", "a/b\n!a/b/keep\n*.log\n");
    tu_write(f->dir, "top.log", "1\n");
    tu_write(f->dir, "a/b/x", "2\n");
    tu_write(f->dir, "a/b/keep/y", "3\n");
    tu_write(f->dir, "a/b/keep/z/deep", "4\n");
    tu_write(f->dir, "a/c/d/e.log", "5\n");
    tu_write(f->dir, "a/c/d/f", "6\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s, &err), 0);
    /* .dockerignore, a/b/keep/y, a/b/keep/z/deep, a/c/d/e.log, a/c/d/f */
    assert_int_equal(s.nfiles, 5);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a", NULL, &s, &err), 0);
    assert_int_equal(s.nfiles, 4);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a/c", "d/f", &s, &err), 0);
    assert_int_equal(s.nfiles, 1);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a/c", "*/e.log", &s, &err),
                     0);
    assert_int_equal(s.nfiles, 1);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a", "c/*/f", &s, &err), 0);
    assert_int_equal(s.nfiles, 3);
    assert_int_equal(fx_select(f, "HEAD", &plain, "a", "**/e.log", &s, &err),
                     0);
    assert_int_equal(s.nfiles, 3);
}

static void context__missing_source_fails_the_build(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &plain, "nope.txt", NULL, &s, &err),
                     ERR_BUILD);
    assert_string_equal(err.msg, "file not found in build context: 'nope.txt'");
    assert_int_equal(fx_select(f, "HEAD", &plain, "a.txt/x", NULL, &s, &err),
                     ERR_BUILD);
}

static void context__escaping_paths_resolve_inside_the_context(void **state)
{
    struct fx *f = *state;
    unsigned char d1[SHA256_LEN], d2[SHA256_LEN], d3[SHA256_LEN];
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    digest_of(f, "HEAD", "a.txt", d1);
    digest_of(f, "HEAD", "../../a.txt", d2);
    digest_of(f, "HEAD", "/./a.txt", d3);
    assert_memory_equal(d1, d2, SHA256_LEN);
    assert_memory_equal(d1, d3, SHA256_LEN);
    digest_of(f, "HEAD", "..", d1);
    digest_of(f, "HEAD", ".", d2);
    assert_memory_equal(d1, d2, SHA256_LEN);
}

static void context__memo_gives_the_same_digest_as_a_fresh_cache(void **state)
{
    struct fx *f = *state;
    unsigned char warm[SHA256_LEN];
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, ".dockerignore", "tmp\n");
    tu_write(f->dir, "a/b/c.txt", "c\n");
    tu_write(f->dir, "a/d.txt", "d\n");
    tu_write(f->dir, "tmp/x", "x\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "a/b/c.txt", "c2\n");
    tu_commit(f->dir, "two");
    digest_of(f, "HEAD~1", ".", warm);
    digest_of(f, "HEAD", ".", warm);
    ctx_cache_free(f->cc);
    assert_int_equal(ctx_cache_new(&f->cc, f->r), 0);
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s, &err), 0);
    assert_memory_equal(warm, s.digest, SHA256_LEN);
    assert_int_equal(s.nfiles, 3); /* .dockerignore, a/b/c.txt, a/d.txt */
    assert_int_equal(s.bytes, 4 + 3 + 2);
}

/* The digest of src at rev from a cache that has seen nothing. */
static void fresh_select(struct fx *f, const char *rev,
                         const struct ctx_options *o, const char *src,
                         const char *exclude, struct ctx_selection *out)
{
    struct ctx_cache *warm = f->cc;
    struct err err = ERR_INIT;
    assert_int_equal(ctx_cache_new(&f->cc, f->r), 0);
    if (fx_select(f, rev, o, src, exclude, out, &err) < 0)
        fail_msg("select %s at %s: %s", src, rev, err.msg);
    ctx_cache_free(f->cc);
    f->cc = warm;
}

/* Every selection of every commit of `revs`, in that order, from the
 * cache that saw the ones before, against a fresh cache's. */
static void same_as_fresh(struct fx *f, const char *const *revs, size_t n)
{
    static const struct ctx_options git = { NULL, NULL, 0, 7 };
    static const char *const srcs[][2] = {
        { ".", NULL }, { "a", NULL }, { ".", "*.log" }, { "a/b", "c*" },
    };
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof(srcs) / sizeof(srcs[0]); j++) {
            for (int g = 0; g < 2; g++) {
                const struct ctx_options *o = g ? &git : &plain;
                struct ctx_selection warm, fresh;
                struct err err = ERR_INIT;
                int rc = fx_select(f, revs[i], o, srcs[j][0], srcs[j][1],
                                   &warm, &err);
                if (rc == ERR_BUILD)
                    continue; /* not in this commit */
                assert_int_equal(rc, 0);
                fresh_select(f, revs[i], o, srcs[j][0], srcs[j][1], &fresh);
                if (memcmp(warm.digest, fresh.digest, SHA256_LEN) ||
                    memcmp(warm.content, fresh.content, SHA256_LEN) ||
                    warm.nfiles != fresh.nfiles || warm.bytes != fresh.bytes)
                    fail_msg("%s of %s (exclude %s, .git %d) differs from "
                             "a fresh cache's",
                             srcs[j][0], revs[i],
                             srcs[j][1] ? srcs[j][1] : "none", g);
            }
        }
    }
}

static void context__folders_listed_again_match_a_fresh_cache(void **state)
{
    struct fx *f = *state;
    static const char *const revs[] = {
        "HEAD~7", "HEAD~6", "HEAD~5", "HEAD~4", "HEAD~3", "HEAD~2",
        "HEAD~1", "HEAD",   "HEAD~4", "HEAD~7", "HEAD~2", "HEAD",
    };
    tu_write(f->dir, "a/b/c1.txt", "c1\n");
    tu_write(f->dir, "a/b/c2.txt", "c2\n");
    tu_write(f->dir, "a/b/d.log", "d\n");
    tu_write(f->dir, "a/e.txt", "e\n");
    tu_write(f->dir, "a/f/g.txt", "g\n");
    tu_write(f->dir, "z.txt", "z\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "a/b/c2.txt", "c2 again\n"); /* deep content */
    tu_commit(f->dir, "two");
    tu_sh(f->dir, "chmod +x a/b/c1.txt"); /* mode only */
    tu_commit(f->dir, "three");
    tu_sh(f->dir, "git mv a/f a/b/f"); /* a subtree moves down */
    tu_commit(f->dir, "four");
    tu_write(f->dir, ".dockerignore", "a/b\n!a/b/c1.txt\n"); /* rules */
    tu_commit(f->dir, "five");
    tu_sh(f->dir, "rm -r a/e.txt && ln -s b/c1.txt a/e.txt"); /* a link */
    tu_commit(f->dir, "six");
    tu_sh(f->dir, "rm .dockerignore && rm -r a/b/f && "
                  "printf f > a/b/f"); /* a folder becomes a file */
    tu_commit(f->dir, "seven");
    tu_write(f->dir, "a/b/c0.txt", "c0\n"); /* a name sorts first */
    tu_commit(f->dir, "eight");
    fx_open(f);
    same_as_fresh(f, revs, sizeof(revs) / sizeof(revs[0]));
}

/* Contexts opened age what the cache keeps (every 1024): the listings
 * kept by path are dropped with it and come back. */
static void context__aged_listings_match_a_fresh_cache(void **state)
{
    struct fx *f = *state;
    static const char *const revs[] = { "HEAD~1", "HEAD" };
    unsigned char d[SHA256_LEN];
    tu_write(f->dir, "a/b/c.txt", "c\n");
    tu_write(f->dir, "a/d.txt", "d\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "a/b/c.txt", "c2\n");
    tu_commit(f->dir, "two");
    fx_open(f);
    for (int i = 0; i < 2 * 1024 + 10; i++)
        digest_of(f, i % 3 ? "HEAD~1" : "HEAD", i % 2 ? "a" : "a/b", d);
    same_as_fresh(f, revs, 2);
}

static void context__bad_dockerignore_fails_with_file_and_line(void **state)
{
    struct fx *f = *state;
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, ".dockerignore", "ok\n!\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &plain, ".", NULL, &s, &err),
                     ERR_BUILD);
    assert_string_equal(err.msg,
                        ".dockerignore:2: illegal exclusion pattern '!'");
}

static void context__missing_context_folder_fails_the_build(void **state)
{
    struct fx *f = *state;
    struct ctx_options o = { "nowhere", NULL, 1, 0 };
    struct ctx_selection s;
    struct err err = ERR_INIT;
    tu_write(f->dir, "a.txt", "a\n");
    tu_commit(f->dir, "one");
    assert_int_equal(fx_select(f, "HEAD", &o, ".", NULL, &s, &err), ERR_BUILD);
    assert_non_null(strstr(err.msg, "'nowhere'"));
}

/* Each builder explains its misses against the same two contexts: every
 * question gets its own answer, asked once or again, in any order. */
static void context__diff_answers_each_question_of_the_same_contexts(
    void **state)
{
    struct fx *f = *state;
    struct oid a, b;
    struct ctx *ca = NULL, *cb = NULL;
    struct ctx_change ch;
    struct err err = ERR_INIT;
    const char *app[1] = { "app" }, *lib[1] = { "lib" }, *all[1] = { "." };
    const char *keep[1] = { "keep.txt" }, *no_app[1] = { "app" };
    tu_write(f->dir, "app/main.c", "int main;\n");
    tu_write(f->dir, "lib/keep.txt", "same\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "app/main.c", "int main(void);\n");
    tu_commit(f->dir, "two");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD~1", &a, &err), 0);
    assert_int_equal(repo_resolve(f->r, "HEAD", &b, &err), 0);
    assert_int_equal(ctx_open(&ca, f->cc, &a, &plain, &err), 0);
    assert_int_equal(ctx_open(&cb, f->cc, &b, &plain, &err), 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(
            ctx_diff(ca, cb, app, 1, NULL, 0, 0, &ch, &err), 0);
        assert_int_equal(ch.kind, CTX_CONTENT);
        assert_string_equal(ch.path, "app/main.c");
        assert_int_equal(ctx_diff(ca, cb, lib, 1, NULL, 0, 0, &ch, &err),
                         ERR_NOTFOUND);
        assert_string_equal(err.msg, "the selections are equal");
        assert_int_equal(
            ctx_diff(ca, cb, all, 1, no_app, 1, 0, &ch, &err),
            ERR_NOTFOUND);
        assert_int_equal(ctx_diff(ca, cb, all, 1, keep, 1, 0, &ch, &err), 0);
        assert_string_equal(ch.path, "app/main.c");
        /* the other way round is another question */
        assert_int_equal(ctx_diff(cb, ca, app, 1, NULL, 0, 0, &ch, &err), 0);
        assert_int_equal(ch.kind, CTX_CONTENT);
        assert_int_equal(ctx_diff(cb, cb, app, 1, NULL, 0, 0, &ch, &err),
                         ERR_NOTFOUND);
    }
    ctx_free(ca);
    ctx_free(cb);
}

/* A folder listed under --exclude rules (and kept: ctx_diff reuses the
 * listings of selections) is listed again for a question without them. */
static void context__diff_after_a_selection_with_excludes_sees_every_file(
    void **state)
{
    struct fx *f = *state;
    struct oid a, b;
    struct ctx *ca = NULL, *cb = NULL;
    struct ctx_change ch;
    struct ctx_selection sel;
    struct err err = ERR_INIT;
    const char *all[1] = { "." }, *no_b[1] = { "src/b.txt" };
    tu_write(f->dir, "src/a.txt", "a\n");
    tu_write(f->dir, "src/b.txt", "b\n");
    tu_commit(f->dir, "one");
    tu_write(f->dir, "src/b.txt", "b2\n");
    tu_commit(f->dir, "two");
    fx_open(f);
    assert_int_equal(repo_resolve(f->r, "HEAD~1", &a, &err), 0);
    assert_int_equal(repo_resolve(f->r, "HEAD", &b, &err), 0);
    assert_int_equal(ctx_open(&ca, f->cc, &a, &plain, &err), 0);
    assert_int_equal(ctx_open(&cb, f->cc, &b, &plain, &err), 0);
    assert_int_equal(ctx_select(ca, all, 1, no_b, 1, 0, &sel, &err), 0);
    assert_int_equal(ctx_select(cb, all, 1, no_b, 1, 0, &sel, &err), 0);
    assert_int_equal(ctx_diff(ca, cb, all, 1, no_b, 1, 0, &ch, &err),
                     ERR_NOTFOUND);
    assert_int_equal(ctx_diff(ca, cb, all, 1, NULL, 0, 0, &ch, &err), 0);
    assert_int_equal(ch.kind, CTX_CONTENT);
    assert_string_equal(ch.path, "src/b.txt");
    ctx_free(ca);
    ctx_free(cb);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(context__mode_change_changes_the_digest),
        T(context__diff_answers_each_question_of_the_same_contexts),
        T(context__diff_after_a_selection_with_excludes_sees_every_file),
        T(context__touching_a_file_keeps_the_digest),
        T(context__content_change_is_reported_with_its_path),
        T(context__rename_changes_the_digest_and_shows_removal),
        T(context__added_file_is_reported),
        T(context__symlink_is_hashed_by_its_target),
        T(context__file_becoming_a_link_is_a_type_change),
        T(context__submodule_is_an_empty_folder),
        T(context__ignored_file_change_keeps_copy_all),
        T(context__exception_reincludes_a_file_in_an_excluded_folder),
        T(context__git_dir_is_included_and_differs_per_checkout),
        T(context__git_dir_excluded_by_dockerignore_or_option),
        T(context__git_dir_only_when_context_is_the_root),
        T(context__dockerfile_ignore_file_takes_precedence),
        T(context__ignored_dockerfile_is_not_copied),
        T(context__glob_selects_matching_files_only),
        T(context__several_sources_and_order_matter),
        T(context__parents_pivot_keeps_the_path_below_it),
        T(context__exclude_option_drops_files),
        T(context__rules_apply_at_every_depth),
        T(context__missing_source_fails_the_build),
        T(context__escaping_paths_resolve_inside_the_context),
        T(context__memo_gives_the_same_digest_as_a_fresh_cache),
        T(context__folders_listed_again_match_a_fresh_cache),
        T(context__aged_listings_match_a_fresh_cache),
        T(context__bad_dockerignore_fails_with_file_and_line),
        T(context__missing_context_folder_fails_the_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
