/*
 * server.h — the client protocol server (docs/protocol.md): one listening socket
 * (`server.listen`), one thread, poll()-based; instances are addressed by name and served from
 * their hubs (sinks/hub.h), which the daemon creates before it starts the server.
 */
#ifndef SLUICE_SERVER_H
#define SLUICE_SERVER_H

#include "config.h"
#include "err.h"

struct server;

/* Reads the users' passwords (password_file), loads server.tls (when set: every connection is
 * then TLS 1.2 or later), listens on cfg->server.listen (port 0 = any free port) and starts the
 * serving thread. Returns the server (caller frees with server_stop), or NULL with err filled
 * (ERR_CONFIG: bad address, unreadable password file, or a TLS certificate or key that cannot
 * be read, is not PEM or does not match, the message naming the file; ERR_IO: cannot listen).
 * cfg is borrowed and must outlive the server. */
struct server *server_start(const struct config *cfg, struct err *err);

/* Loads and checks server.tls as server_start() does (certificate chain and key readable, PEM,
 * matching), for `sluice check-config`. Returns 0 (also without server.tls) or ERR_CONFIG with
 * err filled. */
int server_tls_check(const struct config *cfg, struct err *err);

/* The port actually listened on. */
int server_port(const struct server *s);

/* Sends every connection a SHUTTING_DOWN error, closes them, stops the thread and frees s;
 * NULL is a no-op. */
void server_stop(struct server *s);

#endif
