/*
 * kafka_floor.c — the Kafka part's peer in the benchmark (scripts/bench-live.sh part 3): how fast
 * librdkafka alone, on this machine and against the same mock cluster, delivers messages shaped
 * like the sink's, with nothing read or decoded. What `sluice run -> kafka` cannot beat.
 *
 *   kafka_floor BROKERS TOPIC COUNT VALUE_BYTES [KEY=VALUE...]
 *
 * One producer with the Kafka sink's defaults (sinks/kafka.c: enable.idempotence, acks=all,
 * murmur2_random, deep queues) and then the KEY=VALUE properties (the bench passes its
 * LIVE_KAFKA_PROPS, linger.ms 5). COUNT messages to TOPIC, each with a key like the json
 * format's ({"id":N}), a value of VALUE_BYTES and the four headers the sink adds (sluice.pos,
 * sluice.row, sluice.gtid, sluice.xid); delivery reports served on this thread by
 * rd_kafka_poll, as the sink does. Timed from the first send to the last delivery report;
 * prints "SECONDS DELIVERED" and exits 0, or names the error and exits 1 (a failed delivery,
 * a bad property, bad usage: 2).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered, failed;
static char first_error[256];

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered++;
    } else if (failed++ == 0) {
        snprintf(first_error, sizeof(first_error), "%s", rd_kafka_err2str(m->err));
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_floor: property %s=\"%s\": %s\n", k, v, errstr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: kafka_floor BROKERS TOPIC COUNT VALUE_BYTES [KEY=VALUE...]\n");
        return 2;
    }
    long count = atol(argv[3]), vbytes = atol(argv[4]);
    if (count <= 0 || vbytes <= 0 || vbytes > (1 << 20)) {
        fprintf(stderr, "kafka_floor: COUNT must be > 0 and VALUE_BYTES 1..1048576\n");
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "enable.idempotence", "true") ||
        set(conf, "acks", "all") || set(conf, "partitioner", "murmur2_random") ||
        set(conf, "queue.buffering.max.messages", "10000000") ||
        set(conf, "queue.buffering.max.kbytes", "65536"))
        return 2;
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "kafka_floor: \"%s\" is not KEY=VALUE\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        if (set(conf, argv[i], eq + 1))
            return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_floor: %s\n", errstr);
        return 2;
    }
    char *val = malloc((size_t)vbytes);
    if (val == NULL)
        return 1;
    memset(val, 'x', (size_t)vbytes);
    val[0] = '{';
    val[vbytes - 1] = '}';

    /* A topic handle, as the sink keeps one: no lookup by name per message. */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rkt == NULL) {
        fprintf(stderr, "kafka_floor: topic \"%s\": %s\n", argv[2],
                rd_kafka_err2str(rd_kafka_last_error()));
        return 2;
    }
    double t0 = now_s();
    char key[40], num[24];
    for (long i = 0; i < count && failed == 0; i++) {
        int kl = snprintf(key, sizeof(key), "{\"id\":%ld}", i + 1);
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        int nl = snprintf(num, sizeof(num), "binlog.000001:%ld", 4 + i * 300);
        rd_kafka_header_add(h, "sluice.pos", 10, num, nl);
        rd_kafka_header_add(h, "sluice.row", 10, num, snprintf(num, sizeof(num), "%ld", i % 100));
        rd_kafka_header_add(h, "sluice.gtid", 11, "0-1-105", 7);
        rd_kafka_header_add(h, "sluice.xid", 10, num, snprintf(num, sizeof(num), "%ld", i / 100));
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, (size_t)kl), RD_KAFKA_V_VALUE(val, (size_t)vbytes),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "kafka_floor: produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            rd_kafka_poll(rk, 10);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    /* Bounded: librdkafka fails what it cannot deliver after message.timeout.ms. */
    while (delivered + failed < count && failed == 0)
        rd_kafka_poll(rk, 10);
    double secs = now_s() - t0;
    free(val);
    if (failed) {
        fprintf(stderr, "kafka_floor: %ld deliveries failed, the first: %s\n", failed, first_error);
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("%.4f %ld\n", secs, delivered);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 0;
}
