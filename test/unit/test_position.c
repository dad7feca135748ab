/*
 * test_position.c — unit tests for src/position.c: GTID set parsing and canonical formatting
 * (MySQL plain and tagged, MariaDB), interval merging, adding single GTIDs, containment and
 * comparison, bad input of every kind, and struct position copies.
 */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "position.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "4f22fb58-82db-22f2-af44-d91bb0530673"

static struct strbuf sb;

/* Parses text, expecting success, and returns its canonical text. */
static const char *canon(const char *text)
{
    struct position_gtid_set set = {0};
    struct err err = {0};
    strbuf_reset(&sb);
    int r = position_gtid_parse(&set, text, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r)
        fprintf(stderr, "\nunexpected error for \"%s\": %s\n", text, err.msg);
    position_gtid_format(&set, &sb);
    position_gtid_free(&set);
    return sb.buf ? sb.buf : "";
}

/* Parses text, expecting ERR_POS_GTID with a message containing `part`. */
static void check_bad(const char *text, const char *part)
{
    struct position_gtid_set set = {0};
    struct err err = {0};
    int r = position_gtid_parse(&set, text, &err);
    CU_ASSERT_EQUAL(r, ERR_POS_GTID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, part));
    if (r != ERR_POS_GTID || strstr(err.msg, part) == NULL)
        fprintf(stderr, "\n\"%s\": r=%d msg=\"%s\" (wanted \"%s\")\n", text, r, err.msg, part);
    CU_ASSERT_TRUE(position_gtid_is_empty(&set));
    position_gtid_free(&set);
}

static void test_mysql_round_trip(void)
{
    CU_ASSERT_STRING_EQUAL(canon(""), "");
    CU_ASSERT_STRING_EQUAL(canon("  \n"), "");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-5"), U1 ":1-5");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-5:7-9," U2 ":1-3"), U1 ":1-5:7-9," U2 ":1-3");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":7"), U1 ":7");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":7-7"), U1 ":7");
    /* Upper case uuid, as MySQL 5.6 printed them, and MySQL's ",\n" separators. */
    CU_ASSERT_STRING_EQUAL(canon("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-2,\n" U2 ":4"),
                           U1 ":1-2," U2 ":4");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":9223372036854775806"), U1 ":9223372036854775806");
}

static void test_mysql_merge_and_sort(void)
{
    CU_ASSERT_STRING_EQUAL(canon(U1 ":7-9:1-5"), U1 ":1-5:7-9");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-5:6-9"), U1 ":1-9");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-5:3-9"), U1 ":1-9");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-3:7-9:4-6"), U1 ":1-9");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":5:1:3:2:4"), U1 ":1-5");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":10-20:1-100"), U1 ":1-100");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-2:20-30:5-6:10-12:4"), U1 ":1-2:4-6:10-12:20-30");
    CU_ASSERT_STRING_EQUAL(canon(U2 ":1," U1 ":2"), U1 ":2," U2 ":1");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-3," U1 ":4-6"), U1 ":1-6");
}

static void test_mysql_tagged(void)
{
    CU_ASSERT_STRING_EQUAL(canon(U1 ":tag:1-3"), U1 ":tag:1-3");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":1-5:tag1:1-3:tag2:7"), U1 ":1-5:tag1:1-3:tag2:7");
    /* Separate entries for one uuid are joined, untagged first, tags sorted and lower-cased. */
    CU_ASSERT_STRING_EQUAL(canon(U1 ":Zeta:1," U1 ":alpha:2-3," U1 ":1"), U1 ":1:alpha:2-3:zeta:1");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":t:1:t:2"), U1 ":t:1-2");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":_x9:5"), U1 ":_x9:5");
    CU_ASSERT_STRING_EQUAL(canon(U1 ":a2345678901234567890123456789012:1"),
                           U1 ":a2345678901234567890123456789012:1");
}

static void test_mariadb(void)
{
    CU_ASSERT_STRING_EQUAL(canon("0-1-100"), "0-1-100");
    CU_ASSERT_STRING_EQUAL(canon("2-5-7, 0-1-100,1-1-3"), "0-1-100,1-1-3,2-5-7");
    CU_ASSERT_STRING_EQUAL(canon("4294967295-4294967295-18446744073709551615"),
                           "4294967295-4294967295-18446744073709551615");
}

