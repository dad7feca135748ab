/*
 * test_position_find.c — unit tests for the parts of src/position_find.c that need no server
 * (the .c is included to reach its statics): the transaction boundaries the by-time scan
 * recognises (GTID / BEGIN / COMMIT / ROLLBACK, lone DDL, DDL inside a transaction, no GTIDs at
 * all) and the GTID set it carries along (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS, tagged
 * PREVIOUS_GTIDS refused). And `sluice position reset --file/--pos` (cmd_position.c, no server
 * needed): both positions replaced, the stored server identity and schema version kept, a held
 * lock refused. The search against a live server is test/integration/60-position.sh.
 */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "../../src/position_find.c"
#include "cmd_position.h"
#include "fsutil.h"
#include "lockfile.h"
#include "pos_store.h"
#include "testutil.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"

/* Feeds one change of kind k at pos with timestamp ts and GTID g (NULL = none). */
static void feed(struct scan *s, enum change_kind k, uint64_t pos, uint32_t ts, const char *g)
{
    struct change c;
    memset(&c, 0, sizeof(c));
    c.kind = k;
    c.pos = pos;
    c.ts = ts;
    c.gtid = g;
    c.file = "binlog.000001";
    CU_ASSERT_EQUAL(scan_emit(&c, s), 0);
}

static void scan_init(struct scan *s, int64_t target)
{
    memset(s, 0, sizeof(*s));
    s->target = target;
    s->state_ok = true;
    position_gtid_init(&s->state);
}

static char *state_text(const struct scan *s)
{
    static char buf[256];
    struct strbuf sb = {0};
    position_gtid_format(&s->state, &sb);
    snprintf(buf, sizeof(buf), "%s", sb.buf ? sb.buf : "");
    strbuf_free(&sb);
    return buf;
}

/* A MariaDB stream: transaction, lone DDL, transaction; the target falls on each in turn. */
static void mariadb_stream(struct scan *s)
{
    feed(s, CHANGE_GTID, 300, 100, "0-1-1");
    feed(s, CHANGE_BEGIN, 300, 100, "0-1-1");
    feed(s, CHANGE_INSERT, 400, 100, "0-1-1");
    feed(s, CHANGE_COMMIT, 450, 100, "0-1-1");
    feed(s, CHANGE_GTID, 500, 200, "0-1-2");
    feed(s, CHANGE_DDL, 540, 200, "0-1-2");
    feed(s, CHANGE_GTID, 600, 290, "0-1-3");
    feed(s, CHANGE_BEGIN, 600, 290, "0-1-3");
    feed(s, CHANGE_DDL, 650, 290, "0-1-3"); /* statement-based DML inside: not an end */
    feed(s, CHANGE_UPDATE, 700, 295, "0-1-3");
    feed(s, CHANGE_COMMIT, 750, 300, "0-1-3"); /* committed later than it started */
}

