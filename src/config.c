/*
 * config.c — loading sluice.yaml into struct config.
 *
 * libyaml's document API loads the whole file into nodes (each with its line); one walker then
 * fills the structs from the static props[] table, which names every key by its full path
 * ("instances[].source.port"), its type, where it goes (offset within struct config,
 * config_instance or config_sink), its range, default and description. The same table writes
 * docs/configuration.md (config_doc), so the reference cannot drift from the parser.
 *
 * Rules: every key must be in the table (unknown keys are errors, as are duplicates); scalars
 * are checked for type and range; defaults are applied before a map is read; keys marked
 * REQUIRED and the cross-key rules (password or password_file, a file sink's path...) are
 * checked after it. The first problem stops loading: `FILE:LINE: key "x": reason`, lines 1-based.
 * Values of keys marked SECRET are never put in a message.
 *
 * Runs on the main thread at start-up; no global state.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include <openssl/sha.h>

#include "config.h"
#include "xmalloc.h"

/* ---- the property table ------------------------------------------------------------------ */

enum prop_type {
    PT_SECTION,      /* a map of further keys */
    PT_LIST,         /* a list of maps (instances, sinks) */
    PT_STR,          /* char * */
    PT_U32,          /* uint32_t in [min, max] */
    PT_ENUM,         /* an enum, one of choices[] */
    PT_SERVER_ID,    /* uint32_t, "auto" = 0 */
    PT_START,        /* struct config_start */
    PT_REGEXES,      /* list of regexes: struct config_regex *, count after it */
    PT_EVENTS,       /* list of event names: unsigned bit mask */
    PT_DROP_COLUMNS, /* map "db.table" -> list of columns */
    PT_STRMAP,       /* map of strings: struct config_kv *, count after it */
    PT_FACILITIES,   /* list of log facility names, case-insensitive: unsigned bit mask */
    PT_USERS,        /* server.users: list of {name, password | password_file} */
};

/* Which struct a property's offset is in. */
enum scope { SC_CONFIG, SC_INSTANCE, SC_SINK };

#define REQUIRED 1u
#define SECRET   2u

struct cfg_prop {
    const char *name; /* full path; "[]" marks a list element */
    enum prop_type type;
    enum scope scope;
    size_t offset;
    unsigned long long min, max; /* PT_U32 */
    const char *def;             /* default, as it would be written; NULL = none */
    const char *const *choices;  /* PT_ENUM, PT_EVENTS: names in enum order / bit order */
    unsigned flags;
    const char *desc;
};

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
/* The FAC tags of log lines (grep '#define FAC' and log_*("TAG")); add a new tag here so that
 * `log.debug` accepts it. Names are compared case-insensitively. */
static const char *const log_facilities[] = {"BINLOG", "INST",   "KAFKA", "MAIN",
                                             "SCHEMA", "SERVER", "ALL",   NULL};
static const char *const tls_modes[] = {"disabled",  "preferred",       "required",
                                        "verify_ca", "verify_identity", NULL};
static const char *const stores[] = {"file", "zookeeper", NULL};
static const char *const sink_types[] = {"file", "stdout", "kafka", NULL};
static const char *const formats[] = {"json", "canal", "debezium", NULL};
static const char *const no_pk_keys[] = {"hash", "row", "none", NULL};
static const char *const too_large_policies[] = {"stop", "dead_letter", NULL};
static const char *const tombstone_modes[] = {"auto", "on", "off", NULL};
static const char *const header_modes[] = {"on", "off", NULL};
static const char *const events[] = {"insert", "update", "delete", "ddl", NULL};

#define G(m)  SC_CONFIG, offsetof(struct config, m)
#define I(m)  SC_INSTANCE, offsetof(struct config_instance, m)
#define S(m)  SC_SINK, offsetof(struct config_sink, m)
#define NONE0 0, 0

