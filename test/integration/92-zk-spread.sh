#!/bin/sh
# 92-zk-spread.sh — cluster mode with several instances and daemons: fair shares, the
# configuration in ZooKeeper, `sluice cluster status`. A real ZooKeeper, a throw-away MariaDB
# under load, Kafka = librdkafka's mock cluster (one single-partition topic per instance, so a
# topic's messages are in production order).
#   1. `sluice cluster push` stores one configuration of 6 instances (each captures its own
#      table app.tN into topic s.iN); daemons A, B and C run it (`sluice run --zookeeper`, with
#      --node/--admin/--data-dir of their own): each runs 2 instances, stands by for 4.
#   2. `sluice cluster status` lists the 3 daemons with the pushed configuration's checksum,
#      every instance with its owner and 2 standbys; nothing differs (exit 0).
#   3. kill -9 of C under load: its 2 instances move within the session timeout + 2 s; A and B
#      run 3 each; every table rebuilt from its topic equals SELECT.
#   4. A changed configuration is pushed and C restarted on it: status flags A and B, which run
#      the old one (exit 3); C takes instances back from A and B (they hand over cleanly) until
#      each runs 2 again; the tables rebuilt from Kafka still equal SELECT.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"
. "$(dirname "$0")/zk.sh"

need_cmd mariadb-install-db mariadbd mariadb jq java kcat
zk_up
mariadb_up "$TEST_TMP/db"
cdc_user
N=6
TMO=4000
TOPICS=""
for i in $(seq 1 $N); do
    sql "CREATE DATABASE IF NOT EXISTS app; CREATE TABLE app.t$i (id INT PRIMARY KEY, v INT NOT NULL);"
    TOPICS="$TOPICS --topic s.i$i:1"
done
# shellcheck disable=SC2086 # one word per option
kafka_up --brokers 1 $TOPICS

# The shared configuration: no node name, admin address or data dir of its own (the daemons
# give theirs on the command line).
{
    echo "data_dir: ./var-unused"
    echo "instances:"
    for i in $(seq 1 $N); do
        cat <<YEOF
  - name: i$i
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 500}
    start: earliest
    filters: {include: ['^app\\.t$i\$']}
    positions: {store: zookeeper, servers: "$ZK_SERVERS", root: /sluice, cluster: spread,
                session_timeout_ms: $TMO, save_interval_ms: 100}
    sinks:
      - {type: kafka, brokers: "$KAFKA_BROKERS", topic: "s.{instance}", format: json}
YEOF
    done
} >"$W/cluster.yaml"

check "cluster push stores the configuration" sh -c "'$SLUICE' cluster push '$W/cluster.yaml' >'$W/push.out' 2>&1 && grep -q '^stored ' '$W/push.out'"
PUSHED=$(sed -n 's/.*(.* bytes, config \([0-9a-f]*\)).*/\1/p' "$W/push.out")
check_fails "cluster push of an invalid file stores nothing" "$SLUICE" cluster push /dev/null --zookeeper "$ZK_SERVERS" --cluster spread

