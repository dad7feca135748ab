/*
 * charset.c — collation id → character set, and character set → UTF-8 JSON text.
 *
 * The id table is our own, written from SHOW COLLATION / INFORMATION_SCHEMA listings:
 * - ids 1..99 are shared by MySQL and MariaDB (76 utf8mb3_tolower_ci is MySQL 8 only);
 *   101..124 utf16, 128..151 and 159 ucs2, 160..183 utf32, 192..215 and 223 utf8mb3,
 *   224..247 utf8mb4 unicode/language collations (both servers);
 * - MySQL only: 248..250 gb18030, 255..323 utf8mb4_*_0900_* (MariaDB 11.4.5+ reuses the
 *   0900 names as utf8mb4 aliases, so the charset is the same);
 * - MariaDB only: 576..578 utf8mb3, 608..610 utf8mb4, 640..642 ucs2, 672..674 utf16,
 *   736..738 utf32 (croatian/myanmar/thai_520_w2); the NO PAD variants are 1024 + the id of
 *   the PAD collation they copy (1057 utf8mb3_general_nopad_ci = 1024 + 33, 1071
 *   latin1_nopad_bin = 1024 + 47, up to 1270); the UCA 14.0.0 collations (10.10+) take one
 *   256-id block per charset: 2048 utf8mb3, 2304 utf8mb4, 2560 ucs2, 2816 utf16, 3072 utf32
 *   (e.g. 2304 = utf8mb4_uca1400_ai_ci). Checked against MariaDB 10.11's
 *   COLLATION_CHARACTER_SET_APPLICABILITY (1242 ids).
 *
 * Conversion: UTF-8 family and ascii are copied (strbuf_append_json_str replaces invalid
 * bytes with U+FFFD); latin1 is MySQL's latin1, i.e. Windows-1252 with the five undefined
 * bytes kept as the C1 controls of the same value, by table; everything else goes through
 * iconv to UTF-8. One iconv_t per charset is opened on first use and kept for the process;
 * a single mutex serialises its use (iconv_t is not thread-safe; non-UTF-8, non-latin1
 * columns are rare enough that contention does not matter). Invalid input never drops the
 * value: each bad code unit becomes U+FFFD and conversion resumes after it.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>

#include "charset.h"

enum cs_id {
    CS_NONE = 0,
    CS_BIG5,
    CS_LATIN2,
    CS_DEC8,
    CS_CP850,
    CS_LATIN1,
    CS_HP8,
    CS_KOI8R,
    CS_SWE7,
    CS_ASCII,
    CS_UJIS,
    CS_SJIS,
    CS_CP1251,
    CS_HEBREW,
    CS_TIS620,
    CS_EUCKR,
    CS_LATIN7,
    CS_KOI8U,
    CS_GB2312,
    CS_GREEK,
    CS_CP1250,
    CS_GBK,
    CS_CP1257,
    CS_LATIN5,
    CS_ARMSCII8,
    CS_UTF8MB3,
    CS_UCS2,
    CS_CP866,
    CS_KEYBCS2,
    CS_MACCE,
    CS_MACROMAN,
    CS_CP852,
    CS_UTF8MB4,
    CS_UTF16,
    CS_UTF16LE,
    CS_CP1256,
    CS_UTF32,
    CS_BINARY,
    CS_GEOSTD8,
    CS_CP932,
    CS_EUCJPMS,
    CS_GB18030,
    CS_COUNT
};

enum cs_kind {
    KIND_UTF8,   /* copied as UTF-8 */
    KIND_LATIN1, /* Windows-1252 table */
    KIND_ICONV,  /* iconv from .iconv */
};

struct cs_info {
    const char *name;  /* MySQL/MariaDB name */
    const char *iconv; /* glibc iconv name, NULL when copied or no converter exists */
    unsigned char maxlen;
    unsigned char unit; /* bytes skipped after an invalid sequence */
    unsigned char kind;
};