static const struct cfg_prop props[] = {
    {"log", PT_SECTION, SC_CONFIG, 0, NONE0, NULL, NULL, 0, "Logging."},
    {"log.level", PT_ENUM, G(log.level), NONE0, "info", log_levels, 0,
     "Least severe message written."},
    {"log.file", PT_STR, G(log.file), NONE0, NULL, NULL, 0,
     "Log file, reopened on SIGHUP (for logrotate); standard error when not set."},
    {"log.max_mb", PT_U32, G(log.max_mb), 0, 1048576, "100", NULL, 0,
     "When a line would take the log file past this size in MiB, it is renamed `FILE.1` (older "
     "ones shift to `FILE.2` ... `FILE.keep`) and a new file started; 0 = never (logrotate)."},
    {"log.keep", PT_U32, G(log.keep), 0, 1000, "5", NULL, 0,
     "Rotated log files kept; 0 = the old file is removed at rotation."},
    {"log.debug", PT_FACILITIES, G(log.debug), NONE0, NULL, log_facilities, 0,
     "Facilities whose debug lines are written whatever `level` is (`[binlog, kafka]`); `all` "
     "= every facility."},
    {"admin", PT_SECTION, SC_CONFIG, 0, NONE0, NULL, NULL, 0, "Local HTTP admin endpoint."},
    {"admin.listen", PT_STR, G(admin.listen), NONE0, "127.0.0.1:11112", NULL, 0,
     "HOST:PORT the admin endpoint listens on; `sluice status` reads it."},
    {"server", PT_SECTION, SC_CONFIG, 0, NONE0, NULL, NULL, 0,
     "Client protocol server (docs/protocol.md): programs get, ack and roll back an instance's "
     "changes over TCP (`sluice consume`, libsluice). Absent: no server."},
    {"server.listen", PT_STR, G(server.listen), NONE0, NULL, NULL, REQUIRED,
     "HOST:PORT the client protocol server listens on."},
    {"server.users", PT_USERS, G(server.users), NONE0, NULL, NULL, REQUIRED,
     "Users allowed to connect: a list of `{name: N, password: P}` or `{name: N, password_file: "
     "F}` (first line of F). Authentication is challenge-response: no password on the wire."},
    {"server.idle_timeout_ms", PT_U32, G(server.idle_timeout_ms), 100, 3600000, "60000", NULL, 0,
     "A connection silent this long (no request, no GET waiting), or not logged in by then, is "
     "closed with a TIMEOUT error (with server.tls, one whose TLS handshake is not done by then is "
     "closed without it)."},
    {"server.tls", PT_SECTION, SC_CONFIG, 0, NONE0, NULL, NULL, 0,
     "TLS for client connections: when given, every connection to `server.listen` is TLS 1.2 or "
     "later from its first byte (`sluice consume --tls`, `sluice_client_set_tls()`); plain-text "
     "clients are refused. Both keys are required. The files are read and checked at start-up "
     "(and by `sluice check-config`): unreadable, not PEM, or a key that does not match the "
     "certificate stops start-up naming the file."},
    {"server.tls.cert", PT_STR, G(server.tls_cert), NONE0, NULL, NULL, 0,
     "PEM certificate file: the server's certificate first, then any intermediate CA "
     "certificates (a chain file). Clients check that it names the host they connect to (DNS "
     "name, or IP address SAN)."},
    {"server.tls.key", PT_STR, G(server.tls_key), NONE0, NULL, NULL, 0,
     "PEM private key file of that certificate (unencrypted)."},
    {"data_dir", PT_STR, G(data_dir), NONE0, "./var", NULL, 0,
     "Directory for the daemon's own state (schema history, pid file)."},
    {"node", PT_SECTION, SC_CONFIG, 0, NONE0, NULL, NULL, 0, "This daemon's identity."},
    {"node.name", PT_STR, G(node.name), NONE0, NULL, NULL, 0,
     "Name of this node among the daemons sharing a ZooKeeper cluster (default: host name + "
     "`-` + pid, which changes at every restart: give a stable name)."},
    {"node.weight", PT_U32, G(node.weight), 1, 1000, "1", NULL, 0,
     "This daemon's weight in the cluster: it takes at most its share of the instances, "
     "weight / (sum of the live daemons' weights), rounded up."},
    {"instances", PT_LIST, SC_CONFIG, 0, NONE0, NULL, NULL, REQUIRED,
     "The source servers to capture, at least one; names must be unique."},
    {"instances[].name", PT_STR, I(name), NONE0, NULL, NULL, REQUIRED,
     "Instance name: letters, digits, `.`, `_`, `-`; names its positions and logs."},
    {"instances[].source", PT_SECTION, SC_INSTANCE, 0, NONE0, NULL, NULL, REQUIRED,
     "The MySQL or MariaDB server read as a replica."},
    {"instances[].source.host", PT_STR, I(source.host), NONE0, NULL, NULL, REQUIRED,
     "Host name or IP address."},
    {"instances[].source.port", PT_U32, I(source.port), 1, 65535, "3306", NULL, 0, "TCP port."},
    {"instances[].source.user", PT_STR, I(source.user), NONE0, NULL, NULL, REQUIRED,
     "User with SELECT, REPLICATION SLAVE and REPLICATION CLIENT."},
    {"instances[].source.password", PT_STR, I(source.password), NONE0, NULL, NULL, SECRET,
     "Password; give this or `password_file`, not both (neither: no password)."},
    {"instances[].source.password_file", PT_STR, I(source.password_file), NONE0, NULL, NULL, 0,
     "File whose first line is the password."},
    {"instances[].source.tls", PT_SECTION, SC_INSTANCE, 0, NONE0, NULL, NULL, 0,
     "TLS to the source."},
    {"instances[].source.tls.mode", PT_ENUM, I(source.tls.mode), NONE0, "preferred", tls_modes, 0,
     "`preferred` uses TLS when the server offers it; `required` fails without it; `verify_ca` "
     "also checks the certificate against `ca`; `verify_identity` also checks the host name."},
    {"instances[].source.tls.ca", PT_STR, I(source.tls.ca), NONE0, NULL, NULL, 0,
     "CA certificate file (PEM)."},
    {"instances[].source.tls.cert", PT_STR, I(source.tls.cert), NONE0, NULL, NULL, 0,
     "Client certificate file (PEM); needs `key`."},
    {"instances[].source.tls.key", PT_STR, I(source.tls.key), NONE0, NULL, NULL, 0,
     "Client private key file (PEM); needs `cert`."},
    {"instances[].source.server_id", PT_SERVER_ID, I(source.server_id), 1, 4294967295ULL, "auto",
     NULL, 0, "Replica server id; `auto` picks one not used by another replica."},
    {"instances[].source.heartbeat_ms", PT_U32, I(source.heartbeat_ms), 0, 3600000, "30000", NULL,
     0, "Heartbeat period the server is asked for, in milliseconds; 0 turns heartbeats off."},
    {"instances[].start", PT_START, I(start), NONE0, "earliest", NULL, 0,
     "Where to start when no position is stored: `earliest`, `latest`, `FILE:POS`, a GTID set "
     "(MySQL `uuid:1-5:7,...` or MariaDB `D-S-N,...`) or a time (RFC 3339 such as "
     "`2026-11-24T10:00:00Z`, or seconds since the epoch)."},
    {"instances[].budget_mb", PT_U32, I(budget_mb), 1, 65536, "256", NULL, 0,
     "Memory budget of the instance in MiB: changes read but not yet acknowledged by every "
     "sink. When it is full, reading from the server pauses until sinks catch up."},
    {"instances[].decode_threads", PT_U32, I(decode_threads), 0, 16, "0", NULL, 0,
     "Threads that decode the instance's transactions beside its own thread, which keeps "
     "the order, the positions and the schema changes; 0 decodes everything on the "
     "instance's thread. Changes come out the same, in binlog order, either way. Worth it "
     "only with idle cores: on 2 cores shared with the server and a file sink, `make bench` "
     "measured no gain."},
    {"instances[].stall_timeout_ms", PT_U32, I(stall_timeout_ms), 1000, 86400000, "90000", NULL, 0,
     "The instance is `stalled` when neither an event nor a heartbeat arrived for this long "
     "(milliseconds); it then reconnects."},
    {"instances[].filters", PT_SECTION, SC_INSTANCE, 0, NONE0, NULL, NULL, 0,
     "Which changes are captured."},
    {"instances[].filters.include", PT_REGEXES, I(filters.include), NONE0, NULL, NULL, 0,
     "POSIX extended regexes matched against `db.table`; when given, only matching tables are "
     "captured. Anchor with `^...$` to match whole names."},
    {"instances[].filters.exclude", PT_REGEXES, I(filters.exclude), NONE0, NULL, NULL, 0,
     "Regexes of tables never captured (applied after `include`)."},
    {"instances[].filters.events", PT_EVENTS, I(filters.events), NONE0,
     "[insert, update, delete, ddl]", events, 0, "Kinds of change captured."},
    {"instances[].filters.drop_columns", PT_DROP_COLUMNS, I(filters.drop_columns), NONE0, NULL,
     NULL, 0, "Columns left out of the output, per table: `{db.table: [col, ...]}`."},
    {"instances[].positions", PT_SECTION, SC_INSTANCE, 0, NONE0, NULL, NULL, REQUIRED,
     "Where the instance's positions are kept."},
    {"instances[].positions.store", PT_ENUM, I(positions.store), NONE0, NULL, stores, REQUIRED,
     "Position store."},
    {"instances[].positions.dir", PT_STR, I(positions.dir), NONE0, NULL, NULL, 0,
     "Directory of the position files; required with `store: file`."},
    {"instances[].positions.save_interval_ms", PT_U32, I(positions.save_interval_ms), 0, 3600000,
     "1000", NULL, 0,
     "Positions are saved at most this often (milliseconds), and at shutdown; 0 = after every "
     "acknowledged batch."},
    {"instances[].positions.servers", PT_STR, I(positions.servers), NONE0, NULL, NULL, 0,
     "ZooKeeper connect string `host:port,...`; required with `store: zookeeper`."},
    {"instances[].positions.root", PT_STR, I(positions.root), NONE0, "/sluice", NULL, 0,
     "ZooKeeper path under which positions are kept."},
    {"instances[].positions.cluster", PT_STR, I(positions.cluster), NONE0, "default", NULL, 0,
     "Cluster name: daemons with the same root and cluster share instances."},
    {"instances[].positions.session_timeout_ms", PT_U32, I(positions.session_timeout_ms), 1000,
     600000, "10000", NULL, 0, "ZooKeeper session timeout in milliseconds."},
    {"instances[].sinks", PT_LIST, SC_INSTANCE, 0, NONE0, NULL, NULL, REQUIRED,
     "Where changes go, at least one; every sink receives every change."},
    {"instances[].sinks[].type", PT_ENUM, S(type), NONE0, NULL, sink_types, REQUIRED, "Sink type."},
    {"instances[].sinks[].path", PT_STR, S(path), NONE0, NULL, NULL, 0,
     "Output file; required for `type: file`, not allowed for other types."},
    {"instances[].sinks[].rotate_mb", PT_U32, S(rotate_mb), 0, 1048576, "1024", NULL, 0,
     "File sink: when the file reaches this size in MiB it is renamed to `PATH.N` (N = 1, 2, "
     "...) and a new one started; 0 = never."},
    {"instances[].sinks[].format", PT_ENUM, S(format), NONE0, "json", formats, 0,
     "Output format of each change."},
    {"instances[].sinks[].brokers", PT_STR, S(brokers), NONE0, NULL, NULL, 0,
     "Kafka bootstrap servers `host:port,...`; required for `type: kafka`."},
    {"instances[].sinks[].topic", PT_STR, S(topic), NONE0, NULL, NULL, 0,
     "Kafka topic of row changes; `{instance}`, `{db}` and `{table}` are replaced (characters "
     "Kafka does not allow in topic names become `_`); required for `type: kafka`."},
    {"instances[].sinks[].ddl_topic", PT_STR, S(ddl_topic), NONE0, "sluice.{instance}.ddl", NULL, 0,
     "Kafka topic of DDL statements; `{instance}` and `{db}` are replaced."},
    {"instances[].sinks[].no_pk_key", PT_ENUM, S(no_pk_key), NONE0, "hash", no_pk_keys, 0,
     "Kafka message key of a row whose table has no primary key: `hash` (a hash of the whole "
     "row, so one row's changes keep their order), `row` (the whole row as JSON) or `none` (no "
     "key: spread over partitions, no order)."},
    {"instances[].sinks[].tombstones", PT_ENUM, S(tombstones), NONE0, "auto", tombstone_modes, 0,
     "Kafka: follow each delete with a tombstone (same key, no value) so that log compaction "
     "removes the row: `on`, `off`, or `auto` (on for `format: debezium`, as Debezium does; off "
     "otherwise)."},
    {"instances[].sinks[].headers", PT_ENUM, S(headers), NONE0, "on", header_modes, 0,
     "Kafka: give each message the headers `sluice.pos`, `sluice.row`, `sluice.gtid` and "
     "`sluice.xid` (`on`), or none (`off`). Each header costs librdkafka about 0.2 us per "
     "message; the json and debezium values carry the position anyway, canal's does not."},
    {"instances[].sinks[].too_large", PT_ENUM, S(too_large), NONE0, "stop", too_large_policies, 0,
     "A record larger than Kafka accepts: `stop` the instance (`failed`, position held back) or "
     "send a `dead_letter` record (the key, no value, the error in headers) to "
     "`dead_letter_topic` and go on."},
    {"instances[].sinks[].dead_letter_topic", PT_STR, S(dead_letter_topic), NONE0,
     "sluice.{instance}.dead_letter", NULL, 0,
     "Topic of dead-letter records (`too_large: dead_letter`); `{instance}` is replaced."},
    {"instances[].sinks[].kafka", PT_STRMAP, S(kafka), NONE0, NULL, NULL, 0,
     "librdkafka properties passed through as written (`linger.ms: 5`)."},
};

