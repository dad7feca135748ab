/*
 * cmd_consume.h — `sluice consume`: a client of the daemon's client protocol server (through
 * libsluice) that prints an instance's changes as json lines and acks them as it goes.
 */
#ifndef SLUICE_CMD_CONSUME_H
#define SLUICE_CMD_CONSUME_H

/* Runs the command (argv after "consume"). Returns the exit status: 0 after --count changes or
 * at SIGINT/SIGTERM, 1 on a connection, login or server error that reconnecting cannot fix, 2
 * on bad usage. */
int cmd_consume(int argc, char **argv);

#endif
