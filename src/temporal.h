/*
 * temporal.h — MySQL/MariaDB row-image temporal values (DATE, TIME, DATETIME, TIMESTAMP, YEAR
 * and the fractional-second "2" formats) to text.
 *
 * Every function appends UNQUOTED text to out and returns the number of bytes it consumed
 * (> 0), or ERR_DECODE (negative, err filled, out unchanged) when avail is smaller than the
 * value's size, fsp is outside 0..6 or the stored fraction is out of range. None reads past
 * avail. TIMESTAMPs are printed in UTC without consulting the process time zone. Pure
 * functions, no state, any thread.
 */
#ifndef SLUICE_TEMPORAL_H
#define SLUICE_TEMPORAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/* MYSQL_TYPE_DATE (10) and NEWDATE (14): 3 bytes little-endian, day:5 month:4 year:15 (low to
 * high) -> "YYYY-MM-DD"; the zero date prints "0000-00-00". */
int temporal_date(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_TIME (11), the pre-5.6 format: 3 bytes little-endian signed integer
 * HHMMSS -> "[-]HH:MM:SS" (hours up to 838). */
int temporal_time(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_TIME2 (19): 3 + (fsp+1)/2 bytes big-endian offset-binary -> "[-]HH:MM:SS[.f]"
 * with exactly fsp fraction digits (none for fsp 0); hours may exceed 24 (up to 838). */
int temporal_time2(const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_DATETIME (12), the pre-5.6 format: 8 bytes little-endian integer YYYYMMDDhhmmss
 * -> "YYYY-MM-DD HH:MM:SS". */
int temporal_datetime(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_DATETIME2 (18): 5 + (fsp+1)/2 bytes big-endian -> "YYYY-MM-DD HH:MM:SS[.f]" with
 * exactly fsp fraction digits; the zero date prints "0000-00-00 00:00:00". */
int temporal_datetime2(
    const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_TIMESTAMP (7), the pre-5.6 format: 4 bytes little-endian seconds since the epoch
 * -> UTC "YYYY-MM-DD HH:MM:SS"; 0 prints "0000-00-00 00:00:00". */
int temporal_timestamp(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_TIMESTAMP2 (17): 4 bytes BIG-endian seconds + (fsp+1)/2 bytes fraction -> UTC
 * "YYYY-MM-DD HH:MM:SS[.f]" with exactly fsp fraction digits; 0 seconds and 0 fraction print
 * the zero timestamp "0000-00-00 00:00:00[.000]"; 0 seconds with a non-zero fraction (which
 * MariaDB stores for some out-of-range input) print "1970-01-01 00:00:00.f", as MariaDB. */
int temporal_timestamp2(
    const uint8_t *p, size_t avail, int fsp, struct strbuf *out, struct err *err);

/* MYSQL_TYPE_YEAR (13): 1 byte; appends the number: 0 -> 0, otherwise 1900 + v. */
int temporal_year(const uint8_t *p, size_t avail, struct strbuf *out, struct err *err);

#endif
