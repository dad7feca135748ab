/*
 * json_binary.c — MySQL's binary JSON to text; PARTIAL_UPDATE_ROWS JSON diffs.
 *
 * Binary format (MySQL sql-common/json_binary.h): a document is one type byte and a value.
 *   0x00/0x01 small/large object, 0x02/0x03 small/large array:
 *       count, size (2 bytes each in the small format, 4 in the large), then for objects
 *       `count` key entries {key offset (2|4), key length (2)}, then `count` value entries
 *       {type (1), offset-or-inlined value (2|4)}, then the keys and values themselves. Offsets
 *       are relative to the first byte after the container's type byte; `size` covers the
 *       whole container. Literals, int16 and uint16 are inlined in the value entry (the large
 *       format also inlines int32 and uint32).
 *   0x04 literal (0 null, 1 true, 2 false), 0x05 int16, 0x06 uint16, 0x07 int32, 0x08 uint32,
 *   0x09 int64, 0x0a uint64, 0x0b double: little-endian.
 *   0x0c string: variable-length size (7 bits per byte, low group first, high bit = more, at
 *       most 5 bytes), then UTF-8 bytes.
 *   0x0f opaque: MySQL field type (1 byte), variable-length size, bytes.
 * Diff vectors (sql/json_diff.h, Json_diff_vector::write_binary) are described in
 * json_binary.h.
 *
 * Invariants: every read is bounds-checked against the region of the value being read (a
 * container's declared size, itself checked against its parent's); recursion is bounded by
 * JSON_BINARY_MAX_DEPTH; output is bounded by OUT_PER_BYTE bytes per input byte, which bounds
 * the work a malicious document with shared/overlapping offsets can cause. On error the output
 * buffer is truncated back to where the call started.
 *
 * Applying diffs uses a small lazily expanded tree: every node starts as a reference to binary
 * bytes and only the containers on a diff's path are expanded into member lists, so an update
 * that touches one key of a large document copies nothing else. Tree memory is tracked in an
 * arena freed at the end of the call. Pure functions, any thread.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "bytes.h"
#include "json_binary.h"
#include "xmalloc.h"

enum {
    JT_SMALL_OBJ = 0x00,
    JT_LARGE_OBJ = 0x01,
    JT_SMALL_ARR = 0x02,
    JT_LARGE_ARR = 0x03,
    JT_LITERAL = 0x04,
    JT_INT16 = 0x05,
    JT_UINT16 = 0x06,
    JT_INT32 = 0x07,
    JT_UINT32 = 0x08,
    JT_INT64 = 0x09,
    JT_UINT64 = 0x0a,
    JT_DOUBLE = 0x0b,
    JT_STRING = 0x0c,
    JT_OPAQUE = 0x0f,
};

/* MySQL field types that opaque JSON values carry and we render specially. */
enum {
    FT_TIMESTAMP = 7,
    FT_DATE = 10,
    FT_TIME = 11,
    FT_DATETIME = 12,
    FT_NEWDECIMAL = 246,
};

enum { DIFF_REPLACE = 0, DIFF_INSERT = 1, DIFF_REMOVE = 2 };

/* Output may grow by at most this many bytes per input byte (see the header comment). The
 * densest valid encodings (an opaque DATETIME: 10 bytes -> 28 characters, a control character
 * in a string: 1 byte -> 6) stay well below it. */
#define OUT_PER_BYTE 16
#define OUT_SLACK    256

/* ------------------------------------------------------------------------------------------ */
/* Reading binary values                                                                       */

struct ctx {
    const uint8_t *base; /* start of the binary being read, for offsets in messages */
    char what[48];       /* "json" or "json diff 2 value", prefix of messages */
    struct strbuf *out;
    size_t out_start; /* out->len when the call started */
    size_t out_limit; /* maximum bytes this call may append */
    struct err *err;
};

/* A binary value: its type and the bytes from its first byte to the end of the region that
 * encloses it (an inlined value's region is its value entry field). */
struct jval {
    uint8_t type;
    const uint8_t *data;
    size_t avail;
};

/* An opened object or array with its header checked. */
struct jcont {
    const uint8_t *data;
    size_t size;     /* declared size, <= the enclosing region */
    size_t hdr_size; /* count/size fields plus all entries */
    uint32_t count;  /* elements */
    size_t off_size; /* 2 or 4 */
    int is_obj;
};

static size_t offset_of(const struct ctx *c, const uint8_t *p)
{
    return (size_t)(p - c->base);
}

static int is_container(uint8_t type)
{
    return type <= JT_LARGE_ARR;
}

/* Types stored inside the value entry instead of at an offset. */
static int is_inlined(uint8_t type, int large)
{
    switch (type) {
    case JT_LITERAL:
    case JT_INT16:
    case JT_UINT16:
        return 1;
    case JT_INT32:
    case JT_UINT32:
        return large;
    default:
        return 0;
    }
}

