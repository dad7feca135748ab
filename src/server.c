/*
 * server.c — the client protocol server (docs/protocol.md): accepts TCP connections on
 * server.listen, authenticates them by challenge-response (HMAC-SHA256 keyed with the SHA-256
 * of the password, over a random 32-byte challenge), and serves SUBSCRIBE / GET / ACK /
 * ROLLBACK / HEARTBEAT / CLOSE from the instances' hubs (sinks/hub.c).
 *
 * One thread, one poll() loop, non-blocking sockets. Each connection has an input buffer cut
 * into frames by protocol.c and an output buffer sent as the socket takes it. Requests are
 * answered in order: while a GET waits for changes (up to its timeout) later frames stay in the
 * input buffer. The hubs wake the loop through a pipe when an instance batch is complete.
 *
 * Bad input: a malformed frame, an oversize length, an unknown version or a failed login gets an
 * ERROR frame and the connection is closed once the frame is sent (at most 2 s later); a
 * connection silent for server.idle_timeout_ms likewise (TIMEOUT). Each is logged (facility
 * SERVER) with the counts so far; nothing a client sends affects another connection.
 *
 * TLS (server.tls): every connection is TLS from its first byte (TLS 1.2 or later, OpenSSL
 * libssl). The certificate and key are loaded and checked when the server starts. A connection
 * first completes its handshake, driven by the poll loop (SSL_ERROR_WANT_READ / WANT_WRITE say
 * which event to wait for), and only then gets SERVER_HELLO. A failed handshake (a plain-text
 * client, a client that does not trust the certificate) is logged, counted as a protocol error
 * and closed with nothing sent; one not done within server.idle_timeout_ms as a timeout. Once
 * established, conn_read / conn_write go through SSL_read / SSL_write, which may need the other
 * direction's event, and SSL_read may leave decrypted bytes buffered that poll() cannot see
 * (SSL_pending): the loop serves those without waiting. The daemon ignores SIGPIPE (daemon.c),
 * so libssl's plain write() on a closed socket is an error return, as send() is.
 *
 * Threads: the server thread owns every connection; hubs have their own locks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_error.h"
#include "clock.h"
#include "admin.h"
#include "log.h"
#include "protocol.h"
#include "server.h"
#include "version.h"
#include "xmalloc.h"
#include "../sinks/hub.h"

#define FAC            "SERVER"
#define MAX_CONNS      1024
#define MAX_GET_WAIT   60000
#define DEF_CHANGES    1000
#define DEF_BYTES      (4u << 20)
#define MAX_BYTES      (32u << 20)
#define OUT_HIGH_WATER (8u << 20) /* stop reading a client that does not read its answers */
#define CLOSE_GRACE_MS 2000
#define IN_HIGH_WATER  (PROTO_MAX_CLIENT_FRAME + 16384) /* requests buffered behind a GET */

struct user {
    char *name;
    uint8_t key[SHA256_DIGEST_LENGTH]; /* SHA-256 of the password */
};

enum conn_state { CONN_HELLO, CONN_AUTHED, CONN_SUBSCRIBED };

struct conn {
    int fd;
    char peer[80];
    enum conn_state state;
    uint8_t challenge[PROTO_CHALLENGE_LEN];
    char user[65];
    uint8_t *in;
    size_t inlen, incap;
    struct proto_buf out;
    size_t outoff;
    uint64_t last_rx_ms;
    bool get_pending;
    uint32_t g_changes, g_bytes;
    uint64_t g_deadline;
    struct hub *hub;
    char instance[65], client_id[65];
    regex_t filter;
    bool has_filter;
    bool closing;
    uint64_t closing_since;
    /* TLS (NULL without server.tls). tls_want: the poll events the handshake waits for, or
     * POLLOUT when SSL_read needs to write, POLLIN when SSL_write needs to read. */
    SSL *ssl;
    bool tls_handshaking, tls_broken; /* broken: a fatal TLS error, no close_notify then */
    short tls_rd_want, tls_wr_want;
};

struct server {
    int fd, port;
    int wake[2];
    pthread_t thread;
    _Atomic bool stop;
    uint32_t idle_ms;
    struct user *users;
    size_t nusers;
    struct conn **conns;
    size_t nconns;
    SSL_CTX *tls; /* NULL: plain TCP */
    /* Counters since start (logged with every error). */
    uint64_t n_accepted, n_auth_failures, n_protocol_errors, n_timeouts;
};

