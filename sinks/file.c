/*
 * sinks/file.c — the file sink: each change rendered as one line (the configured format and
 * '\n') appended to `path`, fsynced per batch, then acknowledged.
 *
 * Two threads. append() renders into `front` on the instance's thread; write_batch() hands the
 * rendered batch to the sink's writer thread (an inbox) and returns. The writer writes the
 * batches with write(2) (O_APPEND; short writes and EINTR resumed; to a regular file in 1 MiB
 * pieces, each sent to the disk at once with sync_file_range, so the disk works while the rest is
 * copied and the fdatasync waits for little), fdatasync()s them (and fsyncs
 * the directory when the file or a rotation created a directory entry), and only then puts them
 * on the acknowledged list; poll() passes that list to the ack callback on the instance's thread,
 * with each batch's byte count. So the instance decodes the next batch while this one is copied
 * and flushed. An empty batch is acknowledged after the batches before it. An error of the
 * writer is returned once, by the next poll() or write_batch(); the failed data stays with the
 * writer, which tries again (failed batch first) when the next batch arrives.
 *
 * Invariants:
 *   - the file holds whole lines only, and whole batches. When a write or sync fails (ENOSPC,
 *     EIO, EROFS, EFBIG...) the sink returns ERR_SINK_IO (`could not write "PATH": cause`, or
 *     `could not fsync ...`), does not acknowledge, and truncates the file back to its size
 *     before the batch (best effort; when even that fails the truncation is retried before the
 *     next write, which fails rather than write after a partial line). The failed batch stays
 *     buffered: a later write_batch() (the same id again, or the next one) writes it first, so a
 *     retry neither loses nor duplicates it, and acknowledges each batch in order.
 *   - on open, a file that does not end in '\n' holds the partial last line of a process that
 *     crashed mid-write: that line is cut off (silently: there is no logger yet) so the next line
 *     starts on a line of its own. A line cut off this way was never acknowledged.
 *   - at-least-once: after a crash the file may end with batches that were fsynced but whose
 *     position the instance had not saved yet; the restarted instance writes them again. Lines
 *     after the saved position may thus appear twice; none are missing.
 *
 * Rotation (rotate_mb > 0): once a batch has brought the file to rotate_mb MiB, PATH is renamed
 * to PATH.N (N = 1 + the highest suffix present in the directory), the directory is fsynced and
 * a new PATH started. Only between batches: a batch is never split across two files. If the
 * rotation fails it is retried before the next batch, whose write_batch() then reports the
 * error. If someone else moved PATH away meanwhile (logrotate without a SIGHUP yet), the sink
 * just starts a new PATH.
 *
 * reopen() (SIGHUP, after logrotate renamed the file) closes and reopens PATH, creating it;
 * an error there is reported by the next write_batch(), which retries the open. The parent
 * directory is never created: a missing one is an error naming it.
 *
 * Other file types (a FIFO, /dev/null, a terminal) are written to but not sized, truncated,
 * fsynced or rotated; as nothing written to them can be taken back, a retry after a failed write
 * resumes at the first byte that did not go out.
 *
 * Threads: the instance's thread owns `front` and the ack callback; the writer owns the file
 * and everything below `mu` in struct file_sink except the inbox, acked list and flags, which
 * are under `mu`. reopen() waits for the writer to have reopened the file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "fsutil.h"
#include "xmalloc.h"

/* Rendered bytes waiting for the writer above which write_batch() waits: bounds the sink's
 * memory whatever the instance's budget. */
#define INBOX_MAX (8u << 20)

/* See write_piecewise. */
#define WB_PIECE (1u << 20)

/* A batch handed to write_batch() but not yet durable (only after a failure). */
struct pending {
    uint64_t id;
    size_t bytes;
};

struct file_sink {
    struct sink base;    /* first: the sink is used through it */
    struct strbuf front; /* instance thread: the batch being rendered */

