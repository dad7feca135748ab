/*
 * schema.c — the per-instance table schema: a model of each table (columns, types, signedness,
 * ENUM/SET values, collation, primary key) that completes and checks TABLE_MAP events.
 *
 * Where the model comes from:
 *   - information_schema (COLUMNS joined with COLLATIONS, STATISTICS for the primary key), the
 *     first time a table is needed and not in the model ("loaded" record);
 *   - the DDL statements of the binlog (ddl.c), applied in stream order, so that each event is
 *     decoded with the definition in force when it was written ("ddl" record).
 * A DDL the parser cannot follow removes the tables it names from the model ("unknown"): they
 * are loaded again from the server on next use, and a warning says so.
 *
 * History file DIR/history (append-only, little-endian), one record per model change:
 *   file   := magic "SLSCHEM1" record*
 *   record := u32 payload_len, u32 crc32c(payload), payload
 *   payload:= u8 kind (1 ddl, 2 loaded), u64 version, str binlog_file, u64 binlog_pos,
 *             str db, str sql, u32 nchanges, change*
 *   change := u8 op (1 put, 2 remove), str db, str table, [put: tabledef]
 *   tabledef := u32 ncols, col*, u32 npk, u32 pk_index*
 *   col    := str name, str data_type, u8 flags (1 unsigned, 2 nullable), u16 collation,
 *             u32 precision, u32 scale, u32 nenums, str value*
 *   str    := u32 len, bytes (no NUL)
 * Each record carries the full definitions of the tables it touched (after the change), so
 * restoring version V replays the changes of records 1..V without parsing SQL again. Versions
 * are consecutive from 1. A record cut short or with a bad CRC at the end of the file is a torn
 * append (crash) and is dropped; a bad record followed by more data is corruption (ERR_SCHEMA).
 * Every append is fsynced before the call that made it returns; the directory is fsynced when
 * the file is created. schema_load(V) truncates the file after record V: later records belong
 * to binlog events after the restart position, which will be applied again.
 *
 * Invariants: version == number of records in the file == number of the last applied record;
 * the model holds each (db, table) at most once (names compared exactly, as on Linux servers;
 * column names case-insensitively, as the server does).
 *
 * Thread: one instance thread owns a struct schema (and its libmariadb connection).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>

#include "bytes.h"
#include "crc32c.h"
#include "ddl.h"
#include "mysql_types.h"
#include "binlog_conn.h"
#include "fsutil.h"
#include "position.h"
#include "schema.h"
#include "strbuf.h"
#include "table_map.h"
#include "xmalloc.h"

#define HISTORY_MAGIC     "SLSCHEM1"
#define HISTORY_MAGIC_LEN 8
#define REC_DDL           1
#define REC_LOADED        2
#define CHG_PUT           1
#define CHG_REMOVE        2

struct schema {
    char *dir;
    char *path; /* DIR/history */
    char *host, *user, *password;
    int tls_mode;
    char *tls_ca, *tls_cert, *tls_key;
    unsigned port;
    MYSQL *my; /* NULL until first needed, and after a failure */
    struct schema_table **tables;
    uint32_t ntables, cap;
    uint64_t version;
    bool loaded;
    int fd; /* history, open for appending; -1 until the first append */
    void (*warn)(const char *msg, void *opaque);
    void *warn_opaque;
    struct schema_mirror mirror; /* put NULL: none */
    char *pos_file;
    uint64_t pos;
};

/* ------------------------------------------------------------------------------------------ */
/* Tables and columns                                                                          */

void schema_col_clear(struct schema_col *c)
{
    free(c->name);
    free(c->data_type);
    for (uint32_t i = 0; i < c->nenums; i++)
        free(c->enums[i]);
    free(c->enums);
    memset(c, 0, sizeof(*c));
}

void schema_col_copy(struct schema_col *dst, const struct schema_col *src)
{
    *dst = *src;
    dst->name = src->name ? xstrdup(src->name) : NULL;
    dst->data_type = src->data_type ? xstrdup(src->data_type) : NULL;
    dst->enums = NULL;
    if (src->nenums) {
        dst->enums = xcalloc(src->nenums, sizeof(char *));
        for (uint32_t i = 0; i < src->nenums; i++)
            dst->enums[i] = xstrdup(src->enums[i]);
    }
}

void schema_table_free(struct schema_table *t)
{
    if (t == NULL)
        return;
    free(t->db);
    free(t->name);
    for (uint32_t i = 0; i < t->ncols; i++)
        schema_col_clear(&t->cols[i]);
    free(t->cols);
    free(t->pk);
    free(t);
}

struct schema_table *schema_table_dup(const struct schema_table *t)
{
    struct schema_table *d = xcalloc(1, sizeof(*d));
    d->db = xstrdup(t->db);
    d->name = xstrdup(t->name);
    d->ncols = t->ncols;
    d->cols = xcalloc(t->ncols ? t->ncols : 1, sizeof(*d->cols));
    for (uint32_t i = 0; i < t->ncols; i++)
        schema_col_copy(&d->cols[i], &t->cols[i]);
    d->npk = t->npk;
    d->pk = xcalloc(t->npk ? t->npk : 1, sizeof(uint32_t));
    if (t->npk)
        memcpy(d->pk, t->pk, t->npk * sizeof(uint32_t));
    return d;
}

int schema_parse_enum_values(struct schema_col *c, const char *ct)
{
    const char *p = strchr(ct, '(');
    if (p == NULL)
        return -1;
    p++;
    struct strbuf v = {0};
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        if (*p != '\'') {
            strbuf_free(&v);
            return -1;
        }
        p++;
        strbuf_reset(&v);
        for (;;) {
            if (*p == '\0') {
                strbuf_free(&v);
                return -1;
            }
            if (*p == '\'' && p[1] == '\'') {
                strbuf_appendc(&v, '\'');
                p += 2;
            } else if (*p == '\\' && p[1] != '\0') {
                strbuf_appendc(&v, p[1]);
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else {
                strbuf_appendc(&v, *p++);
            }
        }
        c->enums = xrealloc(c->enums, (c->nenums + 1) * sizeof(char *));
        c->enums[c->nenums++] = xstrndup(v.buf ? v.buf : "", v.len);
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')') {
            strbuf_free(&v);
            return -1;
        }
    }
    strbuf_free(&v);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                       */

const char *schema_map_type_name(uint8_t type, uint8_t real_type)
{
    switch (type) {
    case MYSQL_T_DECIMAL:
    case MYSQL_T_NEWDECIMAL:
        return "decimal";
    case MYSQL_T_TINY:
        return "tinyint";
    case MYSQL_T_SHORT:
        return "smallint";
    case MYSQL_T_LONG:
        return "int";
    case MYSQL_T_FLOAT:
        return "float";
    case MYSQL_T_DOUBLE:
        return "double";
    case MYSQL_T_NULL:
        return "null";
    case MYSQL_T_TIMESTAMP:
    case MYSQL_T_TIMESTAMP2:
        return "timestamp";
    case MYSQL_T_LONGLONG:
        return "bigint";
    case MYSQL_T_INT24:
        return "mediumint";
    case MYSQL_T_DATE:
    case MYSQL_T_NEWDATE:
        return "date";
    case MYSQL_T_TIME:
    case MYSQL_T_TIME2:
        return "time";
    case MYSQL_T_DATETIME:
    case MYSQL_T_DATETIME2:
        return "datetime";
    case MYSQL_T_YEAR:
        return "year";
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
        return "varchar";
    case MYSQL_T_VARCHAR_COMPRESSED:
        return "varchar compressed";
    case MYSQL_T_BIT:
        return "bit";
    case MYSQL_T_JSON:
        return "json";
    case MYSQL_T_ENUM:
        return "enum";
    case MYSQL_T_SET:
        return "set";
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_BLOB:
        return "blob";
    case MYSQL_T_BLOB_COMPRESSED:
        return "blob compressed";
    case MYSQL_T_STRING:
        return real_type == MYSQL_T_ENUM ? "enum" : real_type == MYSQL_T_SET ? "set" : "char";
    case MYSQL_T_GEOMETRY:
        return "geometry";
    case MYSQL_T_VECTOR:
        return "vector";
    }
    return "unknown";
}

