/*
 * test_config.c — unit tests for src/config.c: the minimal file of issue 3 and conf/sluice.yaml
 * load as written; every error class reports its exact FILE:LINE and key; every start form is
 * parsed into its tagged struct; regexes, TLS modes, password vs password_file, ZooKeeper and
 * Kafka entries; server.tls (both keys, and the files checked by server_tls_check()). YAML texts
 * are written to a temp dir.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "server.h"

static char dir[64];
static char path[128];
static struct err err;

#define MINIMAL                                                                                    \
    "instances:\n"                                                                                 \
    "  - name: demo\n"                                                                             \
    "    source: {host: 127.0.0.1, port: 3306, user: cdc, password: cdcpass}\n"                    \
    "    start: earliest\n"                                                                        \
    "    positions: {store: file, dir: ./var/positions}\n"                                         \
    "    sinks:\n"                                                                                 \
    "      - {type: file, path: ./var/demo.jsonl, format: json}\n"

static struct config *load_text(const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    memset(&err, 0, sizeof(err));
    return config_load(path, &err);
}

/* Loading text must fail with "PATH:" + want. */
static void expect_error(const char *text, const char *want)
{
    struct config *cfg = load_text(text);
    CU_ASSERT_PTR_NULL(cfg);
    config_free(cfg);
    CU_ASSERT_EQUAL(err.code, ERR_CONFIG);
    char full[300];
    snprintf(full, sizeof(full), "%s:%s", path, want);
    if (strcmp(err.msg, full) != 0)
        fprintf(stderr, "\n  want %s\n  got  %s\n", full, err.msg);
    CU_ASSERT_STRING_EQUAL(err.msg, full);
}

/* A minimal instance with one line replaced or added: `extra` goes after the name line. */
static struct config *load_with(const char *extra)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "instances:\n"
             "  - name: demo\n"
             "%s"
             "    source: {host: h, user: u}\n"
             "    positions: {store: file, dir: d}\n"
             "    sinks: [{type: stdout}]\n",
             extra);
    return load_text(text);
}

static void test_minimal(void)
{
    struct config *cfg = load_text(MINIMAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->n_instances, 1);
    const struct config_instance *in = &cfg->instances[0];
    CU_ASSERT_STRING_EQUAL(in->name, "demo");
    CU_ASSERT_STRING_EQUAL(in->source.host, "127.0.0.1");
    CU_ASSERT_EQUAL(in->source.port, 3306);
    CU_ASSERT_STRING_EQUAL(in->source.user, "cdc");
    CU_ASSERT_STRING_EQUAL(in->source.password, "cdcpass");
    CU_ASSERT_PTR_NULL(in->source.password_file);
    CU_ASSERT_EQUAL(in->source.tls.mode, CONFIG_TLS_PREFERRED);
    CU_ASSERT_EQUAL(in->source.server_id, 0);
    CU_ASSERT_EQUAL(in->source.heartbeat_ms, 30000);
    CU_ASSERT_EQUAL(in->start.kind, CONFIG_START_EARLIEST);
    CU_ASSERT_EQUAL(in->filters.events, 15);
    CU_ASSERT_EQUAL(in->positions.store, CONFIG_STORE_FILE);
    CU_ASSERT_STRING_EQUAL(in->positions.dir, "./var/positions");
    CU_ASSERT_EQUAL(in->n_sinks, 1);
    CU_ASSERT_EQUAL(in->sinks[0].type, CONFIG_SINK_FILE);
    CU_ASSERT_STRING_EQUAL(in->sinks[0].path, "./var/demo.jsonl");
    CU_ASSERT_EQUAL(in->sinks[0].format, CONFIG_FORMAT_JSON);
    /* Global defaults. */
    CU_ASSERT_STRING_EQUAL(cfg->admin.listen, "127.0.0.1:11112");
    CU_ASSERT_STRING_EQUAL(cfg->data_dir, "./var");
    CU_ASSERT_EQUAL(cfg->log.level, CONFIG_LOG_INFO);
    CU_ASSERT_PTR_NULL(cfg->log.file);
    /* node.name defaults to host name + "-" + pid; weight 1. */
    char pid[32];
    snprintf(pid, sizeof(pid), "-%ld", (long)getpid());
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->node.name);
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg->node.name, pid));
    CU_ASSERT_EQUAL(cfg->node.weight, 1);
    CU_ASSERT_EQUAL(strlen(cfg->checksum), CONFIG_CHECKSUM_LEN);
    config_free(cfg);
}

