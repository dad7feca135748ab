#!/bin/sh
# 91-zk-failover.sh — cluster mode: two daemons share one instance through a real ZooKeeper
# (Debian's package, started here on 127.0.0.1) over a throw-away MariaDB under load. Each
# daemon writes its own file sink (a shared path would let two writers interleave); the output
# is "rebuilt" by replaying the files in the order the owners ran, skipping every row change at
# or before the greatest (file, offset, row) already applied (the repeats after a takeover),
# and compared with SELECT.
#   1. A owns (streaming), B stands by (state standby, no parsing: its sink stays empty).
#   2. kill -9 of A under load: B owns within the session timeout + 2 s; rebuilt == SELECT.
#   3. Fencing: A' (node-a again) stands by behind B; B is frozen with SIGSTOP past the session
#      timeout while rows keep coming; A' takes over; SIGCONT B: B writes nothing more to its
#      sink or to ZooKeeper, logs "fenced: lost the ZooKeeper session ...; stepping down" and
#      is standby again; rebuilt (A, B, A') == SELECT.
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
TMO=4000
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT NOT NULL);"
NODE=/sluice/prod/instances/demo

# load_start / load_stop: a background workload of small transactions (inserts, updates,
# deletes), until load_stop.
NEXT=1
load_start() {
    rm -f "$W/load.stop"
    (
        i=$NEXT
        while [ ! -f "$W/load.stop" ]; do
            u=$((i / 2 + 1)) d=$((i / 3 + 1))
            sql "BEGIN; INSERT INTO app.t VALUES ($i, 0), ($((i + 1)), 1), ($((i + 2)), 2);
                 UPDATE app.t SET v = v + 7 WHERE id = $u; DELETE FROM app.t WHERE id = $d AND v > 100;
                 COMMIT;" || exit 1
            i=$((i + 3))
        done
        echo "$i" >"$W/load.next"
    ) &
    LOAD_PID=$!
}
load_stop() {
    : >"$W/load.stop"
    wait "$LOAD_PID"
    NEXT=$(cat "$W/load.next")
}
PA=$(free_port)
PB=$(free_port)
zk_file_cfg a node-a "$PA" "$W/out-a.jsonl"
zk_file_cfg b node-b "$PB" "$W/out-b.jsonl"
: >"$W/a.log"
: >"$W/b.log"
sluice_start "$W/a.yaml" "$W/a.log"
A_PID=$SLUICE_PID
if wait_port_state "$PA" streaming 20; then ok "A owns the instance (streaming)"; else not_ok "A owns the instance" "$(log_head "$W/a.log")"; fi
sluice_start "$W/b.yaml" "$W/b.log"
B_PID=$SLUICE_PID
if wait_port_state "$PB" standby 20; then ok "B stands by (state standby in sluice status)"; else not_ok "B stands by" "$(state_of "$PB")" "$(log_head "$W/b.log")"; fi

load_start
sleep 2
check "B does not parse while standing by (its sink is empty)" sh -c "[ ! -s '$W/out-b.jsonl' ]"
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
t0=$(date +%s%N)
if wait_port_state "$PB" streaming 20; then
    # The bound is taken from B's own log line (millisecond UTC stamp), not from polling its
    # status, which under ASan on a loaded machine adds a second of its own.
    dt=99999
    _l=$(grep -h 'INST \[demo\] standby -> streaming' "$W/b.log" | head -n 1 | cut -d' ' -f1)
    [ -n "$_l" ] && dt=$(($(date -u -d "$_l" +%s%3N) - t0 / 1000000))
    check "B owns ${dt} ms after kill -9 of A (its log; limit: session timeout $TMO + 2000 ms)" sh -c "[ $dt -ge 0 ] && [ $dt -le $((TMO + 2000)) ]"
else
    not_ok "B owns after kill -9 of A" "$(state_of "$PB")" "$(log_head "$W/b.log")"
fi
sleep 1.5
load_stop
SLUICE_PID=$B_PID
ADMIN_PORT=$PB
set -- $(master_pos)
if wait_consumed "$1" "$2" 30; then ok "B catches up with the server ($1:$2)"; else not_ok "B catches up" "$STATUS"; fi
zk_check_rebuilt app.t "kill -9 failover: the rows rebuilt from A then B equal SELECT" "$W/out-a.jsonl" "$W/out-b.jsonl"

# ---- fencing: SIGSTOP the owner past the session timeout ----
zk_file_cfg a2 node-a "$PA" "$W/out-a2.jsonl"
: >"$W/a2.log"
sluice_start "$W/a2.yaml" "$W/a2.log"
A2_PID=$SLUICE_PID
if wait_port_state "$PA" standby 20; then ok "A' stands by behind B"; else not_ok "A' stands by behind B" "$(state_of "$PA")" "$(log_head "$W/a2.log")"; fi
sleep 1
kill -STOP "$B_PID"
B_SIZE=$(wc -c <"$W/out-b.jsonl")
load_start
t0=$(date +%s%N)
if wait_port_state "$PA" streaming 20; then
    dt=$((($(date +%s%N) - t0) / 1000000))
    ok "A' owns ${dt} ms after B froze"
else
    not_ok "A' owns after B froze" "$(state_of "$PA")" "$(log_head "$W/a2.log")"
fi
sleep 1
kill -CONT "$B_PID"
sleep 2
load_stop
SLUICE_PID=$A2_PID
ADMIN_PORT=$PA
set -- $(master_pos)
if wait_consumed "$1" "$2" 30; then ok "A' catches up with the server ($1:$2)"; else not_ok "A' catches up" "$STATUS"; fi
sleep 1.5
check "B wrote nothing to its sink after SIGCONT ($B_SIZE bytes before)" sh -c "[ \$(wc -c <'$W/out-b.jsonl') = $B_SIZE ]"
check "B logs that it was fenced and stepped down" grep -q 'fenced: lost the ZooKeeper session.*stepping down' "$W/b.log"
check "B is standby again" sh -c "[ \"\$('$SLUICE' status --admin 127.0.0.1:$PB --json | jq -r '.instances[0].state')\" = standby ]"
zk_get "$NODE/positions" >"$W/rec.txt"
check "the stored positions are A's (owner node-a) and at the server's end" sh -c "grep -qx 'owner=node-a' '$W/rec.txt' && grep -qx 'consumed.offset=$2' '$W/rec.txt'"
check "B never wrote positions after the takeover (no position error in its log)" sh -c "! grep -q 'could not save positions' '$W/b.log'"
zk_check_rebuilt app.t "fenced failover: the rows rebuilt from A, B then A' equal SELECT" "$W/out-a.jsonl" "$W/out-b.jsonl" "$W/out-a2.jsonl"
sluice_stop 20
SLUICE_PID=$B_PID
sluice_stop 20
check "B stops cleanly from standby" sh -c "[ '$SLUICE_RC' = 0 ]"
test_done
