/*
 * sinks/hub.c — the hub between an instance and the protocol server's clients (see hub.h and
 * docs/protocol.md for the semantics).
 *
 * The log. Every change the instance appends is rendered once (`json`, compact) into an entry
 * with a sequence number (seq, increasing for the life of the process), its "db.table" name (for
 * client filters) and its binlog key (file, pos, row). write_batch(id) records that entries up to
 * next_seq form instance batch id, and makes them deliverable (complete_seq).
 *
 * Cursors. Each client id has acked_seq (every entry below it acked), read_seq (next to
 * deliver on this connection), its outstanding batches (id, seq range) and the key of its last
 * acked entry, which is what DATA_DIR/INSTANCE/clients/ID records (with the batch id). After a
 * restart, or when the instance reopens its sinks, the log starts again at the instance's
 * consumed position, which is the slowest cursor's: a client that had acked further skips the
 * entries whose key is not after its recorded key (`skipping`).
 *
 * Memory. An entry's json and name are appended to the log's chunks (CHUNK_SIZE, or one entry
 * when larger), not allocated one by one: entries are trimmed in the order they were appended,
 * so a chunk is freed (or kept as the one spare) when its last live entry is trimmed.
 *
 * Acknowledgements. poll() (instance thread) acks every instance batch whose entries every
 * known client id has acked (min acked_seq), and trims them from the log. With no client id
 * known nothing is acked: the first client starts at the consumed position. held_bytes is the
 * log's size and held_limit the instance's budget, so a slow client makes the binlog read wait.
 *
 * Limitation: the key (file, pos, row) does not tell apart rows of two rows events inside one
 * compressed transaction payload (they share pos); a restarted daemon may redeliver some of
 * them to a client that had acked them.
 *
 * Threads: the sink functions run on the instance thread; hub_* (hub.h) on the server thread.
 * Everything in struct hub is under h->mu; cursor files are written by the server thread
 * outside the lock (one writer per file).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "hub.h"
#include "config.h"
#include "../meta/zk_session.h"
#include "format.h"
#include "fsutil.h"
#include "log.h"
#include "xmalloc.h"

#define FAC          "SERVER"
#define ENTRY_COST   96 /* bytes an entry costs besides its json (struct, name, key) */
#define CURSOR_MAGIC "sluice-client-cursor 1"
#define CHUNK_SIZE   (1u << 20)

/* A block of entries' json and names, appended in order; live counts its untrimmed entries. */
struct chunk {
    struct chunk *next;
    size_t used, cap, live;
    char data[];
};

struct key {
    char file[64];
    uint64_t pos;
    uint32_t row;
};

struct entry {
    char *json; /* in ck, NUL-terminated */
    size_t len;
    char *name; /* in ck: "db.table" ("db." for DDL) */
    struct chunk *ck;
    struct key key;
};

struct ibatch {
    uint64_t id;
    uint64_t end_seq; /* entries below belong to this batch or an earlier one */
    size_t bytes;
};

struct obatch {
    uint64_t id;
    uint64_t start, end; /* seq range [start, end) */
    struct key last;     /* key of entry end-1 */
};

struct client {
    char id[65];
    uint64_t acked_seq, read_seq;
    uint64_t next_batch, acked_batch;
    struct key acked_key;
    bool has_key, skipping, busy;
    struct obatch *ob;
    size_t nob, capob;
};

struct hub {
    char *name;
    char *dir; /* DATA_DIR/NAME/clients; NULL in cluster mode */
    /* Cluster mode (the instance's positions in ZooKeeper): the cursors are the children of
     * zk_dir ({instance node}/clients), so that whichever daemon owns the instance resumes
     * every client where it acked. zs and its use are under zk_mu. */
    char *zk_servers, *zk_dir;
    int zk_timeout_ms;
    pthread_mutex_t zk_mu;
    struct zk_session zs;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* signalled when a cursor moved */
    bool attached;       /* the instance has the sink open */
    struct entry *e;     /* live entries are e[off..n) */
    size_t off, n, cap;
    uint64_t base_seq; /* seq of e[0] */
    uint64_t next_seq, complete_seq;
    size_t bytes;                               /* cost of the live entries */
    struct chunk *ck_head, *ck_tail, *ck_spare; /* instance thread only (and drop_log) */
    struct ibatch *ib;
    size_t nib, capib;
    struct client *cl;
    size_t ncl, capcl;
};

