/*
 * src/client/sluice_client.c — libsluice (include/sluice_client.h): a blocking client of the
 * client protocol (docs/protocol.md), one request and one answer at a time.
 *
 * Built twice: into bin/sluice (`sluice consume`) and, with -fPIC and src/protocol.c only, into
 * build/libsluice.{a,so}. It uses nothing of the daemon but the frame codec, libcrypto for
 * SHA-256 and HMAC-SHA256, and libssl for TLS.
 *
 * Every wait is bounded: poll() before each recv/send with the client's timeout (for a GET, its
 * own timeout plus the client's). Any I/O, timeout or protocol failure closes the socket, so a
 * half-read frame never confuses the next request.
 *
 * TLS (sluice_client_set_tls): the handshake runs right after the TCP connect, before the
 * protocol's handshake. Every byte then goes through sock_recv / sock_send, the one place that
 * knows whether the connection is TLS; a TLS read or write may have to wait for the other
 * direction (SSL_ERROR_WANT_READ / WANT_WRITE), and decrypted bytes may wait in libssl where
 * poll() cannot see them (SSL_pending). libssl writes through a BIO of ours that uses
 * send(MSG_NOSIGNAL), so a closed connection never raises SIGPIPE in the application.
 *
 * Batches. A BATCH frame's payload becomes the batch as it is: the client hands its input
 * buffer to the batch and each change is NUL-terminated in place (the NUL overwrites the next
 * change's length prefix once that is read; the last one fits in the frame's type byte's room),
 * so a change is never copied. A freed batch leaves its buffer in its client's one-buffer spare
 * slot (struct spare, shared and reference-counted, an atomic exchange on each side, since
 * batches may be freed on any thread), and the next large frame is read into it: a steady get
 * loop reuses two buffers and neither allocates nor faults in fresh pages.
 *
 * Threads: a client is used by one thread at a time; no global state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_error.h"
#include "clock.h"
#include "protocol.h"
#include "sluice_client.h"
#include "discover.h"

/* A buffer with its capacity in front (the allocation starts sizeof(struct spare_buf) before
 * the data). */
struct spare_buf {
    size_t cap;
    max_align_t align[];
};

/* The one-buffer slot between a client and its batches (see the file comment). */
struct spare {
    _Atomic(struct spare_buf *) buf;
    atomic_int refs; /* the client and each live batch */
};

#define PREFETCH_AHEAD 4096

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
    uint8_t *in; /* the last frame's payload (data of a struct spare_buf of capacity incap) */
    size_t incap;
    /* TLS: tls_ctx set by sluice_client_set_tls(); ssl per connection. */
    SSL_CTX *tls_ctx;
    BIO_METHOD *tls_bio;
    SSL *ssl;
    char *tls_ca;
    int tls_verify;
    char tls_why[256]; /* the reason of the last TLS failure in sock_recv / sock_send */
    /* Cluster mode (sluice_client_connect_cluster): where to look the owner up again. */
    char *zk_servers, *zk_path, *zk_instance;
    struct spare *spare;
};

struct change_ref {
    uint32_t off, len; /* into text: frames are at most 64 MiB */
};