static const struct cs_info cs_infos[CS_COUNT] = {
    [CS_NONE] = {NULL, NULL, 1, 1, KIND_UTF8},
    [CS_BIG5] = {"big5", "BIG5", 2, 1, KIND_ICONV},
    [CS_LATIN2] = {"latin2", "ISO-8859-2", 1, 1, KIND_ICONV},
    [CS_DEC8] = {"dec8", "DEC-MCS", 1, 1, KIND_ICONV},
    [CS_CP850] = {"cp850", "CP850", 1, 1, KIND_ICONV},
    [CS_LATIN1] = {"latin1", NULL, 1, 1, KIND_LATIN1},
    [CS_HP8] = {"hp8", "HP-ROMAN8", 1, 1, KIND_ICONV},
    [CS_KOI8R] = {"koi8r", "KOI8-R", 1, 1, KIND_ICONV},
    [CS_SWE7] = {"swe7", "ISO646-SE", 1, 1, KIND_ICONV},
    [CS_ASCII] = {"ascii", NULL, 1, 1, KIND_UTF8},
    [CS_UJIS] = {"ujis", "EUC-JP", 3, 1, KIND_ICONV},
    [CS_SJIS] = {"sjis", "SJIS", 2, 1, KIND_ICONV},
    [CS_CP1251] = {"cp1251", "CP1251", 1, 1, KIND_ICONV},
    [CS_HEBREW] = {"hebrew", "ISO-8859-8", 1, 1, KIND_ICONV},
    [CS_TIS620] = {"tis620", "TIS-620", 1, 1, KIND_ICONV},
    [CS_EUCKR] = {"euckr", "EUC-KR", 2, 1, KIND_ICONV},
    [CS_LATIN7] = {"latin7", "ISO-8859-13", 1, 1, KIND_ICONV},
    [CS_KOI8U] = {"koi8u", "KOI8-U", 1, 1, KIND_ICONV},
    [CS_GB2312] = {"gb2312", "GB2312", 2, 1, KIND_ICONV},
    [CS_GREEK] = {"greek", "ISO-8859-7", 1, 1, KIND_ICONV},
    [CS_CP1250] = {"cp1250", "CP1250", 1, 1, KIND_ICONV},
    [CS_GBK] = {"gbk", "GBK", 2, 1, KIND_ICONV},
    [CS_CP1257] = {"cp1257", "CP1257", 1, 1, KIND_ICONV},
    [CS_LATIN5] = {"latin5", "ISO-8859-9", 1, 1, KIND_ICONV},
    [CS_ARMSCII8] = {"armscii8", "ARMSCII-8", 1, 1, KIND_ICONV},
    [CS_UTF8MB3] = {"utf8mb3", NULL, 3, 1, KIND_UTF8},
    [CS_UCS2] = {"ucs2", "UCS-2BE", 2, 2, KIND_ICONV},
    [CS_CP866] = {"cp866", "CP866", 1, 1, KIND_ICONV},
    [CS_KEYBCS2] = {"keybcs2", NULL, 1, 1, KIND_UTF8}, /* glibc has no Kamenický converter */
    [CS_MACCE] = {"macce", "MAC-CENTRALEUROPE", 1, 1, KIND_ICONV},
    [CS_MACROMAN] = {"macroman", "MACINTOSH", 1, 1, KIND_ICONV},
    [CS_CP852] = {"cp852", "CP852", 1, 1, KIND_ICONV},
    [CS_UTF8MB4] = {"utf8mb4", NULL, 4, 1, KIND_UTF8},
    [CS_UTF16] = {"utf16", "UTF-16BE", 4, 2, KIND_ICONV},
    [CS_UTF16LE] = {"utf16le", "UTF-16LE", 4, 2, KIND_ICONV},
    [CS_CP1256] = {"cp1256", "CP1256", 1, 1, KIND_ICONV},
    [CS_UTF32] = {"utf32", "UTF-32BE", 4, 4, KIND_ICONV},
    [CS_BINARY] = {"binary", NULL, 1, 1, KIND_UTF8},
    [CS_GEOSTD8] = {"geostd8", "GEORGIAN-PS", 1, 1, KIND_ICONV},
    [CS_CP932] = {"cp932", "CP932", 2, 1, KIND_ICONV},
    [CS_EUCJPMS] = {"eucjpms", "EUC-JP-MS", 3, 1, KIND_ICONV},
    [CS_GB18030] = {"gb18030", "GB18030", 4, 1, KIND_ICONV},
};

/* Collation id ranges [lo, hi] → charset, sorted by lo, non-overlapping. The NO PAD block
 * 1025..1279 is not listed: it maps through id - 1024 (see cs_of). */
struct coll_range {
    uint16_t lo, hi;
    uint8_t cs;
};

