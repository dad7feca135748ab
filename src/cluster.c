/*
 * cluster.c — owner election and fencing for one instance in cluster mode (see cluster.h and
 * docs/cluster.md).
 *
 * Election (the ZooKeeper "leader election" recipe, as canal's ServerRunningMonitor but with a
 * queue instead of a single node): each daemon creates an EPHEMERAL_SEQUENTIAL node
 * `{instance node}/running/n-NNNNNNNNNN` holding `node=NAME\nadmin=HOST:PORT\nepoch=NNN\n`. The
 * lowest sequence owns the instance; every other candidate watches only the node just below its
 * own (no herd effect) and looks again when it goes. The epoch is the sequence number + 1: it grows
 * with every candidacy, so a newer owner always has a greater epoch, and it is stamped into the
 * position record the owner writes.
 *
 * Fencing. An owner may only write (sink output, positions) while it is sure its session
 * lives. The lease thread issues a synchronous exists() on the owner's node every timeout/6;
 * an answer proves the server heard from the session after the request was sent, so the
 * session cannot expire before send time + timeout. cluster_fenced() is true from send time +
 * 2/3 timeout on without a newer answer, i.e. well before a standby can win: the instance checks
 * it before every sink append, batch and position save. A process frozen (SIGSTOP) past the
 * timeout sees its lease stale the moment it runs again, before its ZooKeeper thread has even
 * noticed the expiry. Position writes are in addition version-checked and conditional on the
 * owner's node (meta/zk.c), so even a write that passed the check cannot land after a takeover.
 *
 * Threads: the instance thread runs acquire/release; the lease thread only stores atomics; the
 * ZooKeeper watcher on the library's thread only sets the `changed` flag (STYLE 16).
 */
#ifndef THREADED
#define THREADED
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "clock.h"
#include "cluster.h"
#include "log.h"
#include "members.h"
#include "strbuf.h"
#include "xmalloc.h"
#include "../meta/zk.h"
#include "../meta/zk_session.h"

#define FAC "ZK"

struct cluster {
    struct pos_store *st;
    struct members *members;          /* borrowed */
    char *node_name, *admin, *server; /* server: the client protocol's address, "" when none */
    char *running;                    /* {instance node}/running */
    char *mine;                       /* my election node (full path), NULL when none */
    uint64_t epoch;                   /* my node's sequence number, 0 when not owner */
    atomic_bool owner;                /* between a successful acquire and release */
    atomic_bool lost;                 /* the lease thread found my node gone */
    atomic_bool changed;              /* a watched node changed (the watcher) */
    atomic_bool foreign;              /* the lease thread saw the record written by someone else */
    char foreign_who[300];            /* written by the lease thread before foreign is set */
    _Atomic uint64_t ok_ms;           /* send time of the last exists() answered while owner */
    int timeout_ms;
    pthread_t lease;
    bool lease_running;
    atomic_bool lease_stop;
    char reason[512];
};

struct cluster *cluster_new(struct pos_store *st,
                            struct members *members,
                            const char *node,
                            const char *admin,
                            const char *server)
{
    struct cluster *cl = xcalloc(1, sizeof(*cl));
    cl->st = st;
    cl->members = members;
    cl->node_name = xstrdup(node ? node : "");
    cl->admin = xstrdup(admin ? admin : "");
    cl->server = xstrdup(server ? server : "");
    /* A wildcard listen address is no address for a client: publish the host name instead. */
    const char *colon = strrchr(cl->server, ':');
    if (colon && (strncmp(cl->server, "0.0.0.0:", 8) == 0 || strncmp(cl->server, "[::]:", 5) == 0 ||
                  strncmp(cl->server, "*:", 2) == 0)) {
        char host[256] = "localhost", addr[300];
        gethostname(host, sizeof(host) - 1);
        snprintf(addr, sizeof(addr), "%s%s", host, colon);
        free(cl->server);
        cl->server = xstrdup(addr);
    }
    struct strbuf sb = {0};
    strbuf_printf(&sb, "%s/running", pos_store_zk_node(st));
    cl->running = xstrdup(sb.buf);
    strbuf_free(&sb);
    atomic_init(&cl->owner, false);
    atomic_init(&cl->lost, false);
    atomic_init(&cl->changed, false);
    atomic_init(&cl->foreign, false);
    atomic_init(&cl->ok_ms, 0);
    atomic_init(&cl->lease_stop, false);
    return cl;
}

