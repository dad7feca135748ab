/*
 * src/client/sluice_client.c — libsluice (include/sluice_client.h): a blocking client of the
 * client protocol (docs/protocol.md), one request and one answer at a time.
 *
 * Built twice: into bin/sluice (`sluice consume`) and, with -fPIC and src/protocol.c only, into
 * build/libsluice.{a,so}. It uses nothing of the daemon but the frame codec, and libcrypto for
 * SHA-256 and HMAC-SHA256.
 *
 * Every wait is bounded: poll() before each recv/send with the client's timeout (for a GET, its
 * own timeout plus the client's). Any I/O, timeout or protocol failure closes the socket, so a
 * half-read frame never confuses the next request.
 *
 * Threads: a client is used by one thread at a time; no global state.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "protocol.h"
#include "sluice_client.h"

struct sluice_client {
    int fd;
    int timeout_ms;
    char *host, *user, *password;
    int port;
    char *instance, *client_id, *filter; /* the last subscription, for reconnect */
    int subscribed;
    char errstr[512];
    int server_error;
    struct proto_buf out;
    uint8_t *in; /* the last frame's payload */
    size_t incap;
};

struct sluice_batch {
    uint64_t id;
    size_t count;
    size_t *off, *len; /* into text */
    char *text;
};

static void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "libsluice: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

static char *dup_or_null(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = xalloc(n);
    memcpy(p, s, n);
    return p;
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static int __attribute__((format(printf, 3, 4)))
fail(struct sluice_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errstr, sizeof(c->errstr), fmt, ap);
    va_end(ap);
    if (code == SLUICE_ERR_IO || code == SLUICE_ERR_TIMEOUT || code == SLUICE_ERR_PROTOCOL) {
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
    }
    return code;
}

const char *sluice_err_name(int err)
{
    switch (err) {
    case SLUICE_OK:
        return "SLUICE_OK";
    case SLUICE_ERR_ARG:
        return "SLUICE_ERR_ARG";
    case SLUICE_ERR_IO:
        return "SLUICE_ERR_IO";
    case SLUICE_ERR_TIMEOUT:
        return "SLUICE_ERR_TIMEOUT";
    case SLUICE_ERR_PROTOCOL:
        return "SLUICE_ERR_PROTOCOL";
    case SLUICE_ERR_SERVER:
        return "SLUICE_ERR_SERVER";
    case SLUICE_ERR_STATE:
        return "SLUICE_ERR_STATE";
    }
    return "SLUICE_ERR_UNKNOWN";
}

struct sluice_client *sluice_client_new(void)
{
    struct sluice_client *c = xalloc(sizeof(*c));
    c->fd = -1;
    c->timeout_ms = 30000;
    return c;
}

static void disconnect(struct sluice_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->subscribed = 0;
}

void sluice_client_free(struct sluice_client *c)
{
    if (c == NULL)
        return;
    disconnect(c);
    free(c->host);
    free(c->user);
    wipe_free(c->password);
    free(c->instance);
    free(c->client_id);
    free(c->filter);
    proto_buf_free(&c->out);
    free(c->in);
    free(c);
}

const char *sluice_client_errstr(const struct sluice_client *c)
{
    return c->errstr;
}

int sluice_client_server_error(const struct sluice_client *c)
{
    return c->server_error;
}

/* ---- frames on the socket ------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline; returns 0, or an error code. */
static int wait_fd(struct sluice_client *c, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return fail(c, SLUICE_ERR_TIMEOUT, "no answer from %s:%d in time", c->host, c->port);
        struct pollfd p = {.fd = c->fd, .events = events};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return fail(c, SLUICE_ERR_IO, "poll: %s", strerror(errno));
    }
}

static int send_out(struct sluice_client *c)
{
    uint64_t deadline = now_ms() + (uint64_t)c->timeout_ms;
    size_t off = 0;
    while (off < c->out.len) {
        int rc = wait_fd(c, POLLOUT, deadline);
        if (rc)
            return rc;
        ssize_t w = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fail(c, SLUICE_ERR_IO, "could not send to %s:%d: %s", c->host, c->port,
                        strerror(errno));
        off += (size_t)w;
    }
    c->out.len = 0;
    return SLUICE_OK;
}

