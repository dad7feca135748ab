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
 * after heartbeat_ms of idle time) keep the read timeout from firing; they are dropped here
 * unless the caller asked for them (binlog_conn_return_heartbeats: a reader with work to do
 * while the stream is idle, such as closing a batch, must get control back).
 *
 * Errors carry retriable (network, shutdown, killed: reconnect with backoff) or fatal (access,
 * grants, TLS, setup, purged binlog, a server_id conflict: an operator must act), so the daemon
 * never loops reconnecting on something a retry cannot cure. MariaDB 10.11 drops a dump whose
 * server_id another replica registered with errno 4052 ("A slave with the same
 * server_uuid/server_id is already connected"), seen by the replica that connected first.
 *
 * TLS: Connector/C 3.3 verifies the chain whenever a CA is set and the host name only with
 * VERIFY_SERVER_CERT; with neither it falls back to plain text silently, so required and
 * above check mysql_get_ssl_cipher() after connecting.
 *
 * Runs on the thread that owns the connection; no globals.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "clock.h"
#include "binlog_conn.h"
#include "config.h"
#include "binlog_event.h"
#include "xmalloc.h"

#define ER_MASTER_FATAL_ERROR_READING_BINLOG 1236

struct binlog_conn {
    MYSQL *mysql;
    MARIADB_RPL *rpl;
    MARIADB_RPL_EVENT *ev; /* reused by every fetch */
    bool checksum;         /* @master_binlog_checksum = CRC32 */
    bool non_blocking;
    bool return_heartbeats; /* binlog_conn_next returns BINLOG_CONN_HEARTBEAT for them */
    char *start_file;
    uint64_t start_pos;
    uint32_t server_id;      /* the server's */
    uint32_t server_id_used; /* ours, as a replica */
    char *server_uuid;
    char *version;
    bool mariadb;
    uint64_t last_activity_ms; /* monotonic: the last event or heartbeat */
    /* What a fresh plain connection needs (the purge message asks SHOW BINARY LOGS). */
    struct binlog_conn_opts o;
    char *host, *user, *password, *tls_ca, *tls_cert, *tls_key;
};

/* Errors after which a new connection may succeed: the server is going away, restarting or
 * busy, the network failed, or the connection was killed. Everything else (access denied,
 * missing grants, TLS verification, server setup, purged binlogs) needs an operator, so the
 * daemon marks the instance failed instead of reconnecting. */
static bool retriable_errno(unsigned e)
{
    switch (e) {
    case 1040: /* ER_CON_COUNT_ERROR: too many connections */
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1077: /* ER_NORMAL_SHUTDOWN */
    case 1079: /* ER_SHUTDOWN_COMPLETE */
    case 1152: /* ER_ABORTING_CONNECTION */
    case 1153: /* ER_NET_PACKET_TOO_LARGE (a resend may fit after a restart) */
    case 1158: /* ER_NET_READ_ERROR */
    case 1159: /* ER_NET_READ_INTERRUPTED (timeout) */
    case 1160: /* ER_NET_ERROR_ON_WRITE */
    case 1161: /* ER_NET_WRITE_INTERRUPTED */
    case 1205: /* ER_LOCK_WAIT_TIMEOUT */
    case 1213: /* ER_LOCK_DEADLOCK */
    case 1317: /* ER_QUERY_INTERRUPTED */
    case 1927: /* ER_CONNECTION_KILLED */
    case 2001: /* CR_SOCKET_CREATE_ERROR */
    case 2002: /* CR_CONNECTION_ERROR (socket) */
    case 2003: /* CR_CONN_HOST_ERROR: can't connect */
    case 2004: /* CR_IPSOCK_ERROR */
    case 2005: /* CR_UNKNOWN_HOST (DNS may be down for a while) */
    case 2006: /* CR_SERVER_GONE_ERROR */
    case 2008: /* CR_OUT_OF_MEMORY */
    case 2011: /* CR_TCP_CONNECTION */
    case 2012: /* CR_SERVER_HANDSHAKE_ERR */
    case 2013: /* CR_SERVER_LOST */
    case 2055: /* CR_SERVER_LOST_EXTENDED */
        return true;
    default:
        return false;
    }
}

/* Errors a changed grant, password or setting must cure: the daemon stops the instance. */
static bool fatal_errno(unsigned e)
{
    return e == 1044 || e == 1045 || e == 1142 || e == 1227 || e == 1251 || e == 1698 ||
           e == 2026 /* TLS */ || e == 2059 /* auth plugin */;
}

/* Fills err->retriable / err->fatal from a server or client errno. */
static void classify(struct err *err, unsigned e)
{
    if (err == NULL)
        return;
    err->retriable = retriable_errno(e);
    err->fatal = fatal_errno(e);
}

/* " (the user needs the X privilege: GRANT ...)" for an access-denied errno, naming what the
 * statement q needs on MariaDB 10.5+ and on MySQL; "" for other errors. */
static const char *grant_hint(unsigned e, const char *q)
{
    if (e != 1227 && e != 1142 && e != 1044)
        return "";
    if (strncmp(q, "SHOW BINARY LOG", 15) == 0 || strncmp(q, "SHOW MASTER", 11) == 0)
        return ": the user needs BINLOG MONITOR on MariaDB (REPLICATION CLIENT on MySQL): "
               "GRANT BINLOG MONITOR ON *.* TO the source.user";
    if (strncmp(q, "SHOW SLAVE", 10) == 0 || strncmp(q, "SHOW REPLICAS", 13) == 0)
        return ": the user needs REPLICATION MASTER ADMIN on MariaDB (REPLICATION SLAVE on "
               "MySQL)";
    if (strcmp(q, "COM_BINLOG_DUMP") == 0)
        return ": the user needs REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO the "
               "source.user";
    return "";
}

/* TLS options before connecting (see tools-notes: without VERIFY_SERVER_CERT the client may
 * fall back to plain text; the caller checks the cipher afterwards when TLS is required). */
static void tls_options(MYSQL *m, const struct binlog_conn_opts *o)
{
    if (o->tls_mode == 0)
        return;
    /* Connector/C 3.3 asks OpenSSL to verify the chain whenever a CA is set (handshake fails
     * on a bad chain); VERIFY_SERVER_CERT adds the host name check. So: the CA only for
     * verify_ca and verify_identity, the host check only for verify_identity. */
    if (o->tls_ca && o->tls_mode >= 3)
        mysql_optionsv(m, MYSQL_OPT_SSL_CA, o->tls_ca);
    if (o->tls_cert)
        mysql_optionsv(m, MYSQL_OPT_SSL_CERT, o->tls_cert);
    if (o->tls_key)
        mysql_optionsv(m, MYSQL_OPT_SSL_KEY, o->tls_key);
    /* ENFORCE turns TLS on (and, alone, still falls back to plain text: checked after). */
    my_bool enforce = 1;
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &enforce);
    my_bool verify = o->tls_mode >= 4;
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

void binlog_conn_opts_from_config(struct binlog_conn_opts *o,
                                  const struct config_instance *in,
                                  const char *password)
{
    binlog_conn_opts_init(o);
    o->host = in->source.host;
    o->port = in->source.port;
    o->user = in->source.user;
    o->password = password;
    o->server_id = in->source.server_id;
    o->replica_name = in->name;
    o->heartbeat_ms = in->source.heartbeat_ms;
    o->tls_mode = (int)in->source.tls.mode;
    o->tls_ca = in->source.tls.ca;
    o->tls_cert = in->source.tls.cert;
    o->tls_key = in->source.tls.key;
}

/* Runs a statement that returns no rows. */
static int run(struct binlog_conn *c, const char *q, struct err *err)
{
    if (mysql_query(c->mysql, q) != 0) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" failed: %s (errno %u)%s", q,
                mysql_error(c->mysql), mysql_errno(c->mysql), grant_hint(mysql_errno(c->mysql), q));
        classify(err, mysql_errno(c->mysql));
        return err ? err->code : ERR_BINLOG_CONNECT;
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
        err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" failed: %s (errno %u)%s", q,
                mysql_error(c->mysql), mysql_errno(c->mysql), grant_hint(mysql_errno(c->mysql), q));
        classify(err, mysql_errno(c->mysql));
        return err ? err->code : ERR_BINLOG_CONNECT;
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

