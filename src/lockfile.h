/*
 * lockfile.h — one process at a time per instance: an flock(2)-held lock file whose content is
 * the holder's pid. The daemon holds DATA_DIR/INSTANCE/lock while the instance runs; `sluice
 * position reset` takes the same lock, so it cannot change positions under a running daemon.
 * The kernel drops the lock when the holder dies (kill -9 included): no stale locks.
 */
#ifndef SLUICE_LOCKFILE_H
#define SLUICE_LOCKFILE_H

#include "err.h"

/* Creates the directories of path as needed, opens path and takes an exclusive non-blocking
 * flock on it, then writes our pid into it. Returns the open fd (>= 0; caller releases with
 * lockfile_release), or a negative code with err filled: ERR_POS_LOCKED naming the pid that
 * holds it, ERR_IO when the file cannot be created. */
int lockfile_acquire(const char *path, struct err *err);

/* Releases the lock (closes fd); -1 is a no-op. The file stays. */
void lockfile_release(int fd);

#endif
