/*
 * cmd_position.c — `sluice position show` and `sluice position reset` (see cmd_position.h).
 *
 * Both read the configuration for the instance's position store (`positions:`) and its data
 * directory; neither needs the daemon.
 *
 * show: loads each instance's record and prints it, one block per instance (or one JSON object
 *   per line with --json). Whether the instance runs is told by its lock file: absent = not
 *   running (nothing is created); else we try to take the lock, and ERR_POS_LOCKED means a
 *   daemon holds it (its pid is in the file); when we get it we release it at once.
 *
 * reset: takes the instance's lock for the whole command, so a daemon cannot start in the
 *   middle and a running one is never overwritten (it is refused: exit 1, the lock error names
 *   the pid). The new record has `consumed` and `parsed` both at the new position; the server
 *   identity is kept as stored, and so is the schema version unless the schema history (in
 *   ZooKeeper in cluster mode, else in data_dir) says an earlier one was in force at the new
 *   position: then that one, so that rows before a later DDL decode with the schema they were
 *   written under (the DDL is applied again when read). Forms:
 *     --file F --pos P   F:P, GTID set empty (the daemon resumes from file:offset);
 *     --gtid SET         GTID set only (file "", offset 0);
 *     --earliest         the first file of SHOW BINARY LOGS, offset 4;
 *     --latest           SHOW MASTER STATUS with @@gtid_binlog_pos / @@gtid_executed;
 *     --timestamp T      position_find_by_time(): the start of the first transaction committed
 *                        at or after T (UTC 'YYYY-MM-DD HH:MM:SS', RFC 3339, epoch seconds).
 *   The last three connect to the instance's source with its configured credentials.
 *
 * Exit status: 0 done, 1 failure (configuration, store, lock, server), 2 bad usage. Runs on the
 * main thread of a short-lived process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "binlog_conn.h"
#include "cluster.h"
#include "cmd_position.h"
#include "config.h"
#include "lockfile.h"
#include "pos_store.h"
#include "position.h"
#include "position_find.h"
#include "schema.h"
#include "strbuf.h"
#include "xmalloc.h"
#include "../meta/zk.h"

static void usage(FILE *out)
{
    fputs("usage: sluice position show --config FILE [--instance NAME] [--json]\n"
          "       sluice position reset --config FILE --instance NAME\n"
          "                             (--timestamp T | --file F --pos P | --gtid SET |\n"
          "                              --earliest | --latest) [--force]\n"
          "\n"
          "show   print each instance's stored positions (consumed, parsed), source server\n"
          "       identity, schema version, and whether a daemon runs it\n"
          "reset  set both positions of a stopped instance: T is a UTC time\n"
          "       ('YYYY-MM-DD HH:MM:SS', RFC 3339 or epoch seconds): the start of the first\n"
          "       transaction committed at or after it; --earliest / --latest: the oldest /\n"
          "       current end of the source's binlog; --force (store zookeeper): also while a\n"
          "       daemon owns the instance, which then restarts from the new position\n",
          out);
}

/* ---- formatting ---------------------------------------------------------------------------- */

/* t (seconds since the epoch) as UTC: "2026-11-24 10:00:00 UTC", or RFC 3339 when iso. */
static void fmt_time(char *buf, size_t n, int64_t t, bool iso)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, n, "%lld", (long long)t);
    else
        strftime(buf, n, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* "FILE:OFFSET, gtid SET, ts TIME" with the parts that are set; "(none)" when empty. */
static void fmt_pos(struct strbuf *sb, const struct position *p)
{
    size_t start = sb->len;
    if (p->file[0])
        strbuf_printf(sb, "%s:%llu", p->file, (unsigned long long)p->offset);
    if (!position_gtid_is_empty(&p->gtid)) {
        strbuf_appends(sb, sb->len > start ? ", gtid " : "gtid ");
        position_gtid_format(&p->gtid, sb);
    }
    if (sb->len == start)
        strbuf_appends(sb, "(none)");
    if (p->ts) {
        char t[64];
        fmt_time(t, sizeof(t), p->ts, false);
        strbuf_printf(sb, ", ts %s", t);
    }
}

static void json_str(struct strbuf *sb, const char *s)
{
    strbuf_append_json_str(sb, s, strlen(s));
}

/* {"file","offset","gtid","ts","time"}: every key always present, so jq filters need no
 * defaults; "time" is null when ts is unknown (0). */
static void json_pos(struct strbuf *sb, const struct position *p)
{
    strbuf_appends(sb, "{\"file\":");
    json_str(sb, p->file);
    strbuf_printf(sb, ",\"offset\":%llu,\"gtid\":", (unsigned long long)p->offset);
    struct strbuf g = {0};
    position_gtid_format(&p->gtid, &g);
    json_str(sb, g.buf ? g.buf : "");
    strbuf_free(&g);
    strbuf_printf(sb, ",\"ts\":%lu", (unsigned long)p->ts);
    if (p->ts) {
        char t[64];
        fmt_time(t, sizeof(t), p->ts, true);
        strbuf_appends(sb, ",\"time\":");
        json_str(sb, t);
    } else {
        strbuf_appends(sb, ",\"time\":null");
    }
    strbuf_appendc(sb, '}');
}

/* ---- configuration, store, lock ------------------------------------------------------------ */

static const struct config_instance *find_instance(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_instances; i++)
        if (strcmp(cfg->instances[i].name, name) == 0)
            return &cfg->instances[i];
    return NULL;
}

