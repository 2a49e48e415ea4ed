/*
 * image.c - read image configs, `docker inspect` output, `docker history`
 * lines and registry manifests (see image.h).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "buildlog.h"
#include "image.h"

#define BUILDKIT_COMMENT "buildkit.dockerfile.v0"
#define INLINE_CACHE_KEY "moby.buildkit.cache.v0"

const char *image_builder_name(enum image_builder b)
{
    switch (b) {
    case IMAGE_BUILDER_BUILDKIT:
        return "buildkit";
    case IMAGE_BUILDER_LEGACY:
        return "legacy";
    case IMAGE_BUILDER_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *image_input_name(enum image_input k)
{
    switch (k) {
    case IMAGE_INPUT_INSPECT:
        return "inspect";
    case IMAGE_INPUT_CONFIG:
        return "config";
    case IMAGE_INPUT_HISTORY:
        break;
    }
    return "history";
}

const char *const image_manifest_types[] = {
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    NULL,
};

/* The marker of one history entry. */
static enum image_builder entry_mark(const char *created_by,
                                     const char *comment)
{
    size_t n;

    if (comment && !strcmp(comment, BUILDKIT_COMMENT))
        return IMAGE_BUILDER_BUILDKIT;
    if (!created_by)
        return IMAGE_BUILDER_UNKNOWN;
    n = strlen(created_by);
    while (n && isspace((unsigned char)created_by[n - 1]))
        n--;
    if (n >= 10 && !memcmp(created_by + n - 10, "# buildkit", 10))
        return IMAGE_BUILDER_BUILDKIT;
    if (strstr(created_by, "#(nop)"))
        return IMAGE_BUILDER_LEGACY;
    /* A legacy RUN: "/bin/sh -c CMD", or "|N A=1 B=2 /bin/sh -c CMD" when
     * build args were in scope.  BuildKit prefixes "RUN ". */
    if (!strncmp(created_by, "/bin/sh -c ", 11) ||
        !strncmp(created_by, "cmd /S /C ", 10))
        return IMAGE_BUILDER_LEGACY;
    if (created_by[0] == '|' && isdigit((unsigned char)created_by[1]) &&
        strstr(created_by, " /bin/sh -c "))
        return IMAGE_BUILDER_LEGACY;
    return IMAGE_BUILDER_UNKNOWN;
}

