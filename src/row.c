/*
 * row.c — row image decoding: storage format of every column type → JSON text.
 *
 * Value rules (the `json` format contract, docs/formats.md): integers as numbers (unsigned when
 * SIGNEDNESS says so), BIT and YEAR numbers, DECIMAL a string with the column's scale,
 * FLOAT/DOUBLE the shortest round-trip number, temporals as strings (TIMESTAMP in UTC), text in
 * UTF-8 from the column's charset, binary strings base64, GEOMETRY hex, VECTOR an array of
 * floats, MySQL JSON the document itself.
 *
 * Invariant: nothing is read outside [p, end); every length is checked before use.
 */
#include <string.h>
#include <zlib.h>

#include "binlog_event.h"
#include "charset.h"
#include "decimal.h"
#include "json_binary.h"
#include "mysql_types.h"
#include "row.h"
#include "temporal.h"

static int need(size_t avail, size_t n, const struct table_map_col *c, struct err *err)
{
    (void)c;
    if (avail < n)
        return err_set(err, ERR_DECODE, "value needs %zu bytes, %zu left", n, avail);
    return 0;
}

/* Text of a character column: charset known → UTF-8 text (binary → base64); unknown (no
 * optional metadata) → text when the bytes are valid UTF-8, else base64. */
static void
render_chars(const struct table_map_col *c, const uint8_t *s, size_t n, struct strbuf *out)
{
    if (c->collation == 0) {
        if (strbuf_utf8_valid(s, n))
            strbuf_append_json_str(out, (const char *)s, n);
        else
            strbuf_append_base64_json(out, s, n);
    } else if (charset_is_binary(c->collation)) {
        strbuf_append_base64_json(out, s, n);
    } else {
        charset_append_json(out, c->collation, s, n);
    }
}

/* MariaDB column compression (COMPRESSED attribute, types 140/141): the stored value starts
 * with a header byte. 0: the data follows as is. Else bit 7 set, bits 0-2 the byte count of
 * the original length (big-endian, after the header), bit 3 a raw deflate stream (no zlib
 * header), bits 4-6 the algorithm (0 = zlib). */
static int maria_column_uncompress(const uint8_t *v, size_t n, struct strbuf *tmp, struct err *err)
{
    strbuf_reset(tmp);
    if (n == 0)
        return 0;
    uint8_t h = v[0];
    if (h == 0) {
        strbuf_append(tmp, v + 1, n - 1);
        return 0;
    }
    unsigned lenlen = h & 0x07;
    if (!(h & 0x80) || (h & 0x70) || lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
        return err_set(err, ERR_DECODE, "compressed column: bad header byte 0x%02x", h);
    uint32_t olen = (uint32_t)be_n(v + 1, lenlen);
    /* zlib expands at most about 1032:1: refuse (and do not allocate) an impossible length. */
    if ((uint64_t)olen > (uint64_t)(n - 1 - lenlen) * 1032 + 64)
        return err_set(err, ERR_DECODE,
                       "compressed column: stated length %u is impossible for %zu bytes", olen,
                       n - 1 - lenlen);
    strbuf_reserve(tmp, olen);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, (h & 0x08) ? -MAX_WBITS : MAX_WBITS) != Z_OK)
        return err_set(err, ERR_DECODE, "compressed column: zlib init failed");
    zs.next_in = (Bytef *)(v + 1 + lenlen);
    zs.avail_in = (uInt)(n - 1 - lenlen);
    zs.next_out = (Bytef *)tmp->buf;
    zs.avail_out = olen;
    int zr = inflate(&zs, Z_FINISH);
    size_t got = zs.total_out;
    inflateEnd(&zs);
    if (zr != Z_STREAM_END || got != olen)
        return err_set(err, ERR_DECODE,
                       "compressed column: zlib could not unpack to %u bytes (error %d)", olen, zr);
    tmp->len = olen;
    tmp->buf[olen] = '\0';
    return 0;
}

static int render_temporal(int r, size_t *used)
{
    if (r < 0)
        return r;
    *used = (size_t)r;
    return 0;
}

