/*
 * charset.h — MySQL/MariaDB collation ids: their character set, its width, and conversion of
 * column text to UTF-8 JSON strings.
 *
 * Collation ids come from TABLE_MAP optional metadata (DEFAULT_CHARSET / COLUMN_CHARSET) and
 * from QUERY events. The table covers MySQL 5.x/8.x (including 76 and 255..323) and MariaDB
 * (nopad 1025+, utf8mb3/utf8mb4/ucs2/utf16/utf32 uca1400 2048..3327). All functions are
 * thread-safe.
 */
#ifndef SLUICE_CHARSET_H
#define SLUICE_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Name of the character set of a collation id ("latin1", "utf8mb3", "utf8mb4", "binary",
 * "ascii", "gbk", "big5", "cp1251", "ucs2", "utf16", "utf32", ...), or NULL when the id is
 * unknown. The string is static. */
const char *charset_name(unsigned collation_id);

/* True for collation 63 (binary). */
bool charset_is_binary(unsigned collation_id);

/* Appends s[0..n) converted from the collation's character set to UTF-8, as a quoted JSON
 * string. utf8mb3/utf8mb4/ascii and unknown ids are taken as UTF-8; latin1 is decoded as
 * Windows-1252 (MySQL's latin1) by table; other charsets go through iconv. Bytes that are not
 * valid in their charset become U+FFFD and conversion continues after them; a charset iconv
 * cannot open is taken as UTF-8. Never fails. The binary collation is taken as UTF-8 too
 * (callers normally base64 it instead, see charset_is_binary). */
void charset_append_json(struct strbuf *out, unsigned collation_id, const uint8_t *s, size_t n);

/* Maximum bytes per character of the collation's charset (1 latin1, 3 utf8mb3, 4 utf8mb4,
 * 2 gbk, ...); 1 when the id is unknown. Decides the CHAR column length-prefix width. */
unsigned charset_maxlen(unsigned collation_id);

#endif
