/*
 * decoder.h — binlog events in, struct change out.
 *
 * The decoder is fed whole events, in stream order, from a file reader or a replication
 * connection. It verifies each event's checksum, keeps the format description and the
 * table-map cache, follows transactions (GTID, BEGIN, XID), unpacks compressed events
 * (MySQL TRANSACTION_PAYLOAD, MariaDB *_COMPRESSED) and calls the emit callback once per row
 * change (and, with all_events, per BEGIN/COMMIT/DDL/GTID). One decoder per stream; not
 * thread-safe.
 */
#ifndef SLUICE_DECODER_H
#define SLUICE_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "err.h"

/* Called for each decoded change. The change is borrowed for the call. Return 0 to go on, or
 * a negative code to stop decoding (decoder_feed returns it). */
typedef int (*decoder_emit_fn)(const struct change *c, void *opaque);

/* Called with a one-line warning about the stream that does not stop decoding (an INCIDENT
 * event, an unknown event type passed over). */
typedef void (*decoder_warn_fn)(const char *msg, void *opaque);

/* Called when a TABLE_MAP is parsed (not when an identical map is re-sent), before any row of
 * the table is decoded. It may complete the map (column names, signedness: table_map_set_*) and
 * may refuse it by returning a negative code with err filled, which decoder_feed returns. The map
 * stays owned by the decoder. */
typedef int (*decoder_table_map_fn)(struct table_map *tm, void *opaque, struct err *err);

struct decoder_opts {
    bool all_events;          /* emit BEGIN/COMMIT/DDL/GTID too */
    bool verify_checksum;     /* default true via decoder_opts_init */
    bool follow_rotate;       /* a ROTATE renames the current file (replication streams); a file
                                 reader sets false: positions are offsets in the file it reads */
    bool checksum_before_fde; /* events before the first FORMAT_DESCRIPTION end with a CRC32:
                                 a replication stream's fake ROTATE, when the connection set
                                 @master_binlog_checksum to CRC32 (files: false) */
    bool retain_maps; /* table maps that leave the cache are kept (changes emitted earlier may
                         still point at them) until decoder_release_maps */
    decoder_emit_fn emit;
    decoder_warn_fn warn;              /* may be NULL */
    decoder_table_map_fn on_table_map; /* may be NULL */
    void *opaque;                      /* passed to emit and warn */
};

/* Event counts by type code (index = the event type byte) and the rows seen. */
struct decoder_stats {
    uint64_t events;
    uint64_t by_type[256];
    uint64_t inner_by_type[256]; /* events found inside TRANSACTION_PAYLOAD */
    uint64_t rows;               /* row images emitted as changes */
    uint64_t tmaps_with_optional_meta;
};

void decoder_opts_init(struct decoder_opts *o);
/* Returns a new decoder; caller frees with decoder_free(). opts is copied. */
struct decoder *decoder_new(const struct decoder_opts *opts);
void decoder_free(struct decoder *d);

/* The binlog file name used in positions until the next ROTATE event (copied). */
void decoder_set_file(struct decoder *d, const char *name);

/* Decodes one whole event [ev, ev+len) (header, body and checksum, if any), which starts at
 * `offset` in the current file. Returns 0, a negative err code with err filled (message names
 * the event type and offset), or what the emit callback returned. The caller must stop on
 * error: the decoder state is then undefined. */
int decoder_feed(
    struct decoder *d, const uint8_t *ev, size_t len, uint64_t offset, struct err *err);

/* Decodes an event for its state only, leaving it out of the counts: a FORMAT_DESCRIPTION
 * given again to a decoder that starts in the middle of a stream (decode_pool.c). */
int decoder_prime(
    struct decoder *d, const uint8_t *ev, size_t len, uint64_t offset, struct err *err);

/* Drops every cached table map, so the next TABLE_MAP of each table is parsed again and passed
 * to on_table_map (after a DDL changed the schema). */
void decoder_forget_tables(struct decoder *d);

/* Frees the table maps kept by retain_maps (once no change emitted before is in use). */
void decoder_release_maps(struct decoder *d);

/* What a whole event [ev, ev+len) is as a query (read with the format description d was last
 * fed): not one; a transaction's BEGIN (or XA START); its end (COMMIT, ROLLBACK, the XA
 * outcomes); a statement inside it that changes no data (XA END, SAVEPOINT, ROLLBACK TO); or
 * any other statement, which may change the schema (a compressed one always counts as such). */
enum decoder_query {
    DECODER_Q_NONE,
    DECODER_Q_BEGIN,
    DECODER_Q_END,
    DECODER_Q_INNER,
    DECODER_Q_SCHEMA,
};
enum decoder_query decoder_query_class(const struct decoder *d, const uint8_t *ev, size_t len);

const struct decoder_stats *decoder_get_stats(const struct decoder *d);

/* True when the last FORMAT_DESCRIPTION said the stream carries CRC32 checksums. */
bool decoder_has_checksum(const struct decoder *d);

#endif
