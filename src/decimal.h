/*
 * decimal.h — MySQL's binary DECIMAL (NEWDECIMAL, column type 246) to decimal text.
 *
 * Used by the row decoder for DECIMAL columns and by json_binary for opaque DECIMAL values
 * inside JSON documents. Pure functions, no state, any thread.
 */
#ifndef SLUICE_DECIMAL_H
#define SLUICE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/* Largest precision and scale MySQL accepts for DECIMAL(precision, scale). */
#define DECIMAL_MAX_PRECISION 65
#define DECIMAL_MAX_SCALE     38 /* MySQL allows 30, MariaDB 38 */

/* Bytes a DECIMAL(precision, scale) value takes in a row image (MySQL's decimal_bin_size).
 * Returns 0 when precision/scale are invalid (precision 1..65, scale 0..38 (MariaDB), scale <=
 * precision). */
size_t decimal_bin_size(int precision, int scale);

/* Appends to out the decimal text of the binary DECIMAL at p (precision, scale from the column
 * metadata), unquoted, with exactly `scale` fractional digits: "-12.340000", "0.10", "123",
 * "0.000", "-0.5" -> "-0.50" for scale 2. No leading zeros except the single "0" before the
 * point; a negative zero prints without its sign. Reads exactly decimal_bin_size() bytes.
 * Returns 0, or ERR_DECODE (err filled, out unchanged) when avail < decimal_bin_size,
 * precision/scale are invalid (precision 1..65, scale 0..38 (MariaDB), scale <= precision) or a
 * digit group holds a value too large for its digit count (corrupt data). */
int decimal_bin_to_str(
    const uint8_t *p, size_t avail, int precision, int scale, struct strbuf *out, struct err *err);

#endif
