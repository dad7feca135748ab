/*
 * format_debezium.c — the `debezium` output format: one struct change as the value of a
 * Debezium MySQL/MariaDB connector change event, as Kafka Connect's JsonConverter writes it with
 * schemas.enable=false, under Debezium's default settings (decimal.handling.mode=precise,
 * time.precision.mode=adaptive_time_microseconds, bigint.unsigned.handling.mode=long,
 * binary.handling.mode=bytes, JsonConverter decimal.format=BASE64). DDL becomes Debezium's
 * schema change event (the value of the <prefix> topic). docs/formats.md has the full mapping.
 *
 * Input: the decoder's `json` text of each column (row.c), read back here by column type. The
 * text is trusted to have row.c's shapes (numbers, "YYYY-MM-DD ...", lowercase hex, base64);
 * anything else is passed through unchanged rather than guessed at.
 *
 * Field order follows Debezium's schemas (JsonConverter writes struct fields in schema order):
 *   envelope: before, after, source, op, ts_ms, ts_us, ts_ns, transaction
 *   source:   version, connector, name, ts_ms, snapshot, db, sequence, ts_us, ts_ns, table,
 *             server_id, gtid, file, pos, row, thread, query
 *   schema change: source, ts_ms, databaseName, schemaName, ddl, tableChanges
 *
 * Performance: runs once per row on the sink path. Everything is appended straight into `out`;
 * the only allocation is strbuf growth (and, for DDL only, the DDL parser's).
 *
 * Pure functions of their arguments; any thread.
 */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "ddl.h"
#include "format_debezium.h"
#include "mysql_types.h"
#include "table_map.h"
#include "version.h"

#define SOURCE_VERSION "sluice-" SLUICE_VERSION

/* ------------------------------------------------------------------------------------------ */
/* Reading row.c's value text                                                                   */

