#!/bin/sh
# 71-run-reset-schema.sh — `sluice position reset` back past a DDL also takes the schema history
# back: the rows written before the DDL come out again with the columns they were written
# with, not the ones after it (binlog_row_metadata at MariaDB's default, so names come from the
# schema history, not from the binlog).
#   1. app.t (id, a, b); row 1; P = the server's position; row 2; `ALTER TABLE app.t CHANGE a
#      a2 INT` (a rename, same types); row 3. One run to the end: rows 1, 2 with a, row 3 with a2.
#   2. reset --file/--pos P with the daemon stopped: it prints the schema version going back.
#   3. The next run: row 2 again with a, row 3 with a2.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq
mariadb_up "$TEST_TMP/db"
cdc_user
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, a INT, b VARCHAR(10));
     INSERT INTO app.t VALUES (1, 10, 'x');"
set -- $(master_pos)
P_FILE=$1 P_POS=$2
sql "INSERT INTO app.t VALUES (2, 20, 'y'); ALTER TABLE app.t CHANGE a a2 INT;
     INSERT INTO app.t VALUES (3, 30, 'z');"
ADMIN_PORT=$(free_port)
sluice_config "$W/s.yaml" demo "$W/out1.jsonl"

# run_to_end OUT: one run of the daemon into OUT until it has consumed the server's end.
run_to_end() {
    sed -i "s|path: .*jsonl|path: $1|" "$W/s.yaml"
    sluice_start "$W/s.yaml" "$W/run.log"
    set -- $(master_pos)
    wait_consumed "$1" "$2" 30 || true
    sluice_stop 20
}

# ---- 1. to the end ---------------------------------------------------------------------------
run_to_end "$W/out1.jsonl"
check "first run: row 2 with column a" sh -c "[ '$(inserted "$W/out1.jsonl" 2)' = '{\"id\":2,\"a\":20,\"b\":\"y\"}' ]"
check "first run: row 3 with column a2" sh -c "[ '$(inserted "$W/out1.jsonl" 3)' = '{\"id\":3,\"a2\":30,\"b\":\"z\"}' ]"
check "first run: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"

# ---- 2. reset back before row 2 and the rename -------------------------------------------------
"$SLUICE" position reset --config "$W/s.yaml" --instance demo --file "$P_FILE" --pos "$P_POS" >"$W/reset.out" 2>&1 && rc=0 || rc=$?
check "reset --file $P_FILE --pos $P_POS: exit 0" sh -c "[ $rc = 0 ]"
check "reset says the schema version goes back" grep -q 'schema version: [0-9]* -> [0-9]*' "$W/reset.out"
V=$("$SLUICE" position show --config "$W/s.yaml" --instance demo --json | jq -r '.schema_version')
check "the stored schema version is the one before the rename ($V)" sh -c "[ '$V' = 1 ]"

# ---- 3. again from P ---------------------------------------------------------------------------
run_to_end "$W/out2.jsonl"
check "after the reset: row 1 not sent again" sh -c "[ -z '$(inserted "$W/out2.jsonl" 1)' ]"
check "after the reset: row 2 again with column a" sh -c "[ '$(inserted "$W/out2.jsonl" 2)' = '{\"id\":2,\"a\":20,\"b\":\"y\"}' ]"
check "after the reset: row 3 with column a2" sh -c "[ '$(inserted "$W/out2.jsonl" 3)' = '{\"id\":3,\"a2\":30,\"b\":\"z\"}' ]"
check "second run: SIGTERM, exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
test_done
