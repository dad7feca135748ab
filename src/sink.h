/*
 * sink.h — where an instance's changes go: the interface every sink implements (sinks/file.c,
 * sinks/stdout.c, later sinks/kafka.c), the registry that finds one by the config's `type:`,
 * and the output formats they share.
 *
 * A sink is a struct of function pointers embedded first in each implementation (as
 * PostgreSQL's bbsink): `struct sink` is the first member of `struct file_sink`, and callers
 * only use the inline wrappers below.
 *
 * Batches and acknowledgements. The instance hands a sink its changes one at a time with
 * append() (the sink renders or copies each at once: the change is borrowed for the call only),
 * then closes the batch with write_batch(id). Batch ids increase by one per batch, starting at 1.
 * The sink acknowledges each batch by calling the ack callback it was opened with, in id order,
 * once the batch is durable downstream (file: fsynced; Kafka: every delivery report in). It may
 * do so inside write_batch() (a synchronous sink) or later inside poll() (an asynchronous one,
 * such as Kafka); never from another thread. The instance moves its consumed position only
 * past batches every sink has acknowledged.
 *
 * Errors. A failing append/write_batch/poll returns a negative code with err filled; the batch
 * and every later one stay unacknowledged, and the instance stops (state `failed`) with its
 * position held back. A sink never drops a change silently.
 *
 * Threads: a sink belongs to its instance's thread; nothing here is thread-safe.
 */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "config.h"
#include "err.h"
#include "format.h"
#include "strbuf.h"

/* Bumped when struct sink_ops changes incompatibly; sink_open() refuses other values. */
#define SINK_ABI 1

/* Called by a sink when batch `batch_id` (and so every batch before it) is durable. `bytes`
 * is the number of bytes the batch held in the sink (for the instance's in-flight budget). */
typedef void (*sink_ack_fn)(uint64_t batch_id, size_t bytes, void *opaque);

/* What open() is given. Everything is borrowed for the duration of open() only, except cfg,
 * which the sink may keep (the config outlives every sink). */
struct sink_conf {
    const char *instance; /* instance name, for file names, topics and messages */
    const struct config_sink *cfg;
    sink_ack_fn ack;
    void *opaque;        /* passed to ack */
    size_t budget_bytes; /* the instance's memory budget (a sink may size its queues by it) */
    /* Cluster mode: an id that every daemon able to own the instance shares (a Kafka sink
     * uses it as its transactional.id, so a new owner fences the old one); NULL otherwise. */
    const char *fence_id;
};

struct sink;

struct sink_ops {
    unsigned abi;     /* SINK_ABI */
    const char *name; /* the config `type:` string: "file", "stdout", "kafka" */
    /* Creates the sink. Returns NULL with err filled (unusable path, unsupported format...).
     * Caller frees with close(). */
    struct sink *(*open)(const struct sink_conf *conf, struct err *err);
    /* Adds one change to the current batch. c is borrowed for the call. May block to push back
     * (a full producer queue). */
    int (*append)(struct sink *s, const struct change *c, struct err *err);
    /* Ends the current batch (possibly empty) as batch_id and starts sending it. */
    int (*write_batch)(struct sink *s, uint64_t batch_id, struct err *err);
    /* Serves acknowledgements: waits at most timeout_ms (0 = do not wait) for progress and
     * calls the ack callback for every batch that became durable. */
    int (*poll)(struct sink *s, int timeout_ms, struct err *err);
    /* Reopens log-like resources after SIGHUP (a file sink reopens its path). Errors are
     * reported by the next write. */
    void (*reopen)(struct sink *s);
    /* Releases the sink without acknowledging anything more. */
    void (*close)(struct sink *s);
};

struct sink {
    const struct sink_ops *ops;
    const struct config_sink *cfg; /* borrowed from the config */
    char *instance;                /* owned copy of conf->instance */
    sink_ack_fn ack;
    void *opaque;
    uint64_t last_batch; /* last id given to write_batch, 0 before the first */
    uint64_t last_acked; /* last id acknowledged, 0 before the first */
    /* Bytes the sink holds that are not acknowledged yet, beyond the changes themselves (a
     * rendered Kafka message in the producer queue). The instance counts them in its budget. */
    size_t held_bytes;
    /* When held_bytes passes this (0 = no limit of its own), the instance stops reading until
     * the sink has caught up, as when its whole budget is used. */
    size_t held_limit;
};

/* ---- registry ---- */

/* The ops registered under name ("file"), NULL when none. The table is static. */
const struct sink_ops *sink_find(const char *name);

/* Opens the sink that conf->cfg describes. Returns NULL with err filled when the type is
 * unknown, the ops' abi differs, or the sink's open() fails. Caller frees with sink_close(). */
struct sink *sink_open(const struct sink_conf *conf, struct err *err);

/* For implementations: fills the common part of *s from conf (copies the instance name). */
void sink_init_common(struct sink *s, const struct sink_ops *ops, const struct sink_conf *conf);
/* For implementations: releases what sink_init_common allocated. */
void sink_free_common(struct sink *s);
/* For implementations: acknowledges every batch up to batch_id (in order; ids not above the
 * last acknowledged one are ignored) and calls the ack callback once per batch. */
void sink_acknowledge(struct sink *s, uint64_t batch_id, size_t bytes);

/* For implementations: the format context of the change being appended now (the instance
 * name, the batch it goes into, the wall clock). */
void sink_format_ctx(const struct sink *s, struct format_ctx *ctx);

/* ---- wrappers (callers use these, never the ops directly) ---- */

static inline int sink_append(struct sink *s, const struct change *c, struct err *err)
{
    return s->ops->append(s, c, err);
}

static inline int sink_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    s->last_batch = batch_id;
    return s->ops->write_batch(s, batch_id, err);
}

static inline int sink_poll(struct sink *s, int timeout_ms, struct err *err)
{
    return s->ops->poll(s, timeout_ms, err);
}

static inline void sink_reopen(struct sink *s)
{
    s->ops->reopen(s);
}

/* Releases s; NULL-safe. */
static inline void sink_close(struct sink *s)
{
    if (s)
        s->ops->close(s);
}

#endif
