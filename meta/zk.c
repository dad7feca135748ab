/*
 * meta/zk.c — the ZooKeeper position store (libzookeeper_mt, threaded API, synchronous calls).
 *
 * Layout, per instance (`root` and `cluster` from the config):
 *
 *     {root}/{cluster}/instances/{name}              PERSISTENT, empty: the instance node
 *     {root}/{cluster}/instances/{name}/positions    PERSISTENT: the record below
 *     {root}/{cluster}/instances/{name}/running      PERSISTENT parent of the election nodes
 *     {root}/{cluster}/instances/{name}/running/n-0000000007   EPHEMERAL_SEQUENTIAL (cluster.c)
 *     {root}/{cluster}/instances/{name}/schema/r-<version>      PERSISTENT: the schema history's
 *                                                copy, one record a node (see its section below)
 *
 * The record (version 1) is text, `key=value\n` lines, like meta/file.c's without the CRC line
 * (ZooKeeper checksums its own data) and with the writer's identity:
 *
 *     sluice-positions-zk        magic, the first line
 *     version=1
 *     instance=demo              must match the instance that loads it
 *     owner=node-a               node.name of the daemon that wrote it ("" for `sluice position`)
 *     epoch=7                    the writer's election epoch (0 outside an election)
 *     server_uuid=  server_id=1  server_version=10.11.6-MariaDB  schema_version=3
 *     parsed.file= .offset= .gtid= .ts=      consumed.file= .offset= .gtid= .ts=
 *
 * Every key is required once; anything else is ERR_POS_CORRUPT naming the node.
 *
 * Version checks. load() remembers the node's data version; save() is zoo_set with that
 * version (zoo_create when there was no node), so a write from anyone who has not read the
 * latest record fails with ZBADVERSION / ZNODEEXISTS -> ERR_POS_STALE ("another owner wrote the
 * positions since ..."): the instance stops. In owner mode (pos_store_zk_set_owner) the set is
 * a multi-op with a check that the owner's EPHEMERAL node still exists: a daemon whose session
 * expired cannot write even if it read the latest version.
 *
 * Threads: the store's functions run on the owning instance's thread; the session watcher runs
 * on the client library's completion thread and only stores atomics (STYLE 16).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#include "clock.h"
#include "zk.h"
#include "zk_session.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

#define FAC         "ZK"
#define MAGIC       "sluice-positions-zk"
#define VERSION     1
#define MAX_DATA_SZ (64 * 1024)

struct zk_store {
    struct pos_store base; /* first: the store is used through it */
    struct zk_session s;   /* servers, handle, session state (zk_session.h) */
    char *servers;         /* as configured (s.servers is NULL while no session) */
    char *node;            /* {root}/{cluster}/instances/{name} */
    char *pos_path;        /* node + "/positions" */
    int timeout_ms;        /* configured */
    atomic_int version;    /* data version of pos_path last read or written, -1: none seen */
    char *owner;
    uint64_t epoch;
    char *running;  /* owner mode: the EPHEMERAL node that must exist, NULL otherwise */
    bool uncertain; /* a write's answer was lost: the version must be read again */
};

/* Starts a session and waits (at most the session timeout) until it is connected. */
static int connect_session(struct zk_store *zs, struct err *err)
{
    return zk_session_open(&zs->s, zs->servers, zs->timeout_ms, err);
}

static int
zk_fail(struct err *err, const struct zk_store *zs, const char *what, const char *path, int rc)
{
    return err_set(err, ERR_POS_STORE, "ZooKeeper at \"%s\": could not %s \"%s\": %s", zs->servers,
                   what, path, zerror(rc));
}

static void zk_close(struct pos_store *st)
{
    struct zk_store *zs = (struct zk_store *)st;
    zk_session_close(&zs->s);
    free(zs->base.instance);
    free(zs->servers);
    free(zs->node);
    free(zs->pos_path);
    free(zs->owner);
    free(zs->running);
    free(zs);
}

