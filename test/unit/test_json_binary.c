/*
 * test_json_binary.c — unit tests for src/json_binary.c.
 *
 * Real bytes: documents carved from testdata/binlog/rust_mysql_common/json-opaque.binlog
 * (MySQL 9.0.1, opaque values) and json.binlog.000001 (MySQL 8.0.22, a WRITE_ROWS document and
 * the PARTIAL_UPDATE_ROWS event at offset 3750 whose after images hold the diff vectors).
 * Everything else is built by the small text-to-binary encoder below (test-only), so most tests
 * are round trips: JSON text in MySQL's spacing -> binary (small or large format) -> text.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_binary.h"
#include "testutil.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static struct strbuf text_buf;
static struct err last_err;

/* Renders [p, p+n); returns the text, or NULL on error (last_err filled). */
static const char *to_text(const uint8_t *p, size_t n)
{
    strbuf_reset(&text_buf);
    strbuf_appends(&text_buf, "");
    memset(&last_err, 0, sizeof(last_err));
    int rc = json_binary_to_text(p, n, &text_buf, &last_err);
    if (rc) {
        CU_ASSERT_EQUAL(rc, ERR_DECODE);
        CU_ASSERT_EQUAL(text_buf.len, 0); /* out left as it was */
        return NULL;
    }
    return text_buf.buf;
}

static const char *hex_to_text(const char *hex)
{
    static uint8_t b[4096];
    size_t n = unhex(hex, b);
    return to_text(b, n);
}

