/*
 * meta/zk.h — the ZooKeeper position store (layout, format and version checks in meta/zk.c).
 * Config: `positions: {store: zookeeper, servers: "h:p,...", root: /sluice, cluster: NAME,
 * session_timeout_ms: N}`.
 *
 * Besides its ops table the store offers the ZooKeeper session it holds to src/cluster.c
 * (election and fencing share the session that writes the positions: when the session is gone
 * so is the owner's EPHEMERAL node, and every later conditional write fails).
 */
#ifndef SLUICE_META_ZK_H
#define SLUICE_META_ZK_H

#include <stdbool.h>
#include <stdint.h>

#include "pos_store.h"

/* The ops table, registered in src/pos_store.c under "zookeeper". */
extern const struct pos_store_ops pos_store_zk_ops;

/* True when st is a ZooKeeper store. */
bool pos_store_zk_is(const struct pos_store *st);

/* The session handle (a zhandle_t *, void here so callers need not include zookeeper.h);
 * borrowed, valid until the next pos_store_zk_renew() or close. */
void *pos_store_zk_handle(struct pos_store *st);

/* The instance node `{root}/{cluster}/instances/{name}`; borrowed, valid until close. */
const char *pos_store_zk_node(const struct pos_store *st);

/* The servers string (for messages); borrowed, valid until close. */
const char *pos_store_zk_servers(const struct pos_store *st);

/* The negotiated session timeout in ms (the configured one until connected). */
int pos_store_zk_timeout_ms(struct pos_store *st);

/* True once the session expired (set by the ZooKeeper thread): the handle is dead and only
 * pos_store_zk_renew() helps. Also true after a failed renew. */
bool pos_store_zk_expired(struct pos_store *st);

/* Monotonic ms of the last time the session was seen connected (state events). */
uint64_t pos_store_zk_last_connected_ms(struct pos_store *st);

/* Replaces a dead session by a new one, waiting (bounded by the session timeout) for it to
 * connect. Returns 0 or ERR_POS_STORE naming the servers. */
int pos_store_zk_renew(struct pos_store *st, struct err *err);

/* Owner mode: every later save() also checks that running_path (the owner's EPHEMERAL node)
 * still exists, in the same multi-op as the version-checked set, and stamps owner and epoch
 * into the record. running_path is copied; NULL leaves owner mode. */
void pos_store_zk_set_owner(struct pos_store *st,
                            const char *owner,
                            uint64_t epoch,
                            const char *running_path);

/* The version of the positions node seen by the last load()/save(), -1 when none. */
int pos_store_zk_version(const struct pos_store *st);

/* Whether the session is connected now (any thread). While it is not, save() fails at once
 * with a retriable ERR_POS_STORE instead of waiting for the reconnection. */
bool pos_store_zk_connected(struct pos_store *st);

/* Owner mode, from any thread: 1 when the record was written, after this store's last read or
 * write, by someone else than this owner (another epoch: `sluice position reset --force`, or a
 * newer owner), with the writer named in who; else 0 (also when ZooKeeper cannot tell). */
int pos_store_zk_foreign_write(struct pos_store *st, char *who, size_t whosz);

/* The schema history's copy in ZooKeeper (cluster mode; layout in meta/zk.c). */
struct strbuf;
/* Writes record `version` (its bytes as in the history file), replacing one of that version
 * an earlier owner left; in owner mode only while this daemon owns the instance
 * (ERR_POS_STALE otherwise). Returns 0 or an error code. */
int pos_store_zk_schema_put(
    struct pos_store *st, uint64_t version, const void *rec, size_t len, struct err *err);
/* Appends records 1..upto to out, in order: 1 when every one is there, 0 when one is missing
 * (out holds those before it), -1 on a ZooKeeper error (err filled). */
int pos_store_zk_schema_get(struct pos_store *st,
                            uint64_t upto,
                            struct strbuf *out,
                            struct err *err);
/* Deletes the records after version keep. Returns 0 or an error code. */
int pos_store_zk_schema_trim(struct pos_store *st, uint64_t keep, struct err *err);
#endif
