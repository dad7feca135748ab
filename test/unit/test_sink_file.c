/*
 * test_sink_file.c — unit tests for src/sink.c (registry, acknowledgements, formats) and
 * sinks/file.c through the sink wrappers, in a temp directory: exact file content and in-order
 * acks with byte counts, size rotation to PATH.N without splitting a batch, a partial last line
 * cut off on open, reopen after the file was renamed away (logrotate), a write failing with
 * ENOSPC (PATH a symlink to /dev/full) and a short write failing with EFBIG (RLIMIT_FSIZE) that
 * must leave no partial line and be retried whole, and the errors of the kafka type and of the
 * formats not available yet.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change_json.h"
#include "sink.h"
#include "../../sinks/file.h"
#include "../../sinks/stdout.h"

static char dir[256];
static char path[300];

/* ---- helpers ---- */

static struct {
    uint64_t id[64];
    size_t bytes[64];
    int n;
} acks;

static void on_ack(uint64_t batch_id, size_t bytes, void *opaque)
{
    CU_ASSERT_PTR_EQUAL(opaque, &acks);
    if (acks.n < 64) {
        acks.id[acks.n] = batch_id;
        acks.bytes[acks.n] = bytes;
    }
    acks.n++;
}

static struct config_sink cfg;

static struct sink *open_sink(enum config_sink_type type,
                              const char *p,
                              uint32_t rotate_mb,
                              enum config_format f,
                              struct err *err)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.type = type;
    cfg.path = (char *)p;
    cfg.rotate_mb = rotate_mb;
    cfg.format = f;
    struct sink_conf conf = {"demo", &cfg, on_ack, &acks, 0, NULL};
    memset(&acks, 0, sizeof(acks));
    return sink_open(&conf, err);
}

static struct sink *open_file(const char *p, uint32_t rotate_mb)
{
    struct err err = {0};
    struct sink *s = open_sink(CONFIG_SINK_FILE, p, rotate_mb, CONFIG_FORMAT_JSON, &err);
    CU_ASSERT_PTR_NOT_NULL(s);
    if (s == NULL)
        fprintf(stderr, "\nopen: %s\n", err.msg);
    return s;
}

static void ddl(struct change *c, const char *sql, uint64_t pos)
{
    memset(c, 0, sizeof(*c));
    c->kind = CHANGE_DDL;
    c->db = "shop";
    c->ts = 1700000000;
    c->file = "binlog.000001";
    c->pos = pos;
    c->sql = sql;
    c->sql_len = (uint32_t)strlen(sql);
}

/* INSERT INTO shop.t VALUES (1, 'x'), without a table map: columns are "@1", "@2". */
static const char arena[] = "1\"x\"";
static const struct change_col ins_cols[] = {{0, 0, 1}, {1, 1, 3}};

static void insert(struct change *c, uint64_t pos)
{
    memset(c, 0, sizeof(*c));
    c->kind = CHANGE_INSERT;
    c->db = "shop";
    c->table = "t";
    c->ts = 1700000001;
    c->file = "binlog.000001";
    c->pos = pos;
    c->gtid = "0-1-7";
    c->after.cols = ins_cols;
    c->after.ncols = 2;
    c->text = arena;
}

#define DDL_LINE                                                                                   \
    "{\"type\":\"ddl\",\"db\":\"shop\",\"ts\":1700000000,\"pos\":\"binlog.000001:120\","           \
    "\"sql\":\"CREATE TABLE t (a INT, b TEXT)\"}\n"
#define INS_LINE                                                                                   \
    "{\"type\":\"insert\",\"db\":\"shop\",\"table\":\"t\",\"ts\":1700000001,"                      \
    "\"pos\":\"binlog.000001:300\",\"row\":0,\"gtid\":\"0-1-7\",\"data\":{\"@1\":1,\"@2\":\"x\"}}" \
    "\n"

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void check_content(const char *p, const char *want, size_t want_len)
{
    size_t len;
    char *got = slurp(p, &len);
    CU_ASSERT_EQUAL(len, want_len);
    CU_ASSERT(len == want_len && memcmp(got, want, len) == 0);
    free(got);
}