#define CHECK_TEXT(got, want)                                                                      \
    do {                                                                                           \
        const char *got_ = (got);                                                                  \
        if (!got_ || strcmp(got_, (want)) != 0)                                                    \
            printf("\n  %s:%d: got %s want %s (%s)\n", __FILE__, __LINE__,                         \
                   got_ ? got_ : "(error)", (want), last_err.msg);                                 \
        CU_ASSERT_PTR_NOT_NULL_FATAL(got_);                                                        \
        CU_ASSERT_STRING_EQUAL(got_, (want));                                                      \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* Test-only encoder: JSON text -> MySQL binary JSON                                           */

struct enc {
    const char *s;
    int large; /* containers in the large format */
};

static void put_varlen(struct strbuf *b, size_t n)
{
    do {
        uint8_t c = n & 0x7f;
        n >>= 7;
        strbuf_appendc(b, (char)(c | (n ? 0x80 : 0)));
    } while (n);
}

static void skip_ws(struct enc *e)
{
    while (*e->s == ' ' || *e->s == '\n' || *e->s == '\t')
        e->s++;
}

/* Decodes a JSON string literal at e->s (at the opening quote) into raw bytes. */
static void parse_str(struct enc *e, struct strbuf *raw)
{
    e->s++;
    while (*e->s != '"') {
        if (*e->s == '\\') {
            e->s++;
            char c = *e->s++;
            switch (c) {
            case 'n':
                strbuf_appendc(raw, '\n');
                break;
            case 't':
                strbuf_appendc(raw, '\t');
                break;
            case 'r':
                strbuf_appendc(raw, '\r');
                break;
            case 'b':
                strbuf_appendc(raw, '\b');
                break;
            case 'f':
                strbuf_appendc(raw, '\f');
                break;
            case 'u': {
                unsigned v;
                sscanf(e->s, "%4x", &v);
                e->s += 4;
                CU_ASSERT_FATAL(v < 0x80); /* tests escape only ASCII controls */
                strbuf_appendc(raw, (char)v);
                break;
            }
            default:
                strbuf_appendc(raw, c);
            }
        } else {
            strbuf_appendc(raw, *e->s++);
        }
    }
    e->s++;
}

static int inlined(uint8_t t, int large)
{
    return t == 0x04 || t == 0x05 || t == 0x06 || (large && (t == 0x07 || t == 0x08));
}

static uint8_t enc_value(struct enc *e, struct strbuf *out);

static uint8_t enc_container(struct enc *e, struct strbuf *out, int is_obj)
{
    struct strbuf keys[300], vals[300];
    uint8_t types[300];
    size_t n = 0;
    char close = is_obj ? '}' : ']';
    e->s++;
    skip_ws(e);
    while (*e->s != close) {
        CU_ASSERT_FATAL(n < 300);
        strbuf_init(&keys[n]);
        strbuf_init(&vals[n]);
        if (is_obj) {
            parse_str(e, &keys[n]);
            skip_ws(e);
            e->s++; /* ':' */
            skip_ws(e);
        }
        types[n] = enc_value(e, &vals[n]);
        n++;
        skip_ws(e);
        if (*e->s == ',') {
            e->s++;
            skip_ws(e);
        }
    }
    e->s++;
    int off = e->large ? 4 : 2;
    size_t hdr = 2 * (size_t)off + n * (is_obj ? (size_t)off + 2 : 0) + n * (1 + (size_t)off);
    size_t size = hdr;
    for (size_t i = 0; i < n; i++)
        size += (is_obj ? keys[i].len : 0) + (inlined(types[i], e->large) ? 0 : vals[i].len);
    put_le(out, n, off);
    put_le(out, size, off);
    size_t at = hdr;
    if (is_obj) {
        for (size_t i = 0; i < n; i++) {
            put_le(out, at, off);
            put_le(out, keys[i].len, 2);
            at += keys[i].len;
        }
    }
    for (size_t i = 0; i < n; i++) {
        strbuf_appendc(out, (char)types[i]);
        if (inlined(types[i], e->large)) {
            uint64_t v = 0;
            for (size_t j = 0; j < vals[i].len; j++)
                v |= (uint64_t)(uint8_t)vals[i].buf[j] << (8 * j);
            put_le(out, v, off);
        } else {
            put_le(out, at, off);
            at += vals[i].len;
        }
    }
    if (is_obj) {
        for (size_t i = 0; i < n; i++)
            strbuf_append(out, keys[i].buf, keys[i].len);
    }
    for (size_t i = 0; i < n; i++) {
        if (!inlined(types[i], e->large))
            strbuf_append(out, vals[i].buf, vals[i].len);
        strbuf_free(&keys[i]);
        strbuf_free(&vals[i]);
    }
    return (uint8_t)((is_obj ? 0x00 : 0x02) | (e->large ? 1 : 0));
}

/* Appends the value bytes (no type byte) to out and returns the type. */
static uint8_t enc_value(struct enc *e, struct strbuf *out)
{
    skip_ws(e);
    char c = *e->s;
    if (c == '{' || c == '[')
        return enc_container(e, out, c == '{');
    if (c == '"') {
        struct strbuf raw = {0};
        parse_str(e, &raw);
        put_varlen(out, raw.len);
        strbuf_append(out, raw.buf, raw.len);
        strbuf_free(&raw);
        return 0x0c;
    }
    if (!strncmp(e->s, "null", 4) || !strncmp(e->s, "true", 4) || !strncmp(e->s, "false", 5)) {
        strbuf_appendc(out, (char)(c == 'n' ? 0 : c == 't' ? 1 : 2));
        e->s += c == 'f' ? 5 : 4;
        return 0x04;
    }
    const char *end = e->s;
    int is_double = 0;
    while (*end && strchr("+-0123456789.eE", *end)) {
        if (strchr(".eE", *end))
            is_double = 1;
        end++;
    }
    if (is_double) {
        double d = strtod(e->s, NULL);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        put_le(out, bits, 8);
        e->s = end;
        return 0x0b;
    }
    if (c != '-') {
        unsigned long long u = strtoull(e->s, NULL, 10);
        if (u > INT64_MAX) {
            put_le(out, u, 8);
            e->s = end;
            return 0x0a;
        }
    }
    long long v = strtoll(e->s, NULL, 10);
    e->s = end;
    if (v >= INT16_MIN && v <= INT16_MAX) {
        put_le(out, (uint64_t)v, 2);
        return 0x05;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        put_le(out, (uint64_t)v, 4);
        return 0x07;
    }
    put_le(out, (uint64_t)v, 8);
    return 0x09;
}

/* Encodes text as a binary document (type byte first) into doc. */
static void encode(const char *text, int large, struct strbuf *doc)
{
    struct enc e = {text, large};
    struct strbuf v = {0};
    strbuf_reset(doc);
    uint8_t t = enc_value(&e, &v);
    strbuf_appendc(doc, (char)t);
    strbuf_append(doc, v.buf, v.len);
    strbuf_free(&v);
}

/* Encodes text both ways and checks the rendering equals want. */
static void check_roundtrip_as(const char *text, const char *want)
{
    for (int large = 0; large <= 1; large++) {
        struct strbuf doc = {0};
        encode(text, large, &doc);
        CHECK_TEXT(to_text((const uint8_t *)doc.buf, doc.len), want);
        strbuf_free(&doc);
    }
}

static void check_roundtrip(const char *text)
{
    check_roundtrip_as(text, text);
}

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                   */

static void test_real_opaque(void)
{
    /* json-opaque.binlog, one document per WRITE_ROWS event. MySQL prints an opaque DECIMAL
     * as a number (JSON_EXTRACT/mysqlbinlog -v), not a string. */
    CHECK_TEXT(hex_to_text("0001000f000b0001000f0c00610f0155"), "{\"a\": \"base64:type15:VQ==\"}");
    CHECK_TEXT(hex_to_text("00010016000b0001000f0c00620a080000000000e48b19"),
               "{\"b\": \"2012-03-18\"}");
    CHECK_TEXT(hex_to_text("00010016000b0001000f0c00630c08000000adb7e48b19"),
               "{\"c\": \"2012-03-18 11:30:45.000000\"}");
    CHECK_TEXT(hex_to_text("00010016000b0001000f0c00630b08f1fb09ee77050000"),
               "{\"c\": \"87:31:46.654321\"}");
    CHECK_TEXT(hex_to_text("00010014000b0001000f0c0064f6060603807b01c8"), "{\"d\": 123.456}");
    CHECK_TEXT(hex_to_text("00010015000b0001000f0c0065f6070b028000000900"), "{\"e\": 9.00}");
    CHECK_TEXT(hex_to_text("0001001c000b000100020c006504001000050000050100040100040200"),
               "{\"e\": [0, 1, true, false]}");
    CHECK_TEXT(hex_to_text("0001000c000b00010004000065"), "{\"e\": null}");
}

static void test_real_document(void)
{
    /* json.binlog.000001, first WRITE_ROWS event (MySQL 8.0.22). */
    CHECK_TEXT(hex_to_text("0003003300190003001c000400200004000518000c24000c2f00616765646174616e"
                           "616d650a78787878787878787878034a6f65"),
               "{\"age\": 24, \"data\": \"xxxxxxxxxx\", \"name\": \"Joe\"}");
}

static void test_opaque_more(void)
{
    /* negative TIME and DATETIME (packed value negated), TIMESTAMP, 2-byte base64 tail */
    uint8_t b[64];
    int64_t t = -(int64_t)((((uint64_t)838 << 12) | (59 << 6) | 59) << 24 | 0);
    b[0] = 0x0f;
    b[1] = 11;
    b[2] = 8;
    for (int i = 0; i < 8; i++)
        b[3 + i] = (uint8_t)((uint64_t)t >> (8 * i));
    CHECK_TEXT(to_text(b, 11), "\"-838:59:59.000000\"");
    uint64_t ymd = (uint64_t)((1999 * 13 + 12) << 5 | 31);
    uint64_t hms = (uint64_t)(23 << 12 | 59 << 6 | 58);
    uint64_t dt = ((ymd << 17 | hms) << 24) | 999999;
    b[1] = 7;
    for (int i = 0; i < 8; i++)
        b[3 + i] = (uint8_t)(dt >> (8 * i));
    CHECK_TEXT(to_text(b, 11), "\"1999-12-31 23:59:58.999999\"");
    /* opaque of another type: blob (252) with 5 bytes */
    const uint8_t blob[] = {0x0f, 252, 5, 'h', 'e', 'l', 'l', 'o'};
    CHECK_TEXT(to_text(blob, sizeof(blob)), "\"base64:type252:aGVsbG8=\"");
    const uint8_t empty[] = {0x0f, 253, 0};
    CHECK_TEXT(to_text(empty, sizeof(empty)), "\"base64:type253:\"");
    /* -0.50 as DECIMAL(3,2): 1 integer digit (1 byte) + 2 fraction digits (1 byte), negative
     * so every byte inverted, then the sign bit flipped */
    uint8_t nd[] = {0x0f, 246, 4, 3, 2, 0x00 ^ 0xff ^ 0x80, 50 ^ 0xff};
    CHECK_TEXT(to_text(nd, sizeof(nd)), "-0.50");
    /* a bad precision, a temporal that is not 8 bytes */
    const uint8_t baddec[] = {0x0f, 246, 3, 70, 2, 0x80};
    CU_ASSERT_PTR_NULL(to_text(baddec, sizeof(baddec)));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "json: opaque at offset 1: decimal: invalid"));
    const uint8_t shortdate[] = {0x0f, 10, 4, 0, 0, 0, 0};
    CU_ASSERT_PTR_NULL(to_text(shortdate, sizeof(shortdate)));
}