static struct pos_store *zk_open(const struct pos_store_conf *conf, struct err *err)
{
    const char *servers = NULL, *root = "/sluice", *cluster = "default", *tmo = NULL;
    for (size_t i = 0; i < conf->nparams; i++) {
        const struct pos_store_param *p = &conf->params[i];
        if (strcmp(p->key, "servers") == 0) {
            servers = p->value;
        } else if (strcmp(p->key, "root") == 0) {
            root = p->value ? p->value : root;
        } else if (strcmp(p->key, "cluster") == 0) {
            cluster = p->value ? p->value : cluster;
        } else if (strcmp(p->key, "session_timeout_ms") == 0) {
            tmo = p->value;
        } else {
            err_set(err, ERR_CONFIG, "key \"%s\": unknown for position store \"zookeeper\"",
                    p->key);
            return NULL;
        }
    }
    if (servers == NULL || servers[0] == '\0') {
        err_set(err, ERR_CONFIG, "key \"servers\": required for position store \"zookeeper\"");
        return NULL;
    }
    if (root[0] != '/' || (strlen(root) > 1 && root[strlen(root) - 1] == '/') ||
        strchr(cluster, '/') || cluster[0] == '\0') {
        err_set(err, ERR_CONFIG,
                "position store \"zookeeper\": root \"%s\" must be an absolute path without a "
                "final '/', cluster \"%s\" a non-empty name without '/'",
                root, cluster);
        return NULL;
    }
    struct zk_store *zs = xcalloc(1, sizeof(*zs));
    zs->base.ops = &pos_store_zk_ops;
    zs->base.instance = xstrdup(conf->instance);
    zs->servers = xstrdup(servers);
    zs->timeout_ms = tmo ? atoi(tmo) : 10000;
    if (zs->timeout_ms < 1000)
        zs->timeout_ms = 1000;
    atomic_init(&zs->version, -1);
    struct strbuf sb = {0};
    strbuf_printf(&sb, "%s/%s/instances/%s", strcmp(root, "/") == 0 ? "" : root, cluster,
                  conf->instance);
    zs->node = xstrdup(sb.buf);
    strbuf_appends(&sb, "/positions");
    zs->pos_path = xstrdup(sb.buf);
    strbuf_free(&sb);
    if (connect_session(zs, err) || zk_ensure_path(&zs->s, zs->node, err)) {
        zk_close(&zs->base);
        return NULL;
    }
    return &zs->base;
}

/* ---- record text ---- */

/* Runs op, in owner mode in one multi-op behind a check that the owner's EPHEMERAL node still
 * exists. Returns op's ZooKeeper code (or the call's, when op has none); *gone is set when the
 * owner's node is gone (this daemon no longer owns the instance). */
static int owner_op(struct zk_store *zs, zoo_op_t *op, bool *gone)
{
    *gone = false;
    zoo_op_t ops[2];
    zoo_op_result_t res[2];
    memset(res, 0, sizeof(res));
    int n = 0;
    if (zs->running)
        zoo_check_op_init(&ops[n++], zs->running, -1);
    ops[n++] = *op;
    int rc = zoo_multi(zs->s.zh, n, ops, res);
    if (rc == ZOK)
        return ZOK;
    *gone = zs->running && res[0].err == ZNONODE;
    int e = res[n - 1].err;
    return e != ZOK && e != ZRUNTIMEINCONSISTENCY ? e : rc;
}

