/*
 * test_row.c — unit tests for src/row.c: row_render_value for every column type of
 * src/mysql_types.h (storage format → JSON text), every truncation of each value (run under
 * ASan: values are copied to the end of an exactly-sized heap block, so any read past `avail`
 * is caught), and row_decode_image with a columns-present bitmap and NULL bits.
 *
 * Byte vectors are hand-made from the storage formats (MySQL sql/field.cc, log_event.cc); the
 * temporal and DECIMAL bytes were cross-checked with Python's datetime/struct and with the real
 * binlog vectors of test_decimal.c.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_types.h"
#include "row.h"
#include "testutil.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

/* Copies b[0..n) to the END of a fresh heap block of exactly max(n, 1) bytes, so that reading
 * b[n] is a heap overflow ASan reports. Free with free(*blk). */
static const uint8_t *heap_copy(const uint8_t *b, size_t n, void **blk)
{
    uint8_t *m = malloc(n ? n : 1);
    uint8_t *p = m + (n ? 0 : 1);
    if (n)
        memcpy(p, b, n);
    *blk = m;
    return p;
}

static struct strbuf out;
static struct err last_err;

/* Renders the value held in hex (all of it) for column c; returns the JSON text or NULL on
 * error (last_err filled). Checks that exactly the whole value was consumed. */
static const char *render(const struct table_map_col *c, const char *hex)
{
    static uint8_t b[256];
    size_t n = unhex(hex, b);
    void *blk;
    const uint8_t *p = heap_copy(b, n, &blk);
    strbuf_reset(&out);
    strbuf_appends(&out, "");
    memset(&last_err, 0, sizeof(last_err));
    size_t used = 999;
    int rc = row_render_value(c, p, n, &out, &used, &last_err);
    free(blk);
    if (rc) {
        CU_ASSERT(rc < 0);
        CU_ASSERT_EQUAL(rc, last_err.code);
        CU_ASSERT(last_err.msg[0] != '\0');
        return NULL;
    }
    CU_ASSERT_EQUAL(used, n);
    return out.buf;
}

/* Every strict prefix of the value must be refused without reading past it. */
static void check_truncations(const struct table_map_col *c, const char *hex)
{
    uint8_t b[256];
    size_t n = unhex(hex, b);
    for (size_t k = 0; k < n; k++) {
        void *blk;
        const uint8_t *p = heap_copy(b, k, &blk);
        strbuf_reset(&out);
        struct err e = {0};
        size_t used = 999;
        int rc = row_render_value(c, p, k, &out, &used, &e);
        free(blk);
        if (rc == 0)
            fprintf(stderr, "\n  type %u: %zu of %zu bytes accepted: %s\n", c->type, k, n, out.buf);
        CU_ASSERT_EQUAL(rc, ERR_DECODE);
        CU_ASSERT_EQUAL(e.code, ERR_DECODE);
        CU_ASSERT(e.msg[0] != '\0');
    }
}

struct vcase {
    struct table_map_col col;
    const char *hex;
    const char *want; /* NULL: must fail */
};

static void run_cases(const struct vcase *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = render(&v[i].col, v[i].hex);
        if (v[i].want == NULL) {
            if (got)
                fprintf(stderr, "\n  case %zu (type %u, %s): want an error, got %s\n", i,
                        v[i].col.type, v[i].hex, got);
            CU_ASSERT_PTR_NULL(got);
            continue;
        }
        if (!got || strcmp(got, v[i].want) != 0)
            fprintf(stderr, "\n  case %zu (type %u, %s): want %s, got %s (%s)\n", i, v[i].col.type,
                    v[i].hex, v[i].want, got ? got : "error", last_err.msg);
        CU_ASSERT_PTR_NOT_NULL(got);
        if (got)
            CU_ASSERT_STRING_EQUAL(got, v[i].want);
        check_truncations(&v[i].col, v[i].hex);
    }
}

#define RUN(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

/* Column makers (brace initializers; kept on one line each). */
/* clang-format off */
#define COL(t)              {.type = (t), .real_type = (t)}
#define UCOL(t)             {.type = (t), .real_type = (t), .is_unsigned = true}
#define MCOL(t, m)          {.type = (t), .real_type = (t), .meta = (m)}
#define BITCOL(bits)        {.type = MYSQL_T_BIT, .real_type = MYSQL_T_BIT, .meta = (bits) % 8, \
                             .meta_hi = (bits) / 8}