#define NPROPS (sizeof(props) / sizeof(props[0]))

/* ---- loading ----------------------------------------------------------------------------- */

struct loader {
    const char *path;
    yaml_document_t doc;
    struct err *err;
    char nosink[300]; /* the first instance without sinks: an error unless server: is set */
};

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static int __attribute__((format(printf, 5, 6)))
fail(struct loader *L, const yaml_node_t *n, const char *key, size_t keylen, const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return err_set(L->err, ERR_CONFIG, "%s:%d: key \"%.*s\": %s", L->path, n ? line_of(n) : 1,
                   (int)keylen, key, reason);
}

/* Linear search: about 45 entries, looked up once per key at start-up. */
static int find_prop(const char *name, size_t len)
{
    for (size_t i = 0; i < NPROPS; i++)
        if (strlen(props[i].name) == len && memcmp(props[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int prop_index(const char *name)
{
    return find_prop(name, strlen(name));
}

static const char *kind_of(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a map";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* YAML's null: `key:` with nothing after it, `~` or `null`, unquoted. A quoted "" or "null" is
 * a string. Null is never a valid value here: every key either has a default or is required,
 * so writing it empty is a mistake worth reporting rather than a way to say "default". */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/* A scalar's text, or NULL when n is not a non-null scalar. */
static const char *scalar(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return NULL;
    return (const char *)n->data.scalar.value;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int enum_value(const char *const *choices, const char *s)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], s) == 0)
            return i;
    return -1;
}

static void choices_text(char *buf, size_t size, const char *const *choices)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; choices[i] && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", choices[i]);
}

/* Sets a scalar property from text (a default or a value from the file). Returns NULL, or the
 * reason the text is not valid (in buf). */
static const char *
set_scalar(const struct cfg_prop *p, void *base, const char *text, char *buf, size_t size)
{
    char *field = (char *)base + p->offset;
    uint64_t v;
    switch (p->type) {
    case PT_STR: {
        char **s = (char **)field;
        free(*s);
        *s = xstrdup(text);
        return NULL;
    }
    case PT_U32:
        if (parse_u64(text, &v)) {
            snprintf(buf, size, "expected an integer (%llu-%llu)", p->min, p->max);
            return buf;
        }
        if (v < p->min || v > p->max) {
            snprintf(buf, size, "%llu is out of range (%llu-%llu)", (unsigned long long)v, p->min,
                     p->max);
            return buf;
        }
        *(uint32_t *)field = (uint32_t)v;
        return NULL;
    case PT_SERVER_ID:
        if (strcmp(text, "auto") == 0) {
            *(uint32_t *)field = 0;
            return NULL;
        }
        if (parse_u64(text, &v) || v < p->min || v > p->max) {
            snprintf(buf, size, "expected auto or a server id (%llu-%llu)", p->min, p->max);
            return buf;
        }
        *(uint32_t *)field = (uint32_t)v;
        return NULL;
    case PT_ENUM: {
        int e = enum_value(p->choices, text);
        if (e < 0) {
            char list[120];
            choices_text(list, sizeof(list), p->choices);
            snprintf(buf, size, "\"%.40s\" is not one of: %s", text, list);
            return buf;
        }
        *(int *)field = e;
        return NULL;
    }
    case PT_START: {
        struct config_start st;
        struct err e = {0};
        if (config_start_parse(text, &st, &e)) {
            snprintf(buf, size, "%.150s", e.msg);
            return buf;
        }
        config_start_clear((struct config_start *)field);
        *(struct config_start *)field = st;
        return NULL;
    }
    case PT_EVENTS:
        /* The only default is "every kind". */
        *(unsigned *)field =
            CONFIG_EVENT_INSERT | CONFIG_EVENT_UPDATE | CONFIG_EVENT_DELETE | CONFIG_EVENT_DDL;
        return NULL;
    default:
        snprintf(buf, size, "not a scalar key");
        return buf;
    }
}

/* Defaults go in before a map is read, through the same set_scalar as values from the file, so
 * a default in the table that does not parse would show up in every test. */
static void apply_defaults(enum scope sc, void *base)
{
    char buf[160];
    for (size_t i = 0; i < NPROPS; i++)
        if (props[i].scope == sc && props[i].def != NULL && props[i].type != PT_SECTION &&
            props[i].type != PT_LIST)
            set_scalar(&props[i], base, props[i].def, buf, sizeof(buf));
}

/* The key path being read, for messages ("instances[0].sinks[1].path"). */
struct keypath {
    char s[200];
    size_t len;
};

/* Appends ".key" (or "key" at the top), or "[n]" when key is NULL; returns the old length for
 * keypath_pop. Paths are truncated, never overflowed. */
static size_t keypath_push(struct keypath *kp, const char *key, size_t n)
{
    size_t old = kp->len;
    int w = key ? snprintf(kp->s + old, sizeof(kp->s) - old, "%s%s", old ? "." : "", key)
                : snprintf(kp->s + old, sizeof(kp->s) - old, "[%zu]", n);
    if (w > 0)
        kp->len = old + (size_t)w < sizeof(kp->s) ? old + (size_t)w : sizeof(kp->s) - 1;
    return old;
}

static void keypath_pop(struct keypath *kp, size_t old)
{
    kp->len = old;
    kp->s[old] = '\0';
}

static int load_map(struct loader *L,
                    const yaml_node_t *map,
                    enum scope sc,
                    const char *tprefix,
                    struct keypath *kp,
                    void *base,
                    int *seen);

/* A list of regexes, compiled now so that a bad one is reported with its line at start-up
 * rather than when the first row arrives. field points at the array; its count follows it in
 * the struct (see config.h). */
static int load_regexes(struct loader *L, const yaml_node_t *v, struct keypath *kp, void *field)
{
    struct config_regex **list = field;
    size_t *n = (size_t *)((char *)field + sizeof(struct config_regex *));
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(L, v, kp->s, kp->len, "expected a list of regexes, not %s", kind_of(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
        const char *s = scalar(item);
        if (s == NULL)
            return fail(L, item, kp->s, kp->len, "expected a regex string, not %s",
                        is_null(item) ? "null" : kind_of(item));
        struct config_regex r = {0};
        int rc = regcomp(&r.re, s, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[100];
            regerror(rc, &r.re, msg, sizeof(msg));
            return fail(L, item, kp->s, kp->len, "bad regex \"%.60s\": %s", s, msg);
        }
        r.pattern = xstrdup(s);
        *list = xrealloc(*list, (*n + 1) * sizeof(**list));
        (*list)[(*n)++] = r;
    }
    return 0;
}

/* A list of event kinds: the mask holds only the kinds listed (an empty list captures none). */
static int load_events(struct loader *L, const yaml_node_t *v, struct keypath *kp, unsigned *mask)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(L, v, kp->s, kp->len, "expected a list of event types, not %s", kind_of(v));
    *mask = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
        const char *s = scalar(item);
        int e = s ? enum_value(events, s) : -1;
        if (e < 0)
            return fail(L, item, kp->s, kp->len,
                        "\"%.40s\" is not one of: insert, update, delete, ddl", s ? s : "");
        *mask |= 1u << e;
    }
    return 0;
}

