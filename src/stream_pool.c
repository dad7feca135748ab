/*
 * stream_pool.c — a live binlog stream decoded on worker threads, its changes replayed on the
 * caller's thread in stream order (see stream_pool.h).
 *
 * Chunks. Events are copied into the chunk being filled. Once it holds CHUNK_BYTES it is handed
 * to the workers (submitted) before the next event that may begin a chunk: a transaction start
 * (a MySQL, anonymous, tagged or MariaDB GTID event), or any event inside a transaction whose
 * primers (below) are few. A chunk is also submitted when the file changes (after a ROTATE).
 * A chunk begins with copies of the last FORMAT_DESCRIPTION and, when it begins inside a
 * transaction, of that transaction's GTID, BEGIN and table maps so far: primers, decoded for
 * the state they set, their changes not kept. INVARIANT: each chunk decodes by itself exactly
 * as its events decode in the whole stream.
 *
 * Slots. Chunks live in a ring of nslots slots indexed by sequence number: `nsub` chunks were
 * submitted, workers took those below `run_seq`, and those below `replay_seq` were replayed and
 * their slots freed. Each slot has its own decoder (options retain_maps), used only by the worker
 * that runs the slot's chunk, so the table maps its stored changes point at stay valid until the
 * caller has replayed them; only then are maps it dropped freed.
 *
 * Stored changes. A worker's emit callback copies each change into the chunk's `out`: a struct
 * rec_change header, the column entries of its three images, the part of the decoder's text
 * they use (offsets rebased), then its strings. Replay rebuilds a struct change from that.
 *
 * On the caller's thread ("here"). What cannot be cut into chunks is decoded by the caller's
 * own decoder (hdec) after every submitted chunk is replayed: the chunk being filled, then every
 * event up to the next transaction start. That happens for a barrier (a query that may change
 * the schema: the caller applies it before anything after it is decoded), a transaction past
 * CHUNK_MAX whose primers are too many to repeat, an event of BIG_EVENT bytes or more (not
 * copied), and a flush (an idle stream: the transaction may be incomplete). hdec is given every
 * FORMAT_DESCRIPTION as a primer, so it always knows the stream's format (decoder_query_class
 * uses it too).
 *
 * Errors. A chunk's decoding error is reported when its changes before the error have been
 * replayed; a replay callback's non-zero result stops at once. Either is sticky.
 *
 * Threads: the caller owns everything but the slots' state, run_seq, quit and the forget flags,
 * which are under mu; a worker owns a RUNNING chunk, its decoder and its out.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "binlog_event.h"
#include "stream_pool.h"
#include "strbuf.h"
#include "xmalloc.h"

#define CHUNK_BYTES (256u << 10)
#define CHUNK_MAX   (4u << 20)
#define BIG_EVENT   (4u << 20)
#define PRIMER_MAX  (256u << 10)
#define MAX_THREADS 64u

enum chunk_state { CHUNK_FREE, CHUNK_FILLING, CHUNK_QUEUED, CHUNK_RUNNING, CHUNK_DONE };

/* An event in a chunk's buffer: this header, then len bytes padded to 8. */
struct rec {
    uint64_t off;
    uint32_t len;
    uint32_t primer;
};

/* A stored change: this header, then 3 arrays of struct change_col (before, after, partial),
 * text_len bytes of text, then db, table, file and gtid (each NUL-terminated when present) and
 * sql_len bytes of SQL; the whole padded to 8. */
struct rec_change {
    uint32_t size;
    uint8_t kind;
    uint8_t flags;
    uint16_t db_len, table_len, file_len, gtid_len;
    uint32_t ts, server_id, row, sql_len, text_len;
    uint32_t ncols[3], json_off[3], json_len[3];
    uint64_t pos, next_pos, xid;
    const struct table_map *tmap;
};

#define F_MARIADB 0x01
#define F_XA      0x02
#define F_XID     0x04
#define F_DB      0x08
#define F_TABLE   0x10
#define F_FILE    0x20
#define F_GTID    0x40
#define F_SQL     0x80

