/*
 * binlog_conn.c — the replica connection (libmariadb, COM_BINLOG_DUMP).
 *
 * Sequence (see ../shared/tools-notes.md §5): mysql_real_connect with connect/read timeouts;
 * pre-flight queries (log_bin, binlog_format, binlog_row_image, binlog_checksum); session
 * variables the server's dump thread reads: @master_binlog_checksum (mandatory when the
 * server writes CRC32: without it the dump is refused), @mariadb_slave_capability = 4 (GTID
 * aware, so a MariaDB server sends GTID events as they are), @master_heartbeat_period (ns), and
 * for a GTID start @slave_connect_state + @slave_gtid_strict_mode; then mariadb_rpl_open.
 *
 * The stream opens with a fake ROTATE (log_pos 0, carrying the start file and position) and the
 * file's FORMAT_DESCRIPTION; both end with a CRC32 when the checksum was asked for. A packet is
 * [0x00 OK byte][event]; the event starts at raw_data + raw_data_ofs. HEARTBEAT events (sent
 * after heartbeat_ms of idle time) only keep the read timeout from firing and are dropped here.
 *
 * Runs on the thread that owns the connection; no globals.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "binlog_conn.h"
#include "binlog_event.h"
#include "xmalloc.h"

#define ER_MASTER_FATAL_ERROR_READING_BINLOG 1236

struct binlog_conn {
    MYSQL *mysql;
    MARIADB_RPL *rpl;
    MARIADB_RPL_EVENT *ev; /* reused by every fetch */
    bool checksum;         /* @master_binlog_checksum = CRC32 */
    bool non_blocking;
    char *start_file;
    uint64_t start_pos;
    uint32_t server_id;       /* the server's */
    uint32_t server_id_used;  /* ours, as a replica */
    char *server_uuid;
    char *version;
    bool mariadb;
};

/* Server errors after which a new connection may succeed: the server is going away or the
 * connection was killed. (Client-side errors, 2000 and above, are network trouble.) */
static bool retriable_errno(unsigned e)
{
    return e >= 2000 || e == 1053 /* ER_SERVER_SHUTDOWN */ || e == 1927 /* killed */ ||
           e == 1040 /* too many connections */ || e == 1205 /* lock wait timeout */;
}

/* TLS options before connecting (see tools-notes: without VERIFY_SERVER_CERT the client may
 * fall back to plain text; the caller checks the cipher afterwards when TLS is required). */
static void tls_options(MYSQL *m, const struct binlog_conn_opts *o)
{
    if (o->tls_mode == 0)
        return;
    if (o->tls_ca)
        mysql_optionsv(m, MYSQL_OPT_SSL_CA, o->tls_ca);
    if (o->tls_cert)
        mysql_optionsv(m, MYSQL_OPT_SSL_CERT, o->tls_cert);
    if (o->tls_key)
        mysql_optionsv(m, MYSQL_OPT_SSL_KEY, o->tls_key);
    my_bool enforce = o->tls_mode >= 2;
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &enforce);
    my_bool verify = o->tls_mode >= 3;
    mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
}

static int query_row(struct binlog_conn *c, const char *q, char **out, unsigned n, struct err *err);

/* The identity of the server (binlog_conn_identity). */
static int read_identity(struct binlog_conn *c, struct err *err)
{
    char *v[2];
    int r = query_row(c, "SELECT @@server_id, @@version", v, 2, err);
    if (r)
        return r;
    c->server_id = v[0] ? (uint32_t)strtoul(v[0], NULL, 10) : 0;
    c->version = v[1] ? v[1] : xstrdup("");
    c->mariadb = strstr(c->version, "MariaDB") != NULL;
    free(v[0]);
    c->server_uuid = NULL;
    if (!c->mariadb) {
        struct err e2 = {0};
        if (query_row(c, "SELECT @@server_uuid", &c->server_uuid, 1, &e2) != 0)
            c->server_uuid = NULL;
    }
    if (c->server_uuid == NULL)
        c->server_uuid = xstrdup("");
    return 0;
}

void binlog_conn_opts_init(struct binlog_conn_opts *o)
{
    memset(o, 0, sizeof(*o));
}