static void test_example_file(void)
{
    struct config *cfg = config_load("conf/sluice.yaml", &err) /* run from the repository root */;
    if (cfg == NULL)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->n_instances, 2);
    CU_ASSERT_STRING_EQUAL(cfg->node.name, "node-a");
    const struct config_instance *in = &cfg->instances[0];
    CU_ASSERT_EQUAL(in->source.tls.mode, CONFIG_TLS_VERIFY_IDENTITY);
    CU_ASSERT_EQUAL(in->start.kind, CONFIG_START_TIMESTAMP);
    CU_ASSERT_EQUAL(in->start.timestamp, 1795514400);
    CU_ASSERT_EQUAL(in->filters.n_include, 2);
    CU_ASSERT_EQUAL(in->filters.n_exclude, 1);
    CU_ASSERT_EQUAL(regexec(&in->filters.include[0].re, "shop.orders", 0, NULL, 0), 0);
    CU_ASSERT_NOT_EQUAL(regexec(&in->filters.include[1].re, "billing.invoices2", 0, NULL, 0), 0);
    CU_ASSERT_EQUAL(in->filters.n_drop_columns, 1);
    CU_ASSERT_STRING_EQUAL(in->filters.drop_columns[0].table, "shop.customers");
    CU_ASSERT_EQUAL(in->filters.drop_columns[0].n_columns, 2);
    CU_ASSERT_STRING_EQUAL(in->filters.drop_columns[0].columns[1], "card_number");
    CU_ASSERT_EQUAL(in->positions.store, CONFIG_STORE_ZOOKEEPER);
    CU_ASSERT_STRING_EQUAL(in->positions.servers, "127.0.0.1:2181");
    CU_ASSERT_STRING_EQUAL(in->positions.root, "/sluice");
    CU_ASSERT_STRING_EQUAL(in->positions.cluster, "prod");
    CU_ASSERT_EQUAL(in->positions.session_timeout_ms, 6000);
    CU_ASSERT_EQUAL(in->budget_mb, 256);
    CU_ASSERT_EQUAL(in->stall_timeout_ms, 90000);
    CU_ASSERT_EQUAL(in->positions.save_interval_ms, 1000);
    CU_ASSERT_EQUAL_FATAL(in->n_sinks, 3);
    CU_ASSERT_EQUAL(in->sinks[2].type, CONFIG_SINK_FILE);
    CU_ASSERT_EQUAL(in->sinks[2].rotate_mb, 1024);
    const struct config_sink *k = &in->sinks[0];
    CU_ASSERT_EQUAL(k->type, CONFIG_SINK_KAFKA);
    CU_ASSERT_EQUAL(k->format, CONFIG_FORMAT_CANAL);
    CU_ASSERT_STRING_EQUAL(k->brokers, "127.0.0.1:9092");
    CU_ASSERT_STRING_EQUAL(k->topic, "sluice.{db}.{table}");
    CU_ASSERT_EQUAL(k->n_kafka, 2);
    CU_ASSERT_STRING_EQUAL(k->kafka[0].key, "linger.ms");
    CU_ASSERT_STRING_EQUAL(k->kafka[0].value, "5");
    CU_ASSERT_STRING_EQUAL(k->kafka[1].key, "compression.type");
    CU_ASSERT_STRING_EQUAL(k->kafka[1].value, "lz4");
    CU_ASSERT_EQUAL(in->sinks[1].type, CONFIG_SINK_STDOUT);
    config_free(cfg);
}

