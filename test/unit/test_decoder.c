/*
 * test_decoder.c — unit tests for src/decoder.c (and src/binlog_file.c): whole events built in
 * memory — 19-byte v4 header, body, CRC32 (zlib) — fed in stream order; the emitted changes
 * are checked as rendered by change_json_render (kind, db, table, position, GTID, XID, values).
 *
 * Streams: a MySQL 8.0.36 binlog (FORMAT_DESCRIPTION with checksums, GTID, BEGIN, TABLE_MAP,
 * WRITE/UPDATE/DELETE_ROWS_V2, XID, ANONYMOUS_GTID, DDL, an ignorable unknown event, a zstd
 * TRANSACTION_PAYLOAD, ROTATE) and a MariaDB 10.11 one (GTID with and without the standalone
 * flag, WRITE_ROWS_V1, START_ENCRYPTION); then the errors: checksum mismatch, length mismatch,
 * rows without a table map, truncated rows, bad payloads. The MySQL stream is also written to
 * a file and read back with binlog_file_next, whole and truncated.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "binlog_event.h"
#include "binlog_file.h"
#include "change_json.h"
#include "decoder.h"
#include "mysql_types.h"
#include "strbuf.h"
#include "testutil.h"

#define TS  1700000000u
#define SID 7u

#define UUID_HEX "3e11fa4771ca11e19e33c80aa9429562"
#define UUID_TXT "3e11fa47-71ca-11e1-9e33-c80aa9429562"

/* ------------------------------------------------------------------------------------------ */
/* Byte builders                                                                               */

static void put_str(struct strbuf *b, const char *s)
{
    strbuf_appends(b, s);
}

static void put_hex(struct strbuf *b, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        put_u8(b, v);
    }
}

/* Appends one event (header + body [+ CRC32]) to out, whose length is taken as the event's
 * file offset; returns that offset. The FDE's CRC is computed with flag 0x1 clear, as the
 * server does (it sets LOG_EVENT_BINLOG_IN_USE_F in place afterwards). */
static size_t
put_event(struct strbuf *out, unsigned type, unsigned flags, const struct strbuf *body, bool crc)
{
    size_t off = out->len;
    size_t len = 19 + body->len + (crc ? 4 : 0);
    put_le(out, TS, 4);
    put_u8(out, type);
    put_le(out, SID, 4);
    put_le(out, len, 4);
    put_le(out, off + len, 4); /* log_pos: the next event */
    put_le(out, flags, 2);
    strbuf_append(out, body->buf ? body->buf : "", body->len);
    if (crc) {
        uint8_t *e = (uint8_t *)out->buf + off;
        uLong c;
        if (type == BINLOG_EV_FORMAT_DESCRIPTION) {
            uint8_t fl[2] = {(uint8_t)(e[17] & ~1u), e[18]};
            c = crc32(0L, e, 17);
            c = crc32(c, fl, 2);
            c = crc32(c, e + 19, (uInt)body->len);
        } else {
            c = crc32(0L, e, (uInt)(len - 4));
        }
        put_le(out, c, 4);
    }
    return off;
}

/* FORMAT_DESCRIPTION body: v4, server version, post-header lengths for types 1..ntypes,
 * checksum algorithm. */
static void fde_body(struct strbuf *b, const char *version, unsigned ntypes, unsigned alg)
{
    uint8_t phl[256] = {0};
    phl[BINLOG_EV_START_V3] = 56;
    phl[BINLOG_EV_QUERY] = 13;
    phl[BINLOG_EV_ROTATE] = 8;
    phl[BINLOG_EV_FORMAT_DESCRIPTION] = 98;
    phl[BINLOG_EV_TABLE_MAP] = 8;
    phl[BINLOG_EV_WRITE_ROWS_V1] = phl[BINLOG_EV_UPDATE_ROWS_V1] = 8;
    phl[BINLOG_EV_DELETE_ROWS_V1] = 8;
    phl[BINLOG_EV_WRITE_ROWS_V2] = phl[BINLOG_EV_UPDATE_ROWS_V2] = 10;
    phl[BINLOG_EV_DELETE_ROWS_V2] = phl[BINLOG_EV_PARTIAL_UPDATE_ROWS] = 10;
    phl[BINLOG_EV_GTID] = phl[BINLOG_EV_ANONYMOUS_GTID] = 42;
    phl[BINLOG_EV_TRANSACTION_PAYLOAD] = 40;
    phl[BINLOG_EV_MARIA_GTID] = 19;
    strbuf_reset(b);
    put_le(b, 4, 2);
    char ver[50] = {0};
    memcpy(ver, version, strlen(version));
    strbuf_append(b, ver, 50);
    put_le(b, 0, 4);
    put_u8(b, 19);
    strbuf_append(b, phl + 1, ntypes);
    put_u8(b, alg);
}

/* QUERY body: post-header (thread, exec time, db length, error, status length), status
 * variables (flags2, sql_mode, catalog, charset), db, NUL, query text. */
static void query_body(struct strbuf *b, const char *db, const char *sql)
{
    struct strbuf st = {0};
    put_u8(&st, 0); /* Q_FLAGS2_CODE */
    put_le(&st, 0, 4);
    put_u8(&st, 1); /* Q_SQL_MODE_CODE */
    put_le(&st, 0x40000000, 8);
    put_u8(&st, 6); /* Q_CATALOG_NZ_CODE */
    put_u8(&st, 3);
    put_str(&st, "std");
    put_u8(&st, 4); /* Q_CHARSET_CODE */
    put_le(&st, 255, 2);
    put_le(&st, 255, 2);
    put_le(&st, 255, 2);
    strbuf_reset(b);
    put_le(b, 11, 4); /* thread id */
    put_le(b, 0, 4);  /* exec time */
    put_u8(b, (unsigned)strlen(db));
    put_le(b, 0, 2); /* error code */
    put_le(b, st.len, 2);
    strbuf_append(b, st.buf, st.len);
    put_str(b, db);
    put_u8(b, 0);
    put_str(b, sql);
    strbuf_free(&st);
}

