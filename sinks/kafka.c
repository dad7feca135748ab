/*
 * sinks/kafka.c — the Kafka sink (librdkafka producer).
 *
 * Each row change becomes one message: the value in the sink's format, the key the row's
 * primary key (format_render_key; a table without one gets `no_pk_key`: a hash of the row, the
 * row, or no key), the topic the `topic` template expanded for its table; a DDL goes to
 * `ddl_topic` keyed by its database. Headers carry where the change comes from: sluice.pos
 * ("FILE:POS"), sluice.row, and sluice.gtid / sluice.xid when known; `headers: off` sends none
 * (a dead-letter record keeps them: they name its error).
 *
 * Producer settings before the user's `kafka:` map (which may override them, with a warning
 * when that weakens delivery): enable.idempotence=true, acks=all (so per-partition order holds
 * across retries and nothing is written twice by a retry), partitioner=murmur2_random (the Java
 * client's: one key always lands on one partition, so one row's changes stay in order), and
 * queue limits above what the sink lets itself hold: the queued bytes are counted in
 * held_bytes (with a per-message overhead), and past held_limit (a quarter of the instance's
 * budget) the instance stops reading the binlog until deliveries catch up.
 *
 * Acknowledgements. Every message carries its batch id as opaque. A batch is acknowledged once
 * write_batch() closed it and every delivery report of its messages came back successful, in id
 * order (batch records form a queue ordered by id, one record per id). Delivery reports are
 * served only by rd_kafka_poll() on the instance's thread (append, write_batch, poll), never
 * by librdkafka's threads, so nothing here needs a lock.
 *
 * Failures. A delivery report with an error means librdkafka gave up (message.timeout.ms passed,
 * or a permanent error): the sink fails, poll() returns the error, and the batch and every later
 * one stay unacknowledged, so the instance stops with its position before the lost message. A
 * record too large is either that failure (`too_large: stop`) or a key-only record to the
 * dead-letter topic with the error in headers (`dead_letter`), whose delivery then stands for
 * the original's.
 *
 * Transactions (fencing). With a transactional.id (the user's `kafka:` map, or in cluster mode
 * "sluice.CLUSTER.INSTANCE", shared by every daemon that may own the instance) messages go out
 * inside producer transactions, committed at a batch boundary once TXN_COMMIT_MS passed since
 * the transaction began (and when the instance idles); a batch is acknowledged only once the
 * transaction holding its messages committed. A new owner's init_transactions makes the brokers
 * refuse the old owner's producer (its epoch is stale): the old one's later sends and commit fail
 * with _FENCED, it stops (ERR_POS_STALE: the instance steps down), and its open transaction is
 * aborted, invisible to consumers that read with isolation.level=read_committed. An abortable
 * error aborts the transaction and fails the sink: the instance restarts from its position.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "kafka.h"
#include "log.h"
#include "strbuf.h"
#include "table_map.h"
#include "xmalloc.h"

#define FAC "KAFKA"

/* What librdkafka keeps per queued message besides key and value (its message struct, the
 * headers, the partition queue link), counted in held_bytes. Measured roughly: ~400 bytes. */
#define MSG_OVERHEAD 400

/* The share of the instance's budget the producer queue may hold (RSS: the default 256 MiB
 * budget keeps the queue at 64 MiB). */
#define BUDGET_SHARE 4

/* Message values live in slabs owned by their batch, handed to librdkafka without a copy
 * (msgflags 0): a batch's slabs are released (kept for reuse, or freed) once every delivery
 * report of it is in, or freed at close after the producer is gone. One malloc per 256 KiB of
 * values at most, instead of a malloc, a copy and a free on another thread per message. */
#define SLAB_BYTES (256u << 10)

struct slab {
    struct slab *next;
    size_t len, cap;
    char data[];
};

struct kbatch {
    uint64_t id;
    size_t outstanding; /* messages sent whose delivery report has not come */
    size_t bytes;       /* bytes of those messages (values and keys) */
    bool closed;        /* write_batch() was called for it */
    struct slab *slabs; /* its message values, the newest slab first */
};

