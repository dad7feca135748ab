/*
 * sinks/kafka.h — the Kafka sink: one message per row change (and per DDL) through librdkafka's
 * idempotent producer, acknowledged when every delivery report of a batch is in (details in
 * sinks/kafka.c). Config: `sinks: [{type: kafka, brokers: "h:9092", topic: "sluice.{db}.{table}",
 * format: canal, kafka: {linger.ms: 5}}]`.
 */
#ifndef SLUICE_SINKS_KAFKA_H
#define SLUICE_SINKS_KAFKA_H

#include "sink.h"

/* The ops table, registered in src/sink.c under "kafka". */
extern const struct sink_ops sink_kafka_ops;

/* Expands a topic template: {instance}, {db} and {table} are replaced (NULL counts as ""), and
 * every character Kafka does not allow in a topic name (outside [A-Za-z0-9._-]) becomes '_'.
 * Appends to out; exposed for tests. */
void sink_kafka_topic(
    const char *tmpl, const char *instance, const char *db, const char *table, struct strbuf *out);

/* Checks sink cfg's producer settings as `sluice run` would apply them (each `kafka:` property,
 * then their combination), without connecting. Returns 0, or ERR_CONFIG with librdkafka's own
 * message naming the property. */
int sink_kafka_check(const struct config_sink *cfg, const char *instance, struct err *err);

#endif
