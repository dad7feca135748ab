/*
 * test_format_canal.c — unit tests for src/format_canal.c: flatMessage rows (insert, update,
 * delete) and DDL compared byte for byte, every value conversion from the `json` text row.c
 * produces, sqlType's value-dependent rules, mysqlType text, the message key.
 *
 * Table maps are built by hand (struct table_map_col arrays) and values are given as the
 * `json` format's text, exactly as row.c renders them. Includes the .c to test the Java float
 * formatting directly.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/format_canal.c"

static struct strbuf out;

/* ------------------------------------------------------------------------------------------ */
/* Building tables and changes                                                                 */

#define MAXC 16

struct tbl {
    struct table_map tm;
    struct table_map_col cols[MAXC];
    char keys[MAXC][40];
    uint32_t pk[MAXC];
};

static void col(struct tbl *t, const char *name, uint8_t type, uint16_t meta, uint8_t meta_hi)
{
    uint32_t i = t->tm.ncols++;
    struct table_map_col *c = &t->cols[i];
    memset(c, 0, sizeof(*c));
    c->type = c->real_type = type;
    c->meta = meta;
    c->meta_hi = meta_hi;
    c->name = (char *)name;
    if (name)
        snprintf(t->keys[i], sizeof(t->keys[i]), "\"%s\":", name);
    else
        snprintf(t->keys[i], sizeof(t->keys[i]), "\"@%u\":", i + 1);
    c->json_key = t->keys[i];
    c->json_key_len = (uint32_t)strlen(t->keys[i]);
}

static struct table_map_col *last(struct tbl *t)
{
    return &t->cols[t->tm.ncols - 1];
}

static void tbl_init(struct tbl *t, const char *db, const char *table)
{
    memset(t, 0, sizeof(*t));
    t->tm.db = (char *)db;
    t->tm.table = (char *)table;
    t->tm.cols = t->cols;
    t->tm.pk = t->pk;
}

static void set_pk(struct tbl *t, uint32_t i)
{
    t->pk[t->tm.npk++] = i;
    t->cols[i].is_pk = true;
}

/* An image from NULL-terminated value texts, one per column index (a NULL pointer = absent). */
struct img {
    struct change_col cols[MAXC];
    uint32_t n;
};

static char arena[8192];
static size_t arena_len;

static void image(struct img *im, const char *const *vals, uint32_t ncols)
{
    im->n = 0;
    for (uint32_t i = 0; i < ncols; i++) {
        if (!vals[i])
            continue;
        size_t l = strlen(vals[i]);
        memcpy(arena + arena_len, vals[i], l);
        im->cols[im->n++] = (struct change_col){i, (uint32_t)arena_len, (uint32_t)l};
        arena_len += l;
    }
}

static struct change
row_change(enum change_kind k, struct tbl *t, struct img *before, struct img *after)
{
    struct change c;
    memset(&c, 0, sizeof(c));
    c.kind = k;
    c.db = t->tm.db;
    c.table = t->tm.table;
    c.tmap = &t->tm;
    c.ts = 1700000000;
    c.gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:23";
    if (before)
        c.before = (struct change_image){.cols = before->cols, .ncols = before->n};
    if (after)
        c.after = (struct change_image){.cols = after->cols, .ncols = after->n};
    c.text = arena;
    return c;
}

static const struct format_ctx ctx = {"test", 7, 1700000000123};

static const char *render(const struct change *c)
{
    strbuf_reset(&out);
    format_canal_render(c, &ctx, &out);
    /* The maps here are built by hand and changed between renders: drop what the format
     * cached in them (table_map_free does that for real maps). */
    struct table_map *tm = (struct table_map *)c->tmap;
    if (tm) {
        free(tm->canal_types);
        tm->canal_types = NULL;
        tm->canal_types_len = 0;
    }
    return out.buf;
}

#define EXPECT_STR(got, want)                                                                      \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (strcmp(g_, w_) != 0)                                                                   \
            fprintf(stderr, "\n  got  %s\n  want %s\n", g_, w_);                                   \
        CU_ASSERT_STRING_EQUAL(g_, w_);                                                            \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* The all-types table                                                                         */

static struct tbl all;