static void test_scalars(void)
{
    CHECK_TEXT(hex_to_text(""), "null");
    CHECK_TEXT(hex_to_text("0400"), "null");
    CHECK_TEXT(hex_to_text("0401"), "true");
    CHECK_TEXT(hex_to_text("0402"), "false");
    CU_ASSERT_PTR_NULL(hex_to_text("0403"));
    CHECK_TEXT(hex_to_text("05ffff"), "-1");
    CHECK_TEXT(hex_to_text("050080"), "-32768");
    CHECK_TEXT(hex_to_text("06ffff"), "65535");
    CHECK_TEXT(hex_to_text("0700000080"), "-2147483648");
    CHECK_TEXT(hex_to_text("08ffffffff"), "4294967295");
    CHECK_TEXT(hex_to_text("090000000000000080"), "-9223372036854775808");
    CHECK_TEXT(hex_to_text("0affffffffffffffff"), "18446744073709551615");
    CHECK_TEXT(hex_to_text("0c00"), "\"\"");
    CHECK_TEXT(hex_to_text("0c0568656c6c6f"), "\"hello\"");
    CU_ASSERT_PTR_NULL(hex_to_text("0d00"));
    CU_ASSERT_PTR_NULL(hex_to_text("ff"));
    /* a 200-byte string needs a 2-byte length */
    uint8_t b[300];
    b[0] = 0x0c;
    b[1] = 0x80 | (200 & 0x7f);
    b[2] = 200 >> 7;
    memset(b + 3, 'a', 200);
    const char *t = to_text(b, 203);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(strlen(t), 202);
    /* a 6-byte length is malformed, a length past the end too */
    CU_ASSERT_PTR_NULL(hex_to_text("0c808080808001"));
    CU_ASSERT_PTR_NULL(hex_to_text("0c0561"));
}

static void check_double(double d, const char *want)
{
    uint8_t b[9] = {0x0b};
    uint64_t bits;
    memcpy(&bits, &d, 8);
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(bits >> (8 * i));
    CHECK_TEXT(to_text(b, 9), want);
}

