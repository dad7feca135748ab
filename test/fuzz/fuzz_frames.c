/*
 * fuzz_frames.c — libFuzzer target for the client protocol server's request handling: the
 * frame cutter (src/protocol.c) and every request decoder of src/server.c, which is included
 * here so that its static functions run as the server thread runs them, on a connection whose
 * input buffer holds the fuzz input.
 *
 * Input layout:
 *   byte 0      bit 0: start logged in (the HMAC of a random challenge cannot be guessed, so
 *               the requests after the handshake are reached this way); bit 1: cut the input
 *               into two reads at byte 1 (a frame split across reads)
 *   bytes 1..   what the client sends
 *
 * Set-up (once): a hub for instance "demo" under a temp directory (/dev/shm when there), its
 * sink opened and fed three DDL changes in one batch, so SUBSCRIBE "demo", GET, ACK and ROLLBACK
 * reach real hub state. Each input gets a fresh connection (fd -1: nothing is sent), its frames
 * are served until the buffer is used or the connection closes, then it is freed (which
 * unsubscribes). Anything the server writes must be whole frames: checked, abort otherwise.
 *
 * Build and run: test/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/server.c"

static struct server fz_server;
static struct sink *fz_sink;

static void fz_ack(uint64_t batch_id, size_t bytes, void *opaque)
{
    (void)batch_id;
    (void)bytes;
    (void)opaque;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_level = CONFIG_LOG_ERROR;
    char tmpl[] = "/dev/shm/sluice-fuzz.XXXXXX";
    char tmpl2[] = "/tmp/sluice-fuzz.XXXXXX";
    const char *dir = mkdtemp(tmpl);
    if (dir == NULL)
        dir = mkdtemp(tmpl2);
    struct err err = {0};
    static struct config_instance ic = {.name = "demo"}; /* positions in files */
    ic.positions.store = CONFIG_STORE_FILE;
    if (dir == NULL || hub_create(&ic, dir, &err) != 0) {
        fprintf(stderr, "fuzz_frames: set-up failed: %s\n", err.msg);
        abort();
    }
    static const struct config_sink cs = {.format = CONFIG_FORMAT_JSON};
    struct sink_conf sc = {"demo", &cs, fz_ack, NULL, 1 << 20, NULL};
    fz_sink = sink_find("hub")->open(&sc, &err);
    if (fz_sink == NULL)
        abort();
    static const char *const sqls[] = {"CREATE TABLE a (x INT)", "DROP TABLE b", "ALTER TABLE c"};
    for (int i = 0; i < 3; i++) {
        struct change c = {0};
        c.kind = CHANGE_DDL;
        c.db = i == 1 ? "other" : "app";
        c.file = "binlog.000001";
        c.pos = 4 + (uint64_t)i * 100;
        c.next_pos = c.pos + 100;
        c.sql = sqls[i];
        c.sql_len = (uint32_t)strlen(sqls[i]);
        if (sink_append(fz_sink, &c, &err) != 0)
            abort();
    }
    if (sink_write_batch(fz_sink, 1, &err) != 0)
        abort();
    fz_server.fd = fz_server.wake[0] = fz_server.wake[1] = -1;
    fz_server.idle_ms = 60000;
    return 0;
}

/* Everything the server queued must be a sequence of whole frames within the limit. */
static void check_output(const struct proto_buf *out)
{
    size_t off = 0;
    while (off < out->len) {
        uint8_t type;
        const uint8_t *payload;
        size_t plen, used;
        if (proto_frame_parse(out->data + off, out->len - off, PROTO_MAX_SERVER_FRAME, &type,
                              &payload, &plen, &used) != 1)
            abort();
        off += used;
    }
}

static void feed(struct conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (c->incap - c->inlen < n) {
        c->incap = c->inlen + n;
        c->in = xrealloc(c->in, c->incap);
    }
    memcpy(c->in + c->inlen, p, n);
    c->inlen += n;
    /* As the loop does: serve, let a waiting GET expire, serve again. */
    for (int round = 0; round < 64 && c->inlen && !c->closing; round++) {
        size_t before = c->inlen;
        process_input(&fz_server, c);
        if (c->get_pending) {
            try_get(&fz_server, c, UINT64_MAX);
            c->get_pending = false;
        }
        if (c->inlen == before && !c->get_pending)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct conn *c = xcalloc(1, sizeof(*c));
    c->fd = -1;
    snprintf(c->peer, sizeof(c->peer), "fuzz");
    send_hello(c);
    if (data[0] & 1) {
        c->state = CONN_AUTHED;
        snprintf(c->user, sizeof(c->user), "fuzz");
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if ((data[0] & 2) && n > 1) {
        feed(c, p, 1);
        feed(c, p + 1, n - 1);
    } else {
        feed(c, p, n);
    }
    check_output(&c->out);
    conn_free(&fz_server, c); /* unsubscribes; close(-1) is a harmless EBADF */
    return 0;
}
