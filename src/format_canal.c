/*
 * format_canal.c — the `canal` output format: alibaba/canal's flatMessage JSON, as its Kafka
 * connector writes it with canal.mq.flatMessage=true and a partition hash (one row change per
 * message), so that canal consumers (and Flink's `canal-json` format) read sluice unchanged.
 *
 * Shape (fastjson sorts bean properties by name and writes nulls):
 *   {"data","database","es","gtid","id","isDdl","mysqlType","old","pkNames","sql","sqlType",
 *    "table","ts","type"}
 * Every value in data/old is a JSON string, or null for SQL NULL, rendered as canal renders
 * values (dbsync RowsLogBuffer + LogEventConvert): integers in decimal, FLOAT/DOUBLE as Java's
 * Float/Double.toString, DECIMAL plain with its scale, temporals as MySQL text, binary strings
 * as one char per byte (ISO-8859-1), JSON as its text. sqlType follows canal's java.sql.Types
 * choice, which depends on the value (unsigned integers above the signed range move one size
 * up; NULL binary/text columns keep the "raw" binlog type). mysqlType is the declared type as
 * MySQL 8 prints COLUMN_TYPE, rebuilt from the table map. docs/formats.md lists every rule.
 *
 * Input: the change's values are already the `json` format's JSON text (row.c); this file only
 * converts that text, using the column's type. No allocation besides the output buffer's growth,
 * except ddl_parse() for DDL statements (rare) and, once per table map, the mysqlType object of
 * a full row image, kept in the map (table_map.canal_types). Any thread, but a map's changes are
 * rendered by one thread at a time (each sink renders on its instance's thread; `sluice decode`
 * workers each have their own maps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "ddl.h"
#include "format_canal.h"
#include "mysql_types.h"
#include "table_map.h"
#include "xmalloc.h"

/* Appends a string literal (its length counted by the compiler). */
#define APPEND_LIT(sb, lit) strbuf_append((sb), (lit), sizeof(lit) - 1)

/* java.sql.Types codes canal puts in sqlType. */
enum {
    JT_BIT = -7,
    JT_TINYINT = -6,
    JT_BIGINT = -5,
    JT_LONGVARBINARY = -4,
    JT_VARBINARY = -3,
    JT_BINARY = -2,
    JT_CHAR = 1,
    JT_DECIMAL = 3,
    JT_INTEGER = 4,
    JT_SMALLINT = 5,
    JT_REAL = 7,
    JT_DOUBLE = 8,
    JT_VARCHAR = 12,
    JT_DATE = 91,
    JT_TIME = 92,
    JT_TIMESTAMP = 93,
    JT_OTHER = 1111,
    JT_BLOB = 2004,
    JT_CLOB = 2005,
};

/* ------------------------------------------------------------------------------------------ */
/* Small text helpers                                                                          */

static bool is_null_text(const char *v, uint32_t n)
{
    return n == 4 && memcmp(v, "null", 4) == 0;
}

/* Appends s[0..n) JSON-escaped without the surrounding quotes. */
static void append_json_inner(struct strbuf *out, const char *s, size_t n)
{
    size_t mark = out->len;
    strbuf_append_json_str(out, s, n);
    memmove(out->buf + mark, out->buf + mark + 1, out->len - mark - 2);
    out->len -= 2;
    out->buf[out->len] = '\0';
}

/* Appends byte b as the character U+00bb inside a JSON string (canal builds binary values with
 * new String(bytes, ISO-8859-1)). */
static void append_latin1_byte(struct strbuf *out, uint8_t b)
{
    static const char hex[] = "0123456789abcdef";
    char t[6];
    size_t n = 0;
    if (b >= 0x80) {
        t[n++] = (char)(0xc0 | (b >> 6));
        t[n++] = (char)(0x80 | (b & 0x3f));
    } else if (b == '"' || b == '\\') {
        t[n++] = '\\';
        t[n++] = (char)b;
    } else if (b < 0x20) {
        t[n++] = '\\';
        switch (b) {
        case '\b':
            t[n++] = 'b';
            break;
        case '\f':
            t[n++] = 'f';
            break;
        case '\n':
            t[n++] = 'n';
            break;
        case '\r':
            t[n++] = 'r';
            break;
        case '\t':
            t[n++] = 't';
            break;
        default:
            t[n++] = 'u';
            t[n++] = '0';
            t[n++] = '0';
            t[n++] = hex[b >> 4];
            t[n++] = hex[b & 15];
        }
    } else {
        t[n++] = (char)b;
    }
    strbuf_append(out, t, n);
}

