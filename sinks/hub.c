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

#include "hub.h"
#include "format.h"
#include "fsutil.h"
#include "log.h"
#include "xmalloc.h"

#define FAC          "SERVER"
#define ENTRY_COST   96 /* bytes an entry costs besides its json (struct, name, key) */
#define CURSOR_MAGIC "sluice-client-cursor 1"

struct key {
    char file[64];
    uint64_t pos;
    uint32_t row;
};

struct entry {
    char *json;
    size_t len;
    char *name; /* "db.table" ("db." for DDL) */
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
    char *dir; /* DATA_DIR/NAME/clients */
    pthread_mutex_t mu;
    pthread_cond_t cond; /* signalled when a cursor moved */
    bool attached;       /* the instance has the sink open */
    struct entry *e;     /* live entries are e[off..n) */
    size_t off, n, cap;
    uint64_t base_seq; /* seq of e[0] */
    uint64_t next_seq, complete_seq;
    size_t bytes; /* cost of the live entries */
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

/* Writes the cursor of c (a copy taken under the lock) to DIR/ID: .tmp, fsync, rename, fsync
 * the directory. Returns 0 or -1 with msg filled. */
static int save_cursor(const char *dir, const struct client *c, char *msg, size_t msgsz)
{
    char path[4200], tmp[4210], text[256];
    snprintf(path, sizeof(path), "%s/%s", dir, c->id);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int n =
        snprintf(text, sizeof(text), "%s\nbatch %llu\nfile %s\npos %llu\nrow %u\n", CURSOR_MAGIC,
                 (unsigned long long)c->acked_batch, c->has_key ? c->acked_key.file : "-",
                 (unsigned long long)c->acked_key.pos, c->acked_key.row);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fs_write_all(fd, text, (size_t)n, NULL) != 0 || fsync(fd) != 0) {
        snprintf(msg, msgsz, "could not write \"%s\": %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0 || fs_fsync_dir(dir) != 0) {
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

static int load_cursor(struct hub *h, const char *id, struct err *err)
{
    char path[4200], file[64];
    snprintf(path, sizeof(path), "%s/%s", h->dir, id);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
    char magic[64] = "";
    unsigned long long batch = 0, pos = 0;
    unsigned row = 0;
    int got = fscanf(f, "%63[^\n]\nbatch %llu\nfile %63s\npos %llu\nrow %u", magic, &batch, file,
                     &pos, &row);
    fclose(f);
    if (got != 5 || strcmp(magic, CURSOR_MAGIC) != 0)
        return err_set(err, ERR_IO, "client cursor \"%s\" is corrupt", path);
    struct client *c = add_client(h, id);
    c->acked_batch = batch;
    c->next_batch = batch + 1;
    if (strcmp(file, "-") != 0) {
        c->has_key = c->skipping = true;
        snprintf(c->acked_key.file, sizeof(c->acked_key.file), "%s", file);
        c->acked_key.pos = pos;
        c->acked_key.row = row;
    }
    return 0;
}

/* ---- registry ---------------------------------------------------------------------------- */

int hub_create(const char *name, const char *data_dir, struct err *err)
{
    struct hub *h = xcalloc(1, sizeof(*h));
    h->name = xstrdup(name);
    size_t dl = strlen(data_dir) + strlen(name) + 16;
    h->dir = xmalloc(dl);
    snprintf(h->dir, dl, "%s/%s/clients", data_dir, name);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    int rc = fs_mkdirs(h->dir, err);
    DIR *d = rc ? NULL : opendir(h->dir);
    if (rc == 0 && d == NULL)
        rc = err_set(err, ERR_IO, "could not open \"%s\": %s", h->dir, strerror(errno));
    for (struct dirent *de; rc == 0 && d && (de = readdir(d)) != NULL;)
        if (valid_id(de->d_name) && de->d_name[0] != '.')
            rc = load_cursor(h, de->d_name, err);
    if (d)
        closedir(d);
    pthread_mutex_lock(&reg_mu);
    hubs = xrealloc(hubs, (nhubs + 1) * sizeof(*hubs));
    hubs[nhubs++] = h; /* also on failure: hub_destroy_all frees it */
    pthread_mutex_unlock(&reg_mu);
    if (rc == 0)
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

static void drop_log(struct hub *h)
{
    for (size_t i = h->off; i < h->n; i++) {
        free(h->e[i].json);
        free(h->e[i].name);
    }
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
        if (save_cursor(h->dir, &copy, msg, msgsz) != 0)
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
    return save_cursor(h->dir, &copy, msg, msgsz) ? -PROTO_E_INTERNAL : 0;
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
    e.len = hs->buf.len;
    e.json = xmalloc(e.len + 1);
    memcpy(e.json, hs->buf.buf, e.len);
    e.json[e.len] = '\0';
    size_t nl = strlen(c->db ? c->db : "") + strlen(c->table ? c->table : "") + 2;
    e.name = xmalloc(nl);
    snprintf(e.name, nl, "%s.%s", c->db ? c->db : "", c->table ? c->table : "");
    snprintf(e.key.file, sizeof(e.key.file), "%s", c->file ? c->file : "");
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
            free(e->json);
            free(e->name);
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
