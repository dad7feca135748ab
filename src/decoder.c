/*
 * decoder.c — the binlog event state machine: events in, struct change out.
 *
 * Per event: check the length against the header, verify the CRC32 when the stream has
 * checksums, then dispatch on the type. State kept across events: the format description,
 * the table-map cache (table id → parsed map; dropped at statement ends when it grows large),
 * and the current transaction (its GTID, whether BEGIN was seen).
 *
 * Compressed events are unpacked and their contents decoded as if inline: MySQL 8
 * TRANSACTION_PAYLOAD (zstd, streamed through a bounded buffer so a huge transaction does not
 * take memory in proportion to its size) and MariaDB QUERY/ROWS_COMPRESSED (zlib). Inner events
 * report the position of the event that carried them.
 *
 * Nothing is skipped silently: an event that cannot be decoded is an error naming its type and
 * offset; only events that carry no row data (and unknown or ignorable types) are passed over.
 * Not thread-safe: one decoder per stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "binlog_event.h"
#include "crc32.h"
#include "decoder.h"
#include "mysql_types.h"
#include "row.h"
#include "strbuf.h"
#include "table_map.h"
#include "xmalloc.h"

#define TMAP_BUCKETS       1024
#define TMAP_MAX_ENTRIES   4096 /* beyond this, the cache is dropped at a statement end */
#define ROWS_FLAG_STMT_END 0x0001
#define PAYLOAD_MAX_EVENT  (1024u * 1024u * 1024u) /* 1 GiB: max_allowed_packet's ceiling */

/* MariaDB GTID event flags. */
#define MARIA_FL_STANDALONE      0x01
#define MARIA_FL_GROUP_COMMIT_ID 0x02
#define MARIA_FL_PREPARED_XA     0x40
#define MARIA_FL_COMPLETED_XA    0x80

struct tmap_entry {
    struct table_map *tm;
    struct tmap_entry *next;
};

struct decoder {
    struct decoder_opts o;
    struct binlog_fde fde;
    bool have_fde;
    char *file;
    struct decoder_stats st;

    struct tmap_entry *buckets[TMAP_BUCKETS];
    uint32_t ntmaps;
    struct table_map **retired; /* retain_maps: maps dropped but maybe still referenced */
    size_t nretired, capretired;

    /* Row numbering (change.row) within one position. */
    uint64_t row_pos;
    uint32_t row_next;
    uint64_t file_gen, row_file_gen; /* file_gen: bumped at each file change */

    /* Current transaction. */
    char gtid[160];
    bool has_gtid;
    bool in_txn;

    /* Output of the current event. */
    struct strbuf text;
    struct change_col *cols_before, *cols_after, *cols_partial;
    struct row_raw *raw;
    uint32_t cols_cap;

    /* Unpacking buffers, kept for reuse. */
    ZSTD_DCtx *zstd;
    uint8_t *pay_buf;
    size_t pay_len, pay_cap;
    struct strbuf unz;
};

void decoder_opts_init(struct decoder_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->verify_checksum = true;
    o->follow_rotate = true;
}

struct decoder *decoder_new(const struct decoder_opts *opts)
{
    struct decoder *d = xcalloc(1, sizeof(*d));
    d->o = *opts;
    binlog_fde_default(&d->fde);
    d->file = xstrdup("");
    return d;
}

/* A map leaves the cache: freed, or kept until decoder_release_maps with retain_maps. */
static void tmap_drop(struct decoder *d, struct table_map *tm)
{
    if (!d->o.retain_maps) {
        table_map_free(tm);
        return;
    }
    if (d->nretired == d->capretired) {
        d->capretired = d->capretired ? d->capretired * 2 : 16;
        d->retired = xrealloc(d->retired, d->capretired * sizeof(*d->retired));
    }
    d->retired[d->nretired++] = tm;
}

void decoder_release_maps(struct decoder *d)
{
    for (size_t i = 0; i < d->nretired; i++)
        table_map_free(d->retired[i]);
    d->nretired = 0;
}

static void tmaps_clear(struct decoder *d)
{
    for (unsigned i = 0; i < TMAP_BUCKETS; i++) {
        struct tmap_entry *e = d->buckets[i];
        while (e) {
            struct tmap_entry *n = e->next;
            tmap_drop(d, e->tm);
            free(e);
            e = n;
        }
        d->buckets[i] = NULL;
    }
    d->ntmaps = 0;
}

void decoder_free(struct decoder *d)
{
    if (d == NULL)
        return;
    tmaps_clear(d);
    decoder_release_maps(d);
    free(d->retired);
    free(d->file);
    strbuf_free(&d->text);
    strbuf_free(&d->unz);
    free(d->cols_before);
    free(d->cols_after);
    free(d->cols_partial);
    free(d->raw);
    free(d->pay_buf);
    if (d->zstd)
        ZSTD_freeDCtx(d->zstd);
    free(d);
}

void decoder_set_file(struct decoder *d, const char *name)
{
    free(d->file);
    d->file = xstrdup(name);
    d->file_gen++;
}

const struct decoder_stats *decoder_get_stats(const struct decoder *d)
{
    return &d->st;
}

bool decoder_has_checksum(const struct decoder *d)
{
    return d->have_fde && d->fde.checksum_alg == BINLOG_CHECKSUM_CRC32;
}

/* ------------------------------------------------------------------------------------------ */
/* Table-map cache                                                                             */

static struct table_map *tmap_get(struct decoder *d, uint64_t id)
{
    for (struct tmap_entry *e = d->buckets[id % TMAP_BUCKETS]; e; e = e->next)
        if (e->tm->table_id == id)
            return e->tm;
    return NULL;
}

/* Parses a table map, keeps its raw bytes for reuse and lets the on_table_map hook complete
 * or refuse it. */