/* Runs a statement that returns no rows. */
static int run(struct binlog_conn *c, const char *q, struct err *err)
{
    if (mysql_query(c->mysql, q) != 0) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" failed: %s (errno %u)", q,
                mysql_error(c->mysql), mysql_errno(c->mysql));
        err->retriable = retriable_errno(mysql_errno(c->mysql));
        return err->code;
    }
    MYSQL_RES *res = mysql_store_result(c->mysql);
    mysql_free_result(res);
    return 0;
}

/* Runs a query and copies up to n columns of its first row into out[] (NULL for SQL NULL or no
 * row; caller frees each). */
static int query_row(struct binlog_conn *c, const char *q, char **out, unsigned n, struct err *err)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = NULL;
    if (mysql_query(c->mysql, q) != 0) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" failed: %s (errno %u)", q,
                mysql_error(c->mysql), mysql_errno(c->mysql));
        err->retriable = retriable_errno(mysql_errno(c->mysql));
        return err->code;
    }
    MYSQL_RES *res = mysql_store_result(c->mysql);
    if (res == NULL)
        return err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" returned no result: %s (errno %u)", q,
                       mysql_error(c->mysql), mysql_errno(c->mysql));
    MYSQL_ROW row = mysql_fetch_row(res);
    unsigned nf = mysql_num_fields(res);
    for (unsigned i = 0; row != NULL && i < n && i < nf; i++)
        out[i] = row[i] ? xstrdup(row[i]) : NULL;
    mysql_free_result(res);
    return 0;
}

static void conn_warn(const struct binlog_conn_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void conn_warn(const struct binlog_conn_opts *o, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o->warn)
        o->warn(msg, o->opaque);
    else
        fprintf(stderr, "warning: %s\n", msg);
}

/* Pre-flight: the server must write a ROW binlog. Remembers whether it writes CRC32. */
static int preflight(struct binlog_conn *c, const struct binlog_conn_opts *o, struct err *err)
{
    char *v[4];
    int r = query_row(c,
                      "SELECT @@global.log_bin, @@global.binlog_format, "
                      "@@global.binlog_row_image, @@global.binlog_checksum",
                      v, 4, err);
    if (r)
        return r;
    if (v[0] == NULL || (strcmp(v[0], "1") != 0 && strcasecmp(v[0], "ON") != 0)) {
        r = err_set(err, ERR_BINLOG_SERVER_SETUP,
                    "binary logging is off: start the server with --log-bin (and "
                    "--binlog-format=ROW)");
        goto out;
    }
    if (v[1] == NULL || strcasecmp(v[1], "ROW") != 0) {
        r = err_set(err, ERR_BINLOG_SERVER_SETUP,
                    "binlog_format is %s, sluice needs ROW: run SET GLOBAL binlog_format = 'ROW' "
                    "(it applies to sessions opened after it; set binlog_format=ROW in the "
                    "server's configuration too)",
                    v[1] ? v[1] : "NULL");
        goto out;
    }
    if (v[2] != NULL && strcasecmp(v[2], "FULL") != 0)
        conn_warn(o,
                  "binlog_row_image is %s, not FULL: update and delete events carry only some "
                  "columns (SET GLOBAL binlog_row_image = 'FULL' for whole rows)",
                  v[2]);
    c->checksum = v[3] != NULL && strcasecmp(v[3], "CRC32") == 0;
out:
    for (int i = 0; i < 4; i++)
        free(v[i]);
    return r;
}

/* Session variables the dump thread reads, and the start position. */
static int setup_dump(struct binlog_conn *c, const struct binlog_conn_opts *o, struct err *err)
{
    int r;
    if ((r = run(c, "SET @master_binlog_checksum = @@global.binlog_checksum", err)))
        return r;
    if ((r = run(c, "SET @mariadb_slave_capability = 4", err)))
        return r;
    if (o->heartbeat_ms) {
        char q[96];
        snprintf(q, sizeof(q), "SET @master_heartbeat_period = %llu",
                 (unsigned long long)o->heartbeat_ms * 1000000ull);
        if ((r = run(c, q, err)))
            return r;
    }
    if (o->gtid != NULL) {
        size_t n = strlen(o->gtid);
        char *esc = xmalloc(2 * n + 1);
        mysql_real_escape_string(c->mysql, esc, o->gtid, (unsigned long)n);
        char *q = xmalloc(2 * n + 64);
        sprintf(q, "SET @slave_connect_state = '%s'", esc);
        r = run(c, q, err);
        free(q);
        free(esc);
        if (r == 0)
            r = run(c, "SET @slave_gtid_strict_mode = 1", err);
        if (r)
            return r;
        c->start_file = xstrdup("");
        c->start_pos = 4;
        return 0;
    }
    c->start_pos = o->start_pos ? o->start_pos : 4;
    if (o->start_file != NULL) {
        c->start_file = xstrdup(o->start_file);
        return 0;
    }
    char *first = NULL;
    if ((r = query_row(c, "SHOW BINARY LOGS", &first, 1, err)))
        return r;
    if (first == NULL)
        return err_set(err, ERR_BINLOG_SERVER_SETUP,
                       "SHOW BINARY LOGS lists no binlog file: is binary logging on?");
    c->start_file = first;
    c->start_pos = 4;
    return 0;
}