#define DECCOL(prec, scale) {.type = MYSQL_T_NEWDECIMAL, .real_type = MYSQL_T_NEWDECIMAL, \
                             .meta = (scale), .meta_hi = (prec)}
#define CHARCOL(t, m, coll) {.type = (t), .real_type = (t), .meta = (m), .collation = (coll)}
/* clang-format on */

/* ------------------------------------------------------------------------------------------ */
/* Numbers                                                                                     */

static void test_integers(void)
{
    static const struct vcase v[] = {
        {COL(MYSQL_T_TINY), "80", "-128"},
        {COL(MYSQL_T_TINY), "7f", "127"},
        {COL(MYSQL_T_TINY), "ff", "-1"},
        {COL(MYSQL_T_TINY), "00", "0"},
        {UCOL(MYSQL_T_TINY), "ff", "255"},
        {UCOL(MYSQL_T_TINY), "80", "128"},
        {COL(MYSQL_T_SHORT), "0080", "-32768"},
        {COL(MYSQL_T_SHORT), "ff7f", "32767"},
        {UCOL(MYSQL_T_SHORT), "ffff", "65535"},
        {COL(MYSQL_T_INT24), "000080", "-8388608"},
        {COL(MYSQL_T_INT24), "ffff7f", "8388607"},
        {COL(MYSQL_T_INT24), "ffffff", "-1"},
        {UCOL(MYSQL_T_INT24), "ffffff", "16777215"},
        {UCOL(MYSQL_T_INT24), "000080", "8388608"},
        {COL(MYSQL_T_LONG), "00000080", "-2147483648"},
        {COL(MYSQL_T_LONG), "ffffff7f", "2147483647"},
        {COL(MYSQL_T_LONG), "39300000", "12345"},
        {UCOL(MYSQL_T_LONG), "ffffffff", "4294967295"},
        {COL(MYSQL_T_LONGLONG), "0000000000000080", "-9223372036854775808"},
        {COL(MYSQL_T_LONGLONG), "ffffffffffffff7f", "9223372036854775807"},
        {COL(MYSQL_T_LONGLONG), "ffffffffffffffff", "-1"},
        {UCOL(MYSQL_T_LONGLONG), "ffffffffffffffff", "18446744073709551615"},
        {UCOL(MYSQL_T_LONGLONG), "0000000000000080", "9223372036854775808"},
    };
    RUN(v);
}

static void test_floats(void)
{
    static const struct vcase v[] = {
        {MCOL(MYSQL_T_FLOAT, 4), "cdcc8c3f", "1.1"},
        {MCOL(MYSQL_T_FLOAT, 4), "0000c03f", "1.5"},
        {MCOL(MYSQL_T_FLOAT, 4), "00000080", "-0"},
        {MCOL(MYSQL_T_FLOAT, 4), "ffff7f7f", "3.4028235e+38"},
        {MCOL(MYSQL_T_FLOAT, 4), "0000c07f", "null"}, /* NaN */
        {MCOL(MYSQL_T_FLOAT, 4), "0000807f", "null"}, /* +inf */
        {MCOL(MYSQL_T_DOUBLE, 8), "9a9999999999b93f", "0.1"},
        {MCOL(MYSQL_T_DOUBLE, 8), "9c7500883ce437fe", "-1e+300"},
        {MCOL(MYSQL_T_DOUBLE, 8), "0100000000000000", "5e-324"},
        {MCOL(MYSQL_T_DOUBLE, 8), "000000000000f87f", "null"},
        {MCOL(MYSQL_T_DOUBLE, 8), "000000000000f0ff", "null"}, /* -inf */
    };
    RUN(v);
}

static void test_bit_year_null(void)
{
    static const struct vcase v[] = {
        {BITCOL(1), "01", "1"},
        {BITCOL(1), "00", "0"},
        {BITCOL(7), "7f", "127"},
        {BITCOL(8), "ff", "255"},
        {BITCOL(9), "0101", "257"}, /* big-endian */
        {BITCOL(10), "0201", "513"},
        {BITCOL(16), "abcd", "43981"},
        {BITCOL(63), "7fffffffffffffff", "9223372036854775807"},
        {BITCOL(64), "ffffffffffffffff", "18446744073709551615"},
        {BITCOL(64), "0000000000000001", "1"},
        {COL(MYSQL_T_YEAR), "00", "0"},
        {COL(MYSQL_T_YEAR), "01", "1901"},
        {COL(MYSQL_T_YEAR), "7d", "2025"},
        {COL(MYSQL_T_YEAR), "ff", "2155"},
    };
    RUN(v);
    /* NULL type: no bytes, null. */
    struct table_map_col nc = COL(MYSQL_T_NULL);
    const char *got = render(&nc, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, "null");
}