static int recv_all(struct sluice_client *c, uint8_t *p, size_t n, uint64_t deadline)
{
    size_t off = 0;
    while (off < n) {
        int rc = wait_fd(c, POLLIN, deadline);
        if (rc)
            return rc;
        ssize_t r = recv(c->fd, p + off, n - off, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(c, SLUICE_ERR_IO, "connection to %s:%d lost: %s", c->host, c->port,
                        r == 0 ? "closed by the server" : strerror(errno));
        off += (size_t)r;
    }
    return SLUICE_OK;
}

/* Reads one frame: *type and the payload in c->in[0..*len). An ERROR frame becomes
 * SLUICE_ERR_SERVER (disconnecting when the server closes after it). */
static int recv_frame(struct sluice_client *c, uint32_t extra_ms, uint8_t *type, size_t *len)
{
    uint64_t deadline = now_ms() + (uint64_t)c->timeout_ms + extra_ms;
    uint8_t h[PROTO_HEADER_LEN];
    int rc = recv_all(c, h, sizeof(h), deadline);
    if (rc)
        return rc;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n == 0 || n > PROTO_MAX_SERVER_FRAME)
        return fail(c, SLUICE_ERR_PROTOCOL, "frame length %u from the server out of range", n);
    if (c->incap < n) {
        free(c->in);
        c->in = xalloc(n);
        c->incap = n;
    }
    rc = recv_all(c, c->in, n - 1, deadline);
    if (rc)
        return rc;
    *type = h[4];
    *len = n - 1;
    if (*type == PROTO_ERROR) {
        struct proto_reader r;
        proto_reader_init(&r, c->in, *len);
        unsigned code = proto_get_u16(&r);
        char msg[400];
        proto_get_str(&r, msg, sizeof(msg));
        c->server_error = (int)code;
        snprintf(c->errstr, sizeof(c->errstr), "server error %s (%u): %s", proto_error_name(code),
                 code, msg);
        if (proto_error_closes(code))
            disconnect(c);
        return SLUICE_ERR_SERVER;
    }
    return SLUICE_OK;
}

/* Sends the frame in c->out and reads the answer, which must be of type want. */
static int roundtrip(struct sluice_client *c, uint8_t want, uint32_t extra_ms, size_t *len)
{
    c->server_error = 0;
    c->errstr[0] = '\0';
    int rc = send_out(c);
    uint8_t type = 0;
    if (rc == SLUICE_OK)
        rc = recv_frame(c, extra_ms, &type, len);
    if (rc == SLUICE_OK && type != want)
        rc = fail(c, SLUICE_ERR_PROTOCOL, "expected %s from the server, got type 0x%02x",
                  proto_type_name(want), type);
    return rc;
}

static int check_conn(struct sluice_client *c)
{
    c->out.len = 0;
    if (c->fd < 0) {
        snprintf(c->errstr, sizeof(c->errstr), "not connected");
        return SLUICE_ERR_STATE;
    }
    return SLUICE_OK;
}

/* ---- requests ------------------------------------------------------------------------------ */

