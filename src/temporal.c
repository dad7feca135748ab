/*
 * temporal.c — binlog row-image temporal values to text.
 *
 * Formats (MySQL sql/field.cc, mysys/my_time.cc; MariaDB uses the same "mysql56" layouts):
 * - DATE: 3 bytes little-endian, bits day:5 | month:4 | year:15 from the low end.
 * - TIME (old): 3-byte little-endian signed integer ±HHMMSS. DATETIME (old): 8-byte
 *   little-endian integer YYYYMMDDhhmmss. TIMESTAMP (old): 4-byte little-endian epoch seconds.
 * - The "2" formats (5.6+) are big-endian so that the bytes compare like the values. Their
 *   fraction takes (fsp+1)/2 bytes: 1 byte in 1/100 s, 2 bytes in 1/10000 s, 3 bytes in µs.
 * - DATETIME2: 40-bit integer part offset by 2^39 (top bit set = non-negative) holding
 *   year*13+month:17 | day:5 | hour:5 | minute:6 | second:6, then the fraction.
 * - TIME2: 24-bit integer part offset by 2^23 holding unused:1 | hour:10 | minute:6 |
 *   second:6; with 3 fraction bytes the whole 48-bit value is offset by 2^47. A negative
 *   TIME2 is stored as the offset-binary form of the *whole* packed number (intpart << 24 |
 *   µs), so for 1- and 2-byte fractions a non-zero fraction of a negative value is a
 *   complement: "borrow" one from the integer part and subtract 0x100 (0x10000) from the
 *   fraction, as MySQL's my_time_packed_from_binary does. We rebuild that packed number and
 *   split its absolute value, as TIME_from_longlong_time_packed does.
 * - TIMESTAMP2: 4-byte big-endian epoch seconds, then the fraction; 0 seconds with a zero
 *   fraction is the zero timestamp. MariaDB can store 0 seconds with a non-zero fraction
 *   (out-of-range input); it shows that as 1970-01-01 00:00:00.f, and so do we.
 *
 * Invariants: every function checks avail (and fsp) before touching p and reads exactly the
 * bytes it reports consumed; text is formatted only after every check, so on error out is
 * unchanged. UTC calendar arithmetic is done here (days_to_civil), never via gmtime/TZ.
 * Any thread; no state.
 */
#include <inttypes.h>
#include <string.h>

#include "bytes.h"
#include "temporal.h"

#define MAX_FSP 6

/* Divisor that turns microseconds into the first fsp digits. */
static const uint32_t usec_div[MAX_FSP + 1] = {1000000, 100000, 10000, 1000, 100, 10, 1};

static int need(const char *what, size_t n, size_t avail, struct err *err)
{
    if (avail < n)
        return err_set(err, ERR_DECODE, "%s: need %zu bytes, have %zu", what, n, avail);
    return 0;
}

/* Checks fsp and avail for a "2" type whose integer part takes int_bytes; sets *total. */
static int
need_fsp(const char *what, size_t int_bytes, int fsp, size_t avail, size_t *total, struct err *err)
{
    if (fsp < 0 || fsp > MAX_FSP)
        return err_set(err, ERR_DECODE, "%s: fractional precision %d not in 0..6", what, fsp);
    *total = int_bytes + (size_t)(fsp + 1) / 2;
    return need(what, *total, avail, err);
}

/* "00" .. "99". */
static const char pairs2[201] = "0001020304050607080910111213141516171819"
                                "2021222324252627282930313233343536373839"
                                "4041424344454647484950515253545556575859"
                                "6061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";

/* Appends v in decimal, zero-padded to at least width digits (printf's "%0*u" without the
 * cost of printf: temporal columns are on the hot path of every row). */
