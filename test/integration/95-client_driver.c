/*
 * 95-client_driver.c — drives libsluice (build/libsluice.a) for 95-client.sh, one step per
 * argument, printing one line per answer:
 *
 *   driver HOST PORT USER PASSWORD STEP...
 *     sub:INSTANCE:CID[:FILTER]  "subscribed LAST_ACKED"
 *     get:N[:TIMEOUT_MS]         "batch ID COUNT", then "change JSON" per change
 *     ack[:ID] / rb[:ID]         "acked ID" / "rolledback ID" (no ID: the last batch got)
 *     hb, close, reconnect       "heartbeat", "closed", "reconnected"
 *     sleep:MS
 *   Any failure prints "error ERRNAME server=CODE: message" and the driver goes on.
 *   The connection is made first; its failure prints the error line and exits 1.
 *
 *   driver raw HOST PORT HEX [WAIT_MS]
 *     connects without the library, reads SERVER_HELLO ("hello"), sends the bytes of HEX (may be
 *     empty: a silent client), then prints "frame TYPE" or "error NAME: message" per frame the
 *     server sends, and "eof" when it closes (or "still open" after WAIT_MS, default 5000).
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

#include "protocol.h"
#include "sluice_client.h"

static int raw(const char *host, int port, const char *hex, int wait_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        return 1;
    }
    uint8_t buf[65536];
    size_t len = 0;
    int hello = 0;
    size_t n = strlen(hex) / 2;
    uint8_t *bytes = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        bytes[i] = (uint8_t)v;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= wait_ms || poll(&p, 1, (int)(wait_ms - el)) <= 0) {
            printf("still open\n");
            break;
        }
        ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (r <= 0) {
            printf("eof\n");
            break;
        }
        len += (size_t)r;
        uint8_t type;
        const uint8_t *pl;
        size_t plen, used;
        while (proto_frame_parse(buf, len, PROTO_MAX_SERVER_FRAME, &type, &pl, &plen, &used) == 1) {
            if (type == PROTO_ERROR) {
                struct proto_reader rd;
                proto_reader_init(&rd, pl, plen);
                unsigned code = proto_get_u16(&rd);
                char msg[400];
                proto_get_str(&rd, msg, sizeof(msg));
                printf("error %s: %s\n", proto_error_name(code), msg);
            } else {
                printf("frame %s\n", proto_type_name(type));
            }
            fflush(stdout);
            memmove(buf, buf + used, len - used);
            len -= used;
            if (type == PROTO_SERVER_HELLO && !hello) {
                hello = 1;
                if (n && send(fd, bytes, n, MSG_NOSIGNAL) != (ssize_t)n)
                    printf("send failed\n");
            }
        }
    }
    free(bytes);
    close(fd);
    return 0;
}

static void report(struct sluice_client *c, int rc)
{
    printf("error %s server=%d: %s\n", sluice_err_name(rc), sluice_client_server_error(c),
           sluice_client_errstr(c));
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "raw") == 0)
        return raw(argv[2], atoi(argv[3]), argv[4], argc > 5 ? atoi(argv[5]) : 5000);
    if (argc < 5) {
        fprintf(stderr, "usage: see 95-client_driver.c\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sluice_client *c = sluice_client_new();
    int rc = sluice_client_connect(c, argv[1], atoi(argv[2]), argv[3], argv[4], 10000);
    if (rc) {
        report(c, rc);
        sluice_client_free(c);
        return 1;
    }
    uint64_t last = 0;
    for (int i = 5; i < argc; i++) {
        char step[1024];
        snprintf(step, sizeof(step), "%s", argv[i]);
        char *arg = strchr(step, ':');
        if (arg)
            *arg++ = '\0';
        if (strcmp(step, "sub") == 0) {
            char *cid = strchr(arg, ':'), *filter = NULL;
            *cid++ = '\0';
            if ((filter = strchr(cid, ':')) != NULL)
                *filter++ = '\0';
            uint64_t acked = 0;
            rc = sluice_client_subscribe(c, arg, cid, filter, &acked);
            if (rc == 0)
                printf("subscribed %llu\n", (unsigned long long)acked);
        } else if (strcmp(step, "get") == 0) {
            char *to = strchr(arg, ':');
            struct sluice_batch *b = NULL;
            rc = sluice_client_get(c, (uint32_t)atoi(arg), 0, to ? (uint32_t)atoi(to + 1) : 2000,
                                   &b);
            if (rc == 0) {
                printf("batch %llu %zu\n", (unsigned long long)sluice_batch_id(b),
                       sluice_batch_count(b));
                for (size_t k = 0; k < sluice_batch_count(b); k++)
                    printf("change %s\n", sluice_batch_change(b, k, NULL));
                if (sluice_batch_id(b))
                    last = sluice_batch_id(b);
                sluice_batch_free(b);
            }
        } else if (strcmp(step, "ack") == 0 || strcmp(step, "rb") == 0) {
            uint64_t id = arg ? strtoull(arg, NULL, 10) : last;
            rc = step[0] == 'a' ? sluice_client_ack(c, id) : sluice_client_rollback(c, id);
            if (rc == 0)
                printf("%s %llu\n", step[0] == 'a' ? "acked" : "rolledback",
                       (unsigned long long)id);
        } else if (strcmp(step, "hb") == 0) {
            rc = sluice_client_heartbeat(c);
            if (rc == 0)
                printf("heartbeat\n");
        } else if (strcmp(step, "close") == 0) {
            rc = sluice_client_close(c);
            printf("closed\n");
        } else if (strcmp(step, "reconnect") == 0) {
            rc = sluice_client_reconnect(c);
            if (rc == 0)
                printf("reconnected\n");
        } else if (strcmp(step, "sleep") == 0) {
            struct timespec ts = {atoi(arg) / 1000, (long)(atoi(arg) % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            rc = 0;
        } else {
            fprintf(stderr, "unknown step %s\n", step);
            return 2;
        }
        if (rc)
            report(c, rc);
    }
    sluice_client_free(c);
    return 0;
}
