#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct blob_info {
    uint64_t bytes;
    uint64_t refs; /* tags referencing it */
};

struct tagged {
    char *tag;
    struct image img;
};

/*
 * A push mostly repeats the blobs of the one before it, and the blob map
 * of a long replay is far bigger than the CPU caches.  recent[] remembers
 * digests known to be stored, indexed by their first byte: a blob found
 * there is stored, since only collect() removes blobs and it empties
 * recent[].
 */
#define RECENT 256

/*
 * Without retention nothing is ever deleted, and only the newest image is
 * read back: the registry keeps the set of its blobs' digests (compact,
 * see struct dset), its byte total and its newest image, so that keeping
 * every tag of a long replay costs about 18 bytes a blob.  With retention
 * of K tags it keeps each blob's size and references, and the K images.
 *
 * A registry that forgets (registry_set_forgetting) keeps in that set only
 * the digests a later push can name again; see registry_forget_begin().
 * An image's config and manifest digests hash its layers, so they can
 * come back only with every one of those layers: each image's pair is
 * remembered with one of its layers (struct witness, the top one that is
 * not pinned) and forgotten with it.  A pair with no such layer is pinned.
 */
#define WITNESS_KEY DSET_KEY

struct witness {
    unsigned char config[WITNESS_KEY], manifest[WITNESS_KEY];
    unsigned char layer[WITNESS_KEY];
};

/* Forgetting runs when the set has doubled since the last time, and not
 * below this many digests. */
#define FORGET_MIN 256

struct registry {
    struct dmap blobs; /* digest -> struct blob_info (retention only) */
    struct dset all;   /* digests stored, or (forgetting) still nameable */
    unsigned char recent[RECENT][SHA256_LEN];
    unsigned char recent_used[RECENT];
    struct dmap tagset; /* sha256(tag) of every tag: a new tag is found
                           absent without scanning them all */
    struct tagged *tags;
    size_t ntags, cap;
    size_t keep;
    uint64_t bytes;
    size_t nstored; /* blobs stored (no retention), forgotten ones too */
    int forgets;
    struct dset pinned;  /* never forgotten: base layers, and the config
                            and manifest of an image of only those */
    struct dset live;    /* the set being rebuilt (forgetting) */
    struct witness *wit; /* images pushed since forgetting last ran,
                            and those whose layer it kept */
    size_t nwit, wcap;
    size_t forget_at; /* all.n that makes forgetting due */
};

void image_release(struct image *img)
{
    free(img->layers);
    free(img->records);
    memset(img, 0, sizeof(*img));
}

struct registry *registry_new(size_t keep_tags)
{
    struct registry *r = xcalloc(1, sizeof(*r));

    dmap_init(&r->blobs, sizeof(struct blob_info));
    dset_init(&r->all);
    dmap_init(&r->tagset, 1);
    dset_init(&r->pinned);
    dset_init(&r->live);
    r->keep = keep_tags;
    r->forget_at = FORGET_MIN;
    return r;
}

void registry_free(struct registry *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->ntags; i++) {
        free(r->tags[i].tag);
        image_release(&r->tags[i].img);
    }
    free(r->tags);
    dmap_release(&r->blobs);
    dset_release(&r->all);
    dmap_release(&r->tagset);
    dset_release(&r->pinned);
    dset_release(&r->live);
    free(r->wit);
    free(r);
}

int registry_has(const struct registry *r, const unsigned char *digest)
{
    if (!r->keep)
        return dset_has(&r->all, digest);
    return dmap_get(&r->blobs, digest) != NULL;
}

void registry_prefetch(const struct registry *r, const unsigned char *digest)
{
    if (!r->keep)
        dset_prefetch(&r->all, digest);
    else
        dmap_prefetch(&r->blobs, digest);
}

uint64_t registry_put(struct registry *r, const unsigned char *digest,
                      uint64_t bytes)
{
    size_t k = digest[0] % RECENT;
    int created;
    struct blob_info *b;

    if (r->recent_used[k] && !memcmp(r->recent[k], digest, SHA256_LEN))
        return 0;
    if (!r->keep) {
        memcpy(r->recent[k], digest, SHA256_LEN);
        r->recent_used[k] = 1;
        if (!dset_add(&r->all, digest))
            return 0;
        r->nstored++;
        r->bytes += bytes;
        return bytes;
    }
    b = dmap_put(&r->blobs, digest, &created);
    memcpy(r->recent[k], digest, SHA256_LEN);
    r->recent_used[k] = 1;
    if (!created)
        return 0;
    b->bytes = bytes;
    r->bytes += bytes;
    return bytes;
}

