/*
 * test_sink_kafka.c — unit tests for sinks/kafka.c through the sink wrappers, against
 * librdkafka's in-process mock cluster (the real Kafka protocol over TCP on 127.0.0.1, one
 * fresh cluster per test), reading what was written back with a librdkafka consumer:
 * a round trip (values, keys, headers, acks in order and once each), acks in batch order when
 * a later batch is delivered first (a slow broker), acks held while the brokers are down, retried
 * produce errors written exactly once and in order, a permanent failure (message timeout, a
 * non-retriable broker error) that stops the sink without an ack, records too large (stop, dead
 * letter), the keys of tables without a primary key and of DDL, topic templates, and a bad
 * librdkafka property refused at open.
 *
 * Every wait is a poll loop with a deadline, never a bare sleep. The mock's messages live in
 * memory only and vanish with the cluster.
 */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "change_json.h"
#include "log.h"
#include "mysql_types.h"
#include "sink.h"
#include "table_map.h"
#include "../../sinks/kafka.h"

#define NBROKERS 3
/* The Produce request's ApiKey (librdkafka's RD_KAFKAP_Produce, not in its public headers). */
#define API_PRODUCE 0
/* EndTxn's ApiKey (RD_KAFKAP_EndTxn). */
#define API_END_TXN 26

/* ---- time ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the mock cluster ---- */

static rd_kafka_t *mock_rk; /* the throw-away handle the cluster lives in */
static rd_kafka_mock_cluster_t *mc;
static char bootstraps[512];

static void mock_stop(void);

static void mock_start(void)
{
    char errstr[512];
    mock_stop(); /* the cluster of a test that ended at a fatal assertion */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mock_rk);
    mc = rd_kafka_mock_cluster_new(mock_rk, NBROKERS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc);
    snprintf(bootstraps, sizeof(bootstraps), "%s", rd_kafka_mock_cluster_bootstraps(mc));
}

static void mock_stop(void)
{
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    if (mock_rk)
        rd_kafka_destroy(mock_rk);
    mc = NULL;
    mock_rk = NULL;
}

static void topic_create(const char *name, int parts)
{
    CU_ASSERT_EQUAL(rd_kafka_mock_topic_create(mc, name, parts, NBROKERS), 0);
}

static void brokers_set(bool up)
{
    for (int32_t id = 1; id <= NBROKERS; id++)
        CU_ASSERT_EQUAL(
            up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id), 0);
}

/* ---- acknowledgements ---- */

static struct {
    uint64_t id[64];
    int n;
} acks;

static void on_ack(uint64_t batch_id, size_t bytes, void *opaque)
{
    (void)bytes;
    CU_ASSERT_PTR_EQUAL(opaque, &acks);
    if (acks.n < 64)
        acks.id[acks.n] = batch_id;
    acks.n++;
}

/* Polls s until `want` batches are acknowledged or deadline_ms passed; returns the last poll's
 * result (0 when every poll succeeded). */
static int poll_acks(struct sink *s, int want, int deadline_ms, struct err *err)
{
    int64_t end = now_ms() + deadline_ms;
    int r = 0;
    while (acks.n < want && now_ms() < end) {
        r = sink_poll(s, 50, err);
        if (r)
            break;
    }
    return r;
}

/* Checks that batches 1..n were acknowledged, in order, once each. */
static void check_acks(int n)
{
    CU_ASSERT_EQUAL(acks.n, n);
    for (int i = 0; i < n && i < acks.n; i++)
        CU_ASSERT_EQUAL(acks.id[i], (uint64_t)i + 1);
}

/* ---- opening the sink ---- */

static struct config_sink cfg;
static struct config_kv kv[8];

/* Fills cfg for a kafka sink; `props` is NULL or "k1", "v1", "k2", "v2"..., NULL. */
static void kafka_cfg(const char *topic, const char *const *props)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.type = CONFIG_SINK_KAFKA;
    cfg.format = CONFIG_FORMAT_JSON;
    cfg.brokers = bootstraps;
    cfg.topic = (char *)topic;
    cfg.ddl_topic = "ddl.{instance}";
    cfg.dead_letter_topic = "dlq.{instance}";
    cfg.no_pk_key = CONFIG_NO_PK_KEY_HASH;
    cfg.too_large = CONFIG_TOO_LARGE_STOP;
    cfg.n_kafka = 0;
    for (; props && props[0]; props += 2) {
        kv[cfg.n_kafka].key = (char *)props[0];
        kv[cfg.n_kafka].value = (char *)props[1];
        cfg.n_kafka++;
    }
    cfg.kafka = kv;
}

/* The sink_conf fence_id of the next open_kafka (cluster mode's transactional.id). */
static const char *fence_id;

static struct sink *open_kafka(const char *instance, struct err *err)
{
    struct sink_conf conf = {instance, &cfg, on_ack, &acks, 0, fence_id};
    memset(&acks, 0, sizeof(acks));
    struct sink *s = sink_open(&conf, err);
    if (s == NULL)
        fprintf(stderr, "\nopen: %s\n", err->msg);
    return s;
}

/* ---- tables and changes ---- */

struct tbl {
    struct table_map tm;
    struct table_map_col cols[2];
    char keys[2][16];
    uint32_t pk[1];
    char db_table[80];
};

