/*
 * fuzz_decoder.c — libFuzzer target for the binlog decoder.
 *
 * Input layout:
 *   byte 0      flags: bit 0 = verify checksums; bit 1 = the emit callback fails (returns
 *               ERR_SINK) at change number (flags >> 2) + 1, to exercise the early-return paths
 *   bytes 1..   a binlog byte stream, optionally starting with the magic "\xfebin"
 *
 * The loop is the one a file reader runs: read the 19-byte v4 header, take event_len from
 * bytes 9..12, stop when it is shorter than a header or runs past the input, feed the event to
 * decoder_feed() and stop at the first error. Each event is copied into a heap buffer of
 * exactly event_len bytes, so ASan reports a read past the event's end even where the next
 * event's bytes would follow in a file. all_events is always on.
 *
 * The emit callback reads every byte a change points to (names, column texts, SQL) and checks
 * the contract of change.h that a sink relies on: row changes carry a table map, db and table,
 * and column indexes within the map. A violation aborts, which libFuzzer reports as a crash.
 *
 * FUZZ_TRACE=1 in the environment prints each event fed and the error that stopped the loop.
 *
 * Build and run: test/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_SEED_MAIN
#include "change.h"
#include "decoder.h"
#include "err.h"
#include "table_map.h"
#endif

#define HEADER_LEN 19

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#ifndef FUZZ_SEED_MAIN

struct fuzz_state {
    unsigned changes;
    unsigned fail_at; /* 0: never fail */
    uint64_t sink;    /* everything read is folded in here, so nothing is optimised away */
};

static void violation(const char *what)
{
    fprintf(stderr, "fuzz_decoder: change contract violated: %s\n", what);
    abort();
}

static uint64_t touch(const char *p, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * 31 + (unsigned char)p[i];
    return h;
}

static uint64_t touch_str(const char *s)
{
    return s ? touch(s, strlen(s)) : 0;
}

static uint64_t touch_image(const struct change *c, const struct change_image *im)
{
    uint64_t h = im->ncols;
    if (im->ncols == 0)
        return h;
    if (im->cols == NULL || c->text == NULL)
        violation("image with columns but no cols array or text");
    for (uint32_t i = 0; i < im->ncols; i++) {
        const struct change_col *col = &im->cols[i];
        if (c->tmap) {
            if (col->index >= c->tmap->ncols)
                violation("column index beyond the table map");
            const struct table_map_col *tc = &c->tmap->cols[col->index];
            h += tc->type + touch_str(tc->name);
            for (uint32_t k = 0; k < tc->enums.n; k++)
                h += touch(tc->enums.v[k], tc->enums.len[k]);
        }
        h += touch(c->text + col->off, col->len);
    }
    return h;
}

static int emit(const struct change *c, void *opaque)
{
    struct fuzz_state *st = opaque;
    uint64_t h = (uint64_t)c->kind + c->ts + c->server_id + c->pos + c->next_pos + c->row;

    h += touch_str(change_kind_name(c->kind));
    h += touch_str(c->db) + touch_str(c->table) + touch_str(c->file) + touch_str(c->gtid);
    if (c->sql)
        h += touch(c->sql, c->sql_len);
    switch (c->kind) {
    case CHANGE_INSERT:
    case CHANGE_UPDATE:
    case CHANGE_DELETE:
        if (c->tmap == NULL)
            violation("row change without a table map");
        if (c->db == NULL || c->table == NULL)
            violation("row change without db or table");
        h += touch_str(c->tmap->db) + touch_str(c->tmap->table);
        break;
    default:
        break;
    }
    h += touch_image(c, &c->before);
    h += touch_image(c, &c->after);
    h += touch_image(c, &c->partial);
    st->sink += h;

    st->changes++;
    if (st->fail_at && st->changes == st->fail_at)
        return ERR_SINK;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static volatile uint64_t keep;
    static int trace = -1;
    struct fuzz_state st = {0};
    struct decoder_opts opts;
    struct err err;
    struct decoder *d;
    size_t off;
    uint8_t flags;

    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL;
    if (size < 1)
        return 0;
    flags = data[0];
    data++;
    size--;

    decoder_opts_init(&opts);
    opts.all_events = true;
    opts.verify_checksum = flags & 1;
    opts.emit = emit;
    opts.opaque = &st;
    st.fail_at = (flags & 2) ? (unsigned)(flags >> 2) + 1 : 0;

    memset(&err, 0, sizeof(err));
    d = decoder_new(&opts);
    if (d == NULL)
        return 0;
    decoder_set_file(d, "fuzz-bin.000001");

    off = 0;
    if (size >= 4 && memcmp(data, "\xfe\x62\x69\x6e", 4) == 0)
        off = 4;
    while (size - off >= HEADER_LEN) {
        uint32_t len = rd32(data + off + 9);
        if (len < HEADER_LEN || len > size - off)
            break; /* a file reader reports a bad length / truncated event here */
        uint8_t *ev = malloc(len);
        if (ev == NULL)
            break;
        memcpy(ev, data + off, len);
        if (trace)
            fprintf(stderr, "fuzz_decoder: feed type %u, %u bytes at %zu\n", ev[4], len, off);
        int rc = decoder_feed(d, ev, len, off, &err);
        if (trace && rc != 0)
            fprintf(stderr, "fuzz_decoder: rc %d: %s\n", rc, err.msg);
        free(ev);
        if (rc != 0) {
            if (rc > 0)
                violation("decoder_feed returned a positive value");
            if (rc != ERR_SINK && err.msg[0] == '\0')
                violation("decoder_feed failed without a message");
            break;
        }
        off += len;
    }

    const struct decoder_stats *s = decoder_get_stats(d);
    keep = st.sink + (s ? s->events + s->rows : 0) + decoder_has_checksum(d);
    (void)keep;
    decoder_free(d);
    return 0;
}