/* `instance "x" is not in FILE (instances: "a", "b")`, on stderr. */
static void
unknown_instance(const char *cmd, const char *path, const struct config *cfg, const char *name)
{
    struct strbuf sb = {0};
    for (size_t i = 0; i < cfg->n_instances; i++)
        strbuf_printf(&sb, "%s\"%s\"", i ? ", " : "", cfg->instances[i].name);
    fprintf(stderr,
            "sluice position %s: --instance \"%s\": no such instance in \"%s\" (known: %s)\n", cmd,
            name, path, sb.buf ? sb.buf : "none");
    strbuf_free(&sb);
}

/* DATA_DIR/INSTANCE/lock: the daemon's lock for the instance (see lockfile.h). */
static void lock_path(char *buf, size_t n, const struct config *cfg, const char *instance)
{
    snprintf(buf, n, "%s/%s/lock", cfg->data_dir ? cfg->data_dir : "./var", instance);
}

/* Is a daemon running the instance? Returns 1 (with *pid from the lock file, 0 if unreadable),
 * 0 no, or a negative code with err filled when the lock file cannot be checked. */
static int lock_running(const char *path, long *pid, struct err *err)
{
    *pid = 0;
    struct stat stt;
    if (stat(path, &stt) != 0 && errno == ENOENT)
        return 0; /* the daemon creates it: it never ran here */
    int fd = lockfile_acquire(path, err);
    if (fd >= 0) {
        lockfile_release(fd);
        return 0;
    }
    if (fd != ERR_POS_LOCKED)
        return fd;
    /* The holder wrote its pid into the file after taking the lock. */
    int rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (rfd >= 0) {
        char buf[32];
        ssize_t r = read(rfd, buf, sizeof(buf) - 1);
        close(rfd);
        if (r > 0) {
            buf[r] = '\0';
            *pid = strtol(buf, NULL, 10);
        }
    }
    return 1;
}

/* ---- show ---------------------------------------------------------------------------------- */

/* Prints one instance. Returns 0, or 1 when its record or lock could not be read (the block
 * says why; the other instances are still shown). */