struct binlog_conn *binlog_conn_open(const struct binlog_conn_opts *o, struct err *err)
{
    struct binlog_conn *c = xcalloc(1, sizeof(*c));
    const char *host = o->host ? o->host : "127.0.0.1";
    unsigned port = o->port ? o->port : 3306;
    c->non_blocking = o->non_blocking;
    c->mysql = mysql_init(NULL);
    if (c->mysql == NULL) {
        err_set(err, ERR_NOMEM, "mysql_init failed");
        goto fail;
    }
    unsigned ct = o->connect_timeout_s ? o->connect_timeout_s : 10;
    mysql_optionsv(c->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    if (o->heartbeat_ms) {
        /* Three heartbeat periods without a byte: the server or the network is gone. */
        unsigned rt = (unsigned)((3ull * o->heartbeat_ms + 999) / 1000);
        mysql_optionsv(c->mysql, MYSQL_OPT_READ_TIMEOUT, &rt);
    }
    unsigned wt = 30;
    mysql_optionsv(c->mysql, MYSQL_OPT_WRITE_TIMEOUT, &wt);
    tls_options(c->mysql, o);
    if (mysql_real_connect(c->mysql, host, o->user, o->password, NULL, port, NULL, 0) == NULL) {
        unsigned e = mysql_errno(c->mysql);
        err_set(err, ERR_BINLOG_CONNECT, "could not connect as \"%s\": %s (errno %u)%s",
                o->user ? o->user : "", mysql_error(c->mysql), e,
                o->tls_mode >= 2 && e >= 2000 && e != 2003 && e != 2013
                    ? " (TLS is required by source.tls.mode: check the server's TLS setup "
                      "and source.tls.ca)"
                    : "");
        err->retriable = retriable_errno(e);
        err->fatal = !err->retriable;
        goto fail;
    }
    if (o->tls_mode >= 2 && mysql_get_ssl_cipher(c->mysql) == NULL) {
        err_set(err, ERR_BINLOG_CONNECT,
                "source.tls.mode requires TLS but the connection to %s:%u is plain text (the "
                "server has no TLS configured): configure TLS on the server or lower "
                "source.tls.mode",
                host, port);
        goto fail;
    }
    if (read_identity(c, err) || preflight(c, o, err) || setup_dump(c, o, err))
        goto fail;

    c->rpl = mariadb_rpl_init(c->mysql);
    if (c->rpl == NULL) {
        err_set(err, ERR_BINLOG_CONNECT, "mariadb_rpl_init failed: %s (errno %u)",
                mysql_error(c->mysql), mysql_errno(c->mysql));
        goto fail;
    }
    uint32_t server_id =
        o->server_id ? o->server_id : (uint32_t)(0x53000000u | ((unsigned)getpid() & 0xffffffu));
    c->server_id_used = server_id;
    unsigned flags = o->non_blocking ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0;
    /* FILENAME with length 0 takes a C string (a length copies the name without a NUL). */
    if (mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FILENAME, c->start_file, (size_t)0) ||
        mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_START, (unsigned long)c->start_pos) ||
        mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_SERVER_ID, (unsigned int)server_id) ||
        mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FLAGS, flags)) {
        err_set(err, ERR_BINLOG_CONNECT, "mariadb_rpl_optionsv: %s (errno %u)",
                mariadb_rpl_error(c->rpl), mariadb_rpl_errno(c->rpl));
        goto fail;
    }
    if (mariadb_rpl_open(c->rpl) != 0) {
        unsigned e = mariadb_rpl_errno(c->rpl) ? mariadb_rpl_errno(c->rpl) : mysql_errno(c->mysql);
        const char *m =
            mariadb_rpl_errno(c->rpl) ? mariadb_rpl_error(c->rpl) : mysql_error(c->mysql);
        err_set(err, ERR_BINLOG_CONNECT, "mariadb_rpl_open: %s (errno %u)", m, e);
        err->retriable = retriable_errno(e);
        goto fail;
    }
    return c;
