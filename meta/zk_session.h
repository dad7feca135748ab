/*
 * zk_session.h — one ZooKeeper session (libzookeeper_mt), opened synchronously, with its state
 * kept in atomics by the session watcher; and the small helpers every ZooKeeper user here needs.
 * Used by the position store (meta/zk.c), the cluster membership (src/members.c) and
 * `sluice cluster` (src/cmd_cluster.c).
 *
 * Threads: zk_session_open/close on one thread; zk_session_expired/connected from any thread.
 */
#ifndef SLUICE_ZK_SESSION_H
#define SLUICE_ZK_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct zk_session {
    void *zh;                      /* zhandle_t *, NULL when closed */
    char *servers;                 /* as given ("host:port,host:port") */
    int timeout_ms;                /* asked for */
    atomic_int state;              /* last session state seen by the watcher */
    atomic_bool expired;           /* the session expired (or was refused): the handle is dead */
    _Atomic uint64_t last_conn_ms; /* monotonic ms of the last connected state seen */
    /* Optional: called on the library's thread for every non-session event (node watches). */
    void (*on_event)(int type, const char *path, void *opaque);
    void *opaque;
};

/* Connects to servers and waits (at most timeout_ms) until the session is established. s is
 * zeroed first except on_event/opaque. Returns 0, or ERR_POS_STORE with err naming the servers. */
int zk_session_open(struct zk_session *s, const char *servers, int timeout_ms, struct err *err);

/* Closes the session (its EPHEMERAL nodes go at once) and frees what open allocated. */
void zk_session_close(struct zk_session *s);

bool zk_session_expired(struct zk_session *s);

/* Creates path and its parents (PERSISTENT, empty) when missing. Returns 0 or ERR_POS_STORE. */
int zk_ensure_path(struct zk_session *s, const char *path, struct err *err);

/* Reads a node's data, NUL-terminated, into a new string (*out; free it). Returns a ZooKeeper
 * code (ZOK, ZNONODE, ...). */
int zk_get_string(struct zk_session *s, const char *path, char **out);

/* The value of `key=` in text made of `key=value\n` lines, copied into out (empty when absent). */
void zk_field(const char *text, const char *key, char *out, size_t outsz);

#endif