struct kafka_sink {
    struct sink base;
    rd_kafka_t *rk;
    struct strbuf val, key, topic, tmp;
    char last_db[256], last_table[256]; /* the table `topic` was expanded for */
    bool topic_valid;
    /* librdkafka's handle of the topic named `topic` (NULL: none yet, or an invalid name),
     * kept so that a send does not look the topic up by name under librdkafka's handle lock. */
    rd_kafka_topic_t *rkt;
    struct kbatch *q; /* batch records, ordered by id, q[0] the oldest */
    size_t nq, capq;
    bool failed;
    bool closing;
    char fail_msg[600];
    /* Topic names whose metadata was asked for (open addressing, NULL = free slot). */
    char **known;
    size_t nknown, capknown;
    struct slab *spare; /* freed slabs kept for the next batches (up to SPARE_SLABS) */
    unsigned nspare;
    /* Transactions (txn_id set): see the top of the file. */
    char *txn_id;
    bool in_txn;           /* begin_transaction done, not yet committed */
    uint64_t txn_since_ms; /* when it began (clock_mono_ms) */
    uint64_t txn_from;     /* in_txn: the batch it began in (the batches before are done) */
    bool fenced;           /* the brokers refused this producer: a newer one owns the id */
};

/* A transaction is committed at the first batch boundary this long after it began. */
#define TXN_COMMIT_MS 100
/* Bound of init_transactions and of each commit try (librdkafka retries within it). */
#define TXN_TIMEOUT_MS 30000

/* Freed slabs kept for reuse: handing a 256 KiB block back to malloc makes it consolidate
 * its free lists every time. */
#define SPARE_SLABS 8

/* Gives a batch's slabs back: to the spare list while it has room, else to malloc. */
static void slabs_release(struct kafka_sink *ks, struct slab *sl)
{
    while (sl) {
        struct slab *next = sl->next;
        if (sl->cap == SLAB_BYTES && ks->nspare < SPARE_SLABS) {
            sl->next = ks->spare;
            ks->spare = sl;
            ks->nspare++;
        } else {
            free(sl);
        }
        sl = next;
    }
}

static void slabs_free(struct slab *sl)
{
    while (sl) {
        struct slab *next = sl->next;
        free(sl);
        sl = next;
    }
}

/* Copies val into batch b's slabs; returns where it lies (valid until the slabs are released). */
static const void *slab_copy(struct kafka_sink *ks, struct kbatch *b, const void *val, size_t n)
{
    struct slab *sl = b->slabs;
    if (sl == NULL || sl->cap - sl->len < n) {
        bool large = n > SLAB_BYTES / 4;
        if (!large && ks->spare) {
            sl = ks->spare;
            ks->spare = sl->next;
            ks->nspare--;
        } else {
            size_t cap = large ? n : SLAB_BYTES;
            sl = xmalloc(sizeof(*sl) + cap);
            sl->cap = cap;
        }
        sl->len = 0;
        if (large && b->slabs) {
            /* A large value gets a slab of its own, behind the current one. */
            sl->next = b->slabs->next;
            b->slabs->next = sl;
        } else {
            sl->next = b->slabs;
            b->slabs = sl;
        }
    }
    void *at = sl->data + sl->len;
    memcpy(at, val, n);
    sl->len += n;
    return at;
}

/* ---- topics --------------------------------------------------------------------------------- */

static void append_topic_part(struct strbuf *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        strbuf_appendc(out, ok ? (char)ch : '_');
    }
}

void sink_kafka_topic(
    const char *tmpl, const char *instance, const char *db, const char *table, struct strbuf *out)
{
    static const struct {
        const char *name;
        size_t len;
    } vars[] = {{"{instance}", 10}, {"{db}", 4}, {"{table}", 7}};
    const char *vals[] = {instance, db, table};
    while (*tmpl) {
        size_t k;
        for (k = 0; k < 3; k++)
            if (strncmp(tmpl, vars[k].name, vars[k].len) == 0)
                break;
        if (k < 3) {
            append_topic_part(out, vals[k]);
            tmpl += vars[k].len;
        } else {
            char one[2] = {*tmpl++, 0};
            append_topic_part(out, one);
        }
    }
}

/* ---- batch records -------------------------------------------------------------------------- */

/* The record of batch id, created (with every id between) when new. Ids only grow. */
static struct kbatch *batch_rec(struct kafka_sink *ks, uint64_t id)
{
    if (ks->nq && id <= ks->q[ks->nq - 1].id) {
        if (id < ks->q[0].id)
            return NULL; /* already acknowledged */
        return &ks->q[id - ks->q[0].id];
    }
    uint64_t next = ks->nq ? ks->q[ks->nq - 1].id + 1 : ks->base.last_acked + 1;
    for (; next <= id; next++) {
        if (ks->nq == ks->capq) {
            ks->capq = ks->capq ? ks->capq * 2 : 16;
            ks->q = xrealloc(ks->q, ks->capq * sizeof(*ks->q));
        }
        ks->q[ks->nq++] = (struct kbatch){.id = next};
    }
    return &ks->q[ks->nq - 1];
}

