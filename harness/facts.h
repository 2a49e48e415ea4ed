/*
 * facts.h - what the build-time model needs from one commit: facts read
 * from its tree (packages in lockfiles, the context's size) and the
 * description of every step of a keyed build, turned into costs by the
 * model (model_step_cost).
 *
 * Lockfiles are read at the root of the build context: requirements*.txt
 * (requirement lines), package-lock.json (entries under "packages", else
 * "dependencies"), go.sum (module lines, not the /go.mod ones),
 * Cargo.lock ([[package]] tables) and *.csproj (<PackageReference>).  A
 * file's count is remembered by its blob id, so a history costs what
 * changed.
 *
 * Ownership: facts_cache_new()/facts_cache_free(); one per command.
 */
#ifndef HARNESS_FACTS_H
#define HARNESS_FACTS_H

#include <stddef.h>

#include "err.h"
#include "model.h"
#include "plan.h"
#include "repo.h"

struct facts_cache;

struct facts_cache *facts_cache_new(void);
void facts_cache_free(struct facts_cache *fc);

/*
 * Fill *out for the commit of plan p (its context; the repository r).
 * with_context: also measure the whole context (the legacy builder sends
 * it every build).  Errors: ERR_GIT.
 */
int facts_read(struct facts_cache *fc, struct repo *r, const struct plan *p,
               const char *context, int with_context, struct model_facts *out,
               struct err *err);

/* Count the packages of a lockfile's text, by its file name's ecosystem
 * (enum model_eco).  Exposed for tests. */
long facts_count_packages(int eco, const char *text, size_t len);

/*
 * The model's description of step s of a build under builder (MODEL_LEGACY
 * or MODEL_BUILDKIT) into *out: its kind and stage, a FROM's base and a
 * RUN's command as keyed (else "", or with di a FROM's first argument),
 * the bytes and files a COPY/ADD selects (the checkout's .git counted as
 * m says).  di: the step's instruction, or NULL (no text).  The bytes a
 * RUN's stage copied before it (source_bytes) are the caller's to add.
 */
void facts_step_in(struct model_step_in *out, const struct model *m,
                   const struct key_step *s, const struct df_instr *di,
                   int builder, const struct model_facts *facts);

/*
 * The model's cost of every step of p's build under builder b, into out
 * (room for p->kb[b]->nsteps).
 */
void facts_costs(const struct model *m, const struct plan *p, int builder,
                 const struct model_facts *facts, struct model_cost *out);

/*
 * Wall time of a cold build of kb under builder b (every built step runs,
 * nothing is looked up in a cache, the base is pulled), from its steps'
 * costs (facts_costs), the fixed costs and the context (facts may be
 * NULL: the context is what COPY selects).
 */
double facts_cold_seconds(const struct model *m, const struct key_build *kb,
                          const struct model_cost *costs,
                          const struct model_facts *facts, int builder);

#endif
