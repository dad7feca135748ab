/*
 * binlog_conn.h — the replica connection: connect to a MySQL/MariaDB server as a replica,
 * check that it writes a usable ROW binlog, and stream its binlog events (COM_BINLOG_DUMP
 * through libmariadb's mariadb_rpl_* API).
 *
 * One connection per stream; not thread-safe: the thread that opens a connection uses and
 * closes it. binlog_conn_fd() may be read from a signal handler (see there).
 */
#ifndef SLUICE_BINLOG_CONN_H
#define SLUICE_BINLOG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Error classes on struct err (code, retriable, fatal):
 *   connection lost, server shutting down, killed, can't connect: retriable;
 *   access denied, missing grant (the message names it), TLS failure, server setup: fatal;
 *   ERR_BINLOG_PURGED: fatal, names the position and the server's oldest binlog;
 *   BINLOG_CONN_ERR_ID_CONFLICT (another replica took our server_id): ERR_BINLOG_STREAM with
 *   fatal set and retriable clear: reconnecting would only fight the other replica. */
#define BINLOG_CONN_ERR_ID_CONFLICT ERR_BINLOG_STREAM

/* Called with a one-line warning about the server's setup that does not stop the stream
 * (binlog_row_image not FULL). The message is borrowed for the call. */
typedef void (*binlog_conn_warn_fn)(const char *msg, void *opaque);

struct binlog_conn_opts {
    const char *host;           /* borrowed for binlog_conn_open(); "127.0.0.1" when NULL */
    unsigned port;              /* 3306 when 0 */
    const char *user;           /* borrowed for binlog_conn_open() */
    const char *password;       /* borrowed for binlog_conn_open(); NULL = none; never logged */
    uint32_t server_id;         /* our replica server id; 0 = auto: 0x53000000 | a hash of host
                                   name, pid and replica_name, moved past the ids SHOW SLAVE
                                   HOSTS lists and the server's own */
    const char *replica_name;   /* the instance name, for the automatic server_id (instances
                                   of one daemon on one server must differ); may be NULL */
    const char *start_file;     /* binlog file to start in; NULL (with gtid NULL) = the first
                                   file SHOW BINARY LOGS lists */
    uint64_t start_pos;         /* offset in start_file; 4 when 0 */
    const char *gtid;           /* MariaDB GTID list ("0-1-42,1-2-7"): start after these
                                   transactions (@slave_connect_state); overrides start_file */
    bool non_blocking;          /* the server ends the stream when caught up */
    unsigned heartbeat_ms;      /* 0 = no heartbeats; else the server sends one after this much
                                   idle time, and a read that sees nothing for 3 periods fails */
    unsigned connect_timeout_s; /* 10 when 0 */
    int tls_mode;               /* enum config_tls_mode: 0 disabled, 1 preferred, 2 required,
                                   3 verify_ca, 4 verify_identity */
    const char *tls_ca;         /* CA file (verify_ca / verify_identity) */
    const char *tls_cert;       /* client certificate and key, optional */
    const char *tls_key;
    binlog_conn_warn_fn warn; /* may be NULL: warnings go to stderr */
    void *opaque;             /* passed to warn */
};

struct binlog_conn;

/* Sets the defaults (everything 0/NULL). */
void binlog_conn_opts_init(struct binlog_conn_opts *o);

struct config_instance;

/* Sets the defaults, then an instance's `source:` (host, port, user, server_id, heartbeat, TLS)
 * and password (borrowed, like the config's strings). */
void binlog_conn_opts_from_config(struct binlog_conn_opts *o,
                                  const struct config_instance *in,
                                  const char *password);

/* Connects, runs the pre-flight checks (binary logging on, binlog_format ROW; a warning when
 * binlog_row_image is not FULL), registers as a replica and starts the binlog dump. Returns the
 * connection (caller frees with binlog_conn_close) or NULL with err filled: the message says
 * what to change on the server when the server is not set up for row-based replication. opts
 * and the strings it points to are copied or used only during the call. */
struct binlog_conn *binlog_conn_open(const struct binlog_conn_opts *opts, struct err *err);

/* binlog_conn_next's result for a heartbeat (only after binlog_conn_return_heartbeats). */
#define BINLOG_CONN_HEARTBEAT 2

/* Fetches the next event. Returns 1 with *ev / *len set to the whole event (header, body and
 * checksum, if any; *ev borrowed, valid until the next call), 0 when a non-blocking dump has
 * reached the end of the binlog, or a negative code with err filled ("mariadb_rpl_fetch: ...
 * (errno N)"; ERR_BINLOG_PURGED when the requested position is no longer on the server).
 * Heartbeats are not returned, unless binlog_conn_return_heartbeats(c, true) was called: then
 * each returns BINLOG_CONN_HEARTBEAT (*ev NULL), so that an idle reader gets control back. */
int binlog_conn_next(struct binlog_conn *c, const uint8_t **ev, size_t *len, struct err *err);

