/*
 * test_log.c — the log: size-based rotation (at the size, FILE.1 ... FILE.keep kept, keep 0),
 * reopen after the file was moved away (logrotate + SIGHUP), per-facility debug lines, and the
 * log keys of the configuration.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static char dir[64];
static char path[128];

static long size_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static long size_n(unsigned n)
{
    char p[160];
    snprintf(p, sizeof(p), "%s.%u", path, n);
    return size_of(p);
}

/* The file's text (caller frees), "" when missing. */
static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    char *s = calloc(1, 1 << 16);
    if (f) {
        size_t n = fread(s, 1, (1 << 16) - 1, f);
        s[n] = '\0';
        fclose(f);
    }
    return s;
}

static void clean(void)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not empty %s\n", dir);
}

/* Each line is 24 (time) + 6 (level) + 5 ("TEST ") + 45 = 80 bytes with its newline. */
static void write_lines(int n)
{
    for (int i = 0; i < n; i++)
        log_info("TEST", NULL, "line %05d ................................", i);
}

static void test_rotation(void)
{
    clean();
    struct err err = {0};
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    log_set_rotation(800, 3); /* 10 lines a file */
    write_lines(10);
    CU_ASSERT_EQUAL(size_of(path), 800);
    CU_ASSERT_EQUAL(size_n(1), -1);
    write_lines(1); /* the 11th line would pass 800 bytes: rotated first */
    CU_ASSERT_EQUAL(size_of(path), 80);
    CU_ASSERT_EQUAL(size_n(1), 800);
    write_lines(9 + 10 + 10 + 10); /* 4 more rotations: only 3 old files kept */
    CU_ASSERT_EQUAL(size_n(1), 800);
    CU_ASSERT_EQUAL(size_n(2), 800);
    CU_ASSERT_EQUAL(size_n(3), 800);
    CU_ASSERT_EQUAL(size_n(4), -1);
    CU_ASSERT_EQUAL(size_of(path), 800);
    /* the newest old file holds the lines just before the current ones */
    char p1[160];
    snprintf(p1, sizeof(p1), "%s.1", path);
    char *s = slurp(p1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "line 00019"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "line 00028"));
    free(s);
    log_close();
}

static void test_rotation_keep0(void)
{
    clean();
    struct err err = {0};
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    log_set_rotation(800, 0);
    write_lines(25);
    CU_ASSERT_EQUAL(size_of(path), 400);
    CU_ASSERT_EQUAL(size_n(1), -1);
    log_close();
}

/* An existing file's size counts: appending to a full file rotates at the first line. */
static void test_rotation_existing(void)
{
    clean();
    struct err err = {0};
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    write_lines(10);
    log_close();
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    log_set_rotation(800, 2);
    write_lines(1);
    CU_ASSERT_EQUAL(size_of(path), 80);
    CU_ASSERT_EQUAL(size_n(1), 800);
    log_close();
}

/* logrotate's way: mv FILE FILE.old, then SIGHUP (log_reopen) starts a new FILE. */
static void test_reopen(void)
{
    clean();
    struct err err = {0};
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    log_set_rotation(800, 2);
    write_lines(5);
    char moved[160];
    snprintf(moved, sizeof(moved), "%s.old", path);
    CU_ASSERT_EQUAL(rename(path, moved), 0);
    write_lines(1); /* still into the moved file */
    CU_ASSERT_EQUAL(size_of(moved), 480);
    log_reopen();
    write_lines(2);
    CU_ASSERT_EQUAL(size_of(path), 160);
    CU_ASSERT_EQUAL(size_of(moved), 480);
    /* the size count restarted with the new file: 10 lines fit before a rotation */
    write_lines(8);
    CU_ASSERT_EQUAL(size_of(path), 800);
    CU_ASSERT_EQUAL(size_n(1), -1);
    log_close();
}

