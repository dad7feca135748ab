/*
 * main.c — the sluice command line.
 *
 *   sluice decode [--events rows|all] [--format json|canal|debezium] [--start-position N]
 *                 [--stop-position N] [--stats] FILE...
 *   sluice dump --host H [--port P] --user U [--password-env VAR | --password-file F]
 *               [--server-id N] [--start FILE:POS | --gtid D-S-N,...] [--non-blocking]
 *               [--heartbeat-ms N] [--events rows|all] [--stats]
 *   sluice check-config FILE
 *   sluice check --config FILE (cmd_check.c)
 *   sluice version | help [CMD | --man] | CMD --help     (the help text: help.c)
 *
 * `decode` streams binlog/relay-log files through the decoder and prints one JSON object per
 * line (the `json` format). Exit status: 0 success, 1 a file could not be read or decoded (the
 * message names file and offset; everything before it was printed), 2 bad usage.
 *
 * `dump` does the same with a server's binlog, read over a replica connection (binlog_conn).
 * Exit status: 0 at the end of a non-blocking dump or after SIGINT/SIGTERM (output flushed),
 * 1 a connection, server or decode error (the message names host:port and the binlog
 * position), 2 bad usage. The signal handler only sets a flag and shuts the socket down, so a
 * fetch blocked in read() returns at once; the loop then sees the flag.
 *
 * `check-config` loads and validates a configuration file (config.c) and prints one summary
 * line per instance: exit 0 valid, 1 invalid (the `FILE:LINE: key "x": reason` message), 2 bad
 * usage. Passwords are never printed. `config-doc` (for maintainers) prints the generated
 * docs/configuration.md.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "binlog_conn.h"
#include "binlog_event.h"
#include "binlog_file.h"
#include "change_json.h"
#include "config.h"
#include "decode_pool.h"
#include "decoder.h"
#include "format.h"
#include "help.h"
#include "../sinks/kafka.h"
#include "cmd_position.h"
#include "cmd_check.h"
#include "cmd_cluster.h"
#include "cmd_consume.h"
#include "admin.h"
#include "daemon.h"
#include "server.h"
#include "strbuf.h"
#include "stream_pos.h"
#include "xmalloc.h"

#include "version.h"

/* The help text of every command is in help.c (also the man page); usage() is its overview. */
static void usage(FILE *out)
{
    help_usage(out);
}

struct decode_out {
    struct strbuf line;
    enum config_format format;
    uint64_t start, stop; /* emit only events at offsets in [start, stop) */
};

/* Renders c as one output line (with its '\n') at the end of line. Thread-safe. */
static int
render_line(const struct change *c, enum config_format format, struct strbuf *line, struct err *err)
{
    if (format == CONFIG_FORMAT_JSON) {
        change_json_render(c, line);
    } else {
        /* canal and debezium carry row changes and DDL, as the sinks send them. */
        if (c->kind != CHANGE_INSERT && c->kind != CHANGE_UPDATE && c->kind != CHANGE_DELETE &&
            c->kind != CHANGE_DDL)
            return 0;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct format_ctx ctx = {.instance = "decode",
                                 .batch_id = 1,
                                 .now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000};
        int rc = format_render(format, &ctx, c, line, err);
        if (rc)
            return rc;
    }
    strbuf_appendc(line, '\n');
    return 0;
}

/* sluice dump: each change printed as it comes. */
static int emit_line(const struct change *c, void *opaque)
{
    struct decode_out *o = opaque;
    strbuf_reset(&o->line);
    struct err err = {0};
    int rc = render_line(c, o->format, &o->line, &err);
    if (rc) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return rc;
    }
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

/* Writes "NAME":count pairs of the non-zero counts, one per event type code. */
static void print_type_counts(const uint64_t counts[256])
{
    int first = 1;
    for (unsigned t = 0; t < 256; t++) {
        if (!counts[t])
            continue;
        char tmp[16];
        fprintf(stderr, "%s\"%s\":%llu", first ? "" : ",",
                binlog_event_type_label(t, tmp, sizeof(tmp)), (unsigned long long)counts[t]);
        first = 0;
    }
}

