/*
 * test_decimal.c — unit tests for src/decimal.c (MySQL binary DECIMAL to text).
 *
 * Vectors come from three places: real row images (go-mysql's decodedecimal table in
 * testdata/binlog/go-mysql/tcb-eval002c-bin.003320, expected text computed from the INSERT in
 * ddsql.sql with MySQL's rounding and clamping), the worked example in MySQL's decimal.cc
 * comment, and a small encoder below that round-trips random values of every precision/scale.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "testutil.h"

/* {precision, scale, row image bytes (hex), expected text} from the real binlog. */
static const struct {
    int precision, scale;
    const char *hex;
    const char *text;
} real_vectors[] = {
    {4, 2, "75c8", "-10.55"},
    {5, 0, "7ffff4", "-11"},
    {7, 3, "7ff5fdd9", "-10.550"},
    {10, 2, "7ffffff5c8", "-10.55"},
    {10, 3, "7ffffff5fdd9", "-10.550"},
    {13, 2, "7ffffffff5c8", "-10.55"},
    {15, 14, "76c4653600fe7960", "-9.99999999999999"},
    {20, 10, "7ffffffff5df37aa7fff", "-10.5500000000"},
    {30, 5, "7ffffffffffffffffffffff5ff2927", "-10.55000"},
    {30, 20, "7ffffffff5df37aa7fffffffffff", "-10.55000000000000000000"},
    {30, 25, "7ffff5df37aa7fffffffffffffffff", "-10.5500000000000000000000000"},
    {4, 2, "8001", "0.01"},
    {5, 0, "800000", "0"},
    {7, 3, "8000000c", "0.012"},
    {10, 2, "8000000001", "0.01"},
    {10, 3, "80000000000c", "0.012"},
    {13, 2, "800000000001", "0.01"},
    {15, 14, "8000bc614e01600b", "0.01234567890123"},
    {20, 10, "800000000000bc614e09", "0.0123456789"},
    {30, 5, "8000000000000000000000000004d3", "0.01235"},
    {30, 20, "800000000000bc614e35b7bf8759", "0.01234567890123456789"},
    {30, 25, "80000000bc614e35b7bf870087fdd9", "0.0123456789012345678912345"},
    {4, 2, "e363", "99.99"},
    {5, 0, "803039", "12345"},
    {7, 3, "a70f03e7", "9999.999"},
    {10, 2, "8000303900", "12345.00"},
    {10, 3, "800030390000", "12345.000"},
    {13, 2, "800000303900", "12345.00"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "80000030390000000000", "12345.0000000000"},
    {30, 5, "800000000000000000003039000000", "12345.00000"},
    {30, 20, "8000003039000000000000000000", "12345.00000000000000000000"},
    {30, 25, "803039000000000000000000000000", "12345.0000000000000000000000000"},
    {4, 2, "e363", "99.99"},
    {5, 0, "803039", "12345"},
    {7, 3, "a70f03e7", "9999.999"},
    {10, 2, "8000303900", "12345.00"},
    {10, 3, "800030390000", "12345.000"},
    {13, 2, "800000303900", "12345.00"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "80000030390000000000", "12345.0000000000"},
    {30, 5, "800000000000000000003039000000", "12345.00000"},
    {30, 20, "8000003039000000000000000000", "12345.00000000000000000000"},
    {30, 25, "803039000000000000000000000000", "12345.0000000000000000000000000"},
    {4, 2, "e363", "99.99"},
    {5, 0, "80007b", "123"},
    {7, 3, "807b01c2", "123.450"},
    {10, 2, "8000007b2d", "123.45"},
    {10, 3, "8000007b01c2", "123.450"},
    {13, 2, "800000007b2d", "123.45"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "800000007b1ad2748000", "123.4500000000"},
    {30, 5, "80000000000000000000007b00afc8", "123.45000"},
    {30, 20, "800000007b1ad274800000000000", "123.45000000000000000000"},
    {30, 25, "80007b1ad274800000000000000000", "123.4500000000000000000000000"},
    {4, 2, "1c9c", "-99.99"},
    {5, 0, "7fff84", "-123"},
    {7, 3, "7f84fe3d", "-123.450"},
    {10, 2, "7fffff84d2", "-123.45"},
    {10, 3, "7fffff84fe3d", "-123.450"},
    {13, 2, "7fffffff84d2", "-123.45"},
    {15, 14, "76c4653600fe7960", "-9.99999999999999"},
    {20, 10, "7fffffff84e52d8b7fff", "-123.4500000000"},
    {30, 5, "7fffffffffffffffffffff84ff5037", "-123.45000"},
    {30, 20, "7fffffff84e52d8b7fffffffffff", "-123.45000000000000000000"},
    {30, 25, "7fff84e52d8b7fffffffffffffffff", "-123.4500000000000000000000000"},
    {4, 2, "8000", "0.00"},
    {5, 0, "800000", "0"},
    {7, 3, "80000000", "0.000"},
    {10, 2, "8000000000", "0.00"},
    {10, 3, "800000000000", "0.000"},
    {13, 2, "800000000000", "0.00"},
    {15, 14, "800001e23a000063", "0.00012345000099"},
    {20, 10, "80000000000001e23a00", "0.0001234500"},
    {30, 5, "80000000000000000000000000000c", "0.00012"},
    {30, 20, "80000000000001e23a000f120200", "0.00012345000098765000"},
    {30, 25, "8000000001e23a000f120200000000", "0.0001234500009876500000000"},
    {4, 2, "8000", "0.00"},
    {5, 0, "800000", "0"},
    {7, 3, "80000000", "0.000"},
    {10, 2, "8000000000", "0.00"},
    {10, 3, "800000000000", "0.000"},
    {13, 2, "800000000000", "0.00"},
    {15, 14, "800001e23a000063", "0.00012345000099"},
    {20, 10, "80000000000001e23a00", "0.0001234500"},
    {30, 5, "80000000000000000000000000000c", "0.00012"},
    {30, 20, "80000000000001e23a000f120200", "0.00012345000098765000"},
    {30, 25, "8000000001e23a000f120200000000", "0.0001234500009876500000000"},
    {4, 2, "800c", "0.12"},
    {5, 0, "800000", "0"},
    {7, 3, "8000007b", "0.123"},
    {10, 2, "800000000c", "0.12"},
    {10, 3, "80000000007b", "0.123"},
    {13, 2, "80000000000c", "0.12"},
    {15, 14, "80075bb2900181cd", "0.12345000098765"},
    {20, 10, "8000000000075bb29100", "0.1234500010"},
    {30, 5, "800000000000000000000000003039", "0.12345"},
    {30, 20, "8000000000075bb2903ade57d000", "0.12345000098765000000"},
    {30, 25, "800000075bb2903ade57d000000000", "0.1234500009876500000000000"},
    {4, 2, "8000", "0.00"},
    {5, 0, "800000", "0"},
    {7, 3, "80000000", "0.000"},
    {10, 2, "8000000000", "0.00"},
    {10, 3, "800000000000", "0.000"},
    {13, 2, "800000000000", "0.00"},
    {15, 14, "7ffffffff3ff793b", "-0.00000001234500"},
    {20, 10, "7ffffffffffffffff3fc", "-0.0000000123"},
    {30, 5, "800000000000000000000000000000", "0.00000"},
    {30, 20, "7ffffffffffffffff3eb6fb75db2", "-0.00000001234500009877"},
    {30, 25, "7ffffffffffff3eb6fb75dff8b452f", "-0.0000000123450000987650000"},
    {4, 2, "e363", "99.99"},
    {5, 0, "81869f", "99999"},
    {7, 3, "a70f03e7", "9999.999"},
    {10, 2, "85f5e0ff63", "99999999.99"},
    {10, 3, "8098967f03e7", "9999999.999"},
    {13, 2, "e33b9ac9ff63", "99999999999.99"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "893b9ac9ff3b9ac9ff09", "9999999999.9999999999"},
    {30, 5, "80000000000004d21dcd8b9400c350", "1234500009876.50000"},
    {30, 20, "893b9ac9ff3b9ac9ff3b9ac9ff63", "9999999999.99999999999999999999"},
    {30, 25, "81869f3b9ac9ff3b9ac9ff0098967f", "99999.9999999999999999999999999"},
    {4, 2, "e363", "99.99"},
    {5, 0, "81869f", "99999"},
    {7, 3, "a70f03e7", "9999.999"},
    {10, 2, "85f5e0ff63", "99999999.99"},
    {10, 3, "8098967f03e7", "9999999.999"},
    {13, 2, "80069f6bc70b", "111111111.11"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "80069f6bc7068e778000", "111111111.1100000000"},
    {30, 5, "8000000000000000069f6bc7002af8", "111111111.11000"},
    {30, 20, "80069f6bc7068e77800000000000", "111111111.11000000000000000000"},
    {30, 25, "81869f3b9ac9ff3b9ac9ff0098967f", "99999.9999999999999999999999999"},
    {4, 2, "8001", "0.01"},
    {5, 0, "800000", "0"},
    {7, 3, "8000000a", "0.010"},
    {10, 2, "8000000001", "0.01"},
    {10, 3, "80000000000a", "0.010"},
    {13, 2, "800000000001", "0.01"},
    {15, 14, "8000989680000000", "0.01000000000000"},
    {20, 10, "80000000000098968000", "0.0100000000"},
    {30, 5, "8000000000000000000000000003e8", "0.01000"},
    {30, 20, "8000000000009896800000000000", "0.01000000000000000000"},
    {30, 25, "800000009896800000000000000000", "0.0100000000000000000000000"},
    {4, 2, "e363", "99.99"},
    {5, 0, "80007b", "123"},
    {7, 3, "807b0190", "123.400"},
    {10, 2, "8000007b28", "123.40"},
    {10, 3, "8000007b0190", "123.400"},
    {13, 2, "800000007b28", "123.40"},
    {15, 14, "893b9ac9ff01869f", "9.99999999999999"},
    {20, 10, "800000007b17d7840000", "123.4000000000"},
    {30, 5, "80000000000000000000007b009c40", "123.40000"},
    {30, 20, "800000007b17d784000000000000", "123.40000000000000000000"},
    {30, 25, "80007b17d784000000000000000000", "123.4000000000000000000000000"},
    {4, 2, "1c9c", "-99.99"},
    {5, 0, "7ffdcc", "-563"},
    {7, 3, "7dcdfdbb", "-562.580"},
    {10, 2, "7ffffdcdc5", "-562.58"},
    {10, 3, "7ffffdcdfdbb", "-562.580"},
    {13, 2, "7ffffffdcdc5", "-562.58"},
    {15, 14, "76c4653600fe7960", "-9.99999999999999"},
    {20, 10, "7ffffffdcddd6de6ffff", "-562.5800000000"},
    {30, 5, "7ffffffffffffffffffffdcdff1d6f", "-562.58000"},
    {30, 20, "7ffffffdcddd6de6ffffffffffff", "-562.58000000000000000000"},
    {30, 25, "7ffdcddd6de6ffffffffffffffffff", "-562.5800000000000000000000000"},
    {4, 2, "1c9c", "-99.99"},
    {5, 0, "7ff18c", "-3699"},
    {7, 3, "718cfff5", "-3699.010"},
    {10, 2, "7ffff18cfe", "-3699.01"},
    {10, 3, "7ffff18cfff5", "-3699.010"},
    {13, 2, "7ffffff18cfe", "-3699.01"},
    {15, 14, "76c4653600fe7960", "-9.99999999999999"},
    {20, 10, "7ffffff18cff67697fff", "-3699.0100000000"},
    {30, 5, "7ffffffffffffffffffff18cfffc17", "-3699.01000"},
    {30, 20, "7ffffff18cff67697fffffffffff", "-3699.01000000000000000000"},
    {30, 25, "7ff18cff67697fffffffffffffffff", "-3699.0100000000000000000000000"},
    {4, 2, "1c9c", "-99.99"},
    {5, 0, "7ff863", "-1948"},
    {7, 3, "7863ff73", "-1948.140"},
    {10, 2, "7ffff863f1", "-1948.14"},
    {10, 3, "7ffff863ff73", "-1948.140"},
    {13, 2, "7ffffff863f1", "-1948.14"},
    {15, 14, "76c4653600fe7960", "-9.99999999999999"},
    {20, 10, "7ffffff863f7a7c4ffff", "-1948.1400000000"},
    {30, 5, "7ffffffffffffffffffff863ffc94f", "-1948.14000"},
    {30, 20, "7ffffff863f7a7c4ffffffffffff", "-1948.14000000000000000000"},
    {30, 25, "7ff863f7a7c4ffffffffffffffffff", "-1948.1400000000000000000000000"},
};

