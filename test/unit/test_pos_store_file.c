/*
 * test_pos_store_file.c — unit tests for meta/file.c through the pos_store registry, in temp
 * directories: save/load round trip, overwrite, missing file, every kind of damage (flipped
 * byte, truncation at every length, bad magic, version, keys), a leftover .tmp, a directory
 * without write permission (a child drops root first when run as root), and injected fsync and
 * rename failures that must leave the previous file intact.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crc32c.h"
#include "pos_store.h"
#include "../../meta/file.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"

static char dir[256];
static char path[300];
static char tmppath[300];

static struct pos_store *open_store(const char *d)
{
    struct pos_store_param params[] = {{"dir", d}};
    struct pos_store_conf conf = {"demo", params, 1};
    struct err err = {0};
    struct pos_store *st = pos_store_open("file", &conf, &err);
    CU_ASSERT_PTR_NOT_NULL(st);
    if (st == NULL)
        fprintf(stderr, "\nopen: %s\n", err.msg);
    return st;
}

static void fill(struct pos_store_record *rec, uint64_t off)
{
    struct err err = {0};
    pos_store_record_init(rec);
    position_set_file(&rec->parsed, "binlog.000004", &err);
    rec->parsed.offset = off + 1000;
    rec->parsed.ts = 1700000100;
    CU_ASSERT_EQUAL(position_gtid_parse(&rec->parsed.gtid, U1 ":1-20:tag:1-3", &err), 0);
    position_set_file(&rec->consumed, "binlog.000003", &err);
    rec->consumed.offset = off;
    rec->consumed.ts = 1700000000;
    CU_ASSERT_EQUAL(position_gtid_parse(&rec->consumed.gtid, U1 ":1-10:tag:1", &err), 0);
    snprintf(rec->server_uuid, sizeof(rec->server_uuid), "%s", U1);
    rec->server_id = 42;
    snprintf(rec->server_version, sizeof(rec->server_version), "8.4.3");
    rec->schema_version = 7;
}

static void check_same(const struct pos_store_record *a, const struct pos_store_record *b)
{
    const struct position *pa[] = {&a->parsed, &a->consumed}, *pb[] = {&b->parsed, &b->consumed};
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_STRING_EQUAL(pa[i]->file, pb[i]->file);
        CU_ASSERT_EQUAL(pa[i]->offset, pb[i]->offset);
        CU_ASSERT_EQUAL(pa[i]->ts, pb[i]->ts);
        CU_ASSERT_EQUAL(position_gtid_compare(&pa[i]->gtid, &pb[i]->gtid), POSITION_CMP_EQUAL);
    }
    CU_ASSERT_STRING_EQUAL(a->server_uuid, b->server_uuid);
    CU_ASSERT_EQUAL(a->server_id, b->server_id);
    CU_ASSERT_STRING_EQUAL(a->server_version, b->server_version);
    CU_ASSERT_EQUAL(a->schema_version, b->schema_version);
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *p, const char *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Writes body plus its correct crc32c line, so the fault under test is the body's. */
static void spit_with_crc(const char *p, const char *body)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%scrc32c=%08x\n", body, crc32c(0, body, strlen(body)));
    spit(p, buf, strlen(buf));
}

/* Loads, expecting code with a message containing part (and the file's path for corruption). */
static void expect_load(struct pos_store *st, int code, const char *part)
{
    struct pos_store_record rec;
    struct err err = {0};
    pos_store_record_init(&rec);
    int r = pos_store_load(st, &rec, &err);
    CU_ASSERT_EQUAL(r, code);
    if (part)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, part));
    if (code == ERR_POS_CORRUPT)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    if (r != code || (part && strstr(err.msg, part) == NULL))
        fprintf(stderr, "\nload: r=%d msg=\"%s\" (wanted %d \"%s\")\n", r, err.msg, code,
                part ? part : "");
    pos_store_record_free(&rec);
}

