/*
 * test_schema.c — unit tests for the table-map half of src/schema.c: completing TABLE_MAP
 * events that lack column names, signedness, ENUM/SET strings and the primary key from a model
 * built by DDL, and the cross-check of column count and types (with the error message naming
 * table, position and both column lists); and the history's copy (schema_set_mirror,
 * schema_history_each, schema_history_replace) that cluster mode keeps in ZooKeeper, and the
 * version in force at a position (`sluice position reset` goes back by it). No server:
 * the connection points at a closed port.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_types.h"
#include "schema.h"
#include "strbuf.h"
#include "table_map.h"
#include "testutil.h"

static char tmpdir[64];

/* A TABLE_MAP body: 6-byte id, flags, names, types, metadata, NULL bitmap, optional TLVs. */
static struct table_map *make_map(const char *db,
                                  const char *table,
                                  const uint8_t *types,
                                  size_t ncols,
                                  const uint8_t *meta,
                                  size_t mlen,
                                  const char *names_tlv,
                                  size_t tlv_len)
{
    struct strbuf b = {0};
    put_le(&b, 42, 6);
    put_le(&b, 1, 2);
    put_u8(&b, (unsigned)strlen(db));
    strbuf_append(&b, db, strlen(db) + 1);
    put_u8(&b, (unsigned)strlen(table));
    strbuf_append(&b, table, strlen(table) + 1);
    put_packed(&b, ncols);
    strbuf_append(&b, types, ncols);
    put_packed(&b, mlen);
    strbuf_append(&b, meta, mlen);
    for (size_t i = 0; i < (ncols + 7) / 8; i++)
        put_u8(&b, 0xff);
    if (names_tlv)
        strbuf_append(&b, names_tlv, tlv_len);
    struct err err = {0};
    struct table_map *tm = table_map_parse((const uint8_t *)b.buf, b.len, 8, true, &err);
    CU_ASSERT_PTR_NOT_NULL(tm);
    strbuf_free(&b);
    return tm;
}

static struct schema *new_schema(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-test-schema.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
    struct err err = {0};
    struct schema_conn conn = {.host = "127.0.0.1", .port = 1, .user = "nobody", .password = "x"};
    struct schema *s = schema_open(tmpdir, &conn, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(schema_load(s, 0, &err), 0);
    const char *ddl = "CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, name VARCHAR(10), "
                      "e ENUM('a','b'), st SET('x','y'), d DECIMAL(10,2), ts TIMESTAMP, "
                      "j JSON, big BIGINT UNSIGNED)";
    CU_ASSERT_EQUAL(schema_apply_query(s, "db", ddl, strlen(ddl), "binlog.000003", 100, &err), 1);
    schema_set_position(s, "binlog.000003", 1234);
    return s;
}

static void free_schema(struct schema *s)
{
    schema_free(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static const uint8_t T8[] = {MYSQL_T_LONG,   MYSQL_T_VARCHAR,    MYSQL_T_STRING,
                             MYSQL_T_STRING, MYSQL_T_NEWDECIMAL, MYSQL_T_TIMESTAMP2,
                             MYSQL_T_BLOB,   MYSQL_T_LONGLONG};
/* VARCHAR 40 bytes; ENUM (0xf7, 1); SET (0xf8, 1); DECIMAL(10,2); TIMESTAMP fsp 0; BLOB 4. */
static const uint8_t M8[] = {40, 0, 0xf7, 1, 0xf8, 1, 10, 2, 0, 4};

static void test_complete(void)
{
    struct schema *s = new_schema();
    struct err err = {0};
    struct table_map *tm = make_map("db", "t", T8, 8, M8, sizeof(M8), NULL, 0);
    CU_ASSERT_FALSE(tm->has_names);
    CU_ASSERT_STRING_EQUAL(tm->cols[0].json_key, "\"@1\":");
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), 0);
    CU_ASSERT(tm->has_names);
    CU_ASSERT_STRING_EQUAL(tm->cols[0].name, "id");
    CU_ASSERT_STRING_EQUAL(tm->cols[0].json_key, "\"id\":");
    CU_ASSERT_EQUAL(tm->cols[0].json_key_len, 5);
    CU_ASSERT_STRING_EQUAL(tm->cols[7].json_key, "\"big\":");
    CU_ASSERT(tm->cols[0].is_unsigned);
    CU_ASSERT(!tm->cols[4].is_unsigned);
    CU_ASSERT(tm->cols[7].is_unsigned);
    CU_ASSERT_EQUAL_FATAL(tm->cols[2].enums.n, 2);
    CU_ASSERT_STRING_EQUAL(tm->cols[2].enums.v[1], "b");
    CU_ASSERT_EQUAL(tm->cols[2].enums.len[1], 1);
    CU_ASSERT_EQUAL_FATAL(tm->cols[3].enums.n, 2);
    CU_ASSERT_STRING_EQUAL(tm->cols[3].enums.v[0], "x");
    CU_ASSERT_EQUAL_FATAL(tm->npk, 1);
    CU_ASSERT_EQUAL(tm->pk[0], 0);
    CU_ASSERT(tm->cols[0].is_pk);
    table_map_free(tm);

    /* Map with the full metadata of a known table: checked, its own names kept. */
    struct strbuf tlv = {0}, v = {0};
    static const char *const names[] = {"ID", "n", "e", "s", "d", "ts", "j", "b"};
    for (int i = 0; i < 8; i++) {
        put_packed(&v, strlen(names[i]));
        strbuf_append(&v, names[i], strlen(names[i]));
    }
    put_u8(&tlv, 4);
    put_packed(&tlv, v.len);
    strbuf_append(&tlv, v.buf, v.len);
    tm = make_map("db", "t", T8, 8, M8, sizeof(M8), tlv.buf, tlv.len);
    CU_ASSERT(tm->has_names);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), 0);
    CU_ASSERT_STRING_EQUAL(tm->cols[0].name, "ID");
    table_map_free(tm);
    /* ... and of an unknown table: trusted, the server is not asked. */
    tm = make_map("db", "unknown", T8, 8, M8, sizeof(M8), tlv.buf, tlv.len);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), 0);
    table_map_free(tm);
    /* Without names, an unknown table needs the server: unreachable is retriable. */
    tm = make_map("db", "unknown", T8, 8, M8, sizeof(M8), NULL, 0);
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), ERR_SCHEMA_SOURCE);
    CU_ASSERT(err.retriable);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "127.0.0.1:1"));
    table_map_free(tm);
    strbuf_free(&tlv);
    strbuf_free(&v);
    free_schema(s);
}

