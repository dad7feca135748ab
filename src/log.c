/*
 * log.c — the daemon's log (see log.h).
 *
 * One mutex serialises writers and the SIGHUP reopen; each line is formatted into a local
 * buffer first and written with one fwrite + fflush, so a crash loses at most the line being
 * written. Time stamps are UTC with milliseconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

enum config_log_level log_level = CONFIG_LOG_INFO;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;   /* NULL = stderr */
static char *log_path; /* NULL = stderr */

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

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
    log_level = level;
    pthread_mutex_unlock(&log_mu);
    return 0;
}

void log_reopen(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_path) {
        FILE *fp = fopen(log_path, "a");
        if (fp == NULL) {
            fprintf(stderr, "sluice: could not reopen log file \"%s\": %s\n", log_path,
                    strerror(errno));
        } else {
            fclose(log_fp);
            log_fp = fp;
        }
    }
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
    FILE *fp = log_fp ? log_fp : stderr;
    fwrite(line, 1, len, fp);
    fflush(fp);
    pthread_mutex_unlock(&log_mu);
}