static void print_stats(const struct decoder_stats *st)
{
    fprintf(stderr,
            "{\"events\":%llu,\"rows\":%llu,\"table_maps_with_optional_metadata\":%llu,"
            "\"types\":{",
            (unsigned long long)st->events, (unsigned long long)st->rows,
            (unsigned long long)st->tmaps_with_optional_meta);
    print_type_counts(st->by_type);
    fputs("},\"inner_types\":{", stderr);
    print_type_counts(st->inner_by_type);
    fputs("}}\n", stderr);
}

/* One file of `sluice decode`: the tag of its events in the decode pool. */
struct decode_file {
    const char *path;
    bool first, last; /* --start-position applies to the first, --stop-position to the last */
};

static int
render_decoded(const struct change *c, void *tag, struct strbuf *out, void *opaque, struct err *err)
{
    const struct decode_out *o = opaque;
    const struct decode_file *df = tag;
    if (df->first && c->pos < o->start)
        return 0;
    if (df->last && c->pos >= o->stop)
        return DECODE_POOL_STOP;
    return render_line(c, o->format, out, err);
}

static int write_decoded(const char *buf, size_t len, void *opaque, struct err *err)
{
    (void)opaque;
    if (fwrite(buf, 1, len, stdout) != len)
        return err_set(err, ERR_IO, "could not write the output: %s", strerror(errno));
    return 0;
}

/* The default of --threads: the CPUs online, at most 8. */
static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

/* sluice decode maps plain binlog files (binlog_file_open_mapped) and releases what it read
 * every RELEASE_BYTES. A file cut shorter while mapped faults on access (SIGBUS): the handler
 * names it and exits, instead of a crash. */
#define RELEASE_BYTES (1u << 20)
static const char *volatile decoding_path;

static void on_sigbus(int sig)
{
    (void)sig;
    static const char a[] = "sluice decode: \"", b[] = "\" became shorter while it was being "
                                                       "read (truncated by its server?); decode "
                                                       "it again once it is stable\n";
    const char *path = decoding_path ? decoding_path : "?";
    ssize_t w = write(2, a, sizeof(a) - 1);
    w = write(2, path, strlen(path));
    w = write(2, b, sizeof(b) - 1);
    (void)w;
    _exit(1);
}