int binlog_conn_setup_read(struct st_mysql *m, struct binlog_conn_setup *s, struct err *err)
{
    memset(s, 0, sizeof(*s));
    const char *q = "SELECT @@global.log_bin, @@global.binlog_format, "
                    "@@global.binlog_row_image, @@global.binlog_checksum";
    if (mysql_query(m, q) != 0) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" failed: %s (errno %u)", q, mysql_error(m),
                mysql_errno(m));
        classify(err, mysql_errno(m));
        return err ? err->code : ERR_BINLOG_CONNECT;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL)
        return err_set(err, ERR_BINLOG_CONNECT, "\"%.60s\" returned no result: %s (errno %u)", q,
                       mysql_error(m), mysql_errno(m));
    MYSQL_ROW row = mysql_fetch_row(res);
    const char *v[4] = {NULL, NULL, NULL, NULL};
    for (unsigned i = 0; row != NULL && i < 4 && i < mysql_num_fields(res); i++)
        v[i] = row[i];
    snprintf(s->value[BINLOG_CONN_CHECK_LOG_BIN], sizeof(s->value[0]), "%s", v[0] ? v[0] : "NULL");
    snprintf(s->value[BINLOG_CONN_CHECK_FORMAT], sizeof(s->value[0]), "%s", v[1] ? v[1] : "NULL");
    snprintf(s->value[BINLOG_CONN_CHECK_ROW_IMAGE], sizeof(s->value[0]), "%s",
             v[2] ? v[2] : "NULL");
    s->checksum = v[3] != NULL && strcasecmp(v[3], "CRC32") == 0;
    if (v[0] == NULL || (strcmp(v[0], "1") != 0 && strcasecmp(v[0], "ON") != 0)) {
        s->level[BINLOG_CONN_CHECK_LOG_BIN] = BINLOG_CONN_PROBLEM;
        snprintf(s->msg[BINLOG_CONN_CHECK_LOG_BIN], sizeof(s->msg[0]),
                 "binary logging is off: start the server with --log-bin (and "
                 "--binlog-format=ROW)");
    }
    if (v[1] == NULL || strcasecmp(v[1], "ROW") != 0) {
        s->level[BINLOG_CONN_CHECK_FORMAT] = BINLOG_CONN_PROBLEM;
        snprintf(s->msg[BINLOG_CONN_CHECK_FORMAT], sizeof(s->msg[0]),
                 "binlog_format is %s, sluice needs ROW: run SET GLOBAL binlog_format = 'ROW' "
                 "(it applies to sessions opened after it; set binlog_format=ROW in the "
                 "server's configuration too)",
                 v[1] ? v[1] : "NULL");
    }
    if (v[2] != NULL && strcasecmp(v[2], "FULL") != 0) {
        s->level[BINLOG_CONN_CHECK_ROW_IMAGE] = BINLOG_CONN_WARNING;
        snprintf(s->msg[BINLOG_CONN_CHECK_ROW_IMAGE], sizeof(s->msg[0]),
                 "binlog_row_image is %s, not FULL: update and delete events carry only some "
                 "columns (SET GLOBAL binlog_row_image = 'FULL' for whole rows)",
                 v[2]);
    }
    mysql_free_result(res);
    return 0;
}