static void test_decimal(void)
{
    static const struct vcase v[] = {
        {DECCOL(10, 2), "8000007b2d", "\"123.45\""},
        {DECCOL(4, 2), "1c9c", "\"-99.99\""},
        {DECCOL(4, 2), "e363", "\"99.99\""},
        {DECCOL(5, 0), "800000", "\"0\""},
        {DECCOL(5, 0), "803039", "\"12345\""},
        {DECCOL(15, 14), "893b9ac9ff01869f", "\"9.99999999999999\""},
    };
    RUN(v);
    /* Invalid precision/scale: an error, not a read of an arbitrary size. */
    struct table_map_col bad = DECCOL(0, 0);
    CU_ASSERT_PTR_NULL(render(&bad, "80"));
    struct table_map_col bad2 = DECCOL(5, 6);
    CU_ASSERT_PTR_NULL(render(&bad2, "800000"));
}

/* ------------------------------------------------------------------------------------------ */
/* Temporals                                                                                   */

static void test_temporals(void)
{
    static const struct vcase v[] = {
        {COL(MYSQL_T_DATE), "5dd00f", "\"2024-02-29\""},
        {COL(MYSQL_T_DATE), "000000", "\"0000-00-00\""},
        {COL(MYSQL_T_NEWDATE), "5dd00f", "\"2024-02-29\""},
        {COL(MYSQL_T_TIME), "40e201", "\"12:34:56\""},
        {COL(MYSQL_T_TIME), "25d8ff", "\"-01:02:03\""},
        {MCOL(MYSQL_T_TIME2, 0), "80c8b8", "\"12:34:56\""},
        {MCOL(MYSQL_T_TIME2, 0), "7fffff", "\"-00:00:01\""},
        {MCOL(MYSQL_T_TIME2, 0), "b46efb", "\"838:59:59\""},
        {MCOL(MYSQL_T_TIME2, 1), "80c8b832", "\"12:34:56.5\""},
        {MCOL(MYSQL_T_TIME2, 3), "80c8b804ce", "\"12:34:56.123\""},
        {MCOL(MYSQL_T_TIME2, 6), "80c8b8000001", "\"12:34:56.000001\""},
        {MCOL(MYSQL_T_DATETIME2, 0), "99b2badb46", "\"2024-02-29 13:45:06\""},
        {MCOL(MYSQL_T_DATETIME2, 0), "fef3ff7efb", "\"9999-12-31 23:59:59\""},
        {MCOL(MYSQL_T_DATETIME2, 0), "8000000000", "\"0000-00-00 00:00:00\""},
        {MCOL(MYSQL_T_DATETIME2, 3), "99b2badb4604ce", "\"2024-02-29 13:45:06.123\""},
        {MCOL(MYSQL_T_DATETIME2, 6), "99b2badb4609fbf1", "\"2024-02-29 13:45:06.654321\""},
        {COL(MYSQL_T_DATETIME), "aaf0aa8b68120000", "\"2024-02-29 13:45:06\""},
        {COL(MYSQL_T_TIMESTAMP), "628ae065", "\"2024-02-29 13:45:06\""},
        {COL(MYSQL_T_TIMESTAMP), "00000000", "\"0000-00-00 00:00:00\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 0), "65e08a62", "\"2024-02-29 13:45:06\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 0), "7fffffff", "\"2038-01-19 03:14:07\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 0), "00000000", "\"0000-00-00 00:00:00\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 2), "65e08a620c", "\"2024-02-29 13:45:06.12\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 3), "000000000000", "\"0000-00-00 00:00:00.000\""},
        {MCOL(MYSQL_T_TIMESTAMP2, 6), "65e08a6209fbf1", "\"2024-02-29 13:45:06.654321\""},
    };
    RUN(v);
    /* fsp outside 0..6 is corrupt metadata. */
    struct table_map_col bad = MCOL(MYSQL_T_DATETIME2, 7);
    CU_ASSERT_PTR_NULL(render(&bad, "99b2badb4609fbf100"));
}