static void all_types(void)
{
    tbl_init(&all, "shop", "t");
    col(&all, "id", MYSQL_T_LONGLONG, 0, 0);
    last(&all)->is_unsigned = true;
    col(&all, "d", MYSQL_T_NEWDECIMAL, 2, 10);
    col(&all, "f", MYSQL_T_FLOAT, 4, 0);
    col(&all, "g", MYSQL_T_DOUBLE, 8, 0);
    col(&all, "dt", MYSQL_T_DATETIME2, 3, 0);
    col(&all, "z", MYSQL_T_DATE, 0, 0);
    col(&all, "b", MYSQL_T_VARCHAR, 4, 0);
    last(&all)->collation = 63;
    col(&all, "n", MYSQL_T_VARCHAR, 40, 0);
    last(&all)->collation = 255;
    col(&all, "e", MYSQL_T_STRING, 1, 0);
    last(&all)->real_type = MYSQL_T_ENUM;
    last(&all)->collation = 255;
    static char *ev[] = {"a", "b'c"};
    static uint32_t el[] = {1, 3};
    last(&all)->enums = (struct table_map_strs){2, ev, el};
    col(&all, "s", MYSQL_T_STRING, 1, 0);
    last(&all)->real_type = MYSQL_T_SET;
    static char *sv[] = {"x", "y"};
    static uint32_t sl[] = {1, 1};
    last(&all)->enums = (struct table_map_strs){2, sv, sl};
    col(&all, "j", MYSQL_T_JSON, 4, 0);
    col(&all, "bt", MYSQL_T_BIT, 0, 1);
    col(&all, "y", MYSQL_T_YEAR, 0, 0);
    col(&all, "t", MYSQL_T_TINY, 0, 0);
    last(&all)->is_unsigned = true;
    set_pk(&all, 0);
}

static const char *const all_vals[] = {
    "18446744073709551615",
    "\"-12.34\"",
    "5",
    "1e-05",
    "\"2020-01-02 03:04:05.678\"",
    "\"0000-00-00\"",
    "\"AP8=\"", /* 0x00 0xff */
    "null",
    "\"b'c\"",
    "\"x,y\"",
    "{\"k\": [1, \"two\"]}",
    "32",
    "0",
    "200",
};

static const char all_mysql_type[] =
    "\"mysqlType\":{\"id\":\"bigint unsigned\",\"d\":\"decimal(10,2)\",\"f\":\"float\","
    "\"g\":\"double\",\"dt\":\"datetime(3)\",\"z\":\"date\",\"b\":\"varbinary(4)\","
    "\"n\":\"varchar(10)\",\"e\":\"enum('a','b''c')\",\"s\":\"set('x','y')\",\"j\":\"json\","
    "\"bt\":\"bit(8)\",\"y\":\"year\",\"t\":\"tinyint unsigned\"}";

static const char all_sql_type[] =
    "\"sqlType\":{\"id\":3,\"d\":3,\"f\":7,\"g\":8,\"dt\":93,\"z\":91,"
    "\"b\":2004,\"n\":12,\"e\":4,\"s\":-7,\"j\":12,\"bt\":-7,"
    "\"y\":12,\"t\":5}";

static void test_insert(void)
{
    all_types();
    arena_len = 0;
    struct img a;
    image(&a, all_vals, 14);
    struct change c = row_change(CHANGE_INSERT, &all, NULL, &a);
    char want[4096];
    snprintf(want, sizeof(want),
             "{\"data\":[{\"id\":\"18446744073709551615\",\"d\":\"-12.34\",\"f\":\"5.0\","
             "\"g\":\"1.0E-5\",\"dt\":\"2020-01-02 03:04:05.678\",\"z\":\"0000-00-00\","
             "\"b\":\"\\u0000\xc3\xbf\",\"n\":null,\"e\":\"2\",\"s\":\"3\","
             "\"j\":\"{\\\"k\\\": [1, \\\"two\\\"]}\",\"bt\":\"32\",\"y\":\"0000\",\"t\":\"200\"}],"
             "\"database\":\"shop\",\"es\":1700000000000,"
             "\"gtid\":\"3e11fa47-71ca-11e1-9e33-c80aa9429562:23\",\"id\":7,\"isDdl\":false,"
             "%s,\"old\":null,\"pkNames\":[\"id\"],\"sql\":\"\",%s,\"table\":\"t\","
             "\"ts\":1700000000123,\"type\":\"INSERT\"}",
             all_mysql_type, all_sql_type);
    EXPECT_STR(render(&c), want);

    strbuf_reset(&out);
    CU_ASSERT_TRUE(format_canal_key(&c, &out));
    EXPECT_STR(out.buf, "{\"id\":\"18446744073709551615\"}");
}

