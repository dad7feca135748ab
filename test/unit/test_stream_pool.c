/*
 * test_stream_pool.c — the stream pool (src/stream_pool.c) gives back exactly what one decoder
 * gives, in the same order, for every real binlog in ../shared/testdata/binlog (MANIFEST.tsv):
 * each change rendered in the json format, and the first error's message, compared with a plain
 * decoder's. With 2 worker threads and chunks cut wherever allowed (chunk size 1: every
 * transaction start and, with primers, between the events of a transaction), of 4 KiB, and of
 * the default size; once with every event of 2000 bytes or more decoded on the caller's thread;
 * once with at most 300 bytes of primers, so that transactions past 3000 bytes are decoded on
 * the caller's thread. Without ../shared the test says it skips and why.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_file.h"
#include "change_json.h"
#include "decoder.h"
#include "stream_pool.h"
#include "strbuf.h"

#define TESTDATA "../shared/testdata/binlog"

static int render(const struct change *c, void *opaque)
{
    struct strbuf *out = opaque;
    change_json_render(c, out);
    strbuf_appendc(out, '\n');
    return 0;
}

/* The file's changes through one decoder, then "ERROR: ..." when decoding stopped. */
static void decode_plain(const char *path, const char *name, struct strbuf *out)
{
    struct err err = {0};
    struct binlog_file *f = binlog_file_open(path, &err);
    if (f == NULL) {
        strbuf_printf(out, "OPEN: %s\n", err.msg);
        return;
    }
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.all_events = true;
    o.follow_rotate = true;
    o.emit = render;
    o.opaque = out;
    struct decoder *d = decoder_new(&o);
    decoder_set_file(d, name);
    const uint8_t *ev;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = binlog_file_next(f, &ev, &len, &off, &err)) == 1) {
        if ((rc = decoder_feed(d, ev, len, off, &err)) != 0)
            break;
    }
    if (rc < 0)
        strbuf_printf(out, "ERROR: %s\n", err.msg);
    decoder_free(d);
    binlog_file_close(f);
}

/* The same through a stream pool. */
static void decode_pooled(const char *path, const char *name, const size_t *sz, struct strbuf *out)
{
    struct err err = {0};
    struct binlog_file *f = binlog_file_open(path, &err);
    if (f == NULL) {
        strbuf_printf(out, "OPEN: %s\n", err.msg);
        return;
    }
    struct stream_pool_opts o = {.threads = 2,
                                 .replay = render,
                                 .opaque = out,
                                 .chunk_bytes = sz[0],
                                 .big_event = sz[1],
                                 .chunk_max = sz[2],
                                 .primer_max = sz[3]};
    struct stream_pool *p = stream_pool_new(&o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* As an instance does: the file name of each event follows ROTATE events, and a decoder
     * of its own follows the format (does a ROTATE end with a checksum?). */
    struct decoder_opts fo;
    decoder_opts_init(&fo);
    fo.emit = render;
    fo.opaque = out;
    struct decoder *fmt = decoder_new(&fo);
    char file[8300];
    snprintf(file, sizeof(file), "%s", name);
    const uint8_t *ev;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = binlog_file_next(f, &ev, &len, &off, &err)) == 1) {
        if (len > 4 && ev[4] == 15) /* FORMAT_DESCRIPTION */
            decoder_prime(fmt, ev, len, off, &err);
        if ((rc = stream_pool_feed(p, ev, len, off, file, &err)) != 0)
            break;
        size_t crc = decoder_has_checksum(fmt) ? 4 : 0;
        if (len > 4 && ev[4] == 4 && len >= 19 + 8 + crc) { /* ROTATE: the next file's name */
            size_t n = len - 19 - 8 - crc;
            if (n >= sizeof(file))
                n = sizeof(file) - 1;
            memcpy(file, ev + 19 + 8, n);
            file[n] = '\0';
        }
    }
    decoder_free(fmt);
    if (rc == 0)
        rc = stream_pool_flush(p, &err);
    if (rc < 0)
        strbuf_printf(out, "ERROR: %s\n", err.msg);
    stream_pool_free(p);
    binlog_file_close(f);
}

static void test_every_fixture(void)
{
    FILE *m = fopen(TESTDATA "/MANIFEST.tsv", "r");
    if (m == NULL) {
        printf("\n    skipped: %s/MANIFEST.tsv not found (the test binlogs live in ../shared, "
               "beside the clone; CI always has it)\n",
               TESTDATA);
        return;
    }
    /* chunk_bytes, big_event, chunk_max, primer_max */
    static const size_t chunks[][4] = {
        {1, 0, 0, 0},      {4096, 0, 0, 0},
        {0, 0, 0, 0},      {1, 2000, 0, 0}, /* large events decoded in place */
        {1, 0, 3000, 300},                  /* few primers allowed: long transactions go in place */
    };
    char line[8192];
    int files = 0, changes = 0;
    bool first = true;
    while (fgets(line, sizeof(line), m)) {
        if (first) { /* the header */
            first = false;
            continue;
        }
        char *tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        char path[8300];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, line);
        const char *name = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
        struct strbuf want = {0};
        decode_plain(path, name, &want);
        for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
            struct strbuf got = {0};
            decode_pooled(path, name, chunks[k], &got);
            bool same =
                got.len == want.len && (want.len == 0 || memcmp(got.buf, want.buf, want.len) == 0);
            if (!same) {
                size_t i = 0;
                while (i < got.len && i < want.len && got.buf[i] == want.buf[i])
                    i++;
                printf("\n    %s (sizes %zu %zu %zu %zu): differs at byte %zu of %zu:\n"
                       "      want: %.200s\n      got:  %.200s\n",
                       line, chunks[k][0], chunks[k][1], chunks[k][2], chunks[k][3], i, want.len,
                       want.buf ? want.buf + (i > 60 ? i - 60 : 0) : "",
                       got.buf ? got.buf + (i > 60 ? i - 60 : 0) : "");
            }
            CU_ASSERT_TRUE(same);
            strbuf_free(&got);
        }
        for (size_t i = 0; i < want.len; i++)
            changes += want.buf[i] == '\n';
        files++;
        strbuf_free(&want);
    }
    fclose(m);
    printf("\n    %d binlog files, %d lines each way\n", files, changes);
    CU_ASSERT_TRUE(files >= 10);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("stream_pool", NULL, NULL);
    CU_add_test(s, "every fixture binlog: the pool's changes = one decoder's", test_every_fixture);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
