#!/bin/sh
# 69-run-start.sh — where `sluice run` starts when no position is stored, for each form of
# `start:`: latest, FILE:POS, a MariaDB GTID set, a time; and that a stored position wins over
# `start:` at the next run.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq
mariadb_up "$TEST_TMP/db"
cdc_user
sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY)"
NOW=$(sql "SELECT UNIX_TIMESTAMP()")
# Commit times later than the set-up statements before them (the search returns the first
# transaction committed at or after the time, in binlog order).
sql "SET TIMESTAMP = $NOW + 100; INSERT INTO x.t VALUES (1)"
sql "SET TIMESTAMP = $NOW + 200; INSERT INTO x.t VALUES (2)"
set -- $(master_pos)
MID_FILE=$1 MID_POS=$2
MID_GTID=$(sql "SELECT @@gtid_binlog_pos")
sql "SET TIMESTAMP = $NOW + 300; INSERT INTO x.t VALUES (3)"
MID_TS=$(sql "SET time_zone = '+00:00'; SELECT DATE_FORMAT(FROM_UNIXTIME($NOW + 250), '%Y-%m-%dT%H:%i:%s')")
ADMIN_PORT=$(free_port)

# run_from NAME START ID: a fresh instance starting at START; then row ID is inserted; GOT is
# the inserted ids the sink got.
run_from() {
    _n=$1 _s=$2 _id=$3
    sluice_config "$W/$_n.yaml" "$_n" "$W/$_n.jsonl"
    sed -i "s|start: earliest|start: \"$_s\"|" "$W/$_n.yaml"
    sluice_start "$W/$_n.yaml" "$W/$_n.log"
    wait_state streaming 20 || true
    sql "INSERT INTO x.t VALUES ($_id)"
    set -- $(master_pos)
    wait_consumed "$1" "$2" 20 || true
    sluice_stop 10
    GOT=$(jq -r 'select(.type == "insert") | .data.id' "$W/$_n.jsonl" 2>/dev/null | tr '\n' ' ')
}

run_from latest latest 11
check "start: latest sends only what comes after the start ($GOT)" sh -c "[ '$GOT' = '11 ' ]"
run_from filepos "$MID_FILE:$MID_POS" 12
check "start: FILE:POS ($MID_FILE:$MID_POS) ($GOT)" sh -c "[ '$GOT' = '3 11 12 ' ]"
run_from gtid "$MID_GTID" 13
check "start: a MariaDB GTID set ($MID_GTID) ($GOT)" sh -c "[ '$GOT' = '3 11 12 13 ' ]"
run_from time "${MID_TS}Z" 14
check "start: a time (${MID_TS}Z) ($GOT)" sh -c "[ '$GOT' = '3 11 12 13 14 ' ]"

# The stored position wins over start: at the next run.
sluice_start "$W/latest.yaml" "$W/latest.log"
wait_state streaming 20 || true
sql "INSERT INTO x.t VALUES (99)"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
sluice_stop 10
got=$(jq -r 'select(.type == "insert") | .data.id' "$W/latest.jsonl" | tr '\n' ' ')
check "a restart resumes from the stored position, not start: ($got)" sh -c "[ '$got' = '11 12 13 14 99 ' ]"
test_done
