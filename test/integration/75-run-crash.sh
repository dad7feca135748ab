#!/bin/sh
# 75-run-crash.sh — `sluice run` under failures: nothing the server committed is ever missing
# from the file sink, and what is repeated lies after the saved position.
#
# A throw-away MariaDB (ROW binlog, default metadata), `sluice run` into a JSON-lines file, and
# a background workload of random transactions (rows.sh: five tables, most column types, some
# transactions of 5,000 rows, an ALTER TABLE ADD COLUMN on the way; seeded by SLUICE_SEED,
# printed; bounded in time). While it runs:
#   1. the daemon is killed with SIGKILL at random moments (0.2-1.5 s after each start) at
#      least 20 times and restarted each time; the position it had saved is read after each
#      kill (`sluice position show`);
#   2. MariaDB is stopped (SIGTERM) and started again on the same port and data: the instance
#      goes to state reconnecting, then back to streaming.
# Then the workload stops, the daemon catches up and stops with SIGTERM; changes are made while
# it is down; it is started with its file sink on a full device (a symlink to /dev/full): the
# instance goes to state failed with a message naming the path, and neither its consumed nor
# its saved position moves; started again with the sink on the normal file, it catches up.
# Checks at the end: every line of the sink is a whole JSON object; each run after a kill wrote
# nothing from before the position saved at that kill; every transaction of the binlog that
# changed rows of the test database is in the sink (by GTID); each table rebuilt from the sink
# (repeats skipped by (file, offset, row)) equals SELECT.
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq awk
need_sluice

SEED=${SLUICE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $SEED (rerun with SLUICE_SEED=$SEED)"
KILLS=${SLUICE_KILLS:-22}
DB=crash
W=$TEST_TMP/w
mkdir -p "$W"
LOG=$W/sluice.log
SINK=$W/sink.jsonl
CONF=$W/sluice.yaml
: >"$LOG"

fail_early() {
    not_ok "$@"
    exit 1
}

if ! mariadb_up "$W/db" 2>"$W/up.err"; then
    fail_early "start MariaDB" "$(cat "$W/up.err")"
fi
DB_PORT=$MARIADB_PORT
cdc_user
{
    rows_schema_sql "$DB"
    echo "CREATE DATABASE ctl; CREATE TABLE ctl.t_marker (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6));"
} | sql
ADMIN_PORT=$(free_port)
sluice_config "$CONF" crash "$SINK" 100
sluice_start "$CONF" "$LOG"
if ! wait_state streaming 30; then
    fail_early "sluice run reaches state streaming" "last status: $STATUS" "$(log_head "$LOG")"
fi

# ---- the background workload -----------------------------------------------------------------
# Chunks of 20 transactions, each chunk its own id range; every 8th chunk starts with a
# transaction of 5,000 rows; chunk 3 adds the columns. A chunk that fails (MariaDB down) is
# logged and the loop goes on. Ends at $W/wl.stop or after 240 s.
WL_STOP=$W/wl.stop
(
    set +e
    i=0
    end=$(($(date +%s) + 240))
    while [ ! -f "$WL_STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
        altered=$(sql "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '$DB'
                       AND table_name = 't_num' AND column_name = 'extra'" 2>/dev/null)
        # Not known (MariaDB down): wait; guessing 0 would repeat the ALTER once it is back (1060).
        case $altered in
            1) alter_at=-1 ;;
            0) alter_at=-1; [ $i -ge 3 ] && alter_at=10 ;;
            *) sleep 0.3; continue ;;
        esac
        bulk_at=-1
        [ $((i % 8)) = 1 ] && bulk_at=0
        if ! { echo "USE $DB;"; rows_gen $((SEED + i)) 20 $((i * 1000)) "$altered" 1 "$alter_at" "$bulk_at" 5000; } |
            sql >>"$W/wl.out" 2>&1; then
            echo "chunk $i failed" >>"$W/wl.out"
            sleep 0.3
        fi
        i=$((i + 1))
        echo "$i" >"$W/wl.chunks"
    done
) &
WL_PID=$!
at_exit "touch '$WL_STOP'; kill $WL_PID 2>/dev/null; wait $WL_PID 2>/dev/null"

