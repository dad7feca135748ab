/*
 * instance.c — one source server captured end to end (see instance.h for the states).
 *
 * The pipeline, all on the instance's own thread:
 *   binlog_conn_next -> decoder_feed -> on_change (filters) -> sink_append on every sink
 *   -> sink_write_batch (batch closed when the stream is idle, large or old) -> acks -> positions
 * With decode_threads, stream_pool_feed takes decoder_feed's place: the pool's threads decode,
 * and on_change still runs here, in stream order, so nothing below depends on the threads.
 * A reconnect drops what the pool read but did not pass on; it is read again from `committed`.
 *
 * Positions. `committed` is the position just after the last complete transaction decoded
 * (file:offset of the next event, GTID set including that transaction). When a batch is closed
 * it is stamped with the `committed` of that moment; when every sink has acknowledged it, that
 * position becomes `consumed` and is saved (at most every save_interval_ms, and at shutdown).
 * INVARIANT: `consumed` only ever names a transaction boundary whose every change, and every
 * change before it, is acknowledged by every sink. A restart resumes from `consumed`: nothing is
 * lost, and what is repeated lies after the saved position (at-least-once). A reconnect within
 * the process resumes from `committed` (what was read is already in the sinks' batches).
 *
 * Memory. Each change appended costs its text size; the cost of unacknowledged batches is the
 * instance's in-flight bytes. Above budget_mb the thread stops reading the socket and waits for
 * acknowledgements (a slow sink pushes back to the server connection, never grows memory).
 *
 * The main thread reads the status under `mu` and stops the thread with the `stop` flag plus a
 * shutdown(2) of the connection's socket, which makes a blocked read return at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "binlog_conn.h"
#include "cluster.h"
#include "members.h"
#include "binlog_event.h"
#include "bytes.h"
#include "decoder.h"
#include "instance.h"
#include "fsutil.h"
#include "lockfile.h"
#include "metrics.h"
#include "log.h"
#include "pos_store.h"
#include "position.h"
#include "position_find.h"
#include "strbuf.h"
#include "schema.h"
#include "sink.h"
#include "stream_pool.h"
#include "stream_pos.h"
#include "table_map.h"
#include "xmalloc.h"
#include "../sinks/hub.h"
#include "../meta/zk.h"

#define FAC "INST"

/* A batch is closed when the stream is idle, or at these sizes / age. */
#define BATCH_MAX_BYTES (4u << 20)
#define BATCH_MAX_MS    200
/* Waiting for acknowledgements at shutdown. */
#define STOP_DRAIN_MS    10000
#define BALANCE_EVERY_MS 2000 /* cluster mode: how often an owner checks its fair share */
/* Reconnect backoff. */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* With decode threads: how long the socket must stay empty before the stream counts as idle. */
#define POOL_IDLE_MS 5
/* The purge horizon is measured at most this often. */
#define HORIZON_EVERY_MS 10000

struct pending {
    uint64_t id;
    uint64_t closed_ms; /* when the batch was handed to the sinks */
    size_t cost;
    uint64_t rows; /* row changes in it (sluice_sink_rows_delivered_total) */
    bool has_pos;
    struct position pos;
    uint64_t schema_version; /* in force at pos */
};

/* A prepared XA transaction whose XA COMMIT / XA ROLLBACK has not been read yet. */
struct xa_pending {
    char xid[256];                    /* as the statements write it: X'..',X'..',N */
    char file[POSITION_FILE_MAX + 1]; /* where its group is */
    uint64_t start, end;              /* first event, and the XA PREPARE event */
    struct position before;           /* the boundary before it: positions are held there */
};

struct sink_slot {
    struct instance *in;
    struct sink *sink;
    uint64_t acked; /* last batch id this sink acknowledged */
    /* Read by the admin thread without mu (the slots array is published in st_nslots). */
    _Atomic uint64_t delivered; /* row changes of acknowledged batches */
    _Atomic uint64_t errors;    /* calls into the sink that returned an error */
};

struct instance {
    const struct config *cfg;
    const struct config_instance *ic;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_bool reopen;
    atomic_bool watchdog_fired;

    /* Shared with the main thread, under mu. */
    pthread_mutex_t mu;
    enum instance_state state;
    char why[1024];
    int64_t since; /* wall-clock seconds of the last state change */
    int conn_fd;   /* the connection's socket, -1 when none */
    struct position st_parsed, st_consumed;
    _Atomic uint32_t last_event_ts; /* these four without mu: counters read for status */
    atomic_bool caught_up;
    _Atomic uint64_t n_events, n_rows;
    enum instance_state own_state; /* the thread's copy of state (only it changes state) */
    size_t st_inflight;
    size_t st_nslots;            /* slots ready to be read by the admin thread */
    uint64_t st_schema_versions; /* schema_version() at the last publish */
    bool st_horizon_known;       /* the purge horizon was measured at least once */
    int64_t st_horizon_files, st_horizon_seconds;
    _Atomic uint64_t n_bytes, n_reconnects; /* binlog bytes read; connections lost or failed */

    /* Thread-private. */
    int lock_fd;
    struct pos_store *store;
    struct cluster *cluster;  /* cluster mode (store zookeeper): election and fencing */
    struct members *members;  /* cluster mode: this daemon's membership (fair shares) */
    uint64_t last_balance_ms; /* cluster mode: last cluster_hand_over() check */
    bool save_deferred;       /* cluster mode: the last save waits for ZooKeeper */
    struct pos_store_record rec;
    bool have_rec;
    struct sink_slot *slots;
    size_t nslots;
    struct schema *schema;
    /* The schema is also reached by the pool's threads (table maps): under schema_mu. */
    pthread_mutex_t schema_mu;
    struct decoder *dec;
    struct stream_pool *pool; /* decode_threads > 0: rows decoded on its threads */
    struct binlog_conn *conn;
    struct stream_pos sp;
    char server_uuid[37];
    uint32_t server_id;
    char server_version[128];
    bool server_mariadb;
    bool identity_changed; /* the server is another than the stored one: resume by GTID */
    uint64_t cur_offset;   /* offset of the event being decoded */
    uint64_t stream_last_ms, stream_end_ms; /* last event / end of the last stream() */

    struct position committed; /* after the last complete transaction decoded */
    struct position consumed;  /* after the last transaction every sink acknowledged */
    uint64_t committed_schema; /* schema version in force at committed / consumed */
    uint64_t consumed_schema;
    bool in_txn;
    bool in_begin; /* the group has a BEGIN: it ends at COMMIT/ROLLBACK, not at a DDL */
    bool dirty;    /* consumed moved since the last save */
    uint64_t last_save_ms;

    uint64_t next_batch; /* id of the batch being filled */
    size_t batch_cost;
    size_t batch_changes;
    uint64_t batch_rows;
    uint64_t batch_started_ms;
    bool batch_commit;    /* a transaction ended in this batch */
    struct pending *pend; /* closed, unacknowledged batches, oldest first */
    size_t npend, cappend;
    size_t inflight;   /* cost of closed unacknowledged batches + the open one */
    bool sink_stalled; /* `stalled` was set by check_sink_stall */

    struct err fail; /* the error that ends the current connection / instance */
    bool fail_fatal;
    _Atomic uint64_t last_event_ms;         /* monotonic ms of the last event (0: not streaming) */
    char filter_db[257], filter_table[257]; /* the table the filter last decided on */
    bool filter_valid, filter_keep;
    struct change_col *drop_buf;
    size_t drop_cap;

    /* XA: rows of an XA group are held back until its outcome is known (see the XA banner). */
    bool xa_group; /* inside an XA START ... XA PREPARE / ONE PHASE group */
    char xa_file[POSITION_FILE_MAX + 1];
    uint64_t xa_start;         /* offset of the group's first event */
    struct position xa_before; /* committed when the group began */
    struct xa_pending *xa;     /* prepared, undecided; oldest first */
    size_t nxa, capxa;
    bool rereading;       /* on_change is fed by a re-read of a prepared group */
    const char *password; /* the source password, while run() holds it */
    uint64_t reread_end;
    const char *reread_at_file; /* the deciding XA COMMIT: file, offset */
    uint64_t reread_at_pos;
    uint32_t reread_row;

    /* The purge horizon, measured on a side SQL connection every HORIZON_EVERY_MS. */
    struct metrics_probe *probe;
    uint64_t horizon_ms;  /* when last measured (monotonic) */
    bool horizon_failing; /* the last measure failed (logged once) */
};

const char *instance_state_name(enum instance_state s)
{
    switch (s) {
    case INSTANCE_STARTING:
        return "starting";
    case INSTANCE_STREAMING:
        return "streaming";
    case INSTANCE_RECONNECTING:
        return "reconnecting";
    case INSTANCE_STALLED:
        return "stalled";
    case INSTANCE_FAILED:
        return "failed";
    case INSTANCE_STOPPED:
        return "stopped";
    case INSTANCE_STANDBY:
        return "standby";
    }
    return "unknown";
}

/* Moves to state s, logging the change once (old -> new, with why when given). */
static void set_state(struct instance *in, enum instance_state s, const char *why)
{
    pthread_mutex_lock(&in->mu);
    enum instance_state old = in->state;
    bool changed = old != s || (why && strcmp(why, in->why) != 0);
    in->state = s;
    in->own_state = s;
    snprintf(in->why, sizeof(in->why), "%s", why ? why : "");
    if (old != s)
        in->since = time(NULL);
    pthread_mutex_unlock(&in->mu);
    if (!changed)
        return;
    if (s == INSTANCE_FAILED)
        log_error(FAC, in->ic->name, "%s -> %s: %s", instance_state_name(old),
                  instance_state_name(s), why ? why : "");
    else if (s == INSTANCE_STALLED || s == INSTANCE_RECONNECTING)
        log_warn(FAC, in->ic->name, "%s -> %s%s%s", instance_state_name(old),
                 instance_state_name(s), why && *why ? ": " : "", why ? why : "");
    else
        log_info(FAC, in->ic->name, "%s -> %s%s%s", instance_state_name(old),
                 instance_state_name(s), why && *why ? ": " : "", why ? why : "");
}

