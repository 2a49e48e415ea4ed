/*
 * regclient.c - manifest and config of an image from a registry (see
 * regclient.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "image.h"
#include "regclient.h"
#include "sha256.h"

#define MAX_MANIFEST (4u << 20)
#define MAX_CONFIG   (16u << 20)

/* Whether the first path component of a reference names a registry host
 * (as docker decides: it has a '.' or a ':', or is "localhost"). */
static int is_host(const char *s, size_t n)
{
    return memchr(s, '.', n) || memchr(s, ':', n) ||
           (n == 9 && !memcmp(s, "localhost", 9));
}

static int split_host(struct regclient_image *out, const char *hp, size_t n,
                      struct err *err)
{
    const char *colon;

    if (n && hp[0] == '[') { /* [v6]:port */
        const char *rb = memchr(hp, ']', n);
        if (!rb)
            return err_set(err, ERR_USAGE, "bad registry address '%.*s'",
                           (int)n, hp);
        snprintf(out->host, sizeof(out->host), "%.*s", (int)(rb - hp - 1),
                 hp + 1);
        colon = rb + 1 < hp + n && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(hp, ':', n);
        snprintf(out->host, sizeof(out->host), "%.*s",
                 (int)(colon ? (size_t)(colon - hp) : n), hp);
    }
    snprintf(out->port, sizeof(out->port), "%.*s",
             colon ? (int)(hp + n - colon - 1) : 2, colon ? colon + 1 : "80");
    if (!out->host[0] || !out->port[0] ||
        strspn(out->port, "0123456789") != strlen(out->port))
        return err_set(err, ERR_USAGE,
                       "bad registry address '%.*s' (expected HOST:PORT)",
                       (int)n, hp);
    return 0;
}

int regclient_parse_ref(struct regclient_image *out, const char *registry,
                        const char *ref, struct err *err)
{
    const char *slash = strchr(ref, '/'), *at, *colon, *name = ref;
    size_t rl;
    int rc;

    memset(out, 0, sizeof(*out));
    buf_init(&out->config);
    if (registry && *registry) {
        rl = strlen(registry);
        if (!strncmp(ref, registry, rl) && ref[rl] == '/')
            name = ref + rl + 1;
        if ((rc = split_host(out, registry, rl, err)) < 0)
            return rc;
    } else if (slash && is_host(ref, (size_t)(slash - ref))) {
        if ((rc = split_host(out, ref, (size_t)(slash - ref), err)) < 0)
            return rc;
        name = slash + 1;
    } else {
        return err_set(err, ERR_USAGE,
                       "no registry for '%s': give --registry HOST:PORT", ref);
    }
    at = strchr(name, '@');
    slash = strrchr(name, '/');
    colon = strchr(slash ? slash : name, ':');
    if (at && colon > at)
        colon = NULL;
    rl = at ? (size_t)(at - name) : strlen(name);
    if (colon)
        rl = (size_t)(colon - name);
    if (!rl || rl >= sizeof(out->name))
        return err_set(err, ERR_USAGE, "bad image reference '%s'", ref);
    snprintf(out->name, sizeof(out->name), "%.*s", (int)rl, name);
    if (at)
        snprintf(out->reference, sizeof(out->reference), "%s", at + 1);
    else if (colon)
        snprintf(out->reference, sizeof(out->reference), "%s", colon + 1);
    else
        snprintf(out->reference, sizeof(out->reference), "latest");
    if (!out->reference[0] || strchr(out->reference, '/') ||
        strpbrk(out->name, " \t\r\n?#") || strpbrk(out->reference, " \t\r\n?#"))
        return err_set(err, ERR_USAGE, "bad image reference '%s'", ref);
    return 0;
}

/* GET a path of the registry, following plain-http redirects. */
static int get(struct regclient_image *img, const char *path,
               const char *const *headers, double timeout, size_t max,
               struct http_response *resp, struct err *err)
{
    char host[256], port[16], p[1024];
    int rc;

    snprintf(host, sizeof(host), "%s", img->host);
    snprintf(port, sizeof(port), "%s", img->port);
    snprintf(p, sizeof(p), "%s", path);
    for (int hop = 0;; hop++) {
        const char *loc, *rest;
        size_t hl;

        if ((rc = http_get(host, port, p, headers, timeout, max, resp, err)) <
            0) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            err_set(err, rc, "registry: %s", msg);
            err_hint(err,
                     "is a registry serving plain http at %s:%s? "
                     "(ci/docker-up starts one at 127.0.0.1:5000)",
                     host, port);
            return rc;
        }
        if (resp->status < 300 || resp->status >= 400 || !resp->location[0])
            return 0;
        if (hop == 3)
            return err_set(err, ERR_ENGINE, "too many redirects for '%s'",
                           path);
        loc = resp->location;
        if (loc[0] == '/') {
            snprintf(p, sizeof(p), "%s", loc);
        } else if (!strncmp(loc, "http://", 7)) {
            struct regclient_image tmp;
            loc += 7;
            rest = strchr(loc, '/');
            hl = rest ? (size_t)(rest - loc) : strlen(loc);
            memset(&tmp, 0, sizeof(tmp));
            if (split_host(&tmp, loc, hl, err) < 0)
                return err_set(err, ERR_ENGINE, "bad redirect '%s'",
                               resp->location);
            snprintf(host, sizeof(host), "%s", tmp.host);
            snprintf(port, sizeof(port), "%s", tmp.port);
            snprintf(p, sizeof(p), "%s", rest ? rest : "/");
        } else {
            return err_set(err, ERR_ENGINE,
                           "redirect to '%s': only plain http is supported",
                           resp->location);
        }
        http_response_release(resp);
    }
}