static bool dt_in(const char *dt, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(dt, *list) == 0)
            return true;
    return false;
}

static bool is_blob_type(uint8_t t)
{
    return t == MYSQL_T_BLOB || t == MYSQL_T_TINY_BLOB || t == MYSQL_T_MEDIUM_BLOB ||
           t == MYSQL_T_LONG_BLOB || t == MYSQL_T_BLOB_COMPRESSED;
}

static bool is_varchar_type(uint8_t t)
{
    return t == MYSQL_T_VARCHAR || t == MYSQL_T_VAR_STRING || t == MYSQL_T_VARCHAR_COMPRESSED;
}

/* Which TABLE_MAP type bytes each DATA_TYPE may be logged as. Servers differ: temporal types
 * come as the old (TIMESTAMP, DATETIME, TIME) or the fractional (…2) codes depending on when
 * the column was created; every BLOB/TEXT is BLOB with a pack length; CHAR, ENUM and SET share
 * STRING, told apart by the real type in the metadata; MariaDB logs JSON (a LONGTEXT) as BLOB,
 * MySQL as JSON; BOOL is TINYINT. DECIMAL must also agree on precision and scale, since they
 * decide the value's byte layout. */
bool schema_type_matches(
    const struct schema_col *c, uint8_t type, uint8_t real_type, uint16_t meta, uint8_t meta_hi)
{
    static const char *const texts[] = {"tinytext",   "text",     "mediumtext",
                                        "longtext",   "tinyblob", "blob",
                                        "mediumblob", "longblob", NULL};
    static const char *const geoms[] = {
        "geometry",        "point",        "linestring",         "polygon", "multipoint",
        "multilinestring", "multipolygon", "geometrycollection", NULL};
    static const char *const fixed[] = {"char", "binary", NULL};
    static const char *const plugin[] = {"inet4", "inet6", "uuid", NULL};
    const char *dt = c->data_type ? c->data_type : "";
    if (strcmp(dt, "tinyint") == 0)
        return type == MYSQL_T_TINY;
    if (strcmp(dt, "smallint") == 0)
        return type == MYSQL_T_SHORT;
    if (strcmp(dt, "mediumint") == 0)
        return type == MYSQL_T_INT24;
    if (strcmp(dt, "int") == 0)
        return type == MYSQL_T_LONG;
    if (strcmp(dt, "bigint") == 0)
        return type == MYSQL_T_LONGLONG;
    if (strcmp(dt, "decimal") == 0)
        return type == MYSQL_T_NEWDECIMAL &&
               (c->precision == 0 || (meta_hi == c->precision && meta == c->scale));
    if (strcmp(dt, "float") == 0)
        return type == MYSQL_T_FLOAT;
    if (strcmp(dt, "double") == 0)
        return type == MYSQL_T_DOUBLE;
    if (strcmp(dt, "bit") == 0)
        return type == MYSQL_T_BIT;
    if (strcmp(dt, "date") == 0)
        return type == MYSQL_T_DATE || type == MYSQL_T_NEWDATE;
    if (strcmp(dt, "time") == 0)
        return type == MYSQL_T_TIME || type == MYSQL_T_TIME2;
    if (strcmp(dt, "datetime") == 0)
        return type == MYSQL_T_DATETIME || type == MYSQL_T_DATETIME2;
    if (strcmp(dt, "timestamp") == 0)
        return type == MYSQL_T_TIMESTAMP || type == MYSQL_T_TIMESTAMP2;
    if (strcmp(dt, "year") == 0)
        return type == MYSQL_T_YEAR;
    if (strcmp(dt, "varchar") == 0 || strcmp(dt, "varbinary") == 0)
        return is_varchar_type(type);
    if (dt_in(dt, fixed))
        return (type == MYSQL_T_STRING && real_type == MYSQL_T_STRING) ||
               type == MYSQL_T_VAR_STRING;
    if (dt_in(dt, texts))
        return is_blob_type(type);
    if (strcmp(dt, "json") == 0) /* MySQL: binary JSON; MariaDB: LONGTEXT */
        return type == MYSQL_T_JSON || is_blob_type(type);
    if (strcmp(dt, "enum") == 0)
        return real_type == MYSQL_T_ENUM;
    if (strcmp(dt, "set") == 0)
        return real_type == MYSQL_T_SET;
    if (dt_in(dt, geoms))
        return type == MYSQL_T_GEOMETRY;
    if (dt_in(dt, plugin))
        return type == MYSQL_T_STRING || is_varchar_type(type);
    if (strcmp(dt, "vector") == 0)
        return type == MYSQL_T_VECTOR || is_varchar_type(type) || type == MYSQL_T_STRING;
    return true; /* a type this build does not know: nothing to check it against */
}

/* ------------------------------------------------------------------------------------------ */
/* The model                                                                                   */

/* Linear: the hook runs once per new TABLE_MAP (the decoder caches them), not per row. */
static int find_idx(const struct schema *s, const char *db, const char *name)
{
    for (uint32_t i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i]->db, db) == 0 && strcmp(s->tables[i]->name, name) == 0)
            return (int)i;
    return -1;
}

const struct schema_table *schema_find(const struct schema *s, const char *db, const char *name)
{
    int i = find_idx(s, db, name);
    return i < 0 ? NULL : s->tables[i];
}

/* Puts t in the model (takes ownership), replacing a table of the same name. */
static void model_put(struct schema *s, struct schema_table *t)
{
    int i = find_idx(s, t->db, t->name);
    if (i >= 0) {
        schema_table_free(s->tables[i]);
        s->tables[i] = t;
        return;
    }
    if (s->ntables == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->tables = xrealloc(s->tables, s->cap * sizeof(*s->tables));
    }
    s->tables[s->ntables++] = t;
}

/* Removes db.name; returns whether it was there. */
static bool model_remove(struct schema *s, const char *db, const char *name)
{
    int i = find_idx(s, db, name);
    if (i < 0)
        return false;
    schema_table_free(s->tables[i]);
    s->tables[i] = s->tables[--s->ntables];
    return true;
}

static void model_clear(struct schema *s)
{
    for (uint32_t i = 0; i < s->ntables; i++)
        schema_table_free(s->tables[i]);
    s->ntables = 0;
}

static void warnf(struct schema *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct schema *s, const char *fmt, ...)
{
    if (s->warn == NULL)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->warn(buf, s->warn_opaque);
}

/* ------------------------------------------------------------------------------------------ */
/* Open / free                                                                                 */

/* mkdir -p: every missing level of dir, 0755. */
struct schema *schema_open(const char *dir, const struct schema_conn *conn, struct err *err)
{
    if (fs_mkdirs(dir, NULL) != 0) {
        err_set(err, ERR_SCHEMA, "could not create schema directory \"%s\": %s", dir,
                strerror(errno));
        return NULL;
    }
    struct schema *s = xcalloc(1, sizeof(*s));
    s->dir = xstrdup(dir);
    size_t n = strlen(dir) + sizeof("/history");
    s->path = xmalloc(n);
    snprintf(s->path, n, "%s/history", dir);
    if (conn) {
        s->host = conn->host ? xstrdup(conn->host) : NULL;
        s->user = conn->user ? xstrdup(conn->user) : NULL;
        s->password = conn->password ? xstrdup(conn->password) : NULL;
        s->port = conn->port;
        s->tls_mode = conn->tls_mode;
        s->tls_ca = conn->tls_ca ? xstrdup(conn->tls_ca) : NULL;
        s->tls_cert = conn->tls_cert ? xstrdup(conn->tls_cert) : NULL;
        s->tls_key = conn->tls_key ? xstrdup(conn->tls_key) : NULL;
    }
    s->fd = -1;
    return s;
}

void schema_free(struct schema *s)
{
    if (s == NULL)
        return;
    if (s->my)
        mysql_close(s->my);
    if (s->fd >= 0)
        close(s->fd);
    model_clear(s);
    free(s->tables);
    free(s->dir);
    free(s->path);
    free(s->host);
    free(s->user);
    free(s->password);
    free(s->tls_ca);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->pos_file);
    free(s);
}