/* Acknowledges every leading batch that is closed and fully delivered. */
static void ack_done(struct kafka_sink *ks)
{
    size_t k = 0;
    while (k < ks->nq && ks->q[k].closed && ks->q[k].outstanding == 0 &&
           (!ks->in_txn || ks->q[k].id < ks->txn_from)) {
        slabs_release(ks, ks->q[k].slabs); /* librdkafka is done with every value of it */
        ks->q[k].slabs = NULL;
        sink_acknowledge(&ks->base, ks->q[k].id, ks->q[k].bytes);
        k++;
    }
    if (k) {
        memmove(ks->q, ks->q + k, (ks->nq - k) * sizeof(*ks->q));
        ks->nq -= k;
    }
}

static void fail(struct kafka_sink *ks, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct kafka_sink *ks, const char *fmt, ...)
{
    if (ks->failed)
        return; /* the first failure is the one to report */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ks->fail_msg, sizeof(ks->fail_msg), fmt, ap);
    va_end(ap);
    ks->failed = true;
    log_error(FAC, ks->base.instance, "%s", ks->fail_msg);
}

static int failed_err(struct kafka_sink *ks, struct err *err)
{
    /* Fenced: a newer owner took the instance over; ERR_POS_STALE makes this one step down. */
    return err_set(err, ks->fenced ? ERR_POS_STALE : ERR_SINK, "%s", ks->fail_msg);
}

/* ---- transactions --------------------------------------------------------------------------- */

