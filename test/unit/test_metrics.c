/*
 * test_metrics.c — unit tests for src/metrics.c: the Prometheus exposition of instances that
 * have not started (one # HELP / # TYPE per family, samples grouped under it, the state gauge,
 * gauges absent until known) and the /health body and verdict.
 */
#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "instance.h"
#include "metrics.h"

static struct config cfg;
static struct config_instance ics[2];
static struct instance *ins[2];

static int setup(void)
{
    ics[0].name = "alpha";
    ics[0].budget_mb = 64;
    ics[1].name = "beta";
    ics[1].budget_mb = 1;
    for (int i = 0; i < 2; i++)
        ins[i] = instance_new(&cfg, &ics[i]);
    return 0;
}

static int teardown(void)
{
    for (int i = 0; i < 2; i++)
        instance_free(ins[i]);
    return 0;
}

/* Number of lines of text equal to line. */
static int count_lines(const char *text, const char *line)
{
    int n = 0;
    size_t l = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == l && strncmp(p, line, l) == 0)
            n++;
        p = e ? e + 1 : NULL;
    }
    return n;
}

static void test_render(void)
{
    struct strbuf sb = {0};
    metrics_render(ins, 2, 1700000000, &sb);
    const char *t = sb.buf;
    CU_ASSERT_EQUAL(count_lines(t, "sluice_up 1"), 1);
    CU_ASSERT_EQUAL(count_lines(t, "sluice_start_time_seconds 1700000000"), 1);
    CU_ASSERT_EQUAL(count_lines(t, "# TYPE sluice_rows_read_total counter"), 1);
    CU_ASSERT_EQUAL(count_lines(t, "# TYPE sluice_lag_seconds gauge"), 1);
    CU_ASSERT_EQUAL(
        count_lines(t, "sluice_instance_state{instance=\"alpha\",state=\"starting\"} 1"), 1);
    CU_ASSERT_EQUAL(
        count_lines(t, "sluice_instance_state{instance=\"beta\",state=\"streaming\"} 0"), 1);
    CU_ASSERT_EQUAL(count_lines(t, "sluice_events_read_total{instance=\"beta\"} 0"), 1);
    CU_ASSERT_EQUAL(count_lines(t, "sluice_memory_budget_bytes{instance=\"alpha\"} 67108864"), 1);
    /* Not measured yet: absent. */
    CU_ASSERT_PTR_NULL(strstr(t, "sluice_purge_horizon_files{"));
    CU_ASSERT_PTR_NULL(strstr(t, "sluice_consumed_binlog_file_index{"));
    /* Families are not interleaved: every sample follows its own # TYPE line. */
    char fam[128] = "";
    int bad = 0, types = 0;
    for (const char *p = t; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (strncmp(p, "# TYPE ", 7) == 0) {
            size_t k = strcspn(p + 7, " ");
            snprintf(fam, sizeof(fam), "%.*s", (int)k, p + 7);
            types++;
        } else if (p[0] != '#') {
            size_t k = strcspn(p, "{ ");
            if (k != strlen(fam) || strncmp(p, fam, k) != 0 || k > len)
                bad++;
        }
        p = e ? e + 1 : NULL;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(types >= 18);
    strbuf_free(&sb);
}

static void test_health(void)
{
    struct strbuf sb = {0};
    CU_ASSERT_FALSE(metrics_health(ins, 2, &sb));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb.buf, "{\"name\":\"alpha\",\"state\":\"starting\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb.buf, "\"healthy\":false}"));
    strbuf_reset(&sb);
    CU_ASSERT_FALSE(metrics_health(ins, 0, &sb)); /* no instance: not healthy either */
    CU_ASSERT_STRING_EQUAL(sb.buf, "{\"instances\":[],\"healthy\":false}\n");
    strbuf_free(&sb);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("metrics", setup, teardown);
    CU_add_test(s, "render", test_render);
    CU_add_test(s, "health", test_health);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