static int setup(void)
{
    snprintf(dir, sizeof(dir), "%s/sluice-posfile.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/demo.pos", dir);
    snprintf(tmppath, sizeof(tmppath), "%s/demo.pos.tmp", dir);
    return 0;
}

static int teardown(void)
{
    unlink(path);
    unlink(tmppath);
    chmod(dir, 0700);
    return rmdir(dir) == 0 ? 0 : 1;
}

static void test_missing_then_round_trip(void)
{
    unlink(path);
    struct pos_store *st = open_store(dir);
    struct pos_store_record rec, got;
    struct err err = {0};
    pos_store_record_init(&got);
    got.server_id = 99;
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_NONE);
    CU_ASSERT_EQUAL(got.server_id, 99); /* untouched */

    fill(&rec, UINT64_C(5000000000));
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
    CU_ASSERT_EQUAL(access(tmppath, F_OK), -1);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&rec, &got);

    /* Readable by people. */
    size_t len;
    char *text = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "sluice-positions\nversion=1\ninstance=demo\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nconsumed.file=binlog.000003\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nconsumed.offset=5000000000\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nconsumed.gtid=" U1 ":1-10:tag:1\n"));
    free(text);

    /* Empty record (MariaDB-less, no GTID) round-trips too. */
    pos_store_record_free(&rec);
    CU_ASSERT_EQUAL(position_gtid_parse(&rec.consumed.gtid, "0-1-100,1-2-3", &err), 0);
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&rec, &got);
    pos_store_record_free(&rec);
    pos_store_record_free(&got);
    pos_store_close(st);
}

static void test_overwrite(void)
{
    struct pos_store *st = open_store(dir);
    struct pos_store_record rec, got;
    struct err err = {0};
    pos_store_record_init(&got);
    for (uint64_t off = 4; off < 4000; off += 500) {
        fill(&rec, off);
        CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
        pos_store_record_free(&rec);
    }
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    CU_ASSERT_EQUAL(got.consumed.offset, 3504);
    /* A second store object on the same directory reads what the first wrote. */
    struct pos_store *st2 = open_store(dir);
    pos_store_record_free(&got);
    CU_ASSERT_EQUAL(pos_store_load(st2, &got, &err), POS_STORE_LOADED);
    CU_ASSERT_EQUAL(got.parsed.offset, 4504);
    pos_store_record_free(&got);
    pos_store_close(st2);
    pos_store_close(st);
}

static void test_corrupt_byte(void)
{
    struct pos_store *st = open_store(dir);
    struct pos_store_record rec;
    struct err err = {0};
    fill(&rec, 123);
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
    pos_store_record_free(&rec);
    size_t len;
    char *good = slurp(path, &len);
    char *bad = malloc(len);
    /* Every single changed byte after the magic is caught by the CRC (or the crc line check). */
    for (size_t i = strlen("sluice-positions\n"); i < len; i++) {
        memcpy(bad, good, len);
        bad[i] ^= 0x04;
        spit(path, bad, len);
        struct pos_store_record got;
        pos_store_record_init(&got);
        CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), ERR_POS_CORRUPT);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
        pos_store_record_free(&got);
    }
    memcpy(bad, good, len);
    bad[len / 2] ^= 0x01;
    spit(path, bad, len);
    expect_load(st, ERR_POS_CORRUPT, "crc32c mismatch");
    memcpy(bad, good, len);
    bad[0] = 'S';
    spit(path, bad, len);
    expect_load(st, ERR_POS_CORRUPT, "bad magic");
    spit(path, good, len);
    expect_load(st, POS_STORE_LOADED, NULL);
    free(good);
    free(bad);
    pos_store_close(st);
}