int row_render_value(const struct table_map_col *c,
                     const uint8_t *p,
                     size_t avail,
                     struct strbuf *out,
                     size_t *used,
                     struct err *err)
{
    size_t n;
    switch (c->type) {
    case MYSQL_T_TINY:
    case MYSQL_T_SHORT:
    case MYSQL_T_INT24:
    case MYSQL_T_LONG:
    case MYSQL_T_LONGLONG: {
        n = c->type == MYSQL_T_TINY    ? 1
            : c->type == MYSQL_T_SHORT ? 2
            : c->type == MYSQL_T_INT24 ? 3
            : c->type == MYSQL_T_LONG  ? 4
                                       : 8;
        if (need(avail, n, c, err))
            return ERR_DECODE;
        uint64_t v = le_n(p, (unsigned)n);
        if (c->is_unsigned) {
            strbuf_append_u64(out, v);
        } else {
            /* Sign-extend the n-byte two's complement value (modulo 2^64, exact for n = 8). */
            uint64_t sign = (uint64_t)1 << (8 * n - 1);
            strbuf_append_i64(out, (int64_t)((v ^ sign) - sign));
        }
        *used = n;
        return 0;
    }
    case MYSQL_T_FLOAT: {
        if (need(avail, 4, c, err))
            return ERR_DECODE;
        uint32_t b = le32(p);
        float f;
        memcpy(&f, &b, 4);
        strbuf_append_float(out, f);
        *used = 4;
        return 0;
    }
    case MYSQL_T_DOUBLE: {
        if (need(avail, 8, c, err))
            return ERR_DECODE;
        uint64_t b = le64(p);
        double d;
        memcpy(&d, &b, 8);
        strbuf_append_double(out, d);
        *used = 8;
        return 0;
    }
    case MYSQL_T_NULL:
        strbuf_appends(out, "null");
        *used = 0;
        return 0;
    case MYSQL_T_NEWDECIMAL: {
        n = decimal_bin_size(c->meta_hi, c->meta);
        if (n == 0)
            return err_set(err, ERR_DECODE, "decimal(%u,%u) is not a valid type", c->meta_hi,
                           c->meta);
        strbuf_appendc(out, '"');
        if (decimal_bin_to_str(p, avail, c->meta_hi, c->meta, out, err))
            return ERR_DECODE;
        strbuf_appendc(out, '"');
        *used = n;
        return 0;
    }
    case MYSQL_T_YEAR:
        return render_temporal(temporal_year(p, avail, out, err), used);
    case MYSQL_T_DATE:
    case MYSQL_T_NEWDATE:
    case MYSQL_T_TIME:
    case MYSQL_T_TIME2:
    case MYSQL_T_DATETIME:
    case MYSQL_T_DATETIME2:
    case MYSQL_T_TIMESTAMP:
    case MYSQL_T_TIMESTAMP2: {
        int r;
        strbuf_appendc(out, '"');
        switch (c->type) {
        case MYSQL_T_DATE:
        case MYSQL_T_NEWDATE:
            r = temporal_date(p, avail, out, err);
            break;
        case MYSQL_T_TIME:
            r = temporal_time(p, avail, out, err);
            break;
        case MYSQL_T_TIME2:
            r = temporal_time2(p, avail, c->meta, out, err);
            break;
        case MYSQL_T_DATETIME:
            r = temporal_datetime(p, avail, out, err);
            break;
        case MYSQL_T_DATETIME2:
            r = temporal_datetime2(p, avail, c->meta, out, err);
            break;
        case MYSQL_T_TIMESTAMP:
            r = temporal_timestamp(p, avail, out, err);
            break;
        default:
            r = temporal_timestamp2(p, avail, c->meta, out, err);
        }
        if (r < 0)
            return r;
        strbuf_appendc(out, '"');
        *used = (size_t)r;
        return 0;
    }
    case MYSQL_T_BIT: {
        n = (size_t)c->meta_hi + (c->meta ? 1 : 0);
        if (need(avail, n, c, err))
            return ERR_DECODE;
        if (n > 8)
            return err_set(err, ERR_DECODE, "bit column of %zu bytes (max 8)", n);
        strbuf_append_u64(out, be_n(p, (unsigned)n));
        *used = n;
        return 0;
    }
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING: {
        size_t lb = c->meta < 256 ? 1 : 2;
        if (need(avail, lb, c, err))
            return ERR_DECODE;
        n = lb == 1 ? p[0] : le16(p);
        if (need(avail - lb, n, c, err))
            return ERR_DECODE;
        render_chars(c, p + lb, n, out);
        *used = lb + n;
        return 0;
    }
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET:
        if (c->real_type == MYSQL_T_ENUM) {
            n = c->meta;
            if (n != 1 && n != 2)
                return err_set(err, ERR_DECODE, "enum of pack length %zu", n);
            if (need(avail, n, c, err))
                return ERR_DECODE;
            uint32_t idx = n == 1 ? p[0] : le16(p);
            if (c->enums.n > 0) {
                if (idx == 0 || idx > c->enums.n)
                    strbuf_appends(out, "\"\""); /* the invalid-value index 0 is '' */
                else
                    charset_append_json(out, c->collation ? c->collation : 45,
                                        (const uint8_t *)c->enums.v[idx - 1],
                                        c->enums.len[idx - 1]);
            } else {
                strbuf_append_u64(out, idx);
            }
            *used = n;
            return 0;
        }
        if (c->real_type == MYSQL_T_SET) {
            n = c->meta;
            if (n < 1 || n > 8)
                return err_set(err, ERR_DECODE, "set of pack length %zu", n);
            if (need(avail, n, c, err))
                return ERR_DECODE;
            uint64_t bits = le_n(p, (unsigned)n);
            if (c->enums.n > 0) {
                struct strbuf tmp = {0};
                for (uint32_t i = 0; i < c->enums.n && i < 64; i++) {
                    if (!(bits >> i & 1))
                        continue;
                    if (tmp.len)
                        strbuf_appendc(&tmp, ',');
                    strbuf_append(&tmp, c->enums.v[i], c->enums.len[i]);
                }
                charset_append_json(out, c->collation ? c->collation : 45,
                                    (const uint8_t *)(tmp.buf ? tmp.buf : ""), tmp.len);
                strbuf_free(&tmp);
            } else {
                strbuf_append_u64(out, bits);
            }
            *used = n;
            return 0;
        }
        {
            size_t lb = c->meta < 256 ? 1 : 2;
            if (need(avail, lb, c, err))
                return ERR_DECODE;
            n = lb == 1 ? p[0] : le16(p);
            if (need(avail - lb, n, c, err))
                return ERR_DECODE;
            if (charset_is_binary(c->collation) && n < c->meta) {
                /* BINARY(n): the server strips the trailing 0x00 pad bytes it stores; put
                 * them back so the value is the column's, as SELECT returns it. */
                uint8_t pad[1024];
                size_t full = c->meta <= sizeof(pad) ? c->meta : n;
                memcpy(pad, p + lb, n);
                memset(pad + n, 0, full - n);
                strbuf_append_base64_json(out, pad, full);
            } else {
                render_chars(c, p + lb, n, out);
            }
            *used = lb + n;
            return 0;
        }
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_GEOMETRY:
    case MYSQL_T_JSON:
    case MYSQL_T_VECTOR: {
        size_t lb = c->meta;
        if (lb < 1 || lb > 4)
            return err_set(err, ERR_DECODE, "blob length prefix of %zu bytes", lb);
        if (need(avail, lb, c, err))
            return ERR_DECODE;
        n = (size_t)le_n(p, (unsigned)lb);
        if (need(avail - lb, n, c, err))
            return ERR_DECODE;
        const uint8_t *v = p + lb;
        if (c->type == MYSQL_T_JSON) {
            if (json_binary_to_text(v, n, out, err))
                return ERR_DECODE;
        } else if (c->type == MYSQL_T_GEOMETRY) {
            strbuf_appendc(out, '"');
            strbuf_append_hex(out, v, n);
            strbuf_appendc(out, '"');
        } else if (c->type == MYSQL_T_VECTOR) {
            if (n % 4)
                return err_set(err, ERR_DECODE, "vector of %zu bytes is not whole floats", n);
            strbuf_appendc(out, '[');
            for (size_t i = 0; i < n; i += 4) {
                uint32_t b = le32(v + i);
                float f;
                memcpy(&f, &b, 4);
                if (i)
                    strbuf_appendc(out, ',');
                strbuf_append_float(out, f);
            }
            strbuf_appendc(out, ']');
        } else {
            render_chars(c, v, n, out);
        }
        *used = lb + n;
        return 0;
    }
    case MYSQL_T_VARCHAR_COMPRESSED:
    case MYSQL_T_BLOB_COMPRESSED: {
        size_t lb = c->type == MYSQL_T_BLOB_COMPRESSED ? c->meta : (c->meta < 256 ? 1u : 2u);
        if (lb < 1 || lb > 4)
            return err_set(err, ERR_DECODE, "compressed blob length prefix of %zu bytes", lb);
        if (need(avail, lb, c, err))
            return ERR_DECODE;
        n = (size_t)le_n(p, (unsigned)lb);
        if (need(avail - lb, n, c, err))
            return ERR_DECODE;
        struct strbuf tmp = {0};
        if (maria_column_uncompress(p + lb, n, &tmp, err)) {
            strbuf_free(&tmp);
            return ERR_DECODE;
        }
        render_chars(c, (const uint8_t *)(tmp.buf ? tmp.buf : ""), tmp.len, out);
        strbuf_free(&tmp);
        *used = lb + n;
        return 0;
    }
    default:
        return err_set(err, ERR_DECODE_UNSUPPORTED, "column type %u is not supported", c->type);
    }
}