static void put_num(struct strbuf *out, uint64_t v, int width)
{
    if (width == 2 && v < 100) { /* months, days, hours, minutes, seconds */
        strbuf_append(out, pairs2 + 2 * v, 2);
        return;
    }
    if (width == 4 && v < 10000) { /* years */
        char y[4];
        memcpy(y, pairs2 + 2 * (v / 100), 2);
        memcpy(y + 2, pairs2 + 2 * (v % 100), 2);
        strbuf_append(out, y, 4);
        return;
    }
    char tmp[24];
    int i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while ((int)sizeof(tmp) - i < width)
        tmp[--i] = '0';
    strbuf_append(out, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Appends "AA<sep>BB<sep>CC" (each 0..99, two digits) in one piece. */
static void put_3x2(struct strbuf *out, unsigned a, unsigned b, unsigned c, char sep)
{
    char t[8];
    memcpy(t, pairs2 + 2 * a, 2);
    t[2] = sep;
    memcpy(t + 3, pairs2 + 2 * b, 2);
    t[5] = sep;
    memcpy(t + 6, pairs2 + 2 * c, 2);
    strbuf_append(out, t, 8);
}

/* "YYYY-MM-DD" */
static void put_date(struct strbuf *out, uint64_t y, unsigned m, unsigned d)
{
    if (y < 10000 && m < 100 && d < 100) { /* always, but for corrupt input: two appends */
        strbuf_append(out, pairs2 + 2 * (y / 100), 2);
        put_3x2(out, (unsigned)(y % 100), m, d, '-');
        return;
    }
    put_num(out, y, 4);
    strbuf_appendc(out, '-');
    put_num(out, m, 2);
    strbuf_appendc(out, '-');
    put_num(out, d, 2);
}

/* "HH:MM:SS" (hours may have more digits) */
static void put_hms(struct strbuf *out, uint64_t h, unsigned m, unsigned sec)
{
    if (h < 100 && m < 100 && sec < 100) {
        put_3x2(out, (unsigned)h, m, sec, ':');
        return;
    }
    put_num(out, h, 2);
    strbuf_appendc(out, ':');
    put_num(out, m, 2);
    strbuf_appendc(out, ':');
    put_num(out, sec, 2);
}

/* Appends "." and the first fsp digits of usec (nothing for fsp 0). usec < 1000000. */
static void append_frac(struct strbuf *out, uint32_t usec, int fsp)
{
    if (fsp > 0 && fsp <= 6) {
        char b[7];
        uint32_t v = usec / usec_div[fsp];
        b[0] = '.';
        for (int i = fsp; i > 0; i--) {
            b[i] = (char)('0' + v % 10);
            v /= 10;
        }
        strbuf_append(out, b, (size_t)fsp + 1);
    }
}

static int frac_range(const char *what, uint64_t usec, struct err *err)
{
    if (usec >= 1000000)
        return err_set(err, ERR_DECODE, "%s: fraction %" PRIu64 " out of range", what, usec);
    return 0;
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). The count is shifted to
 * start on 0000-03-01 so that the leap day ends each 4/100/400-year cycle; the 146097-day
 * era and 365-day year arithmetic then needs no tables. Valid for any uint32 seconds. */
static void days_to_civil(uint32_t days, unsigned *y, unsigned *m, unsigned *d)
{
    uint32_t z = days + 719468; /* days from 0000-03-01 to 1970-01-01 */
    uint32_t era = z / 146097;
    uint32_t doe = z - era * 146097;                                      /* 0..146096 */
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365, from Mar 1 */
    uint32_t mp = (5 * doy + 2) / 153;                                    /* 0 = March */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = era * 400 + yoe + (*m <= 2);
}

/* Appends the UTC text of epoch seconds; 0 is MySQL's zero timestamp. */
static void append_epoch(struct strbuf *out, uint32_t secs)
{
    if (secs == 0) {
        strbuf_appends(out, "0000-00-00 00:00:00");
        return;
    }
    unsigned y, mo, d;
    uint32_t sod = secs % 86400;
    days_to_civil(secs / 86400, &y, &mo, &d);
    put_date(out, y, mo, d);
    strbuf_appendc(out, ' ');
    put_hms(out, sod / 3600, (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

int temporal_date(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err)
{
    if (need("date", 3, avail, err))
        return ERR_DECODE;
    uint32_t v = (uint32_t)le_n(p, 3);
    put_date(out, v >> 9, (unsigned)(v >> 5 & 15), (unsigned)(v & 31));
    return 3;
}

int temporal_time(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err)
{
    if (need("time", 3, avail, err))
        return ERR_DECODE;
    int32_t v = (int32_t)le_n(p, 3);
    if (v & 0x800000)
        v -= 0x1000000; /* sign-extend the 24-bit value */
    uint32_t a = v < 0 ? (uint32_t)-v : (uint32_t)v;
    if (v < 0)
        strbuf_appendc(out, '-');
    put_hms(out, a / 10000, (unsigned)(a / 100 % 100), (unsigned)(a % 100));
    return 3;
}

int temporal_time2(const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err)
{
    size_t n = 0;
    if (need_fsp("time2", 3, fsp, avail, &n, err))
        return ERR_DECODE;

    /* Rebuild MySQL's packed time: intpart * 2^24 + signed microseconds. */
    int64_t intpart = (int64_t)be_n(p, 3) - 0x800000;
    int64_t packed;
    switch (n - 3) {
    case 0:
        packed = intpart * (1 << 24);
        break;
    case 1: {
        int64_t frac = p[3];
        if (intpart < 0 && frac) {
            intpart++; /* the fraction counts back from the next integer */
            frac -= 0x100;
        }
        packed = intpart * (1 << 24) + frac * 10000;
        break;
    }
    case 2: {
        int64_t frac = (int64_t)be_n(p + 3, 2);
        if (intpart < 0 && frac) {
            intpart++;
            frac -= 0x10000;
        }
        packed = intpart * (1 << 24) + frac * 100;
        break;
    }
    default: /* 3 fraction bytes: the 48-bit whole is offset-binary */
        packed = (int64_t)be_n(p, 6) - ((int64_t)1 << 47);
        break;
    }

    bool neg = packed < 0;
    uint64_t a = neg ? (uint64_t)-packed : (uint64_t)packed;
    uint64_t usec = a & 0xffffff;
    uint64_t hms = a >> 24;
    if (frac_range("time2", usec, err))
        return ERR_DECODE;
    if (neg)
        strbuf_appendc(out, '-');
    put_hms(out, hms >> 12 & 1023, (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63));
    append_frac(out, (uint32_t)usec, fsp);
    return (int)n;
}

int temporal_datetime(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err)
{
    if (need("datetime", 8, avail, err))
        return ERR_DECODE;
    uint64_t v = le_n(p, 8);
    uint64_t date = v / 1000000, tod = v % 1000000;
    put_date(out, date / 10000, (unsigned)(date / 100 % 100), (unsigned)(date % 100));
    strbuf_appendc(out, ' ');
    put_hms(out, tod / 10000, (unsigned)(tod / 100 % 100), (unsigned)(tod % 100));
    return 8;
}

int temporal_datetime2(const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err)
{
    size_t n = 0;
    if (need_fsp("datetime2", 5, fsp, avail, &n, err))
        return ERR_DECODE;

    /* The fraction is stored signed (only negative datetimes, which MySQL never writes,
     * would use that); rebuild the packed value as my_datetime_packed_from_binary does. */
    int64_t intpart = (int64_t)be_n(p, 5) - ((int64_t)1 << 39);
    if (intpart == -((int64_t)1 << 39))
        return err_set(err, ERR_DECODE, "datetime2: stored value 0 is out of range");
    int64_t frac = 0;
    switch (n - 5) {
    case 1:
        frac = (int8_t)p[5] * 10000;
        break;
    case 2:
        frac = (int16_t)be_n(p + 5, 2) * 100;
        break;
    case 3: {
        int32_t f = (int32_t)be_n(p + 5, 3);
        frac = f & 0x800000 ? f - 0x1000000 : f;
        break;
    }
    default:
        break;
    }
    int64_t packed = intpart * (1 << 24) + frac;

    bool neg = packed < 0;
    uint64_t a = neg ? (uint64_t)-packed : (uint64_t)packed;
    uint64_t usec = a & 0xffffff;
    uint64_t ymdhms = a >> 24;
    uint64_t ymd = ymdhms >> 17, hms = ymdhms & 0x1ffff;
    uint64_t ym = ymd >> 5;
    if (frac_range("datetime2", usec, err))
        return ERR_DECODE;
    if (neg)
        strbuf_appendc(out, '-');
    put_date(out, ym / 13, (unsigned)(ym % 13), (unsigned)(ymd & 31));
    strbuf_appendc(out, ' ');
    put_hms(out, hms >> 12, (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63));
    append_frac(out, (uint32_t)usec, fsp);
    return (int)n;
}

int temporal_timestamp(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err)
{
    if (need("timestamp", 4, avail, err))
        return ERR_DECODE;
    append_epoch(out, (uint32_t)le_n(p, 4));
    return 4;
}

int temporal_timestamp2(
    const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err)
{
    size_t n = 0;
    if (need_fsp("timestamp2", 4, fsp, avail, &n, err))
        return ERR_DECODE;
    uint32_t secs = (uint32_t)be_n(p, 4);
    uint64_t usec = 0;
    switch (n - 4) {
    case 1:
        usec = (uint64_t)p[4] * 10000;
        break;
    case 2:
        usec = be_n(p + 4, 2) * 100;
        break;
    case 3:
        usec = be_n(p + 4, 3);
        break;
    default:
        break;
    }
    if (frac_range("timestamp2", usec, err))
        return ERR_DECODE;
    if (secs == 0 && usec != 0)
        strbuf_appends(out, "1970-01-01 00:00:00"); /* not the zero timestamp: as MariaDB */
    else
        append_epoch(out, secs);
    append_frac(out, (uint32_t)usec, fsp);
    return (int)n;
}

int temporal_year(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err)
{
    if (need("year", 1, avail, err))
        return ERR_DECODE;
    strbuf_append_u64(out, p[0] ? 1900u + p[0] : 0u);
    return 1;
}
