/*
 * position_find.c — places in a source server's binlog: by time, earliest, latest (see
 * position_find.h for the contracts).
 *
 * By time, in two steps, so that a server with hundreds of binlog files is not read whole:
 *   1. Binary search over SHOW BINARY LOGS by each file's start time. A file's start time is the
 *      timestamp of its FORMAT_DESCRIPTION, the first real event a dump from FILE:4 sends (after
 *      the fake ROTATE); one short non-blocking dump per probe, closed after that event. We look
 *      for the last file started strictly BEFORE ts, not "at or before": a transaction of the
 *      previous file may have committed in the very second the next file was started, and it
 *      is the first one committed "at or after" ts.
 *   2. That one file is decoded from offset 4 (a non-blocking dump, the decoder with all events
 *      on) up to the ROTATE that ends it. A transaction ends at its XID, COMMIT or ROLLBACK
 *      query, or is a lone statement (DDL) outside BEGIN; its start is its GTID event, else its
 *      BEGIN, else the statement. The first one whose end has a timestamp >= ts is the answer:
 *      the position of its start, where a reader that resumes there reads it whole.
 * The GTID set executed before the answer is the file's own list of what came before it
 * (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS) plus every transaction's GTID up to the answer.
 * MySQL 8.3+ tagged PREVIOUS_GTIDS is not parsed: the set is then left empty (a MySQL source
 * resumes from file:offset anyway).
 *
 * Event offsets: dump events carry their end offset in log_pos; the fake ROTATE (and on MariaDB
 * 11.4 events inside a transaction) carry 0 and are placed at the running position, exactly as
 * `sluice dump` does (src/main.c), so positions match `sluice decode` of the files.
 *
 * SHOW BINARY LOGS and SHOW MASTER STATUS are plain libmariadb queries on a connection of our
 * own (binlog_conn has no query API yet). Runs on the caller's thread; no globals.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "clock.h"
#include "binlog_event.h"
#include "bytes.h"
#include "decoder.h"
#include "position_find.h"
#include "strbuf.h"
#include "xmalloc.h"

#define LOG_EVENT_ARTIFICIAL_F 0x20

/* ---- SQL helpers --------------------------------------------------------------------------- */

/* A plain client connection with o's server and credentials (no replica registration, no
 * pre-flight: SHOW BINARY LOGS does not need a ROW binlog). Caller closes with mysql_close. */
static MYSQL *sql_connect(const struct binlog_conn_opts *o, struct err *err)
{
    /* Bounded reads: a command-line tool must not hang on a dead server. */
    return binlog_conn_sql_connect(o, 60, err);
}

/* Runs q; returns its result (caller frees with mysql_free_result) or NULL with err filled. */
static MYSQL_RES *sql_query(MYSQL *m, const char *q, struct err *err)
{
    if (mysql_query(m, q) != 0) {
        err_set(err, ERR_BINLOG_CONNECT, "\"%s\" failed: %s (errno %u)", q, mysql_error(m),
                mysql_errno(m));
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL)
        err_set(err, ERR_BINLOG_CONNECT, "\"%s\" returned no result: %s (errno %u)", q,
                mysql_error(m), mysql_errno(m));
    return res;
}

/* The file names SHOW BINARY LOGS lists, in order (caller frees each and the array). */
static int list_logs(const struct binlog_conn_opts *o, char ***names, size_t *n, struct err *err)
{
    *names = NULL;
    *n = 0;
    MYSQL *m = sql_connect(o, err);
    if (m == NULL)
        return err->code;
    int rc = 0;
    MYSQL_RES *res = sql_query(m, "SHOW BINARY LOGS", err);
    if (res == NULL) {
        rc = err->code;
        goto out;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL)
            continue;
        *names = xrealloc(*names, (*n + 1) * sizeof(**names));
        (*names)[(*n)++] = xstrdup(row[0]);
    }
    mysql_free_result(res);
    if (*n == 0)
        rc = err_set(err, ERR_BINLOG_SERVER_SETUP,
                     "SHOW BINARY LOGS lists no binlog file: is binary logging on?");