/* References are counted for collect() alone, which runs only when the
 * registry keeps the last K tags: without retention nothing is counted
 * (two lookups per blob per push in a map the size of the replay). */
static void ref_records(struct registry *r, const struct image *img,
                        int delta)
{
    size_t i;

    if (!r->keep)
        return;
    for (i = 0; i < img->nrecords; i++) {
        struct blob_info *b;
        if (!img->records[i].has_layer)
            continue;
        b = dmap_get(&r->blobs, img->records[i].layer.digest);
        if (b)
            b->refs += (uint64_t)delta;
    }
}

static void ref_image(struct registry *r, const struct image *img, int delta)
{
    const struct image_layer *all[3];
    size_t i;

    if (!r->keep)
        return;
    for (i = 0; i < img->nlayers; i++) {
        struct blob_info *b = dmap_get(&r->blobs, img->layers[i].digest);
        if (b)
            b->refs += (uint64_t)delta;
    }
    all[0] = &img->config;
    all[1] = &img->manifest;
    for (i = 0; i < 2; i++) {
        struct blob_info *b = dmap_get(&r->blobs, all[i]->digest);
        if (b)
            b->refs += (uint64_t)delta;
    }
    ref_records(r, img, delta);
}

/* Delete blobs no tag references (registry garbage collection). */
static void collect(struct registry *r)
{
    size_t pos = 0, n = 0, i;
    const unsigned char *key;
    struct blob_info *b;
    unsigned char (*dead)[SHA256_LEN] = NULL;

    memset(r->recent_used, 0, sizeof(r->recent_used));
    while ((b = dmap_next(&r->blobs, &pos, &key)))
        if (!b->refs) {
            dead = xrealloc(dead, (n + 1) * sizeof(*dead));
            memcpy(dead[n++], key, SHA256_LEN);
        }
    for (i = 0; i < n; i++) {
        b = dmap_get(&r->blobs, dead[i]);
        r->bytes -= b->bytes;
        dmap_del(&r->blobs, dead[i]);
    }
    free(dead);
}

static void tag_digest(const char *tag, unsigned char out[SHA256_LEN])
{
    struct sha256 h;

    sha256_init(&h);
    sha256_field(&h, tag);
    sha256_final(&h, out);
}

/* Remember img's config and manifest with a layer that must stay
 * nameable for them to come back, or pin them when it has none. */
static void witness_add(struct registry *r, const struct image *img)
{
    struct witness *w;
    size_t i = img->nlayers;

    while (i > 0 && dset_has(&r->pinned, img->layers[i - 1].digest))
        i--;
    if (!i) {
        dset_add(&r->pinned, img->config.digest);
        dset_add(&r->pinned, img->manifest.digest);
        return;
    }
    XGROW(r->wit, r->wcap, r->nwit + 1);
    w = &r->wit[r->nwit++];
    memcpy(w->config, img->config.digest, WITNESS_KEY);
    memcpy(w->manifest, img->manifest.digest, WITNESS_KEY);
    memcpy(w->layer, img->layers[i - 1].digest, WITNESS_KEY);
}

