/*
 * admin.c — the local HTTP admin endpoint (see admin.h).
 *
 * Served by libmicrohttpd (its own polling thread, per-connection timeouts and a connection
 * limit) on a socket bound here, so that bind errors are ours to word; handlers only read
 * instance status (under each instance's mutex). admin_get() is the client `sluice status`
 * uses.
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

#include <microhttpd.h>

#include "admin.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "xmalloc.h"

struct admin {
    int fd;
    int port;
    struct MHD_Daemon *mhd;
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

/* Renders the answer to GET path into sb; returns the HTTP status and sets *type. */
static unsigned render(struct admin *a, const char *path, struct strbuf *sb, const char **type)
{
    *type = "text/plain";
    if (strcmp(path, "/status") == 0) {
        *type = "application/json";
        strbuf_appends(sb, "{\"pid\":");
        strbuf_append_u64(sb, (uint64_t)getpid());
        strbuf_appends(sb, ",\"started\":");
        strbuf_append_u64(sb, (uint64_t)a->started);
        strbuf_appends(sb, ",\"instances\":[");
        for (size_t i = 0; i < a->n; i++) {
            if (i)
                strbuf_appendc(sb, ',');
            instance_status_json(a->instances[i], sb);
        }
        strbuf_appends(sb, "]}\n");
        return 200;
    }
    if (strcmp(path, "/status.txt") == 0) {
        for (size_t i = 0; i < a->n; i++)
            instance_status_text(a->instances[i], sb);
        if (a->n == 0)
            strbuf_appends(sb, "no instance\n");
        return 200;
    }
    if (strcmp(path, "/health") == 0) {
        *type = "application/json";
        return metrics_health(a->instances, a->n, sb) ? 200 : 503;
    }
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4; charset=utf-8";
        metrics_render(a->instances, a->n, a->started, sb);
        return 200;
    }
    strbuf_appends(sb, "unknown path: try /status, /status.txt, /health or /metrics\n");
    return 404;
}

/* libmicrohttpd's request handler (its threads): GET only, the body built at once. */
static enum MHD_Result handle(void *cls,
                              struct MHD_Connection *conn,
                              const char *url,
                              const char *method,
                              const char *version,
                              const char *upload_data,
                              size_t *upload_data_size,
                              void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)req_cls;
    struct admin *a = cls;
    struct strbuf sb = {0};
    const char *type = "text/plain";
    unsigned code;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        strbuf_appends(&sb, "only GET is served\n");
        code = 405;
    } else if (*upload_data_size != 0) {
        *upload_data_size = 0;
        strbuf_appends(&sb, "a GET has no body\n");
        code = 400;
    } else {
        code = render(a, url, &sb, &type);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(sb.len, sb.len ? sb.buf : (void *)"",
                                                             MHD_RESPMEM_MUST_COPY);
    strbuf_free(&sb);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
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
    /* libmicrohttpd serves the socket bound above from its own thread, a slow client never
     * holding up another (connection timeout 10 s, at most 64 at once). */
    a->mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, handle, a,
                         MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (a->mhd == NULL) {
        err_set(err, ERR_IO, "admin endpoint: libmicrohttpd could not serve \"%s\"", listen_addr);
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
    MHD_stop_daemon(a->mhd); /* closes the listening socket too */
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
