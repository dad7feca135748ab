/*
 * binlog_event.h — binlog event type codes, the common event header, the format description
 * event, and little-endian / packed-integer readers shared by every event parser.
 *
 * References: MySQL "Binlog Event" protocol pages and libbinlogevents headers; MariaDB
 * "Replication Protocol" pages. Binlog format v4 only (MySQL >= 5.0): v1/v3 (MySQL 3.23/4.0)
 * are refused with a clear error.
 */
#ifndef SLUICE_BINLOG_EVENT_H
#define SLUICE_BINLOG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "err.h"

#define BINLOG_MAGIC        "\xfe\x62\x69\x6e"
#define BINLOG_MAGIC_LEN    4
#define BINLOG_HEADER_LEN   19 /* v4 common header */
#define BINLOG_CHECKSUM_LEN 4

/* Event type codes (MySQL 0..42, MariaDB 160..). X(name, code) */
#define BINLOG_EVENT_TYPES(X)                                                                      \
    X(UNKNOWN, 0)                                                                                  \
    X(START_V3, 1)                                                                                 \
    X(QUERY, 2)                                                                                    \
    X(STOP, 3)                                                                                     \
    X(ROTATE, 4)                                                                                   \
    X(INTVAR, 5)                                                                                   \
    X(LOAD, 6)                                                                                     \
    X(SLAVE, 7)                                                                                    \
    X(CREATE_FILE, 8)                                                                              \
    X(APPEND_BLOCK, 9)                                                                             \
    X(EXEC_LOAD, 10)                                                                               \
    X(DELETE_FILE, 11)                                                                             \
    X(NEW_LOAD, 12)                                                                                \
    X(RAND, 13)                                                                                    \
    X(USER_VAR, 14)                                                                                \
    X(FORMAT_DESCRIPTION, 15)                                                                      \
    X(XID, 16)                                                                                     \
    X(BEGIN_LOAD_QUERY, 17)                                                                        \
    X(EXECUTE_LOAD_QUERY, 18)                                                                      \
    X(TABLE_MAP, 19)                                                                               \
    X(PRE_GA_WRITE_ROWS, 20)                                                                       \
    X(PRE_GA_UPDATE_ROWS, 21)                                                                      \
    X(PRE_GA_DELETE_ROWS, 22)                                                                      \
    X(WRITE_ROWS_V1, 23)                                                                           \
    X(UPDATE_ROWS_V1, 24)                                                                          \
    X(DELETE_ROWS_V1, 25)                                                                          \
    X(INCIDENT, 26)                                                                                \
    X(HEARTBEAT, 27)                                                                               \
    X(IGNORABLE, 28)                                                                               \
    X(ROWS_QUERY, 29)                                                                              \
    X(WRITE_ROWS_V2, 30)                                                                           \
    X(UPDATE_ROWS_V2, 31)                                                                          \
    X(DELETE_ROWS_V2, 32)                                                                          \
    X(GTID, 33)                                                                                    \
    X(ANONYMOUS_GTID, 34)                                                                          \
    X(PREVIOUS_GTIDS, 35)                                                                          \
    X(TRANSACTION_CONTEXT, 36)                                                                     \
    X(VIEW_CHANGE, 37)                                                                             \
    X(XA_PREPARE, 38)                                                                              \
    X(PARTIAL_UPDATE_ROWS, 39)                                                                     \
    X(TRANSACTION_PAYLOAD, 40)                                                                     \
    X(HEARTBEAT_V2, 41)                                                                            \
    X(GTID_TAGGED, 42)                                                                             \
    X(MARIA_ANNOTATE_ROWS, 160)                                                                    \
    X(MARIA_BINLOG_CHECKPOINT, 161)                                                                \
    X(MARIA_GTID, 162)                                                                             \
    X(MARIA_GTID_LIST, 163)                                                                        \
    X(MARIA_START_ENCRYPTION, 164)                                                                 \
    X(MARIA_QUERY_COMPRESSED, 165)                                                                 \
    X(MARIA_WRITE_ROWS_COMPRESSED_V1, 166)                                                         \
    X(MARIA_UPDATE_ROWS_COMPRESSED_V1, 167)                                                        \
    X(MARIA_DELETE_ROWS_COMPRESSED_V1, 168)                                                        \
    X(MARIA_WRITE_ROWS_COMPRESSED, 169)                                                            \
    X(MARIA_UPDATE_ROWS_COMPRESSED, 170)                                                           \
    X(MARIA_DELETE_ROWS_COMPRESSED, 171)

enum binlog_event_type {
#define BINLOG_EV_ENUM(name, code) BINLOG_EV_##name = code,
    BINLOG_EVENT_TYPES(BINLOG_EV_ENUM)
#undef BINLOG_EV_ENUM
};

/* True for the events that begin an event group (a transaction): the GTID events of MySQL
 * (also anonymous and tagged) and MariaDB. */
static inline bool binlog_event_starts_group(uint8_t type)
{
    return type == BINLOG_EV_GTID || type == BINLOG_EV_ANONYMOUS_GTID ||
           type == BINLOG_EV_GTID_TAGGED || type == BINLOG_EV_MARIA_GTID;
}

/* Header flag: the event may be ignored by a reader that does not know its type. */
#define BINLOG_EV_FLAG_IGNORABLE 0x80

enum binlog_checksum_alg {
    BINLOG_CHECKSUM_OFF = 0,
    BINLOG_CHECKSUM_CRC32 = 1,
    BINLOG_CHECKSUM_UNDEF = 255, /* FDE from a server older than 5.6.1: no checksums */
};

struct binlog_header {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t event_len;
    uint32_t log_pos; /* position of the next event (0 in some MariaDB 11.4 transactions) */
    uint16_t flags;
};

struct binlog_fde {
    uint16_t binlog_version;
    char server_version[51];
    uint32_t create_ts;
    uint8_t header_len;
    uint8_t post_header_len[256]; /* by event type; 0 when the FDE does not list it */
    uint8_t checksum_alg;         /* enum binlog_checksum_alg */
    bool mariadb;
};

/* Name of an event type ("WRITE_ROWS_V2"); NULL for codes sluice does not know. */
const char *binlog_event_type_name(unsigned type);

/* The name, or "TYPE_<code>" written into buf (n >= 10) for an unknown code. */
const char *binlog_event_type_label(unsigned type, char *buf, size_t n);

/* Parses the 19-byte header at p (len >= 19). */
void binlog_header_parse(const uint8_t *p, struct binlog_header *h);

/* Parses a FORMAT_DESCRIPTION event body (after the common header, checksum included in len
 * when present). Returns 0 or ERR_DECODE. */
int binlog_fde_parse(const uint8_t *body, size_t len, struct binlog_fde *fde, struct err *err);

/* A default FDE for a v4 stream before its FORMAT_DESCRIPTION arrives. */
void binlog_fde_default(struct binlog_fde *fde);

/* Reads a packed (length-encoded) integer at *p, not past end. Returns 0 and advances *p, or
 * -1 when the bytes run out or the first byte is 0xfb/0xff (not valid here). */
int binlog_read_packed(const uint8_t **p, const uint8_t *end, uint64_t *out);

#endif
