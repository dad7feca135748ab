/*
 * testutil.h — byte builders the unit tests share: hex literals to bytes, and the
 * little-endian and packed (length-encoded) integers of binlog events.
 */
#ifndef SLUICE_TESTUTIL_H
#define SLUICE_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

/* Writes the bytes of the hex string at out (room for strlen(hex) / 2); returns their count. */
static inline size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static inline void put_u8(struct strbuf *b, unsigned v)
{
    strbuf_appendc(b, (char)(uint8_t)v);
}

/* The n low bytes of v, little-endian. */
static inline void put_le(struct strbuf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        put_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

/* A packed integer: one byte below 251, else 0xfc/0xfd/0xfe and 2, 3 or 8 bytes. */
static inline void put_packed(struct strbuf *b, uint64_t v)
{
    if (v < 251) {
        put_u8(b, (unsigned)v);
    } else if (v < 0x10000) {
        put_u8(b, 0xfc);
        put_le(b, v, 2);
    } else if (v < 0x1000000) {
        put_u8(b, 0xfd);
        put_le(b, v, 3);
    } else {
        put_u8(b, 0xfe);
        put_le(b, v, 8);
    }
}

#endif
