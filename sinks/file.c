/*
 * sinks/file.c — the file sink: each change rendered as one line (the configured format and
 * '\n') appended to `path`, fsynced per batch, then acknowledged (by poll(): see Syncing).
 *
 * Batches. append() renders into a memory buffer; write_batch() writes the whole buffer with
 * write(2) (O_APPEND; short writes and EINTR resumed) and fsyncs the directory when the file or
 * a rotation created a directory entry; the syncer thread then fdatasync()s it, and only then is
 * the batch acknowledged, with its byte count. A non-regular file (a FIFO, /dev/null) is
 * acknowledged by write_batch() itself.
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
 * Syncing. write(2) happens in write_batch(), on the instance's thread; the fdatasync that
 * makes a batch durable runs on the sink's own syncer thread, so the instance decodes the next
 * batch while the disk flushes this one. One fdatasync covers every batch written before it.
 * poll() hands the batches synced so far to the ack callback, on the instance's thread. Before a
 * rotation, a reopen or close, the syncer is drained (the file descriptor changes only while
 * nothing is being synced). A failed fdatasync is reported by the next poll() or write_batch()
 * as ERR_SINK_IO; the batches after it are never acknowledged.
 *
 * Threads: the sink belongs to its instance's thread, except for the syncer, which touches only
 * the fields under `mu` and calls fdatasync on `fd` (not changed while it syncs).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "xmalloc.h"

/* A batch handed to write_batch() but not yet durable (only after a failure). */
struct pending {
    uint64_t id;
    size_t bytes;
};

struct file_sink {
    struct sink base; /* first: the sink is used through it */
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

    /* The syncer thread (see "Syncing" above): batches written, waiting for their fdatasync. */
    pthread_t syncer;
    bool syncer_started;
    pthread_mutex_t mu;
    pthread_cond_t work;      /* to the syncer: something to sync, or stop */
    pthread_cond_t done;      /* to the instance: a sync finished */
    struct pending *unsynced; /* written, not yet acknowledged, in id order */
    size_t nunsynced, cap_unsynced;
    uint64_t synced_id; /* every batch up to this id is synced */
    bool stop;
    bool syncing;   /* the syncer is in fdatasync */
    int sync_errno; /* a failed fdatasync: every later batch stays unacknowledged */
};

/* Writes p[*done..len), resuming short writes; *done is how far it got, also on failure. */
static int write_all(int fd, const char *p, size_t len, size_t *done)
{
    while (*done < len) {
        ssize_t n = write(fd, p + *done, len - *done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        *done += (size_t)n;
    }
    return 0;
}

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
    int fd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return err_set(err, ERR_SINK_IO, "could not fsync directory \"%s\": %s", fs->dir,
                       strerror(e));
    }
    close(fd);
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

/* True when a written batch waits for its fdatasync (under mu). */
static bool sync_wanted(const struct file_sink *fs)
{
    return fs->nunsynced && fs->unsynced[fs->nunsynced - 1].id > fs->synced_id;
}

static void *syncer_main(void *arg)
{
    struct file_sink *fs = arg;
    pthread_mutex_lock(&fs->mu);
    for (;;) {
        while (!fs->stop && (!sync_wanted(fs) || fs->sync_errno))
            pthread_cond_wait(&fs->work, &fs->mu);
        if (!sync_wanted(fs) || fs->sync_errno)
            break; /* stop, nothing left */
        uint64_t upto = fs->unsynced[fs->nunsynced - 1].id;
        int fd = fs->fd;
        fs->syncing = true;
        pthread_mutex_unlock(&fs->mu);
        int r = fd >= 0 ? fdatasync(fd) : 0;
        int e = errno;
        pthread_mutex_lock(&fs->mu);
        fs->syncing = false;
        if (r != 0)
            fs->sync_errno = e;
        else
            fs->synced_id = upto;
        pthread_cond_broadcast(&fs->done);
    }
    pthread_mutex_unlock(&fs->mu);
    return NULL;
}

/* Waits until every written batch is synced (or a sync failed). */
static void drain_syncer(struct file_sink *fs)
{
    pthread_mutex_lock(&fs->mu);
    while (sync_wanted(fs) && !fs->sync_errno)
        pthread_cond_wait(&fs->done, &fs->mu);
    pthread_mutex_unlock(&fs->mu);
}

/* Acknowledges the synced batches (instance thread); waits up to timeout_ms for the others. */
static int collect_synced(struct file_sink *fs, int timeout_ms, struct err *err)
{
    pthread_mutex_lock(&fs->mu);
    if (timeout_ms > 0 && sync_wanted(fs) && !fs->sync_errno) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (sync_wanted(fs) && !fs->sync_errno)
            if (pthread_cond_timedwait(&fs->done, &fs->mu, &until) != 0)
                break;
    }
    size_t n = 0;
    struct pending done[64];
    while (n < fs->nunsynced && n < 64 && fs->unsynced[n].id <= fs->synced_id)
        n++; /* more than 64: the rest at the next call */
    if (n) {
        memcpy(done, fs->unsynced, n * sizeof(*done));
        memmove(fs->unsynced, fs->unsynced + n, (fs->nunsynced - n) * sizeof(*fs->unsynced));
        fs->nunsynced -= n;
    }
    int e = fs->sync_errno;
    pthread_mutex_unlock(&fs->mu);
    for (size_t i = 0; i < n; i++)
        sink_acknowledge(&fs->base, done[i].id, done[i].bytes);
    if (e)
        return err_set(err, ERR_SINK_IO, "could not fsync \"%s\": %s", fs->path, strerror(e));
    return 0;
}

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
    if (pthread_create(&fs->syncer, NULL, syncer_main, fs) != 0) {
        err_set(err, ERR_SINK, "instance \"%s\": could not start the file sink's thread",
                conf->instance ? conf->instance : "");
        sink_file_ops.close(&fs->base);
        return NULL;
    }
    fs->syncer_started = true;
    return &fs->base;
}

