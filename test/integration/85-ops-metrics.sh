#!/bin/sh
# 85-ops-metrics.sh — what an operator's monitoring sees: /metrics (Prometheus text format) and
# /health answer while a workload runs; /health turns 503 when the source stops and 200 when it
# is back on the same port; the purge-horizon metric drops when binlogs before ours are purged;
# `sluice check` says ok on a good setup and names each misconfiguration (wrong password, a
# missing grant, binlog_format STATEMENT, nobody listening) with its fix, exit 1.
#
# The admin endpoint is read with `sluice status --metrics` / `--health` (no curl needed).
# One throw-away MariaDB with a binlog expiry (so the horizon has seconds), every wait bounded.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb jq
EXPIRE=86400
mariadb_up "$TEST_TMP/db" --binlog-expire-logs-seconds=$EXPIRE
cdc_user
PORT=$MARIADB_PORT
ADMIN_PORT=$(free_port)
LOG=$W/sluice.log
: >"$LOG"
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40))"
# Files before the one we start in: the horizon counts them.
sql "FLUSH BINARY LOGS"
sql "FLUSH BINARY LOGS"
sql "FLUSH BINARY LOGS"
OURS=$(sql "SHOW MASTER STATUS" | cut -f 1)

# config FILE NAME [PASSWORD] [USER] [PORT]
config() {
    cat >"$1" <<YAML
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
instances:
  - name: $2
    source: {host: 127.0.0.1, port: ${5:-$PORT}, user: ${4:-cdc}, password: ${3:-cdcpass}, heartbeat_ms: 500}
    start: latest
    stall_timeout_ms: 3000
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks:
      - {type: file, path: $W/$2.jsonl, format: json}
YAML
}

metrics() {
    "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --metrics 2>"$W/metrics.err"
}