#else /* FUZZ_SEED_MAIN */
/*
 * Seed cutter, built by run.sh as a plain program (no libFuzzer):
 *   fuzz_seeds OUTDIR FILE...
 * For each binlog FILE it writes, each prefixed by the flags byte:
 *   NAME.v, NAME.n    the first 64 KiB - 1 of the file, checksums verified / not verified
 *   NAME.wK           magic + the FORMAT_DESCRIPTION + one transaction's events (at most
 *                     16 KiB, at most 64 windows per file, spread over the file)
 */
#include <errno.h>

#define SEED_MAX   65535
#define WINDOW_MAX 16384
#define WINDOWS    64

static int write_seed(const char *dir,
                      const char *name,
                      const char *suffix,
                      uint8_t flags,
                      const uint8_t *a,
                      size_t alen,
                      const uint8_t *b,
                      size_t blen,
                      const uint8_t *c,
                      size_t clen)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, suffix);
    f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_seeds: could not open \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(&flags, 1, 1, f) == 1 && fwrite(a, 1, alen, f) == alen &&
         fwrite(b, 1, blen, f) == blen && fwrite(c, 1, clen, f) == clen;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "fuzz_seeds: could not write \"%s\"\n", path);
        return -1;
    }
    return 0;
}

static int starts_transaction(uint8_t type)
{
    /* QUERY (BEGIN or DDL), GTID, ANONYMOUS_GTID, GTID_TAGGED, MariaDB GTID */
    return type == 2 || type == 33 || type == 34 || type == 42 || type == 162;
}

static int cut_file(const char *dir, const char *path)
{
    static const uint8_t magic[4] = {0xfe, 0x62, 0x69, 0x6e};
    size_t starts[WINDOWS * 64];
    size_t nstarts = 0, size = 0, cap = 1 << 16, off, fde_off = 0, fde_len = 0, end = 0;
    uint8_t *buf = malloc(cap);
    char name[512];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = -1;

    if (f == NULL || buf == NULL) {
        fprintf(stderr, "fuzz_seeds: could not open \"%s\": %s\n", path, strerror(errno));
        goto out;
    }
    while ((n = fread(buf + size, 1, cap - size, f)) > 0) {
        size += n;
        if (size == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                goto out;
            buf = nb;
            cap *= 2;
        }
    }
    /* NAME: the path's last two components, '/' and '.' kept apart */
    {
        const char *p = path + strlen(path), *q;
        int slashes = 0;
        while (p > path && slashes < 2) {
            p--;
            if (*p == '/')
                slashes++;
        }
        if (*p == '/')
            p++;
        n = 0;
        for (q = p; *q && n < sizeof(name) - 1; q++)
            name[n++] = *q == '/' ? '_' : *q;
        name[n] = '\0';
    }
    if (write_seed(dir, name, "v", 1, buf, size < SEED_MAX ? size : SEED_MAX, NULL, 0, NULL, 0) <
            0 ||
        write_seed(dir, name, "n", 0, buf, size < SEED_MAX ? size : SEED_MAX, NULL, 0, NULL, 0) < 0)
        goto out;

    /* Event boundaries; windows start at transaction starts. */
    off = size >= 4 && memcmp(buf, magic, 4) == 0 ? 4 : 0;
    while (size - off >= HEADER_LEN) {
        uint32_t len = rd32(buf + off + 9);
        if (len < HEADER_LEN || len > size - off)
            break;
        if (buf[off + 4] == 15 && fde_len == 0) {
            fde_off = off;
            fde_len = len;
        } else if (starts_transaction(buf[off + 4]) && nstarts < sizeof(starts) / sizeof(*starts)) {
            starts[nstarts++] = off;
        }
        off += len;
    }
    end = off;
    if (fde_len > 0 && nstarts > 0) {
        size_t step = (nstarts + WINDOWS - 1) / WINDOWS;
        for (size_t i = 0, k = 0; i < nstarts; i += step, k++) {
            size_t lo = starts[i], hi = i + 1 < nstarts ? starts[i + 1] : end;
            char suffix[16];
            if (hi - lo > WINDOW_MAX) {
                /* whole events only, up to the limit */
                size_t e = lo;
                while (e < hi && rd32(buf + e + 9) <= WINDOW_MAX - (e - lo))
                    e += rd32(buf + e + 9);
                hi = e > lo ? e : lo + rd32(buf + lo + 9);
            }
            snprintf(suffix, sizeof(suffix), "w%zu", k);
            if (write_seed(dir, name, suffix, (uint8_t)(k & 1 ? 0 : 1), magic, 4, buf + fde_off,
                           fde_len, buf + lo,
                           hi - lo < SEED_MAX - fde_len - 4 ? hi - lo : SEED_MAX - fde_len - 4) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 3) {
        fprintf(stderr, "usage: fuzz_seeds OUTDIR FILE...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        if (cut_file(argv[1], argv[i]) < 0)
            rc = 1;
    return rc;
}
#endif
