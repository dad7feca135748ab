/*
 * sinks/stdout.h — the stdout sink: JSON lines written to file descriptor 1, acknowledged once
 * written (details in sinks/stdout.c). Config: `sinks: [{type: stdout, format: json}]`.
 */
#ifndef SLUICE_SINKS_STDOUT_H
#define SLUICE_SINKS_STDOUT_H

#include "sink.h"

/* The ops table, registered in src/sink.c under "stdout". */
extern const struct sink_ops sink_stdout_ops;

#endif
