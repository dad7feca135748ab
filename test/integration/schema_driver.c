/*
 * schema_driver.c — test driver for 50-schema.sh: decodes binlog files with a struct schema
 * (src/schema.h) the way an instance does, and prints one JSON line per row change.
 *
 *   schema_driver --dir DIR [--host H] [--port P] [--user U] [--password PW]
 *                 [--version V] [--start OFFSET] [--stop OFFSET] [--trace] FILE...
 *
 * --version V restores history version V (default: 0, an empty model, tables loaded lazily);
 * --start OFFSET skips the events of the first file before OFFSET (its FORMAT_DESCRIPTION is
 * still read), as a restart from that position would; --stop OFFSET ends before the event at
 * OFFSET of the last file; --trace prints, after each DDL that
 * changed the model, {"schema_version":N,"pos":"FILE:POS","next":"FILE:NEXT"}.
 * Exit status 0, or 1 with the error on stderr ("schema_driver: <message>").
 *
 * Not part of the daemon: built by the test script against build/default/libsluice.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_file.h"
#include "change_json.h"
#include "decoder.h"
#include "schema.h"
#include "strbuf.h"

struct drv {
    struct schema *schema;
    struct decoder *dec;
    bool trace;
    bool forget; /* the model changed: drop the decoder's table maps after this event */
    struct strbuf line;
    struct err err; /* an error from inside the emit callback */
};

static int emit(const struct change *c, void *opaque)
{
    struct drv *d = opaque;
    if (c->kind == CHANGE_DDL) {
        int rc = schema_apply_query(d->schema, c->db, c->sql, c->sql_len, c->file, c->pos, &d->err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            d->forget = true;
            if (d->trace)
                printf("{\"schema_version\":%llu,\"pos\":\"%s:%llu\",\"next\":\"%s:%llu\"}\n",
                       (unsigned long long)schema_version(d->schema), c->file,
                       (unsigned long long)c->pos, c->file, (unsigned long long)c->next_pos);
        }
        return 0;
    }
    if (c->kind != CHANGE_INSERT && c->kind != CHANGE_UPDATE && c->kind != CHANGE_DELETE)
        return 0;
    strbuf_reset(&d->line);
    change_json_render(c, &d->line);
    strbuf_appendc(&d->line, '\n');
    fwrite(d->line.buf, 1, d->line.len, stdout);
    return 0;
}

static void warn(const char *msg, void *opaque)
{
    (void)opaque;
    fflush(stdout);
    fprintf(stderr, "schema_driver: warning: %s\n", msg);
}

static int on_table_map(struct table_map *tm, void *opaque, struct err *err)
{
    struct drv *d = opaque;
    return schema_table_map(tm, d->schema, err);
}

int main(int argc, char **argv)
{
    struct schema_conn conn = {.host = "127.0.0.1", .port = 3306, .user = "root", .password = ""};
    const char *dir = NULL;
    unsigned long long version = 0, start = 0, stop = 0;
    struct drv d = {0};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--trace") == 0) {
            d.trace = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "schema_driver: %s needs a value\n", o);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(o, "--dir") == 0)
            dir = v;
        else if (strcmp(o, "--host") == 0)
            conn.host = v;
        else if (strcmp(o, "--port") == 0)
            conn.port = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--user") == 0)
            conn.user = v;
        else if (strcmp(o, "--password") == 0)
            conn.password = v;
        else if (strcmp(o, "--version") == 0)
            version = strtoull(v, NULL, 10);
        else if (strcmp(o, "--start") == 0)
            start = strtoull(v, NULL, 10);
        else if (strcmp(o, "--stop") == 0)
            stop = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "schema_driver: unknown option %s\n", o);
            return 2;
        }
    }
    if (dir == NULL || i >= argc) {
        fprintf(stderr, "usage: schema_driver --dir DIR [options] FILE...\n");
        return 2;
    }
    struct err err = {0};
    d.schema = schema_open(dir, &conn, &err);
    if (d.schema == NULL || schema_load(d.schema, version, &err) != 0) {
        fprintf(stderr, "schema_driver: %s\n", err.msg);
        schema_free(d.schema);
        return 1;
    }
    schema_set_warn(d.schema, warn, NULL);
    struct decoder_opts opts;
    decoder_opts_init(&opts);
    opts.all_events = true;
    opts.follow_rotate = false;
    opts.emit = emit;
    opts.warn = warn;
    opts.on_table_map = on_table_map;
    opts.opaque = &d;
    d.dec = decoder_new(&opts);
    int rc = 0;
    for (int first = i; i < argc && rc == 0; i++) {
        struct binlog_file *f = binlog_file_open(argv[i], &err);
        if (f == NULL) {
            rc = 1;
            break;
        }
        decoder_set_file(d.dec, binlog_file_name(f));
        const uint8_t *ev;
        size_t len;
        uint64_t off;
        int r;
        while ((r = binlog_file_next(f, &ev, &len, &off, &err)) == 1) {
            /* Before the start offset only the format description is needed. */
            if (i == first && off < start && !(len > 4 && ev[4] == 15))
                continue;
            if (i == argc - 1 && stop && off >= stop)
                break;
            schema_set_position(d.schema, binlog_file_name(f), off);
            r = decoder_feed(d.dec, ev, len, off, &err);
            if (r) {
                if (d.err.code)
                    err = d.err;
                rc = 1;
                break;
            }
            if (d.forget) {
                decoder_forget_tables(d.dec);
                d.forget = false;
            }
        }
        if (r < 0)
            rc = 1;
        binlog_file_close(f);
    }
    fflush(stdout);
    if (rc)
        fprintf(stderr, "schema_driver: %s\n", err.msg);
    fprintf(stderr, "schema_driver: schema version %llu\n",
            (unsigned long long)schema_version(d.schema));
    decoder_free(d.dec);
    schema_free(d.schema);
    strbuf_free(&d.line);
    return rc;
}
