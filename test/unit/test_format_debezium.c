/*
 * test_format_debezium.c — unit tests for src/format_debezium.c: the insert / update / delete
 * envelopes and the DDL schema change event compared byte for byte, the message key, and each
 * column type's conversion from row.c's JSON text to Debezium's value with worked values.
 *
 * Expected values are computed independently of the code under test: epoch days and
 * milliseconds with Python's datetime, DECIMAL bytes with Java's BigInteger.toByteArray() rule
 * (shortest two's complement, big-endian) and base64 by hand; field order from Debezium's
 * schemas (AbstractSourceInfoStructMaker, BinlogSourceInfoStructMaker, SchemaFactory).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_debezium.h"
#include "mysql_types.h"
#include "table_map.h"

static struct strbuf out;

/* ------------------------------------------------------------------------------------------ */
/* One column: its value rendered through the key (the key uses the same value mapping).      */

/* Renders text (row.c's JSON text of the value) for column col as Debezium's value; the result
 * is what follows {"v": in the key, without the closing brace. */
static const char *value(struct table_map_col col, const char *text)
{
    col.name = "v";
    col.json_key = "\"v\":";
    col.json_key_len = 4;
    col.is_pk = true;
    uint32_t pk = 0;
    struct table_map tm = {.db = "d", .table = "t", .ncols = 1, .cols = &col, .pk = &pk, .npk = 1};
    struct change_col cc = {0, 0, (uint32_t)strlen(text)};
    struct change c = {.kind = CHANGE_INSERT, .db = "d", .table = "t", .tmap = &tm, .text = text};
    c.after.cols = &cc;
    c.after.ncols = 1;
    strbuf_reset(&out);
    strbuf_appends(&out, "");
    CU_ASSERT_FATAL(format_debezium_key(&c, &out));
    CU_ASSERT_FATAL(out.len >= 6 && strncmp(out.buf, "{\"v\":", 5) == 0);
    CU_ASSERT_FATAL(out.buf[out.len - 1] == '}');
    out.buf[out.len - 1] = '\0';
    return out.buf + 5;
}

#define COL(t)     ((struct table_map_col){.type = (t), .real_type = (t)})
#define NCOL(t)    ((struct table_map_col){.type = (t), .real_type = (t), .nullable = true})
#define UCOL(t)    ((struct table_map_col){.type = (t), .real_type = (t), .is_unsigned = true})
#define MCOL(t, m) ((struct table_map_col){.type = (t), .real_type = (t), .meta = (m)})
#define DECCOL(p, s)                                                                               \
    ((struct table_map_col){.type = MYSQL_T_NEWDECIMAL, .meta_hi = (p), .meta = (s)})
#define BITCOL(bits)                                                                               \
    ((struct table_map_col){.type = MYSQL_T_BIT, .meta = (bits) % 8, .meta_hi = (bits) / 8})

#define CHECK(col, text, want)                                                                     \
    do {                                                                                           \
        const char *got_ = value(col, text);                                                       \
        if (strcmp(got_, want) != 0)                                                               \
            fprintf(stderr, "\n  %s: want %s, got %s\n", text, want, got_);                        \
        CU_ASSERT_STRING_EQUAL(got_, want);                                                        \
    } while (0)

static void test_integers(void)
{
    CHECK(COL(MYSQL_T_TINY), "-128", "-128");
    CHECK(UCOL(MYSQL_T_TINY), "255", "255");
    CHECK(COL(MYSQL_T_SHORT), "-32768", "-32768");
    CHECK(COL(MYSQL_T_INT24), "8388607", "8388607");
    CHECK(UCOL(MYSQL_T_LONG), "4294967295", "4294967295");
    CHECK(COL(MYSQL_T_LONGLONG), "-9223372036854775808", "-9223372036854775808");
    /* bigint.unsigned.handling.mode=long: the 64 bits as a signed long. */
    CHECK(UCOL(MYSQL_T_LONGLONG), "9223372036854775807", "9223372036854775807");
    CHECK(UCOL(MYSQL_T_LONGLONG), "9223372036854775808", "-9223372036854775808");
    CHECK(UCOL(MYSQL_T_LONGLONG), "18446744073709551615", "-1");
    CHECK(UCOL(MYSQL_T_LONGLONG), "1000000000000000000", "1000000000000000000");
    /* TINYINT(1) / BOOLEAN: the binlog cannot tell them apart; Debezium's INT16 number. */
    CHECK(COL(MYSQL_T_TINY), "1", "1");
    CHECK(COL(MYSQL_T_FLOAT), "1.1", "1.1");
    CHECK(COL(MYSQL_T_DOUBLE), "-2.5e-300", "-2.5e-300");
    CHECK(COL(MYSQL_T_YEAR), "2024", "2024");
    CHECK(COL(MYSQL_T_YEAR), "0", "1900"); /* Debezium reads the stored byte as 1900 + b */
}

