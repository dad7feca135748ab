/*
 * position_find.h — finding a place in a source server's binlog: by time (the first transaction
 * committed at or after a moment), the earliest position the server still has, and its current
 * end. Used by `sluice position reset`; each call opens its own connections to the server (a
 * plain SQL connection for SHOW BINARY LOGS / SHOW MASTER STATUS, non-blocking binlog dumps for
 * the events) and closes them before returning.
 *
 * Not thread-safe per call (no shared state between calls).
 */
#ifndef SLUICE_POSITION_FIND_H
#define SLUICE_POSITION_FIND_H

#include <stdint.h>
#include <stdio.h>

#include "binlog_conn.h"
#include "err.h"
#include "position.h"

/* Makes position_find_by_time() show what it reads on out (a terminal: one line rewritten in
 * place, cleared at the end); NULL (the default) keeps it quiet. Process-wide. */
void position_find_progress(FILE *out);

/* What position_find_by_time() found. */
enum position_find_result {
    POSITION_FIND_TXN,       /* the start of the first transaction committed at/after ts */
    POSITION_FIND_EARLIEST,  /* ts is before the first binlog file: its offset 4 */
    POSITION_FIND_NEXT_FILE, /* nothing committed at/after ts in the file: the next file, at 4 */
    POSITION_FIND_END,       /* nothing committed at/after ts at all: the end of the binlog */
};

struct position_find_stats {
    unsigned files;  /* binlog files read: probed for their start time or scanned */
    uint64_t events; /* events read from the server */
    uint64_t bytes;  /* bytes of those events */
    enum position_find_result result;
    int64_t first_ts;   /* when the server's first binlog file was started */
    uint32_t commit_ts; /* TXN: when the found transaction committed */
    char gtid[96];      /* TXN: the found transaction's GTID, "" when it has none */
    char scanned[POSITION_FILE_MAX + 1]; /* the file that was scanned, "" when none */
};

/* Finds the first transaction whose commit (XID, COMMIT query, or a DDL outside a transaction)
 * has an event timestamp >= ts (seconds since the epoch, UTC), and puts the position of its
 * start (its GTID event, else its BEGIN or the statement) in *out (initialised by the caller;
 * replaced on success), with the GTID set executed before it when the server writes one
 * (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS without tags; else the set is left empty) and ts
 * the timestamp of that first event.
 *
 * How: SHOW BINARY LOGS; a binary search over the files by the timestamp of each one's
 * FORMAT_DESCRIPTION (when it was started) for the last file started before ts; then that
 * file is decoded from offset 4 to its ROTATE. When ts is before the first file started, *out
 * is the first file at offset 4 (gtid empty); when the file holds no such transaction, the
 * next file at offset 4 (or the end of the binlog when it was the last file), with the GTID
 * set at that place. The search assumes event timestamps do not go backwards across files.
 *
 * o gives the server and credentials (start_file, start_pos, gtid, non_blocking and
 * heartbeat_ms are ignored); it is borrowed for the call. stats (may be NULL) is filled even
 * on error (what was read until then). Returns 0, or a negative code with err filled:
 * ERR_BINLOG_CONNECT and ERR_BINLOG_* from the connection, ERR_DECODE* from the decoder, the
 * message naming the file. */
int position_find_by_time(const struct binlog_conn_opts *o,
                          int64_t ts,
                          struct position *out,
                          struct position_find_stats *stats,
                          struct err *err);

/* The first file SHOW BINARY LOGS lists, at offset 4; gtid empty, ts 0. Returns 0 or a negative
 * code with err filled (ERR_BINLOG_CONNECT; ERR_BINLOG_SERVER_SETUP when no file is listed). */
int position_find_earliest(const struct binlog_conn_opts *o, struct position *out, struct err *err);

/* The server's current end of binlog: file and position of SHOW MASTER STATUS (SHOW BINARY LOG
 * STATUS on MySQL 8.4+), with @@gtid_binlog_pos (MariaDB) or @@gtid_executed (MySQL) as the
 * GTID set; ts 0. Returns 0 or a negative code with err filled (ERR_BINLOG_CONNECT;
 * ERR_BINLOG_SERVER_SETUP when binary logging is off; ERR_POS_GTID for an unreadable set). */
int position_find_latest(const struct binlog_conn_opts *o, struct position *out, struct err *err);

#endif