stop_workload() {
    touch "$WL_STOP"
    _i=0
    while alive "$WL_PID" && [ $_i -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if alive "$WL_PID"; then
        kill "$WL_PID" 2>/dev/null || true
    fi
    wait "$WL_PID" 2>/dev/null || true
}

# ---- 1. kill -9 at random moments --------------------------------------------------------------
# $W/kills: one line per kill, "LINES FILE OFFSET": the sink's complete lines at the kill and
# the position saved then.
: >"$W/kills"
k=0
restart_failed=""
while [ $k -lt "$KILLS" ]; do
    nap=$(awk -v s="$SEED" -v k="$k" 'BEGIN { srand(s + k); printf "%.2f", 0.2 + rand() * 1.3 }')
    sleep "$nap"
    if ! alive "$SLUICE_PID"; then
        rc=0
        wait "$SLUICE_PID" || rc=$?
        restart_failed="the daemon had exited by itself before kill $((k + 1)), exit status $rc"
        break
    fi
    sluice_kill9
    lines=$(wc -l <"$SINK" 2>/dev/null | tr -d ' ' || echo 0)
    saved=$(saved_pos "$CONF")
    echo "${lines:-0} ${saved:-none 0}" >>"$W/kills"
    sluice_start "$CONF" "$LOG"
    k=$((k + 1))
done
if [ -z "$restart_failed" ]; then
    ok "the daemon was killed with SIGKILL $k times at random moments and restarted"
else
    not_ok "the daemon was killed with SIGKILL $KILLS times and restarted" "$restart_failed" "$(log_head "$LOG")"
fi
diag "saved positions at the kills: $(cut -d ' ' -f 2,3 "$W/kills" | uniq | wc -l | tr -d ' ') distinct in $k; workload chunks so far: $(cat "$W/wl.chunks" 2>/dev/null || echo 0)"
if wait_state streaming 30; then
    ok "after the kills the daemon streams"
else
    not_ok "after the kills the daemon streams" "last status: $STATUS" "$(log_head "$LOG")"
fi

# ---- 2. MariaDB restarted under the daemon -----------------------------------------------------
mariadb_down "$W/db"
if wait_state reconnecting 30; then
    ok "MariaDB stopped: the instance is reconnecting"
else
    not_ok "MariaDB stopped: the instance is reconnecting" "last status: $STATUS" "$(tail -n 20 "$LOG")"
fi
sleep 1
if mariadb_up_port "$W/db" "$DB_PORT" 2>"$W/up.err"; then
    if wait_state streaming 60; then
        ok "MariaDB started again on port $DB_PORT: the instance streams again"
    else
        not_ok "MariaDB started again on port $DB_PORT: the instance streams again" "last status: $STATUS" "$(tail -n 20 "$LOG")"
    fi
else
    stop_workload
    fail_early "MariaDB starts again on port $DB_PORT" "$(cat "$W/up.err")"
fi
sleep 3 # some workload after the restart
stop_workload
diag "workload: $(cat "$W/wl.chunks" 2>/dev/null || echo 0) chunks of 20 transactions, $(grep -c 'failed' "$W/wl.out" || true) failed (MariaDB down)"
# Connection errors are expected while MariaDB is down; any other error is shown.
other_err=$(grep 'ERROR' "$W/wl.out" | grep -v 'ERROR 2002\|ERROR 2006\|ERROR 2013\|ERROR 1927\|ERROR 1053\|ERROR 4031' | head -n 5 || true)
if [ -n "$other_err" ]; then
    not_ok "the workload's SQL runs (errors other than connection errors)" "$other_err"
fi

# caught_up TIMEOUT: a marker transaction, then consumed reaches the binlog end (0) or not (1).
caught_up() {
    sql "INSERT INTO ctl.t_marker VALUES (NULL, NOW(6))"
    # shellcheck disable=SC2046 # "FILE OFFSET"
    set -- "$1" $(master_pos)
    END_FILE=$2 END_POS=$3
    wait_consumed "$END_FILE" "$END_POS" "$1"
}
if caught_up 120; then
    ok "the daemon catches up with the binlog end ($END_FILE:$END_POS)"
else
    not_ok "the daemon catches up with the binlog end ($END_FILE:$END_POS)" "last status: $STATUS" "$(log_head "$LOG")"
fi
sluice_stop 30
if [ "$SLUICE_RC" = 0 ]; then
    ok "SIGTERM stops the daemon with exit status 0"
else
    not_ok "SIGTERM stops the daemon with exit status 0" "exit status: $SLUICE_RC" "$(tail -n 20 "$LOG")"
fi

# ---- 3. the sink on a full device --------------------------------------------------------------
{ echo "USE $DB;"; rows_gen $((SEED + 7777)) 30 900000 1 1; } | sql
P=$(saved_pos "$CONF")
ln -s /dev/full "$W/full.jsonl"
sluice_config "$W/full.yaml" crash "$W/full.jsonl" 100
: >"$W/full.log"
sluice_start "$W/full.yaml" "$W/full.log"
t0=$(date +%s)
if wait_state failed 30; then
    diag "the instance reached state failed $(($(date +%s) - t0)) s after the start"
    why=$(printf '%s' "$STATUS" | jq -r .why)
    case $why in
    *"$W/full.jsonl"* | */dev/full*) ok "sink on a full device: state failed naming the path ($why)" ;;
    *) not_ok "sink on a full device: state failed naming the path" "why: $why" ;;
    esac
    c1=$(consumed_of "$STATUS")
    sleep 2
    c2=$(consumed_of "$(status_json)")
    if [ "$c1" = "$P" ] && [ "$c2" = "$P" ]; then
        ok "sink on a full device: the consumed position stays at the saved one ($P)"
    else
        not_ok "sink on a full device: the consumed position stays at the saved one" "saved: $P" "consumed: $c1, 2 s later: $c2" \
            "$(cat "$W/status.err")" "$(tail -n 5 "$W/full.log")"
    fi
