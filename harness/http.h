/*
 * http.h - a small HTTP/1.1 client over POSIX sockets, for the registry
 * API (plain http, GET only).  Every wait (name lookup excepted, connect,
 * send, each read) is bounded by one deadline.
 *
 * Ownership: http_response_release() frees the body.
 */
#ifndef HARNESS_HTTP_H
#define HARNESS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct http_response {
    int status;             /* 200, 404, ... */
    char content_type[128]; /* "" when absent */
    char location[512];     /* redirects; "" when absent */
    char digest[80];        /* Docker-Content-Digest; "" when absent */
    char www_authenticate[256];
    struct buf body; /* decoded (chunked transfer undone) */
};

/*
 * GET http://HOST:PORT/PATH with the extra header lines given (each
 * "Name: value", NULL-terminated list, may be NULL).  Returns 0 when a
 * response arrived, whatever its status.  Errors (ERR_ENGINE): cannot
 * resolve or connect ("cannot reach 'HOST:PORT': Connection refused"), no
 * answer within timeout seconds, a malformed response, a body over
 * max_body bytes.
 */
int http_get(const char *host, const char *port, const char *path,
             const char *const *headers, double timeout, size_t max_body,
             struct http_response *out, struct err *err);

void http_response_release(struct http_response *r);

/*
 * Parse a raw response (status line, headers, body) into *out; exposed
 * for tests and fuzzing.  ERR_ENGINE "malformed HTTP response ..." (what
 * names the server in the message).
 */
int http_parse_response(const char *raw, size_t len, const char *what,
                        size_t max_body, struct http_response *out,
                        struct err *err);

#endif