void schema_set_warn(struct schema *s, void (*fn)(const char *msg, void *opaque), void *opaque)
{
    s->warn = fn;
    s->warn_opaque = opaque;
}

uint64_t schema_version(const struct schema *s)
{
    return s->version;
}

void schema_set_position(struct schema *s, const char *file, uint64_t pos)
{
    if (file && (s->pos_file == NULL || strcmp(s->pos_file, file) != 0)) {
        free(s->pos_file);
        s->pos_file = xstrdup(file);
    }
    s->pos = pos;
}

/* ------------------------------------------------------------------------------------------ */
/* History: encoding                                                                           */

/* Little-endian writers and bounds-checked readers of the record encoding (see the top of the
 * file). A reader that runs out sets `bad` and returns zeros, so a record is decoded in one pass
 * and judged once at the end. */
static void put_u32(struct strbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    strbuf_append(b, x, 4);
}

static void put_u64(struct strbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(struct strbuf *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    strbuf_append(b, s ? s : "", n);
}

static void put_cstr(struct strbuf *b, const char *s)
{
    put_str(b, s, s ? strlen(s) : 0);
}

static void put_table(struct strbuf *b, const struct schema_table *t)
{
    put_u32(b, t->ncols);
    for (uint32_t i = 0; i < t->ncols; i++) {
        const struct schema_col *c = &t->cols[i];
        put_cstr(b, c->name);
        put_cstr(b, c->data_type);
        strbuf_appendc(b, (char)((c->is_unsigned ? 1 : 0) | (c->nullable ? 2 : 0)));
        strbuf_appendc(b, (char)(c->collation & 0xff));
        strbuf_appendc(b, (char)(c->collation >> 8));
        put_u32(b, c->precision);
        put_u32(b, c->scale);
        put_u32(b, c->nenums);
        for (uint32_t k = 0; k < c->nenums; k++)
            put_cstr(b, c->enums[k]);
    }
    put_u32(b, t->npk);
    for (uint32_t k = 0; k < t->npk; k++)
        put_u32(b, t->pk[k]);
}

struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static uint32_t get_u32(struct rd *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                 (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static uint8_t get_u8(struct rd *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static char *get_str(struct rd *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
        return xstrdup("");
    }
    char *s = xstrndup((const char *)r->p, n);
    r->p += n;
    return s;
}

/* A tabledef; takes ownership of db and name. On r->bad the table is partial but freeable. */
static struct schema_table *get_table(struct rd *r, char *db, char *name)
{
    struct schema_table *t = xcalloc(1, sizeof(*t));
    t->db = db;
    t->name = name;
    uint32_t n = get_u32(r);
    if (n > (size_t)(r->end - r->p))
        r->bad = true;
    if (r->bad)
        return t;
    t->cols = xcalloc(n ? n : 1, sizeof(*t->cols));
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        struct schema_col *c = &t->cols[i];
        t->ncols = i + 1;
        c->name = get_str(r);
        c->data_type = get_str(r);
        uint8_t f = get_u8(r);
        c->is_unsigned = f & 1;
        c->nullable = (f & 2) != 0;
        c->collation = get_u8(r);
        c->collation |= (uint16_t)(get_u8(r) << 8);
        c->precision = get_u32(r);
        c->scale = get_u32(r);
        uint32_t ne = get_u32(r);
        if (ne > (size_t)(r->end - r->p)) {
            r->bad = true;
            break;
        }
        c->enums = xcalloc(ne ? ne : 1, sizeof(char *));
        for (uint32_t k = 0; k < ne && !r->bad; k++) {
            c->enums[k] = get_str(r);
            c->nenums = k + 1;
        }
    }
    uint32_t npk = get_u32(r);
    if (r->bad || npk > t->ncols)
        r->bad = true;
    if (r->bad)
        return t;
    t->pk = xcalloc(npk ? npk : 1, sizeof(uint32_t));
    for (uint32_t k = 0; k < npk; k++) {
        t->pk[k] = get_u32(r);
        if (t->pk[k] >= t->ncols)
            r->bad = true;
    }
    t->npk = npk;
    return t;
}

/* Names touched by a change, snapshotted when the record is written. */
struct touched {
    uint32_t n;
    char **db, **name;
};

static void touch(struct touched *t, const char *db, const char *name)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (strcmp(t->db[i], db) == 0 && strcmp(t->name[i], name) == 0)
            return;
    t->db = xrealloc(t->db, (t->n + 1) * sizeof(char *));
    t->name = xrealloc(t->name, (t->n + 1) * sizeof(char *));
    t->db[t->n] = xstrdup(db);
    t->name[t->n] = xstrdup(name);
    t->n++;
}

static void touched_free(struct touched *t)
{
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->db[i]);
        free(t->name[i]);
    }
    free(t->db);
    free(t->name);
    memset(t, 0, sizeof(*t));
}

/* Opens the history for appending, writing the magic into a new file. */
static int history_open(struct schema *s, struct err *err)
{
    if (s->fd >= 0)
        return 0;
    int fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, ERR_IO, "could not open \"%s\": %s", s->path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_set(err, ERR_IO, "could not stat \"%s\": %s", s->path, strerror(errno));
    }
    if (st.st_size == 0) {
        if (fs_write_all(fd, HISTORY_MAGIC, HISTORY_MAGIC_LEN, NULL) != 0 || fsync(fd) != 0 ||
            fs_fsync_dir(s->dir) != 0) {
            int e = errno;
            close(fd);
            return err_set(err, ERR_IO, "could not write \"%s\": %s", s->path, strerror(e));
        }
    }
    s->fd = fd;
    return 0;
}

/* Appends one record (version s->version + 1) holding the current definitions of the touched
 * tables, fsyncs it, and bumps the version. */
static int history_append(struct schema *s,
                          int kind,
                          const char *db,
                          const char *sql,
                          size_t sql_len,
                          const struct touched *t,
                          struct err *err)
{
    if (history_open(s, err))
        return err->code ? err->code : ERR_IO;
    struct strbuf pl = {0}, rec = {0};
    strbuf_appendc(&pl, (char)kind);
    put_u64(&pl, s->version + 1);
    put_cstr(&pl, s->pos_file);
    put_u64(&pl, s->pos);
    put_cstr(&pl, db);
    put_str(&pl, sql, sql_len);
    put_u32(&pl, t->n);
    for (uint32_t i = 0; i < t->n; i++) {
        const struct schema_table *tb = schema_find(s, t->db[i], t->name[i]);
        strbuf_appendc(&pl, tb ? CHG_PUT : CHG_REMOVE);
        put_cstr(&pl, t->db[i]);
        put_cstr(&pl, t->name[i]);
        if (tb)
            put_table(&pl, tb);
    }
    put_u32(&rec, (uint32_t)pl.len);
    put_u32(&rec, crc32c(0, pl.buf, pl.len));
    strbuf_append(&rec, pl.buf, pl.len);
    int rc = 0;
    /* The copy first: a version this file holds is never missing from it. */
    if (s->mirror.put &&
        (rc = s->mirror.put(s->mirror.opaque, s->version + 1, rec.buf, rec.len, err)) != 0) {
        /* Nothing appended. The model already holds the change: the next use reloads it from
         * the file (the version before), and the DDL or load is tried again when read again. */
        s->loaded = false;
    } else if (fs_write_all(s->fd, rec.buf, rec.len, NULL) != 0 || fsync(s->fd) != 0) {
        rc = err_set(err, ERR_IO, "could not append to \"%s\": %s", s->path, strerror(errno));
        err->fatal = true;
    } else {
        s->version++;
    }
    strbuf_free(&pl);
    strbuf_free(&rec);
    return rc;
}

/* Applies one record's changes to the model. */
/* No SQL is parsed again: each record carries the resulting definitions, so replaying is just
 * putting and removing tables; what the DDL parser does in a later version cannot change an old
 * history's meaning. */
static void replay(struct schema *s, struct rd *r)
{
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint8_t op = get_u8(r);
        char *db = get_str(r), *name = get_str(r);
        if (op == CHG_PUT) {
            struct schema_table *t = get_table(r, db, name);
            if (r->bad) {
                schema_table_free(t);
                return;
            }
            model_put(s, t);
        } else if (op == CHG_REMOVE) {
            model_remove(s, db, name);
            free(db);
            free(name);
        } else {
            free(db);
            free(name);
            r->bad = true;
        }
    }
}

