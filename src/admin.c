/*
 * admin.c — the local HTTP admin endpoint (see admin.h).
 *
 * Thread: its own; it only reads instance status (under each instance's mutex). Stopping
 * writes to a pipe the thread polls together with the listening socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "xmalloc.h"

struct admin {
    int fd;
    int port;
    int wake[2];
    pthread_t thread;
    struct instance **instances;
    size_t n;
    time_t started;
};

int admin_parse_addr(const char *addr, char *host, size_t hostsz, int *port, struct err *err)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= hostsz)
        return err_set(err, ERR_CONFIG, "admin address \"%s\": expected HOST:PORT", addr);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535)
        return err_set(err, ERR_CONFIG, "admin address \"%s\": port must be 0..65535", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = (int)p;
    return 0;
}

static void respond(int fd, int code, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     code,
                     code == 200   ? "OK"
                     : code == 404 ? "Not Found"
                     : code == 503 ? "Service Unavailable"
                                   : "Bad Request",
                     type, len);
    const char *parts[2] = {head, body};
    size_t lens[2] = {(size_t)n, len};
    for (int k = 0; k < 2; k++) {
        size_t off = 0;
        while (off < lens[k]) {
            ssize_t w = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return;
            off += (size_t)w;
        }
    }
}

static void serve(struct admin *a, int fd)
{
    char req[2048];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    /* Read until the end of the request line (headers are ignored). */
    while (len < sizeof(req) - 1 && memchr(req, '\n', len) == NULL) {
        if (poll(&p, 1, 2000) <= 0)
            return;
        ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (r <= 0)
            return;
        len += (size_t)r;
    }
    req[len] = '\0';
    char method[8] = "", path[256] = "";
    if (sscanf(req, "%7s %255s", method, path) != 2 || strcmp(method, "GET") != 0) {
        respond(fd, 400, "text/plain", "only GET is served\n", 19);
        return;
    }
    struct strbuf sb = {0};
    if (strcmp(path, "/status") == 0) {
        strbuf_appends(&sb, "{\"pid\":");
        strbuf_append_u64(&sb, (uint64_t)getpid());
        strbuf_appends(&sb, ",\"started\":");
        strbuf_append_u64(&sb, (uint64_t)a->started);
        strbuf_appends(&sb, ",\"instances\":[");
        for (size_t i = 0; i < a->n; i++) {
            if (i)
                strbuf_appendc(&sb, ',');
            instance_status_json(a->instances[i], &sb);
        }
        strbuf_appends(&sb, "]}\n");
        respond(fd, 200, "application/json", sb.buf, sb.len);
    } else if (strcmp(path, "/status.txt") == 0) {
        for (size_t i = 0; i < a->n; i++)
            instance_status_text(a->instances[i], &sb);
        if (a->n == 0)
            strbuf_appends(&sb, "no instance\n");
        respond(fd, 200, "text/plain", sb.buf, sb.len);
    } else if (strcmp(path, "/health") == 0) {
        bool ok = metrics_health(a->instances, a->n, &sb);
        respond(fd, ok ? 200 : 503, "application/json", sb.buf, sb.len);
    } else if (strcmp(path, "/metrics") == 0) {
        metrics_render(a->instances, a->n, a->started, &sb);
        respond(fd, 200, "text/plain; version=0.0.4; charset=utf-8", sb.buf, sb.len);
    } else {
        static const char msg[] = "unknown path: try /status, /status.txt, /health or /metrics\n";
        respond(fd, 404, "text/plain", msg, sizeof(msg) - 1);
    }
    strbuf_free(&sb);
}

static void *admin_thread(void *arg)
{
    struct admin *a = arg;
    struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN}, {.fd = a->wake[0], .events = POLLIN}};
    for (;;) {
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int c = accept(a->fd, NULL, NULL);
            if (c >= 0) {
                serve(a, c);
                close(c);
            }
        }
    }
    return NULL;
}

struct admin *
admin_start(const char *listen_addr, struct instance **instances, size_t n, struct err *err)
{
    char host[256];
    int port;
    if (admin_parse_addr(listen_addr, host, sizeof(host), &port, err))
        return NULL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int gr = getaddrinfo(host, ps, &hints, &ai);
    if (gr) {
        err_set(err, ERR_CONFIG, "admin address \"%s\": %s", listen_addr, gai_strerror(gr));
        return NULL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        err_set(err, ERR_IO,
                "admin endpoint: could not listen on \"%s\": %s (set admin.listen to "
                "a free port)",
                listen_addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    struct admin *a = xcalloc(1, sizeof(*a));
    a->fd = fd;
    a->instances = instances;
    a->n = n;
    a->started = time(NULL);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    a->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (pipe(a->wake) != 0 || pthread_create(&a->thread, NULL, admin_thread, a) != 0) {
        err_set(err, ERR_IO, "admin endpoint: could not start: %s", strerror(errno));
        close(fd);
        free(a);
        return NULL;
    }
    return a;
}

int admin_port(const struct admin *a)
{
    return a->port;
}

void admin_stop(struct admin *a)
{
    if (a == NULL)
        return;
    ssize_t w = write(a->wake[1], "x", 1);
    (void)w;
    pthread_join(a->thread, NULL);
    close(a->wake[0]);
    close(a->wake[1]);
    close(a->fd);
    free(a);
}

int admin_get(const char *addr, const char *path, int *code, struct strbuf *body, struct err *err)
{
    char host[256];
    int port;
    *code = 0;
    if (admin_parse_addr(addr, host, sizeof(host), &port, err))
        return ERR_CONFIG;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int gr = getaddrinfo(host, ps, &hints, &ai);
    if (gr)
        return err_set(err, ERR_IO, "%s: %s", addr, gai_strerror(gr));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err_set(err, ERR_IO,
                "no sluice daemon answers at %s: %s (is `sluice run` running? give its "
                "admin.listen with --admin HOST:PORT or --config FILE)",
                addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return ERR_IO;
    }
    freeaddrinfo(ai);
    struct strbuf sb = {0};
    strbuf_printf(&sb, "GET %s HTTP/1.0\r\n\r\n", path);
    int rc = 0;
    if (send(fd, sb.buf, sb.len, MSG_NOSIGNAL) != (ssize_t)sb.len) {
        rc = err_set(err, ERR_IO, "could not send to %s: %s", addr, strerror(errno));
        goto out;
    }
    strbuf_reset(&sb);
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) {
            rc = err_set(err, ERR_IO, "%s did not answer within 5 s", addr);
            goto out;
        }
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        strbuf_append(&sb, buf, (size_t)r);
    }
    const char *start = sb.buf ? strstr(sb.buf, "\r\n\r\n") : NULL;
    if (start == NULL || sscanf(sb.buf, "HTTP/%*s %d", code) != 1) {
        rc = err_set(err, ERR_IO, "unexpected answer from %s", addr);
        goto out;
    }
    strbuf_append(body, start + 4, sb.len - (size_t)(start + 4 - sb.buf));
out:
    close(fd);
    strbuf_free(&sb);
    return rc;
}
