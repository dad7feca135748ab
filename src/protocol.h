/*
 * protocol.h — the client protocol's frame codec (docs/protocol.md): message types, error
 * codes, limits, a frame reader that cuts frames out of a byte stream, and bounds-checked
 * writers and readers of the big-endian fields. Shared by the server (src/server.c) and the
 * client library (src/client/sluice_client.c), so it depends on nothing but libc.
 *
 * Threads: no global state; every function is safe from any thread on its own buffers.
 */
#ifndef SLUICE_PROTOCOL_H
#define SLUICE_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION          1
#define PROTO_CHALLENGE_LEN    32
#define PROTO_PROOF_LEN        32
#define PROTO_MAX_CLIENT_FRAME 65536u    /* largest length a client may send */
#define PROTO_MAX_SERVER_FRAME 67108864u /* largest length the server sends (64 MiB) */
#define PROTO_HEADER_LEN       5         /* u32 length + u8 type */

enum proto_type {
    PROTO_SERVER_HELLO = 0x01,
    PROTO_CLIENT_HELLO = 0x02,
    PROTO_AUTH_OK = 0x03,
    PROTO_SUBSCRIBE = 0x10,
    PROTO_SUBSCRIBED = 0x11,
    PROTO_GET = 0x12,
    PROTO_BATCH = 0x13,
    PROTO_ACK = 0x14,
    PROTO_ACKED = 0x15,
    PROTO_ROLLBACK = 0x16,
    PROTO_ROLLED_BACK = 0x17,
    PROTO_HEARTBEAT = 0x18,
    PROTO_HEARTBEAT_OK = 0x19,
    PROTO_CLOSE = 0x1a,
    PROTO_CLOSED = 0x1b,
    PROTO_ERROR = 0x7f,
};

/* Error codes of ERROR frames; names and texts from one list. */
#define PROTO_ERRORS(X)                                                                            \
    X(PROTO_E_PROTOCOL, 1, "malformed frame or request out of order")                              \
    X(PROTO_E_FRAME_TOO_LARGE, 2, "frame length out of range")                                     \
    X(PROTO_E_UNSUPPORTED_VERSION, 3, "unsupported protocol version")                              \
    X(PROTO_E_AUTH_FAILED, 4, "authentication failed")                                             \
    X(PROTO_E_NOT_SUBSCRIBED, 5, "not subscribed, or already subscribed")                          \
    X(PROTO_E_UNKNOWN_INSTANCE, 6, "unknown instance")                                             \
    X(PROTO_E_BAD_FILTER, 7, "bad filter or client id")                                            \
    X(PROTO_E_UNKNOWN_BATCH, 8, "unknown batch id")                                                \
    X(PROTO_E_TIMEOUT, 9, "idle timeout")                                                          \
    X(PROTO_E_CLIENT_ID_BUSY, 10, "client id in use by another connection")                        \
    X(PROTO_E_SHUTTING_DOWN, 11, "daemon shutting down")                                           \
    X(PROTO_E_INTERNAL, 12, "internal error")                                                      \
    X(PROTO_E_NOT_OWNER, 13, "instance not running on this daemon (cluster standby)")

enum proto_error {
#define PROTO_ERR_ENUM(name, val, text) name = val,
    PROTO_ERRORS(PROTO_ERR_ENUM)
#undef PROTO_ERR_ENUM
};

/* The error's name without its prefix ("AUTH_FAILED"), "UNKNOWN" for other codes. Static. */
const char *proto_error_name(unsigned code);
/* True when the server closes the connection after an ERROR with this code. */
bool proto_error_closes(unsigned code);
/* The message type's name ("GET"), "?" for unknown types. Static. */
const char *proto_type_name(unsigned type);

/* ---- writing ---- */

/* A growing output buffer. Zero-initialise; release with proto_buf_free. Allocation failure
 * aborts (the client library has no xmalloc: it prints and aborts, as xmalloc does). */
struct proto_buf {
    uint8_t *data;
    size_t len, cap;
};

void proto_buf_free(struct proto_buf *b);
void proto_put_u8(struct proto_buf *b, uint8_t v);
void proto_put_u16(struct proto_buf *b, uint16_t v);
void proto_put_u32(struct proto_buf *b, uint32_t v);
void proto_put_u64(struct proto_buf *b, uint64_t v);
void proto_put_bytes(struct proto_buf *b, const void *p, size_t n);
/* str: u16 length + bytes; longer strings are cut at 65535 bytes. */
void proto_put_str(struct proto_buf *b, const char *s, size_t n);
/* blob: u32 length + bytes. */
void proto_put_blob(struct proto_buf *b, const void *p, uint32_t n);
/* Starts a frame of type t (a length placeholder and the type); returns its start offset for
 * proto_frame_end, which fills in the length. */
size_t proto_frame_begin(struct proto_buf *b, uint8_t t);
void proto_frame_end(struct proto_buf *b, size_t start);
/* Appends a whole ERROR frame. */
void proto_put_error(struct proto_buf *b, unsigned code, const char *msg);

/* ---- reading ---- */

/* A cursor over one frame's payload; any read past its end sets `bad` and returns zeros. */
struct proto_reader {
    const uint8_t *p;
    size_t len, off;
    bool bad;
};

void proto_reader_init(struct proto_reader *r, const void *p, size_t len);
uint8_t proto_get_u8(struct proto_reader *r);
uint16_t proto_get_u16(struct proto_reader *r);
uint32_t proto_get_u32(struct proto_reader *r);
uint64_t proto_get_u64(struct proto_reader *r);
/* n bytes: returns a pointer into the payload (borrowed), NULL when short. */
const uint8_t *proto_get_bytes(struct proto_reader *r, size_t n);
/* str into out (NUL-terminated); sets bad when it does not fit outsz-1 or is short. */
void proto_get_str(struct proto_reader *r, char *out, size_t outsz);
/* blob: pointer into the payload (borrowed) and its length. */
const uint8_t *proto_get_blob(struct proto_reader *r, uint32_t *n);
/* True when every byte was read and nothing went short: a payload must be consumed exactly. */
bool proto_reader_done(const struct proto_reader *r);

/* Cuts the next frame out of buf[0..len): returns 1 with *type, *payload (borrowed, into buf),
 * *plen and *used (header + payload) when a whole frame is there; 0 when more bytes are needed;
 * -PROTO_E_FRAME_TOO_LARGE when the length is 0 or above max. */
int proto_frame_parse(const uint8_t *buf,
                      size_t len,
                      uint32_t max,
                      uint8_t *type,
                      const uint8_t **payload,
                      size_t *plen,
                      size_t *used);

#endif