/* Reads the file at path into out. Returns 0, or -1 with errno set (EIO for a read error). */
static int read_file(const char *path, struct strbuf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        strbuf_append(out, chunk, got);
    bool rerr = ferror(f) != 0;
    fclose(f);
    if (rerr)
        errno = EIO;
    return rerr ? -1 : 0;
}

/* Reads a history file whole into out, its magic checked. Returns 0 or ERR_IO / ERR_SCHEMA. */
static int read_history(const char *path, struct strbuf *out, struct err *err)
{
    if (read_file(path, out) != 0)
        return err_set(err, ERR_IO, "could not read \"%s\": %s", path, strerror(errno));
    if (out->len < HISTORY_MAGIC_LEN || memcmp(out->buf, HISTORY_MAGIC, HISTORY_MAGIC_LEN) != 0)
        return err_set(err, ERR_SCHEMA, "\"%s\" is not a schema history (bad magic)", path);
    return 0;
}

/* The size (header included) of the record at off of records b[0..len) into *n: 1, or 0 at
 * the end, -1 when it is cut short or its checksum is bad. */
static int record_at(const uint8_t *b, size_t len, size_t off, size_t *n)
{
    if (off >= len)
        return 0;
    if (len - off < 8 || le32(b + off) > len - off - 8 ||
        crc32c(0, b + off + 8, le32(b + off)) != le32(b + off + 4))
        return -1;
    *n = 8 + (size_t)le32(b + off);
    return 1;
}

/* Reads the whole history (it holds one record per DDL, so it stays small), checks every record
 * and replays those up to `want` (all with latest). See the top of the file for torn versus
 * corrupt. */
/* What schema_load* restores: every record, records up to a version, or records of events
 * before a binlog position. */
struct want {
    enum { WANT_LATEST, WANT_VERSION, WANT_POSITION } kind;
    uint64_t version;
    const char *file;
    uint64_t pos;
};

static int history_read(struct schema *s, const struct want *w, struct err *err)
{
    bool latest = w->kind == WANT_LATEST;
    uint64_t want = w->version;
    bool done = false; /* WANT_POSITION: a record at or after the position was met */
    model_clear(s);
    s->version = 0;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    struct strbuf buf = {0};
    int rc = 0;
    if (read_file(s->path, &buf) != 0) {
        int e = errno;
        strbuf_free(&buf);
        if (e != ENOENT)
            return err_set(err, ERR_IO, "could not read \"%s\": %s", s->path, strerror(e));
        if (!latest && want > 0)
            return err_set(err, ERR_SCHEMA, "schema version %llu requested but \"%s\" holds none",
                           (unsigned long long)want, s->path);
        s->loaded = true;
        return 0;
    }
    const uint8_t *base = (const uint8_t *)(buf.buf ? buf.buf : "");
    size_t size = buf.len, off = HISTORY_MAGIC_LEN, keep = HISTORY_MAGIC_LEN;
    if (size < HISTORY_MAGIC_LEN) {
        /* A crash while the magic was written: an empty history. */
        keep = 0;
        off = size;
    } else if (memcmp(base, HISTORY_MAGIC, HISTORY_MAGIC_LEN) != 0) {
        rc = err_set(err, ERR_SCHEMA, "\"%s\" is not a schema history (bad magic)", s->path);
        goto out;
    }
    uint64_t last = 0;
    while (off < size) {
        /* A record that does not check out is a torn append when it reaches the end of the
         * file or only zeros follow (the size grew but the data never made it); else the
         * file is corrupt. */
        const char *bad = NULL;
        size_t end = size;
        uint32_t len = 0, crc = 0;
        if (size - off >= 8) {
            len = le32(base + off);
            crc = le32(base + off + 4);
        }
        if (size - off < 8 || len > size - off - 8)
            bad = "cut short";
        else if ((end = off + 8 + len, crc32c(0, base + off + 8, len) != crc))
            bad = "bad checksum";
        struct rd r = {base + off + 8, base + end, false};
        uint64_t v = 0;
        if (bad == NULL) {
            get_u8(&r); /* kind */
            v = get_u64(&r);
            if (r.bad || v != last + 1)
                bad = "bad version";
        }
        if (bad) {
            bool zeros = true;
            for (size_t k = off; k < size && zeros; k++)
                zeros = base[k] == 0;
            if (end == size || zeros)
                break; /* torn */
            rc = err_set(err, ERR_SCHEMA,
                         "schema history \"%s\" is corrupt: %s at offset %zu (after version "
                         "%llu)",
                         s->path, bad, off, (unsigned long long)last);
            goto out;
        }
        last = v;
        bool take = latest || (w->kind == WANT_VERSION && v <= want);
        if (w->kind == WANT_POSITION && !done) {
            struct rd peek = r;
            char *rf = get_str(&peek);
            uint64_t rp = get_u64(&peek);
            done = position_place_cmp(rf, rp, w->file, w->pos) >= 0;
            take = !done;
            free(rf);
        }
        if (take) {
            free(get_str(&r)); /* binlog file */
            get_u64(&r);
            free(get_str(&r)); /* db */
            free(get_str(&r)); /* sql */
            replay(s, &r);
            if (r.bad) {
                rc = err_set(err, ERR_SCHEMA,
                             "schema history \"%s\" is corrupt: record %llu is malformed", s->path,
                             (unsigned long long)v);
                goto out;
            }
            s->version = v;
            keep = end;
        }
        off = end;
    }
    if (w->kind == WANT_VERSION && want > last) {
        rc = err_set(err, ERR_SCHEMA, "schema version %llu requested but \"%s\" ends at %llu",
                     (unsigned long long)want, s->path, (unsigned long long)last);
        goto out;
    }
    if (keep < size) {
        /* Drop a torn tail, or the records after the requested version. */
        if (truncate(s->path, (off_t)keep) != 0) {
            rc = err_set(err, ERR_IO, "could not truncate \"%s\": %s", s->path, strerror(errno));
            goto out;
        }
        int fd = open(s->path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (fsync(fd) != 0)
                rc = err_set(err, ERR_IO, "could not fsync \"%s\": %s", s->path, strerror(errno));
            close(fd);
        }
    }
    if (rc == 0)
        s->loaded = true;
out:
    strbuf_free(&buf);
    if (rc) {
        model_clear(s);
        s->version = 0;
    }
    return rc;
}

void schema_set_mirror(struct schema *s, const struct schema_mirror *m)
{
    if (m)
        s->mirror = *m;
    else
        memset(&s->mirror, 0, sizeof(s->mirror));
}

int schema_history_replace(struct schema *s, const void *recs, size_t len, struct err *err)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->loaded = false;
    struct strbuf tmp = {0};
    strbuf_printf(&tmp, "%s.new", s->path);
    int rc = 0, fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && fs_write_all(fd, HISTORY_MAGIC, HISTORY_MAGIC_LEN, NULL) == 0 &&
              fs_write_all(fd, recs, len, NULL) == 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp.buf, s->path) != 0 || fs_fsync_dir(s->dir) != 0) {
        rc = err_set(err, ERR_IO, "could not write \"%s\": %s", s->path, strerror(errno));
        unlink(tmp.buf);
    }
    strbuf_free(&tmp);
    return rc;
}

int schema_history_each(
    struct schema *s,
    uint64_t upto,
    int (*fn)(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err),
    void *opaque,
    struct err *err)
{
    struct strbuf buf = {0};
    int rc = read_history(s->path, &buf, err);
    const uint8_t *b = (const uint8_t *)buf.buf;
    size_t off = HISTORY_MAGIC_LEN, n;
    for (uint64_t v = 1; v <= upto && rc == 0; v++, off += n) {
        if (record_at(b, buf.len, off, &n) != 1)
            rc = err_set(err, ERR_SCHEMA,
                         "schema history \"%s\": record %llu is missing, cut short or has a bad "
                         "checksum",
                         s->path, (unsigned long long)v);
        else
            rc = fn(opaque, v, b + off, n, err);
    }
    strbuf_free(&buf);
    return rc;
}

