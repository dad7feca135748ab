#!/bin/sh
# 94-zk-schema.sh — cluster mode: the schema history travels with the positions through
# ZooKeeper, so a daemon that takes an instance over decodes the rows after the stored position
# with the schema they were written under, not the source's current one. A real ZooKeeper, a
# throw-away MariaDB (binlog_row_metadata at its default, so column names come from the
# schema, not from the binlog); each daemon writes its own file sink.
#   1. A streams app.t (id, a, b) and stops (SIGTERM): its schema history is in ZooKeeper
#      ({instance}/schema/r-N, one node per version).
#   2. With no daemon running: rows 4, 5, then `ALTER TABLE app.t CHANGE a a2 INT` (a rename,
#      same types: the table map cannot tell), then row 6.
#   3. B starts on an empty data dir and owns: rows 4 and 5 come out with column a, row 6 with
#      a2 (before this, B started from the current schema and named rows 4 and 5's column a2).
#   4. B stops, A comes back (its own history ends before the rename): it takes the versions
#      from ZooKeeper, and row 7 comes out with a2; neither daemon says the history is lost.
#   5. The copy deleted from ZooKeeper (as a cluster run by an older sluice): A, restarted,
#      copies its own history there and row 8 comes out with a2.
#   6. `sluice position reset` back before row 4 takes the schema version back too (by
#      ZooKeeper's copy): A, restarted, sends row 4 again with a, row 6 with a2.
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
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, a INT, b VARCHAR(10));"
NODE=/sluice/prod/instances/demo
TMO=4000

# wait_row FILE ID TIMEOUT_S: until the insert of row ID is in FILE.
wait_row() {
    _end=$(($(date +%s) + $3))
    while [ -z "$(inserted "$1" "$2")" ]; do
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.2
    done
}

PA=$(free_port)
PB=$(free_port)
zk_file_cfg a node-a "$PA" "$W/out-a.jsonl"
zk_file_cfg b node-b "$PB" "$W/out-b.jsonl"
: >"$W/a.log"
: >"$W/b.log"
: >"$W/out-a.jsonl"
: >"$W/out-b.jsonl"

# ---- 1. A streams, then stops ----------------------------------------------------------------
sluice_start "$W/a.yaml" "$W/a.log"
A_PID=$SLUICE_PID
if wait_port_state "$PA" streaming 20; then ok "A owns the instance"; else not_ok "A owns the instance" "$(log_head "$W/a.log")"; fi
sql "INSERT INTO app.t VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'z');"
if wait_row "$W/out-a.jsonl" 3 30; then ok "A wrote rows 1..3"; else not_ok "A wrote rows 1..3" "$(log_head "$W/a.log")"; fi
check "A named the column a" sh -c "[ '$(inserted "$W/out-a.jsonl" 1)' = '{\"id\":1,\"a\":10,\"b\":\"x\"}' ]"
sluice_stop 20
check "A: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
RECS=$(zk_ls "$NODE/schema")
check "A's schema history is in ZooKeeper ($RECS)" sh -c "echo '$RECS' | grep -q 'r-00000000000000000001'"

# ---- 2. rows, a rename, a row: nobody streams ------------------------------------------------
set -- $(master_pos)
P_FILE=$1 P_POS=$2
sql "INSERT INTO app.t VALUES (4, 40, 'p'), (5, 50, 'q');
     ALTER TABLE app.t CHANGE a a2 INT;
     INSERT INTO app.t VALUES (6, 60, 'r');"

# ---- 3. B takes over on an empty data dir ----------------------------------------------------
sluice_start "$W/b.yaml" "$W/b.log"
B_PID=$SLUICE_PID
if wait_row "$W/out-b.jsonl" 6 30; then ok "B owns and wrote rows 4..6"; else not_ok "B wrote rows 4..6" "$(log_head "$W/b.log")"; fi
check "B: row 4 decoded with the schema it was written under (column a)" \
    sh -c "[ '$(inserted "$W/out-b.jsonl" 4)' = '{\"id\":4,\"a\":40,\"b\":\"p\"}' ]"
