/*
 * sluice_client.h — libsluice, the C client of sluice's client protocol (docs/protocol.md):
 * consume an instance's changes with get / ack / rollback under a client id whose cursor the
 * daemon keeps.
 *
 *   struct sluice_client *c = sluice_client_new();
 *   sluice_client_connect(c, "127.0.0.1", 11111, "reader", "readerpw", 5000);
 *   sluice_client_subscribe(c, "demo", "c1", NULL, NULL);
 *   for (;;) {
 *       struct sluice_batch *b;
 *       if (sluice_client_get(c, 1000, 0, 1000, &b) != SLUICE_OK) break;
 *       for (size_t i = 0; i < sluice_batch_count(b); i++)
 *           puts(sluice_batch_change(b, i, NULL));      // one json object
 *       if (sluice_batch_id(b)) sluice_client_ack(c, sluice_batch_id(b));
 *       sluice_batch_free(b);
 *   }
 *   sluice_client_close(c);
 *   sluice_client_free(c);
 *
 * Errors: every fallible function returns SLUICE_OK (0) or a negative enum sluice_err;
 * sluice_client_errstr() then describes the last error, and for SLUICE_ERR_SERVER
 * sluice_client_server_error() gives the server's error code (docs/protocol.md, "Errors").
 * After SLUICE_ERR_IO, SLUICE_ERR_TIMEOUT, SLUICE_ERR_PROTOCOL, SLUICE_ERR_TLS or a server error
 * that closes the connection, the client is disconnected: sluice_client_reconnect() connects and
 * subscribes again with the same parameters (unacked batches are then delivered again).
 *
 * Threads: a struct sluice_client is not thread-safe: use it from one thread at a time. Distinct
 * clients are independent (each has its own TLS context and connection; OpenSSL needs no
 * initialisation by the application). Batches are independent of their client (free them from
 * any thread).
 *
 * TLS: a daemon with server.tls set speaks TLS only; call sluice_client_set_tls() before
 * sluice_client_connect() (docs/protocol.md, "TLS").
 *
 * Memory: strings passed in are copied (borrowed for the call only). Link with -lsluice -lssl
 * -lcrypto -lzookeeper_mt (pkg-config libsluice).
 */
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* The library's exported symbols: libsluice is built with -fvisibility=hidden, so that only
 * what this header declares is visible to applications. */
#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_API __attribute__((visibility("default")))
#else
#define SLUICE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum sluice_err {
    SLUICE_OK = 0,
    SLUICE_ERR_ARG = -1,      /* bad argument (NULL, too long a name) */
    SLUICE_ERR_IO = -2,       /* connect, send or receive failed; the connection is closed */
    SLUICE_ERR_TIMEOUT = -3,  /* no answer in time; the connection is closed */
    SLUICE_ERR_PROTOCOL = -4, /* the server sent something malformed; the connection is closed */
    SLUICE_ERR_SERVER = -5,   /* the server answered ERROR: see sluice_client_server_error() */
    SLUICE_ERR_STATE = -6,    /* not connected, or not subscribed */
    SLUICE_ERR_TLS = -7,      /* TLS set-up, handshake or certificate check failed; closed */
};

struct sluice_client;
struct sluice_batch;

/* A new, unconnected client. Never NULL (aborts on out of memory). Caller frees with
 * sluice_client_free(). */
SLUICE_API struct sluice_client *sluice_client_new(void);

/* Connects to host:port, negotiates protocol version 1 and logs in as user (the password never
 * leaves the process: an HMAC of the server's challenge is sent). timeout_ms bounds the connect
 * and every later answer's wait beyond a GET's own timeout (0 = 30000). */
SLUICE_API int sluice_client_connect(struct sluice_client *c,
                                     const char *host,
                                     int port,
                                     const char *user,
                                     const char *password,
                                     int timeout_ms);

/* Makes the following connects (sluice_client_connect(), sluice_client_reconnect()) use TLS 1.2
 * or later, started right after the TCP connect; the current connection is left as it is.
 * verify != 0 (use this): the server's certificate must chain to a CA of ca_file (PEM, one or
 * more certificates; NULL: the system's default store) and be issued for the host given to
 * sluice_client_connect(): a DNS name is matched against the certificate's DNS names, an IP
 * address (127.0.0.1, ::1) against its IP address SANs. verify == 0 encrypts without checking
 * who answers (open to a man in the middle; for tests only); ca_file is then ignored. ca_file is
 * copied and read now: SLUICE_ERR_TLS (errstr names the file) when it cannot be read or holds no
 * certificate; the previous TLS setting then stays. Calling it again replaces the setting; there
 * is no way back to plain TCP for this client (make a new one). A refused certificate or failed
 * handshake at connect is SLUICE_ERR_TLS, its errstr giving the reason ("unable to get local
 * issuer certificate", "IP address mismatch", ...). */