static int file_append(struct sink *s, const struct change *c, struct err *err)
{
    struct file_sink *fs = (struct file_sink *)s;
    size_t mark = fs->buf.len;
    int r = sink_format_render(s->cfg->format, s->instance, c, &fs->buf, err);
    if (r != 0) {
        strbuf_truncate(&fs->buf, mark);
        return r;
    }
    strbuf_appendc(&fs->buf, '\n');
    return 0;
}

/* Records batch_id as pending with the bytes appended since the previous batch. A retry (an id
 * already pending) adds them to that batch. */
static void add_pending(struct file_sink *fs, uint64_t batch_id)
{
    size_t fresh = fs->buf.len - fs->pend_bytes;
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
    fs->pend_bytes = fs->buf.len;
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

static int file_write_batch(struct sink *s, uint64_t batch_id, struct err *err)
{
    struct file_sink *fs = (struct file_sink *)s;
    struct stat st;
    off_t start = 0;
    int r;

    add_pending(fs, batch_id);
    if ((r = collect_synced(fs, 0, err)) != 0)
        return r;
    if ((r = open_file(fs, err)) != 0 || (r = truncate_failed(fs, err)) != 0)
        return r;
    if (rotation_due(fs)) {
        drain_syncer(fs);
        if ((r = collect_synced(fs, 0, err)) != 0 || (r = rotate(fs, err)) != 0)
            return r;
    }
    if (fs->regular) {
        if (fstat(fs->fd, &st) != 0)
            return err_set(err, ERR_SINK_IO, "could not stat \"%s\": %s", fs->path,
                           strerror(errno));
        start = st.st_size;
    }
    if (fs->buf.len) {
        size_t done = fs->regular ? 0 : fs->sent;
        if (write_all(fs->fd, fs->buf.buf, fs->buf.len, &done) != 0) {
            if (!fs->regular)
                fs->sent = done;
            r = err_set(err, ERR_SINK_IO, "could not write \"%s\": %s", fs->path, strerror(errno));
            goto undo;
        }
    }
    if (fs->dir_dirty && (r = sync_dir(fs, err)) != 0)
        goto undo;

    if (fs->regular)
        fs->size = (uint64_t)start + fs->buf.len;
    if (fs->regular) {
        /* Durable once the syncer's next fdatasync is done: acknowledged by poll(). */
        pthread_mutex_lock(&fs->mu);
        if (fs->nunsynced + fs->npend > fs->cap_unsynced) {
            fs->cap_unsynced = 2 * (fs->nunsynced + fs->npend) + 4;
            fs->unsynced = xrealloc(fs->unsynced, fs->cap_unsynced * sizeof(*fs->unsynced));
        }
        if (fs->npend)
            memcpy(fs->unsynced + fs->nunsynced, fs->pend, fs->npend * sizeof(*fs->pend));
        fs->nunsynced += fs->npend;
        pthread_cond_signal(&fs->work);
        pthread_mutex_unlock(&fs->mu);
    } else {
        for (size_t i = 0; i < fs->npend; i++)
            sink_acknowledge(s, fs->pend[i].id, fs->pend[i].bytes);
    }
    fs->npend = 0;
    fs->pend_bytes = 0;
    fs->sent = 0;
    strbuf_reset(&fs->buf);
    /* Errors here are not this batch's (it is acknowledged): the rotation is retried, and its
     * error reported, by the next write_batch(). */
    if (rotation_due(fs)) {
        drain_syncer(fs);
        rotate(fs, NULL);
    }
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

static int file_poll(struct sink *s, int timeout_ms, struct err *err)
{
    return collect_synced((struct file_sink *)s, timeout_ms, err);
}

static void file_reopen(struct sink *s)
{
    struct file_sink *fs = (struct file_sink *)s;
    drain_syncer(fs);
    close_file(fs);
    /* A failure leaves fd at -1: the next write_batch() retries and reports it. */
    open_file(fs, NULL);
}

static void file_close(struct sink *s)
{
    struct file_sink *fs = (struct file_sink *)s;
    if (fs->syncer_started) {
        pthread_mutex_lock(&fs->mu);
        fs->stop = true;
        pthread_cond_signal(&fs->work);
        pthread_mutex_unlock(&fs->mu);
        pthread_join(fs->syncer, NULL);
    }
    pthread_mutex_destroy(&fs->mu);
    pthread_cond_destroy(&fs->work);
    pthread_cond_destroy(&fs->done);
    free(fs->unsynced);
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