/* Encodes the canonical text (optional '-', digits, optional '.' + exactly scale digits) as
 * MySQL's binary DECIMAL(precision, scale). Test-only, trusts its input. */
static size_t encode(const char *text, int precision, int scale, uint8_t *out)
{
    static const int d2b[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    int neg = text[0] == '-';
    if (neg)
        text++;
    const char *dot = strchr(text, '.');
    size_t ilen = dot ? (size_t)(dot - text) : strlen(text);
    const char *frac = dot ? dot + 1 : "";
    int intg = precision - scale;
    if (intg == 0)
        ilen = 0; /* the "0" before the point has no storage */
    char digits[80];
    memset(digits, '0', sizeof(digits));
    /* integer digits right-aligned in [0, intg), fraction left-aligned in [intg, precision) */
    memcpy(digits + intg - ilen, text, ilen);
    memcpy(digits + intg, frac, strlen(frac));
    size_t n = 0;
    int pos = 0;
    int groups[20], ng = 0;
    if (intg % 9)
        groups[ng++] = intg % 9;
    for (int i = 0; i < intg / 9; i++)
        groups[ng++] = 9;
    for (int i = 0; i < scale / 9; i++)
        groups[ng++] = 9;
    if (scale % 9)
        groups[ng++] = scale % 9;
    for (int g = 0; g < ng; g++) {
        uint32_t v = 0;
        for (int i = 0; i < groups[g]; i++)
            v = v * 10 + (uint32_t)(digits[pos++] - '0');
        for (int b = d2b[groups[g]] - 1; b >= 0; b--)
            out[n++] = (uint8_t)(v >> (8 * b));
    }
    if (neg) {
        for (size_t i = 0; i < n; i++)
            out[i] ^= 0xff;
    }
    out[0] ^= 0x80;
    return n;
}

static char *decode(const uint8_t *b, size_t n, int precision, int scale, int *rc)
{
    static struct strbuf sb;
    struct err err = {0};
    strbuf_reset(&sb);
    strbuf_appends(&sb, "");
    *rc = decimal_bin_to_str(b, n, precision, scale, &sb, &err);
    return sb.buf;
}

static void test_bin_size(void)
{
    CU_ASSERT_EQUAL(decimal_bin_size(1, 0), 1);
    CU_ASSERT_EQUAL(decimal_bin_size(4, 2), 2);
    CU_ASSERT_EQUAL(decimal_bin_size(9, 0), 4);
    CU_ASSERT_EQUAL(decimal_bin_size(10, 0), 5);
    CU_ASSERT_EQUAL(decimal_bin_size(14, 4), 7);
    CU_ASSERT_EQUAL(decimal_bin_size(18, 9), 8);
    CU_ASSERT_EQUAL(decimal_bin_size(65, 0), 29);
    CU_ASSERT_EQUAL(decimal_bin_size(65, 30), 30);
    CU_ASSERT_EQUAL(decimal_bin_size(30, 30), 14);
    CU_ASSERT_EQUAL(decimal_bin_size(0, 0), 0);
    CU_ASSERT_EQUAL(decimal_bin_size(66, 0), 0);
    CU_ASSERT_EQUAL(decimal_bin_size(40, 39), 0);
    CU_ASSERT_EQUAL(decimal_bin_size(5, 6), 0);
    CU_ASSERT_EQUAL(decimal_bin_size(5, -1), 0);
}

static void test_real_binlog_vectors(void)
{
    for (size_t i = 0; i < sizeof(real_vectors) / sizeof(real_vectors[0]); i++) {
        uint8_t b[64];
        size_t n = unhex(real_vectors[i].hex, b);
        CU_ASSERT_EQUAL(n, decimal_bin_size(real_vectors[i].precision, real_vectors[i].scale));
        int rc;
        const char *s = decode(b, n, real_vectors[i].precision, real_vectors[i].scale, &rc);
        CU_ASSERT_EQUAL(rc, 0);
        if (strcmp(s, real_vectors[i].text) != 0)
            printf("\nvector %zu: got %s want %s\n", i, s, real_vectors[i].text);
        CU_ASSERT_STRING_EQUAL(s, real_vectors[i].text);
    }
}

static void test_mysql_doc_example(void)
{
    /* decimal.cc: 1234567890.1234 as DECIMAL(14,4) is 81 0D FB 38 D2 04 D2. */
    const uint8_t pos[] = {0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2};
    const uint8_t neg[] = {0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb, 0x2d};
    int rc;
    CU_ASSERT_STRING_EQUAL(decode(pos, sizeof(pos), 14, 4, &rc), "1234567890.1234");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(decode(neg, sizeof(neg), 14, 4, &rc), "-1234567890.1234");
    CU_ASSERT_EQUAL(rc, 0);
    uint8_t b[64];
    CU_ASSERT_EQUAL(encode("1234567890.1234", 14, 4, b), 7);
    CU_ASSERT_EQUAL(memcmp(b, pos, 7), 0);
    CU_ASSERT_EQUAL(encode("-1234567890.1234", 14, 4, b), 7);
    CU_ASSERT_EQUAL(memcmp(b, neg, 7), 0);
}

static void check_text(const char *text, int precision, int scale)
{
    uint8_t b[64];
    size_t n = encode(text, precision, scale, b);
    CU_ASSERT_EQUAL(n, decimal_bin_size(precision, scale));
    int rc;
    const char *s = decode(b, n, precision, scale, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    if (strcmp(s, text) != 0)
        printf("\n(%d,%d): got %s want %s\n", precision, scale, s, text);
    CU_ASSERT_STRING_EQUAL(s, text);
}

static void test_edges(void)
{
    check_text("0", 1, 0);
    check_text("9", 1, 0);
    check_text("-9", 1, 0);
    check_text("0.0", 1, 1);
    check_text("0.5", 1, 1);
    check_text("-0.5", 1, 1);
    check_text("-0.50", 3, 2);
    check_text("0.10", 3, 2);
    check_text("0.000", 5, 3);
    check_text("-12.340000", 10, 6);
    check_text("123", 3, 0);
    check_text("9999999999", 10, 0);
    check_text("-9999999999", 10, 0);
    check_text("0", 10, 0);
    check_text("1000000000", 10, 0);
    check_text("999999999", 9, 0);
    check_text("-999999999.999999999", 18, 9);
    check_text("0.000000001", 18, 9);
    check_text("0.000000000000000000000000000001", 30, 30);
    check_text("-0.999999999999999999999999999999", 30, 30);
    check_text("99999999999999999999999999999999999999999999999999999999999999999", 65, 0);
    check_text("-99999999999999999999999999999999999999999999999999999999999999999", 65, 0);
    check_text("99999999999999999999999999999999999.999999999999999999999999999999", 65, 30);
    check_text("-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30);
    check_text("0.000000000000000000000000000000", 65, 30);
    check_text("1.000000000000000000000000000001", 65, 30);
    check_text("-10000000000000000000000000000000000.000000000000000000000000000000", 65, 30);
    /* The go-mysql column shapes at their maxima. */
    check_text("99.99", 4, 2);
    check_text("-99999", 5, 0);
    check_text("9999.999", 7, 3);
    check_text("99999999.99", 10, 2);
    check_text("9999999.999", 10, 3);
    check_text("-99999999999.99", 13, 2);
    check_text("9.99999999999999", 15, 14);
    check_text("-9999999999.9999999999", 20, 10);
    check_text("9999999999999999999999999.99999", 30, 5);
    check_text("-9999999999.99999999999999999999", 30, 20);
    check_text("99999.9999999999999999999999999", 30, 25);
}

static void test_negative_zero(void)
{
    /* A negative zero (all digits 0, sign clear) prints without the sign. */
    uint8_t b[] = {0x7f, 0xff};
    int rc;
    CU_ASSERT_STRING_EQUAL(decode(b, 2, 3, 2, &rc), "0.00");
    CU_ASSERT_EQUAL(rc, 0);
}

static void test_random_roundtrip(void)
{
    srand(12345);
    for (int precision = 1; precision <= 65; precision++) {
        for (int scale = 0; scale <= precision && scale <= 30; scale++) {
            for (int iter = 0; iter < 20; iter++) {
                char text[80];
                char *t = text;
                int intg = precision - scale;
                if (rand() & 1)
                    *t++ = '-';
                /* integer part: random length 0..intg, no leading zero */
                int ilen = intg ? rand() % (intg + 1) : 0;
                if (ilen == 0) {
                    *t++ = '0';
                } else {
                    *t++ = (char)('1' + rand() % 9);
                    for (int i = 1; i < ilen; i++)
                        *t++ = (char)('0' + rand() % 10);
                }
                if (scale) {
                    *t++ = '.';
                    for (int i = 0; i < scale; i++)
                        *t++ = (char)('0' + (iter & 2 ? 0 : rand() % 10));
                }
                *t = '\0';
                /* A negative zero is printed unsigned; skip it here. */
                if (text[0] == '-' && strspn(text + 1, "0.") == strlen(text + 1))
                    memmove(text, text + 1, strlen(text));
                check_text(text, precision, scale);
            }
        }
    }
}

static void test_errors(void)
{
    uint8_t b[64] = {0x80};
    struct strbuf sb = {0};
    struct err err = {0};
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 1, 0, 0, &sb, &err), ERR_DECODE);
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 64, 66, 0, &sb, &err), ERR_DECODE);
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 64, 40, 39, &sb, &err), ERR_DECODE);
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 64, 3, 4, &sb, &err), ERR_DECODE);
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 64, 3, -1, &sb, &err), ERR_DECODE);
    CU_ASSERT_EQUAL(err.code, ERR_DECODE);
    /* too short: DECIMAL(10,0) needs 5 bytes */
    CU_ASSERT_EQUAL(decimal_bin_to_str(b, 4, 10, 0, &sb, &err), ERR_DECODE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "need 5 bytes, have 4"));
    /* corrupt: the 1-digit leading group of DECIMAL(10,0) holds 10 */
    uint8_t c[] = {0x8a, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(decimal_bin_to_str(c, 5, 10, 0, &sb, &err), ERR_DECODE);
    /* corrupt: a full group holds 10^9 */
    uint8_t d[] = {0xbb, 0x9a, 0xca, 0x00};
    CU_ASSERT_EQUAL(decimal_bin_to_str(d, 4, 9, 0, &sb, &err), ERR_DECODE);
    /* nothing was appended by the failures */
    CU_ASSERT_EQUAL(sb.len, 0);
    /* appends, does not overwrite */
    strbuf_appends(&sb, "x=");
    uint8_t e[] = {0x80, 0x7b};
    CU_ASSERT_EQUAL(decimal_bin_to_str(e, 2, 3, 0, &sb, &err), 0);
    CU_ASSERT_STRING_EQUAL(sb.buf, "x=123");
    strbuf_free(&sb);
}

static void test_exhaustive_small(void)
{
    /* Every value of DECIMAL(3,1) and DECIMAL(4,2), both signs. */
    for (int v = -999; v <= 999; v++) {
        char text[16];
        snprintf(text, sizeof(text), "%s%d.%d", v < 0 ? "-" : "", abs(v) / 10, abs(v) % 10);
        check_text(text, 3, 1);
    }
    for (int v = -9999; v <= 9999; v++) {
        char text[16];
        snprintf(text, sizeof(text), "%s%d.%02d", v < 0 ? "-" : "", abs(v) / 100, abs(v) % 100);
        check_text(text, 4, 2);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("decimal", NULL, NULL);
    CU_add_test(s, "bin_size", test_bin_size);
    CU_add_test(s, "real_binlog_vectors", test_real_binlog_vectors);
    CU_add_test(s, "mysql_doc_example", test_mysql_doc_example);
    CU_add_test(s, "edges", test_edges);
    CU_add_test(s, "negative_zero", test_negative_zero);
    CU_add_test(s, "random_roundtrip", test_random_roundtrip);
    CU_add_test(s, "exhaustive_small", test_exhaustive_small);
    CU_add_test(s, "errors", test_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
