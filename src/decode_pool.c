/*
 * decode_pool.c — one binlog stream decoded on several threads, output in stream order.
 *
 * Chunks. The caller's events are copied into the chunk being filled, or only pointed at when
 * fed with decode_pool_feed_borrowed (the caller keeps them valid: see decode_pool_low_water and
 * decode_pool_quiesce). A chunk is closed at the first transaction start (a MySQL, anonymous,
 * tagged or MariaDB GTID event) once it holds CHUNK_BYTES of events; a new chunk begins with a
 * copy of the last FORMAT_DESCRIPTION seen (a "primer", decoded for its state and not counted),
 * unless its first event is one. A transaction brings
 * its own table maps, so a chunk decodes the same by itself as in the whole stream.
 *
 * Slots. Chunks live in a ring of nslots slots, indexed by sequence number: `nsub` chunks were
 * submitted, workers took those below `run_seq`, and those below `write_seq` are written. The
 * caller writes the head chunk (write_seq) once it is DONE, and waits for it when the ring is
 * full. A worker whose chunk's text passes OUT_FLUSH waits until its chunk is the head and
 * writes that text itself, so a chunk that renders large never holds much memory.
 *
 * Inline mode. A chunk that passes CHUNK_MAX without a transaction start (one large
 * transaction, or a stream without GTIDs) is decoded on the caller's thread once everything
 * before it is written; the events after it are decoded there one by one, as they come, until
 * the next transaction start. With no worker threads nothing is chunked: each event is decoded
 * as it is fed (feed_here), its text written in pieces of CHUNK_BYTES.
 *
 * Invariants: text is written in stream order, a chunk's warnings at the point of its text where
 * they arose; the first error (decode, render or write) ends the stream after the text before
 * it; nothing after a stop or an error is written.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_event.h"
#include "decode_pool.h"
#include "xmalloc.h"

#define CHUNK_BYTES (256u << 10)
#define CHUNK_MAX   (8u << 20)
#define OUT_FLUSH   (4u << 20)
#define MAX_THREADS 64u

/* Private emit results that stop a chunk's decoder. */
#define EMIT_STOP (-100000) /* render asked to stop */
#define EMIT_QUIT (-100001) /* the pool is being freed */

enum chunk_state { CHUNK_FREE, CHUNK_FILLING, CHUNK_QUEUED, CHUNK_RUNNING, CHUNK_DONE };

/* An event in a chunk's buffer: this header, then len bytes padded to 8 (or none: borrowed). */
struct rec {
    uint64_t off;
    uint32_t len;
    uint32_t primer;
    const uint8_t *borrowed; /* the event's bytes when not copied, else NULL */
};

struct warn {
    size_t at; /* offset in the chunk's text where the warning arose */
    char *msg;
};

struct chunk {
    enum chunk_state state;
    uint64_t seq;
    uint8_t *buf;
    size_t len, cap;
    size_t bytes;       /* of its events (copied or borrowed): what CHUNK_BYTES counts */
    uint64_t first_off; /* offset of its first event (not the primer); UINT64_MAX when none */
    char *file;
    void *tag;
    struct strbuf out;
    struct warn *warns;
    size_t nwarns, capwarns;
    int rc;           /* 0, DECODE_POOL_STOP or an error code */
    bool emit_failed; /* rc came from render or an early write: err is theirs */
    struct err err;
};

struct worker {
    struct decode_pool *p;
    pthread_t th;
    struct decoder *dec;
    char *file;       /* the name dec was last given */
    struct chunk *ch; /* being decoded */
};

struct decode_pool {
    struct decode_pool_opts o;
    unsigned nworkers; /* 0: everything on the caller's thread */
    struct worker *workers;
    struct worker self; /* the caller's decoder */
    unsigned nalloc;    /* workers allocated (and given a decoder) */

    pthread_mutex_t mu;
    pthread_cond_t work; /* to workers: a chunk was submitted, or quit */
    pthread_cond_t done; /* a chunk is DONE, or write_seq moved */
    bool quit;
    bool joined; /* the workers were joined (stop_workers) */

    struct chunk *slots;
    unsigned nslots;
    uint64_t nsub, run_seq, write_seq;
    bool filling; /* slot(nsub) is being filled */
    bool inline_mode;