struct chunk {
    struct stream_pool *p;
    enum chunk_state state;
    struct decoder *dec; /* the slot's own */
    char *dec_file;      /* the name dec was last given */
    bool forget;         /* dec forgets its tables before its next chunk (under mu) */
    uint8_t *buf;
    size_t len, cap;
    size_t bytes; /* of its events, primer not counted */
    char *file;   /* of its events (a chunk ends where the file changes) */
    uint64_t cur_off;
    bool priming; /* decoding a primer: its changes are not stored */
    struct strbuf out;
    int rc;
    struct err err;
};

struct stream_pool {
    struct stream_pool_opts o;
    pthread_t *threads;
    unsigned nthreads;

    pthread_mutex_t mu;
    pthread_cond_t work; /* to workers: a chunk was submitted, or quit */
    pthread_cond_t done; /* a chunk is DONE */
    bool quit;

    struct chunk *slots;
    unsigned nslots;
    uint64_t nsub, run_seq, replay_seq;
    bool filling; /* slot(nsub) is being filled */

    struct decoder *hdec; /* the caller's own */
    char *hdec_file;
    bool hforget;
    bool here; /* events go to hdec until the next transaction start */
    const char *hfile;
    uint64_t hoff;
    bool replay_failed; /* hdec's error came from replay */
    bool hpriming;      /* hdec is decoding a primer: its changes are not replayed */

    uint8_t *fde; /* the last FORMAT_DESCRIPTION */
    size_t fde_len;

    /* The open transaction's events that set decoder state (its GTID, BEGIN, table maps), as
     * chunk records: a chunk cut inside the transaction begins with them as primers. */
    bool in_group;
    bool grp_over; /* its primers passed PRIMER_MAX: it is not cut (see grp) */
    uint8_t *grp;
    size_t grp_len, grp_cap;

    int result; /* sticky: 0 or the first error */
    size_t chunk_bytes, big_event, chunk_max, primer_max;
};

static struct chunk *slot(struct stream_pool *p, uint64_t seq)
{
    return &p->slots[seq % p->nslots];
}

/* ---- stored changes ------------------------------------------------------------------------ */

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static size_t str_need(const char *s, uint16_t *len, uint8_t *flags, uint8_t bit)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n > UINT16_MAX - 1)
        n = UINT16_MAX - 1;
    *len = (uint16_t)n;
    *flags |= bit;
    return n + 1;
}

static char *put_str(char *at, const char *s, uint16_t len, bool present)
{
    if (!present)
        return at;
    memcpy(at, s, len);
    at[len] = '\0';
    return at + len + 1;
}

/* Appends c to out as a struct rec_change and what follows it. */
static void store_change(struct strbuf *out, const struct change *c)
{
    const struct change_image *im[3] = {&c->before, &c->after, &c->partial};
    uint32_t lo = UINT32_MAX, hi = 0, ncols = 0;
    for (int k = 0; k < 3; k++) {
        for (uint32_t j = 0; j < im[k]->ncols; j++) {
            const struct change_col *col = &im[k]->cols[j];
            if (col->off < lo)
                lo = col->off;
            if (col->off + col->len > hi)
                hi = col->off + col->len;
        }
        if (im[k]->json_len) {
            if (im[k]->json_off < lo)
                lo = im[k]->json_off;
            if (im[k]->json_off + im[k]->json_len > hi)
                hi = im[k]->json_off + im[k]->json_len;
        }
        ncols += im[k]->ncols;
    }
    if (lo > hi)
        lo = hi = 0;
    struct rec_change r;
    memset(&r, 0, sizeof(r));
    r.kind = (uint8_t)c->kind;
    r.flags = (uint8_t)((c->mariadb ? F_MARIADB : 0) | (c->xa ? F_XA : 0) |
                        (c->has_xid ? F_XID : 0) | (c->sql ? F_SQL : 0));
    size_t need = sizeof(r) + ncols * sizeof(struct change_col) + (hi - lo);
    need += str_need(c->db, &r.db_len, &r.flags, F_DB);
    need += str_need(c->table, &r.table_len, &r.flags, F_TABLE);
    need += str_need(c->file, &r.file_len, &r.flags, F_FILE);
    need += str_need(c->gtid, &r.gtid_len, &r.flags, F_GTID);
    need += c->sql ? c->sql_len : 0;
    need = pad8(need);
    r.size = (uint32_t)need;
    r.ts = c->ts;
    r.server_id = c->server_id;
    r.row = c->row;
    r.sql_len = c->sql ? c->sql_len : 0;
    r.text_len = hi - lo;
    for (int k = 0; k < 3; k++) {
        r.ncols[k] = im[k]->ncols;
        r.json_len[k] = im[k]->json_len;
        r.json_off[k] = im[k]->json_len ? im[k]->json_off - lo : 0;
    }
    r.pos = c->pos;
    r.next_pos = c->next_pos;
    r.xid = c->xid;
    r.tmap = c->tmap;

    strbuf_reserve(out, need);
    char *at = out->buf + out->len;
    memcpy(at, &r, sizeof(r));
    at += sizeof(r);
    for (int k = 0; k < 3; k++) {
        struct change_col *cols = (struct change_col *)(void *)at;
        for (uint32_t j = 0; j < im[k]->ncols; j++) {
            cols[j] = im[k]->cols[j];
            cols[j].off -= lo;
        }
        at += im[k]->ncols * sizeof(struct change_col);
    }
    if (hi > lo)
        memcpy(at, c->text + lo, hi - lo);
    at += hi - lo;
    at = put_str(at, c->db, r.db_len, r.flags & F_DB);
    at = put_str(at, c->table, r.table_len, r.flags & F_TABLE);
    at = put_str(at, c->file, r.file_len, r.flags & F_FILE);
    at = put_str(at, c->gtid, r.gtid_len, r.flags & F_GTID);
    if (r.sql_len)
        memcpy(at, c->sql, r.sql_len);
    out->len += need;
    out->buf[out->len] = '\0';
}