int row_decode_image(const struct row_image_in *in,
                     const uint8_t **pp,
                     const uint8_t *end,
                     struct strbuf *text,
                     struct change_col *cols,
                     uint32_t *ncols,
                     struct change_col *pcols,
                     uint32_t *npcols,
                     struct err *err)
{
    const struct table_map *tm = in->tm;
    const uint8_t *p = *pp;
    uint32_t npresent = 0;
    for (uint32_t i = 0; i < tm->ncols; i++)
        npresent += (in->present[i / 8] >> (i % 8)) & 1;
    size_t nb = (npresent + 7) / 8;
    if ((size_t)(end - p) < nb)
        return err_set(err, ERR_DECODE, "row image of `%s`.`%s`: NULL bitmap runs past the event",
                       tm->db, tm->table);
    const uint8_t *nulls = p;
    p += nb;
    uint32_t k = 0, jsonk = 0, nout = 0, npout = 0;
    uint32_t obj_off = (uint32_t)text->len;
    bool spoiled = false;
    if (in->object)
        strbuf_appendc(text, '{');
    for (uint32_t i = 0; i < tm->ncols; i++) {
        const struct table_map_col *c = &tm->cols[i];
        bool is_json = c->type == MYSQL_T_JSON;
        uint32_t jidx = jsonk;
        if (is_json)
            jsonk++;
        if (!((in->present[i / 8] >> (i % 8)) & 1))
            continue;
        bool is_null = (nulls[k / 8] >> (k % 8)) & 1;
        k++;
        bool partial = !is_null && in->is_after_partial && is_json && in->partial &&
                       ((in->partial[jidx / 8] >> (jidx % 8)) & 1);
        /* A diff without its before value goes to pcols, outside the object. */
        bool to_pcols = partial && !(in->raw && in->raw[i].set);
        if (in->object && !to_pcols) {
            if (nout)
                strbuf_appendc(text, ',');
            if (c->json_key) {
                strbuf_append(text, c->json_key, c->json_key_len);
            } else {
                strbuf_append(text, "\"@", 2);
                strbuf_append_u64(text, (uint64_t)i + 1);
                strbuf_append(text, "\":", 2);
            }
        }
        uint32_t off = (uint32_t)text->len;
        if (is_null) {
            strbuf_append(text, "null", 4);
            cols[nout++] = (struct change_col){i, off, 4};
            continue;
        }
        if (partial) {
            /* A JSON diff: 4-byte length, then the diff vector. */
            if ((size_t)(end - p) < 4 || le32(p) > (size_t)(end - p) - 4)
                return err_set(err, ERR_DECODE,
                               "row image of `%s`.`%s`: JSON diff of column %u runs past the event",
                               tm->db, tm->table, i + 1);
            uint32_t dl = le32(p);
            const uint8_t *d = p + 4;
            p += 4 + dl;
            if (in->raw && in->raw[i].set) {
                if (json_binary_apply_diffs(in->raw[i].p, in->raw[i].n, d, dl, text, err))
                    return ERR_DECODE;
                cols[nout++] = (struct change_col){i, off, (uint32_t)(text->len - off)};
            } else {
                if (json_binary_diffs_to_text(d, dl, text, err))
                    return ERR_DECODE;
                pcols[npout++] = (struct change_col){i, off, (uint32_t)(text->len - off)};
                spoiled = true; /* its text lies inside the object's */
            }
            continue;
        }
        size_t used = 0;
        if (row_render_value(c, p, (size_t)(end - p), text, &used, err)) {
            char msg[sizeof(err->msg)];
            memcpy(msg, err->msg, sizeof(msg));
            return err_set(err, ERR_DECODE, "`%s`.`%s` column %u (%s, type %u): %s", tm->db,
                           tm->table, i + 1, c->name ? c->name : "?", c->type, msg);
        }
        if (is_json && in->raw && !in->is_after_partial) {
            size_t lb = c->meta;
            in->raw[i] = (struct row_raw){p + lb, (uint32_t)(used - lb), true};
        }
        p += used;
        cols[nout++] = (struct change_col){i, off, (uint32_t)(text->len - off)};
    }
    if (in->object) {
        strbuf_appendc(text, '}');
        in->object[0] = obj_off;
        in->object[1] = spoiled ? 0 : (uint32_t)text->len - obj_off;
    }
    *ncols = nout;
    if (npcols)
        *npcols = npout;
    *pp = p;
    return 0;
}