fail:
    binlog_conn_close(c);
    return NULL;
}

int binlog_conn_next(struct binlog_conn *c, const uint8_t **ev, size_t *len, struct err *err)
{
    for (;;) {
        MARIADB_RPL_EVENT *e = mariadb_rpl_fetch(c->rpl, c->ev);
        if (e == NULL) {
            c->ev = NULL; /* mariadb_rpl_fetch freed the event it was given */
            unsigned rerr = mariadb_rpl_errno(c->rpl);
            unsigned merr = mysql_errno(c->mysql);
            if (rerr == 0 && merr == 0) {
                if (c->non_blocking)
                    return 0;
                return err_set(err, ERR_BINLOG_STREAM,
                               "mariadb_rpl_fetch: the server ended the binlog stream");
            }
            unsigned code = merr ? merr : rerr;
            const char *msg = merr ? mysql_error(c->mysql) : mariadb_rpl_error(c->rpl);
            if (code == 4052 /* ER_SLAVE_SAME_ID */ || strstr(msg, "same server_uuid/server_id")) {
                err_set(err, ERR_BINLOG_STREAM,
                        "another replica connected to the server with our server_id %u, and the "
                        "server dropped this connection: give this instance a unique "
                        "source.server_id (%s, errno %u)",
                        c->server_id_used, msg, code);
                err->retriable = false;
                return err->code;
            }
            if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG)
                return err_set(err, ERR_BINLOG_PURGED,
                               "mariadb_rpl_fetch: %s (errno %u): the start position is no "
                               "longer on the server (binlog purged?): pick one SHOW BINARY LOGS "
                               "or @@gtid_binlog_pos still has",
                               msg, code);
            err_set(err, ERR_BINLOG_STREAM, "mariadb_rpl_fetch: %s (errno %u)", msg, code);
            err->retriable = retriable_errno(code) || code == 0;
            return err->code;
        }
        c->ev = e;
        if (e->raw_data == NULL || e->raw_data_size < e->raw_data_ofs + BINLOG_HEADER_LEN)
            return err_set(err, ERR_BINLOG_STREAM,
                           "mariadb_rpl_fetch: a packet of %zu bytes is too short for an event",
                           e->raw_data ? e->raw_data_size : 0);
        const uint8_t *p = e->raw_data + e->raw_data_ofs;
        size_t n = e->raw_data_size - e->raw_data_ofs;
        if (p[4] == BINLOG_EV_HEARTBEAT || p[4] == BINLOG_EV_HEARTBEAT_V2)
            continue;
        *ev = p;
        *len = n;
        return 1;
    }
}

bool binlog_conn_has_checksum(const struct binlog_conn *c)
{
    return c->checksum;
}

const char *binlog_conn_start_file(const struct binlog_conn *c)
{
    return c->start_file ? c->start_file : "";
}

uint64_t binlog_conn_start_pos(const struct binlog_conn *c)
{
    return c->start_pos;
}

int binlog_conn_fd(const struct binlog_conn *c)
{
    if (c == NULL || c->mysql == NULL)
        return -1;
    return (int)mysql_get_socket(c->mysql);
}

void binlog_conn_close(struct binlog_conn *c)
{
    if (c == NULL)
        return;
    if (c->ev)
        mariadb_free_rpl_event(c->ev);
    if (c->rpl)
        mariadb_rpl_close(c->rpl);
    if (c->mysql)
        mysql_close(c->mysql);
    free(c->start_file);
    free(c->server_uuid);
    free(c->version);
    free(c);
}

void binlog_conn_identity(const struct binlog_conn *c,
                          uint32_t *server_id,
                          const char **uuid,
                          const char **version,
                          bool *mariadb)
{
    *server_id = c->server_id;
    *uuid = c->server_uuid ? c->server_uuid : "";
    *version = c->version ? c->version : "";
    *mariadb = c->mariadb;
}

const char *binlog_conn_tls_cipher(const struct binlog_conn *c)
{
    return c->mysql ? mysql_get_ssl_cipher(c->mysql) : NULL;
}
