/*
 * position.c — binlog positions and GTID sets (see position.h for the syntax and the canonical
 * form).
 *
 * Invariants kept by every function here:
 *   - MySQL: sids sorted by (uuid, tag), no sid without intervals; each sid's intervals sorted,
 *     disjoint and not adjacent (n-m and m+1-k are merged), 1 <= start <= end < INT64_MAX.
 *   - MariaDB: doms sorted by domain, one per domain.
 *   - flavor is NONE exactly when both arrays are empty.
 * So formatting is a plain walk, and comparing two sets is a walk over intervals.
 *
 * Sets are small (a few uuids or domains), so lookups are linear; the hot path, adding the next
 * transaction of the same uuid, extends the last interval without moving anything.
 * Runs on whichever thread owns the object; no global state.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "position.h"
#include "xmalloc.h"

/* ---- small parsing helpers ---- */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Parses a 36-character uuid at s into out (lower case). Returns the characters used, 0 when
 * s does not start with a uuid. */
static size_t parse_uuid(const char *s, char out[37])
{
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return 0;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[36] = '\0';
    return 36;
}

/* Parses a tag ([A-Za-z_][A-Za-z0-9_]*, at most POSITION_GTID_TAG_MAX) into out, lower case.
 * Returns the characters used, 0 when there is no valid tag at s. */
static size_t parse_tag(const char *s, char out[POSITION_GTID_TAG_MAX + 1])
{
    size_t n = 0;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_') {
        if (n == POSITION_GTID_TAG_MAX)
            return 0;
        out[n] = (char)tolower((unsigned char)s[n]);
        n++;
    }
    out[n] = '\0';
    return n;
}

/* Parses decimal digits at s into *v, refusing values above max. Returns the characters used,
 * 0 when there is no digit or the value is too large. */
static size_t parse_num(const char *s, uint64_t max, uint64_t *v)
{
    size_t n = 0;
    uint64_t x = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        unsigned d = (unsigned)(s[n] - '0');
        if (x > (max - d) / 10)
            return 0;
        x = x * 10 + d;
        n++;
    }
    *v = x;
    return n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Largest MySQL transaction number: interval ends stay below INT64_MAX so end + 1 never
 * overflows (MySQL's own limit is 2^63 - 2). */
#define GNO_MAX ((uint64_t)INT64_MAX - 1)

/* ---- MySQL sids ---- */

static int sid_cmp(const char *uuid_a, const char *tag_a, const char *uuid_b, const char *tag_b)
{
    int c = strcmp(uuid_a, uuid_b);
    return c ? c : strcmp(tag_a, tag_b);
}

/* The sid for (uuid, tag), or NULL. */
static const struct position_gtid_sid *
sid_find(const struct position_gtid_set *set, const char *uuid, const char *tag)
{
    for (size_t i = 0; i < set->nsids; i++)
        if (sid_cmp(set->sids[i].uuid, set->sids[i].tag, uuid, tag) == 0)
            return &set->sids[i];
    return NULL;
}

/* The sid for (uuid, tag), created empty at its sorted place when missing. */
static struct position_gtid_sid *
sid_get(struct position_gtid_set *set, const char *uuid, const char *tag)
{
    size_t i = 0;
    for (; i < set->nsids; i++) {
        int c = sid_cmp(set->sids[i].uuid, set->sids[i].tag, uuid, tag);
        if (c == 0)
            return &set->sids[i];
        if (c > 0)
            break;
    }
    if (set->nsids == set->capsids) {
        set->capsids = set->capsids ? set->capsids * 2 : 4;
        set->sids = xrealloc(set->sids, set->capsids * sizeof(*set->sids));
    }
    memmove(&set->sids[i + 1], &set->sids[i], (set->nsids - i) * sizeof(*set->sids));
    set->nsids++;
    struct position_gtid_sid *sid = &set->sids[i];
    memset(sid, 0, sizeof(*sid));
    memcpy(sid->uuid, uuid, sizeof(sid->uuid));
    snprintf(sid->tag, sizeof(sid->tag), "%s", tag);
    set->flavor = POSITION_GTID_MYSQL;
    return sid;
}

/* Adds [s, e] to sid's intervals, merging overlapping and adjacent ones. */
static void sid_add(struct position_gtid_sid *sid, int64_t s, int64_t e)
{
    size_t n = sid->nivs;
    /* The hot path: the next transaction of a running interval. */
    if (n && sid->ivs[n - 1].start <= s && sid->ivs[n - 1].end + 1 >= s) {
        if (e > sid->ivs[n - 1].end)
            sid->ivs[n - 1].end = e;
        return;
    }
    /* First interval that overlaps or touches [s, e] or lies after it. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid->ivs[mid].end + 1 < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t j = lo;
    while (j < n && sid->ivs[j].start <= e + 1) {
        if (sid->ivs[j].start < s)
            s = sid->ivs[j].start;
        if (sid->ivs[j].end > e)
            e = sid->ivs[j].end;
        j++;
    }
    if (j == lo) { /* nothing to merge with: insert */
        if (n == sid->capivs) {
            sid->capivs = sid->capivs ? sid->capivs * 2 : 4;
            sid->ivs = xrealloc(sid->ivs, sid->capivs * sizeof(*sid->ivs));
        }
        memmove(&sid->ivs[lo + 1], &sid->ivs[lo], (n - lo) * sizeof(*sid->ivs));
        sid->nivs++;
    } else { /* [lo, j) collapse into one */
        memmove(&sid->ivs[lo + 1], &sid->ivs[j], (n - j) * sizeof(*sid->ivs));
        sid->nivs -= j - lo - 1;
    }
    sid->ivs[lo].start = s;
    sid->ivs[lo].end = e;
}

