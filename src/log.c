/*
 * log.c — the daemon's log (see log.h).
 *
 * One mutex serialises writers, rotation and the SIGHUP reopen; each line is formatted into a
 * local buffer first and written with one fwrite + fflush, so a crash loses at most the line
 * being written. Time stamps are UTC with milliseconds.
 *
 * Rotation is by size, checked before each line under the mutex: when the line would take the
 * file past max_bytes (and the file is not empty, so one huge line cannot loop), FILE.keep is
 * dropped, FILE.k renamed FILE.k+1, FILE renamed FILE.1 and a new FILE opened. A failed rename
 * or open is reported on stderr and the line goes to the old stream: the log never stops.
 * The size is taken from the file at open and reopen (another process may have appended, or
 * logrotate moved it away), then counted.
 *
 * Debug facilities are a small array set at start-up and only read afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

enum config_log_level log_level = CONFIG_LOG_INFO;
size_t log_n_debug_facs;

#define MAX_DEBUG_FACS 32

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;   /* NULL = stderr */
static char *log_path; /* NULL = stderr */
static uint64_t log_size;
static uint64_t log_max_bytes; /* 0 = no rotation */
static unsigned log_keep;
static char debug_facs[MAX_DEBUG_FACS][16];

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

/* The size of an open file, 0 when unknown. */
static uint64_t file_size(FILE *fp)
{
    struct stat st;
    if (fp == NULL || fstat(fileno(fp), &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

int log_open(enum config_log_level level, const char *path, struct err *err)
{
    FILE *fp = NULL;
    if (path) {
        fp = fopen(path, "a");
        if (fp == NULL)
            return err_set(err, ERR_IO, "could not open log file \"%s\": %s", path,
                           strerror(errno));
    }
    pthread_mutex_lock(&log_mu);
    if (log_fp)
        fclose(log_fp);
    free(log_path);
    log_fp = fp;
    log_path = path ? xstrdup(path) : NULL;
    log_size = file_size(fp);
    log_level = level;
    pthread_mutex_unlock(&log_mu);
    return 0;
}

int log_configure(const struct config *cfg, struct err *err)
{
    int rc = log_open(cfg->log.level, cfg->log.file, err);
    if (rc)
        return rc;
    log_set_rotation((uint64_t)cfg->log.max_mb << 20, cfg->log.keep);
    const char *facs[MAX_DEBUG_FACS];
    size_t n = 0;
    for (unsigned bit = 0; n < MAX_DEBUG_FACS; bit++) {
        const char *name = config_log_facility_name(bit);
        if (name == NULL)
            break;
        if (cfg->log.debug & (1u << bit))
            facs[n++] = name;
    }
    log_set_debug(facs, n);
    return 0;
}

void log_set_rotation(uint64_t max_bytes, unsigned keep)
{
    pthread_mutex_lock(&log_mu);
    log_max_bytes = max_bytes;
    log_keep = keep;
    pthread_mutex_unlock(&log_mu);
}

void log_set_debug(const char *const *facs, size_t n)
{
    if (n > MAX_DEBUG_FACS)
        n = MAX_DEBUG_FACS;
    for (size_t i = 0; i < n; i++)
        snprintf(debug_facs[i], sizeof(debug_facs[i]), "%s", facs[i]);
    log_n_debug_facs = n;
}

int log_debug_fac(const char *fac)
{
    for (size_t i = 0; i < log_n_debug_facs; i++)
        if (strcasecmp(debug_facs[i], fac) == 0 || strcasecmp(debug_facs[i], "all") == 0)
            return 1;
    return 0;
}

int log_enabled(enum config_log_level level, const char *fac)
{
    return log_level >= level || (level == CONFIG_LOG_DEBUG && log_debug_fac(fac));
}

/* Opens log_path anew (append), replacing log_fp; on failure says so on stderr and keeps the
 * old stream. Called with log_mu held. */
static void reopen_locked(const char *why)
{
    FILE *fp = fopen(log_path, "a");
    if (fp == NULL) {
        fprintf(stderr, "sluice: could not %s log file \"%s\": %s\n", why, log_path,
                strerror(errno));
        return;
    }
    if (log_fp)
        fclose(log_fp);
    log_fp = fp;
    log_size = file_size(fp);
}

/* Shifts FILE.k to FILE.k+1 (FILE.keep is overwritten), FILE to FILE.1, and opens a new FILE.
 * Called with log_mu held. */
static void rotate_locked(void)
{
    size_t plen = strlen(log_path) + 16;
    char *from = xmalloc(plen), *to = xmalloc(plen);
    if (log_keep == 0) {
        if (remove(log_path) != 0 && errno != ENOENT)
            fprintf(stderr, "sluice: could not remove log file \"%s\": %s\n", log_path,
                    strerror(errno));
    }
    for (unsigned k = log_keep; k >= 1; k--) {
        if (k == 1)
            snprintf(from, plen, "%s", log_path);
        else
            snprintf(from, plen, "%s.%u", log_path, k - 1);
        snprintf(to, plen, "%s.%u", log_path, k);
        if (rename(from, to) != 0 && errno != ENOENT)
            fprintf(stderr, "sluice: could not rename \"%s\" to \"%s\": %s\n", from, to,
                    strerror(errno));
    }
    free(from);
    free(to);
    reopen_locked("open rotated");
    /* When the old file could not be moved, do not try again at every line. */
    if (log_size >= log_max_bytes)
        log_size = 0;
}

void log_reopen(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_path)
        reopen_locked("reopen");
    pthread_mutex_unlock(&log_mu);
}

void log_close(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_fp)
        fclose(log_fp);
    log_fp = NULL;
    free(log_path);
    log_path = NULL;
    log_size = 0;
    log_max_bytes = 0;
    log_keep = 0;
    log_n_debug_facs = 0;
    pthread_mutex_unlock(&log_mu);
}

void log_write(enum config_log_level level, const char *fac, const char *inst, const char *fmt, ...)
{
    char line[2048];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000, level_names[level], fac);
    if (inst)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", inst);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    pthread_mutex_lock(&log_mu);
    if (log_fp && log_max_bytes && log_size > 0 && log_size + len > log_max_bytes)
        rotate_locked();
    FILE *fp = log_fp ? log_fp : stderr;
    fwrite(line, 1, len, fp);
    fflush(fp);
    log_size += len;
    pthread_mutex_unlock(&log_mu);
}