/* Pre-flight: the server must write a ROW binlog (binlog_conn_setup_read judges; the first
 * problem is the error, a warning goes to o->warn). Remembers whether it writes CRC32. */
static int preflight(struct binlog_conn *c, const struct binlog_conn_opts *o, struct err *err)
{
    struct binlog_conn_setup s;
    int r = binlog_conn_setup_read(c->mysql, &s, err);
    if (r)
        return r;
    for (int i = 0; i < BINLOG_CONN_CHECK_N; i++) {
        if (s.level[i] == BINLOG_CONN_PROBLEM)
            return err_set(err, ERR_BINLOG_SERVER_SETUP, "%s", s.msg[i]);
        if (s.level[i] == BINLOG_CONN_WARNING)
            conn_warn(o, "%s", s.msg[i]);
    }
    c->checksum = s.checksum;
    return 0;
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

/* Connects to o's server with its TLS mode; read_timeout_s 0 = none. Returns the handle (caller
 * closes with mysql_close) or NULL with err filled and classified. */
MYSQL *
binlog_conn_sql_connect(const struct binlog_conn_opts *o, unsigned read_timeout_s, struct err *err)
{
    const char *host = o->host ? o->host : "127.0.0.1";
    unsigned port = o->port ? o->port : 3306;
    if (o->tls_mode >= 3 && (o->tls_ca == NULL || o->tls_ca[0] == '\0')) {
        err_set(err, ERR_CONFIG,
                "source.tls.mode %s needs source.tls.ca (the CA that signed the certificate of "
                "%s)",
                o->tls_mode >= 4 ? "verify_identity" : "verify_ca", host);
        if (err)
            err->fatal = true;
        return NULL;
    }
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        err_set(err, ERR_NOMEM, "mysql_init failed");
        return NULL;
    }
    unsigned ct = o->connect_timeout_s ? o->connect_timeout_s : 10;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    if (read_timeout_s)
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
    unsigned wt = 30;
    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &wt);
    tls_options(m, o);
    if (mysql_real_connect(m, host, o->user, o->password, NULL, port, NULL, 0) == NULL) {
        unsigned e = mysql_errno(m);
        const char *hint = "";
        if (e == 2026 && o->tls_mode >= 3)
            hint = ": check that source.tls.ca signed the server's certificate"
                   " (and, for verify_identity, that it names the host)";
        else if (e == 2026 || (o->tls_mode >= 2 && e >= 2000 && e != 2002 && e != 2003 &&
                               e != 2005 && e != 2013))
            hint = ": check the server's TLS setup (ssl_cert, ssl_key) and source.tls.mode";
        else if (e == 1045)
            hint = ": check source.user and the password";
        err_set(err, ERR_BINLOG_CONNECT, "could not connect to %s:%u as \"%s\": %s (errno %u)%s",
                host, port, o->user ? o->user : "", mysql_error(m), e, hint);
        classify(err, e);
        if (err && !err->retriable)
            err->fatal = true;
        mysql_close(m);
        return NULL;
    }
    if (o->tls_mode >= 2 && mysql_get_ssl_cipher(m) == NULL) {
        /* Connector/C falls back to plain text when the server has no TLS (tools-notes). */
        err_set(err, ERR_BINLOG_CONNECT,
                "source.tls.mode requires TLS but the connection to %s:%u is plain text (the "
                "server has no TLS configured): configure ssl_cert and ssl_key on the server or "
                "lower source.tls.mode",
                host, port);
        if (err)
            err->fatal = true;
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* The replica server_id for o: opts.server_id, or (0 = auto) 0x53000000 | a hash of our host
 * name, pid and instance name, moved up past every id SHOW SLAVE HOSTS lists and the server's
 * own. Listing replicas needs REPLICATION MASTER ADMIN on MariaDB; without it the hash is used
 * as is. */
static uint32_t choose_server_id(struct binlog_conn *c, const struct binlog_conn_opts *o)
{
    if (o->server_id)
        return o->server_id;
    char hn[256] = "";
    gethostname(hn, sizeof(hn) - 1);
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = hn; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ (uint32_t)getpid()) * 16777619u;
    /* Every instance of this daemon reading the same server needs an id of its own: they
     * connect at the same moment, before SHOW SLAVE HOSTS can list each other. */
    for (const char *p = o->replica_name; p && *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    uint32_t id = 0x53000000u | (h & 0xffffffu);
    uint32_t taken[256];
    size_t nt = 0;
    taken[nt++] = c->server_id;
    MYSQL_RES *res = NULL;
    if (mysql_query(c->mysql, "SHOW SLAVE HOSTS") == 0 ||
        mysql_query(c->mysql, "SHOW REPLICAS") == 0)
        res = mysql_store_result(c->mysql);
    if (res != NULL) {
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)) != NULL && nt < 256)
            if (row[0])
                taken[nt++] = (uint32_t)strtoul(row[0], NULL, 10);
        mysql_free_result(res);
    }
    for (unsigned tries = 0; tries < 1024; tries++, id = 0x53000000u | ((id + 1) & 0xffffffu)) {
        bool used = false;
        for (size_t i = 0; i < nt && !used; i++)
            used = taken[i] == id;
        if (!used)
            break;
    }
    return id;
}

