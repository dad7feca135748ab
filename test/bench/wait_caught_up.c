/*
 * wait_caught_up.c — the benchmark's stopwatch for `sluice run` (scripts/bench-live.sh): polls
 * the daemon's admin endpoint every 10 ms, in this one process, until its first instance has
 * consumed up to FILE:POS (or read ROWS row changes), then prints
 * "STATE FILE OFFSET ROWS INFLIGHT_MAX" and exits 0.
 *
 *   wait_caught_up ADDR PID TIMEOUT_S consumed FILE POS
 *   wait_caught_up ADDR PID TIMEOUT_S rows N
 *
 * Exit 1 when the daemon (PID) exits or its instance goes `failed` or `stopped`, 2 after
 * TIMEOUT_S seconds; the last status line is printed either way. It replaces a shell loop that
 * started `sluice status` 20 times a second: each start costs about 8 ms of CPU, which the
 * daemon being measured had to share.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "clock.h"
#include "strbuf.h"

struct st {
    char state[32], file[256];
    unsigned long long offset, rows, inflight;
};

/* Copies the string value after `key` into out; returns the text after it, or NULL. */
static const char *str_after(const char *s, const char *key, char *out, size_t n)
{
    const char *p = strstr(s, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    size_t i = 0;
    while (p[i] && p[i] != '"' && i + 1 < n) {
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
    return p + i;
}

static const char *num_after(const char *s, const char *key, unsigned long long *v)
{
    const char *p = strstr(s, key);
    if (p == NULL)
        return NULL;
    char *end;
    *v = strtoull(p + strlen(key), &end, 10);
    return end;
}

/* Reads the first instance of a /status answer. */
static int parse(const char *body, struct st *st)
{
    const char *p = str_after(body, "\"state\":\"", st->state, sizeof(st->state));
    if (p == NULL || (p = strstr(p, "\"consumed\":{")) == NULL)
        return -1;
    if ((p = str_after(p, "\"file\":\"", st->file, sizeof(st->file))) == NULL ||
        (p = num_after(p, "\"offset\":", &st->offset)) == NULL ||
        (p = num_after(p, "\"rows\":", &st->rows)) == NULL ||
        num_after(p, "\"bytes_in_flight\":", &st->inflight) == NULL)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7 || (strcmp(argv[4], "consumed") != 0 && strcmp(argv[4], "rows") != 0)) {
        fprintf(stderr, "usage: wait_caught_up ADDR PID TIMEOUT_S consumed FILE POS\n"
                        "       wait_caught_up ADDR PID TIMEOUT_S rows N\n");
        return 2;
    }
    const char *addr = argv[1];
    pid_t pid = (pid_t)atol(argv[2]);
    uint64_t end = clock_mono_ms() + 1000ull * strtoull(argv[3], NULL, 10);
    bool by_rows = strcmp(argv[4], "rows") == 0;
    const char *file = argv[5];
    unsigned long long want = strtoull(argv[by_rows ? 5 : 6], NULL, 10);
    struct st st = {"", "", 0, 0, 0};
    unsigned long long inflight_max = 0;
    bool seen = false;
    int rc;
    for (;;) {
        struct strbuf body = {0};
        struct err err = {0};
        int code = 0;
        if (admin_get(addr, "/status", &code, &body, &err) == 0 && code == 200 && body.buf &&
            parse(body.buf, &st) == 0) {
            seen = true;
            if (st.inflight > inflight_max)
                inflight_max = st.inflight;
        }
        strbuf_free(&body);
        if (seen && (by_rows ? st.rows >= want : strcmp(st.file, file) == 0 && st.offset >= want)) {
            rc = 0;
            break;
        }
        if (seen && (strcmp(st.state, "failed") == 0 || strcmp(st.state, "stopped") == 0)) {
            rc = 1;
            break;
        }
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            rc = 1;
            break;
        }
        if (clock_mono_ms() >= end) {
            rc = 2;
            break;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("%s %s %llu %llu %llu\n", seen ? st.state : "none", st.file[0] ? st.file : "-",
           st.offset, st.rows, inflight_max);
    return rc;
}
