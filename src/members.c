/*
 * members.c — cluster membership and fair shares (see members.h and docs/cluster.md).
 *
 * Registration: `{root}/{cluster}/daemons/{node}`, EPHEMERAL, data
 *     node=NAME  admin=HOST:PORT  weight=W  pid=P  version=V  config=CHECKSUM  owned=a,b
 * one `key=value` a line; written when created and whenever the owned set changes. A node of
 * the same name left by an earlier session of this daemon (kill -9 and restart within the
 * session timeout) is replaced, with a warning: two live daemons must not share a name.
 *
 * Invariants: `owned` (under mu) is the set of instances this daemon owns or is about to
 * own; members_defer and members_hand_over decide under mu against it, so concurrent instance
 * threads never give away more than the excess over the share. The view of the other daemons
 * (`peers`) is replaced as a whole under mu by the thread; a daemon absent from it is not live.
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
#include "log.h"
#include "members.h"
#include "strbuf.h"
#include "version.h"
#include "xmalloc.h"
#include "../meta/zk_session.h"

#define FAC            "CLUSTER"
#define REFRESH_MS     1000
#define DEFER_PAUSE_MS 5000

struct peer {
    char *name;
    unsigned weight, owned;
};

struct members {
    struct members *next; /* in the process-wide list */
    int refs;
    char *servers, *root, *cluster, *node, *admin, *checksum;
    unsigned weight, n_instances;
    int timeout_ms;
    char *dir;  /* {root}/{cluster}/daemons */
    char *mine; /* dir/node */

    pthread_mutex_t mu;
    char **owned;
    size_t nowned;
    struct peer *peers; /* the others, as last read */
    size_t npeers;
    uint64_t last_defer_ms;
    bool dirty; /* owned changed since written */

    pthread_t thread;
    atomic_bool stop, changed;
    struct zk_session zs;
};

static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct members *all;

static void free_peers(struct peer *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].name);
    free(p);
}

/* ---- shares (under mu) ------------------------------------------------------------------- */

static unsigned total_weight(const struct members *m)
{
    unsigned w = m->weight;
    for (size_t i = 0; i < m->npeers; i++)
        w += m->peers[i].weight;
    return w;
}

static unsigned share_of(const struct members *m, unsigned weight)
{
    unsigned long long n = (unsigned long long)m->n_instances * weight, w = total_weight(m);
    return w ? (unsigned)((n + w - 1) / w) : m->n_instances;
}

static const struct peer *peer_find(const struct members *m, const char *name)
{
    for (size_t i = 0; i < m->npeers; i++)
        if (strcmp(m->peers[i].name, name) == 0)
            return &m->peers[i];
    return NULL;
}

/* The first of others that is a live daemon below its share, or NULL. */
static const struct peer *below_share(const struct members *m, const char *const *others, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct peer *p = peer_find(m, others[i]);
        if (p && p->owned < share_of(m, p->weight))
            return p;
    }
    return NULL;
}

static bool owns(const struct members *m, const char *instance, size_t *at)
{
    for (size_t i = 0; i < m->nowned; i++)
        if (strcmp(m->owned[i], instance) == 0) {
            if (at)
                *at = i;
            return true;
        }
    return false;
}

static void drop_owned(struct members *m, size_t at)
{
    free(m->owned[at]);
    m->owned[at] = m->owned[--m->nowned];
    m->dirty = true;
    atomic_store(&m->changed, true);
}

/* A live daemon among others below its share, named with the shares in to (tosz): true, or
 * false when there is none. mu held. */
static bool
pick_below(struct members *m, const char *const *others, size_t n, char *to, size_t tosz)
{
    const struct peer *p = below_share(m, others, n);
    if (p)
        snprintf(to, tosz, "%s (owns %u of its share %u; this daemon %zu of %u)", p->name, p->owned,
                 share_of(m, p->weight), m->nowned, share_of(m, m->weight));
    return p != NULL;
}

bool members_defer(struct members *m,
                   const char *instance,
                   const char *const *others,
                   size_t n,
                   char *to,
                   size_t tosz)
{
    bool r = false;
    pthread_mutex_lock(&m->mu);
    uint64_t now = clock_mono_ms();
    size_t mine = m->nowned + (owns(m, instance, NULL) ? 0 : 1);
    if (mine > share_of(m, m->weight) && now - m->last_defer_ms >= DEFER_PAUSE_MS &&
        pick_below(m, others, n, to, tosz)) {
        m->last_defer_ms = now;
        r = true;
    }
    pthread_mutex_unlock(&m->mu);
    return r;
}

