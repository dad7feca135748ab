/*
 * meta/file.c — the file position store: DIR/INSTANCE.pos, one per instance.
 *
 * Format (version 1): text, so operators can read it with cat; every line `key=value\n`:
 *
 *     sluice-positions                       magic, the first line
 *     version=1                              format version
 *     instance=demo                          must match the instance that loads it
 *     server_uuid=3e11fa47-71ca-11e1-9e33-c80aa9429562   ("" for MariaDB)
 *     server_id=1
 *     server_version=10.11.6-MariaDB-log
 *     schema_version=3
 *     parsed.file=binlog.000003              then .offset, .gtid (canonical set text), .ts
 *     consumed.file=binlog.000003            then .offset, .gtid, .ts
 *     crc32c=1a2b3c4d                        CRC-32C of every byte before this line; the last
 *
 * All keys are required, each once; unknown keys, a bad magic, version, CRC, number or GTID set,
 * and a file cut short (no final crc32c line) are ERR_POS_CORRUPT naming the file and the fault:
 * a damaged file stops the instance, it is never taken as "no position" (an operator fixes it
 * by hand, or removes it to start afresh). A missing file is POS_STORE_NONE.
 *
 * Crash safety, as PostgreSQL's SaveSlotToPath: write INSTANCE.pos.tmp, fsync it, rename it over
 * INSTANCE.pos, fsync the directory. At every moment INSTANCE.pos is the old or the new record,
 * whole. A .tmp left by a crash is ignored, and removed by load(). If fsync or rename fails the
 * .tmp is removed and the old file stays; if the directory fsync fails the new file is in place
 * but may not survive a power loss: save() reports an error either way and the caller stops.
 * fsync and rename go through pointers so unit tests can inject failures.
 *
 * Runs on the owning instance's main loop thread; no shared state except the test hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "fsutil.h"
#include "crc32c.h"
#include "strbuf.h"
#include "xmalloc.h"

#define MAGIC       "sluice-positions"
#define VERSION     1
#define MAX_FILE_SZ (64 * 1024) /* a record is well under 4 KiB unless GTID sets are huge */

static pos_store_file_fsync_fn do_fsync = fsync;
static pos_store_file_rename_fn do_rename = rename;

void pos_store_file_set_syscalls(pos_store_file_fsync_fn fsync_fn,
                                 pos_store_file_rename_fn rename_fn)
{
    do_fsync = fsync_fn ? fsync_fn : fsync;
    do_rename = rename_fn ? rename_fn : rename;
}

struct file_store {
    struct pos_store base; /* first: the store is used through it */
    char *dir;
    char *path; /* DIR/INSTANCE.pos */
    char *tmp;  /* DIR/INSTANCE.pos.tmp */
};

static struct pos_store *file_open(const struct pos_store_conf *conf, struct err *err)
{
    const char *dir = NULL;
    for (size_t i = 0; i < conf->nparams; i++) {
        if (strcmp(conf->params[i].key, "dir") == 0) {
            dir = conf->params[i].value;
        } else {
            err_set(err, ERR_CONFIG, "key \"%s\": unknown for position store \"file\"",
                    conf->params[i].key);
            return NULL;
        }
    }
    if (dir == NULL || dir[0] == '\0') {
        err_set(err, ERR_CONFIG, "key \"dir\": required for position store \"file\"");
        return NULL;
    }
    /* Create the last level (the common `dir: ./var/positions` on a first start); a missing
     * parent is an error the operator should see. */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        err_set(err, ERR_POS_STORE, "could not create directory \"%s\": %s", dir, strerror(errno));
        return NULL;
    }
    struct stat stt;
    if (stat(dir, &stt) != 0 || !S_ISDIR(stt.st_mode)) {
        err_set(err, ERR_POS_STORE, "position directory \"%s\" is not a directory", dir);
        return NULL;
    }
    struct file_store *fs = xcalloc(1, sizeof(*fs));
    fs->base.ops = &pos_store_file_ops;
    fs->base.instance = xstrdup(conf->instance);
    fs->dir = xstrdup(dir);
    struct strbuf sb = {0};
    strbuf_printf(&sb, "%s/%s.pos", dir, conf->instance);
    fs->path = xstrdup(sb.buf);
    strbuf_appends(&sb, ".tmp");
    fs->tmp = xstrdup(sb.buf);
    strbuf_free(&sb);
    return &fs->base;
}

