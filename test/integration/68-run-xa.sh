#!/bin/sh
# 68-run-xa.sh — XA transactions through `sluice run`: the rows of a prepared transaction reach
# the sink only when its XA COMMIT is read (at the XA COMMIT's place in the stream), never after
# an XA ROLLBACK; a daemon stopped between XA PREPARE and XA COMMIT still delivers them after
# its restart (the saved position never passes an undecided prepare).
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq
mariadb_up "$TEST_TMP/db"
cdc_user
ADMIN_PORT=$(free_port)
LOG=$W/sluice.log
sluice_config "$W/c.yaml" xa "$W/out.jsonl"
sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY, v VARCHAR(10));"
sluice_start "$W/c.yaml" "$LOG"
wait_state streaming 20 || not_ok "daemon reaches streaming" "$STATUS" "$(log_head "$LOG")"

sql "XA START 'a1'; INSERT INTO x.t VALUES (1, 'one'); XA END 'a1'; XA PREPARE 'a1';"
sql "INSERT INTO x.t VALUES (5, 'plain');"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
rows() { jq -r 'select(.type == "insert") | .data.id' "$W/out.jsonl" | tr '\n' ' '; }
check "a prepared XA transaction's rows are held back" sh -c "[ '$(rows)' = '5 ' ]"

sql "XA COMMIT 'a1';"
sql "XA START 'b2'; INSERT INTO x.t VALUES (2, 'two'); XA END 'b2'; XA PREPARE 'b2'; XA ROLLBACK 'b2';"
sql "XA START 'c3'; INSERT INTO x.t VALUES (3, 'three'); XA END 'c3'; XA COMMIT 'c3' ONE PHASE;"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
check "XA COMMIT sends them, XA ROLLBACK drops them, ONE PHASE passes" sh -c "[ '$(rows)' = '5 1 3 ' ]"
commit_pos=$(sql "SHOW BINLOG EVENTS" | awk -F'\t' '$6 ~ /^XA COMMIT X.6131/ { print $2 }')
got_pos=$(jq -r 'select(.data.id == 1) | .pos' "$W/out.jsonl")
check "the committed XA rows carry the XA COMMIT's position ($got_pos)" sh -c "[ '$got_pos' = 'binlog.000001:$commit_pos' ]"

# Stopped between XA PREPARE and XA COMMIT.
sql "XA START 'd4'; INSERT INTO x.t VALUES (4, 'four'); XA END 'd4'; XA PREPARE 'd4';"
sql "INSERT INTO x.t VALUES (6, 'six');"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
sluice_stop 20
check "stop with an undecided XA: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
sql "XA COMMIT 'd4';"
sluice_start "$W/c.yaml" "$LOG"
set -- $(master_pos)
if wait_consumed "$1" "$2" 20; then
    if jq -r 'select(.type == "insert") | .data.id' "$W/out.jsonl" | grep -qx 4; then
        ok "after a restart, the XA COMMIT of a transaction prepared before the stop delivers it"
    else
        not_ok "after a restart, the XA COMMIT of a transaction prepared before the stop delivers it" "$(cat "$W/out.jsonl")"
    fi
else
    not_ok "after a restart the daemon catches up" "$STATUS" "$(log_head "$LOG")"
fi
sluice_stop 20
test_done