/* Rebuilds the change stored at rec into c (pointing into the record). */
static void load_change(const char *rec, struct change *c)
{
    struct rec_change r;
    memcpy(&r, rec, sizeof(r));
    memset(c, 0, sizeof(*c));
    c->kind = (enum change_kind)r.kind;
    c->tmap = r.tmap;
    c->ts = r.ts;
    c->server_id = r.server_id;
    c->mariadb = r.flags & F_MARIADB;
    c->pos = r.pos;
    c->next_pos = r.next_pos;
    c->row = r.row;
    c->xa = r.flags & F_XA;
    c->has_xid = r.flags & F_XID;
    c->xid = r.xid;
    const char *at = rec + sizeof(r);
    struct change_image *im[3] = {&c->before, &c->after, &c->partial};
    for (int k = 0; k < 3; k++) {
        im[k]->cols = (const struct change_col *)(const void *)at;
        im[k]->ncols = r.ncols[k];
        im[k]->json_off = r.json_off[k];
        im[k]->json_len = r.json_len[k];
        at += r.ncols[k] * sizeof(struct change_col);
    }
    c->text = at;
    at += r.text_len;
    const char **strs[4] = {&c->db, &c->table, &c->file, &c->gtid};
    const uint16_t lens[4] = {r.db_len, r.table_len, r.file_len, r.gtid_len};
    const uint8_t bits[4] = {F_DB, F_TABLE, F_FILE, F_GTID};
    for (int k = 0; k < 4; k++) {
        if (r.flags & bits[k]) {
            *strs[k] = at;
            at += lens[k] + 1;
        }
    }
    if (r.flags & F_SQL) {
        c->sql = at;
        c->sql_len = r.sql_len;
    }
}

/* ---- workers ------------------------------------------------------------------------------- */

static int slot_emit(const struct change *c, void *opaque)
{
    struct chunk *ch = opaque;
    if (!ch->priming)
        store_change(&ch->out, c);
    return 0;
}

static void slot_warn(const char *msg, void *opaque)
{
    struct chunk *ch = opaque;
    if (ch->p->o.warn)
        ch->p->o.warn(msg, ch->p->o.opaque);
}

static int slot_table_map(struct table_map *tm, void *opaque, struct err *err)
{
    struct chunk *ch = opaque;
    return ch->p->o.on_table_map(tm, ch->file, ch->cur_off, ch->p->o.opaque, err);
}

static void set_dec_file(struct decoder *d, char **have, const char *file)
{
    if (*have == NULL || strcmp(*have, file) != 0) {
        decoder_set_file(d, file);
        free(*have);
        *have = xstrdup(file);
    }
}