static void test_truncated(void)
{
    struct pos_store *st = open_store(dir);
    struct pos_store_record rec;
    struct err err = {0};
    fill(&rec, 77);
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
    pos_store_record_free(&rec);
    size_t len;
    char *good = slurp(path, &len);
    for (size_t n = 0; n < len; n++) {
        spit(path, good, n);
        struct pos_store_record got;
        pos_store_record_init(&got);
        int r = pos_store_load(st, &got, &err);
        CU_ASSERT_EQUAL(r, ERR_POS_CORRUPT);
        if (r != ERR_POS_CORRUPT)
            fprintf(stderr, "\ntruncated to %zu: r=%d\n", n, r);
        pos_store_record_free(&got);
    }
    spit(path, good, 0);
    expect_load(st, ERR_POS_CORRUPT, "empty file");
    spit(path, good, 5);
    expect_load(st, ERR_POS_CORRUPT, "truncated");
    spit(path, good, len / 2);
    expect_load(st, ERR_POS_CORRUPT, "truncated (no crc32c line)");
    spit(path, good, len - 3);
    expect_load(st, ERR_POS_CORRUPT, "truncated (short crc32c line)");
    free(good);
    pos_store_close(st);
}

static void test_bad_contents(void)
{
    struct pos_store *st = open_store(dir);
    const char *head = "sluice-positions\nversion=1\ninstance=demo\n";
    const char *rest = "server_uuid=\nserver_id=1\nserver_version=10.11.6-MariaDB\n"
                       "schema_version=0\nparsed.file=b.000001\nparsed.offset=4\nparsed.gtid=\n"
                       "parsed.ts=0\nconsumed.file=b.000001\nconsumed.offset=4\n"
                       "consumed.gtid=0-1-5\nconsumed.ts=0\n";
    char body[2048];
    snprintf(body, sizeof(body), "%s%s", head, rest);
    spit_with_crc(path, body);
    expect_load(st, POS_STORE_LOADED, NULL);

    snprintf(body, sizeof(body), "sluice-positions\nversion=2\ninstance=demo\n%s", rest);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "format version \"2\" (this sluice reads 1)");
    snprintf(body, sizeof(body), "sluice-positions\nversion=1\ninstance=other\n%s", rest);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "belongs to instance \"other\"");
    snprintf(body, sizeof(body), "%s%sextra=1\n", head, rest);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "unknown key \"extra\"");
    snprintf(body, sizeof(body), "%s%sserver_id=2\n", head, rest);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "repeated key \"server_id\"");
    snprintf(body, sizeof(body), "%sserver_id=1\n", head);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "missing key \"server_uuid\"");
    snprintf(body, sizeof(body), "%s%sno equals sign\n", head, rest);
    spit_with_crc(path, body);
    expect_load(st, ERR_POS_CORRUPT, "is not key=value");

    /* Bad values, each in place of a good line. */
    static const char *const bad[][3] = {
        {"server_id=1\n", "server_id=x\n", "bad value \"x\" for server_id"},
        {"server_id=1\n", "server_id=4294967296\n", "for server_id"},
        {"parsed.offset=4\n", "parsed.offset=-4\n", "for parsed.offset"},
        {"parsed.offset=4\n", "parsed.offset=\n", "for parsed.offset"},
        {"consumed.offset=4\n", "consumed.offset=18446744073709551616\n", "consumed.offset"},
        {"consumed.gtid=0-1-5\n", "consumed.gtid=0-1\n", "consumed.gtid: gtid set: bad mariadb"},
        {"consumed.ts=0\n", "consumed.ts=1e9\n", "for consumed.ts"},
        {"schema_version=0\n", "schema_version=0x10\n", "for schema_version"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char r2[1024];
        const char *at = strstr(rest, bad[i][0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        snprintf(r2, sizeof(r2), "%.*s%s%s", (int)(at - rest), rest, bad[i][1],
                 at + strlen(bad[i][0]));
        snprintf(body, sizeof(body), "%s%s", head, r2);
        spit_with_crc(path, body);
        expect_load(st, ERR_POS_CORRUPT, bad[i][2]);
    }

    /* Upper-case hex or data after the crc32c line. */
    snprintf(body, sizeof(body), "%s%s", head, rest);
    char full[2048];
    snprintf(full, sizeof(full), "%scrc32c=%08X\n", body, crc32c(0, body, strlen(body)));
    spit(path, full, strlen(full));
    expect_load(st,
                strstr(full, "crc32c=") && strpbrk(strstr(full, "crc32c=") + 7, "ABCDEF")
                    ? ERR_POS_CORRUPT
                    : POS_STORE_LOADED,
                NULL);
    snprintf(full, sizeof(full), "%scrc32c=%08x\nmore\n", body, crc32c(0, body, strlen(body)));
    spit(path, full, strlen(full));
    expect_load(st, ERR_POS_CORRUPT, NULL);
    pos_store_close(st);
}

static void test_leftover_tmp(void)
{
    struct pos_store *st = open_store(dir);
    struct pos_store_record rec;
    struct err err = {0};
    fill(&rec, 555);
    CU_ASSERT_EQUAL(pos_store_save(st, &rec, &err), 0);
    /* A crash mid-save left a half-written .tmp: ignored, removed, the saved record wins. */
    spit(tmppath, "sluice-positions\nversion=1\ninst", 31);
    struct pos_store_record got;
    pos_store_record_init(&got);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&rec, &got);
    CU_ASSERT_EQUAL(access(tmppath, F_OK), -1);
    /* Also with no position file at all. */
    unlink(path);
    spit(tmppath, "x", 1);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_NONE);
    CU_ASSERT_EQUAL(access(tmppath, F_OK), -1);
    pos_store_record_free(&rec);
    pos_store_record_free(&got);
    pos_store_close(st);
}