/* shop.<name> (a INT, b VARCHAR), column a the primary key when with_pk. */
static void tbl_init(struct tbl *t, const char *name, bool with_pk)
{
    memset(t, 0, sizeof(*t));
    t->tm.db = "shop";
    t->tm.table = (char *)name;
    t->tm.ncols = 2;
    t->tm.cols = t->cols;
    t->tm.pk = t->pk;
    t->tm.has_names = true;
    const char *names[2] = {with_pk ? "id" : "a", with_pk ? "name" : "b"};
    uint8_t types[2] = {MYSQL_T_LONG, MYSQL_T_VARCHAR};
    for (int i = 0; i < 2; i++) {
        t->cols[i].type = t->cols[i].real_type = types[i];
        t->cols[i].name = (char *)names[i];
        snprintf(t->keys[i], sizeof(t->keys[i]), "\"%s\":", names[i]);
        t->cols[i].json_key = t->keys[i];
        t->cols[i].json_key_len = (uint32_t)strlen(t->keys[i]);
    }
    if (with_pk) {
        t->pk[0] = 0;
        t->tm.npk = 1;
        t->cols[0].is_pk = true;
    }
    snprintf(t->db_table, sizeof(t->db_table), ",\"db\":\"shop\",\"table\":\"%s\"", name);
    t->tm.json_db_table = t->db_table;
    t->tm.json_db_table_len = (uint32_t)strlen(t->db_table);
}

/* One row change with its own value text. */
struct rowc {
    struct change c;
    struct change_col cols[2];
    char text[2048];
};

/* An insert of (id, name) into t at binlog.000001:pos, row `row`. */
static void row_init(struct rowc *r, struct tbl *t, int id, const char *name, uint64_t pos)
{
    memset(r, 0, sizeof(*r));
    int n1 = snprintf(r->text, sizeof(r->text), "%d", id);
    int n2 = snprintf(r->text + n1, sizeof(r->text) - (size_t)n1, "\"%s\"", name);
    r->cols[0] = (struct change_col){0, 0, (uint32_t)n1};
    r->cols[1] = (struct change_col){1, (uint32_t)n1, (uint32_t)n2};
    r->c.kind = CHANGE_INSERT;
    r->c.db = t->tm.db;
    r->c.table = t->tm.table;
    r->c.tmap = &t->tm;
    r->c.ts = 1700000000 + (uint32_t)pos;
    r->c.file = "binlog.000001";
    r->c.pos = pos;
    r->c.next_pos = pos + 50;
    r->c.row = (uint32_t)(pos % 7);
    r->c.gtid = "0-1-42";
    r->c.after = (struct change_image){.cols = r->cols, .ncols = 2};
    r->c.text = r->text;
}

static void append_ok(struct sink *s, const struct change *c)
{
    struct err err = {0};
    int r = sink_append(s, c, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r)
        fprintf(stderr, "\nappend: %s\n", err.msg);
}

static void write_ok(struct sink *s, uint64_t id)
{
    struct err err = {0};
    int r = sink_write_batch(s, id, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r)
        fprintf(stderr, "\nwrite_batch %" PRIu64 ": %s\n", id, err.msg);
}

/* ---- reading back ---- */

enum { H_POS, H_ROW, H_TS, H_GTID, H_ERROR, H_TOPIC, NHDR };
static const char *const hdr_names[NHDR] = {"sluice.pos",  "sluice.row",   "sluice.ts",
                                            "sluice.gtid", "sluice.error", "sluice.topic"};

struct msg {
    int32_t partition;
    int64_t offset;
    char *key; /* NUL-terminated copy, NULL when the message has no key */
    char *val; /* NULL when the value is null */
    size_t val_len;
    char *hdr[NHDR]; /* NULL when absent */
    size_t nhdr;     /* headers of any name */
};

struct msgs {
    struct msg m[128];
    int n;
};

