/*
 * binlog_file.h — streaming reader of binlog and relay-log files (plain or gzip'd).
 *
 * Reads one event at a time through a fixed buffer (grown only for an event larger than it),
 * so memory stays flat whatever the file size. Checks the magic number and that each event's
 * length fits the file; checksums and contents are the decoder's business.
 */
#ifndef SLUICE_BINLOG_FILE_H
#define SLUICE_BINLOG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct binlog_file;

/* Opens path and checks the 4-byte magic. Returns a reader (caller frees with
 * binlog_file_close) or NULL with err filled ("not a binlog file (bad magic)"). */
struct binlog_file *binlog_file_open(const char *path, struct err *err);

/* As binlog_file_open, but a plain regular binlog file is mapped: its events stay valid until
 * close (see binlog_file_release). Anything else (gzip'd, not a regular file) is opened by
 * binlog_file_open. A mapped file that shrinks while open raises SIGBUS on access. */
struct binlog_file *binlog_file_open_mapped(const char *path, struct err *err);
/* True when f is mapped: every event returned stays valid until close. */
bool binlog_file_mapped(const struct binlog_file *f);
/* Mapped: no event below offset `below` will be read again, so its pages leave the resident set
 * (they are read back from the file if touched). Does nothing otherwise. */
void binlog_file_release(struct binlog_file *f, uint64_t below);
/* Reads the next event. Returns 1 with ev, len and offset set (*ev borrowed, valid until the
 * next call), 0 at the end of the file, or a negative code with err naming the file and the
 * offset (truncated event, impossible length, read error). */
int binlog_file_next(
    struct binlog_file *f, const uint8_t **ev, size_t *len, uint64_t *offset, struct err *err);

/* Moves to offset (>= 4, at an event start) before the next read. Returns 0 or an error. */
int binlog_file_seek(struct binlog_file *f, uint64_t offset, struct err *err);

/* The file's base name ("binlog.000003"), for positions. */
const char *binlog_file_name(const struct binlog_file *f);

void binlog_file_close(struct binlog_file *f);

#endif