static void file_close(struct pos_store *st)
{
    struct file_store *fs = (struct file_store *)st;
    free(fs->base.instance);
    free(fs->dir);
    free(fs->path);
    free(fs->tmp);
    free(fs);
}

/* ---- save ---- */

static int file_save(struct pos_store *st, const struct pos_store_record *rec, struct err *err)
{
    struct file_store *fs = (struct file_store *)st;
    struct strbuf sb = {0};
    int fd = -1, r = 0;
    bool tmp_made = false;

    if ((r = pos_store_record_check_text(rec, st->instance, err)) != 0)
        goto out;
    strbuf_printf(&sb, MAGIC "\nversion=%d\ninstance=%s\nserver_uuid=%s\nserver_id=%u\n", VERSION,
                  st->instance, rec->server_uuid, rec->server_id);
    strbuf_printf(&sb, "server_version=%s\nschema_version=", rec->server_version);
    strbuf_append_u64(&sb, rec->schema_version);
    strbuf_appendc(&sb, '\n');
    pos_store_put_position(&sb, "parsed", &rec->parsed);
    pos_store_put_position(&sb, "consumed", &rec->consumed);
    strbuf_printf(&sb, "crc32c=%08x\n", crc32c(0, sb.buf, sb.len));

    fd = open(fs->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = err_set(err, ERR_POS_STORE, "could not create \"%s\": %s", fs->tmp, strerror(errno));
        goto out;
    }
    tmp_made = true;
    if (fs_write_all(fd, sb.buf, sb.len, NULL) != 0) {
        r = err_set(err, ERR_POS_STORE, "could not write \"%s\": %s", fs->tmp, strerror(errno));
        goto out;
    }
    if (do_fsync(fd) != 0) {
        r = err_set(err, ERR_POS_STORE, "could not fsync \"%s\": %s", fs->tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        r = err_set(err, ERR_POS_STORE, "could not close \"%s\": %s", fs->tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (do_rename(fs->tmp, fs->path) != 0) {
        r = err_set(err, ERR_POS_STORE, "could not rename \"%s\" to \"%s\": %s", fs->tmp, fs->path,
                    strerror(errno));
        goto out;
    }
    tmp_made = false;
    /* The rename is durable only once the directory is. */
    fd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || do_fsync(fd) != 0) {
        r = err_set(err, ERR_POS_STORE, "could not fsync directory \"%s\": %s", fs->dir,
                    strerror(errno));
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(fs->tmp);
    strbuf_free(&sb);
    return r;
}

/* ---- load ---- */

static int corrupt(struct err *err, const struct file_store *fs, const char *what)
{
    return err_set(err, ERR_POS_CORRUPT, "position file \"%s\" is corrupt: %s", fs->path, what);
}

/* Reads the whole file into sb. Returns 0, POS_STORE_NONE when missing, or an error. */
static int read_file(const struct file_store *fs, struct strbuf *sb, struct err *err)
{
    int fd = open(fs->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return POS_STORE_NONE;
        return err_set(err, ERR_POS_STORE, "could not open \"%s\": %s", fs->path, strerror(errno));
    }
    int r = 0;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = err_set(err, ERR_POS_STORE, "could not read \"%s\": %s", fs->path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        strbuf_append(sb, buf, (size_t)n);
        if (sb->len > MAX_FILE_SZ) {
            r = corrupt(err, fs, "larger than 64 KiB");
            break;
        }
    }
    close(fd);
    return r;
}

enum key_id {
    K_VERSION,
    K_INSTANCE,
    K_SERVER_UUID,
    K_SERVER_ID,
    K_SERVER_VERSION,
    K_SCHEMA_VERSION,
    K_P_FILE,
    K_P_OFFSET,
    K_P_GTID,
    K_P_TS,
    K_C_FILE,
    K_C_OFFSET,
    K_C_GTID,
    K_C_TS,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "version",        "instance",        "server_uuid",   "server_id",   "server_version",
    "schema_version", "parsed.file",     "parsed.offset", "parsed.gtid", "parsed.ts",
    "consumed.file",  "consumed.offset", "consumed.gtid", "consumed.ts",
};

/* Applies one key=value line to rec. Returns 0 or ERR_POS_CORRUPT. */
static int apply(const struct file_store *fs,
                 enum key_id k,
                 const char *v,
                 struct pos_store_record *rec,
                 struct err *err)
{
    char what[200];
    uint64_t n;
    struct err gerr;
    struct position *p = k >= K_C_FILE ? &rec->consumed : &rec->parsed;
    switch (k) {
    case K_VERSION:
        if (!pos_store_parse_u64(v, UINT32_MAX, &n) || n != VERSION) {
            snprintf(what, sizeof(what), "format version \"%.40s\" (this sluice reads %d)", v,
                     VERSION);
            return corrupt(err, fs, what);
        }
        return 0;
    case K_INSTANCE:
        if (strcmp(v, fs->base.instance) != 0) {
            snprintf(what, sizeof(what), "it belongs to instance \"%.60s\"", v);
            return corrupt(err, fs, what);
        }
        return 0;
    case K_SERVER_UUID:
        if (strlen(v) >= sizeof(rec->server_uuid))
            break;
        strcpy(rec->server_uuid, v);
        return 0;
    case K_SERVER_ID:
        if (!pos_store_parse_u64(v, UINT32_MAX, &n))
            break;
        rec->server_id = (uint32_t)n;
        return 0;
    case K_SERVER_VERSION:
        if (strlen(v) >= sizeof(rec->server_version))
            break;
        strcpy(rec->server_version, v);
        return 0;
    case K_SCHEMA_VERSION:
        if (!pos_store_parse_u64(v, UINT64_MAX, &rec->schema_version))
            break;
        return 0;
    case K_P_FILE:
    case K_C_FILE:
        if (position_set_file(p, v, NULL) != 0)
            break;
        return 0;
    case K_P_OFFSET:
    case K_C_OFFSET:
        if (!pos_store_parse_u64(v, UINT64_MAX, &p->offset))
            break;
        return 0;
    case K_P_GTID:
    case K_C_GTID:
        if (position_gtid_parse(&p->gtid, v, &gerr) != 0) {
            snprintf(what, sizeof(what), "%s: %.150s", key_names[k], gerr.msg);
            return corrupt(err, fs, what);
        }
        return 0;
    case K_P_TS:
    case K_C_TS:
        if (!pos_store_parse_u64(v, UINT32_MAX, &n))
            break;
        p->ts = (uint32_t)n;
        return 0;
    case K_COUNT:
        break;
    }
    snprintf(what, sizeof(what), "bad value \"%.60s\" for %s", v, key_names[k]);
    return corrupt(err, fs, what);
}

static int file_load(struct pos_store *st, struct pos_store_record *rec, struct err *err)
{
    struct file_store *fs = (struct file_store *)st;
    struct strbuf sb = {0};
    struct pos_store_record tmp;
    bool seen[K_COUNT] = {false};
    char what[200];
    int r;

    pos_store_record_init(&tmp);
    /* A .tmp is what a crash between create and rename leaves: never complete, never used. */
    if (unlink(fs->tmp) != 0 && errno != ENOENT) {
        r = err_set(err, ERR_POS_STORE, "could not remove \"%s\": %s", fs->tmp, strerror(errno));
        goto out;
    }
    if ((r = read_file(fs, &sb, err)) != 0)
        goto out;

    const size_t mlen = sizeof(MAGIC); /* with its '\n' in place of the NUL */
    if (sb.len == 0) {
        r = corrupt(err, fs, "empty file (truncated)");
        goto out;
    }
    if (sb.len < mlen || memcmp(sb.buf, MAGIC "\n", mlen) != 0) {
        if (sb.len < mlen && memcmp(sb.buf, MAGIC "\n", sb.len) == 0)
            r = corrupt(err, fs, "truncated");
        else
            r = corrupt(err, fs, "bad magic (not a sluice position file)");
        goto out;
    }
    /* The crc32c line: the last one, "crc32c=" 8 hex digits and '\n'. */
    const char *crc_key = "\ncrc32c=";
    size_t ck = strlen(crc_key), at = SIZE_MAX;
    for (size_t i = sb.len >= ck ? sb.len - ck + 1 : 0; i-- > 0;) {
        if (memcmp(sb.buf + i, crc_key, ck) == 0) {
            at = i + 1;
            break;
        }
    }
    if (at == SIZE_MAX) {
        r = corrupt(err, fs, "truncated (no crc32c line)");
        goto out;
    }
    if (sb.len - at != ck - 1 + 8 + 1 || sb.buf[sb.len - 1] != '\n') {
        r = corrupt(err, fs,
                    sb.len - at < ck - 1 + 8 + 1 ? "truncated (short crc32c line)"
                                                 : "data after the crc32c line");
        goto out;
    }
    uint64_t stored = 0;
    for (size_t i = at + ck - 1; i < sb.len - 1; i++) {
        char c = sb.buf[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            r = corrupt(err, fs, "bad crc32c line");
            goto out;
        }
        stored = stored * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    uint32_t computed = crc32c(0, sb.buf, at);
    if (computed != stored) {
        snprintf(what, sizeof(what), "crc32c mismatch (stored %08x, computed %08x)",
                 (unsigned)stored, computed);
        r = corrupt(err, fs, what);
        goto out;
    }

    /* Lines between the magic and the crc32c line. */
    for (size_t i = mlen; i < at;) {
        char *nl = memchr(sb.buf + i, '\n', at - i);
        char *line = sb.buf + i;
        size_t len = (size_t)(nl - line);
        *nl = '\0';
        i += len + 1;
        if (memchr(line, '\0', len)) {
            r = corrupt(err, fs, "NUL byte in a line");
            goto out;
        }
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            snprintf(what, sizeof(what), "line \"%.60s\" is not key=value", line);
            r = corrupt(err, fs, what);
            goto out;
        }
        *eq = '\0';
        int k = 0;
        while (k < K_COUNT && strcmp(key_names[k], line) != 0)
            k++;
        if (k == K_COUNT || seen[k]) {
            snprintf(what, sizeof(what), "%s key \"%.60s\"", k == K_COUNT ? "unknown" : "repeated",
                     line);
            r = corrupt(err, fs, what);
            goto out;
        }
        seen[k] = true;
        if ((r = apply(fs, (enum key_id)k, eq + 1, &tmp, err)) != 0)
            goto out;
    }
    for (int k = 0; k < K_COUNT; k++) {
        if (!seen[k]) {
            snprintf(what, sizeof(what), "missing key \"%s\"", key_names[k]);
            r = corrupt(err, fs, what);
            goto out;
        }
    }
    pos_store_record_copy(rec, &tmp);
    r = POS_STORE_LOADED;
out:
    pos_store_record_free(&tmp);
    strbuf_free(&sb);
    return r;
}

const struct pos_store_ops pos_store_file_ops = {
    .abi = POS_STORE_ABI,
    .name = "file",
    .open = file_open,
    .load = file_load,
    .save = file_save,
    .close = file_close,
};