/* True when [s, e] lies inside one of sid's intervals. */
static bool sid_has(const struct position_gtid_sid *sid, int64_t s, int64_t e)
{
    size_t lo = 0, hi = sid->nivs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid->ivs[mid].end < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sid->nivs && sid->ivs[lo].start <= s && sid->ivs[lo].end >= e;
}

/* ---- MariaDB domains ---- */

static struct position_gtid_domain *dom_find(const struct position_gtid_set *set, uint32_t d)
{
    for (size_t i = 0; i < set->ndoms; i++)
        if (set->doms[i].domain == d)
            return &set->doms[i];
    return NULL;
}

/* Inserts a new domain entry at its sorted place (the domain must not be present). */
static void dom_insert(struct position_gtid_set *set, const struct position_gtid_domain *dom)
{
    size_t i = 0;
    while (i < set->ndoms && set->doms[i].domain < dom->domain)
        i++;
    if (set->ndoms == set->capdoms) {
        set->capdoms = set->capdoms ? set->capdoms * 2 : 4;
        set->doms = xrealloc(set->doms, set->capdoms * sizeof(*set->doms));
    }
    memmove(&set->doms[i + 1], &set->doms[i], (set->ndoms - i) * sizeof(*set->doms));
    set->doms[i] = *dom;
    set->ndoms++;
    set->flavor = POSITION_GTID_MARIADB;
}

/* Parses "domain-server-seq" at s. Returns the characters used, 0 when malformed. */
static size_t parse_maria(const char *s, struct position_gtid_domain *out)
{
    uint64_t d, srv, seq;
    size_t n = parse_num(s, UINT32_MAX, &d), k;
    if (n == 0 || s[n] != '-')
        return 0;
    n++;
    if ((k = parse_num(s + n, UINT32_MAX, &srv)) == 0 || s[n + k] != '-')
        return 0;
    n += k + 1;
    if ((k = parse_num(s + n, UINT64_MAX, &seq)) == 0)
        return 0;
    out->domain = (uint32_t)d;
    out->server = (uint32_t)srv;
    out->seq = seq;
    return n + k;
}

/* ---- sets ---- */

void position_gtid_init(struct position_gtid_set *set)
{
    memset(set, 0, sizeof(*set));
}

void position_gtid_free(struct position_gtid_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nsids; i++)
        free(set->sids[i].ivs);
    free(set->sids);
    free(set->doms);
    memset(set, 0, sizeof(*set));
}