static void test_null(void)
{
    CHECK(NCOL(MYSQL_T_LONG), "null", "null");
    CHECK(NCOL(MYSQL_T_NEWDATE), "null", "null");
    CHECK(DECCOL(10, 2), "null", "null");
    CHECK(NCOL(MYSQL_T_JSON), "null", "null");
    CHECK(NCOL(MYSQL_T_GEOMETRY), "null", "null");
}

static void test_decimal(void)
{
    CHECK(DECCOL(10, 2), "\"12.34\"", "\"BNI=\"");   /* 1234 = 04 d2 */
    CHECK(DECCOL(10, 2), "\"-12.34\"", "\"+y4=\"");  /* -1234 = fb 2e */
    CHECK(DECCOL(10, 2), "\"0.00\"", "\"AA==\"");    /* 0 = 00 */
    CHECK(DECCOL(5, 0), "\"128\"", "\"AIA=\"");      /* 00 80: sign byte needed */
    CHECK(DECCOL(5, 0), "\"127\"", "\"fw==\"");      /* 7f */
    CHECK(DECCOL(5, 0), "\"-128\"", "\"gA==\"");     /* 80 */
    CHECK(DECCOL(5, 0), "\"-129\"", "\"/38=\"");     /* ff 7f */
    CHECK(DECCOL(5, 0), "\"-1\"", "\"/w==\"");       /* ff */
    CHECK(DECCOL(5, 0), "\"255\"", "\"AP8=\"");      /* 00 ff */
    CHECK(DECCOL(5, 0), "\"256\"", "\"AQA=\"");      /* 01 00 */
    CHECK(DECCOL(10, 5), "\"0.10000\"", "\"JxA=\""); /* 10000 = 27 10 */
    /* DECIMAL(65,10) from MySqlCdc/mysql-bin.000001; bytes from Python's int.to_bytes. */
    CHECK(DECCOL(65, 10), "\"1234567890112233445566778899001112223334445556667778889.9900011112\"",
          "\"HgK8HpZZkqEBkVvpYKwAOh8Xfpyc+PyYtjJo\"");
    /* 65 nines: 10^65 - 1 is 27 bytes from f3; a 00 sign byte makes 28. */
    CHECK(DECCOL(65, 0), "\"99999999999999999999999999999999999999999999999999999999999999999\"",
          "\"APMWJxx/w5CKi+9GTjlF73olNgn//////////w==\"");
}