/* A list of log facilities (log.debug): names compared case-insensitively. */
static int
load_facilities(struct loader *L, const yaml_node_t *v, struct keypath *kp, unsigned *mask)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(L, v, kp->s, kp->len, "expected a list of facilities, not %s", kind_of(v));
    *mask = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
        const char *s = scalar(item);
        int e = -1;
        for (int i = 0; s && log_facilities[i]; i++)
            if (strcasecmp(log_facilities[i], s) == 0)
                e = i;
        if (e < 0) {
            char list[120];
            choices_text(list, sizeof(list), log_facilities);
            return fail(L, item, kp->s, kp->len, "\"%.40s\" is not one of: %s", s ? s : "", list);
        }
        *mask |= 1u << e;
    }
    return 0;
}

/* {db.table: [col, ...]}: each table once; column names are not checked against the schema
 * here (the server is not known yet). */
static int load_drop_columns(struct loader *L, const yaml_node_t *v, struct keypath *kp, void *f)
{
    struct config_drop_columns **list = f;
    size_t *n = (size_t *)((char *)f + sizeof(struct config_drop_columns *));
    if (v->type != YAML_MAPPING_NODE)
        return fail(L, v, kp->s, kp->len, "expected a map of db.table to column lists, not %s",
                    kind_of(v));
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *val = yaml_document_get_node(&L->doc, p->value);
        const char *table = scalar(k);
        if (table == NULL || strchr(table, '.') == NULL || table[0] == '.')
            return fail(L, k, kp->s, kp->len, "table \"%.60s\": expected db.table",
                        table ? table : "");
        for (size_t i = 0; i < *n; i++)
            if (strcmp((*list)[i].table, table) == 0)
                return fail(L, k, kp->s, kp->len, "table \"%.60s\" given twice", table);
        if (val->type != YAML_SEQUENCE_NODE)
            return fail(L, val, kp->s, kp->len, "table \"%.60s\": expected a list of columns",
                        table);
        *list = xrealloc(*list, (*n + 1) * sizeof(**list));
        struct config_drop_columns *d = &(*list)[(*n)++];
        memset(d, 0, sizeof(*d));
        d->table = xstrdup(table);
        for (yaml_node_item_t *it = val->data.sequence.items.start;
             it < val->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
            const char *col = scalar(item);
            if (col == NULL)
                return fail(L, item, kp->s, kp->len, "table \"%.60s\": expected column names",
                            table);
            d->columns = xrealloc(d->columns, (d->n_columns + 1) * sizeof(char *));
            d->columns[d->n_columns++] = xstrdup(col);
        }
    }
    return 0;
}

/* The kafka: map. Values stay strings as written: librdkafka parses them itself and reports
 * its own errors through rd_kafka_conf_set's errstr when the sink opens (STYLE rule 24). */
static int load_strmap(struct loader *L, const yaml_node_t *v, struct keypath *kp, void *f)
{
    struct config_kv **list = f;
    size_t *n = (size_t *)((char *)f + sizeof(struct config_kv *));
    if (v->type != YAML_MAPPING_NODE)
        return fail(L, v, kp->s, kp->len, "expected a map of properties, not %s", kind_of(v));
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *val = yaml_document_get_node(&L->doc, p->value);
        const char *key = scalar(k), *value = scalar(val);
        if (key == NULL)
            return fail(L, k, kp->s, kp->len, "property names must be strings");
        for (size_t i = 0; i < *n; i++)
            if (strcmp((*list)[i].key, key) == 0)
                return fail(L, k, kp->s, kp->len, "property \"%.60s\" given twice", key);
        if (value == NULL)
            return fail(L, val, kp->s, kp->len, "property \"%.60s\": expected a value, not %s", key,
                        is_null(val) ? "null" : kind_of(val));
        *list = xrealloc(*list, (*n + 1) * sizeof(**list));
        (*list)[*n].key = xstrdup(key);
        (*list)[*n].value = xstrdup(value);
        (*n)++;
    }
    return 0;
}

/* server.users: a list of {name, password | password_file}; names unique. */
static int load_users(struct loader *L, const yaml_node_t *v, struct keypath *kp, void *f)
{
    struct config_user **list = f;
    size_t *n = (size_t *)((char *)f + sizeof(struct config_user *));
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(L, v, kp->s, kp->len, "expected a list of users, not %s", kind_of(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
        size_t old = keypath_push(kp, NULL, *n);
        if (item->type != YAML_MAPPING_NODE)
            return fail(L, item, kp->s, kp->len, "expected a map, not %s", kind_of(item));
        *list = xrealloc(*list, (*n + 1) * sizeof(**list));
        struct config_user *u = &(*list)[(*n)++];
        memset(u, 0, sizeof(*u));
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
            yaml_node_t *val = yaml_document_get_node(&L->doc, p->value);
            const char *key = scalar(k), *value = scalar(val);
            char **field = NULL;
            if (key && strcmp(key, "name") == 0)
                field = &u->name;
            else if (key && strcmp(key, "password") == 0)
                field = &u->password;
            else if (key && strcmp(key, "password_file") == 0)
                field = &u->password_file;
            size_t o2 = keypath_push(kp, key ? key : "?", 0);
            if (field == NULL)
                return fail(L, k, kp->s, kp->len, "unknown key");
            if (*field)
                return fail(L, k, kp->s, kp->len, "duplicate key");
            if (value == NULL)
                return fail(L, val, kp->s, kp->len, "expected a string, not %s",
                            is_null(val) ? "null" : kind_of(val));
            *field = xstrdup(value);
            keypath_pop(kp, o2);
        }
        if (u->name == NULL || u->name[0] == '\0')
            return fail(L, item, kp->s, kp->len, "name: missing (required)");
        if ((u->password == NULL) == (u->password_file == NULL))
            return fail(L, item, kp->s, kp->len, "give password or password_file (one of them)");
        for (size_t i = 0; i + 1 < *n; i++)
            if (strcmp((*list)[i].name, u->name) == 0)
                return fail(L, item, kp->s, kp->len, "duplicate user \"%.40s\"", u->name);
        keypath_pop(kp, old);
    }
    if (*n == 0)
        return fail(L, v, kp->s, kp->len, "at least one user is needed");
    return 0;
}

