/*
 * format_canal.h — the `canal` output format: canal's flatMessage JSON, one message per row
 * change (as canal writes when it partitions by key) and one per DDL. See docs/formats.md.
 */
#ifndef SLUICE_FORMAT_CANAL_H
#define SLUICE_FORMAT_CANAL_H

#include <stdbool.h>

#include "change.h"
#include "format.h"
#include "strbuf.h"

/* Appends the flatMessage for c (a row change or a DDL), without a newline. */
void format_canal_render(const struct change *c, const struct format_ctx *ctx, struct strbuf *out);

/* Appends {"pk":"value",...} with canal's string values; false (nothing appended) when the
 * table has no known primary key or a key column is absent from the image. */
bool format_canal_key(const struct change *c, struct strbuf *out);

#endif
