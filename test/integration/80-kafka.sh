#!/bin/sh
# 80-kafka.sh — `sluice run` into Kafka (the mock cluster, bin/sluice-kafka-mock) with the server
# as oracle, in the json, canal and debezium formats; broker errors; brokers gone for good.
#
# One MariaDB, one mock cluster (3 brokers, topics auto-created with 4 partitions), one daemon
# with three instances reading the same server, each with a Kafka sink in one format (topics
# j.*, c.*, d.*). A random workload (seeded: SLUICE_SEED, printed; kafka_rows.sh) of
# multi-statement transactions over three tables with a primary key (INT, BIGINT, composite)
# and columns of most kinds whose value each format carries exactly (integers to BIGINT's
# extremes, DECIMAL, DOUBLE, ENUM, YEAR, BIT, DATE, DATETIME(0/3/6), TIMESTAMP, TIME, utf8mb4
# text, VARBINARY), with an ALTER TABLE ADD COLUMN in the middle of a table half-way through.
#   a. Once every instance's consumed position reaches the binlog end, each table is rebuilt
#      from each format's topic (kafka_rebuild: messages by partition and offset, converted
#      back to sluice's json values, applied by primary key) and compared with SELECT; the
#      ALTER TABLE is on each DDL topic.
#   b. For every primary key, its messages are on one partition and their (sluice.pos,
#      sluice.row) headers increase with the offset: commit order.
#   c. Under a running load, Produce requests fail (NOT_LEADER_FOR_PARTITION, 20 times) and
#      broker 1 goes off the network for a few seconds: every instance stays streaming, the
#      consumed position stops short of the binlog end while broker 1 is away (held back until
#      delivered), then catches up; the tables rebuilt again equal SELECT and no (pos, row) is
#      in a topic twice (idempotent producer).
#   d. A daemon with message.timeout.ms 3000 (topics f.*); all three brokers go away while
#      changes are made: the instance goes to state failed naming the delivery and the topic,
#      its consumed and saved positions are not past the first change not delivered; brokers
#      back and the daemon restarted, every change arrives (tables rebuilt from f.* = SELECT).
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"
# shellcheck source=test/integration/kafka_rows.sh
. "$(dirname "$0")/kafka_rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq awk kcat
for b in "$SLUICE" "$KAFKA_MOCK"; do
    if [ ! -x "$b" ]; then
        not_ok "binaries" "$b is not executable (run make)"
        exit 1
    fi
done