uint64_t schema_records_version_at(const void *recs, size_t len, const char *file, uint64_t pos)
{
    const uint8_t *b = recs;
    uint64_t v = 0;
    size_t n;
    for (size_t off = 0; record_at(b, len, off, &n) == 1; off += n, v++) {
        struct rd r = {b + off + 8, b + off + n, false};
        get_u8(&r); /* kind */
        get_u64(&r);
        char *rf = get_str(&r);
        uint64_t rp = get_u64(&r);
        bool before = !r.bad && position_place_cmp(rf, rp, file, pos) < 0;
        free(rf);
        if (!before)
            break;
    }
    return v;
}

int schema_history_version_at(
    const char *dir, const char *file, uint64_t pos, uint64_t *version, struct err *err)
{
    struct strbuf path = {0}, buf = {0};
    strbuf_printf(&path, "%s/history", dir);
    int rc = read_history(path.buf, &buf, err);
    if (rc == 0)
        *version = schema_records_version_at(buf.buf + HISTORY_MAGIC_LEN,
                                             buf.len - HISTORY_MAGIC_LEN, file, pos);
    strbuf_free(&path);
    strbuf_free(&buf);
    return rc;
}

int schema_load(struct schema *s, uint64_t version, struct err *err)
{
    struct want w = {WANT_VERSION, version, NULL, 0};
    return history_read(s, &w, err);
}

int schema_load_latest(struct schema *s, struct err *err)
{
    struct want w = {WANT_LATEST, 0, NULL, 0};
    return history_read(s, &w, err);
}

int schema_load_at(struct schema *s, const char *file, uint64_t pos, struct err *err)
{
    struct want w = {WANT_POSITION, 0, file, pos};
    return history_read(s, &w, err);
}

static int ensure_loaded(struct schema *s, struct err *err)
{
    return s->loaded ? 0 : schema_load_latest(s, err);
}

/* ------------------------------------------------------------------------------------------ */
/* information_schema                                                                          */

/* what: "connect to" or "read information_schema on". */
static int source_err(struct schema *s, struct err *err, const char *what)
{
    int rc = err_set(err, ERR_SCHEMA_SOURCE, "could not %s %s:%u for the schema: %s", what,
                     s->host ? s->host : "localhost", s->port,
                     s->my ? mysql_error(s->my) : "out of memory");
    err->retriable = true;
    if (s->my) {
        mysql_close(s->my);
        s->my = NULL;
    }
    return rc;
}

/* Opened on first need, not in schema_open: a model restored from the history may never need
 * the server. Timeouts keep a hung server from stalling the instance forever; utf8mb4 so that
 * names and ENUM values come back as the UTF-8 the decoder emits. */
static int connect_source(struct schema *s, struct err *err)
{
    if (s->my)
        return 0;
    /* The replica connection's way of connecting, TLS included. */
    struct binlog_conn_opts o;
    binlog_conn_opts_init(&o);
    o.host = s->host;
    o.port = s->port;
    o.user = s->user;
    o.password = s->password;
    o.tls_mode = s->tls_mode;
    o.tls_ca = s->tls_ca;
    o.tls_cert = s->tls_cert;
    o.tls_key = s->tls_key;
    struct err e = {0};
    s->my = binlog_conn_sql_connect(&o, 60, &e);
    if (s->my == NULL) {
        int rc = err_set(err, ERR_SCHEMA_SOURCE, "could not connect to %s:%u for the schema: %s",
                         s->host ? s->host : "localhost", s->port, e.msg);
        err->retriable = e.retriable;
        return rc;
    }
    mysql_set_character_set(s->my, "utf8mb4");
    return 0;
}

/* Runs a query; reconnects once when the connection was lost. Caller frees *res. */
static int query(struct schema *s, const char *q, MYSQL_RES **res, struct err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connect_source(s, err))
            return ERR_SCHEMA_SOURCE;
        if (mysql_real_query(s->my, q, strlen(q)) == 0) {
            *res = mysql_store_result(s->my);
            if (*res)
                return 0;
        }
        unsigned e = mysql_errno(s->my);
        if (attempt == 0 && (e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST)) {
            mysql_close(s->my);
            s->my = NULL;
            continue;
        }
        return source_err(s, err, "read information_schema on");
    }
    return ERR_SCHEMA_SOURCE;
}

static void append_quoted(struct schema *s, struct strbuf *q, const char *v)
{
    size_t n = strlen(v);
    char *e = xmalloc(2 * n + 1);
    mysql_real_escape_string(s->my, e, v, (unsigned long)n);
    strbuf_appendc(q, '\'');
    strbuf_appends(q, e);
    strbuf_appendc(q, '\'');
    free(e);
}

/* `name`, backquotes doubled. */
static void append_backquoted(struct strbuf *q, const char *name)
{
    strbuf_appendc(q, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            strbuf_appendc(q, '`');
        strbuf_appendc(q, *p);
    }
    strbuf_appendc(q, '`');
}

/* MariaDB system-versioned tables created WITH SYSTEM VERSIONING and no PERIOD FOR SYSTEM_TIME
 * have two hidden TIMESTAMP(6) columns, row_start and row_end, last in the table: in every
 * TABLE_MAP, absent from information_schema.COLUMNS. TABLES.TABLE_TYPE tells the table is
 * versioned, SHOW CREATE TABLE whether its period columns are named (then they are listed). */
static int
add_hidden_sysvers(struct schema *s, struct schema_table *t, const char *where, struct err *err)
{
    struct strbuf q = {0};
    strbuf_appends(&q, "SELECT c.TABLE_TYPE FROM information_schema.TABLES c");
    strbuf_appends(&q, where);
    MYSQL_RES *res = NULL;
    int rc = query(s, q.buf, &res, err);
    if (rc)
        goto out;
    MYSQL_ROW row = mysql_fetch_row(res);
    bool versioned = row && row[0] && strcmp(row[0], "SYSTEM VERSIONED") == 0;
    mysql_free_result(res);
    res = NULL;
    if (!versioned)
        goto out;
    strbuf_reset(&q);
    strbuf_appends(&q, "SHOW CREATE TABLE ");
    append_backquoted(&q, t->db);
    strbuf_appendc(&q, '.');
    append_backquoted(&q, t->name);
    rc = query(s, q.buf, &res, err);
    if (rc)
        goto out;
    row = mysql_fetch_row(res);
    if (row && row[1] && strstr(row[1], "PERIOD FOR SYSTEM_TIME") == NULL) {
        static const char *const names[] = {"row_start", "row_end"};
        t->cols = xrealloc(t->cols, (t->ncols + 2) * sizeof(*t->cols));
        for (int k = 0; k < 2; k++) {
            struct schema_col *c = &t->cols[t->ncols++];
            memset(c, 0, sizeof(*c));
            c->name = xstrdup(names[k]);
            c->data_type = xstrdup("timestamp");
        }
    }
out:
    if (res)
        mysql_free_result(res);
    strbuf_free(&q);
    return rc;
}

