/*
 * bytes.h — fixed-width integer readers for wire and storage formats: little-endian (binlog
 * events, binary JSON) and big-endian (temporal and DECIMAL storage). The caller has checked
 * the bounds; nothing here reads past p + width.
 */
#ifndef SLUICE_BYTES_H
#define SLUICE_BYTES_H

#include <stdint.h>

static inline uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le48(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le16(p + 4) << 32;
}
static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}
static inline uint64_t le_n(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Big-endian, n <= 8 bytes. */
static inline uint64_t be_n(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
