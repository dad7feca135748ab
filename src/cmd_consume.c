/*
 * cmd_consume.c — `sluice consume --server H:P --user U --password-file F --instance NAME
 * --client-id ID [--batch N] [--count N] [--filter RE] [--timeout-ms N] [--tls | --tls-ca FILE]`.
 *
 * --tls connects with TLS (for a daemon with server.tls set), verifying the server's
 * certificate against the system's CA store and the host of --server; --tls-ca FILE verifies it
 * against the CAs of FILE instead (and implies --tls). A refused certificate is an error (exit
 * 1), not retried.
 *
 * Cluster mode: --zookeeper SERVERS --cluster NAME [--root PATH] instead of --server finds the
 * daemon that owns the instance in ZooKeeper (sluice_client_connect_cluster) and, after a
 * failover, the new one: a reconnect looks it up again and resumes at the client id's cursor.
 *
 * A get / print / ack loop over libsluice (include/sluice_client.h): each batch's changes are
 * written to stdout, one json object a line, flushed, and only then acked, so a change printed
 * is a change whose ack may be lost (delivered again), never one skipped. With --count it stops
 * after that many changes (asking for no more than are still wanted, so nothing beyond is
 * delivered and left unacked). A lost connection is retried every second; a login or other
 * server error ends the command (exit 1).
 *
 * Runs on the main thread; SIGINT/SIGTERM set a flag checked between requests.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cmd_consume.h"
#include "config.h"
#include "sluice_client.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: sluice consume (--server HOST:PORT | --zookeeper SERVERS --cluster NAME "
            "[--root PATH]) --user U --password-file F --instance NAME --client-id ID "
            "[--batch N] [--count N] [--filter RE] [--timeout-ms N] "
            "[--tls | --tls-ca FILE]\n");
    return 2;
}

static int parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The daemon does not (or no longer) run the instance: cluster mode, look again. */
static int not_owner(const struct sluice_client *c, int rc)
{
    return rc == SLUICE_ERR_SERVER && sluice_client_server_error(c) == 13;
}

