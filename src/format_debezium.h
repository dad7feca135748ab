/*
 * format_debezium.h — the `debezium` output format: Debezium's MySQL/MariaDB change-event
 * envelope (before, after, source, op, ts_ms) with the JSON converter's default value mapping
 * and schemas disabled, and Debezium's schema-change event for DDL. See docs/formats.md.
 */
#ifndef SLUICE_FORMAT_DEBEZIUM_H
#define SLUICE_FORMAT_DEBEZIUM_H

#include <stdbool.h>

#include "change.h"
#include "format.h"
#include "strbuf.h"

/* Appends the envelope for c (a row change or a DDL), without a newline: a change event for
 * INSERT/UPDATE/DELETE, Debezium's schema change event for anything else. c and ctx are
 * borrowed for the call; only strbuf growth allocates (a DDL also runs the DDL parser). */
void format_debezium_render(const struct change *c,
                            const struct format_ctx *ctx,
                            struct strbuf *out);

/* Appends Debezium's key payload {"pk":value,...} (values in Debezium's mapping); false
 * (nothing appended) when the table has no known primary key or a key column is absent. */
bool format_debezium_key(const struct change *c, struct strbuf *out);

#endif