static void test_doubles(void)
{
    check_double(1.5, "1.5");
    check_double(3.0, "3.0");
    check_double(-3.0, "-3.0");
    check_double(0.0, "0.0");
    check_double(-0.0, "-0.0");
    check_double(0.1, "0.1");
    check_double(1e100, "1e100");
    check_double(-1.5e-100, "-1.5e-100");
    check_double(1e15, "1e15");
    check_double(1e14, "100000000000000.0");
    check_double(123456789012345678.0, "1.2345678901234568e17");
    check_double(1234567890123456.7, "1234567890123456.8");
    check_double(1e-5, "0.00001");
    check_double(1e-15, "0.000000000000001");
    check_double(1e-16, "1e-16");
    check_double(3.141592653589793, "3.141592653589793");
    check_double(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_double(1.7976931348623157e308, "1.7976931348623157e308");
    check_double(5e-324, "5e-324");
}

static void test_roundtrips(void)
{
    check_roundtrip("{}");
    check_roundtrip("[]");
    check_roundtrip("{\"a\": 1, \"b\": [1, 2]}");
    check_roundtrip("[null, true, false, 0, -1, 32767, -32768, 32768, -2147483648, 2147483647, "
                    "2147483648, -9223372036854775808, 18446744073709551615, 1.5, \"\"]");
    check_roundtrip("{\"\": {}, \"a\": [], \"b\": [[]], \"c\": [{}], \"d\": {\"e\": {\"f\": "
                    "[1, [2, [3, {\"g\": null}]]]}}}");
    check_roundtrip("{\"k\\\"ey\": \"va\\\\lue\\n\\t\\u0001\", \"\xc3\xa9t\xc3\xa9\": "
                    "\"\xe2\x82\xac \xf0\x9f\x98\x80\"}");
    check_roundtrip("[\"\\b\\f\\r\\u001f/\", \"quote \\\" end\"]");
    /* strings past 127 bytes inside containers */
    char big[1024];
    strcpy(big, "{\"long\": \"");
    for (int i = 0; i < 500; i++)
        strcat(big, "x");
    strcat(big, "\", \"n\": 70000}");
    check_roundtrip(big);
    /* many members, offsets past 64 KiB force nothing in small format, but a long array */
    char arr[8192] = "[";
    for (int i = 0; i < 290; i++)
        sprintf(arr + strlen(arr), "%s%d", i ? ", " : "", i * 1000);
    strcat(arr, "]");
    check_roundtrip(arr);
    /* invalid UTF-8 in a string becomes U+FFFD */
    const uint8_t bad[] = {0x0c, 2, 0xff, 'a'};
    CHECK_TEXT(to_text(bad, sizeof(bad)), "\"\xef\xbf\xbd"
                                          "a\"");
}

static void test_large_format(void)
{
    /* large format inlines int32/uint32 in the value entry; small does not */
    struct strbuf doc = {0};
    encode("[2147483647, -5, {\"x\": -2147483648}]", 1, &doc);
    CU_ASSERT_EQUAL((uint8_t)doc.buf[0], 0x03);
    CU_ASSERT_EQUAL((uint8_t)doc.buf[9], 0x07); /* first value entry: inlined int32 */
    CHECK_TEXT(to_text((const uint8_t *)doc.buf, doc.len),
               "[2147483647, -5, {\"x\": -2147483648}]");
    strbuf_free(&doc);
    /* uint16 and uint32 inlined, by hand: large array [65535, 4294967295] */
    CHECK_TEXT(hex_to_text("03"
                           "02000000"
                           "12000000"
                           "06ffff0000"
                           "08ffffffff"),
               "[65535, 4294967295]");
    /* the same uint32 in a small array is stored at an offset */
    CHECK_TEXT(hex_to_text("02"
                           "0200"
                           "0e00"
                           "06ffff"
                           "080a00"
                           "ffffffff"),
               "[65535, 4294967295]");
}

/* ------------------------------------------------------------------------------------------ */
/* Malformed input                                                                             */

static void test_truncated_prefixes(void)
{
    const char *texts[] = {
        "{\"a\": [1, 2.5, \"three\", {\"four\": null}], \"bb\": {\"c\": true, \"d\": -70000}, "
        "\"e\": \"\xc3\xa9\", \"f\": 1234567890123}",
        "[[[[[]]]], {}, \"s\", 1e300]",
        "\"just a string\"",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        for (int large = 0; large <= 1; large++) {
            struct strbuf doc = {0};
            encode(texts[t], large, &doc);
            CU_ASSERT_PTR_NOT_NULL(to_text((const uint8_t *)doc.buf, doc.len));
            for (size_t n = 1; n < doc.len; n++) {
                /* a private copy of exactly n bytes lets ASan catch any overread */
                uint8_t *p = malloc(n);
                memcpy(p, doc.buf, n);
                const char *r = to_text(p, n);
                if (r)
                    printf("\n  prefix %zu of %zu decoded: %s\n", n, doc.len, r);
                CU_ASSERT_PTR_NULL(r);
                CU_ASSERT_EQUAL(last_err.code, ERR_DECODE);
                CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "json: "));
                free(p);
            }
            strbuf_free(&doc);
        }
    }
    /* the message names the problem and the offset */
    const char *r = hex_to_text("02"
                                "0100"
                                "0700"
                                "0c4000");
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "array entry 0 offset 65 past end 8"));
}

static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_garbage(void)
{
    /* random bytes, biased to small type codes */
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = rng() % 64;
        uint8_t *p = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(rng() % 4 ? rng() % 16 : rng());
        struct strbuf sb = {0};
        struct err err = {0};
        int rc = json_binary_to_text(p, n, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        strbuf_free(&sb);
        free(p);
    }
    /* mutations of a valid document */
    struct strbuf doc = {0};
    encode("{\"a\": [1, 2.5, \"three\", {\"four\": null}], \"bb\": {\"c\": true, \"d\": -70000}}",
           0, &doc);
    for (int iter = 0; iter < 100000; iter++) {
        uint8_t *p = malloc(doc.len);
        memcpy(p, doc.buf, doc.len);
        int flips = 1 + (int)(rng() % 3);
        for (int f = 0; f < flips; f++)
            p[rng() % doc.len] = (uint8_t)rng();
        struct strbuf sb = {0};
        struct err err = {0};
        int rc = json_binary_to_text(p, doc.len, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        CU_ASSERT(sb.len <= doc.len * 16 + 256 + 64);
        strbuf_free(&sb);
        free(p);
    }
    strbuf_free(&doc);
}

static void test_depth_limit(void)
{
    char text[512];
    for (int depth = 99; depth <= 101; depth++) {
        char *t = text;
        for (int i = 0; i < depth; i++)
            *t++ = '[';
        for (int i = 0; i < depth; i++)
            *t++ = ']';
        *t = '\0';
        struct strbuf doc = {0};
        encode(text, 0, &doc);
        const char *r = to_text((const uint8_t *)doc.buf, doc.len);
        if (depth <= JSON_BINARY_MAX_DEPTH) {
            CHECK_TEXT(r, text);
        } else {
            CU_ASSERT_PTR_NULL(r);
            CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "nesting deeper"));
        }
        strbuf_free(&doc);
    }
}