/* Saves into a directory this process may not write; returns 0 when save failed as expected. */
static int save_denied(const char *d)
{
    struct pos_store_param params[] = {{"dir", d}};
    struct pos_store_conf conf = {"demo", params, 1};
    struct err err = {0};
    struct pos_store *st = pos_store_open("file", &conf, &err);
    if (st == NULL)
        return 1;
    struct pos_store_record rec;
    pos_store_record_init(&rec);
    int r = pos_store_save(st, &rec, &err);
    int ok = r == ERR_POS_STORE && strstr(err.msg, "Permission denied") &&
             strstr(err.msg, "demo.pos.tmp");
    pos_store_close(st);
    return ok ? 0 : 2;
}

static void test_permission_denied(void)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/ro", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    CU_ASSERT_EQUAL(chmod(sub, 0555), 0);
    if (geteuid() != 0) {
        CU_ASSERT_EQUAL(save_denied(sub), 0);
    } else {
        /* root writes anywhere: drop to nobody in a child. */
        CU_ASSERT_EQUAL(chmod(dir, 0755), 0);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            _exit(save_denied(sub));
        }
        int status = 0;
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT_TRUE(WIFEXITED(status));
        CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
        chmod(dir, 0700);
    }
    chmod(sub, 0700);
    CU_ASSERT_EQUAL(rmdir(sub), 0);
}

static int fail_fsync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