    uint8_t *fde; /* the last FORMAT_DESCRIPTION seen */
    size_t fde_len;
    char *file;
    void *tag;

    int result; /* sticky: 0, DECODE_POOL_STOP, or the first error */
    struct err ferr;
    void *ftag;
};

static struct chunk *slot(struct decode_pool *p, uint64_t seq)
{
    return &p->slots[seq % p->nslots];
}

/* ---- rendering (any thread) -------------------------------------------------------------- */

/* Writes the chunk's text so far, its warnings in place, and empties it. */
static int write_out(struct decode_pool *p, struct chunk *ch, struct err *err)
{
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i < ch->nwarns; i++) {
        struct warn *w = &ch->warns[i];
        if (rc == 0 && w->at > at) {
            rc = p->o.write(ch->out.buf + at, w->at - at, p->o.opaque, err);
            at = w->at;
        }
        if (rc == 0 && p->o.warn)
            p->o.warn(w->msg, p->o.opaque);
        free(w->msg);
    }
    ch->nwarns = 0;
    if (rc == 0 && ch->out.len > at)
        rc = p->o.write(ch->out.buf + at, ch->out.len - at, p->o.opaque, err);
    strbuf_reset(&ch->out);
    return rc;
}

/* A worker's chunk rendered much: wait until it is the head, then write what it has. */
static int flush_early(struct worker *w, struct chunk *ch)
{
    struct decode_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    while (p->write_seq != ch->seq && !p->quit)
        pthread_cond_wait(&p->done, &p->mu);
    bool quit = p->quit;
    pthread_mutex_unlock(&p->mu);
    if (quit)
        return EMIT_QUIT;
    return write_out(p, ch, &ch->err);
}

static int pool_emit(const struct change *c, void *opaque)
{
    struct worker *w = opaque;
    struct chunk *ch = w->ch;
    struct decode_pool *p = w->p;
    int r = p->o.render(c, ch->tag, &ch->out, p->o.opaque, &ch->err);
    if (r == DECODE_POOL_STOP)
        return EMIT_STOP;
    if (r == 0 && ch->out.len >= OUT_FLUSH)
        r = flush_early(w, ch);
    if (r < 0 && r != EMIT_QUIT)
        ch->emit_failed = true;
    return r;
}

static void pool_warn(const char *msg, void *opaque)
{
    struct worker *w = opaque;
    struct chunk *ch = w->ch;
    if (ch == NULL)
        return;
    if (ch->nwarns == ch->capwarns) {
        ch->capwarns = ch->capwarns ? ch->capwarns * 2 : 4;
        ch->warns = xrealloc(ch->warns, ch->capwarns * sizeof(*ch->warns));
    }
    ch->warns[ch->nwarns].at = ch->out.len;
    ch->warns[ch->nwarns].msg = xstrdup(msg);
    ch->nwarns++;
}

/* Decodes one event of ch with w's decoder. Returns 0, or non-zero with the outcome in
 * ch->rc / ch->err. */
static int decode_one(
    struct worker *w, struct chunk *ch, const uint8_t *ev, size_t len, uint64_t off, bool primer)
{
    struct err e = {0};
    int rc =
        primer ? decoder_prime(w->dec, ev, len, off, &e) : decoder_feed(w->dec, ev, len, off, &e);
    if (rc == 0)
        return 0;
    if (rc == EMIT_STOP) {
        ch->rc = DECODE_POOL_STOP;
    } else if (rc == EMIT_QUIT) {
        ch->rc = ERR_IO;
        err_set(&ch->err, ERR_IO, "decoding stopped");
    } else {
        ch->rc = rc;
        if (!ch->emit_failed)
            ch->err = e;
    }
    return 1;
}

static void worker_set_file(struct worker *w, const char *file)
{
    if (w->file == NULL || strcmp(w->file, file) != 0) {
        decoder_set_file(w->dec, file);
        free(w->file);
        w->file = xstrdup(file);
    }
}