static void test_shared_offsets(void)
{
    /* 40 nested small arrays whose two entries both point at the next array: 2^40 leaves if
     * rendered naively. Must fail fast on the output bound. Each level: count=2, size,
     * entry0 {0x02, off 10}, entry1 {0x02, off 10}. */
    enum { LEVELS = 40 };
    uint8_t p[1 + LEVELS * 10 + 4];
    size_t at = 0;
    p[at++] = 0x02;
    for (int l = 0; l < LEVELS; l++) {
        size_t size = (size_t)(LEVELS - l) * 10 + 4;
        uint8_t lvl[10] = {2, 0, (uint8_t)size, (uint8_t)(size >> 8), 0x02, 10, 0, 0x02, 10, 0};
        memcpy(p + at, lvl, 10);
        at += 10;
    }
    uint8_t leaf[4] = {0, 0, 4, 0};
    memcpy(p + at, leaf, 4);
    at += 4;
    CU_ASSERT_PTR_NULL(to_text(p, at));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_err.msg, "text longer"));
}

static void test_bad_headers(void)
{
    /* object whose key points into the header / past the end */
    CU_ASSERT_PTR_NULL(hex_to_text("00"
                                   "0100"
                                   "0c00"
                                   "02000100"
                                   "040100"
                                   "61"));
    CU_ASSERT_PTR_NULL(hex_to_text("00"
                                   "0100"
                                   "0c00"
                                   "0b000500"
                                   "040100"
                                   "61"));
    /* count too large for size */
    CU_ASSERT_PTR_NULL(hex_to_text("02"
                                   "ff00"
                                   "0800"
                                   "040100"
                                   "00"));
    /* size larger than the document */
    CU_ASSERT_PTR_NULL(hex_to_text("02"
                                   "0000"
                                   "0900"));
    /* a large array with a count that would overflow 32-bit arithmetic */
    CU_ASSERT_PTR_NULL(hex_to_text("03"
                                   "ffffffff"
                                   "ffffffff"));
    /* appends after existing text, and leaves it alone on error */
    struct strbuf sb = {0};
    struct err err = {0};
    strbuf_appends(&sb, "x=");
    uint8_t ok[] = {0x04, 1};
    CU_ASSERT_EQUAL(json_binary_to_text(ok, 2, &sb, &err), 0);
    CU_ASSERT_STRING_EQUAL(sb.buf, "x=true");
    uint8_t bad[] = {0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x0c, 12, 0, 'a', 5, 'x'};
    CU_ASSERT_EQUAL(json_binary_to_text(bad, sizeof(bad), &sb, &err), ERR_DECODE);
    CU_ASSERT_STRING_EQUAL(sb.buf, "x=true");
    strbuf_free(&sb);
}

/* ------------------------------------------------------------------------------------------ */
/* Diffs                                                                                       */

/* The three distinct diff vectors of the PARTIAL_UPDATE_ROWS event at 3750 in
 * json.binlog.000001 (after the 4-byte length 0x0b): REPLACE $.age with int16 26/34/42. */
static const char *real_diffs[] = {"0005242e61676503051a00", "0005242e61676503052200",
                                   "0005242e61676503052a00"};

/* Appends one diff; value_text NULL for REMOVE. */
static void add_diff(struct strbuf *d, int op, const char *path, const char *value_text)
{
    strbuf_appendc(d, (char)op);
    size_t pl = strlen(path);
    if (pl < 251) {
        strbuf_appendc(d, (char)pl);
    } else {
        strbuf_appendc(d, (char)0xfc);
        put_le(d, pl, 2);
    }
    strbuf_append(d, path, pl);
    if (value_text) {
        struct strbuf v = {0};
        encode(value_text, 0, &v);
        CU_ASSERT_FATAL(v.len < 251);
        strbuf_appendc(d, (char)v.len);
        strbuf_append(d, v.buf, v.len);
        strbuf_free(&v);
    }
}

static const char *apply(const char *doc_text, const struct strbuf *diffs)
{
    struct strbuf doc = {0};
    if (doc_text)
        encode(doc_text, 0, &doc);
    strbuf_reset(&text_buf);
    strbuf_appends(&text_buf, "");
    memset(&last_err, 0, sizeof(last_err));
    int rc = json_binary_apply_diffs((const uint8_t *)doc.buf, doc.len, (const uint8_t *)diffs->buf,
                                     diffs->len, &text_buf, &last_err);
    strbuf_free(&doc);
    if (rc) {
        CU_ASSERT_EQUAL(rc, ERR_DECODE);
        CU_ASSERT_EQUAL(text_buf.len, 0);
        return NULL;
    }
    return text_buf.buf;
}