static int tmap_parse(struct decoder *d,
                      const uint8_t *body,
                      size_t len,
                      unsigned phl,
                      struct table_map **out,
                      struct err *err)
{
    struct table_map *tm = table_map_parse(body, len, phl, d->fde.mariadb, err);
    if (tm == NULL)
        return ERR_DECODE;
    tm->raw = xmalloc(len);
    memcpy(tm->raw, body, len);
    tm->raw_len = len;
    if (tm->has_optional_meta)
        d->st.tmaps_with_optional_meta++;
    if (d->o.on_table_map) {
        int rc = d->o.on_table_map(tm, d->o.opaque, err);
        if (rc) {
            table_map_free(tm);
            return rc;
        }
    }
    *out = tm;
    return 0;
}

void decoder_forget_tables(struct decoder *d)
{
    tmaps_clear(d);
}

static int tmap_put(struct decoder *d, const uint8_t *body, size_t len, struct err *err)
{
    unsigned phl = d->fde.post_header_len[BINLOG_EV_TABLE_MAP];
    if (phl == 0)
        phl = 8;
    if (phl != 6 && phl != 8)
        return err_set(err, ERR_DECODE, "table map post-header length %u, expected 6 or 8", phl);
    if (len < phl)
        return err_set(err, ERR_DECODE, "table map of %zu bytes is too short", len);
    uint64_t id = table_map_read_id(body, phl);
    struct tmap_entry **pe = &d->buckets[id % TMAP_BUCKETS];
    for (struct tmap_entry *e = *pe; e; e = e->next) {
        if (e->tm->table_id != id)
            continue;
        /* The same map is re-sent before every statement: reuse the parse. */
        if (e->tm->raw_len == len && memcmp(e->tm->raw, body, len) == 0) {
            if (e->tm->has_optional_meta)
                d->st.tmaps_with_optional_meta++;
            return 0;
        }
        struct table_map *tm = NULL;
        int rc = tmap_parse(d, body, len, phl, &tm, err);
        if (rc)
            return rc;
        tmap_drop(d, e->tm);
        e->tm = tm;
        return 0;
    }
    struct table_map *tm = NULL;
    int rc = tmap_parse(d, body, len, phl, &tm, err);
    if (rc)
        return rc;
    struct tmap_entry *e = xmalloc(sizeof(*e));
    e->tm = tm;
    e->next = *pe;
    *pe = e;
    d->ntmaps++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Emitting                                                                                    */

struct ev_ctx {
    const struct binlog_header *h;
    uint64_t pos;      /* offset of the (outer) event */
    uint64_t next_pos; /* offset after it */
};

static void
change_init(struct decoder *d, struct change *c, enum change_kind kind, const struct ev_ctx *ev)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->ts = ev->h->timestamp;
    c->server_id = ev->h->server_id;
    c->file = d->file;
    c->pos = ev->pos;
    c->next_pos = ev->next_pos;
    c->gtid = d->has_gtid ? d->gtid : NULL;
    c->db = "";
    c->mariadb = d->fde.mariadb;
}

static int emit(struct decoder *d, const struct change *c)
{
    if (d->o.emit == NULL)
        return 0;
    return d->o.emit(c, d->o.opaque);
}

/* ------------------------------------------------------------------------------------------ */
/* Compression helpers                                                                         */

/* MariaDB's compressed event layout: one header byte 0x80 | n (n = bytes of the uncompressed
 * length, 1..4), the length big-endian in n bytes, then a zlib stream. Unpacks into d->unz. */