/* Decodes every event of ch with its slot's decoder, up to the first that fails. */
static void decode_chunk(struct chunk *ch, bool forget)
{
    if (forget)
        decoder_forget_tables(ch->dec);
    set_dec_file(ch->dec, &ch->dec_file, ch->file);
    size_t at = 0;
    while (at < ch->len) {
        const struct rec *r = (const struct rec *)(const void *)(ch->buf + at);
        const uint8_t *ev = ch->buf + at + sizeof(*r);
        at += sizeof(*r) + pad8(r->len);
        ch->cur_off = r->off;
        ch->priming = r->primer;
        struct err e = {0};
        int rc = r->primer ? decoder_prime(ch->dec, ev, r->len, r->off, &e)
                           : decoder_feed(ch->dec, ev, r->len, r->off, &e);
        ch->priming = false;
        if (rc) {
            ch->rc = rc;
            ch->err = e;
            break;
        }
    }
    /* The decoder followed any ROTATE: the name it has is no longer what dec_file says. */
    free(ch->dec_file);
    ch->dec_file = NULL;
}

static void *worker_main(void *arg)
{
    struct stream_pool *p = arg;
    prctl(PR_SET_NAME, "sluice-decode", 0, 0, 0);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->run_seq >= p->nsub)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        struct chunk *ch = slot(p, p->run_seq++);
        ch->state = CHUNK_RUNNING;
        bool forget = ch->forget;
        ch->forget = false;
        pthread_mutex_unlock(&p->mu);
        decode_chunk(ch, forget);
        pthread_mutex_lock(&p->mu);
        ch->state = CHUNK_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the caller's decoder ------------------------------------------------------------------ */

static int here_emit(const struct change *c, void *opaque)
{
    struct stream_pool *p = opaque;
    if (p->hpriming)
        return 0;
    int rc = p->o.replay(c, p->o.opaque);
    if (rc)
        p->replay_failed = true;
    return rc;
}

static void here_warn(const char *msg, void *opaque)
{
    struct stream_pool *p = opaque;
    if (p->o.warn)
        p->o.warn(msg, p->o.opaque);
}

static int here_table_map(struct table_map *tm, void *opaque, struct err *err)
{
    struct stream_pool *p = opaque;
    return p->o.on_table_map(tm, p->hfile, p->hoff, p->o.opaque, err);
}

static int fail(struct stream_pool *p, int rc)
{
    if (p->result == 0)
        p->result = rc;
    return rc;
}

/* Decodes one event with hdec (primer: for its state only). */
static int here_feed(struct stream_pool *p,
                     const uint8_t *ev,
                     size_t len,
                     uint64_t off,
                     const char *file,
                     bool primer,
                     struct err *err)
{
    if (p->hforget) {
        decoder_forget_tables(p->hdec);
        p->hforget = false;
    }
    set_dec_file(p->hdec, &p->hdec_file, file);
    p->hfile = file;
    p->hoff = off;
    struct err e = {0};
    p->replay_failed = false;
    p->hpriming = primer;
    int rc =
        primer ? decoder_prime(p->hdec, ev, len, off, &e) : decoder_feed(p->hdec, ev, len, off, &e);
    p->hpriming = false;
    decoder_release_maps(p->hdec); /* its changes were replayed during the call */
    if (len > 4 && ev[4] == BINLOG_EV_ROTATE) {
        free(p->hdec_file); /* it followed the ROTATE */
        p->hdec_file = NULL;
    }
    if (rc == 0)
        return 0;
    if (!p->replay_failed)
        *err = e;
    return fail(p, rc);
}

/* ---- the caller's side --------------------------------------------------------------------- */