static int cmd_decode(int argc, char **argv)
{
    struct decode_out out = {.start = 0, .stop = UINT64_MAX};
    bool stats = false;
    struct decode_pool_opts po = {.threads = default_threads(),
                                  .verify_checksum = true,
                                  .render = render_decoded,
                                  .write = write_decoded,
                                  .warn = warn_line,
                                  .opaque = &out};
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
            strcmp(a, "--stop-position") == 0 || strcmp(a, "--format") == 0 ||
            strcmp(a, "--threads") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice decode: option %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (strcmp(a, "--format") == 0) {
                if (strcmp(v, "json") == 0) {
                    out.format = CONFIG_FORMAT_JSON;
                } else if (strcmp(v, "canal") == 0) {
                    out.format = CONFIG_FORMAT_CANAL;
                } else if (strcmp(v, "debezium") == 0) {
                    out.format = CONFIG_FORMAT_DEBEZIUM;
                } else {
                    fprintf(stderr,
                            "sluice decode: --format \"%s\": expected json, canal or debezium\n",
                            v);
                    return 2;
                }
            } else if (strcmp(a, "--events") == 0) {
                if (strcmp(v, "rows") == 0) {
                    po.all_events = false;
                } else if (strcmp(v, "all") == 0) {
                    po.all_events = true;
                } else {
                    fprintf(stderr, "sluice decode: --events \"%s\": expected rows or all\n", v);
                    return 2;
                }
            } else if (strcmp(a, "--threads") == 0) {
                uint64_t t;
                if (parse_u64(v, &t) || t < 1 || t > 64) {
                    fprintf(stderr, "sluice decode: --threads \"%s\": expected 1 to 64\n", v);
                    return 2;
                }
                po.threads = (unsigned)t;
            } else if (parse_u64(v, strcmp(a, "--stop-position") == 0 ? &out.stop : &out.start)) {
                fprintf(stderr, "sluice decode: %s \"%s\": expected a byte offset (a number)\n", a,
                        v);
                return 2;
            }
        } else if (strcmp(a, "--stats") == 0) {
            stats = true;
        } else if (strcmp(a, "--no-verify-checksum") == 0) {
            po.verify_checksum = false;
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
    struct decode_file *files = xcalloc((size_t)(argc - i), sizeof(*files));
    struct err err = {0};
    struct decode_pool *pool = decode_pool_new(&po, &err);
    if (pool == NULL) {
        fprintf(stderr, "sluice decode: %s\n", err.msg);
        free(files);
        return 1;
    }
    struct sigaction bus = {.sa_handler = on_sigbus};
    sigemptyset(&bus.sa_mask);
    sigaction(SIGBUS, &bus, NULL);
    int rc = 0, r = 0;
    int first = i;
    for (; i < argc && r == 0; i++) {
        struct decode_file *df = &files[i - first];
        df->path = argv[i];
        df->first = i == first;
        df->last = i == argc - 1;
        struct binlog_file *f = binlog_file_open_mapped(argv[i], &err);
        if (f == NULL) {
            /* Everything before it first: an error there wins (reported below). */
            struct err open_err = err;
            r = decode_pool_finish(pool, &err);
            if (r >= 0) {
                fprintf(stderr, "sluice decode: %s\n", open_err.msg);
                rc = 1;
            }
            break;
        }
        decode_pool_set_file(pool, binlog_file_name(f), df);
        /* A start position does not seek: the file is read from its first event so that the
         * format description, table maps and GTID before the start are known; render_decoded
         * drops what lies before it. */
        const uint8_t *ev;
        size_t len;
        uint64_t off;
        int n;
        /* A mapped file's events are handed over without a copy; the pages the pool is done
         * with leave the resident set every RELEASE_BYTES. */
        bool mapped = binlog_file_mapped(f);
        uint64_t next_release = RELEASE_BYTES;
        decoding_path = argv[i];
        while ((n = binlog_file_next(f, &ev, &len, &off, &err)) == 1) {
            if (df->last && off >= out.stop)
                break;
            r = mapped ? decode_pool_feed_borrowed(pool, ev, len, off, &err)
                       : decode_pool_feed(pool, ev, len, off, &err);
            if (r)
                break;
            if (mapped && off >= next_release) {
                binlog_file_release(f, decode_pool_low_water(pool, off + len));
                next_release = off + RELEASE_BYTES;
            }
        }
        if (mapped) {
            /* Nothing may read the mapping once closed: all of it written, or the workers
             * stopped. */
            struct err ferr = {0};
            if (r == 0 && (r = decode_pool_finish(pool, &ferr)) < 0)
                err = ferr;
            if (r != 0)
                decode_pool_quiesce(pool);
        }
        binlog_file_close(f);
        decoding_path = NULL;
        if (n < 0 && r == 0) {
            /* Everything before the unreadable event first: an error there wins (reported
             * below). */
            struct err read_err = err;
            r = decode_pool_finish(pool, &err);
            if (r >= 0) {
                fprintf(stderr, "sluice decode: %s\n", read_err.msg);
                rc = 1;
            }
            break;
        }
    }
    if (rc == 0 && r == 0)
        r = decode_pool_finish(pool, &err);
    if (rc == 0 && r < 0) {
        rc = 1;
        const struct decode_file *df = decode_pool_failed_tag(pool);
        if (r == ERR_IO)
            fprintf(stderr, "sluice decode: %s\n", err.msg);
        else
            fprintf(stderr, "sluice decode: \"%s\": %s\n", df ? df->path : "?", err.msg);
    }
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "sluice decode: could not write the output: %s\n", strerror(errno));
        rc = 1;
    }
    if (stats) {
        struct decoder_stats *st = xmalloc(sizeof(*st));
        decode_pool_stats(pool, st);
        print_stats(st);
        free(st);
    }
    decode_pool_free(pool);
    free(files);
    return rc;
}

/* ---- sluice dump ------------------------------------------------------------------------- */

static volatile sig_atomic_t dump_stop;
static volatile sig_atomic_t dump_fd = -1;