    /* Shared, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t work; /* to the writer: inbox, reopen or stop */
    pthread_cond_t done; /* to the instance: acked, error, reopen done */
    pthread_t writer;
    bool writer_started;
    struct strbuf inbox; /* batches handed over, not yet taken by the writer */
    struct pending *inbox_ids;
    size_t ninbox, cap_inbox;
    struct pending *acked; /* durable, not yet passed to the ack callback */
    size_t nacked, cap_acked;
    uint64_t handed;  /* last batch id handed over */
    uint64_t settled; /* last batch id acknowledged or failed (writer done with it) */
    bool has_error;
    struct err error;
    bool reopen_req;
    bool stop;

    /* The writer's. */
    const char *path; /* borrowed from the config */
    char *dir;        /* directory of path ("." when path has no '/') */
    char *name;       /* last component of path */
    int fd;           /* -1 while closed (a reopen or rotation that failed) */
    bool regular;     /* fd is a regular file: sized, truncated, synced, rotated */
    dev_t dev;        /* identity of the open file */
    ino_t ino;
    uint64_t size;     /* bytes in the file (regular files) */
    bool dir_dirty;    /* a directory entry (creation, rename) is not yet fsynced */
    struct strbuf buf; /* rendered lines not yet written: pending batches, then the current one */
    struct pending *pend;
    size_t npend, cap_pend;
    size_t pend_bytes; /* bytes of buf that belong to pending batches */
    size_t sent; /* not a regular file: bytes of buf a failed write got out (no taking back) */
    /* A failed batch whose partial data could not be truncated away. */
    bool trunc_due;
    off_t trunc_size;
    dev_t trunc_dev;
    ino_t trunc_ino;
};

static int pread_all(int fd, char *p, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the file shrank under us */
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static int sync_dir(struct file_sink *fs, struct err *err)
{
    if (fs_fsync_dir(fs->dir) != 0)
        return err_set(err, ERR_SINK_IO, "could not fsync directory \"%s\": %s", fs->dir,
                       strerror(errno));
    fs->dir_dirty = false;
    return 0;
}

/* Cuts a partial last line (no final '\n') off the file: fs->size becomes the offset just past
 * the last '\n', or 0. */
static int repair_tail(struct file_sink *fs, struct err *err)
{
    char buf[4096];
    uint64_t pos = fs->size, keep = 0;
    bool last = true;

    while (pos > 0) {
        size_t n = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);
        pos -= n;
        if (pread_all(fs->fd, buf, n, (off_t)pos) != 0)
            return err_set(err, ERR_SINK_IO, "could not read \"%s\": %s", fs->path,
                           strerror(errno));
        if (last && buf[n - 1] == '\n')
            return 0; /* the common case: one byte read */
        last = false;
        size_t i = n;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0) {
            keep = pos + i;
            break;
        }
    }
    if (ftruncate(fs->fd, (off_t)keep) != 0 || fdatasync(fs->fd) != 0)
        return err_set(err, ERR_SINK_IO, "could not truncate the partial last line of \"%s\": %s",
                       fs->path, strerror(errno));
    fs->size = keep;
    return 0;
}

static void close_file(struct file_sink *fs)
{
    if (fs->fd >= 0)
        close(fs->fd);
    fs->fd = -1;
    fs->regular = false;
    fs->size = 0;
}

/* Opens (or creates) PATH when it is not open. On failure fs->fd stays -1. */
static int open_file(struct file_sink *fs, struct err *err)
{
    const int flags = O_RDWR | O_APPEND | O_CLOEXEC; /* read: to find a partial last line */
    struct stat st;
    int r = 0;

    if (fs->fd >= 0)
        return 0;
    fs->fd = open(fs->path, flags);
    if (fs->fd < 0 && errno == ENOENT) {
        fs->fd = open(fs->path, flags | O_CREAT, 0644);
        if (fs->fd >= 0)
            fs->dir_dirty = true; /* the new entry is durable once the directory is synced */
    }
    if (fs->fd < 0) {
        int e = errno;
        if (e == ENOENT && stat(fs->dir, &st) != 0 && errno == ENOENT)
            return err_set(err, ERR_SINK_IO,
                           "could not open \"%s\": directory \"%s\" does not exist", fs->path,
                           fs->dir);
        return err_set(err, ERR_SINK_IO, "could not open \"%s\": %s", fs->path, strerror(e));
    }
    if (fstat(fs->fd, &st) != 0) {
        r = err_set(err, ERR_SINK_IO, "could not stat \"%s\": %s", fs->path, strerror(errno));
        goto out;
    }
    fs->regular = S_ISREG(st.st_mode);
    fs->dev = st.st_dev;
    fs->ino = st.st_ino;
    fs->size = fs->regular ? (uint64_t)st.st_size : 0;
    if (fs->regular)
        r = repair_tail(fs, err);
out:
    if (r != 0)
        close_file(fs);
    return r;
}