out:
    mysql_close(m);
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int position_find_earliest(const struct binlog_conn_opts *o, struct position *out, struct err *err)
{
    struct err local_err;
    if (err == NULL)
        err = &local_err;
    char **names;
    size_t n;
    int rc = list_logs(o, &names, &n, err);
    if (rc == 0) {
        position_free(out);
        rc = position_set_file(out, names[0], err);
        out->offset = 4;
    }
    free_names(names, n);
    return rc;
}

int position_find_latest(const struct binlog_conn_opts *o, struct position *out, struct err *err)
{
    struct err local_err;
    if (err == NULL)
        err = &local_err;
    MYSQL *m = sql_connect(o, err);
    if (m == NULL)
        return err->code;
    int rc = 0;
    /* Built aside and copied at the end: *out is untouched on error. */
    struct position p;
    position_init(&p);
    bool mariadb = strstr(mysql_get_server_info(m), "MariaDB") != NULL;
    /* MySQL 8.4 dropped SHOW MASTER STATUS for SHOW BINARY LOG STATUS. */
    MYSQL_RES *res = sql_query(m, "SHOW MASTER STATUS", err);
    if (res == NULL && !mariadb)
        res = sql_query(m, "SHOW BINARY LOG STATUS", err);
    if (res == NULL) {
        rc = err->code;
        goto out;
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row == NULL || row[0] == NULL || row[1] == NULL) {
        mysql_free_result(res);
        rc = err_set(err, ERR_BINLOG_SERVER_SETUP,
                     "SHOW MASTER STATUS returned no row: is binary logging on?");
        goto out;
    }
    rc = position_set_file(&p, row[0], err);
    p.offset = strtoull(row[1], NULL, 10);
    mysql_free_result(res);
    if (rc)
        goto out;
    /* What the binlog holds up to that point: MariaDB's gtid_binlog_pos (not gtid_current_pos,
     * which includes transactions applied as a replica but not logged), MySQL's executed set. */
    const char *q = mariadb ? "SELECT @@global.gtid_binlog_pos" : "SELECT @@global.gtid_executed";
    res = sql_query(m, q, err);
    if (res == NULL) {
        rc = err->code;
        goto out;
    }
    row = mysql_fetch_row(res);
    if (row != NULL && row[0] != NULL && row[0][0] != '\0') {
        struct err gerr = {0};
        if (position_gtid_parse(&p.gtid, row[0], &gerr) != 0)
            rc = err_set(err, ERR_POS_GTID, "\"%s\" returned a set sluice cannot read: %s", q,
                         gerr.msg);
    }
    mysql_free_result(res);
    if (rc == 0) {
        position_free(out);
        position_copy(out, &p);
    }
out:
    position_free(&p);
    mysql_close(m);
    return rc;
}

/* ---- dumps --------------------------------------------------------------------------------- */

/* A non-blocking dump from file:4: the server ends the stream when it has sent everything, so
 * a scan of the last file ends instead of waiting for new events. No heartbeats: nothing waits
 * long enough to need them. */
static struct binlog_conn *
dump_open(const struct binlog_conn_opts *o, const char *file, struct err *err)
{
    struct binlog_conn_opts co = *o;
    co.start_file = file;
    co.start_pos = 4;
    co.gtid = NULL;
    co.non_blocking = true;
    co.heartbeat_ms = 0;
    return binlog_conn_open(&co, err);
}

/* ---- progress on a terminal ------------------------------------------------------------- */

static FILE *progress_out;     /* NULL: quiet */
static uint64_t progress_last; /* ms of the last line */
static bool progress_open;     /* a line without its newline is on the terminal */

void position_find_progress(FILE *out)
{
    progress_out = out;
}

