/*
 * cmd_check.c — `sluice check` (see cmd_check.h).
 *
 * The server settings are judged by binlog_conn_setup_read(), the code binlog_conn_open() runs
 * before every dump, so the command and the daemon cannot disagree. Grants: BINLOG MONITOR
 * (REPLICATION CLIENT) is tried for real with SHOW BINARY LOGS; SELECT and REPLICATION SLAVE are
 * read from SHOW GRANTS (trying a dump would register a replica). Privileges given through a
 * role are not seen: the check then reports a problem that may be a false alarm, and says so.
 *
 * Runs on the main thread; one plain SQL connection per instance, closed after its checks.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "../sinks/kafka.h"
#include "binlog_conn.h"
#include "cmd_check.h"
#include "config.h"
#include "metrics.h"
#include "pos_store.h"
#include "server.h"

static const char *const level_name[] = {"ok", "warning", "problem"};

/* Prints one check's line; counts problems. */
static void report(const char *inst, const char *check, int level, const char *detail, int *bad)
{
    printf("%s: %s: %s%s%s\n", inst, check, level_name[level], detail && *detail ? ": " : "",
           detail ? detail : "");
    if (level == BINLOG_CONN_PROBLEM)
        (*bad)++;
}

/* True when a SHOW GRANTS line gives priv on *.* (or ALL PRIVILEGES). *elsewhere is set when
 * it gives it on some database or table only. */
static bool grants_priv(const char *line, const char *priv, bool *elsewhere)
{
    if (strncmp(line, "GRANT ", 6) != 0)
        return false;
    const char *on = strstr(line, " ON ");
    if (on == NULL)
        return false;
    size_t pl = strlen(priv);
    bool has = false;
    for (const char *p = line + 6; p < on && !has; p++) {
        bool start = p == line + 6 || p[-1] == ' ';
        bool end = p + pl == on || p[pl] == ',' || p[pl] == ' ' || p[pl] == '(';
        has = start && p + pl <= on && strncmp(p, priv, pl) == 0 && end;
        if (!has && start && strncmp(p, "ALL PRIVILEGES", 14) == 0)
            has = true;
    }
    if (!has)
        return false;
    if (strncmp(on, " ON *.* ", 8) == 0)
        return true;
    *elsewhere = true;
    return false;
}

/* The stored position (if any) is still on the server, and how far it is from being purged
 * (the daemon's purge horizon, measured the same way). */
static void
check_position(const struct config_instance *ic, const struct binlog_conn_opts *o, int *bad)
{
    const char *name = ic->name;
    struct err err = {0};
    char detail[900];
    struct pos_store_record rec;
    pos_store_record_init(&rec);
    int loaded = POS_STORE_NONE;
    struct pos_store *st = NULL;
    /* A file store whose directory does not exist yet holds nothing (opening would create it). */
    bool absent = ic->positions.store == CONFIG_STORE_FILE && access(ic->positions.dir, F_OK) != 0;
    if (!absent && (st = pos_store_open_config(ic, &err)) != NULL)
        loaded = pos_store_load(st, &rec, &err);
    if (!absent && (st == NULL || loaded < 0)) {
        snprintf(detail, sizeof(detail), "could not read the stored position: %s", err.msg);
        report(name, "position", BINLOG_CONN_WARNING, detail, bad);
    } else if (loaded != POS_STORE_LOADED) {
        snprintf(detail, sizeof(detail), "nothing stored yet: the first run starts at %s",
                 ic->start.text ? ic->start.text : "earliest");
        report(name, "position", BINLOG_CONN_OK, detail, bad);
    } else if (rec.consumed.file[0] == '\0') {
        report(name, "position", BINLOG_CONN_OK, "stored by GTID only (not checked)", bad);
    } else {
        struct metrics_probe *p = metrics_probe_new(name);
        int64_t files = -1, secs = -1;
        if (metrics_probe_horizon(p, o, rec.consumed.file, &files, &secs, &err)) {
            snprintf(detail, sizeof(detail), "could not list the server's binlogs: %s", err.msg);
            report(name, "position", BINLOG_CONN_WARNING, detail, bad);
        } else if (files < 0) {
            snprintf(detail, sizeof(detail),
                     "the stored position %s:%llu is no longer on the server (purged): the "
                     "daemon would fail with errno 1236; fix (losing what was purged): sluice "
                     "position reset --config FILE --instance %s --earliest (or --timestamp "
                     "'YYYY-MM-DD HH:MM:SS')",
                     rec.consumed.file, (unsigned long long)rec.consumed.offset, name);
            report(name, "position", BINLOG_CONN_PROBLEM, detail, bad);
        } else {
            char left[64] = "no binlog expiry";
            if (secs >= 0)
                snprintf(left, sizeof(left), "expiry leaves %lld s", (long long)secs);
            snprintf(detail, sizeof(detail), "stored %s:%llu; %lld file(s) before it; %s",
                     rec.consumed.file, (unsigned long long)rec.consumed.offset, (long long)files,
                     left);
            report(name, "position", BINLOG_CONN_OK, detail, bad);
        }
        metrics_probe_free(p);
    }
    pos_store_close(st);
    pos_store_record_free(&rec);
}

