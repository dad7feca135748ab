/*
 * discover.c — libsluice's cluster discovery: which daemon runs an instance, read from the
 * instance's election nodes in ZooKeeper (docs/cluster.md, docs/protocol.md "Cluster mode").
 *
 * {path}/instances/{instance}/running holds one EPHEMERAL_SEQUENTIAL node per daemon standing
 * for the instance; the lowest sequence is the owner, and its data has a `server=HOST:PORT`
 * line: the owner's client protocol address. Each call opens a short ZooKeeper session of its
 * own and closes it: discovery happens at connect and after a failover, not per request.
 *
 * Threads: reentrant (no state outside the call).
 */
#ifndef THREADED
#define THREADED
#endif
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#include "clock.h"
#include "discover.h"

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    if (type == ZOO_SESSION_EVENT)
        atomic_store((atomic_int *)ctx, state);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The value of `key=` in lines of text, into out; 0 when absent. */
static int field(const char *text, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
            size_t n = strcspn(l + kl + 1, "\n");
            if (n >= outsz)
                return 0;
            memcpy(out, l + kl + 1, n);
            out[n] = '\0';
            return n > 0;
        }
    return 0;
}

/* One look. 1: found (host, port); 0: no owner with a server address yet (why says so); -1:
 * ZooKeeper error (why). */
static int look(zhandle_t *zh,
                const char *running,
                char *host,
                size_t hostsz,
                int *port,
                char *why,
                size_t whysz)
{
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(zh, running, 0, &kids);
    if (rc == ZNONODE) {
        snprintf(why, whysz, "no daemon stands for the instance (%s missing)", running);
        return 0;
    }
    if (rc != ZOK) {
        snprintf(why, whysz, "could not list %s: %s", running, zerror(rc));
        return -1;
    }
    int r = 0;
    snprintf(why, whysz, "no daemon runs the instance (%s is empty)", running);
    qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
    for (int i = 0; i < kids.count && r == 0; i++) {
        char path[1400], buf[1024], node[256] = "", server[300] = "";
        int len = sizeof(buf) - 1;
        snprintf(path, sizeof(path), "%s/%s", running, kids.data[i]);
        if (zoo_get(zh, path, 0, buf, &len, NULL) != ZOK || len < 0)
            continue; /* gone meanwhile: the next one is the owner now */
        buf[len] = '\0';
        field(buf, "node", node, sizeof(node));
        if (!field(buf, "server", server, sizeof(server))) {
            snprintf(why, whysz,
                     "the owner, daemon %s, has no client protocol server (server: "
                     "not configured)",
                     node[0] ? node : "?");
            break;
        }
        char *colon = strrchr(server, ':');
        long p = colon ? strtol(colon + 1, NULL, 10) : 0;
        if (colon == NULL || colon == server || p <= 0 || p > 65535) {
            snprintf(why, whysz, "the owner, daemon %s, gives a bad server address \"%s\"", node,
                     server);
            break;
        }
        *colon = '\0';
        const char *h = server;
        if (h[0] == '[') { /* [v6]:port */
            h++;
            char *e = strchr(h, ']');
            if (e)
                *e = '\0';
        }
        if (strlen(h) >= hostsz) {
            snprintf(why, whysz, "server address \"%s\" too long", h);
            break;
        }
        snprintf(host, hostsz, "%s", h);
        *port = (int)p;
        r = 1;
    }
    deallocate_String_vector(&kids);
    return r;
}

int sluice_discover(const char *zk_servers,
                    const char *zk_path,
                    const char *instance,
                    int timeout_ms,
                    char *host,
                    size_t hostsz,
                    int *port,
                    char *why,
                    size_t whysz)
{
    atomic_int state;
    atomic_init(&state, 0);
    zoo_set_debug_level((ZooLogLevel)0);
    zhandle_t *zh =
        zookeeper_init(zk_servers, watcher, timeout_ms < 4000 ? 4000 : timeout_ms, NULL, &state, 0);
    if (zh == NULL) {
        snprintf(why, whysz, "ZooKeeper \"%s\": %s", zk_servers, strerror(errno));
        return -1;
    }
    uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
    while (atomic_load(&state) != ZOO_CONNECTED_STATE && clock_mono_ms() < end)
        clock_sleep_ms(20);
    int r = -1;
    if (atomic_load(&state) != ZOO_CONNECTED_STATE) {
        snprintf(why, whysz, "could not reach ZooKeeper at \"%s\" within %d ms", zk_servers,
                 timeout_ms);
        goto out;
    }
    char running[1024];
    snprintf(running, sizeof(running), "%s/instances/%s/running",
             strcmp(zk_path, "/") == 0 ? "" : zk_path, instance);
    /* Until the timeout: an owner may be on its way (a failover in progress). */
    for (;;) {
        r = look(zh, running, host, hostsz, port, why, whysz);
        if (r != 0 || clock_mono_ms() >= end)
            break;
        clock_sleep_ms(200);
    }
out:
    zookeeper_close(zh);
    return r;
}
