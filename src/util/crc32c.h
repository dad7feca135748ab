/*
 * crc32c.h — CRC-32C (Castagnoli, reflected, polynomial 0x82F63B78), the checksum of the
 * position files (as in PostgreSQL's pg_crc32c, ext4 and iSCSI). Table-driven, one byte at a
 * time: position files are a few hundred bytes, so speed does not matter here.
 */
#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over buf[0..len) and returns the new value; crc32c(0, "123456789",
 * 9) == 0xE3069283. Thread-safe (no state). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