/* Reads a variable-length size (at most 5 bytes, value <= UINT32_MAX) at p, at most avail
 * bytes. Returns the bytes used, or 0 when malformed. */
static size_t read_varlen(const uint8_t *p, size_t avail, uint32_t *len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (v > UINT32_MAX)
                return 0;
            *len = (uint32_t)v;
            return i + 1;
        }
    }
    return 0;
}

static int cont_open(struct ctx *c, const struct jval *v, struct jcont *k)
{
    int large = v->type == JT_LARGE_OBJ || v->type == JT_LARGE_ARR;
    const char *kind = v->type == JT_SMALL_OBJ || v->type == JT_LARGE_OBJ ? "object" : "array";
    k->data = v->data;
    k->off_size = large ? 4 : 2;
    k->is_obj = v->type == JT_SMALL_OBJ || v->type == JT_LARGE_OBJ;
    if (v->avail < 2 * k->off_size)
        return err_set(c->err, ERR_DECODE, "%s: %s header at offset %zu past end %zu", c->what,
                       kind, offset_of(c, v->data), offset_of(c, v->data + v->avail));
    k->count = large ? le32(v->data) : le16(v->data);
    k->size = large ? le32(v->data + 4) : le16(v->data + 2);
    if (k->size > v->avail)
        return err_set(c->err, ERR_DECODE, "%s: %s at offset %zu size %zu past end %zu", c->what,
                       kind, offset_of(c, v->data), k->size, offset_of(c, v->data + v->avail));
    uint64_t entry = (uint64_t)(k->is_obj ? k->off_size + 2 : 0) + 1 + k->off_size;
    uint64_t hdr = 2 * (uint64_t)k->off_size + entry * k->count;
    if (hdr > k->size)
        return err_set(c->err, ERR_DECODE, "%s: %s at offset %zu: %u entries do not fit size %zu",
                       c->what, kind, offset_of(c, v->data), k->count, k->size);
    k->hdr_size = (size_t)hdr;
    return 0;
}

static int
cont_key(struct ctx *c, const struct jcont *k, uint32_t i, const uint8_t **key, size_t *klen)
{
    const uint8_t *e = k->data + 2 * k->off_size + (size_t)i * (k->off_size + 2);
    size_t off = k->off_size == 4 ? le32(e) : le16(e);
    size_t len = le16(e + k->off_size);
    if (off < k->hdr_size || off > k->size || len > k->size - off)
        return err_set(c->err, ERR_DECODE, "%s: object key %u offset %zu length %zu past end %zu",
                       c->what, i, offset_of(c, k->data + off), len,
                       offset_of(c, k->data + k->size));
    *key = k->data + off;
    *klen = len;
    return 0;
}