/* The errors by which brokers (or librdkafka) say a newer producer holds our transactional.id. */
static bool is_fence_error(rd_kafka_resp_err_t code)
{
    return code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

/* Fails the sink as fenced; `how` says where the refusal came from. */
static void fail_fenced(struct kafka_sink *ks, const char *how)
{
    ks->fenced = true;
    fail(ks,
         "kafka: fenced: another producer now holds transactional.id \"%s\" (a newer owner of "
         "this instance); this one writes nothing more to Kafka (%s)",
         ks->txn_id, how);
}

/* Handles the error of a transactional call (NULL: none). Returns true when there was one; the
 * sink is then failed, fenced when the brokers refused this producer. */
static bool txn_failed(struct kafka_sink *ks, const char *what, rd_kafka_error_t *e)
{
    if (e == NULL)
        return false;
    if (is_fence_error(rd_kafka_error_code(e))) {
        char how[512];
        snprintf(how, sizeof(how), "%s: %s", what, rd_kafka_error_string(e));
        fail_fenced(ks, how);
    } else if (rd_kafka_error_txn_requires_abort(e)) {
        fail(ks,
             "kafka: %s failed: %s; the transaction is aborted and the position held before "
             "it",
             what, rd_kafka_error_string(e));
    } else {
        fail(ks, "kafka: %s failed: %s%s", what, rd_kafka_error_string(e),
             rd_kafka_error_is_fatal(e) ? " (fatal for this producer)" : "");
    }
    rd_kafka_error_destroy(e);
    return true;
}

/* Opens a transaction if none is. Returns false when the sink failed. */
static bool txn_begin(struct kafka_sink *ks)
{
    if (ks->txn_id == NULL || ks->in_txn)
        return !ks->failed;
    if (txn_failed(ks, "begin_transaction", rd_kafka_begin_transaction(ks->rk)))
        return false;
    ks->in_txn = true;
    ks->txn_since_ms = clock_mono_ms();
    ks->txn_from = ks->base.last_batch + 1; /* the batch being appended to */
    return true;
}

/* Commits the open transaction (at a batch boundary: every batch with messages in it is closed).
 * Blocks while librdkafka flushes them (delivery reports are served meanwhile). */
static void txn_commit(struct kafka_sink *ks)
{
    if (!ks->in_txn || ks->failed)
        return;
    for (int tries = 0;; tries++) {
        rd_kafka_error_t *e = rd_kafka_commit_transaction(ks->rk, TXN_TIMEOUT_MS);
        if (e && rd_kafka_error_is_retriable(e) && tries < 3) {
            log_warn(FAC, ks->base.instance, "kafka: commit_transaction: %s; retrying",
                     rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            continue;
        }
        if (txn_failed(ks, "commit_transaction", e))
            return; /* kafka_close aborts it */
        break;
    }
    ks->in_txn = false;
}

/* Whether every batch record is closed (no batch is being appended to). */
static bool all_closed(const struct kafka_sink *ks)
{
    return ks->nq == 0 || ks->q[ks->nq - 1].closed;
}

/* ---- producing ------------------------------------------------------------------------------ */

/* Writes v in decimal into buf (room for 20 digits); returns the length. */
static int put_u64(char *buf, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static rd_kafka_headers_t *
make_headers(const struct change *c, const char *error_text, const char *orig_topic)
{
    /* Each header costs the producer ~0.15 us; the event time is in every format already. */
    rd_kafka_headers_t *h = rd_kafka_headers_new(error_text ? 6 : 4);
    char buf[600];
    /* FILE:POS without snprintf: this runs for every message. */
    size_t fl = c->file ? strlen(c->file) : 0;
    if (fl > sizeof(buf) - 22)
        fl = sizeof(buf) - 22;
    if (fl)
        memcpy(buf, c->file, fl);
    buf[fl] = ':';
    int n = (int)fl + 1 + put_u64(buf + fl + 1, c->pos);
    rd_kafka_header_add(h, "sluice.pos", 10, buf, n);
    rd_kafka_header_add(h, "sluice.row", 10, buf, put_u64(buf, c->row));
    if (c->gtid)
        rd_kafka_header_add(h, "sluice.gtid", 11, c->gtid, -1);
    if (c->has_xid)
        rd_kafka_header_add(h, "sluice.xid", 10, buf, put_u64(buf, c->xid));
    if (error_text) {
        rd_kafka_header_add(h, "sluice.error", -1, error_text, -1);
        rd_kafka_header_add(h, "sluice.topic", -1, orig_topic, -1);
    }
    return h;
}

/* Sends one message for batch id to rkt (NULL: to the topic named topic, through a handle of
 * its own); serves delivery reports while the producer queue is full. Returns the librdkafka
 * error of the send (0 when queued). */
static rd_kafka_resp_err_t produce(struct kafka_sink *ks,
                                   uint64_t id,
                                   rd_kafka_topic_t *rkt,
                                   const char *topic,
                                   const void *key,
                                   size_t keylen,
                                   const void *val,
                                   size_t vallen,
                                   rd_kafka_headers_t *hdrs)
{
    rd_kafka_topic_t *own = NULL;
    if (rkt == NULL && (rkt = own = rd_kafka_topic_new(ks->rk, topic, NULL)) == NULL)
        return rd_kafka_last_error(); /* an invalid name */
    /* librdkafka copies only what no slab holds (an empty value, or no batch record). */
    int flags = RD_KAFKA_MSG_F_COPY;
    if (vallen && val) {
        struct kbatch *b = batch_rec(ks, id);
        if (b) {
            val = slab_copy(ks, b, val, vallen);
            flags = 0;
        }
    }
    rd_kafka_resp_err_t e;
    for (;;) {
        e = rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(flags),
                              RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)val, vallen),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id),
                              RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || ks->failed)
            break;
        /* The queue drains only as delivery reports come in: serve them (a broker that
         * stays away ends in failed deliveries after message.timeout.ms, never a hang). */
        rd_kafka_poll(ks->rk, 100);
        ack_done(ks);
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        struct kbatch *b = batch_rec(ks, id);
        b->outstanding++;
        b->bytes += keylen + vallen;
        ks->base.held_bytes += keylen + vallen + MSG_OVERHEAD;
    }
    if (own)
        rd_kafka_topic_destroy(own);
    return e;
}

/* A key-only record to the dead-letter topic, standing for a change too large to send. */
static rd_kafka_resp_err_t send_dead_letter(struct kafka_sink *ks,
                                            uint64_t id,
                                            const struct change *c,
                                            const char *orig_topic,
                                            const void *key,
                                            size_t keylen,
                                            size_t size)
{
    char why[200];
    snprintf(why, sizeof(why), "record of %zu bytes too large for topic %s", size, orig_topic);
    struct strbuf dlq;
    strbuf_init(&dlq);
    /* {instance} only: a record the broker refuses is known by its delivery report, which
     * carries no table, and both kinds must land in one topic. */
    sink_kafka_topic(ks->base.cfg->dead_letter_topic, ks->base.instance, NULL, NULL, &dlq);
    log_warn(FAC, ks->base.instance, "%s:%" PRIu64 ": %s; a key-only record goes to %s",
             c->file ? c->file : "", c->pos, why, dlq.buf);
    rd_kafka_headers_t *h = make_headers(c, why, orig_topic);
    rd_kafka_resp_err_t e = produce(ks, id, NULL, dlq.buf, key, keylen, NULL, 0, h);
    if (e)
        rd_kafka_headers_destroy(h);
    strbuf_free(&dlq);
    return e;
}