static void spit(const char *p, const char *data)
{
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(data, 1, strlen(data), f);
    fclose(f);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void append_ok(struct sink *s, const struct change *c)
{
    struct err err = {0};
    CU_ASSERT_EQUAL(sink_append(s, c, &err), 0);
}

static void write_ok(struct sink *s, uint64_t id)
{
    struct err err = {0};
    int r = sink_write_batch(s, id, &err);
    CU_ASSERT_EQUAL(r, 0);
    if (r != 0)
        fprintf(stderr, "\nwrite_batch %llu: %s\n", (unsigned long long)id, err.msg);
    /* The fsync runs on the sink's thread: wait for the acknowledgement. */
    if (r == 0)
        CU_ASSERT_EQUAL(sink_poll(s, 5000, &err), 0);
}

/* write_batch, then (the writer thread reports errors later) poll: the batch's outcome. */
static int write_err(struct sink *s, uint64_t id, struct err *err)
{
    int r = sink_write_batch(s, id, err);
    if (r == 0)
        r = sink_poll(s, 5000, err);
    return r;
}

static int setup(void)
{
    snprintf(dir, sizeof(dir), "%s/sluice-sink-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/out.json", dir);
    return 0;
}

static int teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* Removes every file of the temp directory between tests. */
static void clean(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* ---- registry, formats, acknowledgements ---- */

static void test_registry_and_formats(void)
{
    struct err err = {0};
    struct change c;
    struct strbuf sb = {0};

    clean();
    CU_ASSERT_PTR_EQUAL(sink_find("file"), &sink_file_ops);
    CU_ASSERT_PTR_EQUAL(sink_find("stdout"), &sink_stdout_ops);
    CU_ASSERT_PTR_NULL(sink_find("nope"));

    ddl(&c, "CREATE TABLE t (a INT, b TEXT)", 120);
    struct format_ctx ctx = {.instance = "demo", .batch_id = 1, .now_ms = 0};
    CU_ASSERT_EQUAL(format_render(CONFIG_FORMAT_JSON, &ctx, &c, &sb, &err), 0);
    CU_ASSERT_EQUAL(sb.len, strlen(DDL_LINE) - 1);
    CU_ASSERT_EQUAL(memcmp(sb.buf, DDL_LINE, sb.len), 0);
    strbuf_free(&sb);

    /* No path; a parent directory that does not exist (never created). */
    CU_ASSERT_PTR_NULL(open_sink(CONFIG_SINK_FILE, NULL, 0, CONFIG_FORMAT_JSON, &err));
    CU_ASSERT_EQUAL(err.code, ERR_SINK);
    CU_ASSERT_STRING_EQUAL(err.msg, "instance \"demo\": file sink without a path");
    char missing[400], want[900];
    snprintf(missing, sizeof(missing), "%s/no/such/out.json", dir);
    CU_ASSERT_PTR_NULL(open_sink(CONFIG_SINK_FILE, missing, 0, CONFIG_FORMAT_JSON, &err));
    CU_ASSERT_EQUAL(err.code, ERR_SINK_IO);
    snprintf(want, sizeof(want), "could not open \"%s\": directory \"%s/no/such\" does not exist",
             missing, dir);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    /* A directory as the path. */
    CU_ASSERT_PTR_NULL(open_sink(CONFIG_SINK_FILE, dir, 0, CONFIG_FORMAT_JSON, &err));
    CU_ASSERT_EQUAL(err.code, ERR_SINK_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not open \""));
    sink_close(NULL);
}

static void test_acknowledge(void)
{
    struct config_sink c0 = {0};
    struct sink_conf conf = {"demo", &c0, on_ack, &acks, 0, NULL};
    struct sink s;

    memset(&acks, 0, sizeof(acks));
    sink_init_common(&s, &sink_file_ops, &conf);
    CU_ASSERT_STRING_EQUAL(s.instance, "demo");
    CU_ASSERT_EQUAL(s.last_acked, 0);
    s.last_batch = 5;
    /* Up to 3 at once: one call per batch, in order; the bytes go with the last. */
    sink_acknowledge(&s, 3, 30);
    CU_ASSERT_EQUAL(acks.n, 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(acks.id[i], (uint64_t)i + 1);
    CU_ASSERT_EQUAL(acks.bytes[0], 0);
    CU_ASSERT_EQUAL(acks.bytes[1], 0);
    CU_ASSERT_EQUAL(acks.bytes[2], 30);
    CU_ASSERT_EQUAL(s.last_acked, 3);
    /* Old ids are ignored. */
    sink_acknowledge(&s, 2, 9);
    sink_acknowledge(&s, 3, 9);
    sink_acknowledge(&s, 0, 9);
    CU_ASSERT_EQUAL(acks.n, 3);
    sink_acknowledge(&s, 4, 40);
    sink_acknowledge(&s, 5, 50);
    CU_ASSERT_EQUAL(acks.n, 5);
    CU_ASSERT_EQUAL(acks.id[3], 4);
    CU_ASSERT_EQUAL(acks.bytes[3], 40);
    CU_ASSERT_EQUAL(acks.id[4], 5);
    CU_ASSERT_EQUAL(acks.bytes[4], 50);
    CU_ASSERT_EQUAL(s.last_acked, 5);
    sink_free_common(&s);
    CU_ASSERT_PTR_NULL(s.instance);
    sink_free_common(NULL);
}

/* ---- the file sink ---- */

static void test_write_and_ack(void)
{
    struct change d, i;
    struct err err = {0};

    clean();
    ddl(&d, "CREATE TABLE t (a INT, b TEXT)", 120);
    insert(&i, 300);
    struct sink *s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(exists(path)); /* created at open */
    check_content(path, "", 0);

    append_ok(s, &d);
    append_ok(s, &i);
    CU_ASSERT_EQUAL(acks.n, 0); /* nothing before write_batch */
    check_content(path, "", 0);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(acks.n, 1);
    CU_ASSERT_EQUAL(acks.id[0], 1);
    CU_ASSERT_EQUAL(acks.bytes[0], strlen(DDL_LINE INS_LINE));
    check_content(path, DDL_LINE INS_LINE, strlen(DDL_LINE INS_LINE));

    /* An empty batch is acknowledged at once, with 0 bytes. */
    write_ok(s, 2);
    CU_ASSERT_EQUAL(acks.n, 2);
    CU_ASSERT_EQUAL(acks.id[1], 2);
    CU_ASSERT_EQUAL(acks.bytes[1], 0);

    append_ok(s, &i);
    write_ok(s, 3);
    CU_ASSERT_EQUAL(acks.n, 3);
    CU_ASSERT_EQUAL(acks.id[2], 3);
    CU_ASSERT_EQUAL(acks.bytes[2], strlen(INS_LINE));
    CU_ASSERT_EQUAL(s->last_acked, 3);
    CU_ASSERT_EQUAL(sink_poll(s, 0, &err), 0);
    CU_ASSERT_EQUAL(acks.n, 3);
    sink_close(s);
    check_content(path, DDL_LINE INS_LINE INS_LINE, strlen(DDL_LINE INS_LINE INS_LINE));

    /* A new sink appends to what is there. */
    s = open_file(path, 0);
    append_ok(s, &d);
    write_ok(s, 1);
    sink_close(s);
    check_content(path, DDL_LINE INS_LINE INS_LINE DDL_LINE,
                  strlen(DDL_LINE INS_LINE INS_LINE DDL_LINE));
}

/* Appends batch `id` (4 DDL lines of about 100 KiB) to s and to the expected text of file. */
static void big_batch(struct sink *s, uint64_t id, struct strbuf *want)
{
    static char sql[100 * 1024];
    struct change c;
    for (int k = 0; k < 4; k++) {
        int n = snprintf(sql, sizeof(sql), "-- batch %llu line %d ", (unsigned long long)id, k);
        memset(sql + n, 'x', sizeof(sql) - 1 - (size_t)n);
        sql[sizeof(sql) - 1] = '\0';
        ddl(&c, sql, id * 100 + (uint64_t)k);
        append_ok(s, &c);
        change_json_render(&c, want);
        strbuf_appendc(want, '\n');
    }
    write_ok(s, id);
}

static void test_rotation(void)
{
    struct strbuf w1 = {0}, w2 = {0}, w3 = {0};
    char p1[400], p8[400], junk[400];
    struct stat st;

    clean();
    snprintf(p1, sizeof(p1), "%s.1", path);
    snprintf(p8, sizeof(p8), "%s.8", path);
    struct sink *s = open_file(path, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* ~400 KiB a batch: the third one crosses 1 MiB, and the file rotates after it. */
    big_batch(s, 1, &w1);
    big_batch(s, 2, &w1);
    CU_ASSERT_FALSE(exists(p1));
    big_batch(s, 3, &w1);
    CU_ASSERT_EQUAL(acks.n, 3);
    CU_ASSERT_TRUE(exists(p1));
    check_content(p1, w1.buf, w1.len);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 0);

    /* N is one above the highest suffix; names that are not NAME.digits do not count. */
    snprintf(junk, sizeof(junk), "%s.7", path);
    spit(junk, "old\n");
    snprintf(junk, sizeof(junk), "%s.99x", path);
    spit(junk, "junk\n");
    snprintf(junk, sizeof(junk), "%s/other.json.50", dir);
    spit(junk, "junk\n");
    big_batch(s, 4, &w2);
    big_batch(s, 5, &w2);
    CU_ASSERT_FALSE(exists(p8));
    big_batch(s, 6, &w2);
    CU_ASSERT_TRUE(exists(p8));
    check_content(p8, w2.buf, w2.len);
    check_content(p1, w1.buf, w1.len);
    big_batch(s, 7, &w3);
    check_content(path, w3.buf, w3.len);
    CU_ASSERT_EQUAL(acks.n, 7);
    for (int k = 0; k < 7; k++)
        CU_ASSERT_EQUAL(acks.id[k], (uint64_t)k + 1);
    sink_close(s);

    /* Moved away by someone else (logrotate before its SIGHUP) when the rotation falls due:
     * no PATH.N, just a new PATH. */
    char moved[400], p9[400];
    snprintf(moved, sizeof(moved), "%s/moved.json", dir);
    snprintf(p9, sizeof(p9), "%s.9", path);
    CU_ASSERT_EQUAL(unlink(path), 0);
    s = open_file(path, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    strbuf_reset(&w3);
    big_batch(s, 1, &w3);
    big_batch(s, 2, &w3);
    CU_ASSERT_EQUAL(rename(path, moved), 0);
    big_batch(s, 3, &w3);
    check_content(moved, w3.buf, w3.len);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 0);
    CU_ASSERT_FALSE(exists(p9));
    CU_ASSERT_EQUAL(acks.n, 3);
    sink_close(s);

    strbuf_free(&w1);
    strbuf_free(&w2);
    strbuf_free(&w3);
}

static void test_partial_line(void)
{
    struct change d;

    clean();
    ddl(&d, "CREATE TABLE t (a INT, b TEXT)", 120);
    spit(path, "{\"a\":1}\n{\"b\"");
    struct sink *s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    check_content(path, "{\"a\":1}\n", 8);
    append_ok(s, &d);
    write_ok(s, 1);
    check_content(path, "{\"a\":1}\n" DDL_LINE, 8 + strlen(DDL_LINE));
    sink_close(s);

    /* No newline at all: the file empties. */
    spit(path, "{\"type\":\"ins");
    s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    check_content(path, "", 0);
    sink_close(s);

    /* A partial line longer than the read-back chunk. */
    char *big = malloc(20000);
    strcpy(big, "line1\nline2\n");
    memset(big + 12, 'y', 19000);
    big[12 + 19000] = '\0';
    spit(path, big);
    s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    check_content(path, "line1\nline2\n", 12);
    sink_close(s);

    /* A complete file is left alone. */
    memset(big + 12, 'y', 9000);
    big[12 + 9000] = '\n';
    big[12 + 9001] = '\0';
    spit(path, big);
    s = open_file(path, 0);
    check_content(path, big, strlen(big));
    sink_close(s);
    free(big);
}

static void test_reopen(void)
{
    struct change d, i;
    char old[400];

    clean();
    ddl(&d, "CREATE TABLE t (a INT, b TEXT)", 120);
    insert(&i, 300);
    snprintf(old, sizeof(old), "%s.old", path);
    struct sink *s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &d);
    write_ok(s, 1);
    /* logrotate: rename, then SIGHUP. */
    CU_ASSERT_EQUAL(rename(path, old), 0);
    append_ok(s, &i); /* a batch in the making survives the reopen */
    sink_reopen(s);
    CU_ASSERT_TRUE(exists(path));
    write_ok(s, 2);
    check_content(old, DDL_LINE, strlen(DDL_LINE));
    check_content(path, INS_LINE, strlen(INS_LINE));
    CU_ASSERT_EQUAL(acks.n, 2);

    /* A reopen that fails is reported by the next write, which retries the open. */
    char sub[400], subpath[500];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(subpath, sizeof(subpath), "%s/out.json", sub);
    CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
    sink_close(s);
    s = open_file(subpath, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(unlink(subpath), 0);
    CU_ASSERT_EQUAL(rmdir(sub), 0);
    sink_reopen(s);
    append_ok(s, &d);
    struct err err = {0};
    CU_ASSERT_EQUAL(write_err(s, 1, &err), ERR_SINK_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not exist"));
    CU_ASSERT_EQUAL(acks.n, 0);
    CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
    write_ok(s, 1);
    CU_ASSERT_EQUAL(acks.n, 1);
    check_content(subpath, DDL_LINE, strlen(DDL_LINE));
    sink_close(s);
    unlink(subpath);
    rmdir(sub);
}

static void test_enospc(void)
{
    struct change d;
    struct err err = {0};
    char want[500];

    clean();
    if (access("/dev/full", W_OK) != 0) {
        fprintf(stderr, "\n    (no writable /dev/full: ENOSPC case not run)\n");
        return;
    }
    ddl(&d, "CREATE TABLE t (a INT, b TEXT)", 120);
    CU_ASSERT_EQUAL_FATAL(symlink("/dev/full", path), 0);
    struct sink *s = open_file(path, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &d);
    CU_ASSERT_EQUAL(write_err(s, 1, &err), ERR_SINK_IO);
    snprintf(want, sizeof(want), "could not write \"%s\": %s", path, strerror(ENOSPC));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_EQUAL(acks.n, 0);
    CU_ASSERT_EQUAL(s->last_acked, 0);
    /* Still failing: still nothing acknowledged. */
    CU_ASSERT_EQUAL(write_err(s, 2, &err), ERR_SINK_IO);
    CU_ASSERT_EQUAL(acks.n, 0);
    sink_close(s);
    unlink(path);
}

/* A short write then EFBIG, from RLIMIT_FSIZE: the file is cut back to the batch boundary and
 * the next write_batch() writes the failed batch whole, then the new one. */
static void test_short_write_retried(void)
{
    struct change d, i;
    struct err err = {0};
    struct rlimit saved, lim;

    clean();
    ddl(&d, "CREATE TABLE t (a INT, b TEXT)", 120);
    insert(&i, 300);
    struct sink *s = open_file(path, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    append_ok(s, &d);
    write_ok(s, 1);

    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = strlen(DDL_LINE) + 20; /* room for 20 bytes of the next batch */
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    append_ok(s, &i);
    append_ok(s, &d);
    int r = write_err(s, 2, &err);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);

    CU_ASSERT_EQUAL(r, ERR_SINK_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not write \""));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, strerror(EFBIG)));
    CU_ASSERT_EQUAL(acks.n, 1);
    check_content(path, DDL_LINE, strlen(DDL_LINE)); /* no partial line */

    append_ok(s, &i);
    write_ok(s, 3);
    CU_ASSERT_EQUAL(acks.n, 3);
    CU_ASSERT_EQUAL(acks.id[1], 2);
    CU_ASSERT_EQUAL(acks.bytes[1], strlen(INS_LINE DDL_LINE));
    CU_ASSERT_EQUAL(acks.id[2], 3);
    CU_ASSERT_EQUAL(acks.bytes[2], strlen(INS_LINE));
    check_content(path, DDL_LINE INS_LINE DDL_LINE INS_LINE,
                  strlen(DDL_LINE INS_LINE DDL_LINE INS_LINE));
    sink_close(s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite su = CU_add_suite("sink_file", setup, teardown);
    CU_add_test(su, "registry_and_formats", test_registry_and_formats);
    CU_add_test(su, "acknowledge", test_acknowledge);
    CU_add_test(su, "write_and_ack", test_write_and_ack);
    CU_add_test(su, "rotation", test_rotation);
    CU_add_test(su, "partial_line", test_partial_line);
    CU_add_test(su, "reopen", test_reopen);
    CU_add_test(su, "enospc", test_enospc);
    CU_add_test(su, "short_write_retried", test_short_write_retried);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
