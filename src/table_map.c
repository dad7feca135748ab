/*
 * table_map.c — TABLE_MAP event parsing.
 *
 * Layout (MySQL rows_event.h, MariaDB TABLE_MAP_EVENT page): table_id (6 bytes, 4 on 5.1.x
 * servers with a 6-byte post-header), flags (2); db length (1) + db + NUL; table length (1) +
 * table + NUL; column count (packed); one type byte per column; metadata length (packed) and
 * the per-type metadata; the NULL-able bitmap; then optional metadata as TLVs (type byte, packed
 * length, value) which unknown types are skipped by length.
 *
 * Every read is bounds-checked against the body; malformed input gives ERR_DECODE naming the
 * field, never a read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "binlog_event.h"
#include "mysql_types.h"
#include "strbuf.h"
#include "table_map.h"
#include "xmalloc.h"

/* Optional metadata field types (MySQL Table_map_event::Optional_metadata_field_type). */
enum {
    OM_SIGNEDNESS = 1,
    OM_DEFAULT_CHARSET = 2,
    OM_COLUMN_CHARSET = 3,
    OM_COLUMN_NAME = 4,
    OM_SET_STR_VALUE = 5,
    OM_ENUM_STR_VALUE = 6,
    OM_GEOMETRY_TYPE = 7,
    OM_SIMPLE_PRIMARY_KEY = 8,
    OM_PRIMARY_KEY_WITH_PREFIX = 9,
    OM_ENUM_AND_SET_DEFAULT_CHARSET = 10,
    OM_ENUM_AND_SET_COLUMN_CHARSET = 11,
    OM_COLUMN_VISIBILITY = 12,
    OM_VECTOR_DIMENSIONALITY = 13,
};

uint64_t table_map_read_id(const uint8_t *body, unsigned post_header_len)
{
    return post_header_len == 6 ? le32(body) : le48(body);
}

static void strs_free(struct table_map_strs *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->len);
    memset(s, 0, sizeof(*s));
}

void table_map_free(struct table_map *tm)
{
    if (tm == NULL)
        return;
    for (uint32_t i = 0; i < tm->ncols; i++) {
        free(tm->cols[i].name);
        free(tm->cols[i].json_key);
        strs_free(&tm->cols[i].enums);
    }
    free(tm->cols);
    free(tm->pk);
    free(tm->db);
    free(tm->table);
    free(tm->json_db_table);
    free(tm->raw);
    free(tm->canal_types);
    free(tm);
}

bool table_map_type_is_numeric(uint8_t t)
{
    switch (t) {
    case MYSQL_T_TINY:
    case MYSQL_T_SHORT:
    case MYSQL_T_INT24:
    case MYSQL_T_LONG:
    case MYSQL_T_LONGLONG:
    case MYSQL_T_NEWDECIMAL:
    case MYSQL_T_FLOAT:
    case MYSQL_T_DOUBLE:
    case MYSQL_T_DECIMAL:
        return true;
    }
    return false;
}

/* Columns that DEFAULT_CHARSET / COLUMN_CHARSET describe, by resolved type. MariaDB lists every
 * column that has a charset, GEOMETRY (binary) included. */
static bool is_character(const struct table_map *tm, const struct table_map_col *c)
{
    if (tm->mariadb && c->real_type == MYSQL_T_GEOMETRY)
        return true;
    switch (c->real_type) {
    case MYSQL_T_STRING:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR:
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_BLOB_COMPRESSED:
    case MYSQL_T_VARCHAR_COMPRESSED:
        return true;
    }
    return false;
}

static bool is_enum_or_set(const struct table_map_col *c)
{
    return c->real_type == MYSQL_T_ENUM || c->real_type == MYSQL_T_SET;
}

