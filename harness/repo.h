/*
 * repo.h - read access to a git repository; the only module that includes
 * <git2.h> for reading (synth.c writes histories).
 *
 * Commits are named by struct oid (20 raw bytes).  Nothing here checks a
 * commit out: trees and blobs are read straight from the object database.
 *
 * Ownership: repo_open() returns a struct repo freed with repo_free().
 * Arrays and strings returned through **out are the caller's (free()).
 */
#ifndef HARNESS_REPO_H
#define HARNESS_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct repo;

struct oid {
    unsigned char id[20];
};

#define OID_HEX 41

void oid_hex(const struct oid *o, char out[OID_HEX]);
int oid_equal(const struct oid *a, const struct oid *b);

/* How much of the pack files libgit2 may keep mapped (default 128 MiB).
 * More is faster on large histories and costs resident memory.  Call
 * before the first repo_open(). */
void repo_set_mapped_limit(size_t bytes);

/* Open a work tree (any folder inside it) or a bare repository. */
int repo_open(struct repo **out, const char *path, struct err *err);
void repo_free(struct repo *r);

/* Resolve a revision as git does (sha, short sha, branch, tag, HEAD~2). */
int repo_resolve(struct repo *r, const char *rev, struct oid *out,
                 struct err *err);

/*
 * The commits of a range, oldest first: "A..B", "A...B" (symmetric
 * difference), or a single revision (it and all its ancestors).  With
 * first_parent, only first parents are followed.  *out is the caller's.
 */
int repo_range(struct repo *r, const char *range, int first_parent,
               struct oid **out, size_t *n, struct err *err);

struct repo_commit {
    struct oid id;
    char sha[OID_HEX];
    struct oid *parents;
    size_t nparents;
    int64_t author_time; /* seconds since the epoch */
    char *subject;       /* first line of the message */
};

int repo_commit_read(struct repo *r, const struct oid *id,
                     struct repo_commit *out, struct err *err);
void repo_commit_release(struct repo_commit *c);

/*
 * Read the file at `path` (relative to the repository root) in a commit's
 * tree.  ERR_NOTFOUND (with a message) if it is not there.  *out is
 * NUL-terminated and the caller's.
 */
/* The blob id of the file at `path` in a commit (ERR_NOTFOUND). */
int repo_path_blob(struct repo *r, const struct oid *commit, const char *path,
                   struct oid *out, struct err *err);

int repo_read_file(struct repo *r, const struct oid *commit, const char *path,
                   char **out, size_t *len, struct err *err);

/*
 * Low-level tree access for context.c: the root tree of a commit and the
 * entries of a tree.  Entry names are borrowed until the next call with the
 * same iterator buffer.
 */
enum repo_entry_type {
    REPO_BLOB,      /* mode 0644 or 0755 */
    REPO_LINK,      /* symlink: blob content is the target */
    REPO_TREE,      /* folder */
    REPO_SUBMODULE, /* gitlink: an empty folder in a checkout */
};

struct repo_entry {
    const char *name;
    struct oid id;
    enum repo_entry_type type;
    unsigned mode; /* 0644, 0755, 0777 (links), 040755, or 0 */
};

int repo_commit_tree(struct repo *r, const struct oid *commit, struct oid *tree,
                     struct err *err);
/* Calls fn for each entry of a tree, in git's order; fn returns non-zero to
 * stop (that value is returned). */
int repo_tree_foreach(struct repo *r, const struct oid *tree,
                      int (*fn)(const struct repo_entry *e, void *arg),
                      void *arg, struct err *err);
/* Size of a blob, from its header only. */
int repo_blob_size(struct repo *r, const struct oid *blob, uint64_t *out,
                   struct err *err);
/* Whether the repository is shallow (its history is cut). */
int repo_is_shallow(struct repo *r);

/*
 * A note about the last repo_range() call, "" if none: set when the range
 * reached the boundary of a shallow history and stopped there (that is not
 * an error).  Borrowed from r until the next repo_range().
 */
const char *repo_note(const struct repo *r);

/* The content of a blob (for symlink targets).  *out is NUL-terminated and
 * the caller's. */
int repo_blob_read(struct repo *r, const struct oid *blob, char **out,
                   size_t *len, struct err *err);

/*
 * An open tree, for walking without copying names: entries are in git's
 * order and their names are borrowed from the tree until repo_tree_free().
 */
struct repo_tree;
int repo_tree_open(struct repo_tree **out, struct repo *r,
                   const struct oid *tree, struct err *err);
void repo_tree_free(struct repo_tree *t);
size_t repo_tree_count(const struct repo_tree *t);
/* Entry i (< repo_tree_count()). */
void repo_tree_entry(const struct repo_tree *t, size_t i,
                     struct repo_entry *out);
/* The entry named `name` (one path component); ERR_NOTFOUND, without a
 * message, if there is none. */
int repo_tree_find(const struct repo_tree *t, const char *name,
                   struct repo_entry *out);

#endif