static void test_real_diffs(void)
{
    static const char *want[] = {"26", "34", "42"};
    uint8_t before[128];
    size_t before_len = unhex("0003003300190003001c000400200004000518000c24000c2f0061676564617461"
                              "6e616d650a78787878787878787878034a6f65",
                              before);
    for (int i = 0; i < 3; i++) {
        uint8_t d[32];
        size_t n = unhex(real_diffs[i], d);
        CU_ASSERT_EQUAL(n, 11);
        struct strbuf sb = {0};
        struct err err = {0};
        CU_ASSERT_EQUAL(json_binary_diffs_to_text(d, n, &sb, &err), 0);
        char expect[128];
        snprintf(expect, sizeof(expect), "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":%s}]",
                 want[i]);
        CU_ASSERT_STRING_EQUAL(sb.buf, expect);
        strbuf_reset(&sb);
        CU_ASSERT_EQUAL(json_binary_apply_diffs(before, before_len, d, n, &sb, &err), 0);
        snprintf(expect, sizeof(expect),
                 "{\"age\": %s, \"data\": \"xxxxxxxxxx\", \"name\": \"Joe\"}", want[i]);
        CU_ASSERT_STRING_EQUAL(sb.buf, expect);
        /* the hand-built before image of the brief */
        struct strbuf doc = {0};
        encode("{\"name\": \"Joe\", \"age\": 25}", 0, &doc);
        strbuf_reset(&sb);
        CU_ASSERT_EQUAL(json_binary_apply_diffs((const uint8_t *)doc.buf, doc.len, d, n, &sb, &err),
                        0);
        snprintf(expect, sizeof(expect), "{\"name\": \"Joe\", \"age\": %s}", want[i]);
        CU_ASSERT_STRING_EQUAL(sb.buf, expect);
        strbuf_free(&doc);
        strbuf_free(&sb);
    }
}

static void test_apply_objects(void)
{
    struct strbuf d = {0};
    const char *doc = "{\"a\": 1, \"b\": {\"c\": [1, 2, 3], \"dd\": \"x\"}, \"ccc\": null}";

    add_diff(&d, 0, "$.a", "\"one\"");
    CHECK_TEXT(apply(doc, &d),
               "{\"a\": \"one\", \"b\": {\"c\": [1, 2, 3], \"dd\": \"x\"}, \"ccc\": null}");

    strbuf_reset(&d);
    add_diff(&d, 0, "$.b.dd", "{\"z\": [true]}");
    CHECK_TEXT(apply(doc, &d),
               "{\"a\": 1, \"b\": {\"c\": [1, 2, 3], \"dd\": {\"z\": [true]}}, \"ccc\": null}");

    /* INSERT keeps MySQL's key order: by length, then bytes */
    strbuf_reset(&d);
    add_diff(&d, 1, "$.bb", "2");
    add_diff(&d, 1, "$.b.a", "0");
    add_diff(&d, 1, "$.zzzz", "4");
    add_diff(&d, 1, "$.\"\"", "[]");
    CHECK_TEXT(apply(doc, &d), "{\"\": [], \"a\": 1, \"b\": {\"a\": 0, \"c\": [1, 2, 3], \"dd\": "
                               "\"x\"}, \"bb\": 2, \"ccc\": null, \"zzzz\": 4}");

    /* INSERT of an existing key replaces it */
    strbuf_reset(&d);
    add_diff(&d, 1, "$.a", "5");
    CHECK_TEXT(apply(doc, &d),
               "{\"a\": 5, \"b\": {\"c\": [1, 2, 3], \"dd\": \"x\"}, \"ccc\": null}");

    strbuf_reset(&d);
    add_diff(&d, 2, "$.b", NULL);
    add_diff(&d, 2, "$.ccc", NULL);
    CHECK_TEXT(apply(doc, &d), "{\"a\": 1}");

    strbuf_reset(&d);
    add_diff(&d, 2, "$.a", NULL);
    add_diff(&d, 2, "$.b", NULL);
    add_diff(&d, 2, "$.ccc", NULL);
    CHECK_TEXT(apply(doc, &d), "{}");

    /* quoted keys with spaces and escapes; whitespace in the path */
    strbuf_reset(&d);
    add_diff(&d, 0, "$.\"x y\"", "1");
    add_diff(&d, 0, "$ . \"q\\\"\\u00e9\" [ 1 ]", "true");
    CHECK_TEXT(apply("{\"x y\": 0, \"q\\\"\xc3\xa9\": [0, 0]}", &d),
               "{\"x y\": 1, \"q\\\"\xc3\xa9\": [0, true]}");

    /* replace the root; a diff sequence that builds on earlier diffs */
    strbuf_reset(&d);
    add_diff(&d, 0, "$", "{\"n\": []}");
    add_diff(&d, 1, "$.n[0]", "\"a\"");
    add_diff(&d, 1, "$.m", "{}");
    add_diff(&d, 1, "$.m.k", "1.5");
    CHECK_TEXT(apply(doc, &d), "{\"m\": {\"k\": 1.5}, \"n\": [\"a\"]}");
    strbuf_free(&d);
}