/* ---- TLS ------------------------------------------------------------------------------------ */

/* A file the server reads: its own message for a missing or unreadable one (OpenSSL's says
 * "system lib"). */
static int check_readable(const char *what, const char *path, struct err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, ERR_CONFIG, "server.tls.%s: could not read \"%s\": %s", what, path,
                       strerror(errno));
    fclose(f);
    return 0;
}

/* The server's TLS context from server.tls: the certificate (a PEM chain: the server's
 * certificate first) and its private key, which must match. NULL with err filled otherwise. */
static SSL_CTX *tls_ctx_new(const struct config *cfg, struct err *err)
{
    const char *cert = cfg->server.tls_cert, *key = cfg->server.tls_key;
    char why[256];
    if (check_readable("cert", cert, err) || check_readable("key", key, err))
        return NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_error_reason(why, sizeof(why));
        err_set(err, ERR_CONFIG, "server.tls: could not create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation (a client could make it cost the one server thread); an EOF without
     * close_notify is a plain disconnect: frames delimit themselves. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* Non-blocking writes from c->out, which may move (grow) between the retries of one write. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_error_reason(why, sizeof(why));
        err_set(err, ERR_CONFIG, "server.tls.cert: \"%s\" is not a PEM certificate (chain): %s",
                cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        /* libssl checks the pair as it loads the key. */
        unsigned long e = ERR_peek_error();
        bool mismatch =
            ERR_GET_LIB(e) == ERR_LIB_X509 && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
                                               ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
        tls_error_reason(why, sizeof(why));
        if (mismatch) {
            err_set(err, ERR_CONFIG,
                    "server.tls.key: \"%s\" does not match the certificate of \"%s\": %s", key,
                    cert, why);
            goto fail;
        }
        err_set(err, ERR_CONFIG, "server.tls.key: \"%s\" is not a PEM private key: %s", key, why);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_error_reason(why, sizeof(why));
        err_set(err, ERR_CONFIG,
                "server.tls.key: \"%s\" does not match the certificate of \"%s\": %s", key, cert,
                why);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int server_tls_check(const struct config *cfg, struct err *err)
{
    if (cfg->server.tls_cert == NULL)
        return 0;
    SSL_CTX *ctx = tls_ctx_new(cfg, err);
    if (ctx == NULL)
        return ERR_CONFIG;
    SSL_CTX_free(ctx);
    return 0;
}

/* The result r <= 0 of an SSL_read / SSL_write as recv() / send() would give it: 0 at the end
 * of the stream, else -1 with errno (EAGAIN when it waits for *want: POLLIN or POLLOUT). */
static ssize_t tls_io_result(struct conn *c, int r, short *want)
{
    char why[256];
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
        c->tls_broken = true;
        ERR_clear_error();
        errno = saved && saved != EAGAIN ? saved : ECONNRESET;
        return -1;
    default:
        c->tls_broken = true;
        tls_error_reason(why, sizeof(why));
        log_debug(FAC, NULL, "client %s: TLS: %s", c->peer, why[0] ? why : "error");
        errno = EPROTO;
        return -1;
    }
}

/* recv() and send() of the connection, through TLS when it has it. */
static ssize_t conn_recv(struct conn *c, uint8_t *p, size_t n)
{
    if (c->ssl == NULL)
        return recv(c->fd, p, n, 0);
    c->tls_rd_want = 0;
    ERR_clear_error();
    int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    return r > 0 ? r : tls_io_result(c, r, &c->tls_rd_want);
}

static ssize_t conn_send(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->ssl == NULL)
        return send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (c->tls_handshaking) {
        errno = EAGAIN; /* SERVER_HELLO waits for the handshake */
        return -1;
    }
    c->tls_wr_want = 0;
    ERR_clear_error();
    int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    ssize_t v = tls_io_result(c, r, &c->tls_wr_want);
    if (v == 0) {
        errno = EPIPE; /* the client's close_notify: nothing can be sent any more */
        v = -1;
    }
    return v;
}

/* True when SSL_read holds decrypted bytes of c that the loop should read now. */
static bool tls_pending(const struct conn *c)
{
    return c->ssl && !c->tls_handshaking && !c->closing && c->inlen <= IN_HIGH_WATER &&
           c->out.len - c->outoff < OUT_HIGH_WATER && SSL_pending(c->ssl) > 0;
}

/* Drives the handshake one step; returns false when it failed (logged and counted: the
 * connection is to be closed, nothing can be sent on it). */
static bool tls_handshake(struct server *s, struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->tls_handshaking = false;
        c->tls_rd_want = 0;
        log_debug(FAC, NULL, "client %s: %s, %s", c->peer, SSL_get_version(c->ssl),
                  SSL_get_cipher_name(c->ssl));
        return true;
    }
    int e = SSL_get_error(c->ssl, r), saved = errno;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->tls_rd_want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        ERR_clear_error();
        return true;
    }
    char why[256];
    tls_error_reason(why, sizeof(why));
    if (why[0] == '\0')
        snprintf(why, sizeof(why), "%s",
                 e == SSL_ERROR_SYSCALL && saved ? strerror(saved) : "connection closed");
    c->tls_broken = true;
    s->n_protocol_errors++;
    log_warn(FAC, NULL,
             "client %s: TLS handshake failed: %s%s; closing (auth failures %llu, protocol errors "
             "%llu, timeouts %llu)",
             c->peer, why,
             strstr(why, "wrong version") || strstr(why, "http request")
                 ? " (a client not speaking TLS?)"
                 : "",
             (unsigned long long)s->n_auth_failures, (unsigned long long)s->n_protocol_errors,
             (unsigned long long)s->n_timeouts);
    return false;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void conn_free(struct server *s, struct conn *c)
{
    if (c->state == CONN_SUBSCRIBED && c->hub)
        hub_unsubscribe(c->hub, c->client_id);
    if (c->has_filter)
        regfree(&c->filter);
    if (c->ssl) {
        /* Best effort close_notify: non-blocking, never waited for. */
        if (!c->tls_handshaking && !c->tls_broken) {
            ERR_clear_error();
            SSL_shutdown(c->ssl);
        }
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    close(c->fd);
    free(c->in);
    proto_buf_free(&c->out);
    free(c);
    (void)s;
}

/* Queues an ERROR frame; for a closing code the connection is closed once it is sent. */
static void conn_error(struct server *s, struct conn *c, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void conn_error(struct server *s, struct conn *c, unsigned code, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    proto_put_error(&c->out, code, msg);
    bool closes = proto_error_closes(code);
    if (closes && c->tls_handshaking)
        c->out.len = c->outoff = 0; /* nothing can be sent before the TLS handshake */
    if (code == PROTO_E_AUTH_FAILED)
        s->n_auth_failures++;
    else if (code == PROTO_E_TIMEOUT)
        s->n_timeouts++;
    else if (code == PROTO_E_PROTOCOL || code == PROTO_E_FRAME_TOO_LARGE ||
             code == PROTO_E_UNSUPPORTED_VERSION)
        s->n_protocol_errors++;
    if (closes) {
        c->closing = true;
        c->closing_since = clock_mono_ms();
        c->get_pending = false;
        log_warn(FAC, c->instance[0] ? c->instance : NULL,
                 "client %s%s%s: %s: %s; closing (auth failures %llu, protocol errors %llu, "
                 "timeouts %llu)",
                 c->peer, c->user[0] ? " user " : "", c->user, proto_error_name(code), msg,
                 (unsigned long long)s->n_auth_failures, (unsigned long long)s->n_protocol_errors,
                 (unsigned long long)s->n_timeouts);
    } else {
        log_info(FAC, c->instance[0] ? c->instance : NULL, "client %s: %s: %s", c->peer,
                 proto_error_name(code), msg);
    }
}

static void send_hello(struct conn *c)
{
    RAND_bytes(c->challenge, sizeof(c->challenge));
    size_t f = proto_frame_begin(&c->out, PROTO_SERVER_HELLO);
    proto_put_u8(&c->out, 1);
    proto_put_u16(&c->out, PROTO_VERSION);
    proto_put_bytes(&c->out, c->challenge, sizeof(c->challenge));
    const char *name = "sluice " SLUICE_VERSION;
    proto_put_str(&c->out, name, strlen(name));
    proto_frame_end(&c->out, f);
}

static void accept_one(struct server *s)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = accept(s->fd, (struct sockaddr *)&ss, &sl);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (s->nconns >= MAX_CONNS) {
        log_warn(FAC, NULL, "client %s:%d refused: %d connections open", host, port, MAX_CONNS);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
    c->last_rx_ms = clock_mono_ms();
    if (s->tls) {
        ERR_clear_error();
        c->ssl = SSL_new(s->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
            char why[256];
            tls_error_reason(why, sizeof(why));
            log_error(FAC, NULL, "client %s refused: TLS: %s", c->peer, why);
            SSL_free(c->ssl);
            close(fd);
            free(c);
            return;
        }
        SSL_set_accept_state(c->ssl);
        c->tls_handshaking = true;
        c->tls_rd_want = POLLIN; /* the client speaks first */
    }
    send_hello(c); /* queued: sent once the TLS handshake is done */
    s->conns = xrealloc(s->conns, (s->nconns + 1) * sizeof(*s->conns));
    s->conns[s->nconns++] = c;
    s->n_accepted++;
    log_debug(FAC, NULL, "client %s connected", c->peer);
}

/* ---- requests ------------------------------------------------------------------------------ */

static const struct user *find_user(const struct server *s, const char *name)
{
    for (size_t i = 0; i < s->nusers; i++)
        if (strcmp(s->users[i].name, name) == 0)
            return &s->users[i];
    return NULL;
}

static void on_hello(struct server *s, struct conn *c, struct proto_reader *r)
{
    uint16_t version = proto_get_u16(r);
    char user[65];
    proto_get_str(r, user, sizeof(user));
    const uint8_t *proof = proto_get_bytes(r, PROTO_PROOF_LEN);
    if (!proto_reader_done(r)) {
        conn_error(s, c, PROTO_E_PROTOCOL, "malformed CLIENT_HELLO");
        return;
    }
    snprintf(c->user, sizeof(c->user), "%s", user);
    if (version != PROTO_VERSION) {
        conn_error(s, c, PROTO_E_UNSUPPORTED_VERSION, "version %u not offered (server speaks %d)",
                   version, PROTO_VERSION);
        return;
    }
    const struct user *u = find_user(s, user);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    /* An unknown user is checked against a key nobody has, so both failures look alike. */
    static const uint8_t nokey[SHA256_DIGEST_LENGTH] = {0};
    HMAC(EVP_sha256(), u ? u->key : nokey, SHA256_DIGEST_LENGTH, c->challenge, sizeof(c->challenge),
         mac, &maclen);
    if (u == NULL || maclen != PROTO_PROOF_LEN || CRYPTO_memcmp(mac, proof, PROTO_PROOF_LEN) != 0) {
        conn_error(s, c, PROTO_E_AUTH_FAILED, "authentication failed for user \"%s\"", user);
        return;
    }
    c->state = CONN_AUTHED;
    size_t f = proto_frame_begin(&c->out, PROTO_AUTH_OK);
    proto_put_u16(&c->out, PROTO_VERSION);
    proto_frame_end(&c->out, f);
    log_debug(FAC, NULL, "client %s logged in as \"%s\"", c->peer, user);
}

static void on_subscribe(struct server *s, struct conn *c, struct proto_reader *r)
{
    char instance[65], client_id[65], *filter = xmalloc(65536);
    proto_get_str(r, instance, sizeof(instance));
    proto_get_str(r, client_id, sizeof(client_id));
    proto_get_str(r, filter, 65536);
    if (!proto_reader_done(r)) {
        conn_error(s, c, PROTO_E_PROTOCOL, "malformed SUBSCRIBE");
        goto out;
    }
    if (c->state == CONN_SUBSCRIBED) {
        conn_error(s, c, PROTO_E_NOT_SUBSCRIBED, "already subscribed to \"%s\"", c->instance);
        goto out;
    }
    struct hub *h = hub_find(instance);
    if (h == NULL) {
        conn_error(s, c, PROTO_E_UNKNOWN_INSTANCE, "no instance \"%s\"", instance);
        goto out;
    }
    bool ok = client_id[0] != '\0' && client_id[0] != '.'; /* a file name, never "." or ".." */
    for (const char *p = client_id; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '.' && *p != '_' && *p != '-')
            ok = false;
    if (!ok) {
        conn_error(s, c, PROTO_E_BAD_FILTER,
                   "client id \"%s\": use letters, digits, '.', '_', '-' (not '.' first)",
                   client_id);
        goto out;
    }
    if (filter[0]) {
        size_t n = strlen(filter) + 8;
        char *anchored = xmalloc(n);
        snprintf(anchored, n, "^(%s)$", filter);
        int rc = regcomp(&c->filter, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
            char why[100];
            regerror(rc, &c->filter, why, sizeof(why));
            conn_error(s, c, PROTO_E_BAD_FILTER, "bad filter \"%.60s\": %s", filter, why);
            goto out;
        }
        c->has_filter = true;
    }
    uint64_t last = 0;
    char msg[256] = "";
    int rc = hub_subscribe(h, client_id, &last, msg, sizeof(msg));
    if (rc == -PROTO_E_CLIENT_ID_BUSY) {
        conn_error(s, c, PROTO_E_CLIENT_ID_BUSY, "client id \"%s\" is in use", client_id);
    } else if (rc == -PROTO_E_NOT_OWNER) {
        conn_error(s, c, PROTO_E_NOT_OWNER, "%s", msg);
    } else if (rc != 0) {
        hub_unsubscribe(h, client_id);
        conn_error(s, c, PROTO_E_INTERNAL, "%s", msg);
    }
    if (rc != 0) {
        if (c->has_filter)
            regfree(&c->filter);
        c->has_filter = false;
        goto out;
    }
    c->hub = h;
    c->state = CONN_SUBSCRIBED;
    snprintf(c->instance, sizeof(c->instance), "%s", instance);
    snprintf(c->client_id, sizeof(c->client_id), "%s", client_id);
    size_t f = proto_frame_begin(&c->out, PROTO_SUBSCRIBED);
    proto_put_u64(&c->out, last);
    proto_frame_end(&c->out, f);
    log_info(FAC, instance, "client %s user \"%s\" subscribed as \"%s\"%s%s", c->peer, c->user,
             client_id, filter[0] ? " filter " : "", filter);
out:
    free(filter);
}

/* Answers the pending GET if changes are there, or with an empty batch at its deadline. */
static void try_get(struct server *s, struct conn *c, uint64_t now)
{
    if (!c->get_pending)
        return;
    int rc = hub_get(c->hub, c->client_id, c->has_filter ? &c->filter : NULL, c->g_changes,
                     c->g_bytes, &c->out);
    if (rc == -PROTO_E_NOT_OWNER) {
        c->get_pending = false;
        conn_error(s, c, PROTO_E_NOT_OWNER,
                   "instance \"%s\" stopped running on this daemon (cluster mode: it stepped "
                   "down); find its owner in ZooKeeper",
                   c->instance);
    } else if (rc > 0) {
        c->get_pending = false;
    } else if (now >= c->g_deadline) {
        size_t f = proto_frame_begin(&c->out, PROTO_BATCH);
        proto_put_u64(&c->out, 0);
        proto_put_u32(&c->out, 0);
        proto_frame_end(&c->out, f);
        c->get_pending = false;
    }
}

static void reply_u64(struct conn *c, uint8_t type, uint64_t v)
{
    size_t f = proto_frame_begin(&c->out, type);
    proto_put_u64(&c->out, v);
    proto_frame_end(&c->out, f);
}

/* One request frame. */
static void on_frame(struct server *s, struct conn *c, uint8_t type, const uint8_t *p, size_t n)
{
    struct proto_reader r;
    proto_reader_init(&r, p, n);
    c->last_rx_ms = clock_mono_ms();
    if (c->state == CONN_HELLO) {
        if (type != PROTO_CLIENT_HELLO)
            conn_error(s, c, PROTO_E_PROTOCOL, "expected CLIENT_HELLO, got type 0x%02x", type);
        else
            on_hello(s, c, &r);
        return;
    }
    switch (type) {
    case PROTO_SUBSCRIBE:
        on_subscribe(s, c, &r);
        return;
    case PROTO_HEARTBEAT: {
        uint64_t token = proto_get_u64(&r);
        if (!proto_reader_done(&r))
            break;
        reply_u64(c, PROTO_HEARTBEAT_OK, token);
        return;
    }
    case PROTO_CLOSE:
        if (!proto_reader_done(&r))
            break;
        proto_frame_end(&c->out, proto_frame_begin(&c->out, PROTO_CLOSED));
        c->closing = true;
        c->closing_since = clock_mono_ms();
        return;
    case PROTO_GET:
    case PROTO_ACK:
    case PROTO_ROLLBACK:
        if (c->state != CONN_SUBSCRIBED) {
            /* Read the request fully first: a malformed one is a protocol error either way. */
            if (type == PROTO_GET)
                proto_get_bytes(&r, 12);
            else
                proto_get_u64(&r);
            if (!proto_reader_done(&r))
                break;
            conn_error(s, c, PROTO_E_NOT_SUBSCRIBED, "%s before SUBSCRIBE", proto_type_name(type));
            return;
        }
        if (type == PROTO_GET) {
            uint32_t changes = proto_get_u32(&r), bytes = proto_get_u32(&r);
            uint32_t wait = proto_get_u32(&r);
            if (!proto_reader_done(&r))
                break;
            c->g_changes = changes ? changes : DEF_CHANGES;
            c->g_bytes = bytes == 0 ? DEF_BYTES : bytes > MAX_BYTES ? MAX_BYTES : bytes;
            c->g_deadline = clock_mono_ms() + (wait > MAX_GET_WAIT ? MAX_GET_WAIT : wait);
            c->get_pending = true;
            try_get(s, c, clock_mono_ms());
            return;
        }
        uint64_t id = proto_get_u64(&r);
        if (!proto_reader_done(&r))
            break;
        if (type == PROTO_ACK) {
            char msg[256] = "";
            int rc = hub_ack(c->hub, c->client_id, id, msg, sizeof(msg));
            if (rc == -PROTO_E_UNKNOWN_BATCH)
                conn_error(s, c, PROTO_E_UNKNOWN_BATCH, "batch %llu was not delivered to \"%s\"",
                           (unsigned long long)id, c->client_id);
            else if (rc)
                conn_error(s, c, PROTO_E_INTERNAL, "%s", msg);
            else
                reply_u64(c, PROTO_ACKED, id);
        } else {
            if (hub_rollback(c->hub, c->client_id, id))
                conn_error(s, c, PROTO_E_UNKNOWN_BATCH, "batch %llu is not unacked for \"%s\"",
                           (unsigned long long)id, c->client_id);
            else
                reply_u64(c, PROTO_ROLLED_BACK, id);
        }
        return;
    default:
        conn_error(s, c, PROTO_E_PROTOCOL, "unexpected message type 0x%02x (%s)", type,
                   proto_type_name(type));
        return;
    }
    conn_error(s, c, PROTO_E_PROTOCOL, "malformed %s", proto_type_name(type));
}

/* Serves the complete frames in the input buffer, stopping at a waiting GET. */
static void process_input(struct server *s, struct conn *c)
{
    size_t off = 0;
    while (!c->closing && !c->get_pending && c->out.len - c->outoff < OUT_HIGH_WATER) {
        uint8_t type;
        const uint8_t *payload;
        size_t plen, used;
        int rc = proto_frame_parse(c->in + off, c->inlen - off, PROTO_MAX_CLIENT_FRAME, &type,
                                   &payload, &plen, &used);
        if (rc == 0)
            break;
        if (rc < 0) {
            const uint8_t *b = c->in + off;
            conn_error(s, c, PROTO_E_FRAME_TOO_LARGE, "frame length %u out of range (1..%u)",
                       (unsigned)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                                  (uint32_t)b[2] << 8 | b[3]),
                       PROTO_MAX_CLIENT_FRAME);
            off = c->inlen;
            break;
        }
        on_frame(s, c, type, payload, plen);
        off += used;
    }
    if (off) {
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
    }
}

/* Reads what the socket has; returns false when the connection is gone. */
static bool conn_read(struct server *s, struct conn *c)
{
    for (;;) {
        if (c->incap - c->inlen < 16384) {
            if (c->inlen > IN_HIGH_WATER)
                break; /* a whole frame is buffered: serve it first */
            c->incap = c->incap ? c->incap * 2 : 32768;
            c->in = xrealloc(c->in, c->incap);
        }
        ssize_t r = conn_recv(c, c->in + c->inlen, c->incap - c->inlen);
        if (r > 0) {
            c->inlen += (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r < 0 && errno == EINTR)
            continue;
        log_debug(FAC, NULL, "client %s disconnected", c->peer);
        return false;
    }
    process_input(s, c);
    return true;
}

/* Sends what the socket takes; returns false when the connection is gone. */
static bool conn_write(struct conn *c)
{
    while (c->outoff < c->out.len) {
        ssize_t w = conn_send(c, c->out.data + c->outoff, c->out.len - c->outoff);
        if (w > 0) {
            c->outoff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        return false;
    }
    c->out.len = c->outoff = 0;
    return true;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void *server_thread(void *arg)
{
    struct server *s = arg;
    struct pollfd *p = NULL;
    size_t cap = 0;
    while (!atomic_load(&s->stop)) {
        uint64_t now = clock_mono_ms();
        int timeout = 1000;
        /* Timeouts: waiting GETs answer empty at their deadline; silent connections close. */
        for (size_t i = 0; i < s->nconns; i++) {
            struct conn *c = s->conns[i];
            try_get(s, c, now);
            if (!c->closing && !c->get_pending && now - c->last_rx_ms >= s->idle_ms)
                conn_error(s, c, PROTO_E_TIMEOUT,
                           c->tls_handshaking ? "no TLS handshake in %u ms"
                                              : "no request for %u ms",
                           s->idle_ms);
            if (!c->get_pending && !c->closing && c->inlen)
                process_input(s, c);
            uint64_t due = c->get_pending ? c->g_deadline : c->last_rx_ms + s->idle_ms;
            if (due > now && due - now < (uint64_t)timeout)
                timeout = (int)(due - now);
            if (tls_pending(c))
                timeout = 0; /* decrypted input poll() cannot see */
        }
        if (cap < s->nconns + 2) {
            cap = s->nconns + 16;
            p = xrealloc(p, cap * sizeof(*p));
        }
        p[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        p[1] = (struct pollfd){.fd = s->fd, .events = POLLIN};
        for (size_t i = 0; i < s->nconns; i++) {
            struct conn *c = s->conns[i];
            short ev = 0;
            if (c->tls_handshaking) {
                ev = c->closing ? 0 : c->tls_rd_want;
            } else {
                if (!c->closing && c->out.len - c->outoff < OUT_HIGH_WATER &&
                    c->inlen <= IN_HIGH_WATER)
                    ev |= POLLIN;
                if (c->outoff < c->out.len)
                    ev |= POLLOUT;
                /* TLS records the other way round: a read that must write, a write that must
                 * read. */
                ev |= (c->tls_rd_want & POLLOUT) | (c->tls_wr_want & POLLIN);
            }
            p[i + 2] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        size_t npoll = s->nconns + 2;
        int r = poll(p, npoll, timeout);
        if (r < 0 && errno != EINTR) {
            log_error(FAC, NULL, "poll: %s", strerror(errno));
            break;
        }
        if (r <= 0)
            continue;
        if (p[0].revents) {
            char drain[256];
            while (read(s->wake[0], drain, sizeof(drain)) > 0) {
            }
        }
        /* Serve the connections polled (new ones are appended after them). */
        size_t polled = s->nconns;
        for (size_t i = 0; i < polled; i++) {
            struct conn *c = s->conns[i];
            bool alive = true;
            short rev = p[i + 2].revents;
            if (c->tls_handshaking) {
                if (rev && !c->closing)
                    alive = tls_handshake(s, c);
                if (alive && !c->tls_handshaking)
                    rev |= POLLIN; /* the client's first frame may have come with it */
            }
            if (!alive || c->tls_handshaking) {
                /* failed, or nothing to read or write yet */
            } else if ((rev & (POLLHUP | POLLERR)) && c->inlen > IN_HIGH_WATER) {
                alive = false; /* gone, with requests it cannot read further behind a GET */
            } else if ((rev & (POLLIN | POLLHUP | POLLERR)) ||
                       ((rev & POLLOUT) && (c->tls_rd_want & POLLOUT)) || tls_pending(c)) {
                alive = conn_read(s, c);
            }
            if (alive)
                alive = conn_write(c);
            if (alive && c->closing &&
                (c->outoff == c->out.len || clock_mono_ms() - c->closing_since > CLOSE_GRACE_MS))
                alive = false;
            if (!alive) {
                conn_free(s, c);
                s->conns[i] = NULL;
            }
        }
        size_t k = 0;
        for (size_t i = 0; i < s->nconns; i++)
            if (s->conns[i])
                s->conns[k++] = s->conns[i];
        s->nconns = k;
        if (p[1].revents & POLLIN)
            accept_one(s);
    }
    /* Stopping: tell every client, best effort, and close. */
    for (size_t i = 0; i < s->nconns; i++) {
        struct conn *c = s->conns[i];
        proto_put_error(&c->out, PROTO_E_SHUTTING_DOWN, "sluice is stopping");
        conn_write(c);
        conn_free(s, c);
    }
    free(s->conns);
    s->conns = NULL;
    s->nconns = 0;
    free(p);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

static int load_users(struct server *s, const struct config *cfg, struct err *err)
{
    s->users = xcalloc(cfg->server.n_users ? cfg->server.n_users : 1, sizeof(*s->users));
    for (size_t i = 0; i < cfg->server.n_users; i++) {
        const struct config_user *u = &cfg->server.users[i];
        char *pw = u->password ? xstrdup(u->password) : config_read_secret_file(u->password_file);
        if (pw == NULL)
            return err_set(err, ERR_CONFIG, "server user \"%s\": could not read \"%s\": %s",
                           u->name, u->password_file, strerror(errno));
        s->users[s->nusers].name = xstrdup(u->name);
        SHA256((const unsigned char *)pw, strlen(pw), s->users[s->nusers].key);
        s->nusers++;
        OPENSSL_cleanse(pw, strlen(pw));
        free(pw);
    }
    return 0;
}

static void free_server(struct server *s)
{
    for (size_t i = 0; i < s->nusers; i++) {
        free(s->users[i].name);
        OPENSSL_cleanse(s->users[i].key, sizeof(s->users[i].key));
    }
    free(s->users);
    SSL_CTX_free(s->tls);
    if (s->fd >= 0)
        close(s->fd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    free(s);
}

struct server *server_start(const struct config *cfg, struct err *err)
{
    const char *addr = cfg->server.listen;
    char host[256];
    int port;
    if (admin_parse_addr(addr, host, sizeof(host), &port, err))
        return NULL;
    struct server *s = xcalloc(1, sizeof(*s));
    s->fd = s->wake[0] = s->wake[1] = -1;
    s->idle_ms = cfg->server.idle_timeout_ms;
    if (load_users(s, cfg, err)) {
        free_server(s);
        return NULL;
    }
    if (cfg->server.tls_cert && (s->tls = tls_ctx_new(cfg, err)) == NULL) {
        free_server(s);
        return NULL;
    }
    if (s->tls) {
        X509 *x = SSL_CTX_get0_certificate(s->tls);
        if (x && X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
            log_warn(FAC, NULL, "server.tls.cert: \"%s\" has expired: clients will refuse it",
                     cfg->server.tls_cert);
        else if (x && X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
            log_warn(FAC, NULL, "server.tls.cert: \"%s\" is not valid yet: clients will refuse it",
                     cfg->server.tls_cert);
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int gr = getaddrinfo(host, ps, &hints, &ai);
    if (gr) {
        err_set(err, ERR_CONFIG, "server address \"%s\": %s", addr, gai_strerror(gr));
        free_server(s);
        return NULL;
    }
    s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (s->fd >= 0)
        setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s->fd < 0 || bind(s->fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s->fd, 64) != 0) {
        err_set(err, ERR_IO, "client server: could not listen on \"%s\": %s", addr,
                strerror(errno));
        freeaddrinfo(ai);
        free_server(s);
        return NULL;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(s->fd, (struct sockaddr *)&ss, &sl);
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (pipe(s->wake) != 0 || fcntl(s->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(s->wake[1], F_SETFL, O_NONBLOCK) != 0) {
        err_set(err, ERR_IO, "client server: could not start: %s", strerror(errno));
        free_server(s);
        return NULL;
    }
    hub_set_notify(s->wake[1]);
    if (pthread_create(&s->thread, NULL, server_thread, s) != 0) {
        hub_set_notify(-1);
        err_set(err, ERR_IO, "client server: could not start its thread");
        free_server(s);
        return NULL;
    }
    log_info(FAC, NULL, "client protocol server on %s (port %d%s), %zu user(s)", addr, s->port,
             s->tls ? ", TLS" : "", s->nusers);
    return s;
}

int server_port(const struct server *s)
{
    return s->port;
}

void server_stop(struct server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stop, true);
    hub_set_notify(-1);
    if (write(s->wake[1], "x", 1) < 0) {
        /* the pipe is full: the thread wakes anyway */
    }
    pthread_join(s->thread, NULL);
    log_info(FAC, NULL,
             "client protocol server stopped: %llu connection(s), %llu auth failure(s), %llu "
             "protocol error(s), %llu timeout(s)",
             (unsigned long long)s->n_accepted, (unsigned long long)s->n_auth_failures,
             (unsigned long long)s->n_protocol_errors, (unsigned long long)s->n_timeouts);
    free_server(s);
}
