/*
 * members.h — the daemons of a cluster, and this daemon's fair share of its instances
 * (docs/cluster.md, "Spreading").
 *
 * Each daemon registers itself as an EPHEMERAL node `{root}/{cluster}/daemons/{node}` holding
 * its admin address, weight, pid, version, the checksum of the configuration it runs, and the
 * instances it owns. A daemon's share of the N instances it is configured with is
 * ceil(N * weight / sum of the weights of the live daemons). The election (cluster.c) asks
 * here whether to defer a won election, or hand an owned instance over, to a daemon below its
 * share; the answers are serialised per cluster so that a daemon never gives away more than
 * it owns over its share.
 *
 * One members object per (servers, root, cluster) in the process, shared by the instances
 * that use it (reference counted); a thread of its own keeps the registration and the view of
 * the other daemons (refreshed on a watch, and every second).
 *
 * Threads: every function may be called from any instance thread.
 */
#ifndef SLUICE_MEMBERS_H
#define SLUICE_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

struct members;

/* The members object of ic's cluster (ic uses the ZooKeeper store), created and started at
 * the first call. Never fails: ZooKeeper trouble is retried on its thread. */
struct members *members_join(const struct config *cfg, const struct config_instance *ic);

/* Drops a reference; the last one stops the thread and removes the registration. */
void members_leave(struct members *m);

/* Whether this daemon, which just won instance's election, should let the next candidate in
 * line have it: it owns its share already and one of others (node names of the candidates
 * behind it, n of them) is a live daemon below its share. Returns the name of that daemon
 * (copied into to, tosz) and true, or false. Rate limited per cluster: deferring does not
 * repeat within a few seconds, so differing views cannot bounce an instance for ever. */
bool members_defer(struct members *m,
                   const char *instance,
                   const char *const *others,
                   size_t n,
                   char *to,
                   size_t tosz);

/* Records that this daemon now owns instance / no longer does. */
void members_took(struct members *m, const char *instance);
void members_gave(struct members *m, const char *instance);

/* Whether this daemon owns more than its share and should hand instance (which it owns) over
 * to one of others (the candidates waiting behind it), a live daemon below its share. True
 * only for as many instances as the excess: the instance is then counted as given already. */
bool members_hand_over(struct members *m,
                       const char *instance,
                       const char *const *others,
                       size_t n,
                       char *to,
                       size_t tosz);

#endif
