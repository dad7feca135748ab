/*
 * change.h — one decoded item of the binlog stream: a row change, or (with all events on) a
 * transaction boundary, a DDL statement or a GTID. This is the contract between the decoder and
 * every output format and sink.
 *
 * Ownership: everything a struct change points to is borrowed from the decoder and valid only
 * during the emit callback; a sink that keeps anything copies it.
 */
#ifndef SLUICE_CHANGE_H
#define SLUICE_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

struct table_map;

enum change_kind {
    CHANGE_INSERT,
    CHANGE_UPDATE,
    CHANGE_DELETE,
    CHANGE_BEGIN, /* transaction start (BEGIN query, or a MariaDB GTID with the transaction flag) */
    CHANGE_COMMIT,   /* XID, or COMMIT query */
    CHANGE_DDL,      /* any other query event: DDL and statement-based DML */
    CHANGE_GTID,     /* a GTID event (MySQL, tagged MySQL, or MariaDB) */
    CHANGE_ROLLBACK, /* ROLLBACK / XA ROLLBACK query */
};

/* One column value in a row image: the JSON text of the value lives in change.text at
 * [off, off+len). Columns absent from the image (MINIMAL/NOBLOB) have no entry. */
struct change_col {
    uint32_t index; /* column index in the table, 0-based */
    uint32_t off;
    uint32_t len;
};

struct change_image {
    const struct change_col *cols;
    uint32_t ncols;
    /* When json_len > 0: text[json_off, json_off + json_len) is the whole image as the `json`
     * format's object ({"name":value,...}, the columns of cols in order), written by the
     * decoder so that rendering copies it once. Whoever changes cols sets json_len to 0. */
    uint32_t json_off, json_len;
};

struct change {
    enum change_kind kind;
    const char *db;               /* row changes and DDL; may be "" */
    const char *table;            /* row changes */
    const struct table_map *tmap; /* row changes: column names, types */
    uint32_t ts;                  /* event timestamp, seconds since the epoch */
    uint32_t server_id;
    bool mariadb;     /* written by a MariaDB server (its format description says so) */
    const char *file; /* binlog file name of the event ("binlog.000003") */
    uint64_t pos; /* offset of the event in that file (a payload's inner events: the payload's) */
    uint64_t next_pos; /* offset just past the event (position to resume after it) */
    uint32_t row;      /* row index within its rows event, 0-based */
    const char *gtid;  /* the transaction's GTID, NULL when none */
    bool xa; /* BEGIN of an XA transaction (XA START ... XA PREPARE / XA COMMIT ONE PHASE) */
    bool has_xid;
    uint64_t xid;
    struct change_image before; /* UPDATE: old row; DELETE: the deleted row */
    struct change_image after;  /* INSERT/UPDATE: the new row */
    /* JSON text of a PARTIAL_UPDATE diff per column, for when the before image lacks the JSON
     * column (MINIMAL): entries in `partial`, text in `text`. */
    struct change_image partial;
    const char *text; /* the arena that change_col offsets point into */
    const char *sql;  /* DDL / query text (not NUL-terminated), or NULL */
    uint32_t sql_len;
};

const char *change_kind_name(enum change_kind k);

#endif
