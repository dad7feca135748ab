/*
 * test/bench/client_bench.c — the client side of the benchmark's client part
 * (scripts/bench-live.sh, part 4): one libsluice consumer in a get + ack loop, counting changes.
 *
 *   client_bench HOST PORT USER PASSWORD INSTANCE CLIENT_ID EXPECT [MAX_CHANGES [MAX_BYTES]]
 *
 * Connects (retrying for up to 30 s while the daemon starts), subscribes, then gets batches of
 * at most MAX_CHANGES changes (default 100000) and MAX_BYTES bytes (default 32 MiB, the
 * server's ceiling) and acks each one, until EXPECT row changes (insert, update, delete: the
 * json "type"; DDL changes come too and are not counted) have come. Each change is looked at
 * (its length summed, its type read) as a consumer would; nothing is printed per change. Timed
 * from just before SUBSCRIBE until the ack of the batch holding the last row; prints one line:
 *
 *   rows N bytes B batches K seconds S rows_per_s R
 *
 * Exits 1 on any error (message on stderr), or when no change came for 60 s.
 *
 * Built by the Makefile (build/bench/client_bench) against build/libsluice.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice_client.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True for a row change: {"type":"insert"|"update"|"delete",... (the json format's first key). */
static int is_row(const char *j, size_t len)
{
    static const char pre[] = "{\"type\":\"";
    size_t n = sizeof(pre) - 1;
    if (len <= n || memcmp(j, pre, n) != 0)
        return 0;
    return j[n] == 'i' || j[n] == 'u' || (j[n] == 'd' && j[n + 1] == 'e' && j[n + 2] == 'l');
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr,
                "usage: %s HOST PORT USER PASSWORD INSTANCE CLIENT_ID EXPECT [MAX_CHANGES "
                "[MAX_BYTES]]\n",
                argv[0]);
        return 2;
    }
    unsigned long long expect = strtoull(argv[7], NULL, 10);
    uint32_t max_changes = argc > 8 ? (uint32_t)strtoul(argv[8], NULL, 10) : 100000;
    uint32_t max_bytes = argc > 9 ? (uint32_t)strtoul(argv[9], NULL, 10) : 32u << 20;
    struct sluice_client *c = sluice_client_new();
    int rc = SLUICE_ERR_IO;
    /* The daemon may still be starting: its server listens once the config is loaded. */
    for (int i = 0; i < 300 && rc != SLUICE_OK; i++) {
        rc = sluice_client_connect(c, argv[1], atoi(argv[2]), argv[3], argv[4], 10000);
        if (rc == SLUICE_ERR_IO)
            usleep(100000);
        else
            break;
    }
    double t0 = now_s(), t1 = t0, last_seen = t0;
    if (rc == SLUICE_OK)
        rc = sluice_client_subscribe(c, argv[5], argv[6], NULL, NULL);
    unsigned long long got = 0, bytes = 0, batches = 0;
    while (rc == SLUICE_OK && got < expect) {
        struct sluice_batch *b;
        rc = sluice_client_get(c, max_changes, max_bytes, 1000, &b);
        if (rc != SLUICE_OK)
            break;
        size_t n = sluice_batch_count(b);
        for (size_t i = 0; i < n; i++) {
            size_t len = 0;
            const char *j = sluice_batch_change(b, i, &len);
            bytes += len;
            got += (unsigned long long)is_row(j, len);
        }
        if (sluice_batch_id(b) != 0) {
            rc = sluice_client_ack(c, sluice_batch_id(b));
            batches++;
        }
        sluice_batch_free(b);
        t1 = now_s();
        if (n)
            last_seen = t1;
        else if (t1 - last_seen > 60) {
            fprintf(stderr, "%s: no change for 60 s after %llu of %llu\n", argv[0], got, expect);
            sluice_client_free(c);
            return 1;
        }
    }
    if (rc != SLUICE_OK) {
        fprintf(stderr, "%s: %s (%s) after %llu changes\n", argv[0], sluice_client_errstr(c),
                sluice_err_name(rc), got);
        sluice_client_free(c);
        return 1;
    }
    sluice_client_close(c);
    sluice_client_free(c);
    double s = t1 - t0;
    printf("rows %llu bytes %llu batches %llu seconds %.4f rows_per_s %.0f\n", got, bytes, batches,
           s, s > 0 ? (double)got / s : 0.0);
    return 0;
}