/* Update: old holds only the changed columns, with their previous values. */
static void test_update(void)
{
    all_types();
    arena_len = 0;
    const char *bv[14], *av[14];
    memcpy(bv, all_vals, sizeof(bv));
    memcpy(av, all_vals, sizeof(av));
    av[1] = "\"0.50\"";
    av[7] = "\"now set\"";
    bv[12] = "2020";
    av[12] = "2021";
    struct img b, a;
    image(&b, bv, 14);
    image(&a, av, 14);
    struct change c = row_change(CHANGE_UPDATE, &all, &b, &a);
    render(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"d\":\"0.50\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"n\":\"now set\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.buf, ",\"old\":[{\"d\":\"-12.34\",\"n\":null,\"y\":\"2020\"}],\"pkNames\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"type\":\"UPDATE\"}"));
    /* sqlType of the NULL-valued column in the after image: still VARCHAR. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"n\":12"));

    /* No column changed: canal leaves old null. */
    struct change same = row_change(CHANGE_UPDATE, &all, &b, &b);
    render(&same);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, ",\"old\":null,"));
}

static void test_delete_nopk_nameless(void)
{
    struct tbl t;
    tbl_init(&t, "d", "logs");
    col(&t, NULL, MYSQL_T_LONG, 0, 0);
    col(&t, NULL, MYSQL_T_BLOB, 2, 0);
    t.cols[1].collation = 45; /* utf8mb4: TEXT */
    arena_len = 0;
    const char *v[] = {"-3", "\"h\\u00e9\""};
    struct img b;
    image(&b, v, 2);
    struct change c = row_change(CHANGE_DELETE, &t, &b, NULL);
    c.gtid = NULL;
    EXPECT_STR(render(&c), "{\"data\":[{\"@1\":\"-3\",\"@2\":\"h\\u00e9\"}],\"database\":\"d\","
                           "\"es\":1700000000000,\"gtid\":\"\",\"id\":7,\"isDdl\":false,"
                           "\"mysqlType\":{\"@1\":\"int\",\"@2\":\"text\"},\"old\":null,"
                           "\"pkNames\":null,\"sql\":\"\",\"sqlType\":{\"@1\":4,\"@2\":2005},"
                           "\"table\":\"logs\",\"ts\":1700000000123,\"type\":\"DELETE\"}");
    strbuf_reset(&out);
    CU_ASSERT_FALSE(format_canal_key(&c, &out));
    CU_ASSERT_EQUAL(out.len, 0);
}

static const char *ddl(const char *db, const char *sql)
{
    struct change c;
    memset(&c, 0, sizeof(c));
    c.kind = CHANGE_DDL;
    c.db = db;
    c.ts = 1700000001;
    c.sql = sql;
    c.sql_len = (uint32_t)strlen(sql);
    return render(&c);
}

static void test_ddl(void)
{
    EXPECT_STR(ddl("shop", "ALTER TABLE t ADD COLUMN x INT"),
               "{\"data\":null,\"database\":\"shop\",\"es\":1700000001000,\"gtid\":\"\",\"id\":7,"
               "\"isDdl\":true,\"mysqlType\":null,\"old\":null,\"pkNames\":null,"
               "\"sql\":\"ALTER TABLE t ADD COLUMN x INT\",\"sqlType\":null,\"table\":\"t\","
               "\"ts\":1700000000123,\"type\":\"ALTER\"}");
    struct {
        const char *sql, *type, *db, *table;
    } cases[] = {
        {"CREATE TABLE `other`.`a` (id int primary key)", "CREATE", "other", "a"},
        {"CREATE TEMPORARY TABLE tmp (id int)", "CREATE", "shop", "tmp"},
        {"DROP TABLE IF EXISTS a, b", "ERASE", "shop", "a"},
        {"RENAME TABLE a TO b, c TO d", "RENAME", "shop", "b"},
        {"TRUNCATE TABLE a", "TRUNCATE", "shop", "a"},
        {"CREATE UNIQUE INDEX i1 ON a (x)", "CINDEX", "shop", "a"},
        {"DROP INDEX i1 ON `x`.a", "DINDEX", "x", "a"},
        {"ALTER TABLE a ADD INDEX i2 (y)", "CINDEX", "shop", "a"},
        {"ALTER TABLE a DROP KEY i2", "DINDEX", "shop", "a"},
        {"CREATE DATABASE newdb", "QUERY", "shop", ""},
        {"GRANT ALL ON *.* TO x", "QUERY", "shop", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        ddl("shop", cases[i].sql);
        snprintf(want, sizeof(want), "\"database\":\"%s\"", cases[i].db);
        CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, want));
        snprintf(want, sizeof(want), "\"table\":\"%s\",\"ts\":1700000000123,\"type\":\"%s\"}",
                 cases[i].table, cases[i].type);
        if (!strstr(out.buf, want))
            fprintf(stderr, "\n  %s\n  got %s\n", cases[i].sql, out.buf);
        CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, want));
    }
    /* DML logged as a statement: its type, not a DDL. */
    ddl("shop", "INSERT INTO a VALUES (1)");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"isDdl\":false"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"type\":\"INSERT\"}"));
}