static void test_kafka_and_zookeeper(void)
{
    struct config *cfg = load_text(
        "node: {name: node-a}\n"
        "instances:\n"
        "  - name: demo\n"
        "    source: {host: 127.0.0.1, user: cdc}\n"
        "    positions: {store: zookeeper, servers: \"127.0.0.1:2181\", root: /sluice, cluster: "
        "prod, session_timeout_ms: 6000}\n"
        "    sinks:\n"
        "      - {type: kafka, brokers: \"127.0.0.1:9092\", topic: \"sluice.{db}.{table}\", "
        "format: canal, kafka: {linger.ms: 5, compression.type: lz4}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->instances[0].positions.store, CONFIG_STORE_ZOOKEEPER);
    CU_ASSERT_EQUAL(cfg->instances[0].sinks[0].n_kafka, 2);
    config_free(cfg);
    /* A node name that cannot be a ZooKeeper node; a weight out of range; ZooKeeper without
     * servers; kafka without topic. */
    expect_error("node: {name: a/b}\n"
                 "instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: zookeeper, servers: z}\n"
                 "    sinks: [{type: stdout}]\n",
                 "1: key \"node.name\": \"a/b\": only letters, digits, '.', '_' and '-'");
    expect_error("node: {name: a, weight: 0}\n"
                 "instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: zookeeper, servers: z}\n"
                 "    sinks: [{type: stdout}]\n",
                 "1: key \"node.weight\": 0 is out of range (1-1000)");
    expect_error("node: {name: a}\n"
                 "instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: zookeeper}\n"
                 "    sinks: [{type: stdout}]\n",
                 "5: key \"instances[0].positions.servers\": missing (required with store "
                 "zookeeper)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks:\n"
                 "      - {type: stdout}\n"
                 "      - {type: kafka, brokers: b}\n",
                 "7: key \"instances[0].sinks[1].topic\": missing (required for type kafka)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks:\n"
                 "      - {type: kafka, brokers: b, topic: t,\n"
                 "         kafka: {acks: [all]}}\n",
                 "7: key \"instances[0].sinks[0].kafka\": property \"acks\": expected a value, "
                 "not a list");
}

static void test_errors(void)
{
    /* Unknown keys, at every level. */
    expect_error("lgo: {level: info}\n", "1: key \"lgo\": unknown key");
    expect_error(MINIMAL "    colour: blue\n", "8: key \"instances[0].colour\": unknown key");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source:\n"
                 "      host: h\n"
                 "      user: u\n"
                 "      prot: 3306\n",
                 "6: key \"instances[0].source.prot\": unknown key");
    /* Wrong types. */
    expect_error("data_dir: [a, b]\n", "1: key \"data_dir\": expected a string, not a list");
    expect_error("instances: {name: x}\n",
                 "1: key \"instances\": expected a list of instances, not a map");
    expect_error("instances:\n  - name: demo\n    source: h\n",
                 "3: key \"instances[0].source\": expected a map, not a scalar");
    expect_error("instances:\n  - name: demo\n    source: {host: h, port: abc}\n",
                 "3: key \"instances[0].source.port\": expected an integer (1-65535)");
    /* Out of range. */
    expect_error("instances:\n  - name: demo\n    source: {host: h, port: 70000}\n",
                 "3: key \"instances[0].source.port\": 70000 is out of range (1-65535)");
    expect_error("instances:\n  - name: demo\n    source: {host: h, port: 0}\n",
                 "3: key \"instances[0].source.port\": 0 is out of range (1-65535)");
    expect_error("instances:\n  - name: d\n    source: {host: h, server_id: 4294967296}\n",
                 "3: key \"instances[0].source.server_id\": expected auto or a server id "
                 "(1-4294967295)");
    expect_error("log:\n  level: loud\n",
                 "2: key \"log.level\": \"loud\" is not one of: error, warn, info, debug");
    /* Missing required keys. */
    expect_error("log: {level: info}\n", "1: key \"instances\": missing (required)");
    expect_error("instances: []\n", "1: key \"instances\": at least one instance is needed");
    expect_error("instances:\n"
                 "  - source: {host: h, user: u}\n",
                 "2: key \"instances[0].name\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {port: 3306, user: u}\n",
                 "3: key \"instances[0].source.host\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h}\n",
                 "3: key \"instances[0].source.user\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n",
                 "2: key \"instances[0].sinks\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks: []\n",
                 "5: key \"instances[0].sinks\": at least one sink is needed");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks:\n"
                 "      - {format: json}\n",
                 "6: key \"instances[0].sinks[0].type\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks:\n"
                 "      - {type: file}\n",
                 "6: key \"instances[0].sinks[0].path\": missing (required for type file)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks:\n"
                 "      - type: stdout\n"
                 "        path: x\n",
                 "7: key \"instances[0].sinks[0].path\": not allowed for type stdout");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {dir: d}\n",
                 "4: key \"instances[0].positions.store\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    sinks: [{type: stdout}]\n",
                 "2: key \"instances[0].positions\": missing (required)");
    expect_error("instances:\n"
                 "  - name: demo\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file}\n"
                 "    sinks: [{type: stdout}]\n",
                 "4: key \"instances[0].positions.dir\": missing (required with store file)");
    /* Duplicates. */
    expect_error(MINIMAL "  - name: demo\n"
                         "    source: {host: h, user: u}\n"
                         "    positions: {store: file, dir: d}\n"
                         "    sinks: [{type: stdout}]\n",
                 "8: key \"instances[1].name\": duplicate instance name \"demo\" (also "
                 "instances[0])");
    expect_error("data_dir: a\ndata_dir: b\n",
                 "2: key \"data_dir\": duplicate key (first on line 1)");
    expect_error("instances:\n  - name: 'a b'\n"
                 "    source: {host: h, user: u}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks: [{type: stdout}]\n",
                 "2: key \"instances[0].name\": \"a b\": use letters, digits, '.', '_', '-'");
    expect_error("admin: {listen: localhost}\n" MINIMAL,
                 "1: key \"admin.listen\": expected HOST:PORT");
    /* YAML syntax errors have a line but no key. */
    struct config *cfg = load_text("instances:\n  - name: [demo\n");
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_EQUAL(err.code, ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "YAML syntax error"));
    /* A missing file is an I/O error. */
    cfg = config_load("/nonexistent/sluice.yaml", &err);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_EQUAL(err.code, ERR_IO);
}

