/*
 * table_map.h — a parsed TABLE_MAP event: the table's name, column types and metadata, and the
 * optional metadata MySQL 8 / MariaDB 10.5+ write with binlog_row_metadata (column names,
 * signedness, charsets, ENUM/SET strings, primary key, visibility, vector dimensions).
 *
 * A struct table_map owns all its memory; table_map_free() releases it.
 */
#ifndef SLUICE_TABLE_MAP_H
#define SLUICE_TABLE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct table_map_strs {
    uint32_t n;
    char **v; /* n NUL-terminated strings */
    uint32_t *len;
};

struct table_map_col {
    uint8_t type;      /* type byte from the event (enum mysql_type) */
    uint8_t real_type; /* STRING resolved to ENUM/SET/STRING; otherwise == type */
    uint16_t meta;     /* metadata; for STRING/ENUM/SET: max byte length / pack length */
    uint8_t meta_hi;   /* NEWDECIMAL precision, BIT bytes, STRING real type byte */
    bool nullable;
    bool is_unsigned; /* from SIGNEDNESS */
    bool is_pk;
    bool has_visibility;
    bool visible;
    uint16_t collation; /* character columns (and ENUM/SET): collation id, 0 when unknown */
    uint32_t vector_dim;
    uint32_t geometry_type;
    char *name;     /* NULL when the binlog has no names */
    char *json_key; /* "name": or "@N": as JSON, ready to copy */
    uint32_t json_key_len;
    struct table_map_strs enums; /* ENUM values, or SET members */
};

struct table_map {
    uint64_t table_id;
    uint16_t flags;
    char *db;
    char *table;
    uint32_t ncols;
    struct table_map_col *cols;
    uint32_t njson; /* JSON columns, for PARTIAL_UPDATE bitmaps */
    uint32_t *pk;   /* primary key column indexes, in key order */
    uint32_t npk;
    bool has_optional_meta;
    bool has_names;
    bool has_signedness;
    bool mariadb;
    char *json_db_table; /* ,"db":"...","table":"..." as JSON, ready to copy */
    uint32_t json_db_table_len;
    /* The raw event body, to reuse this parse when the same map is sent again. */
    uint8_t *raw;
    size_t raw_len;
    /* The canal format's mysqlType object for a full row image, built by the first change
     * rendered (format_canal.c, on the thread that renders this map's changes); the setters
     * below drop it. NULL until then. */
    char *canal_types;
    uint32_t canal_types_len;
};

/* Parses a TABLE_MAP body (post-header included, checksum excluded). post_header_len is the
 * FDE's length for TABLE_MAP (6 on MySQL 5.1.x servers with 4-byte table ids, else 8).
 * mariadb: the event comes from a MariaDB server, whose charset metadata also lists
 * GEOMETRY columns (MySQL's lists only CHAR/VARCHAR/BLOB/TEXT).
 * Returns a new map (caller frees with table_map_free) or NULL with err filled. */
struct table_map *table_map_parse(
    const uint8_t *body, size_t len, unsigned post_header_len, bool mariadb, struct err *err);
void table_map_free(struct table_map *tm);

/* Completing a map from a schema (schema.c), for binlogs written without full metadata. Each
 * setter copies what it is given; i < tm->ncols. */
/* Sets column i's name and rebuilds its json_key ("name":). Sets has_names once every column
 * has a name. */
void table_map_set_col_name(struct table_map *tm, uint32_t i, const char *name);
/* Replaces column i's ENUM values / SET members with v[0..n). */
void table_map_set_col_enums(struct table_map *tm, uint32_t i, char *const *v, uint32_t n);
/* Replaces the primary key with the column indexes cols[0..n) (each < ncols), in key order. */
void table_map_set_pk(struct table_map *tm, const uint32_t *cols, uint32_t n);

/* True for the column types the SIGNEDNESS metadata covers (integers, DECIMAL, FLOAT, DOUBLE). */
bool table_map_type_is_numeric(uint8_t type);

/* Table id from a TABLE_MAP or ROWS post-header. */
uint64_t table_map_read_id(const uint8_t *body, unsigned post_header_len);

#endif
