/*
 * context.h - the build context of a commit, as a CI checkout presents it.
 *
 * A context is a folder of a commit's tree (default: the root) with git
 * modes (0644, 0755, symlinks 0777, submodules as empty folders), minus what
 * .dockerignore excludes (Docker's pattern rules), plus by default a `.git`
 * folder whose content differs on every checkout.
 *
 * Checksums are content checksums as BuildKit and the legacy builder's
 * tarsum compute them: path, mode, size, content, never mtime, owner forced
 * to 0:0.  They are memoized in a struct ctx_cache by git object id, ignore
 * rules and selection, so that replaying a long history costs what changed.
 *
 * Ownership: ctx_cache_new()/ctx_cache_free(); ctx_open()/ctx_free().  A
 * ctx borrows its cache and repo, which must outlive it.
 */
#ifndef HARNESS_CONTEXT_H
#define HARNESS_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "repo.h"
#include "sha256.h"

struct ctx_cache;
struct ctx;

int ctx_cache_new(struct ctx_cache **out, struct repo *r);
void ctx_cache_free(struct ctx_cache *cc);

struct ctx_options {
    const char *context;    /* folder in the tree; NULL or "" = root */
    const char *dockerfile; /* path relative to repo root; NULL=Dockerfile */
    int no_git_dir;         /* 1: model a checkout without .git */
    uint64_t checkout;      /* distinct per checkout: the .git content */
};

int ctx_open(struct ctx **out, struct ctx_cache *cc, const struct oid *commit,
             const struct ctx_options *opts, struct err *err);
void ctx_free(struct ctx *c);

/* A memo kept with the checksums, for digests a caller derives from
 * them (keys.c: the part of a COPY that a RUN names, keyed on that COPY's
 * selection digest); forgotten as the checksums are.  get: 1 and *out
 * filled if known. */
int ctx_memo_get(struct ctx *c, const unsigned char key[SHA256_LEN],
                 unsigned char out[SHA256_LEN]);
void ctx_memo_put(struct ctx *c, const unsigned char key[SHA256_LEN],
                  const unsigned char val[SHA256_LEN]);

/* Whether .dockerignore excluded .git (or there is no .git in context). */
int ctx_has_git_dir(const struct ctx *c);
/* The .dockerignore file that applied ("" if none), e.g.
 * "Dockerfile.dockerignore". */
const char *ctx_ignore_file(const struct ctx *c);

struct ctx_selection {
    unsigned char digest[SHA256_LEN]; /* content checksum of the selection */
    /* The selected files' contents as a multiset: blind to names, modes
     * and layout (a rename or chmod keeps it). */
    unsigned char content[SHA256_LEN];
    size_t nfiles;                    /* regular files and links selected */
    uint64_t bytes;                   /* their total size */
    int has_git_dir;                  /* the selection includes .git */
};

/*
 * Select sources as COPY/ADD does: each src is a path relative to the
 * context (leading "/" and "./" cleaned), a folder (its contents), or a
 * glob (*, ?, [...]); excludes are --exclude patterns; parents is
 * --parents.  A source that matches nothing fails the build: ERR_BUILD with
 * "file not found in build context: 'SRC'".  A source that escapes the
 * context (../x) resolves inside it, as Docker does.
 */
/* How many context entries a COPY source (a path or a wildcard) names,
 * or < 0 on an error. */
int ctx_src_matches(struct ctx *c, const char *src, struct err *err);

int ctx_select(struct ctx *c, const char *const *srcs, size_t nsrcs,
               const char *const *excludes, size_t nexcludes, int parents,
               struct ctx_selection *out, struct err *err);

enum ctx_change_kind {
    CTX_ADDED,
    CTX_REMOVED,
    CTX_CONTENT,
    CTX_MODE,
    CTX_TYPE,   /* file became a link or folder, or the reverse */
    CTX_GIT_DIR /* the per-checkout .git folder */
};

struct ctx_change {
    enum ctx_change_kind kind;
    char path[512]; /* relative to the context */
    unsigned old_mode, new_mode;
};

/*
 * The first difference (in path order) between what the same sources
 * select in two contexts.  0 and *out filled if they differ; ERR_NOTFOUND if
 * the selections are equal.
 */
int ctx_diff(struct ctx *a, struct ctx *b, const char *const *srcs,
             size_t nsrcs, const char *const *excludes, size_t nexcludes,
             int parents, struct ctx_change *out, struct err *err);

/*
 * Docker's .dockerignore matching (moby/patternmatcher), exposed for tests
 * and `harness parse`.  Rules: lines starting with '#' are comments; lines
 * are trimmed; a leading '!' makes an exception; patterns are cleaned like
 * Go's filepath.Clean and a leading '/' is dropped; '*' and '?' never match
 * '/', '[...]' is a class ('^' negates), '\' escapes, '**' matches any
 * number of folders, "**" at the start or end matches any suffix or
 * prefix; a pattern that matches a folder also matches everything under
 * it; the last matching pattern wins.
 */
struct ignore;
/* Parse .dockerignore text; path is for messages.  Errors: ERR_PARSE with
 * "PATH:LINE: illegal exclusion pattern '!'" or "... syntax error in
 * pattern 'P'". */
int ignore_parse(struct ignore **out, const char *path, const char *text,
                 size_t len, struct err *err);
/* Compile a list of patterns as given (COPY --exclude): no comment or
 * leading-'/' handling; what is a syntax error is as in ignore_parse(). */
int ignore_from_patterns(struct ignore **out, const char *const *pats, size_t n,
                         struct err *err);
void ignore_free(struct ignore *ig);
/* Number of patterns (0 for NULL). */
size_t ignore_count(const struct ignore *ig);
/* 1 if the path (relative, '/'-separated, cleaned) is excluded, by a
 * pattern matching it or one of its parent folders.  NULL ig: 0. */
int ignore_match(const struct ignore *ig, const char *path);
/*
 * 1 if the walk must descend into the excluded folder dir because an
 * exception pattern could re-include something under it.  This is Docker's
 * test (fsutil and the legacy tar walker): the exception's text must start
 * with "DIR/", so "!*\/keep" never re-includes "dir/keep".
 */
int ignore_may_include_under(const struct ignore *ig, const char *dir);
/*
 * The most path components any pattern can match (SIZE_MAX when one has
 * "**" or a class, which can match '/'; 0 without patterns).  Below that
 * depth an entry's verdict is its folder's: no pattern can tell them apart.
 */
size_t ignore_max_depth(const struct ignore *ig);
/* A digest of the rules, to key memoized checksums. */
void ignore_digest(const struct ignore *ig, unsigned char out[SHA256_LEN]);
/* Go's filepath.Clean on a '/'-separated path; the caller frees it. */
char *ignore_clean_path(const char *path);
/* Go's filepath.Match for one path component ('*', '?', '[...]', '\');
 * 1 on a match, 0 if not, ERR_PARSE for a malformed pattern. */
int ignore_glob_match(const char *pattern, const char *name);
/* 1 if s contains glob metacharacters ('*', '?', '['). */
int ignore_has_glob(const char *s);

#endif
