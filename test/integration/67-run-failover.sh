#!/bin/sh
# 67-run-failover.sh — a primary replaced under a GTID position is followed: sluice streams from
# MariaDB A while B replicates A with GTIDs (log_slave_updates); A goes away and B, promoted,
# takes A's address. The daemon sees another server_id behind the address, resumes by GTID on
# B, and the rows written on B after the failover arrive, with nothing missing and nothing twice.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq

# A: the primary.
mariadb_up "$TEST_TMP/a"
PORT_A=$MARIADB_PORT
SOCK_A=$MARIADB_SOCK
cdc_user
sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY, v VARCHAR(10))"

# B: a GTID replica of A that logs what it applies.
mariadb_up "$TEST_TMP/b" --server-id=2 --log-slave-updates
SOCK_B=$MARIADB_SOCK
sql "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $PORT_A, MASTER_USER = 'cdc',
     MASTER_PASSWORD = 'cdcpass', MASTER_USE_GTID = slave_pos; START SLAVE"

on_a() { MARIADB_SOCK=$SOCK_A sql "$@"; }
on_b() { MARIADB_SOCK=$SOCK_B sql "$@"; }

MARIADB_PORT=$PORT_A
ADMIN_PORT=$(free_port)
LOG=$W/sluice.log
sluice_config "$W/c.yaml" fo "$W/out.jsonl"
sluice_start "$W/c.yaml" "$LOG"
wait_state streaming 20 || true
on_a "INSERT INTO x.t VALUES (1, 'a'), (2, 'a'); INSERT INTO x.t VALUES (3, 'a')"
MARIADB_SOCK=$SOCK_A
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || not_ok "sluice catches up on A" "$STATUS" "$(log_head "$LOG")"

# B has everything A wrote.
gtid_a=$(on_a "SELECT @@gtid_binlog_pos")
on_b "SELECT MASTER_GTID_WAIT('$gtid_a', 30)" >/dev/null
check "B replicated A (gtid $gtid_a)" sh -c "[ \"\$(MARIADB_SOCK=$SOCK_B mariadb --no-defaults --socket=$SOCK_B -uroot -N -e 'SELECT COUNT(*) FROM x.t')\" = 3 ]"

# Failover: A goes away; B stops replicating and comes back on A's port.
mariadb_down "$TEST_TMP/a"
on_b "STOP SLAVE; RESET SLAVE ALL"
mariadb_down "$TEST_TMP/b"
mariadb_up_port "$TEST_TMP/b" "$PORT_A" --server-id=2 --log-slave-updates
on_b() { sql "$@"; }
on_b "INSERT INTO x.t VALUES (4, 'b'); INSERT INTO x.t VALUES (5, 'b')"
set -- $(master_pos)
if wait_consumed "$1" "$2" 60; then
    ok "after the failover the daemon catches up on B ($1:$2)"
else
    not_ok "after the failover the daemon catches up on B" "$STATUS" "$(log_head "$LOG")"
fi
check "the daemon noticed the new server and resumed by GTID" grep -q 'source server changed (server_id 1 -> 2): resuming by GTID' "$LOG"
ids=$(jq -r 'select(.type == "insert") | .data.id' "$W/out.jsonl" | tr '\n' ' ')
check "every row once, in order: $ids" sh -c "[ '$ids' = '1 2 3 4 5 ' ]"
sluice_stop 20
check "SIGTERM: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
saved=$("$SLUICE" position show --config "$W/c.yaml" --json | jq -r '.server.id // .server_id // empty' 2>/dev/null || true)
diag "saved identity after the failover: ${saved:-?}"
test_done
