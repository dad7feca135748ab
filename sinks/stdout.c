/*
 * sinks/stdout.c — the stdout sink: each change rendered as one line (the configured format and
 * '\n') written to file descriptor 1. A synchronous sink: a batch is acknowledged, with its byte
 * count, as soon as write(2) has taken all of it; there is nothing to fsync (whatever reads the
 * pipe owns durability), and poll() has nothing to do.
 *
 * Batches. append() renders into a memory buffer; write_batch() first flushes stdio's stdout
 * (so text printed earlier with printf comes first), then writes the buffer with write(2),
 * resuming short writes and EINTR. A failure (EPIPE when the reader went away, EIO, ENOSPC...)
 * returns ERR_SINK_IO `could not write to standard output: cause` and acknowledges nothing.
 * Bytes already written cannot be taken back from a pipe, so the sink remembers how far it got:
 * a later write_batch() (the same id again, or the next one) resumes at that byte, so nothing
 * is written twice or lost, and acknowledges each batch in order.
 *
 * SIGPIPE: the daemon ignores it, so a closed pipe is EPIPE here, not a dead process.
 *
 * Threads: a sink belongs to its instance's thread, but every stdout sink shares fd 1: one
 * process-wide mutex makes each batch's write one uninterrupted run of whole lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stdout.h"
#include "xmalloc.h"

/* A batch handed to write_batch() but not yet written whole (only after a failure). */
struct pending {
    uint64_t id;
    size_t bytes;
};

struct stdout_sink {
    struct sink base;  /* first: the sink is used through it */
    struct strbuf buf; /* rendered lines not yet written: pending batches, then the current one */
    size_t sent;       /* bytes at the start of buf already written by a failed write_batch() */
    struct pending *pend;
    size_t npend, cap_pend;
    size_t pend_bytes; /* bytes of buf that belong to pending batches */
};

static pthread_mutex_t fd1_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sink *stdout_open(const struct sink_conf *conf, struct err *err)
{
    if (fcntl(STDOUT_FILENO, F_GETFL) < 0) {
        err_set(err, ERR_SINK_IO, "instance \"%s\": standard output is closed",
                conf->instance ? conf->instance : "");
        return NULL;
    }
    struct stdout_sink *ss = xcalloc(1, sizeof(*ss));
    sink_init_common(&ss->base, &sink_stdout_ops, conf);
    return &ss->base;
}

static int stdout_append(struct sink *s, const struct change *c, struct err *err)
{
    struct stdout_sink *ss = (struct stdout_sink *)s;
    size_t mark = ss->buf.len;
    struct format_ctx ctx;
    sink_format_ctx(s, &ctx);
    int r = format_render(s->cfg->format, &ctx, c, &ss->buf, err);
    if (r != 0) {
        strbuf_truncate(&ss->buf, mark);
        return r;
    }
    strbuf_appendc(&ss->buf, '\n');
    return 0;
}

/* Records batch_id as pending with the bytes appended since the previous batch. A retry (an id
 * already pending) adds them to that batch. */
static void add_pending(struct stdout_sink *ss, uint64_t batch_id)
{
    size_t fresh = ss->buf.len - ss->pend_bytes;
    if (ss->npend && batch_id <= ss->pend[ss->npend - 1].id) {
        ss->pend[ss->npend - 1].bytes += fresh;
    } else {
        if (ss->npend == ss->cap_pend) {
            ss->cap_pend = ss->cap_pend ? 2 * ss->cap_pend : 4;
            ss->pend = xrealloc(ss->pend, ss->cap_pend * sizeof(*ss->pend));
        }
        ss->pend[ss->npend].id = batch_id;
        ss->pend[ss->npend].bytes = fresh;
        ss->npend++;
    }
    ss->pend_bytes = ss->buf.len;
}

static int stdout_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    struct stdout_sink *ss = (struct stdout_sink *)s;
    int r = 0;

    add_pending(ss, batch_id);
    pthread_mutex_lock(&fd1_lock);
    if (fflush(stdout) != 0) {
        r = err_set(err, ERR_SINK_IO, "could not write to standard output: %s", strerror(errno));
        goto out;
    }
    while (ss->sent < ss->buf.len) {
        ssize_t n = write(STDOUT_FILENO, ss->buf.buf + ss->sent, ss->buf.len - ss->sent);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = err_set(err, ERR_SINK_IO, "could not write to standard output: %s",
                        strerror(errno));
            goto out;
        }
        ss->sent += (size_t)n;
    }
out:
    pthread_mutex_unlock(&fd1_lock);
    if (r != 0)
        return r;
    for (size_t i = 0; i < ss->npend; i++)
        sink_acknowledge(s, ss->pend[i].id, ss->pend[i].bytes);
    ss->npend = 0;
    ss->pend_bytes = 0;
    ss->sent = 0;
    strbuf_reset(&ss->buf);
    return 0;
}

static int stdout_poll(struct sink *s, int timeout_ms, struct err *err)
{
    (void)s;
    (void)timeout_ms;
    (void)err;
    return 0; /* acknowledgements all happen in write_batch() */
}

static void stdout_reopen(struct sink *s)
{
    (void)s; /* fd 1 is whatever the daemon was started with */
}

static void stdout_close(struct sink *s)
{
    struct stdout_sink *ss = (struct stdout_sink *)s;
    strbuf_free(&ss->buf);
    free(ss->pend);
    sink_free_common(s);
    free(ss);
}

const struct sink_ops sink_stdout_ops = {
    .abi = SINK_ABI,
    .name = "stdout",
    .open = stdout_open,
    .append = stdout_append,
    .write_batch = stdout_write_batch,
    .poll = stdout_poll,
    .reopen = stdout_reopen,
    .close = stdout_close,
};
