/*
 * position.h — a place in a source server's binlog stream: `file:offset`, the GTID set executed
 * up to there, and the timestamp of the event there.
 *
 * GTID sets come in two flavours, decided by the first GTID or set text seen:
 *   MySQL    `uuid:1-5:7-9,uuid2:1-3`; tagged (8.4+) `uuid:tag:1-3`, several tags may follow one
 *            uuid (`uuid:1-5:tag1:1-3:tag2:7`). Intervals are inclusive, 1 ≤ n < 2^63. A set is a
 *            set: adding a transaction merges it into its (uuid, tag) intervals.
 *   MariaDB  `domain-server-seq,...`, one entry per replication domain; the entry is the last
 *            transaction applied in that domain (adding replaces the domain's entry).
 * The canonical text (position_gtid_format) is what MySQL's @@gtid_executed and MariaDB's
 * @@gtid_slave_pos accept: MySQL entries sorted by uuid, then untagged before tags in byte order,
 * intervals merged and sorted, a single transaction written `n` not `n-n`, uuids and tags lower
 * case; MariaDB entries sorted by domain; entries separated by ',' without spaces. The empty set
 * formats as "".
 *
 * Ownership: a struct position and a struct position_gtid_set own their memory; zero them with
 * position_init()/position_gtid_init() (or `= {0}`), release with position_free()/
 * position_gtid_free(). Not thread-safe per object; no global state.
 */
#ifndef SLUICE_POSITION_H
#define SLUICE_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/* Longest binlog file name kept (MySQL's FN_REFLEN is 512, names in practice are short). */
#define POSITION_FILE_MAX 512
/* MySQL tag length limit (8.4: 32 characters). */
#define POSITION_GTID_TAG_MAX 32

enum position_gtid_flavor {
    POSITION_GTID_NONE,    /* empty set, flavour not known yet */
    POSITION_GTID_MYSQL,   /* uuid[:tag]:intervals */
    POSITION_GTID_MARIADB, /* domain-server-seq */
};

/* One inclusive range of MySQL transaction numbers. */
struct position_gtid_interval {
    int64_t start;
    int64_t end;
};

/* The transactions of one MySQL (uuid, tag): intervals sorted, disjoint, not adjacent. */
struct position_gtid_sid {
    char uuid[37];                       /* lower case, with dashes */
    char tag[POSITION_GTID_TAG_MAX + 1]; /* lower case, "" when untagged */
    struct position_gtid_interval *ivs;  /* owned */
    size_t nivs, capivs;
};

/* The last transaction of one MariaDB domain. */
struct position_gtid_domain {
    uint32_t domain;
    uint32_t server;
    uint64_t seq;
};

struct position_gtid_set {
    enum position_gtid_flavor flavor;
    struct position_gtid_sid *sids; /* MySQL: sorted by (uuid, tag); owned */
    size_t nsids, capsids;
    struct position_gtid_domain *doms; /* MariaDB: sorted by domain; owned */
    size_t ndoms, capdoms;
};

struct position {
    char file[POSITION_FILE_MAX + 1]; /* binlog file name, "" when unknown */
    uint64_t offset;                  /* byte offset in file: where to resume reading */
    struct position_gtid_set gtid;    /* executed set up to here (may be empty) */
    uint32_t ts;                      /* event timestamp, seconds since the epoch, 0 if unknown */
};

/* Relation of two GTID sets, from position_gtid_compare(a, b). */
enum position_cmp {
    POSITION_CMP_EQUAL,     /* same transactions */
    POSITION_CMP_LESS,      /* a is a proper subset of b (a is behind) */
    POSITION_CMP_GREATER,   /* a is a proper superset of b (a is ahead) */
    POSITION_CMP_UNRELATED, /* each holds something the other lacks, or flavours differ */
};

/* ---- GTID sets ---- */

/* Makes *set an empty set (no allocation). */
void position_gtid_init(struct position_gtid_set *set);
/* Releases what *set owns and makes it empty; NULL-safe. */
void position_gtid_free(struct position_gtid_set *set);
/* Replaces *dst by a deep copy of *src (dst must be initialised). */
void position_gtid_copy(struct position_gtid_set *dst, const struct position_gtid_set *src);
/* True when the set holds no transaction. */
bool position_gtid_is_empty(const struct position_gtid_set *set);

/* Parses text (MySQL or MariaDB syntax, whitespace around entries allowed, "" = empty set) into
 * *set, replacing its contents. Returns 0, or ERR_POS_GTID with err naming the bad part and its
 * offset in text; *set is then empty. */
int position_gtid_parse(struct position_gtid_set *set, const char *text, struct err *err);

/* Appends the canonical text of set to sb (nothing for the empty set). */
void position_gtid_format(const struct position_gtid_set *set, struct strbuf *sb);

/* Adds one transaction, as the decoder writes it in change->gtid: "uuid:42", "uuid:tag:42"
 * (MySQL: merged into the intervals) or "0-1-100" (MariaDB: replaces domain 0's entry). Returns 0,
 * or ERR_POS_GTID (malformed, or of the other flavour than the set) with *set unchanged. */
int position_gtid_add(struct position_gtid_set *set, const char *gtid, struct err *err);

/* True when the single transaction gtid (syntax as for position_gtid_add) is in set. MariaDB:
 * when set's entry for the domain has a seq >= gtid's. A malformed gtid is not contained. */
bool position_gtid_contains(const struct position_gtid_set *set, const char *gtid);

/* True when every transaction of b is in a (MariaDB: every domain of b is in a with a seq >=
 * b's). The empty set is contained in every set. */
bool position_gtid_contains_set(const struct position_gtid_set *a,
                                const struct position_gtid_set *b);

/* How a relates to b (see enum position_cmp). Two empty sets are equal. */
enum position_cmp position_gtid_compare(const struct position_gtid_set *a,
                                        const struct position_gtid_set *b);

/* ---- positions ---- */

/* Makes *p empty: no file, offset 0, empty GTID set, ts 0. */
void position_init(struct position *p);
/* Releases what *p owns and makes it empty; NULL-safe. */
void position_free(struct position *p);
/* Replaces *dst by a deep copy of *src (dst must be initialised). */
void position_copy(struct position *dst, const struct position *src);
/* Sets the file name. Returns 0, or ERR_POS_STORE when name is longer than POSITION_FILE_MAX or
 * contains a control character ('\n' etc.) — *p unchanged then. */
int position_set_file(struct position *p, const char *name, struct err *err);
/* True when the position has neither a file nor a GTID (nothing to resume from). */
bool position_is_empty(const struct position *p);

/* Orders two places in a server's binlog: file names by their numeric suffix when they share a
 * base name (binlog.999999 < binlog.1000000), else by strcmp; then offsets. Returns -1, 0, 1. */
int position_place_cmp(const char *file_a, uint64_t off_a, const char *file_b, uint64_t off_b);

#endif
