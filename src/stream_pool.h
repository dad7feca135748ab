/*
 * stream_pool.h — a live binlog stream decoded on worker threads, its changes handed back to the
 * caller's thread in stream order (the instance's `decode_threads`).
 *
 * The caller (an instance's thread) feeds whole events in stream order, as to a decoder. The
 * pool copies them into chunks of about 256 KiB, each of which decodes by itself (a chunk that
 * begins inside a transaction is given the transaction's GTID, BEGIN and table maps first);
 * worker threads decode chunks, each with the decoder of the chunk's slot, and store the
 * changes. The caller's thread gets every change back through
 * the replay callback, in stream order, with nothing reordered or left out: exactly the changes
 * one decoder fed the same events would emit. So everything that depends on order (positions,
 * transactions, XA, DDL and the schema history, batches) stays on the caller's thread.
 *
 * Schema. A query event that may change the schema (decoder_query_class) is a barrier:
 * its chunk ends with it and nothing after it is decoded until it has been replayed; the caller
 * then applies it and calls stream_pool_forget_tables if it changed the schema. The table-map
 * hook runs on worker threads (several at once): the caller serialises what it shares.
 *
 * Large transactions are cut into chunks like any other stream; an event of 4 MiB or more (and a
 * transaction past 4 MiB whose table maps pass 256 KiB) is decoded on the caller's thread, after
 * everything before it is replayed, until the next transaction starts: memory stays bounded.
 *
 * A change handed to replay is valid for the call (its table map until the slot is reused, as
 * with a decoder). Not thread-safe: one caller thread.
 */
#ifndef SLUICE_STREAM_POOL_H
#define SLUICE_STREAM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "decoder.h"
#include "err.h"
#include "table_map.h"

/* The table-map hook of the pool's decoders, with the place of the map in the stream. Runs on
 * worker threads and on the caller's. */
typedef int (*stream_pool_table_map_fn)(
    struct table_map *tm, const char *file, uint64_t offset, void *opaque, struct err *err);

struct stream_pool_opts {
    unsigned threads;                      /* worker threads, at least 1 */
    bool checksum_before_fde;              /* as decoder_opts (the connection's fake ROTATE) */
    decoder_emit_fn replay;                /* on the caller's thread, in stream order */
    decoder_warn_fn warn;                  /* any thread; may be NULL */
    stream_pool_table_map_fn on_table_map; /* any thread; may be NULL */
    void *opaque;
    /* Tests: chunk size (0: 256 KiB; 1 cuts wherever it may); the size from which an event is
     * decoded on the caller's thread (0: 4 MiB); the size past which a transaction that cannot
     * be cut is (0: 4 MiB); the most bytes of primers repeated in each chunk (0: 256 KiB). */
    size_t chunk_bytes, big_event, chunk_max, primer_max;
};

struct stream_pool;

/* Starts the workers. NULL with err filled when a thread cannot start. */
struct stream_pool *stream_pool_new(const struct stream_pool_opts *o, struct err *err);
/* Joins the workers, dropping what was not replayed; NULL-safe. */
void stream_pool_free(struct stream_pool *p);

/* Takes one whole event at offset `off` of `file` (both copied). Replays what is decoded by
 * now. Returns 0, a replay callback's non-zero result (err untouched: the callback reported
 * it), or a decoding error (err filled), each after the changes before it were replayed. After
 * a non-zero return the pool is done: free it. */
int stream_pool_feed(struct stream_pool *p,
                     const uint8_t *ev,
                     size_t len,
                     uint64_t off,
                     const char *file,
                     struct err *err);

/* True when events were fed that are not replayed yet. */
bool stream_pool_pending(const struct stream_pool *p);

/* Replays the chunks decoded by now, without waiting. Returns as feed. */
int stream_pool_replay_ready(struct stream_pool *p, struct err *err);

/* Decodes and replays everything fed so far (the stream is idle). Returns as feed. */
int stream_pool_flush(struct stream_pool *p, struct err *err);

/* Every decoder of the pool parses each table map again when next seen (after a DDL). */
void stream_pool_forget_tables(struct stream_pool *p);

#endif
