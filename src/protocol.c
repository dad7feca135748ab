/*
 * protocol.c — the client protocol's frame codec (docs/protocol.md). Pure byte handling on
 * caller buffers: no sockets, no global state, no project headers besides protocol.h, so the
 * client library compiles it as is (-fPIC) and the fuzz target feeds it arbitrary bytes.
 *
 * Invariant: a reader never reads outside [p, p+len); once a read went short, `bad` stays set
 * and every later read returns zeros, so callers check once at the end (proto_reader_done).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

const char *proto_error_name(unsigned code)
{
    switch (code) {
#define PROTO_ERR_CASE(name, val, text)                                                            \
    case val:                                                                                      \
        return &#name[8]; /* without "PROTO_E_" */
        PROTO_ERRORS(PROTO_ERR_CASE)
#undef PROTO_ERR_CASE
    }
    return "UNKNOWN";
}

bool proto_error_closes(unsigned code)
{
    switch (code) {
    case PROTO_E_NOT_SUBSCRIBED:
    case PROTO_E_UNKNOWN_INSTANCE:
    case PROTO_E_BAD_FILTER:
    case PROTO_E_UNKNOWN_BATCH:
    case PROTO_E_CLIENT_ID_BUSY:
        return false;
    default:
        return true;
    }
}

const char *proto_type_name(unsigned type)
{
    static const struct {
        unsigned t;
        const char *name;
    } names[] = {
        {PROTO_SERVER_HELLO, "SERVER_HELLO"},
        {PROTO_CLIENT_HELLO, "CLIENT_HELLO"},
        {PROTO_AUTH_OK, "AUTH_OK"},
        {PROTO_SUBSCRIBE, "SUBSCRIBE"},
        {PROTO_SUBSCRIBED, "SUBSCRIBED"},
        {PROTO_GET, "GET"},
        {PROTO_BATCH, "BATCH"},
        {PROTO_ACK, "ACK"},
        {PROTO_ACKED, "ACKED"},
        {PROTO_ROLLBACK, "ROLLBACK"},
        {PROTO_ROLLED_BACK, "ROLLED_BACK"},
        {PROTO_HEARTBEAT, "HEARTBEAT"},
        {PROTO_HEARTBEAT_OK, "HEARTBEAT_OK"},
        {PROTO_CLOSE, "CLOSE"},
        {PROTO_CLOSED, "CLOSED"},
        {PROTO_ERROR, "ERROR"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == type)
            return names[i].name;
    return "?";
}

/* ---- writing ---- */

static void reserve(struct proto_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        fprintf(stderr, "sluice: out of memory (%zu bytes)\n", cap);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void proto_buf_free(struct proto_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void proto_put_u8(struct proto_buf *b, uint8_t v)
{
    reserve(b, 1);
    b->data[b->len++] = v;
}

void proto_put_u16(struct proto_buf *b, uint16_t v)
{
    reserve(b, 2);
    b->data[b->len++] = (uint8_t)(v >> 8);
    b->data[b->len++] = (uint8_t)v;
}

void proto_put_u32(struct proto_buf *b, uint32_t v)
{
    reserve(b, 4);
    for (int s = 24; s >= 0; s -= 8)
        b->data[b->len++] = (uint8_t)(v >> s);
}

void proto_put_u64(struct proto_buf *b, uint64_t v)
{
    reserve(b, 8);
    for (int s = 56; s >= 0; s -= 8)
        b->data[b->len++] = (uint8_t)(v >> s);
}

void proto_put_bytes(struct proto_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void proto_put_str(struct proto_buf *b, const char *s, size_t n)
{
    if (n > 65535)
        n = 65535;
    proto_put_u16(b, (uint16_t)n);
    proto_put_bytes(b, s, n);
}

void proto_put_blob(struct proto_buf *b, const void *p, uint32_t n)
{
    proto_put_u32(b, n);
    proto_put_bytes(b, p, n);
}

size_t proto_frame_begin(struct proto_buf *b, uint8_t t)
{
    size_t start = b->len;
    proto_put_u32(b, 0);
    proto_put_u8(b, t);
    return start;
}

void proto_frame_end(struct proto_buf *b, size_t start)
{
    uint32_t n = (uint32_t)(b->len - start - 4);
    for (int i = 0; i < 4; i++)
        b->data[start + (size_t)i] = (uint8_t)(n >> (24 - 8 * i));
}

void proto_put_error(struct proto_buf *b, unsigned code, const char *msg)
{
    size_t f = proto_frame_begin(b, PROTO_ERROR);
    proto_put_u16(b, (uint16_t)code);
    proto_put_str(b, msg, strlen(msg));
    proto_frame_end(b, f);
}

/* ---- reading ---- */

void proto_reader_init(struct proto_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

/* Takes n bytes, or marks the reader bad. */
static const uint8_t *take(struct proto_reader *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint8_t proto_get_u8(struct proto_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint16_t proto_get_u16(struct proto_reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t proto_get_u32(struct proto_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t proto_get_u64(struct proto_reader *r)
{
    const uint8_t *p = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

const uint8_t *proto_get_bytes(struct proto_reader *r, size_t n)
{
    return take(r, n);
}

void proto_get_str(struct proto_reader *r, char *out, size_t outsz)
{
    uint16_t n = proto_get_u16(r);
    const uint8_t *p = take(r, n);
    if (p == NULL || (size_t)n + 1 > outsz) {
        r->bad = true;
        if (outsz)
            out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

const uint8_t *proto_get_blob(struct proto_reader *r, uint32_t *n)
{
    *n = proto_get_u32(r);
    const uint8_t *p = take(r, *n);
    if (p == NULL)
        *n = 0;
    return p;
}

bool proto_reader_done(const struct proto_reader *r)
{
    return !r->bad && r->off == r->len;
}

int proto_frame_parse(const uint8_t *buf,
                      size_t len,
                      uint32_t max,
                      uint8_t *type,
                      const uint8_t **payload,
                      size_t *plen,
                      size_t *used)
{
    if (len < 4)
        return 0;
    uint32_t n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if (n == 0 || n > max)
        return -PROTO_E_FRAME_TOO_LARGE;
    if (len - 4 < n)
        return 0;
    *type = buf[4];
    *payload = buf + PROTO_HEADER_LEN;
    *plen = n - 1;
    *used = 4 + (size_t)n;
    return 1;
}