/* ------------------------------------------------------------------------------------------ */
/* Strings                                                                                     */

static void test_varchar_char(void)
{
    static const struct vcase v[] = {
        /* VARCHAR: 1-byte length below 256 bytes of max length, 2 bytes from 256. */
        {CHARCOL(MYSQL_T_VARCHAR, 20, 45), "03616263", "\"abc\""},
        {CHARCOL(MYSQL_T_VARCHAR, 255, 45), "00", "\"\""},
        {CHARCOL(MYSQL_T_VARCHAR, 256, 45), "0300616263", "\"abc\""},
        {CHARCOL(MYSQL_T_VARCHAR, 1020, 45), "030068c3a9", "\"h\xc3\xa9\""},
        {CHARCOL(MYSQL_T_VAR_STRING, 20, 33), "026869", "\"hi\""},
        /* Quote, backslash and tab inside the text are escaped. */
        {CHARCOL(MYSQL_T_VARCHAR, 20, 45), "03225c09", "\"\\\"\\\\\\t\""},
        {CHARCOL(MYSQL_T_VARCHAR, 20, 63), "0300ff61", "\"AP9h\""}, /* VARBINARY */
        {CHARCOL(MYSQL_T_VARCHAR, 20, 8), "02e9e8", "\"\xc3\xa9\xc3\xa8\""},
        {CHARCOL(MYSQL_T_VARCHAR, 20, 0), "02c3a9", "\"\xc3\xa9\""}, /* unknown, UTF-8 */
        {CHARCOL(MYSQL_T_VARCHAR, 20, 0), "02e9ff", "\"6f8=\""},     /* unknown, not UTF-8 */
        /* CHAR: type STRING, real type STRING, meta = max byte length. */
        {CHARCOL(MYSQL_T_STRING, 40, 8), "0241e9", "\"A\xc3\xa9\""},
        {CHARCOL(MYSQL_T_STRING, 255, 45), "03612062", "\"a b\""},
        {CHARCOL(MYSQL_T_STRING, 1020, 45), "02006869", "\"hi\""},
        /* BINARY(16): the server strips the 0x00 padding; the value is given back whole. */
        {CHARCOL(MYSQL_T_STRING, 16, 63), "0400010203", "\"AAECAwAAAAAAAAAAAAAAAA==\""},
        {CHARCOL(MYSQL_T_STRING, 4, 63), "00", "\"AAAAAA==\""},
    };
    RUN(v);
}

static char *abc_v[] = {"a", "b", "c"};
static uint32_t abc_len[] = {1, 1, 1};
static char *latin_v[] = {"\xe9t\xe9", "hiver"};
static uint32_t latin_len[] = {3, 5};

/* clang-format off */
#define ENUMCOL(m, nn, vv, ll, coll)                                                        \
    {.type = MYSQL_T_STRING, .real_type = MYSQL_T_ENUM, .meta = (m), .collation = (coll), \
     .enums = {(nn), (vv), (ll)}}
#define SETCOL(m, nn, vv, ll, coll)                                                         \
    {.type = MYSQL_T_STRING, .real_type = MYSQL_T_SET, .meta = (m), .collation = (coll),  \
     .enums = {(nn), (vv), (ll)}}
/* clang-format on */