static char *dup_n(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void msgs_free(struct msgs *ms)
{
    for (int i = 0; i < ms->n && i < 128; i++) {
        free(ms->m[i].key);
        free(ms->m[i].val);
        for (int h = 0; h < NHDR; h++)
            free(ms->m[i].hdr[h]);
    }
    memset(ms, 0, sizeof(*ms));
}

/* Reads every message of topic (nparts partitions) from the beginning to the end of each
 * partition into ms, in partition then offset order. */
static void consume(const char *topic, int nparts, struct msgs *ms)
{
    char errstr[512];
    memset(ms, 0, sizeof(*ms));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {
        {"bootstrap.servers", bootstraps}, {"group.id", "sluice-test"},
        {"enable.auto.commit", "false"},   {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"}, {"log_level", "3"},
        {"fetch.wait.max.ms", "20"},       {"fetch.error.backoff.ms", "20"},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        CU_ASSERT_EQUAL_FATAL(rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, 512),
                              RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CU_ASSERT_EQUAL(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);

    struct msg got[128];
    int ngot = 0, neof = 0;
    bool eof[64] = {false};
    int64_t end = now_ms() + 10000;
    while (neof < nparts && now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < 64 && !eof[m->partition]) {
                eof[m->partition] = true;
                neof++;
            }
        } else if (m->err) {
            fprintf(stderr, "\nconsume %s: %s\n", topic, rd_kafka_message_errstr(m));
        } else if (ngot < 128) {
            struct msg *g = &got[ngot++];
            memset(g, 0, sizeof(*g));
            g->partition = m->partition;
            g->offset = m->offset;
            if (m->key)
                g->key = dup_n(m->key, m->key_len);
            if (m->payload) {
                g->val = dup_n(m->payload, m->len);
                g->val_len = m->len;
            }
            rd_kafka_headers_t *hs;
            if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                g->nhdr = rd_kafka_header_cnt(hs);
                for (int h = 0; h < NHDR; h++) {
                    const void *v;
                    size_t len;
                    if (rd_kafka_header_get_last(hs, hdr_names[h], &v, &len) == 0)
                        g->hdr[h] = dup_n(v, len);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    CU_ASSERT_EQUAL(neof, nparts); /* every partition read to its end */
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    /* Partition, then offset order: the order a key's messages were written in. */
    for (int p = 0; p < nparts; p++) {
        int64_t last = -1;
        for (int i = 0; i < ngot; i++) {
            if (got[i].partition != p)
                continue;
            CU_ASSERT(got[i].offset > last);
            last = got[i].offset;
            ms->m[ms->n++] = got[i];
        }
    }
}

/* The message whose sluice.pos header is "binlog.000001:pos", NULL when none; counts them. */
static const struct msg *find_pos(const struct msgs *ms, uint64_t pos, int *count)
{
    char want[64];
    snprintf(want, sizeof(want), "binlog.000001:%" PRIu64, pos);
    const struct msg *found = NULL;
    *count = 0;
    for (int i = 0; i < ms->n; i++)
        if (ms->m[i].hdr[H_POS] && strcmp(ms->m[i].hdr[H_POS], want) == 0) {
            found = &ms->m[i];
            (*count)++;
        }
    return found;
}

/* Checks that the topic holds exactly the row changes rows[0..n), once each, with the json
 * value, the {"id":N} key and the headers they were sent with. */
static void check_rows(const struct msgs *ms, struct rowc *rows, int n)
{
    CU_ASSERT_EQUAL(ms->n, n);
    for (int i = 0; i < n; i++) {
        const struct change *c = &rows[i].c;
        int count;
        const struct msg *m = find_pos(ms, c->pos, &count);
        CU_ASSERT_EQUAL(count, 1);
        if (m == NULL)
            continue;
        struct strbuf want;
        strbuf_init(&want);
        change_json_render(c, &want);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m->val);
        CU_ASSERT_EQUAL(m->val_len, want.len);
        CU_ASSERT_STRING_EQUAL(m->val, want.buf);
        strbuf_reset(&want);
        strbuf_printf(&want, "{\"id\":%.*s}", (int)rows[i].cols[0].len, rows[i].text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m->key);
        CU_ASSERT_STRING_EQUAL(m->key, want.buf);
        char num[32];
        snprintf(num, sizeof(num), "%" PRIu32, c->row);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m->hdr[H_ROW]);
        CU_ASSERT_STRING_EQUAL(m->hdr[H_ROW], num);
        CU_ASSERT_PTR_NULL(m->hdr[H_TS]); /* the event time is in the value */
        CU_ASSERT_PTR_NOT_NULL_FATAL(m->hdr[H_GTID]);
        CU_ASSERT_STRING_EQUAL(m->hdr[H_GTID], c->gtid);
        CU_ASSERT_PTR_NULL(m->hdr[H_ERROR]);
        strbuf_free(&want);
    }
}

/* ---- 1. round trip ---- */

static void test_round_trip(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[5];

    mock_start();
    topic_create("t.rt.shop.items", 2);
    tbl_init(&t, "items", true);
    for (int i = 0; i < 5; i++)
        row_init(&rows[i], &t, i + 1, i % 2 ? "odd" : "even", 1000 + 100 * (uint64_t)i);

    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    struct sink *s = open_kafka("rt", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < 3; i++)
        append_ok(s, &rows[i].c);
    write_ok(s, 1);
    append_ok(s, &rows[3].c);
    append_ok(s, &rows[4].c);
    write_ok(s, 2);
    CU_ASSERT_EQUAL(poll_acks(s, 2, 10000, &err), 0);
    check_acks(2);
    CU_ASSERT_EQUAL(s->last_acked, 2);
    CU_ASSERT_EQUAL(s->held_bytes, 0);
    /* Nothing more comes. */
    CU_ASSERT_EQUAL(sink_poll(s, 100, &err), 0);
    check_acks(2);
    sink_close(s);

    struct msgs ms;
    consume("t.rt.shop.items", 2, &ms);
    check_rows(&ms, rows, 5);
    int count;
    const struct msg *m = find_pos(&ms, 1200, &count);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->key, "{\"id\":3}");
    CU_ASSERT_STRING_EQUAL(m->hdr[H_ROW], "3");
    CU_ASSERT_PTR_NULL(m->hdr[H_TS]);
    CU_ASSERT_STRING_EQUAL(m->hdr[H_GTID], "0-1-42");
    msgs_free(&ms);
    mock_stop();
}

/* headers: off: the same values and keys, acknowledged the same way, with no header at all. */
static void test_no_headers(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[3];

    mock_start();
    topic_create("t.nh.shop.items", 1);
    tbl_init(&t, "items", true);
    for (int i = 0; i < 3; i++)
        row_init(&rows[i], &t, i + 1, "v", 2000 + 100 * (uint64_t)i);

    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    cfg.headers = CONFIG_HEADERS_OFF;
    struct sink *s = open_kafka("nh", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < 3; i++)
        append_ok(s, &rows[i].c);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    check_acks(1);
    CU_ASSERT_EQUAL(s->held_bytes, 0);
    sink_close(s);

    struct msgs ms;
    consume("t.nh.shop.items", 1, &ms);
    CU_ASSERT_EQUAL_FATAL(ms.n, 3);
    for (int i = 0; i < 3; i++) {
        struct strbuf want;
        strbuf_init(&want);
        change_json_render(&rows[i].c, &want);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ms.m[i].val);
        CU_ASSERT_STRING_EQUAL(ms.m[i].val, want.buf);
        strbuf_reset(&want);
        strbuf_printf(&want, "{\"id\":%d}", i + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ms.m[i].key);
        CU_ASSERT_STRING_EQUAL(ms.m[i].key, want.buf);
        CU_ASSERT_EQUAL(ms.m[i].nhdr, 0);
        strbuf_free(&want);
    }
    msgs_free(&ms);
    mock_stop();
}