static int do_connect(struct sluice_client *c)
{
    disconnect(c);
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", c->port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gr = getaddrinfo(c->host, ps, &hints, &ai);
    if (gr)
        return fail(c, SLUICE_ERR_IO, "%s:%d: %s", c->host, c->port, gai_strerror(gr));
    c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0) {
        freeaddrinfo(ai);
        return fail(c, SLUICE_ERR_IO, "socket: %s", strerror(errno));
    }
    fcntl(c->fd, F_SETFD, FD_CLOEXEC);
    /* A non-blocking connect, so that the timeout bounds it too. */
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    int r = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (r != 0 && errno != EINPROGRESS)
        return fail(c, SLUICE_ERR_IO, "could not connect to %s:%d: %s", c->host, c->port,
                    strerror(errno));
    if (r != 0) {
        int rc = wait_fd(c, POLLOUT, now_ms() + (uint64_t)c->timeout_ms);
        if (rc)
            return rc;
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e)
            return fail(c, SLUICE_ERR_IO, "could not connect to %s:%d: %s", c->host, c->port,
                        strerror(e));
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    uint8_t type;
    size_t len;
    int rc = recv_frame(c, 0, &type, &len);
    if (rc)
        return rc;
    if (type != PROTO_SERVER_HELLO)
        return fail(c, SLUICE_ERR_PROTOCOL, "expected SERVER_HELLO, got type 0x%02x", type);
    struct proto_reader rd;
    proto_reader_init(&rd, c->in, len);
    unsigned nv = proto_get_u8(&rd);
    int have = 0;
    for (unsigned i = 0; i < nv; i++)
        if (proto_get_u16(&rd) == PROTO_VERSION)
            have = 1;
    const uint8_t *challenge = proto_get_bytes(&rd, PROTO_CHALLENGE_LEN);
    char server[256];
    proto_get_str(&rd, server, sizeof(server));
    if (!proto_reader_done(&rd))
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed SERVER_HELLO");
    if (!have)
        return fail(c, SLUICE_ERR_PROTOCOL, "the server does not speak protocol version %d",
                    PROTO_VERSION);
    uint8_t key[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    SHA256((const unsigned char *)c->password, strlen(c->password), key);
    HMAC(EVP_sha256(), key, sizeof(key), challenge, PROTO_CHALLENGE_LEN, mac, &maclen);
    OPENSSL_cleanse(key, sizeof(key));
    c->out.len = 0;
    size_t f = proto_frame_begin(&c->out, PROTO_CLIENT_HELLO);
    proto_put_u16(&c->out, PROTO_VERSION);
    proto_put_str(&c->out, c->user, strlen(c->user));
    proto_put_bytes(&c->out, mac, PROTO_PROOF_LEN);
    proto_frame_end(&c->out, f);
    return roundtrip(c, PROTO_AUTH_OK, 0, &len);
}

int sluice_client_connect(struct sluice_client *c,
                          const char *host,
                          int port,
                          const char *user,
                          const char *password,
                          int timeout_ms)
{
    if (c == NULL || host == NULL || user == NULL || password == NULL || port <= 0 ||
        port > 65535 || strlen(user) > 64)
        return c ? fail(c, SLUICE_ERR_ARG, "bad connect arguments") : SLUICE_ERR_ARG;
    free(c->host);
    free(c->user);
    wipe_free(c->password);
    c->host = dup_or_null(host);
    c->user = dup_or_null(user);
    c->password = dup_or_null(password);
    c->port = port;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    free(c->instance);
    c->instance = NULL;
    return do_connect(c);
}

static int do_subscribe(struct sluice_client *c, uint64_t *last_acked)
{
    int rc = check_conn(c);
    if (rc)
        return rc;
    size_t f = proto_frame_begin(&c->out, PROTO_SUBSCRIBE);
    proto_put_str(&c->out, c->instance, strlen(c->instance));
    proto_put_str(&c->out, c->client_id, strlen(c->client_id));
    proto_put_str(&c->out, c->filter, strlen(c->filter));
    proto_frame_end(&c->out, f);
    size_t len;
    rc = roundtrip(c, PROTO_SUBSCRIBED, 0, &len);
    if (rc)
        return rc;
    struct proto_reader rd;
    proto_reader_init(&rd, c->in, len);
    uint64_t last = proto_get_u64(&rd);
    if (!proto_reader_done(&rd))
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed SUBSCRIBED");
    if (last_acked)
        *last_acked = last;
    c->subscribed = 1;
    return SLUICE_OK;
}

int sluice_client_subscribe(struct sluice_client *c,
                            const char *instance,
                            const char *client_id,
                            const char *filter,
                            uint64_t *last_acked)
{
    if (c == NULL || instance == NULL || client_id == NULL || strlen(instance) > 64 ||
        strlen(client_id) > 64 || (filter && strlen(filter) > 60000))
        return c ? fail(c, SLUICE_ERR_ARG, "bad subscribe arguments") : SLUICE_ERR_ARG;
    free(c->instance);
    free(c->client_id);
    free(c->filter);
    c->instance = dup_or_null(instance);
    c->client_id = dup_or_null(client_id);
    c->filter = dup_or_null(filter ? filter : "");
    return do_subscribe(c, last_acked);
}