void cluster_free(struct cluster *cl)
{
    if (cl == NULL)
        return;
    free(cl->node_name);
    free(cl->admin);
    free(cl->server);
    free(cl->running);
    free(cl->mine);
    free(cl);
}

/* On the library's thread. The context is the cluster, which outlives the session (the store
 * is closed first). */
static void watch_fn(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)type;
    (void)state;
    (void)path;
    atomic_store(&((struct cluster *)ctx)->changed, true);
}

static void *lease_main(void *arg)
{
    struct cluster *cl = arg;
    unsigned every = (unsigned)cl->timeout_ms / 6;
    while (!atomic_load(&cl->lease_stop)) {
        uint64_t sent = clock_mono_ms();
        struct Stat stat;
        int rc = zoo_exists(pos_store_zk_handle(cl->st), cl->mine, 0, &stat);
        if (rc == ZOK && stat.ephemeralOwner != 0)
            atomic_store(&cl->ok_ms, sent);
        else if (rc == ZNONODE)
            atomic_store(&cl->lost, true);
        if (rc == ZOK && !atomic_load(&cl->foreign) &&
            pos_store_zk_foreign_write(cl->st, cl->foreign_who, sizeof(cl->foreign_who)))
            atomic_store(&cl->foreign, true);
        /* Sleep in small steps so that release() does not wait long. */
        for (unsigned t = 0; t < every && !atomic_load(&cl->lease_stop); t += 50)
            clock_sleep_ms(50);
    }
    return NULL;
}

bool cluster_fenced(struct cluster *cl)
{
    if (cl == NULL || !atomic_load(&cl->owner))
        return false;
    if (atomic_load(&cl->lost)) {
        snprintf(cl->reason, sizeof(cl->reason),
                 "lost the ZooKeeper session (the election node %s is gone)", cl->mine);
        return true;
    }
    if (pos_store_zk_expired(cl->st)) {
        snprintf(cl->reason, sizeof(cl->reason), "lost the ZooKeeper session (it expired)");
        return true;
    }
    if (atomic_load(&cl->foreign)) {
        snprintf(cl->reason, sizeof(cl->reason),
                 "the positions were rewritten by %s: restarting from them", cl->foreign_who);
        return true;
    }
    uint64_t ok = atomic_load(&cl->ok_ms), now = clock_mono_ms();
    if (now - ok > (uint64_t)cl->timeout_ms * 2 / 3) {
        snprintf(cl->reason, sizeof(cl->reason),
                 "lost the ZooKeeper session (no answer from ZooKeeper for %llu ms, session "
                 "timeout %d ms)",
                 (unsigned long long)(now - ok), cl->timeout_ms);
        return true;
    }
    return false;
}

const char *cluster_fence_reason(struct cluster *cl)
{
    return cl->reason;
}

uint64_t cluster_epoch(const struct cluster *cl)
{
    return atomic_load(&cl->owner) ? cl->epoch : 0;
}