static void test_bad_input(void)
{
    check_bad("3e11fa47", "bad mariadb gtid");
    check_bad("3e11fa47-71ca-11e1-9e33:1", "bad uuid");
    check_bad("zz11fa47-71ca-11e1-9e33-c80aa9429562:1", "bad uuid");
    check_bad(U1, "bad mariadb gtid"); /* no ':' at all: taken as MariaDB, and wrong */
    check_bad(U1 ":", "bad tag");
    check_bad(U1 ":0", "out of range");
    check_bad(U1 ":0-5", "out of range");
    check_bad(U1 ":9223372036854775807", "out of range");
    check_bad(U1 ":99999999999999999999999", "too large");
    check_bad(U1 ":5-3", "end before its start");
    check_bad(U1 ":1-", "bad interval end");
    check_bad(U1 ":1-x", "bad interval end");
    check_bad(U1 ":tag", "tag without an interval");
    check_bad(U1 ":tag:", "tag without an interval");
    check_bad(U1 ":1:tag", "tag without an interval");
    check_bad(U1 ":t1:t2:1", "tag without an interval");
    check_bad(U1 ":9tag:1", "unexpected character"); /* digit first: an interval, then garbage */
    check_bad(U1 ":a23456789012345678901234567890123:1", "bad tag");
    check_bad(U1 ":ta-g:1", "tag without an interval");
    check_bad(U1 ":1-5;" U2 ":1", "unexpected character");
    check_bad(U1 ":1-5,", "bad uuid");
    check_bad(U1 ":1-5,,", "bad uuid");
    check_bad(U1 ":1,0-1-2", "bad uuid"); /* flavours mixed */
    check_bad("0-1-2," U1 ":1", "bad uuid");
    check_bad("0-1", "bad mariadb gtid");
    check_bad("0-1-", "bad mariadb gtid");
    check_bad("-1-2-3", "bad mariadb gtid");
    check_bad("4294967296-1-1", "bad mariadb gtid");
    check_bad("0-4294967296-1", "bad mariadb gtid");
    check_bad("0-1-18446744073709551616", "bad mariadb gtid");
    check_bad("0-1-2,0-3-4", "second gtid for the same domain");
    check_bad("0-1-2 1-1-1", "unexpected character");
    check_bad("0-1-2,", "bad mariadb gtid");

    /* The message names the bad part and where it is. */
    struct position_gtid_set set = {0};
    struct err err = {0};
    CU_ASSERT_EQUAL(position_gtid_parse(&set, U1 ":1-5," U2 ":7-x", &err), ERR_POS_GTID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "offset 78"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"7-x\""));
    /* A failed parse leaves the set empty even when it held something. */
    CU_ASSERT_EQUAL(position_gtid_parse(&set, U1 ":1", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_parse(&set, U1 ":x", &err), ERR_POS_GTID);
    CU_ASSERT_TRUE(position_gtid_is_empty(&set));
    CU_ASSERT_EQUAL(set.flavor, POSITION_GTID_NONE);
    position_gtid_free(&set);
}

static void test_add_mysql(void)
{
    struct position_gtid_set set = {0};
    struct err err = {0};
    for (int i = 1; i <= 5; i++) {
        char g[64];
        snprintf(g, sizeof(g), U1 ":%d", i);
        CU_ASSERT_EQUAL(position_gtid_add(&set, g, &err), 0);
    }
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":9", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U2 ":1", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":tag:3", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":3", &err), 0); /* already in: no change */
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, U1 ":1-5:9:tag:3," U2 ":1");
    /* Filling the gap merges three intervals into one. */
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":7", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":6", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":8", &err), 0);
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, U1 ":1-9:tag:3," U2 ":1");
    CU_ASSERT_EQUAL(set.sids[0].nivs, 1);

    /* Bad ones leave the set unchanged. */
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1-5", &err), ERR_POS_GTID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a mariadb gtid added to a mysql gtid set"));
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":1-3", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":0", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1, &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "x:1", &err), ERR_POS_GTID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad uuid"));
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":tag", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":tag:", &err), ERR_POS_GTID);
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, U1 ":1-9:tag:3," U2 ":1");
    position_gtid_free(&set);

    /* Many out-of-order additions end as the same set as in-order ones. */
    for (int i = 1; i <= 1000; i++) {
        char g[64];
        snprintf(g, sizeof(g), U1 ":%d", (i * 389) % 1000 + 1);
        CU_ASSERT_EQUAL_FATAL(position_gtid_add(&set, g, &err), 0);
    }
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, U1 ":1-1000");
    position_gtid_free(&set);
}