bool members_hand_over(struct members *m,
                       const char *instance,
                       const char *const *others,
                       size_t n,
                       char *to,
                       size_t tosz)
{
    bool r = false;
    size_t at;
    pthread_mutex_lock(&m->mu);
    if (m->nowned > share_of(m, m->weight) && owns(m, instance, &at) &&
        pick_below(m, others, n, to, tosz)) {
        drop_owned(m, at);
        m->last_defer_ms = clock_mono_ms(); /* do not take another one back at once */
        r = true;
    }
    pthread_mutex_unlock(&m->mu);
    return r;
}

void members_took(struct members *m, const char *instance)
{
    pthread_mutex_lock(&m->mu);
    if (!owns(m, instance, NULL)) {
        m->owned = xrealloc(m->owned, (m->nowned + 1) * sizeof(*m->owned));
        m->owned[m->nowned++] = xstrdup(instance);
        m->dirty = true;
        atomic_store(&m->changed, true);
    }
    pthread_mutex_unlock(&m->mu);
}

void members_gave(struct members *m, const char *instance)
{
    size_t at;
    pthread_mutex_lock(&m->mu);
    if (owns(m, instance, &at))
        drop_owned(m, at);
    pthread_mutex_unlock(&m->mu);
}

/* ---- the thread ------------------------------------------------------------------------- */

static void on_event(int type, const char *path, void *opaque)
{
    (void)type;
    (void)path;
    atomic_store(&((struct members *)opaque)->changed, true);
}

static void render(struct members *m, struct strbuf *sb)
{
    strbuf_printf(sb,
                  "node=%s\nadmin=%s\nweight=%u\npid=%ld\nversion=%s\nconfig=%s\nowned=", m->node,
                  m->admin, m->weight, (long)getpid(), SLUICE_VERSION, m->checksum);
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->nowned; i++)
        strbuf_printf(sb, "%s%s", i ? "," : "", m->owned[i]);
    m->dirty = false;
    pthread_mutex_unlock(&m->mu);
    strbuf_appends(sb, "\n");
}