/* The highest N of the files DIR/NAME.N, 0 when none. */
static int highest_suffix(struct file_sink *fs, unsigned long *high, struct err *err)
{
    size_t nlen = strlen(fs->name);
    DIR *d = opendir(fs->dir);
    if (d == NULL)
        return err_set(err, ERR_SINK_IO, "could not read directory \"%s\": %s", fs->dir,
                       strerror(errno));
    *high = 0;
    errno = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL; errno = 0) {
        const char *s = de->d_name;
        if (strncmp(s, fs->name, nlen) != 0 || s[nlen] != '.' || s[nlen + 1] == '\0')
            continue;
        s += nlen + 1;
        unsigned long n = 0;
        for (; *s >= '0' && *s <= '9' && n < 100000000; s++)
            n = n * 10 + (unsigned long)(*s - '0');
        if (*s == '\0' && n > *high)
            *high = n;
    }
    int e = errno;
    closedir(d);
    if (e != 0)
        return err_set(err, ERR_SINK_IO, "could not read directory \"%s\": %s", fs->dir,
                       strerror(e));
    return 0;
}

static bool rotation_due(const struct file_sink *fs)
{
    uint32_t mb = fs->base.cfg->rotate_mb;
    return fs->fd >= 0 && fs->regular && mb > 0 && fs->size >= (uint64_t)mb << 20;
}

/* Renames PATH to PATH.N, syncs the directory, opens a new PATH. */
static int rotate(struct file_sink *fs, struct err *err)
{
    struct strbuf to = {0};
    struct stat st;
    unsigned long high = 0;
    int r;

    /* Moved away already (logrotate before its SIGHUP): only start a new file. */
    if (stat(fs->path, &st) != 0 || st.st_dev != fs->dev || st.st_ino != fs->ino) {
        close_file(fs);
        r = open_file(fs, err);
        goto out;
    }
    if ((r = highest_suffix(fs, &high, err)) != 0)
        goto out;
    strbuf_printf(&to, "%s.%lu", fs->path, high + 1);
    if (rename(fs->path, to.buf) != 0) {
        r = err_set(err, ERR_SINK_IO, "could not rename \"%s\" to \"%s\": %s", fs->path, to.buf,
                    strerror(errno));
        goto out;
    }
    close_file(fs);
    fs->dir_dirty = true;
    if ((r = open_file(fs, err)) != 0)
        goto out;
    r = sync_dir(fs, err);
out:
    strbuf_free(&to);
    return r;
}

static void *writer_main(void *arg);

static struct sink *file_open(const struct sink_conf *conf, struct err *err)
{
    const char *path = conf->cfg->path;
    if (path == NULL || path[0] == '\0') {
        err_set(err, ERR_SINK, "instance \"%s\": file sink without a path",
                conf->instance ? conf->instance : "");
        return NULL;
    }
    struct file_sink *fs = xcalloc(1, sizeof(*fs));
    sink_init_common(&fs->base, &sink_file_ops, conf);
    fs->path = conf->cfg->path;
    fs->fd = -1;
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        fs->dir = xstrdup(".");
    else if (slash == path)
        fs->dir = xstrdup("/");
    else
        fs->dir = xstrndup(path, (size_t)(slash - path));
    fs->name = xstrdup(slash ? slash + 1 : path);
    pthread_mutex_init(&fs->mu, NULL);
    pthread_cond_init(&fs->work, NULL);
    pthread_cond_init(&fs->done, NULL);
    if (open_file(fs, err) != 0) {
        sink_file_ops.close(&fs->base);
        return NULL;
    }
    if (pthread_create(&fs->writer, NULL, writer_main, fs) != 0) {
        err_set(err, ERR_SINK, "instance \"%s\": could not start the file sink's thread",
                conf->instance ? conf->instance : "");
        sink_file_ops.close(&fs->base);
        return NULL;
    }
    fs->writer_started = true;
    return &fs->base;
}