/* ------------------------------------------------------------------------------------------ */
/* Value conversions                                                                           */

static const char *value(const struct table_map_col *tc, const char *text)
{
    strbuf_reset(&out);
    append_value(&out, tc, text, (uint32_t)strlen(text));
    return out.buf;
}

static void test_java_floats(void)
{
    struct table_map_col d = {.type = MYSQL_T_DOUBLE}, f = {.type = MYSQL_T_FLOAT};
    EXPECT_STR(value(&f, "5"), "\"5.0\"");
    EXPECT_STR(value(&f, "1.1"), "\"1.1\"");
    EXPECT_STR(value(&f, "12345.679"), "\"12345.679\"");
    EXPECT_STR(value(&d, "1e-05"), "\"1.0E-5\"");
    EXPECT_STR(value(&d, "0.001"), "\"0.001\"");
    EXPECT_STR(value(&d, "0.0001"), "\"1.0E-4\"");
    EXPECT_STR(value(&d, "9999999"), "\"9999999.0\"");
    EXPECT_STR(value(&d, "10000000"), "\"1.0E7\"");
    EXPECT_STR(value(&d, "123456789.09876543"), "\"1.2345678909876543E8\"");
    EXPECT_STR(value(&d, "-2.5e+300"), "\"-2.5E300\"");
    EXPECT_STR(value(&d, "0"), "\"0.0\"");
    EXPECT_STR(value(&d, "-0"), "\"-0.0\"");
    EXPECT_STR(value(&d, "-0.125"), "\"-0.125\"");
    EXPECT_STR(value(&d, "1.7976931348623157e+308"), "\"1.7976931348623157E308\"");
    EXPECT_STR(value(&d, "5e-324"), "\"4.9E-324\"");
    EXPECT_STR(value(&f, "1e-45"), "\"1.4E-45\"");
    EXPECT_STR(value(&f, "3e-39"), "\"3.0E-39\"");
}