static void gtid_body(struct strbuf *b, const char *uuid_hex, uint64_t gno)
{
    strbuf_reset(b);
    put_u8(b, 1); /* commit flag */
    put_hex(b, uuid_hex);
    put_le(b, gno, 8);
    put_u8(b, 2);    /* logical timestamp type */
    put_le(b, 5, 8); /* last committed */
    put_le(b, 6, 8); /* sequence number */
}

/* TABLE_MAP `shop`.`items` (id INT, name VARCHAR(20) utf8mb4) with column names. */
static void tmap_items(struct strbuf *b)
{
    strbuf_reset(b);
    put_le(b, 0x71, 6);
    put_le(b, 1, 2);
    put_u8(b, 4);
    strbuf_append(b, "shop", 5);
    put_u8(b, 5);
    strbuf_append(b, "items", 6);
    put_packed(b, 2);
    put_u8(b, MYSQL_T_LONG);
    put_u8(b, MYSQL_T_VARCHAR);
    put_packed(b, 2);
    put_le(b, 80, 2);
    put_u8(b, 0x02); /* name is nullable */
    put_u8(b, 1);    /* SIGNEDNESS: id signed */
    put_packed(b, 1);
    put_u8(b, 0x00);
    put_u8(b, 2); /* DEFAULT_CHARSET 255 */
    put_packed(b, 3);
    put_packed(b, 255);
    put_u8(b, 4); /* COLUMN_NAME */
    put_packed(b, 8);
    put_packed(b, 2);
    put_str(b, "id");
    put_packed(b, 4);
    put_str(b, "name");
}

/* TABLE_MAP `shop`.`logs` (one BIGINT, no optional metadata). */
static void tmap_logs(struct strbuf *b)
{
    strbuf_reset(b);
    put_le(b, 0x72, 6);
    put_le(b, 1, 2);
    put_u8(b, 4);
    strbuf_append(b, "shop", 5);
    put_u8(b, 4);
    strbuf_append(b, "logs", 5);
    put_packed(b, 1);
    put_u8(b, MYSQL_T_LONGLONG);
    put_packed(b, 0);
    put_u8(b, 0x00);
}

/* Rows event v2 post-header and column bitmaps; rows follow (hex). */
static void rows_v2_body(struct strbuf *b,
                         uint64_t table_id,
                         unsigned ncols,
                         bool update,
                         unsigned present,
                         const char *rows_hex)
{
    strbuf_reset(b);
    put_le(b, table_id, 6);
    put_le(b, 1, 2); /* STMT_END */
    put_le(b, 2, 2); /* extra data length, counting itself */
    put_packed(b, ncols);
    put_u8(b, present);
    if (update)
        put_u8(b, present);
    put_hex(b, rows_hex);
}

/* ------------------------------------------------------------------------------------------ */
/* Collecting changes                                                                          */

#define MAX_LINES 64

struct sink {
    char *lines[MAX_LINES];
    enum change_kind kinds[MAX_LINES];
    int n;
    int stop_with; /* non-zero: the callback returns it */
};

static int collect(const struct change *c, void *opaque)
{
    struct sink *s = opaque;
    if (s->stop_with)
        return s->stop_with;
    CU_ASSERT_FATAL(s->n < MAX_LINES);
    struct strbuf b = {0};
    change_json_render(c, &b);
    s->kinds[s->n] = c->kind;
    s->lines[s->n++] = b.buf;
    return 0;
}

static void sink_clear(struct sink *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->lines[i]);
    s->n = 0;
}

static struct decoder *new_decoder(struct sink *s, bool all_events)
{
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.all_events = all_events;
    o.emit = collect;
    o.opaque = s;
    struct decoder *d = decoder_new(&o);
    decoder_set_file(d, "binlog.000001");
    return d;
}

/* Feeds the event at off (its length from the header) from an exactly-sized heap copy. */
static int feed_at(struct decoder *d, const struct strbuf *img, size_t off, struct err *e)
{
    size_t len = le32((const uint8_t *)img->buf + off + 9);
    uint8_t *copy = malloc(len);
    memcpy(copy, img->buf + off, len);
    memset(e, 0, sizeof(*e));
    int rc = decoder_feed(d, copy, len, off, e);
    free(copy);
    return rc;
}

static void check_line(const struct sink *s, int i, const char *want)
{
    if (i >= s->n) {
        fprintf(stderr, "\n  line %d missing, want %s\n", i, want);
        CU_FAIL("missing line");
        return;
    }
    if (strcmp(s->lines[i], want) != 0)
        fprintf(stderr, "\n  line %d\n  want %s\n  got  %s\n", i, want, s->lines[i]);
    CU_ASSERT_STRING_EQUAL(s->lines[i], want);
}

/* ------------------------------------------------------------------------------------------ */
/* The MySQL 8 stream                                                                          */

struct mysql_stream {
    struct strbuf img; /* magic + events, as a file */
    size_t fde, prev_gtids, gtid1, begin1, tmap1, write1, tmap1b, update1, delete1, xid1, anon, ddl,
        unknown, gtid2, payload, rotate;
};

/* TRANSACTION_PAYLOAD body around BEGIN, TABLE_MAP, WRITE_ROWS, XID (inner events carry no
 * checksum); comp 0 = zstd, 255 = none; `cut` bytes dropped from the end of the data. */