static int cont_value(struct ctx *c, const struct jcont *k, uint32_t i, struct jval *v)
{
    size_t keys = k->is_obj ? (size_t)k->count * (k->off_size + 2) : 0;
    const uint8_t *e = k->data + 2 * k->off_size + keys + (size_t)i * (1 + k->off_size);
    v->type = e[0];
    if (is_inlined(v->type, k->off_size == 4)) {
        v->data = e + 1;
        v->avail = k->off_size;
        return 0;
    }
    size_t off = k->off_size == 4 ? le32(e + 1) : le16(e + 1);
    if (off < k->hdr_size || off >= k->size)
        return err_set(c->err, ERR_DECODE, "%s: %s entry %u offset %zu %s %zu", c->what,
                       k->is_obj ? "object" : "array", i, offset_of(c, k->data + off),
                       off < k->hdr_size ? "inside header ending at" : "past end",
                       offset_of(c, k->data + (off < k->hdr_size ? k->hdr_size : k->size)));
    v->data = k->data + off;
    v->avail = k->size - off;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Rendering scalars                                                                           */

/* Appends d as MySQL prints a JSON double (my_gcvt with its widest field, then ".0" when the
 * text would read back as an integer): the shortest round-trip digits, fixed notation when the
 * decimal exponent is in [-14, 15] (or the digits reach past the point), otherwise
 * "d.ddde[-]N" without '+' or exponent padding: 1e100, 1.5e-20. */
static void append_mysql_double(struct strbuf *sb, double d)
{
    if (!isfinite(d)) { /* not representable in JSON; MySQL never stores these */
        strbuf_appends(sb, "null");
        return;
    }
    if (d == 0) {
        strbuf_appends(sb, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is "[-]D[.DDD]e(+|-)XX": collect the digits and the exponent. */
    char digits[24];
    int len = 0;
    const char *s = tmp;
    int neg = *s == '-';
    if (neg)
        s++;
    for (; *s && *s != 'e'; s++) {
        if (*s != '.')
            digits[len++] = *s;
    }
    int exp10 = atoi(s + 1);
    while (len > 1 && digits[len - 1] == '0')
        len--;
    int decpt = exp10 + 1; /* the value is 0.DIGITS * 10^decpt */

    if (neg)
        strbuf_appendc(sb, '-');
    if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
        if (decpt <= 0) {
            strbuf_appends(sb, "0.");
            for (int i = decpt; i < 0; i++)
                strbuf_appendc(sb, '0');
            strbuf_append(sb, digits, (size_t)len);
        } else if (decpt < len) {
            strbuf_append(sb, digits, (size_t)decpt);
            strbuf_appendc(sb, '.');
            strbuf_append(sb, digits + decpt, (size_t)(len - decpt));
        } else {
            strbuf_append(sb, digits, (size_t)len);
            for (int i = len; i < decpt; i++)
                strbuf_appendc(sb, '0');
            strbuf_appends(sb, ".0");
        }
    } else {
        strbuf_appendc(sb, digits[0]);
        if (len > 1) {
            strbuf_appendc(sb, '.');
            strbuf_append(sb, digits + 1, (size_t)(len - 1));
        }
        strbuf_printf(sb, "e%d", decpt - 1);
    }
}

/* Opaque temporals hold MySQL's packed in-memory time (my_time.h, TIME_to_longlong_*_packed):
 * for dates and datetimes |v| = ((ymd << 17 | hms) << 24) + microseconds with
 * ymd = (year * 13 + month) << 5 | day and hms = hour << 12 | minute << 6 | second; for times
 * |v| = (hms << 24) + microseconds with a 10-bit hour. A negative v is a negative value. */
static int render_temporal(struct ctx *c, uint8_t ftype, const uint8_t *p, uint32_t len)
{
    if (len != 8)
        return err_set(c->err, ERR_DECODE,
                       "%s: opaque temporal type %u at offset %zu has %u bytes, not 8", c->what,
                       ftype, offset_of(c, p), len);
    int64_t v = (int64_t)le64(p);
    int neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned usec = (unsigned)(u & 0xffffff);
    uint64_t packed = u >> 24;
    char buf[64];
    if (ftype == FT_TIME) {
        unsigned hour = (unsigned)(packed >> 12) & 0x3ff;
        unsigned minute = (unsigned)(packed >> 6) & 0x3f;
        unsigned second = (unsigned)packed & 0x3f;
        snprintf(buf, sizeof(buf), "%s%02u:%02u:%02u.%06u", neg ? "-" : "", hour, minute, second,
                 usec);
    } else {
        uint64_t ymd = packed >> 17;
        unsigned hms = (unsigned)(packed & 0x1ffff);
        unsigned day = (unsigned)(ymd & 0x1f);
        unsigned month = (unsigned)((ymd >> 5) % 13);
        unsigned year = (unsigned)((ymd >> 5) / 13);
        if (ftype == FT_DATE)
            snprintf(buf, sizeof(buf), "%s%04u-%02u-%02u", neg ? "-" : "", year, month, day);
        else
            snprintf(buf, sizeof(buf), "%s%04u-%02u-%02u %02u:%02u:%02u.%06u", neg ? "-" : "", year,
                     month, day, hms >> 12, (hms >> 6) & 0x3f, hms & 0x3f, usec);
    }
    strbuf_append_json_str(c->out, buf, strlen(buf));
    return 0;
}

static int render_opaque(struct ctx *c, const struct jval *v)
{
    if (v->avail < 1)
        return err_set(c->err, ERR_DECODE, "%s: opaque at offset %zu past end", c->what,
                       offset_of(c, v->data));
    uint8_t ftype = v->data[0];
    uint32_t len;
    size_t hl = read_varlen(v->data + 1, v->avail - 1, &len);
    if (hl == 0 || len > v->avail - 1 - hl)
        return err_set(c->err, ERR_DECODE, "%s: opaque at offset %zu: bad length", c->what,
                       offset_of(c, v->data));
    const uint8_t *p = v->data + 1 + hl;
    switch (ftype) {
    case FT_NEWDECIMAL:
        if (len < 2)
            return err_set(c->err, ERR_DECODE, "%s: opaque decimal at offset %zu too short",
                           c->what, offset_of(c, v->data));
        struct err derr = {0};
        if (decimal_bin_to_str(p + 2, len - 2, p[0], p[1], c->out, &derr) != 0)
            return err_set(c->err, ERR_DECODE, "%s: opaque at offset %zu: %s", c->what,
                           offset_of(c, v->data), derr.msg);
        return 0;
    case FT_DATE:
    case FT_TIME:
    case FT_DATETIME:
    case FT_TIMESTAMP:
        return render_temporal(c, ftype, p, len);
    default:
        strbuf_printf(c->out, "\"base64:type%u:", ftype);
        strbuf_append_base64(c->out, p, len);
        strbuf_appendc(c->out, '"');
        return 0;
    }
}

static int render(struct ctx *c, const struct jval *v, int depth);

static int render_container(struct ctx *c, const struct jval *v, int depth)
{
    if (depth > JSON_BINARY_MAX_DEPTH)
        return err_set(c->err, ERR_DECODE, "%s: nesting deeper than %d at offset %zu", c->what,
                       JSON_BINARY_MAX_DEPTH, offset_of(c, v->data));
    struct jcont k;
    int rc = cont_open(c, v, &k);
    if (rc)
        return rc;
    strbuf_appendc(c->out, k.is_obj ? '{' : '[');
    for (uint32_t i = 0; i < k.count; i++) {
        if (i)
            strbuf_append(c->out, ", ", 2);
        if (k.is_obj) {
            const uint8_t *key;
            size_t klen;
            if ((rc = cont_key(c, &k, i, &key, &klen)))
                return rc;
            strbuf_append_json_str(c->out, (const char *)key, klen);
            strbuf_append(c->out, ": ", 2);
        }
        struct jval child;
        if ((rc = cont_value(c, &k, i, &child)) || (rc = render(c, &child, depth + 1)))
            return rc;
    }
    strbuf_appendc(c->out, k.is_obj ? '}' : ']');
    return 0;
}

/* Appends the text of v; depth is the nesting level of v (the document root is 1). */
static int render(struct ctx *c, const struct jval *v, int depth)
{
    static const size_t width[] = {
        [JT_LITERAL] = 1, [JT_INT16] = 2, [JT_UINT16] = 2, [JT_INT32] = 4,
        [JT_UINT32] = 4,  [JT_INT64] = 8, [JT_UINT64] = 8, [JT_DOUBLE] = 8};
    if (c->out->len - c->out_start > c->out_limit)
        return err_set(c->err, ERR_DECODE,
                       "%s: text longer than %d bytes per input byte (shared offsets?)", c->what,
                       OUT_PER_BYTE);
    if (is_container(v->type))
        return render_container(c, v, depth);
    if (v->type >= JT_LITERAL && v->type <= JT_DOUBLE && v->avail < width[v->type])
        return err_set(c->err, ERR_DECODE, "%s: value type 0x%02x at offset %zu past end", c->what,
                       v->type, offset_of(c, v->data));
    const uint8_t *p = v->data;
    switch (v->type) {
    case JT_LITERAL:
        if (p[0] > 2)
            return err_set(c->err, ERR_DECODE, "%s: bad literal %u at offset %zu", c->what, p[0],
                           offset_of(c, p));
        strbuf_appends(c->out, p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
        return 0;
    case JT_INT16:
        strbuf_append_i64(c->out, (int16_t)le16(p));
        return 0;
    case JT_UINT16:
        strbuf_append_u64(c->out, le16(p));
        return 0;
    case JT_INT32:
        strbuf_append_i64(c->out, (int32_t)le32(p));
        return 0;
    case JT_UINT32:
        strbuf_append_u64(c->out, le32(p));
        return 0;
    case JT_INT64:
        strbuf_append_i64(c->out, (int64_t)le64(p));
        return 0;
    case JT_UINT64:
        strbuf_append_u64(c->out, le64(p));
        return 0;
    case JT_DOUBLE: {
        double d;
        uint64_t bits = le64(p);
        memcpy(&d, &bits, sizeof(d));
        append_mysql_double(c->out, d);
        return 0;
    }
    case JT_STRING: {
        uint32_t len;
        size_t hl = read_varlen(p, v->avail, &len);
        if (hl == 0 || len > v->avail - hl)
            return err_set(c->err, ERR_DECODE, "%s: string at offset %zu: bad length", c->what,
                           offset_of(c, p));
        strbuf_append_json_str(c->out, (const char *)p + hl, len);
        return 0;
    }
    case JT_OPAQUE:
        return render_opaque(c, v);
    default:
        return err_set(c->err, ERR_DECODE, "%s: unknown value type 0x%02x at offset %zu", c->what,
                       v->type, offset_of(c, p) > 0 ? offset_of(c, p) - 1 : 0);
    }
}

static void
ctx_init(struct ctx *c, const uint8_t *base, size_t in_len, struct strbuf *out, struct err *err)
{
    c->base = base;
    snprintf(c->what, sizeof(c->what), "json");
    c->out = out;
    c->out_start = out->len;
    c->out_limit = in_len * OUT_PER_BYTE + OUT_SLACK;
    c->err = err;
}

/* Renders the binary document [p, p+n) (type byte first; empty = null). */
static int render_doc(struct ctx *c, const uint8_t *p, size_t n)
{
    if (n == 0) {
        strbuf_appends(c->out, "null");
        return 0;
    }
    struct jval v = {p[0], p + 1, n - 1};
    return render(c, &v, 1);
}

int json_binary_to_text(const uint8_t *p, size_t n, struct strbuf *out, struct err *err)
{
    struct ctx c;
    ctx_init(&c, p, n, out, err);
    int rc = render_doc(&c, p, n);
    if (rc)
        strbuf_truncate(out, c.out_start);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Diff vectors                                                                                */

struct diff {
    int op;
    const char *path;
    size_t path_len;
    const uint8_t *value; /* binary JSON, type byte first; NULL for REMOVE */
    size_t value_len;
};

/* MySQL's net_field_length: < 251 one byte; 0xfc + 2 bytes; 0xfd + 3; 0xfe + 8. */
static size_t read_packed(const uint8_t *p, size_t avail, uint64_t *v)
{
    if (avail < 1)
        return 0;
    if (p[0] < 251) {
        *v = p[0];
        return 1;
    }
    size_t n = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : p[0] == 0xfe ? 8 : 0;
    if (n == 0 || avail < 1 + n)
        return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)p[1 + i] << (8 * i);
    return 1 + n;
}

/* Reads the diff at diffs[*pos] and advances *pos. */
static int
read_diff(const uint8_t *diffs, size_t len, size_t *pos, int idx, struct diff *d, struct err *err)
{
    size_t at = *pos;
    uint64_t v;
    size_t hl;
    d->op = diffs[at++];
    if (d->op > DIFF_REMOVE)
        return err_set(err, ERR_DECODE, "json diff %d: bad operation %d at offset %zu", idx, d->op,
                       at - 1);
    if ((hl = read_packed(diffs + at, len - at, &v)) == 0 || v > len - at - hl)
        return err_set(err, ERR_DECODE, "json diff %d: path length at offset %zu past end %zu", idx,
                       at, len);
    d->path = (const char *)diffs + at + hl;
    d->path_len = (size_t)v;
    at += hl + (size_t)v;
    d->value = NULL;
    d->value_len = 0;
    if (d->op != DIFF_REMOVE) {
        if ((hl = read_packed(diffs + at, len - at, &v)) == 0 || v > len - at - hl || v == 0)
            return err_set(err, ERR_DECODE,
                           "json diff %d: value length at offset %zu bad or past end %zu", idx, at,
                           len);
        d->value = diffs + at + hl;
        d->value_len = (size_t)v;
        at += hl + (size_t)v;
    }
    *pos = at;
    return 0;
}

static const char *op_name(int op)
{
    return op == DIFF_REPLACE ? "replace" : op == DIFF_INSERT ? "insert" : "remove";
}

int json_binary_diffs_to_text(const uint8_t *diffs,
                              size_t diffs_len,
                              struct strbuf *out,
                              struct err *err)
{
    size_t start = out->len;
    size_t pos = 0;
    int rc = 0;
    strbuf_appendc(out, '[');
    for (int idx = 0; pos < diffs_len; idx++) {
        struct diff d;
        if ((rc = read_diff(diffs, diffs_len, &pos, idx, &d, err)))
            goto done;
        if (idx)
            strbuf_appendc(out, ',');
        strbuf_appends(out, "{\"op\":\"");
        strbuf_appends(out, op_name(d.op));
        strbuf_appends(out, "\",\"path\":");
        strbuf_append_json_str(out, d.path, d.path_len);
        if (d.value) {
            strbuf_appends(out, ",\"value\":");
            struct ctx c;
            ctx_init(&c, d.value, d.value_len, out, err);
            snprintf(c.what, sizeof(c.what), "json diff %d value", idx);
            if ((rc = render_doc(&c, d.value, d.value_len)))
                goto done;
        }
        strbuf_appendc(out, '}');
    }
    strbuf_appendc(out, ']');
done:
    if (rc)
        strbuf_truncate(out, start);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Paths                                                                                       */

enum leg_kind { LEG_KEY, LEG_INDEX, LEG_LAST };

struct leg {
    enum leg_kind kind;
    const uint8_t *key; /* LEG_KEY: the unquoted, unescaped key (arena memory or the path) */
    size_t key_len;
    uint64_t index; /* LEG_INDEX: i; LEG_LAST: n in "last-n" */
};

/* Everything allocated while applying diffs, freed at once. */
struct arena {
    void **ptrs;
    size_t n, cap;
};

static void *arena_alloc(struct arena *a, size_t size)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->ptrs = xrealloc(a->ptrs, a->cap * sizeof(*a->ptrs));
    }
    return a->ptrs[a->n++] = xcalloc(1, size ? size : 1);
}

static void arena_free(struct arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at s (n bytes available). Returns -1 when not hex. */
static long hex4(const char *s, size_t n)
{
    if (n < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Decodes the JSON string body s[0..n) (between the quotes) into out (at least n bytes: an
 * escape never decodes longer than its text). Returns the decoded length or -1. */
static long unescape(const char *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = (uint8_t)s[i++];
            continue;
        }
        if (++i >= n)
            return -1;
        char e = s[i++];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out[o++] = (uint8_t)e;
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            long cp = hex4(s + i, n - i);
            if (cp < 0)
                return -1;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo =
                    i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s + i + 2, n - i - 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return -1;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return -1;
            }
            o += strbuf_utf8_put(out + o, (uint32_t)cp);
            break;
        }
        default:
            return -1;
        }
    }
    return (long)o;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Parses a MySQL JSON path ("$", then .key, ."quoted key", [N], [last], [last-N]) into legs
 * (arena memory). Wildcards and ranges are rejected: diff paths never hold them. */
static int parse_path(const char *s,
                      size_t n,
                      struct arena *a,
                      struct leg **legs_out,
                      size_t *nlegs_out,
                      int idx,
                      struct err *err)
{
    size_t i = 0, nlegs = 0;
    struct leg *legs = arena_alloc(a, (n + 1) * sizeof(*legs)); /* at most one leg per byte */
    while (i < n && is_space(s[i]))
        i++;
    if (i >= n || s[i] != '$')
        goto bad;
    i++;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        struct leg *l = &legs[nlegs];
        if (s[i] == '.') {
            i++;
            while (i < n && is_space(s[i]))
                i++;
            if (i >= n || s[i] == '*')
                goto bad;
            l->kind = LEG_KEY;
            if (s[i] == '"') {
                size_t j = ++i;
                while (j < n && s[j] != '"')
                    j += s[j] == '\\' ? 2 : 1;
                if (j >= n)
                    goto bad;
                uint8_t *k = arena_alloc(a, j - i);
                long kl = unescape(s + i, j - i, k);
                if (kl < 0)
                    goto bad;
                l->key = k;
                l->key_len = (size_t)kl;
                i = j + 1;
            } else {
                size_t j = i;
                while (j < n && s[j] != '.' && s[j] != '[' && !is_space(s[j]) && s[j] != '"' &&
                       s[j] != '*')
                    j++;
                if (j == i)
                    goto bad;
                l->key = (const uint8_t *)s + i;
                l->key_len = j - i;
                i = j;
            }
        } else if (s[i] == '[') {
            i++;
            while (i < n && is_space(s[i]))
                i++;
            if (i + 4 <= n && memcmp(s + i, "last", 4) == 0) {
                l->kind = LEG_LAST;
                l->index = 0;
                i += 4;
                while (i < n && is_space(s[i]))
                    i++;
                if (i < n && s[i] == '-') {
                    i++;
                    while (i < n && is_space(s[i]))
                        i++;
                    if (i >= n || s[i] < '0' || s[i] > '9')
                        goto bad;
                    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                        if (l->index > UINT32_MAX)
                            goto bad;
                        l->index = l->index * 10 + (uint64_t)(s[i] - '0');
                    }
                }
            } else {
                l->kind = LEG_INDEX;
                l->index = 0;
                if (i >= n || s[i] < '0' || s[i] > '9')
                    goto bad;
                for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                    if (l->index > UINT32_MAX)
                        goto bad;
                    l->index = l->index * 10 + (uint64_t)(s[i] - '0');
                }
            }
            while (i < n && is_space(s[i]))
                i++;
            if (i >= n || s[i] != ']')
                goto bad;
            i++;
        } else {
            goto bad;
        }
        nlegs++;
    }
    *legs_out = legs;
    *nlegs_out = nlegs;
    return 0;
