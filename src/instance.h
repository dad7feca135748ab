/*
 * instance.h — one configured source server captured end to end: its replica connection,
 * decoder, schema, filters, sinks and positions, run by its own thread as a small state machine.
 *
 * States (visible in `sluice status` and logged once per change, old -> new):
 *   starting      opening the store, sinks and the connection
 *   streaming     events flow
 *   reconnecting  the connection was lost; retrying with backoff from the last transaction read
 *   stalled       neither an event nor a heartbeat for stall_timeout_ms (or a sink that does not
 *                 acknowledge for that long); the instance reconnects by itself
 *   failed        stopped on an error that needs an operator (message in `why`); positions are
 *                 held at the last acknowledged transaction
 *   stopped       after a clean stop (SIGTERM/SIGINT)
 *   standby       cluster mode: another daemon owns the instance; this one waits its turn
 *                 without parsing (and returns here after being fenced)
 *
 * Threads: instance_start() creates the instance's thread; every other function may be called
 * from the main thread while it runs (they take the instance's mutex or set atomic flags).
 */
#ifndef SLUICE_INSTANCE_H
#define SLUICE_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "strbuf.h"

enum instance_state {
    INSTANCE_STARTING,
    INSTANCE_STREAMING,
    INSTANCE_RECONNECTING,
    INSTANCE_STALLED,
    INSTANCE_FAILED,
    INSTANCE_STOPPED,
    INSTANCE_STANDBY,
};

struct instance;

/* A new instance for ic (borrowed: cfg must outlive the instance). Caller frees with
 * instance_free() after instance_join(). */
struct instance *instance_new(const struct config *cfg, const struct config_instance *ic);

/* Starts the instance's thread. Returns 0 or ERR_INSTANCE when the thread cannot be created. */
int instance_start(struct instance *in, struct err *err);

/* Asks the thread to stop: it closes its current batch, waits (bounded) for the sinks'
 * acknowledgements, saves positions and ends. Returns at once; instance_join() waits. */
void instance_request_stop(struct instance *in);

/* Asks the thread to reopen its sinks' files (SIGHUP). */
void instance_request_reopen(struct instance *in);

/* Called by the main thread about once a second: with heartbeats off (source.heartbeat_ms 0)
 * nothing bounds a read from a dead connection, so when no event came for stall_timeout_ms the
 * watchdog shuts the socket down; the instance then reports `stalled` and reconnects. */
void instance_watchdog(struct instance *in);

/* Waits for the thread to end. */
void instance_join(struct instance *in);

/* Frees in; NULL is a no-op. The thread must have ended. */
void instance_free(struct instance *in);

enum instance_state instance_state(struct instance *in);
const char *instance_state_name(enum instance_state s);

/* Appends the instance's status as one JSON object: name, state, why, since, parsed and
 * consumed positions (file, offset, gtid, ts), lag_seconds, events, rows, bytes_in_flight. */
void instance_status_json(struct instance *in, struct strbuf *out);

/* Appends the same as a few lines of text for people (`sluice status`). */
void instance_status_text(struct instance *in, struct strbuf *out);

/* One sink's counters: label "INDEX:TYPE" ("0:kafka"). */
struct instance_sink_metrics {
    char label[32];
    uint64_t delivered; /* row changes in batches the sink acknowledged */
    uint64_t errors;    /* calls into the sink that failed */
};

/* A snapshot of an instance's counters for /metrics and /health (see docs/operations.md). */
struct instance_metrics {
    const char *name; /* borrowed from the config */
    enum instance_state state;
    char why[1024];
    uint64_t events, rows, bytes_read, reconnects;
    int64_t lag_seconds;
    bool has_consumed;
    int64_t consumed_file_index; /* the numeric suffix of the consumed binlog file */
    uint64_t consumed_offset;
    bool horizon_known;                     /* measured at least once */
    int64_t horizon_files;                  /* files listed before ours; -1: ours is gone */
    int64_t horizon_seconds;                /* -1: no expiry set on the server */
    uint64_t bytes_in_flight, budget_bytes; /* memory budget in use, and its size */
    uint64_t schema_versions;
    size_t nsinks;
    struct instance_sink_metrics *sinks; /* caller frees with free() */
};

/* Fills m from in (the status fields under the instance's mutex, counters atomically). */
void instance_metrics(struct instance *in, struct instance_metrics *m);

#endif