static int zk_save(struct pos_store *st, const struct pos_store_record *rec, struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    struct strbuf sb = {0};
    struct Stat stat;
    int r = 0, rc;

    if ((r = pos_store_record_check_text(rec, st->instance, err)) != 0)
        goto out;
    if (zk_session_expired(&zs->s)) {
        r = err_set(err, ERR_POS_STALE,
                    "ZooKeeper session to \"%s\" expired: positions of \"%s\" not written",
                    zs->servers, st->instance);
        goto out;
    }
    /* Not connected (ZooKeeper restarting, a network cut): a call would wait for the
     * reconnection. Say so at once; the caller keeps its positions and tries again later. */
    if (atomic_load(&zs->s.state) != ZOO_CONNECTED_STATE) {
        r = err_set(err, ERR_POS_STORE,
                    "ZooKeeper at \"%s\" not connected: positions of \"%s\" "
                    "not written yet",
                    zs->servers, st->instance);
        err->retriable = true;
        goto out;
    }
    /* An earlier write whose answer was lost may have landed: take the record's version when
     * the record is ours (our epoch; nobody else writes it), else the version check decides. */
    if (zs->uncertain && zs->running) {
        char buf[2048], ep[32];
        int len = sizeof(buf) - 1;
        if (zoo_get(zs->s.zh, zs->pos_path, 0, buf, &len, &stat) == ZOK && len >= 0) {
            buf[len] = '\0';
            zk_field(buf, "epoch", ep, sizeof(ep));
            if (strtoull(ep, NULL, 10) == zs->epoch)
                zs->version = stat.version;
            zs->uncertain = false;
        }
    }
    strbuf_printf(&sb, MAGIC "\nversion=%d\ninstance=%s\nowner=%s\nepoch=", VERSION, st->instance,
                  zs->owner ? zs->owner : "");
    strbuf_append_u64(&sb, zs->epoch);
    strbuf_printf(&sb, "\nserver_uuid=%s\nserver_id=%u\nserver_version=%s\nschema_version=",
                  rec->server_uuid, rec->server_id, rec->server_version);
    strbuf_append_u64(&sb, rec->schema_version);
    strbuf_appendc(&sb, '\n');
    pos_store_put_position(&sb, "parsed", &rec->parsed);
    pos_store_put_position(&sb, "consumed", &rec->consumed);

    if (zs->version < 0) {
        /* No record seen: create it; someone else's create makes ours fail (stale). */
        rc = zoo_create(zs->s.zh, zs->pos_path, sb.buf, (int)sb.len, &ZOO_OPEN_ACL_UNSAFE, 0, NULL,
                        0);
        if (rc == ZOK)
            rc = zoo_exists(zs->s.zh, zs->pos_path, 0, &stat);
    } else if (zs->running) {
        zoo_op_t op;
        bool gone;
        zoo_set_op_init(&op, zs->pos_path, sb.buf, (int)sb.len, zs->version, &stat);
        rc = owner_op(zs, &op, &gone);
        if (gone) {
            r = err_set(err, ERR_POS_STALE,
                        "positions of \"%s\" not written: this daemon no longer owns the "
                        "instance (its node \"%s\" is gone)",
                        st->instance, zs->running);
            goto out;
        }
    } else {
        rc = zoo_set2(zs->s.zh, zs->pos_path, sb.buf, (int)sb.len, zs->version, &stat);
    }
    if (rc == ZBADVERSION || rc == ZNODEEXISTS || (rc == ZNONODE && zs->version >= 0)) {
        r = err_set(err, ERR_POS_STALE,
                    "another owner wrote the positions since this daemon read them (node \"%s\", "
                    "version %d seen)",
                    zs->pos_path, zs->version);
        goto out;
    }
    if (rc != ZOK) {
        r = zk_fail(err, zs, "write", zs->pos_path, rc);
        if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) {
            zs->uncertain = true; /* it may have landed */
            err->retriable = true;
        }
        goto out;
    }
    zs->version = stat.version;
out:
    strbuf_free(&sb);
    return r;
}

/* ---- load ---- */

static const char *const key_names[] = {
    "version",       "instance",        "owner",          "epoch",
    "server_uuid",   "server_id",       "server_version", "schema_version",
    "parsed.file",   "parsed.offset",   "parsed.gtid",    "parsed.ts",
    "consumed.file", "consumed.offset", "consumed.gtid",  "consumed.ts",
};
#define NKEYS (sizeof(key_names) / sizeof(key_names[0]))

static int corrupt(struct err *err, const struct zk_store *zs, const char *what)
{
    return err_set(err, ERR_POS_CORRUPT, "ZooKeeper node \"%s\" is corrupt: %s", zs->pos_path,
                   what);
}

