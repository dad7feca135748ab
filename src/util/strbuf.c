/*
 * strbuf.c — growable NUL-terminated buffer and JSON text helpers.
 *
 * Invariant: when cap > 0, buf[len] == '\0'. Growth doubles, so appends are amortised O(1).
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "strbuf.h"
#include "xmalloc.h"

void strbuf_init(struct strbuf *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->buf);
    strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->cap)
        sb->buf[0] = '\0';
}

void strbuf_reserve(struct strbuf *sb, size_t n)
{
    if (sb->len + n + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + n + 1)
        cap *= 2;
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void strbuf_appends(struct strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    strbuf_reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* 10^0 .. 10^19. */
static const uint64_t pow10_u64[] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};

/* Decimal digits of v (1..20), from its bit length and one comparison. */
static inline unsigned u64_digits(uint64_t v)
{
    if (v < 10)
        return 1;
    unsigned bits = 64u - (unsigned)__builtin_clzll(v);
    unsigned t = (bits * 1233u) >> 12; /* floor(log10(2^bits)) */
    return t + 1 - (v < pow10_u64[t]);
}

/* Writes the decimal digits of v backwards, ending just before `end`. */
static inline void put_u64_before(char *end, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "6263646566676869707172737475767778798081828384858687888990919293"
                                "949596979899";
    char *q = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, pairs + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
}