static void test_apply_arrays(void)
{
    struct strbuf d = {0};
    const char *doc = "[10, [20, 21], {\"k\": [30, 31, 32]}]";

    add_diff(&d, 0, "$[0]", "11");
    CHECK_TEXT(apply(doc, &d), "[11, [20, 21], {\"k\": [30, 31, 32]}]");

    strbuf_reset(&d);
    add_diff(&d, 0, "$[2].k[last]", "\"L\"");
    add_diff(&d, 0, "$[1][last-1]", "\"M\"");
    CHECK_TEXT(apply(doc, &d), "[10, [\"M\", 21], {\"k\": [30, 31, \"L\"]}]");

    /* INSERT at the front, middle, end and past the end (appends) */
    strbuf_reset(&d);
    add_diff(&d, 1, "$[0]", "\"first\"");
    add_diff(&d, 1, "$[2]", "\"mid\"");
    add_diff(&d, 1, "$[5]", "\"end\"");
    add_diff(&d, 1, "$[99]", "\"past\"");
    CHECK_TEXT(apply(doc, &d), "[\"first\", 10, \"mid\", [20, 21], {\"k\": [30, 31, 32]}, "
                               "\"end\", \"past\"]");

    strbuf_reset(&d);
    add_diff(&d, 2, "$[2].k[1]", NULL);
    add_diff(&d, 2, "$[1][0]", NULL);
    add_diff(&d, 2, "$[0]", NULL);
    CHECK_TEXT(apply(doc, &d), "[[21], {\"k\": [30, 32]}]");

    /* insert into an empty array, remove down to empty */
    strbuf_reset(&d);
    add_diff(&d, 1, "$[0]", "1");
    add_diff(&d, 1, "$[0]", "0");
    CHECK_TEXT(apply("[]", &d), "[0, 1]");
    strbuf_reset(&d);
    add_diff(&d, 2, "$[0]", NULL);
    CHECK_TEXT(apply("[null]", &d), "[]");

    /* auto-wrap: [0] on a scalar is the scalar itself */
    strbuf_reset(&d);
    add_diff(&d, 0, "$.a[0]", "2");
    CHECK_TEXT(apply("{\"a\": 1}", &d), "{\"a\": 2}");

    /* large-format before image */
    strbuf_reset(&d);
    add_diff(&d, 0, "$[1][1]", "-1");
    struct strbuf big = {0};
    encode(doc, 1, &big);
    strbuf_reset(&text_buf);
    CU_ASSERT_EQUAL(json_binary_apply_diffs((const uint8_t *)big.buf, big.len,
                                            (const uint8_t *)d.buf, d.len, &text_buf, &last_err),
                    0);
    CU_ASSERT_STRING_EQUAL(text_buf.buf, "[10, [20, -1], {\"k\": [30, 31, 32]}]");
    strbuf_free(&big);

    /* empty before image is null; replacing the root works on it */
    strbuf_reset(&d);
    add_diff(&d, 0, "$", "[1]");
    CHECK_TEXT(apply(NULL, &d), "[1]");
    /* no diffs: the document unchanged */
    strbuf_reset(&d);
    CHECK_TEXT(apply(doc, &d), doc);
    strbuf_free(&d);
}

static void test_apply_errors(void)
{
    struct strbuf d = {0};
    const char *doc = "{\"a\": [1, 2], \"b\": 3}";
    struct {
        int op;
        const char *path, *value;
    } bad[] = {
        {0, "$.zz", "1"},     {2, "$.zz", NULL},       {0, "$.a[2]", "1"},
        {2, "$.a[5]", NULL},  {1, "$.q.r", "1"},       {1, "$.b.c", "1"},
        {1, "$.a.c", "1"},    {1, "$[0]", "1"},        {0, "$.*", "1"},
        {0, "$**.a", "1"},    {0, "$.a[*]", "1"},      {0, "a", "1"},
        {0, "$.", "1"},       {0, "$[", "1"},          {0, "$[x]", "1"},
        {0, "$.\"open", "1"}, {0, "$.\"\\x\"", "1"},   {2, "$", NULL},
        {1, "$", "1"},        {0, "$.a[last-5]", "1"}, {0, "$.\"\\ud800\"", "1"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strbuf_reset(&d);
        add_diff(&d, bad[i].op, bad[i].path, bad[i].value);
        const char *r = apply(doc, &d);
        if (r)
            printf("\n  bad diff %zu (%s) applied: %s\n", i, bad[i].path, r);
        CU_ASSERT_PTR_NULL(r);
    }
    /* bad op, value length 0, value not valid binary */
    const uint8_t badop[] = {3, 3, '$', '.', 'a', 1, 4};
    const uint8_t zero_len[] = {0, 3, '$', '.', 'b', 0};
    const uint8_t bad_val[] = {0, 3, '$', '.', 'b', 2, 0x04, 9};
    const uint8_t null_len[] = {0, 251};
    const struct {
        const uint8_t *p;
        size_t n;
    } raw[] = {{badop, sizeof(badop)},
               {zero_len, sizeof(zero_len)},
               {bad_val, sizeof(bad_val)},
               {null_len, sizeof(null_len)}};
    struct strbuf doc_bin = {0};
    encode(doc, 0, &doc_bin);
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        struct strbuf sb = {0};
        struct err err = {0};
        CU_ASSERT_EQUAL(json_binary_apply_diffs((const uint8_t *)doc_bin.buf, doc_bin.len, raw[i].p,
                                                raw[i].n, &sb, &err),
                        ERR_DECODE);
        CU_ASSERT_EQUAL(sb.len, 0);
        if (i != 2) /* a bad value is only noticed when rendered */
            CU_ASSERT_EQUAL(json_binary_diffs_to_text(raw[i].p, raw[i].n, &sb, &err), ERR_DECODE);
        CU_ASSERT_EQUAL(json_binary_diffs_to_text(raw[2].p, raw[2].n, &sb, &err), ERR_DECODE);
        CU_ASSERT_EQUAL(sb.len, 0);
        strbuf_free(&sb);
    }
    /* a malformed before image */
    strbuf_reset(&d);
    add_diff(&d, 0, "$.a", "1");
    const uint8_t bad_doc[] = {0x00, 5, 0};
    strbuf_reset(&text_buf);
    CU_ASSERT_EQUAL(json_binary_apply_diffs(bad_doc, sizeof(bad_doc), (const uint8_t *)d.buf, d.len,
                                            &text_buf, &last_err),
                    ERR_DECODE);
    strbuf_free(&doc_bin);
    strbuf_free(&d);
}