bad:
    return err_set(err, ERR_DECODE, "json diff %d: unsupported or malformed path \"%.*s\"", idx,
                   (int)(n > 100 ? 100 : n), s);
}

/* ------------------------------------------------------------------------------------------ */
/* The lazily expanded tree                                                                    */

enum node_kind { NODE_BIN, NODE_OBJ, NODE_ARR };

struct node;

struct member {
    const uint8_t *key; /* objects only */
    size_t key_len;
    struct node *val;
};

struct node {
    enum node_kind kind;
    struct jval bin;      /* NODE_BIN */
    const uint8_t *base;  /* start of the binary bin points into, for messages */
    int src;              /* -1: the document, else the index of the diff it came from */
    struct member *items; /* NODE_OBJ/NODE_ARR */
    size_t count, cap;
};

struct apply {
    struct ctx c;
    struct arena arena;
};

static struct node *node_bin(struct apply *ap, const struct jval *v, const uint8_t *base, int src)
{
    struct node *nd = arena_alloc(&ap->arena, sizeof(*nd));
    nd->kind = NODE_BIN;
    nd->bin = *v;
    nd->base = base;
    nd->src = src;
    return nd;
}

/* Points the reader's messages at the binary a node came from. */
static void ctx_source(struct ctx *c, const struct node *nd)
{
    c->base = nd->base;
    if (nd->src < 0)
        snprintf(c->what, sizeof(c->what), "json");
    else
        snprintf(c->what, sizeof(c->what), "json diff %d value", nd->src);
}

