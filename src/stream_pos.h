/*
 * stream_pos.h — where each event of a replication stream sits in the server's binlog files.
 *
 * Events carry their end offset in log_pos, but not always: MariaDB 11.4 writes 0 there inside
 * transactions, and the fake ROTATE and a FORMAT_DESCRIPTION sent for a start past 4 have 0 too.
 * Those are placed at the running position. A ROTATE (real or fake) names the file and offset
 * that follow. Plain data; one per stream.
 */
#ifndef SLUICE_STREAM_POS_H
#define SLUICE_STREAM_POS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream_pos {
    char *file;          /* current file name (owned) */
    uint64_t pos;        /* offset of the next event */
    bool seen_fde;       /* a FORMAT_DESCRIPTION was seen */
    bool crc_before_fde; /* events before the first FDE end with a CRC32 */
    bool crc;            /* the last FDE announced CRC32 */
};

/* Starts at file:pos (file copied; "" when unknown, as for a GTID start). */
void stream_pos_init(struct stream_pos *sp, const char *file, uint64_t pos, bool crc_before_fde);
void stream_pos_free(struct stream_pos *sp);

/* The offset of event ev (whole event, len bytes) in the current file. */
uint64_t stream_pos_offset(const struct stream_pos *sp, const uint8_t *ev, size_t len);

/* Moves past ev: follows ROTATE, FDE and log_pos. crc: whether the stream's events carry a
 * CRC32 (after the first FDE: what the decoder says). */
void stream_pos_advance(struct stream_pos *sp, const uint8_t *ev, size_t len, bool crc);

#endif