static int file_append(struct sink *s, const struct change *c, struct err *err)
{
    struct file_sink *fs = (struct file_sink *)s;
    size_t mark = fs->front.len;
    struct format_ctx ctx;
    sink_format_ctx(s, &ctx);
    int r = format_render(s->cfg->format, &ctx, c, &fs->front, err);
    if (r != 0) {
        strbuf_truncate(&fs->front, mark);
        return r;
    }
    strbuf_appendc(&fs->front, '\n');
    return 0;
}

/* Records batch_id as pending with the bytes appended since the previous batch. A retry (an id
 * already pending) adds them to that batch. */
static void add_pending_bytes(struct file_sink *fs, uint64_t batch_id, size_t fresh)
{
    if (fs->npend && batch_id <= fs->pend[fs->npend - 1].id) {
        fs->pend[fs->npend - 1].bytes += fresh;
    } else {
        if (fs->npend == fs->cap_pend) {
            fs->cap_pend = fs->cap_pend ? 2 * fs->cap_pend : 4;
            fs->pend = xrealloc(fs->pend, fs->cap_pend * sizeof(*fs->pend));
        }
        fs->pend[fs->npend].id = batch_id;
        fs->pend[fs->npend].bytes = fresh;
        fs->npend++;
    }
    fs->pend_bytes += fresh;
}

/* Cuts off what an earlier failed batch left in the file, when that could not be done then. */
static int truncate_failed(struct file_sink *fs, struct err *err)
{
    if (!fs->trunc_due)
        return 0;
    /* Once the file has been moved away the damage is in a file no longer ours. */
    if (fs->regular && fs->dev == fs->trunc_dev && fs->ino == fs->trunc_ino) {
        if (ftruncate(fs->fd, fs->trunc_size) != 0)
            return err_set(err, ERR_SINK_IO, "could not truncate \"%s\": %s", fs->path,
                           strerror(errno));
        fs->size = (uint64_t)fs->trunc_size;
    }
    fs->trunc_due = false;
    return 0;
}

/* Puts the pending batches on the acknowledged list (writer thread). */
static void pass_acks(struct file_sink *fs)
{
    pthread_mutex_lock(&fs->mu);
    if (fs->nacked + fs->npend > fs->cap_acked) {
        fs->cap_acked = 2 * (fs->nacked + fs->npend) + 8;
        fs->acked = xrealloc(fs->acked, fs->cap_acked * sizeof(*fs->acked));
    }
    for (size_t i = 0; i < fs->npend; i++) {
        fs->acked[fs->nacked++] = fs->pend[i];
        fs->settled = fs->pend[i].id;
    }
    pthread_cond_broadcast(&fs->done);
    pthread_mutex_unlock(&fs->mu);
}

/* Writes buf from *done on. A regular file gets it in pieces of WB_PIECE bytes, each handed to
 * writeback (sync_file_range) as soon as it is in the page cache: the disk writes the first
 * pieces while later ones are copied, and the fdatasync after waits for less. */
static int write_piecewise(struct file_sink *fs, off_t start, size_t *done)
{
    if (!fs->regular)
        return fs_write_all(fs->fd, fs->buf.buf, fs->buf.len, done);
    while (*done < fs->buf.len) {
        size_t from = *done, n = fs->buf.len - from < WB_PIECE ? fs->buf.len - from : WB_PIECE;
        if (fs_write_all(fs->fd, fs->buf.buf, from + n, done) != 0)
            return -1;
        sync_file_range(fs->fd, start + (off_t)from, (off_t)n, SYNC_FILE_RANGE_WRITE);
    }
    return 0;
}

/* Writes and syncs the pending batches in buf (writer thread); on success they go to the
 * acknowledged list. On failure they stay, for the next attempt. */
