/*
 * format.c — dispatch to the output formats (json, canal, debezium) and the `json` format's
 * message key. Each format lives in its own file; this one only chooses.
 *
 * Invariant: every format renders every change kind a sink is given (row changes and DDL).
 */
#include "format.h"
#include "change_json.h"
#include "format_canal.h"
#include "format_debezium.h"
#include "table_map.h"

int format_render(enum config_format f,
                  const struct format_ctx *ctx,
                  const struct change *c,
                  struct strbuf *out,
                  struct err *err)
{
    (void)err;
    switch (f) {
    case CONFIG_FORMAT_JSON:
        change_json_render(c, out);
        return 0;
    case CONFIG_FORMAT_CANAL:
        format_canal_render(c, ctx, out);
        return 0;
    case CONFIG_FORMAT_DEBEZIUM:
        format_debezium_render(c, ctx, out);
        return 0;
    }
    return err_set(err, ERR_SINK_FORMAT, "unknown output format %d", (int)f);
}

/* The image that identifies the row: the deleted row for a delete, else the new row. */
static const struct change_image *key_image(const struct change *c)
{
    return c->kind == CHANGE_DELETE ? &c->before : &c->after;
}

/* Appends "name":value for column entry col of c. */
static void append_col(const struct change *c, const struct change_col *col, struct strbuf *out)
{
    const struct table_map *tm = c->tmap;
    if (tm && col->index < tm->ncols) {
        strbuf_append(out, tm->cols[col->index].json_key, tm->cols[col->index].json_key_len);
    } else {
        strbuf_append(out, "\"@", 2);
        strbuf_append_u64(out, (uint64_t)col->index + 1);
        strbuf_append(out, "\":", 2);
    }
    strbuf_append(out, c->text + col->off, col->len);
}

void format_render_row_key(const struct change *c, struct strbuf *out)
{
    const struct change_image *img = key_image(c);
    strbuf_appendc(out, '{');
    for (uint32_t i = 0; i < img->ncols; i++) {
        if (i)
            strbuf_appendc(out, ',');
        append_col(c, &img->cols[i], out);
    }
    strbuf_appendc(out, '}');
}

bool format_render_pk(const struct change *c, format_value_fn value, struct strbuf *out)
{
    const struct table_map *tm = c->tmap;
    if (tm == NULL || tm->npk == 0)
        return false;
    const struct change_image *img = key_image(c);
    size_t mark = out->len;
    strbuf_appendc(out, '{');
    for (uint32_t k = 0; k < tm->npk; k++) {
        uint32_t idx = tm->pk[k];
        const struct change_col *col = NULL;
        for (uint32_t i = 0; i < img->ncols; i++)
            if (img->cols[i].index == idx) {
                col = &img->cols[i];
                break;
            }
        if (col == NULL || idx >= tm->ncols) {
            strbuf_truncate(out, mark);
            return false;
        }
        if (k)
            strbuf_appendc(out, ',');
        strbuf_append(out, tm->cols[idx].json_key, tm->cols[idx].json_key_len);
        value(&tm->cols[idx], c->text + col->off, col->len, out);
    }
    strbuf_appendc(out, '}');
    return true;
}

/* The `json` format's values are row.c's text as it is. */
static void json_value(const struct table_map_col *tc, const char *v, size_t n, struct strbuf *out)
{
    (void)tc;
    strbuf_append(out, v, n);
}

bool format_render_key(enum config_format f, const struct change *c, struct strbuf *out)
{
    if (c->kind != CHANGE_INSERT && c->kind != CHANGE_UPDATE && c->kind != CHANGE_DELETE)
        return false;
    switch (f) {
    case CONFIG_FORMAT_CANAL:
        return format_canal_key(c, out);
    case CONFIG_FORMAT_DEBEZIUM:
        return format_debezium_key(c, out);
    case CONFIG_FORMAT_JSON:
        break;
    }
    return format_render_pk(c, json_value, out);
}