/* Applies line k=v to rec; returns false when v is bad for k. */
static bool apply(const struct zk_store *zs, size_t k, const char *v, struct pos_store_record *rec)
{
    uint64_t n;
    struct err gerr;
    struct position *p = k >= 12 ? &rec->consumed : &rec->parsed;
    switch (k) {
    case 0:
        return pos_store_parse_u64(v, UINT32_MAX, &n) && n == VERSION;
    case 1:
        return strcmp(v, zs->base.instance) == 0;
    case 2:
        return true;
    case 3:
        return pos_store_parse_u64(v, UINT64_MAX, &n);
    case 4:
        if (strlen(v) >= sizeof(rec->server_uuid))
            return false;
        strcpy(rec->server_uuid, v);
        return true;
    case 5:
        if (!pos_store_parse_u64(v, UINT32_MAX, &n))
            return false;
        rec->server_id = (uint32_t)n;
        return true;
    case 6:
        if (strlen(v) >= sizeof(rec->server_version))
            return false;
        strcpy(rec->server_version, v);
        return true;
    case 7:
        return pos_store_parse_u64(v, UINT64_MAX, &rec->schema_version);
    case 8:
    case 12:
        return position_set_file(p, v, NULL) == 0;
    case 9:
    case 13:
        return pos_store_parse_u64(v, UINT64_MAX, &p->offset);
    case 10:
    case 14:
        return position_gtid_parse(&p->gtid, v, &gerr) == 0;
    default:
        if (!pos_store_parse_u64(v, UINT32_MAX, &n))
            return false;
        p->ts = (uint32_t)n;
        return true;
    }
}

static int zk_load(struct pos_store *st, struct pos_store_record *rec, struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    struct pos_store_record tmp;
    bool seen[NKEYS] = {false};
    char what[200];
    struct Stat stat;
    int len = MAX_DATA_SZ, r;
    char *buf = xmalloc(MAX_DATA_SZ + 1);

    pos_store_record_init(&tmp);
    if (zk_session_expired(&zs->s)) {
        r = err_set(err, ERR_POS_STORE, "ZooKeeper session to \"%s\" expired", zs->servers);
        goto out;
    }
    int rc = zoo_get(zs->s.zh, zs->pos_path, 0, buf, &len, &stat);
    if (rc == ZNONODE) {
        zs->version = -1;
        r = POS_STORE_NONE;
        goto out;
    }
    if (rc != ZOK) {
        r = zk_fail(err, zs, "read", zs->pos_path, rc);
        goto out;
    }
    if (len < 0)
        len = 0;
    buf[len] = '\0';
    if ((size_t)len != strlen(buf)) {
        r = corrupt(err, zs, "NUL byte in the data");
        goto out;
    }
    const size_t mlen = strlen(MAGIC "\n");
    if ((size_t)len < mlen || memcmp(buf, MAGIC "\n", mlen) != 0) {
        r = corrupt(err, zs, "bad magic (not a sluice position record)");
        goto out;
    }
    for (char *line = buf + mlen; *line;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL) {
            r = corrupt(err, zs, "truncated (no final newline)");
            goto out;
        }
        *nl = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            snprintf(what, sizeof(what), "line \"%.60s\" is not key=value", line);
            r = corrupt(err, zs, what);
            goto out;
        }
        *eq = '\0';
        size_t k = 0;
        while (k < NKEYS && strcmp(key_names[k], line) != 0)
            k++;
        if (k == NKEYS || seen[k]) {
            snprintf(what, sizeof(what), "%s key \"%.60s\"", k == NKEYS ? "unknown" : "repeated",
                     line);
            r = corrupt(err, zs, what);
            goto out;
        }
        seen[k] = true;
        if (!apply(zs, k, eq + 1, &tmp)) {
            snprintf(what, sizeof(what), "bad value \"%.60s\" for %s", eq + 1, key_names[k]);
            r = corrupt(err, zs, what);
            goto out;
        }
        line = nl + 1;
    }
    for (size_t k = 0; k < NKEYS; k++) {
        if (!seen[k]) {
            snprintf(what, sizeof(what), "missing key \"%s\"", key_names[k]);
            r = corrupt(err, zs, what);
            goto out;
        }
    }
    zs->version = stat.version;
    pos_store_record_copy(rec, &tmp);
    r = POS_STORE_LOADED;
out:
    pos_store_record_free(&tmp);
    free(buf);
    return r;
}

/* ---- cluster support (meta/zk.h) ---- */

bool pos_store_zk_is(const struct pos_store *st)
{
    return st && st->ops == &pos_store_zk_ops;
}

void *pos_store_zk_handle(struct pos_store *st)
{
    return ((struct zk_store *)st)->s.zh;
}