/* Rewrites the progress line (at most 5 times a second unless force). */
static void progress(bool force, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(bool force, const char *fmt, ...)
{
    if (progress_out == NULL)
        return;
    uint64_t now = clock_mono_ms();
    if (!force && now - progress_last < 200)
        return;
    progress_last = now;
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(progress_out, "\r\033[K%s", line);
    fflush(progress_out);
    progress_open = true;
}

static void progress_done(void)
{
    if (progress_out && progress_open) {
        fputs("\r\033[K", progress_out);
        fflush(progress_out);
    }
    progress_open = false;
}

/* The start time of file: the timestamp of its FORMAT_DESCRIPTION. */
static int probe_start_time(const struct binlog_conn_opts *o,
                            const char *file,
                            int64_t *ts,
                            struct position_find_stats *st,
                            struct err *err)
{
    progress(true, "searching: reading the start time of %s (%u file(s) read)", file,
             (unsigned)st->files);
    struct binlog_conn *c = dump_open(o, file, err);
    if (c == NULL)
        return err->code;
    st->files++;
    const uint8_t *ev;
    size_t len;
    int r;
    while ((r = binlog_conn_next(c, &ev, &len, err)) == 1) {
        st->events++;
        st->bytes += len;
        /* The fake ROTATE comes first (timestamp 0); the FORMAT_DESCRIPTION is the file's own
         * first event, written when the file was opened. */
        if (ev[4] == BINLOG_EV_FORMAT_DESCRIPTION) {
            *ts = le32(ev);
            break;
        }
    }
    binlog_conn_close(c);
    if (r == 0)
        return err_set(err, ERR_BINLOG_STREAM,
                       "binlog \"%s\": the stream ended before its format description", file);
    if (r < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return err_set(err, err->code, "binlog \"%s\": %s", file, msg);
    }
    return 0;
}

/* ---- scanning one file --------------------------------------------------------------------- */

/* State of the scan of one file, updated by scan_emit() for each change the decoder emits. */
struct scan {
    int64_t target;
    bool found;
    /* the transaction being read */
    bool in_txn, have_start;
    uint64_t start;
    uint32_t start_ts;
    char gtid[96];
    /* GTIDs executed before the transaction being read */
    struct position_gtid_set state;
    bool saw_list; /* the file's GTID_LIST / PREVIOUS_GTIDS was read */
    bool state_ok; /* false once something could not be added: the set is then left empty */
    uint32_t commit_ts;
};

/* The first event of a transaction: where a reader must resume to read it whole. */
static void txn_begin(struct scan *s, const struct change *c)
{
    s->have_start = true;
    s->start = c->pos;
    s->start_ts = c->ts;
    snprintf(s->gtid, sizeof(s->gtid), "%s", c->gtid ? c->gtid : "");
}

/* A transaction (or lone statement) ended with an event of timestamp ts. */
static void txn_end(struct scan *s, const struct change *c)
{
    if (!s->have_start)
        txn_begin(s, c);
    /* The commit's timestamp decides, not the first event's: a transaction is "at" the time it
     * became visible, and its statements may be older than the target. */
    if ((int64_t)c->ts >= s->target) {
        s->found = true;
        s->commit_ts = c->ts;
        return;
    }
    /* Not it: the transaction is before the answer, so its GTID joins the set executed. */
    if (s->gtid[0] && s->state_ok && position_gtid_add(&s->state, s->gtid, NULL) != 0)
        s->state_ok = false;
    s->have_start = s->in_txn = false;
    s->gtid[0] = '\0';
}

static int scan_emit(const struct change *c, void *opaque)
{
    struct scan *s = opaque;
    if (s->found)
        return 0;
    switch (c->kind) {
    case CHANGE_GTID:
        /* A GTID always opens a new transaction (a lone DDL has no BEGIN after it). */
        txn_begin(s, c);
        s->in_txn = false;
        break;
    case CHANGE_BEGIN:
        if (!s->have_start)
            txn_begin(s, c);
        s->in_txn = true;
        break;
    case CHANGE_COMMIT:
    case CHANGE_ROLLBACK:
        txn_end(s, c);
        break;
    case CHANGE_DDL:
        /* Inside BEGIN it is a statement of the transaction (statement-based DML); outside, a
         * transaction of its own (DDL commits implicitly). */
        if (!s->in_txn)
            txn_end(s, c);
        break;
    case CHANGE_INSERT:
    case CHANGE_UPDATE:
    case CHANGE_DELETE:
        break;
    }
    return 0;
}

static void scan_warn(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "warning: %s\n", msg);
}

/* The GTID set of a MariaDB GTID_LIST body: count (low 28 bits), then per entry domain (4),
 * server id (4), seq (8). Entries of one domain come oldest first: adding replaces. */
