#!/bin/sh
# 66-run-source.sh — the source connection as `sluice run` reports its trouble: a wrong
# password and a TLS requirement the server cannot meet end in `failed` with the reason (not
# an endless reconnect loop), another replica taking our server_id is named, a server restarted
# mid-stream is reconnected to with nothing lost, and the server's identity is logged.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq
mariadb_up "$TEST_TMP/db"
cdc_user
sql "CREATE DATABASE x; CREATE TABLE x.t (id INT PRIMARY KEY)"
ADMIN_PORT=$(free_port)

# config NAME EXTRA_SOURCE_KEYS SERVER_ID
config() {
    cat >"$W/$1.yaml" <<YAML
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
instances:
  - name: $1
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: ${2:-cdcpass}, heartbeat_ms: 1000, server_id: ${4:-auto}${3:+, $3}}
    start: earliest
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks:
      - {type: file, path: $W/$1.jsonl, format: json}
YAML
}

# ---- wrong password --------------------------------------------------------------------------
config badpw wrongpass
sluice_start "$W/badpw.yaml" "$W/badpw.log"
if wait_state failed 15 && printf '%s' "$STATUS" | jq -r .why | grep -q 'Access denied'; then
    ok "wrong password: failed with the server's reason, no reconnect loop"
else
    not_ok "wrong password: failed with the server's reason" "$STATUS" "$(log_head "$W/badpw.log")"
fi
sluice_stop 10

# ---- TLS required, server without TLS ---------------------------------------------------------
config tls cdcpass "tls: {mode: required}"
sluice_start "$W/tls.yaml" "$W/tls.log"
if wait_state failed 15 && printf '%s' "$STATUS" | jq -r .why | grep -qi 'TLS'; then
    ok "tls.mode required against a server without TLS: failed, says TLS"
else
    not_ok "tls.mode required against a server without TLS: failed, says TLS" "$STATUS" "$(log_head "$W/tls.log")"
fi
sluice_stop 10

# ---- identity, restart of the server ----------------------------------------------------------
config main
sluice_start "$W/main.yaml" "$W/main.log"
MAIN_PID=$SLUICE_PID
wait_state streaming 15 || true
if grep -q 'connected to 127.0.0.1:[0-9]* (server_id 1)' "$W/main.log"; then
    ok "the server's identity (server_id) is logged at connect"
else
    not_ok "the server's identity (server_id) is logged at connect" "$(log_head "$W/main.log")"
fi
sql "INSERT INTO x.t VALUES (1), (2)"
PORT=$MARIADB_PORT
mariadb_down "$TEST_TMP/db"
if wait_state reconnecting 15; then
    ok "server stopped: state reconnecting"
else
    not_ok "server stopped: state reconnecting" "$STATUS" "$(log_head "$W/main.log")"
fi
mariadb_up_port "$TEST_TMP/db" "$PORT"
sql "INSERT INTO x.t VALUES (3)"
set -- $(master_pos)
if wait_consumed "$1" "$2" 30; then
    ids=$(jq -r 'select(.type == "insert") | .data.id' "$W/main.jsonl" | sort -n | uniq | tr '\n' ' ')
    check "server restarted: reconnected, rows before and after it all arrived ($ids)" sh -c "[ '$ids' = '1 2 3 ' ]"
else
    not_ok "server restarted: the daemon catches up" "$STATUS" "$(log_head "$W/main.log")"
fi

# ---- a frozen server with heartbeats on (1000 ms): stalled after 3 silent periods --------------
kill -STOP "$MARIADB_PID"
if wait_state stalled 15 && printf '%s' "$STATUS" | jq -r .why | grep -q 'no event nor heartbeat'; then
    ok "a frozen server (heartbeats on): state stalled, says no event nor heartbeat"
else
    not_ok "a frozen server (heartbeats on): state stalled" "$STATUS" "$(log_head "$W/main.log")"
fi
kill -CONT "$MARIADB_PID"
if wait_state streaming 30; then
    ok "the server thawed: streaming again"
else
    not_ok "the server thawed: streaming again" "$STATUS" "$(log_head "$W/main.log")"
fi

# ---- ed25519 authentication (MariaDB's auth_ed25519 plugin) -----------------------------------
if sql "INSTALL SONAME 'auth_ed25519'" 2>"$W/ed.err" &&
    sql "CREATE USER ed@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('edpass');
         GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ed@'127.0.0.1';" 2>>"$W/ed.err"; then
    sluice_stop 10
    sed -e 's/user: cdc, password: cdcpass/user: ed, password: edpass/' -e 's/name: main/name: ed/' \
        -e "s|$W/main.jsonl|$W/ed.jsonl|" "$W/main.yaml" >"$W/ed.yaml"
    sluice_start "$W/ed.yaml" "$W/ed.log"
    sql "INSERT INTO x.t VALUES (4)"
    set -- $(master_pos)
    if wait_consumed "$1" "$2" 20 && grep -q '"id":4' "$W/ed.jsonl"; then
        ok "a user authenticated by ed25519 streams"
    else
        not_ok "a user authenticated by ed25519 streams" "$STATUS" "$(log_head "$W/ed.log")"
    fi
else
    skip "ed25519 authentication" "the server could not load auth_ed25519: $(head -c 200 "$W/ed.err")"
fi

# ---- another replica with our server_id -------------------------------------------------------
sluice_stop 10
config dup cdcpass "" 4242
sluice_start "$W/dup.yaml" "$W/dup.log"
wait_state streaming 15 || true
export DUMP_PW=cdcpass
"$SLUICE" dump --host 127.0.0.1 --port "$MARIADB_PORT" --user cdc --password-env DUMP_PW \
    --server-id 4242 >/dev/null 2>&1 &
DUMP_PID=$!
echo "$DUMP_PID" >>"${SLUICE_TEST_PIDFILE:-/dev/null}"
if wait_state failed 15 && printf '%s' "$STATUS" | jq -r .why | grep -q 'unique source.server_id'; then
    ok "another replica with our server_id: failed, says to set a unique source.server_id"
else
    not_ok "another replica with our server_id: failed, names the conflict" "$STATUS" "$(log_head "$W/dup.log")"
fi
kill "$DUMP_PID" 2>/dev/null || true
wait "$DUMP_PID" 2>/dev/null || true
sluice_stop 10

# ---- another server behind the same address -------------------------------------------------
# The stored position (reset to a file:pos, so without a GTID) belongs to server_id 1; a server
# with server_id 2 now answers on the port: refused, with the reset command.
"$SLUICE" position reset --config "$W/main.yaml" --instance main --file binlog.000001 --pos 4 >/dev/null
PORT=$MARIADB_PORT
mariadb_down "$TEST_TMP/db"
mariadb_up_port "$TEST_TMP/db2" "$PORT" --server-id=2
cdc_user
sluice_start "$W/main.yaml" "$W/main2.log"
if wait_state failed 15 && printf '%s' "$STATUS" | jq -r .why | grep -q 'belongs to server_id 1.*server_id 2.*sluice position reset'; then
    ok "a different server (server_id 2) under a stored position of server_id 1 without GTID: refused"
else
    not_ok "a different server under the stored position: refused" "$STATUS" "$(log_head "$W/main2.log")"
fi
sluice_stop 10
test_done
