#!/bin/sh
# 65-run-ops.sh — `sluice run` as an operator meets it: filters, the instance lock, `sluice
# status`, SIGHUP, a stalled source, binlogs purged under a stopped daemon (state failed with
# the reset command, then a reset by timestamp resumes at the right transaction), bad start-up.
#
# One throw-away MariaDB (default binlog_row_metadata: names come from the schema tracking),
# the daemon started and stopped by PID, every wait bounded.
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
: >"$LOG"

# ---- bad start-up ----------------------------------------------------------------------------
printf 'instances:\n  - name: x\n    bogus: 1\n' >"$W/bad.yaml"
rc=0
"$SLUICE" run --config "$W/bad.yaml" >"$W/bad.out" 2>&1 || rc=$?
if [ "$rc" = 1 ] && grep -q "bad.yaml:3: key \"instances\[0\].bogus\"" "$W/bad.out"; then
    ok "run with a bad config: exit 1, FILE:LINE: key message"
else
    not_ok "run with a bad config: exit 1, FILE:LINE: key message" "exit $rc" "$(cat "$W/bad.out")"
fi
rc=0
"$SLUICE" run >"$W/bad.out" 2>&1 || rc=$?
check "run without --config: exit 2 and says so" sh -c "[ $rc = 2 ] && grep -q 'give --config FILE' '$W/bad.out'"
rc=0
"$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" >"$W/st.out" 2>&1 || rc=$?
check "status without a daemon: exit 1, names the address" sh -c "[ $rc = 1 ] && grep -q 'no sluice daemon answers at 127.0.0.1:$ADMIN_PORT' '$W/st.out'"

# ---- filters ---------------------------------------------------------------------------------
sql "CREATE DATABASE app; CREATE DATABASE other;
CREATE TABLE app.keep (id INT PRIMARY KEY, name VARCHAR(10), secret VARCHAR(10), n INT UNSIGNED);
CREATE TABLE app.skip_me (id INT PRIMARY KEY);
CREATE TABLE other.t (id INT PRIMARY KEY);"
cat >"$W/f.yaml" <<EOF
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
instances:
  - name: filt
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 0}
    start: earliest
    stall_timeout_ms: 2000
    filters:
      include: ['^app\.']
      exclude: ['^app\.skip']
      events: [insert, delete]
      drop_columns: {app.keep: [secret]}
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks:
      - {type: file, path: $W/filt.jsonl, format: json}
EOF
sluice_start "$W/f.yaml" "$LOG"
if wait_state streaming 20; then
    ok "daemon reaches streaming"
else
    not_ok "daemon reaches streaming" "$STATUS" "$(log_head "$LOG")"
fi
sql "INSERT INTO app.keep VALUES (1, 'a', 'pw1', 4294967295), (2, 'b', 'pw2', 0);
UPDATE app.keep SET name = 'c' WHERE id = 1;
DELETE FROM app.keep WHERE id = 2;
INSERT INTO app.skip_me VALUES (1);
INSERT INTO other.t VALUES (1);"
set -- $(master_pos)
if wait_consumed "$1" "$2" 20; then
    ok "consumed position reaches the server's end ($1:$2)"
else
    not_ok "consumed position reaches the server's end ($1:$2)" "$STATUS" "$(log_head "$LOG")"
fi
# A DDL alone (its own GTID group, no BEGIN) ends there: the consumed position passes it
# without waiting for a later transaction.
sql "CREATE TABLE app.after_ddl (id INT PRIMARY KEY);"
set -- $(master_pos)
if wait_consumed "$1" "$2" 20; then
    ok "consumed position passes a DDL that nothing follows ($1:$2)"
else
    not_ok "consumed position passes a DDL that nothing follows ($1:$2)" "$STATUS"
fi
got=$(jq -c 'select(.type != "ddl") | [.type, .db, .table, .data]' "$W/filt.jsonl" 2>&1 || true)
want='["insert","app","keep",{"id":1,"name":"a","n":4294967295}]
["insert","app","keep",{"id":2,"name":"b","n":0}]
["delete","app","keep",{"id":2,"name":"b","n":0}]'
if [ "$got" = "$want" ]; then
    ok "filters: include/exclude regexes, events, drop_columns; names and unsigned from the schema"
else
    not_ok "filters: include/exclude regexes, events, drop_columns; names and unsigned from the schema" \
        "want:" "$want" "got:" "$got"
fi

# ---- the instance lock: a second daemon on the same data_dir ----------------------------------
P1=$SLUICE_PID
A1=$ADMIN_PORT
ADMIN_PORT=$(free_port)
sed "s/127.0.0.1:$A1/127.0.0.1:$ADMIN_PORT/" "$W/f.yaml" >"$W/f2.yaml"
sluice_start "$W/f2.yaml" "$W/second.log"
P2=$SLUICE_PID
if wait_state failed 10 && printf '%s' "$STATUS" | jq -r .why | grep -q "locked by process $P1"; then
    ok "a second daemon on the same instance: failed, names the pid holding the lock"
else
    not_ok "a second daemon on the same instance: failed, names the pid holding the lock" "$STATUS" "$(log_head "$W/second.log")"
fi
sluice_stop 10
check "the second daemon stops on SIGTERM with exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
SLUICE_PID=$P1
ADMIN_PORT=$A1