static int maria_uncompress(struct decoder *d, const uint8_t *p, size_t len, struct err *err)
{
    if (len < 1)
        return err_set(err, ERR_DECODE, "compressed event: empty body");
    unsigned n = p[0] & 0x07;
    if ((p[0] & 0x80) == 0 || n < 1 || n > 4 || len < 1 + n)
        return err_set(err, ERR_DECODE, "compressed event: bad header byte 0x%02x", p[0]);
    uint32_t ulen = (uint32_t)be_n(p + 1, n);
    /* zlib expands at most about 1032:1: a larger stated length is corrupt, and must not make
     * us allocate it. */
    if ((uint64_t)ulen > (uint64_t)(len - 1 - n) * 1032 + 64)
        return err_set(err, ERR_DECODE,
                       "compressed event: stated length %u is impossible for %zu compressed bytes",
                       ulen, len - 1 - n);
    strbuf_reset(&d->unz);
    strbuf_reserve(&d->unz, ulen);
    uLongf out_len = ulen;
    int zr = uncompress((Bytef *)d->unz.buf, &out_len, p + 1 + n, (uLong)(len - 1 - n));
    if (zr != Z_OK || out_len != ulen)
        return err_set(err, ERR_DECODE,
                       "compressed event: zlib could not unpack %zu bytes to %u (zlib error %d)",
                       len - 1 - n, ulen, zr);
    d->unz.len = ulen;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows events                                                                                 */

/* The one list of rows event types: true, with the kind of change their rows are, for a rows
 * event; false for any other type. */
static bool rows_kind(uint8_t type, enum change_kind *kind)
{
    switch (type) {
    case BINLOG_EV_WRITE_ROWS_V1:
    case BINLOG_EV_WRITE_ROWS_V2:
    case BINLOG_EV_PRE_GA_WRITE_ROWS:
    case BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED:
        *kind = CHANGE_INSERT;
        return true;
    case BINLOG_EV_UPDATE_ROWS_V1:
    case BINLOG_EV_UPDATE_ROWS_V2:
    case BINLOG_EV_PRE_GA_UPDATE_ROWS:
    case BINLOG_EV_PARTIAL_UPDATE_ROWS:
    case BINLOG_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case BINLOG_EV_MARIA_UPDATE_ROWS_COMPRESSED:
        *kind = CHANGE_UPDATE;
        return true;
    case BINLOG_EV_DELETE_ROWS_V1:
    case BINLOG_EV_DELETE_ROWS_V2:
    case BINLOG_EV_PRE_GA_DELETE_ROWS:
    case BINLOG_EV_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case BINLOG_EV_MARIA_DELETE_ROWS_COMPRESSED:
        *kind = CHANGE_DELETE;
        return true;
    default:
        return false;
    }
}

static bool is_maria_compressed_rows(uint8_t type)
{
    return type >= BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 &&
           type <= BINLOG_EV_MARIA_DELETE_ROWS_COMPRESSED;
}

static void ensure_cols(struct decoder *d, uint32_t n)
{
    if (n <= d->cols_cap)
        return;
    d->cols_before = xrealloc(d->cols_before, n * sizeof(struct change_col));
    d->cols_after = xrealloc(d->cols_after, n * sizeof(struct change_col));
    d->cols_partial = xrealloc(d->cols_partial, n * sizeof(struct change_col));
    d->raw = xrealloc(d->raw, n * sizeof(struct row_raw));
    d->cols_cap = n;
}

static int do_rows(struct decoder *d,
                   const struct ev_ctx *ev,
                   enum change_kind kind,
                   const uint8_t *body,
                   size_t len,
                   struct err *err)
{
    uint8_t type = ev->h->type;
    unsigned phl = d->fde.post_header_len[type];
    if (is_maria_compressed_rows(type) || type == BINLOG_EV_PARTIAL_UPDATE_ROWS) {
        /* Post-header as the matching plain type. */
        uint8_t base =
            type == BINLOG_EV_PARTIAL_UPDATE_ROWS ? BINLOG_EV_UPDATE_ROWS_V2
            : type >= BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED
                ? (uint8_t)(type - BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED + BINLOG_EV_WRITE_ROWS_V2)
                : (uint8_t)(type - BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 +
                            BINLOG_EV_WRITE_ROWS_V1);
        if (phl == 0)
            phl = d->fde.post_header_len[base];
    }
    if (phl == 0)
        phl = (type == BINLOG_EV_WRITE_ROWS_V2 || type == BINLOG_EV_UPDATE_ROWS_V2 ||
               type == BINLOG_EV_DELETE_ROWS_V2 || type == BINLOG_EV_PARTIAL_UPDATE_ROWS ||
               type >= BINLOG_EV_MARIA_WRITE_ROWS_COMPRESSED)
                  ? 10
                  : 8;
    if (phl != 6 && phl != 8 && phl != 10)
        return err_set(err, ERR_DECODE, "rows event post-header length %u", phl);
    if (len < phl)
        return err_set(err, ERR_DECODE, "rows event of %zu bytes is too short", len);
    const uint8_t *p = body, *end = body + len;
    uint64_t table_id = table_map_read_id(p, phl == 10 ? 8 : phl);
    uint16_t flags = le16(p + (phl == 10 ? 8 : phl) - 2);
    p += phl;
    if (phl == 10) {
        /* v2: extra row info; its length counts its own 2 bytes. */
        uint16_t extra = le16(p - 2);
        if (extra < 2 || (size_t)(end - p) < (size_t)extra - 2)
            return err_set(err, ERR_DECODE, "rows event extra data of %u bytes runs past the event",
                           extra);
        p += extra - 2;
    }
    struct table_map *tm = tmap_get(d, table_id);
    if (tm == NULL) {
        if (table_id == 0x00ffffff && (flags & ROWS_FLAG_STMT_END))
            return 0; /* dummy event closing a statement with no rows (5.1) */
        if (type >= BINLOG_EV_PRE_GA_WRITE_ROWS && type <= BINLOG_EV_PRE_GA_DELETE_ROWS)
            return err_set(err, ERR_DECODE_UNSUPPORTED,
                           "pre-GA rows event (MySQL 5.1 beta, types 20-22) refers to table id "
                           "%llu with no table map in the stream: its rows cannot be decoded; "
                           "such binlogs come only from pre-release 5.1 servers",
                           (unsigned long long)table_id);
        return err_set(err, ERR_DECODE_NO_TABLE_MAP,
                       "rows event for table id %llu without a preceding table map (start "
                       "decoding at a transaction boundary)",
                       (unsigned long long)table_id);
    }
    uint64_t width;
    if (binlog_read_packed(&p, end, &width) != 0)
        return err_set(err, ERR_DECODE, "rows event: column count runs past the event");
    if (width != tm->ncols)
        return err_set(err, ERR_DECODE,
                       "rows event for `%s`.`%s` has %llu columns, its table map %u", tm->db,
                       tm->table, (unsigned long long)width, tm->ncols);
    size_t nb = (width + 7) / 8;
    bool two = kind == CHANGE_UPDATE;
    if ((size_t)(end - p) < nb * (two ? 2 : 1))
        return err_set(err, ERR_DECODE, "rows event: column bitmaps run past the event");
    const uint8_t *present_b = p;
    p += nb;
    const uint8_t *present_a = present_b;
    if (two) {
        present_a = p;
        p += nb;
    }
    if (is_maria_compressed_rows(type)) {
        if (maria_uncompress(d, p, (size_t)(end - p), err))
            return ERR_DECODE;
        p = (const uint8_t *)d->unz.buf;
        end = p + d->unz.len;
    }
    ensure_cols(d, tm->ncols);
    /* Rows are numbered per position: the inner rows events of one TRANSACTION_PAYLOAD share
     * the payload's offset, so their numbering goes on across them. */
    if (ev->pos != d->row_pos || d->row_file_gen != d->file_gen) {
        d->row_pos = ev->pos;
        d->row_file_gen = d->file_gen;
        d->row_next = 0;
    }
    uint32_t row = d->row_next;
    while (p < end) {
        const uint8_t *row_start = p;
        struct change c;
        change_init(d, &c, kind, ev);
        c.db = tm->db;
        c.table = tm->table;
        c.tmap = tm;
        c.row = row++;
        strbuf_reset(&d->text);
        uint32_t nb_cols = 0, na_cols = 0, np_cols = 0;
        memset(d->raw, 0, tm->ncols * sizeof(struct row_raw));
        uint32_t obj_b[2] = {0, 0}, obj_a[2] = {0, 0};
        struct row_image_in in = {.tm = tm, .present = present_b, .raw = d->raw};
        in.object = kind == CHANGE_INSERT ? obj_a : obj_b;
        if (kind == CHANGE_INSERT) {
            if (row_decode_image(&in, &p, end, &d->text, d->cols_after, &na_cols, NULL, NULL, err))
                return ERR_DECODE;
        } else {
            if (row_decode_image(&in, &p, end, &d->text, d->cols_before, &nb_cols, NULL, NULL, err))
                return ERR_DECODE;
        }
        if (kind == CHANGE_UPDATE) {
            in.present = present_a;
            in.object = obj_a;
            if (type == BINLOG_EV_PARTIAL_UPDATE_ROWS) {
                uint64_t opts;
                if (binlog_read_packed(&p, end, &opts) != 0)
                    return err_set(err, ERR_DECODE,
                                   "partial update: value options run past "
                                   "the event");
                if (opts & 1) {
                    size_t pb = (tm->njson + 7) / 8;
                    if ((size_t)(end - p) < pb)
                        return err_set(err, ERR_DECODE,
                                       "partial update: JSON bitmap runs past "
                                       "the event");
                    in.partial = p;
                    in.is_after_partial = true;
                    p += pb;
                }
            }
            if (row_decode_image(&in, &p, end, &d->text, d->cols_after, &na_cols, d->cols_partial,
                                 &np_cols, err))
                return ERR_DECODE;
        }
        if (kind == CHANGE_INSERT) {
            c.after = (struct change_image){d->cols_after, na_cols, obj_a[0], obj_a[1]};
        } else if (kind == CHANGE_DELETE) {
            c.before = (struct change_image){d->cols_before, nb_cols, obj_b[0], obj_b[1]};
        } else {
            c.before = (struct change_image){d->cols_before, nb_cols, obj_b[0], obj_b[1]};
            c.after = (struct change_image){d->cols_after, na_cols, obj_a[0], obj_a[1]};
            c.partial = (struct change_image){.cols = d->cols_partial, .ncols = np_cols};
        }
        if (p == row_start)
            return err_set(err, ERR_DECODE,
                           "rows event for `%s`.`%s`: a row image of no bytes (no column present)",
                           tm->db, tm->table);
        c.text = d->text.buf ? d->text.buf : "";
        d->st.rows++;
        d->row_next = row;
        int r = emit(d, &c);
        if (r)
            return r;
    }
    if ((flags & ROWS_FLAG_STMT_END) && d->ntmaps > TMAP_MAX_ENTRIES)
        tmaps_clear(d);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Query, GTID, XID                                                                            */

static bool starts_with_ci(const uint8_t *s, size_t n, const char *w)
{
    size_t l = strlen(w);
    if (n < l)
        return false;
    for (size_t i = 0; i < l; i++) {
        char a = (char)s[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 32);
        if (a != w[i])
            return false;
    }
    return n == l || s[l] == ' ' || s[l] == '\t' || s[l] == '\n' || s[l] == '\r' || s[l] == ';';
}

static void end_txn(struct decoder *d)
{
    d->in_txn = false;
    d->has_gtid = false;
}

/* Where the database name (db_len bytes, NUL after) and the statement (to the end) start in the
 * body of a query event of `type`. Returns 0, or ERR_DECODE (err filled; err may be NULL). */
static int query_layout(const struct decoder *d,
                        uint8_t type,
                        const uint8_t *body,
                        size_t len,
                        size_t *db_off,
                        size_t *sql_off,
                        struct err *err)
{
    unsigned phl = d->fde.post_header_len[type];
    if (phl == 0)
        phl = d->fde.post_header_len[BINLOG_EV_QUERY];
    if (phl < 11)
        phl = 13; /* 5.0 with a v4 FDE lists 13 */
    if (len < phl)
        return err_set(err, ERR_DECODE, "query event of %zu bytes is too short", len);
    uint8_t db_len = body[8];
    uint16_t status_len = phl >= 13 ? le16(body + 11) : 0;
    size_t off = phl + (size_t)status_len;
    if (off + db_len + 1 > len)
        return err_set(err, ERR_DECODE,
                       "query event: status variables (%u bytes) and database name run past the "
                       "event",
                       status_len);
    *db_off = off;
    *sql_off = off + db_len + 1;
    return 0;
}

/* What a statement is to the transaction around it (decoder_query_class). */
static enum decoder_query sql_class(const uint8_t *q, size_t n)
{
    if (starts_with_ci(q, n, "BEGIN") || starts_with_ci(q, n, "XA START") ||
        starts_with_ci(q, n, "XA BEGIN"))
        return DECODER_Q_BEGIN;
    if (starts_with_ci(q, n, "XA END") || starts_with_ci(q, n, "SAVEPOINT") ||
        (n > 12 && starts_with_ci(q, 11, "ROLLBACK TO")))
        return DECODER_Q_INNER;
    if (starts_with_ci(q, n, "COMMIT") || starts_with_ci(q, n, "ROLLBACK") ||
        starts_with_ci(q, n, "XA PREPARE") || starts_with_ci(q, n, "XA COMMIT") ||
        starts_with_ci(q, n, "XA ROLLBACK"))
        return DECODER_Q_END;
    return DECODER_Q_SCHEMA;
}

static int do_query(struct decoder *d,
                    const struct ev_ctx *ev,
                    const uint8_t *body,
                    size_t len,
                    bool compressed,
                    struct err *err)
{
    size_t db_off, off;
    if (query_layout(d, compressed ? BINLOG_EV_QUERY : ev->h->type, body, len, &db_off, &off, err))
        return ERR_DECODE;
    const char *db = (const char *)body + db_off;
    uint8_t db_len = body[8];
    const uint8_t *q = body + off;
    size_t qlen = len - off;
    char dbname[256];
    memcpy(dbname, db, db_len);
    dbname[db_len] = '\0';
    if (compressed) {
        if (maria_uncompress(d, q, qlen, err))
            return ERR_DECODE;
        q = (const uint8_t *)d->unz.buf;
        qlen = d->unz.len;
    }
    struct change c;
    enum decoder_query cls = sql_class(q, qlen);
    if (cls == DECODER_Q_BEGIN) {
        if (d->in_txn && d->fde.mariadb)
            return 0; /* MariaDB's GTID already began it */
        d->in_txn = true;
        if (!d->o.all_events)
            return 0;
        change_init(d, &c, CHANGE_BEGIN, ev);
        c.db = dbname;
        if (!starts_with_ci(q, qlen, "BEGIN")) {
            c.sql = (const char *)q;
            c.sql_len = (uint32_t)qlen;
            c.xa = true;
        }
        return emit(d, &c);
    }
    if (cls == DECODER_Q_INNER)
        return 0; /* XA END, SAVEPOINT, ROLLBACK TO: no boundary, no data */
    enum change_kind kind = CHANGE_DDL;
    if (cls == DECODER_Q_END)
        kind = starts_with_ci(q, qlen, "ROLLBACK") || starts_with_ci(q, qlen, "XA ROLLBACK")
                   ? CHANGE_ROLLBACK
                   : CHANGE_COMMIT;
    int r = 0;
    if (d->o.all_events) {
        change_init(d, &c, kind, ev);
        c.db = dbname;
        c.sql = (const char *)q;
        c.sql_len = (uint32_t)qlen;
        r = emit(d, &c);
    }
    if (kind != CHANGE_DDL || !d->in_txn)
        end_txn(d);
    return r;
}

enum decoder_query decoder_query_class(const struct decoder *d, const uint8_t *ev, size_t len)
{
    if (len < BINLOG_HEADER_LEN)
        return DECODER_Q_NONE;
    if (ev[4] == BINLOG_EV_MARIA_QUERY_COMPRESSED)
        return DECODER_Q_SCHEMA; /* its text is not unpacked here */
    if (ev[4] != BINLOG_EV_QUERY)
        return DECODER_Q_NONE;
    const uint8_t *body = ev + BINLOG_HEADER_LEN;
    size_t blen = len - BINLOG_HEADER_LEN;
    if (decoder_has_checksum(d) && blen >= BINLOG_CHECKSUM_LEN)
        blen -= BINLOG_CHECKSUM_LEN;
    size_t db_off, off;
    if (query_layout(d, BINLOG_EV_QUERY, body, blen, &db_off, &off, NULL))
        return DECODER_Q_SCHEMA; /* malformed: its decoder reports it */
    return sql_class(body + off, blen - off);
}

static void fmt_uuid(char *out, const uint8_t *u)
{
    static const char hex[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[u[i] >> 4];
        out[k++] = hex[u[i] & 15];
    }
    out[k] = '\0';
}

static int gtid_emit(struct decoder *d, const struct ev_ctx *ev)
{
    if (!d->o.all_events)
        return 0;
    struct change c;
    change_init(d, &c, CHANGE_GTID, ev);
    return emit(d, &c);
}

static int do_mysql_gtid(
    struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    if (len < 25)
        return err_set(err, ERR_DECODE, "gtid event of %zu bytes is too short", len);
    if (ev->h->type == BINLOG_EV_ANONYMOUS_GTID) {
        d->has_gtid = false;
        return 0;
    }
    char uuid[40];
    fmt_uuid(uuid, body + 1);
    snprintf(d->gtid, sizeof(d->gtid), "%s:%lld", uuid, (long long)le64(body + 17));
    d->has_gtid = true;
    return gtid_emit(d, ev);
}

/* MySQL 8.3+ tagged GTID: serialized with mysql::serialization. Integers use a variable-length
 * encoding: the count of trailing one-bits of the first byte is the number of extra bytes
 * (little-endian), the value follows those bits; signed integers are zigzag-encoded. */
static int read_varlen(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return -1;
    unsigned extra = 0;
    uint8_t b = p[0];
    while (extra < 8 && (b >> extra) & 1)
        extra++;
    if ((size_t)(end - p) < 1 + extra)
        return -1;
    uint64_t v;
    if (extra == 8) {
        v = le64(p + 1);
    } else {
        v = (uint64_t)(b >> (extra + 1));
        for (unsigned i = 0; i < extra; i++)
            v |= (uint64_t)p[1 + i] << (8 * i + 7 - extra);
    }
    *out = v;
    *pp = p + 1 + extra;
    return 0;
}

static int do_tagged_gtid(
    struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    /* Format version, message size, last non-ignorable field id, then (field id, value)
     * pairs: 0 gtid flags, 1 source uuid (16 one-byte integers), 2 gno (signed), 3 tag
     * (length + bytes); later fields (commit numbers, timestamps) are not needed here. */
    const uint8_t *p = body, *end = body + len;
    uint64_t version, size, last_id, id, v;
    if (read_varlen(&p, end, &version) || read_varlen(&p, end, &size) ||
        read_varlen(&p, end, &last_id))
        goto bad;
    char uuid[40] = "";
    char tag[40] = "";
    int64_t gno = -1;
    bool have_tag = false;
    while (p < end && !(uuid[0] && gno >= 0 && have_tag)) {
        if (read_varlen(&p, end, &id))
            goto bad;
        if (id == 1) {
            uint8_t u[16];
            for (int i = 0; i < 16; i++) {
                if (read_varlen(&p, end, &v) || v > 255)
                    goto bad;
                u[i] = (uint8_t)v;
            }
            fmt_uuid(uuid, u);
        } else if (id == 3) {
            if (read_varlen(&p, end, &v) || v > (uint64_t)(end - p) || v >= sizeof(tag))
                goto bad;
            memcpy(tag, p, v);
            tag[v] = '\0';
            p += v;
            have_tag = true;
        } else if (id == 0 || id == 2) {
            if (read_varlen(&p, end, &v))
                goto bad;
            if (id == 2)
                gno = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        } else {
            break;
        }
    }
    if (gno < 0 || !uuid[0])
        goto bad;
    if (tag[0])
        snprintf(d->gtid, sizeof(d->gtid), "%s:%s:%lld", uuid, tag, (long long)gno);
    else
        snprintf(d->gtid, sizeof(d->gtid), "%s:%lld", uuid, (long long)gno);
    d->has_gtid = true;
    return gtid_emit(d, ev);
bad:
    return err_set(err, ERR_DECODE, "tagged gtid event: malformed serialized fields");
}

static int do_maria_gtid(
    struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    if (len < 13)
        return err_set(err, ERR_DECODE, "mariadb gtid event of %zu bytes is too short", len);
    uint64_t seq = le64(body);
    uint32_t domain = le32(body + 8);
    uint8_t flags = body[12];
    snprintf(d->gtid, sizeof(d->gtid), "%u-%u-%llu", domain, ev->h->server_id,
             (unsigned long long)seq);
    d->has_gtid = true;
    int r = gtid_emit(d, ev);
    if (r)
        return r;
    if (!(flags & MARIA_FL_STANDALONE)) {
        d->in_txn = true;
        if (d->o.all_events) {
            struct change c;
            change_init(d, &c, CHANGE_BEGIN, ev);
            c.xa = (flags & MARIA_FL_PREPARED_XA) != 0;
            return emit(d, &c);
        }
    }
    return 0;
}

static int
do_xid(struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    if (len != 8)
        return err_set(err, ERR_DECODE, "xid event body of %zu bytes, expected 8", len);
    int r = 0;
    if (d->o.all_events) {
        struct change c;
        change_init(d, &c, CHANGE_COMMIT, ev);
        c.has_xid = true;
        c.xid = le64(body);
        r = emit(d, &c);
    }
    end_txn(d);
    return r;
}

static int do_xa_prepare(
    struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    /* one_phase (1), formatID (4), gtrid length (4), bqual length (4), gtrid, bqual */
    if (len < 13)
        return err_set(err, ERR_DECODE, "xa prepare event of %zu bytes is too short", len);
    uint32_t fmt = le32(body + 1), gl = le32(body + 5), bl = le32(body + 9);
    if (gl > 64 || bl > 64 || 13 + (size_t)gl + bl > len)
        return err_set(err, ERR_DECODE, "xa prepare event: xid of %u+%u bytes is invalid", gl, bl);
    int r = 0;
    if (d->o.all_events) {
        /* The statement as the server writes it: XA PREPARE X'gtrid',X'bqual',formatID */
        struct strbuf sql = {0};
        strbuf_appends(&sql, body[0] ? "XA COMMIT X'" : "XA PREPARE X'");
        strbuf_append_hex(&sql, body + 13, gl);
        strbuf_appends(&sql, "',X'");
        strbuf_append_hex(&sql, body + 13 + gl, bl);
        strbuf_printf(&sql, "',%u%s", fmt, body[0] ? " ONE PHASE" : "");
        struct change c;
        change_init(d, &c, CHANGE_COMMIT, ev);
        c.sql = sql.buf;
        c.sql_len = (uint32_t)sql.len;
        r = emit(d, &c);
        strbuf_free(&sql);
    }
    end_txn(d);
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* TRANSACTION_PAYLOAD                                                                         */

static int process(struct decoder *d,
                   const uint8_t *ev,
                   size_t len,
                   uint64_t offset,
                   bool inner,
                   const struct ev_ctx *outer,
                   struct err *err);

/* Decodes complete inner events at the front of pay_buf; keeps a partial tail. */
static int payload_drain(struct decoder *d, const struct ev_ctx *outer, struct err *err)
{
    size_t off = 0;
    while (d->pay_len - off >= BINLOG_HEADER_LEN) {
        uint32_t elen = le32(d->pay_buf + off + 9);
        if (elen < BINLOG_HEADER_LEN || elen > PAYLOAD_MAX_EVENT)
            return err_set(err, ERR_DECODE,
                           "transaction payload: inner event of length %u is invalid", elen);
        if (d->pay_len - off < elen) {
            if (elen > d->pay_cap) {
                d->pay_cap = elen;
                d->pay_buf = xrealloc(d->pay_buf, d->pay_cap);
            }
            break;
        }
        int r = process(d, d->pay_buf + off, elen, outer->pos, true, outer, err);
        if (r)
            return r;
        off += elen;
    }
    memmove(d->pay_buf, d->pay_buf + off, d->pay_len - off);
    d->pay_len -= off;
    return 0;
}

static int do_payload(
    struct decoder *d, const struct ev_ctx *ev, const uint8_t *body, size_t len, struct err *err)
{
    const uint8_t *p = body, *end = body + len;
    uint64_t comp = 0, size = 0, usize = 0;
    bool have_size = false;
    for (;;) {
        uint64_t type, flen, v;
        if (binlog_read_packed(&p, end, &type))
            goto bad;
        if (type == 0)
            break; /* end of header */
        if (binlog_read_packed(&p, end, &flen) || flen > (uint64_t)(end - p))
            goto bad;
        const uint8_t *f = p;
        p += flen;
        if (binlog_read_packed(&f, p, &v))
            goto bad;
        if (type == 1) {
            size = v;
            have_size = true;
        } else if (type == 2) {
            comp = v;
        } else if (type == 3) {
            usize = v;
        }
    }
    if (!have_size || size != (uint64_t)(end - p))
        return err_set(err, ERR_DECODE,
                       "transaction payload: declared size %llu, %zu bytes follow the header",
                       (unsigned long long)size, (size_t)(end - p));
    (void)usize;
    d->pay_len = 0;
    if (d->pay_cap < 65536) {
        d->pay_cap = 65536;
        d->pay_buf = xrealloc(d->pay_buf, d->pay_cap);
    }
    if (comp == 255) { /* NONE */
        const uint8_t *q = p;
        while (q < end) {
            size_t n = (size_t)(end - q);
            if (n > d->pay_cap - d->pay_len)
                n = d->pay_cap - d->pay_len;
            memcpy(d->pay_buf + d->pay_len, q, n);
            d->pay_len += n;
            q += n;
            int r = payload_drain(d, ev, err);
            if (r)
                return r;
        }
    } else if (comp == 0) { /* ZSTD */
        if (d->zstd == NULL)
            d->zstd = ZSTD_createDCtx();
        ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);
        ZSTD_inBuffer in = {p, (size_t)(end - p), 0};
        size_t zr = 1;
        while (in.pos < in.size || zr != 0) {
            ZSTD_outBuffer out = {d->pay_buf, d->pay_cap, d->pay_len};
            size_t before_in = in.pos, before_out = d->pay_len;
            zr = ZSTD_decompressStream(d->zstd, &out, &in);
            if (ZSTD_isError(zr))
                return err_set(err, ERR_DECODE, "transaction payload: zstd: %s",
                               ZSTD_getErrorName(zr));
            d->pay_len = out.pos;
            int r = payload_drain(d, ev, err);
            if (r)
                return r;
            if (in.pos == before_in && out.pos == before_out && d->pay_len < d->pay_cap) {
                if (in.pos >= in.size)
                    break; /* no progress and no input: truncated frame, caught below */
            }
        }
        if (zr != 0)
            return err_set(err, ERR_DECODE, "transaction payload: zstd frame is truncated");
    } else {
        return err_set(err, ERR_DECODE_UNSUPPORTED,
                       "transaction payload: unknown compression type %llu",
                       (unsigned long long)comp);
    }
    if (d->pay_len != 0)
        return err_set(err, ERR_DECODE, "transaction payload: %zu bytes after the last inner event",
                       d->pay_len);
    return 0;
bad:
    return err_set(err, ERR_DECODE, "transaction payload: malformed header field");
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch                                                                                    */

static int process(struct decoder *d,
                   const uint8_t *ev,
                   size_t len,
                   uint64_t offset,
                   bool inner,
                   const struct ev_ctx *outer,
                   struct err *err)
{
    char tbuf[16];
    if (len < BINLOG_HEADER_LEN)
        return err_set(err, ERR_BINLOG_TRUNCATED, "event at offset %llu: %zu bytes, need 19",
                       (unsigned long long)offset, len);
    struct binlog_header h;
    binlog_header_parse(ev, &h);
    if (h.event_len != len)
        return err_set(err, ERR_BINLOG_LENGTH,
                       "event at offset %llu: header says %u bytes, the event has %zu",
                       (unsigned long long)offset, h.event_len, len);
    d->st.events++;
    d->st.by_type[h.type]++;
    if (inner)
        d->st.inner_by_type[h.type]++;

    size_t hl = d->have_fde ? d->fde.header_len : BINLOG_HEADER_LEN;
    if (hl > len)
        return err_set(err, ERR_BINLOG_TRUNCATED, "event at offset %llu: shorter than its header",
                       (unsigned long long)offset);
    const uint8_t *body = ev + hl;
    size_t blen = len - hl;

    if (h.type == BINLOG_EV_FORMAT_DESCRIPTION) {
        struct binlog_fde fde;
        if (binlog_fde_parse(ev + BINLOG_HEADER_LEN, len - BINLOG_HEADER_LEN, &fde, err)) {
            char msg[sizeof(err->msg)];
            memcpy(msg, err->msg, sizeof(msg));
            return err_set(err, err->code, "event at offset %llu: %s", (unsigned long long)offset,
                           msg);
        }
        if (fde.checksum_alg == BINLOG_CHECKSUM_CRC32 && d->o.verify_checksum && !inner) {
            /* The server computes the FDE's checksum with LOG_EVENT_BINLOG_IN_USE_F (0x1)
             * clear, and sets or clears that flag in place later. */
            uint8_t flags[2] = {(uint8_t)(ev[17] & ~1u), ev[18]};
            uint32_t want = le32(ev + len - 4);
            uint32_t got = crc32_ieee(0, ev, 17);
            got = crc32_ieee(got, flags, 2);
            got = crc32_ieee(got, ev + 19, len - 4 - 19);
            if (want != got)
                return err_set(err, ERR_BINLOG_CHECKSUM,
                               "FORMAT_DESCRIPTION at offset %llu: CRC32 mismatch (stored %08x, "
                               "computed %08x)",
                               (unsigned long long)offset, want, got);
        }
        d->fde = fde;
        d->have_fde = true;
        return 0;
    }

    bool has_crc =
        d->have_fde ? d->fde.checksum_alg == BINLOG_CHECKSUM_CRC32 : d->o.checksum_before_fde;
    if (!inner && has_crc) {
        if (blen < BINLOG_CHECKSUM_LEN)
            return err_set(err, ERR_BINLOG_TRUNCATED, "%s at offset %llu: no room for its checksum",
                           binlog_event_type_label(h.type, tbuf, sizeof(tbuf)),
                           (unsigned long long)offset);
        if (d->o.verify_checksum) {
            uint32_t want = le32(ev + len - 4);
            uint32_t got = crc32_ieee(0, ev, len - 4);
            if (want != got)
                return err_set(err, ERR_BINLOG_CHECKSUM,
                               "%s at offset %llu: CRC32 mismatch (stored %08x, computed %08x)",
                               binlog_event_type_label(h.type, tbuf, sizeof(tbuf)),
                               (unsigned long long)offset, want, got);
        }
        blen -= BINLOG_CHECKSUM_LEN;
    }

    struct ev_ctx ctx = {&h, offset, offset + len};
    if (inner) {
        ctx.pos = outer->pos;
        ctx.next_pos = outer->next_pos;
    }
    int r = 0;
    enum change_kind rk;
    switch (h.type) {
    case BINLOG_EV_QUERY:
        r = do_query(d, &ctx, body, blen, false, err);
        break;
    case BINLOG_EV_MARIA_QUERY_COMPRESSED:
        r = do_query(d, &ctx, body, blen, true, err);
        break;
    case BINLOG_EV_TABLE_MAP:
        r = tmap_put(d, body, blen, err);
        break;
    case BINLOG_EV_XID:
        r = do_xid(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_GTID:
    case BINLOG_EV_ANONYMOUS_GTID:
        r = do_mysql_gtid(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_GTID_TAGGED:
        r = do_tagged_gtid(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_MARIA_GTID:
        r = do_maria_gtid(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_XA_PREPARE:
        r = do_xa_prepare(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_TRANSACTION_PAYLOAD:
        if (inner)
            return err_set(err, ERR_DECODE, "transaction payload nested in another");
        r = do_payload(d, &ctx, body, blen, err);
        break;
    case BINLOG_EV_ROTATE:
        if (blen >= 8 && d->o.follow_rotate && !inner) {
            size_t n = blen - 8;
            char *name = xstrndup((const char *)body + 8, n);
            free(d->file);
            d->file = name;
            d->file_gen++;
        } else if (blen < 8) {
            r = err_set(err, ERR_DECODE, "rotate event of %zu bytes, need 8", blen);
        }
        break;
    case BINLOG_EV_INCIDENT:
        if (d->o.warn) {
            char msg[400];
            unsigned itype = blen >= 2 ? le16(body) : 0;
            int mlen = blen >= 3 ? (int)body[2] : 0;
            if (mlen > (int)blen - 3)
                mlen = blen >= 3 ? (int)blen - 3 : 0;
            snprintf(msg, sizeof(msg),
                     "INCIDENT at offset %llu (type %u): the server recorded that changes may be "
                     "missing from this binlog after this point%s%.*s",
                     (unsigned long long)offset, itype, mlen > 0 ? ": " : "", mlen,
                     blen >= 3 ? (const char *)body + 3 : "");
            d->o.warn(msg, d->o.opaque);
        }
        break;
    case BINLOG_EV_MARIA_START_ENCRYPTION:
        r = err_set(err, ERR_BINLOG_ENCRYPTED,
                    "START_ENCRYPTION at offset %llu: this binlog is encrypted "
                    "(encrypt_binlog=ON); sluice cannot read it without the server's keys — read "
                    "it through a replication connection instead, which the server decrypts",
                    (unsigned long long)offset);
        break;
    default:
        if (rows_kind(h.type, &rk)) {
            r = do_rows(d, &ctx, rk, body, blen, err);
            break;
        }
        if (binlog_event_type_name(h.type) == NULL && d->o.warn &&
            !(h.flags & BINLOG_EV_FLAG_IGNORABLE) && d->st.by_type[h.type] == 1) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "event type %u at offset %llu is unknown to sluice and carries no ignorable "
                     "flag; passed over by its length (%u bytes)",
                     h.type, (unsigned long long)offset, h.event_len);
            d->o.warn(msg, d->o.opaque);
        }
        /* STOP, INTVAR, RAND, USER_VAR, ROWS_QUERY, ANNOTATE_ROWS, PREVIOUS_GTIDS, GTID_LIST,
         * BINLOG_CHECKPOINT, HEARTBEAT, INCIDENT, LOAD-DATA blocks, IGNORABLE and unknown
         * types carry no row changes: passed over by their length. */
        break;
    }
    if (r < 0 && err && err->code == r && strstr(err->msg, "offset") == NULL) {
        char msg[sizeof(err->msg)];
        memcpy(msg, err->msg, sizeof(msg));
        err_set(err, r, "%s at offset %llu: %s",
                binlog_event_type_label(h.type, tbuf, sizeof(tbuf)), (unsigned long long)offset,
                msg);
    }
    return r;
}

int decoder_feed(struct decoder *d, const uint8_t *ev, size_t len, uint64_t offset, struct err *err)
{
    return process(d, ev, len, offset, false, NULL, err);
}

int decoder_prime(
    struct decoder *d, const uint8_t *ev, size_t len, uint64_t offset, struct err *err)
{
    int rc = process(d, ev, len, offset, false, NULL, err);
    if (rc == 0) {
        d->st.events--;
        d->st.by_type[ev[4]]--;
    }
    return rc;
}