struct sluice_batch {
    uint64_t id;
    size_t count;
    struct change_ref *ch;
    char *text; /* the frame's payload: data of a struct spare_buf */
    struct spare *spare;
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

static struct spare_buf *buf_of(void *data)
{
    return (struct spare_buf *)((char *)data - offsetof(struct spare_buf, align));
}

static void spare_release(struct spare *sp)
{
    if (sp && atomic_fetch_sub(&sp->refs, 1) == 1) {
        free(atomic_load(&sp->buf));
        free(sp);
    }
}

/* A new buffer of n bytes: the data of a struct spare_buf. */
static void *buf_alloc(size_t n)
{
    struct spare_buf *b = malloc(sizeof(*b) + n);
    if (b == NULL) {
        fprintf(stderr, "libsluice: out of memory (%zu bytes)\n", n);
        abort();
    }
    b->cap = n;
    return b->align;
}

/* Leaves data's buffer in the spare slot, freeing what was there (the smaller of the two would
 * be read into less often; the newer one is as good). */
static void spare_put(struct spare *sp, void *data)
{
    if (data == NULL)
        return;
    free(atomic_exchange(&sp->buf, buf_of(data)));
}

/* A buffer of at least n bytes for the input, from the slot when the spare one is big enough;
 * its contents are undefined. */
static uint8_t *in_alloc(struct sluice_client *c, size_t n)
{
    struct spare_buf *b = atomic_exchange(&c->spare->buf, NULL);
    if (b && b->cap >= n) {
        c->incap = b->cap;
        return (uint8_t *)b->align;
    }
    free(b);
    c->incap = n;
    return buf_alloc(n);
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

/* Closes the socket (after a TLS close_notify, best effort, when notify is set). */
static void close_socket(struct sluice_client *c, int notify)
{
    if (c->ssl) {
        if (notify) {
            ERR_clear_error();
            SSL_shutdown(c->ssl);
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
        ERR_clear_error();
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct sluice_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errstr, sizeof(c->errstr), fmt, ap);
    va_end(ap);
    if (code == SLUICE_ERR_IO || code == SLUICE_ERR_TIMEOUT || code == SLUICE_ERR_PROTOCOL ||
        code == SLUICE_ERR_TLS)
        close_socket(c, 0);
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
    case SLUICE_ERR_TLS:
        return "SLUICE_ERR_TLS";
    }
    return "SLUICE_ERR_UNKNOWN";
}

struct sluice_client *sluice_client_new(void)
{
    struct sluice_client *c = xalloc(sizeof(*c));
    c->fd = -1;
    c->timeout_ms = 30000;
    c->spare = xalloc(sizeof(*c->spare));
    atomic_init(&c->spare->buf, NULL);
    atomic_init(&c->spare->refs, 1);
    return c;
}

static void disconnect(struct sluice_client *c)
{
    close_socket(c, 1);
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
    if (c->in)
        free(buf_of(c->in));
    spare_release(c->spare);
    SSL_CTX_free(c->tls_ctx);
    BIO_meth_free(c->tls_bio);
    free(c->tls_ca);
    free(c->zk_servers);
    free(c->zk_path);
    free(c->zk_instance);
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

/* Waits for fd to be ready for events until deadline; returns 0, or an error code. */
static int wait_fd(struct sluice_client *c, short events, uint64_t deadline)
{
    if ((events & POLLIN) && c->ssl && SSL_pending(c->ssl) > 0)
        return 0; /* decrypted bytes wait in libssl */
    for (;;) {
        uint64_t now = clock_mono_ms();
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

/* The result r <= 0 of SSL_read / SSL_write as recv() / send() give it: 0 at the end of the
 * stream, else -1 with errno: EAGAIN when it waits for *want (POLLIN or POLLOUT), EPROTO for a
 * TLS failure (reason in c->tls_why). */
static ssize_t tls_result(struct sluice_client *c, int r, short *want)
{
    int e = SSL_get_error(c->ssl, r), saved = errno;
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        ERR_clear_error();
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        errno = saved && saved != EAGAIN ? saved : ECONNRESET;
        return -1;
    default:
        tls_error_reason(c->tls_why, sizeof(c->tls_why));
        if (c->tls_why[0] == '\0')
            snprintf(c->tls_why, sizeof(c->tls_why), "TLS error %d", e);
        errno = EPROTO;
        return -1;
    }
}

/* recv() and send() of the connection, through TLS when it has it; *want (POLLIN at first) is
 * what to wait for before the next try after an EAGAIN. */
static ssize_t sock_recv(struct sluice_client *c, uint8_t *p, size_t n, short *want)
{
    *want = POLLIN;
    if (c->ssl == NULL)
        return recv(c->fd, p, n, 0);
    ERR_clear_error();
    int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    return r > 0 ? r : tls_result(c, r, want);
}

static ssize_t sock_send(struct sluice_client *c, const uint8_t *p, size_t n, short *want)
{
    *want = POLLOUT;
    if (c->ssl == NULL)
        return send(c->fd, p, n, MSG_NOSIGNAL);
    ERR_clear_error();
    int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    ssize_t v = tls_result(c, r, want);
    if (v == 0) {
        errno = EPIPE; /* the server's close_notify */
        v = -1;
    }
    return v;
}

/* Why a sock_recv / sock_send failed (r < 0: errno). Static or c->tls_why. */
static const char *sock_why(const struct sluice_client *c, ssize_t r)
{
    if (r == 0)
        return "closed by the server";
    if (errno == EPROTO && c->ssl)
        return c->tls_why;
    return strerror(errno);
}

static int send_out(struct sluice_client *c)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)c->timeout_ms;
    size_t off = 0;
    short want = POLLOUT;
    while (off < c->out.len) {
        int rc = wait_fd(c, want, deadline);
        if (rc)
            return rc;
        ssize_t w = sock_send(c, c->out.data + off, c->out.len - off, &want);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return fail(c, SLUICE_ERR_IO, "could not send to %s:%d: %s", c->host, c->port,
                        sock_why(c, w));
        off += (size_t)w;
    }
    c->out.len = 0;
    return SLUICE_OK;
}

static int recv_all(struct sluice_client *c, uint8_t *p, size_t n, uint64_t deadline)
{
    size_t off = 0;
    short want = POLLIN;
    while (off < n) {
        int rc = wait_fd(c, want, deadline);
        if (rc)
            return rc;
        ssize_t r = sock_recv(c, p + off, n - off, &want);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return fail(c, SLUICE_ERR_IO, "connection to %s:%d lost: %s", c->host, c->port,
                        sock_why(c, r));
        off += (size_t)r;
    }
    return SLUICE_OK;
}

/* ---- TLS ----------------------------------------------------------------------------------- */

/* libssl's socket BIO writes with write(): ours sends with MSG_NOSIGNAL (no SIGPIPE). The fd is
 * the BIO's data. */
static int bio_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t w = send((int)(intptr_t)BIO_get_data(b), p, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)w;
}

static int bio_read(BIO *b, char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = recv((int)(intptr_t)BIO_get_data(b), p, (size_t)n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing buffered; nothing else supported */
}

/* The TLS handshake on the connected socket, bounded by the client's timeout: the server's
 * certificate is verified against the CA file (or the default store) and must be issued for
 * c->host (DNS name, or IP address SAN), unless verification is off. */
static int tls_connect(struct sluice_client *c)
{
    char why[256];
    ERR_clear_error();
    c->ssl = SSL_new(c->tls_ctx);
    BIO *b = c->ssl ? BIO_new(c->tls_bio) : NULL;
    if (b == NULL) {
        tls_error_reason(why, sizeof(why));
        return fail(c, SLUICE_ERR_TLS, "TLS: could not set up the connection: %s", why);
    }
    BIO_set_data(b, (void *)(intptr_t)c->fd);
    BIO_set_init(b, 1);
    SSL_set_bio(c->ssl, b, b);
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, c->host, ip) == 1 || inet_pton(AF_INET6, c->host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(c->ssl, c->host); /* SNI: DNS names only */
    if (c->tls_verify && (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host)
                                : SSL_set1_host(c->ssl, c->host)) != 1) {
        tls_error_reason(why, sizeof(why));
        return fail(c, SLUICE_ERR_TLS, "TLS: cannot check the certificate against host \"%s\": %s",
                    c->host, why);
    }
    uint64_t deadline = clock_mono_ms() + (uint64_t)c->timeout_ms;
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return SLUICE_OK;
        int e = SSL_get_error(c->ssl, r), saved = errno;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int rc = wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (rc)
                return rc;
            continue;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (c->tls_verify && vr != X509_V_OK) {
            ERR_clear_error();
            return fail(c, SLUICE_ERR_TLS,
                        "TLS: the certificate of %s:%d is not accepted: %s (host \"%s\", trusted "
                        "CAs: %s%s%s)",
                        c->host, c->port, X509_verify_cert_error_string(vr), c->host,
                        c->tls_ca ? "\"" : "", c->tls_ca ? c->tls_ca : "the system's default store",
                        c->tls_ca ? "\"" : "");
        }
        tls_error_reason(why, sizeof(why));
        if (why[0] == '\0')
            snprintf(why, sizeof(why), "%s",
                     e == SSL_ERROR_SYSCALL && saved ? strerror(saved)
                                                     : "connection closed by the server");
        /* What a server that does not speak TLS makes of our ClientHello. */
        int plain =
            strstr(why, "wrong version") || strstr(why, "packet length") || strstr(why, "closed");
        return fail(c, SLUICE_ERR_TLS, "TLS handshake with %s:%d failed: %s%s", c->host, c->port,
                    why, plain ? " (does the server have server.tls set?)" : "");
    }
}