static void test_temporal(void)
{
    /* DATE -> days since 1970-01-01. */
    CHECK(COL(MYSQL_T_NEWDATE), "\"1970-01-01\"", "0");
    CHECK(COL(MYSQL_T_NEWDATE), "\"2020-01-01\"", "18262");
    CHECK(COL(MYSQL_T_NEWDATE), "\"1969-12-31\"", "-1");
    CHECK(COL(MYSQL_T_NEWDATE), "\"1000-01-01\"", "-354285");
    CHECK(COL(MYSQL_T_NEWDATE), "\"9999-12-31\"", "2932896");
    CHECK(COL(MYSQL_T_NEWDATE), "\"2000-02-29\"", "11016");
    /* Zero and invalid dates: null when nullable, else the epoch. */
    CHECK(NCOL(MYSQL_T_NEWDATE), "\"0000-00-00\"", "null");
    CHECK(COL(MYSQL_T_NEWDATE), "\"0000-00-00\"", "0");
    CHECK(NCOL(MYSQL_T_NEWDATE), "\"2020-00-10\"", "null");
    CHECK(COL(MYSQL_T_NEWDATE), "\"2021-02-29\"", "0");
    /* DATETIME(0..3) -> epoch ms; DATETIME(4..6) -> epoch µs; UTC. */
    CHECK(MCOL(MYSQL_T_DATETIME2, 0), "\"2018-06-20 06:37:03\"", "1529476623000");
    CHECK(MCOL(MYSQL_T_DATETIME2, 3), "\"1988-11-27 14:12:13.345\"", "596643133345");
    CHECK(MCOL(MYSQL_T_DATETIME2, 2), "\"2018-06-20 06:37:03.12\"", "1529476623120");
    CHECK(MCOL(MYSQL_T_DATETIME2, 6), "\"2018-06-20 06:37:03.123456\"", "1529476623123456");
    CHECK(MCOL(MYSQL_T_DATETIME2, 4), "\"2018-06-20 06:37:03.1234\"", "1529476623123400");
    CHECK(MCOL(MYSQL_T_DATETIME2, 6), "\"1969-12-31 23:59:59.500000\"", "-500000");
    CHECK(COL(MYSQL_T_DATETIME), "\"2018-06-20 06:37:03\"", "1529476623000");
    CHECK(((struct table_map_col){.type = MYSQL_T_DATETIME2, .meta = 6, .nullable = true}),
          "\"0000-00-00 00:00:00.000000\"", "null");
    CHECK(MCOL(MYSQL_T_DATETIME2, 0), "\"0000-00-00 00:00:00\"", "0");
    /* TIME -> µs, signed, beyond 24 h. */
    CHECK(MCOL(MYSQL_T_TIME2, 2), "\"15:22:33.67\"", "55353670000");
    CHECK(MCOL(MYSQL_T_TIME2, 0), "\"-507:48:27\"", "-1828107000000");
    CHECK(MCOL(MYSQL_T_TIME2, 6), "\"-00:00:01.500000\"", "-1500000");
    CHECK(MCOL(MYSQL_T_TIME2, 0), "\"838:59:59\"", "3020399000000");
    CHECK(COL(MYSQL_T_TIME), "\"00:00:00\"", "0");
    /* TIMESTAMP -> ISO-8601 UTC, exactly fsp fraction digits. */
    CHECK(MCOL(MYSQL_T_TIMESTAMP2, 0), "\"2018-06-20 13:37:03\"", "\"2018-06-20T13:37:03Z\"");
    CHECK(MCOL(MYSQL_T_TIMESTAMP2, 3), "\"1985-10-13 10:22:23.567\"",
          "\"1985-10-13T10:22:23.567Z\"");
    CHECK(MCOL(MYSQL_T_TIMESTAMP2, 6), "\"2022-11-20 13:40:30.120000\"",
          "\"2022-11-20T13:40:30.120000Z\"");
    CHECK(MCOL(MYSQL_T_TIMESTAMP2, 0), "\"0000-00-00 00:00:00\"", "\"1970-01-01T00:00:00Z\"");
    CHECK(MCOL(MYSQL_T_TIMESTAMP2, 3), "\"0000-00-00 00:00:00.000\"",
          "\"1970-01-01T00:00:00.000Z\"");
    CHECK(COL(MYSQL_T_TIMESTAMP), "\"2038-01-19 03:14:07\"", "\"2038-01-19T03:14:07Z\"");
}

static void test_strings_binary(void)
{
    CHECK(COL(MYSQL_T_VARCHAR), "\"h\\u00e9 \\\"x\\\"\"", "\"h\\u00e9 \\\"x\\\"\"");
    CHECK(COL(MYSQL_T_BLOB), "\"AAEC/w==\"", "\"AAEC/w==\""); /* binary: base64 as is */
    struct table_map_col e = {.type = MYSQL_T_STRING, .real_type = MYSQL_T_ENUM, .meta = 1};
    CHECK(e, "\"Medium\"", "\"Medium\"");
    struct table_map_col s = {.type = MYSQL_T_STRING, .real_type = MYSQL_T_SET, .meta = 1};
    CHECK(s, "\"a,c\"", "\"a,c\"");
    CHECK(COL(MYSQL_T_VECTOR), "[1.1,2.2,3.3]", "[1.1,2.2,3.3]");
}