/* Fails only for directories: the file itself is fsynced and renamed. */
static int fail_dir_fsync(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

static int fail_rename(const char *from, const char *to)
{
    (void)from;
    (void)to;
    errno = EXDEV;
    return -1;
}

static void test_injected_failures(void)
{
    struct pos_store *st = open_store(dir);
    struct pos_store_record old, new, got;
    struct err err = {0};
    fill(&old, 1000);
    fill(&new, 2000);
    pos_store_record_init(&got);
    CU_ASSERT_EQUAL(pos_store_save(st, &old, &err), 0);

    pos_store_file_set_syscalls(fail_fsync, NULL);
    CU_ASSERT_EQUAL(pos_store_save(st, &new, &err), ERR_POS_STORE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not fsync"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Input/output error"));
    CU_ASSERT_EQUAL(access(tmppath, F_OK), -1);
    pos_store_file_set_syscalls(NULL, NULL);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&old, &got);

    pos_store_file_set_syscalls(NULL, fail_rename);
    CU_ASSERT_EQUAL(pos_store_save(st, &new, &err), ERR_POS_STORE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not rename"));
    CU_ASSERT_EQUAL(access(tmppath, F_OK), -1);
    pos_store_file_set_syscalls(NULL, NULL);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&old, &got);

    /* The directory fsync fails after the rename: an error, the new file is in place. */
    pos_store_file_set_syscalls(fail_dir_fsync, NULL);
    CU_ASSERT_EQUAL(pos_store_save(st, &new, &err), ERR_POS_STORE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not fsync directory"));
    pos_store_file_set_syscalls(NULL, NULL);
    CU_ASSERT_EQUAL(pos_store_load(st, &got, &err), POS_STORE_LOADED);
    check_same(&new, &got);

    /* A control character never reaches the file. */
    snprintf(new.server_version, sizeof(new.server_version), "8.0\nversion=9");
    CU_ASSERT_EQUAL(pos_store_save(st, &new, &err), ERR_POS_STORE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "control character"));

    pos_store_record_free(&old);
    pos_store_record_free(&new);
    pos_store_record_free(&got);
    pos_store_close(st);
}

static void test_registry_and_config(void)
{
    struct err err = {0};
    struct pos_store_param p_ok[] = {{"dir", dir}};
    struct pos_store_param p_unknown[] = {{"dir", dir}, {"servers", "x"}};
    struct pos_store_param p_file[] = {{"dir", path}};
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/no/such", dir);
    struct pos_store_param p_missing[] = {{"dir", missing}};
    struct pos_store_conf c = {"demo", p_ok, 1};

    CU_ASSERT_PTR_EQUAL(pos_store_find("file"), &pos_store_file_ops);
    CU_ASSERT_PTR_NULL(pos_store_find("nope"));
    CU_ASSERT_PTR_NULL(pos_store_open("nope", &c, &err));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(err.msg, "unknown position store \"nope\" (known: \"file\", \"zookeeper\")"));

    c.params = p_unknown;
    c.nparams = 2;
    CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "key \"servers\": unknown"));
    c.nparams = 0;
    CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "key \"dir\": required"));
    c.params = p_missing;
    c.nparams = 1;
    CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not create directory"));
    spit(path, "x", 1);
    c.params = p_file;
    CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is not a directory"));
    unlink(path);

    c.params = p_ok;
    const char *bad_names[] = {"", ".hidden", "a/b", "a b", "..", NULL};
    for (int i = 0; bad_names[i]; i++) {
        c.instance = bad_names[i];
        CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
        CU_ASSERT_EQUAL(err.code, ERR_CONFIG);
    }
    c.instance = NULL;
    CU_ASSERT_PTR_NULL(pos_store_open("file", &c, &err));
    CU_ASSERT_TRUE(pos_store_instance_name_ok("demo-1.eu_west"));

    /* A new last level is created. */
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/new", dir);
    struct pos_store_param p_sub[] = {{"dir", sub}};
    c.instance = "demo";
    c.params = p_sub;
    struct pos_store *st = pos_store_open("file", &c, &err);
    CU_ASSERT_PTR_NOT_NULL(st);
    pos_store_close(st);
    pos_store_close(NULL);
    CU_ASSERT_EQUAL(rmdir(sub), 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("pos_store_file", setup, teardown);
    CU_add_test(s, "missing_then_round_trip", test_missing_then_round_trip);
    CU_add_test(s, "overwrite", test_overwrite);
    CU_add_test(s, "corrupt_byte", test_corrupt_byte);
    CU_add_test(s, "truncated", test_truncated);
    CU_add_test(s, "bad_contents", test_bad_contents);
    CU_add_test(s, "leftover_tmp", test_leftover_tmp);
    CU_add_test(s, "permission_denied", test_permission_denied);
    CU_add_test(s, "injected_failures", test_injected_failures);
    CU_add_test(s, "registry_and_config", test_registry_and_config);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
