/*
 * json_binary.h — MySQL's binary JSON (column type 245) to JSON text, and the JSON diff vectors
 * of PARTIAL_UPDATE_ROWS events (binlog_row_value_options=PARTIAL_JSON).
 *
 * Output matches MySQL's own rendering (JSON_EXTRACT, mysqlbinlog -v): ", " and ": " separators,
 * object keys in stored order, doubles as MySQL prints them ("3.0", "1.5", "1e100"), DECIMAL
 * unquoted, DATE/TIME/DATETIME/TIMESTAMP quoted, other opaque values as
 * "base64:typeNN:<base64>". Pure functions, no state, any thread.
 */
#ifndef SLUICE_JSON_BINARY_H
#define SLUICE_JSON_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/* Deepest nesting of arrays/objects accepted (MySQL's JSON_DOCUMENT_MAX_DEPTH). */
#define JSON_BINARY_MAX_DEPTH 100

/* Appends the JSON text of the MySQL binary JSON document [p, p+n) to out. An empty document
 * (n == 0) is JSON null (MySQL stores an empty value for a NULL-ish JSON). Returns 0 or
 * ERR_DECODE naming what is wrong and the offset ("json: object entry 3 offset 120 past end
 * 80"); on error out is left as it was. Never reads outside
 * [p, p+n): all offsets/sizes are checked; nesting depth is limited to JSON_BINARY_MAX_DEPTH and
 * output to 16 bytes per input byte (so offsets shared between entries cannot blow up). */
int json_binary_to_text(const uint8_t *p, size_t n, struct strbuf *out, struct err *err);

/* Applies a PARTIAL_UPDATE_ROWS JSON diff vector to the binary document `doc` (the before image)
 * and appends the resulting full JSON text to out. `diffs` is the diff vector as it appears in
 * the after image after its 4-byte little-endian length prefix, i.e. a sequence of
 *   op (1 byte: 0 REPLACE, 1 INSERT, 2 REMOVE), path length (packed/length-encoded integer),
 *   path text ("$.a.b[2]" MySQL JSON path syntax; keys may be quoted "$.\"x y\""), and unless
 *   REMOVE: value length (packed integer) + value (binary JSON: type byte then the value).
 * Semantics as MySQL's JSON_REPLACE / JSON_ARRAY_INSERT-or-JSON_INSERT / JSON_REMOVE on that
 * path: REPLACE and REMOVE need the path to exist; INSERT with a last leg "[i]" inserts into
 * the array at i (appends when i >= size), with a key adds the member in MySQL's key order
 * (replacing an existing one). Paths with wildcards or ranges are rejected. Returns 0 or
 * ERR_DECODE (out then left as it was). Both inputs are borrowed for the call only. */
int json_binary_apply_diffs(const uint8_t *doc,
                            size_t doc_len,
                            const uint8_t *diffs,
                            size_t diffs_len,
                            struct strbuf *out,
                            struct err *err);

/* Appends the diff vector as JSON text, for when the before image is not in the binlog
 * (binlog_row_image=MINIMAL): [{"op":"replace","path":"$.age","value":26},...] (compact
 * wrapper, values rendered as json_binary_to_text does; "remove" entries have no "value").
 * Returns 0 or ERR_DECODE (out then left as it was). */
int json_binary_diffs_to_text(const uint8_t *diffs,
                              size_t diffs_len,
                              struct strbuf *out,
                              struct err *err);

#endif
