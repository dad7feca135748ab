#!/bin/sh
# 90-zk-store.sh — the ZooKeeper position store (meta/zk.c) with a real ZooKeeper (Debian's
# zookeeper package, started here on 127.0.0.1 with a free port) and a throw-away MariaDB:
#   - `sluice run` with `positions: {store: zookeeper}` owns the instance (election node under
#     .../running), streams into a file sink and saves its positions in
#     {root}/{cluster}/instances/{name}/positions, stamped with its node name and epoch;
#   - `sluice position show` reads them; a SIGTERM saves them and removes the election node;
#   - `sluice position reset` writes them (daemon stopped), and the next run starts there;
#   - a write behind the owner's back (a reset from another data_dir) makes the owner's next
#     save fail its version check: it logs "another owner wrote the positions since", steps
#     down, and stands again;
#   - ZooKeeper unreachable: `position show` fails naming the servers.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"
. "$(dirname "$0")/zk.sh"

need_cmd mariadb-install-db mariadbd mariadb jq java
zk_up
mariadb_up "$TEST_TMP/db"
cdc_user
ADMIN_PORT=$(free_port)
LOG=$W/sluice.log
: >"$LOG"
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO app.t VALUES (1, 'a'), (2, 'b');"

# zk_config OUT DATA_DIR SINK
zk_config() {
    cat >"$1" <<YEOF
node: {name: node-a}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $2
instances:
  - name: demo
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    positions: {store: zookeeper, servers: "$ZK_SERVERS", root: /sluice, cluster: prod,
                session_timeout_ms: 4000, save_interval_ms: 100}
    sinks:
      - {type: file, path: $3, format: json}
YEOF
}
zk_config "$W/a.yaml" "$W/var" "$W/out.jsonl"
NODE=/sluice/prod/instances/demo

rc=0
"$SLUICE" position show --config "$W/a.yaml" >"$W/show0.out" 2>&1 || rc=$?
check "position show before any run: nothing stored" grep -q 'no position stored' "$W/show0.out"

sluice_start "$W/a.yaml" "$LOG"
if wait_state streaming 20; then
    ok "daemon owns the instance and streams"
else
    not_ok "daemon owns the instance and streams" "$STATUS" "$(log_head "$LOG")"
fi
check "log: owner with an epoch" grep -q 'owner: node-a is the lowest under /sluice/prod/instances/demo/running (epoch' "$LOG"
sql "INSERT INTO app.t VALUES (3, 'c'); UPDATE app.t SET v = 'bb' WHERE id = 2;"
set -- $(master_pos)
END_FILE=$1 END_POS=$2
if wait_consumed "$END_FILE" "$END_POS" 20; then
    ok "consumed reaches the server's end ($END_FILE:$END_POS)"
else
    not_ok "consumed reaches the server's end" "$STATUS" "$(log_head "$LOG")"
fi
# Saved at the next turn of the loop (a heartbeat at the latest, 1 s).
_end=$(($(date +%s) + 10))
while :; do
    "$SLUICE" position show --config "$W/a.yaml" --json >"$W/show1.out" 2>&1 || true
    got=$(jq -r '"\(.consumed.file) \(.consumed.offset)"' "$W/show1.out" 2>/dev/null || true)
    [ "$got" = "$END_FILE $END_POS" ] || [ "$(date +%s)" -ge "$_end" ] && break
    sleep 0.3
done
if [ "$got" = "$END_FILE $END_POS" ]; then
    ok "position show reads the ZooKeeper record"
else
    not_ok "position show reads the ZooKeeper record" "$(cat "$W/show1.out")"
fi
check "position show: running on node-a, from ZooKeeper's election nodes" sh -c "jq -e '.running == true and .owner == \"node-a\"' '$W/show1.out' >/dev/null"
zk_get "$NODE/positions" >"$W/rec.txt"
check "record stamped with owner and epoch" sh -c "grep -q '^owner=node-a\$' '$W/rec.txt' && grep -q '^epoch=[0-9][0-9]*\$' '$W/rec.txt' && grep -q '^consumed.offset=$END_POS\$' '$W/rec.txt'"
zk_get "$NODE/running" >/dev/null
check "the election node holds node, admin and epoch" sh -c "'$SLUICE' status --admin 127.0.0.1:$ADMIN_PORT >/dev/null && java -cp $ZK_JAR org.apache.zookeeper.ZooKeeperMain -server $ZK_SERVERS ls $NODE/running 2>/dev/null | grep -q 'n-0'"

