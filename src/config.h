/*
 * config.h — sluice's YAML configuration: global settings and a list of instances, each a source
 * server with its start position, filters, position store and sinks (issue 3 section 1).
 *
 * config_load() parses and validates the whole file at once; any unknown key, wrong type,
 * out-of-range value or missing required key fails with ERR_CONFIG and a message
 * `FILE:LINE: key "x": reason` (x is the full path, e.g. `instances[0].source.port`). The
 * returned struct is plain data, read-only after loading and safe to share between threads.
 * docs/configuration.md is generated from the same property table by config_doc().
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

enum config_log_level {
    CONFIG_LOG_ERROR,
    CONFIG_LOG_WARN,
    CONFIG_LOG_INFO,
    CONFIG_LOG_DEBUG,
};

enum config_tls_mode {
    CONFIG_TLS_DISABLED,
    CONFIG_TLS_PREFERRED,
    CONFIG_TLS_REQUIRED,
    CONFIG_TLS_VERIFY_CA,
    CONFIG_TLS_VERIFY_IDENTITY,
};

enum config_start_kind {
    CONFIG_START_EARLIEST,     /* the oldest binlog the server has */
    CONFIG_START_LATEST,       /* the server's current end of binlog */
    CONFIG_START_FILE_POS,     /* file + pos */
    CONFIG_START_GTID_MYSQL,   /* mysql[n_mysql]: uuid:interval[:interval...],... */
    CONFIG_START_GTID_MARIADB, /* mariadb[n_mariadb]: domain-server-seq,... */
    CONFIG_START_TIMESTAMP,    /* timestamp: seconds since the epoch, UTC */
};

struct config_gtid_interval {
    uint64_t first, last; /* inclusive, 1 <= first <= last */
};

struct config_gtid_mysql {
    char uuid[37]; /* lower case, NUL-terminated */
    struct config_gtid_interval *iv;
    size_t n_iv;
};

struct config_gtid_mariadb {
    uint32_t domain, server_id;
    uint64_t seq;
};

/* A parsed `start:` value. `text` is the value as written. */
struct config_start {
    enum config_start_kind kind;
    char *text;
    char *file; /* FILE_POS */
    uint64_t pos;
    struct config_gtid_mysql *mysql; /* GTID_MYSQL: one entry per server uuid */
    size_t n_mysql;
    struct config_gtid_mariadb *mariadb; /* GTID_MARIADB: one entry per domain */
    size_t n_mariadb;
    int64_t timestamp; /* TIMESTAMP; fractional seconds are dropped */
};

enum config_event {
    CONFIG_EVENT_INSERT = 1 << 0,
    CONFIG_EVENT_UPDATE = 1 << 1,
    CONFIG_EVENT_DELETE = 1 << 2,
    CONFIG_EVENT_DDL = 1 << 3,
};

struct config_regex {
    char *pattern;
    regex_t re; /* REG_EXTENDED | REG_NOSUB, matched against "db.table" */
};

struct config_drop_columns {
    char *table; /* "db.table" */
    char **columns;
    size_t n_columns;
};

struct config_kv {
    char *key, *value;
};

enum config_store { CONFIG_STORE_FILE, CONFIG_STORE_ZOOKEEPER };
enum config_sink_type { CONFIG_SINK_FILE, CONFIG_SINK_STDOUT, CONFIG_SINK_KAFKA };
enum config_format { CONFIG_FORMAT_JSON, CONFIG_FORMAT_CANAL, CONFIG_FORMAT_DEBEZIUM };
/* Kafka message key of a row whose table has no primary key. */
enum config_no_pk_key { CONFIG_NO_PK_KEY_HASH, CONFIG_NO_PK_KEY_ROW, CONFIG_NO_PK_KEY_NONE };
/* What the Kafka sink does with a record larger than the broker or producer accepts. */
enum config_too_large { CONFIG_TOO_LARGE_STOP, CONFIG_TOO_LARGE_DEAD_LETTER };
/* Whether the Kafka sink follows a delete with a tombstone (same key, no value). */
enum config_tombstones { CONFIG_TOMBSTONES_AUTO, CONFIG_TOMBSTONES_ON, CONFIG_TOMBSTONES_OFF };

/* Kafka sink: the sluice.* position headers on each message, or none. */
enum config_headers { CONFIG_HEADERS_ON, CONFIG_HEADERS_OFF };

struct config_sink {
    enum config_sink_type type;
    enum config_format format;
    char *path;                      /* file */
    uint32_t rotate_mb;              /* file: rotate at this size, 0 = never */
    char *brokers;                   /* kafka */
    char *topic;                     /* kafka; may hold {instance}, {db} and {table} */
    char *ddl_topic;                 /* kafka: topic of DDL changes; may hold {instance} and {db} */
    enum config_no_pk_key no_pk_key; /* kafka */
    enum config_too_large too_large; /* kafka */
    enum config_tombstones tombstones; /* kafka */
    enum config_headers headers;       /* kafka */
    char *dead_letter_topic;           /* kafka: may hold {instance}, {db} and {table} */
    struct config_kv *kafka;           /* kafka: passed to rd_kafka_conf_set() as written */
    size_t n_kafka;
};