static void set_evidence(struct image_facts *f, const char *what,
                         const char *text)
{
    char shown[96];
    size_t n = text ? strlen(text) : 0;

    if (n >= sizeof(shown)) {
        memcpy(shown, text, sizeof(shown) - 4);
        memcpy(shown + sizeof(shown) - 4, "...", 4);
    } else {
        memcpy(shown, text ? text : "", n + 1);
    }
    for (char *p = shown; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    snprintf(f->evidence, sizeof(f->evidence), "%s '%s'", what, shown);
}

/* Count one history entry (call newest first). */
static void history_entry(struct image_facts *f, const char *created_by,
                          const char *comment)
{
    enum image_builder m = entry_mark(created_by, comment);

    f->history++;
    if (m == IMAGE_BUILDER_BUILDKIT)
        f->buildkit_entries++;
    else if (m == IMAGE_BUILDER_LEGACY)
        f->legacy_entries++;
    if (m != IMAGE_BUILDER_UNKNOWN && f->builder == IMAGE_BUILDER_UNKNOWN) {
        f->builder = m;
        if (m == IMAGE_BUILDER_BUILDKIT && comment &&
            !strcmp(comment, BUILDKIT_COMMENT))
            set_evidence(f, "history comment", comment);
        else
            set_evidence(f, "history created-by", created_by);
    }
}

static void facts_init(struct image_facts *f, enum image_input input)
{
    memset(f, 0, sizeof(*f));
    f->input = input;
    f->inline_cache = -1;
    f->cache_records = -1;
}

/* Inline cache is only ever written by BuildKit: a legacy image has none. */
static void facts_finish(struct image_facts *f)
{
    if (f->inline_cache < 0 && f->builder == IMAGE_BUILDER_LEGACY)
        f->inline_cache = 0;
}

static const char *str_member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* The 1-based line of the first occurrence of "key" in text, else 1. */
static int key_line(const char *text, size_t len, const char *key)
{
    size_t k = strlen(key);
    int line = 1;

    for (size_t i = 0; i + k + 2 <= len; i++) {
        if (text[i] == '\n')
            line++;
        else if (text[i] == '"' && !memcmp(text + i + 1, key, k) &&
                 text[i + 1 + k] == '"')
            return line;
    }
    return 1;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard base64 (padding optional); 0, or -1 on a bad character. */
static int b64_decode(struct buf *out, const char *s)
{
    unsigned acc = 0;
    int bits = 0;

    for (; *s && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_addch(out, (char)((acc >> bits) & 0xff));
        }
    }
    return 0;
}

/* The number of cache records in the inline cache value (base64 of a JSON
 * list of records, as dockerd 20.10 writes it; or of an object with a
 * "records" list), or -1 if it is neither. */
static int inline_records(const json_t *v)
{
    struct buf raw = BUF_INIT;
    json_t *root = NULL;
    int n = -1;

    if (!json_is_string(v) || b64_decode(&raw, json_string_value(v)) < 0)
        goto out;
    root = json_loadb(raw.ptr ? raw.ptr : "", raw.len, 0, NULL);
    if (json_is_array(root))
        n = (int)json_array_size(root);
    else if (json_is_array(json_object_get(root, "records")))
        n = (int)json_array_size(json_object_get(root, "records"));
out:
    json_decref(root);
    buf_release(&raw);
    return n;
}

static int read_config(struct image_facts *f, const json_t *o, const char *path,
                       const char *text, size_t len, struct err *err)
{
    const json_t *hist = json_object_get(o, "history");
    const json_t *cache;

    facts_init(f, IMAGE_INPUT_CONFIG);
    if (hist && !json_is_array(hist))
        return err_set_at(err, ERR_PARSE, path, key_line(text, len, "history"),
                          "'history' is not an array");
    for (size_t i = json_array_size(hist); i-- > 0;) {
        const json_t *h = json_array_get(hist, i);
        if (!json_is_object(h))
            return err_set_at(err, ERR_PARSE, path,
                              key_line(text, len, "history"),
                              "history entry %zu is not an object", i + 1);
        history_entry(f, str_member(h, "created_by"), str_member(h, "comment"));
    }
    if (f->builder == IMAGE_BUILDER_UNKNOWN &&
        (nonempty(str_member(o, "container")) ||
         nonempty(str_member(o, "docker_version")))) {
        f->builder = IMAGE_BUILDER_LEGACY;
        set_evidence(f, "config field container",
                     nonempty(str_member(o, "container"))
                         ? str_member(o, "container")
                         : str_member(o, "docker_version"));
    }
    cache = json_object_get(o, INLINE_CACHE_KEY);
    f->inline_cache = cache != NULL;
    if (cache)
        f->cache_records = inline_records(cache);
    facts_finish(f);
    return 0;
}

static void read_inspect(struct image_facts *f, const json_t *o)
{
    const json_t *tags = json_object_get(o, "RepoTags");
    const json_t *cc = json_object_get(o, "ContainerConfig");
    const json_t *cmd = json_object_get(cc, "Cmd");
    const char *comment = str_member(o, "Comment");
    const char *tag = json_string_value(json_array_get(tags, 0));

    facts_init(f, IMAGE_INPUT_INSPECT);
    if (!tag)
        tag = json_string_value(
            json_array_get(json_object_get(o, "RepoDigests"), 0));
    if (!tag)
        tag = str_member(o, "Id");
    if (tag)
        snprintf(f->ref, sizeof(f->ref), "%s", tag);
    if (comment && !strcmp(comment, BUILDKIT_COMMENT)) {
        f->builder = IMAGE_BUILDER_BUILDKIT;
        set_evidence(f, "image comment", comment);
    } else if (nonempty(str_member(o, "Container"))) {
        f->builder = IMAGE_BUILDER_LEGACY;
        set_evidence(f, "image field Container", str_member(o, "Container"));
    } else {
        for (size_t i = 0; i < json_array_size(cmd); i++) {
            const char *s = json_string_value(json_array_get(cmd, i));
            if (s && strstr(s, "#(nop)")) {
                f->builder = IMAGE_BUILDER_LEGACY;
                set_evidence(f, "ContainerConfig.Cmd", s);
                break;
            }
        }
    }
    facts_finish(f);
}

static int looks_like_manifest(const json_t *o)
{
    return json_object_get(o, "schemaVersion") ||
           json_object_get(o, "manifests") || json_object_get(o, "layers") ||
           json_object_get(o, "fsLayers");
}

/* A whole JSON document: an inspect array or object, or a config. */
static int read_document(struct image_facts **out, size_t *n, const char *path,
                         const char *text, size_t len, struct err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    int rc = 0;

    if (!root)
        return err_set_at(err, ERR_PARSE, path, je.line > 0 ? je.line : 1,
                          "malformed JSON: %s", je.text);
    if (json_is_array(root)) {
        size_t count = json_array_size(root);
        if (!count) {
            rc = err_set_at(err, ERR_PARSE, path, 1,
                            "empty array: docker inspect found no image");
            goto out;
        }
        *out = xcalloc(count, sizeof(**out));
        for (size_t i = 0; i < count; i++) {
            const json_t *o = json_array_get(root, i);
            if (!json_is_object(o) || !json_object_get(o, "Id")) {
                free(*out);
                *out = NULL;
                rc = err_set_at(err, ERR_PARSE, path, 1,
                                "element %zu is not an image of docker "
                                "inspect (no 'Id')",
                                i + 1);
                goto out;
            }
            read_inspect(&(*out)[i], o);
        }
        *n = count;
    } else if (json_is_object(root) && json_object_get(root, "Id") &&
               json_object_get(root, "Config")) {
        *out = xcalloc(1, sizeof(**out));
        read_inspect(*out, root);
        *n = 1;
    } else if (json_is_object(root) && looks_like_manifest(root)) {
        rc = err_set_at(err, ERR_PARSE, path, 1,
                        "a registry manifest, not an image config");
        err_hint(err, "fetch the config blob the manifest names, or run "
                      "'harness doctor --image REF --registry HOST:PORT'");
    } else if (json_is_object(root) &&
               (json_object_get(root, "rootfs") ||
                json_object_get(root, "history") ||
                json_object_get(root, INLINE_CACHE_KEY))) {
        *out = xcalloc(1, sizeof(**out));
        rc = read_config(*out, root, path, text, len, err);
        if (rc < 0) {
            free(*out);
            *out = NULL;
        } else {
            *n = 1;
        }
    } else {
        rc = err_set_at(err, ERR_PARSE, path, 1,
                        "not an image config, docker inspect output or "
                        "docker history line");
    }
out:
    json_decref(root);
    return rc;
}

/* `docker history --format '{{json .}}'`: one object per line. */
static int read_history_lines(struct image_facts **out, size_t *n,
                              const char *path, const char *text, size_t len,
                              struct err *err)
{
    struct image_facts *f = xcalloc(1, sizeof(*f));
    size_t pos = 0;
    int line = 0;

    facts_init(f, IMAGE_INPUT_HISTORY);
    while (pos < len) {
        const char *s = text + pos;
        const char *nlp = memchr(s, '\n', len - pos);
        size_t l = nlp ? (size_t)(nlp - s) : len - pos;
        json_error_t je;
        json_t *o;
        size_t i;

        line++;
        pos += l + (nlp != NULL);
        for (i = 0; i < l && isspace((unsigned char)s[i]); i++)
            ;
        if (i == l)
            continue;
        o = json_loadb(s, l, 0, &je);
        if (!o) {
            free(f);
            return err_set_at(err, ERR_PARSE, path, line, "malformed JSON: %s",
                              je.text);
        }
        if (!json_is_object(o) ||
            !json_is_string(json_object_get(o, "CreatedBy"))) {
            json_decref(o);
            free(f);
            return err_set_at(err, ERR_PARSE, path, line,
                              "not a docker history line (no string "
                              "'CreatedBy')");
        }
        history_entry(f, str_member(o, "CreatedBy"), str_member(o, "Comment"));
        json_decref(o);
    }
    facts_finish(f);
    *out = f;
    *n = 1;
    return 0;
}

static int read_history_table(struct image_facts **out, size_t *n,
                              const char *path, const char *text, size_t len,
                              struct err *err)
{
    struct buildlog_history *h = NULL;
    struct image_facts *f;
    int rc = buildlog_history_parse(&h, path, text, len, err);

    if (rc < 0)
        return rc;
    f = xcalloc(1, sizeof(*f));
    facts_init(f, IMAGE_INPUT_HISTORY);
    for (size_t i = 0; i < h->nrows; i++)
        history_entry(f, h->rows[i].created_by, h->rows[i].comment);
    facts_finish(f);
    buildlog_history_free(h);
    *out = f;
    *n = 1;
    return 0;
}

/* Whether the first non-blank line is a complete JSON object on its own
 * with a "CreatedBy" key: then the file is history lines. */
static int first_line_is_history(const char *s, size_t len)
{
    const char *nlp = memchr(s, '\n', len);
    size_t l = nlp ? (size_t)(nlp - s) : len;
    json_t *o = json_loadb(s, l, 0, NULL);
    int yes = json_is_object(o) && json_object_get(o, "CreatedBy") != NULL;

    json_decref(o);
    return yes;
}

int image_read(struct image_facts **out, size_t *n, const char *path,
               const char *text, size_t len, struct err *err)
{
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        i = 3;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i == len)
        return err_set_at(err, ERR_PARSE, path, 1,
                          "empty file: expected docker inspect output, an "
                          "image config or docker history lines");
    if (len - i >= 5 && !memcmp(text + i, "IMAGE", 5))
        return read_history_table(out, n, path, text, len, err);
    if (text[i] == '{' && first_line_is_history(text + i, len - i))
        return read_history_lines(out, n, path, text, len, err);
    if (text[i] == '{' || text[i] == '[')
        return read_document(out, n, path, text, len, err);
    return err_set_at(err, ERR_PARSE, path, 1,
                      "not an image config, docker inspect output or docker "
                      "history lines");
}

