/*
 * schema.h — the table schema a binlog is decoded with, when the binlog itself lacks it.
 *
 * MariaDB by default (binlog_row_metadata=MINIMAL/NO_LOG) and MySQL 5.7 write TABLE_MAP events
 * without column names, signedness, ENUM/SET strings or primary keys. A struct schema keeps a
 * model of every table it has seen (db, name, columns, primary key), loaded lazily from
 * information_schema and then kept up to date by the DDL statements of the binlog, so that
 * each event is decoded with the schema in force when it was written. Every change is a new
 * version, appended durably to a history file in the instance's schema directory, so a restart
 * from an old position restores the model of that position (schema_load).
 *
 * Every table map is cross-checked against the model (column count and types): a mismatch is
 * ERR_SCHEMA_MISMATCH naming the table, the binlog position and both column lists, never
 * wrongly labelled rows.
 *
 * Thread: one instance thread owns a struct schema; nothing here is thread-safe.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct table_map;

/* Where information_schema is read from. Strings are copied by schema_open. */
struct schema_conn {
    const char *host;
    unsigned port;
    const char *user;
    const char *password;
    int tls_mode; /* enum config_tls_mode, as the replica connection */
    const char *tls_ca, *tls_cert, *tls_key;
};

/* One column of the model. data_type is information_schema's DATA_TYPE, lower case ("int",
 * "varchar", "enum", "json", "longtext", ...); the DDL parser normalises synonyms to it. */
struct schema_col {
    char *name;
    char *data_type;
    bool is_unsigned;
    bool nullable;
    uint16_t collation; /* collation id, 0 when unknown */
    uint32_t precision; /* DECIMAL precision (0 when not a DECIMAL) */
    uint32_t scale;     /* DECIMAL scale */
    uint32_t nenums;    /* ENUM values / SET members */
    char **enums;       /* nenums NUL-terminated strings */
};

/* One table of the model. Owns everything it points to (schema_table_free). */
struct schema_table {
    char *db;
    char *name;
    uint32_t ncols;
    struct schema_col *cols;
    uint32_t npk;
    uint32_t *pk; /* primary key column indexes, in key order */
};

/* A copy of the history kept elsewhere (cluster mode: ZooKeeper, meta/zk.c), so that a daemon
 * taking the instance over decodes with the same versions. put gets each new record (its bytes
 * as in the history file) before the file does; when it fails nothing is appended and the
 * change that made the record fails with put's error. */
struct schema_mirror {
    int (*put)(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err);
    void *opaque;
};

/* Returns a new, closed-over schema for the instance's schema directory `dir` (created if
 * missing); conn is copied. Nothing is read until schema_load. Returns NULL with err filled
 * when the directory cannot be created. Caller frees with schema_free. */
struct schema *schema_open(const char *dir, const struct schema_conn *conn, struct err *err);
void schema_free(struct schema *s);

/* Called with a one-line warning (a DDL that could not be parsed, ...). msg is borrowed for
 * the call. */
void schema_set_warn(struct schema *s, void (*fn)(const char *msg, void *opaque), void *opaque);

/* Restores the model as it was at history version `version`: replays the stored records
 * 1..version and discards (truncates away) any record after it, since those belong to binlog
 * events after the restart position that will be read again. 0 = start empty (tables are loaded
 * lazily from information_schema when first needed). A torn last record (crash mid-append) is
 * dropped; a bad record before the last one is ERR_SCHEMA ("corrupt"); a version above the
 * stored ones is ERR_SCHEMA. If neither schema_load nor schema_load_latest was called, the
 * first use loads the latest stored version. */
int schema_load(struct schema *s, uint64_t version, struct err *err);
/* The schema version in force at binlog position (file, pos) by the records recs (back to
 * back, as schema_history_each gives them): how many leading records are of events before it.
 * A cut or malformed record ends the count. */
uint64_t schema_records_version_at(const void *recs, size_t len, const char *file, uint64_t pos);
/* The same over the history file of schema directory dir (read only). Returns 0 with *version
 * set, or ERR_IO / ERR_SCHEMA (no such file, not a history). */
int schema_history_version_at(
    const char *dir, const char *file, uint64_t pos, uint64_t *version, struct err *err);
