/*
 * test_charset.c — unit tests for src/charset.c (collation ids, conversion to UTF-8 JSON).
 *
 * The MariaDB ids were checked against a MariaDB 10.11 server's
 * INFORMATION_SCHEMA.COLLATION_CHARACTER_SET_APPLICABILITY (all 1242 ids agree; a sample is
 * kept here); the MySQL-only ids (76, 248..250, 255..323) come from MySQL 8.0's SHOW
 * COLLATION. Conversion expectations are the texts MariaDB itself returned for the same bytes.
 */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"

static const struct {
    unsigned id;
    const char *name; /* NULL: unknown */
} names[] = {
    {0, NULL},         {1, "big5"},       {8, "latin1"},       {11, "ascii"},     {13, "sjis"},
    {17, NULL},        {26, "cp1250"},    {28, "gbk"},         {33, "utf8mb3"},   {35, "ucs2"},
    {38, "macce"},     {45, "utf8mb4"},   {46, "utf8mb4"},     {47, "latin1"},    {50, "cp1251"},
    {51, "cp1251"},    {54, "utf16"},     {56, "utf16le"},     {60, "utf32"},     {62, "utf16le"},
    {63, "binary"},    {65, "ascii"},     {74, "koi8r"},       {76, "utf8mb3"},   {83, "utf8mb3"},
    {87, "gbk"},       {95, "cp932"},     {97, "eucjpms"},     {99, "cp1250"},    {100, NULL},
    {101, "utf16"},    {112, "utf16"},    {124, "utf16"},      {125, NULL},       {128, "ucs2"},
    {151, "ucs2"},     {159, "ucs2"},     {160, "utf32"},      {182, "utf32"},    {183, "utf32"},
    {192, "utf8mb3"},  {215, "utf8mb3"},  {223, "utf8mb3"},    {224, "utf8mb4"},  {233, "utf8mb4"},
    {246, "utf8mb4"},  {247, "utf8mb4"},  {248, "gb18030"},    {250, "gb18030"},  {251, NULL},
    {255, "utf8mb4"},  {278, "utf8mb4"},  {305, "utf8mb4"},    {309, "utf8mb4"},  {323, "utf8mb4"},
    {324, NULL},       {576, "utf8mb3"},  {608, "utf8mb4"},    {640, "ucs2"},     {672, "utf16"},
    {736, "utf32"},    {1024, NULL},      {1025, "big5"},      {1033, "latin2"},  {1052, "gbk"},
    {1057, "utf8mb3"}, {1069, "utf8mb4"}, {1070, "utf8mb4"},   {1071, "latin1"},  {1084, "utf32"},
    {1087, NULL},      {1097, "keybcs2"}, {1110, "gb2312"},    {1125, "utf16"},   {1147, "utf16"},
    {1216, "utf8mb3"}, {1248, "utf8mb4"}, {1270, "utf8mb4"},   {2048, "utf8mb3"}, {2122, "utf8mb3"},
    {2246, "utf8mb3"}, {2304, "utf8mb4"}, {2410, "utf8mb4"},   {2498, "utf8mb4"}, {2560, "ucs2"},
    {2750, "ucs2"},    {2816, "utf16"},   {3014, "utf16"},     {3072, "utf32"},   {3271, "utf32"},
    {3328, NULL},      {65535, NULL},     {4294967295u, NULL},
};

static void test_names(void)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = charset_name(names[i].id);
        if (names[i].name == NULL) {
            CU_ASSERT_PTR_NULL(got);
            if (got)
                printf("\n  id %u: got %s, want NULL\n", names[i].id, got);
        } else {
            CU_ASSERT_PTR_NOT_NULL(got);
            if (got) {
                CU_ASSERT_STRING_EQUAL(got, names[i].name);
                if (strcmp(got, names[i].name))
                    printf("\n  id %u: got %s, want %s\n", names[i].id, got, names[i].name);
            } else {
                printf("\n  id %u: got NULL, want %s\n", names[i].id, names[i].name);
            }
        }
    }
}

static void test_is_binary(void)
{
    CU_ASSERT_TRUE(charset_is_binary(63));
    CU_ASSERT_FALSE(charset_is_binary(0));
    CU_ASSERT_FALSE(charset_is_binary(8));
    CU_ASSERT_FALSE(charset_is_binary(46));
    CU_ASSERT_FALSE(charset_is_binary(1087));
}

