/*
 * sink.c — the sink registry (one static table of ops, looked up by the config `type:` string,
 * as Redis connTypeRegister), the part of struct sink every implementation shares
 * (acknowledgement bookkeeping), and the format context sinks render with.
 *
 * Invariants: s->last_acked only grows, never passes s->last_batch, and the ack callback is
 * called exactly once per batch id, in id order. Acknowledging a batch that was never handed to
 * write_batch() is a programming error and aborts.
 *
 * Formats: `json` (change_json.c) renders every kind of change; `canal` and `debezium` come in a
 * later issue and are refused when a sink is opened, so no sink meets them at run time.
 *
 * Threads: the registry is constant and safe from any thread; a struct sink belongs to its
 * instance's thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink.h"
#include "xmalloc.h"
#include "../sinks/file.h"
#include "../sinks/hub.h"
#include "../sinks/kafka.h"
#include "../sinks/stdout.h"

/* The hub is last and no config `type:` names it: the instance adds it when server: is set. */
static const struct sink_ops *const sinks[] = {
    &sink_file_ops,
    &sink_stdout_ops,
    &sink_kafka_ops,
    &sink_hub_ops,
};

#define NSINKS (sizeof(sinks) / sizeof(sinks[0]))

const struct sink_ops *sink_find(const char *name)
{
    for (size_t i = 0; i < NSINKS; i++)
        if (strcmp(sinks[i]->name, name) == 0)
            return sinks[i];
    return NULL;
}

struct sink *sink_open(const struct sink_conf *conf, struct err *err)
{
    const struct config_sink *cfg = conf->cfg;
    const char *type = config_sink_type_name(cfg->type);
    const char *instance = conf->instance ? conf->instance : "";
    const struct sink_ops *ops = sink_find(type);

    if (ops == NULL) {
        err_set(err, ERR_SINK, "instance \"%s\": unknown sink type \"%s\"", instance, type);
        return NULL;
    }
    if (ops->abi != SINK_ABI) {
        err_set(err, ERR_SINK, "sink \"%s\" has abi %u, sluice needs %u", ops->name, ops->abi,
                (unsigned)SINK_ABI);
        return NULL;
    }
    return ops->open(conf, err);
}

void sink_init_common(struct sink *s, const struct sink_ops *ops, const struct sink_conf *conf)
{
    s->ops = ops;
    s->cfg = conf->cfg;
    s->instance = xstrdup(conf->instance ? conf->instance : "");
    s->ack = conf->ack;
    s->opaque = conf->opaque;
    s->last_batch = 0;
    s->last_acked = 0;
    s->held_bytes = 0;
    s->held_limit = 0;
}

void sink_free_common(struct sink *s)
{
    if (s == NULL)
        return;
    free(s->instance);
    s->instance = NULL;
}

void sink_acknowledge(struct sink *s, uint64_t batch_id, size_t bytes)
{
    if (batch_id <= s->last_acked)
        return;
    if (batch_id > s->last_batch) {
        /* A programming error in the sink: the instance would commit a position past changes
         * it has not even handed over. */
        fprintf(stderr,
                "sluice: %s:%d: sink \"%s\" acknowledged batch %llu, only %llu were written\n",
                __FILE__, __LINE__, s->ops->name, (unsigned long long)batch_id,
                (unsigned long long)s->last_batch);
        abort();
    }
    /* Batches skipped over carry no byte count of their own: a sink that knows them acks each
     * one separately. last_acked moves before the callback so that it sees a settled sink. */
    while (s->last_acked < batch_id) {
        s->last_acked++;
        if (s->ack)
            s->ack(s->last_acked, s->last_acked == batch_id ? bytes : 0, s->opaque);
    }
}

void sink_format_ctx(const struct sink *s, struct format_ctx *ctx)
{
    /* The coarse clock (a few ms of resolution) is enough for a processing time in ms, and
     * costs a fraction of the precise one: this runs for every change. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    ctx->instance = s->instance;
    ctx->batch_id = s->last_batch + 1;
    ctx->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