# start_node NAME: `sluice run` from the pushed configuration; sets PORT_<NAME>, PID_<NAME>.
# Waits (bounded) until its admin endpoint answers; a daemon that lost its admin port to
# another process between free_port and its bind is started again on another port.
start_node() {
    for _try in 1 2 3; do
        _p=$(free_port)
        eval "PORT_$1=$_p"
        "$SLUICE" run --zookeeper "$ZK_SERVERS" --cluster spread --node "node-$1" \
            --admin "127.0.0.1:$_p" --data-dir "$W/var-$1" >>"$W/$1.log" 2>&1 </dev/null &
        _pid=$!
        eval "PID_$1=$_pid"
        _RS_SLUICE_PIDS="$_RS_SLUICE_PIDS $_pid"
        [ -z "${SLUICE_TEST_PIDFILE:-}" ] || echo "$_pid" >>"$SLUICE_TEST_PIDFILE"
        _end=$(($(date +%s) + 30))
        while alive "$_pid" && [ "$(date +%s)" -lt "$_end" ]; do
            "$SLUICE" status --admin "127.0.0.1:$_p" --json >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        alive "$_pid" && return 0 # slow to answer: the checks that follow say more
        wait "$_pid" 2>/dev/null || true
        grep -q 'could not listen' "$W/$1.log" || break
        diag "node-$1: admin port $_p taken meanwhile; starting it again on another"
    done
    diag "node-$1 exited at start: $(tail -n 5 "$W/$1.log")"
}
# node_diag NAME: one line on a daemon (alive, registered, its membership and election lines).
node_diag() {
    eval "_pid=\$PID_$1"
    _alive=no
    alive "$_pid" && _alive=yes
    echo "node-$1: pid $_pid alive=$_alive, $(wc -l <"$W/$1.log") log lines," \
        "$(grep -c 'CLUSTER registered as' "$W/$1.log") registrations; its CLUSTER/MAIN/WARN/ERROR lines:"
    grep -E ' (CLUSTER|MAIN) | WARN | ERROR ' "$W/$1.log" | tail -n 8
}
# streaming_on PORT: how many instances the daemon on PORT streams.
streaming_on() {
    "$SLUICE" status --admin "127.0.0.1:$1" --json 2>/dev/null |
        jq '[.instances[] | select(.state == "streaming")] | length' 2>/dev/null || echo 0
}
# cstatus: `sluice cluster status --json`.
cstatus() {
    "$SLUICE" cluster status --zookeeper "$ZK_SERVERS" --cluster spread --json 2>/dev/null || true
}
# owned_counts: "A B C" instance counts per daemon as registered (sorted by node name).
owned_counts() {
    cstatus | jq -r '[.daemons[] | (.owned | length)] | map(tostring) | join(" ")' 2>/dev/null
}
# first_streaming_after INSTANCE T0_NS: ms from T0 to the first "[INSTANCE] standby -> streaming"
# line of A or B stamped at or after T0 (99999 when there is none).
first_streaming_after() {
    _best=99999
    for _l in $(grep -h "INST \[$1\] standby -> streaming" "$W/a.log" "$W/b.log" | cut -d' ' -f1); do
        _ms=$(($(date -u -d "$_l" +%s%3N) - $2 / 1000000))
        [ "$_ms" -ge 0 ] && [ "$_ms" -lt "$_best" ] && _best=$_ms
    done
    echo "$_best"
}
# wait_spread "COUNTS" TIMEOUT_S: until owned_counts is COUNTS and every instance has an owner.
wait_spread() {
    _end=$(($(date +%s) + $2))
    while :; do
        _c=$(owned_counts)
        _o=$(cstatus | jq '[.instances[] | select(.owner != "")] | length' 2>/dev/null || echo 0)
        [ "$_c" = "$1" ] && [ "$_o" = "$N" ] && return 0
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.2
    done
}
# wait_caught_up TIMEOUT_S: every instance's stored consumed position at the server's end.
wait_caught_up() {
    set -- "$1" $(master_pos)
    _end=$(($(date +%s) + $1))
    while :; do
        _behind=0
        for _pos in $(cstatus | jq -r '.instances[] | "\(.consumed.file // "-"):\(.consumed.offset // 0)"'); do
            pos_ge "${_pos%:*}" "${_pos##*:}" "$2" "$3" || _behind=$((_behind + 1))
        done
        [ "$_behind" = 0 ] && return 0
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.3
    done
}
check_tables() {
    for i in $(seq 1 $N); do
        kafka_read "s.i$i" >"$W/topic-$i.jsonl"
        zk_check_rebuilt "app.t$i" "$1: app.t$i rebuilt from topic s.i$i equals SELECT" "$W/topic-$i.jsonl"
    done
}
NEXT=1
load_start() {
    rm -f "$W/load.stop"
    (
        k=$NEXT
        while [ ! -f "$W/load.stop" ]; do
            q="BEGIN;"
            for i in $(seq 1 $N); do
                q="$q INSERT INTO app.t$i VALUES ($k, $i), ($((k + 1)), 0);
                   UPDATE app.t$i SET v = v + 1 WHERE id = $((k / 2 + 1));
                   DELETE FROM app.t$i WHERE id = $((k / 3 + 1)) AND v > 5;"
            done
            sql "$q COMMIT;" || exit 1
            k=$((k + 2))
        done
        echo "$k" >"$W/load.next"
    ) &
    LOAD_PID=$!
}
load_stop() {
    : >"$W/load.stop"
    wait "$LOAD_PID"
    NEXT=$(cat "$W/load.next")
}

# ---- 1. three daemons, six instances --------------------------------------------------------
: >"$W/a.log"
: >"$W/b.log"
: >"$W/c.log"
start_node a
sleep 1
start_node b
start_node c
if wait_spread "2 2 2" 60; then
    ok "6 instances over 3 daemons: each runs 2 (cluster status)"
else
    not_ok "6 instances over 3 daemons: each runs 2" "owned: $(owned_counts)" "$(node_diag a)" "$(node_diag b)" \
        "$(node_diag c)" "$(cstatus | head -c 1500)"
fi
# The daemons' own status agrees (a hand-over may still settle: a moment).
_end=$(($(date +%s) + 15))
while [ "$(streaming_on "$PORT_a") $(streaming_on "$PORT_b") $(streaming_on "$PORT_c")" != "2 2 2" ] && [ "$(date +%s)" -lt "$_end" ]; do sleep 0.2; done
check "each daemon's own status: 2 instances streaming" sh -c "[ '$(streaming_on "$PORT_a") $(streaming_on "$PORT_b") $(streaming_on "$PORT_c")' = '2 2 2' ]"