static void items_reserve(struct apply *ap, struct node *nd, size_t need)
{
    if (need <= nd->cap)
        return;
    size_t cap = nd->cap ? nd->cap : 4;
    while (cap < need)
        cap *= 2;
    struct member *m = arena_alloc(&ap->arena, cap * sizeof(*m));
    if (nd->count)
        memcpy(m, nd->items, nd->count * sizeof(*m));
    nd->items = m;
    nd->cap = cap;
}

/* Turns a binary container node into a member list (its children stay binary). */
static int expand(struct apply *ap, struct node *nd)
{
    if (nd->kind != NODE_BIN || !is_container(nd->bin.type))
        return 0;
    struct ctx *c = &ap->c;
    ctx_source(c, nd);
    struct jcont k;
    int rc = cont_open(c, &nd->bin, &k);
    if (rc)
        return rc;
    nd->kind = k.is_obj ? NODE_OBJ : NODE_ARR;
    nd->count = 0;
    nd->cap = 0;
    nd->items = NULL;
    items_reserve(ap, nd, k.count);
    for (uint32_t i = 0; i < k.count; i++) {
        struct member *m = &nd->items[i];
        struct jval v;
        if (k.is_obj && (rc = cont_key(c, &k, i, &m->key, &m->key_len)))
            return rc;
        if ((rc = cont_value(c, &k, i, &v)))
            return rc;
        m->val = node_bin(ap, &v, nd->base, nd->src);
        nd->count++;
    }
    return 0;
}