static void test_start_forms(void)
{
    struct config_start st;
    struct err e = {0};
    CU_ASSERT_EQUAL(config_start_parse("earliest", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_EARLIEST);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("latest", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_LATEST);
    config_start_clear(&st);

    CU_ASSERT_EQUAL(config_start_parse("mysql-bin.000042:1234", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_FILE_POS);
    CU_ASSERT_STRING_EQUAL(st.file, "mysql-bin.000042");
    CU_ASSERT_EQUAL(st.pos, 1234);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("mysql-bin.000042:3", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse(":4", &st, &e), ERR_CONFIG);

    CU_ASSERT_EQUAL(config_start_parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,\n"
                                       " 4e11fa47-71ca-11e1-9e33-c80aa9429562:9",
                                       &st, &e),
                    0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_GTID_MYSQL);
    CU_ASSERT_EQUAL_FATAL(st.n_mysql, 2);
    CU_ASSERT_STRING_EQUAL(st.mysql[0].uuid, "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    CU_ASSERT_EQUAL(st.mysql[0].n_iv, 2);
    CU_ASSERT_EQUAL(st.mysql[0].iv[0].first, 1);
    CU_ASSERT_EQUAL(st.mysql[0].iv[0].last, 5);
    CU_ASSERT_EQUAL(st.mysql[0].iv[1].first, 7);
    CU_ASSERT_EQUAL(st.mysql[0].iv[1].last, 7);
    CU_ASSERT_EQUAL(st.mysql[1].iv[0].first, 9);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:5-1", &st, &e),
                    ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:0", &st, &e),
                    ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1,", &st, &e),
                    ERR_CONFIG);

    CU_ASSERT_EQUAL(config_start_parse("0-1-100,2-5-18446744073709551615", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_GTID_MARIADB);
    CU_ASSERT_EQUAL_FATAL(st.n_mariadb, 2);
    CU_ASSERT_EQUAL(st.mariadb[0].domain, 0);
    CU_ASSERT_EQUAL(st.mariadb[0].server_id, 1);
    CU_ASSERT_EQUAL(st.mariadb[0].seq, 100);
    CU_ASSERT_EQUAL(st.mariadb[1].domain, 2);
    CU_ASSERT_EQUAL(st.mariadb[1].seq, UINT64_MAX);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("0-1-100,0-2-5", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("0-1", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("0-4294967296-1", &st, &e), ERR_CONFIG);

    CU_ASSERT_EQUAL(config_start_parse("2026-11-24T10:00:00Z", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_TIMESTAMP);
    CU_ASSERT_EQUAL(st.timestamp, 1795514400);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("2026-11-24T12:00:00.250+02:00", &st, &e), 0);
    CU_ASSERT_EQUAL(st.timestamp, 1795514400);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("2024-02-29T00:00:00Z", &st, &e), 0);
    CU_ASSERT_EQUAL(st.timestamp, 1709164800);
    config_start_clear(&st);
    CU_ASSERT_EQUAL(config_start_parse("2026-02-29T00:00:00Z", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("2026-11-24T10:00:00", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("2026-11-24T25:00:00Z", &st, &e), ERR_CONFIG);
    CU_ASSERT_EQUAL(config_start_parse("1795514400", &st, &e), 0);
    CU_ASSERT_EQUAL(st.kind, CONFIG_START_TIMESTAMP);
    CU_ASSERT_EQUAL(st.timestamp, 1795514400);
    config_start_clear(&st);

    CU_ASSERT_EQUAL(config_start_parse("yesterday", &st, &e), ERR_CONFIG);
    /* In a file, a bad start names the key and line. */
    expect_error("instances:\n  - name: demo\n    start: soon\n",
                 "3: key \"instances[0].start\": \"soon\": expected earliest, latest, FILE:POS, "
                 "a GTID set or a timestamp");
}

static void test_filters(void)
{
    struct config *cfg = load_with("    filters: {include: ['^a\\.'], events: [insert, ddl],\n"
                                   "              drop_columns: {a.t: [x, y]}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->instances[0].filters.events, CONFIG_EVENT_INSERT | CONFIG_EVENT_DDL);
    CU_ASSERT_EQUAL(cfg->instances[0].filters.n_include, 1);
    config_free(cfg);
    expect_error("instances:\n  - name: demo\n    filters:\n      include:\n        - ok\n"
                 "        - 'a(b'\n",
                 "6: key \"instances[0].filters.include\": bad regex \"a(b\": Unmatched ( or "
                 "\\(");
    expect_error("instances:\n  - name: demo\n    filters: {exclude: x}\n",
                 "3: key \"instances[0].filters.exclude\": expected a list of regexes, not a "
                 "scalar");
    expect_error("instances:\n  - name: demo\n    filters: {events: [insert, upsert]}\n",
                 "3: key \"instances[0].filters.events\": \"upsert\" is not one of: insert, "
                 "update, delete, ddl");
    expect_error("instances:\n  - name: demo\n    filters: {drop_columns: {nodot: [x]}}\n",
                 "3: key \"instances[0].filters.drop_columns\": table \"nodot\": expected "
                 "db.table");
}

#define SERVER_TLS(tls)                                                                            \
    "server:\n  listen: \"127.0.0.1:0\"\n  users: [{name: r, password: p}]\n" tls                  \
    "instances:\n  - name: demo\n    source: {host: h, user: u}\n"                                 \
    "    positions: {store: file, dir: d}\n    sinks: []\n"

static void test_server_tls(void)
{
    struct config *cfg = load_text(SERVER_TLS("  tls: {cert: /nonexistent/c.pem, key: k.pem}\n"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(cfg->server.tls_cert, "/nonexistent/c.pem");
    CU_ASSERT_STRING_EQUAL(cfg->server.tls_key, "k.pem");
    /* The files are read when the server starts, and by check-config: named when missing. */
    struct err e = {0};
    CU_ASSERT_EQUAL(server_tls_check(cfg, &e), ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "server.tls.cert: could not read \"/nonexistent/c.pem\""));
    config_free(cfg);
    cfg = load_text(SERVER_TLS(""));
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->server.tls_cert);
    CU_ASSERT_EQUAL(server_tls_check(cfg, &e), 0); /* no TLS: nothing to check */
    config_free(cfg);
    expect_error(SERVER_TLS("  tls: {cert: c.pem}\n"),
                 "4: key \"server.tls.cert\": needs server.tls.key too");
    expect_error(SERVER_TLS("  tls:\n    key: k.pem\n"),
                 "5: key \"server.tls.key\": needs server.tls.cert too");
}

static void test_tls_modes(void)
{
    static const char *const modes[] = {"disabled", "preferred", "required", "verify_identity"};
    for (int i = 0; i < 4; i++) {
        char line[128];
        snprintf(line, sizeof(line), "    source: {host: h, user: u, tls: {mode: %s}}\n", modes[i]);
        char text[512];
        snprintf(text, sizeof(text),
                 "instances:\n  - name: demo\n%s    positions: {store: file, dir: d}\n"
                 "    sinks: [{type: stdout}]\n",
                 line);
        struct config *cfg = load_text(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_STRING_EQUAL(config_tls_mode_name(cfg->instances[0].source.tls.mode), modes[i]);
        config_free(cfg);
    }
    struct config *cfg = load_text("instances:\n  - name: demo\n"
                                   "    source: {host: h, user: u, tls: {mode: verify_ca, ca: c,"
                                   " cert: x, key: y}}\n"
                                   "    positions: {store: file, dir: d}\n"
                                   "    sinks: [{type: stdout}]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->instances[0].source.tls.mode, CONFIG_TLS_VERIFY_CA);
    CU_ASSERT_STRING_EQUAL(cfg->instances[0].source.tls.ca, "c");
    config_free(cfg);
    expect_error("instances:\n  - name: demo\n    source: {host: h, user: u, tls: {mode: on}}\n",
                 "3: key \"instances[0].source.tls.mode\": \"on\" is not one of: disabled, "
                 "preferred, required, verify_ca, verify_identity");
    expect_error("instances:\n  - name: demo\n"
                 "    source: {host: h, user: u, tls: {mode: verify_ca}}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks: [{type: stdout}]\n",
                 "3: key \"instances[0].source.tls.ca\": missing (required with mode "
                 "verify_ca)");
    expect_error("instances:\n  - name: demo\n"
                 "    source: {host: h, user: u, tls: {cert: c}}\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks: [{type: stdout}]\n",
                 "3: key \"instances[0].source.tls.cert\": needs key too");
}

static void test_passwords(void)
{
    struct config *cfg = load_text("instances:\n  - name: demo\n"
                                   "    source: {host: h, user: u, password_file: /run/pw}\n"
                                   "    positions: {store: file, dir: d}\n"
                                   "    sinks: [{type: stdout}]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->instances[0].source.password);
    CU_ASSERT_STRING_EQUAL(cfg->instances[0].source.password_file, "/run/pw");
    config_free(cfg);
    cfg = load_with("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->instances[0].source.password);
    CU_ASSERT_PTR_NULL(cfg->instances[0].source.password_file);
    config_free(cfg);
    expect_error("instances:\n  - name: demo\n"
                 "    source:\n"
                 "      host: h\n"
                 "      user: u\n"
                 "      password: s3cret\n"
                 "      password_file: /run/pw\n"
                 "    positions: {store: file, dir: d}\n"
                 "    sinks: [{type: stdout}]\n",
                 "7: key \"instances[0].source.password_file\": give password or password_file, "
                 "not both");
    CU_ASSERT_PTR_NULL(strstr(err.msg, "s3cret"));
}

static void test_doc(void)
{
    struct strbuf sb = {0};
    config_doc(&sb);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb.buf, "| `instances[].source.port` | integer | `3306` | "
                                          "1-65535 |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb.buf, "`instances[].sinks[].kafka`"));
    strbuf_free(&sb);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sluice-config.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/sluice.yaml", dir);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    CU_add_test(s, "minimal", test_minimal);
    CU_add_test(s, "example_file", test_example_file);
    CU_add_test(s, "kafka_and_zookeeper", test_kafka_and_zookeeper);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "start_forms", test_start_forms);
    CU_add_test(s, "filters", test_filters);
    CU_add_test(s, "tls_modes", test_tls_modes);
    CU_add_test(s, "server_tls", test_server_tls);
    CU_add_test(s, "passwords", test_passwords);
    CU_add_test(s, "doc", test_doc);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    unlink(path);
    rmdir(dir);
    return failed ? 1 : 0;
}