void position_gtid_copy(struct position_gtid_set *dst, const struct position_gtid_set *src)
{
    if (dst == src)
        return;
    position_gtid_free(dst);
    dst->flavor = src->flavor;
    if (src->nsids) {
        dst->sids = xcalloc(src->nsids, sizeof(*dst->sids));
        dst->nsids = dst->capsids = src->nsids;
        for (size_t i = 0; i < src->nsids; i++) {
            const struct position_gtid_sid *s = &src->sids[i];
            struct position_gtid_sid *d = &dst->sids[i];
            *d = *s;
            d->ivs = xmalloc(s->nivs * sizeof(*d->ivs));
            memcpy(d->ivs, s->ivs, s->nivs * sizeof(*d->ivs));
            d->capivs = s->nivs;
        }
    }
    if (src->ndoms) {
        dst->doms = xmalloc(src->ndoms * sizeof(*dst->doms));
        memcpy(dst->doms, src->doms, src->ndoms * sizeof(*dst->doms));
        dst->ndoms = dst->capdoms = src->ndoms;
    }
}

bool position_gtid_is_empty(const struct position_gtid_set *set)
{
    return set->nsids == 0 && set->ndoms == 0;
}

/* Fills err for a parse failure at text[at], quoting up to 40 characters from there. */
static int parse_error(struct err *err, const char *text, size_t at, const char *what)
{
    size_t n = strcspn(text + at, ",");
    if (n > 40)
        n = 40;
    return err_set(err, ERR_POS_GTID, "gtid set: %s at offset %zu (\"%.*s\")", what, at, (int)n,
                   text + at);
}

/* MySQL set: entries `uuid(:tag|:interval)+` separated by ','. */
static int parse_mysql(struct position_gtid_set *set, const char *text, struct err *err)
{
    size_t i = 0;
    for (;;) {
        while (is_space(text[i]))
            i++;
        char uuid[37];
        size_t n = parse_uuid(text + i, uuid);
        if (n == 0)
            return parse_error(err, text, i, "bad uuid");
        i += n;
        if (text[i] != ':')
            return parse_error(err, text, i, "expected ':' and an interval after the uuid");
        char tag[POSITION_GTID_TAG_MAX + 1] = "";
        bool tag_used = true; /* the uuid alone names no transaction: an interval must follow */
        bool any = false;
        while (text[i] == ':') {
            i++;
            if (text[i] >= '0' && text[i] <= '9') {
                uint64_t s, e;
                size_t at = i;
                size_t k = parse_num(text + i, UINT64_MAX, &s);
                if (k == 0)
                    return parse_error(err, text, at, "transaction number too large");
                i += k;
                e = s;
                if (text[i] == '-') {
                    k = parse_num(text + i + 1, UINT64_MAX, &e);
                    if (k == 0)
                        return parse_error(err, text, at, "bad interval end");
                    i += k + 1;
                }
                if (s == 0 || s > GNO_MAX || e > GNO_MAX)
                    return parse_error(err, text, at,
                                       "transaction number out of range 1..9223372036854775806");
                if (e < s)
                    return parse_error(err, text, at, "interval end before its start");
                sid_add(sid_get(set, uuid, tag), (int64_t)s, (int64_t)e);
                tag_used = any = true;
            } else {
                if (!tag_used)
                    return parse_error(err, text, i, "tag without an interval");
                size_t k = parse_tag(text + i, tag);
                if (k == 0)
                    return parse_error(err, text, i,
                                       "bad tag (letters, digits, '_', at most 32) or interval");
                i += k;
                tag_used = false;
            }
        }
        if (!tag_used || !any)
            return parse_error(err, text, i, "tag without an interval");
        while (is_space(text[i]))
            i++;
        if (text[i] == '\0')
            return 0;
        if (text[i] != ',')
            return parse_error(err, text, i, "unexpected character");
        i++;
    }
}

/* MariaDB set: entries `domain-server-seq` separated by ',', one per domain. */
static int parse_mariadb(struct position_gtid_set *set, const char *text, struct err *err)
{
    size_t i = 0;
    for (;;) {
        while (is_space(text[i]))
            i++;
        struct position_gtid_domain dom;
        size_t n = parse_maria(text + i, &dom);
        if (n == 0)
            return parse_error(err, text, i,
                               "bad mariadb gtid (want domain-server-seq, each a decimal number)");
        if (dom_find(set, dom.domain))
            return parse_error(err, text, i, "second gtid for the same domain");
        dom_insert(set, &dom);
        i += n;
        while (is_space(text[i]))
            i++;
        if (text[i] == '\0')
            return 0;
        if (text[i] != ',')
            return parse_error(err, text, i, "unexpected character");
        i++;
    }
}