/* Keeps what a fresh plain connection to the same server needs (copies of the strings). */
static void keep_opts(struct binlog_conn *c, const struct binlog_conn_opts *o)
{
    c->o = *o;
    c->o.host = c->host = o->host ? xstrdup(o->host) : NULL;
    c->o.user = c->user = o->user ? xstrdup(o->user) : NULL;
    c->o.password = c->password = o->password ? xstrdup(o->password) : NULL;
    c->o.tls_ca = c->tls_ca = o->tls_ca ? xstrdup(o->tls_ca) : NULL;
    c->o.tls_cert = c->tls_cert = o->tls_cert ? xstrdup(o->tls_cert) : NULL;
    c->o.tls_key = c->tls_key = o->tls_key ? xstrdup(o->tls_key) : NULL;
    c->o.start_file = NULL;
    c->o.gtid = NULL;
    c->o.warn = NULL;
    c->o.replica_name = NULL;
    c->o.opaque = NULL;
}

struct binlog_conn *binlog_conn_open(const struct binlog_conn_opts *o, struct err *err)
{
    struct binlog_conn *c = xcalloc(1, sizeof(*c));
    keep_opts(c, o);
    c->non_blocking = o->non_blocking;
    /* Three heartbeat periods without a byte: the server or the network is gone. */
    unsigned rt = o->heartbeat_ms ? (unsigned)((3ull * o->heartbeat_ms + 999) / 1000) : 0;
    c->mysql = binlog_conn_sql_connect(o, rt, err);
    if (c->mysql == NULL)
        goto fail;
    if (read_identity(c, err) || preflight(c, o, err) || setup_dump(c, o, err))
        goto fail;