/* ---- librdkafka callbacks (served on the instance's thread by rd_kafka_poll) -------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kafka_sink *ks = opaque;
    uint64_t id = (uint64_t)(uintptr_t)m->_private;
    struct kbatch *b = batch_rec(ks, id);
    size_t len = m->len + m->key_len + MSG_OVERHEAD;
    ks->base.held_bytes -= len < ks->base.held_bytes ? len : ks->base.held_bytes;
    if (b == NULL)
        return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        b->outstanding--;
        return;
    }
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "?";
    if (ks->txn_id && !ks->closing && is_fence_error(m->err)) {
        char how[512];
        snprintf(how, sizeof(how), "delivery to topic %s: %s", topic, rd_kafka_err2str(m->err));
        fail_fenced(ks, how);
        return;
    }
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && !ks->closing &&
        ks->base.cfg->too_large == CONFIG_TOO_LARGE_DEAD_LETTER && m->len > 0) {
        /* The broker refused it: the dead-letter record takes its place in the batch. */
        char why[200];
        snprintf(why, sizeof(why), "record of %zu bytes too large for topic %s (broker: %s)",
                 m->len, topic, rd_kafka_err2str(m->err));
        struct strbuf dlq;
        strbuf_init(&dlq);
        sink_kafka_topic(ks->base.cfg->dead_letter_topic, ks->base.instance, NULL, NULL, &dlq);
        log_warn(FAC, ks->base.instance, "%s; a key-only record goes to %s", why, dlq.buf);
        /* The refused record's own headers (sluice.pos...) say which change it was. */
        rd_kafka_headers_t *orig = NULL, *h;
        if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
            h = rd_kafka_headers_copy(orig);
        else
            h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "sluice.error", -1, why, -1);
        rd_kafka_header_add(h, "sluice.topic", -1, topic, -1);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_TOPIC(dlq.buf), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id), RD_KAFKA_V_END);
        strbuf_free(&dlq);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ks->base.held_bytes += m->key_len + MSG_OVERHEAD;
            return; /* still outstanding: the dead-letter record's report settles it */
        }
        rd_kafka_headers_destroy(h);
        fail(ks, "kafka: could not send a dead-letter record: %s", rd_kafka_err2str(e));
        return;
    }
    if (!ks->closing)
        fail(ks,
             "kafka: delivery to topic %s partition %" PRId32 " failed: %s; the position is held "
             "before this message (check the brokers, then restart sluice)",
             topic, m->partition, rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    struct kafka_sink *ks = opaque;
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        if (orig == RD_KAFKA_RESP_ERR__FENCED && ks->txn_id) {
            fail_fenced(ks, why);
            return;
        }
        fail(ks, "kafka: fatal producer error %s: %s", rd_kafka_err2name(orig), why);
        return;
    }
    /* Brokers down, timeouts...: librdkafka retries; deliveries fail only after
     * message.timeout.ms, and then the instance says so. */
    log_warn(FAC, ks->base.instance, "kafka: %s: %s", rd_kafka_err2name(code), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct kafka_sink *ks = rd_kafka_opaque(rk);
    /* What stops the instance is reported by the sink itself; librdkafka's own lines are
     * context: connection failures (facility FAIL) also reach on_error, so they stay at info. */
    enum config_log_level l = strcmp(fac, "FAIL") == 0 ? CONFIG_LOG_INFO
                              : level <= 5             ? CONFIG_LOG_WARN
                              : level == 6             ? CONFIG_LOG_INFO
                                                       : CONFIG_LOG_DEBUG;
    if (log_enabled(l, FAC))
        log_write(l, FAC, ks ? ks->base.instance : NULL, "librdkafka %s: %s", fac, buf);
}

/* ---- the ops -------------------------------------------------------------------------------- */

static const char *kv_get(const struct config_sink *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (strcmp(cfg->kafka[i].key, key) == 0)
            return cfg->kafka[i].value;
    return NULL;
}

static int set_prop(rd_kafka_conf_t *conf,
                    const char *instance,
                    const char *key,
                    const char *value,
                    struct err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return err_set(err, ERR_CONFIG, "instance \"%s\", kafka sink: property %s=\"%s\": %s",
                       instance, key, value, errstr);
    return 0;
}

/* The producer configuration of sink cfg: sluice's settings, then the user's `kafka:` map.
 * Returns NULL with err filled (librdkafka's own text) when a property is refused. */