struct config_instance {
    char *name;
    struct {
        char *host;
        uint32_t port;
        char *user;
        char *password;      /* NULL when not given; never printed */
        char *password_file; /* NULL when not given; at most one of the two is set */
        struct {
            enum config_tls_mode mode;
            char *ca, *cert, *key;
        } tls;
        uint32_t server_id; /* 0 = auto */
        uint32_t heartbeat_ms;
    } source;
    struct config_start start;
    uint32_t budget_mb;        /* in-flight budget, MiB */
    uint32_t decode_threads;   /* stream_pool workers; 0: decode on the instance's thread */
    uint32_t stall_timeout_ms; /* no event nor heartbeat this long = stalled */
    struct {
        /* Each list's count follows it: the loader relies on that layout. */
        struct config_regex *include;
        size_t n_include;
        struct config_regex *exclude;
        size_t n_exclude;
        unsigned events; /* enum config_event bits */
        struct config_drop_columns *drop_columns;
        size_t n_drop_columns;
    } filters;
    struct {
        enum config_store store;
        char *dir;                      /* file */
        char *servers, *root, *cluster; /* zookeeper */
        uint32_t session_timeout_ms;
        uint32_t save_interval_ms;
    } positions;
    struct config_sink *sinks;
    size_t n_sinks;
};

/* A user of the client protocol server (server.users[]). */
struct config_user {
    char *name;
    char *password;      /* NULL when not given; never printed */
    char *password_file; /* NULL when not given; exactly one of the two is set */
};

#define CONFIG_CHECKSUM_LEN 16
#define CONFIG_MAX_BYTES    (1u << 20)

struct config {
    char *path; /* the file it was loaded from, as given */
    struct {
        enum config_log_level level;
        char *file;      /* NULL = stderr */
        uint32_t max_mb; /* rotate the file at this size, 0 = never */
        uint32_t keep;   /* rotated files kept: FILE.1 ... FILE.keep */
        unsigned debug;  /* facilities with debug lines: bit i = config_log_facility_name(i) */
    } log;
    struct {
        char *listen; /* "host:port" */
    } admin;
    struct {
        char *listen; /* "host:port"; NULL = no client protocol server */
        struct config_user *users;
        size_t n_users;
        uint32_t idle_timeout_ms;
        char *tls_cert, *tls_key; /* not supported yet: refused when given */
    } server;
    char *data_dir;
    struct {
        char *name;      /* as given, else host name + "-" + pid */
        uint32_t weight; /* share of the cluster's instances, relative */
    } node;
    char checksum[CONFIG_CHECKSUM_LEN + 1]; /* of the text loaded: see config_checksum() */
    struct config_instance *instances;
    size_t n_instances;
};

/* Reads and validates the YAML file at path. Returns the configuration (caller frees with
 * config_free), or NULL with err filled: ERR_CONFIG and `FILE:LINE: key "x": reason` (or
 * `FILE:LINE: reason` for YAML syntax errors), ERR_IO when the file cannot be read. */
struct config *config_load(const char *path, struct err *err);

/* The same from text in memory (len bytes; need not be NUL-terminated); name stands for the
 * file in messages (e.g. "zookeeper:HOST:PORT/sluice/prod/config"). */
struct config *config_load_text(const char *text, size_t len, const char *name, struct err *err);

/* The first CONFIG_CHECKSUM_LEN hex digits of the SHA-256 of text: what `sluice cluster status`
 * compares between daemons. */
void config_checksum(const char *text, size_t len, char out[CONFIG_CHECKSUM_LEN + 1]);

/* Frees everything config_load() returned; NULL is a no-op. */
void config_free(struct config *cfg);

/* Parses a start position (every form `start:` accepts) into *st, which the caller clears with
 * config_start_clear. Returns 0, or ERR_CONFIG with the reason in err (st is then empty). */
int config_start_parse(const char *text, struct config_start *st, struct err *err);
void config_start_clear(struct config_start *st);

/* The instance's source password: `password`, else the first line of `password_file` (line end
 * removed), else "". Returns a string the caller frees (and should wipe), or NULL with err
 * filled (ERR_CONFIG naming the instance and file) when the file cannot be read. */
char *config_read_password(const struct config_instance *in, struct err *err);

/* The first line of the file at path, line end removed (a password file). Returns a string the
 * caller frees (and should wipe), or NULL with errno set. */
char *config_read_secret_file(const char *path);

/* Names of enum values, as written in the file ("verify_ca", "kafka", "canal"...). */
const char *config_tls_mode_name(enum config_tls_mode m);
const char *config_sink_type_name(enum config_sink_type t);
const char *config_format_name(enum config_format f);
const char *config_store_name(enum config_store s);

/* The name of log facility bit i of config.log.debug, upper case as in log lines ("BINLOG";
 * "ALL" for every facility), or NULL past the last one. Static storage. */
const char *config_log_facility_name(unsigned i);

/* Appends the reference documentation of every key (Markdown, the text of
 * docs/configuration.md) to sb. */
void config_doc(struct strbuf *sb);

#endif