static void test_diffs_to_text(void)
{
    struct strbuf d = {0};
    add_diff(&d, 0, "$.a", "{\"b\": [1, \"two\"]}");
    add_diff(&d, 1, "$.\"x y\"[3]", "null");
    add_diff(&d, 2, "$.gone", NULL);
    struct strbuf sb = {0};
    struct err err = {0};
    CU_ASSERT_EQUAL(json_binary_diffs_to_text((const uint8_t *)d.buf, d.len, &sb, &err), 0);
    CU_ASSERT_STRING_EQUAL(sb.buf, "[{\"op\":\"replace\",\"path\":\"$.a\",\"value\":{\"b\": [1, "
                                   "\"two\"]}},{\"op\":\"insert\",\"path\":\"$.\\\"x y\\\"[3]\","
                                   "\"value\":null},{\"op\":\"remove\",\"path\":\"$.gone\"}]");
    strbuf_reset(&sb);
    CU_ASSERT_EQUAL(json_binary_diffs_to_text(NULL, 0, &sb, &err), 0);
    CU_ASSERT_STRING_EQUAL(sb.buf, "[]");
    /* long path: 2-byte packed length */
    strbuf_reset(&d);
    char path[400] = "$.";
    for (int i = 0; i < 300; i++)
        strcat(path, "k");
    add_diff(&d, 2, path, NULL);
    strbuf_reset(&sb);
    CU_ASSERT_EQUAL(json_binary_diffs_to_text((const uint8_t *)d.buf, d.len, &sb, &err), 0);
    CU_ASSERT_EQUAL(sb.len, strlen("[{\"op\":\"remove\",\"path\":\"\"}]") + 302);
    strbuf_free(&sb);
    strbuf_free(&d);
}

static void test_diff_prefixes_and_garbage(void)
{
    struct strbuf d = {0};
    add_diff(&d, 0, "$.a[0]", "{\"b\": [1, \"two\"]}");
    add_diff(&d, 1, "$.\"x y\"", "[null, 1.5]");
    add_diff(&d, 2, "$.b", NULL);
    struct strbuf doc = {0};
    encode("{\"a\": [0], \"b\": 1}", 0, &doc);
    for (size_t n = 0; n <= d.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, d.buf, n);
        struct strbuf sb = {0};
        struct err err = {0};
        int rc = json_binary_diffs_to_text(p, n, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        strbuf_reset(&sb);
        rc = json_binary_apply_diffs((const uint8_t *)doc.buf, doc.len, p, n, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        if (n == d.len) {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_STRING_EQUAL(sb.buf,
                                   "{\"a\": [{\"b\": [1, \"two\"]}], \"x y\": [null, 1.5]}");
        }
        strbuf_free(&sb);
        free(p);
    }
    for (int iter = 0; iter < 50000; iter++) {
        uint8_t *p = malloc(d.len);
        memcpy(p, d.buf, d.len);
        p[rng() % d.len] = (uint8_t)rng();
        struct strbuf sb = {0};
        struct err err = {0};
        int rc = json_binary_apply_diffs((const uint8_t *)doc.buf, doc.len, p, d.len, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        strbuf_reset(&sb);
        rc = json_binary_diffs_to_text(p, d.len, &sb, &err);
        CU_ASSERT(rc == 0 || rc == ERR_DECODE);
        strbuf_free(&sb);
        free(p);
    }
    strbuf_free(&doc);
    strbuf_free(&d);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("json_binary", NULL, NULL);
    CU_add_test(s, "real_opaque", test_real_opaque);
    CU_add_test(s, "real_document", test_real_document);
    CU_add_test(s, "opaque_more", test_opaque_more);
    CU_add_test(s, "scalars", test_scalars);
    CU_add_test(s, "doubles", test_doubles);
    CU_add_test(s, "roundtrips", test_roundtrips);
    CU_add_test(s, "large_format", test_large_format);
    CU_add_test(s, "truncated_prefixes", test_truncated_prefixes);
    CU_add_test(s, "garbage", test_garbage);
    CU_add_test(s, "depth_limit", test_depth_limit);
    CU_add_test(s, "shared_offsets", test_shared_offsets);
    CU_add_test(s, "bad_headers", test_bad_headers);
    CU_add_test(s, "real_diffs", test_real_diffs);
    CU_add_test(s, "apply_objects", test_apply_objects);
    CU_add_test(s, "apply_arrays", test_apply_arrays);
    CU_add_test(s, "apply_errors", test_apply_errors);
    CU_add_test(s, "diffs_to_text", test_diffs_to_text);
    CU_add_test(s, "diff_prefixes_and_garbage", test_diff_prefixes_and_garbage);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&text_buf);
    return failed ? 1 : 0;
}