static int read_gtid_list(struct scan *s, const uint8_t *b, size_t n)
{
    if (n < 4)
        return -1;
    uint32_t count = le32(b) & 0x0fffffffu;
    if ((n - 4) / 16 < count)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + 4 + 16 * (size_t)i;
        char g[64];
        snprintf(g, sizeof(g), "%u-%u-%llu", le32(e), le32(e + 4), (unsigned long long)le64(e + 8));
        if (position_gtid_add(&s->state, g, NULL) != 0)
            return -1;
    }
    return 0;
}

/* The GTID set of a MySQL PREVIOUS_GTIDS body: n_sids (8), then per sid uuid (16), n_intervals
 * (8), intervals [start, end) (8 + 8). A format byte in the top of n_sids means tags (8.3+). */
static int read_previous_gtids(struct scan *s, const uint8_t *b, size_t n)
{
    if (n < 8)
        return -1;
    uint64_t nsids = le64(b);
    if (nsids >> 56)
        return -1;
    struct strbuf sb = {0};
    size_t off = 8;
    int rc = 0;
    for (uint64_t i = 0; i < nsids && rc == 0; i++) {
        if (n - off < 24) {
            rc = -1;
            break;
        }
        const uint8_t *u = b + off;
        uint64_t niv = le64(b + off + 16);
        off += 24;
        if ((n - off) / 16 < niv) {
            rc = -1;
            break;
        }
        if (sb.len)
            strbuf_appendc(&sb, ',');
        for (int k = 0; k < 16; k++)
            strbuf_printf(&sb, "%s%02x", k == 4 || k == 6 || k == 8 || k == 10 ? "-" : "", u[k]);
        for (uint64_t k = 0; k < niv; k++, off += 16) {
            uint64_t a = le64(b + off), z = le64(b + off + 8);
            if (z <= a) {
                rc = -1;
                break;
            }
            strbuf_printf(&sb, ":%llu-%llu", (unsigned long long)a, (unsigned long long)z - 1);
        }
    }
    if (rc == 0 && sb.len && position_gtid_parse(&s->state, sb.buf, NULL) != 0)
        rc = -1;
    strbuf_free(&sb);
    return rc;
}