static void test_mismatch(void)
{
    struct schema *s = new_schema();
    struct err err = {0};
    /* One column fewer. */
    struct table_map *tm = make_map("db", "t", T8, 7, M8, sizeof(M8), NULL, 0);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), ERR_SCHEMA_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table `db`.`t` at binlog.000003:1234: binlog has 7 "
                                           "columns (int, varchar, enum, set, decimal, "
                                           "timestamp, blob), schema version 1 has 8 (int, "
                                           "varchar, enum, set, decimal, timestamp, json, "
                                           "bigint)"));
    CU_ASSERT_STRING_EQUAL(tm->cols[0].json_key, "\"@1\":"); /* not completed */
    table_map_free(tm);

    /* Same count, a wrong type. */
    uint8_t t2[8];
    memcpy(t2, T8, 8);
    t2[1] = MYSQL_T_LONG;
    uint8_t m2[] = {0xf7, 1, 0xf8, 1, 10, 2, 0, 4};
    tm = make_map("db", "t", t2, 8, m2, sizeof(m2), NULL, 0);
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), ERR_SCHEMA_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column 2 `name` is int in the binlog, varchar in"));
    table_map_free(tm);

    /* DECIMAL(10,3) against DECIMAL(10,2). */
    uint8_t m3[sizeof(M8)];
    memcpy(m3, M8, sizeof(M8));
    m3[7] = 3;
    tm = make_map("db", "t", T8, 8, m3, sizeof(m3), NULL, 0);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), ERR_SCHEMA_MISMATCH);
    table_map_free(tm);

    /* ENUM in place of SET. */
    memcpy(m3, M8, sizeof(M8));
    m3[4] = 0xf7;
    tm = make_map("db", "t", T8, 8, m3, sizeof(m3), NULL, 0);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), ERR_SCHEMA_MISMATCH);
    table_map_free(tm);

    /* Accepted variants: MySQL's binary JSON for JSON, DATETIME-style old TIMESTAMP, and
     * VAR_STRING for VARCHAR. */
    memcpy(t2, T8, 8);
    t2[6] = MYSQL_T_JSON;
    t2[1] = MYSQL_T_VAR_STRING;
    tm = make_map("db", "t", t2, 8, M8, sizeof(M8), NULL, 0);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), 0);
    table_map_free(tm);
    uint8_t t3[8];
    memcpy(t3, T8, 8);
    t3[5] = MYSQL_T_TIMESTAMP; /* no metadata byte */
    uint8_t m4[] = {40, 0, 0xf7, 1, 0xf8, 1, 10, 2, 4};
    tm = make_map("db", "t", t3, 8, m4, sizeof(m4), NULL, 0);
    CU_ASSERT_EQUAL(schema_table_map(tm, s, &err), 0);
    table_map_free(tm);
    free_schema(s);
}

