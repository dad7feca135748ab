/*
 * test_sink_stdout.c — unit tests for sinks/stdout.c through the sink wrappers, with fd 1
 * pointed at a temp file or a pipe for the duration of each check: exact output and in-order
 * acks with byte counts, stdio text printed earlier coming first, and a reader that went away
 * (EPIPE, SIGPIPE ignored as the daemon does) failing the batch without an ack, the batch then
 * written once by the retry.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"
#include "../../sinks/stdout.h"

static char path[300];
static int saved_fd1 = -1;

static struct {
    uint64_t id[16];
    size_t bytes[16];
    int n;
} acks;

static void on_ack(uint64_t batch_id, size_t bytes, void *opaque)
{
    (void)opaque;
    if (acks.n < 16) {
        acks.id[acks.n] = batch_id;
        acks.bytes[acks.n] = bytes;
    }
    acks.n++;
}

static struct config_sink cfg = {.type = CONFIG_SINK_STDOUT, .format = CONFIG_FORMAT_JSON};

static struct sink *open_stdout(void)
{
    struct err err = {0};
    struct sink_conf conf = {"demo", &cfg, on_ack, NULL, 0, NULL};
    memset(&acks, 0, sizeof(acks));
    struct sink *s = sink_open(&conf, &err);
    CU_ASSERT_PTR_NOT_NULL(s);
    if (s == NULL)
        fprintf(stderr, "\nopen: %s\n", err.msg);
    return s;
}

static void ddl(struct change *c, const char *sql)
{
    memset(c, 0, sizeof(*c));
    c->kind = CHANGE_DDL;
    c->db = "shop";
    c->ts = 1700000000;
    c->file = "binlog.000001";
    c->pos = 120;
    c->sql = sql;
    c->sql_len = (uint32_t)strlen(sql);
}

#define LINE_A                                                                                     \
    "{\"type\":\"ddl\",\"db\":\"shop\",\"ts\":1700000000,\"pos\":\"binlog.000001:120\","           \
    "\"sql\":\"CREATE TABLE a (x INT)\"}\n"
#define LINE_B                                                                                     \
    "{\"type\":\"ddl\",\"db\":\"shop\",\"ts\":1700000000,\"pos\":\"binlog.000001:120\","           \
    "\"sql\":\"DROP TABLE b\"}\n"

/* Points fd 1 at fd (the test's own output goes to the saved one meanwhile). */
static void redirect(int fd)
{
    fflush(stdout);
    CU_ASSERT_NOT_EQUAL_FATAL(dup2(fd, STDOUT_FILENO), -1);
}

static void restore(void)
{
    fflush(stdout);
    dup2(saved_fd1, STDOUT_FILENO);
}

static void check_content(const char *want)
{
    char buf[4096];
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static int setup(void)
{
    snprintf(path, sizeof(path), "%s/sluice-sink-stdout-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    saved_fd1 = dup(STDOUT_FILENO);
    return saved_fd1 < 0;
}

static int teardown(void)
{
    unlink(path);
    close(saved_fd1);
    return 0;
}

static void test_write_and_ack(void)
{
    struct change a, b;
    struct err err = {0};

    ddl(&a, "CREATE TABLE a (x INT)");
    ddl(&b, "DROP TABLE b");
    int fd = open(path, O_WRONLY | O_TRUNC);
    CU_ASSERT_FATAL(fd >= 0);
    struct sink *s = open_stdout();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    redirect(fd);
    printf("before\n"); /* buffered by stdio: must come out before the batch */
    CU_ASSERT_EQUAL(sink_append(s, &a, &err), 0);
    CU_ASSERT_EQUAL(sink_append(s, &b, &err), 0);
    CU_ASSERT_EQUAL(sink_write_batch(s, 1, &err), 0);
    CU_ASSERT_EQUAL(sink_write_batch(s, 2, &err), 0);
    CU_ASSERT_EQUAL(sink_append(s, &b, &err), 0);
    CU_ASSERT_EQUAL(sink_write_batch(s, 3, &err), 0);
    sink_reopen(s); /* nothing to do */
    CU_ASSERT_EQUAL(sink_poll(s, 0, &err), 0);
    restore();
    close(fd);

    check_content("before\n" LINE_A LINE_B LINE_B);
    CU_ASSERT_EQUAL(acks.n, 3);
    CU_ASSERT_EQUAL(acks.id[0], 1);
    CU_ASSERT_EQUAL(acks.bytes[0], strlen(LINE_A LINE_B));
    CU_ASSERT_EQUAL(acks.id[1], 2);
    CU_ASSERT_EQUAL(acks.bytes[1], 0);
    CU_ASSERT_EQUAL(acks.id[2], 3);
    CU_ASSERT_EQUAL(acks.bytes[2], strlen(LINE_B));
    sink_close(s);
}

static void test_epipe(void)
{
    struct change a, b;
    struct err err = {0};
    int p[2];

    ddl(&a, "CREATE TABLE a (x INT)");
    ddl(&b, "DROP TABLE b");
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    close(p[0]); /* the reader went away */
    struct sink *s = open_stdout();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    redirect(p[1]);
    CU_ASSERT_EQUAL(sink_append(s, &a, &err), 0);
    int r = sink_write_batch(s, 1, &err);
    restore();
    close(p[1]);
    CU_ASSERT_EQUAL(r, ERR_SINK_IO);
    char want[200];
    snprintf(want, sizeof(want), "could not write to standard output: %s", strerror(EPIPE));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_EQUAL(acks.n, 0);
    CU_ASSERT_EQUAL(s->last_acked, 0);

    /* A working fd again: the failed batch goes out once, before the next one. */
    int fd = open(path, O_WRONLY | O_TRUNC);
    CU_ASSERT_FATAL(fd >= 0);
    redirect(fd);
    CU_ASSERT_EQUAL(sink_append(s, &b, &err), 0);
    r = sink_write_batch(s, 2, &err);
    restore();
    close(fd);
    signal(SIGPIPE, old);
    CU_ASSERT_EQUAL(r, 0);
    check_content(LINE_A LINE_B);
    CU_ASSERT_EQUAL(acks.n, 2);
    CU_ASSERT_EQUAL(acks.id[0], 1);
    CU_ASSERT_EQUAL(acks.bytes[0], strlen(LINE_A));
    CU_ASSERT_EQUAL(acks.id[1], 2);
    CU_ASSERT_EQUAL(acks.bytes[1], strlen(LINE_B));
    sink_close(s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite su = CU_add_suite("sink_stdout", setup, teardown);
    CU_add_test(su, "write_and_ack", test_write_and_ack);
    CU_add_test(su, "epipe", test_epipe);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