int cmd_consume(int argc, char **argv)
{
    const char *server = NULL, *user = NULL, *pwfile = NULL, *instance = NULL, *cid = NULL;
    const char *filter = NULL, *tls_ca = NULL, *zk = NULL, *cluster = NULL, *root = "/sluice";
    int tls = 0;
    unsigned long long batch = 1000, count = 0, timeout = 1000;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--tls") == 0) {
            tls = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "sluice consume: %s needs a value\n", o);
            return usage();
        }
        i++;
        if (strcmp(o, "--server") == 0)
            server = v;
        else if (strcmp(o, "--zookeeper") == 0)
            zk = v;
        else if (strcmp(o, "--cluster") == 0)
            cluster = v;
        else if (strcmp(o, "--root") == 0)
            root = v;
        else if (strcmp(o, "--user") == 0)
            user = v;
        else if (strcmp(o, "--password-file") == 0)
            pwfile = v;
        else if (strcmp(o, "--instance") == 0)
            instance = v;
        else if (strcmp(o, "--client-id") == 0)
            cid = v;
        else if (strcmp(o, "--filter") == 0)
            filter = v;
        else if (strcmp(o, "--tls-ca") == 0)
            tls_ca = v;
        else if ((strcmp(o, "--batch") == 0 && parse_num(v, 1000000, &batch) == 0 && batch) ||
                 (strcmp(o, "--count") == 0 && parse_num(v, UINT64_MAX, &count) == 0) ||
                 (strcmp(o, "--timeout-ms") == 0 && parse_num(v, 60000, &timeout) == 0))
            continue;
        else {
            fprintf(stderr, "sluice consume: bad option or value: %s %s\n", o, v);
            return usage();
        }
    }
    if ((server == NULL) == (zk == NULL) || (zk == NULL) != (cluster == NULL) || !user || !pwfile ||
        !instance || !cid) {
        fprintf(stderr, "sluice consume: --server (or --zookeeper and --cluster), --user, "
                        "--password-file, --instance and --client-id are required\n");
        return usage();
    }
    if (zk && (root[0] != '/' || strchr(cluster, '/') || cluster[0] == '\0')) {
        fprintf(stderr, "sluice consume: --root must be an absolute path, --cluster a name "
                        "without '/'\n");
        return 2;
    }
    char host[256], zk_path[1024];
    int port = 0;
    struct err err = {0};
    if (zk)
        snprintf(zk_path, sizeof(zk_path), "%s/%s", strcmp(root, "/") == 0 ? "" : root, cluster);
    if (server && admin_parse_addr(server, host, sizeof(host), &port, &err)) {
        fprintf(stderr, "sluice consume: %s\n", err.msg);
        return 2;
    }
    char *password = config_read_secret_file(pwfile);
    if (password == NULL) {
        fprintf(stderr, "sluice consume: could not read \"%s\"\n", pwfile);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sluice_client *c = sluice_client_new();
    int rc = SLUICE_OK;
    if (tls || tls_ca)
        rc = sluice_client_set_tls(c, tls_ca, 1);
    if (rc == SLUICE_OK && zk) {
        /* Cluster mode: no owner yet, or one still starting (NOT_OWNER): wait a while. */
        for (int tries = 0; tries < 30 && !stop; tries++) {
            rc = sluice_client_connect_cluster(c, zk, zk_path, instance, user, password, 10000);
            if (rc == SLUICE_OK)
                rc = sluice_client_subscribe(c, instance, cid, filter, NULL);
            if (!(rc == SLUICE_ERR_IO || rc == SLUICE_ERR_TIMEOUT || not_owner(c, rc)))
                break;
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
    } else if (rc == SLUICE_OK) {
        rc = sluice_client_connect(c, host, port, user, password, 10000);
        if (rc == SLUICE_OK)
            rc = sluice_client_subscribe(c, instance, cid, filter, NULL);
    }
    memset(password, 0, strlen(password));
    free(password);
    if (rc != SLUICE_OK) {
        fprintf(stderr, "sluice consume: %s\n", sluice_client_errstr(c));
        sluice_client_free(c);
        return 1;
    }
    unsigned long long done = 0;
    int status = 0;
    while (!stop && (count == 0 || done < count)) {
        unsigned long long want = count ? count - done : batch;
        struct sluice_batch *b = NULL;
        rc =
            sluice_client_get(c, (uint32_t)(want < batch ? want : batch), 0, (uint32_t)timeout, &b);
        if (rc == SLUICE_OK) {
            for (size_t i = 0; i < sluice_batch_count(b); i++) {
                size_t len;
                const char *j = sluice_batch_change(b, i, &len);
                fwrite(j, 1, len, stdout);
                fputc('\n', stdout);
            }
            if (fflush(stdout) != 0) {
                sluice_batch_free(b);
                status = 1;
                break;
            }
            done += sluice_batch_count(b);
            if (sluice_batch_id(b))
                rc = sluice_client_ack(c, sluice_batch_id(b));
            sluice_batch_free(b);
        }
        if (rc == SLUICE_ERR_IO || rc == SLUICE_ERR_TIMEOUT || (zk && not_owner(c, rc))) {
            fprintf(stderr, "sluice consume: %s; reconnecting\n", sluice_client_errstr(c));
            while (!stop) {
                struct timespec ts = {1, 0};
                nanosleep(&ts, NULL);
                if (sluice_client_reconnect(c) == SLUICE_OK)
                    break;
            }
        } else if (rc != SLUICE_OK) {
            fprintf(stderr, "sluice consume: %s\n", sluice_client_errstr(c));
            status = 1;
            break;
        }
    }
    sluice_client_close(c);
    sluice_client_free(c);
    return status;
}