const char *pos_store_zk_node(const struct pos_store *st)
{
    return ((const struct zk_store *)st)->node;
}

const char *pos_store_zk_servers(const struct pos_store *st)
{
    return ((const struct zk_store *)st)->servers;
}

int pos_store_zk_timeout_ms(struct pos_store *st)
{
    struct zk_store *zs = (struct zk_store *)st;
    int t = zs->s.zh && atomic_load(&zs->s.state) == ZOO_CONNECTED_STATE
                ? zoo_recv_timeout(zs->s.zh)
                : 0;
    return t > 0 ? t : zs->timeout_ms;
}

bool pos_store_zk_expired(struct pos_store *st)
{
    struct zk_store *zs = (struct zk_store *)st;
    return zk_session_expired(&zs->s);
}

uint64_t pos_store_zk_last_connected_ms(struct pos_store *st)
{
    struct zk_store *zs = (struct zk_store *)st;
    if (atomic_load(&zs->s.state) == ZOO_CONNECTED_STATE)
        return clock_mono_ms();
    return atomic_load(&zs->s.last_conn_ms);
}

int pos_store_zk_renew(struct pos_store *st, struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    zk_session_close(&zs->s);
    zs->version = -1;
    return connect_session(zs, err);
}

void pos_store_zk_set_owner(struct pos_store *st,
                            const char *owner,
                            uint64_t epoch,
                            const char *running_path)
{
    struct zk_store *zs = (struct zk_store *)st;
    free(zs->owner);
    free(zs->running);
    zs->owner = owner ? xstrdup(owner) : NULL;
    zs->running = running_path ? xstrdup(running_path) : NULL;
    zs->epoch = running_path ? epoch : 0;
    zs->uncertain = false;
}

int pos_store_zk_foreign_write(struct pos_store *st, char *who, size_t whosz)
{
    struct zk_store *zs = (struct zk_store *)st;
    char buf[2048];
    int len = sizeof(buf) - 1;
    struct Stat stat;
    if (zk_session_expired(&zs->s) || zoo_get(zs->s.zh, zs->pos_path, 0, buf, &len, &stat) != ZOK ||
        len < 0)
        return 0;
    buf[len] = '\0';
    if (stat.version <= atomic_load(&zs->version))
        return 0;
    char epoch[32], owner[256];
    zk_field(buf, "epoch", epoch, sizeof(epoch));
    if (strtoull(epoch, NULL, 10) == zs->epoch)
        return 0;
    zk_field(buf, "owner", owner, sizeof(owner));
    snprintf(who, whosz, "%s (epoch %s)", owner[0] ? owner : "sluice position reset", epoch);
    return 1;
}

bool pos_store_zk_connected(struct pos_store *st)
{
    struct zk_store *zs = (struct zk_store *)st;
    return !zk_session_expired(&zs->s) && atomic_load(&zs->s.state) == ZOO_CONNECTED_STATE;
}

int pos_store_zk_version(const struct pos_store *st)
{
    return ((const struct zk_store *)st)->version;
}

const struct pos_store_ops pos_store_zk_ops = {
    .abi = POS_STORE_ABI,
    .name = "zookeeper",
    .open = zk_open,
    .load = zk_load,
    .save = zk_save,
    .close = zk_close,
};

/* ---- the schema history's copy (cluster mode) ----
 *
 * {node}/schema/r-NNNNNNNNNNNNNNNNNNNN, one PERSISTENT node per record of the owner's schema
 * history (src/schema.c), holding the record's bytes as in the history file; N is its version,
 * zero-padded so that names sort by version. The owner writes each record before appending it
 * to its own file; a new owner rebuilds its file from records 1..V (V: the schema version stored
 * with the positions) and drops those after V, which belong to events it reads again. */

#define SCHEMA_REC_MAX (1000 * 1024) /* under ZooKeeper's default jute.maxbuffer (1 MiB) */

static void schema_rec_path(const struct zk_store *zs, uint64_t version, struct strbuf *sb)
{
    strbuf_reset(sb);
    strbuf_printf(sb, "%s/schema/r-%020llu", zs->node, (unsigned long long)version);
}