static void test_enum_set(void)
{
    static const struct vcase v[] = {
        {ENUMCOL(1, 3, abc_v, abc_len, 45), "02", "\"b\""},
        {ENUMCOL(1, 3, abc_v, abc_len, 45), "01", "\"a\""},
        {ENUMCOL(1, 3, abc_v, abc_len, 45), "00", "\"\""}, /* index 0: the invalid value '' */
        {ENUMCOL(1, 3, abc_v, abc_len, 45), "04", "\"\""}, /* beyond the list */
        {ENUMCOL(1, 3, abc_v, abc_len, 0), "03", "\"c\""}, /* no charset: utf8mb4 */
        {ENUMCOL(2, 3, abc_v, abc_len, 45), "0300", "\"c\""},
        {ENUMCOL(1, 2, latin_v, latin_len, 8), "01", "\"\xc3\xa9t\xc3\xa9\""},
        {ENUMCOL(1, 0, NULL, NULL, 0), "02", "2"}, /* no names: the index */
        {ENUMCOL(1, 0, NULL, NULL, 0), "00", "0"},
        {ENUMCOL(2, 0, NULL, NULL, 0), "0201", "258"},
        {SETCOL(1, 3, abc_v, abc_len, 45), "05", "\"a,c\""},
        {SETCOL(1, 3, abc_v, abc_len, 45), "07", "\"a,b,c\""},
        {SETCOL(1, 3, abc_v, abc_len, 45), "00", "\"\""},
        {SETCOL(1, 3, abc_v, abc_len, 45), "f8", "\"\""}, /* bits beyond the members */
        {SETCOL(1, 2, latin_v, latin_len, 8), "03", "\"\xc3\xa9t\xc3\xa9,hiver\""},
        {SETCOL(1, 0, NULL, NULL, 0), "05", "5"},
        {SETCOL(2, 0, NULL, NULL, 0), "0180", "32769"},
        {SETCOL(8, 0, NULL, NULL, 0), "ffffffffffffffff", "18446744073709551615"},
        /* type byte ENUM / SET directly (as MariaDB can send) with a real type set. */
        {{.type = MYSQL_T_ENUM, .real_type = MYSQL_T_ENUM, .meta = 1}, "02", "2"},
        {{.type = MYSQL_T_SET, .real_type = MYSQL_T_SET, .meta = 1}, "03", "3"},
    };
    RUN(v);
    /* Pack lengths the server never writes. */
    struct table_map_col e3 = ENUMCOL(3, 0, NULL, NULL, 0);
    CU_ASSERT_PTR_NULL(render(&e3, "010000"));
    struct table_map_col e0 = ENUMCOL(0, 0, NULL, NULL, 0);
    CU_ASSERT_PTR_NULL(render(&e0, "01"));
    struct table_map_col s9 = SETCOL(9, 0, NULL, NULL, 0);
    CU_ASSERT_PTR_NULL(render(&s9, "010000000000000000"));
}

/* ------------------------------------------------------------------------------------------ */
/* BLOB family                                                                                 */

