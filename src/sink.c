/*
 * sink.c — the sink registry (one static table of ops, looked up by the config `type:` string,
 * as Redis connTypeRegister), the part of struct sink every implementation shares
 * (acknowledgement bookkeeping), and the output formats.
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

#include "sink.h"
#include "change_json.h"
#include "xmalloc.h"
#include "../sinks/file.h"
#include "../sinks/stdout.h"

static const struct sink_ops *const sinks[] = {
    &sink_file_ops,
    &sink_stdout_ops,
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
        if (cfg->type == CONFIG_SINK_KAFKA) {
            err_set(err, ERR_SINK, "the kafka sink is not built yet (issue 4)");
            return NULL;
        }
        err_set(err, ERR_SINK, "instance \"%s\": unknown sink type \"%s\"", instance, type);
        return NULL;
    }
    if (ops->abi != SINK_ABI) {
        err_set(err, ERR_SINK, "sink \"%s\" has abi %u, sluice needs %u", ops->name, ops->abi,
                (unsigned)SINK_ABI);
        return NULL;
    }
    /* Refused here, at startup, rather than at the first change hours later. */
    if (!sink_format_available(cfg->format)) {
        err_set(err, ERR_SINK_FORMAT,
                "instance \"%s\", sink \"%s\": format \"%s\" is not available yet", instance,
                ops->name, config_format_name(cfg->format));
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

/* ---- formats ---- */

int sink_format_render(enum config_format f,
                       const char *instance,
                       const struct change *c,
                       struct strbuf *out,
                       struct err *err)
{
    (void)instance; /* for formats that carry it (canal, debezium) */
    if (f == CONFIG_FORMAT_JSON) {
        change_json_render(c, out);
        return 0;
    }
    return err_set(err, ERR_SINK_FORMAT, "format \"%s\" is not available yet",
                   config_format_name(f));
}

bool sink_format_available(enum config_format f)
{
    return f == CONFIG_FORMAT_JSON;
}
