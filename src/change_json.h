/*
 * change_json.h — the `json` output format: one struct change as one JSON object (no newline).
 * See docs/formats.md for the fields.
 */
#ifndef SLUICE_CHANGE_JSON_H
#define SLUICE_CHANGE_JSON_H

#include "change.h"
#include "strbuf.h"

/* Appends the JSON object for c to out. */
void change_json_render(const struct change *c, struct strbuf *out);

#endif