static int render_node(struct apply *ap, const struct node *nd, int depth)
{
    struct ctx *c = &ap->c;
    if (nd->kind == NODE_BIN) {
        ctx_source(c, nd);
        return render(c, &nd->bin, depth);
    }
    if (depth > JSON_BINARY_MAX_DEPTH)
        return err_set(c->err, ERR_DECODE, "json: nesting deeper than %d after applying diffs",
                       JSON_BINARY_MAX_DEPTH);
    int is_obj = nd->kind == NODE_OBJ;
    strbuf_appendc(c->out, is_obj ? '{' : '[');
    for (size_t i = 0; i < nd->count; i++) {
        if (i)
            strbuf_append(c->out, ", ", 2);
        if (is_obj) {
            strbuf_append_json_str(c->out, (const char *)nd->items[i].key, nd->items[i].key_len);
            strbuf_append(c->out, ": ", 2);
        }
        int rc = render_node(ap, nd->items[i].val, depth + 1);
        if (rc)
            return rc;
    }
    strbuf_appendc(c->out, is_obj ? '}' : ']');
    return 0;
}

/* MySQL's key order (Json_key_comparator): shorter keys first, then bytewise. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return alen ? memcmp(a, b, alen) : 0;
}

/* Index of member `key` in object nd, or nd->count. */
static size_t find_key(const struct node *nd, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < nd->count; i++) {
        if (key_cmp(nd->items[i].key, nd->items[i].key_len, key, len) == 0)
            return i;
    }
    return nd->count;
}

