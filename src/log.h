/*
 * log.h — the daemon's log: one line per message, `2026-11-24T16:00:00.123Z LEVEL FAC [instance]
 * message`, to stderr or to the configured file (reopened on SIGHUP, for logrotate).
 *
 * The macros test the level before evaluating their arguments. Thread-safe: any thread may log;
 * lines are never interleaved.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include "config.h"
#include "err.h"

/* Sets the level and the output file (NULL = stderr). Returns 0, or ERR_IO with err filled
 * when the file cannot be opened for appending. */
int log_open(enum config_log_level level, const char *path, struct err *err);

/* Reopens the log file (SIGHUP); with stderr, does nothing. A failure is logged to stderr and
 * logging goes on to the old file. */
void log_reopen(void);

/* Closes the log file. */
void log_close(void);

extern enum config_log_level log_level;

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
        if (log_level >= CONFIG_LOG_DEBUG)                                                         \
            log_write(CONFIG_LOG_DEBUG, fac, inst, __VA_ARGS__);                                   \
    } while (0)

#endif