# ---- 2. cluster status ----------------------------------------------------------------------
cstatus >"$W/status1.json"
check "cluster status: 3 daemons, each with the pushed configuration's checksum" sh -c "[ \$(jq --arg c '$PUSHED' '[.daemons[] | select(.config == \$c)] | length' '$W/status1.json') = 3 ]"
check "cluster status: every instance has an owner and 2 standbys" sh -c "[ \$(jq '[.instances[] | select(.owner != \"\" and (.standbys | length) == 2)] | length' '$W/status1.json') = $N ]"
check "cluster status: nothing differs (exit 0)" "$SLUICE" cluster status --zookeeper "$ZK_SERVERS" --cluster spread
"$SLUICE" cluster status --zookeeper "$ZK_SERVERS" --cluster spread >"$W/status1.txt" 2>&1 || true
check "cluster status (text) lists daemons with admin addresses and owners" sh -c "grep -q 'node-a: admin 127.0.0.1:$PORT_a' '$W/status1.txt' && grep -q 'i1: owner node-' '$W/status1.txt'"

# ---- 3. kill -9 of C under load -------------------------------------------------------------
load_start
sleep 2
ORPHANS=$(cstatus | jq -r '.instances[] | select(.owner == "node-c") | .name')
kill -KILL "$PID_c"
wait "$PID_c" 2>/dev/null || true
t0=$(date +%s%N)
if wait_spread "3 3" $((TMO / 1000 + 20)); then
    dt=$((($(date +%s%N) - t0) / 1000000))
    ok "kill -9 of C: its instances moved, A and B run 3 each (after $dt ms)"
else
    not_ok "kill -9 of C: A and B run 3 each" "owned: $(owned_counts)" "$(tail -n 20 "$W/a.log")" "$(tail -n 20 "$W/b.log")"
fi
# Each orphan streams on A or B within the session timeout + 2 s of the kill. Taken from the
# daemons' own log lines (millisecond UTC stamps), not from polling their status, which under
# ASan on a loaded machine adds a second of its own.
worst=0
for i in $ORPHANS; do
    _t=$(first_streaming_after "$i" "$t0")
    [ "$_t" -gt "$worst" ] && worst=$_t
done
check "C's instances ($(echo $ORPHANS)) stream on A or B $worst ms after the kill (limit: session timeout $TMO + 2000 ms)" \
    sh -c "[ -n '$ORPHANS' ] && [ $worst -le $((TMO + 2000)) ]"
_end=$(($(date +%s) + 30))
while [ $(($(streaming_on "$PORT_a") + $(streaming_on "$PORT_b"))) -lt $N ] && [ "$(date +%s)" -lt "$_end" ]; do sleep 0.1; done
check "all 6 instances stream on A and B (their status)" sh -c "[ $(($(streaming_on "$PORT_a") + $(streaming_on "$PORT_b"))) -eq $N ]"
sleep 1
load_stop
if wait_caught_up 40; then ok "every instance catches up with the server"; else not_ok "every instance catches up" "$(cstatus | head -c 1500)"; fi
check_tables "after kill -9"

# ---- 4. configuration drift, C back ---------------------------------------------------------
printf '# changed: pushed again\n' >>"$W/cluster.yaml"
"$SLUICE" cluster push "$W/cluster.yaml" >"$W/push2.out" 2>&1
PUSHED2=$(sed -n 's/.*(.* bytes, config \([0-9a-f]*\)).*/\1/p' "$W/push2.out")
check "a changed configuration has another checksum" sh -c "[ -n '$PUSHED2' ] && [ '$PUSHED2' != '$PUSHED' ]"
: >"$W/c.log"
start_node c
load_start
if wait_spread "2 2 2" 60; then
    ok "C back on the new configuration: A and B hand over, each runs 2 again"
else
    not_ok "C back: each runs 2 again" "owned: $(owned_counts)" "$(node_diag c)" "$(node_diag a)" \
        "$(cstatus | head -c 1500)" "$(tail -n 20 "$W/c.log")" "$(tail -n 20 "$W/a.log")"
fi
check "a hand-over is logged" sh -c "grep -h 'handing the instance over to node-c' '$W/a.log' '$W/b.log' | grep -q ."
sleep 1
load_stop
"$SLUICE" cluster status --zookeeper "$ZK_SERVERS" --cluster spread >"$W/status2.txt" 2>&1 && rc=0 || rc=$?
check "cluster status: exit 3 when configurations differ" sh -c "[ $rc = 3 ]"
check "cluster status flags A and B (old configuration), not C" sh -c "grep -q 'node-a:.*DIFFERS' '$W/status2.txt' && grep -q 'node-b:.*DIFFERS' '$W/status2.txt' && ! grep -q 'node-c:.*DIFFERS' '$W/status2.txt' && grep -q '^WARNING: 2 daemon' '$W/status2.txt'"
if wait_caught_up 40; then ok "every instance catches up again"; else not_ok "every instance catches up again" "$(cstatus | head -c 1500)"; fi
check_tables "after the hand-overs"

# ---- stop ---------------------------------------------------------------------------------
for n in a b c; do
    eval "SLUICE_PID=\$PID_$n"
    sluice_stop 20
    check "node-$n: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
done
check "no daemon registered after the stops" sh -c "[ \$('$SLUICE' cluster status --zookeeper '$ZK_SERVERS' --cluster spread --json | jq '.daemons | length') = 0 ]"
test_done
