/*
 * examples/consume.c — a complete libsluice consumer: prints an instance's changes as json
 * lines and acks each batch after it is written; reconnects when the connection is lost.
 *
 *   make examples
 *   build/examples/consume HOST PORT USER PASSWORD INSTANCE CLIENT_ID [COUNT]
 *
 * With SLUICE_TLS_CA=FILE in the environment it connects with TLS (a daemon with server.tls),
 * trusting the CA certificates of FILE ("system": the system's CA store).
 *
 * Build your own: cc app.c -Iinclude build/libsluice.a -lssl -lcrypto
 * (or: cc app.c $(pkg-config --cflags --libs libsluice) once installed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice_client.h"

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s HOST PORT USER PASSWORD INSTANCE CLIENT_ID [COUNT]\n", argv[0]);
        return 2;
    }
    unsigned long long want = argc > 7 ? strtoull(argv[7], NULL, 10) : 0, got = 0;
    struct sluice_client *c = sluice_client_new();
    const char *ca = getenv("SLUICE_TLS_CA");
    int rc = SLUICE_OK;
    if (ca && *ca) /* verify the daemon's certificate, and that it is for argv[1] */
        rc = sluice_client_set_tls(c, strcmp(ca, "system") == 0 ? NULL : ca, 1);
    if (rc == SLUICE_OK)
        rc = sluice_client_connect(c, argv[1], atoi(argv[2]), argv[3], argv[4], 5000);
    if (rc == SLUICE_OK)
        rc = sluice_client_subscribe(c, argv[5], argv[6], NULL, NULL);
    while (rc == SLUICE_OK && (want == 0 || got < want)) {
        struct sluice_batch *b;
        rc = sluice_client_get(c, 1000, 0, 1000, &b);
        if (rc != SLUICE_OK)
            break;
        for (size_t i = 0; i < sluice_batch_count(b); i++)
            puts(sluice_batch_change(b, i, NULL));
        fflush(stdout);
        got += sluice_batch_count(b);
        if (sluice_batch_id(b) != 0)
            rc = sluice_client_ack(c, sluice_batch_id(b));
        sluice_batch_free(b);
        if (rc == SLUICE_ERR_IO || rc == SLUICE_ERR_TIMEOUT) {
            /* Lost: unacked batches come again after the reconnect. */
            fprintf(stderr, "%s: %s; reconnecting\n", argv[0], sluice_client_errstr(c));
            sleep(1);
            rc = sluice_client_reconnect(c);
        }
    }
    if (rc != SLUICE_OK)
        fprintf(stderr, "%s: %s (%s)\n", argv[0], sluice_client_errstr(c), sluice_err_name(rc));
    sluice_client_close(c);
    sluice_client_free(c);
    return rc == SLUICE_OK ? 0 : 1;
}