static void set_conn_fd(struct instance *in, int fd)
{
    pthread_mutex_lock(&in->mu);
    in->conn_fd = fd;
    pthread_mutex_unlock(&in->mu);
}

/* Copies the thread's positions and counters into the status fields. */
/* The in-flight cost plus what the sinks hold on top of it (rendered messages queued). */
static size_t inflight_total(const struct instance *in)
{
    size_t n = in->inflight;
    for (size_t i = 0; i < in->nslots; i++)
        if (in->slots[i].sink)
            n += in->slots[i].sink->held_bytes;
    return n;
}

static uint64_t locked_schema_version(struct instance *in)
{
    pthread_mutex_lock(&in->schema_mu);
    uint64_t v = schema_version(in->schema);
    pthread_mutex_unlock(&in->schema_mu);
    return v;
}

static void publish(struct instance *in)
{
    pthread_mutex_lock(&in->mu);
    position_copy(&in->st_parsed, &in->committed);
    position_copy(&in->st_consumed, &in->consumed);
    in->st_inflight = inflight_total(in);
    in->st_schema_versions = in->schema ? locked_schema_version(in) : 0;
    pthread_mutex_unlock(&in->mu);
}

/* Cluster mode: before anything goes out (sink append, batch, position save), the owner checks
 * its lease; a fenced owner writes nothing more (ERR_POS_STALE, then run() steps down). */
static int check_fence(struct instance *in, struct err *err)
{
    if (in->cluster == NULL || !cluster_fenced(in->cluster))
        return 0;
    return err_set(err, ERR_POS_STALE, "fenced: %s", cluster_fence_reason(in->cluster));
}

/* ---- sinks and acknowledgements ----------------------------------------------------------- */

static void on_ack(uint64_t batch_id, size_t bytes, void *opaque)
{
    (void)bytes;
    struct sink_slot *slot = opaque;
    if (batch_id <= slot->acked)
        return;
    /* The batches this ack covers are still pending: retire() waits for every sink. */
    uint64_t rows = 0;
    for (size_t i = 0; i < slot->in->npend; i++)
        if (slot->in->pend[i].id > slot->acked && slot->in->pend[i].id <= batch_id)
            rows += slot->in->pend[i].rows;
    atomic_fetch_add_explicit(&slot->delivered, rows, memory_order_relaxed);
    slot->acked = batch_id;
}

/* Retires every batch all sinks acknowledged; moves `consumed`. */
static void retire(struct instance *in)
{
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < in->nslots; i++)
        if (in->slots[i].acked < min)
            min = in->slots[i].acked;
    size_t k = 0;
    while (k < in->npend && in->pend[k].id <= min) {
        struct pending *p = &in->pend[k];
        in->inflight -= p->cost < in->inflight ? p->cost : in->inflight;
        if (p->has_pos) {
            position_copy(&in->consumed, &p->pos);
            in->consumed_schema = p->schema_version;
            in->dirty = true;
        }
        position_free(&p->pos);
        k++;
    }
    if (k) {
        memmove(in->pend, in->pend + k, (in->npend - k) * sizeof(*in->pend));
        in->npend -= k;
    }
}

/* Closes the open batch (even when empty but a transaction ended in it: its position must
 * still travel through the acknowledgements). */
static int close_batch(struct instance *in, struct err *err)
{
    if (in->batch_changes == 0 && !in->batch_commit)
        return 0;
    if (in->npend == in->cappend) {
        in->cappend = in->cappend ? in->cappend * 2 : 16;
        in->pend = xrealloc(in->pend, in->cappend * sizeof(*in->pend));
    }
    struct pending *p = &in->pend[in->npend++];
    memset(p, 0, sizeof(*p));
    p->id = in->next_batch;
    p->closed_ms = clock_mono_ms();
    p->cost = in->batch_cost;
    p->rows = in->batch_rows;
    p->has_pos = in->batch_commit;
    position_init(&p->pos);
    if (p->has_pos) {
        position_copy(&p->pos, &in->committed);
        p->schema_version = in->committed_schema;
    }
    uint64_t id = in->next_batch++;
    in->batch_cost = 0;
    in->batch_changes = 0;
    in->batch_rows = 0;
    in->batch_commit = false;
    if (check_fence(in, err))
        return err->code;
    for (size_t i = 0; i < in->nslots; i++) {
        int rc = sink_write_batch(in->slots[i].sink, id, err);
        if (rc) {
            atomic_fetch_add_explicit(&in->slots[i].errors, 1, memory_order_relaxed);
            return rc;
        }
    }
    retire(in);
    return 0;
}

/* Serves every sink's acknowledgements; waits (at most timeout_ms) only on the first sink
 * still behind, so a sink with nothing pending (Kafka, idle) never holds up one that has. */
static int poll_sinks(struct instance *in, int timeout_ms, struct err *err)
{
    size_t wait_on = in->nslots;
    for (size_t i = 0; i < in->nslots && wait_on == in->nslots; i++)
        if (in->slots[i].acked + 1 < in->next_batch)
            wait_on = i;
    for (size_t i = 0; i < in->nslots; i++) {
        int rc = sink_poll(in->slots[i].sink, i == wait_on ? timeout_ms : 0, err);
        if (rc) {
            atomic_fetch_add_explicit(&in->slots[i].errors, 1, memory_order_relaxed);
            return rc;
        }
    }
    retire(in);
    return 0;
}

