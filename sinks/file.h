/*
 * sinks/file.h — the file sink: JSON lines appended to one file, fsynced per batch, rotated by
 * size, reopened on SIGHUP (behaviour and crash safety in sinks/file.c). Config:
 * `sinks: [{type: file, path: PATH, rotate_mb: N, format: json}]`.
 */
#ifndef SLUICE_SINKS_FILE_H
#define SLUICE_SINKS_FILE_H

#include "sink.h"

/* The ops table, registered in src/sink.c under "file". */
extern const struct sink_ops sink_file_ops;

#endif