SEED=${SLUICE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $SEED (rerun with SLUICE_SEED=$SEED)"
NTX=${SLUICE_KAFKA_NTX:-600}
DB=k1
W=$TEST_TMP/w
mkdir -p "$W"
LOG=$W/sluice.log
: >"$LOG"
FORMATS="json canal debezium"
T_START=$(date +%s)

fail_early() {
    not_ok "$@"
    exit 1
}

# prefix_of FORMAT / inst_of FORMAT: topic prefix and instance name of a format.
prefix_of() { printf '%.1s' "$1"; }
inst_of() { echo "k$(prefix_of "$1")"; }

if ! mariadb_up "$W/db" 2>"$W/up.err"; then
    fail_early "start MariaDB" "$(cat "$W/up.err")"
fi
cdc_user
# The topics of part c made up front, so that their partition leaders are spread round-robin
# (auto-created ones get random leaders: a topic set without a partition on broker 1 would let
# "down 1" stop nothing).
# shellcheck disable=SC2046 # one word per option
if ! kafka_up $(for p in j c d; do for t in t_a t_b t_c; do printf -- '--topic %s.k1.%s ' "$p" "$t"; done; done) 2>"$W/kafka.err"; then
    fail_early "start the mock Kafka cluster" "$(cat "$W/kafka.err")"
fi
diag "mock cluster: $KAFKA_BROKERS"
ADMIN_PORT=$(free_port)
kafka_config "$W/a.yaml" "$(kafka_instance kj json j)" "$(kafka_instance kc canal c)" \
    "$(kafka_instance kd debezium d)"
sluice_start "$W/a.yaml" "$LOG"
for f in $FORMATS; do
    if wait_state_of "$(inst_of "$f")" streaming 30; then
        ok "$f: instance $(inst_of "$f") reaches state streaming"
    else
        fail_early "$f: instance $(inst_of "$f") reaches state streaming" "last status: $STATUS" "$(log_head "$LOG")"
    fi
done

# caught_up WHAT TIMEOUT INSTANCE...: every instance's consumed position reaches the binlog end
# (as it is now); one not ok naming the first that does not.
caught_up() {
    _what=$1 _to=$2
    shift 2
    _end=$(master_pos)
    _ef=${_end% *} _eo=${_end#* }
    for _inst in "$@"; do
        if ! wait_consumed_of "$_inst" "$_ef" "$_eo" "$_to"; then
            not_ok "$_what: $_inst's consumed position reaches the binlog end $_ef:$_eo within $_to s" \
                "last status: $STATUS" "$(grep -v librdkafka "$LOG" | tail -n 20)"
            return 1
        fi
    done
    ok "$_what: consumed positions reach the binlog end $_ef:$_eo"
}

# compare ROUND FORMAT DBPREFIX: dump the format's topics of DB, rebuild, one ok per table;
# then one check of the rebuild's errors and per-key order, one of duplicates (DUPS=allow: not
# checked), one that nothing was dropped by the mock's retention. Sets MSGS (messages read).
compare() {
    _r=$1 _f=$2 _p=$3
    _o=$W/$_r.$_f
    MSGS=0
    : >"$_o.stats"
    for _t in $KAFKA_TABLES; do
        kafka_dump "$_p.$DB.$_t" "$_o.$_t.dump"
        if ! kafka_rebuild "$_f" "$DB" "$_t" "$_o.$_t.dump" "$_o.$_t" 2>"$W/rebuild.err"; then
            not_ok "$_r: $_f: rebuild $_t from topic $_p.$DB.$_t" "$(head -c 1500 "$W/rebuild.err")"
            continue
        fi
        rows_snapshot "$DB" "$_t" "$W/$_r.$_t.want"
        rows_compare "$_r: $_f: $_t rebuilt from topic $_p.$DB.$_t = SELECT" "$W/$_r.$_t.want" "$_o.$_t"
        jq -c --arg t "$_t" '. + {t: $t}' "$_o.$_t.json" >>"$_o.stats"
        MSGS=$((MSGS + $(jq .msgs "$_o.$_t.json")))
        # Nothing dropped: every partition read from offset 0 (the mock keeps ~5 MiB each).
        jq -s -e 'group_by(.p) | all(map(.o) | min == 0 and max == length - 1)' "$_o.$_t.dump" >/dev/null ||
            not_ok "$_r: $_f: topic $_p.$DB.$_t is whole in the mock (offsets from 0, no gap)" \
                "$(jq -s -c 'group_by(.p) | map({p: .[0].p, min: (map(.o) | min), max: (map(.o) | max), n: length})' "$_o.$_t.dump")"
    done
    diag "$_r: $_f: $(jq -r -s 'map("\(.t) \(.msgs) msgs") | join(", ")' "$_o.stats")"
    if [ "$(jq -s 'map(.errs | length) | add' "$_o.stats")" = 0 ]; then
        ok "$_r: $_f: every message is a row change, and each key's messages are on one partition in commit order (sluice.pos, sluice.row increase)"
    else
        not_ok "$_r: $_f: every message is a row change, and each key's messages are on one partition in commit order" \
            "$(jq -r -s 'map(.t as $t | .errs[] | "\($t): \(.)") | .[:8][]' "$_o.stats")"
    fi
    # Debezium follows each delete with a tombstone (same key, no value); the others do not.
    _tomb=$(jq -s 'map(.tombstones) | add' "$_o.stats")
    _dels=$(jq -s 'map(.deletes) | add' "$_o.stats")
    if [ "$_f" = debezium ] && [ "$_tomb" = "$_dels" ] && [ "$_dels" -gt 0 ]; then
        ok "$_r: $_f: each of the $_dels deletes is followed by a tombstone"
    elif [ "$_f" != debezium ] && [ "$_tomb" = 0 ]; then
        ok "$_r: $_f: no tombstones (tombstones: auto is off for $_f)"
    else
        not_ok "$_r: $_f: tombstones" "$_tomb tombstones for $_dels deletes"
    fi
    if [ "${DUPS:-}" != allow ]; then
        if [ "$(jq -s 'map(.dups) | add' "$_o.stats")" = 0 ]; then
            ok "$_r: $_f: no (sluice.pos, sluice.row) is in the topics twice"
        else
            not_ok "$_r: $_f: no (sluice.pos, sluice.row) is in the topics twice" "$(jq -r -s 'map("\(.t): \(.dups) duplicates") | .[]' "$_o.stats")"
        fi
    fi
}

# ---- a. the oracle in three formats ---------------------------------------------------------------
kafka_schema_sql "$DB" >"$W/schema.sql"
kafka_gen "$SEED" "$NTX" 0 0 $((NTX / 2)) >"$W/workload.sql"
t0=$(date +%s)
if ! sql <"$W/schema.sql" >"$W/sql.out" 2>&1 || ! { echo "USE $DB;"; cat "$W/workload.sql"; } | sql >"$W/sql.out" 2>&1; then
    fail_early "the workload runs" "$(head -n 5 "$W/sql.out")"
fi
diag "workload: $NTX transactions, $(grep -c '^INSERT\|^UPDATE\|^DELETE' "$W/workload.sql") statements, $(($(date +%s) - t0)) s"
# shellcheck disable=SC2086
kafka_meta "$DB" $KAFKA_TABLES
if caught_up "a" 90 kj kc kd; then
    for f in $FORMATS; do
        p=$(prefix_of "$f")
        n=$(kafka_read "$p.ddl" | grep -c 'ALTER TABLE t_a ADD COLUMN extra' || true)
        if [ "$n" = 1 ]; then
            ok "a: $f: the ALTER TABLE is on topic $p.ddl once"
        else
            not_ok "a: $f: the ALTER TABLE is on topic $p.ddl once" "found $n times; the topic:" "$(kafka_read "$p.ddl" | cut -c 1-300 | tail -n 5)"
        fi
        compare a "$f" "$p"
        eval "MSGS_$p=\$MSGS"
    done
    # shellcheck disable=SC2154 # set by the eval
    if [ "$MSGS_j" = "$MSGS_c" ] && [ "$MSGS_j" = "$MSGS_d" ]; then
        ok "a: the three formats sent the same number of messages ($MSGS_j)"
    else
        not_ok "a: the three formats sent the same number of messages" "json $MSGS_j, canal $MSGS_c, debezium $MSGS_d"
    fi
fi

# ---- c. broker errors under load ------------------------------------------------------------------
WL_STOP=$W/wl.stop
(
    set +e
    i=0
    end=$(($(date +%s) + 60))
    while [ ! -f "$WL_STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
        { echo "USE $DB;"; kafka_gen $((SEED + 1000 + i)) 10 $(((i + 1) * 100000)) 1; } | sql >>"$W/wl.out" 2>&1 ||
            echo "chunk $i failed" >>"$W/wl.out"
        i=$((i + 1))
        echo "$i" >"$W/wl.chunks"
        sleep 0.1
    done
) &
WL_PID=$!
at_exit "touch '$WL_STOP'; kill $WL_PID 2>/dev/null; wait $WL_PID 2>/dev/null"

# sample NAME: appends "STATE FILE OFFSET" of each instance and the binlog end to $W/samples.NAME.
sample() {
    _s=$("$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --json 2>/dev/null || true)
    for _i in kj kc kd; do
        printf '%s %s\n' "$_i" "$(printf '%s' "$_s" | jq -r --arg n "$_i" \
            '.instances[] | select(.name == $n) | "\(.state) \(.consumed.file) \(.consumed.offset)"' 2>/dev/null)"
    done >>"$W/samples.$1"
    echo "end $(master_pos)" >>"$W/samples.$1"
}

sleep 1
if kafka_ctl "errors 0 20 6"; then
    ok "c: mock: the next 20 Produce requests fail with NOT_LEADER_FOR_PARTITION"
else
    not_ok "c: mock: errors 0 20 6" "$(tail -n 3 "$TEST_TMP/kafka.log")"
fi
: >"$W/samples.err"
for _ in 1 2 3 4 5 6; do
    sample err
    sleep 0.5
done
kafka_ctl "down 1" || not_ok "c: mock: down 1" "$(tail -n 3 "$TEST_TMP/kafka.log")"
: >"$W/samples.down"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
    sample down
    sleep 0.5
done
kafka_ctl "up 1" || not_ok "c: mock: up 1" "$(tail -n 3 "$TEST_TMP/kafka.log")"
sleep 2
touch "$WL_STOP"
wait "$WL_PID" 2>/dev/null || true
diag "c: load: $(cat "$W/wl.chunks" 2>/dev/null || echo 0) chunks of 10 transactions"
if grep -q 'ERROR\|failed' "$W/wl.out" 2>/dev/null; then
    not_ok "c: the load's SQL runs" "$(grep 'ERROR\|failed' "$W/wl.out" | head -n 5)"
fi
bad=$(cat "$W/samples.err" "$W/samples.down" | awk '$1 != "end" && $2 != "streaming"' | head -n 5)
if [ -z "$bad" ]; then
    ok "c: every instance stays streaming through the Produce errors and broker 1 down ($(grep -c '^kj' "$W/samples.err" "$W/samples.down" | awk -F: '{ s += $2 } END { print s }') samples)"
else
    not_ok "c: every instance stays streaming through the Produce errors and broker 1 down" "$bad" "$(grep -v librdkafka "$LOG" | tail -n 10)"
fi
# While broker 1 is away, each instance's consumed position stops (its messages for the
# partitions broker 1 leads are not delivered) and stays behind the binlog end: compare the
# last two samples (after 5 s down).
for i in kj kc kd; do
    last=$(grep "^$i " "$W/samples.down" | tail -n 2)
    endp=$(grep '^end ' "$W/samples.down" | tail -n 1 | cut -d ' ' -f 2,3)
    c1=$(echo "$last" | head -n 1 | cut -d ' ' -f 3,4)
    c2=$(echo "$last" | tail -n 1 | cut -d ' ' -f 3,4)
    # shellcheck disable=SC2086
    if [ -n "$c2" ] && [ "$c1" = "$c2" ] && ! pos_ge $c2 $endp; then
        ok "c: $i: broker 1 down: the consumed position is held ($c2) behind the binlog end ($endp)"
    else
        not_ok "c: $i: broker 1 down: the consumed position is held behind the binlog end" \
            "consumed in the last samples: $c1 / $c2, binlog end $endp" "$(grep "^$i \|^end" "$W/samples.down" | tr '\n' ';')"
    fi
done
if caught_up "c: after broker 1 is back" 60 kj kc kd; then
    for f in $FORMATS; do
        compare c "$f" "$(prefix_of "$f")"
    done
fi
sluice_stop 30
if [ "$SLUICE_RC" = 0 ]; then
    ok "SIGTERM stops the daemon with exit status 0"
else
    not_ok "SIGTERM stops the daemon with exit status 0" "exit status: $SLUICE_RC" "$(tail -n 20 "$LOG")"
fi
diag "a-c done in $(($(date +%s) - T_START)) s"

# ---- d. every broker gone longer than message.timeout.ms -------------------------------------------
LOG=$W/fail.log
: >"$LOG"
kafka_config "$W/f.yaml" "$(KAFKA_SAVE_MS=100 kafka_instance kf json f 'message.timeout.ms: 3000')"
sluice_start "$W/f.yaml" "$LOG"
if ! caught_up "d: the daemon with message.timeout.ms 3000" 60 kf; then
    fail_early "d: the daemon with message.timeout.ms 3000 catches up" "$(tail -n 20 "$LOG")"
fi
# shellcheck disable=SC2046
set -- $(master_pos)
P1_FILE=$1 P1_OFF=$2
for b in 1 2 3; do
    kafka_ctl "down $b" || not_ok "d: mock: down $b" "$(tail -n 3 "$TEST_TMP/kafka.log")"
done
t0=$(date +%s)
{ echo "USE $DB;"; kafka_gen $((SEED + 5000)) 30 1000000000 1; } | sql
if wait_state_of kf failed 40; then
    diag "d: failed $(($(date +%s) - t0)) s after the brokers went away"
    why=$(printf '%s' "$STATUS" | jq -r .why)
    case $why in
    *deliver*f.$DB.t_*) ok "d: all brokers down: state failed, naming the delivery and the topic ($why)" ;;
    *) not_ok "d: all brokers down: state failed, naming the delivery and the topic" "why: $why" ;;
    esac
    c=$(consumed_of "$STATUS")
    # shellcheck disable=SC2086
    if [ -n "$c" ] && pos_ge "$P1_FILE" "$P1_OFF" $c; then
        ok "d: the consumed position ($c) is not past the first change not delivered ($P1_FILE:$P1_OFF)"
    else
        not_ok "d: the consumed position is not past the first change not delivered" "consumed: $c" "first change not delivered at $P1_FILE:$P1_OFF"
    fi
else
    not_ok "d: all brokers down longer than message.timeout.ms: state failed" "last status: $STATUS" "$(grep -v librdkafka "$LOG" | tail -n 10)"
fi
sluice_stop 30
diag "d: the failed daemon stopped: exit status $SLUICE_RC"
saved=$(saved_pos "$W/f.yaml")
# shellcheck disable=SC2086
if [ -n "$saved" ] && pos_ge "$P1_FILE" "$P1_OFF" $saved; then
    ok "d: the saved position ($saved) is not past the first change not delivered"
else
    not_ok "d: the saved position is not past the first change not delivered" "saved: $saved" "first change not delivered at $P1_FILE:$P1_OFF"
fi
for b in 1 2 3; do
    kafka_ctl "up $b" || not_ok "d: mock: up $b" "$(tail -n 3 "$TEST_TMP/kafka.log")"
done
sluice_start "$W/f.yaml" "$LOG"
if caught_up "d: brokers back, daemon restarted" 60 kf; then
    DUPS=allow compare d json f
fi
sluice_stop 30
if [ "$SLUICE_RC" = 0 ]; then
    ok "d: the restarted daemon stops with exit status 0"
else
    not_ok "d: the restarted daemon stops with exit status 0" "exit status: $SLUICE_RC" "$(tail -n 20 "$LOG")"
fi
if grep -qi 'sanitizer\|runtime error' "$W/sluice.log" "$W/fail.log"; then
    not_ok "no sanitizer report in the daemon's logs" "$(grep -i -m 5 'sanitizer\|runtime error' "$W/sluice.log" "$W/fail.log")"
fi
diag "done in $(($(date +%s) - T_START)) s"
test_done