static void on_stop_signal(int sig)
{
    (void)sig;
    dump_stop = 1;
    /* Wakes a fetch blocked in read(); shutdown(2) is async-signal-safe. */
    if (dump_fd >= 0)
        shutdown(dump_fd, SHUT_RDWR);
}

static void dump_warn(const char *msg, void *opaque)
{
    (void)opaque;
    fflush(stdout);
    fprintf(stderr, "sluice dump: warning: %s\n", msg);
}

/* D-S-N[,D-S-N...]: digits and dashes, three numbers per GTID. */
static bool valid_gtid_list(const char *s)
{
    if (*s == '\0')
        return false;
    for (;;) {
        for (int k = 0; k < 3; k++) {
            if (*s < '0' || *s > '9')
                return false;
            while (*s >= '0' && *s <= '9')
                s++;
            if (k < 2 && *s++ != '-')
                return false;
        }
        if (*s == '\0')
            return true;
        if (*s++ != ',')
            return false;
    }
}

/* Is a byte waiting on the socket? (When not, the stream has caught up: flush the output.) */
static bool socket_readable(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* "sluice dump: HOST:PORT at FILE:POS: MSG" (before the first ROTATE of a GTID start, the
 * file is not known yet: "after GTID ..."). */
static void
dump_error(const char *where, const char *file, uint64_t pos, const char *gtid, const char *msg)
{
    if (*file == '\0' && gtid != NULL)
        fprintf(stderr, "sluice dump: %s after GTID %s: %s\n", where, gtid, msg);
    else
        fprintf(stderr, "sluice dump: %s at %s:%llu: %s\n", where, file, (unsigned long long)pos,
                msg);
}

static int cmd_dump(int argc, char **argv)
{
    struct binlog_conn_opts co;
    binlog_conn_opts_init(&co);
    co.heartbeat_ms = 30000;
    struct decoder_opts opts;
    decoder_opts_init(&opts);
    opts.follow_rotate = true;
    const char *pw_env = NULL, *pw_file = NULL, *start = NULL;
    bool stats = false;
    char *start_file = NULL;
    uint64_t v;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--non-blocking") == 0) {
            co.non_blocking = true;
            continue;
        }
        if (strcmp(a, "--stats") == 0) {
            stats = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(start_file);
            return 0;
        }
        static const char *const with_value[] = {
            "--host",      "--port",  "--user", "--password-env", "--password-file",
            "--server-id", "--start", "--gtid", "--heartbeat-ms", "--events",
        };
        bool known = false;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
            known = known || strcmp(a, with_value[k]) == 0;
        if (!known) {
            fprintf(stderr, "sluice dump: unknown %s \"%s\" (see sluice help)\n",
                    a[0] == '-' ? "option" : "argument", a);
            free(start_file);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sluice dump: option %s needs a value\n", a);
            free(start_file);
            return 2;
        }
        const char *val = argv[++i];
        const char *bad = NULL;
        if (strcmp(a, "--host") == 0) {
            co.host = val;
        } else if (strcmp(a, "--user") == 0) {
            co.user = val;
        } else if (strcmp(a, "--password-env") == 0) {
            pw_env = val;
        } else if (strcmp(a, "--password-file") == 0) {
            pw_file = val;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_u64(val, &v) || v == 0 || v > 65535)
                bad = "expected a TCP port (1-65535)";
            else
                co.port = (unsigned)v;
        } else if (strcmp(a, "--server-id") == 0) {
            if (parse_u64(val, &v) || v == 0 || v > UINT32_MAX)
                bad = "expected a server id (1-4294967295)";
            else
                co.server_id = (uint32_t)v;
        } else if (strcmp(a, "--heartbeat-ms") == 0) {
            if (parse_u64(val, &v) || v > 3600000)
                bad = "expected milliseconds (0-3600000, 0 = no heartbeats)";
            else
                co.heartbeat_ms = (unsigned)v;
        } else if (strcmp(a, "--start") == 0) {
            const char *colon = strrchr(val, ':');
            if (colon == NULL || colon == val || parse_u64(colon + 1, &v) || v < 4) {
                bad = "expected FILE:POS (a binlog file name and an event offset >= 4)";
            } else {
                free(start_file);
                start_file = xstrndup(val, (size_t)(colon - val));
                co.start_pos = v;
                start = val;
            }
        } else if (strcmp(a, "--gtid") == 0) {
            if (!valid_gtid_list(val))
                bad = "expected a MariaDB GTID list (D-S-N[,D-S-N...])";
            else
                co.gtid = val;
        } else if (strcmp(a, "--events") == 0) {
            if (strcmp(val, "rows") == 0)
                opts.all_events = false;
            else if (strcmp(val, "all") == 0)
                opts.all_events = true;
            else
                bad = "expected rows or all";
        }
        if (bad) {
            fprintf(stderr, "sluice dump: %s \"%s\": %s\n", a, val, bad);
            free(start_file);
            return 2;
        }
    }
    const char *missing = co.host == NULL ? "--host" : co.user == NULL ? "--user" : NULL;
    if (missing || (start && co.gtid) || (pw_env && pw_file)) {
        if (missing)
            fprintf(stderr, "sluice dump: %s is required\n", missing);
        else if (start)
            fprintf(stderr, "sluice dump: give --start or --gtid, not both\n");
        else
            fprintf(stderr, "sluice dump: give --password-env or --password-file, not both\n");
        usage(stderr);
        free(start_file);
        return 2;
    }
    co.start_file = start_file;

    char *password = NULL;
    if (pw_file) {
        password = config_read_secret_file(pw_file);
        if (password == NULL) {
            fprintf(stderr, "sluice dump: could not read the password file \"%s\": %s\n", pw_file,
                    strerror(errno));
            free(start_file);
            return 1;
        }
    } else {
        const char *e = getenv(pw_env ? pw_env : "SLUICE_PASSWORD");
        if (e == NULL && pw_env) {
            fprintf(stderr, "sluice dump: --password-env: environment variable %s is not set\n",
                    pw_env);
            free(start_file);
            return 2;
        }
        if (e)
            password = xstrdup(e);
    }
    co.password = password;
    co.warn = dump_warn;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: a blocked read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char where[300];
    snprintf(where, sizeof(where), "%s:%u", co.host, co.port ? co.port : 3306);
    struct err err = {0};
    int rc = 0;
    struct binlog_conn *conn = binlog_conn_open(&co, &err);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    free(start_file);
    co.start_file = NULL;
    if (conn == NULL) {
        if (dump_stop)
            return 0;
        fprintf(stderr, "sluice dump: %s: %s\n", where, err.msg);
        return 1;
    }
    dump_fd = binlog_conn_fd(conn);
    if (dump_stop) /* the signal came before dump_fd was set */
        shutdown(binlog_conn_fd(conn), SHUT_RDWR);

    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    struct decode_out out = {.start = 0, .stop = UINT64_MAX};
    opts.checksum_before_fde = binlog_conn_has_checksum(conn);
    opts.emit = emit_line;
    opts.warn = dump_warn;
    opts.opaque = &out;
    struct decoder *d = decoder_new(&opts);
    /* Where each event sits in the server's files (stream_pos.h explains the log_pos cases). */
    struct stream_pos sp;
    stream_pos_init(&sp, binlog_conn_start_file(conn), binlog_conn_start_pos(conn),
                    opts.checksum_before_fde);
    decoder_set_file(d, sp.file);
    const uint8_t *ev;
    size_t len;
    int r;
    while (!dump_stop && (r = binlog_conn_next(conn, &ev, &len, &err)) == 1) {
        unsigned type = ev[4];
        uint64_t off = stream_pos_offset(&sp, ev, len);
        r = decoder_feed(d, ev, len, off, &err);
        if (r) {
            if (r == ERR_IO)
                fprintf(stderr, "sluice dump: could not write the output: %s\n", strerror(errno));
            else
                dump_error(where, sp.file, off, co.gtid, err.msg);
            rc = 1;
            break;
        }
        stream_pos_advance(&sp, ev, len, decoder_has_checksum(d));
        /* Caught up (nothing waiting on the socket) after a transaction or statement: make
         * what was printed visible to a reader of a live stream. */
        if (!co.non_blocking &&
            (type == BINLOG_EV_XID || type == BINLOG_EV_QUERY || type == BINLOG_EV_ROTATE ||
             type == BINLOG_EV_XA_PREPARE) &&
            !socket_readable(dump_fd))
            fflush(stdout);
    }
    if (rc == 0 && r < 0 && !dump_stop) {
        dump_error(where, sp.file, sp.pos, co.gtid, err.msg);
        rc = 1;
    }
    dump_fd = -1;
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "sluice dump: could not write the output: %s\n", strerror(errno));
        rc = 1;
    }
    if (stats)
        print_stats(decoder_get_stats(d));
    decoder_free(d);
    binlog_conn_close(conn);
    strbuf_free(&out.line);
    stream_pos_free(&sp);
    return rc;
}