/* Saves positions when they moved and the interval passed (or force). */
static int save_positions(struct instance *in, bool force, struct err *err)
{
    uint64_t now = clock_mono_ms();
    if (!in->dirty || (!force && now - in->last_save_ms < in->ic->positions.save_interval_ms))
        return 0;
    /* A prepared XA transaction not decided yet is re-read after a restart only when the
     * saved position lies before it. */
    if (in->nxa && position_place_cmp(in->xa[0].before.file, in->xa[0].before.offset,
                                      in->consumed.file, in->consumed.offset) < 0)
        position_copy(&in->rec.consumed, &in->xa[0].before);
    else
        position_copy(&in->rec.consumed, &in->consumed);
    position_copy(&in->rec.parsed, &in->committed);
    snprintf(in->rec.server_uuid, sizeof(in->rec.server_uuid), "%s", in->server_uuid);
    in->rec.server_id = in->server_id;
    snprintf(in->rec.server_version, sizeof(in->rec.server_version), "%s", in->server_version);
    in->rec.schema_version = in->consumed_schema;
    if (check_fence(in, err))
        return err->code;
    int rc = pos_store_save(in->store, &in->rec, err);
    if (rc && in->cluster && rc == ERR_POS_STORE && err->retriable) {
        /* ZooKeeper unreachable for now: stream on (the lease fences the owner before its
         * session can expire); the positions are saved when it answers again. */
        if (!in->save_deferred)
            log_warn(FAC, in->ic->name, "%s; streaming on, saving when it is back", err->msg);
        in->save_deferred = true;
        err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    if (in->save_deferred)
        log_info(FAC, in->ic->name, "positions saved again");
    in->save_deferred = false;
    in->have_rec = true;
    in->dirty = false;
    in->last_save_ms = now;
    publish(in);
    return 0;
}

/* True when the in-flight cost is over the budget, or a sink holds more than its own limit. */
static bool over_budget(const struct instance *in)
{
    for (size_t i = 0; i < in->nslots; i++) {
        const struct sink *s = in->slots[i].sink;
        if (s && s->held_limit && s->held_bytes > s->held_limit)
            return true;
    }
    return inflight_total(in) > ((size_t)in->ic->budget_mb << 20);
}

/* `stalled` while the oldest unacknowledged batch is older than stall_timeout_ms (a broker that
 * is down, a disk that hangs), back to `streaming` once the sinks catch up: never silent, even
 * when the budget is far from full. */
static void check_sink_stall(struct instance *in)
{
    bool late = in->npend && clock_mono_ms() - in->pend[0].closed_ms > in->ic->stall_timeout_ms;
    enum instance_state st = instance_state(in);
    if (late && st == INSTANCE_STREAMING) {
        char why[200];
        snprintf(why, sizeof(why), "sinks have not acknowledged batch %llu for %llu ms",
                 (unsigned long long)in->pend[0].id,
                 (unsigned long long)(clock_mono_ms() - in->pend[0].closed_ms));
        set_state(in, INSTANCE_STALLED, why);
        in->sink_stalled = true;
    } else if (!late && in->sink_stalled) {
        in->sink_stalled = false;
        if (st == INSTANCE_STALLED)
            set_state(in, INSTANCE_STREAMING, NULL);
    }
}

/* Waits until the in-flight cost is under the budget (a slow sink pushes back here). */
static int wait_budget(struct instance *in, struct err *err)
{
    uint64_t start = 0;
    while (over_budget(in) && !atomic_load(&in->stop)) {
        if (start == 0) {
            start = clock_mono_ms();
            /* The open batch is part of what is over the budget: send it on its way. */
            int rc = close_batch(in, err);
            if (rc)
                return rc;
        }
        int rc = poll_sinks(in, 100, err);
        if (rc)
            return rc;
        if (clock_mono_ms() - start > in->ic->stall_timeout_ms &&
            instance_state(in) != INSTANCE_STALLED) {
            char why[200];
            snprintf(why, sizeof(why),
                     "sinks have not acknowledged %zu MiB for %u ms (budget %u MiB)",
                     inflight_total(in) >> 20, in->ic->stall_timeout_ms, in->ic->budget_mb);
            set_state(in, INSTANCE_STALLED, why);
        }
    }
    if (start && instance_state(in) == INSTANCE_STALLED)
        set_state(in, INSTANCE_STREAMING, NULL);
    return 0;
}

/* ---- filters -------------------------------------------------------------------------------- */

static bool table_wanted(struct instance *in, const struct table_map *tm)
{
    /* By name: maps of several decoders (and freed ones' addresses) come by. */
    if (in->filter_valid && strcmp(tm->db, in->filter_db) == 0 &&
        strcmp(tm->table, in->filter_table) == 0)
        return in->filter_keep;
    char name[512];
    snprintf(name, sizeof(name), "%s.%s", tm->db, tm->table);
    bool keep = in->ic->filters.n_include == 0;
    for (size_t i = 0; !keep && i < in->ic->filters.n_include; i++)
        keep = regexec(&in->ic->filters.include[i].re, name, 0, NULL, 0) == 0;
    for (size_t i = 0; keep && i < in->ic->filters.n_exclude; i++)
        keep = regexec(&in->ic->filters.exclude[i].re, name, 0, NULL, 0) != 0;
    in->filter_valid =
        strlen(tm->db) < sizeof(in->filter_db) && strlen(tm->table) < sizeof(in->filter_table);
    if (in->filter_valid) {
        strcpy(in->filter_db, tm->db);
        strcpy(in->filter_table, tm->table);
    }
    in->filter_keep = keep;
    return keep;
}

static const struct config_drop_columns *drop_list(struct instance *in, const struct table_map *tm)
{
    for (size_t i = 0; i < in->ic->filters.n_drop_columns; i++) {
        const struct config_drop_columns *d = &in->ic->filters.drop_columns[i];
        size_t dl = strlen(tm->db);
        if (strncmp(d->table, tm->db, dl) == 0 && d->table[dl] == '.' &&
            strcmp(d->table + dl + 1, tm->table) == 0)
            return d;
    }
    return NULL;
}

static bool col_dropped(const struct config_drop_columns *d, const struct table_map *tm, uint32_t i)
{
    const char *name = i < tm->ncols ? tm->cols[i].name : NULL;
    if (name == NULL)
        return false;
    for (size_t k = 0; k < d->n_columns; k++)
        if (strcmp(d->columns[k], name) == 0)
            return true;
    return false;
}

/* Copies img without the dropped columns into buf (at offset *used). */
static struct change_image drop_cols(struct instance *in,
                                     const struct config_drop_columns *d,
                                     const struct table_map *tm,
                                     struct change_image img,
                                     size_t *used)
{
    struct change_col *out = in->drop_buf + *used;
    uint32_t n = 0;
    for (uint32_t i = 0; i < img.ncols; i++)
        if (!col_dropped(d, tm, img.cols[i].index))
            out[n++] = img.cols[i];
    *used += n;
    return (struct change_image){.cols = out, .ncols = n};
}

/* ---- the decoder's callbacks ---------------------------------------------------------------- */

static int append_all(struct instance *in, const struct change *c)
{
    if (check_fence(in, &in->fail))
        return in->fail.code;
    for (size_t i = 0; i < in->nslots; i++) {
        int rc = sink_append(in->slots[i].sink, c, &in->fail);
        if (rc) {
            atomic_fetch_add_explicit(&in->slots[i].errors, 1, memory_order_relaxed);
            return rc;
        }
    }
    if (c->kind == CHANGE_INSERT || c->kind == CHANGE_UPDATE || c->kind == CHANGE_DELETE)
        in->batch_rows++;
    size_t cost = 64 + (c->sql ? c->sql_len : 0);
    uint32_t ncols = c->before.ncols + c->after.ncols + c->partial.ncols;
    if (ncols) {
        /* The text arena holds this row's values (and sometimes earlier rows' too: bounded). */
        cost += ncols * sizeof(struct change_col);
        const struct change_image *imgs[] = {&c->before, &c->after, &c->partial};
        for (int k = 0; k < 3; k++)
            for (uint32_t j = 0; j < imgs[k]->ncols; j++)
                cost += imgs[k]->cols[j].len;
    }
    in->batch_cost += cost;
    in->inflight += cost;
    if (in->batch_changes++ == 0)
        in->batch_started_ms = clock_mono_ms();
    return 0;
}

/* A transaction (or a statement outside one) ended with change c. */
static int commit_boundary(struct instance *in, const struct change *c)
{
    if (position_set_file(&in->committed, c->file, &in->fail))
        return ERR_INSTANCE;
    in->committed.offset = c->next_pos;
    in->committed.ts = c->ts;
    if (c->gtid && position_gtid_add(&in->committed.gtid, c->gtid, &in->fail)) {
        /* A GTID of the other flavour than the stored set (a MySQL set restored against a
         * MariaDB server): restart the set from this transaction. */
        position_gtid_free(&in->committed.gtid);
        if (position_gtid_add(&in->committed.gtid, c->gtid, &in->fail))
            return ERR_INSTANCE;
    }
    if (in->schema)
        in->committed_schema = locked_schema_version(in);
    in->batch_commit = true;
    in->in_txn = in->in_begin = false;
    return 0;
}

static int reread_xa(
    struct instance *in, const char *file, uint64_t start, uint64_t end, const struct change *at);

/* ---- XA --------------------------------------------------------------------------------------
 * The rows of an XA transaction are written at XA PREPARE, and the decision (XA COMMIT or XA
 * ROLLBACK, in a later event group) may come much later, after other transactions. Consumers
 * must never see rolled-back rows as committed, so the rows of an XA group are not sent when
 * read: at XA PREPARE the group's place is remembered; at XA COMMIT the group is read again from
 * the server (a second, short dump connection) and its rows are sent then, in the committing
 * transaction's place in the stream; at XA ROLLBACK it is forgotten. A one-phase XA COMMIT in the
 * group itself is re-read the same way. The saved position never passes a prepared, undecided
 * group: after a restart it is read again, so its decision is not missed. */

/* The xid of an XA statement: what follows its keywords, without " ONE PHASE". */
static void xa_xid(const char *sql, size_t len, const char *kw, char *out, size_t outsz)
{
    size_t k = strlen(kw);
    size_t i = len >= k ? k : len;
    while (i < len && sql[i] == ' ')
        i++;
    size_t n = len - i;
    if (n >= 10 && strncasecmp(sql + len - 10, " ONE PHASE", 10) == 0)
        n -= 10;
    while (n && sql[i + n - 1] == ' ')
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, sql + i, n);
    out[n] = '\0';
}

static bool sql_starts(const struct change *c, const char *kw)
{
    size_t k = strlen(kw);
    return c->sql && c->sql_len >= k && strncasecmp(c->sql, kw, k) == 0;
}

static ssize_t xa_find(struct instance *in, const char *xid)
{
    for (size_t i = 0; i < in->nxa; i++)
        if (strcmp(in->xa[i].xid, xid) == 0)
            return (ssize_t)i;
    return -1;
}

static void xa_forget(struct instance *in, size_t i)
{
    position_free(&in->xa[i].before);
    memmove(in->xa + i, in->xa + i + 1, (in->nxa - i - 1) * sizeof(*in->xa));
    in->nxa--;
}

/* The end of a transaction: handles XA outcomes, then moves the boundary. */
static int end_of_txn(struct instance *in, const struct change *c)
{
    char xid[256];
    if (in->xa_group) {
        in->xa_group = false;
        if (c->kind == CHANGE_COMMIT && sql_starts(c, "XA PREPARE")) {
            if (in->nxa == in->capxa) {
                in->capxa = in->capxa ? in->capxa * 2 : 4;
                in->xa = xrealloc(in->xa, in->capxa * sizeof(*in->xa));
            }
            struct xa_pending *p = &in->xa[in->nxa++];
            memset(p, 0, sizeof(*p));
            xa_xid(c->sql, c->sql_len, "XA PREPARE", p->xid, sizeof(p->xid));
            snprintf(p->file, sizeof(p->file), "%s", in->xa_file);
            p->start = in->xa_start;
            p->end = c->pos;
            position_init(&p->before);
            position_copy(&p->before, &in->xa_before);
            log_debug(FAC, in->ic->name, "XA %s prepared at %s:%llu", p->xid, p->file,
                      (unsigned long long)p->start);
        } else if (c->kind == CHANGE_COMMIT) {
            /* XA COMMIT ... ONE PHASE: the group committed itself. */
            int r = reread_xa(in, in->xa_file, in->xa_start, c->pos, c);
            if (r)
                return r;
        }
    } else if (c->kind == CHANGE_COMMIT && sql_starts(c, "XA COMMIT")) {
        xa_xid(c->sql, c->sql_len, "XA COMMIT", xid, sizeof(xid));
        ssize_t i = xa_find(in, xid);
        if (i < 0) {
            log_warn(FAC, in->ic->name,
                     "XA COMMIT %s at %s:%llu: its XA PREPARE lies before where this instance "
                     "started reading: its rows were not captured",
                     xid, c->file, (unsigned long long)c->pos);
        } else {
            struct xa_pending p = in->xa[i];
            int r = reread_xa(in, p.file, p.start, p.end, c);
            if (r)
                return r;
            xa_forget(in, (size_t)i);
        }
    } else if (c->kind == CHANGE_ROLLBACK && sql_starts(c, "XA ROLLBACK")) {
        xa_xid(c->sql, c->sql_len, "XA ROLLBACK", xid, sizeof(xid));
        ssize_t i = xa_find(in, xid);
        if (i >= 0)
            xa_forget(in, (size_t)i);
    }
    return commit_boundary(in, c);
}

