/*
 * strbuf.h — a growable byte buffer, always NUL-terminated, plus the JSON text helpers every
 * output format shares (string escaping, base64, hex).
 *
 * A zeroed struct strbuf is a valid empty buffer. The buffer owns `buf`; strbuf_free() releases
 * it. strbuf_reset() keeps the allocation for reuse (one buffer per output line, no malloc in
 * the steady state).
 */
#ifndef SLUICE_STRBUF_H
#define SLUICE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strbuf {
    char *buf;  /* NUL-terminated when cap > 0 */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
/* Makes room for n more bytes (plus the NUL). */
void strbuf_reserve(struct strbuf *sb, size_t n);
void strbuf_appends(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_append_u64(struct strbuf *sb, uint64_t v);
void strbuf_append_i64(struct strbuf *sb, int64_t v);
/* Shrinks to len bytes (len <= sb->len). */
void strbuf_truncate(struct strbuf *sb, size_t len);

/* Appends data[0..n) (inline: the hot path of every output line). */
static inline void strbuf_append(struct strbuf *sb, const void *data, size_t n)
{
    if (sb->len + n + 1 > sb->cap)
        strbuf_reserve(sb, n);
    if (n)
        memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static inline void strbuf_appendc(struct strbuf *sb, char c)
{
    if (sb->len + 2 > sb->cap)
        strbuf_reserve(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

/* UTF-8 helpers shared by every text path. strbuf_utf8_seq_len: the length of the valid
 * sequence at s (n bytes available), or 0 when invalid (overlong, surrogate, > U+10FFFF, cut).
 * strbuf_utf8_valid: all of s[0..n) is valid UTF-8. strbuf_utf8_put: writes code point cp
 * (<= 0x10FFFF) at o, up to 4 bytes, and returns how many. */
size_t strbuf_utf8_seq_len(const void *s, size_t n);
bool strbuf_utf8_valid(const void *s, size_t n);
size_t strbuf_utf8_put(void *o, uint32_t cp);

/* Appends s[0..n) as a quoted JSON string. The bytes must be UTF-8; invalid sequences are
 * replaced by U+FFFD so the output is always valid JSON. */
void strbuf_append_json_str(struct strbuf *sb, const char *s, size_t n);
/* Appends s[0..n) of a single-byte charset as a quoted JSON string in UTF-8: bytes below 0x80
 * are ASCII, byte b >= 0x80 is code point high[b - 0x80] (nonzero, below U+10000). */
void strbuf_append_json_sbcs(struct strbuf *sb,
                             const uint8_t *s,
                             size_t n,
                             const uint16_t high[128]);
/* Appends the standard base64 (RFC 4648, with padding) of data: unquoted, or as a quoted JSON
 * string. */
void strbuf_append_base64(struct strbuf *sb, const uint8_t *data, size_t n);
void strbuf_append_base64_json(struct strbuf *sb, const uint8_t *data, size_t n);
/* Appends lowercase hex of data, unquoted. */
void strbuf_append_hex(struct strbuf *sb, const uint8_t *data, size_t n);
/* Appends the shortest decimal text that reads back as exactly d (or f), JSON-valid
 * (no NaN/Infinity: those become null). */
void strbuf_append_double(struct strbuf *sb, double d);
void strbuf_append_float(struct strbuf *sb, float f);

#endif