static void test_maxlen(void)
{
    CU_ASSERT_EQUAL(charset_maxlen(8), 1);
    CU_ASSERT_EQUAL(charset_maxlen(11), 1);
    CU_ASSERT_EQUAL(charset_maxlen(33), 3);
    CU_ASSERT_EQUAL(charset_maxlen(45), 4);
    CU_ASSERT_EQUAL(charset_maxlen(255), 4);
    CU_ASSERT_EQUAL(charset_maxlen(2304), 4);
    CU_ASSERT_EQUAL(charset_maxlen(2048), 3);
    CU_ASSERT_EQUAL(charset_maxlen(28), 2);
    CU_ASSERT_EQUAL(charset_maxlen(1), 2);
    CU_ASSERT_EQUAL(charset_maxlen(12), 3);
    CU_ASSERT_EQUAL(charset_maxlen(35), 2);
    CU_ASSERT_EQUAL(charset_maxlen(54), 4);
    CU_ASSERT_EQUAL(charset_maxlen(60), 4);
    CU_ASSERT_EQUAL(charset_maxlen(248), 4);
    CU_ASSERT_EQUAL(charset_maxlen(63), 1);
    CU_ASSERT_EQUAL(charset_maxlen(0), 1);
    CU_ASSERT_EQUAL(charset_maxlen(99999), 1);
}

/* Converts and compares with want (the quoted JSON text). */
static void check(unsigned id, const void *bytes, size_t n, const char *want)
{
    struct strbuf out = {0};
    uint8_t *blk = malloc(n ? n : 1); /* exactly n bytes, so ASan sees overreads */
    memcpy(blk, bytes, n);
    charset_append_json(&out, id, blk, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out.buf);
    CU_ASSERT_STRING_EQUAL(out.buf, want);
    if (strcmp(out.buf, want))
        printf("\n  id %u: got %s, want %s\n", id, out.buf, want);
    strbuf_free(&out);
    free(blk);
}

static void test_latin1(void)
{
    check(8, "\x80\xe9\xff", 3, "\"\xe2\x82\xac\xc3\xa9\xc3\xbf\""); /* €éÿ */
    check(8, "plain \"q\"\n", 10, "\"plain \\\"q\\\"\\n\"");
    check(8, "", 0, "\"\"");
    /* the five bytes Windows-1252 leaves undefined, and 0x9f → Ÿ, as MariaDB converts them */
    check(47, "\x80\x81\x8d\x8f\x90\x9d\x9f", 7,
          "\"\xe2\x82\xac\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d\xc5\xb8\"");
    /* MariaDB's answer for '€éÿ‚Žœ' stored in a latin1 column */
    check(1071, "\x80\xe9\xff\x82\x8e\x9c", 6,
          "\"\xe2\x82\xac\xc3\xa9\xc3\xbf\xe2\x80\x9a\xc5\xbd\xc5\x93\"");
    /* Long strings (the 16- and 8-byte paths): 'é' and a quote at every position of 40. */
    for (size_t at = 0; at + 1 < 40; at++) {
        uint8_t in[40];
        char want[64];
        size_t w = 0;
        want[w++] = '"';
        for (size_t i = 0; i < 40; i++) {
            in[i] = (uint8_t)('a' + i % 26);
            if (i == at)
                in[i] = 0xe9;
            if (i == at + 1)
                in[i] = '"';
            if (in[i] == 0xe9) {
                want[w++] = (char)0xc3;
                want[w++] = (char)0xa9;
            } else if (in[i] == '"') {
                want[w++] = '\\';
                want[w++] = '"';
            } else {
                want[w++] = (char)in[i];
            }
        }
        want[w++] = '"';
        want[w] = 0;
        check(8, in, 40, want);
    }
    /* 0xa0..0xff are U+00A0..U+00FF */
    for (unsigned c = 0xa0; c <= 0xff; c++) {
        uint8_t b = (uint8_t)c;
        char want[8] = {'"', (char)(0xc0 | c >> 6), (char)(0x80 | (c & 0x3f)), '"', 0};
        check(8, &b, 1, want);
    }
}

static void test_utf8_family(void)
{
    check(45, "\xf0\x9f\x98\x80x", 5, "\"\xf0\x9f\x98\x80x\""); /* utf8mb4 emoji */
    check(2304, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""); /* uca1400 */
    check(33, "\xc3\xa4", 2, "\"\xc3\xa4\"");
    check(45, "a\xffz", 3, "\"a\xef\xbf\xbdz\""); /* invalid byte → U+FFFD */
    check(11, "ascii", 5, "\"ascii\"");
    check(63, "bin\x01", 4, "\"bin\\u0001\"");  /* binary: taken as UTF-8 */
    check(9999, "\xc3\xa9", 2, "\"\xc3\xa9\""); /* unknown id: as UTF-8 */
    check(0, "\xe9", 1, "\"\xef\xbf\xbd\"");
}