/* Reads the per-column metadata for the column's type; advances *pp. */
static int read_col_meta(
    struct table_map_col *c, const uint8_t **pp, const uint8_t *end, uint32_t idx, struct err *err)
{
    const uint8_t *p = *pp;
    unsigned need = 0;
    switch (c->type) {
    case MYSQL_T_FLOAT:
    case MYSQL_T_DOUBLE:
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_GEOMETRY:
    case MYSQL_T_JSON:
    case MYSQL_T_VECTOR:
    case MYSQL_T_BLOB_COMPRESSED:
    case MYSQL_T_TIME2:
    case MYSQL_T_DATETIME2:
    case MYSQL_T_TIMESTAMP2:
        need = 1;
        break;
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR_COMPRESSED:
    case MYSQL_T_BIT:
    case MYSQL_T_NEWDECIMAL:
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET:
        need = 2;
        break;
    default:
        need = 0;
    }
    if ((size_t)(end - p) < need)
        return err_set(err, ERR_DECODE, "table map: metadata of column %u runs past its block",
                       idx + 1);
    c->real_type = c->type;
    switch (c->type) {
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR_COMPRESSED:
        c->meta = le16(p);
        break;
    case MYSQL_T_BIT:
        c->meta = p[0];    /* bits beyond whole bytes */
        c->meta_hi = p[1]; /* whole bytes */
        break;
    case MYSQL_T_NEWDECIMAL:
        c->meta_hi = p[0]; /* precision */
        c->meta = p[1];    /* scale */
        break;
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET: {
        uint8_t b0 = p[0], b1 = p[1];
        if ((b0 & 0x30) != 0x30) {
            /* CHAR longer than 255 bytes: two bits of the length live in the type byte. */
            c->real_type = (uint8_t)(b0 | 0x30);
            c->meta = (uint16_t)((((b0 & 0x30) ^ 0x30) << 4) | b1);
        } else {
            c->real_type = b0;
            c->meta = b1;
        }
        if (c->real_type != MYSQL_T_ENUM && c->real_type != MYSQL_T_SET &&
            c->real_type != MYSQL_T_STRING)
            c->real_type = MYSQL_T_STRING;
        c->meta_hi = b0;
        break;
    }
    default:
        if (need == 1)
            c->meta = p[0];
    }
    *pp = p + need;
    return 0;
}

static int
read_packed(const uint8_t **pp, const uint8_t *end, uint64_t *v, const char *what, struct err *err)
{
    if (binlog_read_packed(pp, end, v) != 0)
        return err_set(err, ERR_DECODE, "table map: %s runs past the event", what);
    return 0;
}

/* Reads a list of strings: each a packed length + bytes. */
static int
read_str_list(const uint8_t **pp, const uint8_t *end, struct table_map_strs *s, struct err *err)
{
    uint64_t n;
    if (read_packed(pp, end, &n, "ENUM/SET value count", err))
        return ERR_DECODE;
    if (n > (uint64_t)(end - *pp))
        return err_set(err, ERR_DECODE, "table map: ENUM/SET value count %llu too large",
                       (unsigned long long)n);
    s->n = (uint32_t)n;
    s->v = xcalloc(n ? n : 1, sizeof(char *));
    s->len = xcalloc(n ? n : 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t l;
        if (read_packed(pp, end, &l, "ENUM/SET value", err))
            return ERR_DECODE;
        if (l > (uint64_t)(end - *pp))
            return err_set(err, ERR_DECODE, "table map: ENUM/SET value runs past the event");
        s->v[i] = xstrndup((const char *)*pp, (size_t)l);
        s->len[i] = (uint32_t)l;
        *pp += l;
    }
    return 0;
}

static int
parse_optional(struct table_map *tm, const uint8_t *p, const uint8_t *end, struct err *err)
{
    while (p < end) {
        uint8_t type = *p++;
        uint64_t flen;
        if (read_packed(&p, end, &flen, "optional metadata length", err))
            return ERR_DECODE;
        if (flen > (uint64_t)(end - p))
            return err_set(err, ERR_DECODE,
                           "table map: optional metadata field %u of %llu bytes runs past the "
                           "event",
                           type, (unsigned long long)flen);
        const uint8_t *f = p, *fend = p + flen;
        p = fend;
        tm->has_optional_meta = true;
        switch (type) {
        case OM_SIGNEDNESS: {
            uint32_t bit = 0;
            tm->has_signedness = true;
            for (uint32_t i = 0; i < tm->ncols; i++) {
                if (!table_map_type_is_numeric(tm->cols[i].type))
                    continue;
                if (bit / 8 >= flen)
                    break;
                tm->cols[i].is_unsigned = (f[bit / 8] >> (7 - bit % 8)) & 1;
                bit++;
            }
            break;
        }
        case OM_DEFAULT_CHARSET:
        case OM_ENUM_AND_SET_DEFAULT_CHARSET: {
            bool es = type == OM_ENUM_AND_SET_DEFAULT_CHARSET;
            uint64_t def;
            if (read_packed(&f, fend, &def, "default charset", err))
                return ERR_DECODE;
            for (uint32_t i = 0; i < tm->ncols; i++)
                if (es ? is_enum_or_set(&tm->cols[i]) : is_character(tm, &tm->cols[i]))
                    tm->cols[i].collation = (uint16_t)def;
            /* Then (index among such columns, collation) pairs for the exceptions. */
            while (f < fend) {
                uint64_t idx, coll;
                if (read_packed(&f, fend, &idx, "charset column index", err) ||
                    read_packed(&f, fend, &coll, "charset collation", err))
                    return ERR_DECODE;
                uint64_t k = 0;
                for (uint32_t i = 0; i < tm->ncols; i++) {
                    if (!(es ? is_enum_or_set(&tm->cols[i]) : is_character(tm, &tm->cols[i])))
                        continue;
                    if (k++ == idx) {
                        tm->cols[i].collation = (uint16_t)coll;
                        break;
                    }
                }
            }
            break;
        }
        case OM_COLUMN_CHARSET:
        case OM_ENUM_AND_SET_COLUMN_CHARSET: {
            bool es = type == OM_ENUM_AND_SET_COLUMN_CHARSET;
            for (uint32_t i = 0; i < tm->ncols && f < fend; i++) {
                if (!(es ? is_enum_or_set(&tm->cols[i]) : is_character(tm, &tm->cols[i])))
                    continue;
                uint64_t coll;
                if (read_packed(&f, fend, &coll, "column charset", err))
                    return ERR_DECODE;
                tm->cols[i].collation = (uint16_t)coll;
            }
            break;
        }
        case OM_COLUMN_NAME:
            for (uint32_t i = 0; i < tm->ncols && f < fend; i++) {
                uint64_t l;
                if (read_packed(&f, fend, &l, "column name", err))
                    return ERR_DECODE;
                if (l > (uint64_t)(fend - f))
                    return err_set(err, ERR_DECODE, "table map: column name runs past the event");
                free(tm->cols[i].name);
                tm->cols[i].name = xstrndup((const char *)f, (size_t)l);
                f += l;
                tm->has_names = true;
            }
            break;
        case OM_SET_STR_VALUE:
        case OM_ENUM_STR_VALUE: {
            uint8_t want = type == OM_SET_STR_VALUE ? MYSQL_T_SET : MYSQL_T_ENUM;
            for (uint32_t i = 0; i < tm->ncols && f < fend; i++) {
                if (tm->cols[i].real_type != want)
                    continue;
                strs_free(&tm->cols[i].enums);
                if (read_str_list(&f, fend, &tm->cols[i].enums, err))
                    return ERR_DECODE;
            }
            break;
        }
        case OM_GEOMETRY_TYPE:
            for (uint32_t i = 0; i < tm->ncols && f < fend; i++) {
                if (tm->cols[i].type != MYSQL_T_GEOMETRY)
                    continue;
                uint64_t g;
                if (read_packed(&f, fend, &g, "geometry type", err))
                    return ERR_DECODE;
                tm->cols[i].geometry_type = (uint32_t)g;
            }
            break;
        case OM_SIMPLE_PRIMARY_KEY:
        case OM_PRIMARY_KEY_WITH_PREFIX:
            while (f < fend) {
                uint64_t idx, prefix;
                if (read_packed(&f, fend, &idx, "primary key column", err))
                    return ERR_DECODE;
                if (type == OM_PRIMARY_KEY_WITH_PREFIX &&
                    read_packed(&f, fend, &prefix, "primary key prefix", err))
                    return ERR_DECODE;
                if (idx >= tm->ncols)
                    return err_set(err, ERR_DECODE,
                                   "table map: primary key column %llu of %u columns",
                                   (unsigned long long)idx, tm->ncols);
                tm->cols[idx].is_pk = true;
                tm->pk = xrealloc(tm->pk, (tm->npk + 1) * sizeof(uint32_t));
                tm->pk[tm->npk++] = (uint32_t)idx;
            }
            break;
        case OM_COLUMN_VISIBILITY:
            for (uint32_t i = 0; i < tm->ncols && i / 8 < flen; i++) {
                tm->cols[i].has_visibility = true;
                tm->cols[i].visible = (f[i / 8] >> (7 - i % 8)) & 1;
            }
            break;
        case OM_VECTOR_DIMENSIONALITY:
            for (uint32_t i = 0; i < tm->ncols && f < fend; i++) {
                if (tm->cols[i].type != MYSQL_T_VECTOR)
                    continue;
                uint64_t dim;
                if (read_packed(&f, fend, &dim, "vector dimensionality", err))
                    return ERR_DECODE;
                tm->cols[i].vector_dim = (uint32_t)dim;
            }
            break;
        default:
            break; /* unknown field: skipped by its length */
        }
    }
    return 0;
}

