/*
 * meta/file.h — the file position store: one text file per instance in a directory (format and
 * crash-safety in meta/file.c). Config: `positions: {store: file, dir: DIR}`.
 */
#ifndef SLUICE_META_FILE_H
#define SLUICE_META_FILE_H

#include "pos_store.h"

/* The ops table, registered in src/pos_store.c under "file". */
extern const struct pos_store_ops pos_store_file_ops;

typedef int (*pos_store_file_fsync_fn)(int fd);
typedef int (*pos_store_file_rename_fn)(const char *from, const char *to);

/* FOR UNIT TESTS ONLY (failure injection): replaces the fsync() and rename() the store calls;
 * NULL restores the real one. Process-wide, not thread-safe; never call it from the daemon. */
void pos_store_file_set_syscalls(pos_store_file_fsync_fn fsync_fn,
                                 pos_store_file_rename_fn rename_fn);

#endif