static void test_iconv(void)
{
    check(28, "\xd6\xd0\xce\xc4", 4, "\"\xe4\xb8\xad\xe6\x96\x87\""); /* gbk 中文 */
    check(87, "\xd6\xd0\xff\xce\xc4", 5,
          "\"\xe4\xb8\xad\xef\xbf\xbd\xe6\x96\x87\""); /* bad byte: U+FFFD, rest kept */
    check(28, "\xd6", 1, "\"\xef\xbf\xbd\"");          /* truncated double-byte char */
    check(28, "", 0, "\"\"");
    check(1, "\xa4\xa4\xa4\xe5", 4, "\"\xe4\xb8\xad\xe6\x96\x87\"");       /* big5 */
    check(13, "\x93\xfa\x96\x7b", 4, "\"\xe6\x97\xa5\xe6\x9c\xac\"");      /* sjis 日本 */
    check(19, "\xc7\xd1\xb1\xb9", 4, "\"\xed\x95\x9c\xea\xb5\xad\"");      /* euckr 한국 */
    check(248, "\x81\x30\x81\x30\xd6\xd0", 6, "\"\xc2\x80\xe4\xb8\xad\""); /* gb18030 */
    check(51, "\xcf\xf0\xe8\xe2\xe5\xf2", 6,                               /* cp1251 */
          "\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"");
    check(35, "\x00\x41\x20\xac", 4, "\"A\xe2\x82\xac\"");                         /* ucs2 A€ */
    check(35, "\x00\x41\x00", 3, "\"A\xef\xbf\xbd\"");                             /* odd length */
    check(54, "\x00\x61\xd8\x3d\xde\x00\x00\x62", 8, "\"a\xf0\x9f\x98\x80\x62\""); /* utf16 */
    check(56, "\x61\x00\x3d\xd8\x00\xde", 6, "\"a\xf0\x9f\x98\x80\"");             /* utf16le */
    check(60, "\x00\x01\xf6\x00", 4, "\"\xf0\x9f\x98\x80\"");                      /* utf32 */
    check(3072, "\x00\x00\x00\x41", 4, "\"A\""); /* utf32 uca1400 */
    check(54, "\xdc\x00\x00\x41", 4,
          "\"\xef\xbf\xbd"
          "A\"");                                                     /* lone surrogate */
    check(9, "\xa3\xf3", 2, "\"\xc5\x81\xc3\xb3\"");                  /* latin2 Łó */
    check(25, "\xc5\xeb", 2, "\"\xce\x95\xce\xbb\"");                 /* greek Ελ */
    check(7, "\xf0\xd2", 2, "\"\xd0\x9f\xd1\x80\"");                  /* koi8r Пр */
    check(12, "\xc6\xfc\xcb\xdc", 4, "\"\xe6\x97\xa5\xe6\x9c\xac\""); /* ujis 日本 */
    check(95, "\x87\x40", 2, "\"\xe2\x91\xa0\"");                     /* cp932 ① */
    check(28, "a\"b", 3, "\"a\\\"b\"");                               /* escaping */
}

/* A long value (many output reallocations are not needed, but exercise the sizes). */
static void test_long(void)
{
    size_t n = 100000;
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i += 2) {
        b[i] = 0xd6;
        b[i + 1] = 0xd0;
    }
    struct strbuf out = {0};
    charset_append_json(&out, 28, b, n);
    CU_ASSERT_EQUAL(out.len, n / 2 * 3 + 2);
    strbuf_free(&out);
    free(b);
}

static void *worker(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 2000; i++) {
        struct strbuf out = {0};
        charset_append_json(&out, i % 2 ? 28 : 51, (const uint8_t *)"\xd6\xd0\xce\xc4", 4);
        const char *want = i % 2 ? "\"\xe4\xb8\xad\xe6\x96\x87\""          /* gbk 中文 */
                                 : "\"\xd0\xa6\xd0\xa0\xd0\x9e\xd0\x94\""; /* cp1251 ЦРОД */
        if (strcmp(out.buf, want))
            (*bad)++;
        strbuf_free(&out);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];
    int bad[4] = {0};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, &bad[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(bad[i], 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("charset", NULL, NULL);
    CU_add_test(s, "names", test_names);
    CU_add_test(s, "is_binary", test_is_binary);
    CU_add_test(s, "maxlen", test_maxlen);
    CU_add_test(s, "latin1", test_latin1);
    CU_add_test(s, "utf8_family", test_utf8_family);
    CU_add_test(s, "iconv", test_iconv);
    CU_add_test(s, "long", test_long);
    CU_add_test(s, "threads", test_threads);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