/* Loads db.name from information_schema into *out (NULL when the server has no such table). */
static int load_table(
    struct schema *s, const char *db, const char *name, struct schema_table **out, struct err *err)
{
    *out = NULL;
    if (connect_source(s, err))
        return ERR_SCHEMA_SOURCE;
    struct strbuf q = {0}, where = {0};
    strbuf_appends(&where, " WHERE c.TABLE_SCHEMA = ");
    append_quoted(s, &where, db);
    strbuf_appends(&where, " AND c.TABLE_NAME = ");
    append_quoted(s, &where, name);
    strbuf_appends(&where, " AND BINARY c.TABLE_NAME = ");
    append_quoted(s, &where, name);
    strbuf_appends(&q, "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, "
                       "c.NUMERIC_PRECISION, c.NUMERIC_SCALE, co.ID "
                       "FROM information_schema.COLUMNS c "
                       "LEFT JOIN information_schema.COLLATIONS co "
                       "ON co.COLLATION_NAME = c.COLLATION_NAME");
    strbuf_append(&q, where.buf, where.len);
    strbuf_appends(&q, " ORDER BY c.ORDINAL_POSITION");
    MYSQL_RES *res = NULL;
    int rc = query(s, q.buf, &res, err);
    struct schema_table *t = NULL;
    if (rc)
        goto out;
    t = xcalloc(1, sizeof(*t));
    t->db = xstrdup(db);
    t->name = xstrdup(name);
    uint64_t nrows = mysql_num_rows(res);
    t->cols = xcalloc(nrows ? nrows : 1, sizeof(*t->cols));
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct schema_col *c = &t->cols[t->ncols++];
        c->name = xstrdup(row[0] ? row[0] : "");
        c->data_type = xstrdup(row[1] ? row[1] : "");
        for (char *p = c->data_type; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        const char *ct = row[2] ? row[2] : "";
        c->is_unsigned = strstr(ct, "unsigned") != NULL;
        c->nullable = row[3] && strcmp(row[3], "YES") == 0;
        if (strcmp(c->data_type, "decimal") == 0) {
            c->precision = row[4] ? (uint32_t)strtoul(row[4], NULL, 10) : 0;
            c->scale = row[5] ? (uint32_t)strtoul(row[5], NULL, 10) : 0;
        }
        c->collation = row[6] ? (uint16_t)strtoul(row[6], NULL, 10) : 0;
        if (c->collation == 0 &&
            (strcmp(c->data_type, "binary") == 0 || strcmp(c->data_type, "varbinary") == 0 ||
             strstr(c->data_type, "blob") != NULL || strcmp(c->data_type, "uuid") == 0 ||
             strncmp(c->data_type, "inet", 4) == 0))
            c->collation = 63;
        if ((strcmp(c->data_type, "enum") == 0 || strcmp(c->data_type, "set") == 0) &&
            schema_parse_enum_values(c, ct) != 0)
            warnf(s, "table `%s`.`%s`: could not read the values of column `%s` from \"%s\"", db,
                  name, c->name, ct);
    }
    mysql_free_result(res);
    res = NULL;
    if (t->ncols == 0) {
        schema_table_free(t);
        t = NULL;
        goto out;
    }
    rc = add_hidden_sysvers(s, t, where.buf, err);
    if (rc)
        goto out;
    strbuf_reset(&q);
    strbuf_appends(&q, "SELECT c.COLUMN_NAME FROM information_schema.STATISTICS c");
    strbuf_append(&q, where.buf, where.len);
    strbuf_appends(&q, " AND c.INDEX_NAME = 'PRIMARY' ORDER BY c.SEQ_IN_INDEX");
    rc = query(s, q.buf, &res, err);
    if (rc)
        goto out;
    t->pk = xcalloc(t->ncols, sizeof(uint32_t));
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (uint32_t i = 0; i < t->ncols && row[0]; i++) {
            if (strcasecmp(t->cols[i].name, row[0]) == 0 && t->npk < t->ncols) {
                t->pk[t->npk++] = i;
                break;
            }
        }
    }
out:
    if (res)
        mysql_free_result(res);
    strbuf_free(&q);
    strbuf_free(&where);
    if (rc) {
        schema_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* DDL                                                                                         */

/* Column names are case-insensitive in MySQL and MariaDB, whatever lower_case_table_names. */
static int col_idx(const struct schema_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A table under ALTER: columns as a growable array, primary key by names. */
struct work {
    struct schema_table *t;
    char **pk;
    uint32_t npk;
};

/* During an ALTER the primary key is kept by column names, so that adding, dropping and moving
 * columns needs no index bookkeeping; work_finish turns it back into indexes. */
static void work_set_pk(struct work *w, char *const *names, uint32_t n)
{
    for (uint32_t i = 0; i < w->npk; i++)
        free(w->pk[i]);
    free(w->pk);
    w->pk = xcalloc(n ? n : 1, sizeof(char *));
    w->npk = n;
    for (uint32_t i = 0; i < n; i++)
        w->pk[i] = xstrdup(names[i]);
}

static void work_rename_pk(struct work *w, const char *from, const char *to)
{
    for (uint32_t i = 0; i < w->npk; i++) {
        if (strcasecmp(w->pk[i], from) != 0)
            continue;
        free(w->pk[i]);
        if (to) {
            w->pk[i] = xstrdup(to);
        } else {
            memmove(&w->pk[i], &w->pk[i + 1], (w->npk - i - 1) * sizeof(char *));
            w->npk--;
            i--;
        }
    }
}

/* Moves column `from` to index `to` (after removal). */
static void move_col(struct schema_table *t, uint32_t from, uint32_t to)
{
    struct schema_col c = t->cols[from];
    memmove(&t->cols[from], &t->cols[from + 1], (t->ncols - from - 1) * sizeof(c));
    memmove(&t->cols[to + 1], &t->cols[to], (t->ncols - 1 - to) * sizeof(c));
    t->cols[to] = c;
}

/* Where a column goes: FIRST, AFTER x (index after x once the column is out), or -1. */
/* Returns 0 for FIRST, the index after `after`, -1 for the default place, -2 when `after` is not
 * a column. */
static int target_index(const struct schema_table *t, enum ddl_pos pos, const char *after)
{
    if (pos == DDL_POS_FIRST)
        return 0;
    if (pos == DDL_POS_AFTER) {
        int a = col_idx(t, after);
        return a < 0 ? -2 : a + 1;
    }
    return -1;
}

/* Applies one ALTER op to w. Returns 0, or -1 with *why set when the model cannot follow. */
/* A character column whose statement named no character set takes the table's default (or,
 * for a new table without one, the database's), which the statement does not say and the
 * model does not keep; a server default of latin1 is common, so it is asked from the server.
 * When the server cannot tell, the collation stays unknown (text when valid UTF-8). */
static bool charset_unknown(const struct schema_col *c)
{
    static const char *const text[] = {"char",       "varchar",  "tinytext", "text",
                                       "mediumtext", "longtext", NULL};
    if (c->collation != 0 || c->data_type == NULL)
        return false;
    for (int i = 0; text[i]; i++)
        if (strcmp(c->data_type, text[i]) == 0)
            return true;
    return false;
}

static uint16_t query_collation_id(struct schema *s, const char *q)
{
    MYSQL_RES *res = NULL;
    struct err e = {0};
    uint16_t id = 0;
    if (query(s, q, &res, &e) == 0) {
        MYSQL_ROW row = mysql_fetch_row(res);
        if (row && row[0])
            id = (uint16_t)strtoul(row[0], NULL, 10);
        mysql_free_result(res);
    }
    return id;
}

static void fill_default_collations(struct schema *s, struct schema_table *t)
{
    bool need = false;
    for (uint32_t i = 0; i < t->ncols && !need; i++)
        need = charset_unknown(&t->cols[i]);
    if (!need || connect_source(s, &(struct err){0}))
        return;
    struct strbuf q = {0};
    strbuf_appends(&q, "SELECT co.ID FROM information_schema.TABLES t JOIN "
                       "information_schema.COLLATIONS co ON co.COLLATION_NAME = t.TABLE_COLLATION "
                       "WHERE t.TABLE_SCHEMA = ");
    append_quoted(s, &q, t->db);
    strbuf_appends(&q, " AND t.TABLE_NAME = ");
    append_quoted(s, &q, t->name);
    uint16_t id = query_collation_id(s, q.buf);
    if (id == 0) {
        strbuf_reset(&q);
        strbuf_appends(&q, "SELECT co.ID FROM information_schema.SCHEMATA d JOIN "
                           "information_schema.COLLATIONS co ON co.COLLATION_NAME = "
                           "d.DEFAULT_COLLATION_NAME WHERE d.SCHEMA_NAME = ");
        append_quoted(s, &q, t->db);
        id = query_collation_id(s, q.buf);
    }
    strbuf_free(&q);
    for (uint32_t i = 0; id && i < t->ncols; i++)
        if (charset_unknown(&t->cols[i]))
            t->cols[i].collation = id;
}

static int alter_op(struct work *w, const struct ddl_op *op, const char **why)
{
    struct schema_table *t = w->t;
    switch (op->kind) {
    case DDL_OP_ADD_COLUMN: {
        if (col_idx(t, op->col.name) >= 0) {
            if (op->if_not_exists)
                return 0;
            *why = "ADD of a column that exists";
            return -1;
        }
        t->cols = xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
        schema_col_copy(&t->cols[t->ncols], &op->col);
        t->ncols++;
        int to = target_index(t, op->pos, op->after);
        if (to == -2) {
            *why = "AFTER names an unknown column";
            return -1;
        }
        if (to >= 0)
            move_col(t, t->ncols - 1, (uint32_t)to);
        if (op->inline_pk)
            work_set_pk(w, &op->col.name, 1);
        return 0;
    }
    case DDL_OP_DROP_COLUMN: {
        int i = col_idx(t, op->name);
        if (i < 0) {
            if (op->if_exists)
                return 0;
            *why = "DROP of an unknown column";
            return -1;
        }
        work_rename_pk(w, op->name, NULL);
        schema_col_clear(&t->cols[i]);
        memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - (uint32_t)i - 1) * sizeof(*t->cols));
        t->ncols--;
        return 0;
    }
    case DDL_OP_MODIFY_COLUMN:
    case DDL_OP_CHANGE_COLUMN: {
        const char *old = op->kind == DDL_OP_MODIFY_COLUMN ? op->col.name : op->name;
        int i = col_idx(t, old);
        if (i < 0) {
            if (op->if_exists)
                return 0;
            *why = "MODIFY/CHANGE of an unknown column";
            return -1;
        }
        if (op->kind == DDL_OP_CHANGE_COLUMN && strcasecmp(old, op->col.name) != 0 &&
            col_idx(t, op->col.name) >= 0) {
            *why = "CHANGE to the name of another column";
            return -1;
        }
        work_rename_pk(w, old, op->col.name);
        schema_col_clear(&t->cols[i]);
        schema_col_copy(&t->cols[i], &op->col);
        if (op->pos != DDL_POS_DEFAULT) {
            /* Take it out, then find where it goes among the others. */
            struct schema_col c = t->cols[i];
            memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - (uint32_t)i - 1) * sizeof(c));
            t->ncols--;
            int to = target_index(t, op->pos, op->after);
            t->ncols++;
            if (to == -2) {
                t->cols[t->ncols - 1] = c;
                *why = "AFTER names an unknown column";
                return -1;
            }
            memmove(&t->cols[to + 1], &t->cols[to], (t->ncols - 1 - (uint32_t)to) * sizeof(c));
            t->cols[to] = c;
        }
        if (op->inline_pk)
            work_set_pk(w, &op->col.name, 1);
        return 0;
    }
    case DDL_OP_RENAME_COLUMN: {
        int i = col_idx(t, op->name);
        if (i < 0) {
            if (op->if_exists)
                return 0;
            *why = "RENAME of an unknown column";
            return -1;
        }
        work_rename_pk(w, op->name, op->new_name);
        free(t->cols[i].name);
        t->cols[i].name = xstrdup(op->new_name);
        return 0;
    }
    case DDL_OP_ADD_PK:
        work_set_pk(w, op->pk_cols, op->npk_cols);
        return 0;
    case DDL_OP_DROP_PK:
        work_set_pk(w, NULL, 0);
        return 0;
    case DDL_OP_RENAME_TABLE:
        return 0; /* done by the caller */
    }
    return 0;
}

