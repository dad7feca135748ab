#!/bin/sh
# 97-client-cluster.sh — the client protocol in cluster mode: two daemons share instance demo
# through a real ZooKeeper (A owns, B stands by), each with its own `server:` address and no
# sinks (`sinks: []`: the clients are the only consumers), over a throw-away MariaDB.
#   1. The election node of the owner carries its client protocol address (server=).
#   2. Subscribing at the standby is refused with NOT_OWNER, naming the cause; the connection
#      is closed, the standby keeps serving.
#   3. `sluice consume --zookeeper` finds the owner through ZooKeeper and reads the first rows;
#      the client id's cursor is a node under the instance in ZooKeeper.
#   4. kill -9 of the owner while `sluice consume --zookeeper` reads under load: it follows the
#      failover to B, which resumes the client id at its cursor (read from ZooKeeper); every row
#      is printed, in order, none missing; repeats only of the batch in flight at the kill.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"
. "$(dirname "$0")/zk.sh"

need_cmd mariadb-install-db mariadbd mariadb jq java timeout
zk_up
mariadb_up "$TEST_TMP/db"
cdc_user
TMO=4000
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT NOT NULL);"
sql "INSERT INTO app.t SELECT seq, seq FROM app.seq_1_to_300;"
printf 'readerpw\n' >"$W/pw"

# cfg NAME ADMIN_PORT SERVER_PORT
cfg() {
    cat >"$W/$1.yaml" <<YEOF
node: {name: node-$1}
admin: {listen: "127.0.0.1:$2"}
server: {listen: "127.0.0.1:$3", users: [{name: reader, password: readerpw}]}
data_dir: $W/var-$1
instances:
  - name: demo
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 500}
    start: earliest
    positions: {store: zookeeper, servers: "$ZK_SERVERS", root: /sluice, cluster: cl,
                session_timeout_ms: $TMO, save_interval_ms: 100}
    sinks: []
YEOF
}
consume_zk() {
    "$SLUICE" consume --zookeeper "$ZK_SERVERS" --cluster cl --user reader --password-file "$W/pw" \
        --instance demo --client-id c1 --batch 50 "$@"
}

PA=$(free_port)
SA=$(free_port)
PB=$(free_port)
SB=$(free_port)
cfg a "$PA" "$SA"
cfg b "$PB" "$SB"
: >"$W/a.log"
: >"$W/b.log"
sluice_start "$W/a.yaml" "$W/a.log"
A_PID=$SLUICE_PID
if wait_port_state "$PA" streaming 20; then ok "A owns the instance"; else not_ok "A owns the instance" "$(log_head "$W/a.log")"; fi
sluice_start "$W/b.yaml" "$W/b.log"
B_PID=$SLUICE_PID
if wait_port_state "$PB" standby 20; then ok "B stands by"; else not_ok "B stands by" "$(log_head "$W/b.log")"; fi

# ---- 1, 2 -----------------------------------------------------------------------------------
check "the owner's election node carries server=127.0.0.1:$SA" sh -c "java -cp '$ZK_JAR' org.apache.zookeeper.ZooKeeperMain -server '$ZK_SERVERS' get \$(java -cp '$ZK_JAR' org.apache.zookeeper.ZooKeeperMain -server '$ZK_SERVERS' ls /sluice/cl/instances/demo/running 2>/dev/null | grep -o 'n-[0-9]*' | sort | head -1 | sed 's|^|/sluice/cl/instances/demo/running/|') 2>/dev/null | grep -q '^server=127.0.0.1:$SA\$'"
rc=0
"$SLUICE" consume --server "127.0.0.1:$SB" --user reader --password-file "$W/pw" --instance demo \
    --client-id probe --count 1 >"$W/probe.out" 2>"$W/probe.err" || rc=$?
check "subscribe at the standby: refused (exit 1)" sh -c "[ $rc = 1 ]"
check "... with NOT_OWNER's reason" grep -q 'not running on this daemon' "$W/probe.err"
check "B logged and survived it" sh -c "[ '$(state_of "$PB")' = standby ]"