/* Sets (m NULL: clears) the history's copy; m is copied. */
void schema_set_mirror(struct schema *s, const struct schema_mirror *m);
/* Replaces the history file by one holding recs (records 1..N back to back, as
 * schema_history_each gives them), written to a new file then renamed over it. The model is
 * not touched: schema_load follows. Returns 0 or ERR_IO. */
int schema_history_replace(struct schema *s, const void *recs, size_t len, struct err *err);
/* Calls fn with records 1..upto of the history file, in order, until it returns non-zero.
 * Returns fn's code, or an error when the file ends before upto. */
int schema_history_each(
    struct schema *s,
    uint64_t upto,
    int (*fn)(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err),
    void *opaque,
    struct err *err);
/* Restores the newest stored version (nothing discarded). */
int schema_load_latest(struct schema *s, struct err *err);
/* Restores the model in force just before the event at binlog position file:pos: the records of
 * events before it (DDL, and tables loaded at earlier table maps) are replayed, the rest are
 * discarded as schema_load does. Use it when the version saved with a position may be newer
 * than the position (see schema_version). File names compare by their numeric suffix. */
int schema_load_at(struct schema *s, const char *file, uint64_t pos, struct err *err);

/* The model's current history version (0 = nothing recorded yet): the version in force after
 * the last event given to schema_apply_query / schema_table_map. A position saved for a restart
 * must be saved with the version that was current when the event at that position was decoded
 * (not a later one: the DDL after it would then be applied twice), or restored with
 * schema_load_at instead. */
uint64_t schema_version(const struct schema *s);

/* Applies one query event (default db, statement text, not NUL-terminated) seen at binlog
 * position file:pos. Non-DDL statements are ignored quickly. A DDL that changes tables updates
 * the model, bumps the version and appends + fsyncs a history record before returning. A DDL
 * that cannot be parsed marks the tables it names (best effort) unknown, so they are reloaded
 * from information_schema on next use, and is reported through the warn callback.
 * Returns 1 when the model changed (drop the decoder's table-map cache), 0 when not, or a
 * negative code with err filled (ERR_SCHEMA, ERR_IO for the history file). */
int schema_apply_query(struct schema *s,
                       const char *db,
                       const char *sql,
                       size_t len,
                       const char *file,
                       uint64_t pos,
                       struct err *err);

/* A decoder_table_map_fn (decoder.h); opaque is the struct schema *. Completes a map that
 * lacks names/signedness/ENUM strings/primary key from the model (loading the table from
 * information_schema when it is not in the model), then cross-checks the column count and
 * each column type. Returns 0, ERR_SCHEMA_MISMATCH (message names the table, the position set
 * by schema_set_position and both column lists), ERR_SCHEMA_SOURCE (server unreachable,
 * retriable) or ERR_IO (history file). A map that carries names (full metadata) is only
 * cross-checked when the table is in the model, else trusted. */
int schema_table_map(struct table_map *tm, void *opaque, struct err *err);

/* The binlog position used in schema_table_map messages (file copied). */
void schema_set_position(struct schema *s, const char *file, uint64_t pos);

/* The model's table db.name, or NULL (borrowed, valid until the next call that changes the
 * model). */
const struct schema_table *schema_find(const struct schema *s, const char *db, const char *name);

/* ---- helpers shared with ddl.c and the tests ----------------------------------------------- */

void schema_table_free(struct schema_table *t);
/* Deep copy; caller frees with schema_table_free. */
struct schema_table *schema_table_dup(const struct schema_table *t);
void schema_col_clear(struct schema_col *c);
void schema_col_copy(struct schema_col *dst, const struct schema_col *src);

/* Fills c's ENUM/SET values from a column type text such as "enum('a','it''s')" (quotes
 * doubled or backslash-escaped). Returns 0, or -1 when the text is malformed. */
int schema_parse_enum_values(struct schema_col *c, const char *column_type);

/* Appends a short type name for messages ("int unsigned", "varchar", "enum"); for a binlog type
 * byte see schema_map_type_name. */
const char *schema_map_type_name(uint8_t type, uint8_t real_type);

/* True when a TABLE_MAP column (type byte, real type, metadata) can hold model column c. */
bool schema_type_matches(
    const struct schema_col *c, uint8_t type, uint8_t real_type, uint16_t meta, uint8_t meta_hi);

#endif