static rd_kafka_conf_t *
build_conf(const struct config_sink *cfg, const char *inst, size_t budget, struct err *err)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    char num[32], client_id[300];
    /* The instance stops reading when the queue holds a quarter of its budget (held_limit);
     * librdkafka's own byte limit is only a safety net above that, and its message count
     * limit must not bind first. */
    size_t kbytes = budget / 1024;
    snprintf(num, sizeof(num), "%zu", kbytes < 1024 ? (size_t)1024 : kbytes);
    snprintf(client_id, sizeof(client_id), "sluice-%s", inst);
    const char *defaults[][2] = {
        {"bootstrap.servers", cfg->brokers}, {"client.id", client_id},
        {"enable.idempotence", "true"},      {"acks", "all"},
        {"partitioner", "murmur2_random"},   {"queue.buffering.max.messages", "10000000"},
        {"queue.buffering.max.kbytes", num},
    };
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (set_prop(kc, inst, defaults[i][0], defaults[i][1], err))
            goto fail;
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (set_prop(kc, inst, cfg->kafka[i].key, cfg->kafka[i].value, err))
            goto fail;
    return kc;
fail:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

int sink_kafka_check(const struct config_sink *cfg, const char *instance, struct err *err)
{
    rd_kafka_conf_t *kc = build_conf(cfg, instance, (size_t)256 << 20, err);
    if (kc == NULL)
        return err->code;
    /* rd_kafka_new checks the combinations (acks against enable.idempotence...). */
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(kc);
        return err_set(err, ERR_CONFIG, "instance \"%s\", kafka sink: %s", instance, errstr);
    }
    rd_kafka_destroy(rk);
    return 0;
}

static struct sink *kafka_open(const struct sink_conf *conf, struct err *err)
{
    const struct config_sink *cfg = conf->cfg;
    const char *inst = conf->instance ? conf->instance : "";
    struct kafka_sink *ks = xcalloc(1, sizeof(*ks));
    sink_init_common(&ks->base, &sink_kafka_ops, conf);
    strbuf_init(&ks->val);
    strbuf_init(&ks->key);
    strbuf_init(&ks->topic);
    strbuf_init(&ks->tmp);

    size_t budget = conf->budget_bytes ? conf->budget_bytes : (size_t)256 << 20;
    ks->base.held_limit = budget / BUDGET_SHARE;
    rd_kafka_conf_t *kc = build_conf(cfg, inst, budget, err);
    if (kc == NULL) {
        sink_kafka_ops.close(&ks->base);
        return NULL;
    }
    const char *idem = kv_get(cfg, "enable.idempotence");
    const char *acks = kv_get(cfg, "acks");
    if (idem && strcmp(idem, "true") != 0)
        log_warn(FAC, inst,
                 "kafka: enable.idempotence=%s: a retried send may write a message twice or "
                 "out of order",
                 idem);
    if (acks && strcmp(acks, "all") != 0 && strcmp(acks, "-1") != 0)
        log_warn(FAC, inst, "kafka: acks=%s: a broker failure may lose acknowledged messages",
                 acks);
    const char *txn = kv_get(cfg, "transactional.id");
    if (txn == NULL && conf->fence_id) {
        txn = conf->fence_id;
        if (set_prop(kc, inst, "transactional.id", txn, err)) {
            rd_kafka_conf_destroy(kc);
            sink_kafka_ops.close(&ks->base);
            return NULL;
        }
    }
    if (txn && *txn)
        ks->txn_id = xstrdup(txn);
    rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    rd_kafka_conf_set_error_cb(kc, on_error);
    rd_kafka_conf_set_log_cb(kc, on_log);
    rd_kafka_conf_set_opaque(kc, ks);