static void test_values(void)
{
    struct table_map_col c = {.type = MYSQL_T_LONGLONG, .is_unsigned = true};
    EXPECT_STR(value(&c, "18446744073709551615"), "\"18446744073709551615\"");
    c = (struct table_map_col){.type = MYSQL_T_LONGLONG};
    EXPECT_STR(value(&c, "-9223372036854775808"), "\"-9223372036854775808\"");
    c = (struct table_map_col){.type = MYSQL_T_NEWDECIMAL, .meta = 2, .meta_hi = 5};
    EXPECT_STR(value(&c, "\"-123.45\""), "\"-123.45\"");
    EXPECT_STR(value(&c, "\"-0.00\""), "\"0.00\"");
    c = (struct table_map_col){.type = MYSQL_T_TIMESTAMP2, .meta = 6};
    EXPECT_STR(value(&c, "\"2038-01-19 03:14:07.999999\""), "\"2038-01-19 03:14:07.999999\"");
    c = (struct table_map_col){.type = MYSQL_T_TIME2};
    EXPECT_STR(value(&c, "\"-838:59:59\""), "\"-838:59:59\"");
    c = (struct table_map_col){.type = MYSQL_T_YEAR};
    EXPECT_STR(value(&c, "2020"), "\"2020\"");
    EXPECT_STR(value(&c, "0"), "\"0000\"");
    c = (struct table_map_col){.type = MYSQL_T_BIT, .meta_hi = 8};
    EXPECT_STR(value(&c, "18446744073709551615"), "\"18446744073709551615\"");
    /* ENUM/SET without member names: the index / bitmask, as canal always prints them. */
    c = (struct table_map_col){.type = MYSQL_T_STRING, .real_type = MYSQL_T_ENUM, .meta = 1};
    EXPECT_STR(value(&c, "2"), "\"2\"");
    EXPECT_STR(value(&c, "\"b\""), "\"b\"");
    /* BINARY(4): the pad the binlog strips is not put back (canal's bytes are the binlog's). */
    c = (struct table_map_col){
        .type = MYSQL_T_STRING, .real_type = MYSQL_T_STRING, .meta = 4, .collation = 63};
    EXPECT_STR(value(&c, "\"YQAAAA==\""), "\"a\""); /* a \0 \0 \0 */
    EXPECT_STR(value(&c, "\"AAAAAA==\""), "\"\"");
    EXPECT_STR(value(&c, "\"YQBi\""), "\"a\\u0000b\"");
    /* BLOB: every byte one ISO-8859-1 char, JSON-escaped. */
    c = (struct table_map_col){.type = MYSQL_T_BLOB, .meta = 2, .collation = 63};
    EXPECT_STR(value(&c, "\"Igp/gJ8=\""), "\"\\\"\\n\x7f\xc2\x80\xc2\x9f\"");
    EXPECT_STR(value(&c, "\"\""), "\"\"");
    /* GEOMETRY: the stored bytes (SRID + WKB) the same way. */
    c = (struct table_map_col){.type = MYSQL_T_GEOMETRY, .meta = 4};
    EXPECT_STR(value(&c, "\"00000000010100f03f\""),
               "\"\\u0000\\u0000\\u0000\\u0000\\u0001\\u0001\\u0000\xc3\xb0?\"");
    /* Text is already UTF-8 JSON: kept. */
    c = (struct table_map_col){.type = MYSQL_T_VARCHAR, .meta = 40, .collation = 255};
    EXPECT_STR(value(&c, "\"\\u0001 \xe2\x82\xac\""), "\"\\u0001 \xe2\x82\xac\"");
    /* JSON: its text as a string; scalar documents too. */
    c = (struct table_map_col){.type = MYSQL_T_JSON, .meta = 4};
    EXPECT_STR(value(&c, "\"s\""), "\"\\\"s\\\"\"");
    EXPECT_STR(value(&c, "[1, 2.5]"), "\"[1, 2.5]\"");
    /* SQL NULL. */
    EXPECT_STR(value(&c, "null"), "null");
}

static void test_sql_types(void)
{
    struct table_map_col c = {.type = MYSQL_T_TINY, .is_unsigned = true};
    CU_ASSERT_EQUAL(canal_sql_type(&c, "127", 3), JT_TINYINT);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "128", 3), JT_SMALLINT);
    c.type = MYSQL_T_SHORT;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "40000", 5), JT_INTEGER);
    c.type = MYSQL_T_INT24;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "16777215", 8), JT_INTEGER);
    c.type = MYSQL_T_LONG;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "2147483647", 10), JT_INTEGER);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "2147483648", 10), JT_BIGINT);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "null", 4), JT_INTEGER);
    c.type = MYSQL_T_LONGLONG;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "9223372036854775808", 19), JT_DECIMAL);
    c.is_unsigned = false;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "9", 1), JT_BIGINT);
    c = (struct table_map_col){.type = MYSQL_T_BLOB, .meta = 1, .collation = 63};
    CU_ASSERT_EQUAL(canal_sql_type(&c, "\"\"", 2), JT_BLOB);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "null", 4), JT_VARBINARY);
    c.meta = 4;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "null", 4), JT_LONGVARBINARY);
    c.collation = 45;
    CU_ASSERT_EQUAL(canal_sql_type(&c, "\"\"", 2), JT_CLOB);
    c = (struct table_map_col){.type = MYSQL_T_JSON, .meta = 4};
    CU_ASSERT_EQUAL(canal_sql_type(&c, "{}", 2), JT_VARCHAR);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "null", 4), JT_OTHER);
    c = (struct table_map_col){.type = MYSQL_T_STRING, .real_type = MYSQL_T_SET, .meta = 1};
    CU_ASSERT_EQUAL(canal_sql_type(&c, "\"a\"", 3), JT_BIT);
    CU_ASSERT_EQUAL(canal_sql_type(&c, "null", 4), JT_BINARY);
}