/* Reports the first REQUIRED key of scope sc (under tprefix) that was not seen: at the line of
 * its enclosing section when that was given, else at the line of map. */
static int check_required(struct loader *L,
                          const yaml_node_t *map,
                          enum scope sc,
                          const char *tprefix,
                          struct keypath *kp,
                          const int *seen)
{
    size_t tlen = strlen(tprefix);
    for (size_t i = 0; i < NPROPS; i++) {
        const struct cfg_prop *p = &props[i];
        if (p->scope != sc || !(p->flags & REQUIRED) || seen[i] ||
            strncmp(p->name, tprefix, tlen) != 0 || strstr(p->name + tlen, "[]"))
            continue;
        /* A required key in a section that is itself absent and optional is not required. */
        const char *dot = strrchr(p->name + tlen, '.');
        int parent = dot ? find_prop(p->name, (size_t)(dot - p->name)) : -1;
        if (parent >= 0 && !seen[parent] && !(props[parent].flags & REQUIRED))
            continue;
        if (parent >= 0 && !seen[parent])
            continue; /* the parent itself is reported */
        size_t old = keypath_push(kp, p->name + tlen, 0);
        int line = parent >= 0 ? seen[parent] : line_of(map);
        err_set(L->err, ERR_CONFIG, "%s:%d: key \"%s\": missing (required)", L->path, line, kp->s);
        keypath_pop(kp, old);
        return ERR_CONFIG;
    }
    return 0;
}

/* Instance names become file names (positions) and ZooKeeper nodes: keep them to a safe set. */
static bool valid_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

/* The cross-key rules of one sink (seen: its lines). */
static int check_sink(struct loader *L,
                      const yaml_node_t *map,
                      struct keypath *kp,
                      struct config_sink *s,
                      const int *seen)
{
    int line = line_of(map);
    const char *miss = NULL, *extra = NULL;
    if (s->type == CONFIG_SINK_FILE && s->path == NULL)
        miss = "path";
    else if (s->type == CONFIG_SINK_KAFKA && s->brokers == NULL)
        miss = "brokers";
    else if (s->type == CONFIG_SINK_KAFKA && s->topic == NULL)
        miss = "topic";
    else if (s->type != CONFIG_SINK_FILE && s->path)
        extra = "path";
    else if (s->type != CONFIG_SINK_KAFKA && (s->brokers || s->topic || s->kafka))
        extra = s->brokers ? "brokers" : s->topic ? "topic" : "kafka";
    if (miss)
        return err_set(L->err, ERR_CONFIG, "%s:%d: key \"%s.%s\": missing (required for type %s)",
                       L->path, line, kp->s, miss, config_sink_type_name(s->type));
    if (extra) {
        char name[64];
        snprintf(name, sizeof(name), "instances[].sinks[].%s", extra);
        return err_set(L->err, ERR_CONFIG, "%s:%d: key \"%s.%s\": not allowed for type %s", L->path,
                       seen[prop_index(name)], kp->s, extra, config_sink_type_name(s->type));
    }
    return 0;
}

/* The cross-key rules of one instance (seen: its lines). */
static int check_instance(struct loader *L,
                          const yaml_node_t *map,
                          struct keypath *kp,
                          struct config_instance *in,
                          const int *seen)
{
#define LINE(name)                                                                                 \
    (seen[prop_index("instances[]." name)] ? seen[prop_index("instances[]." name)] : line_of(map))
    if (!valid_name(in->name))
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"%s.name\": \"%.40s\": use letters, digits, '.', '_', '-'",
                       L->path, LINE("name"), kp->s, in->name);
    if (in->source.password && in->source.password_file)
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"%s.source.password_file\": give password or "
                       "password_file, not both",
                       L->path, LINE("source.password_file"), kp->s);
    bool cert = in->source.tls.cert != NULL, key = in->source.tls.key != NULL;
    if (cert != key)
        return err_set(L->err, ERR_CONFIG, "%s:%d: key \"%s.source.tls.%s\": needs %s too", L->path,
                       cert ? LINE("source.tls.cert") : LINE("source.tls.key"), kp->s,
                       cert ? "cert" : "key", cert ? "key" : "cert");
    if (in->source.tls.mode == CONFIG_TLS_VERIFY_CA && in->source.tls.ca == NULL)
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"%s.source.tls.ca\": missing (required "
                       "with mode verify_ca)",
                       L->path, LINE("source.tls.mode"), kp->s);
    if (in->positions.store == CONFIG_STORE_FILE && in->positions.dir == NULL)
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"%s.positions.dir\": missing (required with store file)",
                       L->path, LINE("positions"), kp->s);
    if (in->positions.store == CONFIG_STORE_ZOOKEEPER && in->positions.servers == NULL)
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"%s.positions.servers\": missing (required with store "
                       "zookeeper)",
                       L->path, LINE("positions"), kp->s);
    if (in->n_sinks == 0 && L->nosink[0] == '\0')
        snprintf(L->nosink, sizeof(L->nosink),
                 "%s:%d: key \"%s.sinks\": at least one sink is needed", /* or server: */
                 L->path, LINE("sinks"), kp->s);
#undef LINE
    return 0;
}

/* Reads a list of maps (instances or sinks) into a growing array. */
static int load_list(struct loader *L,
                     const struct cfg_prop *lp,
                     const yaml_node_t *v,
                     struct keypath *kp,
                     void *base)
{
    bool inst = lp->scope == SC_CONFIG; /* instances; else an instance's sinks */
    size_t elsize = inst ? sizeof(struct config_instance) : sizeof(struct config_sink);
    void **arr = inst ? (void **)&((struct config *)base)->instances
                      : (void **)&((struct config_instance *)base)->sinks;
    size_t *n =
        inst ? &((struct config *)base)->n_instances : &((struct config_instance *)base)->n_sinks;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(L, v, kp->s, kp->len, "expected a list of %s, not %s",
                    inst ? "instances" : "sinks", kind_of(v));
    char tprefix[64];
    snprintf(tprefix, sizeof(tprefix), "%s[].", lp->name);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&L->doc, *it);
        size_t old = keypath_push(kp, NULL, *n);
        if (item->type != YAML_MAPPING_NODE)
            return fail(L, item, kp->s, kp->len, "expected a map, not %s", kind_of(item));
        *arr = xrealloc(*arr, (*n + 1) * elsize);
        void *el = (char *)*arr + *n * elsize;
        memset(el, 0, elsize);
        (*n)++;
        enum scope sc = inst ? SC_INSTANCE : SC_SINK;
        apply_defaults(sc, el);
        int seen[NPROPS] = {0};
        int rc = load_map(L, item, sc, tprefix, kp, el, seen);
        if (rc == 0)
            rc = check_required(L, item, sc, tprefix, kp, seen);
        if (rc == 0 && inst)
            rc = check_instance(L, item, kp, el, seen);
        if (rc == 0 && !inst)
            rc = check_sink(L, item, kp, el, seen);
        if (rc == 0 && inst) {
            struct config_instance *all = *arr;
            for (size_t i = 0; i + 1 < *n; i++)
                if (strcmp(all[i].name, all[*n - 1].name) == 0)
                    return err_set(L->err, ERR_CONFIG,
                                   "%s:%d: key \"%s.name\": duplicate instance name \"%s\" "
                                   "(also instances[%zu])",
                                   L->path, seen[prop_index("instances[].name")], kp->s,
                                   all[i].name, i);
        }
        if (rc)
            return rc;
        keypath_pop(kp, old);
    }
    return 0;
}