/* Index of the member whose value slot is `slot`. */
static size_t container_of_slot(const struct node *nd, struct node *const *slot)
{
    return (size_t)((const struct member *)((const char *)slot - offsetof(struct member, val)) -
                    nd->items);
}

/* Resolves an array leg against count elements: returns the index, which may be >= count. */
static uint64_t array_index(const struct leg *l, size_t count)
{
    if (l->kind == LEG_INDEX)
        return l->index;
    /* [last-n]: count-1-n, or "before the start" (never found) */
    return l->index + 1 > count ? UINT64_MAX : count - 1 - l->index;
}

/* Finds the slot the leg l selects under node nd (expanded first), or NULL when absent. An
 * array leg [0] or [last] on a non-array selects the node itself (MySQL's auto-wrapping); that
 * case returns self_slot. */
static int
select_leg(struct apply *ap, struct node **self_slot, const struct leg *l, struct node ***slot)
{
    struct node *nd = *self_slot;
    int rc = expand(ap, nd);
    if (rc)
        return rc;
    *slot = NULL;
    if (l->kind == LEG_KEY) {
        if (nd->kind == NODE_OBJ) {
            size_t at = find_key(nd, l->key, l->key_len);
            if (at < nd->count)
                *slot = &nd->items[at].val;
        }
    } else if (nd->kind == NODE_ARR) {
        uint64_t ix = array_index(l, nd->count);
        if (ix < nd->count)
            *slot = &nd->items[ix].val;
    } else if (l->index == 0) {
        *slot = self_slot;
    }
    return 0;
}