static int on_change(const struct change *c, void *opaque)
{
    struct instance *in = opaque;
    unsigned ev = in->ic->filters.events;
    struct change moved;
    if (in->rereading) {
        /* Only the rows of the group being re-read. They take the place of the XA COMMIT that
         * decided them, so positions in the output keep increasing. */
        bool is_row =
            c->kind == CHANGE_INSERT || c->kind == CHANGE_UPDATE || c->kind == CHANGE_DELETE;
        if (!is_row || c->pos >= in->reread_end)
            return 0;
        moved = *c;
        moved.file = in->reread_at_file;
        moved.pos = in->reread_at_pos;
        moved.next_pos = in->reread_at_pos;
        moved.row = in->reread_row++;
        c = &moved;
    }
    switch (c->kind) {
    case CHANGE_GTID:
        in->in_txn = true; /* the event group has begun: no boundary until it ends */
        return 0;
    case CHANGE_BEGIN:
        in->in_txn = in->in_begin = true;
        if (c->xa) {
            in->xa_group = true;
            snprintf(in->xa_file, sizeof(in->xa_file), "%s", c->file);
            in->xa_start = c->pos;
            position_copy(&in->xa_before, &in->committed);
        }
        return 0;
    case CHANGE_COMMIT:
    case CHANGE_ROLLBACK:
        return end_of_txn(in, c);
    case CHANGE_DDL: {
        if (in->schema) {
            pthread_mutex_lock(&in->schema_mu);
            int r = schema_apply_query(in->schema, c->db, c->sql, c->sql_len, c->file, c->pos,
                                       &in->fail);
            pthread_mutex_unlock(&in->schema_mu);
            if (r < 0)
                return r;
            if (r > 0) {
                decoder_forget_tables(in->dec);
                if (in->pool)
                    stream_pool_forget_tables(in->pool);
                in->filter_valid = false;
            }
        }
        bool is_stmt = c->sql_len >= 5 && strncasecmp(c->sql, "BEGIN", 5) == 0;
        if (!is_stmt && (ev & CONFIG_EVENT_DDL)) {
            int r = append_all(in, c);
            if (r)
                return r;
        }
        /* A statement outside BEGIN (a DDL after its GTID, or without one) is its own
         * group: it ends here. */
        if (!in->in_begin)
            return commit_boundary(in, c);
        return 0;
    }
    case CHANGE_INSERT:
    case CHANGE_UPDATE:
    case CHANGE_DELETE: {
        unsigned bit = c->kind == CHANGE_INSERT   ? CONFIG_EVENT_INSERT
                       : c->kind == CHANGE_UPDATE ? CONFIG_EVENT_UPDATE
                                                  : CONFIG_EVENT_DELETE;
        if (!in->rereading) {
            atomic_fetch_add_explicit(&in->n_rows, 1, memory_order_relaxed);
            if (in->xa_group)
                return 0; /* sent when the XA outcome is read */
        }
        if (!(ev & bit) || (c->tmap && !table_wanted(in, c->tmap)))
            return 0;
        const struct config_drop_columns *d =
            c->tmap && in->ic->filters.n_drop_columns ? drop_list(in, c->tmap) : NULL;
        if (d == NULL)
            return append_all(in, c);
        size_t need = (size_t)c->before.ncols + c->after.ncols + c->partial.ncols;
        if (need > in->drop_cap) {
            in->drop_cap = need;
            in->drop_buf = xrealloc(in->drop_buf, need * sizeof(*in->drop_buf));
        }
        struct change f = *c;
        size_t used = 0;
        f.before = drop_cols(in, d, c->tmap, c->before, &used);
        f.after = drop_cols(in, d, c->tmap, c->after, &used);
        f.partial = drop_cols(in, d, c->tmap, c->partial, &used);
        return append_all(in, &f);
    }
    }
    return 0;
}

/* A table map of `file` at `offset` checked against (and completed from) the schema. Any
 * thread: the pool's run it too. */
static int pool_table_map(
    struct table_map *tm, const char *file, uint64_t offset, void *opaque, struct err *err)
{
    struct instance *in = opaque;
    pthread_mutex_lock(&in->schema_mu);
    schema_set_position(in->schema, file, offset);
    int rc = schema_table_map(tm, in->schema, err);
    pthread_mutex_unlock(&in->schema_mu);
    return rc;
}

static int on_table_map(struct table_map *tm, void *opaque, struct err *err)
{
    struct instance *in = opaque;
    return pool_table_map(tm, in->sp.file, in->cur_offset, in, err);
}

static void on_warn(const char *msg, void *opaque)
{
    struct instance *in = opaque;
    log_warn("BINLOG", in->ic->name, "%s", msg);
}

/* ---- start-up ---------------------------------------------------------------------------- */

static void conn_opts(struct instance *in, struct binlog_conn_opts *o, const char *password)
{
    binlog_conn_opts_from_config(o, in->ic, password);
    o->warn = on_warn;
    o->opaque = in;
}

static bool sleep_or_stop(struct instance *in, uint64_t ms);

/* Opens the store (once) and loads the positions. Cluster mode: first waits in `standby`
 * until this daemon owns the instance (returns 1 when stopped meanwhile), then claims the
 * record by writing it back stamped with its epoch, so that any older owner's write fails. */
static int open_store(struct instance *in, struct err *err)
{
    const struct config_instance *ic = in->ic;
    if (ic->positions.store == CONFIG_STORE_FILE && fs_mkdirs(ic->positions.dir, err))
        return ERR_POS_STORE;
    /* Cluster mode: ZooKeeper unreachable at start is waited out (in standby, saying why). */
    while (in->store == NULL && (in->store = pos_store_open_config(ic, err)) == NULL &&
           ic->positions.store == CONFIG_STORE_ZOOKEEPER && err->code == ERR_POS_STORE) {
        set_state(in, INSTANCE_STANDBY, err->msg);
        if (sleep_or_stop(in, 2000))
            return 1;
        err_clear(err);
    }
    if (in->store == NULL)
        return ERR_POS_STORE;
    if (ic->positions.store == CONFIG_STORE_ZOOKEEPER) {
        if (in->members == NULL)
            in->members = members_join(in->cfg, ic);
        if (in->cluster == NULL)
            in->cluster = cluster_new(in->store, in->members, in->cfg->node.name,
                                      in->cfg->admin.listen, in->cfg->server.listen);
        set_state(in, INSTANCE_STANDBY, "waiting to own the instance");
        int arc = cluster_acquire(in->cluster, &in->stop, err);
        if (arc)
            return arc;
    }
    int rc = pos_store_load(in->store, &in->rec, err);
    if (rc < 0)
        return rc;
    in->have_rec = rc == POS_STORE_LOADED;
    if (in->cluster && in->have_rec && (rc = pos_store_save(in->store, &in->rec, err)) != 0)
        return rc;
    if (in->have_rec) {
        position_copy(&in->consumed, &in->rec.consumed);
        position_copy(&in->committed, &in->rec.consumed);
        in->consumed_schema = in->committed_schema = in->rec.schema_version;
    }
    return 0;
}

static int open_sinks(struct instance *in, struct err *err)
{
    /* With `server:` configured the instance also feeds its client hub (sinks/hub.c), last. */
    static const struct config_sink hub_cfg = {.format = CONFIG_FORMAT_JSON};
    bool hub = hub_find(in->ic->name) != NULL;
    in->nslots = in->ic->n_sinks + (hub ? 1 : 0);
    char fence_id[512];
    snprintf(fence_id, sizeof(fence_id), "sluice.%s.%s",
             in->ic->positions.cluster ? in->ic->positions.cluster : "", in->ic->name);
    in->slots = xcalloc(in->nslots ? in->nslots : 1, sizeof(*in->slots));
    for (size_t i = 0; i < in->nslots; i++) {
        in->slots[i].in = in;
        bool is_hub = i == in->ic->n_sinks;
        struct sink_conf sc = {
            in->ic->name,  is_hub ? &hub_cfg : &in->ic->sinks[i], on_ack,
            &in->slots[i], (size_t)in->ic->budget_mb << 20,       in->cluster ? fence_id : NULL};
        in->slots[i].sink = is_hub ? sink_find("hub")->open(&sc, err) : sink_open(&sc, err);
        if (in->slots[i].sink == NULL)
            return ERR_SINK;
    }
    pthread_mutex_lock(&in->mu);
    in->st_nslots = in->nslots;
    pthread_mutex_unlock(&in->mu);
    return 0;
}

/* Cluster mode: the schema history's copy in ZooKeeper (meta/zk.c). */
static int mirror_put(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err)
{
    return pos_store_zk_schema_put(opaque, version, rec, len, err);
}

/* Cluster mode, before the model is loaded: makes the local history hold the versions the
 * positions were stored with, 1..v, from ZooKeeper, so that a daemon taking the instance over
 * decodes the events after the stored position with the schema in force when they were written.
 * A cluster whose ZooKeeper holds no copy yet (written by an older sluice) gets one from this
 * daemon's own history when it holds them. Records after v are dropped in both places: they
 * belong to events read again. Returns 0 or an error code; *missing is set when neither holds
 * version v. */
static int sync_schema_copy(struct instance *in, uint64_t v, bool *missing, struct err *err)
{
    *missing = false;
    struct strbuf recs = {0};
    int got = pos_store_zk_schema_get(in->store, v, &recs, err), rc = 0;
    if (got < 0) {
        rc = err->code;
    } else if (got == 1) {
        rc = schema_history_replace(in->schema, recs.buf ? recs.buf : "", recs.len, err);
    } else if (schema_history_each(in->schema, v, mirror_put, in->store, err) != 0) {
        log_warn(FAC, in->ic->name, "schema version %llu is neither in ZooKeeper nor here (%s)",
                 (unsigned long long)v, err->msg);
        err_clear(err);
        *missing = true;
    } else {
        log_info(FAC, in->ic->name, "schema history versions 1..%llu copied to ZooKeeper",
                 (unsigned long long)v);
    }
    strbuf_free(&recs);
    if (rc == 0 && !*missing)
        rc = pos_store_zk_schema_trim(in->store, v, err);
    return rc;
}