/* Batch 1 goes to a slow broker, batch 2 to a fast one: batch 2's deliveries come first, yet
 * the acks come 1 then 2, and none before batch 1 is delivered. */
static void test_ack_order(void)
{
    struct err err = {0};
    struct tbl slow, fast;
    struct rowc rows[4];

    mock_start();
    topic_create("t.order.shop.slow", 1);
    topic_create("t.order.shop.fast", 1);
    CU_ASSERT_EQUAL(rd_kafka_mock_partition_set_leader(mc, "t.order.shop.slow", 0, 1), 0);
    CU_ASSERT_EQUAL(rd_kafka_mock_partition_set_leader(mc, "t.order.shop.fast", 0, 2), 0);
    tbl_init(&slow, "slow", true);
    tbl_init(&fast, "fast", true);
    row_init(&rows[0], &slow, 1, "a", 1500);
    row_init(&rows[1], &slow, 2, "b", 1510);
    row_init(&rows[2], &fast, 3, "c", 1520);
    row_init(&rows[3], &fast, 4, "d", 1530);

    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    struct sink *s = open_kafka("order", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* Connected and warmed up first, so that the delay below only hits the produce. */
    append_ok(s, &rows[0].c);
    append_ok(s, &rows[2].c);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    check_acks(1);

    CU_ASSERT_EQUAL(rd_kafka_mock_broker_set_rtt(mc, 1, 1500), 0);
    CU_ASSERT_EQUAL(s->held_bytes, 0);
    append_ok(s, &rows[1].c); /* slow */
    write_ok(s, 2);
    size_t held2 = s->held_bytes;
    CU_ASSERT(held2 > 0);
    append_ok(s, &rows[3].c); /* fast */
    write_ok(s, 3);
    /* Batch 3 is delivered well within the slow broker's delay; nothing may be acked. */
    int64_t end = now_ms() + 700;
    while (now_ms() < end)
        CU_ASSERT_EQUAL(sink_poll(s, 50, &err), 0);
    CU_ASSERT_EQUAL(acks.n, 1);
    /* ... though batch 3's delivery report is in: only batch 2's message is still held. */
    CU_ASSERT_EQUAL(s->held_bytes, held2);
    CU_ASSERT_EQUAL(poll_acks(s, 3, 10000, &err), 0);
    check_acks(3);
    rd_kafka_mock_broker_set_rtt(mc, 1, 0);
    sink_close(s);

    struct msgs ms;
    consume("t.order.shop.fast", 1, &ms);
    CU_ASSERT_EQUAL(ms.n, 2);
    msgs_free(&ms);
    mock_stop();
}

/* ---- 2. acks wait for delivery ---- */

static void test_acks_wait_for_brokers(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[4];

    mock_start();
    topic_create("t.down.shop.items", 2);
    tbl_init(&t, "items", true);
    for (int i = 0; i < 4; i++)
        row_init(&rows[i], &t, i + 1, "x", 2000 + 10 * (uint64_t)i);
    brokers_set(false);

    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    struct sink *s = open_kafka("down", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < 3; i++)
        append_ok(s, &rows[i].c);
    write_ok(s, 1);
    append_ok(s, &rows[3].c);
    write_ok(s, 2);
    CU_ASSERT(s->held_bytes > 0);
    /* A whole second of polling with every broker away: no acknowledgement, no error. */
    int64_t end = now_ms() + 1000;
    while (now_ms() < end)
        CU_ASSERT_EQUAL(sink_poll(s, 50, &err), 0);
    CU_ASSERT_EQUAL(acks.n, 0);
    CU_ASSERT_EQUAL(s->last_acked, 0);

    brokers_set(true);
    CU_ASSERT_EQUAL(poll_acks(s, 2, 15000, &err), 0);
    check_acks(2);
    CU_ASSERT_EQUAL(s->held_bytes, 0);
    sink_close(s);

    struct msgs ms;
    consume("t.down.shop.items", 2, &ms);
    check_rows(&ms, rows, 4);
    msgs_free(&ms);
    mock_stop();
}

/* ---- 3. retriable produce errors ---- */

static void test_retriable_errors(void)
{
    struct err err = {0};
    struct tbl t;
    enum { NKEYS = 3, NVER = 4, N = NKEYS * NVER };
    static struct rowc rows[N];

    mock_start();
    topic_create("t.retry.shop.items", 2);
    tbl_init(&t, "items", true);
    /* Each key NVER times, interleaved: key k version v at pos 3000 + 10 * (v * NKEYS + k). */
    for (int v = 0; v < NVER; v++)
        for (int k = 0; k < NKEYS; k++) {
            char name[16];
            snprintf(name, sizeof(name), "v%d", v);
            row_init(&rows[v * NKEYS + k], &t, k + 1, name, 3000 + 10 * (uint64_t)(v * NKEYS + k));
        }
    /* Both partitions led by broker 1, whose next Produce requests fail (its own error stack,
     * checked empty at the end), then the cluster's (taken by whichever broker asks next). */
    CU_ASSERT_EQUAL(rd_kafka_mock_partition_set_leader(mc, "t.retry.shop.items", 0, 1), 0);
    CU_ASSERT_EQUAL(rd_kafka_mock_partition_set_leader(mc, "t.retry.shop.items", 1, 1), 0);
    CU_ASSERT_EQUAL(rd_kafka_mock_broker_push_request_error_rtts(
                        mc, 1, API_PRODUCE, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0,
                        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0),
                    0);
    rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);

    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    struct sink *s = open_kafka("retry", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < N / 2; i++)
        append_ok(s, &rows[i].c);
    write_ok(s, 1);
    for (int i = N / 2; i < N; i++)
        append_ok(s, &rows[i].c);
    write_ok(s, 2);
    CU_ASSERT_EQUAL(poll_acks(s, 2, 15000, &err), 0);
    check_acks(2);
    sink_close(s);
    size_t left = 99;
    CU_ASSERT_EQUAL(rd_kafka_mock_broker_error_stack_cnt(mc, 1, API_PRODUCE, &left), 0);
    CU_ASSERT_EQUAL(left, 0); /* every injected error was met, and retried */

    struct msgs ms;
    consume("t.retry.shop.items", 2, &ms);
    check_rows(&ms, rows, N);
    /* Per key, in partition order: the versions as written. */
    for (int k = 0; k < NKEYS; k++) {
        char key[32];
        snprintf(key, sizeof(key), "{\"id\":%d}", k + 1);
        int v = 0;
        int32_t part = -1;
        for (int i = 0; i < ms.n; i++) {
            if (ms.m[i].key == NULL || strcmp(ms.m[i].key, key) != 0)
                continue;
            char want[64];
            snprintf(want, sizeof(want), "binlog.000001:%d", 3000 + 10 * (v * NKEYS + k));
            CU_ASSERT_STRING_EQUAL(ms.m[i].hdr[H_POS], want);
            if (part >= 0)
                CU_ASSERT_EQUAL(ms.m[i].partition, part); /* one key, one partition */
            part = ms.m[i].partition;
            v++;
        }
        CU_ASSERT_EQUAL(v, NVER);
    }
    msgs_free(&ms);
    mock_stop();
}