int pos_store_zk_schema_put(
    struct pos_store *st, uint64_t version, const void *rec, size_t len, struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    if (len > SCHEMA_REC_MAX)
        return err_set(err, ERR_POS_STORE,
                       "schema history record %llu of \"%s\" is %zu bytes, more than a "
                       "ZooKeeper node holds (%d)",
                       (unsigned long long)version, st->instance, len, SCHEMA_REC_MAX);
    if (zk_session_expired(&zs->s))
        return err_set(err, ERR_POS_STALE,
                       "ZooKeeper session to \"%s\" expired: schema history of \"%s\" not "
                       "written",
                       zs->servers, st->instance);
    if (atomic_load(&zs->s.state) != ZOO_CONNECTED_STATE) {
        /* As save(): say so at once rather than wait for the reconnection. */
        err_set(err, ERR_POS_STORE,
                "ZooKeeper at \"%s\" not connected: schema history of \"%s\" not written",
                zs->servers, st->instance);
        err->retriable = true;
        return err->code;
    }
    struct strbuf path = {0};
    strbuf_printf(&path, "%s/schema", zs->node);
    int r = zk_ensure_path(&zs->s, path.buf, err);
    schema_rec_path(zs, version, &path);
    for (int attempt = 0; r == 0 && attempt < 2; attempt++) {
        /* Owner mode: only while the owner's EPHEMERAL node exists (as save()). A record of the
         * same version left by an earlier owner is replaced: this owner's history wins. */
        zoo_op_t op;
        bool gone;
        if (attempt == 0)
            zoo_create_op_init(&op, path.buf, rec, (int)len, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        else
            zoo_set_op_init(&op, path.buf, rec, (int)len, -1, NULL);
        int rc = owner_op(zs, &op, &gone);
        if (rc == ZOK)
            break;
        if (gone) {
            r = err_set(err, ERR_POS_STALE,
                        "schema history of \"%s\" not written: this daemon no longer owns the "
                        "instance (its node \"%s\" is gone)",
                        st->instance, zs->running);
        } else if (attempt == 0 && rc == ZNODEEXISTS) {
            continue;
        } else {
            r = zk_fail(err, zs, "write", path.buf, rc);
            err->retriable = rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT;
        }
    }
    strbuf_free(&path);
    return r;
}

int pos_store_zk_schema_get(struct pos_store *st,
                            uint64_t upto,
                            struct strbuf *out,
                            struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    struct strbuf path = {0};
    char *buf = xmalloc(SCHEMA_REC_MAX + 1);
    int r = 1;
    for (uint64_t v = 1; v <= upto && r == 1; v++) {
        schema_rec_path(zs, v, &path);
        int len = SCHEMA_REC_MAX;
        int rc = zoo_get(zs->s.zh, path.buf, 0, buf, &len, NULL);
        if (rc == ZNONODE)
            r = 0;
        else if (rc != ZOK) {
            zk_fail(err, zs, "read", path.buf, rc);
            r = -1;
        } else {
            strbuf_append(out, buf, len > 0 ? (size_t)len : 0);
        }
    }
    free(buf);
    strbuf_free(&path);
    return r;
}

int pos_store_zk_schema_trim(struct pos_store *st, uint64_t keep, struct err *err)
{
    struct zk_store *zs = (struct zk_store *)st;
    struct strbuf path = {0};
    strbuf_printf(&path, "%s/schema", zs->node);
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(zs->s.zh, path.buf, 0, &kids), r = 0;
    if (rc == ZNONODE) {
        strbuf_free(&path);
        return 0;
    }
    if (rc != ZOK) {
        r = zk_fail(err, zs, "list", path.buf, rc);
        strbuf_free(&path);
        return r;
    }
    for (int i = 0; i < kids.count && r == 0; i++) {
        if (strncmp(kids.data[i], "r-", 2) != 0 || strtoull(kids.data[i] + 2, NULL, 10) <= keep)
            continue;
        strbuf_reset(&path);
        strbuf_printf(&path, "%s/schema/%s", zs->node, kids.data[i]);
        rc = zoo_delete(zs->s.zh, path.buf, -1);
        if (rc != ZOK && rc != ZNONODE)
            r = zk_fail(err, zs, "delete", path.buf, rc);
    }
    deallocate_String_vector(&kids);
    strbuf_free(&path);
    return r;
}
