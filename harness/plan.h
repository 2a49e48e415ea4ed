/*
 * plan.h - one commit made ready for the cache model: its Dockerfile read
 * from the commit's tree and parsed, its build context opened, and its
 * steps keyed under the builders asked for.  `keys`, `explain` and
 * `replay` all start here.
 *
 * A commit whose Dockerfile is missing or does not parse is not an error:
 * the plan is marked failed with the reason, and the build is recorded as
 * failed.  Errors are kept for what stops the whole command (git, I/O).
 *
 * Ownership: plan_make() fills a caller's struct plan; plan_release()
 * frees what it holds.  The plan borrows the repo and context cache.
 */
#ifndef HARNESS_PLAN_H
#define HARNESS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "dockerfile.h"
#include "err.h"
#include "keys.h"
#include "repo.h"

struct buf;

/* Parsed Dockerfiles reused across commits while the blob is unchanged.
 * One per command; the build options must not change while it is used. */
struct plan_cache;
struct plan_cache *plan_cache_new(void);
void plan_cache_free(struct plan_cache *pc);

struct plan_options {
    const char *dockerfile; /* path in the repository; "Dockerfile" */
    const char *context;    /* folder in the repository; "" = root */
    int no_git_dir;
    const struct df_var *build_args;
    size_t nbuild_args;
    const char *target;
    const struct key_base *bases;
    size_t nbases;
    int remote_changes;
    int frontend_2010; /* see keys_options: replay --engine docker-20.10 */
    struct plan_cache *cache; /* may be NULL */
    /* Rewrite each commit's Dockerfile text before it is parsed (may be
     * NULL; `harness whatif`): append the new text to out and return 0,
     * or an error (ERR_PARSE: the commit's build fails).  The parsed
     * result is not shared between commits while it is set. */
    int (*rewrite)(void *arg, struct repo *r, const struct oid *commit,
                   const char *path, const char *text, size_t len,
                   struct buf *out, struct err *err);
    void *rewrite_arg;
};

#define PLAN_LEGACY (1u << BUILDER_LEGACY)
#define PLAN_BUILDKIT (1u << BUILDER_BUILDKIT)

struct plan {
    struct oid commit;
    struct df_file *df; /* borrowed from dfref */
    struct plan_df *dfref;
    struct ctx *ctx;
    struct key_build *kb[2]; /* indexed by enum builder; NULL if not asked */
    int failed;              /* Dockerfile missing or malformed */
    char error[512];
};

/*
 * Prepare commit for the builders in mask (PLAN_LEGACY | PLAN_BUILDKIT).
 * checkout distinguishes checkouts (the per-checkout .git).  Returns 0
 * (maybe with p->failed), or an error (ERR_GIT, ERR_INVALID for an
 * unknown --target, ...).
 */
int plan_make(struct plan *p, struct repo *r, struct ctx_cache *cc,
              const struct oid *commit, uint64_t checkout,
              const struct plan_options *o, unsigned mask, uint64_t nonce,
              struct err *err);

void plan_release(struct plan *p);

#endif