static void test_blobs(void)
{
    static const struct vcase v[] = {
        /* Length prefix of meta bytes (1..4), little-endian. */
        {CHARCOL(MYSQL_T_BLOB, 1, 63), "03000102", "\"AAEC\""},
        {CHARCOL(MYSQL_T_BLOB, 2, 63), "0000", "\"\""},
        {CHARCOL(MYSQL_T_BLOB, 2, 45), "060068c3a96c6c6f", "\"h\xc3\xa9llo\""},
        {CHARCOL(MYSQL_T_BLOB, 3, 8), "010000e9", "\"\xc3\xa9\""},
        {CHARCOL(MYSQL_T_BLOB, 4, 0), "02000000c3a9", "\"\xc3\xa9\""},
        {CHARCOL(MYSQL_T_BLOB, 4, 0), "02000000e9ff", "\"6f8=\""},
        {CHARCOL(MYSQL_T_BLOB, 4, 45), "02000000e9ff", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
        {CHARCOL(MYSQL_T_TINY_BLOB, 1, 45), "0178", "\"x\""},
        {CHARCOL(MYSQL_T_MEDIUM_BLOB, 3, 63), "020000fffe", "\"//4=\""},
        {CHARCOL(MYSQL_T_LONG_BLOB, 4, 45), "0100000022", "\"\\\"\""},
        /* GEOMETRY: SRID + WKB, as lowercase hex. POINT(1 2) */
        {MCOL(MYSQL_T_GEOMETRY, 4), "19000000000000000101000000000000000000f03f0000000000000040",
         "\"000000000101000000000000000000f03f0000000000000040\""},
        {MCOL(MYSQL_T_GEOMETRY, 4), "00000000", "\"\""},
        /* VECTOR: little-endian floats. */
        {MCOL(MYSQL_T_VECTOR, 4), "080000000000c03f000000c0", "[1.5,-2]"},
        {MCOL(MYSQL_T_VECTOR, 4), "04000000cdcc8c3f", "[1.1]"},
        {MCOL(MYSQL_T_VECTOR, 4), "00000000", "[]"},
        /* JSON: binary document {"a": 1} (small object, one inlined int16), true, empty. */
        {MCOL(MYSQL_T_JSON, 4),
         "0d000000"
         "00"       /* small object */
         "0100"     /* one member */
         "0c00"     /* 12 bytes */
         "0b000100" /* key at offset 11, 1 byte */
         "050100"   /* int16, inlined 1 */
         "61",      /* "a" */
         "{\"a\": 1}"},
        {MCOL(MYSQL_T_JSON, 4), "020000000401", "true"},
        {MCOL(MYSQL_T_JSON, 4), "00000000", "null"},
        {MCOL(MYSQL_T_JSON, 2), "02000401", "true"},
        /* MariaDB COMPRESSED columns, bytes from a MariaDB 10.11 binlog: header 0x89 = raw
         * deflate, 1-byte original length 120 ("ab" x 60); 0x00 = stored as is. */
        {CHARCOL(MYSQL_T_VARCHAR_COMPRESSED, 201, 45), "0989784b4c4a1c100800",
         "\"abababababababababababababababababababababababababababababababababababababababababab"
         "abababababababababababababababababab\""},
        {CHARCOL(MYSQL_T_VARCHAR_COMPRESSED, 201, 45), "050074696e79", "\"tiny\""},
        {CHARCOL(MYSQL_T_BLOB_COMPRESSED, 2, 45), "06000073686f7274", "\"short\""},
        /* 0x8a: raw deflate, 2-byte length 300 ("xyz" x 100), binary collation: base64. */
        {CHARCOL(MYSQL_T_BLOB_COMPRESSED, 2, 63), "0c008a012caba8acaa1845c42100",
         "\"eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl"
         "6"
         "eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6"
         "eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6"
         "eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6"
         "eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6\""},
    };
    RUN(v);
    /* A compressed value whose stream does not unpack to the stated length. */
    struct table_map_col cv = CHARCOL(MYSQL_T_VARCHAR_COMPRESSED, 201, 45);
    CU_ASSERT_PTR_NULL(render(&cv, "0989794b4c4a1c100800"));
    /* Invalid metadata and contents. */
    struct table_map_col b0 = CHARCOL(MYSQL_T_BLOB, 0, 63);
    CU_ASSERT_PTR_NULL(render(&b0, "00"));
    struct table_map_col b5 = CHARCOL(MYSQL_T_BLOB, 5, 63);
    CU_ASSERT_PTR_NULL(render(&b5, "0000000000"));
    struct table_map_col vec = MCOL(MYSQL_T_VECTOR, 4);
    CU_ASSERT_PTR_NULL(render(&vec, "03000000000000"));
    struct table_map_col js = MCOL(MYSQL_T_JSON, 4);
    CU_ASSERT_PTR_NULL(render(&js, "01000000ff")); /* bad JSON type byte */
    struct table_map_col bit = BITCOL(72);         /* 9 bytes: more than BIT(64) */
    CU_ASSERT_PTR_NULL(render(&bit, "000000000000000000"));
}

static void test_unsupported(void)
{
    static const uint8_t types[] = {MYSQL_T_DECIMAL, MYSQL_T_TYPED_ARRAY, MYSQL_T_INVALID,
                                    MYSQL_T_BOOL, 100};
    for (size_t i = 0; i < sizeof(types); i++) {
        struct table_map_col c = COL(types[i]);
        CU_ASSERT_PTR_NULL(render(&c, "0000000000000000"));
        CU_ASSERT_EQUAL(last_err.code, ERR_DECODE_UNSUPPORTED);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* row_decode_image                                                                            */

static void test_decode_image(void)
{
    struct table_map_col cols[5] = {
        COL(MYSQL_T_LONG),     CHARCOL(MYSQL_T_VARCHAR, 40, 45),
        COL(MYSQL_T_LONG),     COL(MYSQL_T_LONG),
        MCOL(MYSQL_T_JSON, 4),
    };
    cols[0].name = "id";
    struct table_map tm = {.db = "d", .table = "t", .ncols = 5, .cols = cols, .njson = 1};
    /* Columns 0, 2, 3, 4 present (1 is absent: MINIMAL image); of the four present, the
     * third (column 3) is NULL. */
    uint8_t present[1] = {0x1d};
    uint8_t img[64];
    size_t n = unhex("04"           /* NULL bitmap over present columns: bit 2 */
                     "07000000"     /* col 0 = 7 */
                     "ffffffff"     /* col 2 = -1 */
                     "020000000401" /* col 4 = true */
                     "aa",          /* next image: must not be consumed */
                     img);
    struct row_raw raw[5] = {{0}};
    struct row_image_in in = {.tm = &tm, .present = present, .raw = raw};
    struct change_col cc[5];
    uint32_t ncc = 99;
    struct err e = {0};
    strbuf_reset(&out);
    void *blk;
    const uint8_t *p = heap_copy(img, n, &blk);
    const uint8_t *q = p;
    int rc = row_decode_image(&in, &q, p + n, &out, cc, &ncc, NULL, NULL, &e);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(q - p, (ptrdiff_t)(n - 1));
    CU_ASSERT_EQUAL_FATAL(ncc, 4);
    CU_ASSERT_STRING_EQUAL(out.buf, "7-1nulltrue");
    static const struct change_col want[] = {{0, 0, 1}, {2, 1, 2}, {3, 3, 4}, {4, 7, 4}};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(cc[i].index, want[i].index);
        CU_ASSERT_EQUAL(cc[i].off, want[i].off);
        CU_ASSERT_EQUAL(cc[i].len, want[i].len);
    }
    /* The JSON column's raw bytes are kept for PARTIAL_UPDATE diffs. */
    CU_ASSERT(raw[4].set);
    CU_ASSERT_EQUAL(raw[4].n, 2);
    CU_ASSERT_PTR_EQUAL(raw[4].p, p + 1 + 4 + 4 + 4);
    CU_ASSERT(!raw[0].set);

    /* Every truncation of the image fails with the column named, never reads past. */
    for (size_t k = 0; k < n - 1; k++) {
        void *b2;
        const uint8_t *p2 = heap_copy(img, k, &b2);
        const uint8_t *q2 = p2;
        struct err e2 = {0};
        strbuf_reset(&out);
        rc = row_decode_image(&in, &q2, p2 + k, &out, cc, &ncc, NULL, NULL, &e2);
        CU_ASSERT_EQUAL(rc, ERR_DECODE);
        CU_ASSERT_PTR_EQUAL(q2, p2); /* not advanced on error */
        if (k >= 1 && k < 5)
            CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "`d`.`t` column 1 (id, type 3)"));
        if (k >= 5 && k < 9)
            CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "column 3 (?, type 3)"));
        free(b2);
    }
    free(blk);

    /* All NULL: only the bitmap is read. */
    uint8_t allnull[1] = {0x0f};
    q = allnull;
    strbuf_reset(&out);
    rc = row_decode_image(&in, &q, allnull + 1, &out, cc, &ncc, NULL, NULL, &e);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(ncc, 4);
    CU_ASSERT_EQUAL(q, allnull + 1);
    CU_ASSERT_STRING_EQUAL(out.buf, "nullnullnullnull");

    /* More than 8 present columns: a 2-byte NULL bitmap. */
    struct table_map_col many[10];
    for (int i = 0; i < 10; i++)
        many[i] = (struct table_map_col)COL(MYSQL_T_TINY);
    struct table_map tm10 = {.db = "d", .table = "t", .ncols = 10, .cols = many};
    uint8_t present10[2] = {0xff, 0x03};
    uint8_t img10[] = {0xfe, 0x03, 42}; /* only column 0 not NULL */
    struct change_col cc10[10];
    struct row_image_in in10 = {.tm = &tm10, .present = present10};
    q = img10;
    strbuf_reset(&out);
    rc = row_decode_image(&in10, &q, img10 + sizeof(img10), &out, cc10, &ncc, NULL, NULL, &e);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(ncc, 10);
    CU_ASSERT_EQUAL(q, img10 + 3);
    CU_ASSERT_EQUAL(strncmp(out.buf, "42null", 6), 0);
    CU_ASSERT_EQUAL(cc10[9].index, 9);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("row", NULL, NULL);
    CU_add_test(s, "integers", test_integers);
    CU_add_test(s, "floats", test_floats);
    CU_add_test(s, "bit_year_null", test_bit_year_null);
    CU_add_test(s, "decimal", test_decimal);
    CU_add_test(s, "temporals", test_temporals);
    CU_add_test(s, "varchar_char", test_varchar_char);
    CU_add_test(s, "enum_set", test_enum_set);
    CU_add_test(s, "blobs", test_blobs);
    CU_add_test(s, "unsupported", test_unsupported);
    CU_add_test(s, "decode_image", test_decode_image);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&out);
    return failed ? 1 : 0;
}