static int show_one(const struct config *cfg, const struct config_instance *in, bool json)
{
    struct err err = {0};
    char path[4096];
    lock_path(path, sizeof(path), cfg, in->name);
    long pid = 0;
    int running = lock_running(path, &pid, &err);
    char lock_err[sizeof(err.msg)] = "";
    if (running < 0)
        snprintf(lock_err, sizeof(lock_err), "%s", err.msg);

    struct pos_store_record rec;
    pos_store_record_init(&rec);
    int loaded = -1;
    char store_err[sizeof(err.msg)] = "";
    struct pos_store *st = pos_store_open_config(in, &err);
    char owner[256] = "", owner_admin[256] = "";
    if (st != NULL) {
        loaded = pos_store_load(st, &rec, &err);
        /* Cluster mode: the owner may run on any daemon; ZooKeeper tells, not the lock. */
        if (in->positions.store == CONFIG_STORE_ZOOKEEPER) {
            running = cluster_owner(st, owner, sizeof(owner), owner_admin, sizeof(owner_admin));
            pid = 0;
            if (running < 0)
                snprintf(lock_err, sizeof(lock_err), "ZooKeeper could not tell");
        }
        pos_store_close(st);
    }
    if (st == NULL || loaded < 0)
        snprintf(store_err, sizeof(store_err), "%s", err.msg);
    const char *store = config_store_name(in->positions.store);
    const char *where =
        in->positions.store == CONFIG_STORE_FILE ? in->positions.dir : in->positions.servers;

    struct strbuf sb = {0};
    if (json) {
        strbuf_appends(&sb, "{\"instance\":");
        json_str(&sb, in->name);
        strbuf_appends(&sb, ",\"store\":");
        json_str(&sb, store);
        strbuf_appends(&sb, ",\"store_location\":");
        json_str(&sb, where ? where : "");
        strbuf_appends(&sb, ",\"running\":");
        if (running < 0)
            strbuf_appends(&sb, "null");
        else
            strbuf_appends(&sb, running ? "true" : "false");
        if (running > 0 && pid > 0)
            strbuf_printf(&sb, ",\"pid\":%ld", pid);
        if (running > 0 && owner[0]) {
            strbuf_appends(&sb, ",\"owner\":");
            json_str(&sb, owner);
            strbuf_appends(&sb, ",\"owner_admin\":");
            json_str(&sb, owner_admin);
        }
        if (lock_err[0]) {
            strbuf_appends(&sb, ",\"lock_error\":");
            json_str(&sb, lock_err);
        }
        strbuf_appends(&sb, ",\"stored\":");
        strbuf_appends(&sb, loaded == POS_STORE_LOADED ? "true" : "false");
        if (store_err[0]) {
            strbuf_appends(&sb, ",\"error\":");
            json_str(&sb, store_err);
        }
        if (loaded == POS_STORE_LOADED) {
            strbuf_appends(&sb, ",\"consumed\":");
            json_pos(&sb, &rec.consumed);
            strbuf_appends(&sb, ",\"parsed\":");
            json_pos(&sb, &rec.parsed);
            strbuf_printf(&sb, ",\"server_id\":%lu,\"server_uuid\":", (unsigned long)rec.server_id);
            json_str(&sb, rec.server_uuid);
            strbuf_appends(&sb, ",\"server_version\":");
            json_str(&sb, rec.server_version);
            strbuf_printf(&sb, ",\"schema_version\":%llu", (unsigned long long)rec.schema_version);
        }
        strbuf_appends(&sb, ",\"start\":");
        json_str(&sb, in->start.text ? in->start.text : "");
        strbuf_appends(&sb, "}\n");
    } else {
        strbuf_printf(&sb, "instance \"%s\": ", in->name);
        if (running > 0 && owner[0])
            strbuf_printf(&sb, "running on %s (admin %s)", owner, owner_admin);
        else if (running > 0 && pid > 0)
            strbuf_printf(&sb, "running (pid %ld)", pid);
        else if (running > 0)
            strbuf_appends(&sb, "running");
        else if (running == 0)
            strbuf_appends(&sb, "not running");
        else
            strbuf_printf(&sb, "running state unknown (%s)", lock_err);
        strbuf_printf(&sb, ", store %s \"%s\"\n", store, where ? where : "");
        if (loaded == POS_STORE_LOADED) {
            strbuf_appends(&sb, "  consumed: ");
            fmt_pos(&sb, &rec.consumed);
            strbuf_appends(&sb, "\n  parsed:   ");
            fmt_pos(&sb, &rec.parsed);
            strbuf_printf(&sb, "\n  server:   id %lu, uuid %s, version %s\n",
                          (unsigned long)rec.server_id, rec.server_uuid[0] ? rec.server_uuid : "-",
                          rec.server_version[0] ? rec.server_version : "-");
            strbuf_printf(&sb, "  schema version: %llu\n", (unsigned long long)rec.schema_version);
        } else if (loaded == POS_STORE_NONE) {
            strbuf_printf(&sb, "  no position stored: a start begins at `start: %s`\n",
                          in->start.text ? in->start.text : "earliest");
        } else {
            strbuf_printf(&sb, "  error: %s\n", store_err);
        }
    }
    fwrite(sb.buf, 1, sb.len, stdout);
    strbuf_free(&sb);
    pos_store_record_free(&rec);
    return loaded < 0 || running < 0 ? 1 : 0;
}