int position_gtid_parse(struct position_gtid_set *set, const char *text, struct err *err)
{
    position_gtid_free(set);
    const char *p = text;
    while (is_space(*p))
        p++;
    if (*p == '\0')
        return 0;
    /* Every MySQL entry has a ':', no MariaDB entry has one. */
    int r = strchr(text, ':') ? parse_mysql(set, text, err) : parse_mariadb(set, text, err);
    if (r)
        position_gtid_free(set);
    return r;
}

void position_gtid_format(const struct position_gtid_set *set, struct strbuf *sb)
{
    for (size_t i = 0; i < set->nsids; i++) {
        const struct position_gtid_sid *sid = &set->sids[i];
        if (i == 0 || strcmp(sid->uuid, set->sids[i - 1].uuid) != 0) {
            if (i)
                strbuf_appendc(sb, ',');
            strbuf_appends(sb, sid->uuid);
        }
        if (sid->tag[0]) {
            strbuf_appendc(sb, ':');
            strbuf_appends(sb, sid->tag);
        }
        for (size_t k = 0; k < sid->nivs; k++) {
            strbuf_appendc(sb, ':');
            strbuf_append_i64(sb, sid->ivs[k].start);
            if (sid->ivs[k].end != sid->ivs[k].start) {
                strbuf_appendc(sb, '-');
                strbuf_append_i64(sb, sid->ivs[k].end);
            }
        }
    }
    for (size_t i = 0; i < set->ndoms; i++) {
        if (i)
            strbuf_appendc(sb, ',');
        strbuf_printf(sb, "%u-%u-", set->doms[i].domain, set->doms[i].server);
        strbuf_append_u64(sb, set->doms[i].seq);
    }
}

/* One transaction as position_gtid_add takes it. */
struct one_gtid {
    enum position_gtid_flavor flavor;
    char uuid[37];
    char tag[POSITION_GTID_TAG_MAX + 1];
    int64_t gno;
    struct position_gtid_domain dom;
};

static int parse_one(const char *gtid, struct one_gtid *g, struct err *err)
{
    memset(g, 0, sizeof(*g));
    size_t i;
    if (strchr(gtid, ':') == NULL) {
        i = parse_maria(gtid, &g->dom);
        if (i == 0 || gtid[i] != '\0')
            return err_set(err, ERR_POS_GTID, "gtid \"%.60s\": want domain-server-seq", gtid);
        g->flavor = POSITION_GTID_MARIADB;
        return 0;
    }
    if ((i = parse_uuid(gtid, g->uuid)) == 0 || gtid[i] != ':')
        return err_set(err, ERR_POS_GTID, "gtid \"%.60s\": bad uuid", gtid);
    i++;
    size_t k = parse_tag(gtid + i, g->tag);
    if (k) {
        if (gtid[i + k] != ':')
            return err_set(err, ERR_POS_GTID, "gtid \"%.60s\": want uuid:tag:number", gtid);
        i += k + 1;
    }
    uint64_t gno;
    k = parse_num(gtid + i, GNO_MAX, &gno);
    if (k == 0 || gno == 0 || gtid[i + k] != '\0')
        return err_set(err, ERR_POS_GTID,
                       "gtid \"%.60s\": want uuid[:tag]:number, number 1..9223372036854775806",
                       gtid);
    g->gno = (int64_t)gno;
    g->flavor = POSITION_GTID_MYSQL;
    return 0;
}

