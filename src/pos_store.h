/*
 * pos_store.h — where an instance keeps its positions across restarts: the interface every
 * position store implements (meta/file.c now, meta/zk.c for cluster mode), a registry that finds
 * one by the config's `store:` string, and the record they store.
 *
 * A store is a struct of function pointers embedded first in each implementation (as
 * PostgreSQL's bbsink): `struct pos_store` is the first member of `struct file_store`, and
 * callers only use the inline wrappers below.
 *
 * What is stored per instance (struct pos_store_record):
 *   - parsed:   how far the parser has read (may run ahead of the sinks; informational, and the
 *               place to reconnect to within one process);
 *   - consumed: the last position every sink has acknowledged. THE CONTRACT: save() is called
 *               with a consumed position only after the sinks acknowledged every change before
 *               it (Kafka delivery reports, file fsync), so a restart from `consumed` loses
 *               nothing and repeats only what came after it (at-least-once). A store persists
 *               what it is given and never moves `consumed` by itself;
 *   - the source server's identity (server_uuid for MySQL, server_id, version string): a restart
 *     against a server with another identity is refused unless GTIDs make resuming safe;
 *   - the schema history version in force at `consumed`.
 * Stores are not thread-safe: one instance's main loop owns its store.
 */
#ifndef SLUICE_POS_STORE_H
#define SLUICE_POS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "position.h"
#include "strbuf.h"

/* Bumped when struct pos_store_ops changes incompatibly; open() of a store whose ops->abi
 * differs is refused. */
#define POS_STORE_ABI 1

/* load() results besides negative error codes. */
#define POS_STORE_LOADED 0 /* *rec filled from the store */
#define POS_STORE_NONE   1 /* nothing stored yet for this instance: a first start, not an error */

struct pos_store_record {
    struct position parsed;
    struct position consumed;
    char server_uuid[37];     /* MySQL @@server_uuid, "" when unknown or MariaDB */
    uint32_t server_id;       /* @@server_id, 0 when unknown */
    char server_version[128]; /* @@version, "" when unknown */
    uint64_t schema_version;  /* schema history version in force at `consumed` */
};

/* One `key: value` of the instance's `positions:` map (type excluded). Borrowed strings. */
struct pos_store_param {
    const char *key;
    const char *value;
};

/* What open() is given; everything borrowed for the duration of the call only. */
struct pos_store_conf {
    const char *instance; /* instance name: [A-Za-z0-9_.-]+, not starting with '.' */
    const struct pos_store_param *params;
    size_t nparams;
};

struct pos_store;

struct pos_store_ops {
    unsigned abi;     /* POS_STORE_ABI */
    const char *name; /* the config `store:` string: "file", "zookeeper" */
    /* Creates the store for one instance. Returns NULL with err filled (unknown or missing
     * param, unusable directory, ...). Caller frees with close(). */
    struct pos_store *(*open)(const struct pos_store_conf *conf, struct err *err);
    /* Reads the record into *rec (initialised by the caller, replaced on success). Returns
     * POS_STORE_LOADED, POS_STORE_NONE (rec untouched), or a negative code: ERR_POS_CORRUPT when
     * the stored data is damaged (never silently reset), ERR_POS_STORE for I/O errors. */
    int (*load)(struct pos_store *st, struct pos_store_record *rec, struct err *err);
    /* Persists *rec durably before returning 0 (see the contract above for rec->consumed).
     * On error the previously saved record is still the one load() returns. Errors:
     * ERR_POS_STORE (I/O), ERR_POS_STALE (another owner wrote since: stop the instance). */
    int (*save)(struct pos_store *st, const struct pos_store_record *rec, struct err *err);
    /* Releases the store (NULL is not passed). Saves nothing. */
    void (*close)(struct pos_store *st);
};

struct pos_store {
    const struct pos_store_ops *ops;
    char *instance; /* owned copy of conf->instance */
};

/* ---- records ---- */

/* Makes *rec empty (positions empty, identity unknown, schema version 0). */
void pos_store_record_init(struct pos_store_record *rec);
/* Releases what *rec owns and makes it empty; NULL-safe. */
void pos_store_record_free(struct pos_store_record *rec);
/* Replaces *dst by a deep copy of *src. */
void pos_store_record_copy(struct pos_store_record *dst, const struct pos_store_record *src);

/* ---- for the stores' `key=value` record text (meta/file.c, meta/zk.c) ---- */

/* ERR_POS_STORE when a file name or the server identity of rec holds a control character
 * (it would break the line format); 0 otherwise. */
int pos_store_record_check_text(const struct pos_store_record *rec,
                                const char *instance,
                                struct err *err);
/* Appends NAME.file, NAME.offset, NAME.gtid and NAME.ts lines for p. */
void pos_store_put_position(struct strbuf *sb, const char *name, const struct position *p);
/* Parses a decimal s (digits only) of at most max into *v; false when it is not one. */
bool pos_store_parse_u64(const char *s, uint64_t max, uint64_t *v);

/* ---- registry ---- */

/* The ops registered under name ("file"), NULL when none. The table is static: no registration
 * at run time. */
const struct pos_store_ops *pos_store_find(const char *name);

/* Opens the store named type for conf. Returns NULL with err filled when the type is unknown
 * (the message lists the known ones), the ops' abi differs, or the store's open() fails.
 * Caller frees with pos_store_close(). */
struct pos_store *
pos_store_open(const char *type, const struct pos_store_conf *conf, struct err *err);

struct config_instance;

/* Opens the store an instance's `positions:` configures (its keys for the store type become the
 * params). Returns NULL with err filled as pos_store_open. Caller frees with pos_store_close. */
struct pos_store *pos_store_open_config(const struct config_instance *in, struct err *err);

/* Value of key in conf, NULL when absent. Borrowed from conf. */
const char *pos_store_conf_get(const struct pos_store_conf *conf, const char *key);

/* True when name is a usable instance name (it becomes a file or node name). */
bool pos_store_instance_name_ok(const char *name);

/* ---- wrappers (callers use these, never the ops directly) ---- */

static inline int
pos_store_load(struct pos_store *st, struct pos_store_record *rec, struct err *err)
{
    return st->ops->load(st, rec, err);
}

static inline int
pos_store_save(struct pos_store *st, const struct pos_store_record *rec, struct err *err)
{
    return st->ops->save(st, rec, err);
}

/* Releases st; NULL-safe. */
static inline void pos_store_close(struct pos_store *st)
{
    if (st)
        st->ops->close(st);
}

#endif
