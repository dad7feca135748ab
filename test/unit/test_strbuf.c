/*
 * test_strbuf.c — unit tests for src/util/strbuf.c: the buffer itself, JSON string escaping
 * (RFC 8259 escapes, UTF-8 validation with U+FFFD replacement), base64 (RFC 4648 section 10
 * vectors), hex, shortest round-trip float/double text and 64-bit integers.
 */
#include <CUnit/Basic.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define FFFD "\xef\xbf\xbd"

static struct strbuf sb;

static const char *json_str(const char *s, size_t n)
{
    strbuf_reset(&sb);
    strbuf_append_json_str(&sb, s, n);
    return sb.buf;
}

/* Escapes a NUL-terminated input and compares with the expected JSON text. */
#define CHECK_JSON(in, want) CU_ASSERT_STRING_EQUAL(json_str((in), sizeof(in) - 1), (want))

static const char *b64(const char *s)
{
    strbuf_reset(&sb);
    strbuf_append_base64_json(&sb, (const uint8_t *)s, strlen(s));
    return sb.buf;
}

static const char *dbl(double d)
{
    strbuf_reset(&sb);
    strbuf_append_double(&sb, d);
    return sb.buf;
}

static const char *flt(float f)
{
    strbuf_reset(&sb);
    strbuf_append_float(&sb, f);
    return sb.buf;
}

static void test_buffer_basics(void)
{
    struct strbuf b = {0};
    strbuf_append(&b, "abc", 3);
    strbuf_appendc(&b, 'd');
    strbuf_appends(&b, "ef");
    strbuf_printf(&b, "%d-%s", 42, "x");
    CU_ASSERT_STRING_EQUAL(b.buf, "abcdef42-x");
    CU_ASSERT_EQUAL(b.len, 10);
    strbuf_truncate(&b, 3);
    CU_ASSERT_STRING_EQUAL(b.buf, "abc");
    strbuf_truncate(&b, 10); /* longer than len: no-op */
    CU_ASSERT_EQUAL(b.len, 3);
    /* Growth well past the initial capacity keeps the content and the NUL. */
    for (int i = 0; i < 1000; i++)
        strbuf_appendc(&b, 'z');
    CU_ASSERT_EQUAL(b.len, 1003);
    CU_ASSERT_EQUAL(b.buf[1003], '\0');
    CU_ASSERT(b.cap > b.len);
    size_t cap = b.cap;
    strbuf_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(b.cap, cap);
    CU_ASSERT_STRING_EQUAL(b.buf, "");
    strbuf_free(&b);
    CU_ASSERT_PTR_NULL(b.buf);
    CU_ASSERT_EQUAL(b.cap, 0);
}

static void test_json_escapes(void)
{
    CHECK_JSON("", "\"\"");
    CHECK_JSON("plain text", "\"plain text\"");
    CHECK_JSON("a\"b", "\"a\\\"b\"");
    CHECK_JSON("a\\b", "\"a\\\\b\"");
    CHECK_JSON("/", "\"/\""); /* solidus needs no escape */
    CHECK_JSON("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    CHECK_JSON("\x01\x1f", "\"\\u0001\\u001f\"");
    CHECK_JSON("\x7f", "\"\x7f\""); /* DEL is legal in JSON strings */
    /* An embedded NUL is data, not the end. */
    CU_ASSERT_STRING_EQUAL(json_str("a\0b", 3), "\"a\\u0000b\"");
    CU_ASSERT_EQUAL(sb.len, 10);
    /* Only n bytes are read. */
    CU_ASSERT_STRING_EQUAL(json_str("abcdef", 2), "\"ab\"");
    /* Appends after existing content. */
    strbuf_reset(&sb);
    strbuf_appends(&sb, "x=");
    strbuf_append_json_str(&sb, "y", 1);
    CU_ASSERT_STRING_EQUAL(sb.buf, "x=\"y\"");
}