/* Appends an event record to the buffer (*buf, *len, *cap). */
static void rec_add(uint8_t **buf,
                    size_t *len,
                    size_t *cap,
                    const uint8_t *ev,
                    size_t evlen,
                    uint64_t off,
                    bool primer)
{
    size_t need = sizeof(struct rec) + pad8(evlen);
    if (*len + need > *cap) {
        size_t c = *cap ? *cap : 64u << 10;
        while (c < *len + need)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    struct rec r = {.off = off, .len = (uint32_t)evlen, .primer = primer};
    memcpy(*buf + *len, &r, sizeof(r));
    memcpy(*buf + *len + sizeof(r), ev, evlen);
    *len += need;
}

static void chunk_add(struct chunk *ch, const uint8_t *ev, size_t len, uint64_t off, bool primer)
{
    rec_add(&ch->buf, &ch->len, &ch->cap, ev, len, off, primer);
    if (!primer)
        ch->bytes += len;
}

/* ---- the open transaction's primers -------------------------------------------------------- */

static void group_reset(struct stream_pool *p, bool open)
{
    p->in_group = open;
    p->grp_over = false;
    p->grp_len = 0;
    if (p->grp_cap > 2 * (size_t)PRIMER_MAX) {
        free(p->grp);
        p->grp = NULL;
        p->grp_cap = 0;
    }
}

/* True when the primers already hold this exact event (a table map re-sent per statement). */
static bool group_has(const struct stream_pool *p, const uint8_t *ev, size_t len)
{
    /* Compared without the header (timestamp, position) and the checksum that covers it. */
    size_t tail = decoder_has_checksum(p->hdec) ? BINLOG_CHECKSUM_LEN : 0;
    if (len < BINLOG_HEADER_LEN + tail)
        return false;
    size_t n = len - BINLOG_HEADER_LEN - tail;
    size_t at = 0;
    while (at < p->grp_len) {
        const struct rec *r = (const struct rec *)(const void *)(p->grp + at);
        const uint8_t *e = p->grp + at + sizeof(*r);
        if (r->len == len && e[4] == ev[4] &&
            memcmp(e + BINLOG_HEADER_LEN, ev + BINLOG_HEADER_LEN, n) == 0)
            return true;
        at += sizeof(*r) + pad8(r->len);
    }
    return false;
}

/* Follows the transactions of the stream (events put in chunks, in order); q is the event's
 * decoder_query_class. */
static void group_track(struct stream_pool *p,
                        uint8_t type,
                        enum decoder_query q,
                        const uint8_t *ev,
                        size_t len,
                        uint64_t off)
{
    bool add = false;
    if (binlog_event_starts_group(type)) {
        group_reset(p, true);
        add = true;
    } else if (q != DECODER_Q_NONE) {
        if (q == DECODER_Q_BEGIN) {
            if (!p->in_group)
                group_reset(p, true);
            add = true;
        } else if (q == DECODER_Q_END) {
            group_reset(p, false);
        }
    } else if (type == BINLOG_EV_TABLE_MAP) {
        add = p->in_group && !group_has(p, ev, len);
    } else if (type == BINLOG_EV_XID || type == BINLOG_EV_XA_PREPARE) {
        group_reset(p, false);
    }
    if (add && !p->grp_over && p->grp_len + len <= p->primer_max)
        rec_add(&p->grp, &p->grp_len, &p->grp_cap, ev, len, off, true);
    else if (add)
        p->grp_over = true; /* too many to repeat: no cut inside this one */
}

/* Empties a chunk whose changes were replayed (or dropped) and frees its slot's dropped maps. */
static void chunk_clear(struct chunk *ch)
{
    ch->len = ch->bytes = 0;
    strbuf_reset(&ch->out);
    if (ch->out.cap > (16u << 20)) { /* one large chunk does not keep its memory */
        strbuf_free(&ch->out);
        strbuf_init(&ch->out);
    }
    if (ch->cap > 2 * (size_t)CHUNK_MAX) {
        free(ch->buf);
        ch->buf = NULL;
        ch->cap = 0;
    }
    ch->rc = 0;
    memset(&ch->err, 0, sizeof(ch->err));
    decoder_release_maps(ch->dec);
}

/* Replays the changes of a DONE chunk, then its error if it has one. */
static int replay_chunk(struct stream_pool *p, struct chunk *ch, struct err *err)
{
    size_t at = 0;
    while (at < ch->out.len) {
        struct change c;
        load_change(ch->out.buf + at, &c);
        uint32_t size;
        memcpy(&size, ch->out.buf + at, sizeof(size));
        int rc = p->o.replay(&c, p->o.opaque);
        if (rc)
            return rc;
        at += size;
    }
    if (ch->rc) {
        *err = ch->err;
        return ch->rc;
    }
    return 0;
}

/* Replays the head chunk: waits for it when `wait`, else returns 1 when it is not DONE yet. */
static int replay_head(struct stream_pool *p, bool wait, struct err *err)
{
    struct chunk *ch = slot(p, p->replay_seq);
    pthread_mutex_lock(&p->mu);
    while (ch->state != CHUNK_DONE && wait)
        pthread_cond_wait(&p->done, &p->mu);
    bool ready = ch->state == CHUNK_DONE;
    pthread_mutex_unlock(&p->mu);
    if (!ready)
        return 1;
    int rc = replay_chunk(p, ch, err);
    chunk_clear(ch);
    pthread_mutex_lock(&p->mu);
    ch->state = CHUNK_FREE;
    p->replay_seq++;
    pthread_mutex_unlock(&p->mu);
    return rc ? fail(p, rc) : 0;
}

/* Replays every submitted chunk. */
static int replay_all(struct stream_pool *p, struct err *err)
{
    while (p->replay_seq < p->nsub) {
        int rc = replay_head(p, true, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Replays the chunks that are done, in order, without waiting. */
static int replay_ready(struct stream_pool *p, struct err *err)
{
    while (p->replay_seq < p->nsub) {
        int rc = replay_head(p, false, err);
        if (rc)
            return rc > 0 ? 0 : rc;
    }
    return 0;
}

static void submit(struct stream_pool *p)
{
    pthread_mutex_lock(&p->mu);
    slot(p, p->nsub)->state = CHUNK_QUEUED;
    p->nsub++;
    p->filling = false;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

/* Starts filling slot(nsub) for `file`, after replaying the head when the ring is full. */
static int
start_chunk(struct stream_pool *p, const char *file, bool primer, bool group, struct err *err)
{
    while (p->nsub - p->replay_seq >= p->nslots) {
        int rc = replay_head(p, true, err);
        if (rc)
            return rc;
    }
    struct chunk *ch = slot(p, p->nsub);
    ch->state = CHUNK_FILLING;
    free(ch->file);
    ch->file = xstrdup(file);
    if (primer && p->fde)
        chunk_add(ch, p->fde, p->fde_len, 0, true);
    if (group) {
        if (ch->len + p->grp_len > ch->cap) {
            ch->cap = ch->len + p->grp_len + (CHUNK_BYTES + (64u << 10));
            ch->buf = xrealloc(ch->buf, ch->cap);
        }
        memcpy(ch->buf + ch->len, p->grp, p->grp_len);
        ch->len += p->grp_len;
    }
    p->filling = true;
    return 0;
}

/* From here on, events are decoded on this thread until the next transaction start: replays
 * every submitted chunk, then decodes the chunk being filled with hdec. */
static int go_here(struct stream_pool *p, struct err *err)
{
    int rc = replay_all(p, err);
    if (rc)
        return rc;
    p->here = true;
    if (!p->filling)
        return 0;
    struct chunk *ch = slot(p, p->nsub);
    size_t at = 0;
    while (rc == 0 && at < ch->len) {
        const struct rec *r = (const struct rec *)(const void *)(ch->buf + at);
        rc = here_feed(p, ch->buf + at + sizeof(*r), r->len, r->off, ch->file, r->primer, err);
        at += sizeof(*r) + pad8(r->len);
    }
    chunk_clear(ch);
    ch->state = CHUNK_FREE;
    p->filling = false;
    return rc;
}

int stream_pool_feed(struct stream_pool *p,
                     const uint8_t *ev,
                     size_t len,
                     uint64_t off,
                     const char *file,
                     struct err *err)
{
    if (p->result)
        return p->result;
    uint8_t type = len > 4 ? ev[4] : 0;
    bool start = binlog_event_starts_group(type);
    if (type == BINLOG_EV_FORMAT_DESCRIPTION) {
        p->fde = xrealloc(p->fde, len);
        memcpy(p->fde, ev, len);
        p->fde_len = len;
        if (!p->here) {
            /* hdec learns the format now: decoder_query_class reads it. */
            int rc = here_feed(p, ev, len, off, file, true, err);
            if (rc)
                return rc;
        }
    }
    if (p->here && start)
        p->here = false;
    struct chunk *ch = p->filling ? slot(p, p->nsub) : NULL;
    if (!p->here && (len >= p->big_event || (ch && !start && ch->bytes + len > p->chunk_max))) {
        int rc = go_here(p, err);
        if (rc)
            return rc;
    }
    if (p->here)
        return here_feed(p, ev, len, off, file, false, err);

    /* Cut at a transaction start, or inside a transaction whose primers are few. */
    bool mid = !start && p->in_group && !p->grp_over;
    if (ch && ((ch->bytes >= p->chunk_bytes && (start || mid)) || strcmp(ch->file, file) != 0)) {
        submit(p);
        ch = NULL;
    }
    if (ch == NULL) {
        int rc = start_chunk(p, file, type != BINLOG_EV_FORMAT_DESCRIPTION, mid, err);
        if (rc)
            return rc;
        ch = slot(p, p->nsub);
    }
    chunk_add(ch, ev, len, off, false);
    enum decoder_query q = decoder_query_class(p->hdec, ev, len); /* NONE: not a query */
    if (q == DECODER_Q_SCHEMA)
        return go_here(p, err); /* decoded and replayed now, then the schema is in force */
    group_track(p, type, q, ev, len, off);
    return replay_ready(p, err);
}

bool stream_pool_pending(const struct stream_pool *p)
{
    return p->filling || p->replay_seq < p->nsub;
}

int stream_pool_replay_ready(struct stream_pool *p, struct err *err)
{
    if (p->result)
        return p->result;
    return replay_ready(p, err);
}

int stream_pool_flush(struct stream_pool *p, struct err *err)
{
    if (p->result)
        return p->result;
    if (p->here || (!p->filling && p->replay_seq == p->nsub))
        return 0;
    return go_here(p, err);
}

void stream_pool_forget_tables(struct stream_pool *p)
{
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < p->nslots; i++)
        p->slots[i].forget = true;
    pthread_mutex_unlock(&p->mu);
    p->hforget = true;
}

/* ---- life ---------------------------------------------------------------------------------- */

static struct decoder *pool_decoder(const struct stream_pool_opts *o,
                                    decoder_emit_fn emit,
                                    decoder_warn_fn warn,
                                    decoder_table_map_fn tmap,
                                    void *opaque)
{
    struct decoder_opts d;
    decoder_opts_init(&d);
    d.all_events = true;
    d.follow_rotate = true;
    d.checksum_before_fde = o->checksum_before_fde;
    d.retain_maps = true;
    d.emit = emit;
    d.warn = warn;
    d.on_table_map = o->on_table_map ? tmap : NULL;
    d.opaque = opaque;
    return decoder_new(&d);
}

struct stream_pool *stream_pool_new(const struct stream_pool_opts *o, struct err *err)
{
    struct stream_pool *p = xcalloc(1, sizeof(*p));
    p->o = *o;
    p->chunk_bytes = o->chunk_bytes ? o->chunk_bytes : CHUNK_BYTES;
    p->big_event = o->big_event ? o->big_event : BIG_EVENT;
    p->chunk_max = o->chunk_max ? o->chunk_max : CHUNK_MAX;
    p->primer_max = o->primer_max ? o->primer_max : PRIMER_MAX;
    unsigned n = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->nslots = n + 2;
    p->slots = xcalloc(p->nslots, sizeof(*p->slots));
    for (unsigned i = 0; i < p->nslots; i++) {
        struct chunk *ch = &p->slots[i];
        ch->p = p;
        strbuf_init(&ch->out);
        ch->dec = pool_decoder(o, slot_emit, slot_warn, slot_table_map, ch);
    }
    p->hdec = pool_decoder(o, here_emit, here_warn, here_table_map, p);
    p->threads = xcalloc(n, sizeof(*p->threads));
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            stream_pool_free(p);
            err_set(err, ERR_INSTANCE, "could not start decoding thread %u of %u", i + 1, n);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

void stream_pool_free(struct stream_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    for (unsigned i = 0; i < p->nslots; i++) {
        struct chunk *ch = &p->slots[i];
        decoder_free(ch->dec);
        free(ch->dec_file);
        free(ch->buf);
        free(ch->file);
        strbuf_free(&ch->out);
    }
    free(p->slots);
    decoder_free(p->hdec);
    free(p->hdec_file);
    free(p->fde);
    free(p->grp);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}
