/*
 * keys.h - the build graph of one Dockerfile at one commit, and the cache
 * key of every step under one builder's rules (doc/cache-rules.md).
 *
 * Legacy builder: one chain per stage, every instruction a step keyed on its
 * parent's key and its own config/command text; all stages up to the target
 * are built, in order.
 *
 * BuildKit: only FROM, RUN, COPY/ADD and WORKDIR are vertices.  ENV, ARG,
 * USER and SHELL reach only later RUN (and WORKDIR) keys through the state;
 * LABEL, EXPOSE, CMD, ENTRYPOINT, HEALTHCHECK, VOLUME, STOPSIGNAL,
 * MAINTAINER and ONBUILD reach no key.  COPY --from is keyed by the content
 * of what it copies, COPY --link not on earlier steps; stages unreachable
 * from the target are not built.
 *
 * Each key is the SHA-256 of named parts (struct key_part).  The parts are
 * kept so that `harness explain` can say which one changed.
 *
 * Content model: every step also carries a "content" digest, the identity
 * of the files its result holds, and the identity of the layer it writes
 * (`out`, at `wpath`).  COPY --from is keyed on the layers of the source
 * stage that overlap the path it copies.  A RUN whose files runreads.c
 * can name writes an output determined by those files, its command and its
 * tools, so a stage that re-runs with identical output still gives COPY
 * --from a hit; any other RUN's output is new whenever its key changes.
 *
 * Ownership: keys_compute() returns a struct key_build freed with
 * key_build_free(); it borrows nothing after return.
 */
#ifndef HARNESS_KEYS_H
#define HARNESS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "context.h"
#include "dockerfile.h"
#include "err.h"
#include "sha256.h"

enum builder {
    BUILDER_LEGACY,
    BUILDER_BUILDKIT,
};

const char *builder_name(enum builder b);
int builder_parse(enum builder *out, const char *s);

/* A base image identity given by the user: image reference -> digest. */
struct key_base {
    const char *image;  /* as written after expansion, e.g. "python:3.12" */
    const char *digest; /* any string that names the content */
};

struct keys_options {
    enum builder builder;
    const char *target; /* stage name or index; NULL: the last stage */
    const struct key_base *bases;
    size_t nbases;
    /* ADD <url> / ADD <git ref>: 0 = assume the remote content is unchanged
     * between builds (default), 1 = assume it changes on every build. */
    int remote_changes;
    uint64_t build_nonce; /* distinguishes builds when remote_changes */
    /* BuildKit as dockerd 20.10 embeds it, with its built-in Dockerfile
     * frontend: the flags and heredocs that frontend does not know stop
     * the build before any step runs, with the engine's message. */
    int frontend_2010;
    /* The build of an earlier commit under the same builder (may be NULL;
     * any options): a step whose parts equal those of its step at the
     * same index takes that step's key instead of hashing them again (a
     * key is a function of the builder and the parts alone).  Borrowed
     * for the call. */
    const struct key_build *prev;
};

/* One named input of a key, for explanations. */
struct key_part {
    const char *name; /* "parent", "command", "env:PATH", "source", ...
                         (static, or in the build's arena) */
    char *value;      /* printable value (digests as hex); in the build's
                         arena, or a step's key_hex (the "parent" part) */
    int line;         /* Dockerfile line it came from, 0 if none */
    unsigned nlen;    /* strlen(name) */
    size_t len;       /* strlen(value) */
};