void strbuf_append_u64(struct strbuf *sb, uint64_t v)
{
    strbuf_reserve(sb, 20);
    unsigned n = u64_digits(v);
    put_u64_before(sb->buf + sb->len + n, v); /* in place */
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void strbuf_append_i64(struct strbuf *sb, int64_t v)
{
    if (v < 0) {
        strbuf_appendc(sb, '-');
        strbuf_append_u64(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        strbuf_append_u64(sb, (uint64_t)v);
    }
}

void strbuf_truncate(struct strbuf *sb, size_t len)
{
    if (len < sb->len) {
        sb->len = len;
        sb->buf[len] = '\0';
    }
}

size_t strbuf_utf8_seq_len(const void *str, size_t n)
{
    const unsigned char *s = str;
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    unsigned cp = c & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool strbuf_utf8_valid(const void *str, size_t n)
{
    const unsigned char *s = str;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = strbuf_utf8_seq_len(s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

size_t strbuf_utf8_put(void *out, uint32_t cp)
{
    unsigned char *o = out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* True when none of the 8 bytes at p needs escaping: all ASCII, none below 0x20, no '"' and
 * no '\\' (the usual "has a zero byte" bit trick, applied to three patterns at once). */
static inline bool word_plain(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t ctrl = (w - ones * 0x20) & ~w & highs;
    uint64_t q = w ^ (ones * 0x22), b = w ^ (ones * 0x5c);
    uint64_t qz = (q - ones) & ~q & highs, bz = (b - ones) & ~b & highs;
    return ((w & highs) | ctrl | qz | bz) == 0;
}

#if defined(__SSE2__)
/* Bit i set when byte i of the 16 at p needs escaping or checking: below 0x20, '"', '\\', or
 * non-ASCII (the signed compare sees bytes >= 0x80 as negative, so below 0x20 too). */
static inline unsigned special16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Escape text for the bytes below 0x20 and '"', '\\' (0 = copy as is). */
static const char *const json_escape[128] = {
    ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
    ['\t'] = "\\t", ['\b'] = "\\b",  ['\f'] = "\\f",
};

/* 1 for the bytes copied as they are: printable ASCII but '"' and '\\'. */
static const uint8_t json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The JSON string writer. high == NULL: s is UTF-8 (invalid sequences become U+FFFD); else s is
 * a single-byte charset whose bytes 0x80..0xff are the code points high[0..127]. */
static inline void
append_json_text(struct strbuf *sb, const char *s, size_t n, const uint16_t *high)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    if (n < 16) {
        /* Short text (keys, names, codes): one pass over plain bytes, one reserve. */
        while (i < n && json_plain[p[i]])
            i++;
        if (i == n) {
            strbuf_reserve(sb, n + 2);
            char *o = sb->buf + sb->len;
            o[0] = '"';
            memcpy(o + 1, p, n);
            o[n + 1] = '"';
            sb->len += n + 2;
            sb->buf[sb->len] = '\0';
            return;
        }
        i = 0;
    }
    strbuf_appendc(sb, '"');
    while (i < n) {
        /* Work in chunks so that the worst case (6 output bytes per input byte) can be
         * reserved up front and written through a plain pointer. The 16 bytes of slack let
         * the block copies below store whole blocks: the room left never drops under
         * 6 * (end - i) + 16. */
        size_t chunk = n - i < 4096 ? n - i : 4096;
        size_t end = i + chunk;
        strbuf_reserve(sb, chunk * 6 + 16);
        char *o = sb->buf + sb->len;
        while (i < end) {
#if defined(__SSE2__)
            while (i + 16 <= end) {
                unsigned m = special16(p + i);
                memcpy(o, p + i, 16);
                if (m == 0) {
                    o += 16;
                    i += 16;
                    continue;
                }
                unsigned k = (unsigned)__builtin_ctz(m);
                o += k;
                i += k;
                unsigned char c = p[i];
                if (c != '"' && c != '\\')
                    break;   /* a control character or non-ASCII: below */
                o[0] = '\\'; /* a quote or backslash (JSON text in a text column): here */
                o[1] = (char)c;
                o += 2;
                i++;
            }
#endif
            while (i + 8 <= end && word_plain(p + i)) {
                memcpy(o, p + i, 8);
                o += 8;
                i += 8;
            }
            /* A short tail: when the last 8 bytes of the string are plain, so is the tail. */
            if (end - i < 8 && end >= 8 && word_plain(p + end - 8)) {
                size_t r = end - i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                if (r) { /* the tail is the high bytes of the last word: one 8-byte store */
                    uint64_t w;
                    memcpy(&w, p + end - 8, 8);
                    w >>= 8 * (8 - r);
                    memcpy(o, &w, 8);
                }
#else
                memcpy(o, p + i, r);
#endif
                o += r;
                i = end;
                break;
            }
            while (i < end && json_plain[p[i]])
                *o++ = (char)p[i++];
            if (i >= end)
                break;
            unsigned char c = p[i];
            if (c >= 0x80 && high) {
                o += strbuf_utf8_put(o, high[c - 0x80]); /* at most 3 bytes */
                i++;
            } else if (c >= 0x80) {
                size_t l = strbuf_utf8_seq_len(p + i, n - i);
                if (l == 0) {
                    memcpy(o, "\xef\xbf\xbd", 3);
                    o += 3;
                    i++;
                } else {
                    /* A sequence may run past the chunk end: the reserve has room for it. */
                    memcpy(o, p + i, l);
                    o += l;
                    i += l;
                }
            } else if (json_escape[c]) {
                *o++ = json_escape[c][0];
                *o++ = json_escape[c][1];
                i++;
            } else {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
                i++;
            }
        }
        sb->len = (size_t)(o - sb->buf);
    }
    strbuf_appendc(sb, '"');
}

void strbuf_append_json_str(struct strbuf *sb, const char *s, size_t n)
{
    append_json_text(sb, s, n, NULL);
}

void strbuf_append_json_sbcs(struct strbuf *sb,
                             const uint8_t *s,
                             size_t n,
                             const uint16_t high[128])
{
    append_json_text(sb, (const char *)s, n, high);
}

void strbuf_append_base64(struct strbuf *sb, const uint8_t *d, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    strbuf_reserve(sb, (n + 2) / 3 * 4);
    char *o = sb->buf + sb->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    sb->len = (size_t)(o - sb->buf);
    sb->buf[sb->len] = '\0';
}

void strbuf_append_base64_json(struct strbuf *sb, const uint8_t *d, size_t n)
{
    strbuf_appendc(sb, '"');
    strbuf_append_base64(sb, d, n);
    strbuf_appendc(sb, '"');
}

void strbuf_append_hex(struct strbuf *sb, const uint8_t *d, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_reserve(sb, n * 2);
    char *o = sb->buf + sb->len;
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[d[i] >> 4];
        *o++ = hex[d[i] & 15];
    }
    sb->len += n * 2;
    sb->buf[sb->len] = '\0';
}

/* Shortest "%.*g" text that parses back to the same value. Rounding to `lo` significant
 * digits (DBL_DIG 15 / FLT_DIG 6) and stripping zeros, as %g does, already gives the shortest
 * string whenever any string of lo digits or fewer reads back exactly: such a string, padded
 * with zeros, is the value rounded to lo digits. Otherwise the answer has lo+1 .. max digits.
 * (This holds for normal numbers, whose relative spacing is below half a unit of the lo-th
 * digit; callers start subnormals at one digit.) */
static void append_shortest(struct strbuf *sb, double d, int lo, int max, int is_float)
{
    char tmp[40];
    for (int prec = lo; prec <= max; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (is_float ? (strtof(tmp, NULL) == (float)d) : (strtod(tmp, NULL) == d))
            break;
    }
    strbuf_appends(sb, tmp);
}

/* Writes digits[0..nd) (first digit non-zero, no trailing zeros) with decimal exponent x as
 * "%.{prec}g" would print them; returns the length. */
static int format_g(char *tmp, bool neg, const char *digits, int nd, int x, int prec)
{
    int n = 0;
    if (neg)
        tmp[n++] = '-';
    if (x < -4 || x >= prec) {
        tmp[n++] = digits[0];
        if (nd > 1) {
            tmp[n++] = '.';
            memcpy(tmp + n, digits + 1, (size_t)nd - 1);
            n += nd - 1;
        }
        tmp[n++] = 'e';
        tmp[n++] = x < 0 ? '-' : '+';
        int ax = abs(x);
        if (ax >= 100)
            tmp[n++] = (char)('0' + ax / 100);
        tmp[n++] = (char)('0' + ax / 10 % 10);
        tmp[n++] = (char)('0' + ax % 10);
    } else if (x < 0) {
        tmp[n++] = '0';
        tmp[n++] = '.';
        for (int z = -1; z > x; z--)
            tmp[n++] = '0';
        memcpy(tmp + n, digits, (size_t)nd);
        n += nd;
    } else {
        for (int i = 0; i <= x; i++)
            tmp[n++] = i < nd ? digits[i] : '0';
        if (nd > x + 1) {
            tmp[n++] = '.';
            memcpy(tmp + n, digits + x + 1, (size_t)(nd - x - 1));
            n += nd - x - 1;
        }
    }
    tmp[n] = '\0';
    return n;
}

static int strip_zeros(const char *digits, int nd)
{
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    return nd;
}

__extension__ typedef unsigned __int128 u128;

static u128 pow10_u128(int j)
{
    return j <= 19 ? (u128)pow10_u64[j] : (u128)pow10_u64[19] * pow10_u64[j - 19];
}

/* Exact shortest digits for a normal double with 1e-5 <= |d| < 1e17 and a negative binary
 * exponent, in 128-bit integers: no printf, no strtod.
 *
 * |d| = m * 2^-s. V = |d| * 10^j (j = 16 - x, x the decimal exponent) lies in [1e16, 1e17).
 * Every double in the rounding interval of d reads back as d: that interval is V +- half an ulp,
 * which scaled by 2^(s+2) is 4N +- 2*10^j with N = m * 10^j (the lower half is 10^j when m is
 * a power of two: the gap below is half as wide), endpoints included when m is even (ties go
 * to even). The answer is the integer multiple of the coarsest power of ten 10^(17-k) found in
 * that interval, nearest to V: k significant digits. */
static bool append_double_exact(struct strbuf *sb, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int bexp = (int)(bits >> 52 & 0x7ff);
    if (bexp == 0 || bexp == 0x7ff)
        return false;
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int s = 1075 - bexp; /* |d| = m * 2^-s */
    double a = fabs(d);
    if (s <= 0 || s > 124 || a < 1e-5 || a >= 1e17)
        return false;
    /* |d| lies in [2^e2, 2^(e2+1)), so x is floor(e2 * log10 2) or one more; the loop below
     * corrects it. 78913 / 2^18 is log10 2 to 6 digits (exact floors for |e2| < 1650); >> on a
     * negative int is an arithmetic (flooring) shift with gcc and clang. */
    int e2 = bexp - 1023;
    int x = (e2 * 78913) >> 18;
    u128 n = 0;
    uint64_t vint = 0;
    int j = 0;
    for (int tries = 0; tries < 3; tries++) {
        j = 16 - x;
        if (j < 0 || j > 21)
            return false;
        n = (u128)m * pow10_u128(j);
        vint = (uint64_t)(n >> s);
        if (vint < pow10_u64[16])
            x--;
        else if (vint >= pow10_u64[17])
            x++;
        else
            break;
    }
    if (vint < pow10_u64[16] || vint >= pow10_u64[17])
        return false;
    u128 p10j = pow10_u128(j);
    u128 v4 = n << 2;
    u128 hu = p10j << 1;
    u128 hl = (m == (1ULL << 52) && bexp > 1) ? p10j : hu;
    u128 lo4 = v4 - hl, hi4 = v4 + hu, mask = ((u128)1 << (s + 2)) - 1;
    bool inclusive = (m & 1) == 0;
    uint64_t lo_i = (uint64_t)(lo4 >> (s + 2)), hi_i = (uint64_t)(hi4 >> (s + 2));
    bool lo_exact = (lo4 & mask) == 0, hi_exact = (hi4 & mask) == 0;
    uint64_t cmin = (inclusive && lo_exact) ? lo_i : lo_i + 1;
    uint64_t cmax = (!inclusive && hi_exact) ? hi_i - 1 : hi_i;
    if (cmin > cmax)
        return false;
    /* The fewest digits k: a multiple of 10^(17-k) in [cmin, cmax] exists for k = 17 (cmin
     * itself), and whenever one exists for k it does for k + 1, so bisect. */
    int klo = 1, khi = 17;
    while (klo < khi) {
        int mid = (klo + khi) / 2;
        uint64_t g = pow10_u64[17 - mid];
        if ((cmin + g - 1) / g * g <= cmax)
            khi = mid;
        else
            klo = mid + 1;
    }
    int k = klo;
    uint64_t g = pow10_u64[17 - k];
    uint64_t c = (cmin + g - 1) / g * g;
    uint64_t q = vint / g, r = vint % g;
    uint64_t near = (q + (r >= g - r)) * g; /* V rounded to this grid */
    if (near >= cmin && near <= cmax)
        c = near;
    char digits[24];
    int nd, xx = x;
    if (c == pow10_u64[17]) {
        digits[0] = '1';
        nd = 1;
        xx = x + 1;
    } else {
        put_u64_before(digits + k, c / g); /* k digits: c >= 10^16 */
        nd = strip_zeros(digits, k);
    }
    char tmp[48];
    int len = format_g(tmp, d < 0, digits, nd, xx, k <= 15 ? 15 : k);
    strbuf_append(sb, tmp, (size_t)len);
    return true;
}

/* Shortest round-trip text of a normal double, without the digit-by-digit printf search.
 * 1. Round |d| to 15 digits with one exact power of ten (no printf). At most one 15-digit
 *    decimal lies within half an ulp of d, so if that text reads back as d it is the
 *    correctly rounded one, and with its zeros stripped the shortest (every value that came
 *    from a short decimal ends here).
 * 2. Else take the 17 digits of "%.16e" (always exact enough to read back) and try the two
 *    16-digit neighbours around them, nearer first.
 * Returns false (nothing appended) for values outside the fast range. */
static bool append_double_fast(struct strbuf *sb, double d)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a = fabs(d);
    if (!(a >= DBL_MIN) || a >= 1e36 || a < 1e-7)
        return false; /* keeps 14 - x within the exact powers below, after a correction */
    char tmp[48], digits[24];
    int n;
    int x = (int)floor(log10(a));
    int k = 14 - x;
    if (k >= -22 && k <= 21) {
        double scaled = k >= 0 ? a * pow10[k] : a / pow10[-k];
        long long m = llround(scaled);
        if (m < 100000000000000LL) { /* log10 came out one too high */
            x--;
            k++;
            m = llround(k >= 0 ? a * pow10[k] : a / pow10[-k]);
        }
        if (m >= 1000000000000000LL) { /* one too low, or the rounding carried */
            m = (m + 5) / 10;
            x++;
        }
        if (m >= 100000000000000LL && m < 1000000000000000LL) {
            for (int i = 14; i >= 0; i--) {
                digits[i] = (char)('0' + m % 10);
                m /= 10;
            }
            n = format_g(tmp, d < 0, digits, strip_zeros(digits, 15), x, 15);
            if (strtod(tmp, NULL) == d) {
                strbuf_append(sb, tmp, (size_t)n);
                return true;
            }
        }
    }
    /* 17 significant digits: "d.dddddddddddddddde±XX". */
    char e17[40];
    snprintf(e17, sizeof(e17), "%.16e", a);
    digits[0] = e17[0];
    memcpy(digits + 1, e17 + 2, 16);
    x = atoi(e17 + 19);
    /* The two 16-digit candidates: truncated, and truncated + 1 unit (carry handled). */
    char lo[17], hi[17];
    memcpy(lo, digits, 16);
    memcpy(hi, digits, 16);
    int hx = x, i = 15;
    while (i >= 0 && hi[i] == '9')
        hi[i--] = '0';
    if (i >= 0) {
        hi[i]++;
    } else { /* 9999999999999999 + 1: one more digit */
        memmove(hi + 1, hi, 15);
        hi[0] = '1';
        hx++;
    }
    bool up_first = digits[16] >= '5';
    for (int t = 0; t < 2; t++) {
        bool up = (t == 0) == up_first;
        n = format_g(tmp, d < 0, up ? hi : lo, strip_zeros(up ? hi : lo, 16), up ? hx : x, 16);
        if (strtod(tmp, NULL) == d) {
            strbuf_append(sb, tmp, (size_t)n);
            return true;
        }
    }
    n = format_g(tmp, d < 0, digits, strip_zeros(digits, 17), x, 17);
    strbuf_append(sb, tmp, (size_t)n);
    return true;
}

void strbuf_append_double(struct strbuf *sb, double d)
{
    if (!isfinite(d)) {
        strbuf_appends(sb, "null");
        return;
    }
    if (append_double_exact(sb, d) || append_double_fast(sb, d))
        return;
    /* Subnormals carry fewer digits: search from one digit up. */
    append_shortest(sb, d, fabs(d) < DBL_MIN ? 1 : 15, 17, 0);
}

void strbuf_append_float(struct strbuf *sb, float f)
{
    if (!isfinite(f)) {
        strbuf_appends(sb, "null");
        return;
    }
    append_shortest(sb, (double)f, fabsf(f) < FLT_MIN ? 1 : 6, 9, 1);
}