    char errstr[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
    if (ks->rk == NULL) {
        err_set(err, ERR_SINK, "instance \"%s\", kafka sink: could not create the producer: %s",
                inst, errstr);
        rd_kafka_conf_destroy(kc);
        sink_kafka_ops.close(&ks->base);
        return NULL;
    }
    if (ks->txn_id) {
        /* Registers the id with its transaction coordinator: this fences any older producer
         * of the same id, and aborts what it left open. */
        rd_kafka_error_t *e = rd_kafka_init_transactions(ks->rk, TXN_TIMEOUT_MS);
        if (e) {
            err_set(err, ERR_SINK,
                    "instance \"%s\", kafka sink: init_transactions for transactional.id \"%s\" "
                    "failed: %s (are the brokers reachable, and do they allow transactions?)",
                    inst, ks->txn_id, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            sink_kafka_ops.close(&ks->base);
            return NULL;
        }
        log_info(FAC, inst, "kafka: transactional producer, transactional.id \"%s\"", ks->txn_id);
    }
    return &ks->base;
}

/* The key of change c into ks->key; returns false for no key. */
static bool make_key(struct kafka_sink *ks, const struct change *c)
{
    strbuf_reset(&ks->key);
    if (c->kind == CHANGE_DDL) {
        strbuf_appends(&ks->key, c->db ? c->db : "");
        return true;
    }
    if (format_render_key(ks->base.cfg->format, c, &ks->key))
        return true;
    switch (ks->base.cfg->no_pk_key) {
    case CONFIG_NO_PK_KEY_NONE:
        return false;
    case CONFIG_NO_PK_KEY_ROW:
        format_render_row_key(c, &ks->key);
        return true;
    case CONFIG_NO_PK_KEY_HASH:
        break;
    }
    /* FNV-1a over the row as JSON: the same row always gets the same key. */
    strbuf_reset(&ks->tmp);
    format_render_row_key(c, &ks->tmp);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < ks->tmp.len; i++) {
        h ^= (unsigned char)ks->tmp.buf[i];
        h *= 1099511628211ULL;
    }
    strbuf_printf(&ks->key, "%016" PRIx64, h);
    return true;
}

/* librdkafka (2.0) asks for a new topic's metadata only on its 1 s timer: the first message to
 * each topic would wait that long. So the first use of a name fetches its metadata at once
 * (which also lets Kafka auto-create it), bounded to 2 s; after a failure the message simply
 * waits, as it would have. */
static void warm_topic(struct kafka_sink *ks, const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    if (ks->nknown * 2 >= ks->capknown) {
        size_t cap = ks->capknown ? ks->capknown * 2 : 64;
        char **t = xcalloc(cap, sizeof(*t));
        for (size_t i = 0; i < ks->capknown; i++) {
            if (ks->known[i] == NULL)
                continue;
            uint64_t g = 1469598103934665603ULL;
            for (const char *p = ks->known[i]; *p; p++)
                g = (g ^ (unsigned char)*p) * 1099511628211ULL;
            size_t j = g & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = ks->known[i];
        }
        free(ks->known);
        ks->known = t;
        ks->capknown = cap;
    }
    size_t j = h & (ks->capknown - 1);
    for (; ks->known[j]; j = (j + 1) & (ks->capknown - 1))
        if (strcmp(ks->known[j], name) == 0)
            return;
    ks->known[j] = xstrdup(name);
    ks->nknown++;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, name, NULL);
    if (rkt == NULL)
        return; /* an invalid name: the send reports it */
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(ks->rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

/* Points ks->rkt at the topic named ks->topic (unchanged when it already does). */
static void use_topic(struct kafka_sink *ks)
{
    if (ks->rkt && strcmp(rd_kafka_topic_name(ks->rkt), ks->topic.buf) == 0)
        return;
    if (ks->rkt)
        rd_kafka_topic_destroy(ks->rkt);
    ks->rkt = rd_kafka_topic_new(ks->rk, ks->topic.buf, NULL); /* NULL: produce() says why */
}

static const char *topic_for(struct kafka_sink *ks, const struct change *c)
{
    const char *db = c->db ? c->db : "", *table = c->table ? c->table : "";
    if (c->kind == CHANGE_DDL) {
        ks->topic_valid = false;
        strbuf_reset(&ks->topic);
        sink_kafka_topic(ks->base.cfg->ddl_topic, ks->base.instance, db, "", &ks->topic);
        warm_topic(ks, ks->topic.buf);
        use_topic(ks);
        return ks->topic.buf;
    }
    if (ks->topic_valid && strcmp(db, ks->last_db) == 0 && strcmp(table, ks->last_table) == 0)
        return ks->topic.buf;
    strbuf_reset(&ks->topic);
    sink_kafka_topic(ks->base.cfg->topic, ks->base.instance, db, table, &ks->topic);
    warm_topic(ks, ks->topic.buf);
    use_topic(ks);
    /* Names too long to remember are expanded every time. */
    ks->topic_valid = strlen(db) < sizeof(ks->last_db) && strlen(table) < sizeof(ks->last_table);
    if (ks->topic_valid) {
        memcpy(ks->last_db, db, strlen(db) + 1);
        memcpy(ks->last_table, table, strlen(table) + 1);
    }
    return ks->topic.buf;
}

static bool wants_tombstones(const struct config_sink *cfg)
{
    if (cfg->tombstones == CONFIG_TOMBSTONES_AUTO)
        return cfg->format == CONFIG_FORMAT_DEBEZIUM;
    return cfg->tombstones == CONFIG_TOMBSTONES_ON;
}

static int kafka_append(struct sink *s, const struct change *c, struct err *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)s;
    if (ks->failed || !txn_begin(ks))
        return failed_err(ks, err);
    uint64_t id = s->last_batch + 1;
    struct format_ctx ctx;
    sink_format_ctx(s, &ctx);
    strbuf_reset(&ks->val);
    int r = format_render(s->cfg->format, &ctx, c, &ks->val, err);
    if (r)
        return r;
    bool has_key = make_key(ks, c);
    const char *topic = topic_for(ks, c);
    const void *key = has_key ? ks->key.buf : NULL;
    size_t keylen = has_key ? ks->key.len : 0;
    bool hdrs = s->cfg->headers == CONFIG_HEADERS_ON;
    rd_kafka_headers_t *h = hdrs ? make_headers(c, NULL, NULL) : NULL;
    rd_kafka_resp_err_t e =
        produce(ks, id, ks->rkt, topic, key, keylen, ks->val.buf, ks->val.len, h);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && c->kind == CHANGE_DELETE && has_key &&
        wants_tombstones(s->cfg)) {
        /* Same key, no value: compaction then drops the row (Debezium's tombstone). */
        h = hdrs ? make_headers(c, NULL, NULL) : NULL;
        e = produce(ks, id, ks->rkt, topic, key, keylen, NULL, 0, h);
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (h)
        rd_kafka_headers_destroy(h);
    if (ks->failed)
        return failed_err(ks, err);
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        if (s->cfg->too_large == CONFIG_TOO_LARGE_DEAD_LETTER) {
            e = send_dead_letter(ks, id, c, topic, key, keylen, ks->val.len);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        } else {
            return err_set(err, ERR_SINK,
                           "kafka: the %s of %s.%s at %s:%" PRIu64 " row %" PRIu32
                           " is a record of %zu bytes, larger than message.max.bytes allows; "
                           "raise message.max.bytes (and the topic's max.message.bytes), or set "
                           "too_large: dead_letter",
                           change_kind_name(c->kind), c->db ? c->db : "", c->table ? c->table : "",
                           c->file ? c->file : "", c->pos, c->row, ks->val.len + keylen);
        }
    }
    return err_set(err, ERR_SINK, "kafka: could not send to topic %s: %s", topic,
                   rd_kafka_err2str(e));
}