check "B: row 5 too" sh -c "[ '$(inserted "$W/out-b.jsonl" 5)' = '{\"id\":5,\"a\":50,\"b\":\"q\"}' ]"
check "B: row 6, after the rename, with column a2" \
    sh -c "[ '$(inserted "$W/out-b.jsonl" 6)' = '{\"id\":6,\"a2\":60,\"b\":\"r\"}' ]"
check "B did not start from the current schema" sh -c "! grep -q 'is lost\|neither in ZooKeeper' '$W/b.log'"
SLUICE_PID=$B_PID
sluice_stop 20
check "B: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"

# ---- 4. A back: its own history ends before the rename ----------------------------------------
sql "INSERT INTO app.t VALUES (7, 70, 's');"
sluice_start "$W/a.yaml" "$W/a.log"
A_PID=$SLUICE_PID
if wait_row "$W/out-a.jsonl" 7 30; then ok "A back: wrote row 7"; else not_ok "A back: wrote row 7" "$(tail -n 20 "$W/a.log")"; fi
check "A back: row 7 with column a2 (the versions B added, taken from ZooKeeper)" \
    sh -c "[ '$(inserted "$W/out-a.jsonl" 7)' = '{\"id\":7,\"a2\":70,\"b\":\"s\"}' ]"
check "A did not start from the current schema" sh -c "! grep -q 'is lost\|neither in ZooKeeper' '$W/a.log'"
sluice_stop 20
check "A: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"

# ---- 5. a ZooKeeper without the copy (as an older sluice left it) ------------------------------
zk_cli deleteall "$NODE/schema" >/dev/null || true
check "the copy is gone" sh -c "[ -z '$(zk_ls "$NODE/schema")' ]"
sql "INSERT INTO app.t VALUES (8, 80, 't');"
sluice_start "$W/a.yaml" "$W/a.log"
if wait_row "$W/out-a.jsonl" 8 30; then ok "A again: wrote row 8"; else not_ok "A again: wrote row 8" "$(tail -n 20 "$W/a.log")"; fi
check "A again: row 8 with column a2" sh -c "[ '$(inserted "$W/out-a.jsonl" 8)' = '{\"id\":8,\"a2\":80,\"b\":\"t\"}' ]"
check "A copied its own history to ZooKeeper" sh -c "grep -q 'schema history versions 1\.\.[0-9]* copied to ZooKeeper' '$W/a.log'"
RECS=$(zk_ls "$NODE/schema")
check "the copy is back ($RECS)" sh -c "echo '$RECS' | grep -q 'r-00000000000000000002'"
sluice_stop 20
check "A: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"

# ---- 6. reset back before row 4 and the rename -------------------------------------------------
"$SLUICE" position reset --config "$W/a.yaml" --instance demo --file "$P_FILE" --pos "$P_POS" >"$W/reset.out" 2>&1 && rc=0 || rc=$?
check "reset --file $P_FILE --pos $P_POS: exit 0" sh -c "[ $rc = 0 ]"
check "reset takes the schema version back by ZooKeeper's copy (2 -> 1)" grep -q 'schema version: 2 -> 1' "$W/reset.out"
: >"$W/out-a.jsonl"
sluice_start "$W/a.yaml" "$W/a.log"
if wait_row "$W/out-a.jsonl" 8 30; then ok "A after the reset: wrote rows 4..8"; else not_ok "A after the reset: wrote rows 4..8" "$(tail -n 20 "$W/a.log")"; fi
check "A after the reset: row 4 again with column a" \
    sh -c "[ '$(inserted "$W/out-a.jsonl" 4)' = '{\"id\":4,\"a\":40,\"b\":\"p\"}' ]"
check "A after the reset: row 6 with column a2" \
    sh -c "[ '$(inserted "$W/out-a.jsonl" 6)' = '{\"id\":6,\"a2\":60,\"b\":\"r\"}' ]"
sluice_stop 20
check "A: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
test_done