# metric 'NAME{LABELS}' [FILE]: the sample's value (empty when absent).
metric() {
    if [ $# -ge 2 ]; then cat "$2"; else metrics; fi |
        awk -v k="$1" '$1 == k { print $2; exit }'
}

health_rc() {
    _rc=0
    "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --health >"$W/health.json" 2>"$W/health.err" || _rc=$?
    echo "$_rc"
}

# wait_health RC TIMEOUT_S: until `status --health` exits RC.
wait_health() {
    _end=$(($(date +%s) + $2))
    while [ "$(health_rc)" != "$1" ]; do
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.3
    done
}

# wait_metric 'NAME{LABELS}' AWK_COND TIMEOUT_S: until the value v satisfies AWK_COND.
wait_metric() {
    _end=$(($(date +%s) + $3))
    while :; do
        MV=$(metric "$1")
        [ -n "$MV" ] && awk -v v="$MV" "BEGIN { exit !($2) }" && return 0
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.5
    done
}

# ---- sluice check: a good setup ---------------------------------------------------------------
config "$W/ops.yaml" ops
rc=0
"$SLUICE" check --config "$W/ops.yaml" >"$W/check.out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && ! grep -q ': problem' "$W/check.out" &&
    [ "$(grep -c '^ops: .*: ok' "$W/check.out")" = 9 ] &&
    grep -q '^ops: position: ok: nothing stored yet' "$W/check.out"; then
    ok "check on a good setup: 9 checks ok, exit 0"
else
    not_ok "check on a good setup: 9 checks ok, exit 0" "exit $rc" "$(cat "$W/check.out")"
fi

# ---- metrics and health under load ------------------------------------------------------------
sluice_start "$W/ops.yaml" "$LOG"
if wait_state streaming 20; then
    ok "daemon reaches streaming"
else
    not_ok "daemon reaches streaming" "$STATUS" "$(log_head "$LOG")"
fi
# The workload: 200 transactions of 50 rows, in the background.
(
    i=0
    while [ $i -lt 200 ]; do
        q="INSERT INTO app.t (v) VALUES ('row $i 0')"
        j=1
        while [ $j -lt 50 ]; do
            q="$q, ('row $i $j')"
            j=$((j + 1))
        done
        sql "$q" || exit 1
        i=$((i + 1))
    done
) >"$W/load.out" 2>&1 &
LOAD=$!
answered=0 healthy=0 asked=0 prev=0 grew=0
while alive "$LOAD" || [ $asked -lt 5 ]; do
    asked=$((asked + 1))
    if metrics >"$W/m.txt" && grep -q '^sluice_up 1$' "$W/m.txt"; then
        answered=$((answered + 1))
        ev=$(metric 'sluice_events_read_total{instance="ops"}' "$W/m.txt")
        [ -n "$ev" ] && [ "$ev" -gt "$prev" ] && grew=$((grew + 1))
        prev=${ev:-0}
    fi
    [ "$(health_rc)" = 0 ] && healthy=$((healthy + 1))
    [ $asked -ge 200 ] && break
    sleep 0.1
done
wait "$LOAD" || true
if [ $answered = $asked ] && [ $grew -ge 2 ]; then
    ok "/metrics answers every time under load ($asked asks, events counter grew $grew times)"
else
    not_ok "/metrics answers every time under load" "answered $answered of $asked, grew $grew" "$(cat "$W/metrics.err")"
fi
if [ $healthy = $asked ]; then
    ok "/health is 200 throughout the load"
else
    not_ok "/health is 200 throughout the load" "healthy $healthy of $asked" "$(cat "$W/health.json")"
fi
set -- $(master_pos)
wait_consumed "$1" "$2" 30 || true
metrics >"$W/m.txt" || true
# Every sample belongs to a family declared by # TYPE (names with the sluice_ prefix).
bad=$(awk '/^# TYPE / { t[$3] = 1; next } /^#/ { next }
    { n = $1; sub(/\{.*/, "", n); if (!(n in t) || n !~ /^sluice_/) print }' "$W/m.txt")
if [ -z "$bad" ] && grep -q '^# HELP sluice_rows_read_total ' "$W/m.txt"; then
    ok "exposition format: every sample under its # HELP / # TYPE, sluice_ prefix"
else
    not_ok "exposition format: every sample under its # HELP / # TYPE" "$bad"
fi
rows=$(metric 'sluice_rows_read_total{instance="ops"}' "$W/m.txt")
deliv=$(metric 'sluice_sink_rows_delivered_total{instance="ops",sink="0:file"}' "$W/m.txt")
inserts=$(grep -c '"type":"insert"' "$W/ops.jsonl" || true)
if [ "$rows" = 10000 ] && [ "$deliv" = 10000 ] && [ "$inserts" = 10000 ] &&
    [ "$(metric 'sluice_sink_errors_total{instance="ops",sink="0:file"}' "$W/m.txt")" = 0 ]; then
    ok "rows read = rows delivered to the file sink = 10000, no sink error"
else
    not_ok "rows read = rows delivered to the file sink = 10000" "read $rows delivered $deliv in file $inserts" "$(grep ops "$W/m.txt" | head -40)"
fi
st=$(metric 'sluice_instance_state{instance="ops",state="streaming"}' "$W/m.txt")
other=$(awk '/^sluice_instance_state\{/ { s += $2 } END { print s }' "$W/m.txt")
bytes=$(metric 'sluice_binlog_read_bytes_total{instance="ops"}' "$W/m.txt")
idx=$(metric 'sluice_consumed_binlog_file_index{instance="ops"}' "$W/m.txt")
off=$(metric 'sluice_consumed_binlog_offset_bytes{instance="ops"}' "$W/m.txt")
set -- $(master_pos)
if [ "$st" = 1 ] && [ "$other" = 1 ] && [ "${bytes:-0}" -gt 100000 ] &&
    [ "$idx" = "$(echo "$1" | sed 's/.*\.0*//')" ] && [ "$off" = "$2" ]; then
    ok "state gauge (one state at 1), bytes read, consumed position ($idx:$off = the server's end)"
else
    not_ok "state gauge, bytes read, consumed position" "state $st sum $other bytes $bytes at $idx:$off, server $1:$2"
fi
lag=$(metric 'sluice_lag_seconds{instance="ops"}' "$W/m.txt")
check "lag is 0 when caught up (heartbeats keep it fresh)" sh -c "[ '$lag' = 0 ]"
if jq -e '.healthy == true and .instances[0].name == "ops" and .instances[0].state == "streaming"' "$W/health.json" >/dev/null; then
    ok "/health body: JSON with each instance's state"
else
    not_ok "/health body: JSON with each instance's state" "$(cat "$W/health.json")"
fi

# ---- the purge horizon ------------------------------------------------------------------------
if wait_metric 'sluice_purge_horizon_files{instance="ops"}' 'v == 3' 25; then
    ok "purge horizon: 3 files before ours ($OURS)"
else
    not_ok "purge horizon: 3 files before ours ($OURS)" "got '$MV'" "$(sql 'SHOW BINARY LOGS')" "$(log_head "$LOG")"
fi
secs=$(metric 'sluice_purge_horizon_seconds{instance="ops"}')
if [ -n "$secs" ] && [ "$secs" -eq "$EXPIRE" ]; then
    ok "purge horizon seconds: the whole expiry while ours is the newest file ($secs)"
else
    not_ok "purge horizon seconds: the whole expiry while ours is the newest file" "got '$secs'"
fi
before=$(sql "SHOW BINARY LOGS" | sed -n 3p | cut -f 1)
sql "PURGE BINARY LOGS TO '$before'"
if wait_metric 'sluice_purge_horizon_files{instance="ops"}' 'v == 1' 25; then
    ok "purge horizon drops to 1 file after PURGE BINARY LOGS TO '$before'"
else
    not_ok "purge horizon drops after PURGE BINARY LOGS" "got '$MV'" "$(sql 'SHOW BINARY LOGS')"
fi
# ---- health when the source stops and returns -------------------------------------------------
rec0=$(metric 'sluice_reconnects_total{instance="ops"}')
mariadb_down "$TEST_TMP/db"
if wait_health 1 20 && jq -e '.healthy == false and .instances[0].state != "streaming"' "$W/health.json" >/dev/null; then
    ok "source stopped: /health 503 with the state ($(jq -r .instances[0].state "$W/health.json"))"
else
    not_ok "source stopped: /health 503" "$(cat "$W/health.json" "$W/health.err")"
fi
if metrics >"$W/m2.txt" && [ "$(metric 'sluice_instance_state{instance="ops",state="streaming"}' "$W/m2.txt")" = 0 ]; then
    ok "/metrics still answers with the source down; streaming gauge 0"
else
    not_ok "/metrics answers with the source down" "$(cat "$W/metrics.err")"
fi
mariadb_up_port "$TEST_TMP/db" "$PORT" --binlog-expire-logs-seconds=$EXPIRE
if wait_health 0 40; then
    ok "source back on the same port: /health 200 again"
else
    not_ok "source back: /health 200 again" "$(cat "$W/health.json")" "$(log_head "$LOG")"
fi
rec1=$(metric 'sluice_reconnects_total{instance="ops"}')
check "reconnects counter grew ($rec0 -> $rec1)" sh -c "[ '${rec1:-0}' -gt '${rec0:-0}' ]"
sluice_stop 20
check "SIGTERM: exit 0" sh -c "[ '$SLUICE_RC' = 0 ]"

# ---- sluice check: what is wrong, and the fix -------------------------------------------------
# run_check NAME CONFIG: runs check into $W/NAME.out, sets CRC.
run_check() {
    CRC=0
    "$SLUICE" check --config "$2" >"$W/$1.out" 2>&1 || CRC=$?
}
# The stored position, no longer in the newest file: its horizon counts the file's age.
sql "FLUSH BINARY LOGS"
sleep 1.2
run_check pos "$W/ops.yaml"
left=$(sed -n 's/^ops: position: ok: stored .*; [0-9]* file(s) before it; expiry leaves \([0-9]*\) s$/\1/p' "$W/pos.out")
if [ "$CRC" = 0 ] && [ -n "$left" ] && [ "$left" -lt "$EXPIRE" ] && [ "$left" -gt $((EXPIRE - 600)) ]; then
    ok "check: the stored position is on the server; expiry left counts its file's age ($left s)"
else
    not_ok "check: the stored position is on the server, with the expiry left" "exit $CRC" "$(cat "$W/pos.out")"
fi
newest=$(sql "SHOW MASTER STATUS" | cut -f 1)
sql "PURGE BINARY LOGS TO '$newest'"
run_check purged "$W/ops.yaml"
if [ "$CRC" = 1 ] && grep -q '^ops: position: problem: the stored position .* is no longer on the server.*sluice position reset --config FILE --instance ops --earliest' "$W/purged.out"; then
    ok "check: a stored position purged from the server is a problem, with the reset command"
else
    not_ok "check: a stored position purged from the server" "exit $CRC" "$(cat "$W/purged.out")" "$(sql 'SHOW BINARY LOGS')"
fi
config "$W/pw.yaml" ops wrongpass
run_check pw "$W/pw.yaml"
if [ "$CRC" = 1 ] && grep -q '^ops: login: problem: .*Access denied.*fix: .*source.password' "$W/pw.out"; then
    ok "check: a wrong password is a login problem with its fix, exit 1"
else
    not_ok "check: a wrong password" "exit $CRC" "$(cat "$W/pw.out")"
fi
sql "CREATE USER noslave@'127.0.0.1' IDENTIFIED BY 'pw';
     GRANT SELECT, BINLOG MONITOR ON *.* TO noslave@'127.0.0.1';"
config "$W/grant.yaml" ops pw noslave
run_check grant "$W/grant.yaml"
if [ "$CRC" = 1 ] && grep -q "^ops: grant REPLICATION SLAVE: problem: .*fix: GRANT REPLICATION SLAVE ON \*\.\* TO 'noslave'@'127.0.0.1'" "$W/grant.out" &&
    grep -q '^ops: grant SELECT: ok' "$W/grant.out" && grep -q '^ops: grant BINLOG MONITOR: ok' "$W/grant.out"; then
    ok "check: a missing REPLICATION SLAVE grant is named with the GRANT statement, exit 1"
else
    not_ok "check: a missing REPLICATION SLAVE grant" "exit $CRC" "$(cat "$W/grant.out")"
fi
sql "CREATE USER nomon@'127.0.0.1' IDENTIFIED BY 'pw';
     GRANT SELECT, REPLICATION SLAVE ON *.* TO nomon@'127.0.0.1';"
config "$W/mon.yaml" ops pw nomon
run_check mon "$W/mon.yaml"
if [ "$CRC" = 1 ] && grep -q "^ops: grant BINLOG MONITOR: problem: .*fix: GRANT BINLOG MONITOR ON \*\.\* TO 'nomon'@'127.0.0.1'" "$W/mon.out"; then
    ok "check: a missing BINLOG MONITOR grant is named with the GRANT statement, exit 1"
else
    not_ok "check: a missing BINLOG MONITOR grant" "exit $CRC" "$(cat "$W/mon.out")"
fi
config "$W/down.yaml" ops cdcpass cdc "$(free_port)"
run_check down "$W/down.yaml"
if [ "$CRC" = 1 ] && grep -q '^ops: reachable: problem: .*fix: start the server' "$W/down.out"; then
    ok "check: an unreachable server is a problem with its fix, exit 1"
else
    not_ok "check: an unreachable server" "exit $CRC" "$(cat "$W/down.out")"
fi
sql "SET GLOBAL binlog_format = 'STATEMENT'; SET GLOBAL binlog_row_image = 'MINIMAL'"
run_check fmt "$W/ops.yaml"
if [ "$CRC" = 1 ] &&
    grep -q "^ops: binlog_format: problem: binlog_format is STATEMENT, sluice needs ROW: run SET GLOBAL binlog_format = 'ROW'" "$W/fmt.out" &&
    grep -q "^ops: binlog_row_image: warning: .*SET GLOBAL binlog_row_image = 'FULL'" "$W/fmt.out" &&
    grep -q '^ops: log_bin: ok' "$W/fmt.out"; then
    ok "check: binlog_format STATEMENT is a problem (SET GLOBAL fix), row image MINIMAL a warning, exit 1"
else
    not_ok "check: binlog_format STATEMENT" "exit $CRC" "$(cat "$W/fmt.out")"
fi
printf 'instances:\n  - name: x\n    bogus: 1\n' >"$W/bad.yaml"
run_check bad "$W/bad.yaml"
check "check: an invalid config is a problem, exit 1" sh -c "[ $CRC = 1 ] && grep -q '^config: problem: .*bad.yaml:3' '$W/bad.out'"
test_done