void cluster_release(struct cluster *cl)
{
    if (cl->lease_running) {
        atomic_store(&cl->lease_stop, true);
        pthread_join(cl->lease, NULL);
        cl->lease_running = false;
    }
    if (atomic_exchange(&cl->owner, false) && cl->members)
        members_gave(cl->members, cl->st->instance);
    pos_store_zk_set_owner(cl->st, NULL, 0, NULL);
    if (cl->mine && !pos_store_zk_expired(cl->st))
        zoo_delete(pos_store_zk_handle(cl->st), cl->mine, -1); /* gone already is fine */
    free(cl->mine);
    cl->mine = NULL;
    cl->epoch = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Creates my election node. Returns a ZooKeeper code. */
static int create_mine(struct cluster *cl, zhandle_t *zh)
{
    char path[1024], data[512];
    snprintf(path, sizeof(path), "%s/n-", cl->running);
    int n = snprintf(data, sizeof(data), "node=%s\nadmin=%s\nserver=%s\n", cl->node_name, cl->admin,
                     cl->server);
    int rc = zoo_create(zh, cl->running, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (rc != ZOK && rc != ZNODEEXISTS)
        return rc;
    char made[1024];
    rc = zoo_create(zh, path, data, n, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, made,
                    sizeof(made));
    if (rc == ZOK) {
        free(cl->mine);
        cl->mine = xstrdup(made);
    }
    return rc;
}

/* The daemon names (node=) of the election nodes kids[from..], sorted already: the candidates
 * waiting behind. Returns how many were read into names (each freed by free_names). */
static size_t candidates(
    struct cluster *cl, zhandle_t *zh, const struct String_vector *kids, int from, char ***names)
{
    *names = xcalloc((size_t)(kids->count > 0 ? kids->count : 1), sizeof(char *));
    size_t n = 0;
    for (int i = from; i < kids->count; i++) {
        char path[1024], buf[512], name[256];
        int len = sizeof(buf) - 1;
        snprintf(path, sizeof(path), "%s/%s", cl->running, kids->data[i]);
        if (zoo_get(zh, path, 0, buf, &len, NULL) != ZOK || len < 0)
            continue;
        buf[len] = '\0';
        zk_field(buf, "node", name, sizeof(name));
        if (name[0] && strcmp(name, cl->node_name) != 0)
            (*names)[n++] = xstrdup(name);
    }
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

bool cluster_hand_over(struct cluster *cl, char *to, size_t tosz)
{
    if (cl == NULL || cl->members == NULL || !atomic_load(&cl->owner))
        return false;
    zhandle_t *zh = pos_store_zk_handle(cl->st);
    struct String_vector kids = {0, NULL};
    if (!pos_store_zk_connected(cl->st) || zoo_get_children(zh, cl->running, 0, &kids) != ZOK)
        return false;
    qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
    char **names;
    size_t n = candidates(cl, zh, &kids, 1, &names);
    deallocate_String_vector(&kids);
    bool r = n && members_hand_over(cl->members, cl->st->instance, (const char *const *)names, n,
                                    to, tosz);
    free_names(names, n);
    return r;
}

int cluster_owner(struct pos_store *st, char *node, size_t nodesz, char *admin, size_t adminsz)
{
    node[0] = admin[0] = '\0';
    zhandle_t *zh = pos_store_zk_handle(st);
    char running[1024];
    snprintf(running, sizeof(running), "%s/running", pos_store_zk_node(st));
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(zh, running, 0, &kids);
    if (rc == ZNONODE)
        return 0;
    if (rc != ZOK)
        return -1;
    qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
    int r = 0;
    for (int i = 0; i < kids.count && r == 0; i++) {
        char path[1300], buf[512];
        int len = sizeof(buf) - 1;
        snprintf(path, sizeof(path), "%s/%s", running, kids.data[i]);
        if (zoo_get(zh, path, 0, buf, &len, NULL) != ZOK || len < 0)
            continue; /* gone meanwhile: the next one */
        buf[len] = '\0';
        zk_field(buf, "node", node, nodesz);
        zk_field(buf, "admin", admin, adminsz);
        r = 1;
    }
    deallocate_String_vector(&kids);
    return r;
}

/* Deletes election nodes of this node name other than mine: left by an earlier session of this
 * daemon (killed, or cut off and since expired or not), they would block it forever. */
static void drop_old_mine(struct cluster *cl, zhandle_t *zh, const struct String_vector *kids)
{
    const char *base = strrchr(cl->mine, '/') + 1;
    for (int i = 0; i < kids->count; i++) {
        if (strcmp(kids->data[i], base) == 0)
            continue;
        char path[1024], buf[512];
        int len = sizeof(buf) - 1;
        snprintf(path, sizeof(path), "%s/%s", cl->running, kids->data[i]);
        if (zoo_get(zh, path, 0, buf, &len, NULL) != ZOK || len < 0)
            continue;
        buf[len] = '\0';
        char want[300];
        snprintf(want, sizeof(want), "node=%s\n", cl->node_name);
        if (strncmp(buf, want, strlen(want)) == 0) {
            log_info(FAC, cl->st->instance, "removing %s, left by an earlier session of %s", path,
                     cl->node_name);
            zoo_delete(zh, path, -1);
        }
    }
}

int cluster_acquire(struct cluster *cl, atomic_bool *stop, struct err *err)
{
    (void)err;
    const char *inst = cl->st->instance;
    bool told = false;
    char last_pred[256] = "";
    cluster_release(cl);
    atomic_store(&cl->lost, false);
    atomic_store(&cl->foreign, false);
    while (!atomic_load(stop)) {
        struct err e = {0};
        if (pos_store_zk_expired(cl->st)) {
            free(cl->mine);
            cl->mine = NULL;
            if (pos_store_zk_renew(cl->st, &e)) {
                if (!told)
                    log_warn(FAC, inst, "%s; retrying", e.msg);
                told = true;
                clock_sleep_ms(500);
                continue;
            }
            told = false;
        }
        zhandle_t *zh = pos_store_zk_handle(cl->st);
        int rc = ZOK;
        if (cl->mine == NULL)
            rc = create_mine(cl, zh);
        struct String_vector kids = {0, NULL};
        if (rc == ZOK)
            rc = zoo_get_children(zh, cl->running, 0, &kids);
        if (rc != ZOK) {
            if (!told)
                log_warn(FAC, inst, "election under %s: %s; retrying", cl->running, zerror(rc));
            told = true;
            deallocate_String_vector(&kids);
            clock_sleep_ms(500);
            continue;
        }
        qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
        const char *base = strrchr(cl->mine, '/') + 1;
        int at = -1;
        for (int i = 0; i < kids.count; i++)
            if (strcmp(kids.data[i], base) == 0)
                at = i;
        if (at < 0) { /* my node is gone (an expiry in between): stand again */
            free(cl->mine);
            cl->mine = NULL;
            deallocate_String_vector(&kids);
            continue;
        }
        if (at > 0) {
            drop_old_mine(cl, zh, &kids);
            char pred[1024];
            snprintf(pred, sizeof(pred), "%s/%s", cl->running, kids.data[at - 1]);
            if (strcmp(last_pred, kids.data[at - 1]) != 0) {
                char buf[512] = "";
                int len = sizeof(buf) - 1;
                if (zoo_get(zh, pred, 0, buf, &len, NULL) == ZOK && len >= 0)
                    buf[len] = '\0';
                for (char *p = buf; *p; p++)
                    if (*p == '\n')
                        *p = ' ';
                log_info(FAC, inst, "standby behind %s (%s)", kids.data[at - 1], buf);
                snprintf(last_pred, sizeof(last_pred), "%s", kids.data[at - 1]);
            }
            deallocate_String_vector(&kids);
            atomic_store(&cl->changed, false);
            struct Stat stat;
            rc = zoo_wexists(zh, pred, watch_fn, cl, &stat);
            if (rc == ZNONODE)
                continue;
            /* Wait for the watch, a session problem, or stop; look again now and then anyway. */
            for (int t = 0; t < 40 && !atomic_load(&cl->changed) && !atomic_load(stop) &&
                            !pos_store_zk_expired(cl->st);
                 t++)
                clock_sleep_ms(50);
            continue;
        }
        /* Lowest. Past this daemon's fair share, with a candidate behind that is below its
         * own, go to the back of the line instead (members.h). */
        char **names, to[300];
        size_t nn = cl->members ? candidates(cl, zh, &kids, 1, &names) : 0;
        bool defer =
            nn && members_defer(cl->members, inst, (const char *const *)names, nn, to, sizeof(to));
        if (cl->members)
            free_names(names, nn);
        deallocate_String_vector(&kids);
        if (defer) {
            log_info(FAC, inst, "leaving the instance to %s: this daemon has its fair share", to);
            zoo_delete(zh, cl->mine, -1);
            free(cl->mine);
            cl->mine = NULL;
            last_pred[0] = '\0';
            continue;
        }
        /* Owner. The epoch is my sequence number + 1. */
        cl->epoch = strtoull(base + 2, NULL, 10) + 1; /* 0 means none */
        char data[512];
        int n = snprintf(data, sizeof(data), "node=%s\nadmin=%s\nserver=%s\nepoch=%llu\n",
                         cl->node_name, cl->admin, cl->server, (unsigned long long)cl->epoch);
        uint64_t sent = clock_mono_ms();
        rc = zoo_set(zh, cl->mine, data, n, -1);
        if (rc != ZOK) {
            log_warn(FAC, inst, "could not write %s: %s; retrying", cl->mine, zerror(rc));
            clock_sleep_ms(500);
            continue;
        }
        cl->timeout_ms = pos_store_zk_timeout_ms(cl->st);
        atomic_store(&cl->ok_ms, sent);
        atomic_store(&cl->lost, false);
        pos_store_zk_set_owner(cl->st, cl->node_name, cl->epoch, cl->mine);
        atomic_store(&cl->lease_stop, false);
        if (pthread_create(&cl->lease, NULL, lease_main, cl) != 0) {
            pos_store_zk_set_owner(cl->st, NULL, 0, NULL);
            return err_set(err, ERR_POS_STORE, "could not start the lease thread");
        }
        cl->lease_running = true;
        atomic_store(&cl->owner, true);
        if (cl->members)
            members_took(cl->members, inst);
        log_info(FAC, inst, "owner: %s is the lowest under %s (epoch %llu, session timeout %d ms)",
                 cl->node_name, cl->running, (unsigned long long)cl->epoch, cl->timeout_ms);
        return 0;
    }
    return 1;
}
