/*
 * zk_session.c — a ZooKeeper session and small helpers (see zk_session.h).
 *
 * The watcher runs on the client library's completion thread: it only stores atomics and, for
 * node events, calls the owner's on_event, which must do no more than that (STYLE 16).
 */
#ifndef THREADED
#define THREADED
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#include "clock.h"
#include "zk_session.h"
#include "log.h"
#include "xmalloc.h"

#define MAX_DATA_SZ (1024 * 1024)

/* The client library's log, routed into ours (debug: its connect retries are noisy). */
static void zk_log(const char *message)
{
    log_debug("ZK", NULL, "%s", message);
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    struct zk_session *s = ctx;
    if (s == NULL)
        return;
    if (type != ZOO_SESSION_EVENT) {
        if (s->on_event)
            s->on_event(type, path, s->opaque);
        return;
    }
    atomic_store(&s->state, state);
    if (state == ZOO_CONNECTED_STATE)
        atomic_store(&s->last_conn_ms, clock_mono_ms());
    else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
        atomic_store(&s->expired, true);
}

int zk_session_open(struct zk_session *s, const char *servers, int timeout_ms, struct err *err)
{
    void (*on_event)(int, const char *, void *) = s->on_event;
    void *opaque = s->opaque;
    memset(s, 0, sizeof(*s));
    s->on_event = on_event;
    s->opaque = opaque;
    s->servers = xstrdup(servers);
    s->timeout_ms = timeout_ms;
    atomic_init(&s->state, 0);
    atomic_init(&s->expired, false);
    atomic_init(&s->last_conn_ms, 0);
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    s->zh = zookeeper_init2(servers, watcher, timeout_ms, NULL, s, 0, zk_log);
    if (s->zh == NULL) {
        int e = errno;
        zk_session_close(s);
        return err_set(err, ERR_POS_STORE, "ZooKeeper servers \"%s\": %s", servers, strerror(e));
    }
    uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
    while (atomic_load(&s->state) != ZOO_CONNECTED_STATE) {
        if (clock_mono_ms() >= end || atomic_load(&s->expired)) {
            zk_session_close(s);
            return err_set(err, ERR_POS_STORE,
                           "could not reach ZooKeeper at \"%s\" within %d ms (is it running?)",
                           servers, timeout_ms);
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

void zk_session_close(struct zk_session *s)
{
    if (s->zh)
        zookeeper_close(s->zh);
    s->zh = NULL;
    atomic_store(&s->expired, true);
    free(s->servers);
    s->servers = NULL;
}

bool zk_session_expired(struct zk_session *s)
{
    return s->zh == NULL || atomic_load(&s->expired);
}

int zk_ensure_path(struct zk_session *s, const char *path, struct err *err)
{
    char *p = xstrdup(path);
    int r = 0;
    for (char *c = strchr(p + 1, '/');; c = strchr(c + 1, '/')) {
        if (c)
            *c = '\0';
        int rc = zoo_create(s->zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        if (rc != ZOK && rc != ZNODEEXISTS) {
            r = err_set(err, ERR_POS_STORE, "ZooKeeper at \"%s\": could not create \"%s\": %s",
                        s->servers, p, zerror(rc));
            break;
        }
        if (c == NULL)
            break;
        *c = '/';
    }
    free(p);
    return r;
}

int zk_get_string(struct zk_session *s, const char *path, char **out)
{
    *out = NULL;
    char small[4096];
    int len = sizeof(small) - 1;
    struct Stat st;
    int rc = zoo_get(s->zh, path, 0, small, &len, &st);
    if (rc != ZOK)
        return rc;
    if (st.dataLength < (int)sizeof(small)) {
        if (len < 0)
            len = 0;
        small[len] = '\0';
        *out = xstrdup(small);
        return ZOK;
    }
    /* Larger than the stack buffer: once more with the size the stat gave. */
    int cap = st.dataLength + 1 > MAX_DATA_SZ ? MAX_DATA_SZ : st.dataLength + 1;
    char *buf = xmalloc((size_t)cap + 1);
    len = cap;
    rc = zoo_get(s->zh, path, 0, buf, &len, &st);
    if (rc != ZOK) {
        free(buf);
        return rc;
    }
    buf[len < 0 ? 0 : len] = '\0';
    *out = buf;
    return ZOK;
}

void zk_field(const char *text, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
            const char *v = l + kl + 1;
            size_t n = strcspn(v, "\n");
            if (n >= outsz)
                n = outsz - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
    }
}
