/*
 * http.c - GET over a TCP socket with a deadline (see http.h).  The
 * request says "Connection: close", so the response ends at EOF; the body
 * is still delimited by Content-Length or chunked encoding when the server
 * sends them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "http.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left before the deadline, at least 0. */
static int left_ms(double deadline)
{
    double l = deadline - now();
    return l > 0 ? (int)(l * 1000) + 1 : 0;
}

static int wait_fd(int fd, short events, double deadline)
{
    struct pollfd p = { fd, events, 0 };
    int rc;

    do {
        rc = poll(&p, 1, left_ms(deadline));
    } while (rc < 0 && errno == EINTR);
    return rc; /* 0: timed out */
}

static int connect_to(int *out, const char *host, const char *port,
                      double deadline, double timeout, struct err *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd = -1, saved = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
        return err_set(err, ERR_ENGINE, "cannot reach '%s:%s': %s", host, port,
                       gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            rc = wait_fd(fd, POLLOUT, deadline);
            if (rc == 0) {
                close(fd);
                freeaddrinfo(res);
                return err_set(err, ERR_ENGINE,
                               "cannot reach '%s:%s': no answer within %g s",
                               host, port, timeout);
            }
            if (rc > 0 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
                soerr == 0)
                break;
            saved = soerr ? soerr : errno;
        } else {
            saved = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return err_set(err, ERR_ENGINE, "cannot reach '%s:%s': %s", host, port,
                       strerror(saved ? saved : ECONNREFUSED));
    *out = fd;
    return 0;
}

static int send_all(int fd, const char *p, size_t n, double deadline,
                    const char *what, struct err *err)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) == 0)
                return err_set(err, ERR_ENGINE,
                               "'%s' did not take the request in time", what);
            continue;
        }
        return err_set(err, ERR_ENGINE, "cannot send to '%s': %s", what,
                       strerror(errno));
    }
    return 0;
}

static int recv_all(int fd, struct buf *raw, size_t max, double deadline,
                    double timeout, const char *what, struct err *err)
{
    char chunk[16384];

    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r > 0) {
            buf_add(raw, chunk, (size_t)r);
            if (raw->len > max)
                return err_set(err, ERR_ENGINE,
                               "response from '%s' is over %zu bytes", what,
                               max);
            continue;
        }
        if (r == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(fd, POLLIN, deadline) == 0)
                return err_set(err, ERR_ENGINE,
                               "'%s' did not answer within %g s", what,
                               timeout);
            continue;
        }
        return err_set(err, ERR_ENGINE, "cannot read from '%s': %s", what,
                       strerror(errno));
    }
}

/* The value of header name in [p, end) (a block of "Name: value\r\n"
 * lines), copied to out; "" when absent. */
static void header_value(const char *p, const char *end, const char *name,
                         char *out, size_t cap)
{
    size_t nl = strlen(name);

    out[0] = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' &&
            !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' '))
                le--;
            snprintf(out, cap, "%.*s", (int)(le - v), v);
            return;
        }
        p = eol ? eol + 1 : end;
    }
}

static int dechunk(const char *p, const char *end, struct buf *out, size_t max,
                   const char *what, struct err *err)
{
    for (;;) {
        char *num_end;
        unsigned long long n;
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        if (!eol)
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': chunk size "
                           "line cut",
                           what);
        errno = 0;
        n = strtoull(p, &num_end, 16);
        if (num_end == p || errno || n > max)
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': bad chunk "
                           "size",
                           what);
        p = eol + 1;
        if (n == 0)
            return 0;
        if ((unsigned long long)(end - p) < n + 2 || out->len + n > max)
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': chunk cut",
                           what);
        buf_add(out, p, (size_t)n);
        p += n;
        if (*p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
    }
}

int http_parse_response(const char *raw, size_t len, const char *what,
                        size_t max_body, struct http_response *out,
                        struct err *err)
{
    const char *end = raw + len, *hdr, *body, *sep;
    char te[64], cl[32];
    int status = 0, i;

    memset(out, 0, sizeof(*out));
    buf_init(&out->body);
    if (len < 12 || memcmp(raw, "HTTP/1.", 7) || raw[8] != ' ')
        return err_set(err, ERR_ENGINE,
                       "malformed HTTP response from '%s': no status line",
                       what);
    for (i = 9; i < 12; i++) {
        if (raw[i] < '0' || raw[i] > '9')
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': bad status",
                           what);
        status = status * 10 + (raw[i] - '0');
    }
    hdr = memchr(raw, '\n', len);
    if (!hdr)
        return err_set(err, ERR_ENGINE,
                       "malformed HTTP response from '%s': headers cut", what);
    hdr++;
    /* headers end at the first empty line */
    sep = NULL;
    for (const char *p = hdr; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if (eol == p || (eol == p + 1 && *p == '\r')) {
            sep = p;
            body = eol + 1;
            break;
        }
        p = eol + 1;
    }
    if (!sep)
        return err_set(err, ERR_ENGINE,
                       "malformed HTTP response from '%s': headers cut", what);
    out->status = status;
    header_value(hdr, sep, "Content-Type", out->content_type,
                 sizeof(out->content_type));
    header_value(hdr, sep, "Location", out->location, sizeof(out->location));
    header_value(hdr, sep, "Docker-Content-Digest", out->digest,
                 sizeof(out->digest));
    header_value(hdr, sep, "WWW-Authenticate", out->www_authenticate,
                 sizeof(out->www_authenticate));
    header_value(hdr, sep, "Transfer-Encoding", te, sizeof(te));
    header_value(hdr, sep, "Content-Length", cl, sizeof(cl));
    if (!strcasecmp(te, "chunked"))
        return dechunk(body, end, &out->body, max_body, what, err);
    if (cl[0]) {
        char *e;
        unsigned long long n;
        errno = 0;
        n = strtoull(cl, &e, 10);
        if (*e || errno || n > max_body)
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': bad "
                           "Content-Length '%s'",
                           what, cl);
        if ((unsigned long long)(end - body) < n)
            return err_set(err, ERR_ENGINE,
                           "malformed HTTP response from '%s': body cut "
                           "(%zu of %llu bytes)",
                           what, (size_t)(end - body), n);
        buf_add(&out->body, body, (size_t)n);
        return 0;
    }
    buf_add(&out->body, body, (size_t)(end - body));
    return 0;
}

int http_get(const char *host, const char *port, const char *path,
             const char *const *headers, double timeout, size_t max_body,
             struct http_response *out, struct err *err)
{
    double deadline = now() + timeout;
    struct buf req = BUF_INIT, raw = BUF_INIT;
    char what[300];
    int fd = -1, rc;

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "%s:%s", host, port);
    if ((rc = connect_to(&fd, host, port, deadline, timeout, err)) < 0)
        goto out;
    buf_printf(&req,
               "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: harness/%s\r\n"
               "Connection: close\r\n",
               path, host, port, HARNESS_VERSION);
    for (size_t i = 0; headers && headers[i]; i++)
        buf_printf(&req, "%s\r\n", headers[i]);
    buf_adds(&req, "\r\n");
    if ((rc = send_all(fd, req.ptr, req.len, deadline, what, err)) < 0 ||
        (rc = recv_all(fd, &raw, max_body + 65536, deadline, timeout, what,
                       err)) < 0)
        goto out;
    rc = http_parse_response(raw.ptr ? raw.ptr : "", raw.len, what, max_body,
                             out, err);
out:
    if (fd >= 0)
        close(fd);
    buf_release(&req);
    buf_release(&raw);
    return rc;
}

void http_response_release(struct http_response *r)
{
    if (r)
        buf_release(&r->body);
}