void registry_tag(struct registry *r, const char *tag, struct image *img)
{
    unsigned char td[SHA256_LEN];
    int created;
    size_t i;

    if (!r->keep) {
        struct image old = { 0 };
        /* only the newest image is kept: a tag is never read back once
         * another was pushed */
        if (r->ntags && strcmp(r->tags[0].tag, tag)) {
            free(r->tags[0].tag);
            r->tags[0].tag = NULL;
        }
        if (r->ntags)
            old = r->tags[0].img;
        XGROW(r->tags, r->cap, 1);
        if (!r->ntags || !r->tags[0].tag)
            r->tags[0].tag = xstrdup(tag);
        r->tags[0].img = *img;
        r->ntags = 1;
        /* the old image's arrays go back to the caller: a push per build
         * would allocate (and grow) them again */
        memset(img, 0, sizeof(*img));
        img->layers = old.layers;
        img->layercap = old.layercap ? old.layercap : old.nlayers;
        img->records = old.records;
        img->reccap = old.reccap ? old.reccap : old.nrecords;
        if (r->forgets)
            witness_add(r, &r->tags[0].img);
        return;
    }
    tag_digest(tag, td);
    dmap_put(&r->tagset, td, &created);
    for (i = created ? r->ntags : 0; i < r->ntags; i++)
        if (!strcmp(r->tags[i].tag, tag)) {
            ref_image(r, &r->tags[i].img, -1);
            image_release(&r->tags[i].img);
            r->tags[i].img = *img;
            ref_image(r, img, 1);
            memset(img, 0, sizeof(*img));
            return;
        }
    /* Only the newest image is ever read back (as the previous image);
     * older ones keep what retention needs: their blob references. */
    if (r->ntags) {
        struct image *old = &r->tags[r->ntags - 1].img;
        ref_records(r, old, -1);
        free(old->records);
        old->records = NULL;
        old->nrecords = old->reccap = 0;
    }
    XGROW(r->tags, r->cap, r->ntags + 1);
    r->tags[r->ntags].tag = xstrdup(tag);
    r->tags[r->ntags].img = *img;
    ref_image(r, img, 1);
    r->ntags++;
    memset(img, 0, sizeof(*img));
    if (r->keep && r->ntags > r->keep) {
        ref_image(r, &r->tags[0].img, -1);
        tag_digest(r->tags[0].tag, td);
        dmap_del(&r->tagset, td);
        free(r->tags[0].tag);
        image_release(&r->tags[0].img);
        memmove(r->tags, r->tags + 1, (r->ntags - 1) * sizeof(*r->tags));
        r->ntags--;
        collect(r);
    }
}

const struct image *registry_image(const struct registry *r, const char *tag)
{
    size_t i;

    for (i = r->ntags; i-- > 0;)
        if (!strcmp(r->tags[i].tag, tag))
            return &r->tags[i].img;
    return NULL;
}

uint64_t registry_bytes(const struct registry *r)
{
    return r->bytes;
}

size_t registry_blobs(const struct registry *r)
{
    return r->keep ? r->blobs.n : r->nstored;
}

size_t registry_entries(const struct registry *r)
{
    size_t n = r->blobs.n + r->all.n + r->tagset.n + r->ntags + r->pinned.n +
               r->nwit,
           i;

    for (i = 0; i < r->ntags; i++)
        n += r->tags[i].img.nlayers + r->tags[i].img.nrecords;
    return n;
}

/* ---- forgetting (no retention) ---- */

void registry_set_forgetting(struct registry *r, int on)
{
    r->forgets = on && !r->keep;
}

void registry_pin(struct registry *r, const unsigned char *digest)
{
    if (r->forgets)
        dset_add(&r->pinned, digest);
}

int registry_forget_due(const struct registry *r)
{
    return r->forgets && r->all.n >= r->forget_at;
}

void registry_forget_keep(struct registry *r, const unsigned char *digest)
{
    if (dset_has(&r->all, digest))
        dset_add(&r->live, digest);
}

void registry_forget_begin(struct registry *r)
{
    const struct image *img = r->ntags ? &r->tags[0].img : NULL;
    size_t i;

    dset_release(&r->live);
    if (!img)
        return;
    for (i = 0; i < img->nlayers; i++)
        registry_forget_keep(r, img->layers[i].digest);
    for (i = 0; i < img->nrecords; i++)
        registry_forget_keep(r, img->records[i].layer.digest);
    registry_forget_keep(r, img->config.digest);
    registry_forget_keep(r, img->manifest.digest);
}

void registry_forget_end(struct registry *r)
{
    unsigned char key[DSET_KEY];
    size_t pos = 0, i, n = 0;

    while (dset_next(&r->pinned, &pos, key))
        registry_forget_keep(r, key);
    /* a pair stays while its layer does (the layer is never a pair's
     * digest, so the order of this loop does not matter) */
    for (i = 0; i < r->nwit; i++) {
        const struct witness *w = &r->wit[i];
        if (!dset_has(&r->live, w->layer))
            continue;
        registry_forget_keep(r, w->config);
        registry_forget_keep(r, w->manifest);
        r->wit[n++] = *w;
    }
    r->nwit = n;
    dset_release(&r->all);
    r->all = r->live;
    dset_init(&r->live);
    memset(r->recent_used, 0, sizeof(r->recent_used));
    r->forget_at = r->all.n * 2 > FORGET_MIN ? r->all.n * 2 : FORGET_MIN;
}