/* Decodes every event of ch with w's decoder, up to the first that fails. */
static void decode_chunk(struct worker *w, struct chunk *ch)
{
    w->ch = ch;
    worker_set_file(w, ch->file);
    size_t at = 0;
    while (at < ch->len) {
        const struct rec *r = (const struct rec *)(ch->buf + at);
        const uint8_t *ev = r->borrowed ? r->borrowed : ch->buf + at + sizeof(*r);
        at += sizeof(*r) + (r->borrowed ? 0 : (((size_t)r->len + 7) & ~(size_t)7));
        if (decode_one(w, ch, ev, r->len, r->off, r->primer))
            break;
    }
    w->ch = NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct decode_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->run_seq >= p->nsub)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        struct chunk *ch = slot(p, p->run_seq++);
        ch->state = CHUNK_RUNNING;
        pthread_mutex_unlock(&p->mu);
        decode_chunk(w, ch);
        pthread_mutex_lock(&p->mu);
        ch->state = CHUNK_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the caller's side ------------------------------------------------------------------- */

static void
chunk_add(struct chunk *ch, const uint8_t *ev, size_t len, uint64_t off, bool primer, bool borrow)
{
    size_t need = sizeof(struct rec) + (borrow ? 0 : ((len + 7) & ~(size_t)7));
    if (ch->len + need > ch->cap) {
        size_t cap = ch->cap ? ch->cap : 64u << 10;
        while (cap < ch->len + need)
            cap *= 2;
        ch->buf = xrealloc(ch->buf, cap);
        ch->cap = cap;
    }
    struct rec r = {
        .off = off, .len = (uint32_t)len, .primer = primer, .borrowed = borrow ? ev : NULL};
    memcpy(ch->buf + ch->len, &r, sizeof(r));
    if (!borrow)
        memcpy(ch->buf + ch->len + sizeof(r), ev, len);
    ch->len += need;
    ch->bytes += len;
    if (!primer && ch->first_off == UINT64_MAX)
        ch->first_off = off;
}

static int set_result(struct decode_pool *p, int rc, const struct err *e, void *tag)
{
    if (p->result == 0 && rc != 0) {
        p->result = rc;
        if (rc < 0) {
            p->ferr = *e;
            p->ftag = tag;
        }
    }
    return p->result;
}

/* Waits for the head chunk, writes it and frees its slot. */
static int write_head(struct decode_pool *p)
{
    struct chunk *ch = slot(p, p->write_seq);
    pthread_mutex_lock(&p->mu);
    while (ch->state != CHUNK_DONE)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    struct err e = {0};
    int rc = write_out(p, ch, &e);
    if (rc)
        set_result(p, rc, &e, ch->tag);
    else if (ch->rc)
        set_result(p, ch->rc, &ch->err, ch->tag);
    pthread_mutex_lock(&p->mu);
    ch->state = CHUNK_FREE;
    p->write_seq++;
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    return p->result;
}

/* Writes every submitted chunk. */
static int drain(struct decode_pool *p)
{
    while (p->result == 0 && p->write_seq < p->nsub)
        write_head(p);
    return p->result;
}

/* Starts filling slot(nsub): waits for room, then copies the primer in when asked. */
static int start_chunk(struct decode_pool *p, bool primer)
{
    while (p->result == 0 && p->nsub - p->write_seq >= p->nslots)
        write_head(p);
    if (p->result)
        return p->result;
    struct chunk *ch = slot(p, p->nsub);
    ch->state = CHUNK_FILLING;
    ch->seq = p->nsub;
    ch->len = ch->bytes = 0;
    ch->first_off = UINT64_MAX;
    ch->rc = 0;
    ch->emit_failed = false;
    memset(&ch->err, 0, sizeof(ch->err));
    strbuf_reset(&ch->out);
    free(ch->file);
    ch->file = xstrdup(p->file ? p->file : "");
    ch->tag = p->tag;
    if (primer && p->fde && p->nworkers)
        chunk_add(ch, p->fde, p->fde_len, 4, true, false);
    p->filling = true;
    return 0;
}

/* Hands the chunk being filled to a worker, or (no workers, or inline mode: everything before
 * it is written) decodes and writes it here. */