/* ---- option parsing ------------------------------------------------------------------------ */

/* The command line of show and reset (strings borrowed from argv). */
struct opts {
    const char *config, *instance;
    bool json;
    /* reset */
    const char *timestamp, *file, *pos, *gtid;
    bool earliest, latest, force;
};

/* Returns 0, or 2 after printing the reason. */
static int parse_opts(const char *cmd, int argc, char **argv, struct opts *o, bool reset)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0 && !reset) {
            o->json = true;
            continue;
        }
        if (reset && strcmp(a, "--force") == 0) {
            o->force = true;
            continue;
        }
        if (reset && strcmp(a, "--earliest") == 0) {
            o->earliest = true;
            continue;
        }
        if (reset && strcmp(a, "--latest") == 0) {
            o->latest = true;
            continue;
        }
        const char **slot = NULL;
        if (strcmp(a, "--config") == 0)
            slot = &o->config;
        else if (strcmp(a, "--instance") == 0)
            slot = &o->instance;
        else if (reset && strcmp(a, "--timestamp") == 0)
            slot = &o->timestamp;
        else if (reset && strcmp(a, "--file") == 0)
            slot = &o->file;
        else if (reset && strcmp(a, "--pos") == 0)
            slot = &o->pos;
        else if (reset && strcmp(a, "--gtid") == 0)
            slot = &o->gtid;
        if (slot == NULL) {
            fprintf(stderr, "sluice position %s: unknown %s \"%s\" (see sluice position help)\n",
                    cmd, a[0] == '-' ? "option" : "argument", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sluice position %s: option %s needs a value\n", cmd, a);
            return 2;
        }
        if (*slot != NULL) {
            fprintf(stderr, "sluice position %s: option %s given twice\n", cmd, a);
            return 2;
        }
        *slot = argv[++i];
    }
    if (o->config == NULL) {
        fprintf(stderr, "sluice position %s: --config FILE is required\n", cmd);
        return 2;
    }
    if (reset && o->instance == NULL) {
        fprintf(stderr, "sluice position reset: --instance NAME is required\n");
        return 2;
    }
    if (!reset)
        return 0;
    int forms = (o->timestamp != NULL) + (o->file != NULL || o->pos != NULL) + (o->gtid != NULL) +
                o->earliest + o->latest;
    if (forms == 0) {
        fprintf(stderr, "sluice position reset: a new position is required: --timestamp T, "
                        "--file F --pos P, --gtid SET, --earliest or --latest\n");
        return 2;
    }
    if (forms > 1) {
        fprintf(stderr, "sluice position reset: give only one of --timestamp, --file/--pos, "
                        "--gtid, --earliest, --latest\n");
        return 2;
    }
    if ((o->file != NULL) != (o->pos != NULL)) {
        fprintf(stderr, "sluice position reset: %s needs %s too\n", o->file ? "--file" : "--pos",
                o->file ? "--pos P" : "--file F");
        return 2;
    }
    return 0;
}

/* A decimal number without sign or spaces. Returns 0, or -1 when s is not one or overflows. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

/* A time for --timestamp: 'YYYY-MM-DD HH:MM:SS[.frac]' (UTC unless a zone follows), or what
 * `start:` accepts for a time (RFC 3339, epoch seconds). Returns 0 or -1 with why filled. */
static int parse_time(const char *s, int64_t *out, char *why, size_t n)
{
    char buf[80];
    size_t len = strlen(s);
    if (len >= 19 && len < sizeof(buf) - 1 && s[10] == ' ') {
        memcpy(buf, s, len + 1);
        buf[10] = 'T';
        size_t k = 19;
        if (buf[k] == '.')
            for (k++; buf[k] >= '0' && buf[k] <= '9'; k++)
                ;
        if (buf[k] == '\0') {
            buf[k] = 'Z';
            buf[k + 1] = '\0';
        }
        s = buf;
    }
    struct config_start st;
    struct err err = {0};
    if (config_start_parse(s, &st, &err) != 0) {
        snprintf(why, n, "%s", err.msg);
        return -1;
    }
    bool is_time = st.kind == CONFIG_START_TIMESTAMP;
    *out = st.timestamp;
    config_start_clear(&st);
    if (!is_time) {
        snprintf(why, n, "not a time");
        return -1;
    }
    return 0;
}