static const struct coll_range coll_ranges[] = {
    {1, 1, CS_BIG5},        {2, 2, CS_LATIN2},        {3, 3, CS_DEC8},
    {4, 4, CS_CP850},       {5, 5, CS_LATIN1},        {6, 6, CS_HP8},
    {7, 7, CS_KOI8R},       {8, 8, CS_LATIN1},        {9, 9, CS_LATIN2},
    {10, 10, CS_SWE7},      {11, 11, CS_ASCII},       {12, 12, CS_UJIS},
    {13, 13, CS_SJIS},      {14, 14, CS_CP1251},      {15, 15, CS_LATIN1},
    {16, 16, CS_HEBREW},    {18, 18, CS_TIS620},      {19, 19, CS_EUCKR},
    {20, 20, CS_LATIN7},    {21, 21, CS_LATIN2},      {22, 22, CS_KOI8U},
    {23, 23, CS_CP1251},    {24, 24, CS_GB2312},      {25, 25, CS_GREEK},
    {26, 26, CS_CP1250},    {27, 27, CS_LATIN2},      {28, 28, CS_GBK},
    {29, 29, CS_CP1257},    {30, 30, CS_LATIN5},      {31, 31, CS_LATIN1},
    {32, 32, CS_ARMSCII8},  {33, 33, CS_UTF8MB3},     {34, 34, CS_CP1250},
    {35, 35, CS_UCS2},      {36, 36, CS_CP866},       {37, 37, CS_KEYBCS2},
    {38, 38, CS_MACCE},     {39, 39, CS_MACROMAN},    {40, 40, CS_CP852},
    {41, 42, CS_LATIN7},    {43, 43, CS_MACCE},       {44, 44, CS_CP1250},
    {45, 46, CS_UTF8MB4},   {47, 49, CS_LATIN1},      {50, 52, CS_CP1251},
    {53, 53, CS_MACROMAN},  {54, 55, CS_UTF16},       {56, 56, CS_UTF16LE},
    {57, 57, CS_CP1256},    {58, 59, CS_CP1257},      {60, 61, CS_UTF32},
    {62, 62, CS_UTF16LE},   {63, 63, CS_BINARY},      {64, 64, CS_ARMSCII8},
    {65, 65, CS_ASCII},     {66, 66, CS_CP1250},      {67, 67, CS_CP1256},
    {68, 68, CS_CP866},     {69, 69, CS_DEC8},        {70, 70, CS_GREEK},
    {71, 71, CS_HEBREW},    {72, 72, CS_HP8},         {73, 73, CS_KEYBCS2},
    {74, 74, CS_KOI8R},     {75, 75, CS_KOI8U},       {76, 76, CS_UTF8MB3},
    {77, 77, CS_LATIN2},    {78, 78, CS_LATIN5},      {79, 79, CS_LATIN7},
    {80, 80, CS_CP850},     {81, 81, CS_CP852},       {82, 82, CS_SWE7},
    {83, 83, CS_UTF8MB3},   {84, 84, CS_BIG5},        {85, 85, CS_EUCKR},
    {86, 86, CS_GB2312},    {87, 87, CS_GBK},         {88, 88, CS_SJIS},
    {89, 89, CS_TIS620},    {90, 90, CS_UCS2},        {91, 91, CS_UJIS},
    {92, 93, CS_GEOSTD8},   {94, 94, CS_LATIN1},      {95, 96, CS_CP932},
    {97, 98, CS_EUCJPMS},   {99, 99, CS_CP1250},      {101, 124, CS_UTF16},
    {128, 151, CS_UCS2},    {159, 159, CS_UCS2},      {160, 183, CS_UTF32},
    {192, 215, CS_UTF8MB3}, {223, 223, CS_UTF8MB3},   {224, 247, CS_UTF8MB4},
    {248, 250, CS_GB18030}, {255, 323, CS_UTF8MB4},   {576, 578, CS_UTF8MB3},
    {608, 610, CS_UTF8MB4}, {640, 642, CS_UCS2},      {672, 674, CS_UTF16},
    {736, 738, CS_UTF32},   {2048, 2303, CS_UTF8MB3}, {2304, 2559, CS_UTF8MB4},
    {2560, 2815, CS_UCS2},  {2816, 3071, CS_UTF16},   {3072, 3327, CS_UTF32},
};

#define NRANGES (sizeof coll_ranges / sizeof coll_ranges[0])

static enum cs_id range_lookup(unsigned id)
{
    size_t lo = 0, hi = NRANGES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (id < coll_ranges[mid].lo)
            hi = mid;
        else if (id > coll_ranges[mid].hi)
            lo = mid + 1;
        else
            return (enum cs_id)coll_ranges[mid].cs;
    }
    return CS_NONE;
}

static enum cs_id cs_of_slow(unsigned id)
{
    /* MariaDB NO PAD collations: 1024 + the PAD collation's id (binary 63 has none). */
    if (id > 1024 && id < 1280 && id != 1024 + 63)
        id -= 1024;
    return range_lookup(id);
}

/* Every value of a text column asks for its charset: ids below 4096 (all that MySQL and
 * MariaDB number) are looked up once into this table. */
#define CS_TABLE_IDS 4096
static uint8_t cs_table[CS_TABLE_IDS];
static pthread_once_t cs_table_once = PTHREAD_ONCE_INIT;