SLUICE_API int sluice_client_set_tls(struct sluice_client *c, const char *ca_file, int verify);

/* Cluster mode (docs/cluster.md): connects to whichever daemon owns instance now, found in
 * ZooKeeper (zk_servers "host:port[,host:port...]", zk_path the cluster's node "{root}/{cluster}",
 * e.g. "/sluice/prod"), waiting up to timeout_ms for an owner (a failover may be under way).
 * Then as sluice_client_connect(). sluice_client_reconnect() looks the owner up again, so after a
 * failover it reaches the new owner, which resumes this client id at its acked cursor (cursors
 * live in ZooKeeper in cluster mode). A daemon that does not own the instance (any more) answers
 * SUBSCRIBE and GET with the server error 13 (NOT_OWNER), which closes the connection: reconnect.
 * No owner with a client protocol address in time is SLUICE_ERR_IO, errstr saying what was seen. */
SLUICE_API int sluice_client_connect_cluster(struct sluice_client *c,
                                             const char *zk_servers,
                                             const char *zk_path,
                                             const char *instance,
                                             const char *user,
                                             const char *password,
                                             int timeout_ms);

/* Subscribes to instance as client_id, with an optional filter (POSIX extended regex on the
 * whole "db.table"; NULL or "" = everything). *last_acked (when not NULL) gets the last batch id
 * this client id acked (0: none). */
SLUICE_API int sluice_client_subscribe(struct sluice_client *c,
                                       const char *instance,
                                       const char *client_id,
                                       const char *filter,
                                       uint64_t *last_acked);

/* The next batch: at most max_changes changes (0 = 1000) and max_bytes bytes after the first
 * (0 = 4 MiB), waiting up to timeout_ms for one. On SLUICE_OK *out is a batch the caller frees
 * with sluice_batch_free(); it is empty (id 0, no changes) when nothing came in time. */
SLUICE_API int sluice_client_get(struct sluice_client *c,
                                 uint32_t max_changes,
                                 uint32_t max_bytes,
                                 uint32_t timeout_ms,
                                 struct sluice_batch **out);

/* The batch's id (0: an empty batch, nothing to ack). */
SLUICE_API uint64_t sluice_batch_id(const struct sluice_batch *b);
/* How many changes it holds. */
SLUICE_API size_t sluice_batch_count(const struct sluice_batch *b);
/* Change i (0-based) as a NUL-terminated compact JSON object; *len (when not NULL) gets its
 * length. Borrowed, valid until sluice_batch_free(b). NULL when i is out of range. */
SLUICE_API const char *sluice_batch_change(const struct sluice_batch *b, size_t i, size_t *len);
/* Frees b; NULL is a no-op. */
SLUICE_API void sluice_batch_free(struct sluice_batch *b);

/* Acknowledges batch_id and every batch before it. The daemon persists the cursor before it
 * answers. */
SLUICE_API int sluice_client_ack(struct sluice_client *c, uint64_t batch_id);
/* Forgets batch_id and every later unacked batch (0: every unacked batch): they are delivered
 * again by the next gets. */
SLUICE_API int sluice_client_rollback(struct sluice_client *c, uint64_t batch_id);
/* Sends a heartbeat and waits for its answer (keeps an idle connection open). */
SLUICE_API int sluice_client_heartbeat(struct sluice_client *c);

/* Closes any connection, connects again with the parameters of the last successful
 * sluice_client_connect() and, when there was one, subscribes again as before. */
SLUICE_API int sluice_client_reconnect(struct sluice_client *c);

/* Says CLOSE to the server (unacked batches are rolled back) and closes the connection.
 * Returns SLUICE_OK also when the connection was already gone. */
SLUICE_API int sluice_client_close(struct sluice_client *c);

/* Closes the connection and frees c (wiping the stored password); NULL is a no-op. */
SLUICE_API void sluice_client_free(struct sluice_client *c);

/* The last error's description ("" when none). Borrowed, valid until the next call on c. */
SLUICE_API const char *sluice_client_errstr(const struct sluice_client *c);
/* The server's error code of the last SLUICE_ERR_SERVER (0 when none): 4 = AUTH_FAILED, ... */
SLUICE_API int sluice_client_server_error(const struct sluice_client *c);
/* "SLUICE_ERR_IO" for SLUICE_ERR_IO, ... Static. */
SLUICE_API const char *sluice_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif
