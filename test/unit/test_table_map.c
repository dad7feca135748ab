/*
 * test_table_map.c — unit tests for src/table_map.c: TABLE_MAP bodies built by hand (layout in
 * MySQL libbinlogevents rows_event.h / Table_map_event::Optional_metadata_field_type): names,
 * column types and their metadata (CHAR > 255 bytes folding two length bits into the type
 * byte, ENUM/SET behind STRING), the NULL bitmap, every optional metadata TLV, and malformed
 * bodies (every truncation, under ASan, from an exactly-sized heap copy).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_types.h"
#include "strbuf.h"
#include "table_map.h"
#include "testutil.h"

/* ------------------------------------------------------------------------------------------ */
/* Body builder                                                                                */

static void put_bytes(struct strbuf *b, const char *s, size_t n)
{
    strbuf_append(b, s, n);
}

/* A packed-length-prefixed string (column names, ENUM/SET values). */
static void put_lstr(struct strbuf *b, const char *s)
{
    put_packed(b, strlen(s));
    put_bytes(b, s, strlen(s));
}

/* The fixed part: 6-byte table id, flags, db and table names (1-byte length, NUL), column
 * count and types, metadata block, NULL bitmap. */
static void put_head(struct strbuf *b,
                     uint64_t id,
                     const char *db,
                     const char *table,
                     const uint8_t *types,
                     size_t ncols,
                     const uint8_t *meta,
                     size_t mlen,
                     const uint8_t *nulls)
{
    put_le(b, id, 6);
    put_le(b, 1, 2); /* flags */
    put_u8(b, (unsigned)strlen(db));
    put_bytes(b, db, strlen(db) + 1);
    put_u8(b, (unsigned)strlen(table));
    put_bytes(b, table, strlen(table) + 1);
    put_packed(b, ncols);
    put_bytes(b, (const char *)types, ncols);
    put_packed(b, mlen);
    put_bytes(b, (const char *)meta, mlen);
    put_bytes(b, (const char *)nulls, (ncols + 7) / 8);
}

/* One optional metadata field: type, packed length, value. */
static void put_tlv(struct strbuf *b, unsigned type, const struct strbuf *v)
{
    put_u8(b, type);
    put_packed(b, v->len);
    put_bytes(b, v->buf ? v->buf : "", v->len);
}

static struct err last_err;

/* Parses body[0..n) from an exactly-sized heap copy (reads past n are ASan errors). */
static struct table_map *parse(const void *body, size_t n, unsigned phl)
{
    uint8_t *m = malloc(n ? n : 1);
    const uint8_t *p = m + (n ? 0 : 1);
    if (n)
        memcpy(m, body, n);
    memset(&last_err, 0, sizeof(last_err));
    struct table_map *tm = table_map_parse(p, n, phl, false, &last_err);
    free(m);
    if (tm == NULL) {
        CU_ASSERT_EQUAL(last_err.code, ERR_DECODE);
        CU_ASSERT(last_err.msg[0] != '\0');
    }
    return tm;
}

/* ------------------------------------------------------------------------------------------ */
/* Types and metadata                                                                          */

static const uint8_t types_a[] = {
    MYSQL_T_LONG,      MYSQL_T_VARCHAR,  MYSQL_T_STRING, MYSQL_T_NEWDECIMAL, MYSQL_T_BIT,
    MYSQL_T_DATETIME2, MYSQL_T_BLOB,     MYSQL_T_STRING, MYSQL_T_STRING,     MYSQL_T_JSON,
    MYSQL_T_GEOMETRY,  MYSQL_T_DOUBLE,   MYSQL_T_VECTOR, MYSQL_T_TINY,       MYSQL_T_YEAR,
    MYSQL_T_STRING,    MYSQL_T_LONGLONG, MYSQL_T_FLOAT,  MYSQL_T_TIMESTAMP2, MYSQL_T_TIME2,
};
static const uint8_t meta_a[] = {
    0x50, 0x00, /* 1 VARCHAR(80 bytes), 2 bytes little-endian */
    0xfe, 0x0a, /* 2 CHAR(10): real type STRING, 10 bytes */
    0x0a, 0x02, /* 3 DECIMAL(10,2): precision, scale */
    0x02, 0x01, /* 4 BIT(10): 2 bits, 1 whole byte */
    0x03,       /* 5 DATETIME(3) */
    0x02,       /* 6 BLOB: 2-byte length prefix */
    0xf7, 0x01, /* 7 ENUM: pack length 1 */
    0xf8, 0x02, /* 8 SET: pack length 2 */
    0x04,       /* 9 JSON */
    0x04,       /* 10 GEOMETRY */
    0x08,       /* 11 DOUBLE */
    0x04,       /* 12 VECTOR */
    0xce, 0xfc, /* 15 CHAR(255) utf8mb4 = 1020 bytes: 0xfe ^ ((1020 & 0x300) >> 4), 1020 & 0xff */
    0x04,       /* 17 FLOAT */
    0x06,       /* 18 TIMESTAMP(6) */
    0x00,       /* 19 TIME(0) */
};
static const uint8_t nulls_a[] = {0x06, 0x02, 0x08}; /* columns 1, 2, 9, 19 */

static void test_types_and_meta(void)
{
    struct strbuf b = {0};
    put_head(&b, 0x0000123456789aULL, "shop", "items", types_a, sizeof(types_a), meta_a,
             sizeof(meta_a), nulls_a);
    struct table_map *tm = parse(b.buf, b.len, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    CU_ASSERT_EQUAL(tm->table_id, 0x123456789aULL);
    CU_ASSERT_EQUAL(tm->flags, 1);
    CU_ASSERT_STRING_EQUAL(tm->db, "shop");
    CU_ASSERT_STRING_EQUAL(tm->table, "items");
    CU_ASSERT_EQUAL_FATAL(tm->ncols, 20);
    CU_ASSERT_EQUAL(tm->njson, 1);
    CU_ASSERT(!tm->has_optional_meta);
    CU_ASSERT(!tm->has_names);
    CU_ASSERT_EQUAL(tm->npk, 0);
    for (uint32_t i = 0; i < tm->ncols; i++) {
        CU_ASSERT_EQUAL(tm->cols[i].type, types_a[i]);
        CU_ASSERT_PTR_NULL(tm->cols[i].name);
        CU_ASSERT_EQUAL(tm->cols[i].collation, 0);
        CU_ASSERT(!tm->cols[i].is_unsigned);
        CU_ASSERT_EQUAL(tm->cols[i].nullable, i == 1 || i == 2 || i == 9 || i == 19);
    }
    const struct table_map_col *c = tm->cols;
    CU_ASSERT_EQUAL(c[0].meta, 0);
    CU_ASSERT_EQUAL(c[1].meta, 80);
    CU_ASSERT_EQUAL(c[2].real_type, MYSQL_T_STRING);
    CU_ASSERT_EQUAL(c[2].meta, 10);
    CU_ASSERT_EQUAL(c[3].meta_hi, 10);
    CU_ASSERT_EQUAL(c[3].meta, 2);
    CU_ASSERT_EQUAL(c[4].meta, 2);
    CU_ASSERT_EQUAL(c[4].meta_hi, 1);
    CU_ASSERT_EQUAL(c[5].meta, 3);
    CU_ASSERT_EQUAL(c[6].meta, 2);
    CU_ASSERT_EQUAL(c[7].real_type, MYSQL_T_ENUM);
    CU_ASSERT_EQUAL(c[7].meta, 1);
    CU_ASSERT_EQUAL(c[8].real_type, MYSQL_T_SET);
    CU_ASSERT_EQUAL(c[8].meta, 2);
    CU_ASSERT_EQUAL(c[9].meta, 4);
    CU_ASSERT_EQUAL(c[10].meta, 4);
    CU_ASSERT_EQUAL(c[11].meta, 8);
    CU_ASSERT_EQUAL(c[12].meta, 4);
    CU_ASSERT_EQUAL(c[13].meta, 0);
    CU_ASSERT_EQUAL(c[14].meta, 0);
    CU_ASSERT_EQUAL(c[15].real_type, MYSQL_T_STRING);
    CU_ASSERT_EQUAL(c[15].meta, 1020);
    CU_ASSERT_EQUAL(c[17].meta, 4);
    CU_ASSERT_EQUAL(c[18].meta, 6);
    CU_ASSERT_EQUAL(c[19].meta, 0);
    table_map_free(tm);

    /* MySQL 5.1.x post-header of 6 bytes: a 4-byte table id. */
    strbuf_reset(&b);
    put_le(&b, 0x01020304, 4);
    put_le(&b, 0, 2);
    put_u8(&b, 1);
    put_bytes(&b, "d", 2);
    put_u8(&b, 1);
    put_bytes(&b, "t", 2);
    put_packed(&b, 1);
    put_u8(&b, MYSQL_T_TINY);
    put_packed(&b, 0);
    put_u8(&b, 0x01);
    tm = parse(b.buf, b.len, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    CU_ASSERT_EQUAL(tm->table_id, 0x01020304);
    CU_ASSERT_EQUAL(table_map_read_id((const uint8_t *)b.buf, 6), 0x01020304);
    CU_ASSERT_STRING_EQUAL(tm->db, "d");
    CU_ASSERT_EQUAL(tm->ncols, 1);
    CU_ASSERT(tm->cols[0].nullable);
    table_map_free(tm);
    strbuf_free(&b);
}

static void test_char_lengths(void)
{
    /* CHAR lengths above 255 bytes: bits 8-9 of the length are stored inverted in bits 4-5 of
     * the real-type byte (MySQL Field_string::do_save_field_metadata). */
    static const struct {
        uint8_t b0, b1;
        uint8_t real_type;
        uint16_t len;
    } v[] = {
        {0xfe, 0xff, MYSQL_T_STRING, 255}, {0xee, 0x00, MYSQL_T_STRING, 256},
        {0xde, 0x00, MYSQL_T_STRING, 512}, {0xce, 0xfc, MYSQL_T_STRING, 1020},
        {0xf7, 0x02, MYSQL_T_ENUM, 2},     {0xf8, 0x08, MYSQL_T_SET, 8},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct strbuf b = {0};
        uint8_t type = MYSQL_T_STRING, meta[2] = {v[i].b0, v[i].b1}, nulls = 0;
        put_head(&b, 1, "d", "t", &type, 1, meta, 2, &nulls);
        struct table_map *tm = parse(b.buf, b.len, 8);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
        CU_ASSERT_EQUAL(tm->cols[0].type, MYSQL_T_STRING);
        CU_ASSERT_EQUAL(tm->cols[0].real_type, v[i].real_type);
        CU_ASSERT_EQUAL(tm->cols[0].meta, v[i].len);
        table_map_free(tm);
        strbuf_free(&b);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Optional metadata                                                                           */

/*  0 TINY   1 VARCHAR  2 LONG  3 ENUM  4 BLOB  5 SET  6 DOUBLE  7 GEOMETRY  8 VECTOR  9 YEAR
 * 10 CHAR  11 LONGLONG */
static const uint8_t types_b[] = {MYSQL_T_TINY,   MYSQL_T_VARCHAR,  MYSQL_T_LONG,
                                  MYSQL_T_STRING, MYSQL_T_BLOB,     MYSQL_T_STRING,
                                  MYSQL_T_DOUBLE, MYSQL_T_GEOMETRY, MYSQL_T_VECTOR,
                                  MYSQL_T_YEAR,   MYSQL_T_STRING,   MYSQL_T_LONGLONG};
static const uint8_t meta_b[] = {0x50, 0x00, 0xf7, 0x01, 0x02, 0xf8,
                                 0x01, 0x08, 0x04, 0x04, 0xfe, 0x28};
static const char *names_b[] = {"a", "name", "n", "e", "b", "s", "d", "g", "v", "yr", "c", "big"};

/* Builds the body of table B with its optional metadata; records in ends[] the offset of the
 * NULL bitmap, the end of the fixed part and the end of each TLV (for truncation tests). */
static size_t build_b(struct strbuf *b, size_t *ends)
{
    struct strbuf v = {0};
    size_t k = 0;
    uint8_t nulls[2] = {0xff, 0x0f};
    put_head(b, 77, "db1", "tb", types_b, sizeof(types_b), meta_b, sizeof(meta_b), nulls);
    ends[k++] = b->len - 2;
    ends[k++] = b->len;
    /* SIGNEDNESS: one bit per numeric column (TINY, LONG, DOUBLE, LONGLONG), MSB first. */
    put_u8(&v, 0x90);
    put_tlv(b, 1, &v);
    ends[k++] = b->len;
    /* DEFAULT_CHARSET: 255 (packed in 3 bytes) for VARCHAR, BLOB and CHAR; exceptions as
     * (index among character columns, collation): BLOB 63, CHAR 8. */
    strbuf_reset(&v);
    put_packed(&v, 255);
    put_packed(&v, 1);
    put_packed(&v, 63);
    put_packed(&v, 2);
    put_packed(&v, 8);
    put_tlv(b, 2, &v);
    ends[k++] = b->len;
    /* An unknown field is skipped by its length. */
    strbuf_reset(&v);
    put_bytes(&v, "\x04\x05\x06", 3);
    put_tlv(b, 200, &v);
    ends[k++] = b->len;
    /* COLUMN_NAME */
    strbuf_reset(&v);
    for (size_t i = 0; i < sizeof(names_b) / sizeof(names_b[0]); i++)
        put_lstr(&v, names_b[i]);
    put_tlv(b, 4, &v);
    ends[k++] = b->len;
    /* SET_STR_VALUE then ENUM_STR_VALUE: per SET (ENUM) column, a count and the strings. */
    strbuf_reset(&v);
    put_packed(&v, 2);
    put_lstr(&v, "x");
    put_lstr(&v, "yy");
    put_tlv(b, 5, &v);
    ends[k++] = b->len;
    strbuf_reset(&v);
    put_packed(&v, 3);
    put_lstr(&v, "red");
    put_lstr(&v, "green");
    put_lstr(&v, "");
    put_tlv(b, 6, &v);
    ends[k++] = b->len;
    /* GEOMETRY_TYPE: 1 = POINT. */
    strbuf_reset(&v);
    put_packed(&v, 1);
    put_tlv(b, 7, &v);
    ends[k++] = b->len;
    /* SIMPLE_PRIMARY_KEY: columns 2 then 0. */
    strbuf_reset(&v);
    put_packed(&v, 2);
    put_packed(&v, 0);
    put_tlv(b, 8, &v);
    ends[k++] = b->len;
    /* ENUM_AND_SET_DEFAULT_CHARSET: 45, exception: the SET (index 1) in latin1. */
    strbuf_reset(&v);
    put_packed(&v, 45);
    put_packed(&v, 1);
    put_packed(&v, 8);
    put_tlv(b, 10, &v);
    ends[k++] = b->len;
    /* COLUMN_VISIBILITY: all visible but column 9 (MSB first). */
    strbuf_reset(&v);
    put_u8(&v, 0xff);
    put_u8(&v, 0xb0);
    put_tlv(b, 12, &v);
    ends[k++] = b->len;
    /* VECTOR_DIMENSIONALITY */
    strbuf_reset(&v);
    put_packed(&v, 3);
    put_tlv(b, 13, &v);
    ends[k++] = b->len;
    strbuf_free(&v);
    return k;
}

static void test_optional_metadata(void)
{
    struct strbuf b = {0};
    size_t ends[32];
    build_b(&b, ends);
    struct table_map *tm = parse(b.buf, b.len, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    const struct table_map_col *c = tm->cols;
    CU_ASSERT(tm->has_optional_meta);
    CU_ASSERT(tm->has_names);
    CU_ASSERT(tm->has_signedness);
    CU_ASSERT_EQUAL_FATAL(tm->ncols, 12);
    CU_ASSERT_EQUAL(tm->table_id, 77);
    /* Signedness lands on the numeric columns only; YEAR takes no bit. */
    for (uint32_t i = 0; i < tm->ncols; i++) {
        CU_ASSERT_EQUAL(c[i].is_unsigned, i == 0 || i == 11);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c[i].name);
        CU_ASSERT_STRING_EQUAL(c[i].name, names_b[i]);
        CU_ASSERT_EQUAL(c[i].nullable, i < 12);
        CU_ASSERT(c[i].has_visibility);
        CU_ASSERT_EQUAL(c[i].visible, i != 9);
    }
    /* Charsets: the default, two exceptions; ENUM/SET from their own default + exception. */
    CU_ASSERT_EQUAL(c[1].collation, 255);
    CU_ASSERT_EQUAL(c[4].collation, 63);
    CU_ASSERT_EQUAL(c[10].collation, 8);
    CU_ASSERT_EQUAL(c[3].collation, 45);
    CU_ASSERT_EQUAL(c[5].collation, 8);
    CU_ASSERT_EQUAL(c[0].collation, 0);
    CU_ASSERT_EQUAL(c[7].collation, 0); /* GEOMETRY is not a character column */
    /* ENUM / SET strings. */
    CU_ASSERT_EQUAL_FATAL(c[5].enums.n, 2);
    CU_ASSERT_STRING_EQUAL(c[5].enums.v[0], "x");
    CU_ASSERT_STRING_EQUAL(c[5].enums.v[1], "yy");
    CU_ASSERT_EQUAL(c[5].enums.len[1], 2);
    CU_ASSERT_EQUAL_FATAL(c[3].enums.n, 3);
    CU_ASSERT_STRING_EQUAL(c[3].enums.v[0], "red");
    CU_ASSERT_STRING_EQUAL(c[3].enums.v[1], "green");
    CU_ASSERT_STRING_EQUAL(c[3].enums.v[2], "");
    CU_ASSERT_EQUAL(c[3].enums.len[2], 0);
    CU_ASSERT_EQUAL(c[10].enums.n, 0); /* a plain CHAR gets none */
    CU_ASSERT_EQUAL(c[7].geometry_type, 1);
    CU_ASSERT_EQUAL(c[8].vector_dim, 3);
    /* Primary key, in key order. */
    CU_ASSERT_EQUAL_FATAL(tm->npk, 2);
    CU_ASSERT_EQUAL(tm->pk[0], 2);
    CU_ASSERT_EQUAL(tm->pk[1], 0);
    CU_ASSERT(c[0].is_pk && c[2].is_pk && !c[1].is_pk);
    table_map_free(tm);
    strbuf_free(&b);
}

static void test_column_charsets_and_prefix_pk(void)
{
    /* 0 VARCHAR 1 LONG 2 BLOB 3 ENUM 4 CHAR 5 NEWDECIMAL 6 FLOAT */
    static const uint8_t types[] = {MYSQL_T_VARCHAR, MYSQL_T_LONG,   MYSQL_T_BLOB,
                                    MYSQL_T_STRING,  MYSQL_T_STRING, MYSQL_T_NEWDECIMAL,
                                    MYSQL_T_FLOAT};
    static const uint8_t meta[] = {0x10, 0x00, 0x02, 0xf7, 0x01, 0xfe, 0x08, 0x05, 0x02, 0x04};
    uint8_t nulls = 0;
    struct strbuf b = {0}, v = {0};
    put_head(&b, 5, "d", "t", types, sizeof(types), meta, sizeof(meta), &nulls);
    /* SIGNEDNESS over LONG, NEWDECIMAL, FLOAT: 0 1 1. */
    put_u8(&v, 0x60);
    put_tlv(&b, 1, &v);
    /* COLUMN_CHARSET: one collation per character column, in order (300 packs in 3 bytes). */
    strbuf_reset(&v);
    put_packed(&v, 45);
    put_packed(&v, 63);
    put_packed(&v, 300);
    put_tlv(&b, 3, &v);
    /* ENUM_AND_SET_COLUMN_CHARSET */
    strbuf_reset(&v);
    put_packed(&v, 8);
    put_tlv(&b, 11, &v);
    /* PRIMARY_KEY_WITH_PREFIX: (column, prefix length) pairs; 0 = the whole column. */
    strbuf_reset(&v);
    put_packed(&v, 4);
    put_packed(&v, 0);
    put_packed(&v, 0);
    put_packed(&v, 10);
    put_tlv(&b, 9, &v);
    struct table_map *tm = parse(b.buf, b.len, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    const struct table_map_col *c = tm->cols;
    CU_ASSERT(!c[1].is_unsigned);
    CU_ASSERT(c[5].is_unsigned);
    CU_ASSERT(c[6].is_unsigned);
    CU_ASSERT_EQUAL(c[0].collation, 45);
    CU_ASSERT_EQUAL(c[2].collation, 63);
    CU_ASSERT_EQUAL(c[4].collation, 300);
    CU_ASSERT_EQUAL(c[3].collation, 8);
    CU_ASSERT_EQUAL(c[1].collation, 0);
    CU_ASSERT_EQUAL(c[5].meta_hi, 5);
    CU_ASSERT_EQUAL(c[5].meta, 2);
    CU_ASSERT_EQUAL_FATAL(tm->npk, 2);
    CU_ASSERT_EQUAL(tm->pk[0], 4);
    CU_ASSERT_EQUAL(tm->pk[1], 0);
    CU_ASSERT(!tm->has_names);
    CU_ASSERT(!c[0].has_visibility);
    table_map_free(tm);
    strbuf_free(&b);
    strbuf_free(&v);
}

/* ------------------------------------------------------------------------------------------ */
/* Malformed bodies                                                                            */

static bool is_in(size_t k, const size_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == k)
            return true;
    return false;
}

static void test_every_truncation(void)
{
    struct strbuf b = {0};
    size_t ends[32];
    size_t nends = build_b(&b, ends);
    size_t bitmap = ends[0], fixed_end = ends[1];
    CU_ASSERT_EQUAL(ends[nends - 1], b.len);
    for (size_t k = 0; k < b.len; k++) {
        struct table_map *tm = parse(b.buf, k, 8);
        if (k < fixed_end) {
            /* Up to and including a cut NULL bitmap: an error. */
            (void)bitmap;
            CU_ASSERT_PTR_NULL(tm);
        } else {
            /* Optional metadata: whole fields parse, a cut field is an error. */
            bool boundary = is_in(k, ends + 1, nends - 1);
            if ((tm != NULL) != boundary)
                fprintf(stderr, "\n  truncated at %zu of %zu: %s\n", k, b.len,
                        tm ? "accepted" : last_err.msg);
            CU_ASSERT_EQUAL(tm != NULL, boundary);
        }
        table_map_free(tm);
    }
    strbuf_free(&b);
}

/* Body of one ENUM column plus the given optional metadata field. */
static struct table_map *parse_with_tlv(unsigned type, const char *val, size_t n)
{
    struct strbuf b = {0}, v = {0};
    uint8_t t = MYSQL_T_STRING, meta[2] = {0xf7, 0x01}, nulls = 0;
    put_head(&b, 1, "d", "t", &t, 1, meta, 2, &nulls);
    put_bytes(&v, val, n);
    put_tlv(&b, type, &v);
    struct table_map *tm = parse(b.buf, b.len, 8);
    strbuf_free(&b);
    strbuf_free(&v);
    return tm;
}

static void test_malformed(void)
{
    struct strbuf b = {0};
    uint8_t t = MYSQL_T_VARCHAR, meta[2] = {0x10, 0}, nulls = 0;
    put_head(&b, 1, "d", "t", &t, 1, meta, 2, &nulls);
    enum { NCOLS_AT = 8 + 3 + 3, MLEN_AT = NCOLS_AT + 2 }; /* after "\1d\0" and "\1t\0" */
    /* Post-header lengths other than 6 and 8. */
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 7));
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 0));
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 10));
    /* Column count 0. */
    b.buf[NCOLS_AT] = 0;
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 8));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "column count 0"));
    /* Column count 0xfb (NULL marker, not a valid packed integer). */
    b.buf[NCOLS_AT] = (char)0xfb;
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 8));
    b.buf[NCOLS_AT] = 1;
    /* Metadata block too short for the VARCHAR's two bytes. */
    b.buf[MLEN_AT] = 1;
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 8));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "column 1"));
    /* Metadata block longer than the event. */
    b.buf[MLEN_AT] = 9;
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 8));
    b.buf[MLEN_AT] = 2;
    /* Database name longer than the event. */
    b.buf[8] = (char)200;
    CU_ASSERT_PTR_NULL(parse(b.buf, b.len, 8));
    b.buf[8] = 1;
    struct table_map *ok = parse(b.buf, b.len, 8);
    CU_ASSERT_PTR_NOT_NULL(ok);
    table_map_free(ok);
    strbuf_free(&b);

    /* Optional metadata fields with bad contents. */
    CU_ASSERT_PTR_NULL(parse_with_tlv(8, "\x05", 1)); /* primary key column 5 of 1 */
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "primary key column 5 of 1"));
    CU_ASSERT_PTR_NULL(parse_with_tlv(9, "\x00", 1));             /* pair without its prefix */
    CU_ASSERT_PTR_NULL(parse_with_tlv(6, "\xc8\x01\x61", 3));     /* 200 ENUM values, 2 bytes */
    CU_ASSERT_PTR_NULL(parse_with_tlv(6, "\x02\x01\x61\x05", 4)); /* 2nd value runs past */
    CU_ASSERT_PTR_NULL(parse_with_tlv(4, "\x05\x61", 2));         /* column name runs past */
    CU_ASSERT_PTR_NULL(parse_with_tlv(2, "\x2d\x00", 2));         /* exception without coll */
    CU_ASSERT_PTR_NULL(parse_with_tlv(10, "\xfc\x01", 2));        /* default charset cut */
    CU_ASSERT_PTR_NULL(parse_with_tlv(11, "\xfd", 1));            /* column charset cut */
    /* A field whose length is a bad packed integer, or runs past the event. */
    struct strbuf b2 = {0};
    uint8_t t2 = MYSQL_T_TINY, n2 = 0;
    put_head(&b2, 1, "d", "t", &t2, 1, NULL, 0, &n2);
    put_u8(&b2, 1);
    put_u8(&b2, 0xff);
    CU_ASSERT_PTR_NULL(parse(b2.buf, b2.len, 8));
    b2.buf[b2.len - 1] = 5;
    CU_ASSERT_PTR_NULL(parse(b2.buf, b2.len, 8));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "runs past"));
    strbuf_free(&b2);
    /* Valid ENUM values, for contrast. */
    struct table_map *tm = parse_with_tlv(6, "\x02\x01\x61\x00", 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    CU_ASSERT_EQUAL(tm->cols[0].enums.n, 2);
    table_map_free(tm);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("table_map", NULL, NULL);
    CU_add_test(s, "types_and_meta", test_types_and_meta);
    CU_add_test(s, "char_lengths", test_char_lengths);
    CU_add_test(s, "optional_metadata", test_optional_metadata);
    CU_add_test(s, "column_charsets_and_prefix_pk", test_column_charsets_and_prefix_pk);
    CU_add_test(s, "every_truncation", test_every_truncation);
    CU_add_test(s, "malformed", test_malformed);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