static void cs_table_fill(void)
{
    for (unsigned id = 0; id < CS_TABLE_IDS; id++)
        cs_table[id] = (uint8_t)cs_of_slow(id);
}

static enum cs_id cs_of(unsigned id)
{
    if (id >= CS_TABLE_IDS)
        return cs_of_slow(id);
    pthread_once(&cs_table_once, cs_table_fill);
    return (enum cs_id)cs_table[id];
}

const char *charset_name(unsigned collation_id)
{
    return cs_infos[cs_of(collation_id)].name;
}

bool charset_is_binary(unsigned collation_id)
{
    return collation_id == 63;
}

unsigned charset_maxlen(unsigned collation_id)
{
    return cs_infos[cs_of(collation_id)].maxlen;
}

/* ---- latin1 (Windows-1252) ---------------------------------------------------------- */

/* Code points of 0x80..0x9f; the five bytes Windows-1252 leaves undefined map to the C1
 * control of the same value, as MySQL's latin1 does. */
static const uint16_t cp1252_c1[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

/* Code points of bytes 0x80..0xff: Windows-1252 below 0xa0, ISO-8859-1 above. */
static uint16_t latin1_high[128];
static pthread_once_t latin1_once = PTHREAD_ONCE_INIT;

static void latin1_fill(void)
{
    for (unsigned b = 0x80; b < 0x100; b++)
        latin1_high[b - 0x80] = b < 0xa0 ? cp1252_c1[b - 0x80] : (uint16_t)b;
}

static void append_latin1(struct strbuf *out, const uint8_t *s, size_t n)
{
    pthread_once(&latin1_once, latin1_fill);
    strbuf_append_json_sbcs(out, s, n, latin1_high);
}

/* ---- iconv ------------------------------------------------------------------------ */

static pthread_mutex_t iconv_mu = PTHREAD_MUTEX_INITIALIZER;
static iconv_t iconv_cds[CS_COUNT];
static unsigned char iconv_state[CS_COUNT]; /* 0 not tried, 1 open, 2 unavailable */

/* Converts s[0..n) into tmp (UTF-8), U+FFFD for each invalid unit. Caller holds iconv_mu.
 * Returns false when no converter can be opened. */
static bool convert_locked(enum cs_id cs, const uint8_t *s, size_t n, struct strbuf *tmp)
{
    const struct cs_info *ci = &cs_infos[cs];
    if (iconv_state[cs] == 0) {
        iconv_cds[cs] = iconv_open("UTF-8", ci->iconv);
        iconv_state[cs] = iconv_cds[cs] == (iconv_t)-1 ? 2 : 1;
    }
    if (iconv_state[cs] != 1)
        return false;
    iconv_t cd = iconv_cds[cs];
    iconv(cd, NULL, NULL, NULL, NULL); /* reset shift state */

    char *in = (char *)s;
    size_t inleft = n;
    strbuf_reserve(tmp, 4 * n + 16);
    while (inleft > 0) {
        char *o = tmp->buf + tmp->len;
        size_t oleft = tmp->cap - tmp->len - 1; /* keep room for the NUL */
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        tmp->len = (size_t)(o - tmp->buf);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            strbuf_reserve(tmp, 4 * inleft + 16);
        } else {
            /* EILSEQ: skip one code unit; EINVAL (a truncated last character) or anything
             * else: give up on the rest. Either way one U+FFFD marks the loss. */
            size_t skip = errno == EILSEQ && inleft > ci->unit ? ci->unit : inleft;
            strbuf_append(tmp, "\xef\xbf\xbd", 3);
            in += skip;
            inleft -= skip;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    tmp->buf[tmp->len] = '\0';
    return true;
}

static void append_iconv(struct strbuf *out, enum cs_id cs, const uint8_t *s, size_t n)
{
    struct strbuf tmp = {0};
    pthread_mutex_lock(&iconv_mu);
    bool ok = convert_locked(cs, s, n, &tmp);
    pthread_mutex_unlock(&iconv_mu);
    if (ok)
        strbuf_append_json_str(out, tmp.buf, tmp.len);
    else
        strbuf_append_json_str(out, (const char *)s, n);
    strbuf_free(&tmp);
}

void charset_append_json(struct strbuf *out, unsigned collation_id, const uint8_t *s, size_t n)
{
    enum cs_id cs = cs_of(collation_id);
    switch (cs_infos[cs].kind) {
    case KIND_LATIN1:
        append_latin1(out, s, n);
        break;
    case KIND_ICONV:
        append_iconv(out, cs, s, n);
        break;
    default:
        strbuf_append_json_str(out, (const char *)s, n);
        break;
    }
}
