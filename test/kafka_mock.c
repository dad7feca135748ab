/*
 * kafka_mock.c — `sluice-kafka-mock`: a local Kafka for the quick start, the tests and the
 * benchmark, made of librdkafka's mock cluster (real Kafka protocol over TCP on 127.0.0.1,
 * messages in memory). No Kafka broker is packaged for Debian; this is the next best real thing.
 *
 *   sluice-kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]... [--control FIFO]
 *
 * Prints the bootstrap list ("127.0.0.1:PORT,...") on one line of stdout, then runs until
 * SIGTERM or SIGINT. With --control, lines written to FIFO inject trouble:
 *   down BROKER_ID | up BROKER_ID            take a broker off the network / back
 *   rtt BROKER_ID MS                         add round-trip delay
 *   errors API COUNT ERRCODE                 the next COUNT requests of API (a number:
 *                                            0 = Produce) fail with ERRCODE (a number)
 * Each command is answered on stderr ("mock: ok: ..." or "mock: bad command: ...").
 *
 * Limits (librdkafka 2.0.2): ports are chosen by librdkafka; each partition keeps only its
 * recent messages (~5 MiB); unknown topics are created on first use with 4 partitions (leaders
 * at random); the --topic ones have their partition leaders round-robin over the brokers.
 */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static rd_kafka_mock_cluster_t *mc;

static void usage(FILE *out)
{
    fputs("usage: sluice-kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]... "
          "[--control FIFO]\n",
          out);
}

static void command(char *line)
{
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    char verb[16];
    long a = 0, b = 0, c = 0;
    int n = sscanf(line, "%15s %ld %ld %ld", verb, &a, &b, &c);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (n == 2 && strcmp(verb, "down") == 0) {
        e = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
    } else if (n == 2 && strcmp(verb, "up") == 0) {
        e = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
    } else if (n == 3 && strcmp(verb, "rtt") == 0) {
        e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
    } else if (n == 4 && strcmp(verb, "errors") == 0 && b > 0 && b <= 1000) {
        rd_kafka_resp_err_t errs[1000];
        for (long i = 0; i < b; i++)
            errs[i] = (rd_kafka_resp_err_t)c;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, errs);
    } else {
        fprintf(stderr, "mock: bad command: \"%s\" (see sluice-kafka-mock's header)\n", line);
        return;
    }
    if (e)
        fprintf(stderr, "mock: failed: %s: %s\n", line, rd_kafka_err2str(e));
    else
        fprintf(stderr, "mock: ok: %s\n", line);
}

static void *control_main(void *arg)
{
    const char *path = arg;
    /* O_RDWR: the FIFO never reports end-of-file when a writer goes away. */
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "mock: cannot open control FIFO %s: %s\n", path, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        command(line);
    return NULL;
}

int main(int argc, char **argv)
{
    int brokers = 3;
    const char *control = NULL;
    const char *topics[64];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            brokers = atoi(argv[++i]);
            if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "sluice-kafka-mock: --brokers must be 1 to 16\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc && ntopics < 64) {
            topics[ntopics++] = argv[++i];
        } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
            control = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluice-kafka-mock: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    /* librdkafka's threads inherit this mask, so only sigwait() below sees the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "sluice-kafka-mock: %s\n", errstr);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "sluice-kafka-mock: could not create the mock cluster\n");
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s", topics[i]);
        int parts = 4;
        char *colon = strchr(name, ':');
        if (colon) {
            *colon = '\0';
            parts = atoi(colon + 1);
        }
        if (parts < 1 || rd_kafka_mock_topic_create(mc, name, parts, brokers < 3 ? brokers : 3)) {
            fprintf(stderr, "sluice-kafka-mock: could not create topic \"%s\"\n", topics[i]);
            return 1;
        }
        /* Leaders round-robin (the mock picks them at random): partition p on broker
         * 1 + p % brokers, so that with 2+ partitions per broker "down N" always stops some. */
        for (int p = 0; p < parts; p++)
            rd_kafka_mock_partition_set_leader(mc, name, p, 1 + p % brokers);
    }
    if (control) {
        pthread_t t;
        if (mkfifo(control, 0600) != 0 && errno != EEXIST) {
            fprintf(stderr, "sluice-kafka-mock: mkfifo %s: %s\n", control, strerror(errno));
            return 1;
        }
        pthread_create(&t, NULL, control_main, (void *)control);
        pthread_detach(t);
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