static int not_found(struct err *err, int idx, const struct diff *d, const char *why)
{
    return err_set(err, ERR_DECODE, "json diff %d: %s path \"%.*s\": %s", idx, op_name(d->op),
                   (int)(d->path_len > 100 ? 100 : d->path_len), d->path, why);
}

static int apply_one(struct apply *ap,
                     struct node **root,
                     const struct diff *d,
                     const struct leg *legs,
                     size_t nlegs,
                     int idx,
                     struct node *value)
{
    struct err *err = ap->c.err;
    if (nlegs == 0) {
        if (d->op != DIFF_REPLACE)
            return not_found(err, idx, d, "cannot apply to the document root");
        *root = value;
        return 0;
    }
    /* Walk to the parent of the last leg. */
    struct node **slot = root;
    int rc;
    for (size_t i = 0; i + 1 < nlegs; i++) {
        struct node **next;
        if ((rc = select_leg(ap, slot, &legs[i], &next)))
            return rc;
        if (!next)
            return not_found(err, idx, d, "not found in document");
        slot = next;
    }
    const struct leg *l = &legs[nlegs - 1];
    struct node **target;
    if ((rc = select_leg(ap, slot, l, &target)))
        return rc;
    struct node *parent = *slot;
    if (d->op == DIFF_REPLACE) {
        if (!target)
            return not_found(err, idx, d, "not found in document");
        *target = value;
        return 0;
    }
    int key_leg = l->kind == LEG_KEY;
    if ((key_leg && parent->kind != NODE_OBJ) || (!key_leg && parent->kind != NODE_ARR))
        return not_found(err, idx, d,
                         key_leg ? "parent is not an object" : "parent is not an array");
    if (d->op == DIFF_REMOVE) {
        if (!target)
            return not_found(err, idx, d, "not found in document");
        size_t at = (size_t)(container_of_slot(parent, target));
        memmove(parent->items + at, parent->items + at + 1,
                (parent->count - at - 1) * sizeof(*parent->items));
        parent->count--;
        return 0;
    }
    /* INSERT: an existing object member is replaced (JSON_SET-like, as MySQL applies it); a new
     * key goes to its place in MySQL's key order; an array index past the end appends. */
    if (target && key_leg) {
        *target = value;
        return 0;
    }
    size_t at;
    if (key_leg) {
        at = 0;
        while (at < parent->count &&
               key_cmp(parent->items[at].key, parent->items[at].key_len, l->key, l->key_len) < 0)
            at++;
    } else {
        uint64_t ix = array_index(l, parent->count);
        at = ix < parent->count ? (size_t)ix : parent->count;
    }
    items_reserve(ap, parent, parent->count + 1);
    memmove(parent->items + at + 1, parent->items + at,
            (parent->count - at) * sizeof(*parent->items));
    parent->items[at].key = key_leg ? l->key : NULL;
    parent->items[at].key_len = key_leg ? l->key_len : 0;
    parent->items[at].val = value;
    parent->count++;
    return 0;
}

int json_binary_apply_diffs(const uint8_t *doc,
                            size_t doc_len,
                            const uint8_t *diffs,
                            size_t diffs_len,
                            struct strbuf *out,
                            struct err *err)
{
    static const uint8_t null_doc[] = {JT_LITERAL, 0};
    struct apply *ap = xcalloc(1, sizeof(*ap));
    ctx_init(&ap->c, doc, doc_len + diffs_len, out, err);
    int rc = 0;
    if (doc_len == 0) { /* an empty document is null */
        doc = null_doc;
        doc_len = sizeof(null_doc);
    }
    struct jval rv = {doc[0], doc + 1, doc_len - 1};
    struct node *root = node_bin(ap, &rv, doc, -1);
    size_t pos = 0;
    for (int idx = 0; pos < diffs_len; idx++) {
        struct diff d;
        struct leg *legs = NULL;
        size_t nlegs = 0;
        if ((rc = read_diff(diffs, diffs_len, &pos, idx, &d, err)) ||
            (rc = parse_path(d.path, d.path_len, &ap->arena, &legs, &nlegs, idx, err)))
            goto done;
        struct node *value = NULL;
        if (d.value) {
            struct jval vv = {d.value[0], d.value + 1, d.value_len - 1};
            value = node_bin(ap, &vv, d.value, idx);
        }
        if ((rc = apply_one(ap, &root, &d, legs, nlegs, idx, value)))
            goto done;
    }
    rc = render_node(ap, root, 1);
done:
    if (rc)
        strbuf_truncate(out, ap->c.out_start);
    arena_free(&ap->arena);
    free(ap);
    return rc;
}
