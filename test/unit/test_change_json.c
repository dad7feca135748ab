/*
 * test_change_json.c — unit tests for src/change_json.c: the "ts" and "pos" fields follow every
 * change although each thread reuses the text of the last one (same offset in another file,
 * another offset, another second, a file name too long to keep), and names are escaped.
 */
#include <CUnit/Basic.h>
#include <string.h>

#include "change_json.h"

static const char *render(const char *file, uint64_t pos, uint32_t ts)
{
    static struct strbuf sb;
    struct change c;
    memset(&c, 0, sizeof(c));
    c.kind = CHANGE_COMMIT;
    c.file = file;
    c.pos = pos;
    c.ts = ts;
    strbuf_reset(&sb);
    change_json_render(&c, &sb);
    return sb.buf;
}

static void test_ts_pos_follow_each_change(void)
{
    char name[2][16] = {"binlog.000001", "binlog.000001"};
    CU_ASSERT_STRING_EQUAL(render(name[0], 120, 7),
                           "{\"type\":\"commit\",\"ts\":7,\"pos\":\"binlog.000001:120\"}");
    CU_ASSERT_STRING_EQUAL(render(name[0], 120, 7),
                           "{\"type\":\"commit\",\"ts\":7,\"pos\":\"binlog.000001:120\"}");
    /* The same pointer with new contents, as after a rotation into a reused buffer. */
    memcpy(name[0], "binlog.000002", 14);
    CU_ASSERT_STRING_EQUAL(render(name[0], 120, 7),
                           "{\"type\":\"commit\",\"ts\":7,\"pos\":\"binlog.000002:120\"}");
    CU_ASSERT_STRING_EQUAL(render(name[1], 120, 7),
                           "{\"type\":\"commit\",\"ts\":7,\"pos\":\"binlog.000001:120\"}");
    CU_ASSERT_STRING_EQUAL(render(name[1], 121, 7),
                           "{\"type\":\"commit\",\"ts\":7,\"pos\":\"binlog.000001:121\"}");
    CU_ASSERT_STRING_EQUAL(render(name[1], 121, 8),
                           "{\"type\":\"commit\",\"ts\":8,\"pos\":\"binlog.000001:121\"}");
    CU_ASSERT_STRING_EQUAL(render("binlog.000001", 121, 8),
                           "{\"type\":\"commit\",\"ts\":8,\"pos\":\"binlog.000001:121\"}");
}

static void test_long_and_escaped_names(void)
{
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char want[300];
    snprintf(want, sizeof(want), "{\"type\":\"commit\",\"ts\":1,\"pos\":\"%s:4\"}", longname);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_STRING_EQUAL(render(longname, 4, 1), want);
    longname[0] = 'b';
    *strstr(want, "aaa") = 'b';
    CU_ASSERT_STRING_EQUAL(render(longname, 4, 1), want);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_STRING_EQUAL(render("my\"log.1", 4, 1),
                               "{\"type\":\"commit\",\"ts\":1,\"pos\":\"my\\\"log.1:4\"}");
    CU_ASSERT_STRING_EQUAL(render(NULL, 4, 1), "{\"type\":\"commit\",\"ts\":1,\"pos\":\":4\"}");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("change_json", NULL, NULL);
    CU_add_test(s, "ts and pos follow each change", test_ts_pos_follow_each_change);
    CU_add_test(s, "long and escaped file names", test_long_and_escaped_names);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