else
    not_ok "sink on a full device: state failed" "last status: $STATUS" "$(log_head "$W/full.log")"
fi
sluice_stop 30
diag "the daemon with the failed sink stopped: exit status $SLUICE_RC"
P2=$(saved_pos "$CONF")
if [ "$P2" = "$P" ]; then
    ok "sink on a full device: the saved position did not move ($P)"
else
    not_ok "sink on a full device: the saved position did not move" "before: $P" "after: $P2"
fi

# ---- 4. back on the normal file: everything arrives ---------------------------------------------
sluice_start "$CONF" "$LOG"
if caught_up 120; then
    ok "sink fixed: the daemon catches up ($END_FILE:$END_POS)"
else
    not_ok "sink fixed: the daemon catches up ($END_FILE:$END_POS)" "last status: $STATUS" "$(log_head "$LOG")"
fi
sluice_stop 30
if [ "$SLUICE_RC" = 0 ]; then
    ok "the last daemon stops with exit status 0"
else
    not_ok "the last daemon stops with exit status 0" "exit status: $SLUICE_RC" "$(tail -n 20 "$LOG")"
fi

# ---- the checks on the sink --------------------------------------------------------------------
# shellcheck disable=SC2086
rows_meta_all "$DB" $ROWS_TABLES
if rows_rebuild "$SINK" "$DB" "$W/r" 2>"$W/rebuild.err"; then
    diag "sink: $(jq -r '"\(.lines) lines, \(.rows) rows applied, \(.dup) repeats skipped, \(.other) other lines"' "$W/r.json")"
    if [ "$(jq .invalid "$W/r.json")" = 0 ]; then
        ok "every line of the sink is a whole JSON object"
    else
        not_ok "every line of the sink is a whole JSON object" "$(jq -r '"\(.invalid) bad lines", (.err[:5][] | select(startswith("invalid")))' "$W/r.json")"
    fi
    if [ "$(jq .nerr "$W/r.json")" = "$(jq .invalid "$W/r.json")" ]; then
        ok "every update and delete of the sink finds its row"
    else
        not_ok "every update and delete of the sink finds its row" "$(jq -r '"\(.nerr - .invalid) errors", (.err[:10][] | select(startswith("invalid") | not))' "$W/r.json")"
    fi
    for t in $ROWS_TABLES; do
        if rows_snapshot "$DB" "$t" "$W/$t.want" 2>"$W/snap.err"; then
            rows_compare "$t rebuilt from the sink = SELECT" "$W/$t.want" "$W/r.$t"
        else
            not_ok "SELECT $t" "$(head -c 1000 "$W/snap.err")"
        fi
    done
