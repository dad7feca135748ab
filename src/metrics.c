/*
 * metrics.c — /metrics and /health bodies, and the purge-horizon probe (see metrics.h).
 *
 * Rendering runs on the admin thread: it snapshots each instance once (instance_metrics: the
 * status fields under the instance's mutex, counters atomically), then writes one metric family
 * at a time, as the text format requires (every sample of a family after its # HELP / # TYPE).
 * Label values are escaped (backslash, quote, newline) per the exposition format.
 *
 * The probe runs on an instance's thread, at most every ten seconds: SHOW BINARY LOGS and the
 * expiry variables on a plain SQL connection of its own (never the streaming one), and, once
 * per binlog file, a short non-blocking dump of the file after ours to read the creation time
 * in its FORMAT_DESCRIPTION event's header. Why that timestamp: binlog expiry compares a file's
 * modification time, and a file is last written just before the next one is created.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "binlog_event.h"
#include "bytes.h"
#include "metrics.h"
#include "version.h"
#include "xmalloc.h"

/* ---- exposition ---------------------------------------------------------------------------- */

static void label_value(struct strbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_appendc(out, '\\');
        if (*v == '\n')
            strbuf_appends(out, "\\n");
        else
            strbuf_appendc(out, *v);
    }
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{instance="x"` without the closing brace (the caller adds labels or closes it). */
static void sample_start(struct strbuf *out, const char *name, const struct instance_metrics *m)
{
    strbuf_appends(out, name);
    strbuf_appends(out, "{instance=\"");
    label_value(out, m->name);
    strbuf_appendc(out, '"');
}

static void
sample_u64(struct strbuf *out, const char *name, const struct instance_metrics *m, uint64_t v)
{
    sample_start(out, name, m);
    strbuf_appends(out, "} ");
    strbuf_append_u64(out, v);
    strbuf_appendc(out, '\n');
}

static void
sample_i64(struct strbuf *out, const char *name, const struct instance_metrics *m, int64_t v)
{
    sample_start(out, name, m);
    strbuf_appends(out, "} ");
    strbuf_append_i64(out, v);
    strbuf_appendc(out, '\n');
}

/* One family with one sample per instance of ms[] for which cond holds (cond may use i_), the
 * value in member field, written by sample (sample_u64 or sample_i64). */
#define PER_INSTANCE_IF(name, type, help, cond, sample, field)                                     \
    do {                                                                                           \
        family(out, name, type, help);                                                             \
        for (size_t i_ = 0; i_ < n; i_++)                                                          \
            if (cond)                                                                              \
                sample(out, name, &ms[i_], ms[i_].field);                                          \
    } while (0)
#define PER_INSTANCE_U64(name, type, help, field)                                                  \
    PER_INSTANCE_IF(name, type, help, true, sample_u64, field)

/* One family with one sample per sink of every instance of ms[], the value in its member field. */
#define PER_SINK_U64(name, type, help, field)                                                      \
    do {                                                                                           \
        family(out, name, type, help);                                                             \
        for (size_t i_ = 0; i_ < n; i_++)                                                          \
            for (size_t k_ = 0; k_ < ms[i_].nsinks; k_++) {                                        \
                sample_start(out, name, &ms[i_]);                                                  \
                strbuf_appends(out, ",sink=\"");                                                   \
                label_value(out, ms[i_].sinks[k_].label);                                          \
                strbuf_appends(out, "\"} ");                                                       \
                strbuf_append_u64(out, ms[i_].sinks[k_].field);                                    \
                strbuf_appendc(out, '\n');                                                         \
            }                                                                                      \
    } while (0)

void metrics_render(struct instance **instances, size_t n, time_t started, struct strbuf *out)
{
    struct instance_metrics *ms = xcalloc(n ? n : 1, sizeof(*ms));
    for (size_t i = 0; i < n; i++)
        instance_metrics(instances[i], &ms[i]);

    family(out, "sluice_up", "gauge", "1 while the sluice daemon answers.");
    strbuf_appends(out, "sluice_up 1\n");
    family(out, "sluice_build_info", "gauge", "The sluice version, as a label; always 1.");
    strbuf_appends(out, "sluice_build_info{version=\"" SLUICE_VERSION "\"} 1\n");
    family(out, "sluice_start_time_seconds", "gauge",
           "When the daemon started, in seconds since the Unix epoch.");
    strbuf_printf(out, "sluice_start_time_seconds %lld\n", (long long)started);

    family(out, "sluice_instance_state", "gauge",
           "1 for the instance's current state, 0 for the others.");
    static const enum instance_state states[] = {
        INSTANCE_STARTING, INSTANCE_STREAMING, INSTANCE_RECONNECTING, INSTANCE_STALLED,
        INSTANCE_FAILED,   INSTANCE_STOPPED,   INSTANCE_STANDBY};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
            sample_start(out, "sluice_instance_state", &ms[i]);
            strbuf_printf(out, ",state=\"%s\"} %d\n", instance_state_name(states[k]),
                          ms[i].state == states[k]);
        }

    PER_INSTANCE_U64("sluice_events_read_total", "counter", "Binlog events read.", events);
    PER_INSTANCE_U64("sluice_rows_read_total", "counter",
                     "Row changes (inserted, updated, deleted rows) read, before filters.", rows);
    PER_INSTANCE_U64("sluice_binlog_read_bytes_total", "counter", "Bytes of binlog events read.",
                     bytes_read);

    PER_SINK_U64("sluice_sink_rows_delivered_total", "counter",
                 "Row changes the sink acknowledged (after filters).", delivered);
    PER_SINK_U64("sluice_sink_errors_total", "counter",
                 "Calls into the sink (append, write, poll) that returned an error.", errors);

    PER_INSTANCE_IF(
        "sluice_lag_seconds", "gauge",
        "Now minus the timestamp of the last event read; 0 when caught up (heartbeats keep it "
        "fresh while the source is idle).",
        true, sample_i64, lag_seconds);

    PER_INSTANCE_IF("sluice_consumed_binlog_file_index", "gauge",
                    "Numeric suffix of the binlog file of the consumed position (every sink "
                    "acknowledged everything before it).",
                    ms[i_].has_consumed, sample_i64, consumed_file_index);
    PER_INSTANCE_IF("sluice_consumed_binlog_offset_bytes", "gauge",
                    "Offset in that file of the consumed position.", ms[i_].has_consumed,
                    sample_u64, consumed_offset);

    PER_INSTANCE_IF("sluice_purge_horizon_files", "gauge",
                    "Binlog files the server lists before the one holding the consumed position "
                    "(purging removes the oldest first); -1 when that file is gone.",
                    ms[i_].horizon_known, sample_i64, horizon_files);
    PER_INSTANCE_IF("sluice_purge_horizon_seconds", "gauge",
                    "Binlog expiry minus the age of the consumed position's file (age: since the "
                    "next file was created); -1 when the server expires no binlogs.",
                    ms[i_].horizon_known, sample_i64, horizon_seconds);

    PER_INSTANCE_U64("sluice_memory_in_flight_bytes", "gauge",
                     "Memory budget in use: changes read and not yet acknowledged by every sink.",
                     bytes_in_flight);
    PER_INSTANCE_U64("sluice_memory_budget_bytes", "gauge",
                     "The memory budget (budget_mb); reading pauses above it.", budget_bytes);
    PER_INSTANCE_U64("sluice_reconnects_total", "counter",
                     "Connections to the source lost or refused and retried.", reconnects);
    PER_INSTANCE_U64("sluice_schema_versions", "gauge",
                     "Versions in the schema history (one per DDL that changed a table).",
                     schema_versions);

    for (size_t i = 0; i < n; i++)
        free(ms[i].sinks);
    free(ms);
}

bool metrics_health(struct instance **instances, size_t n, struct strbuf *out)
{
    bool ok = n > 0;
    strbuf_appends(out, "{\"instances\":[");
    for (size_t i = 0; i < n; i++) {
        struct instance_metrics m;
        instance_metrics(instances[i], &m);
        free(m.sinks);
        /* A standby (cluster mode: another daemon owns it) is where it should be. */
        ok = ok && (m.state == INSTANCE_STREAMING || m.state == INSTANCE_STANDBY);
        strbuf_appends(out, i ? ",{\"name\":" : "{\"name\":");
        strbuf_append_json_str(out, m.name, strlen(m.name));
        strbuf_printf(out, ",\"state\":\"%s\",\"why\":", instance_state_name(m.state));
        strbuf_append_json_str(out, m.why, strlen(m.why));
        strbuf_printf(out, ",\"lag_seconds\":%lld}", (long long)m.lag_seconds);
    }
    strbuf_printf(out, "],\"healthy\":%s}\n", ok ? "true" : "false");
    return ok;
}

/* ---- the purge-horizon probe --------------------------------------------------------------- */

struct metrics_probe {
    const char *name;
    MYSQL *m;
    char created_file[256]; /* the file whose creation time is cached */
    int64_t created_ts;
};

struct metrics_probe *metrics_probe_new(const char *name)
{
    struct metrics_probe *p = xcalloc(1, sizeof(*p));
    p->name = name;
    return p;
}

void metrics_probe_free(struct metrics_probe *p)
{
    if (p == NULL)
        return;
    if (p->m)
        mysql_close(p->m);
    free(p);
}

static void quiet_warn(const char *msg, void *opaque)
{
    (void)msg;
    (void)opaque;
}

/* The creation time of binlog file (its FORMAT_DESCRIPTION event's timestamp), read on a short
 * non-blocking dump. Returns 0 with *ts set, or a negative code with err filled. */
static int file_created(struct metrics_probe *p,
                        const struct binlog_conn_opts *o,
                        const char *file,
                        int64_t *ts,
                        struct err *err)
{
    struct binlog_conn_opts co = *o;
    co.start_file = file;
    co.start_pos = 4;
    co.gtid = NULL;
    co.non_blocking = true;
    co.heartbeat_ms = 1000; /* a read that sees nothing for 3 s fails */
    co.connect_timeout_s = 5;
    co.warn = quiet_warn;
    /* An id of its own: a server drops the older of two replicas with the same id. */
    uint32_t h = 2166136261u;
    for (const char *c = p->name; c && *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    co.server_id = 0x55000000u | ((h ^ (uint32_t)getpid()) & 0xffffffu);
    struct binlog_conn *c = binlog_conn_open(&co, err);
    if (c == NULL)
        return err && err->code ? err->code : ERR_BINLOG_CONNECT;
    int rc = 1; /* 1: not found yet */
    for (int k = 0; k < 4 && rc == 1; k++) {
        const uint8_t *ev;
        size_t len;
        int r = binlog_conn_next(c, &ev, &len, err);
        if (r < 0) {
            rc = r;
        } else if (r == 0) {
            break;
        } else if (r == 1 && len >= BINLOG_HEADER_LEN && ev[4] == BINLOG_EV_FORMAT_DESCRIPTION) {
            *ts = (int64_t)le32(ev);
            rc = 0;
        }
    }
    if (rc == 1)
        rc = err_set(err, ERR_BINLOG_STREAM, "binlog \"%s\" has no FORMAT_DESCRIPTION event", file);
    binlog_conn_close(c);
    return rc;
}

/* The server's binlog expiry in seconds (0: none). */
static int expiry_seconds(MYSQL *m, int64_t *secs, struct err *err)
{
    *secs = 0;
    /* MySQL 8 and MariaDB 10.6+ have binlog_expire_logs_seconds; older ones expire_logs_days. */
    bool days = false;
    if (mysql_query(m, "SELECT @@global.binlog_expire_logs_seconds") != 0) {
        days = true;
        if (mysql_query(m, "SELECT @@global.expire_logs_days") != 0)
            return err_set(err, ERR_BINLOG_CONNECT,
                           "could not read binlog_expire_logs_seconds: %s (errno %u)",
                           mysql_error(m), mysql_errno(m));
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL)
        return err_set(err, ERR_BINLOG_CONNECT, "reading the binlog expiry: %s (errno %u)",
                       mysql_error(m), mysql_errno(m));
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0])
        *secs = days ? (int64_t)(strtod(row[0], NULL) * 86400.0) : strtoll(row[0], NULL, 10);
    mysql_free_result(res);
    return 0;
}

/* One measure (metrics_probe_horizon); closes the connection after an error. */
static int measure(struct metrics_probe *p,
                   const struct binlog_conn_opts *o,
                   const char *file,
                   int64_t *files,
                   int64_t *seconds,
                   struct err *err)
{
    if (p->m == NULL) {
        struct binlog_conn_opts co = *o;
        co.connect_timeout_s = 5;
        p->m = binlog_conn_sql_connect(&co, 10, err);
        if (p->m == NULL)
            return err && err->code ? err->code : ERR_BINLOG_CONNECT;
    }
    int rc = 0;
    char **names = NULL;
    size_t nn = 0;
    int64_t expiry = 0;
    if (mysql_query(p->m, "SHOW BINARY LOGS") != 0) {
        rc = err_set(err, ERR_BINLOG_CONNECT, "SHOW BINARY LOGS failed: %s (errno %u)",
                     mysql_error(p->m), mysql_errno(p->m));
        goto out;
    }
    MYSQL_RES *res = mysql_store_result(p->m);
    if (res == NULL) {
        rc = err_set(err, ERR_BINLOG_CONNECT, "SHOW BINARY LOGS returned no result: %s",
                     mysql_error(p->m));
        goto out;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL)
        if (row[0]) {
            names = xrealloc(names, (nn + 1) * sizeof(*names));
            names[nn++] = xstrdup(row[0]);
        }
    mysql_free_result(res);
    if ((rc = expiry_seconds(p->m, &expiry, err)))
        goto out;
    int64_t idx = -1;
    for (size_t i = 0; i < nn && idx < 0; i++)
        if (strcmp(names[i], file) == 0)
            idx = (int64_t)i;
    int64_t secs = -1;
    if (expiry > 0 && idx >= 0 && (size_t)idx + 1 < nn) {
        const char *next = names[idx + 1];
        if (strcmp(p->created_file, next) != 0) {
            int64_t ts = 0;
            if ((rc = file_created(p, o, next, &ts, err)))
                goto out;
            snprintf(p->created_file, sizeof(p->created_file), "%s", next);
            p->created_ts = ts;
        }
        int64_t age = (int64_t)time(NULL) - p->created_ts;
        secs = expiry - (age > 0 ? age : 0);
        if (secs < 0)
            secs = 0;
    } else if (expiry > 0 && idx >= 0) {
        secs = expiry; /* the newest file: still being written */
    } else if (expiry > 0) {
        secs = 0; /* our file is gone */
    }
    *files = idx;
    *seconds = secs;
out:
    if (rc && p->m) {
        mysql_close(p->m); /* reopened at the next measure */
        p->m = NULL;
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return rc;
}

int metrics_probe_horizon(struct metrics_probe *p,
                          const struct binlog_conn_opts *o,
                          const char *file,
                          int64_t *files,
                          int64_t *seconds,
                          struct err *err)
{
    /* A connection kept from an earlier measure may have died with the server since (a restart
     * the stream reconnected after): one more try on a fresh one. */
    bool kept = p->m != NULL;
    int rc = measure(p, o, file, files, seconds, err);
    if (rc && kept)
        rc = measure(p, o, file, files, seconds, err);
    return rc;
}