static void test_bits(void)
{
    CHECK(BITCOL(1), "1", "true");
    CHECK(BITCOL(1), "0", "false");
    /* BIT(10) b'1000000001' = 0x0201: little-endian 01 02. */
    CHECK(BITCOL(10), "513", "\"AQI=\"");
    CHECK(BITCOL(8), "32", "\"IA==\"");             /* 20 */
    CHECK(BITCOL(3), "4", "\"BA==\"");              /* 04 */
    CHECK(BITCOL(16), "1", "\"AQA=\"");             /* 01 00: padded to 2 bytes */
    CHECK(BITCOL(28), "129324935", "\"h1e1Bw==\""); /* 0x07b55787 */
    CHECK(BITCOL(64), "18446744073709551615", "\"//////////8=\"");
}

static void test_json_geometry(void)
{
    /* MySQL JSON: a string of the compact document text. */
    CHECK(COL(MYSQL_T_JSON), "{\"id\": 1, \"name\": \"John Doe\"}",
          "\"{\\\"id\\\":1,\\\"name\\\":\\\"John Doe\\\"}\"");
    CHECK(COL(MYSQL_T_JSON), "[1, \"a\\\"b, c\", {\"k\": [true, null]}]",
          "\"[1,\\\"a\\\\\\\"b, c\\\",{\\\"k\\\":[true,null]}]\"");
    CHECK(COL(MYSQL_T_JSON), "\"s\\\\\"", "\"\\\"s\\\\\\\\\\\"\"");
    CHECK(COL(MYSQL_T_JSON), "3", "\"3\"");
    /* GEOMETRY: SRID 4326 (e6 10 00 00) + WKB POINT(1 2), as a generic Geometry. */
    const char *pt = "\"e6100000"
                     "0101000000000000000000f03f0000000000000040\"";
    CHECK(COL(MYSQL_T_GEOMETRY), pt, "{\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\",\"srid\":4326}");
    /* The same in a POINT column (GEOMETRY_TYPE metadata 1): io.debezium.data.geometry.Point. */
    struct table_map_col p = {.type = MYSQL_T_GEOMETRY, .geometry_type = 1};
    CHECK(p, pt, "{\"x\":1,\"y\":2,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\",\"srid\":4326}");
    /* SRID 0 is null. */
    CHECK(COL(MYSQL_T_GEOMETRY), "\"000000000101000000000000000000f03f0000000000000040\"",
          "{\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\",\"srid\":null}");
}

/* ------------------------------------------------------------------------------------------ */
/* Envelopes                                                                                   */

static struct table_map_col cols[4];
static uint32_t pk[1] = {0};
static struct table_map tm;

static void setup_table(void)
{
    memset(cols, 0, sizeof(cols));
    cols[0] = (struct table_map_col){.type = MYSQL_T_LONG,
                                     .real_type = MYSQL_T_LONG,
                                     .is_pk = true,
                                     .json_key = "\"id\":",
                                     .json_key_len = 5};
    cols[1] = (struct table_map_col){.type = MYSQL_T_VARCHAR,
                                     .real_type = MYSQL_T_VARCHAR,
                                     .nullable = true,
                                     .json_key = "\"name\":",
                                     .json_key_len = 7};
    cols[2] = (struct table_map_col){.type = MYSQL_T_NEWDECIMAL,
                                     .real_type = MYSQL_T_NEWDECIMAL,
                                     .meta_hi = 10,
                                     .meta = 2,
                                     .nullable = true,
                                     .json_key = "\"price\":",
                                     .json_key_len = 8};
    cols[3] = (struct table_map_col){.type = MYSQL_T_NEWDATE,
                                     .real_type = MYSQL_T_NEWDATE,
                                     .nullable = true,
                                     .json_key = "\"born\":",
                                     .json_key_len = 7};
    tm = (struct table_map){.db = "shop",
                            .table = "customers",
                            .ncols = 4,
                            .cols = cols,
                            .pk = pk,
                            .npk = 1,
                            .has_names = true};
}