/* Makes binlog_conn_next return BINLOG_CONN_HEARTBEAT for each heartbeat (off by default). */
void binlog_conn_return_heartbeats(struct binlog_conn *c, bool on);

/* True when the dump asked for CRC32 checksums (@master_binlog_checksum = CRC32): events,
 * including the fake ROTATE that precedes the first FORMAT_DESCRIPTION, end with a CRC32. */
bool binlog_conn_has_checksum(const struct binlog_conn *c);

/* The file and position the dump was asked to start at (after the SHOW BINARY LOGS lookup;
 * file "" for a GTID start). Borrowed, valid until binlog_conn_close. */
const char *binlog_conn_start_file(const struct binlog_conn *c);
uint64_t binlog_conn_start_pos(const struct binlog_conn *c);

/* The connection's socket, or -1. A signal handler may shutdown(2) it to make a blocked
 * binlog_conn_next() return an error promptly (the caller then knows why it stopped). */
int binlog_conn_fd(const struct binlog_conn *c);

/* The server's identity, read after connecting: @@server_id, @@server_uuid (MySQL; "" on
 * MariaDB), @@version, and whether it is MariaDB. Strings borrowed, valid until
 * binlog_conn_close. */
void binlog_conn_identity(const struct binlog_conn *c,
                          uint32_t *server_id,
                          const char **uuid,
                          const char **version,
                          bool *mariadb);

/* A plain SQL connection (no replica registration, no pre-flight) to o's server with o's
 * credentials and TLS mode (a required TLS is checked to be on); read_timeout_s 0 = none. For
 * the queries the schema and the position tools run. Returns the handle (caller closes with
 * mysql_close) or NULL with err filled, classified retriable or not. */
struct st_mysql *
binlog_conn_sql_connect(const struct binlog_conn_opts *o, unsigned read_timeout_s, struct err *err);

/* The TLS cipher of the connection, NULL when it is plain text. */
const char *binlog_conn_tls_cipher(const struct binlog_conn *c);

/* Monotonic milliseconds (CLOCK_MONOTONIC) of the last event or heartbeat received (or of the
 * open): a caller sees a stall when this stops moving. */
uint64_t binlog_conn_last_activity_ms(const struct binlog_conn *c);

/* The server_id this connection registered with (opts.server_id or the one chosen). */
uint32_t binlog_conn_server_id_used(const struct binlog_conn *c);

/* Opens a plain (non-replica) connection with o's server, credentials and TLS mode, runs SHOW
 * BINARY LOGS and closes. Returns 0 with *names / *sizes (n entries, oldest first; caller frees
 * each name, the names array and the sizes array) or a negative code with err filled (an
 * access denial names the grant: BINLOG MONITOR on MariaDB, REPLICATION CLIENT on MySQL). */
int binlog_conn_list_logs(
    const struct binlog_conn_opts *o, char ***names, uint64_t **sizes, size_t *n, struct err *err);

/* The server's current end on a plain connection: SHOW MASTER STATUS (SHOW BINARY LOG STATUS
 * on MySQL 8.4+) into file / *pos, and into gtid @@gtid_binlog_pos (MariaDB) or
 * @@gtid_executed (MySQL), "" when empty. Strings truncated to their sizes. Returns 0 or a
 * negative code with err filled (ERR_BINLOG_SERVER_SETUP when binary logging is off). */
int binlog_conn_master_status(const struct binlog_conn_opts *o,
                              char *file,
                              size_t filesz,
                              uint64_t *pos,
                              char *gtid,
                              size_t gtidsz,
                              struct err *err);

/* The server settings the pre-flight judges (binlog_conn_open fails on the first problem and
 * passes warnings to opts.warn; `sluice check` prints each). */
enum binlog_conn_check {
    BINLOG_CONN_CHECK_LOG_BIN,   /* log_bin must be ON */
    BINLOG_CONN_CHECK_FORMAT,    /* binlog_format must be ROW */
    BINLOG_CONN_CHECK_ROW_IMAGE, /* binlog_row_image FULL, else a warning */
    BINLOG_CONN_CHECK_N
};
#define BINLOG_CONN_OK      0
#define BINLOG_CONN_WARNING 1
#define BINLOG_CONN_PROBLEM 2

struct binlog_conn_setup {
    int level[BINLOG_CONN_CHECK_N];      /* BINLOG_CONN_OK, _WARNING or _PROBLEM */
    char value[BINLOG_CONN_CHECK_N][32]; /* the server's value, "NULL" when unset */
    char msg[BINLOG_CONN_CHECK_N][300];  /* what is wrong and the fix; "" when ok */
    bool checksum;                       /* binlog_checksum is CRC32 */
};

/* Reads log_bin, binlog_format, binlog_row_image and binlog_checksum on m (any connection to
 * the server) and judges them into s. Returns 0 (s filled, problems included) or a negative
 * code with err filled when the query itself failed. */
int binlog_conn_setup_read(struct st_mysql *m, struct binlog_conn_setup *s, struct err *err);

/* Ends the dump and closes the connection. NULL is a no-op. */
void binlog_conn_close(struct binlog_conn *c);

#endif