static int write_out(struct file_sink *fs, struct err *err)
{
    struct stat st;
    off_t start = 0;
    int r;

    if ((r = open_file(fs, err)) != 0 || (r = truncate_failed(fs, err)) != 0)
        return r;
    if (rotation_due(fs) && (r = rotate(fs, err)) != 0)
        return r;
    if (fs->regular) {
        if (fstat(fs->fd, &st) != 0)
            return err_set(err, ERR_SINK_IO, "could not stat \"%s\": %s", fs->path,
                           strerror(errno));
        start = st.st_size;
    }
    if (fs->buf.len) {
        size_t done = fs->regular ? 0 : fs->sent;
        if (write_piecewise(fs, start, &done) != 0) {
            if (!fs->regular)
                fs->sent = done;
            r = err_set(err, ERR_SINK_IO, "could not write \"%s\": %s", fs->path, strerror(errno));
            goto undo;
        }
        if (fs->regular && fdatasync(fs->fd) != 0) {
            r = err_set(err, ERR_SINK_IO, "could not fsync \"%s\": %s", fs->path, strerror(errno));
            goto undo;
        }
    }
    if (fs->dir_dirty && (r = sync_dir(fs, err)) != 0)
        goto undo;

    if (fs->regular)
        fs->size = (uint64_t)start + fs->buf.len;
    /* Errors here are not this batch's (it is durable): the rotation is retried, and its
     * error reported, with the next batch. Rotating before the acknowledgement means an
     * acknowledged batch's file has its final name. */
    if (rotation_due(fs))
        rotate(fs, NULL);
    pass_acks(fs);
    fs->npend = 0;
    fs->pend_bytes = 0;
    fs->sent = 0;
    strbuf_reset(&fs->buf);
    return 0;

undo:
    /* Never leave part of a batch behind: a retry writes it whole. */
    if (fs->regular && ftruncate(fs->fd, start) != 0) {
        fs->trunc_due = true;
        fs->trunc_size = start;
        fs->trunc_dev = fs->dev;
        fs->trunc_ino = fs->ino;
    }
    return r;
}

/* The writer thread: takes handed-over batches, writes them, and reopens the file on request. */
static void *writer_main(void *arg)
{
    struct file_sink *fs = arg;
    prctl(PR_SET_NAME, "sink-file", 0, 0, 0);
    pthread_mutex_lock(&fs->mu);
    for (;;) {
        while (!fs->stop && !fs->reopen_req && fs->ninbox == 0)
            pthread_cond_wait(&fs->work, &fs->mu);
        if (fs->stop)
            break;
        if (fs->reopen_req) {
            pthread_mutex_unlock(&fs->mu);
            close_file(fs);
            /* A failure leaves fd at -1: the next write retries and reports it. */
            open_file(fs, NULL);
            pthread_mutex_lock(&fs->mu);
            fs->reopen_req = false;
            pthread_cond_broadcast(&fs->done);
            continue;
        }
        /* Take the inbox, after what a failed attempt left in buf (swapped when there is
         * nothing: no copy). */
        if (fs->buf.len == 0) {
            struct strbuf t = fs->buf;
            fs->buf = fs->inbox;
            fs->inbox = t;
        } else {
            strbuf_append(&fs->buf, fs->inbox.buf, fs->inbox.len);
        }
        for (size_t i = 0; i < fs->ninbox; i++)
            add_pending_bytes(fs, fs->inbox_ids[i].id, fs->inbox_ids[i].bytes);
        fs->ninbox = 0;
        strbuf_reset(&fs->inbox);
        pthread_cond_broadcast(&fs->done); /* room in the inbox */
        pthread_mutex_unlock(&fs->mu);
        struct err e = {0};
        int r = write_out(fs, &e);
        pthread_mutex_lock(&fs->mu);
        if (r != 0) {
            fs->has_error = true;
            fs->error = e;
            pthread_cond_broadcast(&fs->done);
        }
    }
    pthread_mutex_unlock(&fs->mu);
    return NULL;
}

/* Passes the acknowledged batches to the callback (instance thread); returns the writer's error
 * once. Waits up to timeout_ms for the writer when it has batches in hand. */