/* Resolves w's pk names into t->pk (unknown names dropped); PK columns become NOT NULL. */
static void work_finish(struct work *w)
{
    struct schema_table *t = w->t;
    free(t->pk);
    t->pk = xcalloc(w->npk ? w->npk : 1, sizeof(uint32_t));
    t->npk = 0;
    for (uint32_t k = 0; k < w->npk; k++) {
        int i = col_idx(t, w->pk[k]);
        if (i >= 0) {
            t->pk[t->npk++] = (uint32_t)i;
            t->cols[i].nullable = false;
        }
    }
    work_set_pk(w, NULL, 0);
    free(w->pk);
    w->pk = NULL;
}

/* An unqualified name is in the query event's default database. */
static const char *name_db(const struct ddl_name *n, const char *db)
{
    return n->db ? n->db : db;
}

/* Removes the named table from the model (it will be loaded again on next use). */
static void forget(struct schema *s, struct touched *t, const char *db, const char *name)
{
    if (model_remove(s, db, name))
        touch(t, db, name);
}

/* CREATE TABLE: the statement's definition replaces any older one (OR REPLACE, or a table the
 * model kept after a DROP it missed); IF NOT EXISTS keeps a table the model has. */
static void
apply_create(struct schema *s, const struct ddl_stmt *st, const char *db, struct touched *tc)
{
    const char *tdb = name_db(&st->names[0], db);
    if (st->if_not_exists && schema_find(s, tdb, st->names[0].name))
        return;
    struct schema_table *t = xcalloc(1, sizeof(*t));
    t->db = xstrdup(tdb);
    t->name = xstrdup(st->names[0].name);
    t->ncols = st->ncols;
    t->cols = xcalloc(st->ncols ? st->ncols : 1, sizeof(*t->cols));
    for (uint32_t i = 0; i < st->ncols; i++)
        schema_col_copy(&t->cols[i], &st->cols[i]);
    struct work w = {t, NULL, 0};
    work_set_pk(&w, st->pk_cols, st->npk_cols);
    work_finish(&w);
    fill_default_collations(s, t);
    model_put(s, t);
    touch(tc, tdb, st->names[0].name);
}

/* ALTER TABLE on a copy: the clauses are applied in order; when one does not fit the model (a
 * column it does not have, without IF EXISTS) the model is wrong somewhere, so the table is
 * forgotten and reloaded from the server rather than guessed. */
static void
apply_alter(struct schema *s, const struct ddl_stmt *st, const char *db, struct touched *tc)
{
    const char *tdb = name_db(&st->names[0], db);
    const char *tname = st->names[0].name;
    const struct ddl_name *to = NULL;
    for (uint32_t i = 0; i < st->nops; i++)
        if (st->ops[i].kind == DDL_OP_RENAME_TABLE)
            to = &st->ops[i].to;
    const struct schema_table *cur = schema_find(s, tdb, tname);
    if (st->nops == 0)
        return; /* ENGINE=, ALGORITHM=, DISABLE KEYS, ...: nothing we model */
    if (cur == NULL) {
        /* Not in the model: it will be loaded on next use; a renamed table's new name must
         * not keep an older definition. */
        if (to)
            forget(s, tc, name_db(to, db), to->name);
        return;
    }
    struct work w = {schema_table_dup(cur), NULL, 0};
    for (uint32_t k = 0; k < cur->npk; k++) {
        w.pk = xrealloc(w.pk, (w.npk + 1) * sizeof(char *));
        w.pk[w.npk++] = xstrdup(cur->cols[cur->pk[k]].name);
    }
    const char *why = NULL;
    for (uint32_t i = 0; i < st->nops && why == NULL; i++)
        alter_op(&w, &st->ops[i], &why);
    work_finish(&w);
    if (why) {
        warnf(s,
              "table `%s`.`%s` at %s:%llu: ALTER TABLE not applied to the schema (%s); the table "
              "will be reloaded from the server",
              tdb, tname, s->pos_file ? s->pos_file : "?", (unsigned long long)s->pos, why);
        schema_table_free(w.t);
        forget(s, tc, tdb, tname);
        if (to)
            forget(s, tc, name_db(to, db), to->name);
        return;
    }
    if (to) {
        model_remove(s, tdb, tname);
        touch(tc, tdb, tname);
        free(w.t->db);
        free(w.t->name);
        w.t->db = xstrdup(name_db(to, db));
        w.t->name = xstrdup(to->name);
    }
    fill_default_collations(s, w.t);
    touch(tc, w.t->db, w.t->name);
    model_put(s, w.t);
}

/* RENAME TABLE a TO b, c TO d: pairs in order, so swaps through a temporary name work. A source
 * the model does not have leaves the target unknown (loaded on next use). */