static const char *mtype(const struct table_map_col *c)
{
    strbuf_reset(&out);
    append_mysql_type(&out, c);
    return out.buf;
}

static void test_mysql_types(void)
{
    struct table_map_col c = {.type = MYSQL_T_LONG};
    EXPECT_STR(mtype(&c), "\"int\"");
    c.is_unsigned = true;
    EXPECT_STR(mtype(&c), "\"int unsigned\"");
    c = (struct table_map_col){.type = MYSQL_T_VARCHAR, .meta = 1020, .collation = 255};
    EXPECT_STR(mtype(&c), "\"varchar(255)\"");
    c = (struct table_map_col){
        .type = MYSQL_T_STRING, .real_type = MYSQL_T_STRING, .meta = 30, .collation = 33};
    EXPECT_STR(mtype(&c), "\"char(10)\"");
    c = (struct table_map_col){.type = MYSQL_T_TIMESTAMP2};
    EXPECT_STR(mtype(&c), "\"timestamp\"");
    c = (struct table_map_col){.type = MYSQL_T_TIME2, .meta = 6};
    EXPECT_STR(mtype(&c), "\"time(6)\"");
    c = (struct table_map_col){.type = MYSQL_T_BLOB, .meta = 4, .collation = 63};
    EXPECT_STR(mtype(&c), "\"longblob\"");
    c = (struct table_map_col){.type = MYSQL_T_BLOB, .meta = 3, .collation = 8};
    EXPECT_STR(mtype(&c), "\"mediumtext\"");
    c = (struct table_map_col){.type = MYSQL_T_GEOMETRY, .meta = 4, .geometry_type = 1};
    EXPECT_STR(mtype(&c), "\"point\"");
    c = (struct table_map_col){.type = MYSQL_T_BIT, .meta = 1, .meta_hi = 0};
    EXPECT_STR(mtype(&c), "\"bit(1)\"");
}

/* A partial JSON update (MINIMAL before image): the diff as canal's JSON_* expression. */
static void test_json_partial(void)
{
    struct tbl t;
    tbl_init(&t, "d", "t");
    col(&t, "id", MYSQL_T_LONG, 0, 0);
    col(&t, "j", MYSQL_T_JSON, 4, 0);
    set_pk(&t, 0);
    arena_len = 0;
    const char *bv[] = {"1", NULL};
    const char *av[] = {"1", NULL};
    const char *pv[] = {NULL, "[{\"op\":\"replace\",\"path\":\"$.a\",\"value\":1},"
                              "{\"op\":\"replace\",\"path\":\"$.b\",\"value\":\"x, y\"},"
                              "{\"op\":\"insert\",\"path\":\"$.c[0]\",\"value\":{\"k\": [1]}},"
                              "{\"op\":\"remove\",\"path\":\"$.d\"}]"};
    struct img b, a, p;
    image(&b, bv, 2);
    image(&a, av, 2);
    image(&p, pv, 2);
    struct change c = row_change(CHANGE_UPDATE, &t, &b, &a);
    c.partial = (struct change_image){.cols = p.cols, .ncols = p.n};
    render(&c);
    const char *want =
        "\"data\":[{\"id\":\"1\",\"j\":\"JSON_REMOVE(JSON_ARRAY_INSERT(JSON_REPLACE(j, "
        "'$.a', 1, '$.b', \\\"x, y\\\"), '$.c[0]', {\\\"k\\\": [1]}), '$.d')\"}]";
    if (!strstr(out.buf, want))
        fprintf(stderr, "\n  got %s\n", out.buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"old\":null"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "\"sqlType\":{\"id\":4,\"j\":12}"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("format_canal", NULL, NULL);
    CU_add_test(s, "insert", test_insert);
    CU_add_test(s, "update", test_update);
    CU_add_test(s, "delete_nopk_nameless", test_delete_nopk_nameless);
    CU_add_test(s, "ddl", test_ddl);
    CU_add_test(s, "java_floats", test_java_floats);
    CU_add_test(s, "values", test_values);
    CU_add_test(s, "sql_types", test_sql_types);
    CU_add_test(s, "mysql_types", test_mysql_types);
    CU_add_test(s, "json_partial", test_json_partial);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&out);
    return failed ? 1 : 0;
}
