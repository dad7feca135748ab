/*
 * err.h — sluice's one error type.
 *
 * Fallible functions return 0 or a negative enum err_code and take `struct err *err` last;
 * err_set() fills it (NULL-safe, printf-style). Codes are ranged by origin so a code alone
 * tells where it came from. Messages are lower case, name the thing in quotes, cause last.
 */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

#include <stdbool.h>

#define ERR_CODES(X)                                                                               \
    X(ERR_OK, 0, "success")                                                                        \
    X(ERR_USAGE, -1, "bad command-line usage")                                                     \
    X(ERR_IO, -2, "input/output error")                                                            \
    X(ERR_NOMEM, -3, "out of memory")                                                              \
    X(ERR_CONFIG, -100, "configuration error")                                                     \
    X(ERR_BINLOG_MAGIC, -200, "not a binlog file (bad magic)")                                     \
    X(ERR_BINLOG_TRUNCATED, -201, "truncated event")                                               \
    X(ERR_BINLOG_CHECKSUM, -202, "event checksum mismatch")                                        \
    X(ERR_BINLOG_LENGTH, -203, "bad event length")                                                 \
    X(ERR_BINLOG_ENCRYPTED, -204, "encrypted binlog")                                              \
    X(ERR_BINLOG_CONNECT, -210, "could not connect to the server")                                 \
    X(ERR_BINLOG_SERVER_SETUP, -211, "server not set up for row-based replication")                \
    X(ERR_BINLOG_PURGED, -212, "binlog position no longer on the server")                          \
    X(ERR_BINLOG_STREAM, -213, "replication stream error")                                         \
    X(ERR_DECODE, -300, "malformed event")                                                         \
    X(ERR_DECODE_UNSUPPORTED, -301, "unsupported event content")                                   \
    X(ERR_DECODE_NO_TABLE_MAP, -302, "rows event without its table map")                           \
    X(ERR_SINK, -400, "sink error")                                                                \
    X(ERR_SINK_IO, -401, "sink could not write")                                                   \
    X(ERR_SINK_FORMAT, -402, "output format not available for this sink")                          \
    X(ERR_POS_STORE, -500, "position store error")                                                 \
    X(ERR_POS_GTID, -501, "malformed gtid set")                                                    \
    X(ERR_POS_CORRUPT, -502, "corrupt position record")                                            \
    X(ERR_POS_STALE, -503, "position record changed by another owner")                             \
    X(ERR_POS_LOCKED, -504, "instance is in use by a running daemon")                              \
    X(ERR_SCHEMA, -600, "schema error")                                                            \
    X(ERR_SCHEMA_MISMATCH, -601, "table map does not match the schema")                            \
    X(ERR_SCHEMA_SOURCE, -602, "could not read the schema from the server")                        \
    X(ERR_DDL_PARSE, -603, "could not parse a DDL statement")                                      \
    X(ERR_INSTANCE, -700, "instance error")                                                        \
    X(ERR_INSTANCE_IDENTITY, -701, "source server identity changed")                               \
    X(ERR_HANDOVER, -702, "instance handed over to another daemon")

enum err_code {
#define ERR_ENUM(name, val, text) name = val,
    ERR_CODES(ERR_ENUM)
#undef ERR_ENUM
};

struct err {
    int code;       /* enum err_code, 0 when no error */
    bool retriable; /* the same call may succeed later */
    bool fatal;     /* the caller must stop */
    char msg[256];
};

/* Fills *err (when err is non-NULL) and returns code, so callers can `return err_set(...)`. */
int err_set(struct err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Clears *err (NULL-safe). */
void err_clear(struct err *err);

/* The fixed text of a code ("truncated event"); never NULL. */
const char *err_code_str(int code);

#endif