static int open_schema(struct instance *in, const char *password, struct err *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s/schema", in->cfg->data_dir, in->ic->name);
    struct schema_conn sc = {in->ic->source.host,          in->ic->source.port,
                             in->ic->source.user,          password,
                             (int)in->ic->source.tls.mode, in->ic->source.tls.ca,
                             in->ic->source.tls.cert,      in->ic->source.tls.key};
    in->schema = schema_open(dir, &sc, err);
    if (in->schema == NULL)
        return ERR_SCHEMA;
    uint64_t v = in->have_rec ? in->rec.schema_version : 0;
    bool missing = false;
    if (in->cluster && sync_schema_copy(in, v, &missing, err))
        return err->code;
    int rc = missing ? ERR_SCHEMA : schema_load(in->schema, v, err);
    if (rc && in->cluster && v) {
        /* Neither ZooKeeper nor this daemon holds the version the positions name. */
        log_warn(FAC, in->ic->name,
                 "%s: the schema history of version %llu is lost; starting from the source's "
                 "current schema",
                 err->code ? err->msg : "schema history missing", (unsigned long long)v);
        err_clear(err);
        rc = schema_load(in->schema, 0, err);
        if (rc == 0)
            rc = pos_store_zk_schema_trim(in->store, 0, err);
    }
    if (rc == 0 && in->cluster) {
        struct schema_mirror m = {mirror_put, in->store};
        schema_set_mirror(in->schema, &m);
    }
    return rc;
}

static void schema_warn(const char *msg, void *opaque)
{
    struct instance *in = opaque;
    log_warn("SCHEMA", in->ic->name, "%s", msg);
}

/* A decoder for a stream of conn feeding on_change (every event kind: the boundaries matter). */
static struct decoder *new_decoder(struct instance *in, const struct binlog_conn *conn)
{
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.all_events = true;
    o.follow_rotate = true;
    o.checksum_before_fde = binlog_conn_has_checksum(conn);
    o.emit = on_change;
    o.warn = on_warn;
    o.on_table_map = in->schema ? on_table_map : NULL;
    o.opaque = in;
    return decoder_new(&o);
}

/* Where the first connection starts when nothing is stored: fills in->committed from the
 * config's `start:`. */
static int initial_position(struct instance *in, const struct binlog_conn_opts *co, struct err *err)
{
    const struct config_start *st = &in->ic->start;
    struct position *p = &in->committed;
    switch (st->kind) {
    case CONFIG_START_EARLIEST:
        return position_find_earliest(co, p, err);
    case CONFIG_START_LATEST:
        return position_find_latest(co, p, err);
    case CONFIG_START_FILE_POS:
        if (position_set_file(p, st->file, err))
            return ERR_INSTANCE;
        p->offset = st->pos;
        return 0;
    case CONFIG_START_GTID_MARIADB:
        return position_gtid_parse(&p->gtid, st->text, err);
    case CONFIG_START_GTID_MYSQL:
        return err_set(err, ERR_INSTANCE,
                       "start: a MySQL GTID set needs COM_BINLOG_DUMP_GTID, which this build does "
                       "not send yet; start at a file:pos (SHOW BINARY LOG STATUS) instead");
    case CONFIG_START_TIMESTAMP: {
        struct position_find_stats fs;
        memset(&fs, 0, sizeof(fs));
        int rc = position_find_by_time(co, st->timestamp, p, &fs, err);
        if (rc)
            return rc;
        log_info(FAC, in->ic->name, "start %s resolved to %s:%llu", st->text, p->file,
                 (unsigned long long)p->offset);
        return 0;
    }
    }
    return 0;
}

/* Opens a connection at in->committed (or where `start:` says on a first run), checks the
 * server's identity against the stored one. */
static int connect_source(struct instance *in, const char *password, bool first, struct err *err)
{
    struct binlog_conn_opts co;
    conn_opts(in, &co, password);
    if (first && position_is_empty(&in->committed)) {
        int rc = initial_position(in, &co, err);
        if (rc)
            return rc;
        position_copy(&in->consumed, &in->committed);
    }
    struct strbuf gtid = {0};
    const struct position *p = &in->committed;
    if (p->gtid.flavor == POSITION_GTID_MARIADB && !position_gtid_is_empty(&p->gtid) &&
        (p->file[0] == '\0' || in->identity_changed)) {
        position_gtid_format(&p->gtid, &gtid);
        co.gtid = gtid.buf;
    } else if (p->file[0]) {
        co.start_file = p->file;
        co.start_pos = p->offset ? p->offset : 4;
    } else if (!position_gtid_is_empty(&p->gtid)) {
        strbuf_free(&gtid);
        return err_set(err, ERR_INSTANCE,
                       "the stored position is a MySQL GTID set without a file: this build "
                       "cannot resume from it; run sluice position reset --config %s --instance "
                       "%s --file F --pos P",
                       in->cfg->path, in->ic->name);
    }
    in->conn = binlog_conn_open(&co, err);
    strbuf_free(&gtid);
    if (in->conn == NULL)
        return err->code ? err->code : ERR_BINLOG_CONNECT;
    binlog_conn_return_heartbeats(in->conn, true);

    uint32_t sid = 0;
    const char *uuid_b = NULL, *version_b = NULL;
    bool mariadb = false;
    binlog_conn_identity(in->conn, &sid, &uuid_b, &version_b, &mariadb);
    /* Copies: the connection may be closed below. */
    char uuid[37], version[128];
    snprintf(uuid, sizeof(uuid), "%s", uuid_b ? uuid_b : "");
    snprintf(version, sizeof(version), "%s", version_b ? version_b : "");
    /* The identity check: a position is a place in one server's binlog. */
    bool stored = in->have_rec && (in->rec.server_id != 0 || in->rec.server_uuid[0]);
    bool same = !stored || (in->rec.server_uuid[0] ? strcmp(in->rec.server_uuid, uuid) == 0
                                                   : in->rec.server_id == sid);
    if (!same && !in->identity_changed) {
        if (!position_gtid_is_empty(&in->committed.gtid) && mariadb) {
            struct strbuf g = {0};
            position_gtid_format(&in->committed.gtid, &g);
            log_warn(FAC, in->ic->name,
                     "source server changed (server_id %u -> %u): resuming by GTID %s",
                     in->rec.server_id, sid, g.buf ? g.buf : "");
            strbuf_free(&g);
            in->identity_changed = true;
            binlog_conn_close(in->conn);
            in->conn = NULL;
            return connect_source(in, password, false, err);
        }
        binlog_conn_close(in->conn);
        in->conn = NULL;
        return err_set(err, ERR_INSTANCE_IDENTITY,
                       "the stored position belongs to server_id %u%s%s%s, but %s:%u is server_id "
                       "%u%s%s%s and the position has no GTID to resume by; if the change is "
                       "intended, run: sluice position reset --config %s --instance %s "
                       "--earliest|--latest|--timestamp T",
                       in->rec.server_id, in->rec.server_uuid[0] ? " (uuid " : "",
                       in->rec.server_uuid, in->rec.server_uuid[0] ? ")" : "", in->ic->source.host,
                       in->ic->source.port, sid, *uuid ? " (uuid " : "", uuid, *uuid ? ")" : "",
                       in->cfg->path, in->ic->name);
    }
    in->server_id = sid;
    memcpy(in->server_uuid, uuid, sizeof(in->server_uuid));
    memcpy(in->server_version, version, sizeof(in->server_version));
    in->server_mariadb = mariadb;

    decoder_free(in->dec);
    in->dec = new_decoder(in, in->conn);
    stream_pool_free(in->pool);
    in->pool = NULL;
    if (in->ic->decode_threads > 0) {
        struct stream_pool_opts po = {
            .threads = in->ic->decode_threads,
            .checksum_before_fde = binlog_conn_has_checksum(in->conn),
            .replay = on_change,
            .warn = on_warn,
            .on_table_map = in->schema ? pool_table_map : NULL,
            .opaque = in,
        };
        in->pool = stream_pool_new(&po, err);
        if (in->pool == NULL)
            return err->code;
    }
    stream_pos_free(&in->sp);
    stream_pos_init(&in->sp, binlog_conn_start_file(in->conn), binlog_conn_start_pos(in->conn),
                    binlog_conn_has_checksum(in->conn));
    decoder_set_file(in->dec, in->sp.file);
    in->in_txn = in->in_begin = false;
    in->xa_group = false;
    in->filter_valid = false;
    set_conn_fd(in, binlog_conn_fd(in->conn));
    return 0;
}

/* Reads the event group [start, end) of file again on a second connection and sends its rows
 * (the XA banner above says why). */