int sluice_client_set_tls(struct sluice_client *c, const char *ca_file, int verify)
{
    if (c == NULL)
        return SLUICE_ERR_ARG;
    char why[256];
    if (verify && ca_file) {
        FILE *f = fopen(ca_file, "r");
        if (f == NULL) {
            snprintf(c->errstr, sizeof(c->errstr), "TLS: could not read CA file \"%s\": %s",
                     ca_file, strerror(errno));
            return SLUICE_ERR_TLS;
        }
        fclose(f);
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto tls_error;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (verify && (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                           : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        tls_error_reason(why, sizeof(why));
        snprintf(c->errstr, sizeof(c->errstr), "TLS: could not load %s%s%s: %s",
                 ca_file ? "CA file \"" : "the system's CA store", ca_file ? ca_file : "",
                 ca_file ? "\"" : "", why);
        SSL_CTX_free(ctx);
        return SLUICE_ERR_TLS;
    }
    if (c->tls_bio == NULL) {
        c->tls_bio = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "sluice socket");
        if (c->tls_bio == NULL || BIO_meth_set_write(c->tls_bio, bio_write) != 1 ||
            BIO_meth_set_read(c->tls_bio, bio_read) != 1 ||
            BIO_meth_set_ctrl(c->tls_bio, bio_ctrl) != 1) {
            SSL_CTX_free(ctx);
            goto tls_error;
        }
    }
    SSL_CTX_free(c->tls_ctx);
    free(c->tls_ca);
    c->tls_ctx = ctx;
    c->tls_ca = verify ? dup_or_null(ca_file) : NULL;
    c->tls_verify = verify != 0;
    c->errstr[0] = '\0';
    return SLUICE_OK;
tls_error:
    tls_error_reason(why, sizeof(why));
    snprintf(c->errstr, sizeof(c->errstr), "TLS: could not set up: %s", why);
    return SLUICE_ERR_TLS;
}

/* Reads one frame: *type and the payload in c->in[0..*len). An ERROR frame becomes
 * SLUICE_ERR_SERVER (disconnecting when the server closes after it). */
static int recv_frame(struct sluice_client *c, uint32_t extra_ms, uint8_t *type, size_t *len)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)c->timeout_ms + extra_ms;
    uint8_t h[PROTO_HEADER_LEN];
    int rc = recv_all(c, h, sizeof(h), deadline);
    if (rc)
        return rc;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n == 0 || n > PROTO_MAX_SERVER_FRAME)
        return fail(c, SLUICE_ERR_PROTOCOL, "frame length %u from the server out of range", n);
    if (c->incap < n) {
        uint8_t *small = c->in;
        c->in = in_alloc(c, n);
        if (small)
            free(buf_of(small));
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
        int rc = wait_fd(c, POLLOUT, clock_mono_ms() + (uint64_t)c->timeout_ms);
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
    if (c->tls_ctx) {
        int rc = tls_connect(c);
        if (rc)
            return rc;
    }

    uint8_t type;
    size_t len;
    int rc = recv_frame(c, 0, &type, &len);
    if (rc && c->tls_ctx == NULL && (rc == SLUICE_ERR_IO || rc == SLUICE_ERR_TIMEOUT)) {
        /* A TLS server waits for a handshake that never comes, then closes. */
        size_t n = strlen(c->errstr);
        snprintf(c->errstr + n, sizeof(c->errstr) - n,
                 " before its SERVER_HELLO (if the server has server.tls set, use TLS)");
    }
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
    free(c->zk_servers); /* a plain connect leaves cluster mode */
    c->zk_servers = NULL;
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
    uint64_t id = proto_get_u64(&rd);
    uint32_t n = proto_get_u32(&rd);
    /* Each change takes at least its 4-byte length: a count beyond that is malformed. */
    if (rd.bad || (size_t)n > (len - rd.off) / 4)
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed BATCH");
    struct change_ref *ch = malloc((n ? n : 1) * sizeof(*ch));
    if (ch == NULL) {
        fprintf(stderr, "libsluice: out of memory (%u changes)\n", n);
        abort();
    }
    /* Lengths first, then the NULs: change i's NUL goes where change i+1's length was read.
     * Each length says where the next one is, so the walk would wait for memory at every change
     * of a batch too big for the cache: the lines PREFETCH_AHEAD bytes ahead are fetched first. */
    uint32_t i = 0;
    size_t pf = rd.off;
    for (; i < n; i++) {
        for (; pf < len && pf < rd.off + PREFETCH_AHEAD; pf += 64)
            __builtin_prefetch(c->in + pf);
        uint32_t cl;
        const uint8_t *p = proto_get_blob(&rd, &cl);
        if (p == NULL)
            break;
        ch[i].off = (uint32_t)(p - c->in);
        ch[i].len = cl;
        if (i)
            c->in[ch[i - 1].off + ch[i - 1].len] = '\0';
    }
    if (!proto_reader_done(&rd)) {
        free(ch);
        return fail(c, SLUICE_ERR_PROTOCOL, "malformed BATCH");
    }
    /* The payload is len bytes of a buffer of at least len + 1 (the frame's type byte's room). */
    if (n)
        c->in[ch[n - 1].off + ch[n - 1].len] = '\0';
    struct sluice_batch *b = xalloc(sizeof(*b));
    b->id = id;
    b->count = n;
    b->ch = ch;
    if (n && c->incap / 2 > len + 65536) {
        /* A small batch in a big buffer: a copy, so that batches kept long hold no more than
         * their size. */
        b->text = (char *)buf_alloc(len + 1);
        memcpy(b->text, c->in, len + 1);
    } else if (n) {
        /* The batch takes the input buffer; the next frame is read into the spare one. */
        b->text = (char *)c->in;
        c->in = NULL;
        c->incap = 0;
    }
    if (n) {
        b->spare = c->spare;
        atomic_fetch_add(&c->spare->refs, 1);
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
        *len = b->ch[i].len;
    return b->text + b->ch[i].off;
}

void sluice_batch_free(struct sluice_batch *b)
{
    if (b == NULL)
        return;
    if (b->text) {
        spare_put(b->spare, b->text);
        spare_release(b->spare);
    }
    free(b->ch);
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
    return id_request(c, PROTO_HEARTBEAT, PROTO_HEARTBEAT_OK, clock_mono_ms());
}

/* Cluster mode: points host and port at the instance's owner now. */
static int discover(struct sluice_client *c)
{
    char host[256], why[400];
    int port = 0;
    int r = sluice_discover(c->zk_servers, c->zk_path, c->zk_instance, c->timeout_ms, host,
                            sizeof(host), &port, why, sizeof(why));
    if (r <= 0)
        return fail(c, SLUICE_ERR_IO, "instance \"%s\" in ZooKeeper %s%s: %s", c->zk_instance,
                    c->zk_servers, c->zk_path, why);
    free(c->host);
    c->host = dup_or_null(host);
    c->port = port;
    return SLUICE_OK;
}

int sluice_client_connect_cluster(struct sluice_client *c,
                                  const char *zk_servers,
                                  const char *zk_path,
                                  const char *instance,
                                  const char *user,
                                  const char *password,
                                  int timeout_ms)
{
    if (c == NULL || zk_servers == NULL || zk_path == NULL || zk_path[0] != '/' ||
        instance == NULL || instance[0] == '\0' || strchr(instance, '/') || user == NULL ||
        password == NULL || strlen(user) > 64)
        return c ? fail(c, SLUICE_ERR_ARG, "bad connect arguments") : SLUICE_ERR_ARG;
    free(c->zk_servers);
    free(c->zk_path);
    free(c->zk_instance);
    c->zk_servers = dup_or_null(zk_servers);
    c->zk_path = dup_or_null(zk_path);
    c->zk_instance = dup_or_null(instance);
    free(c->user);
    wipe_free(c->password);
    c->user = dup_or_null(user);
    c->password = dup_or_null(password);
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    free(c->instance);
    c->instance = NULL;
    int rc = discover(c);
    return rc ? rc : do_connect(c);
}

int sluice_client_reconnect(struct sluice_client *c)
{
    if (c == NULL || (c->host == NULL && c->zk_servers == NULL))
        return c ? fail(c, SLUICE_ERR_STATE, "never connected") : SLUICE_ERR_ARG;
    if (c->zk_servers) {
        disconnect(c);
        int rc = discover(c);
        if (rc)
            return rc;
    }
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