int sluice_client_get(struct sluice_client *c,
                      uint32_t max_changes,
                      uint32_t max_bytes,
                      uint32_t timeout_ms,
                      struct sluice_batch **out)
{
    if (c == NULL || out == NULL)
        return c ? fail(c, SLUICE_ERR_ARG, "out is NULL") : SLUICE_ERR_ARG;
    *out = NULL;
    int rc = check_conn(c);
    if (rc)
        return rc;
    size_t f = proto_frame_begin(&c->out, PROTO_GET);
    proto_put_u32(&c->out, max_changes);
    proto_put_u32(&c->out, max_bytes);
    proto_put_u32(&c->out, timeout_ms);
    proto_frame_end(&c->out, f);
    size_t len;
    rc = roundtrip(c, PROTO_BATCH, timeout_ms, &len);
    if (rc)
        return rc;
    struct proto_reader rd;
    proto_reader_init(&rd, c->in, len);
    struct sluice_batch *b = xalloc(sizeof(*b));
    b->id = proto_get_u64(&rd);
    uint32_t n = proto_get_u32(&rd);
    /* Each change takes at least its 4-byte length: a count beyond that is malformed. */
    if (rd.bad || (size_t)n > (len - rd.off) / 4) {
        sluice_batch_free(b);
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed BATCH");
    }
    b->off = xalloc((n ? n : 1) * sizeof(size_t));
    b->len = xalloc((n ? n : 1) * sizeof(size_t));
    b->text = xalloc(len + 1); /* each change + NUL fits in the payload (its length prefix) */
    size_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cl;
        const uint8_t *p = proto_get_blob(&rd, &cl);
        if (p == NULL)
            break;
        memcpy(b->text + pos, p, cl);
        b->text[pos + cl] = '\0';
        b->off[i] = pos;
        b->len[i] = cl;
        pos += (size_t)cl + 1;
        b->count++;
    }
    if (!proto_reader_done(&rd)) {
        sluice_batch_free(b);
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed BATCH");
    }
    *out = b;
    return SLUICE_OK;
}

uint64_t sluice_batch_id(const struct sluice_batch *b)
{
    return b ? b->id : 0;
}

size_t sluice_batch_count(const struct sluice_batch *b)
{
    return b ? b->count : 0;
}

const char *sluice_batch_change(const struct sluice_batch *b, size_t i, size_t *len)
{
    if (b == NULL || i >= b->count)
        return NULL;
    if (len)
        *len = b->len[i];
    return b->text + b->off[i];
}

void sluice_batch_free(struct sluice_batch *b)
{
    if (b == NULL)
        return;
    free(b->off);
    free(b->len);
    free(b->text);
    free(b);
}

static int id_request(struct sluice_client *c, uint8_t type, uint8_t answer, uint64_t v)
{
    if (c == NULL)
        return SLUICE_ERR_ARG;
    int rc = check_conn(c);
    if (rc)
        return rc;
    size_t f = proto_frame_begin(&c->out, type);
    proto_put_u64(&c->out, v);
    proto_frame_end(&c->out, f);
    size_t len;
    rc = roundtrip(c, answer, 0, &len);
    if (rc)
        return rc;
    struct proto_reader rd;
    proto_reader_init(&rd, c->in, len);
    if (proto_get_u64(&rd) != v || !proto_reader_done(&rd))
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed %s", proto_type_name(answer));
    return SLUICE_OK;
}

int sluice_client_ack(struct sluice_client *c, uint64_t batch_id)
{
    return id_request(c, PROTO_ACK, PROTO_ACKED, batch_id);
}

int sluice_client_rollback(struct sluice_client *c, uint64_t batch_id)
{
    return id_request(c, PROTO_ROLLBACK, PROTO_ROLLED_BACK, batch_id);
}

int sluice_client_heartbeat(struct sluice_client *c)
{
    return id_request(c, PROTO_HEARTBEAT, PROTO_HEARTBEAT_OK, now_ms());
}

int sluice_client_reconnect(struct sluice_client *c)
{
    if (c == NULL || c->host == NULL)
        return c ? fail(c, SLUICE_ERR_STATE, "never connected") : SLUICE_ERR_ARG;
    int rc = do_connect(c);
    if (rc == SLUICE_OK && c->instance)
        rc = do_subscribe(c, NULL);
    return rc;
}

int sluice_client_close(struct sluice_client *c)
{
    if (c == NULL)
        return SLUICE_ERR_ARG;
    if (c->fd >= 0) {
        c->out.len = 0;
        proto_frame_end(&c->out, proto_frame_begin(&c->out, PROTO_CLOSE));
        size_t len;
        roundtrip(c, PROTO_CLOSED, 0, &len); /* best effort: closing anyway */
    }
    disconnect(c);
    return SLUICE_OK;
}