/* Arena: 1004 "Anne" "12.34" "2020-01-01" | 1004 "Annie" "-0.50" null */
static const char arena[] = "1004\"Anne\"\"12.34\"\"2020-01-01\""
                            "1004\"Annie\"\"-0.50\"null";
static const struct change_col img1[] = {{0, 0, 4}, {1, 4, 6}, {2, 10, 7}, {3, 17, 12}};
static const struct change_col img2[] = {{0, 29, 4}, {1, 33, 7}, {2, 40, 7}, {3, 47, 4}};

static const struct format_ctx ctx = {.instance = "dbserver1", .now_ms = 1700000000123};

static void row(struct change *c, enum change_kind k)
{
    memset(c, 0, sizeof(*c));
    c->kind = k;
    c->db = "shop";
    c->table = "customers";
    c->tmap = &tm;
    c->ts = 1700000000;
    c->server_id = 223344;
    c->file = "binlog.000003";
    c->pos = 154;
    c->row = 0;
    c->gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:23";
    c->text = arena;
}

#define SOURCE(connector, gtid)                                                                    \
    "\"source\":{\"version\":\"sluice-0.1.0\",\"connector\":\"" connector "\","                    \
    "\"name\":\"dbserver1\",\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"db\":\"shop\","       \
    "\"sequence\":null,\"ts_us\":1700000000000000,\"ts_ns\":1700000000000000000,"                  \
    "\"table\":\"customers\",\"server_id\":223344,\"gtid\":" gtid ",\"file\":\"binlog.000003\","   \
    "\"pos\":154,\"row\":0,\"thread\":null,\"query\":null}"
#define MYSQL_SOURCE SOURCE("mysql", "\"3e11fa47-71ca-11e1-9e33-c80aa9429562:23\"")
#define TAIL(op)                                                                                   \
    ",\"op\":\"" op "\",\"ts_ms\":1700000000123,\"ts_us\":1700000000123000,"                       \
    "\"ts_ns\":1700000000123000000,\"transaction\":null}"
#define AFTER1 "{\"id\":1004,\"name\":\"Anne\",\"price\":\"BNI=\",\"born\":18262}"
#define AFTER2 "{\"id\":1004,\"name\":\"Annie\",\"price\":\"zg==\",\"born\":null}"

static const char *render(const struct change *c)
{
    strbuf_reset(&out);
    strbuf_appends(&out, "");
    format_debezium_render(c, &ctx, &out);
    return out.buf;
}