else
    not_ok "rebuild the tables from the sink" "$(head -c 1000 "$W/rebuild.err")"
fi

# Every transaction that changed rows of $DB (SHOW BINLOG EVENTS: a GTID event, then a table map
# of $DB.*) is in the sink.
for f in $(binlog_files); do
    sql_run --skip-raw -e "SHOW BINLOG EVENTS IN '$(basename "$f")'"
done | awk -F '\t' -v db="$DB" '
    $3 == "Gtid" { n = split($6, w, " "); for (i = 1; i <= n; i++) if (w[i] ~ /^[0-9]+-[0-9]+-[0-9]+$/) g = w[i]; next }
    $3 == "Table_map" && index($6, "(" db ".") { if (!(g in seen)) { seen[g] = 1; print g } }' |
    LC_ALL=C sort >"$W/server.gtids"
missing=$(LC_ALL=C comm -23 "$W/server.gtids" "$W/r.gtids" 2>/dev/null | wc -l | tr -d ' ')
if [ -s "$W/server.gtids" ] && [ "$missing" = 0 ]; then
    ok "every transaction of the binlog that changed $DB is in the sink ($(wc -l <"$W/server.gtids" | tr -d ' ') GTIDs)"
else
    not_ok "every transaction of the binlog that changed $DB is in the sink" \
        "$missing of $(wc -l <"$W/server.gtids" | tr -d ' ') missing: $(LC_ALL=C comm -23 "$W/server.gtids" "$W/r.gtids" | head -n 10 | tr '\n' ' ')"
fi

# After each kill, the next run wrote nothing from before the position saved at the kill.
awk -v kills="$W/kills" '
    function key(f, o) { sub(/.*\./, "", f); return sprintf("%012d%020d", f + 0, o + 0) }
    BEGIN {
        n = 0
        while ((getline l <kills) > 0) { split(l, a, " "); n++; from[n] = a[1] + 0; sf[n] = a[2]; so[n] = a[3] }
        from[n + 1] = 1e18
        k = 1
    }
    {
        while (k <= n && NR > from[k + 1]) k++
        if (k > n || NR <= from[k] || sf[k] == "none") next
        if (!match($0, /"pos":"[^"]*"/)) next
        p = substr($0, RSTART + 7, RLENGTH - 8); split(p, q, ":")
        if (key(q[1], q[2]) < key(sf[k], so[k])) {
            bad++
            if (bad <= 5) printf "line %d (after kill %d, saved %s:%s): pos %s\n", NR, k, sf[k], so[k], p
        }
    }
    END { if (bad) printf "%d lines in all\n", bad }' "$SINK" >"$W/early.txt"
if [ -s "$W/early.txt" ]; then
    not_ok "after each kill the restarted daemon writes nothing from before the saved position" "$(cat "$W/early.txt")"
else
    ok "after each kill the restarted daemon writes nothing from before the saved position"
fi
if grep -qi 'sanitizer\|runtime error' "$LOG" "$W/full.log"; then
    not_ok "no sanitizer report in the daemon's logs" "$(grep -i -m 5 'sanitizer\|runtime error' "$LOG" "$W/full.log")"
fi
mariadb_down "$W/db"
test_done
