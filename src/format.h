/*
 * format.h — the output formats every sink shares (file, stdout, kafka): `json` (change_json.c),
 * `canal` (format_canal.c, canal's flatMessage) and `debezium` (format_debezium.c, Debezium's
 * MySQL envelope with its JSON converter's default value mapping, schemas off).
 *
 * A format renders one struct change (a row change or a DDL) as one JSON value, no newline, and
 * the message key a keyed sink (Kafka) sends with it: the primary-key columns as a JSON object,
 * values in the format's own mapping.
 */
#ifndef SLUICE_FORMAT_H
#define SLUICE_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "change.h"
#include "config.h"
#include "err.h"
#include "strbuf.h"

struct table_map_col;

/* What a format may need besides the change itself. */
struct format_ctx {
    const char *instance; /* instance name (Debezium source.name, the topic prefix) */
    uint64_t batch_id;    /* the sink batch the change belongs to (canal "id") */
    int64_t now_ms;       /* processing time, ms since the epoch (canal "ts", Debezium "ts_ms") */
};

/* Appends change c (row change or DDL) rendered in format f, without a newline. Returns 0. */
int format_render(enum config_format f,
                  const struct format_ctx *ctx,
                  const struct change *c,
                  struct strbuf *out,
                  struct err *err);

/* Appends the message key of row change c in format f: {"pk1":v1,...} over the primary-key
 * columns of the row (the before image for deletes, else the after image). Returns false and
 * appends nothing when the table has no primary key known, or a key column is absent from
 * the image; the caller then falls back to its keyless policy. */
bool format_render_key(enum config_format f, const struct change *c, struct strbuf *out);

/* Appends one column value (row.c's JSON text v[0..n)) in a format's own mapping. */
typedef void (*format_value_fn)(const struct table_map_col *tc,
                                const char *v,
                                size_t n,
                                struct strbuf *out);

/* For the formats: appends {"pk1":v1,...} over the primary-key columns of row change c (the
 * before image for deletes, else the after image), each value through value. Returns false and
 * appends nothing when the table has no known primary key or a key column is absent. */
bool format_render_pk(const struct change *c, format_value_fn value, struct strbuf *out);

/* Appends the whole identifying image of row change c (the before image for deletes, else the
 * after image) as a `json`-format object: the key of a row without a primary key. */
void format_render_row_key(const struct change *c, struct strbuf *out);

#endif