static void test_add_mariadb(void)
{
    struct position_gtid_set set = {0};
    struct err err = {0};
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1-100", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1-101", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "3-2-7", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "1-2-5", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-9-102", &err), 0); /* new primary in domain 0 */
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, "0-9-102,1-2-5,3-2-7");
    CU_ASSERT_EQUAL(position_gtid_add(&set, U1 ":1", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1-2-3", &err), ERR_POS_GTID);
    CU_ASSERT_EQUAL(position_gtid_add(&set, "0-1-2,1-1-1", &err), ERR_POS_GTID);
    strbuf_reset(&sb);
    position_gtid_format(&set, &sb);
    CU_ASSERT_STRING_EQUAL(sb.buf, "0-9-102,1-2-5,3-2-7");
    position_gtid_free(&set);
}

static void parse_ok(struct position_gtid_set *set, const char *text)
{
    struct err err = {0};
    CU_ASSERT_EQUAL_FATAL(position_gtid_parse(set, text, &err), 0);
}

static void test_contains_compare(void)
{
    struct position_gtid_set a = {0}, b = {0}, e = {0};
    parse_ok(&a, U1 ":1-10:20-30:tag:1-5," U2 ":1-3");
    CU_ASSERT_TRUE(position_gtid_contains(&a, U1 ":1"));
    CU_ASSERT_TRUE(position_gtid_contains(&a, U1 ":10"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, U1 ":11"));
    CU_ASSERT_TRUE(position_gtid_contains(&a, U1 ":25"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, U1 ":31"));
    CU_ASSERT_TRUE(position_gtid_contains(&a, U1 ":tag:5"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, U1 ":tag:6"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, U1 ":other:1"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, U2 ":4"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, "garbage"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, "0-1-1"));

    parse_ok(&b, U1 ":2-9:25," U2 ":2");
    CU_ASSERT_TRUE(position_gtid_contains_set(&a, &b));
    CU_ASSERT_FALSE(position_gtid_contains_set(&b, &a));
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_GREATER);
    CU_ASSERT_EQUAL(position_gtid_compare(&b, &a), POSITION_CMP_LESS);
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &a), POSITION_CMP_EQUAL);
    CU_ASSERT_EQUAL(position_gtid_compare(&e, &e), POSITION_CMP_EQUAL);
    CU_ASSERT_EQUAL(position_gtid_compare(&e, &a), POSITION_CMP_LESS);
    parse_ok(&b, U1 ":9-11");
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_UNRELATED);
    parse_ok(&b, U1 ":1-10:20-30:tag:1-5," U2 ":1-3");
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_EQUAL);

    /* MariaDB: per domain, a higher seq is ahead. */
    parse_ok(&a, "0-1-100,1-1-5");
    parse_ok(&b, "0-2-90");
    CU_ASSERT_TRUE(position_gtid_contains(&a, "0-1-100"));
    CU_ASSERT_TRUE(position_gtid_contains(&a, "0-7-50"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, "0-1-101"));
    CU_ASSERT_FALSE(position_gtid_contains(&a, "2-1-1"));
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_GREATER);
    parse_ok(&b, "0-2-190");
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_UNRELATED);
    parse_ok(&b, U1 ":1");
    CU_ASSERT_EQUAL(position_gtid_compare(&a, &b), POSITION_CMP_UNRELATED);
    position_gtid_free(&a);
    position_gtid_free(&b);
}

static void test_position_copy(void)
{
    struct position p, q;
    struct err err = {0};
    position_init(&p);
    position_init(&q);
    CU_ASSERT_TRUE(position_is_empty(&p));
    CU_ASSERT_EQUAL(position_set_file(&p, "binlog.000003", &err), 0);
    CU_ASSERT_FALSE(position_is_empty(&p));
    p.offset = UINT64_C(5000000000);
    p.ts = 1700000000;
    CU_ASSERT_EQUAL(position_gtid_add(&p.gtid, U1 ":1", &err), 0);
    position_copy(&q, &p);
    position_copy(&q, &p); /* copying over a non-empty one frees the old set */
    CU_ASSERT_STRING_EQUAL(q.file, "binlog.000003");
    CU_ASSERT_EQUAL(q.offset, UINT64_C(5000000000));
    CU_ASSERT_EQUAL(q.ts, 1700000000);
    CU_ASSERT_EQUAL(position_gtid_compare(&p.gtid, &q.gtid), POSITION_CMP_EQUAL);
    CU_ASSERT_EQUAL(position_gtid_add(&q.gtid, U1 ":2", &err), 0);
    CU_ASSERT_EQUAL(position_gtid_compare(&p.gtid, &q.gtid), POSITION_CMP_LESS);

    char longname[POSITION_FILE_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CU_ASSERT_EQUAL(position_set_file(&p, longname, &err), ERR_POS_STORE);
    CU_ASSERT_EQUAL(position_set_file(&p, "bin\nlog", &err), ERR_POS_STORE);
    CU_ASSERT_STRING_EQUAL(p.file, "binlog.000003");
    position_free(&p);
    position_free(&q);
    position_free(NULL);
    position_gtid_free(NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("position", NULL, NULL);
    CU_add_test(s, "mysql_round_trip", test_mysql_round_trip);
    CU_add_test(s, "mysql_merge_and_sort", test_mysql_merge_and_sort);
    CU_add_test(s, "mysql_tagged", test_mysql_tagged);
    CU_add_test(s, "mariadb", test_mariadb);
    CU_add_test(s, "bad_input", test_bad_input);
    CU_add_test(s, "add_mysql", test_add_mysql);
    CU_add_test(s, "add_mariadb", test_add_mariadb);
    CU_add_test(s, "contains_compare", test_contains_compare);
    CU_add_test(s, "position_copy", test_position_copy);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&sb);
    return failed ? 1 : 0;
}