/* The JSON key of column i: "name": or "@N":. */
static void build_json_key(struct table_map_col *c, uint32_t i, struct strbuf *sb)
{
    strbuf_reset(sb);
    if (c->name) {
        strbuf_append_json_str(sb, c->name, strlen(c->name));
    } else {
        strbuf_append(sb, "\"@", 2);
        strbuf_append_u64(sb, (uint64_t)i + 1);
        strbuf_appendc(sb, '"');
    }
    strbuf_appendc(sb, ':');
    free(c->json_key);
    c->json_key = xstrndup(sb->buf, sb->len);
    c->json_key_len = (uint32_t)sb->len;
}

/* What is derived from the columns' names and types goes with a change of them. */
static void drop_derived(struct table_map *tm)
{
    free(tm->canal_types);
    tm->canal_types = NULL;
    tm->canal_types_len = 0;
}

void table_map_set_col_name(struct table_map *tm, uint32_t i, const char *name)
{
    struct table_map_col *c = &tm->cols[i];
    drop_derived(tm);
    free(c->name);
    c->name = xstrdup(name);
    struct strbuf sb = {0};
    build_json_key(c, i, &sb);
    strbuf_free(&sb);
    bool all = true;
    for (uint32_t k = 0; k < tm->ncols && all; k++)
        all = tm->cols[k].name != NULL;
    tm->has_names = all;
}

void table_map_set_col_enums(struct table_map *tm, uint32_t i, char *const *v, uint32_t n)
{
    struct table_map_strs *s = &tm->cols[i].enums;
    drop_derived(tm);
    strs_free(s);
    s->n = n;
    s->v = xcalloc(n ? n : 1, sizeof(char *));
    s->len = xcalloc(n ? n : 1, sizeof(uint32_t));
    for (uint32_t k = 0; k < n; k++) {
        s->v[k] = xstrdup(v[k]);
        s->len[k] = (uint32_t)strlen(v[k]);
    }
}

void table_map_set_pk(struct table_map *tm, const uint32_t *cols, uint32_t n)
{
    for (uint32_t k = 0; k < tm->ncols; k++)
        tm->cols[k].is_pk = false;
    free(tm->pk);
    tm->pk = xcalloc(n ? n : 1, sizeof(uint32_t));
    tm->npk = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (cols[k] >= tm->ncols)
            continue;
        tm->pk[tm->npk++] = cols[k];
        tm->cols[cols[k]].is_pk = true;
    }
}