/* ---- reset --------------------------------------------------------------------------------- */

static void find_warn(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "sluice position reset: warning: %s\n", msg);
}

/* "found FILE:POS (why) after reading N events / B bytes in F files": what the search found. */
static void print_found(int64_t ts, const struct position *np, const struct position_find_stats *fs)
{
    char t[64], t2[64];
    fmt_time(t, sizeof(t), ts, false);
    unsigned long long off = (unsigned long long)np->offset;
    switch (fs->result) {
    case POSITION_FIND_TXN:
        fmt_time(t2, sizeof(t2), fs->commit_ts, false);
        printf("found %s:%llu (first transaction committed at/after %s: committed at %s, gtid %s)",
               np->file, off, t, t2, fs->gtid[0] ? fs->gtid : "(none)");
        break;
    case POSITION_FIND_EARLIEST:
        fmt_time(t2, sizeof(t2), fs->first_ts, false);
        printf("found %s:%llu (%s is before the first binlog file, started at %s: the earliest "
               "position)",
               np->file, off, t, t2);
        break;
    case POSITION_FIND_NEXT_FILE:
        printf("found %s:%llu (no transaction committed at/after %s in %s: the start of the next "
               "file)",
               np->file, off, t, fs->scanned);
        break;
    case POSITION_FIND_END:
        printf("found %s:%llu (no transaction committed at/after %s: the end of the binlog)",
               np->file, off, t);
        break;
    }
    printf(" after reading %llu events / %llu bytes in %u files\n", (unsigned long long)fs->events,
           (unsigned long long)fs->bytes, fs->files);
}

/* The schema version in force at np by the instance's schema history: ZooKeeper's copy in
 * cluster mode, else (or when ZooKeeper holds none) the history in data_dir. Resetting to an
 * earlier position also goes back in the history, so that the rows before a later DDL decode
 * with the schema they were written under; the DDL is applied again as it is read. UINT64_MAX
 * when no history tells (a GTID-only position, no history here): the stored version stays. */