static void payload_body(struct strbuf *b, unsigned comp, size_t cut)
{
    struct strbuf inner = {0}, body = {0};
    query_body(&body, "", "BEGIN");
    put_event(&inner, BINLOG_EV_QUERY, 0, &body, false);
    tmap_logs(&body);
    put_event(&inner, BINLOG_EV_TABLE_MAP, 0, &body, false);
    rows_v2_body(&body, 0x72, 1, false, 0x01,
                 "00"
                 "0500000000000000");
    put_event(&inner, BINLOG_EV_WRITE_ROWS_V2, 0, &body, false);
    strbuf_reset(&body);
    put_le(&body, 78, 8);
    put_event(&inner, BINLOG_EV_XID, 0, &body, false);

    size_t cap = ZSTD_compressBound(inner.len);
    uint8_t *z = malloc(cap);
    size_t zn = inner.len;
    if (comp == 0)
        zn = ZSTD_compress(z, cap, inner.buf, inner.len, 3);
    else
        memcpy(z, inner.buf, inner.len);
    CU_ASSERT_FATAL(!ZSTD_isError(zn) && zn > cut);
    zn -= cut;
    /* Header fields: (type, length, value) as packed integers; type 0 ends it. */
    struct strbuf v = {0};
    strbuf_reset(b);
    put_packed(&v, zn);
    put_packed(b, 1);
    put_packed(b, v.len);
    strbuf_append(b, v.buf, v.len);
    strbuf_reset(&v);
    put_packed(&v, comp); /* 255 packs in 3 bytes */
    put_packed(b, 2);
    put_packed(b, v.len);
    strbuf_append(b, v.buf, v.len);
    strbuf_reset(&v);
    put_packed(&v, inner.len);
    put_packed(b, 3);
    put_packed(b, v.len);
    strbuf_append(b, v.buf, v.len);
    put_packed(b, 0);
    strbuf_append(b, z, zn);
    free(z);
    strbuf_free(&v);
    strbuf_free(&inner);
    strbuf_free(&body);
}

static void build_mysql(struct mysql_stream *m)
{
    memset(m, 0, sizeof(*m));
    struct strbuf *img = &m->img, body = {0};
    strbuf_append(img, BINLOG_MAGIC, BINLOG_MAGIC_LEN);
    fde_body(&body, "8.0.36", 41, BINLOG_CHECKSUM_CRC32);
    m->fde = put_event(img, BINLOG_EV_FORMAT_DESCRIPTION, 0x1, &body, true);
    strbuf_reset(&body);
    put_le(&body, 0, 8);
    m->prev_gtids = put_event(img, BINLOG_EV_PREVIOUS_GTIDS, 0x80, &body, true);
    gtid_body(&body, UUID_HEX, 23);
    m->gtid1 = put_event(img, BINLOG_EV_GTID, 0, &body, true);
    query_body(&body, "", "BEGIN");
    m->begin1 = put_event(img, BINLOG_EV_QUERY, 0x8, &body, true);
    tmap_items(&body);
    m->tmap1 = put_event(img, BINLOG_EV_TABLE_MAP, 0, &body, true);
    rows_v2_body(&body, 0x71, 2, false, 0x03,
                 "00"
                 "01000000"
                 "03616263" /* (1, 'abc') */
                 "02"
                 "02000000"); /* (2, NULL) */
    m->write1 = put_event(img, BINLOG_EV_WRITE_ROWS_V2, 0, &body, true);
    tmap_items(&body);
    m->tmap1b = put_event(img, BINLOG_EV_TABLE_MAP, 0, &body, true);
    rows_v2_body(&body, 0x71, 2, true, 0x03,
                 "00"
                 "01000000"
                 "03616263" /* before (1, 'abc') */
                 "00"
                 "01000000"
                 "0378792f"); /* after (1, 'xy/') */
    m->update1 = put_event(img, BINLOG_EV_UPDATE_ROWS_V2, 0, &body, true);
    rows_v2_body(&body, 0x71, 2, false, 0x01,
                 "00"
                 "02000000"); /* MINIMAL: id only */
    m->delete1 = put_event(img, BINLOG_EV_DELETE_ROWS_V2, 0, &body, true);
    strbuf_reset(&body);
    put_le(&body, 77, 8);
    m->xid1 = put_event(img, BINLOG_EV_XID, 0, &body, true);
    gtid_body(&body, "00000000000000000000000000000000", 0);
    m->anon = put_event(img, BINLOG_EV_ANONYMOUS_GTID, 0, &body, true);
    query_body(&body, "shop", "CREATE TABLE t (a int)");
    m->ddl = put_event(img, BINLOG_EV_QUERY, 0, &body, true);
    strbuf_reset(&body);
    put_str(&body, "future event");
    m->unknown = put_event(img, 99, BINLOG_EV_FLAG_IGNORABLE, &body, true);
    gtid_body(&body, UUID_HEX, 24);
    m->gtid2 = put_event(img, BINLOG_EV_GTID, 0, &body, true);
    payload_body(&body, 0, 0);
    m->payload = put_event(img, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    strbuf_reset(&body);
    put_le(&body, 4, 8);
    put_str(&body, "binlog.000002");
    m->rotate = put_event(img, BINLOG_EV_ROTATE, 0, &body, true);
    strbuf_free(&body);
}

static size_t mysql_offsets(const struct mysql_stream *m, size_t *v)
{
    size_t k = 0;
    v[k++] = m->fde;
    v[k++] = m->prev_gtids;
    v[k++] = m->gtid1;
    v[k++] = m->begin1;
    v[k++] = m->tmap1;
    v[k++] = m->write1;
    v[k++] = m->tmap1b;
    v[k++] = m->update1;
    v[k++] = m->delete1;
    v[k++] = m->xid1;
    v[k++] = m->anon;
    v[k++] = m->ddl;
    v[k++] = m->unknown;
    v[k++] = m->gtid2;
    v[k++] = m->payload;
    v[k++] = m->rotate;
    return k;
}

/* The lines the MySQL stream must produce with all events on. */
static int mysql_expected(const struct mysql_stream *m, char want[][400])
{
    int k = 0;
#define F  "binlog.000001"
#define G1 ",\"gtid\":\"" UUID_TXT ":23\""
#define G2 ",\"gtid\":\"" UUID_TXT ":24\""
    snprintf(want[k++], 400, "{\"type\":\"gtid\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G1 "}", TS,
             m->gtid1);
    snprintf(want[k++], 400, "{\"type\":\"begin\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G1 "}", TS,
             m->begin1);
    snprintf(want[k++], 400,
             "{\"type\":\"insert\",\"db\":\"shop\",\"table\":\"items\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"row\":0" G1 ",\"data\":{\"id\":1,\"name\":\"abc\"}}",
             TS, m->write1);
    snprintf(want[k++], 400,
             "{\"type\":\"insert\",\"db\":\"shop\",\"table\":\"items\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"row\":1" G1 ",\"data\":{\"id\":2,\"name\":null}}",
             TS, m->write1);
    snprintf(want[k++], 400,
             "{\"type\":\"update\",\"db\":\"shop\",\"table\":\"items\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"row\":0" G1
             ",\"data\":{\"id\":1,\"name\":\"xy/\"},\"old\":{\"id\":1,\"name\":"
             "\"abc\"}}",
             TS, m->update1);
    snprintf(want[k++], 400,
             "{\"type\":\"delete\",\"db\":\"shop\",\"table\":\"items\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"row\":0" G1 ",\"data\":{\"id\":2}}",
             TS, m->delete1);
    snprintf(want[k++], 400,
             "{\"type\":\"commit\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G1 ",\"xid\":77}", TS, m->xid1);
    snprintf(want[k++], 400,
             "{\"type\":\"ddl\",\"db\":\"shop\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"sql\":\"CREATE TABLE t (a int)\"}",
             TS, m->ddl);
    snprintf(want[k++], 400, "{\"type\":\"gtid\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G2 "}", TS,
             m->gtid2);
    /* Inside the payload: every change at the payload's position. */
    snprintf(want[k++], 400, "{\"type\":\"begin\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G2 "}", TS,
             m->payload);
    snprintf(want[k++], 400,
             "{\"type\":\"insert\",\"db\":\"shop\",\"table\":\"logs\",\"ts\":%u,\"pos\":\"" F
             ":%zu\",\"row\":0" G2 ",\"data\":{\"@1\":5}}",
             TS, m->payload);
    snprintf(want[k++], 400,
             "{\"type\":\"commit\",\"ts\":%u,\"pos\":\"" F ":%zu\"" G2 ",\"xid\":78}", TS,
             m->payload);
