/*
 * metrics.h — the Prometheus text exposition of the daemon's instances (GET /metrics on the
 * admin endpoint), and the purge-horizon probe the instances run to fill one of them.
 *
 * Every name, type and label is listed in docs/operations.md.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "binlog_conn.h"
#include "err.h"
#include "instance.h"
#include "strbuf.h"

/* Appends the exposition (text format 0.0.4) for the n instances (borrowed) to out: process
 * metrics (sluice_up, sluice_build_info, sluice_start_time_seconds) and each instance's. */
void metrics_render(struct instance **instances, size_t n, time_t started, struct strbuf *out);

/* Appends /health's JSON body for the n instances to out; returns true when every instance is
 * streaming (stalled, reconnecting, starting, failed and stopped are all unhealthy; so is a
 * daemon without instances). */
bool metrics_health(struct instance **instances, size_t n, struct strbuf *out);

/* The purge-horizon probe of one instance: a side SQL connection (kept between measures,
 * reopened after an error) and a cache of binlog files' creation times. Runs on the instance's
 * thread only. */
struct metrics_probe;

/* A probe for the instance named name (borrowed for the probe's life: it makes the replica
 * server_id of the short dump that reads a file's creation time). Caller frees with
 * metrics_probe_free(). */
struct metrics_probe *metrics_probe_new(const char *name);

/* Closes the connection and frees p; NULL is a no-op. */
void metrics_probe_free(struct metrics_probe *p);

/* Measures how much binlog the server at o still holds before file (the binlog file of the
 * consumed position) would be purged:
 *   *files    the number of binlog files SHOW BINARY LOGS lists before file (purging removes
 *             the oldest first), -1 when file is no longer listed;
 *   *seconds  when the server expires binlogs (binlog_expire_logs_seconds, or expire_logs_days):
 *             that expiry minus the age of file, never below 0; the age is now minus the
 *             creation time of the file after it (when file was last written: what the expiry
 *             compares), 0 when file is the newest; -1 when no expiry is set.
 * The creation time is the timestamp of the next file's FORMAT_DESCRIPTION event, read once
 * per file on a short non-blocking dump (REPLICATION SLAVE, which the instance has). Returns 0
 * or a negative code with err filled (the values are then untouched). */
int metrics_probe_horizon(struct metrics_probe *p,
                          const struct binlog_conn_opts *o,
                          const char *file,
                          int64_t *files,
                          int64_t *seconds,
                          struct err *err);

#endif
