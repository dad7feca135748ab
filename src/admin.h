/*
 * admin.h — the daemon's local HTTP admin endpoint (`admin.listen`, 127.0.0.1:11112 by
 * default), which `sluice status` reads.
 *
 *   GET /status   200, {"pid":N,"started":T,"instances":[<instance_status_json>...]}
 *   GET /status.txt  200, the same as text for people (what `sluice status` prints)
 *   GET /health   200 when every instance is streaming, else 503; JSON body
 *                 {"instances":[{"name","state","why","lag_seconds"}...],"healthy":B}
 *   GET /metrics  200, Prometheus text exposition (metrics.h; docs/operations.md)
 *
 * One thread serves requests one at a time (they are small, and only operators and probes
 * ask). HTTP/1.0 semantics: one request per connection, the connection closed after the
 * answer. A request that is not complete within 2 s is dropped.
 */
#ifndef SLUICE_ADMIN_H
#define SLUICE_ADMIN_H

#include <stddef.h>

#include "err.h"
#include "instance.h"
#include "strbuf.h"

struct admin;

/* Listens on listen ("HOST:PORT", port 0 = any free port) and starts the serving thread.
 * instances is borrowed (the array and the instances outlive the admin). Returns NULL with
 * err filled (ERR_CONFIG for a bad address, ERR_IO when the port is taken: the message says
 * which). */
struct admin *
admin_start(const char *listen, struct instance **instances, size_t n, struct err *err);

/* The port actually listened on. */
int admin_port(const struct admin *a);

/* Stops the thread and closes the socket; NULL is a no-op. */
void admin_stop(struct admin *a);

/* Splits "HOST:PORT" into host (at most hostsz bytes) and port. Returns 0 or ERR_CONFIG. */
int admin_parse_addr(const char *addr, char *host, size_t hostsz, int *port, struct err *err);

/* The client side (`sluice status`): GETs path from the admin endpoint at addr ("HOST:PORT");
 * waits at most 5 s for the answer. Returns 0 with *code the HTTP status and the body appended
 * to body, or ERR_CONFIG (bad address) / ERR_IO with err filled (nobody answers: the message
 * says how to point at the daemon). */
int admin_get(const char *addr, const char *path, int *code, struct strbuf *body, struct err *err);

#endif