static void copy_digest(char *dst, size_t cap, const char *d)
{
    snprintf(dst, cap, "%s", d ? d : "");
}

/* A digest as registries write them: "sha256:" and 64 lowercase hex. */
static int digest_ok(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
        return 0;
    for (d += 7; *d; d++)
        if (!isdigit((unsigned char)*d) && !(*d >= 'a' && *d <= 'f'))
            return 0;
    return 1;
}

static int read_index(struct image_manifest *m, const json_t *list,
                      const char *path, const char *text, size_t len,
                      struct err *err)
{
    struct buf plats = BUF_INIT;

    m->kind = IMAGE_MANIFEST_LIST;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        const json_t *p = json_object_get(e, "platform");
        const char *os = str_member(p, "os"),
                   *arch = str_member(p, "architecture");
        const char *d = str_member(e, "digest");
        if (!digest_ok(d)) {
            buf_release(&plats);
            return err_set_at(
                err, ERR_PARSE, path, key_line(text, len, "manifests"),
                "manifest list entry %zu has no sha256 digest", i + 1);
        }
        if (plats.len + 40 < sizeof(m->platforms))
            buf_printf(&plats, "%s%s/%s", plats.len ? " " : "", os ? os : "?",
                       arch ? arch : "?");
        if (!m->platform[0] && os && arch && !strcmp(os, "linux") &&
            !strcmp(arch, "amd64"))
            copy_digest(m->platform, sizeof(m->platform), d);
    }
    snprintf(m->platforms, sizeof(m->platforms), "%s", buf_cstr(&plats));
    buf_release(&plats);
    return 0;
}