static int http_error(const struct regclient_image *img, const char *what,
                      const struct http_response *r, struct err *err)
{
    char body[160];
    size_t n = r->body.len < sizeof(body) - 1 ? r->body.len : sizeof(body) - 1;

    memcpy(body, r->body.ptr ? r->body.ptr : "", n);
    body[n] = 0;
    for (char *c = body; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (r->status == 401 || r->status == 403) {
        err_set(err, ERR_ENGINE,
                "registry '%s:%s' refuses %s of '%s' (HTTP %d): it needs "
                "authentication, which harness does not do",
                img->host, img->port, what, img->name, r->status);
        err_hint(err, "save the config with 'docker inspect' or 'docker "
                      "history --no-trunc --format \"{{json .}}\"' and run "
                      "harness doctor on the file");
        return err->code;
    }
    return err_set(err, ERR_ENGINE,
                   "registry '%s:%s': %s of '%s:%s' failed "
                   "(HTTP %d) %s",
                   img->host, img->port, what, img->name, img->reference,
                   r->status, body);
}

static int fetch_manifest(struct regclient_image *img, const char *reference,
                          double timeout, struct image_manifest *m,
                          struct err *err)
{
    struct http_response r;
    struct buf accept = BUF_INIT, path = BUF_INIT;
    char where[600];
    const char *headers[2];
    int rc;

    buf_adds(&accept, "Accept: ");
    for (size_t i = 0; image_manifest_types[i]; i++)
        buf_printf(&accept, "%s%s", i ? ", " : "", image_manifest_types[i]);
    headers[0] = buf_cstr(&accept);
    headers[1] = NULL;
    buf_printf(&path, "/v2/%s/manifests/%s", img->name, reference);
    rc = get(img, buf_cstr(&path), headers, timeout, MAX_MANIFEST, &r, err);
    if (rc < 0)
        goto out;
    if (r.status != 200) {
        rc = http_error(img, "the manifest", &r, err);
        goto out_resp;
    }
    snprintf(where, sizeof(where), "%s:%s/%s@%s", img->host, img->port,
             img->name, reference);
    rc = image_manifest_parse(m, where, r.body.ptr ? r.body.ptr : "",
                              r.body.len, err);
    if (rc == 0)
        snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s",
                 r.digest);
out_resp:
    http_response_release(&r);
out:
    buf_release(&accept);
    buf_release(&path);
    return rc;
}

static int fetch_config(struct regclient_image *img, double timeout,
                        struct err *err)
{
    struct http_response r;
    struct buf path = BUF_INIT;
    unsigned char d[SHA256_LEN];
    char hex[SHA256_HEX];
    struct sha256 c;
    int rc;

    buf_printf(&path, "/v2/%s/blobs/%s", img->name, img->config_digest);
    rc = get(img, buf_cstr(&path), NULL, timeout, MAX_CONFIG, &r, err);
    buf_release(&path);
    if (rc < 0)
        return rc;
    if (r.status != 200) {
        rc = http_error(img, "the config blob", &r, err);
        http_response_release(&r);
        return rc;
    }
    sha256_init(&c);
    sha256_update(&c, r.body.ptr ? r.body.ptr : "", r.body.len);
    sha256_final(&c, d);
    sha256_hex(d, hex);
    if (strcmp(hex, img->config_digest + 7)) {
        http_response_release(&r);
        return err_set(err, ERR_ENGINE,
                       "config blob of '%s' does not match its digest '%s'",
                       img->name, img->config_digest);
    }
    buf_release(&img->config);
    img->config = r.body; /* takes the body */
    return 0;
}

int regclient_fetch(struct regclient_image *out, const char *registry,
                    const char *ref, double timeout, struct err *err)
{
    struct image_manifest m;
    int rc;

    if ((rc = regclient_parse_ref(out, registry, ref, err)) < 0 ||
        (rc = fetch_manifest(out, out->reference, timeout, &m, err)) < 0)
        return rc;
    if (m.kind == IMAGE_MANIFEST_LIST) {
        snprintf(out->list_digest, sizeof(out->list_digest), "%s",
                 out->manifest_digest);
        snprintf(out->platforms, sizeof(out->platforms), "%s", m.platforms);
        if (!m.platform[0])
            return err_set(err, ERR_ENGINE,
                           "'%s:%s' has no linux/amd64 image (platforms: %s)",
                           out->name, out->reference, m.platforms);
        char digest[72];
        snprintf(digest, sizeof(digest), "%s", m.platform);
        if ((rc = fetch_manifest(out, digest, timeout, &m, err)) < 0)
            return rc;
        if (!out->manifest_digest[0])
            snprintf(out->manifest_digest, sizeof(out->manifest_digest), "%s",
                     digest);
        if (m.kind != IMAGE_MANIFEST)
            return err_set(err, ERR_ENGINE,
                           "'%s@%s': a manifest list inside a manifest list",
                           out->name, digest);
    }
    snprintf(out->config_digest, sizeof(out->config_digest), "%s", m.config);
    return fetch_config(out, timeout, err);
}

void regclient_image_release(struct regclient_image *img)
{
    if (img)
        buf_release(&img->config);
}
