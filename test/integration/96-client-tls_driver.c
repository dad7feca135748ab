/*
 * 96-client-tls_driver.c — for 96-client-tls.sh: libsluice over TLS, and a plain-text client
 * that speaks first.
 *
 *   driver lib HOST PORT USER PASSWORD CA VERIFY INSTANCE CID COUNT
 *     sluice_client_set_tls(CA, VERIFY) (CA "-": NULL, the system's store), connect, subscribe
 *     (filter app\.t), get until COUNT changes came (or an empty batch), acking each batch; prints
 * "change JSON" per change and "closed" at the end. A failure prints "error ERRNAME: message" and
 * exits 1.
 *
 *   driver send HOST PORT HEX [WAIT_MS]
 *     connects without TLS, sends the bytes of HEX at once, then prints "bytes N" (what came
 *     back) and "eof" when the server closes, or "still open" after WAIT_MS (default 5000).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sluice_client.h"

static int send_first(const char *host, int port, const char *hex, int wait_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        return 1;
    }
    size_t n = strlen(hex) / 2;
    unsigned char bytes[4096];
    for (size_t i = 0; i < n && i < sizeof(bytes); i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        bytes[i] = (unsigned char)v;
    }
    if (n && send(fd, bytes, n, MSG_NOSIGNAL) != (ssize_t)n)
        printf("send failed\n");
    size_t got = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (el >= wait_ms || poll(&p, 1, (int)(wait_ms - el)) <= 0) {
            printf("bytes %zu\nstill open\n", got);
            break;
        }
        char buf[4096];
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0) {
            printf("bytes %zu\neof\n", got);
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

static int lib(char **a)
{
    struct sluice_client *c = sluice_client_new();
    const char *ca = strcmp(a[4], "-") == 0 ? NULL : a[4];
    unsigned long want = strtoul(a[8], NULL, 10), got = 0;
    int rc = sluice_client_set_tls(c, ca, atoi(a[5]));
    if (rc == SLUICE_OK)
        rc = sluice_client_connect(c, a[0], atoi(a[1]), a[2], a[3], 5000);
    if (rc == SLUICE_OK)
        rc = sluice_client_subscribe(c, a[6], a[7], "app\\.t", NULL);
    while (rc == SLUICE_OK && got < want) {
        struct sluice_batch *b;
        rc = sluice_client_get(c, (uint32_t)(want - got), 0, 3000, &b);
        if (rc != SLUICE_OK)
            break;
        for (size_t i = 0; i < sluice_batch_count(b); i++)
            printf("change %s\n", sluice_batch_change(b, i, NULL));
        got += sluice_batch_count(b);
        if (sluice_batch_id(b))
            rc = sluice_client_ack(c, sluice_batch_id(b));
        if (sluice_batch_count(b) == 0)
            want = got;
        sluice_batch_free(b);
    }
    if (rc != SLUICE_OK) {
        printf("error %s: %s\n", sluice_err_name(rc), sluice_client_errstr(c));
        sluice_client_free(c);
        return 1;
    }
    rc = sluice_client_close(c);
    printf("closed\n");
    sluice_client_free(c);
    return rc == SLUICE_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 11 && strcmp(argv[1], "lib") == 0)
        return lib(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "send") == 0)
        return send_first(argv[2], atoi(argv[3]), argv[4], argc > 5 ? atoi(argv[5]) : 5000);
    fprintf(stderr, "usage: driver lib HOST PORT USER PASSWORD CA VERIFY INSTANCE CID COUNT\n"
                    "       driver send HOST PORT HEX [WAIT_MS]\n");
    return 2;
}