static void expect(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  want %s\n  got  %s\n", want, got);
    CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_insert(void)
{
    setup_table();
    struct change c;
    row(&c, CHANGE_INSERT);
    c.after = (struct change_image){.cols = img1, .ncols = 4};
    expect(render(&c), "{\"before\":null,\"after\":" AFTER1 "," MYSQL_SOURCE TAIL("c"));
    /* Appends: what was in the buffer stays. */
    strbuf_reset(&out);
    strbuf_appends(&out, "x");
    format_debezium_render(&c, &ctx, &out);
    CU_ASSERT(out.buf[0] == 'x' && out.buf[1] == '{');
}

static void test_update(void)
{
    setup_table();
    struct change c;
    row(&c, CHANGE_UPDATE);
    c.before = (struct change_image){.cols = img1, .ncols = 4};
    c.after = (struct change_image){.cols = img2, .ncols = 4};
    expect(render(&c), "{\"before\":" AFTER1 ",\"after\":" AFTER2 "," MYSQL_SOURCE TAIL("u"));
}

static void test_delete(void)
{
    setup_table();
    struct change c;
    row(&c, CHANGE_DELETE);
    c.before = (struct change_image){.cols = img2, .ncols = 4};
    c.gtid = NULL;
    expect(render(&c), "{\"before\":" AFTER2 ",\"after\":null," SOURCE("mysql", "null") TAIL("d"));
}

static void test_mariadb_and_minimal(void)
{
    setup_table();
    tm.mariadb = true;
    struct change c;
    row(&c, CHANGE_UPDATE);
    c.gtid = "0-1-4";
    /* MINIMAL image: the before image holds the key only; absent columns are absent keys. */
    c.before = (struct change_image){.cols = img1, .ncols = 1};
    c.after = (struct change_image){.cols = img2 + 1, .ncols = 1};
    expect(render(&c), "{\"before\":{\"id\":1004},\"after\":{\"name\":\"Annie\"}," SOURCE(
                           "mariadb", "\"0-1-4\"") TAIL("u"));
    tm.mariadb = false;
}

static void test_ddl(void)
{
    struct change c;
    memset(&c, 0, sizeof(c));
    c.kind = CHANGE_DDL;
    c.db = "shop";
    c.ts = 1700000000;
    c.server_id = 223344;
    c.file = "binlog.000003";
    c.pos = 154;
    c.gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:23";
    const char *sql = "ALTER TABLE customers ADD COLUMN middle_name VARCHAR(2000)";
    c.sql = sql;
    c.sql_len = (uint32_t)strlen(sql);
    expect(render(&c), "{" MYSQL_SOURCE
                       ",\"ts_ms\":1700000000123,\"databaseName\":\"shop\",\"schemaName\":null,"
                       "\"ddl\":\"ALTER TABLE customers ADD COLUMN middle_name VARCHAR(2000)\","
                       "\"tableChanges\":[]}");
    /* A statement on no table: source.table null; quotes and newlines escaped. */
    sql = "CREATE DATABASE \"x\"\n";
    c.sql = sql;
    c.sql_len = (uint32_t)strlen(sql);
    c.gtid = "0-1-9"; /* a MariaDB GTID: connector mariadb */
    const char *got = render(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"connector\":\"mariadb\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"table\":null,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"ddl\":\"CREATE DATABASE \\\"x\\\"\\n\""));
    /* RENAME names every table once, in order. */
    sql = "RENAME TABLE a TO b, b TO c";
    c.sql = sql;
    c.sql_len = (uint32_t)strlen(sql);
    CU_ASSERT_PTR_NOT_NULL(strstr(render(&c), "\"table\":\"a,b,c\","));
}

static void test_key(void)
{
    setup_table();
    struct change c;
    row(&c, CHANGE_DELETE);
    c.before = (struct change_image){.cols = img2, .ncols = 4};
    strbuf_reset(&out);
    strbuf_appends(&out, "");
    CU_ASSERT(format_debezium_key(&c, &out));
    CU_ASSERT_STRING_EQUAL(out.buf, "{\"id\":1004}");
    /* A DECIMAL key uses the same mapping. */
    pk[0] = 2;
    strbuf_reset(&out);
    CU_ASSERT(format_debezium_key(&c, &out));
    CU_ASSERT_STRING_EQUAL(out.buf, "{\"price\":\"zg==\"}");
    pk[0] = 0;
    /* Key column absent from the image: false, nothing appended. */
    c.before = (struct change_image){.cols = img2 + 1, .ncols = 3};
    strbuf_reset(&out);
    strbuf_appends(&out, "k");
    CU_ASSERT_FALSE(format_debezium_key(&c, &out));
    CU_ASSERT_STRING_EQUAL(out.buf, "k");
    /* No primary key known. */
    c.before = (struct change_image){.cols = img2, .ncols = 4};
    tm.npk = 0;
    CU_ASSERT_FALSE(format_debezium_key(&c, &out));
    tm.npk = 1;
    /* No table map. */
    c.tmap = NULL;
    CU_ASSERT_FALSE(format_debezium_key(&c, &out));
    CU_ASSERT_STRING_EQUAL(out.buf, "k");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("format_debezium", NULL, NULL);
    CU_add_test(s, "integers", test_integers);
    CU_add_test(s, "null", test_null);
    CU_add_test(s, "decimal", test_decimal);
    CU_add_test(s, "temporal", test_temporal);
    CU_add_test(s, "strings_binary", test_strings_binary);
    CU_add_test(s, "bits", test_bits);
    CU_add_test(s, "json_geometry", test_json_geometry);
    CU_add_test(s, "insert", test_insert);
    CU_add_test(s, "update", test_update);
    CU_add_test(s, "delete", test_delete);
    CU_add_test(s, "mariadb_and_minimal", test_mariadb_and_minimal);
    CU_add_test(s, "ddl", test_ddl);
    CU_add_test(s, "key", test_key);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&out);
    return failed ? 1 : 0;
}
