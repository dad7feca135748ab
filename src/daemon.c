/*
 * daemon.c — `sluice run` and `sluice status` (see daemon.h).
 *
 * Signals: the main thread blocks SIGTERM, SIGINT and SIGHUP before any other thread exists,
 * so every thread inherits the mask and only the main thread takes them, synchronously, with
 * sigtimedwait(). SIGPIPE is ignored (a closed socket or pipe is an error return, not death).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "instance.h"
#include "fsutil.h"
#include "lockfile.h"
#include "log.h"
#include "xmalloc.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

int daemon_run(const char *config_path, const char *admin_listen)
{
    struct err err = {0};
    struct config *cfg = config_load(config_path, &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        return 1;
    }
    if (log_configure(cfg, &err)) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        config_free(cfg);
        return 1;
    }
    if (fs_mkdirs(cfg->data_dir, &err)) {
        fprintf(stderr, "sluice run: data_dir: %s\n", err.msg);
        config_free(cfg);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* libmariadb's global init is not thread-safe: do it before any instance thread. */
    mysql_library_init(0, NULL, NULL);
    struct instance **ins = xcalloc(cfg->n_instances ? cfg->n_instances : 1, sizeof(*ins));
    for (size_t i = 0; i < cfg->n_instances; i++)
        ins[i] = instance_new(cfg, &cfg->instances[i]);
    const char *listen_addr = admin_listen ? admin_listen : cfg->admin.listen;
    struct admin *adm = admin_start(listen_addr, ins, cfg->n_instances, &err);
    if (adm == NULL) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        for (size_t i = 0; i < cfg->n_instances; i++)
            instance_free(ins[i]);
        free(ins);
        config_free(cfg);
        return 1;
    }
    log_info("MAIN", NULL, "sluice %s started (pid %ld): %zu instance(s), admin on %s (port %d)",
             SLUICE_VERSION, (long)getpid(), cfg->n_instances, listen_addr, admin_port(adm));
    int rc = 0;
    size_t started = 0;
    for (size_t i = 0; i < cfg->n_instances; i++) {
        if (instance_start(ins[i], &err)) {
            log_error("MAIN", NULL, "%s", err.msg);
            rc = 1;
            break;
        }
        started++;
    }
    while (rc == 0) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        for (size_t i = 0; i < started; i++)
            instance_watchdog(ins[i]);
        if (sig == SIGHUP) {
            log_reopen();
            log_info("MAIN", NULL, "SIGHUP: log and file sinks reopened");
            for (size_t i = 0; i < started; i++)
                instance_request_reopen(ins[i]);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_info("MAIN", NULL, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
    }
    for (size_t i = 0; i < started; i++)
        instance_request_stop(ins[i]);
    for (size_t i = 0; i < started; i++)
        instance_join(ins[i]);
    admin_stop(adm);
    for (size_t i = 0; i < cfg->n_instances; i++)
        instance_free(ins[i]);
    free(ins);
    mysql_library_end();
    log_info("MAIN", NULL, "stopped");
    log_close();
    config_free(cfg);
    return rc;
}

int daemon_status(const char *addr, int json)
{
    struct err err = {0};
    char host[256];
    int port;
    if (admin_parse_addr(addr, host, sizeof(host), &port, &err)) {
        fprintf(stderr, "sluice status: %s\n", err.msg);
        return 2;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int gr = getaddrinfo(host, ps, &hints, &ai);
    if (gr) {
        fprintf(stderr, "sluice status: %s: %s\n", addr, gai_strerror(gr));
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr,
                "sluice status: no sluice daemon answers at %s: %s (is `sluice run` running? "
                "give its admin.listen with --admin HOST:PORT or --config FILE)\n",
                addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", json ? "/status" : "/status.txt");
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        fprintf(stderr, "sluice status: could not send to %s: %s\n", addr, strerror(errno));
        close(fd);
        return 1;
    }
    struct strbuf sb = {0};
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) {
            fprintf(stderr, "sluice status: %s did not answer within 5 s\n", addr);
            close(fd);
            strbuf_free(&sb);
            return 1;
        }
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        strbuf_append(&sb, buf, (size_t)r);
    }
    close(fd);
    const char *body = sb.buf ? strstr(sb.buf, "\r\n\r\n") : NULL;
    if (body == NULL || strncmp(sb.buf, "HTTP/1.0 200", 12) != 0) {
        fprintf(stderr, "sluice status: unexpected answer from %s\n", addr);
        strbuf_free(&sb);
        return 1;
    }
    fputs(body + 4, stdout);
    strbuf_free(&sb);
    return 0;
}