/* ---- 4. permanent failure ---- */

/* Polls until the sink fails; checks the error and that nothing is acknowledged after. */
/* Polls s until it fails or deadline_ms passed; returns the last poll's result (err filled). */
static int poll_until_failure(struct sink *s, int deadline_ms, struct err *err)
{
    int64_t end = now_ms() + deadline_ms;
    int r = 0;
    while (r == 0 && now_ms() < end)
        r = sink_poll(s, 50, err);
    return r;
}

static void expect_failure(struct sink *s, const char *topic, const char *cause)
{
    struct err err = {0};
    int r = poll_until_failure(s, 15000, &err);
    CU_ASSERT(r < 0);
    CU_ASSERT_EQUAL(err.code, r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, topic));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the position is held"));
    if (cause)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cause));
    if (r == 0 || !strstr(err.msg, topic))
        fprintf(stderr, "\npoll: %d %s\n", r, err.msg);
    CU_ASSERT_EQUAL(acks.n, 0);
    /* It stays failed: later calls report it, still without an acknowledgement. */
    struct err err2 = {0};
    CU_ASSERT(sink_poll(s, 100, &err2) < 0);
    CU_ASSERT_STRING_EQUAL(err2.msg, err.msg);
    CU_ASSERT(sink_write_batch(s, s->last_batch + 1, &err2) < 0);
    CU_ASSERT_EQUAL(acks.n, 0);
    CU_ASSERT_EQUAL(s->last_acked, 0);
}