/* Reads the keys of map into base: tprefix is the table path of its keys ("instances[].source.")
 * and kp the path for messages; seen[] gets the line of each key read. */
static int load_map(struct loader *L,
                    const yaml_node_t *map,
                    enum scope sc,
                    const char *tprefix,
                    struct keypath *kp,
                    void *base,
                    int *seen)
{
    char tname[128];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&L->doc, p->value);
        const char *key = scalar(k);
        if (key == NULL)
            return fail(L, k, kp->s, kp->len, "keys must be strings, not %s", kind_of(k));
        size_t old = keypath_push(kp, key, 0);
        snprintf(tname, sizeof(tname), "%s%s", tprefix, key);
        int idx = prop_index(tname);
        if (idx < 0 || props[idx].scope != sc)
            return fail(L, k, kp->s, kp->len, "unknown key");
        const struct cfg_prop *pr = &props[idx];
        if (seen[idx])
            return fail(L, k, kp->s, kp->len, "duplicate key (first on line %d)", seen[idx]);
        seen[idx] = line_of(k);
        char *field = (char *)base + pr->offset;
        int rc = 0;
        char buf[200];
        switch (pr->type) {
        case PT_SECTION:
            if (v->type != YAML_MAPPING_NODE)
                return fail(L, v, kp->s, kp->len, "expected a map, not %s",
                            is_null(v) ? "null" : kind_of(v));
            snprintf(buf, sizeof(buf), "%s.", tname);
            rc = load_map(L, v, sc, buf, kp, base, seen);
            break;
        case PT_LIST:
            rc = load_list(L, pr, v, kp, base);
            break;
        case PT_REGEXES:
            rc = load_regexes(L, v, kp, field);
            break;
        case PT_EVENTS:
            rc = load_events(L, v, kp, (unsigned *)field);
            break;
        case PT_DROP_COLUMNS:
            rc = load_drop_columns(L, v, kp, field);
            break;
        case PT_STRMAP:
            rc = load_strmap(L, v, kp, field);
            break;
        case PT_FACILITIES:
            rc = load_facilities(L, v, kp, (unsigned *)field);
            break;
        case PT_USERS:
            rc = load_users(L, v, kp, field);
            break;
        default: {
            const char *s = scalar(v);
            if (s == NULL)
                return fail(L, v, kp->s, kp->len, "expected %s, not %s",
                            pr->type == PT_STR ? "a string" : "a scalar value",
                            is_null(v) ? "null" : kind_of(v));
            const char *why = set_scalar(pr, base, s, buf, sizeof(buf));
            if (why)
                return fail(L, v, kp->s, kp->len, "%s", why);
        }
        }
        if (rc)
            return rc;
        keypath_pop(kp, old);
    }
    return 0;
}

/* The top-level map, then the rules that span instances (node.name for ZooKeeper) and the
 * admin address. */
static int load_doc(struct loader *L, struct config *cfg)
{
    yaml_node_t *root = yaml_document_get_root_node(&L->doc);
    if (root == NULL)
        return err_set(L->err, ERR_CONFIG, "%s:1: the file is empty (no instances)", L->path);
    if (root->type != YAML_MAPPING_NODE)
        return err_set(L->err, ERR_CONFIG, "%s:%d: expected a map of keys at the top, not %s",
                       L->path, line_of(root), kind_of(root));
    struct keypath kp = {.len = 0};
    int seen[NPROPS] = {0};
    int rc = load_map(L, root, SC_CONFIG, "", &kp, cfg, seen);
    if (rc == 0)
        rc = check_required(L, root, SC_CONFIG, "", &kp, seen);
    if (rc)
        return rc;
    if (L->nosink[0] && cfg->server.listen == NULL)
        return err_set(L->err, ERR_CONFIG, "%s", L->nosink);
    if (cfg->server.listen) {
        const char *sc = strrchr(cfg->server.listen, ':');
        uint64_t sport;
        if (sc == NULL || sc == cfg->server.listen || parse_u64(sc + 1, &sport) || sport > 65535)
            return err_set(L->err, ERR_CONFIG, "%s:%d: key \"server.listen\": expected HOST:PORT",
                           L->path, seen[prop_index("server.listen")]);
        bool cert = cfg->server.tls_cert != NULL, key = cfg->server.tls_key != NULL;
        if (cert != key)
            return err_set(L->err, ERR_CONFIG, "%s:%d: key \"server.tls.%s\": needs %s too",
                           L->path, seen[prop_index(cert ? "server.tls.cert" : "server.tls.key")],
                           cert ? "cert" : "key", cert ? "server.tls.key" : "server.tls.cert");
    }
    int iline = seen[prop_index("instances")];
    if (cfg->n_instances == 0)
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"instances\": at least one instance is "
                       "needed",
                       L->path, iline);
    if (cfg->node.name && (cfg->node.name[0] == '\0' ||
                           strspn(cfg->node.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                                                  "UVWXYZ0123456789._-") != strlen(cfg->node.name)))
        return err_set(L->err, ERR_CONFIG,
                       "%s:%d: key \"node.name\": \"%s\": only letters, digits, '.', '_' and '-'",
                       L->path, seen[prop_index("node.name")], cfg->node.name);
    if (cfg->node.name == NULL) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
            snprintf(host, sizeof(host), "sluice");
        char name[300];
        snprintf(name, sizeof(name), "%s-%ld", host, (long)getpid());
        cfg->node.name = xstrdup(name);
    }
    const char *listen = cfg->admin.listen;
    const char *colon = strrchr(listen, ':');
    uint64_t port;
    if (colon == NULL || colon == listen || parse_u64(colon + 1, &port) || port == 0 ||
        port > 65535)
        return err_set(L->err, ERR_CONFIG, "%s:%d: key \"admin.listen\": expected HOST:PORT",
                       L->path, seen[prop_index("admin.listen")]);
    return 0;
}

struct config *config_load_text(const char *text, size_t len, const char *name, struct err *err)
{
    struct loader L = {.path = name, .err = err};
    struct config *cfg = NULL;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &L.doc)) {
        err_set(err, ERR_CONFIG, "%s:%d: YAML syntax error: %s%s%s", name,
                (int)parser.problem_mark.line + 1, parser.problem ? parser.problem : "?",
                parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_parser_delete(&parser);
    cfg = xcalloc(1, sizeof(*cfg));
    apply_defaults(SC_CONFIG, cfg);
    cfg->path = xstrdup(name);
    config_checksum(text, len, cfg->checksum);
    if (load_doc(&L, cfg)) {
        config_free(cfg);
        cfg = NULL;
    }
    yaml_document_delete(&L.doc);
    return cfg;
}

/* The whole file at path, NUL-terminated, or NULL with err filled. */
static char *read_file(const char *path, size_t *len, struct err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        err_set(err, ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    struct strbuf sb = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len <= CONFIG_MAX_BYTES)
        strbuf_append(&sb, buf, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || sb.len > CONFIG_MAX_BYTES) {
        err_set(err, ERR_IO, "could not read \"%s\": %s", path,
                bad ? "read error" : "larger than 1 MiB");
        strbuf_free(&sb);
        return NULL;
    }
    strbuf_append(&sb, "", 0); /* a buffer even for an empty file */
    *len = sb.len;
    return sb.buf;
}

struct config *config_load(const char *path, struct err *err)
{
    size_t len;
    char *text = read_file(path, &len, err);
    if (text == NULL)
        return NULL;
    struct config *cfg = config_load_text(text, len, path, err);
    free(text);
    return cfg;
}

void config_checksum(const char *text, size_t len, char out[CONFIG_CHECKSUM_LEN + 1])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, len, md);
    for (int i = 0; i < CONFIG_CHECKSUM_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- freeing ----------------------------------------------------------------------------- */

static void free_regexes(struct config_regex *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        regfree(&r[i].re);
        free(r[i].pattern);
    }
    free(r);
}