static int reread_xa(
    struct instance *in, const char *file, uint64_t start, uint64_t end, const struct change *at)
{
    struct err *err = &in->fail;
    struct binlog_conn_opts co;
    conn_opts(in, &co, in->password);
    co.start_file = file;
    co.start_pos = start;
    co.non_blocking = true;
    /* Another id than the main connection's: a server drops the older of two replicas with the
     * same id. */
    co.server_id = 0x54000000u | ((uint32_t)getpid() & 0xffffffu);
    struct binlog_conn *conn = binlog_conn_open(&co, err);
    if (conn == NULL)
        return err->code ? err->code : ERR_BINLOG_CONNECT;
    struct decoder *d = new_decoder(in, conn);
    struct stream_pos sp;
    stream_pos_init(&sp, file, start, binlog_conn_has_checksum(conn));
    decoder_set_file(d, file);
    in->rereading = true;
    in->reread_end = end;
    in->reread_at_file = at->file;
    in->reread_at_pos = at->pos;
    in->reread_row = 0;
    int rc = 0;
    for (;;) {
        const uint8_t *ev;
        size_t len;
        int r = binlog_conn_next(conn, &ev, &len, err);
        if (r <= 0) {
            rc = r < 0 ? r
                       : err_set(err, ERR_BINLOG_STREAM,
                                 "re-reading the XA transaction at %s:%llu: the binlog ended "
                                 "before its XA PREPARE",
                                 file, (unsigned long long)start);
            break;
        }
        uint64_t off = stream_pos_offset(&sp, ev, len);
        if (sp.seen_fde && (strcmp(sp.file, file) != 0 || off >= end))
            break;
        rc = decoder_feed(d, ev, len, off, err);
        if (rc)
            break;
        stream_pos_advance(&sp, ev, len, decoder_has_checksum(d));
    }
    in->rereading = false;
    stream_pos_free(&sp);
    decoder_free(d);
    binlog_conn_close(conn);
    return rc;
}

/* ---- the stream ---------------------------------------------------------------------------- */

/* True when the connection's socket has nothing waiting after up to timeout_ms. */
static bool socket_wait(int fd, int timeout_ms)
{
    if (fd < 0)
        return true;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 0;
}

/* True when the connection's socket has nothing waiting: the stream has caught up. */
static bool socket_idle(int fd)
{
    return socket_wait(fd, 0);
}

/* Measures the purge horizon of the consumed position (at most every HORIZON_EVERY_MS, on
 * a side SQL connection, never the stream's). A failure keeps the last value; it is logged once
 * until a measure succeeds again. */
static void refresh_horizon(struct instance *in)
{
    uint64_t now = clock_mono_ms();
    if ((in->horizon_ms && now - in->horizon_ms < HORIZON_EVERY_MS) || in->consumed.file[0] == 0)
        return;
    in->horizon_ms = now;
    if (in->probe == NULL)
        in->probe = metrics_probe_new(in->ic->name);
    struct binlog_conn_opts co;
    conn_opts(in, &co, in->password);
    int64_t files = -1, seconds = -1;
    struct err e = {0};
    if (metrics_probe_horizon(in->probe, &co, in->consumed.file, &files, &seconds, &e)) {
        if (!in->horizon_failing)
            log_warn(FAC, in->ic->name,
                     "could not measure the purge horizon (keeping the last value): %s", e.msg);
        in->horizon_failing = true;
        return;
    }
    if (in->horizon_failing)
        log_info(FAC, in->ic->name, "purge horizon measured again");
    in->horizon_failing = false;
    pthread_mutex_lock(&in->mu);
    in->st_horizon_known = true;
    in->st_horizon_files = files;
    in->st_horizon_seconds = seconds;
    pthread_mutex_unlock(&in->mu);
}

/* Reads and dispatches events until the connection ends, stop is asked, or an error. Returns 0
 * when stopped, or a negative code with in->fail filled. */
static int stream(struct instance *in)
{
    struct err *err = &in->fail;
    int fd = binlog_conn_fd(in->conn);
    in->stream_last_ms = clock_mono_ms();
    atomic_store(&in->last_event_ms, in->stream_last_ms);
    for (;;) {
        if (atomic_load(&in->stop))
            return 0;
        if (atomic_exchange(&in->reopen, false))
            for (size_t i = 0; i < in->nslots; i++)
                sink_reopen(in->slots[i].sink);
        int rc = wait_budget(in, err);
        if (rc)
            return rc;
        /* Close the batch when the stream is idle, or the batch is large or old. */
        bool idle = socket_idle(fd);
        if (idle && in->pool && stream_pool_pending(in->pool)) {
            /* The server may only be a little behind this thread: a moment's pause is not
             * idleness. Replay what the pool decoded while waiting up to POOL_IDLE_MS for
             * more; then (idle) everything read is decoded and passed on before the idle
             * steps below. */
            for (int t = 0; idle && t < POOL_IDLE_MS; t++) {
                rc = stream_pool_replay_ready(in->pool, err);
                if (rc)
                    return rc;
                idle = socket_wait(fd, 1);
            }
            if (idle && (rc = stream_pool_flush(in->pool, err)) != 0)
                return rc;
        }
        bool closed = false;
        if ((in->batch_changes || in->batch_commit) &&
            (idle || in->batch_cost >= BATCH_MAX_BYTES ||
             clock_mono_ms() - in->batch_started_ms >= BATCH_MAX_MS)) {
            rc = close_batch(in, err);
            if (rc)
                return rc;
            closed = true;
        }
        if (idle && !in->in_txn && in->sp.file[0] &&
            (in->sp.pos != in->committed.offset || strcmp(in->sp.file, in->committed.file) != 0)) {
            /* Caught up between transactions: what followed the last commit (a checkpoint, a
             * rotation) is passed too, so consumed reaches the server's end. */
            if (position_set_file(&in->committed, in->sp.file, err))
                return ERR_INSTANCE;
            in->committed.offset = in->sp.pos;
            in->batch_commit = true;
            rc = close_batch(in, err);
            if (rc)
                return rc;
        }
        if (idle || closed) {
            /* Under a steady load the stream is never idle: acknowledgements and positions are
             * taken care of after every batch too. When idle, wait (bounded) for what is still
             * unacknowledged: the next read may block for long. */
            rc = poll_sinks(in, idle && in->npend ? 1000 : 0, err);
            if (rc)
                return rc;
            check_sink_stall(in);
            rc = save_positions(in, false, err);
            if (rc)
                return rc;
            refresh_horizon(in);
            publish(in);
            atomic_store_explicit(&in->caught_up, idle, memory_order_relaxed);
            /* An idle owner writes nothing: look at the fence anyway (a reset, an expiry). */
            if (check_fence(in, err))
                return err->code;
            /* Between transactions only: what was sent then ends at a commit, so the next
             * owner starts right after it (no repeats). */
            if (in->cluster && !in->in_txn &&
                clock_mono_ms() - in->last_balance_ms >= BALANCE_EVERY_MS) {
                in->last_balance_ms = clock_mono_ms();
                char to[300];
                if (cluster_hand_over(in->cluster, to, sizeof(to)))
                    return err_set(err, ERR_HANDOVER, "handing the instance over to %s", to);
            }
        }
        const uint8_t *ev;
        size_t len;
        rc = binlog_conn_next(in->conn, &ev, &len, err);
        if (rc == 0) {
            err_set(err, ERR_BINLOG_STREAM, "the server ended the binlog stream");
            err->retriable = true;
            return err->code;
        }
        if (rc < 0)
            return rc;
        in->stream_last_ms = clock_mono_ms();
        atomic_store(&in->last_event_ms, in->stream_last_ms);
        if (rc == BINLOG_CONN_HEARTBEAT)
            continue; /* idle: back to the top, where open batches are closed */
        atomic_fetch_add_explicit(&in->n_bytes, len, memory_order_relaxed);
        in->cur_offset = stream_pos_offset(&in->sp, ev, len);
        if (in->pool) {
            /* in->dec only follows the format (checksums) and the file name. */
            uint8_t type = len > 4 ? ev[4] : 0;
            rc = 0;
            if (type == BINLOG_EV_FORMAT_DESCRIPTION || type == BINLOG_EV_ROTATE)
                rc = decoder_feed(in->dec, ev, len, in->cur_offset, err);
            if (rc == 0)
                rc = stream_pool_feed(in->pool, ev, len, in->cur_offset, in->sp.file, err);
        } else {
            rc = decoder_feed(in->dec, ev, len, in->cur_offset, err);
        }
        if (rc)
            return rc;
        stream_pos_advance(&in->sp, ev, len, decoder_has_checksum(in->dec));
        atomic_fetch_add_explicit(&in->n_events, 1, memory_order_relaxed);
        if (len >= BINLOG_HEADER_LEN && le32(ev) != 0)
            atomic_store_explicit(&in->last_event_ts, le32(ev), memory_order_relaxed);
        atomic_store_explicit(&in->caught_up, false, memory_order_relaxed);
        if (in->own_state != INSTANCE_STREAMING)
            set_state(in, INSTANCE_STREAMING, NULL);
    }
}

/* Closes the open batch and (at a stop, bounded) waits until every sink acknowledged
 * everything, then saves positions. After a failure nothing is waited for: the positions
 * acknowledged so far are saved. */
static void drain(struct instance *in, bool wait)
{
    struct err err = {0};
    if (close_batch(in, &err)) {
        log_error(FAC, in->ic->name, "could not write the last batch: %s", err.msg);
        return;
    }
    uint64_t start = clock_mono_ms();
    while (wait && in->npend && clock_mono_ms() - start < STOP_DRAIN_MS) {
        if (poll_sinks(in, 100, &err)) {
            log_error(FAC, in->ic->name, "sink error while stopping: %s", err.msg);
            break;
        }
    }
    if (in->npend)
        log_warn(FAC, in->ic->name,
                 "%zu batch(es) not acknowledged: they will be sent again after a restart",
                 in->npend);
    if (save_positions(in, true, &err))
        log_error(FAC, in->ic->name, "could not save positions: %s", err.msg);
    else if (in->have_rec)
        log_info(FAC, in->ic->name, "positions saved: consumed %s:%llu", in->consumed.file,
                 (unsigned long long)in->consumed.offset);
}

