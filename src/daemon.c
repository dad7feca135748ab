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
#include "server.h"
#include "../sinks/hub.h"
#include "log.h"
#include "xmalloc.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

/* Catching up: while an instance streams more than CATCHUP_LAG_S behind the server, one log
 * line every CATCHUP_EVERY_S seconds says how far behind it is and how fast it reads, so a long
 * catch-up (a restart after a day away, a reset by timestamp) shows progress on the terminal
 * and in the log; one line says when it has caught up. */
#define CATCHUP_LAG_S   60
#define CATCHUP_EVERY_S 10

struct catchup {
    bool active;
    time_t last;
    uint64_t rows_at_last;
};

static void report_catchup(struct instance *in, struct catchup *cu)
{
    struct instance_metrics m;
    instance_metrics(in, &m);
    free(m.sinks);
    time_t now = time(NULL);
    bool behind = m.state == INSTANCE_STREAMING && m.lag_seconds > CATCHUP_LAG_S;
    if (behind && !cu->active) {
        cu->active = true;
        cu->last = now;
        cu->rows_at_last = m.rows;
        log_info("MAIN", m.name, "catching up: %lld s behind the server", (long long)m.lag_seconds);
    } else if (behind && now - cu->last >= CATCHUP_EVERY_S) {
        double rate = (double)(m.rows - cu->rows_at_last) / (double)(now - cu->last);
        log_info("MAIN", m.name,
                 "catching up: %lld s behind the server, %.0f rows/s, at binlog file #%lld "
                 "offset %llu",
                 (long long)m.lag_seconds, rate, (long long)m.consumed_file_index,
                 (unsigned long long)m.consumed_offset);
        cu->last = now;
        cu->rows_at_last = m.rows;
    } else if (!behind && cu->active && m.state == INSTANCE_STREAMING) {
        cu->active = false;
        log_info("MAIN", m.name, "caught up (%lld s behind)", (long long)m.lag_seconds);
    }
}

int daemon_run(const char *config_path, const char *admin_listen)
{
    struct err err = {0};
    struct config *cfg = config_load(config_path, &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        return 1;
    }
    return daemon_run_config(cfg, admin_listen);
}

int daemon_run_config(struct config *cfg, const char *admin_listen)
{
    struct err err = {0};
    if (admin_listen) { /* what the cluster registration and election nodes publish too */
        free(cfg->admin.listen);
        cfg->admin.listen = xstrdup(admin_listen);
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
    /* server: the client protocol server, fed by one hub per instance (created before the
     * instances start: each opens its hub as a sink). */
    struct server *srv = NULL;
    for (size_t i = 0; cfg->server.listen && i < cfg->n_instances && err.code == 0; i++)
        hub_create(&cfg->instances[i], cfg->data_dir, &err);
    if (cfg->server.listen && err.code == 0)
        srv = server_start(cfg, &err);
    if (cfg->server.listen && srv == NULL) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        admin_stop(adm);
        hub_destroy_all();
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
    struct catchup *cu = xcalloc(started ? started : 1, sizeof(*cu));
    while (rc == 0) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        for (size_t i = 0; i < started; i++) {
            instance_watchdog(ins[i]);
            report_catchup(ins[i], &cu[i]);
        }
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
    free(cu);
    for (size_t i = 0; i < started; i++)
        instance_request_stop(ins[i]);
    for (size_t i = 0; i < started; i++)
        instance_join(ins[i]);
    server_stop(srv); /* after the instances: no hub writes to its wake pipe any more */
    admin_stop(adm);
    for (size_t i = 0; i < cfg->n_instances; i++)
        instance_free(ins[i]);
    hub_destroy_all(); /* after instance_free, which closes the hub sinks */
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
    struct strbuf body = {0};
    int code = 0;
    if (admin_get(addr, json ? "/status" : "/status.txt", &code, &body, &err)) {
        fprintf(stderr, "sluice status: %s\n", err.msg);
        strbuf_free(&body);
        return err.code == ERR_CONFIG ? 2 : 1;
    }
    if (code != 200) {
        fprintf(stderr, "sluice status: %s answered %d\n", addr, code);
        strbuf_free(&body);
        return 1;
    }
    if (body.len)
        fwrite(body.buf, 1, body.len, stdout);
    strbuf_free(&body);
    return 0;
}