/* The pre-flight checks of one instance; adds its problems to *bad. */
static void check_instance(const struct config_instance *ic, int *bad)
{
    const char *name = ic->name;
    struct err err = {0};
    char detail[700];
    char *password = config_read_password(ic, &err);
    if (password == NULL) {
        report(name, "password", BINLOG_CONN_PROBLEM, err.msg, bad);
        return;
    }
    struct binlog_conn_opts o;
    binlog_conn_opts_from_config(&o, ic, password);
    o.connect_timeout_s = 5;
    MYSQL *m = binlog_conn_sql_connect(&o, 10, &err);
    if (m == NULL) {
        /* Retriable: nobody answered; otherwise the server answered and refused us. */
        if (err.retriable) {
            snprintf(detail, sizeof(detail),
                     "%s; fix: start the server or correct source.host / source.port (other "
                     "checks skipped)",
                     err.msg);
            report(name, "reachable", BINLOG_CONN_PROBLEM, detail, bad);
        } else if (strstr(err.msg, "(errno 1045)") || strstr(err.msg, "(errno 1698)")) {
            report(name, "reachable", BINLOG_CONN_OK, NULL, bad);
            snprintf(detail, sizeof(detail),
                     "%s; fix: give the right source.password / source.password_file, or set it "
                     "on the server: ALTER USER ... IDENTIFIED BY '...' (other checks skipped)",
                     err.msg);
            report(name, "login", BINLOG_CONN_PROBLEM, detail, bad);
        } else {
            /* TLS, an authentication plugin, a host not allowed: the message says what. */
            report(name, "reachable", BINLOG_CONN_OK, NULL, bad);
            snprintf(detail, sizeof(detail), "%s (other checks skipped)", err.msg);
            report(name, "login", BINLOG_CONN_PROBLEM, detail, bad);
        }
        goto out;
    }
    snprintf(detail, sizeof(detail), "%s:%u, %s", ic->source.host, ic->source.port,
             mysql_get_server_info(m));
    report(name, "reachable", BINLOG_CONN_OK, detail, bad);
    snprintf(detail, sizeof(detail), "as %s", ic->source.user);
    report(name, "login", BINLOG_CONN_OK, detail, bad);
    bool mariadb = strstr(mysql_get_server_info(m), "MariaDB") != NULL;

    struct binlog_conn_setup s;
    if (binlog_conn_setup_read(m, &s, &err)) {
        report(name, "server settings", BINLOG_CONN_PROBLEM, err.msg, bad);
    } else {
        static const char *const checks[] = {"log_bin", "binlog_format", "binlog_row_image"};
        for (int i = 0; i < BINLOG_CONN_CHECK_N; i++) {
            if (s.level[i] != BINLOG_CONN_OK) {
                report(name, checks[i], s.level[i], s.msg[i], bad);
            } else {
                snprintf(detail, sizeof(detail), "%s", s.value[i]);
                report(name, checks[i], BINLOG_CONN_OK, detail, bad);
            }
        }
    }

    /* Whom to grant to: CURRENT_USER() is how the server matched us (user@host). */
    char who[300] = "the source.user";
    if (mysql_query(m, "SELECT CURRENT_USER()") == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        const char *at = row && row[0] ? strrchr(row[0], '@') : NULL;
        if (at)
            snprintf(who, sizeof(who), "'%.*s'@'%s'", (int)(at - row[0]), row[0], at + 1);
        mysql_free_result(res);
    }
    bool sel = false, sel_some = false, slave = false, slave_some = false;
    bool grants_read = false;
    if (mysql_query(m, "SHOW GRANTS") == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row;
        while (res && (row = mysql_fetch_row(res)) != NULL)
            if (row[0]) {
                grants_read = true;
                sel = grants_priv(row[0], "SELECT", &sel_some) || sel;
                slave = grants_priv(row[0], "REPLICATION SLAVE", &slave_some) || slave;
            }
        mysql_free_result(res);
    }
    const char *role_note = " (a privilege given through a role is not seen here)";
    if (!grants_read) {
        snprintf(detail, sizeof(detail), "SHOW GRANTS failed: %s (errno %u)", mysql_error(m),
                 mysql_errno(m));
        report(name, "grant SELECT", BINLOG_CONN_WARNING, detail, bad);
        report(name, "grant REPLICATION SLAVE", BINLOG_CONN_WARNING, detail, bad);
    } else {
        if (sel)
            report(name, "grant SELECT", BINLOG_CONN_OK, NULL, bad);
        else if (sel_some) {
            snprintf(detail, sizeof(detail),
                     "SELECT is granted on some databases only: tables elsewhere have no column "
                     "names; fix: GRANT SELECT ON *.* TO %s",
                     who);
            report(name, "grant SELECT", BINLOG_CONN_WARNING, detail, bad);
        } else {
            snprintf(detail, sizeof(detail),
                     "the user lacks SELECT (schema tracking reads table definitions); fix: "
                     "GRANT SELECT ON *.* TO %s%s",
                     who, role_note);
            report(name, "grant SELECT", BINLOG_CONN_PROBLEM, detail, bad);
        }
        if (slave) {
            report(name, "grant REPLICATION SLAVE", BINLOG_CONN_OK, NULL, bad);
        } else {
            snprintf(detail, sizeof(detail),
                     "the user lacks REPLICATION SLAVE (needed to read the binlog stream); fix: "
                     "GRANT REPLICATION SLAVE ON *.* TO %s%s",
                     who, role_note);
            report(name, "grant REPLICATION SLAVE", BINLOG_CONN_PROBLEM, detail, bad);
        }
    }
    const char *mon = mariadb ? "grant BINLOG MONITOR" : "grant REPLICATION CLIENT";
    if (mysql_query(m, "SHOW BINARY LOGS") == 0) {
        mysql_free_result(mysql_store_result(m));
        report(name, mon, BINLOG_CONN_OK, NULL, bad);
    } else {
        unsigned e = mysql_errno(m);
        if (e == 1227 || e == 1142 || e == 1044)
            snprintf(detail, sizeof(detail),
                     "the user lacks %s (SHOW BINARY LOGS: %s); fix: GRANT %s ON *.* TO %s",
                     mon + 6, mysql_error(m), mon + 6, who);
        else
            snprintf(detail, sizeof(detail), "SHOW BINARY LOGS failed: %s (errno %u)",
                     mysql_error(m), e);
        report(name, mon, BINLOG_CONN_PROBLEM, detail, bad);
    }
    mysql_close(m);
    check_position(ic, &o, bad);
out:
    memset(password, 0, strlen(password));
    free(password);
}

int cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: sluice check --config FILE\n");
            return 0;
        } else {
            fprintf(stderr, "usage: sluice check --config FILE\n");
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "usage: sluice check --config FILE\n");
        return 2;
    }
    struct err err = {0};
    struct config *cfg = config_load(path, &err);
    if (cfg == NULL) {
        printf("config: problem: %s\n", err.msg);
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < cfg->n_instances; i++)
        for (size_t k = 0; k < cfg->instances[i].n_sinks; k++)
            if (cfg->instances[i].sinks[k].type == CONFIG_SINK_KAFKA &&
                sink_kafka_check(&cfg->instances[i].sinks[k], cfg->instances[i].name, &err)) {
                printf("config: problem: %s: %s\n", path, err.msg);
                bad++;
            }
    if (server_tls_check(cfg, &err)) {
        printf("config: problem: %s: %s\n", path, err.msg);
        bad++;
    }
    if (bad == 0)
        printf("config: ok: %s, %zu instance(s)\n", path, cfg->n_instances);
    mysql_library_init(0, NULL, NULL);
    for (size_t i = 0; i < cfg->n_instances; i++)
        check_instance(&cfg->instances[i], &bad);
    mysql_library_end();
    config_free(cfg);
    if (bad)
        printf("%d problem(s)\n", bad);
    return bad ? 1 : 0;
}