    uint32_t server_id = choose_server_id(c, o);
    c->rpl = mariadb_rpl_init(c->mysql);
    if (c->rpl == NULL) {
        err_set(err, ERR_BINLOG_CONNECT, "mariadb_rpl_init failed: %s (errno %u)",
                mysql_error(c->mysql), mysql_errno(c->mysql));
        classify(err, mysql_errno(c->mysql));
        goto fail;
    }
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
        err_set(err, ERR_BINLOG_CONNECT, "mariadb_rpl_open: %s (errno %u)%s", m, e,
                grant_hint(e, "COM_BINLOG_DUMP"));
        classify(err, e);
        goto fail;
    }
    c->last_activity_ms = clock_mono_ms();
    return c;
fail:
    binlog_conn_close(c);
    return NULL;
}

/* The first file SHOW BINARY LOGS lists on a fresh connection, into buf ("" if unknown). */
static void oldest_binlog(const struct binlog_conn *c, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    char **names = NULL;
    uint64_t *sizes = NULL;
    size_t n = 0;
    struct err e2 = {0};
    if (binlog_conn_list_logs(&c->o, &names, &sizes, &n, &e2) == 0 && n > 0)
        snprintf(buf, bufsz, "%s", names[0]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(sizes);
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
                err_set(err, ERR_BINLOG_STREAM,
                        "mariadb_rpl_fetch: the server ended the binlog stream");
                if (err)
                    err->retriable = true;
                return ERR_BINLOG_STREAM;
            }
            unsigned code = merr ? merr : rerr;
            const char *msg = merr ? mysql_error(c->mysql) : mariadb_rpl_error(c->rpl);
            if (code == 4052 /* ER_SLAVE_SAME_ID */ || strstr(msg, "same server_uuid/server_id") ||
                strstr(msg, "same server_id")) {
                /* BINLOG_CONN_ERR_ID_CONFLICT: reconnecting would kick the other replica off in
                 * turn, forever. */
                err_set(err, ERR_BINLOG_STREAM,
                        "another replica connected to the server with our server_id %u, and the "
                        "server dropped this connection: give this instance a unique "
                        "source.server_id (errno %u: %s)",
                        c->server_id_used, code, msg);
                if (err) {
                    err->retriable = false;
                    err->fatal = true;
                }
                return ERR_BINLOG_STREAM;
            }
            if (code == 1227 || code == 1045 || code == 1142) {
                err_set(err, ERR_BINLOG_CONNECT, "binlog dump refused: %s (errno %u)%s", msg, code,
                        grant_hint(code, "COM_BINLOG_DUMP"));
                classify(err, code);
                return ERR_BINLOG_CONNECT;
            }
            if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
                char oldest[256];
                oldest_binlog(c, oldest, sizeof(oldest));
                if (c->start_file && c->start_file[0])
                    err_set(err, ERR_BINLOG_PURGED,
                            "binlog \"%s\" position %llu is no longer on the server (its oldest "
                            "binlog is \"%s\"): %s (errno %u)",
                            c->start_file, (unsigned long long)c->start_pos,
                            oldest[0] ? oldest : "unknown", msg, code);
                else
                    err_set(err, ERR_BINLOG_PURGED,
                            "the requested GTID position is no longer on the server (its oldest "
                            "binlog is \"%s\"): %s (errno %u)",
                            oldest[0] ? oldest : "unknown", msg, code);
                if (err)
                    err->fatal = true;
                return ERR_BINLOG_PURGED;
            }
            err_set(err, ERR_BINLOG_STREAM, "mariadb_rpl_fetch: %s (errno %u)", msg, code);
            classify(err, code);
            if (err && code == 0)
                err->retriable = true;
            return ERR_BINLOG_STREAM;
        }
        c->ev = e;
        c->last_activity_ms = clock_mono_ms();
        if (e->raw_data == NULL || e->raw_data_size < e->raw_data_ofs + BINLOG_HEADER_LEN)
            return err_set(err, ERR_BINLOG_STREAM,
                           "mariadb_rpl_fetch: a packet of %zu bytes is too short for an event",
                           e->raw_data ? e->raw_data_size : 0);
        const uint8_t *p = e->raw_data + e->raw_data_ofs;
        size_t n = e->raw_data_size - e->raw_data_ofs;
        if (p[4] == BINLOG_EV_HEARTBEAT || p[4] == BINLOG_EV_HEARTBEAT_V2) {
            if (!c->return_heartbeats)
                continue;
            *ev = NULL;
            *len = 0;
            return BINLOG_CONN_HEARTBEAT;
        }
        *ev = p;
        *len = n;
        return 1;
    }
}