static int collect(struct file_sink *fs, int timeout_ms, struct err *err)
{
    pthread_mutex_lock(&fs->mu);
    if (timeout_ms > 0 && fs->nacked == 0 && !fs->has_error && fs->settled < fs->handed) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (fs->nacked == 0 && !fs->has_error && fs->settled < fs->handed)
            if (pthread_cond_timedwait(&fs->done, &fs->mu, &until) != 0)
                break;
    }
    struct pending batch[64];
    size_t n = fs->nacked < 64 ? fs->nacked : 64; /* the rest at the next call */
    if (n) {
        memcpy(batch, fs->acked, n * sizeof(*batch));
        memmove(fs->acked, fs->acked + n, (fs->nacked - n) * sizeof(*fs->acked));
        fs->nacked -= n;
    }
    int r = 0;
    if (fs->has_error) {
        fs->has_error = false;
        if (err)
            *err = fs->error;
        r = fs->error.code ? fs->error.code : ERR_SINK_IO;
    }
    pthread_mutex_unlock(&fs->mu);
    for (size_t i = 0; i < n; i++)
        sink_acknowledge(&fs->base, batch[i].id, batch[i].bytes);
    return r;
}

static int file_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    struct file_sink *fs = (struct file_sink *)s;
    int r = collect(fs, 0, err);
    pthread_mutex_lock(&fs->mu);
    /* Push back: the writer is behind by more than INBOX_MAX bytes. */
    while (fs->inbox.len > INBOX_MAX && !fs->has_error)
        pthread_cond_wait(&fs->done, &fs->mu);
    if (fs->ninbox == fs->cap_inbox) {
        fs->cap_inbox = fs->cap_inbox ? 2 * fs->cap_inbox : 8;
        fs->inbox_ids = xrealloc(fs->inbox_ids, fs->cap_inbox * sizeof(*fs->inbox_ids));
    }
    fs->inbox_ids[fs->ninbox].id = batch_id;
    fs->inbox_ids[fs->ninbox].bytes = fs->front.len;
    fs->ninbox++;
    if (fs->inbox.len == 0) {
        /* Hand the buffer itself over: no copy. */
        struct strbuf t = fs->inbox;
        fs->inbox = fs->front;
        fs->front = t;
    } else {
        strbuf_append(&fs->inbox, fs->front.buf, fs->front.len);
    }
    strbuf_reset(&fs->front);
    fs->handed = batch_id;
    pthread_cond_signal(&fs->work);
    pthread_mutex_unlock(&fs->mu);
    return r;
}

static int file_poll(struct sink *s, int timeout_ms, struct err *err)
{
    return collect((struct file_sink *)s, timeout_ms, err);
}

static void file_reopen(struct sink *s)
{
    struct file_sink *fs = (struct file_sink *)s;
    pthread_mutex_lock(&fs->mu);
    fs->reopen_req = true;
    pthread_cond_signal(&fs->work);
    while (fs->reopen_req && fs->writer_started)
        pthread_cond_wait(&fs->done, &fs->mu);
    pthread_mutex_unlock(&fs->mu);
}

static void file_close(struct sink *s)
{
    struct file_sink *fs = (struct file_sink *)s;
    if (fs->writer_started) {
        pthread_mutex_lock(&fs->mu);
        fs->stop = true;
        pthread_cond_signal(&fs->work);
        pthread_mutex_unlock(&fs->mu);
        pthread_join(fs->writer, NULL);
    }
    pthread_mutex_destroy(&fs->mu);
    pthread_cond_destroy(&fs->work);
    pthread_cond_destroy(&fs->done);
    strbuf_free(&fs->front);
    strbuf_free(&fs->inbox);
    free(fs->inbox_ids);
    free(fs->acked);
    close_file(fs);
    strbuf_free(&fs->buf);
    free(fs->pend);
    free(fs->dir);
    free(fs->name);
    sink_free_common(s);
    free(fs);
}

const struct sink_ops sink_file_ops = {
    .abi = SINK_ABI,
    .name = "file",
    .open = file_open,
    .append = file_append,
    .write_batch = file_write_batch,
    .poll = file_poll,
    .reopen = file_reopen,
    .close = file_close,
};