# ---- 3 --------------------------------------------------------------------------------------
if timeout 60 sh -c "$(printf '%s ' "$SLUICE" consume --zookeeper "$ZK_SERVERS" --cluster cl --user reader --password-file "$W/pw" --instance demo --client-id c1 --batch 50 --count 100)" >"$W/c1-1.jsonl" 2>"$W/c1-1.err"; then
    ok "consume --zookeeper finds the owner: 100 changes"
else
    not_ok "consume --zookeeper finds the owner" "$(cat "$W/c1-1.err")"
fi
n1=$(jq -r 'select(.type == "insert") | .data.id' "$W/c1-1.jsonl" | wc -l | tr -d ' ')
check "they are the DDL, then rows 1..$n1 in order" sh -c "[ $n1 -ge 90 ] && [ \"\$(jq -r 'select(.type == \"insert\") | .data.id' '$W/c1-1.jsonl' | tr '\n' ' ')\" = \"$(seq 1 "$n1" | tr '\n' ' ')\" ]"
check "the cursor of c1 is in ZooKeeper" sh -c "java -cp '$ZK_JAR' org.apache.zookeeper.ZooKeeperMain -server '$ZK_SERVERS' get /sluice/cl/instances/demo/clients/c1 2>/dev/null | grep -q '^sluice-client-cursor 1'"

# ---- 4 --------------------------------------------------------------------------------------
rm -f "$W/load.stop"
(
    i=301
    while [ $i -le 600 ]; do
        sql "INSERT INTO app.t VALUES ($i, $i), ($((i + 1)), $((i + 1)));"
        i=$((i + 2))
        sleep 0.02
    done
) &
LOAD_PID=$!
# No --count: repeats after the failover would count toward it and end the read short of row
# 600. The consumer runs until row 600 is printed (bounded), then gets SIGTERM, which ends it
# between requests with exit 0.
"$SLUICE" consume --zookeeper "$ZK_SERVERS" --cluster cl --user reader --password-file "$W/pw" \
    --instance demo --client-id c1 --batch 20 >"$W/c1-2.jsonl" 2>"$W/c1-2.err" &
C_PID=$!
sleep 2
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
if wait_port_state "$PB" streaming 20; then ok "B owns after kill -9 of A"; else not_ok "B owns after kill -9 of A" "$(log_head "$W/b.log")"; fi
wait "$LOAD_PID"
t=0
while [ $t -lt 900 ] && ! jq -e 'select(.type == "insert" and .data.id == 600)' "$W/c1-2.jsonl" >/dev/null 2>&1; do
    sleep 0.1
    t=$((t + 1))
done
kill -TERM "$C_PID" 2>/dev/null || true
rc=0
wait "$C_PID" || rc=$?
check "consume followed the failover, printed row 600 ($((t / 10)) s after the load) and ended on SIGTERM (exit $rc)" sh -c "[ $t -lt 900 ] && [ $rc = 0 ]"
check "it reconnected once the owner was gone" grep -q 'reconnecting' "$W/c1-2.err"
jq -r 'select(.type == "insert") | .data.id' "$W/c1-1.jsonl" "$W/c1-2.jsonl" >"$W/ids"
sort -n -u "$W/ids" >"$W/ids.u"
check "every row 1..600 was printed" sh -c "[ \"\$(tr '\n' ' ' <'$W/ids.u')\" = \"$(seq 1 600 | tr '\n' ' ')\" ]"
dups=$(($(wc -l <"$W/ids") - $(wc -l <"$W/ids.u")))
check "repeats: $dups, at most one batch (20)" sh -c "[ $dups -le 20 ]"
check "in order: each id after the previous one, but for the repeats" sh -c "awk 'NR > 1 && \$1 < prev { back++ } { prev = \$1 } END { exit back > 1 }' '$W/ids'"
check "B resumed the cursors from ZooKeeper" grep -q 'cursors in ZooKeeper' "$W/b.log"
SLUICE_PID=$B_PID
sluice_stop 20
check "B: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
test_done