#undef F
#undef G1
#undef G2
    return k;
}

static void test_mysql_stream(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    struct sink s = {0};
    struct decoder *d = new_decoder(&s, true);
    size_t offs[32];
    size_t n = mysql_offsets(&m, offs);
    struct err e;
    for (size_t i = 0; i < n; i++) {
        int rc = feed_at(d, &m.img, offs[i], &e);
        if (rc)
            fprintf(stderr, "\n  event at %zu: %s\n", offs[i], e.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
    CU_ASSERT(decoder_has_checksum(d));
    char want[MAX_LINES][400];
    int nw = mysql_expected(&m, want);
    CU_ASSERT_EQUAL(s.n, nw);
    for (int i = 0; i < nw; i++)
        check_line(&s, i, want[i]);
    CU_ASSERT_EQUAL(s.kinds[2], CHANGE_INSERT);
    CU_ASSERT_EQUAL(s.kinds[6], CHANGE_COMMIT);

    const struct decoder_stats *st = decoder_get_stats(d);
    CU_ASSERT_EQUAL(st->events, n + 4); /* + 4 inside the payload */
    CU_ASSERT_EQUAL(st->by_type[BINLOG_EV_TABLE_MAP], 3);
    CU_ASSERT_EQUAL(st->by_type[99], 1);
    CU_ASSERT_EQUAL(st->inner_by_type[BINLOG_EV_WRITE_ROWS_V2], 1);
    CU_ASSERT_EQUAL(st->inner_by_type[BINLOG_EV_XID], 1);
    CU_ASSERT_EQUAL(st->rows, 5);
    CU_ASSERT_EQUAL(st->tmaps_with_optional_meta, 2);

    /* The same transaction in an uncompressed payload (compression type 255 NONE). */
    struct strbuf next = {0}, body = {0};
    payload_body(&body, 255, 0);
    put_event(&next, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    int before = s.n;
    CU_ASSERT_EQUAL(decoder_feed(d, (const uint8_t *)next.buf, next.len, m.payload, &e), 0);
    CU_ASSERT_EQUAL_FATAL(s.n, before + 3);
    for (int i = 0; i < 3; i++) /* no GTID now: the XID ended the last transaction */
        CU_ASSERT_PTR_NULL(strstr(s.lines[before + i], "\"gtid\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines[before + 1], "\"data\":{\"@1\":5}"));

    /* After the ROTATE, positions name the new file (replication streams). */
    strbuf_reset(&next);
    query_body(&body, "shop", "DROP TABLE t");
    put_event(&next, BINLOG_EV_QUERY, 0, &body, true);
    sink_clear(&s);
    CU_ASSERT_EQUAL(decoder_feed(d, (const uint8_t *)next.buf, next.len, 4, &e), 0);
    CU_ASSERT_EQUAL_FATAL(s.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines[0], "\"pos\":\"binlog.000002:4\""));

    /* Without all_events only the row changes come out. */
    decoder_free(d);
    sink_clear(&s);
    d = new_decoder(&s, false);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(feed_at(d, &m.img, offs[i], &e), 0);
    CU_ASSERT_EQUAL(s.n, 5);
    for (int i = 0; i < s.n; i++)
        CU_ASSERT(s.kinds[i] <= CHANGE_DELETE);

    /* An emit callback's negative return stops decoding and comes back from decoder_feed. */
    decoder_free(d);
    sink_clear(&s);
    d = new_decoder(&s, false);
    for (size_t i = 0; offs[i] != m.write1; i++)
        CU_ASSERT_EQUAL(feed_at(d, &m.img, offs[i], &e), 0);
    s.stop_with = -42;
    CU_ASSERT_EQUAL(feed_at(d, &m.img, m.write1, &e), -42);

    decoder_free(d);
    sink_clear(&s);
    strbuf_free(&next);
    strbuf_free(&body);
    strbuf_free(&m.img);
}

/* ------------------------------------------------------------------------------------------ */
/* MariaDB                                                                                     */

static void maria_gtid_body(struct strbuf *b, uint64_t seq, uint32_t domain, unsigned flags)
{
    strbuf_reset(b);
    put_le(b, seq, 8);
    put_le(b, domain, 4);
    put_u8(b, flags);
    put_le(b, 0, 6); /* padding to 19 bytes */
}

static void test_mariadb_stream(void)
{
    struct strbuf img = {0}, body = {0};
    strbuf_append(&img, BINLOG_MAGIC, BINLOG_MAGIC_LEN);
    fde_body(&body, "10.11.6-MariaDB-log", 164, BINLOG_CHECKSUM_CRC32);
    size_t fde = put_event(&img, BINLOG_EV_FORMAT_DESCRIPTION, 0, &body, true);
    maria_gtid_body(&body, 42, 0, 0x00); /* a transaction */
    size_t g1 = put_event(&img, BINLOG_EV_MARIA_GTID, 0, &body, true);
    query_body(&body, "", "BEGIN"); /* not written by MariaDB after a GTID; ignored if it is */
    size_t begin = put_event(&img, BINLOG_EV_QUERY, 0, &body, true);
    strbuf_reset(&body);
    put_le(&body, 5, 6);
    put_le(&body, 1, 2);
    put_u8(&body, 1);
    strbuf_append(&body, "m", 2);
    put_u8(&body, 1);
    strbuf_append(&body, "t", 2);
    put_packed(&body, 1);
    put_u8(&body, MYSQL_T_TINY);
    put_packed(&body, 0);
    put_u8(&body, 1);
    size_t tm = put_event(&img, BINLOG_EV_TABLE_MAP, 0, &body, true);
    strbuf_reset(&body); /* WRITE_ROWS_V1: 8-byte post-header, no extra data */
    put_le(&body, 5, 6);
    put_le(&body, 1, 2);
    put_packed(&body, 1);
    put_u8(&body, 0x01);
    put_hex(&body, "00ff"
                   "01");
    size_t wr = put_event(&img, BINLOG_EV_WRITE_ROWS_V1, 0, &body, true);
    strbuf_reset(&body);
    put_le(&body, 9, 8);
    size_t xid = put_event(&img, BINLOG_EV_XID, 0, &body, true);
    maria_gtid_body(&body, 43, 1, 0x01); /* standalone: DDL */
    size_t g2 = put_event(&img, BINLOG_EV_MARIA_GTID, 0, &body, true);
    query_body(&body, "m", "ALTER TABLE t ADD c INT");
    size_t ddl = put_event(&img, BINLOG_EV_QUERY, 0, &body, true);
    strbuf_reset(&body);
    put_le(&body, 1, 1); /* scheme */
    put_le(&body, 1, 4); /* key version */
    put_le(&body, 0, 8); /* nonce: 12 bytes */
    put_le(&body, 0, 4);
    size_t enc = put_event(&img, BINLOG_EV_MARIA_START_ENCRYPTION, 0, &body, true);

    struct sink s = {0};
    struct decoder *d = new_decoder(&s, true);
    struct err e;
    const size_t offs[] = {fde, g1, begin, tm, wr, xid, g2, ddl};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        int rc = feed_at(d, &img, offs[i], &e);
        if (rc)
            fprintf(stderr, "\n  event at %zu: %s\n", offs[i], e.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
    char want[8][400];
    int k = 0;
    snprintf(want[k++], 400,
             "{\"type\":\"gtid\",\"ts\":%u,\"pos\":\"binlog.000001:%zu\",\"gtid\":\"0-7-42\"}", TS,
             g1);
    snprintf(want[k++], 400,
             "{\"type\":\"begin\",\"ts\":%u,\"pos\":\"binlog.000001:%zu\",\"gtid\":\"0-7-42\"}", TS,
             g1);
    snprintf(want[k++], 400,
             "{\"type\":\"insert\",\"db\":\"m\",\"table\":\"t\",\"ts\":%u,\"pos\":\"binlog.000001:"
             "%zu\",\"row\":0,\"gtid\":\"0-7-42\",\"data\":{\"@1\":-1}}",
             TS, wr);
    snprintf(want[k++], 400,
             "{\"type\":\"insert\",\"db\":\"m\",\"table\":\"t\",\"ts\":%u,\"pos\":\"binlog.000001:"
             "%zu\",\"row\":1,\"gtid\":\"0-7-42\",\"data\":{\"@1\":null}}",
             TS, wr);
    snprintf(want[k++], 400,
             "{\"type\":\"commit\",\"ts\":%u,\"pos\":\"binlog.000001:%zu\",\"gtid\":\"0-7-42\","
             "\"xid\":9}",
             TS, xid);
    snprintf(want[k++], 400,
             "{\"type\":\"gtid\",\"ts\":%u,\"pos\":\"binlog.000001:%zu\",\"gtid\":\"1-7-43\"}", TS,
             g2);
    snprintf(want[k++], 400,
             "{\"type\":\"ddl\",\"db\":\"m\",\"ts\":%u,\"pos\":\"binlog.000001:%zu\",\"gtid\":"
             "\"1-7-43\",\"sql\":\"ALTER TABLE t ADD c INT\"}",
             TS, ddl);
    CU_ASSERT_EQUAL(s.n, k);
    for (int i = 0; i < k; i++)
        check_line(&s, i, want[i]);

    /* An encrypted binlog cannot be read from the file. */
    int rc = feed_at(d, &img, enc, &e);
    CU_ASSERT_EQUAL(rc, ERR_BINLOG_ENCRYPTED);
    CU_ASSERT_EQUAL(e.code, ERR_BINLOG_ENCRYPTED);
    char at[64];
    snprintf(at, sizeof(at), "offset %zu", enc);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, at));

    decoder_free(d);
    sink_clear(&s);
    strbuf_free(&img);
    strbuf_free(&body);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */

/* A decoder that has read the MySQL stream up to (not including) the event at `upto`. */
static struct decoder *decoder_upto(const struct mysql_stream *m, size_t upto, struct sink *s)
{
    struct decoder *d = new_decoder(s, true);
    size_t offs[32];
    size_t n = mysql_offsets(m, offs);
    struct err e;
    for (size_t i = 0; i < n && offs[i] < upto; i++)
        CU_ASSERT_EQUAL(feed_at(d, &m->img, offs[i], &e), 0);
    return d;
}

static void assert_err(int rc, const struct err *e, int code, const char *needle)
{
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(e->code, code);
    if (needle && !strstr(e->msg, needle))
        fprintf(stderr, "\n  \"%s\" not in: %s\n", needle, e->msg);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(e->msg, needle));
}

static void test_checksum_errors(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    struct sink s = {0};
    struct err e;
    char at[64];

    /* A flipped byte in the XID body. */
    struct decoder *d = decoder_upto(&m, m.xid1, &s);
    m.img.buf[m.xid1 + 19] ^= 0x01;
    snprintf(at, sizeof(at), "XID at offset %zu: CRC32 mismatch", m.xid1);
    assert_err(feed_at(d, &m.img, m.xid1, &e), &e, ERR_BINLOG_CHECKSUM, at);
    decoder_free(d);

    /* The same with verification off: accepted, xid 76 now. */
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.verify_checksum = false;
    o.all_events = true;
    o.emit = collect;
    o.opaque = &s;
    d = decoder_new(&o);
    sink_clear(&s);
    CU_ASSERT_EQUAL(feed_at(d, &m.img, m.fde, &e), 0);
    CU_ASSERT_EQUAL(feed_at(d, &m.img, m.xid1, &e), 0);
    CU_ASSERT_EQUAL_FATAL(s.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.lines[0], "\"xid\":76"));
    decoder_free(d);
    m.img.buf[m.xid1 + 19] ^= 0x01;

    /* A flipped byte in the stored CRC of a rows event. */
    d = decoder_upto(&m, m.write1, &s);
    size_t wlen = le32((const uint8_t *)m.img.buf + m.write1 + 9);
    m.img.buf[m.write1 + wlen - 1] ^= 0x80;
    snprintf(at, sizeof(at), "offset %zu", m.write1);
    assert_err(feed_at(d, &m.img, m.write1, &e), &e, ERR_BINLOG_CHECKSUM, at);
    m.img.buf[m.write1 + wlen - 1] ^= 0x80;
    decoder_free(d);

    /* The FDE's own checksum. */
    d = new_decoder(&s, true);
    m.img.buf[m.fde + 19 + 52] ^= 0x20; /* create timestamp */
    snprintf(at, sizeof(at), "FORMAT_DESCRIPTION at offset %zu: CRC32 mismatch", m.fde);
    assert_err(feed_at(d, &m.img, m.fde, &e), &e, ERR_BINLOG_CHECKSUM, at);
    m.img.buf[m.fde + 19 + 52] ^= 0x20;
    /* The in-use flag (0x1) is outside the FDE checksum: clearing it changes nothing. */
    m.img.buf[m.fde + 17] &= ~1;
    CU_ASSERT_EQUAL(feed_at(d, &m.img, m.fde, &e), 0);
    m.img.buf[m.fde + 17] |= 1;
    decoder_free(d);

    sink_clear(&s);
    strbuf_free(&m.img);
}