static unsigned count_list(const char *s)
{
    if (*s == '\0')
        return 0;
    unsigned n = 1;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* Reads the other daemons' nodes and replaces the view. Returns a ZooKeeper code. */
static int refresh(struct members *m)
{
    struct String_vector kids = {0, NULL};
    int rc = zoo_wget_children(m->zs.zh, m->dir, NULL, NULL, &kids); /* the session watcher */
    if (rc != ZOK)
        return rc;
    struct peer *peers = xcalloc((size_t)kids.count + 1, sizeof(*peers));
    size_t n = 0;
    for (int i = 0; i < kids.count; i++) {
        if (strcmp(kids.data[i], m->node) == 0)
            continue;
        char path[1024], *data = NULL, v[4096];
        snprintf(path, sizeof(path), "%s/%s", m->dir, kids.data[i]);
        if (zk_get_string(&m->zs, path, &data) != ZOK)
            continue; /* gone meanwhile */
        zk_field(data, "weight", v, sizeof(v));
        unsigned w = (unsigned)strtoul(v, NULL, 10);
        zk_field(data, "owned", v, sizeof(v));
        peers[n].name = xstrdup(kids.data[i]);
        peers[n].weight = w ? w : 1;
        peers[n].owned = count_list(v);
        n++;
        free(data);
    }
    deallocate_String_vector(&kids);
    pthread_mutex_lock(&m->mu);
    free_peers(m->peers, m->npeers);
    m->peers = peers;
    m->npeers = n;
    pthread_mutex_unlock(&m->mu);
    return ZOK;
}

/* Creates (or replaces) the registration. Returns a ZooKeeper code. */
static int register_me(struct members *m)
{
    struct err e = {0};
    if (zk_ensure_path(&m->zs, m->dir, &e))
        return ZCONNECTIONLOSS;
    struct strbuf sb = {0};
    render(m, &sb);
    int rc = zoo_create(m->zs.zh, m->mine, sb.buf, (int)sb.len, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL,
                        NULL, 0);
    if (rc == ZNODEEXISTS) {
        log_warn(FAC, NULL,
                 "%s exists already (an earlier session of this daemon, or another daemon "
                 "named \"%s\": node names must be unique); replacing it",
                 m->mine, m->node);
        zoo_delete(m->zs.zh, m->mine, -1);
        rc = zoo_create(m->zs.zh, m->mine, sb.buf, (int)sb.len, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL,
                        NULL, 0);
    }
    strbuf_free(&sb);
    return rc;
}

static void *members_main(void *arg)
{
    struct members *m = arg;
    bool registered = false, told = false;
    while (!atomic_load(&m->stop)) {
        if (zk_session_expired(&m->zs)) {
            if (m->zs.zh)
                zk_session_close(&m->zs);
            registered = false;
            struct err e = {0};
            m->zs.on_event = on_event;
            m->zs.opaque = m;
            if (zk_session_open(&m->zs, m->servers, m->timeout_ms, &e)) {
                if (!told)
                    log_warn(FAC, NULL, "cluster membership: %s; retrying", e.msg);
                told = true;
                for (int t = 0; t < 20 && !atomic_load(&m->stop); t++)
                    clock_sleep_ms(50);
                continue;
            }
        }
        int rc = ZOK;
        if (!registered) {
            rc = register_me(m);
            registered = rc == ZOK;
            if (registered) {
                log_info(FAC, NULL, "registered as %s (weight %u)", m->mine, m->weight);
                told = false;
            }
        } else {
            pthread_mutex_lock(&m->mu);
            bool dirty = m->dirty;
            pthread_mutex_unlock(&m->mu);
            if (dirty) {
                struct strbuf sb = {0};
                render(m, &sb);
                rc = zoo_set(m->zs.zh, m->mine, sb.buf, (int)sb.len, -1);
                strbuf_free(&sb);
                if (rc == ZNONODE)
                    registered = false;
            }
        }
        atomic_store(&m->changed, false);
        if (rc == ZOK)
            rc = refresh(m);
        if (rc != ZOK && !told) {
            log_warn(FAC, NULL, "cluster membership under %s: %s; retrying", m->dir, zerror(rc));
            told = true;
        }
        for (int t = 0; t < REFRESH_MS / 50 && !atomic_load(&m->stop) &&
                        !atomic_load(&m->changed) && !zk_session_expired(&m->zs);
             t++)
            clock_sleep_ms(50);
    }
    if (m->zs.zh) {
        if (registered && !zk_session_expired(&m->zs))
            zoo_delete(m->zs.zh, m->mine, -1);
        zk_session_close(&m->zs);
    }
    return NULL;
}

/* ---- join / leave ----------------------------------------------------------------------- */

static bool same_cluster(const struct config_instance *a, const struct config_instance *b)
{
    return a->positions.store == CONFIG_STORE_ZOOKEEPER &&
           b->positions.store == CONFIG_STORE_ZOOKEEPER &&
           strcmp(a->positions.servers, b->positions.servers) == 0 &&
           strcmp(a->positions.root, b->positions.root) == 0 &&
           strcmp(a->positions.cluster, b->positions.cluster) == 0;
}

struct members *members_join(const struct config *cfg, const struct config_instance *ic)
{
    const char *servers = ic->positions.servers, *root = ic->positions.root,
               *cluster = ic->positions.cluster;
    pthread_mutex_lock(&all_mu);
    struct members *m = all;
    while (m &&
           (strcmp(m->servers, servers) || strcmp(m->root, root) || strcmp(m->cluster, cluster)))
        m = m->next;
    if (m) {
        m->refs++;
        pthread_mutex_unlock(&all_mu);
        return m;
    }
    m = xcalloc(1, sizeof(*m));
    m->refs = 1;
    m->servers = xstrdup(servers);
    m->root = xstrdup(root);
    m->cluster = xstrdup(cluster);
    m->node = xstrdup(cfg->node.name);
    m->admin = xstrdup(cfg->admin.listen);
    m->checksum = xstrdup(cfg->checksum);
    m->weight = cfg->node.weight ? cfg->node.weight : 1;
    m->timeout_ms = (int)ic->positions.session_timeout_ms;
    for (size_t i = 0; i < cfg->n_instances; i++)
        m->n_instances += same_cluster(ic, &cfg->instances[i]);
    struct strbuf sb = {0};
    strbuf_printf(&sb, "%s/%s/daemons", strcmp(root, "/") == 0 ? "" : root, cluster);
    m->dir = xstrdup(sb.buf);
    strbuf_printf(&sb, "/%s", m->node);
    m->mine = xstrdup(sb.buf);
    strbuf_free(&sb);
    pthread_mutex_init(&m->mu, NULL);
    atomic_init(&m->stop, false);
    atomic_init(&m->changed, false);
    m->zs.zh = NULL;
    atomic_init(&m->zs.expired, true);
    if (pthread_create(&m->thread, NULL, members_main, m) != 0) {
        log_error(FAC, NULL, "could not start the cluster membership thread");
        abort();
    }
    m->next = all;
    all = m;
    pthread_mutex_unlock(&all_mu);
    return m;
}

void members_leave(struct members *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&all_mu);
    if (--m->refs > 0) {
        pthread_mutex_unlock(&all_mu);
        return;
    }
    for (struct members **pp = &all; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    pthread_mutex_unlock(&all_mu);
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    for (size_t i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m->owned);
    free_peers(m->peers, m->npeers);
    pthread_mutex_destroy(&m->mu);
    free(m->servers);
    free(m->root);
    free(m->cluster);
    free(m->node);
    free(m->admin);
    free(m->checksum);
    free(m->dir);
    free(m->mine);
    free(m);
}