int position_gtid_add(struct position_gtid_set *set, const char *gtid, struct err *err)
{
    struct one_gtid g;
    int r = parse_one(gtid, &g, err);
    if (r)
        return r;
    if (set->flavor != POSITION_GTID_NONE && set->flavor != g.flavor)
        return err_set(err, ERR_POS_GTID, "gtid \"%.60s\": a %s gtid added to a %s gtid set", gtid,
                       g.flavor == POSITION_GTID_MYSQL ? "mysql" : "mariadb",
                       set->flavor == POSITION_GTID_MYSQL ? "mysql" : "mariadb");
    if (g.flavor == POSITION_GTID_MYSQL) {
        sid_add(sid_get(set, g.uuid, g.tag), g.gno, g.gno);
    } else {
        struct position_gtid_domain *d = dom_find(set, g.dom.domain);
        if (d)
            *d = g.dom;
        else
            dom_insert(set, &g.dom);
    }
    return 0;
}

bool position_gtid_contains(const struct position_gtid_set *set, const char *gtid)
{
    struct one_gtid g;
    if (parse_one(gtid, &g, NULL))
        return false;
    if (g.flavor == POSITION_GTID_MYSQL) {
        const struct position_gtid_sid *sid = sid_find(set, g.uuid, g.tag);
        return sid && sid_has(sid, g.gno, g.gno);
    }
    const struct position_gtid_domain *d = dom_find(set, g.dom.domain);
    return d && d->seq >= g.dom.seq;
}

bool position_gtid_contains_set(const struct position_gtid_set *a,
                                const struct position_gtid_set *b)
{
    for (size_t i = 0; i < b->nsids; i++) {
        const struct position_gtid_sid *sb = &b->sids[i];
        const struct position_gtid_sid *sa = sid_find(a, sb->uuid, sb->tag);
        if (sa == NULL)
            return false;
        for (size_t k = 0; k < sb->nivs; k++)
            if (!sid_has(sa, sb->ivs[k].start, sb->ivs[k].end))
                return false;
    }
    for (size_t i = 0; i < b->ndoms; i++) {
        const struct position_gtid_domain *d = dom_find(a, b->doms[i].domain);
        if (d == NULL || d->seq < b->doms[i].seq)
            return false;
    }
    return true;
}

enum position_cmp position_gtid_compare(const struct position_gtid_set *a,
                                        const struct position_gtid_set *b)
{
    bool ab = position_gtid_contains_set(a, b), ba = position_gtid_contains_set(b, a);
    if (ab && ba)
        return POSITION_CMP_EQUAL;
    if (ab)
        return POSITION_CMP_GREATER;
    if (ba)
        return POSITION_CMP_LESS;
    return POSITION_CMP_UNRELATED;
}

/* ---- positions ---- */

void position_init(struct position *p)
{
    memset(p, 0, sizeof(*p));
}

void position_free(struct position *p)
{
    if (p == NULL)
        return;
    position_gtid_free(&p->gtid);
    position_init(p);
}

void position_copy(struct position *dst, const struct position *src)
{
    if (dst == src)
        return;
    memcpy(dst->file, src->file, sizeof(dst->file));
    dst->offset = src->offset;
    dst->ts = src->ts;
    position_gtid_copy(&dst->gtid, &src->gtid);
}

int position_set_file(struct position *p, const char *name, struct err *err)
{
    size_t n = strlen(name);
    if (n > POSITION_FILE_MAX)
        return err_set(err, ERR_POS_STORE, "binlog file name \"%.40s...\" is longer than %d bytes",
                       name, POSITION_FILE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return err_set(err, ERR_POS_STORE,
                           "binlog file name \"%.60s\" contains a control character", name);
    memcpy(p->file, name, n + 1);
    return 0;
}

bool position_is_empty(const struct position *p)
{
    return p->file[0] == '\0' && position_gtid_is_empty(&p->gtid);
}

int position_place_cmp(const char *fa, uint64_t pa, const char *fb, uint64_t pb)
{
    const char *da = strrchr(fa, '.'), *db = strrchr(fb, '.');
    int c;
    if (da && db && da - fa == db - fb && strncmp(fa, fb, (size_t)(da - fa)) == 0) {
        unsigned long long na = strtoull(da + 1, NULL, 10), nb = strtoull(db + 1, NULL, 10);
        c = na < nb ? -1 : na > nb;
    } else {
        c = strcmp(fa, fb);
    }
    if (c == 0)
        c = pa < pb ? -1 : pa > pb;
    return c < 0 ? -1 : c > 0;
}