static void test_permanent_failure(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[2];

    mock_start();
    tbl_init(&t, "items", true);
    row_init(&rows[0], &t, 1, "x", 4000);
    row_init(&rows[1], &t, 2, "y", 4010);

    /* Brokers away for longer than message.timeout.ms. */
    topic_create("t.timeout.shop.items", 2);
    brokers_set(false);
    const char *timeout_props[] = {"message.timeout.ms", "1000", NULL};
    kafka_cfg("t.{instance}.{db}.{table}", timeout_props);
    struct sink *s = open_kafka("timeout", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &rows[0].c);
    append_ok(s, &rows[1].c);
    write_ok(s, 1);
    expect_failure(s, "t.timeout.shop.items", rd_kafka_err2str(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT));
    CU_ASSERT(sink_append(s, &rows[0].c, &err) < 0);
    sink_close(s);
    brokers_set(true);

    /* A broker error librdkafka does not retry. */
    topic_create("t.denied.shop.items", 2);
    rd_kafka_mock_push_request_errors(
        mc, API_PRODUCE, 8, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    s = open_kafka("denied", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &rows[0].c);
    write_ok(s, 1);
    expect_failure(s, "t.denied.shop.items",
                   rd_kafka_err2str(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
    sink_close(s);
    mock_stop();
}

/* ---- 5. records too large ---- */

static void test_too_large(void)
{
    struct err err = {0};
    struct tbl t;
    static struct rowc small, big;
    char name[1200];

    mock_start();
    topic_create("t.big.shop.items", 1);
    topic_create("dlq.big", 1);
    tbl_init(&t, "items", true);
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    row_init(&small, &t, 1, "small", 5000);
    row_init(&big, &t, 2, name, 5100);
    const char *props[] = {"message.max.bytes", "1000", NULL};

    /* stop: the append fails and says what to change. */
    kafka_cfg("t.{instance}.{db}.{table}", props);
    struct sink *s = open_kafka("big", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &small.c);
    CU_ASSERT(sink_append(s, &big.c, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "message.max.bytes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too_large: dead_letter"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "binlog.000001:5100"));
    CU_ASSERT_EQUAL(acks.n, 0);
    sink_close(s);

    /* dead_letter: a key-only record to the dead-letter topic stands for it. */
    kafka_cfg("t.{instance}.{db}.{table}", props);
    cfg.too_large = CONFIG_TOO_LARGE_DEAD_LETTER;
    s = open_kafka("big", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &small.c);
    append_ok(s, &big.c);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    check_acks(1);
    sink_close(s);

    struct msgs ms;
    consume("t.big.shop.items", 1, &ms);
    check_rows(&ms, &small, 1);
    msgs_free(&ms);
    consume("dlq.big", 1, &ms);
    CU_ASSERT_EQUAL_FATAL(ms.n, 1);
    const struct msg *m = &ms.m[0];
    CU_ASSERT_PTR_NOT_NULL(m->key);
    if (m->key)
        CU_ASSERT_STRING_EQUAL(m->key, "{\"id\":2}");
    CU_ASSERT_PTR_NULL(m->val);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->hdr[H_ERROR]);
    CU_ASSERT_PTR_NOT_NULL(strstr(m->hdr[H_ERROR], "too large"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->hdr[H_TOPIC]);
    CU_ASSERT_STRING_EQUAL(m->hdr[H_TOPIC], "t.big.shop.items");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->hdr[H_POS]);
    CU_ASSERT_STRING_EQUAL(m->hdr[H_POS], "binlog.000001:5100");
    msgs_free(&ms);

    /* The broker refuses it (its own limit): the dead-letter record is sent from the delivery
     * report, and stands for the record in the batch. */
    topic_create("t.bbig.shop.items", 1);
    topic_create("dlq.bbig", 1);
    CU_ASSERT_EQUAL(rd_kafka_mock_partition_set_leader(mc, "t.bbig.shop.items", 0, 1), 0);
    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    cfg.too_large = CONFIG_TOO_LARGE_DEAD_LETTER;
    s = open_kafka("bbig", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &small.c);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    CU_ASSERT_EQUAL(rd_kafka_mock_broker_push_request_error_rtts(
                        mc, 1, API_PRODUCE, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 0),
                    0);
    append_ok(s, &big.c);
    write_ok(s, 2);
    int r = poll_acks(s, 2, 10000, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r)
        fprintf(stderr, "\npoll: %s\n", err.msg);
    check_acks(2);
    sink_close(s);
    consume("t.bbig.shop.items", 1, &ms);
    check_rows(&ms, &small, 1);
    msgs_free(&ms);
    consume("dlq.bbig", 1, &ms);
    CU_ASSERT_EQUAL_FATAL(ms.n, 1);
    m = &ms.m[0];
    CU_ASSERT_PTR_NOT_NULL(m->key);
    if (m->key)
        CU_ASSERT_STRING_EQUAL(m->key, "{\"id\":2}");
    CU_ASSERT_PTR_NULL(m->val);
    CU_ASSERT_PTR_NOT_NULL(m->hdr[H_ERROR]);
    CU_ASSERT_PTR_NOT_NULL(m->hdr[H_TOPIC]);
    if (m->hdr[H_TOPIC])
        CU_ASSERT_STRING_EQUAL(m->hdr[H_TOPIC], "t.bbig.shop.items");
    CU_ASSERT_PTR_NOT_NULL(m->hdr[H_POS]);
    if (m->hdr[H_POS])
        CU_ASSERT_STRING_EQUAL(m->hdr[H_POS], "binlog.000001:5100");
    CU_ASSERT_PTR_NOT_NULL(m->hdr[H_GTID]);
    msgs_free(&ms);
    mock_stop();
}

/* ---- 6. keys ---- */

/* Sends rows and a DDL through a sink of no_pk_key policy `policy` and reads the topic back. */
static void keyed_run(const char *instance,
                      enum config_no_pk_key policy,
                      struct rowc *rows,
                      int n,
                      const struct change *ddl,
                      struct msgs *ms)
{
    struct err err = {0};
    char topic[64];
    snprintf(topic, sizeof(topic), "k.%s.shop.nopk", instance);
    topic_create(topic, 2);
    kafka_cfg("k.{instance}.{db}.{table}", NULL);
    cfg.no_pk_key = policy;
    struct sink *s = open_kafka(instance, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < n; i++)
        append_ok(s, &rows[i].c);
    if (ddl)
        append_ok(s, ddl);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    check_acks(1);
    sink_close(s);
    consume(topic, 2, ms);
    CU_ASSERT_EQUAL(ms->n, n);
}

static const char *key_at(const struct msgs *ms, uint64_t pos)
{
    int count;
    const struct msg *m = find_pos(ms, pos, &count);
    CU_ASSERT_EQUAL(count, 1);
    return m ? m->key : NULL;
}

static bool is_hex16(const char *s)
{
    if (s == NULL || strlen(s) != 16)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static void test_keys(void)
{
    struct tbl t;
    struct rowc rows[3];
    struct msgs ms;
    struct change ddl;
    static const char sql[] = "ALTER TABLE nopk ADD c INT";

    mock_start();
    topic_create("ddl.hash", 1);
    tbl_init(&t, "nopk", false);
    row_init(&rows[0], &t, 1, "x", 6000);
    row_init(&rows[1], &t, 1, "x", 6100); /* the same content again */
    row_init(&rows[2], &t, 2, "y", 6200);
    memset(&ddl, 0, sizeof(ddl));
    ddl.kind = CHANGE_DDL;
    ddl.db = "shop";
    ddl.ts = 1700000000;
    ddl.file = "binlog.000001";
    ddl.pos = 6300;
    ddl.sql = sql;
    ddl.sql_len = (uint32_t)strlen(sql);

    /* hash: 16 hex digits, the same for the same row, FNV-1a of the row's JSON. */
    keyed_run("hash", CONFIG_NO_PK_KEY_HASH, rows, 3, &ddl, &ms);
    const char *k0 = key_at(&ms, 6000), *k1 = key_at(&ms, 6100), *k2 = key_at(&ms, 6200);
    CU_ASSERT(is_hex16(k0));
    CU_ASSERT(is_hex16(k2));
    if (k0 && k1 && k2) {
        CU_ASSERT_STRING_EQUAL(k0, k1);
        CU_ASSERT_STRING_NOT_EQUAL(k0, k2);
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = "{\"a\":1,\"b\":\"x\"}"; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ULL;
        }
        char want[17];
        snprintf(want, sizeof(want), "%016" PRIx64, h);
        CU_ASSERT_STRING_EQUAL(k0, want);
    }
    msgs_free(&ms);

    /* The DDL went to ddl_topic, keyed by its database. */
    consume("ddl.hash", 1, &ms);
    CU_ASSERT_EQUAL_FATAL(ms.n, 1);
    CU_ASSERT_PTR_NOT_NULL(ms.m[0].key);
    if (ms.m[0].key)
        CU_ASSERT_STRING_EQUAL(ms.m[0].key, "shop");
    struct strbuf want;
    strbuf_init(&want);
    change_json_render(&ddl, &want);
    CU_ASSERT_PTR_NOT_NULL(ms.m[0].val);
    if (ms.m[0].val)
        CU_ASSERT_STRING_EQUAL(ms.m[0].val, want.buf);
    CU_ASSERT_PTR_NOT_NULL(ms.m[0].hdr[H_POS]);
    if (ms.m[0].hdr[H_POS])
        CU_ASSERT_STRING_EQUAL(ms.m[0].hdr[H_POS], "binlog.000001:6300");
    strbuf_free(&want);
    msgs_free(&ms);

    /* row: the row itself. */
    keyed_run("row", CONFIG_NO_PK_KEY_ROW, rows, 3, NULL, &ms);
    const char *r0 = key_at(&ms, 6000), *r2 = key_at(&ms, 6200);
    CU_ASSERT_PTR_NOT_NULL(r0);
    CU_ASSERT_PTR_NOT_NULL(r2);
    if (r0 && r2) {
        CU_ASSERT_STRING_EQUAL(r0, "{\"a\":1,\"b\":\"x\"}");
        CU_ASSERT_STRING_EQUAL(r2, "{\"a\":2,\"b\":\"y\"}");
    }
    msgs_free(&ms);

    /* none: no key at all. */
    keyed_run("none", CONFIG_NO_PK_KEY_NONE, rows, 3, NULL, &ms);
    for (int i = 0; i < ms.n; i++) {
        CU_ASSERT_PTR_NULL(ms.m[i].key);
        CU_ASSERT_PTR_NOT_NULL(ms.m[i].val);
    }
    msgs_free(&ms);
    mock_stop();
}

/* ---- 7. topic templates ---- */

static void
check_topic(const char *tmpl, const char *inst, const char *db, const char *table, const char *want)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_appends(&sb, "pre:"); /* appends, never resets */
    sink_kafka_topic(tmpl, inst, db, table, &sb);
    char full[256];
    snprintf(full, sizeof(full), "pre:%s", want);
    CU_ASSERT_STRING_EQUAL(sb.buf, full);
    strbuf_free(&sb);
}

static void test_topic_names(void)
{
    check_topic("t.{instance}.{db}.{table}", "demo", "shop", "items", "t.demo.shop.items");
    check_topic("{db}{table}{db}", "demo", "a", "b", "aba");
    check_topic("plain-topic_1.x", "demo", "a", "b", "plain-topic_1.x");
    /* Outside [A-Za-z0-9._-], in the values and in the template, byte by byte. */
    check_topic("t.{instance}.{db}.{table}", "my inst", "sh\xc3\xb6p", "a/b$c",
                "t.my_inst.sh__p.a_b_c");
    check_topic("cdc:{db}@{table}", "demo", "d", "t", "cdc_d_t");
    /* NULL is "", unknown variables are plain text. */
    check_topic("x.{instance}.{db}.{table}.y", NULL, NULL, NULL, "x....y");
    check_topic("{foo}.{db", "demo", "d", "t", "_foo_._db");
    check_topic("", "demo", "d", "t", "");
}

/* ---- 8. a bad librdkafka property ---- */

/* librdkafka's own error text for key=value. */
static void rdkafka_errstr(const char *key, const char *value, char *errstr, size_t size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    CU_ASSERT_NOT_EQUAL(rd_kafka_conf_set(conf, key, value, errstr, size), RD_KAFKA_CONF_OK);
    rd_kafka_conf_destroy(conf);
}

static void check_bad_prop(const char *key, const char *value)
{
    struct err err = {0};
    char errstr[512];
    const char *props[] = {"linger.ms", "5", key, value, NULL};

    rdkafka_errstr(key, value, errstr, sizeof(errstr));
    kafka_cfg("t.{instance}", props);
    cfg.brokers = "127.0.0.1:9";
    struct sink_conf conf = {"bad", &cfg, on_ack, &acks, 0, NULL};
    CU_ASSERT_PTR_NULL(sink_open(&conf, &err));
    CU_ASSERT(err.code < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, errstr));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, key));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instance \"bad\""));
    if (!strstr(err.msg, errstr))
        fprintf(stderr, "\nopen: %s\nlibrdkafka: %s\n", err.msg, errstr);
}

