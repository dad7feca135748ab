/*
 * crc32.h — CRC-32 of IEEE 802.3 / zlib (reflected, polynomial 0xEDB88320), the checksum of
 * binlog events. Same value as zlib's crc32(), faster on long buffers on x86-64 CPUs with
 * carry-less multiplication (PCLMULQDQ); elsewhere it is zlib's crc32().
 */
#ifndef SLUICE_CRC32_H
#define SLUICE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over buf[0..len) and returns the new value, exactly as zlib's
 * crc32(crc, buf, len): crc32_ieee(crc32_ieee(0, a), b) == crc32_ieee(0, a || b), and
 * crc32_ieee(0, "123456789", 9) == 0xCBF43926. Thread-safe. */
uint32_t crc32_ieee(uint32_t crc, const void *buf, size_t len);

#endif