/* ---- sluice check-config / config-doc ----------------------------------------------------- */

static int cmd_check_config(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: sluice check-config FILE\n");
        return 2;
    }
    struct err err = {0};
    struct config *cfg = config_load(argv[0], &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice check-config: %s\n", err.msg);
        return 1;
    }
    /* librdkafka's verdict on each Kafka sink's properties, before anything starts. */
    for (size_t i = 0; i < cfg->n_instances; i++)
        for (size_t k = 0; k < cfg->instances[i].n_sinks; k++)
            if (cfg->instances[i].sinks[k].type == CONFIG_SINK_KAFKA &&
                sink_kafka_check(&cfg->instances[i].sinks[k], cfg->instances[i].name, &err)) {
                fprintf(stderr, "sluice check-config: %s: %s\n", argv[0], err.msg);
                config_free(cfg);
                return 1;
            }
    /* The client server's TLS certificate and key, loaded as `sluice run` will. */
    if (server_tls_check(cfg, &err)) {
        fprintf(stderr, "sluice check-config: %s: %s\n", argv[0], err.msg);
        config_free(cfg);
        return 1;
    }
    printf("%s: ok, %zu instance(s)\n", argv[0], cfg->n_instances);
    for (size_t i = 0; i < cfg->n_instances; i++) {
        const struct config_instance *in = &cfg->instances[i];
        printf("  %s: source %s:%u, start %s, positions %s, sinks", in->name, in->source.host,
               (unsigned)in->source.port, in->start.text, config_store_name(in->positions.store));
        for (size_t k = 0; k < in->n_sinks; k++) {
            const struct config_sink *s = &in->sinks[k];
            printf("%s %s", k ? "," : "", config_sink_type_name(s->type));
            if (s->path)
                printf(" %s", s->path);
            if (s->topic)
                printf(" %s", s->topic);
            printf(" (%s)", config_format_name(s->format));
        }
        putchar('\n');
    }
    config_free(cfg);
    return 0;
}