/* Every PT_STR field of a scope is owned by its struct: free them from the table so a new
 * string key needs no change here. */
static void free_strings(enum scope sc, void *base)
{
    for (size_t i = 0; i < NPROPS; i++)
        if (props[i].scope == sc && props[i].type == PT_STR)
            free(*(char **)((char *)base + props[i].offset));
}

static void free_sink(struct config_sink *s)
{
    free_strings(SC_SINK, s);
    for (size_t i = 0; i < s->n_kafka; i++) {
        free(s->kafka[i].key);
        free(s->kafka[i].value);
    }
    free(s->kafka);
}

static void free_instance(struct config_instance *in)
{
    if (in->source.password)
        memset(in->source.password, 0, strlen(in->source.password));
    free_strings(SC_INSTANCE, in);
    config_start_clear(&in->start);
    free_regexes(in->filters.include, in->filters.n_include);
    free_regexes(in->filters.exclude, in->filters.n_exclude);
    for (size_t i = 0; i < in->filters.n_drop_columns; i++) {
        struct config_drop_columns *d = &in->filters.drop_columns[i];
        for (size_t c = 0; c < d->n_columns; c++)
            free(d->columns[c]);
        free(d->columns);
        free(d->table);
    }
    free(in->filters.drop_columns);
    for (size_t i = 0; i < in->n_sinks; i++)
        free_sink(&in->sinks[i]);
    free(in->sinks);
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_instances; i++)
        free_instance(&cfg->instances[i]);
    free(cfg->instances);
    for (size_t i = 0; i < cfg->server.n_users; i++) {
        free(cfg->server.users[i].name);
        free(cfg->server.users[i].password);
        free(cfg->server.users[i].password_file);
    }
    free(cfg->server.users);
    free_strings(SC_CONFIG, cfg);
    free(cfg->path);
    free(cfg);
}

/* ---- start positions --------------------------------------------------------------------- */

static bool is_uuid_at(const char *s)
{
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Reads decimal digits at *s (at least one) into *v; false on overflow or no digit. */
static bool read_num(const char **s, uint64_t max, uint64_t *v)
{
    if (!isdigit((unsigned char)**s))
        return false;
    uint64_t x = 0;
    while (isdigit((unsigned char)**s)) {
        unsigned d = (unsigned)(**s - '0');
        if (x > (max - d) / 10)
            return false;
        x = x * 10 + d;
        (*s)++;
    }
    *v = x;
    return true;
}

/* MySQL's GTID set text, as @@gtid_executed prints it: uuid:N[-M][:N[-M]...] joined by ',' and
 * optional white space (MySQL inserts newlines). Tagged GTIDs (8.3+, uuid:tag:N) are not
 * accepted yet. */
static int parse_mysql_gtids(const char *s, struct config_start *st, struct err *err)
{
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (!is_uuid_at(s))
            return err_set(err, ERR_CONFIG, "bad GTID set: expected a server uuid at \"%.20s\"", s);
        st->mysql = xrealloc(st->mysql, (st->n_mysql + 1) * sizeof(*st->mysql));
        struct config_gtid_mysql *g = &st->mysql[st->n_mysql++];
        memset(g, 0, sizeof(*g));
        for (int i = 0; i < 36; i++)
            g->uuid[i] = (char)tolower((unsigned char)s[i]);
        for (size_t i = 0; i + 1 < st->n_mysql; i++)
            if (strcmp(st->mysql[i].uuid, g->uuid) == 0)
                return err_set(err, ERR_CONFIG, "bad GTID set: uuid %s given twice", g->uuid);
        s += 36;
        if (*s != ':')
            return err_set(err, ERR_CONFIG, "bad GTID set: expected ':' after uuid %s", g->uuid);
        while (*s == ':') {
            s++;
            struct config_gtid_interval iv;
            if (!read_num(&s, INT64_MAX, &iv.first) || iv.first == 0)
                return err_set(err, ERR_CONFIG,
                               "bad GTID set: expected a transaction number >= 1 after %s",
                               g->uuid);
            iv.last = iv.first;
            if (*s == '-') {
                s++;
                if (!read_num(&s, INT64_MAX, &iv.last) || iv.last < iv.first)
                    return err_set(err, ERR_CONFIG,
                                   "bad GTID set: bad interval end in %s (must be >= %llu)",
                                   g->uuid, (unsigned long long)iv.first);
            }
            g->iv = xrealloc(g->iv, (g->n_iv + 1) * sizeof(*g->iv));
            g->iv[g->n_iv++] = iv;
        }
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            return 0;
        if (*s++ != ',')
            return err_set(err, ERR_CONFIG, "bad GTID set: unexpected \"%.20s\" after %s", s - 1,
                           g->uuid);
    }
}

/* MariaDB's @@gtid_slave_pos format: domain-server-seq, one per domain, joined by ','. */
static int parse_mariadb_gtids(const char *s, struct config_start *st, struct err *err)
{
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        struct config_gtid_mariadb g;
        uint64_t d, sid;
        if (!read_num(&s, UINT32_MAX, &d) || *s++ != '-' || !read_num(&s, UINT32_MAX, &sid) ||
            *s++ != '-' || !read_num(&s, UINT64_MAX, &g.seq))
            return err_set(err, ERR_CONFIG, "bad MariaDB GTID list: expected D-S-N[,D-S-N...]");
        g.domain = (uint32_t)d;
        g.server_id = (uint32_t)sid;
        for (size_t i = 0; i < st->n_mariadb; i++)
            if (st->mariadb[i].domain == g.domain)
                return err_set(err, ERR_CONFIG, "bad MariaDB GTID list: domain %u given twice",
                               g.domain);
        st->mariadb = xrealloc(st->mariadb, (st->n_mariadb + 1) * sizeof(*st->mariadb));
        st->mariadb[st->n_mariadb++] = g;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            return 0;
        if (*s++ != ',')
            return err_set(err, ERR_CONFIG, "bad MariaDB GTID list: expected D-S-N[,D-S-N...]");
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool fixed_num(const char **s, int width, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < width; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        x = x * 10 + (unsigned)((*s)[i] - '0');
    }
    *s += width;
    *v = x;
    return true;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int parse_rfc3339(const char *s, int64_t *out, struct err *err)
{
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    int sign = 0;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *bad = "bad timestamp: expected RFC 3339 such as 2026-11-24T10:00:00Z";
    if (!fixed_num(&s, 4, &y) || *s++ != '-' || !fixed_num(&s, 2, &mo) || *s++ != '-' ||
        !fixed_num(&s, 2, &d) || (*s != 'T' && *s != 't') || !(++s, fixed_num(&s, 2, &h)) ||
        *s++ != ':' || !fixed_num(&s, 2, &mi) || *s++ != ':' || !fixed_num(&s, 2, &sec))
        return err_set(err, ERR_CONFIG, "%s", bad);
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return err_set(err, ERR_CONFIG, "%s", bad);
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '+' ? 1 : -1;
        if (!fixed_num(&s, 2, &oh) || *s++ != ':' || !fixed_num(&s, 2, &om) || oh > 23 || om > 59)
            return err_set(err, ERR_CONFIG, "%s", bad);
    } else {
        return err_set(err, ERR_CONFIG, "bad timestamp: the time zone (Z or +HH:MM) is missing");
    }
    if (*s != '\0')
        return err_set(err, ERR_CONFIG, "%s", bad);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        sec > 59)
        return err_set(err, ERR_CONFIG, "bad timestamp: date or time out of range");
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= sign * (int64_t)(oh * 3600 + om * 60);
    if (t < 0)
        return err_set(err, ERR_CONFIG, "bad timestamp: before 1970");
    *out = t;
    return 0;
}