# ---- status ----------------------------------------------------------------------------------
"$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" >"$W/st.out" 2>&1 || true
if grep -q '^filt: streaming' "$W/st.out" && grep -q 'consumed binlog.000001:' "$W/st.out"; then
    ok "sluice status shows state and consumed position"
else
    not_ok "sluice status shows state and consumed position" "$(cat "$W/st.out")"
fi

# ---- SIGHUP reopens the file sink (logrotate) ------------------------------------------------
mv "$W/filt.jsonl" "$W/filt.jsonl.1"
kill -HUP "$SLUICE_PID"
sleep 0.5
sql "INSERT INTO app.keep VALUES (3, 'd', 'pw3', 7)"
set -- $(master_pos)
wait_consumed "$1" "$2" 20 || true
if [ -f "$W/filt.jsonl" ] && grep -q '"id":3' "$W/filt.jsonl" && ! grep -q '"id":3' "$W/filt.jsonl.1"; then
    ok "SIGHUP: the file sink reopens its path; new changes go to the new file"
else
    not_ok "SIGHUP: the file sink reopens its path; new changes go to the new file" "$(ls -l "$W")" "$(log_head "$LOG")"
fi

# ---- a stalled source (heartbeats off, server frozen) -----------------------------------------
kill -STOP "$MARIADB_PID"
if wait_state stalled 15 || grep -q 'stalled' "$LOG"; then
    ok "a frozen server: state stalled within stall_timeout_ms, logged"
else
    not_ok "a frozen server: state stalled within stall_timeout_ms, logged" "$STATUS" "$(log_head "$LOG")"
fi
kill -CONT "$MARIADB_PID"
sql "INSERT INTO app.keep VALUES (4, 'e', 'pw4', 8)"
set -- $(master_pos)
if wait_consumed "$1" "$2" 30 && grep -q '"id":4' "$W/filt.jsonl"; then
    ok "after the server resumes: reconnected, the change arrives"
else
    not_ok "after the server resumes: reconnected, the change arrives" "$STATUS" "$(log_head "$LOG")"
fi

# ---- clean stop -------------------------------------------------------------------------------
sluice_stop 20
check "SIGTERM: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
check "SIGTERM: positions saved (logged)" grep -q 'positions saved' "$LOG"

# ---- binlogs purged under the stopped daemon --------------------------------------------------
sql "INSERT INTO app.keep VALUES (10, 'lost', 'x', 1)"
sql "FLUSH BINARY LOGS"
sql "SET TIMESTAMP = UNIX_TIMESTAMP() + 100; INSERT INTO app.keep VALUES (11, 'later', 'x', 1)"
TS=$(sql "SELECT FROM_UNIXTIME(UNIX_TIMESTAMP() + 200)")
sql "FLUSH BINARY LOGS"
sql "SET TIMESTAMP = UNIX_TIMESTAMP() + 300; INSERT INTO app.keep VALUES (12, 'wanted', 'x', 1)"
sql "SET TIMESTAMP = UNIX_TIMESTAMP() + 400; INSERT INTO app.keep VALUES (13, 'wanted2', 'x', 1)"
last=$(sql "SHOW BINARY LOGS" | tail -n 1 | cut -f 1)
# The server refuses (with a warning only) to purge a file a dump thread still reads: the
# stopped daemon's thread may linger a moment.
i=0
while [ "$(sql "SHOW BINARY LOGS" | head -n 1 | cut -f 1)" != "$last" ] && [ $i -lt 50 ]; do
    sql "PURGE BINARY LOGS TO '$last'"
    sleep 0.2
    i=$((i + 1))
done
: >"$LOG"
sluice_start "$W/f.yaml" "$LOG"
if wait_state failed 20; then
    why=$(printf '%s' "$STATUS" | jq -r .why)
    if printf '%s' "$why" | grep -q 'sluice position reset' && printf '%s' "$why" | grep -q "$last"; then
        ok "purged binlog: state failed, names the oldest binlog and the reset command"
    else
        not_ok "purged binlog: state failed, names the oldest binlog and the reset command" "$why"
    fi
else
    not_ok "purged binlog: state failed" "$STATUS" "$(log_head "$LOG")"
fi
sluice_stop 10
rc=0
"$SLUICE" position reset --config "$W/f.yaml" --instance filt --timestamp "$TS" >"$W/reset.out" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
    ok "position reset --timestamp with the daemon stopped"
else
    not_ok "position reset --timestamp with the daemon stopped" "exit $rc" "$(cat "$W/reset.out")"
fi
n_before=$(wc -l <"$W/filt.jsonl")
sluice_start "$W/f.yaml" "$LOG"
set -- $(master_pos)
if wait_consumed "$1" "$2" 20; then
    new=$(tail -n +"$((n_before + 1))" "$W/filt.jsonl" | jq -r 'select(.type == "insert") | .data.id' | tr '\n' ' ')
    if [ "$new" = "12 13 " ]; then
        ok "after the reset by timestamp: resumes at the first transaction at/after it (rows 12, 13)"
    else
        not_ok "after the reset by timestamp: resumes at the first transaction at/after it" "new rows: $new" "$(cat "$W/reset.out")"
    fi
else
    not_ok "after the reset by timestamp: the daemon catches up" "server at $1:$2" "$STATUS" "$(log_head "$LOG")" "$(sql 'SHOW BINLOG EVENTS IN "binlog.000003"')"
fi
sluice_stop 20
check "final SIGTERM: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"
test_done