/* ---- sluice run / status ------------------------------------------------------------------ */

/* Reads `--name VALUE` pairs; unknown options are usage errors. Returns 0 or 2. */
static int take_opts(const char *cmd,
                     int argc,
                     char **argv,
                     const char *const *names,
                     const char **vals,
                     const char *const *flags,
                     int *flagv)
{
    for (int i = 0; i < argc; i++) {
        bool done = false;
        for (int k = 0; flags && flags[k]; k++)
            if (strcmp(argv[i], flags[k]) == 0) {
                flagv[k] = 1;
                done = true;
            }
        for (int k = 0; !done && names[k]; k++) {
            if (strcmp(argv[i], names[k]) != 0)
                continue;
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice %s: option %s needs a value\n", cmd, argv[i]);
                return 2;
            }
            vals[k] = argv[++i];
            done = true;
        }
        if (!done) {
            fprintf(stderr, "sluice %s: unknown %s \"%s\" (see sluice help)\n", cmd,
                    argv[i][0] == '-' ? "option" : "argument", argv[i]);
            return 2;
        }
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static const char *const names[] = {"--config", "--admin", "--zookeeper", "--cluster",
                                        "--root",   "--node",  "--data-dir",  NULL};
    const char *vals[7] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    int rc = take_opts("run", argc, argv, names, vals, NULL, NULL);
    if (rc)
        return rc;
    if ((vals[0] == NULL) == (vals[2] == NULL) || (vals[2] == NULL) != (vals[3] == NULL) ||
        (vals[4] && vals[2] == NULL)) {
        fprintf(stderr, "sluice run: give --config FILE, or --zookeeper SERVERS --cluster NAME "
                        "[--root PATH] (a configuration stored by `sluice cluster push`)\n");
        return 2;
    }
    struct err err = {0};
    struct config *cfg =
        vals[0] ? config_load(vals[0], &err) : cluster_config_load(vals[2], vals[4], vals[3], &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        return 1;
    }
    /* Overrides, so that daemons can share one file (or the pushed configuration). */
    if (vals[5] && (vals[5][0] == '\0' ||
                    strspn(vals[5], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._-") != strlen(vals[5]))) {
        fprintf(stderr, "sluice run: --node \"%s\": only letters, digits, '.', '_' and '-'\n",
                vals[5]);
        config_free(cfg);
        return 2;
    }
    if (vals[5]) {
        free(cfg->node.name);
        cfg->node.name = xstrdup(vals[5]);
    }
    if (vals[6]) {
        free(cfg->data_dir);
        cfg->data_dir = xstrdup(vals[6]);
    }
    return daemon_run_config(cfg, vals[1]);
}

static int cmd_status(int argc, char **argv)
{
    static const char *const names[] = {"--admin", "--config", NULL};
    static const char *const flags[] = {"--json", "--metrics", "--health", NULL};
    const char *vals[2] = {NULL, NULL};
    int flagv[3] = {0, 0, 0};
    int rc = take_opts("status", argc, argv, names, vals, flags, flagv);
    if (rc)
        return rc;
    if (vals[0] && vals[1]) {
        fprintf(stderr, "sluice status: give --admin or --config, not both\n");
        return 2;
    }
    if (flagv[0] + flagv[1] + flagv[2] > 1) {
        fprintf(stderr, "sluice status: give one of --json, --metrics, --health\n");
        return 2;
    }
    char *addr = xstrdup(vals[0] ? vals[0] : "127.0.0.1:11112");
    if (vals[1]) {
        struct err err = {0};
        struct config *cfg = config_load(vals[1], &err);
        if (cfg == NULL) {
            fprintf(stderr, "sluice status: %s\n", err.msg);
            free(addr);
            return 1;
        }
        free(addr);
        addr = xstrdup(cfg->admin.listen);
        config_free(cfg);
    }
    if (flagv[1] || flagv[2]) {
        /* /metrics as is; /health's JSON, exit 0 healthy, 1 not (or no answer). */
        struct strbuf body = {0};
        struct err err = {0};
        int code = 0;
        rc = admin_get(addr, flagv[1] ? "/metrics" : "/health", &code, &body, &err);
        if (rc)
            fprintf(stderr, "sluice status: %s\n", err.msg);
        else if (body.len)
            fwrite(body.buf, 1, body.len, stdout);
        rc = rc == 0 && code == 200 ? 0 : 1;
        strbuf_free(&body);
    } else {
        rc = daemon_status(addr, flagv[0]);
    }
    free(addr);
    return rc;
}

static int cmd_config_doc(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: sluice config-doc\n");
        return 2;
    }
    struct strbuf sb = {0};
    config_doc(&sb);
    int rc = fwrite(sb.buf, 1, sb.len, stdout) == sb.len && fflush(stdout) == 0 ? 0 : 1;
    strbuf_free(&sb);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* `sluice CMD --help` for every command in help.c's table. */
    if (help_wanted(argc - 2, argv + 2) && help_command(stdout, cmd) == 0)
        return 0;
    if (strcmp(cmd, "decode") == 0)
        return cmd_decode(argc - 2, argv + 2);
    if (strcmp(cmd, "dump") == 0)
        return cmd_dump(argc - 2, argv + 2);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 2, argv + 2);
    if (strcmp(cmd, "consume") == 0)
        return cmd_consume(argc - 2, argv + 2);
    if (strcmp(cmd, "position") == 0)
        return cmd_position(argc - 1, argv + 1);
    if (strcmp(cmd, "cluster") == 0)
        return cmd_cluster(argc - 1, argv + 1);
    if (strcmp(cmd, "config-doc") == 0)
        return cmd_config_doc(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return help_main(argc - 2, argv + 2);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sluice: unknown command \"%s\" (see sluice help)\n", cmd);
    return 2;
}