static void test_length_errors(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    struct sink s = {0};
    struct err e;
    struct decoder *d = decoder_upto(&m, m.xid1, &s);
    size_t len = le32((const uint8_t *)m.img.buf + m.xid1 + 9);
    const uint8_t *ev = (const uint8_t *)m.img.buf + m.xid1;
    char at[64];
    snprintf(at, sizeof(at), "offset %zu: header says %zu bytes", m.xid1, len);
    /* Buffer one byte longer, one byte shorter than the header's length. */
    assert_err(decoder_feed(d, ev, len + 1, m.xid1, &e), &e, ERR_BINLOG_LENGTH, at);
    assert_err(decoder_feed(d, ev, len - 1, m.xid1, &e), &e, ERR_BINLOG_LENGTH, at);
    /* Shorter than a header. */
    assert_err(decoder_feed(d, ev, 18, m.xid1, &e), &e, ERR_BINLOG_TRUNCATED, "need 19");
    decoder_free(d);

    /* An XID body of the wrong size (with a valid CRC). */
    struct strbuf bad = {0}, body = {0};
    put_le(&body, 1, 4);
    put_event(&bad, BINLOG_EV_XID, 0, &body, true);
    d = decoder_upto(&m, m.gtid1, &s);
    assert_err(decoder_feed(d, (const uint8_t *)bad.buf, bad.len, 1000, &e), &e, ERR_DECODE,
               "XID at offset 1000");
    decoder_free(d);
    sink_clear(&s);
    strbuf_free(&bad);
    strbuf_free(&body);
    strbuf_free(&m.img);
}

