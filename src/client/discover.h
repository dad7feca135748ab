/*
 * discover.h — libsluice internal: the client protocol address of the daemon that owns an
 * instance, from ZooKeeper (discover.c).
 */
#ifndef SLUICE_CLIENT_DISCOVER_H
#define SLUICE_CLIENT_DISCOVER_H

#include <stddef.h>

/* Looks up the owner of instance under zk_path ("{root}/{cluster}", e.g. "/sluice/prod") on
 * zk_servers, waiting up to timeout_ms for one that has a client protocol address. Returns 1
 * with host (hostsz) and *port filled; 0 when there was none in time, -1 when ZooKeeper could not
 * be read; why (whysz) then says what was seen. */
int sluice_discover(const char *zk_servers,
                    const char *zk_path,
                    const char *instance,
                    int timeout_ms,
                    char *host,
                    size_t hostsz,
                    int *port,
                    char *why,
                    size_t whysz);

#endif