void binlog_conn_return_heartbeats(struct binlog_conn *c, bool on)
{
    c->return_heartbeats = on;
}

uint64_t binlog_conn_last_activity_ms(const struct binlog_conn *c)
{
    return c->last_activity_ms;
}

uint32_t binlog_conn_server_id_used(const struct binlog_conn *c)
{
    return c->server_id_used;
}

/* Runs q on m (a plain connection); returns the result or NULL with err filled. */
static MYSQL_RES *plain_query(MYSQL *m, const char *q, struct err *err)
{
    if (mysql_query(m, q) != 0) {
        unsigned e = mysql_errno(m);
        err_set(err, ERR_BINLOG_CONNECT, "\"%s\" failed: %s (errno %u)%s", q, mysql_error(m), e,
                grant_hint(e, q));
        classify(err, e);
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%s\" returned no result: %s (errno %u)", q,
                mysql_error(m), mysql_errno(m));
        classify(err, mysql_errno(m));
    }
    return res;
}

int binlog_conn_list_logs(
    const struct binlog_conn_opts *o, char ***names, uint64_t **sizes, size_t *n, struct err *err)
{
    *names = NULL;
    *sizes = NULL;
    *n = 0;
    MYSQL *m = binlog_conn_sql_connect(o, 60, err);
    if (m == NULL)
        return err ? err->code : ERR_BINLOG_CONNECT;
    int rc = 0;
    MYSQL_RES *res = plain_query(m, "SHOW BINARY LOGS", err);
    if (res == NULL) {
        rc = err ? err->code : ERR_BINLOG_CONNECT;
        goto out;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL)
            continue;
        *names = xrealloc(*names, (*n + 1) * sizeof(**names));
        *sizes = xrealloc(*sizes, (*n + 1) * sizeof(**sizes));
        (*names)[*n] = xstrdup(row[0]);
        (*sizes)[*n] = row[1] ? strtoull(row[1], NULL, 10) : 0;
        (*n)++;
    }
    mysql_free_result(res);