static void test_rows_errors(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    struct sink s = {0};
    struct err e;
    char at[128];

    /* Rows for a table id no TABLE_MAP announced (started mid-transaction). */
    struct decoder *d = decoder_upto(&m, m.gtid1, &s);
    snprintf(at, sizeof(at), "WRITE_ROWS_V2 at offset %zu: rows event for table id 113", m.write1);
    assert_err(feed_at(d, &m.img, m.write1, &e), &e, ERR_DECODE_NO_TABLE_MAP, at);
    decoder_free(d);

    /* A row whose VARCHAR says 4 bytes but 3 follow (CRC valid: the event is well-formed
     * on the wire, its row image is not). */
    struct strbuf ev = {0}, body = {0};
    rows_v2_body(&body, 0x71, 2, false, 0x03,
                 "00"
                 "01000000"
                 "04616263");
    put_event(&ev, BINLOG_EV_WRITE_ROWS_V2, 0, &body, true);
    d = decoder_upto(&m, m.write1, &s);
    sink_clear(&s);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 5000, &e), &e, ERR_DECODE,
               "WRITE_ROWS_V2 at offset 5000: `shop`.`items` column 2 (name, type 15)");
    CU_ASSERT_EQUAL(s.n, 0);

    /* Every truncation of the rows of the WRITE event: ERR_DECODE, no read past the event. */
    const size_t rows_at = 6 + 2 + 2 + 1 + 1; /* post-header, width, present bitmap */
    static const char rows[] = "00"
                               "01000000"
                               "03616263"
                               "02"
                               "02000000";
    size_t nrows = strlen(rows) / 2;
    for (size_t k = 1; k < nrows; k++) {
        if (k == 9) /* a whole first row: valid, one insert */
            continue;
        char cut[64];
        memcpy(cut, rows, 2 * k);
        cut[2 * k] = '\0';
        rows_v2_body(&body, 0x71, 2, false, 0x03, cut);
        CU_ASSERT_EQUAL(body.len, rows_at + k);
        strbuf_reset(&ev);
        put_event(&ev, BINLOG_EV_WRITE_ROWS_V2, 0, &body, true);
        decoder_free(d); /* after an error the decoder is not reused */
        d = decoder_upto(&m, m.write1, &s);
        uint8_t *copy = malloc(ev.len);
        memcpy(copy, ev.buf, ev.len);
        int rc = decoder_feed(d, copy, ev.len, 5000, &e);
        free(copy);
        CU_ASSERT_EQUAL(rc, ERR_DECODE);
    }
    decoder_free(d);
    d = decoder_upto(&m, m.write1, &s);
    /* The column count disagreeing with the table map. */
    rows_v2_body(&body, 0x71, 3, false, 0x07, "00");
    strbuf_reset(&ev);
    put_event(&ev, BINLOG_EV_WRITE_ROWS_V2, 0, &body, true);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 5000, &e), &e, ERR_DECODE,
               "has 3 columns, its table map 2");
    decoder_free(d);
    sink_clear(&s);
    strbuf_free(&ev);
    strbuf_free(&body);
    strbuf_free(&m.img);
}

