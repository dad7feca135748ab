/*
 * decode_pool.h — one binlog stream decoded on several threads, its output kept in stream order.
 *
 * The caller feeds whole events in stream order, as to a decoder. The pool cuts the stream into
 * chunks of about 256 KiB that start at a transaction (a GTID event), so each chunk can be
 * decoded by itself: it is given the format description in force and its own table maps. Worker
 * threads decode chunks and render their changes into text; the text is written, chunk after
 * chunk, in stream order. A transaction too large to buffer (over 8 MiB) is decoded on the
 * caller's thread as it streams, after everything before it is written: memory stays bounded
 * whatever the stream holds. With one thread each event is decoded on the caller's thread as it is
 * fed.
 *
 * The output (text, warnings, the first error and what was written before it) is exactly what
 * one decoder fed the same events would give.
 */
#ifndef SLUICE_DECODE_POOL_H
#define SLUICE_DECODE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "decoder.h"
#include "err.h"
#include "strbuf.h"

/* Returned by render to end the stream after this change, and by feed and finish after it. */
#define DECODE_POOL_STOP 1

/* Renders change c (of the file given `tag` by decode_pool_set_file) by appending to out. Runs on
 * worker threads, several at a time: it must not touch shared state. Returns 0,
 * DECODE_POOL_STOP, or a negative code with err filled. */
typedef int (*decode_pool_render_fn)(
    const struct change *c, void *tag, struct strbuf *out, void *opaque, struct err *err);
/* Writes rendered text, in stream order, one call at a time (any thread). Returns 0 or a
 * negative code with err filled. */
typedef int (*decode_pool_write_fn)(const char *buf, size_t len, void *opaque, struct err *err);
/* A decoder warning, in stream order, once the text before it is written. */
typedef void (*decode_pool_warn_fn)(const char *msg, void *opaque);

struct decode_pool_opts {
    unsigned threads;     /* decoding threads; 0 or 1: all on the caller's thread */
    bool all_events;      /* as decoder_opts */
    bool verify_checksum; /* as decoder_opts */
    decode_pool_render_fn render;
    decode_pool_write_fn write;
    decode_pool_warn_fn warn; /* may be NULL */
    void *opaque;             /* passed to render, write and warn */
};

struct decode_pool;

/* Returns a new pool and starts its threads; NULL with err filled when a thread cannot start. */
struct decode_pool *decode_pool_new(const struct decode_pool_opts *o, struct err *err);
/* Joins the threads (dropping what was not written) and frees the pool; NULL-safe. */
void decode_pool_free(struct decode_pool *p);

/* The file the next events come from: its base name for positions, and a tag passed to render
 * and returned by decode_pool_failed_tag. */
void decode_pool_set_file(struct decode_pool *p, const char *name, void *tag);

/* Takes one whole event at `offset` (copied). Returns 0, DECODE_POOL_STOP once a render asked to
 * stop, or the first error of the stream (a decoder, render or write error, err filled), after
 * everything before it was written. After a non-zero return, call decode_pool_finish only. */
int decode_pool_feed(
    struct decode_pool *p, const uint8_t *ev, size_t len, uint64_t offset, struct err *err);

/* As decode_pool_feed, but ev is not copied: the caller keeps its bytes valid (and unchanged)
 * until decode_pool_low_water passes its offset, or the pool is finished or quiesced. */
int decode_pool_feed_borrowed(
    struct decode_pool *p, const uint8_t *ev, size_t len, uint64_t offset, struct err *err);

/* The lowest offset (in the current file) of a borrowed event the pool may still read, or `next`
 * (the offset of the next event to be fed) when none. Caller's thread only. */
uint64_t decode_pool_low_water(const struct decode_pool *p, uint64_t next);

/* After an error or a stop: joins the workers, so nothing borrowed is read any more. The pool
 * then decodes nothing more; finish still reports its result. */
void decode_pool_quiesce(struct decode_pool *p);

/* Decodes and writes everything fed so far. Returns as decode_pool_feed. */
int decode_pool_finish(struct decode_pool *p, struct err *err);

/* The tag of the file whose event failed (after a negative return), else NULL. */
void *decode_pool_failed_tag(const struct decode_pool *p);

/* Sums the event counts of every decoder of the pool into *out (after finish). */
void decode_pool_stats(const struct decode_pool *p, struct decoder_stats *out);

#endif