out:
    mysql_close(m);
    return rc;
}

int binlog_conn_master_status(const struct binlog_conn_opts *o,
                              char *file,
                              size_t filesz,
                              uint64_t *pos,
                              char *gtid,
                              size_t gtidsz,
                              struct err *err)
{
    MYSQL *m = binlog_conn_sql_connect(o, 60, err);
    if (m == NULL)
        return err ? err->code : ERR_BINLOG_CONNECT;
    int rc = 0;
    bool mariadb = strstr(mysql_get_server_info(m), "MariaDB") != NULL;
    /* MySQL 8.4 dropped SHOW MASTER STATUS for SHOW BINARY LOG STATUS (8.2+). */
    MYSQL_RES *res = plain_query(m, "SHOW MASTER STATUS", err);
    if (res == NULL && !mariadb && mysql_errno(m) == 1064)
        res = plain_query(m, "SHOW BINARY LOG STATUS", err);
    if (res == NULL) {
        rc = err ? err->code : ERR_BINLOG_CONNECT;
        goto out;
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row == NULL || row[0] == NULL || row[1] == NULL) {
        mysql_free_result(res);
        rc = err_set(err, ERR_BINLOG_SERVER_SETUP,
                     "SHOW MASTER STATUS on %s returned no row: binary logging is off (start the "
                     "server with --log-bin)",
                     o->host ? o->host : "127.0.0.1");
        goto out;
    }
    snprintf(file, filesz, "%s", row[0]);
    *pos = strtoull(row[1], NULL, 10);
    mysql_free_result(res);
    /* MariaDB's gtid_binlog_pos (not gtid_current_pos, which also has transactions applied as
     * a replica but not logged); MySQL's executed set. */
    const char *q = mariadb ? "SELECT @@global.gtid_binlog_pos" : "SELECT @@global.gtid_executed";
    res = plain_query(m, q, err);
    if (res == NULL) {
        rc = err ? err->code : ERR_BINLOG_CONNECT;
        goto out;
    }
    row = mysql_fetch_row(res);
    snprintf(gtid, gtidsz, "%s", row && row[0] ? row[0] : "");
    mysql_free_result(res);
out:
    mysql_close(m);
    return rc;
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
    free(c->host);
    free(c->user);
    if (c->password) /* not left in freed memory */
        memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->tls_ca);
    free(c->tls_cert);
    free(c->tls_key);
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
