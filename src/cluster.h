/*
 * cluster.h — cluster mode for one instance: the election of its owner among the daemons that
 * share a ZooKeeper position store, and the fencing of an owner that lost its session
 * (docs/cluster.md). Uses the session of the instance's ZooKeeper store (meta/zk.h).
 *
 * Threads: every function runs on the instance's thread, except cluster_fenced(), which any
 * thread may call. While owner a small thread of its own renews the lease (see cluster.c).
 */
#ifndef SLUICE_CLUSTER_H
#define SLUICE_CLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pos_store.h"

struct cluster;
struct members;

/* A cluster member for the instance whose ZooKeeper store is st (borrowed: st must outlive
 * the cluster; close the store first, then cluster_free). members (borrowed, may be NULL: no
 * fair shares) is this daemon's membership in the cluster (members.h). node, admin and server
 * (this daemon's name, admin address and client protocol address, NULL when none: written
 * into the election node) are copied. */
struct cluster *cluster_new(struct pos_store *st,
                            struct members *members,
                            const char *node,
                            const char *admin,
                            const char *server);

/* Frees cl (after cluster_release); NULL is a no-op. Does not touch ZooKeeper. */
void cluster_free(struct cluster *cl);

/* Joins the election and blocks until this daemon owns the instance (0), or *stop is set (1).
 * Renews an expired session on the way (retrying, with the error logged once). On success the
 * store is in owner mode (pos_store_zk_set_owner) and the lease thread runs. Returns a negative
 * code with err filled only on errors that retrying cannot cure. */
int cluster_acquire(struct cluster *cl, atomic_bool *stop, struct err *err);

/* True when the owner must stop writing at once: the session expired, the owner's node is
 * gone, or no answer from ZooKeeper confirmed the session for 2/3 of its timeout (the server
 * expires it after the whole timeout, so the owner stops before a standby can start). False
 * when not owner. Cheap (atomics and a clock read). */
bool cluster_fenced(struct cluster *cl);

/* Why cluster_fenced() said so, for the log; borrowed, valid until the next call. */
const char *cluster_fence_reason(struct cluster *cl);

/* Gives up ownership or candidacy: stops the lease thread, leaves owner mode, deletes this
 * daemon's election node when the session still works. */
void cluster_release(struct cluster *cl);

/* Owner only: whether to hand the instance over to a candidate waiting behind, a daemon below
 * its fair share while this one is above its own (members_hand_over). When true the instance
 * counts as given already: the caller drains, saves its positions and calls cluster_release,
 * then stands again. to (tosz) names the daemon, for the log. A few ZooKeeper reads: call it
 * every few seconds, not per event. */
bool cluster_hand_over(struct cluster *cl, char *to, size_t tosz);

/* Who owns (or is first in line for) the instance whose ZooKeeper store is st: 1 with the
 * daemon's node name and admin address copied out, 0 when no daemon stands for it, -1 when
 * ZooKeeper could not tell. For `sluice position`. */
int cluster_owner(struct pos_store *st, char *node, size_t nodesz, char *admin, size_t adminsz);

/* The epoch of the current ownership (the election node's sequence number + 1), 0 when not owner.
 */
uint64_t cluster_epoch(const struct cluster *cl);

#endif