static void test_payload_errors(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    struct sink s = {0};
    struct err e;
    struct strbuf body = {0}, ev = {0};
    payload_body(&body, 0, 0);
    /* Corrupt the compressed bytes: zstd reports an error (or the inner events are bad). */
    struct decoder *d = decoder_upto(&m, m.payload, &s);
    body.buf[body.len - 2] ^= 0xff;
    body.buf[body.len - 6] ^= 0xff;
    put_event(&ev, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    int rc = decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 6000, &e);
    CU_ASSERT(rc < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "offset 6000"));
    decoder_free(d);
    /* Declared size disagreeing with the bytes that follow the header. */
    payload_body(&body, 0, 0);
    strbuf_append(&body, "x", 1);
    strbuf_reset(&ev);
    put_event(&ev, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    d = decoder_upto(&m, m.payload, &s);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 6000, &e), &e, ERR_DECODE,
               "declared size");
    decoder_free(d);
    /* A zstd frame cut short (its size field agreeing). */
    payload_body(&body, 0, 3);
    strbuf_reset(&ev);
    put_event(&ev, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    d = decoder_upto(&m, m.payload, &s);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 6000, &e), &e, ERR_DECODE,
               "TRANSACTION_PAYLOAD at offset 6000");
    decoder_free(d);
    /* Uncompressed (type 255 NONE) but its last inner event cut. */
    payload_body(&body, 255, 1);
    strbuf_reset(&ev);
    put_event(&ev, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    d = decoder_upto(&m, m.payload, &s);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 6000, &e), &e, ERR_DECODE,
               "after the last inner event");
    decoder_free(d);
    /* An unknown compression type. */
    strbuf_reset(&body);
    put_hex(&body, "010100"
                   "020107"
                   "00");
    strbuf_reset(&ev);
    put_event(&ev, BINLOG_EV_TRANSACTION_PAYLOAD, 0, &body, true);
    d = decoder_upto(&m, m.payload, &s);
    assert_err(decoder_feed(d, (const uint8_t *)ev.buf, ev.len, 6000, &e), &e,
               ERR_DECODE_UNSUPPORTED, "compression type 7");
    decoder_free(d);
    sink_clear(&s);
    strbuf_free(&ev);
    strbuf_free(&body);
    strbuf_free(&m.img);
}