/* The forms are told apart by shape, most specific first: a 36-character uuid followed by ':'
 * is a MySQL GTID set; "YYYY-MM-DDT" an RFC 3339 time; digits alone epoch seconds; digits with
 * '-' and no ':' a MariaDB GTID list; anything else with ':' FILE:POS (binlog names may contain
 * '-' and '.', so that form is tried last, split at the last ':'). */
int config_start_parse(const char *text, struct config_start *st, struct err *err)
{
    memset(st, 0, sizeof(*st));
    int rc = 0;
    size_t len = strlen(text);
    uint64_t v;
    if (strcmp(text, "earliest") == 0) {
        st->kind = CONFIG_START_EARLIEST;
    } else if (strcmp(text, "latest") == 0) {
        st->kind = CONFIG_START_LATEST;
    } else if (len >= 37 && is_uuid_at(text) && text[36] == ':') {
        st->kind = CONFIG_START_GTID_MYSQL;
        rc = parse_mysql_gtids(text, st, err);
    } else if (len >= 10 && isdigit((unsigned char)text[0]) && text[4] == '-' && text[7] == '-' &&
               (text[10] == 'T' || text[10] == 't')) {
        st->kind = CONFIG_START_TIMESTAMP;
        rc = parse_rfc3339(text, &st->timestamp, err);
    } else if (parse_u64(text, &v) == 0) {
        st->kind = CONFIG_START_TIMESTAMP;
        if (v > INT64_MAX / 2)
            rc = err_set(err, ERR_CONFIG, "bad timestamp: %s seconds is too large", text);
        st->timestamp = (int64_t)v;
    } else if (isdigit((unsigned char)text[0]) && strchr(text, ':') == NULL) {
        st->kind = CONFIG_START_GTID_MARIADB;
        rc = parse_mariadb_gtids(text, st, err);
    } else if (strchr(text, ':') != NULL) {
        const char *colon = strrchr(text, ':');
        st->kind = CONFIG_START_FILE_POS;
        if (colon == text || memchr(text, '/', (size_t)(colon - text)) ||
            parse_u64(colon + 1, &st->pos) || st->pos < 4)
            rc = err_set(err, ERR_CONFIG,
                         "bad FILE:POS: expected a binlog file name and an offset >= 4");
        else
            st->file = xstrndup(text, (size_t)(colon - text));
    } else {
        rc = err_set(err, ERR_CONFIG,
                     "\"%.40s\": expected earliest, latest, FILE:POS, a GTID set or a timestamp",
                     text);
    }
    if (rc) {
        config_start_clear(st);
        return rc;
    }
    st->text = xstrdup(text);
    return 0;
}

void config_start_clear(struct config_start *st)
{
    free(st->text);
    free(st->file);
    for (size_t i = 0; i < st->n_mysql; i++)
        free(st->mysql[i].iv);
    free(st->mysql);
    free(st->mariadb);
    memset(st, 0, sizeof(*st));
}

/* ---- names and the reference doc --------------------------------------------------------- */

const char *config_tls_mode_name(enum config_tls_mode m)
{
    return (unsigned)m < 5 ? tls_modes[m] : "?";
}

const char *config_sink_type_name(enum config_sink_type t)
{
    return (unsigned)t < 3 ? sink_types[t] : "?";
}

const char *config_format_name(enum config_format f)
{
    return (unsigned)f < 3 ? formats[f] : "?";
}

const char *config_store_name(enum config_store s)
{
    return (unsigned)s < 2 ? stores[s] : "?";
}

const char *config_log_facility_name(unsigned i)
{
    return i < sizeof(log_facilities) / sizeof(log_facilities[0]) - 1 ? log_facilities[i] : NULL;
}

static const char *type_name(const struct cfg_prop *p)
{
    switch (p->type) {
    case PT_SECTION:
        return "map";
    case PT_LIST:
        return "list of maps";
    case PT_STR:
        return "string";
    case PT_U32:
        return "integer";
    case PT_ENUM:
        return "enum";
    case PT_SERVER_ID:
        return "`auto` or integer";
    case PT_START:
        return "start position";
    case PT_REGEXES:
        return "list of regexes";
    case PT_EVENTS:
        return "list of event types";
    case PT_DROP_COLUMNS:
        return "map of lists";
    case PT_STRMAP:
        return "map of strings";
    case PT_FACILITIES:
        return "list of facilities";
    case PT_USERS:
        return "list of users";
    }
    return "?";
}

void config_doc(struct strbuf *sb)
{
    strbuf_appends(sb,
                   "# sluice configuration reference\n"
                   "\n"
                   "<!-- Generated by `sluice config-doc` from the property table in src/config.c;"
                   " do not edit. -->\n"
                   "\n"
                   "The configuration is one YAML file (`sluice check-config FILE` validates it; "
                   "conf/sluice.yaml is a commented example). `[]` marks an element of a list. "
                   "Unknown keys, wrong types, out-of-range values and missing required keys stop "
                   "start-up with `FILE:LINE: key \"x\": reason`.\n"
                   "\n"
                   "Status: the daemon that runs from this file (`sluice run`: instances, sinks, "
                   "positions, the admin endpoint) is being built; today `sluice check-config` "
                   "reads and validates it, and the keys below describe what the daemon will "
                   "do with them.\n"
                   "\n"
                   "| key | type | default | range | description |\n"
                   "|-----|------|---------|-------|-------------|\n");
    for (size_t i = 0; i < NPROPS; i++) {
        const struct cfg_prop *p = &props[i];
        strbuf_printf(sb, "| `%s` | %s | ", p->name, type_name(p));
        if (p->flags & REQUIRED)
            strbuf_appends(sb, "required");
        else if (p->def)
            strbuf_printf(sb, "`%s`", p->def);
        strbuf_appends(sb, " | ");
        if (p->type == PT_U32 || p->type == PT_SERVER_ID)
            strbuf_printf(sb, "%llu-%llu", p->min, p->max);
        if (p->choices) {
            for (int c = 0; p->choices[c]; c++)
                strbuf_printf(sb, "%s`%s`", c ? ", " : "", p->choices[c]);
        }
        strbuf_printf(sb, " | %s |\n", p->desc);
    }
}

/* ---- secrets ----------------------------------------------------------------------------- */

char *config_read_secret_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *pw = xstrdup(buf);
    memset(buf, 0, sizeof(buf));
    return pw;
}

char *config_read_password(const struct config_instance *in, struct err *err)
{
    if (in->source.password)
        return xstrdup(in->source.password);
    if (in->source.password_file == NULL)
        return xstrdup("");
    char *pw = config_read_secret_file(in->source.password_file);
    if (pw == NULL)
        err_set(err, ERR_CONFIG, "instance \"%s\": could not read password_file \"%s\": %s",
                in->name, in->source.password_file, strerror(errno));
    return pw;
}
