/*
 * log.h — the daemon's log: one line per message, `2026-11-24T16:00:00.123Z LEVEL FAC [instance]
 * message`, to stderr or to the configured file.
 *
 * The file is rotated by size (log.max_mb: renamed FILE.1, the older ones shifted up to
 * FILE.KEEP, a new FILE started) and reopened on SIGHUP, for logrotate. Debug lines are written
 * when the level is debug, or for the facilities listed in log.debug whatever the level.
 *
 * The macros test the level before evaluating their arguments. Thread-safe: any thread may log;
 * lines are never interleaved. log_open / log_configure / log_set_* run on the main thread
 * before other threads start (the debug facility list is read without a lock).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* Sets the level and the output file (NULL = stderr). Returns 0, or ERR_IO with err filled
 * when the file cannot be opened for appending. Rotation and debug facilities are unchanged. */
int log_open(enum config_log_level level, const char *path, struct err *err);

/* log_open() with cfg->log's level and file, then its rotation (max_mb, keep) and debug
 * facilities. Returns 0 or ERR_IO as log_open(). cfg is borrowed. */
int log_configure(const struct config *cfg, struct err *err);

/* Rotate the file when a line would take it past max_bytes (0 = never); keep the `keep` newest
 * old files, FILE.1 (newest) to FILE.keep; keep 0 = the old file is removed. */
void log_set_rotation(uint64_t max_bytes, unsigned keep);

/* Writes debug lines of these facilities (upper-case tags, compared case-insensitively; "ALL" =
 * every one) whatever the level. n = 0 clears the list. Names are copied (at most 32, each
 * truncated to 15 characters). */
void log_set_debug(const char *const *facs, size_t n);

/* Reopens the log file (SIGHUP); with stderr, does nothing. A failure is logged to stderr and
 * logging goes on to the old file. */
void log_reopen(void);

/* Closes the log file; logging goes on to stderr. Rotation and debug facilities are cleared. */
void log_close(void);

extern enum config_log_level log_level;
/* Number of facilities given to log_set_debug(): the macro's fast path when 0. */
extern size_t log_n_debug_facs;

/* Whether fac was given to log_set_debug(). */
int log_debug_fac(const char *fac);

/* Whether a line of this level and facility would be written (for code that formats outside
 * the macros, such as library log callbacks). */
int log_enabled(enum config_log_level level, const char *fac);

/* fac: a short upper-case tag ("INST", "SINK", "BINLOG"); inst: instance name or NULL. */
void log_write(enum config_log_level level, const char *fac, const char *inst, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(fac, inst, ...)                                                                  \
    do {                                                                                           \
        if (log_level >= CONFIG_LOG_ERROR)                                                         \
            log_write(CONFIG_LOG_ERROR, fac, inst, __VA_ARGS__);                                   \
    } while (0)
#define log_warn(fac, inst, ...)                                                                   \
    do {                                                                                           \
        if (log_level >= CONFIG_LOG_WARN)                                                          \
            log_write(CONFIG_LOG_WARN, fac, inst, __VA_ARGS__);                                    \
    } while (0)
#define log_info(fac, inst, ...)                                                                   \
    do {                                                                                           \
        if (log_level >= CONFIG_LOG_INFO)                                                          \
            log_write(CONFIG_LOG_INFO, fac, inst, __VA_ARGS__);                                    \
    } while (0)
#define log_debug(fac, inst, ...)                                                                  \
    do {                                                                                           \
        if (log_level >= CONFIG_LOG_DEBUG || (log_n_debug_facs && log_debug_fac(fac)))             \
            log_write(CONFIG_LOG_DEBUG, fac, inst, __VA_ARGS__);                                   \
    } while (0)

#endif
