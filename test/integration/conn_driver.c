/*
 * conn_driver.c — a test driver for src/binlog_conn (45-conn.sh compiles it against
 * libsluice.a): opens a connection or runs one of the plain-connection helpers with the options
 * given, and prints what the API returns, one fact a line:
 *   identity server_id=N uuid=U mariadb=0|1 version=V
 *   cipher NAME | cipher none
 *   log NAME SIZE                  (list)
 *   status FILE POS GTID           (status)
 *   events N                       (stream: events read before the end or the error)
 *   error code=N retriable=0|1 fatal=0|1 msg=TEXT
 * Exit status 0 on success, 1 after an error line, 2 on bad usage.
 *
 * Usage: conn_driver ACTION [--host H] [--port P] [--user U] [--password PW] [--tls MODE]
 *        [--ca F] [--cert F] [--key F] [--server-id N] [--start FILE:POS] [--non-blocking]
 *        [--heartbeat-ms N] [--seconds N]
 * ACTION: open (connect, print identity and cipher, close), stream (open, then read events
 * until the end, an error or --seconds), list, status.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "binlog_conn.h"

static const char *const tls_modes[] = {"disabled", "preferred", "required", "verify_ca",
                                        "verify_identity"};

static int print_err(const struct err *e)
{
    printf("error code=%d retriable=%d fatal=%d msg=%s\n", e->code, e->retriable ? 1 : 0,
           e->fatal ? 1 : 0, e->msg);
    return 1;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *action = argv[1];
    struct binlog_conn_opts o;
    binlog_conn_opts_init(&o);
    unsigned seconds = 0;
    char *start = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--non-blocking") == 0) {
            o.non_blocking = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "conn_driver: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--host") == 0)
            o.host = v;
        else if (strcmp(a, "--port") == 0)
            o.port = (unsigned)atoi(v);
        else if (strcmp(a, "--user") == 0)
            o.user = v;
        else if (strcmp(a, "--password") == 0)
            o.password = v;
        else if (strcmp(a, "--ca") == 0)
            o.tls_ca = v;
        else if (strcmp(a, "--cert") == 0)
            o.tls_cert = v;
        else if (strcmp(a, "--key") == 0)
            o.tls_key = v;
        else if (strcmp(a, "--server-id") == 0)
            o.server_id = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--heartbeat-ms") == 0)
            o.heartbeat_ms = (unsigned)atoi(v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = (unsigned)atoi(v);
        else if (strcmp(a, "--start") == 0) {
            start = strdup(v);
            char *colon = strrchr(start, ':');
            if (colon) {
                *colon = '\0';
                o.start_pos = strtoull(colon + 1, NULL, 10);
            }
            o.start_file = start;
        } else if (strcmp(a, "--tls") == 0) {
            int m = -1;
            for (int k = 0; k < 5; k++)
                if (strcmp(v, tls_modes[k]) == 0)
                    m = k;
            if (m < 0)
                return 2;
            o.tls_mode = m;
        } else {
            fprintf(stderr, "conn_driver: unknown option %s\n", a);
            return 2;
        }
    }
    struct err err = {0};
    int rc = 0;
    if (strcmp(action, "list") == 0) {
        char **names;
        uint64_t *sizes;
        size_t n;
        if (binlog_conn_list_logs(&o, &names, &sizes, &n, &err) != 0) {
            rc = print_err(&err);
        } else {
            for (size_t i = 0; i < n; i++) {
                printf("log %s %llu\n", names[i], (unsigned long long)sizes[i]);
                free(names[i]);
            }
            free(names);
            free(sizes);
        }
    } else if (strcmp(action, "status") == 0) {
        char file[256], gtid[1024];
        uint64_t pos;
        if (binlog_conn_master_status(&o, file, sizeof(file), &pos, gtid, sizeof(gtid), &err))
            rc = print_err(&err);
        else
            printf("status %s %llu %s\n", file, (unsigned long long)pos, gtid);
    } else if (strcmp(action, "open") == 0 || strcmp(action, "stream") == 0) {
        struct binlog_conn *c = binlog_conn_open(&o, &err);
        if (c == NULL) {
            rc = print_err(&err);
        } else {
            uint32_t sid;
            const char *uuid, *version, *cipher = binlog_conn_tls_cipher(c);
            bool mariadb;
            binlog_conn_identity(c, &sid, &uuid, &version, &mariadb);
            printf("identity server_id=%u uuid=%s mariadb=%d version=%s\n", sid, uuid,
                   mariadb ? 1 : 0, version);
            printf("cipher %s\n", cipher ? cipher : "none");
            printf("replica_id %u\n", binlog_conn_server_id_used(c));
            fflush(stdout);
            if (strcmp(action, "stream") == 0) {
                uint64_t t0 = mono_ms(), n = 0;
                const uint8_t *ev;
                size_t len;
                int r;
                while ((r = binlog_conn_next(c, &ev, &len, &err)) == 1) {
                    n++;
                    if (seconds && mono_ms() - t0 > seconds * 1000ull)
                        break;
                }
                printf("events %llu\n", (unsigned long long)n);
                printf("activity %s\n", binlog_conn_last_activity_ms(c) >= t0 ? "recent" : "stale");
                if (r < 0)
                    rc = print_err(&err);
            }
            binlog_conn_close(c);
        }
    } else {
        return 2;
    }
    free(start);
    return rc;
}