static int submit(struct decode_pool *p, bool here)
{
    struct chunk *ch = slot(p, p->nsub);
    p->filling = false;
    if (here) {
        decode_chunk(&p->self, ch);
        pthread_mutex_lock(&p->mu);
        ch->state = CHUNK_DONE;
        p->nsub++;
        p->run_seq = p->nsub; /* every chunk before it was written: none is left to take */
        pthread_mutex_unlock(&p->mu);
        return write_head(p);
    }
    pthread_mutex_lock(&p->mu);
    ch->state = CHUNK_QUEUED;
    p->nsub++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int result(const struct decode_pool *p, struct err *err)
{
    if (p->result < 0 && err)
        *err = p->ferr;
    return p->result;
}

/* No workers: each event is decoded as it comes, its text written in pieces of CHUNK_BYTES. */
static int
feed_here(struct decode_pool *p, const uint8_t *ev, size_t len, uint64_t offset, struct err *err)
{
    struct chunk *ch = &p->slots[0];
    struct worker *w = &p->self;
    w->ch = ch;
    worker_set_file(w, p->file ? p->file : "");
    ch->tag = p->tag;
    ch->seq = p->write_seq; /* the head: an early flush writes at once */
    struct err e = {0};
    if (decode_one(w, ch, ev, len, offset, false)) {
        if (write_out(p, ch, &e))
            set_result(p, ERR_IO, &e, ch->tag);
        else
            set_result(p, ch->rc, &ch->err, ch->tag);
    } else if (ch->out.len >= CHUNK_BYTES && write_out(p, ch, &e)) {
        set_result(p, ERR_IO, &e, ch->tag);
    }
    w->ch = NULL;
    return result(p, err);
}

static int feed(struct decode_pool *p,
                const uint8_t *ev,
                size_t len,
                uint64_t offset,
                bool borrow,
                struct err *err)
{
    if (p->result)
        return result(p, err);
    if (p->nworkers == 0)
        return feed_here(p, ev, len, offset, err);
    uint8_t type = len >= BINLOG_HEADER_LEN ? ev[4] : 0;
    bool group = binlog_event_starts_group(type);
    if (type == BINLOG_EV_FORMAT_DESCRIPTION) {
        p->fde = xrealloc(p->fde, len);
        memcpy(p->fde, ev, len);
        p->fde_len = len;
    }
    if (p->inline_mode) {
        if (!group) {
            /* Inside the large transaction: one event at a time, on this thread. */
            if (start_chunk(p, false) == 0) {
                chunk_add(slot(p, p->nsub), ev, len, offset, false, borrow);
                submit(p, true);
            }
            return result(p, err);
        }
        p->inline_mode = false;
    }
    if (p->filling && group && slot(p, p->nsub)->bytes >= CHUNK_BYTES)
        submit(p, false);
    if (!p->filling && start_chunk(p, type != BINLOG_EV_FORMAT_DESCRIPTION))
        return result(p, err);
    struct chunk *ch = slot(p, p->nsub);
    chunk_add(ch, ev, len, offset, false, borrow);
    if (ch->bytes >= CHUNK_MAX && p->nworkers > 0) {
        /* One transaction too large to buffer: decode it here, after what comes before. */
        if (drain(p) == 0)
            submit(p, true);
        p->inline_mode = true;
    }
    return result(p, err);
}

int decode_pool_feed(
    struct decode_pool *p, const uint8_t *ev, size_t len, uint64_t offset, struct err *err)
{
    return feed(p, ev, len, offset, false, err);
}

int decode_pool_feed_borrowed(
    struct decode_pool *p, const uint8_t *ev, size_t len, uint64_t offset, struct err *err)
{
    return feed(p, ev, len, offset, true, err);
}

uint64_t decode_pool_low_water(const struct decode_pool *p, uint64_t next)
{
    /* nsub and write_seq move only on the caller's thread: no lock needed to read them. */
    uint64_t low = next;
    uint64_t end = p->nsub + (p->filling ? 1 : 0);
    for (uint64_t seq = p->write_seq; seq < end; seq++) {
        const struct chunk *ch = &p->slots[seq % p->nslots];
        if (ch->first_off < low)
            low = ch->first_off;
    }
    return low;
}

/* Tells the workers to quit and joins them (a chunk being decoded is finished first, unless it
 * waits to write early). Idempotent. */
static void stop_workers(struct decode_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    if (!p->joined)
        for (unsigned i = 0; i < p->nworkers; i++)
            pthread_join(p->workers[i].th, NULL);
    p->joined = true;
}

void decode_pool_quiesce(struct decode_pool *p)
{
    stop_workers(p);
    p->filling = false;
    if (p->result == 0)
        p->result = DECODE_POOL_STOP; /* nothing is decoded any more */
}

int decode_pool_finish(struct decode_pool *p, struct err *err)
{
    struct err e = {0};
    if (p->result == 0 && p->nworkers == 0 && write_out(p, &p->slots[0], &e))
        set_result(p, ERR_IO, &e, p->slots[0].tag);
    if (p->result == 0 && p->filling)
        submit(p, false);
    drain(p);
    return result(p, err);
}

void *decode_pool_failed_tag(const struct decode_pool *p)
{
    return p->result < 0 ? p->ftag : NULL;
}

void decode_pool_set_file(struct decode_pool *p, const char *name, void *tag)
{
    /* A chunk holds one file's events. */
    if (p->filling && p->result == 0)
        submit(p, false);
    free(p->file);
    p->file = xstrdup(name);
    p->tag = tag;
}

static void sum_stats(struct decoder_stats *out, const struct decoder_stats *s)
{
    out->events += s->events;
    out->rows += s->rows;
    out->tmaps_with_optional_meta += s->tmaps_with_optional_meta;
    for (unsigned t = 0; t < 256; t++) {
        out->by_type[t] += s->by_type[t];
        out->inner_by_type[t] += s->inner_by_type[t];
    }
}

void decode_pool_stats(const struct decode_pool *p, struct decoder_stats *out)
{
    memset(out, 0, sizeof(*out));
    sum_stats(out, decoder_get_stats(p->self.dec));
    for (unsigned i = 0; i < p->nworkers; i++)
        sum_stats(out, decoder_get_stats(p->workers[i].dec));
}

static void worker_init(struct decode_pool *p, struct worker *w)
{
    struct decoder_opts o;
    decoder_opts_init(&o);
    o.all_events = p->o.all_events;
    o.verify_checksum = p->o.verify_checksum;
    o.follow_rotate = false; /* positions are offsets in the file being read */
    o.emit = pool_emit;
    o.warn = pool_warn;
    o.opaque = w;
    w->p = p;
    w->dec = decoder_new(&o);
}

struct decode_pool *decode_pool_new(const struct decode_pool_opts *o, struct err *err)
{
    struct decode_pool *p = xcalloc(1, sizeof(*p));
    p->o = *o;
    p->nworkers = o->threads > 1 ? (o->threads < MAX_THREADS ? o->threads : MAX_THREADS) : 0;
    p->nslots = p->nworkers + 2;
    p->slots = xcalloc(p->nslots, sizeof(*p->slots));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    worker_init(p, &p->self);
    p->nalloc = p->nworkers;
    p->workers = p->nworkers ? xcalloc(p->nworkers, sizeof(*p->workers)) : NULL;
    for (unsigned i = 0; i < p->nworkers; i++)
        worker_init(p, &p->workers[i]);
    for (unsigned i = 0; i < p->nworkers; i++) {
        if (pthread_create(&p->workers[i].th, NULL, worker_main, &p->workers[i]) != 0) {
            err_set(err, ERR_IO, "could not start decoding thread %u of %u", i + 1, p->nworkers);
            p->nworkers = i; /* decode_pool_free joins those started */
            decode_pool_free(p);
            return NULL;
        }
    }
    return p;
}

void decode_pool_free(struct decode_pool *p)
{
    if (p == NULL)
        return;
    stop_workers(p);
    for (unsigned i = 0; i < p->nalloc; i++) {
        decoder_free(p->workers[i].dec);
        free(p->workers[i].file);
    }
    free(p->workers);
    decoder_free(p->self.dec);
    free(p->self.file);
    for (unsigned i = 0; i < p->nslots; i++) {
        struct chunk *ch = &p->slots[i];
        for (size_t k = 0; k < ch->nwarns; k++)
            free(ch->warns[k].msg);
        free(ch->warns);
        free(ch->buf);
        free(ch->file);
        strbuf_free(&ch->out);
    }
    free(p->slots);
    free(p->fde);
    free(p->file);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}