struct hub_sink {
    struct sink base; /* first: the sink is used through it */
    struct hub *hub;
    struct strbuf buf;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hub **hubs;
static size_t nhubs;
static _Atomic int notify_fd = -1;

/* ---- cursor files ----------------------------------------------------------------------- */

static int key_cmp(const struct key *a, const struct key *b)
{
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

static int cursor_text(const struct client *c, char *text, size_t sz)
{
    return snprintf(text, sz, "%s\nbatch %llu\nfile %s\npos %llu\nrow %u\n", CURSOR_MAGIC,
                    (unsigned long long)c->acked_batch, c->has_key ? c->acked_key.file : "-",
                    (unsigned long long)c->acked_key.pos, c->acked_key.row);
}

/* Cluster mode: a connected session (opened when there is none). Fails at once, with msg,
 * when ZooKeeper does not answer now: a caller on the server thread must not wait. zk_mu held. */
static int zk_ready(struct hub *h, char *msg, size_t msgsz)
{
    if (zk_session_expired(&h->zs)) {
        zk_session_close(&h->zs);
        struct err e = {0};
        if (zk_session_open(&h->zs, h->zk_servers, h->zk_timeout_ms, &e) ||
            zk_ensure_path(&h->zs, h->zk_dir, &e)) {
            snprintf(msg, msgsz, "client cursors: %s", e.msg);
            return -1;
        }
    }
    if (atomic_load(&h->zs.state) != ZOO_CONNECTED_STATE) {
        snprintf(msg, msgsz, "client cursors: ZooKeeper at \"%s\" not connected; try again",
                 h->zk_servers);
        return -1;
    }
    return 0;
}

/* Writes the cursor of c (a copy taken under the lock): in cluster mode to the node
 * zk_dir/ID; else to DIR/ID (.tmp, fsync, rename, fsync the directory). Returns 0 or -1 with
 * msg filled. */
static int save_cursor(struct hub *h, const struct client *c, char *msg, size_t msgsz)
{
    char path[4200], tmp[4210], text[256];
    int n = cursor_text(c, text, sizeof(text));
    if (h->zk_dir) {
        pthread_mutex_lock(&h->zk_mu);
        int r = zk_ready(h, msg, msgsz);
        if (r == 0) {
            snprintf(path, sizeof(path), "%s/%s", h->zk_dir, c->id);
            int rc = zoo_set(h->zs.zh, path, text, n, -1);
            if (rc == ZNONODE)
                rc = zoo_create(h->zs.zh, path, text, n, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
            if (rc != ZOK) {
                snprintf(msg, msgsz, "could not write the client cursor \"%s\" on %s: %s", path,
                         h->zk_servers, zerror(rc));
                r = -1;
            }
        }
        pthread_mutex_unlock(&h->zk_mu);
        return r;
    }
    snprintf(path, sizeof(path), "%s/%s", h->dir, c->id);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fs_write_all(fd, text, (size_t)n, NULL) != 0 || fsync(fd) != 0) {
        snprintf(msg, msgsz, "could not write \"%s\": %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0 || fs_fsync_dir(h->dir) != 0) {
        snprintf(msg, msgsz, "could not rename \"%s\": %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

static struct client *add_client(struct hub *h, const char *id)
{
    if (h->ncl == h->capcl) {
        h->capcl = h->capcl ? 2 * h->capcl : 4;
        h->cl = xrealloc(h->cl, h->capcl * sizeof(*h->cl));
    }
    struct client *c = &h->cl[h->ncl++];
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    /* A new client id starts where the instance's consumed position is heading: past what every
     * known client acked (the log head, when none is known). */
    uint64_t start = UINT64_MAX;
    for (size_t i = 0; i + 1 < h->ncl; i++)
        if (h->cl[i].acked_seq < start)
            start = h->cl[i].acked_seq;
    c->acked_seq = c->read_seq = start == UINT64_MAX ? h->base_seq + h->off : start;
    c->next_batch = 1;
    return c;
}

static struct client *find_client(struct hub *h, const char *id);

/* Applies a cursor's text (what save_cursor wrote) to client id, added when unknown. Returns
 * 0, or ERR_IO naming where when the text is not a cursor. */
static int
apply_cursor(struct hub *h, const char *id, const char *text, const char *where, struct err *err)
{
    char magic[64] = "", file[64] = "";
    unsigned long long batch = 0, pos = 0;
    unsigned row = 0;
    int got = sscanf(text, "%63[^\n]\nbatch %llu\nfile %63s\npos %llu\nrow %u", magic, &batch, file,
                     &pos, &row);
    if (got != 5 || strcmp(magic, CURSOR_MAGIC) != 0)
        return err_set(err, ERR_IO, "client cursor \"%s\" is corrupt", where);
    struct client *c = find_client(h, id);
    if (c == NULL)
        c = add_client(h, id);
    c->acked_batch = batch;
    c->next_batch = batch + 1;
    c->has_key = c->skipping = strcmp(file, "-") != 0;
    memset(&c->acked_key, 0, sizeof(c->acked_key));
    if (c->has_key) {
        snprintf(c->acked_key.file, sizeof(c->acked_key.file), "%s", file);
        c->acked_key.pos = pos;
        c->acked_key.row = row;
    }
    return 0;
}

static int load_cursor(struct hub *h, const char *id, struct err *err)
{
    char path[4200], text[512];
    snprintf(path, sizeof(path), "%s/%s", h->dir, id);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    return apply_cursor(h, id, text, path, err);
}

/* Cluster mode, when the instance opens the hub (this daemon now owns it): every cursor from
 * ZooKeeper, the latest whichever daemon wrote it. h->mu held. */
static int zk_load_cursors(struct hub *h, struct err *err)
{
    char msg[300];
    pthread_mutex_lock(&h->zk_mu);
    if (zk_ready(h, msg, sizeof(msg))) {
        pthread_mutex_unlock(&h->zk_mu);
        return err_set(err, ERR_SINK, "%s", msg);
    }
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(h->zs.zh, h->zk_dir, 0, &kids), r = 0;
    if (rc != ZOK)
        r = err_set(err, ERR_SINK, "could not list the client cursors under \"%s\" on %s: %s",
                    h->zk_dir, h->zk_servers, zerror(rc));
    for (int i = 0; r == 0 && i < kids.count; i++) {
        char path[1200], *text = NULL;
        snprintf(path, sizeof(path), "%s/%s", h->zk_dir, kids.data[i]);
        if (!valid_id(kids.data[i]) || zk_get_string(&h->zs, path, &text) != ZOK)
            continue;
        r = apply_cursor(h, kids.data[i], text, path, err);
        free(text);
    }
    deallocate_String_vector(&kids);
    pthread_mutex_unlock(&h->zk_mu);
    return r;
}

/* ---- registry ---------------------------------------------------------------------------- */

int hub_create(const struct config_instance *ic, const char *data_dir, struct err *err)
{
    const char *name = ic->name;
    struct hub *h = xcalloc(1, sizeof(*h));
    h->name = xstrdup(name);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    pthread_mutex_init(&h->zk_mu, NULL);
    int rc = 0;
    if (ic->positions.store == CONFIG_STORE_ZOOKEEPER) {
        /* The same layout as meta/zk.c's instance node. */
        struct strbuf sb = {0};
        strbuf_printf(&sb, "%s/%s/instances/%s/clients",
                      strcmp(ic->positions.root, "/") == 0 ? "" : ic->positions.root,
                      ic->positions.cluster, name);
        h->zk_dir = xstrdup(sb.buf);
        strbuf_free(&sb);
        h->zk_servers = xstrdup(ic->positions.servers);
        h->zk_timeout_ms = (int)ic->positions.session_timeout_ms;
        atomic_init(&h->zs.expired, true);
    } else {
        size_t dl = strlen(data_dir) + strlen(name) + 16;
        h->dir = xmalloc(dl);
        snprintf(h->dir, dl, "%s/%s/clients", data_dir, name);
        rc = fs_mkdirs(h->dir, err);
        DIR *d = rc ? NULL : opendir(h->dir);
        if (rc == 0 && d == NULL)
            rc = err_set(err, ERR_IO, "could not open \"%s\": %s", h->dir, strerror(errno));
        for (struct dirent *de; rc == 0 && d && (de = readdir(d)) != NULL;)
            if (valid_id(de->d_name) && de->d_name[0] != '.')
                rc = load_cursor(h, de->d_name, err);
        if (d)
            closedir(d);
    }
    pthread_mutex_lock(&reg_mu);
    hubs = xrealloc(hubs, (nhubs + 1) * sizeof(*hubs));
    hubs[nhubs++] = h; /* also on failure: hub_destroy_all frees it */
    pthread_mutex_unlock(&reg_mu);
    if (rc == 0 && h->zk_dir)
        log_info(FAC, name, "client hub ready: cursors in ZooKeeper under %s", h->zk_dir);
    else if (rc == 0)
        log_info(FAC, name, "client hub ready: %zu known client id(s)", h->ncl);
    return rc;
}

struct hub *hub_find(const char *name)
{
    struct hub *h = NULL;
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < nhubs && h == NULL; i++)
        if (strcmp(hubs[i]->name, name) == 0)
            h = hubs[i];
    pthread_mutex_unlock(&reg_mu);
    return h;
}

/* Room for n bytes at the log's tail chunk (a new chunk when it is full). */
static char *chunk_take(struct hub *h, size_t n)
{
    struct chunk *t = h->ck_tail;
    if (t == NULL || t->cap - t->used < n) {
        if (h->ck_spare && h->ck_spare->cap >= n) {
            t = h->ck_spare;
            h->ck_spare = NULL;
        } else {
            size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
            t = xmalloc(sizeof(*t) + cap);
            t->cap = cap;
        }
        t->next = NULL;
        t->used = t->live = 0;
        if (h->ck_tail)
            h->ck_tail->next = t;
        else
            h->ck_head = t;
        h->ck_tail = t;
    }
    char *p = t->data + t->used;
    t->used += n;
    t->live++;
    return p;
}

/* Entry e is trimmed: frees its chunk (the head) once nothing in it is live. */
static void chunk_trim(struct hub *h, struct entry *e)
{
    struct chunk *k = e->ck;
    if (--k->live > 0)
        return;
    if (k == h->ck_tail) {
        k->used = 0; /* empty log: reuse it */
        return;
    }
    /* Trimmed in append order: k is the head. */
    h->ck_head = k->next;
    if (h->ck_spare == NULL && k->cap == CHUNK_SIZE) {
        h->ck_spare = k;
    } else {
        free(k);
    }
}

static void drop_log(struct hub *h)
{
    while (h->ck_head) {
        struct chunk *k = h->ck_head;
        h->ck_head = k->next;
        free(k);
    }
    h->ck_tail = NULL;
    free(h->ck_spare);
    h->ck_spare = NULL;
    h->base_seq = h->next_seq;
    h->complete_seq = h->next_seq;
    h->off = h->n = 0;
    h->bytes = 0;
    h->nib = 0;
}

void hub_destroy_all(void)
{
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < nhubs; i++) {
        struct hub *h = hubs[i];
        drop_log(h);
        free(h->e);
        free(h->ib);
        for (size_t k = 0; k < h->ncl; k++)
            free(h->cl[k].ob);
        free(h->cl);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cond);
        if (h->zk_dir)
            zk_session_close(&h->zs);
        pthread_mutex_destroy(&h->zk_mu);
        free(h->zk_dir);
        free(h->zk_servers);
        free(h->name);
        free(h->dir);
        free(h);
    }
    free(hubs);
    hubs = NULL;
    nhubs = 0;
    pthread_mutex_unlock(&reg_mu);
}

void hub_set_notify(int fd)
{
    atomic_store(&notify_fd, fd);
}

/* ---- cursor bookkeeping (h->mu held) ------------------------------------------------------ */

static struct entry *at(struct hub *h, uint64_t seq)
{
    return &h->e[seq - h->base_seq];
}

static struct client *find_client(struct hub *h, const char *id)
{
    for (size_t i = 0; i < h->ncl; i++)
        if (strcmp(h->cl[i].id, id) == 0)
            return &h->cl[i];
    return NULL;
}

/* A client restarting from a recorded key passes over what it had acked already. */
static void advance_skips(struct hub *h)
{
    for (size_t i = 0; i < h->ncl; i++) {
        struct client *c = &h->cl[i];
        if (!c->skipping || c->nob)
            continue;
        while (c->acked_seq < h->complete_seq &&
               key_cmp(&at(h, c->acked_seq)->key, &c->acked_key) <= 0)
            c->acked_seq++;
        c->read_seq = c->acked_seq;
        if (c->acked_seq < h->complete_seq)
            c->skipping = false;
    }
}

static void rollback_from(struct client *c, size_t k)
{
    if (k < c->nob) {
        c->read_seq = c->ob[k].start;
        c->nob = k;
    }
}

/* ---- server side -------------------------------------------------------------------------- */

int hub_subscribe(
    struct hub *h, const char *client_id, uint64_t *last_acked, char *msg, size_t msgsz)
{
    pthread_mutex_lock(&h->mu);
    if (h->zk_dir && !h->attached) {
        pthread_mutex_unlock(&h->mu);
        snprintf(msg, msgsz,
                 "instance \"%s\" is not running on this daemon (cluster mode: another daemon "
                 "owns it, or it is starting); find its owner in ZooKeeper",
                 h->name);
        return -PROTO_E_NOT_OWNER;
    }
    struct client *c = find_client(h, client_id);
    bool fresh = c == NULL;
    if (c == NULL)
        c = add_client(h, client_id);
    if (c->busy) {
        pthread_mutex_unlock(&h->mu);
        return -PROTO_E_CLIENT_ID_BUSY;
    }
    c->busy = true;
    rollback_from(c, 0);
    *last_acked = c->acked_batch;
    struct client copy = *c;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    if (fresh) {
        log_info(FAC, h->name, "new client id \"%s\"", client_id);
        if (save_cursor(h, &copy, msg, msgsz) != 0)
            return -PROTO_E_INTERNAL;
    }
    return 0;
}

void hub_unsubscribe(struct hub *h, const char *client_id)
{
    pthread_mutex_lock(&h->mu);
    struct client *c = find_client(h, client_id);
    if (c) {
        c->busy = false;
        rollback_from(c, 0);
    }
    pthread_mutex_unlock(&h->mu);
}

int hub_get(struct hub *h,
            const char *client_id,
            const regex_t *filter,
            uint32_t max_changes,
            uint32_t max_bytes,
            struct proto_buf *out)
{
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    struct client *c = find_client(h, client_id);
    if (c && h->zk_dir && !h->attached) {
        rc = -PROTO_E_NOT_OWNER; /* stepped down (cluster mode): the client must move */
        goto out;
    }
    if (c == NULL || !h->attached)
        goto out;
    advance_skips(h);
    if (c->skipping && c->nob == 0)
        goto out; /* still passing over acked entries: nothing new yet */
    uint64_t seq = c->read_seq, end = c->read_seq;
    uint32_t count = 0;
    size_t bytes = 0, frame = 0, countat = 0;
    for (; seq < h->complete_seq && count < max_changes; seq++) {
        struct entry *e = at(h, seq);
        if (filter && regexec(filter, e->name, 0, NULL, 0) != 0)
            continue;
        if (count && bytes + e->len > max_bytes)
            break;
        if (count == 0) {
            frame = proto_frame_begin(out, PROTO_BATCH);
            proto_put_u64(out, c->next_batch);
            countat = out->len;
            proto_put_u32(out, 0);
        }
        proto_put_blob(out, e->json, (uint32_t)e->len);
        bytes += e->len;
        count++;
        end = seq + 1;
    }
    if (count == 0) {
        /* Only changes this client filters out: pass over them once nothing is outstanding. */
        if (seq > c->read_seq && c->nob == 0) {
            c->acked_seq = c->read_seq = seq;
            c->acked_key = at(h, seq - 1)->key;
            c->has_key = true;
            pthread_cond_broadcast(&h->cond);
        }
        goto out;
    }
    if (seq == h->complete_seq)
        end = seq; /* filtered-out changes at the end go with this batch */
    for (int i = 0; i < 4; i++)
        out->data[countat + (size_t)i] = (uint8_t)(count >> (24 - 8 * i));
    proto_frame_end(out, frame);
    if (c->nob == c->capob) {
        c->capob = c->capob ? 2 * c->capob : 8;
        c->ob = xrealloc(c->ob, c->capob * sizeof(*c->ob));
    }
    c->ob[c->nob++] = (struct obatch){c->next_batch++, c->read_seq, end, at(h, end - 1)->key};
    c->read_seq = end;
    rc = 1;
out:
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int hub_ack(struct hub *h, const char *client_id, uint64_t batch_id, char *msg, size_t msgsz)
{
    pthread_mutex_lock(&h->mu);
    struct client *c = find_client(h, client_id);
    if (c && batch_id <= c->acked_batch) {
        pthread_mutex_unlock(&h->mu);
        return 0; /* acked already */
    }
    size_t k = 0;
    while (c && k < c->nob && c->ob[k].id != batch_id)
        k++;
    if (c == NULL || k == c->nob) {
        pthread_mutex_unlock(&h->mu);
        return -PROTO_E_UNKNOWN_BATCH;
    }
    c->acked_seq = c->ob[k].end;
    c->acked_key = c->ob[k].last;
    c->has_key = true;
    c->acked_batch = batch_id;
    memmove(c->ob, c->ob + k + 1, (c->nob - k - 1) * sizeof(*c->ob));
    c->nob -= k + 1;
    struct client copy = *c;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
    return save_cursor(h, &copy, msg, msgsz) ? -PROTO_E_INTERNAL : 0;
}

int hub_rollback(struct hub *h, const char *client_id, uint64_t batch_id)
{
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    struct client *c = find_client(h, client_id);
    size_t k = 0;
    while (c && batch_id && k < c->nob && c->ob[k].id != batch_id)
        k++;
    if (c == NULL || (batch_id && k == c->nob))
        rc = -PROTO_E_UNKNOWN_BATCH;
    else
        rollback_from(c, k);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- the sink (instance thread) ----------------------------------------------------------- */

static struct sink *hub_open(const struct sink_conf *conf, struct err *err)
{
    struct hub *h = hub_find(conf->instance ? conf->instance : "");
    if (h == NULL) {
        err_set(err, ERR_SINK, "instance \"%s\": no client hub (server: not configured)",
                conf->instance ? conf->instance : "");
        return NULL;
    }
    pthread_mutex_lock(&h->mu);
    if (h->attached) {
        pthread_mutex_unlock(&h->mu);
        err_set(err, ERR_SINK, "instance \"%s\": client hub already open", h->name);
        return NULL;
    }
    /* Cluster mode: the cursors as the last owner left them. */
    if (h->zk_dir && zk_load_cursors(h, err)) {
        pthread_mutex_unlock(&h->mu);
        return NULL;
    }
    /* The instance resumes at its consumed position: every cursor restarts there and passes
     * over what it had acked. */
    drop_log(h);
    for (size_t i = 0; i < h->ncl; i++) {
        struct client *c = &h->cl[i];
        c->acked_seq = c->read_seq = h->next_seq;
        c->nob = 0;
        c->skipping = c->has_key;
    }
    h->attached = true;
    pthread_mutex_unlock(&h->mu);
    struct hub_sink *hs = xcalloc(1, sizeof(*hs));
    sink_init_common(&hs->base, &sink_hub_ops, conf);
    hs->hub = h;
    hs->base.held_limit = conf->budget_bytes;
    return &hs->base;
}

static int hub_append(struct sink *s, const struct change *c, struct err *err)
{
    struct hub_sink *hs = (struct hub_sink *)s;
    struct hub *h = hs->hub;
    struct format_ctx ctx;
    sink_format_ctx(s, &ctx);
    strbuf_reset(&hs->buf);
    int r = format_render(s->cfg->format, &ctx, c, &hs->buf, err);
    if (r != 0)
        return r;
    struct entry e = {0};
    const char *db = c->db ? c->db : "", *table = c->table ? c->table : "";
    const char *file = c->file ? c->file : "";
    size_t dl = strlen(db), tl = strlen(table), fl = strlen(file);
    e.len = hs->buf.len;
    /* json NUL name NUL, in the tail chunk (only this thread and drop_log touch chunks). */
    e.json = chunk_take(h, e.len + dl + tl + 3);
    e.ck = h->ck_tail;
    memcpy(e.json, hs->buf.buf, e.len);
    e.json[e.len] = '\0';
    e.name = e.json + e.len + 1;
    memcpy(e.name, db, dl);
    e.name[dl] = '.';
    memcpy(e.name + dl + 1, table, tl);
    e.name[dl + 1 + tl] = '\0';
    if (fl >= sizeof(e.key.file))
        fl = sizeof(e.key.file) - 1;
    memcpy(e.key.file, file, fl);
    e.key.file[fl] = '\0';
    e.key.pos = c->pos;
    e.key.row = c->row;
    pthread_mutex_lock(&h->mu);
    if (h->n == h->cap) {
        if (h->off > h->n / 2) {
            /* Most of the array is trimmed: slide the live part down rather than grow. */
            memmove(h->e, h->e + h->off, (h->n - h->off) * sizeof(*h->e));
            h->base_seq += h->off;
            h->n -= h->off;
            h->off = 0;
        } else {
            h->cap = h->cap ? 2 * h->cap : 1024;
            h->e = xrealloc(h->e, h->cap * sizeof(*h->e));
        }
    }
    h->e[h->n++] = e;
    h->next_seq++;
    h->bytes += e.len + ENTRY_COST;
    s->held_bytes = h->bytes;
    pthread_mutex_unlock(&h->mu);
    return 0;
}

/* Acks every instance batch all known clients are past, and trims its entries. */
static void settle(struct sink *s)
{
    struct hub *h = ((struct hub_sink *)s)->hub;
    struct ibatch done[64];
    size_t ndone = 0;
    pthread_mutex_lock(&h->mu);
    advance_skips(h);
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < h->ncl; i++)
        if (h->cl[i].acked_seq < min)
            min = h->cl[i].acked_seq;
    if (h->ncl == 0)
        min = 0;
    size_t k = 0;
    while (k < h->nib && h->ib[k].end_seq <= min && ndone < 64) {
        uint64_t first = h->base_seq + h->off;
        for (uint64_t q = first; q < h->ib[k].end_seq; q++) {
            struct entry *e = at(h, q);
            h->bytes -= e->len + ENTRY_COST;
            chunk_trim(h, e);
            h->off++;
        }
        done[ndone++] = h->ib[k++];
    }
    if (k) {
        memmove(h->ib, h->ib + k, (h->nib - k) * sizeof(*h->ib));
        h->nib -= k;
    }
    if (h->off == h->n) {
        h->base_seq += h->off;
        h->off = h->n = 0;
    }
    s->held_bytes = h->bytes;
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < ndone; i++)
        sink_acknowledge(s, done[i].id, done[i].bytes);
}

static int hub_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    (void)err;
    struct hub *h = ((struct hub_sink *)s)->hub;
    pthread_mutex_lock(&h->mu);
    if (h->nib == h->capib) {
        h->capib = h->capib ? 2 * h->capib : 16;
        h->ib = xrealloc(h->ib, h->capib * sizeof(*h->ib));
    }
    uint64_t start = h->complete_seq;
    size_t bytes = 0;
    for (uint64_t q = start; q < h->next_seq; q++)
        bytes += at(h, q)->len + ENTRY_COST;
    h->ib[h->nib++] = (struct ibatch){batch_id, h->next_seq, bytes};
    h->complete_seq = h->next_seq;
    pthread_mutex_unlock(&h->mu);
    int fd = atomic_load(&notify_fd);
    if (fd >= 0 && write(fd, "h", 1) < 0) {
        /* A full pipe already holds a wake-up. */
    }
    settle(s);
    return 0;
}

static int hub_poll(struct sink *s, int timeout_ms, struct err *err)
{
    (void)err;
    struct hub *h = ((struct hub_sink *)s)->hub;
    uint64_t before = s->last_acked;
    settle(s);
    if (timeout_ms > 0 && s->last_acked == before && s->last_acked < s->last_batch) {
        /* Wait for a client's ack (the server signals the condition), then look again. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&h->mu);
        pthread_cond_timedwait(&h->cond, &h->mu, &ts);
        pthread_mutex_unlock(&h->mu);
        settle(s);
    }
    return 0;
}

static void hub_reopen(struct sink *s)
{
    (void)s;
}

static void hub_close(struct sink *s)
{
    struct hub_sink *hs = (struct hub_sink *)s;
    struct hub *h = hs->hub;
    pthread_mutex_lock(&h->mu);
    drop_log(h);
    for (size_t i = 0; i < h->ncl; i++) {
        h->cl[i].nob = 0;
        h->cl[i].acked_seq = h->cl[i].read_seq = h->next_seq;
    }
    h->attached = false;
    pthread_mutex_unlock(&h->mu);
    strbuf_free(&hs->buf);
    sink_free_common(s);
    free(hs);
}

const struct sink_ops sink_hub_ops = {
    .abi = SINK_ABI,
    .name = "hub",
    .open = hub_open,
    .append = hub_append,
    .write_batch = hub_write_batch,
    .poll = hub_poll,
    .reopen = hub_reopen,
    .close = hub_close,
};