/* ---- 8. transactions (cluster mode's fence id, or transactional.id) ---- */

/* A transactional sink: batches are acknowledged once committed, messages read back once each. */
static void test_transactions(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[4];
    mock_start();
    topic_create("t.txn.shop.items", 2);
    tbl_init(&t, "items", true);
    for (int i = 0; i < 4; i++)
        row_init(&rows[i], &t, i + 1, "v", 5000 + 10 * (uint64_t)i);
    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    fence_id = "sluice.c1.txn";
    struct sink *s = open_kafka("txn", &err);
    fence_id = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &rows[0].c);
    append_ok(s, &rows[1].c);
    write_ok(s, 1);
    append_ok(s, &rows[2].c);
    append_ok(s, &rows[3].c);
    write_ok(s, 2);
    CU_ASSERT_EQUAL(poll_acks(s, 2, 10000, &err), 0);
    check_acks(2);
    /* A batch without messages (filtered rows, a commit alone) opens no transaction: it is
     * acknowledged all the same. */
    write_ok(s, 3);
    CU_ASSERT_EQUAL(poll_acks(s, 3, 10000, &err), 0);
    check_acks(3);
    sink_close(s);
    struct msgs ms;
    consume("t.txn.shop.items", 2, &ms);
    check_rows(&ms, rows, 4);
    msgs_free(&ms);

    /* The user's own transactional.id works the same. */
    const char *props[] = {"transactional.id", "my-own-id", NULL};
    kafka_cfg("t.{instance}.{db}.{table}", props);
    s = open_kafka("txn", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &rows[0].c);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(poll_acks(s, 1, 10000, &err), 0);
    check_acks(1);
    sink_close(s);
    mock_stop();
}

