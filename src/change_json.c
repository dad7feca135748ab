/*
 * change_json.c — renders a struct change in sluice's native `json` format.
 *
 * Row changes: {"type","db","table","ts","pos","row","gtid"?,"xid"?,"data","old"?,"json_diff"?}.
 * Column keys are the column names when the table map carries them, else "@1", "@2", ... A
 * column absent from a row image is absent from the object. Other kinds (with --events all):
 * {"type":"begin"|"commit"|"rollback"|"ddl"|"gtid", "db"?, "ts", "pos", "gtid"?, "xid"?, "sql"?}.
 *
 * The `,"ts":T,"pos":"FILE:OFFSET"` part is the same for every row of a rows event, so each thread
 * keeps the last one rendered and copies it while ts, offset and file name stay the same.
 */
#include <string.h>

#include "change_json.h"
#include "table_map.h"

const char *change_kind_name(enum change_kind k)
{
    switch (k) {
    case CHANGE_INSERT:
        return "insert";
    case CHANGE_UPDATE:
        return "update";
    case CHANGE_DELETE:
        return "delete";
    case CHANGE_BEGIN:
        return "begin";
    case CHANGE_COMMIT:
        return "commit";
    case CHANGE_ROLLBACK:
        return "rollback";
    case CHANGE_DDL:
        return "ddl";
    case CHANGE_GTID:
        return "gtid";
    }
    return "unknown";
}

/* The last ts/pos text this thread rendered, with what it was rendered from. */
static _Thread_local struct {
    bool valid;
    uint32_t ts;
    uint64_t pos;
    size_t file_len;
    char file[64];
    size_t len;
    char text[448]; /* room for 64 bytes of name escaped 6 for 1, and the numbers */
} ts_pos_cache;

static void
render_ts_pos_text(const struct change *c, const char *file, size_t flen, struct strbuf *out)
{
    strbuf_append(out, ",\"ts\":", 6);
    strbuf_append_u64(out, c->ts);
    strbuf_append(out, ",\"pos\":\"", 8);
    /* File names are plain ASCII in practice; escape anyway. */
    size_t before = out->len;
    strbuf_append_json_str(out, file, flen);
    /* Drop the closing quote of the name and its opening one: we opened our own. */
    memmove(out->buf + before, out->buf + before + 1, out->len - before - 2);
    out->len -= 2;
    strbuf_appendc(out, ':');
    strbuf_append_u64(out, c->pos);
    strbuf_appendc(out, '"');
}

static void render_ts_pos(const struct change *c, struct strbuf *out)
{
    const char *file = c->file ? c->file : "";
    size_t flen = strlen(file);
    if (ts_pos_cache.valid && ts_pos_cache.ts == c->ts && ts_pos_cache.pos == c->pos &&
        ts_pos_cache.file_len == flen && memcmp(ts_pos_cache.file, file, flen) == 0) {
        strbuf_append(out, ts_pos_cache.text, ts_pos_cache.len);
        return;
    }
    size_t start = out->len;
    render_ts_pos_text(c, file, flen, out);
    size_t len = out->len - start;
    ts_pos_cache.valid = flen <= sizeof(ts_pos_cache.file) && len <= sizeof(ts_pos_cache.text);
    if (ts_pos_cache.valid) {
        ts_pos_cache.ts = c->ts;
        ts_pos_cache.pos = c->pos;
        ts_pos_cache.file_len = flen;
        memcpy(ts_pos_cache.file, file, flen);
        ts_pos_cache.len = len;
        memcpy(ts_pos_cache.text, out->buf + start, len);
    }
}

static void render_image(const struct change *c, const struct change_image *img, struct strbuf *out)
{
    if (img->json_len) {
        strbuf_append(out, c->text + img->json_off, img->json_len);
        return;
    }
    const struct table_map *tm = c->tmap;
    strbuf_appendc(out, '{');
    for (uint32_t i = 0; i < img->ncols; i++) {
        const struct change_col *col = &img->cols[i];
        if (i)
            strbuf_appendc(out, ',');
        if (tm && col->index < tm->ncols) {
            const struct table_map_col *tc = &tm->cols[col->index];
            strbuf_append(out, tc->json_key, tc->json_key_len);
        } else {
            strbuf_append(out, "\"@", 2);
            strbuf_append_u64(out, (uint64_t)col->index + 1);
            strbuf_append(out, "\":", 2);
        }
        strbuf_append(out, c->text + col->off, col->len);
    }
    strbuf_appendc(out, '}');
}

void change_json_render(const struct change *c, struct strbuf *out)
{
    strbuf_append(out, "{\"type\":\"", 9);
    strbuf_appends(out, change_kind_name(c->kind));
    strbuf_appendc(out, '"');
    bool is_row = c->kind == CHANGE_INSERT || c->kind == CHANGE_UPDATE || c->kind == CHANGE_DELETE;
    if (is_row && c->tmap) {
        strbuf_append(out, c->tmap->json_db_table, c->tmap->json_db_table_len);
    } else {
        if (is_row || (c->db && c->db[0])) {
            strbuf_append(out, ",\"db\":", 6);
            strbuf_append_json_str(out, c->db ? c->db : "", c->db ? strlen(c->db) : 0);
        }
        if (is_row) {
            strbuf_append(out, ",\"table\":", 9);
            strbuf_append_json_str(out, c->table ? c->table : "", c->table ? strlen(c->table) : 0);
        }
    }
    render_ts_pos(c, out);
    if (is_row) {
        strbuf_append(out, ",\"row\":", 7);
        strbuf_append_u64(out, c->row);
    }
    if (c->gtid) {
        strbuf_append(out, ",\"gtid\":\"", 9);
        strbuf_appends(out, c->gtid);
        strbuf_appendc(out, '"');
    }
    if (c->has_xid) {
        strbuf_append(out, ",\"xid\":", 7);
        strbuf_append_u64(out, c->xid);
    }
    if (c->sql) {
        strbuf_append(out, ",\"sql\":", 7);
        strbuf_append_json_str(out, c->sql, c->sql_len);
    }
    if (c->kind == CHANGE_INSERT || c->kind == CHANGE_UPDATE) {
        strbuf_append(out, ",\"data\":", 8);
        render_image(c, &c->after, out);
    }
    if (c->kind == CHANGE_DELETE) {
        strbuf_append(out, ",\"data\":", 8);
        render_image(c, &c->before, out);
    }
    if (c->kind == CHANGE_UPDATE) {
        strbuf_append(out, ",\"old\":", 7);
        render_image(c, &c->before, out);
        if (c->partial.ncols) {
            strbuf_append(out, ",\"json_diff\":", 13);
            render_image(c, &c->partial, out);
        }
    }
    strbuf_appendc(out, '}');
}