static int b64_val(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

static int hex_val(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Appends, as a JSON string of ISO-8859-1 characters, the bytes that the quoted base64 text
 * v[0..n) (row.c's rendering of a binary string) stands for. strip_zeros: drop trailing 0x00
 * bytes (BINARY(n): the binlog carries the value without its pad, and so does canal). */
static void append_latin1_base64(struct strbuf *out, const char *v, uint32_t n, bool strip_zeros)
{
    /* Drop the quotes; the base64 alphabet needs no JSON escapes. */
    if (n >= 2 && v[0] == '"') {
        v++;
        n -= 2;
    }
    /* Decoded length, to know where trailing zeros start. */
    size_t pad = 0;
    while (pad < n && pad < 2 && v[n - 1 - pad] == '=')
        pad++;
    size_t total = (size_t)n / 4 * 3 - pad;
    size_t keep = total;
    if (strip_zeros) {
        /* Find the last non-zero byte: decode from the end group by group. */
        keep = 0;
        for (size_t g = n / 4; g-- > 0;) {
            uint32_t acc = 0;
            for (int k = 0; k < 4; k++) {
                int x = b64_val(v[g * 4 + k]);
                acc = acc << 6 | (uint32_t)(x < 0 ? 0 : x);
            }
            uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
            size_t have = g * 3 + 3 > total ? total - g * 3 : 3;
            size_t j = have;
            while (j > 0 && b[j - 1] == 0)
                j--;
            if (j > 0) {
                keep = g * 3 + j;
                break;
            }
        }
    }
    strbuf_appendc(out, '"');
    size_t done = 0;
    for (size_t i = 0; i + 4 <= n && done < keep; i += 4) {
        uint32_t acc = 0;
        for (int k = 0; k < 4; k++) {
            int x = b64_val(v[i + k]);
            acc = acc << 6 | (uint32_t)(x < 0 ? 0 : x);
        }
        uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
        for (int k = 0; k < 3 && done < keep; k++, done++)
            append_latin1_byte(out, b[k]);
    }
    strbuf_appendc(out, '"');
}

/* The same for quoted lowercase hex text (row.c's rendering of GEOMETRY). */
static void append_latin1_hex(struct strbuf *out, const char *v, uint32_t n)
{
    if (n >= 2 && v[0] == '"') {
        v++;
        n -= 2;
    }
    strbuf_appendc(out, '"');
    for (uint32_t i = 0; i + 2 <= n; i += 2) {
        int hi = hex_val(v[i]), lo = hex_val(v[i + 1]);
        append_latin1_byte(out, (uint8_t)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo)));
    }
    strbuf_appendc(out, '"');
}

/* Appends, as a JSON string, the JSON number text v[0..n) formatted as Java's Double.toString /
 * Float.toString print it (JDK 19+, shortest digits): plain with at least one fractional digit
 * when 1e-3 <= |x| < 1e7 ("5.0", "0.001", "123.456"), else computerized scientific notation
 * ("1.0E7", "1.0E-5", "-1.2345E20"). The input already has the shortest round-trip digits. */
static void append_java_float(struct strbuf *out, const char *v, uint32_t n, bool is_float)
{
    char digits[40];
    int nd = 0;
    int exp10 = 0; /* value = 0.d1d2d3... x 10^exp10 */
    bool neg = false, seen_point = false, leading = true;
    uint32_t i = 0;
    if (i < n && v[i] == '-') {
        neg = true;
        i++;
    }
    for (; i < n; i++) {
        char ch = v[i];
        if (ch == '.') {
            seen_point = true;
        } else if (ch >= '0' && ch <= '9') {
            if (leading && ch == '0') {
                if (seen_point)
                    exp10--;
                continue;
            }
            leading = false;
            if (nd < (int)sizeof(digits))
                digits[nd++] = ch;
            if (!seen_point)
                exp10++;
        } else if (ch == 'e' || ch == 'E') {
            i++;
            bool eneg = false;
            if (i < n && (v[i] == '+' || v[i] == '-'))
                eneg = v[i++] == '-';
            int e = 0;
            for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
                e = e * 10 + (v[i] - '0');
            exp10 += eneg ? -e : e;
            break;
        } else {
            break;
        }
    }
    while (nd > 0 && digits[nd - 1] == '0')
        nd--;
    if (nd == 1 && exp10 <= (is_float ? -36 : -306) && n < 40) {
        /* Java prints at least two digits, the two closest to the value: for a one-digit
         * shortest form that is d.0 except for the widely spaced subnormals (Double.MIN_VALUE
         * is "4.9E-324", not "5.0E-324"). printf's %.1e rounds the exact value to two. */
        char z[48], e2[16];
        memcpy(z, v, n);
        z[n] = '\0';
        double x = is_float ? (double)strtof(z, NULL) : strtod(z, NULL);
        snprintf(e2, sizeof(e2), "%.1e", x < 0 ? -x : x);
        if (e2[0] >= '1' && e2[0] <= '9' && e2[1] == '.' && e2[3] == 'e') {
            digits[0] = e2[0];
            digits[1] = e2[2];
            nd = digits[1] == '0' ? 1 : 2;
            exp10 = atoi(e2 + 4) + 1;
        }
    }
    char t[64];
    size_t k = 0;
    t[k++] = '"';
    if (neg)
        t[k++] = '-';
    if (nd == 0) {
        memcpy(t + k, "0.0", 3);
        k += 3;
    } else if (exp10 > -3 + 1 - 1 && exp10 <= 7) {
        /* 1e-3 <= |x| < 1e7: x = 0.D x 10^exp10 with exp10 in [-2, 7]. */
        if (exp10 <= 0) {
            t[k++] = '0';
            t[k++] = '.';
            for (int z = 0; z < -exp10; z++)
                t[k++] = '0';
            memcpy(t + k, digits, (size_t)nd);
            k += (size_t)nd;
        } else {
            for (int d = 0; d < exp10; d++)
                t[k++] = d < nd ? digits[d] : '0';
            t[k++] = '.';
            if (nd > exp10) {
                memcpy(t + k, digits + exp10, (size_t)(nd - exp10));
                k += (size_t)(nd - exp10);
            } else {
                t[k++] = '0';
            }
        }
    } else {
        t[k++] = digits[0];
        t[k++] = '.';
        if (nd > 1) {
            memcpy(t + k, digits + 1, (size_t)(nd - 1));
            k += (size_t)(nd - 1);
        } else {
            t[k++] = '0';
        }
        t[k++] = 'E';
        int e = exp10 - 1;
        if (e < 0) {
            t[k++] = '-';
            e = -e;
        }
        char eb[8];
        int ne = 0;
        do {
            eb[ne++] = (char)('0' + e % 10);
            e /= 10;
        } while (e > 0 && ne < 8);
        while (ne > 0)
            t[k++] = eb[--ne];
    }
    t[k++] = '"';
    strbuf_append(out, t, k);
}

/* ------------------------------------------------------------------------------------------ */
/* Per-column type information                                                                 */

static bool col_is_binary(const struct table_map_col *tc)
{
    return charset_is_binary(tc->collation);
}

/* The BLOB/TEXT family and VARCHAR/CHAR are told apart by the collation; canal's isText(). */
static bool col_is_blob_family(const struct table_map_col *tc)
{
    switch (tc->type) {
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_BLOB_COMPRESSED:
        return true;
    default:
        return false;
    }
}

/* True when the unsigned integer text v is above the signed maximum of the column's width:
 * canal reads the value as signed, sees it negative and moves sqlType one size up. */
static bool unsigned_overflows(const struct table_map_col *tc, const char *v, uint32_t n)
{
    if (!tc->is_unsigned || n == 0 || v[0] == '-')
        return false;
    uint64_t x = 0;
    for (uint32_t i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
        x = x * 10 + (uint64_t)(v[i] - '0'); /* wraps only beyond u64, never for our input */
    switch (tc->type) {
    case MYSQL_T_TINY:
        return x > 127;
    case MYSQL_T_SHORT:
        return x > 32767;
    case MYSQL_T_INT24:
        return x > 8388607;
    case MYSQL_T_LONG:
        return x > 2147483647;
    default:
        return x > 9223372036854775807ull;
    }
}

/* canal's sqlType for column tc holding the value text v (the `json` text; "null" for NULL). */
static int canal_sql_type(const struct table_map_col *tc, const char *v, uint32_t n)
{
    bool null = is_null_text(v, n);
    switch (tc->type) {
    case MYSQL_T_TINY:
        return !null && unsigned_overflows(tc, v, n) ? JT_SMALLINT : JT_TINYINT;
    case MYSQL_T_SHORT:
        return !null && unsigned_overflows(tc, v, n) ? JT_INTEGER : JT_SMALLINT;
    case MYSQL_T_INT24:
        return JT_INTEGER;
    case MYSQL_T_LONG:
        return !null && unsigned_overflows(tc, v, n) ? JT_BIGINT : JT_INTEGER;
    case MYSQL_T_LONGLONG:
        return !null && unsigned_overflows(tc, v, n) ? JT_DECIMAL : JT_BIGINT;
    case MYSQL_T_NEWDECIMAL:
    case MYSQL_T_DECIMAL:
        return JT_DECIMAL;
    case MYSQL_T_FLOAT:
        return JT_REAL;
    case MYSQL_T_DOUBLE:
        return JT_DOUBLE;
    case MYSQL_T_BIT:
        return JT_BIT;
    case MYSQL_T_TIMESTAMP:
    case MYSQL_T_TIMESTAMP2:
    case MYSQL_T_DATETIME:
    case MYSQL_T_DATETIME2:
        return JT_TIMESTAMP;
    case MYSQL_T_TIME:
    case MYSQL_T_TIME2:
        return JT_TIME;
    case MYSQL_T_DATE:
    case MYSQL_T_NEWDATE:
        return JT_DATE;
    case MYSQL_T_YEAR:
        return JT_VARCHAR;
    case MYSQL_T_JSON:
        return null ? JT_OTHER : JT_VARCHAR;
    case MYSQL_T_GEOMETRY:
        return null ? JT_BINARY : JT_BLOB;
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR_COMPRESSED:
        if (col_is_binary(tc))
            return null ? JT_VARBINARY : JT_BLOB;
        return JT_VARCHAR;
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET:
        if (tc->real_type == MYSQL_T_ENUM)
            return JT_INTEGER;
        if (tc->real_type == MYSQL_T_SET)
            return null ? JT_BINARY : JT_BIT;
        if (col_is_binary(tc))
            return null ? JT_BINARY : JT_BLOB;
        return JT_CHAR;
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_BLOB_COMPRESSED:
        if (null)
            return tc->meta == 1 ? JT_VARBINARY : JT_LONGVARBINARY;
        /* Unknown collation (no metadata): the binlog type says BLOB. */
        return tc->collation != 0 && !col_is_binary(tc) ? JT_CLOB : JT_BLOB;
    default:
        return JT_OTHER;
    }
}

static void append_int(struct strbuf *out, int v)
{
    if (v < 0) {
        strbuf_appendc(out, '-');
        strbuf_append_u64(out, (uint64_t) - (int64_t)v);
    } else {
        strbuf_append_u64(out, (uint64_t)v);
    }
}

/* canal sends ENUM values as their 1-based index and SET values as their bitmask, as the
 * binlog stores them (canal issues #1008, #1925): turns the member text our decoder produced
 * ("paid", "a,b") back into that number. False when a member is not found (the metadata does
 * not name the members, or a member needs JSON escapes): the text is sent instead. */
static bool
append_enum_number(struct strbuf *out, const struct table_map_col *tc, const char *v, size_t n)
{
    if (n < 2 || v[0] != '"' || tc->enums.n == 0)
        return false;
    const char *p = v + 1, *end = v + n - 1;
    uint64_t num = 0;
    if (tc->real_type == MYSQL_T_ENUM) {
        for (uint32_t k = 0; k < tc->enums.n; k++)
            if (tc->enums.len[k] == (size_t)(end - p) && memcmp(tc->enums.v[k], p, end - p) == 0) {
                num = (uint64_t)k + 1;
                break;
            }
        if (num == 0 && end > p)
            return false;
    } else {
        while (p < end) {
            const char *q = memchr(p, ',', (size_t)(end - p));
            if (q == NULL)
                q = end;
            uint32_t k;
            for (k = 0; k < tc->enums.n && k < 64; k++)
                if (tc->enums.len[k] == (size_t)(q - p) && memcmp(tc->enums.v[k], p, q - p) == 0)
                    break;
            if (k == tc->enums.n || k == 64)
                return false;
            num |= 1ull << k;
            p = q < end ? q + 1 : end;
        }
    }
    strbuf_appendc(out, '"');
    strbuf_append_u64(out, num);
    strbuf_appendc(out, '"');
    return true;
}

/* Appends an ENUM/SET member list: ('a','b'), each quote doubled, JSON-escaped. */
static void append_member_list(struct strbuf *out, const struct table_map_strs *m)
{
    strbuf_appendc(out, '(');
    for (uint32_t i = 0; i < m->n; i++) {
        if (i)
            strbuf_appendc(out, ',');
        strbuf_appendc(out, '\'');
        const char *s = m->v[i];
        size_t len = m->len[i], from = 0;
        for (size_t j = 0; j <= len; j++) {
            if (j == len || s[j] == '\'') {
                append_json_inner(out, s + from, j - from);
                if (j < len)
                    APPEND_LIT(out, "''");
                from = j + 1;
            }
        }
        strbuf_appendc(out, '\'');
    }
    strbuf_appendc(out, ')');
}

static void append_fsp(struct strbuf *out, const char *name, unsigned fsp)
{
    strbuf_appends(out, name);
    if (fsp > 0 && fsp <= 6) {
        char t[4] = {'(', (char)('0' + fsp), ')', 0};
        strbuf_append(out, t, 3);
    }
}

static void append_len(struct strbuf *out, const char *name, unsigned n)
{
    strbuf_appends(out, name);
    strbuf_appendc(out, '(');
    strbuf_append_u64(out, n);
    strbuf_appendc(out, ')');
}

static const char *const blob_names[2][5] = {
    {"", "tinytext", "text", "mediumtext", "longtext"},
    {"", "tinyblob", "blob", "mediumblob", "longblob"},
};

static const char *const geometry_names[8] = {
    "geometry",   "point",           "linestring",   "polygon",
    "multipoint", "multilinestring", "multipolygon", "geometrycollection",
};

/* Appends the column's declared type as a JSON string, as MySQL 8 prints COLUMN_TYPE. */
static void append_mysql_type(struct strbuf *out, const struct table_map_col *tc)
{
    const char *num = NULL;
    unsigned maxlen = tc->collation ? charset_maxlen(tc->collation) : 1;
    if (maxlen == 0)
        maxlen = 1;
    strbuf_appendc(out, '"');
    switch (tc->type) {
    case MYSQL_T_TINY:
        num = "tinyint";
        break;
    case MYSQL_T_SHORT:
        num = "smallint";
        break;
    case MYSQL_T_INT24:
        num = "mediumint";
        break;
    case MYSQL_T_LONG:
        num = "int";
        break;
    case MYSQL_T_LONGLONG:
        num = "bigint";
        break;
    case MYSQL_T_FLOAT:
        num = "float";
        break;
    case MYSQL_T_DOUBLE:
        num = "double";
        break;
    case MYSQL_T_NEWDECIMAL:
    case MYSQL_T_DECIMAL:
        strbuf_appends(out, "decimal(");
        strbuf_append_u64(out, tc->meta_hi);
        strbuf_appendc(out, ',');
        strbuf_append_u64(out, tc->meta);
        strbuf_appendc(out, ')');
        if (tc->is_unsigned)
            strbuf_appends(out, " unsigned");
        break;
    case MYSQL_T_YEAR:
        strbuf_appends(out, "year");
        break;
    case MYSQL_T_DATE:
    case MYSQL_T_NEWDATE:
        strbuf_appends(out, "date");
        break;
    case MYSQL_T_TIME:
        strbuf_appends(out, "time");
        break;
    case MYSQL_T_TIME2:
        append_fsp(out, "time", tc->meta);
        break;
    case MYSQL_T_DATETIME:
        strbuf_appends(out, "datetime");
        break;
    case MYSQL_T_DATETIME2:
        append_fsp(out, "datetime", tc->meta);
        break;
    case MYSQL_T_TIMESTAMP:
        strbuf_appends(out, "timestamp");
        break;
    case MYSQL_T_TIMESTAMP2:
        append_fsp(out, "timestamp", tc->meta);
        break;
    case MYSQL_T_BIT:
        append_len(out, "bit", (unsigned)tc->meta_hi * 8 + tc->meta);
        break;
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR_COMPRESSED:
        if (col_is_binary(tc))
            append_len(out, "varbinary", tc->meta);
        else
            append_len(out, "varchar", tc->meta / maxlen);
        break;
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET:
        if (tc->real_type == MYSQL_T_ENUM || tc->real_type == MYSQL_T_SET) {
            strbuf_appends(out, tc->real_type == MYSQL_T_ENUM ? "enum" : "set");
            if (tc->enums.n > 0)
                append_member_list(out, &tc->enums);
        } else if (col_is_binary(tc)) {
            append_len(out, "binary", tc->meta);
        } else {
            append_len(out, "char", tc->meta / maxlen);
        }
        break;
    case MYSQL_T_BLOB:
    case MYSQL_T_TINY_BLOB:
    case MYSQL_T_MEDIUM_BLOB:
    case MYSQL_T_LONG_BLOB:
    case MYSQL_T_BLOB_COMPRESSED: {
        unsigned lb = tc->meta >= 1 && tc->meta <= 4 ? tc->meta : 2;
        bool text = tc->collation != 0 && !col_is_binary(tc);
        strbuf_appends(out, blob_names[text ? 0 : 1][lb]);
        break;
    }
    case MYSQL_T_JSON:
        strbuf_appends(out, "json");
        break;
    case MYSQL_T_GEOMETRY:
        strbuf_appends(out, geometry_names[tc->geometry_type < 8 ? tc->geometry_type : 0]);
        break;
    case MYSQL_T_VECTOR:
        append_len(out, "vector", tc->vector_dim);
        break;
    case MYSQL_T_NULL:
        strbuf_appends(out, "null");
        break;
    default:
        strbuf_appends(out, "unknown");
    }
    if (num) {
        strbuf_appends(out, num);
        if (tc->is_unsigned)
            strbuf_appends(out, " unsigned");
    }
    strbuf_appendc(out, '"');
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                      */

/* Appends the JSON text v[0..n) as a JSON string holding that text. */
static void append_text_as_string(struct strbuf *out, const char *v, uint32_t n)
{
    strbuf_append_json_str(out, v, n);
}

/* Appends a value that is a bare JSON number or a JSON string as a JSON string. */
static void append_quoted(struct strbuf *out, const char *v, uint32_t n)
{
    if (n > 0 && v[0] == '"') {
        strbuf_append(out, v, n);
    } else {
        strbuf_appendc(out, '"');
        strbuf_append(out, v, n);
        strbuf_appendc(out, '"');
    }
}

/* Appends column tc's value (the `json` format's text v[0..n)) as canal renders it. tc may be
 * NULL (no table map): the text is then only made a string. */
static void
append_value(struct strbuf *out, const struct table_map_col *tc, const char *v, uint32_t n)
{
    if (is_null_text(v, n)) {
        APPEND_LIT(out, "null");
        return;
    }
    if (tc == NULL) {
        if (n > 0 && v[0] == '"')
            strbuf_append(out, v, n);
        else
            append_text_as_string(out, v, n);
        return;
    }
    switch (tc->type) {
    case MYSQL_T_FLOAT:
    case MYSQL_T_DOUBLE:
        append_java_float(out, v, n, tc->type == MYSQL_T_FLOAT);
        return;
    case MYSQL_T_YEAR:
        /* canal prints the zero year as "0000". */
        if (n == 1 && v[0] == '0')
            APPEND_LIT(out, "\"0000\"");
        else
            append_quoted(out, v, n);
        return;
    case MYSQL_T_NEWDECIMAL: {
        /* BigDecimal has no negative zero: "-0.00" is "0.00". */
        bool negzero = n > 2 && v[1] == '-';
        for (uint32_t i = 2; negzero && i + 1 < n; i++)
            negzero = v[i] == '0' || v[i] == '.';
        if (negzero) {
            strbuf_appendc(out, '"');
            strbuf_append(out, v + 2, n - 2);
        } else {
            append_quoted(out, v, n);
        }
        return;
    }
    case MYSQL_T_JSON:
    case MYSQL_T_VECTOR:
        append_text_as_string(out, v, n);
        return;
    case MYSQL_T_GEOMETRY:
        append_latin1_hex(out, v, n);
        return;
    case MYSQL_T_STRING:
    case MYSQL_T_ENUM:
    case MYSQL_T_SET:
        if (tc->real_type == MYSQL_T_STRING && col_is_binary(tc)) {
            append_latin1_base64(out, v, n, true);
            return;
        }
        if ((tc->real_type == MYSQL_T_ENUM || tc->real_type == MYSQL_T_SET) &&
            append_enum_number(out, tc, v, n))
            return;
        append_quoted(out, v, n);
        return;
    case MYSQL_T_VARCHAR:
    case MYSQL_T_VAR_STRING:
    case MYSQL_T_VARCHAR_COMPRESSED:
        if (col_is_binary(tc)) {
            append_latin1_base64(out, v, n, false);
            return;
        }
        append_quoted(out, v, n);
        return;
    default:
        if (col_is_blob_family(tc) && col_is_binary(tc)) {
            append_latin1_base64(out, v, n, false);
            return;
        }
        append_quoted(out, v, n);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* MySQL JSON partial updates                                                                  */

/* Skips one JSON value starting at s[i] (our own output: well formed); returns the index just
 * past it. */
static size_t skip_json_value(const char *s, size_t n, size_t i)
{
    int depth = 0;
    bool in_str = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
            if (!in_str && depth == 0)
                return i + 1;
            continue;
        }
        if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (ch == ',' && depth == 0) {
            return i;
        }
    }
    return n;
}

struct diff_op {
    const char *name; /* JSON_REPLACE, JSON_INSERT, JSON_ARRAY_INSERT, JSON_REMOVE */
    const char *path; /* the quoted JSON string */
    size_t path_len;
    const char *value; /* JSON text, NULL for remove */
    size_t value_len;
};

/* Parses the next {"op":..,"path":..,"value":..} of the diff list at s[*i]; false at the end. */
static bool next_diff(const char *s, size_t n, size_t *i, struct diff_op *d)
{
    size_t p = *i;
    while (p < n && (s[p] == '[' || s[p] == ',' || s[p] == ' '))
        p++;
    static const char op_key[] = "{\"op\":\"";
    if (p + sizeof(op_key) - 1 > n || memcmp(s + p, op_key, sizeof(op_key) - 1) != 0)
        return false;
    p += sizeof(op_key) - 1;
    size_t op = p;
    while (p < n && s[p] != '"')
        p++;
    size_t op_len = p - op;
    static const char path_key[] = "\",\"path\":";
    if (p + sizeof(path_key) - 1 > n || memcmp(s + p, path_key, sizeof(path_key) - 1) != 0)
        return false;
    p += sizeof(path_key) - 1;
    d->path = s + p;
    p = skip_json_value(s, n, p);
    d->path_len = (size_t)(s + p - d->path);
    d->value = NULL;
    d->value_len = 0;
    static const char value_key[] = ",\"value\":";
    if (p + sizeof(value_key) - 1 <= n && memcmp(s + p, value_key, sizeof(value_key) - 1) == 0) {
        p += sizeof(value_key) - 1;
        d->value = s + p;
        p = skip_json_value(s, n, p);
        d->value_len = (size_t)(s + p - d->value);
    }
    if (p < n && s[p] == '}')
        p++;
    bool array_path = d->path_len >= 2 && d->path[d->path_len - 2] == ']';
    if (op_len == 7 && memcmp(s + op, "replace", 7) == 0)
        d->name = "JSON_REPLACE";
    else if (op_len == 6 && memcmp(s + op, "remove", 6) == 0)
        d->name = "JSON_REMOVE";
    else
        d->name = array_path ? "JSON_ARRAY_INSERT" : "JSON_INSERT";
    *i = p;
    return true;
}

/* Appends, as a JSON string, the expression canal prints for a partial JSON update of column
 * tc: JSON_INSERT(JSON_REPLACE(col, '$.a', 1, '$.b', 2), '$.c', 3) — runs of the same
 * operation share one call, calls nest in diff order, paths in single quotes, values as JSON
 * text. diff[0..n) is row.c's diff list ([{"op","path","value"}...]). */
static void append_json_diff(
    struct strbuf *out, const struct table_map_col *tc, uint32_t index, const char *diff, size_t n)
{
    /* Build the expression in place, then escape it: mark where it starts. */
    size_t mark = out->len;
    struct diff_op d, next;
    size_t i = 0;
    /* Opening calls, innermost last: a call opens for each run of equal operations. */
    const char *names[64];
    unsigned nnames = 0, nops = 0;
    while (next_diff(diff, n, &i, &d)) {
        if (nops == 0 || strcmp(names[nnames - 1], d.name) != 0) {
            if (nnames < 64)
                names[nnames++] = d.name;
        }
        nops++;
    }
    for (unsigned k = nnames; k-- > 0;) {
        strbuf_appends(out, names[k]);
        strbuf_appendc(out, '(');
    }
    if (tc && tc->name) {
        strbuf_appends(out, tc->name);
    } else {
        strbuf_appendc(out, '@');
        strbuf_append_u64(out, (uint64_t)index + 1);
    }
    i = 0;
    bool have = next_diff(diff, n, &i, &d);
    while (have) {
        APPEND_LIT(out, ", '");
        /* The path is a JSON string of our own: unescape the usual escapes. */
        for (size_t k = 1; k + 1 < d.path_len; k++) {
            char ch = d.path[k];
            if (ch == '\\' && k + 2 < d.path_len)
                ch = d.path[++k];
            strbuf_appendc(out, ch);
        }
        strbuf_appendc(out, '\'');
        if (d.value) {
            APPEND_LIT(out, ", ");
            strbuf_append(out, d.value, d.value_len);
        }
        have = next_diff(diff, n, &i, &next);
        if (!have || strcmp(next.name, d.name) != 0)
            strbuf_appendc(out, ')');
        d = next;
    }
    /* Move the expression out and append it escaped as a JSON string. */
    size_t len = out->len - mark;
    if (len == 0) {
        APPEND_LIT(out, "\"\"");
        return;
    }
    /* strbuf_append_json_str may reallocate: escape from a copy kept at the buffer's end. */
    strbuf_reserve(out, len * 7 + 4);
    char *copy = out->buf + mark + len * 6 + 3;
    memmove(copy, out->buf + mark, len);
    out->len = mark;
    strbuf_append_json_str(out, copy, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Row changes                                                                                 */

static const struct table_map_col *col_of(const struct table_map *tm, uint32_t index)
{
    return tm && index < tm->ncols ? &tm->cols[index] : NULL;
}

static void append_key(struct strbuf *out, const struct table_map *tm, uint32_t index)
{
    const struct table_map_col *tc = col_of(tm, index);
    if (tc) {
        strbuf_append(out, tc->json_key, tc->json_key_len);
    } else {
        APPEND_LIT(out, "\"@");
        strbuf_append_u64(out, (uint64_t)index + 1);
        APPEND_LIT(out, "\":");
    }
}

/* Iterates the columns of the data image merged, by column index, with the partial JSON
 * columns (UPDATE with a MINIMAL before image: their value is the diff expression). */
struct col_iter {
    const struct change_image *img, *partial;
    uint32_t a, p;
};

static bool col_next(struct col_iter *it, const struct change_col **col, bool *is_partial)
{
    const struct change_col *a = it->a < it->img->ncols ? &it->img->cols[it->a] : NULL;
    const struct change_col *p =
        it->partial && it->p < it->partial->ncols ? &it->partial->cols[it->p] : NULL;
    if (!a && !p)
        return false;
    if (a && (!p || a->index <= p->index)) {
        *col = a;
        *is_partial = false;
        it->a++;
    } else {
        *col = p;
        *is_partial = true;
        it->p++;
    }
    return true;
}

static void append_row_value(struct strbuf *out,
                             const struct change *c,
                             const struct change_col *col,
                             bool is_partial)
{
    const struct table_map_col *tc = col_of(c->tmap, col->index);
    if (is_partial)
        append_json_diff(out, tc, col->index, c->text + col->off, col->len);
    else
        append_value(out, tc, c->text + col->off, col->len);
}

static void append_json_str_z(struct strbuf *out, const char *s)
{
    strbuf_append_json_str(out, s ? s : "", s ? strlen(s) : 0);
}

/* "es":..,"gtid":..,"id":.., shared by both message kinds. */
static void
append_es_gtid_id(struct strbuf *out, const struct change *c, const struct format_ctx *ctx)
{
    APPEND_LIT(out, ",\"es\":");
    strbuf_append_u64(out, (uint64_t)c->ts * 1000);
    APPEND_LIT(out, ",\"gtid\":");
    append_json_str_z(out, c->gtid);
    APPEND_LIT(out, ",\"id\":");
    strbuf_append_u64(out, ctx ? ctx->batch_id : 0);
}

static void render_row(const struct change *c, const struct format_ctx *ctx, struct strbuf *out)
{
    const struct table_map *tm = c->tmap;
    const struct change_image *img = c->kind == CHANGE_DELETE ? &c->before : &c->after;
    const struct change_image *partial = c->kind == CHANGE_UPDATE ? &c->partial : NULL;
    uint32_t ncols = img->ncols + (partial ? partial->ncols : 0);
    struct col_iter it;
    const struct change_col *col;
    bool is_partial;

    /* data */
    APPEND_LIT(out, "{\"data\":");
    if (ncols == 0) {
        APPEND_LIT(out, "null");
    } else {
        APPEND_LIT(out, "[{");
        it = (struct col_iter){img, partial, 0, 0};
        for (bool first = true; col_next(&it, &col, &is_partial); first = false) {
            if (!first)
                strbuf_appendc(out, ',');
            append_key(out, tm, col->index);
            append_row_value(out, c, col, is_partial);
        }
        APPEND_LIT(out, "}]");
    }

    APPEND_LIT(out, ",\"database\":");
    append_json_str_z(out, tm ? tm->db : c->db);
    append_es_gtid_id(out, c, ctx);
    APPEND_LIT(out, ",\"isDdl\":false");

    /* mysqlType */
    APPEND_LIT(out, ",\"mysqlType\":");
    if (ncols == 0 || tm == NULL) {
        APPEND_LIT(out, "null");
    } else if (tm->canal_types && img->ncols == tm->ncols && ncols == tm->ncols) {
        /* A full image (every column, in order): the object built for the map's first. */
        strbuf_append(out, tm->canal_types, tm->canal_types_len);
    } else {
        size_t at = out->len;
        strbuf_appendc(out, '{');
        it = (struct col_iter){img, partial, 0, 0};
        for (bool first = true; col_next(&it, &col, &is_partial); first = false) {
            if (!first)
                strbuf_appendc(out, ',');
            append_key(out, tm, col->index);
            const struct table_map_col *tc = col_of(tm, col->index);
            if (tc)
                append_mysql_type(out, tc);
            else
                APPEND_LIT(out, "\"\"");
        }
        strbuf_appendc(out, '}');
        if (img->ncols == tm->ncols && ncols == tm->ncols) {
            /* Kept with the map for its later full images: the same object every time. */
            struct table_map *mtm = (struct table_map *)tm; /* a cache, not the map's meaning */
            mtm->canal_types_len = (uint32_t)(out->len - at);
            mtm->canal_types = xmalloc(mtm->canal_types_len);
            memcpy(mtm->canal_types, out->buf + at, mtm->canal_types_len);
        }
    }

    /* old: the before values of the columns whose value changed (canal's updated=true). */
    APPEND_LIT(out, ",\"old\":");
    bool any_old = false;
    if (c->kind == CHANGE_UPDATE) {
        const struct change_image *b = &c->before, *a = &c->after;
        uint32_t j = 0;
        for (uint32_t k = 0; k < b->ncols; k++) {
            const struct change_col *bc = &b->cols[k];
            while (j < a->ncols && a->cols[j].index < bc->index)
                j++;
            if (j >= a->ncols || a->cols[j].index != bc->index)
                continue; /* not in the after image: canal has no updated flag for it */
            const struct change_col *ac = &a->cols[j];
            if (ac->len == bc->len && memcmp(c->text + ac->off, c->text + bc->off, ac->len) == 0)
                continue;
            strbuf_appends(out, any_old ? "," : "[{");
            any_old = true;
            append_key(out, tm, bc->index);
            append_value(out, col_of(tm, bc->index), c->text + bc->off, bc->len);
        }
    }
    if (any_old)
        APPEND_LIT(out, "}]");
    else
        APPEND_LIT(out, "null");

    /* pkNames: the key columns of the image, in column order. */
    APPEND_LIT(out, ",\"pkNames\":");
    bool any_pk = false;
    it = (struct col_iter){img, partial, 0, 0};
    while (tm && col_next(&it, &col, &is_partial)) {
        const struct table_map_col *tc = col_of(tm, col->index);
        if (!tc || !tc->is_pk)
            continue;
        strbuf_appendc(out, any_pk ? ',' : '[');
        any_pk = true;
        /* json_key is "name": — copy it without the colon. */
        strbuf_append(out, tc->json_key, tc->json_key_len - 1);
    }
    if (any_pk)
        strbuf_appendc(out, ']');
    else
        APPEND_LIT(out, "null");

    APPEND_LIT(out, ",\"sql\":\"\"");

    /* sqlType */
    APPEND_LIT(out, ",\"sqlType\":");
    if (ncols == 0 || tm == NULL) {
        APPEND_LIT(out, "null");
    } else {
        strbuf_appendc(out, '{');
        it = (struct col_iter){img, partial, 0, 0};
        for (bool first = true; col_next(&it, &col, &is_partial); first = false) {
            if (!first)
                strbuf_appendc(out, ',');
            append_key(out, tm, col->index);
            const struct table_map_col *tc = col_of(tm, col->index);
            append_int(out, tc ? canal_sql_type(tc, c->text + col->off, col->len) : JT_OTHER);
        }
        strbuf_appendc(out, '}');
    }

    APPEND_LIT(out, ",\"table\":");
    append_json_str_z(out, tm ? tm->table : c->table);
    APPEND_LIT(out, ",\"ts\":");
    strbuf_append_i64(out, ctx ? ctx->now_ms : 0);
    APPEND_LIT(out, ",\"type\":\"");
    strbuf_appends(out, c->kind == CHANGE_INSERT   ? "INSERT"
                        : c->kind == CHANGE_UPDATE ? "UPDATE"
                                                   : "DELETE");
    APPEND_LIT(out, "\"}");
}

/* ------------------------------------------------------------------------------------------ */
/* DDL and other statements                                                                    */

/* A word of the statement: a keyword or identifier, backquotes removed from its ends. */
struct word {
    const char *s;
    size_t n;
};

struct scan {
    const char *p, *end;
};

/* Skips blanks and comments (a MySQL executable comment's text is skipped too: it only holds
 * options in the statements that matter here). */
static void skip_blank(struct scan *sc)
{
    while (sc->p < sc->end) {
        char ch = *sc->p;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
            sc->p++;
        } else if (ch == '/' && sc->p + 1 < sc->end && sc->p[1] == '*') {
            const char *e = sc->p + 2;
            while (e + 1 < sc->end && !(e[0] == '*' && e[1] == '/'))
                e++;
            sc->p = e + 1 < sc->end ? e + 2 : sc->end;
        } else if (ch == '#' ||
                   (ch == '-' && sc->p + 2 < sc->end && sc->p[1] == '-' && sc->p[2] == ' ')) {
            while (sc->p < sc->end && *sc->p != '\n')
                sc->p++;
        } else {
            break;
        }
    }
}

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || (unsigned char)ch >= 0x80;
}

/* Reads the next word (bare or `quoted`); an empty word at anything else. */
static struct word next_word(struct scan *sc)
{
    skip_blank(sc);
    struct word w = {sc->p, 0};
    if (sc->p < sc->end && (*sc->p == '`' || *sc->p == '"')) {
        char q = *sc->p++;
        w.s = sc->p;
        while (sc->p < sc->end && *sc->p != q)
            sc->p++;
        w.n = (size_t)(sc->p - w.s);
        if (sc->p < sc->end)
            sc->p++;
        return w;
    }
    while (sc->p < sc->end && word_char(*sc->p))
        sc->p++;
    w.n = (size_t)(sc->p - w.s);
    return w;
}

static bool word_is(struct word w, const char *kw)
{
    size_t n = strlen(kw);
    if (w.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = w.s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch != kw[i])
            return false;
    }
    return true;
}

/* Reads [db.]name; the table part in *table, the db part (if any) in *db. */
static void read_qname(struct scan *sc, struct word *db, struct word *table)
{
    *db = (struct word){NULL, 0};
    *table = next_word(sc);
    skip_blank(sc);
    if (sc->p < sc->end && *sc->p == '.') {
        sc->p++;
        *db = *table;
        *table = next_word(sc);
    }
}

struct ddl_info {
    const char *type; /* canal EventType name */
    bool is_ddl;
    struct word db, table; /* from our own scan; empty when ddl_parse gave the name */
    const struct ddl_name *name;
};

/* CREATE ... INDEX / DROP INDEX: the table follows ON. */
static void scan_index_table(struct scan *sc, struct ddl_info *di)
{
    for (int guard = 0; guard < 64 && sc->p < sc->end; guard++) {
        struct word w = next_word(sc);
        if (w.n == 0) {
            sc->p++; /* punctuation, e.g. an index type's parenthesis */
            continue;
        }
        if (word_is(w, "ON")) {
            read_qname(sc, &di->db, &di->table);
            return;
        }
    }
}

/* The first clause of ALTER TABLE decides CINDEX / DINDEX over ALTER (canal takes the first
 * clause's kind for the whole statement). */
static const char *alter_clause_type(struct scan *sc)
{
    struct word w = next_word(sc);
    if (word_is(w, "ADD")) {
        w = next_word(sc);
        if (word_is(w, "INDEX") || word_is(w, "KEY") || word_is(w, "UNIQUE") ||
            word_is(w, "FULLTEXT") || word_is(w, "SPATIAL"))
            return "CINDEX";
        if (word_is(w, "CONSTRAINT")) {
            w = next_word(sc);
            if (!word_is(w, "UNIQUE"))
                w = next_word(sc);
            if (word_is(w, "UNIQUE"))
                return "CINDEX";
        }
    } else if (word_is(w, "DROP")) {
        w = next_word(sc);
        if (word_is(w, "INDEX") || word_is(w, "KEY") || word_is(w, "CONSTRAINT"))
            return "DINDEX";
    }
    return "ALTER";
}

/* Classifies the statement: canal's EventType name and the table it names. */
static void classify(const char *sql, size_t len, const struct ddl_stmt *st, struct ddl_info *di)
{
    struct scan sc = {sql, sql + len};
    struct word w = next_word(&sc);
    di->type = "QUERY";
    di->is_ddl = true;
    di->db = di->table = (struct word){NULL, 0};
    di->name = st->nnames > 0 ? &st->names[0] : NULL;
    switch (st->kind) {
    case DDL_CREATE_TABLE:
    case DDL_CREATE_LIKE:
        di->type = "CREATE";
        return;
    case DDL_DROP_TABLE:
        di->type = "ERASE";
        return;
    case DDL_RENAME_TABLE:
        /* canal names the table the first rename moves to. */
        di->type = "RENAME";
        di->name = st->nnames > 1 ? &st->names[1] : di->name;
        return;
    case DDL_TRUNCATE:
        di->type = "TRUNCATE";
        return;
    case DDL_CREATE_DB:
    case DDL_DROP_DB:
        di->name = NULL;
        return;
    default:
        break;
    }
    if (word_is(w, "ALTER")) {
        struct word w2 = next_word(&sc);
        while (word_is(w2, "ONLINE") || word_is(w2, "OFFLINE") || word_is(w2, "IGNORE"))
            w2 = next_word(&sc);
        if (word_is(w2, "TABLE")) {
            read_qname(&sc, &di->db, &di->table);
            di->name = NULL;
            di->type = alter_clause_type(&sc);
        }
        return;
    }
    if (word_is(w, "CREATE")) {
        struct word w2 = next_word(&sc);
        if (word_is(w2, "OR")) {
            next_word(&sc); /* REPLACE */
            w2 = next_word(&sc);
        }
        if (word_is(w2, "TEMPORARY"))
            w2 = next_word(&sc);
        if (word_is(w2, "TABLE")) {
            struct word w3;
            struct scan save = sc;
            w3 = next_word(&sc);
            if (word_is(w3, "IF")) {
                next_word(&sc); /* NOT */
                next_word(&sc); /* EXISTS */
            } else {
                sc = save;
            }
            read_qname(&sc, &di->db, &di->table);
            di->name = NULL;
            di->type = "CREATE";
            return;
        }
        while (word_is(w2, "UNIQUE") || word_is(w2, "FULLTEXT") || word_is(w2, "SPATIAL") ||
               word_is(w2, "ONLINE") || word_is(w2, "OFFLINE"))
            w2 = next_word(&sc);
        if (word_is(w2, "INDEX")) {
            scan_index_table(&sc, di);
            di->name = NULL;
            di->type = "CINDEX";
        }
        return;
    }
    if (word_is(w, "DROP")) {
        struct word w2 = next_word(&sc);
        while (word_is(w2, "ONLINE") || word_is(w2, "OFFLINE"))
            w2 = next_word(&sc);
        if (word_is(w2, "INDEX")) {
            scan_index_table(&sc, di);
            di->name = NULL;
            di->type = "DINDEX";
        } else if (word_is(w2, "TABLE") || word_is(w2, "TEMPORARY")) {
            di->type = "ERASE";
        }
        return;
    }
    /* DML logged as a statement: canal's parser gives it its DML type, not a DDL, and no table
     * (it keeps the DML's table as the "original" name only). */
    if (word_is(w, "INSERT") || word_is(w, "UPDATE") || word_is(w, "DELETE")) {
        di->type = word_is(w, "INSERT") ? "INSERT" : word_is(w, "UPDATE") ? "UPDATE" : "DELETE";
        di->is_ddl = false;
        di->name = NULL;
    }
}

static void
render_statement(const struct change *c, const struct format_ctx *ctx, struct strbuf *out)
{
    const char *sql = c->sql ? c->sql : "";
    size_t len = c->sql ? c->sql_len : 0;
    struct ddl_stmt st;
    ddl_parse(sql, len, &st);
    struct ddl_info di;
    classify(sql, len, &st, &di);

    APPEND_LIT(out, "{\"data\":null,\"database\":");
    if (di.db.n > 0)
        strbuf_append_json_str(out, di.db.s, di.db.n);
    else if (di.name && di.name->db)
        append_json_str_z(out, di.name->db);
    else
        append_json_str_z(out, c->db);
    append_es_gtid_id(out, c, ctx);
    strbuf_appends(out, di.is_ddl ? ",\"isDdl\":true" : ",\"isDdl\":false");
    APPEND_LIT(out, ",\"mysqlType\":null,\"old\":null,\"pkNames\":null,\"sql\":");
    strbuf_append_json_str(out, sql, len);
    APPEND_LIT(out, ",\"sqlType\":null,\"table\":");
    if (di.table.n > 0)
        strbuf_append_json_str(out, di.table.s, di.table.n);
    else if (di.name)
        append_json_str_z(out, di.name->name);
    else
        APPEND_LIT(out, "\"\"");
    APPEND_LIT(out, ",\"ts\":");
    strbuf_append_i64(out, ctx ? ctx->now_ms : 0);
    APPEND_LIT(out, ",\"type\":\"");
    strbuf_appends(out, di.type);
    APPEND_LIT(out, "\"}");
    ddl_stmt_free(&st);
}

/* ------------------------------------------------------------------------------------------ */
/* Public                                                                                      */

void format_canal_render(const struct change *c, const struct format_ctx *ctx, struct strbuf *out)
{
    if (c->kind == CHANGE_INSERT || c->kind == CHANGE_UPDATE || c->kind == CHANGE_DELETE)
        render_row(c, ctx, out);
    else
        render_statement(c, ctx, out);
}

/* append_value with format_render_pk's argument order. */
static void key_value(const struct table_map_col *tc, const char *v, size_t n, struct strbuf *out)
{
    append_value(out, tc, v, (uint32_t)n);
}

bool format_canal_key(const struct change *c, struct strbuf *out)
{
    return format_render_pk(c, key_value, out);
}
