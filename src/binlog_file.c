/*
 * binlog_file.c — buffered event reader for binlog files.
 *
 * Invariant: buf[start, fill) holds bytes of the file from offset `base + start` on; an event is
 * returned only when all of its bytes are in the buffer. Reading goes through zlib's gzread,
 * which reads plain files as they are and gunzips gzip'd ones (test fixtures ship some).
 *
 * Mapped mode (binlog_file_open_mapped, plain regular files): buf is the whole file mapped
 * read-only (base 0, fill = the size at open, eof set), so events are never copied and stay
 * valid until close; binlog_file_release drops the pages behind the reader from its resident
 * set, keeping memory flat. A file that shrinks under the mapping would raise SIGBUS on access:
 * its users catch that signal (sluice decode names the file and exits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "binlog_event.h"
#include "binlog_file.h"
#include "xmalloc.h"

#define READ_CHUNK (1u << 20)
#define MAX_EVENT  (1u << 30) /* 1 GiB, max_allowed_packet's ceiling */

struct binlog_file {
    gzFile gz;
    char *path;
    const char *name;
    uint8_t *buf;
    size_t cap, start, fill;
    uint64_t base; /* file offset of buf[0] */
    bool eof;
    bool mapped;       /* buf is the file, mapped (cap = its length) */
    uint64_t released; /* mapped: pages below this offset were dropped */
};

const char *binlog_file_name(const struct binlog_file *f)
{
    return f->name;
}

void binlog_file_close(struct binlog_file *f)
{
    if (f == NULL)
        return;
    if (f->gz)
        gzclose(f->gz);
    if (f->mapped)
        munmap(f->buf, f->cap);
    else
        free(f->buf);
    free(f->path);
    free(f);
}

/* Reads more bytes so that at least `want` bytes are available from start. Returns 0, or -1
 * on a read error (err filled). At EOF, returns 0 with fewer bytes. */
static int fill_to(struct binlog_file *f, size_t want, struct err *err)
{
    while (f->fill - f->start < want && !f->eof) {
        if (f->start > 0 && f->start + want > f->cap) {
            memmove(f->buf, f->buf + f->start, f->fill - f->start);
            f->base += f->start;
            f->fill -= f->start;
            f->start = 0;
        }
        if (f->start + want > f->cap) {
            size_t cap = f->cap;
            while (cap < f->start + want)
                cap *= 2;
            f->buf = xrealloc(f->buf, cap);
            f->cap = cap;
        }
        size_t room = f->cap - f->fill;
        if (room > READ_CHUNK * 4u)
            room = READ_CHUNK * 4u;
        int n = gzread(f->gz, f->buf + f->fill, (unsigned)room);
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(f->gz, &zerr);
            err_set(err, ERR_IO, "could not read \"%s\": %s", f->path,
                    zerr == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (n == 0)
            f->eof = true;
        f->fill += (size_t)n;
    }
    return 0;
}

struct binlog_file *binlog_file_open(const char *path, struct err *err)
{
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL) {
        err_set(err, ERR_IO, "could not open \"%s\": %s", path, strerror(errno ? errno : ENOMEM));
        return NULL;
    }
    gzbuffer(gz, 256 * 1024);
    struct binlog_file *f = xcalloc(1, sizeof(*f));
    f->gz = gz;
    f->path = xstrdup(path);
    const char *slash = strrchr(f->path, '/');
    f->name = slash ? slash + 1 : f->path;
    f->cap = READ_CHUNK;
    f->buf = xmalloc(f->cap);
    if (fill_to(f, BINLOG_MAGIC_LEN, err) != 0)
        goto fail;
    if (f->fill < BINLOG_MAGIC_LEN || memcmp(f->buf, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
        err_set(err, ERR_BINLOG_MAGIC,
                "\"%s\" at offset 0: not a binlog file (bad magic: expected fe 62 69 6e)", path);
        goto fail;
    }
    f->start = BINLOG_MAGIC_LEN;
    return f;
fail:
    binlog_file_close(f);
    return NULL;
}

struct binlog_file *binlog_file_open_mapped(const char *path, struct err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t magic[BINLOG_MAGIC_LEN];
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < BINLOG_MAGIC_LEN ||
        (uint64_t)st.st_size > SIZE_MAX / 2 ||
        pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
        memcmp(magic, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
        /* Not a plain binlog (gzip'd, a pipe, empty, bad magic...): the reader says which. */
        if (fd >= 0)
            close(fd);
        return binlog_file_open(path, err);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return binlog_file_open(path, err);
    madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    struct binlog_file *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(path);
    const char *slash = strrchr(f->path, '/');
    f->name = slash ? slash + 1 : f->path;
    f->buf = map;
    f->cap = f->fill = (size_t)st.st_size;
    f->eof = f->mapped = true;
    f->start = BINLOG_MAGIC_LEN;
    return f;
}

bool binlog_file_mapped(const struct binlog_file *f)
{
    return f->mapped;
}

void binlog_file_release(struct binlog_file *f, uint64_t below)
{
    static size_t page;
    if (!f->mapped)
        return;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t end = below < f->cap ? below : f->cap;
    end -= end % page;
    if (end > f->released) {
        madvise(f->buf + f->released, (size_t)(end - f->released), MADV_DONTNEED);
        f->released = end;
    }
}

int binlog_file_seek(struct binlog_file *f, uint64_t offset, struct err *err)
{
    if (offset < BINLOG_MAGIC_LEN)
        return err_set(err, ERR_USAGE, "position %llu is before the first event (4)",
                       (unsigned long long)offset);
    if (offset >= f->base && offset <= f->base + f->fill) {
        f->start = (size_t)(offset - f->base);
        return 0;
    }
    if (f->mapped) { /* past the end: nothing more to read */
        f->start = f->fill;
        return 0;
    }
    if (gzseek(f->gz, (z_off_t)offset, SEEK_SET) < 0)
        return err_set(err, ERR_IO, "could not seek \"%s\" to %llu", f->path,
                       (unsigned long long)offset);
    f->base = offset;
    f->start = f->fill = 0;
    f->eof = false;
    return 0;
}

int binlog_file_next(
    struct binlog_file *f, const uint8_t **ev, size_t *len, uint64_t *offset, struct err *err)
{
    if (fill_to(f, BINLOG_HEADER_LEN, err) != 0)
        return ERR_IO;
    size_t avail = f->fill - f->start;
    uint64_t off = f->base + f->start;
    if (avail == 0)
        return 0;
    if (avail < BINLOG_HEADER_LEN)
        return err_set(err, ERR_BINLOG_TRUNCATED,
                       "\"%s\" at offset %llu: truncated event header (%zu of 19 bytes, file ends)",
                       f->path, (unsigned long long)off, avail);
    uint32_t elen = le32(f->buf + f->start + 9);
    if (elen < BINLOG_HEADER_LEN || elen > MAX_EVENT)
        return err_set(err, ERR_BINLOG_LENGTH,
                       "\"%s\" at offset %llu: event length %u is impossible (type %u)", f->path,
                       (unsigned long long)off, elen, f->buf[f->start + 4]);
    if (fill_to(f, elen, err) != 0)
        return ERR_IO;
    avail = f->fill - f->start;
    if (avail < elen)
        return err_set(err, ERR_BINLOG_TRUNCATED,
                       "\"%s\" at offset %llu: truncated event (type %u, length %u runs past the "
                       "end of the file, %zu bytes left)",
                       f->path, (unsigned long long)off, f->buf[f->start + 4], elen, avail);
    *ev = f->buf + f->start;
    *len = elen;
    *offset = off;
    f->start += elen;
    return 1;
}