static void test_type_rules(void)
{
    struct schema_col c = {0};
    c.data_type = "tinyint"; /* BOOL */
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_TINY, MYSQL_T_TINY, 0, 0));
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_SHORT, MYSQL_T_SHORT, 0, 0));
    c.data_type = "datetime";
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_DATETIME2, MYSQL_T_DATETIME2, 6, 0));
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_DATETIME, MYSQL_T_DATETIME, 0, 0));
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_TIMESTAMP2, MYSQL_T_TIMESTAMP2, 0, 0));
    c.data_type = "time";
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_TIME2, MYSQL_T_TIME2, 3, 0));
    c.data_type = "longtext"; /* MariaDB JSON */
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_BLOB, MYSQL_T_BLOB, 4, 0));
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_VARCHAR, MYSQL_T_VARCHAR, 4, 0));
    c.data_type = "char";
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_STRING, MYSQL_T_STRING, 10, 0xfe));
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_STRING, MYSQL_T_ENUM, 1, 0xf7));
    c.data_type = "polygon";
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_GEOMETRY, MYSQL_T_GEOMETRY, 4, 0));
    c.data_type = "year";
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_SHORT, MYSQL_T_SHORT, 0, 0));
    c.data_type = "decimal";
    c.precision = 65;
    c.scale = 30;
    CU_ASSERT(schema_type_matches(&c, MYSQL_T_NEWDECIMAL, MYSQL_T_NEWDECIMAL, 30, 65));
    CU_ASSERT(!schema_type_matches(&c, MYSQL_T_NEWDECIMAL, MYSQL_T_NEWDECIMAL, 30, 64));
    CU_ASSERT_STRING_EQUAL(schema_map_type_name(MYSQL_T_STRING, MYSQL_T_SET), "set");
    CU_ASSERT_STRING_EQUAL(schema_map_type_name(MYSQL_T_TIMESTAMP2, MYSQL_T_TIMESTAMP2),
                           "timestamp");

    /* COLUMN_TYPE value lists as information_schema prints them. */
    struct schema_col e = {0};
    CU_ASSERT_EQUAL(schema_parse_enum_values(&e, "enum('a','it''s','b\\\\c','')"), 0);
    CU_ASSERT_EQUAL_FATAL(e.nenums, 4);
    CU_ASSERT_STRING_EQUAL(e.enums[1], "it's");
    CU_ASSERT_STRING_EQUAL(e.enums[2], "b\\c");
    CU_ASSERT_STRING_EQUAL(e.enums[3], "");
    schema_col_clear(&e);
    CU_ASSERT_EQUAL(schema_parse_enum_values(&e, "set('a"), -1);
    schema_col_clear(&e);
}

/* A mirror that keeps the records it is given (fails while `refuse` is set). */
struct kept {
    struct strbuf recs;
    uint64_t last;
    bool refuse;
};

static int keep_rec(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err)
{
    struct kept *k = opaque;
    if (k->refuse)
        return err_set(err, ERR_POS_STALE, "refused");
    CU_ASSERT_EQUAL(version, k->last + 1);
    k->last = version;
    strbuf_append(&k->recs, rec, len);
    return 0;
}

static int each_rec(void *opaque, uint64_t version, const void *rec, size_t len, struct err *err)
{
    (void)err;
    struct strbuf *sb = opaque;
    (void)version;
    strbuf_append(sb, rec, len);
    return 0;
}

/* The history's copy: every record reaches the mirror before the file; a refused record is not
 * appended; records read back (schema_history_each) equal the mirror's; another schema rebuilt
 * from them (schema_history_replace + schema_load) holds the same tables at each version. */