static uint64_t schema_version_at(const struct config *cfg,
                                  const struct config_instance *in,
                                  struct pos_store *st,
                                  bool zk,
                                  const struct position *np)
{
    if (np->file[0] == '\0')
        return UINT64_MAX;
    struct err e = {0};
    if (zk && st) {
        struct strbuf recs = {0};
        int got = pos_store_zk_schema_get(st, UINT64_MAX, &recs, &e);
        uint64_t v = got >= 0 && recs.len
                         ? schema_records_version_at(recs.buf, recs.len, np->file, np->offset)
                         : UINT64_MAX;
        strbuf_free(&recs);
        if (v != UINT64_MAX)
            return v;
        err_clear(&e);
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s/schema", cfg->data_dir, in->name);
    uint64_t v;
    return schema_history_version_at(dir, np->file, np->offset, &v, &e) == 0 ? v : UINT64_MAX;
}

static int cmd_reset(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts("reset", argc, argv, &o, true);
    if (rc)
        return rc;

    /* Everything the arguments alone decide, before touching anything. */
    struct position np;
    position_init(&np);
    struct err err = {0};
    int64_t ts = 0;
    if (o.file) {
        uint64_t v;
        if (o.file[0] == '\0' || strchr(o.file, '/') || position_set_file(&np, o.file, &err)) {
            fprintf(stderr,
                    "sluice position reset: --file \"%s\": expected a binlog file name "
                    "as SHOW BINARY LOGS lists it (no directory)\n",
                    o.file);
            return 2;
        }
        if (parse_u64(o.pos, &v) || v < 4) {
            fprintf(stderr, "sluice position reset: --pos \"%s\": expected an event offset >= 4\n",
                    o.pos);
            return 2;
        }
        np.offset = v;
    } else if (o.gtid) {
        if (position_gtid_parse(&np.gtid, o.gtid, &err) != 0 || position_gtid_is_empty(&np.gtid)) {
            fprintf(stderr, "sluice position reset: --gtid \"%s\": %s\n", o.gtid,
                    err.code ? err.msg : "expected a non-empty GTID set");
            position_free(&np);
            return 2;
        }
        /* The daemon resumes a MariaDB source by GTID when no file is stored; a MySQL one
         * needs COM_BINLOG_DUMP_GTID, which it does not send yet. */
        if (np.gtid.flavor == POSITION_GTID_MYSQL)
            fprintf(stderr, "sluice position reset: warning: --gtid: a MySQL GTID set without a "
                            "file: the daemon cannot resume a MySQL source from it yet (use "
                            "--file F --pos P or --timestamp)\n");
    } else if (o.timestamp) {
        char why[300];
        if (parse_time(o.timestamp, &ts, why, sizeof(why)) != 0) {
            fprintf(stderr,
                    "sluice position reset: --timestamp \"%s\": expected 'YYYY-MM-DD HH:MM:SS' "
                    "(UTC), RFC 3339 or epoch seconds: %s\n",
                    o.timestamp, why);
            return 2;
        }
    }

    struct config *cfg = config_load(o.config, &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice position reset: %s\n", err.msg);
        position_free(&np);
        return 1;
    }
    const struct config_instance *in = find_instance(cfg, o.instance);
    if (in == NULL) {
        unknown_instance("reset", o.config, cfg, o.instance);
        config_free(cfg);
        position_free(&np);
        return 2;
    }

    char path[4096];
    lock_path(path, sizeof(path), cfg, in->name);
    struct pos_store *st = NULL;
    char *password = NULL;
    struct pos_store_record old, rec;
    pos_store_record_init(&old);
    pos_store_record_init(&rec);
    /* The lock first, held to the end: a daemon cannot start between the read of the old record
     * and the write of the new one, nor during a long search. */
    /* In cluster mode (ZooKeeper) the owner may run anywhere: the election nodes tell, and the
     * record's version check keeps a save that raced with the owner's from landing. */
    bool zk = in->positions.store == CONFIG_STORE_ZOOKEEPER;
    int lock = zk ? -1 : lockfile_acquire(path, &err);
    if (lock < 0 && !zk) {
        fprintf(stderr, "sluice position reset: instance \"%s\": %s\n", in->name, err.msg);
        rc = 1;
        goto out;
    }
    st = pos_store_open_config(in, &err);
    char owner[256] = "", owner_admin[256] = "";
    int owned =
        st && zk ? cluster_owner(st, owner, sizeof(owner), owner_admin, sizeof(owner_admin)) : 0;
    if (owned < 0) {
        fprintf(stderr,
                "sluice position reset: instance \"%s\": could not tell from ZooKeeper whether a "
                "daemon runs it; nothing changed\n",
                in->name);
        rc = 1;
        goto out;
    }
    if (owned && !o.force) {
        fprintf(stderr,
                "sluice position reset: instance \"%s\" runs on daemon %s (admin %s): stop it "
                "there first, or give --force to make it restart from the new position; nothing "
                "changed\n",
                in->name, owner, owner_admin[0] ? owner_admin : "?");
        rc = 1;
        goto out;
    }
    /* A damaged record is not overwritten: the store's message names the file, which the
     * operator inspects (or removes) first. */
    int loaded = st ? pos_store_load(st, &old, &err) : -1;
    if (loaded < 0) {
        fprintf(stderr,
                "sluice position reset: instance \"%s\": could not read the stored position: %s\n",
                in->name, err.msg);
        rc = 1;
        goto out;
    }

    char where[300];
    snprintf(where, sizeof(where), "%s:%u", in->source.host, (unsigned)in->source.port);
    /* The forms that need the source server: its credentials from the configuration. */
    if (o.earliest || o.latest || o.timestamp) {
        password = config_read_password(in, &err);
        if (password == NULL) {
            fprintf(stderr, "sluice position reset: %s\n", err.msg);
            rc = 1;
            goto out;
        }
        struct binlog_conn_opts co;
        binlog_conn_opts_from_config(&co, in, password); /* as the daemon connects */
        co.warn = find_warn;
        int r;
        if (o.earliest) {
            r = position_find_earliest(&co, &np, &err);
        } else if (o.latest) {
            r = position_find_latest(&co, &np, &err);
        } else {
            struct position_find_stats fs;
            if (isatty(STDERR_FILENO))
                position_find_progress(stderr);
            r = position_find_by_time(&co, ts, &np, &fs, &err);
            if (r == 0)
                print_found(ts, &np, &fs);
        }
        if (r != 0) {
            fprintf(stderr, "sluice position reset: instance \"%s\": %s: %s\n", in->name, where,
                    err.msg);
            rc = 1;
            goto out;
        }
    }

    /* The new record: both positions at np, identity as stored, the schema version no later
     * than the one in force at np. */
    uint64_t at = schema_version_at(cfg, in, st, zk, &np);
    if (loaded == POS_STORE_LOADED)
        pos_store_record_copy(&rec, &old);
    if (rec.schema_version > at)
        rec.schema_version = at;
    position_copy(&rec.consumed, &np);
    position_copy(&rec.parsed, &np);
    int sr = pos_store_save(st, &rec, &err);
    /* A running owner may save between our read and our write (version check): read again. */
    for (int tries = 0; sr == ERR_POS_STALE && owned && tries < 50; tries++) {
        err_clear(&err);
        pos_store_record_free(&old);
        pos_store_record_init(&old);
        loaded = pos_store_load(st, &old, &err);
        if (loaded < 0)
            break;
        if (loaded == POS_STORE_LOADED) {
            rec.server_id = old.server_id;
            snprintf(rec.server_uuid, sizeof(rec.server_uuid), "%s", old.server_uuid);
            snprintf(rec.server_version, sizeof(rec.server_version), "%s", old.server_version);
            rec.schema_version = old.schema_version < at ? old.schema_version : at;
        }
        sr = pos_store_save(st, &rec, &err);
    }
    if (sr != 0) {
        fprintf(stderr, "sluice position reset: instance \"%s\": could not save the position: %s\n",
                in->name, err.msg);
        rc = 1;
        goto out;
    }
    /* What changed, old -> new, after the save succeeded. */
    struct strbuf sb = {0};
    strbuf_printf(&sb, "instance \"%s\": position reset\n  consumed: ", in->name);
    if (loaded == POS_STORE_LOADED)
        fmt_pos(&sb, &old.consumed);
    else
        strbuf_appends(&sb, "(none)");
    strbuf_appends(&sb, " -> ");
    fmt_pos(&sb, &rec.consumed);
    strbuf_appends(&sb, "\n  parsed:   ");
    if (loaded == POS_STORE_LOADED)
        fmt_pos(&sb, &old.parsed);
    else
        strbuf_appends(&sb, "(none)");
    strbuf_appends(&sb, " -> ");
    fmt_pos(&sb, &rec.parsed);
    strbuf_appendc(&sb, '\n');
    if (loaded == POS_STORE_LOADED && rec.schema_version != old.schema_version)
        strbuf_printf(&sb,
                      "  schema version: %llu -> %llu (the DDL after the new position is applied "
                      "again as it is read)\n",
                      (unsigned long long)old.schema_version,
                      (unsigned long long)rec.schema_version);
    if (owned)
        strbuf_printf(&sb, "  daemon %s, which runs it, restarts from the new position\n", owner);
    fwrite(sb.buf, 1, sb.len, stdout);
    strbuf_free(&sb);
out:
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    pos_store_close(st);
    lockfile_release(lock);
    pos_store_record_free(&old);
    pos_store_record_free(&rec);
    position_free(&np);
    config_free(cfg);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "sluice position reset: could not write the output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

static int cmd_show(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts("show", argc, argv, &o, false);
    if (rc)
        return rc;
    struct err err = {0};
    struct config *cfg = config_load(o.config, &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice position show: %s\n", err.msg);
        return 1;
    }
    if (o.instance != NULL) {
        const struct config_instance *in = find_instance(cfg, o.instance);
        if (in == NULL) {
            unknown_instance("show", o.config, cfg, o.instance);
            rc = 2;
        } else {
            rc = show_one(cfg, in, o.json);
        }
    } else {
        for (size_t i = 0; i < cfg->n_instances; i++)
            if (show_one(cfg, &cfg->instances[i], o.json))
                rc = 1;
    }
    config_free(cfg);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "sluice position show: could not write the output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

int cmd_position(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "show") == 0)
        return cmd_show(argc - 2, argv + 2);
    if (strcmp(sub, "reset") == 0)
        return cmd_reset(argc - 2, argv + 2);
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "sluice position: unknown subcommand \"%s\" (show or reset)\n", sub);
    usage(stderr);
    return 2;
}