# A reset while the owner runs (from another data_dir: in cluster mode ZooKeeper tells who runs
# the instance, not the local lock): refused without --force, naming the owner.
zk_config "$W/other.yaml" "$W/var2" "$W/unused.jsonl"
check_fails "position reset while an owner runs: refused" "$SLUICE" position reset --config "$W/other.yaml" --instance demo --file "$END_FILE" --pos "$END_POS"
"$SLUICE" position reset --config "$W/other.yaml" --instance demo --file "$END_FILE" --pos "$END_POS" >"$W/reset0.out" 2>&1 || true
check "the refusal names the owner and --force" grep -q 'runs on daemon node-a (admin 127.0.0.1:.*--force' "$W/reset0.out"
# With --force the record is rewritten behind the owner's back: it notices (its lease thread
# reads the record's epoch), steps down without writing, and restarts from the new record.
"$SLUICE" position reset --config "$W/other.yaml" --instance demo --file "$END_FILE" --pos "$END_POS" --force >"$W/reset1.out" 2>&1
check "reset --force: done, says the owner restarts" grep -q 'daemon node-a, which runs it, restarts' "$W/reset1.out"
sql "INSERT INTO app.t VALUES (4, 'd');"
_end=$(($(date +%s) + 15))
while ! grep -q 'stepping down' "$LOG" && [ "$(date +%s)" -lt "$_end" ]; do sleep 0.2; done
check "the owner sees the foreign write" grep -Eq 'rewritten by sluice position reset|another owner wrote the positions since' "$LOG"
check "the owner steps down" grep -q 'stepping down' "$LOG"
if wait_state streaming 20; then
    ok "it stands again, owns again and streams"
else
    not_ok "it stands again, owns again and streams" "$STATUS" "$(log_head "$LOG")"
fi
# The state may still read `streaming` just before the step-down: wait for the re-election.
_end=$(($(date +%s) + 15))
while [ "$(grep -c 'owner: node-a is the lowest' "$LOG")" -lt 2 ] && [ "$(date +%s)" -lt "$_end" ]; do
    sleep 0.2
done
wait_state streaming 20 || true
check "owner again with a greater epoch" sh -c "[ \$(grep -c 'owner: node-a is the lowest' '$LOG') -ge 2 ]"

set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
sluice_stop 20
check "SIGTERM: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
check "SIGTERM: positions saved" grep -q 'positions saved' "$LOG"
check "SIGTERM: the election node is removed" sh -c "! java -cp $ZK_JAR org.apache.zookeeper.ZooKeeperMain -server $ZK_SERVERS ls $NODE/running 2>/dev/null | grep -q 'n-0'"
check "row 4 in the sink" sh -c "jq -c 'select(.type == \"insert\") | .data.id' '$W/out.jsonl' | grep -qx 4"

# Reset while stopped, then the next run starts there: rows 1..3 come again.
first=$(head -n 1 "$W/out.jsonl" | jq -r '.pos' | cut -d: -f1)
"$SLUICE" position reset --config "$W/a.yaml" --instance demo --earliest >"$W/reset2.out" 2>&1
check "position show after reset: the earliest binlog" sh -c "'$SLUICE' position show --config '$W/a.yaml' --json | jq -r '.consumed.file' | grep -qx '$first'"
n1=$(jq -c 'select(.type == "insert" and .data.id == 1)' "$W/out.jsonl" | wc -l)
sluice_start "$W/a.yaml" "$LOG"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
n2=$(jq -c 'select(.type == "insert" and .data.id == 1)' "$W/out.jsonl" | wc -l)
check "after the reset the run starts from the earliest binlog again ($n1 -> $n2 inserts of row 1)" sh -c "[ $n2 -gt $n1 ]"
sluice_stop 20

# ZooKeeper unreachable: a clear error naming the servers.
zk_down
rc=0
"$SLUICE" position show --config "$W/a.yaml" >"$W/show-down.out" 2>&1 || rc=$?
check "ZooKeeper down: position show names the servers" grep -q "could not reach ZooKeeper at \"$ZK_SERVERS\"" "$W/show-down.out"
test_done