struct key_step {
    size_t instr; /* index in df_file.instrs */
    int stage;
    int line;
    enum df_kind kind;
    int vertex; /* has a cache key under this builder */
    int sealed; /* key hashed from the parts (else the parent's, or none) */
    int built;  /* 0: its stage is not built for this target */
    unsigned char key[SHA256_LEN];
    char key_hex[7 + SHA256_HEX]; /* "sha256:..." or "" */
    int parent; /* step whose result this one starts from (legacy: the
                   previous step; BuildKit: the last vertex), -1 for FROM */
    int source; /* COPY --from / mount from: last step of that stage, -1 */
    int layer;  /* produces a filesystem layer */
    int in_final; /* its layer (or, for FROM, its base) is in the target's image */
    unsigned char content[SHA256_LEN];
    size_t nfiles;  /* COPY/ADD: files selected */
    uint64_t bytes; /* COPY/ADD: their total size */
    int git_dir;    /* COPY/ADD selection includes the per-checkout .git */
    int link;       /* BuildKit COPY --link: its key leaves out `parent`;
                       later steps start from the merge of both, keyed
                       "merge" (parent part value) */
    /* Output model (doc/cache-rules.md section 8): `out` is the identity of
     * the files this step writes, at `wpath` ("/" for FROM and RUN, the
     * destination of a COPY, the folder of a WORKDIR; NULL: no layer);
     * `outm` the same with names and modes; a known RUN that writes only
     * some paths lists them in `wpaths` instead.  `envc` is the identity of
     * the tools a later RUN runs with: the base image, earlier RUN
     * outputs, files copied from stages or into system folders.  `ctxcopy`:
     * a plain COPY from the build context, whose files can be traced to
     * the paths a RUN names.  `reads` (RUN): the rule that decided. */
    unsigned char out[SHA256_LEN], outm[SHA256_LEN], envc[SHA256_LEN];
    const char *wpath;
    char **wpaths; /* a known RUN: the paths it writes, if not anywhere */
    size_t nwpaths;
    int ctxcopy;
    const char *reads;
    struct key_part *parts; /* in the build's arena */
    size_t nparts, partcap;
    struct arena *arena;    /* the build's */
};

struct key_build {
    struct arena arena; /* parts and their strings */
    enum builder builder;
    struct key_step *steps; /* in Dockerfile order, global ARGs excluded */
    size_t nsteps;
    int target;             /* stage index */
    int failed;             /* the build would fail at failed_step */
    int failed_step;
    int failed_line;        /* the Dockerfile line it fails on */
    char error[512];
    /* key_build_find()'s index: open addressing over index_mask + 1
     * slots (at least twice the steps), each a step's index + 1 or 0; in
     * the arena.  NULL: scan the steps. */
    uint32_t *index;
    size_t index_mask;
    int refs; /* key_build_ref() */
    /* Every other digest the build hashed (contents, outputs, selections),
     * in the order it hashed them: the next commit's build takes the
     * result of its n-th digest from here when the bytes are the same
     * (keys_options.prev).  in is in the arena, NULL when too long to
     * keep. */
    struct key_hash {
        unsigned char *in;
        size_t len;
        unsigned char out[SHA256_LEN];
    } *hashes;
    size_t nhashes, hashcap;
};

/*
 * Key every step of `df` built from context `ctx` (may be NULL when no
 * step reads the context).  A COPY source missing in the context does not
 * return an error: it marks the build failed at that step (out->failed).
 * Errors: ERR_INVALID for an unknown --target stage.
 */
int keys_compute(struct key_build **out, const struct df_file *df,
                 struct ctx *ctx, const struct keys_options *opts,
                 struct err *err);

/* Drop a reference (keys_compute() returns one); the last frees kb. */
void key_build_free(struct key_build *kb);
/* Another reference to kb, for a holder that may outlive its first one
 * (plan.c keeps the last build for keys_options.prev); returns kb.
 * References are counted without locks: take and drop them on one
 * thread. */
struct key_build *key_build_ref(struct key_build *kb);

/* The first step (a vertex) whose key equals `key`, or -1.  Constant
 * time: a replay asks this of every step that missed. */
int key_build_find(const struct key_build *kb, const unsigned char *key);

/* The value of the part named `name` of a step, or NULL. */
/* The earlier FROM step of kb that starts from the same base image as
 * FROM step i, or -1: a build pulls each base once, and every stage that
 * starts from it waits for that pull. */
int key_same_base_before(const struct key_build *kb, size_t i);
const struct key_part *key_step_part(const struct key_step *s,
                                     const char *name);

#endif
