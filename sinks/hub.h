/*
 * sinks/hub.h — the hub: where an instance's changes wait for the protocol server's clients
 * (src/server.c, docs/protocol.md). Not configured as a sink: when the config has `server:`,
 * the daemon creates one hub per instance (hub_create) and the instance opens the "hub" sink
 * on top of its configured ones. The hub keeps the rendered `json` changes in a bounded
 * in-memory log, gives each client id a cursor persisted in DATA_DIR/INSTANCE/clients/ID, and
 * acknowledges an instance batch only once every known client id has acked past it.
 *
 * Threads: the sink side runs on the instance thread, the hub_* client functions on the server
 * thread; each hub has a mutex, and the registry one of its own. Hubs live from hub_create()
 * until hub_destroy_all(), which the daemon calls after every instance and the server stopped.
 */
#ifndef SLUICE_SINKS_HUB_H
#define SLUICE_SINKS_HUB_H

#include <regex.h>
#include <stdint.h>

#include "err.h"
#include "protocol.h"
#include "sink.h"

/* The ops table, registered in src/sink.c under "hub". open() fails unless hub_create() was
 * called for the instance. */
extern const struct sink_ops sink_hub_ops;

struct hub;

struct config_instance;

/* Creates the hub of instance ic and loads its client cursors from DATA_DIR/NAME/clients/
 * (created when missing). Returns 0, or ERR_IO with err filled (an unreadable or corrupt cursor
 * file). In cluster mode (ic's positions in ZooKeeper) the cursors live under the instance's
 * node instead ({root}/{cluster}/instances/NAME/clients/ID) and are read each time the
 * instance opens the hub (this daemon became its owner); until then subscribe and get answer
 * -PROTO_E_NOT_OWNER. */
int hub_create(const struct config_instance *ic, const char *data_dir, struct err *err);
/* The hub of an instance, NULL when none. Borrowed, valid until hub_destroy_all(). */
struct hub *hub_find(const char *name);
/* Frees every hub. No sink may be open and no server running. */
void hub_destroy_all(void);
/* The file descriptor a byte is written to (non-blocking) whenever new changes are ready
 * (the server's wake pipe); -1 for none. */
void hub_set_notify(int fd);

/* ---- server side: every function locks the hub ---- */

/* Marks client_id as used by a connection (creating and persisting its cursor when new) and
 * rolls back what an earlier connection left unacked. Returns 0 with *last_acked set, or
 * -PROTO_E_CLIENT_ID_BUSY, or -PROTO_E_INTERNAL with msg filled (cursor file not written). */
int hub_subscribe(
    struct hub *h, const char *client_id, uint64_t *last_acked, char *msg, size_t msgsz);
/* The connection of client_id went away: rolls back its unacked batches, frees the id. */
void hub_unsubscribe(struct hub *h, const char *client_id);
/* Appends a BATCH frame with the next changes for client_id (at most max_changes, at most
 * max_bytes after the first; filter NULL = all) to out. Returns 1 when a batch was written, 0
 * when nothing is available (nothing written). */
int hub_get(struct hub *h,
            const char *client_id,
            const regex_t *filter,
            uint32_t max_changes,
            uint32_t max_bytes,
            struct proto_buf *out);
/* Acks batch_id and every one before it, persisting the cursor. Returns 0, -PROTO_E_UNKNOWN_BATCH,
 * or -PROTO_E_INTERNAL with msg filled. */
int hub_ack(struct hub *h, const char *client_id, uint64_t batch_id, char *msg, size_t msgsz);
/* Forgets batch_id and every later unacked batch (0: all). Returns 0 or -PROTO_E_UNKNOWN_BATCH. */
int hub_rollback(struct hub *h, const char *client_id, uint64_t batch_id);

#endif