static void test_json_utf8_valid(void)
{
    CHECK_JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");           /* U+00E9, 2 bytes */
    CHECK_JSON("\xc2\x80", "\"\xc2\x80\"");                 /* U+0080, smallest 2-byte */
    CHECK_JSON("\xdf\xbf", "\"\xdf\xbf\"");                 /* U+07FF */
    CHECK_JSON("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");         /* U+0800, smallest 3-byte */
    CHECK_JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"");         /* euro sign */
    CHECK_JSON("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");         /* U+D7FF, below surrogates */
    CHECK_JSON("\xee\x80\x80", "\"\xee\x80\x80\"");         /* U+E000, above them */
    CHECK_JSON("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");         /* U+FFFF */
    CHECK_JSON("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
    CHECK_JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* emoji */
    CHECK_JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF, the last */
    CHECK_JSON("a\xc3\xa9\"\xe2\x82\xac", "\"a\xc3\xa9\\\"\xe2\x82\xac\""); /* mixed */
}

static void test_json_utf8_invalid(void)
{
    CHECK_JSON("\x80", "\"" FFFD "\""); /* lone continuation */
    CHECK_JSON("\xbf", "\"" FFFD "\"");
    CHECK_JSON("\xff", "\"" FFFD "\""); /* never valid */
    CHECK_JSON("\xfe", "\"" FFFD "\"");
    CHECK_JSON("a\xc3", "\"a" FFFD "\"");                 /* truncated at the end */
    CHECK_JSON("\xc3x", "\"" FFFD "x\"");                 /* bad continuation */
    CHECK_JSON("\xe2\x82", "\"" FFFD FFFD "\"");          /* truncated 3-byte */
    CHECK_JSON("\xf0\x9f\x98", "\"" FFFD FFFD FFFD "\""); /* truncated 4-byte */
    /* Overlong forms: 0xc0/0xc1 leads, and 3/4-byte encodings of smaller code points. */
    CHECK_JSON("\xc0\xaf", "\"" FFFD FFFD "\"");
    CHECK_JSON("\xc1\xbf", "\"" FFFD FFFD "\"");
    CHECK_JSON("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
    CHECK_JSON("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\"");
    CHECK_JSON("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_JSON("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
    /* UTF-16 surrogates encoded in UTF-8 (CESU-8). */
    CHECK_JSON("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
    CHECK_JSON("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
    /* Beyond U+10FFFF, and 5/6-byte leads. */
    CHECK_JSON("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_JSON("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_JSON("\xf8\x88\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD FFFD "\"");
    /* Recovery: valid text after an invalid byte is kept. */
    CHECK_JSON("\xff\xc3\xa9\"", "\"" FFFD "\xc3\xa9\\\"\"");
}

static void test_json_no_overread(void)
{
    /* A lead byte as the very last byte of a heap buffer must not read past it (ASan). */
    static const char *leads[] = {"\xc3", "\xe2", "\xe2\x82", "\xf0", "\xf0\x9f\x98"};
    for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
        size_t n = strlen(leads[i]);
        char *p = malloc(n);
        memcpy(p, leads[i], n);
        json_str(p, n);
        CU_ASSERT_EQUAL(strncmp(sb.buf, "\"" FFFD, 4), 0);
        free(p);
    }
}

static void test_base64(void)
{
    /* RFC 4648 section 10. */
    CU_ASSERT_STRING_EQUAL(b64(""), "\"\"");
    CU_ASSERT_STRING_EQUAL(b64("f"), "\"Zg==\"");
    CU_ASSERT_STRING_EQUAL(b64("fo"), "\"Zm8=\"");
    CU_ASSERT_STRING_EQUAL(b64("foo"), "\"Zm9v\"");
    CU_ASSERT_STRING_EQUAL(b64("foob"), "\"Zm9vYg==\"");
    CU_ASSERT_STRING_EQUAL(b64("fooba"), "\"Zm9vYmE=\"");
    CU_ASSERT_STRING_EQUAL(b64("foobar"), "\"Zm9vYmFy\"");
    /* The last two alphabet characters and all-ones / all-zero bytes. */
    static const uint8_t hi[] = {0xfb, 0xff, 0xbf};
    static const uint8_t zeros[] = {0, 0, 0, 0, 0};
    static const uint8_t ones[] = {0xff, 0xff, 0xff, 0xff};
    strbuf_reset(&sb);
    strbuf_append_base64_json(&sb, hi, 3);
    CU_ASSERT_STRING_EQUAL(sb.buf, "\"+/+/\"");
    strbuf_reset(&sb);
    strbuf_append_base64_json(&sb, zeros, 5);
    CU_ASSERT_STRING_EQUAL(sb.buf, "\"AAAAAAA=\"");
    strbuf_reset(&sb);
    strbuf_append_base64_json(&sb, ones, 4);
    CU_ASSERT_STRING_EQUAL(sb.buf, "\"/////w==\"");
    CU_ASSERT_EQUAL(sb.len, strlen(sb.buf));
    /* Appends after existing content, NUL-terminated; exact heap-sized input (ASan). */
    for (size_t n = 0; n <= 5; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memset(p, 'a', n);
        strbuf_reset(&sb);
        strbuf_appends(&sb, "k:");
        strbuf_append_base64_json(&sb, p, n);
        CU_ASSERT_EQUAL(sb.len, 2 + 2 + (n + 2) / 3 * 4);
        CU_ASSERT_EQUAL(sb.buf[sb.len], '\0');
        free(p);
    }
}

static void test_hex(void)
{
    static const uint8_t d[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    strbuf_reset(&sb);
    strbuf_append_hex(&sb, d, 0);
    CU_ASSERT_EQUAL(sb.len, 0);
    strbuf_append_hex(&sb, d, sizeof(d));
    CU_ASSERT_STRING_EQUAL(sb.buf, "0001abcdefff");
    strbuf_append_hex(&sb, d + 2, 1);
    CU_ASSERT_STRING_EQUAL(sb.buf, "0001abcdefffab");
}

static void test_double(void)
{
    CU_ASSERT_STRING_EQUAL(dbl(0.0), "0");
    CU_ASSERT_STRING_EQUAL(dbl(-0.0), "-0");
    CU_ASSERT_STRING_EQUAL(dbl(1.0), "1");
    CU_ASSERT_STRING_EQUAL(dbl(-2.5), "-2.5");
    CU_ASSERT_STRING_EQUAL(dbl(0.1), "0.1");
    CU_ASSERT_STRING_EQUAL(dbl(0.1 + 0.2), "0.30000000000000004");
    CU_ASSERT_STRING_EQUAL(dbl(1e300), "1e+300");
    CU_ASSERT_STRING_EQUAL(dbl(1e21), "1e+21");
    CU_ASSERT_STRING_EQUAL(dbl(123456.0), "123456");
    CU_ASSERT_STRING_EQUAL(dbl(5e-324), "5e-324"); /* smallest subnormal */
    CU_ASSERT_STRING_EQUAL(dbl(DBL_MIN), "2.2250738585072014e-308");
    CU_ASSERT_STRING_EQUAL(dbl(DBL_MAX), "1.7976931348623157e+308");
    CU_ASSERT_STRING_EQUAL(dbl(-DBL_MAX), "-1.7976931348623157e+308");
    CU_ASSERT_STRING_EQUAL(dbl(NAN), "null");
    CU_ASSERT_STRING_EQUAL(dbl(INFINITY), "null");
    CU_ASSERT_STRING_EQUAL(dbl(-INFINITY), "null");
    /* Round trip on awkward values: the text reads back as exactly the same double. */
    static const double vals[] = {1.0 / 3, 2.0 / 3, 1e-7, 9007199254740993.0, 4.35, 0.3, 1e23};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        CU_ASSERT_EQUAL(strtod(dbl(vals[i]), NULL), vals[i]);
}

static void test_float(void)
{
    CU_ASSERT_STRING_EQUAL(flt(1.1f), "1.1"); /* not 1.10000002384 */
    CU_ASSERT_STRING_EQUAL(flt(0.1f), "0.1");
    CU_ASSERT_STRING_EQUAL(flt(-0.0f), "-0");
    CU_ASSERT_STRING_EQUAL(flt(16777216.0f), "16777216");
    CU_ASSERT_STRING_EQUAL(flt(FLT_MAX), "3.4028235e+38");
    CU_ASSERT_STRING_EQUAL(flt(FLT_MIN), "1.1754944e-38");
    CU_ASSERT_STRING_EQUAL(flt(1e-45f), "1e-45"); /* smallest subnormal float */
    CU_ASSERT_STRING_EQUAL(flt(NAN), "null");
    CU_ASSERT_STRING_EQUAL(flt(INFINITY), "null");
    CU_ASSERT_STRING_EQUAL(flt(-INFINITY), "null");
    static const float vals[] = {1.0f / 3, 3.14159265f, 123456.789f, 7e-10f};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        CU_ASSERT_EQUAL(strtof(flt(vals[i]), NULL), vals[i]);
}

static void test_integers(void)
{
    strbuf_reset(&sb);
    strbuf_append_u64(&sb, 0);
    strbuf_appendc(&sb, ' ');
    strbuf_append_u64(&sb, UINT64_MAX);
    strbuf_appendc(&sb, ' ');
    strbuf_append_i64(&sb, 0);
    strbuf_appendc(&sb, ' ');
    strbuf_append_i64(&sb, -1);
    strbuf_appendc(&sb, ' ');
    strbuf_append_i64(&sb, INT64_MAX);
    strbuf_appendc(&sb, ' ');
    strbuf_append_i64(&sb, INT64_MIN);
    CU_ASSERT_STRING_EQUAL(sb.buf,
                           "0 18446744073709551615 0 -1 9223372036854775807 -9223372036854775808");
}

/* Every digit count: 10^k - 1, 10^k and 10^k + 1 against printf. */
static void test_integer_digits(void)
{
    uint64_t p = 1;
    for (int k = 0; k <= 19; k++, p *= 10) {
        uint64_t vs[] = {p - 1, p, p + 1};
        for (int j = 0; j < 3; j++) {
            char want[32];
            snprintf(want, sizeof(want), "%llu", (unsigned long long)vs[j]);
            strbuf_reset(&sb);
            strbuf_append_u64(&sb, vs[j]);
            CU_ASSERT_STRING_EQUAL(sb.buf, want);
            CU_ASSERT_EQUAL(sb.len, strlen(want));
        }
    }
}

/* The plain per-byte escaper the block paths must agree with (valid UTF-8 input). */
static void ref_json(struct strbuf *out, const unsigned char *s, size_t n)
{
    strbuf_appendc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            strbuf_appendc(out, '\\');
            strbuf_appendc(out, (char)c);
        } else if (c == '\n') {
            strbuf_append(out, "\\n", 2);
        } else if (c < 0x20) {
            char u[8];
            snprintf(u, sizeof(u), "\\u%04x", c);
            strbuf_append(out, u, 6);
        } else {
            strbuf_appendc(out, (char)c);
        }
    }
    strbuf_appendc(out, '"');
}

/* Strings of every length up to 70 (16- and 8-byte blocks, short tails), plain and with one
 * byte to escape, or one 2-byte UTF-8 sequence, at each position; each in a heap buffer of its
 * exact size, so that ASan sees any read past it. */
static void test_json_blocks(void)
{
    static const char *specials[] = {"\"", "\\", "\n", "\x01", "\xc3\xa9"};
    struct strbuf want = {0};
    for (size_t n = 0; n <= 70; n++) {
        for (size_t sp = 0; sp <= sizeof(specials) / sizeof(specials[0]); sp++) {
            for (size_t at = 0; at < (sp ? n : 1); at++) {
                size_t sl = sp ? strlen(specials[sp - 1]) : 0;
                if (sp && at + sl > n)
                    continue;
                unsigned char *buf = malloc(n ? n : 1);
                for (size_t i = 0; i < n; i++)
                    buf[i] = (unsigned char)('a' + i % 26);
                if (sp)
                    memcpy(buf + at, specials[sp - 1], sl);
                strbuf_reset(&want);
                ref_json(&want, buf, n);
                strbuf_reset(&sb);
                strbuf_append(&sb, "x", 1); /* not at the buffer start */
                strbuf_append_json_str(&sb, (const char *)buf, n);
                CU_ASSERT_STRING_EQUAL(sb.buf + 1, want.buf);
                free(buf);
            }
        }
    }
    strbuf_free(&want);
}

/* The fast path of strbuf_append_double/float (start at 15 / 6 digits) against a plain search
 * from one digit up, over random bit patterns and over values read from short decimals. */
static unsigned long long rng_state = 88172645463325252ULL;
static unsigned long long rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void brute_shortest(char *out, size_t n, double d, int max, int is_float)
{
    for (int prec = 1; prec <= max; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (is_float ? (strtof(out, NULL) == (float)d) : (strtod(out, NULL) == d))
            return;
    }
}

/* Significant digits of a %g-style number: mantissa digits without leading/trailing zeros. */
static int sig_digits(const char *s)
{
    char m[40];
    size_t k = 0;
    for (; *s && *s != 'e' && *s != 'E' && k < sizeof(m) - 1; s++)
        if (*s >= '0' && *s <= '9')
            m[k++] = *s;
    m[k] = '\0';
    size_t a = 0, b = k;
    while (a < b && m[a] == '0')
        a++;
    while (b > a && m[b - 1] == '0')
        b--;
    return (int)(b - a);
}

/* got is right when it reads back exactly and has no more significant digits than want. */
static bool same_shortest(const char *got, const char *want, double d, int is_float)
{
    bool back = is_float ? strtof(got, NULL) == (float)d : strtod(got, NULL) == d;
    return back && sig_digits(got) <= sig_digits(want);
}

static void test_shortest_vs_search(void)
{
    char want[40];
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        double d;
        float f;
        if (i % 2) {
            unsigned long long b = rng();
            memcpy(&d, &b, 8);
            unsigned b32 = (unsigned)b;
            memcpy(&f, &b32, 4);
        } else {
            char dec[32];
            snprintf(dec, sizeof(dec), "%llu.%llue%d", rng() % 100000, rng() % 1000,
                     (int)(rng() % 40) - 20);
            d = strtod(dec, NULL);
            f = strtof(dec, NULL);
        }
        if (isfinite(d)) {
            brute_shortest(want, sizeof(want), d, 17, 0);
            if (!same_shortest(dbl(d), want, d, 0) && bad++ < 5)
                fprintf(stderr, "\n  double %.17g: want %s, got %s\n", d, want, dbl(d));
        }
        if (isfinite(f)) {
            brute_shortest(want, sizeof(want), (double)f, 9, 1);
            if (!same_shortest(flt(f), want, (double)f, 1) && bad++ < 5)
                fprintf(stderr, "\n  float %.9g: want %s, got %s\n", (double)f, want, flt(f));
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("strbuf", NULL, NULL);
    CU_add_test(s, "buffer_basics", test_buffer_basics);
    CU_add_test(s, "json_escapes", test_json_escapes);
    CU_add_test(s, "json_utf8_valid", test_json_utf8_valid);
    CU_add_test(s, "json_utf8_invalid", test_json_utf8_invalid);
    CU_add_test(s, "json_no_overread", test_json_no_overread);
    CU_add_test(s, "base64", test_base64);
    CU_add_test(s, "hex", test_hex);
    CU_add_test(s, "double", test_double);
    CU_add_test(s, "float", test_float);
    CU_add_test(s, "integers", test_integers);
    CU_add_test(s, "integer_digits", test_integer_digits);
    CU_add_test(s, "json_blocks", test_json_blocks);
    CU_add_test(s, "shortest_vs_search", test_shortest_vs_search);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    strbuf_free(&sb);
    return failed ? 1 : 0;
}