static int kafka_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)s;
    struct kbatch *b = batch_rec(ks, batch_id);
    if (b)
        b->closed = true;
    rd_kafka_poll(ks->rk, 0);
    if (ks->in_txn && clock_mono_ms() - ks->txn_since_ms >= TXN_COMMIT_MS)
        txn_commit(ks);
    if (ks->failed)
        return failed_err(ks, err);
    ack_done(ks);
    return 0;
}

static int kafka_poll(struct sink *s, int timeout_ms, struct err *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)s;
    rd_kafka_poll(ks->rk, timeout_ms);
    /* Between batches (the instance idles, or waits for acks): commit what is open. */
    if (ks->in_txn && all_closed(ks))
        txn_commit(ks);
    if (ks->failed)
        return failed_err(ks, err);
    ack_done(ks);
    return 0;
}

static void kafka_reopen(struct sink *s)
{
    (void)s; /* nothing file-like to reopen */
}

static void kafka_close(struct sink *s)
{
    struct kafka_sink *ks = (struct kafka_sink *)s;
    if (ks->rk) {
        /* Unacknowledged messages are sent again after a restart: drop what is queued rather
         * than wait for it. */
        ks->closing = true;
        rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(ks->rk, 0);
        if (ks->in_txn && !ks->fenced) {
            /* What it sent stays invisible to read_committed consumers. */
            rd_kafka_error_t *e = rd_kafka_abort_transaction(ks->rk, 5000);
            if (e) {
                log_warn(FAC, ks->base.instance, "kafka: abort_transaction: %s",
                         rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        }
        if (ks->rkt)
            rd_kafka_topic_destroy(ks->rkt);
        rd_kafka_destroy(ks->rk);
    }
    for (size_t i = 0; i < ks->nq; i++) /* after the producer: it may read them till then */
        slabs_free(ks->q[i].slabs);
    slabs_free(ks->spare);
    strbuf_free(&ks->val);
    strbuf_free(&ks->key);
    strbuf_free(&ks->topic);
    strbuf_free(&ks->tmp);
    free(ks->q);
    free(ks->txn_id);
    for (size_t i = 0; i < ks->capknown; i++)
        free(ks->known[i]);
    free(ks->known);
    sink_free_common(s);
    free(ks);
}

const struct sink_ops sink_kafka_ops = {
    .abi = SINK_ABI,
    .name = "kafka",
    .open = kafka_open,
    .append = kafka_append,
    .write_batch = kafka_write_batch,
    .poll = kafka_poll,
    .reopen = kafka_reopen,
    .close = kafka_close,
};
