/*
 * fsutil.h — small file-system helpers the durable writers share (position files, the schema
 * history, the file sink, lock files): whole writes, directory creation, directory fsync.
 */
#ifndef SLUICE_FSUTIL_H
#define SLUICE_FSUTIL_H

#include <stddef.h>

#include "err.h"

/* Writes p[*done..len) to fd, resuming short writes and EINTR; *done is how far it got, also on
 * failure (done NULL: from 0, progress not reported). Returns 0, or -1 with errno set. */
int fs_write_all(int fd, const void *p, size_t len, size_t *done);

/* Creates dir and its missing parents (mode 0755). Returns 0, or ERR_IO with err filled (when
 * err is non-NULL) and errno set. */
int fs_mkdirs(const char *dir, struct err *err);

/* fsyncs the directory dir (so that a created or renamed entry in it is durable). Returns 0, or
 * -1 with errno set. */
int fs_fsync_dir(const char *dir);

#endif