/* ------------------------------------------------------------------------------------------ */
/* binlog_file                                                                                 */

static char tmpdir[64];

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_binlog_file(void)
{
    struct mysql_stream m;
    build_mysql(&m);
    strcpy(tmpdir, "/tmp/sluice-test-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
    char path[128], cut[128], bad[128];
    snprintf(path, sizeof(path), "%s/binlog.000001", tmpdir);
    snprintf(cut, sizeof(cut), "%s/cut.000001", tmpdir);
    snprintf(bad, sizeof(bad), "%s/bad.000001", tmpdir);
    write_file(path, m.img.buf, m.img.len);

    /* Read back: the same events at the same offsets, and the same changes when decoded. */
    struct err e = {0};
    struct binlog_file *f = binlog_file_open(path, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(binlog_file_name(f), "binlog.000001");
    struct sink s = {0};
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.all_events = true;
    o.follow_rotate = false;
    o.emit = collect;
    o.opaque = &s;
    struct decoder *d = decoder_new(&o);
    decoder_set_file(d, binlog_file_name(f));
    size_t offs[32];
    size_t n = mysql_offsets(&m, offs), i = 0;
    const uint8_t *ev;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = binlog_file_next(f, &ev, &len, &off, &e)) == 1) {
        CU_ASSERT_FATAL(i < n);
        CU_ASSERT_EQUAL(off, offs[i]);
        CU_ASSERT_EQUAL(len, le32((const uint8_t *)m.img.buf + offs[i] + 9));
        CU_ASSERT_EQUAL(memcmp(ev, m.img.buf + off, len), 0);
        CU_ASSERT_EQUAL(decoder_feed(d, ev, len, off, &e), 0);
        i++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(i, n);
    char want[MAX_LINES][400];
    int nw = mysql_expected(&m, want);
    CU_ASSERT_EQUAL(s.n, nw);
    for (int k = 0; k < nw; k++)
        check_line(&s, k, want[k]);
    /* Seek back to an event start and read it again. */
    CU_ASSERT_EQUAL(binlog_file_seek(f, m.xid1, &e), 0);
    CU_ASSERT_EQUAL(binlog_file_next(f, &ev, &len, &off, &e), 1);
    CU_ASSERT_EQUAL(off, m.xid1);
    binlog_file_close(f);
    decoder_free(d);
    sink_clear(&s);

    /* The last event cut by one byte: ERR_BINLOG_TRUNCATED naming its offset. */
    write_file(cut, m.img.buf, m.img.len - 1);
    f = binlog_file_open(cut, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (i = 0; (rc = binlog_file_next(f, &ev, &len, &off, &e)) == 1; i++)
        ;
    CU_ASSERT_EQUAL(i, n - 1);
    char at[64];
    snprintf(at, sizeof(at), "at offset %zu: truncated event", m.rotate);
    assert_err(rc, &e, ERR_BINLOG_TRUNCATED, at);
    binlog_file_close(f);

    /* Cut inside the last event's header. */
    write_file(cut, m.img.buf, m.rotate + 10);
    f = binlog_file_open(cut, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    while ((rc = binlog_file_next(f, &ev, &len, &off, &e)) == 1)
        ;
    snprintf(at, sizeof(at), "at offset %zu: truncated event header", m.rotate);
    assert_err(rc, &e, ERR_BINLOG_TRUNCATED, at);
    binlog_file_close(f);

    /* An impossible event length. */
    struct strbuf img2 = {0};
    strbuf_append(&img2, m.img.buf, m.gtid1 + 19);
    img2.buf[m.gtid1 + 9] = 5; /* length 5 < 19 */
    img2.buf[m.gtid1 + 10] = img2.buf[m.gtid1 + 11] = img2.buf[m.gtid1 + 12] = 0;
    write_file(cut, img2.buf, img2.len);
    f = binlog_file_open(cut, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    while ((rc = binlog_file_next(f, &ev, &len, &off, &e)) == 1)
        ;
    snprintf(at, sizeof(at), "at offset %zu: event length 5", m.gtid1);
    assert_err(rc, &e, ERR_BINLOG_LENGTH, at);
    binlog_file_close(f);
    strbuf_free(&img2);

    /* Bad magic, and an empty file. */
    write_file(bad, "\xfe\x62\x69\x6f", 4);
    CU_ASSERT_PTR_NULL(binlog_file_open(bad, &e));
    CU_ASSERT_EQUAL(e.code, ERR_BINLOG_MAGIC);
    write_file(bad, "", 0);
    CU_ASSERT_PTR_NULL(binlog_file_open(bad, &e));
    CU_ASSERT_EQUAL(e.code, ERR_BINLOG_MAGIC);
    /* Magic only: no events, clean end. */
    write_file(bad, BINLOG_MAGIC, 4);
    f = binlog_file_open(bad, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(binlog_file_next(f, &ev, &len, &off, &e), 0);
    binlog_file_close(f);

    unlink(path);
    unlink(cut);
    unlink(bad);
    CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
    strbuf_free(&m.img);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("decoder", NULL, NULL);
    CU_add_test(s, "mysql_stream", test_mysql_stream);
    CU_add_test(s, "mariadb_stream", test_mariadb_stream);
    CU_add_test(s, "checksum_errors", test_checksum_errors);
    CU_add_test(s, "length_errors", test_length_errors);
    CU_add_test(s, "rows_errors", test_rows_errors);
    CU_add_test(s, "payload_errors", test_payload_errors);
    CU_add_test(s, "binlog_file", test_binlog_file);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