static bool is_null_text(const char *v, size_t n)
{
    return n == 4 && memcmp(v, "null", 4) == 0;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Reads an unsigned decimal at *p (at least one digit, < 2^64); false when there is none or it
 * overflows. */
static bool read_uint(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t r = 0;
    int nd = 0;
    while (s < end && is_digit(*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (r > (UINT64_MAX - d) / 10)
            return false;
        r = r * 10 + d;
        s++;
        nd++;
    }
    if (nd == 0)
        return false;
    *p = s;
    *v = r;
    return true;
}

static bool expect(const char **p, const char *end, char ch)
{
    if (*p >= end || **p != ch)
        return false;
    (*p)++;
    return true;
}

/* Reads ".ffffff" (when present) as microseconds; the digit count is the column's fsp. */
static bool read_fraction_us(const char **p, const char *end, uint32_t *us, unsigned *ndigits)
{
    *us = 0;
    *ndigits = 0;
    if (*p >= end || **p != '.')
        return true;
    (*p)++;
    uint32_t f = 0;
    unsigned nd = 0;
    while (*p < end && is_digit(**p) && nd < 6) {
        f = f * 10 + (uint32_t)(**p - '0');
        (*p)++;
        nd++;
    }
    if (nd == 0)
        return false;
    *ndigits = nd;
    for (unsigned k = nd; k < 6; k++)
        f *= 10;
    *us = f;
    return true;
}

struct civil {
    uint64_t y, m, d, hh, mi, ss;
    uint32_t us;
};

/* "YYYY-MM-DD" */
static bool read_date(const char **p, const char *end, struct civil *t)
{
    return read_uint(p, end, &t->y) && expect(p, end, '-') && read_uint(p, end, &t->m) &&
           expect(p, end, '-') && read_uint(p, end, &t->d);
}

/* "HH:MM:SS[.f]" */
static bool read_clock(const char **p, const char *end, struct civil *t)
{
    unsigned nd;
    return read_uint(p, end, &t->hh) && expect(p, end, ':') && read_uint(p, end, &t->mi) &&
           expect(p, end, ':') && read_uint(p, end, &t->ss) &&
           read_fraction_us(p, end, &t->us, &nd);
}

/* "YYYY-MM-DD HH:MM:SS[.f]" (the quotes already stripped) */
static bool read_datetime(const char *s, const char *end, struct civil *t)
{
    return read_date(&s, end, t) && expect(&s, end, ' ') && read_clock(&s, end, t) && s == end;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil): exact for every year, no time zone, no libc. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(uint64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A date Debezium's binlog reader can represent: no zero part (MySQL's zero dates, "2020-00-00")
 * and a real calendar day. */
static bool date_is_valid(const struct civil *t)
{
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t->y == 0 || t->m == 0 || t->d == 0 || t->m > 12 || t->y > 9999)
        return false;
    if (t->d > mdays[t->m - 1] || (t->m == 2 && t->d == 29 && !is_leap(t->y)))
        return false;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                      */

/* A DATE/DATETIME Debezium cannot represent: null when the column is nullable, else the epoch
 * (Debezium's fallback for a NOT NULL column: 0 days, 0 ms/µs). */
static void append_invalid_temporal(const struct table_map_col *tc, struct strbuf *out)
{
    if (tc->nullable)
        strbuf_append(out, "null", 4);
    else
        strbuf_appendc(out, '0');
}

/* DATE -> io.debezium.time.Date: days since the epoch. */
static bool append_date(const struct table_map_col *tc, const char *s, size_t n, struct strbuf *out)
{
    struct civil t = {0};
    const char *p = s, *end = s + n;
    if (!read_date(&p, end, &t) || p != end)
        return false;
    if (!date_is_valid(&t)) {
        append_invalid_temporal(tc, out);
        return true;
    }
    strbuf_append_i64(out, days_from_civil((int64_t)t.y, (unsigned)t.m, (unsigned)t.d));
    return true;
}

/* DATETIME(0..3) -> io.debezium.time.Timestamp (ms); DATETIME(4..6) ->
 * io.debezium.time.MicroTimestamp (µs); both read as UTC. */
static bool
append_datetime(const struct table_map_col *tc, const char *s, size_t n, struct strbuf *out)
{
    struct civil t = {0};
    if (!read_datetime(s, s + n, &t))
        return false;
    if (!date_is_valid(&t)) {
        append_invalid_temporal(tc, out);
        return true;
    }
    int64_t secs = days_from_civil((int64_t)t.y, (unsigned)t.m, (unsigned)t.d) * 86400 +
                   (int64_t)(t.hh * 3600 + t.mi * 60 + t.ss);
    unsigned fsp = tc->type == MYSQL_T_DATETIME2 ? tc->meta : 0;
    if (fsp <= 3)
        strbuf_append_i64(out, secs * 1000 + t.us / 1000);
    else
        strbuf_append_i64(out, secs * 1000000 + t.us);
    return true;
}

/* TIME -> io.debezium.time.MicroTime: signed µs (MySQL's range -838:59:59 .. 838:59:59). */
static bool append_time(const char *s, size_t n, struct strbuf *out)
{
    const char *p = s, *end = s + n;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    struct civil t = {0};
    if (!read_clock(&p, end, &t) || p != end)
        return false;
    int64_t us = (int64_t)(t.hh * 3600 + t.mi * 60 + t.ss) * 1000000 + t.us;
    strbuf_append_i64(out, neg ? -us : us);
    return true;
}

/* TIMESTAMP -> io.debezium.time.ZonedTimestamp: ISO-8601 in UTC, "2018-06-20T13:37:03Z", with
 * exactly the column's fsp fraction digits (none for fsp 0), as Debezium formats it with the
 * column length as the fractional width. The zero timestamp is second 0 of the epoch, which is
 * how it is stored (and how Debezium's binlog reader reads it). */
static bool append_timestamp(const char *s, size_t n, struct strbuf *out)
{
    struct civil t = {0};
    if (!read_datetime(s, s + n, &t))
        return false;
    const char *dot = memchr(s, '.', n);
    strbuf_appendc(out, '"');
    if (t.y == 0 && t.m == 0 && t.d == 0)
        strbuf_append(out, "1970-01-01T00:00:00", 19);
    else {
        const char *sp = memchr(s, ' ', n);
        strbuf_append(out, s, (size_t)(sp - s));
        strbuf_appendc(out, 'T');
        strbuf_append(out, sp + 1, (size_t)((dot ? dot : s + n) - (sp + 1)));
    }
    if (dot)
        strbuf_append(out, dot, (size_t)(s + n - dot));
    strbuf_append(out, "Z\"", 2);
    return true;
}

/* DECIMAL -> Kafka Connect Decimal (precise): the unscaled value (the digits without the point;
 * row.c prints exactly the column's scale) as Java's BigInteger.toByteArray() gives it: the
 * shortest big-endian two's complement, then base64 by the JsonConverter. "12.34" -> 1234 ->
 * 04 D2 -> "BNI="; 0 -> 00 -> "AA=="; 128 -> 00 80 -> "AIA="; -128 -> 80 -> "gA==". */
static bool append_decimal(const char *s, size_t n, struct strbuf *out)
{
    /* 65 digits < 2^216: 7 words of magnitude, little-endian word order. */
    uint32_t mag[8] = {0};
    const char *p = s, *end = s + n;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p == end)
        return false;
    unsigned ndig = 0;
    for (; p < end; p++) {
        if (*p == '.')
            continue;
        if (!is_digit(*p) || ++ndig > 70)
            return false;
        uint64_t carry = (uint64_t)(*p - '0');
        for (int w = 0; w < 8; w++) {
            uint64_t x = (uint64_t)mag[w] * 10 + carry;
            mag[w] = (uint32_t)x;
            carry = x >> 32;
        }
    }
    uint8_t be[32];
    for (int w = 0; w < 8; w++) {
        uint32_t x = mag[7 - w];
        be[4 * w] = (uint8_t)(x >> 24);
        be[4 * w + 1] = (uint8_t)(x >> 16);
        be[4 * w + 2] = (uint8_t)(x >> 8);
        be[4 * w + 3] = (uint8_t)x;
    }
    bool zero = true;
    for (int i = 0; i < 32; i++)
        zero = zero && be[i] == 0;
    if (neg && !zero) {
        /* Two's complement over 256 bits (the magnitude is < 2^216, so the top bit ends up 1). */
        unsigned c = 1;
        for (int i = 31; i >= 0; i--) {
            unsigned x = (uint8_t)~be[i] + c;
            be[i] = (uint8_t)x;
            c = x >> 8;
        }
    }
    /* Drop sign-extension bytes while the next byte still carries the sign. */
    int i = 0;
    uint8_t ext = (neg && !zero) ? 0xff : 0x00;
    while (i < 31 && be[i] == ext && ((be[i + 1] & 0x80) == (ext & 0x80)))
        i++;
    strbuf_appendc(out, '"');
    strbuf_append_base64(out, be + i, (size_t)(32 - i));
    strbuf_appendc(out, '"');
    return true;
}

/* BIT(1) -> boolean; BIT(n > 1) -> io.debezium.data.Bits: ceil(n/8) bytes, LITTLE-endian (the
 * binlog stores them big-endian), base64. row.c printed the value as a decimal number. */
static bool append_bit(const struct table_map_col *tc, const char *v, size_t n, struct strbuf *out)
{
    const char *p = v;
    uint64_t x;
    if (!read_uint(&p, v + n, &x) || p != v + n)
        return false;
    unsigned bits = (unsigned)tc->meta_hi * 8 + tc->meta;
    if (bits <= 1) {
        strbuf_appends(out, x ? "true" : "false");
        return true;
    }
    unsigned nbytes = (bits + 7) / 8;
    uint8_t b[8];
    for (unsigned k = 0; k < nbytes && k < 8; k++)
        b[k] = (uint8_t)(x >> (8 * k));
    strbuf_appendc(out, '"');
    strbuf_append_base64(out, b, nbytes < 8 ? nbytes : 8);
    strbuf_appendc(out, '"');
    return true;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes hex h[0..2n) into b[0..n); false on a non-hex digit. */
static bool unhex(const char *h, size_t n, uint8_t *b)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Base64 of the bytes whose hex is h[0..2n), in 3-byte groups so no buffer is needed beyond the
 * stack (concatenated groups of 3 encode exactly like the whole). */
static bool append_hex_as_base64(const char *h, size_t n, struct strbuf *out)
{
    uint8_t b[768];
    while (n > 0) {
        size_t k = n < sizeof(b) ? n : sizeof(b);
        if (!unhex(h, k, b))
            return false;
        strbuf_append_base64(out, b, k);
        h += 2 * k;
        n -= k;
    }
    return true;
}

/* GEOMETRY -> io.debezium.data.geometry.Geometry {"wkb","srid"}: row.c's hex is MySQL's storage
 * (SRID, 4 bytes little-endian, then WKB); SRID 0 is Debezium's null. A POINT column (known from
 * the GEOMETRY_TYPE metadata) is io.debezium.data.geometry.Point {"x","y","wkb","srid"}. */
static bool
append_geometry(const struct table_map_col *tc, const char *h, size_t hn, struct strbuf *out)
{
    if (hn % 2 || hn < 8)
        return false;
    uint8_t head[4 + 21];
    size_t n = hn / 2;
    size_t nhead = n < sizeof(head) ? n : sizeof(head);
    if (!unhex(h, nhead, head))
        return false;
    uint32_t srid = le32(head);
    const uint8_t *wkb = head + 4;
    size_t wkb_len = n - 4;
    /* WKB point: byte order, type 1, x, y (doubles). */
    bool point = tc->geometry_type == 1 && wkb_len == 21 && (wkb[0] == 0 || wkb[0] == 1);
    uint64_t xb = 0, yb = 0;
    if (point) {
        bool le = wkb[0] == 1;
        uint32_t type = le ? le32(wkb + 1) : (uint32_t)be_n(wkb + 1, 4);
        xb = le ? le64(wkb + 5) : be_n(wkb + 5, 8);
        yb = le ? le64(wkb + 13) : be_n(wkb + 13, 8);
        point = type == 1;
    }
    strbuf_appendc(out, '{');
    if (point) {
        double x, y;
        memcpy(&x, &xb, 8);
        memcpy(&y, &yb, 8);
        strbuf_append(out, "\"x\":", 4);
        strbuf_append_double(out, x);
        strbuf_append(out, ",\"y\":", 5);
        strbuf_append_double(out, y);
        strbuf_appendc(out, ',');
    }
    strbuf_append(out, "\"wkb\":\"", 7);
    if (!append_hex_as_base64(h + 8, wkb_len, out))
        return false;
    strbuf_append(out, "\",\"srid\":", 9);
    if (srid)
        strbuf_append_u64(out, srid);
    else
        strbuf_append(out, "null", 4);
    strbuf_appendc(out, '}');
    return true;
}

/* MySQL JSON -> io.debezium.data.Json: a string holding the document's text. Debezium's binlog
 * reader writes it without the ", " / ": " spaces MySQL (and row.c) put in, so whitespace outside
 * strings is dropped while the text is escaped into the string. */
static void append_json_doc(const char *v, size_t n, struct strbuf *out)
{
    strbuf_reserve(out, n + 2);
    strbuf_appendc(out, '"');
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (!in_str && (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r'))
            continue;
        if (ch == '"') {
            in_str = !in_str;
            strbuf_append(out, "\\\"", 2);
        } else if (ch == '\\') {
            strbuf_append(out, "\\\\", 2);
            /* Inside a string a backslash escapes the next character (maybe a quote). */
            if (in_str && i + 1 < n) {
                i++;
                if (v[i] == '"' || v[i] == '\\')
                    strbuf_appendc(out, '\\');
                strbuf_appendc(out, v[i]);
            }
        } else {
            strbuf_appendc(out, ch);
        }
    }
    strbuf_appendc(out, '"');
}

/* Integers: row.c's number, except BIGINT UNSIGNED above 2^63-1, which Debezium's default
 * bigint.unsigned.handling.mode=long delivers as the same 64 bits read as a signed long. */
static bool
append_integer(const struct table_map_col *tc, const char *v, size_t n, struct strbuf *out)
{
    if (tc->type == MYSQL_T_LONGLONG && tc->is_unsigned && n >= 19 && is_digit(v[0])) {
        const char *p = v;
        uint64_t x;
        if (!read_uint(&p, v + n, &x) || p != v + n)
            return false;
        strbuf_append_i64(out, (int64_t)x);
        return true;
    }
    strbuf_append(out, v, n);
    return true;
}

/* YEAR -> int. Debezium's binlog reader takes the stored byte as 1900 + b, so the zero year
 * (stored 0, row.c's 0) comes out as 1900. */
static bool append_year(const char *v, size_t n, struct strbuf *out)
{
    if (n == 1 && v[0] == '0')
        strbuf_append(out, "1900", 4);
    else
        strbuf_append(out, v, n);
    return true;
}

/* Appends column tc's value v[0..n) (row.c's JSON text) in Debezium's mapping. */
static void
append_value(const struct table_map_col *tc, const char *v, size_t n, struct strbuf *out)
{
    if (is_null_text(v, n)) {
        strbuf_append(out, "null", 4);
        return;
    }
    bool quoted = n >= 2 && v[0] == '"' && v[n - 1] == '"';
    const char *s = v + 1;
    size_t sn = n >= 2 ? n - 2 : 0;
    size_t mark = out->len;
    bool ok = true;
    switch (tc->type) {
    case MYSQL_T_TINY:
    case MYSQL_T_SHORT:
    case MYSQL_T_INT24:
    case MYSQL_T_LONG:
    case MYSQL_T_LONGLONG:
        ok = append_integer(tc, v, n, out);
        break;
    case MYSQL_T_YEAR:
        ok = append_year(v, n, out);
        break;
    case MYSQL_T_NEWDECIMAL:
        ok = quoted && append_decimal(s, sn, out);
        break;
    case MYSQL_T_DATE:
    case MYSQL_T_NEWDATE:
        ok = quoted && append_date(tc, s, sn, out);
        break;
    case MYSQL_T_DATETIME:
    case MYSQL_T_DATETIME2:
        ok = quoted && append_datetime(tc, s, sn, out);
        break;
    case MYSQL_T_TIME:
    case MYSQL_T_TIME2:
        ok = quoted && append_time(s, sn, out);
        break;
    case MYSQL_T_TIMESTAMP:
    case MYSQL_T_TIMESTAMP2:
        ok = quoted && append_timestamp(s, sn, out);
        break;
    case MYSQL_T_BIT:
        ok = append_bit(tc, v, n, out);
        break;
    case MYSQL_T_GEOMETRY:
        ok = quoted && append_geometry(tc, s, sn, out);
        break;
    case MYSQL_T_JSON:
        append_json_doc(v, n, out);
        break;
    default:
        /* Integers' and floats' numbers, strings (text, or base64 for binary), ENUM/SET
         * members, VECTOR arrays: already what the JsonConverter writes. */
        strbuf_append(out, v, n);
        break;
    }
    if (!ok) {
        /* Not row.c's shape (cannot happen with the decoder's text): keep the value as is. */
        strbuf_truncate(out, mark);
        strbuf_append(out, v, n);
    }
}

static void append_key_name(const struct table_map *tm, uint32_t index, struct strbuf *out)
{
    if (tm && index < tm->ncols) {
        strbuf_append(out, tm->cols[index].json_key, tm->cols[index].json_key_len);
    } else {
        strbuf_append(out, "\"@", 2);
        strbuf_append_u64(out, (uint64_t)index + 1);
        strbuf_append(out, "\":", 2);
    }
}

/* A row image as a JSON object in Debezium's mapping; columns absent from the image are absent
 * from the object. */
static void append_image(const struct change *c, const struct change_image *img, struct strbuf *out)
{
    const struct table_map *tm = c->tmap;
    strbuf_appendc(out, '{');
    for (uint32_t i = 0; i < img->ncols; i++) {
        const struct change_col *col = &img->cols[i];
        if (i)
            strbuf_appendc(out, ',');
        append_key_name(tm, col->index, out);
        if (tm && col->index < tm->ncols)
            append_value(&tm->cols[col->index], c->text + col->off, col->len, out);
        else
            strbuf_append(out, c->text + col->off, col->len);
    }
    strbuf_appendc(out, '}');
}

/* ------------------------------------------------------------------------------------------ */
/* Envelope                                                                                    */

static void append_str(struct strbuf *out, const char *s)
{
    if (s)
        strbuf_append_json_str(out, s, strlen(s));
    else
        strbuf_append(out, "null", 4);
}

/* True when the change came from MariaDB (the decoder knows it from the format description;
 * changes built by hand without it: the table map, or a MariaDB GTID, domain-server-seq). */
static bool from_mariadb(const struct change *c)
{
    if (c->mariadb)
        return true;
    if (c->tmap)
        return c->tmap->mariadb;
    return c->gtid && c->gtid[0] && strchr(c->gtid, ':') == NULL && strchr(c->gtid, '-');
}

/* The "source" block; table NULL prints null. */
static void append_source(const struct change *c,
                          const struct format_ctx *ctx,
                          const char *table,
                          struct strbuf *out)
{
    uint64_t ts = c->ts;
    strbuf_append(out, "\"source\":{\"version\":\"" SOURCE_VERSION "\",\"connector\":",
                  sizeof("\"source\":{\"version\":\"" SOURCE_VERSION "\",\"connector\":") - 1);
    strbuf_appends(out, from_mariadb(c) ? "\"mariadb\"" : "\"mysql\"");
    strbuf_append(out, ",\"name\":", 8);
    append_str(out, ctx && ctx->instance ? ctx->instance : "");
    strbuf_append(out, ",\"ts_ms\":", 9);
    strbuf_append_u64(out, ts * 1000);
    strbuf_append(out, ",\"snapshot\":\"false\",\"db\":", 25);
    append_str(out, c->db ? c->db : "");
    strbuf_append(out, ",\"sequence\":null,\"ts_us\":", 25);
    strbuf_append_u64(out, ts * 1000000);
    strbuf_append(out, ",\"ts_ns\":", 9);
    strbuf_append_u64(out, ts * 1000000000);
    strbuf_append(out, ",\"table\":", 9);
    append_str(out, table);
    strbuf_append(out, ",\"server_id\":", 13);
    strbuf_append_u64(out, c->server_id);
    strbuf_append(out, ",\"gtid\":", 8);
    append_str(out, c->gtid);
    strbuf_append(out, ",\"file\":", 8);
    append_str(out, c->file ? c->file : "");
    strbuf_append(out, ",\"pos\":", 7);
    strbuf_append_u64(out, c->pos);
    strbuf_append(out, ",\"row\":", 7);
    strbuf_append_u64(out, c->row);
    strbuf_append(out, ",\"thread\":null,\"query\":null}", 28);
}

static void render_row(const struct change *c, const struct format_ctx *ctx, struct strbuf *out)
{
    strbuf_append(out, "{\"before\":", 10);
    if (c->kind == CHANGE_INSERT)
        strbuf_append(out, "null", 4);
    else
        append_image(c, &c->before, out);
    strbuf_append(out, ",\"after\":", 9);
    if (c->kind == CHANGE_DELETE)
        strbuf_append(out, "null", 4);
    else
        append_image(c, &c->after, out);
    strbuf_appendc(out, ',');
    append_source(c, ctx, c->table ? c->table : (c->tmap ? c->tmap->table : ""), out);
    const char *op = c->kind == CHANGE_INSERT ? "c" : c->kind == CHANGE_UPDATE ? "u" : "d";
    strbuf_append(out, ",\"op\":\"", 7);
    strbuf_appends(out, op);
    int64_t now = ctx ? ctx->now_ms : 0;
    strbuf_append(out, "\",\"ts_ms\":", 10);
    strbuf_append_i64(out, now);
    strbuf_append(out, ",\"ts_us\":", 9);
    strbuf_append_i64(out, now * 1000);
    strbuf_append(out, ",\"ts_ns\":", 9);
    strbuf_append_i64(out, now * 1000000);
    strbuf_append(out, ",\"transaction\":null}", 20);
}

/* source.table of a schema change: the tables the statement names, joined with ',' as
 * Debezium's source info joins the table ids of a table event. Fills t (caller frees); returns
 * false for a statement on no table (source.table null). */
static bool ddl_tables(const struct change *c, struct strbuf *t)
{
    struct ddl_stmt st;
    ddl_parse(c->sql ? c->sql : "", c->sql ? c->sql_len : 0, &st);
    uint32_t n = st.nnames;
    switch (st.kind) {
    case DDL_CREATE_LIKE: /* names[1] is the model, not a changed table */
        n = n > 1 ? 1 : n;
        break;
    case DDL_NONE:
    case DDL_CREATE_DB:
    case DDL_DROP_DB:
        n = 0;
        break;
    default:
        break;
    }
    uint32_t added = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = st.names[i].name;
        if (!name || !name[0])
            continue;
        /* Once each (RENAME a TO b, b TO c names b twice). */
        bool dup = false;
        for (uint32_t k = 0; k < i && !dup; k++)
            dup = st.names[k].name && strcmp(st.names[k].name, name) == 0;
        if (dup)
            continue;
        if (added++)
            strbuf_appendc(t, ',');
        strbuf_appends(t, name);
    }
    ddl_stmt_free(&st);
    return added > 0;
}

static void render_ddl(const struct change *c, const struct format_ctx *ctx, struct strbuf *out)
{
    struct strbuf tables = {0};
    bool has_tables = ddl_tables(c, &tables);
    strbuf_appendc(out, '{');
    append_source(c, ctx, has_tables ? tables.buf : NULL, out);
    strbuf_free(&tables);
    strbuf_append(out, ",\"ts_ms\":", 9);
    strbuf_append_i64(out, ctx ? ctx->now_ms : 0);
    strbuf_append(out, ",\"databaseName\":", 16);
    append_str(out, c->db ? c->db : "");
    strbuf_append(out, ",\"schemaName\":null,\"ddl\":", 25);
    if (c->sql)
        strbuf_append_json_str(out, c->sql, c->sql_len);
    else
        strbuf_append(out, "\"\"", 2);
    strbuf_append(out, ",\"tableChanges\":[]}", 19);
}

void format_debezium_render(const struct change *c,
                            const struct format_ctx *ctx,
                            struct strbuf *out)
{
    switch (c->kind) {
    case CHANGE_INSERT:
    case CHANGE_UPDATE:
    case CHANGE_DELETE:
        render_row(c, ctx, out);
        return;
    default:
        /* DDL, and any other statement a sink is given, as a schema change event. */
        render_ddl(c, ctx, out);
        return;
    }
}

bool format_debezium_key(const struct change *c, struct strbuf *out)
{
    if (c->kind != CHANGE_INSERT && c->kind != CHANGE_UPDATE && c->kind != CHANGE_DELETE)
        return false;
    return format_render_pk(c, append_value, out);
}