static void test_mirror(void)
{
    struct schema *s = new_schema(); /* version 1: CREATE TABLE t, before the mirror */
    struct err err = {0};
    struct kept k = {{0}, 0, false};
    CU_ASSERT_EQUAL(schema_history_each(s, 1, keep_rec, &k, &err), 0);
    struct schema_mirror m = {keep_rec, &k};
    schema_set_mirror(s, &m);
    const char *d2 = "ALTER TABLE t CHANGE name nm VARCHAR(10)";
    const char *d3 = "CREATE TABLE u (a INT PRIMARY KEY)";
    CU_ASSERT_EQUAL(schema_apply_query(s, "db", d2, strlen(d2), "binlog.000003", 200, &err), 1);
    CU_ASSERT_EQUAL(schema_apply_query(s, "db", d3, strlen(d3), "binlog.000003", 300, &err), 1);
    CU_ASSERT_EQUAL(schema_version(s), 3);
    CU_ASSERT_EQUAL(k.last, 3);
    k.refuse = true;
    const char *d4 = "DROP TABLE u";
    CU_ASSERT_NOT_EQUAL(schema_apply_query(s, "db", d4, strlen(d4), "binlog.000003", 400, &err), 1);
    CU_ASSERT_EQUAL(err.code, ERR_POS_STALE);
    CU_ASSERT_EQUAL(schema_version(s), 3);
    err_clear(&err);
    struct strbuf back = {0};
    CU_ASSERT_EQUAL(schema_history_each(s, 3, each_rec, &back, &err), 0);
    CU_ASSERT_EQUAL_FATAL(back.len, k.recs.len);
    CU_ASSERT_EQUAL(memcmp(back.buf, k.recs.buf, back.len), 0);
    CU_ASSERT_NOT_EQUAL(schema_history_each(s, 4, each_rec, &back, &err), 0); /* ends at 3 */
    err_clear(&err);
    /* The version in force at a position: records of events before it (DDL at 100, 200, 300). */
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len, "binlog.000003", 100), 0);
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len, "binlog.000003", 101), 1);
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len, "binlog.000003", 250), 2);
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len, "binlog.000004", 4), 3);
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len, "binlog.000002", 999), 0);
    CU_ASSERT_EQUAL(schema_records_version_at(k.recs.buf, k.recs.len - 1, "binlog.000004", 4), 2);
    uint64_t at = 99;
    CU_ASSERT_EQUAL(schema_history_version_at(tmpdir, "binlog.000003", 250, &at, &err), 0);
    CU_ASSERT_EQUAL(at, 2);
    CU_ASSERT_NOT_EQUAL(schema_history_version_at("/nonexistent", "binlog.000003", 250, &at, &err),
                        0);
    err_clear(&err);

    char dir2[64];
    snprintf(dir2, sizeof(dir2), "/tmp/sluice-test-schema2.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir2));
    struct schema_conn conn = {.host = "127.0.0.1", .port = 1, .user = "nobody", .password = "x"};
    struct schema *s2 = schema_open(dir2, &conn, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    CU_ASSERT_EQUAL(schema_history_replace(s2, k.recs.buf, k.recs.len, &err), 0);
    CU_ASSERT_EQUAL(schema_load(s2, 2, &err), 0);
    const struct schema_table *t = schema_find(s2, "db", "t");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->cols[1].name, "nm");
    CU_ASSERT_PTR_NULL(schema_find(s2, "db", "u"));
    CU_ASSERT_EQUAL(schema_load(s2, 3, &err), ERR_SCHEMA); /* load(2) cut record 3 */
    err_clear(&err);
    CU_ASSERT_EQUAL(schema_history_replace(s2, k.recs.buf, k.recs.len, &err), 0);
    CU_ASSERT_EQUAL(schema_load(s2, 3, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(schema_find(s2, "db", "u"));
    schema_free(s2);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir2);
    CU_ASSERT_EQUAL(system(cmd), 0);
    strbuf_free(&back);
    strbuf_free(&k.recs);
    free_schema(s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("schema", NULL, NULL);
    CU_add_test(s, "complete", test_complete);
    CU_add_test(s, "mismatch", test_mismatch);
    CU_add_test(s, "type_rules", test_type_rules);
    CU_add_test(s, "mirror", test_mirror);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
