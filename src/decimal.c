/*
 * decimal.c — MySQL's binary DECIMAL to text.
 *
 * Format (MySQL strings/decimal.cc, decimal2bin/bin2decimal): the integer part and the fraction
 * part are each split into groups of 9 decimal digits, every full group stored as a 4-byte
 * big-endian integer. The integer part's leftover digits (precision - scale) % 9 form a shorter
 * group stored *first*, the fraction's leftover digits scale % 9 a shorter group stored *last*;
 * a group of n leftover digits takes dig2bytes[n] bytes. The top bit of the first byte is the
 * sign, inverted (set = positive), so that the bytes compare like the numbers; a negative value
 * additionally has every byte XORed with 0xff.
 *
 * Invariants: never reads past decimal_bin_size(precision, scale) bytes; each group must be
 * below 10^digits, otherwise the input is corrupt and we return ERR_DECODE rather than print a
 * misaligned number. Output is all-or-nothing: it is built on the stack and appended once.
 */
#include <string.h>

#include "bytes.h"
#include "decimal.h"

#define DIG_PER_GROUP 9

/* Bytes needed for a group of n (0..9) decimal digits. */
static const int dig2bytes[DIG_PER_GROUP + 1] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

static const uint32_t pow10_u32[DIG_PER_GROUP + 1] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

static int valid_args(int precision, int scale)
{
    return precision >= 1 && precision <= DECIMAL_MAX_PRECISION && scale >= 0 &&
           scale <= DECIMAL_MAX_SCALE && scale <= precision;
}

size_t decimal_bin_size(int precision, int scale)
{
    if (!valid_args(precision, scale))
        return 0;
    int intg = precision - scale;
    return (size_t)((intg / DIG_PER_GROUP) * 4 + dig2bytes[intg % DIG_PER_GROUP] +
                    (scale / DIG_PER_GROUP) * 4 + dig2bytes[scale % DIG_PER_GROUP]);
}

/* Writes v as exactly ndig digits (zero-padded) at *o and advances it. */
static void put_digits(char **o, uint32_t v, int ndig)
{
    for (int i = ndig - 1; i >= 0; i--) {
        (*o)[i] = (char)('0' + v % 10);
        v /= 10;
    }
    *o += ndig;
}

int decimal_bin_to_str(
    const uint8_t *p, size_t avail, int precision, int scale, struct strbuf *out, struct err *err)
{
    if (!valid_args(precision, scale))
        return err_set(err, ERR_DECODE, "decimal: invalid precision %d scale %d", precision, scale);
    size_t size = decimal_bin_size(precision, scale);
    if (avail < size)
        return err_set(err, ERR_DECODE, "decimal(%d,%d): need %zu bytes, have %zu", precision,
                       scale, size, avail);

    /* Undo the sign encoding on a private copy: 65 digits never take more than 30 bytes. */
    uint8_t b[32];
    if (size > sizeof(b)) /* cannot happen for valid precision/scale; keeps the copy safe */
        return err_set(err, ERR_DECODE, "decimal(%d,%d): %zu bytes", precision, scale, size);
    memcpy(b, p, size);
    int negative = (b[0] & 0x80) == 0;
    b[0] ^= 0x80;
    if (negative) {
        for (size_t i = 0; i < size; i++)
            b[i] ^= 0xff;
    }

    /* The digit groups in storage order: {digits, bytes}. */
    int intg = precision - scale;
    int groups[2 * (DECIMAL_MAX_PRECISION / DIG_PER_GROUP + 2)];
    int ngroups = 0;
    if (intg % DIG_PER_GROUP)
        groups[ngroups++] = intg % DIG_PER_GROUP;
    for (int i = 0; i < intg / DIG_PER_GROUP; i++)
        groups[ngroups++] = DIG_PER_GROUP;
    int int_groups = ngroups;
    for (int i = 0; i < scale / DIG_PER_GROUP; i++)
        groups[ngroups++] = DIG_PER_GROUP;
    if (scale % DIG_PER_GROUP)
        groups[ngroups++] = scale % DIG_PER_GROUP;

    /* digits[] receives all precision digits, integer part first. */
    char digits[DECIMAL_MAX_PRECISION + 1];
    char *o = digits;
    const uint8_t *q = b;
    for (int g = 0; g < ngroups; g++) {
        int nb = dig2bytes[groups[g]];
        uint32_t v = (uint32_t)be_n(q, (unsigned)nb);
        if (v >= pow10_u32[groups[g]])
            return err_set(
                err, ERR_DECODE, "decimal(%d,%d): %s digit group %d holds %u, more than %d digits",
                precision, scale, g < int_groups ? "integer" : "fraction", g, v, groups[g]);
        put_digits(&o, v, groups[g]);
        q += nb;
    }

    /* Skip leading integer zeros but keep one digit before the point. */
    int first = 0;
    while (first < intg - 1 && digits[first] == '0')
        first++;
    int all_zero = 1;
    for (int i = 0; i < precision; i++) {
        if (digits[i] != '0') {
            all_zero = 0;
            break;
        }
    }

    char text[DECIMAL_MAX_PRECISION + 4];
    char *t = text;
    if (negative && !all_zero)
        *t++ = '-';
    if (intg > 0) {
        memcpy(t, digits + first, (size_t)(intg - first));
        t += intg - first;
    } else {
        *t++ = '0';
    }
    if (scale > 0) {
        *t++ = '.';
        memcpy(t, digits + intg, (size_t)scale);
        t += scale;
    }
    strbuf_append(out, text, (size_t)(t - text));
    return 0;
}