static void test_boundaries(void)
{
    static const struct {
        int64_t target;
        bool found;
        uint64_t start;
        uint32_t commit_ts;
        const char *gtid, *state;
    } cases[] = {
        {50, true, 300, 100, "0-1-1", ""},       {100, true, 300, 100, "0-1-1", ""},
        {101, true, 500, 200, "0-1-2", "0-1-1"}, {200, true, 500, 200, "0-1-2", "0-1-1"},
        {291, true, 600, 300, "0-1-3", "0-1-2"}, {300, true, 600, 300, "0-1-3", "0-1-2"},
        {301, false, 0, 0, "", "0-1-3"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scan s;
        scan_init(&s, cases[i].target);
        mariadb_stream(&s);
        CU_ASSERT_EQUAL(s.found, cases[i].found);
        if (s.found) {
            CU_ASSERT_EQUAL(s.start, cases[i].start);
            CU_ASSERT_EQUAL(s.commit_ts, cases[i].commit_ts);
        }
        CU_ASSERT_STRING_EQUAL(s.gtid, cases[i].gtid);
        CU_ASSERT_STRING_EQUAL(state_text(&s), cases[i].state);
        position_gtid_free(&s.state);
    }
}

/* No GTIDs (MySQL with gtid_mode OFF, anonymous GTIDs): BEGIN or the statement starts it. */
static void test_without_gtids(void)
{
    struct scan s;
    scan_init(&s, 150);
    feed(&s, CHANGE_BEGIN, 300, 100, NULL);
    feed(&s, CHANGE_INSERT, 350, 100, NULL);
    feed(&s, CHANGE_ROLLBACK, 400, 100, NULL);
    feed(&s, CHANGE_DDL, 500, 140, NULL);
    feed(&s, CHANGE_BEGIN, 600, 150, NULL);
    feed(&s, CHANGE_DELETE, 650, 150, NULL);
    feed(&s, CHANGE_COMMIT, 700, 160, NULL);
    CU_ASSERT_TRUE(s.found);
    CU_ASSERT_EQUAL(s.start, 600);
    CU_ASSERT_EQUAL(s.start_ts, 150);
    CU_ASSERT_EQUAL(s.commit_ts, 160);
    CU_ASSERT_STRING_EQUAL(s.gtid, "");
    position_gtid_free(&s.state);

    scan_init(&s, 130);
    feed(&s, CHANGE_BEGIN, 300, 100, NULL);
    feed(&s, CHANGE_COMMIT, 400, 100, NULL);
    feed(&s, CHANGE_DDL, 500, 140, NULL); /* a lone statement starts at itself */
    CU_ASSERT_TRUE(s.found);
    CU_ASSERT_EQUAL(s.start, 500);
    position_gtid_free(&s.state);
}

/* MySQL GTIDs are merged into the set carried along. */
static void test_mysql_gtids(void)
{
    struct scan s;
    scan_init(&s, 300);
    struct err err = {0};
    CU_ASSERT_EQUAL(position_gtid_parse(&s.state, U1 ":1-5", &err), 0);
    feed(&s, CHANGE_GTID, 300, 100, U1 ":6");
    feed(&s, CHANGE_DDL, 350, 100, U1 ":6");
    feed(&s, CHANGE_GTID, 400, 300, U1 ":7");
    feed(&s, CHANGE_DDL, 450, 300, U1 ":7");
    CU_ASSERT_TRUE(s.found);
    CU_ASSERT_EQUAL(s.start, 400);
    CU_ASSERT_STRING_EQUAL(state_text(&s), U1 ":1-6");
    position_gtid_free(&s.state);
}

static void test_gtid_list(void)
{
    struct strbuf b = {0};
    put_le(&b, 3 | (1u << 28), 4); /* count 3, a flag in the top bits */
    put_le(&b, 0, 4);
    put_le(&b, 1, 4);
    put_le(&b, 10, 8);
    put_le(&b, 0, 4); /* the same domain again, later server: replaces */
    put_le(&b, 2, 4);
    put_le(&b, 12, 8);
    put_le(&b, 5, 4);
    put_le(&b, 1, 4);
    put_le(&b, 7, 8);
    struct scan s;
    scan_init(&s, 0);
    CU_ASSERT_EQUAL(read_gtid_list(&s, (const uint8_t *)b.buf, b.len), 0);
    CU_ASSERT_STRING_EQUAL(state_text(&s), "0-2-12,5-1-7");
    position_gtid_free(&s.state);
    scan_init(&s, 0);
    CU_ASSERT_EQUAL(read_gtid_list(&s, (const uint8_t *)b.buf, b.len - 1), -1); /* cut short */
    position_gtid_free(&s.state);
    strbuf_free(&b);
}

static void test_previous_gtids(void)
{
    uint8_t uuid[16];
    unhex("3e11fa4771ca11e19e33c80aa9429562", uuid);
    struct strbuf b = {0};
    put_le(&b, 1, 8);
    strbuf_append(&b, uuid, 16);
    put_le(&b, 2, 8);
    put_le(&b, 1, 8); /* [1, 6) */
    put_le(&b, 6, 8);
    put_le(&b, 7, 8); /* [7, 10) */
    put_le(&b, 10, 8);
    struct scan s;
    scan_init(&s, 0);
    CU_ASSERT_EQUAL(read_previous_gtids(&s, (const uint8_t *)b.buf, b.len), 0);
    CU_ASSERT_STRING_EQUAL(state_text(&s), U1 ":1-5:7-9");
    position_gtid_free(&s.state);

    /* An empty list: the empty set. */
    struct strbuf e = {0};
    put_le(&e, 0, 8);
    scan_init(&s, 0);
    CU_ASSERT_EQUAL(read_previous_gtids(&s, (const uint8_t *)e.buf, e.len), 0);
    CU_ASSERT_STRING_EQUAL(state_text(&s), "");
    position_gtid_free(&s.state);

    /* Tagged format (a format byte on top of n_sids), cut short, empty interval: refused. */
    b.buf[7] = 1;
    scan_init(&s, 0);
    CU_ASSERT_EQUAL(read_previous_gtids(&s, (const uint8_t *)b.buf, b.len), -1);
    b.buf[7] = 0;
    CU_ASSERT_EQUAL(read_previous_gtids(&s, (const uint8_t *)b.buf, b.len - 8), -1);
    b.buf[b.len - 8] = 7; /* [7, 7) */
    CU_ASSERT_EQUAL(read_previous_gtids(&s, (const uint8_t *)b.buf, b.len), -1);
    position_gtid_free(&s.state);
    strbuf_free(&b);
    strbuf_free(&e);
}

/* A configuration with one instance "p1" whose data and positions live under dir. */
static void write_config(const char *dir, char *conf, size_t n)
{
    snprintf(conf, n, "%s/sluice.yaml", dir);
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f,
            "data_dir: %s/data\n"
            "instances:\n"
            "  - name: p1\n"
            "    source: {host: 127.0.0.1, port: 1, user: cdc, password: x}\n"
            "    positions: {store: file, dir: %s/pos}\n"
            "    sinks:\n"
            "      - {type: stdout, format: json}\n",
            dir, dir);
    fclose(f);
}

