/*
 * main.c — the sluice command line.
 *
 *   sluice decode [--events rows|all] [--start-position N] [--stop-position N] [--stats] FILE...
 *   sluice version | help
 *
 * `decode` streams binlog/relay-log files through the decoder and prints one JSON object per
 * line (the `json` format). Exit status: 0 success, 1 a file could not be read or decoded (the
 * message names file and offset; everything before it was printed), 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_event.h"
#include "binlog_file.h"
#include "change_json.h"
#include "decoder.h"
#include "strbuf.h"

#define SLUICE_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: sluice decode [--events rows|all] [--start-position N] [--stop-position N]\n"
          "                     [--stats] FILE...\n"
          "       sluice version\n"
          "       sluice help\n"
          "\n"
          "decode  print every row change in the binlog/relay-log FILEs as one JSON object per\n"
          "        line; --events all adds begin/commit/ddl/gtid lines; positions are byte\n"
          "        offsets of events in the (first/last) file; --stats prints event counts\n"
          "        to stderr at the end\n",
          out);
}

struct decode_out {
    struct strbuf line;
    uint64_t start, stop; /* emit only events at offsets in [start, stop) */
    bool stopped;
    bool first_file, last_file;
};

static int emit_line(const struct change *c, void *opaque)
{
    struct decode_out *o = opaque;
    if (o->first_file && c->pos < o->start)
        return 0;
    if (o->last_file && c->pos >= o->stop) {
        o->stopped = true;
        return 0;
    }
    strbuf_reset(&o->line);
    change_json_render(c, &o->line);
    strbuf_appendc(&o->line, '\n');
    if (fwrite(o->line.buf, 1, o->line.len, stdout) != o->line.len)
        return ERR_IO;
    return 0;
}

static void warn_line(const char *msg, void *opaque)
{
    (void)opaque;
    fflush(stdout);
    fprintf(stderr, "sluice decode: warning: %s\n", msg);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static void print_stats(const struct decoder_stats *st)
{
    fprintf(stderr,
            "{\"events\":%llu,\"rows\":%llu,\"table_maps_with_optional_metadata\":%llu,"
            "\"types\":{",
            (unsigned long long)st->events, (unsigned long long)st->rows,
            (unsigned long long)st->tmaps_with_optional_meta);
    int first = 1;
    for (unsigned t = 0; t < 256; t++) {
        if (!st->by_type[t])
            continue;
        const char *n = binlog_event_type_name(t);
        char tmp[16];
        if (n == NULL) {
            snprintf(tmp, sizeof(tmp), "TYPE_%u", t);
            n = tmp;
        }
        fprintf(stderr, "%s\"%s\":%llu", first ? "" : ",", n, (unsigned long long)st->by_type[t]);
        first = 0;
    }
    fputs("},\"inner_types\":{", stderr);
    first = 1;
    for (unsigned t = 0; t < 256; t++) {
        if (!st->inner_by_type[t])
            continue;
        const char *n = binlog_event_type_name(t);
        fprintf(stderr, "%s\"%s\":%llu", first ? "" : ",", n ? n : "?",
                (unsigned long long)st->inner_by_type[t]);
        first = 0;
    }
    fputs("}}\n", stderr);
}

static int cmd_decode(int argc, char **argv)
{
    struct decoder_opts opts;
    decoder_opts_init(&opts);
    opts.follow_rotate = false;
    struct decode_out out = {.start = 0, .stop = UINT64_MAX};
    bool stats = false;
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (strcmp(a, "--events") == 0 || strcmp(a, "--start-position") == 0 ||
            strcmp(a, "--stop-position") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice decode: option %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (strcmp(a, "--events") == 0) {
                if (strcmp(v, "rows") == 0) {
                    opts.all_events = false;
                } else if (strcmp(v, "all") == 0) {
                    opts.all_events = true;
                } else {
                    fprintf(stderr, "sluice decode: --events \"%s\": expected rows or all\n", v);
                    return 2;
                }
            } else if (parse_u64(v, strcmp(a, "--stop-position") == 0 ? &out.stop : &out.start)) {
                fprintf(stderr, "sluice decode: %s \"%s\": expected a byte offset (a number)\n", a,
                        v);
                return 2;
            }
        } else if (strcmp(a, "--stats") == 0) {
            stats = true;
        } else if (strcmp(a, "--no-verify-checksum") == 0) {
            opts.verify_checksum = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluice decode: unknown option \"%s\" (see sluice help)\n", a);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "sluice decode: no binlog file given\n");
        usage(stderr);
        return 2;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    opts.emit = emit_line;
    opts.warn = warn_line;
    opts.opaque = &out;
    struct decoder *d = decoder_new(&opts);
    int rc = 0;
    int first = i;
    for (; i < argc && !out.stopped; i++) {
        struct err err = {0};
        struct binlog_file *f = binlog_file_open(argv[i], &err);
        if (f == NULL) {
            fprintf(stderr, "sluice decode: %s\n", err.msg);
            rc = 1;
            break;
        }
        out.first_file = i == first;
        out.last_file = i == argc - 1;
        decoder_set_file(d, binlog_file_name(f));
        /* A start position does not seek: the file is read from its first event so that the
         * format description, table maps and GTID before the start are known; emit_line
         * drops what lies before it. */
        const uint8_t *ev;
        size_t len;
        uint64_t off;
        int r;
        while ((r = binlog_file_next(f, &ev, &len, &off, &err)) == 1) {
            if (out.last_file && off >= out.stop) {
                out.stopped = true;
                break;
            }
            r = decoder_feed(d, ev, len, off, &err);
            if (r) {
                if (r == ERR_IO)
                    fprintf(stderr, "sluice decode: could not write the output: %s\n",
                            strerror(errno));
                else
                    fprintf(stderr, "sluice decode: \"%s\": %s\n", argv[i], err.msg);
                rc = 1;
                break;
            }
            if (out.stopped)
                break;
        }
        if (r < 0 && rc == 0) {
            fprintf(stderr, "sluice decode: %s\n", err.msg);
            rc = 1;
        }
        binlog_file_close(f);
        if (rc)
            break;
    }
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "sluice decode: could not write the output: %s\n", strerror(errno));
        rc = 1;
    }
    if (stats)
        print_stats(decoder_get_stats(d));
    decoder_free(d);
    strbuf_free(&out.line);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "decode") == 0)
        return cmd_decode(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sluice: unknown command \"%s\" (see sluice help)\n", cmd);
    return 2;
}