static void
apply_rename(struct schema *s, const struct ddl_stmt *st, const char *db, struct touched *tc)
{
    for (uint32_t i = 0; i + 1 < st->nnames; i += 2) {
        const char *fdb = name_db(&st->names[i], db), *fname = st->names[i].name;
        const char *tdb = name_db(&st->names[i + 1], db), *tname = st->names[i + 1].name;
        const struct schema_table *cur = schema_find(s, fdb, fname);
        if (cur == NULL) {
            forget(s, tc, tdb, tname);
            continue;
        }
        struct schema_table *t = schema_table_dup(cur);
        model_remove(s, fdb, fname);
        touch(tc, fdb, fname);
        free(t->db);
        free(t->name);
        t->db = xstrdup(tdb);
        t->name = xstrdup(tname);
        model_put(s, t);
        touch(tc, tdb, tname);
    }
}

int schema_apply_query(struct schema *s,
                       const char *db,
                       const char *sql,
                       size_t len,
                       const char *file,
                       uint64_t pos,
                       struct err *err)
{
    struct ddl_stmt st;
    ddl_parse(sql, len, &st);
    if (st.kind == DDL_NONE || st.kind == DDL_TRUNCATE || st.kind == DDL_CREATE_DB) {
        ddl_stmt_free(&st);
        return 0;
    }
    if (db == NULL)
        db = "";
    int rc = ensure_loaded(s, err);
    if (rc) {
        ddl_stmt_free(&st);
        return rc;
    }
    schema_set_position(s, file, pos);
    struct touched tc = {0};
    switch (st.kind) {
    case DDL_CREATE_TABLE:
        apply_create(s, &st, db, &tc);
        break;
    case DDL_CREATE_LIKE: {
        const char *tdb = name_db(&st.names[0], db);
        if (st.if_not_exists && schema_find(s, tdb, st.names[0].name))
            break;
        const struct schema_table *src =
            schema_find(s, name_db(&st.names[1], db), st.names[1].name);
        if (src == NULL) {
            forget(s, &tc, tdb, st.names[0].name);
            break;
        }
        struct schema_table *t = schema_table_dup(src);
        free(t->db);
        free(t->name);
        t->db = xstrdup(tdb);
        t->name = xstrdup(st.names[0].name);
        model_put(s, t);
        touch(&tc, tdb, st.names[0].name);
        break;
    }
    case DDL_ALTER_TABLE:
        apply_alter(s, &st, db, &tc);
        break;
    case DDL_DROP_TABLE:
        for (uint32_t i = 0; i < st.nnames; i++)
            forget(s, &tc, name_db(&st.names[i], db), st.names[i].name);
        break;
    case DDL_RENAME_TABLE:
        apply_rename(s, &st, db, &tc);
        break;
    case DDL_DROP_DB:
        for (uint32_t i = 0; st.db && i < s->ntables;) {
            if (strcmp(s->tables[i]->db, st.db) == 0) {
                touch(&tc, st.db, s->tables[i]->name);
                model_remove(s, st.db, s->tables[i]->name);
            } else {
                i++;
            }
        }
        break;
    case DDL_UNPARSED:
    case DDL_RELOAD:
        if (st.kind == DDL_UNPARSED)
            warnf(
                s,
                "at %s:%llu: could not parse DDL (%s): %.*s%s; table(s) it names will be reloaded "
                "from the server",
                file ? file : "?", (unsigned long long)pos, st.why ? st.why : "?",
                (int)(len > 200 ? 200 : len), sql, len > 200 ? "..." : "");
        for (uint32_t i = 0; i < st.nnames; i++)
            forget(s, &tc, name_db(&st.names[i], db), st.names[i].name);
        break;
    default:
        break;
    }
    if (tc.n > 0) {
        rc = history_append(s, REC_DDL, db, sql, len, &tc, err);
        if (rc == 0)
            rc = 1;
    }
    touched_free(&tc);
    ddl_stmt_free(&st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Table maps                                                                                  */

/* "int, varchar, ..." of at most 8 columns. */
/* Column lists for mismatch messages, short enough for struct err's 256 bytes with the rest; the
 * whole message also goes to the warn callback. */
static void map_types(struct strbuf *b, const struct table_map *tm)
{
    for (uint32_t i = 0; i < tm->ncols && i < 8; i++) {
        if (i)
            strbuf_appends(b, ", ");
        strbuf_appends(b, schema_map_type_name(tm->cols[i].type, tm->cols[i].real_type));
    }
    if (tm->ncols > 8)
        strbuf_appends(b, ", ...");
}

static void model_types(struct strbuf *b, const struct schema_table *t)
{
    for (uint32_t i = 0; i < t->ncols && i < 8; i++) {
        if (i)
            strbuf_appends(b, ", ");
        strbuf_appends(b, t->cols[i].data_type);
    }
    if (t->ncols > 8)
        strbuf_appends(b, ", ...");
}

static int mismatch(struct schema *s,
                    const struct table_map *tm,
                    const struct schema_table *t,
                    int col,
                    struct err *err)
{
    struct strbuf b = {0};
    strbuf_printf(&b, "table `%s`.`%s` at %s:%llu: binlog has %u columns (", tm->db, tm->table,
                  s->pos_file ? s->pos_file : "?", (unsigned long long)s->pos, tm->ncols);
    map_types(&b, tm);
    strbuf_printf(&b, "), schema version %llu ", (unsigned long long)s->version);
    if (t == NULL) {
        strbuf_appends(&b, "has no such table (nor has the server)");
    } else {
        strbuf_printf(&b, "has %u (", t->ncols);
        model_types(&b, t);
        strbuf_appendc(&b, ')');
        if (col >= 0)
            strbuf_printf(&b, ": column %d `%s` is %s in the binlog, %s in the schema", col + 1,
                          t->cols[col].name,
                          schema_map_type_name(tm->cols[col].type, tm->cols[col].real_type),
                          t->cols[col].data_type);
    }
    warnf(s, "%s", b.buf);
    int rc = err_set(err, ERR_SCHEMA_MISMATCH, "%s", b.buf);
    err->fatal = true;
    strbuf_free(&b);
    return rc;
}

/* Only what the binlog left out is filled in: a map with full metadata keeps its own names,
 * signedness and strings, and the model only checks it. */
int schema_table_map(struct table_map *tm, void *opaque, struct err *err)
{
    struct schema *s = opaque;
    int rc = ensure_loaded(s, err);
    if (rc)
        return rc;
    const struct schema_table *t = schema_find(s, tm->db, tm->table);
    if (t == NULL) {
        if (tm->has_names)
            return 0; /* full metadata: the map describes itself */
        struct schema_table *nt;
        rc = load_table(s, tm->db, tm->table, &nt, err);
        if (rc)
            return rc;
        if (nt == NULL)
            return mismatch(s, tm, NULL, -1, err);
        model_put(s, nt);
        struct touched tc = {0};
        touch(&tc, nt->db, nt->name);
        rc = history_append(s, REC_LOADED, nt->db, NULL, 0, &tc, err);
        touched_free(&tc);
        if (rc)
            return rc;
        t = nt;
    }
    if (t->ncols != tm->ncols)
        return mismatch(s, tm, t, -1, err);
    for (uint32_t i = 0; i < tm->ncols; i++) {
        const struct table_map_col *c = &tm->cols[i];
        if (!schema_type_matches(&t->cols[i], c->type, c->real_type, c->meta, c->meta_hi))
            return mismatch(s, tm, t, (int)i, err);
    }
    /* Complete what the binlog left out. */
    bool names = tm->has_names, sign = tm->has_signedness;
    for (uint32_t i = 0; i < tm->ncols; i++) {
        struct table_map_col *c = &tm->cols[i];
        const struct schema_col *m = &t->cols[i];
        if (!names)
            table_map_set_col_name(tm, i, m->name);
        if (!sign && table_map_type_is_numeric(c->type))
            c->is_unsigned = m->is_unsigned;
        if ((c->real_type == MYSQL_T_ENUM || c->real_type == MYSQL_T_SET) && c->enums.n == 0 &&
            m->nenums > 0)
            table_map_set_col_enums(tm, i, m->enums, m->nenums);
        if (c->collation == 0 && m->collation != 0)
            c->collation = m->collation;
    }
    if (tm->npk == 0 && t->npk > 0)
        table_map_set_pk(tm, t->pk, t->npk);
    return 0;
}
