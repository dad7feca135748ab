/*
 * row.h — decoding one row image of a ROWS event into JSON text, column by column.
 *
 * A row image is a NULL bitmap over the columns present in the image, then the values of the
 * present, non-NULL columns in table order, each in its type's storage format. The JSON text of
 * each value is appended to `text` and indexed by a struct change_col.
 */
#ifndef SLUICE_ROW_H
#define SLUICE_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "err.h"
#include "strbuf.h"
#include "table_map.h"

/* Raw bytes of a column value in the event, kept from a before image so that a PARTIAL_UPDATE
 * diff can be applied to it. Borrowed from the event buffer. */
struct row_raw {
    const uint8_t *p;
    uint32_t n;
    bool set;
};

struct row_image_in {
    const struct table_map *tm;
    const uint8_t *present; /* columns-present bitmap, ncols bits, LSB first */
    const uint8_t *partial; /* PARTIAL_UPDATE after image: bitmap over JSON columns, or NULL */
    struct row_raw *raw;    /* before image: filled with JSON columns' raw bytes (may be NULL);
                               after image: read to apply partial diffs */
    bool is_after_partial;  /* this is a PARTIAL_UPDATE after image */
    /* When set, the values are written as one JSON object, each after its key ("name": or
     * "@N":) and a comma, in braces; object[0] and object[1] receive the offset and length of
     * that object in text (the columns still point at the values alone). Partial-update diffs
     * (pcols) are left out of it. */
    uint32_t *object;
};

/* Decodes the row image at *pp (not past end). Appends entries to cols (room for tm->ncols)
 * and sets *ncols; columns whose diff could not be applied (no before value) go to
 * pcols (count in npcols) instead with the diff's JSON. Advances *pp past the image. Returns 0 or
 * an ERR_DECODE naming the column. */
int row_decode_image(const struct row_image_in *in,
                     const uint8_t **pp,
                     const uint8_t *end,
                     struct strbuf *text,
                     struct change_col *cols,
                     uint32_t *ncols,
                     struct change_col *pcols,
                     uint32_t *npcols,
                     struct err *err);

/* Appends the JSON text of one value of column c stored at p (avail bytes) and sets *used.
 * Exposed for tests. */
int row_render_value(const struct table_map_col *c,
                     const uint8_t *p,
                     size_t avail,
                     struct strbuf *out,
                     size_t *used,
                     struct err *err);

#endif