/* Decodes file from offset 4 up to the ROTATE that ends it (or the end of the binlog). */
static int scan_file(const struct binlog_conn_opts *o,
                     const char *file,
                     int64_t ts,
                     struct position *out,
                     struct position_find_stats *st,
                     struct err *err)
{
    struct binlog_conn *c = dump_open(o, file, err);
    if (c == NULL)
        return err->code;
    struct scan s = {.target = ts, .state_ok = true};
    position_gtid_init(&s.state);
    struct decoder_opts opts;
    decoder_opts_init(&opts);
    opts.all_events = true;
    opts.follow_rotate = true;
    opts.checksum_before_fde = binlog_conn_has_checksum(c);
    opts.emit = scan_emit;
    opts.warn = scan_warn;
    opts.opaque = &s;
    struct decoder *d = decoder_new(&opts);
    decoder_set_file(d, file);
    uint64_t pos = 4;
    bool seen_fde = false, rotated = false;
    char next[POSITION_FILE_MAX + 1] = "";
    const uint8_t *ev;
    size_t len;
    int r, rc = 0;
    while ((r = binlog_conn_next(c, &ev, &len, err)) == 1) {
        st->events++;
        st->bytes += len;
        progress(false, "searching: scanning %s, %.1f MB read", file, (double)st->bytes / 1e6);
        uint32_t log_pos = le32(ev + 13);
        uint16_t flags = le16(ev + 17);
        unsigned type = ev[4];
        uint64_t off = log_pos != 0 && log_pos >= len ? log_pos - len : pos;
        if (type == BINLOG_EV_ROTATE && seen_fde && !(flags & LOG_EVENT_ARTIFICIAL_F)) {
            /* The end of this file: the name of the next one follows the 8-byte position. */
            size_t crc = decoder_has_checksum(d) ? BINLOG_CHECKSUM_LEN : 0;
            if (len >= BINLOG_HEADER_LEN + 8 + crc) {
                size_t nlen = len - BINLOG_HEADER_LEN - 8 - crc;
                if (nlen > POSITION_FILE_MAX)
                    nlen = POSITION_FILE_MAX;
                memcpy(next, ev + BINLOG_HEADER_LEN + 8, nlen);
                next[nlen] = '\0';
            }
            rotated = true;
            break;
        }
        if ((rc = decoder_feed(d, ev, len, off, err)) != 0) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            rc = err_set(err, rc, "binlog \"%s\" at %llu: %s", file, (unsigned long long)off, msg);
            goto out;
        }
        /* Found: the rest of the file is not needed (the connection is closed mid-stream). */
        if (s.found)
            break;
        if (type == BINLOG_EV_FORMAT_DESCRIPTION) {
            seen_fde = true;
        } else if (type == BINLOG_EV_MARIA_GTID_LIST || type == BINLOG_EV_PREVIOUS_GTIDS) {
            size_t crc = decoder_has_checksum(d) ? BINLOG_CHECKSUM_LEN : 0;
            const uint8_t *b = ev + BINLOG_HEADER_LEN;
            size_t blen = len >= BINLOG_HEADER_LEN + crc ? len - BINLOG_HEADER_LEN - crc : 0;
            int g = type == BINLOG_EV_MARIA_GTID_LIST ? read_gtid_list(&s, b, blen)
                                                      : read_previous_gtids(&s, b, blen);
            if (g != 0)
                s.state_ok = false;
            s.saw_list = true;
        }
        /* The running position, for events that carry no log_pos (see the top of the file). */
        if (type == BINLOG_EV_ROTATE)
            pos = le64(ev + BINLOG_HEADER_LEN);
        else if (log_pos != 0)
            pos = log_pos;
        else if (!(flags & LOG_EVENT_ARTIFICIAL_F))
            pos += len;
    }
    if (r < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        rc = err_set(err, err->code, "binlog \"%s\" at %llu: %s", file, (unsigned long long)pos,
                     msg);
        goto out;
    }
    position_free(out);
    if (s.found) {
        st->result = POSITION_FIND_TXN;
        st->commit_ts = s.commit_ts;
        snprintf(st->gtid, sizeof(st->gtid), "%s", s.gtid);
        rc = position_set_file(out, file, err);
        out->offset = s.start;
        out->ts = s.start_ts;
    } else if (rotated && next[0]) {
        st->result = POSITION_FIND_NEXT_FILE;
        rc = position_set_file(out, next, err);
        out->offset = 4;
    } else {
        /* The stream ended in this file: it was the last one, and pos is its end. */
        st->result = POSITION_FIND_END;
        rc = position_set_file(out, file, err);
        out->offset = pos;
    }
    /* Without the file's list of earlier GTIDs the set would miss everything before the file:
     * better none (the daemon then resumes by file:offset) than a wrong one. */
    if (rc == 0 && s.saw_list && s.state_ok)
        position_gtid_copy(&out->gtid, &s.state);
out:
    decoder_free(d);
    binlog_conn_close(c);
    position_gtid_free(&s.state);
    return rc;
}

/* ---- by time ------------------------------------------------------------------------------- */

int position_find_by_time(const struct binlog_conn_opts *o,
                          int64_t ts,
                          struct position *out,
                          struct position_find_stats *stats,
                          struct err *err)
{
    struct err local_err;
    if (err == NULL)
        err = &local_err;
    struct position_find_stats local;
    struct position_find_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof(*st));
    char **names;
    size_t n;
    int rc = list_logs(o, &names, &n, err);
    if (rc)
        return rc;
    /* Invariant: names[lo] started before ts; names[hi] (hi < n) did not. */
    int64_t t0;
    if ((rc = probe_start_time(o, names[0], &t0, st, err)) != 0)
        goto out;
    st->first_ts = t0;
    if (ts <= t0) {
        st->result = POSITION_FIND_EARLIEST;
        position_free(out);
        rc = position_set_file(out, names[0], err);
        out->offset = 4;
        goto out;
    }
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t t;
        if ((rc = probe_start_time(o, names[mid], &t, st, err)) != 0)
            goto out;
        if (t < ts)
            lo = mid;
        else
            hi = mid;
    }
    /* names[lo] was probed: st->files counts it already. */
    snprintf(st->scanned, sizeof(st->scanned), "%s", names[lo]);
    rc = scan_file(o, names[lo], ts, out, st, err);
out:
    progress_done();
    free_names(names, n);
    return rc;
}