/* The brokers refuse the producer (a newer one took its transactional.id): the sink fails with
 * ERR_POS_STALE (the instance steps down), says "fenced", and acknowledges nothing. Both ways a
 * broker says it: at commit (EndTxn), and on a produce request. */
static void test_fenced(void)
{
    struct err err = {0};
    struct tbl t;
    struct rowc rows[1];
    mock_start();
    topic_create("t.fence.shop.items", 1);
    tbl_init(&t, "items", true);
    row_init(&rows[0], &t, 1, "v", 6000);
    kafka_cfg("t.{instance}.{db}.{table}", NULL);
    for (int how = 0; how < 2; how++) {
        fence_id = "sluice.c1.fence";
        struct sink *s = open_kafka("fence", &err);
        fence_id = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        if (how == 0)
            rd_kafka_mock_push_request_errors(mc, API_END_TXN, 1,
                                              RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
        else
            rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 1,
                                              RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
        append_ok(s, &rows[0].c);
        write_ok(s, 1);
        memset(&err, 0, sizeof(err));
        int r = poll_until_failure(s, 10000, &err);
        CU_ASSERT_EQUAL(r, ERR_POS_STALE);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fenced"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sluice.c1.fence"));
        if (r != ERR_POS_STALE || !strstr(err.msg, "fenced"))
            fprintf(stderr, "\nfence %d: %d %s\n", how, r, err.msg);
        CU_ASSERT_EQUAL(acks.n, 0);
        CU_ASSERT(sink_append(s, &rows[0].c, &err) == ERR_POS_STALE);
        sink_close(s);
    }
    mock_stop();
}

static void test_bad_property(void)
{
    check_bad_prop("linger.ms", "abc");
    check_bad_prop("no.such.property", "1");
    check_bad_prop("acks", "several");
}

int main(void)
{
    log_level = CONFIG_LOG_ERROR; /* the failures tested log errors; warnings are noise here */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite su = CU_add_suite("sink_kafka", NULL, NULL);
    CU_add_test(su, "round_trip", test_round_trip);
    CU_add_test(su, "no_headers", test_no_headers);
    CU_add_test(su, "ack_order", test_ack_order);
    CU_add_test(su, "acks_wait_for_brokers", test_acks_wait_for_brokers);
    CU_add_test(su, "retriable_errors", test_retriable_errors);
    CU_add_test(su, "permanent_failure", test_permanent_failure);
    CU_add_test(su, "too_large", test_too_large);
    CU_add_test(su, "keys", test_keys);
    CU_add_test(su, "topic_names", test_topic_names);
    CU_add_test(su, "transactions", test_transactions);
    CU_add_test(su, "fenced", test_fenced);
    CU_add_test(su, "bad_property", test_bad_property);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
