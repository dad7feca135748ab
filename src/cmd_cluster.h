/*
 * cmd_cluster.h — `sluice cluster status` and `sluice cluster push` (docs/cluster.md), and the
 * configuration kept in ZooKeeper that `sluice run --zookeeper` runs.
 */
#ifndef SLUICE_CMD_CLUSTER_H
#define SLUICE_CMD_CLUSTER_H

#include <stddef.h>

#include "config.h"
#include "err.h"

/* argv[0] is "cluster". Returns the exit status: 0 done, 1 failure, 2 bad usage. */
int cmd_cluster(int argc, char **argv);

/* Loads the configuration pushed to {root}/{cluster}/config on servers. Returns it, or NULL
 * with err filled (none pushed, ZooKeeper unreachable, or the text does not validate). */
struct config *
cluster_config_load(const char *servers, const char *root, const char *cluster, struct err *err);

#endif