static struct pos_store *open_p1(const char *dir)
{
    char pdir[300];
    snprintf(pdir, sizeof(pdir), "%s/pos", dir);
    struct pos_store_param params[] = {{"dir", pdir}};
    struct pos_store_conf conf = {"p1", params, 1};
    struct err err = {0};
    struct pos_store *st = pos_store_open("file", &conf, &err);
    CU_ASSERT_PTR_NOT_NULL(st);
    return st;
}

static int run_reset(const char *conf, const char *file, const char *pos)
{
    char *argv[] = {"position", "reset",  "--config",   (char *)conf, "--instance",
                    "p1",       "--file", (char *)file, "--pos",      (char *)pos};
    return cmd_position(10, argv);
}

static void test_reset_keeps_identity(void)
{
    char dir[] = "/tmp/sluice-test-position-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char conf[300];
    write_config(dir, conf, sizeof(conf));

    /* A record as the daemon leaves it. */
    struct pos_store_record rec, got;
    pos_store_record_init(&rec);
    pos_store_record_init(&got);
    struct err err = {0};
    position_set_file(&rec.consumed, "binlog.000003", &err);
    rec.consumed.offset = 900;
    position_gtid_parse(&rec.consumed.gtid, "0-1-40", &err);
    position_set_file(&rec.parsed, "binlog.000003", &err);
    rec.parsed.offset = 1500;
    rec.server_id = 42;
    snprintf(rec.server_version, sizeof(rec.server_version), "10.11.6-MariaDB-log");
    rec.schema_version = 7;
    struct pos_store *st = open_p1(dir);
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);

    CU_ASSERT_EQUAL(run_reset(conf, "binlog.000009", "123"), 0);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    CU_ASSERT_STRING_EQUAL(got.consumed.file, "binlog.000009");
    CU_ASSERT_EQUAL(got.consumed.offset, 123);
    CU_ASSERT_TRUE(position_gtid_is_empty(&got.consumed.gtid));
    CU_ASSERT_STRING_EQUAL(got.parsed.file, "binlog.000009");
    CU_ASSERT_EQUAL(got.parsed.offset, 123);
    CU_ASSERT_EQUAL(got.server_id, 42);
    CU_ASSERT_STRING_EQUAL(got.server_version, "10.11.6-MariaDB-log");
    CU_ASSERT_EQUAL(got.schema_version, 7);

    /* Bad usage, and a held lock: exit 2 / 1, the record untouched. */
    CU_ASSERT_EQUAL(run_reset(conf, "binlog.000010", "3"), 2);
    char lock[320], ldir[300];
    snprintf(ldir, sizeof(ldir), "%s/data/p1", dir);
    snprintf(lock, sizeof(lock), "%s/lock", ldir);
    CU_ASSERT_EQUAL(fs_mkdirs(ldir, &err), 0);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    /* flock locks belong to the open file description: a second open in this process conflicts. */
    CU_ASSERT_EQUAL(flock(fd, LOCK_EX | LOCK_NB), 0);
    CU_ASSERT_EQUAL(run_reset(conf, "binlog.000010", "4"), 1);
    close(fd);
    pos_store_record_free(&got);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    CU_ASSERT_STRING_EQUAL(got.consumed.file, "binlog.000009");

    /* Nothing stored yet: identity and schema version empty. */
    char rm[400];
    snprintf(rm, sizeof(rm), "%s/pos/p1.pos", dir);
    CU_ASSERT_EQUAL(unlink(rm), 0);
    CU_ASSERT_EQUAL(run_reset(conf, "binlog.000011", "4"), 0);
    pos_store_record_free(&got);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    CU_ASSERT_STRING_EQUAL(got.consumed.file, "binlog.000011");
    CU_ASSERT_EQUAL(got.server_id, 0);
    CU_ASSERT_EQUAL(got.schema_version, 0);

    pos_store_close(st);
    pos_store_record_free(&rec);
    pos_store_record_free(&got);
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(rm), 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("position_find", NULL, NULL);
    CU_add_test(s, "boundaries", test_boundaries);
    CU_add_test(s, "without_gtids", test_without_gtids);
    CU_add_test(s, "mysql_gtids", test_mysql_gtids);
    CU_add_test(s, "gtid_list", test_gtid_list);
    CU_add_test(s, "previous_gtids", test_previous_gtids);
    CU_pSuite r = CU_add_suite("position_reset", NULL, NULL);
    CU_add_test(r, "reset_keeps_identity", test_reset_keeps_identity);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