struct table_map *table_map_parse(
    const uint8_t *body, size_t len, unsigned post_header_len, bool mariadb, struct err *err)
{
    const uint8_t *p = body, *end = body + len;
    struct table_map *tm = xcalloc(1, sizeof(*tm));
    tm->mariadb = mariadb;
    if (post_header_len != 6 && post_header_len != 8) {
        err_set(err, ERR_DECODE, "table map: post-header length %u, expected 6 or 8",
                post_header_len);
        goto fail;
    }
    if (len < post_header_len + 2u) {
        err_set(err, ERR_DECODE, "table map: body of %zu bytes is too short", len);
        goto fail;
    }
    tm->table_id = table_map_read_id(p, post_header_len);
    tm->flags = le16(p + post_header_len - 2);
    p += post_header_len;

    for (int k = 0; k < 2; k++) {
        if (p >= end) {
            err_set(err, ERR_DECODE, "table map: %s name runs past the event",
                    k ? "table" : "database");
            goto fail;
        }
        size_t l = *p++;
        if ((size_t)(end - p) < l + 1) {
            err_set(err, ERR_DECODE, "table map: %s name runs past the event",
                    k ? "table" : "database");
            goto fail;
        }
        char *s = xstrndup((const char *)p, l);
        if (k)
            tm->table = s;
        else
            tm->db = s;
        p += l + 1;
    }
    uint64_t ncols;
    if (read_packed(&p, end, &ncols, "column count", err))
        goto fail;
    if (ncols == 0 || ncols > 4096 || ncols > (uint64_t)(end - p)) {
        err_set(err, ERR_DECODE, "table map: column count %llu is invalid for `%s`.`%s`",
                (unsigned long long)ncols, tm->db, tm->table);
        goto fail;
    }
    tm->ncols = (uint32_t)ncols;
    tm->cols = xcalloc(tm->ncols, sizeof(*tm->cols));
    for (uint32_t i = 0; i < tm->ncols; i++) {
        tm->cols[i].type = p[i];
        tm->cols[i].real_type = p[i];
        if (p[i] == MYSQL_T_JSON)
            tm->njson++;
    }
    p += tm->ncols;

    uint64_t mlen;
    if (read_packed(&p, end, &mlen, "metadata length", err))
        goto fail;
    if (mlen > (uint64_t)(end - p)) {
        err_set(err, ERR_DECODE, "table map: metadata block runs past the event");
        goto fail;
    }
    const uint8_t *m = p, *mend = p + mlen;
    for (uint32_t i = 0; i < tm->ncols; i++)
        if (read_col_meta(&tm->cols[i], &m, mend, i, err))
            goto fail;
    p = mend;

    size_t nb = (tm->ncols + 7) / 8;
    if ((size_t)(end - p) < nb) {
        err_set(err, ERR_DECODE, "table map of `%s`.`%s`: NULL bitmap runs past the event", tm->db,
                tm->table);
        goto fail;
    } else {
        for (uint32_t i = 0; i < tm->ncols; i++)
            tm->cols[i].nullable = (p[i / 8] >> (i % 8)) & 1;
        p += nb;
    }
    if (p < end && parse_optional(tm, p, end, err))
        goto fail;
    /* The JSON text every row of this table repeats, escaped once here. */
    struct strbuf sb = {0};
    for (uint32_t i = 0; i < tm->ncols; i++)
        build_json_key(&tm->cols[i], i, &sb);
    strbuf_reset(&sb);
    strbuf_appends(&sb, ",\"db\":");
    strbuf_append_json_str(&sb, tm->db, strlen(tm->db));
    strbuf_appends(&sb, ",\"table\":");
    strbuf_append_json_str(&sb, tm->table, strlen(tm->table));
    tm->json_db_table = xstrndup(sb.buf, sb.len);
    tm->json_db_table_len = (uint32_t)sb.len;
    strbuf_free(&sb);
    return tm;
fail:
    table_map_free(tm);
    return NULL;
}