static void test_debug_facilities(void)
{
    clean();
    struct err err = {0};
    CU_ASSERT_EQUAL(log_open(CONFIG_LOG_INFO, path, &err), 0);
    static const char *const facs[] = {"kafka", "BINLOG"};
    log_set_debug(facs, 2);
    int evaluated = 0;
    log_debug("KAFKA", "i1", "kafka debug %d", ++evaluated);
    log_debug("BINLOG", NULL, "binlog debug");
    log_debug("INST", NULL, "inst debug %d", ++evaluated); /* not evaluated */
    log_info("INST", NULL, "inst info");
    CU_ASSERT_EQUAL(evaluated, 1);
    CU_ASSERT_TRUE(log_enabled(CONFIG_LOG_DEBUG, "KAFKA"));
    CU_ASSERT_FALSE(log_enabled(CONFIG_LOG_DEBUG, "INST"));
    CU_ASSERT_TRUE(log_enabled(CONFIG_LOG_INFO, "INST"));
    char *s = slurp(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "DEBUG KAFKA [i1] kafka debug 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "DEBUG BINLOG binlog debug\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "inst debug"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "INFO  INST inst info\n"));
    free(s);
    static const char *const all[] = {"ALL"};
    log_set_debug(all, 1);
    log_debug("INST", NULL, "inst debug now");
    s = slurp(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "DEBUG INST inst debug now\n"));
    free(s);
    log_close();
    CU_ASSERT_FALSE(log_enabled(CONFIG_LOG_DEBUG, "KAFKA"));
}

static struct config *load(const char *yaml, struct err *err)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/c.yaml", dir);
    FILE *f = fopen(p, "w");
    fputs(yaml, f);
    fputs("instances:\n  - name: a\n    source: {host: h, user: u}\n"
          "    positions: {store: file, dir: d}\n    sinks: [{type: stdout}]\n",
          f);
    fclose(f);
    return config_load(p, err);
}

static void test_config_keys(void)
{
    clean();
    struct err err = {0};
    struct config *cfg = load("", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.max_mb, 100);
    CU_ASSERT_EQUAL(cfg->log.keep, 5);
    CU_ASSERT_EQUAL(cfg->log.debug, 0);
    config_free(cfg);

    char yaml[300];
    snprintf(yaml, sizeof(yaml),
             "log: {level: warn, file: %s, max_mb: 1, keep: 2, debug: [kafka, Binlog]}\n", path);
    cfg = load(yaml, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->log.max_mb, 1);
    CU_ASSERT_EQUAL(cfg->log.keep, 2);
    CU_ASSERT_EQUAL(log_configure(cfg, &err), 0);
    CU_ASSERT_TRUE(log_enabled(CONFIG_LOG_DEBUG, "KAFKA"));
    CU_ASSERT_TRUE(log_enabled(CONFIG_LOG_DEBUG, "BINLOG"));
    CU_ASSERT_FALSE(log_enabled(CONFIG_LOG_DEBUG, "INST"));
    CU_ASSERT_FALSE(log_enabled(CONFIG_LOG_INFO, "INST"));
    log_close();
    config_free(cfg);

    cfg = load("log: {debug: [kafak]}\n", &err);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":1: key \"log.debug\": \"kafak\" is not one of: "
                                           "BINLOG, INST, KAFKA"));
    cfg = load("log: {debug: kafka}\n", &err);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected a list of facilities"));
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s/sluice-log.XXXXXX", "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/sluice.log", dir);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log", NULL, NULL);
    CU_add_test(s, "rotation", test_rotation);
    CU_add_test(s, "rotation_keep0", test_rotation_keep0);
    CU_add_test(s, "rotation_existing", test_rotation_existing);
    CU_add_test(s, "reopen", test_reopen);
    CU_add_test(s, "debug_facilities", test_debug_facilities);
    CU_add_test(s, "config_keys", test_config_keys);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    clean();
    rmdir(dir);
    return failed ? 1 : 0;
}