static void close_conn(struct instance *in)
{
    /* What the pool read but did not pass on is read again from `committed`. */
    stream_pool_free(in->pool);
    in->pool = NULL;
    set_conn_fd(in, -1);
    binlog_conn_close(in->conn);
    in->conn = NULL;
}

/* Sleeps ms in small steps; returns early (true) when stop is asked. */
static bool sleep_or_stop(struct instance *in, uint64_t ms)
{
    uint64_t end = clock_mono_ms() + ms;
    while (!atomic_load(&in->stop)) {
        uint64_t now = clock_mono_ms();
        if (now >= end)
            return false;
        uint64_t step = end - now < 100 ? end - now : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

/* The message of a failure, with the place in the binlog when known. */
static void fail_instance(struct instance *in, const struct err *err)
{
    char why[1024];
    if (err->code == ERR_BINLOG_PURGED) {
        snprintf(why, sizeof(why),
                 "%s; the stored position is %s:%llu; to go on from the oldest binlog the "
                 "server has (losing what was purged), run with the daemon stopped: sluice "
                 "position reset --config %s --instance %s --earliest (or --timestamp "
                 "'YYYY-MM-DD HH:MM:SS')",
                 err->msg, in->committed.file, (unsigned long long)in->committed.offset,
                 in->cfg->path, in->ic->name);
    } else if (in->sp.file && in->sp.file[0] && err->code <= ERR_DECODE &&
               err->code > ERR_SINK - 100) {
        snprintf(why, sizeof(why), "%s (at %s:%llu)", err->msg, in->sp.file,
                 (unsigned long long)in->cur_offset);
    } else {
        snprintf(why, sizeof(why), "%s", err->msg);
    }
    set_state(in, INSTANCE_FAILED, why);
}

/* A connection-level error that a new connection may cure. */
static bool retriable(const struct err *err)
{
    return err->retriable || err->code == ERR_SCHEMA_SOURCE;
}

/* Cluster mode: a fenced owner (or one whose position write was refused) stops everything it
 * runs without writing anything more, and gives up the instance; run() then stands again. What
 * the sinks had not acknowledged is dropped: the new owner sends it again from the stored
 * position. */
static void step_down(struct instance *in, const struct err *why)
{
    if (why->code == ERR_HANDOVER)
        log_info(FAC, in->ic->name, "%s", why->msg);
    else
        log_error(FAC, in->ic->name, "%s; stepping down", why->msg);
    close_conn(in);
    pthread_mutex_lock(&in->mu);
    in->st_nslots = 0;
    pthread_mutex_unlock(&in->mu);
    for (size_t i = 0; i < in->nslots; i++)
        sink_close(in->slots[i].sink);
    free(in->slots);
    in->slots = NULL;
    in->nslots = 0;
    for (size_t i = 0; i < in->npend; i++)
        position_free(&in->pend[i].pos);
    in->npend = 0;
    in->next_batch = 1;
    in->inflight = in->batch_cost = in->batch_changes = 0;
    in->batch_rows = 0;
    in->batch_commit = in->in_txn = in->in_begin = in->xa_group = in->dirty = in->sink_stalled =
        false;
    for (size_t i = 0; i < in->nxa; i++)
        position_free(&in->xa[i].before);
    in->nxa = 0;
    decoder_free(in->dec);
    in->dec = NULL;
    schema_free(in->schema);
    in->schema = NULL;
    position_free(&in->committed);
    position_free(&in->consumed);
    pos_store_record_free(&in->rec);
    in->have_rec = false;
    in->identity_changed = false;
    cluster_release(in->cluster);
    set_state(in, INSTANCE_STANDBY, why->msg);
}

static void *run(void *arg)
{
    struct instance *in = arg;
    const char *name = in->ic->name;
    char tname[16]; /* the thread's name in top -H and perf: "i:" and the instance's */
    snprintf(tname, sizeof(tname), "i:%s", name);
    prctl(PR_SET_NAME, tname, 0, 0, 0);
    struct err err = {0};
    char *password = NULL;
    char lock[4096];
    snprintf(lock, sizeof(lock), "%s/%s/lock", in->cfg->data_dir, name);
    in->lock_fd = lockfile_acquire(lock, &err);
    if (in->lock_fd < 0)
        goto failed;
    password = config_read_password(in->ic, &err);
    if (password == NULL)
        goto failed;
    in->password = password;
    uint64_t backoff;
    bool first;
again:
    switch (open_store(in, &err)) {
    case 0:
        break;
    case 1:
        goto stopped; /* stopped while standing by */
    default:
        goto failed;
    }
    if (open_sinks(in, &err))
        goto failed;
    if (open_schema(in, password, &err)) {
        /* Cluster mode: ZooKeeper failed while the schema history was taken from it, or the
         * instance was lost meanwhile: stand by again (after a pause) rather than fail. */
        if (in->cluster && (err.code == ERR_POS_STORE || err.code == ERR_POS_STALE)) {
            step_down(in, &err);
            err_clear(&err);
            if (sleep_or_stop(in, 1000))
                goto stopped;
            goto again;
        }
        goto failed;
    }
    schema_set_warn(in->schema, schema_warn, in);
    publish(in);

    backoff = BACKOFF_MIN_MS;
    first = true;
    while (!atomic_load(&in->stop)) {
        err_clear(&in->fail);
        int rc = connect_source(in, password, first, &in->fail);
        if (rc == 0) {
            first = false;
            log_info(FAC, name, "connected to %s:%u (server_id %u%s%s) at %s:%llu",
                     in->ic->source.host, in->ic->source.port, in->server_id,
                     in->server_uuid[0] ? ", uuid " : "", in->server_uuid, in->sp.file,
                     (unsigned long long)in->sp.pos);
            set_state(in, INSTANCE_STREAMING, NULL);
            uint64_t t0 = clock_mono_ms();
            rc = stream(in);
            in->stream_end_ms = clock_mono_ms();
            /* Heartbeats count as life too (binlog_conn does not return them). */
            uint64_t act = binlog_conn_last_activity_ms(in->conn);
            if (act > in->stream_last_ms)
                in->stream_last_ms = act;
            if (clock_mono_ms() - t0 > 10000)
                backoff = BACKOFF_MIN_MS; /* it streamed a while: a new trouble */
            close_conn(in);
            if (rc == 0)
                break; /* stop asked */
            if (in->cluster && in->fail.code == ERR_POS_STALE) {
                step_down(in, &in->fail);
                goto again;
            }
            if (in->cluster && in->fail.code == ERR_HANDOVER) {
                drain(in, true); /* what was sent is acknowledged and saved: no repeats */
                step_down(in, &in->fail);
                goto again;
            }
            if (atomic_exchange(&in->watchdog_fired, false)) {
                err_set(&in->fail, ERR_BINLOG_STREAM,
                        "no event for %u ms and heartbeats are off (source.heartbeat_ms 0)",
                        in->ic->stall_timeout_ms);
                in->fail.retriable = true;
            }
            /* What was read went to the sinks: hand it over before reconnecting. */
            struct err e2 = {0};
            if (close_batch(in, &e2) || poll_sinks(in, 0, &e2)) {
                if (in->cluster && e2.code == ERR_POS_STALE) {
                    step_down(in, &e2);
                    goto again;
                }
                err = e2;
                goto failed;
            }
        }
        if (atomic_load(&in->stop))
            break;
        if (!retriable(&in->fail)) {
            err = in->fail;
            goto failed;
        }
        /* Stalled: the stream ended because nothing came, neither events nor heartbeats (the
         * connection's read timeout is 3 heartbeat periods), for the stall timeout or that. */
        uint64_t quiet = in->stream_end_ms - in->stream_last_ms;
        uint64_t hb3 = 3ull * in->ic->source.heartbeat_ms;
        bool stalled =
            rc != 0 && !first && (quiet >= in->ic->stall_timeout_ms || (hb3 && quiet + 500 >= hb3));
        char why[400];
        if (stalled)
            snprintf(why, sizeof(why),
                     "no event nor heartbeat for %llu ms (%s); retrying in %llu ms",
                     (unsigned long long)quiet, in->fail.msg, (unsigned long long)backoff);
        else
            snprintf(why, sizeof(why), "%s; retrying in %llu ms", in->fail.msg,
                     (unsigned long long)backoff);
        set_state(in, stalled ? INSTANCE_STALLED : INSTANCE_RECONNECTING, why);
        atomic_fetch_add_explicit(&in->n_reconnects, 1, memory_order_relaxed);
        if (sleep_or_stop(in, backoff))
            break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        if (stalled)
            set_state(in, INSTANCE_RECONNECTING, why);
    }
    drain(in, true);
stopped:
    set_state(in, INSTANCE_STOPPED, NULL);
    goto done;

failed:
    if (in->slots)
        drain(in, false);
    fail_instance(in, &err);
    /* Cluster mode: give the instance up, so that a standby (another host, another disk)
     * can try; this daemon does not stand again until it is restarted. */
    if (in->cluster && cluster_epoch(in->cluster)) {
        cluster_release(in->cluster);
        log_warn(FAC, name,
                 "gave the instance up to the standbys (this daemon no longer stands "
                 "for it until restarted)");
    }
    /* A failed instance keeps its state visible until the daemon stops. */
    while (!atomic_load(&in->stop))
        sleep_or_stop(in, 1000);
done:
    if (in->cluster)
        cluster_release(in->cluster); /* a standby takes over at once */
    metrics_probe_free(in->probe);
    in->probe = NULL;
    in->password = NULL;
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    publish(in);
    return NULL;
}

/* ---- the main thread's side ---------------------------------------------------------------- */

struct instance *instance_new(const struct config *cfg, const struct config_instance *ic)
{
    struct instance *in = xcalloc(1, sizeof(*in));
    in->cfg = cfg;
    in->ic = ic;
    pthread_mutex_init(&in->mu, NULL);
    pthread_mutex_init(&in->schema_mu, NULL);
    in->state = INSTANCE_STARTING;
    in->since = time(NULL);
    in->conn_fd = -1;
    in->lock_fd = -1;
    in->next_batch = 1;
    position_init(&in->st_parsed);
    position_init(&in->st_consumed);
    position_init(&in->committed);
    position_init(&in->consumed);
    position_init(&in->xa_before);
    pos_store_record_init(&in->rec);
    atomic_init(&in->stop, false);
    atomic_init(&in->reopen, false);
    atomic_init(&in->watchdog_fired, false);
    atomic_init(&in->last_event_ms, 0);
    atomic_init(&in->last_event_ts, 0);
    atomic_init(&in->caught_up, false);
    atomic_init(&in->n_events, 0);
    atomic_init(&in->n_rows, 0);
    atomic_init(&in->n_bytes, 0);
    atomic_init(&in->n_reconnects, 0);
    return in;
}

int instance_start(struct instance *in, struct err *err)
{
    int rc = pthread_create(&in->thread, NULL, run, in);
    if (rc)
        return err_set(err, ERR_INSTANCE, "instance \"%s\": could not start its thread: %s",
                       in->ic->name, strerror(rc));
    in->started = true;
    return 0;
}

void instance_request_stop(struct instance *in)
{
    atomic_store(&in->stop, true);
    pthread_mutex_lock(&in->mu);
    if (in->conn_fd >= 0)
        shutdown(in->conn_fd, SHUT_RDWR);
    pthread_mutex_unlock(&in->mu);
}

void instance_watchdog(struct instance *in)
{
    if (in->ic->source.heartbeat_ms != 0)
        return; /* the connection's read timeout (3 heartbeat periods) does this job */
    uint64_t last = atomic_load(&in->last_event_ms);
    if (last == 0 || clock_mono_ms() - last < in->ic->stall_timeout_ms)
        return;
    pthread_mutex_lock(&in->mu);
    bool streaming = in->state == INSTANCE_STREAMING && in->conn_fd >= 0;
    if (streaming) {
        atomic_store(&in->watchdog_fired, true);
        atomic_store(&in->last_event_ms, 0);
        shutdown(in->conn_fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&in->mu);
}

void instance_request_reopen(struct instance *in)
{
    atomic_store(&in->reopen, true);
}

void instance_join(struct instance *in)
{
    if (in->started) {
        pthread_join(in->thread, NULL);
        in->started = false;
    }
}

void instance_free(struct instance *in)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->nslots; i++)
        sink_close(in->slots[i].sink);
    free(in->slots);
    for (size_t i = 0; i < in->npend; i++)
        position_free(&in->pend[i].pos);
    free(in->pend);
    free(in->drop_buf);
    for (size_t i = 0; i < in->nxa; i++)
        position_free(&in->xa[i].before);
    free(in->xa);
    position_free(&in->xa_before);
    stream_pool_free(in->pool);
    decoder_free(in->dec);
    binlog_conn_close(in->conn);
    stream_pos_free(&in->sp);
    schema_free(in->schema);
    pos_store_close(in->store); /* before the cluster: its watches point to it */
    cluster_free(in->cluster);
    members_leave(in->members);
    pos_store_record_free(&in->rec);
    lockfile_release(in->lock_fd);
    position_free(&in->st_parsed);
    position_free(&in->st_consumed);
    position_free(&in->committed);
    position_free(&in->consumed);
    pthread_mutex_destroy(&in->mu);
    pthread_mutex_destroy(&in->schema_mu);
    free(in);
}

enum instance_state instance_state(struct instance *in)
{
    pthread_mutex_lock(&in->mu);
    enum instance_state s = in->state;
    pthread_mutex_unlock(&in->mu);
    return s;
}

/* Seconds between now and the last event read, 0 when caught up. */
static int64_t lag_seconds(struct instance *in)
{
    uint32_t last_ts = atomic_load(&in->last_event_ts);
    if (atomic_load(&in->caught_up) || last_ts == 0)
        return 0;
    int64_t lag = (int64_t)time(NULL) - (int64_t)last_ts;
    return lag < 0 ? 0 : lag;
}

static void position_json(const struct position *p, struct strbuf *out)
{
    strbuf_appends(out, "{\"file\":");
    strbuf_append_json_str(out, p->file, strlen(p->file));
    strbuf_appends(out, ",\"offset\":");
    strbuf_append_u64(out, p->offset);
    struct strbuf g = {0};
    position_gtid_format(&p->gtid, &g);
    strbuf_appends(out, ",\"gtid\":");
    strbuf_append_json_str(out, g.buf ? g.buf : "", g.len);
    strbuf_free(&g);
    strbuf_appends(out, ",\"ts\":");
    strbuf_append_u64(out, p->ts);
    strbuf_appendc(out, '}');
}

void instance_status_json(struct instance *in, struct strbuf *out)
{
    pthread_mutex_lock(&in->mu);
    strbuf_appends(out, "{\"name\":");
    strbuf_append_json_str(out, in->ic->name, strlen(in->ic->name));
    strbuf_appends(out, ",\"state\":\"");
    strbuf_appends(out, instance_state_name(in->state));
    strbuf_appends(out, "\",\"why\":");
    strbuf_append_json_str(out, in->why, strlen(in->why));
    strbuf_appends(out, ",\"since\":");
    strbuf_append_u64(out, (uint64_t)in->since);
    strbuf_appends(out, ",\"source\":");
    char src[300];
    snprintf(src, sizeof(src), "%s:%u", in->ic->source.host, in->ic->source.port);
    strbuf_append_json_str(out, src, strlen(src));
    strbuf_appends(out, ",\"parsed\":");
    position_json(&in->st_parsed, out);
    strbuf_appends(out, ",\"consumed\":");
    position_json(&in->st_consumed, out);
    int64_t lag = lag_seconds(in);
    strbuf_appends(out, ",\"lag_seconds\":");
    strbuf_append_u64(out, (uint64_t)lag);
    strbuf_appends(out, ",\"events\":");
    strbuf_append_u64(out, atomic_load(&in->n_events));
    strbuf_appends(out, ",\"rows\":");
    strbuf_append_u64(out, atomic_load(&in->n_rows));
    strbuf_appends(out, ",\"bytes_in_flight\":");
    strbuf_append_u64(out, in->st_inflight);
    strbuf_appendc(out, '}');
    pthread_mutex_unlock(&in->mu);
}

void instance_status_text(struct instance *in, struct strbuf *out)
{
    pthread_mutex_lock(&in->mu);
    char line[4096];
    int64_t lag = lag_seconds(in);
    snprintf(line, sizeof(line),
             "%s: %s since %lds ago, source %s:%u\n  consumed %s:%llu  parsed %s:%llu  lag %llds  "
             "events %llu  rows %llu  in flight %zu bytes\n",
             in->ic->name, instance_state_name(in->state), (long)(time(NULL) - in->since),
             in->ic->source.host, in->ic->source.port,
             in->st_consumed.file[0] ? in->st_consumed.file : "-",
             (unsigned long long)in->st_consumed.offset,
             in->st_parsed.file[0] ? in->st_parsed.file : "-",
             (unsigned long long)in->st_parsed.offset, (long long)lag,
             (unsigned long long)atomic_load(&in->n_events),
             (unsigned long long)atomic_load(&in->n_rows), in->st_inflight);
    strbuf_appends(out, line);
    if (!position_gtid_is_empty(&in->st_consumed.gtid)) {
        strbuf_appends(out, "  consumed gtid ");
        position_gtid_format(&in->st_consumed.gtid, out);
        strbuf_appendc(out, '\n');
    }
    if (in->why[0]) {
        strbuf_appends(out, "  why: ");
        strbuf_appends(out, in->why);
        strbuf_appendc(out, '\n');
    }
    pthread_mutex_unlock(&in->mu);
}

void instance_metrics(struct instance *in, struct instance_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->name = in->ic->name;
    pthread_mutex_lock(&in->mu);
    m->state = in->state;
    snprintf(m->why, sizeof(m->why), "%s", in->why);
    m->has_consumed = in->st_consumed.file[0] != '\0';
    const char *dot = strrchr(in->st_consumed.file, '.');
    m->consumed_file_index = dot ? strtoll(dot + 1, NULL, 10) : 0;
    m->consumed_offset = in->st_consumed.offset;
    m->horizon_known = in->st_horizon_known;
    m->horizon_files = in->st_horizon_files;
    m->horizon_seconds = in->st_horizon_seconds;
    m->bytes_in_flight = in->st_inflight;
    m->schema_versions = in->st_schema_versions;
    m->nsinks = in->st_nslots;
    pthread_mutex_unlock(&in->mu);
    m->budget_bytes = (uint64_t)in->ic->budget_mb << 20;
    m->events = atomic_load(&in->n_events);
    m->rows = atomic_load(&in->n_rows);
    m->bytes_read = atomic_load(&in->n_bytes);
    m->reconnects = atomic_load(&in->n_reconnects);
    m->lag_seconds = lag_seconds(in);
    if (m->nsinks)
        m->sinks = xcalloc(m->nsinks, sizeof(*m->sinks));
    for (size_t i = 0; i < m->nsinks; i++) {
        snprintf(m->sinks[i].label, sizeof(m->sinks[i].label), "%zu:%s", i,
                 i < in->ic->n_sinks ? config_sink_type_name(in->ic->sinks[i].type) : "hub");
        m->sinks[i].delivered = atomic_load(&in->slots[i].delivered);
        m->sinks[i].errors = atomic_load(&in->slots[i].errors);
    }
}