int image_manifest_parse(struct image_manifest *out, const char *path,
                         const char *text, size_t len, struct err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    const json_t *cfg, *list;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!root)
        return err_set_at(err, ERR_PARSE, path, je.line > 0 ? je.line : 1,
                          "malformed JSON: %s", je.text);
    if (!json_is_object(root)) {
        rc = err_set_at(err, ERR_PARSE, path, 1, "manifest is not an object");
        goto out;
    }
    if (json_integer_value(json_object_get(root, "schemaVersion")) == 1) {
        rc = err_set_at(err, ERR_PARSE, path,
                        key_line(text, len, "schemaVersion"),
                        "schema 1 manifest: not supported (push the image "
                        "again with a current client)");
        goto out;
    }
    list = json_object_get(root, "manifests");
    if (json_is_array(list)) {
        rc = read_index(out, list, path, text, len, err);
        goto out;
    }
    cfg = json_object_get(root, "config");
    if (!json_is_object(cfg) || !digest_ok(str_member(cfg, "digest"))) {
        rc = err_set_at(err, ERR_PARSE, path,
                        cfg ? key_line(text, len, "config") : 1,
                        "manifest has no config with a sha256 digest");
        goto out;
    }
    out->kind = IMAGE_MANIFEST;
    copy_digest(out->config, sizeof(out->config), str_member(cfg, "digest"));
    out->config_size = json_integer_value(json_object_get(cfg, "size"));
out:
    json_decref(root);
    return rc;
}
